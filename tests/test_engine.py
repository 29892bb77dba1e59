"""The derivative engine is bound once per run (:func:`neuralpde.engine.bind_engine`)."""

import math

import pytest
import torch
from torch import nn

import neuralpde as npde
import neuralpde.engine as engine_module
import neuralpde.fields.jet as jet_module
from neuralpde.engine import (
    DerivativePlan,
    Derivatives,
    autograd_engine,
    bind_engine,
    engine_for,
    field_values,
)
from neuralpde.fields import MLP, InputScaling, Siren
from neuralpde.operators import LinearForm, grad, laplacian
from neuralpde.training import make_batch
from neuralpde.training.loss import condition_defect, loss_terms, residual_plan

ST = npde.SpaceTime(npde.Rectangle((0.0, 0.0), (1.0, 2.0)), t_span=(0.0, 0.5))
SQ = npde.Rectangle((0.0, 0.0), (1.0, 1.0))
DT = LinearForm((0.0, 0.0, 1.0), ((0.0,) * 3,) * 3)
PLAN = DerivativePlan(gradient=True, second=("lap", (0, 1), DT))


def _net(spec, domain, seed=0):
    torch.manual_seed(seed)
    lo, hi = domain.bounds
    return InputScaling(spec.build(domain.dim), lo.tolist(), hi.tolist()).double()


class _Plain(nn.Module):
    def forward(self, x):
        return (x**2).sum(1, keepdim=True)


def _parts(u):
    out = [u.value, u.full_gradient()]
    return out + [laplacian(u), u.mixed(0, 1), u.linear_form(DT)]


@pytest.mark.parametrize("spec", [Siren(width=16, depth=2, w0=2.0), MLP(width=16, depth=2)])
@pytest.mark.parametrize("engine", ["auto", "fused", "autograd"])
def test_bound_engine_gives_the_values_of_field_values(spec, engine):
    net = _net(spec, ST)
    x = torch.rand(20, 3, dtype=torch.float64, requires_grad=True)
    bound = bind_engine(net, ST.names, 2, PLAN, engine)
    assert bound.kind == ("autograd" if engine == "autograd" else "fused")
    assert bound.names == tuple(ST.names) and bound.time_index == 2 and bound.plan == PLAN
    got, ref = _parts(bound.values(net, x)), _parts(field_values(net, x, ST.names, 2, PLAN, engine))
    assert all(torch.equal(a, b) for a, b in zip(got, ref, strict=True))
    if engine != "autograd":  # the fused values agree with autograd's to round-off
        auto = _parts(field_values(net, x, ST.names, 2, None, "autograd"))
        close = [torch.allclose(a, b, rtol=1e-9, atol=1e-9) for a, b in zip(got, auto, strict=True)]
        assert all(close)
    # another plan of the same field, bound without looking at the field again
    g = bound.for_plan(DerivativePlan(gradient=True))
    assert g.kind == bound.kind and g.asked == engine
    assert bound.for_plan(DerivativePlan(gradient=True)) is g  # bound once
    assert torch.equal(
        grad(g.values(net, x)), grad(field_values(net, x, ST.names, 2, g.plan, engine))
    )
    assert bound.for_plan(DerivativePlan()).kind == "none"
    assert bound.for_plan(None).kind == "autograd"


def test_binding_refuses_what_engine_for_refuses_with_its_messages():
    plan = DerivativePlan(True, ("lap",))
    with pytest.raises(ValueError, match="engine='fused' needs a field .*: _Plain does not"):
        bind_engine(_Plain(), "xy", None, plan, "fused")
    with pytest.raises(ValueError, match="derivatives='fused' needs a field .*: _Plain does not"):
        bind_engine(_Plain(), "xy", None, plan, "fused", name="derivatives")
    with pytest.raises(ValueError, match="engine must be one of"):
        bind_engine(_Plain(), "xy", None, plan, "forward")
    with pytest.raises(TypeError, match="plan must be a DerivativePlan or None, got str"):
        bind_engine(_Plain(), "xy", None, "lap")
    with pytest.raises(ValueError, match="time_index must be None or a column"):
        bind_engine(_Plain(), "xy", 2, plan)
    differentiated = DerivativePlan(differentiated=True, time_order=None)
    net = _net(Siren(width=8, depth=1), SQ)
    with pytest.raises(ValueError, match="engine='fused' cannot serve a residual that diff"):
        bind_engine(net, "xy", None, differentiated, "fused")
    bound = bind_engine(net, "xy", None, plan, "fused")
    with pytest.raises(ValueError, match="engine='fused' cannot serve a residual that diff"):
        bound.for_plan(differentiated)
    # the same choices as engine_for, which keeps working on its own
    for eng in ("auto", "fused", "autograd"):
        for p in (plan, DerivativePlan(), None):
            assert bind_engine(net, "xy", None, p, eng).kind == engine_for(net, p, eng)
    assert bind_engine(_Plain(), "xy", None, plan).kind == "autograd"
    assert bind_engine(_Plain(), "xy", None, plan).obstacle == "_Plain does not propagate " + (
        "derivatives forward"
    )


