"""The values a fit reads: gridded data (a :class:`~neuralpde.GridData`, an array or ``.npy``
file with axes, an HDF5/netCDF-4 dataset), a mesh's point data, or scattered points."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import limits
from .._arguments import check_path, shown
from .._names import check_coordinate_names
from ..griddata import GridData
from ..io import file_kind, read_reference, read_solution
from ..solution import grid_points

__all__ = ["Data", "read_data"]

#: file suffixes read as HDF5 / netCDF-4 grids; ``.npy`` is NumPy; anything else meshio's
_HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf", ".he5", ".nc", ".nc4", ".netcdf")


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
    from .._arguments import real_coordinates

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


def _file_data(
    data: str | os.PathLike, array: bool, axes: object, dataset: str | None, names: object
) -> Data:
    """The data of a file: a ``.npy`` array (``array``), an HDF5/netCDF-4 grid, or a mesh."""
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
        return _file_data(data, array, axes, dataset, names)
    if type(data).__name__ == "Mesh" and hasattr(data, "point_data"):
        return _mesh_data(data, "<meshio.Mesh>", dataset, names)
    raise TypeError(
        "data must be a GridData, an array (with axes), a path to a .npy, HDF5/netCDF-4 or mesh "
        f"file, or a meshio.Mesh, got {shown(data)}"
    )
