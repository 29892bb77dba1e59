"""The ``neuralpde`` command line.

``neuralpde solve PROBLEM_FILE -o OUT.h5`` trains a field for the problem defined in a Python file
and writes it to HDF5; ``neuralpde reference PROBLEM_FILE -o REF.h5`` computes a
finite-difference reference with its own error estimate; ``neuralpde validate SOLUTION.h5
(--reference REF.h5 | --exact)`` compares the two; ``neuralpde info FILE.h5`` says what a
solution or reference file holds.

A problem file is ordinary Python that defines ``problem`` (a :class:`neuralpde.Problem`) and
optionally ``field``, ``sampler`` and ``trainer`` (its tuned settings), ``dtype``, and
``reference`` (a dict of finite-difference settings: ``n``, ``levels``, ``order``, ``dt``,
``time_samples``, ``extrapolate``).

Exit status: 0 success, 1 a failure while running (``validate``: the tolerance is not met), 2 a
usage error (bad arguments or files).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import logging
import math
import os
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "load_problem_file"]


class UsageError(Exception):
    """A problem with the command's arguments or input files (exit status 2)."""


def load_problem_file(path: str) -> dict[str, Any]:
    """:func:`neuralpde.problem_file.load_problem_file`, its errors as :class:`UsageError`."""
    from .problem_file import ProblemFileError
    from .problem_file import load_problem_file as load

    try:
        return load(path)
    except ProblemFileError as exc:
        raise UsageError(str(exc)) from exc.__cause__


def positive_number(s: str, at_most: float | None = None) -> float:
    """An argparse type: a finite positive number (of at most ``at_most``, if given; bind it
    with :func:`functools.partial`)."""
    want = "a positive number" + ("" if at_most is None else f" of at most {at_most:g}")
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {want}, got {s!r}") from None
    if not v > 0 or v == float("inf") or (at_most is not None and v > at_most):
        raise argparse.ArgumentTypeError(f"expected {want}, got {s!r}")
    return v


def non_negative_number(s: str, at_most: float = math.inf) -> float:
    """An argparse type: a finite number >= 0 (and at most ``at_most``)."""
    want = "a number >= 0" + ("" if at_most == math.inf else f" and at most {at_most:g}")
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {want}, got {s!r}") from None
    if not (0 <= v <= at_most and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"expected {want}, got {s!r}")
    return v


