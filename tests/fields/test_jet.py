"""The fused (forward) derivative engine against nested autograd."""

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

import neuralpde as npde
from neuralpde.engine import DerivativePlan, derivative_plan, field_values
from neuralpde.fields import MLP, InputScaling, Siren, SirenNet
from neuralpde.fields.jet import (
    _ActivationJet,
    forward_jet,
    input_jet,
    linear_weight_t,
    supports_jet,
)
from neuralpde.operators import LinearForm, combination, dt, grad, laplacian, partial
from neuralpde.training import make_batch
from neuralpde.training.loss import loss_terms, residual_plan

PI = math.pi
SQ = npde.Rectangle((0.0, 0.0), (1.0, 2.0))
ST = npde.SpaceTime(SQ, t_span=(0.0, 0.5))
LINE_T = npde.SpaceTime(npde.Interval(-1.0, 1.0), t_span=(0.0, 1.0))


def _net(spec, domain, dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    lo, hi = domain.bounds
    return InputScaling(spec.build(domain.dim), lo.tolist(), hi.tolist()).to(dtype)


def _hessian(u, x):
    (g,) = torch.autograd.grad(u.sum(), x, create_graph=True)
    rows = [torch.autograd.grad(g[:, i].sum(), x, create_graph=True)[0] for i in range(x.shape[1])]
    return g, torch.stack(rows, 1)


@pytest.mark.parametrize(
    "spec",
    [
        Siren(width=24, depth=3, w0=3.0),
        Siren(width=24, depth=2, w0=6.0, w0_inputs=(6.0, 1.0, 2.0)),
        MLP(width=24, depth=3),
    ],
)
@pytest.mark.parametrize(
    "forms",
    [
        [[[1, 0, 0], [0, 1, 0], [0, 0, 0]]],  # Laplacian in (x, y)
        [[[1, 0, 0], [0, 1, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0], [0, 0, 1]]],  # and d2/dt2
        [[[0, 0.5, 0], [0.5, 0, 0], [0, 0, 0]]],  # mixed d2/dxdy
        [[[2.0, 0.3, 0], [0.3, 1.0, 0], [0, 0, 0]]],  # an anisotropic tensor
        [],  # first derivatives only
    ],
)
def test_forward_jet_matches_autograd(spec, forms):
    net = _net(spec, ST)
    x = torch.rand(40, 3, dtype=torch.float64, requires_grad=True)
    C = torch.tensor(forms, dtype=torch.float64).reshape(-1, 3, 3)
    u, g, q = forward_jet(net, x, C)
    ua = net(x)[:, 0]
    ga, H = _hessian(ua, x)
    qa = torch.einsum("cij,nij->nc", C, H)
    assert torch.allclose(u, ua, atol=1e-13, rtol=0)
    assert torch.allclose(g, ga, atol=1e-12, rtol=0)
    assert q.shape == (40, C.shape[0])
    assert torch.allclose(q, qa, atol=1e-11, rtol=0)
    # and the gradients with respect to the parameters agree
    params = list(net.parameters())
    la = (ua**2).sum() + (ga**2).sum() + (qa**2).sum()
    lf = (u**2).sum() + (g**2).sum() + (q**2).sum()
    for a, b in zip(torch.autograd.grad(lf, params), torch.autograd.grad(la, params), strict=True):
        assert torch.allclose(a, b, atol=1e-10 * (1 + float(b.abs().max())), rtol=0)


@pytest.mark.parametrize("final", [False, True])
@pytest.mark.parametrize("kind", ["sin", "tanh"])
@pytest.mark.parametrize(
    "diag",
    [
        ((1.0, 0.5), (0.0, 2.0)),
        ((1.0, 1.0),),
        ((0.0, 3.0),),
        ((1.0, 0.5), (0.0, 0.0)),  # a first-order channel (no second-order part) beside another
        ((0.0, 0.0),),
        (),
    ],
)
def test_activation_step_backward_is_the_derivative_of_its_forward(diag, kind, final):
    torch.manual_seed(1)
    c = len(diag)
    z = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    full = torch.randn(2 + c, 6, 5, dtype=torch.float64, requires_grad=True)  # grads + channels
    plain = torch.randn(2, 6, 5, dtype=torch.float64, requires_grad=True)  # grads only
    first = torch.randn(2, 1, 5, dtype=torch.float64, requires_grad=True)  # shared by points
    seeded = torch.randn(2 + c, 1, 5, dtype=torch.float64, requires_grad=True)  # and seeds
    # stored feature by feature, as float64 layers on a CPU produce them
    zt = torch.randn(5, 6, dtype=torch.float64).t().detach().requires_grad_()
    fullt = torch.randn(5, 2 + c, 6, dtype=torch.float64).permute(1, 2, 0).detach()
    cases = [(z, d) for d in (full, plain, first, seeded)]
    cases += [(zt, fullt.requires_grad_()), (zt, first)]
    for zi, deriv in cases:

        def step(z, d):
            return _ActivationJet.apply(z, d, 2, diag, kind, final)

        assert torch.autograd.gradcheck(step, (zi, deriv))
        assert torch.autograd.gradcheck(lambda z, d: step(z, d)[1], (zi, deriv))
        assert torch.autograd.gradcheck(lambda z, d: step(z, d)[0], (zi, deriv))


@pytest.mark.parametrize("spec", [Siren(width=24, depth=3, w0=3.0), MLP(width=24, depth=3)])
def test_feature_major_layout_gives_the_same_numbers(spec, monkeypatch):
    # float64 on a CPU stores the blocks (F, N); the row-major layout must give the same values,
    # derivatives and parameter gradients, and the layout must be the one chosen
    net = _net(spec, ST)
    x = torch.rand(50, 3, dtype=torch.float64)
    C = torch.tensor([[[1.0, 0, 0], [0, 1, 0], [0, 0, 0]]], dtype=torch.float64)
    a = torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64)  # u_t - lap u as one channel
    params = list(net.parameters())

    def run():
        u, g, q = forward_jet(net, x, C, a)
        loss = (u**2).sum() + (g**2).sum() + (q**2).sum() + (net(x) ** 3).sum()
        return [t.detach() for t in (u, g, q, *torch.autograd.grad(loss, params))]

    hidden = net.net.hidden

    def two_layers():  # the blocks after a first and a second hidden layer
        jet = input_jet(x, C).linear(hidden[0].weight, hidden[0].bias).tanh()
        return jet.linear(hidden[1].weight, hidden[1].bias)

    jet = two_layers()
    assert jet.value.t().is_contiguous() and not jet.value.is_contiguous()
    assert jet.deriv.permute(2, 0, 1).is_contiguous() and not jet.deriv.is_contiguous()
    fm = run()
    # the jet and the plain forward pass both read the layout from this one function
    monkeypatch.setattr("neuralpde.fields.jet.feature_major_layout", lambda w: False)
    jet = two_layers()
    assert jet.value.is_contiguous() and jet.deriv.is_contiguous()
    rm = run()
    for p, q in zip(fm, rm, strict=True):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-12 * (1 + float(q.abs().max())))


