r"""Coefficients given as data on a regular grid, interpolated multilinearly.

``GridData(axes, values)`` is a callable coefficient: at a point :math:`x` it returns

.. math::

    c(x) = \sum_{\text{corners } v} \Big(\prod_i w_i^{v_i}\Big)\, c[j + v],\qquad
    w_i^{1} = \frac{x_i - a_i[j_i]}{a_i[j_i + 1] - a_i[j_i]},\ w_i^{0} = 1 - w_i^{1},

the tensor-product linear interpolant of the cell :math:`j` holding :math:`x`. It is written in
``torch``, so it is differentiable in :math:`x` (as the divergence form of the heat equation
needs), and works for the neural solver and the finite-difference references alike.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

import numpy as np
import torch

from ._arguments import check_int, real_coordinates, shown
from .limits import MAX_IN_FEATURES

__all__ = ["GridData"]


class GridData:
    """Multilinear interpolation of ``values`` (shape ``(n_1, ..., n_k)``) on ``axes``.

    ``columns`` are the point columns the axes stand for (default: the first ``k``, i.e. the
    space coordinates). Points outside the grid raise ``ValueError``. The ``repr`` (which a
    problem's description and reference checksum use) carries a SHA-256 digest of the axes and
    values, so maps that differ in their data are told apart.
    """

    def __init__(
        self,
        axes: Sequence[np.ndarray],
        values: np.ndarray,
        columns: Sequence[int] | None = None,
        name: str = "grid data",
    ) -> None:
        if isinstance(axes, (str, bytes)) or not isinstance(axes, (Sequence, np.ndarray)):
            raise TypeError(f"axes must be a sequence of 1-D coordinate arrays, got {shown(axes)}")
        if not 1 <= len(axes) <= MAX_IN_FEATURES:
            raise ValueError(f"axes must hold 1 to {MAX_IN_FEATURES} arrays, got {len(axes)}")
        axes = [
            real_coordinates(a, f"axes[{i}]", "a 1-D array of numbers") for i, a in enumerate(axes)
        ]
        values = real_coordinates(values, "values", "an array of numbers")
        if values.ndim != len(axes) or len(axes) == 0:
            raise ValueError(
                f"values must have one dimension per axis ({len(axes)}), got shape {values.shape}"
            )
        for i, a in enumerate(axes):
            if a.ndim != 1 or len(a) < 2 or not np.all(np.diff(a) > 0):
                raise ValueError(f"axes[{i}] must be increasing with at least 2 points")
            if len(a) != values.shape[i]:
                raise ValueError(
                    f"axes[{i}] has {len(a)} points but values has {values.shape[i]} along it"
                )
        bad = ~np.isfinite(values)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"values must be finite; {int(bad.sum())} of {values.size} are NaN or inf "
                f"(the first at index {first})"
            )
        if columns is not None and (
            isinstance(columns, (str, bytes)) or not isinstance(columns, (Sequence, np.ndarray))
        ):
            raise TypeError(f"columns must be a sequence of point columns, got {shown(columns)}")
        self.columns = (
            list(range(len(axes)))
            if columns is None
            else [check_int(c, "columns", -MAX_IN_FEATURES, MAX_IN_FEATURES - 1) for c in columns]
        )
        if len(self.columns) != len(axes):
            raise ValueError(f"columns must name {len(axes)} point columns, got {columns!r}")
        self.axes = axes
        self.values = values
        if not isinstance(name, str):
            raise TypeError(f"name must be a string (a label for messages), got {shown(name)}")
        self.name = name
        self.digest = _digest(axes, values)

    @classmethod
    def from_file(
        cls, path: str | os.PathLike, dataset: str = "u", columns: Sequence[int] | None = None
    ) -> GridData:
        """Read a gridded dataset (with its dimension-scale coordinates) from an HDF5 file,
        e.g. a neuralpde solution or reference file, or any file laid out the same way.

        The values must be finite everywhere on the grid. The file of a solution on a domain
        that is not a box holds NaN outside the domain (its grid spans the bounding box), so it
        is refused with that reason: fill those points first (:func:`neuralpde.io.read_grid`
        gives the axes and values) and pass them to ``GridData(axes, values)``.
        """
        from .io import FormatError, file_kind, read_grid

        axes, values = read_grid(path, dataset)
        name = f"{os.fspath(path)}:{dataset}"
        # The description (and so a reference's checksum) names the file, not where it lies:
        # the same data read from another directory describe the same problem.
        label = f"{os.path.basename(os.fspath(path))}:{dataset}"
        nan = np.isnan(values)
        if nan.any():
            try:
                kind = file_kind(path)
            except FormatError:
                kind = None
            if kind is not None:
                raise ValueError(
                    f"path {name!r}: {int(nan.sum())} of {values.size} grid values are NaN; a "
                    f"{kind} on a domain that is not a box holds NaN outside the domain (its "
                    "grid spans the bounding box), one on a box should hold none. GridData "
                    "needs finite values on the whole grid: read them with "
                    "neuralpde.io.read_grid, fill the NaN points (e.g. with the nearest values "
                    "inside) and pass GridData(axes, values)"
                )
        return cls(axes, values, columns=columns, name=label)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x)
        d = x.shape[1] if x.ndim == 2 else None
        if d is None or not all(-d <= c < d for c in self.columns):
            raise ValueError(
                f"{self.name}: a {len(self.axes)}-D grid on point columns {self.columns} needs "
                f"points of shape (N, d) with those columns, got shape {tuple(x.shape)}; give "
                "one axis per coordinate it varies along, or name them with columns=[...]"
            )
        dtype = x.dtype if x.is_floating_point() else torch.float64
        vals = torch.as_tensor(self.values, dtype=dtype, device=x.device)
        weights, index = [], []
        for col, axis in zip(self.columns, self.axes, strict=True):
            a = torch.as_tensor(axis, dtype=dtype, device=x.device)
            xi = x[:, col]
            tol = 1e-9 * float(axis[-1] - axis[0])
            if bool(((xi < axis[0] - tol) | (xi > axis[-1] + tol)).any()):
                raise ValueError(
                    f"{self.name}: points outside the grid along column {col} "
                    f"([{axis[0]:g}, {axis[-1]:g}])"
                )
            j = torch.searchsorted(a, xi.detach().contiguous(), right=True) - 1
            j = torch.clamp(j, 0, len(a) - 2)
            w = (xi - a[j]) / (a[j + 1] - a[j])
            weights.append(w)
            index.append(j)
        out = torch.zeros(x.shape[0], dtype=dtype, device=x.device)
        k = len(self.axes)
        for corner in range(2**k):
            bits = [(corner >> i) & 1 for i in range(k)]
            w = torch.ones_like(out)
            for b, wi in zip(bits, weights, strict=True):
                w = w * (wi if b else 1 - wi)
            idx = tuple(j + b for j, b in zip(index, bits, strict=True))
            out = out + w * vals[idx]
        return out

    def __repr__(self) -> str:
        shape = "x".join(str(len(a)) for a in self.axes)
        return (
            f"GridData({self.name}, {shape} grid, columns {self.columns}, "
            f"sha256 {self.digest[:16]})"
        )


def _digest(axes: Sequence[np.ndarray], values: np.ndarray) -> str:
    """SHA-256 of the axes and values as little-endian float64 in C order, with their shapes."""
    h = hashlib.sha256()
    for a in [*axes, values]:
        h.update(repr(a.shape).encode())
        h.update((np.ascontiguousarray(a, dtype="<f8") + 0.0).tobytes())  # -0.0 as 0.0
    return h.hexdigest()
