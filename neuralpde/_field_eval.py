"""The evaluation machinery of :class:`~neuralpde.solution.NeuralField` (its base class,
:class:`FieldEvaluation`): points checked and placed, the domain asked (a loaded field's is
rebuilt from its file's description by :mod:`neuralpde.problem_spec`), values, gradients,
Laplacians, Hessians and time derivatives by autograd in blocks, and the network as a module.
Its public names are those of :mod:`neuralpde.solution`."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._arguments import check_device, check_dtype, check_points, real_coordinates
from .domains import Box, Domain, SpaceTime, outside_box
from .geometry import Difference, Intersection, Union, distance_to_boundary
from .geometry.common import REL_TOL
from .operators import as_column

__all__ = [
    "ExtrapolationWarning",
    "FieldEvaluation",
    "OutsideDomainWarning",
    "check_strict",
    "grid_points",
]


def grid_points(axes: Sequence[np.ndarray]) -> np.ndarray:
    """The points of the tensor grid of 1-D ``axes``, shape ``(n1 * n2 * ..., d)``, C order."""
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.column_stack([m.ravel() for m in mesh])


class ExtrapolationWarning(UserWarning):
    """Points outside the box the field was trained on: its values there are extrapolated."""

    __module__ = "neuralpde.solution"


class OutsideDomainWarning(ExtrapolationWarning):
    """Points outside the field's domain (:meth:`NeuralField.contains`): the field is NaN
    there. A subclass of :class:`ExtrapolationWarning`, so that a filter of that one covers it."""

    __module__ = "neuralpde.solution"


#: How an answer is returned: ``None`` as a float64 NumPy array, else a tensor on this device
#: and of this dtype (those of the points given).
_Like = tuple[torch.device, torch.dtype] | None


@dataclass(frozen=True)
class _Batch:
    """Checked points: ``x`` those inside the domain (a tensor of the network's kind),
    ``rows`` their rows among the ``n`` given (``None``: all), ``like`` how to answer."""

    x: torch.Tensor
    rows: torch.Tensor | None
    n: int
    like: _Like


def check_strict(strict: object) -> bool:
    if not isinstance(strict, (bool, np.bool_)):
        raise TypeError(f"strict must be True or False, got {type(strict).__name__} {strict!r}")
    return bool(strict)


def _box_text(names: Sequence[str], lo: np.ndarray, hi: np.ndarray) -> str:
    return ", ".join(f"{n} in [{a:g}, {b:g}]" for n, a, b in zip(names, lo, hi, strict=True))


class FieldEvaluation:
    """What :class:`~neuralpde.solution.NeuralField` answers, computed: points checked and
    placed, the domain asked, values and derivatives by automatic differentiation in blocks,
    and the network as a module.

    A subclass provides ``net``, ``names``, ``architecture``, ``strict``, ``_param`` (a
    parameter of the network: its dtype and device), :attr:`dim`, :attr:`time_axis`,
    :attr:`space_axes`, :attr:`domain`, ``_box()`` and ``_rows(kind)``."""

    # -- points ----------------------------------------------------------------------------------

    def _parse(self, points: object) -> tuple[np.ndarray, _Like]:
        """``points`` as a float64 ``(N, d)`` array (see the class's docstring), and how to
        answer them."""
        like: _Like = None
        if torch.is_tensor(points):
            dtype = points.dtype if points.is_floating_point() else self._param.dtype
            like = (points.device, dtype)
        d = self.dim
        arr = real_coordinates(
            points, "points", f"an (N, {d}) array of numbers with columns {self.names}"
        )
        if self.time_axis is None and d < 3 and arr.ndim == 2 and arr.shape[1] == 3:
            extra = arr[:, d:]
            bad = np.flatnonzero((extra != 0).any(axis=1))
            if bad.size:
                rows = "1 row is" if bad.size == 1 else f"{bad.size} rows are"
                raise ValueError(
                    f"points have shape {arr.shape}, but the field's coordinates are "
                    f"{self.names}: the last {3 - d} column{'s' if d == 1 else ''} (of a "
                    f"meshio mesh's points) must then be zero, and {rows} not, e.g. row "
                    f"{bad[0]}: {arr[bad[0]].tolist()}"
                )
            arr = arr[:, :d]
        return check_points(arr, self.names), like

    def _tensor(self, arr: np.ndarray) -> torch.Tensor:
        """Checked points as a tensor of the network's kind (finite in its precision)."""
        x = torch.as_tensor(arr, dtype=self._param.dtype, device=self._param.device)
        if x.dtype != torch.float64:  # finite float64 points can overflow a float32 field
            rows = np.flatnonzero((~torch.isfinite(x)).any(dim=1).cpu().numpy())
            if rows.size:
                raise ValueError(
                    f"points must be finite in the field's precision ({x.dtype}, magnitudes up "
                    f"to {torch.finfo(x.dtype).max:.4g}), got {rows.size} of {len(arr)} points "
                    f"beyond it, e.g. {arr[rows[0]].tolist()}"
                )
        return x

    def _points(self, points: np.ndarray | Sequence, stacklevel: int = 4) -> torch.Tensor:
        """``points`` as an ``(N, d)`` tensor of the network's kind, after the checks, the
        domain not asked. An :class:`ExtrapolationWarning` is attributed ``stacklevel`` frames
        above the one that warns: the public method's caller, for a method that calls this
        directly."""
        arr = check_points(points, self.names)
        x = self._tensor(arr)
        self._warn_outside(arr, stacklevel)
        return x

    def _warn_outside(self, arr: np.ndarray, stacklevel: int) -> None:
        scaling = self.architecture.get("input_scaling")
        if not scaling:
            return
        lo, hi = np.asarray(scaling["lower"], float), np.asarray(scaling["upper"], float)
        outside = outside_box(arr, lo, hi)
        if outside.any():
            warnings.warn(
                f"{int(outside.sum())} of {len(arr)} points lie outside the domain's bounding "
                f"box ({_box_text(self.names, lo, hi)}): the field is extrapolated there, where "
                "training did not constrain it",
                ExtrapolationWarning,
                stacklevel=stacklevel,
            )

    def contains(self, points: object) -> np.ndarray | torch.Tensor:
        r"""Whether each point lies in the field's closed domain: a boolean array ``(N,)``
        (a tensor on the points' device for a tensor).

        Points within rounding of the boundary count as inside: :math:`10^{-12}` of the
        bounding box's diagonal (of ``t1 - t0`` along time). A loaded field rebuilds its
        domain from the file's problem description (boxes, disks, balls, polygons, CSG domains
        of them, and those times ``[t0, t1]``) and a :class:`~neuralpde.MeshDomain` from the
        mesh the file stores (its cells, checked against its digest); for a description it
        cannot rebuild (a mesh in a file written before meshes were stored) and for a field
        with no problem, it answers from the bounding box alone (:attr:`domain` is then
        ``None``).
        """
        arr, like = self._parse(points)
        inside = self._inside(arr)
        return inside if like is None else torch.from_numpy(inside).to(like[0])

    def _inside(self, arr: np.ndarray) -> np.ndarray:
        """:meth:`contains` of checked points ``arr``."""
        box = self._box()
        if box is None:
            return np.ones(len(arr), dtype=bool)
        lo, hi = box
        dom = self.domain
        space = dom.space if isinstance(dom, SpaceTime) else dom
        axes = list(self.space_axes)
        slack = np.empty(self.dim)
        slack[axes] = REL_TOL * float(np.linalg.norm(hi[axes] - lo[axes]))
        if self.time_axis is not None:
            slack[self.time_axis] = REL_TOL * float(hi[self.time_axis] - lo[self.time_axis])
        inside = ~((arr < lo - slack) | (arr > hi + slack)).any(axis=1)
        if space is None or isinstance(space, Box) or not inside.any():
            return inside  # a box's test is the bounding box's
        rows = np.flatnonzero(inside)
        pts = np.ascontiguousarray(arr[np.ix_(rows, axes)])
        ok = np.asarray(space.contains(pts), dtype=bool)
        if not ok.all() and isinstance(space, (Union, Intersection, Difference)):
            # a box among the children counts its boundary exactly: within rounding of the
            # boundary by the (exact in sign and zero set) distance
            miss = np.flatnonzero(~ok)
            ok[miss] = distance_to_boundary(space, pts[miss]) >= -slack[axes[0]]
        inside[rows] = ok
        return inside

    def _prepare(self, points: object, strict: bool | None, stacklevel: int = 3) -> _Batch:
        """``points`` checked and placed, NaN-bound rows left out (with the warning or the
        ``ValueError`` of ``strict``); warnings are attributed ``stacklevel`` frames up (3:
        the caller of the public method that calls this)."""
        strict = self.strict if strict is None else check_strict(strict)
        arr, like = self._parse(points)
        x = self._tensor(arr)
        inside = self._inside(arr)
        rows = None
        if not inside.all():
            out = np.flatnonzero(~inside)
            box = _box_text(self.names, *(self._box() or ((), ())))
            dom = self.domain
            what = "the field's domain" + (
                f" ({_domain_kind(dom)} within {box})"
                if dom is not None
                else f", known by its bounding box only ({box})"
            )
            said = f"{out.size} of {len(arr)} points lie outside {what}"
            if strict:
                raise ValueError(f"{said}, e.g. {arr[out[0]].tolist()} (strict=True)")
            warnings.warn(
                f"{said}: the field is NaN there (strict=True raises instead)",
                OutsideDomainWarning,
                stacklevel=stacklevel,
            )
            keep = np.flatnonzero(inside)
            rows = torch.from_numpy(keep).to(x.device)
            x, arr = x[rows], arr[keep]
        self._warn_outside(arr, stacklevel + 1)
        return _Batch(x, rows, len(inside), like)

    def _answer(self, values: torch.Tensor, batch: _Batch) -> np.ndarray | torch.Tensor:
        """``values`` of the points inside as the answer to all of ``batch``: NaN outside."""
        if batch.rows is not None:
            full = values.new_full((batch.n, *values.shape[1:]), math.nan)
            full[batch.rows] = values
            values = full
        if batch.like is None:
            return values.cpu().numpy().astype(np.float64, copy=False)
        device, dtype = batch.like
        return values.to(device=device, dtype=dtype)

    def _rows(self, kind: str) -> int:
        """Points per block for a pass of ``kind``: the subclass's."""
        raise NotImplementedError

    # -- values and derivatives ------------------------------------------------------------------

    def _values(self, x: torch.Tensor) -> np.ndarray:
        """The field's values at the checked points ``x``, as float64."""
        return self._evaluate(x).cpu().numpy().astype(np.float64, copy=False)

    def _evaluate(self, x: torch.Tensor) -> torch.Tensor:
        """The values at ``x`` (all of them: no domain asked), without a graph, shape ``(N,)``."""
        rows = self._rows("values")
        out = []
        with torch.no_grad():
            for i in range(0, x.shape[0], rows):
                xi = x[i : i + rows]
                out.append(as_column(self.net(xi), xi))
        return torch.cat(out) if out else x.new_zeros(0)

    def _derivatives(self, x: torch.Tensor, axes: Sequence[int] | None = None) -> torch.Tensor:
        r"""By autograd, in blocks, without a graph: the gradient :math:`\nabla u` ``(N, d)``
        (``axes=None``), else for each ``i`` of ``axes`` the row :math:`\nabla \partial_i u`
        of the Hessian, ``(N, len(axes), d)``. Whatever autograd mode the caller is in."""
        d = x.shape[1]
        second = axes is not None
        rows = self._rows("second" if second else "gradient")
        out = []
        with torch.inference_mode(False), torch.enable_grad():
            for i in range(0, x.shape[0], rows):
                xi = x[i : i + rows].clone().requires_grad_(True)
                u = as_column(self.net(xi), xi)
                g = _grad(u.sum(), xi, create_graph=second)
                if not second:
                    out.append(g.detach())
                    continue
                hess = [
                    _grad(g[:, a].sum(), xi, retain_graph=k < len(axes) - 1).detach()
                    for k, a in enumerate(axes)
                ]
                out.append(torch.stack(hess, dim=1))
        if out:
            return torch.cat(out)
        return x.new_zeros((0, d) if not second else (0, len(axes), d))

    def gradient(
        self, points: np.ndarray | torch.Tensor | Sequence, *, strict: bool | None = None
    ) -> np.ndarray | torch.Tensor:
        r"""First derivatives :math:`\partial u / \partial x_j` along every coordinate (time
        included), shape ``(N, d)``; NaN rows outside the domain.

        Works inside the caller's ``torch.no_grad()`` or ``torch.inference_mode()`` too.
        """
        batch = self._prepare(points, strict)
        return self._answer(self._derivatives(batch.x), batch)

    def laplacian(
        self, points: np.ndarray | torch.Tensor | Sequence, *, strict: bool | None = None
    ) -> np.ndarray | torch.Tensor:
        r"""The Laplacian over the space coordinates, :math:`\Delta u = \sum_{i \ne t}
        \partial^2 u / \partial x_i^2` (time left out for an evolution problem), shape
        ``(N,)``; NaN outside the domain."""
        batch = self._prepare(points, strict)
        axes = list(self.space_axes)
        rows = self._derivatives(batch.x, axes)
        return self._answer(rows[:, range(len(axes)), axes].sum(dim=1), batch)

    def hessian(
        self, points: np.ndarray | torch.Tensor | Sequence, *, strict: bool | None = None
    ) -> np.ndarray | torch.Tensor:
        r"""Second derivatives :math:`H_{ij} = \partial^2 u / \partial x_i \partial x_j` over
        every coordinate (time included), symmetric, shape ``(N, d, d)``; NaN outside the
        domain."""
        batch = self._prepare(points, strict)
        h = self._derivatives(batch.x, list(range(self.dim)))
        return self._answer(0.5 * (h + h.transpose(1, 2)), batch)

    def time_derivative(
        self,
        points: np.ndarray | torch.Tensor | Sequence,
        order: int = 1,
        *,
        strict: bool | None = None,
    ) -> np.ndarray | torch.Tensor:
        r""":math:`\partial u / \partial t` (``order=1``) or :math:`\partial^2 u / \partial
        t^2` (``order=2``) of an evolution problem's field, shape ``(N,)``; NaN outside the
        domain. ``ValueError`` for a steady field."""
        t = self.time_axis
        if t is None:
            raise ValueError(
                f"time_derivative needs an evolution problem's field (one with time as its last "
                f"coordinate); this one is steady, its coordinates {self.names} are all space"
            )
        if isinstance(order, bool) or order not in (1, 2):
            raise ValueError(f"order must be 1 or 2, got {order!r}")
        batch = self._prepare(points, strict)
        if order == 1:
            return self._answer(self._derivatives(batch.x)[:, t], batch)
        return self._answer(self._derivatives(batch.x, [t])[:, 0, t], batch)

    def module(
        self,
        *,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str | None = None,
        requires_grad: bool = False,
    ) -> nn.Module:
        r"""A copy of the network as a ``torch.nn.Module``, for one's own computations: it
        maps an ``(N, d)`` tensor (columns :attr:`names`) to the values ``(N, 1)``, with the
        input scaling and the hard constraint (and its lift) of the field, differentiable with
        respect to its inputs and its parameters (through a Chebyshev lift, exactly up to
        second derivatives). In ``dtype`` (float64 unless asked) on ``device`` (the field's
        unless asked); its parameters require gradients only with ``requires_grad=True`` (a
        lift's coefficients never: they are fitted data). The domain is not asked: it answers
        everywhere. Changing the copy leaves the field as it is.
        """
        dtype = check_dtype(dtype)
        device = self._param.device if device is None else check_device(device)
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(f"requires_grad must be True or False, got {requires_grad!r}")
        copy = deepcopy(self.net).to(device=device, dtype=dtype)
        for p in copy.parameters():
            p.requires_grad_(bool(requires_grad))
        lift = getattr(copy, "lift", None)
        if isinstance(lift, nn.Module):
            for p in lift.parameters():
                p.requires_grad_(False)
        return copy.eval()

    def _on_grid(self, axes: Sequence[np.ndarray], stacklevel: int) -> np.ndarray:
        """:meth:`on_grid` for a public method ``stacklevel - 4`` calls below the caller."""
        expected = f"{self.dim} 1-D arrays of numbers, one per coordinate of {self.names}"
        try:
            axes = list(axes)
        except TypeError as exc:
            raise ValueError(
                f"axes must be {expected}, got {type(axes).__name__} that is not ({exc})"
            ) from None
        axes = [real_coordinates(a, "axes", expected) for a in axes]
        if len(axes) != self.dim:
            raise ValueError(f"need {self.dim} axes, got {len(axes)}")
        if any(a.ndim != 1 for a in axes):
            raise ValueError(f"axes must be 1-D arrays, got shapes {[a.shape for a in axes]}")
        if not all(np.isfinite(a).all() for a in axes):
            raise ValueError("axes contain NaN or inf")
        x = self._points(grid_points(axes), stacklevel=stacklevel)
        return self._values(x).reshape(tuple(len(a) for a in axes))


def _grad(y: torch.Tensor, x: torch.Tensor, **kwargs: bool) -> torch.Tensor:
    """:math:`\\partial y / \\partial x` by autograd; zero where ``y`` does not depend on ``x``."""
    if not y.requires_grad:
        return torch.zeros_like(x)
    (g,) = torch.autograd.grad(y, x, allow_unused=True, **kwargs)
    return torch.zeros_like(x) if g is None else g


def _domain_kind(domain: Domain) -> str:
    """``Polygon``, or ``SpaceTime of Disk``: the domain's type, for messages."""
    if isinstance(domain, SpaceTime):
        return f"SpaceTime of {type(domain.space).__name__}"
    return type(domain).__name__
