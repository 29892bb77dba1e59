r"""Evolution problems: heat by Crank–Nicolson, wave by leapfrog; second order in space and time.

Space is discretised by the :math:`(2d+1)`-point Laplacian :math:`\Delta_h` (or, for the heat
equation in divergence form, its conservative variant); unknowns are the nodes on no Dirichlet
face and the Dirichlet data :math:`g(t)` enter through the boundary columns. :math:`A(t) v =
\kappa(t)\,\Delta_h v` (rows of the unknowns) acts on full-grid vectors. On Neumann and Robin
faces (:math:`a u + b\,\partial u/\partial n = g`; not in divergence form) the ghost nodes are
eliminated as for steady problems (:class:`~._faces.GhostFaces`): the mirrored neighbour is in
:math:`\Delta_h`, the Robin term :math:`-r(t) u`, :math:`r = \sum 2a/(b h_i)`, on its diagonal
(:math:`A(t) = \kappa (\Delta_h - \mathrm{diag}\, r(t))`, refactorised when :math:`r`
changes with time), and the data term :math:`c(t) = \sum 2 g(t) / (b h_i)` is added to the
forcing, :math:`f \to f + \kappa c` (heat), :math:`f \to f + c^2 c_N` (wave). A Robin face
with :math:`a/b > 0` adds at most :math:`\max r` to the spectral radius of
:math:`-\Delta_h`, so leapfrog's limit below becomes :math:`|c|\,\Delta t\sqrt{\sum_i
h_i^{-2} + \max r / 4} \le 1` (:func:`cfl_number`).

**Heat** :math:`u_t = \kappa\Delta u + f`, Crank–Nicolson (trapezoidal rule):

.. math::

    \Big(I - \tfrac{\Delta t}{2} A^{n+1}\Big) u^{n+1}
    = u^n + \tfrac{\Delta t}{2}\big(A^n u^n + f^n\big)
          + \tfrac{\Delta t}{2}\big(A^{n+1} g^{n+1} + f^{n+1}\big),

unconditionally stable, :math:`O(\Delta t^2 + h^2)`; with :math:`\Delta t \propto h` the scheme is
second order overall. The matrix :math:`I - \tfrac{\Delta t}{2}A` is factorised once while
:math:`\kappa` does not change with time (refactorised when it does). Crank–Nicolson damps the
stiffest modes only weakly, so initial data should agree with the boundary data at
:math:`t_0` (a mismatch is logged as a warning). A backward-Euler (Rannacher) start was tried and
dropped: with time-dependent boundary data it cut the observed max-norm order to about 1.8 on the
grids tested.

**Wave** :math:`u_{tt} = c^2\Delta u + f`, leapfrog:

.. math::

    u^{n+1} = 2u^n - u^{n-1} + \Delta t^2 \big(c^2 \Delta_h u^n + f^n\big), \qquad
    u^1 = u^0 + \Delta t\, v_0 + \tfrac{\Delta t^2}{2}\big(c^2 \Delta_h u^0 + f^0\big),

explicit, second order (the first step is the Taylor expansion to second order, using the
initial velocity :math:`v_0`), stable for :math:`|c|\,\Delta t \sqrt{\sum_i h_i^{-2}} \le 1`.

**Domains that are not boxes** (``SpaceTime`` of a disk, ball, polygon, CSG or mesh domain): the
same schemes step :math:`\Delta_h u = L u + c(t)` of :class:`~.irregular.RegionOperator` (the
Shortley–Weller rows at Dirichlet parts, ghost rows eliminated at Neumann and Robin parts, the
data's part :math:`c(t)` linear in the boundary data at each time), on the nodes inside the
domain: Crank–Nicolson with :math:`I - \tfrac{\Delta t}{2}\mathrm{diag}(\kappa) L`
(:func:`_solve_heat_region`), leapfrog with the merged nodes (Dirichlet crossings nearer than
:data:`~.irregular.WAVE_MERGE` :math:`h`) updated from their algebraic equations after each step
(:func:`_solve_wave_region`). Leapfrog is stable for :math:`c^2\Delta t^2\rho \le 4`,
:math:`\rho` the spectral radius of the discrete Laplacian (:func:`spectral_radius`, ARPACK);
merging keeps it within 7% of the box's :math:`4\sum_i h_i^{-2}` where it would otherwise grow
like :math:`1/(\theta_{\min} h^2)`; the default step is half the limit on the coarsest grid
(with :math:`\rho` at least the box's), and each grid checks its own.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import scipy.sparse as sp

from ._faces import GhostFaces
from ._grid import BoundaryData, Grid, evaluate_numpy
from ._linalg import (
    DSTSolver,
    LUSolver,
    diag_columns,
    dirichlet_eigenvalues,
    divergence_laplacian,
    laplacian,
)
from ._recorder import Recorder, recorded, recorder
from ._spec import Spec
from ._spectral import spectral_radius
from .irregular import WAVE_MERGE, RegionOperator, region_scheme, region_setup, region_solver

__all__ = [
    "solve_heat",
    "solve_wave",
    "describe_heat",
    "describe_wave",
    "default_heat_steps",
    "default_wave_steps",
    "check_wave_step",
    "cfl_number",
    "robin_shift",
    "max_wave_speed",
    "spectral_radius",
    "Recorder",
]

log = logging.getLogger("neuralpde.reference")

#: The default wave time step, as a fraction of the CFL limit.
_WAVE_CFL_FRACTION = 0.5


def cfl_number(speed: float, dt: float, h: np.ndarray, shift: float = 0.0) -> float:
    r""":math:`|c|\,\Delta t\sqrt{\sum_i h_i^{-2} + s/4}`; leapfrog is stable when it is at
    most 1. ``shift`` :math:`s` is what Robin faces add to the spectral radius of
    :math:`-\Delta_h` (:meth:`~._faces.GhostFaces.largest_shift`)."""
    return abs(speed) * dt * math.sqrt(float(np.sum(1.0 / np.asarray(h) ** 2)) + shift / 4.0)


def robin_shift(spec: Spec, grid: Grid) -> float:
    r"""What the box's Robin faces add at most to the spectral radius of :math:`-\Delta_h` on
    ``grid`` (at 9 times of the span; 0 without a Robin face)."""
    if not spec.robin_faces:
        return 0.0
    faces = GhostFaces(grid, spec.neumann + spec.robin, spec.box.boundary_parts, timed=True)
    return faces.largest_shift(np.linspace(*spec.t_span, 9))


def max_wave_speed(
    spec: Spec, grid: Grid, samples: int = 9, points: np.ndarray | None = None
) -> float:
    """``max |c|`` over the grid's nodes (or ``points``) at ``samples`` times (exact for a
    constant ``c``)."""
    c = spec.equation.c
    if not callable(c):
        return abs(float(c))
    t0, t1 = spec.t_span
    pts = grid.points() if points is None else points

    def largest(t: float) -> float:
        at = np.column_stack([pts, np.full(len(pts), float(t))])
        return float(np.max(np.abs(evaluate_numpy(c, at, "Wave.c"))))

    return max(largest(t) for t in np.linspace(t0, t1, samples))


def _laplacian_text(spec: Spec) -> str:
    return "conservative 2nd-order Laplacian" if spec.divergence_form else "2nd-order Laplacian"


def describe_heat(spec: Spec, order: int, solver: str) -> str:
    """The description of Crank–Nicolson with the linear solver ``solver``."""
    if spec.irregular:
        return f"{spec.family.name}: Crank-Nicolson + {region_scheme(spec)}; {solver}"
    return (
        f"{spec.family.name}: Crank-Nicolson + {_laplacian_text(spec)}{spec.neumann_note}; {solver}"
    )


def describe_wave(spec: Spec, order: int, solver: str) -> str:
    """The description of leapfrog (explicit: no linear solver)."""
    if spec.irregular:
        return (
            f"{spec.family.name}: leapfrog (2nd-order first step) + {region_scheme(spec)}, "
            f"Dirichlet crossings nearer than {WAVE_MERGE:g} h merged; time step from the "
            "operator's spectral radius"
        )
    return (
        f"{spec.family.name}: leapfrog (2nd-order first step) + {_laplacian_text(spec)}"
        f"{spec.neumann_note}"
    )


def default_heat_steps(spec: Spec, grid: Grid) -> int:
    """Heat's time steps on ``grid`` when no ``dt`` is given: Crank-Nicolson is
    unconditionally stable, and ``dt ~ h`` keeps the error ``O(h^2)``."""
    t0, t1 = spec.t_span
    return max(1, math.ceil((t1 - t0) / float(np.max(grid.h)) * (1 - 1e-12)))


def default_wave_steps(spec: Spec, grid: Grid) -> int:
    r"""Wave's time steps on ``grid`` when no ``dt`` is given: half the CFL limit (``dt ~ h``
    when ``c`` is 0). On a domain that is not a box the limit is :math:`2/(|c|\sqrt{\rho})`,
    :math:`\rho` the spectral radius of the discrete Laplacian (:func:`spectral_radius`), at
    least that of the box's (:math:`4\sum_i h_i^{-2}`)."""
    t0, t1 = spec.t_span
    T = t1 - t0
    if spec.irregular:
        op = region_setup(spec, grid, merge=WAVE_MERGE)
        speed = max_wave_speed(spec, grid, points=op.node_points)
        rho = max(spectral_radius(op), 4.0 * float(np.sum(1.0 / grid.h**2)))
        if speed == 0:
            return max(1, math.ceil(T / float(np.max(grid.h))))
        dt_max = 2.0 / (speed * math.sqrt(rho))
        return max(1, math.ceil(T / (_WAVE_CFL_FRACTION * dt_max) * (1 - 1e-12)))
    speed = max_wave_speed(spec, grid)
    if speed == 0:
        return max(1, math.ceil(T / float(np.max(grid.h))))
    dt_max = 1.0 / cfl_number(speed, 1.0, grid.h, robin_shift(spec, grid))
    return max(1, math.ceil(T / (_WAVE_CFL_FRACTION * dt_max) * (1 - 1e-12)))


