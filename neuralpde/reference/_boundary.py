r"""Boundary geometry for the reference on domains that are not boxes: the nearest boundary
point of a point with the outward normal and the boundary part there (:func:`nearest_boundary`),
and quadrature over the domain (:func:`cell_weights` on the grid, :func:`domain_integrals` of
continuous data).

**Nearest points.** Exact for a :class:`~neuralpde.geometry.Ball` (radial projection, normal
:math:`(x - c)/|x - c|`), a :class:`~neuralpde.geometry.Polygon` (projection on the nearest
edge, that edge's normal) and a :class:`~neuralpde.domains.Box` (nearest face). A CSG domain
takes its nearest child's (normal flipped for the holes of a ``Difference``) when that point
lies on its own boundary; otherwise, and for any other domain with a signed ``distance``
(meshes), Newton's projection :math:`x \leftarrow x - d(x)\,\nabla d / |\nabla d|^2` (the
gradient by central differences) with the normal :math:`-\nabla d/|\nabla d|`. A point as near
(within :data:`TIE` of the domain's size) to several parts takes a ``preferred`` one (the
reference prefers Dirichlet parts: Dirichlet wins at the junctions, as on boxes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from ..domains import Box, Domain
from ..geometry import Ball, Difference, Intersection, Polygon, Union, distance_to_boundary

__all__ = ["TIE", "Foot", "nearest_boundary", "cell_weights", "domain_integrals"]

#: Relative to the domain's size: a point this much nearer one part than another is on it; within
#: it, the preferred part wins.
TIE = 1e-9
_NEWTON_STEPS = 8
_GAUSS = 24  # Gauss-Legendre points per direction of the continuous quadratures
_QMC_POINTS = 2**16
_SEED = 20240613


@dataclass
class Foot:
    """Nearest boundary points ``points`` (N, d), the outward unit ``normals`` there, the index
    of their ``parts`` in ``domain.boundary_parts`` (``None`` where they cannot be told apart:
    a mesh) and the ``distance`` from the given points."""

    points: np.ndarray
    normals: np.ndarray
    parts: np.ndarray | None
    distance: np.ndarray


def _size(domain: Domain) -> float:
    lo, hi = domain.bounds
    return float(np.linalg.norm(np.asarray(hi) - np.asarray(lo)))


def _ball(ball: Ball, x: np.ndarray) -> Foot:
    v = x - ball.center
    r = np.linalg.norm(v, axis=1)
    u = np.zeros_like(v)
    u[:, 0] = 1.0
    ok = r > 0
    u[ok] = v[ok] / r[ok, None]
    return Foot(
        ball.center + ball.radius * u, u, np.zeros(len(x), np.int64), np.abs(ball.radius - r)
    )


def _pick(scores: np.ndarray) -> np.ndarray:
    return np.argmin(scores, axis=1)


def _alignment(x: np.ndarray, feet: np.ndarray, normals: np.ndarray) -> np.ndarray:
    r""":math:`n \cdot (x - B)/|x - B|` for candidate feet ``(N, m, d)`` of the points ``x``
    (0 on the boundary): among parts as near, the one whose normal points at ``x`` is taken,
    so that a ghost beyond a corner is tied to its condition through the normal derivative."""
    v = x[:, None, :] - feet
    norm = np.linalg.norm(v, axis=2)
    dot = np.einsum("nmi,nmi->nm", v, normals)
    return np.where(norm > 0, dot / np.where(norm > 0, norm, 1.0), 0.0)


def _polygon(poly: Polygon, x: np.ndarray, prefer: np.ndarray, tie: float) -> Foot:
    parts = poly.boundary_parts
    feet, normals, dist, index = [], [], [], []
    for name, a, b in poly.edges():  # counter-clockwise: the outward normal is (e_y, -e_x)/|e|
        e = b - a
        t = np.clip(((x - a) @ e) / float(e @ e), 0.0, 1.0)
        q = a + t[:, None] * e
        feet.append(q)
        normals.append(np.array([e[1], -e[0]]) / math.hypot(*e))
        dist.append(np.linalg.norm(x - q, axis=1))
        index.append(parts.index(name))
    dist_a, index_a = np.stack(dist, axis=1), np.array(index)
    feet_a, normals_a = np.stack(feet, axis=1), np.stack(normals)
    align = _alignment(x, feet_a, np.broadcast_to(normals_a[None], feet_a.shape))
    k = _pick(dist_a - tie * (2 * prefer[index_a][None, :] + align))
    rows = np.arange(len(x))
    return Foot(feet_a[rows, k], normals_a[k], index_a[k], dist_a[rows, k])


def _box(box: Box, x: np.ndarray, prefer: np.ndarray, tie: float) -> Foot:
    lo, hi = box.bounds
    d = box.dim
    gaps = np.stack(
        [g for i in range(d) for g in (x[:, i] - lo[i], hi[i] - x[:, i])], axis=1
    )  # positive inside, face 2i + (upper)
    inside = (gaps >= 0).all(axis=1)
    # inside: the nearest face; outside: the face most violated
    n_faces = 2 * d
    feet_a = np.repeat(np.clip(x, lo, hi)[:, None, :], n_faces, axis=1)
    normals_a = np.zeros((len(x), n_faces, d))
    for f in range(n_faces):
        axis, upper = divmod(f, 2)
        feet_a[:, f, axis] = hi[axis] if upper else lo[axis]
        normals_a[:, f, axis] = 1.0 if upper else -1.0
    align = _alignment(x, feet_a, normals_a)
    # inside: the nearest face; outside: the face most violated (the most negative gap)
    score = gaps - tie * (2 * prefer[None, :] + align)
    face = _pick(score)
    rows = np.arange(len(x))
    feet = feet_a[rows, face]
    feet[~inside] = np.clip(x[~inside], lo, hi)
    return Foot(feet, normals_a[rows, face], face, np.linalg.norm(x - feet, axis=1))


def _gradient(domain: Domain, x: np.ndarray, step: float) -> np.ndarray:
    """The gradient of the signed distance by central differences."""
    g = np.empty_like(x)
    for i in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[i] = step
        g[:, i] = (distance_to_boundary(domain, x + e) - distance_to_boundary(domain, x - e)) / (
            2 * step
        )
    return g


def _unit(g: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(g, axis=1)
    return g / np.where(norm > 0, norm, 1.0)[:, None]


def _project(domain: Domain, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Newton's projection on the zero set of the signed distance, and the outward normal
    :math:`-\\nabla d / |\\nabla d|` there (on a mesh: a facet's normal on the facet, the
    direction from an edge or vertex to the point projected onto it)."""
    size = _size(domain)
    step = 1e-7 * size
    y = x.copy()
    for _ in range(_NEWTON_STEPS):
        d = distance_to_boundary(domain, y)
        if np.all(np.abs(d) <= 1e-14 * size):
            break
        g = _gradient(domain, y, step)
        y = y - (d / np.maximum(np.einsum("ij,ij->i", g, g), 1e-300))[:, None] * g
    return y, -_unit(_gradient(domain, y, step))


