"""Disks, balls, polygons and CSG domains: maps, normals, distances, measures, validation."""

from __future__ import annotations

import itertools
import json
import math
import warnings

import meshio
import numpy as np
import pytest
import torch
from scipy.stats import qmc

import neuralpde as npde
from neuralpde.checks import check_problem
from neuralpde.domains import Rectangle, SpaceTime
from neuralpde.geometry import (
    Ball,
    Difference,
    Disk,
    Intersection,
    MeshDomain,
    Polygon,
    Union,
    distance_to_boundary,
)
from neuralpde.solution import grid_points


def _unit(n: int, d: int, seed: int = 0) -> np.ndarray:
    return qmc.Sobol(d, scramble=True, seed=seed).random(n)


def _source(seed: int = 0):
    rng = np.random.default_rng(seed)
    return lambda m, k: rng.random((m, k))


L_SHAPE = [[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]]


def _plate() -> Difference:
    plate = Rectangle([0.0, 0.0], [4.0, 4.0])
    for c in ([1, 1], [3, 1], [1, 3], [3, 3]):
        plate = plate - Disk(c, 0.5)
    return plate


# -- disk and ball --------------------------------------------------------------------------------


def test_disk_interior_is_inside_and_uniform():
    disk = Disk([1.0, -2.0], 2.0)
    n = 16384
    p = disk.interior(_unit(n, 2))
    assert p.shape == (n, 2) and disk.contains(p).all()
    r = np.linalg.norm(p - disk.center, axis=1)
    # r < R / sqrt(2) holds half the area; the four quadrants a quarter each.
    assert abs(np.mean(r < 2.0 / math.sqrt(2.0)) - 0.5) < 0.01
    q = (p[:, 0] > 1.0) * 2 + (p[:, 1] > -2.0)
    np.testing.assert_allclose(np.bincount(q, minlength=4) / n, 0.25, atol=0.01)


def test_disk_boundary_normals_distance_and_arc_length():
    disk = Disk([1.0, -2.0], 2.0)
    s = disk.boundary(_unit(8192, 2, seed=1))
    np.testing.assert_allclose(np.linalg.norm(s.points - disk.center, axis=1), 2.0, atol=1e-14)
    np.testing.assert_allclose(s.normals, (s.points - disk.center) / 2.0, atol=1e-14)
    np.testing.assert_allclose(disk.distance(s.points), 0.0, atol=1e-14)
    assert disk.contains(s.points).all()
    np.testing.assert_array_equal(s.tags, 0)
    theta = np.arctan2(*(s.points - disk.center).T[::-1]) % (2 * np.pi)
    np.testing.assert_allclose(
        np.histogram(theta, bins=8, range=(0, 2 * np.pi))[0] / 8192, 1 / 8, atol=0.01
    )


def test_disk_distance_and_measures_closed_form():
    disk = Disk([0.0, 0.0], 1.5)
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, -1.5], [3.0, 4.0]])
    np.testing.assert_allclose(disk.distance(pts), [1.5, 0.5, 0.0, -3.5])
    np.testing.assert_array_equal(disk.contains(pts), [True, True, True, False])
    assert disk.measure == pytest.approx(math.pi * 1.5**2)
    assert disk.boundary_measure == pytest.approx(2 * math.pi * 1.5)
    assert disk.boundary_parts == ("boundary",)
    lo, hi = disk.bounds
    np.testing.assert_array_equal(lo, [-1.5, -1.5])
    np.testing.assert_array_equal(hi, [1.5, 1.5])


