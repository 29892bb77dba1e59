"""The pieces of a training run: one explicit state, the callbacks that watch it, the phases
that change it.

:class:`TrainingState` holds everything a run carries (the field and its trainable parameters,
the points, the loss and its weights, the clock, the step, the last finite parameters, the
status). Callbacks see it at fixed moments: :class:`Recorder` keeps the history (with the
monitor) and logs it, :class:`Progress` shows a bar, :class:`DivergenceGuard` restores the last
finite parameters when the loss stops being finite. Each phase (:class:`AdamPhase`,
:class:`LBFGSPhase`, :class:`GaussNewtonPhase`) runs on the state until its steps, the clock or
a status ends it. :meth:`neuralpde.training.Trainer.fit` strings them together.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .._arguments import as_number
from ..engine import Derivatives
from ..problem import Problem
from ..sampling import Sampler
from .checkpoint import Checkpointer, stop_requested
from .gauss_newton import (
    balance_weights,
    check_jacobian,
    levenberg_marquardt,
    per_point_capable,
    rows_and_jacobian,
)
from .gauss_newton import rows as gn_rows
from .loss import Batch, loss_terms, make_batch
from .status import Status

__all__ = [
    "TrainingState",
    "Recorder",
    "Progress",
    "DivergenceGuard",
    "AdamPhase",
    "LBFGSPhase",
    "GaussNewtonPhase",
]

log = logging.getLogger("neuralpde.training")

Monitor = Callable[[nn.Module], float]


@dataclass
class TrainingState:
    """A training run's state. ``deadline`` is a ``time.perf_counter`` value (``inf``: none)."""

    net: nn.Module
    params: list[torch.Tensor]
    problem: Problem
    sampler: Sampler
    seed: int
    dtype: torch.dtype
    device: torch.device
    derivatives: Derivatives  # the residual's derivative engine, bound once for the run
    built_in: tuple[bool, ...]
    weights: list[float]
    start: float
    deadline: float
    batch: Batch | None = None
    step: int = 0
    loss: float = math.inf
    fresh: bool = False  # whether `loss` is the loss of the parameters as they are
    status: Status | None = None
    clock_out: bool = False  # a phase stopped because its next step would pass the deadline
    history: dict[str, list] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    guard: DivergenceGuard | None = None
    recorder: Recorder | None = None
    progress: Progress | None = None
    round: int = 0  # the draw of points in use
    checkpointer: Checkpointer | None = None
    resume: dict | None = None  # the position a resumed phase starts from

    def boundary(self, phase: str, position: Callable[[], dict]) -> bool:
        """At a step boundary of ``phase``: write a checkpoint when one is due or a stop was
        asked (``position()`` says where in the phase the run is); returns whether to stop
        (the status is then ``"interrupted"``)."""
        stop = stop_requested()
        if self.checkpointer is not None and (stop or self.checkpointer.due()):
            self.checkpointer.write(self, phase, position())
        if stop:
            self.status = Status.INTERRUPTED
        return stop

    def resumed(self, phase: str) -> dict | None:
        """The position to resume ``phase`` from (once), or ``None`` to start it afresh."""
        if self.resume is None or self.resume["phase"] != phase:
            return None
        position, self.resume = self.resume["position"], None
        return position

    def compute_loss(self) -> torch.Tensor:
        return loss_terms(
            self.net,
            self.problem,
            self.batch,
            engine=self.derivatives,
            built_in=self.built_in,
            weights=self.weights,
        )[0]

    def draw(self, round_: int) -> None:
        """Draw ``round_`` of points into :attr:`batch`, timed as sampling."""
        t = time.perf_counter()
        pts = self.sampler.draw(self.problem, self.seed, round_)
        self.batch = make_batch(self.problem, pts, self.dtype, self.device)
        self.round = round_
        self.timings["sampling"] += time.perf_counter() - t

    def accept(self, loss: float) -> bool:
        """Take ``loss`` as the loss of the parameters as they are: ``False`` (and the run
        diverged, its last finite parameters restored) when it is not finite."""
        self.fresh = True
        if not self.guard.check(self, loss):
            return False
        self.loss = loss
        return True

    def record(self, phase: str) -> None:
        self.recorder.record(self, phase)

    def advance(self, k: int) -> None:
        self.step += k
        self.progress.advance(self, k)

    def running(self) -> bool:
        return self.status is None and time.perf_counter() < self.deadline


