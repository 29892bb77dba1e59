"""``neuralpde.reference.Study``: a convergence study's settings as one frozen object, each
checked once, when it is made; the API, reference files and problem files take it."""

from __future__ import annotations

import dataclasses
import inspect
import json
import math

import numpy as np
import pytest

import neuralpde as npde
from neuralpde.problem_file import load_problem_file
from neuralpde.reference import (
    Study,
    convergence_study,
    load_reference,
    reference_checksum,
    reference_settings,
    save_reference,
)

FIELDS = [f.name for f in dataclasses.fields(Study)]


@pytest.fixture(scope="module")
def poisson() -> npde.Problem:
    return npde.Problem(
        npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
        npde.Poisson(1.0),
        [npde.Dirichlet(0.0)],
        name="study_poisson",
    )


def test_every_setting_of_convergence_study_with_its_default():
    params = inspect.signature(convergence_study).parameters
    assert set(FIELDS) == set(params) - {"problem", "study"}
    for f in dataclasses.fields(Study):
        if f.name != "n":  # required there; neuralpde reference's 32 here
            assert f.default == params[f.name].default, f.name
    assert Study().n == 32
    assert Study().describe() == {
        "n": 32,
        "levels": 3,
        "ratio": 2,
        "order": 2,
        "dt": None,
        "time_samples": None,
        "extrapolate": False,
    }


def test_frozen_and_hashable():
    study = Study(n=[4, 4], levels=4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        study.levels = 5  # type: ignore[misc]
    assert study.n == (4, 4) and hash(study) == hash(Study(n=(4, 4), levels=4))
    with pytest.raises(ValueError, match="^levels must be an int >= 3"):
        dataclasses.replace(study, levels=2)  # a changed copy is checked too


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("n", 1, r"at least 2 intervals per axis \(ints >= 2\), got 1$"),
        ("n", [4, True], r"at least 2 intervals per axis \(ints >= 2\), got \[4, True\]$"),
        ("n", "8", r"at least 2 intervals per axis \(ints >= 2\), got '8'$"),
        ("n", [], r"an int or a sequence of ints \(one per space axis\), got \[\]$"),
        ("n", None, r"an int or a sequence of ints \(one per space axis\), got None$"),
        ("levels", 2, r"an int >= 3 \(two differences give an order\), got 2$"),
        ("levels", 4.0, r"an int >= 3 \(two differences give an order\), got 4.0$"),
        ("ratio", 1, r"an int >= 2 \(nested grids\), got 1$"),
        ("ratio", True, r"an int >= 2 \(nested grids\), got True$"),
        ("order", 3, r"2 or 4, got 3$"),
        ("order", "4", r"2 or 4, got '4'$"),
        ("order", np.array([2, 4]), r"2 or 4, got array\(\[2, 4\]\)$"),
        ("dt", -1.0, r"a positive finite number .* or None, got float -1.0$"),
        ("dt", math.inf, r"a positive finite number .* or None, got float inf$"),
        ("dt", True, r"a positive finite number .* or None, got bool True$"),
        ("time_samples", 1, r"an int >= 2 or None, got 1$"),
        ("time_samples", 3.0, r"an int >= 2 or None, got 3.0$"),
        ("method", "cg", r"'auto', 'dst' or 'lu', got 'cg'$"),
        ("method", None, r"'auto', 'dst' or 'lu', got None$"),
        ("extrapolate", 1, r"True or False, got 1$"),
        ("extrapolate", "yes", r"True or False, got 'yes'$"),
    ],
)
def test_each_bad_setting_is_named_with_what_it_must_be_and_what_it_got(name, value, expected):
    with pytest.raises(ValueError, match=rf"^{name} must (be|give) .*{expected}"):
        Study(**{name: value})


def test_every_setting_is_checked():
    checked = {
        "n": 1,
        "levels": 2,
        "ratio": 1,
        "order": 3,
        "dt": 0,
        "time_samples": 1,
        "method": "x",
        "extrapolate": None,
    }
    assert set(checked) == set(FIELDS)
    for name, value in checked.items():
        with pytest.raises(ValueError, match=f"^{name} "):
            Study(**{name: value})


def test_numpy_values_become_plain_python_ones():
    study = Study(
        n=np.array([8, 4]),
        levels=np.int64(4),
        ratio=np.int32(3),
        order=np.int64(4),
        dt=np.float32(0.25),
        time_samples=np.int64(5),
        extrapolate=np.bool_(True),
    )
    plain = Study(n=(8, 4), levels=4, ratio=3, order=4, dt=0.25, time_samples=5, extrapolate=True)
    assert study == plain
    described = study.describe()
    assert json.loads(json.dumps(described)) == described
    assert [type(v) for v in described.values()] == [list, int, int, int, float, int, bool]


@pytest.mark.parametrize(
    "study",
    [
        Study(),
        Study(n=(8, 4), levels=4, order=4),
        Study(n=16, levels=5, ratio=3, dt=0.01, time_samples=9, method="lu", extrapolate=True),
    ],
    ids=["defaults", "per-axis", "every-setting"],
)
def test_from_dict_of_describe_gives_the_study_back(study):
    assert Study.from_dict(study.describe()) == study
    assert Study.from_dict(json.loads(json.dumps(study.describe()))) == study


