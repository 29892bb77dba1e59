r"""Neumann and Robin faces of a box: their ghost nodes' contribution to the second-order
Laplacian at the unknowns (:class:`GhostFaces`).

On a face of axis :math:`i` (outward normal :math:`\pm e_i`) the condition
:math:`a u + b\,\partial u/\partial n = g` (Neumann: :math:`a = 0`, :math:`b = 1`) and the
centred difference :math:`\partial u/\partial n \approx (u_{\mathrm{ghost}} -
u_{\mathrm{mirror}}) / 2h_i` give :math:`u_{\mathrm{ghost}} = u_{\mathrm{mirror}} + 2h_i (g -
a u)/b`, so at the face's node

.. math::

    \delta_i^2 u = \frac{2(u_{\mathrm{mirror}} - u)}{h_i^2} + \frac{2g}{b h_i}
                   - \frac{2a}{b h_i}\,u .

The first part is in the matrix (:func:`~._linalg.second_difference`), the second is
:meth:`GhostFaces.term` and the third :meth:`GhostFaces.diagonal` (:math:`r`, subtracted from
the operator's diagonal). A node on several ghost faces (an edge or corner) gets the parts of
each, with each face's data at that node. The local truncation error at a face node is
:math:`O(h)`, the global error :math:`O(h^2)`. :math:`b` must not vanish at a face node; a Robin
condition whose ``b`` is the number 0 is the Dirichlet condition :math:`u = g/a`
(:func:`robin_as_dirichlet`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..coefficients import evaluate
from ..conditions import Dirichlet, Neumann, Robin
from ._grid import Grid, evaluate_numpy

__all__ = [
    "GhostFaces",
    "face_owners",
    "face_coefficients",
    "is_dirichlet_robin",
    "robin_as_dirichlet",
]


def face_owners(
    conditions: Sequence[Neumann | Robin], parts: Sequence[str]
) -> dict[int, Neumann | Robin]:
    """The condition of each face named by ``conditions`` (indices into ``parts``): the last,
    in the problem's order, that names it."""
    owner: dict[int, Neumann | Robin] = {}
    for cond in conditions:
        for f in range(len(parts)) if cond.on is None else [parts.index(p) for p in cond.on]:
            owner[f] = cond
    return owner


def is_dirichlet_robin(cond: object) -> bool:
    """Whether ``cond`` is a Robin condition whose ``b`` is the number 0 (``u = value / a``)."""
    return isinstance(cond, Robin) and not callable(cond.b) and float(cond.b) == 0


def robin_as_dirichlet(cond: Robin, on: Sequence[str]) -> Dirichlet:
    r"""The Dirichlet condition :math:`u = g / a` on the faces ``on`` of a Robin condition with
    :math:`b = 0` (``ValueError`` where a callable :math:`a` vanishes)."""
    value, a = cond.value, cond.a
    if not callable(value) and not callable(a):
        return Dirichlet(float(value) / float(a), on=tuple(on))

    def ratio(x: torch.Tensor) -> torch.Tensor:
        av = evaluate(a, x, "Robin.a")
        if bool(torch.any(av == 0)):
            raise ValueError(
                "a Robin condition with b = 0 imposes u = value / a, but its a is 0 at some "
                f"node of the faces {list(on)}"
            )
        return evaluate(value, x, "Robin.value") / av

    return Dirichlet(ratio, on=tuple(on))


