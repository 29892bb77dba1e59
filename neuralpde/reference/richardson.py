r"""Richardson's formulas for solutions on grids refined by a ratio :math:`r`.

With :math:`d_k` the difference between the solutions of levels :math:`k - 1` and :math:`k`
(spacings :math:`h` and :math:`h/r`) of a scheme whose error is :math:`C h^p + \dots`:

* the observed order :math:`p = \log(d_{k-1}/d_k)/\log r`;
* the error of the finer level, :math:`d_k/(r^p - 1)` (Richardson's estimate);
* the extrapolation :math:`u_{h/r} + (u_{h/r} - u_h)/(r^p - 1)`, which cancels the
  :math:`C h^p` term.
"""

from __future__ import annotations

import numpy as np

__all__ = ["observed_order", "richardson_factor", "richardson_error", "richardson_extrapolate"]


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
