r"""Levenberg–Marquardt (damped Gauss–Newton) training in kernel form.

The loss is a sum of squares, :math:`L(\theta) = \lVert R(\theta) \rVert^2`, over the rows

.. math::

    R = \Big( \tfrac{1}{\sqrt{N}}\, r(x_j) \Big)_j \;\cup\;
        \Big( \sqrt{w_c/N_c}\; e_c(x_j) \Big)_{c, j}

of the residual and the defects of the conditions that are not built into the field. With the
Jacobian :math:`J = \partial R/\partial\theta` (:math:`M` rows, :math:`P` parameters) a step is

.. math::

    \delta = -J^\top \big(J J^\top + \lambda \mu I_M\big)^{-1} R
           = -\big(J^\top J + \lambda \mu I_P\big)^{-1} J^\top R,

solved in whichever form is smaller (the kernel form, :math:`M \times M`, when there are fewer
rows than parameters), :math:`\mu` the mean of the matrix's diagonal. A step is kept only when
it lowers the loss; the damping :math:`\lambda` is then divided by 3, else multiplied by 4 and
the step retried from the same Jacobian, so the loss never rises.

The Jacobian's rows come from one backward pass per group of points: each point is evaluated
with its own copy of the parameters (a broadcast view, no copy in memory), so the gradient with
respect to the copies is the per-point gradient (Goodfellow, 2015). This holds for any residual
written with :mod:`neuralpde.operators`, since each row depends on its own point only; it is
checked against finite differences before the first step.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from ..engine import Derivatives, autograd_engine
from ..fields.jet import Jet, supports_jet
from ..operators import residual_values
from ..problem import Problem
from .loss import Batch, condition_defect

__all__ = ["gram", "per_point_capable", "rows", "rows_and_jacobian", "levenberg_marquardt"]

log = logging.getLogger("neuralpde.training")

_PER_POINT_MODULES = ("SirenNet", "MLPNet", "InputScaling", "HardConstraint", "ChebyshevSeries")


def per_point_capable(net: nn.Module) -> bool:
    """Whether every module of ``net`` is one whose forward pass takes per-point parameters."""
    return all(
        type(m).__name__ in _PER_POINT_MODULES or isinstance(m, (nn.Linear, nn.ModuleList))
        for m in net.modules()
    )


class _PerPoint(nn.Module):
    """``net`` evaluated with the given (per-point) parameters in place of its own."""

    def __init__(self, net: nn.Module, params: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.__dict__["_net"] = net  # not a submodule: its parameters are replaced
        self.__dict__["_params"] = params

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(self._net, self._params, (x,))

    def supports_jet(self) -> bool:
        return supports_jet(self._net)

    def jet(self, j: Jet) -> Jet:
        """The field's jet with the per-point parameters (its linear layers then give each
        copy its own point's gradient: :mod:`neuralpde.fields.perpoint`)."""
        params = {f"net.{k}": v for k, v in self._params.items()}
        return torch.func.functional_call(_JetCall(self._net), params, (j,))


