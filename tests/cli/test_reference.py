"""``neuralpde reference``: a reference file written and described, and its usage errors."""

from __future__ import annotations

import dataclasses
import math
import textwrap

import pytest

from neuralpde.cli import main
from neuralpde.reference import load_reference

from ..conftest import B1, ROOT
from .conftest import _err

HEAT = str(ROOT / "problems" / "heat2d.py")


@pytest.fixture
def b1_file(tmp_path):
    f = tmp_path / "b1.py"
    f.write_text(
        textwrap.dedent(f"""
        from pathlib import Path
        exec(Path({B1!r}).read_text())
        reference = npde.reference.Study(n=4, levels=3, order=4)
    """)
    )
    return str(f)


def test_cli_reference_then_info(b1_file, tmp_path, capsys):
    out = tmp_path / "r.h5"
    assert main(["reference", b1_file, "-o", str(out), "-q"]) == 0
    text = capsys.readouterr().out
    assert "difference" in text and "estimated error of the finest grid" in text
    ref = load_reference(out)
    assert ref.settings["n"] == [4, 4] and ref.order == 4 and len(ref.table) == 3
    assert f"{ref.estimated_error:.3e}" in text and f"wrote {out}" in text
    assert f"(Richardson, observed order {ref.observed_order:.2f}; GCI" in text  # 3.95
    bumps = str(ROOT / "problems" / "poisson2d_bumps.py")
    assert main(["reference", bumps, "-o", str(tmp_path / "b.h5"), "--n", "8", "-q"]) == 0
    text = capsys.readouterr().out  # observed 6.29, above the scheme's 4: capped, and said so
    assert "(Richardson, order 4, the highest expected (observed 6.29); GCI" in text
    assert main(["reference", b1_file, "-o", str(out), "--n", "6", "--order", "2", "-q"]) == 0
    capsys.readouterr()
    assert load_reference(out).settings["n"] == [6, 6] and load_reference(out).order == 2
    assert main(["reference", b1_file, "-o", str(out), "--levels", "4", "--extrapolate", "-q"]) == 0
    assert "extrapolated sequence" in capsys.readouterr().out
    assert load_reference(out).extrapolated and load_reference(out).settings["extrapolate"]
    assert main(["info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "neuralpde reference" in info and "convergence:" in info and "checksum:" in info
    assert main(["info", str(out), "--json"]) == 0
    assert '"estimated_error"' in capsys.readouterr().out


def test_cli_reference_usage_errors(tmp_path, capsys):
    f = tmp_path / "p.py"
    head = f"from pathlib import Path\nexec(Path({B1!r}).read_text())\n"
    f.write_text(head + "reference = {'m': 1}\n")
    assert main(["reference", str(f), "-o", str(tmp_path / "r.h5")]) == 2
    assert "unknown key(s) ['m']" in _err(capsys)
    f.write_text(head + "reference = {'n': 1}\n")
    assert main(["reference", str(f), "-o", str(tmp_path / "r.h5")]) == 2
    assert "reference['n'] must give at least 2 intervals per axis" in _err(capsys)
    f.write_text(head + "reference = {'n': [8, 8, 8]}\n")  # the problem has two space axes
    assert main(["reference", str(f), "-o", str(tmp_path / "r.h5")]) == 2
    assert _err(capsys) == (
        f"neuralpde: error: problem file {str(f)!r}: reference settings: n must be an int or 2 "
        "ints (one per space axis), got [8, 8, 8]"
    )
    assert main(["reference", HEAT, "-o", str(tmp_path / "r.h5"), "--order", "4", "-q"]) == 2
    assert "cannot solve" in _err(capsys)
    assert main(["reference", B1, "-o", str(tmp_path / "r.h5"), "--time-samples", "3"]) == 2
    assert "evolution problems only" in _err(capsys)
    assert main(["reference", B1, "-o", str(tmp_path / "r.h5"), "--extrapolate"]) == 2
    assert "extrapolation (asked by --extrapolate) needs at least 4 levels" in _err(capsys)
    # asked by the file: the message says so, and --no-extrapolate overrides it
    f.write_text(head + "reference = {'extrapolate': True, 'n': 4}\n")
    assert main(["reference", str(f), "-o", str(tmp_path / "r.h5"), "--levels", "3"]) == 2
    assert "asked by the problem file's reference settings" in _err(capsys)
    out = tmp_path / "r.h5"
    assert main(["reference", str(f), "-o", str(out), "--levels", "3", "--no-extrapolate"]) == 0
    assert not load_reference(out).extrapolated


def test_cli_reference_refuses_levels_that_do_not_converge(tmp_path, capsys, monkeypatch):
    import neuralpde.reference as reference

    real = reference.convergence_study

    def diverging(*args, **kwargs):  # as if the differences between levels grew
        ref = real(*args, **kwargs)
        return dataclasses.replace(ref, estimated_error=math.inf, gci=math.inf)

    monkeypatch.setattr(reference, "convergence_study", diverging)
    out = tmp_path / "r.h5"
    assert main(["reference", B1, "-o", str(out), "--n", "4", "-q"]) == 1
    cap = capsys.readouterr()
    assert "estimated error of the finest grid: unknown" in cap.out
    assert cap.err.startswith("neuralpde: error: the finite-difference solutions")
    assert "do not converge" in cap.err and not out.exists()
