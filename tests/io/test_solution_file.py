"""Solution files: round trip, self-description, versioning and atomic writes."""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.io import (
    FORMAT_VERSION,
    FormatError,
    check_writable,
    file_kind,
    read_grid,
    read_solution,
)
from neuralpde.reference import load_reference

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def heat_solution():
    """A briefly trained space-time solution (the values need not be accurate)."""
    pi = np.pi

    def exact(x):
        return torch.exp(-x[:, 2]) * torch.sin(pi * x[:, 0]) * torch.sin(pi * x[:, 1])

    problem = npde.Problem(
        npde.SpaceTime(npde.Rectangle((0, 0), (1, 2)), t_span=(0, 0.5)),
        npde.Heat(kappa=1 / (2 * pi**2)),
        [npde.Dirichlet(0.0), npde.Initial(exact)],
        exact=exact,
        name="tiny_heat",
    )
    return npde.solve(
        problem,
        npde.Siren(width=16, depth=2, w0=2.0),
        npde.SobolSampler(n_interior=128, n_boundary=64, n_initial=64),
        npde.Trainer(adam_steps=15, lbfgs_steps=5, progress=False),
        seed=7,
    )


def test_round_trip_values_equal(heat_solution, tmp_path):
    path = heat_solution.save(tmp_path / "s.h5", n=(9, 11, 5))
    field = npde.load(path)
    pts = np.random.default_rng(0).random((500, 3)) * [1, 2, 0.5]
    np.testing.assert_array_equal(field(pts), heat_solution(pts))
    np.testing.assert_allclose(field.gradient(pts), heat_solution.gradient(pts), rtol=1e-12)
    assert field.names == ("x", "y", "t")
    coords, grid = field.grid
    assert grid.shape == (9, 11, 5)
    np.testing.assert_allclose(coords["y"], np.linspace(0, 2, 11))
    # the stored grid is the field sampled at the stored coordinates
    mesh = np.meshgrid(*coords.values(), indexing="ij")
    np.testing.assert_allclose(
        field(np.column_stack([m.ravel() for m in mesh])).reshape(grid.shape), grid, rtol=1e-12
    )


def test_file_is_self_describing(heat_solution, tmp_path):
    path = heat_solution.save(tmp_path / "s.h5", n=8)
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "neuralpde-solution"
        assert f.attrs["format_version"] == FORMAT_VERSION
        assert json.loads(f.attrs["neuralpde_coordinates"]) == ["x", "y", "t"]
        assert "coordinates" not in f.attrs  # CF's name for another thing
        # CF's order: time first, then the space axes last to first
        assert f["u"].shape == f["exact"].shape == (8, 8, 8)
        for i, name in enumerate(("t", "y", "x")):
            assert h5py.h5ds.is_scale(f[name].id)
            assert f["u"].dims[i][0].name == f"/{name}"
            assert f["exact"].dims[i][0].name == f"/{name}"
        assert "DIMENSION_LABELS" not in f["u"].attrs
        assert f["training/step"].dtype.kind == "i"
        arch = json.loads(f["model"].attrs["architecture"])
        assert arch["field"]["type"] == "siren" and arch["in_features"] == 3

        # weights are plain numeric datasets: no pickled objects anywhere
        def no_objects(name, obj):
            if isinstance(obj, h5py.Dataset) and name != "training/phase":
                assert obj.dtype.kind in "fiu", name

        f.visititems(no_objects)
        desc = json.loads(f["problem"].attrs["description"])
        assert desc["equation"]["type"] == "Heat" and desc["name"] == "tiny_heat"
        assert json.loads(f["provenance"].attrs["versions"])["torch"] == torch.__version__
        assert f["training"].attrs["seed"] == 7
    rec = read_solution(path)
    assert rec["training"]["steps"] == heat_solution.result.steps
    assert rec["training"]["history"]["loss"][-1] == pytest.approx(
        heat_solution.history["loss"][-1]
    )
    assert rec["metrics"]["relative_l2"] == pytest.approx(heat_solution.error(n=8), rel=1e-12)


def test_committed_v1_fixture_loads():
    """A file written by format version 1 keeps loading and evaluating the same."""
    field = npde.load(DATA / "solution_v1.h5")
    coords, grid = field.grid
    mesh = np.meshgrid(*coords.values(), indexing="ij")
    values = field(np.column_stack([m.ravel() for m in mesh])).reshape(grid.shape)
    np.testing.assert_allclose(values, grid, rtol=1e-12, atol=1e-14)
    assert field.record["problem"]["name"] == "poisson2d_sine"


