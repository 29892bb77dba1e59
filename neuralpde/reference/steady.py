r"""Steady problems: Poisson :math:`-\Delta u = f` and Helmholtz :math:`\Delta u + k^2 u = f`.

Unknowns are the nodes on no Dirichlet face (the interior nodes, plus the nodes of Neumann and
Robin faces off every Dirichlet face); the Dirichlet values enter the right-hand side through
the boundary columns of the operator. With :math:`K = \mathrm{diag}(k^2)` at the nodes:

* order 2: :math:`-\Delta_h u = f` and :math:`(\Delta_h + K) u = f`, exact for polynomials of
  degree at most 3 in each variable;
* order 4 (Mehrstellen): :math:`L_4 u = -M f` and :math:`(L_4 + M K) u = M f`. From
  :math:`\delta_i^2 u = u_{ii} + \tfrac{h_i^2}{12} u_{iiii} + O(h^4)` and
  :math:`u_{iiii} = \partial_i^2 \Delta u - \sum_{j\ne i} u_{iijj}`:
  :math:`L_4 u = M \Delta u + O(h^4)`, so the scheme is fourth order, exact for polynomials of
  total degree at most 5, and compact (no special stencil next to the boundary). The corrected
  right-hand side :math:`M f` uses :math:`f` at the boundary nodes too. It holds for variable
  :math:`k(x)`, since :math:`M K u` is the same correction applied to :math:`k^2 u`.
  Dirichlet faces only.

**Neumann and Robin faces** (order 2): :math:`a u + b\,\partial u/\partial n = g` (Neumann:
:math:`a = 0`, :math:`b = 1`; ``a``, ``b``, ``g`` numbers or callables of the points) is imposed
with a ghost node outside the face, eliminated by the centred difference
:math:`u_{\mathrm{ghost}} = u_{\mathrm{mirror}} + 2 h_i (g - a u)/b`; the face's nodes are
unknowns with the stencil :math:`2(u_{\mathrm{mirror}} - u)/h_i^2 + 2g/(b h_i) - 2a u/(b h_i)`
along the face's axis: the data term goes to the right-hand side and the Robin term
:math:`r = 2a/(b h_i)` to the diagonal (:class:`~._faces.GhostFaces`). Nodes on several such
faces (edges, corners) use one ghost per face; nodes shared with a Dirichlet face are Dirichlet
nodes. The local truncation error at a face node is :math:`O(h)` but the global error stays
:math:`O(h^2)`; the scheme is exact for polynomials of degree at most 2 in each variable (the
ghost value is then exact: :math:`g - a u = b\,\partial u/\partial n` at the node). ``b`` must
not vanish at a Robin face's node (``ValueError``); a Robin condition whose ``b`` is the number 0
is the Dirichlet condition :math:`u = g/a`. A fourth-order (Mehrstellen) Neumann or Robin
closure is not implemented: ``order=4`` raises ``NotImplementedError``, and
``convergence_study(..., extrapolate=True)`` gives higher accuracy.

With every face a pure flux (Neumann, or Robin with :math:`a = 0`: flux :math:`g/b`), Poisson
(and Helmholtz with :math:`k = 0`) is singular: its solutions differ by constants and exist only
for compatible data, :math:`\int f + \oint g = 0` (:func:`_check_compatible`); the reference
returns the solution of zero trapezoidal mean (:func:`_solve_pure_neumann`). Problems with a
Neumann or Robin face are solved by sparse LU; the sine transform needs every face Dirichlet.

On a domain that is not a box (``spec.region``: a disk, ball, polygon, CSG or mesh domain) the
solvers hand over to :func:`~.irregular.solve_region`: second order on the nodes of the bounding
box's grid inside the domain, the Shortley–Weller scheme at Dirichlet parts and ghost nodes at
Neumann and Robin parts.
"""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np
import scipy.sparse as sp

from ._faces import GhostFaces, face_coefficients, face_owners
from ._grid import BoundaryData, Grid, evaluate_numpy
from ._linalg import (
    DSTSolver,
    LUSolver,
    diag_columns,
    dirichlet_eigenvalues,
    laplacian,
    mehrstellen,
)
from ._spec import Spec
from .irregular import describe_region, solve_region
from .settings import check_method

__all__ = [
    "solve_steady",
    "solve_poisson",
    "solve_helmholtz",
    "describe_steady",
    "ResonanceWarning",
    "check_resonance",
]

log = logging.getLogger("neuralpde.reference")


class ResonanceWarning(UserWarning):
    """Helmholtz ``k^2`` lies close to an eigenvalue of the box (with its Dirichlet and Neumann
    faces): the solution is dominated by that mode and sensitive to every error."""


