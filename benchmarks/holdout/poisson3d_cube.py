"""Hold-out: 3-D Poisson on the unit cube, u = sin(πx) sin(2πy) sin(πz), u = 0 on the boundary."""

import math

import torch

import neuralpde as npde

PI = math.pi


def exact(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(PI * x[:, 0]) * torch.sin(2 * PI * x[:, 1]) * torch.sin(PI * x[:, 2])


problem = npde.Problem(
    domain=npde.Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
    equation=npde.Poisson(f=lambda x: 6 * PI**2 * exact(x)),
    conditions=[npde.Dirichlet(0.0)],
    exact=exact,
    name="poisson3d_cube",
)
