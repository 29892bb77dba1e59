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

The command lives in private submodules: ``_types`` (its usage error, the problem-file loader
and the argparse types), ``_parser`` (one function for each subcommand), ``_solve``,
``_reference``, ``_validate`` and ``_info`` (the commands) and ``_main`` (the entry point, which
turns errors into messages and exit statuses).
"""

from __future__ import annotations

from ._main import main
from ._types import UsageError as UsageError
from ._types import int_at_least as int_at_least
from ._types import load_problem_file
from ._types import non_negative_number as non_negative_number
from ._types import path_argument as path_argument
from ._types import positive_number as positive_number

__all__ = ["main", "load_problem_file"]
