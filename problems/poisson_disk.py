"""Poisson on the unit disk: -Δu = 1, u = 0 on the circle; exact u = (1 - x² - y²)/4."""

import neuralpde as npde

problem = npde.Problem(
    domain=npde.Disk((0.0, 0.0), 1.0),
    equation=npde.Poisson(f=1.0),
    conditions=[npde.Dirichlet(0.0)],
    exact=lambda x: (1 - x[:, 0] ** 2 - x[:, 1] ** 2) / 4,
    name="poisson_disk",
)
