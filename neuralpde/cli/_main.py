"""The command line's entry point: parse, run the chosen command, and turn its errors into a
message and an exit status."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import Any

from ._export import export_command
from ._fit import fit_command
from ._info import info_command
from ._parser import build_parser
from ._plot import plot_command
from ._reference import reference_command
from ._solve import solve_command
from ._types import UsageError
from ._validate import validate_command


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
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


def _run(args: argparse.Namespace) -> int:
    """Run the chosen command, turning its errors into a message and an exit status."""
    from ..io import FormatError
    from ..training.checkpoint import CheckpointError

    try:
        commands = {
            "solve": solve_command,
            "reference": reference_command,
            "validate": validate_command,
            "info": info_command,
            "fit": fit_command,
            "plot": plot_command,
            "export": export_command,
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
