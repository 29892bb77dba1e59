"""A solution on a MeshDomain stores its mesh (``/problem/mesh``): the loaded field knows its
domain exactly, not by its bounding box, and a mesh altered in the file is refused."""

from __future__ import annotations

import itertools
import math
import shutil
import warnings

import h5py
import meshio
import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.cli import main
from neuralpde.io import FormatError
from neuralpde.solution import Solution

from ..untrained import kuhn_cube, untrained_solution

N = 6  # squares per side of the unit square
HOLE = (5 / 12, 5 / 12)  # the centre of the square (2, 2) left out: a hole
NOTCH = (0.85, 0.85)  # in the squares (4.., 4..) left out: a notch


def _holed_mesh() -> meshio.Mesh:
    """The unit square in triangles, less a square hole and the top-right notch, its bottom side
    tagged ``bottom`` (the other sides untagged: part ``boundary``), with a point no cell uses."""
    xs = np.linspace(0.0, 1.0, N + 1)
    X, Y = np.meshgrid(xs, xs, indexing="ij")
    pts = np.column_stack([X.ravel(), Y.ravel(), np.zeros(X.size)])
    pts = np.vstack([pts, [[5.0, 5.0, 0.0]]])  # used by no cell

    def idx(i: int, j: int) -> int:
        return i * (N + 1) + j

    tris = []
    for i, j in itertools.product(range(N), repeat=2):
        if (i, j) == (2, 2) or (i >= 4 and j >= 4):
            continue
        tris += [[idx(i, j), idx(i + 1, j), idx(i + 1, j + 1)]]
        tris += [[idx(i, j), idx(i + 1, j + 1), idx(i, j + 1)]]
    bottom = [[idx(i, 0), idx(i + 1, 0)] for i in range(N)]
    return meshio.Mesh(
        pts,
        [("triangle", np.array(tris)), ("line", np.array(bottom))],
        cell_data={"gmsh:physical": [np.full(len(tris), 7), np.full(N, 3)]},
        field_data={"bottom": np.array([3, 1]), "plate": np.array([7, 2])},
    )


def _cube_mesh() -> meshio.Mesh:
    """The unit cube in 48 tetrahedra, untagged."""
    pts, tets = kuhn_cube()
    return meshio.Mesh(pts, [("tetra", tets)])


def _solution(domain: npde.Domain, equation: npde.Equation, conditions: list) -> Solution:
    """An untrained (random) field of a problem on ``domain``: what is saved is the domain."""
    return untrained_solution(npde.Problem(domain, equation, conditions, name="meshed"))


@pytest.fixture(scope="module")
def mesh() -> npde.MeshDomain:
    return npde.MeshDomain(_holed_mesh())


@pytest.fixture(scope="module")
def saved(mesh, tmp_path_factory):
    """The path of a saved solution on ``mesh``."""
    sol = _solution(mesh, npde.Poisson(f=1.0), [npde.Dirichlet(0.0)])
    return sol.save(tmp_path_factory.mktemp("mesh") / "mesh.h5", n=9, xdmf=False)


def _copy(saved, tmp_path, name: str = "copy.h5"):
    return shutil.copy(saved, tmp_path / name)


def test_the_loaded_field_rebuilds_the_mesh_with_its_digest(mesh, saved):
    field = npde.load(saved)
    dom = field.domain
    assert isinstance(dom, npde.MeshDomain)
    assert dom.digest == mesh.digest
    assert dom.describe() == mesh.describe()  # source, parts, counts, names
    assert dom.boundary_parts == ("bottom", "boundary")
    np.testing.assert_array_equal(dom.facet_parts, mesh.facet_parts)
    assert dom.measure == pytest.approx(mesh.measure, rel=1e-14)


def test_contains_agrees_with_the_mesh_in_the_hole_and_the_notch(mesh, saved):
    field = npde.load(saved)
    rng = np.random.default_rng(0)
    pts = np.vstack([rng.random((3000, 2)), [HOLE, NOTCH, [0.5, 0.5], [0.0, 0.0], [0.25, 0.25]]])
    inside = field.contains(pts)
    np.testing.assert_array_equal(inside, mesh.contains(pts))
    np.testing.assert_array_equal(inside[-5:], [False, False, True, True, True])
    assert not inside.all() and inside.mean() > 0.5
    # within rounding of the boundary (the hole's and the notch's corners) counts as inside
    edge = np.array([[2 / 6, 2 / 6], [4 / 6, 4 / 6], [1.0, 4 / 6]])
    assert field.contains(edge + 1e-15).all()


def test_points_in_the_hole_are_nan_with_a_warning_or_an_error_with_strict(saved):
    field = npde.load(saved)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(field([[0.1, 0.1], [0.9, 0.1]])).all()
    what = r"^1 of 2 points lie outside the field's domain \(MeshDomain within x in \[0, 1\]"
    with pytest.warns(npde.OutsideDomainWarning, match=what) as rec:
        values = field([list(HOLE), [0.1, 0.1]])
    assert len(rec) == 1 and rec[0].filename == __file__
    assert np.isnan(values[0]) and np.isfinite(values[1])
    with pytest.warns(npde.OutsideDomainWarning, match="1 of 1 points"):
        assert np.isnan(field.gradient([list(NOTCH)])).all()
    with pytest.raises(ValueError, match=r"1 of 2 .*MeshDomain.*e\.g\. \[0\.85, 0\.85\]"):
        field([[0.1, 0.1], list(NOTCH)], strict=True)
    strict = npde.load(saved, strict=True)
    with pytest.raises(ValueError, match=r"e\.g\. \[0\.41666.*\(strict=True\)"):
        strict.laplacian([list(HOLE)])