def int_at_least(
    low: int, below: int | None = None, *, at_most: int | None = None
) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``low`` (and less than ``below``, or at most
    ``at_most``, if given)."""
    want = f"an integer >= {low}" if below is None else f"an integer in [{low}, {below})"
    if at_most is not None:
        want = f"an integer from {low} to {at_most}"

    def parse(s: str) -> int:
        try:
            v = int(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {want}, got {s[:60]!r}") from None
        if v < low or (below is not None and v >= below) or (at_most is not None and v > at_most):
            raise argparse.ArgumentTypeError(f"expected {want}, got {s[:60]!r}")
        return v

    return parse


def path_argument(what: str, suffixes: Sequence[str] = ()) -> Callable[[str], str]:
    """An argparse type: a path the file system can take (no NUL character, no name longer
    than it allows; :func:`neuralpde._arguments.check_path`), also with each of ``suffixes``
    appended (files written beside it). Whether it exists or can be written is checked later,
    before any work."""
    from ._arguments import check_path

    def parse(s: str) -> str:
        for suffix in ("", *suffixes):
            try:
                check_path(s + suffix, "the path", what)
            except ValueError as exc:
                beside = f" (with {suffix!r} appended: a file written beside it)" if suffix else ""
                raise argparse.ArgumentTypeError(f"{exc}{beside}") from None
        return s

    return parse


def _parser() -> argparse.ArgumentParser:
    from . import __version__, limits
    from .engine import ENGINES

    ap = argparse.ArgumentParser(
        prog="neuralpde", description="Solve PDEs with neural fields; results in HDF5."
    )
    ap.add_argument("--version", action="version", version=f"neuralpde {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("solve", help="train a field for a problem file and write it to HDF5")
    s.add_argument(
        "problem_file",
        metavar="PROBLEM_FILE",
        type=path_argument("a file path"),
        help="Python file defining `problem`",
    )
    s.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT.h5",
        type=path_argument("a file path", suffixes=(".ckpt",)),  # and its checkpoint
        help="solution file to write",
    )
    s.add_argument("--seed", type=int_at_least(0, 2**63), default=0, help="random seed (default 0)")
    s.add_argument(
        "--resume",
        action="store_true",
        help="continue the run whose checkpoint is OUT.h5.ckpt (written while training, and "
        "when the run is stopped with Ctrl-C or SIGTERM); the problem and settings must be the "
        "same, the budget may differ",
    )
    s.add_argument(
        "--checkpoint-every",
        type=functools.partial(non_negative_number, at_most=limits.MAX_SECONDS),
        default=60.0,
        metavar="SECONDS",
        help="write the checkpoint OUT.h5.ckpt this often (default 60; 0: after every step)",
    )
    budget = s.add_mutually_exclusive_group()
    budget.add_argument(
        "--steps",
        type=int_at_least(1, at_most=limits.MAX_STEPS),
        help="total optimizer steps (at most 10**9), in place of the problem file's budget (no "
        "time limit)",
    )
    budget.add_argument(
        "--seconds",
        type=functools.partial(positive_number, at_most=limits.MAX_SECONDS),
        help="wall-time budget in seconds (at most 1e7), in place of the problem file's budget "
        "(no L-BFGS step limit; a trainer without L-BFGS keeps its Adam steps as a limit)",
    )
    precision = s.add_mutually_exclusive_group()
    precision.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        help="precision of training (default: the problem file's dtype, else float64)",
    )
    precision.add_argument(
        "--float32",
        dest="dtype",
        action="store_const",
        const="float32",
        help="the same as --dtype float32",
    )
    s.add_argument(
        "--derivatives",
        choices=ENGINES,
        help="how residual derivatives are computed (default: the problem file's trainer, "
        "else auto: one fused forward pass where the field supports it)",
    )
    s.add_argument(
        "--soft",
        action="store_true",
        help="keep every condition a term of the loss (default: Dirichlet, initial value and "
        "velocity are built into the field where the domain allows)",
    )
    s.add_argument(
        "--device",
        default="cpu",
        metavar="DEV",
        help="where to train: cpu (default), cuda or cuda:N",
    )
    s.add_argument(
        "--threads",
        type=int_at_least(1, at_most=limits.max_threads()),
        metavar="N",
        help=f"CPU threads for PyTorch, at most {limits.THREADS_PER_CPU} per core (default: one "
        "per core)",
    )
    s.add_argument("-q", "--quiet", action="store_true", help="print only the result")

    r = sub.add_parser(
        "reference",
        help="compute a finite-difference reference with its error estimate and write it to HDF5",
    )
    r.add_argument(
        "problem_file",
        metavar="PROBLEM_FILE",
        type=path_argument("a file path"),
        help="Python file defining `problem`",
    )
    r.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="REF.h5",
        type=path_argument("a file path"),
        help="reference file to write",
    )
    r.add_argument(
        "--n",
        type=int_at_least(2, at_most=limits.MAX_GRID_NODES),
        help="intervals per space axis on the coarsest grid (default: the problem file's "
        "reference['n'], else 32)",
    )
    r.add_argument(
        "--levels",
        type=int_at_least(3, at_most=limits.MAX_REFERENCE_LEVELS),
        help="number of grids, each refined by 2, at most 25 and so that the finest has at most "
        "2**26 nodes (default: reference['levels'], else 3)",
    )
    r.add_argument(
        "--order",
        type=int,
        choices=(2, 4),
        help="formal order: 4 (steady, Dirichlet-only problems) or 2 (default: "
        "reference['order'], else 4 where available and 2 otherwise)",
    )
    r.add_argument(
        "--time-samples",
        type=int_at_least(2, at_most=limits.MAX_TIME_STEPS),
        help="store this many evenly spaced time levels (evolution problems; the coarsest grid's "
        "step count is rounded up to a multiple of N-1; default: reference['time_samples'], "
        "else every time level of the coarsest grid, where the error is measured)",
    )
    r.add_argument(
        "--extrapolate",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="store the Richardson extrapolation of the two finest grids (needs 4 levels; "
        "default: the problem file's reference['extrapolate'], else off)",
    )
    r.add_argument("-q", "--quiet", action="store_true", help="print only the result")

    v = sub.add_parser(
        "validate", help="compare a solution file with a reference file or its exact solution"
    )
    v.add_argument(
        "solution",
        metavar="SOLUTION.h5",
        type=path_argument("a file path"),
        help="solution file (neuralpde solve)",
    )
    v.add_argument(
        "--reference",
        metavar="REF.h5",
        type=path_argument("a file path"),
        help="reference file (neuralpde reference)",
    )
    v.add_argument(
        "--exact", action="store_true", help="compare with the exact solution stored in the file"
    )
    v.add_argument(
        "--tol", metavar="X", help="fail (exit status 1) when the relative L2 error exceeds X"
    )
    v.add_argument(
        "--report",
        metavar="DIR",
        type=path_argument("a directory path"),
        help="write report.md and figures into DIR",
    )
    v.add_argument("-q", "--quiet", action="store_true", help="print only the result")

    i = sub.add_parser("info", help="describe a solution or reference file")
    i.add_argument("file", metavar="FILE.h5", type=path_argument("a file path"))
    i.add_argument("--json", action="store_true", help="print the record as JSON")
    return ap


def _output_and_problem(args: argparse.Namespace) -> dict[str, Any]:
    """Check that ``args.output`` can be written (before any work), then load the problem file."""
    from .io import check_writable

    try:
        check_writable(args.output)
    except (OSError, ValueError) as exc:
        raise UsageError(f"-o/--output: {exc}") from None
    out, source = Path(args.output), Path(args.problem_file)
    if out.exists() and source.exists() and out.resolve() == source.resolve():
        raise UsageError(
            f"-o/--output {args.output!r} is the problem file itself; choose another path"
        )
    return load_problem_file(args.problem_file)


def _stored_metrics(path: Path) -> dict[str, float]:
    from .io import read_solution

    return read_solution(path, grid=False)["metrics"]


def _solve(args: argparse.Namespace) -> int:
    import torch

    from ._arguments import check_device
    from .api import solve
    from .training import Status

    try:
        device = check_device(args.device)
    except ValueError as exc:
        raise UsageError(f"--device: {exc}") from None
    spec = _output_and_problem(args)
    problem = spec["problem"]
    if args.threads:
        torch.set_num_threads(args.threads)
    from .checks import check_problem
    from .defaults import derive_settings

    with warnings.catch_warnings():  # its errors before the settings are derived from the
        warnings.simplefilter("ignore")  # problem; its warnings once, from solve's own check
        check_problem(problem)
    derived = derive_settings(problem, constraints=not args.soft)
    trainer = spec["trainer"] or derived.trainer
    if args.steps or args.seconds:
        trainer = trainer.with_budget(steps=args.steps, seconds=args.seconds)
    if args.derivatives:
        trainer = dataclasses.replace(trainer, derivatives=args.derivatives)
    dtype = getattr(torch, args.dtype) if args.dtype else (spec["dtype"] or torch.float64)
    if not args.quiet:
        print(
            f"solving {problem.name} ({type(problem.equation).__name__}, "
            f"{problem.domain.dim}-D) with seed {args.seed}"
            + (f", resumed from {args.output}.ckpt" if args.resume else ""),
            file=sys.stderr,
        )
        given = [k for k in ("field", "sampler", "trainer", "dtype") if spec[k] is not None]
        line = f"settings: {derived.summary()}"
        if given:
            line += f" (the problem file sets its own {', '.join(given)})"
        if args.steps or args.seconds:
            line += f"; budget from the command line: {_budget_text(trainer)}"
        print(line, file=sys.stderr)
    checkpoint = f"{args.output}.ckpt"
    if args.resume and not Path(checkpoint).is_file():
        raise UsageError(
            f"--resume: no checkpoint {checkpoint!r} to continue from (it is written while "
            f"{args.output} is being trained, and removed once it is written)"
        )
    t0 = time.perf_counter()
    sol = solve(
        problem,
        spec["field"],
        spec["sampler"],
        trainer,
        seed=args.seed,
        dtype=dtype,
        device=device,
        constraints=not args.soft,
        checkpoint=checkpoint,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
    )
    wall = time.perf_counter() - t0
    failed = not sol.status.is_result  # a divergence or a stop is never written as a result
    path = None if failed else sol.save(args.output)
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


def _budget_text(trainer) -> str:
    """A trainer's budget in words."""
    d = trainer.describe()
    steps = [
        f"{d[k]} {name}"
        for k, name in (
            ("adam_steps", "Adam"),
            ("lbfgs_steps", "L-BFGS"),
            ("gauss_newton_steps", "Gauss-Newton"),
        )
        if d[k]
    ]
    clock = "no time limit" if d["seconds"] is None else f"{d['seconds']:g} s"
    return f"{', '.join(steps)} steps, {clock}"


