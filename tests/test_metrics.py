"""Error metrics: the band-limited RMSE (fRMSE) on synthetic fields with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from neuralpde import metrics
from neuralpde.metrics import band_errors

TWO_PI = 2 * np.pi


def periodic(n: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, n, endpoint=False)


@pytest.mark.parametrize(
    ("k", "band"),
    [(0, "low"), (2, "low"), (4, "low"), (5, "mid"), (8, "mid"), (12, "mid")]
    + [(13, "high"), (20, "high")],
)
def test_a_sine_lands_in_its_band_with_its_amplitude(k, band):
    x = periodic(64)
    a = 0.3
    err = a * np.sin(TWO_PI * k * x) if k else np.full_like(x, a)
    ref = np.ones_like(x)
    out = band_errors(ref + err, ref)
    expected = a / np.sqrt(2) if k else a  # the RMS of the error
    for b in ("low", "mid", "high"):
        want = expected if b == band else 0.0
        assert out[f"frmse_{b}"] == pytest.approx(want, abs=1e-12)
        assert out[f"relative_frmse_{b}"] == pytest.approx(want, abs=1e-12)  # RMS(ref) = 1


def test_radial_wavenumber_in_two_dimensions():
    x, y = np.meshgrid(periodic(32), periodic(40), indexing="ij")
    ref = np.zeros_like(x) + 2.0
    # |k| = sqrt(3^2 + 3^2) = 4.24 -> low; sqrt(3^2 + 4^2) = 5 -> mid
    low = band_errors(ref + np.sin(TWO_PI * 3 * x) * np.sin(TWO_PI * 3 * y), ref)
    mid = band_errors(ref + np.sin(TWO_PI * 3 * x) * np.sin(TWO_PI * 4 * y), ref)
    assert low["frmse_low"] == pytest.approx(0.5) and low["frmse_mid"] < 1e-12
    assert mid["frmse_mid"] == pytest.approx(0.5) and mid["frmse_low"] < 1e-12
    assert mid["relative_frmse_mid"] == pytest.approx(0.25)  # RMS(ref) = 2


def test_bands_squared_add_up_to_the_rmse_squared():
    rng = np.random.default_rng(0)
    u, ref = rng.normal(size=(24, 30, 5)), rng.normal(size=(24, 30, 5))
    for time_axis in (None, 2, -1, 0):
        out = band_errors(u, ref, time_axis=time_axis)
        total = sum(out[f"frmse_{b}"] ** 2 for b in ("low", "mid", "high"))
        assert total == pytest.approx(metrics.rmse(u, ref) ** 2, rel=1e-12)


def test_space_time_is_rms_over_time_levels():
    x = periodic(48)
    amp = np.array([0.0, 1.0, 2.0, 3.0])
    err = np.sin(TWO_PI * 8 * x)[:, None] * amp[None, :]  # (x, t)
    ref = np.ones_like(err)
    out = band_errors(ref + err, ref, time_axis=1)
    assert out["frmse_mid"] == pytest.approx(np.sqrt(np.mean(amp**2 / 2)))
    assert out["frmse_low"] < 1e-12 and out["frmse_high"] < 1e-12


def test_endpoint_grids_drop_the_repeated_node():
    x = np.linspace(0.0, 2.0, 65)  # both ends, as FD and solution-file grids
    err = 0.1 * np.sin(TWO_PI * 2 * x / 2.0)  # two cycles per domain length
    out = band_errors(1 + err, np.ones_like(x), endpoint=True)
    assert out["frmse_low"] == pytest.approx(0.1 / np.sqrt(2), rel=1e-12)
    assert out["frmse_mid"] < 1e-12 and out["frmse_high"] < 1e-12


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="same shape"):
        band_errors(np.zeros(4), np.zeros(5))
    with pytest.raises(ValueError, match="identically zero"):
        band_errors(np.ones(4), np.zeros(4))
    with pytest.raises(ValueError, match="time_axis"):
        band_errors(np.ones((4, 4)), np.ones((4, 4)), time_axis=2)
    with pytest.raises(ValueError, match="spatial axis"):
        band_errors(np.ones(4), np.ones(4), time_axis=0)


def test_existing_metrics_unchanged():
    u, ref = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0])
    assert metrics.summary(u, ref) == {
        "relative_l2": pytest.approx(1 / np.sqrt(21)),
        "relative_max": pytest.approx(0.25),
        "rmse": pytest.approx(np.sqrt(1 / 3)),
    }
