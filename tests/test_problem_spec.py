"""One problem specification (:class:`~neuralpde.problem_spec.ProblemSpec`) for a live solution
and a loaded one: a solution and the same solution saved and read back carry equal specs, the
field interface answers from them, and a damaged description is refused or gives no domain."""

from __future__ import annotations

import dataclasses
import json
import math

import h5py
import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.problem_spec import ProblemSpec, rebuilt_domain
from neuralpde.solution import SavedField, Solution, SolvedField

from .untrained import untrained_solution

SQUARE = npde.Rectangle((0.0, 0.0), (1.0, 1.0))
LSHAPE = npde.Polygon([(0, 0), (1, 0), (1, 0.5), (0.5, 0.5), (0.5, 1), (0, 1)])


def _sine(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1])


def _problems() -> dict[str, tuple[npde.Problem, bool]]:
    """label -> (problem, whether its solution is fixed only up to a constant)."""
    heat = npde.SpaceTime(npde.Interval(0.0, 1.0), t_span=(0.0, 0.5))
    return {
        "dirichlet-box": (
            npde.Problem(
                SQUARE,
                npde.Poisson(lambda x: 2 * math.pi**2 * _sine(x)),
                [npde.Dirichlet(0.0)],
                exact=_sine,
                name="box",
            ),
            False,
        ),
        "neumann-box": (
            npde.Problem(SQUARE, npde.Poisson(0.0), [npde.Neumann(0.0)], name="neumann"),
            True,
        ),
        "heat": (
            npde.Problem(
                heat,
                npde.Heat(0.1),
                [npde.Dirichlet(0.0), npde.Initial(lambda x: torch.sin(math.pi * x[:, 0]))],
                name="heat",
            ),
            False,
        ),
        "disk": (
            npde.Problem(npde.Disk((0.0, 0.0), 1.0), npde.Poisson(1.0), [npde.Dirichlet(0.0)]),
            False,
        ),
        "polygon": (
            npde.Problem(LSHAPE, npde.Poisson(1.0), [npde.Neumann(0.0)], name="lshape"),
            True,
        ),
    }


CASES = _problems()


def _untrained(problem: npde.Problem) -> Solution:
    """An untrained (random) field of ``problem``, as a result that may be saved."""
    return untrained_solution(problem)


@pytest.fixture(scope="module", params=sorted(CASES))
def pair(request, tmp_path_factory):
    """(label, live solution, its loaded file, the file's path)."""
    problem, _ = CASES[request.param]
    live = _untrained(problem)
    path = live.save(tmp_path_factory.mktemp("spec") / f"{request.param}.h5", n=9, xdmf=False)
    return request.param, live, npde.load(path), path


def test_a_solution_and_its_file_carry_equal_specs(pair):
    label, live, loaded, _ = pair
    a, b = live.spec, loaded.spec
    assert isinstance(a, ProblemSpec) and isinstance(b, ProblemSpec)
    for name in ("name", "names", "time_index", "description", "determined_up_to_a_constant"):
        assert getattr(a, name) == getattr(b, name), (label, name)
    for name in ("equation", "conditions", "has_exact", "bounds", "text", "domain_type"):
        assert getattr(a, name) == getattr(b, name), (label, name)
    assert a == b and hash(a) == hash(b)
    assert a.determined_up_to_a_constant is CASES[label][1]
    assert a.domain is live.problem.domain
    # the loaded domain is rebuilt: a box as a Box, the others as their own class
    assert isinstance(b.domain, npde.Box if label.endswith("box") else type(a.domain)), label
    assert a.domain_type == type(a.domain).__name__


def test_the_spec_says_what_the_problem_is(pair):
    label, live, _, _ = pair
    spec, problem = live.spec, live.problem
    assert spec.name == problem.name and spec.names == tuple(problem.domain.names)
    assert spec.time_index == problem.time_index
    assert spec.equation == type(problem.equation).__name__
    assert spec.conditions == tuple(type(c).__name__ for c in problem.conditions)
    assert spec.has_exact is (problem.exact is not None)
    assert spec.space_dim == problem.domain.dim - (problem.time_index is not None)
    assert spec.description == json.loads(json.dumps(problem.describe(), default=str))
    if label == "heat":
        assert spec.time_index == 1 and spec.space_axes == (0,)


