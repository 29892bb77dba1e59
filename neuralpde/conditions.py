"""Boundary and initial conditions.

Each condition contributes a mean-squared term to the training loss, weighted by ``weight``:

* :class:`Dirichlet`: :math:`u = g` on the chosen boundary parts;
* :class:`Neumann`: :math:`\\partial u / \\partial n = \\nabla u \\cdot n = g` on the chosen
  boundary parts, :math:`n` the outward unit normal;
* :class:`Robin`: :math:`a u + b\\,\\partial u / \\partial n = g`;
* :class:`Periodic`: :math:`u` and :math:`\\partial_n u` match on two opposite faces;
* :class:`Initial`: :math:`u(x, t_0) = u_0(x)`;
* :class:`InitialVelocity`: :math:`\\partial_t u(x, t_0) = v_0(x)` (second order in time);
* :class:`Observations`: :math:`u(x_i) = d_i` at given points.

Condition kinds are open: nothing outside this module lists the condition classes. A kind
states what sampling and the loss need of it as two class attributes, read by
:mod:`neuralpde.sampling` and :mod:`neuralpde.training.loss` (each holds the one rule per
value), and answers the rest itself:

* :attr:`Condition.where`, where its points come from (one of :data:`WHERE`): ``"boundary"``,
  the boundary points on the parts of its ``on`` (all of the boundary when ``None``), with
  their outward normals; ``"initial"``, points of the initial slice; ``"pairs"``, the points
  of its ``part_a`` followed by their partners on ``part_b``
  (:meth:`~neuralpde.Problem.periodic_partner`), with ``part_a``'s normals; ``"points"``, its
  own ``points`` (checked against the domain when the problem is built);
* :attr:`Condition.defect`, what its loss term measures there against its data (one of
  :data:`DEFECTS`): ``"value"`` :math:`u - g`; ``"normal"`` :math:`\\partial_n u - g`;
  ``"robin"`` :math:`a u + b\\,\\partial_n u - g` (its ``a`` and ``b``); ``"time"``
  :math:`\\partial_t u - g`; ``"periodic"``, the differences of :math:`u` and of
  :math:`\\partial_n u` between the two halves of its pairs;
* :meth:`Condition.target`, its data :math:`g` at its points; :meth:`Condition.coefficients`,
  the constants and callables it holds (probed before training); :meth:`Condition.holds_on`,
  the boundary parts it constrains (coverage checks); :meth:`Condition.flux`, the flux it
  prescribes, if only a flux; :attr:`Condition.pins_constant`; :meth:`Condition.summary`.

A new kind is a subclass that sets ``where`` and ``defect`` (or inherits them) and overrides
what differs; a new *value* of ``where`` or ``defect`` adds its rule to sampling or the loss.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import torch

from ._arguments import as_number, real_coordinates
from .coefficients import Coefficient, check_coefficient, describe_coefficient, evaluate
from .limits import MAX_POINTS

__all__ = [
    "WHERE",
    "DEFECTS",
    "Condition",
    "ValueCondition",
    "BoundaryCondition",
    "Dirichlet",
    "Neumann",
    "Robin",
    "Periodic",
    "Initial",
    "InitialVelocity",
    "Observations",
    "condition_class",
]

#: Where a condition's points come from (:attr:`Condition.where`; see the module doc).
WHERE = ("boundary", "initial", "pairs", "points")
#: What a condition's loss term measures (:attr:`Condition.defect`; see the module doc).
DEFECTS = ("value", "normal", "robin", "time", "periodic")

#: The condition classes by name, the first defined of each name: what a description's
#: ``"type"`` names (:func:`condition_class`).
_BY_NAME: dict[str, type[Condition]] = {}


def condition_class(name: object) -> type[Condition] | None:
    """The condition class that a description's ``"type"`` (its :meth:`Condition.describe`, as a
    file stores it) names: the first class of that name defined, this module's own first;
    ``None`` for a name no class has."""
    return _BY_NAME.get(name) if isinstance(name, str) else None


def _check_weight(weight: object, name: str) -> float:
    """``weight`` as a ``float``, after checking that it is a finite positive real number (a
    Python or NumPy int or float; not a bool)."""
    w = as_number(weight)
    if w is None:
        names = isinstance(weight, str) or (
            isinstance(weight, (list, tuple)) and all(isinstance(p, str) for p in weight)
        )
        cls = name.split(".")[0]
        hint = (
            f"; {cls} takes (value, weight, on): name the boundary parts by keyword, on={weight!r}"
            if names and weight and cls in ("Dirichlet", "Neumann")
            else ""
        )
        raise TypeError(
            f"{name} must be a positive finite number (an int or float, NumPy scalars too), got "
            f"{type(weight).__name__} {weight!r}{hint}"
        )
    if not (math.isfinite(w) and w > 0):
        raise ValueError(f"{name} must be a positive finite number, got {weight!r}")
    return w


@dataclass(frozen=True)
class Condition:
    """Base class of conditions: a loss ``weight`` (every kind has one; each declares it, after
    its own data) and what sampling and the loss need to know of the kind (see the module doc).
    """

    if TYPE_CHECKING:  # declared by each kind, in its own place among its fields
        weight: float

    #: Where the condition's points come from: one of :data:`WHERE` (``None``: no kind).
    where: ClassVar[str | None] = None
    #: What its loss term measures at them: one of :data:`DEFECTS` (``None``: no kind).
    defect: ClassVar[str | None] = None

    #: Whether the condition pins the solution's additive constant: ``False`` where ``u + c``
    #: meets it whenever ``u`` does (it constrains derivatives of ``u`` only: Neumann,
    #: Periodic, InitialVelocity, a Robin condition with ``a = 0``). A steady problem whose
    #: equation is blind to constants and none of whose conditions pin one fixes its solution
    #: only up to a constant (:attr:`~neuralpde.Problem.determined_up_to_a_constant`).
    pins_constant: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for attr, allowed in (("where", WHERE), ("defect", DEFECTS)):
            value = getattr(cls, attr)
            if value is not None and value not in allowed:
                raise TypeError(
                    f"{cls.__name__}.{attr} must be one of {allowed} (or None), got {value!r}"
                )
        _BY_NAME.setdefault(cls.__name__, cls)

    @classmethod
    def pins_constant_described(cls, description: Mapping) -> bool:
        """:attr:`pins_constant` of the condition of this class that ``description`` (its
        :meth:`describe`, as a solution file stores it) describes."""
        return cls.pins_constant

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "weight", _check_weight(self.weight, f"{type(self).__name__}.weight")
        )

    def target(self, points: torch.Tensor) -> torch.Tensor:
        """The condition's data at its points (as :attr:`where` gives them), in their precision
        and on their device: what its defect is measured against."""
        raise NotImplementedError(f"{type(self).__name__} has no data")

    def coefficients(self) -> dict[str, Coefficient]:
        """The constants and callables of the points the condition holds, by name (none)."""
        return {}

    def holds_on(self, parts: Sequence[str]) -> tuple[str, ...]:
        """The boundary parts, of a domain's ``parts``, that the condition constrains (none)."""
        return ()

    def flux(self, points: torch.Tensor) -> torch.Tensor | None:
        r"""The outward flux :math:`\partial_n u` the condition prescribes at boundary
        ``points`` where it prescribes that alone, else ``None``."""
        return None

    def summary(self) -> str:
        """The condition in a few characters, for messages: its class."""
        return f"{type(self).__name__}()"

    def describe(self) -> dict:
        return {"type": type(self).__name__, "weight": float(self.weight)}


