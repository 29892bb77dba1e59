"""One grid (:mod:`neuralpde.reference.single_grid`, :func:`~neuralpde.reference.solve_fd`):
time samples, time steps, and the problems and settings it refuses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.domains import BoundarySample, Domain
from neuralpde.reference import convergence_study, solve_fd

from .manufactured import UNIT, heat_problem, helmholtz_problem, poisson_problem, smooth


def test_time_samples_are_computed_steps():
    def exact(x):
        return smooth(1)(x) * torch.exp(-x[:, 1])

    problem = heat_problem(exact, UNIT[1], 0.5)
    full = solve_fd(problem, 16, dt=1 / 24)
    part = solve_fd(problem, 16, dt=1 / 24, time_samples=5)
    assert full.steps == 24 and part.steps == 24
    np.testing.assert_array_equal(part.axes[-1], full.axes[-1][::6])
    np.testing.assert_array_equal(part.values, full.values[..., ::6])
    # 7 samples need a multiple of 6 steps: 20 becomes 24, dt shrinks.
    assert solve_fd(problem, 16, dt=1 / 20, time_samples=7).steps == 24


def test_dt_may_be_a_numpy_scalar():
    def exact(x):
        return smooth(1)(x) * torch.exp(-x[:, 1])

    problem = heat_problem(exact, UNIT[1], 0.5)
    plain = solve_fd(problem, 8, dt=0.25)
    for dt in (np.float32(0.25), np.float64(0.25)):
        sol = solve_fd(problem, 8, dt=dt)
        assert sol.steps == 4 and sol.dt == 0.25
        np.testing.assert_array_equal(sol.values, plain.values)
    assert solve_fd(problem, 8, dt=np.int64(1)).steps == 1
    for bad in (0.0, np.float32("nan"), True, "0.1"):
        with pytest.raises(ValueError, match=r"^dt must be a positive finite number .* got "):
            solve_fd(problem, 8, dt=bad)


def test_neumann_errors():
    square = npde.Rectangle((0, 0), (1, 1))
    both = npde.Problem(
        square, npde.Poisson(1.0), [npde.Dirichlet(0.0), npde.Neumann(0.0, on="y_max")]
    )
    with pytest.raises(ValueError, match=r"'y_max'.*both a Dirichlet and a Neumann"):
        solve_fd(both, 8)
    neither = npde.Problem(
        square, npde.Poisson(1.0), [npde.Neumann(0.0, on=("x_min", "x_max", "y_min"))]
    )
    with pytest.raises(NotImplementedError, match=r"every face.*'y_max'"):
        solve_fd(neither, 8)
    mixed = npde.Problem(
        square,
        npde.Poisson(1.0),
        [npde.Dirichlet(0.0, on="x_min"), npde.Neumann(0.0, on=("x_max", "y_min", "y_max"))],
    )
    with pytest.raises(NotImplementedError, match="order=4 with Neumann faces"):
        solve_fd(mixed, 8, order=4)
    with pytest.raises(ValueError, match="Dirichlet faces only"):
        solve_fd(mixed, 8, method="dst")
    assert "LU" in solve_fd(mixed, 8, method="auto").scheme


class _Disk(Domain):
    names = ("x", "y")
    bounds = (np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    boundary_parts = ("boundary",)

    def contains(self, points):
        return np.sum(points**2, axis=1) <= 1

    def interior(self, unit):
        return unit

    def boundary(self, unit):
        return BoundarySample(unit, unit, np.zeros(len(unit), dtype=int))


def test_unsupported_problems_raise():
    square = npde.Rectangle((0, 0), (1, 1))
    custom = npde.Problem(square, lambda u, x: u, [npde.Dirichlet(0.0)])
    with pytest.raises(NotImplementedError, match="Custom"):
        solve_fd(custom, 8)
    with pytest.raises(NotImplementedError, match="_Disk"):
        solve_fd(npde.Problem(_Disk(), npde.Poisson(1.0), [npde.Dirichlet(0.0)]), 8)
    partial = npde.Problem(square, npde.Poisson(1.0), [npde.Dirichlet(0.0, on="x_min")])
    with pytest.raises(NotImplementedError, match=r"every face.*'x_max'"):
        solve_fd(partial, 8)
    heat = heat_problem(smooth(1), UNIT[1], 1.0)
    with pytest.raises(NotImplementedError, match="order=4"):
        solve_fd(heat, 8, order=4)
    poisson = poisson_problem(smooth(1), UNIT[1])
    with pytest.raises(ValueError, match="order must be 2 or 4"):
        solve_fd(poisson, 8, order=3)
    with pytest.raises(ValueError, match="levels"):
        convergence_study(poisson, 8, levels=2)
    with pytest.raises(ValueError, match="at least 2 intervals"):
        solve_fd(poisson, 1)
    with pytest.raises(ValueError, match="dt applies to evolution"):
        solve_fd(poisson, 8, dt=0.1)
    with pytest.raises(ValueError, match="time_samples applies to evolution"):
        solve_fd(poisson, 8, time_samples=5)
    with pytest.raises(ValueError, match="method"):
        solve_fd(poisson, 8, method="cg")
    variable = helmholtz_problem(smooth(1), UNIT[1], lambda x: 1 + x[:, 0])
    with pytest.raises(ValueError, match="constant coefficients"):
        solve_fd(variable, 8, method="dst")
