"""The command line's usage error, its problem-file loader and its argparse types."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


class UsageError(Exception):
    """A problem with the command's arguments or input files (exit status 2)."""


def load_problem_file(path: str) -> dict[str, Any]:
    """:func:`neuralpde.problem_file.load_problem_file`, its errors as :class:`UsageError`."""
    from ..problem_file import ProblemFileError
    from ..problem_file import load_problem_file as load

    try:
        return load(path)
    except ProblemFileError as exc:
        raise UsageError(str(exc)) from exc.__cause__


def output_and_problem(args: argparse.Namespace) -> dict[str, Any]:
    """Check that ``args.output`` can be written (before any work), then load the problem file."""
    from ..io import check_writable

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

    def parse(s: str) -> str:
        from .._arguments import check_path  # loads PyTorch: not for --help or --version

        for suffix in ("", *suffixes):
            try:
                check_path(s + suffix, "the path", what)
            except ValueError as exc:
                beside = f" (with {suffix!r} appended: a file written beside it)" if suffix else ""
                raise argparse.ArgumentTypeError(f"{exc}{beside}") from None
        return s

    return parse


def dimensions(problem: Any) -> str:
    """A problem's dimensions as a person says them: ``"2-D"``, or ``"2-D + time"`` for an
    evolution problem in two space dimensions."""
    if problem.time_index is None:
        return f"{problem.domain.dim}-D"
    return f"{problem.domain.dim - 1}-D + time"


def estimate_text(record: dict[str, Any]) -> str:
    """A stored error estimate (:meth:`neuralpde.estimate.ErrorEstimate.describe`) in words."""
    from ..estimate import ErrorEstimate

    return ErrorEstimate.from_record(record).summary()
