"""Robin faces of the finite-difference reference on a box: a u + b du/dn = g by ghost nodes,
second order for Poisson, Helmholtz, heat and wave; clear errors where it does not apply."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.problem_file import load_problem_file
from neuralpde.reference import convergence_study, solve_fd
from neuralpde.reference.study import l2_norm, quadrature_weights

PROBLEMS = Path(__file__).resolve().parents[2] / "problems"
UNIT = {2: npde.Rectangle((0.0, 0.0), (1.0, 1.0)), 3: npde.Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))}


def smooth(d: int):
    """``sin(a.x + 0.4) exp(b.x)`` (the time column, if any, left alone)."""
    a = torch.tensor([1.7, -1.1, 0.9][:d], dtype=torch.float64)
    b = torch.tensor([0.6, 0.3, -0.5][:d], dtype=torch.float64)
    return lambda x: torch.sin(x[:, :d] @ a + 0.4) * torch.exp(x[:, :d] @ b)


def derivatives(fn, x: torch.Tensor, d: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``u``, its space gradient and its Laplacian at ``x`` (space columns ``0..d-1``)."""
    with torch.enable_grad():
        x = x.detach().clone().requires_grad_(True)
        u = fn(x)
        g = torch.autograd.grad(u.sum(), x, create_graph=True)[0][:, :d]
        lap = sum(
            torch.autograd.grad(g[:, i].sum(), x, create_graph=True)[0][:, i] for i in range(d)
        )
    return u.detach(), g.detach(), lap.detach()


def coefficient(c, x: torch.Tensor) -> torch.Tensor:
    return c(x) if callable(c) else torch.full((x.shape[0],), float(c), dtype=x.dtype)


def robin(exact, d: int, face: str, a, b) -> npde.Robin:
    """The Robin condition ``a u + b du/dn = g`` of ``exact`` on the box face ``face``."""
    axis, sign = "xyz".index(face[0]), 1.0 if face.endswith("max") else -1.0

    def g(x):
        u, grad, _ = derivatives(exact, x, d)
        return coefficient(a, x) * u + coefficient(b, x) * sign * grad[:, axis]

    return npde.Robin(g, a=a, b=b, on=face)


def poisson(exact, box: npde.Box, robin_faces, a, b=1.0, helmholtz_k=None) -> npde.Problem:
    """Poisson (or Helmholtz with ``helmholtz_k``) with ``exact`` as solution: Robin data on
    ``robin_faces``, Dirichlet on the others."""
    d = box.dim
    conditions = [robin(exact, d, f, a, b) for f in robin_faces]
    rest = [p for p in box.boundary_parts if p not in robin_faces]
    conditions += [npde.Dirichlet(exact, on=rest)] if rest else []
    if helmholtz_k is None:
        eq = npde.Poisson(f=lambda x: -derivatives(exact, x, d)[2])
    else:
        k = helmholtz_k
        eq = npde.Helmholtz(k=k, f=lambda x: derivatives(exact, x, d)[2] + k**2 * exact(x))
    return npde.Problem(box, eq, conditions, exact=exact)


def rel_error(sol, problem: npde.Problem) -> float:
    """The relative trapezoidal L2 error of a solution on its grid (space and time)."""
    exact = problem.exact_values(sol.points()).reshape(sol.values.shape)
    times = sol.axes[-1] if sol.values.ndim > len(sol.n) else None
    w = quadrature_weights(sol.axes[: len(sol.n)], times)
    return l2_norm(sol.values - exact, w) / l2_norm(exact, w)


def orders(problem: npde.Problem, ns, **kw) -> list[float]:
    errors = [rel_error(solve_fd(problem, n, **kw), problem) for n in ns]
    return [math.log2(e0 / e1) for e0, e1 in zip(errors, errors[1:], strict=False)]


ALL = ("x_min", "x_max", "y_min", "y_max")


# -- steady ---------------------------------------------------------------------------------------


