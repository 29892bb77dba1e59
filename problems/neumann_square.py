"""Mixed Neumann/Dirichlet Poisson problem on [0, 1]² with a manufactured solution.

u = cos(πx/2) sin(πy) + xy, -Δu = (π²/4 + π²) cos(πx/2) sin(πy); Neumann data on x_min and
y_max (outward normals -x and +y), Dirichlet data on x_max and y_min.
"""

import math

import torch

import neuralpde as npde

PI = math.pi


def exact(x: torch.Tensor) -> torch.Tensor:
    return torch.cos(PI * x[:, 0] / 2) * torch.sin(PI * x[:, 1]) + x[:, 0] * x[:, 1]


def dudx(x: torch.Tensor) -> torch.Tensor:
    return -PI / 2 * torch.sin(PI * x[:, 0] / 2) * torch.sin(PI * x[:, 1]) + x[:, 1]


def dudy(x: torch.Tensor) -> torch.Tensor:
    return PI * torch.cos(PI * x[:, 0] / 2) * torch.cos(PI * x[:, 1]) + x[:, 0]


problem = npde.Problem(
    domain=npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
    equation=npde.Poisson(
        f=lambda x: (PI**2 / 4 + PI**2) * torch.cos(PI * x[:, 0] / 2) * torch.sin(PI * x[:, 1])
    ),
    conditions=[
        npde.Neumann(lambda x: -dudx(x), on="x_min"),
        npde.Neumann(dudy, on="y_max"),
        npde.Dirichlet(exact, on=["x_max", "y_min"]),
    ],
    exact=exact,
    name="neumann_square",
)