def _axis_modes(spec: Spec) -> list[tuple[float, int]]:
    r"""Per axis, ``(offset s, lowest m)``: the eigenvalues of :math:`-d^2/dx^2` on the axis are
    :math:`(\pi (m + s) / L)^2`, ``m >= lowest``: sines ``m >= 1`` (Dirichlet at both ends),
    cosines ``m >= 0`` (Neumann at both), quarter waves ``m + 1/2``, ``m >= 0`` (one of each)."""
    out = []
    for i in range(spec.box.dim):
        a, b = 2 * i in spec.flux_faces, 2 * i + 1 in spec.flux_faces
        out.append((0.5, 0) if a != b else (0.0, 0 if a else 1))
    return out


def check_resonance(spec: Spec, tol: float = 0.01) -> None:
    r"""Warn when a constant :math:`k^2` lies within ``tol`` (relative) of an eigenvalue
    :math:`\pi^2 \sum_i ((m_i + s_i) / L_i)^2` of :math:`-\Delta` on the box: :math:`s_i = 0`,
    :math:`m_i \ge 1` on an axis with two Dirichlet faces (sines); :math:`s_i = 0`,
    :math:`m_i \ge 0` with two Neumann faces (cosines); :math:`s_i = 1/2`, :math:`m_i \ge 0`
    with one of each (a Robin face with :math:`a = 0` counts as Neumann). The zero eigenvalue
    (every face Neumann) is measured against :math:`(\pi / \max_i L_i)^2`. Not checked with a
    Robin face with an :math:`a`: the eigenvalues are then roots of transcendental equations."""
    k = spec.equation.k
    if callable(k):
        log.debug("variable k: no resonance check against the box's eigenvalues")
        return
    if spec.irregular:
        log.debug("not a box: no resonance check (its eigenvalues are not known in closed form)")
        return
    if spec.robin_faces - spec.flux_faces:
        log.debug(
            "Robin faces: no resonance check (the box's eigenvalues are roots of transcendental "
            "equations there)"
        )
        return
    k2 = float(k) ** 2
    if k2 == 0:
        return
    lo, hi = spec.box.bounds
    L = hi - lo
    modes_1d = _axis_modes(spec)
    s = np.array([m[0] for m in modes_1d])
    low = np.array([m[1] for m in modes_1d])
    top = [int(math.sqrt(k2 * (1 + tol)) * Li / math.pi) + 1 for Li in L]
    if np.prod([float(t) for t in top[:-1]]) > 1e6:
        log.debug("k too large for the resonance check; skipped")
        return
    # Enumerate all modes of the first d-1 axes; pick the nearest m_d for each.
    ranges = [np.arange(low[i], top[i] + 1) for i in range(len(L) - 1)]
    grids = np.meshgrid(*ranges, indexing="ij")
    first = np.stack([g.ravel() for g in grids], axis=1) if grids else np.zeros((1, 0), int)
    part = (math.pi**2) * np.sum(((first + s[:-1]) / L[:-1]) ** 2, axis=1)
    rest = np.maximum(k2 - part, 0.0)
    m_last = np.maximum(np.rint(np.sqrt(rest) * L[-1] / math.pi - s[-1]), low[-1]).astype(int)
    modes, lams = [], []
    for shift in (-1, 0, 1):
        m = np.maximum(m_last + shift, low[-1])
        modes.append(np.column_stack([first, m]))
        lams.append(part + (math.pi * (m + s[-1]) / L[-1]) ** 2)
    modes_all, lam_all = np.concatenate(modes), np.concatenate(lams)
    gap = np.abs(lam_all - k2)
    near = gap <= gap.min() + 1e-9 * k2  # a degenerate eigenvalue has several modes
    lam = float(lam_all[near][0])
    found = sorted({tuple(int(v) for v in row) for row in modes_all[near]})
    mode = ", ".join(str(m) for m in found)
    rel = abs(lam - k2) / (lam if lam > 0 else (math.pi / float(np.max(L))) ** 2)
    kind = "Dirichlet/Neumann" if spec.flux_faces else "Dirichlet"
    if rel <= tol:
        warnings.warn(
            f"Helmholtz k^2 = {k2:.6g} is within {100 * rel:.3g}% of the {kind} eigenvalue "
            f"{lam:.6g} of the box (mode m = {mode}): the problem is nearly singular and the "
            "reference is sensitive to every error",
            ResonanceWarning,
            stacklevel=3,
        )


def solve_poisson(
    spec: Spec,
    grid: Grid,
    order: int,
    steps: int | None = None,
    keep: object = None,
    method: str = "auto",
) -> tuple[np.ndarray, str]:
    r"""Poisson's family solver: :func:`solve_steady` of :math:`-\Delta u = f` (``steps`` and
    ``keep``, for evolution problems, are ``None``)."""
    return solve_steady(spec, grid, order, method, helm=False)


