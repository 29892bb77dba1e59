"""B6 poisson5d: -Δu = (π²/4) Σ sin(πx_i/2) on [0, 1]^5, u = exact on the boundary.

Exact solution u = Σ_{i=1..5} sin(πx_i/2) (PINNacle "PoissonND").
"""

import math

import torch

import neuralpde as npde

PI = math.pi


def exact(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(PI * x / 2).sum(dim=1)


problem = npde.Problem(
    domain=npde.Box([0.0] * 5, [1.0] * 5),
    equation=npde.Poisson(f=lambda x: PI**2 / 4 * torch.sin(PI * x / 2).sum(dim=1)),
    conditions=[npde.Dirichlet(exact)],
    exact=exact,
    name="poisson5d",
)
