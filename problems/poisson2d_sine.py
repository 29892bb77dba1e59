"""B1 poisson2d_sine: -Δu = 2π² sin(πx) sin(πy) on [0, 1]², u = 0 on the boundary.

Exact solution u = sin(πx) sin(πy).
"""

import math

import torch

import neuralpde as npde

PI = math.pi


def exact(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])


problem = npde.Problem(
    domain=npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
    equation=npde.Poisson(f=lambda x: 2 * PI**2 * exact(x)),
    conditions=[npde.Dirichlet(0.0, weight=100.0)],
    exact=exact,
    name="poisson2d_sine",
)

# Tuned settings: a low-frequency SIREN, a short Adam warm-up, then L-BFGS does the work; 1024
# interior points resolve this smooth solution and keep each step cheap.
field = npde.Siren(width=64, depth=3, w0=1.0)
sampler = npde.SobolSampler(n_interior=1024, n_boundary=512)
trainer = npde.Trainer(adam_steps=50, lbfgs_steps=2000, seconds=90.0)
dtype = torch.float32
reference = {"n": 32, "levels": 3, "order": 4}
