r"""The physics-informed loss.

.. math::

    L(\theta) = \frac{1}{N}\sum_{j} r(x_j)^2 + \sum_c w_c \frac{1}{N_c}\sum_{j} e_c(x_j)^2,

with :math:`r` the equation's residual at interior points and :math:`e_c` the defect of condition
:math:`c` at its points (``u - g`` for Dirichlet and initial values, ``u_t - v`` for an initial
velocity, :math:`\\nabla u \\cdot n - g` for a Neumann condition,
:math:`a u + b \\nabla u\\cdot n - g` for Robin, :math:`u(x_a) - u(x_b)` and the difference
of the normal derivatives for a periodic pair, :math:`u(x_i) - d_i` for observations).

The defect is chosen by the condition's :attr:`~neuralpde.conditions.Condition.defect` (one rule
per value, in :func:`condition_defect`) and measured against its
:meth:`~neuralpde.conditions.Condition.target`; no condition class is named here.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .._arguments import check_columns
from ..coefficients import evaluate
from ..conditions import Condition
from ..engine import (
    DerivativePlan,
    Derivatives,
    bind_engine,
    check_precision,
    derivative_plan,
    field_values,
)
from ..operators import FieldValues, LinearForm, as_column, grad, residual_values
from ..problem import Problem
from ..sampling import CollocationPoints

__all__ = [
    "Batch",
    "field_column",
    "make_batch",
    "loss_terms",
    "probe_points",
    "residual_plan",
]

_GRADIENT = DerivativePlan(gradient=True)
_PROBE_POINTS = 8


@functools.lru_cache(maxsize=16)
def _time_derivative_plan(dim: int, time_index: int) -> DerivativePlan:
    r"""The plan of :math:`\partial_t u` alone: one channel with first-order part :math:`e_t`."""
    first = tuple(float(i == time_index) for i in range(dim))
    zero = tuple((0.0,) * dim for _ in range(dim))
    return DerivativePlan(second=(LinearForm(first, zero),))


@dataclass(frozen=True)
class Batch:
    """Collocation points as tensors, with the condition targets evaluated once per draw."""

    interior: torch.Tensor
    condition_points: tuple[torch.Tensor, ...]
    condition_targets: tuple[torch.Tensor, ...]
    condition_normals: tuple[torch.Tensor | None, ...] = ()


def make_batch(
    problem: Problem, points: CollocationPoints, dtype: torch.dtype, device: torch.device | str
) -> Batch:
    """Move a draw of points to tensors and evaluate each condition's data on it."""

    def tensor(a):
        return torch.as_tensor(a, dtype=dtype, device=device)

    cpts = tuple(tensor(p) for p in points.condition_points)
    targets = tuple(c.target(p) for c, p in zip(problem.conditions, cpts, strict=True))
    normals = tuple(
        None if n is None else tensor(n[:, : problem.domain.dim - (problem.time_index is not None)])
        for n in points.condition_normals
    )
    return Batch(tensor(points.interior).requires_grad_(True), cpts, targets, normals)


