"""A solved field written for other programs: its values (and gradients) at the nodes of a mesh,
on a uniform grid at any resolution, or at listed points.

* :func:`to_mesh`: values ``u`` and gradients ``grad_u`` (and ``du_dt`` in time) at the nodes of
  any mesh meshio reads, written in the format the output's suffix names (``.vtu``, ``.msh``,
  ``.xdmf``, ...); an evolution problem's field at one time, or at several as an XDMF time series.
* :func:`to_grid`: values on a uniform grid over the bounding box (and the time span) as a
  solution file (``.h5``), netCDF-4 (``.nc``) or VTK (``.vtk`` legacy structured points,
  ``.vti`` image data, ``.vtr`` rectilinear grid).
* :func:`to_points`: values (and gradients) at the rows of a CSV file or an array, as CSV.

Every point is evaluated once, values and gradients in one pass (:func:`evaluate`), in blocks;
points outside the field's domain (:meth:`~neuralpde.NeuralField.contains`) are NaN. An argument
that does not fit the field or the files is an :class:`ExportError` naming it. Files are written
to a temporary file beside the target and renamed into place (but for XDMF, whose data go to an
HDF5 file beside it).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import logging
import math
import os
import secrets
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch

from . import limits
from ._arguments import check_points
from ._version import __version__
from .domains import grid_counts
from .geometry.common import REL_TOL
from .io import write_solution
from .io.atomic import remove_orphans, temp_prefix
from .io.hdf5 import check_writable
from .operators import as_column
from .solution import NeuralField, OutsideDomainWarning, SavedField, Solution

__all__ = [
    "GRID_SUFFIXES",
    "POINTS_SUFFIXES",
    "ExportError",
    "Exported",
    "Evaluation",
    "evaluate",
    "grid_axes",
    "parse_grid",
    "parse_times",
    "read_points",
    "to_grid",
    "to_mesh",
    "to_points",
]

log = logging.getLogger("neuralpde.export")

#: The files :func:`to_grid` writes, by suffix.
GRID_SUFFIXES = (".h5", ".nc", ".vtk", ".vti", ".vtr")
#: The files :func:`to_points` writes (comma-separated values).
POINTS_SUFFIXES = (".csv", ".txt")
#: Times of one XDMF time series.
MAX_TIMES = 10_000
#: Points evaluated per block: at most this many, fewer for a wide network.
_BLOCK = 65536
#: Grid nodes generated at a time.
_GRID_CHUNK = 2**20


class ExportError(ValueError):
    """An argument that does not fit the field or the files: :attr:`option` is its name
    (``mesh``, ``grid``, ``points``, ``time``, ``times``, ``output``, ``gradient``) and
    :attr:`reason` the message without it."""

    def __init__(self, option: str, reason: str) -> None:
        super().__init__(f"{option}: {reason}")
        self.option = option
        self.reason = reason


@dataclass(frozen=True)
class Evaluation:
    """Values ``(N,)``, gradients ``(N, d)`` over every coordinate (``None`` when not asked),
    both NaN at the ``outside`` points outside the domain."""

    values: np.ndarray
    gradient: np.ndarray | None
    outside: int


@dataclass(frozen=True)
class Exported:
    """What an export wrote: ``path`` (``None`` for a stream), the ``points`` evaluated (nodes,
    grid nodes or rows, times each time) and how many of them lie ``outside`` the domain."""

    path: Path | None
    points: int
    outside: int


# -- evaluation ----------------------------------------------------------------------------------


def _block_rows(field: NeuralField) -> int:
    """Points per block: at most :data:`_BLOCK`, fewer for a wide network (about 2**25 numbers
    of activations and their derivatives per block)."""
    spec = field.architecture.get("field") or {}
    units = int(spec.get("width", 64)) * (int(spec.get("depth", 1)) + 1)
    return int(min(_BLOCK, max(1024, 2**25 // max(units * 6, 1))))


def evaluate(
    field: NeuralField,
    points: np.ndarray | Sequence,
    *,
    gradient: bool = True,
    warn: bool = True,
    stacklevel: int = 2,
    what: str = "points",
) -> Evaluation:
    """The field's values (and, with ``gradient``, its gradients) at ``points`` ``(N, d)``
    (columns :attr:`~neuralpde.NeuralField.names`), from one pass of the network per block: the
    same numbers as ``field(points)`` and ``field.gradient(points)``, at the cost of the
    gradients alone. NaN outside the domain, with one :class:`~neuralpde.OutsideDomainWarning`
    that counts them (``warn``; the ``what``, e.g. ``"points"``), attributed ``stacklevel``
    frames up."""
    arr = check_points(points, field.names)
    inside = np.asarray(field.contains(arr), dtype=bool)
    n, d = arr.shape
    outside = int(n - np.count_nonzero(inside))
    if outside and warn:
        warnings.warn(
            f"{outside} of {n} {what} lie outside the field's domain: the field is NaN there",
            OutsideDomainWarning,
            stacklevel=stacklevel,
        )
    values = np.full(n, math.nan)
    grads = np.full((n, d), math.nan) if gradient else None
    rows = np.flatnonzero(inside) if outside else None
    todo = arr if rows is None else arr[rows]
    if len(todo):
        v, g = _network_pass(field, todo, gradient)
        if rows is None:
            values[:] = v
            if grads is not None:
                grads[:] = g
        else:
            values[rows] = v
            if grads is not None:
                grads[rows] = g
    return Evaluation(values, grads, outside)


def _network_pass(
    field: NeuralField, arr: np.ndarray, gradient: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Values (and gradients) of the network at the points ``arr``, all of them, in blocks."""
    param = next(field.net.parameters())
    dtype, device = param.dtype, param.device
    if dtype != torch.float64 and np.abs(arr).max() > torch.finfo(dtype).max:
        raise ValueError(
            f"points must be finite in the field's precision ({dtype}), got magnitudes up to "
            f"{np.abs(arr).max():.4g}"
        )
    net = field.module(dtype=dtype, device=device)  # a frozen copy: no graph of the weights
    rows = _block_rows(field)
    values = np.empty(len(arr))
    grads = np.empty(arr.shape) if gradient else None
    context = torch.enable_grad() if gradient else torch.no_grad()
    with torch.inference_mode(False), context:
        for i in range(0, len(arr), rows):
            x = torch.from_numpy(arr[i : i + rows]).to(device=device, dtype=dtype)
            x.requires_grad_(gradient)
            u = as_column(net(x), x)
            values[i : i + rows] = u.detach().cpu().numpy()
            if grads is not None:
                g = None
                if u.requires_grad:
                    (g,) = torch.autograd.grad(u.sum(), x, allow_unused=True)
                grads[i : i + rows] = 0.0 if g is None else g.cpu().numpy()
    return values, grads


