"""The interface every equation family implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from typing import ClassVar

import torch

from ..coefficients import describe_coefficient
from ..operators import FieldValues

__all__ = ["Equation"]


@dataclass(frozen=True)
class Equation(ABC):
    """A PDE written as ``residual(u, x) = 0``.

    ``time_order`` is the highest time derivative (0 steady, 1 parabolic, 2 hyperbolic); it decides
    which initial conditions a problem needs.
    """

    time_order = 0
    latex = ""

    #: Whether the equation is steady and its residual is unchanged by ``u -> u + c`` for every
    #: field ``u`` and constant ``c``, so that only the conditions can fix the solution's level
    #: (:attr:`~neuralpde.Problem.determined_up_to_a_constant`). True for Poisson; Helmholtz's
    #: ``k^2 u`` sees the level, Heat and Wave are evolution equations (their Initial condition
    #: fixes it), and a Custom residual is not inspected.
    blind_to_constants: ClassVar[bool] = False

    @abstractmethod
    def residual(self, u: FieldValues, x: torch.Tensor) -> torch.Tensor:
        """The pointwise residual, shape ``(N,)``; zero where ``u`` solves the equation."""

    def describe(self) -> dict:
        out: dict = {"type": type(self).__name__, "latex": self.latex}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = _describe_value(v)
        return out


def _describe_value(v: object) -> object:
    """Strings and flags as they are, a constant tensor (a tuple of rows) as nested lists of
    numbers, and a coefficient as :func:`describe_coefficient` gives it."""
    if isinstance(v, (str, bool)):
        return v
    if isinstance(v, tuple):
        return [_describe_value(e) if isinstance(e, tuple) else float(e) for e in v]
    return describe_coefficient(v)  # type: ignore[arg-type]