def test_robin_square_observed_order_and_estimate_with_a_varying_a():
    """a = 1 + x, b = 1 on every face: the study's observed order is 2, its estimate the error."""
    problem = poisson(smooth(2), UNIT[2], ALL, a=lambda x: 1.0 + x[:, 0])
    study = convergence_study(problem, n=8, levels=3)
    assert "Robin faces x_min, x_max, y_min, y_max by ghost nodes" in study.scheme
    assert study.observed_order == pytest.approx(2, abs=0.2)
    true = rel_error(study, problem)
    assert true / 3 <= study.estimated_error <= 3 * true


def test_robin_error_falls_fourfold_per_halving():
    """a = 1 + x, b = 0.5 + y (both callables) on three faces, Dirichlet on x_min."""
    problem = poisson(
        smooth(2), UNIT[2], ALL[1:], a=lambda x: 1.0 + x[:, 0], b=lambda x: 0.5 + x[:, 1]
    )
    for p in orders(problem, (8, 16, 32, 64)):
        assert p == pytest.approx(2, abs=0.2)


def test_robin_square_problem_file():
    """problems/robin_square.py (u + du/dn = g on every face): order 2, estimate ~ true error."""
    problem = load_problem_file(str(PROBLEMS / "robin_square.py"))["problem"]
    study = convergence_study(problem, n=16, levels=3)
    assert study.observed_order == pytest.approx(2, abs=0.2)
    true = rel_error(study, problem)
    assert true / 3 <= study.estimated_error <= 3 * true


def test_robin_3d_box_mixed_with_dirichlet():
    box = UNIT[3]
    problem = poisson(smooth(3), box, ("x_max", "y_min", "z_max"), a=lambda x: 2.0 + x[:, 1])
    assert "Robin faces x_max, y_min, z_max" in solve_fd(problem, 4).scheme
    for p in orders(problem, (4, 8, 16)):
        assert p == pytest.approx(2, abs=0.2)


def test_robin_helmholtz_order():
    problem = poisson(smooth(2), UNIT[2], ("x_min", "y_max"), a=2.0, b=0.7, helmholtz_k=3.0)
    for p in orders(problem, (8, 16, 32)):
        assert p == pytest.approx(2, abs=0.2)


def test_robin_exact_on_quadratics():
    """The ghost value is exact for a quadratic (g - a u = b du/dn), so is the solution."""

    def exact(x):
        return x[:, 0] ** 2 - 0.5 * x[:, 0] * x[:, 1] + 2 * x[:, 1] ** 2 + x[:, 0] + 3.0

    problem = poisson(exact, UNIT[2], ALL, a=lambda x: 1.0 + x[:, 0] * x[:, 1], b=0.3)
    sol = solve_fd(problem, 6)
    assert np.max(np.abs(sol.values.ravel() - problem.exact_values(sol.points()))) < 1e-10


def test_flux_only_robin_is_neumann_and_b_zero_is_dirichlet():
    """a = 0 on every face: the pure-Neumann path (zero-mean solution, as with Neumann data
    g / b); b = 0: the Dirichlet condition u = g / a."""
    exact = smooth(2)
    flux = poisson(exact, UNIT[2], ALL, a=0.0, b=2.0)
    neumann = npde.Problem(
        UNIT[2],
        flux.equation,
        [npde.Neumann(lambda x, c=c: c.value(x) / 2.0, on=c.on) for c in flux.conditions],
    )
    a, b = solve_fd(flux, 16), solve_fd(neumann, 16)
    assert "zero-mean" in a.scheme
    np.testing.assert_allclose(a.values, b.values, atol=1e-12)
    as_dirichlet = poisson(exact, UNIT[2], ("x_min",), a=2.0, b=0.0)
    dirichlet = poisson(exact, UNIT[2], (), a=2.0)
    np.testing.assert_allclose(
        solve_fd(as_dirichlet, 16).values, solve_fd(dirichlet, 16).values, atol=1e-12
    )


# -- evolution ------------------------------------------------------------------------------------


