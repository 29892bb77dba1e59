"""Levenberg-Marquardt training: per-point Jacobians, monotone steps, accuracy on a fixed seed."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.defaults import plan_constraints
from neuralpde.fields import InputScaling
from neuralpde.training.gauss_newton import (
    check_jacobian,
    gram,
    levenberg_marquardt,
    per_point_capable,
    rows,
    rows_and_jacobian,
)
from neuralpde.training.loss import loss_terms, make_batch

PI = math.pi


def _b1(conditions=None):
    def exact(x):
        return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])

    return npde.Problem(
        npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
        npde.Poisson(f=lambda x: 2 * PI**2 * exact(x)),
        conditions or [npde.Dirichlet(0.0)],
        exact=exact,
        name="b1",
    )


def _setup(problem, n=64, width=8, seed=0):
    torch.manual_seed(seed)
    lo, hi = problem.domain.bounds
    net = InputScaling(npde.Siren(width=width, depth=2, w0=1.0).build(2), lo, hi).double()
    pts = npde.SobolSampler(n_interior=n, n_boundary=n // 2).draw(problem, seed, 0)
    return net, make_batch(problem, pts, torch.float64, "cpu")


def test_per_point_jacobian_matches_one_backward_pass_per_row():
    problem = _b1()
    net, batch = _setup(problem, n=16)
    built = (False,)
    weights = [3.0]
    r, jac, sizes = rows_and_jacobian(net, problem, batch, built, weights)
    assert sizes == [16, 8] and jac.shape == (24, sum(p.numel() for p in net.parameters()))
    params = list(net.parameters())
    for i in (0, 7, 15, 16, 23):  # interior and boundary rows
        row = rows_with_graph(net, problem, batch, built, weights)[i]
        g = torch.autograd.grad(row, params)
        exact_row = torch.cat([v.reshape(-1) for v in g])
        assert torch.allclose(jac[i], exact_row, rtol=1e-10, atol=1e-12)
    # the rows' squares sum to the loss that the other phases minimise
    loss = loss_terms(net, problem, batch, engine="autograd", weights=weights)[0]
    assert float(r @ r) == pytest.approx(float(loss.detach()), rel=1e-12)


def test_interior_jacobian_in_blocks_equals_one_pass(monkeypatch):
    """Blocks of points (which bound the memory) give the same rows and Jacobian as one pass,
    for a residual with a variable coefficient, on a heat problem (time derivative too)."""
    import neuralpde.training.gauss_newton as gn

    def kappa(x):
        return 0.1 * (1.0 + 0.5 * torch.sin(PI * x[:, 0]))

    problem = npde.Problem(
        npde.SpaceTime(npde.Rectangle((0.0, 0.0), (1.0, 1.0)), t_span=(0.0, 1.0)),
        npde.Heat(kappa=kappa),
        [npde.Dirichlet(0.0), npde.Initial(lambda x: torch.sin(PI * x[:, 0]))],
        name="heat",
    )
    torch.manual_seed(0)
    lo, hi = problem.domain.bounds
    net = InputScaling(npde.Siren(width=8, depth=2, w0=2.0).build(3), lo, hi).double()
    pts = npde.SobolSampler(n_interior=70, n_boundary=16, n_initial=16).draw(problem, 0, 0)
    batch = make_batch(problem, pts, torch.float64, "cpu")
    built, weights = (False, False), [1.0, 2.0]
    r1, j1, s1 = rows_and_jacobian(net, problem, batch, built, weights)
    monkeypatch.setattr(gn, "_CHUNK", 16)  # 70 points: blocks of 16, 16, 16, 16 and 6
    r2, j2, s2 = rows_and_jacobian(net, problem, batch, built, weights)
    monkeypatch.setattr(gn, "_ROWS_CHUNK", 16)
    r3 = rows(net, problem, batch, built, weights)  # the trial steps' rows, in blocks too
    assert torch.allclose(r1, r3, rtol=0, atol=1e-14)
    assert s1 == s2 == [70, 16, 16]
    assert torch.allclose(r1, r2, rtol=0, atol=1e-14)
    assert torch.allclose(j1, j2, rtol=1e-12, atol=1e-13)
    assert float(torch.linalg.norm(j1[:70])) > 0.1  # the interior block is not trivially zero


def rows_with_graph(net, problem, batch, built, weights):
    """The rows with their graph, one evaluation for all points (the plain module)."""
    from neuralpde.training.gauss_newton import _groups

    return torch.cat([f * fn(net) for _, f, fn in _groups(problem, batch, built, weights)])


def test_periodic_rows_read_both_points_of_a_pair():
    problem = npde.Problem(
        npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
        npde.Poisson(f=lambda x: torch.sin(2 * PI * x[:, 0])),
        [npde.Periodic("x_min", "x_max"), npde.Dirichlet(0.0, on=["y_min", "y_max"])],
    )
    net, batch = _setup(problem, n=32)
    assert check_jacobian(net, problem, batch, (False, False), [1.0, 1.0]) < 1e-7


def test_a_residual_that_mixes_points_is_caught_by_the_jacobian_check():
    problem = npde.Problem(
        npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
        lambda u, x: npde.operators.laplacian(u) - u.value.mean(),
        [npde.Dirichlet(0.0)],
    )
    net, batch = _setup(problem, n=32)
    assert check_jacobian(net, problem, batch, (False,), [1.0]) > 1e-3


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("shape", [(40, 7), (7, 40), (3000, 600), (600, 3000)])
def test_gram_matrix_is_the_symmetric_product_in_both_forms(shape, dtype):
    """J^T J (in column blocks where it is large) and J J^T equal the plain products, symmetric."""
    jac = torch.randn(*shape, generator=torch.Generator().manual_seed(0), dtype=dtype)
    tol = 1e-13 if dtype == torch.float64 else 1e-5
    for kernel, want in ((True, jac @ jac.T), (False, jac.T @ jac)):
        got = gram(jac, kernel)
        assert got.shape == want.shape and got.dtype == dtype
        scale = float(want.abs().max())
        assert float((got - got.T).abs().max()) <= tol * scale
        assert float((got - want).abs().max()) < tol * scale
    view = jac.T.contiguous().T  # a column-major Jacobian takes the product
    assert float((gram(view, False) - jac.T @ jac).abs().max() / (jac.T @ jac).abs().max()) < tol


def test_levenberg_marquardt_never_raises_the_loss_and_reaches_a_small_error():
    problem = _b1()
    problem_hard = plan_constraints(problem)
    net, batch = _setup(problem, n=256, width=16)
    net = problem_hard.wrap(net)
    built = problem_hard.built_in
    params = [p for p in net.parameters() if p.requires_grad]
    losses = []
    status, steps, loss = levenberg_marquardt(
        params,
        lambda: rows(net, problem, batch, built, [1.0]),
        lambda: rows_and_jacobian(net, problem, batch, built, [1.0])[:2],
        max_steps=60,
        deadline=time.perf_counter() + 120,
        tol=0.0,
        on_step=lambda k, v, lam: losses.append(v),
    )
    assert steps == len(losses) > 10
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False))
    x = np.random.default_rng(1).random((2000, 2))
    with torch.no_grad():
        u = net(torch.as_tensor(x))[:, 0].numpy()
    ref = problem.exact_values(x)
    assert np.linalg.norm(u - ref) / np.linalg.norm(ref) < 1e-4  # seed 0: about 1e-6


def test_only_fields_that_take_per_point_parameters_are_capable():
    net, _ = _setup(_b1())
    assert per_point_capable(net)
    assert not per_point_capable(torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh()))


def test_trainer_with_gauss_newton_steps_records_them_and_budgets_split():
    t = npde.Trainer(adam_steps=10, lbfgs_steps=0, gauss_newton_steps=30)
    assert t.with_budget(steps=8).gauss_newton_steps + t.with_budget(steps=8).adam_steps == 8
    clock = t.with_budget(seconds=5)
    assert clock.describe()["gauss_newton_steps"] == "until the time budget"
    assert clock.with_budget(steps=20).adam_steps == 10  # Adam keeps its steps
    with pytest.raises(ValueError, match="all 0: nothing to train"):
        npde.Trainer(adam_steps=0, lbfgs_steps=0, gauss_newton_steps=0)
    with pytest.raises(ValueError, match="damping must be a positive number"):
        npde.Trainer(damping=0.0)
    sol = npde.solve(
        _b1(),
        npde.Siren(width=8, depth=2, w0=1.0),
        npde.SobolSampler(n_interior=128, n_boundary=64),
        npde.Trainer(adam_steps=5, lbfgs_steps=0, gauss_newton_steps=10, log_every=1),
    )
    phases = sol.history["phase"]
    assert phases.count("gauss-newton") == 10 and phases[0] == "adam"
    assert sol.result.steps == 15 and sol.status == "step_budget"


def _curve_fit(momentum: float, steps: int = 40) -> tuple[list[float], torch.Tensor]:
    """Levenberg-Marquardt on a small exponential fit, y = a exp(b t) + c, from a fixed start:
    the losses after each step and the parameters reached."""
    t = torch.linspace(0, 1, 50, dtype=torch.float64)
    y = 2.0 * torch.exp(-1.5 * t) + 0.5
    theta = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64, requires_grad=True)

    def residual() -> torch.Tensor:
        return theta[0] * torch.exp(theta[1] * t) + theta[2] - y

    def with_jacobian():
        jac = torch.autograd.functional.jacobian(lambda p: p[0] * torch.exp(p[1] * t) + p[2], theta)
        return residual().detach(), jac.detach()

    losses: list[float] = []
    levenberg_marquardt(
        [theta],
        lambda: residual().detach(),
        with_jacobian,
        max_steps=steps,
        deadline=time.perf_counter() + 60,
        tol=1e-28,
        on_step=lambda k, v, lam: losses.append(v),
        momentum=momentum,
    )
    return losses, theta.detach()


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_momentum_keeps_the_loss_falling_and_reaches_the_minimum(momentum):
    losses, theta = _curve_fit(momentum)
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False))
    torch.testing.assert_close(theta, torch.tensor([2.0, -1.5, 0.5], dtype=torch.float64))


def test_momentum_changes_the_steps_and_zero_momentum_is_plain_levenberg_marquardt():
    plain, _ = _curve_fit(0.0, steps=6)
    again, _ = _curve_fit(0.0, steps=6)
    pulled, _ = _curve_fit(0.9, steps=6)
    assert plain == again
    assert plain[0] == pulled[0]  # the first step has nothing to follow
    assert plain[1:] != pulled[1:]


@pytest.mark.parametrize("bad", [1.0, -0.1, float("nan"), "0.5", True])
def test_momentum_outside_zero_to_one_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="momentum"):
        npde.Trainer(adam_steps=0, lbfgs_steps=0, gauss_newton_steps=5, momentum=bad)


@pytest.mark.parametrize("case", ["lshape", "heat"])
def test_jacobian_through_the_fused_engine_equals_autograds(case):
    """A constrained field's rows and Jacobian by its jet (per-point linear layers, the product
    rule with the distance factor, a trained corner term) equal those by autograd on demand."""
    from neuralpde.engine import bind_engine
    from neuralpde.training.lift import fit_lift
    from neuralpde.training.loss import residual_plan

    if case == "lshape":
        domain = npde.Polygon([(0, 0), (1, 0), (1, 0.5), (0.5, 0.5), (0.5, 1), (0, 1)])
        problem = npde.Problem(domain, npde.Poisson(f=1.0), [npde.Dirichlet(lambda x: x[:, 0])])
    else:
        space = npde.Rectangle((0.0, 0.0), (1.0, 1.0))
        problem = npde.Problem(
            npde.SpaceTime(space, (0.0, 1.0)),
            npde.Heat(kappa=lambda x: 0.1 * (1 + 0.5 * x[:, 1]), divergence_form=True),
            [npde.Dirichlet(0.0), npde.Initial(lambda x: torch.sin(PI * x[:, 0]) * x[:, 1])],
        )
    plan = plan_constraints(problem)
    lift, _ = fit_lift(problem, plan.lift, plan.built_in, plan.degrees)
    lo, hi = problem.domain.bounds
    torch.manual_seed(1)
    inner = npde.Siren(width=8, depth=2, w0=2.0).build(problem.domain.dim)
    net = plan.wrap(InputScaling(inner, lo.tolist(), hi.tolist()).double(), lift)
    if net.corners:
        with torch.no_grad():
            net.corner_weights.fill_(0.3)
    pts = npde.SobolSampler(n_interior=40, n_boundary=8, n_initial=8).draw(problem, 0, 0)
    batch = make_batch(problem, pts, torch.float64, "cpu")
    residual = residual_plan(problem, torch.float64, torch.device("cpu"))
    names, ti = problem.domain.names, problem.time_index
    fused = bind_engine(net, names, ti, residual)
    assert fused.kind == "fused"
    weights = [1.0] * len(problem.conditions)
    r1, j1, s1 = rows_and_jacobian(net, problem, batch, plan.built_in, weights, fused)
    r2, j2, s2 = rows_and_jacobian(net, problem, batch, plan.built_in, weights)
    assert s1 == s2 == [40]
    torch.testing.assert_close(r1, r2, rtol=0, atol=1e-12 * float(r2.abs().max()))
    torch.testing.assert_close(j1, j2, rtol=0, atol=1e-12 * float(j2.abs().max()))
    assert float(j1[:, -1].abs().max() if net.corners else 1.0) > 0  # the corner weight's column
    r3 = rows(net, problem, batch, plan.built_in, weights, fused)
    torch.testing.assert_close(r3, r1, rtol=0, atol=1e-12 * float(r2.abs().max()))
    assert check_jacobian(net, problem, batch, plan.built_in, weights, fused) < 1e-6


def test_geodesic_acceleration_is_the_second_order_correction_of_quadratic_rows():
    """For rows quadratic in the parameters, r_i = b_i + a_i.θ + θᵀQ_iθ, the finite difference
    gives r_vv = 2 vᵀQ_i v exactly, and the step is v + a/2 with a the damped solve of it."""
    from neuralpde.training.gauss_newton import _Trial

    gen = torch.Generator().manual_seed(3)
    m, p = 7, 4
    b = torch.randn(m, generator=gen, dtype=torch.float64)
    a = torch.randn(m, p, generator=gen, dtype=torch.float64)
    q = 0.3 * torch.randn(m, p, p, generator=gen, dtype=torch.float64)
    theta = torch.zeros(p, dtype=torch.float64)

    def rows_at(t):
        return b + a @ t + torch.einsum("i,mij,j->m", t, q, t)

    r0 = rows_at(theta)
    jac = a.clone()  # at θ = 0
    lam, mu = 0.1, float((jac.T @ jac).diagonal().mean())
    mat = jac.T @ jac + lam * mu * torch.eye(p, dtype=torch.float64)
    chol = torch.linalg.cholesky(mat)
    v = -torch.linalg.solve(mat, jac.T @ r0)
    rvv = 2 * torch.einsum("i,mij,j->m", v, q, v)
    want = v + 0.5 * -torch.linalg.solve(mat, jac.T @ rvv)
    x = theta.clone()
    trial = _Trial([x], theta, float(r0 @ r0), lam, 0.0, acceleration=10.0)
    got = trial.accelerated(v, r0, jac, chol, False, lambda: rows_at(x))
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12)
    assert float(torch.linalg.norm(got - v)) > 1e-3 * float(torch.linalg.norm(v))
    trial.acceleration = 1e-6  # a correction larger than that: the try is refused
    assert trial.accelerated(v, r0, jac, chol, False, lambda: rows_at(x)) is None


def test_geodesic_acceleration_lowers_the_loss_reached_in_a_number_of_steps():
    """B1 with a hard constraint, seed 0, 40 accepted steps: the loss with the acceleration is
    far below the loss without, and neither ever rises."""
    problem = _b1()
    hard = plan_constraints(problem)
    finals = {}
    for acceleration in (0.0, 0.75):
        net, batch = _setup(problem, n=256, width=16)
        net = hard.wrap(net)
        params = [p for p in net.parameters() if p.requires_grad]
        losses = []
        levenberg_marquardt(
            params,
            lambda net=net, batch=batch: rows(net, problem, batch, hard.built_in, [1.0]),
            lambda net=net, batch=batch: rows_and_jacobian(
                net, problem, batch, hard.built_in, [1.0]
            )[:2],
            max_steps=40,
            deadline=time.perf_counter() + 120,
            tol=0.0,
            on_step=lambda k, v, lam, losses=losses: losses.append(v),
            acceleration=acceleration,
        )
        assert all(b < a for a, b in zip(losses, losses[1:], strict=False))
        finals[acceleration] = losses[-1]
    assert finals[0.75] < 0.1 * finals[0.0], finals


@pytest.mark.parametrize("bad", [-0.5, float("inf"), float("nan"), "1"])
def test_acceleration_that_is_not_a_finite_number_at_least_zero_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="acceleration must be a finite number >= 0"):
        npde.Trainer(adam_steps=0, lbfgs_steps=0, gauss_newton_steps=5, acceleration=bad)
