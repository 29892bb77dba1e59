"""``neuralpde export``: a solution file's field at the nodes of a mesh, on a uniform grid or at
listed points, written for other programs (:mod:`neuralpde.export`)."""

from __future__ import annotations

import argparse
import math
import sys

from ._types import UsageError, path_argument

#: The command line's name of each option :class:`neuralpde.export.ExportError` names.
_OPTIONS = {
    "mesh": "--mesh",
    "grid": "--grid",
    "points": "--points",
    "time": "--time",
    "times": "--times",
    "output": "-o/--output",
    "gradient": "--gradient",
}


def grid_spec(text: str) -> tuple[int, ...]:
    """An argparse type: ``NXxNY[xNT]``, point counts per axis
    (:func:`neuralpde.export.parse_grid`)."""
    from ..export import parse_grid

    try:
        return parse_grid(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _time(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text[:60]!r}")
    return v


def _times(text: str) -> list[float]:
    from ..export import parse_times

    try:
        return parse_times(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_export_parser(sub) -> None:
    """The ``export`` subcommand's parser."""
    e = sub.add_parser(
        "export",
        help="write a solution file's field on a mesh, a uniform grid or at points",
        description="Evaluate a solution file's field (NaN outside its domain) at the nodes of a "
        "mesh (values u and gradients grad_u, in any format meshio writes), on a uniform grid "
        "over its bounding box (a solution file .h5, netCDF-4 .nc, VTK .vtk/.vti/.vtr), or at "
        "the points of a CSV file (CSV out). An evolution problem's field needs --time on a mesh "
        "(or --times: an XDMF time series).",
    )
    e.add_argument(
        "file",
        metavar="FILE.h5",
        type=path_argument("a file path"),
        help="solution file (neuralpde solve, fit)",
    )
    where = e.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--mesh",
        metavar="MESH",
        type=path_argument("a file path"),
        help="a mesh file meshio reads (.msh, .vtu, .xdmf, ...): u and grad_u at its nodes",
    )
    where.add_argument(
        "--grid",
        metavar="NXxNY[xNT]",
        type=grid_spec,
        help="a uniform grid of this many points per coordinate (space, then time samples) over "
        "the bounding box and time span; with --time, space counts only (a snapshot)",
    )
    where.add_argument(
        "--points",
        metavar="PTS.csv",
        type=path_argument("a file path"),
        help="a CSV file of points: a header naming the coordinates, or columns in the field's "
        "coordinate order",
    )
    e.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        type=path_argument("a file path"),
        help="file to write, its format from its suffix (a mesh: any meshio writes; a grid: "
        ".h5, .nc, .vtk, .vti, .vtr; points: .csv; default for --points: standard output)",
    )
    when = e.add_mutually_exclusive_group()
    when.add_argument(
        "--time",
        metavar="T",
        type=_time,
        help="an evolution problem's field at this time (in its time span)",
    )
    when.add_argument(
        "--times",
        metavar="T1,T2,...",
        type=_times,
        help="--mesh: several times, written as an XDMF time series (-o OUT.xdmf)",
    )
    e.add_argument(
        "--gradient",
        action="store_true",
        help="--points: add the gradient du_d<coordinate> (a mesh export always has grad_u)",
    )
    e.add_argument(
        "-q", "--quiet", action="store_true", help="print only the written path, no log lines"
    )


def export_command(args: argparse.Namespace) -> int:
    """Run ``neuralpde export``; returns the exit status."""
    _check_arguments(args)
    from ..export import ExportError, to_grid, to_mesh, to_points
    from ..io import FormatError, file_kind
    from ..solution import load

    try:
        kind = file_kind(args.file)
    except FormatError as exc:
        raise UsageError(f"FILE.h5: {exc}") from None
    if kind != "solution":
        raise UsageError(
            f"FILE.h5: {args.file!r} is a {kind} file; export takes a solution file "
            "(neuralpde solve, fit)"
        )
    field = load(args.file)
    try:
        if args.mesh:
            done = to_mesh(field, args.mesh, args.output, time=args.time, times=args.times)
        elif args.grid:
            done = to_grid(field, args.grid, args.output, time=args.time)
        else:
            out = args.output if args.output is not None else sys.stdout
            done = to_points(field, args.points, out, time=args.time, gradient=args.gradient)
    except ExportError as exc:
        raise UsageError(f"{_OPTIONS.get(exc.option, exc.option)}: {exc.reason}") from None
    if done.path is not None:
        print(done.path)
    return 0


def _check_arguments(args: argparse.Namespace) -> None:
    """What argparse cannot say: which options go with which."""
    if args.output is None and not args.points:
        which = "--mesh" if args.mesh else "--grid"
        raise UsageError(f"-o/--output: required with {which}")
    if args.times is not None and not args.mesh:
        raise UsageError("--times: only with --mesh (an XDMF time series); use --time")
    if args.gradient and not args.points:
        raise UsageError(
            "--gradient: only with --points (a mesh export always has grad_u; a grid holds u)"
        )