@pytest.mark.parametrize("d", [2, 3, 4])
def test_ball_interior_uniform_and_boundary_exact(d):
    ball = Ball(np.arange(d, dtype=float), 2.0)
    n = 16384
    p = ball.interior(_unit(n, d, seed=2))
    assert ball.contains(p).all()
    r = np.linalg.norm(p - ball.center, axis=1)
    assert abs(np.mean(r < 2.0 * 0.5 ** (1 / d)) - 0.5) < 0.015  # equal-volume halves
    assert abs(np.mean(p[:, 0] > ball.center[0]) - 0.5) < 0.015
    s = ball.boundary(_unit(4096, d, seed=3))
    np.testing.assert_allclose(np.linalg.norm(s.points - ball.center, axis=1), 2.0, atol=1e-14)
    np.testing.assert_allclose(s.normals, (s.points - ball.center) / 2.0, atol=1e-14)
    np.testing.assert_allclose(ball.distance(s.points), 0.0, atol=1e-14)
    volume = {2: math.pi * 4, 3: 4 / 3 * math.pi * 8, 4: math.pi**2 / 2 * 16}[d]
    assert ball.measure == pytest.approx(volume)
    assert ball.boundary_measure == pytest.approx(d * volume / 2.0)


def test_ball_unit_edge_values_stay_finite():
    ball = Ball([0.0, 0.0, 0.0], 1.0)
    unit = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5], [np.nextafter(1, 0)] * 3, [1.0, 0.5, 0.0]])
    for pts in (ball.interior(unit), ball.boundary(unit).points):
        assert np.isfinite(pts).all() and ball.contains(pts).all()


# -- polygon --------------------------------------------------------------------------------------


def test_l_shape_measures_and_parts():
    poly = Polygon(L_SHAPE)
    assert poly.measure == pytest.approx(3.0)
    assert poly.boundary_measure == pytest.approx(8.0)
    assert poly.boundary_parts == tuple(f"edge{i}" for i in range(6))


def test_l_shape_interior_uniform_over_its_three_squares():
    poly = Polygon(L_SHAPE)
    n = 8192
    p = poly.interior(_unit(n, 2, seed=4))
    assert poly.contains(p).all() and (poly.distance(p) >= 0).all()
    square = (p[:, 0] > 1) * 1 + (p[:, 1] > 1) * 2  # 0: [0,1]^2, 1: right, 2: top
    assert not np.any(square == 3)
    np.testing.assert_allclose(np.bincount(square, minlength=3) / n, 1 / 3, atol=0.01)


def test_l_shape_boundary_normals_and_lengths():
    poly = Polygon(L_SHAPE)
    n = 8192
    s = poly.boundary(_unit(n, 2, seed=5))
    np.testing.assert_allclose(poly.distance(s.points), 0.0, atol=1e-14)
    assert poly.contains(s.points).all()
    normals = {0: [0, -1], 1: [1, 0], 2: [0, 1], 3: [1, 0], 4: [0, 1], 5: [-1, 0]}
    lengths = np.array([2, 1, 1, 1, 1, 2]) / 8
    np.testing.assert_allclose(np.bincount(s.tags, minlength=6) / n, lengths, atol=0.01)
    for k, nk in normals.items():
        np.testing.assert_allclose(
            s.normals[s.tags == k], np.broadcast_to(nk, (np.sum(s.tags == k), 2)), atol=1e-15
        )


def test_polygon_distance_closed_form():
    poly = Polygon(L_SHAPE)
    pts = np.array([[0.5, 0.5], [1.5, 0.5], [1.5, 1.5], [0.9, 0.9], [3.0, 0.0], [0.0, 1.0]])
    expected = [0.5, 0.5, -0.5, math.sqrt(0.02), -1.0, 0.0]
    np.testing.assert_allclose(poly.distance(pts), expected, atol=1e-15)
    np.testing.assert_array_equal(poly.contains(pts), [True, True, False, True, False, True])


def test_clockwise_polygon_keeps_given_edge_names():
    cw = Polygon(L_SHAPE[::-1])  # (0,2), (1,2), (1,1), (2,1), (2,0), (0,0)
    assert cw.measure == pytest.approx(3.0)
    s = cw.boundary(_unit(4096, 2, seed=6))
    # given edge 0 joins (0,2)-(1,2): outward normal +y; edge 5 joins (0,0)-(0,2): -x
    np.testing.assert_allclose(s.points[s.tags == 0, 1], 2.0)
    np.testing.assert_allclose(
        s.normals[s.tags == 0], np.broadcast_to([0, 1], (np.sum(s.tags == 0), 2))
    )
    np.testing.assert_allclose(s.points[s.tags == 5, 0], 0.0)
    np.testing.assert_allclose(
        s.normals[s.tags == 5], np.broadcast_to([-1, 0], (np.sum(s.tags == 5), 2))
    )
    assert cw.describe()["vertices"] == [list(map(float, v)) for v in L_SHAPE[::-1]]


