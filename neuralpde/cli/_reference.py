"""``neuralpde reference``: a finite-difference reference with its error estimate (or, with
``--fem``, a P2 finite-element one on the problem's mesh), and the convergence table that
``reference`` and ``info`` print."""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from typing import TYPE_CHECKING, Any

from ._types import UsageError, dimensions, output_and_problem

if TYPE_CHECKING:  # imported when used: ``neuralpde --help`` loads no solver
    from ..reference import ReferenceSolution, Study


def reference_command(args: argparse.Namespace) -> int:
    """Run ``neuralpde reference``; returns the exit status."""
    from ..reference import reference_checksum, save_reference

    if args.fem:
        return _fem_command(args)
    if args.refinements is not None:
        raise UsageError("--refinements applies to a finite-element reference: give --fem too")
    spec = output_and_problem(args)
    problem = spec["problem"]
    study = _study(args, problem, spec["reference"])
    if not args.quiet:
        print(
            f"reference for {problem.name} ({type(problem.equation).__name__}, "
            f"{dimensions(problem)}): n={study.describe()['n']}, {study.levels} levels, "
            f"order {study.order}" + (", extrapolated" if study.extrapolate else ""),
            file=sys.stderr,
        )
    try:
        ref = _convergence_study(problem, study)
    except NotImplementedError as exc:
        raise UsageError(
            f"the finite-difference reference cannot solve {problem.name!r}: {exc}"
        ) from None
    info = ref.describe()
    print("\n".join(convergence_lines(info)))
    if not math.isfinite(ref.estimated_error):
        print(
            f"neuralpde: error: the finite-difference solutions of {problem.name!r} do not "
            "converge as the grid is refined (the differences between levels do not shrink), "
            "so the reference's error is unknown; nothing was written. Check that the problem "
            "is well posed, or refine (--n, --levels)",
            file=sys.stderr,
        )
        return 1
    path = save_reference(ref, args.output, problem=problem, settings=study)
    checksum = reference_checksum(problem, study)
    print(f"wrote {path} (checksum {checksum[:16]})")
    return 0


def _fem_command(args: argparse.Namespace) -> int:
    """``neuralpde reference --fem``: the P2 finite-element reference
    (:func:`~neuralpde.reference.fem.fem_reference`) written as a reference file."""
    from ..io import reference_checksum
    from ..reference import save_reference
    from ..reference.fem import check_fem_problem, fem_reference

    study = [
        option
        for option, value in (
            ("--levels", args.levels),
            ("--order", args.order),
            ("--time-samples", args.time_samples),
            ("--extrapolate", args.extrapolate),
        )
        if value is not None
    ]
    if study:
        raise UsageError(
            f"{', '.join(study)} set the finite-difference study; with --fem give "
            "--refinements (and --n, the sampling grid's intervals per axis)"
        )
    problem = output_and_problem(args)["problem"]
    refinements = 2 if args.refinements is None else args.refinements
    try:
        check_fem_problem(problem)
        if not args.quiet:
            print(
                f"finite-element reference for {problem.name} "
                f"({type(problem.equation).__name__}, {dimensions(problem)}): P2 on the mesh "
                f"and {refinements} uniform refinements",
                file=sys.stderr,
            )
        ref = fem_reference(problem, refinements, n=args.n)
    except (NotImplementedError, ImportError) as exc:
        raise UsageError(f"--fem: {exc}") from None
    print(ref.scheme + " (n in the table: each mesh's cells)")
    print("\n".join(convergence_lines(ref.describe())))
    if not math.isfinite(ref.estimated_error):
        print(
            f"neuralpde: error: the finite-element solutions of {problem.name!r} do not "
            "converge as the mesh is refined, so the reference's error is unknown; nothing was "
            "written. Check that the problem is well posed, or refine (--refinements)",
            file=sys.stderr,
        )
        return 1
    path = save_reference(ref, args.output, problem=problem)
    checksum = reference_checksum(problem.describe(), ref.recorded_settings())
    print(f"wrote {path} (checksum {checksum[:16]})")
    return 0


def _convergence_study(problem: Any, study: Study) -> ReferenceSolution:
    """:func:`~neuralpde.reference.convergence_study`, looked up when called (so that a test
    can stand in for it)."""
    from .. import reference

    return reference.convergence_study(problem, study)