@pytest.mark.parametrize(
    ("read", "path"),
    [
        (npde.load, None),
        (load_reference, 5),
        (read_grid, None),
        (read_solution, 1.5),
        (file_kind, ["s.h5"]),
    ],
    ids=["load", "load_reference", "read_grid", "read_solution", "file_kind"],
)
def test_a_path_that_is_not_a_path_is_refused_by_name(read, path):
    with pytest.raises(
        TypeError, match=r"^path must be a file path \(a str or os.PathLike\), got "
    ):
        read(path)
    with pytest.raises(TypeError, match=re.escape(f"got {type(path).__name__} {path!r}")):
        read(path)


@pytest.mark.parametrize("path", [None, 5, b"s.h5"], ids=["None", "int", "bytes"])
def test_a_solution_path_that_is_not_a_path_is_refused_by_name(heat_solution, tmp_path, path):
    # pathlib's own TypeError named neither the parameter nor the value
    message = re.escape(
        f"path must be a file path (a str or os.PathLike), got {type(path).__name__} {path!r}"
    )
    with pytest.raises(TypeError, match=f"^{message}$"):
        heat_solution.save(path, n=3)
    with pytest.raises(TypeError, match=f"^{message}$"):
        check_writable(path)
    assert list(tmp_path.iterdir()) == []


