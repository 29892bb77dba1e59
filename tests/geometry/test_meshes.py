"""Mesh domains (:mod:`neuralpde.geometry.meshes`): files, tagged sides, maps, distances,
containment by cells and the checks of a mesh's connectivity."""

from __future__ import annotations

import itertools
import json
import math
import warnings

import meshio
import numpy as np
import pytest

import neuralpde as npde
from neuralpde.domains import Rectangle
from neuralpde.geometry import Disk, MeshDomain, Polygon, distance_to_boundary
from neuralpde.solution import grid_points

from .shapes import L_SHAPE, SIDES, _cube_mesh, _square_mesh, _unit


def test_mesh_file_round_trip_with_tagged_sides(tmp_path):
    path = tmp_path / "square.msh"
    meshio.write(path, _square_mesh(), file_format="gmsh22", binary=False)
    dom = MeshDomain(path)
    assert dom.names == ("x", "y") and dom.boundary_parts == SIDES
    assert dom.measure == pytest.approx(1.0) and dom.boundary_measure == pytest.approx(4.0)
    np.testing.assert_array_equal(dom.bounds[0], [0, 0])
    np.testing.assert_array_equal(dom.bounds[1], [1, 1])
    s = dom.boundary(_unit(4096, 2, seed=13))
    normals = {"bottom": [0, -1], "right": [1, 0], "top": [0, 1], "left": [-1, 0]}
    for k, side in enumerate(SIDES):
        on = s.tags == k
        assert 0.2 < on.mean() < 0.3
        np.testing.assert_allclose(s.normals[on], np.broadcast_to(normals[side], (on.sum(), 2)))
        axis = 0 if side in ("left", "right") else 1
        np.testing.assert_allclose(s.points[on, axis], 1.0 if side in ("right", "top") else 0.0)
    np.testing.assert_allclose(dom.distance(s.points), 0.0, atol=1e-15)
    desc = json.loads(json.dumps(dom.describe()))
    assert desc["parts"] == list(SIDES) and desc["cells"] == 32


def test_mesh_description_names_the_file_and_digests_its_contents(tmp_path):
    def save(mesh, folder):
        (tmp_path / folder).mkdir(exist_ok=True)
        meshio.write(tmp_path / folder / "sq.msh", mesh, file_format="gmsh22", binary=False)
        return MeshDomain(tmp_path / folder / "sq.msh").describe()

    desc = save(_square_mesh(), "a")
    assert desc == save(_square_mesh(), "b")  # the same mesh elsewhere: the same description
    assert desc["source"] == "sq.msh" and str(tmp_path) not in json.dumps(desc)
    assert json.loads(json.dumps(desc)) == desc and len(desc["sha256"]) == 64
    assert MeshDomain(_square_mesh()).digest == desc["sha256"]  # the contents, not the file
    moved = _square_mesh()
    moved.points[6, :2] += 0.01  # an inside vertex: same cells, parts and bounds
    retagged = _square_mesh()
    retagged.cell_data["gmsh:physical"][1][:] = 3  # bottom's facets tagged top (and top's
    retagged.cell_data["gmsh:physical"][3][:] = 1  # bottom): the same part names
    for other in (moved, retagged):
        changed = save(other, "a")  # another mesh in the same file
        assert {k for k in desc if desc[k] != changed[k]} == {"sha256"}
        problems = [
            npde.Problem(MeshDomain(m), npde.Poisson(1.0), [npde.Dirichlet(0.0)])
            for m in (_square_mesh(), other)
        ]
        assert problems[0].describe()["domain"] != problems[1].describe()["domain"]