def _reference(args: argparse.Namespace) -> int:
    from ._arguments import check_grid_nodes
    from .reference import (
        convergence_study,
        reference_checksum,
        reference_settings,
        save_reference,
    )

    spec = _output_and_problem(args)
    problem = spec["problem"]
    opts = spec["reference"] or {}
    from .conditions import Dirichlet

    steady = problem.time_index is None
    # the compact fourth-order scheme takes steady problems with Dirichlet data only
    compact = steady and all(isinstance(c, Dirichlet) for c in problem.conditions)
    n = args.n if args.n is not None else opts.get("n", 32)
    levels = args.levels if args.levels is not None else opts.get("levels", 3)
    order = args.order if args.order is not None else opts.get("order", 4 if compact else 2)
    samples = args.time_samples if args.time_samples is not None else opts.get("time_samples")
    dt = opts.get("dt")
    extrapolate = args.extrapolate if args.extrapolate is not None else opts.get("extrapolate")
    extrapolate = bool(extrapolate)
    if steady and (samples is not None or dt is not None):
        raise UsageError(
            f"time samples and dt apply to evolution problems only; {problem.name!r} is steady"
        )
    if extrapolate and levels < 4:
        source = "--extrapolate" if args.extrapolate else "the problem file's reference settings"
        raise UsageError(
            f"extrapolation (asked by {source}) needs at least 4 levels, got {levels}; give "
            "--levels 4 or more, or --no-extrapolate"
        )
    settings = {"n": n, "levels": levels, "order": order, "dt": dt, "time_samples": samples}
    if extrapolate:
        settings["extrapolate"] = True
    try:  # the options are checked; a problem file's n may not fit its problem's axes
        canonical = reference_settings(problem, **settings)
    except ValueError as exc:
        raise UsageError(f"problem file {args.problem_file!r}: reference settings: {exc}") from None
    try:  # the finest grid, from n, levels and the dimension, before anything is solved
        check_grid_nodes(canonical["n"], "n", levels=canonical["levels"], ratio=canonical["ratio"])
    except ValueError as exc:
        raise UsageError(f"--n/--levels (or the problem file's reference): {exc}") from None
    if not args.quiet:
        print(
            f"reference for {problem.name} ({type(problem.equation).__name__}, "
            f"{problem.domain.dim}-D): n={n}, {levels} levels, order {order}"
            + (", extrapolated" if extrapolate else ""),
            file=sys.stderr,
        )
    try:
        ref = convergence_study(problem, **settings)
    except NotImplementedError as exc:
        raise UsageError(
            f"the finite-difference reference cannot solve {problem.name!r}: {exc}"
        ) from None
    info = ref.describe()
    print("\n".join(_convergence_lines(info)))
    if not math.isfinite(ref.estimated_error):
        print(
            f"neuralpde: error: the finite-difference solutions of {problem.name!r} do not "
            "converge as the grid is refined (the differences between levels do not shrink), "
            "so the reference's error is unknown; nothing was written. Check that the problem "
            "is well posed, or refine (--n, --levels)",
            file=sys.stderr,
        )
        return 1
    path = save_reference(ref, args.output, problem=problem, settings=settings)
    checksum = reference_checksum(problem, **settings)
    print(f"wrote {path} (checksum {checksum[:16]})")
    return 0


