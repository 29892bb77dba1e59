"""The heat (diffusion) equation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..coefficients import Coefficient, check_coefficient, evaluate, gradient
from ..operators import FieldValues, combination, dt, grad, laplacian, time_axis_of
from .base import Equation


@dataclass(frozen=True)
class Heat(Equation):
    r"""The heat equation :math:`u_t = \kappa \Delta u + f`, or in divergence form
    :math:`u_t = \nabla\cdot(\kappa \nabla u) + f
    = \kappa \Delta u + \nabla\kappa\cdot\nabla u + f`.

    The diffusivity ``kappa`` is a constant, a callable of ``(x, t)``, or a constant anisotropic
    tensor :math:`K` (a list of diagonal entries or a symmetric positive definite matrix, giving
    :math:`u_t = \nabla\cdot(K\nabla u) + f = \sum_{ij} K_{ij}\,\partial_i\partial_j u + f`).
    The source ``f`` is a constant or a callable; with
    ``divergence_form=True`` a callable ``kappa`` must be written with ``torch`` functions, so
    that its gradient can be taken. Needs a :class:`~neuralpde.domains.SpaceTime` domain and an
    :class:`~neuralpde.conditions.Initial` condition.
    """

    kappa: Coefficient = 1.0
    f: Coefficient = 0.0
    divergence_form: bool = False
    time_order = 1

    def __post_init__(self) -> None:
        if isinstance(self.kappa, (list, tuple, np.ndarray)):
            try:
                K = np.asarray(self.kappa, dtype=float)
            except (TypeError, ValueError):
                raise TypeError(
                    "Heat.kappa as a tensor must be a list of diagonal entries or a square "
                    f"matrix of numbers (a callable kappa is a scalar), got {self.kappa!r}"
                ) from None
            if K.ndim == 1:
                K = np.diag(K)
            if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] == 0:
                raise ValueError(
                    "Heat.kappa as a tensor must be a list of diagonal entries or a square "
                    f"matrix, got shape {K.shape}"
                )
            if not np.all(np.isfinite(K)) or not np.allclose(K, K.T):
                raise ValueError("Heat.kappa as a matrix must be finite and symmetric")
            if np.linalg.eigvalsh(K).min() <= 0:
                raise ValueError(
                    f"Heat.kappa must be positive definite, got eigenvalues "
                    f"{np.linalg.eigvalsh(K).tolist()}"
                )
            object.__setattr__(self, "kappa", tuple(map(tuple, K.tolist())))
        else:
            check_coefficient(self.kappa, "Heat.kappa")
            if not callable(self.kappa) and not float(self.kappa) > 0:
                raise ValueError(
                    "Heat.kappa must be positive (with kappa < 0 the equation runs backward in "
                    f"time and is ill-posed; with 0 it is no diffusion), got {self.kappa!r}"
                )
        check_coefficient(self.f, "Heat.f")
        if not isinstance(self.divergence_form, bool):
            raise TypeError(
                f"Heat.divergence_form must be True or False, got {self.divergence_form!r}"
            )

    @property
    def latex(self) -> str:  # type: ignore[override]
        if self.anisotropic:
            return r"u_t = \nabla\cdot(K \nabla u) + f"
        if self.divergence_form:
            return r"u_t = \nabla\cdot(\kappa \nabla u) + f"
        return r"u_t = \kappa \Delta u + f"

    @property
    def anisotropic(self) -> bool:
        """Whether ``kappa`` is a constant diffusivity tensor."""
        return isinstance(self.kappa, tuple)

    def residual(self, u: FieldValues, x: torch.Tensor) -> torch.Tensor:
        if self.anisotropic:  # constant K: div(K grad u) = sum_ij K_ij u_ij
            K = self.kappa
            names = [u.names[i] for i in u.space_indices]
            if len(K) != len(names):
                raise ValueError(
                    f"Heat.kappa is a {len(K)}x{len(K)} tensor but the space has {len(names)} "
                    "coordinates"
                )
            t = u.names[time_axis_of(u, "dt")]
            terms: dict = {t: 1.0}
            for i, a in enumerate(names):  # div(K grad u) = sum_ij K_ij u_ij, one channel
                for j, b in enumerate(names):
                    if K[i][j] != 0:
                        terms[(a, b)] = terms.get((a, b), 0.0) - K[i][j]
            return combination(u, terms) - evaluate(self.f, x, "Heat.f")
        if not callable(self.kappa):  # u_t - kappa lap u as one channel of the fused engine
            lu = combination(u, {u.names[time_axis_of(u, "dt")]: 1.0, "lap": -float(self.kappa)})
            return lu - evaluate(self.f, x, "Heat.f")
        kappa = evaluate(self.kappa, x, "Heat.kappa")
        r = dt(u) - kappa * laplacian(u) - evaluate(self.f, x, "Heat.f")
        if self.divergence_form and callable(self.kappa):
            gk = gradient(self.kappa, x, "Heat.kappa")[:, u.space_indices]
            r = r - (gk * grad(u)).sum(dim=1)
        return r
