"""Solution and reference files in other programs: xarray (netCDF-4 through h5netcdf), VTK's
netCDF CF reader (ParaView's netCDF reader) and its XDMF reader (ParaView's "XDMF Reader", on
the XDMF sidecar), and files of format version 1 read as before.

Every check ties a value another program shows at a point to the field at that point: a
transposed grid (the point (a, b) carrying u(x=b, y=a)) or time taken for a space axis fails.
The grids are not square (5 x 7, on [0, 1] x [0, 2]), so that no transposition goes unseen.
"""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.cli import main
from neuralpde.io import FormatError, read_grid, read_reference, read_solution
from neuralpde.io.xdmf import sidecar_path
from neuralpde.reference import convergence_study, load_reference, save_reference

from ..fuzzing import write_version_1

PI = np.pi
STEADY_N = (5, 7)
HEAT_N = (5, 6, 4)
VTK_MISSING = (
    "VTK is not installed: the 'vtk' wheel (pip install vtk, part of the test extra) provides "
    "the netCDF CF and XDMF readers ParaView uses"
)


def _vtk(module: str):
    return pytest.importorskip(f"vtkmodules.{module}", reason=VTK_MISSING)


@pytest.fixture(scope="module")
def steady():
    """A briefly trained 2-D Poisson solution (the values need not be accurate)."""
    problem = npde.Problem(
        npde.Rectangle((0, 0), (1, 2)),
        npde.Poisson(f=lambda x: torch.sin(PI * x[:, 0]) * (1 + x[:, 1])),
        [npde.Dirichlet(lambda x: x[:, 0] + 3 * x[:, 1])],
        name="interop_steady",
    )
    return npde.solve(
        problem,
        npde.Siren(width=8, depth=1, w0=2.0),
        npde.SobolSampler(n_interior=64, n_boundary=32),
        npde.Trainer(adam_steps=3, lbfgs_steps=0, progress=False),
        seed=1,
    )


@pytest.fixture(scope="module")
def heat():
    """A briefly trained 2-D heat solution, with its exact solution."""

    def exact(x):
        return torch.exp(-x[:, 2]) * torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1] / 2)

    problem = npde.Problem(
        npde.SpaceTime(npde.Rectangle((0, 0), (1, 2)), t_span=(0, 0.5)),
        npde.Heat(kappa=0.1),
        [npde.Dirichlet(0.0), npde.Initial(exact)],
        exact=exact,
        name="interop_heat",
    )
    return npde.solve(
        problem,
        npde.Siren(width=8, depth=1, w0=2.0),
        npde.SobolSampler(n_interior=64, n_boundary=32, n_initial=32),
        npde.Trainer(adam_steps=3, lbfgs_steps=0, progress=False),
        seed=2,
    )


@pytest.fixture(scope="module")
def files(steady, heat, tmp_path_factory):
    folder = tmp_path_factory.mktemp("interop")
    return {
        "steady": steady.save(folder / "steady.h5", n=STEADY_N),
        "heat": heat.save(folder / "heat.h5", n=HEAT_N),
    }


