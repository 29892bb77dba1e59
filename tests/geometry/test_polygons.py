"""Polygons (:mod:`neuralpde.geometry.polygons`): maps, normals, distances, measures, edge
names."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuralpde.geometry import Polygon

from ..lshape import L_SHAPE as CORNER_L
from .shapes import L_SHAPE, _unit

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


@pytest.mark.parametrize("order", [1, -1])
def test_reentrant_corner_of_an_l_shape_in_either_orientation(order):
    corners = Polygon(CORNER_L[::order]).reentrant_corners()
    assert len(corners) == 1
    c = corners[0]
    assert c["at"] == [0.0, 0.0]
    assert c["angle"] == pytest.approx(1.5 * math.pi)
    assert c["start"] == pytest.approx(0.5 * math.pi)  # along the edge to (0, 1)
    assert c["radius"] == pytest.approx(1.0)  # to the edges x = -1 and y = -1
    given = {"edge5", "edge0"} if order == 1 else {"edge5", "edge4"}
    assert set(c["parts"]) == given


def test_convex_polygons_have_no_reentrant_corner():
    assert Polygon([(0, 0), (2, 0), (2, 1), (0, 1)]).reentrant_corners() == []
    assert Polygon([(0, 0), (1, 0), (0.5, 0.8)]).reentrant_corners() == []


def test_radius_is_the_distance_to_the_nearest_other_edge():
    # a notch whose far wall is 0.25 away from the reentrant vertex (0.5, 0.5)
    poly = Polygon([(0, 0), (1, 0), (1, 0.5), (0.5, 0.5), (0.5, 0.75), (0, 0.75)])
    (c,) = poly.reentrant_corners()
    assert c["at"] == [0.5, 0.5]
    assert c["radius"] == pytest.approx(0.25)


def test_clear_corner_and_a_corner_whose_bisector_ray_meets_the_polygon_again():
    (c,) = Polygon(CORNER_L).reentrant_corners()
    assert c["clear"] is True
    # a U whose notch's bottom corners look at the opposite arm along their bisectors
    u = Polygon([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)])
    corners = u.reentrant_corners()
    assert sorted(tuple(c["at"]) for c in corners) == [(1.0, 1.0), (2.0, 1.0)]
    assert all(c["clear"] is False for c in corners)
