"""Points, shapes and meshes shared by the geometry tests."""

from __future__ import annotations

import itertools

import meshio
import numpy as np
from scipy.stats import qmc

from neuralpde.domains import Rectangle
from neuralpde.geometry import Difference, Disk


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
