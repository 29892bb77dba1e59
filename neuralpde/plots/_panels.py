"""Cuts: the planes the panels show, with the slices and times checked against the file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._data import PlotData, evaluate_on_grid
from ._options import MAX_PANELS, PlotArgumentError

__all__ = ["Panel", "panel_cut", "panels"]
_SNAPSHOTS = 4


_SLACK = 1e-9  # of an axis's span: a value this close to a node or a bound is on it


@dataclass
class Panel:
    """One panel: the plane of axes ``plane`` (one axis for a curve) with the others fixed."""

    plane: tuple[int, ...]
    fixed: dict[int, float]


def _nearest(a: np.ndarray, v: float) -> int:
    return int(np.argmin(np.abs(a - v)))


def _on_node(a: np.ndarray, v: float) -> bool:
    span = float(a.max() - a.min()) or 1.0
    return bool(abs(a[_nearest(a, v)] - v) <= _SLACK * span)


def panel_cut(
    data: PlotData, panel: Panel
) -> tuple[np.ndarray, np.ndarray | None, dict[int, float]]:
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
    values = evaluate_on_grid(data.field, axes, data.domain, fallback)
    keep = tuple(0 if i in panel.fixed else slice(None) for i in range(len(axes)))
    return values[keep], err, dict(panel.fixed)


def _bounds_check(data: PlotData, i: int, v: float, option: str, what: str) -> None:
    a = data.axes[i]
    lo, hi = float(a.min()), float(a.max())
    slack = _SLACK * max(hi - lo, 1.0)
    if not lo - slack <= v <= hi + slack:
        raise PlotArgumentError(
            option,
            f"{data.names[i]} = {v:g} is outside the {what} of {data.label}, "
            f"{data.names[i]} in [{lo:g}, {hi:g}]",
        )


def _time_values(data: PlotData, times: list[float] | None) -> list[float | None]:
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


def panels(data: PlotData, slices: list[tuple[str, float]] | None, times: Any) -> list[list[Panel]]:
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
        return [[Panel((space[0], data.time_axis), {})]]
    rows = []
    for t in tvals:
        extra = {} if t is None else {data.time_axis: t}
        rows.append([Panel(plane, {**fixed, **extra}) for plane, fixed in cuts])
    if len(cuts) == 1:  # two space dimensions: the snapshots side by side
        rows = [[row[0] for row in rows]]
    if sum(len(r) for r in rows) > MAX_PANELS:
        raise PlotArgumentError(
            "times",
            f"{len(rows)} times x {len(rows[0])} slices is more than {MAX_PANELS} panels: "
            "choose fewer times or slices",
        )
    return rows
