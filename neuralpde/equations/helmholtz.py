"""The Helmholtz equation."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..coefficients import Coefficient, check_coefficient, evaluate
from ..operators import FieldValues, laplacian
from .base import Equation


@dataclass(frozen=True)
class Helmholtz(Equation):
    r"""The Helmholtz equation :math:`\Delta u + k^2 u = f`.

    The wavenumber ``k`` and source ``f`` are constants or callables of the points.
    """

    k: Coefficient = 1.0
    f: Coefficient = 0.0
    latex = r"\Delta u + k^2 u = f"

    def __post_init__(self) -> None:
        check_coefficient(self.k, "Helmholtz.k")
        check_coefficient(self.f, "Helmholtz.f")

    def residual(self, u: FieldValues, x: torch.Tensor) -> torch.Tensor:
        k = evaluate(self.k, x, "Helmholtz.k")
        return laplacian(u) + k**2 * u - evaluate(self.f, x, "Helmholtz.f")