def solve_helmholtz(
    spec: Spec,
    grid: Grid,
    order: int,
    steps: int | None = None,
    keep: object = None,
    method: str = "auto",
) -> tuple[np.ndarray, str]:
    r"""Helmholtz's family solver: :func:`solve_steady` of :math:`\Delta u + k^2 u = f`."""
    return solve_steady(spec, grid, order, method, helm=True)


def describe_steady(spec: Spec, order: int, solver: str) -> str:
    """The description of the steady scheme of ``order`` with the linear solver ``solver``."""
    if spec.irregular:
        return describe_region(spec, solver)
    space = (
        "central 2nd order, (2d+1)-point Laplacian"
        if order == 2
        else "compact 4th order Mehrstellen (3^d-point stencil, corrected right-hand side)"
    )
    return f"{spec.family.name}: {space}{spec.neumann_note}; {solver}"


def solve_steady(
    spec: Spec, grid: Grid, order: int, method: str = "auto", *, helm: bool
) -> tuple[np.ndarray, str]:
    """Solve on ``grid`` (Helmholtz's equation when ``helm``, else Poisson's); returns the
    values on every node (shape ``grid.shape``) and the linear-solver name. On a domain that is
    not a box (``spec.region``), the scheme of :mod:`.irregular` (order 2)."""
    if spec.irregular:
        return solve_region(spec, grid, method, helm=helm)
    check_method(method)
    eq = spec.equation
    pts = grid.points()
    f = np.broadcast_to(evaluate_numpy(eq.f, pts, f"{type(eq).__name__}.f"), (grid.size,))
    if helm:
        k = evaluate_numpy(eq.k, pts, "Helmholtz.k")
        k2 = np.broadcast_to(k**2, (grid.size,))
    boundary = BoundaryData(grid, spec.dirichlet, spec.box.boundary_parts, timed=False)
    g = boundary.lift()
    inner_idx = grid.unknowns
    if order == 2:
        A = laplacian(grid)
        rhs = f[inner_idx] if helm else -f[inner_idx]
        if helm:
            A = A + diag_columns(k2[inner_idx], inner_idx, grid.size)
        if grid.neumann:  # Delta_h u = A u + c - r u: the ghost nodes' data on both sides
            faces = GhostFaces(grid, spec.neumann + spec.robin, spec.box.boundary_parts, False)
            rhs = rhs - faces.term()
            if faces.robin:
                A = A - diag_columns(faces.diagonal(), inner_idx, grid.size)
    else:
        L4, M = mehrstellen(grid)
        rhs = M @ f if helm else -(M @ f)
        A = L4 + M.multiply(k2[None, :]).tocsr() if helm else L4
    b = rhs - A @ g
    constant = not (helm and callable(eq.k))
    if method == "dst" and not constant:
        raise ValueError("method='dst' needs constant coefficients (Helmholtz k is a callable)")
    if method == "dst" and grid.neumann:
        raise ValueError(
            "method='dst' needs Dirichlet faces only; Neumann and Robin faces use method='lu'"
        )
    if spec.all_neumann and constant and (not helm or float(k2[0]) == 0):
        u_inner, name = _solve_pure_neumann(spec, grid, A[:, inner_idx], b, helm)
        u = g.copy()
        u[inner_idx] = u_inner
        return u.reshape(grid.shape), name
    if constant and not grid.neumann and method in ("auto", "dst"):
        lam = dirichlet_eigenvalues(grid)
        symbol = sum(lam)
        if order == 4:
            for i in range(grid.d):
                for j in range(i + 1, grid.d):
                    symbol = symbol + (grid.h[i] ** 2 + grid.h[j] ** 2) / 12.0 * lam[i] * lam[j]
        if helm:
            kk = float(k2[0])
            if order == 4:
                m_symbol = 1 + sum(grid.h[i] ** 2 / 12.0 * lam[i] for i in range(grid.d))
                symbol = symbol + kk * m_symbol
            else:
                symbol = symbol + kk
        solver = DSTSolver(symbol, grid.unknown_shape)
        u_inner = solver.solve(b)
    else:
        solver = LUSolver(A[:, inner_idx], grid.unknown_shape)
        u_inner = solver.solve(b, refine=True)
    u = g.copy()
    u[inner_idx] = u_inner
    return u.reshape(grid.shape), solver.method


_COMPATIBILITY_TOL = 1e-4
_GAUSS_POINTS = 24


