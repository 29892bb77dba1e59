"""The figure of one file, and the PNG file it is written to."""

from __future__ import annotations

import contextlib
import math
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .._arguments import check_path
from ..io import check_writable
from ..reference import ReferenceSolution
from ..solution import SolvedField
from ._data import compared, load_source, reference_data, solution_data
from ._draw import curve, figure_size, heading, maps
from ._options import (
    MAX_DPI,
    PlotArgumentError,
    checked_slices,
    checked_times,
    default_output,
    is_number,
)
from ._panels import panels

__all__ = ["plot_figure", "plot_file"]


def plot_figure(
    source: str | os.PathLike | SolvedField | ReferenceSolution,
    *,
    exact: bool = False,
    reference: str | os.PathLike | ReferenceSolution | None = None,
    slices: Mapping[str, float] | Iterable[tuple[str, float] | str] | None = None,
    times: Sequence[float] | str | None = None,
) -> Figure:
    """The figure of a solution or reference file (or a loaded solution or reference); see the
    module doc.

    Parameters
    ----------
    source:
        A solution file (``neuralpde solve``, ``neuralpde fit``) or reference file
        (``neuralpde reference``), or what :func:`neuralpde.load`, :func:`neuralpde.solve` or
        :func:`~neuralpde.reference.load_reference` return.
    exact:
        Draw the error against the exact solution stored in the solution file beside the
        field.
    reference:
        Draw the error against this reference (a file or a ``ReferenceSolution``) beside the
        field, on its grid.
    slices:
        For three or more space dimensions: the slices to draw, ``{"z": 0.5}``, ``[("z", 0.25),
        ("z", 0.75)]`` or ``["z=0.5"]``, one panel each (default: the middle of each axis).
    times:
        For two or more space dimensions and time: the times of the snapshots (default four,
        evenly spaced from the first to the last).

    Raises :class:`PlotArgumentError` (a ``ValueError``) naming the argument that does not fit
    the file, ``FileNotFoundError`` for a missing file, :class:`~neuralpde.io.FormatError` for
    one that is neither a solution nor a reference file.
    """
    if not isinstance(exact, (bool, np.bool_)):
        raise TypeError(f"exact must be True or False, got {exact!r}")
    if exact and reference is not None:
        raise PlotArgumentError("reference", "give at most one of exact=True and reference")
    slice_list, time_list = checked_slices(slices), checked_times(times)
    kind, obj = load_source(source)
    if kind == "reference":
        data = reference_data(obj)
        if exact:
            raise PlotArgumentError(
                "exact",
                f"{data.label} is a reference file, which holds no exact solution; plot a "
                "solution file with it",
            )
        if reference is not None:
            raise PlotArgumentError(
                "reference",
                f"{data.label} is itself a reference file: the error against a reference is "
                "drawn for a solution file",
            )
    else:
        data = solution_data(obj)
        if exact or reference is not None:
            data = compared(data, obj, bool(exact), reference)
    rows = panels(data, slice_list, time_list)
    fig = Figure(figsize=figure_size(data, rows), layout="constrained")
    FigureCanvasAgg(fig)
    if data.n_space == 1 and data.time_axis is None:
        curve(fig, data)
    else:
        maps(fig, data, rows)
    fig.suptitle(heading(data, reference), fontsize=11)
    return fig


def plot_file(
    source: str | os.PathLike | SolvedField | ReferenceSolution,
    output: str | os.PathLike | None = None,
    *,
    exact: bool = False,
    reference: str | os.PathLike | ReferenceSolution | None = None,
    slices: Mapping[str, float] | Iterable[tuple[str, float] | str] | None = None,
    times: Sequence[float] | str | None = None,
    dpi: int = 100,
) -> Path:
    """Write :func:`plot_figure`'s figure as a PNG file; returns its path.

    ``output`` defaults to the file's name with ``.png`` for its suffix, beside it
    (:func:`default_output`; needed for an object that is not a file). The file is written
    beside its target and renamed into place, so a failed write leaves an earlier one whole.
    """
    if not (is_number(dpi) and math.isfinite(dpi) and int(dpi) == dpi and 10 <= dpi <= MAX_DPI):
        raise PlotArgumentError("dpi", f"dpi must be an integer from 10 to {MAX_DPI}, got {dpi!r}")
    target = _output(source, output)
    fig = plot_figure(source, exact=exact, reference=reference, slices=slices, times=times)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        fig.savefig(tmp, dpi=int(dpi), format="png")
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return target


def _output(source: Any, output: str | os.PathLike | None) -> Path:
    """The checked path to write (before any work)."""
    path = getattr(source, "path", None) if not isinstance(source, (str, os.PathLike)) else source
    if output is None:
        if not path:
            raise PlotArgumentError(
                "output", "give the output path of an object not read from a file"
            )
        output = default_output(path)
    target = Path(check_path(output, "output", "a file path"))
    try:
        check_writable(target)
    except (OSError, ValueError) as exc:
        raise PlotArgumentError("output", str(exc)) from None
    if (
        path
        and target.exists()
        and Path(path).exists()
        and target.resolve() == Path(path).resolve()
    ):
        raise PlotArgumentError("output", f"{str(target)!r} is the plotted file itself")
    return target
