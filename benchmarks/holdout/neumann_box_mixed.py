"""Hold-out: Poisson on [0, 1] x [0, 2] with Dirichlet data on two sides and Neumann data on the
others; u = cos(πx/2) e^{y/2} + x y."""

import math

import torch

import neuralpde as npde

PI = math.pi


def exact(x: torch.Tensor) -> torch.Tensor:
    return torch.cos(PI * x[:, 0] / 2) * torch.exp(x[:, 1] / 2) + x[:, 0] * x[:, 1]


def source(x: torch.Tensor) -> torch.Tensor:  # -Δu
    return (PI**2 / 4 - 0.25) * torch.cos(PI * x[:, 0] / 2) * torch.exp(x[:, 1] / 2)


def dudx(x: torch.Tensor) -> torch.Tensor:
    return -PI / 2 * torch.sin(PI * x[:, 0] / 2) * torch.exp(x[:, 1] / 2) + x[:, 1]


def dudy(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * torch.cos(PI * x[:, 0] / 2) * torch.exp(x[:, 1] / 2) + x[:, 0]


problem = npde.Problem(
    domain=npde.Rectangle((0.0, 0.0), (1.0, 2.0)),
    equation=npde.Poisson(f=source),
    conditions=[
        npde.Dirichlet(exact, on=["x_min", "y_min"]),
        npde.Neumann(dudx, on="x_max"),
        npde.Neumann(dudy, on="y_max"),
    ],
    exact=exact,
    name="neumann_box_mixed",
)
