"""Whether a problem fixes its solution only up to an additive constant: a typed decision, from
the conditions' ``pins_constant`` and the equation's ``blind_to_constants``, asked of a live
problem (``Problem.determined_up_to_a_constant``) and of its description, as a file holds it
(``neuralpde.problem.determined_up_to_a_constant``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import neuralpde as npde
from neuralpde.conditions import (
    Condition,
    Dirichlet,
    Initial,
    InitialVelocity,
    Neumann,
    Observations,
    Periodic,
    Robin,
)
from neuralpde.equations import Custom, Equation, Heat, Helmholtz, Poisson, Wave
from neuralpde.operators import laplacian
from neuralpde.problem import determined_up_to_a_constant

SQUARE = npde.Rectangle((0, 0), (1, 1))
SLAB = npde.SpaceTime(npde.Interval(0, 1), t_span=(0, 1))
OBSERVED = Observations(np.array([[0.5, 0.5]]), np.array([0.0]))


def _cases() -> list[tuple[str, npde.Problem, bool]]:
    """(label, problem, whether it is determined only up to a constant)."""
    p = Poisson(1.0)
    return [
        ("Poisson, Neumann everywhere", npde.Problem(SQUARE, p, [Neumann(0.0)]), True),
        (
            "Poisson, Neumann on each side",
            npde.Problem(SQUARE, p, [Neumann(0.0, on=["x_min", "x_max", "y_min", "y_max"])]),
            True,
        ),
        (
            "Poisson, Neumann and one Dirichlet side",
            npde.Problem(
                SQUARE,
                p,
                [Neumann(0.0, on=["x_min", "x_max", "y_min"]), Dirichlet(0.0, on="y_max")],
            ),
            False,
        ),
        ("Poisson, Dirichlet", npde.Problem(SQUARE, p, [Dirichlet(0.0)]), False),
        ("Poisson, Robin a=0", npde.Problem(SQUARE, p, [Robin(0.0, a=0.0, b=2.0)]), True),
        ("Poisson, Robin int a=0", npde.Problem(SQUARE, p, [Robin(0.0, a=0, b=1.0)]), True),
        ("Poisson, Robin a=1", npde.Problem(SQUARE, p, [Robin(0.0, a=1.0, b=2.0)]), False),
        (
            "Poisson, Robin callable a",
            npde.Problem(SQUARE, p, [Robin(0.0, a=lambda x: x[:, 0], b=1.0)]),
            False,
        ),
        (
            "Poisson, periodic in x, Neumann in y",
            npde.Problem(
                SQUARE,
                p,
                [Periodic("x_min", "x_max"), Neumann(0.0, on=["y_min", "y_max"])],
            ),
            True,
        ),
        (
            "Poisson, periodic in x and y",
            npde.Problem(SQUARE, p, [Periodic("x_min", "x_max"), Periodic("y_min", "y_max")]),
            True,
        ),
        (
            "Poisson, Robin a=0 and Robin a=1",
            npde.Problem(
                SQUARE,
                p,
                [Robin(0.0, a=0.0, on=["x_min", "x_max"]), Robin(0.0, on=["y_min", "y_max"])],
            ),
            False,
        ),
        (
            "Poisson, Neumann, Observations",
            npde.Problem(SQUARE, p, [Neumann(0.0), OBSERVED]),
            False,
        ),
        ("Poisson, no conditions", npde.Problem(SQUARE, p, []), False),
        ("Helmholtz, Neumann", npde.Problem(SQUARE, Helmholtz(k=2.0), [Neumann(0.0)]), False),
        (
            "Custom Laplacian, Neumann",
            npde.Problem(SQUARE, Custom(lambda u, x: -laplacian(u) - 1.0), [Neumann(0.0)]),
            False,
        ),
        ("Heat, Neumann", npde.Problem(SLAB, Heat(), [Neumann(0.0), Initial(0.0)]), False),
        (
            "Wave, Neumann",
            npde.Problem(SLAB, Wave(), [Neumann(0.0), Initial(0.0), InitialVelocity(0.0)]),
            False,
        ),
        ("Poisson in space-time, Neumann", npde.Problem(SLAB, p, [Neumann(0.0)]), False),
    ]


CASES = _cases()
IDS = [label for label, _, _ in CASES]


@pytest.mark.parametrize(("label", "problem", "free"), CASES, ids=IDS)
def test_a_live_problem_answers(label, problem, free):
    assert problem.determined_up_to_a_constant is free, label


@pytest.mark.parametrize(("label", "problem", "free"), CASES, ids=IDS)
def test_a_description_answers_alike(label, problem, free):
    """Live, and read back as a file stores it (JSON), the description gives the same answer."""
    desc = problem.describe()
    stored = json.loads(json.dumps(desc, default=str))
    for d in (desc, stored):
        assert determined_up_to_a_constant(d, problem.time_index) is free, label


def test_the_conditions_say_whether_they_pin_the_constant():
    assert Condition.pins_constant and Dirichlet.pins_constant and Initial.pins_constant
    assert Observations.pins_constant
    assert not Neumann.pins_constant and not Periodic.pins_constant
    assert not InitialVelocity.pins_constant  # du/dt(x, t0) holds for u + c too
    assert not Robin(0.0, a=0.0).pins_constant
    assert not Robin(1.0, a=-0.0, b=3.0).pins_constant
    assert Robin(0.0, a=1.0).pins_constant
    assert Robin(0.0, a=1.0, b=0.0).pins_constant  # a Dirichlet one
    assert Robin(0.0, a=lambda x: 0 * x[:, 0]).pins_constant  # a callable is not inspected
    assert OBSERVED.pins_constant and Dirichlet(0.0).pins_constant


def test_only_poisson_is_blind_to_constants():
    assert Poisson.blind_to_constants and Poisson(1.0).blind_to_constants
    for eq in (Equation, Heat, Wave, Helmholtz, Custom):
        assert not eq.blind_to_constants, eq.__name__


def test_the_class_attributes_are_not_described():
    """``pins_constant`` and ``blind_to_constants`` are class-level answers, not dataclass
    fields: a problem's description (and so its files and fingerprints) is unchanged."""
    assert Dirichlet(0.0).describe() == {
        "type": "Dirichlet",
        "value": "0.0",
        "weight": 1.0,
        "on": "boundary",
    }
    assert set(Robin(0.0, a=0.0).describe()) == {"type", "value", "weight", "on", "a", "b"}
    assert set(Poisson(1.0).describe()) == {"type", "latex", "f"}


