"""The command line's argument parser: one function for each subcommand."""

from __future__ import annotations

import argparse
import functools

from ._export import add_export_parser, grid_spec
from ._plot import add_plot_parser
from ._types import int_at_least, non_negative_number, path_argument, positive_number


def build_parser() -> argparse.ArgumentParser:
    """The ``neuralpde`` parser with its subcommands ``solve``, ``reference``, ``validate``,
    ``info``, ``fit``, ``plot`` and ``export``."""
    from .. import __version__

    ap = argparse.ArgumentParser(
        prog="neuralpde", description="Solve PDEs with neural fields; results in HDF5."
    )
    ap.add_argument("--version", action="version", version=f"neuralpde {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_solve(sub)
    _add_reference(sub)
    _add_validate(sub)
    _add_info(sub)
    _add_fit(sub)
    add_plot_parser(sub)
    add_export_parser(sub)
    return ap


def _add_problem_file(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "problem_file",
        metavar="PROBLEM_FILE",
        type=path_argument("a file path"),
        help="Python file defining `problem`",
    )


def _add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="print only the result")


def _add_solve(sub) -> None:
    from .. import limits

    s = sub.add_parser("solve", help="train a field for a problem file and write it to HDF5")
    _add_problem_file(s)
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
    s.add_argument(
        "--grid",
        metavar="NXxNY[xNT]",
        type=grid_spec,
        help="the grid stored in OUT.h5: points per coordinate, space then time (default: 200 "
        "per axis in 1-D and 2-D, 64 in 3-D, 16 above)",
    )
    s.add_argument(
        "--no-estimate",
        action="store_true",
        help="skip the error estimate after training (a small finite-difference study compared "
        "with the field, or a residual indicator where the referee does not apply)",
    )
    _add_budget(s)
    _add_precision(s)
    _add_training_options(s)
    _add_quiet(s)


def _add_budget(s: argparse.ArgumentParser) -> None:
    """``solve``'s ``--steps`` or ``--seconds``."""
    from .. import limits

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


def _add_precision(s: argparse.ArgumentParser) -> None:
    """``solve``'s ``--dtype`` or ``--float32``."""
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


def _add_training_options(s: argparse.ArgumentParser) -> None:
    """``solve``'s ``--derivatives``, ``--soft``, ``--device`` and ``--threads``."""
    from .. import limits
    from .._names import ENGINES

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


def _add_reference(sub) -> None:
    from .. import limits

    r = sub.add_parser(
        "reference",
        help="compute a finite-difference reference with its error estimate and write it to HDF5",
    )
    _add_problem_file(r)
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
        help="intervals per space axis on the coarsest grid (default: the n of the problem "
        "file's reference, else 32)",
    )
    r.add_argument(
        "--levels",
        type=int_at_least(3, at_most=limits.MAX_REFERENCE_LEVELS),
        help="number of grids, each refined by 2, at most 25 and so that the finest has at most "
        "2**26 nodes (default: the problem file's reference's, else 3)",
    )
    r.add_argument(
        "--order",
        type=int,
        choices=(2, 4),
        help="formal order: 4 (steady, Dirichlet-only problems) or 2 (default: the problem "
        "file's reference's; without one, 4 where available and 2 otherwise)",
    )
    r.add_argument(
        "--time-samples",
        type=int_at_least(2, at_most=limits.MAX_TIME_STEPS),
        help="store this many evenly spaced time levels (evolution problems; the coarsest grid's "
        "step count is rounded up to a multiple of N-1; default: the problem file's "
        "reference's, else every time level of the coarsest grid, where the error is measured)",
    )
    r.add_argument(
        "--extrapolate",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="store the Richardson extrapolation of the two finest grids (needs 4 levels; "
        "default: the problem file's reference's, else off)",
    )
    r.add_argument(
        "--fem",
        action="store_true",
        help="a P2 finite-element reference on the problem's own mesh instead (a MeshDomain; "
        "Poisson or Helmholtz with Dirichlet, Neumann or Robin parts; needs scikit-fem: pip "
        "install 'neuralpde[fem]'): the mesh and --refinements uniform refinements of it, the "
        "finest sampled on a grid of --n intervals per axis over the mesh's bounding box",
    )
    r.add_argument(
        "--refinements",
        type=int_at_least(2, at_most=10),
        help="with --fem: uniform refinements of the mesh, each halving h (default 2: three "
        "meshes, two differences, an observed order)",
    )
    _add_quiet(r)


def _add_validate(sub) -> None:
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
    _add_quiet(v)


def _add_info(sub) -> None:
    i = sub.add_parser("info", help="describe a solution or reference file")
    i.add_argument("file", metavar="FILE.h5", type=path_argument("a file path"))
    i.add_argument("--json", action="store_true", help="print the record as JSON")


def _add_fit(sub) -> None:
    from .. import limits
    from ._fit import parse_bounds

    f = sub.add_parser(
        "fit", help="fit a neural field to gridded or point data and write it as a solution file"
    )
    f.add_argument(
        "data",
        metavar="DATA",
        type=path_argument("a file path"),
        help="a .npy array (with --axes), an HDF5/netCDF-4 file (its dataset --dataset, default "
        "u, with coordinates on its dimensions: solution and reference files too) or a mesh "
        "file meshio reads (its point data --dataset)",
    )
    f.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT.h5",
        type=path_argument("a file path"),
        help="solution file to write",
    )
    f.add_argument("--dataset", metavar="NAME", help="the dataset or point data to fit")
    f.add_argument(
        "--axes",
        nargs="+",
        type=parse_bounds,
        metavar="LO:HI",
        help="the bounds of each axis of a .npy array (evenly spaced coordinates); quote a "
        "negative LO with a leading space: ' -1:1'",
    )
    f.add_argument("--names", nargs="+", metavar="NAME", help="the coordinates' names")
    size = f.add_mutually_exclusive_group()
    size.add_argument(
        "--target",
        type=functools.partial(positive_number, at_most=1.0),
        metavar="X",
        help="relative L2 error on held-out points to reach, growing the width (default 1e-4)",
    )
    size.add_argument(
        "--width",
        type=int_at_least(1, at_most=limits.MAX_WIDTH),
        metavar="W",
        help="a fixed width, trained for the whole budget",
    )
    f.add_argument(
        "--depth",
        type=int_at_least(1, at_most=limits.MAX_DEPTH),
        metavar="D",
        help="sine layers (default 2)",
    )
    f.add_argument(
        "--seconds",
        type=functools.partial(positive_number, at_most=limits.MAX_SECONDS),
        default=60.0,
        help="wall-time budget in seconds (default 60)",
    )
    f.add_argument("--seed", type=int_at_least(0, 2**63), default=0, help="random seed (default 0)")
    f.add_argument(
        "--holdout",
        type=functools.partial(non_negative_number, at_most=0.9),
        default=0.1,
        metavar="F",
        help="fraction of the points held out to measure the error (default 0.1)",
    )
    f.add_argument(
        "--supervise",
        choices=("gradient",),
        help="also fit the finite-difference gradient of gridded data",
    )
    _add_quiet(f)
