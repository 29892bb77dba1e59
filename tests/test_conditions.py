"""Boundary and initial conditions (:mod:`neuralpde.conditions`).

Condition kinds are open: a kind states where its points come from and what its loss term
measures (``where`` and ``defect``, from ``WHERE`` and ``DEFECTS``) and answers the rest itself;
sampling, the loss and the checks ask it, and name no condition class. Robin's arguments, periodic
pairs and the weights of every condition are checked."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
import torch
from torch import nn

import neuralpde as npde
from neuralpde.checks import ProblemWarning, check_problem
from neuralpde.conditions import DEFECTS, WHERE, BoundaryCondition, ValueCondition, condition_class
from neuralpde.problem import determined_up_to_a_constant
from neuralpde.sampling import SobolSampler
from neuralpde.training import loss_terms, make_batch

SQUARE = npde.Rectangle((0, 0), (1, 1))
BUILT_IN = (
    npde.Dirichlet,
    npde.Neumann,
    npde.Robin,
    npde.Periodic,
    npde.Initial,
    npde.InitialVelocity,
    npde.Observations,
)


@dataclass(frozen=True)
class Flux(BoundaryCondition):
    """A kind written here and nowhere else: the outward flux on the parts of ``on``."""

    defect: ClassVar[str | None] = "normal"
    pins_constant: ClassVar[bool] = False

    def flux(self, points: torch.Tensor) -> torch.Tensor:
        return self.target(points)


class Sensors(npde.Observations):
    """A subclass inherits its kind's answers (along the MRO)."""


class Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)[:, None]


def u(x):
    return torch.sin(2 * x[:, 0]) * torch.cos(x[:, 1]) + x[:, 0] * x[:, 1]


def terms(problem):
    draw = SobolSampler(128, 256, 64).draw(problem, 3)
    batch = make_batch(problem, draw, torch.float64, "cpu")
    return {k: float(v.detach()) for k, v in loss_terms(Fn(u), problem, batch)[1].items()}, draw


def test_the_built_in_kinds_use_every_where_and_defect():
    assert {k.where for k in BUILT_IN} == set(WHERE)
    assert {k.defect for k in BUILT_IN} == set(DEFECTS)


def test_a_new_kind_is_sampled_and_measured_without_edits_elsewhere():
    mine = npde.Problem(SQUARE, npde.Poisson(1.0), [Flux(0.5, on="x_min"), npde.Dirichlet(u)])
    theirs = npde.Problem(
        SQUARE, npde.Poisson(1.0), [npde.Neumann(0.5, on="x_min"), npde.Dirichlet(u)]
    )
    (t_mine, d_mine), (t_theirs, d_theirs) = terms(mine), terms(theirs)
    assert t_mine["flux_0"] == t_theirs["neumann_0"] > 0
    for a, b in zip(d_mine.condition_points, d_theirs.condition_points, strict=True):
        np.testing.assert_array_equal(a, b)
    # the checks ask it too: the parts it holds, its label, its flux, its constant
    with pytest.warns(ProblemWarning, match=r"conditions\[0\] Flux\(0.5\) and conditions\[1\]"):
        check_problem(mine)
    bad = npde.Problem(SQUARE, npde.Poisson(1.0), [Flux(0.0)])
    assert bad.determined_up_to_a_constant
    with pytest.raises(ValueError, match="is pure Neumann but incompatible"):
        check_problem(bad)
    desc = {"equation": {"type": "Poisson"}, "conditions": [{"type": "Flux"}]}
    assert determined_up_to_a_constant(desc, None)


def test_a_subclass_inherits_its_kind():
    pts, vals = np.array([[0.25, 0.5], [0.75, 0.125]]), np.array([0.3, -0.2])
    eq = npde.Poisson(1.0)
    base = npde.Problem(SQUARE, eq, [npde.Dirichlet(u), npde.Observations(pts, vals)])
    sub = npde.Problem(SQUARE, eq, [npde.Dirichlet(u), Sensors(pts, vals)])
    assert Sensors.where == "points" and Sensors.defect == "value"
    assert terms(sub)[0]["sensors_1"] == terms(base)[0]["observations_1"] > 0
    assert condition_class("Sensors") is Sensors


