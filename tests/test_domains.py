"""Domains: interior and boundary maps, normals and tags, area weighting, grids, validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.domains import BoundarySample, Box, Interval, Rectangle, SpaceTime


def _unit(n: int, d: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, d))


_SQ_ST = Rectangle([0.0, 0.0], [1.0, 1.0])

BOXES = {
    "interval": lambda: Interval(-2.0, 3.0),
    "rectangle": lambda: Rectangle([0.0, -1.0], [2.0, 0.5]),
    "box3": lambda: Box([-1.0, 0.0, 2.0], [1.0, 3.0, 2.5]),
    "box4": lambda: Box([0.0, 0.0, 0.0, 0.0], [1.0, 2.0, 1.5, 0.5]),
}


# -- construction ---------------------------------------------------------------------------------


def test_default_names_and_parts():
    assert Interval(0, 1).names == ("x",)
    assert Rectangle([0, 0], [1, 1]).names == ("x", "y")
    assert Box([0, 0, 0], [1, 1, 1]).names == ("x", "y", "z")
    assert Box([0] * 4, [1] * 4).names == ("x1", "x2", "x3", "x4")
    assert Rectangle([0, 0], [1, 1]).boundary_parts == ("x_min", "x_max", "y_min", "y_max")
    assert Interval(0, 1, name="r").boundary_parts == ("r_min", "r_max")
    st = SpaceTime(Rectangle([0, 0], [1, 1]), t_span=(0.5, 2.0), time_name="tau")
    assert st.names == ("x", "y", "tau")
    assert st.dim == 3
    # Only the lateral boundary is a boundary part; the initial slice is separate.
    assert st.boundary_parts == ("x_min", "x_max", "y_min", "y_max")


def test_bounds_are_copies():
    box = Box([0.0, 1.0], [2.0, 3.0])
    lo, hi = box.bounds
    np.testing.assert_array_equal(lo, [0.0, 1.0])
    np.testing.assert_array_equal(hi, [2.0, 3.0])
    lo[0] = 100.0
    np.testing.assert_array_equal(box.bounds[0], [0.0, 1.0])


def test_spacetime_bounds_append_time():
    st = SpaceTime(Interval(-1.0, 1.0), t_span=(0.25, 4.0))
    lo, hi = st.bounds
    np.testing.assert_array_equal(lo, [-1.0, 0.25])
    np.testing.assert_array_equal(hi, [1.0, 4.0])


# -- contains / interior -----------------------------------------------------------------------


@pytest.mark.parametrize("make", BOXES.values(), ids=BOXES.keys())
def test_interior_points_inside_and_affine(make):
    box = make()
    lo, hi = box.bounds
    unit = _unit(2000, box.dim, seed=1)
    pts = box.interior(unit)
    assert pts.shape == (2000, box.dim)
    assert box.contains(pts).all()
    np.testing.assert_allclose(pts, lo + unit * (hi - lo), rtol=0, atol=1e-15)
    # The points spread over the whole box, not a corner of it.
    span = pts.max(axis=0) - pts.min(axis=0)
    assert np.all(span > 0.95 * (hi - lo))


def test_contains_rejects_outside_points():
    box = Rectangle([0.0, -1.0], [2.0, 0.5])
    pts = np.array(
        [
            [1.0, 0.0],  # inside
            [0.0, -1.0],  # corner (closed domain)
            [2.0, 0.5],  # opposite corner
            [-1e-9, 0.0],  # just left
            [2.0 + 1e-9, 0.0],  # just right
            [1.0, -1.0 - 1e-9],  # just below
            [1.0, 0.5 + 1e-9],  # just above
        ]
    )
    np.testing.assert_array_equal(box.contains(pts), [True, True, True, False, False, False, False])


def test_spacetime_contains_checks_time():
    st = SpaceTime(Interval(0.0, 1.0), t_span=(1.0, 2.0))
    pts = np.array([[0.5, 1.5], [0.5, 1.0], [0.5, 2.0], [0.5, 0.999], [0.5, 2.001], [1.1, 1.5]])
    np.testing.assert_array_equal(st.contains(pts), [True, True, True, False, False, False])


@pytest.mark.parametrize(
    ("domain", "points", "match"),
    [
        (
            Rectangle([0, 0], [1, 1]),
            [[0.5], [2.0]],
            r"Rectangle.contains .* \(N, 2\), got \(2, 1\)",
        ),
        (Rectangle([0, 0], [1, 1]), [0.5, 0.5], r"Rectangle.contains .* \(N, 2\), got \(2,\)"),
        (Interval(0, 1), [0.5, 2.0], r"Interval.contains .* \(N, 1\), got \(2,\)"),
        (SpaceTime(_SQ_ST, (0, 1)), [[0.5, 0.5]], r"SpaceTime.contains .* \(N, 3\), got \(1, 2\)"),
    ],
)
def test_contains_refuses_points_of_the_wrong_shape(domain, points, match):
    # a column too few used to broadcast against the corners: [[0.5], [2.0]] in the unit
    # square gave [True, False], and a space point in a space-time box gave [True]
    with pytest.raises(ValueError, match=match):
        domain.contains(np.array(points))


# -- boundary -------------------------------------------------------------------------------------


def _check_on_faces(box, sample):
    """Every point lies on the face its tag names, with that face's outward unit normal."""
    lo, hi = box.bounds
    pts, normals, tags = sample.points, sample.normals, sample.tags
    n, d = pts.shape
    assert normals.shape == (n, d)
    assert tags.shape == (n,)
    assert np.issubdtype(tags.dtype, np.integer)
    assert tags.min() >= 0 and tags.max() < len(box.boundary_parts)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, rtol=0, atol=1e-15)
    assert box.contains(pts).all()
    for k, part in enumerate(box.boundary_parts):
        on = tags == k
        assert on.any(), f"no points on face {part}"
        name, side = part.rsplit("_", 1)
        axis = box.names.index(name)
        expected_normal = np.zeros(d)
        expected_normal[axis] = -1.0 if side == "min" else 1.0
        np.testing.assert_array_equal(normals[on], np.broadcast_to(expected_normal, (on.sum(), d)))
        face_value = lo[axis] if side == "min" else hi[axis]
        np.testing.assert_array_equal(pts[on, axis], face_value)
        # The other coordinates stay strictly inside their range (no collapse onto an edge).
        rest = [j for j in range(d) if j != axis]
        if rest:
            assert np.all(pts[np.ix_(on, rest)] >= lo[rest])
            assert np.all(pts[np.ix_(on, rest)] <= hi[rest])