def test_float32_fused_agrees_with_float64():
    net = _net(Siren(width=32, depth=3), SQ)
    x = torch.rand(100, 2, dtype=torch.float64)
    C = torch.eye(2, dtype=torch.float64)[None]
    with torch.no_grad():
        u64, _, q64 = forward_jet(net, x, C)
        u32, _, q32 = forward_jet(net.float(), x.float(), C)
    assert u32.dtype == torch.float32
    assert float((q32.double() - q64).abs().max()) < 1e-4 * float(q64.abs().max())


def _problems():
    f = lambda x: torch.sin(PI * x[:, 0]) * x[:, 1]  # noqa: E731
    kappa = lambda x: 1.0 + 0.5 * torch.sin(x[:, 0])  # noqa: E731
    return {
        "poisson": npde.Problem(SQ, npde.Poisson(f=f), [npde.Dirichlet(0.0)]),
        "helmholtz": npde.Problem(SQ, npde.Helmholtz(k=3.0, f=f), [npde.Neumann(0.0)]),
        "heat": npde.Problem(
            ST, npde.Heat(kappa=0.3, f=f), [npde.Dirichlet(0.0), npde.Initial(0.0)]
        ),
        "heat_divergence": npde.Problem(
            ST,
            npde.Heat(kappa=kappa, divergence_form=True),
            [npde.Robin(0.0, a=1.0, b=0.5), npde.Initial(0.0)],
        ),
        "heat_tensor": npde.Problem(
            ST, npde.Heat(kappa=[[1.0, 0.4], [0.4, 2.0]]), [npde.Dirichlet(0.0), npde.Initial(0.0)]
        ),
        "wave": npde.Problem(
            LINE_T,
            npde.Wave(c=2.0, f=f),
            [npde.Dirichlet(0.0), npde.Initial(0.0), npde.InitialVelocity(0.0)],
        ),
        "custom_mixed": npde.Problem(
            SQ,
            lambda u, x: partial(u, "x", "y") + u**3 - laplacian(u) * partial(u, "x"),
            [npde.Dirichlet(0.0)],
        ),
        "custom_third": npde.Problem(
            SQ, lambda u, x: partial(u, "x", "x", "y") - laplacian(u), [npde.Dirichlet(0.0)]
        ),
    }


@pytest.mark.parametrize("name", list(_problems()))
@pytest.mark.parametrize("spec", [Siren(width=32, depth=3, w0=2.0), MLP(width=16, depth=2)])
def test_loss_and_parameter_gradients_match_between_engines(name, spec):
    problem = _problems()[name]
    net = _net(spec, problem.domain)
    sampler = npde.SobolSampler(n_interior=256, n_boundary=64, n_initial=64)
    batch = make_batch(problem, sampler.draw(problem, 0, 0), torch.float64, "cpu")
    out = {}
    for engine in ("fused", "autograd"):
        net.zero_grad()
        loss, terms = loss_terms(net, problem, batch, engine=engine)
        loss.backward()
        terms = {k: float(v.detach()) for k, v in terms.items()}
        out[engine] = (terms, [p.grad.clone() for p in net.parameters()])
    (tf, gf), (ta, ga) = out["fused"], out["autograd"]
    for k in ta:
        assert tf[k] == pytest.approx(ta[k], rel=1e-11, abs=1e-14), k
    for a, b in zip(gf, ga, strict=True):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-11 * (1 + float(b.abs().max())))


def test_plans_record_what_residuals_use():
    p = _problems()
    assert residual_plan(p["poisson"]) == DerivativePlan(False, ("lap",))
    # constant-coefficient heat and wave operators are one channel each, with u_t as a seed
    heat = LinearForm((0.0, 0.0, 1.0), ((-0.3, 0.0, 0.0), (0.0, -0.3, 0.0), (0.0, 0.0, 0.0)))
    assert residual_plan(p["heat"]) == DerivativePlan(False, (heat,))
    tensor = LinearForm((0.0, 0.0, 1.0), ((-1.0, -0.4, 0.0), (-0.4, -2.0, 0.0), (0.0,) * 3))
    assert residual_plan(p["heat_tensor"]) == DerivativePlan(False, (tensor,))
    wave = residual_plan(p["wave"])
    assert wave == DerivativePlan(False, (LinearForm((0.0, 0.0), ((-4.0, 0.0), (0.0, 1.0))),))
    assert wave.forms(2, 1).tolist() == [[[-4, 0], [0, 1]]]
    assert wave.first(2) is None
    assert residual_plan(p["heat"]).first(3).tolist() == [[0, 0, 1]]
    # a variable diffusivity needs u_t, the gradient and the Laplacian separately
    assert residual_plan(p["heat_divergence"]) == DerivativePlan(True, ("lap",))
    assert residual_plan(p["custom_mixed"]) == DerivativePlan(True, ((0, 1), "lap"))
    assert derivative_plan(lambda u, x: u * 2.0, torch.rand(4, 2), "xy").empty
    forms = DerivativePlan(False, ((1, 1), "lap")).forms(2, 1)
    assert forms.tolist() == [[[0, 0], [0, 1]], [[1, 0], [0, 0]]]


