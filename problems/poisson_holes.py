"""Poisson on a square with four circular holes, with a manufactured solution.

u = sin(πx) sin(πy) + x + y on [0,1]² minus four disks of radius 0.1;
-Δu = 2π² sin(πx) sin(πy); u = exact on the outer boundary and on the holes.
"""

import math

import torch

import neuralpde as npde

PI = math.pi


def exact(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1]) + x[:, 0] + x[:, 1]


problem = npde.Problem(
    domain=npde.Rectangle((0.0, 0.0), (1.0, 1.0))
    - npde.Disk((0.25, 0.25), 0.1)
    - npde.Disk((0.75, 0.25), 0.1)
    - npde.Disk((0.25, 0.75), 0.1)
    - npde.Disk((0.75, 0.75), 0.1),
    equation=npde.Poisson(
        f=lambda x: 2 * PI**2 * torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])
    ),
    conditions=[npde.Dirichlet(exact)],
    exact=exact,
    name="poisson_holes",
)