def _convergence_lines(conv: dict[str, Any]) -> list[str]:
    """The convergence table, observed orders and the finest grid's estimated error, as text."""
    from .reference.richardson import observed_order

    ratio = conv.get("ratio", 2)
    lines = [
        f"{'level':>5}  {'n':>13}  {'h':>9}  {'dt':>9}  {'steps':>6}  {'difference':>10}  "
        f"{'order':>5}"
    ]
    prev = None
    for k, row in enumerate(conv["table"]):
        diff = row["difference"]
        order = "-"
        if prev and diff and diff > 0:
            order = f"{observed_order(prev, diff, ratio):.2f}"
        dt = "-" if row["dt"] is None else f"{row['dt']:.3e}"
        steps = "-" if row["steps"] is None else str(row["steps"])
        lines.append(
            f"{k:>5}  {'x'.join(map(str, row['n'])):>13}  {row['h']:>9.3e}  {dt:>9}  "
            f"{steps:>6}  {'-' if diff is None else f'{diff:.3e}':>10}  {order:>5}"
        )
        prev = diff
    what = "the finest grid"
    if conv.get("extrapolated"):
        what = "the extrapolated solution"
        o = int(conv["order"])
        lines.append(
            f"Richardson-extrapolated sequence (extrapolated with the formal order {o}; its own "
            f"order is expected from {o + 1} to {o + 2}):"
        )
        lines.append(f"{'levels':>7}  {'on n':>13}  {'difference':>10}  {'order':>5}")
        prev = None
        for row in conv.get("extrapolated_table") or ():
            diff = row["difference"]
            order = "-"
            if prev and diff and diff > 0:
                order = f"{observed_order(prev, diff, ratio):.2f}"
            levels = "+".join(map(str, row["levels"]))
            lines.append(
                f"{levels:>7}  {'x'.join(map(str, row['n'])):>13}  "
                f"{'-' if diff is None else f'{diff:.3e}':>10}  {order:>5}"
            )
            prev = diff
    p, used = conv["observed_order"], conv["order_used"]
    if p == used:
        how = f"observed order {p:.2f}"
    elif math.isfinite(p) and p > used:  # capped at the highest expected order
        how = f"order {used:g}, the highest expected (observed {p:.3g})"
    else:
        how = f"order {used:g} (observed {p:.3g}, not usable)"
    if not math.isfinite(conv["estimated_error"]):
        lines.append(f"estimated error of {what}: unknown (the levels do not converge; {how})")
        return lines
    lines.append(
        f"estimated error of {what}: {conv['estimated_error']:.3e} relative L2 "
        f"(Richardson, {how}; GCI {conv['gci']:.3e})"
    )
    return lines


