"""A field at listed points: :func:`read_points` of a CSV file, :func:`to_points` as CSV."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np

from .._arguments import check_points
from ..solution import NeuralField
from ._common import (
    Exported,
    ExportError,
    atomic_path,
    check_output,
    check_time,
    log,
    names_text,
    with_time,
)
from ._evaluate import evaluate

__all__ = ["POINTS_SUFFIXES", "read_points", "to_points"]
#: The files :func:`to_points` writes (comma-separated values).
POINTS_SUFFIXES = (".csv", ".txt")


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
        t = check_time(field, time, "time")
    wanted = [n for n in field.names if time is None or n != t_name]
    if header:
        unknown = [c for c in cells if c not in field.names]
        if unknown or len(set(cells)) != len(cells):
            what = f"names {unknown}" if unknown else "a name twice"
            raise ExportError(
                "points",
                f"{where}: its header {cells} has {what}; its columns must be the field's "
                f"coordinates {names_text(field.names)}",
            )
        if time is not None and t_name in cells:
            raise ExportError("time", f"{where} has a {t_name} column already")
        missing = [n for n in wanted if n not in cells]
        if missing:
            hint = " (or give the time)" if missing == [t_name] else ""
            raise ExportError(
                "points",
                f"{where}: its header {cells} lacks {missing}{hint}; the field's coordinates "
                f"are {names_text(field.names)}",
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
                f"{names_text(field.names)}: {len(wanted)} columns {names_text(wanted)}{hint} "
                "(or a header naming them)",
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
        pts = with_time(field, pts, t)
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
        target = check_output(out, field)  # type: ignore[arg-type]
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
        with atomic_path(target) as tmp:
            Path(tmp).write_text(text, encoding="utf-8")
        log.info("wrote %s: %d points", target, len(pts))
    return Exported(target, len(pts), ev.outside)