def test_rejects_foreign_and_future_files(tmp_path, heat_solution):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["data"] = np.zeros(3)
    with pytest.raises(FormatError, match="not a neuralpde solution"):
        npde.load(other)
    text = tmp_path / "text.h5"
    text.write_text("hello")
    with pytest.raises(FormatError, match="not an HDF5 file"):
        npde.load(text)
    with pytest.raises(FileNotFoundError, match="no such file"):
        npde.load(tmp_path / "missing.h5")
    with pytest.raises(FormatError, match="is a directory, not a neuralpde file"):
        npde.load(tmp_path)
    with pytest.raises(FormatError, match="is a directory, not an HDF5 file"):
        read_grid(tmp_path)
    future = heat_solution.save(tmp_path / "future.h5", n=4)
    with h5py.File(future, "a") as f:
        f.attrs["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(FormatError, match="upgrade neuralpde"):
        npde.load(future)


def test_failed_write_keeps_the_old_file(heat_solution, tmp_path, monkeypatch):
    path = heat_solution.save(tmp_path / "s.h5", n=4)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(h5py.Group, "create_group", boom)
    with pytest.raises(OSError, match="disk full"):
        heat_solution.save(path, n=4)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.h5", "s.xdmf"]  # the first save's


def test_bad_points_are_refused(heat_solution):
    with pytest.raises(ValueError, match=r"shape \(N, 3\)"):
        heat_solution(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        heat_solution(np.full((1, 3), np.nan))
    assert heat_solution([0.5, 0.5, 0.1]).shape == (1,)


def test_unwritable_output_is_refused(heat_solution, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        heat_solution.save(tmp_path / "no" / "dir" / "s.h5")
    with pytest.raises(IsADirectoryError):
        heat_solution.save(tmp_path)


def test_xarray_sees_named_coordinates(heat_solution, tmp_path):
    """netCDF-4 readers see u as a variable on the coordinates t, y, x (CF's order)."""
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    path = heat_solution.save(tmp_path / "s.h5", n=(5, 6, 7))
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds["u"].dims == ("t", "y", "x")
        np.testing.assert_allclose(ds["t"].values, np.linspace(0, 0.5, 7))
        point = ds["u"].sel(x=1.0, y=2.0, t=0.5).item()
    assert point == pytest.approx(float(heat_solution([[1.0, 2.0, 0.5]])[0]), rel=1e-12)


@pytest.mark.parametrize(
    ("damage", "message", "info_status"),
    [
        (lambda f: f.__delitem__("u"), "damaged neuralpde solution file: KeyError", 2),
        (
            lambda f: f["model"].attrs.__setitem__("architecture", "{not json"),
            "damaged neuralpde solution file: JSONDecodeError",
            2,
        ),
        (  # a 3-D grid described as 2-D would give a field of the wrong coordinates
            lambda f: f.attrs.__setitem__("neuralpde_coordinates", '["x", "y"]'),
            r"damaged neuralpde solution file: ValueError: 'u' has shape \(5, 5, 5\)",
            2,
        ),
        (
            lambda f: f.attrs.__setitem__("format_version", "one"),
            "has format_version 'one'; expected an integer",
            2,
        ),
        (
            lambda f: f.attrs.__setitem__("format_version", 1.5),
            "has format_version 1.5; expected an integer",
            2,
        ),
        (
            lambda f: f.attrs.__setitem__("format_version", 0),
            r"s.h5' has format_version 0; expected an integer >= 1",
            2,
        ),
        (
            lambda f: f.attrs.__setitem__("format_version", np.int32(-1)),
            r"s.h5' has format_version -1; expected an integer >= 1",
            2,
        ),
        (
            lambda f: f.attrs.__delitem__("format_version"),
            r"s.h5' has no format_version; expected an integer >= 1",
            2,
        ),
        (  # the tensors are those of the architecture, checked before any is read
            lambda f: f["model/parameters"].__delitem__(next(iter(f["model/parameters"]))),
            "does not hold the tensors of its architecture",
            2,
        ),
    ],
)
def test_a_damaged_file_is_a_format_error(
    heat_solution, tmp_path, capsys, damage, message, info_status
):
    from neuralpde.cli import main

    path = heat_solution.save(tmp_path / "s.h5", n=5)
    with h5py.File(path, "r+") as f:
        damage(f)
    with pytest.raises(FormatError, match=message):
        npde.load(path)
    assert main(["info", str(path)]) == info_status
    err = capsys.readouterr().err
    assert ("Traceback" not in err) and (info_status == 0 or message.split(":")[0] in err)


def test_points_outside_the_trained_box_are_flagged(heat_solution, tmp_path):
    field = npde.load(heat_solution.save(tmp_path / "s.h5", n=5))
    inside = [[0.5, 0.5, 0.5]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        field(inside)
        field([[0.0, 1.0, 0.0]])  # on the faces of the box: no warning
    with pytest.warns(npde.ExtrapolationWarning, match=r"1 of 2 points lie outside .* t in \["):
        values = field([[0.5, 0.5, 0.5], [0.5, 0.5, 5.0]])  # t beyond t_span
    assert np.isfinite(values[0]) and np.isnan(values[1])  # outside the domain: NaN
    with pytest.warns(npde.ExtrapolationWarning):
        field.gradient([[5.0, 0.5, 0.5]])
    # each method's warning names the line that called it, the filters' key for showing it once
    for call in (
        lambda: field([[5.0, 0.5, 0.5]]),
        lambda: field.gradient([[5.0, 0.5, 0.5]]),
        lambda: field.on_grid([[5.0], [0.5], [0.5]]),
        lambda: heat_solution.on_domain_grid([[5.0], [0.5], [0.5]]),
    ):
        with pytest.warns(npde.ExtrapolationWarning) as record:
            call()
        assert record[0].filename == __file__


def test_a_reference_says_nothing_outside_its_grid():
    from neuralpde.reference import convergence_study

    problem = npde.Problem(
        npde.Rectangle((0, 0), (1, 1)),
        npde.Poisson(
            f=lambda x: 2 * np.pi**2 * torch.sin(np.pi * x[:, 0]) * torch.sin(np.pi * x[:, 1])
        ),
        [npde.Dirichlet(0.0)],
    )
    ref = convergence_study(problem, 8, levels=3, order=2)
    values = ref.interpolate([[0.5, 0.5], [1.0, 1.0 + 1e-12], [5.0, 5.0], [-0.1, 0.5]])
    assert np.isfinite(values[:2]).all() and np.isnan(values[2:]).all()


def test_evaluation_and_output_paths_refuse_what_they_cannot_take(heat_solution, tmp_path):
    from neuralpde.io import check_writable

    field = heat_solution
    assert field.gradient(np.zeros((0, 3))).shape == (0, 3)
    pts = torch.tensor([[0.5, 0.5, 0.5]], dtype=torch.float64, requires_grad=True)
    assert field(pts) == pytest.approx(field([[0.5, 0.5, 0.5]]))  # a tensor needing grad is read
    with pytest.raises(TypeError, match="points must be real coordinates, got complex"):
        field(np.array([[0.5 + 1j, 0.5, 0.5]]))
    with pytest.raises(ValueError, match=r"axes must be 1-D arrays, got shapes"):
        field.on_grid([np.zeros((2, 2)), np.zeros(3), np.zeros(3)])
    with pytest.raises(ValueError, match=r"at least 2 points per axis \(integers\) .* got 5.5"):
        heat_solution.save(tmp_path / "s.h5", n=5.5)
    with pytest.raises(IsADirectoryError, match="names a directory"):
        check_writable(str(tmp_path / "nodir") + "/")
    (tmp_path / "f.h5").write_text("")
    with pytest.raises(NotADirectoryError, match="f.h5' is a file"):
        check_writable(tmp_path / "f.h5" / "x.h5")
    with pytest.raises(ValueError, match="Robin needs a or b non-zero"):
        npde.Robin(0.0, a=0, b=0.0)


def test_a_full_disk_is_one_clear_error_and_keeps_the_old_file(
    heat_solution, tmp_path, monkeypatch
):
    import errno

    import neuralpde.io.hdf5 as hdf5

    path = heat_solution.save(tmp_path / "s.h5", n=4)
    before = path.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(hdf5.os, "fsync", full)
    with pytest.raises(OSError, match=r"could not write '.*s.h5': No space left on device") as e:
        heat_solution.save(path, n=4)
    assert e.value.errno == errno.ENOSPC
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.h5", "s.xdmf"]  # the first save's


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: npde.Rectangle((0, 0), (1, 1), names=("u", "v")), r"names may not use 'u'"),
        (lambda: npde.Interval(0, 1, name="exact"), r"names may not use 'exact'"),
        (lambda: npde.Box([0] * 3, [1] * 3, names=("x", "model", "z")), r"use 'model'"),
        (lambda: npde.Disk((0, 0), 1, names=("x", "training")), r"use 'training'"),
        (lambda: npde.Polygon([[0, 0], [1, 0], [0, 1]], names=("convergence", "y")), r"'converg"),
        (
            lambda: npde.SpaceTime(npde.Interval(0, 1), (0, 1), time_name="problem"),
            r"time_name may not use 'problem'",
        ),
        (lambda: npde.Rectangle((0, 0), (1, 1), names=("a/b", "c")), r"without '/'.*'a/b'"),
        (lambda: npde.Rectangle((0, 0), (1, 1), names=("", "c")), r"non-empty strings"),
    ],
    ids=["u", "exact", "model", "training", "convergence", "time", "slash", "empty"],
)
def test_coordinate_names_that_clash_with_the_file_layout_are_refused(make, match):
    with pytest.raises(ValueError, match=match) as info:
        make()
    if "may not use" in str(info.value):
        assert "reserved names are ['u', 'exact', 'model', 'problem'" in str(info.value)


def test_reserved_names_cover_every_root_entry_of_both_files(heat_solution, tmp_path):
    from neuralpde.io import REFERENCE_ENTRIES, RESERVED_NAMES, SOLUTION_ENTRIES
    from neuralpde.reference import convergence_study, save_reference

    with h5py.File(heat_solution.save(tmp_path / "s.h5", n=5), "r") as f:
        assert set(f) - {"x", "y", "t"} == set(SOLUTION_ENTRIES)
    poisson = npde.Problem(npde.Interval(0, 1), npde.Poisson(1.0), [npde.Dirichlet(0.0)])
    ref = save_reference(
        convergence_study(poisson, 4, levels=3), tmp_path / "r.h5", problem=poisson
    )
    with h5py.File(ref, "r") as f:
        assert set(f) - {"x"} == set(REFERENCE_ENTRIES)
    assert set(RESERVED_NAMES) == set(SOLUTION_ENTRIES) | set(REFERENCE_ENTRIES)


def test_gradient_ignores_the_callers_autograd_mode(heat_solution):
    pts = np.random.default_rng(1).random((20, 3)) * [1, 2, 0.5]
    expected = heat_solution.gradient(pts)
    assert np.abs(expected).max() > 0
    with torch.no_grad():
        np.testing.assert_array_equal(heat_solution.gradient(pts), expected)
    with torch.inference_mode():
        np.testing.assert_array_equal(heat_solution.gradient(pts), expected)


def test_points_and_axes_that_are_not_numbers_are_refused_by_name(heat_solution):
    field = heat_solution
    with pytest.raises(
        ValueError, match=r"points must be an \(N, 3\) array of numbers .* got list"
    ):
        field([[0.5, 0.5], [0.5, 0.5, 0.5]])  # ragged
    with pytest.raises(ValueError, match=r"points must be an \(N, 3\) array of numbers .* got str"):
        field.gradient("abc")
    with pytest.raises(ValueError, match=r"axes must be 3 1-D arrays of numbers.* got NoneType"):
        field.on_grid(None)
    with pytest.raises(ValueError, match=r"axes must be 3 1-D arrays of numbers.* got list"):
        field.on_grid([["a"], [0.5], [0.1]])
    with pytest.raises(TypeError, match="axes must be real coordinates, got complex"):
        field.on_grid([np.array([0.5 + 1j]), [0.5], [0.1]])
    with pytest.raises(ValueError, match="axes contain NaN or inf"):
        field.on_grid([[0.5], [np.nan], [0.1]])
    axes = [torch.linspace(0, 1, 3, requires_grad=True), [0.5], [0.1]]
    np.testing.assert_array_equal(
        field.on_grid(axes)[:, 0, 0], field([[0.0, 0.5, 0.1], [0.5, 0.5, 0.1], [1.0, 0.5, 0.1]])
    )


@pytest.mark.parametrize(
    ("points", "exc", "reason"),
    [
        (
            [["0.5", "0.5", "0.5"]],
            ValueError,
            r"must be .* got list that is not one \('0.5' is a str",
        ),
        (
            [[True, False, True]],
            ValueError,
            r"must be .* got list that is not one \(True is a bool",
        ),
        (
            [[0.5, True, 0.5]],  # NumPy would make the bool among numbers a number
            ValueError,
            r"must be .* got list that is not one \(True is a bool",
        ),
        (np.ones((1, 3), dtype=bool), ValueError, r"must be .* got ndarray .*\(True is a bool"),
        (torch.ones((1, 3), dtype=torch.bool), ValueError, r"must be .* got Tensor .*\(True is"),
        ([[0.5, None, 0.5]], ValueError, r"must be .* got list .*\(None is a NoneType, not a real"),
        (
            np.ma.masked_array([[0.5, 0.5, 0.5], [9.0, 0.5, 0.5]], mask=[[0, 0, 0], [1, 0, 0]]),
            TypeError,
            "must not be a masked array, whose mask would be ignored",
        ),
    ],
    ids=["strings", "bools", "bool-among-numbers", "bool-array", "bool-tensor", "none", "masked"],
)
def test_points_that_are_not_plain_real_numbers_are_refused_by_name(
    heat_solution, points, exc, reason
):
    with pytest.raises(exc, match="^points " + reason):
        heat_solution(points)
    with pytest.raises(exc, match="^points " + reason):
        heat_solution.gradient(points)
    with pytest.raises(exc, match="^axes " + reason):
        heat_solution.on_grid([points[0], [0.5], [0.1]])


def test_points_beyond_a_float32_fields_range_are_refused_by_name():
    from neuralpde.fields import build_field

    architecture = {
        "field": npde.Siren(width=8, depth=1).describe(),
        "in_features": 2,
        "input_scaling": {"lower": [0.0, 0.0], "upper": [1.0, 1.0]},
    }
    field = npde.NeuralField(build_field(architecture).float(), ("x", "y"), architecture)
    inside = field([[0.5, 0.5], [0.25, 0.75]])
    assert inside.dtype == np.float64 and np.isfinite(inside).all()
    with pytest.raises(ValueError, match=r"points must be finite in the field's precision \(torch"):
        field([[1e300, 0.0]])
    with pytest.raises(ValueError, match=r"got 2 of 3 points beyond it, e.g. \[0.5, -1e\+39\]"):
        field.gradient([[0.5, -1e39], [0.5, 0.5], [1e39, 0.5]])


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (
            lambda f: (
                f["training"].__delitem__("loss"),
                f["training"].create_dataset("loss", data=np.zeros(0)),
            ),
            "IndexError",
        ),
        (lambda f: f["problem"].attrs.__setitem__("description", "{}"), "KeyError: 'name'"),
        (lambda f: f["training"].attrs.__setitem__("timings", "[]"), "AttributeError"),
    ],
    ids=["empty-history", "no-problem-name", "timings-not-a-mapping"],
)
def test_info_on_a_file_that_reads_but_cannot_be_described(
    heat_solution, tmp_path, capsys, damage, reason
):
    from neuralpde.cli import main

    path = heat_solution.save(tmp_path / "s.h5", n=4)
    with h5py.File(path, "r+") as f:
        damage(f)
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"s.h5' is a damaged neuralpde solution file: {reason}" in err


