"""The discrete operator of the finite-difference reference on a domain that is not a box:
Shortley-Weller rows at Dirichlet crossings, ghost nodes closed by the conditions on weighted
least-squares fits, merged nodes, and the ghosts' elimination (see :mod:`~.irregular`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..domains import Domain
from ._boundary import cell_weights, nearest_boundary
from ._ghosts import ghost_rows
from ._grid import Grid, nested_dissection
from ._linalg import LUSolver
from ._regions import THETA_MIN, RegionData, RegionGrid

__all__ = [
    "RegionOperator",
    "graph_dissection",
    "region_operator",
]

log = logging.getLogger("neuralpde.reference")


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


def _conditions_at(domain: Domain, data: RegionData, points: np.ndarray) -> np.ndarray:
    """The condition of each of ``points`` (boundary points): the owner of its nearest part."""
    if data.single is not None or len(points) == 0:
        return data.owners(None, len(points))
    return data.owners(nearest_boundary(domain, points, data.prefer).parts, len(points))


def _dirichlet_nodes(rg: RegionGrid, data: RegionData, pts: np.ndarray):
    """The Dirichlet nodes ``fixed`` (conditions ``fixed_cond``), the boundary-node unknowns
    ``flux_nodes``, and, for the candidates of ``rg`` kept (``keep``), their ``cand``,
    ``theta``, Dirichlet and ghost crossings ``dirx``, ``ghostx`` and crossing conditions
    ``xcond``."""
    d = rg.grid.d
    # boundary nodes: Dirichlet nodes, or unknowns on a Neumann/Robin part
    bn = rg.bnodes
    cond_b = _conditions_at(rg.domain, data, pts[bn])
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
            xcond[i, k, rows] = _conditions_at(rg.domain, data, rg.points[i][k])
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
    return fixed, fixed_cond, flux_nodes, keep, cand, theta, dirx, ghostx, xcond


def _crossing_data(rg, pts, fixed, fixed_cond, keep, cand, dirx, xcond):
    """The data points (Dirichlet nodes, then the Dirichlet crossings kept), their conditions,
    their count, and ``xdata``: the data index of each Dirichlet crossing per (axis, side, node)."""
    d = rg.grid.d
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
    return data_pts, data_cond, n_data, xdata


def _merged_nodes(rg, cand, theta, dirx, merge):
    """The merged nodes among ``cand`` and the side (``2 axis + side``) of each one's crossing
    (-1 elsewhere)."""
    grid, d, strides = rg.grid, rg.grid.d, rg.strides
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
    return merged, merge_side


def _ghost_nodes(rg, multi_all, cand, ghostx, lap, flux_nodes, pos, c_rows, nn):
    """The ghosts: ``refs`` (row, axis, side) of each ghost neighbour, ``gstate`` (its ghost's
    state index), the ghosts' coordinates, and ``flux_nb`` (the boundary-node unknowns'
    neighbours that are ghosts)."""
    grid, d, h = rg.grid, rg.grid.d, rg.grid.h
    # ghosts: the outside neighbours of node rows through Neumann/Robin parts
    shape_p = np.array(grid.shape) + 2
    ghost_keys, ghost_refs = [], []  # padded flat index; (row, axis, side)
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
    return refs, gstate, ghosts, flux_nb


def _laplacian_rows(A, rg, cand, theta, dirx, ghostx, xdata, lap, c_rows, pos, fpos, gcol, nn):
    """Add the Laplacian rows of the node unknowns not merged (candidates, Shortley-Weller at
    Dirichlet crossings) to ``A``; returns their diagonal and which rows they are."""
    d, h, strides = rg.grid.d, rg.grid.h, rg.strides
    # Laplacian rows of the node unknowns
    diag = np.zeros(nn)
    dyn_rows = np.zeros(nn, dtype=bool)
    # cand rows (not merged)
    cr = np.flatnonzero(lap)
    rows_c = c_rows[cr]
    dyn_rows[rows_c] = True
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
    return diag, dyn_rows


def _flux_rows(A, rg, flux_nodes, flux_nb, pos, fpos, gcol, diag, dyn_rows) -> None:
    """Add the rows of the boundary-node unknowns (regular, ghosts outside) to ``A``, updating
    ``diag`` and ``dyn_rows`` in place."""
    d, h, strides = rg.grid.d, rg.grid.h, rg.strides
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


def _merged_rows(A, rg, cand, theta, merged, merge_side, xdata, c_rows, pos, fpos) -> np.ndarray:
    """Add the merged nodes' rows to ``A``; returns their indices among ``cand``."""
    strides = rg.strides
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
    return mr


