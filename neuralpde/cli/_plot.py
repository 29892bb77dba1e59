"""``neuralpde plot``: the figure of a solution or reference file, with or without the error
against the exact solution or a reference."""

from __future__ import annotations

import argparse

from ._types import UsageError, int_at_least, path_argument

#: The command line's name of each argument of :func:`neuralpde.plots.plot_file`.
_OPTIONS = {
    "exact": "--exact",
    "reference": "--reference",
    "slices": "--slice",
    "times": "--times",
    "output": "-o/--output",
    "dpi": "--dpi",
    "source": "FILE.h5",
}


def add_plot_parser(sub) -> None:
    """The ``plot`` subcommand's parser."""
    p = sub.add_parser(
        "plot",
        help="draw a solution or reference file as a PNG figure, optionally with its error",
        description="Draw a solution or reference file: a curve (1-D), an x-t map (1-D + time), "
        "a colour map (2-D), snapshots (2-D + time) or slices (3-D and up); blank outside the "
        "domain. With --exact or --reference, the pointwise error |u - u_ref| on a log scale "
        "beside the field.",
    )
    p.add_argument(
        "file",
        metavar="FILE.h5",
        type=path_argument("a file path"),
        help="solution file (neuralpde solve, fit) or reference file (neuralpde reference)",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FIG.png",
        type=path_argument("a file path"),
        help="figure to write (default: FILE with .png for its suffix, beside it)",
    )
    against = p.add_mutually_exclusive_group()
    against.add_argument(
        "--exact",
        action="store_true",
        help="draw the error against the exact solution stored in the solution file",
    )
    against.add_argument(
        "--reference",
        metavar="REF.h5",
        type=path_argument("a file path"),
        help="draw the error against this reference file, on its grid",
    )
    p.add_argument(
        "--slice",
        action="append",
        metavar="AXIS=VALUE",
        type=_slice,
        help="three or more space dimensions: a slice to draw, one panel each; repeat for more "
        "(default: through the middle of each axis)",
    )
    p.add_argument(
        "--times",
        metavar="T1,T2,...",
        type=_times,
        help="two or more space dimensions and time: the times of the snapshots (default: four, "
        "evenly spaced from the first to the last)",
    )
    p.add_argument(
        "--dpi",
        type=int_at_least(10, at_most=600),
        default=100,
        metavar="N",
        help="resolution of the PNG file in dots per inch (default 100)",
    )
    p.add_argument(
        "-q", "--quiet", action="store_true", help="print only the written path, no log lines"
    )


def _slice(text: str) -> tuple[str, float]:
    from ..plots import parse_slice

    try:
        return parse_slice(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _times(text: str) -> list[float]:
    from ..plots import parse_times

    try:
        return parse_times(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def plot_command(args: argparse.Namespace) -> int:
    """Run ``neuralpde plot``; returns the exit status."""
    from ..io import FormatError, file_kind
    from ..plots import PlotArgumentError, plot_file

    try:
        file_kind(args.file)
    except FormatError as exc:
        raise UsageError(
            f"FILE.h5: {exc}; plot takes a solution file (neuralpde solve, fit) or a reference "
            "file (neuralpde reference)"
        ) from None
    try:
        path = plot_file(
            args.file,
            args.output,
            exact=args.exact,
            reference=args.reference,
            slices=args.slice,
            times=args.times,
            dpi=args.dpi,
        )
    except PlotArgumentError as exc:
        raise UsageError(f"{_OPTIONS.get(exc.option, exc.option)}: {exc.reason}") from None
    print(path)
    return 0