def _solve_pure_neumann(
    spec: Spec, grid: Grid, K: sp.csr_matrix, b: np.ndarray, helm: bool
) -> tuple[np.ndarray, str]:
    r"""``K u = b`` when every face is Neumann or flux-only Robin (Poisson, or Helmholtz with
    ``k = 0``).

    ``K`` is singular: its kernel is the constants and its left kernel the trapezoidal weights
    ``w`` (:meth:`Grid.trapezoid_weights`), so a solution exists iff ``w . b = 0``, the
    trapezoidal rule of the compatibility condition :math:`\int f + \oint g = 0` (Poisson;
    :math:`\int f = \oint g` for :math:`\Delta u = f`). The condition is checked on the
    continuous data first (:func:`_check_compatible`); the discrete ``w . b``, which differs by
    the quadrature error, is then projected out (a constant shift of ``f``), one node is pinned
    to zero, the remaining non-singular system solved, and the constant fixed by a zero
    trapezoidal mean, :math:`\sum w u = 0`: the solution is defined up to a constant and the
    reference returns the one of mean zero.
    """
    w = grid.trapezoid_weights()
    _check_compatible(spec, grid, b, w, helm)
    shift = float(w @ b) / float(w.sum())
    log.debug("pure Neumann: discrete compatibility defect %.3g projected out", shift)
    b = b - shift
    solver = LUSolver(K[1:, 1:], grid.unknown_shape, skip_first=True)
    u = np.zeros(len(b))
    u[1:] = solver.solve(b[1:], refine=True)
    u -= float(w @ u) / float(w.sum())
    return u, f"{solver.method}; pure Neumann, zero-mean solution"


def _gauss(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    x, wq = np.polynomial.legendre.leggauss(_GAUSS_POINTS)
    return lo + (x + 1) * (hi - lo) / 2, wq * (hi - lo) / 2


def _tensor(rules: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Points ``(N, len(rules))`` and weights of the tensor product of 1-D rules."""
    if not rules:
        return np.zeros((1, 0)), np.ones(1)
    pts = np.meshgrid(*[r[0] for r in rules], indexing="ij")
    wts = np.meshgrid(*[r[1] for r in rules], indexing="ij")
    return np.stack([p.ravel() for p in pts], axis=1), np.prod([w.ravel() for w in wts], axis=0)


def _check_compatible(spec: Spec, grid: Grid, b: np.ndarray, w: np.ndarray, helm: bool) -> None:
    r"""Raise ``ValueError`` unless the data of a pure Neumann problem are compatible.

    :math:`\int f + \oint g` (Poisson; :math:`\int f - \oint g` for :math:`\Delta u = f`)
    relative to :math:`\int |f| + \oint |g|`, by Gauss-Legendre quadrature (24 points per
    axis) and by the grid's trapezoidal rule; the smaller must be within 1e-4. The
    trapezoidal value is ``O(h^2)`` for smooth compatible data; Gauss-Legendre is exact to
    rounding for them, and the trapezoidal rule covers data too rough for it.
    """
    eq = spec.equation
    lo, hi = spec.box.bounds
    d = spec.box.dim
    rules = [_gauss(float(lo[i]), float(hi[i])) for i in range(d)]
    x, wx = _tensor(rules)
    fv = np.broadcast_to(evaluate_numpy(eq.f, x, f"{type(eq).__name__}.f"), (len(wx),))
    vol, vol_abs = float(wx @ fv), float(wx @ np.abs(fv))
    parts = spec.box.boundary_parts
    owner = face_owners(spec.neumann + spec.robin, parts)
    surf = surf_abs = 0.0
    for face, cond in sorted(owner.items()):
        axis, upper = divmod(face, 2)
        y, wy = _tensor([r for i, r in enumerate(rules) if i != axis])
        pts = np.insert(y, axis, float(hi[axis] if upper else lo[axis]), axis=1)
        g, _, bv = face_coefficients(cond, pts, parts[face])
        gv = g / bv  # the flux: g, or a flux-only Robin condition's g / b
        surf += float(wy @ gv)
        surf_abs += float(wy @ np.abs(gv))
    total = vol - surf if helm else vol + surf
    scale = vol_abs + surf_abs
    rel = abs(total) / scale if scale > 0 else 0.0
    # The grid's trapezoidal rule of the same (b = -f - c for Poisson, f - c for Delta u = f).
    tz = abs(float(w @ b)) / max(float(w @ np.abs(b)), 1e-300)
    if min(rel, tz) > _COMPATIBILITY_TOL:
        sign = "int f - oint g" if helm else "int f + oint g"
        raise ValueError(
            f"every face is Neumann (or Robin with a = 0, flux g / b), so "
            f"{spec.problem.name!r} has a solution only when the data are compatible: "
            f"{sign} = 0 over the box; here {sign} = {total:.6g} "
            f"(relative {rel:.3g} of int |f| + oint |g| = {scale:.6g}; grid trapezoidal "
            f"rule: {tz:.3g}). Change f or the Neumann data g, or make a face Dirichlet"
        )