@pytest.mark.parametrize("spec", [Siren(width=24, depth=3, w0=3.0), MLP(width=24, depth=3)])
@pytest.mark.parametrize(
    ("first", "form"),
    [
        ([0, 0, 1], [[-0.3, 0, 0], [0, -0.3, 0], [0, 0, 0]]),  # heat: u_t - 0.3 lap u
        ([0, 0, 0], [[-4.0, 0, 0], [0, 0, 0], [0, 0, 1]]),  # wave in x: u_tt - 4 u_xx
        ([0.5, 0, 1], [[0, 0, 0], [0, -1.0, 0.2], [0, 0.2, 0]]),  # seeds inside and outside
        ([1.0, -2.0, 0.5], [[0] * 3] * 3),  # first order only: no rows of derivatives at all
    ],
)
@pytest.mark.parametrize("gradient", [True, False])
def test_channels_with_a_first_order_part_match_autograd(spec, first, form, gradient):
    net = _net(spec, ST)
    x = torch.rand(30, 3, dtype=torch.float64, requires_grad=True)
    a = torch.tensor([first], dtype=torch.float64)
    C = torch.tensor([form], dtype=torch.float64)
    u, g, q = forward_jet(net, x, C, a, gradient=gradient)
    ua = net(x)[:, 0]
    ga, H = _hessian(ua, x)
    qa = ga @ a[0] + torch.einsum("ij,nij->n", C[0], H)
    assert torch.allclose(q[:, 0], qa, atol=1e-11, rtol=0)
    assert (g is None) == (not gradient)
    if gradient:
        assert torch.allclose(g, ga, atol=1e-12, rtol=0)
    params = list(net.parameters())
    lf = (u**2).sum() + (q**2).sum()
    la = (ua**2).sum() + (qa**2).sum()
    for b, c in zip(torch.autograd.grad(lf, params), torch.autograd.grad(la, params), strict=True):
        assert torch.allclose(b, c, atol=1e-10 * (1 + float(c.abs().max())), rtol=0)


def test_combination_is_the_sum_of_its_terms():
    net = _net(Siren(width=16, depth=2), ST)
    x = torch.rand(25, 3, dtype=torch.float64, requires_grad=True)
    terms = {"u": 2.0, "t": 1.0, ("x",): -0.5, "lap": -0.3, ("x", "y"): 0.7, ("t", "t"): 1.5}

    def separate(u):
        return (
            2.0 * u.value
            + dt(u)
            - 0.5 * partial(u, "x")
            - 0.3 * laplacian(u)
            + 0.7 * partial(u, "x", "y")
            + 1.5 * partial(u, "t", "t")
        )

    def residual(u, x):
        return combination(u, terms)

    plan = derivative_plan(residual, x[:4], "xyt", 2)
    assert not plan.gradient and len(plan.second) == 1
    ref = separate(field_values(net, x, "xyt", 2, None, "autograd"))
    for engine in ("fused", "autograd"):
        out = combination(field_values(net, x, "xyt", 2, plan, engine), terms)
        assert torch.allclose(out, ref, atol=1e-11, rtol=0), engine
    # an empty plan: the combination comes from autograd on demand
    out = combination(field_values(net, x, "xyt", 2, DerivativePlan(), "fused"), terms)
    assert torch.allclose(out, ref, atol=1e-11, rtol=0)
    # only the value
    u = field_values(net, x, "xyt", 2, plan, "fused")
    assert torch.equal(combination(u, {"u": 3.0}), 3.0 * u.value)


def test_combination_rejects_bad_terms():
    x = torch.rand(5, 2, dtype=torch.float64, requires_grad=True)
    u = field_values(_Plain(), x, "xy", None, None, "autograd")
    with pytest.raises(TypeError, match="coefficients must be constant numbers; term 'lap'"):
        combination(u, {"lap": torch.ones(5)})
    with pytest.raises(TypeError, match="coefficients must be constant numbers; term 'x' got bool"):
        combination(u, {"x": True})
    with pytest.raises(ValueError, match="coefficient of term 'lap' must be finite"):
        combination(u, {"lap": float("nan")})
    with pytest.raises(ValueError, match="tuple of one or two coordinate names; got"):
        combination(u, {("x", "x", "y"): 1.0})
    with pytest.raises(ValueError, match="unknown coordinate 'z'"):
        combination(u, {"z": 1.0})
    with pytest.raises(TypeError, match="non-empty mapping"):
        combination(u, {})
    with pytest.raises(TypeError, match="takes the field u"):
        combination(u.value, {"lap": 1.0})
    with pytest.raises(ValueError, match=r"forms involve columns outside coords=\(0,\)"):
        input_jet(x, torch.eye(2, dtype=x.dtype)[None], coords=(0,))
    with pytest.raises(ValueError, match=r"first must have shape \(1, 2\), got \(2,\)"):
        input_jet(x, torch.eye(2, dtype=x.dtype)[None], torch.ones(2))


