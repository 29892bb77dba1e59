"""Training: Adam, then L-BFGS, within a step, wall-time or loss budget.

Adam explores with a decaying learning rate on (optionally resampled) points; L-BFGS with a
strong-Wolfe line search then converges on a fixed draw. Training stops at the first of: all steps
done (status ``step_budget``), the wall-time budget spent (``time_budget``), the loss below
``tol`` (``converged``), L-BFGS leaving the loss unchanged over a chunk of iterations
(``stalled``: at the limit of the precision, where more steps would not help), or a non-finite
loss (``diverged``; the parameters of the last finite loss are restored).
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .._arguments import as_number, check_device, check_dtype, check_module_placement, check_seed
from ..checks import check_time_order
from ..fields.jet import jet_obstacle, library_jets_only
from ..operators import ENGINES, DerivativePlan, as_column, check_fused, engine_for
from ..problem import Problem
from ..sampling import Sampler
from .gauss_newton import (
    balance_weights,
    check_jacobian,
    levenberg_marquardt,
    per_point_capable,
    rows_and_jacobian,
)
from .gauss_newton import rows as gn_rows
from .loss import Batch, loss_terms, make_batch, probe_points, residual_plan
from .memory import retain_freed_memory

__all__ = ["Trainer", "TrainResult"]

log = logging.getLogger("neuralpde.training")

#: L-BFGS step count standing for "no step limit": the time budget ends the run.
_UNTIL_THE_CLOCK = 10**9

Monitor = Callable[[nn.Module], float]


@dataclass
class TrainResult:
    """What a training run did: its history, why it stopped and where the time went."""

    status: str
    message: str
    steps: int
    history: dict[str, list] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    # the engine that took the residual's derivatives: "fused", "autograd" or "none" (it takes
    # none)
    derivatives: str = ""


@dataclass(frozen=True)
class Trainer:
    r"""Optimizer settings and budgets.

    Parameters
    ----------
    adam_steps, lbfgs_steps:
        Iterations of each phase (either may be 0).
    lr, lr_final:
        Adam's learning rate decays exponentially from ``lr`` to ``lr_final``,
        :math:`\eta_k = \eta_0 (\eta_{\rm final}/\eta_0)^{k/K}` for the steps
        :math:`k = 0, \dots, K - 1`, ``K = adam_steps`` (the last takes :math:`\eta_{K-1}`, a
        factor :math:`(\eta_0/\eta_{\rm final})^{1/K}` above ``lr_final``);
        ``lr_final=None`` (the default) means ``lr / 10`` (:attr:`final_lr`); a given
        ``lr_final`` may not exceed ``lr``.
    seconds:
        Wall-time budget for the whole run (``None``: no limit). Adam gets at most
        ``adam_fraction`` of it when L-BFGS follows.
    tol:
        Stop when the total loss falls to this or below: checked after every Adam step and after
        every chunk of at most 20 L-BFGS iterations.
    lbfgs_history:
        Number of curvature pairs L-BFGS keeps.
    log_every:
        Record (and log) the history every this many steps.
    progress:
        Show a progress bar (``True`` or ``False``); ``None`` shows it only when standard error
        is a terminal.
    derivatives:
        How the residual's derivatives are computed: ``"auto"`` (one fused forward pass when
        the field supports it, else autograd), ``"fused"`` or ``"autograd"`` (nested
        reverse mode). Both give the same values to round-off; see :mod:`neuralpde.operators`.
        The Gauss–Newton phase takes its Jacobians by autograd in any case.
    gauss_newton_steps:
        Accepted Levenberg–Marquardt steps after Adam and L-BFGS
        (:mod:`neuralpde.training.gauss_newton`), on the first draw of points; it needs a
        field built from :class:`~neuralpde.Siren` or :class:`~neuralpde.MLP` (with input
        scaling and hard constraints) and is meant for float64.
    damping:
        The Levenberg–Marquardt damping :math:`\lambda` to start from (it then adapts).
    """

    adam_steps: int = 2000
    lbfgs_steps: int = 2000
    lr: float = 1e-3
    lr_final: float | None = None
    seconds: float | None = None
    adam_fraction: float = 0.3
    tol: float = 0.0
    lbfgs_history: int = 50
    log_every: int = 100
    progress: bool | None = None
    derivatives: str = "auto"
    gauss_newton_steps: int = 0
    damping: float = 1e-3

    def __post_init__(self) -> None:
        def number(name: str, integral: bool) -> int | float | None:
            """The setting as a Python number (stored so), or ``None`` if it is not one."""
            v = as_number(getattr(self, name), integral)
            if v is not None:
                object.__setattr__(self, name, v)
            return v

        for name in ("adam_steps", "lbfgs_steps", "gauss_newton_steps"):
            v = number(name, True)
            if v is None or v < 0:
                raise ValueError(
                    f"{name} must be a non-negative integer, got {getattr(self, name)!r}"
                )
        if self.adam_steps + self.lbfgs_steps + self.gauss_newton_steps == 0:
            raise ValueError(
                "adam_steps, lbfgs_steps and gauss_newton_steps are all 0: nothing to train"
            )
        damping = number("damping", False)
        if damping is None or not (math.isfinite(damping) and damping > 0):
            raise ValueError(f"damping must be a positive number, got {self.damping!r}")
        for name in ("lr", "lr_final"):
            if name == "lr_final" and self.lr_final is None:
                continue
            v = number(name, False)
            if v is None or not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {getattr(self, name)!r}")
        if self.lr_final is not None and self.lr_final > self.lr:
            raise ValueError(
                f"lr_final must not exceed lr (Adam's learning rate decays from lr to lr_final), "
                f"got lr={self.lr!r} and lr_final={self.lr_final!r}"
            )
        if self.seconds is not None:
            v = number("seconds", False)
            if v is None or not v > 0:
                raise ValueError(f"seconds must be a positive number or None, got {self.seconds!r}")
        frac = number("adam_fraction", False)
        if frac is None or not 0 < frac <= 1:
            raise ValueError(
                f"adam_fraction must be a number in (0, 1], got {self.adam_fraction!r}"
            )
        tol = number("tol", False)
        if tol is None or not (math.isfinite(tol) and tol >= 0):
            raise ValueError(f"tol must be a finite non-negative number, got {self.tol!r}")
        if self.derivatives not in ENGINES:
            raise ValueError(f"derivatives must be one of {ENGINES}, got {self.derivatives!r}")
        for name in ("lbfgs_history", "log_every"):
            v = number(name, True)
            if v is None or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.progress is not None:
            if not isinstance(self.progress, (bool, np.bool_)):
                raise ValueError(f"progress must be True, False or None, got {self.progress!r}")
            object.__setattr__(self, "progress", bool(self.progress))

    @property
    def final_lr(self) -> float:
        """The rate Adam's schedule decays to, reached after its ``adam_steps`` steps (the last
        step takes the one before): ``lr_final``, or ``lr / 10`` when it is None."""
        return self.lr / 10 if self.lr_final is None else self.lr_final

    def with_budget(self, steps: int | None = None, seconds: float | None = None) -> Trainer:
        """A copy with a new budget: ``steps`` in total (split as the phases are now; when
        L-BFGS has no step limit, after ``seconds`` alone, Adam keeps its steps, up to ``steps``,
        and L-BFGS takes the rest) and/or ``seconds`` of wall time. Either one alone replaces the
        whole budget: ``steps`` alone lifts the wall-time limit, ``seconds`` alone lifts L-BFGS's
        step limit (a trainer without L-BFGS stays without it, its Adam steps still a limit)."""
        kw = asdict(self)
        # the last phase that runs takes what the earlier ones leave
        last = "gauss_newton_steps" if self.gauss_newton_steps > 0 else "lbfgs_steps"
        phases = ["adam_steps", "lbfgs_steps", "gauss_newton_steps"]
        if steps is not None:
            n = as_number(steps, integral=True)
            if n is None or n < 1:
                raise ValueError(f"steps must be a positive integer, got {steps!r}")
            steps = n
            left = steps
            if getattr(self, last) >= _UNTIL_THE_CLOCK:  # no step limit: no split to keep
                for name in phases:
                    if name != last:
                        kw[name] = min(getattr(self, name), left)
                        left -= kw[name]
            else:
                total = sum(getattr(self, name) for name in phases)
                for name in phases:
                    if name != last:
                        kw[name] = min(round(steps * getattr(self, name) / total), left)
                        left -= kw[name]
            kw[last] = left
            if seconds is None:
                kw["seconds"] = None
        if seconds is not None:
            kw["seconds"] = seconds
            if steps is None and (self.lbfgs_steps > 0 or self.gauss_newton_steps > 0):
                kw[last] = max(getattr(self, last), _UNTIL_THE_CLOCK)
        if sum(kw[name] for name in phases) == 0:  # all steps went to a phase that had none
            kw[last] = steps
        return Trainer(**kw)

    def describe(self) -> dict:
        out = asdict(self)
        out["lr_final"] = self.final_lr
        for name in ("lbfgs_steps", "gauss_newton_steps"):
            if out[name] >= _UNTIL_THE_CLOCK:
                out[name] = "until the time budget"
        return out

    # ------------------------------------------------------------------------------------------
    def fit(
        self,
        net: nn.Module,
        problem: Problem,
        sampler: Sampler,
        *,
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
        monitor: Monitor | None = None,
        built_in: Sequence[bool] | None = None,
    ) -> TrainResult:
        """Train ``net`` in place on ``problem``; returns the history and stopping reason.

        ``monitor(net)`` (e.g. the error against an exact solution) is recorded with the history.
        ``net`` may be any ``nn.Module`` mapping ``(N, d)`` points to ``(N, 1)`` (or ``(N,)``)
        values; its parameters and buffers must already have ``dtype`` and live on ``device``
        (``net.to(...)``). Before any step, ``net`` is tried on a few points and, when it carries
        derivatives forward with a ``jet`` of its own, its derivatives are compared with
        autograd's there (:func:`neuralpde.operators.check_fused`). Unlike
        :func:`neuralpde.solve`, this does not run :func:`neuralpde.checks.check_problem`; call
        it first for a new problem. The time derivatives the residual takes are checked against
        the equation's ``time_order`` (:func:`neuralpde.checks.check_time_order`).
        On a CPU, freed memory is kept for reuse between steps (see
        :func:`neuralpde.training.retain_freed_memory`). ``built_in`` flags the conditions
        that ``net`` meets by construction (a hard constraint); they are left out of the loss.
        """
        if not isinstance(problem, Problem):
            raise TypeError(f"problem must be a neuralpde Problem, got {type(problem).__name__}")
        if not isinstance(sampler, Sampler):
            raise TypeError(f"sampler must be a Sampler, got {type(sampler).__name__}")
        if not isinstance(net, nn.Module):
            raise TypeError(f"net must be a torch.nn.Module, got {type(net).__name__}")
        if monitor is not None and not callable(monitor):
            raise TypeError(
                f"monitor must be None or a function net -> number, got {type(monitor).__name__}"
            )
        seed = check_seed(seed)
        if built_in is None:
            built_in = (False,) * len(problem.conditions)
        built_in = tuple(bool(b) for b in built_in)
        if len(built_in) != len(problem.conditions):
            raise ValueError(
                f"built_in must hold one flag per condition ({len(problem.conditions)}), got "
                f"{len(built_in)}"
            )
        dtype = check_dtype(dtype)
        device = check_device(device)
        check_module_placement(net, dtype, device)
        if not any(p.requires_grad for p in net.parameters()):
            raise ValueError(f"net has no trainable parameters ({type(net).__name__})")
        engine = self.derivatives
        probe = probe_points(problem, dtype, device)
        _check_net_on(net, problem, probe)
        plan = residual_plan(problem, dtype, device)
        check_time_order(problem, plan)
        used = engine_for(net, plan, engine, "derivatives")  # refuses 'fused' it cannot do
        obstacle = jet_obstacle(net)
        if engine != "autograd" and obstacle is None and not library_jets_only(net):
            _check_own_jet(net, problem, plan, probe)
        log.info("%s: residual derivatives by the %s engine (%s)", problem.name, used, plan)
        if engine == "auto" and used == "autograd" and obstacle is not None:
            log.info("the fused engine does not apply: %s", obstacle)
        if device.type == "cpu":
            retain_freed_memory()
        # the optimizers are built before the clock starts: the first one built in a process
        # imports torch._dynamo (about 1 s on a CPU), a one-off cost that is no part of training
        params = [p for p in net.parameters() if p.requires_grad]
        adam = torch.optim.Adam(params, lr=self.lr) if self.adam_steps > 0 else None
        lbfgs = None
        if self.lbfgs_steps > 0:
            lbfgs = torch.optim.LBFGS(
                params,
                lr=1.0,
                max_iter=20,
                history_size=self.lbfgs_history,
                line_search_fn="strong_wolfe",
                tolerance_grad=0.0,
                tolerance_change=0.0,
            )
        start = time.perf_counter()
        deadline = math.inf if self.seconds is None else start + float(self.seconds)
        adam_deadline = deadline
        if self.seconds is not None and (self.lbfgs_steps > 0 or self.gauss_newton_steps > 0):
            adam_deadline = start + self.adam_fraction * float(self.seconds)
        # "time" is wall time since the start; "train_time" leaves out the monitor's own time
        hist: dict[str, list] = {
            "step": [],
            "time": [],
            "train_time": [],
            "loss": [],
            "phase": [],
            "monitor": [],
        }
        timings = {
            "sampling": 0.0,
            "adam": 0.0,
            "lbfgs": 0.0,
            "gauss_newton": 0.0,
            "monitor": 0.0,
        }
        # "good": the last parameters whose loss was finite, that loss ("good_loss") and the
        # step they were reached at ("good_step")
        state = {
            "step": 0,
            "good": _snapshot(net),
            "good_loss": math.inf,
            "good_step": 0,
            "status": None,
        }

        def keep_good(loss: float) -> None:
            state["good"], state["good_loss"] = _snapshot(net), loss
            state["good_step"] = state["step"]

        def draw(round_: int) -> Batch:
            t = time.perf_counter()
            b = make_batch(problem, sampler.draw(problem, seed, round_), dtype, device)
            timings["sampling"] += time.perf_counter() - t
            return b

        def record(loss: float, phase: str) -> None:
            t = time.perf_counter()
            m = _monitor_value(monitor, net) if monitor is not None else math.nan
            timings["monitor"] += time.perf_counter() - t
            hist["step"].append(state["step"])
            hist["time"].append(time.perf_counter() - start)
            hist["train_time"].append(hist["time"][-1] - timings["monitor"])
            hist["loss"].append(loss)
            hist["phase"].append(phase)
            hist["monitor"].append(m)
            extra = "" if monitor is None else f" monitor={m:.3e}"
            lvl = logging.INFO if bar.disable else logging.DEBUG  # the bar shows the loss
            log.log(lvl, "%s step %d loss=%.3e%s", phase, state["step"], loss, extra)

        def finite(loss: float) -> bool:
            if math.isfinite(loss):
                return True
            net.load_state_dict(state["good"])
            state["step"] = state["good_step"]  # the steps after it are undone
            state["status"] = "diverged"
            return False

        # a run that ends on the clock shows its progress in seconds, so its total is right
        by_clock = self.seconds is not None and (
            self.lbfgs_steps >= _UNTIL_THE_CLOCK or self.gauss_newton_steps >= _UNTIL_THE_CLOCK
        )
        total = (
            float(self.seconds)
            if by_clock
            else sum(
                n
                for n in (self.adam_steps, self.lbfgs_steps, self.gauss_newton_steps)
                if n < _UNTIL_THE_CLOCK
            )
        )
        bar = tqdm(
            total=total or None,
            disable=None if self.progress is None else not self.progress,
            desc=problem.name,
            unit="s" if by_clock else "step",
            leave=False,
            dynamic_ncols=True,
            bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}{postfix}]"
            if by_clock
            else None,
        )
        weights = [c.weight for c in problem.conditions]

        def advance(k: int) -> None:
            if by_clock:
                bar.n = min(time.perf_counter() - start, total)
                bar.refresh()
            else:
                bar.update(k)

        def compute_loss() -> torch.Tensor:
            return loss_terms(
                net, problem, batch, engine=engine, plan=plan, built_in=built_in, weights=weights
            )[0]

        batch = draw(0)
        loss_value, fresh = math.inf, False
        adam_cut = False
        clock_out = False  # Gauss-Newton stopped because its next step would pass the deadline

        # ---- Adam ----------------------------------------------------------------------------
        if adam is not None:
            t0 = time.perf_counter()
            opt = adam
            gamma = (self.final_lr / self.lr) ** (1.0 / max(self.adam_steps, 1))
            sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma)
            round_ = 0
            for k in range(self.adam_steps):
                if sampler.resample_every and k > 0 and k % sampler.resample_every == 0:
                    round_ += 1
                    batch = draw(round_)
                opt.zero_grad(set_to_none=True)
                loss = compute_loss()
                loss_value = float(loss.detach())
                fresh = True  # loss_value is the loss of the parameters as they are
                if not finite(loss_value):
                    break
                keep_good(loss_value)  # a copy of the parameters: small beside a step
                if k % self.log_every == 0:  # recorded with the parameters that gave it
                    bar.set_postfix(loss=f"{loss_value:.2e}")
                    record(loss_value, "adam")
                if loss_value <= self.tol:
                    state["status"] = "converged"
                    break
                _backward(loss)
                opt.step()
                sched.step()
                fresh = False
                state["step"] += 1
                advance(1)
                if time.perf_counter() >= adam_deadline:
                    adam_cut = k + 1 < self.adam_steps  # its share of the time, not its steps
                    break
            timings["adam"] = time.perf_counter() - t0

        # ---- L-BFGS --------------------------------------------------------------------------
        if lbfgs is not None and state["status"] is None and time.perf_counter() < deadline:
            t0 = time.perf_counter()
            opt = lbfgs

            def closure() -> torch.Tensor:
                opt.zero_grad(set_to_none=True)
                loss = compute_loss()
                _backward(loss)
                return loss.detach()

            done = 0
            next_log = 0
            per_iter = 0.0  # seconds per L-BFGS iteration, to end near the deadline
            if adam is None:  # the history starts from the starting field, as Adam's does
                loss_value, fresh = float(compute_loss().detach()), True
                if finite(loss_value):
                    keep_good(loss_value)
                    record(loss_value, "lbfgs")
                    next_log = self.log_every
                    if loss_value <= self.tol:
                        state["status"] = "converged"
            while (
                state["status"] is None
                and done < self.lbfgs_steps
                and time.perf_counter() < deadline
            ):
                chunk = min(20, self.lbfgs_steps - done)
                if deadline < math.inf:  # chunks that end near the deadline
                    if per_iter > 0:
                        left = deadline - time.perf_counter()
                        chunk = max(1, min(chunk, int(left / per_iter)))
                    else:  # the time per iteration is not known yet: measure it on 2
                        chunk = min(chunk, 2)
                t_chunk = time.perf_counter()
                opt.param_groups[0]["max_iter"] = chunk
                before = opt.state[params[0]].get("n_iter", 0)
                opt.step(closure)
                n_iter = opt.state[params[0]].get("n_iter", 0)
                advanced = n_iter - before
                if advanced > 0:
                    per_iter = (time.perf_counter() - t_chunk) / advanced
                done += advanced
                state["step"] += advanced
                advance(advanced)
                current = float(compute_loss().detach())
                if not finite(current):
                    break
                # no change at all over a chunk: torch's L-BFGS counts an iteration even when
                # its line search finds no descent, so `advanced` alone does not show it
                stuck = advanced == 0 or current == loss_value
                loss_value, fresh = current, True
                keep_good(current)
                if done >= next_log:
                    bar.set_postfix(loss=f"{loss_value:.2e}")
                    record(loss_value, "lbfgs")
                    next_log = done + self.log_every
                if loss_value <= self.tol:
                    state["status"] = "converged"
                    break
                if stuck:
                    state["status"] = "stalled"
                    break
            timings["lbfgs"] = time.perf_counter() - t0

        # ---- Gauss–Newton --------------------------------------------------------------------
        if self.gauss_newton_steps > 0 and state["status"] is None:
            t0 = time.perf_counter()
            if not per_point_capable(net):
                log.warning(
                    "the Gauss-Newton phase was skipped: it needs a field built from Siren or "
                    "MLP (%s is not one)",
                    type(net).__name__,
                )
            elif time.perf_counter() < deadline:
                weights = balance_weights(net, problem, batch, built_in)
                mismatch = check_jacobian(net, problem, batch, built_in, weights)
                if not mismatch < 1e-4:
                    log.warning(
                        "the Gauss-Newton phase was skipped: its Jacobian differs from finite "
                        "differences by %.1e (a residual whose rows read other points?)",
                        mismatch,
                    )
                    weights = [c.weight for c in problem.conditions]
                else:
                    if not hist["step"]:  # the history starts from the starting field
                        loss_value, fresh = float(compute_loss().detach()), True
                        if finite(loss_value):
                            keep_good(loss_value)
                            record(loss_value, "gauss-newton")
                    log_at = [state["step"] + self.log_every]

                    def on_step(k: int, loss: float) -> None:
                        state["step"] += 1
                        advance(1)
                        if state["step"] >= log_at[0] or by_clock and k % 10 == 0:
                            bar.set_postfix(loss=f"{loss:.2e}")
                        if state["step"] >= log_at[0]:
                            record(loss, "gauss-newton")
                            log_at[0] = state["step"] + self.log_every

                    status, _, loss_value = levenberg_marquardt(
                        params,
                        lambda: gn_rows(net, problem, batch, built_in, weights),
                        lambda: rows_and_jacobian(net, problem, batch, built_in, weights)[:2],
                        max_steps=self.gauss_newton_steps,
                        deadline=deadline,
                        tol=self.tol,
                        on_step=on_step,
                        damping=self.damping,
                    )
                    fresh = True
                    if finite(loss_value):
                        keep_good(loss_value)
                    if status == "time_budget":
                        clock_out = True
                    elif status is not None and state["status"] is None:
                        state["status"] = status
            timings["gauss_newton"] = time.perf_counter() - t0
        if by_clock:
            advance(0)
        bar.close()

        if state["status"] != "diverged" and not fresh:  # the loss of the final parameters
            loss_value = float(compute_loss().detach())
            finite(loss_value)
        if state["status"] == "diverged":  # the parameters are those of the last finite loss
            loss_value = state["good_loss"]
            if not math.isfinite(loss_value):  # none was recorded: those are the starting ones
                loss_value = float(compute_loss().detach())
        if not hist["step"] or hist["step"][-1] != state["step"] or hist["loss"][-1] != loss_value:
            record(loss_value, "final")
        timings["total"] = time.perf_counter() - start
        status = state["status"]
        if status is None:
            spent = time.perf_counter() >= deadline or adam_cut or clock_out
            status = "time_budget" if spent else "step_budget"
        message = _MESSAGES[status]
        log.info("stopped after %d steps (%s): loss %.3e", state["step"], status, hist["loss"][-1])
        if status == "diverged":
            log.warning(message)
        elif status == "stalled":  # an end, not a fault: the limit of this field and precision
            log.info(message)
        return TrainResult(status, message, state["step"], hist, timings, used)


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


def _backward(loss: torch.Tensor) -> None:
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


def _check_own_jet(net: nn.Module, problem: Problem, plan: DerivativePlan, x: torch.Tensor) -> None:
    """Compare a module's own ``jet`` with autograd on probe points ``x``: the residual's
    derivatives (when the fused engine takes them), and the gradient and every second derivative
    (which the conditions and other residuals may take fused).

    The parameters are those of a copy of ``net`` scaled by random factors in [0.9, 1.1]: a
    trained field whose residual nearly vanishes makes the residual's operator a difference of
    large terms, exact to round-off only relative to those terms, and the factors undo that.
    """
    try:
        probe = copy.deepcopy(net)
    except Exception:  # a module that cannot be copied is checked as it is
        probe = net
    else:
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for p in probe.parameters():
                factor = 1.0 + 0.1 * (2.0 * torch.rand(p.shape, generator=gen) - 1.0)
                p.mul_(factor.to(dtype=p.dtype, device=p.device))
    dim, names, ti = problem.domain.dim, problem.domain.names, problem.time_index
    pairs = tuple((i, j) for i in range(dim) for j in range(i, dim))
    plans = [DerivativePlan(gradient=True, second=pairs)]
    if not plan.empty and not plan.differentiated:
        plans.insert(0, plan)
    for p in plans:
        check_fused(probe, p, x, names, ti)


def _check_net_on(net: nn.Module, problem: Problem, x: torch.Tensor) -> None:
    """Check that ``net`` maps the probe points ``x`` of ``problem`` to one value each."""
    shape, names = tuple(x.shape), ", ".join(problem.domain.names)
    try:
        y = net(x)
    except Exception as e:  # the module's own error, said in its terms
        raise ValueError(
            f"net could not be evaluated on points of shape {shape} (coordinates {names}): "
            f"{type(e).__name__}: {e}"
        ) from e
    as_column(y, x)


_MESSAGES = {
    "converged": "the loss reached the tolerance",
    "step_budget": "all steps done; raise the step budget for a smaller loss",
    "time_budget": "the wall-time budget was spent; raise it for a smaller loss",
    "diverged": "the loss became non-finite; the last finite parameters were kept. Lower the "
    "learning rate or use float64",
    "stalled": "the optimizer could no longer lower the loss (L-BFGS over a chunk of iterations, "
    "or Gauss-Newton at any damping), the limit of this field in this precision: more steps "
    "would not help; for a smaller loss use float64 or change the field",
}


def _snapshot(net: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of ``net``'s parameters and buffers, to restore with ``load_state_dict``."""
    return {k: v.detach().clone() for k, v in net.state_dict().items()}
