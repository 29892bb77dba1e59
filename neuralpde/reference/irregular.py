r"""Steady problems on domains that are not boxes: the Shortley–Weller scheme.

Poisson :math:`-\Delta u = f` and Helmholtz :math:`\Delta u + k^2 u = f` (constant or variable
``f`` and ``k``) with Dirichlet data on a :class:`~neuralpde.geometry.Disk`,
:class:`~neuralpde.geometry.Ball`, :class:`~neuralpde.geometry.Polygon`, a CSG domain
(:class:`~neuralpde.geometry.Union`, :class:`~neuralpde.geometry.Intersection`,
:class:`~neuralpde.geometry.Difference`), a :class:`~neuralpde.geometry.MeshDomain` or any
domain with a signed ``distance`` (positive inside).

**Grid.** The uniform grid of the domain's bounding box; the nodes inside the closed domain
(``contains``) carry values, the others are NaN. An inside node within :data:`THETA_MIN` grid
spacings of the boundary (by the signed distance, or by a crossing below), or on a face of the
bounding box (which lies on the boundary), is a *boundary node*: it takes the Dirichlet value
there. The other inside nodes are the unknowns.

**Scheme.** Along axis :math:`i`, the neighbour at :math:`\pm h_i e_i` of an unknown :math:`P`
is replaced, when it lies outside, by the first point where the grid line leaves the domain,
at distance :math:`\theta_\pm h_i`, :math:`0 < \theta_\pm \le 1` (:math:`\theta = 1` for an
inside neighbour), with the Dirichlet value there:

.. math::

   \delta_i^2 u_P = \frac{2}{h_i^2}\Big[\frac{u_+}{\theta_+(\theta_+ + \theta_-)}
   + \frac{u_-}{\theta_-(\theta_+ + \theta_-)} - \frac{u_P}{\theta_+\theta_-}\Big],

exact for quadratics, so its local error is :math:`O(h)` at the nodes next to the boundary and
:math:`O(h^2)` elsewhere; the discrete maximum principle (the matrix is an M-matrix for
Poisson) makes the global error :math:`O(h^2)` (Shortley and Weller 1938; Bramble and Hubbard
1962). :math:`\Delta_h = \sum_i \delta_i^2`; Poisson solves :math:`\Delta_h u = -f`, Helmholtz
:math:`(\Delta_h + k^2) u = f` (the box solver's signs), each row scaled by
:math:`\sum_i 2 / (h_i^2 \theta_+ \theta_-)` and solved by sparse LU (SuperLU, nested-dissection
order of the box restricted to the unknowns). A crossing closer than :data:`THETA_MIN` makes
its node a boundary node, so no coefficient exceeds :math:`2 / (\theta_\min h^2)`.

**Crossings.** Exact for a ball (the root of :math:`|P + t e - c|^2 = R^2`) and a polygon
(segment–edge intersection, the nearest edge); otherwise the first sign change of the signed
distance among :data:`PRESAMPLES` points of the grid segment, refined by the Illinois
(modified regula falsi) method to :math:`10^{-13} h`.

**Resolution** (:meth:`RegionGrid.unresolved`, before anything is solved): a grid is refused
when (a) the segment between two adjacent inside nodes leaves the domain at its midpoint (a
hole, slit or channel narrower than the spacing), or (b) a point of the boundary (a quasi-random
sample of ``domain.boundary``) lies farther than :math:`1.5\sqrt d\, h_{\max}` from every point
where the grid meets the boundary (a hole, island or spike the grid lines miss). The message
names the finer grid (``n`` doubled, up to :data:`SEARCH_DOUBLINGS` times) that passes both.

Boundary parts with different Dirichlet conditions are told apart at each boundary point by the
nearest part: the edge of a polygon, the face of a box, the child of a CSG domain with the
smallest ``|distance|`` and then its own part; a mesh's parts cannot be told apart this way, so a
mesh takes one condition for all its parts.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.spatial import cKDTree
from scipy.stats import qmc

from ..conditions import Dirichlet
from ..domains import Box, Domain
from ..geometry import Ball, Difference, Disk, Intersection, Polygon, Union, distance_to_boundary
from ._grid import Grid, evaluate_numpy, nested_dissection
from ._spec import Spec
from .settings import check_method

__all__ = [
    "THETA_MIN",
    "PRESAMPLES",
    "SEARCH_DOUBLINGS",
    "check_region",
    "DirichletData",
    "part_index",
    "first_crossing",
    "RegionGrid",
    "solve_region",
    "describe_region",
    "described_domain",
    "nodes_inside",
]

log = logging.getLogger("neuralpde.reference")

#: A boundary crossing (or signed distance) closer than this fraction of the grid spacing makes
#: its node a boundary node, which takes the Dirichlet value.
THETA_MIN = 1e-8
#: Points of a grid segment sampled for the first sign change of the signed distance.
PRESAMPLES = 4
#: How many times ``n`` is doubled to find a grid that resolves a domain the given one cannot.
SEARCH_DOUBLINGS = 5
_SEARCH_NODES = 2**22  # the largest grid that search builds
_COVER = 1.5  # boundary points farther than this times sqrt(d) h_max from the crossings: missed
_SEED = 20240611

_SUPPORTED = (
    "Poisson and Helmholtz (steady) with Dirichlet conditions on every boundary part, second "
    "order (Shortley-Weller)"
)


def check_region(domain: Domain) -> None:
    """Refuse a spatial domain the Shortley–Weller reference cannot handle: one without a
    signed ``distance`` (needed for the boundary crossings)."""
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


class DirichletData:
    """The Dirichlet values at boundary points of a non-box domain.

    Each part takes the last condition, in the problem's order, that names it; a point takes its
    part's (:func:`part_index`). When one condition covers every part no part is looked up.
    """

    def __init__(self, domain: Domain, conditions: Sequence[Dirichlet]) -> None:
        self.domain = domain
        self.conditions = tuple(conditions)
        parts = domain.boundary_parts
        owner = np.full(len(parts), -1)
        for c, cond in enumerate(self.conditions):
            for p in parts if cond.on is None else cond.on:
                owner[parts.index(p)] = c
        self.owner = owner
        used = set(owner[owner >= 0].tolist())
        self.single = self.conditions[used.pop()] if len(used) == 1 else None
        if self.single is None and not _tells_parts(domain):
            raise NotImplementedError(
                f"the finite-difference reference cannot tell the boundary parts of a "
                f"{type(domain).__name__} apart at the grid's boundary points: give one "
                "Dirichlet condition for all its parts (its value may be any function of the "
                "points)"
            )

    def values(self, points: np.ndarray) -> np.ndarray:
        """The Dirichlet values at ``points`` (``(N, d)``, on the boundary)."""
        n = len(points)
        if n == 0:
            return np.zeros(0)
        if self.single is not None:
            v = evaluate_numpy(self.single.value, points, "Dirichlet.value")
            return np.array(np.broadcast_to(v, (n,)), dtype=np.float64)
        owner = self.owner[part_index(self.domain, points)]
        if np.any(owner < 0):  # a point nearest a part no condition names (a CSG tie)
            owner = np.where(owner < 0, int(self.owner.max()), owner)
        out = np.empty(n)
        for c, cond in enumerate(self.conditions):
            sel = np.flatnonzero(owner == c)
            if sel.size:
                v = evaluate_numpy(cond.value, points[sel], "Dirichlet.value")
                out[sel] = np.broadcast_to(v, (sel.size,))
        return out


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

    ``inside`` (full-grid mask), ``fixed`` (boundary nodes: flat indices) and ``unknowns``
    (flat indices); ``theta[i, k]`` (axis ``i``, ``k = 0`` the minus and 1 the plus side) over the
    unknowns and ``crossing[i, k]``, whether that side's neighbour is replaced by a boundary
    point, at ``points[i][k]``.
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
        fixed = on_face | near
        cand = idx[~fixed]
        self.strides = np.array([int(np.prod(grid.shape[i + 1 :])) for i in range(d)])
        theta = np.ones((d, 2, len(cand)))
        crossing = np.zeros((d, 2, len(cand)), dtype=bool)
        for i in range(d):
            for k, s in enumerate((-1, 1)):
                out = ~self.inside[cand + s * self.strides[i]]
                rows = np.flatnonzero(out)
                crossing[i, k, rows] = True
                theta[i, k, rows] = first_crossing(domain, pts[cand[rows]], i, s, float(h[i]))
        small = (crossing & (theta < THETA_MIN)).any(axis=(0, 1))
        self.fixed = np.sort(np.concatenate([idx[fixed], cand[small]]))
        self.unknowns = cand[~small]
        self.theta = theta[:, :, ~small]
        self.crossing = crossing[:, :, ~small]
        upts = pts[self.unknowns]
        self.points = [
            [
                upts[self.crossing[i, k]]
                + np.outer(self.theta[i, k, self.crossing[i, k]] * s * h[i], np.eye(d)[i])
                for k, s in enumerate((-1, 1))
            ]
            for i in range(d)
        ]
        self._pts = pts

    def boundary_points(self) -> np.ndarray:
        """The boundary nodes and the crossing points, ``(N, d)``: where the grid meets the
        boundary."""
        parts = [self._pts[self.fixed]] + [p for side in self.points for p in side]
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

    def assemble(self, data: DirichletData) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        r"""``(A, c, s)``: :math:`\Delta_h u = A u + c` at the unknowns (``c`` the Dirichlet
        values' part) and the row scales :math:`s = \sum_i 2 / (h_i^2 \theta_+ \theta_-)`."""
        grid, d = self.grid, self.grid.d
        nu = len(self.unknowns)
        pos = np.full(grid.size, -1)
        pos[self.unknowns] = np.arange(nu)
        g_node = np.zeros(grid.size)
        g_node[self.fixed] = data.values(self._pts[self.fixed])
        rows, cols, vals = [np.arange(nu)], [np.arange(nu)], []
        diag = np.zeros(nu)
        c = np.zeros(nu)
        r = np.arange(nu)
        for i in range(d):
            h2 = float(grid.h[i]) ** 2
            tm, tp = self.theta[i, 0], self.theta[i, 1]
            diag -= 2.0 / (h2 * tm * tp)
            for k, s in enumerate((-1, 1)):
                t = self.theta[i, k]
                coef = 2.0 / (h2 * t * (tm + tp))
                cross = self.crossing[i, k]
                nb = self.unknowns + s * self.strides[i]
                inner = ~cross & (pos[nb] >= 0)
                known = ~cross & ~inner
                rows.append(r[inner])
                cols.append(pos[nb[inner]])
                vals.append(coef[inner])
                c[known] += coef[known] * g_node[nb[known]]
                c[cross] += coef[cross] * data.values(self.points[i][k])
        vals.insert(0, diag)
        A = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nu, nu)
        )
        return A, c, -diag

    def fixed_values(self, data: DirichletData) -> np.ndarray:
        """The Dirichlet values at the boundary nodes (in the order of ``fixed``)."""
        return data.values(self._pts[self.fixed])

    def order(self) -> np.ndarray:
        """A fill-reducing order of the unknowns: the box's nested dissection restricted to
        them."""
        pos = np.full(self.grid.size, -1)
        pos[self.unknowns] = np.arange(len(self.unknowns))
        perm = pos[nested_dissection(self.grid.shape)]
        return perm[perm >= 0]


