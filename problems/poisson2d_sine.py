"""B1 poisson2d_sine: -Δu = 2π² sin(πx) sin(πy) on [0, 1]², u = 0 on the boundary.

Exact solution u = sin(πx) sin(πy).
"""

import math

import torch

import neuralpde as npde

PI = math.pi


def exact(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])


problem = npde.Problem(
    domain=npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
    equation=npde.Poisson(f=lambda x: 2 * PI**2 * exact(x)),
    conditions=[npde.Dirichlet(0.0)],
    exact=exact,
    name="poisson2d_sine",
)

reference = npde.reference.Study(n=32, levels=3, order=4)