@pytest.mark.parametrize("make", BOXES.values(), ids=BOXES.keys())
def test_boundary_points_on_faces_with_normals_and_tags(make):
    box = make()
    sample = box.boundary(_unit(4000, box.dim, seed=2))
    assert sample.points.shape == (4000, box.dim)
    _check_on_faces(box, sample)


def test_boundary_positions_spread_over_face():
    # On the y faces of a 4x1 rectangle, x should be uniform on [0, 4].
    rect = Rectangle([0.0, 0.0], [4.0, 1.0])
    s = rect.boundary(_unit(20000, 2, seed=3))
    on_y = np.isin(s.tags, [2, 3])
    x = s.points[on_y, 0]
    assert abs(x.mean() - 2.0) < 0.05
    assert abs(x.std() - 4.0 / np.sqrt(12.0)) < 0.05
    # On the x faces, y should be uniform on [0, 1].
    y = s.points[~on_y, 1]
    assert abs(y.mean() - 0.5) < 0.02


def test_boundary_face_choice_is_area_weighted_rectangle():
    rect = Rectangle([0.0, 0.0], [4.0, 1.0])
    n = 40000
    tags = rect.boundary(_unit(n, 2, seed=4)).tags
    counts = np.bincount(tags, minlength=4)
    # Faces x_min/x_max have length 1, y_min/y_max length 4: shares 1/10, 1/10, 4/10, 4/10.
    np.testing.assert_allclose(counts / n, [0.1, 0.1, 0.4, 0.4], rtol=0.08)
    long_faces = counts[2] + counts[3]
    short_faces = counts[0] + counts[1]
    assert 3.6 < long_faces / short_faces < 4.4