# -- arguments -----------------------------------------------------------------------------------


def parse_grid(text: str) -> tuple[int, ...]:
    """``"512x512x65"`` as ``(512, 512, 65)``: point counts per axis, each at least 2, in the
    field's coordinate order (space, then time); ``ValueError`` for anything else."""
    parts = str(text).strip().lower().split("x")
    try:
        counts = tuple(int(p) for p in parts)
    except ValueError:
        counts = ()
    if not counts or any(c < 2 for c in counts) or len(counts) > limits.MAX_IN_FEATURES:
        raise ValueError(
            f"expected point counts per axis of at least 2 each, joined by 'x' (NXxNY, NXxNYxNT), "
            f"got {str(text)[:60]!r}"
        )
    total = math.prod(counts)
    if total > limits.MAX_GRID_NODES:
        raise ValueError(
            f"{str(text)[:60]!r} has {total:,} nodes, more than the {limits.MAX_GRID_NODES:,} a "
            "grid may have"
        )
    return counts


def parse_times(text: str) -> list[float]:
    """``"0,0.5,1"`` as ``[0.0, 0.5, 1.0]``: finite numbers, at most :data:`MAX_TIMES`;
    ``ValueError`` for anything else."""
    out = []
    for s in str(text).split(","):
        try:
            v = float(s)
        except ValueError:
            raise ValueError(
                f"expected numbers separated by commas (T1,T2,...), got {str(text)[:60]!r}"
            ) from None
        if not math.isfinite(v):
            raise ValueError(f"expected finite times, got {s.strip()[:30]!r}")
        out.append(v)
    if len(out) > MAX_TIMES:
        raise ValueError(f"at most {MAX_TIMES} times, got {len(out)}")
    return out


