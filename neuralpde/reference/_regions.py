"""Domains that are not boxes, for the finite-difference reference: the check of a domain, the
boundary parts and their conditions, the boundary crossings of the grid lines, the grid inside
the domain and its resolution checks, and domains from their descriptions (see
:mod:`~.irregular`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import qmc

from ..conditions import Condition, Dirichlet, Neumann, Robin
from ..domains import Box, Domain
from ..geometry import Ball, Difference, Disk, Intersection, Polygon, Union, distance_to_boundary
from ._grid import Grid, evaluate_numpy

__all__ = [
    "THETA_MIN",
    "PRESAMPLES",
    "check_region",
    "RegionData",
    "part_index",
    "first_crossing",
    "RegionGrid",
    "described_domain",
    "nodes_inside",
]

#: A boundary crossing (or signed distance) closer than this fraction of the grid spacing makes
#: its node a boundary node, which takes the Dirichlet value.
THETA_MIN = 1e-8
#: Points of a grid segment sampled for the first sign change of the signed distance.
PRESAMPLES = 4
#: How many times ``n`` is doubled to find a grid that resolves a domain the given one cannot.
_COVER = 1.5  # boundary points farther than this times sqrt(d) h_max from the crossings: missed
_SEED = 20240611

_SUPPORTED = (
    "Poisson and Helmholtz (steady), heat and wave (on SpaceTime of the domain) with Dirichlet, "
    "Neumann or Robin conditions on every boundary part, second order (Shortley-Weller, "
    "ghost nodes)"
)


def check_region(domain: Domain) -> None:
    """Refuse a spatial domain the reference cannot handle: one without a signed ``distance``
    (needed for the boundary crossings and nearest boundary points)."""
    if not callable(getattr(domain, "distance", None)):
        raise NotImplementedError(
            f"the finite-difference reference needs a Box, or a domain with a signed distance "
            f"(Disk, Ball, Polygon, Union/Intersection/Difference, MeshDomain) for {_SUPPORTED}; "
            f"got {type(domain).__name__}, which has no distance()"
        )


# -- boundary parts ------------------------------------------------------------------------------


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from points ``p`` (N, 2) to the segment ``[a, b]``."""
    e = b - a
    t = np.clip(((p - a) @ e) / float(e @ e), 0.0, 1.0)
    return np.linalg.norm(p - a - t[:, None] * e, axis=1)


def _tells_parts(domain: Domain) -> bool:
    """Whether :func:`part_index` tells the parts of ``domain`` apart."""
    if isinstance(domain, (Ball, Polygon, Box)) or len(domain.boundary_parts) == 1:
        return True
    if isinstance(domain, (Union, Intersection, Difference)):
        return all(_tells_parts(c) for c in domain.children)
    return False


def part_index(domain: Domain, points: np.ndarray) -> np.ndarray | None:
    """The index in ``domain.boundary_parts`` of the part nearest each boundary point, or
    ``None`` when the domain's parts cannot be told apart here (a mesh, an unknown type).

    A ball has one part; a polygon's is its nearest edge, a box's its nearest face; a CSG
    domain's is the part of its child with the smallest ``|distance|`` there."""
    points = np.asarray(points, dtype=np.float64)
    if not _tells_parts(domain):
        return None
    if isinstance(domain, Ball) or len(domain.boundary_parts) == 1:
        return np.zeros(len(points), dtype=np.int64)
    if isinstance(domain, Polygon):
        parts = domain.boundary_parts
        edges = domain.edges()
        dist = np.stack([_segment_distance(points, a, b) for _, a, b in edges], axis=1)
        names = np.array([parts.index(name) for name, _, _ in edges])
        return names[np.argmin(dist, axis=1)]
    if isinstance(domain, Box):
        lo, hi = domain.bounds
        gaps = np.stack(
            [g for i in range(domain.dim) for g in (points[:, i] - lo[i], hi[i] - points[:, i])],
            axis=1,
        )
        return np.argmin(np.abs(gaps), axis=1)
    if isinstance(domain, (Union, Intersection, Difference)):
        children = domain.children
        near = np.argmin(
            np.stack([np.abs(distance_to_boundary(c, points)) for c in children], axis=1), axis=1
        )
        out = np.empty(len(points), dtype=np.int64)
        offset = 0
        for c, child in enumerate(children):
            sel = np.flatnonzero(near == c)
            if sel.size:
                out[sel] = offset + part_index(child, points[sel])
            offset += len(child.boundary_parts)
        return out
    return None


