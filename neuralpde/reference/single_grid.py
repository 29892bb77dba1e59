"""One grid: :func:`solve_fd`, and what a convergence study's levels share with it.

A problem is read into its pieces and its equation's family (which names the solver, the
scheme's description and the family's checks) by :func:`.families.analyse`; the settings are
checked by :mod:`.settings`. :func:`check_applies` (whether checked settings apply to a
problem), :func:`default_steps` and :func:`check_time` (the time steps, and their count and
storage before any is taken) and :func:`package` (the fields of a solution) serve
:func:`~neuralpde.reference.convergence_study` too.
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
from .settings import Settings, check_evolution_only, check_method, check_settings
from .solution import FDSolution
from .study import sample_steps, stack_times

__all__ = ["solve_fd", "check_applies", "default_steps", "check_time", "round_up", "package"]

log = logging.getLogger("neuralpde.reference")


def check_applies(spec: Spec, settings: Settings, method: str) -> None:
    """Check that the checked ``settings`` and ``method`` apply to the problem of ``spec``."""
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


def default_steps(spec: Spec, grid: Grid, dt: float | None) -> int:
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


def check_time(steps: int, stored: int, nodes: int, what: str) -> None:
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


def round_up(steps: int, multiple: int) -> int:
    return -(-steps // multiple) * multiple


def package(
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
        domain=spec.problem.domain,
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
    check_applies(spec, settings, check_method(method))
    order, time_samples = settings.order, settings.time_samples
    nodes = check_grid_nodes(settings.n, "n")
    grid = Grid(spec.box, settings.n, spec.ghost_faces)
    steps = keep = None
    spec.family.check(spec)
    if spec.timed:
        steps = default_steps(spec, grid, settings.dt)
        if time_samples is not None:
            steps = round_up(steps, time_samples - 1)
        check_time(steps, steps + 1 if time_samples is None else time_samples, nodes, "the grid")
        keep = sample_steps(steps, time_samples)
    out, solver = spec.family.solve(spec, grid, order, steps, keep, method)
    values = stack_times(out, keep) if spec.timed else out
    wall = time.perf_counter() - start
    log.info("%s: n=%s steps=%s solved in %.3f s (%s)", problem.name, grid.n, steps, wall, solver)
    scheme = spec.family.describe(spec, order, solver)
    return FDSolution(**package(spec, grid, order, steps, values, scheme, wall, keep))