def test_the_field_interface_answers_from_the_spec(pair):
    _, live, loaded, _ = pair
    for field in (live, loaded):
        assert isinstance(field, SolvedField)
        spec = field.spec
        assert field.problem_name == spec.name
        assert field.description == spec.description
        assert field.time_axis == spec.time_index
        assert field.determined_up_to_a_constant is spec.determined_up_to_a_constant
        assert field.domain is spec.domain
        np.testing.assert_array_equal(field.bounds[0], spec.bounds[0])
        np.testing.assert_array_equal(field.bounds[1], spec.bounds[1])
        assert field.spec is spec  # made once


def test_the_file_stores_the_description_as_before(pair):
    """The file format is unchanged: ``/problem@description`` is the problem's ``describe()``
    as JSON, which is the spec's text."""
    _, live, _, path = pair
    with h5py.File(path, "r") as f:
        stored = f["problem"].attrs["description"]
    assert stored == json.dumps(live.problem.describe(), default=str) == live.spec.text


def test_the_spec_is_frozen(pair):
    _, live, loaded, _ = pair
    for spec in (live.spec, loaded.spec):
        with pytest.raises(dataclasses.FrozenInstanceError):
            spec.name = "other"  # type: ignore[misc]
        desc = spec.description
        desc["name"] = "changed"
        desc["domain"] = None
        assert spec.description != desc  # each call a new dictionary
    assert live.spec == loaded.spec


def test_a_description_gives_the_spec_of_its_problem_without_a_file():
    for label, (problem, free) in CASES.items():
        spec = ProblemSpec.from_description(problem.describe(), problem.domain.names)
        assert spec == ProblemSpec.from_problem(problem), label
        assert spec.determined_up_to_a_constant is free, label


def test_a_new_problem_gives_a_solution_a_new_spec():
    problem, _ = CASES["neumann-box"]
    sol = _untrained(problem)
    assert sol.determined_up_to_a_constant
    sol.problem = CASES["dirichlet-box"][0]
    assert sol.spec.name == "box" and not sol.determined_up_to_a_constant


def test_a_damaged_description_is_refused_by_name():
    desc = CASES["dirichlet-box"][0].describe()
    names = ("x", "y")
    with pytest.raises(TypeError, match="must be a mapping"):
        ProblemSpec.from_description([desc], names)
    with pytest.raises(TypeError, match="names must be a sequence of strings"):
        ProblemSpec.from_description(desc, "xy")
    with pytest.raises(ValueError, match="'name' must be a string"):
        ProblemSpec.from_description({**desc, "name": 3}, names)
    with pytest.raises(ValueError, match="'equation' must be a mapping"):
        ProblemSpec.from_description({**desc, "equation": "Poisson"}, names)
    with pytest.raises(ValueError, match="'conditions' must be a list of mappings"):
        ProblemSpec.from_description({**desc, "conditions": "Dirichlet"}, names)
    with pytest.raises(ValueError, match="'conditions' must be a list of mappings"):
        ProblemSpec.from_description({**desc, "conditions": ["Dirichlet"]}, names)
    with pytest.raises(TypeError, match="neuralpde.Problem"):
        ProblemSpec.from_problem(desc)  # type: ignore[arg-type]


def test_a_domain_that_cannot_be_rebuilt_is_none_as_the_loader_has_it():
    desc = CASES["disk"][0].describe()
    names = ("x", "y")
    for domain in (
        "a disk",
        {**desc["domain"], "radius": "one"},
        {**desc["domain"], "type": "Torus"},
        {**desc["domain"], "type": "MeshDomain", "source": "l.msh"},  # no stored mesh
    ):
        spec = ProblemSpec.from_description({**desc, "domain": domain}, names)
        assert spec.domain is None, domain
        assert rebuilt_domain(domain, names) is None
    # a domain of other coordinates is none either; one with no corners has no bounds
    assert ProblemSpec.from_description(desc, ("u", "v")).domain is None
    bare = ProblemSpec.from_description({"name": "bare"}, names)
    assert bare.domain is None and bare.bounds is None and bare.time_index is None
    assert not bare.determined_up_to_a_constant and bare.domain_description == {}
    assert bare.equation == "" and bare.conditions == () and not bare.has_exact


def test_a_loaded_field_without_described_corners_takes_its_grid(tmp_path):
    sol = _untrained(CASES["disk"][0])
    field = npde.load(sol.save(tmp_path / "disk.h5", n=9, xdmf=False))
    assert isinstance(field, SavedField)
    field.record["problem"] = {k: v for k, v in field.record["problem"].items() if k != "domain"}
    assert field.spec.bounds is None and field.domain is None
    lo, hi = field.bounds  # the stored grid's corners
    np.testing.assert_allclose(lo, [-1.0, -1.0])
    np.testing.assert_allclose(hi, [1.0, 1.0])