def check_wave_step(spec: Spec, grid: Grid, dt: float) -> None:
    """Refuse a ``dt`` beyond leapfrog's CFL limit on ``grid``."""
    if spec.irregular:
        op = region_setup(spec, grid, merge=WAVE_MERGE)
        _check_region_step(spec, op, dt, max_wave_speed(spec, grid, points=op.node_points))
        return
    shift = robin_shift(spec, grid)
    cfl = cfl_number(max_wave_speed(spec, grid), dt, grid.h, shift)
    if cfl > 1 + 1e-12:
        limit = dt / cfl
        robin = f" + {shift:.4g}/4 (Robin faces)" if shift else ""
        raise ValueError(
            f"dt={dt:.6g} is unstable for leapfrog on this grid: the CFL number "
            f"|c| dt sqrt(sum 1/h^2{robin}) = {cfl:.4g} exceeds 1; use dt <= {limit:.6g} "
            "(or dt=None for half of that)"
        )


class _Interior:
    """Interior points with a time column, and coefficient evaluation on them."""

    def __init__(self, grid: Grid) -> None:
        self.points = np.column_stack([grid.points(grid.unknowns), np.zeros(len(grid.unknowns))])

    def eval(self, value, t: float, name: str):
        if not callable(value):
            return float(value)
        self.points[:, -1] = t
        return evaluate_numpy(value, self.points, name)