def _study(args: argparse.Namespace, problem: Any, study: Study | None) -> Study:
    """The study from the command line's options over the problem file's ``reference``
    (``study``, a :class:`~neuralpde.reference.Study`), else over the defaults (``n=32``, 3
    levels, order 4 where the compact scheme applies, else 2); checked before anything is
    solved."""
    from .._arguments import check_grid_nodes
    from ..conditions import Dirichlet
    from ..domains import Box
    from ..reference import Study
    from ..reference.settings import EXTRAPOLATION_LEVELS, check_evolution_only

    steady = problem.time_index is None
    if study is None:
        # the compact fourth-order scheme takes steady problems on a box with Dirichlet data
        # only (other domains: Shortley-Weller, second order)
        compact = (
            steady
            and isinstance(problem.domain, Box)
            and all(isinstance(c, Dirichlet) for c in problem.conditions)
        )
        study = Study(n=32, levels=3, order=4 if compact else 2)
    given = {
        "n": args.n,
        "levels": args.levels,
        "order": args.order,
        "time_samples": args.time_samples,
        "extrapolate": args.extrapolate,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    try:
        check_evolution_only(
            not steady,
            problem.name,
            dt=study.dt,
            time_samples=changes.get("time_samples", study.time_samples),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    levels = changes.get("levels", study.levels)
    if changes.get("extrapolate", study.extrapolate) and levels < EXTRAPOLATION_LEVELS:
        # said in the command line's terms
        source = "--extrapolate" if args.extrapolate else "the problem file's reference settings"
        raise UsageError(
            f"extrapolation (asked by {source}) needs at least {EXTRAPOLATION_LEVELS} levels, "
            f"got {levels}; give --levels {EXTRAPOLATION_LEVELS} or more, or --no-extrapolate"
        )
    if changes:  # the options are checked as any study's settings
        study = dataclasses.replace(study, **changes)
    try:  # a problem file's n may not fit its problem's axes
        settings = study.for_axes(problem.domain.dim - (not steady))
    except ValueError as exc:
        raise UsageError(f"problem file {args.problem_file!r}: reference settings: {exc}") from None
    try:  # the finest grid, from n, levels and the dimension, before anything is solved
        check_grid_nodes(settings.n, "n", levels=settings.levels, ratio=settings.ratio)
    except ValueError as exc:
        raise UsageError(f"--n/--levels (or the problem file's reference): {exc}") from None
    return study


def convergence_lines(conv: dict[str, Any]) -> list[str]:
    """The convergence table, observed orders and the finest grid's estimated error, as text."""
    ratio = conv.get("ratio", 2)
    lines = [
        f"{'level':>5}  {'n':>13}  {'h':>9}  {'dt':>9}  {'steps':>6}  {'difference':>10}  "
        f"{'order':>5}"
    ]
    prev = None
    for k, row in enumerate(conv["table"]):
        diff = row["difference"]
        dt = "-" if row["dt"] is None else f"{row['dt']:.3e}"
        steps = "-" if row["steps"] is None else str(row["steps"])
        lines.append(
            f"{k:>5}  {'x'.join(map(str, row['n'])):>13}  {row['h']:>9.3e}  {dt:>9}  "
            f"{steps:>6}  {'-' if diff is None else f'{diff:.3e}':>10}  "
            f"{_order_text(prev, diff, ratio):>5}"
        )
        prev = diff
    what = "the finest grid"
    if conv.get("extrapolated"):
        what = "the extrapolated solution"
        lines += _extrapolated_lines(conv, ratio)
    how = _order_used_text(conv["observed_order"], conv["order_used"])
    if not math.isfinite(conv["estimated_error"]):
        lines.append(f"estimated error of {what}: unknown (the levels do not converge; {how})")
        return lines
    lines.append(
        f"estimated error of {what}: {conv['estimated_error']:.3e} relative L2 "
        f"(Richardson, {how}; GCI {conv['gci']:.3e})"
    )
    return lines


def _extrapolated_lines(conv: dict[str, Any], ratio: float) -> list[str]:
    """The table of the Richardson-extrapolated sequence."""
    o = int(conv["order"])
    lines = [
        f"Richardson-extrapolated sequence (extrapolated with the formal order {o}; its own "
        f"order is expected from {o + 1} to {o + 2}):",
        f"{'levels':>7}  {'on n':>13}  {'difference':>10}  {'order':>5}",
    ]
    prev = None
    for row in conv.get("extrapolated_table") or ():
        diff = row["difference"]
        levels = "+".join(map(str, row["levels"]))
        lines.append(
            f"{levels:>7}  {'x'.join(map(str, row['n'])):>13}  "
            f"{'-' if diff is None else f'{diff:.3e}':>10}  {_order_text(prev, diff, ratio):>5}"
        )
        prev = diff
    return lines


def _order_text(prev: float | None, diff: float | None, ratio: float) -> str:
    """The order observed from two successive differences, or ``-``."""
    from ..reference.richardson import observed_order

    if prev and diff and diff > 0:
        return f"{observed_order(prev, diff, ratio):.2f}"
    return "-"


def _order_used_text(p: float, used: float) -> str:
    """The order the error estimate uses, and why."""
    if p == used:
        return f"observed order {p:.2f}"
    if math.isfinite(p) and p > used:  # capped at the highest expected order
        return f"order {used:g}, the highest expected (observed {p:.3g})"
    return f"order {used:g} (observed {p:.3g}, not usable)"
