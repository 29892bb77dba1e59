"""Neumann conditions in the physics-informed loss: sign of the normals and a small solve."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import neuralpde as npde
from neuralpde.sampling import SobolSampler
from neuralpde.training import loss_terms, make_batch

PI = math.pi


def exact(x: torch.Tensor) -> torch.Tensor:
    """u = cos(πx/2) sin(πy) + x y; its derivatives are dudx and dudy below."""
    return torch.cos(PI * x[:, 0] / 2) * torch.sin(PI * x[:, 1]) + x[:, 0] * x[:, 1]


def dudx(x):
    return -PI / 2 * torch.sin(PI * x[:, 0] / 2) * torch.sin(PI * x[:, 1]) + x[:, 1]


def dudy(x):
    return PI * torch.cos(PI * x[:, 0] / 2) * torch.cos(PI * x[:, 1]) + x[:, 0]


def mixed_problem() -> npde.Problem:
    # -Δu = (π²/4 + π²) cos(πx/2) sin(πy); outward normals: -x on x_min, +y on y_max.
    return npde.Problem(
        npde.Rectangle((0, 0), (1, 1)),
        npde.Poisson(
            f=lambda x: (PI**2 / 4 + PI**2) * torch.cos(PI * x[:, 0] / 2) * torch.sin(PI * x[:, 1])
        ),
        [
            npde.Neumann(lambda x: -dudx(x), on="x_min", weight=10.0),
            npde.Neumann(lambda x: dudy(x), on="y_max", weight=10.0),
            npde.Dirichlet(exact, on=["x_max", "y_min"], weight=100.0),
        ],
        exact=exact,
        name="mixed",
    )


class Exact(nn.Module):
    def forward(self, x):
        return exact(x)[:, None]


def test_exact_solution_has_zero_loss_terms():
    """The exact solution zeroes every term: normals point outward with the right sign."""
    problem = mixed_problem()
    batch = make_batch(problem, SobolSampler(256, 512).draw(problem, seed=0), torch.float64, "cpu")
    _, terms = loss_terms(Exact(), problem, batch)
    for name, value in terms.items():
        assert float(value.detach()) < 1e-20, name
    # flipping the sign of one Neumann datum is caught
    flipped = npde.Problem(
        problem.domain,
        problem.equation,
        [npde.Neumann(lambda x: dudx(x), on="x_min"), *problem.conditions[1:]],
    )
    b2 = make_batch(flipped, SobolSampler(256, 512).draw(flipped, seed=0), torch.float64, "cpu")
    _, terms2 = loss_terms(Exact(), flipped, b2)
    assert float(terms2["neumann_0"].detach()) > 0.1


def test_neumann_on_space_time_uses_space_normals():
    problem = npde.Problem(
        npde.SpaceTime(npde.Interval(0, 1), (0, 1)),
        npde.Heat(kappa=1.0),
        [npde.Neumann(0.0), npde.Initial(lambda x: torch.cos(PI * x[:, 0]))],
        exact=lambda x: torch.exp(-(PI**2) * x[:, 1]) * torch.cos(PI * x[:, 0]),
    )

    class HeatExact(nn.Module):
        def forward(self, x):
            return problem.exact(x)[:, None]

    batch = make_batch(problem, SobolSampler(256, 128, 128).draw(problem, 1), torch.float64, "cpu")
    assert batch.condition_normals[0].shape == (len(batch.condition_points[0]), 1)
    _, terms = loss_terms(HeatExact(), problem, batch)
    assert all(float(v.detach()) < 1e-20 for v in terms.values())


@pytest.mark.slow
def test_small_mixed_solve_reaches_its_band():
    sol = npde.solve(
        mixed_problem(),
        npde.Siren(width=24, depth=2, w0=1.0),
        npde.SobolSampler(n_interior=256, n_boundary=256),
        npde.Trainer(adam_steps=100, lbfgs_steps=300, progress=False),
    )
    assert sol.error() < 1e-2


def test_unknown_part_is_named():
    with pytest.raises(ValueError, match=r"Neumann\(on=...\) names unknown boundary part"):
        npde.Problem(npde.Rectangle((0, 0), (1, 1)), npde.Poisson(), [npde.Neumann(on="left")])
    assert np.isfinite(npde.Neumann(1.0).weight)
