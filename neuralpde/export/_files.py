"""The writers of a grid's values: netCDF-4 (CF) and VTK (legacy structured points, XML image
data and rectilinear grid)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..solution import NeuralField
from ._common import ExportError, atomic_path

__all__ = ["grid_title", "write_legacy_vtk", "write_netcdf", "write_vti", "write_vtr"]


def grid_title(field: NeuralField, time: float | None) -> str:
    name = getattr(field, "problem_name", "") or "field"
    at = "" if time is None else f" at {field.names[field.time_axis]} = {time:g}"
    return f"neuralpde {__version__}: u of {name}{at}"


def _cf_order(field: NeuralField, names: Sequence[str]) -> list[int]:
    """The positions in ``names`` (some of the field's) in CF's order: time first, then the
    space axes last to first."""
    t = field.time_axis
    time = [k for k, n in enumerate(names) if t is not None and n == field.names[t]]
    space = [k for k, n in enumerate(names) if k not in time]
    return time + space[::-1]


def write_netcdf(
    field: NeuralField,
    coords: dict[str, np.ndarray],
    values: np.ndarray,
    target: Path,
    time: float | None,
) -> None:
    """``values`` on ``coords`` as a netCDF-4 file (CF): coordinate variables, ``u`` in CF's
    order; a snapshot's time a scalar coordinate."""
    try:
        import h5netcdf
    except ImportError:
        raise ExportError(
            "output",
            "writing .nc needs the h5netcdf package (pip install h5netcdf); a solution "
            "file (.h5) is netCDF-4 too",
        ) from None
    names = list(coords)
    t_name = None if field.time_axis is None else field.names[field.time_axis]
    if time is not None:  # the snapshot's time: a scalar coordinate, not a dimension
        values = values.take(0, axis=names.index(t_name))
        names.remove(t_name)
    order = _cf_order(field, names)
    dims = [names[k] for k in order]
    with atomic_path(target) as tmp, h5netcdf.File(tmp, "w") as f:
        f.attrs["Conventions"] = "CF-1.10"
        f.attrs["title"] = grid_title(field, time)
        f.attrs["source"] = f"neuralpde {__version__}"
        f.dimensions = {n: len(coords[n]) for n in dims}
        for n in dims:
            v = f.create_variable(n, (n,), np.float64, data=coords[n])
            _coordinate_attrs(v, n, n == t_name)
        if time is not None:
            v = f.create_variable(t_name, (), np.float64, data=np.float64(time))
            _coordinate_attrs(v, t_name, True)
        u = f.create_variable(
            "u", tuple(dims), np.float64, data=values.transpose(order), fillvalue=np.nan
        )
        u.attrs["long_name"] = "solution"
        u.attrs["units"] = "1"
        if time is not None:
            u.attrs["coordinates"] = t_name


def _coordinate_attrs(v: Any, name: str, is_time: bool) -> None:
    v.attrs["units"] = "1"
    v.attrs["long_name"] = "time" if is_time else f"space coordinate {name}"
    if is_time:
        v.attrs["axis"] = "T"


def _vtk_geometry(
    space: dict[str, np.ndarray], values: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray]:
    """Three axes (missing ones a single 0) and the values in VTK's order (x fastest)."""
    axes = [np.asarray(a, np.float64) for a in space.values()]
    axes += [np.zeros(1)] * (3 - len(axes))
    grid = values.reshape([len(a) for a in axes])
    return axes, np.ascontiguousarray(grid.ravel(order="F"))


def _spacing(a: np.ndarray) -> float:
    return float((a[-1] - a[0]) / (len(a) - 1)) if len(a) > 1 else 1.0


def write_legacy_vtk(space: dict[str, np.ndarray], values: np.ndarray, title: str) -> bytes:
    """Legacy VTK, binary: ``DATASET STRUCTURED_POINTS`` with the point scalars ``u``."""
    axes, flat = _vtk_geometry(space, values)
    head = "\n".join(
        [
            "# vtk DataFile Version 3.0",
            title.replace("\n", " ")[:250],
            "BINARY",
            "DATASET STRUCTURED_POINTS",
            "DIMENSIONS " + " ".join(str(len(a)) for a in axes),
            "ORIGIN " + " ".join(repr(float(a[0])) for a in axes),
            "SPACING " + " ".join(repr(_spacing(a)) for a in axes),
            f"POINT_DATA {flat.size}",
            "SCALARS u double 1",
            "LOOKUP_TABLE default",
            "",
        ]
    )
    return head.encode() + flat.astype(">f8").tobytes() + b"\n"


def _xml_array(name: str, data: np.ndarray) -> str:
    """A VTK XML ``DataArray`` of float64, base64 with its UInt64 byte count in front."""
    raw = np.ascontiguousarray(data, dtype="<f8").tobytes()
    text = base64.b64encode(np.array([len(raw)], "<u8").tobytes() + raw).decode()
    return f'<DataArray type="Float64" Name="{name}" format="binary">{text}</DataArray>'


def _xml_file(kind: str, attrs: str, extent: str, inner: str, point_data: str) -> bytes:
    return (
        '<?xml version="1.0"?>\n'
        f'<VTKFile type="{kind}" version="1.0" byte_order="LittleEndian" header_type="UInt64">\n'
        f'<{kind} WholeExtent="{extent}"{attrs}>\n'
        f'<Piece Extent="{extent}">\n{inner}'
        f'<PointData Scalars="u">\n{point_data}\n</PointData>\n'
        f"</Piece>\n</{kind}>\n</VTKFile>\n"
    ).encode()


def _extent(axes: list[np.ndarray]) -> str:
    return " ".join(f"0 {len(a) - 1}" for a in axes)


def write_vti(space: dict[str, np.ndarray], values: np.ndarray, title: str) -> bytes:
    """VTK XML image data (``.vti``) with the point scalars ``u``."""
    axes, flat = _vtk_geometry(space, values)
    origin = " ".join(repr(float(a[0])) for a in axes)
    spacing = " ".join(repr(_spacing(a)) for a in axes)
    attrs = f' Origin="{origin}" Spacing="{spacing}"'
    return _xml_file("ImageData", attrs, _extent(axes), "", _xml_array("u", flat))


def write_vtr(space: dict[str, np.ndarray], values: np.ndarray, title: str) -> bytes:
    """VTK XML rectilinear grid (``.vtr``) with the point scalars ``u``."""
    axes, flat = _vtk_geometry(space, values)
    names = ("x", "y", "z")
    coords = "<Coordinates>\n" + "\n".join(
        _xml_array(n, a) for n, a in zip(names, axes, strict=True)
    )
    inner = coords + "\n</Coordinates>\n"
    return _xml_file("RectilinearGrid", "", _extent(axes), inner, _xml_array("u", flat))
