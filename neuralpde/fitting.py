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

import datetime as _dt
import logging
import math
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from . import limits, metrics
from ._arguments import as_number, check_int, check_path, check_seconds, check_seed, shown
from ._names import check_coordinate_names
from .fields import InputScaling, Siren, check_architecture
from .griddata import GridData
from .io import file_kind, read_reference, read_solution, write_solution
from .io.hdf5 import check_writable
from .io.provenance import versions
from .solution import NeuralField, grid_points
from .training.gauss_newton import levenberg_marquardt, per_point_jacobian

__all__ = [
    "Data",
    "FittedField",
    "fit",
    "read_data",
    "siren_for",
    "spectrum_frequency",
    "WIDTHS",
]

log = logging.getLogger("neuralpde.fit")

#: the widths tried, in order, when no width is given
WIDTHS = (16, 24, 32, 48, 64, 96, 128)
#: file suffixes read as HDF5 / netCDF-4 grids; ``.npy`` is NumPy; anything else meshio's
_HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf", ".he5", ".nc", ".nc4", ".netcdf")
#: Levenberg–Marquardt rows: at least this many (the kernel form's M x M system stays small)
_KERNEL_ROWS = 4000
#: ... and at most this many Jacobian entries (256 MB in float64)
_JACOBIAN_ELEMENTS = 2**25
#: points per backward pass of the per-point Jacobian, and per forward pass when evaluating
_JACOBIAN_CHUNK = 2048
_EVAL_CHUNK = 65536
#: a size is given up when its error fell by less than this factor over the last _WINDOW steps
_PLATEAU, _WINDOW = 0.9, 30
#: Levenberg-Marquardt steps on one subset before the next (when the rows are a subset)
_STEPS_PER_SUBSET = 2
#: the share of a size's time kept for L-BFGS on all points (when the rows are fewer than
#: twice the parameters: a subset's steps then pin them loosely)
_LBFGS_SHARE = 0.3
#: the most of the time left that a size may take when a larger one follows
_SIZE_SHARE = 0.5
#: the largest omega_0 derived from the data (SIREN's image setting)
_MAX_W0 = 30.0
#: the default target when neither a target nor a width is given
DEFAULT_TARGET = 1e-4


# ----------------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Data:
    """Values to fit: ``values[j]`` at ``points[j]`` (columns ``names``). Gridded data also
    keep their ``axes`` (``values`` is then the grid in C order, ``shape`` its shape).
    ``source`` says where they came from; ``description`` is the problem description of a
    neuralpde solution or reference file they were read from (``None`` otherwise)."""

    names: tuple[str, ...]
    points: np.ndarray
    values: np.ndarray
    axes: tuple[np.ndarray, ...] | None = None
    source: str = "<array>"
    dataset: str | None = None
    description: dict | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        count = len(self.names) if isinstance(self.names, Sequence) else 0
        names = _checked_names(self.names, count, ())
        points = np.asarray(self.points, dtype=np.float64)
        values = np.asarray(self.values, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != len(names) or not names:
            raise ValueError(
                f"points must have shape (N, {len(names)}) (columns {names}), got {points.shape}"
            )
        if values.shape != (len(points),):
            raise ValueError(
                f"values must hold one number per point ({len(points)}), got shape {values.shape}"
            )
        _check_size(values.size, self.source)
        if not np.isfinite(points).all():
            raise ValueError(f"data {self.source!r}: the points hold NaN or infinite coordinates")
        _check_finite(values, self.source)
        if not (points.max(axis=0) > points.min(axis=0)).all():
            raise ValueError(
                f"data {self.source!r}: the points do not vary along every coordinate of {names}"
            )
        if self.axes is not None:
            axes = tuple(np.asarray(a, dtype=np.float64) for a in self.axes)
            if math.prod(len(a) for a in axes) != len(values) or len(axes) != len(names):
                raise ValueError(
                    f"axes of lengths {[len(a) for a in axes]} do not hold the {len(values)} "
                    f"values on {len(names)} coordinates"
                )
            object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "values", values)

    @property
    def dim(self) -> int:
        return len(self.names)

    @property
    def gridded(self) -> bool:
        return self.axes is not None

    @property
    def shape(self) -> tuple[int, ...]:
        """The grid's shape (gridded data), else ``(N,)``."""
        return tuple(len(a) for a in self.axes) if self.axes is not None else self.values.shape

    @property
    def lower(self) -> np.ndarray:
        return self.points.min(axis=0)

    @property
    def upper(self) -> np.ndarray:
        return self.points.max(axis=0)


def _default_names(d: int) -> tuple[str, ...]:
    return ("x", "y", "z")[:d] if d <= 3 else tuple(f"x{i + 1}" for i in range(d))


def _checked_names(names: object, d: int, default: Sequence[str]) -> tuple[str, ...]:
    if names is None:
        return tuple(default)
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise TypeError(f"names must be a sequence of {d} coordinate names, got {shown(names)}")
    names = tuple(names)
    if len(names) != d:
        raise ValueError(f"names must hold {d} coordinate names (one per axis), got {names!r}")
    check_coordinate_names(names, "names")
    if len(set(names)) != d:
        raise ValueError(f"names must be distinct, got {names!r}")
    return names


def _grid_data(
    grid: GridData, names: object, source: str, dataset: str | None, description: dict | None
) -> Data:
    axes = tuple(np.asarray(a, dtype=np.float64) for a in grid.axes)
    default = _default_names(len(axes))
    if description is not None:
        default = tuple(description.get("coordinates") or default)
    names = _checked_names(names, len(axes), default)
    values = np.ascontiguousarray(grid.values, dtype=np.float64)
    return Data(names, grid_points(axes), values.reshape(-1), axes, source, dataset, description)