def test_boundary_face_choice_is_area_weighted_box3():
    box = Box([0.0, 0.0, 0.0], [1.0, 2.0, 3.0])
    n = 60000
    tags = box.boundary(_unit(n, 3, seed=5)).tags
    # Face areas: x faces 2*3=6, y faces 1*3=3, z faces 1*2=2; total 2*(6+3+2)=22.
    expected = np.array([6, 6, 3, 3, 2, 2]) / 22.0
    np.testing.assert_allclose(np.bincount(tags, minlength=6) / n, expected, rtol=0.08)


def test_interval_boundary_is_two_end_points():
    iv = Interval(-2.0, 3.0)
    s = iv.boundary(_unit(500, 1, seed=6))
    assert set(np.unique(s.points[:, 0])) == {-2.0, 3.0}
    np.testing.assert_array_equal(s.normals[:, 0], np.where(s.points[:, 0] == 3.0, 1.0, -1.0))
    np.testing.assert_array_equal(s.tags, np.where(s.points[:, 0] == 3.0, 1, 0))
    # Equal "areas": each end gets about half.
    assert 200 < (s.tags == 0).sum() < 300


def test_boundary_unit_edge_values():
    # The first unit coordinate picks the face: 0 -> first face, just below 1 -> last face.
    rect = Rectangle([0.0, 0.0], [4.0, 1.0])
    s = rect.boundary(np.array([[0.0, 0.5], [np.nextafter(1.0, 0.0), 0.25]]))
    np.testing.assert_array_equal(s.tags, [0, 3])
    np.testing.assert_array_equal(s.points, [[0.0, 0.5], [1.0, 1.0]])
    np.testing.assert_array_equal(s.normals, [[-1.0, 0.0], [0.0, 1.0]])


# -- space-time -----------------------------------------------------------------------------------


def test_spacetime_lateral_boundary():
    space = Rectangle([0.0, -1.0], [2.0, 1.0])
    st = SpaceTime(space, t_span=(0.5, 3.0))
    s = st.boundary(_unit(4000, 3, seed=7))
    assert s.points.shape == (4000, 3)
    assert st.contains(s.points).all()
    t = s.points[:, -1]
    assert t.min() >= 0.5 and t.max() <= 3.0
    assert t.min() < 0.6 and t.max() > 2.9  # time spread over the whole span
    np.testing.assert_array_equal(s.normals[:, -1], 0.0)
    # The spatial part is a valid boundary sample of the space.
    _check_on_faces(space, BoundarySample(s.points[:, :2], s.normals[:, :2], s.tags))


def test_spacetime_initial_slice():
    space = Rectangle([0.0, -1.0], [2.0, 1.0])
    st = SpaceTime(space, t_span=(0.5, 3.0))
    unit = _unit(1000, 2, seed=8)
    pts = st.initial(unit)
    assert pts.shape == (1000, 3)
    np.testing.assert_array_equal(pts[:, -1], 0.5)
    np.testing.assert_allclose(pts[:, :2], space.interior(unit), rtol=0, atol=0)
    assert st.contains(pts).all()


