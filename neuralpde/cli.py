"""The ``neuralpde`` command line.

``neuralpde solve PROBLEM_FILE -o OUT.h5`` trains a field for the problem defined in a Python file
and writes it to HDF5; ``neuralpde info FILE.h5`` says what a solution file holds.

A problem file is ordinary Python that defines ``problem`` (a :class:`neuralpde.Problem`) and
optionally ``field``, ``sampler`` and ``trainer`` (its tuned settings) and ``dtype``.

Exit status: 0 success, 1 a failure while running, 2 a usage error (bad arguments or files).
"""

from __future__ import annotations

import argparse
import json
import logging
import runpy
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "load_problem_file"]


class UsageError(Exception):
    """A problem with the command's arguments or input files (exit status 2)."""


def load_problem_file(path: str) -> dict[str, Any]:
    """Run a problem file and return its ``problem`` and optional settings.

    Raises :class:`UsageError` with a one-line message for a missing file, a file that fails to
    run, or one that defines no problem.
    """
    from .fields import MLP, Siren
    from .problem import Problem
    from .sampling import Sampler
    from .training import Trainer

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"problem file {path!r} does not exist")
    try:
        ns = runpy.run_path(str(p), run_name="__neuralpde_problem__")
    except Exception as exc:  # the user's code: report it in one line
        raise UsageError(
            f"problem file {path!r} failed to run: {type(exc).__name__}: {exc}"
        ) from exc
    problem = ns.get("problem")
    if problem is None:
        found = [v for v in ns.values() if isinstance(v, Problem)]
        if len(found) == 1:
            problem = found[0]
    if not isinstance(problem, Problem):
        raise UsageError(
            f"problem file {path!r} defines no problem: assign a neuralpde.Problem to a variable "
            "named 'problem'"
        )
    out: dict[str, Any] = {"problem": problem}
    for name, kind in (("field", (Siren, MLP)), ("sampler", Sampler), ("trainer", Trainer)):
        value = ns.get(name)
        if value is not None and not isinstance(value, kind):
            raise UsageError(
                f"problem file {path!r}: {name!r} must be a "
                f"{getattr(kind, '__name__', 'Siren or MLP')}"
                f", got {type(value).__name__}"
            )
        out[name] = value
    out["dtype"] = ns.get("dtype")
    return out


def _positive_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s!r}")
    return v


def _nonneg_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {s!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {s!r}")
    return v


def _positive_float(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {s!r}") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {s!r}")
    return v


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    ap = argparse.ArgumentParser(
        prog="neuralpde", description="Solve PDEs with neural fields; results in HDF5."
    )
    ap.add_argument("--version", action="version", version=f"neuralpde {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("solve", help="train a field for a problem file and write it to HDF5")
    s.add_argument("problem_file", metavar="PROBLEM_FILE", help="Python file defining `problem`")
    s.add_argument("-o", "--output", required=True, metavar="OUT.h5", help="solution file to write")
    s.add_argument("--seed", type=_nonneg_int, default=0, help="random seed (default 0)")
    budget = s.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=_positive_int, help="total optimizer steps")
    budget.add_argument("--seconds", type=_positive_float, help="wall-time budget in seconds")
    s.add_argument("--float32", action="store_true", help="train in single precision")
    s.add_argument("-q", "--quiet", action="store_true", help="print only the result")

    i = sub.add_parser("info", help="describe a solution file")
    i.add_argument("file", metavar="FILE.h5")
    i.add_argument("--json", action="store_true", help="print the record as JSON")
    return ap


def _solve(args: argparse.Namespace) -> int:
    import torch

    from .api import solve
    from .io import check_writable

    try:
        check_writable(args.output)
    except OSError as exc:
        raise UsageError(str(exc)) from None
    spec = load_problem_file(args.problem_file)
    problem = spec["problem"]
    from .training import Trainer

    trainer = spec["trainer"] or Trainer()
    if args.steps or args.seconds:
        trainer = trainer.with_budget(steps=args.steps, seconds=args.seconds)
    dtype = torch.float32 if args.float32 else (spec["dtype"] or torch.float64)
    if not args.quiet:
        print(
            f"solving {problem.name} ({type(problem.equation).__name__}, "
            f"{problem.domain.dim}-D) with seed {args.seed}",
            file=sys.stderr,
        )
    t0 = time.perf_counter()
    sol = solve(problem, spec["field"], spec["sampler"], trainer, seed=args.seed, dtype=dtype)
    wall = time.perf_counter() - t0
    path = sol.save(args.output)
    loss = sol.history["loss"][-1]
    print(
        f"{problem.name}: {sol.result.steps} steps in {wall:.1f} s, loss {loss:.3e}, "
        f"status {sol.status}"
    )
    if problem.exact is not None:
        errs = sol.errors()
        print(
            f"relative L2 error vs exact: {errs['relative_l2']:.3e} "
            f"(relative max {errs['relative_max']:.3e})"
        )
    print(f"wrote {path}")
    return 0 if sol.status != "diverged" else 1


def _info(args: argparse.Namespace) -> int:
    from .io import read_solution

    rec = read_solution(args.file, grid=False)
    rec.pop("parameters")
    if args.json:
        rec["training"]["history"] = {
            k: list(map(_plain, v)) for k, v in rec["training"]["history"].items()
        }
        rec["coords"] = {
            k: [float(v.min()), float(v.max()), len(v)] for k, v in rec["coords"].items()
        }
        print(json.dumps(rec, indent=2, default=_plain))
        return 0
    prob, tr, arch = rec["problem"], rec["training"], rec["architecture"]
    lines = [
        f"file:        {args.file} (neuralpde solution, format {rec['format_version']}, "
        f"written by neuralpde {rec['neuralpde_version']} on {rec['created']})",
        f"problem:     {prob['name']}: {prob['equation'].get('latex') or prob['equation']['type']}"
        f" on {prob['domain']['type']}",
        "grid:        "
        + " x ".join(f"{n}[{v.min():g}, {v.max():g}]:{len(v)}" for n, v in rec["coords"].items())
        + " -> dataset 'u'",
        f"field:       {_field_text(arch['field'])}, {rec['dtype']}, inputs "
        f"({', '.join(rec['coordinates'])})",
        f"training:    {tr['steps']} steps, {tr['timings'].get('total', float('nan')):.1f} s, "
        f"final loss {tr['history']['loss'][-1]:.3e}, status {tr['status']}, seed {tr['seed']}",
    ]
    if rec["metrics"]:
        m = rec["metrics"]
        lines.append(
            "error:       "
            + ", ".join(f"{k.replace('_', ' ')} {v:.3e}" for k, v in m.items())
            + " (vs the exact solution, on the stored grid)"
        )
    lines.append("versions:    " + ", ".join(f"{k} {v}" for k, v in rec["versions"].items()))
    print("\n".join(lines))
    return 0


def _field_text(f: dict) -> str:
    text = f"{f['type']} {f['depth']}x{f['width']}"
    if "w0" in f:
        text += f" w0={f['w0']}"
    return text


def _plain(v: Any) -> Any:
    try:
        return v.item()
    except AttributeError:
        return str(v)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    quiet = getattr(args, "quiet", False)
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    from .io import FormatError

    try:
        if args.command == "solve":
            return _solve(args)
        return _info(args)
    except UsageError as exc:
        print(f"neuralpde: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, FormatError, PermissionError, IsADirectoryError) as exc:
        print(f"neuralpde: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, RuntimeError, OSError) as exc:
        print(f"neuralpde: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("neuralpde: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