def test_the_file_stores_the_mesh_compressed_with_its_digest(mesh, saved):
    with h5py.File(saved, "r") as f:
        g = f["problem/mesh"]
        assert g.attrs["sha256"] == mesh.digest and g.attrs["cell_type"] == "triangle"
        used = len(np.unique(mesh.cells))  # the points the cells use: 45 of the 50
        assert g["points"].dtype == np.float64 and g["points"].shape == (used, 2) == (45, 2)
        assert g["cells"].dtype == np.int64 and g["cells"].shape == mesh.cells.shape
        assert g["facets"].shape == (len(mesh.facet_parts), 2)
        assert all(g[k].compression == "gzip" for k in ("points", "cells", "facets"))
    info = npde.io.read_solution(saved)  # the plain reader does not read the mesh
    assert "mesh" not in info and info["problem"]["domain"]["sha256"] == mesh.digest


@pytest.mark.parametrize(
    "entry, change",
    [
        ("points", lambda a: a + np.where(np.arange(a.size) == 8, 0.01, 0.0).reshape(a.shape)),
        ("facet_parts", lambda a: 1 - a),
        ("cells", lambda a: a[::-1]),
    ],
)
def test_an_altered_mesh_is_refused(saved, tmp_path, entry, change):
    path = _copy(saved, tmp_path)
    with h5py.File(path, "r+") as f:
        ds = f["problem/mesh"][entry]
        ds[...] = change(ds[()])
    with pytest.raises(FormatError, match=r"copy\.h5'.*'/problem/mesh' (does not|cannot)"):
        npde.load(path)


def test_an_altered_digest_or_a_broken_mesh_is_refused(saved, tmp_path):
    path = _copy(saved, tmp_path)
    with h5py.File(path, "r+") as f:
        f["problem/mesh"].attrs["sha256"] = "0" * 64
    with pytest.raises(FormatError, match="does not match its digest"):
        npde.load(path)
    path = _copy(saved, tmp_path, "broken.h5")
    with h5py.File(path, "r+") as f:
        cells = f["problem/mesh/cells"]
        cells[0, 0] = 10**6  # a vertex that does not exist
    with pytest.raises(FormatError, match="cannot be rebuilt .*does not exist"):
        npde.load(path)
    path = _copy(saved, tmp_path, "missing.h5")
    with h5py.File(path, "r+") as f:
        del f["problem/mesh/facets"]
    with pytest.raises(FormatError, match="damaged .*'/problem/mesh/facets' is missing"):
        npde.load(path)


def test_a_file_without_the_mesh_loads_by_its_bounding_box(saved, tmp_path):
    path = _copy(saved, tmp_path)  # as written before meshes were stored
    with h5py.File(path, "r+") as f:
        del f["problem/mesh"]
    field = npde.load(path)
    assert field.domain is None
    np.testing.assert_array_equal(field.contains([HOLE, [1.5, 0.5]]), [True, False])
    with pytest.warns(npde.OutsideDomainWarning, match="known by its bounding box only"):
        assert np.isnan(field([[1.5, 0.5]])).all()


def test_a_space_time_over_a_mesh(mesh, tmp_path):
    domain = npde.SpaceTime(mesh, (0.0, 0.5))
    ic = npde.Initial(lambda x: torch.sin(math.pi * x[:, 0]))
    sol = _solution(domain, npde.Heat(kappa=0.1), [npde.Dirichlet(0.0), ic])
    field = npde.load(sol.save(tmp_path / "heat.h5", n=5, xdmf=False))
    assert isinstance(field.domain, npde.SpaceTime)
    assert field.domain.space.digest == mesh.digest and field.time_axis == 2
    rng = np.random.default_rng(1)
    pts = np.vstack([rng.random((500, 3)) * [1, 1, 0.6], [[*HOLE, 0.25], [0.1, 0.1, 0.25]]])
    np.testing.assert_array_equal(field.contains(pts), sol.contains(pts))
    with pytest.warns(npde.OutsideDomainWarning, match=r"SpaceTime of MeshDomain"):
        values = field.time_derivative([[*HOLE, 0.25], [0.1, 0.1, 0.25]])
    assert np.isnan(values[0]) and np.isfinite(values[1])


def test_a_tetrahedral_mesh_round_trips(tmp_path):
    cube = npde.MeshDomain(_cube_mesh())
    sol = _solution(cube, npde.Poisson(f=1.0), [npde.Dirichlet(0.0)])
    field = npde.load(sol.save(tmp_path / "cube.h5", n=5, xdmf=False))
    assert field.domain.digest == cube.digest and field.domain.describe() == cube.describe()
    pts = np.random.default_rng(2).random((500, 3)) * 1.2 - 0.1
    np.testing.assert_array_equal(field.contains(pts), cube.contains(pts))


def test_info_names_the_mesh_and_its_digest(mesh, saved, capsys):
    assert main(["info", str(saved)]) == 0
    out = capsys.readouterr().out
    assert f"cells, boundary parts bottom, boundary; sha256 {mesh.digest}" in out
    assert main(["info", str(saved), "--json"]) == 0  # no arrays of the mesh in the record
    assert mesh.digest in capsys.readouterr().out


def test_a_grid_exported_from_a_loaded_mesh_field_keeps_the_mesh(mesh, saved, tmp_path):
    from neuralpde.export import to_grid

    field = npde.load(saved)
    out = to_grid(field, "12x12", tmp_path / "regrid.h5", xdmf=False)
    again = npde.load(out.path)
    assert again.domain is not None and again.domain.digest == mesh.digest
    hole = np.array([HOLE])
    assert not again.contains(hole)[0] and field.contains(np.array([[0.1, 0.1]]))[0]