def test_robin_heat_crank_nicolson_order():
    """Heat on SpaceTime(unit square): Robin faces with a = 1 + x + t (changes with time: the
    Crank-Nicolson matrix is refactorised), Dirichlet on x_min."""
    space = smooth(2)

    def exact(x):
        return space(x) * torch.exp(-0.7 * x[:, 2]) + 0.3 * x[:, 2] * torch.cos(x[:, 0])

    kappa = 0.3
    a = lambda x: 1.0 + x[:, 0] + x[:, 2]  # noqa: E731
    d = 2

    def f(x):
        with torch.enable_grad():
            y = x.detach().clone().requires_grad_(True)
            ut = torch.autograd.grad(exact(y).sum(), y)[0][:, 2]
        return ut - kappa * derivatives(exact, x, d)[2]

    conditions = [robin(exact, d, face, a, 0.8) for face in ALL[1:]]
    conditions += [npde.Dirichlet(exact, on="x_min"), npde.Initial(exact)]
    problem = npde.Problem(
        npde.SpaceTime(UNIT[2], (0.0, 0.5)), npde.Heat(kappa=kappa, f=f), conditions, exact=exact
    )
    assert "Robin faces x_max, y_min, y_max" in solve_fd(problem, 4).scheme
    for p in orders(problem, (8, 16, 32)):
        assert p == pytest.approx(2, abs=0.2)


def test_robin_wave_leapfrog_order():
    def exact(x):
        return torch.sin(1.3 * x[:, 0] + 0.2) * torch.cos(2 * x[:, 1]) + 0.2 * x[:, 1] * x[:, 0]

    c = 1.5

    def f(x):
        with torch.enable_grad():
            y = x.detach().clone().requires_grad_(True)
            ut = torch.autograd.grad(exact(y).sum(), y, create_graph=True)[0][:, 1]
            utt = torch.autograd.grad(ut.sum(), y)[0][:, 1]
        return utt - c**2 * derivatives(exact, x, 1)[2]

    def v0(x):
        with torch.enable_grad():
            y = x.detach().clone().requires_grad_(True)
            return torch.autograd.grad(exact(y).sum(), y)[0][:, 1]

    conditions = [
        robin(exact, 1, "x_min", 3.0, 1.0),
        robin(exact, 1, "x_max", lambda x: 1.0 + x[:, 1], 1.0),
        npde.Initial(exact),
        npde.InitialVelocity(v0),
    ]
    domain = npde.SpaceTime(npde.Interval(0.0, 1.0), (0.0, 1.0))
    problem = npde.Problem(domain, npde.Wave(c=c, f=f), conditions, exact=exact)
    for p in orders(problem, (16, 32, 64)):
        assert p == pytest.approx(2, abs=0.2)
    # Robin's diagonal widens the spectrum: the CFL limit of the check accounts for it
    with pytest.raises(ValueError, match=r"Robin faces"):
        solve_fd(problem, 16, dt=1.0 / 16 / c)


# -- errors ---------------------------------------------------------------------------------------


def test_robin_errors():
    exact = smooth(2)
    mixed = poisson(exact, UNIT[2], ("x_max", "y_min"), a=1.0)
    with pytest.raises(NotImplementedError, match=r"order=4 with Robin faces.*order=2"):
        solve_fd(mixed, 8, order=4)
    with pytest.raises(NotImplementedError, match=r"order=4 with Robin faces"):
        convergence_study(mixed, n=4, levels=3, order=4)
    with pytest.raises(ValueError, match=r"Dirichlet faces only; Neumann and Robin"):
        solve_fd(mixed, 8, method="dst")
    square = UNIT[2]
    both = npde.Problem(square, npde.Poisson(1.0), [npde.Robin(0.0, on="y_max"), npde.Neumann(0.0)])
    with pytest.raises(ValueError, match=r"'y_max'.*both a Neumann and a Robin"):
        solve_fd(both, 8)
    vanishing = npde.Problem(
        square, npde.Poisson(1.0), [npde.Robin(0.0, a=1.0, b=lambda x: x[:, 1] - 0.5)]
    )
    with pytest.raises(ValueError, match=r"Robin.b is 0 at 1 node.*face x_min"):
        solve_fd(vanishing, 8)
    periodic = npde.Problem(
        square,
        npde.Poisson(1.0),
        [npde.Robin(0.0, on=("x_min", "x_max")), npde.Periodic("y_min", "y_max")],
    )
    with pytest.raises(NotImplementedError, match=r"Periodic.*Dirichlet, Neumann, Robin"):
        solve_fd(periodic, 8)