def test_triangle_and_closed_ring():
    tri = Polygon([[0, 0], [1, 0], [0, 1], [0, 0]])  # closing vertex repeated
    assert len(tri.boundary_parts) == 3
    assert tri.measure == pytest.approx(0.5)
    p = tri.interior(_unit(4096, 2, seed=7))
    assert tri.contains(p).all()
    assert abs(np.mean(p[:, 0] + p[:, 1] < math.sqrt(0.5)) - 0.5) < 0.02  # equal-area halves


def test_star_polygon_triangulation_is_uniform():
    k = np.arange(40)
    r = np.where(k % 2 == 0, 1.0, 0.4)
    star = Polygon(np.column_stack([r * np.cos(np.pi * k / 20), r * np.sin(np.pi * k / 20)]))
    p = star.interior(_unit(16384, 2, seed=17))
    assert star.contains(p).all()
    # the disk of radius 0.3 lies inside the star: its share of points is its share of area
    share = np.mean(np.linalg.norm(p, axis=1) < 0.3)
    assert share == pytest.approx(math.pi * 0.09 / star.measure, abs=0.01)


def test_collinear_vertices_are_allowed():
    square = Polygon([[0, 0], [0.5, 0], [1, 0], [1, 1], [0, 1]])
    assert square.measure == pytest.approx(1.0) and len(square.boundary_parts) == 5
    p = square.interior(_unit(4096, 2, seed=18))
    assert square.contains(p).all() and abs(np.mean(p[:, 0] < 0.5) - 0.5) < 0.02


# -- CSG ------------------------------------------------------------------------------------------


def test_plate_with_holes_parts_and_measures():
    plate = _plate()
    assert plate.child_names == ("outer", "hole0", "hole1", "hole2", "hole3")
    assert plate.boundary_parts == (
        "outer.x_min",
        "outer.x_max",
        "outer.y_min",
        "outer.y_max",
        "hole0.boundary",
        "hole1.boundary",
        "hole2.boundary",
        "hole3.boundary",
    )
    assert plate.parts_of("hole0", "hole1") == ("hole0.boundary", "hole1.boundary")
    assert plate.measure == pytest.approx(16 - math.pi, rel=1e-3)
    assert plate.boundary_measure == pytest.approx(16 + 4 * math.pi, rel=1e-3)


def test_plate_interior_avoids_holes():
    plate = _plate()
    centres = np.array([[1, 1], [3, 1], [1, 3], [3, 3]])
    for p in (plate.interior(_unit(4096, 2, seed=8)), plate.sample_interior(4096, _source(1))):
        assert p.shape == (4096, 2) and plate.contains(p).all()
        gaps = np.linalg.norm(p[:, None, :] - centres[None], axis=2)
        assert gaps.min() >= 0.5
        # uniform: the four quadrants, each holding one hole, a quarter each
        q = (p[:, 0] > 2) * 2 + (p[:, 1] > 2)
        np.testing.assert_allclose(np.bincount(q, minlength=4) / 4096, 0.25, atol=0.02)


def test_plate_boundary_on_boundary_hole_normals_point_into_holes():
    plate = _plate()
    n = 8192
    s = plate.sample_boundary(n, _source(2))
    assert s.points.shape == (n, 2)
    np.testing.assert_allclose(plate.distance(s.points), 0.0, atol=1e-14)
    centres = np.array([[1, 1], [3, 1], [1, 3], [3, 3]])
    for h, c in enumerate(centres):
        on = s.tags == 4 + h
        inward = -(s.points[on] - c) / 0.5  # outward from the plate: into the hole
        np.testing.assert_allclose(s.normals[on], inward, atol=1e-12)
    shares = np.bincount(s.tags, minlength=8) / n
    expected = np.array([4, 4, 4, 4] + [math.pi] * 4) / (16 + 4 * math.pi)
    np.testing.assert_allclose(shares, expected, atol=0.015)
    # the outer faces keep their outward normals
    np.testing.assert_array_equal(
        s.normals[s.tags == 1], np.broadcast_to([1, 0], (np.sum(s.tags == 1), 2))
    )