def test_derivatives_outside_the_plan_fall_back_to_autograd():
    net = _net(Siren(width=16, depth=2), SQ)
    x = torch.rand(30, 2, dtype=torch.float64, requires_grad=True)
    plan = DerivativePlan(True, ("lap",))
    fused = field_values(net, x, "xy", None, plan, "fused")
    ref = field_values(net, x, "xy", None, None, "autograd")
    for f in (
        lambda u: partial(u, "x", "y"),
        lambda u: partial(u, "x", "x", "y"),
        lambda u: partial(u, "y", "y"),
    ):
        assert torch.allclose(f(fused), f(ref), atol=1e-11, rtol=0)
    # a plan without the gradient: asked for anyway, it comes from autograd
    lap_only = field_values(net, x, "xy", None, DerivativePlan(False, ("lap",)), "fused")
    assert torch.allclose(grad(lap_only), grad(ref), atol=1e-12, rtol=0)
    assert torch.allclose(laplacian(lap_only), laplacian(ref), atol=1e-11, rtol=0)


class _Plain(nn.Module):
    def forward(self, x):
        return (x**2).sum(1, keepdim=True)


def test_engine_choice_and_errors():
    x = torch.rand(10, 2, dtype=torch.float64, requires_grad=True)
    plan = DerivativePlan(True, ("lap",))
    assert not supports_jet(_Plain())
    assert supports_jet(_net(MLP(width=4, depth=1), SQ))
    u = field_values(_Plain(), x, "xy", None, plan, "auto")  # falls back
    assert torch.allclose(laplacian(u), torch.full((10,), 4.0, dtype=torch.float64))
    with pytest.raises(ValueError, match="engine='fused' needs a field"):
        field_values(_Plain(), x, "xy", None, plan, "fused")
    with pytest.raises(ValueError, match="engine must be one of"):
        field_values(_Plain(), x, "xy", None, plan, "forward")
    with pytest.raises(ValueError, match="derivatives must be one of"):
        npde.Trainer(derivatives="fast")
    with pytest.raises(ValueError, match=r"names must name each of x's columns: x has shape"):
        field_values(_Plain(), x, "x", None, plan, "auto")
    with pytest.raises(ValueError, match=r"time_index must be None or a column of x \(0 to 1\)"):
        field_values(_Plain(), x, "xt", 2, plan, "auto")
    with pytest.raises(ValueError, match=r"forms must have shape \(c, 2, 2\)"):
        forward_jet(_net(MLP(width=4, depth=1), SQ), x, torch.zeros(1, 3, 3))


def test_training_is_the_same_with_either_engine():
    problem = _problems()["poisson"]
    sampler = npde.SobolSampler(n_interior=128, n_boundary=32)
    losses = {}
    for engine in ("fused", "autograd"):
        net = _net(Siren(width=16, depth=2), SQ)
        trainer = npde.Trainer(adam_steps=20, lbfgs_steps=10, derivatives=engine, progress=False)
        res = trainer.fit(net, problem, sampler, dtype=torch.float64)
        losses[engine] = res.history["loss"][-1]
        assert res.derivatives == engine
    assert losses["fused"] == pytest.approx(losses["autograd"], rel=1e-6)
    # "auto" reports what it chose: fused for a SIREN, autograd for a module of one's own
    auto = npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False)
    assert auto.fit(_net(Siren(width=8, depth=1), SQ), problem, sampler).derivatives == "fused"
    assert auto.fit(_Affine().double(), problem, sampler).derivatives == "autograd"
    with pytest.raises(ValueError, match="net has no trainable parameters"):
        auto.fit(_Plain(), problem, sampler)


class _Affine(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 1)

    def forward(self, x):
        return self.layer(x)


def test_fit_checks_its_arguments_before_training():
    problem = _problems()["poisson"]
    sampler = npde.SobolSampler(n_interior=16, n_boundary=8)
    trainer = npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False)
    net = _Affine().double()
    cases = [
        ({"dtype": "float64"}, r"dtype must be torch.float32 or torch.float64, got 'float64'"),
        ({"dtype": torch.float16}, "dtype must be torch.float32 or torch.float64"),
        ({"device": "gpu"}, "device must be 'cpu', 'cuda' or 'cuda:N'"),
        ({"device": "cpu:1"}, r"device must be 'cpu' \(the CPU takes no index\), got 'cpu:1'"),
        ({"seed": -3}, "seed must be a non-negative integer, got -3"),
        ({"dtype": torch.float32}, r"net's parameters include torch.float64 on cpu, but training"),
    ]
    before = {k: v.clone() for k, v in net.state_dict().items()}
    for kwargs, match in cases:
        with pytest.raises(ValueError, match=match):
            trainer.fit(net, problem, sampler, **kwargs)
    fused = npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False, derivatives="fused")
    with pytest.raises(
        ValueError, match="derivatives='fused' needs a field .*: _Affine does not propagate"
    ):
        fused.fit(net, problem, sampler)
    with pytest.raises(TypeError, match="sampler must be a Sampler, got str"):
        trainer.fit(net, problem, "sobol")
    with pytest.raises(TypeError, match="problem must be a neuralpde Problem, got dict"):
        trainer.fit(net, {}, sampler)
    # refused before any step: the parameters are untouched
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
    res = trainer.fit(net.float(), problem, sampler, dtype=torch.float32, device="cpu:0")
    assert res.steps == 2 and res.derivatives == "autograd"
    # buffers count too: InputScaling keeps its bounds in float64 until the wrapper is cast
    scaled = InputScaling(_Affine().float(), [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"net's buffers include torch.float64 on cpu"):
        trainer.fit(scaled, problem, sampler, dtype=torch.float32)
    assert trainer.fit(scaled.float(), problem, sampler, dtype=torch.float32).steps == 2


def test_derivative_plan_checks_columns_and_records_no_engine_without_derivatives():
    x = torch.rand(4, 2, dtype=torch.float64)
    for bad in (True, 1.0, 2):
        with pytest.raises(ValueError, match="time_index must be None or a column of x"):
            derivative_plan(lambda u, x: u.value, x, "xt", bad)
    with pytest.raises(ValueError, match="names must name each of x's columns"):
        derivative_plan(lambda u, x: u.value, x, "xyz")
    algebraic = npde.Problem(
        domain=npde.Rectangle((0, 0), (1, 1)),
        equation=npde.Custom(lambda u, x: u - 1.0),
        conditions=[npde.Dirichlet(1.0)],
    )
    sampler = npde.SobolSampler(n_interior=16, n_boundary=8)
    trainer = npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False)
    assert trainer.fit(_net(Siren(width=8, depth=1), SQ), algebraic, sampler).derivatives == "none"