def _names(names: Sequence[str]) -> str:
    return f"({', '.join(names)})"


def _bounds(field: NeuralField) -> tuple[np.ndarray, np.ndarray]:
    """The corners of the field's bounding box (its domain's, else its input scaling's)."""
    if hasattr(field, "bounds"):
        lo, hi = field.bounds
        return np.asarray(lo, float), np.asarray(hi, float)
    scaling = field.architecture.get("input_scaling")
    if not scaling:
        raise ExportError("grid", "the field's bounding box is unknown (no input scaling)")
    return np.asarray(scaling["lower"], float), np.asarray(scaling["upper"], float)


def _check_time(field: NeuralField, t: object, option: str) -> float:
    """``t`` as a time in the field's span (within rounding); :class:`ExportError` otherwise."""
    axis = field.time_axis
    if axis is None:
        raise ExportError(
            option,
            f"the field is steady: its coordinates {_names(field.names)} are all space, it has "
            "no time",
        )
    try:
        value = float(t)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ExportError(option, f"expected a number, got {t!r}") from None
    lo, hi = _bounds(field)
    t0, t1 = float(lo[axis]), float(hi[axis])
    slack = REL_TOL * (t1 - t0)
    if not (t0 - slack <= value <= t1 + slack):
        raise ExportError(
            option,
            f"time {value:g} lies outside the field's time span "
            f"{field.names[axis]} in [{t0:g}, {t1:g}]",
        )
    return min(max(value, t0), t1)


def _with_time(field: NeuralField, space: np.ndarray, t: float) -> np.ndarray:
    """Points of the space ``space`` ``(N, d - 1)`` at time ``t``: the time column inserted."""
    return np.insert(space, field.time_axis, t, axis=1)


def _check_output(path: str | os.PathLike, field: NeuralField) -> Path:
    """``path`` as a file that can be written, and not the field's own file."""
    try:
        p = check_writable(path)
    except (OSError, ValueError) as exc:
        raise ExportError("output", str(exc)) from None
    _not_the_source(p, field)
    return p


def _not_the_source(p: Path, field: NeuralField, beside: str = "") -> None:
    source = getattr(field, "path", None)
    if source and p.exists() and Path(source).exists() and p.resolve() == Path(source).resolve():
        raise ExportError(
            "output",
            f"{str(p)!r}{beside} is the field's own file {source!r}; choose another path",
        )


@contextlib.contextmanager
def _atomic_path(target: Path) -> Iterator[str]:
    """A temporary path beside ``target`` to write to, renamed over it on success; the file
    gets the target's mode, or a new file's (not a temporary file's private 0600)."""
    remove_orphans(target)
    tmp = target.parent / f"{temp_prefix(target)}{os.getpid()}-{secrets.token_hex(6)}.tmp"
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))  # the umask applies
    try:
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        yield str(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# -- meshes --------------------------------------------------------------------------------------


def _read_mesh(mesh: Any) -> Any:
    """``mesh`` (a ``meshio.Mesh`` or a file meshio reads) as a ``meshio.Mesh``."""
    import meshio

    if isinstance(mesh, meshio.Mesh):
        return mesh
    if not isinstance(mesh, (str, os.PathLike)):
        raise TypeError(f"mesh must be a meshio.Mesh or a file path, got {type(mesh).__name__}")
    if not Path(mesh).is_file():
        raise ExportError("mesh", f"no file {os.fspath(mesh)!r}")
    where = repr(os.fspath(mesh))
    said = StringIO()  # meshio prints why each reader it tried failed: said in the error
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(said),
            contextlib.redirect_stderr(said),
        ):
            warnings.simplefilter("ignore")  # meshio's notes on what it skips
            return meshio.read(mesh)
    except Exception as exc:  # meshio raises anything on a file it cannot parse
        reason = f"{type(exc).__name__}: {exc}"
    except SystemExit:  # and exits where several readers fit the suffix and none could
        reason = " ".join(said.getvalue().split()) or "its readers gave up"
    raise ExportError("mesh", f"{where} cannot be read by meshio ({reason[:300]})")


