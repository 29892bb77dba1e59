r"""Settings derived from the problem: what ``neuralpde.solve(problem)`` uses when told nothing.

Every choice comes from the problem's own scales, never from a table of known problems:

* **Constraints.** Dirichlet data, initial values and initial velocities are built into the
  field wherever the domain has a distance description
  (:mod:`neuralpde.fields.constraints`); the other conditions stay terms of the loss.
* **Output scale** :math:`C`: the size of the solution's departure from the lift :math:`A`.
  With :math:`R_0` the root-mean-square residual of :math:`A` on the domain, it is
  :math:`R_0/\lambda_1` for a steady problem (:math:`\lambda_1 = \sum_i (\pi/L_i)^2` the first
  Dirichlet eigenvalue of the bounding box) and :math:`R_0 T^k/k!` for an evolution problem of
  time order :math:`k` over a span :math:`T` (the first term of the solution's Taylor series in
  time).
* **Frequency** :math:`\omega_0` of the SIREN's first layer, per input coordinate: half the
  highest angular frequency along that axis, per unit of the inputs scaled to :math:`[-1, 1]`,
  that carries energy in the lift and its residual sampled on a grid (their spectrum up to 99%
  of the energy), raised for waves by the speed of propagation (time frequency :math:`c\,k`)
  and for Helmholtz by :math:`k`; between 1 and 15. Where the data are separated in scale
  (an axis 8× slower than the fastest), each input gets its own :math:`\omega_0`.
* **Size**: two hidden layers of 32 (a few thousand parameters); collocation points about twice
  the parameters, so that the least-squares problem is over-determined, and more where the data
  are fine along several axes (about 4 points per half-wave along every axis, at most 8 per
  parameter): a wave or heat front in a space-time volume. Where those points outnumber twice
  the parameters, a third hidden layer gives the field the capacity to match, and it gets at
  least 4 points per parameter.
* **Optimizer and precision**: Levenberg–Marquardt in float64
  (:mod:`neuralpde.training.gauss_newton`) within a wall-time budget of a minute per input
  beyond the first, times :math:`\max(1, \omega_0/\pi)`, doubled for evolution problems, between
  1 and 10 minutes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .conditions import Dirichlet, Initial, InitialVelocity
from .domains import Domain, SpaceTime
from .fields import Siren
from .fields.constraints import HardConstraint, boundary_pieces, distance_product
from .problem import Problem
from .sampling import SobolSampler
from .training import Trainer

__all__ = [
    "Settings",
    "ConstraintPlan",
    "plan_constraints",
    "derive_settings",
    "spectrum_frequency",
]

log = logging.getLogger("neuralpde.defaults")

_SAMPLES = 4096
_GRID = 64


@dataclass(frozen=True)
class ConstraintPlan:
    """Which conditions are built into the field, and how (see
    :class:`~neuralpde.fields.constraints.HardConstraint`)."""

    pieces: tuple[dict, ...]
    norm: float
    scale: float
    time: dict | None
    lift: object  # the exact lift, a callable of the points, or None
    built_in: tuple[bool, ...]  # one per condition of the problem
    lift_kind: str  # "zero", or "problem" (the data are not all zero: a lift is fitted)
    degrees: tuple[int, ...] = ()  # the fitted lift's Chebyshev degrees, per axis
    corners: tuple[dict, ...] = ()  # reentrant corners between Dirichlet edges (singular terms)

    def wrap(self, net: nn.Module, lift: nn.Module | None = None) -> HardConstraint:
        """``net`` under this constraint, with ``lift`` the fitted lift
        (:func:`neuralpde.training.lift.fit_lift`; ``None`` when :attr:`lift_kind` is
        ``"zero"``)."""
        return HardConstraint(
            net, self.pieces, self.norm, self.scale, self.time, lift, self.corners
        )


@dataclass(frozen=True)
class Settings:
    """The settings :func:`derive_settings` chose, and why, in one line (:meth:`summary`)."""

    field: Siren
    sampler: SobolSampler
    trainer: Trainer
    dtype: torch.dtype
    constraints: ConstraintPlan | None
    reasons: dict = field(default_factory=dict)

    def summary(self) -> str:
        f, s, t = self.field, self.sampler, self.trainer
        built = "none"
        if self.constraints is not None:
            built = (
                f"{sum(self.constraints.built_in)} condition(s), scale {self.constraints.scale:.3g}"
            )
            if self.constraints.corners:
                built += f", {len(self.constraints.corners)} corner singular term(s)"
        w0 = f"{f.w0_per_layer()[0]:.3g}"
        if f.w0_inputs is not None:
            w0 = "(" + ", ".join(f"{w:.3g}" for w in f.w0_inputs) + ")"
        return (
            f"SIREN {f.depth}x{f.width} w0={w0}, "
            f"{s.n_interior} interior points, Levenberg-Marquardt "
            f"{str(self.dtype).replace('torch.', '')}, budget {t.seconds:.0f} s, "
            f"built-in conditions: {built}"
        )


def _differentiable(value: object, x: torch.Tensor) -> bool:
    """Whether a condition's value can be differentiated with respect to the points: a
    constant, or a callable that returns a tensor carrying ``x``'s gradient (or constant)."""
    if not callable(value):
        return True
    x = x.detach().clone().requires_grad_(True)
    try:
        y = value(x)
    except Exception:  # its own error shows up, with its name, where the loss evaluates it
        return False
    if torch.is_tensor(y) and y.requires_grad:
        return True
    arr = np.asarray(y.detach().cpu() if torch.is_tensor(y) else y, dtype=float)
    return bool(arr.size == 1 or np.ptp(arr) == 0)


