r"""Sparse finite-difference operators on a :class:`Grid` and the linear solvers behind them.

Operators are assembled on the full grid (every node, boundary included) by Kronecker products of
1-D matrices, so assembly is vectorised; only the rows of the unknowns (``grid.unknowns``: the
nodes on no Dirichlet face) are kept. With :math:`\delta_i^2 u_j = (u_{j-1} - 2u_j + u_{j+1})/h_i^2`
along axis :math:`i` (at a node of a Neumann or Robin face, :math:`2(u_{\mathrm{mirror}} -
u_j)/h_i^2`, the ghost node eliminated by the condition, whose data and Robin term are
:class:`~._faces.GhostFaces`):

* second order, the :math:`(2d+1)`-point Laplacian :math:`\Delta_h = \sum_i \delta_i^2`;
* fourth order, the compact *Mehrstellen* pair (Collatz)

  .. math::

     L_4 = \sum_i \delta_i^2 + \sum_{i<j} \frac{h_i^2 + h_j^2}{12}\,\delta_i^2\delta_j^2,
     \qquad M = I + \sum_i \frac{h_i^2}{12}\,\delta_i^2,

  with :math:`L_4 u = M \Delta u + O(h^4)` (9 points in 2-D, 19 in 3-D, Numerov in 1-D);
* the conservative form of :math:`\nabla\cdot(\kappa\nabla u)`,
  :math:`\sum_i [\kappa_{j+1/2}(u_{j+1}-u_j) - \kappa_{j-1/2}(u_j-u_{j-1})]/h_i^2`.

Systems are solved by a sparse LU (SuperLU on a nested-dissection ordering) or, when the interior
operator has constant coefficients, exactly by the type-I discrete sine transform: the
eigenvectors of :math:`\delta_i^2` with Dirichlet ends are :math:`\sin(\pi p j / n_i)`, with
eigenvalues :math:`\lambda_i(p) = -4 h_i^{-2} \sin^2(\pi p / 2n_i)`, so every operator built from
the :math:`\delta_i^2` is diagonal in that basis. Both give the same discrete solution.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import reduce

import numpy as np
import scipy.fft
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._grid import Grid, nested_dissection

__all__ = [
    "second_difference",
    "axis_operator",
    "laplacian",
    "mehrstellen",
    "divergence_laplacian",
    "diag_columns",
    "dirichlet_eigenvalues",
    "LUSolver",
    "DSTSolver",
]

log = logging.getLogger("neuralpde.reference")


def second_difference(
    n: int, h: float, neumann: tuple[bool, bool] = (False, False)
) -> sp.csr_matrix:
    """``(n+1) x (n+1)`` matrix of :math:`\\delta^2` on the nodes ``0..n``. Rows 0 and n are
    zero at a Dirichlet end (boundary rows are never used) and ``(-2, 2) / h^2`` (node, its
    neighbour) at a Neumann end: the ghost node mirrored, its data term left to the caller."""
    rows = np.arange(1, n)
    r = np.repeat(rows, 3)
    c = (rows[:, None] + np.array([-1, 0, 1])).ravel()
    v = np.tile(np.array([1.0, -2.0, 1.0]) / h**2, len(rows))
    ends = [(0, 1)] * bool(neumann[0]) + [(n, n - 1)] * bool(neumann[1])
    for node, mirror in ends:
        r = np.concatenate([r, [node, node]])
        c = np.concatenate([c, [node, mirror]])
        v = np.concatenate([v, np.array([-2.0, 2.0]) / h**2])
    return sp.csr_matrix((v, (r, c)), shape=(n + 1, n + 1))


def _kron_axes(factors: dict[int, sp.spmatrix], shape: Sequence[int]) -> sp.csr_matrix:
    mats = [factors.get(a, sp.identity(m, format="csr")) for a, m in enumerate(shape)]
    return reduce(lambda a, b: sp.kron(a, b, format="csr"), mats).tocsr()


def axis_operator(grid: Grid, axis: int) -> sp.csr_matrix:
    """:math:`\\delta_i^2` along ``axis`` on the full grid (Neumann ends mirrored)."""
    D = second_difference(grid.n[axis], grid.h[axis], grid.neumann_ends[axis])
    return _kron_axes({axis: D}, grid.shape)


def laplacian(grid: Grid) -> sp.csr_matrix:
    """The second-order :math:`(2d+1)`-point Laplacian, rows of the unknowns, all columns."""
    full = reduce(lambda a, b: a + b, (axis_operator(grid, i) for i in range(grid.d)))
    return full[grid.unknowns]


def mehrstellen(grid: Grid) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The fourth-order compact pair ``(L4, M)`` (interior rows, all columns); see the module
    docstring. Dirichlet faces only."""
    if grid.neumann:
        raise NotImplementedError("the Mehrstellen scheme has no Neumann closure here")
    d, h = grid.d, grid.h
    D1 = [second_difference(grid.n[i], h[i]) for i in range(d)]
    L = reduce(lambda a, b: a + b, (_kron_axes({i: D1[i]}, grid.shape) for i in range(d)))
    M = sp.identity(grid.size, format="csr")
    for i in range(d):
        M = M + (h[i] ** 2 / 12.0) * _kron_axes({i: D1[i]}, grid.shape)
    for i in range(d):
        for j in range(i + 1, d):
            L = L + ((h[i] ** 2 + h[j] ** 2) / 12.0) * _kron_axes({i: D1[i], j: D1[j]}, grid.shape)
    return L.tocsr()[grid.unknowns], M.tocsr()[grid.unknowns]


