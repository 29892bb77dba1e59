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
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .._arguments import (
    as_number,
    check_device,
    check_dtype,
    check_module_placement,
    check_seconds,
    check_seed,
    check_steps,
)
from ..checks import check_time_order
from ..engine import ENGINES, DerivativePlan, Derivatives, bind_engine, check_fused
from ..fields.jet import library_jets_only
from ..operators import as_column
from ..problem import Problem
from ..sampling import Sampler
from .checkpoint import Checkpointer, interrupts_caught
from .loss import probe_points, residual_plan
from .memory import retain_freed_memory
from .phases import (
    AdamPhase,
    DivergenceGuard,
    GaussNewtonPhase,
    LBFGSPhase,
    Monitor,
    Progress,
    Recorder,
    TrainingState,
)
from .status import Status

__all__ = ["Trainer", "TrainResult"]

log = logging.getLogger("neuralpde.training")

#: L-BFGS step count standing for "no step limit": the time budget ends the run.
_UNTIL_THE_CLOCK = 10**9


@dataclass
class TrainResult:
    """What a training run did: its history, why it stopped and where the time went."""

    status: Status
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
        The Gauss–Newton phase takes its Jacobians by the same engine.
    gauss_newton_steps:
        Accepted Levenberg–Marquardt steps after Adam and L-BFGS
        (:mod:`neuralpde.training.gauss_newton`), on the first draw of points; it needs a
        field built from :class:`~neuralpde.Siren` or :class:`~neuralpde.MLP` (with input
        scaling and hard constraints) and is meant for float64.
    damping:
        The Levenberg–Marquardt damping :math:`\lambda` to start from (it then adapts).
    momentum:
        :math:`\beta \in [0, 1)`: each Levenberg–Marquardt step is pulled towards
        :math:`\beta` times the last accepted one, as in SPRING (Goldshlager et al. 2024);
        0, the default, is plain Levenberg–Marquardt (see ``docs/training.md`` for when it
        helps).
    acceleration:
        :math:`\alpha \ge 0`: each Levenberg–Marquardt step gains its geodesic acceleration
        (Transtrum & Sethna 2012), a second-order correction from one more evaluation of the
        residual, where the correction is at most :math:`\alpha/2` of the step (else the try is
        rejected and the damping raised); 0 turns it off. Default 0.75.
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
    momentum: float = 0.0
    acceleration: float = 0.75

    def __post_init__(self) -> None:
        def number(name: str, integral: bool) -> int | float | None:
            """The setting as a Python number (stored so), or ``None`` if it is not one."""
            v = as_number(getattr(self, name), integral)
            if v is not None:
                object.__setattr__(self, name, v)
            return v

        for name in ("adam_steps", "lbfgs_steps", "gauss_newton_steps"):
            object.__setattr__(self, name, check_steps(getattr(self, name), name))
        if self.adam_steps + self.lbfgs_steps + self.gauss_newton_steps == 0:
            raise ValueError(
                "adam_steps, lbfgs_steps and gauss_newton_steps are all 0: nothing to train"
            )
        damping = number("damping", False)
        if damping is None or not (math.isfinite(damping) and damping > 0):
            raise ValueError(f"damping must be a positive number, got {self.damping!r}")
        momentum = number("momentum", False)
        if momentum is None or not 0 <= momentum < 1:
            raise ValueError(f"momentum must be a number in [0, 1), got {self.momentum!r}")
        acceleration = number("acceleration", False)
        if acceleration is None or not (math.isfinite(acceleration) and acceleration >= 0):
            raise ValueError(
                f"acceleration must be a finite number >= 0 (0: none), got {self.acceleration!r}"
            )
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
            object.__setattr__(self, "seconds", check_seconds(self.seconds))
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
            steps = check_steps(steps, "steps", low=1)
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
            kw["seconds"] = check_seconds(seconds)
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
        checkpoint: Checkpointer | None = None,
        resume: Mapping[str, Any] | None = None,
    ) -> TrainResult:
        """Train ``net`` in place on ``problem``; returns the history and stopping reason.

        ``monitor(net)`` (e.g. the error against an exact solution) is recorded with the history.
        ``net`` may be any ``nn.Module`` mapping ``(N, d)`` points to ``(N, 1)`` (or ``(N,)``)
        values; its parameters and buffers must already have ``dtype`` and live on ``device``
        (``net.to(...)``). Before any step, ``net`` is tried on a few points and, when it carries
        derivatives forward with a ``jet`` of its own, its derivatives are compared with
        autograd's there (:func:`neuralpde.engine.check_fused`). Unlike
        :func:`neuralpde.solve`, this does not run :func:`neuralpde.checks.check_problem`; call
        it first for a new problem. The time derivatives the residual takes are checked against
        the equation's ``time_order`` (:func:`neuralpde.checks.check_time_order`).
        On a CPU, freed memory is kept for reuse between steps (see
        :func:`neuralpde.training.retain_freed_memory`). ``built_in`` flags the conditions
        that ``net`` meets by construction (a hard constraint); they are left out of the loss.

        With ``checkpoint`` (a :class:`~neuralpde.training.checkpoint.Checkpointer`) the
        state is written at its interval, and SIGINT or SIGTERM stop the run at the next step
        boundary with a checkpoint written (status ``"interrupted"``). ``resume``, a
        checkpoint read with :func:`~neuralpde.training.checkpoint.read_checkpoint` for this
        same run, continues from it.
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
        derivatives = _bind(net, problem, plan, engine)  # once for the run
        used, obstacle = derivatives.kind, derivatives.obstacle
        if engine != "autograd" and obstacle is None and not library_jets_only(net):
            _check_own_jet(net, problem, plan, probe)
        log.debug("%s: residual derivatives by the %s engine (%s)", problem.name, used, plan)
        if engine == "auto" and used == "autograd" and obstacle is not None:
            log.debug("the fused engine does not apply: %s", obstacle)
        if device.type == "cpu":
            retain_freed_memory()
        if checkpoint is not None and not isinstance(checkpoint, Checkpointer):
            raise TypeError(
                f"checkpoint must be a Checkpointer or None, got {type(checkpoint).__name__}"
            )
        with interrupts_caught(active=checkpoint is not None):
            args = (net, problem, sampler, seed, dtype, device, monitor, built_in, derivatives)
            return self._run(*args, checkpoint, resume)

    def _run(
        self,
        net,
        problem,
        sampler,
        seed,
        dtype,
        device,
        monitor,
        built_in,
        derivatives,
        checkpoint=None,
        resume=None,
    ):
        """The phases on one training state, after :meth:`fit`'s checks."""
        # the optimizers are built before the clock starts: the first one built in a process
        # imports torch._dynamo (about 1 s on a CPU), a one-off cost that is no part of training
        params = [p for p in net.parameters() if p.requires_grad]
        adam, lbfgs = self._optimizers(params)
        start = time.perf_counter()
        deadline = math.inf if self.seconds is None else start + float(self.seconds)
        s = TrainingState(
            net,
            params,
            problem,
            sampler,
            seed,
            dtype,
            device,
            derivatives,
            built_in,
            [c.weight for c in problem.conditions],
            start,
            deadline,
        )
        s.timings.update(
            {"sampling": 0.0, "adam": 0.0, "lbfgs": 0.0, "gauss_newton": 0.0, "monitor": 0.0}
        )
        s.guard = DivergenceGuard(net)
        s.progress = self._progress(problem.name)
        s.recorder = Recorder(s, monitor)
        s.checkpointer = checkpoint
        todo = self._begin(s, resume)
        adam_cut = self._phases(s, adam, lbfgs, todo, start)
        s.progress.close(s)
        return self._result(s, adam_cut, derivatives.kind)

    def _optimizers(
        self, params: list[torch.Tensor]
    ) -> tuple[torch.optim.Adam | None, torch.optim.LBFGS | None]:
        """Adam and L-BFGS on ``params`` (``None`` for a phase of no steps)."""
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
        return adam, lbfgs

    def _begin(self, s: TrainingState, resume: Mapping[str, Any] | None) -> set[str]:
        """The phases still to run: all of them, on the first draw of points, or from a
        checkpoint's phase on, its state restored into ``s`` and the deadline moved with it."""
        phases = ("adam", "lbfgs", "gauss_newton")
        if resume is None:
            s.draw(0)
            return set(phases)
        _restore(s, resume)
        s.deadline = s.start + (math.inf if self.seconds is None else float(self.seconds))
        todo = set(phases[phases.index(resume["phase"]) :])
        s.progress.advance(s, s.step)
        return todo

    def _phases(
        self,
        s: TrainingState,
        adam: torch.optim.Adam | None,
        lbfgs: torch.optim.LBFGS | None,
        todo: set[str],
        start: float,
    ) -> bool:
        """Run the phases in ``todo`` that have steps, each while the run goes on; returns
        whether Adam stopped at its share of the time budget, counted from ``start`` (when this
        call's clock started, resumed or not)."""
        adam_cut = False
        if adam is not None and "adam" in todo:
            adam_deadline = s.deadline
            if self.seconds is not None and (self.lbfgs_steps > 0 or self.gauss_newton_steps > 0):
                adam_deadline = start + self.adam_fraction * float(self.seconds)
            phase = AdamPhase(
                self.adam_steps, self.lr, self.final_lr, adam_deadline, self.log_every, self.tol
            )
            adam_cut = phase.run(s, adam)
        if lbfgs is not None and s.running() and "lbfgs" in todo:
            phase = LBFGSPhase(self.lbfgs_steps, self.log_every, self.tol, first=adam is None)
            phase.run(s, lbfgs)
        if self.gauss_newton_steps > 0 and s.status is None:
            phase = GaussNewtonPhase(
                self.gauss_newton_steps,
                self.log_every,
                self.tol,
                self.damping,
                self.momentum,
                self.acceleration,
            )
            phase.run(s)
        return adam_cut

    def _progress(self, name: str) -> Progress:
        """A bar in seconds for a run that ends on the clock, else in steps."""
        by_clock = self.seconds is not None and (
            self.lbfgs_steps >= _UNTIL_THE_CLOCK or self.gauss_newton_steps >= _UNTIL_THE_CLOCK
        )
        phases = (self.adam_steps, self.lbfgs_steps, self.gauss_newton_steps)
        total = float(self.seconds) if by_clock else sum(n for n in phases if n < _UNTIL_THE_CLOCK)
        return Progress(name, total, by_clock, self.progress)

    def _result(self, s: TrainingState, adam_cut: bool, used: str) -> TrainResult:
        """The final loss and record, and why the run stopped."""
        if s.status != "diverged" and not s.fresh:  # the loss of the final parameters
            s.accept(float(s.compute_loss().detach()))
        if s.status == "diverged":  # the parameters are those of the last finite loss
            s.loss = s.guard.good_loss
            if not math.isfinite(s.loss):  # none was recorded: those are the starting ones
                s.loss = float(s.compute_loss().detach())
        h = s.history
        if not h["step"] or h["step"][-1] != s.step or h["loss"][-1] != s.loss:
            s.record("final")
        s.timings["total"] = time.perf_counter() - s.start
        status = s.status
        if status is None:
            spent = time.perf_counter() >= s.deadline or adam_cut or s.clock_out
            status = "time_budget" if spent else "step_budget"
        status = Status(status)
        message = status.message
        log.info("stopped after %d steps (%s): loss %.3e", s.step, status, h["loss"][-1])
        if status == "diverged":
            log.warning(message)
        elif status == "stalled":  # an end, not a fault: the limit of this field and precision
            log.info(message)
        return TrainResult(status, message, s.step, h, s.timings, used)


