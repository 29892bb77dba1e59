"""Fixtures and helpers shared by the command line's tests."""

from __future__ import annotations

import textwrap

import pytest

from ..conftest import B1


@pytest.fixture
def small_b1(tmp_path):
    """B1 with small settings, so that an end-to-end solve takes a few seconds."""
    f = tmp_path / "small_b1.py"
    f.write_text(
        textwrap.dedent(f"""
        from pathlib import Path
        import neuralpde as npde
        exec(Path({B1!r}).read_text())
        field = npde.Siren(width=16, depth=2, w0=1.0)
        sampler = npde.SobolSampler(n_interior=256, n_boundary=128)
        trainer = npde.Trainer(adam_steps=20, lbfgs_steps=20)
    """)
    )
    return str(f)


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # one clear line
    return err[0]
