"""Property-based fuzzing (the strategies are in ``tests/fuzzing.py``): bad API arguments and
command lines are refused with a documented error, never a traceback; damaged and crafted files
are refused or read right, never hang, never open another file, never load a wrong network as
the right one, and their reading stays within bounded memory.

Each run draws the same examples (the ``ci`` profile of ``conftest.py``): at least 1,000 bad API
inputs and command lines, and 500 damaged files, in about a minute. ``NEURALPDE_FUZZ_EXAMPLES``
raises the examples per property (the damaged files are five times as many);
``benchmarks/robustness.py`` runs the long campaign.
"""

from __future__ import annotations

import json
import logging
import os
import re
import resource
import subprocess
import sys

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neuralpde as npde
from neuralpde.io import FormatError, read_grid
from neuralpde.io._reading import content_digest
from neuralpde.validate import validate

from ..conftest import ROOT
from ..fuzzing import (
    TINY_PROBLEM,
    Case,
    Tally,
    Workspace,
    argv_cases,
    check_cli,
    condition_cases,
    data_cases,
    domain_cases,
    equation_cases,
    evaluation_cases,
    field_cases,
    file_api_cases,
    make_workspace,
    max_rss_bytes,
    problem_cases,
    route_logging_to_stderr,
    sampler_cases,
    solve_cases,
    trainer_cases,
    write_version_1,
)

_ASKED = int(os.environ.get("NEURALPDE_FUZZ_EXAMPLES", "0") or 0)
#: Examples of each API property (at least the default: the counts below rely on it).
EXAMPLES = max(120, _ASKED)
#: Damaged files, checked in a subprocess.
FILES = max(520, 5 * _ASKED)
#: The most the subprocess's peak resident memory may grow over its own after imports.
MEMORY_GROWTH = 500 * 2**20

TALLY = Tally()
RAN: set[str] = set()
API_TESTS = {
    "fields",
    "samplers",
    "domains",
    "conditions",
    "equations",
    "problems",
    "trainers",
    "solve",
    "files and validate",
    "field evaluation",
    "meshes and grid data",
    "command lines",
}


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    route_logging_to_stderr()
    return make_workspace(tmp_path_factory.mktemp("fuzz"))


def _run(case: Case) -> None:
    RAN.add(case.family)
    TALLY.add(case.family, case.run())


api = settings(max_examples=EXAMPLES)


@api
@given(case=field_cases())
def test_field_specifications(case):
    _run(case)


@api
@given(case=sampler_cases())
def test_samplers(case):
    _run(case)


@api
@given(case=domain_cases())
def test_domains(case):
    _run(case)


@api
@given(case=condition_cases())
def test_conditions(case):
    _run(case)


@api
@given(case=equation_cases())
def test_equations_and_their_coefficients(case):
    _run(case)


@api
@given(case=problem_cases())
def test_problems(case):
    _run(case)


@api
@given(case=trainer_cases())
def test_trainers(case):
    _run(case)


@api
@given(data=st.data())
def test_solve_keywords(ws, data):
    _run(data.draw(solve_cases(ws)))


@api
@given(data=st.data())
def test_readers_writers_and_validate(ws, data):
    _run(data.draw(file_api_cases(ws)))


@api
@given(data=st.data())
def test_field_evaluation(ws, data):
    _run(data.draw(evaluation_cases(ws)))


@api
@given(data=st.data())
def test_meshes_and_grid_data(ws, data):
    _run(data.draw(data_cases(ws)))


@settings(max_examples=2 * EXAMPLES)
@given(data=st.data())
def test_command_lines(ws, data):
    RAN.add("command lines")
    TALLY.add("command lines", check_cli(data.draw(argv_cases(ws))))


