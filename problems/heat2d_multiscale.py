"""B5 heat2d_multiscale (PINNacle "Heat2d-MS"): u_t = c1 u_xx + c2 u_yy on [0, 1]² × [0, 5],
c1 = 1/(500π)², c2 = 1/π², u = 0 on the boundary, u(x, y, 0) = sin(20πx) sin(πy).

Exact solution u = sin(20πx) sin(πy) exp(-(400π² c1 + π² c2) t): a fast oscillation in x that
barely diffuses, and a slow mode in y that decays as e^{-t}.
"""

import math

import torch

import neuralpde as npde

PI = math.pi
C1 = 1.0 / (500 * PI) ** 2
C2 = 1.0 / PI**2
RATE = 400 * PI**2 * C1 + PI**2 * C2


def exact(x: torch.Tensor) -> torch.Tensor:
    X, Y, T = x[:, 0], x[:, 1], x[:, 2]
    return torch.sin(20 * PI * X) * torch.sin(PI * Y) * torch.exp(-RATE * T)


problem = npde.Problem(
    domain=npde.SpaceTime(npde.Rectangle((0.0, 0.0), (1.0, 1.0)), t_span=(0.0, 5.0)),
    equation=npde.Heat(kappa=[C1, C2]),
    conditions=[npde.Dirichlet(0.0), npde.Initial(exact)],
    exact=exact,
    name="heat2d_multiscale",
)
