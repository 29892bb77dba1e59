"""Hard constraints (:mod:`neuralpde.fields.constraints`): the distance product of a domain's
boundary, fields that meet their data whatever the network, and solutions that carry them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.cli import main
from neuralpde.defaults import plan_constraints
from neuralpde.engine import DerivativePlan, check_fused
from neuralpde.fields import InputScaling, build_field, check_architecture
from neuralpde.fields.constraints import (
    HardConstraint,
    boundary_pieces,
    corner_functions,
    distance_product,
)
from neuralpde.fields.jet import input_jet
from neuralpde.operators import LinearForm
from neuralpde.training.lift import fit_lift
from neuralpde.training.loss import residual_plan

from ..constrained import DOMAINS, _holes_problem
from ..lshape import L_SHAPE, singular

PI = math.pi


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_the_distance_product_vanishes_on_the_boundary_and_nowhere_inside(name):
    dom = DOMAINS[name]
    pieces = [p for ps in boundary_pieces(dom).values() for p in ps]
    rng = np.random.default_rng(0)
    b = torch.as_tensor(dom.boundary(rng.random((500, 2))).points)
    inner = dom.interior(rng.random((4000, 2)))
    inner = inner[dom.distance(inner) > 1e-3] if hasattr(dom, "distance") else inner
    phi_b = distance_product(pieces, b)
    phi_i = distance_product(pieces, torch.as_tensor(inner))
    assert float(phi_b.abs().max()) < 1e-12 * float(phi_i.max())
    assert float(phi_i.min()) > 0


def test_a_polygon_edge_whose_line_bounds_it_is_a_smooth_line_factor():
    """Every edge of a convex polygon (given clockwise here) is the signed distance to its line,
    so the product is a polynomial: the triangle's is the product of its three line distances,
    whose Laplacian is bounded up to the vertices. The L-shape's two edges at its reentrant
    corner, whose lines cross it, keep the trimmed segment function."""
    tri = DOMAINS["triangle"]
    pieces = [p for ps in boundary_pieces(tri).values() for p in ps]
    assert [p["kind"] for p in pieces] == ["line"] * 3
    x = torch.as_tensor(tri.interior(np.random.default_rng(0).random((500, 2))))
    lines = [((0, 0), (2, 0)), ((2, 0), (0.5, 1.5)), ((0.5, 1.5), (0, 0))]  # counter-clockwise
    want = torch.ones(len(x), dtype=x.dtype)
    for (ax, ay), (bx, by) in lines:
        ex, ey = bx - ax, by - ay
        want = want * (ex * (x[:, 1] - ay) - ey * (x[:, 0] - ax)) / math.hypot(ex, ey)
    torch.testing.assert_close(distance_product(pieces, x), want, rtol=1e-13, atol=0)
    # near a vertex the Laplacian of the product stays bounded (a trimmed segment's is not)
    near = torch.tensor([[2.0 - 1e-4 - 1e-5 * k, 1e-5] for k in range(3)], dtype=torch.float64)
    near.requires_grad_(True)
    phi = distance_product(pieces, near)
    (g,) = torch.autograd.grad(phi.sum(), near, create_graph=True)
    lap = sum(torch.autograd.grad(g[:, i].sum(), near, retain_graph=True)[0][:, i] for i in (0, 1))
    assert float(lap.abs().max()) < 10.0
    kinds = {k: ps[0]["kind"] for k, ps in boundary_pieces(DOMAINS["lshape"]).items()}
    assert sorted(k for k, v in kinds.items() if v == "segment") == ["edge2", "edge3"]


def test_a_union_or_a_mesh_has_no_distance_description():
    union = npde.Disk((0, 0), 1.0) | npde.Disk((1, 0), 1.0)
    assert boundary_pieces(union) is None


def test_a_constrained_field_meets_its_data_whatever_the_network():
    """Different Dirichlet data on different parts, blended, and initial value and velocity."""
    box = npde.Rectangle((0.0, 0.0), (1.0, 1.0))
    p = npde.Problem(
        box,
        npde.Poisson(f=1.0),
        [
            npde.Dirichlet(lambda x: torch.sin(PI * x[:, 1]), on="x_min"),
            npde.Dirichlet(0.0, on=["x_max", "y_min"]),
            npde.Neumann(0.0, on="y_max"),
        ],
    )
    plan = plan_constraints(p)
    assert plan.built_in == (True, True, False)
    lift, _ = fit_lift(p, plan.lift, plan.built_in, plan.degrees)
    net = plan.wrap(InputScaling(npde.Siren(16, 2).build(2), [0, 0], [1, 1]).double(), lift)
    y = torch.linspace(0.05, 0.95, 7, dtype=torch.float64)
    with torch.no_grad():
        left = net(torch.stack([torch.zeros_like(y), y], 1))[:, 0]
        right = net(torch.stack([torch.ones_like(y), y], 1))[:, 0]
    assert torch.allclose(left, torch.sin(PI * y), atol=1e-9)
    assert float(right.abs().max()) < 1e-9

    wave = npde.Problem(
        npde.SpaceTime(npde.Interval(0.0, 1.0), (0.0, 2.0)),
        npde.Wave(c=1.0),
        [
            npde.Dirichlet(0.0),
            npde.Initial(lambda x: torch.sin(PI * x[:, 0])),
            npde.InitialVelocity(lambda x: PI * torch.sin(PI * x[:, 0])),
        ],
    )
    plan = plan_constraints(wave)
    assert plan.built_in == (True, True, True) and plan.time["order"] == 2
    lift, rec = fit_lift(wave, plan.lift, plan.built_in, plan.degrees)
    assert rec["relative_defect"] < 1e-10
    net = plan.wrap(InputScaling(npde.Siren(16, 2).build(2), [0, 0], [1, 2]).double(), lift)
    x0 = torch.stack([torch.linspace(0, 1, 9, dtype=torch.float64), torch.zeros(9)], 1)
    x0.requires_grad_(True)
    u = net(x0)[:, 0]
    ut = torch.autograd.grad(u.sum(), x0)[0][:, 1]
    assert torch.allclose(u, torch.sin(PI * x0[:, 0]), atol=1e-10)
    assert torch.allclose(ut, PI * torch.sin(PI * x0[:, 0]), atol=1e-8)


def test_a_constrained_solution_round_trips_through_its_file(tmp_path, capsys):
    p = _holes_problem()
    sol = npde.solve(
        p,
        npde.Siren(width=12, depth=2, w0=1.0),
        npde.SobolSampler(n_interior=200, n_boundary=100),
        npde.Trainer(adam_steps=0, lbfgs_steps=0, gauss_newton_steps=15),
    )
    assert sol.settings["lift_fit"]["relative_defect"] < 1e-11
    path = sol.save(tmp_path / "h.h5")
    field = npde.load(path)
    x = p.domain.interior(np.random.default_rng(3).random((50, 2)))
    assert np.array_equal(field(x), sol(x))
    b = p.domain.boundary(np.random.default_rng(4).random((100, 2))).points
    assert np.abs(field(b) - p.exact_values(b)).max() < 1e-10  # the data, met by construction
    assert field.record["architecture"]["constraint"]["built_in"] == [0]
    assert sol.errors()["relative_l2"] < 1e-3
    capsys.readouterr()
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "built in:    conditions[0] (hard constraint; lift: Chebyshev series of" in out
    assert "defaults:    SIREN 2x32" in out


def test_constraints_argument_is_checked():
    with pytest.raises(TypeError, match="constraints must be True or False"):
        npde.solve(_holes_problem(), constraints="yes")


def _constrained(problem, width=8, seed=0, corner=0.0):
    """``problem``'s constrained field with a random network (and corner weights)."""
    plan = plan_constraints(problem)
    lift, _ = fit_lift(problem, plan.lift, plan.built_in, plan.degrees)
    lo, hi = problem.domain.bounds
    torch.manual_seed(seed)
    inner = npde.Siren(width, 2, w0=3.0).build(problem.domain.dim)
    net = plan.wrap(InputScaling(inner, lo.tolist(), hi.tolist()).double(), lift)
    if corner:
        with torch.no_grad():
            net.corner_weights.fill_(corner)
            net.corner_lift.fill_(-0.4)  # as if fitted with the lift
    return net