def _fmt(x: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in x) + ")"


def _too_coarse(spec: Spec, grid: Grid, reason: str) -> str:
    """The message refusing ``grid``, naming a finer grid that resolves the domain if one is
    found within :data:`SEARCH_DOUBLINGS` doublings of ``n``."""
    region = spec.region
    n = tuple(grid.n)
    need = None
    for m in range(1, SEARCH_DOUBLINGS + 1):
        finer = tuple(v * 2**m for v in n)
        if math.prod(v + 1 for v in finer) > _SEARCH_NODES:
            break
        if RegionGrid(region, Grid(spec.box, finer)).unresolved() is None:
            need = finer
            break
    fix = (
        f"a grid of n={list(need)} intervals resolves it: raise n to at least that (for "
        "convergence_study, the coarsest level's n)"
        if need is not None
        else f"no grid up to n={list(finer)} resolves it: simplify the domain, or widen its "
        "narrowest features"
    )
    h = "x".join(f"{v:.3g}" for v in grid.h)
    return (
        f"n={list(n)}: the grid of the {type(region).__name__}'s bounding box (spacing {h}) "
        f"cannot resolve the domain: {reason}; {fix}"
    )


def solve_region(
    spec: Spec, grid: Grid, method: str = "auto", *, helm: bool
) -> tuple[np.ndarray, str]:
    r"""Solve Poisson's (or, when ``helm``, Helmholtz's) equation on the nodes of ``grid`` inside
    ``spec.region`` by the Shortley–Weller scheme; the values on every node (shape
    ``grid.shape``, NaN outside the domain) and the linear solver's name."""
    check_method(method)
    if method == "dst":
        raise ValueError(
            f"method='dst' needs a Box domain; on a {type(spec.region).__name__} use 'auto' or "
            "'lu' (sparse LU)"
        )
    rg = RegionGrid(spec.region, grid)
    reason = rg.unresolved()
    if reason is not None:
        raise ValueError(_too_coarse(spec, grid, reason))
    data = DirichletData(spec.region, spec.dirichlet)
    out = np.full(grid.size, np.nan)
    out[rg.fixed] = rg.fixed_values(data)
    name = "sparse LU (SuperLU, nested dissection)"
    if len(rg.unknowns) == 0:
        return out.reshape(grid.shape), name
    A, c, scale = rg.assemble(data)
    eq = spec.equation
    pts = grid.points(rg.unknowns)
    nu = len(rg.unknowns)
    f = np.broadcast_to(evaluate_numpy(eq.f, pts, f"{type(eq).__name__}.f"), (nu,))
    if helm:
        k = evaluate_numpy(eq.k, pts, "Helmholtz.k")
        A = A + sp.diags(np.broadcast_to(k**2, (nu,)).astype(np.float64))
        b = f - c
    else:
        b = -f - c
    S = sp.diags(1.0 / scale)
    A, b = (S @ A).tocsr(), b / scale
    perm = rg.order()
    Ap = A[perm][:, perm].tocsc()
    try:
        lu = spla.splu(
            Ap, permc_spec="NATURAL", diag_pivot_thresh=0.1, options={"SymmetricMode": True}
        )
    except RuntimeError as exc:  # "Factor is exactly singular"
        raise ValueError(
            f"the discrete operator is singular ({exc}); for Helmholtz k^2 coincides with an "
            f"eigenvalue of the grid's Laplacian on the {type(spec.region).__name__}"
        ) from None
    u = np.empty(nu)
    u[perm] = lu.solve(b[perm])
    res = b - A @ u
    if np.linalg.norm(res) > 1e-13 * np.linalg.norm(b):  # one step of refinement
        du = np.empty(nu)
        du[perm] = lu.solve(res[perm])
        u += du
    out[rg.unknowns] = u
    log.debug(
        "%s: %d unknowns, %d boundary nodes inside the %s",
        spec.problem.name,
        nu,
        len(rg.fixed),
        type(spec.region).__name__,
    )
    return out.reshape(grid.shape), name


def describe_region(spec: Spec, solver: str) -> str:
    """The description of the Shortley–Weller scheme on ``spec.region`` with ``solver``."""
    return (
        f"{spec.family.name}: Shortley-Weller 2nd order, (2d+1)-point Laplacian on the grid "
        f"nodes inside the {type(spec.region).__name__} (Dirichlet data where the grid lines "
        f"meet its boundary; NaN outside it); {solver}"
    )


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
    exactly at the other nodes."""
    region = described_domain(domain)
    if region is None:
        return None
    axes = [np.asarray(a, dtype=np.float64) for a in axes]
    mesh = np.meshgrid(*axes, indexing="ij")
    pts = np.stack([m.ravel() for m in mesh], axis=1)
    return np.asarray(region.contains(pts), dtype=bool).reshape(tuple(len(a) for a in axes))
