"""The one-call entry point: :func:`solve`."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable

import numpy as np
import torch

from . import metrics
from ._arguments import as_number, check_device, check_dtype, check_seed
from .checks import check_problem
from .defaults import ConstraintPlan, Settings, derive_settings, plan_constraints
from .domains import Domain
from .estimate import ErrorEstimate, estimate_error
from .fields import MLP, InputScaling, Siren
from .io.hdf5 import check_writable
from .problem import Problem
from .sampling import Sampler
from .solution import Solution
from .training import Trainer, TrainResult
from .training.checkpoint import Checkpointer, check_resumable, identity, read_checkpoint
from .training.lift import fit_lift

__all__ = ["solve"]

log = logging.getLogger("neuralpde.solve")

_MONITOR_POINTS = 4096
#: the largest defect, relative to the data, with which a fitted lift builds data in
_LIFT_DEFECT = 1e-8
#: the most parameters for which a derived trainer uses Gauss-Newton (its Jacobian, with a few
#: thousand rows, then stays under about 1 GB in float64)
_GAUSS_NEWTON_PARAMETERS = 40_000
#: the share of a time budget kept for what follows training (the final loss, the record)
_RESERVE = 0.02


def solve(
    problem: Problem,
    field: Siren | MLP | None = None,
    sampler: Sampler | None = None,
    trainer: Trainer | None = None,
    *,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
    monitor: bool | None = True,
    constraints: bool = True,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: float = 60.0,
    resume: bool = False,
    estimate: bool = True,
) -> Solution:
    """Solve ``problem`` with a neural field; returns a :class:`~neuralpde.solution.Solution`.

    Parameters
    ----------
    problem:
        The problem; it is not modified. :func:`~neuralpde.checks.check_problem` runs first.
    field:
        The network specification; inputs are scaled from the domain's bounding box to
        ``[-1, 1]``. ``None``: chosen from the problem (:func:`neuralpde.defaults.derive_settings`),
        as are the sampler and trainer left ``None``.
    sampler:
        Collocation points (``None``: derived from the problem).
    trainer:
        Optimizer settings and budget (``None``: Levenberg–Marquardt within a wall-time budget
        derived from the problem).
    seed:
        Seeds the network's initialisation and every draw of points; same seed, same result.
    dtype, device:
        Precision and device of training.
    monitor:
        Record the relative L2 error against the exact solution (when the problem has one) on
        4096 fixed random points with the training history (``None``: no, as ``False``); for a
        solution fixed only up to a constant (a Poisson problem with only Neumann or periodic
        conditions), the error of both fields less their means, as :meth:`Solution.errors`.
    constraints:
        Build the Dirichlet data, initial values and initial velocities into the field
        (:mod:`neuralpde.fields.constraints`) where the domain allows; ``False`` keeps every
        condition a term of the loss.
    checkpoint, checkpoint_every:
        Write the training state to the file ``checkpoint`` every ``checkpoint_every`` seconds
        (0: after every step) and when SIGINT or SIGTERM arrive, which then stop the run at
        the next step boundary with status ``"interrupted"``
        (:mod:`neuralpde.training.checkpoint`).
    resume:
        Continue the run recorded in ``checkpoint``; a checkpoint of another problem or other
        settings (the budget aside) is refused, naming what differs. With a budget of steps,
        on a CPU, the result is bit-identical to the uninterrupted run's.
    estimate:
        Estimate the field's error after training (:mod:`neuralpde.estimate`), kept in
        ``solution.settings["error_estimate"]`` and written to the file.
    """
    started = time.perf_counter()
    monitor = _check_arguments(problem, field, sampler, trainer, monitor, constraints, estimate)
    check_dtype(dtype)
    seed, device = check_seed(seed), check_device(device)
    checkpoint_every = _check_checkpointing(checkpoint, checkpoint_every, resume)
    saved = read_checkpoint(checkpoint) if resume else None
    check_problem(problem)
    derived, field, sampler, trainer, plan = _derive(problem, field, sampler, trainer, constraints)
    net, architecture = _network(field, problem.domain, seed, dtype, device)
    plan, lift, lift_record = _lift(problem, plan, seed, dtype, device)
    trainer = _budget_left(trainer, started)
    if plan is not None:
        net, architecture["constraint"] = _constrain(net, plan, lift, lift_record)
    watch = _watch(problem, seed, dtype, device) if monitor else None
    log.debug("solving %s: %s, %s", problem.name, field, sampler)
    settings = _settings(field, sampler, trainer, dtype)
    writer = _checkpointer(checkpoint, checkpoint_every, saved, problem, {**settings, "seed": seed})
    built_in = plan.built_in if plan is not None else None
    hooks = {"monitor": watch, "built_in": built_in, "checkpoint": writer, "resume": saved}
    result = trainer.fit(net, problem, sampler, seed=seed, dtype=dtype, device=device, **hooks)
    settings.update(_record(result, device, derived, lift_record))
    return _estimated(Solution(problem, net, architecture, result, seed, settings), estimate)


def _estimated(solution: Solution, estimate: bool) -> Solution:
    """``solution``, with its error estimate in its settings when asked and it is a result."""
    if estimate and solution.status.is_result:
        record = estimate_error(solution, solution.seed).describe()
        solution.settings["error_estimate"] = record
        log.debug("%s: %s", solution.problem_name, ErrorEstimate.from_record(record).summary())
    return solution


def _check_arguments(
    problem: object,
    field: object,
    sampler: object,
    trainer: object,
    monitor: object,
    constraints: object,
    estimate: object = True,
) -> bool | np.bool_:
    """``monitor`` (``None`` read as ``False``), after checking the types of :func:`solve`'s
    problem, settings and flags."""
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a neuralpde Problem, got {type(problem).__name__}")
    if not isinstance(constraints, (bool, np.bool_)):
        raise TypeError(f"constraints must be True or False, got {type(constraints).__name__}")
    if field is not None and not isinstance(field, (Siren, MLP)):
        raise TypeError(f"field must be a Siren or MLP specification, got {type(field).__name__}")
    if sampler is not None and not isinstance(sampler, Sampler):
        raise TypeError(f"sampler must be a Sampler, got {type(sampler).__name__}")
    if trainer is not None and not isinstance(trainer, Trainer):
        raise TypeError(f"trainer must be a Trainer, got {type(trainer).__name__}")
    if monitor is None:
        monitor = False
    if not isinstance(monitor, (bool, np.bool_)):
        raise TypeError(
            f"monitor must be True or False (record the error against the exact solution), got "
            f"{type(monitor).__name__}; to record another quantity, call Trainer.fit with "
            "monitor=function"
        )
    if not isinstance(estimate, (bool, np.bool_)):
        raise TypeError(f"estimate must be True or False, got {type(estimate).__name__}")
    return monitor


def _check_checkpointing(checkpoint: object, every: object, resume: object) -> float:
    """``checkpoint_every`` as a float, after checking the three checkpoint arguments."""
    if not isinstance(resume, (bool, np.bool_)):
        raise TypeError(f"resume must be True or False, got {type(resume).__name__}")
    v = as_number(every)  # checked with or without a checkpoint, as every argument is
    if v is None or not (math.isfinite(v) and v >= 0):
        raise ValueError(
            f"checkpoint_every must be a number of seconds >= 0 (0: after every step), got "
            f"{every!r}"
        )
    if checkpoint is None:
        if resume:
            raise ValueError("resume=True needs checkpoint=PATH, the checkpoint to resume from")
        return float(v)
    if not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(f"checkpoint must be a file path or None, got {type(checkpoint).__name__}")
    check_writable(checkpoint)
    return float(v)


def _derive(
    problem: Problem,
    field: Siren | MLP | None,
    sampler: Sampler | None,
    trainer: Trainer | None,
    constraints: bool | np.bool_,
) -> tuple[Settings | None, Siren | MLP, Sampler, Trainer, ConstraintPlan | None]:
    """The settings derived from ``problem`` (``None`` when none is needed), the field, sampler
    and trainer with those left ``None`` taken from them, and the plan of the conditions to
    build into the field (``None``: none)."""
    derived = None
    if field is None or sampler is None or trainer is None or constraints:
        derived = derive_settings(problem, constraints=bool(constraints))
    field = derived.field if field is None else field
    sampler = derived.sampler if sampler is None else sampler
    if trainer is None:
        trainer = for_size(derived.trainer, field, problem.domain.dim)
    plan = derived.constraints if constraints and derived is not None else None
    return derived, field, sampler, trainer, plan


def _network(
    field: Siren | MLP, domain: Domain, seed: int, dtype: torch.dtype, device: torch.device
) -> tuple[torch.nn.Module, dict]:
    """The network of ``field``, initialised from ``seed`` (the global generator left as it
    was) with its inputs scaled from ``domain``'s bounding box, and its description."""
    lo, hi = domain.bounds
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = InputScaling(field.build(domain.dim), lo.tolist(), hi.tolist())
    net = net.to(dtype=dtype, device=device)
    architecture = {
        "field": field.describe(),
        "in_features": domain.dim,
        "input_scaling": {"lower": lo.tolist(), "upper": hi.tolist()},
    }
    return net, architecture