def test_bound_values_check_the_shape_of_the_points():
    net = _net(Siren(width=8, depth=1), SQ)
    bound = bind_engine(net, "xy", None, DerivativePlan(False, ("lap",)))
    with pytest.raises(ValueError, match=r"names must name each of x's columns: x has shape"):
        bound.values(net, torch.rand(4, 3, dtype=torch.float64))
    with pytest.raises(TypeError, match="x must be a floating-point torch.Tensor"):
        bound.values(net, [[0.1, 0.2]])


def test_autograd_engine_is_bound_once_per_coordinates():
    a = autograd_engine(("x", "t"), 1)
    assert a is autograd_engine(["x", "t"], 1) and isinstance(a, Derivatives)
    assert a.kind == "autograd" and a.plan is None
    net = _net(MLP(width=8, depth=1), npde.SpaceTime(npde.Interval(0.0, 1.0), (0.0, 1.0)))
    x = torch.rand(6, 2, dtype=torch.float64, requires_grad=True)
    ref = field_values(net, x, "xt", 1, None, "autograd")
    assert torch.equal(a.values(net, x).full_gradient(), ref.full_gradient())
    with pytest.raises(ValueError, match="time_index must be None or a column"):
        autograd_engine(("x",), 1)


def _neumann_heat() -> npde.Problem:
    def exact(x):
        return torch.cos(math.pi * x[:, 0]) * torch.exp(-x[:, 1])

    return npde.Problem(
        domain=npde.SpaceTime(npde.Interval(0.0, 1.0), t_span=(0.0, 0.5)),
        equation=npde.Heat(kappa=0.1),
        conditions=[npde.Neumann(0.0), npde.Initial(exact)],
    )


def test_loss_terms_take_names_or_a_bound_engine():
    problem = _neumann_heat()
    net = _net(Siren(width=16, depth=2), problem.domain)
    pts = npde.SobolSampler(n_interior=32, n_boundary=16, n_initial=16).draw(problem, 0, 0)
    batch = make_batch(problem, pts, torch.float64, "cpu")
    plan = residual_plan(problem)
    names, ti = problem.domain.names, problem.time_index
    for engine in ("auto", "fused", "autograd"):
        bound = bind_engine(net, names, ti, plan, engine)
        total, terms = loss_terms(net, problem, batch, engine=bound)
        for kwargs in ({"engine": engine}, {"engine": engine, "plan": plan}):
            again, again_terms = loss_terms(net, problem, batch, **kwargs)
            assert torch.equal(total, again) and terms.keys() == again_terms.keys()
        assert torch.equal(total, loss_terms(net, problem, batch, engine=bound, plan=plan)[0])
    ref = loss_terms(net, problem, batch, engine="autograd")[0]
    assert torch.allclose(total, ref, rtol=1e-10)
    # a condition's defect by a bound engine, by its name
    x, target = batch.condition_points[0], batch.condition_targets[0]
    nrm = batch.condition_normals[0]
    cond = problem.conditions[0]
    bound = bind_engine(net, names, ti, plan, "fused")
    by_bound = condition_defect(net, problem, cond, x, target, nrm, bound)
    assert torch.equal(by_bound, condition_defect(net, problem, cond, x, target, nrm, "fused"))
    with pytest.raises(ValueError, match="plan differs from the bound engine's own plan"):
        loss_terms(net, problem, batch, engine=bound, plan=DerivativePlan(gradient=True))
    with pytest.raises(ValueError, match="engine='fused' needs a field"):
        loss_terms(_Plain(), problem, batch, engine="fused")
    with pytest.raises(ValueError, match="x is torch.float64 but net's parameters are torch.f"):
        loss_terms(net.float(), problem, batch)


def _count_looks(monkeypatch) -> list[int]:
    """Count the calls of jet_obstacle (the walk over a field's modules) and engine_for."""
    calls = [0]
    original, engine_for_original = jet_module.jet_obstacle, engine_module.engine_for

    def counted(module):
        calls[0] += 1
        return original(module)

    def counted_engine_for(*args, **kwargs):
        calls[0] += 1
        return engine_for_original(*args, **kwargs)

    monkeypatch.setattr(jet_module, "jet_obstacle", counted)
    monkeypatch.setattr(engine_module, "jet_obstacle", counted)
    monkeypatch.setattr(engine_module, "engine_for", counted_engine_for)
    return calls


@pytest.mark.parametrize("engine", ["auto", "autograd"])
def test_the_trainer_binds_the_engine_once(monkeypatch, engine):
    problem = _neumann_heat()
    sampler = npde.SobolSampler(n_interior=32, n_boundary=8, n_initial=8)
    counts = {}
    for steps in (1, 6):
        calls = _count_looks(monkeypatch)
        net = _net(Siren(width=8, depth=1), problem.domain)
        trainer = npde.Trainer(
            adam_steps=steps,
            lbfgs_steps=steps,
            gauss_newton_steps=steps,
            derivatives=engine,
            progress=False,
            log_every=1,
        )
        res = trainer.fit(net, problem, sampler)
        assert res.derivatives == ("fused" if engine == "auto" else "autograd")
        assert res.steps >= 2 * steps
        counts[steps] = calls[0]
        monkeypatch.undo()
    assert 0 < counts[1] == counts[6] <= 40
