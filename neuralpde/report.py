"""A validation report: ``report.md`` with the metrics and PNG figures of the compared fields.

Figures use :class:`matplotlib.figure.Figure` with the Agg canvas, never ``pyplot``, so no global
plotting state is touched.

* steady, one space dimension: the two curves and the pointwise error;
* steady, two or more space dimensions: solution, reference and ``|error|`` side by side (beyond
  two dimensions, the middle slice of the other axes);
* one space dimension and time: the same three panels as x-t images;
* two or more space dimensions and time: those panels at four evenly spaced times.

On a domain that is not a box the grid's points outside it are NaN: they are left blank and out
of the colour scales, and the frequency-band errors, which need the whole grid, are not defined
there, so the report has no band figure.

The figure of one file, without a comparison or with its error, is :func:`plot_file`
(:mod:`neuralpde.plots`, ``neuralpde plot``).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._arguments import check_path
from .plots import plot_figure, plot_file
from .reference.richardson import observed_order
from .validate import ValidationResult

__all__ = ["plot_figure", "plot_file", "write_report"]

log = logging.getLogger("neuralpde.report")

_SNAPSHOTS = 4
_BAND_LABELS = {"low": "|k| ≤ 4", "mid": "5 ≤ |k| ≤ 12", "high": "|k| ≥ 13"}


_FIGURE_FILES = frozenset({"fields.png", "fields_xt.png", "snapshots.png", "bands.png"})
"""The figures a report may have."""


class _Staged:
    """Files of one report, each written to a temporary file beside its target; :meth:`commit`
    renames them all into place once every one is written, and :meth:`discard` removes what
    is left, so a failed write leaves an earlier report whole, its text and figures together."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._pending: list[tuple[Path, Path]] = []

    def write(self, name: str, write: Callable[[Path], None]) -> None:
        """Write the file ``name`` through ``write(temporary path)``."""
        path = self.directory / name
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        self._pending.append((tmp, path))
        write(tmp)

    def save(self, fig: Figure, name: str) -> None:
        """Write ``fig`` as the PNG file ``name``."""
        FigureCanvasAgg(fig)
        self.write(name, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))

    def commit(self) -> None:
        """Rename every file into place, then remove the figures of an earlier report that this
        one does not have (a report of another kind of grid), so none is left unlinked."""
        written = set()
        while self._pending:
            tmp, path = self._pending.pop(0)
            os.replace(tmp, path)
            written.add(path.name)
        for name in sorted(_FIGURE_FILES - written):
            with contextlib.suppress(FileNotFoundError):
                (self.directory / name).unlink()

    def discard(self) -> None:
        for tmp, _ in self._pending:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self._pending.clear()


def _labels(result: ValidationResult) -> tuple[str, str]:
    ref = "reference (FD)" if result.against == "reference" else "exact solution"
    return "solution (network)", ref


def _middle_slices(result: ValidationResult, arrays: Sequence[np.ndarray]) -> tuple[list, str]:
    """Cut the extra space axes (beyond the first two) at their middle node."""
    n_space = len(result.names) - (result.time_axis is not None)
    index: list = [slice(None)] * len(result.names)
    where = []
    for i in range(2, n_space):
        j = len(result.axes[i]) // 2
        index[i] = j
        where.append(f"{result.names[i]} = {result.axes[i][j]:.3g}")
    return [a[tuple(index)] for a in arrays], ", ".join(where)


def _image(fig: Figure, ax, data: np.ndarray, x: np.ndarray, y: np.ndarray, **kw) -> None:
    hx = (x[-1] - x[0]) / max(len(x) - 1, 1) / 2  # pixels centred on the nodes
    hy = (y[-1] - y[0]) / max(len(y) - 1, 1) / 2
    im = ax.imshow(
        data.T,
        origin="lower",
        extent=(x[0] - hx, x[-1] + hx, y[0] - hy, y[-1] + hy),
        aspect="auto",
        interpolation="nearest",
        **kw,
    )
    fig.colorbar(im, ax=ax)


