"""A user-defined equation: nonlinear diffusion with a cross-derivative term, on [0, 1]².

    -∇·((1 + u²) ∇u) + ½ ∂²u/∂x∂y = f,   u = 0 on the boundary,

written as a residual with the operator library, using ∇·((1 + u²)∇u) = (1 + u²)Δu + 2u|∇u|².
The source f is manufactured from the exact solution u = sin(πx) sin(πy).
"""

import math

import torch

import neuralpde as npde
from neuralpde.operators import grad, laplacian, partial

PI = math.pi


def exact(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])


def source(x: torch.Tensor) -> torch.Tensor:
    sx, cx = torch.sin(PI * x[:, 0]), torch.cos(PI * x[:, 0])
    sy, cy = torch.sin(PI * x[:, 1]), torch.cos(PI * x[:, 1])
    u = sx * sy
    lap = -2 * PI**2 * u
    grad2 = PI**2 * (cx**2 * sy**2 + sx**2 * cy**2)
    uxy = PI**2 * cx * cy
    return -((1 + u**2) * lap + 2 * u * grad2) + 0.5 * uxy


def residual(u: npde.operators.FieldValues, x: torch.Tensor) -> torch.Tensor:
    flux_div = (1 + u**2) * laplacian(u) + 2 * u * (grad(u) ** 2).sum(dim=1)
    return -flux_div + 0.5 * partial(u, "x", "y") - source(x)


problem = npde.Problem(
    domain=npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
    equation=npde.Custom(residual, name="nonlinear diffusion"),
    conditions=[npde.Dirichlet(0.0)],
    exact=exact,
    name="nonlinear_diffusion",
)
