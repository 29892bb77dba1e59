"""Poisson on an L-shaped polygon with a manufactured solution.

u = sin(πx) sin(πy) + x + y on the L [0,1]² minus (0.5,1]²; -Δu = 2π² sin(πx) sin(πy); u = exact
on the boundary.
"""

import math

import torch

import neuralpde as npde

PI = math.pi


def exact(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1]) + x[:, 0] + x[:, 1]


problem = npde.Problem(
    domain=npde.Polygon([(0, 0), (1, 0), (1, 0.5), (0.5, 0.5), (0.5, 1), (0, 1)]),
    equation=npde.Poisson(
        f=lambda x: 2 * PI**2 * torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])
    ),
    conditions=[npde.Dirichlet(exact)],
    exact=exact,
    name="poisson_lshape",
)
