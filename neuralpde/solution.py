"""Solutions: a trained field you can evaluate anywhere, with the record of how it was made."""

from __future__ import annotations

import datetime as _dt
import os
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from . import metrics
from ._arguments import check_path
from ._field_eval import (
    ExtrapolationWarning,
    FieldEvaluation,
    OutsideDomainWarning,
    check_strict,
    grid_points,
)
from .domains import Domain, SpaceTime, grid_counts
from .fields import build_field, check_architecture
from .io import FormatError, write_solution
from .io.hdf5 import check_writable, read_solution_record, verify_solution
from .io.provenance import versions
from .problem import Problem
from .problem_spec import ProblemSpec
from .training import TrainResult

__all__ = [
    "ExtrapolationWarning",
    "NeuralField",
    "OutsideDomainWarning",
    "ProblemSpec",
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
#: Numbers of activations one block of points may hold (256 MB in float64).
_BUDGET = 2**25
#: Numbers per point and hidden unit that a pass keeps: values, first, second derivatives.
_KEPT = {"values": 2, "gradient": 6, "second": 16}


class NeuralField(FieldEvaluation):
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
        self.strict = check_strict(strict)

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

    def _rows(self, kind: str) -> int:
        """Points per block for a pass of ``kind`` (:data:`_KEPT`): at most 65,536, fewer for
        a wide network, so that a block's activations hold about :data:`_BUDGET` numbers."""
        field = self.architecture.get("field") or {}
        units = int(field.get("width", 64)) * (int(field.get("depth", 1)) + 1)
        return int(min(_CHUNK, max(1024, _BUDGET // max(units * _KEPT[kind], 1))))

    # -- values and derivatives ------------------------------------------------------------------

    # contains, gradient, laplacian, hessian, time_derivative, module: FieldEvaluation's

    def __call__(
        self, points: np.ndarray | torch.Tensor | Sequence, *, strict: bool | None = None
    ) -> np.ndarray | torch.Tensor:
        """The field's values at ``points``, shape ``(N,)``; NaN outside the domain."""
        batch = self._prepare(points, strict)
        return self._answer(self._evaluate(batch.x), batch)

    def on_grid(self, axes: Sequence[np.ndarray]) -> np.ndarray:
        """Values on the tensor grid of 1-D ``axes`` (one per coordinate), shape (n1, n2, ...),
        at every node: the domain is not asked (:meth:`contains` tells the nodes inside)."""
        return self._on_grid(axes, stacklevel=5)


_Axes = tuple[np.ndarray, ...]  # one 1-D array per coordinate


class SolvedField(NeuralField):
    """A field that solves a problem, trained in this process (:class:`Solution`) or loaded
    from a file (:class:`SavedField`): what is known of its problem (its :attr:`spec`), and its
    comparison with the exact solution, asked the same way of both
    (:func:`neuralpde.validate.validate` takes either)."""

    #: The solution file the field was read from (``None``: in memory, or not given).
    path: str | None = None

    @property
    def spec(self) -> ProblemSpec:
        """Its problem (:class:`~neuralpde.problem_spec.ProblemSpec`): from the problem itself
        for a :class:`Solution`, from the file's description for a :class:`SavedField`, equal
        for a solution and its file. The properties below answer from it."""
        raise NotImplementedError

    @property
    def problem_name(self) -> str:
        """The name of the problem it solves."""
        return self.spec.name

    @property
    def description(self) -> dict:
        """Its problem's :meth:`~neuralpde.Problem.describe`, as a solution file stores it."""
        return self.spec.description

    @property
    def domain(self) -> Domain | None:
        """Its problem's domain (``None`` where a file's description cannot be rebuilt)."""
        return self.spec.domain

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The lower and upper corners of its domain's bounding box, float64, in :attr:`names`
        order."""
        lo, hi = self.spec.bounds
        return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)

    def _box(self) -> tuple[np.ndarray, np.ndarray]:
        return self.bounds

    @property
    def time_axis(self) -> int | None:
        """The column of time in the points, ``None`` when its problem is steady."""
        return self.spec.time_index

    @property
    def determined_up_to_a_constant(self) -> bool:
        """Whether its problem fixes the solution only up to an additive constant
        (:attr:`~neuralpde.Problem.determined_up_to_a_constant`)."""
        return self.spec.determined_up_to_a_constant

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
        self._spec: ProblemSpec | None = None  # read on first use

    @property
    def spec(self) -> ProblemSpec:
        """:meth:`ProblemSpec.from_description` of the file's problem description, read on
        first use (:func:`load` reads it at once for a file that stores a mesh)."""
        if self._spec is None:
            rec = self.record
            self._spec = ProblemSpec.from_description(
                rec.get("problem", {}), self.names, mesh=rec.get("mesh"), path=self.path
            )
        return self._spec

    @property
    def domain(self) -> Domain | None:
        """The domain rebuilt from the file's problem description (a box, disk, ball,
        polygon, CSG domain of them, or one of those times ``[t0, t1]``) and, for a
        :class:`~neuralpde.MeshDomain` (or one times ``[t0, t1]``), from the mesh the file
        stores (``/problem/mesh``, checked against its digest); ``None`` for a description
        that cannot be rebuilt, or a mesh in a file written before meshes were stored:
        :meth:`contains` then asks the bounding box only."""
        return self.spec.domain

    @property
    def grid(self) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        """The stored coordinate arrays and the values on their grid."""
        return self.record["coords"], self.record.get("u")

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The domain's corners as the file describes them, else the stored grid's."""
        if self.spec.bounds is not None:
            return super().bounds
        coords = self.record["coords"]
        lo = np.array([coords[n].min() for n in self.names])
        hi = np.array([coords[n].max() for n in self.names])
        return lo, hi

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
    finite, and the content digest must match, and so must a stored mesh its digest (a
    :class:`~neuralpde.MeshDomain` is rebuilt from ``/problem/mesh``, so that :meth:`contains`
    asks the mesh). Raises ``FileNotFoundError`` for a missing file and
    :class:`~neuralpde.io.FormatError` for any file that cannot be loaded so.
    """
    strict = check_strict(strict)
    rec = read_solution_record(path, grid=True, verify=False, mesh=True)
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
    field = SavedField(net, rec, path, strict=strict)
    if rec.get("mesh") is not None:
        _ = field.spec  # read now: a mesh that does not match its digest is refused here
    return field


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
        self._spec: tuple[Problem, ProblemSpec] | None = None  # made on first use
        self.result = result
        self.seed = seed
        self.settings = dict(settings)

    status = property(lambda self: self.result.status)
    message = property(lambda self: self.result.message)
    history = property(lambda self: self.result.history)
    timings = property(lambda self: self.result.timings)

    @property
    def spec(self) -> ProblemSpec:
        """:meth:`ProblemSpec.from_problem` of :attr:`problem`, made on first use (and again
        for a problem put in its place)."""
        if self._spec is None or self._spec[0] is not self.problem:
            self._spec = (self.problem, ProblemSpec.from_problem(self.problem))
        return self._spec[1]

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
        if self.spec.determined_up_to_a_constant:
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
        is written beside it (``u.xdmf`` beside ``u.h5``, see :mod:`neuralpde.io.xdmf`). A
        :class:`~neuralpde.MeshDomain` (or ``SpaceTime`` of one) is stored with it, so that
        the loaded field knows its domain (:meth:`~NeuralField.contains`).

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
        _check_rebuilds(self.architecture, self.net, *self.bounds)
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
            problem=self.spec.description,
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
            domain=self.problem.domain,
        )


def _check_rebuilds(architecture: Mapping, net: nn.Module, lo: np.ndarray, hi: np.ndarray) -> None:
    """Raise ``ValueError`` unless the network that ``architecture`` describes, given ``net``'s
    tensors, computes what ``net`` computes at a few points of the box ``[lo, hi]``: a file
    must load as the field that was trained (a network class the file format does not know,
    such as a subclass of ``MLP`` with its own ``build``, would not)."""
    why = None
    p = next(net.parameters())
    try:
        twin = build_field(architecture).to(dtype=p.dtype, device=p.device)
        twin.load_state_dict(net.state_dict())
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        why = f"its tensors are not those of the network its description builds ({exc})"
    if why is None:
        rng = np.random.default_rng(0)
        x = torch.as_tensor(lo + (hi - lo) * rng.random((8, len(lo))), dtype=p.dtype)
        x = x.to(p.device)
        with torch.no_grad():
            a, b = twin(x), net(x)
        tol = 1e-10 if p.dtype == torch.float64 else 1e-5
        atol = tol * float(b.abs().max())
        if a.shape != b.shape or not torch.allclose(a, b, rtol=tol, atol=atol):
            why = "the network its description builds computes other values"
    if why is not None:
        raise ValueError(
            f"this solution's network cannot be saved: {why}. The file format knows the fields "
            "neuralpde.Siren and neuralpde.MLP; keep a network of your own with "
            "torch.save(solution.net.state_dict(), path)"
        )
