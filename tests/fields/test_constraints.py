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
from neuralpde.fields import InputScaling
from neuralpde.fields.constraints import boundary_pieces, distance_product
from neuralpde.training.lift import fit_lift

from ..constrained import DOMAINS, _holes_problem

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


def test_fused_derivatives_are_refused_for_a_constrained_field():
    with pytest.raises(ValueError, match=r"constraints=False \(neuralpde solve --soft\)"):
        npde.solve(_holes_problem(), trainer=npde.Trainer(derivatives="fused"))
    with pytest.raises(TypeError, match="constraints must be True or False"):
        npde.solve(_holes_problem(), constraints="yes")


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