def test_hole_conditions_target_hole_parts():
    plate = _plate()
    problem = npde.Problem(
        plate,
        npde.Poisson(1.0),
        [
            npde.Dirichlet(0.0, on=plate.parts_of("outer")),
            npde.Neumann(0.0, on=plate.parts_of("hole0", "hole1", "hole2", "hole3")),
        ],
    )
    pts = npde.SobolSampler(256, 256).draw(problem, seed=0)
    assert pts.interior.shape == (256, 2)
    outer, holes = pts.condition_points
    assert outer.shape[0] + holes.shape[0] == 256
    assert np.all(np.min(np.abs(outer - [[2, 2]]), axis=1) >= 0) and np.all(
        (np.isclose(outer, 0) | np.isclose(outer, 4)).any(axis=1)
    )
    r = np.min(
        np.linalg.norm(holes[:, None] - np.array([[1, 1], [3, 1], [1, 3], [3, 3]])[None], axis=2),
        axis=1,
    )
    np.testing.assert_allclose(r, 0.5, atol=1e-12)


def test_named_difference_and_operators():
    rect, disk = Rectangle([0, 0], [2, 1]), Disk([1.0, 0.5], 0.25)
    named = Difference(rect, disk, names=("plate", "hole"))
    assert named.boundary_parts[-1] == "hole.boundary" and named.boundary_parts[0] == "plate.x_min"
    assert (named - Disk([0.3, 0.5], 0.1)).child_names == ("plate", "hole", "hole1")
    u = disk | Disk([1.5, 0.5], 0.25) | Disk([0.5, 0.5], 0.25)
    assert isinstance(u, Union) and u.child_names == ("part0", "part1", "part2")
    i = rect & disk
    assert isinstance(i, Intersection) and i.measure == pytest.approx(math.pi / 16, rel=1e-3)


def test_union_and_intersection_of_disks_closed_form():
    a, b = Disk([0.0, 0.0], 1.0), Disk([1.0, 0.0], 1.0)
    lens = 2 * (math.acos(0.5) - 0.5 * math.sqrt(0.75))  # area of the overlap
    u, i = a | b, a & b
    assert u.measure == pytest.approx(2 * math.pi - lens, rel=2e-3)
    assert i.measure == pytest.approx(lens, rel=2e-3)
    assert u.boundary_measure == pytest.approx(2 * 2 * math.pi * 2 / 3, rel=2e-3)
    assert i.boundary_measure == pytest.approx(2 * 2 * math.pi / 3, rel=2e-3)
    for dom in (u, i):
        s = dom.boundary(_unit(2048, 2, seed=9))
        np.testing.assert_allclose(dom.distance(s.points), 0.0, atol=1e-14)
        # outward: a small step along the normal leaves the domain, a step back stays in
        assert not dom.contains(s.points + 1e-6 * s.normals).any()
        assert dom.contains(s.points - 1e-6 * s.normals).all()


def test_union_drops_shared_edges():
    u = Rectangle([0, 0], [1, 1]) | Rectangle([1, 0], [2, 1])
    s = u.boundary(_unit(4096, 2, seed=10))
    inner = np.isclose(s.points[:, 0], 1.0) & (s.points[:, 1] > 1e-9) & (s.points[:, 1] < 1 - 1e-9)
    assert not inner.any()
    assert u.boundary_measure == pytest.approx(6.0, rel=1e-3)
    np.testing.assert_allclose(distance_to_boundary(u, s.points), 0.0, atol=1e-14)


def test_box_minus_ball_in_3d():
    dom = npde.Box([0, 0, 0], [2, 2, 2]) - Ball([1.0, 1.0, 1.0], 0.5)
    assert dom.measure == pytest.approx(8 - math.pi / 6, rel=2e-3)
    assert dom.boundary_measure == pytest.approx(24 + math.pi, rel=2e-3)
    s = dom.sample_boundary(2048, _source(6))
    on = s.tags == dom.boundary_parts.index("hole0.boundary")
    assert 0.08 < on.mean() < 0.14  # pi / (24 + pi) = 0.116
    np.testing.assert_allclose(s.normals[on], -(s.points[on] - 1.0) / 0.5, atol=1e-12)
    np.testing.assert_allclose(dom.distance(s.points), 0.0, atol=1e-14)