def face_coefficients(
    cond: Neumann | Robin, points: np.ndarray, part: str
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """``(g, a, b)`` of a ghost face's condition at its ``points`` (arrays of their length):
    Neumann's ``a`` is ``None`` and ``b`` 1, as is a flux-only Robin condition's ``a``.
    ``ValueError`` naming the face ``part`` where ``b`` vanishes."""
    n = len(points)
    name = type(cond).__name__
    g = np.broadcast_to(evaluate_numpy(cond.value, points, f"{name}.value"), (n,))
    if not isinstance(cond, Robin):
        return g, None, np.ones(n)
    b = np.broadcast_to(evaluate_numpy(cond.b, points, "Robin.b"), (n,))
    zero = np.flatnonzero(b == 0)
    if zero.size:
        raise ValueError(
            f"Robin.b is 0 at {zero.size} node(s) of the face {part} (first at "
            f"{points[zero[0]].tolist()}): the finite-difference reference eliminates a Robin "
            "face's ghost nodes through b, so b must not vanish on the face; where it does the "
            "condition is u = value / a, a Dirichlet condition"
        )
    if cond.flux_only:
        return g, None, b
    return g, np.broadcast_to(evaluate_numpy(cond.a, points, "Robin.a"), (n,)), b


class GhostFaces:
    r"""The data of the ghost faces (``grid.neumann``: Neumann and Robin faces) at the
    unknowns: :math:`c = \sum 2g/(b h_i)` (:meth:`term`) and :math:`r = \sum 2a/(b h_i)`
    (:meth:`diagonal`), so that the Laplacian with its ghost nodes eliminated is
    :math:`\Delta_h u = L u + c - r u`, :math:`L` the matrix of
    :func:`~._linalg.laplacian`. Each face takes its data from the last Neumann or Robin
    condition, in the problem's order, naming it (:func:`face_owners`); with ``timed`` the
    data are evaluated at ``(x, t)``.
    """

    def __init__(
        self,
        grid: Grid,
        conditions: Sequence[Neumann | Robin],
        parts: Sequence[str],
        timed: bool,
    ) -> None:
        self.grid = grid
        self.timed = timed
        owner = face_owners(conditions, parts)
        multi = np.unravel_index(grid.unknowns, grid.shape)
        self.faces = []  # (condition, face name, positions among the unknowns, points, 2 / h_i)
        for f in sorted(grid.neumann):
            axis, upper = divmod(f, 2)
            sel = np.flatnonzero(multi[axis] == (grid.n[axis] if upper else 0))
            pts = grid.points(grid.unknowns[sel])
            self.faces.append((owner[f], parts[f], sel, pts, 2.0 / grid.h[axis]))
        conds = [c for c, *_ in self.faces]
        #: Whether some face has a Robin condition with an ``a`` (:meth:`diagonal` not ``None``).
        self.robin = any(isinstance(c, Robin) and not c.flux_only for c in conds)
        self._constant = not any(callable(v) for c in conds for v in c.coefficients().values())
        self._cache: tuple[float | None, np.ndarray, np.ndarray | None] | None = None

    def _at(self, t: float | None) -> tuple[np.ndarray, np.ndarray | None]:
        """``(term, diagonal)`` at time ``t``; the last time's kept (every time's when the
        data are constants)."""
        if self._cache is not None and (self._constant or self._cache[0] == t):
            return self._cache[1], self._cache[2]
        size = len(self.grid.unknowns)
        term = np.zeros(size)
        diag = np.zeros(size) if self.robin else None
        for cond, part, sel, pts, scale in self.faces:
            if self.timed:
                pts = np.column_stack([pts, np.full(len(sel), float(t))])
            g, a, b = face_coefficients(cond, pts, part)
            term[sel] += scale * g / b
            if a is not None:
                diag[sel] += scale * a / b
        self._cache = (t, term, diag)
        return term, diag

    def term(self, t: float | None = None) -> np.ndarray:
        r""":math:`c = \sum 2 g / (b h_i)` over the ghost faces, a vector over
        ``grid.unknowns``."""
        return self._at(t)[0]

    def diagonal(self, t: float | None = None) -> np.ndarray | None:
        r""":math:`r = \sum 2 a / (b h_i)` over the Robin faces, a vector over
        ``grid.unknowns``; ``None`` when no face has a Robin condition with an ``a``."""
        return self._at(t)[1]

    def largest_shift(self, times: Sequence[float] | None = None) -> float:
        r""":math:`\max(0, \max r)` over the unknowns (at ``times`` when timed): what the
        Robin faces add at most to the spectral radius of :math:`-\Delta_h` (Gershgorin)."""
        if not self.robin:
            return 0.0
        ts = [None] if not self.timed else [float(t) for t in (() if times is None else times)]
        return max((max(0.0, float(np.max(self.diagonal(t), initial=0.0))) for t in ts), default=0)
