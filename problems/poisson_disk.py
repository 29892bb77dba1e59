"""Poisson on the unit disk: -Δu = 1, u = 0 on the circle; exact u = (1 - x² - y²)/4."""

import torch

import neuralpde as npde

problem = npde.Problem(
    domain=npde.Disk((0.0, 0.0), 1.0),
    equation=npde.Poisson(f=1.0),
    conditions=[npde.Dirichlet(0.0, weight=100.0)],
    exact=lambda x: (1 - x[:, 0] ** 2 - x[:, 1] ** 2) / 4,
    name="poisson_disk",
)

field = npde.Siren(width=64, depth=3, w0=1.0)
sampler = npde.SobolSampler(n_interior=2048, n_boundary=512)
trainer = npde.Trainer(adam_steps=200, lbfgs_steps=1000, seconds=280.0)
dtype = torch.float32
