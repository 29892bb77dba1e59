"""``neuralpde validate``: its exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import pytest

from neuralpde.cli import main
from neuralpde.report import write_report
from neuralpde.validate import validate

from .conftest import _err


def test_cli_validate_exit_codes(files, tmp_path, capsys):
    sol, ref = files["sol"], files["ref"]
    assert main(["validate", sol, "--reference", ref, "-q"]) == 0
    out = capsys.readouterr().out
    assert "relative L2:" in out and "reference error:" in out
    assert main(["validate", sol, "--exact", "--tol", "10", "-q"]) == 0
    assert "PASS" in capsys.readouterr().out
    assert main(["validate", sol, "--reference", ref, "--tol", "1e-9", "-q"]) == 1
    assert "FAIL" in capsys.readouterr().out
    rep = tmp_path / "report"
    assert main(["validate", sol, "--reference", ref, "--report", str(rep), "-q"]) == 0
    assert (rep / "report.md").is_file() and (rep / "fields.png").is_file()
    capsys.readouterr()
    usage = {
        "exactly one of": [[], ["--reference", ref, "--exact"]],
        "--tol must be a positive number": [["--exact", "--tol", "x"], ["--exact", "--tol", "0"]],
        "no such file": [["--reference", str(tmp_path / "missing.h5")]],
        "is a neuralpde solution file, not a reference": [["--reference", sol]],
    }
    for message, cases in usage.items():
        for extra in cases:
            assert main(["validate", sol, *extra, "-q"]) == 2, extra
            assert message in _err(capsys)
    assert main(["validate", ref, "--exact", "-q"]) == 2
    assert "is a neuralpde reference file, not a solution" in _err(capsys)
    no_exact = tmp_path / "no_exact.h5"
    shutil.copy(sol, no_exact)
    with h5py.File(no_exact, "a") as f:
        del f["exact"]
        del f.attrs["content_sha256"]  # as a file written before digests (else: altered)
    assert main(["validate", str(no_exact), "--exact", "-q"]) == 2
    # the error, after the warning (where logs reach standard error) that it has no digest
    err = capsys.readouterr().err.strip().splitlines()
    assert "no 'exact' dataset" in err[-1] and all("no content digest" in e for e in err[:-1])
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    assert main(["validate", sol, "--exact", "--report", str(a_file), "-q"]) == 2
    assert "not a directory" in _err(capsys)
    # a directory that cannot be created is refused before the comparison, naming the option
    below_a_file = a_file / "report"
    assert main(["validate", sol, "--exact", "--report", str(below_a_file), "-q"]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    assert cap.err.strip() == (
        f"neuralpde: error: --report: report directory {str(below_a_file)!r} cannot be "
        f"created: {str(a_file)!r} is a file"
    )
    with pytest.raises(NotADirectoryError, match="cannot be created"):
        write_report(validate(sol, exact=True), below_a_file)
    if Path("/proc/self").is_dir():  # access() lets root write there; creating a file fails
        assert main(["validate", sol, "--exact", "--report", "/proc/report", "-q"]) == 2
        cap = capsys.readouterr()
        assert cap.out == ""
        assert "report directory '/proc/report' cannot be written: '/proc' is not" in cap.err
