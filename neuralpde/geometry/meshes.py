r"""Meshes: :class:`MeshDomain`, a domain given by a triangle (2-D) or tetrahedron (3-D) mesh
read with meshio, with the checks of its connectivity and the KD-tree searches behind
``contains`` and ``distance``."""

from __future__ import annotations

import hashlib
import itertools
import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from ..domains import BoundarySample, Domain, check_domain_points, check_unit_points
from ..limits import MAX_MESH_CELLS
from .common import REL_TOL, check_names

if TYPE_CHECKING:
    import meshio

__all__ = ["MeshDomain"]


def _simplex_point(vertices: np.ndarray, unit: np.ndarray) -> np.ndarray:
    r"""Uniform points in simplices ``vertices`` (N, k + 1, d) from ``unit`` (N, k): the spacings
    of the sorted unit coordinates are uniform barycentric weights."""
    n, k = unit.shape
    cuts = np.sort(unit, axis=1)
    w = np.diff(np.concatenate([np.zeros((n, 1)), cuts, np.ones((n, 1))], axis=1), axis=1)
    return np.einsum("nk,nkd->nd", w, vertices)


def _read_mesh(path_or_mesh: str | os.PathLike[str] | meshio.Mesh) -> tuple[meshio.Mesh, str]:
    """The mesh ``path_or_mesh`` gives (a file meshio reads, or a ``meshio.Mesh``) and the
    source :class:`MeshDomain` records (the path, or ``"<meshio.Mesh>"``)."""
    import meshio

    if isinstance(path_or_mesh, meshio.Mesh):
        return path_or_mesh, "<meshio.Mesh>"
    if not isinstance(path_or_mesh, (str, os.PathLike)):
        raise ValueError(
            f"path_or_mesh must be a file path or a meshio.Mesh, got {type(path_or_mesh)}"
        )
    if not os.path.isfile(path_or_mesh):
        raise ValueError(f"path_or_mesh: no mesh file {str(path_or_mesh)!r}")
    try:
        mesh = meshio.read(path_or_mesh)
    except Exception as exc:  # meshio raises many kinds
        raise ValueError(f"path_or_mesh: cannot read {str(path_or_mesh)!r}: {exc}") from exc
    except SystemExit as exc:  # some meshio readers exit on a malformed file
        raise ValueError(
            f"path_or_mesh: meshio could not read {str(path_or_mesh)!r} (its reader "
            f"gave up with exit status {exc.code}); is it a valid mesh file?"
        ) from None
    return mesh, str(path_or_mesh)


def _mesh_kind(mesh: meshio.Mesh) -> tuple[int, str, str]:
    """The dimension, cell type and boundary facet type of ``mesh``: tetrahedra (3-D) where it
    has any, else triangles (2-D)."""
    kinds = {block.type for block in mesh.cells}
    if "tetra" in kinds:
        return 3, "tetra", "triangle"
    if "triangle" in kinds:
        return 2, "triangle", "line"
    raise ValueError(f"path_or_mesh has no triangle or tetra cells (found {sorted(kinds)})")


def _mesh_points(mesh: meshio.Mesh, d: int) -> np.ndarray:
    """The points of ``mesh`` as ``(N, d)``, checked: finite, extra coordinates constant."""
    pts = np.asarray(mesh.points, dtype=float)
    if pts.ndim != 2 or pts.shape[1] < d:
        raise ValueError(f"path_or_mesh: points of shape {pts.shape} for a {d}-D mesh")
    if pts.shape[1] > d and np.ptp(pts[:, d:], axis=0).max() > 0:
        raise ValueError(f"path_or_mesh: a {d}-D mesh must have constant extra coordinates")
    pts = pts[:, :d]
    if not np.all(np.isfinite(pts)):
        raise ValueError("path_or_mesh: points must be finite")
    return pts


