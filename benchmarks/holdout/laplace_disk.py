"""Hold-out: Laplace's equation on a disk, u = e^x cos y on the circle (harmonic, f = 0)."""

import torch

import neuralpde as npde


def exact(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(x[:, 0]) * torch.cos(x[:, 1])


problem = npde.Problem(
    domain=npde.Disk((0.2, -0.1), 0.8),
    equation=npde.Poisson(f=0.0),
    conditions=[npde.Dirichlet(exact)],
    exact=exact,
    name="laplace_disk",
)