def _panels(
    fig: Figure,
    axs: Sequence,
    result: ValidationResult,
    u: np.ndarray,
    ref: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    xlabel: str,
    ylabel: str,
    vlim: tuple[float, float],
    elim: float,
    suffix: str = "",
) -> None:
    names = (*_labels(result), "|error|")
    for ax, data, title in zip(axs, (u, ref, np.abs(u - ref)), names, strict=True):
        if title == "|error|":
            _image(fig, ax, data, x, y, cmap="magma", vmin=0.0, vmax=elim or None)
        else:
            _image(fig, ax, data, x, y, cmap="viridis", vmin=vlim[0], vmax=vlim[1])
        ax.set_title(title + suffix, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)


def _field_figures(result: ValidationResult, staged: _Staged) -> list[tuple[str, str]]:
    """Write the field figures; returns ``(file name, caption)`` pairs."""
    names, axes, u, ref = result.names, result.axes, result.u, result.ref
    timed = result.time_axis is not None
    n_space = len(names) - timed
    # NaN marks grid points outside a domain that is not a box: left out of the colour scales
    vlim = (float(np.nanmin([u, ref])), float(np.nanmax([u, ref])))
    elim = float(np.nanmax(np.abs(u - ref)))
    lab_u, lab_ref = _labels(result)
    if n_space == 1 and not timed:
        fig = Figure(figsize=(11, 4), layout="constrained")
        ax1, ax2 = fig.subplots(1, 2)
        x = axes[0]
        ax1.plot(x, ref, "k-", lw=2.5, alpha=0.5, label=lab_ref)
        ax1.plot(x, u, "C1--", lw=1.5, label=lab_u)
        ax1.set_xlabel(names[0])
        ax1.set_ylabel("u")
        ax1.legend()
        ax1.set_title("solution and " + lab_ref, fontsize=10)
        err = np.abs(u - ref)
        ax2.plot(x, err, "C3-")
        if np.any(err > 0):
            ax2.set_yscale("log")
        ax2.set_xlabel(names[0])
        ax2.set_ylabel("|error|")
        ax2.set_title("pointwise |error|", fontsize=10)
        staged.save(fig, "fields.png")
        return [("fields.png", f"solution and {lab_ref} along {names[0]}, and the error")]
    if n_space == 1:
        fig = Figure(figsize=(15, 4.2), layout="constrained")
        axs = fig.subplots(1, 3)
        _panels(fig, axs, result, u, ref, axes[0], axes[1], names[0], names[1], vlim, elim)
        staged.save(fig, "fields_xt.png")
        return [("fields_xt.png", f"{names[0]}-{names[1]} images: solution, {lab_ref}, |error|")]
    (u2, ref2), where = _middle_slices(result, [u, ref])
    cut = f" at {where}" if where else ""
    x, y = axes[0], axes[1]
    if not timed:
        fig = Figure(figsize=(15, 4.2), layout="constrained")
        axs = fig.subplots(1, 3)
        _panels(fig, axs, result, u2, ref2, x, y, names[0], names[1], vlim, elim)
        if where:
            fig.suptitle(f"slice {where}")
        staged.save(fig, "fields.png")
        return [("fields.png", f"solution, {lab_ref} and |error|{cut}")]
    t = axes[-1]
    steps = sorted({int(round(v)) for v in np.linspace(0, len(t) - 1, min(_SNAPSHOTS, len(t)))})
    fig = Figure(figsize=(15, 3.8 * len(steps)), layout="constrained")
    grid = np.atleast_2d(fig.subplots(len(steps), 3))
    for row, k in zip(grid, steps, strict=True):
        _panels(
            fig,
            row,
            result,
            u2[..., k],
            ref2[..., k],
            x,
            y,
            names[0],
            names[1],
            vlim,
            elim,
            suffix=f", {names[-1]} = {t[k]:.3g}",
        )
    staged.save(fig, "snapshots.png")
    return [
        (
            "snapshots.png",
            f"solution, {lab_ref} and |error| at {len(steps)} times{cut}",
        )
    ]