_X2 = [0.13, 0.71, 0.42, 0.9, 0.27, 0.55, 0.8, 0.35]
_Y2 = [0.21, 0.33, 0.77, 0.12, 0.62, 0.48, 0.85, 0.28]


@pytest.mark.parametrize("name", sorted(DOMAINS))
@pytest.mark.parametrize(
    "plan",
    [
        DerivativePlan(gradient=True, second=("lap",)),
        DerivativePlan(gradient=False, second=("lap", (0, 1))),  # a form off the diagonal
        DerivativePlan(gradient=False, second=(LinearForm((2.0, -1.0), ((0.5, 0.0), (0.0, 0.0))),)),
    ],
)
def test_a_constrained_fields_fused_derivatives_are_autograds(name, plan):
    """The jet of a constrained field (network, lift, distance product, corner terms by the
    product rule) gives autograd's values and derivatives, on every domain."""
    domain = DOMAINS[name]
    problem = npde.Problem(
        domain,
        npde.Poisson(f=1.0),
        [npde.Dirichlet(lambda x: torch.exp(0.5 * x[:, 0]) * torch.cos(x[:, 1]))],
    )
    net = _constrained(problem, corner=0.6 if name == "lshape" else 0.0)
    if name == "lshape":
        assert len(net.corners) == 1
    lo, hi = domain.bounds
    pts = lo + (hi - lo) * np.stack([_X2, _Y2], 1)
    x = torch.as_tensor(pts[domain.contains(pts)], dtype=torch.float64)
    assert x.shape[0] >= 4
    check_fused(net, plan, x, domain.names)


