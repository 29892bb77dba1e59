"""Figures of one solution or reference file, with or without a comparison: ``neuralpde plot``.

:func:`plot_figure` draws a :class:`matplotlib.figure.Figure` (the Agg canvas, never ``pyplot``,
so no global plotting state is touched) and :func:`plot_file` writes it as a PNG file:

* one space dimension, steady: the curve ``u(x)``;
* one space dimension and time: an x-t map, time on the vertical axis;
* two space dimensions, steady: a colour map over the domain;
* two space dimensions and time: colour maps at a few times (default four, evenly spaced from the
  first to the last), one panel each, on one colour scale;
* three or more space dimensions: slices, one panel each (default: through the middle of each
  axis), the plane of the first two other space axes, any further axes at their middle.

Points outside a domain that is not a box are blank: the files hold NaN there, and a field
evaluated off the file's grid (a slice or a time between its nodes) is masked by the domain its
file describes (:func:`neuralpde.reference.nodes_inside`). With ``exact=True`` (the exact
solution a solution file stores on its grid) or ``reference=REF`` (a reference file: the network
is evaluated at its nodes) the pointwise error ``|u - u_ref|`` is drawn beside the field, on a
logarithmic colour scale; a problem fixed only up to a constant is compared with both means
removed, as :func:`neuralpde.validate.validate` does. The panels of a comparison lie on the
compared grid: a slice or time between its nodes is taken at the nearest node, and the panel's
title gives the value used.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure

from ._arguments import check_path
from .io import FormatError, check_writable, file_kind
from .reference import ReferenceSolution, load_reference, nodes_inside
from .solution import SavedField, Solution, SolvedField, load
from .validate import validate

__all__ = [
    "MAX_PANELS",
    "MAX_DPI",
    "PlotArgumentError",
    "default_output",
    "parse_slice",
    "parse_times",
    "plot_figure",
    "plot_file",
]

#: The most times, slices, and panels (times x slices) one figure takes.
MAX_PANELS = 24
#: The largest resolution a figure is written at, in dots per inch.
MAX_DPI = 600
_SNAPSHOTS = 4
_PANEL = (4.0, 3.5)  # inches per panel
# the error's colour scale spans at most this many decades below its largest value
_DECADES = 8
_SLACK = 1e-9  # of an axis's span: a value this close to a node or a bound is on it


class PlotArgumentError(ValueError):
    """An argument of :func:`plot_figure` that does not fit its file: :attr:`option` is the
    argument's name (``exact``, ``reference``, ``slices``, ``times``, ``output``, ``dpi``,
    ``source``) and :attr:`reason` the message without it."""

    def __init__(self, option: str, reason: str) -> None:
        super().__init__(f"{option}: {reason}")
        self.option = option
        self.reason = reason


# -- arguments -----------------------------------------------------------------------------------


def parse_slice(text: str) -> tuple[str, float]:
    """``"z=0.5"`` as ``("z", 0.5)``; ``ValueError`` for anything else (a finite number after
    one ``=``, a name before it)."""
    if not isinstance(text, str):
        raise TypeError(f"a slice must be a str AXIS=VALUE, got {type(text).__name__}")
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"expected AXIS=VALUE (e.g. z=0.5), got {text[:60]!r}")
    try:
        v = float(value)
    except ValueError:
        raise ValueError(f"expected AXIS=VALUE with a number VALUE, got {text[:60]!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"expected AXIS=VALUE with a finite VALUE, got {text[:60]!r}")
    return name, v


def parse_times(text: str) -> list[float]:
    """``"0,0.25,1"`` as ``[0.0, 0.25, 1.0]``; ``ValueError`` for an empty item or one that is
    not a finite number, or more than :data:`MAX_PANELS` times."""
    items = [s.strip() for s in str(text).split(",")]
    out = []
    for s in items:
        try:
            v = float(s)
        except ValueError:
            raise ValueError(
                f"expected numbers separated by commas (T1,T2,...), got {text[:60]!r}"
            ) from None
        if not math.isfinite(v):
            raise ValueError(f"expected finite times, got {s[:30]!r}")
        out.append(v)
    if len(out) > MAX_PANELS:
        raise ValueError(f"at most {MAX_PANELS} times, got {len(out)}")
    return out


def _slices(slices: Any) -> list[tuple[str, float]] | None:
    """``slices`` (``None``, a mapping of axis names to values, or an iterable of ``(name,
    value)`` pairs or ``"AXIS=VALUE"`` strings) as a list of pairs."""
    if slices is None:
        return None
    items = slices.items() if isinstance(slices, Mapping) else slices
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise TypeError(
            "slices must be a mapping {axis: value} or a sequence of (axis, value) pairs or "
            f"'AXIS=VALUE' strings, got {type(slices).__name__}"
        )
    out = []
    for item in items:
        try:
            name, value = parse_slice(item) if isinstance(item, str) else item
        except ValueError as exc:
            raise PlotArgumentError("slices", str(exc)) from None
        except TypeError:
            raise TypeError(
                f"a slice must be (axis, value) or 'AXIS=VALUE', got {item!r}"
            ) from None
        if not isinstance(name, str) or not _is_number(value) or not math.isfinite(value):
            raise PlotArgumentError(
                "slices", f"a slice is an axis name and a finite number, got {item!r}"
            )
        out.append((name, float(value)))
    if not out:
        raise PlotArgumentError("slices", "no slice given")
    if len(out) > MAX_PANELS:
        raise PlotArgumentError("slices", f"at most {MAX_PANELS} slices, got {len(out)}")
    return out


def _times(times: Any) -> list[float] | None:
    if times is None:
        return None
    if isinstance(times, str):
        try:
            return parse_times(times)
        except ValueError as exc:
            raise PlotArgumentError("times", str(exc)) from None
    values = list(np.atleast_1d(times)) if isinstance(times, np.ndarray) else times
    if not isinstance(values, Iterable):
        raise TypeError(f"times must be a sequence of numbers, got {type(times).__name__}")
    out = list(values)
    if not out:
        raise PlotArgumentError("times", "no time given")
    if not all(_is_number(v) and math.isfinite(v) for v in out):
        raise PlotArgumentError("times", f"times must be finite numbers, got {out!r}")
    if len(out) > MAX_PANELS:
        raise PlotArgumentError("times", f"at most {MAX_PANELS} times, got {len(out)}")
    return [float(v) for v in out]


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def default_output(path: str | os.PathLike) -> Path:
    """Where :func:`plot_file` writes without ``output``: the file's name with ``.png`` in
    place of its suffix, beside it."""
    p = Path(path)
    return p.with_name(p.stem + ".png")


# -- what is plotted -----------------------------------------------------------------------------


@dataclass
class _Data:
    """The values of one file on its grid (NaN outside the domain) and, for a comparison, the
    error on the same grid."""

    kind: str  # "solution" or "reference"
    label: str  # the file's name, or what the object is
    problem: str
    names: tuple[str, ...]
    axes: tuple[np.ndarray, ...]
    values: np.ndarray
    time_axis: int | None
    domain: dict
    field: SolvedField | None = None  # evaluated between the nodes (no comparison)
    error: np.ndarray | None = None
    against: str | None = None  # "exact" or "reference"
    means_removed: bool = False

    @property
    def n_space(self) -> int:
        return len(self.names) - (self.time_axis is not None)


def _load(source: Any) -> tuple[str, Any]:
    """``("solution", SolvedField)`` or ``("reference", ReferenceSolution)``."""
    if isinstance(source, SolvedField):
        return "solution", source
    if isinstance(source, ReferenceSolution):
        return "reference", source
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            "source must be the path of a solution or reference file, a loaded solution "
            "(neuralpde.load, neuralpde.solve) or a ReferenceSolution, got "
            f"{type(source).__name__}"
        )
    check_path(source, "source", "a file path")
    kind = file_kind(source)
    if kind == "reference":
        return kind, load_reference(source)
    return kind, load(source)


def _solution_data(sol: SolvedField) -> _Data:
    names = tuple(sol.names)
    desc = sol.description or {}
    domain = desc.get("domain") if isinstance(desc.get("domain"), dict) else {}
    if isinstance(sol, SavedField):
        coords, values = sol.grid
        axes = tuple(np.asarray(coords[n], dtype=np.float64) for n in names)
        label = Path(sol.path).name if sol.path else "solution"
        if values is None:
            values = _evaluate(sol, axes, domain, None)
    elif isinstance(sol, Solution):
        axes = tuple(np.asarray(a, dtype=np.float64) for a in sol.grid_axes())
        values = sol.on_domain_grid(axes)
        label = "solution"
    else:
        raise TypeError(f"cannot plot a {type(sol).__name__}: no grid to draw it on")
    return _Data(
        "solution",
        label,
        sol.problem_name,
        names,
        axes,
        np.asarray(values, dtype=np.float64),
        sol.time_axis,
        domain,
        field=sol,
    )


def _reference_data(ref: ReferenceSolution) -> _Data:
    desc = getattr(ref, "description", None) or {}
    domain = desc.get("domain") if isinstance(desc.get("domain"), dict) else {}
    timed = ref.steps is not None or domain.get("type") == "SpaceTime"
    path = getattr(ref, "path", "")
    return _Data(
        "reference",
        Path(path).name if path else "reference",
        str(ref.problem),
        tuple(ref.names),
        tuple(np.asarray(a, dtype=np.float64) for a in ref.axes),
        np.asarray(ref.values, dtype=np.float64),
        len(ref.names) - 1 if timed else None,
        domain,
    )


def _compared(data: _Data, sol: SolvedField, exact: bool, reference: Any) -> _Data:
    """``data`` on the grid of the comparison, with its error
    (:func:`neuralpde.validate.validate`'s values)."""
    option = "exact" if exact else "reference"
    if exact and not _has_exact(sol):
        raise PlotArgumentError(
            "exact",
            f"{data.label} has no exact solution (its problem {data.problem!r} defines none, so "
            "the file stores no 'exact' dataset): draw the error against a finite-difference "
            "reference instead",
        )
    try:
        result = validate(sol, exact=True) if exact else validate(sol, reference=reference)
    except ValueError as exc:
        if isinstance(exc, FormatError):
            raise
        raise PlotArgumentError(option, str(exc)) from None
    means_removed = bool(sol.determined_up_to_a_constant)
    values = result.u
    if means_removed:  # the field itself, not less its mean
        values = np.where(np.isnan(result.u), np.nan, sol.on_grid(result.axes))
    data.axes = tuple(result.axes)
    data.values = np.asarray(values, dtype=np.float64)
    data.error = np.abs(result.u - result.ref)
    data.against = result.against
    data.means_removed = means_removed
    data.field = None  # panels lie on the compared grid
    return data


def _has_exact(sol: SolvedField) -> bool:
    if isinstance(sol, SavedField):
        return sol.record.get("exact") is not None
    if isinstance(sol, Solution):
        return sol.problem.exact is not None
    return True  # let validate tell


def _inside(domain: dict, axes: Sequence[np.ndarray], time_axis: int | None) -> np.ndarray | None:
    """Which nodes of the grid ``axes`` lie in the described ``domain``; ``None`` when the
    description does not determine it (a mesh) or is damaged."""
    try:
        if time_axis is None:
            return nodes_inside(domain, axes)
        space = domain.get("space")
        if not isinstance(space, dict):
            return None
        inside = nodes_inside(space, [a for i, a in enumerate(axes) if i != time_axis])
    except (ValueError, KeyError, TypeError):
        return None
    if inside is None:
        return None
    return np.broadcast_to(np.expand_dims(inside, time_axis), tuple(len(a) for a in axes))


def _evaluate(
    sol: SolvedField, axes: Sequence[np.ndarray], domain: dict, fallback: np.ndarray | None
) -> np.ndarray:
    """The field on the grid ``axes``, NaN outside the domain: its problem's ``contains`` in
    memory, else the file's description of it, else the NaN of ``fallback`` (the file's values
    at the nearest nodes)."""
    if isinstance(sol, Solution):
        return sol.on_domain_grid(axes)
    values = sol.on_grid(axes)
    inside = _inside(domain, axes, sol.time_axis)
    if inside is None:
        if fallback is None:
            return values
        inside = ~np.isnan(fallback)
    return np.where(inside, values, np.nan)


# -- cuts: the planes the panels show -------------------------------------------------------------


@dataclass
class _Panel:
    """One panel: the plane of axes ``plane`` (one axis for a curve) with the others fixed."""

    plane: tuple[int, ...]
    fixed: dict[int, float]


def _nearest(a: np.ndarray, v: float) -> int:
    return int(np.argmin(np.abs(a - v)))


def _on_node(a: np.ndarray, v: float) -> bool:
    span = float(a.max() - a.min()) or 1.0
    return bool(abs(a[_nearest(a, v)] - v) <= _SLACK * span)


def _cut(data: _Data, panel: _Panel) -> tuple[np.ndarray, np.ndarray | None, dict[int, float]]:
    """The values (and error) on the panel's plane, and the values of the fixed axes used:
    the requested ones where the field is evaluated there, else those of the nearest nodes."""
    index: list[Any] = [slice(None)] * len(data.axes)
    for i, v in panel.fixed.items():
        index[i] = _nearest(data.axes[i], v)
    at_nodes = {i: float(data.axes[i][index[i]]) for i in panel.fixed}
    err = None if data.error is None else data.error[tuple(index)]
    off = [i for i, v in panel.fixed.items() if not _on_node(data.axes[i], v)]
    if data.field is None or not off:
        return data.values[tuple(index)], err, at_nodes
    axes = [np.array([panel.fixed[i]]) if i in panel.fixed else a for i, a in enumerate(data.axes)]
    fallback = data.values[tuple(slice(k, k + 1) if isinstance(k, int) else k for k in index)]
    values = _evaluate(data.field, axes, data.domain, fallback)
    keep = tuple(0 if i in panel.fixed else slice(None) for i in range(len(axes)))
    return values[keep], err, dict(panel.fixed)


def _bounds_check(data: _Data, i: int, v: float, option: str, what: str) -> None:
    a = data.axes[i]
    lo, hi = float(a.min()), float(a.max())
    slack = _SLACK * max(hi - lo, 1.0)
    if not lo - slack <= v <= hi + slack:
        raise PlotArgumentError(
            option,
            f"{data.names[i]} = {v:g} is outside the {what} of {data.label}, "
            f"{data.names[i]} in [{lo:g}, {hi:g}]",
        )


def _time_values(data: _Data, times: list[float] | None) -> list[float | None]:
    if data.time_axis is None:
        if times is not None:
            raise PlotArgumentError(
                "times", f"{data.label} holds a steady problem: it has no time axis"
            )
        return [None]
    t = data.axes[data.time_axis]
    if times is None:
        if data.n_space == 1:
            return [None]  # the x-t map shows every time
        times = [float(v) for v in np.linspace(t.min(), t.max(), _SNAPSHOTS)]
    elif data.n_space == 1:
        raise PlotArgumentError(
            "times",
            f"{data.label} has one space dimension: its x-t map shows every time; times "
            "choose the snapshots of two or more space dimensions",
        )
    for v in times:
        _bounds_check(data, data.time_axis, v, "times", "time span")
    if data.field is None:  # the panels lie on the grid's time levels: each once
        times = list(dict.fromkeys(float(t[_nearest(t, v)]) for v in times))
    return list(times)


def _panels(data: _Data, slices: list[tuple[str, float]] | None, times: Any) -> list[list[_Panel]]:
    """The panels, a row per time (one row when steady); checks ``slices`` and ``times``."""
    space = [i for i in range(len(data.names)) if i != data.time_axis]
    mids = {i: float(data.axes[i].min() + data.axes[i].max()) / 2 for i in space}
    cuts: list[tuple[tuple[int, ...], dict[int, float]]]
    if slices is not None:
        if data.n_space < 3:
            raise PlotArgumentError(
                "slices",
                f"slices cut a domain of three or more space dimensions; {data.label} has "
                f"{data.n_space} ({', '.join(data.names[i] for i in space)})",
            )
        for name, v in slices:
            if name not in data.names:
                raise PlotArgumentError(
                    "slices",
                    f"{data.label} has no axis {name!r}; its axes are {', '.join(data.names)}",
                )
            i = data.names.index(name)
            if i == data.time_axis:
                raise PlotArgumentError(
                    "slices", f"{name} is the time axis of {data.label}: choose times instead"
                )
            _bounds_check(data, i, v, "slices", "domain")
    if data.n_space <= 2:
        cuts = [(tuple(space), {})]
    else:
        chosen = slices or [(data.names[i], mids[i]) for i in space]
        cuts = []
        for name, v in chosen:
            k = data.names.index(name)
            rest = [i for i in space if i != k]
            fixed = {k: v, **{i: mids[i] for i in rest[2:]}}
            cuts.append((tuple(rest[:2]), fixed))
    tvals = _time_values(data, times)
    if data.time_axis is not None and data.n_space == 1:  # the x-t map
        return [[_Panel((space[0], data.time_axis), {})]]
    rows = []
    for t in tvals:
        extra = {} if t is None else {data.time_axis: t}
        rows.append([_Panel(plane, {**fixed, **extra}) for plane, fixed in cuts])
    if len(cuts) == 1:  # two space dimensions: the snapshots side by side
        rows = [[row[0] for row in rows]]
    if sum(len(r) for r in rows) > MAX_PANELS:
        raise PlotArgumentError(
            "times",
            f"{len(rows)} times x {len(rows[0])} slices is more than {MAX_PANELS} panels: "
            "choose fewer times or slices",
        )
    return rows


# -- drawing -------------------------------------------------------------------------------------


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


def _title(data: _Data, used: dict[int, float]) -> str:
    """``x = 0.5, t = 0.25``: the fixed axes of a panel, space first."""
    order = sorted(used, key=lambda i: (i == data.time_axis, i))
    return ", ".join(f"{data.names[i]} = {used[i]:.3g}" for i in order)


def _error_label(data: _Data) -> str:
    other = "u_exact" if data.against == "exact" else "u_ref"
    label = f"|u − {other}|"
    return label + " (means removed)" if data.means_removed else label


def _what(data: _Data, reference: Any) -> str:
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


def _curve(fig: Figure, data: _Data) -> None:
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


def _maps(fig: Figure, data: _Data, rows: list[list[_Panel]]) -> None:
    """Colour maps: the rows of panels, each followed by its row of errors (a single panel
    has its error beside it); one colour scale for the fields and one for the errors, with a
    colour bar for each row."""
    cuts = [[_cut(data, p) for p in row] for row in rows]
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


def _label(ax, data: _Data, panel: _Panel, what: str, used: dict[int, float]) -> None:
    ax.set_xlabel(data.names[panel.plane[0]])
    ax.set_ylabel(data.names[panel.plane[1]])
    where = _title(data, used)
    ax.set_title(what + (f", {where}" if where else ""), fontsize=10)


def _layout(data: _Data, rows: list[list[_Panel]]) -> tuple[int, int]:
    """Rows and columns of panels: a row of errors below each row of fields, or beside a
    single panel."""
    compare = data.error is not None
    single = len(rows) == 1 and len(rows[0]) == 1
    n_rows = len(rows) * (2 if compare and not single else 1)
    n_cols = len(rows[0]) * (2 if compare and single else 1)
    return n_rows, n_cols


def _figsize(data: _Data, rows: list[list[_Panel]]) -> tuple[float, float]:
    if data.n_space == 1 and data.time_axis is None:
        return (11.0 if data.error is not None else 6.5), 4.0
    n_rows, n_cols = _layout(data, rows)
    return _PANEL[0] * n_cols + 1.0, _PANEL[1] * n_rows + 0.5


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
    slice_list, time_list = _slices(slices), _times(times)
    kind, obj = _load(source)
    if kind == "reference":
        data = _reference_data(obj)
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
        data = _solution_data(obj)
        if exact or reference is not None:
            data = _compared(data, obj, bool(exact), reference)
    rows = _panels(data, slice_list, time_list)
    fig = Figure(figsize=_figsize(data, rows), layout="constrained")
    FigureCanvasAgg(fig)
    if data.n_space == 1 and data.time_axis is None:
        _curve(fig, data)
    else:
        _maps(fig, data, rows)
    fig.suptitle(_what(data, reference), fontsize=11)
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
    if not (_is_number(dpi) and math.isfinite(dpi) and int(dpi) == dpi and 10 <= dpi <= MAX_DPI):
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
