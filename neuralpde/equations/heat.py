"""The heat (diffusion) equation."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..coefficients import Coefficient, check_coefficient, evaluate
from ..operators import FieldValues, dt, laplacian
from .base import Equation


@dataclass(frozen=True)
class Heat(Equation):
    r"""The heat equation :math:`u_t = \kappa \Delta u + f`.

    The diffusivity ``kappa`` and source ``f`` are constants or callables of ``(x, t)``. Needs a
    :class:`~neuralpde.domains.SpaceTime` domain and an :class:`~neuralpde.conditions.Initial`
    condition.
    """

    kappa: Coefficient = 1.0
    f: Coefficient = 0.0
    time_order = 1
    latex = r"u_t = \kappa \Delta u + f"

    def __post_init__(self) -> None:
        check_coefficient(self.kappa, "Heat.kappa")
        check_coefficient(self.f, "Heat.f")

    def residual(self, u: FieldValues, x: torch.Tensor) -> torch.Tensor:
        kappa = evaluate(self.kappa, x, "Heat.kappa")
        return dt(u) - kappa * laplacian(u) - evaluate(self.f, x, "Heat.f")