def _as_function(value: object):
    """A condition's value as a function of the points returning ``(N,)``."""
    if not callable(value):
        v = float(value)
        return lambda x: torch.full((x.shape[0],), v, dtype=x.dtype, device=x.device)

    def f(x: torch.Tensor) -> torch.Tensor:
        y = torch.as_tensor(value(x), dtype=x.dtype, device=x.device)
        if y.dim() == 0:
            y = y.expand(x.shape[0])
        return y.reshape(x.shape[0])

    return f


def _interior_points(problem: Problem, n: int = _SAMPLES, seed: int = 7) -> np.ndarray:
    unit = np.random.default_rng(seed).random((n, problem.domain.dim))
    return problem.domain.interior(unit)


def _dirichlet_groups(
    problem: Problem, space: Domain, probe: torch.Tensor, allowed: bool
) -> list[tuple[int, list[dict]]]:
    """The Dirichlet conditions built into the field, each with the distance pieces of its
    parts: all of them, or none where one has a part with no distance description or data that
    cannot be differentiated at ``probe`` (or where ``allowed`` is false)."""
    conds = problem.conditions
    by_part = boundary_pieces(space)
    dirichlet = [i for i, c in enumerate(conds) if type(c) is Dirichlet]
    groups: list[tuple[int, list[dict]]] = []
    if dirichlet and by_part is not None and allowed:
        for i in dirichlet:
            c = conds[i]
            parts = space.boundary_parts if c.on is None else c.on
            if not all(p in by_part for p in parts) or not _differentiable(c.value, probe):
                return []
            groups.append((i, [pc for p in parts for pc in by_part[p]]))
    return groups


def _initial_data(
    problem: Problem, probe: torch.Tensor
) -> tuple[dict | None, Callable | None, Callable | None, list[int]]:
    """The initial data of an evolution problem built into the field: the time settings
    (``None`` when nothing is built in), the initial value and velocity as functions (``None``
    where not built in) and the indices of their conditions."""
    dom, conds = problem.domain, problem.conditions
    order = problem.equation.time_order
    ini = [i for i, c in enumerate(conds) if type(c) is Initial]
    vel = [i for i, c in enumerate(conds) if type(c) is InitialVelocity]
    u0 = v0 = None
    built: list[int] = []
    if ini and _differentiable(conds[ini[0]].value, probe):
        built.append(ini[0])
        u0 = _as_function(conds[ini[0]].value)
        if order == 2 and vel and _differentiable(conds[vel[0]].value, probe):
            built.append(vel[0])
            v0 = _as_function(conds[vel[0]].value)
    if not built:
        return None, u0, v0, built
    time = {"axis": dom.dim - 1, "t0": dom.t0, "t1": dom.t1, "order": len(built)}
    return time, u0, v0, built


def _dirichlet_lift(gs: list[tuple[Callable, list[dict]]]) -> Callable:
    """The Dirichlet lift: one condition's data, or the blend of several by inverse distance
    (``gs``: each condition's data as a function, with its distance pieces)."""

    def g_hat(x: torch.Tensor) -> torch.Tensor:
        if not gs:
            return torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        if len(gs) == 1:
            return gs[0][0](x)
        phis = [distance_product(ps, x) for _, ps in gs]
        # w_k = prod_{j != k} phi_j / sum_l prod_{j != l} phi_j: 1 on group k's parts
        others = []
        for k in range(len(phis)):
            w = torch.ones_like(phis[0])
            for j, p in enumerate(phis):
                if j != k:
                    w = w * p
            others.append(w)
        total = sum(others)
        values = [g(x) for g, _ in gs]
        blend = sum(w * v for w, v in zip(others, values, strict=True)) / total.clamp_min(1e-300)
        # where two parts meet every weight vanishes: the mean of their data there
        return torch.where(total > 0, blend, sum(values) / len(values))

    return g_hat


