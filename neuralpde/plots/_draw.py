"""Drawing: the curve or the colour maps of the panels, and of their errors on a logarithmic
scale."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure

from ._data import PlotData
from ._panels import Panel, panel_cut

__all__ = ["curve", "figure_size", "heading", "maps"]
_PANEL = (4.0, 3.5)  # inches per panel


# the error's colour scale spans at most this many decades below its largest value
_DECADES = 8


def _cmap(name: str):
    return colormaps[name].with_extremes(bad=(0.0, 0.0, 0.0, 0.0))  # outside: the background


def _image(ax, data: np.ndarray, x: np.ndarray, y: np.ndarray, *, aspect: str, **kw):
    hx = (x[-1] - x[0]) / max(len(x) - 1, 1) / 2  # pixels centred on the nodes
    hy = (y[-1] - y[0]) / max(len(y) - 1, 1) / 2
    return ax.imshow(
        np.ma.masked_invalid(np.asarray(data, dtype=np.float64).T),
        origin="lower",
        extent=(x[0] - hx, x[-1] + hx, y[0] - hy, y[-1] + hy),
        aspect=aspect,
        interpolation="nearest",
        **kw,
    )


def _limits(arrays: Sequence[np.ndarray]) -> tuple[float, float] | None:
    finite = [a[np.isfinite(a)] for a in arrays]
    finite = [a for a in finite if a.size]
    if not finite:
        return None
    lo = min(float(a.min()) for a in finite)
    hi = max(float(a.max()) for a in finite)
    return lo, hi


def _error_norm(errors: Sequence[np.ndarray]) -> tuple[Normalize, list[np.ndarray], bool]:
    """A logarithmic scale over the positive errors, from their 2nd percentile (at most
    :data:`_DECADES` decades below the largest; a constraint built into the field makes some
    errors round-off) to the largest; the errors clipped to it from below (a zero error is drawn
    at the bottom of the scale, not left blank as outside the domain), and whether any was
    clipped. A linear scale when no error is positive."""
    positive = np.concatenate([e[np.isfinite(e) & (e > 0)].ravel() for e in errors])
    if not positive.size:
        return Normalize(0.0, 1.0), list(errors), False
    hi = float(positive.max())
    lo = max(float(np.percentile(positive, 2)), hi * 10.0**-_DECADES)
    if lo >= hi:
        lo = hi / 10
    clipped = any(bool(np.any(e < lo)) for e in errors)
    out = [np.where(np.isnan(e), np.nan, np.maximum(e, lo)) for e in errors]
    return LogNorm(lo, hi), out, clipped


def _title(data: PlotData, used: dict[int, float]) -> str:
    """``x = 0.5, t = 0.25``: the fixed axes of a panel, space first."""
    order = sorted(used, key=lambda i: (i == data.time_axis, i))
    return ", ".join(f"{data.names[i]} = {used[i]:.3g}" for i in order)


def _error_label(data: PlotData) -> str:
    other = "u_exact" if data.against == "exact" else "u_ref"
    label = f"|u − {other}|"
    return label + " (means removed)" if data.means_removed else label


def heading(data: PlotData, reference: Any) -> str:
    head = f"{data.problem or '(unnamed problem)'}"
    if data.kind == "reference":
        return f"{head}: finite-difference reference ({data.label})"
    what = f"{head}: neural solution ({data.label})"
    if data.against == "exact":
        return what + " and its error against the exact solution"
    if data.against == "reference":
        ref = getattr(reference, "path", None) or reference
        name = Path(ref).name if isinstance(ref, (str, os.PathLike)) else "the reference"
        return what + f" and its error against {name}"
    return what


def curve(fig: Figure, data: PlotData) -> None:
    """One space dimension, steady: the curve, and the error beside it."""
    x = data.axes[0]
    axs = fig.subplots(1, 2 if data.error is not None else 1, squeeze=False)[0]
    axs[0].plot(x, data.values, "C0-", lw=1.5)
    axs[0].set_xlabel(data.names[0])
    axs[0].set_ylabel("u")
    axs[0].set_title("u", fontsize=10)
    if data.error is not None:
        norm, (err,), _ = _error_norm([data.error])
        axs[1].plot(x, err, "C3-")
        if isinstance(norm, LogNorm):
            axs[1].set_yscale("log")
        axs[1].set_xlabel(data.names[0])
        axs[1].set_ylabel(_error_label(data))
        axs[1].set_title(_error_label(data), fontsize=10)


def maps(fig: Figure, data: PlotData, rows: list[list[Panel]]) -> None:
    """Colour maps: the rows of panels, each followed by its row of errors (a single panel
    has its error beside it); one colour scale for the fields and one for the errors, with a
    colour bar for each row."""
    cuts = [[panel_cut(data, p) for p in row] for row in rows]
    compare = data.error is not None
    single = len(rows) == 1 and len(rows[0]) == 1
    n_rows, n_cols = _layout(data, rows)
    grid = fig.subplots(n_rows, n_cols, squeeze=False)
    if compare and single:
        field_axes, error_axes = [grid[0][:1]], [grid[0][1:]]
    elif compare:
        field_axes, error_axes = list(grid[0::2]), list(grid[1::2])
    else:
        field_axes, error_axes = list(grid), []
    aspect = "auto" if data.time_axis is not None and data.n_space == 1 else "equal"
    vlim = _limits([c[0] for row in cuts for c in row]) or (0.0, 1.0)
    for axs, row, panels in zip(field_axes, cuts, rows, strict=True):
        for ax, (values, _, used), p in zip(axs, row, panels, strict=True):
            x, y = (data.axes[i] for i in p.plane)
            im = _image(
                ax, values, x, y, aspect=aspect, cmap=_cmap("viridis"), vmin=vlim[0], vmax=vlim[1]
            )
            _label(ax, data, p, "u", used)
        fig.colorbar(im, ax=list(axs), label="u", shrink=0.9)
    if not compare:
        return
    norm, errors, clipped = _error_norm([c[1] for row in cuts for c in row])
    it = iter(errors)
    for axs, row, panels in zip(error_axes, cuts, rows, strict=True):
        for ax, (_, _, used), p in zip(axs, row, panels, strict=True):
            x, y = (data.axes[i] for i in p.plane)
            im = _image(ax, next(it), x, y, aspect=aspect, cmap=_cmap("magma"), norm=norm)
            _label(ax, data, p, _error_label(data), used)
        fig.colorbar(
            im,
            ax=list(axs),
            label=_error_label(data),
            shrink=0.9,
            extend="min" if clipped else "neither",
        )


def _label(ax, data: PlotData, panel: Panel, what: str, used: dict[int, float]) -> None:
    ax.set_xlabel(data.names[panel.plane[0]])
    ax.set_ylabel(data.names[panel.plane[1]])
    where = _title(data, used)
    ax.set_title(what + (f", {where}" if where else ""), fontsize=10)


def _layout(data: PlotData, rows: list[list[Panel]]) -> tuple[int, int]:
    """Rows and columns of panels: a row of errors below each row of fields, or beside a
    single panel."""
    compare = data.error is not None
    single = len(rows) == 1 and len(rows[0]) == 1
    n_rows = len(rows) * (2 if compare and not single else 1)
    n_cols = len(rows[0]) * (2 if compare and single else 1)
    return n_rows, n_cols


def figure_size(data: PlotData, rows: list[list[Panel]]) -> tuple[float, float]:
    if data.n_space == 1 and data.time_axis is None:
        return (11.0 if data.error is not None else 6.5), 4.0
    n_rows, n_cols = _layout(data, rows)
    return _PANEL[0] * n_cols + 1.0, _PANEL[1] * n_rows + 0.5
