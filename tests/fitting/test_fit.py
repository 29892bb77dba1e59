"""Fitting neural fields to data: accuracy and compression, the inputs, the file, the CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neuralpde as npde
from neuralpde.cli import main
from neuralpde.fitting import Data, read_data
from neuralpde.io import read_solution


def smooth(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * x) * np.cos(np.pi * y) * np.exp(-x)


def gentle(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A field a small network fits in a second or two."""
    return np.exp(-x) * np.cos(1.5 * y) + 0.5 * x * y


@pytest.fixture(scope="module")
def fitted():
    """The 65 x 65 grid of ``smooth`` fitted to 1e-4 (the one long fit of this file)."""
    ax = np.linspace(0.0, 1.0, 65)
    X, Y = np.meshgrid(ax, ax, indexing="ij")
    return npde.fit(npde.GridData([ax, ax], smooth(X, Y)), target=1e-4, seconds=60, seed=0)


def test_smooth_field_meets_the_target_with_compression(fitted, tmp_path):
    m = fitted.metrics
    assert fitted.status == "converged", fitted.message
    assert m["relative_l2_holdout"] <= 1e-4
    assert m["relative_l2_train"] <= 2e-4 and m["relative_l2"] <= 2e-4
    assert m["compression_ratio"] >= 5.0
    assert m["parameters"] * m["compression_ratio"] == pytest.approx(65 * 65)
    path = fitted.save(tmp_path / "u.h5")
    field = npde.load(path)
    pts = np.random.default_rng(3).random((2000, 2))  # off the grid
    exact = smooth(pts[:, 0], pts[:, 1])
    u = field(pts)
    assert np.linalg.norm(u - exact) / np.linalg.norm(exact) <= 3e-4
    assert np.abs(u - exact).max() <= 2e-3
    np.testing.assert_allclose(field(pts), fitted(pts), rtol=0, atol=1e-13)
    fine = np.linspace(0.0, 1.0, 301)  # any resolution
    assert field.on_grid([fine, fine]).shape == (301, 301)
    rec = read_solution(path)
    assert rec["coordinates"] == ["x", "y"]
    assert rec["metrics"]["compression_ratio"] == pytest.approx(m["compression_ratio"])
    assert rec["metrics"]["relative_l2_holdout"] == pytest.approx(m["relative_l2_holdout"])
    np.testing.assert_array_equal(rec["exact"], fitted.data.values.reshape(65, 65))
    settings = rec["training"]["settings"]
    assert settings["field"]["type"] == "siren" and settings["dtype"] == "float64"
    assert settings["target"] == 1e-4 and settings["holdout"] == 0.1
    assert settings["sizes"][-1]["status"] == "converged"
    assert rec["training"]["status"] == "converged"
    assert rec["problem"]["data_fit"]["shape"] == [65, 65]
    assert len(rec["training"]["history"]["loss"]) == fitted.steps


def test_npy_array_with_axes_as_bounds_or_coordinates(tmp_path):
    ax, ay = np.linspace(-1.0, 2.0, 31), np.linspace(0.0, 1.0, 21) ** 1.5  # uneven in y
    X, Y = np.meshgrid(ax, ay, indexing="ij")
    path = tmp_path / "data.npy"
    np.save(path, gentle(X, Y))
    f = npde.fit(path, axes=[(-1.0, 2.0), ay], width=8, target=2e-4, seconds=10, names=["s", "t"])
    assert f.names == ("s", "t")
    assert f.architecture["input_scaling"] == {"lower": [-1.0, 0.0], "upper": [2.0, 1.0]}
    assert f.metrics["relative_l2_holdout"] < 1e-3
    pts = np.column_stack([np.random.default_rng(0).uniform(-1, 2, 300), np.full(300, 0.37)])
    exact = gentle(pts[:, 0], pts[:, 1])
    assert np.linalg.norm(f(pts) - exact) / np.linalg.norm(exact) < 2e-3
    # the same data in memory, and the file round trip with the grid's own coordinates
    g = npde.fit(np.load(path), axes=[ax, ay], width=8, seconds=1)
    out = npde.load(g.save(tmp_path / "g.h5"))
    coords, _ = out.grid
    np.testing.assert_array_equal(coords["y"], ay)