def _band_figure(result: ValidationResult, staged: _Staged) -> tuple[str, str] | None:
    """The relative fRMSE by band; ``None`` (no figure) when they are not defined (a domain
    that is not a box: NaN outside it)."""
    m = result.metrics
    bands = list(_BAND_LABELS)
    values = [m[f"relative_frmse_{b}"] for b in bands]
    if not all(math.isfinite(v) for v in values):
        return None
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.bar([f"{b}\n{_BAND_LABELS[b]}" for b in bands], values, color=["C0", "C1", "C3"])
    if any(v > 0 for v in values):
        ax.set_yscale("log")
    if result.reference_error > 0:
        ax.axhline(result.reference_error, color="k", ls="--", lw=1, label="reference error")
        ax.legend()
    ax.set_ylabel("fRMSE / RMS(reference)")
    ax.set_title("error by spatial frequency band", fontsize=10)
    staged.save(fig, "bands.png")
    return "bands.png", "relative RMS error by spatial-frequency band"


def _fmt(v: object) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.3e}" if math.isfinite(v) else str(v)
    return str(v)


def _defined(v: float) -> str:
    """A metric in a table cell: ``—`` where it is not defined (NaN: a band error on a domain
    that is not a box)."""
    return f"{v:.3e}" if math.isfinite(v) else "—"


def _order(p: object) -> str:
    return f"{p:.2f}" if isinstance(p, float) and math.isfinite(p) else _fmt(p)


def _orders(rows: Sequence[Mapping], ratio: float) -> list[float | None]:
    """Observed orders of successive differences, ``None`` where one is missing or zero
    (:func:`~neuralpde.reference.richardson.observed_order`)."""
    out: list[float | None] = []
    prev = None
    for row in rows:
        diff = row["difference"]
        out.append(observed_order(prev, diff, ratio) if prev and diff and diff > 0 else None)
        prev = diff
    return out


def _markdown(result: ValidationResult, figures: list[tuple[str, str]]) -> str:
    m = result.metrics
    grid = " × ".join(
        f"{n} ∈ [{a.min():g}, {a.max():g}] ({len(a)})"
        for n, a in zip(result.names, result.axes, strict=True)
    )
    if result.tol is None:
        verdict = "not judged (no tolerance given)"
    elif result.passed:
        verdict = f"**PASS**: relative L2 {m['relative_l2']:.3e} ≤ tol {result.tol:.3e}"
    else:
        verdict = f"**FAIL**: relative L2 {m['relative_l2']:.3e} > tol {result.tol:.3e}"
    lines = [f"# Validation: {result.problem}", ""]
    lines.append(f"- solution: `{result.solution_path or '(in memory)'}`")
    if result.against == "reference":
        info = result.reference_info or {}
        src = f"`{result.reference_path}`" if result.reference_path else "(in memory)"
        lines += [
            f"- compared with: finite-difference reference {src}",
            f"- reference scheme: {info.get('scheme', '?')}",
            f"- reference estimated error (relative L2, Richardson): "
            f"{result.reference_error:.3e}; GCI {_fmt(info.get('gci'))}; observed order "
            f"{_order(info.get('observed_order'))} (formal {info.get('order', '?')})",
        ]
    else:
        stored = " stored in the solution file" if result.solution_path else ""
        lines.append(f"- compared with: the exact solution{stored}")
    lines += [f"- grid: {grid}", f"- result: {verdict}", ""]
    lines += ["| metric | value | relative to the reference's RMS |", "|---|---|---|"]
    lines.append(f"| relative L2 | {m['relative_l2']:.3e} | |")
    lines.append(f"| relative max | {m['relative_max']:.3e} | |")
    lines.append(f"| RMSE | {m['rmse']:.3e} | |")
    for band, label in _BAND_LABELS.items():
        cell = label.replace("|", r"\|")  # a pipe would end the table cell
        lines.append(
            f"| fRMSE {band} ({cell}) | {_defined(m['frmse_' + band])} | "
            f"{_defined(m['relative_frmse_' + band])} |"
        )
    if result.against == "reference":
        lines.append(f"| reference's estimated error | {result.reference_error:.3e} | |")
    if result.notes:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in result.notes]
    lines += _convergence_tables(result.reference_info or {})
    lines += ["", "## Figures", ""]
    for name, caption in figures:
        lines += [f"![{caption}]({name})", "", f"*{caption}*", ""]
    lines.append(
        "fRMSE: RMS error by spatial wavenumber band (FFT over space per time level, then RMS "
        "over time); the squares of the three bands add up to the RMSE² on the grid without "
        "its last node per space axis."
    )
    return "\n".join(lines) + "\n"


