r"""The levels of a convergence study: nested grids solved in turn, each compared with the previous.

Level :math:`\ell` has :math:`r^\ell n` intervals per axis (and :math:`r^\ell` times the coarsest
level's time steps). Two successive levels are compared on the coarser one's nodes (and the
coarsest level's time levels) in the discrete L2 norm of the trapezoidal rule,
:math:`\|v\|^2 = \sum_j w_j v_j^2`; with extrapolation, each pair :math:`(u_h, u_{h/r})` also
gives its Richardson extrapolation (:func:`~.richardson.richardson_extrapolate`), and successive
extrapolations are compared in the same way. Only what is compared or returned is kept. On a
domain that is not a box the nodes outside it are NaN and left out of the norms (a node has the
same position, and so lies inside or outside alike, on every level).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ._grid import Grid
from ._spec import Spec
from .evolution import Recorder
from .richardson import richardson_extrapolate, richardson_factor
from .solution import LevelResult

__all__ = [
    "sample_steps",
    "stack_times",
    "quadrature_weights",
    "l2_norm",
    "StudyLevels",
    "solve_levels",
]

log = logging.getLogger("neuralpde.reference")

#: A level's values on its own nodes, on the previous level's, and those the result keeps.
_LevelValues = tuple[np.ndarray | None, np.ndarray, np.ndarray | None]


def sample_steps(steps: int, time_samples: int | None) -> np.ndarray:
    """The steps of ``steps`` whose time levels are kept: all, or ``time_samples`` evenly
    spaced (``steps`` a multiple of ``time_samples - 1``)."""
    if time_samples is None:
        return np.arange(steps + 1)
    return np.arange(0, steps + 1, steps // (time_samples - 1))


def stack_times(values: dict[int, np.ndarray], steps: np.ndarray) -> np.ndarray:
    """The arrays ``values[k]``, ``k`` in ``steps``, stacked along a new last (time) axis; each
    is dropped from ``values`` once copied, so the two never coexist in full."""
    first = values[int(steps[0])]
    out = np.empty((*first.shape, len(steps)), dtype=first.dtype)
    for i, k in enumerate(steps):
        out[..., i] = values.pop(int(k))
    return out


def quadrature_weights(axes: Sequence[np.ndarray], times: np.ndarray | None) -> list[np.ndarray]:
    r"""Per-axis trapezoidal-rule weights on the nodes ``axes`` (and the time levels ``times``):
    :math:`\int v^2 \approx \sum_j w_j v_j^2` with :math:`w` their outer product."""
    out = []
    for a in (*axes, *(() if times is None else (times,))):
        w = np.zeros(len(a))
        half = np.diff(a) / 2
        w[:-1] += half
        w[1:] += half
        out.append(w)
    return out


def l2_norm(v: np.ndarray, weights: Sequence[np.ndarray], skip_nan: bool = False) -> float:
    r"""The discrete L2 norm :math:`(\sum_j w_j v_j^2)^{1/2}`, ``w`` the outer product of the
    per-axis ``weights`` (one per axis of ``v``); with ``skip_nan``, over the nodes where ``v``
    is not NaN (a domain that is not a box: the nodes outside it are NaN)."""
    out = np.square(v)
    if skip_nan:
        out[np.isnan(out)] = 0.0
    for w in weights:
        out = np.tensordot(w, out, axes=(0, 0))
    return float(np.sqrt(out))


@dataclass
class StudyLevels:
    """What the levels of a study leave.

    ``rows`` has one :class:`LevelResult` per level (``difference`` not yet filled in);
    ``differences`` the absolute norms of successive levels' differences and ``norm`` the
    finest level's norm on the nodes of the finest pair; ``extrapolated_differences`` and
    ``extrapolated_norm`` the same for the sequence of extrapolations. ``top_values`` are the
    values on ``top_grid`` (``top_steps`` steps, the steps ``samples`` kept), the finest grid's,
    or with extrapolation the coarser one's of the finest pair, with ``fine_values`` the finest
    level's on its nodes. ``solver`` is the last level's linear solver.
    """

    rows: list[LevelResult] = field(default_factory=list)
    differences: list[float] = field(default_factory=list)
    norm: float = 0.0
    extrapolated_differences: list[float] = field(default_factory=list)
    extrapolated_norm: float | None = None
    top_values: np.ndarray | None = None
    fine_values: np.ndarray | None = None
    top_grid: Grid | None = None
    top_steps: int | None = None
    samples: np.ndarray | None = None
    solver: str | None = None


class _Levels:
    """The study's loop: what it was asked, and what it carries from one level to the next (the
    previous level's values and weights, the previous extrapolation, the finest pair)."""

    def __init__(
        self,
        spec: Spec,
        base: tuple[int, ...],
        levels: int,
        ratio: int,
        order: int,
        coarse_steps: int | None,
        time_samples: int | None,
        method: str,
        extrapolated: bool,
    ) -> None:
        self.spec, self.base, self.levels, self.ratio = spec, base, levels, ratio
        self.order, self.coarse_steps, self.method = order, coarse_steps, method
        self.extrapolated = extrapolated
        # The level whose grid carries the returned values; with extrapolation the finest level
        # is kept on that grid's nodes only.
        self.top = levels - 2 if extrapolated else levels - 1
        self.factor = richardson_factor(ratio, order)
        self.skip_nan = spec.irregular  # NaN outside a domain that is not a box
        self.on_previous = (slice(None, None, ratio),) * spec.box.dim  # nodes the previous has
        self.times = self.coarse_samples = None
        if spec.timed:
            self.times = np.linspace(spec.t_span[0], spec.t_span[1], coarse_steps + 1)
            self.coarse_samples = sample_steps(coarse_steps, time_samples)
        self.previous = self.previous_weights = self.rich = self.rich_weights = None
        self.finest = None
        self.result = StudyLevels()

    def solve(self, level: int) -> None:
        """Solve level ``level``, compare it with the previous one, and keep what is needed."""
        t_level = time.perf_counter()
        spec, result = self.spec, self.result
        s = self.ratio**level
        grid = Grid(spec.box, tuple(m * s for m in self.base), spec.ghost_faces)
        weights = quadrature_weights(grid.axes, self.times)
        last = level == self.levels - 1
        steps = None
        if spec.timed:
            steps = self.coarse_steps * s
            own, here, kept = self._evolution(level, grid, steps, s, last)
        else:
            own, here, kept = self._steady(level, grid, last)
        if level == self.top:
            result.top_values, result.top_grid, result.top_steps = kept, grid, steps
        elif last and self.extrapolated:
            result.fine_values = kept
        if self.previous is not None:
            self._compare(here)
        self.previous, self.previous_weights = own, weights
        del here, own
        wall = time.perf_counter() - t_level
        result.rows.append(
            LevelResult(
                n=grid.n,
                h=float(np.max(grid.h)),
                dt=None if steps is None else (spec.t_span[1] - spec.t_span[0]) / steps,
                steps=steps,
                difference=None,
                wall_time=wall,
            )
        )
        log.info(
            "%s: level %d n=%s steps=%s in %.3f s", spec.problem.name, level, grid.n, steps, wall
        )

    def _steady(self, level: int, grid: Grid, last: bool) -> _LevelValues:
        """``(own, here, kept)``: the level's values on its nodes (``None`` for the last), on
        the previous level's, and those it leaves to the result (``None`` if none)."""
        out, self.result.solver = self.spec.family.solve(
            self.spec, grid, self.order, None, None, self.method
        )
        own = None if last else out
        here = out[self.on_previous]
        kept = out if level == self.top else here.copy() if last else None
        return own, here, kept

    def _evolution(self, level: int, grid: Grid, steps: int, s: int, last: bool) -> _LevelValues:
        """:meth:`_steady` for an evolution problem, at the coarsest level's time levels: every
        level but the last is recorded on its own nodes; the last on the previous one's only,
        and, when it carries the returned values, on all its nodes at the samples."""
        common = np.arange(0, steps + 1, s)  # the coarsest level's time levels
        requests = {"on_previous" if last else "own": (common, self.ratio if last else 1)}
        if level == self.top:
            self.result.samples = self.coarse_samples * s
            if last:
                requests["top"] = (self.result.samples, 1)
        keep = Recorder(grid.shape, requests)
        out, self.result.solver = self.spec.family.solve(
            self.spec, grid, self.order, steps, keep, self.method
        )
        # the samples are among the stored (coarsest) time levels
        own = None if last else stack_times(out["own"], common)
        here = stack_times(out["on_previous"], common) if last else own[self.on_previous]
        if level == self.top:
            kept = (
                stack_times(out["top"], self.result.samples)
                if last
                else own[..., self.coarse_samples]
            )
        else:  # extrapolation, the last level: on the top grid's nodes
            kept = here[..., self.coarse_samples] if last else None
        return own, here, kept

    def _compare(self, here: np.ndarray) -> None:
        """Each pair of levels compared on the coarser one's nodes, by the trapezoidal rule; with
        extrapolation, the pair's extrapolation compared with the previous pair's."""
        previous, weights = self.previous, self.previous_weights
        self.result.differences.append(l2_norm(here - previous, weights, self.skip_nan))
        self.finest = (here, weights)
        if self.extrapolated:
            rich = richardson_extrapolate(here, previous, self.factor)
            if self.rich is not None:
                self.result.extrapolated_differences.append(
                    l2_norm(rich[self.on_previous] - self.rich, self.rich_weights, self.skip_nan)
                )
            self.rich, self.rich_weights = rich, weights

    def finish(self) -> StudyLevels:
        """The result, with the norms of the finest pair (and extrapolation); drops the rest."""
        self.result.norm = l2_norm(*self.finest, self.skip_nan)
        self.finest = None
        if self.extrapolated:
            self.result.extrapolated_norm = l2_norm(self.rich, self.rich_weights, self.skip_nan)
        self.rich = self.previous = None
        return self.result


def solve_levels(
    spec: Spec,
    base: tuple[int, ...],
    levels: int,
    ratio: int,
    order: int,
    coarse_steps: int | None,
    time_samples: int | None,
    method: str,
    extrapolated: bool,
) -> StudyLevels:
    """Solve ``levels`` nested grids of ``base * ratio**level`` intervals (``coarse_steps *
    ratio**level`` time steps) and compare the successive ones; see the module doc. The
    arguments are checked by the caller."""
    loop = _Levels(
        spec, base, levels, ratio, order, coarse_steps, time_samples, method, extrapolated
    )
    for level in range(levels):
        loop.solve(level)
    return loop.finish()