def test_box_distance_helper():
    box = Rectangle([0, 0], [2, 1])
    pts = np.array([[1.0, 0.5], [0.2, 0.5], [3.0, 0.5], [3.0, 2.0]])
    np.testing.assert_allclose(distance_to_boundary(box, pts), [0.5, 0.2, -1.0, -math.sqrt(2)])


def test_csg_draws_are_deterministic():
    plate = _plate()
    unit = _unit(512, 2, seed=11)
    np.testing.assert_array_equal(plate.interior(unit), plate.interior(unit))
    np.testing.assert_array_equal(plate.boundary(unit).points, plate.boundary(unit).points)
    a = plate.sample_interior(300, _source(3))
    np.testing.assert_array_equal(a, plate.sample_interior(300, _source(3)))


def test_spacetime_over_csg():
    st = SpaceTime(_plate(), t_span=(0.0, 1.0))
    p = st.sample_interior(256, _source(4))
    assert p.shape == (256, 3) and st.contains(p).all()
    b = st.sample_boundary(256, _source(5))
    assert b.points.shape == (256, 3) and np.all(b.normals[:, 2] == 0)


# -- meshes ---------------------------------------------------------------------------------------

SIDES = ("bottom", "right", "top", "left")


def _square_mesh(n: int = 4, tagged: bool = True) -> meshio.Mesh:
    """The unit square in 2 n^2 triangles, its sides tagged 1..4 (gmsh physical groups)."""
    xs = np.linspace(0.0, 1.0, n + 1)
    X, Y = np.meshgrid(xs, xs, indexing="ij")
    pts = np.column_stack([X.ravel(), Y.ravel(), np.zeros(X.size)])

    def idx(i, j):
        return i * (n + 1) + j

    tris = []
    for i, j in itertools.product(range(n), repeat=2):
        tris += [[idx(i, j), idx(i + 1, j), idx(i + 1, j + 1)]]
        tris += [[idx(i, j), idx(i + 1, j + 1), idx(i, j + 1)]]
    if not tagged:
        return meshio.Mesh(pts, [("triangle", np.array(tris))])
    r = range(n)
    lines = [
        [[idx(i, 0), idx(i + 1, 0)] for i in r],
        [[idx(n, j), idx(n, j + 1)] for j in r],
        [[idx(i + 1, n), idx(i, n)] for i in r],
        [[idx(0, j + 1), idx(0, j)] for j in r],
    ]
    cells = [("triangle", np.array(tris))] + [("line", np.array(v)) for v in lines]
    phys = [np.full(len(tris), 5)] + [np.full(n, k + 1) for k in range(4)]
    field = {name: np.array([k + 1, 1]) for k, name in enumerate(SIDES)}
    field["plate"] = np.array([5, 2])
    return meshio.Mesh(
        pts,
        cells,
        cell_data={"gmsh:physical": phys, "gmsh:geometrical": phys},
        field_data=field,
    )


def _cube_mesh(n: int = 2) -> meshio.Mesh:
    """The unit cube in 6 n^3 tetrahedra (Kuhn triangulation of n^3 sub-cubes)."""
    g = np.linspace(0.0, 1.0, n + 1)
    pts = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)

    def idx(c):
        return (c[0] * (n + 1) + c[1]) * (n + 1) + c[2]

    tets = []
    for corner in itertools.product(range(n), repeat=3):
        for perm in itertools.permutations(range(3)):
            c = list(corner)
            path = [idx(c)]
            for axis in perm:
                c[axis] += 1
                path.append(idx(c))
            tets.append(path)
    return meshio.Mesh(pts, [("tetra", np.array(tets))])


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


# -- descriptions, validation ---------------------------------------------------------------------

