r"""The mesh side of the finite-element reference (:mod:`.fem`): a
:class:`~neuralpde.MeshDomain` as simplices, its boundary parts on a mesh and on its uniform
refinements, and the P2 solution at arbitrary points (cell location, barycentric coordinates).

NumPy and SciPy only: the scikit-fem meshes are read through their arrays (``p``, ``t``,
``facets``, ``boundary_facets()``), never built here.

The P2 (quadratic Lagrange) function of a simplex with barycentric coordinates
:math:`\lambda_0, \dots, \lambda_d` is

.. math:: u = \sum_i u_i\,\lambda_i(2\lambda_i - 1) + \sum_{i<j} 4\,u_{ij}\,\lambda_i\lambda_j,

:math:`u_i` its values at the vertices and :math:`u_{ij}` at the edge midpoints.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.spatial import cKDTree

__all__ = [
    "compact_mesh",
    "facet_parts",
    "refined_facet_parts",
    "edge_lengths",
    "CellLocator",
    "p2_values",
]

#: Barycentric slack that still counts a point as inside a cell (round-off on its facets).
INSIDE_TOL = 1e-9
#: Points located per block (bounds the candidates' arrays).
_BLOCK = 4096


def compact_mesh(domain: object) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(points (N, d), cells (E, d + 1), facets (F, d), parts (F,))`` of a
    :class:`~neuralpde.MeshDomain` with the points no cell uses dropped (a P2 space would give
    them a free, undetermined value) and the indices renumbered; ``facets`` are the boundary
    facets and ``parts`` their indices into ``domain.boundary_parts``."""
    cells = np.asarray(domain.cells, dtype=np.int64)
    used, inverse = np.unique(cells, return_inverse=True)
    renumber = np.full(len(domain.points), -1, dtype=np.int64)
    renumber[used] = np.arange(len(used))
    points = np.asarray(domain.points, dtype=np.float64)[used]
    facets = renumber[np.asarray(domain.boundary_facets, dtype=np.int64)]
    return points, inverse.reshape(cells.shape), facets, np.asarray(domain.facet_parts)


def _match_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each row of ``a`` (sorted integer rows) the index of the equal row of ``b``, -1 where
    none."""
    both = np.concatenate([a, b])
    _, inv = np.unique(both, axis=0, return_inverse=True)
    inv = inv.ravel()
    lookup = np.full(inv.max() + 1, -1, dtype=np.int64)
    lookup[inv[len(a) :]] = np.arange(len(b))
    return lookup[inv[: len(a)]]


def facet_parts(mesh: object, facets: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """The part of each boundary facet of the scikit-fem ``mesh`` (in the order of
    ``mesh.boundary_facets()``), from the domain's boundary ``facets`` (point indices, the
    mesh's numbering) and their ``parts``."""
    ours = np.sort(mesh.facets[:, mesh.boundary_facets()].T, axis=1)
    index = _match_rows(ours, np.sort(facets, axis=1))
    if np.any(index < 0):
        raise ValueError("the mesh's boundary facets are not the domain's (an inconsistent mesh)")
    return np.asarray(parts)[index]


def _facet_corners(mesh: object) -> np.ndarray:
    """The corners ``(F, d, d)`` of the boundary facets of ``mesh``."""
    return mesh.p.T[mesh.facets[:, mesh.boundary_facets()].T]


def _affine_distance(q: np.ndarray, corners: np.ndarray) -> np.ndarray:
    r"""How far each point ``q`` (P, d) lies from the facet ``corners`` (P, d, d): its distance
    from the facet's hyperplane plus how far outside the facet its projection lies
    (:math:`-\min_i \lambda_i` times the facet's size, where negative)."""
    v0 = corners[:, 0]
    e = corners[:, 1:] - v0[:, None]  # (P, d - 1, d)
    gram = np.einsum("pid,pjd->pij", e, e)
    mu = np.linalg.solve(gram, np.einsum("pid,pd->pi", e, q - v0)[..., None])[..., 0]
    lam = np.concatenate([1.0 - mu.sum(axis=1, keepdims=True), mu], axis=1)
    plane = np.linalg.norm(q - v0 - np.einsum("pi,pid->pd", mu, e), axis=1)
    size = np.sqrt(np.einsum("pid,pid->p", e, e))
    return plane + np.maximum(0.0, -lam.min(axis=1)) * size