def _mesh_format(path: str | os.PathLike) -> str:
    """The meshio format the suffix of ``path`` names (``.msh``: gmsh)."""
    import meshio

    name = Path(path).name.lower()
    known = meshio.extension_to_filetypes
    ext = next((e for e in sorted(known, key=len, reverse=True) if name.endswith(e)), None)
    if ext is None:
        raise ExportError(
            "output",
            f"{os.fspath(path)!r}: unknown suffix {Path(path).suffix!r} for a mesh; meshio "
            f"writes {', '.join(sorted(known))}",
        )
    formats = known[ext]
    return "gmsh" if "gmsh" in formats else formats[0]


def _space_points(field: NeuralField, points: np.ndarray) -> np.ndarray:
    """A mesh's points ``(N, k)`` as the field's space coordinates ``(N, d)``: columns beyond
    the field's space dimension (a flat mesh's z) must be zero."""
    axes = field.space_axes
    space = [field.names[i] for i in axes]
    ds = len(axes)
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or len(pts) == 0:
        raise ExportError("mesh", f"it has no points (an array of shape {pts.shape})")
    k = pts.shape[1]
    if k < ds:
        raise ExportError(
            "mesh",
            f"its points have {k} coordinates; the field's space has {ds} {_names(space)}",
        )
    if k > ds:
        bad = np.count_nonzero((pts[:, ds:] != 0).any(axis=1))
        if bad:
            raise ExportError(
                "mesh",
                f"{bad} of its {len(pts)} points have a nonzero coordinate beyond the field's "
                f"{ds}-D space {_names(space)}: a mesh of fewer dimensions than its points "
                "must have those columns 0",
            )
    return np.ascontiguousarray(pts[:, :ds])


def _point_data(field: NeuralField, ev: Evaluation) -> dict[str, np.ndarray]:
    """``u``, ``grad_u`` (the space gradient padded with zeros to 3 components, a VTK vector;
    all NaN outside the domain) and, for an evolution problem's field, ``du_dt``."""
    assert ev.gradient is not None
    axes = list(field.space_axes)
    grad = np.zeros((len(ev.values), max(3, len(axes))))
    grad[:, : len(axes)] = ev.gradient[:, axes]
    grad[np.isnan(ev.gradient).any(axis=1)] = math.nan  # the padding too, outside the domain
    out = {"u": ev.values, "grad_u": grad}
    if field.time_axis is not None:
        out["du_dt"] = ev.gradient[:, field.time_axis]
    return out