def _initial(spec: Spec, grid: Grid, boundary: BoundaryData) -> np.ndarray:
    t0 = spec.t_span[0]
    u = np.broadcast_to(
        evaluate_numpy(spec.initial.value, grid.points(t=t0), "Initial.value"), (grid.size,)
    ).copy()
    g0 = boundary.values(t0)
    gap = float(np.max(np.abs(u[boundary.index] - g0), initial=0.0))
    scale = max(1.0, float(np.max(np.abs(u))))
    if gap > 1e-8 * scale:
        log.warning(
            "%s: initial data differ from the Dirichlet data at t0 by up to %.3g on the "
            "Dirichlet faces; the boundary values are used",
            spec.problem.name,
            gap,
        )
    u[boundary.index] = g0
    return u


def _march_setup(
    spec: Spec, grid: Grid, steps: int
) -> tuple[np.ndarray, float, _Interior, BoundaryData, GhostFaces]:
    """Time levels, step, interior evaluator and boundary data shared by the time-marchers."""
    t0, t1 = spec.t_span
    times = np.linspace(t0, t1, steps + 1)
    faces = spec.box.boundary_parts
    return (
        times,
        (t1 - t0) / steps,
        _Interior(grid),
        BoundaryData(grid, spec.dirichlet, faces, timed=True),
        GhostFaces(grid, spec.neumann + spec.robin, faces, timed=True),
    )


