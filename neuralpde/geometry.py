r"""More domains: disks and balls, polygons, meshes and constructive solid geometry (CSG).

Every type here implements the :class:`~neuralpde.domains.Domain` interface (unit-cube points
mapped onto the interior and the boundary, outward normals, named boundary parts) and adds

* :meth:`distance`: the distance to the boundary, positive inside and negative outside (exact for
  :class:`Ball`, :class:`Disk`, :class:`Polygon` and :class:`MeshDomain`; for CSG a min/max
  combination of the children's distances, exact in sign and zero set, approximate in size);
* :attr:`measure` and :attr:`boundary_measure`: volume (area) and boundary measure (perimeter).

CSG domains (:class:`Union`, :class:`Intersection`, :class:`Difference`) draw interior points
by rejection from their bounding box and boundary points by rejection from their children's
boundaries; their measures are quasi-Monte Carlo estimates (:data:`MC_POINTS` scrambled Sobol
points with a fixed seed, relative error about 1e-3 or better). Importing this module (done by
``import neuralpde``) also gives every :class:`~neuralpde.domains.Domain` the operators
``a | b`` (union), ``a & b`` (intersection) and ``a - b`` (difference).

``contains`` counts points within rounding (1e-12 of the domain's size) of the boundary as
inside. Cost: polygon queries and mesh distances are vectorised over points and loop over edges
(facets), O(points x boundary facets); mesh ``contains`` looks up the cells near each point, about
O(points x log cells).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import zlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import gammainc, ndtri
from scipy.stats import qmc

from ._arguments import check_name, real_array, real_coordinates
from .domains import (
    BoundarySample,
    Box,
    Domain,
    SpaceTime,
    UnitSource,
    _check_points,
    _check_unit,
)
from .io import check_coordinate_names
from .limits import MAX_CHILDREN, MAX_IN_FEATURES, MAX_MESH_CELLS, MAX_VERTICES

if TYPE_CHECKING:
    import meshio

__all__ = [
    "Ball",
    "Disk",
    "Polygon",
    "MeshDomain",
    "Union",
    "Intersection",
    "Difference",
    "distance_to_boundary",
    "MC_POINTS",
]

#: Quasi-Monte Carlo points used to estimate the measures of CSG domains.
MC_POINTS = 2**16
_MC_SEED = 20240611
_TINY = 2.0**-53  # keeps ndtri finite on unit points 0 and 1
_REL_TOL = 1e-12  # rounding tolerance of `contains`, relative to the domain's size
_REL_EPS = 1e-7  # probe offset along normals in CSG boundary classification, relative to size
_PART_PROBE = 1024  # points drawn on each CSG child's boundary to find the parts that are empty
_PART_RECHECK = 32768  # points drawn again on a child with a part that looks empty


def _default_names(d: int) -> tuple[str, ...]:
    return ("x", "y", "z")[:d] if d <= 3 else tuple(f"x{i + 1}" for i in range(d))


def _check_names(names: Sequence[str] | None, d: int) -> tuple[str, ...]:
    if names is None:
        return _default_names(d)
    names = tuple(names)
    if len(names) != d or len(set(names)) != d or not all(isinstance(n, str) for n in names):
        raise ValueError(f"names must be {d} distinct strings, got {names!r}")
    check_coordinate_names(names)
    for name in names:
        check_name(name, "names")
    return names


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from points ``p`` (N, 2) to the segment ``[a, b]``."""
    e = b - a
    t = np.clip(((p - a) @ e) / float(e @ e), 0.0, 1.0)
    return np.linalg.norm(p - a - t[:, None] * e, axis=1)


def distance_to_boundary(domain: Domain, points: np.ndarray) -> np.ndarray:
    r"""``domain.distance(points)``, or the exact signed distance of a :class:`Box`.

    For a box, positive inside :math:`\min_i \min(x_i - l_i, h_i - x_i)`, negative outside
    :math:`-|\max(l - x, 0, x - h)|`.
    """
    if hasattr(domain, "distance"):
        return domain.distance(points)
    if isinstance(domain, Box):
        points = _check_points(points, domain.dim, f"{type(domain).__name__} distance")
        lo, hi = domain.bounds
        inside = np.minimum(points - lo, hi - points).min(axis=1)
        gap = np.maximum(np.maximum(lo - points, points - hi), 0.0)
        return np.where(inside >= 0, inside, -np.linalg.norm(gap, axis=1))
    raise ValueError(f"{type(domain).__name__} has no distance function")


def _refill_rng(unit: np.ndarray) -> np.random.Generator:
    """A generator determined by the unit points (for rows that rejection must redraw)."""
    return np.random.default_rng([_MC_SEED, zlib.crc32(np.ascontiguousarray(unit).tobytes())])


# -- balls ----------------------------------------------------------------------------------------


