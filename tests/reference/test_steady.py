"""The steady finite-difference references (:mod:`neuralpde.reference.steady`): Poisson and
Helmholtz, observed orders on manufactured solutions, exactness on polynomials, Neumann faces,
pure Neumann data and resonance warnings."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neuralpde as npde
from neuralpde.reference import ResonanceWarning, solve_fd

from .manufactured import (
    GRIDS,
    UNIT,
    helmholtz_problem,
    max_error,
    max_error_up_to_constant,
    observed_order,
    poisson_problem,
    smooth,
    trapezoidal_mean,
    with_neumann,
)

# -- observed orders ---------------------------------------------------------------------------


@pytest.mark.parametrize("order", [2, 4])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_poisson_observed_order(d, order):
    problem = poisson_problem(smooth(d), UNIT[d])
    assert observed_order(problem, GRIDS[d], order=order) == pytest.approx(order, abs=0.15)


@pytest.mark.parametrize("order", [2, 4])
@pytest.mark.parametrize("variable_k", [False, True])
def test_helmholtz_observed_order(order, variable_k):
    k = (lambda x: 2.0 + x[:, 0] * x[:, 1]) if variable_k else 3.0
    problem = helmholtz_problem(smooth(2), UNIT[2], k)
    assert observed_order(problem, (8, 16, 32, 64), order=order) == pytest.approx(order, abs=0.15)


# -- exactness on polynomials ----------------------------------------------------------------


def _poly2(x):  # degree <= 3 in each variable: the 2nd-order stencils are exact
    X, Y = x[:, 0], x[:, 1]
    return 1 + X - 2 * Y + X**2 - 3 * X * Y + 0.5 * Y**2 + X**3 - 2 * X * Y**2


def _poly4(x):  # total degree 5: the Mehrstellen scheme is exact
    X, Y = x[:, 0], x[:, 1]
    return X**4 - 3 * X**2 * Y**2 + Y**4 + X**3 * Y + 0.3 * X**5 - Y**4 * X + X - 1


def _poly3d(x):
    X, Y, Z = x[:, 0], x[:, 1], x[:, 2]
    return X**2 * Z**2 + Y**3 * Z - X * Y * Z + Z**4 + 2


@pytest.mark.parametrize(
    ("exact", "box", "order"),
    [
        (_poly2, UNIT[2], 2),
        (_poly4, UNIT[2], 4),
        (_poly3d, UNIT[3], 4),
        (lambda x: x[:, 0] ** 3 - 2 * x[:, 0] ** 2 + 1, UNIT[1], 2),
        (lambda x: x[:, 0] ** 5 - 2 * x[:, 0] ** 4 + 1, UNIT[1], 4),
    ],
)
@pytest.mark.parametrize("method", ["dst", "lu"])
def test_poisson_exact_on_polynomials(exact, box, order, method):
    problem = poisson_problem(exact, box)
    assert max_error(solve_fd(problem, 6, order=order, method=method), problem) < 1e-10


@pytest.mark.parametrize(("exact", "order"), [(_poly2, 2), (_poly4, 4)])
def test_helmholtz_exact_on_polynomials(exact, order):
    problem = helmholtz_problem(exact, UNIT[2], lambda x: 1.0 + x[:, 0] ** 2)
    assert max_error(solve_fd(problem, 7, order=order), problem) < 1e-10


def test_dirichlet_by_face():
    """Different data on different faces; a linear solution is exact."""
    problem = npde.Problem(
        npde.Rectangle((0, 0), (2, 1)),
        npde.Poisson(0.0),
        [
            npde.Dirichlet(lambda x: 0.5 * x[:, 0], on=("y_min", "y_max")),
            npde.Dirichlet(0.0, on="x_min"),
            npde.Dirichlet(1.0, on="x_max"),
        ],
        exact=lambda x: 0.5 * x[:, 0],
    )
    for order in (2, 4):
        assert max_error(solve_fd(problem, (8, 4), order=order), problem) < 1e-12


def test_sine_transform_and_sparse_lu_agree():
    problem = helmholtz_problem(smooth(3), UNIT[3], 2.5)
    for order in (2, 4):
        a = solve_fd(problem, 8, order=order, method="dst")
        b = solve_fd(problem, 8, order=order, method="lu")
        assert "DST" in a.scheme and "LU" in b.scheme
        np.testing.assert_allclose(a.values, b.values, rtol=0, atol=1e-11)


def test_helmholtz_near_eigenvalue_warns():
    k = math.pi * math.sqrt(1 + 4) * 1.004  # mode (1, 2) of the unit square, 0.8 % off
    problem = npde.Problem(
        npde.Rectangle((0, 0), (1, 1)), npde.Helmholtz(k=k, f=1.0), [npde.Dirichlet(0.0)]
    )
    with pytest.warns(ResonanceWarning, match=r"eigenvalue 49.3.*\(1, 2\)"):
        solve_fd(problem, 8)


def test_helmholtz_away_from_eigenvalues_is_silent():
    # V2: k = 10 on [-1, 1]^2 is 1.3 % from the nearest eigenvalue: no warning (errors enabled).
    problem = npde.Problem(
        npde.Rectangle((-1, -1), (1, 1)), npde.Helmholtz(k=10.0, f=1.0), [npde.Dirichlet(0.0)]
    )
    solve_fd(problem, 8)


@pytest.mark.parametrize(
    ("d", "neumann", "ns"),
    [
        (1, ("x_max",), (8, 16, 32, 64)),
        (2, ("x_min", "y_max"), (8, 16, 32, 64)),
        (2, ("x_max", "y_min", "y_max"), (8, 16, 32, 64)),
        (3, ("x_min", "y_max", "z_max"), (4, 8, 16)),
    ],
)
def test_neumann_poisson_observed_order(d, neumann, ns):
    problem = with_neumann(poisson_problem(smooth(d), UNIT[d]), neumann)
    sol = solve_fd(problem, 4)
    assert "Neumann faces" in sol.scheme and "LU" in sol.scheme
    assert observed_order(problem, ns) == pytest.approx(2, abs=0.15)


@pytest.mark.parametrize("variable_k", [False, True])
def test_neumann_helmholtz_observed_order(variable_k):
    k = (lambda x: 2.0 + x[:, 0] * x[:, 1]) if variable_k else 3.0
    problem = with_neumann(helmholtz_problem(smooth(2), UNIT[2], k), ("x_min", "x_max", "y_min"))
    assert observed_order(problem, (8, 16, 32, 64)) == pytest.approx(2, abs=0.15)


@pytest.mark.parametrize(("d", "ns"), [(1, (8, 16, 32, 64)), (2, (8, 16, 32, 64)), (3, (4, 8, 16))])
def test_pure_neumann_poisson_zero_mean(d, ns):
    """Every face Neumann: compatible (manufactured) data; the reference has zero mean."""
    problem = with_neumann(poisson_problem(smooth(d), UNIT[d]), UNIT[d].boundary_parts)
    errors = []
    for n in ns:
        sol = solve_fd(problem, n)
        assert "zero-mean" in sol.scheme
        assert abs(trapezoidal_mean(sol.values)) < 1e-12
        errors.append(max_error_up_to_constant(sol, problem))
    slope = float(np.polyfit(np.log(1.0 / np.array(ns)), np.log(errors), 1)[0])
    assert slope == pytest.approx(2, abs=0.15)


def test_pure_neumann_incompatible_data_raise():
    square = npde.Rectangle((0, 0), (1, 2))
    bad = npde.Problem(square, npde.Poisson(1.0), [npde.Neumann(0.0)])
    with pytest.raises(ValueError, match=r"compatible.*int f \+ oint g = 2"):
        solve_fd(bad, 8)
    # The same source balanced by an inflow: int f = 2 and x_max, y_min, y_max have total
    # length 4, so g = -1/2 on them (and 0 on x_min) gives int f + oint g = 0.
    good = npde.Problem(
        square,
        npde.Poisson(1.0),
        [npde.Neumann(0.0, on="x_min"), npde.Neumann(-0.5, on=("x_max", "y_min", "y_max"))],
    )
    sol = solve_fd(good, 8)
    assert abs(trapezoidal_mean(sol.values)) < 1e-12


def _quad2(x):
    X, Y = x[:, 0], x[:, 1]
    return X**2 - X * Y + 0.5 * Y**2 + X - 2 * Y + 1 + 0.3 * X**2 * Y**2


@pytest.mark.parametrize(
    "neumann", [("x_min",), ("x_max", "y_min"), ("x_min", "x_max", "y_max"), UNIT[2].boundary_parts]
)
def test_neumann_exact_on_quadratics(neumann):
    """Ghost nodes and central differences are exact for degree <= 2 in each variable."""
    for problem in (
        with_neumann(poisson_problem(_quad2, UNIT[2]), neumann),
        with_neumann(helmholtz_problem(_quad2, UNIT[2], lambda x: 1.0 + x[:, 0] ** 2), neumann),
    ):
        sol = solve_fd(problem, (6, 5))
        err = max_error(sol, problem)
        if len(neumann) == 4 and isinstance(problem.equation, npde.Poisson):
            err = max_error_up_to_constant(sol, problem)
        assert err < 1e-10


@pytest.mark.parametrize(
    ("neumann", "k", "match"),
    [
        # every face Neumann: cos modes, m >= 0; (0, 1) and (1, 0) have k^2 = pi^2
        (
            ("x_min", "x_max", "y_min", "y_max"),
            math.pi * 1.004,
            r"eigenvalue 9.869.*\(0, 1\), \(1, 0\)",
        ),
        # x: Dirichlet at x_min, Neumann at x_max (m + 1/2); y: Dirichlet at both (m >= 1)
        (("x_max",), math.pi * math.sqrt(0.25 + 1) * 0.996, r"eigenvalue 12.3.*\(0, 1\)"),
    ],
)
def test_helmholtz_near_neumann_eigenvalue_warns(neumann, k, match):
    square = npde.Rectangle((0, 0), (1, 1))
    conditions = [npde.Neumann(0.0, on=neumann)]
    if len(neumann) < 4:
        conditions.append(
            npde.Dirichlet(0.0, on=[p for p in square.boundary_parts if p not in neumann])
        )
    problem = npde.Problem(square, npde.Helmholtz(k=k, f=1.0), conditions)
    with pytest.warns(ResonanceWarning, match=match):
        solve_fd(problem, 8)
