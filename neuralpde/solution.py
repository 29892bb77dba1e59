"""Solutions: a trained field you can evaluate anywhere, with the record of how it was made."""

from __future__ import annotations

import datetime as _dt
import math
import os
import platform
import warnings
from collections.abc import Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from . import metrics
from ._arguments import check_device, check_dtype, check_path, check_points, real_coordinates
from .domains import Box, Domain, SpaceTime, grid_counts, outside_box
from .fields import build_field, check_architecture
from .geometry import Difference, Intersection, Union, distance_to_boundary
from .geometry.common import REL_TOL
from .io import FormatError, write_solution
from .io.hdf5 import check_writable, read_solution_record, verify_solution
from .io.provenance import versions
from .operators import as_column
from .problem import Problem, determined_up_to_a_constant
from .training import TrainResult

__all__ = [
    "ExtrapolationWarning",
    "NeuralField",
    "OutsideDomainWarning",
    "SavedField",
    "Solution",
    "SolvedField",
    "grid_points",
    "load",
    "versions",
]

_CHUNK = 65536
#: The precisions a stored network may name (``/model`` attribute ``dtype``): no other name
#: is looked up in torch.
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def grid_points(axes: Sequence[np.ndarray]) -> np.ndarray:
    """The points of the tensor grid of 1-D ``axes``, shape ``(n1 * n2 * ..., d)``, C order."""
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.column_stack([m.ravel() for m in mesh])


class ExtrapolationWarning(UserWarning):
    """Points outside the box the field was trained on: its values there are extrapolated."""


class OutsideDomainWarning(ExtrapolationWarning):
    """Points outside the field's domain (:meth:`NeuralField.contains`): the field is NaN
    there. A subclass of :class:`ExtrapolationWarning`, so that a filter of that one covers it."""


#: How an answer is returned: ``None`` as a float64 NumPy array, else a tensor on this device
#: and of this dtype (those of the points given).
_Like = tuple[torch.device, torch.dtype] | None
#: Numbers of activations one block of points may hold (256 MB in float64).
_BUDGET = 2**25
#: Numbers per point and hidden unit that a pass keeps: values, first, second derivatives.
_KEPT = {"values": 2, "gradient": 6, "second": 16}


@dataclass(frozen=True)
class _Batch:
    """Checked points: ``x`` those inside the domain (a tensor of the network's kind),
    ``rows`` their rows among the ``n`` given (``None``: all), ``like`` how to answer."""

    x: torch.Tensor
    rows: torch.Tensor | None
    n: int
    like: _Like


def _check_strict(strict: object) -> bool:
    if not isinstance(strict, (bool, np.bool_)):
        raise TypeError(f"strict must be True or False, got {type(strict).__name__} {strict!r}")
    return bool(strict)


def _box_text(names: Sequence[str], lo: np.ndarray, hi: np.ndarray) -> str:
    return ", ".join(f"{n} in [{a:g}, {b:g}]" for n, a, b in zip(names, lo, hi, strict=True))


def _rebuilt_domain(desc: object, names: Sequence[str]) -> Domain | None:
    """The domain a :meth:`~neuralpde.domains.Domain.describe` dictionary stands for (boxes,
    balls, disks, polygons, CSG domains of them, and :class:`~neuralpde.domains.SpaceTime` of
    those), with the coordinates ``names``; ``None`` for any other (a mesh's description names
    its file, not its cells) or a damaged one."""
    from .reference.irregular import described_domain

    if not isinstance(desc, Mapping):
        return None
    try:
        if desc.get("type") == "SpaceTime":
            space = described_domain(dict(desc["space"]))
            t0, t1 = (float(v) for v in desc["t_span"])
            dom = None if space is None else SpaceTime(space, (t0, t1), str(desc["names"][-1]))
        else:
            dom = described_domain(dict(desc))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None
    return dom if dom is not None and tuple(dom.names) == tuple(names) else None


