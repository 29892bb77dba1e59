"""The entry points: :func:`solve_fd` (one grid) and :func:`convergence_study` (several)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence

import numpy as np

from ..problem import Problem
from ._grid import Grid
from ._spec import Spec, analyse
from .evolution import cfl_number, max_wave_speed, solve_heat, solve_wave
from .solution import FDSolution, LevelResult, ReferenceSolution
from .steady import check_resonance, solve_steady

__all__ = ["solve_fd", "convergence_study"]

log = logging.getLogger("neuralpde.reference")

_WAVE_CFL_FRACTION = 0.5


def _counts(n: int | Sequence[int], d: int) -> tuple[int, ...]:
    counts = (n,) * d if np.isscalar(n) else tuple(n)
    if len(counts) != d:
        raise ValueError(f"n must be an int or {d} ints (one per space axis), got {n!r}")
    out = []
    for c in counts:
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 2:
            raise ValueError(f"n must give at least 2 intervals per axis, got {n!r}")
        out.append(int(c))
    return tuple(out)


def _check_order(spec: Spec, order: int) -> None:
    if order not in (2, 4):
        raise ValueError(f"order must be 2 or 4, got {order!r}")
    if order == 4 and spec.timed:
        raise NotImplementedError(
            f"order=4 is available for steady problems only; {type(spec.equation).__name__} "
            "is solved to second order (Crank-Nicolson / leapfrog)"
        )
    if order == 4 and spec.divergence_form:
        raise NotImplementedError("order=4 is not available in divergence form")


def _scheme(spec: Spec, order: int, solver: str) -> str:
    if spec.kind in ("poisson", "helmholtz"):
        space = (
            "central 2nd order, (2d+1)-point Laplacian"
            if order == 2
            else "compact 4th order Mehrstellen (3^d-point stencil, corrected right-hand side)"
        )
        return f"{spec.kind}: {space}; {solver}"
    lap = "conservative 2nd-order Laplacian" if spec.divergence_form else "2nd-order Laplacian"
    if spec.kind == "heat":
        return f"heat: Crank-Nicolson + {lap}; {solver}"
    return f"wave: leapfrog (2nd-order first step) + {lap}"


def _default_steps(spec: Spec, grid: Grid, dt: float | None) -> int:
    """Time steps for ``grid``: ``dt`` rounded down to land on ``t1``, or the default choice."""
    t0, t1 = spec.t_span
    T = t1 - t0
    if dt is not None:
        if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not 0 < dt < math.inf:
            raise ValueError(f"dt must be a positive number, got {dt!r}")
        if spec.kind == "wave":
            cfl = cfl_number(max_wave_speed(spec, grid), dt, grid.h)
            if cfl > 1 + 1e-12:
                limit = dt / cfl
                raise ValueError(
                    f"dt={dt:.6g} is unstable for leapfrog on this grid: the CFL number "
                    f"|c| dt sqrt(sum 1/h^2) = {cfl:.4g} exceeds 1; use dt <= {limit:.6g} "
                    "(or dt=None for half of that)"
                )
        return max(1, math.ceil(T / dt * (1 - 1e-12)))
    if spec.kind == "wave":
        speed = max_wave_speed(spec, grid)
        if speed == 0:
            return max(1, math.ceil(T / float(np.max(grid.h))))
        dt_max = 1.0 / (speed * math.sqrt(float(np.sum(1.0 / grid.h**2))))
        return max(1, math.ceil(T / (_WAVE_CFL_FRACTION * dt_max) * (1 - 1e-12)))
    # Heat: Crank-Nicolson is unconditionally stable; dt ~ h keeps the error O(h^2).
    return max(1, math.ceil(T / float(np.max(grid.h)) * (1 - 1e-12)))


def _round_up(steps: int, multiple: int) -> int:
    return -(-steps // multiple) * multiple


def _check_options(spec: Spec, time_samples: int | None, method: str) -> None:
    if method not in ("auto", "dst", "lu"):
        raise ValueError(f"method must be 'auto', 'dst' or 'lu', got {method!r}")
    if time_samples is not None and not spec.timed:
        raise ValueError("time_samples applies to evolution problems only")
    _check_samples(time_samples)


def _check_samples(time_samples: int | None) -> None:
    if time_samples is not None and (
        isinstance(time_samples, bool)
        or not isinstance(time_samples, (int, np.integer))
        or time_samples < 2
    ):
        raise ValueError(f"time_samples must be an int >= 2 or None, got {time_samples!r}")


def _run(
    spec: Spec, grid: Grid, order: int, steps: int | None, keep: np.ndarray | None, method: str
) -> tuple[np.ndarray | dict[int, np.ndarray], str]:
    if spec.kind in ("poisson", "helmholtz"):
        return solve_steady(spec, grid, order, method)
    if spec.kind == "heat":
        return solve_heat(spec, grid, steps, keep, method)
    if method == "dst":
        raise ValueError("method='dst' applies to implicit solves; the wave solver is explicit")
    return solve_wave(spec, grid, steps, keep)


def _sample_steps(steps: int, time_samples: int | None) -> np.ndarray:
    if time_samples is None:
        return np.arange(steps + 1)
    return np.arange(0, steps + 1, steps // (time_samples - 1))


def _package(
    spec: Spec,
    grid: Grid,
    order: int,
    steps: int | None,
    out,
    solver: str,
    wall: float,
    samples: np.ndarray | None,
) -> dict:
    names = spec.problem.domain.names
    if spec.timed:
        t0, t1 = spec.t_span
        times = np.linspace(t0, t1, steps + 1)[samples]
        values = np.stack([out[int(k)] for k in samples], axis=-1)
        axes = (*grid.axes, times)
        dt = (t1 - t0) / steps
    else:
        values, axes, dt = out, grid.axes, None
    return dict(
        axes=tuple(axes),
        values=values,
        names=tuple(names),
        scheme=_scheme(spec, order, solver),
        order=order,
        n=grid.n,
        dt=dt,
        steps=steps,
        wall_time=wall,
        problem=spec.problem.name,
    )


def solve_fd(
    problem: Problem,
    n: int | Sequence[int],
    order: int = 2,
    dt: float | None = None,
    *,
    time_samples: int | None = None,
    method: str = "auto",
) -> FDSolution:
    """Solve ``problem`` by finite differences on a uniform grid of ``n`` intervals per axis.

    Parameters
    ----------
    problem:
        A :class:`~neuralpde.Problem` on a ``Box`` (Poisson, Helmholtz) or ``SpaceTime`` of a
        ``Box`` (Heat, Wave) with Dirichlet conditions on every face.
    n:
        Intervals per space axis (``n + 1`` nodes, boundary included); an int or one per axis.
    order:
        2, or 4 (steady problems: the compact Mehrstellen scheme).
    dt:
        Time step (evolution problems); rounded down so that ``t1`` is reached exactly. Default:
        ``dt ~ h`` (heat), half the CFL limit (wave). A ``dt`` beyond the wave CFL limit raises
        ``ValueError``.
    time_samples:
        Store only this many evenly spaced time levels (``t0`` and ``t1`` included); the number
        of steps is rounded up to a multiple of ``time_samples - 1`` so they are computed steps.
    method:
        Linear solver: ``"auto"`` (sine transform when the interior operator has constant
        coefficients, sparse LU otherwise), ``"dst"`` or ``"lu"``.
    """
    start = time.perf_counter()
    spec = analyse(problem)
    _check_order(spec, order)
    _check_options(spec, time_samples, method)
    grid = Grid(spec.box, _counts(n, spec.box.dim))
    steps = keep = None
    if spec.kind == "helmholtz":
        check_resonance(spec)
    if spec.timed:
        steps = _default_steps(spec, grid, dt)
        if time_samples is not None:
            steps = _round_up(steps, time_samples - 1)
        keep = _sample_steps(steps, time_samples)
    elif dt is not None:
        raise ValueError(f"dt applies to evolution problems only; {problem.name!r} is steady")
    out, solver = _run(spec, grid, order, steps, keep, method)
    wall = time.perf_counter() - start
    log.info("%s: n=%s steps=%s solved in %.3f s (%s)", problem.name, grid.n, steps, wall, solver)
    return FDSolution(**_package(spec, grid, order, steps, out, solver, wall, keep))


def convergence_study(
    problem: Problem,
    n: int | Sequence[int],
    levels: int = 3,
    ratio: int = 2,
    order: int = 2,
    dt: float | None = None,
    *,
    time_samples: int | None = None,
    method: str = "auto",
) -> ReferenceSolution:
    """Solve on grids ``n, r n, r^2 n, ...`` and estimate the finest grid's error.

    Differences between successive levels are measured on the nodes common to all levels (the
    coarsest grid's nodes in space and, for evolution problems, its time levels); each level has
    ``r`` times the previous one's time steps, so ``dt / h`` is fixed. ``dt`` (if given) is the
    coarsest level's step. See :class:`ReferenceSolution` for the observed order, the
    Richardson estimate and the grid-convergence index. The returned values are the finest
    level's (``time_samples`` of its time levels when given).
    """
    start = time.perf_counter()
    spec = analyse(problem)
    _check_order(spec, order)
    _check_options(spec, time_samples, method)
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 3:
        raise ValueError(
            f"levels must be an int >= 3 (two differences give an order), got {levels!r}"
        )
    if isinstance(ratio, bool) or not isinstance(ratio, (int, np.integer)) or ratio < 2:
        raise ValueError(f"ratio must be an int >= 2 (nested grids), got {ratio!r}")
    base = _counts(n, spec.box.dim)
    if dt is not None and not spec.timed:
        raise ValueError(f"dt applies to evolution problems only; {problem.name!r} is steady")
    if spec.kind == "helmholtz":
        check_resonance(spec)
    coarse_steps = None
    if spec.timed:
        coarse_steps = _default_steps(spec, Grid(spec.box, base), dt)
        if time_samples is not None:
            q = time_samples - 1
            q //= math.gcd(q, ratio ** (levels - 1))
            coarse_steps = _round_up(coarse_steps, q)
    rows: list[LevelResult] = []
    previous = None
    diffs: list[float] = []
    finest = None
    samples = None
    for level in range(levels):
        t_level = time.perf_counter()
        s = ratio**level
        grid = Grid(spec.box, tuple(m * s for m in base))
        steps = keep = None
        if spec.timed:
            steps = coarse_steps * s
            common = np.arange(0, steps + 1, s)
            keep = common
            if level == levels - 1:
                samples = _sample_steps(steps, time_samples)
                keep = np.union1d(common, samples)
        out, solver = _run(spec, grid, order, steps, keep, method)
        space = (slice(None, None, s),) * spec.box.dim
        if spec.timed:
            coarse = np.stack([out[int(k)][space] for k in common], axis=-1)
        else:
            coarse = out[space].copy()
        if previous is not None:
            diffs.append(float(np.linalg.norm(coarse - previous)))
        previous = coarse
        wall = time.perf_counter() - t_level
        rows.append(
            LevelResult(
                n=grid.n,
                h=float(np.max(grid.h)),
                dt=None if steps is None else (spec.t_span[1] - spec.t_span[0]) / steps,
                steps=steps,
                difference=None,
                wall_time=wall,
            )
        )
        log.info("%s: level %d n=%s steps=%s in %.3f s", problem.name, level, grid.n, steps, wall)
        if level == levels - 1:
            finest = (grid, steps, out, solver, samples)
    norm = float(np.linalg.norm(previous))
    if norm == 0:
        raise ValueError(
            "the finest solution is identically zero on the common nodes: "
            "relative errors are undefined"
        )
    rel = [d / norm for d in diffs]
    rows = [rows[0]] + [
        LevelResult(r.n, r.h, r.dt, r.steps, e, r.wall_time)
        for r, e in zip(rows[1:], rel, strict=True)
    ]
    with np.errstate(divide="ignore", invalid="ignore"):
        p = float(np.log(rel[-2] / rel[-1]) / np.log(ratio))
    used = p
    if not (np.isfinite(p) and p > 0):
        used = float(order)
        log.warning(
            "%s: observed order %s is not usable; the formal order %d is used for the "
            "error estimate",
            problem.name,
            p,
            order,
        )
    elif abs(p - order) > 0.5:
        log.warning(
            "%s: observed order %.3g differs from the formal order %d: the grids may "
            "not be in the asymptotic range",
            problem.name,
            p,
            order,
        )
    estimate = rel[-1] / (ratio**used - 1)
    grid, steps, out, solver, samples = finest
    fields = _package(spec, grid, order, steps, out, solver, time.perf_counter() - start, samples)
    return ReferenceSolution(
        **fields,
        table=tuple(rows),
        observed_order=p,
        order_used=used,
        estimated_error=float(estimate),
        gci=float(1.25 * estimate),
        ratio=int(ratio),
    )
