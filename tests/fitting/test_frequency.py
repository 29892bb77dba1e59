"""SIREN's frequencies from the data's spectrum (:mod:`neuralpde.fitting._frequency`)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuralpde.fitting import siren_for, spectrum_frequency


def test_spectrum_sets_omega_0_per_axis():
    x = np.linspace(0, 1, 129)
    X, Y = np.meshgrid(x, x, indexing="ij")
    f = spectrum_frequency(np.sin(16 * np.pi * X) + 0.1 * Y)  # 8 periods along x
    assert f[0] == pytest.approx(8 * math.pi, rel=0.15) and f[1] < 2 * math.pi
    spec = siren_for(f, 16, 2)
    assert spec.w0 == max(f[0] / 2, 1) and spec.w0_inputs is not None  # 8x slower along y