ALL = {
    "disk": lambda: Disk([0.0, 0.0], 1.0),
    "ball": lambda: Ball([0.0, 0.0, 0.0], 1.0),
    "polygon": lambda: Polygon(L_SHAPE),
    "difference": _plate,
    "union": lambda: Disk([0.0, 0.0], 1.0) | Polygon(L_SHAPE),
    "intersection": lambda: Disk([0.0, 0.0], 1.0) & Rectangle([0, 0], [2, 2]),
    "mesh2": lambda: MeshDomain(_square_mesh()),
    "mesh3": lambda: MeshDomain(_cube_mesh()),
}


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_describe_is_json_and_sampler_draws(make):
    dom = make()
    desc = json.loads(json.dumps(dom.describe()))
    assert desc["type"] == type(dom).__name__ and desc["names"] == list(dom.names)
    problem = npde.Problem(dom, npde.Poisson(1.0), [npde.Dirichlet(0.0)])
    pts = npde.SobolSampler(128, 64).draw(problem, seed=0)
    assert pts.interior.shape == (128, dom.dim) and dom.contains(pts.interior).all()
    (b,) = pts.condition_points
    assert b.shape == (64, dom.dim)
    np.testing.assert_allclose(dom.distance(b), 0.0, atol=1e-12)


INVALID = [
    ("radius 0", lambda: Disk([0, 0], 0.0), r"radius"),
    ("radius nan", lambda: Ball([0, 0], np.nan), r"radius"),
    ("radius text", lambda: Ball([0, 0], "1"), r"radius"),
    ("center nan", lambda: Ball([0, np.nan], 1.0), r"center"),
    ("disk 3-D", lambda: Disk([0, 0, 0], 1.0), r"center"),
    ("ball names", lambda: Ball([0, 0], 1.0, names=["x"]), r"names"),
    ("two vertices", lambda: Polygon([[0, 0], [1, 0]]), r"vertices.*at least 3"),
    ("vertex nan", lambda: Polygon([[0, 0], [1, np.nan], [0, 1]]), r"vertices must be finite"),
    ("vertex shape", lambda: Polygon([0, 1, 2]), r"vertices"),
    ("bow tie", lambda: Polygon([[0, 0], [1, 1], [1, 0], [0, 1]]), r"edge0 and edge2 intersect"),
    ("fold back", lambda: Polygon([[0, 0], [2, 0], [1, 0], [1, 1]]), r"edge\d and edge\d"),
    ("repeated", lambda: Polygon([[0, 0], [1, 0], [1, 0], [0, 1]]), r"edge1 has zero length"),
    ("flat", lambda: Polygon([[0, 0], [1, 0], [2, 0]]), r"vertices"),
    ("one child", lambda: Union(Disk([0, 0], 1.0)), r"at least two domains"),
    ("dims", lambda: Union(Disk([0, 0], 1.0), Ball([0, 0, 0], 1.0)), r"coordinate names"),
    (
        "spacetime",
        lambda: Union(Disk([0, 0], 1), SpaceTime(Disk([0, 0], 1), (0, 1))),
        r"domains\[1\]",
    ),
    ("names", lambda: Difference(Disk([0, 0], 1), Disk([0, 0], 0.5), names=("a", "a")), r"names"),
    ("empty", lambda: Disk([0, 0], 1.0) & Disk([5, 0], 1.0), r"empty"),
    ("mesh path", lambda: MeshDomain("/nonexistent/mesh.msh"), r"path_or_mesh"),
    ("mesh type", lambda: MeshDomain(3), r"path_or_mesh"),
    (
        "mesh lines only",
        lambda: MeshDomain(meshio.Mesh(np.zeros((2, 2)), [("line", np.array([[0, 1]]))])),
        r"path_or_mesh has no triangle or tetra",
    ),
    (
        "mesh flat cell",
        lambda: MeshDomain(meshio.Mesh(np.eye(3)[:, :2], [("triangle", np.array([[0, 1, 1]]))])),
        r"path_or_mesh: cell 0",
    ),
    ("empty overlap", lambda: Disk([0, 0], 1.0) & Disk([1.9, 1.9], 1.0), r"empty"),
]


