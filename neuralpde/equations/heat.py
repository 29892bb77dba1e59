"""The heat (diffusion) equation."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..coefficients import Coefficient, check_coefficient, evaluate, gradient
from ..operators import FieldValues, dt, grad, laplacian
from .base import Equation


@dataclass(frozen=True)
class Heat(Equation):
    r"""The heat equation :math:`u_t = \kappa \Delta u + f`, or in divergence form
    :math:`u_t = \nabla\cdot(\kappa \nabla u) + f
    = \kappa \Delta u + \nabla\kappa\cdot\nabla u + f`.

    The diffusivity ``kappa`` and source ``f`` are constants or callables of ``(x, t)``; with
    ``divergence_form=True`` a callable ``kappa`` must be written with ``torch`` functions, so
    that its gradient can be taken. Needs a :class:`~neuralpde.domains.SpaceTime` domain and an
    :class:`~neuralpde.conditions.Initial` condition.
    """

    kappa: Coefficient = 1.0
    f: Coefficient = 0.0
    divergence_form: bool = False
    time_order = 1

    def __post_init__(self) -> None:
        check_coefficient(self.kappa, "Heat.kappa")
        check_coefficient(self.f, "Heat.f")
        if not isinstance(self.divergence_form, bool):
            raise TypeError(
                f"Heat.divergence_form must be True or False, got {self.divergence_form!r}"
            )

    @property
    def latex(self) -> str:  # type: ignore[override]
        if self.divergence_form:
            return r"u_t = \nabla\cdot(\kappa \nabla u) + f"
        return r"u_t = \kappa \Delta u + f"

    def residual(self, u: FieldValues, x: torch.Tensor) -> torch.Tensor:
        kappa = evaluate(self.kappa, x, "Heat.kappa")
        r = dt(u) - kappa * laplacian(u) - evaluate(self.f, x, "Heat.f")
        if self.divergence_form and callable(self.kappa):
            gk = gradient(self.kappa, x, "Heat.kappa")[:, u.space_indices]
            r = r - (gk * grad(u)).sum(dim=1)
        return r