def test_describe_is_the_dict_a_reference_file_stores(poisson):
    study = Study(n=[6, 6], levels=4, order=4)
    assert study.describe() == reference_settings(poisson, n=6, levels=4, order=4)
    assert "method" not in study.describe()  # only when it is not "auto"
    assert Study(method="dst").describe()["method"] == "dst"


def test_unknown_keys_are_named():
    with pytest.raises(
        ValueError,
        match=r"^settings has unknown key\(s\) \['grid', 'm'\]; expected some of n, levels, "
        r"ratio, order, dt, time_samples, method, extrapolate$",
    ):
        Study.from_dict({"n": 4, "m": 1, "grid": 2})
    with pytest.raises(ValueError, match=r"^reference has unknown key\(s\) \['m'\]"):
        Study.from_dict({"m": 1}, name="reference")
    with pytest.raises(TypeError, match="settings must be a dict of settings, got list"):
        Study.from_dict([4, 3])  # type: ignore[arg-type]
    assert Study.from_dict({"levels": 4}) == Study(levels=4)  # the others at their defaults


def test_run_is_convergence_study(poisson):
    study = Study(n=4, levels=3, order=4)
    ran = study.run(poisson)
    for ref in (
        convergence_study(poisson, 4, levels=3, order=4),
        convergence_study(poisson, study),
        convergence_study(poisson, study=study),
    ):
        np.testing.assert_array_equal(ref.values, ran.values)
        assert [(r.n, r.difference) for r in ref.table] == [(r.n, r.difference) for r in ran.table]
        assert ref.estimated_error == ran.estimated_error
        assert ref.observed_order == ran.observed_order and ref.scheme == ran.scheme


def test_a_study_is_given_once(poisson):
    study = Study(n=4)
    with pytest.raises(TypeError, match=r"as a Study or as arguments, not both \(got levels\)"):
        convergence_study(poisson, study, levels=4)
    with pytest.raises(TypeError, match=r"not both \(got n\)"):
        convergence_study(poisson, 4, study=study)
    with pytest.raises(TypeError, match="give one Study: as n or as study=, not both"):
        convergence_study(poisson, study, study=study)
    with pytest.raises(TypeError, match="study must be a neuralpde.reference.Study, got dict"):
        convergence_study(poisson, study={"n": 4})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"not both \(got levels\)"):
        reference_checksum(poisson, study, levels=4)
    with pytest.raises(ValueError, match=r"^n must be an int or a sequence of ints"):
        convergence_study(poisson)  # no n, no Study


def test_what_needs_the_problem_is_checked_when_it_is_run(poisson):
    with pytest.raises(ValueError, match=r"^n must be an int or 2 ints .*got \[4, 4, 4\]$"):
        Study(n=(4, 4, 4)).run(poisson)
    with pytest.raises(ValueError, match=r"^time_samples applies to evolution problems only"):
        Study(n=4, time_samples=3).run(poisson)
    with pytest.raises(ValueError, match=r"^extrapolate=True needs levels >= 4"):
        Study(n=4, extrapolate=True).run(poisson)


def test_checksum_and_file_take_a_study(poisson, tmp_path):
    study = Study(n=4, levels=3, order=4)
    want = reference_checksum(poisson, n=4, levels=3, order=4)
    assert reference_checksum(poisson, study) == want
    assert reference_checksum(poisson, Study(n=4, levels=3, order=4, method="lu")) == want
    saved = load_reference(save_reference(study.run(poisson), tmp_path / "r.h5", settings=study))
    assert saved.checksum == want
    assert Study.from_dict(saved.settings) == Study(n=(4, 4), levels=3, order=4)


_FILE = """\
import neuralpde as npde
problem = npde.Problem(
    npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
    npde.Poisson(lambda x: 1.0 + x[:, 0]),
    [npde.Dirichlet(0.0)],
    name="tiny",
)
reference = {reference}
"""


def test_a_problem_file_with_a_dict_or_a_study_gives_the_same_reference(tmp_path):
    specs = []
    for name, reference in (
        ("with_dict", '{"n": 4, "levels": 3, "order": 2}'),
        ("with_study", "npde.reference.Study(n=4, levels=3, order=2)"),
    ):
        f = tmp_path / f"{name}.py"
        f.write_text(_FILE.format(reference=reference))
        specs.append(load_problem_file(str(f)))
    a, b = specs
    assert isinstance(a["reference"], Study) and a["reference"] == b["reference"]
    sums = [reference_checksum(s["problem"], s["reference"]) for s in specs]
    assert sums[0] == sums[1] == reference_checksum(a["problem"], n=4, levels=3, order=2)
    refs = [s["reference"].run(s["problem"]) for s in specs]
    np.testing.assert_array_equal(refs[0].values, refs[1].values)
    assert refs[0].estimated_error == refs[1].estimated_error