@pytest.mark.parametrize(
    ("conditions", "free"),
    [
        ([{"type": "Neumann"}], True),
        ([{"type": "Neumann"}, {"type": "Periodic", "parts": ["x_min", "x_max"]}], True),
        ([{"type": "Robin", "a": "0.0"}], True),
        ([{"type": "Robin", "a": "0"}], True),
        ([{"type": "Robin", "a": "-0.0"}], True),
        ([{"type": "Robin", "a": "1.0"}], False),
        ([{"type": "Robin", "a": "nan"}], False),
        ([{"type": "Robin", "a": "lambda x: 0 * x[:, 0]"}], False),  # a callable's source
        ([{"type": "Robin"}], False),  # no a: nothing says it is 0
        ([{"type": "Neumann"}, {"type": "Dirichlet"}], False),
        ([{"type": "Neumann"}, {"type": "Observations", "count": 1}], False),
        ([{"type": "Neumann"}, {"type": "SomethingNew"}], False),  # unknown: pins
        ([], False),
    ],
)
def test_a_description_decides_by_the_classes_its_types_name(conditions, free):
    desc = {"equation": {"type": "Poisson"}, "conditions": conditions}
    assert determined_up_to_a_constant(desc, None) is free
    # not steady, or not a Poisson equation: determined
    assert not determined_up_to_a_constant(desc, 2)
    for eq in ("Helmholtz", "Custom", "Heat", "Wave", "SomethingNew"):
        other = {**desc, "equation": {"type": eq}}
        assert not determined_up_to_a_constant(other, None)


def test_an_empty_description_is_determined():
    assert not determined_up_to_a_constant({}, None)


def test_a_subclass_inherits_its_answer():
    """A live problem asks its objects' classes, so a subclass answers like its base."""

    class Flux(Neumann):
        pass

    problem = npde.Problem(SQUARE, Poisson(1.0), [Flux(0.0)])
    assert problem.determined_up_to_a_constant
    observed = npde.Problem(SQUARE, Poisson(1.0), [Flux(0.0), OBSERVED])
    assert not observed.determined_up_to_a_constant
