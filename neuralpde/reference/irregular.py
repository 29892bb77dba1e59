r"""Problems on domains that are not boxes: the Shortley–Weller scheme with ghost nodes.

Poisson :math:`-\Delta u = f` and Helmholtz :math:`\Delta u + k^2 u = f` (constant or variable
``f`` and ``k``), and the heat and wave equations on ``SpaceTime`` of such a domain (time
stepping in :mod:`.evolution`), with Dirichlet, Neumann and Robin conditions
(:math:`a u + b\,\partial_n u = g`, :math:`n` the outward normal), any mix of them over the
boundary parts, on a :class:`~neuralpde.geometry.Disk`, :class:`~neuralpde.geometry.Ball`,
:class:`~neuralpde.geometry.Polygon`, a CSG domain (:class:`~neuralpde.geometry.Union`,
:class:`~neuralpde.geometry.Intersection`, :class:`~neuralpde.geometry.Difference`), a
:class:`~neuralpde.geometry.MeshDomain` or any domain with a signed ``distance`` (positive
inside).

**Grid.** The uniform grid of the domain's bounding box; the nodes inside the closed domain
(``contains``) carry values, the others are NaN. An inside node within :data:`THETA_MIN` grid
spacings of the boundary (by the signed distance, or by a Dirichlet crossing below), or on a
face of the bounding box (which lies on the boundary), is a *boundary node*: on a Dirichlet part
it takes the Dirichlet value there; on a Neumann or Robin part it is an unknown like the others.

**Dirichlet parts: Shortley–Weller.** Along axis :math:`i`, the neighbour at :math:`\pm h_i e_i`
of an unknown :math:`P` is replaced, when it lies outside and the grid line leaves the domain
through a Dirichlet part, by that first boundary point, at distance :math:`\theta_\pm h_i`,
:math:`0 < \theta_\pm \le 1` (:math:`\theta = 1` for an inside neighbour), with its Dirichlet
value:

.. math::

   \delta_i^2 u_P = \frac{2}{h_i^2}\Big[\frac{u_+}{\theta_+(\theta_+ + \theta_-)}
   + \frac{u_-}{\theta_-(\theta_+ + \theta_-)} - \frac{u_P}{\theta_+\theta_-}\Big],

exact for quadratics, so its local error is :math:`O(h)` at the nodes next to the boundary and
:math:`O(h^2)` elsewhere; the discrete maximum principle makes the global error :math:`O(h^2)`
(Shortley and Weller 1938; Bramble and Hubbard 1962). A crossing closer than :data:`THETA_MIN`
makes its node a boundary node, so no coefficient exceeds :math:`2 / (\theta_\min h^2)`.

**Neumann and Robin parts: ghost nodes.** When the grid line leaves through a Neumann or Robin
part, the outside neighbour :math:`G` (a grid node) is kept, at distance :math:`h_i`, as a
*ghost*, and the regular difference is used. Each ghost carries one equation: the condition
:math:`a u + b\,\partial_n u = g` (Neumann :math:`a = 0, b = 1`; Dirichlet :math:`a = 1, b = 0`
where the nearest part is Dirichlet) at the point :math:`B` of the boundary nearest to :math:`G`
(:func:`~._boundary.nearest_boundary`: exact for balls, polygons, boxes, by projection on the
signed distance otherwise), with the outward normal :math:`n` there, applied to the polynomial

.. math::

   q(x) = u_G + \sum_{1 \le |\alpha| \le 3} c_\alpha \Big(\frac{x - G}{h}\Big)^\alpha

through :math:`u_G`, fitted by weighted least squares (Gaussian weights of width
:data:`FIT_WIDTH` spacings around :math:`B`) to the inside nodes within :data:`FIT_RADII`
spacings of :math:`B` (at least twice as many as the fit's coefficients) that see :math:`B`
(the midpoint of the segment is inside): :math:`a\,q(B) + b\,n\cdot\nabla q(B) = g`, a sparse
row in :math:`u_G` and those nodes. The cubic needs four layers of nodes along the normal (hence
the radius of 3 spacings); where the nodes do not determine it (the fit does not reproduce
every cubic: thin parts, corners) a quadratic, then a linear fit is used. The cubic's ghost value
is :math:`O(h^4)`, so the local error at the nodes next to these parts is :math:`O(h^2)` and the
global error :math:`O(h^2)` with a regular leading term (a quadratic's :math:`O(h^3)` ghost
value, also second order, leaves a leading term that changes by ~10% from grid to grid on curved
boundaries, enough to spoil an observed order; ghost-point method of Coco and Russo 2013, with
least-squares stencils). Since :math:`G - B` points along :math:`n`, the ghost's coefficient is
of order :math:`1/h` in every row however near the boundary cuts the grid line: no
small-:math:`\theta` coefficients on these parts. A ghost row holds its ghost and inside nodes
only, so the ghosts are eliminated before solving (the rows next to the boundary widen to the
fits' nodes; the nested-dissection order is then taken on the graph, :func:`graph_dissection`).

**Pure Neumann.** With no Dirichlet part and every Robin condition a pure flux (``a = 0``),
Poisson (and Helmholtz with ``k = 0``) is singular: solutions differ by constants and exist only
for compatible data, :math:`\int_\Omega f + \oint g = 0`. The data are checked by Gauss rules
on disks, balls and polygons (quasi-Monte Carlo otherwise, :func:`~._boundary.domain_integrals`)
and by the discrete defect below; the system is bordered, :math:`A u + \lambda e = b`,
:math:`w^T u = 0`, with :math:`e` a constant shift of :math:`f` (which takes up the discrete
incompatibility) and :math:`w` second-order quadrature weights on the grid
(:func:`~._boundary.cell_weights`): the solution of zero mean over the domain is returned.

**The system.** Rows of the nodes: :math:`\Delta_h u = L u + c` (Poisson solves
:math:`\Delta_h u = -f`, Helmholtz :math:`(\Delta_h + k^2) u = f`), each scaled by
:math:`\sum_i 2 / (h_i^2 \theta_+ \theta_-)`, the ghosts eliminated; :math:`c` is linear in the
boundary data (:class:`RegionOperator`). Sparse LU (SuperLU, nested-dissection order).

**Evolution.** Heat (Crank–Nicolson) and wave (leapfrog) step the same :math:`L u + c(t)`
(:mod:`.evolution`), with time-dependent data. For the wave equation :func:`region_operator`
with ``merge`` :math:`= \theta_m` (:data:`WAVE_MERGE` = 0.5) also turns the nodes with a
Dirichlet crossing :math:`\theta < \theta_m` into *merged* nodes, valued at each step by the
quadratic through the crossing and the next two nodes inward on that grid line (third-order
accurate, so second order is kept). Without it the Shortley–Weller coefficients grow like
:math:`1/(\theta h^2)` and so does the operator's spectral radius :math:`\rho` (up to 100 times
the box's :math:`4\sum_i h_i^{-2}` on a disk or a square with a hole at ``n`` = 32 to 128), and
leapfrog's step :math:`\Delta t \le 2/(|c|\sqrt\rho)` with it, irregularly from grid to grid (a
study's levels share their :math:`\Delta t / h`); merged, :math:`\rho` stays within 7% of the
box's there. The step is taken from :math:`\rho` itself, computed (ARPACK) on each grid.

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

Boundary parts with different conditions are told apart at each boundary point by the nearest
part: the edge of a polygon, the face of a box, the child of a CSG domain with the smallest
``|distance|`` and then its own part; at a junction (a point as near to two parts) a Dirichlet
part wins. A mesh's parts cannot be told apart this way, so a mesh takes one condition for all
its parts.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree
from scipy.stats import qmc

from ..conditions import Condition, Dirichlet, Neumann, Robin
from ..domains import Box, Domain
from ..geometry import Ball, Difference, Disk, Intersection, Polygon, Union, distance_to_boundary
from ._boundary import cell_weights, domain_integrals, nearest_boundary
from ._grid import Grid, evaluate_numpy, nested_dissection
from ._linalg import LUSolver
from ._spec import Spec
from .settings import check_method

__all__ = [
    "THETA_MIN",
    "PRESAMPLES",
    "SEARCH_DOUBLINGS",
    "FIT_DEGREE",
    "FIT_RADII",
    "FIT_WIDTH",
    "WAVE_MERGE",
    "check_region",
    "RegionData",
    "part_index",
    "first_crossing",
    "RegionGrid",
    "RegionOperator",
    "graph_dissection",
    "region_operator",
    "region_setup",
    "region_solver",
    "region_scheme",
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
#: The degree of the ghosts' least-squares fits (lower where the nodes do not determine one).
FIT_DEGREE = 3
#: The radius (grid spacings around the boundary point) of the nodes a fit of each degree takes.
FIT_RADII = {3: 3.0, 2: 2.0, 1: 1.5}
#: The width (grid spacings) of the fits' Gaussian weights.
FIT_WIDTH = 1.5
#: The wave equation's ``merge`` threshold: Dirichlet crossings nearer than this (in grid
#: spacings) make their node a merged node (see the module doc).
WAVE_MERGE = 0.5
_SEARCH_NODES = 2**22  # the largest grid that search builds
_COVER = 1.5  # boundary points farther than this times sqrt(d) h_max from the crossings: missed
_SEED = 20240611
_QUERY = {2: 48, 3: 128}  # nearest nodes examined per ghost
_COMPATIBILITY_TOL = 1e-4  # relative defect of pure-Neumann data (Gauss rules)
_COMPATIBILITY_TOL_QMC = 1e-2  # the same by quasi-Monte Carlo (CSG, meshes)

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


# -- the discrete operator -----------------------------------------------------------------------


@dataclass
class RegionOperator:
    r"""The discrete Laplacian on a domain that is not a box, with its boundary conditions.

    The unknowns are the node unknowns ``nodes`` (flat grid indices); the ghosts (coordinates
    ``ghosts``) are eliminated, each ghost row holding its ghost and nodes only. ``L`` and ``C``
    give, for the rows ``dynamic``, :math:`\Delta_h u = L u + C g` (physical scale), and for the
    other rows (merged nodes) the algebraic equations :math:`L u + C g = 0`, with :math:`g` the
    boundary data at the points ``data_points`` (conditions ``data_cond``; the first
    ``len(fixed)`` of them the Dirichlet nodes ``fixed``). ``scale`` is each dynamic row's
    :math:`\sum_i 2/(h_i^2\theta_+\theta_-)` (1 on the others).
    """

    grid: Grid
    data: RegionData
    inside: np.ndarray
    fixed: np.ndarray
    nodes: np.ndarray
    ghosts: np.ndarray
    L: sp.csr_matrix
    C: sp.csr_matrix
    dynamic: np.ndarray
    scale: np.ndarray
    data_points: np.ndarray
    data_cond: np.ndarray
    merged: int = 0
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def size(self) -> int:
        return self.L.shape[0]

    @property
    def node_points(self) -> np.ndarray:
        """Coordinates of the node unknowns."""
        return self.grid.points(self.nodes)

    def boundary_values(self, t: float | None = None) -> np.ndarray:
        """The data :math:`g` at ``data_points`` (time ``t``); cached when no datum is a
        function."""
        if "g" in self._cache:
            return self._cache["g"]
        g = self.data.values(self.data_cond, self.data_points, t)
        if all(not callable(self.data.conditions[c].value) for c in np.unique(self.data_cond)):
            self._cache["g"] = g
        return g

    def source(self, g: np.ndarray) -> np.ndarray:
        """:math:`c = C g` over the state."""
        return self.C @ g

    def to_grid(self, u: np.ndarray, g: np.ndarray) -> np.ndarray:
        """A full-grid vector: the unknowns ``u``, the Dirichlet values ``g`` (the first of the
        data) at the Dirichlet nodes, NaN outside the domain."""
        out = np.full(self.grid.size, np.nan)
        out[self.fixed] = g[: len(self.fixed)]
        out[self.nodes] = u
        return out

    def order(self) -> np.ndarray:
        """A fill-reducing order of the unknowns: nested dissection of their graph
        (:func:`graph_dissection`; the box's, restricted to them, when every row is a
        :math:`(2d+1)`-point one)."""
        if len(self.ghosts) == 0 and self.merged == 0:
            pos = np.full(self.grid.size, -1)
            pos[self.nodes] = np.arange(len(self.nodes))
            perm = pos[nested_dissection(self.grid.shape)]
            return perm[perm >= 0]
        multi = np.stack(np.unravel_index(self.nodes, self.grid.shape), axis=1)
        return graph_dissection(self.L, multi)

    def weights(self) -> np.ndarray:
        r"""Quadrature weights over the unknowns: :math:`\sum_j w_j u_j \approx
        \int_\Omega u` (:func:`~._boundary.cell_weights`; every inside node is an unknown when
        no part is Dirichlet)."""
        if "w" not in self._cache:
            self._cache["w"] = cell_weights(self.data.domain, self.grid, self.inside)[self.nodes]
        return self._cache["w"]

    def algebraic_solver(self):
        """``solve(u, c)``: the algebraic unknowns (ghosts, merged nodes) of ``u`` from its
        dynamic ones, in place: :math:`L_{AA} u_A = -c_A - L_{AD} u_D`."""
        alg = np.flatnonzero(~self.dynamic)
        dyn = np.flatnonzero(self.dynamic)
        if alg.size == 0:
            return lambda u, c: u
        LA = self.L[alg]
        lu = LUSolver(LA[:, alg], (), perm=np.arange(alg.size))
        LD = LA[:, dyn].tocsr()

        def solve(u: np.ndarray, c: np.ndarray) -> np.ndarray:
            u[alg] = lu.solve(-c[alg] - LD @ u[dyn])
            return u

        return solve


def graph_dissection(A: sp.spmatrix, multi: np.ndarray, leaf: int = 64) -> np.ndarray:
    """A nested-dissection order of the unknowns of ``A`` at the grid positions ``multi``
    (N, d): each block is cut by the middle grid plane across its longest extent, and the
    nodes on either side coupled (in either direction) to the other side join the separator,
    so that the wider rows near the boundary (ghosts eliminated) still leave two uncoupled
    halves; halves first (recursively), separators last. ``O(nnz)`` work per level."""
    G = (abs(A) + abs(A).T).tocsr()
    n = G.shape[0]
    label = np.zeros(n, dtype=np.int8)  # 1 left, 2 right of the current cut
    out: list[np.ndarray] = []
    stack: list[tuple[np.ndarray, bool]] = [(np.arange(n), False)]
    indptr, indices = G.indptr, G.indices
    while stack:
        block, emit = stack.pop()
        if emit or block.size <= leaf:
            out.append(block)
            continue
        m = multi[block]
        ext = m.max(axis=0) - m.min(axis=0)
        ax = int(np.argmax(ext))
        if ext[ax] < 2:
            out.append(block)
            continue
        cut = int(m[:, ax].min() + ext[ax] // 2)
        left, right = block[m[:, ax] < cut], block[m[:, ax] > cut]
        sep = [block[m[:, ax] == cut]]
        label[left], label[right] = 1, 2
        for side, other in ((left, 2), (right, 1)):  # nodes coupled across the cut
            starts = indptr[side]
            counts = indptr[side + 1] - starts
            rows = np.repeat(np.arange(side.size), counts)
            first = np.repeat(starts - np.cumsum(counts) + counts, counts)
            cols = indices[np.arange(rows.size) + first]
            hit = np.zeros(side.size, dtype=bool)
            hit[rows[label[cols] == other]] = True
            sep.append(side[hit])
            label[side[hit]] = 0
        label[block] = 0
        left = left[~np.isin(left, sep[1])]
        right = right[~np.isin(right, sep[2])]
        stack.append((np.concatenate(sep), True))
        stack.append((right, False))
        stack.append((left, False))
    return np.concatenate(out)


class _Assembly:
    """Triplets of ``L`` (over the state) and ``C`` (over the data points)."""

    def __init__(self) -> None:
        self.L: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.C: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, rows, state, data, values) -> None:
        """Add ``values`` at ``rows``: to ``L`` where ``state >= 0`` (its column), else to ``C``
        at ``data``."""
        rows, state, data = np.asarray(rows), np.asarray(state), np.asarray(data)
        values = np.broadcast_to(np.asarray(values, dtype=np.float64), rows.shape)
        s = state >= 0
        self.L.append((rows[s], state[s], values[s]))
        self.C.append((rows[~s], data[~s], values[~s]))

    def matrices(self, m: int, n_data: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        def build(parts, cols):
            if not parts:
                return sp.csr_matrix((m, cols))
            r, c, v = (np.concatenate(x) for x in zip(*parts, strict=True))
            return sp.csr_matrix((v, (r, c)), shape=(m, cols))

        return build(self.L, m), build(self.C, n_data)


def _exponents(d: int, degree: int) -> np.ndarray:
    """The exponents of the monomials of total degree 1 to ``degree`` in ``d`` variables."""
    import itertools

    out = [a for a in itertools.product(range(degree + 1), repeat=d) if 1 <= sum(a) <= degree]
    return np.array(sorted(out, key=lambda a: (sum(a), tuple(-v for v in a))), dtype=np.int64)


def _basis(xi: np.ndarray, degree: int, grad: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    r"""The monomials :math:`\xi^\alpha`, :math:`1 \le |\alpha| \le` ``degree``, at ``xi``
    (..., d) and, with ``grad``, their derivatives (..., d, p) in :math:`\xi`."""
    d = xi.shape[-1]
    alpha = _exponents(d, degree)
    powers = np.ones((degree + 1, *xi.shape))  # powers[k] = xi ** k
    for k in range(1, degree + 1):
        powers[k] = powers[k - 1] * xi
    xs = np.moveaxis(powers, -1, 0)  # (d, degree + 1, ...)
    phi = xs[0][alpha[:, 0]]  # (p, ...)
    for i in range(1, d):
        phi = phi * xs[i][alpha[:, i]]
    if not grad:
        return np.moveaxis(phi, 0, -1), None
    dphi = np.empty((d, *phi.shape))
    for i in range(d):
        scale = alpha[:, i].reshape(-1, *[1] * (xi.ndim - 1)).astype(float)
        out = scale * xs[i][np.maximum(alpha[:, i] - 1, 0)]
        for j in range(d):
            if j != i:
                out = out * xs[j][alpha[:, j]]
        dphi[i] = out
    return np.moveaxis(phi, 0, -1), np.moveaxis(dphi, (0, 1), (-2, -1))


def _fit(
    xi: np.ndarray,
    dist: np.ndarray,
    sees: np.ndarray,
    xb: np.ndarray,
    rb: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    degree: int,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Weighted least-squares fits of degree ``degree`` through the ghosts (see the module
        doc): the coefficients of the fit nodes in :math:`a q(B) + b\,n\cdot
    abla q(B)` and
        whether each fit reproduces every polynomial of its degree (a full-rank design)."""
    a, b, normals, h = rb
    alpha = _exponents(xi.shape[-1], degree)
    p = len(alpha)
    radius = FIT_RADII[degree]
    enough = np.sort(np.where(sees, dist, np.inf), axis=1)[:, min(2 * p, dist.shape[1]) - 1]
    radius = np.maximum(radius, np.where(np.isfinite(enough), enough, radius)) * (1 + 1e-9)
    use = sees & (dist <= radius[:, None])
    sw = np.sqrt(np.where(use, np.exp(-0.5 * (dist / FIT_WIDTH) ** 2), 0.0))
    phi, _ = _basis(xi, degree, grad=False)
    design = sw[:, :, None] * phi
    pinv = np.linalg.pinv(design, rcond=1e-12)
    P = pinv * sw[:, None, :]  # (G, p, k): the coefficients of the fit from the nodes' values
    defect = np.abs(np.einsum("gpk,gkq->gpq", pinv, design) - np.eye(p)).max(axis=(1, 2))
    ok = (defect < 1e-8) & (use.sum(axis=1) >= p)
    phi_b, dphi_b = _basis(xb, degree)
    grad = dphi_b / h[None, :, None]  # d/dx of the basis at the foot, (G, d, p)
    r = a[:, None] * phi_b + b[:, None] * np.einsum("gi,gip->gp", normals, grad)
    return np.einsum("gp,gpk->gk", r, P), ok


