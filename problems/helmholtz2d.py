"""B2 helmholtz2d: Δu + k²u = f on [-1, 1]², k = 1, u = 0 on the boundary.

Exact solution u = sin(πx) sin(4πy) (Wang, Teng & Perdikaris 2021, a1 = 1, a2 = 4), so
f = (k² - π² - 16π²) u.
"""

import math

import torch

import neuralpde as npde

PI = math.pi
K = 1.0


def exact(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(PI * x[:, 0]) * torch.sin(4 * PI * x[:, 1])


problem = npde.Problem(
    domain=npde.Rectangle((-1.0, -1.0), (1.0, 1.0)),
    equation=npde.Helmholtz(k=K, f=lambda x: (K**2 - PI**2 - 16 * PI**2) * exact(x)),
    conditions=[npde.Dirichlet(0.0)],
    exact=exact,
    name="helmholtz2d",
)

reference = npde.reference.Study(n=32, levels=3, order=4)
