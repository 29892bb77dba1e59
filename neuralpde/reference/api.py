"""The entry points: :class:`Study` and :func:`convergence_study` (several grids), and
:func:`solve_fd` (one grid, :mod:`.single_grid`).

A study's settings are checked once, when its :class:`Study` is made (each by its check in
:mod:`.settings`); whether they apply to a problem when it is run. A problem is read into its
pieces and its equation's family by :func:`.families.analyse`; a study's levels are solved and
compared in :mod:`.study`; Richardson's formulas (observed order, error estimate,
extrapolation) are in :mod:`.richardson`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .._arguments import check_grid_nodes
from ..problem import Problem
from ._grid import Grid
from ._spec import Spec
from .families import analyse
from .richardson import (
    estimate_error,
    observed_order,
    richardson_extrapolate,
    richardson_factor,
)
from .settings import (
    Settings,
    check_counts,
    check_dt,
    check_extrapolate,
    check_extrapolation,
    check_levels,
    check_method,
    check_order,
    check_ratio,
    check_time_samples,
    per_axis,
)
from .single_grid import check_applies, check_time, default_steps, package, round_up, solve_fd
from .solution import ExtrapolatedResult, LevelResult, ReferenceSolution
from .study import StudyLevels, solve_levels

__all__ = ["Study", "solve_fd", "convergence_study"]

log = logging.getLogger("neuralpde.reference")

#: The estimate's former name here (it moved to :func:`.richardson.estimate_error`).
_estimate = estimate_error


@dataclass(frozen=True)
class Study:
    """The settings of a :func:`convergence_study`, each checked once, when it is made.

    ``n`` intervals of the coarsest grid (an int, or one per space axis: whether they fit a
    problem is checked when it is run), ``levels`` nested grids each ``ratio`` times finer,
    the scheme's ``order`` (2 or 4), the coarsest level's time step ``dt`` and the stored
    ``time_samples`` (evolution problems; ``None``: the default choice, every time level),
    the linear solver ``method`` (``"auto"``, ``"dst"`` or ``"lu"``) and Richardson
    extrapolation of the two finest levels (``extrapolate``, ``levels >= 4``). The defaults are
    :func:`convergence_study`'s, and ``n=32`` (``neuralpde reference``'s). A bad setting raises
    ``ValueError`` naming it; :meth:`run` solves, :meth:`describe` is the plain dict a reference
    file stores. A problem file sets one as its ``reference``.
    """

    n: int | tuple[int, ...] = 32
    levels: int = 3
    ratio: int = 2
    order: int = 2
    dt: float | None = None
    time_samples: int | None = None
    method: str = "auto"
    extrapolate: bool = False

    def __post_init__(self) -> None:
        checked = {
            "n": check_counts(self.n),
            "levels": check_levels(self.levels),
            "ratio": check_ratio(self.ratio),
            "order": check_order(self.order),
            "dt": check_dt(self.dt),
            "time_samples": check_time_samples(self.time_samples),
            "method": check_method(self.method),
            "extrapolate": check_extrapolate(self.extrapolate),
        }
        for name, value in checked.items():  # plain Python values (NumPy scalars converted)
            object.__setattr__(self, name, value)

    def describe(self) -> dict[str, Any]:
        """The settings as plain values, as a reference file stores them (``n`` an int or a
        list; ``method`` only when it is not ``"auto"``: it does not change the solution)."""
        out: dict[str, Any] = {
            "n": self.n if isinstance(self.n, int) else list(self.n),
            "levels": self.levels,
            "ratio": self.ratio,
            "order": self.order,
            "dt": self.dt,
            "time_samples": self.time_samples,
            "extrapolate": self.extrapolate,
        }
        if self.method != "auto":
            out["method"] = self.method
        return out

    @classmethod
    def from_dict(cls, settings: Mapping[str, Any], *, name: str = "settings") -> Study:
        """The study of a dict of settings (:meth:`describe`'s, or some of them: the others
        at their defaults); unknown keys raise ``ValueError`` naming ``name``, the dict."""
        if not isinstance(settings, Mapping):
            raise TypeError(f"{name} must be a dict of settings, got {type(settings).__name__}")
        known = [f.name for f in fields(cls)]
        unknown = sorted(str(k) for k in settings if k not in known)
        if unknown:
            raise ValueError(
                f"{name} has unknown key(s) {unknown}; expected some of {', '.join(known)}"
            )
        return cls(**settings)

    def for_axes(self, dim: int) -> Settings:
        """The settings for a problem of ``dim`` space axes, ``n`` one count per axis
        (``ValueError`` when ``n`` has another number of them); ``canonical()`` of it is what
        a reference file stores and its checksum covers."""
        return Settings(
            n=per_axis(self.n, dim),  # type: ignore[arg-type]
            levels=self.levels,
            ratio=self.ratio,
            order=self.order,
            dt=self.dt,
            time_samples=self.time_samples,
            extrapolate=self.extrapolate,
        )

    def run(self, problem: Problem) -> ReferenceSolution:
        """The convergence study of ``problem`` with these settings."""
        return convergence_study(problem, self)


def _given_study(
    n: int | Sequence[int] | Study | None, study: Study | None, *arguments: Any
) -> Study:
    """The :class:`Study` of a :func:`convergence_study` that takes its settings as a ``Study``
    (in place of ``n``, or as ``study``) or as arguments (``n`` and the others, in the order of
    :class:`Study`'s fields), checked; ``TypeError`` when both are given."""
    names = [f.name for f in fields(Study)[1:]]
    settings = dict(zip(names, arguments, strict=True))
    if isinstance(n, Study):
        if study is not None:
            raise TypeError("give one Study: as n or as study=, not both")
        n, study = None, n
    if study is None:
        return Study(n=n, **settings)  # type: ignore[arg-type]
    if not isinstance(study, Study):
        raise TypeError(f"study must be a neuralpde.reference.Study, got {type(study).__name__}")
    defaults = {f.name: f.default for f in fields(Study)}
    given = [k for k, v in settings.items() if not _same(v, defaults[k])]
    if n is not None or given:
        named = ", ".join(["n"] * (n is not None) + given)
        raise TypeError(f"give the settings as a Study or as arguments, not both (got {named})")
    return study


def _same(value: object, default: object) -> bool:
    """Whether an argument is its default (left out, or given as it)."""
    return value is default or (type(value) is type(default) and value == default)


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
    n: int | Sequence[int] | Study | None = None,
    levels: int = 3,
    ratio: int = 2,
    order: int = 2,
    dt: float | None = None,
    *,
    time_samples: int | None = None,
    method: str = "auto",
    extrapolate: bool = False,
    study: Study | None = None,
) -> ReferenceSolution:
    r"""Solve on grids ``n, r n, r^2 n, ...`` and estimate the finest grid's error.

    The settings are a :class:`Study` (in place of ``n``, or as ``study=``) or these arguments
    (made into one, and so checked once); not both.

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
    arguments = (levels, ratio, order, dt, time_samples, method, extrapolate)
    study = _given_study(n, study, *arguments)
    spec = analyse(problem)
    settings, run = _run_study(spec, study)
    return _study_solution(spec, run, settings, start)


def _run_study(spec: Spec, study: Study) -> tuple[Settings, StudyLevels]:
    """The settings of ``study`` for the problem of ``spec``, and its levels, solved."""
    settings = study.for_axes(spec.box.dim)
    coarse_steps = _check_study(spec, settings, study.method)
    run = solve_levels(
        spec,
        settings.n,
        settings.levels,
        settings.ratio,
        settings.order,
        coarse_steps,
        settings.time_samples,
        study.method,
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
        p, used, estimate = estimate_error(rel, ratio, order, name, "")
        values, extra = run.top_values, {}
    wall = time.perf_counter() - start
    fields = package(spec, run.top_grid, order, run.top_steps, values, scheme, wall, run.samples)
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


def _check_study(spec: Spec, settings: Settings, method: str) -> int | None:
    """Check that :func:`convergence_study`'s checked ``settings`` (and ``method``) apply to
    the problem, and the size of its finest level, before anything is solved; returns the
    coarsest grid's time steps (``None`` for a steady problem)."""
    check_applies(spec, settings, method)
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
    coarse_steps = default_steps(spec, Grid(spec.box, settings.n, spec.ghost_faces), settings.dt)
    if time_samples is not None:  # the samples are time levels of every level
        coarse_steps = round_up(coarse_steps, time_samples - 1)
    stored = coarse_steps + 1 if time_samples is None else time_samples
    fine_steps = coarse_steps * ratio ** (levels - 1)
    check_time(fine_steps, stored, finest, f"the finest of {levels} levels")
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
    p, used, estimate = estimate_error(
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