def _convergence_tables(info: Mapping) -> list[str]:
    """The reference's convergence table and, if extrapolated, that of its extrapolations, as
    Markdown lines (none without a table)."""
    lines: list[str] = []
    table = info.get("table")
    ratio = info.get("ratio", 2)
    if table:
        lines += [
            "",
            "## Reference convergence",
            "",
            "| n | h | dt | steps | difference | observed order |",
            "|---|---|---|---|---|---|",
        ]
        for row, order in zip(table, _orders(table, ratio), strict=True):
            diff = row["difference"]
            lines.append(
                f"| {'×'.join(map(str, row['n']))} | {row['h']:.4g} | {_fmt(row['dt'])} | "
                f"{_fmt(row['steps'])} | {_fmt(diff)} | "
                f"{'—' if order is None else f'{order:.2f}'} |"
            )
    ext = info.get("extrapolated_table")
    if ext:
        lines += [
            "",
            "The reference is the Richardson extrapolation of its two finest grids; its error "
            "estimate comes from the sequence of extrapolated solutions:",
            "",
            "| levels | on n | difference | observed order |",
            "|---|---|---|---|",
        ]
        for row, order in zip(ext, _orders(ext, ratio), strict=True):
            diff = row["difference"]
            lines.append(
                f"| {' + '.join(map(str, row['levels']))} | {'×'.join(map(str, row['n']))} | "
                f"{_fmt(diff)} | {'—' if order is None else f'{order:.2f}'} |"
            )
    return lines


def check_directory(directory: str | os.PathLike) -> Path:
    """Raise ``OSError`` naming ``directory`` unless it is, or can be created as, a writable
    directory (``TypeError`` when it is not a path); returns it as a ``Path``."""
    d = Path(check_path(directory, "directory", "a directory path"))
    if d.exists() and not d.is_dir():
        raise NotADirectoryError(f"report directory {str(d)!r} exists and is not a directory")
    base = d
    while not base.exists() and base != base.parent:  # the nearest part of the path that exists
        base = base.parent
    if base.exists() and not base.is_dir():
        raise NotADirectoryError(
            f"report directory {str(d)!r} cannot be created: {str(base)!r} is a file"
        )
    if base.is_dir() and not os.access(base, os.W_OK | os.X_OK):
        raise PermissionError(
            f"report directory {str(d)!r} cannot be written: {str(base)!r} is not writable"
        )
    if base.is_dir():  # access() does not see everything (root on /proc): try it
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".report.", dir=base))
        except OSError as exc:
            raise PermissionError(
                f"report directory {str(d)!r} cannot be written: {str(base)!r} is not "
                f"writable ({exc.strerror or exc})"
            ) from None
    return d


def write_report(result: ValidationResult, directory: str | os.PathLike) -> Path:
    """Write ``report.md`` and its PNG figures into ``directory`` (created if needed).

    Every file is first written beside its target, and all are renamed into place only once
    all are written, so a failed write leaves an earlier report untouched, text and figures;
    the figures of an earlier report that this one does not have are then removed (other files
    in ``directory`` are kept).

    Returns the path of ``report.md``.
    """
    if not isinstance(result, ValidationResult):
        raise TypeError(
            f"result must be a ValidationResult (from neuralpde.validate), got "
            f"{type(result).__name__}"
        )
    d = check_directory(directory)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(
            exc.errno, f"could not create report directory {str(d)!r}: {exc.strerror}"
        ) from exc
    staged = _Staged(d)
    try:
        figures = _field_figures(result, staged)
        bands = _band_figure(result, staged)
        if bands is not None:
            figures.append(bands)
        text = _markdown(result, figures)
        staged.write("report.md", lambda tmp: tmp.write_text(text, encoding="utf-8"))
        staged.commit()
    finally:
        staged.discard()
    path = d / "report.md"
    log.info("wrote the validation report %s", path)
    return path
