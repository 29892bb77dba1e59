"""Solution files read as untrusted data (:mod:`neuralpde.io._reading`): crafted or damaged
files are refused with a FormatError naming the file and the entry, before anything large is
allocated, and nothing outside the file is ever opened."""

from __future__ import annotations

import json
import logging
import re
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest

import neuralpde as npde
from neuralpde.cli import main
from neuralpde.io import file_kind, read_grid, read_solution
from neuralpde.io._reading import MAX_GRID_ELEMENTS, MAX_JSON_DEPTH, MAX_STRING_LENGTH

from ..crafted import refused, replace
from ..fuzzing import write_record

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def record():
    """The committed version-1 solution, read back (it has no content digest)."""
    return read_solution(DATA / "solution_v1.h5")


@pytest.fixture
def solution(tmp_path, record) -> Path:
    return write_record(tmp_path / "s.h5", record)


def a_weight(f: h5py.File) -> str:
    return next(k for k in f["model/parameters"] if k.endswith("weight"))


def test_a_file_written_by_neuralpde_loads_and_carries_its_digest(solution, record):
    field = npde.load(solution)
    assert re.fullmatch(r"[0-9a-f]{64}", field.record["content_sha256"])
    np.testing.assert_array_equal(field.grid[1], record["u"])
    assert read_solution(solution)["content_sha256"] == field.record["content_sha256"]


# -- links and storage outside the file ------------------------------------------------------


