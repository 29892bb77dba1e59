"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOG = sorted((ROOT / "problems").glob("*.py"))


@pytest.fixture(scope="session")
def catalog_files() -> list[Path]:
    return CATALOG
