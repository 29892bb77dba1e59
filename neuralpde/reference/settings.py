"""The checks of a finite-difference reference's settings, in one place.

Each setting has one check here (:func:`check_counts` for ``n``, :func:`check_levels`,
:func:`check_ratio`, :func:`check_order`, :func:`check_dt`, :func:`check_time_samples`,
:func:`check_method`, :func:`check_extrapolate`); each message names the setting, what it must
be and what it got. A :class:`~neuralpde.reference.Study` runs them once, when it is made (the
API, reference files and their checksums, problem files and ``neuralpde reference`` all make
one); :func:`check_settings` runs them for :func:`~neuralpde.reference.solve_fd`'s one grid.
Whether ``n`` fits a problem's space axes is checked where the problem is known
(:func:`per_axis`), whether ``dt`` and ``time_samples`` apply to it by
:func:`check_evolution_only`, and the size of the grids they give by
:func:`neuralpde._arguments.check_grid_nodes`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .._arguments import as_number

__all__ = [
    "EXTRAPOLATION_LEVELS",
    "METHODS",
    "Settings",
    "check_counts",
    "check_dt",
    "check_evolution_only",
    "check_extrapolate",
    "check_extrapolation",
    "check_intervals",
    "check_levels",
    "check_method",
    "check_order",
    "check_ratio",
    "check_settings",
    "check_time_samples",
    "per_axis",
]

#: The fewest levels of an extrapolated study: ``L`` levels give ``L - 1`` extrapolations, and
#: two of their differences give an order.
EXTRAPOLATION_LEVELS = 4

#: The linear solvers :func:`~neuralpde.reference.solve_fd` takes.
METHODS = ("auto", "dst", "lu")


@dataclass(frozen=True)
class Settings:
    """Checked settings of a study (or of one grid: ``levels``, ``ratio`` and ``extrapolate``
    at their defaults): ``n`` has one count of intervals per space axis."""

    n: tuple[int, ...]
    levels: int
    ratio: int
    order: int
    dt: float | None
    time_samples: int | None
    extrapolate: bool

    def canonical(self) -> dict[str, Any]:
        """The settings as a reference file stores them and its checksum covers them."""
        return {**asdict(self), "n": list(self.n)}


def _is_int(value: object, low: int) -> bool:
    """Whether ``value`` is a Python or NumPy integer (not a bool) of at least ``low``."""
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= low


def check_counts(n: object, dim: int | None = None) -> int | tuple[int, ...]:
    """``n`` (one count of intervals, or one per space axis) as an int or a tuple of ints, each
    at least 2; with ``dim``, a tuple must have ``dim`` of them (else any number but none)."""
    axes = "a sequence of ints" if dim is None else f"{dim} ints"
    wrong = ValueError(f"n must be an int or {axes} (one per space axis), got {n!r}")
    if np.isscalar(n):
        counts: tuple = (n,)
    else:
        try:
            counts = tuple(n)  # type: ignore[arg-type]
        except TypeError:  # not a number nor a sequence of them (None, a 0-d tensor)
            raise wrong from None
        if not counts or (dim is not None and len(counts) != dim):
            raise wrong
    if not all(_is_int(c, 2) for c in counts):
        raise ValueError(f"n must give at least 2 intervals per axis (ints >= 2), got {n!r}")
    return int(n) if np.isscalar(n) else tuple(int(c) for c in counts)  # type: ignore[arg-type]


def per_axis(counts: int | tuple[int, ...], dim: int) -> tuple[int, ...]:
    """Checked ``counts`` (:func:`check_counts`) as one count per each of ``dim`` space axes."""
    if isinstance(counts, int):
        return (counts,) * dim
    if len(counts) != dim:
        raise ValueError(
            f"n must be an int or {dim} ints (one per space axis), got {list(counts)!r}"
        )
    return counts


def check_intervals(n: object, dim: int) -> tuple[int, ...]:
    """``n`` (one count of intervals, or one per space axis) as ``dim`` ints, each at least 2."""
    return per_axis(check_counts(n, dim), dim)


def check_levels(levels: object) -> int:
    """``levels`` after checking that it is an int of at least 3 (two differences give an
    order)."""
    if not _is_int(levels, 3):
        raise ValueError(
            f"levels must be an int >= 3 (two differences give an order), got {levels!r}"
        )
    return int(levels)  # type: ignore[call-overload]


def check_ratio(ratio: object) -> int:
    """``ratio`` after checking that it is an int of at least 2 (nested grids)."""
    if not _is_int(ratio, 2):
        raise ValueError(f"ratio must be an int >= 2 (nested grids), got {ratio!r}")
    return int(ratio)  # type: ignore[call-overload]


def check_order(order: object) -> int:
    """``order`` after checking that it is 2 or 4."""
    if as_number(order) not in (2, 4):
        raise ValueError(f"order must be 2 or 4, got {order!r}")
    return int(order)  # type: ignore[call-overload]


def check_time_samples(time_samples: object) -> int | None:
    """``time_samples`` after checking that it is ``None`` or an int of at least 2."""
    if time_samples is None:
        return None
    if not _is_int(time_samples, 2):
        raise ValueError(f"time_samples must be an int >= 2 or None, got {time_samples!r}")
    return int(time_samples)  # type: ignore[call-overload]


def check_extrapolate(extrapolate: object) -> bool:
    """``extrapolate`` after checking that it is a bool (NumPy's too)."""
    if not isinstance(extrapolate, (bool, np.bool_)):
        raise ValueError(f"extrapolate must be True or False, got {extrapolate!r}")
    return bool(extrapolate)


def check_dt(dt: object) -> float | None:
    """A time step ``dt`` as a ``float`` (``None``, the default choice, as it is), after
    checking that it is a positive finite number (NumPy scalars too; not a bool)."""
    if dt is None:
        return None
    step = as_number(dt)
    if step is None or not 0 < step < math.inf:
        raise ValueError(
            "dt must be a positive finite number (an int or float, NumPy scalars too) or None, "
            f"got {type(dt).__name__} {dt!r}"
        )
    return step


def check_method(method: object) -> str:
    """``method`` after checking that it is one of :data:`METHODS`."""
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be 'auto', 'dst' or 'lu', got {method!r}")
    return method  # type: ignore[return-value]


def check_settings(
    dim: int,
    n: int | Sequence[int],
    *,
    levels: int = 3,
    ratio: int = 2,
    order: int = 2,
    dt: float | None = None,
    time_samples: int | None = None,
    extrapolate: bool = False,
) -> Settings:
    """The settings of a reference on ``dim`` space axes, checked one by one (not against each
    other, nor against a problem: see :func:`check_extrapolation`,
    :func:`check_evolution_only`)."""
    return Settings(
        n=check_intervals(n, dim),
        levels=check_levels(levels),
        ratio=check_ratio(ratio),
        order=check_order(order),
        dt=check_dt(dt),
        time_samples=check_time_samples(time_samples),
        extrapolate=check_extrapolate(extrapolate),
    )


def check_extrapolation(levels: int, extrapolate: bool) -> None:
    """Refuse ``extrapolate`` with fewer than :data:`EXTRAPOLATION_LEVELS` levels."""
    if extrapolate and levels < EXTRAPOLATION_LEVELS:
        raise ValueError(
            f"extrapolate=True needs levels >= {EXTRAPOLATION_LEVELS} (L levels give L - 1 "
            "extrapolated solutions, and two of their differences give an order), got "
            f"levels={levels}"
        )


def check_evolution_only(
    timed: bool, problem: str, *, dt: object = None, time_samples: object = None
) -> None:
    """Refuse ``time_samples`` or ``dt`` (given, not ``None``) for the steady problem named
    ``problem`` (``timed`` false)."""
    if timed:
        return
    if time_samples is not None:
        raise ValueError(f"time_samples applies to evolution problems only; {problem!r} is steady")
    if dt is not None:
        raise ValueError(f"dt applies to evolution problems only; {problem!r} is steady")
