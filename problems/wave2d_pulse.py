"""V4 wave2d_pulse: u_tt = Δu on [-1, 1]² × [0, 1], u = 0 on the boundary.

u(x, y, 0) = exp(-|x|² / (2·0.1²)), u_t(x, y, 0) = 0: a Gaussian pulse spreading as a ring.
No closed form: checked against a finite-difference reference.
"""

import torch

import neuralpde as npde

S = 0.1


def pulse(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(-(x[:, 0] ** 2 + x[:, 1] ** 2) / (2 * S**2))


problem = npde.Problem(
    domain=npde.SpaceTime(npde.Rectangle((-1.0, -1.0), (1.0, 1.0)), t_span=(0.0, 1.0)),
    equation=npde.Wave(c=1.0),
    conditions=[
        npde.Dirichlet(0.0),
        npde.Initial(pulse),
        npde.InitialVelocity(0.0),
    ],
    name="wave2d_pulse",
)

reference = npde.reference.Study(n=64, levels=4, order=2, time_samples=33, extrapolate=True)
