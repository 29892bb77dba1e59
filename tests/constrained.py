"""Domains and a problem shared by the tests of hard constraints and their lift."""

from __future__ import annotations

import math

import torch

import neuralpde as npde

PI = math.pi

DOMAINS = {
    "box": npde.Rectangle((0.0, -1.0), (2.0, 1.0)),
    "disk": npde.Disk((0.5, 0.5), 0.4),
    "lshape": npde.Polygon([(0, 0), (1, 0), (1, 0.5), (0.5, 0.5), (0.5, 1), (0, 1)]),
    "triangle": npde.Polygon([(0.0, 0.0), (0.5, 1.5), (2.0, 0.0)]),
    "holes": npde.Rectangle((0.0, 0.0), (1.0, 1.0))
    - npde.Disk((0.3, 0.3), 0.1)
    - npde.Disk((0.7, 0.6), 0.15),
}


def _holes_problem():
    def exact(x):
        return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1]) + x[:, 0] + x[:, 1]

    return npde.Problem(
        DOMAINS["holes"],
        npde.Poisson(f=lambda x: 2 * PI**2 * torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])),
        [npde.Dirichlet(exact)],
        exact=exact,
        name="holes",
    )
