"""The command line's entry point (:mod:`neuralpde.cli._main`): the console script, a closed
standard output, and errors and warnings in one line."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import neuralpde as npde
from neuralpde.cli import main

from ..conftest import B1
from .conftest import _err


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
