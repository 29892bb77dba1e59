"""The geometry's domains together (:mod:`neuralpde.geometry`): descriptions, samples and
the validation of their arguments."""

from __future__ import annotations

import json

import meshio
import numpy as np
import pytest

import neuralpde as npde
from neuralpde.domains import Rectangle, SpaceTime
from neuralpde.geometry import Ball, Difference, Disk, MeshDomain, Polygon, Union

from .shapes import L_SHAPE, _cube_mesh, _plate, _square_mesh

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
