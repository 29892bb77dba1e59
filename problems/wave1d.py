"""B4 wave1d: u_tt = 4 u_xx on x ∈ [0, 1], t ∈ [0, 1] (PINNacle "Wave1d-C").

u(0, t) = u(1, t) = 0, u(x, 0) = exact, u_t(x, 0) = 0; exact solution
u = sin(πx) cos(2πt) + 0.5 sin(4πx) cos(8πt).
"""

import math

import torch

import neuralpde as npde

PI = math.pi


def exact(x: torch.Tensor) -> torch.Tensor:
    X, T = x[:, 0], x[:, 1]
    return torch.sin(PI * X) * torch.cos(2 * PI * T) + 0.5 * torch.sin(4 * PI * X) * torch.cos(
        8 * PI * T
    )


problem = npde.Problem(
    domain=npde.SpaceTime(npde.Interval(0.0, 1.0), t_span=(0.0, 1.0)),
    equation=npde.Wave(c=2.0),
    conditions=[
        npde.Dirichlet(0.0),
        npde.Initial(exact),
        npde.InitialVelocity(0.0),
    ],
    exact=exact,
    name="wave1d",
)

reference = npde.reference.Study(n=64, levels=4, order=2, time_samples=33, extrapolate=True)