@dataclass(frozen=True)
class ValueCondition(Condition):
    """A condition whose data is ``value``, a constant or a callable of the points."""

    value: Coefficient = 0.0
    weight: float = 1.0

    def __post_init__(self) -> None:
        check_coefficient(self.value, f"{type(self).__name__}.value")
        super().__post_init__()

    def target(self, points: torch.Tensor) -> torch.Tensor:
        """``value`` at ``points``."""
        return evaluate(self.value, points, f"{type(self).__name__}.value")

    def coefficients(self) -> dict[str, Coefficient]:
        return {"value": self.value}

    def summary(self) -> str:
        """``Dirichlet(0.0)``; a function's value shown as ``<function>``."""
        value = "<function>" if callable(self.value) else repr(float(self.value))
        return f"{type(self).__name__}({value})"

    def describe(self) -> dict:
        return {
            "type": type(self).__name__,
            "value": describe_coefficient(self.value),
            "weight": float(self.weight),
        }


@dataclass(frozen=True)
class BoundaryCondition(ValueCondition):
    """A condition on the boundary parts named in ``on`` (all of the boundary when ``None``)."""

    on: str | Sequence[str] | None = None

    where: ClassVar[str | None] = "boundary"
    defect: ClassVar[str | None] = "value"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.on is not None:
            name = type(self).__name__
            iterable = isinstance(self.on, Iterable) and not isinstance(self.on, bytes)
            parts = (self.on,) if isinstance(self.on, str) else tuple(self.on) if iterable else ()
            if not parts or not all(isinstance(p, str) for p in parts):
                hint = ""
                if as_number(self.on) is not None:  # a number given as the third argument
                    order = "value, a, b, on" if isinstance(self, Robin) else "value, weight, on"
                    hint = f"; {name} takes ({order}): give the others by keyword, e.g. on='x_min'"
                raise ValueError(
                    f"{name}.on must be a boundary part name or a list of them, got "
                    f"{self.on!r}{hint}"
                )
            object.__setattr__(self, "on", parts)

    def holds_on(self, parts: Sequence[str]) -> tuple[str, ...]:
        """The parts of ``on``, or all of ``parts``."""
        return tuple(parts) if self.on is None else tuple(self.on)

    def describe(self) -> dict:
        out = super().describe()
        out["on"] = "boundary" if self.on is None else list(self.on)
        return out