def _axes_for(axes: object, shape: tuple[int, ...]) -> list[np.ndarray]:
    """``axes`` of an array of ``shape``: per axis its coordinates, or ``(lo, hi)`` for
    evenly spaced ones."""
    if axes is None:
        raise ValueError(
            f"axes: an array of shape {shape} has no coordinates; give axes=[...], per axis its "
            "coordinates or (lo, hi)"
        )
    if isinstance(axes, (str, bytes)) or not isinstance(axes, (Sequence, np.ndarray)):
        raise TypeError(f"axes must be a sequence with one entry per axis, got {shown(axes)}")
    if len(axes) != len(shape):
        raise ValueError(
            f"axes must have one entry per axis of the data ({len(shape)}, shape {shape}), got "
            f"{len(axes)}"
        )
    out = []
    for i, (a, n) in enumerate(zip(axes, shape, strict=True)):
        try:
            arr = np.asarray(a, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"axes[{i}] must be {n} coordinates or (lo, hi), got {shown(a)}"
            ) from None
        if arr.ndim != 1 or not np.isfinite(arr).all():
            raise ValueError(
                f"axes[{i}] must be {n} finite coordinates or (lo, hi), got {shown(a)}"
            )
        if len(arr) == 2 and n != 2:
            if not arr[1] > arr[0]:
                raise ValueError(f"axes[{i}] = (lo, hi) needs lo < hi, got {arr.tolist()}")
            arr = np.linspace(arr[0], arr[1], n)
        elif len(arr) != n:
            raise ValueError(
                f"axes[{i}] has {len(arr)} coordinates, but the data have {n} values along "
                f"axis {i} (shape {shape}); give {n} coordinates or (lo, hi)"
            )
        out.append(arr)
    return out


def _array_data(values: object, axes: object, names: object, source: str) -> Data:
    from ._arguments import real_coordinates

    arr = real_coordinates(values, "data", "an array of real numbers")
    if arr.ndim == 0 or arr.ndim > limits.MAX_IN_FEATURES:
        raise ValueError(
            f"data must be an array of 1 to {limits.MAX_IN_FEATURES} dimensions, got shape "
            f"{arr.shape}"
        )
    _check_size(arr.size, source)
    _check_finite(arr, source)
    grid = GridData(_axes_for(axes, arr.shape), arr, name=source)
    return _grid_data(grid, names, source, None, None)


def _check_size(n: int, source: str) -> None:
    if not 2 <= n <= limits.MAX_GRID_NODES:
        raise ValueError(
            f"data {source!r}: {n} values; a fit takes 2 to {limits.MAX_GRID_NODES:,} (2**26)"
        )


def _check_finite(values: np.ndarray, source: str) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"data {source!r}: {int(bad.sum())} of {values.size} values are NaN or infinite "
            f"(the first at index {first}); a fit needs finite values: drop or fill them first"
        )


def _hdf5_data(path: str, dataset: str | None, names: object) -> Data:
    dataset = "u" if dataset is None else dataset
    try:
        grid = GridData.from_file(path, dataset)
    except KeyError as exc:  # no such dataset: say which option names it
        raise ValueError(f"dataset: {exc.args[0] if exc.args else exc}") from None
    description = None
    try:
        kind = file_kind(path)
    except (ValueError, OSError):  # FormatError is a ValueError: not a neuralpde file
        kind = None
    if kind in ("solution", "reference") and dataset in ("u", "/u"):
        reader = read_solution if kind == "solution" else read_reference
        rec = reader(path, grid=False)
        description = {**rec["problem"], "coordinates": rec["coordinates"]}
    return _grid_data(grid, names, path, dataset, description)


def _mesh_data(mesh: Any, source: str, dataset: str | None, names: object) -> Data:
    pd = dict(mesh.point_data)
    if dataset is None:
        if len(pd) != 1:
            raise ValueError(
                f"dataset: {source!r} holds the point data {sorted(pd)}; name the one to fit"
            )
        dataset = next(iter(pd))
    if dataset not in pd:
        raise ValueError(f"dataset: {source!r} has no point data {dataset!r}; it has {sorted(pd)}")
    values = np.asarray(pd[dataset])
    if values.dtype.kind not in "fiu":
        raise ValueError(f"dataset {dataset!r} of {source!r} holds {values.dtype}, not numbers")
    values = values.astype(np.float64)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    points = np.asarray(mesh.points, dtype=np.float64)
    if values.ndim != 1 or points.ndim != 2 or len(values) != len(points):
        raise ValueError(
            f"dataset {dataset!r} of {source!r} must hold one number per point ({len(points)} "
            f"points), got shape {values.shape}: pick a scalar array or one component"
        )
    if not np.isfinite(points).all():
        raise ValueError(f"data {source!r}: the mesh's points hold NaN or infinite coordinates")
    # a planar mesh keeps z = 0 (points (N, 3)): coordinates that do not vary are dropped
    keep = [i for i in range(points.shape[1]) if np.ptp(points[:, i]) > 0]
    if not keep:
        raise ValueError(f"data {source!r}: every point of the mesh is the same point")
    default = tuple(("x", "y", "z")[i] if i < 3 else f"x{i + 1}" for i in keep)
    names = _checked_names(names, len(keep), default)
    _check_size(values.size, source)
    _check_finite(values, f"{source}:{dataset}")
    return Data(names, np.ascontiguousarray(points[:, keep]), values, None, source, dataset)


