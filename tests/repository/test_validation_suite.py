"""The validation suite (validation/cases.py, validation/run.py): its cases name catalog problems,
its command line refuses unknown cases, and one case runs end to end elsewhere than validation/."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from neuralpde.problem_file import load_problem_file
from neuralpde.reference import Study, save_reference

from ..conftest import ROOT

VALIDATION = ROOT / "validation"


def _module(name: str, path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``path`` imported as a fresh module ``name``, in ``sys.modules`` for the test only; run.py's
    ``cases``, imported from validation/, is removed again, as are its changes to ``sys.path``."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    had_cases = "cases" in sys.modules
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # as dataclasses need of their module
    spec.loader.exec_module(module)
    if not had_cases:
        sys.modules.pop("cases", None)
    return module


@pytest.fixture
def cases(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return _module("_validation_cases", VALIDATION / "cases.py", monkeypatch)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return _module("_validation_run", VALIDATION / "run.py", monkeypatch)


def test_every_case_is_a_catalog_problem(cases):
    ids = [c.id for c in cases.CASES]
    names = [c.name for c in cases.CASES]
    assert len(set(ids)) == len(ids) and len(set(names)) == len(names)
    assert not set(ids) & set(names)  # --only takes either
    for case in cases.CASES:
        path = ROOT / "problems" / f"{case.name}.py"
        assert path.is_file(), f"{case.id}: no problem file {path}"
        problem = load_problem_file(str(path))["problem"]
        assert problem.name == case.name
        assert case.exact == (problem.exact is not None), case.id
        assert 0 < case.tol <= 0.3, case.id


def test_the_geometry_cases_use_the_benchmarks_ids(cases):
    """G1-G6 are the ids of ``benchmarks/accuracy.py --suite geometry``."""
    by_id = {c.id: c for c in cases.CASES}
    geometry = {
        "G1": "neumann_square",
        "G2": "robin_square",
        "G3": "poisson_disk",
        "G4": "poisson_lshape",
        "G5": "poisson_holes",
        "G6": "poisson_mesh",
    }
    for cid, name in geometry.items():
        assert by_id[cid].name == name and by_id[cid].exact
        assert by_id[cid].tol <= 1e-3  # guards at most the cap; the project's target is 1e-5
        assert f'("{cid}", "{name}"' in (ROOT / "benchmarks" / "accuracy.py").read_text()


def test_only_refuses_unknown_cases(run, capsys):
    with pytest.raises(SystemExit) as exc:
        run.main(["--only", "G3", "G9", "nonsense"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--only: unknown case 'G9', 'nonsense'" in err
    assert "'G3'" in err and "'poisson_disk'" in err  # the list of known cases
    # the known ones, by id or name, are taken
    assert run.parse_args(["--only", "G6", "poisson_holes"]).only == ["G6", "poisson_holes"]


def test_seconds_must_be_positive(run, capsys):
    with pytest.raises(SystemExit):
        run.main(["--only", "G3", "--seconds", "0"])
    assert "--seconds" in capsys.readouterr().err


def test_a_case_whose_reference_cannot_be_made_fails_with_the_reason(run, monkeypatch):
    def refuse(case, problem, settings):
        raise NotImplementedError("the finite-difference reference does not support this")

    monkeypatch.setattr(run, "reference_for", refuse)
    monkeypatch.setattr(run, "solve_case", lambda *a: pytest.fail("solved without a reference"))
    case = next(c for c in run.CASES if c.id == "G2")
    row = run.run_case(case, seed=0, reuse=False)
    assert row["passed"] is False
    assert row["error"] == "no reference: the finite-difference reference does not support this"
    text = "\n".join(run.report_lines([row], "python validation/run.py --only G2"))
    assert "| G2 | robin_square |" in text and "**fail**" in text
    assert "- G2 robin_square: no reference: the finite-difference" in text


def test_default_reference_settings_are_those_of_the_command_line(run):
    spec = load_problem_file(str(ROOT / "problems" / "poisson_disk.py"))
    assert run.reference_settings(spec) == Study(n=32, levels=3, order=2)
    spec = load_problem_file(str(ROOT / "problems" / "poisson2d_sine.py"))
    assert run.reference_settings(spec) == spec["reference"]


def _files(folder: Path) -> dict[Path, int]:
    """The files under ``folder`` (bytecode aside) and when each was last modified."""
    return {
        p: p.stat().st_mtime_ns
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.slow
def test_one_geometry_case_end_to_end(tmp_path):
    """G3 with a budget of 3 s, written to a temporary folder: validation/ is left alone."""
    before = _files(VALIDATION)
    out = tmp_path / "val"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    cmd = [sys.executable, str(VALIDATION / "run.py"), "--only", "G3", "--seconds", "3"]
    r = subprocess.run(
        [*cmd, "--out", str(out)], capture_output=True, text=True, env=env, timeout=600
    )
    assert r.returncode in (0, 1), r.stderr  # 1: a 3-second solve may miss the tolerance
    report = (out / "REPORT.md").read_text()
    assert f"Command: `python validation/run.py --only G3 --seconds 3 --out {out}`" in report
    row = next(line for line in report.splitlines() if line.startswith("| G3 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "poisson_disk" and cells[-1] == "[report](reports/poisson_disk/report.md)"
    assert float(cells[5]) < 1e-2  # vs exact, on the reference's nodes inside the disk
    assert float(cells[7]) <= 3  # the reference's own error within 3 times its estimate
    assert (out / "reports" / "poisson_disk" / "report.md").is_file()
    assert (out / "references" / "poisson_disk.h5").is_file()
    assert (out / "solutions" / "poisson_disk.h5").is_file()
    assert _files(VALIDATION) == before


# -- a case whose reference cannot judge -----------------------------------------------------------


def test_the_validation_suite_fails_a_case_whose_reference_cannot_judge(
    files, tmp_path, monkeypatch
):
    """validation/run.py marks such a case failed, with the reason, and goes on."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_validation_run", ROOT / "validation" / "run.py")
    run = importlib.util.module_from_spec(spec)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the script puts validation/ on it
    had_cases = "cases" in sys.modules
    spec.loader.exec_module(run)
    if not had_cases:
        sys.modules.pop("cases", None)
    diverging = dataclasses.replace(files["reference"], estimated_error=math.inf, gci=math.inf)
    bad = save_reference(diverging, tmp_path / "r.h5", problem=files["problem"])
    monkeypatch.setattr(run, "reference_for", lambda case, problem, settings: (bad, "reused", 0))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "validation" / "solutions").mkdir(parents=True)
    shutil.copy(files["sol"], tmp_path / "validation" / "solutions" / "poisson2d_sine.h5")
    case = next(c for c in run.CASES if c.id == "B1")
    row = run.run_case(case, seed=0, reuse=True)
    assert row["passed"] is False and "its levels do not converge" in row["error"]