def test_saving_through_a_symbolic_link_replaces_the_file_it_points_to(heat_solution, tmp_path):
    target = heat_solution.save(tmp_path / "target.h5", n=3)
    link = tmp_path / "latest.h5"
    link.symlink_to(target)
    assert heat_solution.save(link, n=5) == link  # the path given, as for any save
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert npde.load(target).grid[1].shape == (5, 5, 5)  # the new contents, in the target


def test_a_new_file_gets_the_mode_the_umask_gives(heat_solution, tmp_path):
    from neuralpde.io._common import umask

    old = os.umask(0o027)
    try:
        assert umask() == 0o027
        path = heat_solution.save(tmp_path / "s.h5", n=3)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o640
    assert path.with_suffix(".xdmf").stat().st_mode & 0o777 == 0o640  # its sidecar too
    path.chmod(0o600)  # an existing file keeps its own mode
    heat_solution.save(path, n=3)
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_path_ending_in_a_slash_is_refused_not_written_as_a_file(heat_solution, tmp_path):
    with pytest.raises(IsADirectoryError, match=r"'.*results/' names a directory"):
        heat_solution.save(f"{tmp_path}/results/", n=3)
    assert list(tmp_path.iterdir()) == []


def test_a_file_name_as_long_as_the_file_system_allows_is_written(heat_solution, tmp_path):
    path = tmp_path / ("s" * 240 + ".h5")  # 243 bytes: the name fits, with room for no more
    heat_solution.save(path, n=3)
    assert npde.load(path).grid[1].shape == (3, 3, 3)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [path.name, path.with_suffix(".xdmf").name]  # with its XDMF sidecar