def test_linear_forms_must_be_square_and_symmetric():
    assert LinearForm((1.0, 0.0), ((0.0, 2.0), (2.0, 0.0))).second[0][1] == 2.0
    with pytest.raises(ValueError, match="LinearForm.second must be symmetric"):
        LinearForm((0.0, 0.0), ((0.0, 1.0), (0.0, 0.0)))
    with pytest.raises(ValueError, match=r"must be a 2x2 matrix \(first has 2 entries\)"):
        LinearForm((0.0, 0.0), ((0.0, 1.0, 0.0), (1.0, 0.0, 0.0)))


def test_a_channel_without_rows_is_zero_and_differentiable():
    net = _net(Siren(width=12, depth=2), SQ)
    x = torch.rand(20, 2, dtype=torch.float64)
    u, g, q = forward_jet(net, x, torch.zeros(1, 2, 2, dtype=torch.float64), gradient=False)
    assert g is None and torch.equal(q, torch.zeros(20, 1, dtype=torch.float64))
    params = list(net.parameters())
    fused = torch.autograd.grad((u**2).sum() + (q**2).sum(), params, allow_unused=True)
    plain = torch.autograd.grad((net(x)[:, 0] ** 2).sum(), params)
    for a, b in zip(fused, plain, strict=True):
        assert torch.allclose(a, b, atol=1e-13, rtol=0)


def test_time_operators_on_a_steady_field_say_so():
    x = torch.rand(5, 2, dtype=torch.float64, requires_grad=True)
    u = field_values(_Plain(), x, "xy", None, None, "autograd")
    for eq in (npde.Heat(kappa=0.5), npde.Heat(kappa=[1.0, 2.0]), npde.Wave(c=2.0)):
        with pytest.raises(ValueError, match="needs a time coordinate; this problem's domain is"):
            eq.residual(u, x)
    hint = r"term 'xx': unknown coordinate 'xx'.*such as \('x', 'x'\)"
    with pytest.raises(ValueError, match=hint):
        combination(u, {"xx": 1.0})


class _BuiltInZero(SirenNet):
    """A SIREN whose forward multiplies by x(1-x)y(2-y), vanishing on SQ's boundary."""

    def forward(self, x):
        bubble = x[:, 0] * (1 - x[:, 0]) * x[:, 1] * (2 - x[:, 1])
        return bubble[:, None] * super().forward(x)


def test_a_field_whose_forward_its_jet_does_not_follow_gets_autograd():
    x = torch.rand(12, 2, dtype=torch.float64, requires_grad=True)
    plan = DerivativePlan(False, ("lap",))
    torch.manual_seed(0)
    sub = _BuiltInZero(2, 16, 2, [2.0, 1.0]).double()
    hooked = Siren(width=16, depth=2).build(2).double()
    hooked.register_forward_hook(lambda m, i, out: 2.0 * out)
    replaced = Siren(width=16, depth=2).build(2).double()
    replaced.forward = lambda x: x[:, :1] ** 2
    reasons = {
        sub: "_BuiltInZero overrides forward but inherits jet from SirenNet",
        hooked: "SirenNet has forward hooks",
        replaced: "SirenNet has its forward replaced on the instance",
    }
    for net, reason in reasons.items():
        assert not supports_jet(net) and not supports_jet(InputScaling(net, [0, 0], [1, 2]))
        auto = field_values(net, x, "xy", None, plan, "auto")
        ref = field_values(net, x, "xy", None, plan, "autograd")
        assert torch.equal(auto.value, ref.value)
        assert torch.allclose(laplacian(auto), laplacian(ref), rtol=0, atol=0)
        with pytest.raises(ValueError, match=f"engine='fused' needs a field .*: {reason}"):
            field_values(net, x, "xy", None, plan, "fused")
    # the auto engine trains what forward computes: the loss is that of the autograd engine
    problem = _problems()["poisson"]
    sampler = npde.SobolSampler(n_interior=64, n_boundary=16)
    losses = {}
    for engine in ("auto", "autograd"):
        torch.manual_seed(1)
        net = _BuiltInZero(2, 16, 2, [2.0, 1.0]).double()
        trainer = npde.Trainer(adam_steps=5, lbfgs_steps=0, derivatives=engine, progress=False)
        res = trainer.fit(net, problem, sampler)
        assert res.derivatives == "autograd"
        losses[engine] = res.history["loss"]
    assert losses["auto"] == losses["autograd"]
    # a wrapper names what it wraps
    wrapped = InputScaling(
        nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)), [0, 0], [1, 2]
    )
    with pytest.raises(ValueError, match="InputScaling wraps a module that cannot: Sequential"):
        field_values(wrapped.double(), x, "xy", None, plan, "fused")


