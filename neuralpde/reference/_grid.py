"""Uniform grids on a box, coefficient evaluation, and Dirichlet data on the grid's boundary
(the Neumann and Robin faces' data are in :mod:`._faces`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch

from ..coefficients import Coefficient, evaluate
from ..conditions import Dirichlet
from ..domains import Box

__all__ = ["evaluate_numpy", "Grid", "BoundaryData", "nested_dissection"]


def evaluate_numpy(value: Coefficient, points: np.ndarray, name: str) -> np.ndarray:
    """Evaluate a coefficient (number or callable of a torch ``(N, d)`` tensor) at ``points``.

    Goes through :func:`neuralpde.coefficients.evaluate`, so shape and finiteness are checked in
    one place. Returns a float64 array of shape ``(N,)``, or a 0-d array for a constant.
    """
    x = torch.as_tensor(np.ascontiguousarray(points, dtype=np.float64))
    out = evaluate(value, x, name)
    return np.asarray(out.detach().cpu().numpy(), dtype=np.float64)


class Grid:
    """Nodes ``lo_i + j h_i``, ``j = 0..n_i``, of a box: ``n_i`` intervals per axis.

    Nodes are stored in C order of the multi-index ``(j_1, ..., j_d)``. ``neumann`` holds the
    indices ``2 i + s`` (axis ``i``, ``s = 0`` the min side, 1 the max side, the order of
    ``Box.boundary_parts``) of the ghost-node faces, Neumann and Robin alike (both called Neumann
    faces here: the grid treats them alike; their data are in :mod:`._faces`); the others are
    Dirichlet faces. The *unknowns* are the nodes on no Dirichlet face: the interior nodes plus
    the nodes of Neumann faces off every Dirichlet face (Dirichlet wins on shared edges and
    corners). They form a box of nodes, ``j_i`` from 0 (Neumann min side) or 1 to ``n_i``
    (Neumann max side) or ``n_i - 1``, of shape ``unknown_shape``; ``fixed`` are the remaining
    (Dirichlet) nodes.
    """

    def __init__(self, box: Box, n: Sequence[int], neumann: Iterable[int] = ()) -> None:
        lo, hi = box.bounds
        self.box = box
        self.n = tuple(int(v) for v in n)
        self.d = len(self.n)
        self.lo, self.hi = lo, hi
        self.h = (hi - lo) / np.asarray(self.n, dtype=float)
        self.axes = tuple(np.linspace(a, b, m + 1) for a, b, m in zip(lo, hi, self.n, strict=True))
        self.shape = tuple(m + 1 for m in self.n)
        self.size = int(np.prod(self.shape))
        self.neumann = frozenset(int(f) for f in neumann)
        # Per axis: (min side Neumann, max side Neumann).
        self.neumann_ends = tuple(
            (2 * i in self.neumann, 2 * i + 1 in self.neumann) for i in range(self.d)
        )
        ranges = tuple(
            slice(0 if a else 1, m + 1 if b else m)
            for (a, b), m in zip(self.neumann_ends, self.n, strict=True)
        )
        self.unknown_shape = tuple(r.stop - r.start for r in ranges)
        mask = np.zeros(self.shape, dtype=bool)
        mask[ranges] = True
        self.unknown_mask = mask.ravel()
        self.unknowns = np.flatnonzero(self.unknown_mask)
        self.fixed = np.flatnonzero(~self.unknown_mask)

    def trapezoid_weights(self) -> np.ndarray:
        """Weights of the trapezoidal rule on the unknowns, relative to the cell volume: the
        product over axes of 1/2 at a Neumann-face node, 1 elsewhere."""
        w = np.ones(self.unknown_shape)
        for i, (a, b) in enumerate(self.neumann_ends):
            idx = [slice(None)] * self.d
            if a:
                idx[i] = 0
                w[tuple(idx)] *= 0.5
            if b:
                idx[i] = -1
                w[tuple(idx)] *= 0.5
        return w.ravel()

    def points(self, index: np.ndarray | None = None, t: float | None = None) -> np.ndarray:
        """Coordinates ``(N, d)`` of the nodes ``index`` (all by default), with a time column
        ``t`` appended when given."""
        index = np.arange(self.size) if index is None else index
        multi = np.unravel_index(index, self.shape)
        cols = [ax[j] for ax, j in zip(self.axes, multi, strict=True)]
        if t is not None:
            cols.append(np.full(len(index), float(t)))
        return np.column_stack(cols) if cols else np.empty((0, 0))


class BoundaryData:
    """Dirichlet values on the Dirichlet nodes (``grid.fixed``) of a grid.

    Each such node takes its value from the last Dirichlet condition, in the problem's order,
    whose faces contain it (nodes on edges and corners belong to several faces; continuous data
    agree there). Every Dirichlet face of the grid must be covered by some condition.
    """

    def __init__(
        self, grid: Grid, conditions: Sequence[Dirichlet], parts: Sequence[str], timed: bool
    ) -> None:
        self.grid = grid
        self.timed = timed
        self.index = grid.fixed
        multi = np.unravel_index(self.index, grid.shape)
        on_face = []  # on_face[f]: mask over boundary nodes, face f = 2 * axis + (max side)
        for i in range(grid.d):
            on_face += [multi[i] == 0, multi[i] == grid.n[i]]
        owner = np.full(len(self.index), -1)
        for c, cond in enumerate(conditions):
            faces = range(len(parts)) if cond.on is None else [parts.index(p) for p in cond.on]
            for f in faces:
                owner[on_face[f]] = c
        if np.any(owner < 0):
            raise ValueError("a Dirichlet node of the grid is on no Dirichlet face")
        self.groups = []
        for c, cond in enumerate(conditions):
            sel = np.flatnonzero(owner == c)
            if sel.size:
                self.groups.append((cond, sel))
        self._points = grid.points(self.index)
        self._constant = all(not callable(cond.value) for cond, _ in self.groups)
        self._cache: np.ndarray | None = None

    def values(self, t: float | None = None) -> np.ndarray:
        """Dirichlet values on the Dirichlet nodes (in the order of ``grid.fixed``)."""
        if self._constant and self._cache is not None:
            return self._cache
        out = np.empty(len(self.index))
        for cond, sel in self.groups:
            pts = self._points[sel]
            if self.timed:
                pts = np.column_stack([pts, np.full(len(sel), float(t))])
            out[sel] = evaluate_numpy(cond.value, pts, "Dirichlet.value")
        if self._constant:
            self._cache = out
        return out

    def lift(self, t: float | None = None) -> np.ndarray:
        """A full-grid vector: zero at the unknowns, the Dirichlet values at the Dirichlet
        nodes."""
        g = np.zeros(self.grid.size)
        g[self.index] = self.values(t)
        return g


def nested_dissection(shape: Sequence[int], leaf: int = 64) -> np.ndarray:
    """A nested-dissection ordering of the nodes of a ``shape`` grid (C order) for compact
    (``3^d``-point) stencils.

    The block is cut by its middle plane across its longest axis; the two halves are ordered first
    (recursively), the separating plane last. It bounds the fill of a sparse LU to
    ``O(N log N)`` in 2-D (``O(N^{4/3})`` in 3-D). The recursion runs over blocks, not nodes.
    """
    shape = tuple(int(s) for s in shape)
    idx = np.arange(int(np.prod(shape))).reshape(shape)
    if len(shape) <= 1:
        return idx.ravel()
    out: list[np.ndarray] = []
    stack: list[tuple[np.ndarray, bool]] = [(idx, False)]
    # Iterative post-order: a block is replaced by (separator, emit), right half, left half.
    while stack:
        block, emit = stack.pop()
        if emit or block.size <= leaf or max(block.shape) < 3:
            out.append(block.ravel())
            continue
        ax = int(np.argmax(block.shape))
        k = block.shape[ax] // 2
        take = [slice(None)] * block.ndim
        left, mid, right = list(take), list(take), list(take)
        left[ax], mid[ax], right[ax] = slice(0, k), slice(k, k + 1), slice(k + 1, None)
        stack.append((block[tuple(mid)], True))
        stack.append((block[tuple(right)], False))
        stack.append((block[tuple(left)], False))
    return np.concatenate(out)
