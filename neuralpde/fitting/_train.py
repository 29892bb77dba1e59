"""The training of one network size: Levenberg–Marquardt on row subsets, then L-BFGS on all
training points where the rows were few."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from .. import limits
from ..fields import InputScaling, Siren
from ..training.gauss_newton import levenberg_marquardt, per_point_jacobian
from ._data import Data
from ._problem import EVAL_CHUNK, FitProblem, evaluate, gradient, relative

__all__ = ["Size", "parameter_count", "rows_for"]

#: Levenberg–Marquardt rows: at least this many (the kernel form's M x M system stays small)
_KERNEL_ROWS = 4000
#: ... and at most this many Jacobian entries (256 MB in float64)
_JACOBIAN_ELEMENTS = 2**25
#: points per backward pass of the per-point Jacobian (per forward pass: EVAL_CHUNK)
_JACOBIAN_CHUNK = 2048
#: a size is given up when its error fell by less than this factor over the last _WINDOW steps
_PLATEAU, _WINDOW = 0.9, 30
#: Levenberg-Marquardt steps on one subset before the next (when the rows are a subset)
_STEPS_PER_SUBSET = 2
#: the share of a size's time kept for L-BFGS on all points (when the rows are fewer than
#: twice the parameters: a subset's steps then pin them loosely)
_LBFGS_SHARE = 0.3


def parameter_count(width: int, depth: int, d: int) -> int:
    """Numbers a fitted SIREN stores: weights, biases and the input bounds."""
    return (d + 1) * width + (depth - 1) * (width + 1) * width + width + 1 + 2 * d


def rows_for(count: int, n_train: int) -> int:
    """Levenberg–Marquardt rows for a network of ``count`` parameters: 4 per parameter, but
    at least 3 per parameter and ``_KERNEL_ROWS`` (or all training points, when fewer), and no
    more than the Jacobian's memory allows (``_JACOBIAN_ELEMENTS``)."""
    want = max(min(_KERNEL_ROWS, 4 * count), 3 * count)
    return int(max(1, min(n_train, _JACOBIAN_ELEMENTS // count, want)))


class Size:
    """One network size: its network, training and the errors it reached."""

    def __init__(self, prob: FitProblem, spec: Siren, data: Data, seed: int, rows: int) -> None:
        self.prob, self.spec, self.data, self.rows = prob, spec, data, rows
        lo, hi = data.lower, data.upper
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = InputScaling(spec.build(data.dim), lo.tolist(), hi.tolist())
        self.net = net.to(torch.float64)
        self.params = [p for p in self.net.parameters() if p.requires_grad]
        self.count = sum(t.numel() for t in self.net.state_dict().values())
        self.history: dict[str, list] = {k: [] for k in ("step", "time", "loss", "monitor")}
        self.history["phase"] = []
        self.steps = 0
        self.best = math.inf
        self.best_theta = parameters_to_vector(self.params).detach().clone()
        self.status = "time_budget"
        self.seconds = 0.0
        self.rng = np.random.default_rng([seed, 2, spec.width, spec.depth])
        self.order = self.rng.permutation(len(prob.v_train))
        self.offset = 0

    # the monitor: the error that judges the fit
    def monitor(self) -> float:
        """Relative L2 error on the held-out points, or on all training points without."""
        p = self.prob
        if len(p.v_hold):
            return relative(p.mean + p.scale * evaluate(self.net, p.x_hold), p.v_hold)
        return self.train_error()

    def train_error(self) -> float:
        p = self.prob
        return relative(p.mean + p.scale * evaluate(self.net, p.x_train), p.train_values)

    def _subset(self) -> np.ndarray:
        n = len(self.order)
        if self.rows >= n:
            return self.order
        idx = np.take(self.order, np.arange(self.offset, self.offset + self.rows), mode="wrap")
        self.offset = (self.offset + self.rows) % n
        return idx

    def _row_functions(
        self, idx: np.ndarray
    ) -> tuple[Callable[[], torch.Tensor], Callable[[], tuple[torch.Tensor, torch.Tensor]]]:
        p = self.prob
        x, v = p.x_train[idx], p.v_train[idx]
        m = len(idx)
        factor = p.scale / (p.rms * math.sqrt(m))
        g = None if p.g_train is None else p.g_train[idx]
        g_factor = 1.0 / (p.g_rms * math.sqrt(m))

        def value_rows(module: nn.Module, xs: torch.Tensor, vs: torch.Tensor) -> torch.Tensor:
            return (module(xs)[:, 0] - vs) * factor

        def gradient_rows(
            module: nn.Module, xs: torch.Tensor, gs: torch.Tensor, i: int
        ) -> torch.Tensor:
            xr = xs.detach().clone().requires_grad_(True)
            (gu,) = torch.autograd.grad(module(xr)[:, 0].sum(), xr, create_graph=True)
            return (gu[:, i] - gs[:, i]) * g_factor

        def residuals() -> torch.Tensor:
            parts = []
            for s in range(0, m, EVAL_CHUNK):
                xs, vs = x[s : s + EVAL_CHUNK], v[s : s + EVAL_CHUNK]
                with torch.no_grad():
                    parts.append(value_rows(self.net, xs, vs))
            if g is not None:
                gu = torch.cat(
                    [gradient(self.net, x[s : s + EVAL_CHUNK]) for s in range(0, m, EVAL_CHUNK)]
                )
                parts.append(((gu - g) * g_factor).T.reshape(-1))
            return torch.cat(parts)

        def residuals_and_jacobian() -> tuple[torch.Tensor, torch.Tensor]:
            r_parts, j_parts = [], []
            fns = [lambda mod, xs, vs, gs: value_rows(mod, xs, vs)]
            if g is not None:
                fns += [
                    (lambda mod, xs, vs, gs, i=i: gradient_rows(mod, xs, gs, i))
                    for i in range(self.data.dim)
                ]
            for fn in fns:
                for s in range(0, m, _JACOBIAN_CHUNK):
                    xs, vs = x[s : s + _JACOBIAN_CHUNK], v[s : s + _JACOBIAN_CHUNK]
                    gs = None if g is None else g[s : s + _JACOBIAN_CHUNK]
                    r, jac = per_point_jacobian(
                        self.net,
                        xs.shape[0],
                        lambda mod, xs=xs, vs=vs, gs=gs, fn=fn: fn(mod, xs, vs, gs),
                    )
                    r_parts.append(r)
                    j_parts.append(jac)
            return torch.cat(r_parts), torch.cat(j_parts)

        return residuals, residuals_and_jacobian

    def _record(self, started: float, loss: float, monitor: float, phase: str) -> None:
        self.steps += 1
        h = self.history
        h["step"].append(self.steps)
        h["time"].append(time.perf_counter() - started)
        h["loss"].append(loss)
        h["monitor"].append(monitor)
        h["phase"].append(phase)
        if monitor < self.best:
            self.best = monitor
            self.best_theta = parameters_to_vector(self.params).detach().clone()

    def plateaued(self) -> bool:
        """Whether the best monitored error fell by less than ``_PLATEAU`` over ``_WINDOW``
        steps."""
        mon = self.history["monitor"]
        if len(mon) <= _WINDOW:
            return False
        return min(mon) > _PLATEAU * min(mon[: len(mon) - _WINDOW])

    def train(self, deadline: float, target: float | None, started: float, grow: bool) -> None:
        """Levenberg–Marquardt until ``deadline``, the ``target`` (on the monitor), a stall or,
        when ``grow`` (a larger size follows), a plateau; then, where the rows were a subset,
        L-BFGS on all training points. The best state seen is kept."""
        t0 = time.perf_counter()
        self.best = self.monitor()  # the initial network's: what a run without a step keeps
        subsets = self.rows < len(self.order)
        lbfgs = subsets and self.rows < 2 * self.count
        lm_deadline = deadline - _LBFGS_SHARE * (deadline - t0) if lbfgs else deadline
        stop: dict[str, str] = {}
        damping = 1e-3

        def on_step(step: int, loss: float, lam: float) -> bool:
            nonlocal damping
            damping = lam
            mon = self.monitor()
            self._record(started, loss, mon, "gauss_newton")
            if target is not None and mon <= target:
                stop["why"] = "converged"
                return True
            if grow and self.plateaued():
                stop["why"] = "plateau"
                return True
            return False

        per_call = 0.0  # the last call's seconds: a call that cannot end in time is not begun
        while time.perf_counter() + (per_call if subsets else 0.0) < lm_deadline and not stop:
            t_call = time.perf_counter()
            residuals, both = self._row_functions(self._subset())
            status, _, _ = levenberg_marquardt(
                self.params,
                residuals,
                both,
                max_steps=_STEPS_PER_SUBSET if subsets else limits.MAX_STEPS,
                deadline=lm_deadline,
                tol=0.0,
                on_step=on_step,
                damping=damping,
            )
            if status in ("stalled", "time_budget") and not subsets:
                stop.setdefault("why", status)
            if status == "stalled" and subsets:
                damping = 1e-3
            per_call = time.perf_counter() - t_call
        if lbfgs and stop.get("why") not in ("converged", "plateau"):
            self._lbfgs(deadline, target, started, stop)
        vector_to_parameters(self.best_theta, self.params)
        self.status = stop.get("why", "time_budget")
        self.seconds = time.perf_counter() - t0

    def _lbfgs(
        self, deadline: float, target: float | None, started: float, stop: dict[str, str]
    ) -> None:
        """L-BFGS (strong Wolfe line search) on the squared misfit over all training points."""
        vector_to_parameters(self.best_theta, self.params)
        p = self.prob
        n = len(p.v_train)
        factor = (p.scale / p.rms) ** 2 / n
        opt = torch.optim.LBFGS(
            self.params, lr=1.0, max_iter=5, history_size=50, line_search_fn="strong_wolfe"
        )

        def closure() -> torch.Tensor:
            opt.zero_grad()
            total = torch.zeros((), dtype=torch.float64)
            for s in range(0, n, EVAL_CHUNK):
                with torch.enable_grad():
                    r = (
                        self.net(p.x_train[s : s + EVAL_CHUNK])[:, 0]
                        - p.v_train[s : s + EVAL_CHUNK]
                    )
                    part = factor * (r @ r)
                    part.backward()
                total = total + part.detach()
            return total

        per_step = 0.0
        while time.perf_counter() + per_step < deadline:
            t = time.perf_counter()
            loss = float(opt.step(closure))
            per_step = time.perf_counter() - t
            if not math.isfinite(loss):
                break
            mon = self.monitor()
            self._record(started, loss, mon, "lbfgs")
            if target is not None and mon <= target:
                stop["why"] = "converged"
                return
