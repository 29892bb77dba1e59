"""The evolution finite-difference references (:mod:`neuralpde.reference.evolution`): heat by
Crank-Nicolson and wave by leapfrog, observed orders, exactness, Neumann faces and the CFL
checks."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.reference import solve_fd

from .manufactured import (
    UNIT,
    heat_problem,
    max_error,
    observed_order,
    smooth,
    wave_problem,
    with_neumann,
)


def test_heat_crank_nicolson_order_2d_variable_kappa():
    exact_space = smooth(2)

    def exact(x):
        return exact_space(x) * torch.exp(-0.7 * x[:, 2]) + 0.3 * x[:, 2] * torch.cos(x[:, 0])

    problem = heat_problem(exact, UNIT[2], lambda x: 0.3 + 0.2 * x[:, 0])
    assert observed_order(problem, (8, 16, 32)) == pytest.approx(2, abs=0.15)


def test_heat_crank_nicolson_order_time_dependent_kappa():
    def exact(x):
        return torch.sin(2 * x[:, 0] + 1) * torch.exp(x[:, 0] - x[:, 1])

    problem = heat_problem(exact, UNIT[1], lambda x: 0.4 + 0.3 * x[:, 1] * x[:, 0])
    assert observed_order(problem, (16, 32, 64)) == pytest.approx(2, abs=0.15)


def test_heat_divergence_form_order():
    @dataclass(frozen=True)
    class DivergenceHeat(npde.Heat):
        divergence_form: bool = True

    def exact(x):
        return torch.sin(2 * x[:, 0] + 1) * torch.exp(0.5 * x[:, 1] - x[:, 2])

    def kappa(x):
        return 0.3 * (1 + 0.5 * torch.sin(2 * x[:, 0]) * torch.sin(x[:, 1] + 1))

    problem = heat_problem(exact, UNIT[2], kappa, equation=DivergenceHeat)
    assert "conservative" in solve_fd(problem, 4).scheme
    assert observed_order(problem, (8, 16, 32)) == pytest.approx(2, abs=0.15)


@pytest.mark.parametrize("d", [1, 2])
def test_wave_leapfrog_order(d):
    space = smooth(d)

    def exact(x):
        return space(x) * torch.cos(3 * x[:, d]) + 0.2 * x[:, d] * torch.exp(x[:, 0])

    problem = wave_problem(exact, UNIT[d], 1.5)
    ns = (16, 32, 64, 128) if d == 1 else (8, 16, 32)
    assert observed_order(problem, ns) == pytest.approx(2, abs=0.15)


def test_wave_variable_speed_order():
    def exact(x):
        return torch.sin(2 * x[:, 0] + 1) * torch.cos(2 * x[:, 1]) + x[:, 1] * x[:, 0]

    problem = wave_problem(exact, UNIT[1], lambda x: 1 + 0.5 * x[:, 0])
    assert observed_order(problem, (16, 32, 64, 128)) == pytest.approx(2, abs=0.15)


def test_heat_exact_on_quadratic_linear_in_time():
    def exact(x):
        return x[:, 0] ** 2 - x[:, 0] * x[:, 1] + 2 * x[:, 1] ** 2 + 3 * x[:, 2] + x[:, 0]

    problem = heat_problem(exact, UNIT[2], lambda x: 0.5 + x[:, 0])
    assert max_error(solve_fd(problem, 6, dt=0.3), problem) < 1e-10


def test_wave_exact_on_quadratic_in_space_and_time():
    def exact(x):
        X, Y, T = x[:, 0], x[:, 1], x[:, 2]
        return X**2 + 2 * Y**2 - X * Y + T**2 + 0.5 * T * X + 1

    problem = wave_problem(exact, UNIT[2], 0.8)
    assert max_error(solve_fd(problem, 6), problem) < 1e-10


def test_heat_sine_transform_and_sparse_lu_agree():
    problem = heat_problem(lambda x: smooth(2)(x) * torch.exp(-x[:, 2]), UNIT[2], 0.3)
    a = solve_fd(problem, 8, method="dst")
    b = solve_fd(problem, 8, method="lu")
    np.testing.assert_allclose(a.values, b.values, rtol=0, atol=1e-12)


# -- stability -------------------------------------------------------------------------------------


def test_wave_cfl_violation_raises():
    problem = wave_problem(smooth(2), UNIT[2], 2.0)
    h = 1.5 / 16  # the largest spacing of a 16-interval grid on this rectangle
    with pytest.raises(ValueError, match="CFL"):
        solve_fd(problem, 16, dt=h)
    sol = solve_fd(problem, 16)  # default: half the CFL limit
    hx, hy = 1.0 / 16, 1.5 / 16
    assert 2.0 * sol.dt * math.sqrt(1 / hx**2 + 1 / hy**2) <= 0.5 + 1e-12


def test_wave_cfl_checks_variable_speed():
    problem = wave_problem(smooth(1), UNIT[1], lambda x: 1 + 3 * x[:, 1])  # c grows to 4
    with pytest.raises(ValueError, match="CFL"):
        solve_fd(problem, 16, dt=1.3 / 16 / 2)


def test_neumann_heat_crank_nicolson_order():
    exact_space = smooth(2)

    def exact(x):
        return exact_space(x) * torch.exp(-0.7 * x[:, 2]) + 0.3 * x[:, 2] * torch.cos(x[:, 0])

    problem = heat_problem(exact, UNIT[2], lambda x: 0.3 + 0.2 * x[:, 0] * x[:, 2])
    problem = with_neumann(problem, ("x_min", "y_min", "y_max"))
    assert observed_order(problem, (8, 16, 32)) == pytest.approx(2, abs=0.15)


def test_neumann_heat_in_divergence_form_with_a_constant_kappa():
    """div(kappa grad u) = kappa laplacian(u) for a number kappa: Neumann faces are taken, with
    the same solution as the other form; a varying kappa is still refused with them."""
    exact_space = smooth(2)

    def exact(x):
        return exact_space(x) * torch.exp(-0.7 * x[:, 2])

    plain = with_neumann(heat_problem(exact, UNIT[2], 0.3), ("x_min",))
    div = dataclasses.replace(
        plain, equation=dataclasses.replace(plain.equation, divergence_form=True)
    )
    a, b = solve_fd(plain, 8), solve_fd(div, 8)
    assert np.array_equal(a.values, b.values)
    kappa = lambda x: 0.3 + 0.1 * x[:, 0]  # noqa: E731
    varying = dataclasses.replace(plain, equation=dataclasses.replace(div.equation, kappa=kappa))
    with pytest.raises(NotImplementedError, match="divergence form with a varying kappa"):
        solve_fd(varying, 8)


def test_neumann_wave_leapfrog_order():
    space = smooth(1)

    def exact(x):
        return space(x) * torch.cos(3 * x[:, 1]) + 0.2 * x[:, 1] * torch.exp(x[:, 0])

    problem = with_neumann(wave_problem(exact, UNIT[1], 1.5), ("x_min",))
    assert observed_order(problem, (16, 32, 64, 128)) == pytest.approx(2, abs=0.15)


def test_neumann_exact_heat_quadratic_3d():
    def exact(x):
        return x[:, 0] ** 2 - x[:, 1] * x[:, 2] + 2 * x[:, 2] ** 2 + 3 * x[:, 3] + x[:, 0]

    problem = heat_problem(exact, UNIT[3], lambda x: 0.5 + x[:, 0])
    problem = with_neumann(problem, ("x_min", "y_max", "z_min", "z_max"))
    assert max_error(solve_fd(problem, 4, dt=0.3), problem) < 1e-10
