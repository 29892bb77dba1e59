"""``neuralpde solve``, end to end: training, the file it writes, its options and how a run
that fails is reported."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.cli import main

from ..conftest import B1, ROOT
from .conftest import _err


def test_solve_then_info_then_load(tmp_path, capsys, small_b1, monkeypatch):
    out = tmp_path / "p.h5"
    tested = []  # the dense grid is tested against the domain once, for the file
    contains = npde.Rectangle.contains
    monkeypatch.setattr(
        npde.Rectangle, "contains", lambda s, p: tested.append(len(p)) or contains(s, p)
    )
    assert main(["solve", small_b1, "-o", str(out), "--steps", "30", "--seed", "3", "--quiet"]) == 0
    assert tested.count(200 * 200) == 1
    text = capsys.readouterr().out
    assert "relative L2 error vs exact" in text and f"wrote {out}" in text
    field = npde.load(out)
    assert field.record["training"]["steps"] == 30
    assert field.record["training"]["seed"] == 3
    assert field.record["architecture"]["field"]["width"] == 16  # the file's settings were used
    assert field(np.array([[0.5, 0.5]])).shape == (1,)
    # the error printed is the one stored
    err = field.record["metrics"]["relative_l2"]
    assert f"{err:.3e}" in text
    assert main(["info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "poisson2d_sine" in info and "-\\Delta u = f" in info and "x[0, 1]:200" in info
    assert "relative l2" in info and "siren 2x16" in info
    assert main(["info", str(out), "--json"]) == 0
    assert '"relative_l2"' in capsys.readouterr().out


@pytest.mark.parametrize(
    "args", [["--steps", "0"], ["--seconds", "-1"], ["--steps", "5", "--seconds", "5"]]
)
def test_bad_budget_is_a_usage_error(tmp_path, args):
    with pytest.raises(SystemExit) as e:
        main(["solve", B1, "-o", str(tmp_path / "o.h5"), *args])
    assert e.value.code == 2


def test_seconds_help_says_what_an_adam_only_trainer_does(tmp_path, capsys, small_b1):
    adam_only = tmp_path / "adam_only.py"
    adam_only.write_text(
        Path(small_b1).read_text() + "\ntrainer = npde.Trainer(adam_steps=5, lbfgs_steps=0)\n"
    )
    out = str(tmp_path / "o.h5")
    assert main(["solve", str(adam_only), "-o", out, "--seconds", "60", "-q"]) == 0
    assert npde.load(out).record["training"]["steps"] == 5  # its Adam steps still a limit
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["solve", "--help"])
    assert "keeps its Adam steps as a limit" in " ".join(capsys.readouterr().out.split())


def test_derivatives_option_picks_the_engine(tmp_path, capsys, small_b1):
    losses = {}
    for engine in ("fused", "autograd"):
        out = tmp_path / f"{engine}.h5"
        argv = ["solve", small_b1, "-o", str(out), "--steps", "10", "--derivatives", engine]
        argv += ["-q", "--soft"]  # the fused engine needs a field without hard constraints
        assert main(argv) == 0
        record = npde.load(out).record
        assert record["training"]["settings"]["trainer"]["derivatives"] == engine
        assert record["training"]["settings"]["derivatives_used"] == engine
        assert main(["info", str(out)]) == 0
        assert f"derivatives {engine}" in capsys.readouterr().out
        losses[engine] = record["training"]["history"]["loss"][-1]
    capsys.readouterr()
    assert losses["fused"] == pytest.approx(losses["autograd"], rel=1e-6)
    with pytest.raises(SystemExit) as e:
        main(["solve", small_b1, "-o", str(tmp_path / "x.h5"), "--derivatives", "forward"])
    assert e.value.code == 2


def test_bad_device_is_refused_before_any_work(tmp_path, capsys, small_b1):
    out = tmp_path / "o.h5"
    assert main(["solve", small_b1, "-o", str(out), "--device", "tpu"]) == 2
    line = _err(capsys)
    assert line.startswith("neuralpde: error: --device:") and "'tpu'" in line
    assert not out.exists()


def test_dtype_option_overrides_the_problem_file(tmp_path, capsys, small_b1):
    out = tmp_path / "o.h5"
    argv = ["solve", small_b1, "-o", str(out), "--steps", "4", "-q"]
    assert main([*argv, "--dtype", "float64"]) == 0
    assert npde.load(out).record["training"]["settings"]["dtype"] == "float64"
    threads = torch.get_num_threads()
    try:
        assert main([*argv, "--float32", "--threads", "1"]) == 0
    finally:  # main ran in this process
        torch.set_num_threads(threads)
    settings = npde.load(out).record["training"]["settings"]
    assert settings["dtype"] == "float32" and settings["threads"] == 1
    capsys.readouterr()
    for bad in (["--dtype", "float16"], ["--dtype", "float64", "--float32"], ["--threads", "0"]):
        with pytest.raises(SystemExit) as e:
            main([*argv, *bad])
        assert e.value.code == 2


def test_a_diverged_run_is_never_written_as_a_result(tmp_path, capsys, small_b1):
    out = tmp_path / "p.h5"
    assert main(["solve", small_b1, "-o", str(out), "--steps", "10", "--quiet"]) == 0
    good = out.read_bytes()
    diverging = tmp_path / "diverging.py"
    diverging.write_text(
        Path(small_b1).read_text()
        + "\ntrainer = npde.Trainer(adam_steps=30, lbfgs_steps=0, lr=1e30)\n"
    )
    capsys.readouterr()
    assert main(["solve", str(diverging), "-o", str(out), "--quiet"]) == 1
    assert "not written: training diverged" in capsys.readouterr().out
    assert out.read_bytes() == good
    fresh = tmp_path / "fresh.h5"  # nor is it written where nothing would be replaced
    assert main(["solve", str(diverging), "-o", str(fresh), "--quiet"]) == 1
    assert not fresh.exists()


def test_matrix_diffusivity_solves_saves_and_is_described(tmp_path, capsys):
    """Heat with a constant tensor K: the file stores K as nested lists, `info` prints it and
    the finite-difference reference refuses it in one line."""
    f = tmp_path / "aniso.py"
    f.write_text(
        textwrap.dedent("""
        import math, torch
        import neuralpde as npde
        problem = npde.Problem(
            npde.SpaceTime(npde.Rectangle((0, 0), (1, 1)), (0, 0.5)),
            npde.Heat(kappa=[0.1, 0.05]),
            [npde.Dirichlet(0.0),
             npde.Initial(lambda x: torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1]))],
            name="aniso",
        )
        field = npde.Siren(width=8, depth=1)
        sampler = npde.SobolSampler(64, 32, 32)
    """)
    )
    out = tmp_path / "a.h5"
    assert main(["solve", str(f), "-o", str(out), "--steps", "3", "-q"]) == 0
    eq = npde.load(out).record["problem"]["equation"]
    assert eq["kappa"] == [[0.1, 0.0], [0.0, 0.05]]
    assert eq["latex"] == r"u_t = \nabla\cdot(K \nabla u) + f"
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    assert "equation:    Heat, kappa=[[0.1, 0.0], [0.0, 0.05]], f=0.0" in capsys.readouterr().out
    assert main(["reference", str(f), "-o", str(tmp_path / "r.h5")]) == 2
    err = capsys.readouterr().err
    assert "does not support an anisotropic (tensor) Heat.kappa" in err
    assert not (tmp_path / "r.h5").exists()


def test_solve_prints_the_derived_settings_and_what_the_file_overrides(tmp_path, capsys, small_b1):
    bare = tmp_path / "bare.py"
    bare.write_text(f"from pathlib import Path\nexec(Path({B1!r}).read_text())\n")
    assert main(["solve", str(bare), "-o", str(tmp_path / "a.h5"), "--steps", "3"]) == 0
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("settings: "))
    assert "Levenberg-Marquardt float64" in line and "built-in conditions: 1" in line
    assert line.endswith("budget from the command line: 3 Gauss-Newton steps, no time limit")
    rec = npde.load(tmp_path / "a.h5").record
    assert rec["training"]["steps"] == 3
    assert rec["architecture"]["constraint"]["built_in"] == [0]
    assert main(["solve", small_b1, "-o", str(tmp_path / "b.h5"), "--steps", "3"]) == 0
    line = next(x for x in capsys.readouterr().err.splitlines() if x.startswith("settings: "))
    assert "(the problem file sets its own field, sampler, trainer)" in line


# -- solve --grid --------------------------------------------------------------------------------


def test_solve_writes_the_grid_asked_for(tmp_path, capsys):
    small = tmp_path / "small_heat.py"
    small.write_text(
        textwrap.dedent(f"""
        from pathlib import Path
        import neuralpde as npde
        exec(Path({str(ROOT / "problems" / "heat2d.py")!r}).read_text())
        field = npde.Siren(width=8, depth=1, w0=1.0)
        sampler = npde.SobolSampler(n_interior=64, n_boundary=32, n_initial=32)
        trainer = npde.Trainer(adam_steps=3, lbfgs_steps=0)
    """)
    )
    out = tmp_path / "h.h5"
    args = ["solve", str(small), "-o", str(out), "--no-estimate", "-q"]
    assert main([*args, "--grid", "12x10x7"]) == 0
    coords, u = npde.load(out).grid
    assert u.shape == (12, 10, 7) and [len(c) for c in coords.values()] == [12, 10, 7]
    assert main([*args, "--grid", "12x10"]) == 2  # refused before training
    assert "--grid: 12x10 gives 2 point counts" in capsys.readouterr().err
