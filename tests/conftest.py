"""Shared test helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import neuralpde as npde
from neuralpde.problem_file import load_problem_file
from neuralpde.reference import convergence_study, save_reference

ROOT = Path(__file__).resolve().parents[1]
CATALOG = sorted((ROOT / "problems").glob("*.py"))
#: The catalog's B1, the 2-D Poisson problem that many tests solve.
B1 = str(ROOT / "problems" / "poisson2d_sine.py")
#: A small field and sampler, so that a solve of B1 takes a few seconds.
SMALL = dict(
    field=npde.Siren(width=24, depth=2, w0=1.0),
    sampler=npde.SobolSampler(n_interior=256, n_boundary=128),
)

# Property tests (tests/repository/test_fuzz.py) run a fixed sequence of examples in CI: the same
# inputs on every run, no example database, no deadline (a machine under load is slow, not wrong).
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# HYPOTHESIS_PROFILE=random explores new inputs on every run (and keeps none)
settings.register_profile("random", parent=settings.get_profile("ci"), derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def catalog_files() -> list[Path]:
    return CATALOG


@pytest.fixture(scope="module")
def b1():
    return load_problem_file(str(ROOT / "problems" / "poisson2d_sine.py"))["problem"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A briefly trained B1 solution file and a 4th-order reference file for B1."""
    d = tmp_path_factory.mktemp("validate")
    problem = load_problem_file(B1)["problem"]
    sol = npde.solve(
        problem,
        npde.Siren(width=16, depth=2, w0=1.0),
        npde.SobolSampler(n_interior=256, n_boundary=128),
        npde.Trainer(adam_steps=20, lbfgs_steps=20, progress=False),
        seed=0,
    )
    ref = convergence_study(problem, 8, levels=3, order=4)
    return {
        "problem": problem,
        "solution": sol,
        "sol": str(sol.save(d / "sol.h5", n=33)),
        "ref": str(save_reference(ref, d / "ref.h5", problem=problem)),
        "reference": ref,
        "dir": d,
    }