def _mesh_cells(mesh: meshio.Mesh, cell_type: str, n_points: int) -> np.ndarray:
    """The ``cell_type`` connectivity of ``mesh`` as one ``(E, d + 1)`` array, checked: no empty
    block, indices of existing points, at most :data:`~neuralpde.limits.MAX_MESH_CELLS` cells."""
    blocks = [b for b in mesh.cells if b.type == cell_type]
    width = 3 if cell_type == "triangle" else 4
    arrays = []
    for i, b in enumerate(blocks):
        data = np.asarray(b.data)
        if data.ndim != 2 or data.shape[1] != width or len(data) == 0:
            raise ValueError(
                f"path_or_mesh: {cell_type} block {i} must list cells of {width} point indices, "
                f"got an array of shape {data.shape}"
            )
        arrays.append(data.astype(np.int64))
    cells = np.concatenate(arrays)
    bad = (cells < 0) | (cells >= n_points)
    if bad.any():
        row = int(np.nonzero(bad.any(axis=1))[0][0])
        raise ValueError(
            f"path_or_mesh: cell {row} ({cell_type} {cells[row].tolist()}) refers to a point "
            f"that does not exist; indices must lie in [0, {n_points}) ({n_points} points)"
        )
    if len(cells) > MAX_MESH_CELLS:
        raise ValueError(
            f"path_or_mesh must hold at most {MAX_MESH_CELLS:,} {cell_type} cells, got "
            f"{len(cells):,}"
        )
    return cells


def _cell_volumes(pts: np.ndarray, cells: np.ndarray, cell_type: str) -> np.ndarray:
    """The volume (area) of each cell; ``ValueError`` for a cell of zero volume."""
    d = pts.shape[1]
    corners = pts[cells]  # (E, d + 1, d)
    jac = corners[:, 1:] - corners[:, :1]
    vol = np.abs(np.linalg.det(jac)) / math.factorial(d)
    flat = vol <= 1e-14 * vol.max()
    if np.any(flat):
        raise ValueError(
            f"path_or_mesh: cell {int(np.argmax(flat))} ({cell_type} "
            f"{cells[np.argmax(flat)].tolist()}) has zero volume"
        )
    return vol


