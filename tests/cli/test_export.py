"""``neuralpde export`` and :mod:`neuralpde.export`: a field at the nodes of a mesh, on a grid and
at listed points, read back with meshio, neuralpde, xarray and VTK; and ``solve --grid``."""

from __future__ import annotations

import warnings
from pathlib import Path

import meshio
import numpy as np
import pytest

import neuralpde as npde
from neuralpde import export
from neuralpde.cli import main
from neuralpde.problem_file import load_problem_file

from ..conftest import ROOT


def _tiny(name: str, folder: Path) -> Path:
    """The catalog's problem ``name`` trained for a few steps with a small field, saved."""
    spec = load_problem_file(str(ROOT / "problems" / f"{name}.py"))
    sol = npde.solve(
        spec["problem"],
        npde.Siren(width=16, depth=2, w0=1.0),
        npde.SobolSampler(n_interior=128, n_boundary=64),
        npde.Trainer(adam_steps=10, lbfgs_steps=0, progress=False),
        estimate=False,
        monitor=False,
    )
    return sol.save(folder / f"{name}.h5", n=[9] * sol.dim)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("fields")
    return {n: _tiny(n, folder) for n in ("poisson2d_sine", "poisson_lshape", "heat2d")}


def _square_mesh(k: int = 21) -> meshio.Mesh:
    """A structured triangulation of the unit square, ``k x k`` nodes, points ``(N, 3)``."""
    x, y = np.meshgrid(np.linspace(0, 1, k), np.linspace(0, 1, k), indexing="ij")
    pts = np.column_stack([x.ravel(), y.ravel(), np.zeros(k * k)])
    idx = np.arange(k * k).reshape(k, k)
    a, b = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel()
    c, d = idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    tri = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])
    return meshio.Mesh(pts, [("triangle", tri)])


def _close(a, b) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# -- meshes --------------------------------------------------------------------------------------