def _mesh(nx: int = 21, ny: int = 11):
    """A triangulated [0, 2] x [0, 1] with (N, 3) points at z = 0 and point data."""
    import meshio

    xs, ys = np.meshgrid(np.linspace(0, 2, nx), np.linspace(0, 1, ny), indexing="ij")
    pts = np.column_stack([xs.ravel(), ys.ravel(), np.zeros(xs.size)])
    tri = []
    for i in range(nx - 1):
        for j in range(ny - 1):
            a, b, c, d = i * ny + j, (i + 1) * ny + j, (i + 1) * ny + j + 1, i * ny + j + 1
            tri += [[a, b, c], [a, c, d]]
    values = gentle(pts[:, 0], pts[:, 1])
    return meshio.Mesh(pts, [("triangle", np.array(tri))], point_data={"T": values, "id": values})


def test_meshio_point_data_of_a_planar_mesh(tmp_path):
    mesh = _mesh()
    path = tmp_path / "plate.vtu"
    mesh.write(path)
    f = npde.fit(str(path), dataset="T", width=8, target=2e-4, seconds=10)
    assert f.names == ("x", "y") and not f.data.gridded  # z = 0 dropped
    assert f.metrics["values"] == 21 * 11
    assert f.metrics["relative_l2_holdout"] < 1e-3
    pts = np.random.default_rng(1).random((300, 2)) * [2.0, 1.0]
    exact = gentle(pts[:, 0], pts[:, 1])
    assert np.linalg.norm(f(pts) - exact) / np.linalg.norm(exact) < 2e-3
    rec = read_solution(f.save(tmp_path / "plate.h5", n=30))
    assert rec["u"].shape == (30, 30) and rec["exact"] is None
    assert not np.isnan(rec["u"]).any()  # the mesh covers its bounding box
    with pytest.raises(ValueError, match=r"dataset: .* holds the point data \['T', 'id'\]"):
        read_data(path)
    with pytest.raises(ValueError, match=r"has no point data 'U'"):
        read_data(mesh, dataset="U")
    assert read_data(mesh, dataset="id").dim == 2  # a meshio.Mesh too


def test_scattered_data_leave_the_grid_empty_far_from_them(tmp_path):
    rng = np.random.default_rng(0)
    pts = rng.random((400, 2))
    pts = pts[(pts[:, 0] < 0.5) | (pts[:, 1] < 0.5)]  # an L: no data in the upper right
    data = Data(("x", "y"), pts, gentle(pts[:, 0], pts[:, 1]))
    f = npde.fit(data, width=8, seconds=1)
    u = read_solution(f.save(tmp_path / "l.h5", n=20))["u"]
    assert np.isnan(u[-3:, -3:]).all() and not np.isnan(u[:5, :5]).any()


def test_solution_file_in_and_gradient_supervision(tmp_path):
    ax = np.linspace(0.0, 1.0, 17)
    X, Y = np.meshgrid(ax, ax, indexing="ij")
    first = npde.fit(npde.GridData([ax, ax], gentle(X, Y)), width=8, seconds=1)
    path = first.save(tmp_path / "first.h5", n=[17, 9])
    f = npde.fit(path, width=8, seconds=1, supervise="gradient")  # reads /u and its grid
    assert f.data.shape == (17, 9) and f.names == ("x", "y")
    assert math.isfinite(f.metrics["relative_l2_gradient"])
    assert f.metrics["relative_l2_gradient"] < 0.05
    assert f.description()["data_fit"]["source"] == "first.h5"
    with pytest.raises(ValueError, match="supervise='gradient' needs gridded data"):
        npde.fit(Data(("x",), np.array([[0.0], [0.5], [1.0]]), np.ones(3)), supervise="gradient")