def _lift(
    problem: Problem,
    plan: ConstraintPlan | None,
    seed: int,
    dtype: torch.dtype,
    device: torch.device,
) -> tuple[ConstraintPlan | None, torch.nn.Module | None, dict | None]:
    """The plan, the fitted lift and its record (``None`` where there is none). A lift that
    does not meet the data to :data:`_LIFT_DEFECT` leaves the Dirichlet conditions terms of the
    loss, and one then not meeting the initial data every condition."""
    if plan is None or plan.lift_kind != "problem":
        return plan, None, None
    lift, lift_record = _fit(problem, plan, seed, dtype, device)
    if not lift_record["relative_defect"] <= _LIFT_DEFECT:
        # data that no smooth function meets (a jump where two parts meet, say): the
        # Dirichlet conditions stay terms of the loss
        log.warning(
            "the Dirichlet data could not be built into the field (a smooth lift meets them "
            "only to %.1e of their size: do they jump where boundary parts meet?); they are "
            "terms of the loss instead",
            lift_record["relative_defect"],
        )
        plan = plan_constraints(problem, dirichlet=False)
        lift, lift_record = None, None
        if plan is not None and plan.lift_kind == "problem":
            lift, lift_record = _fit(problem, plan, seed, dtype, device)
            if not lift_record["relative_defect"] <= _LIFT_DEFECT:  # nor the initial data
                log.warning("nor could the initial data: every condition is a loss term")
                plan, lift, lift_record = None, None, None
    return plan, lift, lift_record


