"""The wave equation."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..coefficients import Coefficient, check_coefficient, evaluate
from ..operators import FieldValues, combination, dtt, laplacian, time_axis_of
from .base import Equation


@dataclass(frozen=True)
class Wave(Equation):
    r"""The wave equation :math:`u_{tt} = c^2 \Delta u + f`.

    The speed ``c`` and source ``f`` are constants or callables of ``(x, t)``. Needs a
    :class:`~neuralpde.domains.SpaceTime` domain, an :class:`~neuralpde.conditions.Initial` and an
    :class:`~neuralpde.conditions.InitialVelocity` condition.
    """

    c: Coefficient = 1.0
    f: Coefficient = 0.0
    time_order = 2
    latex = r"u_{tt} = c^2 \Delta u + f"

    def __post_init__(self) -> None:
        check_coefficient(self.c, "Wave.c")
        check_coefficient(self.f, "Wave.f")

    def residual(self, u: FieldValues, x: torch.Tensor) -> torch.Tensor:
        if not callable(self.c):  # u_tt - c^2 lap u as one channel of the fused engine
            t = u.names[time_axis_of(u, "dtt")]
            c = float(self.c)  # c * c: inf past the largest float, where c**2 raises
            lu = combination(u, {(t, t): 1.0, "lap": -(c * c)})
            return lu - evaluate(self.f, x, "Wave.f")
        c = evaluate(self.c, x, "Wave.c")
        return dtt(u) - c**2 * laplacian(u) - evaluate(self.f, x, "Wave.f")
