"""``neuralpde validate``: compare a solution file with a reference file or its exact
solution."""

from __future__ import annotations

import argparse

from ._types import UsageError


def validate_command(args: argparse.Namespace) -> int:
    """Run ``neuralpde validate``; returns the exit status (1: the tolerance is not met)."""
    from ..io import FormatError

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
        from ..report import check_directory

        try:
            check_directory(args.report)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--report: {exc}") from None
    from ..validate import validate

    try:
        result = validate(args.solution, reference=args.reference, exact=args.exact, tol=tol)
    except ValueError as exc:
        if isinstance(exc, FormatError):
            raise
        raise UsageError(str(exc)) from None
    print(result.summary())
    if args.report is not None:
        from ..report import write_report

        print(f"wrote {write_report(result, args.report)}")
    return 1 if result.passed is False else 0