def refined_facet_parts(coarse: object, coarse_parts: np.ndarray, fine: object) -> np.ndarray:
    """The part of each boundary facet of ``fine``, a uniform refinement of ``coarse`` whose
    boundary facets have ``coarse_parts``: each fine facet lies in one coarse facet (its
    centroid inside it), found among the coarse facets whose centroids lie within the largest
    coarse facet's radius of it."""
    parents = _facet_corners(coarse)
    centre = parents.mean(axis=1)
    radius = float(np.linalg.norm(parents - centre[:, None], axis=2).max())
    q = _facet_corners(fine).mean(axis=1)
    found = cKDTree(centre).query_ball_point(q, radius * (1 + 1e-9) + 1e-300)
    counts = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
    rows = np.repeat(np.arange(len(q)), counts)
    cand = np.fromiter(itertools.chain.from_iterable(found), dtype=np.int64, count=counts.sum())
    score = _affine_distance(q[rows], parents[cand])
    order = np.lexsort((score, rows))  # by child, best candidate first
    first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]]
    out = np.full(len(q), -1, dtype=np.int64)
    out[rows[first]] = np.asarray(coarse_parts)[cand[first]]
    if np.any(out < 0):
        raise ValueError("a refined boundary facet lies in no boundary facet of the mesh")
    return out


def edge_lengths(mesh: object) -> np.ndarray:
    """The lengths of the edges of the simplices of ``mesh``, each once per cell it bounds."""
    corners = mesh.p.T[mesh.t.T]  # (E, d + 1, d)
    pairs = itertools.combinations(range(corners.shape[1]), 2)
    return np.concatenate([np.linalg.norm(corners[:, i] - corners[:, j], axis=1) for i, j in pairs])