class _WrongJet(nn.Module):
    """A module whose jet computes another function than its forward (twice the value)."""

    def __init__(self):
        super().__init__()
        self.net = Siren(width=8, depth=1).build(2)

    def forward(self, x):
        return self.net(x)

    def supports_jet(self):
        return True

    def jet(self, j):
        out = self.net.jet(j)
        return type(out)(2 * out.value, 2 * out.deriv, out.forms, out.weights, out.keep_grad)


def test_fit_refuses_a_jet_that_disagrees_with_forward():
    problem = _problems()["poisson"]
    sampler = npde.SobolSampler(n_interior=16, n_boundary=8)
    trainer = npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False)
    net = _WrongJet().double()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(ValueError, match="_WrongJet's fused pass disagrees with autograd .* value"):
        trainer.fit(net, problem, sampler)
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
    res = npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False, derivatives="autograd").fit(
        net, problem, sampler
    )
    assert res.steps == 2
    # the library's fields pass the check in float32 too
    f32 = trainer.fit(
        _net(Siren(width=16, depth=2), SQ, torch.float32), problem, sampler, dtype=torch.float32
    )
    assert f32.derivatives == "fused"


def _differentiating(u, x):
    """u_xxx by differentiating the Laplacian's result with torch.autograd itself."""
    lap = laplacian(u)
    (g,) = torch.autograd.grad(lap, x, torch.ones_like(lap), create_graph=True)
    return g[:, 0] + u


def test_a_residual_that_differentiates_operator_results_trains_with_autograd():
    x = torch.rand(6, 2, dtype=torch.float64)
    plan = derivative_plan(_differentiating, x, "xy")
    assert plan.differentiated and plan.second == ("lap",)
    assert not derivative_plan(
        lambda u, x: laplacian(u) + partial(u, "x", "x", "y"), x, "xy"
    ).differentiated  # the library's own third derivatives do not count
    problem = npde.Problem(SQ, _differentiating, [npde.Dirichlet(0.0)])
    sampler = npde.SobolSampler(n_interior=32, n_boundary=8)
    res = npde.Trainer(adam_steps=3, lbfgs_steps=0, progress=False).fit(
        _net(Siren(width=8, depth=2), SQ), problem, sampler
    )
    assert res.steps == 3 and res.derivatives == "autograd"
    fused = npde.Trainer(adam_steps=3, lbfgs_steps=0, progress=False, derivatives="fused")
    with pytest.raises(ValueError, match="derivatives='fused' cannot serve a residual that diff"):
        fused.fit(_net(Siren(width=8, depth=2), SQ), problem, sampler)


def test_no_derivatives_is_reported_whichever_engine_is_asked():
    algebraic = npde.Problem(SQ, npde.Custom(lambda u, x: u - x[:, 0]), [npde.Dirichlet(0.0)])
    sampler = npde.SobolSampler(n_interior=16, n_boundary=8)
    for engine in ("auto", "fused", "autograd"):
        trainer = npde.Trainer(adam_steps=1, lbfgs_steps=0, progress=False, derivatives=engine)
        res = trainer.fit(_net(Siren(width=8, depth=1), SQ), algebraic, sampler)
        assert res.derivatives == "none"


class _Flat(nn.Module):
    """A module returning one value per point as a 1-D tensor, shape (N,)."""

    def __init__(self, n_in=2):
        super().__init__()
        self.layer = nn.Linear(n_in, 1)

    def forward(self, x):
        return self.layer(x)[:, 0]


def test_fit_checks_what_the_net_takes_and_returns():
    problem = _problems()["poisson"]
    sampler = npde.SobolSampler(n_interior=16, n_boundary=8)
    trainer = npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False)
    assert trainer.fit(_Flat().double(), problem, sampler).steps == 2  # (N,) is one value a point
    with pytest.raises(ValueError, match=r"net could not be evaluated on points of shape \(8, 2\)"):
        trainer.fit(_Flat(3).double(), problem, sampler)
    two = nn.Linear(2, 2).double()
    with pytest.raises(ValueError, match=r"net must map points of shape \(8, 2\) to values of "):
        trainer.fit(two, problem, sampler)


def test_engine_functions_check_their_arguments():
    net = _net(Siren(width=8, depth=1), SQ)
    x = torch.rand(5, 2, dtype=torch.float64, requires_grad=True)
    plan = DerivativePlan(False, ("lap",))
    with pytest.raises(TypeError, match="x must be a floating-point torch.Tensor .* got list"):
        field_values(net, [[0.1, 0.2]], "xy", None, plan)
    with pytest.raises(TypeError, match="plan must be a DerivativePlan or None, got str"):
        field_values(net, x, "xy", None, "lap")
    with pytest.raises(ValueError, match="x is torch.float32 but net's parameters are torch.f"):
        field_values(net, x.float(), "xy", None, plan)
    with pytest.raises(ValueError, match="DerivativePlan.second entries are 'lap', a pair"):
        DerivativePlan(second=("laplace",))
    with pytest.raises(TypeError, match="DerivativePlan.gradient must be True or False"):
        DerivativePlan(gradient="yes")
    with pytest.raises(ValueError, match=r"entry \(0, 5\) does not fit 2 columns"):
        field_values(net, x, "xy", None, DerivativePlan(second=((0, 5),)))
    with pytest.raises(ValueError, match=r"x must have shape \(N, n\), got \(2,\)"):
        forward_jet(net, x[0], torch.eye(2)[None])
    with pytest.raises(TypeError, match="x must be a floating-point torch.Tensor, got a torch.int"):
        forward_jet(net, torch.ones(3, 2, dtype=torch.int64), torch.eye(2)[None])
    # forms as nested lists; no points at all, in the float64 layout too
    _, _, q = forward_jet(net, x, [[[1.0, 0.0], [0.0, 1.0]]])
    assert torch.allclose(q[:, 0], laplacian(field_values(net, x, "xy", None, plan, "autograd")))
    empty = field_values(net, x[:0].detach(), "xy", None, plan, "fused")
    assert laplacian(empty).shape == (0,)


