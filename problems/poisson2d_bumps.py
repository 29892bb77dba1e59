"""V1 poisson2d_bumps: -Δu = f on [0, 1]², u = 0 on the boundary, no closed form.

f = Σ_j a_j exp(-|x - c_j|² / (2σ²)), σ = 0.05, with (a, c) = (1, (0.3, 0.3)), (-2, (0.7, 0.4)),
(1.5, (0.5, 0.75)). Checked against a finite-difference reference.
"""

import torch

import neuralpde as npde

SIGMA = 0.05
BUMPS = [(1.0, (0.3, 0.3)), (-2.0, (0.7, 0.4)), (1.5, (0.5, 0.75))]


def source(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x[:, 0])
    for a, (cx, cy) in BUMPS:
        r2 = (x[:, 0] - cx) ** 2 + (x[:, 1] - cy) ** 2
        out = out + a * torch.exp(-r2 / (2 * SIGMA**2))
    return out


problem = npde.Problem(
    domain=npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
    equation=npde.Poisson(f=source),
    conditions=[npde.Dirichlet(0.0)],
    name="poisson2d_bumps",
)

reference = npde.reference.Study(n=64, levels=3, order=4)
