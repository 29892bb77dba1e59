"""Hold-out: Laplace's equation on an L-shape with the reentrant-corner singularity
u = r^{2/3} sin(2φ/3), φ ∈ [0, 3π/2] the angle from the edge along the positive y axis,
counter-clockwise through the domain to the edge along the positive x axis (the corner at the
origin, the missing quadrant x > 0, y > 0); u = 0 on both edges at the corner."""

import math

import torch

import neuralpde as npde


def exact(x: torch.Tensor) -> torch.Tensor:
    r = torch.sqrt(x[:, 0] ** 2 + x[:, 1] ** 2)
    theta = torch.atan2(x[:, 1], x[:, 0])  # in (-π, π]; the domain is π/2 ≤ θ ≤ 2π
    theta = torch.where(theta <= 0, theta + 2 * math.pi, theta)
    return r ** (2.0 / 3.0) * torch.sin(2.0 * (theta - math.pi / 2) / 3.0)


problem = npde.Problem(
    domain=npde.Polygon([(0, 0), (0, 1), (-1, 1), (-1, -1), (1, -1), (1, 0)]),
    equation=npde.Poisson(f=0.0),
    conditions=[npde.Dirichlet(exact)],
    exact=exact,
    name="lshape_corner",
)