def _ghost_rows(
    domain: Domain,
    ghosts: np.ndarray,
    feet: np.ndarray,
    normals: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    node_pts: np.ndarray,
    h: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""The condition rows of the ghosts: ``(coef_ghost, nodes, coef_nodes, degree)``, each
    ghost's row :math:`c_G u_G + \sum_j c_j u_{n_j} = g` with ``nodes`` (G, k) indices into
    ``node_pts`` (coefficients zero for nodes left out of the fit), and the degree of its fit:
    cubic where the nodes within :data:`FIT_RADII` determine one, quadratic or linear otherwise."""
    d = ghosts.shape[1]
    k = min(_QUERY.get(d, 4 * len(_exponents(d, 3))), len(node_pts))
    tree = cKDTree(node_pts / h)
    dist, near = tree.query(feet / h, k=k)
    dist, near = dist.reshape(len(feet), k), near.reshape(len(feet), k)
    mid = 0.5 * (feet[:, None, :] + node_pts[near])
    sees = np.asarray(domain.contains(mid.reshape(-1, d)), dtype=bool).reshape(near.shape)
    sees |= dist < 1e-9  # a node on the foot itself
    xi = (node_pts[near] - ghosts[:, None, :]) / h
    xb = (feet - ghosts) / h
    coef = np.zeros(near.shape)
    degree = np.zeros(len(ghosts), dtype=np.int64)
    todo = np.arange(len(ghosts))
    for deg in range(FIT_DEGREE, 0, -1):
        if todo.size == 0:
            break
        rb = (a[todo], b[todo], normals[todo], h)
        c, ok = _fit(xi[todo], dist[todo], sees[todo], xb[todo], rb, deg)
        take = ok if deg > 1 else np.ones(todo.size, dtype=bool)
        coef[todo[take]] = c[take]
        degree[todo[take]] = deg
        todo = todo[~take]
    low = np.count_nonzero(degree < 3)
    if low:
        log.debug("%d of %d ghosts fitted by a quadratic or linear polynomial", low, len(ghosts))
    return a - coef.sum(axis=1), near, coef, degree


def region_operator(
    rg: RegionGrid, data: RegionData, *, merge: float = 0.0, t: float | None = None
) -> RegionOperator:
    """The :class:`RegionOperator` of the conditions ``data`` on the grid ``rg`` (see the module
    doc); ``merge`` is the threshold of merged nodes (0: none), ``t`` the time at which Robin
    coefficients are evaluated (timed problems)."""
    grid, domain = rg.grid, rg.domain
    d, h, n_all = grid.d, grid.h, grid.size
    pts = rg.node_points
    prefer = data.prefer
    strides = rg.strides
    multi_all = np.stack(np.unravel_index(np.arange(n_all), grid.shape), axis=1)

    def conditions_at(points: np.ndarray) -> np.ndarray:
        if data.single is not None or len(points) == 0:
            return data.owners(None, len(points))
        return data.owners(nearest_boundary(domain, points, prefer).parts, len(points))

    # boundary nodes: Dirichlet nodes, or unknowns on a Neumann/Robin part
    bn = rg.bnodes
    cond_b = conditions_at(pts[bn])
    dir_b = data.dirichlet[cond_b]
    fixed, fixed_cond = [bn[dir_b]], [cond_b[dir_b]]
    flux_nodes = bn[~dir_b]
    # crossings of the other nodes: Dirichlet (Shortley-Weller) or a ghost neighbour
    cand, theta, crossing = rg.cand, rg.theta.copy(), rg.crossing
    nc = len(cand)
    xcond = np.full((d, 2, nc), -1)
    for i in range(d):
        for k in range(2):
            rows = np.flatnonzero(crossing[i, k])
            xcond[i, k, rows] = conditions_at(rg.points[i][k])
    dirx = crossing & (xcond >= 0) & data.dirichlet[np.maximum(xcond, 0)]
    ghostx = crossing & ~dirx
    theta[ghostx] = 1.0
    small_side = dirx & (theta < THETA_MIN)
    small = small_side.any(axis=(0, 1))
    if small.any():  # a node on a Dirichlet part, by its crossing
        first = np.argmax(small_side.reshape(2 * d, nc), axis=0)
        fixed.append(cand[small])
        fixed_cond.append(xcond.reshape(2 * d, nc)[first[small], np.flatnonzero(small)])
    fixed = np.concatenate(fixed)
    fixed_cond = np.concatenate(fixed_cond)
    order = np.argsort(fixed)
    fixed, fixed_cond = fixed[order], fixed_cond[order]
    keep = np.flatnonzero(~small)
    cand, theta, dirx, ghostx, xcond = (
        cand[keep],
        theta[:, :, keep],
        dirx[:, :, keep],
        ghostx[:, :, keep],
        xcond[:, :, keep],
    )
    # the crossing points kept, as data points: index per (axis, side, node)
    data_pts, data_cond = [pts[fixed]], [fixed_cond]
    n_data = len(fixed)
    xdata = np.full((d, 2, len(cand)), -1)
    for i in range(d):
        for k in range(2):
            full_rows = np.flatnonzero(rg.crossing[i, k])  # rows of rg.cand
            pos_in = np.full(len(rg.cand), -1)
            pos_in[full_rows] = np.arange(len(full_rows))
            sel = np.flatnonzero(dirx[i, k])
            data_pts.append(rg.points[i][k][pos_in[keep[sel]]])
            data_cond.append(xcond[i, k, sel])
            xdata[i, k, sel] = n_data + np.arange(sel.size)
            n_data += sel.size
    # merged nodes (the wave equation): a Dirichlet crossing nearer than `merge`
    merged = np.zeros(len(cand), dtype=bool)
    merge_side = np.full(len(cand), -1)
    if merge > 0:
        th = np.where(dirx, theta, np.inf).reshape(2 * d, len(cand))
        side = np.argmin(th, axis=0)
        near = th[side, np.arange(len(cand))] < merge
        ax, kk = np.divmod(side, 2)
        s = 2 * kk - 1
        mc = np.stack(np.unravel_index(cand, grid.shape), axis=1)
        ok = near.copy()
        for step in (1, 2):  # the next two nodes inward must be inside
            j = mc[np.arange(len(cand)), ax] - step * s
            inb = (j >= 0) & (j <= np.array(grid.n)[ax])
            flat = np.where(inb, cand - step * s * strides[ax], 0)
            ok &= inb & rg.inside[flat]
        merged, merge_side = ok, np.where(ok, side, -1)
    nodes = np.sort(np.concatenate([cand, flux_nodes]))
    nn = len(nodes)
    pos = np.full(n_all, -1)
    pos[nodes] = np.arange(nn)
    fpos = np.full(n_all, -1)
    fpos[fixed] = np.arange(len(fixed))
    # ghosts: the outside neighbours of node rows through Neumann/Robin parts
    shape_p = np.array(grid.shape) + 2
    ghost_keys, ghost_refs = [], []  # padded flat index; (row, axis, side)
    c_rows = pos[cand]
    lap = ~merged
    for i in range(d):
        for k, s in enumerate((-1, 1)):
            sel = np.flatnonzero(ghostx[i, k] & lap)
            m = multi_all[cand[sel]].copy()
            m[:, i] += s
            ghost_keys.append(np.ravel_multi_index(tuple((m + 1).T), shape_p))
            ghost_refs.append(
                np.column_stack([c_rows[sel], np.full(sel.size, i), np.full(sel.size, k)])
            )
    # boundary-node unknowns: every neighbour outside the domain (or the grid) is a ghost
    fm = multi_all[flux_nodes]
    flux_nb = np.zeros((d, 2, len(flux_nodes)), dtype=bool)
    for i in range(d):
        for k, s in enumerate((-1, 1)):
            m = fm.copy()
            m[:, i] += s
            ing = (m[:, i] >= 0) & (m[:, i] < grid.shape[i])
            flat = np.ravel_multi_index(
                tuple(np.clip(m, 0, np.array(grid.shape) - 1).T), grid.shape
            )
            out = ~ing | ~rg.inside[flat]
            flux_nb[i, k] = out
            sel = np.flatnonzero(out)
            ghost_keys.append(np.ravel_multi_index(tuple((m[sel] + 1).T), shape_p))
            ghost_refs.append(
                np.column_stack([pos[flux_nodes[sel]], np.full(sel.size, i), np.full(sel.size, k)])
            )
    keys = np.concatenate(ghost_keys) if ghost_keys else np.zeros(0, np.int64)
    refs = np.concatenate(ghost_refs) if ghost_refs else np.zeros((0, 3), np.int64)
    ukeys, ginv = np.unique(keys, return_inverse=True)
    ng = len(ukeys)
    gstate = nn + ginv  # state index of each reference's ghost
    ghosts = (
        (np.stack(np.unravel_index(ukeys, tuple(shape_p)), axis=1) - 1) * h + grid.lo
        if ng
        else np.zeros((0, d))
    )
    m_state = nn + ng
    A = _Assembly()
    # Laplacian rows of the node unknowns
    diag = np.zeros(nn)
    dyn_rows = np.zeros(nn, dtype=bool)
    # cand rows (not merged)
    cr = np.flatnonzero(lap)
    rows_c = c_rows[cr]
    dyn_rows[rows_c] = True
    gcol = np.full((d, 2, max(nn, 1)), -1)  # the ghost neighbour of a row, by axis and side
    gcol[refs[:, 1], refs[:, 2], refs[:, 0]] = gstate
    for i in range(d):
        h2 = float(h[i]) ** 2
        tm, tp = theta[i, 0, cr], theta[i, 1, cr]
        diag[rows_c] -= 2.0 / (h2 * tm * tp)
        for k, s in enumerate((-1, 1)):
            th = theta[i, k, cr]
            coef = 2.0 / (h2 * th * (tm + tp))
            nb = cand[cr] + s * strides[i]
            isd = dirx[i, k, cr]
            isg = ghostx[i, k, cr]
            inner = ~isd & ~isg
            A.add(rows_c[inner], pos[nb[inner]], fpos[nb[inner]], coef[inner])
            A.add(rows_c[isd], np.full(isd.sum(), -1), xdata[i, k, cr[isd]], coef[isd])
            grows = rows_c[isg]
            gcols = gcol[i, k, grows]
            A.add(grows, gcols, np.full(grows.size, -1), coef[isg])
    # rows of the boundary-node unknowns: regular, ghosts outside
    fr = pos[flux_nodes]
    dyn_rows[fr] = True
    for i in range(d):
        h2 = float(h[i]) ** 2
        diag[fr] -= 2.0 / h2
        for k, s in enumerate((-1, 1)):
            out = flux_nb[i, k]
            nb = flux_nodes[~out] + s * strides[i]
            A.add(fr[~out], pos[nb], fpos[nb], np.full((~out).sum(), 1.0 / h2))
            grows = fr[out]
            gcols = gcol[i, k, grows]
            A.add(grows, gcols, np.full(grows.size, -1), np.full(grows.size, 1.0 / h2))
    lap_rows = np.flatnonzero(dyn_rows)
    A.add(lap_rows, lap_rows, np.full(lap_rows.size, -1), diag[lap_rows])
    scale = np.ones(m_state)
    scale[lap_rows] = -diag[lap_rows]
    # merged rows: 0 = l1 u1 + l2 u2 - u_P + lB g_B
    mr = np.flatnonzero(merged)
    if mr.size:
        side = merge_side[mr]
        ax, kk = np.divmod(side, 2)
        s = 2 * kk - 1
        th = theta[ax, kk, mr]
        rows = c_rows[mr]
        lB = 2.0 / ((1 + th) * (2 + th))
        l1 = 2.0 * th / (1 + th)
        l2 = -th / (2 + th)
        q1 = cand[mr] - s * strides[ax]
        q2 = cand[mr] - 2 * s * strides[ax]
        A.add(rows, rows, np.full(rows.size, -1), -1.0)
        A.add(rows, pos[q1], fpos[q1], l1)
        A.add(rows, pos[q2], fpos[q2], l2)
        A.add(rows, np.full(rows.size, -1), xdata[ax, kk, mr], lB)
    # ghost rows: the condition at the nearest boundary point, on the fitted polynomial
    if ng:
        foot = nearest_boundary(domain, ghosts, prefer)
        gcond = data.owners(foot.parts, ng)
        a, b = data.coefficients(gcond, foot.points, t)
        inside_idx = np.flatnonzero(rg.inside)
        cg, near, cn, _ = _ghost_rows(
            domain, ghosts, foot.points, foot.normals, a, b, pts[inside_idx], h
        )
        rs = 1.0 / np.maximum(np.abs(cg), np.abs(cn).max(axis=1))
        grow = nn + np.arange(ng)
        fit = inside_idx[near]
        A.add(grow, grow, np.full(ng, -1), cg * rs)
        used = cn.ravel() != 0  # the nodes each fit takes
        rr = np.repeat(grow, near.shape[1])[used]
        fit = fit.ravel()[used]
        A.add(rr, pos[fit], fpos[fit], (cn * rs[:, None]).ravel()[used])
        # data: -g (the row is L u + c = 0 with L u = g)
        A.add(grow, np.full(ng, -1), n_data + np.arange(ng), -rs)
        data_pts.append(foot.points)
        data_cond.append(gcond)
        n_data += ng
    L, C = A.matrices(m_state, n_data)
    if ng:  # eliminate the ghosts: each ghost row holds its ghost and nodes only
        LG = L[nn:].tocsc()
        D = LG[:, nn:].diagonal()
        assert LG[:, nn:].nnz == ng, "a ghost row holds another ghost"
        LNG = L[:nn, nn:] @ sp.diags(1.0 / D)
        C = (C[:nn] - LNG @ C[nn:]).tocsr()
        L = (L[:nn, :nn] - LNG @ LG[:, :nn]).tocsr()
        L.eliminate_zeros()
    dynamic = dyn_rows
    log.debug(
        "%d node unknowns (%d merged), %d ghosts, %d Dirichlet nodes", nn, mr.size, ng, len(fixed)
    )
    return RegionOperator(
        grid=grid,
        data=data,
        inside=rg.inside,
        fixed=fixed,
        nodes=nodes,
        ghosts=ghosts,
        L=L,
        C=C,
        dynamic=dynamic,
        scale=scale[:nn],
        data_points=np.concatenate(data_pts) if data_pts else np.zeros((0, d)),
        data_cond=np.concatenate(data_cond).astype(np.int64),
        merged=int(mr.size),
    )


# -- solving -------------------------------------------------------------------------------------


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


def region_setup(spec: Spec, grid: Grid, *, merge: float = 0.0) -> RegionOperator:
    """The :class:`RegionOperator` of ``spec`` on ``grid``, after checking that the grid
    resolves the domain (``ValueError`` naming a grid that does otherwise). For an evolution
    problem Robin's ``a`` and ``b`` must not change with time (``NotImplementedError``)."""
    rg = RegionGrid(spec.region, grid)
    reason = rg.unresolved()
    if reason is not None:
        raise ValueError(_too_coarse(spec, grid, reason))
    data = RegionData(spec.region, spec.boundary, timed=spec.timed)
    t0 = spec.t_span[0] if spec.timed else None
    op = region_operator(rg, data, merge=merge, t=t0)
    if spec.timed and len(op.ghosts):
        foot = op.data_points[-len(op.ghosts) :]
        cond = op.data_cond[-len(op.ghosts) :]
        first = data.coefficients(cond, foot, t0)
        for t in np.linspace(*spec.t_span, 5)[1:]:
            now = data.coefficients(cond, foot, float(t))
            if not all(
                np.allclose(x, y, rtol=1e-12, atol=0) for x, y in zip(first, now, strict=True)
            ):
                raise NotImplementedError(
                    "Robin coefficients a and b that change with time are not supported by the "
                    "finite-difference reference on a domain that is not a box; the data value "
                    "may change with time"
                )
    return op


def region_solver(op: RegionOperator, K: sp.spmatrix, perm: np.ndarray | None = None) -> LUSolver:
    """Sparse LU of ``K`` (over ``op``'s unknowns, or ``perm``'s order of a bordered system)."""
    try:
        return LUSolver(K, (), perm=op.order() if perm is None else perm)
    except ValueError:
        raise ValueError(
            f"the discrete operator on the {type(op.data.domain).__name__} is singular; for "
            "Helmholtz k^2 coincides with an eigenvalue of the grid's Laplacian there"
        ) from None


def _flux_integrals(spec: Spec, data: RegionData, helm: bool) -> tuple[float, float, bool]:
    r"""``(defect, scale, exact)``: :math:`\int f + \oint g` (:math:`\int f - \oint g` for
    :math:`\Delta u = f`) and :math:`\int|f| + \oint|g|` of pure-flux data (``g`` the flux,
    Robin's ``value / b``) by the rules of :func:`~._boundary.domain_integrals`."""
    eq = spec.equation
    (vp, vw), (bp, bw, bparts), exact = domain_integrals(spec.region)
    fv = np.broadcast_to(evaluate_numpy(eq.f, vp, f"{type(eq).__name__}.f"), (len(vw),))
    cond = data.owners(bparts, len(bp))
    _, b = data.coefficients(cond, bp)
    flux = data.values(cond, bp) / b
    vol, surf = float(vw @ fv), float(bw @ flux)
    total = vol - surf if helm else vol + surf
    return total, float(vw @ np.abs(fv) + bw @ np.abs(flux)), exact


def _solve_pure_flux(
    spec: Spec, op: RegionOperator, K: sp.csr_matrix, b: np.ndarray, helm: bool
) -> tuple[np.ndarray, str]:
    r"""``K u = b`` when every part is a flux condition (see the module doc): the bordered
    system :math:`K u + \lambda e = b`, :math:`w^T u = 0`; the data are refused unless
    compatible."""
    total, scale, exact = _flux_integrals(spec, op.data, helm)
    rel = abs(total) / scale if scale > 0 else 0.0
    m = op.size
    e = np.where(op.dynamic, 1.0 / op.scale, 0.0)
    w = op.weights()
    volume = float(w.sum())
    Kb = sp.bmat([[K, sp.csr_matrix(e[:, None])], [sp.csr_matrix(w[None, :] / volume), None]])
    solver = region_solver(op, Kb.tocsr(), np.append(op.order(), m))
    z = solver.solve(np.append(b, 0.0), refine=True)
    u, lam = z[:m], float(z[m])
    discrete = abs(lam) * volume / scale if scale > 0 else 0.0
    tol = _COMPATIBILITY_TOL if exact else _COMPATIBILITY_TOL_QMC
    log.debug("pure flux: relative defect %.3g (quadrature), %.3g (discrete)", rel, discrete)
    if min(rel, discrete) > tol:
        sign = "int f - oint g" if helm else "int f + oint g"
        rule = "Gauss rules" if exact else "quasi-Monte Carlo"
        raise ValueError(
            f"every boundary part has a Neumann (flux) condition, so {spec.problem.name!r} has "
            f"a solution only when the data are compatible: {sign} = 0 over the "
            f"{type(spec.region).__name__}; here {sign} = {total:.6g} (relative {rel:.3g} of "
            f"int |f| + oint |g| = {scale:.6g} by {rule}; discrete: {discrete:.3g}). Change f "
            "or the Neumann data g, or make a part Dirichlet"
        )
    return u, f"{solver.method}; pure Neumann, zero-mean solution"


def solve_region(
    spec: Spec, grid: Grid, method: str = "auto", *, helm: bool
) -> tuple[np.ndarray, str]:
    r"""Solve Poisson's (or, when ``helm``, Helmholtz's) equation on the nodes of ``grid`` inside
    ``spec.region`` (see the module doc); the values on every node (shape ``grid.shape``, NaN
    outside the domain) and the linear solver's name."""
    check_method(method)
    if method == "dst":
        raise ValueError(
            f"method='dst' needs a Box domain; on a {type(spec.region).__name__} use 'auto' or "
            "'lu' (sparse LU)"
        )
    op = region_setup(spec, grid)
    g = op.boundary_values()
    name = LUSolver.method
    m, nn = op.size, len(op.nodes)
    if m == 0:
        return op.to_grid(np.zeros(0), g).reshape(grid.shape), name
    c = op.source(g)
    eq = spec.equation
    dyn = op.dynamic
    f = np.zeros(m)
    f[:nn] = np.broadcast_to(evaluate_numpy(eq.f, op.node_points, f"{type(eq).__name__}.f"), (nn,))
    K = op.L
    if helm:
        k2 = np.zeros(m)
        k2[:nn] = np.broadcast_to(evaluate_numpy(eq.k, op.node_points, "Helmholtz.k") ** 2, (nn,))
        K = K + sp.diags(np.where(dyn, k2, 0.0))
    rhs = np.where(dyn, (f if helm else -f) - c, -c)
    S = sp.diags(1.0 / op.scale)
    K, rhs = (S @ K).tocsr(), rhs / op.scale
    singular = op.data.pure_flux and (not helm or (not callable(eq.k) and float(eq.k) == 0))
    if singular:
        u, name = _solve_pure_flux(spec, op, K, rhs, helm)
    else:
        solver = region_solver(op, K)
        u = solver.solve(rhs, refine=True)
    log.debug(
        "%s: %d node unknowns, %d ghosts, %d Dirichlet nodes inside the %s",
        spec.problem.name,
        nn,
        len(op.ghosts),
        len(op.fixed),
        type(spec.region).__name__,
    )
    return op.to_grid(u, g).reshape(grid.shape), name


def region_scheme(spec: Spec) -> str:
    """The spatial scheme on ``spec.region``, for the scheme descriptions: ``Shortley-Weller
    2nd order, (2d+1)-point Laplacian on the grid nodes inside the Disk (...; NaN outside
    it)``, naming how each kind of boundary part is treated."""
    data = RegionData(spec.region, spec.boundary)
    kinds = sorted({type(c).__name__ for c in data.used})
    parts = []
    if "Dirichlet" in kinds:
        parts.append("Dirichlet data where the grid lines meet its boundary")
    flux = [k for k in kinds if k != "Dirichlet"]
    if flux:
        parts.append(
            f"{'/'.join(flux)} by ghost nodes (the condition at the nearest boundary point on a "
            "least-squares cubic through the ghost)"
        )
    name = "Shortley-Weller 2nd order" if "Dirichlet" in kinds else "2nd order"
    return (
        f"{name}, (2d+1)-point Laplacian on the grid nodes inside the "
        f"{type(spec.region).__name__} ({'; '.join(parts)}; NaN outside it)"
    )


def describe_region(spec: Spec, solver: str) -> str:
    """The description of the steady scheme on ``spec.region`` with ``solver``."""
    return f"{spec.family.name}: {region_scheme(spec)}; {solver}"


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