def test_mesh_interior_uniform_and_distance_closed_form():
    dom = MeshDomain(_square_mesh(tagged=False))
    assert dom.boundary_parts == ("boundary",)
    p = dom.interior(_unit(8192, 2, seed=14))
    assert dom.contains(p).all()
    q = (p[:, 0] > 0.5) * 2 + (p[:, 1] > 0.5)
    np.testing.assert_allclose(np.bincount(q, minlength=4) / 8192, 0.25, atol=0.01)
    q = np.random.default_rng(0).random((500, 2)) * 1.4 - 0.2
    exact = np.minimum(np.minimum(q[:, 0], 1 - q[:, 0]), np.minimum(q[:, 1], 1 - q[:, 1]))
    gap = np.linalg.norm(np.maximum(np.maximum(-q, q - 1), 0.0), axis=1)
    exact = np.where(exact >= 0, exact, -gap)
    np.testing.assert_allclose(dom.distance(q), exact, atol=1e-14)
    np.testing.assert_array_equal(dom.contains(q), exact >= 0)


def test_nonconvex_mesh_matches_polygon():
    pts = np.array([[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [2, 1], [0, 2], [1, 2]], float)
    tris = [[0, 1, 4], [0, 4, 3], [1, 2, 5], [1, 5, 4], [3, 4, 7], [3, 7, 6]]
    mesh, poly = MeshDomain(meshio.Mesh(pts, [("triangle", np.array(tris))])), Polygon(L_SHAPE)
    assert mesh.measure == pytest.approx(3.0) and mesh.boundary_measure == pytest.approx(8.0)
    q = np.random.default_rng(1).random((1000, 2)) * 2.6 - 0.3
    np.testing.assert_array_equal(mesh.contains(q), poly.contains(q))
    np.testing.assert_allclose(mesh.distance(q), poly.distance(q), atol=1e-14)


def test_tetra_mesh_cube():
    dom = MeshDomain(_cube_mesh())
    assert dom.names == ("x", "y", "z")
    assert dom.measure == pytest.approx(1.0) and dom.boundary_measure == pytest.approx(6.0)
    p = dom.interior(_unit(8192, 3, seed=15))
    assert dom.contains(p).all()
    octant = (p > 0.5) @ [4, 2, 1]
    np.testing.assert_allclose(np.bincount(octant, minlength=8) / 8192, 1 / 8, atol=0.01)
    s = dom.boundary(_unit(2048, 3, seed=16))
    axis = np.argmax(np.abs(s.normals), axis=1)
    np.testing.assert_allclose(np.abs(s.normals).max(axis=1), 1.0)
    face = np.take_along_axis(s.points, axis[:, None], axis=1)[:, 0]
    np.testing.assert_allclose(face, (s.normals.max(axis=1) > 0).astype(float))  # outward
    np.testing.assert_allclose(dom.distance(s.points), 0.0, atol=1e-15)
    q = np.random.default_rng(2).random((300, 3))
    np.testing.assert_allclose(dom.distance(q), np.minimum(q, 1 - q).min(axis=1), atol=1e-14)
    assert not dom.contains(q + [1.01, 0, 0]).any()


def test_mesh_in_csg():
    plate = MeshDomain(_square_mesh()) - Disk([0.5, 0.5], 0.25)
    assert plate.boundary_parts == (*(f"outer.{s}" for s in SIDES), "hole0.boundary")
    assert plate.measure == pytest.approx(1 - math.pi / 16, rel=2e-3)


@pytest.mark.parametrize("suffix", [".msh", ".vtk"])
def test_an_unreadable_mesh_file_is_a_value_error_not_an_exit(tmp_path, suffix):
    path = tmp_path / f"bad{suffix}"
    path.write_text("hello\n")
    with pytest.raises(ValueError, match=r"path_or_mesh: meshio could not read '.*bad\.(msh|vtk)'"):
        MeshDomain(str(path))


_SQ = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
_TRI = np.array([[0, 1, 2], [0, 2, 3]])


@pytest.mark.parametrize(
    ("cells", "match"),
    [
        (
            np.vstack([_TRI, _TRI[:1]]),
            r"the facet with points \[0, 2\] belongs to 3 cells \[0, 1, 2\]",
        ),
        (_TRI[[0, 0]], r"cells 0 and 1 lie on the same side of their shared facet"),
        (np.array([[0, 1, 2], [0, 2, 3], [1, 2, 3]]), r"cells 0 and 2 lie on the same side"),
        (np.array([[0, 1, 7]]), r"cell 0 \(triangle \[0, 1, 7\]\) refers to a point that does "),
        (np.array([[0, 1, 2], [0, 1, -1]]), r"cell 1 \(triangle \[0, 1, -1\]\) refers.*\[0, 4\)"),
        (np.zeros((0, 3), dtype=int), r"triangle block 0 must list cells of 3 point indices, got"),
        (np.array([[0, 1, 2], [0, 2, 0]]), r"cell 1 \(triangle \[0, 2, 0\]\) has zero volume"),
    ],
    ids=["duplicate", "twice", "overlap", "out of range", "negative", "empty block", "flat"],
)
def test_mesh_connectivity_is_checked(cells, match):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy warnings on the way to the error
        with pytest.raises(ValueError, match=r"path_or_mesh: " + match):
            MeshDomain(meshio.Mesh(_SQ, [("triangle", cells)]))
    ok = MeshDomain(meshio.Mesh(_SQ, [("triangle", _TRI)]))
    assert ok.measure == pytest.approx(1.0) and ok.contains(np.array([[0.5, 0.5]])).all()


def test_a_tetrahedral_mesh_with_an_overlapping_cell_is_refused():
    mesh = _cube_mesh()
    cells = mesh.cells_dict["tetra"]
    with pytest.raises(ValueError, match=r"path_or_mesh: .*(belongs to 3 cells|same side)"):
        MeshDomain(meshio.Mesh(mesh.points, [("tetra", np.vstack([cells, cells[:1]]))]))


def _cube_tetra_mesh(n: int) -> meshio.Mesh:
    """The unit cube cut into n^3 small cubes of 6 tetrahedra each."""
    g = np.linspace(0, 1, n + 1)
    pts = np.array(np.meshgrid(g, g, g, indexing="ij")).reshape(3, -1).T
    idx = np.arange((n + 1) ** 3).reshape(n + 1, n + 1, n + 1)
    tets = []
    for i, j, k in itertools.product(range(n), repeat=3):
        c = [idx[i + a, j + b, k + e] for a in (0, 1) for b in (0, 1) for e in (0, 1)]
        for s, t in ((1, 3), (1, 5), (2, 3), (2, 6), (4, 5), (4, 6)):
            tets.append([c[0], c[s], c[s | t], c[7]])
    return meshio.Mesh(pts, [("tetra", np.array(tets))])


def _winding(dom: MeshDomain, p: np.ndarray) -> np.ndarray:
    """Generalized winding number of the mesh's outward-oriented boundary facets around ``p``
    (the sum of the signed angles, or solid angles, they subtend), over every facet."""
    r = dom.points[dom._facets][None] - p[:, None, None, :]  # (n, F, d, d)
    if dom.dim == 2:
        a, b = r[:, :, 0], r[:, :, 1]
        cross = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
        return np.arctan2(cross, np.sum(a * b, axis=-1)).sum(axis=1) / (2 * np.pi)
    a, b, c = r[:, :, 0], r[:, :, 1], r[:, :, 2]
    la, lb, lc = (np.linalg.norm(v, axis=-1) for v in (a, b, c))
    det = np.einsum("nfd,nfd->nf", a, np.cross(b, c))
    dots = (
        la * lb * lc
        + np.einsum("nfd,nfd->nf", a, b) * lc
        + np.einsum("nfd,nfd->nf", a, c) * lb
        + np.einsum("nfd,nfd->nf", b, c) * la
    )
    return (2 * np.arctan2(det, dots)).sum(axis=1) / (4 * np.pi)


def _every_facet_distance(dom: MeshDomain, p: np.ndarray) -> np.ndarray:
    """Distance to the nearest boundary facet, measured to every facet."""
    nf = len(dom._facets)
    rows, facets = np.repeat(np.arange(len(p)), nf), np.tile(np.arange(nf), len(p))
    return dom._pair_distance(p[rows], facets).reshape(len(p), nf).min(axis=1)


def _winding_contains(dom: MeshDomain, p: np.ndarray) -> np.ndarray:
    """The former test: winding number above 1/2 or within rounding of a boundary facet."""
    return (_winding(dom, p) > 0.5) | (_every_facet_distance(dom, p) <= dom._tol)


@pytest.mark.parametrize("make", [_square_mesh, _cube_mesh, lambda: _cube_tetra_mesh(3)])
def test_mesh_contains_by_cells_agrees_with_the_winding_number(make):
    dom = MeshDomain(make())
    rng = np.random.default_rng(3)
    lo, hi = dom.bounds
    b = dom.boundary(rng.random((300, dom.dim)))
    probes = [
        lo - 0.2 + rng.random((3000, dom.dim)) * (hi - lo + 0.4),
        dom.points,  # vertices, on interior facets and on the boundary
        grid_points([np.linspace(a, z, 13) for a, z in zip(lo, hi, strict=True)]),
    ]
    for step in (-1e-6, -0.5 * dom._tol, 0.0, 0.5 * dom._tol, 1e-6):  # across the boundary
        probes.append(b.points + step * b.normals)
    p = np.vstack(probes)
    np.testing.assert_array_equal(dom.contains(p), _winding_contains(dom, p))
    # the distance to the facets found in the KD-trees is the distance to all of them
    dist = _every_facet_distance(dom, p)
    np.testing.assert_allclose(np.abs(dom.distance(p)), dist, rtol=0, atol=1e-15)
    far = p[np.abs(dist) > dom._tol]
    np.testing.assert_array_equal(dom.distance(far) > 0, _winding(dom, far) > 0.5)


def test_mesh_distance_on_a_graded_mesh_finds_the_nearest_small_facet():
    """Facets of sizes 1/2 to 1/256 along the bottom side: the few nearest centroids are not
    always those of the nearest facets, and every size class must be searched."""
    xs = np.concatenate([[0.0], 0.5 ** np.arange(8, 0, -1), [1.0]])
    pts = np.vstack([np.column_stack([xs, np.zeros_like(xs)]), [[0.0, 1.0], [1.0, 1.0]]])
    top_left, top_right = len(xs), len(xs) + 1
    tris = [[i, i + 1, top_left] for i in range(len(xs) - 1)] + [[len(xs) - 1, top_right, top_left]]
    dom = MeshDomain(meshio.Mesh(pts, [("triangle", np.array(tris))]))
    q = np.random.default_rng(5).random((4000, 2)) * 1.6 - 0.3
    q[:1000, 1] = q[:1000, 1] * 0.02 - 0.01  # near the finely split side
    exact = distance_to_boundary(Rectangle((0, 0), (1, 1)), q)
    np.testing.assert_allclose(dom.distance(q), exact, atol=1e-14)


def test_mesh_points_with_nan_are_outside_at_nan_distance():
    dom = MeshDomain(_square_mesh())
    p = np.array([[np.nan, 0.5], [0.5, 0.25], [np.inf, 0.0]])
    np.testing.assert_array_equal(dom.contains(p), [False, True, False])
    np.testing.assert_allclose(dom.distance(p), [np.nan, 0.25, np.nan], atol=1e-15)


def test_mesh_contains_and_distance_on_a_fine_3d_grid():
    """8^3 cubes of 6 tetrahedra (768 boundary facets), a 48^3 grid (the size of a solution's
    output grid)."""
    dom = MeshDomain(_cube_tetra_mesh(8))
    g = np.linspace(0, 1, 48)
    p = grid_points([g, g, g])
    assert dom.contains(p).all()
    np.testing.assert_allclose(dom.distance(p), np.minimum(p, 1 - p).min(axis=1), atol=1e-14)
    assert not dom.contains(np.array([[1.0 + 1e-9, 0.5, 0.5], [0.5, -1e-9, 0.5]])).any()
