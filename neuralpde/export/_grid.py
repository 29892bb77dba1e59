"""A field on a uniform grid: :func:`to_grid`, as a solution file, netCDF-4 or VTK."""

from __future__ import annotations

import datetime as _dt
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._version import __version__
from ..domains import grid_counts
from ..io import write_solution
from ..solution import NeuralField, SavedField, Solution
from ._common import (
    Exported,
    ExportError,
    atomic_path,
    check_output,
    check_time,
    field_bounds,
    log,
    names_text,
    parse_grid,
)
from ._evaluate import evaluate
from ._files import grid_title, write_legacy_vtk, write_netcdf, write_vti, write_vtr

__all__ = ["GRID_SUFFIXES", "grid_axes", "to_grid"]
#: The files :func:`to_grid` writes, by suffix.
GRID_SUFFIXES = (".h5", ".nc", ".vtk", ".vti", ".vtr")
#: Grid nodes generated at a time.
_GRID_CHUNK = 2**20


def grid_axes(
    field: NeuralField, counts: str | Sequence[int], *, time: float | None = None
) -> dict[str, np.ndarray]:
    """The coordinate arrays of a uniform grid over the field's bounding box, by name in the
    field's order: ``counts`` points per axis (a sequence or ``"NXxNY[xNT]"``). With ``time``
    (an evolution problem's field), ``counts`` gives the space axes only and the grid is the
    snapshot at that time (its time axis one point long)."""
    if isinstance(counts, str):
        try:
            counts = parse_grid(counts)
        except ValueError as exc:
            raise ExportError("grid", str(exc)) from None
    counts = list(counts)
    lo, hi = field_bounds(field)
    t_axis = field.time_axis
    if time is not None:
        t = check_time(field, time, "time")
    axes = [i for i in range(field.dim) if time is None or i != t_axis]
    want = ", ".join(field.names[i] for i in axes)
    try:
        counts = grid_counts(counts, len(axes))
    except (ValueError, TypeError):
        hint = ""
        if t_axis is not None and time is None and len(counts) == len(axes) - 1:
            hint = " (the time samples last; or give one time for a snapshot)"
        raise ExportError(
            "grid",
            f"expected {len(axes)} point counts of at least 2 ({want}){hint}, got "
            f"{'x'.join(map(str, counts))!r}",
        ) from None
    out = {}
    for i, name in enumerate(field.names):
        if i in axes:
            out[name] = np.linspace(lo[i], hi[i], counts[axes.index(i)])
        else:
            out[name] = np.array([t])
    return out


def _grid_values(field: NeuralField, coords: dict[str, np.ndarray]) -> tuple[np.ndarray, int]:
    """The field on the tensor grid of ``coords`` (indexed in their order), NaN outside the
    domain, evaluated in chunks; and how many nodes lie outside."""
    axes = list(coords.values())
    shape = tuple(len(a) for a in axes)
    total = math.prod(shape)
    values = np.empty(total)
    outside = 0
    for start in range(0, total, _GRID_CHUNK):
        idx = np.unravel_index(np.arange(start, min(total, start + _GRID_CHUNK)), shape)
        pts = np.column_stack([a[i] for a, i in zip(axes, idx, strict=True)])
        ev = evaluate(field, pts, gradient=False, warn=False)
        values[start : start + len(pts)] = ev.values
        outside += ev.outside
    return values.reshape(shape), outside


