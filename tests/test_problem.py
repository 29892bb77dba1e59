"""Problems (:mod:`neuralpde.problem`): construction and clear errors, equations and
conditions that do not fit together, and whether a problem fixes its solution only up to an
additive constant."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

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


def test_evolution_equation_needs_space_time():
    with pytest.raises(ValueError, match="SpaceTime domain"):
        npde.Problem(SQUARE, npde.Heat(), [npde.Dirichlet()])


def test_heat_needs_initial_condition():
    with pytest.raises(ValueError, match="needs an Initial condition"):
        npde.Problem(SLAB, npde.Heat(), [npde.Dirichlet()])


def test_wave_needs_initial_velocity():
    with pytest.raises(ValueError, match="InitialVelocity"):
        npde.Problem(SLAB, npde.Wave(), [npde.Dirichlet(), npde.Initial(0.0)])
    npde.Problem(SLAB, npde.Wave(), [npde.Dirichlet(), npde.Initial(0.0), npde.InitialVelocity()])


def test_initial_data_beyond_the_time_order_are_refused():
    # u_t of the heat equation at t0 follows from u0; a steady equation has no initial data
    with pytest.raises(
        ValueError,
        match=r"^Heat is first order in time \(time_order=1\), so an InitialVelocity condition "
        r"over-determines it: drop its InitialVelocity condition$",
    ):
        npde.Problem(
            SLAB, npde.Heat(), [npde.Dirichlet(), npde.Initial(0.0), npde.InitialVelocity()]
        )
    with pytest.raises(
        ValueError, match=r"^Poisson has no time derivative \(time_order=0\), so an Initial "
    ):
        npde.Problem(SLAB, npde.Poisson(), [npde.Dirichlet(), npde.Initial(0.0)])
    with pytest.raises(ValueError, match=r"write it as npde.Custom\(fn, time_order=1\) if it"):
        npde.Problem(SLAB, lambda u, x: -laplacian(u), [npde.Dirichlet(), npde.Initial(0.0)])
    fn = Custom(lambda u, x: -laplacian(u), time_order=1)
    with pytest.raises(ValueError, match=r"npde.Custom\(fn, time_order=2\) if it takes ∂²u/∂t²$"):
        npde.Problem(SLAB, fn, [npde.Dirichlet(), npde.Initial(0.0), npde.InitialVelocity()])
    npde.Problem(SLAB, npde.Heat(), [npde.Dirichlet(), npde.Initial(0.0)])
    npde.Problem(SLAB, npde.Poisson(), [npde.Dirichlet()])


def test_two_initial_conditions_of_one_kind_are_refused():
    # u(x, t0) takes one value: two Initial data left training a compromise between them and
    # the finite-difference reference the last one
    with pytest.raises(
        ValueError,
        match=r"^2 Initial conditions \(conditions\[1\] and conditions\[2\]\) each set u\(x, t0\)",
    ):
        npde.Problem(SLAB, npde.Heat(), [npde.Dirichlet(), npde.Initial(0.0), npde.Initial(1.0)])
    with pytest.raises(ValueError, match=r"^2 InitialVelocity conditions \(conditions\[2\] and "):
        npde.Problem(
            SLAB,
            npde.Wave(),
            [npde.Dirichlet(), npde.Initial(0.0), npde.InitialVelocity(), npde.InitialVelocity(1)],
        )


def test_initial_condition_on_steady_domain():
    with pytest.raises(ValueError, match="Initial conditions need a SpaceTime"):
        npde.Problem(SQUARE, npde.Poisson(), [npde.Initial(0.0)])


def test_unknown_boundary_part_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown boundary part\(s\) \['left'\].*x_max"):
        npde.Problem(SQUARE, npde.Poisson(), [npde.Dirichlet(0.0, on="left")])


def test_plain_residual_function_becomes_custom():
    p = npde.Problem(SQUARE, lambda u, x: -laplacian(u) - 1.0, [npde.Dirichlet()])
    assert isinstance(p.equation, Custom) and p.equation.time_order == 0
    assert p.describe()["equation"]["type"] == "Custom"
    # a NumPy integer is taken as the int it is
    eq = Custom(lambda u, x: -laplacian(u), time_order=np.int64(1))
    assert type(eq.time_order) is int and eq.time_order == 1


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"domain": "square"}, TypeError, "domain must be a neuralpde Domain"),
        ({"equation": 3}, TypeError, "equation must be an Equation"),
        ({"conditions": ["u=0"]}, TypeError, "conditions must be Condition"),
        ({"exact": 1.0}, TypeError, "exact must be a callable"),
        ({"name": ""}, ValueError, "name must be a non-empty string"),
    ],
)
def test_bad_problem_arguments(kwargs, exc, match):
    args = {"domain": SQUARE, "equation": npde.Poisson(), "conditions": [npde.Dirichlet()]}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        npde.Problem(**args)


@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (lambda: npde.Poisson(f="x**2"), TypeError, "Poisson.f must be a number or a callable"),
        (lambda: npde.Helmholtz(k=float("nan")), ValueError, "Helmholtz.k must be finite"),
        (lambda: npde.Heat(kappa=None), TypeError, "Heat.kappa"),
        (
            lambda: npde.Heat(kappa=[lambda x: x[:, 0], 1.0]),
            TypeError,
            r"Heat.kappa as a tensor must be .* matrix of numbers .*, got \[<function",
        ),
        (lambda: npde.Heat(kappa=[[1.0, 0.2], [0.2]]), TypeError, r"got \[\[1.0, 0.2\], \[0.2\]\]"),
        (lambda: npde.Wave(c=True), TypeError, "Wave.c"),
        (lambda: npde.Dirichlet([1, 2]), TypeError, "Dirichlet.value"),
        (lambda: npde.Dirichlet(0.0, weight=-1), ValueError, "weight must be a positive"),
        (lambda: npde.Dirichlet(0.0, on=[]), ValueError, "on must be a boundary part"),
        (
            lambda: npde.Robin(1.0, 2.0, 3.0, 4.0),
            ValueError,
            r"Robin.on must be a boundary part name or a list of them, got 4.0; Robin takes "
            r"\(value, a, b, on\)",
        ),
        (lambda: npde.Neumann(0.0, 1.0, 2), ValueError, r"Neumann.on .* got 2; Neumann takes"),
        (lambda: npde.Dirichlet(0.0, on=b"x_min"), ValueError, "Dirichlet.on must be a boundary"),
        (
            lambda: npde.Dirichlet(0.0, "x_min"),
            TypeError,
            r"Dirichlet.weight .* got str 'x_min'; Dirichlet takes \(value, weight, on\): name the "
            r"boundary parts by keyword, on='x_min'",
        ),
        (lambda: npde.Neumann(1.0, ["x_min"]), TypeError, r"Neumann takes .* on=\['x_min'\]"),
        (lambda: Custom(None), TypeError, "Custom.fn must be a callable"),
        (lambda: Custom(lambda u, x: u, time_order=3), ValueError, "time_order must be 0, 1 or 2"),
        (
            lambda: Custom(lambda u, x: u, time_order=1.0),
            TypeError,
            r"Custom.time_order must be the int 0, 1 or 2, got float 1.0",
        ),
        (lambda: Custom(lambda u, x: u, time_order=True), TypeError, "got bool True"),
    ],
)
def test_bad_equation_and_condition_arguments(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_describe_is_json_ready():
    import json

    p = npde.Problem(
        SLAB,
        npde.Wave(c=2.0, f=lambda x: x[:, 0]),
        [npde.Dirichlet(0.0, on="x_min"), npde.Initial(1.0), npde.InitialVelocity(0.0)],
        name="w",
    )
    d = json.loads(json.dumps(p.describe()))
    assert d["equation"]["latex"] == r"u_{tt} = c^2 \Delta u + f"
    assert d["equation"]["c"] == "2.0" and "x[:, 0]" in d["equation"]["f"]
    assert [c["type"] for c in d["conditions"]] == ["Dirichlet", "Initial", "InitialVelocity"]
    assert d["conditions"][0]["on"] == ["x_min"]
    assert d["domain"]["t_span"] == [0.0, 1.0]


def test_exact_values_checks_its_points():
    problem = npde.Problem(
        npde.Rectangle((0, 0), (1, 1)),
        npde.Poisson(),
        [npde.Dirichlet(0.0)],
        exact=lambda x: x[:, 0] + 10 * x[:, 1],
    )
    np.testing.assert_array_equal(problem.exact_values([[1, 2], [0.5, 0.25]]), [21.0, 3.0])
    np.testing.assert_array_equal(problem.exact_values(torch.tensor([0.5, 0.25])), [3.0])
    # np.asarray(..., dtype=float) once read these as numbers and ignored the mask
    for points in ([["1", "2"]], [[True, False]], [[None, 0.5]], [[np.nan, 0.5]]):
        with pytest.raises(ValueError, match=r"points (must|contain NaN)"):
            problem.exact_values(points)
    masked = np.ma.masked_array([[0.5, 0.5], [9.0, 9.0]], mask=[[0, 0], [1, 1]])
    with pytest.raises(TypeError, match="points must not be a masked array"):
        problem.exact_values(masked)
    with pytest.raises(ValueError, match=r"points must have shape \(N, 2\) with columns"):
        problem.exact_values(np.zeros((2, 3)))


# -- determined up to an additive constant ---------------------------------------------------------
# Whether a problem fixes its solution only up to an additive constant: a typed decision, from
# the conditions' ``pins_constant`` and the equation's ``blind_to_constants``, asked of a live
# problem (``Problem.determined_up_to_a_constant``) and of its description, as a file holds it
# (``neuralpde.problem.determined_up_to_a_constant``).


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


# -- boundary part names ---------------------------------------------------------------------------


def test_unknown_part_is_named():
    with pytest.raises(ValueError, match=r"Neumann\(on=...\) names unknown boundary part"):
        npde.Problem(npde.Rectangle((0, 0), (1, 1)), npde.Poisson(), [npde.Neumann(on="left")])
    assert np.isfinite(npde.Neumann(1.0).weight)
