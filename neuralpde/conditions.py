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
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ._arguments import as_number, real_coordinates
from .coefficients import Coefficient, check_coefficient, describe_coefficient
from .limits import MAX_POINTS

__all__ = [
    "Condition",
    "BoundaryCondition",
    "Dirichlet",
    "Neumann",
    "Robin",
    "Periodic",
    "Initial",
    "InitialVelocity",
    "Observations",
]


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
    """Base class of conditions; ``value`` is a constant or a callable of the points."""

    value: Coefficient = 0.0
    weight: float = 1.0

    #: Whether the condition pins the solution's additive constant: ``False`` where ``u + c``
    #: meets it whenever ``u`` does (it constrains derivatives of ``u`` only: Neumann,
    #: Periodic, InitialVelocity, a Robin condition with ``a = 0``). A steady problem whose
    #: equation is blind to constants and none of whose conditions pin one fixes its solution
    #: only up to a constant (:attr:`~neuralpde.Problem.determined_up_to_a_constant`).
    pins_constant: ClassVar[bool] = True

    @classmethod
    def pins_constant_described(cls, description: Mapping) -> bool:
        """:attr:`pins_constant` of the condition of this class that ``description`` (its
        :meth:`describe`, as a solution file stores it) describes."""
        return cls.pins_constant

    def __post_init__(self) -> None:
        check_coefficient(self.value, f"{type(self).__name__}.value")
        object.__setattr__(
            self, "weight", _check_weight(self.weight, f"{type(self).__name__}.weight")
        )

    def describe(self) -> dict:
        return {
            "type": type(self).__name__,
            "value": describe_coefficient(self.value),
            "weight": float(self.weight),
        }


@dataclass(frozen=True)
class BoundaryCondition(Condition):
    """A condition on the boundary parts named in ``on`` (all of the boundary when ``None``)."""

    on: str | Sequence[str] | None = None

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

    pins_constant: ClassVar[bool] = False


@dataclass(frozen=True)
class Initial(Condition):
    """``u(x, t0) = value(x, t0)``."""


@dataclass(frozen=True)
class InitialVelocity(Condition):
    """``du/dt(x, t0) = value(x, t0)``; needed, with :class:`Initial`, by second-order equations
    and refused by the others (their ``du/dt`` at ``t0`` is not free data)."""

    pins_constant: ClassVar[bool] = False


@dataclass(frozen=True, init=False)
class Robin(BoundaryCondition):
    """``a u + b du/dn = value`` on the parts named in ``on``; ``a`` and ``b`` are numbers or
    callables of the points (``a = 0`` is Neumann, ``b = 0`` Dirichlet). Positional arguments
    are ``value, a, b, on``."""

    a: Coefficient = 1.0
    b: Coefficient = 1.0

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

    pins_constant: ClassVar[bool] = False

    def __init__(self, part_a: str, part_b: str, weight: float = 1.0) -> None:
        for name, v in (("part_a", part_a), ("part_b", part_b)):
            if not isinstance(v, str) or not v:
                raise ValueError(f"Periodic.{name} must be a boundary part name, got {v!r}")
        if part_a == part_b:
            raise ValueError(f"Periodic needs two different parts, got {part_a!r} twice")
        object.__setattr__(self, "value", 0.0)
        object.__setattr__(self, "weight", weight)
        object.__setattr__(self, "part_a", part_a)
        object.__setattr__(self, "part_b", part_b)
        self.__post_init__()

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
        object.__setattr__(self, "value", 0.0)
        object.__setattr__(self, "weight", weight)
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "values", vals)
        self.__post_init__()

    def describe(self) -> dict:
        return {
            "type": "Observations",
            "count": int(len(self.values)),
            "weight": float(self.weight),
        }