def to_mesh(
    field: NeuralField,
    mesh: Any,
    path: str | os.PathLike,
    *,
    time: float | None = None,
    times: Sequence[float] | None = None,
) -> Exported:
    """Write ``mesh`` (a ``meshio.Mesh`` or a file meshio reads) to ``path`` with the field's
    values ``u`` and space gradients ``grad_u`` (``(N, 3)``, zero-padded) at its nodes, in the
    format of the suffix (meshio's; ``.msh`` is gmsh). The mesh's cells are kept, its data
    dropped. A flat mesh's points ``(N, 3)`` with zero z serve a 2-D field. NaN at nodes
    outside the domain, with one :class:`~neuralpde.OutsideDomainWarning`.

    An evolution problem's field needs ``time`` (its values, gradients and ``du_dt`` then) or
    ``times``, several, written as an XDMF time series (``path`` ending in ``.xdmf``, its data
    in an HDF5 file beside it: ``u.h5`` for ``u.xdmf``)."""
    series = times is not None
    if series and time is not None:
        raise ExportError("times", "give time or times, not both")
    if field.time_axis is None and (time is not None or series):
        raise ExportError(
            "times" if series else "time",
            f"the field is steady: its coordinates {_names(field.names)} are all space, it has "
            "no time",
        )
    if field.time_axis is not None and time is None and not series:
        lo, hi = _bounds(field)
        t = field.time_axis
        raise ExportError(
            "time",
            f"the field is an evolution problem's {_names(field.names)}: give the time to "
            f"evaluate at, in [{lo[t]:g}, {hi[t]:g}] (or several, for a time series)",
        )
    if series:
        stamps = [_check_time(field, t, "times") for t in times]  # type: ignore[union-attr]
        if not stamps:
            raise ExportError("times", "no times given")
        if Path(path).suffix.lower() not in (".xdmf", ".xmf"):
            raise ExportError(
                "output",
                f"{os.fspath(path)!r}: several times make an XDMF time series: name a .xdmf file",
            )
        fmt = "xdmf"
    else:
        fmt = _mesh_format(path)
        when = None if time is None else _check_time(field, time, "time")
    target = _check_output(path, field)
    if fmt == "xdmf":  # meshio writes its data beside it
        _not_the_source(target.with_suffix(".h5"), field, " (where the XDMF file's data go)")
    m = _read_mesh(mesh)
    space = _space_points(field, m.points)
    if series:
        return _write_series(field, m, space, stamps, target)
    pts = space if when is None else _with_time(field, space, when)
    ev = evaluate(field, pts, stacklevel=3, what="mesh nodes")
    _write_mesh(m, _point_data(field, ev), target, fmt)
    log.info(
        "wrote %s: u and grad_u at %d nodes%s",
        target,
        len(pts),
        f" ({ev.outside} outside the domain: NaN)" if ev.outside else "",
    )
    return Exported(target, len(pts), ev.outside)


def _write_mesh(m: Any, point_data: dict[str, np.ndarray], target: Path, fmt: str) -> None:
    import meshio

    out = meshio.Mesh(m.points, m.cells, point_data=point_data)
    try:
        if fmt in ("xdmf", "tetgen"):  # files beside it, named after it: written in place
            meshio.write(target, out, file_format=fmt)
        else:
            with _atomic_path(target) as tmp:
                meshio.write(tmp, out, file_format=fmt)
    except meshio.WriteError as exc:
        raise ExportError("output", f"meshio cannot write {target.name!r}: {exc}") from None


def _write_series(
    field: NeuralField, m: Any, space: np.ndarray, stamps: list[float], target: Path
) -> Exported:
    """An XDMF time series of the field at ``stamps`` on the mesh ``m``."""
    from meshio.xdmf import TimeSeriesWriter

    class _Series(TimeSeriesWriter):
        """meshio's writer, with its HDF5 file beside the XDMF file (meshio's own opens it in
        the working folder, while the XDMF file names it as beside it)."""

        def __enter__(self) -> _Series:
            import h5py

            self.h5_filename = str(self.filename.with_suffix(".h5"))
            self.h5_file = h5py.File(self.h5_filename, "w")
            return self

    outside = 0
    with _Series(target) as w:
        w.write_points_cells(m.points, m.cells)
        for k, t in enumerate(stamps):
            ev = evaluate(field, _with_time(field, space, t), warn=False)
            outside += ev.outside
            if ev.outside and k == 0:
                warnings.warn(
                    f"{ev.outside} of {len(space)} mesh nodes lie outside the field's domain: "
                    "the field is NaN there",
                    OutsideDomainWarning,
                    stacklevel=3,
                )
            w.write_data(t, point_data=_point_data(field, ev))
    log.info("wrote %s: u and grad_u at %d nodes, %d times", target, len(space), len(stamps))
    return Exported(target, len(space) * len(stamps), outside)


# -- grids ---------------------------------------------------------------------------------------


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
    lo, hi = _bounds(field)
    t_axis = field.time_axis
    if time is not None:
        t = _check_time(field, time, "time")
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
                f"{_names(field.names)}, or write .nc or .h5",
            )
        if space_dims > 3:
            raise ExportError(
                "output", f"a VTK grid has at most 3 axes; the field has {space_dims} space axes"
            )
    coords = grid_axes(field, counts, time=time)
    if time is not None:  # as checked: within the span
        time = float(coords[field.names[field.time_axis]][0])
    target = _check_output(path, field)
    if suffix == ".h5":
        return _solution_file(field, coords, target, xdmf)
    values, outside = _grid_values(field, coords)
    if suffix == ".nc":
        _write_netcdf(field, coords, values, target, time)
    else:
        space = {n: coords[n] for n in (field.names[i] for i in field.space_axes)}
        grid = values if time is None else values.take(0, axis=field.time_axis)
        writer = {".vtk": _write_legacy_vtk, ".vti": _write_vti, ".vtr": _write_vtr}[suffix]
        data = writer(space, grid, _title(field, time))
        with _atomic_path(target) as tmp:
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


