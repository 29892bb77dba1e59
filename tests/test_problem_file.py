"""A problem file's ``reference`` settings, a :class:`neuralpde.reference.Study` or a dict made
into one, are checked as every reference setting is, in messages that name the variable."""

from __future__ import annotations

import pytest

from neuralpde.problem_file import ProblemFileError, load_problem_file
from neuralpde.reference import Study

HEAD = (
    "import numpy as np\n"
    "import neuralpde as npde\n"
    "problem = npde.Problem(npde.Rectangle((0, 0), (1, 1)), npde.Poisson(1.0), "
    "[npde.Dirichlet(0.0)])\n"
)


def load(tmp_path, reference: str):
    f = tmp_path / "p.py"
    f.write_text(HEAD + f"reference = {reference}\n")
    return load_problem_file(str(f)), str(f)


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("[4]", r"reference must be a neuralpde.reference.Study or a dict of its settings \(keys"),
        ("{'grid': 2}", r"reference has unknown key\(s\) \['grid'\]; expected some of n,"),
        ("{'n': 1}", r"reference\['n'\] must give at least 2 intervals per axis .*got 1$"),
        ("{'n': [4, True]}", r"reference\['n'\] must give at least 2 intervals .*got \[4, True\]"),
        ("{'n': []}", r"reference\['n'\] must be an int or a sequence of ints \(one per space"),
        ("{'levels': 2}", r"reference\['levels'\] must be an int >= 3 \(two differences .*got 2$"),
        ("{'order': 3}", r"reference\['order'\] must be 2 or 4, got 3$"),
        ("{'dt': -1}", r"reference\['dt'\] must be a positive finite number .*got int -1$"),
        ("{'dt': True}", r"reference\['dt'\] must be a positive finite number .*got bool True$"),
        ("{'time_samples': 1}", r"reference\['time_samples'\] must be an int >= 2 or None, got 1"),
        ("{'extrapolate': 1}", r"reference\['extrapolate'\] must be True or False, got 1$"),
        ("{'ratio': 1}", r"reference\['ratio'\] must be an int >= 2 \(nested grids\), got 1$"),
        ("{'method': 'cg'}", r"reference\['method'\] must be 'auto', 'dst' or 'lu', got 'cg'$"),
    ],
)
def test_bad_reference_settings_name_the_files_variable(tmp_path, reference, message):
    with pytest.raises(ProblemFileError, match=r"^problem file '.*p\.py': " + message):
        load(tmp_path, reference)


def test_a_bad_study_in_the_file_is_refused_as_the_file_makes_it(tmp_path):
    with pytest.raises(ProblemFileError, match=r"failed to run: ValueError: levels must be an int"):
        load(tmp_path, "npde.reference.Study(levels=2)")


def test_a_reference_dict_becomes_a_study_of_plain_values(tmp_path):
    given = (
        "{'n': (8, np.int64(4)), 'levels': np.int64(4), 'order': 4, 'dt': np.float64(0.1), "
        "'time_samples': None, 'extrapolate': np.bool_(True)}"
    )
    spec, _ = load(tmp_path, given)
    study = Study(n=(8, 4), levels=4, order=4, dt=0.1, extrapolate=True)
    assert spec["reference"] == study
    assert type(spec["reference"].levels) is int and type(spec["reference"].extrapolate) is bool
    assert load(tmp_path, "None")[0]["reference"] is None
    as_study = "npde.reference.Study(n=(8, 4), levels=4, order=4, dt=0.1, extrapolate=True)"
    assert load(tmp_path, as_study)[0]["reference"] == study


def test_counts_are_not_matched_to_the_problem_when_loading(tmp_path):
    """Three counts for a two-axis problem: refused where a reference is computed (the CLI's
    ``reference``), not by loading, so that a file that is only solved still loads."""
    spec, _ = load(tmp_path, "{'n': [8, 8, 8]}")
    assert spec["reference"] == Study(n=(8, 8, 8))
