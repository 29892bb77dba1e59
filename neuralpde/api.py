"""The one-call entry point: :func:`solve`."""

from __future__ import annotations

import logging

import numpy as np
import torch

from . import metrics
from ._arguments import check_device, check_dtype, check_seed
from .checks import check_problem
from .fields import MLP, InputScaling, Siren
from .problem import Problem
from .sampling import Sampler, SobolSampler
from .solution import Solution
from .training import Trainer

__all__ = ["solve"]

log = logging.getLogger("neuralpde.solve")

_MONITOR_POINTS = 4096


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
) -> Solution:
    """Solve ``problem`` with a neural field; returns a :class:`~neuralpde.solution.Solution`.

    Parameters
    ----------
    problem:
        The problem; it is not modified. :func:`~neuralpde.checks.check_problem` runs first.
    field:
        The network specification (default ``Siren()``); inputs are scaled from the domain's
        bounding box to ``[-1, 1]``.
    sampler:
        Collocation points (default ``SobolSampler()``).
    trainer:
        Optimizer settings and budget (default ``Trainer()``).
    seed:
        Seeds the network's initialisation and every draw of points; same seed, same result.
    dtype, device:
        Precision and device of training.
    monitor:
        Record the relative L2 error against the exact solution (when the problem has one) on
        4096 fixed random points with the training history (``None``: no, as ``False``); for a
        solution fixed only up to a constant (a Poisson problem with only Neumann or periodic
        conditions), the error of both fields less their means, as :meth:`Solution.errors`.
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a neuralpde Problem, got {type(problem).__name__}")
    field = Siren() if field is None else field
    sampler = SobolSampler() if sampler is None else sampler
    trainer = Trainer() if trainer is None else trainer
    if not isinstance(field, (Siren, MLP)):
        raise TypeError(f"field must be a Siren or MLP specification, got {type(field).__name__}")
    if not isinstance(sampler, Sampler):
        raise TypeError(f"sampler must be a Sampler, got {type(sampler).__name__}")
    if not isinstance(trainer, Trainer):
        raise TypeError(f"trainer must be a Trainer, got {type(trainer).__name__}")
    if monitor is None:
        monitor = False
    if not isinstance(monitor, (bool, np.bool_)):
        raise TypeError(
            f"monitor must be True or False (record the error against the exact solution), got "
            f"{type(monitor).__name__}; to record another quantity, call Trainer.fit with "
            "monitor=function"
        )
    check_dtype(dtype)
    seed = check_seed(seed)
    device = check_device(device)
    check_problem(problem)

    domain = problem.domain
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

    watch = None
    if monitor and problem.exact is not None:
        rng = np.random.default_rng([seed, 2**31 - 1])
        pts = domain.interior(rng.random((_MONITOR_POINTS, domain.dim)))
        ref = problem.exact_values(pts)
        xm = torch.as_tensor(pts, dtype=dtype, device=device)
        # a solution fixed only up to a constant is compared less both means, as its errors are
        free = metrics.determined_up_to_a_constant(problem.describe(), problem.time_index)

        def watch(n: torch.nn.Module) -> float:
            with torch.no_grad():
                u = n(xm)[:, 0].cpu().numpy()
            return metrics.relative_l2(*(metrics.without_means(u, ref) if free else (u, ref)))

    log.debug("solving %s: %s, %s", problem.name, field, sampler)
    result = trainer.fit(
        net, problem, sampler, seed=seed, dtype=dtype, device=device, monitor=watch
    )
    settings = {
        "field": field.describe(),
        "sampler": sampler.describe(),
        "trainer": trainer.describe(),
        "derivatives_used": result.derivatives,
        "dtype": str(dtype).replace("torch.", ""),
        "device": str(device),
        "threads": torch.get_num_threads(),
    }
    return Solution(problem, net, architecture, result, seed, settings)