def _problem_lift(
    dom: Domain, g_hat: Callable, dirichlet: bool, u0: Callable | None, v0: Callable | None
) -> Callable:
    """The exact lift on ``dom``: the Dirichlet lift ``g_hat`` (``dirichlet``: whether there are
    Dirichlet data), corrected to the initial value ``u0`` and velocity ``v0`` where given (``dom``
    is then a :class:`~neuralpde.domains.SpaceTime`)."""
    t_axis = dom.dim - 1

    def lift(x: torch.Tensor) -> torch.Tensor:
        a = g_hat(x)
        if u0 is None:
            return a
        x0 = torch.cat([x[:, :t_axis], torch.full_like(x[:, t_axis:], dom.t0)], dim=1)
        a = a + u0(x0) - (g_hat(x0) if dirichlet else 0.0)
        if v0 is not None:
            dg = 0.0
            if dirichlet:
                e = torch.zeros_like(x0)
                e[:, t_axis] = 1.0
                dg = torch.func.jvp(g_hat, (x0,), (e,))[1]
            a = a + (x[:, t_axis] - dom.t0) * (v0(x0) - dg)
        return a

    return lift


def plan_constraints(problem: Problem, dirichlet: bool = True) -> ConstraintPlan | None:
    """The hard constraints ``problem`` allows, or ``None`` when none can be built in;
    ``dirichlet=False`` builds in the initial data only."""
    dom = problem.domain
    timed = isinstance(dom, SpaceTime)
    space = dom.space if timed else dom
    pts = torch.as_tensor(_interior_points(problem), dtype=torch.float64)
    probe = pts[:16]
    conds = problem.conditions
    built = [False] * len(conds)

    # Dirichlet data: every part of every Dirichlet condition needs its distance pieces
    groups = _dirichlet_groups(problem, space, probe, dirichlet)
    for i, _ in groups:
        built[i] = True
    pieces = [pc for _, ps in groups for pc in ps]

    time = None
    u0 = v0 = None
    if timed:
        time, u0, v0, initial = _initial_data(problem, probe)
        for i in initial:
            built[i] = True
    if not any(built):
        return None

    gs = [(_as_function(conds[i].value), ps) for i, ps in groups]
    constant_zero = all(
        not callable(conds[i].value) and float(conds[i].value) == 0 for i, _ in groups
    )
    lift = None
    kind = "zero"
    if u0 is not None or not constant_zero:
        kind = "problem"
        lift = _problem_lift(dom, _dirichlet_lift(gs), bool(gs), u0, v0)

    phi = distance_product(pieces, pts)
    norm = float(phi.abs().max()) if pieces else 1.0
    if not (math.isfinite(norm) and norm > 0):
        return None
    plan = ConstraintPlan(tuple(pieces), norm, 1.0, time, lift, tuple(built), kind)
    scale = _departure_scale(problem, plan, pts)
    degrees = _lift_degrees(problem, lift) if lift is not None else ()
    corners = () if timed else _singular_corners(space, [conds[i] for i, _ in groups])
    return ConstraintPlan(
        tuple(pieces), norm, scale, time, lift, tuple(built), kind, degrees, corners
    )


def _singular_corners(space: Domain, dirichlet: list) -> tuple[dict, ...]:
    """The reentrant corners of a polygon whose two edges both carry Dirichlet data that are
    built into the field (``dirichlet``: those conditions): where the solution is singular."""
    from .geometry import Polygon

    if not isinstance(space, Polygon) or not dirichlet:
        return ()
    parts = {p for c in dirichlet for p in (space.boundary_parts if c.on is None else c.on)}
    found = [c for c in space.reentrant_corners() if set(c["parts"]) <= parts]
    return tuple({k: v for k, v in c.items() if k != "parts"} for c in found)


def _grid(problem: Problem) -> tuple[torch.Tensor, int]:
    """A regular grid over the bounding box, ``(n^d, d)``, and ``n``."""
    lo, hi = problem.domain.bounds
    d = problem.domain.dim
    n = {1: 256, 2: _GRID, 3: 32}.get(d, 8)
    axes = [np.linspace(lo[i], hi[i], n) for i in range(d)]
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)
    return torch.as_tensor(mesh, dtype=torch.float64), n