def _fit(
    problem: Problem, plan: ConstraintPlan, seed: int, dtype: torch.dtype, device: torch.device
) -> tuple[torch.nn.Module, dict]:
    """The lift of ``plan``, fitted (:func:`neuralpde.training.lift.fit_lift`)."""
    return fit_lift(
        problem,
        plan.lift,
        plan.built_in,
        plan.degrees,
        seed=seed,
        dtype=dtype,
        device=device,
        corners=plan.corners,
    )


def _budget_left(trainer: Trainer, started: float) -> Trainer:
    """``trainer`` with its time budget less the set-up since ``started`` (the lift's fit is
    part of it) and a reserve for what follows training, but at least half of it."""
    if trainer.seconds is None:
        return trainer
    spent = time.perf_counter() - started
    left = max(trainer.seconds * (1 - _RESERVE) - spent, 0.5 * trainer.seconds)
    return dataclasses.replace(trainer, seconds=left)


def _constrain(
    net: torch.nn.Module,
    plan: ConstraintPlan,
    lift: torch.nn.Module | None,
    lift_record: dict | None = None,
) -> tuple[torch.nn.Module, dict]:
    """``net`` wrapped to meet the conditions ``plan`` builds in (the corners' singular terms
    fitted with the lift), and the description of that constraint."""
    net = plan.wrap(net, lift)
    if plan.corners:
        fitted = (lift_record or {}).get("corner_weights", [0.0] * len(plan.corners))
        net.corner_lift.copy_(torch.as_tensor(fitted))
    constraint = {
        **net.describe(),
        "built_in": [i for i, b in enumerate(plan.built_in) if b],
        "lift": None
        if lift is None
        else {"type": "chebyshev", "terms": int(lift.indices.shape[0])},
    }
    return net, constraint


