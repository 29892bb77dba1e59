"""Poisson's equation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from ..coefficients import Coefficient, check_coefficient, evaluate
from ..operators import FieldValues, laplacian
from .base import Equation


@dataclass(frozen=True)
class Poisson(Equation):
    r"""Poisson's equation :math:`-\Delta u = f`.

    ``f`` is a constant or a callable of the points.
    """

    f: Coefficient = 0.0
    latex = r"-\Delta u = f"
    blind_to_constants: ClassVar[bool] = True  # -Δ(u + c) = -Δu

    def __post_init__(self) -> None:
        check_coefficient(self.f, "Poisson.f")

    def residual(self, u: FieldValues, x: torch.Tensor) -> torch.Tensor:
        return -laplacian(u) - evaluate(self.f, x, "Poisson.f")
