"""``neuralpde info``: what a solution file holds, as text and as strict JSON."""

from __future__ import annotations

import os

import numpy as np
import pytest

import neuralpde as npde
from neuralpde.cli import main

from .conftest import _err


def test_info_on_a_foreign_file(tmp_path, capsys):
    f = tmp_path / "x.h5"
    f.write_text("not hdf5")
    assert main(["info", str(f)]) == 2
    assert "not an HDF5 file" in _err(capsys)
    pipe = tmp_path / "pipe.h5"  # it exists: not 'no such file'
    os.mkfifo(pipe)
    assert main(["info", str(pipe)]) == 2
    assert _err(capsys).endswith("pipe.h5' is not a regular file, not a neuralpde file")
    from neuralpde.io import FormatError, read_grid

    with pytest.raises(FormatError, match="is not a regular file, not an HDF5 file"):
        read_grid(pipe)


def test_info_json_is_strict_json(tmp_path, capsys, small_b1):
    """Without a monitor the history holds NaN, which strict JSON readers refuse: null."""
    import json

    spec = npde.cli.load_problem_file(small_b1)
    sol = npde.solve(
        spec["problem"],
        spec["field"],
        spec["sampler"],
        npde.Trainer(adam_steps=3, lbfgs_steps=0, progress=False),
        monitor=False,
    )
    path = sol.save(tmp_path / "p.h5", n=9)
    capsys.readouterr()
    assert main(["info", str(path), "--json"]) == 0

    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    record = json.loads(capsys.readouterr().out, parse_constant=refuse)
    assert record["training"]["history"]["monitor"] == [None] * len(
        record["training"]["history"]["step"]
    )


def test_info_names_a_gridded_coefficient_by_its_data(tmp_path, capsys):
    a = np.linspace(0.0, 1.0, 5)
    kappa = npde.GridData([a, a], 1.0 + np.add.outer(a, a), name="kappa map")
    p = npde.Problem(
        npde.Rectangle((0, 0), (1, 1)), npde.Poisson(kappa), [npde.Dirichlet(0.0)], name="g"
    )
    sol = npde.solve(
        p,
        npde.Siren(width=8, depth=1),
        npde.SobolSampler(64, 32),
        npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False),
    )
    path = sol.save(tmp_path / "g.h5", n=9)
    assert main(["info", str(path)]) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("equation:")][0]
    assert "f=GridData(kappa map, 5x5 grid, columns [0, 1], sha256 " in line