def test_an_external_link_is_refused_and_not_followed(solution, tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["u"] = np.zeros((12, 12))
    with h5py.File(solution, "a") as f:
        del f["u"]
        f["u"] = h5py.ExternalLink(str(other), "/u")
    for read in (npde.load, read_solution, file_kind):
        refused(read, solution, r"'/u' is an external link", "other.h5")
    assert main(["info", str(solution)]) == 2


def test_a_soft_link_loop_is_refused(solution):
    with h5py.File(solution, "a") as f:
        f["model/parameters/loop_a"] = h5py.SoftLink("/model/parameters/loop_b")
        f["model/parameters/loop_b"] = h5py.SoftLink("/model/parameters/loop_a")
    refused(npde.load, solution, r"'/model/parameters/loop_[ab]' is a soft link")


def test_a_soft_link_to_another_entry_is_refused(solution):
    with h5py.File(solution, "a") as f:
        del f["exact"]
        f["exact"] = h5py.SoftLink("/u")  # the exact solution made to agree with the field
    refused(npde.load, solution, r"'/exact' is a soft link \(to '/u'\)")


def test_a_hard_link_cycle_is_walked_once(solution):
    with h5py.File(solution, "a") as f:
        g = f.create_group("extra")
        g["again"] = g  # a group inside itself: the walk must end
    assert npde.load(solution).grid[1].shape == (12, 12)


def test_a_dataset_stored_in_an_external_file_is_refused(solution, tmp_path):
    raw = tmp_path / "values.bin"
    raw.write_bytes(np.ones(144).tobytes())
    with h5py.File(solution, "a") as f:
        replace(f, "u", shape=(12, 12), dtype="f8", external=[(str(raw), 0, 144 * 8)])
    refused(npde.load, solution, r"'/u' keeps its values in external files", "values.bin")


def test_a_virtual_dataset_is_refused(solution, tmp_path):
    source = tmp_path / "source.h5"
    with h5py.File(source, "w") as f:
        f["d"] = np.ones((12, 12))
    with h5py.File(solution, "a") as f:
        del f["u"]
        layout = h5py.VirtualLayout(shape=(12, 12), dtype="f8")
        layout[:] = h5py.VirtualSource(str(source), "d", shape=(12, 12))
        f.create_virtual_dataset("u", layout)
    refused(npde.load, solution, r"'/u' is a virtual dataset")


def test_a_grid_read_from_any_file_follows_no_link(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["kappa"] = np.ones(3)
    path = tmp_path / "map.h5"
    with h5py.File(path, "w") as f:
        f["kappa"] = h5py.ExternalLink(str(other), "/kappa")
        f["alias"] = h5py.SoftLink("/kappa")
    refused(lambda p: read_grid(p, "kappa"), path, r"'/kappa' is an external link")
    refused(lambda p: read_grid(p, "alias"), path, r"'/alias' is a soft link")


# -- sizes, types and filters, checked before reading -----------------------------------------


def test_a_dataset_declaring_2_to_the_40_elements_is_not_read(solution):
    with h5py.File(solution, "a") as f:
        replace(f, "u", shape=(2**40,), maxshape=(None,), chunks=(4096,), dtype="f8")
    refused(npde.load, solution, r"'/u' declares 1099511627776 elements", "not read")
    refused(read_solution, solution, r"'/u' declares 1099511627776 elements")


def test_weights_declaring_more_than_the_limit_are_not_read(solution):
    with h5py.File(solution, "a") as f:
        name = a_weight(f)
        replace(f, f"model/parameters/{name}", shape=(2**30,), chunks=(4096,), dtype="f4")
    refused(npde.load, solution, re.escape(f"'/model/parameters/{name}' declares 1073741824"))
    with h5py.File(solution, "a") as f:  # within the limit, but not its architecture's tensors
        replace(f, f"model/parameters/{name}", shape=(2**25,), chunks=(4096,), dtype="f4")
        f.create_dataset("model/parameters/more", shape=(2**25 + 1,), chunks=(4096,), dtype="f4")
    refused(npde.load, solution, r"does not hold the tensors of its architecture")


def test_a_gzip_bomb_beyond_the_limit_is_not_inflated(solution):
    """256 chunks of 8 MiB of zeros, 2 GiB in all, stored compressed in about 2 MB."""
    chunk = 2**20
    packed = zlib.compress(bytes(8 * chunk), 9)
    with h5py.File(solution, "a") as f:
        ds = replace(f, "u", shape=(256 * chunk,), chunks=(chunk,), dtype="f8", compression="gzip")
        for i in range(256):
            ds.id.write_direct_chunk((i * chunk,), packed)
    assert solution.stat().st_size < 4 * 2**20
    assert 256 * chunk > MAX_GRID_ELEMENTS
    refused(npde.load, solution, r"'/u' declares 268435456 elements", "not read")


def test_huge_chunks_are_not_read(solution):
    with h5py.File(solution, "a") as f:
        replace(f, "u", shape=(12, 12), maxshape=(None, None), chunks=(4096, 4096), dtype="f8")
    refused(npde.load, solution, r"'/u' comes in chunks of 134217728 bytes")


def test_a_filter_that_needs_a_plugin_is_refused(solution):
    with h5py.File(solution, "a") as f:
        ds = replace(
            f,
            "u",
            shape=(12, 12),
            chunks=(12, 12),
            dtype="f8",
            compression=32015,  # zstd: a plugin, not built into HDF5
            allow_unknown_filter=True,
        )
        ds.id.write_direct_chunk((0, 0), np.zeros(144).tobytes())
    refused(npde.load, solution, r"'/u' is filtered by filter 32015", "no plugin")


def test_a_corrupt_compressed_chunk_is_a_format_error(solution):
    with h5py.File(solution, "a") as f:
        ds = replace(f, "u", shape=(12, 12), chunks=(12, 12), dtype="f8", compression="gzip")
        ds.id.write_direct_chunk((0, 0), b"not deflate data at all")
    refused(npde.load, solution, r"'/u' cannot be read")


@pytest.mark.parametrize(
    ("entry", "dtype"),
    [("u", np.float16), ("u", np.complex64), ("x", np.float16), ("weight", np.float16)],
)
def test_dtypes_outside_the_allow_list_are_refused(solution, entry, dtype):
    with h5py.File(solution, "a") as f:
        name = f"model/parameters/{a_weight(f)}" if entry == "weight" else entry
        replace(f, name, data=np.asarray(f[name][()], dtype=dtype))
    name = np.dtype(dtype).name
    refused(npde.load, solution, r"'/[^']*' has dtype " + name, r"expected float32(,| or) float64")


@pytest.mark.parametrize("name", ["float16", "__class__", "torch.bfloat16", "nn"])
def test_a_dtype_name_outside_the_allow_list_is_never_looked_up(solution, name):
    with h5py.File(solution, "a") as f:
        f["model"].attrs["dtype"] = name
    refused(npde.load, solution, r"attribute 'dtype' of '/model'", re.escape(repr(name)))


# -- the stored architecture, checked before anything is built --------------------------------


def _set_architecture(path: Path, change) -> None:
    with h5py.File(path, "a") as f:
        arch = json.loads(f["model"].attrs["architecture"])
        change(arch)
        f["model"].attrs["architecture"] = json.dumps(arch)


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (
            lambda a: a["field"].update(width=10**6),
            r"\['width'\] must be an integer from 1 to 4096",
        ),
        (lambda a: a["field"].update(depth=10**5), r"\['depth'\] must be an integer from 1 to 64"),
        (
            lambda a: a["field"].update(width=4096, depth=64, w0=[1.0] * 64),
            r"holds \d+ numbers .*more than the 67108864",
        ),
        (lambda a: a.update(in_features=10**9), r"\['in_features'\] must be an integer"),
        (lambda a: a["field"].update(w0=[1e300, 1.0]), r"\['w0'\]\[0\] must be a positive"),
        (lambda a: a["field"].update(w0=["inf", 1.0]), r"\['w0'\]\[0\] must be a positive"),
        (lambda a: a["field"].update(type="eval"), r"unknown field type 'eval'"),
        (lambda a: a["input_scaling"].update(lower=[0.0]), r"\['lower'\] must hold 2 numbers"),
        (
            lambda a: a.update(
                constraint={
                    "pieces": [],
                    "norm": 1.0,
                    "scale": 1.0,
                    "time": None,
                    "lift": {"type": "chebyshev", "terms": 10**9},
                }
            ),
            r"\['lift'\]\['terms'\] must be an integer from 1 to 1048576",
        ),
        (
            lambda a: a.update(
                constraint={
                    "pieces": [{"kind": "plane", "axis": 7, "at": 0.0, "side": 1.0}],
                    "norm": 1.0,
                    "scale": 1.0,
                }
            ),
            r"\['pieces'\]\[0\]\['axis'\] must be an integer from 0 to 1",
        ),
    ],
    ids=[
        "width",
        "depth",
        "parameters",
        "in_features",
        "w0-huge",
        "w0-string",
        "type",
        "scaling",
        "lift-terms",
        "piece-axis",
    ],
)
def test_an_architecture_beyond_the_limits_is_refused_before_it_is_built(solution, change, pattern):
    _set_architecture(solution, change)
    refused(npde.load, solution, r"attribute 'architecture' of '/model' is refused", pattern)


