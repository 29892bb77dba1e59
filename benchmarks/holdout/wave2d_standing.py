"""Hold-out: a 2-D standing wave, u_tt = c²Δu on [0, 2] x [0, 1], c = 0.5,
u = sin(πx) sin(πy) cos(ω t), ω = c π √2, on t ∈ [0, 2]."""

import math

import torch

import neuralpde as npde

PI = math.pi
C = 0.5
OMEGA = C * PI * math.sqrt(2.0)


def exact(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1]) * torch.cos(OMEGA * x[:, 2])


problem = npde.Problem(
    domain=npde.SpaceTime(npde.Rectangle((0.0, 0.0), (2.0, 1.0)), t_span=(0.0, 2.0)),
    equation=npde.Wave(c=C),
    conditions=[npde.Dirichlet(0.0), npde.Initial(exact), npde.InitialVelocity(0.0)],
    exact=exact,
    name="wave2d_standing",
)
