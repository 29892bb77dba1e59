"""Finite-difference solutions (:mod:`neuralpde.reference.solution`): interpolation between
the nodes."""

from __future__ import annotations

import numpy as np

from neuralpde.reference import FDSolution, solve_fd

from .manufactured import UNIT, poisson_problem, smooth


def test_interpolate_between_nodes():
    problem = poisson_problem(smooth(2), UNIT[2])
    sol = solve_fd(problem, 32, order=4)
    pts = np.random.default_rng(0).uniform([0, -0.5], [1, 1], size=(50, 2))
    err = np.abs(sol.interpolate(pts) - problem.exact_values(pts)).max()
    assert err < 1e-5


def _grid_solution(axes: tuple[np.ndarray, ...], values: np.ndarray) -> FDSolution:
    names = ("x", "y", "t")[-len(axes) :]
    n = tuple(len(a) - 1 for a in axes[:-1])
    return FDSolution(axes, values, names, "test", 2, n, 0.5, 2, 0.0, "grid")


def test_interpolate_is_cubic_along_the_axes_that_have_4_nodes_or_more():
    # three time levels (time_samples=3) once made the whole interpolation multilinear
    x, t = np.linspace(0.0, 1.0, 6), np.linspace(0.0, 1.0, 3)
    sol = _grid_solution((x, t), np.outer(x**2, 1 + t))
    pts = np.random.default_rng(0).uniform(0, 1, size=(40, 2))
    exact = pts[:, 0] ** 2 * (1 + pts[:, 1])  # cubic in x, linear in t: reproduced exactly
    np.testing.assert_allclose(sol.interpolate(pts), exact, rtol=0, atol=1e-14)
    assert np.abs(sol.interpolate(pts, method="linear") - exact).max() > 1e-3
    # along a short axis the cubic method is linear: the same as "linear" on a linear field
    y = np.linspace(0.0, 1.0, 2)
    sol = _grid_solution((x, y, t), x[:, None, None] ** 3 * (1 + y[:, None] + 2 * t))
    pts = np.random.default_rng(1).uniform(0, 1, size=(40, 3))
    exact = pts[:, 0] ** 3 * (1 + pts[:, 1] + 2 * pts[:, 2])
    np.testing.assert_allclose(sol.interpolate(pts), exact, rtol=0, atol=1e-14)
    # quadratic in time on 3 time levels: linear's error, at most max|u_tt| h^2 / 8 = 2 / 32
    sol = _grid_solution((x, t), np.outer(x**2, t**2))
    err = np.abs(sol.interpolate(pts[:, [0, 2]]) - pts[:, 0] ** 2 * pts[:, 2] ** 2).max()
    assert 0.03 < err <= 2 * 0.5**2 / 8 + 1e-14
