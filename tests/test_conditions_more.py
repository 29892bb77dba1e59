"""Robin, periodic and observation conditions: the exact solution zeroes their loss terms."""

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


def test_robin_takes_value_a_b_on_positionally():
    # as documented, Robin(value, a, b, on): the second number is a, not the loss weight
    r = npde.Robin(1.0, 2.0, 0.5, "x_min")
    assert (r.value, r.a, r.b, r.on, r.weight) == (1.0, 2.0, 0.5, ("x_min",), 1.0)
    assert npde.Robin(1.0, 3.0) == npde.Robin(1.0, a=3.0, b=1.0)
    assert npde.Robin(0.0, on="x_max", weight=4.0).weight == 4.0
    assert npde.Robin(0.0, 1.0, 2.0).describe()["b"] == npde.Robin(0.0, b=2.0).describe()["b"]


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


def test_periodic_errors():
    with pytest.raises(ValueError, match="must pair opposite faces"):
        npde.Problem(SQUARE, npde.Poisson(), [npde.Periodic("x_min", "y_max")])
    with pytest.raises(ValueError, match="two different parts"):
        npde.Periodic("x_min", "x_min")
    with pytest.raises(ValueError, match="part_b must be a boundary part name"):
        npde.Periodic("x_min", "")


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


def test_weights_are_positive_finite_numbers_numpy_scalars_included():
    for w, expected in (
        (np.float32(10), 10.0),
        (np.int64(3), 3.0),
        (np.float64(2.5), 2.5),
        (4, 4.0),
    ):
        c = npde.Dirichlet(0.0, weight=w)
        assert type(c.weight) is float and c.weight == expected
    assert npde.Periodic("x_min", "x_max", np.int64(3)).weight == 3.0
    assert npde.Observations([[0.5, 0.5]], [1.0], weight=np.float32(2)).weight == 2.0
    for w in (float("inf"), -float("inf"), float("nan"), 0, -1.0, np.float32(0)):
        with pytest.raises(
            ValueError, match=r"^Neumann.weight must be a positive finite number, got "
        ):
            npde.Neumann(0.0, weight=w)
    with pytest.raises(
        ValueError, match=r"^Periodic.weight must be a positive finite number, got inf$"
    ):
        npde.Periodic("x_min", "x_max", float("inf"))
    for w, shown in ((True, "bool True"), (np.bool_(True), "bool np.True_"), ("10", "str '10'")):
        with pytest.raises(
            TypeError,
            match=r"^Robin.weight must be a positive finite number \(an int or float, NumPy "
            rf"scalars too\), got {shown}$",
        ):
            npde.Robin(0.0, weight=w)