def _condition_rows(A, rg, data, ghosts, pts, pos, fpos, nn, n_data, data_pts, data_cond, t):
    """Add the ghosts' rows (the condition at the nearest boundary point, on the fitted
    polynomial) to ``A`` and their data to ``data_pts``, ``data_cond``; returns the new count
    of data points."""
    domain, h = rg.domain, rg.grid.h
    ng = len(ghosts)
    # ghost rows: the condition at the nearest boundary point, on the fitted polynomial
    if ng:
        foot = nearest_boundary(domain, ghosts, data.prefer)
        gcond = data.owners(foot.parts, ng)
        a, b = data.coefficients(gcond, foot.points, t)
        inside_idx = np.flatnonzero(rg.inside)
        cg, near, cn, _ = ghost_rows(
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
    return n_data


def _eliminate_ghosts(L: sp.csr_matrix, C: sp.csr_matrix, nn: int, ng: int):
    """``L`` and ``C`` with the ghosts eliminated (each ghost row holds its ghost and nodes
    only)."""
    if ng:  # eliminate the ghosts: each ghost row holds its ghost and nodes only
        LG = L[nn:].tocsc()
        D = LG[:, nn:].diagonal()
        assert LG[:, nn:].nnz == ng, "a ghost row holds another ghost"
        LNG = L[:nn, nn:] @ sp.diags(1.0 / D)
        C = (C[:nn] - LNG @ C[nn:]).tocsr()
        L = (L[:nn, :nn] - LNG @ LG[:, :nn]).tocsr()
        L.eliminate_zeros()
    return L, C


def region_operator(
    rg: RegionGrid, data: RegionData, *, merge: float = 0.0, t: float | None = None
) -> RegionOperator:
    """The :class:`RegionOperator` of the conditions ``data`` on the grid ``rg`` (see the module
    doc); ``merge`` is the threshold of merged nodes (0: none), ``t`` the time at which Robin
    coefficients are evaluated (timed problems)."""
    grid = rg.grid
    d, n_all = grid.d, grid.size
    pts = rg.node_points
    multi_all = np.stack(np.unravel_index(np.arange(n_all), grid.shape), axis=1)
    fixed, fixed_cond, flux_nodes, keep, cand, theta, dirx, ghostx, xcond = _dirichlet_nodes(
        rg, data, pts
    )
    data_pts, data_cond, n_data, xdata = _crossing_data(
        rg, pts, fixed, fixed_cond, keep, cand, dirx, xcond
    )
    merged, merge_side = _merged_nodes(rg, cand, theta, dirx, merge)
    nodes = np.sort(np.concatenate([cand, flux_nodes]))
    nn = len(nodes)
    pos = np.full(n_all, -1)
    pos[nodes] = np.arange(nn)
    fpos = np.full(n_all, -1)
    fpos[fixed] = np.arange(len(fixed))
    c_rows = pos[cand]
    lap = ~merged
    refs, gstate, ghosts, flux_nb = _ghost_nodes(
        rg, multi_all, cand, ghostx, lap, flux_nodes, pos, c_rows, nn
    )
    ng = len(ghosts)
    m_state = nn + ng
    A = _Assembly()
    gcol = np.full((d, 2, max(nn, 1)), -1)  # the ghost neighbour of a row, by axis and side
    gcol[refs[:, 1], refs[:, 2], refs[:, 0]] = gstate
    diag, dyn_rows = _laplacian_rows(
        A, rg, cand, theta, dirx, ghostx, xdata, lap, c_rows, pos, fpos, gcol, nn
    )
    _flux_rows(A, rg, flux_nodes, flux_nb, pos, fpos, gcol, diag, dyn_rows)
    lap_rows = np.flatnonzero(dyn_rows)
    A.add(lap_rows, lap_rows, np.full(lap_rows.size, -1), diag[lap_rows])
    scale = np.ones(m_state)
    scale[lap_rows] = -diag[lap_rows]
    mr = _merged_rows(A, rg, cand, theta, merged, merge_side, xdata, c_rows, pos, fpos)
    n_data = _condition_rows(
        A, rg, data, ghosts, pts, pos, fpos, nn, n_data, data_pts, data_cond, t
    )
    L, C = _eliminate_ghosts(*A.matrices(m_state, n_data), nn, ng)
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