def _csg(domain, x: np.ndarray, prefer: np.ndarray, tie: float) -> Foot:
    children = domain.children
    signs = [
        -1.0 if isinstance(domain, Difference) and c > 0 else 1.0 for c in range(len(children))
    ]
    offsets = np.cumsum([0] + [len(c.boundary_parts) for c in children])
    feet = [
        nearest_boundary(c, x, prefer[offsets[k] : offsets[k + 1]]) for k, c in enumerate(children)
    ]
    pts_a = np.stack([f.points for f in feet], axis=1)
    nrm_a = np.stack([s * f.normals for s, f in zip(signs, feet, strict=True)], axis=1)
    pref = np.stack(
        [
            prefer[offsets[k] + f.parts] if f.parts is not None else np.zeros(len(x))
            for k, f in enumerate(feet)
        ],
        axis=1,
    )
    score = np.stack([f.distance for f in feet], axis=1)
    k = _pick(score - tie * (2 * pref + _alignment(x, pts_a, nrm_a)))
    rows = np.arange(len(x))
    pts, nrm = pts_a[rows, k], nrm_a[rows, k]
    parts = None
    if all(f.parts is not None for f in feet):
        parts = np.stack([offsets[j] + f.parts for j, f in enumerate(feet)], axis=1)[rows, k]
    size = _size(domain)
    off = np.abs(distance_to_boundary(domain, pts)) > 1e-10 * size
    if off.any():  # the child's point is not on this boundary (near a junction): project
        y, _ = _project(domain, x[off])
        again = _csg_at(domain, y, prefer, tie, signs, offsets)
        pts[off], nrm[off] = y, again.normals
        if parts is not None and again.parts is not None:
            parts[off] = again.parts
    return Foot(pts, nrm, parts, np.linalg.norm(x - pts, axis=1))