def test_an_architecture_of_other_inputs_than_the_coordinates_is_refused(solution):
    _set_architecture(
        solution,
        lambda a: a.update(in_features=3, input_scaling={"lower": [0.0] * 3, "upper": [1.0] * 3}),
    )
    refused(npde.load, solution, r"in_features 3, but the file has the coordinates \['x', 'y'\]")


# -- attributes and JSON ------------------------------------------------------------------------


@pytest.mark.parametrize(("group", "name"), [("problem", "description"), ("model", "architecture")])
def test_json_nested_10000_deep_is_refused_without_recursion(solution, group, name):
    with h5py.File(solution, "a") as f:
        f[group].attrs[name] = "[" * 10_000 + "]" * 10_000
    pattern = rf"attribute '{name}' of '/{group}' nests .* more than {MAX_JSON_DEPTH} deep"
    refused(npde.load, solution, pattern)
    assert main(["info", str(solution)]) == 2


def test_json_that_does_not_parse_names_its_attribute(solution):
    with h5py.File(solution, "a") as f:
        f["training"].attrs["settings"] = '{"a": ' + "9" * 5000 + "}"  # beyond int's digits
        f["problem"].attrs["description"] = '{"a": [1, 2'
    refused(npde.load, solution, r"attribute 'description' of '/problem' is not JSON")
    with h5py.File(solution, "a") as f:
        f["problem"].attrs["description"] = "{}"
    refused(npde.load, solution, r"attribute 'settings' of '/training' cannot be parsed")


def test_a_string_attribute_beyond_the_limit_is_refused(solution):
    with h5py.File(solution, "a") as f:
        f["provenance"].attrs["platform"] = "x" * (MAX_STRING_LENGTH + 1)
    refused(npde.load, solution, r"attribute 'platform' of '/provenance' is a string of")