def _lift_degrees(problem: Problem, lift) -> tuple[int, ...]:
    r"""Chebyshev degrees per axis for the lift: :math:`p_i = \lceil 1.5\,\omega_i
    ceil + 14`,
        :math:`\omega_i` the lift's frequency along axis :math:`i` (as for :math:`\omega_0`), at
        most 60; a series of degree :math:`p` resolves :math:`\sin(\omega s)` on :math:`[-1, 1]`
        to round-off once :math:`p` is a little above :math:`\omega`."""
    x, n = _grid(problem)
    d = problem.domain.dim
    with torch.no_grad():
        v = np.nan_to_num(lift(x).numpy().reshape([n] * d))
    freq = spectrum_frequency(v - v.mean())
    size = max(float(np.abs(v).max()), 1e-300)
    # an axis along which the lift does not vary (a lift constant in time, say) needs degree 0
    varies = [float(np.ptp(v, axis=i).max()) > 1e-13 * size for i in range(d)]
    return tuple(
        int(min(math.ceil(1.5 * w) + 12, 60)) if moving else 0
        for w, moving in zip(freq, varies, strict=True)
    )


class _Lift(nn.Module):
    def __init__(self, lift) -> None:
        super().__init__()
        self.lift = lift
        self.dummy = nn.Parameter(torch.zeros((), dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.lift is None:
            return (x[:, :1] * 0.0) + self.dummy
        return self.lift(x).unsqueeze(1) + self.dummy


def _rms(v: torch.Tensor) -> float:
    return float(torch.sqrt(torch.mean(v.detach() ** 2)))


def _lift_residual(problem: Problem, lift, pts: torch.Tensor) -> torch.Tensor:
    """The equation's residual of the lift (0 where it has none) at ``pts``."""
    from .engine import field_values
    from .operators import residual_values

    x = pts.detach().clone().requires_grad_(True)
    u = field_values(_Lift(lift), x, problem.domain.names, problem.time_index, None, "autograd")
    return residual_values(problem.residual(u, x), x.shape[0])


def _departure_scale(problem: Problem, plan: ConstraintPlan, pts: torch.Tensor) -> float:
    r"""The scale :math:`C` of :math:`u - A` (see the module's docstring)."""
    x = pts[:1024]
    r0 = _rms(_lift_residual(problem, plan.lift, x))
    a = 0.0 if plan.lift is None else _rms(plan.lift(x))
    dom = problem.domain
    if plan.time is not None:
        k = problem.equation.time_order
        T = dom.t1 - dom.t0
        est = r0 * T**k / math.factorial(max(k, 1))
    else:
        lo, hi = dom.bounds
        lam = _first_eigenvalue(lo, hi)
        est = r0 / lam
    floor = max(1e-3 * a, 1e-6)
    return float(max(est, floor)) if math.isfinite(est) else 1.0


def _first_eigenvalue(lo: np.ndarray, hi: np.ndarray) -> float:
    r""":math:`\lambda_1 = \sum_i (\pi/L_i)^2`, the first Dirichlet eigenvalue of the box."""
    return sum((math.pi / float(b - a)) ** 2 for a, b in zip(lo, hi, strict=True))


def spectrum_frequency(values: np.ndarray, fraction: float = 0.99) -> list[float]:
    """Per axis, the angular frequency (radians per unit of inputs scaled to [-1, 1]) below
    which ``fraction`` of the energy of ``values`` (a grid over the box) lies. A Hann window
    keeps the jump between the grid's ends out of the spectrum; it widens each line by one
    bin, which is taken off again."""
    out = []
    for axis in range(values.ndim):
        shape = [1] * values.ndim
        shape[axis] = values.shape[axis]
        windowed = values * np.hanning(values.shape[axis]).reshape(shape)
        spec = np.abs(np.fft.rfft(windowed, axis=axis)) ** 2
        spec = spec.sum(axis=tuple(i for i in range(values.ndim) if i != axis))
        cum = np.cumsum(spec)
        if cum[-1] <= 0:
            out.append(0.0)
            continue
        m = int(np.searchsorted(cum / cum[-1], fraction))
        out.append(math.pi * max(m - 1, 0))  # m periods over a scaled length of 2
    return out


def _frequency(problem: Problem, plan: ConstraintPlan | None) -> list[float]:
    """Per axis, the highest angular frequency of the problem's data, per scaled input unit."""
    from .equations import Helmholtz, Wave

    dom = problem.domain
    lo, hi = dom.bounds
    d = dom.dim
    x, n = _grid(problem)
    lift = None if plan is None else plan.lift
    fields = []
    size = 0.0
    with torch.no_grad():
        if lift is not None:
            fields.append(lift(x).numpy())
            size = float(np.sqrt(np.mean(fields[0] ** 2)))
    res = _lift_residual(problem, lift, x).detach().numpy()
    lam = _first_eigenvalue(lo, hi)
    if np.sqrt(np.mean(res**2)) > 1e-8 * max(size * lam, 1.0):  # not the round-off of an
        fields.append(res)  # exact lift
    freq = [0.0] * d
    for v in fields:
        v = np.nan_to_num(v.reshape([n] * d))
        for i, f in enumerate(spectrum_frequency(v - v.mean())):
            freq[i] = max(freq[i], f)
    half = (hi - lo) / 2
    eq = problem.equation
    if isinstance(eq, Helmholtz) and not callable(eq.k):
        freq = [max(f, float(eq.k) * h) for f, h in zip(freq, half, strict=True)]
    if isinstance(eq, Wave) and problem.time_index is not None and not callable(eq.c):
        ti = problem.time_index
        k_space = max(
            (freq[i] / half[i] for i in range(d) if i != ti), default=0.0
        )  # radians per unit length
        freq[ti] = max(freq[ti], float(eq.c) * k_space * half[ti])
    return freq


_WIDTH = 32


def _parameters(d: int, depth: int) -> int:
    """The parameters of a SIREN of ``depth`` hidden layers of :data:`_WIDTH` on ``d`` inputs."""
    w = _WIDTH
    return (d + 1) * w + (depth - 1) * (w + 1) * w + w + 1


def _resolving_points(frequencies: list[float]) -> float:
    r""":math:`\prod_i 4 m_i`: about 4 points per half-wave along every axis, with
    :math:`m_i = \max(1, 2\omega_i/\pi)` half-waves along axis :math:`i` (``frequencies``
    :math:`\omega_i` per unit of the scaled inputs, over their length 2)."""
    return math.prod(4.0 * max(1.0, 2.0 * f / math.pi) for f in frequencies)


def _depth(d: int, frequencies: list[float]) -> int:
    """Two hidden layers, or three where the data need more points than twice the parameters
    of two (fine data along several axes: a front in a space-time volume): the field's
    capacity then grows with what it must resolve, as the points do."""
    return 3 if _resolving_points(frequencies) > 2 * _parameters(d, 2) else 2


def _interior_count(params: int, frequencies: list[float], depth: int = 2) -> int:
    r"""Collocation points: twice the parameters, so that the least squares are over-determined
    (four times for a three-layer field: data that rich are limited by sampling, not by the
    optimizer), and at least :func:`_resolving_points`, about 4 per half-wave along every axis;
    at most 8 per parameter (the cost of a step grows with the points)."""
    least = (2 if depth == 2 else 4) * params
    return int(max(least, min(_resolving_points(frequencies), 8.0 * params)))


def derive_settings(
    problem: Problem, seconds: float | None = None, constraints: bool = True
) -> Settings:
    """Settings for ``problem`` chosen from its own scales (see the module's docstring);
    ``seconds`` replaces the derived budget; ``constraints=False`` builds no condition into
    the field."""
    plan = plan_constraints(problem) if constraints else None
    freqs = _frequency(problem, plan)
    w = max(freqs)
    per_axis = [float(min(max(f / 2.0, 1.0), 15.0)) for f in freqs]
    w0 = max(per_axis)
    # where the data are separated in scale (8x slower along some axis), the slow axes keep a
    # slow first layer: a fast one there lets the field oscillate between collocation points
    inputs = tuple(per_axis) if w0 >= 8.0 * min(per_axis) else None
    d = problem.domain.dim
    depth = _depth(d, freqs)
    field_spec = Siren(width=_WIDTH, depth=depth, w0=w0, w0_inputs=inputs)
    params = _parameters(d, depth)
    n_int = _interior_count(params, freqs, depth)
    soft = [not b for b in (plan.built_in if plan else (False,) * len(problem.conditions))]
    n_soft = max(256, n_int // 4) if any(soft) else 16
    sampler = SobolSampler(n_interior=n_int, n_boundary=n_soft, n_initial=n_soft)
    timed = problem.time_index is not None
    budget = seconds
    if budget is None:  # a minute per input beyond the first, longer for fine and moving data
        budget = 60.0 * max(d - 1, 1) * max(1.0, w0 / math.pi) * (2.0 if timed else 1.0)
        budget = float(min(max(budget, 60.0), 600.0))
    trainer = Trainer(
        adam_steps=0, lbfgs_steps=0, gauss_newton_steps=10**9, seconds=budget, log_every=5
    )
    reasons = {"frequency": w, "frequencies": freqs, "parameters": params}
    return Settings(field_spec, sampler, trainer, torch.float64, plan, reasons)
