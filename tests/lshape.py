"""An L-shape with a reentrant corner and its singular harmonic function, shared by the tests of
the corners' singular terms."""

from __future__ import annotations

import math

import torch

import neuralpde as npde

L_SHAPE = [(0, 0), (0, 1), (-1, 1), (-1, -1), (1, -1), (1, 0)]


def singular(x: torch.Tensor) -> torch.Tensor:
    """r^(2/3) sin(2θ/3), θ from the edge along the positive y axis: harmonic, zero on both
    edges at the corner."""
    r = torch.sqrt(x[:, 0] ** 2 + x[:, 1] ** 2)
    theta = torch.atan2(x[:, 1], x[:, 0])
    theta = torch.where(theta <= 0, theta + 2 * math.pi, theta)
    return r ** (2.0 / 3.0) * torch.sin(2.0 * (theta - math.pi / 2) / 3.0)


def l_problem(conditions) -> npde.Problem:
    """Laplace's equation on the L-shape with ``conditions``."""
    return npde.Problem(
        domain=npde.Polygon(L_SHAPE),
        equation=npde.Poisson(f=0.0),
        conditions=conditions,
        name="l",
    )