def _validate(args: argparse.Namespace) -> int:
    from .io import FormatError

    if (args.reference is None) == (not args.exact):
        raise UsageError("give exactly one of --reference REF.h5 and --exact")
    tol = None
    if args.tol is not None:
        try:
            tol = float(args.tol)
        except ValueError:
            tol = None
        if tol is None or not 0 < tol < float("inf"):
            raise UsageError(f"--tol must be a positive number, got {args.tol!r}")
    if args.report is not None:  # before any work
        from .report import check_directory

        try:
            check_directory(args.report)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--report: {exc}") from None
    from .validate import validate

    try:
        result = validate(args.solution, reference=args.reference, exact=args.exact, tol=tol)
    except ValueError as exc:
        if isinstance(exc, FormatError):
            raise
        raise UsageError(str(exc)) from None
    print(result.summary())
    if args.report is not None:
        from .report import write_report

        print(f"wrote {write_report(result, args.report)}")
    return 1 if result.passed is False else 0


def _info(args: argparse.Namespace) -> int:
    from .io import file_kind, read_solution
    from .io.hdf5 import damaged_entries

    if file_kind(args.file) == "reference":
        return _info_reference(args)
    rec = read_solution(args.file, grid=False)
    rec.pop("parameters")
    if args.json:
        rec["training"]["history"] = {
            k: list(map(_plain, v)) for k, v in rec["training"]["history"].items()
        }
        rec["coords"] = {
            k: [float(v.min()), float(v.max()), len(v)] for k, v in rec["coords"].items()
        }
        print(_json(rec))
        return 0
    with damaged_entries(args.file, "solution"):  # reads, but cannot be described
        lines = _solution_lines(args.file, rec)
    print("\n".join(lines))
    return 0


