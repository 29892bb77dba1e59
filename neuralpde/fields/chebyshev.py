r"""A Chebyshev series over a box: the lift of a hard constraint.

.. math::

    A(x) = \sum_{\alpha \in \mathcal{I}} c_\alpha \prod_{i=1}^{d} T_{\alpha_i}(s_i),
    \qquad s = 2\,\frac{x - \ell}{h - \ell} - 1 \in [-1, 1]^d,

with :math:`T_k` the Chebyshev polynomials and :math:`\mathcal{I}` the tensor-product set of
degrees :math:`p_i` or, where that is too large, the anisotropic total-degree set
:math:`\{\alpha : \sum_i \alpha_i / p_i \le 1\}` (:func:`index_set`). Linear in its
coefficients, it is fitted to data by one least-squares solve, and smooth data (analytic
boundary and initial values) converge geometrically in the degrees :math:`p_i`; its derivatives
are exact. The indices and coefficients are buffers, saved and loaded with the field's weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["ChebyshevSeries", "index_set", "total_degree_set", "chebyshev_basis"]

_BLOCK = 2**22  # numbers in the basis tables of one block of points


def index_set(degrees: Sequence[int], limit: int = 2000) -> torch.Tensor:
    r"""The tensor-product set :math:`\{\alpha : \alpha_i \le p_i\}` when it has at most
    ``limit`` terms (products of one-dimensional data, such as :math:`\sin\pi x \sin\pi y`,
    need their full degree along every axis at once), else the total-degree set
    (:func:`total_degree_set`), which holds sums of one-dimensional data in many dimensions."""
    p = [int(v) for v in degrees]
    if math.prod(v + 1 for v in p) <= limit:
        grids = torch.meshgrid(*[torch.arange(v + 1) for v in p], indexing="ij")
        return torch.stack([g.reshape(-1) for g in grids], dim=1).to(torch.int64)
    return total_degree_set(p, limit)


def total_degree_set(degrees: Sequence[int], limit: int = 2000) -> torch.Tensor:
    r"""The multi-indices :math:`\alpha` with :math:`\sum_i \alpha_i/p_i \le 1` (an axis of
    degree 0 keeps :math:`\alpha_i = 0`), as an ``(n, d)`` int64 tensor; the degrees are scaled
    down together until there are at most ``limit``."""
    p = [int(v) for v in degrees]
    while True:
        out: list[tuple[int, ...]] = []
        _fill(p, 0, 1.0 + 1e-12, (), out, limit + 1)
        if len(out) <= limit or max(p) <= 1:
            return torch.tensor(out, dtype=torch.int64).reshape(-1, len(p))
        p = [max(int(v * 0.9), min(v, 1)) for v in p]


def _fill(p: list[int], i: int, left: float, head: tuple, out: list, cap: int) -> None:
    """Append to ``out`` the indices that extend ``head`` within the budget ``left``, visiting
    only those (and stopping once ``out`` holds ``cap``)."""
    if len(out) >= cap:
        return
    if i == len(p):
        out.append(head)
        return
    top = 0 if p[i] == 0 else int(math.floor(left * p[i] + 1e-9))
    for a in range(top + 1):
        _fill(p, i + 1, left - (a / p[i] if p[i] else 0.0), (*head, a), out, cap)


def chebyshev_basis(
    s: torch.Tensor, indices: torch.Tensor, derivative_axis: int | None = None
) -> torch.Tensor:
    r"""The basis :math:`\prod_i T_{\alpha_i}(s_i)` at scaled points ``s`` (``(N, d)``), one
    column per row of ``indices``; with ``derivative_axis`` the derivative of each product with
    respect to that scaled coordinate (:math:`T_k' = k U_{k-1}`, by its recurrence)."""
    n, d = s.shape
    top = int(indices.max()) if indices.numel() else 0
    cols = []
    for i in range(d):
        si = s[:, i]
        t = [torch.ones_like(si), si]
        dt = [torch.zeros_like(si), torch.ones_like(si)]
        for k in range(1, top):
            t.append(2 * si * t[k] - t[k - 1])
            dt.append(2 * t[k] + 2 * si * dt[k] - dt[k - 1])
        table = torch.stack((dt if i == derivative_axis else t)[: top + 1], dim=1)
        cols.append(table[:, indices[:, i]])
    out = cols[0]
    for c in cols[1:]:
        out = out * c
    return out


class ChebyshevSeries(nn.Module):
    """:math:`A(x)` over the box ``[lower, upper]`` (see the module's docstring); ``indices``
    ``(n, d)`` and ``coefficients`` ``(n,)``."""

    def __init__(
        self,
        lower: Sequence[float],
        upper: Sequence[float],
        indices: torch.Tensor,
        coefficients: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        # checked as plain numbers: the module may be built on the meta device, for its shapes
        lo_np, hi_np = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
        if lo_np.shape != hi_np.shape or lo_np.ndim != 1 or not (hi_np > lo_np).all():
            raise ValueError(f"ChebyshevSeries needs lower < upper, got {lower!r}, {upper!r}")
        lo = torch.as_tensor(lo_np.tolist(), dtype=torch.float64)
        hi = torch.as_tensor(hi_np.tolist(), dtype=torch.float64)
        indices = torch.as_tensor(indices, dtype=torch.int64)
        negative = indices.device.type != "meta" and bool((indices < 0).any())
        if indices.ndim != 2 or indices.shape[1] != lo.numel() or negative:
            raise ValueError(
                f"indices must be an (n, {lo.numel()}) array of non-negative degrees, got shape "
                f"{tuple(indices.shape)}"
            )
        if coefficients is None:
            coefficients = torch.zeros(indices.shape[0], dtype=torch.float64)
        self.register_buffer("lower", lo)
        self.register_buffer("upper", hi)
        self.register_buffer("indices", indices)
        self.register_buffer("coefficients", torch.as_tensor(coefficients, dtype=torch.float64))

        self._cache: list[tuple] = []  # (points, coefficients' version, value, grad, Hessian)
        self._shape_of: tuple = (None, None)  # (indices' identity, tensor shape or None)

    def scaled(self, x: torch.Tensor) -> torch.Tensor:
        return 2.0 * (x - self.lower) / (self.upper - self.lower) - 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`A(x)`. Where ``x`` carries gradients, the value, gradient and Hessian are
        computed by the derivative recurrences at once (and kept for the last few point sets,
        which training evaluates again and again) and returned as the quadratic
        :math:`A_0 + g_0\cdot(x - x_0) + \tfrac12 (x - x_0)^\top H_0 (x - x_0)` at
        :math:`x = x_0`: autograd then finds the exact first and second derivatives without
        replaying the recurrences (derivatives of third order are those of the quadratic)."""
        if not (torch.is_grad_enabled() and x.requires_grad):
            shape = self.tensor_shape()
            if shape is not None:
                return _tensor_values(self, x, shape)
            rows = self._rows()
            return (
                torch.cat(
                    [
                        chebyshev_basis(self.scaled(x[i : i + rows]), self.indices)
                        @ self.coefficients
                        for i in range(0, x.shape[0], rows)
                    ]
                )
                if x.shape[0]
                else x.new_zeros(0)
            )
        a0, g0, h0 = self._taylor(x.detach())
        dx = x - x.detach()  # zero, with x's gradient
        return a0 + (dx * g0).sum(dim=1) + 0.5 * torch.einsum("ni,nij,nj->n", dx, h0, dx)

    def derivative(self, x: torch.Tensor, axis: int) -> torch.Tensor:
        r""":math:`\partial A/\partial x_{\text{axis}}` at ``x`` (``(N, d)``), in blocks, with no
        graph."""
        rows, rate = self._rows(), 2.0 / float(self.upper[axis] - self.lower[axis])
        with torch.no_grad():
            parts = [
                chebyshev_basis(self.scaled(x[i : i + rows]), self.indices, axis)
                @ self.coefficients
                for i in range(0, x.shape[0], rows)
            ]
        return rate * torch.cat(parts) if parts else x.new_zeros(0)

    def _taylor(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        version = self.coefficients._version  # loading new coefficients empties the cache
        for x0, v0, a0, g0, h0 in self._cache:
            same = x0.shape == x.shape and x0.dtype == x.dtype and x0.device == x.device
            if same and v0 == version and torch.equal(x0, x):
                return a0, g0, h0
        shape = self.tensor_shape()
        # three tables (T, T', T'') per axis
        rows = _tensor_rows(shape) if shape is not None else max(self._rows() // 3, 1)
        parts = [_value_gradient_hessian(self, x[i : i + rows]) for i in range(0, len(x), rows)]
        out = tuple(torch.cat(v) for v in zip(*parts, strict=True))
        self._cache = [(x.clone(), version, *out), *self._cache[:3]]
        return out

    def tensor_shape(self) -> tuple[int, ...] | None:
        """``(p_1 + 1, ..., p_d + 1)`` when the indices are the whole tensor-product set in C
        order (the coefficients then reshape to that array and the series is evaluated by
        contracting one axis at a time: a matrix product, then sums), else ``None``."""
        idx = self.indices
        if idx.device.type == "meta" or idx.numel() == 0:
            return None
        key = (idx.data_ptr(), idx._version, tuple(idx.shape))
        if self._shape_of[0] != key:
            shape = tuple(int(v) + 1 for v in idx.max(dim=0).values)
            whole = math.prod(shape) == idx.shape[0]
            if whole:
                grids = torch.meshgrid(*[torch.arange(n) for n in shape], indexing="ij")
                full = torch.stack([g.reshape(-1) for g in grids], dim=1).to(idx.device)
                whole = torch.equal(idx, full)
            self._shape_of = (key, shape if whole else None)
        return self._shape_of[1]

    def _rows(self) -> int:
        """Points per block, so that a block's tables hold about 4 million numbers (32 MB in
        float64) whatever the number of terms and axes."""
        return max(_BLOCK // max(self.indices.numel(), 1), 1)


def _tables(s: torch.Tensor, top: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:math:`T_k, T_k', T_k''` at ``s`` (``(N,)``) for ``k = 0..top``, each ``(N, top + 1)``."""
    one, zero = torch.ones_like(s), torch.zeros_like(s)
    t, d1, d2 = [one, s], [zero, one], [zero, zero]
    for k in range(1, top):
        t.append(2 * s * t[k] - t[k - 1])
        d1.append(2 * t[k] + 2 * s * d1[k] - d1[k - 1])
        d2.append(4 * d1[k] + 2 * s * d2[k] - d2[k - 1])
    return tuple(torch.stack(v[: top + 1], dim=1) for v in (t, d1, d2))


def _values_table(s: torch.Tensor, top: int) -> torch.Tensor:
    """:math:`T_k(s)` for ``k = 0..top``, ``(N, top + 1)`` (no derivative tables)."""
    t = [torch.ones_like(s), s]
    for k in range(1, top):
        t.append(2 * s * t[k] - t[k - 1])
    return torch.stack(t[: top + 1], dim=1)


def _contract(tables: list[torch.Tensor], c: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    r""":math:`\sum_\alpha c_\alpha \prod_i B_i[n, \alpha_i]` for per-axis tables
    :math:`B_i` ``(N, p_i + 1)`` and coefficients of the tensor-product set ``shape``: a matrix
    product along the first axis, then one weighted sum per further axis."""
    n = tables[0].shape[0]
    y = tables[0] @ c.reshape(shape[0], -1)
    for i in range(1, len(shape)):
        y = (y.reshape(n, shape[i], -1) * tables[i].unsqueeze(2)).sum(dim=1)
    return y.reshape(n)


def _tensor_rows(shape: tuple[int, ...]) -> int:
    """Points per block of a tensor-product evaluation (its intermediate holds the terms less
    the first axis per point, and three tables per axis)."""
    per_point = math.prod(shape[1:]) + 3 * sum(shape)
    return max(_BLOCK // per_point, 1)


def _tensor_values(
    series: ChebyshevSeries, x: torch.Tensor, shape: tuple[int, ...]
) -> torch.Tensor:
    """:math:`A(x)` through :func:`_contract`, in blocks."""
    rows, c = _tensor_rows(shape), series.coefficients
    out = []
    for i in range(0, x.shape[0], rows):
        s = series.scaled(x[i : i + rows])
        tabs = [_values_table(s[:, k], n - 1) for k, n in enumerate(shape)]
        out.append(_contract(tabs, c, shape))
    return torch.cat(out) if out else x.new_zeros(0)


def _value_gradient_hessian(
    series: ChebyshevSeries, x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The series' value ``(N,)``, gradient ``(N, d)`` and Hessian ``(N, d, d)`` in ``x``."""
    idx, c = series.indices, series.coefficients
    n, d = x.shape
    s = series.scaled(x)
    rate = 2.0 / (series.upper - series.lower)  # ds_i/dx_i
    top = int(idx.max()) if idx.numel() else 0
    shape = series.tensor_shape()
    if shape is not None:  # per-axis tables, contracted
        tabs = [[t[:, :n] for t in _tables(s[:, i], n - 1)] for i, n in enumerate(shape)]
    else:  # one column per term
        tabs = [[tab[:, idx[:, i]] for tab in _tables(s[:, i], top)] for i in range(d)]

    def product(orders: dict[int, int]) -> torch.Tensor:
        if shape is not None:
            return _contract([tabs[i][orders.get(i, 0)] for i in range(d)], c, shape)
        out = tabs[0][orders.get(0, 0)]
        for i in range(1, d):
            out = out * tabs[i][orders.get(i, 0)]
        return out @ c

    value = product({})
    grad = torch.stack([product({i: 1}) * rate[i] for i in range(d)], dim=1)
    hess = x.new_zeros(n, d, d)
    for i in range(d):
        for j in range(i, d):
            h = product({i: 2} if i == j else {i: 1, j: 1}) * rate[i] * rate[j]
            hess[:, i, j] = h
            hess[:, j, i] = h
    return value, grad, hess
