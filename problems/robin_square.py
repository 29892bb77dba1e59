"""Robin problem on [0, 1]²: -Δu = 2π² sin(πx) sin(πy), u + ∂u/∂n = g on every side.

Manufactured from u = sin(πx) sin(πy) + 1, so g = u + ∂u/∂n with the outward normals ±x, ±y.
"""

import math

import torch

import neuralpde as npde

PI = math.pi


def exact(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1]) + 1.0


def robin_data(x: torch.Tensor) -> torch.Tensor:
    """u + ∂u/∂n on the boundary of the unit square (outward normals ±x, ±y)."""
    xs, ys = x[:, 0], x[:, 1]
    ux = PI * torch.cos(PI * xs) * torch.sin(PI * ys)
    uy = PI * torch.sin(PI * xs) * torch.cos(PI * ys)
    tol = 1e-5  # the faces are exact to float32 round-off
    dn = torch.where(xs < tol, -ux, torch.where(xs > 1 - tol, ux, torch.where(ys < tol, -uy, uy)))
    return exact(x) + dn


problem = npde.Problem(
    domain=npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
    equation=npde.Poisson(
        f=lambda x: 2 * PI**2 * torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])
    ),
    conditions=[npde.Robin(robin_data, a=1.0, b=1.0)],
    exact=exact,
    name="robin_square",
)