@pytest.mark.skipif(
    os.environ.get("HDF5_USE_FILE_LOCKING", "").upper() == "FALSE", reason="HDF5 locking is off"
)
def test_a_file_another_program_is_writing_is_not_called_a_non_hdf5_file(heat_solution, tmp_path):
    import subprocess
    import sys

    path = heat_solution.save(tmp_path / "s.h5", n=3)
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, h5py; f = h5py.File(sys.argv[1], 'a'); "
            "print('open', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "open"
        for read in (npde.load, read_grid):
            with pytest.raises(BlockingIOError, match=r"cannot open '.*s.h5'.*open for writing"):
                read(path)
    finally:
        writer.communicate("")
    assert npde.load(path).grid[1].shape == (3, 3, 3)  # the file was fine all along


def test_a_netcdf_dimension_without_coordinates_is_not_read_as_zeros(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    x, y = np.linspace(0, 1, 5), np.linspace(0, 2, 7)
    kappa = 1 + x[:, None] + y[None, :] ** 2
    path = tmp_path / "map.nc"
    xr.Dataset({"kappa": (("x", "y"), kappa)}, coords={"x": x, "y": y}).to_netcdf(
        path, engine="h5netcdf"
    )
    axes, values = read_grid(path, "kappa")  # coordinate variables are dimension scales
    np.testing.assert_array_equal(axes[1], y)
    np.testing.assert_array_equal(values, kappa)
    # y without a coordinate variable: netCDF-4 attaches a placeholder scale of zeros
    xr.Dataset({"kappa": (("x", "y"), kappa)}, coords={"x": x}).to_netcdf(path, engine="h5netcdf")
    for read in (read_grid, npde.GridData.from_file):
        with pytest.raises(FormatError, match=r"dimension 1 of 'kappa' .*'/y'.* without coord"):
            read(path, "kappa")


@pytest.mark.parametrize("dataset", [None, 0, ["u"]], ids=["none", "int", "list"])
def test_a_dataset_name_that_is_not_a_string_is_refused_by_name(heat_solution, tmp_path, dataset):
    path = heat_solution.save(tmp_path / "s.h5", n=3)
    with pytest.raises(TypeError, match=r"dataset must be the name of a dataset .* got"):
        read_grid(path, dataset)


def test_a_network_the_format_does_not_know_is_not_saved(tmp_path):
    """A subclass of MLP with its own build would be written as a plain MLP and load as another
    network (or not at all): save refuses it, and no file is left."""
    import dataclasses

    class Doubled(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return 2.0 * self.inner(x)

    @dataclasses.dataclass(frozen=True)
    class DoubledMLP(npde.MLP):
        def build(self, in_features, out_features=1):
            return Doubled(npde.MLP.build(self, in_features, out_features))

    p = npde.Problem(npde.Rectangle((0, 0), (1, 1)), npde.Poisson(1.0), [npde.Dirichlet(0.0)])
    trainer = npde.Trainer(adam_steps=0, lbfgs_steps=0, gauss_newton_steps=1)
    sol = npde.solve(p, DoubledMLP(8, 1), None, trainer, estimate=False)
    with pytest.raises(ValueError, match="cannot be saved: .*computes other values|tensors"):
        sol.save(tmp_path / "d.h5")
    assert list(tmp_path.iterdir()) == []
