"""The physics-informed loss (:mod:`neuralpde.training.loss`): Neumann, Robin, periodic and
observation terms vanish for the exact solution (normals with the right sign), a small mixed
solve reaches its band, and what a residual must return."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import neuralpde as npde
from neuralpde.checks import check_problem
from neuralpde.sampling import SobolSampler
from neuralpde.training import loss_terms, make_batch

PI = math.pi


def exact(x: torch.Tensor) -> torch.Tensor:
    """u = cos(πx/2) sin(πy) + x y; its derivatives are dudx and dudy below."""
    return torch.cos(PI * x[:, 0] / 2) * torch.sin(PI * x[:, 1]) + x[:, 0] * x[:, 1]


def dudx(x):
    return -PI / 2 * torch.sin(PI * x[:, 0] / 2) * torch.sin(PI * x[:, 1]) + x[:, 1]


def dudy(x):
    return PI * torch.cos(PI * x[:, 0] / 2) * torch.cos(PI * x[:, 1]) + x[:, 0]


def mixed_problem() -> npde.Problem:
    # -Δu = (π²/4 + π²) cos(πx/2) sin(πy); outward normals: -x on x_min, +y on y_max.
    return npde.Problem(
        npde.Rectangle((0, 0), (1, 1)),
        npde.Poisson(
            f=lambda x: (PI**2 / 4 + PI**2) * torch.cos(PI * x[:, 0] / 2) * torch.sin(PI * x[:, 1])
        ),
        [
            npde.Neumann(lambda x: -dudx(x), on="x_min", weight=10.0),
            npde.Neumann(lambda x: dudy(x), on="y_max", weight=10.0),
            npde.Dirichlet(exact, on=["x_max", "y_min"], weight=100.0),
        ],
        exact=exact,
        name="mixed",
    )


class Exact(nn.Module):
    def forward(self, x):
        return exact(x)[:, None]


def test_exact_solution_has_zero_loss_terms():
    """The exact solution zeroes every term: normals point outward with the right sign."""
    problem = mixed_problem()
    batch = make_batch(problem, SobolSampler(256, 512).draw(problem, seed=0), torch.float64, "cpu")
    _, terms = loss_terms(Exact(), problem, batch)
    for name, value in terms.items():
        assert float(value.detach()) < 1e-20, name
    # flipping the sign of one Neumann datum is caught
    flipped = npde.Problem(
        problem.domain,
        problem.equation,
        [npde.Neumann(lambda x: dudx(x), on="x_min"), *problem.conditions[1:]],
    )
    b2 = make_batch(flipped, SobolSampler(256, 512).draw(flipped, seed=0), torch.float64, "cpu")
    _, terms2 = loss_terms(Exact(), flipped, b2)
    assert float(terms2["neumann_0"].detach()) > 0.1


def test_neumann_on_space_time_uses_space_normals():
    problem = npde.Problem(
        npde.SpaceTime(npde.Interval(0, 1), (0, 1)),
        npde.Heat(kappa=1.0),
        [npde.Neumann(0.0), npde.Initial(lambda x: torch.cos(PI * x[:, 0]))],
        exact=lambda x: torch.exp(-(PI**2) * x[:, 1]) * torch.cos(PI * x[:, 0]),
    )

    class HeatExact(nn.Module):
        def forward(self, x):
            return problem.exact(x)[:, None]

    batch = make_batch(problem, SobolSampler(256, 128, 128).draw(problem, 1), torch.float64, "cpu")
    assert batch.condition_normals[0].shape == (len(batch.condition_points[0]), 1)
    _, terms = loss_terms(HeatExact(), problem, batch)
    assert all(float(v.detach()) < 1e-20 for v in terms.values())


@pytest.mark.slow
def test_small_mixed_solve_reaches_its_band():
    sol = npde.solve(
        mixed_problem(),
        npde.Siren(width=24, depth=2, w0=1.0),
        npde.SobolSampler(n_interior=256, n_boundary=256),
        npde.Trainer(adam_steps=100, lbfgs_steps=300, progress=False),
    )
    assert sol.error() < 1e-2


# -- Robin, periodic and observation terms ---------------------------------------------------------
# The exact solution zeroes their loss terms.


SQUARE = npde.Rectangle((0, 0), (1, 1))


class Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)[:, None]


def terms(problem, fn, seed=0):
    draw = SobolSampler(256, 512, 64).draw(problem, seed)
    batch = make_batch(problem, draw, torch.float64, "cpu")
    _, t = loss_terms(Fn(fn), problem, batch)
    return {k: float(v.detach()) for k, v in t.items()}, draw


def u_exact(x):
    return torch.cos(PI * x[:, 0] / 2) * torch.sin(PI * x[:, 1]) + x[:, 0] * x[:, 1]


def test_robin_term_vanishes_for_the_exact_solution():
    # at x = 0 the outward normal is -x: du/dn = -du/dx = -y (the cosine term's slope is 0)
    def g(x):
        return 2.0 * u_exact(x) - 0.5 * x[:, 1]

    problem = npde.Problem(
        SQUARE,
        npde.Poisson(0.0),
        [npde.Robin(g, a=2.0, b=0.5, on="x_min"), npde.Dirichlet(u_exact, on=["x_max"])],
    )
    t, _ = terms(problem, u_exact)
    assert t["robin_0"] < 1e-24 and t["dirichlet_1"] < 1e-24
    # a callable coefficient works the same
    problem_b = npde.Problem(
        SQUARE, npde.Poisson(0.0), [npde.Robin(g, a=lambda x: 2.0 + 0 * x[:, 0], b=0.5)]
    )
    tb, _ = terms(problem_b, u_exact)
    assert tb["robin_0"] > 1e-3  # only x_min is right; the other faces are not
    # with b = 0 the defect is a u - g = 0.5 y on x_min
    wrong = npde.Problem(SQUARE, npde.Poisson(0.0), [npde.Robin(g, a=2.0, b=0.0, on="x_min")])
    tw, draw_w = terms(wrong, u_exact)
    y = draw_w.condition_points[0][:, 1]
    assert np.all(draw_w.condition_points[0][:, 0] == 0.0)
    assert tw["robin_0"] == pytest.approx(float(np.mean((0.5 * y) ** 2)), rel=1e-9)


def test_periodic_pairs_opposite_faces():
    problem = npde.Problem(
        SQUARE,
        npde.Poisson(0.0),
        [npde.Periodic("x_min", "x_max"), npde.Dirichlet(0.0, on=["y_min", "y_max"])],
    )
    periodic, _ = terms(problem, lambda x: torch.sin(2 * PI * x[:, 0]) * torch.sin(PI * x[:, 1]))
    assert periodic["periodic_0"] < 1e-24
    not_periodic, draw = terms(problem, lambda x: x[:, 0] * torch.sin(PI * x[:, 1]))
    assert not_periodic["periodic_0"] > 0.1
    pts = draw.condition_points[0]
    half = len(pts) // 2
    assert np.all(pts[:half, 0] == 0.0) and np.all(pts[half:, 0] == 1.0)
    np.testing.assert_array_equal(pts[:half, 1], pts[half:, 1])
    check_problem(problem)  # both faces count as covered: no warning


def test_observations_are_matched_and_checked():
    pts = np.array([[0.25, 0.5], [0.75, 0.1], [0.5, 0.5]])
    obs = npde.Observations(pts, u_exact(torch.as_tensor(pts)).numpy(), weight=10.0)
    problem = npde.Problem(SQUARE, npde.Poisson(0.0), [npde.Dirichlet(u_exact), obs])
    t, _ = terms(problem, u_exact)
    assert t["observations_1"] < 1e-28
    t_off, _ = terms(problem, lambda x: u_exact(x) + 0.1)
    assert t_off["observations_1"] == pytest.approx(0.01, rel=1e-9)
    with pytest.raises(ValueError, match="lie outside the domain"):
        npde.Problem(SQUARE, npde.Poisson(), [npde.Observations([[2.0, 0.5]], [1.0])])
    with pytest.raises(ValueError, match="have 3 columns"):
        npde.Problem(SQUARE, npde.Poisson(), [npde.Observations([[0.5, 0.5, 0.1]], [1.0])])
    with pytest.raises(ValueError, match="one value per point"):
        npde.Observations([[0.5, 0.5]], [1.0, 2.0])
    # np.asarray(..., dtype=float) once read strings and bools as numbers, masks ignored
    with pytest.raises(ValueError, match=r"Observations.points must be an \(M, d\) array"):
        npde.Observations([["0.5", "0.5"]], [1.0])
    with pytest.raises(ValueError, match=r"Observations.values must be M numbers"):
        npde.Observations([[0.5, 0.5]], [True])
    with pytest.raises(TypeError, match="Observations.points must not be a masked array"):
        npde.Observations(np.ma.masked_array([[0.5, 0.5]], mask=[[0, 1]]), [1.0])
    with pytest.raises(TypeError, match="Observations.values must not be a masked array"):
        npde.Observations([[0.5, 0.5]], np.ma.masked_array([1.0], mask=[1]))
    assert obs.describe() == {"type": "Observations", "count": 3, "weight": 10.0}


# -- what a residual must return -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("residual", "got"),
    [
        (lambda u, x: None, "got NoneType"),
        (lambda u, x: 1.0, "got float"),
        (lambda u, x: (u - 1).detach().numpy(), "got ndarray .write the residual with torch"),
        (lambda u, x: (u > 0).long(), "got a tensor of dtype torch.int64"),
        (lambda u, x: u[:, None], r"got \(16, 1\)"),
    ],
)
def test_residual_that_is_not_a_float_tensor_per_point_is_refused_in_the_loss(residual, got):
    # the loss (what Trainer.fit trains on, without check_problem) says what the residual gave,
    # instead of failing on r.shape or training on a NumPy array it cannot differentiate
    square = npde.Rectangle((0, 0), (1, 1))
    p = npde.Problem(square, residual, [npde.Dirichlet(0.0)])
    points = npde.SobolSampler(n_interior=16, n_boundary=8).draw(p, 0)
    batch = make_batch(p, points, torch.float64, "cpu")
    net = npde.Siren(width=8, depth=1).build(2).double()
    with pytest.raises(
        ValueError, match=r"residual must return one value per point, \(16,\), a floating-point "
    ) as e:
        loss_terms(net, p, batch)
    assert e.match(got)


def test_residual_that_is_u_itself_is_accepted():
    # u = 0 in the domain: the residual u is the field's values, as u - 0 is
    square = npde.Rectangle((0, 0), (1, 1))
    p = npde.Problem(square, lambda u, x: u, [npde.Dirichlet(0.0)])
    npde.checks.check_problem(p)
    points = npde.SobolSampler(n_interior=16, n_boundary=8).draw(p, 0)
    batch = make_batch(p, points, torch.float64, "cpu")
    net = npde.Siren(width=8, depth=1).build(2).double()
    _, terms = loss_terms(net, p, batch)
    u = net(batch.interior)[:, 0].detach()
    assert float(terms["residual"].detach()) == pytest.approx(float((u**2).mean()), rel=1e-14)
