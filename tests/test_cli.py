"""The command line, end to end, and its errors."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.cli import load_problem_file, main

from .conftest import ROOT

B1 = str(ROOT / "problems" / "poisson2d_sine.py")


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


def test_console_script_runs(tmp_path, small_b1):
    """The installed entry point works as a separate process, as users call it."""
    out = tmp_path / "p.h5"
    exe = os.path.join(os.path.dirname(sys.executable), "neuralpde")
    r = subprocess.run(
        [exe, "solve", small_b1, "-o", str(out), "--steps", "10"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "relative L2 error vs exact" in r.stdout
    assert out.is_file()


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # one clear line
    return err[0]


def test_missing_problem_file(tmp_path, capsys):
    assert main(["solve", str(tmp_path / "nope.py"), "-o", str(tmp_path / "o.h5")]) == 2
    assert "does not exist" in _err(capsys)


def test_file_without_problem(tmp_path, capsys):
    f = tmp_path / "empty.py"
    f.write_text("x = 1\n")
    assert main(["solve", str(f), "-o", str(tmp_path / "o.h5")]) == 2
    assert "defines no problem" in _err(capsys)


def test_a_problem_file_that_is_not_one_problem_is_named_for_what_it_is(tmp_path, capsys):
    out = str(tmp_path / "o.h5")
    assert main(["solve", str(tmp_path), "-o", out]) == 2
    assert _err(capsys).endswith("is a directory; give a Python file")
    f = tmp_path / "number.py"
    f.write_text("problem = 42\n")
    assert main(["solve", str(f), "-o", out]) == 2
    assert _err(capsys).endswith("'problem' must be a neuralpde.Problem, got int")
    f = tmp_path / "two.py"
    f.write_text(
        "import neuralpde as npde\n"
        "a = npde.Problem(npde.Interval(0, 1), npde.Poisson(1.0), [npde.Dirichlet(0.0)])\n"
        "b = npde.Problem(npde.Interval(0, 1), npde.Poisson(2.0), [npde.Dirichlet(0.0)])\n"
    )
    assert main(["solve", str(f), "-o", out]) == 2
    assert "defines 2 problems (a, b) and none named 'problem'" in _err(capsys)


def test_file_that_fails(tmp_path, capsys):
    f = tmp_path / "bad.py"
    f.write_text("import neuralpde\nproblem = neuralpde.Rectangle((0, 0), (0, 1))\n")
    assert main(["solve", str(f), "-o", str(tmp_path / "o.h5")]) == 2
    line = _err(capsys)
    assert "failed to run" in line and "upper must exceed lower" in line


def test_unwritable_output(tmp_path, capsys):
    assert main(["solve", B1, "-o", str(tmp_path / "missing" / "o.h5")]) == 2
    assert "does not exist" in _err(capsys)
    if os.geteuid() != 0:  # root can write anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        assert main(["solve", B1, "-o", str(ro / "o.h5")]) == 2
        assert "not writable" in _err(capsys)


def test_outputs_that_cannot_take_a_file_are_refused_before_training(tmp_path, capsys, small_b1):
    pipe = tmp_path / "pipe.h5"  # like /dev/null: not a file to replace by renaming over it
    os.mkfifo(pipe)
    assert main(["solve", small_b1, "-o", str(pipe), "--steps", "2"]) == 2
    out, err = capsys.readouterr()
    assert "exists and is not a regular file" in err and "steps in" not in out
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    if Path("/proc/self").is_dir():  # access() lets root write there; creating a file fails
        assert main(["solve", small_b1, "-o", "/proc/o.h5", "--steps", "2"]) == 2
        out, err = capsys.readouterr()
        assert "output directory '/proc' is not writable" in err and "steps in" not in out


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


def test_bad_settings_in_problem_file(tmp_path, capsys):
    f = tmp_path / "p.py"
    f.write_text(
        textwrap.dedent(f"""
        from pathlib import Path
        exec(Path({B1!r}).read_text())
        trainer = "fast"
    """)
    )
    assert main(["solve", str(f), "-o", str(tmp_path / "o.h5")]) == 2
    assert "'trainer' must be a Trainer" in _err(capsys)


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


def test_closed_standard_output_ends_quietly(tmp_path):
    """`neuralpde solve ... | head -1`: the file is written, no error message, status 141."""
    out = tmp_path / "o.h5"
    code = (
        "import sys\n"
        "from neuralpde.cli import main\n"
        f"sys.exit(main(['solve', {B1!r}, '-o', {str(out)!r}, '--steps', '2', '-q']))\n"
    )
    r = subprocess.run(
        f'{sys.executable} -c "{code}" | head -c 1',
        shell=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert r.stderr == "", r.stderr
    assert out.exists() and npde.load(out).record["training"]["steps"] == 2


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


@pytest.mark.parametrize("value", ['"float32"', "torch.float16"])
def test_bad_dtype_in_problem_file_is_a_usage_error(tmp_path, capsys, value):
    f = tmp_path / "p.py"
    f.write_text(f"import torch\nfrom pathlib import Path\nexec(Path({B1!r}).read_text())\n")
    f.write_text(f.read_text() + f"dtype = {value}\n")
    assert main(["solve", str(f), "-o", str(tmp_path / "o.h5")]) == 2
    line = _err(capsys)
    assert f"problem file {str(f)!r}: dtype must be torch.float32 or torch.float64" in line
    assert "float32'" in line or "float16" in line


def test_output_may_not_be_the_problem_file(tmp_path, capsys, small_b1):
    before = Path(small_b1).read_text()
    for command in ("solve", "reference"):
        assert main([command, small_b1, "-o", small_b1]) == 2
        assert "is the problem file itself" in capsys.readouterr().err
    assert Path(small_b1).read_text() == before


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


def test_errors_in_the_problems_own_code_are_one_line_with_their_place(tmp_path, capsys):
    f = tmp_path / "bad_residual.py"
    f.write_text(
        textwrap.dedent("""
        import neuralpde as npde
        from neuralpde.operators import laplacian


        def residual(u, x):
            return laplacian(u) + x[:, 2]


        problem = npde.Problem(npde.Rectangle((0, 0), (1, 1)), residual, [npde.Dirichlet(0.0)])
    """)
    )
    assert main(["solve", str(f), "-o", str(tmp_path / "o.h5"), "--steps", "2", "-q"]) == 1
    line = _err(capsys)
    assert line.startswith("neuralpde: error: IndexError: index 2 is out of bounds")
    assert line.endswith(f"(in {f}, line 7, in residual)")
    # the common slips raise ValueError/RuntimeError, which get their place too
    shapes = tmp_path / "bad_shapes.py"
    shapes.write_text(
        f.read_text()
        .replace("x[:, 2]", "torch.ones(3)")
        .replace("import neuralpde as npde", "import neuralpde as npde\nimport torch")
    )
    assert main(["solve", str(shapes), "-o", str(tmp_path / "o.h5"), "--steps", "2", "-q"]) == 1
    line = _err(capsys)
    assert line.startswith("neuralpde: error: RuntimeError: The size of tensor a")
    assert line.endswith(f"(in {shapes}, line 8, in residual)")
    exits = tmp_path / "exits.py"
    exits.write_text("import sys\nsys.exit(3)\n")
    assert main(["solve", str(exits), "-o", str(tmp_path / "o.h5")]) == 2
    assert "called sys.exit(3)" in _err(capsys)


def test_warnings_are_one_line_and_the_display_is_restored(tmp_path, capsys, small_b1):
    import warnings

    f = tmp_path / "bare_part.py"
    text = (
        Path(small_b1)
        .read_text()
        .replace(
            "field = ",
            "import dataclasses\nproblem = dataclasses.replace(problem, conditions=["
            "npde.Dirichlet(0.0, on=['x_min', 'x_max', 'y_max'], weight=100.0)])\nfield = ",
            1,
        )
    )
    f.write_text(text)
    before = warnings.showwarning
    with warnings.catch_warnings():
        warnings.simplefilter("always", npde.ProblemWarning)
        code = main(["solve", str(f), "-o", str(tmp_path / "p.h5"), "--steps", "2", "--quiet"])
    assert code == 0
    err = _err(capsys)
    lines = [ln for ln in err.splitlines() if "ProblemWarning" in ln]
    assert lines and lines[0].startswith("neuralpde: warning: ProblemWarning: problem ")
    assert "no boundary condition" in lines[0]
    assert "sol = solve(" not in err and "cli.py" not in err  # no source line, no path
    assert warnings.showwarning is before


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


def test_a_problem_file_imports_the_modules_beside_it(tmp_path):
    (tmp_path / "shapes_beside.py").write_text(
        "import neuralpde as npde\nSQUARE = npde.Rectangle((0, 0), (2, 1))\n"
    )
    (tmp_path / "p.py").write_text(
        "import neuralpde as npde\n"
        "from shapes_beside import SQUARE\n"
        "problem = npde.Problem(SQUARE, npde.Poisson(f=1.0), [npde.Dirichlet(0.0)], name='p')\n"
    )
    before = list(sys.path)
    problem = load_problem_file(str(tmp_path / "p.py"))["problem"]
    assert problem.domain.measure == pytest.approx(2.0)
    assert sys.path == before  # the file's folder is on the path only while it runs


def test_problem_files_in_two_folders_import_their_own_module_of_one_name(tmp_path):
    """Each folder's `shapes.py` is its own: the first one imported is not kept for the other
    (as in validation/run.py, which loads several problem files in one process)."""
    for width in (2, 3):
        folder = tmp_path / f"w{width}"
        (folder / "shapes").mkdir(parents=True)  # a package beside the problem file
        (folder / "shapes" / "__init__.py").write_text(
            f"import neuralpde as npde\nBOX = npde.Rectangle((0, 0), ({width}, 1))\n"
        )
        (folder / "p.py").write_text(
            "import neuralpde as npde\n"
            "from shapes import BOX\n"
            "problem = npde.Problem(BOX, npde.Poisson(f=1.0), [npde.Dirichlet(0.0)], name='p')\n"
        )
    for width in (2, 3, 2):
        problem = load_problem_file(str(tmp_path / f"w{width}" / "p.py"))["problem"]
        assert problem.domain.measure == pytest.approx(width)
    assert "shapes" not in sys.modules


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
