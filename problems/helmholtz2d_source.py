"""V2 helmholtz2d_source: Δu + k²u = -g on [-1, 1]², k = 10, u = 0 on the boundary.

g = exp(-|x|² / (2·0.1²)) / (2π·0.1²), a smoothed point source. No closed form: checked against a
finite-difference reference. k² = 100 lies about 1.3% from the Dirichlet eigenvalue 98.7 of the
box (modes (2, 6) and (6, 2)), so the response is strongly resonant.
"""

import math

import torch

import neuralpde as npde

K = 10.0
S = 0.1


def source(x: torch.Tensor) -> torch.Tensor:
    r2 = x[:, 0] ** 2 + x[:, 1] ** 2
    return -torch.exp(-r2 / (2 * S**2)) / (2 * math.pi * S**2)


problem = npde.Problem(
    domain=npde.Rectangle((-1.0, -1.0), (1.0, 1.0)),
    equation=npde.Helmholtz(k=K, f=source),
    conditions=[npde.Dirichlet(0.0)],
    name="helmholtz2d_source",
)

reference = npde.reference.Study(n=64, levels=3, order=4)