def _csg_at(domain, y: np.ndarray, prefer, tie, signs, offsets) -> Foot:
    """Normals and parts at points ``y`` on the boundary of a CSG domain: the child's whose
    boundary is nearest."""
    feet = [
        nearest_boundary(c, y, prefer[offsets[k] : offsets[k + 1]])
        for k, c in enumerate(domain.children)
    ]
    k = _pick(np.stack([f.distance for f in feet], axis=1))
    rows = np.arange(len(y))
    nrm = np.stack([s * f.normals for s, f in zip(signs, feet, strict=True)], axis=1)[rows, k]
    parts = None
    if all(f.parts is not None for f in feet):
        parts = np.stack([offsets[j] + f.parts for j, f in enumerate(feet)], axis=1)[rows, k]
    return Foot(y, nrm, parts, np.zeros(len(y)))


def nearest_boundary(domain: Domain, x: np.ndarray, prefer: np.ndarray | None = None) -> Foot:
    """The nearest boundary point of each point ``x`` (N, d), with its outward normal and part
    (see the module doc); ``prefer`` (a mask over ``domain.boundary_parts``) breaks ties."""
    x = np.asarray(x, dtype=np.float64)
    if prefer is None:
        prefer = np.zeros(len(domain.boundary_parts), dtype=bool)
    prefer = np.asarray(prefer, dtype=np.float64)
    if len(x) == 0:
        return Foot(
            np.zeros((0, x.shape[1])), np.zeros((0, x.shape[1])), np.zeros(0, np.int64), np.zeros(0)
        )
    tie = TIE * _size(domain)
    if isinstance(domain, Ball):
        return _ball(domain, x)
    if isinstance(domain, Polygon):
        return _polygon(domain, x, prefer, tie)
    if isinstance(domain, Box):
        return _box(domain, x, prefer, tie)
    if isinstance(domain, (Union, Intersection, Difference)):
        return _csg(domain, x, prefer, tie)
    y, nrm = _project(domain, x)
    parts = np.zeros(len(x), np.int64) if len(domain.boundary_parts) == 1 else None
    return Foot(y, nrm, parts, np.linalg.norm(x - y, axis=1))


# -- quadrature ----------------------------------------------------------------------------------


def _halfspace_fraction(c0: np.ndarray, b: np.ndarray) -> np.ndarray:
    r"""The volume of :math:`\{y \in [0, 1]^d : c_0 + b \cdot y > 0\}`.

    With :math:`\beta = |b|` (the axes with :math:`b_i > 0` flipped) it is
    :math:`\{\beta \cdot y < T\}`, :math:`T = c_0 + \sum_i \max(b_i, 0)`, of volume
    :math:`\frac{1}{k!\prod \beta_i}\sum_{v \subseteq S}(-1)^{|v|}(T - \sum_{i \in v}
    \beta_i)_+^k` over the :math:`k` axes :math:`S` with :math:`\beta_i` above :math:`10^{-6}
    \max \beta` (the others do not change it)."""
    n, d = b.shape
    T = c0 + np.maximum(b, 0.0).sum(axis=1)
    beta = np.abs(b)
    active = beta > 1e-6 * np.maximum(beta.max(axis=1, keepdims=True), 1e-300)
    out = np.empty(n)
    codes = active @ (1 << np.arange(d))
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        axes = [i for i in range(d) if code >> i & 1]
        k = len(axes)
        t = T[rows]
        if k == 0:
            out[rows] = (t > 0).astype(float)
            continue
        bs = beta[np.ix_(rows, axes)]
        total = np.zeros(len(rows))
        for mask in range(1 << k):
            pick = [j for j in range(k) if mask >> j & 1]
            s = t - bs[:, pick].sum(axis=1)
            total += (-1) ** len(pick) * np.maximum(s, 0.0) ** k
        out[rows] = total / (math.factorial(k) * np.prod(bs, axis=1))
    return np.clip(out, 0.0, 1.0)


