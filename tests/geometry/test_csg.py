"""Constructive solid geometry (:mod:`neuralpde.geometry.csg`): differences, unions and
intersections, their parts, draws and measures, and children that change nothing."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import neuralpde as npde
from neuralpde.checks import check_problem
from neuralpde.domains import Rectangle, SpaceTime
from neuralpde.geometry import Ball, Difference, Disk, Intersection, Union, distance_to_boundary

from .shapes import _plate, _source, _unit

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