@pytest.mark.parametrize(("make", "match"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_construction_raises_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_wrong_shapes_raise_value_error():
    with pytest.raises(ValueError, match=r"unit points of shape \(N, 2\)"):
        Disk([0, 0], 1.0).interior(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"points of shape \(N, 2\)"):
        Polygon(L_SHAPE).distance(np.zeros(3))
    with pytest.raises(ValueError, match=r"Disk.contains expects points of shape \(N, 2\)"):
        Disk([0, 0], 1.0).contains(np.array([[0.5], [2.0]]))  # once [True, False]
    with pytest.raises(ValueError, match=r"Ball.contains expects points of shape \(N, 3\)"):
        Ball([0, 0, 0], 1.0).contains(np.zeros(3))
    with pytest.raises(ValueError, match="child_names"):
        _plate().parts_of("hole9")


# -- end to end -----------------------------------------------------------------------------------


def test_solve_poisson_on_the_unit_disk():
    problem = npde.Problem(
        Disk([0.0, 0.0], 1.0),
        npde.Poisson(1.0),
        [npde.Dirichlet(0.0)],
        exact=lambda x: (1 - x[:, 0] ** 2 - x[:, 1] ** 2) / 4,
    )
    sol = npde.solve(
        problem,
        npde.Siren(width=16, depth=2, w0=1.0),
        npde.SobolSampler(256, 128),
        npde.Trainer(adam_steps=50, lbfgs_steps=50, progress=False),
        seed=0,
    )
    pts = problem.domain.interior(_unit(2048, 2, seed=12))
    u, exact = sol(pts), problem.exact_values(pts)
    assert np.linalg.norm(u - exact) / np.linalg.norm(exact) < 5e-2


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: Rectangle([0, 0], [1, 1]) - Disk([5, 5], 0.1),
            r"Difference of \('outer', 'hole0'\): no point of the boundary of domains\[1\] "
            r"\('hole0'\) lies on the boundary of the result.*a hole outside domains\[0\]",
        ),
        (
            lambda: Rectangle([0, 0], [1, 1]) - Disk([0.5, 0.5], 0.3) - Disk([0.5, 0.5], 0.1),
            r"domains\[2\] \('hole1'\).*inside another hole",
        ),
        (
            lambda: Rectangle([0, 0], [1, 1]) | Disk([0.5, 0.5], 0.1),
            r"Union of \('part0', 'part1'\).*domains\[1\] \('part1'\).*inside the other domains",
        ),
        (
            lambda: Disk([0.5, 0.5], 0.1) | Rectangle([0, 0], [1, 1]),
            r"domains\[0\] \('part0'\).*inside the other domains",
        ),
    ],
    ids=["hole outside", "hole in hole", "union member inside", "first inside"],
)
def test_csg_child_that_changes_nothing_is_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_csg_child_that_changes_a_sliver_is_kept():
    """A disk that bites 1e-6 deep into a side (an arc of 6e-4 of its circumference, about
    0.6 of the first probe points) is found on a closer look: kept, its part not empty."""
    bitten = Rectangle([0, 0], [1, 1]) - Disk([1.5, 0.5], 0.5 + 1e-6)
    assert bitten.empty_parts == ()
    assert "hole0.boundary" in bitten.boundary_parts