def _restore(s: TrainingState, saved: Mapping[str, Any]) -> None:
    """Put a checkpoint's state (:func:`~neuralpde.training.checkpoint.read_checkpoint`) into
    ``s``: parameters, step, loss, weights, history, timings, the last finite parameters, the
    draw of points, and the clock as it stood (the time spent counts against the budget)."""
    to = {"dtype": s.dtype, "device": s.device}
    s.net.load_state_dict({k: v.to(**to) for k, v in saved["net"].items()})
    s.step, s.loss = int(saved["step"]), float(saved["loss"])
    s.weights = [float(w) for w in saved["weights"]]
    for key, values in saved["history"].items():
        s.history[key] = list(values)
    s.timings.update({k: float(v) for k, v in saved.get("timings", {}).items()})
    g = saved["guard"]
    s.guard.good = {k: v.to(**to) for k, v in g["net"].items()}
    s.guard.good_loss, s.guard.good_step = float(g["loss"]), int(g["step"])
    s.start = time.perf_counter() - float(saved["elapsed"])
    s.draw(int(saved["round"]))
    s.resume = {"phase": saved["phase"], "position": saved["position"]}
    s.fresh = False
    log.info("resumed at step %d (%s), loss %.3e", s.step, saved["phase"], s.loss)


def _bind(net: nn.Module, problem: Problem, plan: DerivativePlan, engine: str) -> Derivatives:
    """The residual's derivative engine, bound to ``net`` for the run; refuses ``"fused"``
    where it cannot serve."""
    names, ti = problem.domain.names, problem.time_index
    return bind_engine(net, names, ti, plan, engine, name="derivatives")


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
