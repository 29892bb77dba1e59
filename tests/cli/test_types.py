"""The command line's problem-file loader and output checks (:mod:`neuralpde.cli._types`):
problem files that are missing, fail or define no problem, outputs that cannot be written, all
usage errors in one line."""

from __future__ import annotations

import os
import stat
import sys
import textwrap
from pathlib import Path

import pytest

from neuralpde.cli import load_problem_file, main

from ..conftest import B1
from .conftest import _err


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