def test_bad_inputs_are_refused_with_the_reason(tmp_path):
    ax = np.linspace(0.0, 1.0, 9)
    good = np.outer(ax, ax) + 1
    nan = good.copy()
    nan[2, 3] = np.nan
    with pytest.raises(ValueError, match=r"1 of 81 values are NaN or infinite .* index \(2, 3\)"):
        npde.fit(nan, axes=[ax, ax])
    with pytest.raises(ValueError, match=r"axes\[1\] has 5 coordinates, but the data have 9"):
        npde.fit(good, axes=[ax, ax[:5]])
    with pytest.raises(ValueError, match=r"axes must have one entry per axis of the data \(2"):
        npde.fit(good, axes=[ax])
    with pytest.raises(ValueError, match="axes: an array of shape"):
        npde.fit(good)
    with pytest.raises(ValueError, match=r"axes\[0\] = \(lo, hi\) needs lo < hi"):
        npde.fit(good, axes=[(1, 0), ax])
    with pytest.raises(ValueError, match="every value is 0"):
        npde.fit(np.zeros((4, 4)), axes=[(0, 1), (0, 1)])
    with pytest.raises(ValueError, match="holdout must be the fraction"):
        npde.fit(good, axes=[ax, ax], holdout=1.0)
    with pytest.raises(ValueError, match="target must be a positive relative L2 error"):
        npde.fit(good, axes=[ax, ax], target=-1)
    with pytest.raises(ValueError, match="supervise must be None or 'gradient'"):
        npde.fit(good, axes=[ax, ax], supervise="laplacian")
    with pytest.raises(ValueError, match="names may not use 'u'"):
        npde.fit(good, axes=[ax, ax], names=["u", "v"])
    with pytest.raises(ValueError, match="axes: only an array or .npy file takes axes"):
        npde.fit(npde.GridData([ax, ax], good), axes=[ax, ax])
    with pytest.raises(ValueError, match="dataset: only HDF5/netCDF-4 and mesh files"):
        npde.fit(good, axes=[ax, ax], dataset="u")
    with pytest.raises(FileNotFoundError, match="no file"):
        npde.fit(tmp_path / "missing.npy")
    with pytest.raises(TypeError, match="data must be a GridData"):
        npde.fit({"u": good})
    with pytest.raises(ValueError, match=r"values must hold one number per point \(3\)"):
        Data(("x",), np.array([[0.0], [0.5], [1.0]]), np.ones(4))
    with pytest.raises(ValueError, match=r"the points hold NaN"):
        Data(("x",), np.array([[0.0], [np.nan], [1.0]]), np.ones(3))
    assert "fit" in npde.__all__ and npde.fit is npde.fitting.fit


def test_command_line_fit_and_its_usage_errors(tmp_path, capsys):
    ax = np.linspace(0.0, 1.0, 17)
    X, Y = np.meshgrid(ax, ax, indexing="ij")
    data = tmp_path / "d.npy"
    np.save(data, gentle(X, Y))
    out = tmp_path / "d.h5"
    args = ["fit", str(data), "-o", str(out), "--axes", "0:1", "0:1"]
    assert main([*args, "--width", "8", "--seconds", "1", "--seed", "2", "-q"]) == 0
    text = capsys.readouterr().out
    assert "compression ratio" in text and "held out" in text and f"wrote {out}" in text
    assert npde.load(out).names == ("x", "y")
    assert read_solution(out)["training"]["seed"] == 2
    for bad, where in [
        (["fit", str(data), "-o", str(out)], "--axes: an array of shape (17, 17)"),
        ([*args[:-1]], "--axes: axes must have one entry per axis of the data (2"),
        (["fit", str(out), "-o", str(tmp_path / "e.h5"), "--dataset", "v"], "--dataset:"),
        (["fit", str(tmp_path / "no.npy"), "-o", str(out)], "no file"),
    ]:
        assert main(bad) == 2
        err = capsys.readouterr().err
        assert where in err and "Traceback" not in err, err
    for bad, where in [
        ([*args, "--holdout", "2"], "--holdout"),
        ([*args, "--target", "1e-3", "--width", "8"], "not allowed with argument"),
        ([*args, "--axes", "1:0"], "expected LO:HI with LO < HI"),
        ([*args, "--seconds", "0"], "--seconds"),
    ]:
        with pytest.raises(SystemExit) as exc:
            main(bad)
        assert exc.value.code == 2 and where in capsys.readouterr().err
