r"""The physics-informed loss.

.. math::

    L(\theta) = \frac{1}{N}\sum_{j} r(x_j)^2 + \sum_c w_c \frac{1}{N_c}\sum_{j} e_c(x_j)^2,

with :math:`r` the equation's residual at interior points and :math:`e_c` the defect of condition
:math:`c` at its points (``u - g`` for Dirichlet and initial values, ``u_t - v`` for an initial
velocity, :math:`\\nabla u \\cdot n - g` for a Neumann condition).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..coefficients import evaluate
from ..conditions import Condition, InitialVelocity, Neumann
from ..operators import FieldValues, dt, grad
from ..problem import Problem
from ..sampling import CollocationPoints

__all__ = ["Batch", "make_batch", "loss_terms"]


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
    targets = tuple(
        evaluate(c.value, p, f"{type(c).__name__}.value")
        for c, p in zip(problem.conditions, cpts, strict=True)
    )
    normals = tuple(
        None if n is None else tensor(n[:, : problem.domain.dim - (problem.time_index is not None)])
        for n in points.condition_normals
    )
    return Batch(tensor(points.interior).requires_grad_(True), cpts, targets, normals)


def _condition_defect(
    net: nn.Module,
    problem: Problem,
    cond: Condition,
    x: torch.Tensor,
    target: torch.Tensor,
    normals: torch.Tensor | None,
) -> torch.Tensor:
    if isinstance(cond, (InitialVelocity, Neumann)):
        x = x.detach().requires_grad_(True)
        u = FieldValues(net(x), x, problem.domain.names, problem.time_index)
        if isinstance(cond, Neumann):
            return (grad(u) * normals).sum(dim=1) - target
        return dt(u) - target
    return net(x)[:, 0] - target


def loss_terms(net: nn.Module, problem: Problem, batch: Batch) -> tuple[torch.Tensor, dict]:
    """Total loss and its unweighted terms (``residual`` and one per condition)."""
    x = batch.interior
    u = FieldValues(net(x), x, problem.domain.names, problem.time_index)
    r = problem.residual(u, x)
    if r.shape != (x.shape[0],):
        raise ValueError(
            f"the residual must have shape ({x.shape[0]},), got {tuple(r.shape)}; return one "
            "value per point"
        )
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
        e = _condition_defect(net, problem, cond, pts, target, nrm)
        term = (e**2).mean()
        terms[f"{type(cond).__name__.lower()}_{i}"] = term
        total = total + cond.weight * term
    return total, terms
