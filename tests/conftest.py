"""Shared test helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
CATALOG = sorted((ROOT / "problems").glob("*.py"))

# Property tests (tests/test_fuzz.py) run a fixed sequence of examples in CI: the same inputs on
# every run, no example database, no deadline (a machine under load is slow, not wrong).
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