class NeuralField:
    r"""A trained network as a function of the coordinates.

    ``field(points)`` takes points as an ``(N, d)`` NumPy array or torch tensor (columns in
    the order of :attr:`names`: space first, then time), or one point as ``(d,)``, and returns
    the ``N`` values: a float64 NumPy array for NumPy input (or lists), a tensor on the input's
    device (of its floating dtype, else the field's) for a tensor. A steady field of 1 or 2
    coordinates also takes the ``(N, 3)`` points of a meshio mesh, whose last columns must be
    zero. Strings, bools and masked arrays are refused, and so are points not finite in the
    network's precision.

    Points outside the domain (:meth:`contains`, boundary included) get NaN, with one
    :class:`OutsideDomainWarning` that counts them; ``strict=True`` (of the call, or of the
    field: :attr:`strict`) raises ``ValueError`` instead. :meth:`gradient`, :meth:`laplacian`,
    :meth:`hessian` and :meth:`time_derivative` answer the same way, by automatic
    differentiation in the network's precision, in blocks of at most 65,536 points.
    :meth:`module` gives the network as a ``torch.nn.Module`` for one's own computations.
    """

    #: Whether points outside the domain raise ``ValueError`` (``True``) rather than give NaN
    #: with an :class:`OutsideDomainWarning`; a call's ``strict`` argument overrides it.
    strict: bool = False

    def __init__(
        self,
        net: nn.Module,
        names: Sequence[str],
        architecture: Mapping,
        *,
        strict: bool = False,
    ) -> None:
        self.net = net.eval()  # the field's own network; see module() for a copy
        self.names = tuple(names)
        self.architecture = dict(architecture)
        self._param = next(net.parameters())
        self.strict = _check_strict(strict)

    @property
    def dim(self) -> int:
        return len(self.names)

    @property
    def time_axis(self) -> int | None:
        """The column of time in the points, ``None`` for a field of space only."""
        return None

    @property
    def space_axes(self) -> tuple[int, ...]:
        """The columns of the space coordinates (all but :attr:`time_axis`)."""
        return tuple(i for i in range(self.dim) if i != self.time_axis)

    @property
    def domain(self) -> Domain | None:
        """The domain :meth:`contains` asks, ``None`` where only its bounding box is known
        (here: the box of the network's input scaling, if any)."""
        return None

    def _box(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The domain's bounding box, ``None`` when unknown (every point is then inside)."""
        scaling = self.architecture.get("input_scaling")
        if not scaling:
            return None
        return np.asarray(scaling["lower"], float), np.asarray(scaling["upper"], float)

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
        of them, and those times ``[t0, t1]``); for a :class:`~neuralpde.MeshDomain` (the file
        names the mesh's file, not its cells) or a description it cannot rebuild, and for a
        field with no problem, it answers from the bounding box alone (:attr:`domain` is then
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
        strict = self.strict if strict is None else _check_strict(strict)
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
        """Points per block for a pass of ``kind`` (:data:`_KEPT`): at most 65,536, fewer for
        a wide network, so that a block's activations hold about :data:`_BUDGET` numbers."""
        field = self.architecture.get("field") or {}
        units = int(field.get("width", 64)) * (int(field.get("depth", 1)) + 1)
        return int(min(_CHUNK, max(1024, _BUDGET // max(units * _KEPT[kind], 1))))

    # -- values and derivatives ------------------------------------------------------------------

    def __call__(
        self, points: np.ndarray | torch.Tensor | Sequence, *, strict: bool | None = None
    ) -> np.ndarray | torch.Tensor:
        """The field's values at ``points``, shape ``(N,)``; NaN outside the domain."""
        batch = self._prepare(points, strict)
        return self._answer(self._evaluate(batch.x), batch)

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

    def on_grid(self, axes: Sequence[np.ndarray]) -> np.ndarray:
        """Values on the tensor grid of 1-D ``axes`` (one per coordinate), shape (n1, n2, ...),
        at every node: the domain is not asked (:meth:`contains` tells the nodes inside)."""
        return self._on_grid(axes, stacklevel=5)

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


_Axes = tuple[np.ndarray, ...]  # one 1-D array per coordinate


class SolvedField(NeuralField):
    """A field that solves a problem, trained in this process (:class:`Solution`) or loaded
    from a file (:class:`SavedField`): what is known of its problem, and its comparison with
    the exact solution, asked the same way of both (:func:`neuralpde.validate.validate` takes
    either)."""

    #: The solution file the field was read from (``None``: in memory, or not given).
    path: str | None = None

    @property
    def problem_name(self) -> str:
        """The name of the problem it solves."""
        raise NotImplementedError

    @property
    def description(self) -> dict:
        """Its problem's :meth:`~neuralpde.Problem.describe` (as far as a file records it)."""
        raise NotImplementedError

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The lower and upper corners of its domain's bounding box, float64, in :attr:`names`
        order."""
        raise NotImplementedError

    def _box(self) -> tuple[np.ndarray, np.ndarray]:
        return self.bounds

    @property
    def time_axis(self) -> int | None:
        """The column of time in the points, ``None`` when its problem is steady."""
        raise NotImplementedError

    @property
    def determined_up_to_a_constant(self) -> bool:
        """Whether its problem fixes the solution only up to an additive constant
        (:attr:`~neuralpde.Problem.determined_up_to_a_constant`)."""
        raise NotImplementedError

    def exact_on_grid(self, *, stacklevel: int = 2) -> tuple[_Axes, np.ndarray, np.ndarray]:
        """The axes of the grid on which it is compared with its problem's exact solution, its
        values there and the exact solution's (float64, both NaN at the grid's points outside
        the domain). ``ValueError`` when there is no exact solution to compare with. An
        :class:`ExtrapolationWarning` is attributed ``stacklevel`` frames up (2: the caller)."""
        raise NotImplementedError


class SavedField(SolvedField):
    """A field loaded from a solution file; :attr:`record` holds everything else the file says
    and :attr:`path` the file it was read from (``None`` when not given)."""

    def __init__(
        self,
        net: nn.Module,
        record: dict[str, Any],
        path: str | os.PathLike | None = None,
        *,
        strict: bool = False,
    ) -> None:
        super().__init__(net, record["coordinates"], record["architecture"], strict=strict)
        self.record = record
        self.path = None if path is None else str(path)
        self._domain: Domain | None | bool = False  # False: not rebuilt yet

    @property
    def domain(self) -> Domain | None:
        """The domain rebuilt from the file's problem description (a box, disk, ball,
        polygon, CSG domain of them, or one of those times ``[t0, t1]``); ``None`` for a
        :class:`~neuralpde.MeshDomain` (the file names the mesh's file, not its cells) or a
        description that cannot be rebuilt: :meth:`contains` then asks the bounding box only."""
        if self._domain is False:
            self._domain = _rebuilt_domain(self.description.get("domain"), self.names)
        return self._domain

    @property
    def grid(self) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        """The stored coordinate arrays and the values on their grid."""
        return self.record["coords"], self.record.get("u")

    @property
    def problem_name(self) -> str:
        return str(self.description.get("name", ""))

    @property
    def description(self) -> dict:
        return self.record.get("problem", {})

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The domain's corners as the file describes them, else the stored grid's."""
        dom = self.description.get("domain", {})
        if "lower" in dom and "upper" in dom:
            return np.asarray(dom["lower"], float), np.asarray(dom["upper"], float)
        coords = self.record["coords"]
        lo = np.array([coords[n].min() for n in self.names])
        hi = np.array([coords[n].max() for n in self.names])
        return lo, hi

    @property
    def time_axis(self) -> int | None:
        timed = self.description.get("domain", {}).get("type") == "SpaceTime"
        return len(self.names) - 1 if timed else None

    @property
    def determined_up_to_a_constant(self) -> bool:
        """Asked of the classes the file's description names."""
        return determined_up_to_a_constant(self.description, self.time_axis)

    def exact_on_grid(self, *, stacklevel: int = 2) -> tuple[_Axes, np.ndarray, np.ndarray]:
        """On the file's grid, with its stored exact solution; the network is evaluated at the
        grid's nodes (the stored values are not used), left out where the exact solution is
        (outside the domain)."""
        coords, u = self.grid
        exact = self.record.get("exact")
        if exact is None or u is None:
            where = f"solution file {self.path!r}" if self.path else "the solution file"
            raise ValueError(
                f"{where} has no 'exact' dataset (its problem {self.problem_name!r} had no exact "
                "solution): validate against a finite-difference reference instead"
            )
        axes = tuple(np.asarray(coords[n], dtype=np.float64) for n in self.names)
        exact = np.asarray(exact, dtype=np.float64)
        values = self._on_grid(axes, stacklevel=stacklevel + 3)
        u = np.where(np.isnan(exact), np.nan, values)
        return axes, np.asarray(u, dtype=np.float64), exact


def load(path: str | os.PathLike, *, strict: bool = False) -> SavedField:
    """Load a solution file written by :meth:`Solution.save` as a callable field.

    ``strict=True`` makes points outside the domain an error (``ValueError``) in every call,
    instead of NaN with an :class:`OutsideDomainWarning` (:attr:`NeuralField.strict`).

    Needs no problem code: the network is rebuilt from the architecture stored in the file
    (with its hard constraint, whose lift is a stored field too). The file is read as data
    (:func:`neuralpde.io.read_solution`); the architecture is checked against the limits of
    :func:`~neuralpde.fields.check_architecture` before anything is built, the weights must be
    finite, and the content digest must match. Raises ``FileNotFoundError`` for a missing file
    and :class:`~neuralpde.io.FormatError` for any file that cannot be loaded so.
    """
    strict = _check_strict(strict)
    rec = read_solution_record(path, grid=True, verify=False)
    where = str(path)
    dtype = _DTYPES[rec["dtype"].removeprefix("torch.")]  # read_solution allows no other name
    try:
        check_architecture(rec["architecture"])
    except ValueError as exc:
        raise FormatError(
            f"{where!r}: attribute 'architecture' of '/model' is refused: {exc}"
        ) from None
    if rec["architecture"]["in_features"] != len(rec["coordinates"]):
        raise FormatError(
            f"{where!r}: attribute 'architecture' of '/model' has in_features "
            f"{rec['architecture']['in_features']!r}, but the file has the coordinates "
            f"{rec['coordinates']}"
        )
    for name, value in rec["parameters"].items():
        bad = np.count_nonzero(~np.isfinite(value)) if value.dtype.kind == "f" else 0
        if bad:
            raise FormatError(
                f"{where!r}: '/model/parameters/{name}' holds {bad} NaN or infinite values: the "
                "network cannot be rebuilt from it"
            )
    try:
        net = build_field(rec["architecture"]).to(dtype)
        own = net.state_dict()
        for name, value in rec["parameters"].items():
            if name in own and own[name].is_floating_point() != (value.dtype.kind == "f"):
                raise TypeError(
                    f"'/model/parameters/{name}' holds {value.dtype}, the network's tensor "
                    f"{own[name].dtype}"
                )
        state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in rec["parameters"].items()}
        net.load_state_dict(state, strict=True)
    except (KeyError, ValueError, TypeError, AttributeError, RuntimeError, IndexError) as exc:
        raise FormatError(
            f"{where!r}: the stored network cannot be rebuilt ({type(exc).__name__}: {exc})"
        ) from None
    verify_solution(path, rec)
    return SavedField(net, rec, path, strict=strict)


class Solution(SolvedField):
    """The result of :func:`neuralpde.solve`: the trained field, its problem and its record.

    Attributes: ``problem``, ``status`` (why training stopped), ``message`` (what to do about it),
    ``history`` (step, time, loss, monitor), ``timings``, ``seed``, ``settings``.
    """

    def __init__(
        self,
        problem: Problem,
        net: nn.Module,
        architecture: Mapping,
        result: TrainResult,
        seed: int,
        settings: Mapping[str, Any],
    ) -> None:
        super().__init__(net, problem.domain.names, architecture)
        self.problem = problem
        self.result = result
        self.seed = seed
        self.settings = dict(settings)

    status = property(lambda self: self.result.status)
    message = property(lambda self: self.result.message)
    history = property(lambda self: self.result.history)
    timings = property(lambda self: self.result.timings)

    @property
    def problem_name(self) -> str:
        return self.problem.name

    @property
    def description(self) -> dict:
        return self.problem.describe()

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.problem.domain.bounds
        return np.asarray(lo, float), np.asarray(hi, float)

    @property
    def domain(self) -> Domain:
        """The problem's domain."""
        return self.problem.domain

    @property
    def time_axis(self) -> int | None:
        return self.problem.time_index

    @property
    def determined_up_to_a_constant(self) -> bool:
        return self.problem.determined_up_to_a_constant

    def exact_on_grid(self, *, stacklevel: int = 2) -> tuple[_Axes, np.ndarray, np.ndarray]:
        """On the dense grid (:meth:`grid_axes`), with the problem's exact solution."""
        if self.problem.exact is None:
            raise ValueError(
                f"problem {self.problem.name!r} has no exact solution: validate against a "
                "finite-difference reference instead"
            )
        axes = tuple(self.grid_axes())
        # NaN outside the domain, as in a solution file
        u, inside = self._on_domain_grid(axes, stacklevel=stacklevel + 4)
        exact = self.problem.exact_values(grid_points(axes)).reshape(u.shape)
        exact = np.where(inside, exact, np.nan)
        return axes, np.asarray(u, dtype=np.float64), np.asarray(exact, dtype=np.float64)

    def grid_axes(self, n: int | Sequence[int] | None = None) -> tuple[np.ndarray, ...]:
        """The uniform grid used for errors and files (:func:`metrics.dense_grid_size` per axis).

        Boxes (and box x time) use their own grid; other domains the grid of their bounding box,
        on which points outside the domain hold NaN (see :meth:`on_domain_grid`).
        """
        domain = self.problem.domain
        n = metrics.dense_grid_size(domain.dim) if n is None else n
        space = domain.space if isinstance(domain, SpaceTime) else domain
        if hasattr(space, "grid"):
            return domain.grid(n)
        counts = grid_counts(n, domain.dim)
        lo, hi = domain.bounds
        return tuple(np.linspace(a, b, c) for a, b, c in zip(lo, hi, counts, strict=True))

    def on_domain_grid(self, axes: Sequence[np.ndarray]) -> np.ndarray:
        """Values on the grid of ``axes``, NaN at grid points outside the domain."""
        return self._on_domain_grid(axes, stacklevel=6)[0]

    def _on_domain_grid(
        self, axes: Sequence[np.ndarray], stacklevel: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`on_domain_grid`, and whether each grid point lies in the domain (a field
        that is itself NaN somewhere inside is NaN there too)."""
        values = self._on_grid(axes, stacklevel=stacklevel)
        inside = self.problem.domain.contains(grid_points(axes)).reshape(values.shape)
        return np.where(inside, values, np.nan), inside

    def errors(self, n: int | Sequence[int] | None = None) -> dict[str, float]:
        """Relative L2, relative max and RMS errors against the exact solution on the dense grid;
        for a problem whose solution is determined only up to a constant (a Poisson problem
        with only Neumann or periodic conditions), of both fields less their means."""
        if self.problem.exact is None:
            raise ValueError(f"problem {self.problem.name!r} has no exact solution to compare with")
        pts = grid_points(self.grid_axes(n))
        pts = pts[self.problem.domain.contains(pts)]
        return self._errors(self(pts), self.problem.exact_values(pts))

    def _errors(self, u: np.ndarray, exact: np.ndarray) -> dict[str, float]:
        """:func:`metrics.summary`, with the means removed where the constant is free."""
        if self.problem.determined_up_to_a_constant:
            u, exact = metrics.without_means(u, exact)
        return metrics.summary(u, exact)

    def error(self, n: int | Sequence[int] | None = None) -> float:
        """Relative L2 error against the exact solution on the dense grid."""
        return self.errors(n)["relative_l2"]

    def save(
        self, path: str | os.PathLike, n: int | Sequence[int] | None = None, *, xdmf: bool = True
    ) -> Path:
        """Write the solution to an HDF5 file (see :mod:`neuralpde.io.hdf5`); returns the path.

        With ``xdmf`` (the default), an XDMF sidecar describing its grid to ParaView and VisIt
        is written beside it (``u.xdmf`` beside ``u.h5``, see :mod:`neuralpde.io.xdmf`).

        A run that diverged or was interrupted is not a result, and is refused (an interrupted
        one continues from its checkpoint: ``solve(..., resume=True)``)."""
        check_path(path)
        if not self.status.is_result:
            raise ValueError(
                f"this run {self.status} ({self.result.message}): it is not written as a result"
            )
        check_writable(path)
        try:  # what load would refuse is not written
            check_architecture(self.architecture)
        except ValueError as exc:
            raise ValueError(f"this solution's network cannot be saved: {exc}") from None
        axes = self.grid_axes(n)
        values, inside = self._on_domain_grid(axes, stacklevel=6)
        exact, errs = None, {}
        if self.problem.exact is not None:
            exact = self.problem.exact_values(grid_points(axes)).reshape(values.shape)
            # NaN outside the domain only: a NaN of the field inside stays visible in the errors
            exact = np.where(inside, exact, np.nan)
            errs = self._errors(values, exact)
        vers = versions()
        params = {k: v.detach().cpu().numpy() for k, v in self.net.state_dict().items()}
        return write_solution(
            path,
            coords=dict(zip(self.names, axes, strict=True)),
            values=values,
            exact=exact,
            architecture=self.architecture,
            parameters=params,
            dtype=str(self._param.dtype).replace("torch.", ""),
            problem=self.problem.describe(),
            training={
                "history": self.history,
                "status": str(self.status),
                "message": self.message,
                "seed": self.seed,
                "steps": self.result.steps,
                "timings": self.timings,
                "settings": self.settings,
            },
            metrics=errs,
            provenance={
                "neuralpde": vers["neuralpde"],
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "versions": vers,
                "platform": platform.platform(),
            },
            xdmf=xdmf,
        )
