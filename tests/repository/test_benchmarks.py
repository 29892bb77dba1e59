"""The benchmark scripts' command lines: case selection and argument checks (nothing is timed)."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys

import pytest

from ..conftest import ROOT


def _load(name: str):
    """A benchmark script as a module, without putting ``benchmarks/`` on the import path."""
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", ROOT / "benchmarks" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


accuracy = _load("accuracy.py")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # raise instead of exiting, to read the message
        raise ValueError(message)


def _parser() -> argparse.ArgumentParser:
    return _Parser(prog="bench")


def test_cases_are_selected_by_id_or_catalog_name():
    cases = accuracy.CASES
    assert accuracy.select_cases(_parser(), None, cases) == cases
    picked = accuracy.select_cases(_parser(), ["B3", "poisson2d_sine"], cases)
    assert [c[0] for c in picked] == ["B1", "B3"]  # in the suite's order
    with pytest.raises(ValueError, match=r"--only: unknown case 'B9', 'heat'; expected ids"):
        accuracy.select_cases(_parser(), ["B1", "B9", "heat"], cases)
    with pytest.raises(ValueError, match=r"among B1, poisson2d_sine, .* \(elsewhere\)$"):
        accuracy.select_cases(_parser(), ["G1"], cases, " (elsewhere)")
    # a printed command line repeats --only, so that it reproduces the run
    assert accuracy.only_option(["B1", "heat2d"]) == " --only B1 heat2d"
    assert accuracy.only_option(None) == accuracy.only_option([]) == ""


@pytest.mark.parametrize(
    ("script", "args", "message"),
    [
        ("step_time.py", ["--only", "B6"], "(one case for each built-in equation)"),
        ("accuracy.py", ["--only", "G1"], "--suite geometry has G1, G2, G3, G4, G5, G6;"),
        ("accuracy.py", ["--only", "B1", "--suite", "holdout"], "--suite accuracy has B1, B2,"),
        ("accuracy.py", ["--suite", "geometry", "--only", "B1"], "(--suite accuracy has B1,"),
        ("step_time.py", ["--dtypes", "fp32"], "invalid choice: 'fp32'"),
        ("step_time.py", ["--device", "gpu"], "--device must be 'cpu', 'cuda' or 'cuda:N'"),
        ("time_to_accuracy.py", ["--seconds", "nan"], "expected a positive number, got 'nan'"),
    ],
)
def test_scripts_refuse_bad_arguments_before_any_work(script, args, message):
    r = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr
