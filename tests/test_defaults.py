"""Settings derived from a problem (:mod:`neuralpde.defaults`): the field's frequencies, the
solution's scale and the point counts follow the problem's data."""

from __future__ import annotations

import math

import pytest
import torch

import neuralpde as npde
from neuralpde.defaults import derive_settings, plan_constraints

from .lshape import l_problem, singular

PI = math.pi


def test_derived_settings_follow_the_problems_scales():
    def poisson(freq):
        return npde.Problem(
            npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
            npde.Poisson(f=lambda x: torch.sin(freq * PI * x[:, 0]) * torch.sin(PI * x[:, 1])),
            [npde.Dirichlet(0.0)],
        )

    low, high = derive_settings(poisson(1)), derive_settings(poisson(6))
    assert low.field.w0_per_layer()[0] < high.field.w0_per_layer()[0]
    # -Δu = f with u = sin(πx) sin(πy) / (2π²): the scale of u (RMS 0.025) within a factor 3
    assert 0.025 / 3 < low.constraints.scale < 0.025 * 3
    assert low.dtype == torch.float64 and low.trainer.gauss_newton_steps > 0
    assert 60 <= low.trainer.seconds <= 600
    assert low.sampler.n_interior > sum(p.numel() for p in low.field.build(2).parameters())
    text = low.summary()
    assert "Levenberg-Marquardt float64" in text and "built-in conditions: 1" in text
    assert low.field.w0_inputs is None and high.field.w0_inputs is None  # one scale
    # data 8x faster along x than along y: each input gets its own omega_0
    fast = derive_settings(poisson(24))
    w = fast.field.w0_inputs
    assert w is not None and w[0] == fast.field.w0_per_layer()[0] and w[0] >= 8 * w[1]
    assert "w0=(" in fast.summary()


def test_points_follow_the_data_and_the_dimension():
    """Twice the parameters for smooth data, fine data in 2-D and data fine along one axis only;
    more for a front in a space-time volume, at most 8 per parameter, and a deeper field."""

    def heat(sigma):
        bump = lambda x: torch.exp(-((x[:, 0] - 0.5) ** 2 + (x[:, 1] - 0.5) ** 2) / sigma**2)  # noqa: E731
        return npde.Problem(
            npde.SpaceTime(npde.Rectangle((0.0, 0.0), (1.0, 1.0)), t_span=(0.0, 1.0)),
            npde.Heat(kappa=0.05),
            [npde.Dirichlet(0.0), npde.Initial(lambda x: bump(x) * x[:, 0] * (1 - x[:, 0]))],
        )

    def parameters(settings, dim):
        return sum(p.numel() for p in settings.field.build(dim).parameters())

    smooth = derive_settings(heat(1.0))
    sharp = derive_settings(heat(0.07))
    assert smooth.sampler.n_interior == 2 * parameters(smooth, 3)
    assert 2 * parameters(sharp, 3) < sharp.sampler.n_interior <= 8 * parameters(sharp, 3)
    # the front that needs more points than twice two layers' parameters gets a third layer
    assert (smooth.field.depth, sharp.field.depth) == (2, 3)
    assert sharp.sampler.n_interior >= 4 * parameters(sharp, 3)  # and 4 points per parameter
    layers = npde.Problem(  # fine along x only: each point column resolves it
        npde.SpaceTime(npde.Rectangle((0.0, 0.0), (1.0, 1.0)), t_span=(0.0, 1.0)),
        npde.Heat(kappa=0.01),
        [npde.Dirichlet(0.0), npde.Initial(lambda x: torch.sin(10 * PI * x[:, 0]))],
    )
    s3 = derive_settings(layers)
    assert s3.field.w0_per_layer()[0] > 5
    assert s3.sampler.n_interior == 2 * parameters(s3, 3)
    assert s3.field.depth == 2
    fine_2d = npde.Problem(
        npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
        npde.Poisson(f=lambda x: torch.sin(10 * PI * x[:, 0]) * torch.sin(10 * PI * x[:, 1])),
        [npde.Dirichlet(0.0)],
    )
    s2 = derive_settings(fine_2d)
    assert s2.field.w0_per_layer()[0] > 5  # fine data ...
    assert s2.sampler.n_interior == 2 * parameters(s2, 2)  # ... resolved by 2 per parameter
    assert s2.field.depth == 2


def test_plan_adds_a_corner_only_between_dirichlet_edges():
    plan = plan_constraints(l_problem([npde.Dirichlet(singular)]))
    assert len(plan.corners) == 1 and plan.corners[0]["angle"] == pytest.approx(1.5 * math.pi)
    assert "parts" not in plan.corners[0]  # geometry only: it is stored with the field
    # a Neumann edge at the corner: the singular function differs, no term is added
    others = [f"edge{i}" for i in range(1, 6)]
    plan = plan_constraints(
        l_problem([npde.Dirichlet(0.0, on=others), npde.Neumann(0.0, on=["edge0"])])
    )
    assert plan.corners == ()
    # a convex domain: none
    square = npde.Problem(
        domain=npde.Rectangle((0, 0), (1, 1)),
        equation=npde.Poisson(f=1.0),
        conditions=[npde.Dirichlet(0.0)],
    )
    assert plan_constraints(square).corners == ()
