"""The arguments of :func:`~neuralpde.plots.plot_figure` and
:func:`~neuralpde.plots.plot_file`: their error, their limits and their checks."""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._arguments import parse_times as parse_number_times

__all__ = [
    "MAX_DPI",
    "MAX_PANELS",
    "PlotArgumentError",
    "checked_slices",
    "checked_times",
    "default_output",
    "is_number",
    "parse_slice",
    "parse_times",
]

#: The most times, slices, and panels (times x slices) one figure takes.
MAX_PANELS = 24
#: The largest resolution a figure is written at, in dots per inch.
MAX_DPI = 600


class PlotArgumentError(ValueError):
    """An argument of :func:`plot_figure` that does not fit its file: :attr:`option` is the
    argument's name (``exact``, ``reference``, ``slices``, ``times``, ``output``, ``dpi``,
    ``source``) and :attr:`reason` the message without it."""

    def __init__(self, option: str, reason: str) -> None:
        super().__init__(f"{option}: {reason}")
        self.option = option
        self.reason = reason


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
    """``0,0.25,1`` as a list of finite times, at most :data:`MAX_PANELS`
    (:func:`neuralpde._arguments.parse_times`)."""
    return parse_number_times(text, MAX_PANELS)


def checked_slices(slices: Any) -> list[tuple[str, float]] | None:
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
        if not isinstance(name, str) or not is_number(value) or not math.isfinite(value):
            raise PlotArgumentError(
                "slices", f"a slice is an axis name and a finite number, got {item!r}"
            )
        out.append((name, float(value)))
    if not out:
        raise PlotArgumentError("slices", "no slice given")
    if len(out) > MAX_PANELS:
        raise PlotArgumentError("slices", f"at most {MAX_PANELS} slices, got {len(out)}")
    return out


def checked_times(times: Any) -> list[float] | None:
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
    if not all(is_number(v) and math.isfinite(v) for v in out):
        raise PlotArgumentError("times", f"times must be finite numbers, got {out!r}")
    if len(out) > MAX_PANELS:
        raise PlotArgumentError("times", f"at most {MAX_PANELS} times, got {len(out)}")
    return [float(v) for v in out]


def is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def default_output(path: str | os.PathLike) -> Path:
    """Where :func:`plot_file` writes without ``output``: the file's name with ``.png`` in
    place of its suffix, beside it."""
    p = Path(path)
    return p.with_name(p.stem + ".png")
