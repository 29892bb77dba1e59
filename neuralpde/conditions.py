"""Boundary and initial conditions.

Each condition contributes a mean-squared term to the training loss, weighted by ``weight``:

* :class:`Dirichlet`: :math:`u = g` on the chosen boundary parts;
* :class:`Neumann`: :math:`\\partial u / \\partial n = \\nabla u \\cdot n = g` on the chosen
  boundary parts, :math:`n` the outward unit normal;
* :class:`Initial`: :math:`u(x, t_0) = u_0(x)`;
* :class:`InitialVelocity`: :math:`\\partial_t u(x, t_0) = v_0(x)` (second order in time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .coefficients import Coefficient, check_coefficient, describe_coefficient

__all__ = ["Condition", "BoundaryCondition", "Dirichlet", "Neumann", "Initial", "InitialVelocity"]


def _check_weight(weight: float) -> None:
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
        raise ValueError(f"weight must be a positive number, got {weight!r}")


@dataclass(frozen=True)
class Condition:
    """Base class of conditions; ``value`` is a constant or a callable of the points."""

    value: Coefficient = 0.0
    weight: float = 1.0

    def __post_init__(self) -> None:
        check_coefficient(self.value, f"{type(self).__name__}.value")
        _check_weight(self.weight)

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
            parts = (self.on,) if isinstance(self.on, str) else tuple(self.on)
            if not parts or not all(isinstance(p, str) for p in parts):
                raise ValueError(
                    f"on must be a boundary part name or a list of them, got {self.on!r}"
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


@dataclass(frozen=True)
class Initial(Condition):
    """``u(x, t0) = value(x, t0)``."""


@dataclass(frozen=True)
class InitialVelocity(Condition):
    """``du/dt(x, t0) = value(x, t0)``; needed, with :class:`Initial`, by second-order equations."""
