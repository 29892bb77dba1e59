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

import numpy as np
import scipy.sparse as sp

from ._boundary import domain_integrals
from ._ghosts import FIT_DEGREE, FIT_RADII, FIT_WIDTH
from ._grid import Grid, evaluate_numpy
from ._linalg import LUSolver
from ._operator import RegionOperator, graph_dissection, region_operator
from ._regions import (
    PRESAMPLES,
    THETA_MIN,
    RegionData,
    RegionGrid,
    check_region,
    described_domain,
    first_crossing,
    nodes_inside,
    part_index,
)
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

#: How many times ``n`` is doubled to find a grid that resolves a domain the given one cannot.
SEARCH_DOUBLINGS = 5
#: The wave equation's ``merge`` threshold: Dirichlet crossings nearer than this (in grid
#: spacings) make their node a merged node (see the module doc).
WAVE_MERGE = 0.5
_SEARCH_NODES = 2**22  # the largest grid that search builds
_COMPATIBILITY_TOL = 1e-4  # relative defect of pure-Neumann data (Gauss rules)
_COMPATIBILITY_TOL_QMC = 1e-2  # the same by quasi-Monte Carlo (CSG, meshes)


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