@pytest.mark.slow
def test_damaged_files_in_a_subprocess(tmp_path):
    """500 damaged or crafted files, each read by every reader and the command line, in a
    process of its own whose peak memory is measured."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    cmd = [sys.executable, "-m", "tests.fuzzing", "files", "--examples", str(FILES)]
    proc = subprocess.run(
        [*cmd, "--folder", str(tmp_path), "--stop"],
        cwd=ROOT,
        # each example is named on standard error: the last one names a hang or a crash
        env={**os.environ, "OMP_NUM_THREADS": "1", "NEURALPDE_FUZZ_TRACE": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, (proc.stdout[-5000:], proc.stderr[-5000:])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    tally = Tally.from_json(result["tally"])
    assert not tally.findings, "\n".join(tally.findings)
    assert result["files"] >= 500
    families = {k for k in tally.counts if not k.endswith("calls")}
    assert len(families) >= 20, sorted(families)
    assert result["peak_rss"] - result["baseline_rss"] <= MEMORY_GROWTH, result
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if after > before:  # the largest child so far is this one: the same peak, seen from here
        assert max_rss_bytes(resource.RUSAGE_CHILDREN) - result["baseline_rss"] <= MEMORY_GROWTH


def test_every_api_property_counted_1000_refusals():
    """Runs after the properties above (in file order): at least 1,000 bad inputs were
    refused with a documented error, and none had another outcome."""
    if RAN != API_TESTS:
        pytest.skip(f"only {sorted(RAN)} ran: the counts need every API property")
    assert TALLY.total("clean error") >= 1000, TALLY.counts
    assert TALLY.total() == TALLY.total("success", "clean error", "fail verdict")


# -- what the fuzzing found, pinned -------------------------------------------------------------


def _arch(f: h5py.File) -> str:
    return f["model"].attrs["architecture"]


def _edit(path, change) -> None:
    with h5py.File(path, "a") as f:
        change(f)


def test_a_global_heap_object_that_never_ends_is_refused_before_hdf5_walks_it(ws, tmp_path):
    """HDF5 (2.0 too) loops forever on a global heap object of size 0, as a block of zeros
    over a file's string attributes makes: the file is refused before HDF5 reads it."""
    path = tmp_path / "zeros.h5"
    data = bytearray(ws.solution.read_bytes())
    first = data.find(b"GCOL") + 16  # the collection's header, then its first object
    size = int.from_bytes(data[first + 8 : first + 16], "little")
    second = first + 16 + -(-size // 8) * 8
    data[second : second + 16] = bytes(16)  # the second object's header: index 0, size 0
    path.write_bytes(bytes(data))
    code = "import sys, neuralpde; neuralpde.load(sys.argv[1])"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 1 and "FormatError" in proc.stderr, proc.stderr[-2000:]
    assert "global heap collection" in proc.stderr and "never ends" in proc.stderr


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.attrs.__setitem__("neuralpde_coordinates", '["y", "x"]'),
        lambda f: f["model"].attrs.__setitem__("dtype", "float32"),
        lambda f: f["model"].attrs.__setitem__(
            "architecture", _arch(f).replace('"w0": [3.0]', '"w0": [3.5]')
        ),
        lambda f: f["model"].attrs.__setitem__(
            "architecture", re.sub(r'"scale": ([-0-9.e]+)', r'"scale": 2\1', _arch(f))
        ),
    ],
    ids=["coordinates swapped", "dtype", "w0", "constraint scale"],
)
def test_the_digest_covers_what_defines_the_network(ws, tmp_path, change):
    """Edits of the attributes that define what the stored network computes (and so pass a
    digest of the arrays alone) are refused."""
    path = tmp_path / "s.h5"
    path.write_bytes(ws.solution.read_bytes())
    with h5py.File(path, "r") as f:
        before = {k: str(v) for k, v in [*f.attrs.items(), *f["model"].attrs.items()]}
    _edit(path, change)
    with h5py.File(path, "r") as f:
        assert before != {k: str(v) for k, v in [*f.attrs.items(), *f["model"].attrs.items()]}
    with pytest.raises(FormatError, match="content digest does not match"):
        npde.load(path)


def test_a_version_1_digest_still_loads_with_a_warning(ws, tmp_path, caplog):
    """Files written before the digest covered the attributes (its version 1, in files of
    format version 1) still load; in a file of format version 2, whose writers never wrote
    one, such a digest is refused."""
    path = tmp_path / "s.h5"
    path.write_bytes(ws.solution.read_bytes())

    def values_only(f: h5py.File) -> None:
        arrays = {k: f[k][()] for k in ("x", "y", "u", "exact")}
        params = {f"model/parameters/{k}": v[()] for k, v in f["model/parameters"].items()}
        arrays = {f"/{k}": v for k, v in {**arrays, **params}.items()}
        f.attrs["content_sha256"] = content_digest(arrays)

    _edit(path, values_only)
    with pytest.raises(FormatError, match="content digest does not match"):
        npde.load(path)
    write_version_1(path)
    _edit(path, values_only)
    with caplog.at_level(logging.WARNING, logger="neuralpde.io"):
        field = npde.load(path)
    assert "a content digest of its values only" in caplog.text
    np.testing.assert_array_equal(field([[0.3, 0.4]]), ws.field([[0.3, 0.4]]))


