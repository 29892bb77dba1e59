r"""SIREN's :math:`\omega_0` from the data's spectrum along each axis."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..defaults import spectrum_frequency as grid_spectrum
from ..fields import Siren
from ..solution import grid_points
from ._data import Data

__all__ = ["data_frequencies", "siren_for", "spectrum_frequency"]

#: the largest omega_0 derived from the data (SIREN's image setting)
_MAX_W0 = 30.0


def spectrum_frequency(values: np.ndarray, fraction: float = 0.99) -> list[float]:
    """Per axis of the grid ``values``, the angular frequency (radians per unit of inputs
    scaled to [-1, 1]) below which ``fraction`` of the energy lies (after a Hann window, which
    keeps the jump between the grid's ends out of the spectrum and widens each line by one
    bin, taken off again): :math:`\\pi (m - 1)` for :math:`m` the bins holding it."""
    values = np.asarray(values, dtype=np.float64)
    return grid_spectrum(values - values.mean(), fraction)


def siren_for(frequencies: Sequence[float], width: int, depth: int) -> Siren:
    """The SIREN of ``width`` and ``depth`` for data with these per-axis angular
    ``frequencies`` (:func:`spectrum_frequency`): :math:`\\omega_0 = f/2` per axis, between 1
    and 30, the largest for the first layer; per input when an axis is 8 times slower than the
    fastest."""
    per_axis = [float(min(max(f / 2.0, 1.0), _MAX_W0)) for f in frequencies]
    w0 = max(per_axis)
    inputs = tuple(per_axis) if w0 >= 8.0 * min(per_axis) else None
    return Siren(width=width, depth=depth, w0=w0, w0_inputs=inputs)


def data_frequencies(data: Data) -> list[float]:
    """:func:`spectrum_frequency` of the data's grid, or of scattered data resampled (nearest
    point) onto a grid over their bounding box."""
    if data.gridded:
        return spectrum_frequency(data.values.reshape(data.shape))
    from scipy.spatial import cKDTree

    n = max(8, min(64, int(round(len(data.values) ** (1.0 / data.dim)))))
    axes = [np.linspace(a, b, n) for a, b in zip(data.lower, data.upper, strict=True)]
    _, idx = cKDTree(data.points).query(grid_points(axes))
    return spectrum_frequency(data.values[idx].reshape([n] * data.dim))