class _FwdMixin:
    def forward(self, x):
        return 2.0 * SirenNet.forward(self, x)


class _MixedIn(_FwdMixin, SirenNet):
    """forward comes from a mixin ahead of SirenNet, jet from SirenNet."""


class _OwnJet(nn.Module):
    """A correct module of one's own: it carries jets by delegating to the SIREN it wraps."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)

    def supports_jet(self):
        return True

    def jet(self, j):
        return self.net.jet(j)


class _WrongSecond(_OwnJet):
    """Right values and first derivatives, second-order channels doubled."""

    def jet(self, j):
        out = self.net.jet(j)
        deriv = out.deriv.clone()
        deriv[out.dim :] *= 2.0
        return type(out)(out.value, deriv, out.forms, out.weights, out.keep_grad)


def test_obstacles_hooks_mixins_and_compiled_modules():
    siren = Siren(width=8, depth=2).build(2).double()
    torch.manual_seed(0)
    assert "_MixedIn overrides forward (in _FwdMixin) but inherits jet from SirenNet" in (
        npde.fields.jet.jet_obstacle(_MixedIn(2, 8, 2, [2.0, 1.0]))
    )
    handle = siren.register_forward_pre_hook(lambda m, args: None)
    assert "SirenNet has forward hooks" in npde.fields.jet.jet_obstacle(siren)
    handle.remove()
    assert supports_jet(siren)
    from torch.nn.modules.module import register_module_forward_hook

    handle = register_module_forward_hook(lambda m, i, out: out)
    try:
        assert not supports_jet(siren)
    finally:
        handle.remove()
    assert supports_jet(siren)
    # torch.compile wraps the module (compiling lazily): judged by the module it compiles
    assert supports_jet(torch.compile(siren))
    assert not supports_jet(torch.compile(_MixedIn(2, 8, 2, [2.0, 1.0])))
    # the library's fields need no check at run time; a jet of one's own does
    lib = npde.fields.jet.library_jets_only
    assert lib(_net(Siren(width=8, depth=1), SQ)) and lib(_net(MLP(width=8, depth=1), SQ))
    assert not lib(_OwnJet(siren)) and not lib(InputScaling(_OwnJet(siren), [0, 0], [1, 2]))


def test_fit_checks_a_jet_of_ones_own_in_every_derivative():
    problem = _problems()["poisson"]
    sampler = npde.SobolSampler(n_interior=16, n_boundary=8)
    trainer = npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False)
    torch.manual_seed(0)
    good = _OwnJet(Siren(width=8, depth=2).build(2)).double()
    assert trainer.fit(good, problem, sampler).derivatives == "fused"
    # wrong second derivatives only, and a residual that asks for none: the conditions or another
    # residual could take them fused, so they are checked all the same
    algebraic = npde.Problem(SQ, npde.Custom(lambda u, x: u - x[:, 0]), [npde.Dirichlet(0.0)])
    for prob in (problem, algebraic):
        with pytest.raises(ValueError, match="_WrongSecond's fused pass disagrees"):
            trainer.fit(_WrongSecond(Siren(width=8, depth=2).build(2)).double(), prob, sampler)


def test_a_field_whose_operator_cancels_is_not_refused():
    """u = sum_k c_k sin(a_k (x - 2t) + b_k) solves u_tt = 4 u_xx exactly: its wave operator is
    round-off of terms of ordinary size, and the check must judge it on those terms."""
    torch.manual_seed(0)
    siren = Siren(width=16, depth=1, w0=1.0).build(2).double()
    with torch.no_grad():
        a = torch.linspace(0.5, 3.0, 16, dtype=torch.float64)
        siren.hidden[0].weight.copy_(torch.stack([a, -2.0 * a], dim=1))
    problem = npde.Problem(
        LINE_T,
        npde.Wave(c=2.0),
        [npde.Dirichlet(0.0), npde.Initial(0.0), npde.InitialVelocity(0.0)],
    )
    x = torch.rand(8, 2, dtype=torch.float64, requires_grad=True)
    u = field_values(siren, x, "xt", 1, residual_plan(problem), "autograd")
    assert float(problem.residual(u, x).detach().abs().max()) < 1e-12  # the operator cancels
    sampler = npde.SobolSampler(n_interior=16, n_boundary=8, n_initial=8)
    trainer = npde.Trainer(adam_steps=1, lbfgs_steps=0, progress=False)
    for dtype in (torch.float64, torch.float32):
        net = _OwnJet(copy.deepcopy(siren)).to(dtype)
        assert trainer.fit(net, problem, sampler, dtype=dtype).derivatives == "fused"


def test_what_the_probe_calls_differentiating():
    x = torch.rand(6, 2, dtype=torch.float64)

    def grad_of(f):
        def residual(u, x):
            t = f(u)
            (g,) = torch.autograd.grad(t.sum(), x, create_graph=True)
            return g[:, 0] + u

        return residual

    for f in (lambda u: u.value, lambda u: grad(u)[:, 1], laplacian):
        assert derivative_plan(grad_of(f), x, "xy").differentiated

    def weights_only(u, x):  # a detached first derivative (no create_graph): not differentiated
        lap = laplacian(u)
        (w,) = torch.autograd.grad(lap.sum(), x, retain_graph=True)
        return w[:, 0].detach() * lap

    def in_place(u, x):
        r = laplacian(u)
        r += torch.sin(x[:, 0])
        return r

    plan = derivative_plan(weights_only, x, "xy")
    assert not plan.differentiated and plan.second == ("lap",)
    assert derivative_plan(in_place, x, "xy").second == ("lap",)
    # negative column indices count from the last column, as in Python
    plan = derivative_plan(lambda u, x: u.second(-1) + u.mixed(0, -1), x, "xy")
    assert plan.second == ((1, 1), (0, 1))
    with pytest.raises(IndexError, match=r"column 2 is not one of the 2 columns \('x', 'y'\)"):
        derivative_plan(lambda u, x: u.second(2), x, "xy")
    # both residuals train with the default engine
    sampler = npde.SobolSampler(n_interior=16, n_boundary=8)
    trainer = npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False)
    for residual in (weights_only, in_place):
        problem = npde.Problem(SQ, residual, [npde.Dirichlet(0.0)])
        assert trainer.fit(_net(Siren(width=8, depth=1), SQ), problem, sampler).steps == 2


def test_a_residual_is_probed_in_the_precision_of_training():
    a = torch.tensor([[1.0], [2.0]], dtype=torch.float32)  # a float32 constant in the residual
    problem = npde.Problem(SQ, lambda u, x: (grad(u) @ a)[:, 0] - 1.0, [npde.Dirichlet(0.0)])
    sampler = npde.SobolSampler(n_interior=16, n_boundary=8)
    net = _net(Siren(width=8, depth=1), SQ, torch.float32)
    res = npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False).fit(
        net, problem, sampler, dtype=torch.float32
    )
    assert res.steps == 2 and res.derivatives == "fused"


def test_differentiating_only_away_from_the_probe_points_says_what_to_do():
    def residual(u, x):
        lap = laplacian(u)
        if bool((x[:, 0] > 0.9).any()) and not bool((x[:, 0] > 0.9).all()):
            (g,) = torch.autograd.grad(lap.sum(), x, create_graph=True)
            return lap + g[:, 0]
        return lap

    problem = npde.Problem(npde.Rectangle((0.0, 0.0), (1.0, 1.0)), residual, [npde.Dirichlet(0.0)])
    assert not residual_plan(problem).differentiated  # no probe point has x > 0.9
    sampler = npde.SobolSampler(n_interior=64, n_boundary=8)
    trainer = npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False)
    net = _net(Siren(width=8, depth=1), npde.Rectangle((0.0, 0.0), (1.0, 1.0)))
    with pytest.raises(RuntimeError, match="train with derivatives='autograd'"):
        trainer.fit(net, problem, sampler)
    autograd = npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False, derivatives="autograd")
    assert autograd.fit(net, problem, sampler).steps == 2


class _Potential(nn.Module):
    """A field defined as a derivative of a potential: its forward calls torch.autograd."""

    def __init__(self):
        super().__init__()
        self.phi = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))

    def forward(self, x):
        if not x.requires_grad:
            x = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(self.phi(x).sum(), x, create_graph=True)
        return g[:, :1]


def test_fit_and_a_field_take_nets_of_ones_own():
    problem = _problems()["poisson"]
    sampler = npde.SobolSampler(n_interior=16, n_boundary=8)
    trainer = npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False)
    assert trainer.fit(_Potential().double(), problem, sampler).steps == 2
    flat = _Flat().double()
    trainer.fit(flat, problem, sampler)
    field = npde.NeuralField(flat, ("x", "y"), {})
    pts = [[0.2, 0.3], [0.5, 1.5]]
    expected = flat(torch.tensor(pts, dtype=torch.float64)).detach().numpy()
    assert np.array_equal(field(pts), expected)


def test_plans_record_the_time_derivatives_taken():
    from neuralpde.operators import dt, dtt, grad, laplacian, partial

    p = _problems()
    assert [residual_plan(p[k]).time_order for k in ("poisson", "heat", "heat_tensor")] == [0, 1, 1]
    assert residual_plan(p["heat_divergence"]).time_order == 1
    assert residual_plan(p["wave"]).time_order == 2
    x = torch.rand(4, 3, dtype=torch.float64)
    cases = {
        "grad": (lambda u, x: grad(u).sum(1) + laplacian(u), 0),
        "dt": (lambda u, x: dt(u), 1),
        "partial t": (lambda u, x: partial(u, "t"), 1),
        "mixed x t": (lambda u, x: partial(u, "x", "t"), 1),
        "third x x t": (lambda u, x: partial(u, "x", "x", "t"), 1),
        "dtt": (lambda u, x: dtt(u) - laplacian(u), 2),
        "full gradient read by hand": (lambda u, x: u.full_gradient()[:, 2], None),
        "autograd gradient read by hand": (lambda u, x: u.autograd_gradient()[:, 2], None),
        "first, NumPy int": (lambda u, x: u.first(np.int64(2)), 1),
        "first, 0-d tensor": (lambda u, x: u.first(torch.tensor(0)), 0),
        "first, slice": (lambda u, x: u.first(slice(1, 3)).sum(1), 1),
        "first, list with t twice": (lambda u, x: u.first([2, -1]).sum(1), 1),
    }
    for name, (residual, order) in cases.items():
        assert derivative_plan(residual, x, "xyt", 2).time_order == order, name
    # the time order is for checks only: plans that compute the same compare equal
    assert DerivativePlan(True, ("lap",), time_order=1) == DerivativePlan(True, ("lap",))
    with pytest.raises(TypeError, match="time_order must be a non-negative int or None, got -1"):
        DerivativePlan(time_order=-1)


# -- the weights' layout ---------------------------------------------------------------------------


def test_linear_weight_t_lays_out_narrow_inputs_contiguously():
    w = torch.randn(128, 2)
    wt = linear_weight_t(w)
    assert wt.shape == (2, 128) and wt.is_contiguous()
    torch.testing.assert_close(wt, w.T, rtol=0, atol=0)
    wide = torch.randn(1, 128)
    assert linear_weight_t(wide).data_ptr() == wide.data_ptr()  # a view: no copy