def probe_points(
    problem: Problem, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """A few fixed points inside ``problem``'s domain, shape ``(8, d)``, for checks."""
    unit = np.random.default_rng(0).random((_PROBE_POINTS, problem.domain.dim))
    return torch.as_tensor(problem.domain.interior(unit), dtype=dtype, device=device)


def residual_plan(
    problem: Problem, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"
) -> DerivativePlan:
    """The derivatives ``problem``'s residual uses, found on a few probe points in its domain
    (in the precision and on the device of training)."""
    x = probe_points(problem, dtype, device)
    return derivative_plan(problem.residual, x, problem.domain.names, problem.time_index)


def field_column(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``net(x)`` as one value per point, shape ``(N,)`` (see :func:`as_column`)."""
    return as_column(net(x), x)


def condition_defect(
    net: nn.Module,
    problem: Problem,
    cond: Condition,
    x: torch.Tensor,
    target: torch.Tensor,
    normals: torch.Tensor | None,
    engine: str | Derivatives,
) -> torch.Tensor:
    """The defect of ``cond`` at its points ``x`` (with their outward ``normals`` on the
    boundary), against its ``target``, as its :attr:`~neuralpde.conditions.Condition.defect`
    says. ``engine`` is an engine's name or the run's bound :class:`Derivatives`."""
    names, ti = problem.domain.names, problem.time_index
    kind = cond.defect
    if kind == "value":
        return field_column(net, x) - target
    if kind == "time":
        # u_t alone, as one channel seeded with e_t: no rows for the other first derivatives
        assert ti is not None  # Problem refuses initial conditions on a steady domain
        plan = _time_derivative_plan(problem.domain.dim, ti)
        u = _values(net, x.detach().requires_grad_(True), names, ti, plan, engine)
        return u.linear_form(plan.second[0]) - target
    if kind not in ("normal", "robin", "periodic"):
        raise TypeError(
            f"no defect rule for {type(cond).__name__}: its defect is {kind!r}, not one of "
            "neuralpde.conditions.DEFECTS"
        )
    x = x.detach().requires_grad_(True)
    u = _values(net, x, names, ti, _GRADIENT, engine)
    if kind == "periodic":  # first half on part_a, second half its partners
        m = x.shape[0] // 2
        du = (grad(u) * torch.cat([normals, normals])).sum(dim=1)
        return torch.cat([u.value[:m] - u.value[m:], du[:m] - du[m:]])
    dn = (grad(u) * normals).sum(dim=1)
    if kind == "normal":
        return dn - target
    name = type(cond).__name__  # robin: a u + b du/dn
    a = evaluate(cond.a, x, f"{name}.a")
    b = evaluate(cond.b, x, f"{name}.b")
    return a * u.value + b * dn - target


def _values(
    net: nn.Module,
    x: torch.Tensor,
    names: Sequence[str],
    ti: int | None,
    plan: DerivativePlan,
    engine: str | Derivatives,
) -> FieldValues:
    """``net`` at ``x`` with ``plan``'s derivatives, by a bound engine or a named one."""
    if isinstance(engine, Derivatives):
        return engine.for_plan(plan).values(net, x)
    return field_values(net, x, names, ti, plan, engine)


def _bind(
    net: nn.Module, problem: Problem, x: torch.Tensor, engine: str, plan: DerivativePlan | None
) -> Derivatives:
    """The engine named ``engine`` bound to ``net`` and ``problem``'s residual ``plan`` (found
    on probe points in ``x``'s precision and device when not given), ``x`` checked against
    ``net`` as :func:`~neuralpde.engine.field_values` does."""
    if plan is None and engine != "autograd":
        plan = residual_plan(problem, x.dtype, x.device)
    names, ti = problem.domain.names, problem.time_index
    check_columns(x, names, ti)
    check_precision(net, x)
    return bind_engine(net, names, ti, plan, engine)


def loss_terms(
    net: nn.Module,
    problem: Problem,
    batch: Batch,
    *,
    engine: str | Derivatives = "auto",
    plan: DerivativePlan | None = None,
    built_in: Sequence[bool] | None = None,
    weights: Sequence[float] | None = None,
) -> tuple[torch.Tensor, dict]:
    """Total loss and its unweighted terms (``residual`` and one per condition).

    ``engine`` chooses how derivatives are computed (see :func:`neuralpde.engine.field_values`):
    an engine's name, or an engine bound once for the run
    (:func:`~neuralpde.engine.bind_engine`), which brings its own plan. ``plan`` is the
    residual's :func:`residual_plan`, found here when not given. Conditions flagged in
    ``built_in`` are met by the field itself (a hard constraint) and left out; ``weights``
    replace the conditions' own weights.
    """
    x = batch.interior
    if not isinstance(engine, Derivatives):
        engine = _bind(net, problem, x, engine, plan)
    elif plan is not None and plan != engine.plan:
        raise ValueError("plan differs from the bound engine's own plan: pass one or the other")
    u = engine.values(net, x)
    r = residual_values(problem.residual(u, x), x.shape[0])
    res = (r**2).mean()
    terms = {"residual": res}
    total = res
    normals = batch.condition_normals or (None,) * len(problem.conditions)
    for i, (cond, pts, target, nrm) in enumerate(
        zip(
            problem.conditions,
            batch.condition_points,
            batch.condition_targets,
            normals,
            strict=True,
        )
    ):
        if built_in is not None and built_in[i]:
            continue
        e = condition_defect(net, problem, cond, pts, target, nrm, engine)
        term = (e**2).mean()
        terms[f"{type(cond).__name__.lower()}_{i}"] = term
        total = total + (cond.weight if weights is None else weights[i]) * term
    return total, terms