def read_data(
    data: object,
    *,
    axes: Sequence | None = None,
    dataset: str | None = None,
    names: Sequence[str] | None = None,
) -> Data:
    """The values to fit, checked: finite, at least two, on increasing axes.

    ``data`` is a :class:`~neuralpde.GridData`; a NumPy array (with ``axes``: per axis its
    coordinates or ``(lo, hi)``); a path to a ``.npy`` array (with ``axes``), to an HDF5 or
    netCDF-4 file (``.h5``, ``.hdf5``, ``.nc``, ...; ``dataset``, default ``"u"``, with
    coordinates attached to its dimensions as :func:`neuralpde.io.read_grid` reads them:
    neuralpde's own solution and reference files too), or to a mesh file meshio reads (the
    point data ``dataset``; coordinates that do not vary, such as a planar mesh's z = 0, are
    dropped); a ``meshio.Mesh``; or a :class:`Data`. ``names`` are the coordinates' names
    (default: a neuralpde file's own, else x, y, z). ``ValueError`` names what is wrong.
    """
    if dataset is not None and not isinstance(dataset, str):
        raise TypeError(f"dataset must be a name (a str), got {shown(dataset)}")
    array = isinstance(data, (np.ndarray, torch.Tensor)) or (
        isinstance(data, (str, os.PathLike)) and Path(os.fspath(data)).suffix.lower() == ".npy"
    )
    if axes is not None and not array:
        raise ValueError(
            "axes: only an array or .npy file takes axes; the other inputs carry their own "
            "coordinates"
        )
    if dataset is not None and (array or isinstance(data, (Data, GridData))):
        raise ValueError(
            "dataset: only HDF5/netCDF-4 and mesh files (and meshio meshes) hold datasets"
        )
    if isinstance(data, Data):
        return data
    if isinstance(data, GridData):
        return _grid_data(data, names, data.name, None, None)
    if isinstance(data, (np.ndarray, torch.Tensor)):
        return _array_data(data, axes, names, "<array>")
    if isinstance(data, (str, os.PathLike)):
        check_path(data, "data", "a data file's path")
        path = os.fspath(data)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"data: no file {path!r}")
        if array:
            try:
                arr = np.load(path, allow_pickle=False)
            except (ValueError, OSError, EOFError) as exc:
                raise ValueError(f"data: {path!r} is not a readable .npy array ({exc})") from None
            return _array_data(arr, axes, names, path)
        suffix = Path(path).suffix.lower()
        if suffix in _HDF5_SUFFIXES:
            return _hdf5_data(path, dataset, names)
        import meshio

        try:
            mesh = meshio.read(path)
        except Exception as exc:  # meshio raises many kinds
            raise ValueError(
                f"data: {path!r} is neither a .npy array, an HDF5/netCDF-4 file nor a mesh "
                f"meshio reads ({type(exc).__name__}: {exc})"
            ) from None
        return _mesh_data(mesh, path, dataset, names)
    if type(data).__name__ == "Mesh" and hasattr(data, "point_data"):
        return _mesh_data(data, "<meshio.Mesh>", dataset, names)
    raise TypeError(
        "data must be a GridData, an array (with axes), a path to a .npy, HDF5/netCDF-4 or mesh "
        f"file, or a meshio.Mesh, got {shown(data)}"
    )


# ------------------------------------------------------------------------------ the frequency


def spectrum_frequency(values: np.ndarray, fraction: float = 0.99) -> list[float]:
    """Per axis of the grid ``values``, the angular frequency (radians per unit of inputs
    scaled to [-1, 1]) below which ``fraction`` of the energy lies (after a Hann window, which
    keeps the jump between the grid's ends out of the spectrum and widens each line by one
    bin, taken off again): :math:`\\pi (m - 1)` for :math:`m` the bins holding it."""
    values = np.asarray(values, dtype=np.float64)
    values = values - values.mean()
    out = []
    for axis in range(values.ndim):
        shape = [1] * values.ndim
        shape[axis] = values.shape[axis]
        windowed = values * np.hanning(values.shape[axis]).reshape(shape)
        spec = np.abs(np.fft.rfft(windowed, axis=axis)) ** 2
        spec = spec.sum(axis=tuple(i for i in range(values.ndim) if i != axis))
        cum = np.cumsum(spec)
        if cum[-1] <= 0:
            out.append(0.0)
            continue
        m = int(np.searchsorted(cum / cum[-1], fraction))
        out.append(math.pi * max(m - 1, 0))
    return out


def siren_for(frequencies: Sequence[float], width: int, depth: int) -> Siren:
    """The SIREN of ``width`` and ``depth`` for data with these per-axis angular
    ``frequencies`` (:func:`spectrum_frequency`): :math:`\\omega_0 = f/2` per axis, between 1
    and 30, the largest for the first layer; per input when an axis is 8 times slower than the
    fastest."""
    per_axis = [float(min(max(f / 2.0, 1.0), _MAX_W0)) for f in frequencies]
    w0 = max(per_axis)
    inputs = tuple(per_axis) if w0 >= 8.0 * min(per_axis) else None
    return Siren(width=width, depth=depth, w0=w0, w0_inputs=inputs)


def _data_frequencies(data: Data) -> list[float]:
    """:func:`spectrum_frequency` of the data's grid, or of scattered data resampled (nearest
    point) onto a grid over their bounding box."""
    if data.gridded:
        return spectrum_frequency(data.values.reshape(data.shape))
    from scipy.spatial import cKDTree

    n = max(8, min(64, int(round(len(data.values) ** (1.0 / data.dim)))))
    axes = [np.linspace(a, b, n) for a, b in zip(data.lower, data.upper, strict=True)]
    _, idx = cKDTree(data.points).query(grid_points(axes))
    return spectrum_frequency(data.values[idx].reshape([n] * data.dim))