class DivergenceGuard:
    """Keeps a copy of the last parameters whose loss was finite, and restores them (undoing
    the steps after them) on a loss that is not."""

    def __init__(self, net: nn.Module) -> None:
        self.good = _snapshot(net)
        self.good_loss = math.inf
        self.good_step = 0

    def check(self, state: TrainingState, loss: float) -> bool:
        if math.isfinite(loss):
            self.good, self.good_loss = _snapshot(state.net), loss
            self.good_step = state.step
            return True
        state.net.load_state_dict(self.good)
        state.step = self.good_step
        state.status = Status.DIVERGED
        return False


class Recorder:
    """The history: step, wall time, training time (without the monitor's), loss, phase and
    the monitor's value; each record is logged (at INFO without a progress bar)."""

    def __init__(self, state: TrainingState, monitor: Monitor | None) -> None:
        self.monitor = monitor
        for key in ("step", "time", "train_time", "loss", "phase", "monitor"):
            state.history[key] = []

    def record(self, state: TrainingState, phase: str) -> None:
        t = time.perf_counter()
        m = _monitor_value(self.monitor, state.net) if self.monitor is not None else math.nan
        state.timings["monitor"] += time.perf_counter() - t
        h = state.history
        h["step"].append(state.step)
        h["time"].append(time.perf_counter() - state.start)
        h["train_time"].append(h["time"][-1] - state.timings["monitor"])
        h["loss"].append(state.loss)
        h["phase"].append(phase)
        h["monitor"].append(m)
        extra = "" if self.monitor is None else f" monitor={m:.3e}"
        lvl = logging.INFO if state.progress.disabled else logging.DEBUG  # the bar shows it
        log.log(lvl, "%s step %d loss=%.3e%s", phase, state.step, state.loss, extra)
        state.progress.show_loss(state.loss)


class Progress:
    """A progress bar: in steps, or in seconds for a run that ends on the clock (so that its
    total and the time left are right)."""

    def __init__(self, name: str, total: float, by_clock: bool, show: bool | None) -> None:
        self.by_clock = by_clock
        self.total = total
        self.bar = tqdm(
            total=total or None,
            disable=None if show is None else not show,
            desc=name,
            unit="s" if by_clock else "step",
            leave=False,
            dynamic_ncols=True,
            bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}{postfix}]"
            if by_clock
            else None,
        )

    @property
    def disabled(self) -> bool:
        return bool(self.bar.disable)

    def advance(self, state: TrainingState, k: int) -> None:
        if self.by_clock:
            self.bar.n = min(time.perf_counter() - state.start, self.total)
            self.bar.refresh()
        else:
            self.bar.update(k)

    def show_loss(self, loss: float) -> None:
        self.bar.set_postfix(loss=f"{loss:.2e}")

    def close(self, state: TrainingState) -> None:
        if self.by_clock:
            self.advance(state, 0)
        self.bar.close()