@pytest.mark.parametrize("kind", ["heat", "wave"])
def test_fused_derivatives_of_a_constrained_evolution_field_are_autograds(kind):
    """Time factors of order one and two, a lift of the initial data, and the channels that
    the heat and wave residuals ask for (a time derivative as a first-order part)."""
    space = npde.Rectangle((0.0, 0.0), (1.0, 1.0))
    u0 = npde.Initial(lambda x: torch.sin(PI * x[:, 0]) * x[:, 1] * (1 - x[:, 1]))
    if kind == "heat":
        equation = npde.Heat(kappa=lambda x: 0.1 + 0.05 * x[:, 0], divergence_form=True)
        conditions = [npde.Dirichlet(0.0), u0]
    else:
        equation = npde.Wave(c=1.5)
        v0 = npde.InitialVelocity(lambda x: torch.sin(PI * x[:, 1]) * x[:, 0] * (1 - x[:, 0]))
        conditions = [npde.Dirichlet(0.0), u0, v0]
    problem = npde.Problem(npde.SpaceTime(space, (0.0, 0.5)), equation, conditions)
    net = _constrained(problem)
    assert net.time["order"] == (1 if kind == "heat" else 2)
    plan = residual_plan(problem, torch.float64, torch.device("cpu"))
    x = torch.as_tensor(np.stack([_X2, _Y2, [0.5 * v for v in _X2[::-1]]], 1))
    check_fused(net, plan, x, problem.domain.names, problem.time_index)


def test_fused_derivatives_need_the_jet_of_the_points():
    pieces = boundary_pieces(DOMAINS["box"])
    net = HardConstraint(npde.Siren(8, 2).build(2), sum(pieces.values(), []), 1.0, 1.0).double()
    j = input_jet(torch.rand(5, 2, dtype=torch.float64), torch.eye(2).unsqueeze(0))
    j = j.linear(torch.eye(2, dtype=torch.float64), None).sine()  # no longer the points
    with pytest.raises(ValueError, match="needs the jet of its input points"):
        net.jet(j)


