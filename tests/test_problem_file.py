"""A problem file's ``reference`` settings are checked as every reference setting is
(:func:`neuralpde.reference.settings.check_settings`), in messages that name the variable."""

from __future__ import annotations

import numpy as np
import pytest

from neuralpde.problem_file import ProblemFileError, load_problem_file

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
        ("[4]", r"reference must be a dict of finite-difference settings \(keys n, levels"),
        ("{'ratio': 2}", r"reference has unknown key\(s\) \['ratio'\]; expected some of n,"),
        ("{'n': 1}", r"reference\['n'\] must give at least 2 intervals per axis .*got 1$"),
        ("{'n': [4, True]}", r"reference\['n'\] must give at least 2 intervals .*got \[4, True\]"),
        ("{'n': []}", r"reference\['n'\] must be an int or 2 ints \(one per space axis\), got"),
        ("{'levels': 2}", r"reference\['levels'\] must be an int >= 3 \(two differences .*got 2$"),
        ("{'order': 3}", r"reference\['order'\] must be 2 or 4, got 3$"),
        ("{'dt': -1}", r"reference\['dt'\] must be a positive finite number .*got int -1$"),
        ("{'dt': True}", r"reference\['dt'\] must be a positive finite number .*got bool True$"),
        ("{'time_samples': 1}", r"reference\['time_samples'\] must be an int >= 2 or None, got 1"),
        ("{'extrapolate': 1}", r"reference\['extrapolate'\] must be True or False, got 1$"),
    ],
)
def test_bad_reference_settings_name_the_files_variable(tmp_path, reference, message):
    with pytest.raises(ProblemFileError, match=r"^problem file '.*p\.py': " + message):
        load(tmp_path, reference)


def test_reference_settings_are_kept_as_given(tmp_path):
    given = (
        "{'n': (8, np.int64(4)), 'levels': np.int64(4), 'order': 4, 'dt': np.float64(0.1), "
        "'time_samples': None, 'extrapolate': np.bool_(True)}"
    )
    spec, _ = load(tmp_path, given)
    assert spec["reference"] == {
        "n": (8, 4),
        "levels": 4,
        "order": 4,
        "dt": 0.1,
        "time_samples": None,
        "extrapolate": True,
    }
    assert isinstance(spec["reference"]["levels"], np.integer)
    assert load(tmp_path, "None")[0]["reference"] is None


def test_counts_are_not_matched_to_the_problem_when_loading(tmp_path):
    """Three counts for a two-axis problem: refused where a reference is computed (the CLI's
    ``reference``), not by loading, so that a file that is only solved still loads."""
    spec, _ = load(tmp_path, "{'n': [8, 8, 8]}")
    assert spec["reference"] == {"n": [8, 8, 8]}