@dataclass(frozen=True)
class Dirichlet(BoundaryCondition):
    """``u = value`` on the boundary parts named in ``on`` (all of the boundary when ``None``)."""


@dataclass(frozen=True)
class Neumann(BoundaryCondition):
    """``du/dn = value`` (outward normal derivative) on the parts named in ``on``."""

    defect: ClassVar[str | None] = "normal"
    pins_constant: ClassVar[bool] = False

    def flux(self, points: torch.Tensor) -> torch.Tensor:
        """``value`` at ``points``."""
        return self.target(points)


@dataclass(frozen=True)
class Initial(ValueCondition):
    """``u(x, t0) = value(x, t0)``."""

    where: ClassVar[str | None] = "initial"
    defect: ClassVar[str | None] = "value"


@dataclass(frozen=True)
class InitialVelocity(ValueCondition):
    """``du/dt(x, t0) = value(x, t0)``; needed, with :class:`Initial`, by second-order equations
    and refused by the others (their ``du/dt`` at ``t0`` is not free data)."""

    where: ClassVar[str | None] = "initial"
    defect: ClassVar[str | None] = "time"
    pins_constant: ClassVar[bool] = False


@dataclass(frozen=True, init=False)
class Robin(BoundaryCondition):
    """``a u + b du/dn = value`` on the parts named in ``on``; ``a`` and ``b`` are numbers or
    callables of the points (``a = 0`` is Neumann, ``b = 0`` Dirichlet). Positional arguments
    are ``value, a, b, on``."""

    a: Coefficient = 1.0
    b: Coefficient = 1.0

    defect: ClassVar[str | None] = "robin"

    def __init__(
        self,
        value: Coefficient = 0.0,
        a: Coefficient = 1.0,
        b: Coefficient = 1.0,
        on: str | Sequence[str] | None = None,
        weight: float = 1.0,
    ) -> None:
        for name, v in (("value", value), ("a", a), ("b", b), ("on", on), ("weight", weight)):
            object.__setattr__(self, name, v)
        self.__post_init__()

    def __post_init__(self) -> None:
        super().__post_init__()
        check_coefficient(self.a, "Robin.a")
        check_coefficient(self.b, "Robin.b")
        zero = [isinstance(c, (int, float)) and c == 0 for c in (self.a, self.b)]
        if all(zero):
            raise ValueError("Robin needs a or b non-zero: with a = b = 0 it imposes 0 = value")

    @property
    def flux_only(self) -> bool:
        r"""Whether ``a`` is the number 0, so that the condition imposes only the flux
        :math:`\partial u/\partial n = \mathrm{value}/b` (a Neumann condition)."""
        return not callable(self.a) and float(self.a) == 0

    @property
    def pins_constant(self) -> bool:  # type: ignore[override]
        """Whether the condition pins the additive constant: unless it is :attr:`flux_only`."""
        return not self.flux_only

    @classmethod
    def pins_constant_described(cls, description: Mapping) -> bool:
        """Whether the described Robin condition's ``a`` is not the number 0 (a callable ``a``
        is described by its source, and pins the constant)."""
        try:
            return float(description.get("a")) != 0  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return True

    def coefficients(self) -> dict[str, Coefficient]:
        return {"value": self.value, "a": self.a, "b": self.b}

    def flux(self, points: torch.Tensor) -> torch.Tensor | None:
        """``value / b`` at ``points`` where the condition is :attr:`flux_only`."""
        if not self.flux_only:
            return None
        return self.target(points) / evaluate(self.b, points, f"{type(self).__name__}.b")

    def describe(self) -> dict:
        out = super().describe()
        out["a"] = describe_coefficient(self.a)
        out["b"] = describe_coefficient(self.b)
        return out