class _JetCall(nn.Module):
    """``net.jet`` as a module's forward, for :func:`torch.func.functional_call`."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, j: Jet) -> Jet:
        return self.net.jet(j)


def _groups(
    problem: Problem,
    batch: Batch,
    built_in: Sequence[bool],
    weights: Sequence[float],
    engine: Derivatives | None = None,
) -> list[tuple[int, float, Callable[[nn.Module], torch.Tensor]]]:
    """The row groups: ``(points, row factor, rows(module))``, interior first."""
    n = batch.interior.shape[0]
    out = [(n, 1.0 / math.sqrt(n), _interior_rows(problem, batch.interior, engine))]
    on_demand = autograd_engine(problem.domain.names, problem.time_index)
    normals = batch.condition_normals or (None,) * len(problem.conditions)
    for i, cond in enumerate(problem.conditions):
        if built_in[i]:
            continue
        pts, target, nrm = batch.condition_points[i], batch.condition_targets[i], normals[i]
        rows_n = pts.shape[0]  # a periodic pair gives two rows per pair of points

        def defect(module, cond=cond, pts=pts, target=target, nrm=nrm):
            return condition_defect(module, problem, cond, pts, target, nrm, on_demand)

        out.append((pts.shape[0], math.sqrt(weights[i] / max(rows_n, 1)), defect))
    return out


def _interior_rows(
    problem: Problem, x: torch.Tensor, engine: Derivatives | None = None
) -> Callable[[nn.Module], torch.Tensor]:
    """The residual at the points ``x``, as a function of the module that evaluates the field,
    its derivatives by ``engine`` (the run's bound engine; ``None``: autograd on demand)."""
    if engine is None:
        engine = autograd_engine(problem.domain.names, problem.time_index)

    def interior(module: nn.Module) -> torch.Tensor:
        u = engine.values(module, x)
        return residual_values(problem.residual(u, x), x.shape[0])

    return interior


def rows(
    net: nn.Module,
    problem: Problem,
    batch: Batch,
    built_in: Sequence[bool],
    weights: Sequence[float],
    engine: Derivatives | None = None,
) -> torch.Tensor:
    """The row vector :math:`R` (see the module's docstring), without its Jacobian; the
    interior rows in blocks of :data:`_ROWS_CHUNK` points, so that a trial step's memory does
    not grow with the points either. ``engine``: the residual's derivatives (the run's bound
    engine; ``None``, autograd on demand)."""
    parts = []
    for k, (n, f, fn) in enumerate(_groups(problem, batch, built_in, weights, engine)):
        if k == 0 and n > _ROWS_CHUNK:
            blocks = _blocks(batch.interior, _ROWS_CHUNK)
            rows_ = [_interior_rows(problem, xc, engine)(net).detach().reshape(-1) for xc in blocks]
            parts.append(f * torch.cat(rows_))
        else:
            parts.append(f * fn(net).detach().reshape(-1))
    return torch.cat(parts)


def _blocks(x: torch.Tensor, size: int) -> Iterator[torch.Tensor]:
    """``x`` in consecutive blocks of at most ``size`` points, each a leaf that takes gradients."""
    for start in range(0, x.shape[0], size):
        yield x[start : start + size].detach().requires_grad_(True)


def rows_and_jacobian(
    net: nn.Module,
    problem: Problem,
    batch: Batch,
    built_in: Sequence[bool],
    weights: Sequence[float],
    engine: Derivatives | None = None,
) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """:math:`R`, :math:`J` (``(M, P)``, parameters in ``net.parameters()`` order) and the
    number of rows of each group. :math:`J` is allocated once and filled block by block (the
    interior in blocks of :data:`_CHUNK` points), so the peak memory is about one Jacobian."""
    groups = _groups(problem, batch, built_in, weights, engine)
    conds = _group_conditions(problem, built_in)
    like = next(p for p in net.parameters() if p.requires_grad)
    count = sum(p.numel() for p in net.parameters() if p.requires_grad)
    total = sum(n for n, _, _ in groups)  # one row per point (a periodic pair: two rows)
    r_all = torch.empty(total, dtype=like.dtype, device=like.device)
    j_all = torch.empty(total, count, dtype=like.dtype, device=like.device)
    sizes, at = [], 0
    for k, ((n, factor, fn), cond) in enumerate(zip(groups, conds, strict=True)):
        if k == 0:  # the interior rows, in blocks of points
            pieces = (
                per_point_jacobian(net, xc.shape[0], _interior_rows(problem, xc, engine))
                for xc in _blocks(batch.interior, _CHUNK)
            )
        else:
            paired = getattr(cond, "where", None) == "pairs"
            pieces = iter([per_point_jacobian(net, n, fn, paired=paired)])
        first = at
        for r, jac in pieces:  # each block written in place, scaled by the group's factor
            m = r.numel()
            torch.mul(r, factor, out=r_all[at : at + m])
            torch.mul(jac, factor, out=j_all[at : at + m])
            at += m
            del jac  # before the next block's Jacobian is built
        sizes.append(at - first)
    if at != total:  # a group with other than one row per point
        raise RuntimeError(f"the Jacobian has {at} rows, expected {total}")
    return r_all, j_all, sizes


#: Points per backward pass of the interior rows' Jacobian: the per-point graph takes about
#: 0.1-0.4 MB a point in float64, so blocks bound the peak memory whatever the point count.
_CHUNK = 1024
#: Points per evaluation of the rows alone: their graph holds no per-point parameters, so it is
#: some hundred times smaller a point, and larger blocks keep the evaluation fast.
_ROWS_CHUNK = 16 * _CHUNK


def per_point_jacobian(
    net: nn.Module,
    n: int,
    fn: Callable[[nn.Module], torch.Tensor],
    paired: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows ``fn(module)`` of ``n`` points, each row reading its own point, and their Jacobian
    ``(rows, P)`` with respect to ``net``'s trainable parameters. ``paired``: the points come
    as two halves, and rows ``i`` and ``m + i`` both read points ``i`` and ``m + i`` (a
    periodic pair)."""
    named = [(k, p) for k, p in net.named_parameters() if p.requires_grad]
    params = {k: p.detach().unsqueeze(0).expand(n, *p.shape).requires_grad_(True) for k, p in named}
    r = fn(_PerPoint(net, params)).reshape(-1)
    leaves = list(params.values())
    if paired:
        m = n // 2
        blocks = []
        for half in (r[:m], r[m:]):
            g = torch.autograd.grad(half.sum(), leaves, retain_graph=True, allow_unused=True)
            per = _flat(g, leaves, n)
            blocks.append(per[:m] + per[m:])
        return r.detach(), torch.cat(blocks)
    g = torch.autograd.grad(r.sum(), leaves, allow_unused=True)
    return r.detach(), _flat(g, leaves, n)


def _group_conditions(problem: Problem, built_in: Sequence[bool]) -> list[object]:
    return [None] + [c for c, b in zip(problem.conditions, built_in, strict=True) if not b]


def _flat(grads, leaves, n: int) -> torch.Tensor:
    return torch.cat(
        [
            (torch.zeros_like(v) if g is None else g).reshape(n, -1)
            for g, v in zip(grads, leaves, strict=True)
        ],
        dim=1,
    )


def check_jacobian(
    net: nn.Module,
    problem: Problem,
    batch: Batch,
    built_in: Sequence[bool],
    weights: Sequence[float],
    engine: Derivatives | None = None,
) -> float:
    r"""Relative difference between :math:`J v` and a central difference of :math:`R` along a
    random unit direction :math:`v` (a small number, ~1e-8 in float64, when the per-point
    Jacobian is right)."""
    params = [p for p in net.parameters() if p.requires_grad]
    theta = parameters_to_vector(params).detach().clone()
    r0, jac, _ = rows_and_jacobian(net, problem, batch, built_in, weights, engine)
    gen = torch.Generator().manual_seed(0)
    v = torch.randn(theta.numel(), generator=gen, dtype=torch.float64).to(theta)
    v = v / torch.linalg.norm(v)
    h = 1e-4 if theta.dtype == torch.float64 else 1e-2
    try:
        vector_to_parameters(theta + h * v, params)
        rp = rows(net, problem, batch, built_in, weights, engine)
        vector_to_parameters(theta - h * v, params)
        rm = rows(net, problem, batch, built_in, weights, engine)
    finally:
        vector_to_parameters(theta, params)
    fd = (rp - rm) / (2 * h)
    jv = jac @ v
    return float(torch.linalg.norm(fd - jv) / max(float(torch.linalg.norm(fd)), 1e-300))


def balance_weights(
    net: nn.Module,
    problem: Problem,
    batch: Batch,
    built_in: Sequence[bool],
    engine: Derivatives | None = None,
) -> list[float]:
    r"""Weights of the soft conditions that give each group of rows the mean squared Jacobian
    row norm of the residual's (the trace balance of Wang, Yu & Perdikaris 2022), times the
    condition's own ``weight``."""
    ones = [1.0] * len(problem.conditions)
    _, jac, sizes = rows_and_jacobian(net, problem, batch, built_in, ones, engine)
    norms, start = [], 0
    for s, g in zip(sizes, _groups(problem, batch, built_in, ones), strict=True):
        block = jac[start : start + s] / g[1]  # the unscaled rows
        norms.append(float((block**2).sum(dim=1).mean()))
        start += s
    weights = list(ones)
    k = 1
    for i, cond in enumerate(problem.conditions):
        if built_in[i]:
            continue
        ratio = norms[0] / norms[k] if norms[k] > 0 and math.isfinite(norms[k]) else 1.0
        weights[i] = float(cond.weight * min(max(ratio, 1e-6), 1e6))
        k += 1
    return weights


def levenberg_marquardt(
    params: Sequence[torch.Tensor],
    residuals: Callable[[], torch.Tensor],
    residuals_and_jacobian: Callable[[], tuple[torch.Tensor, torch.Tensor]],
    *,
    max_steps: int,
    deadline: float,
    tol: float,
    on_step: Callable[[int, float, float], bool | None] | None = None,
    damping: float = 1e-3,
    momentum: float = 0.0,
    acceleration: float = 0.75,
) -> tuple[str | None, int, float]:
    r"""Minimise :math:`\lVert R \rVert^2` over ``params`` (changed in place): at most
    ``max_steps`` accepted steps until ``deadline`` (``time.perf_counter``).

    ``residuals()`` gives :math:`R` at the parameters as they are, ``residuals_and_jacobian()``
    :math:`R` and :math:`J`. Returns the status (``"converged"`` at a loss of ``tol`` or less,
    ``"stalled"`` when no damping gives a lower loss, ``"time_budget"`` when the next try would
    end past the deadline, or ``None`` when the steps are done), the steps taken and the final
    loss. ``on_step(step, loss, damping)`` follows each accepted step, with the damping the next
    step starts from; when it returns ``True`` the run stops there (status ``"interrupted"``).
    ``momentum`` :math:`\beta` (SPRING, Goldshlager et al. 2024) pulls each step towards
    :math:`\beta` times the last accepted one (see :class:`_Trial`). ``acceleration``
    :math:`\alpha`: each step :math:`\delta` gains the geodesic correction :math:`a/2` where
    :math:`2\lVert a \rVert \le \alpha \lVert \delta \rVert`, and the try is rejected
    where not (0: no correction; see :meth:`_Trial.accelerated`)."""
    params = list(params)
    lam = float(damping)
    steps = 0
    per_try = 0.0
    status = None
    with torch.no_grad():
        theta = parameters_to_vector(params).detach().clone()
    t0 = time.perf_counter()
    with torch.enable_grad():
        r, jac = residuals_and_jacobian()
    per_jac = time.perf_counter() - t0  # the last Jacobian's seconds
    loss = float(r @ r)
    last = None  # the last accepted step, for momentum
    while steps < max_steps and status is None:
        if loss <= tol:
            status = "converged"
            break
        trial = _Trial(params, theta, loss, lam, per_try, acceleration)
        prior = None if last is None or momentum == 0 else momentum * last
        before = theta
        status = trial.run(r, jac, residuals, deadline, prior)
        theta, loss, lam, per_try = trial.theta, trial.loss, trial.lam, trial.per_try
        last = theta - before
        if status == "time_budget":
            return status, steps, loss
        if status is not None:
            break
        steps += 1
        if on_step is not None and on_step(steps, loss, lam):
            return "interrupted", steps, loss
        if steps < max_steps and loss > tol:
            if time.perf_counter() + per_jac + per_try >= deadline:  # no time for one more step
                return "time_budget", steps, loss
            t0 = time.perf_counter()
            r = jac = None  # the old Jacobian goes before the new one is built
            with torch.enable_grad():
                r, jac = residuals_and_jacobian()
            per_jac = time.perf_counter() - t0
    if status is None and loss <= tol:
        status = "converged"
    return status, steps, loss


def gram(jac: torch.Tensor, kernel: bool) -> torch.Tensor:
    r""":math:`J J^\top` (``kernel``) or :math:`J^\top J`. The latter, when large, on the CPU:
    with :math:`J = [J_1 \dots J_4]` in column blocks, only the blocks :math:`J_i^\top J_j`,
    :math:`i \le j`, are formed (10 products of 16) and mirrored, in the process's own BLAS
    (another library's threads would compete with its own for the cores)."""
    if kernel:
        return jac @ jac.T
    m, p = jac.shape
    if jac.device.type != "cpu" or m * p * p < 1e9:  # small: the product's own cost dominates
        return jac.T @ jac
    edges = [round(i * p / _GRAM_BLOCKS) for i in range(_GRAM_BLOCKS + 1)]
    cols = [jac[:, a:b] for a, b in zip(edges, edges[1:], strict=False)]
    out = torch.empty(p, p, dtype=jac.dtype, device=jac.device)
    for i, (a, b) in enumerate(zip(edges, edges[1:], strict=False)):
        for j in range(i, _GRAM_BLOCKS):
            block = cols[i].T @ cols[j]
            out[a:b, edges[j] : edges[j + 1]] = block
            if j != i:
                out[edges[j] : edges[j + 1], a:b] = block.T
    return out


#: Column blocks of :func:`gram`: 4 forms 10/16 of the products, and larger blocks keep the
#: products efficient (on 2 cores, 9,092 x 2,273: 0.73 s against 1.07 s for the product).
_GRAM_BLOCKS = 4

#: The finite-difference step along a Levenberg–Marquardt step (as a fraction of it) that gives
#: the second directional derivative for the geodesic acceleration (Transtrum & Sethna's 0.1).
_GEODESIC_H = 0.1


class _Trial:
    """One Levenberg–Marquardt step from ``theta``: damped solves from the same Jacobian, the
    damping raised until the loss falls (then lowered for the next step). ``run`` leaves the
    accepted parameters in ``params`` and returns ``None``, or ``"stalled"`` (no damping up to
    1e12 lowers the loss; the parameters are those of ``theta``) or ``"time_budget"``."""

    def __init__(
        self, params, theta, loss: float, lam: float, per_try: float, acceleration: float = 0.0
    ) -> None:
        self.params, self.theta, self.loss, self.lam, self.per_try = (
            params,
            theta,
            loss,
            lam,
            per_try,
        )
        self.acceleration = float(acceleration)

    def accelerated(self, v, r, jac, chol, kernel: bool, residuals):
        r"""The step ``v`` with geodesic acceleration (Transtrum & Sethna 2012), or ``None``.

        The second directional derivative of the rows along ``v`` is taken by a finite
        difference, :math:`r_{vv} \approx \tfrac{2}{h}\big((R(\theta + h v) - R)/h - J v\big)`,
        :math:`h` = :data:`_GEODESIC_H`; the correction solves the same damped system,
        :math:`a = -(J^\top J + \lambda\mu I)^{-1} J^\top r_{vv}` (by the factor ``chol``),
        and the step is :math:`v + a/2`, the second-order path along the geodesic of the
        residual's manifold. Where :math:`2\lVert a\rVert > \alpha\lVert v\rVert` (the
        quadratic model is not to be trusted that far) the result is ``None``: the try is
        rejected and the damping raised. It costs one evaluation of the rows and a solve."""
        h = _GEODESIC_H
        vector_to_parameters(self.theta + h * v, self.params)
        with torch.enable_grad():
            rh = residuals()
        rvv = (2.0 / h) * ((rh - r) / h - jac @ v)
        rhs = rvv if kernel else jac.T @ rvv
        sol = torch.cholesky_solve(rhs.unsqueeze(1), chol)[:, 0]
        a = -(jac.T @ sol) if kernel else -sol
        size, step = float(torch.linalg.norm(a)), float(torch.linalg.norm(v))
        if not 2.0 * size <= self.acceleration * step:  # also NaN
            return None
        return v + 0.5 * a

    def run(self, r, jac, residuals, deadline: float, prior=None) -> str | None:
        r"""``prior`` :math:`\delta_0` (or ``None``): the step minimises
        :math:`\lVert R + J\delta \rVert^2 + \lambda\mu \lVert \delta - \delta_0 \rVert^2`,
        :math:`\delta = \delta_0 - J^\top (J J^\top + \lambda\mu I)^{-1}(R + J\delta_0)`; after a
        rejected try the prior is dropped, so that large damping still means a short step."""
        m, p = jac.shape
        kernel = m <= p
        mat = gram(jac, kernel)
        plain = r if kernel else jac.T @ r
        rhs = plain
        if prior is not None:
            rhs = r + jac @ prior if kernel else jac.T @ (r + jac @ prior)
        mu = float(mat.diagonal().mean())
        eye = torch.eye(mat.shape[0], dtype=mat.dtype, device=mat.device)
        while True:
            if time.perf_counter() + self.per_try >= deadline:
                return "time_budget"
            t0 = time.perf_counter()
            chol, info = torch.linalg.cholesky_ex(mat + (self.lam * mu) * eye)
            if int(info) != 0:
                self.lam *= 4.0
                continue
            sol = torch.cholesky_solve(rhs.unsqueeze(1), chol)[:, 0]
            delta = -(jac.T @ sol) if kernel else -sol
            if prior is not None:
                delta = delta + prior
            elif self.acceleration > 0:
                delta = self.accelerated(delta, r, jac, chol, kernel, residuals)
            new = math.inf
            if delta is not None:
                vector_to_parameters(self.theta + delta, self.params)
                with torch.enable_grad():
                    trial = residuals()
                new = float(trial @ trial)
            self.per_try = time.perf_counter() - t0
            if math.isfinite(new) and new < self.loss:
                self.theta, self.loss = self.theta + delta, new
                self.lam = max(self.lam / 3.0, 1e-12)
                return None
            vector_to_parameters(self.theta, self.params)
            self.lam *= 4.0
            prior, rhs = None, plain
            if self.lam > 1e12:  # no step of any length lowers the loss: round-off
                return "stalled"