def divergence_laplacian(grid: Grid, kappa_at: Callable[[np.ndarray], np.ndarray]) -> sp.csr_matrix:
    """Conservative second-order :math:`\\nabla\\cdot(\\kappa\\nabla u)`, interior rows.

    ``kappa_at(points)`` evaluates :math:`\\kappa` at ``(N, d)`` space points; it is called once
    per axis at the mid-points :math:`x_{j\\pm 1/2}` of the interior nodes.
    """
    if grid.neumann:
        raise NotImplementedError("the conservative Laplacian has no Neumann closure here")
    rows_all, cols_all, vals_all = [], [], []
    idx = grid.unknowns
    multi = np.unravel_index(idx, grid.shape)
    strides = np.cumprod((1,) + grid.shape[::-1])[:-1][::-1]
    base = np.column_stack([ax[j] for ax, j in zip(grid.axes, multi, strict=True)])
    diag = np.zeros(len(idx))
    for i in range(grid.d):
        hi2 = grid.h[i] ** 2
        for sign in (-1, 1):
            pts = base.copy()
            pts[:, i] += 0.5 * sign * grid.h[i]
            k = np.broadcast_to(kappa_at(pts), (len(idx),)) / hi2
            rows_all.append(np.arange(len(idx)))
            cols_all.append(idx + sign * strides[i])
            vals_all.append(k)
            diag -= k
    rows_all.append(np.arange(len(idx)))
    cols_all.append(idx)
    vals_all.append(diag)
    return sp.csr_matrix(
        (np.concatenate(vals_all), (np.concatenate(rows_all), np.concatenate(cols_all))),
        shape=(len(idx), grid.size),
    )


def diag_columns(values: np.ndarray, cols: np.ndarray, size: int) -> sp.csr_matrix:
    """Sparse ``len(cols) x size`` matrix with ``values`` at ``(r, cols[r])``: a diagonal on the
    rows of the unknowns ``cols`` of a full-grid operator."""
    r = np.arange(len(cols))
    return sp.csr_matrix((values, (r, cols)), shape=(len(cols), size))


def dirichlet_eigenvalues(grid: Grid) -> list[np.ndarray]:
    """Eigenvalues of the interior :math:`\\delta_i^2`, one array per axis, shaped to broadcast
    over the interior grid (Dirichlet faces only)."""
    if grid.neumann:
        raise ValueError("the sine transform applies to Dirichlet faces only")
    out = []
    for i in range(grid.d):
        p = np.arange(1, grid.n[i])
        lam = -4.0 / grid.h[i] ** 2 * np.sin(np.pi * p / (2 * grid.n[i])) ** 2
        shape = [1] * grid.d
        shape[i] = len(p)
        out.append(lam.reshape(shape))
    return out


class DSTSolver:
    """Solves ``A x = b`` where ``A`` is diagonal, with entries ``symbol``, in the type-I sine
    basis of the interior grid. ``O(N log N)``; exact up to rounding."""

    method = "DST-I"

    def __init__(self, symbol: np.ndarray, inner_shape: Sequence[int]) -> None:
        symbol = np.broadcast_to(symbol, tuple(inner_shape))
        smallest = float(np.min(np.abs(symbol)))
        if not smallest > 1e-12 * float(np.max(np.abs(symbol))):
            raise ValueError(
                "the discrete operator is singular (a discrete Dirichlet eigenvalue coincides "
                "with the equation's shift); change the grid or the coefficient"
            )
        self.symbol = symbol
        self.shape = tuple(inner_shape)

    def solve(self, b: np.ndarray) -> np.ndarray:
        bh = scipy.fft.dstn(b.reshape(self.shape), type=1, norm="ortho")
        return scipy.fft.idstn(bh / self.symbol, type=1, norm="ortho").ravel()


class LUSolver:
    """Sparse LU (SuperLU) of ``A`` on a nested-dissection ordering of the grid of unknowns
    (``inner_shape``; without its first node when ``skip_first``, for a pinned singular system),
    or on the ordering ``perm`` when given (the unknowns of a domain that is not a box).

    Threshold pivoting (0.1) keeps diagonal pivots, and so the ordering, on the diagonally
    dominant systems of diffusion problems and still pivots on indefinite (Helmholtz) systems.
    """

    method = "sparse LU (SuperLU, nested dissection)"

    def __init__(
        self,
        A: sp.spmatrix,
        inner_shape: Sequence[int],
        skip_first: bool = False,
        *,
        perm: np.ndarray | None = None,
    ) -> None:
        self.A = A.tocsr()
        if perm is None:
            perm = nested_dissection(inner_shape)
            perm = perm[perm != 0] - 1 if skip_first else perm
        self.perm = perm
        Ap = self.A[self.perm][:, self.perm].tocsc()
        try:
            self.lu = spla.splu(
                Ap,
                permc_spec="NATURAL",
                diag_pivot_thresh=0.1,
                options={"SymmetricMode": True},
            )
        except RuntimeError as exc:  # "Factor is exactly singular"
            raise ValueError(
                f"the discrete operator is singular ({exc}); for Helmholtz an eigenvalue of the "
                "grid (Dirichlet/Neumann/Robin faces) coincides with k^2"
            ) from None

    def solve(self, b: np.ndarray, refine: bool = False) -> np.ndarray:
        x = np.empty_like(b)
        x[self.perm] = self.lu.solve(b[self.perm])
        if refine:
            r = b - self.A @ x
            nb = np.linalg.norm(b)
            if nb > 0 and np.linalg.norm(r) > 1e-13 * nb:
                dx = np.empty_like(b)
                dx[self.perm] = self.lu.solve(r[self.perm])
                x += dx
                log.debug(
                    "LU residual %.2e relative before one refinement step",
                    np.linalg.norm(r) / nb,
                )
        return x
