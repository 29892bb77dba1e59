"""Hold-out: Helmholtz on the unit disk, Δu + k²u = f, k = 4, u = sin(3x) cos(2y) + x y."""

import torch

import neuralpde as npde

K = 4.0


def exact(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(3 * x[:, 0]) * torch.cos(2 * x[:, 1]) + x[:, 0] * x[:, 1]


def source(x: torch.Tensor) -> torch.Tensor:  # Δu + k²u
    return (K**2 - 13.0) * torch.sin(3 * x[:, 0]) * torch.cos(2 * x[:, 1]) + K**2 * x[:, 0] * x[
        :, 1
    ]


problem = npde.Problem(
    domain=npde.Disk((0.0, 0.0), 1.0),
    equation=npde.Helmholtz(k=K, f=source),
    conditions=[npde.Dirichlet(exact)],
    exact=exact,
    name="helmholtz_disk",
)