def test_csg_parts_with_no_boundary_points_are_named_as_such():
    """An L of two rectangles: the second's bottom side lies along the first's, so it is empty;
    a condition there is refused with that reason, and leaving it bare is not warned about."""
    ell = Rectangle([0, 0], [2, 1]) | Rectangle([0, 0], [1, 2])
    assert ell.empty_parts == ("part1.y_min",)
    assert Rectangle([0, 0], [1, 1]).empty_parts == ()
    # an intersection with a disk that holds the square is the square; the circle is empty
    square = Rectangle([0, 0], [1, 1]) & Disk([0.5, 0.5], 5.0)
    assert square.empty_parts == ("part1.boundary",)
    assert square.measure == pytest.approx(1.0, rel=1e-3)
    assert npde.SpaceTime(ell, (0, 1)).empty_parts == ("part1.y_min",)
    rest = [p for p in ell.boundary_parts if p != "part1.y_min"]
    on_empty = npde.Problem(
        ell, npde.Poisson(1.0), [npde.Dirichlet(0.0, on=rest), npde.Neumann(0.0, on="part1.y_min")]
    )
    with pytest.raises(ValueError, match=r"\['part1.y_min'\] hold no point of the domain's bound"):
        npde.SobolSampler(64, 256).draw(on_empty, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_problem(npde.Problem(ell, npde.Poisson(1.0), [npde.Dirichlet(0.0, on=rest)]))
    # a part that is not empty but got no points still asks for more points
    tiny = npde.Problem(
        Rectangle([0, 0], [1, 1]) - Disk([0.5, 0.5], 1e-4),
        npde.Poisson(1.0),
        [npde.Dirichlet(0.0, on="hole0.boundary")],
    )
    with pytest.raises(ValueError, match=r"no boundary points fell on \('hole0.boundary',\); rai"):
        npde.SobolSampler(64, 16).draw(tiny, seed=0)


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


_QUERY_DOMAINS = [
    ("rectangle", lambda: Rectangle((0, 0), (1, 1))),
    ("space-time", lambda: SpaceTime(npde.Interval(0, 1), (0, 1))),
    ("disk", lambda: Disk((0.5, 0.5), 0.5)),
    ("polygon", lambda: Polygon([[0, 0], [1, 0], [1, 1], [0, 1]])),
    ("union", lambda: Disk((0.25, 0.5), 0.3) | Disk((0.75, 0.5), 0.3)),
    ("intersection", lambda: Disk((0.4, 0.5), 0.5) & Disk((0.6, 0.5), 0.5)),
    ("difference", lambda: Rectangle((0, 0), (1, 1)) - Disk((0.8, 0.8), 0.1)),
    ("mesh", lambda: MeshDomain(_square_mesh())),
]
_NOT_POINTS = [
    ("strings", [["0.5", "0.5"]], ValueError, r"points must be an \(N, 2\) array of numbers"),
    ("bools", [[True, False]], ValueError, r"points must be .*True is a bool"),
    ("None", [[None, 0.5]], ValueError, r"points must be .*None is a NoneType"),
    (
        "masked",
        np.ma.masked_array([[0.5, 0.5], [9.0, 9.0]], mask=[[0, 0], [1, 1]]),
        TypeError,
        "points must not be a masked array",
    ),
]


@pytest.mark.parametrize("make", [d[1] for d in _QUERY_DOMAINS], ids=[d[0] for d in _QUERY_DOMAINS])
@pytest.mark.parametrize(
    ("points", "exc", "match"), [c[1:] for c in _NOT_POINTS], ids=[c[0] for c in _NOT_POINTS]
)
def test_contains_and_distance_refuse_what_is_not_points(make, points, exc, match):
    # np.asarray(..., dtype=float) once read "0.5" and True as numbers and dropped the mask
    dom = make()
    with pytest.raises(exc, match=match):
        dom.contains(points)
    if not isinstance(dom, SpaceTime):  # which has no distance
        with pytest.raises(exc, match=match):
            distance_to_boundary(dom, points)


@pytest.mark.parametrize("make", [d[1] for d in _QUERY_DOMAINS], ids=[d[0] for d in _QUERY_DOMAINS])
def test_contains_and_distance_take_lists_integers_tensors_and_nan(make):
    dom = make()
    p = np.array([[0.5, 0.45], [3.0, 0.5], [np.nan, 0.5]])
    inside = dom.contains(p)
    np.testing.assert_array_equal(inside, [True, False, False])
    for same in (p.tolist(), torch.as_tensor(p, dtype=torch.float32), p.astype(np.float32)):
        np.testing.assert_array_equal(dom.contains(same), inside)
    np.testing.assert_array_equal(dom.contains([[3, 0]]), [False])
    if isinstance(dom, SpaceTime):  # which has no distance
        return
    dist = distance_to_boundary(dom, p)
    assert dist[0] > 0 > dist[1] and np.isnan(dist[2])
    for same in (p.tolist(), torch.as_tensor(p, dtype=torch.float32), p.astype(np.float32)):
        np.testing.assert_allclose(distance_to_boundary(dom, same), dist, rtol=1e-6)