def cell_weights(domain: Domain, grid, inside: np.ndarray) -> np.ndarray:
    r"""Quadrature weights on the grid's nodes (zero outside): :math:`\int_\Omega F \approx
    \sum_j w_j F(x_j)` to :math:`O(h^2)`.

    Each cell gives its volume inside the domain in equal shares to its corners inside it: the
    whole cell when every corner is inside, else the part of the cell where the linear
    least-squares fit of the signed distance at its corners is positive
    (:func:`_halfspace_fraction`), exact for a planar boundary. The share is a first-order
    rule on a cut cell, of volume :math:`O(h^d)`, and there are :math:`O(h^{1-d})` of them:
    :math:`O(h^2)` in all, as the trapezoidal rule on the cells inside."""
    d, shape = grid.d, grid.shape
    strides = np.array([int(np.prod(shape[i + 1 :])) for i in range(d)])
    base = np.arange(grid.size)
    multi = np.unravel_index(base, shape)
    keep = np.ones(grid.size, dtype=bool)
    for i in range(d):
        keep &= multi[i] < grid.n[i]
    base = base[keep]
    corners = np.array([[(v >> i) & 1 for i in range(d)] for v in range(1 << d)])
    offsets = corners @ strides
    idx = base[:, None] + offsets[None, :]  # (cells, 2^d)
    ins = inside[idx]
    count = ins.sum(axis=1)
    vol = float(np.prod(grid.h))
    frac = (count == 1 << d).astype(float)
    cut = np.flatnonzero((count > 0) & (count < 1 << d))
    if cut.size:
        phi = np.zeros(grid.size)
        used = np.unique(idx[cut])
        phi[used] = distance_to_boundary(domain, grid.points(used))
        pc = phi[idx[cut]]
        b = np.stack(
            [
                pc[:, corners[:, i] == 1].mean(axis=1) - pc[:, corners[:, i] == 0].mean(axis=1)
                for i in range(d)
            ],
            axis=1,
        )
        c0 = pc.mean(axis=1) - 0.5 * b.sum(axis=1)
        frac[cut] = _halfspace_fraction(c0, b)
    share = np.where(count > 0, frac * vol / np.maximum(count, 1), 0.0)
    w = np.zeros(grid.size)
    np.add.at(w, idx[ins], np.broadcast_to(share[:, None], ins.shape)[ins])
    return w


def _gauss(lo: float, hi: float, m: int = _GAUSS) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(m)
    return lo + (x + 1) * (hi - lo) / 2, w * (hi - lo) / 2


def _ball_rules(ball: Ball) -> tuple[tuple, tuple] | None:
    """Volume and surface rules of a disk or 3-D ball: Gauss-Legendre in the radius (and the
    polar angle's cosine), the trapezoidal rule in the azimuth (spectral for periodic data)."""
    d, R, c = ball.dim, ball.radius, ball.center
    r, wr = _gauss(0.0, R)
    m = 2 * _GAUSS
    phi = 2 * np.pi * np.arange(m) / m
    wphi = np.full(m, 2 * np.pi / m)
    if d == 2:
        dirs, wd = np.column_stack([np.cos(phi), np.sin(phi)]), wphi
    elif d == 3:
        mu, wmu = _gauss(-1.0, 1.0)
        s = np.sqrt(1 - mu**2)
        dirs = np.stack(
            [np.outer(s, np.cos(phi)), np.outer(s, np.sin(phi)), np.outer(mu, np.ones(m))], axis=-1
        ).reshape(-1, 3)
        wd = np.outer(wmu, wphi).ravel()
    else:
        return None
    vol_pts = (c + r[:, None, None] * dirs[None]).reshape(-1, d)
    vol_w = (wr[:, None] * r[:, None] ** (d - 1) * wd[None]).ravel()
    surf = (c + R * dirs, R ** (d - 1) * wd, dirs)
    return (vol_pts, vol_w), surf