# ---------------------------------------------------------------------------------- the field


class FittedField(NeuralField):
    """A field fitted to data by :func:`fit`: callable on ``(N, d)`` points like any
    :class:`~neuralpde.NeuralField`; :meth:`save` writes it as a solution file.

    Attributes: ``metrics`` (``compression_ratio``, ``parameters``, ``values``, and the
    relative L2 errors ``relative_l2_train`` on the data trained on, ``relative_l2_holdout``
    on the held-out points (NaN without), ``relative_l2``, ``relative_max`` and ``rmse`` on all
    of them; with gradient supervision ``relative_l2_gradient``), ``status``
    (``"converged"``: the target was met; ``"time_budget"``, ``"stalled"``), ``message``,
    ``history``, ``settings``, ``seed``, ``timings``, ``data``."""

    def __init__(
        self,
        net: nn.Module,
        architecture: Mapping,
        data: Data,
        metrics: Mapping[str, float],
        record: Mapping[str, Any],
    ) -> None:
        super().__init__(net, data.names, architecture)
        self.data = data
        self.metrics = dict(metrics)
        self.status = str(record["status"])
        self.message = str(record["message"])
        self.history = dict(record["history"])
        self.settings = dict(record["settings"])
        self.seed = int(record["seed"])
        self.steps = int(record["steps"])
        self.timings = dict(record["timings"])

    @property
    def compression_ratio(self) -> float:
        return self.metrics["compression_ratio"]

    def summary(self) -> str:
        """One line: the size, the compression and the errors."""
        m = self.metrics
        held = m["relative_l2_holdout"]
        return (
            f"{self.settings['field_text']}: {int(m['parameters'])} numbers for "
            f"{int(m['values'])} values, compression {m['compression_ratio']:.1f}x; relative L2 "
            f"error {m['relative_l2_train']:.2e} on the data used"
            + (f", {held:.2e} held out" if math.isfinite(held) else "")
            + f" ({self.status})"
        )

    def description(self) -> dict:
        """The problem description the file stores: the source file's problem (a neuralpde
        solution or reference, so that ``validate --reference`` finds its reference), else
        the data's bounding box; with an entry ``data_fit`` saying what was fitted."""
        d = self.data
        fitted = {
            "source": os.path.basename(d.source),
            "dataset": d.dataset,
            "kind": "grid" if d.gridded else "points",
            "shape": list(d.shape),
        }
        if d.description is not None and list(d.names) == d.description.get("coordinates"):
            desc = {k: v for k, v in d.description.items() if k != "coordinates"}
            return {**desc, "data_fit": fitted}
        lo, hi = d.lower.tolist(), d.upper.tolist()
        return {
            "name": f"fit of {os.path.basename(d.source)}" + (f":{d.dataset}" if d.dataset else ""),
            "domain": {"type": "Box", "names": list(d.names), "lower": lo, "upper": hi},
            "equation": {"type": "DataFit", "latex": r"u \approx \text{data}"},
            "conditions": [],
            "data_fit": fitted,
        }

    def save(self, path: str | os.PathLike, n: int | Sequence[int] | None = None) -> Path:
        """Write the field as a solution file (:mod:`neuralpde.io.hdf5`); returns the path.

        ``/u`` holds the field on the data's grid, and ``/exact`` the data there (so that
        ``neuralpde validate FILE --exact`` compares the two); with ``n`` (points per axis), or
        for scattered data, on a uniform grid of the bounding box instead (default
        :func:`neuralpde.metrics.dense_grid_size`), without ``/exact``; for scattered data NaN
        at grid points farther from every data point than 3 times their spacing (the 95th
        percentile of the distances between nearest data points)."""
        check_path(path)
        check_writable(path)
        check_architecture(self.architecture)
        d = self.data
        exact = None
        if d.gridded and n is None:
            axes = d.axes
            exact = d.values.reshape(d.shape)
        else:
            counts = metrics.dense_grid_size(d.dim) if n is None else n
            counts = [counts] * d.dim if isinstance(counts, (int, np.integer)) else list(counts)
            if len(counts) != d.dim:
                raise ValueError(f"n must be one count or {d.dim}, got {n!r}")
            counts = [check_int(c, "n", 2, limits.MAX_GRID_NODES) for c in counts]
            axes = tuple(
                np.linspace(a, b, c) for a, b, c in zip(d.lower, d.upper, counts, strict=True)
            )
        values = self.on_grid(axes)
        if not d.gridded:
            values = np.where(_near_data(d.points, grid_points(axes)), values.ravel(), np.nan)
            values = values.reshape(tuple(len(a) for a in axes))
        vers = versions()
        params = {k: v.detach().cpu().numpy() for k, v in self.net.state_dict().items()}
        return write_solution(
            path,
            coords=dict(zip(self.names, axes, strict=True)),
            values=values,
            exact=exact,
            architecture=self.architecture,
            parameters=params,
            dtype="float64",
            problem=self.description(),
            training={
                "history": self.history,
                "status": self.status,
                "message": self.message,
                "seed": self.seed,
                "steps": self.steps,
                "timings": self.timings,
                "settings": self.settings,
            },
            metrics=self.metrics,
            provenance={
                "neuralpde": vers["neuralpde"],
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "versions": vers,
                "platform": platform.platform(),
            },
        )