def _solution_lines(path: str, rec: dict[str, Any]) -> list[str]:
    """What ``neuralpde info`` says about the solution file ``path`` read into ``rec``."""
    prob, tr, arch = rec["problem"], rec["training"], rec["architecture"]
    lines = [
        f"file:        {path} (neuralpde solution, format {rec['format_version']}, "
        f"written by neuralpde {rec['neuralpde_version']} on {rec['created']})",
        f"problem:     {prob['name']}: {prob['equation'].get('latex') or prob['equation']['type']}"
        f" on {prob['domain']['type']}",
        f"equation:    {_equation_text(prob['equation'])}",
        "grid:        "
        + " x ".join(f"{n}[{v.min():g}, {v.max():g}]:{len(v)}" for n, v in rec["coords"].items())
        + " -> dataset 'u'",
        f"field:       {_field_text(arch['field'])}, {rec['dtype']}, inputs "
        f"({', '.join(rec['coordinates'])})",
        f"training:    {tr['steps']} steps, {tr['timings'].get('total', float('nan')):.1f} s, "
        f"final loss {tr['history']['loss'][-1]:.3e}, status {tr['status']}, seed {tr['seed']}"
        + (
            f", derivatives {tr['settings']['derivatives_used']}"
            if "derivatives_used" in tr.get("settings", {})
            else ""
        ),
    ]
    c = arch.get("constraint")
    if c:
        built = ", ".join(f"conditions[{i}]" for i in c.get("built_in", [])) or "none"
        lift = c.get("lift")
        lift_text = "zero lift" if not lift else f"lift: Chebyshev series of {lift['terms']} terms"
        fit = tr.get("settings", {}).get("lift_fit") or {}
        if "relative_defect" in fit:
            lift_text += f", data met to {fit['relative_defect']:.1e} of their size"
        lines.append(f"built in:    {built} (hard constraint; {lift_text})")
    derived = tr.get("settings", {}).get("derived")
    if derived:
        lines.append(f"defaults:    {derived}")
    if rec["metrics"]:
        m = rec["metrics"]
        lines.append(
            "error:       "
            + ", ".join(f"{k.replace('_', ' ')} {v:.3e}" for k, v in m.items())
            + " (vs the exact solution, on the stored grid)"
        )
    lines.append("versions:    " + ", ".join(f"{k} {v}" for k, v in rec["versions"].items()))
    return lines


def _info_reference(args: argparse.Namespace) -> int:
    from .io import read_reference
    from .io.hdf5 import damaged_entries

    rec = read_reference(args.file, grid=False)
    if args.json:
        rec["coords"] = {
            k: [float(v.min()), float(v.max()), len(v)] for k, v in rec["coords"].items()
        }
        print(_json(rec))
        return 0
    with damaged_entries(args.file, "reference"):
        lines = _reference_lines(args.file, rec)
    print("\n".join(lines))
    return 0


def _reference_lines(path: str, rec: dict[str, Any]) -> list[str]:
    """What ``neuralpde info`` says about the reference file ``path`` read into ``rec``."""
    prob, conv = rec["problem"], rec["convergence"]
    eq = prob.get("equation", {})
    what = eq.get("latex") or eq.get("type") or "?"
    where = prob.get("domain", {}).get("type", "?")
    settings = ", ".join(f"{k}={v}" for k, v in rec["settings"].items())
    return [
        f"file:        {path} (neuralpde reference, format {rec['format_version']}, "
        f"written by neuralpde {rec['neuralpde_version']} on {rec['created']})",
        f"problem:     {prob.get('name', '?')}: {what} on {where}",
        f"equation:    {_equation_text(eq)}",
        f"scheme:      {conv['scheme']} (formal order {conv['order']})",
        "grid:        "
        + " x ".join(f"{n}[{v.min():g}, {v.max():g}]:{len(v)}" for n, v in rec["coords"].items())
        + " -> dataset 'u'",
        f"settings:    {settings}, total {conv['wall_time']:.3g} s",
        f"checksum:    {rec['checksum']}",
        "convergence:",
        *("  " + line for line in _convergence_lines(conv)),
        "versions:    " + ", ".join(f"{k} {v}" for k, v in rec["versions"].items()),
    ]


