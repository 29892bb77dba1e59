r"""Fit a neural field to data: gridded values or scattered point data become a SIREN stored in
the solution-file format, which :func:`neuralpde.load` evaluates at any resolution.

Given values :math:`v_j` at points :math:`x_j` (a tensor grid, or a mesh's nodes), :func:`fit`
trains a float64 SIREN :math:`u_\theta` (inputs scaled from the data's bounding box to
:math:`[-1, 1]`, outputs from :math:`(v - \bar v)/s`) by Levenberg–Marquardt
(:func:`neuralpde.training.gauss_newton.levenberg_marquardt`) on the rows

.. math::

    R_j = \frac{u_\theta(x_j) - v_j}{\sqrt{M}\, \operatorname{rms}(v)}, \qquad
    \lVert R \rVert^2 = \frac{\sum_j (u_\theta(x_j) - v_j)^2}{\sum_j v_j^2}
    = e_{L^2}^2 \ \text{on the } M \text{ rows},

over a random subset of :math:`M` training points (all of them when the Jacobian,
:math:`M \times P` for :math:`P` parameters, stays small; otherwise a new subset every few
steps, then L-BFGS on all of them). A ``holdout`` fraction of the points is never trained on:
their relative :math:`L^2` error judges the fit. Without a fixed ``width`` the network grows
(width 16, 24, 32, 48, 64, 96, 128 at the given depth) until the held-out error meets
``target`` or the time budget runs out; sizes with more numbers than the data are not tried.

With ``supervise="gradient"`` (gridded data), the rows also hold the defects of the field's
gradient against the data's finite-difference gradient :math:`g = \nabla_h v` (second order,
:func:`numpy.gradient`), so that

.. math::

    \lVert R \rVert^2 = e_{L^2}(u)^2 + \frac{\sum_{j,i} (\partial_i u_\theta(x_j)
    - g_i(x_j))^2}{\sum_{j,i} g_i(x_j)^2},

as in SIREN's Poisson image experiment (here with the values too).

SIREN's :math:`\omega_0` comes from the data's spectrum along each axis
(:func:`spectrum_frequency`; the rule of :mod:`neuralpde.defaults`): half the angular frequency,
per unit of the scaled inputs, below which 99% of the energy lies, between 1 and 30; axes 8
times slower than the fastest get their own :math:`\omega_0`.

The compression ratio is the number of data values over the numbers the file stores for the
network (its weights, biases and input bounds).
"""

from __future__ import annotations

from ._data import Data, read_data
from ._fit import DEFAULT_TARGET as DEFAULT_TARGET
from ._fit import WIDTHS, fit
from ._frequency import siren_for, spectrum_frequency
from ._result import FittedField

__all__ = [
    "Data",
    "FittedField",
    "fit",
    "read_data",
    "siren_for",
    "spectrum_frequency",
    "WIDTHS",
]
