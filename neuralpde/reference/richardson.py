r"""Richardson's formulas for solutions on grids refined by a ratio :math:`r`.

With :math:`d_k` the difference between the solutions of levels :math:`k - 1` and :math:`k`
(spacings :math:`h` and :math:`h/r`) of a scheme whose error is :math:`C h^p + \dots`:

* the observed order :math:`p = \log(d_{k-1}/d_k)/\log r`;
* the error of the finer level, :math:`d_k/(r^p - 1)` (Richardson's estimate);
* the extrapolation :math:`u_{h/r} + (u_{h/r} - u_h)/(r^p - 1)`, which cancels the
  :math:`C h^p` term.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "observed_order",
    "richardson_factor",
    "richardson_error",
    "richardson_extrapolate",
    "estimate_error",
]

log = logging.getLogger("neuralpde.reference")


def observed_order(d_coarse: float, d_fine: float, ratio: float) -> float:
    r""":math:`p = \log(d_\mathrm{coarse}/d_\mathrm{fine})/\log r` of two successive
    differences; ``nan`` or :math:`\pm\infty`, without a warning, when either is zero."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.log(np.float64(d_coarse) / d_fine) / np.log(ratio))


def richardson_factor(ratio: float, order: float) -> float:
    r""":math:`r^p - 1`, the divisor of Richardson's estimate and extrapolation."""
    return float(ratio**order - 1)


def richardson_error(d_fine: float, ratio: float, order: float) -> float:
    r"""Richardson's estimate :math:`d/(r^p - 1)` of the finer level's error from its
    difference :math:`d` with the coarser one."""
    return d_fine / richardson_factor(ratio, order)


def richardson_extrapolate(fine: np.ndarray, coarse: np.ndarray, factor: float) -> np.ndarray:
    r""":math:`u_\mathrm{fine} + (u_\mathrm{fine} - u_\mathrm{coarse})/f`, ``factor``
    :math:`f = r^p - 1` (:func:`richardson_factor`), on the nodes the two share; one
    temporary."""
    out = np.subtract(fine, coarse)
    out /= factor
    out += fine
    return out


def estimate_error(
    rel: Sequence[float],
    ratio: float,
    formal: float,
    name: str,
    what: str = "",
    highest: float | None = None,
) -> tuple[float, float, float]:
    r"""``(observed order, order used, Richardson estimate)`` from the last two relative
    differences ``rel`` of a sequence refined by ``ratio`` :math:`r`: :math:`p` by
    :func:`observed_order`, the estimate :math:`d_L/(r^p - 1)` by :func:`richardson_error`
    (logged under ``name``, ``what`` naming the sequence), for a scheme whose formal order is
    ``formal`` (or lies between
    ``formal`` and ``highest``; the lower, which gives the larger estimate, is the fall-back).
    An observed order above ``highest`` is capped there: a faster apparent convergence than the
    scheme's is pre-asymptotic, and trusting it would shrink the estimate.
    When the differences do not shrink (no positive observed order) and the last is not zero,
    the levels do not converge and the estimate is infinite: the finest grid's error is
    unknown."""
    highest = formal if highest is None else highest
    expected = f"{formal:g}" if highest == formal else f"{formal:g} to {highest:g}"
    p = observed_order(rel[-2], rel[-1], ratio)
    if not (np.isfinite(p) and p > 0):
        used = float(formal)
        if rel[-1] > 0:
            log.warning(
                "%s: the relative differences%s between the last levels are %.3g and %.3g "
                "(observed order %s): the levels do not converge, and the finest grid's error "
                "is unknown",
                name,
                what,
                rel[-2],
                rel[-1],
                p,
            )
            return p, used, math.inf
        log.warning(
            "%s: observed order %s%s is not usable; the formal order %g is used for the "
            "error estimate",
            name,
            p,
            what,
            formal,
        )
    else:
        used = min(p, float(highest))
        if not formal - 0.5 <= p <= highest + 0.5:
            capped = f"; the estimate uses order {highest:g}" if p > highest else ""
            log.warning(
                "%s: observed order %.3g%s differs from the formal order %s: the grids may "
                "not be in the asymptotic range%s",
                name,
                p,
                what,
                expected,
                capped,
            )
    return p, used, richardson_error(rel[-1], ratio, used)
