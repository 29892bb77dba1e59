"""The entry points: :func:`solve_fd` (one grid) and :func:`convergence_study` (several).

A problem is read into its pieces and its equation's family (which names the solver, the
scheme's description and the family's checks) by :func:`.families.analyse`; the settings are
checked by :mod:`.settings`. A study's levels are solved and compared in :mod:`.study`;
Richardson's formulas (observed order, error estimate, extrapolation) are in :mod:`.richardson`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence

import numpy as np

from .._arguments import check_grid_nodes
from ..limits import MAX_STORED_VALUES, MAX_TIME_STEPS
from ..problem import Problem
from ._grid import Grid
from ._spec import Spec
from .families import analyse
from .richardson import (
    observed_order,
    richardson_error,
    richardson_extrapolate,
    richardson_factor,
)
from .settings import (
    Settings,
    check_evolution_only,
    check_extrapolation,
    check_method,
    check_settings,
)
from .solution import ExtrapolatedResult, FDSolution, LevelResult, ReferenceSolution
from .study import StudyLevels, sample_steps, solve_levels, stack_times

__all__ = ["solve_fd", "convergence_study"]

log = logging.getLogger("neuralpde.reference")


def _check_applies(spec: Spec, settings: Settings, method: object) -> None:
    """Check ``method``, and that the checked ``settings`` apply to the problem of ``spec``."""
    check_method(method)
    check_evolution_only(
        spec.timed, spec.problem.name, dt=settings.dt, time_samples=settings.time_samples
    )
    order = settings.order
    if spec.irregular:
        name = type(spec.region).__name__
        if order == 4:
            raise NotImplementedError(
                f"order=4 needs a Box domain; on a {name} the finite-difference reference is "
                "the Shortley-Weller scheme, second order: use order=2"
            )
        if method == "dst":
            raise ValueError(
                f"method='dst' needs a Box domain; on a {name} use method='auto' or 'lu' "
                "(sparse LU)"
            )
    if order == 4 and spec.timed:
        raise NotImplementedError(
            f"order=4 is available for steady problems only; {type(spec.equation).__name__} "
            "is solved to second order (Crank-Nicolson / leapfrog)"
        )
    if order == 4 and spec.divergence_form:
        raise NotImplementedError("order=4 is not available in divergence form")
    if order == 4 and spec.ghost_faces:
        named = (("Neumann", spec.neumann_face_names), ("Robin", spec.robin_face_names))
        faces = " and ".join(f"{kind} faces ({names})" for kind, names in named if names)
        kinds = " and ".join(kind for kind, names in named if names)
        raise NotImplementedError(
            f"order=4 with {faces} is not implemented: the Mehrstellen scheme has no "
            f"fourth-order {kinds} closure here. Use order=2 (ghost-node {kinds} faces, second "
            "order); convergence_study(..., order=2, levels>=4, extrapolate=True) gives a "
            "Richardson-extrapolated, higher-order reference"
        )


def _default_steps(spec: Spec, grid: Grid, dt: float | None) -> int:
    """Time steps for ``grid``: ``dt`` (checked) rounded down to land on ``t1``, or the
    family's default choice."""
    if dt is None:
        return spec.family.default_steps(spec, grid)
    spec.family.check_step(spec, grid, dt)
    t0, t1 = spec.t_span
    T = t1 - t0
    count = T / dt * (1 - 1e-12)
    if not count <= MAX_TIME_STEPS:  # inf too
        raise ValueError(
            f"dt={dt:.6g} would take {count:.4g} time steps over the time span {T:g}, more "
            f"than the {MAX_TIME_STEPS:,} allowed; give a larger dt (or None)"
        )
    return max(1, math.ceil(count))


def _check_time(steps: int, stored: int, nodes: int, what: str) -> None:
    """Refuse ``steps`` time steps beyond :data:`~neuralpde.limits.MAX_TIME_STEPS`, or ``stored``
    time levels on ``nodes`` space nodes beyond :data:`~neuralpde.limits.MAX_STORED_VALUES`
    values, before any is taken; ``what`` says which grid."""
    if steps > MAX_TIME_STEPS:
        raise ValueError(
            f"dt, n and levels: {what} would take {steps:,} time steps, more than the "
            f"{MAX_TIME_STEPS:,} allowed; give a larger dt (or None), or lower n or levels"
        )
    if stored * nodes > MAX_STORED_VALUES:
        raise ValueError(
            f"time_samples, n and levels: {what} would keep {stored:,} time levels of "
            f"{nodes:,} nodes, more than the {MAX_STORED_VALUES:,} values allowed; give fewer "
            "time_samples, or lower n or levels"
        )