def solve_heat(
    spec: Spec,
    grid: Grid,
    order: int,
    steps: int,
    keep: np.ndarray | Recorder,
    method: str = "auto",
) -> tuple[dict, str]:
    """Crank–Nicolson (``order`` 2); returns the full-grid values at the steps ``keep`` (or,
    when ``keep`` is a :class:`Recorder`, its ``values``) and the linear-solver name."""
    if spec.irregular:
        return _solve_heat_region(spec, grid, steps, keep, method)
    eq = spec.equation
    times, dt, inner, boundary, faces = _march_setup(spec, grid, steps)
    inner_idx = grid.unknowns
    div = spec.divergence_form
    L = None if div else laplacian(grid)
    constant = not callable(eq.kappa)
    use_dst = constant and not div and not grid.neumann and method in ("auto", "dst")
    if method == "dst" and not use_dst:
        raise ValueError(
            "method='dst' needs a constant kappa in non-divergence form and Dirichlet faces only"
        )
    lam = dirichlet_eigenvalues(grid) if use_dst else None
    cache: dict = {"key": None}

    def operator(t: float, implicit: bool = True):
        """``(A(t), solver of I - dt/2 A_II(t))``; both reused while kappa is unchanged, the
        solver built only when ``implicit``."""
        if div:
            parts: list[np.ndarray] = []

            def kappa_at(p: np.ndarray) -> np.ndarray:
                pts = np.column_stack([p, np.full(len(p), t)])
                v = np.broadcast_to(evaluate_numpy(eq.kappa, pts, "Heat.kappa"), (len(p),))
                parts.append(v)
                return v

            A = divergence_laplacian(grid, kappa_at)
            key = np.concatenate(parts)
        else:
            kappa = np.atleast_1d(inner.eval(eq.kappa, t, "Heat.kappa"))
            r = faces.diagonal(t)  # Robin's: A = kappa (L - diag r)
            key = kappa if r is None else np.concatenate([kappa, r])
            A = None
        if cache["key"] is None or not np.array_equal(cache["key"], key):
            if A is None:
                Lt = L if r is None else L - diag_columns(r, inner_idx, grid.size)
                A = (float(kappa[0]) * Lt) if constant else (sp.diags(kappa) @ Lt).tocsr()
            if cache["key"] is not None:
                log.debug("kappa or Robin's a/b changed at t=%g: refactorising", t)
            cache.update(key=key, A=A, solver=None)
        if implicit and cache["solver"] is None:
            if use_dst:
                symbol = 1.0 - 0.5 * dt * float(key[0]) * sum(lam)
                cache["solver"] = DSTSolver(symbol, grid.unknown_shape)
            else:
                B = sp.identity(len(inner_idx), format="csr") - 0.5 * dt * cache["A"][:, inner_idx]
                cache["solver"] = LUSolver(B, grid.unknown_shape)
        return cache["A"], cache["solver"]

    record = recorder(grid, keep)
    u = _initial(spec, grid, boundary)
    record(0, u)

    def forcing(t: float):
        f = inner.eval(eq.f, t, "Heat.f")
        if grid.neumann:
            f = f + inner.eval(eq.kappa, t, "Heat.kappa") * faces.term(t)
        return f

    _march_heat(operator, forcing, boundary, times, dt, steps, inner_idx, u, record)
    return recorded(keep, record), cache["solver"].method


