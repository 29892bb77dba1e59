"""B3 heat2d: u_t = κΔu on [0, 1]² × [0, 1], κ = 1/(2π²), u = 0 on the boundary.

Exact solution u = e^{-t} sin(πx) sin(πy) + 0.5 e^{-4t} sin(2πx) sin(2πy), which also gives the
initial condition.
"""

import math

import torch

import neuralpde as npde

PI = math.pi
KAPPA = 1.0 / (2 * PI**2)


def exact(x: torch.Tensor) -> torch.Tensor:
    X, Y, T = x[:, 0], x[:, 1], x[:, 2]
    return torch.exp(-T) * torch.sin(PI * X) * torch.sin(PI * Y) + 0.5 * torch.exp(
        -4 * T
    ) * torch.sin(2 * PI * X) * torch.sin(2 * PI * Y)


problem = npde.Problem(
    domain=npde.SpaceTime(npde.Rectangle((0.0, 0.0), (1.0, 1.0)), t_span=(0.0, 1.0)),
    equation=npde.Heat(kappa=KAPPA),
    conditions=[npde.Dirichlet(0.0), npde.Initial(exact)],
    exact=exact,
    name="heat2d",
)

reference = npde.reference.Study(n=16, levels=4, order=2, time_samples=17, extrapolate=True)