def to_grid(
    field: NeuralField,
    counts: str | Sequence[int],
    path: str | os.PathLike,
    *,
    time: float | None = None,
    xdmf: bool = True,
) -> Exported:
    """Write the field on a uniform grid of ``counts`` points per axis (:func:`grid_axes`) over
    its bounding box (and time span) to ``path``, NaN at nodes outside the domain:

    * ``.h5``: a solution file with that stored grid (:meth:`Solution.save
      <neuralpde.Solution.save>` for a solution; a loaded one is rewritten with its record, no
      exact solution nor error metrics), with its XDMF sidecar (``xdmf``);
    * ``.nc``: netCDF-4 (needs h5netcdf), ``u`` on coordinate variables in CF's order (time
      first, then the space axes last to first);
    * ``.vtk`` (legacy structured points), ``.vti`` (image data), ``.vtr`` (rectilinear grid):
      up to 3 space axes; an evolution problem's field at one ``time`` (a snapshot).

    ``time`` makes a snapshot: ``counts`` then give the space axes only (not for ``.h5``, which
    holds the whole time span)."""
    suffix = Path(path).suffix.lower()
    if suffix not in GRID_SUFFIXES:
        raise ExportError(
            "output",
            f"{os.fspath(path)!r}: unknown suffix {Path(path).suffix!r} for a grid; expected "
            f"{', '.join(GRID_SUFFIXES)}",
        )
    if time is not None and suffix == ".h5":
        raise ExportError(
            "time",
            "a solution file (.h5) holds the whole time span: give its time samples in "
            "the grid (NXxNYxNT) instead",
        )
    space_dims = len(field.space_axes)
    if suffix in (".vtk", ".vti", ".vtr"):
        if field.time_axis is not None and time is None:
            raise ExportError(
                "time",
                f"a VTK file has no time axis: give the time of a snapshot of the field "
                f"{names_text(field.names)}, or write .nc or .h5",
            )
        if space_dims > 3:
            raise ExportError(
                "output", f"a VTK grid has at most 3 axes; the field has {space_dims} space axes"
            )
    coords = grid_axes(field, counts, time=time)
    if time is not None:  # as checked: within the span
        time = float(coords[field.names[field.time_axis]][0])
    target = check_output(path, field)
    if suffix == ".h5":
        return _solution_file(field, coords, target, xdmf)
    values, outside = _grid_values(field, coords)
    if suffix == ".nc":
        write_netcdf(field, coords, values, target, time)
    else:
        space = {n: coords[n] for n in (field.names[i] for i in field.space_axes)}
        grid = values if time is None else values.take(0, axis=field.time_axis)
        writer = {".vtk": write_legacy_vtk, ".vti": write_vti, ".vtr": write_vtr}[suffix]
        data = writer(space, grid, grid_title(field, time))
        with atomic_path(target) as tmp:
            Path(tmp).write_bytes(data)
    _log_grid(target, values.shape, outside)
    return Exported(target, values.size, outside)


def _log_grid(target: Path, shape: tuple[int, ...], outside: int) -> None:
    log.info(
        "wrote %s: a %s grid%s",
        target,
        "x".join(map(str, shape)),
        f" ({outside} nodes outside the domain: NaN)" if outside else "",
    )


def _solution_file(
    field: NeuralField, coords: dict[str, np.ndarray], target: Path, xdmf: bool
) -> Exported:
    """The grid as a solution file: the field's own ``save`` where it has one, else (a loaded
    field) its record with the new grid."""
    counts = [len(a) for a in coords.values()]
    if not isinstance(field, SavedField):
        if isinstance(field, Solution):
            written = field.save(target, n=counts, xdmf=xdmf)
        elif hasattr(field, "save"):  # a fitted field
            written = field.save(target, n=counts)
        else:
            raise ExportError(
                "output",
                "a solution file needs a solved, fitted or loaded field; write .nc or VTK instead",
            )
        log.info("wrote %s: a %s grid", written, "x".join(map(str, counts)))
        return Exported(Path(written), math.prod(counts), 0)
    values, outside = _grid_values(field, coords)
    rec = field.record
    written = write_solution(
        target,
        coords=coords,
        values=values,
        exact=None,  # the exact solution is known on the file's own grid only
        architecture=rec["architecture"],
        parameters=rec["parameters"],
        dtype=rec["dtype"],
        problem=rec["problem"],
        training=rec["training"],
        metrics={},  # they were measured on the file's own grid
        provenance={
            "neuralpde": __version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "versions": rec["versions"],
            "platform": rec["platform"],
        },
        xdmf=xdmf,
        domain=field.domain,  # a mesh travels with the field
    )
    _log_grid(written, values.shape, outside)
    return Exported(written, values.size, outside)