def test_data_that_jump_where_parts_meet_stay_terms_of_the_loss(caplog):
    box = npde.Rectangle((0.0, 0.0), (1.0, 1.0))
    p = npde.Problem(  # 1 on the lid, 0 on the other sides: a jump at two corners
        box,
        npde.Poisson(f=0.0),
        [npde.Dirichlet(1.0, on="y_max"), npde.Dirichlet(0.0, on=["x_min", "x_max", "y_min"])],
    )
    small = npde.Trainer(adam_steps=0, lbfgs_steps=0, gauss_newton_steps=2)
    with caplog.at_level("WARNING", logger="neuralpde"):
        sol = npde.solve(p, npde.Siren(8, 2), npde.SobolSampler(64, 64), small)
    assert "could not be built into the field" in caplog.text
    assert "constraint" not in sol.architecture
    assert sol.settings["lift_fit"] is None


def test_corner_function_is_the_singular_solution_inside_half_its_radius_and_zero_beyond():
    (c,) = npde.Polygon(L_SHAPE).reentrant_corners()
    rng = np.random.default_rng(0)
    pts = npde.Polygon(L_SHAPE).interior(rng.random((4000, 2)))
    x = torch.as_tensor(pts, dtype=torch.float64)
    r = torch.sqrt((x**2).sum(dim=1))
    cut = corner_functions([c], x)[:, 0]
    whole = corner_functions([c], x, cut=False)[:, 0]
    torch.testing.assert_close(whole, singular(x), rtol=1e-12, atol=1e-14)
    inner, outer = r < 0.5, r >= 1.0
    assert inner.sum() > 100 and outer.sum() > 100
    torch.testing.assert_close(cut[inner], singular(x)[inner], rtol=1e-12, atol=1e-14)
    assert float(cut[outer].abs().max()) == 0.0
    between = ~inner & ~outer  # 0 < chi < 1, of the sign of the singular function
    assert bool(torch.all(cut[between].abs() <= singular(x)[between].abs() + 1e-15))


def test_corner_function_vanishes_on_the_whole_boundary():
    poly = npde.Polygon(L_SHAPE)
    (c,) = poly.reentrant_corners()
    b = poly.boundary(np.random.default_rng(1).random((2000, 2)))
    x = torch.as_tensor(b.points, dtype=torch.float64)
    assert float(corner_functions([c], x).abs().max()) < 1e-12


