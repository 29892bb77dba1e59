"""What every export shares: its error, its result, its logger, the checks of its arguments
(grids, times, outputs) and the atomic writing of a file."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import limits
from .._arguments import parse_times as parse_number_times
from ..geometry.common import REL_TOL
from ..io.atomic import remove_orphans, temp_prefix
from ..io.hdf5 import check_writable
from ..solution import NeuralField

__all__ = [
    "MAX_TIMES",
    "ExportError",
    "Exported",
    "atomic_path",
    "check_output",
    "check_time",
    "field_bounds",
    "log",
    "names_text",
    "not_the_source",
    "parse_grid",
    "parse_times",
    "with_time",
]

log = logging.getLogger("neuralpde.export")
#: Times of one XDMF time series.
MAX_TIMES = 10_000


class ExportError(ValueError):
    """An argument that does not fit the field or the files: :attr:`option` is its name
    (``mesh``, ``grid``, ``points``, ``time``, ``times``, ``output``, ``gradient``) and
    :attr:`reason` the message without it."""

    def __init__(self, option: str, reason: str) -> None:
        super().__init__(f"{option}: {reason}")
        self.option = option
        self.reason = reason


@dataclass(frozen=True)
class Exported:
    """What an export wrote: ``path`` (``None`` for a stream), the ``points`` evaluated (nodes,
    grid nodes or rows, times each time) and how many of them lie ``outside`` the domain."""

    path: Path | None
    points: int
    outside: int


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
    """``0,0.5,1`` as a list of finite times, at most :data:`MAX_TIMES`
    (:func:`neuralpde._arguments.parse_times`)."""
    return parse_number_times(text, MAX_TIMES)


def names_text(names: Sequence[str]) -> str:
    return f"({', '.join(names)})"


def field_bounds(field: NeuralField) -> tuple[np.ndarray, np.ndarray]:
    """The corners of the field's bounding box (its domain's, else its input scaling's)."""
    if hasattr(field, "bounds"):
        lo, hi = field.bounds
        return np.asarray(lo, float), np.asarray(hi, float)
    scaling = field.architecture.get("input_scaling")
    if not scaling:
        raise ExportError("grid", "the field's bounding box is unknown (no input scaling)")
    return np.asarray(scaling["lower"], float), np.asarray(scaling["upper"], float)


def check_time(field: NeuralField, t: object, option: str) -> float:
    """``t`` as a time in the field's span (within rounding); :class:`ExportError` otherwise."""
    axis = field.time_axis
    if axis is None:
        raise ExportError(
            option,
            f"the field is steady: its coordinates {names_text(field.names)} are all space, it has "
            "no time",
        )
    try:
        value = float(t)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ExportError(option, f"expected a number, got {t!r}") from None
    lo, hi = field_bounds(field)
    t0, t1 = float(lo[axis]), float(hi[axis])
    slack = REL_TOL * (t1 - t0)
    if not (t0 - slack <= value <= t1 + slack):
        raise ExportError(
            option,
            f"time {value:g} lies outside the field's time span "
            f"{field.names[axis]} in [{t0:g}, {t1:g}]",
        )
    return min(max(value, t0), t1)


def with_time(field: NeuralField, space: np.ndarray, t: float) -> np.ndarray:
    """Points of the space ``space`` ``(N, d - 1)`` at time ``t``: the time column inserted."""
    return np.insert(space, field.time_axis, t, axis=1)


def check_output(path: str | os.PathLike, field: NeuralField) -> Path:
    """``path`` as a file that can be written, and not the field's own file."""
    try:
        p = check_writable(path)
    except (OSError, ValueError) as exc:
        raise ExportError("output", str(exc)) from None
    not_the_source(p, field)
    return p


def not_the_source(p: Path, field: NeuralField, beside: str = "") -> None:
    source = getattr(field, "path", None)
    if source and p.exists() and Path(source).exists() and p.resolve() == Path(source).resolve():
        raise ExportError(
            "output",
            f"{str(p)!r}{beside} is the field's own file {source!r}; choose another path",
        )


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[str]:
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