class Ball(Domain):
    r"""The closed ball :math:`|x - c| \le R` in :math:`d` dimensions; one part ``"boundary"``.

    Interior: :math:`d` unit coordinates give a Gaussian vector :math:`g = \Phi^{-1}(u)` (inverse
    normal CDF, ``scipy.special.ndtri``); its direction :math:`g/|g|` is uniform on the sphere and
    independent of :math:`F_{\chi^2_d}(|g|^2) \sim U(0, 1)`, so
    :math:`x = c + R\, F_{\chi^2_d}(|g|^2)^{1/d}\, g/|g|` is uniform in the ball (volume-preserving
    in distribution). Boundary: :math:`x = c + R\, g/|g|`, outward normal :math:`g/|g|`.
    ``distance`` is exact: :math:`R - |x - c|`.
    """

    def __init__(
        self,
        center: Sequence[float],
        radius: float,
        names: Sequence[str] | None = None,
    ) -> None:
        c = np.atleast_1d(real_array(center, "center"))
        if c.ndim != 1 or c.size == 0 or not np.all(np.isfinite(c)):
            raise ValueError(f"center must be a flat sequence of finite numbers, got {center!r}")
        if c.size > MAX_IN_FEATURES:
            raise ValueError(
                f"center must hold at most {MAX_IN_FEATURES} coordinates (the limit on a "
                f"domain's dimension), got {c.size}"
            )
        if (
            isinstance(radius, bool)
            or not isinstance(radius, (int, float, np.floating, np.integer))
            or not (np.isfinite(radius) and radius > 0)
        ):
            raise ValueError(f"radius must be a positive finite number, got {radius!r}")
        self.center = c
        self.radius = float(radius)
        self.names = _check_names(names, c.size)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.center - self.radius, self.center + self.radius

    @property
    def boundary_parts(self) -> tuple[str, ...]:
        return ("boundary",)

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Exact distance to the sphere, positive inside: :math:`R - |x - c|`."""
        points = _check_points(points, self.dim, f"{type(self).__name__}.distance")
        return self.radius - np.linalg.norm(points - self.center, axis=1)

    def contains(self, points: np.ndarray) -> np.ndarray:
        points = _check_points(points, self.dim, f"{type(self).__name__}.contains")
        r = np.linalg.norm(points - self.center, axis=1)
        return r <= self.radius * (1.0 + _REL_TOL)

    @staticmethod
    def _directions(unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = ndtri(np.clip(unit, _TINY, 1.0 - _TINY))
        norm = np.linalg.norm(g, axis=1)
        zero = norm == 0.0  # unit point exactly at the centre of the cube
        g[zero] = 0.0
        g[zero, 0] = 1.0
        norm[zero] = 1.0
        return g / norm[:, None], norm

    def interior(self, unit: np.ndarray) -> np.ndarray:
        unit = _check_unit(unit, self.dim, f"{type(self).__name__}.interior")
        direction, norm = self._directions(unit)
        d = self.dim
        r = self.radius * gammainc(d / 2.0, norm**2 / 2.0) ** (1.0 / d)
        return self.center + r[:, None] * direction

    def boundary(self, unit: np.ndarray) -> BoundarySample:
        unit = _check_unit(unit, self.dim, f"{type(self).__name__}.boundary")
        direction, _ = self._directions(unit)
        pts = self.center + self.radius * direction
        return BoundarySample(pts, direction, np.zeros(len(unit), dtype=np.int64))

    @property
    def measure(self) -> float:
        r""":math:`\pi^{d/2} R^d / \Gamma(d/2 + 1)`."""
        d = self.dim
        return math.pi ** (d / 2) * self.radius**d / math.gamma(d / 2 + 1)

    @property
    def boundary_measure(self) -> float:
        r"""Surface measure :math:`d\, V / R`."""
        return self.dim * self.measure / self.radius

    def describe(self) -> dict:
        out = super().describe()
        out["center"] = self.center.tolist()
        out["radius"] = self.radius
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.center.tolist()}, {self.radius}, names={self.names})"


class Disk(Ball):
    r"""The closed disk :math:`|x - c| \le R` in 2-D; one part ``"boundary"``.

    Interior by the area-preserving polar map :math:`r = R\sqrt{u_0}`, :math:`\theta = 2\pi u_1`;
    boundary by arc length :math:`\theta = 2\pi u_0`, normal :math:`(\cos\theta, \sin\theta)`.
    """

    def __init__(
        self, center: Sequence[float], radius: float, names: Sequence[str] = ("x", "y")
    ) -> None:
        if np.asarray(center).shape != (2,):
            raise ValueError(f"Disk takes a center of 2 numbers, got center={center!r}")
        super().__init__(center, radius, names=names)

    def interior(self, unit: np.ndarray) -> np.ndarray:
        unit = _check_unit(unit, 2, "Disk.interior")
        r = self.radius * np.sqrt(unit[:, 0])
        theta = 2.0 * np.pi * unit[:, 1]
        return self.center + r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])

    def boundary(self, unit: np.ndarray) -> BoundarySample:
        unit = _check_unit(unit, 2, "Disk.boundary")
        theta = 2.0 * np.pi * unit[:, 0]
        normals = np.column_stack([np.cos(theta), np.sin(theta)])
        pts = self.center + self.radius * normals
        return BoundarySample(pts, normals, np.zeros(len(unit), dtype=np.int64))

    def __repr__(self) -> str:
        return f"Disk({self.center.tolist()}, {self.radius})"


# -- polygons -------------------------------------------------------------------------------------


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _segments_intersect(
    p1: np.ndarray, p2: np.ndarray, q1: np.ndarray, q2: np.ndarray
) -> np.ndarray:
    """Closed segments ``[p1, p2]`` and ``[q1, q2]`` (arrays of shape (M, 2)) meet."""
    d1 = _cross(q2 - q1, p1 - q1)
    d2 = _cross(q2 - q1, p2 - q1)
    d3 = _cross(p2 - p1, q1 - p1)
    d4 = _cross(p2 - p1, q2 - p1)
    proper = (d1 * d2 < 0) & (d3 * d4 < 0)

    def on(a, b, c, dd):  # c collinear with [a, b] and inside its box
        return (
            (dd == 0)
            & (np.minimum(a[:, 0], b[:, 0]) <= c[:, 0])
            & (c[:, 0] <= np.maximum(a[:, 0], b[:, 0]))
            & (np.minimum(a[:, 1], b[:, 1]) <= c[:, 1])
            & (c[:, 1] <= np.maximum(a[:, 1], b[:, 1]))
        )

    touch = on(q1, q2, p1, d1) | on(q1, q2, p2, d2) | on(p1, p2, q1, d3) | on(p1, p2, q2, d4)
    return proper | touch


def _ear_clip(v: np.ndarray) -> np.ndarray:
    """Triangles (K, 3) of vertex indices of the counter-clockwise simple polygon ``v``."""
    idx = list(range(len(v)))
    tris = []
    while len(idx) > 3:
        m = len(idx)
        found = None
        for allow_flat in (False, True):
            for j in range(m):  # loop over vertices (not points): O(n^2) for n vertices
                i0, i1, i2 = idx[j - 1], idx[j], idx[(j + 1) % m]
                a, b, c = v[i0], v[i1], v[i2]
                turn = _cross(b - a, c - b)
                if turn < 0 or (turn == 0 and not allow_flat):
                    continue
                others = np.array([k for k in idx if k not in (i0, i1, i2)], dtype=int)
                if others.size and turn > 0:
                    p = v[others]
                    s1 = _cross(b - a, p - a)
                    s2 = _cross(c - b, p - b)
                    s3 = _cross(a - c, p - c)
                    if np.any((s1 >= 0) & (s2 >= 0) & (s3 >= 0)):
                        continue
                found = j
                break
            if found is not None:
                break
        if found is None:  # pragma: no cover - a validated simple polygon always has an ear
            raise ValueError("vertices do not form a simple polygon (no ear found)")
        j = found
        tris.append((idx[j - 1], idx[j], idx[(j + 1) % m]))
        del idx[j]
    tris.append(tuple(idx))
    return np.array(tris, dtype=int)


class Polygon(Domain):
    r"""A closed simple polygon, given by its vertices in either orientation.

    Boundary parts ``"edge0"``, ``"edge1"``, …: ``edge{i}`` joins ``vertices[i]`` and
    ``vertices[i + 1]`` (cyclically) as given. Vertices are stored counter-clockwise
    (:attr:`vertices`); a repeated closing vertex is dropped.

    Interior: ear-clipping triangulation; the first unit coordinate picks a triangle by its area
    share, its fractional position :math:`s` within that share and the second coordinate
    :math:`t` give the point :math:`(1 - \sqrt s) A + \sqrt s (1 - t) B + \sqrt s\, t\, C`, uniform
    in the triangle :math:`ABC`. Boundary: arc length :math:`u_0 L` along the perimeter, outward
    normal :math:`(e_y, -e_x)/|e|` of each counter-clockwise edge :math:`e`. ``contains`` is the
    even-odd rule, ``distance`` exact (nearest edge, signed).
    """

    def __init__(
        self, vertices: Sequence[Sequence[float]], names: Sequence[str] = ("x", "y")
    ) -> None:
        v = real_coordinates(vertices, "vertices", "a sequence of (x, y) pairs of numbers")
        if v.ndim != 2 or v.shape[1] != 2:
            raise ValueError(f"vertices must be a sequence of (x, y) pairs, got shape {v.shape}")
        if len(v) > MAX_VERTICES + 1:  # a repeated closing vertex is dropped below
            raise ValueError(
                f"vertices must hold at most {MAX_VERTICES} points (the simplicity check compares "
                f"every pair of edges), got {len(v)}"
            )
        if not np.all(np.isfinite(v)):
            raise ValueError("vertices must be finite")
        if len(v) > 3 and np.array_equal(v[0], v[-1]):
            v = v[:-1]
        n = len(v)
        if n < 3:
            raise ValueError(f"vertices must hold at least 3 points, got {n}")
        self.names = _check_names(names, 2)
        nxt = np.roll(np.arange(n), -1)
        edges = v[nxt] - v
        short = np.nonzero(np.all(edges == 0, axis=1))[0]
        if short.size:
            raise ValueError(f"vertices: edge{int(short[0])} has zero length (repeated vertex)")
        # Self-intersection: non-adjacent edges must not meet, adjacent ones must not fold back.
        i, j = np.triu_indices(n, k=1)
        adjacent = (j == i + 1) | ((i == 0) & (j == n - 1))
        a, b = i[~adjacent], j[~adjacent]
        hit = _segments_intersect(v[a], v[nxt[a]], v[b], v[nxt[b]])
        if hit.any():
            k = int(np.argmax(hit))
            raise ValueError(
                f"vertices do not form a simple polygon: edge{int(a[k])} and edge{int(b[k])} "
                "intersect"
            )
        fold = (_cross(edges, edges[nxt]) == 0) & (np.sum(edges * edges[nxt], axis=1) < 0)
        if fold.any():
            k = int(np.argmax(fold))
            raise ValueError(
                f"vertices do not form a simple polygon: edge{k} and edge{int(nxt[k])} overlap"
            )
        self._given = v.copy()
        area2 = float(np.sum(_cross(v, v[nxt])))
        if area2 == 0:
            raise ValueError("vertices enclose zero area")
        self._user_edge = np.arange(n)
        if area2 < 0:  # clockwise: reverse, and remember which given edge each stored edge is
            v = v[::-1].copy()
            self._user_edge = (n - 2 - np.arange(n)) % n
        self.vertices = v
        self._a = v
        self._b = v[nxt]
        e = self._b - self._a
        self._len = np.linalg.norm(e, axis=1)
        self._normals = np.column_stack([e[:, 1], -e[:, 0]]) / self._len[:, None]
        self._cum = np.concatenate([[0.0], np.cumsum(self._len)])
        tris = _ear_clip(v)
        A, B, C = v[tris[:, 0]], v[tris[:, 1]], v[tris[:, 2]]
        areas = 0.5 * _cross(B - A, C - A)
        keep = areas > 0
        self._tri = (A[keep], B[keep], C[keep])
        self._area = abs(area2) / 2.0
        self._tri_cdf = np.concatenate([[0.0], np.cumsum(areas[keep])]) / np.sum(areas[keep])
        lo, hi = v.min(axis=0), v.max(axis=0)
        self._tol = _REL_TOL * float(np.linalg.norm(hi - lo))

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.vertices.min(axis=0), self.vertices.max(axis=0)

    @property
    def boundary_parts(self) -> tuple[str, ...]:
        return tuple(f"edge{i}" for i in range(len(self.vertices)))

    def edges(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """The edges as ``(part name, start, end)``, counter-clockwise (the domain on the
        left of each)."""
        return [
            (f"edge{int(self._user_edge[k])}", self._a[k].copy(), self._b[k].copy())
            for k in range(len(self._a))
        ]

    def _edge_distance(self, p: np.ndarray) -> np.ndarray:
        out = np.full(len(p), np.inf)
        for a, b in zip(self._a, self._b, strict=True):  # loop over edges
            out = np.minimum(out, _segment_distance(p, a, b))
        return out

    def _crossings(self, p: np.ndarray) -> np.ndarray:
        inside = np.zeros(len(p), dtype=bool)
        x, y = p[:, 0], p[:, 1]
        for a, b in zip(self._a, self._b, strict=True):  # loop over edges
            straddle = (a[1] > y) != (b[1] > y)
            dy = b[1] - a[1] if b[1] != a[1] else 1.0
            x_cross = a[0] + (y - a[1]) * (b[0] - a[0]) / dy
            inside ^= straddle & (x < x_cross)
        return inside

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Even-odd rule; points within rounding (1e-12 of the size) of an edge count as inside."""
        p = _check_points(points, 2, "Polygon.contains")
        return self._crossings(p) | (self._edge_distance(p) <= self._tol)

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Exact distance to the nearest edge, positive inside."""
        p = _check_points(points, 2, "Polygon.distance")
        d = self._edge_distance(p)
        return np.where(self._crossings(p), d, -d)

    def interior(self, unit: np.ndarray) -> np.ndarray:
        unit = _check_unit(unit, 2, "Polygon.interior")
        cdf = self._tri_cdf
        k = np.clip(np.searchsorted(cdf, unit[:, 0], side="right") - 1, 0, len(cdf) - 2)
        s = np.clip((unit[:, 0] - cdf[k]) / (cdf[k + 1] - cdf[k]), 0.0, 1.0)
        t = unit[:, 1]
        A, B, C = (x[k] for x in self._tri)
        r = np.sqrt(s)[:, None]
        return (1.0 - r) * A + r * (1.0 - t[:, None]) * B + r * t[:, None] * C

    def boundary(self, unit: np.ndarray) -> BoundarySample:
        unit = _check_unit(unit, 2, "Polygon.boundary")
        arc = unit[:, 0] * self._cum[-1]
        k = np.clip(np.searchsorted(self._cum, arc, side="right") - 1, 0, len(self._len) - 1)
        t = np.clip((arc - self._cum[k]) / self._len[k], 0.0, 1.0)
        pts = self._a[k] + t[:, None] * (self._b[k] - self._a[k])
        return BoundarySample(pts, self._normals[k].copy(), self._user_edge[k].astype(np.int64))

    @property
    def measure(self) -> float:
        """Area (shoelace formula)."""
        return self._area

    @property
    def boundary_measure(self) -> float:
        """Perimeter."""
        return float(self._cum[-1])

    def describe(self) -> dict:
        out = super().describe()
        out["vertices"] = self._given.tolist()
        return out

    def __repr__(self) -> str:
        return f"Polygon({self.describe()['vertices']})"


# -- constructive solid geometry ------------------------------------------------------------------


def _draw_rounds(
    n: int, source: UnitSource, width: int, rate: float, candidates: Callable
) -> tuple[np.ndarray, ...]:
    """First ``n`` accepted candidates from rounds of ``source(m, width)``."""
    got: list[tuple[np.ndarray, ...]] = []
    count = 0
    for _ in range(1000):
        m = int(math.ceil((n - count) / max(rate, 1e-6) * 1.2)) + 16
        ok, *arrays = candidates(source(m, width))
        got.append(tuple(a[ok] for a in arrays))
        count += int(ok.sum())
        if count >= n:
            return tuple(np.concatenate(parts)[:n] for parts in zip(*got, strict=True))
    raise RuntimeError(  # pragma: no cover - the rate is estimated beforehand
        f"rejection sampling accepted only {count} of {n} points"
    )


def _fill_rows(unit: np.ndarray, rate: float, candidates: Callable) -> tuple[np.ndarray, ...]:
    """One accepted candidate per row of ``unit``; rejected rows are redrawn from a generator
    seeded by ``unit`` (so the map is deterministic)."""
    ok, *arrays = candidates(unit)
    out = [a.copy() for a in arrays]
    pending = np.nonzero(~ok)[0]
    if pending.size:
        rng = _refill_rng(unit)
        fresh = _draw_rounds(
            pending.size, lambda m, k: rng.random((m, k)), unit.shape[1], rate, candidates
        )
        for o, f in zip(out, fresh, strict=True):
            o[pending] = f
    return tuple(out)


class _CSG(Domain):
    """Shared machinery of :class:`Union`, :class:`Intersection` and :class:`Difference`."""

    _prefix = "part"

    def __init__(self, *domains: Domain, names: Sequence[str] | None = None) -> None:
        kind = type(self).__name__
        if not 2 <= len(domains) <= MAX_CHILDREN:
            raise ValueError(
                f"{kind} takes at least two domains and at most {MAX_CHILDREN}, got {len(domains)}"
            )
        for i, dom in enumerate(domains):
            if not isinstance(dom, Domain) or isinstance(dom, SpaceTime):
                raise ValueError(
                    f"domains[{i}] must be a spatial Domain (wrap the result in SpaceTime), "
                    f"got {dom!r}"
                )
            for attr in ("measure", "boundary_measure"):
                if not hasattr(dom, attr):
                    raise ValueError(f"domains[{i}] ({type(dom).__name__}) has no {attr}")
            if not (hasattr(dom, "distance") or isinstance(dom, Box)):
                raise ValueError(f"domains[{i}] ({type(dom).__name__}) has no distance")
            if dom.names != domains[0].names:
                raise ValueError(
                    f"domains must share their coordinate names; domains[0] has "
                    f"{domains[0].names}, domains[{i}] has {dom.names}"
                )
        if names is None:
            names = self._default_child_names(len(domains))
        names = tuple(names)
        if (
            len(names) != len(domains)
            or len(set(names)) != len(names)
            or not all(isinstance(n, str) and n for n in names)
        ):
            raise ValueError(
                f"names must be {len(domains)} distinct non-empty strings, got {names!r}"
            )
        self.children = tuple(domains)
        self.child_names = names
        self.names = domains[0].names
        self._parts = tuple(
            f"{cn}.{p}" for cn, c in zip(names, domains, strict=True) for p in c.boundary_parts
        )
        self._offsets = np.cumsum([0] + [len(c.boundary_parts) for c in domains])
        lo, hi = self._box()
        if np.any(hi <= lo):
            raise ValueError(f"{kind} of {names} is empty (bounding boxes do not overlap)")
        self._lo, self._hi = lo, hi
        size = float(np.linalg.norm(hi - lo))
        self._eps = _REL_EPS * size
        self._tol = _REL_TOL * size
        child_b = np.array([c.boundary_measure for c in domains], dtype=float)
        self._child_bcdf = np.concatenate([[0.0], np.cumsum(child_b)]) / child_b.sum()
        self._child_btotal = float(child_b.sum())
        # Quasi-Monte Carlo estimates of the measures.
        d = self.dim
        unit = qmc.Sobol(d, scramble=True, seed=_MC_SEED).random(MC_POINTS)
        box_volume = float(np.prod(hi - lo))
        self._rate = float(np.mean(self.contains(lo + unit * (hi - lo))))
        self._measure = box_volume * self._rate
        if self._measure == 0:
            raise ValueError(f"{kind} of {names} is empty (no volume found)")
        self._brate = float(np.mean(self._boundary_candidates(unit)[0]))
        self._bmeasure = self._child_btotal * self._brate
        if self._bmeasure == 0:  # pragma: no cover - a non-empty domain has a boundary
            raise ValueError(f"{kind} of {names} has no boundary")
        self._empty = self._find_empty_parts()

    # A union member inside the others or a hole that misses the domain is a mistake; an
    # intersection with a domain that holds the others is a harmless way to write the others.
    _refuse_idle_children = True

    def _find_empty_parts(self) -> tuple[str, ...]:
        """Draw :data:`_PART_PROBE` points on each child's boundary (:data:`_PART_RECHECK` on a
        child with a part that got points but kept none); raise ``ValueError`` if none
        of a child's lies on this domain's boundary (the child changes nothing; not for an
        :class:`Intersection`), and return the parts that got candidates but kept none."""
        kind, names = type(self).__name__, self.child_names
        n_parts = len(self._parts)

        def counts(c: int, n: int) -> tuple[np.ndarray, np.ndarray, bool]:
            unit = qmc.Sobol(self.dim, scramble=True, seed=_MC_SEED + 1).random(n)
            keep, _, _, tags = self._classify(c, unit)
            drawn = np.bincount(tags, minlength=n_parts)
            return drawn, np.bincount(tags[keep], minlength=n_parts), bool(keep.any())

        drawn, kept = np.zeros(n_parts, dtype=np.int64), np.zeros(n_parts, dtype=np.int64)
        for c in range(len(self.children)):
            d_c, k_c, any_kept = counts(c, _PART_PROBE)
            if ((d_c > 0) & (k_c == 0)).any():  # look again, closer, before judging a part empty
                d_c, k_c, any_kept = counts(c, _PART_RECHECK)
            if not any_kept and self._refuse_idle_children:
                raise ValueError(
                    f"{kind} of {names}: no point of the boundary of domains[{c}] "
                    f"({names[c]!r}) lies on the boundary of the result, so it changes nothing "
                    f"({self._no_boundary_hint(c)}); move it or leave it out"
                )
            drawn += d_c
            kept += k_c
        return tuple(p for p, m, k in zip(self._parts, drawn, kept, strict=True) if m and not k)

    def _no_boundary_hint(self, c: int) -> str:
        return "it lies inside the other domains"

    @property
    def empty_parts(self) -> tuple[str, ...]:
        """Children's boundary parts with no point on this domain's boundary (found from
        :data:`_PART_PROBE` points on each child's boundary), e.g. the side of a rectangle that
        lies along a side of an earlier one."""
        return self._empty

    def _default_child_names(self, n: int) -> tuple[str, ...]:
        return tuple(f"{self._prefix}{i}" for i in range(n))

    def _box(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self._lo.copy(), self._hi.copy()

    @property
    def boundary_parts(self) -> tuple[str, ...]:
        return self._parts

    def parts_of(self, *child_names: str) -> tuple[str, ...]:
        """The boundary parts contributed by the children named ``child_names``."""
        unknown = [c for c in child_names if c not in self.child_names]
        if unknown:
            raise ValueError(f"child_names {unknown} unknown; children are {self.child_names}")
        return tuple(p for p in self._parts if any(p.startswith(f"{c}.") for c in child_names))

    @property
    def measure(self) -> float:
        """Volume, a quasi-Monte Carlo estimate (:data:`MC_POINTS` points in the bounding box)."""
        return self._measure

    @property
    def boundary_measure(self) -> float:
        """Boundary measure, a quasi-Monte Carlo estimate over the children's boundaries."""
        return self._bmeasure

    # interior: rejection from the bounding box
    def _interior_candidates(self, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pts = self._lo + unit * (self._hi - self._lo)
        return self.contains(pts), pts

    def interior(self, unit: np.ndarray) -> np.ndarray:
        """One interior point per unit point: the point mapped into the bounding box if inside,
        else a redraw from a generator seeded by ``unit`` (uniform either way)."""
        unit = _check_unit(unit, self.dim, f"{type(self).__name__}.interior")
        return _fill_rows(unit, self._rate, self._interior_candidates)[0]

    def sample_interior(self, n: int, unit: UnitSource) -> np.ndarray:
        """Rounds of ``unit`` points mapped into the bounding box; the first ``n`` inside."""
        return _draw_rounds(n, unit, self.dim, self._rate, self._interior_candidates)[0]

    # boundary: rejection from the children's boundaries
    def _boundary_candidates(
        self, unit: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Child chosen by boundary measure from ``u_0`` (its fractional position reused), a
        point of its boundary from the rest; kept where it lies on this domain's boundary."""
        cdf = self._child_bcdf
        k = np.clip(np.searchsorted(cdf, unit[:, 0], side="right") - 1, 0, len(cdf) - 2)
        n, d = unit.shape
        pts, normals = np.empty((n, d)), np.empty((n, d))
        tags = np.empty(n, dtype=np.int64)
        ok = np.zeros(n, dtype=bool)
        for c in range(len(self.children)):  # loop over children
            rows = np.nonzero(k == c)[0]
            if rows.size == 0:
                continue
            u = unit[rows].copy()
            u[:, 0] = np.clip((u[:, 0] - cdf[c]) / (cdf[c + 1] - cdf[c]), 0.0, np.nextafter(1, 0))
            ok[rows], pts[rows], normals[rows], tags[rows] = self._classify(c, u)
        return ok, pts, normals, tags

    def _classify(
        self, c: int, unit: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Points of child ``c``'s boundary from ``unit``: whether each lies on this domain's
        boundary, the points, this domain's outward normals there and the part tags."""
        b = self.children[c].boundary(unit)
        p, nrm, e = b.points, b.normals, self._eps
        ahead, behind = p + e * nrm, p - e * nrm
        in_ahead, in_behind = self.contains(ahead), self.contains(behind)
        out_side = in_behind & ~in_ahead  # on our boundary, same normal
        in_side = in_ahead & ~in_behind  # on our boundary, normal flipped
        keep = out_side | in_side
        for earlier in self.children[:c]:  # an earlier child already covers this piece
            keep &= earlier.contains(ahead) == earlier.contains(behind)
        normals = np.where(in_side[:, None], -nrm, nrm)
        return keep, p, normals, self._offsets[c] + b.tags

    def boundary(self, unit: np.ndarray) -> BoundarySample:
        """One boundary point per unit point (rejected rows redrawn from a generator seeded by
        ``unit``)."""
        unit = _check_unit(unit, self.dim, f"{type(self).__name__}.boundary")
        return BoundarySample(*_fill_rows(unit, self._brate, self._boundary_candidates))

    def sample_boundary(self, n: int, unit: UnitSource) -> BoundarySample:
        """Rounds of ``unit`` points through :meth:`_boundary_candidates`; the first ``n`` kept."""
        return BoundarySample(
            *_draw_rounds(n, unit, self.dim, self._brate, self._boundary_candidates)
        )

    def describe(self) -> dict:
        out = super().describe()
        out["children"] = [c.describe() for c in self.children]
        out["child_names"] = list(self.child_names)
        return out

    def __repr__(self) -> str:
        inner = ", ".join(repr(c) for c in self.children)
        return f"{type(self).__name__}({inner}, names={self.child_names})"


class Union(_CSG):
    r"""The union of domains; children named ``part0``, ``part1``, … unless ``names`` is given.

    ``distance`` is :math:`\max_i d_i`: exact sign and zero set, a lower bound of the true
    distance inside (approximate).
    """

    def _box(self) -> tuple[np.ndarray, np.ndarray]:
        lows, highs = zip(*(c.bounds for c in self.children), strict=True)
        return np.min(lows, axis=0), np.max(highs, axis=0)

    def contains(self, points: np.ndarray) -> np.ndarray:
        points = _check_points(points, self.dim, "Union.contains")
        out = np.zeros(len(points), dtype=bool)
        for c in self.children:
            out |= c.contains(points)
        return out

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Approximate distance to the boundary, positive inside: :math:`\\max_i d_i`."""
        points = _check_points(points, self.dim, "Union.distance")
        return np.max([distance_to_boundary(c, points) for c in self.children], axis=0)


class Intersection(_CSG):
    r"""The intersection of domains; children named ``part0``, ``part1``, … by default.

    ``distance`` is :math:`\min_i d_i`: exact sign and zero set, approximate magnitude outside.
    """

    def _box(self) -> tuple[np.ndarray, np.ndarray]:
        lows, highs = zip(*(c.bounds for c in self.children), strict=True)
        return np.max(lows, axis=0), np.min(highs, axis=0)

    _refuse_idle_children = False

    def contains(self, points: np.ndarray) -> np.ndarray:
        points = _check_points(points, self.dim, "Intersection.contains")
        out = np.ones(len(points), dtype=bool)
        for c in self.children:
            out &= c.contains(points)
        return out

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Approximate distance to the boundary, positive inside: :math:`\\min_i d_i`."""
        points = _check_points(points, self.dim, "Intersection.distance")
        return np.min([distance_to_boundary(c, points) for c in self.children], axis=0)


class Difference(_CSG):
    r"""``domains[0]`` with ``domains[1:]`` removed (the closure of the set difference).

    Children are named ``outer``, ``hole0``, ``hole1``, … unless ``names`` is given, so the parts
    of ``Rectangle(...) - Disk(...) - Disk(...)`` are ``outer.x_min``, …, ``hole0.boundary``,
    ``hole1.boundary`` (``a - b - c`` flattens to one difference). A hole's boundary normals point
    into the hole (outward from this domain). ``distance`` is
    :math:`\min(d_0, -d_1, -d_2, \dots)`: exact sign and zero set, approximate magnitude.
    """

    def _default_child_names(self, n: int) -> tuple[str, ...]:
        return ("outer", *(f"hole{i}" for i in range(n - 1)))

    def _box(self) -> tuple[np.ndarray, np.ndarray]:
        return self.children[0].bounds

    def _no_boundary_hint(self, c: int) -> str:
        if c == 0:
            return "its boundary lies inside the holes"
        return "a hole outside domains[0], or inside another hole"

    def contains(self, points: np.ndarray) -> np.ndarray:
        points = _check_points(points, self.dim, "Difference.contains")
        out = self.children[0].contains(points)
        for c in self.children[1:]:  # outside each hole's interior (its boundary kept)
            out &= distance_to_boundary(c, points) <= self._tol
        return out

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Approximate distance to the boundary, positive inside: :math:`\\min(d_0, -d_i)`."""
        points = _check_points(points, self.dim, "Difference.distance")
        out = distance_to_boundary(self.children[0], points)
        for c in self.children[1:]:
            out = np.minimum(out, -distance_to_boundary(c, points))
        return out


# -- meshes ---------------------------------------------------------------------------------------


def _simplex_point(vertices: np.ndarray, unit: np.ndarray) -> np.ndarray:
    r"""Uniform points in simplices ``vertices`` (N, k + 1, d) from ``unit`` (N, k): the spacings
    of the sorted unit coordinates are uniform barycentric weights."""
    n, k = unit.shape
    cuts = np.sort(unit, axis=1)
    w = np.diff(np.concatenate([np.zeros((n, 1)), cuts, np.ones((n, 1))], axis=1), axis=1)
    return np.einsum("nk,nkd->nd", w, vertices)


def _mesh_cells(mesh: meshio.Mesh, cell_type: str, n_points: int) -> np.ndarray:
    """The ``cell_type`` connectivity of ``mesh`` as one ``(E, d + 1)`` array, checked: no empty
    block, indices of existing points."""
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
    return cells


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
        import meshio

        if isinstance(path_or_mesh, meshio.Mesh):
            mesh = path_or_mesh
            self.source = "<meshio.Mesh>"
        elif isinstance(path_or_mesh, (str, os.PathLike)):
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
            self.source = str(path_or_mesh)
        else:
            raise ValueError(
                f"path_or_mesh must be a file path or a meshio.Mesh, got {type(path_or_mesh)}"
            )
        kinds = {block.type for block in mesh.cells}
        if "tetra" in kinds:
            d, cell_type, facet_type = 3, "tetra", "triangle"
        elif "triangle" in kinds:
            d, cell_type, facet_type = 2, "triangle", "line"
        else:
            raise ValueError(f"path_or_mesh has no triangle or tetra cells (found {sorted(kinds)})")
        pts = np.asarray(mesh.points, dtype=float)
        if pts.ndim != 2 or pts.shape[1] < d:
            raise ValueError(f"path_or_mesh: points of shape {pts.shape} for a {d}-D mesh")
        if pts.shape[1] > d and np.ptp(pts[:, d:], axis=0).max() > 0:
            raise ValueError(f"path_or_mesh: a {d}-D mesh must have constant extra coordinates")
        pts = pts[:, :d]
        if not np.all(np.isfinite(pts)):
            raise ValueError("path_or_mesh: points must be finite")
        cells = _mesh_cells(mesh, cell_type, len(pts))
        if len(cells) > MAX_MESH_CELLS:
            raise ValueError(
                f"path_or_mesh must hold at most {MAX_MESH_CELLS:,} {cell_type} cells, got "
                f"{len(cells):,}"
            )
        self.names = _check_names(names, d)
        self.points = pts
        self.cells = cells
        corners = pts[cells]  # (E, d + 1, d)
        jac = corners[:, 1:] - corners[:, :1]
        vol = np.abs(np.linalg.det(jac)) / math.factorial(d)
        flat = vol <= 1e-14 * vol.max()
        if np.any(flat):
            raise ValueError(
                f"path_or_mesh: cell {int(np.argmax(flat))} ({cell_type} "
                f"{cells[np.argmax(flat)].tolist()}) has zero volume"
            )
        self._volume = float(vol.sum())
        self._cell_cdf = np.concatenate([[0.0], np.cumsum(vol)]) / self._volume

        # Boundary facets: facets of exactly one cell; the left-out vertex orients them.
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
        self._facets = facets
        self._normals = normal / size[:, None]
        self._facet_measure = size / (1.0 if d == 2 else 2.0)
        self._bmeasure = float(self._facet_measure.sum())
        self._facet_cdf = np.concatenate([[0.0], np.cumsum(self._facet_measure)]) / self._bmeasure

        # Boundary parts from physical tags on facet blocks.
        tag_of = np.full(len(facets), -1, dtype=np.int64)
        physical = mesh.cell_data.get("gmsh:physical")
        if physical is not None:
            blocks = [
                (np.sort(np.asarray(b.data, dtype=np.int64), axis=1), np.asarray(t, dtype=np.int64))
                for b, t in zip(mesh.cells, physical, strict=True)
                if b.type == facet_type
            ]
            if blocks:
                tagged = np.concatenate([b[0] for b in blocks])
                tags = np.concatenate([b[1] for b in blocks])
                both = np.concatenate([key, tagged])
                _, inv = np.unique(both, axis=0, return_inverse=True)
                inv = inv.ravel()
                lookup = np.full(inv.max() + 1, -1, dtype=np.int64)
                lookup[inv[len(key) :]] = tags
                tag_of = lookup[inv[: len(key)]]
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
        self._parts = tuple(parts)
        ids_arr = np.array(ids, dtype=np.int64)
        self._facet_tag = np.where(tag_of >= 0, np.searchsorted(ids_arr, tag_of), len(ids)).astype(
            np.int64
        )
        self.digest = _mesh_digest(pts[cells], self._facet_tag)
        used = pts[np.unique(cells)]
        self._lo, self._hi = used.min(axis=0), used.max(axis=0)
        self._tol = _REL_TOL * float(np.linalg.norm(self._hi - self._lo))
        self._locator: list[tuple[cKDTree, np.ndarray, float]] | None = None  # built when needed
        self._facet_locator: tuple[cKDTree, list] | None = None

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self._lo.copy(), self._hi.copy()

    @property
    def boundary_parts(self) -> tuple[str, ...]:
        return self._parts

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
        p = _check_points(points, self.dim, "MeshDomain.contains")
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
        p = _check_points(points, self.dim, "MeshDomain.distance")
        d = self._facet_distance(p)
        return np.where(self.contains(p), d, -d)

    @staticmethod
    def _pick(cdf: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = np.clip(np.searchsorted(cdf, u, side="right") - 1, 0, len(cdf) - 2)
        return k, np.clip((u - cdf[k]) / (cdf[k + 1] - cdf[k]), 0.0, 1.0)

    def interior(self, unit: np.ndarray) -> np.ndarray:
        unit = _check_unit(unit, self.dim, "MeshDomain.interior")
        k, s = self._pick(self._cell_cdf, unit[:, 0])
        return _simplex_point(self.points[self.cells[k]], np.column_stack([s, unit[:, 1:]]))

    def boundary(self, unit: np.ndarray) -> BoundarySample:
        unit = _check_unit(unit, self.dim, "MeshDomain.boundary")
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


# -- operators on every Domain: a | b, a & b, a - b -----------------------------------------------


def _next_name(names: tuple[str, ...], stem: str, index: int) -> str:
    name = f"{stem}{index}"
    while name in names:
        index += 1
        name = f"{stem}{index}"
    return name


def _combine(kind: type[_CSG], a: Domain, b: Domain) -> _CSG:
    if type(a) is kind:  # flatten a | b | c into one node
        stem = "hole" if kind is Difference else "part"
        extra = len(a.children) - 1 if kind is Difference else len(a.children)
        names = (*a.child_names, _next_name(a.child_names, stem, extra))
        return kind(*a.children, b, names=names)
    return kind(a, b)


def _operator(kind: type[_CSG]):
    def op(self: Domain, other: object):
        if not isinstance(other, Domain):
            return NotImplemented
        return _combine(kind, self, other)

    op.__name__ = f"__{kind.__name__.lower()}__"
    op.__doc__ = f"``{kind.__name__}`` of the two domains (needs :mod:`neuralpde.geometry`)."
    return op


for _name, _kind in (("__or__", Union), ("__and__", Intersection), ("__sub__", Difference)):
    if not any(_name in vars(k) for k in Domain.__mro__):
        setattr(Domain, _name, _operator(_kind))