def _laplacian(f, x: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    g = torch.autograd.grad(f(x).sum(), x, create_graph=True)[0]
    return sum(torch.autograd.grad(g[:, i].sum(), x, retain_graph=True)[0][:, i] for i in range(2))


def test_corner_function_is_harmonic_where_its_cutoff_is_one_and_smooth_beyond():
    (c,) = npde.Polygon(L_SHAPE).reentrant_corners()
    near = torch.tensor([[-0.02, 0.01], [0.01, -0.03], [-0.3, -0.2]], dtype=torch.float64)
    lap = _laplacian(lambda x: corner_functions([c], x)[:, 0], near)
    assert float(lap.abs().max()) < 1e-9
    # in the cutoff's ring the Laplacian is finite and its finite-difference value agrees
    ring = torch.tensor([[-0.6, 0.1], [0.2, -0.7], [-0.5, -0.5]], dtype=torch.float64)
    lap = _laplacian(lambda x: corner_functions([c], x)[:, 0], ring)
    h = 1e-4

    def f(p):
        return corner_functions([c], p)[:, 0]

    fd = sum(
        (f(ring + h * e) - 2 * f(ring) + f(ring - h * e)) / h**2
        for e in torch.eye(2, dtype=torch.float64)
    )
    torch.testing.assert_close(lap.detach(), fd, rtol=1e-5, atol=1e-5)


def test_field_with_a_corner_term_meets_the_data_and_rebuilds_from_its_description():
    (c,) = npde.Polygon(L_SHAPE).reentrant_corners()
    c = {k: v for k, v in c.items() if k != "parts"}
    torch.manual_seed(0)
    net = npde.Siren(width=8, depth=1).build(2).double()
    pieces = [
        {"kind": "segment", "a": list(map(float, a)), "b": list(map(float, b))}
        for _, a, b in npde.Polygon(L_SHAPE).edges()
    ]
    field = HardConstraint(net, pieces, 1.0, 1.0, None, None, [c]).double()
    with torch.no_grad():
        field.corner_weights.fill_(0.7)
        field.corner_lift.fill_(-0.4)
    b = npde.Polygon(L_SHAPE).boundary(np.random.default_rng(2).random((300, 2)))
    xb = torch.as_tensor(b.points, dtype=torch.float64)
    # on the boundary only the fitted a·σ remains (the lift's series takes it off the data);
    # the trained corner term and the network vanish there
    with torch.no_grad():
        got = field(xb)[:, 0]
        want = -0.4 * corner_functions([c], xb, cut=False)[:, 0]
    assert float((got - want).abs().max()) < 1e-10
    arch = {"field": npde.Siren(width=8, depth=1).describe(), "in_features": 2}
    arch["constraint"] = field.describe()
    check_architecture(arch)
    again = build_field(arch).double()
    again.load_state_dict(field.state_dict())
    x = torch.as_tensor(npde.Polygon(L_SHAPE).interior(np.random.default_rng(3).random((50, 2))))
    torch.testing.assert_close(again(x), field(x))


@pytest.mark.parametrize(
    "corners, message",
    [
        ("x", "must be a list"),
        ([{"at": [0, 0], "start": 0.0, "angle": 1.0, "radius": 1.0}], "between pi and 2 pi"),
        ([{"at": [0], "start": 0.0, "angle": 4.0, "radius": 1.0}], "'at'"),
        ([{"at": [0, 0], "start": 0.0, "angle": 4.0, "radius": -1.0}], "'radius'"),
        ([{"at": [0, 0], "angle": 4.0, "radius": 1.0}], "'start'"),
    ],
)
def test_bad_corner_descriptions_are_refused_by_name(corners, message):
    arch = {
        "field": npde.Siren(width=8, depth=1).describe(),
        "in_features": 2,
        "constraint": {"pieces": [], "norm": 1.0, "scale": 1.0, "corners": corners},
    }
    with pytest.raises(ValueError, match=message):
        check_architecture(arch)


def test_the_fixed_parts_jets_are_kept_per_point_set_and_follow_the_lift(monkeypatch):
    """The jets of the parts that do not train are kept for the points they were taken at, and
    are taken again when the fitted corner coefficient (or the lift) changes; the store is
    bounded."""
    import neuralpde.fields.constraints as constraints
    from neuralpde.engine import bind_engine, field_values

    domain = DOMAINS["lshape"]
    problem = npde.Problem(domain, npde.Poisson(f=1.0), [npde.Dirichlet(lambda x: x[:, 0])])
    net = _constrained(problem, corner=0.6)
    plan = DerivativePlan(gradient=True, second=("lap",))
    x = torch.as_tensor([[0.2, 0.3], [0.7, 0.2], [0.3, 0.8], [0.45, 0.55]], dtype=torch.float64)
    fused = bind_engine(net, domain.names, None, plan)
    first = fused.values(net, x).full_gradient().detach()
    assert len(net._jet_cache) == 1
    torch.testing.assert_close(fused.values(net, x).full_gradient().detach(), first, rtol=0, atol=0)
    assert len(net._jet_cache) == 1  # served from the store
    with torch.no_grad():
        net.corner_lift.fill_(0.9)
    changed = fused.values(net, x).full_gradient().detach()
    xa = x.clone().requires_grad_(True)
    want = field_values(net, xa, domain.names, None, plan, "autograd").full_gradient()
    torch.testing.assert_close(changed, want.detach(), rtol=1e-10, atol=1e-10)
    assert float((changed - first).abs().max()) > 1e-3
    monkeypatch.setattr(constraints, "_JET_CACHE_ELEMENTS", 200)
    for k in range(5):  # other point sets: the oldest entries go
        fused.values(net, x + 0.01 * (k + 1))
    kept = sum(a.numel() + b.numel() for a, b in net._jet_cache.values())
    assert 1 <= len(net._jet_cache) <= 5 and kept <= 200