def test_mesh_nodes_get_the_fields_values_and_gradients(files, tmp_path, capsys):
    part = tmp_path / "part.msh"
    meshio.write(part, _square_mesh(), file_format="gmsh")
    out = tmp_path / "u.vtu"
    assert main(["export", str(files["poisson2d_sine"]), "--mesh", str(part), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    back = meshio.read(out)
    field = npde.load(files["poisson2d_sine"])
    pts = back.points[:, :2]
    assert back.cells_dict["triangle"].shape == (2 * 20 * 20, 3)
    _close(back.point_data["u"], field(pts))
    grad = back.point_data["grad_u"]
    assert grad.shape == (len(pts), 3)  # a VTK vector: padded with zeros
    _close(grad[:, :2], field.gradient(pts))
    assert not grad[:, 2].any()
    # the library, on a meshio.Mesh in memory; one pass gives both
    done = export.to_mesh(field, _square_mesh(), tmp_path / "v.vtk")
    assert (done.points, done.outside) == (441, 0)
    ev = export.evaluate(field, pts)
    _close(ev.values, field(pts))
    _close(ev.gradient, field.gradient(pts))


def test_nodes_outside_the_domain_are_nan_and_counted(files, tmp_path, capsys):
    mesh = tmp_path / "box.vtu"
    meshio.write(mesh, _square_mesh())  # the L's bounding box
    out = tmp_path / "l.vtu"
    with warnings.catch_warnings():
        warnings.simplefilter("always", npde.OutsideDomainWarning)
        code = main(["export", str(files["poisson_lshape"]), "--mesh", str(mesh), "-o", str(out)])
    assert code == 0
    assert "OutsideDomainWarning: 100 of 441 mesh nodes lie outside" in capsys.readouterr().err
    back = meshio.read(out)
    x, y = back.points[:, 0], back.points[:, 1]
    notch = (x > 0.5) & (y > 0.5)
    u = back.point_data["u"]
    assert np.isnan(u[notch]).all() and np.isnan(back.point_data["grad_u"][notch]).all()
    assert np.isfinite(u[~notch]).all()
    field = npde.load(files["poisson_lshape"])
    with pytest.warns(npde.OutsideDomainWarning, match="100 of 441"):
        done = export.to_mesh(field, mesh, tmp_path / "l2.vtu")
    assert done.outside == 100


def test_an_evolution_field_on_a_mesh_at_a_time_and_as_a_time_series(files, tmp_path):
    field = npde.load(files["heat2d"])
    mesh = _square_mesh(11)
    export.to_mesh(field, mesh, tmp_path / "h.vtu", time=0.25)
    back = meshio.read(tmp_path / "h.vtu")
    pts = np.column_stack([back.points[:, :2], np.full(len(back.points), 0.25)])
    _close(back.point_data["u"], field(pts))
    _close(back.point_data["du_dt"], field.time_derivative(pts))
    _close(back.point_data["grad_u"][:, :2], field.gradient(pts)[:, :2])
    series = tmp_path / "sub" / "h.xdmf"
    series.parent.mkdir()
    export.to_mesh(field, mesh, series, times=[0.0, 0.5, 1.0])
    assert (series.parent / "h.h5").is_file()  # beside it, not in the working folder
    with meshio.xdmf.TimeSeriesReader(series) as reader:
        points, _ = reader.read_points_cells()
        for k, t in enumerate([0.0, 0.5, 1.0]):
            when, data, _ = reader.read_data(k)
            assert when == t
            _close(data["u"], field(np.column_stack([points[:, :2], np.full(len(points), t)])))


# -- grids ---------------------------------------------------------------------------------------


def test_grid_to_a_solution_file(files, tmp_path):
    out = tmp_path / "g.h5"
    assert main(["export", str(files["poisson_lshape"]), "--grid", "33x17", "-o", str(out)]) == 0
    g = npde.load(out)
    coords, u = g.grid
    assert u.shape == (33, 17) and len(coords["x"]) == 33 and len(coords["y"]) == 17
    field = npde.load(files["poisson_lshape"])
    pts = np.column_stack([a.ravel() for a in np.meshgrid(*coords.values(), indexing="ij")])
    with pytest.warns(npde.OutsideDomainWarning):
        _close(u.ravel(), field(pts))  # NaN in the notch in both
    assert np.isnan(u).any()
    _close(g(pts[:5]), field(pts[:5]))  # the same network
    # an evolution problem's: time samples last
    out = tmp_path / "h.h5"
    assert main(["export", str(files["heat2d"]), "--grid", "5x6x7", "-o", str(out), "-q"]) == 0
    assert npde.load(out).grid[1].shape == (5, 6, 7)


def test_grid_to_netcdf(files, tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    out = tmp_path / "g.nc"
    assert main(["export", str(files["poisson2d_sine"]), "--grid", "12x7", "-o", str(out)]) == 0
    field = npde.load(files["poisson2d_sine"])
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds["u"].dims == ("y", "x")
        assert ds.sizes == {"y": 7, "x": 12}
        x, y = ds["x"].values, ds["y"].values
        u = ds["u"].values
    _close(u[4, 9], field([[x[9], y[4]]])[0])
    X, Y = np.meshgrid(x, y)  # (y, x)
    _close(u.ravel(), field(np.column_stack([X.ravel(), Y.ravel()])))
    heat = npde.load(files["heat2d"])
    export.to_grid(heat, "4x5x3", tmp_path / "h.nc")
    export.to_grid(heat, "4x5", tmp_path / "s.nc", time=0.5)
    with xr.open_dataset(tmp_path / "h.nc", engine="h5netcdf") as ds:
        assert ds["u"].dims == ("t", "y", "x")
        _close(ds["u"].values[2, 1, 3], heat([[ds.x.values[3], ds.y.values[1], 1.0]])[0])
    with xr.open_dataset(tmp_path / "s.nc", engine="h5netcdf") as ds:
        assert ds["u"].dims == ("y", "x") and float(ds["t"]) == 0.5


@pytest.mark.parametrize("suffix", [".vtk", ".vti", ".vtr"])
def test_grid_to_vtk(files, tmp_path, suffix):
    pytest.importorskip("vtk")
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkIOLegacy import vtkStructuredPointsReader
    from vtkmodules.vtkIOXML import vtkXMLImageDataReader, vtkXMLRectilinearGridReader

    out = tmp_path / f"g{suffix}"
    assert main(["export", str(files["poisson2d_sine"]), "--grid", "9x6", "-o", str(out)]) == 0
    reader = {
        ".vtk": vtkStructuredPointsReader,
        ".vti": vtkXMLImageDataReader,
        ".vtr": vtkXMLRectilinearGridReader,
    }[suffix]()
    reader.SetFileName(str(out))
    reader.Update()
    grid = reader.GetOutput()
    assert tuple(grid.GetDimensions()) == (9, 6, 1)
    u = vtk_to_numpy(grid.GetPointData().GetArray("u"))
    pts = np.array([grid.GetPoint(i) for i in range(grid.GetNumberOfPoints())])[:, :2]
    field = npde.load(files["poisson2d_sine"])
    _close(u, field(pts))
    assert pts[1].tolist() == [0.125, 0.0]  # x varies fastest


# -- points --------------------------------------------------------------------------------------


def _rows(text: str) -> tuple[list[str], np.ndarray]:
    lines = text.strip().splitlines()
    return lines[0].split(","), np.array([[float(v) for v in r.split(",")] for r in lines[1:]])


def test_points_with_and_without_a_header(files, tmp_path, capsys):
    field = npde.load(files["poisson2d_sine"])
    pts = np.array([[0.1, 0.2], [0.5, 0.25], [0.9, 0.7]])
    header = tmp_path / "h.csv"
    header.write_text("y,x\n" + "".join(f"{b!r},{a!r}\n" for a, b in pts.tolist()))  # any order
    plain = tmp_path / "p.csv"
    plain.write_text("".join(f"{a!r},{b!r}\n" for a, b in pts.tolist()))
    assert main(["export", str(files["poisson2d_sine"]), "--points", str(header)]) == 0
    names, table = _rows(capsys.readouterr().out)  # standard output without -o
    assert names == ["x", "y", "u"]
    np.testing.assert_array_equal(table[:, :2], pts)
    _close(table[:, 2], field(pts))
    out = tmp_path / "v.csv"
    args = ["export", str(files["poisson2d_sine"]), "--points", str(plain), "-o", str(out)]
    assert main([*args, "--gradient"]) == 0
    assert capsys.readouterr().out.strip() == str(out)  # the path written
    names, table = _rows(out.read_text())
    assert names == ["x", "y", "u", "du_dx", "du_dy"]
    _close(table[:, 2], field(pts))
    _close(table[:, 3:], field.gradient(pts))
    # an evolution problem's points: the time column, or --time
    heat = npde.load(files["heat2d"])
    assert main(["export", str(files["heat2d"]), "--points", str(plain), "--time", "0.5"]) == 0
    names, table = _rows(capsys.readouterr().out)
    assert names == ["x", "y", "t", "u"]
    _close(table[:, 3], heat(np.column_stack([pts, np.full(3, 0.5)])))


# -- errors --------------------------------------------------------------------------------------


def test_usage_errors_name_the_option(files, tmp_path, capsys):
    sine, heat = str(files["poisson2d_sine"]), str(files["heat2d"])
    junk = tmp_path / "junk.msh"
    junk.write_text("not a mesh\n")
    wide = tmp_path / "wide.csv"
    wide.write_text("0.1,0.2,0.3\n")
    mesh = tmp_path / "m.vtu"
    meshio.write(mesh, _square_mesh(5))
    o = str(tmp_path / "o")
    cases = [
        (["--grid", "64x64", "-o", o + ".xyz"], "-o/--output: ", "unknown suffix '.xyz'"),
        (["--mesh", str(mesh), "-o", o + ".abc"], "-o/--output: ", "unknown suffix '.abc'"),
        (["--mesh", str(junk), "-o", o + ".vtu"], "--mesh: ", "cannot be read by meshio"),
        (["--mesh", str(mesh)], "-o/--output: ", "required with --mesh"),
        (["--points", str(wide)], "--points: ", "its rows have 3 columns"),
        (["--grid", "8x8x8", "-o", o + ".nc"], "--grid: ", "expected 2 point counts"),
        (["--grid", "8x8", "-o", o + ".nc", "--gradient"], "--gradient: ", "only with"),
        (["--mesh", str(mesh), "-o", o + ".vtu", "--time", "1"], "--time: ", "steady"),
        (["--grid", "8x8", "-o", sine], "-o/--output: ", "the field's own file"),
    ]
    for args, option, reason in cases:
        assert main(["export", sine, *args]) == 2, args
        err = capsys.readouterr().err
        assert f"neuralpde: error: {option}" in err and reason in err, (args, err)
    cases = [
        (["--mesh", str(mesh), "-o", o + ".vtu"], "--time: ", "give the time"),
        (["--mesh", str(mesh), "-o", o + ".vtu", "--time", "2"], "--time: ", "outside the"),
        (["--mesh", str(mesh), "-o", o + ".vtu", "--times", "0,1"], "-o/--output: ", ".xdmf"),
        (["--grid", "8x8x3", "-o", o + ".vtk"], "--time: ", "a VTK file has no time axis"),
        (["--grid", "8x8", "-o", o + ".h5", "--time", "0.5"], "--time: ", "whole time span"),
    ]
    for args, option, reason in cases:
        assert main(["export", heat, *args]) == 2, args
        err = capsys.readouterr().err
        assert f"neuralpde: error: {option}" in err and reason in err, (args, err)
    with pytest.raises(SystemExit) as e:
        main(["export", sine, "--grid", "64xa", "-o", o + ".nc"])
    assert e.value.code == 2 and "argument --grid: expected point counts" in capsys.readouterr().err
    assert not list(tmp_path.glob("o.*"))
