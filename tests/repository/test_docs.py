"""The examples of docs/extending.md run as they stand: each ```python block is executed in a
fresh namespace, so the page cannot drift from the code."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "extending.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", PAGE.read_text(encoding="utf-8"), re.S | re.M)


def test_the_page_has_its_three_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_example_runs(index, monkeypatch):
    # a fresh module of its own (dataclasses look their module up in sys.modules)
    module = types.ModuleType(f"extending_example_{index}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    code = compile(BLOCKS[index], f"{PAGE.name}[python block {index}]", "exec")
    exec(code, module.__dict__)