@dataclass(frozen=True, init=False)
class Periodic(Condition):
    r"""``u`` and its normal derivative agree on two opposite faces of a box, e.g.
    ``Periodic("x_min", "x_max")``: :math:`u(x_a) = u(x_b)` and
    :math:`\partial_n u(x_a) = -\partial_n u(x_b)`, with :math:`x_b` the point :math:`x_a`
    moved across the box.
    """

    part_a: str = ""
    part_b: str = ""
    weight: float = 1.0

    where: ClassVar[str | None] = "pairs"
    defect: ClassVar[str | None] = "periodic"
    pins_constant: ClassVar[bool] = False

    def __init__(self, part_a: str, part_b: str, weight: float = 1.0) -> None:
        for name, v in (("part_a", part_a), ("part_b", part_b)):
            if not isinstance(v, str) or not v:
                raise ValueError(f"Periodic.{name} must be a boundary part name, got {v!r}")
        if part_a == part_b:
            raise ValueError(f"Periodic needs two different parts, got {part_a!r} twice")
        object.__setattr__(self, "weight", weight)
        object.__setattr__(self, "part_a", part_a)
        object.__setattr__(self, "part_b", part_b)
        self.__post_init__()

    def target(self, points: torch.Tensor) -> torch.Tensor:
        """Zero for each pair (the points are the pairs' two halves): no data."""
        return torch.zeros(len(points) // 2, dtype=points.dtype, device=points.device)

    def holds_on(self, parts: Sequence[str]) -> tuple[str, ...]:
        """The two faces."""
        return (self.part_a, self.part_b)

    def summary(self) -> str:
        return f"{type(self).__name__}({self.part_a!r}, {self.part_b!r})"

    def describe(self) -> dict:
        return {
            "type": "Periodic",
            "parts": [self.part_a, self.part_b],
            "weight": float(self.weight),
        }


@dataclass(frozen=True, init=False, eq=False)
class Observations(Condition):
    """Data the field must match: ``u(points[i]) = values[i]`` (e.g. sensor readings).

    ``points`` has shape ``(M, d)`` (columns in the domain's coordinate order), ``values`` shape
    ``(M,)``; ``M`` is at most :data:`~neuralpde.limits.MAX_POINTS` (2**24).
    """

    points: np.ndarray = None  # type: ignore[assignment]
    values: np.ndarray = None  # type: ignore[assignment]
    weight: float = 1.0

    where: ClassVar[str | None] = "points"
    defect: ClassVar[str | None] = "value"

    def __init__(self, points: object, values: object, weight: float = 1.0) -> None:
        pts = real_coordinates(points, "Observations.points", "an (M, d) array of numbers")
        vals = real_coordinates(values, "Observations.values", "M numbers").reshape(-1)
        if pts.ndim != 2 or len(pts) == 0:
            raise ValueError(f"Observations.points must have shape (M, d), got {pts.shape}")
        if len(pts) > MAX_POINTS:
            raise ValueError(
                f"Observations.points must hold at most {MAX_POINTS:,} points, got {len(pts):,}"
            )
        if vals.shape != (len(pts),):
            raise ValueError(
                f"Observations.values must have one value per point, ({len(pts)},), got "
                f"{vals.shape}"
            )
        if not (np.isfinite(pts).all() and np.isfinite(vals).all()):
            raise ValueError("Observations.points and values must be finite")
        object.__setattr__(self, "weight", weight)
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "values", vals)
        self.__post_init__()

    def target(self, points: torch.Tensor) -> torch.Tensor:
        """``values`` (``points`` are the condition's own)."""
        return torch.as_tensor(self.values, dtype=points.dtype, device=points.device)

    def summary(self) -> str:
        return f"{type(self).__name__}({len(self.values)} points)"

    def describe(self) -> dict:
        return {
            "type": "Observations",
            "count": int(len(self.values)),
            "weight": float(self.weight),
        }
