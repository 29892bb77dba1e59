r"""Error metrics between a field and a reference on the same points.

Relative :math:`L^2`: :math:`\|u - u_\mathrm{ref}\|_2 / \|u_\mathrm{ref}\|_2` over a dense uniform
grid of the whole domain (:func:`dense_grid_size` points per axis).
"""

from __future__ import annotations

import numpy as np

__all__ = ["relative_l2", "relative_max", "rmse", "summary", "dense_grid_size"]


def _pair(u: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u = np.asarray(u, dtype=np.float64).ravel()
    ref = np.asarray(ref, dtype=np.float64).ravel()
    if u.shape != ref.shape:
        raise ValueError(
            f"u and ref must have the same number of values, got {u.size} and {ref.size}"
        )
    if u.size == 0:
        raise ValueError("u and ref are empty")
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
