"""``neuralpde solve``: train a field for a problem file and write it to HDF5."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from ._types import UsageError, dimensions, estimate_text, output_and_problem


@dataclasses.dataclass(frozen=True)
class _Run:
    """What ``solve`` trains: the problem file's contents and the settings the command line
    and the problem give."""

    spec: dict[str, Any]  # the problem file's problem, field, sampler, trainer, dtype
    derived: Any  # the settings derived from the problem (neuralpde.defaults)
    trainer: Any
    dtype: Any
    device: Any

    @property
    def problem(self) -> Any:
        return self.spec["problem"]


def solve_command(args: argparse.Namespace) -> int:
    """Run ``neuralpde solve``; returns the exit status."""
    run = _read(args)
    if not args.quiet:
        _announce(args, run)
    checkpoint = f"{args.output}.ckpt"
    if args.resume and not Path(checkpoint).is_file():
        raise UsageError(
            f"--resume: no checkpoint {checkpoint!r} to continue from (it is written while "
            f"{args.output} is being trained, and removed once it is written)"
        )
    t0 = time.perf_counter()
    sol = _train(args, run, checkpoint)
    wall = time.perf_counter() - t0
    return _report(args, run.problem, sol, wall, checkpoint)


def _read(args: argparse.Namespace) -> _Run:
    """Check the device and the output, load the problem file and settle the settings."""
    import torch

    from .._arguments import check_device

    try:
        device = check_device(args.device)
    except ValueError as exc:
        raise UsageError(f"--device: {exc}") from None
    spec = output_and_problem(args)
    problem = spec["problem"]
    if args.threads:
        torch.set_num_threads(args.threads)
    from ..checks import check_problem
    from ..defaults import derive_settings

    with warnings.catch_warnings():  # its errors before the settings are derived from the
        warnings.simplefilter("ignore")  # problem; its warnings once, from solve's own check
        check_problem(problem)
    _check_grid(args.grid, problem)
    derived = derive_settings(problem, constraints=not args.soft)
    trainer = spec["trainer"] or derived.trainer
    if args.steps or args.seconds:
        trainer = trainer.with_budget(steps=args.steps, seconds=args.seconds)
    if args.derivatives:
        trainer = dataclasses.replace(trainer, derivatives=args.derivatives)
    dtype = getattr(torch, args.dtype) if args.dtype else (spec["dtype"] or torch.float64)
    return _Run(spec=spec, derived=derived, trainer=trainer, dtype=dtype, device=device)


def _check_grid(grid: tuple[int, ...] | None, problem: Any) -> None:
    """``--grid`` gives one count per coordinate of the problem (before any training)."""
    if grid is not None and len(grid) != problem.domain.dim:
        names = problem.domain.names
        raise UsageError(
            f"--grid: {'x'.join(map(str, grid))} gives {len(grid)} point counts; the problem's "
            f"coordinates ({', '.join(names)}) need {len(names)}, as "
            f"{'x'.join(['64'] * len(names))}"
        )


def _announce(args: argparse.Namespace, run: _Run) -> None:
    """Say on standard error what is solved, and with which settings."""
    problem, spec = run.problem, run.spec
    print(
        f"solving {problem.name} ({type(problem.equation).__name__}, "
        f"{dimensions(problem)}) with seed {args.seed}"
        + (f", resumed from {args.output}.ckpt" if args.resume else ""),
        file=sys.stderr,
    )
    given = [k for k in ("field", "sampler", "trainer", "dtype") if spec[k] is not None]
    line = f"settings: {run.derived.summary()}"
    if given:
        line += f" (the problem file sets its own {', '.join(given)})"
    if args.steps or args.seconds:
        line += f"; budget from the command line: {_budget_text(run.trainer)}"
    print(line, file=sys.stderr)


def _train(args: argparse.Namespace, run: _Run, checkpoint: str) -> Any:
    """:func:`neuralpde.solve` with the run's settings; the solution."""
    from ..api import solve

    return solve(
        run.problem,
        run.spec["field"],
        run.spec["sampler"],
        run.trainer,
        seed=args.seed,
        dtype=run.dtype,
        device=run.device,
        constraints=not args.soft,
        checkpoint=checkpoint,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
        estimate=not args.no_estimate,
    )


def _report(args: argparse.Namespace, problem: Any, sol: Any, wall: float, checkpoint: str) -> int:
    """Print the result, write it unless training failed or was stopped; the exit status."""
    from ..training import Status

    failed = not sol.status.is_result  # a divergence or a stop is never written as a result
    path = None if failed else sol.save(args.output, n=args.grid)
    loss = sol.history["loss"][-1]
    print(
        f"{problem.name}: {sol.result.steps} steps in {wall:.1f} s, loss {loss:.3e}, "
        f"status {sol.status}"
    )
    if problem.exact is not None:  # the file holds them (the domain test on the grid is costly)
        errs = sol.errors() if path is None else _stored_metrics(path)
        print(
            f"relative L2 error vs exact: {errs['relative_l2']:.3e} "
            f"(relative max {errs['relative_max']:.3e})"
        )
    if "error_estimate" in sol.settings:
        print(estimate_text(sol.settings["error_estimate"]))
    if sol.status is Status.INTERRUPTED:
        print(
            f"not written: the run was stopped; its state is in {checkpoint}: continue with "
            f"the same command and --resume"
        )
        return 130
    if failed:
        print(f"not written: training diverged ({sol.result.message}); {args.output} is untouched")
        return 1
    Path(checkpoint).unlink(missing_ok=True)  # the result supersedes it
    print(f"wrote {path}")
    return 0


def _stored_metrics(path: Path) -> dict[str, float]:
    from ..io import read_solution

    return read_solution(path, grid=False)["metrics"]


def _budget_text(trainer) -> str:
    """A trainer's budget in words."""
    d = trainer.describe()
    steps = [
        f"{name} {d[k]}" if isinstance(d[k], str) else f"{d[k]} {name} steps"
        for k, name in (
            ("adam_steps", "Adam"),
            ("lbfgs_steps", "L-BFGS"),
            ("gauss_newton_steps", "Gauss-Newton"),
        )
        if d[k]
    ]
    clock = "no time limit" if d["seconds"] is None else f"{d['seconds']:g} s"
    return ", ".join([*steps, clock])