def _index(values: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """The index of each of ``values`` in the coordinate array ``axis`` (each must be one of
    its nodes, up to rounding)."""
    i = np.abs(np.asarray(values)[:, None] - axis[None, :]).argmin(axis=1)
    np.testing.assert_allclose(axis[i], values, rtol=0, atol=1e-12)
    return i


# -- the layout --------------------------------------------------------------------------------


def test_the_stored_grid_is_in_cf_order_with_cf_attributes(files, steady, heat):
    with h5py.File(files["heat"], "r") as f:
        assert f["u"].shape == f["exact"].shape == HEAT_N[::-1]  # (t, y, x)
        assert [d[0].name for d in f["u"].dims] == ["/t", "/y", "/x"]
        assert json.loads(f.attrs["neuralpde_coordinates"]) == ["x", "y", "t"]
        assert f.attrs["Conventions"] == b"CF-1.10"
        assert "coordinates" not in f.attrs
        t = dict(f["t"].attrs)
        assert (t["axis"], t["units"], t["long_name"]) == (b"T", b"1", b"time")
        for name in ("x", "y"):  # no axis: VTK would take X and Y for longitude and latitude
            assert "axis" not in f[name].attrs and f[name].attrs["units"] == b"1"
        assert f["training/step"].dtype == np.int64
        np.testing.assert_array_equal(f["training/step"][()], heat.history["step"])
    with h5py.File(files["steady"], "r") as f:
        x, y, u = f["x"][()], f["y"][()], f["u"][()]
    assert u.shape == STEADY_N[::-1]
    mesh = np.meshgrid(x, y, indexing="ij")
    values = steady(np.column_stack([m.ravel() for m in mesh])).reshape(STEADY_N)
    np.testing.assert_allclose(u.T, values, rtol=1e-12, atol=1e-14)  # u[j, i] at (x_i, y_j)


def test_readers_give_the_grid_in_the_coordinates_order(files, steady):
    field = npde.load(files["steady"])
    coords, grid = field.grid
    assert list(coords) == ["x", "y"] and grid.shape == STEADY_N
    mesh = np.meshgrid(coords["x"], coords["y"], indexing="ij")
    points = np.column_stack([m.ravel() for m in mesh])
    np.testing.assert_allclose(grid.ravel(), steady(points), rtol=1e-12, atol=1e-14)
    axes, values = read_grid(files["steady"])  # a neuralpde file: the coordinates' order
    np.testing.assert_array_equal(axes[0], coords["x"])
    np.testing.assert_array_equal(values, grid)
    kappa = npde.GridData.from_file(files["steady"])  # a coefficient map on (x, y)
    np.testing.assert_allclose(kappa(torch.as_tensor(points)).numpy(), grid.ravel(), rtol=1e-12)


# -- xarray ------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["steady", "heat"])
def test_xarray_reads_named_dimensions_and_writes_netcdf(files, steady, heat, which, tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    field, names = (steady, ("y", "x")) if which == "steady" else (heat, ("t", "y", "x"))
    with xr.open_dataset(files[which], engine="h5netcdf") as ds:
        assert ds["u"].dims == names
        assert ds.attrs["Conventions"] == "CF-1.10" and "coordinates" not in ds.attrs
        hdf5 = {"DIMENSION_LABELS", "DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME"}
        for name in ds.variables:  # nothing of HDF5's bookkeeping leaks into the attributes
            assert not set(ds[name].attrs) & hdf5, (name, ds[name].attrs)
        coords = [ds[n].values for n in names[::-1]]  # x, y(, t)
        mesh = np.meshgrid(*coords, indexing="ij")
        points = np.column_stack([m.ravel() for m in mesh])
        values = ds["u"].transpose(*names[::-1]).values
        np.testing.assert_allclose(values.ravel(), field(points), rtol=1e-12, atol=1e-14)
        a, b = coords[0][1], coords[1][-2]
        assert ds["u"].sel(x=a, y=b).values.ravel()[0] == pytest.approx(
            float(field([[a, b] + ([coords[2][0]] if which == "heat" else [])])[0]), rel=1e-12
        )
        for engine in ("scipy", "h5netcdf"):  # netCDF-3 and netCDF-4 writers take it
            out = tmp_path / f"{which}-{engine}.nc"
            ds.to_netcdf(out, engine=engine)
            with xr.open_dataset(out, engine=engine) as back:
                assert back["u"].dims == names
                np.testing.assert_array_equal(back["u"].values, ds["u"].values)
    if which == "heat":
        # the copy keeps the attributes that name neuralpde's coordinates: read in their order
        axes, grid = read_grid(tmp_path / "heat-h5netcdf.nc")
        np.testing.assert_array_equal(grid, read_grid(files["heat"])[1])
        with xr.open_dataset(files["heat"], engine="h5netcdf") as ds:  # a netCDF file of
            ds.attrs = {}  # another origin, in CF's order: read in the order of its dimensions
            ds.to_netcdf(tmp_path / "other.nc", engine="h5netcdf")
        axes, grid = read_grid(tmp_path / "other.nc")
        assert grid.shape == HEAT_N[::-1] and len(axes[0]) == HEAT_N[2]


# -- VTK's netCDF CF reader (ParaView's netCDF reader) --------------------------------------------


def _vtk_read(reader, path: Path, time: float | None):
    """Points, point arrays (at ``time``) and time steps (``None`` without) of a VTK reader."""
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline as Pipeline

    reader.SetFileName(str(path))
    reader.UpdateInformation()
    info = reader.GetOutputInformation(0)
    steps = info.Get(Pipeline.TIME_STEPS()) if info.Has(Pipeline.TIME_STEPS()) else None
    reader.UpdateTimeStep(time) if time is not None else reader.Update()
    out = reader.GetOutputDataObject(0)
    data = out.GetPointData()
    count = data.GetNumberOfArrays()
    arrays = {data.GetArrayName(i): vtk_to_numpy(data.GetArray(i)) for i in range(count)}
    points = np.array([out.GetPoint(i) for i in range(out.GetNumberOfPoints())])
    return points, arrays, steps


def _vtk_netcdf(path: Path, time: float | None = None):
    """Points and ``u`` (at ``time``) as VTK's netCDF CF reader gives them, and its time steps."""
    points, arrays, steps = _vtk_read(_vtk("vtkIONetCDF").vtkNetCDFCFReader(), path, time)
    return points, arrays["u"], steps


def test_vtk_netcdf_reader_puts_each_value_at_its_point(files, steady):
    points, values, steps = _vtk_netcdf(files["steady"])
    assert steps is None and len(points) == np.prod(STEADY_N)
    coords, grid = npde.load(files["steady"]).grid
    i, j = _index(points[:, 0], coords["x"]), _index(points[:, 1], coords["y"])
    np.testing.assert_array_equal(points[:, 2], 0.0)
    np.testing.assert_array_equal(values, grid[i, j])  # the point (a, b) carries u(x=a, y=b)
    nodes = np.column_stack([coords["x"][i], coords["y"][j]])  # the stored ones, not rounded
    np.testing.assert_allclose(values, steady(nodes), rtol=1e-12, atol=1e-14)


def test_vtk_netcdf_reader_sees_time_steps_not_a_space_axis(files, heat):
    coords, grid = npde.load(files["heat"]).grid
    k = 2
    points, values, steps = _vtk_netcdf(files["heat"], coords["t"][k])
    np.testing.assert_allclose(steps, coords["t"], rtol=0, atol=1e-15)
    assert len(points) == HEAT_N[0] * HEAT_N[1]  # one time sample of the grid, in the plane
    np.testing.assert_array_equal(points[:, 2], 0.0)
    i, j = _index(points[:, 0], coords["x"]), _index(points[:, 1], coords["y"])
    np.testing.assert_array_equal(values, grid[i, j, k])
    at = np.column_stack([coords["x"][i], coords["y"][j], np.full(len(i), coords["t"][k])])
    np.testing.assert_allclose(values, heat(at), rtol=1e-12, atol=1e-14)


# -- the XDMF sidecar ----------------------------------------------------------------------------


def _vtk_xdmf(path: Path, time: float | None = None):
    """Points and the point arrays (at ``time``) as VTK's XDMF reader (ParaView's "XDMF
    Reader") gives them, and its time steps."""
    return _vtk_read(_vtk("vtkIOXdmf2").vtkXdmfReader(), path, time)


def _check_sidecar(path: Path) -> ET.Element:
    """The sidecar of ``path``, after checking that every HDF5 item it names is a dataset of
    the file of the declared shape."""
    side = sidecar_path(path)
    assert side == path.with_suffix(".xdmf") and side.is_file()
    root = ET.parse(side).getroot()
    with h5py.File(path, "r") as f:
        for item in root.iter("DataItem"):
            if item.get("Format") == "HDF":
                name, entry = item.text.strip().split(":")
                assert name == path.name
                declared = tuple(int(d) for d in item.get("Dimensions").split())
                assert f[entry].shape == declared, (entry, declared)
    return root


def test_xdmf_sidecar_of_a_steady_solution(files, steady):
    root = _check_sidecar(files["steady"])
    topology = root.find(".//Topology")
    assert topology.get("TopologyType") == "2DRectMesh"
    assert topology.get("Dimensions") == "7 5"  # Y then X, as the values are stored
    points, arrays, steps = _vtk_xdmf(sidecar_path(files["steady"]))
    assert steps is None and sorted(arrays) == ["u"]
    coords, grid = npde.load(files["steady"]).grid
    i, j = _index(points[:, 0], coords["x"]), _index(points[:, 1], coords["y"])
    np.testing.assert_array_equal(arrays["u"], grid[i, j])
    nodes = np.column_stack([coords["x"][i], coords["y"][j]])
    np.testing.assert_allclose(arrays["u"], steady(nodes), rtol=1e-12, atol=1e-14)


def test_xdmf_sidecar_of_an_evolution_is_a_time_series(files, heat):
    root = _check_sidecar(files["heat"])
    collection = root.find("./Domain/Grid")
    assert (collection.get("GridType"), collection.get("CollectionType")) == (
        "Collection",
        "Temporal",
    )
    coords, grid = npde.load(files["heat"]).grid
    times = [float(t.get("Value")) for t in collection.iter("Time")]
    assert times == coords["t"].tolist()  # exactly the stored samples
    k = 1
    points, arrays, steps = _vtk_xdmf(sidecar_path(files["heat"]), times[k])
    np.testing.assert_allclose(steps, coords["t"], rtol=0, atol=1e-15)
    assert sorted(arrays) == ["exact", "u"] and len(points) == HEAT_N[0] * HEAT_N[1]
    i, j = _index(points[:, 0], coords["x"]), _index(points[:, 1], coords["y"])
    np.testing.assert_array_equal(arrays["u"], grid[i, j, k])
    at = np.column_stack([coords["x"][i], coords["y"][j], np.full(len(i), times[k])])
    np.testing.assert_allclose(arrays["u"], heat(at), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(arrays["exact"], heat.problem.exact_values(at), rtol=1e-12)


def test_xdmf_sidecar_of_a_1d_evolution_reference(tmp_path):
    problem = npde.Problem(
        npde.SpaceTime(npde.Interval(0, 1), t_span=(0, 0.2)),
        npde.Heat(kappa=0.1),
        [npde.Dirichlet(0.0), npde.Initial(lambda x: torch.sin(PI * x[:, 0]))],
        name="interop_ref_heat",
    )
    ref = convergence_study(problem, 4, levels=3, time_samples=3)
    path = save_reference(ref, tmp_path / "r.h5", problem=problem)
    with h5py.File(path, "r") as f:
        assert f["u"].shape == (3, 17) and f["t"].attrs["axis"] == b"T"
    _check_sidecar(path)
    back = load_reference(path)
    np.testing.assert_array_equal(back.values, ref.values)  # (x, t), as computed
    points, arrays, steps = _vtk_xdmf(sidecar_path(path), float(ref.axes[1][2]))
    np.testing.assert_allclose(steps, ref.axes[1], rtol=0, atol=1e-15)
    i = _index(points[:, 0], ref.axes[0])
    np.testing.assert_array_equal(points[:, 1:], 0.0)
    np.testing.assert_array_equal(arrays["u"], ref.values[i, 2])
    points, values, steps = _vtk_netcdf(path, float(ref.axes[1][2]))
    np.testing.assert_allclose(steps, ref.axes[1], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(values, ref.values[_index(points[:, 0], ref.axes[0]), 2])


def test_a_3d_evolution_in_both_vtk_readers(tmp_path):
    """A 3DRectMesh per time sample of a (t, z, y, x) grid."""
    problem = npde.Problem(
        npde.SpaceTime(npde.Box((0, 0, 0), (1, 2, 3)), t_span=(0, 1)),
        npde.Heat(kappa=0.1),
        [npde.Dirichlet(1.0), npde.Initial(lambda x: x[:, 0] + x[:, 1] ** 2 + x[:, 2] ** 3)],
    )
    solution = npde.solve(
        problem,
        npde.Siren(width=8, depth=1),
        npde.SobolSampler(n_interior=32, n_boundary=32, n_initial=32),
        npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False),
    )
    path = solution.save(tmp_path / "h3.h5", n=(3, 4, 5, 3))
    assert _check_sidecar(path).find(".//Topology").get("TopologyType") == "3DRectMesh"
    coords, grid = npde.load(path).grid
    for read, where in ((_vtk_xdmf, sidecar_path(path)), (_vtk_netcdf, path)):
        points, values, steps = read(where, coords["t"][1])
        values = values["u"] if isinstance(values, dict) else values
        np.testing.assert_allclose(steps, coords["t"], rtol=0, atol=1e-15)
        i, j, k = (_index(points[:, c], coords[n]) for c, n in enumerate("xyz"))
        np.testing.assert_array_equal(values, grid[i, j, k, 1])


def test_the_sidecar_can_be_left_out_and_its_failure_is_logged(steady, tmp_path, caplog):
    path = steady.save(tmp_path / "s.h5", n=3, xdmf=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.h5"]
    with pytest.raises(TypeError, match="xdmf must be True or False, got str 'no'"):
        steady.save(path, n=3, xdmf="no")
    sidecar_path(
        path
    ).mkdir()  # a folder in the sidecar's place: the HDF5 file is written all the same
    with caplog.at_level(logging.WARNING, logger="neuralpde.io"):
        assert npde.load(steady.save(path, n=4)).grid[1].shape == (4, 4)
    assert "could not write the XDMF sidecar" in caplog.text and "s.xdmf" in caplog.text


# -- files of format version 1 ---------------------------------------------------------------------


def test_version_1_solution_files_load_with_the_same_values(files, heat, tmp_path, capsys):
    old = tmp_path / "old.h5"
    old.write_bytes(files["heat"].read_bytes())
    write_version_1(old)
    with h5py.File(old, "r") as f:  # laid out as version 1 wrote it
        assert f.attrs["format_version"] == 1 and f["u"].shape == HEAT_N
        assert [d.label for d in f["u"].dims] == ["x", "y", "t"]
        assert f["training/step"].dtype == np.float64
    new, back = npde.load(files["heat"]), npde.load(old)
    assert back.record["format_version"] == 1
    np.testing.assert_array_equal(back.grid[1], new.grid[1])
    np.testing.assert_array_equal(back.record["exact"], new.record["exact"])
    for name in ("x", "y", "t"):
        np.testing.assert_array_equal(back.grid[0][name], new.grid[0][name])
    pts = np.random.default_rng(0).random((50, 3)) * [1, 2, 0.5]
    np.testing.assert_array_equal(back(pts), heat(pts))
    np.testing.assert_array_equal(read_grid(old)[1], read_grid(files["heat"])[1])
    steps = read_solution(old)["training"]["history"]["step"]
    assert steps.dtype == np.float64 and steps.tolist() == heat.history["step"]
    assert main(["info", str(old)]) == 0 and main(["info", str(files["heat"])]) == 0
    assert capsys.readouterr().out.count("x, y, t") == 2


def test_version_1_reference_files_load_with_the_same_values(tmp_path):
    problem = npde.Problem(
        npde.Rectangle((0, 0), (1, 2)), npde.Poisson(1.0), [npde.Dirichlet(0.0)], name="ref_v1"
    )
    ref = convergence_study(problem, (2, 3), levels=3)
    path = save_reference(ref, tmp_path / "r.h5", problem=problem, xdmf=False)
    old = tmp_path / "old.h5"
    old.write_bytes(path.read_bytes())
    write_version_1(old)
    new, back = load_reference(path), load_reference(old)
    assert read_reference(old)["format_version"] == 1
    assert back.values.shape == new.values.shape == (9, 13)
    np.testing.assert_array_equal(back.values, new.values)
    np.testing.assert_array_equal(back.values, ref.values)
    assert back.checksum == new.checksum  # the checksum of equal inputs is kept
    np.testing.assert_array_equal(read_grid(old)[1], ref.values)
    with h5py.File(old, "a") as f:  # the version-1 digest covers the version-1 layout
        f["u"][0, 0] += 1.0
    with pytest.raises(FormatError, match="content digest does not match"):
        load_reference(old)