def test_spacetime_interior():
    st = SpaceTime(Interval(-1.0, 1.0), t_span=(2.0, 5.0))
    unit = _unit(1000, 2, seed=9)
    pts = st.interior(unit)
    assert st.contains(pts).all()
    np.testing.assert_allclose(pts[:, 0], -1.0 + 2.0 * unit[:, 0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(pts[:, 1], 2.0 + 3.0 * unit[:, 1], rtol=0, atol=1e-15)


# -- grids ----------------------------------------------------------------------------------------


def test_box_grid_end_points():
    box = Box([-1.0, 0.0, 2.0], [1.0, 3.0, 2.5])
    axes = box.grid(5)
    assert len(axes) == 3
    lo, hi = box.bounds
    for a, low, high in zip(axes, lo, hi, strict=True):
        assert a.shape == (5,)
        assert a[0] == low and a[-1] == high
        np.testing.assert_allclose(np.diff(a), (high - low) / 4, rtol=1e-12)
    axes = box.grid([2, 3, 7])
    assert [len(a) for a in axes] == [2, 3, 7]


def test_spacetime_grid():
    st = SpaceTime(Rectangle([0.0, 0.0], [1.0, 2.0]), t_span=(0.5, 1.5))
    x, y, t = st.grid([3, 4, 6])
    np.testing.assert_allclose(x, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(y, [0.0, 2 / 3, 4 / 3, 2.0])
    assert t[0] == 0.5 and t[-1] == 1.5 and len(t) == 6
    x, t = SpaceTime(Interval(0.0, 1.0), t_span=(0.0, 2.0)).grid(3)
    np.testing.assert_allclose(t, [0.0, 1.0, 2.0])


@pytest.mark.parametrize("n", [1, [5, 1], [5, 5, 5]])
def test_grid_rejects_bad_counts(n):
    with pytest.raises(ValueError, match=r"\bn\b"):
        Rectangle([0, 0], [1, 1]).grid(n)


def test_spacetime_grid_rejects_wrong_count_length():
    st = SpaceTime(Interval(0.0, 1.0), t_span=(0.0, 1.0))
    with pytest.raises(ValueError, match=r"\bn\b"):
        st.grid([3, 3, 3])


# -- validation -----------------------------------------------------------------------------------

_SQ = Rectangle([0.0, 0.0], [1.0, 1.0])

INVALID = [
    ("lower>upper", lambda: Box([0.0, 2.0], [1.0, 1.0]), r"upper must exceed lower.*coordinate 1"),
    ("lower==upper", lambda: Box([0.0, 1.0], [1.0, 1.0]), r"upper must exceed lower"),
    ("interval reversed", lambda: Interval(1.0, 0.0), r"upper must exceed lower"),
    ("lengths", lambda: Box([0.0, 0.0], [1.0, 1.0, 1.0]), r"lower and upper.*same length"),
    ("nan lower", lambda: Box([0.0, np.nan], [1.0, 1.0]), r"lower must be finite"),
    ("inf upper", lambda: Box([0.0, 0.0], [1.0, np.inf]), r"upper must be finite"),
    ("empty", lambda: Box([], []), r"lower"),
    ("nested", lambda: Box([[0.0, 0.0]], [[1.0, 1.0]]), r"lower"),
    ("names length", lambda: Box([0, 0], [1, 1], names=["x"]), r"names"),
    ("names repeated", lambda: Box([0, 0], [1, 1], names=["x", "x"]), r"names"),
    ("rectangle 3 corners", lambda: Rectangle([0, 0, 0], [1, 1, 1]), r"Rectangle.*lower"),
    ("interval sequence", lambda: Interval([0.0], [1.0]), r"Interval.*a="),
    ("t_span reversed", lambda: SpaceTime(_SQ, t_span=(1.0, 0.0)), r"t_span"),
    ("t_span equal", lambda: SpaceTime(_SQ, t_span=(1.0, 1.0)), r"t_span"),
    ("t_span inf", lambda: SpaceTime(_SQ, t_span=(0.0, np.inf)), r"t_span"),
    ("t_span nan", lambda: SpaceTime(_SQ, t_span=(np.nan, 1.0)), r"t_span"),
    ("t_span single", lambda: SpaceTime(_SQ, t_span=(1.0,)), r"t_span"),
    ("t_span triple", lambda: SpaceTime(_SQ, t_span=(0.0, 1.0, 2.0)), r"t_span"),
    ("t_span number", lambda: SpaceTime(_SQ, t_span=1.0), r"t_span"),
    ("t_span text", lambda: SpaceTime(_SQ, t_span=("a", "b")), r"t_span"),
    ("t_span numeric text", lambda: SpaceTime(_SQ, t_span=("0", "1")), r"pair of numbers"),
    ("t_span bools", lambda: SpaceTime(_SQ, t_span=(False, True)), r"pair of numbers"),
    ("interval text", lambda: Interval("0", "1"), r"Interval takes two numbers"),
    ("interval bools", lambda: Interval(False, True), r"Interval takes two numbers"),
    ("time_name clash", lambda: SpaceTime(_SQ, t_span=(0, 1), time_name="y"), r"time_name"),
    (
        "space is spacetime",
        lambda: SpaceTime(SpaceTime(_SQ, t_span=(0, 1)), t_span=(0, 1), time_name="s"),
        r"space",
    ),
    ("space not a domain", lambda: SpaceTime([0, 1], t_span=(0, 1)), r"space"),
]


@pytest.mark.parametrize(("make", "match"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_construction_raises_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Box(["0", 0], [1, 1]), r"lower must hold real numbers, got \['0', 0\]"),
        (lambda: Rectangle((0, 0), (True, 1)), r"upper must hold real numbers"),
        (lambda: Box([0, None], [1, 1]), r"lower must hold real numbers"),
        (lambda: npde.Disk(("0", 0), 1.0), r"center must hold real numbers"),
    ],
)
def test_coordinates_that_are_not_numbers_are_refused(make, match):
    """Strings and bools that NumPy would turn into numbers are refused, by name."""
    with pytest.raises(TypeError, match=match):
        make()
    # numbers of any kind are taken: NumPy scalars and arrays, tensors
    assert Box(np.array([0, 0]), [np.float32(1), torch.tensor(2.0)]).bounds[1].tolist() == [1, 2]
    assert SpaceTime(_SQ, (np.int64(0), torch.tensor(0.5))).t1 == 0.5


UNIT_SHAPES = [
    ("interior columns", lambda: _SQ.interior(np.zeros((4, 3)))),
    ("interior flat", lambda: _SQ.interior(np.zeros(4))),
    ("boundary columns", lambda: _SQ.boundary(np.zeros((4, 1)))),
    ("interval interior flat", lambda: Interval(0, 1).interior(np.zeros(4))),
    ("spacetime interior", lambda: SpaceTime(_SQ, (0, 1)).interior(np.zeros((4, 2)))),
    ("spacetime boundary", lambda: SpaceTime(_SQ, (0, 1)).boundary(np.zeros((4, 4)))),
    # The initial slice takes d - 1 = 2 unit columns, not d = 3.
    ("spacetime initial", lambda: SpaceTime(_SQ, (0, 1)).initial(np.zeros((4, 3)))),
]


@pytest.mark.parametrize("call", [c[1] for c in UNIT_SHAPES], ids=[c[0] for c in UNIT_SHAPES])
def test_wrong_unit_shape_raises_value_error(call):
    with pytest.raises(ValueError, match=r"unit points of shape \(N, \d\)"):
        call()


def test_describe():
    d = Rectangle([0.0, -1.0], [2.0, 1.0]).describe()
    assert d == {
        "type": "Rectangle",
        "names": ["x", "y"],
        "lower": [0.0, -1.0],
        "upper": [2.0, 1.0],
    }
    st = SpaceTime(Interval(0.0, 1.0), t_span=(0.0, 2.0)).describe()
    assert st["type"] == "SpaceTime"
    assert st["names"] == ["x", "t"]
    assert st["t_span"] == [0.0, 2.0]
    assert st["lower"] == [0.0, 0.0] and st["upper"] == [1.0, 2.0]
    assert st["space"]["type"] == "Interval"
