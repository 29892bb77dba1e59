r"""Steady problems: Poisson :math:`-\Delta u = f` and Helmholtz :math:`\Delta u + k^2 u = f`.

Unknowns are the interior nodes; the Dirichlet values enter the right-hand side through the
boundary columns of the operator. With :math:`K = \mathrm{diag}(k^2)` at the nodes:

* order 2: :math:`-\Delta_h u = f` and :math:`(\Delta_h + K) u = f`, exact for polynomials of
  degree at most 3 in each variable;
* order 4 (Mehrstellen): :math:`L_4 u = -M f` and :math:`(L_4 + M K) u = M f`. From
  :math:`\delta_i^2 u = u_{ii} + \tfrac{h_i^2}{12} u_{iiii} + O(h^4)` and
  :math:`u_{iiii} = \partial_i^2 \Delta u - \sum_{j\ne i} u_{iijj}`:
  :math:`L_4 u = M \Delta u + O(h^4)`, so the scheme is fourth order, exact for polynomials of
  total degree at most 5, and compact (no special stencil next to the boundary). The corrected
  right-hand side :math:`M f` uses :math:`f` at the boundary nodes too. It holds for variable
  :math:`k(x)`, since :math:`M K u` is the same correction applied to :math:`k^2 u`.
"""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np
import scipy.sparse as sp

from ._grid import BoundaryData, Grid, evaluate_numpy
from ._linalg import DSTSolver, LUSolver, dirichlet_eigenvalues, laplacian, mehrstellen
from ._spec import Spec

__all__ = ["solve_steady", "ResonanceWarning", "check_resonance"]

log = logging.getLogger("neuralpde.reference")


class ResonanceWarning(UserWarning):
    """Helmholtz ``k^2`` lies close to a Dirichlet eigenvalue of the box: the solution is
    dominated by that mode and sensitive to every error."""


def check_resonance(spec: Spec, tol: float = 0.01) -> None:
    r"""Warn when a constant :math:`k^2` lies within ``tol`` (relative) of a Dirichlet eigenvalue
    :math:`\pi^2 \sum_i (m_i / L_i)^2`, :math:`m_i \ge 1`, of the box."""
    k = spec.equation.k
    if callable(k):
        log.debug("variable k: no resonance check against the box's Dirichlet eigenvalues")
        return
    k2 = float(k) ** 2
    if k2 == 0:
        return
    lo, hi = spec.box.bounds
    L = hi - lo
    top = [int(math.sqrt(k2 * (1 + tol)) * Li / math.pi) + 1 for Li in L]
    if np.prod([float(t) for t in top[:-1]]) > 1e6:
        log.debug("k too large for the resonance check; skipped")
        return
    # Enumerate all modes of the first d-1 axes; pick the nearest m_d for each.
    grids = np.meshgrid(*[np.arange(1, t + 1) for t in top[:-1]], indexing="ij")
    first = np.stack([g.ravel() for g in grids], axis=1) if grids else np.ones((1, 0), int)
    part = (math.pi**2) * np.sum((first / L[:-1]) ** 2, axis=1)
    rest = np.maximum(k2 - part, 0.0)
    m_last = np.maximum(np.rint(np.sqrt(rest) * L[-1] / math.pi), 1).astype(int)
    modes, lams = [], []
    for shift in (-1, 0, 1):
        m = np.maximum(m_last + shift, 1)
        modes.append(np.column_stack([first, m]))
        lams.append(part + (math.pi * m / L[-1]) ** 2)
    modes_all, lam_all = np.concatenate(modes), np.concatenate(lams)
    gap = np.abs(lam_all - k2)
    near = gap <= gap.min() + 1e-9 * k2  # a degenerate eigenvalue has several modes
    lam = float(lam_all[near][0])
    found = sorted({tuple(int(v) for v in row) for row in modes_all[near]})
    mode = ", ".join(str(m) for m in found)
    rel = abs(lam - k2) / lam
    if rel <= tol:
        warnings.warn(
            f"Helmholtz k^2 = {k2:.6g} is within {100 * rel:.3g}% of the Dirichlet eigenvalue "
            f"{lam:.6g} of the box (mode m = {mode}): the problem is nearly singular and the "
            "reference is sensitive to every error",
            ResonanceWarning,
            stacklevel=3,
        )


def solve_steady(
    spec: Spec, grid: Grid, order: int, method: str = "auto"
) -> tuple[np.ndarray, str]:
    """Solve on ``grid``; returns the values on every node (shape ``grid.shape``) and the
    linear-solver name."""
    if method not in ("auto", "dst", "lu"):
        raise ValueError(f"method must be 'auto', 'dst' or 'lu', got {method!r}")
    eq = spec.equation
    pts = grid.points()
    f = np.broadcast_to(evaluate_numpy(eq.f, pts, f"{type(eq).__name__}.f"), (grid.size,))
    helm = spec.kind == "helmholtz"
    if helm:
        k = evaluate_numpy(eq.k, pts, "Helmholtz.k")
        k2 = np.broadcast_to(k**2, (grid.size,))
    boundary = BoundaryData(grid, spec.dirichlet, spec.box.boundary_parts, timed=False)
    g = boundary.lift()
    inner_idx = grid.interior
    if order == 2:
        A = laplacian(grid)
        rhs = f[inner_idx] if helm else -f[inner_idx]
        if helm:
            A = A + _diag_columns(k2[inner_idx], inner_idx, grid.size)
    else:
        L4, M = mehrstellen(grid)
        rhs = M @ f if helm else -(M @ f)
        A = L4 + M.multiply(k2[None, :]).tocsr() if helm else L4
    b = rhs - A @ g
    lam = dirichlet_eigenvalues(grid)
    constant = not (helm and callable(eq.k))
    if method == "dst" and not constant:
        raise ValueError("method='dst' needs constant coefficients (Helmholtz k is a callable)")
    if constant and method in ("auto", "dst"):
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
        solver = DSTSolver(symbol, grid.inner_shape)
        u_inner = solver.solve(b)
    else:
        solver = LUSolver(A[:, inner_idx], grid.inner_shape)
        u_inner = solver.solve(b, refine=True)
    u = g.copy()
    u[inner_idx] = u_inner
    return u.reshape(grid.shape), solver.method


def _diag_columns(values: np.ndarray, cols: np.ndarray, size: int):
    """Sparse ``len(cols) x size`` matrix with ``values`` at ``(r, cols[r])``."""
    r = np.arange(len(cols))
    return sp.csr_matrix((values, (r, cols)), shape=(len(cols), size))