def _near_data(points: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Whether each grid point lies within 3 times the data's spacing (the 95th percentile of
    the distances between nearest data points) of a data point."""
    from scipy.spatial import cKDTree

    tree = cKDTree(points)
    spacing, _ = tree.query(points, k=2)
    h = float(np.percentile(spacing[:, 1], 95))
    dist, _ = tree.query(grid)
    return dist <= 3.0 * h + 1e-12 * float(np.ptp(points, axis=0).max())


# ---------------------------------------------------------------------------------- training


def _parameters(width: int, depth: int, d: int) -> int:
    """Numbers a fitted SIREN stores: weights, biases and the input bounds."""
    return (d + 1) * width + (depth - 1) * (width + 1) * width + width + 1 + 2 * d


@dataclass
class _Problem:
    """The tensors of a fit: training and held-out points, normalised targets, row factors."""

    x_train: torch.Tensor
    v_train: torch.Tensor  # (v - mean) / scale
    x_hold: torch.Tensor
    v_hold: np.ndarray  # raw values
    train_values: np.ndarray  # raw values
    mean: float
    scale: float
    rms: float
    g_train: torch.Tensor | None = None  # normalised FD gradient (gradient supervision)
    g_rms: float = 1.0
    g_hold: np.ndarray | None = None


def _prepare(data: Data, holdout: float, seed: int, supervise: str | None) -> _Problem:
    n = len(data.values)
    rng = np.random.default_rng([seed, 1])
    perm = rng.permutation(n)
    n_hold = int(round(holdout * n))
    if holdout > 0 and n - n_hold < 2:
        raise ValueError(f"holdout={holdout} leaves fewer than 2 of the {n} points to train on")
    hold, train = perm[:n_hold], perm[n_hold:]
    v = data.values
    rms = float(np.sqrt(np.mean(v**2)))
    if rms == 0:
        raise ValueError(
            f"data {data.source!r}: every value is 0; a relative error is undefined (the zero "
            "field needs no network)"
        )
    mean = float(v.mean())
    scale = float(v.std())
    if not scale > 1e-8 * rms:  # constant data
        scale = rms
    t = torch.as_tensor
    prob = _Problem(
        x_train=t(data.points[train]),
        v_train=t((v[train] - mean) / scale),
        x_hold=t(data.points[hold]),
        v_hold=v[hold],
        train_values=v[train],
        mean=mean,
        scale=scale,
        rms=rms,
    )
    if supervise == "gradient":
        grads = np.gradient(v.reshape(data.shape), *data.axes, edge_order=2)
        grads = grads if isinstance(grads, (list, tuple)) else [grads]
        g = np.column_stack([gi.reshape(-1) for gi in grads])
        g_rms = float(np.sqrt(np.mean(np.sum(g**2, axis=1))))
        prob.g_train = t(g[train] / scale)
        prob.g_rms = g_rms / scale if g_rms > 0 else 1.0
        prob.g_hold = g[hold]
    return prob


def _evaluate(net: nn.Module, x: torch.Tensor) -> np.ndarray:
    """The network's (normalised) output at ``x``, without a graph."""
    out = []
    with torch.no_grad():
        for i in range(0, x.shape[0], _EVAL_CHUNK):
            out.append(net(x[i : i + _EVAL_CHUNK])[:, 0])
    return torch.cat(out).numpy() if out else np.zeros(0)


