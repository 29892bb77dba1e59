"""Differential operators against hand-derived derivatives of closed-form fields."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.fields import Siren
from neuralpde.operators import FieldValues, dt, dtt, grad, laplacian, partial, value

A, B, C = 1.3, 2.1, -0.7
TOL = {"rtol": 1e-12, "atol": 1e-12}


def _points(n: int, d: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = 2.0 * torch.rand(n, d, generator=g, dtype=torch.float64) - 1.0
    return x.requires_grad_(True)


def _trig_field(n: int = 64):
    """u = sin(a x) cos(b y) exp(c t) on (x, y, t), time last."""
    x = _points(n, 3)
    xs, ys, ts = x[:, 0], x[:, 1], x[:, 2]
    u = torch.sin(A * xs) * torch.cos(B * ys) * torch.exp(C * ts)
    fv = FieldValues(u, x, ("x", "y", "t"), time_index=2)
    xd, yd, td = xs.detach(), ys.detach(), ts.detach()
    parts = {
        "sx": torch.sin(A * xd),
        "cx": torch.cos(A * xd),
        "sy": torch.sin(B * yd),
        "cy": torch.cos(B * yd),
        "e": torch.exp(C * td),
    }
    return fv, parts


def _close(actual: torch.Tensor, expected: torch.Tensor) -> None:
    torch.testing.assert_close(actual.detach(), expected, **TOL)


# -- closed-form derivatives ----------------------------------------------------------------------


def test_value_is_field_values():
    u, p = _trig_field()
    _close(value(u), p["sx"] * p["cy"] * p["e"])


def test_grad_is_spatial_only():
    u, p = _trig_field()
    g = grad(u)
    assert g.shape == (64, 2)  # time is excluded
    _close(g[:, 0], A * p["cx"] * p["cy"] * p["e"])
    _close(g[:, 1], -B * p["sx"] * p["sy"] * p["e"])


def test_laplacian_closed_form():
    u, p = _trig_field()
    lap = laplacian(u)
    assert lap.shape == (64,)
    _close(lap, -(A**2 + B**2) * p["sx"] * p["cy"] * p["e"])


def test_values_modified_in_place_leave_the_derivatives_of_the_field():
    # u.mul_(2) changes the values the residual reads, not the field the operators differentiate
    u, p = _trig_field()
    u.mul_(2)
    value(u).add_(1)
    field = p["sx"] * p["cy"] * p["e"]
    _close(u.value, 2 * field + 1)
    _close(laplacian(u), -(A**2 + B**2) * field)
    _close(dt(u), C * field)
    _close(grad(u)[:, 0], A * p["cx"] * p["cy"] * p["e"])
    # and the two engines agree on such a residual
    from neuralpde.engine import derivative_plan, field_values

    def residual(u, x):
        u.mul_(2)
        return laplacian(u) + partial(u, "x", "t") + u

    names = ("x", "y", "t")
    net = Siren(width=8, depth=1).build(3).double()
    x = _points(16, 3).detach()
    plan = derivative_plan(residual, x[:8], names, 2)
    r = {}
    for engine in ("fused", "autograd"):
        xe = x.clone().requires_grad_(True)
        r[engine] = residual(field_values(net, xe, names, 2, plan, engine), xe).detach()
    torch.testing.assert_close(r["fused"], r["autograd"], rtol=1e-12, atol=1e-12)


def test_dt_and_dtt_closed_form():
    u, p = _trig_field()
    _close(dt(u), C * p["sx"] * p["cy"] * p["e"])
    _close(dtt(u), C**2 * p["sx"] * p["cy"] * p["e"])


def test_partial_first_second_mixed_and_third():
    u, p = _trig_field()
    sx, cx, sy, cy, e = p["sx"], p["cx"], p["sy"], p["cy"], p["e"]
    _close(partial(u, "x"), A * cx * cy * e)
    _close(partial(u, "y"), -B * sx * sy * e)
    _close(partial(u, "t"), C * sx * cy * e)
    _close(partial(u, "x", "x"), -(A**2) * sx * cy * e)
    _close(partial(u, "y", "y"), -(B**2) * sx * cy * e)
    _close(partial(u, "x", "y"), -A * B * cx * sy * e)
    _close(partial(u, "y", "x"), -A * B * cx * sy * e)
    _close(partial(u, "x", "t"), A * C * cx * cy * e)
    _close(partial(u, "x", "x", "y"), A**2 * B * sx * sy * e)
    _close(partial(u, "t", "t", "t"), C**3 * sx * cy * e)


def test_polynomial_field():
    # u = x^3 y^2 + x y t^2 + 4 z^4 t on (x, y, z, t)
    x = _points(50, 4, seed=1)
    X, Y, Z, T = (x[:, i] for i in range(4))
    u = FieldValues(X**3 * Y**2 + X * Y * T**2 + 4 * Z**4 * T, x, ("x", "y", "z", "t"), 3)
    X, Y, Z, T = (c.detach() for c in (X, Y, Z, T))
    g = grad(u)
    assert g.shape == (50, 3)
    _close(g[:, 0], 3 * X**2 * Y**2 + Y * T**2)
    _close(g[:, 1], 2 * X**3 * Y + X * T**2)
    _close(g[:, 2], 16 * Z**3 * T)
    _close(laplacian(u), 6 * X * Y**2 + 2 * X**3 + 48 * Z**2 * T)
    _close(dt(u), 2 * X * Y * T + 4 * Z**4)
    _close(dtt(u), 2 * X * Y)
    _close(partial(u, "x", "y"), 6 * X**2 * Y + T**2)
    _close(partial(u, "z", "t"), 16 * Z**3)
    _close(partial(u, "x", "y", "t"), 2 * T)


def test_steady_1d_field():
    x = _points(40, 1, seed=2)
    u = FieldValues(torch.exp(A * x[:, 0]) * x[:, 0] ** 2, x, ("x",))
    xd = x[:, 0].detach()
    e = torch.exp(A * xd)
    _close(grad(u)[:, 0], e * (A * xd**2 + 2 * xd))
    _close(laplacian(u), e * (A**2 * xd**2 + 4 * A * xd + 2))


def test_time_not_last_column():
    # Time may sit in any column; grad and laplacian skip it.
    x = _points(30, 3, seed=3)
    T, X, Y = x[:, 0], x[:, 1], x[:, 2]
    u = FieldValues(T**2 * X**3 + Y**2, x, ("t", "x", "y"), time_index=0)
    T, X, Y = T.detach(), X.detach(), Y.detach()
    g = grad(u)
    assert g.shape == (30, 2)
    _close(g[:, 0], 3 * T**2 * X**2)
    _close(g[:, 1], 2 * Y)
    _close(laplacian(u), 6 * T**2 * X + 2)
    _close(dt(u), 2 * T * X**3)
    _close(dtt(u), 2 * X**3)


def test_laplacian_of_siren_matches_hessian_trace():
    # An independent reference: the trace of the per-point Hessian from torch.func.
    torch.manual_seed(0)
    net = Siren(width=16, depth=2, w0=5.0).build(2).double()
    x = _points(8, 2, seed=4)
    u = FieldValues(net(x), x, ("x", "y"))
    hess = torch.func.vmap(torch.func.hessian(lambda p: net(p[None])[0, 0]))(x.detach())
    _close(laplacian(u), hess.diagonal(dim1=1, dim2=2).sum(-1))
    _close(partial(u, "x", "y"), hess[:, 0, 1])


def test_first_derivatives_computed_once():
    u, _ = _trig_field()
    g = u.full_gradient()
    assert u.full_gradient() is g
    assert u.second(0) is u.second(0)


def test_column_value_is_squeezed():
    x = _points(10, 2)
    u = FieldValues((x[:, 0] * x[:, 1])[:, None], x, ("x", "y"))
    assert u.shape == (10,)
    assert len(u) == 10
    _close(partial(u, "x", "y"), torch.ones(10, dtype=torch.float64))


# -- gradients with respect to parameters ---------------------------------------------------------


def test_laplacian_differentiable_in_linear_parameter():
    x = _points(32, 2, seed=5)
    w = torch.tensor(1.7, dtype=torch.float64, requires_grad=True)
    s = torch.sin(A * x[:, 0]) * torch.sin(B * x[:, 1])
    u = FieldValues(w * s, x, ("x", "y"))
    (dw,) = torch.autograd.grad(laplacian(u).sum(), w)
    torch.testing.assert_close(dw, -(A**2 + B**2) * s.detach().sum(), **TOL)


def test_laplacian_differentiable_in_frequency():
    # u = sin(w x): laplacian = -w^2 sin(w x); d/dw = -2 w sin(w x) - w^2 x cos(w x).
    x = _points(32, 1, seed=6)
    w = torch.tensor(2.3, dtype=torch.float64, requires_grad=True)
    u = FieldValues(torch.sin(w * x[:, 0]), x, ("x",))
    (dw,) = torch.autograd.grad(laplacian(u).sum(), w)
    xd, wd = x[:, 0].detach(), w.detach()
    expected = (-2 * wd * torch.sin(wd * xd) - wd**2 * xd * torch.cos(wd * xd)).sum()
    torch.testing.assert_close(dw, expected, **TOL)


def test_dt_and_mixed_partial_differentiable_in_parameter():
    # u = exp(w t) x y: dt = w u, partial_xy = exp(w t).
    x = _points(20, 3, seed=7)
    w = torch.tensor(-0.4, dtype=torch.float64, requires_grad=True)
    u = FieldValues(torch.exp(w * x[:, 2]) * x[:, 0] * x[:, 1], x, ("x", "y", "t"), 2)
    X, Y, T = (x[:, i].detach() for i in range(3))
    (d1,) = torch.autograd.grad(dt(u).sum(), w, retain_graph=True)
    e = torch.exp(w.detach() * T)
    torch.testing.assert_close(d1, (e * X * Y * (1 + w.detach() * T)).sum(), **TOL)
    (d2,) = torch.autograd.grad(partial(u, "x", "y").sum(), w)
    torch.testing.assert_close(d2, (T * e).sum(), **TOL)


# -- tensor behaviour -----------------------------------------------------------------------------


def test_arithmetic_matches_tensor():
    u, _ = _trig_field()
    v = u.value
    cases = {
        "u + 1": (u + 1, v + 1),
        "1 + u": (1 + u, 1 + v),
        "u - 2": (u - 2, v - 2),
        "2 - u": (2 - u, 2 - v),
        "2 * u": (2 * u, 2 * v),
        "u * 3": (u * 3, v * 3),
        "u / 4": (u / 4, v / 4),
        "1 / (u + 3)": (1 / (u + 3), 1 / (v + 3)),
        "5 / u": (5 / u, 5 / v),
        "u ** 2": (u**2, v**2),
        "-u": (-u, -v),
        "u * u": (u * u, v * v),
        "u + u": (u + u, v + v),
        "u - u": (u - u, v - v),
        "u / u": (u / u, v / v),
        "u * tensor": (u * v, v * v),
        "tensor * u": (v * u, v * v),
        "sin(u)": (torch.sin(u), torch.sin(v)),
        "exp(u)": (torch.exp(u), torch.exp(v)),
        "tanh(u)": (torch.tanh(u), torch.tanh(v)),
        "abs(u)": (torch.abs(u), torch.abs(v)),
        "pow(u, 3)": (torch.pow(u, 3), v**3),
    }
    for name, (got, expected) in cases.items():
        assert isinstance(got, torch.Tensor), name
        assert not isinstance(got, FieldValues), name
        torch.testing.assert_close(got, expected, rtol=0, atol=0, msg=name)
        assert got.requires_grad, name  # still differentiable


def test_arithmetic_with_numpy_scalars_and_remaining_operators_matches_tensor():
    # a NumPy scalar on the left (np.sqrt(2) * u) defers to u as it does to a tensor
    u, _ = _trig_field()
    v = u.value
    cases = {
        "np.float64 * u": (np.sqrt(2.0) * u, np.sqrt(2.0) * v),
        "np.float32 + u": (np.float32(0.5) + u, np.float32(0.5) + v),
        "np.int64 - u": (np.int64(3) - u, np.int64(3) - v),
        "np.float64 / (u + 3)": (np.float64(2.0) / (u + 3), np.float64(2.0) / (v + 3)),
        "np.float64 ** u": (np.float64(2.0) ** u, np.float64(2.0) ** v),
        "+u": (+u, v),
        "u // 0.25": (u // 0.25, v // 0.25),
        "3 // (u + 2)": (3 // (u + 2), 3 // (v + 2)),
        "u % 0.3": (u % 0.3, v % 0.3),
        "1 % (u + 2)": (1 % (u + 2), 1 % (v + 2)),
    }
    for name, (got, expected) in cases.items():
        assert isinstance(got, torch.Tensor), name
        torch.testing.assert_close(got, expected, rtol=0, atol=0, msg=name)
    assert (np.float64(0.1) < u).dtype == torch.bool


def test_arithmetic_result_keeps_gradient_to_points():
    # u**2 differentiated by autograd directly: d(u^2)/dx = 2 u u_x.
    u, p = _trig_field()
    (g,) = torch.autograd.grad((u**2).sum(), u.x, create_graph=True)
    expected = 2 * (p["sx"] * p["cy"] * p["e"]) * (A * p["cx"] * p["cy"] * p["e"])
    _close(g[:, 0], expected)


def test_reflected_power():
    u, _ = _trig_field()
    torch.testing.assert_close(2**u, 2**u.value)


def test_builtin_abs():
    u, _ = _trig_field()
    torch.testing.assert_close(abs(u), u.value.abs())


# -- errors ---------------------------------------------------------------------------------------


def test_time_operators_on_steady_field_raise():
    x = _points(10, 2)
    u = FieldValues(torch.sin(x[:, 0]) * x[:, 1] ** 2, x, ("x", "y"))
    with pytest.raises(ValueError, match=r"dt\(\).*time"):
        dt(u)
    with pytest.raises(ValueError, match=r"dtt\(\).*time"):
        dtt(u)


@pytest.mark.parametrize("op", [grad, laplacian, dt, dtt, value])
def test_operators_reject_tensors(op):
    u, _ = _trig_field()
    with pytest.raises(TypeError, match=op.__name__):
        op(u.value)
    with pytest.raises(TypeError, match="before any arithmetic"):
        op(u + 1)


def test_partial_rejects_tensors_and_bad_names():
    u, _ = _trig_field()
    with pytest.raises(TypeError, match="partial"):
        partial(u * 2, "x")
    with pytest.raises(ValueError, match="at least one coordinate"):
        partial(u)
    with pytest.raises(ValueError, match=r"unknown coordinate 'z'"):
        partial(u, "x", "z")


def test_value_shape_mismatch_raises():
    x = _points(10, 2)
    with pytest.raises(ValueError, match=r"shape \(10,\)"):
        FieldValues(x[:5, 0], x, ("x", "y"))
    with pytest.raises(ValueError, match=r"shape \(10,\)"):
        FieldValues(x, x, ("x", "y"))


def test_points_without_requires_grad_raise():
    x = _points(10, 2).detach()
    u = FieldValues(torch.sin(x[:, 0]), x, ("x", "y"))
    with pytest.raises(RuntimeError, match="requires_grad"):
        grad(u)


# -- edge cases -----------------------------------------------------------------------------------


def test_laplacian_of_field_linear_in_one_coordinate():
    # u = x^2 + 3 y: the y-derivative is constant, its derivative is zero.
    x = _points(10, 2)
    u = FieldValues(x[:, 0] ** 2 + 3 * x[:, 1], x, ("x", "y"))
    _close(laplacian(u), torch.full((10,), 2.0, dtype=torch.float64))
    _close(partial(u, "y", "y"), torch.zeros(10, dtype=torch.float64))


def test_laplacian_of_affine_field_is_zero():
    x = _points(10, 2)
    u = FieldValues(2 * x[:, 0] + x[:, 1] + 1, x, ("x", "y"))
    _close(laplacian(u), torch.zeros(10, dtype=torch.float64))


def test_field_values_behave_like_their_tensor():
    x = torch.rand(5, 2, dtype=torch.float64, requires_grad=True)
    u = FieldValues((x**2).sum(1), x, ("x", "y"))
    v = u.value
    assert torch.equal(torch.stack([u, u], dim=1), torch.stack([v, v], dim=1))
    assert torch.equal(torch.cat((u, 2 * v)), torch.cat((v, 2 * v)))
    assert torch.equal(u.exp(), v.exp()) and u.dtype == torch.float64 and u.ndim == 1
    with pytest.raises(
        AttributeError, match=r"u.grad is not the field's gradient: use .*grad\(u\)"
    ):
        u.grad  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'nonsense'"):
        u.nonsense  # noqa: B018
    # a residual written with them trains
    assert _steps_trained(lambda u, x: torch.stack([laplacian(u), u.exp() - 1.0]).sum(0)) == 2


def _steps_trained(residual) -> int:
    """Steps taken by a two-step solve of ``residual = 0`` on the unit square, u = 0 around."""
    problem = npde.Problem(npde.Rectangle((0, 0), (1, 1)), residual, [npde.Dirichlet(0.0)])
    sol = npde.solve(
        problem,
        npde.Siren(width=8, depth=1),
        npde.SobolSampler(n_interior=32, n_boundary=16),
        npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False),
    )
    return sol.result.steps


def test_comparisons_and_indexing_act_on_the_values():
    x = torch.tensor([[0.0, 0.0], [0.5, 0.0], [1.0, 1.0], [0.0, 2.0]], dtype=torch.float64)
    x.requires_grad_(True)
    u = FieldValues(x[:, 0] + x[:, 1], x, ("x", "y"))  # values 0, 0.5, 2, 2
    assert torch.equal(u == 0, torch.tensor([True, False, False, False]))
    assert torch.equal(u != 0, torch.tensor([False, True, True, True]))
    assert torch.equal(u > 0.5, torch.tensor([False, False, True, True]))
    assert torch.equal(u >= 0.5, torch.tensor([False, True, True, True]))
    assert torch.equal(u < 2, torch.tensor([True, True, False, False]))
    assert torch.equal(u <= 0.5, torch.tensor([True, True, False, False]))
    assert torch.equal(0.5 < u, torch.tensor([False, False, True, True]))  # noqa: SIM300 (reflected)
    assert torch.equal(u == u, torch.tensor([True] * 4))
    t = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    assert torch.equal((u == 0) * t, torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64))
    assert u[:, None].shape == (4, 1) and u[2].item() == 2.0
    assert torch.equal(u[1:3].detach(), torch.tensor([0.5, 2.0], dtype=torch.float64))
    assert torch.equal(u[u > 0.5].detach(), torch.tensor([2.0, 2.0], dtype=torch.float64))
    assert u[:, None].requires_grad  # still differentiable
    assert {u: 1}[u] == 1 and u in {u}  # hashed by identity, as a tensor is
    # a residual that switches a source on with a comparison trains
    assert _steps_trained(lambda u, x: -laplacian(u) - (u >= 0) * 1.0 + u[:, None][:, 0] * 0) == 2