class RegionData:
    """The boundary conditions (Dirichlet, Neumann, Robin) of a domain that is not a box, and
    their data at boundary points.

    Each part takes the last condition, in the problem's order, that names it; a point takes its
    part's (the nearest part, a Dirichlet one at a junction: :func:`_boundary.nearest_boundary`
    with ``prefer``). When one condition covers every part no part is looked up. With
    ``timed``, the data are functions of ``(x, t)`` and are evaluated with a time column.
    """

    def __init__(
        self, domain: Domain, conditions: Sequence[Condition], timed: bool = False
    ) -> None:
        self.domain = domain
        self.conditions = tuple(conditions)
        self.timed = timed
        parts = domain.boundary_parts
        owner = np.full(len(parts), -1)
        for c, cond in enumerate(self.conditions):
            for p in parts if cond.on is None else cond.on:
                owner[parts.index(p)] = c
        self.owner = owner
        #: per condition: Dirichlet (else a Neumann or Robin condition)
        self.dirichlet = np.array([isinstance(c, Dirichlet) for c in self.conditions], dtype=bool)
        self.prefer = (owner >= 0) & self.dirichlet[np.maximum(owner, 0)]
        used = sorted(set(owner[owner >= 0].tolist()))
        self.used = [self.conditions[c] for c in used]
        self.single = used[0] if len(used) == 1 else None
        if self.single is None and not _tells_parts(domain):
            raise NotImplementedError(
                f"the finite-difference reference cannot tell the boundary parts of a "
                f"{type(domain).__name__} apart at the grid's boundary points: give one "
                "condition for all its parts (its value may be any function of the points)"
            )

    @property
    def pure_flux(self) -> bool:
        """No part is Dirichlet and every Robin condition is a pure flux (``a = 0``): Poisson's
        solutions differ by constants."""
        return all(
            isinstance(c, Neumann) or (isinstance(c, Robin) and c.flux_only) for c in self.used
        )

    @property
    def mixed(self) -> bool:
        """Some part has a Neumann or Robin condition."""
        return not all(isinstance(c, Dirichlet) for c in self.used)

    def owners(self, parts: np.ndarray | None, n: int) -> np.ndarray:
        """The condition (an index into ``conditions``) of ``n`` points on the parts ``parts``
        (``None``: unknown, when one condition covers every part)."""
        if self.single is not None or parts is None:
            return np.full(n, self.single if self.single is not None else 0, dtype=np.int64)
        owner = self.owner[parts]
        if np.any(owner < 0):  # a point nearest a part no condition names (a CSG tie)
            owner = np.where(owner < 0, int(self.owner.max()), owner)
        return owner

    def _points(self, points: np.ndarray, t: float | None) -> np.ndarray:
        if not self.timed:
            return points
        return np.column_stack([points, np.full(len(points), float(t))])

    def values(self, cond: np.ndarray, points: np.ndarray, t: float | None = None) -> np.ndarray:
        """The data :math:`g` of the conditions ``cond`` at ``points`` (at time ``t``)."""
        out = np.zeros(len(points))
        for c in np.unique(cond):
            sel = np.flatnonzero(cond == c)
            con = self.conditions[c]
            v = evaluate_numpy(
                con.value, self._points(points[sel], t), f"{type(con).__name__}.value"
            )
            out[sel] = np.broadcast_to(v, (sel.size,))
        return out

    def coefficients(
        self, cond: np.ndarray, points: np.ndarray, t: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(a, b)`` of :math:`a u + b\\,\\partial_n u = g` at ``points``: ``(1, 0)``
        Dirichlet, ``(0, 1)`` Neumann, Robin's ``a`` and ``b``."""
        a, b = np.ones(len(points)), np.zeros(len(points))
        for c in np.unique(cond):
            sel = np.flatnonzero(cond == c)
            con = self.conditions[c]
            if isinstance(con, Neumann):
                a[sel], b[sel] = 0.0, 1.0
            elif isinstance(con, Robin):
                pts = self._points(points[sel], t)
                a[sel] = np.broadcast_to(evaluate_numpy(con.a, pts, "Robin.a"), (sel.size,))
                b[sel] = np.broadcast_to(evaluate_numpy(con.b, pts, "Robin.b"), (sel.size,))
        return a, b


# -- boundary crossings --------------------------------------------------------------------------


def _ball_crossing(ball: Ball, p: np.ndarray, axis: int, sign: int, h: float) -> np.ndarray:
    r"""The root :math:`t \ge 0` of :math:`|p - c + t\,s\,e_i|^2 = R^2`, in units of ``h``:
    :math:`t = -a + \sqrt{a^2 - q}` with :math:`a = s (p - c)_i`, :math:`q = |p - c|^2 - R^2`
    (:math:`-q / (a + \sqrt{a^2 - q})` when :math:`a > 0`, free of cancellation)."""
    d = p - ball.center
    a = sign * d[:, axis]
    q = np.einsum("ij,ij->i", d, d) - ball.radius**2
    root = np.sqrt(np.maximum(a * a - q, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(a > 0, -q / (a + root), root - a)
    return t / h


def _polygon_crossing(poly: Polygon, p: np.ndarray, axis: int, sign: int, h: float) -> np.ndarray:
    r"""The smallest :math:`t \ge 0` with :math:`p + t\,w` on an edge, :math:`w = s h e_i`: for
    the edge :math:`A + u E`, :math:`t = (r \times E)/(w \times E)`, :math:`u = (r \times w)/(w
    \times E)`, :math:`r = A - p`; edges parallel to :math:`w` are skipped (their ends are on
    the neighbouring edges). ``inf`` where no edge is met."""
    w = np.zeros(2)
    w[axis] = sign * h
    best = np.full(len(p), np.inf)
    eps = 1e-12
    for _, a, b in poly.edges():  # loop over edges, vectorised over points
        e = b - a
        denom = w[0] * e[1] - w[1] * e[0]
        if denom == 0:
            continue
        r = a - p
        t = (r[:, 0] * e[1] - r[:, 1] * e[0]) / denom
        u = (r[:, 0] * w[1] - r[:, 1] * w[0]) / denom
        hit = (u >= -eps) & (u <= 1 + eps) & (t >= -eps)
        best = np.where(hit, np.minimum(best, np.maximum(t, 0.0)), best)
    return best


def _distance_crossing(domain: Domain, p: np.ndarray, axis: int, sign: int, h: float) -> np.ndarray:
    """The first zero of the signed distance along ``p + t s h e_i``, ``0 <= t <= 1``: the first
    of :data:`PRESAMPLES` points where it is negative brackets it with the one before, and the
    Illinois method refines the bracket (to ``1e-13`` or a distance below ``1e-14 h``). Rows
    where the distance never turns negative get ``t = 1``."""
    m = len(p)
    step = np.zeros(p.shape[1])
    step[axis] = sign * h

    def g(rows: np.ndarray, t: np.ndarray) -> np.ndarray:
        return distance_to_boundary(domain, p[rows] + t[:, None] * step)

    rows = np.arange(m)
    lo, flo = np.zeros(m), g(rows, np.zeros(m))
    hi, fhi = np.ones(m), np.full(m, np.nan)
    open_ = np.ones(m, dtype=bool)  # no negative value found yet
    for k in range(1, PRESAMPLES + 1):
        t = np.full(int(open_.sum()), k / PRESAMPLES)
        idx = np.flatnonzero(open_)
        ft = g(idx, t)
        neg = ft < 0
        hi[idx[neg]], fhi[idx[neg]] = t[neg], ft[neg]
        lo[idx[~neg]], flo[idx[~neg]] = t[~neg], ft[~neg]
        open_[idx[neg]] = False
    theta = np.ones(m)
    act = np.flatnonzero(~open_)
    a, fa, b, fb = lo[act], np.maximum(flo[act], 0.0), hi[act], fhi[act]
    side = np.zeros(len(act), dtype=np.int8)
    done = np.zeros(len(act), dtype=bool)
    best = 0.5 * (a + b)
    for _ in range(100):
        live = np.flatnonzero(~done)
        if live.size == 0:
            break
        al, bl, fal, fbl = a[live], b[live], fa[live], fb[live]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (al * fbl - bl * fal) / (fbl - fal)
        bad = ~np.isfinite(t) | (t <= al) | (t >= bl)
        t = np.where(bad, 0.5 * (al + bl), t)
        ft = g(act[live], t)
        best[live] = t
        ins = ft >= 0
        # the new point replaces the end of its sign; Illinois halves the other end's value
        # when the same end is replaced twice running
        keep_a = ins & (side[live] == 1)
        keep_b = ~ins & (side[live] == -1)
        fb[live[keep_a]] *= 0.5
        fa[live[keep_b]] *= 0.5
        a[live[ins]], fa[live[ins]] = t[ins], ft[ins]
        b[live[~ins]], fb[live[~ins]] = t[~ins], ft[~ins]
        side[live] = np.where(ins, 1, -1)
        done[live] = (np.abs(ft) <= 1e-14 * h) | (b[live] - a[live] <= 1e-13)
    theta[act] = best
    return theta


def first_crossing(domain: Domain, p: np.ndarray, axis: int, sign: int, h: float) -> np.ndarray:
    r""":math:`\theta \in [0, 1]`: the grid line from the inside points ``p`` along
    :math:`s e_i` (``sign`` :math:`s = \pm 1`) first leaves ``domain`` at :math:`p + \theta h
    s e_i`; exact for balls and polygons, by root-finding on the signed distance otherwise."""
    if len(p) == 0:
        return np.zeros(0)
    if isinstance(domain, Ball):
        t = _ball_crossing(domain, p, axis, sign, h)
    elif isinstance(domain, Polygon):
        t = _polygon_crossing(domain, p, axis, sign, h)
        miss = ~np.isfinite(t)
        if miss.any():  # not expected from an inside point with an outside neighbour
            t[miss] = _distance_crossing(domain, p[miss], axis, sign, h)
    else:
        t = _distance_crossing(domain, p, axis, sign, h)
    return np.clip(np.nan_to_num(t, nan=1.0), 0.0, 1.0)


# -- the grid inside the domain ------------------------------------------------------------------


class RegionGrid:
    r"""The nodes of a bounding-box :class:`Grid` inside ``domain`` and where their grid lines
    leave it.

    ``inside`` (full-grid mask); ``bnodes`` (flat indices of the boundary nodes: on a face of
    the bounding box or within :data:`THETA_MIN` spacings of the boundary) and ``cand`` (the
    other inside nodes); ``theta[i, k]`` (axis ``i``, ``k = 0`` the minus and 1 the plus side)
    over ``cand`` and ``crossing[i, k]``, whether that side's neighbour is outside, the grid
    line leaving the domain at ``points[i][k]``.
    """

    def __init__(self, domain: Domain, grid: Grid) -> None:
        self.domain, self.grid = domain, grid
        d, h = grid.d, grid.h
        pts = grid.points()
        self.inside = np.asarray(domain.contains(pts), dtype=bool)
        idx = np.flatnonzero(self.inside)
        multi = np.unravel_index(idx, grid.shape)
        on_face = np.zeros(len(idx), dtype=bool)
        for i in range(d):
            on_face |= (multi[i] == 0) | (multi[i] == grid.n[i])
        tiny = THETA_MIN * float(np.min(h))
        near = np.abs(distance_to_boundary(domain, pts[idx])) <= tiny
        bound = on_face | near
        self.bnodes = idx[bound]
        cand = idx[~bound]
        self.cand = cand
        self.strides = np.array([int(np.prod(grid.shape[i + 1 :])) for i in range(d)])
        theta = np.ones((d, 2, len(cand)))
        crossing = np.zeros((d, 2, len(cand)), dtype=bool)
        for i in range(d):
            for k, s in enumerate((-1, 1)):
                out = ~self.inside[cand + s * self.strides[i]]
                rows = np.flatnonzero(out)
                crossing[i, k, rows] = True
                theta[i, k, rows] = first_crossing(domain, pts[cand[rows]], i, s, float(h[i]))
        self.theta, self.crossing = theta, crossing
        cpts = pts[cand]
        self.points = [
            [
                cpts[crossing[i, k]]
                + np.outer(theta[i, k, crossing[i, k]] * s * h[i], np.eye(d)[i])
                for k, s in enumerate((-1, 1))
            ]
            for i in range(d)
        ]
        self._pts = pts

    @property
    def node_points(self) -> np.ndarray:
        """The coordinates of every node of the grid, ``(size, d)``."""
        return self._pts

    def boundary_points(self) -> np.ndarray:
        """The boundary nodes and the crossing points, ``(N, d)``: where the grid meets the
        boundary."""
        parts = [self._pts[self.bnodes]] + [p for side in self.points for p in side]
        return np.concatenate(parts) if parts else np.zeros((0, self.grid.d))

    def unresolved(self) -> str | None:
        """Why this grid cannot resolve the domain, or ``None``: see the module doc."""
        grid, domain, pts = self.grid, self.domain, self._pts
        d, h = grid.d, grid.h
        for i in range(d):
            base = np.flatnonzero(self.inside)
            base = base[np.unravel_index(base, grid.shape)[i] < grid.n[i]]
            base = base[self.inside[base + self.strides[i]]]
            mid = pts[base].copy()
            mid[:, i] += 0.5 * h[i]
            out = np.flatnonzero(~np.asarray(domain.contains(mid), dtype=bool))
            if out.size:
                x = _fmt(mid[out[0]])
                return (
                    f"the grid segment through {x} joins two nodes inside the domain but leaves "
                    "it (a hole, slit or channel narrower than the grid spacing)"
                )
        seen = self.boundary_points()
        measure = float(getattr(domain, "boundary_measure", 0.0) or 0.0)
        want = 8.0 * measure / float(np.min(h)) ** (d - 1) if measure > 0 else 4096.0
        m = 2 ** int(min(15, max(8, math.ceil(math.log2(max(want, 1.0))))))
        unit = qmc.Sobol(d, scramble=True, seed=_SEED).random(m)
        sample = np.asarray(domain.boundary(unit).points, dtype=np.float64)
        limit = _COVER * math.sqrt(d) * float(np.max(h))
        if len(seen) == 0:
            return "no grid line meets the boundary"
        gap, _ = cKDTree(seen).query(sample)
        worst = int(np.argmax(gap))
        if gap[worst] > limit:
            return (
                f"the boundary point {_fmt(sample[worst])} lies {gap[worst]:.3g} from every "
                f"point where the grid meets the boundary, more than {_COVER:g} sqrt(d) grid "
                "spacings (a hole, island, spike or channel the grid lines miss)"
            )
        return None


def _fmt(x: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in x) + ")"


# -- domains from their descriptions -------------------------------------------------------------

_BOXES = ("Box", "Interval", "Rectangle")
_CSG = {"Union": Union, "Intersection": Intersection, "Difference": Difference}


def described_domain(desc: object) -> Domain | None:
    """The domain a description (:meth:`~neuralpde.domains.Domain.describe`) stands for, for
    the types it determines: boxes, balls, disks, polygons, and CSG domains of them; ``None``
    for others (a mesh names its file, not its cells). ``ValueError``, ``KeyError`` or
    ``TypeError`` for a description that is damaged."""
    if not isinstance(desc, dict):
        return None
    kind, names = desc.get("type"), desc.get("names")
    if kind in _BOXES:
        return Box(desc["lower"], desc["upper"], names=names)
    if kind == "Disk":
        return Disk(desc["center"], desc["radius"], names=names)
    if kind == "Ball":
        return Ball(desc["center"], desc["radius"], names=names)
    if kind == "Polygon":
        return Polygon(desc["vertices"], names=names)
    if kind in _CSG:
        children = [described_domain(c) for c in desc["children"]]
        if any(c is None for c in children):
            return None
        return _CSG[kind](*children, names=desc.get("child_names"))
    return None


def nodes_inside(domain: object, axes: Sequence[np.ndarray]) -> np.ndarray | None:
    """Which nodes of the tensor grid ``axes`` lie inside the domain described by ``domain``
    (a :meth:`~neuralpde.domains.Domain.describe` dictionary; ``contains``, boundary included),
    as a boolean array of the grid's shape; ``None`` when the description does not determine
    the domain (:func:`described_domain`). A reference on a domain that is not a box is NaN
    exactly at the other nodes. For ``SpaceTime`` of a domain (one axis more, time last) a node
    is inside when its space part is: every time level alike."""
    axes = [np.asarray(a, dtype=np.float64) for a in axes]
    if isinstance(domain, dict) and domain.get("type") == "SpaceTime" and len(axes) >= 2:
        space = nodes_inside(domain.get("space"), axes[:-1])
        if space is None:
            return None
        return np.repeat(space[..., None], len(axes[-1]), axis=-1)
    region = described_domain(domain)
    if region is None:
        return None
    mesh = np.meshgrid(*axes, indexing="ij")
    pts = np.stack([m.ravel() for m in mesh], axis=1)
    return np.asarray(region.contains(pts), dtype=bool).reshape(tuple(len(a) for a in axes))