def _polygon_rules(poly: Polygon) -> tuple[tuple, tuple]:
    r"""Volume and edge rules of a polygon. The area integral by Green's theorem,
    :math:`\int_\Omega F = \oint G\, n_x\, ds` with :math:`G(x, y) = \int_{x_0}^x F(s, y)\,ds`:
    Gauss-Legendre on each edge and along each segment from :math:`x_0` (any polygon)."""
    x0 = float(poly.vertices[:, 0].min())
    s, ws = np.polynomial.legendre.leggauss(_GAUSS)
    vol_pts, vol_w, edge_pts, edge_w, edge_n, edge_part = [], [], [], [], [], []
    parts = poly.boundary_parts
    for name, a, b in poly.edges():
        e = b - a
        length = math.hypot(*e)
        n = np.array([e[1], -e[0]]) / length
        t, wt = (s + 1) / 2, ws / 2
        p = a + t[:, None] * e
        edge_pts.append(p)
        edge_w.append(wt * length)
        edge_n.append(np.repeat(n[None], len(t), axis=0))
        edge_part.append(np.full(len(t), parts.index(name)))
        if n[0] == 0:
            continue
        for pk, wk in zip(p, wt * length * n[0], strict=True):
            xs, wx = _gauss(x0, float(pk[0]))
            vol_pts.append(np.column_stack([xs, np.full(len(xs), pk[1])]))
            vol_w.append(wx * wk)
    return (
        (np.concatenate(vol_pts), np.concatenate(vol_w)),
        (
            np.concatenate(edge_pts),
            np.concatenate(edge_w),
            np.concatenate(edge_n),
            np.concatenate(edge_part),
        ),
    )


def domain_integrals(domain: Domain) -> tuple[tuple, tuple, bool]:
    """``((points, weights), (boundary points, weights, parts), exact)``: rules for
    :math:`\\int_\\Omega F` and :math:`\\oint_{\\partial\\Omega} G` (``parts`` indexes
    ``domain.boundary_parts``, ``None`` when unknown). Gauss rules for disks, 3-D balls and
    polygons (``exact``: to rounding for smooth data); otherwise quasi-Monte Carlo
    (:data:`_QMC_POINTS` scrambled Sobol points in the bounding box, and on the boundary by
    ``domain.boundary``), good to about :math:`10^{-3}`."""
    if isinstance(domain, Ball):
        rules = _ball_rules(domain)
        if rules is not None:
            (vp, vw), (bp, bw, _) = rules
            return (vp, vw), (bp, bw, np.zeros(len(bp), np.int64)), True
    if isinstance(domain, Polygon):
        (vp, vw), (bp, bw, _, bparts) = _polygon_rules(domain)
        return (vp, vw), (bp, bw, bparts), True
    d = domain.dim
    lo, hi = domain.bounds
    unit = qmc.Sobol(d, scramble=True, seed=_SEED).random(_QMC_POINTS)
    pts = lo + unit * (hi - lo)
    inside = np.asarray(domain.contains(pts), dtype=bool)
    vol_w = np.where(inside, float(np.prod(hi - lo)) / len(pts), 0.0)
    b = domain.boundary(qmc.Sobol(d, scramble=True, seed=_SEED + 1).random(_QMC_POINTS))
    measure = float(getattr(domain, "boundary_measure", 0.0) or 0.0)
    bw = np.full(len(b.points), measure / len(b.points))
    return (pts[inside], vol_w[inside]), (b.points, bw, np.asarray(b.tags, np.int64)), False