def test_a_kind_outside_the_vocabulary_is_refused_when_defined():
    with pytest.raises(TypeError, match=r"Odd.where must be one of \('boundary'"):

        class Odd(ValueCondition):
            where: ClassVar[str | None] = "inside"

    with pytest.raises(TypeError, match=r"Odder.defect must be one of \('value'"):

        class Odder(BoundaryCondition):
            defect: ClassVar[str | None] = "laplacian"


def test_a_condition_of_no_kind_has_no_sampling_rule():
    problem = npde.Problem(SQUARE, npde.Poisson(1.0), [npde.Dirichlet(0.0), ValueCondition(1.0)])
    with pytest.raises(TypeError, match="no sampling rule for ValueCondition: its where is None"):
        SobolSampler(16, 16).draw(problem, 0)


def test_periodic_and_observations_hold_no_value():
    assert list(inspect.signature(npde.Periodic).parameters) == ["part_a", "part_b", "weight"]
    assert list(inspect.signature(npde.Observations).parameters) == ["points", "values", "weight"]
    per, obs = npde.Periodic("x_min", "x_max"), npde.Observations([[0.5, 0.5]], [1.0])
    assert not hasattr(per, "value") and not hasattr(obs, "value")
    assert per.coefficients() == {} and obs.coefficients() == {}
    x = torch.zeros(6, 2, dtype=torch.float32)
    assert per.target(x).shape == (3,) and per.target(x).dtype == torch.float32
    assert obs.target(x).tolist() == [1.0]


def test_descriptions_and_fingerprints_are_those_files_already_hold():
    """Periodic and Observations lost a meaningless ``value``; what files store is unchanged
    (the fingerprint below is that of the release in which they had one)."""
    problem = npde.Problem(
        SQUARE,
        npde.Poisson(1.0),
        [
            npde.Periodic("x_min", "x_max", weight=2.0),
            npde.Dirichlet(0.0, on=["y_min", "y_max"]),
            npde.Observations([[0.5, 0.25], [0.1, 0.9]], [1.0, -2.0]),
        ],
        name="kinds",
    )
    assert problem.describe()["conditions"] == [
        {"type": "Periodic", "parts": ["x_min", "x_max"], "weight": 2.0},
        {"type": "Dirichlet", "value": "0.0", "weight": 1.0, "on": ["y_min", "y_max"]},
        {"type": "Observations", "count": 2, "weight": 1.0},
    ]
    assert problem.fingerprint == (
        "a0b690e3f861b06dfc78f62cefb8a0beedb1fd32f54a15ba8d13632c55cc7d04"
    )


def test_condition_class_names_the_kinds_a_description_names():
    for kind in BUILT_IN:
        assert condition_class(kind.__name__) is kind
    assert condition_class("Flux") is Flux
    assert condition_class("SomethingNew") is None and condition_class(None) is None


# -- Robin's arguments, periodic pairs and weights -------------------------------------------------


def test_robin_takes_value_a_b_on_positionally():
    # as documented, Robin(value, a, b, on): the second number is a, not the loss weight
    r = npde.Robin(1.0, 2.0, 0.5, "x_min")
    assert (r.value, r.a, r.b, r.on, r.weight) == (1.0, 2.0, 0.5, ("x_min",), 1.0)
    assert npde.Robin(1.0, 3.0) == npde.Robin(1.0, a=3.0, b=1.0)
    assert npde.Robin(0.0, on="x_max", weight=4.0).weight == 4.0
    assert npde.Robin(0.0, 1.0, 2.0).describe()["b"] == npde.Robin(0.0, b=2.0).describe()["b"]


def test_periodic_errors():
    with pytest.raises(ValueError, match="must pair opposite faces"):
        npde.Problem(SQUARE, npde.Poisson(), [npde.Periodic("x_min", "y_max")])
    with pytest.raises(ValueError, match="two different parts"):
        npde.Periodic("x_min", "x_min")
    with pytest.raises(ValueError, match="part_b must be a boundary part name"):
        npde.Periodic("x_min", "")


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