def _title(field: NeuralField, time: float | None) -> str:
    name = getattr(field, "problem_name", "") or "field"
    at = "" if time is None else f" at {field.names[field.time_axis]} = {time:g}"
    return f"neuralpde {__version__}: u of {name}{at}"


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
    )
    _log_grid(written, values.shape, outside)
    return Exported(written, values.size, outside)


def _cf_order(field: NeuralField, names: Sequence[str]) -> list[int]:
    """The positions in ``names`` (some of the field's) in CF's order: time first, then the
    space axes last to first."""
    t = field.time_axis
    time = [k for k, n in enumerate(names) if t is not None and n == field.names[t]]
    space = [k for k, n in enumerate(names) if k not in time]
    return time + space[::-1]


def _write_netcdf(
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
    with _atomic_path(target) as tmp, h5netcdf.File(tmp, "w") as f:
        f.attrs["Conventions"] = "CF-1.10"
        f.attrs["title"] = _title(field, time)
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


def _write_legacy_vtk(space: dict[str, np.ndarray], values: np.ndarray, title: str) -> bytes:
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


def _write_vti(space: dict[str, np.ndarray], values: np.ndarray, title: str) -> bytes:
    """VTK XML image data (``.vti``) with the point scalars ``u``."""
    axes, flat = _vtk_geometry(space, values)
    origin = " ".join(repr(float(a[0])) for a in axes)
    spacing = " ".join(repr(_spacing(a)) for a in axes)
    attrs = f' Origin="{origin}" Spacing="{spacing}"'
    return _xml_file("ImageData", attrs, _extent(axes), "", _xml_array("u", flat))


def _write_vtr(space: dict[str, np.ndarray], values: np.ndarray, title: str) -> bytes:
    """VTK XML rectilinear grid (``.vtr``) with the point scalars ``u``."""
    axes, flat = _vtk_geometry(space, values)
    names = ("x", "y", "z")
    coords = "<Coordinates>\n" + "\n".join(
        _xml_array(n, a) for n, a in zip(names, axes, strict=True)
    )
    inner = coords + "\n</Coordinates>\n"
    return _xml_file("RectilinearGrid", "", _extent(axes), inner, _xml_array("u", flat))


# -- points --------------------------------------------------------------------------------------


def read_points(
    path: str | os.PathLike, field: NeuralField, *, time: float | None = None
) -> np.ndarray:
    """The points of a CSV file as an ``(N, d)`` array in the field's coordinate order.

    A first line that is not all numbers is a header naming the columns: the field's
    coordinates, in any order (with ``time``, an evolution problem's field may leave out time).
    Without one, the columns are the field's coordinates in order (space, then time; with
    ``time``, space only). ``time`` fills in the time column."""
    p = Path(path)
    if not p.is_file():
        raise ExportError("points", f"no file {os.fspath(path)!r}")
    where = repr(os.fspath(path))
    with open(p, encoding="utf-8-sig", errors="replace") as fh:
        first = fh.readline()
    cells = [c.strip().strip('"').strip("'") for c in first.strip().split(",")]
    if not first.strip():
        raise ExportError("points", f"{where} is empty (or its first line is)")
    header = not all(_is_number(c) for c in cells)
    t_name = None if field.time_axis is None else field.names[field.time_axis]
    if time is not None:
        t = _check_time(field, time, "time")
    wanted = [n for n in field.names if time is None or n != t_name]
    if header:
        unknown = [c for c in cells if c not in field.names]
        if unknown or len(set(cells)) != len(cells):
            what = f"names {unknown}" if unknown else "a name twice"
            raise ExportError(
                "points",
                f"{where}: its header {cells} has {what}; its columns must be the field's "
                f"coordinates {_names(field.names)}",
            )
        if time is not None and t_name in cells:
            raise ExportError("time", f"{where} has a {t_name} column already")
        missing = [n for n in wanted if n not in cells]
        if missing:
            hint = " (or give the time)" if missing == [t_name] else ""
            raise ExportError(
                "points",
                f"{where}: its header {cells} lacks {missing}{hint}; the field's coordinates "
                f"are {_names(field.names)}",
            )
        order = [cells.index(n) for n in wanted]
    else:
        if len(cells) != len(wanted):
            hint = ""
            if t_name is not None and time is None and len(cells) == len(wanted) - 1:
                hint = f": add a {t_name} column or give the time"
            raise ExportError(
                "points",
                f"{where}: its rows have {len(cells)} columns; the field's coordinates are "
                f"{_names(field.names)}: {len(wanted)} columns {_names(wanted)}{hint} (or a "
                "header naming them)",
            )
        order = list(range(len(wanted)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty file's note; said below
            data = np.loadtxt(p, delimiter=",", skiprows=int(header), ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise ExportError("points", f"{where} cannot be read as numbers: {exc}") from None
    if data.shape[0] == 0:
        raise ExportError("points", f"{where} has no rows of points")
    if data.shape[1] != len(cells):
        raise ExportError(
            "points", f"{where}: its rows have {data.shape[1]} columns, its first {len(cells)}"
        )
    pts = data[:, order]
    if time is not None:
        pts = _with_time(field, pts, t)
    if not np.isfinite(pts).all():
        raise ExportError("points", f"{where} holds NaN or infinite coordinates")
    return pts


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_points(
    field: NeuralField,
    points: str | os.PathLike | np.ndarray | Sequence,
    out: str | os.PathLike | TextIO | None = None,
    *,
    time: float | None = None,
    gradient: bool = False,
) -> Exported:
    """The field's values (and, with ``gradient``, its gradient ``du_d<name>`` over every
    coordinate) at ``points`` (a CSV file, :func:`read_points`, or an ``(N, d)`` array; ``time``
    fills in an evolution problem's time) written as CSV to ``out`` (a ``.csv``/``.txt`` path,
    or a text stream such as ``sys.stdout``; ``None``: standard output): a header, then one row
    per point, its coordinates (the field's order), ``u`` and the gradient. NaN outside the
    domain, with an :class:`~neuralpde.OutsideDomainWarning`."""
    target = None
    if out is not None and not hasattr(out, "write"):
        if Path(out).suffix.lower() not in POINTS_SUFFIXES:  # type: ignore[arg-type]
            raise ExportError(
                "output",
                f"{os.fspath(out)!r}: unknown suffix {Path(out).suffix!r} for points; expected "  # type: ignore[arg-type]
                f"{', '.join(POINTS_SUFFIXES)} (comma-separated values)",
            )
        target = _check_output(out, field)  # type: ignore[arg-type]
    if isinstance(points, (str, os.PathLike)):
        pts = read_points(points, field, time=time)
    else:
        try:
            pts = check_points(points, field.names)
        except ValueError as exc:
            raise ExportError("points", str(exc)) from None
        if time is not None:
            raise ExportError("time", "an array of points holds its own time column")
    ev = evaluate(field, pts, gradient=gradient, stacklevel=3)
    columns = [*field.names, "u"]
    table = [pts, ev.values[:, None]]
    if ev.gradient is not None:
        columns += [f"du_d{n}" for n in field.names]
        table.append(ev.gradient)
    data = np.hstack(table)

    # each number as Python writes it: the shortest text that reads back to the same float
    text = "\n".join([",".join(columns), *(",".join(map(repr, r)) for r in data.tolist())]) + "\n"
    if target is None:
        (out if out is not None else sys.stdout).write(text)  # type: ignore[union-attr]
    else:
        with _atomic_path(target) as tmp:
            Path(tmp).write_text(text, encoding="utf-8")
        log.info("wrote %s: %d points", target, len(pts))
    return Exported(target, len(pts), ev.outside)
