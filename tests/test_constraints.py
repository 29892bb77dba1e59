"""Hard constraints, the Chebyshev lift and the settings derived from a problem."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.cli import main
from neuralpde.defaults import derive_settings, plan_constraints
from neuralpde.fields import InputScaling
from neuralpde.fields.chebyshev import (
    ChebyshevSeries,
    chebyshev_basis,
    index_set,
    total_degree_set,
)
from neuralpde.fields.constraints import boundary_pieces, distance_product
from neuralpde.training.lift import fit_lift

PI = math.pi

DOMAINS = {
    "box": npde.Rectangle((0.0, -1.0), (2.0, 1.0)),
    "disk": npde.Disk((0.5, 0.5), 0.4),
    "lshape": npde.Polygon([(0, 0), (1, 0), (1, 0.5), (0.5, 0.5), (0.5, 1), (0, 1)]),
    "holes": npde.Rectangle((0.0, 0.0), (1.0, 1.0))
    - npde.Disk((0.3, 0.3), 0.1)
    - npde.Disk((0.7, 0.6), 0.15),
}


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


def test_chebyshev_derivatives_match_autograd():
    idx = total_degree_set([7, 5])
    s = torch.rand(50, 2, dtype=torch.float64) * 2 - 1
    c = torch.randn(idx.shape[0], dtype=torch.float64)
    x = s.clone().requires_grad_(True)
    v = chebyshev_basis(x, idx) @ c
    g = torch.autograd.grad(v.sum(), x)[0]
    for axis in (0, 1):
        assert torch.allclose(chebyshev_basis(s, idx, axis) @ c, g[:, axis], atol=1e-11)
    # T_3(s) = 4 s^3 - 3 s on the first axis
    t3 = chebyshev_basis(s, torch.tensor([[3, 0]]))[:, 0]
    assert torch.allclose(t3, 4 * s[:, 0] ** 3 - 3 * s[:, 0], atol=1e-14)
    assert total_degree_set([30, 30], limit=200).shape[0] <= 200


def test_the_series_derivatives_by_recurrence_are_autograds_of_the_plain_sum():
    torch.manual_seed(0)
    idx = index_set([6, 5, 3])
    coef = torch.randn(idx.shape[0], dtype=torch.float64)
    series = ChebyshevSeries([0, -1, 0], [2, 1, 0.5], idx, coef).double()
    box = torch.tensor([2.0, 2.0, 0.5], dtype=torch.float64)
    x = torch.rand(20, 3, dtype=torch.float64) * box + torch.tensor([0.0, -1.0, 0.0])

    def derivatives(f, x):
        x = x.clone().requires_grad_(True)
        y = f(x)
        g = torch.autograd.grad(y.sum(), x, create_graph=True)[0]
        h = [torch.autograd.grad(g[:, i].sum(), x, retain_graph=True)[0] for i in range(3)]
        return y.detach(), g.detach(), torch.stack(h, 1)

    def plain(x):
        return chebyshev_basis(series.scaled(x), series.indices) @ series.coefficients

    for a, b in zip(derivatives(series, x), derivatives(plain, x), strict=True):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-9)
    with torch.no_grad():
        series.coefficients.mul_(2.0)  # new coefficients: nothing stale is reused
    assert torch.allclose(derivatives(series, x)[1], derivatives(plain, x)[1], rtol=1e-12)


def _holes_problem():
    def exact(x):
        return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1]) + x[:, 0] + x[:, 1]

    return npde.Problem(
        DOMAINS["holes"],
        npde.Poisson(f=lambda x: 2 * PI**2 * torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])),
        [npde.Dirichlet(exact)],
        exact=exact,
        name="holes",
    )


def test_the_fitted_lift_meets_smooth_data_to_round_off():
    p = _holes_problem()
    plan = plan_constraints(p)
    assert plan.lift_kind == "problem" and plan.built_in == (True,)
    lift, rec = fit_lift(p, plan.lift, plan.built_in, plan.degrees)
    assert rec["relative_defect"] < 1e-11
    b = torch.as_tensor(p.domain.boundary(np.random.default_rng(5).random((300, 2))).points)
    with torch.no_grad():
        assert float((lift(b) - p.exact(b)).abs().max()) < 1e-10


def test_lobatto_coefficients_interpolate_at_the_chebyshev_points():
    """The DCT-I coefficients reproduce a 2-D function at its Lobatto points, and a polynomial
    exactly (numpy's chebval2d as the independent evaluator)."""
    from neuralpde.training.lift import _lobatto_coefficients

    p, q = 12, 7
    s, r = np.cos(np.pi * np.arange(p + 1) / p), np.cos(np.pi * np.arange(q + 1) / q)
    f = lambda a, b: np.exp(a) * np.cos(2 * b) + a**3 * b  # noqa: E731
    c = _lobatto_coefficients(f(*np.meshgrid(s, r, indexing="ij")))
    a, b = np.meshgrid(s, r, indexing="ij")
    assert np.abs(np.polynomial.chebyshev.chebval2d(a, b, c) - f(a, b)).max() < 1e-13
    poly = _lobatto_coefficients(np.meshgrid(s, r, indexing="ij")[0] ** 3 * 1.0)
    assert abs(poly[3, 0] - 0.25) < 1e-14 and abs(poly[1, 0] - 0.75) < 1e-14
    assert np.abs(poly).sum() - 1.0 < 1e-13


def test_a_tensor_product_series_is_contracted_axis_by_axis_with_the_same_values():
    """A whole tensor-product set is evaluated by contraction; the same terms listed in another
    order take the term-by-term path: values, gradients and Hessians agree."""
    shape = (6, 4, 3)
    grids = torch.meshgrid(*[torch.arange(n) for n in shape], indexing="ij")
    idx = torch.stack([g.reshape(-1) for g in grids], dim=1)
    coef = torch.as_tensor(np.random.default_rng(1).normal(size=idx.shape[0]))
    lo, hi = [0.0, -1.0, 0.5], [2.0, 1.0, 3.0]
    fast = ChebyshevSeries(lo, hi, idx, coef).double()
    order = torch.randperm(idx.shape[0], generator=torch.Generator().manual_seed(0))
    slow = ChebyshevSeries(lo, hi, idx[order], coef[order]).double()
    assert fast.tensor_shape() == shape and slow.tensor_shape() is None
    x = torch.as_tensor(np.random.default_rng(2).uniform(lo, hi, (50, 3)))
    with torch.no_grad():
        assert torch.allclose(fast(x), slow(x), rtol=1e-12, atol=1e-12)
    derivs = []
    for series in (fast, slow):
        y = x.clone().requires_grad_(True)
        g = torch.autograd.grad(series(y).sum(), y, create_graph=True)[0]
        h = torch.stack(
            [torch.autograd.grad(g[:, i].sum(), y, retain_graph=True)[0] for i in range(3)], 1
        )
        derivs.append((g.detach(), h))
    assert torch.allclose(derivs[0][0], derivs[1][0], rtol=1e-11, atol=1e-11)
    assert torch.allclose(derivs[0][1], derivs[1][1], rtol=1e-10, atol=1e-10)


def test_a_sharp_initial_pulse_is_met_to_round_off_on_a_box():
    """A Gaussian of width 0.1 on [-1, 1]² needs degree ~90 per axis (8,000 terms): the
    interpolated lift meets it, and the series' time derivative is its autograd one."""
    pulse = lambda x: torch.exp(-(x[:, 0] ** 2 + x[:, 1] ** 2) / 0.02)  # noqa: E731
    p = npde.Problem(
        npde.SpaceTime(npde.Rectangle((-1.0, -1.0), (1.0, 1.0)), (0.0, 1.0)),
        npde.Wave(c=1.0),
        [npde.Dirichlet(0.0), npde.Initial(pulse), npde.InitialVelocity(0.0)],
    )
    plan = plan_constraints(p)
    lift, rec = fit_lift(p, plan.lift, plan.built_in, plan.degrees)
    assert rec["fit"] == "interpolation" and rec["relative_defect"] < 1e-12
    assert 60 <= rec["degrees"][0] <= 128 and rec["degrees"][2] == 0
    x = torch.as_tensor(np.random.default_rng(3).uniform(-1, 1, (200, 3)))
    x[:, 2] = 0.0
    with torch.no_grad():
        assert float((lift(x) - pulse(x)).abs().max()) < 1e-12
    y = x.clone().requires_grad_(True)
    g = torch.autograd.grad(lift(y).sum(), y)[0]
    assert torch.allclose(lift.derivative(x, 0), g[:, 0], atol=1e-9)


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


def test_derived_settings_follow_the_problems_scales():
    def poisson(freq):
        return npde.Problem(
            npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
            npde.Poisson(f=lambda x: torch.sin(freq * PI * x[:, 0]) * torch.sin(PI * x[:, 1])),
            [npde.Dirichlet(0.0)],
        )

    low, high = derive_settings(poisson(1)), derive_settings(poisson(6))
    assert low.field.w0_per_layer()[0] < high.field.w0_per_layer()[0]
    # -Δu = f with u = sin(πx) sin(πy) / (2π²): the scale of u (RMS 0.025) within a factor 3
    assert 0.025 / 3 < low.constraints.scale < 0.025 * 3
    assert low.dtype == torch.float64 and low.trainer.gauss_newton_steps > 0
    assert 60 <= low.trainer.seconds <= 600
    assert low.sampler.n_interior > sum(p.numel() for p in low.field.build(2).parameters())
    text = low.summary()
    assert "Levenberg-Marquardt float64" in text and "built-in conditions: 1" in text
    assert low.field.w0_inputs is None and high.field.w0_inputs is None  # one scale
    # data 8x faster along x than along y: each input gets its own omega_0
    fast = derive_settings(poisson(24))
    w = fast.field.w0_inputs
    assert w is not None and w[0] == fast.field.w0_per_layer()[0] and w[0] >= 8 * w[1]
    assert "w0=(" in fast.summary()


def test_points_follow_the_data_and_the_dimension():
    """Twice the parameters for smooth data, fine data in 2-D and data fine along one axis only;
    more for a front in a space-time volume, at most 8 per parameter."""

    def heat(sigma):
        bump = lambda x: torch.exp(-((x[:, 0] - 0.5) ** 2 + (x[:, 1] - 0.5) ** 2) / sigma**2)  # noqa: E731
        return npde.Problem(
            npde.SpaceTime(npde.Rectangle((0.0, 0.0), (1.0, 1.0)), t_span=(0.0, 1.0)),
            npde.Heat(kappa=0.05),
            [npde.Dirichlet(0.0), npde.Initial(lambda x: bump(x) * x[:, 0] * (1 - x[:, 0]))],
        )

    def parameters(settings, dim):
        return sum(p.numel() for p in settings.field.build(dim).parameters())

    smooth = derive_settings(heat(1.0))
    sharp = derive_settings(heat(0.07))
    assert smooth.sampler.n_interior == 2 * parameters(smooth, 3)
    assert 2 * parameters(sharp, 3) < sharp.sampler.n_interior <= 8 * parameters(sharp, 3)
    layers = npde.Problem(  # fine along x only: each point column resolves it
        npde.SpaceTime(npde.Rectangle((0.0, 0.0), (1.0, 1.0)), t_span=(0.0, 1.0)),
        npde.Heat(kappa=0.01),
        [npde.Dirichlet(0.0), npde.Initial(lambda x: torch.sin(10 * PI * x[:, 0]))],
    )
    s3 = derive_settings(layers)
    assert s3.field.w0_per_layer()[0] > 5
    assert s3.sampler.n_interior == 2 * parameters(s3, 3)
    fine_2d = npde.Problem(
        npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
        npde.Poisson(f=lambda x: torch.sin(10 * PI * x[:, 0]) * torch.sin(10 * PI * x[:, 1])),
        [npde.Dirichlet(0.0)],
    )
    s2 = derive_settings(fine_2d)
    assert s2.field.w0_per_layer()[0] > 5  # fine data ...
    assert s2.sampler.n_interior == 2 * parameters(s2, 2)  # ... resolved by 2 per parameter


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


def test_a_field_too_large_for_gauss_newton_trains_with_adam_then_lbfgs():
    from neuralpde.api import for_size

    derived = derive_settings(_holes_problem()).trainer
    assert for_size(derived, npde.Siren(width=32, depth=2), 2) is derived
    big = for_size(derived, npde.Siren(width=256, depth=3), 2)  # 132,353 parameters
    assert big.gauss_newton_steps == 0 and big.adam_steps > 0 and big.lbfgs_steps > 0
    assert big.seconds == derived.seconds