@dataclass
class AdamPhase:
    """Adam with an exponentially decaying rate, on points redrawn every ``resample_every``
    steps; it stops at ``deadline`` (its share of the budget) too."""

    steps: int
    lr: float
    final_lr: float
    deadline: float
    log_every: int
    tol: float

    def run(self, s: TrainingState, opt: torch.optim.Optimizer) -> bool:
        """Returns whether the phase was cut short by its share of the time."""
        t0 = time.perf_counter()
        gamma = (self.final_lr / self.lr) ** (1.0 / max(self.steps, 1))
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma)
        first, cut = 0, False
        at = s.resumed("adam")
        if at is not None:
            opt.load_state_dict(at["optimizer"])
            sched.load_state_dict(at["scheduler"])
            first = int(at["k"])
        every = s.sampler.resample_every

        def position() -> dict:
            return {"k": k + 1, "optimizer": opt.state_dict(), "scheduler": sched.state_dict()}

        for k in range(first, self.steps):
            if every and k > 0 and k % every == 0:
                s.draw(s.round + 1)
            opt.zero_grad(set_to_none=True)
            loss = s.compute_loss()
            if not s.accept(float(loss.detach())):
                break
            if k % self.log_every == 0:  # recorded with the parameters that gave it
                s.record("adam")
            if s.loss <= self.tol:
                s.status = Status.CONVERGED
                break
            backward(loss)
            opt.step()
            sched.step()
            s.fresh = False
            s.advance(1)
            if s.boundary("adam", position):
                break
            if time.perf_counter() >= self.deadline:
                cut = k + 1 < self.steps  # its share of the time, not its steps
                break
        s.timings["adam"] = time.perf_counter() - t0
        return cut


@dataclass
class LBFGSPhase:
    """L-BFGS with a strong-Wolfe line search, in chunks of at most 20 iterations (the last
    ones sized to end near the deadline); a chunk that leaves the loss unchanged ends the run
    as ``stalled``."""

    steps: int
    log_every: int
    tol: float
    first: bool  # no phase ran before: the history starts from the starting field

    def run(self, s: TrainingState, opt: torch.optim.LBFGS) -> None:
        t0 = time.perf_counter()

        def closure() -> torch.Tensor:
            opt.zero_grad(set_to_none=True)
            loss = s.compute_loss()
            backward(loss)
            return loss.detach()

        done, next_log, per_iter = 0, 0, 0.0
        at = s.resumed("lbfgs")
        if at is not None:
            opt.load_state_dict(at["optimizer"])
            done, next_log = int(at["done"]), int(at["next_log"])
        elif self.first and s.accept(float(s.compute_loss().detach())):
            s.record("lbfgs")
            next_log = self.log_every
            if s.loss <= self.tol:
                s.status = Status.CONVERGED

        def position() -> dict:
            return {"done": done, "next_log": next_log, "optimizer": opt.state_dict()}

        while s.running() and done < self.steps:
            chunk = self._chunk(s, done, per_iter)
            t_chunk = time.perf_counter()
            opt.param_groups[0]["max_iter"] = chunk
            before = opt.state[s.params[0]].get("n_iter", 0)
            opt.step(closure)
            advanced = opt.state[s.params[0]].get("n_iter", 0) - before
            if advanced > 0:
                per_iter = (time.perf_counter() - t_chunk) / advanced
            done += advanced
            s.advance(advanced)
            previous = s.loss
            if not s.accept(float(s.compute_loss().detach())):
                break
            if done >= next_log:
                s.record("lbfgs")
                next_log = done + self.log_every
            if s.loss <= self.tol:
                s.status = Status.CONVERGED
            # no change at all over a chunk: torch's L-BFGS counts an iteration even when its
            # line search finds no descent, so `advanced` alone does not show it
            elif advanced == 0 or s.loss == previous:
                s.status = Status.STALLED
            if s.status is None and s.boundary("lbfgs", position):
                break
        s.timings["lbfgs"] = time.perf_counter() - t0

    def _chunk(self, s: TrainingState, done: int, per_iter: float) -> int:
        chunk = min(20, self.steps - done)
        if s.deadline < math.inf:  # chunks that end near the deadline
            if per_iter > 0:
                left = s.deadline - time.perf_counter()
                chunk = max(1, min(chunk, int(left / per_iter)))
            else:  # the time per iteration is not known yet: measure it on 2
                chunk = min(chunk, 2)
        return chunk


