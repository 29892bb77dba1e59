"""What every geometry shares (:mod:`neuralpde.geometry.common`): the distance to the
boundary, and points checked the same way by every domain."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.domains import Rectangle, SpaceTime
from neuralpde.geometry import Disk, MeshDomain, Polygon, distance_to_boundary

from .shapes import _square_mesh


def test_box_distance_helper():
    box = Rectangle([0, 0], [2, 1])
    pts = np.array([[1.0, 0.5], [0.2, 0.5], [3.0, 0.5], [3.0, 2.0]])
    np.testing.assert_allclose(distance_to_boundary(box, pts), [0.5, 0.2, -1.0, -math.sqrt(2)])


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