def _gradient(net: nn.Module, x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    xr = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(net(xr)[:, 0].sum(), xr, create_graph=create_graph)
    return g


def _relative(u: np.ndarray, v: np.ndarray) -> float:
    """Relative L2 error of ``u`` against ``v`` (NaN for no points)."""
    if len(v) == 0:
        return math.nan
    norm = float(np.linalg.norm(v))
    return float(np.linalg.norm(u - v) / norm) if norm > 0 else float(np.linalg.norm(u - v))


class _Size:
    """One network size: its network, training and the errors it reached."""

    def __init__(self, prob: _Problem, spec: Siren, data: Data, seed: int, rows: int) -> None:
        self.prob, self.spec, self.data, self.rows = prob, spec, data, rows
        lo, hi = data.lower, data.upper
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = InputScaling(spec.build(data.dim), lo.tolist(), hi.tolist())
        self.net = net.to(torch.float64)
        self.params = [p for p in self.net.parameters() if p.requires_grad]
        self.count = sum(t.numel() for t in self.net.state_dict().values())
        self.history: dict[str, list] = {k: [] for k in ("step", "time", "loss", "monitor")}
        self.history["phase"] = []
        self.steps = 0
        self.best = math.inf
        self.best_theta = parameters_to_vector(self.params).detach().clone()
        self.status = "time_budget"
        self.seconds = 0.0
        self.rng = np.random.default_rng([seed, 2, spec.width, spec.depth])
        self.order = self.rng.permutation(len(prob.v_train))
        self.offset = 0

    # the monitor: the error that judges the fit
    def monitor(self) -> float:
        """Relative L2 error on the held-out points, or on all training points without."""
        p = self.prob
        if len(p.v_hold):
            return _relative(p.mean + p.scale * _evaluate(self.net, p.x_hold), p.v_hold)
        return self.train_error()

    def train_error(self) -> float:
        p = self.prob
        return _relative(p.mean + p.scale * _evaluate(self.net, p.x_train), p.train_values)

    def _subset(self) -> np.ndarray:
        n = len(self.order)
        if self.rows >= n:
            return self.order
        idx = np.take(self.order, np.arange(self.offset, self.offset + self.rows), mode="wrap")
        self.offset = (self.offset + self.rows) % n
        return idx

    def _row_functions(
        self, idx: np.ndarray
    ) -> tuple[Callable[[], torch.Tensor], Callable[[], tuple[torch.Tensor, torch.Tensor]]]:
        p = self.prob
        x, v = p.x_train[idx], p.v_train[idx]
        m = len(idx)
        factor = p.scale / (p.rms * math.sqrt(m))
        g = None if p.g_train is None else p.g_train[idx]
        g_factor = 1.0 / (p.g_rms * math.sqrt(m))

        def value_rows(module: nn.Module, xs: torch.Tensor, vs: torch.Tensor) -> torch.Tensor:
            return (module(xs)[:, 0] - vs) * factor

        def gradient_rows(
            module: nn.Module, xs: torch.Tensor, gs: torch.Tensor, i: int
        ) -> torch.Tensor:
            xr = xs.detach().clone().requires_grad_(True)
            (gu,) = torch.autograd.grad(module(xr)[:, 0].sum(), xr, create_graph=True)
            return (gu[:, i] - gs[:, i]) * g_factor

        def residuals() -> torch.Tensor:
            parts = []
            for s in range(0, m, _EVAL_CHUNK):
                xs, vs = x[s : s + _EVAL_CHUNK], v[s : s + _EVAL_CHUNK]
                with torch.no_grad():
                    parts.append(value_rows(self.net, xs, vs))
            if g is not None:
                gu = torch.cat(
                    [_gradient(self.net, x[s : s + _EVAL_CHUNK]) for s in range(0, m, _EVAL_CHUNK)]
                )
                parts.append(((gu - g) * g_factor).T.reshape(-1))
            return torch.cat(parts)

        def residuals_and_jacobian() -> tuple[torch.Tensor, torch.Tensor]:
            r_parts, j_parts = [], []
            fns = [lambda mod, xs, vs, gs: value_rows(mod, xs, vs)]
            if g is not None:
                fns += [
                    (lambda mod, xs, vs, gs, i=i: gradient_rows(mod, xs, gs, i))
                    for i in range(self.data.dim)
                ]
            for fn in fns:
                for s in range(0, m, _JACOBIAN_CHUNK):
                    xs, vs = x[s : s + _JACOBIAN_CHUNK], v[s : s + _JACOBIAN_CHUNK]
                    gs = None if g is None else g[s : s + _JACOBIAN_CHUNK]
                    r, jac = per_point_jacobian(
                        self.net,
                        xs.shape[0],
                        lambda mod, xs=xs, vs=vs, gs=gs, fn=fn: fn(mod, xs, vs, gs),
                    )
                    r_parts.append(r)
                    j_parts.append(jac)
            return torch.cat(r_parts), torch.cat(j_parts)

        return residuals, residuals_and_jacobian

    def _record(self, started: float, loss: float, monitor: float, phase: str) -> None:
        self.steps += 1
        h = self.history
        h["step"].append(self.steps)
        h["time"].append(time.perf_counter() - started)
        h["loss"].append(loss)
        h["monitor"].append(monitor)
        h["phase"].append(phase)
        if monitor < self.best:
            self.best = monitor
            self.best_theta = parameters_to_vector(self.params).detach().clone()

    def plateaued(self) -> bool:
        """Whether the best monitored error fell by less than ``_PLATEAU`` over ``_WINDOW``
        steps."""
        mon = self.history["monitor"]
        if len(mon) <= _WINDOW:
            return False
        return min(mon) > _PLATEAU * min(mon[: len(mon) - _WINDOW])

    def train(self, deadline: float, target: float | None, started: float, grow: bool) -> None:
        """Levenberg–Marquardt until ``deadline``, the ``target`` (on the monitor), a stall or,
        when ``grow`` (a larger size follows), a plateau; then, where the rows were a subset,
        L-BFGS on all training points. The best state seen is kept."""
        t0 = time.perf_counter()
        self.best = self.monitor()  # the initial network's: what a run without a step keeps
        subsets = self.rows < len(self.order)
        lbfgs = subsets and self.rows < 2 * self.count
        lm_deadline = deadline - _LBFGS_SHARE * (deadline - t0) if lbfgs else deadline
        stop: dict[str, str] = {}
        damping = 1e-3

        def on_step(step: int, loss: float, lam: float) -> bool:
            nonlocal damping
            damping = lam
            mon = self.monitor()
            self._record(started, loss, mon, "gauss_newton")
            if target is not None and mon <= target:
                stop["why"] = "converged"
                return True
            if grow and self.plateaued():
                stop["why"] = "plateau"
                return True
            return False

        per_call = 0.0  # the last call's seconds: a call that cannot end in time is not begun
        while time.perf_counter() + (per_call if subsets else 0.0) < lm_deadline and not stop:
            t_call = time.perf_counter()
            residuals, both = self._row_functions(self._subset())
            status, _, _ = levenberg_marquardt(
                self.params,
                residuals,
                both,
                max_steps=_STEPS_PER_SUBSET if subsets else limits.MAX_STEPS,
                deadline=lm_deadline,
                tol=0.0,
                on_step=on_step,
                damping=damping,
            )
            if status in ("stalled", "time_budget") and not subsets:
                stop.setdefault("why", status)
            if status == "stalled" and subsets:
                damping = 1e-3
            per_call = time.perf_counter() - t_call
        if lbfgs and stop.get("why") not in ("converged", "plateau"):
            self._lbfgs(deadline, target, started, stop)
        vector_to_parameters(self.best_theta, self.params)
        self.status = stop.get("why", "time_budget")
        self.seconds = time.perf_counter() - t0

    def _lbfgs(
        self, deadline: float, target: float | None, started: float, stop: dict[str, str]
    ) -> None:
        """L-BFGS (strong Wolfe line search) on the squared misfit over all training points."""
        vector_to_parameters(self.best_theta, self.params)
        p = self.prob
        n = len(p.v_train)
        factor = (p.scale / p.rms) ** 2 / n
        opt = torch.optim.LBFGS(
            self.params, lr=1.0, max_iter=5, history_size=50, line_search_fn="strong_wolfe"
        )

        def closure() -> torch.Tensor:
            opt.zero_grad()
            total = torch.zeros((), dtype=torch.float64)
            for s in range(0, n, _EVAL_CHUNK):
                with torch.enable_grad():
                    r = (
                        self.net(p.x_train[s : s + _EVAL_CHUNK])[:, 0]
                        - p.v_train[s : s + _EVAL_CHUNK]
                    )
                    part = factor * (r @ r)
                    part.backward()
                total = total + part.detach()
            return total

        per_step = 0.0
        while time.perf_counter() + per_step < deadline:
            t = time.perf_counter()
            loss = float(opt.step(closure))
            per_step = time.perf_counter() - t
            if not math.isfinite(loss):
                break
            mon = self.monitor()
            self._record(started, loss, mon, "lbfgs")
            if target is not None and mon <= target:
                stop["why"] = "converged"
                return


def _check_options(
    target: object,
    width: object,
    depth: object,
    seconds: object,
    holdout: object,
    supervise: object,
) -> tuple[float | None, int | None, int, float, float]:
    if target is not None:
        t = as_number(target)
        if t is None or not (math.isfinite(t) and t > 0):
            raise ValueError(
                f"target must be a positive relative L2 error (e.g. 1e-4), got {shown(target)}"
            )
        target = t
    if width is not None:
        width = check_int(width, "width", 1, limits.MAX_WIDTH)
    depth = check_int(2 if depth is None else depth, "depth", 1, limits.MAX_DEPTH)
    seconds = check_seconds(seconds)
    h = as_number(holdout)
    if h is None or not 0 <= h <= 0.9:
        raise ValueError(
            f"holdout must be the fraction of points held out, from 0 to 0.9, got {shown(holdout)}"
        )
    if supervise not in (None, "gradient"):
        raise ValueError(f"supervise must be None or 'gradient', got {shown(supervise)}")
    return target, width, depth, seconds, float(h)


def _rows_for(count: int, n_train: int) -> int:
    """Levenberg–Marquardt rows for a network of ``count`` parameters: 4 per parameter, but
    at least 3 per parameter and ``_KERNEL_ROWS`` (or all training points, when fewer), and no
    more than the Jacobian's memory allows (``_JACOBIAN_ELEMENTS``)."""
    want = max(min(_KERNEL_ROWS, 4 * count), 3 * count)
    return int(max(1, min(n_train, _JACOBIAN_ELEMENTS // count, want)))


def fit(
    data: object,
    *,
    axes: Sequence | None = None,
    dataset: str | None = None,
    names: Sequence[str] | None = None,
    target: float | None = None,
    width: int | None = None,
    depth: int | None = None,
    seconds: float = 60.0,
    seed: int = 0,
    holdout: float = 0.1,
    supervise: str | None = None,
) -> FittedField:
    r"""Fit a float64 SIREN to ``data``; returns a :class:`FittedField` (``.save(path)``).

    Parameters
    ----------
    data, axes, dataset, names:
        What to fit and how to read it (:func:`read_data`): a :class:`~neuralpde.GridData`, an
        array or ``.npy`` file with ``axes`` (per axis its coordinates or ``(lo, hi)``), an
        HDF5/netCDF-4 file's ``dataset`` (default ``"u"``), a mesh file's point data
        ``dataset``, or a :class:`Data`.
    target:
        The relative :math:`L^2` error on the held-out points at which to stop (default
        ``1e-4`` when no ``width`` is given). Without ``width`` the network grows through
        :data:`WIDTHS` until it is met.
    width, depth:
        A fixed size (``depth`` also sets the depth of the sizes grown; default 2).
    seconds:
        Wall-time budget of the whole fit.
    seed:
        Seeds the networks' initialisation, the held-out points and the subsets.
    holdout:
        Fraction of the points (0 to 0.9) kept out of training to measure the error.
    supervise:
        ``"gradient"``: fit the finite-difference gradient of gridded data too.
    """
    started = time.perf_counter()
    target, width, depth, seconds, holdout = _check_options(
        target, width, depth, seconds, holdout, supervise
    )
    seed = check_seed(seed)
    data = read_data(data, axes=axes, dataset=dataset, names=names)
    if supervise == "gradient" and not data.gridded:
        raise ValueError(
            "supervise='gradient' needs gridded data (its gradient is taken by finite "
            f"differences on the grid); {data.source!r} holds scattered points"
        )
    if supervise == "gradient" and min(data.shape) < 3:
        raise ValueError("supervise='gradient' needs 3 or more grid points along every axis")
    if width is None and target is None:
        target = DEFAULT_TARGET
    deadline = started + seconds
    prob = _prepare(data, holdout, seed, supervise)
    freqs = _data_frequencies(data)
    n_values, d = len(data.values), data.dim
    if width is not None:
        sizes = [(width, depth)]
    else:
        sizes = [(w, depth) for w in WIDTHS if _parameters(w, depth, d) <= n_values]
        if not sizes:
            log.warning(
                "the smallest network (width %d, depth %d: %d numbers) holds more numbers than "
                "the %d data values: it compresses nothing",
                WIDTHS[0],
                depth,
                _parameters(WIDTHS[0], depth, d),
                n_values,
            )
            sizes = [(WIDTHS[0], depth)]
    n_train = len(prob.v_train)
    tried: list[_Size] = []
    chosen: _Size | None = None
    for k, (w, dp) in enumerate(sizes):
        now = time.perf_counter()
        if tried and now >= deadline:
            break
        spec = siren_for(freqs, w, dp)
        rows = _rows_for(_parameters(w, dp, d), n_train)
        size = _Size(prob, spec, data, seed, rows)
        last = k == len(sizes) - 1
        share = deadline if last else now + _SIZE_SHARE * (deadline - now)
        log.info(
            "fitting SIREN %dx%d (w0 %.3g, %d numbers, compression %.1fx) on %d of %d training "
            "points",
            dp,
            w,
            spec.w0,
            size.count,
            n_values / size.count,
            rows,
            n_train,
        )
        size.train(share, target, started, grow=not last)
        tried.append(size)
        log.info(
            "  %s after %d steps, %.1f s: error %.3e (%s)",
            size.status,
            size.steps,
            size.seconds,
            size.best,
            "held out" if len(prob.v_hold) else "training points",
        )
        if size.status == "converged":
            chosen = size
            break
    if chosen is None:
        chosen = min(tried, key=lambda s: s.best)
    return _result(
        chosen, tried, data, prob, freqs, target, seconds, holdout, supervise, seed, started
    )


def _subset_text(size: _Size) -> str:
    if size.rows >= len(size.order):
        return ""
    return " (a new subset every 2 steps" + (
        ", then L-BFGS)" if size.rows < 2 * size.count else ")"
    )


def _fold_output(net: nn.Module, mean: float, scale: float) -> None:
    """Make ``net`` output ``mean + scale * net(x)``: the output layer's weights times
    ``scale``, its bias ``scale * b + mean``."""
    out = net.net.out
    with torch.no_grad():
        out.weight.mul_(scale)
        out.bias.mul_(scale).add_(mean)


def _result(
    size: _Size,
    tried: list[_Size],
    data: Data,
    prob: _Problem,
    freqs: list[float],
    target: float | None,
    seconds: float,
    holdout: float,
    supervise: str | None,
    seed: int,
    started: float,
) -> FittedField:
    net = size.net
    _fold_output(net, prob.mean, prob.scale)
    u_train = _evaluate(net, prob.x_train)
    u_hold = _evaluate(net, prob.x_hold)
    u_all = _evaluate(net, torch.as_tensor(data.points))
    n_values = len(data.values)
    m = {
        "compression_ratio": n_values / size.count,
        "parameters": float(size.count),
        "values": float(n_values),
        "relative_l2_train": _relative(u_train, prob.train_values),
        "relative_l2_holdout": _relative(u_hold, prob.v_hold),
        **metrics.summary(u_all, data.values),
    }
    if prob.g_train is not None:
        g_net = torch.cat([_gradient(net, prob.x_hold), _gradient(net, prob.x_train)]).numpy()
        g_data = np.concatenate([prob.g_hold, prob.g_train.numpy() * prob.scale])
        m["relative_l2_gradient"] = _relative(g_net.ravel(), g_data.ravel())
    spec = size.spec
    architecture = {
        "field": spec.describe(),
        "in_features": data.dim,
        "input_scaling": {"lower": data.lower.tolist(), "upper": data.upper.tolist()},
    }
    field_text = f"SIREN {spec.depth}x{spec.width} w0={spec.w0:.3g}"
    if size.status == "converged":
        status = "converged"
    else:  # why the last size tried stopped: the budget, or no step lowered the misfit
        status = "stalled" if tried[-1].status == "stalled" else "time_budget"
    if target is not None and status != "converged":
        where = "held-out" if len(prob.v_hold) else "training"
        message = (
            f"the target {target:g} was not met: the best {where} error is {size.best:.3e} "
            f"({field_text}); give more seconds, or a larger width"
        )
        log.warning("%s", message)
    elif status == "converged":
        message = f"the target {target:g} was met"
    else:
        message = f"trained until {status.replace('_', ' ')}"
    subset = size.rows < len(prob.v_train)
    settings = {
        "field": spec.describe(),
        "field_text": field_text,
        "dtype": "float64",
        "derived": (
            f"{field_text}, {size.rows} rows of {len(prob.v_train)} training points"
            f"{_subset_text(size)}, {len(prob.v_hold)} held out, "
            f"Levenberg-Marquardt float64, budget {seconds:g} s"
        ),
        "target": target,
        "seconds": seconds,
        "holdout": holdout,
        "supervise": supervise,
        "rows": size.rows,
        "subsets": subset,
        "frequencies": freqs,
        "normalization": {"mean": prob.mean, "scale": prob.scale},
        "data": {
            "source": data.source,
            "dataset": data.dataset,
            "kind": "grid" if data.gridded else "points",
            "shape": list(data.shape),
        },
        "sizes": [
            {
                "width": s.spec.width,
                "depth": s.spec.depth,
                "parameters": s.count,
                "compression_ratio": n_values / s.count,
                "error": s.best,
                "steps": s.steps,
                "seconds": s.seconds,
                "status": s.status,
            }
            for s in tried
        ],
        "device": "cpu",
        "threads": torch.get_num_threads(),
    }
    h = size.history
    history = {k: np.asarray(h[k], dtype=np.float64) for k in ("step", "time", "loss", "monitor")}
    history["phase"] = list(h["phase"])
    total = time.perf_counter() - started
    record = {
        "status": status,
        "message": message,
        "history": history,
        "settings": settings,
        "seed": seed,
        "steps": size.steps,
        "timings": {"total": total, "training": sum(s.seconds for s in tried)},
    }
    fitted = FittedField(net, architecture, data, m, record)
    log.info("%s", fitted.summary())
    return fitted