@dataclass
class GaussNewtonPhase:
    """Levenberg–Marquardt (:mod:`neuralpde.training.gauss_newton`) on the current points,
    after balancing the weights of the conditions left in the loss and checking the per-point
    Jacobian; skipped, with a warning, for a field or residual it cannot take."""

    steps: int
    log_every: int
    tol: float
    damping: float
    momentum: float = 0.0
    acceleration: float = 0.75

    def run(self, s: TrainingState) -> None:
        t0 = time.perf_counter()
        if not per_point_capable(s.net):
            log.warning(
                "the Gauss-Newton phase was skipped: it needs a field built from Siren or MLP "
                "(%s is not one)",
                type(s.net).__name__,
            )
        elif (at := s.resumed("gauss_newton")) is not None:  # weights as balanced before
            self._iterate(s, at)
        elif time.perf_counter() < s.deadline:
            engine = s.derivatives
            weights = balance_weights(s.net, s.problem, s.batch, s.built_in, engine)
            mismatch = check_jacobian(s.net, s.problem, s.batch, s.built_in, weights, engine)
            if not mismatch < 1e-4:
                log.warning(
                    "the Gauss-Newton phase was skipped: its Jacobian differs from finite "
                    "differences by %.1e (a residual whose rows read other points?)",
                    mismatch,
                )
            else:
                s.weights = weights
                self._iterate(s)
        s.timings["gauss_newton"] = time.perf_counter() - t0

    def _iterate(self, s: TrainingState, at: dict | None = None) -> None:
        done, damping = 0, self.damping
        if at is not None:
            done, damping, log_at = int(at["done"]), float(at["damping"]), int(at["log_at"])
        else:
            if not s.history["step"] and s.accept(float(s.compute_loss().detach())):
                s.record("gauss-newton")  # the history starts from the starting field
            log_at = s.step + self.log_every

        def on_step(k: int, loss: float, lam: float) -> bool:
            nonlocal log_at
            s.advance(1)
            s.loss = loss
            if s.step >= log_at:
                s.record("gauss-newton")
                log_at = s.step + self.log_every
            elif s.progress.by_clock and k % 10 == 0:
                s.progress.show_loss(loss)
            position = {"done": done + k, "damping": lam, "log_at": log_at}
            return s.boundary("gauss_newton", lambda: position)

        args = (s.net, s.problem, s.batch, s.built_in, s.weights, s.derivatives)
        status, _, loss = levenberg_marquardt(
            s.params,
            lambda: gn_rows(*args),
            lambda: rows_and_jacobian(*args)[:2],
            max_steps=self.steps - done,
            deadline=s.deadline,
            tol=self.tol,
            on_step=on_step,
            damping=damping,
            momentum=self.momentum,
            acceleration=self.acceleration,
        )
        if status == "interrupted":
            s.loss = loss
        elif s.accept(loss) and status == "time_budget":
            s.clock_out = True
        elif status is not None and s.status is None:
            s.status = status


def backward(loss: torch.Tensor) -> None:
    """``loss.backward()``, with the fused engine's refusal to be differentiated twice said in
    the terms of the cause."""
    try:
        loss.backward()
    except RuntimeError as e:
        if "once_differentiable" not in str(e):
            raise
        raise RuntimeError(
            "the residual differentiates u or an operator's result itself (torch.autograd.grad) "
            "at these points, though it did not at the probe points where its derivatives were "
            "planned, and the fused engine's derivatives cannot be differentiated again: train "
            "with derivatives='autograd'"
        ) from e


def _monitor_value(monitor: Monitor, net: nn.Module) -> float:
    """``monitor(net)`` as a float, or a TypeError saying what it returned instead."""
    m = monitor(net)
    one = (isinstance(m, torch.Tensor) and m.numel() == 1) or (
        isinstance(m, np.ndarray) and m.size == 1
    )
    if one:  # a one-element tensor or array: its number
        m = m.item()
    v = as_number(m)
    if v is None:
        raise TypeError(f"monitor(net) must return a number, got {type(m).__name__}: {m!r}")
    return v


def _snapshot(net: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of ``net``'s parameters and buffers, to restore with ``load_state_dict``."""
    return {k: v.detach().clone() for k, v in net.state_dict().items()}