@pytest.mark.parametrize(
    ("damage", "pattern"),
    [
        (lambda f: f["model"].attrs.__setitem__("dtype", np.zeros(3)), r"'dtype' .* shape \(3,\)"),
        (
            lambda f: f["training"].attrs.__setitem__("seed", np.array([1 + 2j])[0]),
            r"attribute 'seed' of '/training' has dtype complex128",
        ),
        (
            lambda f: f["training"].attrs.__setitem__("seed", "seven"),
            r"'seed' .* expected a number",
        ),
        (lambda f: f["training"].attrs.__delitem__("steps"), r"attribute 'steps' .* is missing"),
        (lambda f: f.__delitem__("model/parameters"), r"KeyError: '/model/parameters' is missing"),
        (lambda f: f["metrics"].attrs.__setitem__("rmse", "low"), r"'rmse' of '/metrics'"),
        (
            lambda f: f["training"].__setitem__("extra_phase", np.array([b"x" * 100])),
            None,  # an entry the reader does not know is left alone
        ),
        (
            lambda f: (
                f["training"].__delitem__("phase"),
                f["training"].create_dataset("phase", data=np.array([b"adam" * 40])),
            ),
            r"'/training/phase' holds a string longer than 64 bytes",
        ),
        (
            lambda f: (
                f["training"].__delitem__("loss"),
                f["training"].create_dataset("loss", data=np.zeros((2, 2))),
            ),
            r"'/training/loss' has 2 dimensions",
        ),
        (lambda f: f.attrs.__setitem__("content_sha256", "0" * 63), r"'content_sha256' of '/'"),
        (
            lambda f: f.attrs.__setitem__("neuralpde_coordinates", '["x", "x"]'),
            r"'neuralpde_coordinates' must name",
        ),
    ],
    ids=[
        "array-attribute",
        "complex-attribute",
        "string-for-number",
        "missing-attribute",
        "missing-group",
        "metric-not-a-number",
        "unknown-entry",
        "long-phase",
        "history-2d",
        "bad-digest",
        "duplicate-coordinates",
    ],
)
def test_every_damage_is_a_format_error_naming_the_entry(solution, damage, pattern):
    with h5py.File(solution, "a") as f:
        damage(f)
    if pattern is None:
        assert npde.load(solution).grid[1].shape == (12, 12)
        return
    refused(npde.load, solution, pattern)


def test_nan_weights_are_refused(tmp_path, record):
    params = dict(record["parameters"])
    name = next(k for k in params if k.endswith("weight"))
    params[name] = np.where(
        np.arange(params[name].size).reshape(params[name].shape) == 0, np.nan, params[name]
    )
    path = write_record(tmp_path / "nan.h5", record, parameters=params)  # a matching digest
    refused(npde.load, path, re.escape(f"'/model/parameters/{name}' holds 1 NaN or infinite"))


# -- the content digest ---------------------------------------------------------------------


def test_a_flipped_byte_in_the_weights_breaks_the_digest(solution):
    with h5py.File(solution, "r") as f:
        ds = f[f"model/parameters/{a_weight(f)}"]
        offset = ds.id.get_offset()  # contiguous: the values lie there in the file
        assert offset is not None and ds.dtype == np.float64
    with open(solution, "r+b") as out:
        out.seek(offset)  # the lowest byte of the first weight (little-endian)
        byte = out.read(1)
        out.seek(offset)
        out.write(bytes([byte[0] ^ 0x01]))
    pattern = r"content digest does not match: the file was altered or damaged"
    refused(npde.load, solution, pattern)
    refused(read_solution, solution, pattern)


@pytest.mark.parametrize("how", ["values", "hard-link"])
def test_u_replaced_by_exact_breaks_the_digest(solution, how):
    with h5py.File(solution, "a") as f:  # the grid made to agree with the exact solution
        if how == "values":
            f["u"][...] = f["exact"][()]
        else:
            del f["u"]
            f["u"] = f["exact"]
    refused(npde.load, solution, r"content digest does not match")
    refused(read_solution, solution, r"content digest does not match")


def test_a_file_without_a_digest_loads_with_a_logged_warning(solution, caplog):
    with h5py.File(solution, "a") as f:
        del f.attrs["content_sha256"]
    with caplog.at_level(logging.WARNING, logger="neuralpde.io"):
        field = npde.load(solution)
    assert field.record["content_sha256"] is None
    assert "has no content digest" in caplog.text and str(solution) in caplog.text


def test_parameter_shapes_are_checked_against_the_architecture_before_reading(solution):
    """A tensor declared far larger than its architecture's (an unwritten chunked dataset of
    2**26 numbers costs nothing on disk) is refused before its values are read; so are missing
    and unexpected tensors."""
    with h5py.File(solution, "r+") as f:
        name = next(k for k in f["model/parameters"] if k.endswith("out.bias"))
        replace(f, f"model/parameters/{name}", shape=(2**26,), dtype="f8", chunks=(2**16,))
    refused(npde.load, solution, r"declares shape \(67108864,\), but its architecture's tensor")
    with h5py.File(solution, "r+") as f:
        del f[f"model/parameters/{name}"]
        f["model/parameters/extra"] = np.zeros(3)
    refused(npde.load, solution, r"missing \[.*out.bias'\], unexpected \['extra'\]")