def _march_heat(operator, forcing, boundary, times, dt, steps, inner_idx, u, record) -> None:
    """The Crank–Nicolson steps of :func:`solve_heat` from ``u``, each recorded by ``record``."""
    A_prev, _ = operator(times[0], implicit=False)
    f_prev = forcing(times[0])
    for n in range(steps):
        t_new = times[n + 1]
        A, solver = operator(t_new)
        g = boundary.lift(t_new)
        f_new = forcing(t_new)
        rhs = u[inner_idx] + 0.5 * dt * (A_prev @ u + f_prev) + 0.5 * dt * (A @ g + f_new)
        u_i = solver.solve(rhs)
        u = g
        u[inner_idx] = u_i
        record(n + 1, u)
        A_prev, f_prev = A, f_new


def solve_wave(
    spec: Spec,
    grid: Grid,
    order: int,
    steps: int,
    keep: np.ndarray | Recorder,
    method: str = "auto",
) -> tuple[dict, str]:
    """Leapfrog with a second-order first step (``order`` 2; explicit, so no ``method`` but
    ``"auto"`` and ``"lu"``); returns the full-grid values at the steps ``keep`` (or, when
    ``keep`` is a :class:`Recorder`, its ``values``). Raises ``ValueError`` if
    ``|c| dt sqrt(sum 1/h^2) > 1`` at any step."""
    if method == "dst":
        raise ValueError("method='dst' applies to implicit solves; the wave solver is explicit")
    if spec.irregular:
        return _solve_wave_region(spec, grid, steps, keep)
    eq = spec.equation
    times, dt, inner, boundary, faces = _march_setup(spec, grid, steps)
    inner_idx = grid.unknowns
    L = laplacian(grid)
    variable = callable(eq.c)

    def accel(u: np.ndarray, t: float) -> np.ndarray:
        c = inner.eval(eq.c, t, "Wave.c")
        r = faces.diagonal(t) if grid.neumann else None
        if variable:
            shift = 0.0 if r is None else max(0.0, float(np.max(r)))
            cfl = cfl_number(float(np.max(np.abs(c))), dt, grid.h, shift)
            if cfl > 1 + 1e-12:
                raise ValueError(
                    f"leapfrog is unstable at t={t:.6g}: the CFL number |c| dt sqrt(sum 1/h^2) "
                    f"= {cfl:.4g} exceeds 1 (dt={dt:.6g}); give a smaller dt"
                )
        lap = L @ u
        if grid.neumann:
            lap += faces.term(t)
        if r is not None:
            lap -= r * u[inner_idx]
        return np.square(c) * lap + inner.eval(eq.f, t, "Wave.f")

    record = recorder(grid, keep)
    u_old = _initial(spec, grid, boundary)
    record(0, u_old)
    t0 = times[0]
    v0 = inner.eval(spec.velocity.value, t0, "InitialVelocity.value")
    u = boundary.lift(times[1])
    u[inner_idx] = u_old[inner_idx] + dt * v0 + 0.5 * dt**2 * accel(u_old, t0)
    record(1, u)
    for n in range(1, steps):
        u_new = boundary.lift(times[n + 1])
        u_new[inner_idx] = 2.0 * u[inner_idx] - u_old[inner_idx] + dt**2 * accel(u, times[n])
        u_old, u = u, u_new
        record(n + 1, u)
    return recorded(keep, record), "explicit"


# -- domains that are not boxes ------------------------------------------------------------------


