r"""Error metrics between a field and a reference on the same points.

Relative :math:`L^2`: :math:`\|u - u_\mathrm{ref}\|_2 / \|u_\mathrm{ref}\|_2` over a dense uniform
grid of the whole domain (:func:`dense_grid_size` points per axis). :func:`band_errors` splits
the RMS error by spatial frequency (low, mid and high wavenumbers).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "without_means",
    "relative_l2",
    "relative_max",
    "rmse",
    "summary",
    "dense_grid_size",
    "band_errors",
    "BANDS",
]


def without_means(u: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""``u`` and ``ref`` less their means over the points where both are defined (not NaN):
    :math:`u - \bar u`, :math:`u_\mathrm{ref} - \bar u_\mathrm{ref}`, the comparison for a
    solution determined up to a constant."""
    u, ref = np.asarray(u, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    both = ~(np.isnan(u) | np.isnan(ref))
    return u - u[both].mean(), ref - ref[both].mean()


def _pair(u: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u = np.asarray(u, dtype=np.float64).ravel()
    ref = np.asarray(ref, dtype=np.float64).ravel()
    if u.shape != ref.shape:
        raise ValueError(
            f"u and ref must have the same number of values, got {u.size} and {ref.size}"
        )
    # grid points outside a domain hold NaN in the reference, and are left out; a NaN in u
    # where the reference is defined is the solution's own, and makes the error NaN
    keep = ~np.isnan(ref)
    u, ref = u[keep], ref[keep]
    if u.size == 0:
        raise ValueError("u and ref are empty (or NaN everywhere)")
    return u, ref


def relative_l2(u: np.ndarray, ref: np.ndarray) -> float:
    r""":math:`\|u - u_\mathrm{ref}\|_2 / \|u_\mathrm{ref}\|_2`."""
    u, ref = _pair(u, ref)
    norm = np.linalg.norm(ref)
    if norm == 0:
        raise ValueError("the reference is identically zero: relative error is undefined")
    return float(np.linalg.norm(u - ref) / norm)


def relative_max(u: np.ndarray, ref: np.ndarray) -> float:
    r""":math:`\max|u - u_\mathrm{ref}| / \max|u_\mathrm{ref}|`."""
    u, ref = _pair(u, ref)
    m = np.abs(ref).max()
    if m == 0:
        raise ValueError("the reference is identically zero: relative error is undefined")
    return float(np.abs(u - ref).max() / m)


def rmse(u: np.ndarray, ref: np.ndarray) -> float:
    r"""Root-mean-square error :math:`\sqrt{\mathrm{mean}(u - u_\mathrm{ref})^2}`."""
    u, ref = _pair(u, ref)
    return float(np.sqrt(np.mean((u - ref) ** 2)))


def summary(u: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """Relative L2, relative max and RMS errors together."""
    return {
        "relative_l2": relative_l2(u, ref),
        "relative_max": relative_max(u, ref),
        "rmse": rmse(u, ref),
    }


def dense_grid_size(dim: int) -> int:
    """Points per axis of the dense evaluation grid: 200 up to 2-D, 64 in 3-D, 16 above."""
    if dim < 1:
        raise ValueError(f"dim must be positive, got {dim}")
    return 200 if dim <= 2 else 64 if dim == 3 else 16


BANDS: dict[str, tuple[int, float]] = {"low": (0, 4), "mid": (5, 12), "high": (13, np.inf)}
"""Frequency bands of :func:`band_errors`: inclusive ranges of the radial wavenumber."""


def _wavenumbers(shape: tuple[int, ...]) -> np.ndarray:
    """Radial integer wavenumber ``floor(|k|)`` of every FFT coefficient of an array of ``shape``.

    ``k_i`` is in cycles per period along axis ``i`` (``numpy.fft.fftfreq(n, 1/n)``).
    """
    ksq = np.zeros(shape, dtype=np.int64)
    for i, n in enumerate(shape):
        k = np.rint(np.fft.fftfreq(n, d=1.0 / n)).astype(np.int64)
        ksq = ksq + (k**2).reshape([n if j == i else 1 for j in range(len(shape))])
    return np.floor(np.sqrt(ksq)).astype(np.int64)


def band_errors(
    u: np.ndarray,
    ref: np.ndarray,
    *,
    time_axis: int | None = None,
    endpoint: bool = False,
) -> dict[str, float]:
    r"""RMS error by frequency band (PDEBench / PINNacle's fRMSE), absolute and relative.

    With :math:`e = u - u_\mathrm{ref}` on a uniform grid of :math:`N` points over the spatial
    axes and :math:`\hat e_k` its discrete Fourier transform (``numpy.fft.fftn``, unnormalised),

    .. math::

        \mathrm{fRMSE}_B = \frac{1}{N} \Big( \sum_{k:\ \lfloor |k| \rfloor \in B}
        |\hat e_k|^2 \Big)^{1/2},

    where :math:`|k| = (\sum_i k_i^2)^{1/2}` and :math:`k_i` counts cycles per domain length
    along spatial axis :math:`i`. Bands (:data:`BANDS`): low :math:`|k| \le 4`, mid
    :math:`5 \le |k| \le 12`, high :math:`|k| \ge 13`. By Parseval,
    :math:`\sum_B \mathrm{fRMSE}_B^2 = \mathrm{RMSE}^2` on the points used. On a space-time grid
    (``time_axis`` given) each time level is transformed over the spatial axes and the band
    errors are RMS over time, :math:`(\mathrm{mean}_t\, \mathrm{fRMSE}_B(t)^2)^{1/2}`, so the
    identity still holds. The relative versions divide by the reference's RMS on the same points,
    :math:`(\mathrm{mean}\, u_\mathrm{ref}^2)^{1/2}`.

    The grid is taken as one period (``numpy.linspace(a, b, n, endpoint=False)``). With
    ``endpoint=True`` the axes hold both ends (``linspace(a, b, n)``, as FD and solution-file
    grids do): the last node along each spatial axis is dropped, so that the transform's period
    is exactly the domain length.

    Returns ``frmse_low``, ``frmse_mid``, ``frmse_high`` and ``relative_frmse_low``, ``..._mid``,
    ``..._high``.
    """
    u = np.asarray(u, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if u.shape != ref.shape:
        raise ValueError(f"u and ref must have the same shape, got {u.shape} and {ref.shape}")
    if u.size == 0 or u.ndim == 0:
        raise ValueError(f"u and ref must be non-empty arrays on a grid, got shape {u.shape}")
    if time_axis is not None:
        if not -u.ndim <= time_axis < u.ndim:
            raise ValueError(
                f"time_axis must be an axis of the {u.ndim}-D arrays or None, got {time_axis}"
            )
        if u.ndim < 2:
            raise ValueError(
                "time_axis needs at least one spatial axis besides time, got 1-D arrays"
            )
        u, ref = np.moveaxis(u, time_axis, 0), np.moveaxis(ref, time_axis, 0)
    else:
        u, ref = u[None], ref[None]
    if endpoint:
        trim = (slice(None),) + tuple(slice(0, n - 1 if n > 1 else 1) for n in u.shape[1:])
        u, ref = u[trim], ref[trim]
    spatial = tuple(range(1, u.ndim))
    n_points = int(np.prod(u.shape[1:]))
    power = np.abs(np.fft.fftn(u - ref, axes=spatial)) ** 2  # (time, *space)
    k = _wavenumbers(u.shape[1:])
    rms_ref = float(np.sqrt(np.mean(ref**2)))
    out: dict[str, float] = {}
    for band, (lo, hi) in BANDS.items():
        mask = (k >= lo) & (k <= hi)
        per_time = power[:, mask].sum(axis=1) / n_points**2  # fRMSE_B(t)^2
        out[f"frmse_{band}"] = float(np.sqrt(per_time.mean()))
    if rms_ref == 0:
        raise ValueError("the reference is identically zero: relative errors are undefined")
    for band in BANDS:
        out[f"relative_frmse_{band}"] = out[f"frmse_{band}"] / rms_ref
    return out