@pytest.mark.parametrize(
    "description",
    ["[1, 2]", '{"domain": [0, 1]}', '{"conditions": [3]}', '{"domain": {"lower": [0]}}'],
)
def test_a_description_of_the_wrong_shape_is_a_format_error(ws, tmp_path, description):
    path = tmp_path / "s.h5"
    path.write_bytes(ws.solution.read_bytes())
    _edit(path, lambda f: f["problem"].attrs.__setitem__("description", description))
    with pytest.raises(FormatError, match="attribute 'description' of '/problem'"):
        validate(path, exact=True)
    assert check_cli(["validate", str(path), "--exact"]) == "clean error"


def test_read_grid_of_a_damaged_file_is_a_format_error(ws, tmp_path):
    path = tmp_path / "r.h5"
    path.write_bytes(ws.reference.read_bytes())

    def scale_to_group(f: h5py.File) -> None:
        del f["y"]
        f.create_group("y")

    _edit(path, scale_to_group)
    with pytest.raises(FormatError, match="cannot be read: it is damaged"):
        read_grid(path, "u")


def test_command_line_errors_are_one_line_whatever_the_message(ws):
    raises = str(ws.problems["raises"])
    assert check_cli(["solve", raises, "-o", ws.files["out"]]) == "clean error"


def test_checkpoint_every_is_checked_without_a_checkpoint():
    with pytest.raises(ValueError, match="checkpoint_every must be a number of seconds >= 0"):
        npde.solve(TINY_PROBLEM, checkpoint_every=-1)


def test_a_wave_speed_whose_square_overflows_is_a_value_error():
    from neuralpde.checks import check_problem

    problem = npde.Problem(
        npde.SpaceTime(npde.Interval(0, 1), (0, 1)),
        npde.Wave(c=1e200),
        [npde.Dirichlet(0.0), npde.Initial(0.0), npde.InitialVelocity(0.0)],
    )
    with pytest.raises(ValueError, match="NaN or infinite|must be finite"):
        check_problem(problem)


def test_read_grid_checks_a_coordinates_length_before_reading_it(ws, tmp_path):
    """A coordinate scale declaring 2**27 values (1 GiB, compressed to nothing) beside a 6 x 6
    grid is refused from its declared length, not read (it was, three copies of it)."""
    path = tmp_path / "s.h5"
    path.write_bytes(ws.solution.read_bytes())

    def huge_scale(f: h5py.File) -> None:
        f["u"].dims[1].detach_scale(f["x"])  # (y, x): CF's order
        del f["x"]
        f.create_dataset("x", shape=(2**27,), chunks=(2**16,), dtype="f8", compression="gzip")
        f["x"].make_scale("x")
        f["u"].dims[1].attach_scale(f["x"])

    _edit(path, huge_scale)
    with pytest.raises(FormatError, match=r"has 134217728 coordinates; 'u' has 6 values"):
        read_grid(path, "u")


def test_a_divergence_form_diffusivity_written_with_numpy_is_a_type_error():
    from neuralpde.checks import check_problem

    problem = npde.Problem(
        npde.SpaceTime(npde.Interval(0, 1), (0, 1)),
        npde.Heat(kappa=lambda x: 2 + np.cos(x[:, 0].numpy()), divergence_form=True),
        [npde.Dirichlet(0.0), npde.Initial(0.0)],
    )
    with pytest.raises(TypeError, match=r"gradient of Heat.kappa is needed, but it calls NumPy"):
        check_problem(problem)


def test_the_digest_covers_the_problem_validate_judges_by(ws, tmp_path):
    """Conditions made Neumann ones would have validate compare the fields less their means:
    the same network judged otherwise. The edit is refused."""
    path = tmp_path / "s.h5"
    path.write_bytes(ws.solution.read_bytes())

    def neumann(f: h5py.File) -> None:
        desc = json.loads(f["problem"].attrs["description"])
        for c in desc["conditions"]:
            c["type"] = "Neumann"
        f["problem"].attrs["description"] = json.dumps(desc)

    _edit(path, neumann)
    with pytest.raises(FormatError, match="content digest does not match"):
        validate(path, exact=True)
