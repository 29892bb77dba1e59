"""Equations written by the user as a residual function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .._arguments import as_number
from ..coefficients import describe_coefficient
from ..operators import FieldValues
from .base import Equation


@dataclass(frozen=True)
class Custom(Equation):
    r"""Any scalar PDE ``residual(u, x) = 0`` built from :mod:`neuralpde.operators`.

    Example, a reaction-diffusion equation :math:`u_t = 0.1\,\Delta u + u(1 - u)`::

        from neuralpde.operators import dt, laplacian
        eq = Custom(lambda u, x: dt(u) - 0.1 * laplacian(u) - u * (1 - u), time_order=1)

    ``time_order`` (0, 1 or 2) says which initial conditions the problem needs.
    """

    fn: Callable[[FieldValues, torch.Tensor], torch.Tensor] = None  # type: ignore[assignment]
    time_order: int = 0  # type: ignore[misc]
    name: str = "custom"

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise TypeError(f"Custom.fn must be a callable (u, x) -> residual, got {self.fn!r}")
        order = as_number(self.time_order, integral=True)
        if order is None:
            got = self.time_order
            raise TypeError(
                f"Custom.time_order must be the int 0, 1 or 2, got {type(got).__name__} {got!r}"
            )
        if order not in (0, 1, 2):
            raise ValueError(f"Custom.time_order must be 0, 1 or 2, got {self.time_order!r}")
        object.__setattr__(self, "time_order", order)

    def residual(self, u: FieldValues, x: torch.Tensor) -> torch.Tensor:
        return self.fn(u, x)

    def describe(self) -> dict:
        return {
            "type": "Custom",
            "name": self.name,
            "residual": describe_coefficient(self.fn),
            "time_order": self.time_order,
        }
