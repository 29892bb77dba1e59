"""Coefficients (:mod:`neuralpde.coefficients`): callables evaluated at points, their
results' shape and finiteness checked."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuralpde.coefficients import evaluate


def test_coefficients_accept_callables():
    x = torch.rand(50, 2, dtype=torch.float64)
    a = evaluate(lambda p: torch.sin(p[:, 0]) * p[:, 1], x, "f")
    np.testing.assert_allclose(a.numpy(), np.sin(x[:, 0].numpy()) * x[:, 1].numpy())
    assert a.dtype == torch.float64 and a.shape == (50,)
    # a NumPy result (e.g. from a lookup table) is converted to the points' dtype
    b = evaluate(lambda p: np.ones(len(p), dtype=np.float32), x, "f")
    assert b.dtype == torch.float64 and float(b.sum()) == 50.0
    assert evaluate(2.5, x).item() == 2.5
    assert evaluate(lambda p: 3.0, x).shape == (50,)  # a scalar broadcasts to every point


def test_coefficient_shape_and_finiteness_are_checked():
    x = torch.rand(10, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"Poisson.f returned shape \(10, 2\).*expected \(10,\)"):
        evaluate(lambda p: p, x, "Poisson.f")
    with pytest.raises(ValueError, match="Heat.kappa returned non-finite"):
        evaluate(lambda p: 1 / (p[:, 0] * 0), x, "Heat.kappa")