def _equation_text(eq: dict) -> str:
    """The equation's type and parameters, e.g. ``Heat, kappa=[[0.1, 0.0], [0.0, 0.05]], f=0.0``;
    a function's source is shown as ``(function)``."""
    parts = [str(eq.get("type", "?"))]
    for k, v in eq.items():
        if k in ("type", "latex"):
            continue
        if isinstance(v, str) and not v.startswith("GridData(") and ("\n" in v or len(v) > 40):
            v = "(function)"
        parts.append(f"{k}={v}")
    return ", ".join(parts)


def _field_text(f: dict) -> str:
    text = f"{f['type']} {f['depth']}x{f['width']}"
    if "w0" in f:
        text += f" w0={f['w0']}"
    return text


def _json(record: dict) -> str:
    """``record`` as strict JSON: NaN and infinities (a history without a monitor, an unknown
    error estimate) become ``null``, which every JSON reader accepts."""

    def strict(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: strict(x) for k, x in v.items()}
        if isinstance(v, list):
            return [strict(x) for x in v]
        return v

    loose = json.loads(json.dumps(record, default=_plain))  # numbers as Python floats
    return json.dumps(strict(loose), indent=2, allow_nan=False)


def _plain(v: Any) -> Any:
    try:
        return v.item()
    except AttributeError:
        return str(v)


def _in_problem_file(exc: BaseException, problem_file: str | None) -> str | None:
    """Where in ``problem_file`` (a user's residual, source or condition data) ``exc`` was
    raised, as text, or ``None`` when the traceback does not pass through that file."""
    if not problem_file:
        return None
    target = os.path.realpath(problem_file)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename]
    mine = [f for f in frames if os.path.realpath(f.filename) == target]
    if not mine:
        return None
    f = mine[-1]
    return f"in {problem_file}, line {f.lineno}, in {f.name}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    quiet = getattr(args, "quiet", False)
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(message)s",
        handlers=[_Stderr()],
    )
    with warnings.catch_warnings():  # restores the caller's warning display on return
        warnings.showwarning = _show_warning
        return _run(args)


class _Stderr(logging.StreamHandler):
    """Writes each record to ``sys.stderr`` as it is when the record comes, not as it was when
    the handler was made (``main`` may run many times in one process, with standard error
    swapped between the runs)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Print a warning as one line on standard error, without the source line behind it."""
    print(f"neuralpde: warning: {category.__name__}: {message}", file=sys.stderr)


def _line(exc: BaseException) -> str:
    """An error's message on one line: a multi-line message (a user's exception, PyTorch's
    list of mismatched tensors) with its line breaks and indents as single spaces."""
    return " ".join(str(exc).split())


def _run(args: argparse.Namespace) -> int:
    """Run the chosen command, turning its errors into a message and an exit status."""
    from .io import FormatError
    from .training.checkpoint import CheckpointError

    try:
        commands = {
            "solve": _solve,
            "reference": _reference,
            "validate": _validate,
            "info": _info,
        }
        return commands[args.command](args)
    except UsageError as exc:
        print(f"neuralpde: error: {_line(exc)}", file=sys.stderr)
        return 2
    except (
        FileNotFoundError,
        FormatError,
        CheckpointError,
        PermissionError,
        IsADirectoryError,
        NotADirectoryError,
    ) as exc:
        print(f"neuralpde: error: {_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # whoever read standard output stopped (e.g. `| head`): end quietly, as Unix tools do
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (ValueError, TypeError, RuntimeError, OSError) as exc:
        where = _in_problem_file(exc, getattr(args, "problem_file", None))
        place = "" if where is None else f" ({where})"
        print(f"neuralpde: error: {type(exc).__name__}: {_line(exc)}{place}", file=sys.stderr)
        return 1
    except Exception as exc:
        where = _in_problem_file(exc, getattr(args, "problem_file", None))
        if where is None:
            raise  # not the problem's own code: the whole traceback, to report
        print(f"neuralpde: error: {type(exc).__name__}: {_line(exc)} ({where})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("neuralpde: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
