"""The fit: options checked, data read, sizes tried until the target is met."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence

from .. import limits
from .._arguments import as_number, check_int, check_seconds, check_seed, shown
from ._data import Data, read_data
from ._frequency import data_frequencies, siren_for
from ._problem import FitProblem, prepare
from ._result import FittedField, build_result
from ._train import Size, parameter_count, rows_for

__all__ = ["DEFAULT_TARGET", "WIDTHS", "fit"]

log = logging.getLogger("neuralpde.fit")

#: the widths tried, in order, when no width is given
WIDTHS = (16, 24, 32, 48, 64, 96, 128)
#: the most of the time left that a size may take when a larger one follows
_SIZE_SHARE = 0.5
#: the default target when neither a target nor a width is given
DEFAULT_TARGET = 1e-4


def _check_options(
    target: object,
    width: object,
    depth: object,
    seconds: object,
    holdout: object,
    supervise: object,
) -> tuple[float | None, int | None, int, float, float]:
    if target is not None:
        t = as_number(target)
        if t is None or not (math.isfinite(t) and t > 0):
            raise ValueError(
                f"target must be a positive relative L2 error (e.g. 1e-4), got {shown(target)}"
            )
        target = t
    if width is not None:
        width = check_int(width, "width", 1, limits.MAX_WIDTH)
    depth = check_int(2 if depth is None else depth, "depth", 1, limits.MAX_DEPTH)
    seconds = check_seconds(seconds)
    h = as_number(holdout)
    if h is None or not 0 <= h <= 0.9:
        raise ValueError(
            f"holdout must be the fraction of points held out, from 0 to 0.9, got {shown(holdout)}"
        )
    if supervise not in (None, "gradient"):
        raise ValueError(f"supervise must be None or 'gradient', got {shown(supervise)}")
    return target, width, depth, seconds, float(h)


def fit(
    data: object,
    *,
    axes: Sequence | None = None,
    dataset: str | None = None,
    names: Sequence[str] | None = None,
    target: float | None = None,
    width: int | None = None,
    depth: int | None = None,
    seconds: float = 60.0,
    seed: int = 0,
    holdout: float = 0.1,
    supervise: str | None = None,
) -> FittedField:
    r"""Fit a float64 SIREN to ``data``; returns a :class:`FittedField` (``.save(path)``).

    Parameters
    ----------
    data, axes, dataset, names:
        What to fit and how to read it (:func:`read_data`): a :class:`~neuralpde.GridData`, an
        array or ``.npy`` file with ``axes`` (per axis its coordinates or ``(lo, hi)``), an
        HDF5/netCDF-4 file's ``dataset`` (default ``"u"``), a mesh file's point data
        ``dataset``, or a :class:`Data`.
    target:
        The relative :math:`L^2` error on the held-out points at which to stop (default
        ``1e-4`` when no ``width`` is given). Without ``width`` the network grows through
        :data:`WIDTHS` until it is met.
    width, depth:
        A fixed size (``depth`` also sets the depth of the sizes grown; default 2).
    seconds:
        Wall-time budget of the whole fit.
    seed:
        Seeds the networks' initialisation, the held-out points and the subsets.
    holdout:
        Fraction of the points (0 to 0.9) kept out of training to measure the error.
    supervise:
        ``"gradient"``: fit the finite-difference gradient of gridded data too.
    """
    started = time.perf_counter()
    target, width, depth, seconds, holdout = _check_options(
        target, width, depth, seconds, holdout, supervise
    )
    seed = check_seed(seed)
    data = read_data(data, axes=axes, dataset=dataset, names=names)
    _check_supervision(data, supervise)
    if width is None and target is None:
        target = DEFAULT_TARGET
    deadline = started + seconds
    prob = prepare(data, holdout, seed, supervise)
    freqs = data_frequencies(data)
    sizes = _sizes(data, width, depth)
    tried, chosen = _train_sizes(sizes, data, prob, freqs, seed, target, started, deadline)
    return build_result(
        chosen, tried, data, prob, freqs, target, seconds, holdout, supervise, seed, started
    )


def _check_supervision(data: Data, supervise: str | None) -> None:
    """Gradient supervision needs gridded data, 3 or more points along every axis."""
    if supervise == "gradient" and not data.gridded:
        raise ValueError(
            "supervise='gradient' needs gridded data (its gradient is taken by finite "
            f"differences on the grid); {data.source!r} holds scattered points"
        )
    if supervise == "gradient" and min(data.shape) < 3:
        raise ValueError("supervise='gradient' needs 3 or more grid points along every axis")


def _sizes(data: Data, width: int | None, depth: int) -> list[tuple[int, int]]:
    """The (width, depth) to try: the given width, else the :data:`WIDTHS` whose networks hold
    no more numbers than the data (the smallest, with a warning, when none does)."""
    n_values, d = len(data.values), data.dim
    if width is not None:
        return [(width, depth)]
    sizes = [(w, depth) for w in WIDTHS if parameter_count(w, depth, d) <= n_values]
    if not sizes:
        log.warning(
            "the smallest network (width %d, depth %d: %d numbers) holds more numbers than "
            "the %d data values: it compresses nothing",
            WIDTHS[0],
            depth,
            parameter_count(WIDTHS[0], depth, d),
            n_values,
        )
        sizes = [(WIDTHS[0], depth)]
    return sizes


def _train_sizes(
    sizes: list[tuple[int, int]],
    data: Data,
    prob: FitProblem,
    freqs: list[float],
    seed: int,
    target: float | None,
    started: float,
    deadline: float,
) -> tuple[list[Size], Size]:
    """Train the ``sizes`` in turn until one meets ``target`` (each but the last with at most
    ``_SIZE_SHARE`` of the time left); returns the sizes tried and the one chosen: the one that
    met the target, else the one of least error."""
    n_values, n_train = len(data.values), len(prob.v_train)
    tried: list[Size] = []
    for k, (w, dp) in enumerate(sizes):
        now = time.perf_counter()
        if tried and now >= deadline:
            break
        spec = siren_for(freqs, w, dp)
        rows = rows_for(parameter_count(w, dp, data.dim), n_train)
        size = Size(prob, spec, data, seed, rows)
        last = k == len(sizes) - 1
        share = deadline if last else now + _SIZE_SHARE * (deadline - now)
        log.info(
            "fitting SIREN %dx%d (w0 %.3g, %d numbers, compression %.1fx) on %d of %d training "
            "points",
            dp,
            w,
            spec.w0,
            size.count,
            n_values / size.count,
            rows,
            n_train,
        )
        size.train(share, target, started, grow=not last)
        tried.append(size)
        log.info(
            "  %s after %d steps, %.1f s: error %.3e (%s)",
            size.status,
            size.steps,
            size.seconds,
            size.best,
            "held out" if len(prob.v_hold) else "training points",
        )
        if size.status == "converged":
            return tried, size
    return tried, min(tried, key=lambda s: s.best)
