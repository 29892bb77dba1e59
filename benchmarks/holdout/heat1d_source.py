"""Hold-out: 1-D heat with a source, u_t = 0.1 u_xx + f on [0, 2] x [0, 1], nonzero boundary
data; u = e^{-t} sin(2πx) + x²/4 + t."""

import math

import torch

import neuralpde as npde

PI = math.pi
KAPPA = 0.1


def exact(x: torch.Tensor) -> torch.Tensor:
    X, T = x[:, 0], x[:, 1]
    return torch.exp(-T) * torch.sin(2 * PI * X) + X**2 / 4 + T


def source(x: torch.Tensor) -> torch.Tensor:  # u_t - κ u_xx
    X, T = x[:, 0], x[:, 1]
    s = torch.exp(-T) * torch.sin(2 * PI * X)
    return -s + 1.0 - KAPPA * (-4 * PI**2 * s + 0.5)


problem = npde.Problem(
    domain=npde.SpaceTime(npde.Interval(0.0, 2.0), t_span=(0.0, 1.0)),
    equation=npde.Heat(kappa=KAPPA, f=source),
    conditions=[npde.Dirichlet(exact), npde.Initial(exact)],
    exact=exact,
    name="heat1d_source",
)
