"""V3 heat2d_varcoef: u_t = ∇·(κ∇u) on [0, 1]² × [0, 1], u = 0 on the boundary.

κ(x, y) = 0.05 (1 + 0.5 sin(2πx) sin(2πy));
u(x, y, 0) = sin(πx) sin(πy) + 16 x(1-x) y(1-y) exp(-|(x, y) - (0.3, 0.6)|² / 0.01).
No closed form: checked against a finite-difference reference.
"""

import math

import torch

import neuralpde as npde

PI = math.pi


def kappa(x: torch.Tensor) -> torch.Tensor:
    return 0.05 * (1 + 0.5 * torch.sin(2 * PI * x[:, 0]) * torch.sin(2 * PI * x[:, 1]))


def initial(x: torch.Tensor) -> torch.Tensor:
    X, Y = x[:, 0], x[:, 1]
    bump = torch.exp(-((X - 0.3) ** 2 + (Y - 0.6) ** 2) / 0.01)
    return torch.sin(PI * X) * torch.sin(PI * Y) + 16 * X * (1 - X) * Y * (1 - Y) * bump


problem = npde.Problem(
    domain=npde.SpaceTime(npde.Rectangle((0.0, 0.0), (1.0, 1.0)), t_span=(0.0, 1.0)),
    equation=npde.Heat(kappa=kappa, divergence_form=True),
    conditions=[npde.Dirichlet(0.0), npde.Initial(initial)],
    name="heat2d_varcoef",
)

reference = npde.reference.Study(n=16, levels=4, order=2, time_samples=17, extrapolate=True)