def _watch(
    problem: Problem, seed: int, dtype: torch.dtype, device: torch.device
) -> Callable[[torch.nn.Module], float] | None:
    """The monitor :func:`solve` records: a network's relative L2 error against the exact
    solution on fixed random points (``None`` when the problem has no exact solution)."""
    if problem.exact is None:
        return None
    domain = problem.domain
    rng = np.random.default_rng([seed, 2**31 - 1])
    pts = domain.interior(rng.random((_MONITOR_POINTS, domain.dim)))
    ref = problem.exact_values(pts)
    xm = torch.as_tensor(pts, dtype=dtype, device=device)
    # a solution fixed only up to a constant is compared less both means, as its errors are
    free = problem.determined_up_to_a_constant

    def watch(n: torch.nn.Module) -> float:
        with torch.no_grad():
            u = n(xm)[:, 0].cpu().numpy()
        return metrics.relative_l2(*(metrics.without_means(u, ref) if free else (u, ref)))

    return watch


def _settings(field: Siren | MLP, sampler: Sampler, trainer: Trainer, dtype: torch.dtype) -> dict:
    """The settings of a run, as its record and its checkpoints' identity give them."""
    return {
        "field": field.describe(),
        "sampler": sampler.describe(),
        "trainer": trainer.describe(),
        "dtype": str(dtype).replace("torch.", ""),
    }


def _checkpointer(
    checkpoint: str | os.PathLike | None,
    every: float,
    saved: dict | None,
    problem: Problem,
    settings: dict,
) -> Checkpointer | None:
    """The writer of ``checkpoint`` (``None`` without one), after checking that a checkpoint
    ``saved`` to resume from is of this problem and these ``settings``."""
    if checkpoint is None:
        return None
    ident = identity(problem.describe(), settings)
    if saved is not None:
        check_resumable(saved["identity"], ident, str(checkpoint))
    return Checkpointer(checkpoint, every, ident)


def _record(
    result: TrainResult,
    device: torch.device,
    derived: Settings | None,
    lift_record: dict | None,
) -> dict:
    """What a run adds to its settings' record once trained."""
    return {
        "derivatives_used": result.derivatives,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "derived": None if derived is None else derived.summary(),
        "lift_fit": lift_record,
    }


def for_size(trainer: Trainer, field: Siren | MLP, dim: int) -> Trainer:
    """``trainer``, or Adam then L-BFGS within its time budget when ``field`` has more than
    40,000 parameters: Gauss-Newton's Jacobian (a few thousand rows by the parameters, float64)
    would then pass about 1 GB."""
    size = sum(p.numel() for p in field.build(dim).parameters())
    if size <= _GAUSS_NEWTON_PARAMETERS:
        return trainer
    log.info(
        "a field of %d parameters is too large for Gauss-Newton (at most %d): Adam then L-BFGS "
        "within the same budget",
        size,
        _GAUSS_NEWTON_PARAMETERS,
    )
    return Trainer(adam_steps=1000, lbfgs_steps=10**9, seconds=trainer.seconds)