class CellLocator:
    """The cell of a simplex mesh (``points`` (N, d), ``cells`` (E, d + 1)) that holds each
    query point, with its barycentric coordinates there.

    Candidates are the cells of the nearest centroids (8, then 64); a point left unfound there
    is tried against every cell whose centroid lies within the largest cell radius of it (so a
    point inside the mesh is always found); a point in no cell (beyond a barycentric slack of
    :data:`INSIDE_TOL`) is outside.
    """

    def __init__(self, points: np.ndarray, cells: np.ndarray) -> None:
        corners = points[cells]  # (E, d + 1, d)
        self.origin = corners[:, 0]
        edges = corners[:, 1:] - corners[:, :1]  # (E, d, d), rows the edges
        self.inverse = np.linalg.inv(np.transpose(edges, (0, 2, 1)))
        centre = corners.mean(axis=1)
        self.radius = float(np.linalg.norm(corners - centre[:, None], axis=2).max())
        self.tree = cKDTree(centre)
        self.cells = len(cells)

    def _barycentric(self, q: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """Barycentric coordinates ``(..., d + 1)`` of points ``q`` (broadcast to ``cand``'s
        shape, ``(..., d)``) in the cells ``cand``."""
        mu = np.einsum("...ij,...j->...i", self.inverse[cand], q - self.origin[cand])
        return np.concatenate([1.0 - mu.sum(axis=-1, keepdims=True), mu], axis=-1)

    def _search(
        self, q: np.ndarray, todo: np.ndarray, cell: np.ndarray, lam: np.ndarray, score: np.ndarray
    ) -> None:
        """Try the points ``todo`` against every cell whose centroid lies within the largest
        cell radius of them, keeping a better cell than the one found (in place)."""
        found = self.tree.query_ball_point(q[todo], self.radius * (1 + 1e-9))
        counts = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
        flat = itertools.chain.from_iterable(found)
        cand = np.fromiter(flat, dtype=np.int64, count=int(counts.sum()))
        if not len(cand):
            return
        rows = np.repeat(todo, counts)
        bary = self._barycentric(q[rows], cand)
        s = bary.min(axis=1)
        order = np.lexsort((-s, rows))  # by point, best cell first
        first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]]
        better = first[s[first] > score[rows[first]]]
        cell[rows[better]], lam[rows[better]], score[rows[better]] = (
            cand[better],
            bary[better],
            s[better],
        )

    def locate(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(cell (N,), lam (N, d + 1), found (N,))`` of the points ``q`` (N, d); ``lam``
        clipped to the cell and renormalised (round-off on its facets)."""
        n, d = q.shape
        cell = np.zeros(n, dtype=np.int64)
        lam = np.zeros((n, d + 1))
        score = np.full(n, -np.inf)
        todo = np.arange(n)
        for k in (8, 64):
            k = min(k, self.cells)
            for start in range(0, len(todo), _BLOCK):
                rows = todo[start : start + _BLOCK]
                _, cand = self.tree.query(q[rows], k=k)
                cand = cand.reshape(len(rows), k)
                bary = self._barycentric(q[rows][:, None], cand)
                best = np.argmax(bary.min(axis=2), axis=1)
                pick = np.arange(len(rows))
                cell[rows], lam[rows] = cand[pick, best], bary[pick, best]
                score[rows] = bary[pick, best].min(axis=1)
            todo = np.flatnonzero(score < -INSIDE_TOL)
            if not len(todo) or k == self.cells:
                break
        if len(todo):  # rare: a strongly graded mesh, or a point outside
            self._search(q, todo, cell, lam, score)
        found = score >= -INSIDE_TOL
        lam = np.clip(lam, 0.0, None)
        lam /= lam.sum(axis=1, keepdims=True)
        return cell, lam, found


def _edge_slots(doflocs: np.ndarray, element_dofs: np.ndarray, t: np.ndarray) -> list:
    """For each edge degree of freedom of a P2 cell (rows ``d + 1..`` of ``element_dofs``) the
    pair of local vertices ``(i, j)`` whose midpoint it sits at, cell by cell: a list of
    ``(row, i (E,), j (E,))``."""
    k = t.shape[0]
    pairs = list(itertools.combinations(range(k), 2))
    verts = doflocs[:, t]  # (d, k, E)
    mids = np.stack([(verts[:, i] + verts[:, j]) / 2 for i, j in pairs])  # (P, d, E)
    a = np.array([i for i, _ in pairs])
    b = np.array([j for _, j in pairs])
    out = []
    for row in range(k, element_dofs.shape[0]):
        x = doflocs[:, element_dofs[row]]  # (d, E)
        which = np.argmin(np.linalg.norm(mids - x[None], axis=1), axis=0)
        out.append((row, a[which], b[which]))
    return out


def p2_values(basis: object, u: np.ndarray, cell: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The P2 function of coefficients ``u`` on the scikit-fem ``basis`` at the points of
    barycentric coordinates ``lam`` (N, d + 1) in the cells ``cell`` (the module doc's
    formula)."""
    dofs = basis.element_dofs  # (k + edges, E); the first k rows the vertices, as mesh.t
    t = basis.mesh.t
    if not np.array_equal(dofs[: t.shape[0]], t):
        raise ValueError("unexpected P2 degrees of freedom: the vertex ones are not the mesh's")
    out = np.zeros(len(cell))
    for i in range(t.shape[0]):
        out += u[dofs[i, cell]] * lam[:, i] * (2 * lam[:, i] - 1)
    pick = np.arange(len(cell))
    for row, a, b in _edge_slots(basis.doflocs, dofs, t):
        out += 4 * u[dofs[row, cell]] * lam[pick, a[cell]] * lam[pick, b[cell]]
    return out