class _RegionTime:
    r"""Coefficients at the unknowns of a :class:`~.irregular.RegionOperator` at time ``t``,
    and its boundary data: :math:`c(t) = C g(t)`."""

    def __init__(self, op: RegionOperator) -> None:
        self.op = op
        self.points = np.column_stack([op.node_points, np.zeros(op.size)])

    def eval(self, value, t: float, name: str):
        if not callable(value):
            return float(value)
        self.points[:, -1] = t
        return np.broadcast_to(evaluate_numpy(value, self.points, name), (self.op.size,))

    def data(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        r"""``(g, c)``: the boundary data and their part of :math:`\Delta_h u` at ``t``."""
        g = self.op.boundary_values(t)
        return g, self.op.source(g)


def _region_initial(spec: Spec, op: RegionOperator, at: _RegionTime, g0: np.ndarray) -> np.ndarray:
    """The initial data at the unknowns; a mismatch with the Dirichlet data at the Dirichlet
    nodes is logged as a warning (the Dirichlet values are used there)."""
    t0 = spec.t_span[0]
    u = np.array(at.eval(spec.initial.value, t0, "Initial.value"), dtype=np.float64)
    u = np.broadcast_to(u, (op.size,)).copy()
    if len(op.fixed):
        pts = np.column_stack([op.grid.points(op.fixed), np.full(len(op.fixed), t0)])
        v = np.broadcast_to(
            evaluate_numpy(spec.initial.value, pts, "Initial.value"), (len(op.fixed),)
        )
        gap = float(np.max(np.abs(v - g0[: len(op.fixed)])))
        if gap > 1e-8 * max(1.0, float(np.max(np.abs(u), initial=0.0))):
            log.warning(
                "%s: initial data differ from the Dirichlet data at t0 by up to %.3g at the "
                "Dirichlet nodes; the boundary values are used",
                spec.problem.name,
                gap,
            )
    return u


def _solve_heat_region(
    spec: Spec, grid: Grid, steps: int, keep: np.ndarray | Recorder, method: str
) -> tuple[dict, str]:
    r"""Crank–Nicolson on a domain that is not a box: with :math:`\Delta_h u = L u + c(t)`
    (:class:`~.irregular.RegionOperator`, ghosts eliminated),

    .. math::

        \Big(I - \tfrac{\Delta t}{2} K^{n+1} L\Big) u^{n+1} = u^n
        + \tfrac{\Delta t}{2}\big(K^n (L u^n + c^n) + f^n\big)
        + \tfrac{\Delta t}{2}\big(K^{n+1} c^{n+1} + f^{n+1}\big),

    :math:`K = \mathrm{diag}(\kappa)`; the matrix is factorised once while :math:`\kappa` does
    not change with time."""
    if method == "dst":
        raise ValueError(
            f"method='dst' needs a Box domain; on a {type(spec.region).__name__} use 'auto' or "
            "'lu' (sparse LU)"
        )
    eq = spec.equation
    t0, t1 = spec.t_span
    times = np.linspace(t0, t1, steps + 1)
    dt = (t1 - t0) / steps
    op = region_setup(spec, grid)
    at = _RegionTime(op)
    L = op.L
    cache: dict = {"key": None}

    def solver(t: float):
        kappa = np.atleast_1d(at.eval(eq.kappa, t, "Heat.kappa"))
        if cache["key"] is None or not np.array_equal(cache["key"], kappa):
            if cache["key"] is not None:
                log.debug("kappa changed at t=%g: refactorising", t)
            K = sp.diags(np.broadcast_to(kappa, (op.size,)))
            B = (sp.identity(op.size, format="csr") - 0.5 * dt * (K @ L)).tocsr()
            cache.update(key=kappa, solver=region_solver(op, B))
        return kappa, cache["solver"]

    record = recorder(grid, keep)
    g, c = at.data(t0)
    u = _region_initial(spec, op, at, g)
    record(0, op.to_grid(u, g))
    kappa = np.atleast_1d(at.eval(eq.kappa, t0, "Heat.kappa"))
    f = at.eval(eq.f, t0, "Heat.f")
    lu = None
    for n in range(steps):
        t_new = times[n + 1]
        g_new, c_new = at.data(t_new)
        f_new = at.eval(eq.f, t_new, "Heat.f")
        k_new, lu = solver(t_new)
        rhs = u + 0.5 * dt * (kappa * (L @ u + c) + f) + 0.5 * dt * (k_new * c_new + f_new)
        u = lu.solve(rhs)
        record(n + 1, op.to_grid(u, g_new))
        kappa, f, c = k_new, f_new, c_new
    name = lu.method if lu is not None else LUSolver.method
    return recorded(keep, record), name


def _check_region_step(spec: Spec, op: RegionOperator, dt: float, speed: float) -> None:
    r"""Refuse a ``dt`` with :math:`c^2\Delta t^2\rho > 4` (:func:`spectral_radius`)."""
    if speed == 0:
        return
    rho = spectral_radius(op)
    number = speed * dt * math.sqrt(rho) / 2.0
    if number > 1 + 1e-12:
        raise ValueError(
            f"dt={dt:.6g} is unstable for leapfrog on this grid of the "
            f"{type(spec.region).__name__}: |c| dt sqrt(rho) / 2 = {number:.4g} exceeds 1 (rho "
            f"= {rho:.4g}, the spectral radius of the discrete Laplacian); use dt <= "
            f"{dt / number:.6g} (or dt=None for half of that)"
        )


def _solve_wave_region(
    spec: Spec, grid: Grid, steps: int, keep: np.ndarray | Recorder
) -> tuple[dict, str]:
    r"""Leapfrog on a domain that is not a box: the dynamic unknowns by

    .. math::

        u^{n+1} = 2u^n - u^{n-1} + \Delta t^2\big(c^2 (L u^n + c^n) + f^n\big),\qquad
        u^1 = u^0 + \Delta t\,v_0 + \tfrac{\Delta t^2}{2}\big(c^2 (L u^0 + c^0) + f^0\big),

    then the merged nodes from their equations at the new time (:class:`~.irregular.
    RegionOperator` with ``merge`` :data:`~.irregular.WAVE_MERGE`). ``ValueError`` when
    :math:`c^2 \Delta t^2 \rho > 4` on this grid (:func:`spectral_radius`)."""
    eq = spec.equation
    t0, t1 = spec.t_span
    times = np.linspace(t0, t1, steps + 1)
    dt = (t1 - t0) / steps
    op = region_setup(spec, grid, merge=WAVE_MERGE)
    at = _RegionTime(op)
    _check_region_step(spec, op, dt, max_wave_speed(spec, grid, points=op.node_points))
    consistent = op.algebraic_solver()
    dyn = op.dynamic
    L = op.L

    def accel(u: np.ndarray, t: float, c: np.ndarray) -> np.ndarray:
        speed = at.eval(eq.c, t, "Wave.c")
        out = np.square(speed) * (L @ u + c) + at.eval(eq.f, t, "Wave.f")
        return np.broadcast_to(out, (op.size,))[dyn]

    record = recorder(grid, keep)
    g, c = at.data(t0)
    u_old = consistent(_region_initial(spec, op, at, g), c)
    record(0, op.to_grid(u_old, g))
    v0 = np.broadcast_to(at.eval(spec.velocity.value, t0, "InitialVelocity.value"), (op.size,))
    g1, c1 = at.data(times[1])
    u = u_old.copy()
    u[dyn] = u_old[dyn] + dt * v0[dyn] + 0.5 * dt**2 * accel(u_old, t0, c)
    u = consistent(u, c1)
    record(1, op.to_grid(u, g1))
    c = c1
    for n in range(1, steps):
        g_new, c_new = at.data(times[n + 1])
        u_new = u.copy()
        u_new[dyn] = 2.0 * u[dyn] - u_old[dyn] + dt**2 * accel(u, times[n], c)
        u_new = consistent(u_new, c_new)
        u_old, u, c = u, u_new, c_new
        record(n + 1, op.to_grid(u, g_new))
    return recorded(keep, record), "explicit"
