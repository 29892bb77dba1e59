"""A field at the nodes of a mesh meshio reads: :func:`to_mesh`, one time or an XDMF time
series."""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from collections.abc import Sequence
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np

from ..solution import NeuralField, OutsideDomainWarning
from ._common import (
    Exported,
    ExportError,
    atomic_path,
    check_output,
    check_time,
    field_bounds,
    log,
    names_text,
    not_the_source,
    with_time,
)
from ._evaluate import Evaluation, evaluate

__all__ = ["to_mesh"]


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
            f"its points have {k} coordinates; the field's space has {ds} {names_text(space)}",
        )
    if k > ds:
        bad = np.count_nonzero((pts[:, ds:] != 0).any(axis=1))
        if bad:
            raise ExportError(
                "mesh",
                f"{bad} of its {len(pts)} points have a nonzero coordinate beyond the field's "
                f"{ds}-D space {names_text(space)}: a mesh of fewer dimensions than its points "
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
            f"the field is steady: its coordinates {names_text(field.names)} are all space, it has "
            "no time",
        )
    if field.time_axis is not None and time is None and not series:
        lo, hi = field_bounds(field)
        t = field.time_axis
        raise ExportError(
            "time",
            f"the field is an evolution problem's {names_text(field.names)}: give the time to "
            f"evaluate at, in [{lo[t]:g}, {hi[t]:g}] (or several, for a time series)",
        )
    if series:
        stamps = [check_time(field, t, "times") for t in times]  # type: ignore[union-attr]
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
        when = None if time is None else check_time(field, time, "time")
    target = check_output(path, field)
    if fmt == "xdmf":  # meshio writes its data beside it
        not_the_source(target.with_suffix(".h5"), field, " (where the XDMF file's data go)")
    m = _read_mesh(mesh)
    space = _space_points(field, m.points)
    if series:
        return _write_series(field, m, space, stamps, target)
    pts = space if when is None else with_time(field, space, when)
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
            with atomic_path(target) as tmp:
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
            ev = evaluate(field, with_time(field, space, t), warn=False)
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