def _boundary_facets(
    pts: np.ndarray, cells: np.ndarray, cell_type: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The boundary facets (those of exactly one cell; the connectivity checked with
    :func:`_check_conforming`): their point indices ``(F, d)`` ordered so that the facet faces
    outward, their sorted point indices, unit outward normals and measures."""
    d = pts.shape[1]
    # The left-out vertex of each cell's facet orients it.
    local = [[j for j in range(d + 1) if j != i] for i in range(d + 1)]
    facets = np.concatenate([cells[:, f] for f in local])  # (E (d+1), d)
    opposite = np.concatenate([cells[:, i] for i in range(d + 1)])
    key = np.sort(facets, axis=1)
    _, first, inverse, counts = np.unique(
        key, axis=0, return_index=True, return_inverse=True, return_counts=True
    )
    _check_conforming(pts, key, opposite, inverse.ravel(), counts, len(cells), cell_type)
    single = counts[inverse.ravel()] == 1
    facets, opposite, key = facets[single], opposite[single], key[single]
    fv = pts[facets]  # (F, d, d)
    if d == 2:
        e = fv[:, 1] - fv[:, 0]
        normal = np.column_stack([e[:, 1], -e[:, 0]])
    else:
        normal = np.cross(fv[:, 1] - fv[:, 0], fv[:, 2] - fv[:, 0])
    size = np.linalg.norm(normal, axis=1)
    flip = np.einsum("fd,fd->f", normal, pts[opposite] - fv[:, 0]) > 0
    normal[flip] *= -1
    facets[flip] = facets[flip][:, ::-1]  # orient every facet outward
    return facets, key, normal / size[:, None], size / (1.0 if d == 2 else 2.0)


def _facet_tags(mesh: meshio.Mesh, key: np.ndarray, facet_type: str) -> np.ndarray:
    """The gmsh physical tag of each boundary facet (rows of sorted point indices ``key``) from
    the ``facet_type`` blocks of ``mesh``; -1 where untagged."""
    tag_of = np.full(len(key), -1, dtype=np.int64)
    physical = mesh.cell_data.get("gmsh:physical")
    if physical is None:
        return tag_of
    blocks = [
        (np.sort(np.asarray(b.data, dtype=np.int64), axis=1), np.asarray(t, dtype=np.int64))
        for b, t in zip(mesh.cells, physical, strict=True)
        if b.type == facet_type
    ]
    if not blocks:
        return tag_of
    tagged = np.concatenate([b[0] for b in blocks])
    tags = np.concatenate([b[1] for b in blocks])
    both = np.concatenate([key, tagged])
    _, inv = np.unique(both, axis=0, return_inverse=True)
    inv = inv.ravel()
    lookup = np.full(inv.max() + 1, -1, dtype=np.int64)
    lookup[inv[len(key) :]] = tags
    return lookup[inv[: len(key)]]


def _boundary_parts(
    mesh: meshio.Mesh, tag_of: np.ndarray, d: int
) -> tuple[tuple[str, ...], np.ndarray]:
    """The boundary part names, in tag order (named by ``field_data``, ``"tag<id>"`` where
    unnamed, then ``"boundary"`` if a facet is untagged), and each facet's part index."""
    ids = sorted(set(tag_of[tag_of >= 0].tolist()))
    named = {
        int(v[0]): k
        for k, v in (mesh.field_data or {}).items()
        if len(np.atleast_1d(v)) < 2 or int(np.atleast_1d(v)[1]) == d - 1
    }
    parts = [named.get(i, f"tag{i}") for i in ids]
    if len(set(parts)) != len(parts):
        raise ValueError(f"path_or_mesh: boundary part names repeat: {parts}")
    if np.any(tag_of < 0):
        if "boundary" in parts:
            raise ValueError(
                "path_or_mesh: a tagged part is named 'boundary' but facets are left untagged"
            )
        parts.append("boundary")
    ids_arr = np.array(ids, dtype=np.int64)
    facet_tag = np.where(tag_of >= 0, np.searchsorted(ids_arr, tag_of), len(ids)).astype(np.int64)
    return tuple(parts), facet_tag


def _check_conforming(
    pts: np.ndarray,
    key: np.ndarray,
    opposite: np.ndarray,
    inverse: np.ndarray,
    counts: np.ndarray,
    n_cells: int,
    cell_type: str,
) -> None:
    """Raise ``ValueError`` unless every facet (rows of ``key``, sorted point indices, cell
    ``row % n_cells``) belongs to one cell (boundary) or to two cells on its two sides."""
    shared = counts[inverse]
    if np.any(shared > 2):
        row = int(np.argmax(shared > 2))
        owners = sorted(set((np.nonzero(inverse == inverse[row])[0] % n_cells).tolist()))
        raise ValueError(
            f"path_or_mesh: the facet with points {key[row].tolist()} belongs to "
            f"{int(shared[row])} cells {owners}; each facet must belong to one cell (on the "
            f"boundary) or two (inside): duplicated or overlapping {cell_type} cells?"
        )
    rows = np.nonzero(shared == 2)[0]
    if rows.size == 0:
        return
    rows = rows[np.argsort(inverse[rows], kind="stable")].reshape(-1, 2)  # pairs of one facet
    fv = pts[key[rows[:, 0]]]  # (P, d, d), the same orientation for both cells of a pair
    if fv.shape[1] == 2:
        e = fv[:, 1] - fv[:, 0]
        normal = np.column_stack([e[:, 1], -e[:, 0]])
    else:
        normal = np.cross(fv[:, 1] - fv[:, 0], fv[:, 2] - fv[:, 0])
    side = [np.einsum("pd,pd->p", normal, pts[opposite[rows[:, j]]] - fv[:, 0]) for j in (0, 1)]
    same = side[0] * side[1] >= 0
    if np.any(same):
        a, b = sorted((rows[np.argmax(same)] % n_cells).tolist())
        raise ValueError(
            f"path_or_mesh: cells {a} and {b} lie on the same side of their shared facet "
            f"{key[rows[np.argmax(same), 0]].tolist()}, so they overlap (duplicated or "
            f"overlapping {cell_type} cells?)"
        )


def _size_classes(
    corners: np.ndarray,
) -> tuple[np.ndarray, list[tuple[cKDTree, np.ndarray, float]]]:
    """The centroids of simplices ``corners`` (shape ``(E, k, d)``) and KD-trees of them, one
    per size class (largest centroid-to-vertex radii within a factor of 2), each with the ids of
    its simplices and the class's largest radius."""
    centroid = corners.mean(axis=1)
    radius = np.linalg.norm(corners - centroid[:, None], axis=2).max(axis=1)
    level = np.floor(np.log2(radius.max() / np.maximum(radius, 1e-300))).astype(np.int64)
    classes = []
    for k in np.unique(level):
        ids = np.nonzero(level == k)[0]
        classes.append((cKDTree(centroid[ids]), ids, float(radius[ids].max())))
    return centroid, classes


def _near_pairs(
    tree: cKDTree, ids: np.ndarray, q: np.ndarray, r: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (row of ``q``, simplex id) whose centroid in ``tree`` (of the simplices ``ids``)
    lies within ``r`` (one radius, or one per point) of the point."""
    found = tree.query_ball_point(q, r, return_sorted=False)
    counts = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
    flat = np.fromiter(itertools.chain.from_iterable(found), dtype=np.int64, count=counts.sum())
    return np.repeat(np.arange(len(q)), counts), ids[flat]


def _chunks(n_points: int, n_facets: int, budget: int = 2_000_000):
    step = max(1, budget // max(n_facets, 1))
    for start in range(0, n_points, step):
        yield slice(start, min(start + step, n_points))


class MeshDomain(Domain):
    r"""A domain given by a triangle (2-D) or tetrahedron (3-D) mesh, read with meshio.

    ``path_or_mesh`` is a file meshio reads or a ``meshio.Mesh``. Interior: the first unit
    coordinate picks a cell by volume share, its fractional position and the other coordinates
    give a uniform point of the simplex (spacings of the sorted coordinates as barycentric
    weights). Boundary: the facets that belong to exactly one cell, picked by measure likewise,
    outward normals pointing away from their cell's opposite vertex.

    Boundary parts come from gmsh physical tags (``cell_data["gmsh:physical"]``) on ``line``
    (2-D) or ``triangle`` (3-D) blocks, named by ``field_data`` (``"tag<id>"`` where unnamed),
    in tag order; untagged boundary facets form the part ``"boundary"``. ``contains`` locates
    points in cells (KD-trees of the cell centroids, then barycentric coordinates);
    ``distance`` is exact (nearest boundary facet, found with KD-trees of the facet centroids,
    signed by ``contains``). Points with a NaN or infinite coordinate are not contained and have
    a NaN distance.

    The connectivity is checked: point indices in range, no empty cell block, no cell of zero
    volume, and every facet in one cell (boundary) or two cells on its two sides (inside), so
    duplicated or folded cells are refused; overlaps between cells that share no facet are not.

    :meth:`describe` names the file by its base name (not where it lies) and carries
    :attr:`digest` (``"sha256"``), a SHA-256 of the cells' vertex coordinates and of the boundary
    part of each boundary facet, so that meshes that differ in their contents are told apart.
    """

    def __init__(
        self, path_or_mesh: str | os.PathLike[str] | meshio.Mesh, names: Sequence[str] | None = None
    ) -> None:
        mesh, self.source = _read_mesh(path_or_mesh)
        d, cell_type, facet_type = _mesh_kind(mesh)
        pts = _mesh_points(mesh, d)
        cells = _mesh_cells(mesh, cell_type, len(pts))
        self.names = check_names(names, d)
        self.points = pts
        self.cells = cells
        vol = _cell_volumes(pts, cells, cell_type)
        self._volume = float(vol.sum())
        self._cell_cdf = np.concatenate([[0.0], np.cumsum(vol)]) / self._volume

        self._facets, key, self._normals, self._facet_measure = _boundary_facets(
            pts, cells, cell_type
        )
        self._bmeasure = float(self._facet_measure.sum())
        self._facet_cdf = np.concatenate([[0.0], np.cumsum(self._facet_measure)]) / self._bmeasure
        tag_of = _facet_tags(mesh, key, facet_type)
        self._parts, self._facet_tag = _boundary_parts(mesh, tag_of, d)
        self.digest = _mesh_digest(pts[cells], self._facet_tag)
        used = pts[np.unique(cells)]
        self._lo, self._hi = used.min(axis=0), used.max(axis=0)
        self._tol = REL_TOL * float(np.linalg.norm(self._hi - self._lo))
        self._locator: list[tuple[cKDTree, np.ndarray, float]] | None = None  # built when needed
        self._facet_locator: tuple[cKDTree, list] | None = None

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self._lo.copy(), self._hi.copy()

    @property
    def boundary_parts(self) -> tuple[str, ...]:
        return self._parts

    @property
    def boundary_facets(self) -> np.ndarray:
        """The boundary facets' point indices (rows of :attr:`points`), ``(F, d)`` int64, each
        ordered so that the facet faces outward (a copy)."""
        return self._facets.copy()

    @property
    def facet_parts(self) -> np.ndarray:
        """Each boundary facet's part, an index into :attr:`boundary_parts`, ``(F,)`` int64
        (a copy)."""
        return self._facet_tag.copy()

    @property
    def measure(self) -> float:
        """Sum of the cell volumes (areas)."""
        return self._volume

    @property
    def boundary_measure(self) -> float:
        """Sum of the boundary facet measures."""
        return self._bmeasure

    def _pair_distance(self, q: np.ndarray, facet: np.ndarray) -> np.ndarray:
        """Distance from each point ``q[k]`` (shape ``(M, d)``) to the facet ``facet[k]``."""
        fv = self.points[self._facets[facet]]  # (M, d, d)
        if self.dim == 2:
            return self._segments(q, fv[:, 0], fv[:, 1])
        a, b, c = fv[:, 0], fv[:, 1], fv[:, 2]
        nrm = self._normals[facet]
        h = np.einsum("md,md->m", q - a, nrm)
        proj = q - h[:, None] * nrm
        inside = (
            (np.einsum("md,md->m", np.cross(b - a, proj - a), nrm) >= 0)
            & (np.einsum("md,md->m", np.cross(c - b, proj - b), nrm) >= 0)
            & (np.einsum("md,md->m", np.cross(a - c, proj - c), nrm) >= 0)
        )
        edges = np.minimum(
            np.minimum(self._segments(q, a, b), self._segments(q, b, c)), self._segments(q, c, a)
        )
        return np.where(inside, np.abs(h), edges)

    def _facet_distance(self, p: np.ndarray) -> np.ndarray:
        r"""Unsigned distance to the nearest boundary facet.

        The exact distances to the facets of the few nearest centroids bound the answer
        :math:`\delta` from above; a facet of centroid :math:`c` and radius :math:`\rho` (largest
        centroid-to-vertex distance) is no nearer than :math:`|p - c| - \rho`, so only facets
        with :math:`|p - c| \le \delta + \rho` are measured, found in KD-trees of the centroids
        (one per size class, radii within a factor of 2).
        """
        if self._facet_locator is None:
            centroid, classes = _size_classes(self.points[self._facets])
            self._facet_locator = (cKDTree(centroid), classes)
        nearest, classes = self._facet_locator
        out = np.full(len(p), np.nan)
        finite = np.nonzero(np.isfinite(p).all(axis=1))[0]
        k = min(4, len(self._facets))
        for start in range(0, len(finite), 1024):  # bounded lists of candidates per block
            rows = finite[start : start + 1024]
            q = p[rows]
            _, idx = nearest.query(q, k=k)
            idx = idx.reshape(len(q), k)
            bound = self._pair_distance(np.repeat(q, k, axis=0), idx.ravel()).reshape(-1, k)
            best = bound.min(axis=1)
            for tree, ids, radius in classes:
                row, facet = _near_pairs(tree, ids, q, best + radius + self._tol)
                for lo in range(0, len(row), 262144):  # pairs measured a bounded block at a time
                    sl = slice(lo, lo + 262144)
                    np.minimum.at(best, row[sl], self._pair_distance(q[row[sl]], facet[sl]))
            out[rows] = best
        return out

    @staticmethod
    def _segments(q: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        e = b - a
        t = np.clip(np.sum((q - a) * e, axis=-1) / np.sum(e * e, axis=-1), 0.0, 1.0)
        return np.linalg.norm(q - a - t[..., None] * e, axis=-1)

    def _build_locator(self) -> list[tuple[cKDTree, np.ndarray, float]]:
        """KD-trees of cell centroids, one per size class (radii within a factor of 2), with the
        class's largest centroid-to-vertex radius; and each cell's barycentric map."""
        corners = self.points[self.cells]  # (E, d + 1, d)
        inv = np.linalg.inv(np.transpose(corners[:, 1:] - corners[:, :1], (0, 2, 1)))
        grads = np.concatenate([-inv.sum(axis=1, keepdims=True), inv], axis=1)  # (E, d + 1, d)
        self._bary_inv, self._bary_origin = inv, corners[:, 0]
        self._bary_scale = 1.0 / np.linalg.norm(grads, axis=2)  # heights of the cell
        return _size_classes(corners)[1]

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Whether each point lies in a cell, or within rounding (1e-12 of the size) of one.

        The cells near a point come from KD-trees of the cell centroids; a point is inside when
        its signed distance to the facet planes of one of them is at least ``-1e-12`` of the
        size (the distance to the nearest facet plane bounds the distance to the cell below).
        """
        p = check_domain_points(points, self.dim, "MeshDomain.contains")
        if self._locator is None:
            self._locator = self._build_locator()
        inside = np.zeros(len(p), dtype=bool)
        finite = np.isfinite(p).all(axis=1)
        if not finite.all():  # not contained; the trees take finite points only
            inside[finite] = self.contains(p[finite])
            return inside
        for tree, ids, radius in self._locator:
            for sl in _chunks(len(p), 128):
                row, cell = _near_pairs(tree, ids, p[sl], radius + self._tol)
                if not len(row):
                    continue
                row += sl.start
                lam = np.einsum(
                    "nij,nj->ni", self._bary_inv[cell], p[row] - self._bary_origin[cell]
                )
                lam = np.concatenate([1.0 - lam.sum(axis=1, keepdims=True), lam], axis=1)
                gap = (lam * self._bary_scale[cell]).min(axis=1)  # signed distance to the planes
                inside[row[gap >= -self._tol]] = True
        return inside

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Exact distance to the nearest boundary facet, positive inside."""
        p = check_domain_points(points, self.dim, "MeshDomain.distance")
        d = self._facet_distance(p)
        return np.where(self.contains(p), d, -d)

    @staticmethod
    def _pick(cdf: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = np.clip(np.searchsorted(cdf, u, side="right") - 1, 0, len(cdf) - 2)
        return k, np.clip((u - cdf[k]) / (cdf[k + 1] - cdf[k]), 0.0, 1.0)

    def interior(self, unit: np.ndarray) -> np.ndarray:
        unit = check_unit_points(unit, self.dim, "MeshDomain.interior")
        k, s = self._pick(self._cell_cdf, unit[:, 0])
        return _simplex_point(self.points[self.cells[k]], np.column_stack([s, unit[:, 1:]]))

    def boundary(self, unit: np.ndarray) -> BoundarySample:
        unit = check_unit_points(unit, self.dim, "MeshDomain.boundary")
        k, s = self._pick(self._facet_cdf, unit[:, 0])
        local = np.column_stack([s, unit[:, 1 : self.dim - 1]])
        pts = _simplex_point(self.points[self._facets[k]], local)
        return BoundarySample(pts, self._normals[k].copy(), self._facet_tag[k].copy())

    def describe(self) -> dict:
        out = super().describe()
        out["source"] = os.path.basename(self.source)
        out["sha256"] = self.digest
        out["cells"] = int(len(self.cells))
        out["boundary_facets"] = int(len(self._facets))
        out["parts"] = list(self._parts)
        return out

    def __repr__(self) -> str:
        return f"MeshDomain({self.source!r}, cells={len(self.cells)})"


def _mesh_digest(corners: np.ndarray, tags: np.ndarray) -> str:
    """SHA-256 of the cells' vertex coordinates ``corners`` (``(E, d + 1, d)``, as little-endian
    float64) and the boundary facets' part indices ``tags`` (little-endian int64), with shapes."""
    h = hashlib.sha256()
    for a, kind in ((corners, "<f8"), (tags, "<i8")):
        h.update(repr(a.shape).encode())
        h.update((np.ascontiguousarray(a, dtype=kind) + 0).tobytes())  # -0.0 as 0.0
    return h.hexdigest()