def _round_up(steps: int, multiple: int) -> int:
    return -(-steps // multiple) * multiple


def _package(
    spec: Spec,
    grid: Grid,
    order: int,
    steps: int | None,
    values: np.ndarray,
    scheme: str,
    wall: float,
    samples: np.ndarray | None,
) -> dict:
    """The fields of an :class:`FDSolution`; ``values`` are on ``grid`` (and, for evolution
    problems, at the steps ``samples`` of ``steps``, along the last axis)."""
    names = spec.problem.domain.names
    if spec.timed:
        t0, t1 = spec.t_span
        axes = (*grid.axes, np.linspace(t0, t1, steps + 1)[samples])
        dt = (t1 - t0) / steps
    else:
        axes, dt = grid.axes, None
    return dict(
        axes=tuple(axes),
        values=values,
        names=tuple(names),
        scheme=scheme,
        order=order,
        n=grid.n,
        dt=dt,
        steps=steps,
        wall_time=wall,
        problem=spec.problem.name,
        description=spec.problem.describe(),
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
    r"""Solve ``problem`` by finite differences on a uniform grid of ``n`` intervals per axis.

    Parameters
    ----------
    problem:
        A :class:`~neuralpde.Problem` on a ``Box`` (Poisson, Helmholtz) or ``SpaceTime`` of a
        ``Box`` (Heat, Wave) with a Dirichlet, a Neumann or a Robin condition
        (:math:`a u + b\,\partial u/\partial n = g`; ``a``, ``b``, ``g`` numbers or callables)
        on every face (one kind per face; Dirichlet wins on edges and corners shared with the
        others). Neumann and Robin faces are second order (ghost nodes, eliminated by the
        centred normal difference; ``b`` must not vanish on a Robin face, and ``b`` the number
        0 is the Dirichlet condition :math:`u = g/a`): ``order=4`` raises
        ``NotImplementedError`` with them. With every face Neumann (or Robin with ``a = 0``),
        Poisson (and Helmholtz with ``k = 0``) is solvable only for compatible data (checked;
        ``ValueError`` otherwise) and its solution is defined up to a constant: the one with
        zero (trapezoidal) mean over the grid is returned.
        All four also on a ``Disk``, ``Ball``, ``Polygon``, CSG or ``MeshDomain`` (any domain
        with a signed ``distance``; heat and wave on ``SpaceTime`` of one) with a Dirichlet,
        Neumann or Robin condition on every boundary part (any mix): second order
        (:mod:`~neuralpde.reference.irregular`: Shortley–Weller at Dirichlet parts, ghost
        nodes at Neumann and Robin parts) on the grid of the domain's bounding box, NaN at the
        nodes outside the domain; with every part a pure flux, Poisson's data must be
        compatible and the zero-mean solution is returned; ``order=4`` and ``method="dst"``
        need a box, and a grid too coarse for the domain's holes or channels is refused
        (``ValueError`` naming a grid that resolves them).
    n:
        Intervals per space axis (``n + 1`` nodes, boundary included); an int or one per axis.
        The grid may hold at most :data:`~neuralpde.limits.MAX_GRID_NODES` (2**26) nodes, and
        an evolution problem take at most :data:`~neuralpde.limits.MAX_TIME_STEPS` (2**24) time
        steps and keep at most :data:`~neuralpde.limits.MAX_STORED_VALUES` (2**28) values:
        beyond, ``ValueError`` before anything is solved.
    order:
        2, or 4 (steady problems with Dirichlet faces only: the compact Mehrstellen scheme;
        Neumann and Robin faces are second order).
    dt:
        Time step (evolution problems); rounded down so that ``t1`` is reached exactly. Default:
        ``dt ~ h`` (heat), half the CFL limit (wave; on a domain that is not a box, from the
        discrete Laplacian's spectral radius). A ``dt`` beyond the wave CFL limit raises
        ``ValueError``.
    time_samples:
        Store only this many evenly spaced time levels (``t0`` and ``t1`` included); the number
        of steps is rounded up to a multiple of ``time_samples - 1`` so they are computed steps.
    method:
        Linear solver: ``"auto"`` (sine transform when the interior operator has constant
        coefficients and every face is Dirichlet, sparse LU otherwise), ``"dst"`` or ``"lu"``.
    """
    start = time.perf_counter()
    spec = analyse(problem)
    settings = check_settings(spec.box.dim, n, order=order, dt=dt, time_samples=time_samples)
    _check_applies(spec, settings, method)
    order, time_samples = settings.order, settings.time_samples
    nodes = check_grid_nodes(settings.n, "n")
    grid = Grid(spec.box, settings.n, spec.ghost_faces)
    steps = keep = None
    spec.family.check(spec)
    if spec.timed:
        steps = _default_steps(spec, grid, settings.dt)
        if time_samples is not None:
            steps = _round_up(steps, time_samples - 1)
        _check_time(steps, steps + 1 if time_samples is None else time_samples, nodes, "the grid")
        keep = sample_steps(steps, time_samples)
    out, solver = spec.family.solve(spec, grid, order, steps, keep, method)
    values = stack_times(out, keep) if spec.timed else out
    wall = time.perf_counter() - start
    log.info("%s: n=%s steps=%s solved in %.3f s (%s)", problem.name, grid.n, steps, wall, solver)
    scheme = spec.family.describe(spec, order, solver)
    return FDSolution(**_package(spec, grid, order, steps, values, scheme, wall, keep))


def _estimate(
    rel: list[float], ratio: int, formal: float, name: str, what: str, highest: float | None = None
) -> tuple[float, float, float]:
    """``(observed order, order used, Richardson estimate)`` from the last two relative
    differences ``rel`` of a sequence whose formal order is ``formal`` (or lies between
    ``formal`` and ``highest``; the lower, which gives the larger estimate, is the fall-back).
    An observed order above ``highest`` is capped there: a faster apparent convergence than the
    scheme's is pre-asymptotic, and trusting it would shrink the estimate.
    When the differences do not shrink (no positive observed order) and the last is not zero,
    the levels do not converge and the estimate is infinite: the finest grid's error is
    unknown."""
    highest = formal if highest is None else highest
    expected = f"{formal:g}" if highest == formal else f"{formal:g} to {highest:g}"
    p = observed_order(rel[-2], rel[-1], ratio)
    if not (np.isfinite(p) and p > 0):
        used = float(formal)
        if rel[-1] > 0:
            log.warning(
                "%s: the relative differences%s between the last levels are %.3g and %.3g "
                "(observed order %s): the levels do not converge, and the finest grid's error "
                "is unknown",
                name,
                what,
                rel[-2],
                rel[-1],
                p,
            )
            return p, used, math.inf
        log.warning(
            "%s: observed order %s%s is not usable; the formal order %g is used for the "
            "error estimate",
            name,
            p,
            what,
            formal,
        )
    else:
        used = min(p, float(highest))
        if not formal - 0.5 <= p <= highest + 0.5:
            capped = f"; the estimate uses order {highest:g}" if p > highest else ""
            log.warning(
                "%s: observed order %.3g%s differs from the formal order %s: the grids may "
                "not be in the asymptotic range%s",
                name,
                p,
                what,
                expected,
                capped,
            )
    return p, used, richardson_error(rel[-1], ratio, used)


def _check_resolution(row: LevelResult, name: str) -> None:
    """Warn when the grid of ``row``, on which a difference that gives the observed order is
    measured, has fewer than 3 interior nodes along some axis."""
    if min(row.n) < 4:
        log.warning(
            "%s: the observed order rests on a difference measured on the %s grid, which has "
            "fewer than 3 interior nodes along some axis; the order and the error estimate are "
            "unreliable there: use a larger n or one level more",
            name,
            "x".join(map(str, row.n)),
        )


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
    extrapolate: bool = False,
) -> ReferenceSolution:
    r"""Solve on grids ``n, r n, r^2 n, ...`` and estimate the finest grid's error.

    Each level has ``r`` times the previous one's time steps, so ``dt / h`` is fixed; ``dt`` (if
    given) is the coarsest level's step. The difference between two successive levels is
    measured on the coarser one's nodes, where both have values, in the discrete L2 norm of the
    trapezoidal rule,

    .. math:: \|v\|^2 = \sum_j w_j v_j^2 \approx \int_\Omega v^2\,dx,

    so that boundary nodes count by the area they stand for and an error that the coarsest grid
    cannot see still counts on the finer ones. For evolution problems the norm runs over space
    and the coarsest level's time levels (trapezoidal in time too), and the returned values are
    at those time levels: every one of them, or ``time_samples`` evenly spaced ones (the
    coarsest level's step count is then rounded up to a multiple of ``time_samples - 1``), so
    that the error is measured at every stored time. See :class:`ReferenceSolution` for the
    observed order, the Richardson estimate and the grid-convergence index. The returned values
    are the finest level's. A warning is logged when a difference that gives the observed order
    is measured on a grid with fewer than 3 interior nodes along some axis.

    The finest grid may hold at most :data:`~neuralpde.limits.MAX_GRID_NODES` (2**26) nodes
    (from ``n``, ``levels``, ``ratio`` and the dimension); an evolution problem's finest level
    may take at most :data:`~neuralpde.limits.MAX_TIME_STEPS` (2**24) time steps, and keep at
    most :data:`~neuralpde.limits.MAX_STORED_VALUES` (2**28) values (its nodes times the stored
    time levels). Beyond them a ``ValueError`` names the settings before anything is solved.

    It takes the problems :func:`solve_fd` takes: on a box a Dirichlet, Neumann or Robin
    condition on every face (``order=4`` with Dirichlet faces only; Neumann and Robin faces are
    second order, by ghost nodes). On a domain that is not a box the nodes outside it are NaN
    and left out of the norms; ``order=2`` only, and ``extrapolate=True`` is refused (the
    Shortley–Weller error beyond its :math:`h^2` term varies irregularly with the grid).

    ``extrapolate=True`` (``levels >= 4``) returns instead the Richardson-extrapolated solution
    of the two finest levels. Each pair of successive levels :math:`(h, h/r)` gives, on the
    coarser one's nodes (space and time),

    .. math:: R = u_{h/r} + \frac{u_{h/r} - u_h}{r^p - 1},

    with :math:`p` the scheme's *formal* order (2: second-order differences, Crank–Nicolson,
    leapfrog; 4: Mehrstellen). It cancels the leading :math:`C h^p` term of the error exactly
    when :math:`p` is the true leading exponent, which the formal order is for a consistent
    scheme in the asymptotic range. The observed order is not used there: it is a noisy
    estimate (the ratio of two differences, shifted by the next terms of the error expansion)
    and extrapolating with a wrong exponent :math:`\tilde p` leaves a term
    :math:`C h^p (r^p - r^{\tilde p}) / (r^{\tilde p} - 1)` of the old order, which the next
    step, the convergence of the extrapolated sequence, would show as an order falling back
    toward :math:`p`. The sequence :math:`R_1, \dots, R_{L-1}` is then treated like the levels:
    its differences, each on the coarser of the two grids, give ``extrapolated_table``, and its
    observed order, Richardson estimate and GCI become ``observed_order``, ``estimated_error``
    and ``gci``. The extrapolated sequence converges at order ``order + 2`` when the error
    expansion holds in even powers of ``h`` (the schemes here are symmetric), but the highest
    modes of a grid are never in the asymptotic range when ``dt`` shrinks with ``h``, and with
    time-dependent boundary data or forcing they can leave a term of order ``order + 1`` (seen
    with leapfrog); observed orders from ``order + 1`` to ``order + 2`` are expected, and the
    fall-back when the observed order is unusable is ``order + 1``, the larger estimate. The
    values, ``n``, ``dt`` and ``steps`` are those of the coarser grid of the finest pair.
    """
    start = time.perf_counter()
    spec = analyse(problem)
    settings, run = _run_study(spec, n, levels, ratio, order, dt, time_samples, method, extrapolate)
    return _study_solution(spec, run, settings, start)


def _run_study(
    spec: Spec,
    n: int | Sequence[int],
    levels: int,
    ratio: int,
    order: int,
    dt: float | None,
    time_samples: int | None,
    method: str,
    extrapolate: bool,
) -> tuple[Settings, StudyLevels]:
    """The checked settings of :func:`convergence_study` and its levels, solved."""
    settings = check_settings(
        spec.box.dim,
        n,
        levels=levels,
        ratio=ratio,
        order=order,
        dt=dt,
        time_samples=time_samples,
        extrapolate=extrapolate,
    )
    coarse_steps = _check_study(spec, settings, method)
    run = solve_levels(
        spec,
        settings.n,
        settings.levels,
        settings.ratio,
        settings.order,
        coarse_steps,
        settings.time_samples,
        method,
        settings.extrapolate,
    )
    return settings, run


def _study_solution(
    spec: Spec, run: StudyLevels, settings: Settings, start: float
) -> ReferenceSolution:
    """The :class:`ReferenceSolution` of the levels ``run`` of a study begun at ``start``: the
    relative differences, the observed order and the error estimates (of the levels, or of
    their extrapolations), and the returned values."""
    name = spec.problem.name
    levels, ratio, order = settings.levels, settings.ratio, settings.order
    rel, rows = _relative(run)
    # the grid that the first of the two differences giving the order is measured on
    _check_resolution(rows[levels - (4 if settings.extrapolate else 3)], name)
    scheme = spec.family.describe(spec, order, run.solver)
    if settings.extrapolate:
        p, used, estimate, values, scheme, extra = _extrapolated(
            spec, run, rel, rows, ratio, order, scheme
        )
    else:
        p, used, estimate = _estimate(rel, ratio, order, name, "")
        values, extra = run.top_values, {}
    wall = time.perf_counter() - start
    fields = _package(spec, run.top_grid, order, run.top_steps, values, scheme, wall, run.samples)
    return ReferenceSolution(
        **fields,
        table=tuple(rows),
        observed_order=p,
        order_used=used,
        estimated_error=float(estimate),
        gci=float(1.25 * estimate),
        ratio=ratio,
        time_samples=settings.time_samples,
        study_dt=settings.dt,
        **extra,
    )


def _check_study(spec: Spec, settings: Settings, method: object) -> int | None:
    """Check that :func:`convergence_study`'s checked ``settings`` (and ``method``) apply to
    the problem, and the size of its finest level, before anything is solved; returns the
    coarsest grid's time steps (``None`` for a steady problem)."""
    _check_applies(spec, settings, method)
    check_extrapolation(settings.levels, settings.extrapolate)
    if settings.extrapolate and spec.irregular:
        raise NotImplementedError(
            f"extrapolate=True needs a Box domain: on a {type(spec.region).__name__} the "
            "Shortley-Weller error beyond its h^2 term changes irregularly with the grid (the "
            "boundary crossings move), so Richardson extrapolation is not reliable there; use "
            "extrapolate=False (more levels or a larger n for a smaller error)"
        )
    levels, ratio, time_samples = settings.levels, settings.ratio, settings.time_samples
    finest = check_grid_nodes(settings.n, "n", levels=levels, ratio=ratio)
    spec.family.check(spec)
    if not spec.timed:
        return None
    coarse_steps = _default_steps(spec, Grid(spec.box, settings.n, spec.ghost_faces), settings.dt)
    if time_samples is not None:  # the samples are time levels of every level
        coarse_steps = _round_up(coarse_steps, time_samples - 1)
    stored = coarse_steps + 1 if time_samples is None else time_samples
    fine_steps = coarse_steps * ratio ** (levels - 1)
    _check_time(fine_steps, stored, finest, f"the finest of {levels} levels")
    return coarse_steps


def _relative(run: StudyLevels) -> tuple[list[float], list[LevelResult]]:
    """The differences of successive levels relative to the finest solution's norm, and the
    levels' rows with them."""
    if run.norm == 0:
        raise ValueError(
            "the finest solution is identically zero on the nodes it is compared on: "
            "relative errors are undefined"
        )
    rel = [e / run.norm for e in run.differences]
    rows = [run.rows[0]] + [
        LevelResult(r.n, r.h, r.dt, r.steps, e, r.wall_time)
        for r, e in zip(run.rows[1:], rel, strict=True)
    ]
    return rel, rows


def _extrapolated(
    spec: Spec,
    run: StudyLevels,
    rel: list[float],
    rows: list[LevelResult],
    ratio: int,
    order: int,
    scheme: str,
) -> tuple[float, float, float, np.ndarray, str, dict]:
    """``(observed order, order used, estimate, values, scheme, fields)`` of an extrapolated
    study: the estimates from the sequence of extrapolations, the values the extrapolation of
    the two finest levels; drops ``run``'s values of those levels."""
    name = spec.problem.name
    if run.extrapolated_norm == 0:
        raise ValueError(
            "the finest extrapolated solution is identically zero on the nodes it is "
            "compared on: relative errors are undefined"
        )
    rel_rich = [e / run.extrapolated_norm for e in run.extrapolated_differences]
    p, used, estimate = _estimate(
        rel_rich, ratio, order + 1, name, " (extrapolated sequence)", order + 2
    )
    plain = observed_order(rel[-2], rel[-1], ratio)
    log.info(
        "%s: observed order %.3g of the levels, %.3g of the extrapolated sequence", name, plain, p
    )
    values = richardson_extrapolate(
        run.fine_values, run.top_values, richardson_factor(ratio, order)
    )
    run.fine_values = run.top_values = None
    extra = dict(
        extrapolated=True,
        extrapolated_table=tuple(
            ExtrapolatedResult(
                n=r.n,
                h=r.h,
                dt=r.dt,
                steps=r.steps,
                levels=(k, k + 1),
                difference=None if k == 0 else rel_rich[k - 1],
            )
            for k, r in enumerate(rows[:-1])
        ),
    )
    finest = "x".join(map(str, rows[-1].n))
    scheme = (
        f"{scheme}; Richardson-extrapolated with the formal order {order} from the grids "
        f"{'x'.join(map(str, run.top_grid.n))} and {finest}"
    )
    return p, used, estimate, values, scheme, extra
