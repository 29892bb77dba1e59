"""The lift of a hard constraint (:mod:`neuralpde.training.lift`), fitted as a Chebyshev series:
smooth data and a sharp initial pulse met to round-off."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.defaults import plan_constraints
from neuralpde.training.lift import fit_lift

from ..constrained import _holes_problem
from ..lshape import l_problem, singular


def test_the_fitted_lift_meets_smooth_data_to_round_off():
    p = _holes_problem()
    plan = plan_constraints(p)
    assert plan.lift_kind == "problem" and plan.built_in == (True,)
    lift, rec = fit_lift(p, plan.lift, plan.built_in, plan.degrees)
    assert rec["relative_defect"] < 1e-11
    b = torch.as_tensor(p.domain.boundary(np.random.default_rng(5).random((300, 2))).points)
    with torch.no_grad():
        assert float((lift(b) - p.exact(b)).abs().max()) < 1e-10


def test_lobatto_coefficients_interpolate_at_the_chebyshev_points():
    """The DCT-I coefficients reproduce a 2-D function at its Lobatto points, and a polynomial
    exactly (numpy's chebval2d as the independent evaluator)."""
    from neuralpde.training.lift import _lobatto_coefficients

    p, q = 12, 7
    s, r = np.cos(np.pi * np.arange(p + 1) / p), np.cos(np.pi * np.arange(q + 1) / q)
    f = lambda a, b: np.exp(a) * np.cos(2 * b) + a**3 * b  # noqa: E731
    c = _lobatto_coefficients(f(*np.meshgrid(s, r, indexing="ij")))
    a, b = np.meshgrid(s, r, indexing="ij")
    assert np.abs(np.polynomial.chebyshev.chebval2d(a, b, c) - f(a, b)).max() < 1e-13
    poly = _lobatto_coefficients(np.meshgrid(s, r, indexing="ij")[0] ** 3 * 1.0)
    assert abs(poly[3, 0] - 0.25) < 1e-14 and abs(poly[1, 0] - 0.75) < 1e-14
    assert np.abs(poly).sum() - 1.0 < 1e-13


def test_a_sharp_initial_pulse_is_met_to_round_off_on_a_box():
    """A Gaussian of width 0.1 on [-1, 1]² needs degree ~90 per axis (8,000 terms): the
    interpolated lift meets it, and the series' time derivative is its autograd one."""
    pulse = lambda x: torch.exp(-(x[:, 0] ** 2 + x[:, 1] ** 2) / 0.02)  # noqa: E731
    p = npde.Problem(
        npde.SpaceTime(npde.Rectangle((-1.0, -1.0), (1.0, 1.0)), (0.0, 1.0)),
        npde.Wave(c=1.0),
        [npde.Dirichlet(0.0), npde.Initial(pulse), npde.InitialVelocity(0.0)],
    )
    plan = plan_constraints(p)
    lift, rec = fit_lift(p, plan.lift, plan.built_in, plan.degrees)
    assert rec["fit"] == "interpolation" and rec["relative_defect"] < 1e-12
    assert 60 <= rec["degrees"][0] <= 128 and rec["degrees"][2] == 0
    x = torch.as_tensor(np.random.default_rng(3).uniform(-1, 1, (200, 3)))
    x[:, 2] = 0.0
    with torch.no_grad():
        assert float((lift(x) - pulse(x)).abs().max()) < 1e-12
    y = x.clone().requires_grad_(True)
    g = torch.autograd.grad(lift(y).sum(), y)[0]
    assert torch.allclose(lift.derivative(x, 0), g[:, 0], atol=1e-9)


def test_the_lift_takes_the_singular_part_so_that_the_data_are_built_in():
    # the data are the singular solution itself: a series alone meets them to ~1e-2, with the
    # corner's singular function beside it to round-off, weight 1
    problem = l_problem([npde.Dirichlet(singular)])
    plan = plan_constraints(problem)
    _, alone = fit_lift(problem, plan.lift, plan.built_in, plan.degrees)
    _, joint = fit_lift(problem, plan.lift, plan.built_in, plan.degrees, corners=plan.corners)
    assert alone["relative_defect"] > 1e-4
    assert joint["relative_defect"] < 1e-10
    assert joint["corner_weights"] == [pytest.approx(1.0, abs=1e-9)]
