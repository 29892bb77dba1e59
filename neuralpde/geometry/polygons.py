r"""Simple polygons: :class:`Polygon`, with its checks (simplicity, orientation) and its
ear-clipping triangulation."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .._arguments import real_coordinates
from ..domains import BoundarySample, Domain, check_domain_points, check_unit_points
from ..limits import MAX_VERTICES
from .common import REL_TOL, check_names

__all__ = ["Polygon"]


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from points ``p`` (N, 2) to the segment ``[a, b]``."""
    e = b - a
    t = np.clip(((p - a) @ e) / float(e @ e), 0.0, 1.0)
    return np.linalg.norm(p - a - t[:, None] * e, axis=1)


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
        self.names = check_names(names, 2)
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
        self._tol = REL_TOL * float(np.linalg.norm(hi - lo))

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

    def reentrant_corners(self) -> list[dict]:
        r"""The vertices whose interior angle :math:`\alpha` exceeds :math:`\pi`, each as
        ``{"at", "start", "angle", "radius", "clear", "parts"}``: the domain near the vertex is
        the sector from angle ``start`` (the outgoing edge's direction) counter-clockwise
        through ``angle`` = :math:`\alpha`; ``radius`` is the distance to the nearest edge not
        at the vertex (inside it, the domain is exactly that sector); ``clear`` whether the ray
        from the vertex along the bisector of the missing sector never meets the polygon again;
        ``parts`` the two edges' names."""
        n = len(self.vertices)
        e = self._b - self._a
        names = [part for part, _, _ in self.edges()]
        out = []
        for k in range(n):
            inc, out_edge = e[k - 1], e[k]
            turn = math.atan2(float(_cross(inc, out_edge)), float(np.dot(inc, out_edge)))
            if turn >= -1e-12:  # a left turn (or straight): convex there
                continue
            others = [j for j in range(n) if j not in (k, (k - 1) % n)]
            at = self.vertices[k]
            radius = min(
                float(_segment_distance(at[None, :], self._a[j], self._b[j])[0]) for j in others
            )
            start = math.atan2(float(out_edge[1]), float(out_edge[0]))
            angle = math.pi - turn
            away = start + 0.5 * angle + math.pi  # the bisector of the missing sector
            ray = np.array([math.cos(away), math.sin(away)])
            clear = not any(self._ray_meets(at, ray, j) for j in others)
            out.append(
                {
                    "at": [float(v) for v in at],
                    "start": start,
                    "angle": angle,
                    "radius": radius,
                    "clear": clear,
                    "parts": (names[(k - 1) % n], names[k]),
                }
            )
        return out

    def _ray_meets(self, origin: np.ndarray, direction: np.ndarray, j: int) -> bool:
        """Whether the ray ``origin + t direction`` (t > 0) meets edge ``j``."""
        a, e = self._a[j], self._b[j] - self._a[j]
        den = float(_cross(direction, e))
        w = a - origin
        if den == 0:  # parallel: it meets only if collinear and ahead
            return float(_cross(w, direction)) == 0 and (
                float(np.dot(w, direction)) > 0 or float(np.dot(w + e, direction)) > 0
            )
        t = float(_cross(w, e)) / den
        u = float(_cross(w, direction)) / den
        return t > 0 and -1e-12 <= u <= 1 + 1e-12

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
        p = check_domain_points(points, 2, "Polygon.contains")
        return self._crossings(p) | (self._edge_distance(p) <= self._tol)

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Exact distance to the nearest edge, positive inside."""
        p = check_domain_points(points, 2, "Polygon.distance")
        d = self._edge_distance(p)
        return np.where(self._crossings(p), d, -d)

    def interior(self, unit: np.ndarray) -> np.ndarray:
        unit = check_unit_points(unit, 2, "Polygon.interior")
        cdf = self._tri_cdf
        k = np.clip(np.searchsorted(cdf, unit[:, 0], side="right") - 1, 0, len(cdf) - 2)
        s = np.clip((unit[:, 0] - cdf[k]) / (cdf[k + 1] - cdf[k]), 0.0, 1.0)
        t = unit[:, 1]
        A, B, C = (x[k] for x in self._tri)
        r = np.sqrt(s)[:, None]
        return (1.0 - r) * A + r * (1.0 - t[:, None]) * B + r * t[:, None] * C

    def boundary(self, unit: np.ndarray) -> BoundarySample:
        unit = check_unit_points(unit, 2, "Polygon.boundary")
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
