"""Problem files: Python files that define a problem, run as the command line runs them.

A problem file assigns a :class:`~neuralpde.Problem` to ``problem`` and may set ``field``,
``sampler``, ``trainer``, ``dtype`` and ``reference`` (finite-difference settings). Running one
runs its code: it is Python the user chose to run, unlike a solution or reference file.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any

from ._arguments import check_dtype
from .fields import MLP, Siren
from .problem import Problem
from .reference.settings import check_settings
from .sampling import Sampler
from .training import Trainer

__all__ = ["ProblemFileError", "load_problem_file"]


class ProblemFileError(ValueError):
    """A problem file that is missing, fails to run, defines no problem or wrong settings."""


def _forget_modules_of(folder: str, names: set[str]) -> None:
    """Drop from ``sys.modules`` those of ``names`` that were imported from ``folder`` (a
    problem file's sibling modules and packages), so that another problem file, in another
    folder, imports its own module of the same name; what the problem holds keeps working."""
    drop = []
    for name in names:
        top = name.partition(".")[0]
        where = getattr(sys.modules.get(top), "__file__", None)
        if (
            top != "neuralpde"
            and where is not None
            and Path(where).resolve().is_relative_to(folder)
        ):
            drop.append(name)
    for name in drop:
        sys.modules.pop(name, None)


def load_problem_file(path: str) -> dict[str, Any]:
    """Run a problem file and return its ``problem`` and optional settings.

    Raises :class:`ProblemFileError` with a one-line message for a missing file, a file that
    fails to run, one that defines no problem, or settings of the wrong kind (including a
    ``reference`` dict with unknown keys or bad values).
    """
    p = Path(path)
    if p.is_dir():
        raise ProblemFileError(f"problem file {path!r} is a directory; give a Python file")
    if not p.is_file():
        raise ProblemFileError(f"problem file {path!r} does not exist")
    # as `python file.py` does, the file's directory comes first on the import path, so that a
    # problem file can import the modules beside it
    folder = str(p.resolve().parent)
    sys.path.insert(0, folder)
    loaded = set(sys.modules)
    try:
        ns = runpy.run_path(str(p), run_name="__neuralpde_problem__")
    except Exception as exc:  # the user's code: report it in one line
        raise ProblemFileError(
            f"problem file {path!r} failed to run: {type(exc).__name__}: {exc}"
        ) from exc
    except SystemExit as exc:
        raise ProblemFileError(f"problem file {path!r} called sys.exit({exc.code!r})") from None
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
        _forget_modules_of(folder, set(sys.modules) - loaded)
    problem = ns.get("problem")
    if problem is not None and not isinstance(problem, Problem):
        raise ProblemFileError(
            f"problem file {path!r}: 'problem' must be a neuralpde.Problem, got "
            f"{type(problem).__name__}"
        )
    if problem is None:
        found = {k: v for k, v in ns.items() if isinstance(v, Problem)}
        if len(found) > 1:
            raise ProblemFileError(
                f"problem file {path!r} defines {len(found)} problems ({', '.join(found)}) and "
                "none named 'problem': assign the one to solve to a variable named 'problem'"
            )
        problem = next(iter(found.values()), None)
    if problem is None:
        raise ProblemFileError(
            f"problem file {path!r} defines no problem: assign a neuralpde.Problem to a variable "
            "named 'problem'"
        )
    out: dict[str, Any] = {"problem": problem}
    for name, kind in (("field", (Siren, MLP)), ("sampler", Sampler), ("trainer", Trainer)):
        value = ns.get(name)
        if value is not None and not isinstance(value, kind):
            raise ProblemFileError(
                f"problem file {path!r}: {name!r} must be a "
                f"{getattr(kind, '__name__', 'Siren or MLP')}"
                f", got {type(value).__name__}"
            )
        out[name] = value
    dtype = ns.get("dtype")
    if dtype is not None:
        try:
            check_dtype(dtype, "dtype")
        except ValueError as exc:
            raise ProblemFileError(f"problem file {path!r}: {exc}") from None
    out["dtype"] = dtype
    out["reference"] = _reference_options(ns.get("reference"), path, problem)
    return out


_REFERENCE_KEYS = ("n", "levels", "order", "dt", "time_samples", "extrapolate")


def _reference_options(value: Any, path: str, problem: Problem) -> dict[str, Any] | None:
    """Check a problem file's optional ``reference`` dict of finite-difference settings, each
    key as :func:`~neuralpde.reference.settings.check_settings` checks it (one by one: whether
    ``n`` has one count per space axis of the problem is checked where a reference is
    computed, so that a file only solved is not refused for it)."""
    if value is None:
        return None
    where = f"problem file {path!r}: reference"
    if not isinstance(value, dict):
        raise ProblemFileError(
            f"{where} must be a dict of finite-difference settings (keys "
            f"{', '.join(_REFERENCE_KEYS)}), got {type(value).__name__}"
        )
    unknown = sorted(str(k) for k in value if k not in _REFERENCE_KEYS)
    if unknown:
        raise ProblemFileError(
            f"{where} has unknown key(s) {unknown}; expected some of {', '.join(_REFERENCE_KEYS)}"
        )
    space_dims = problem.domain.dim - (problem.time_index is not None)
    for key, v in value.items():
        if key == "n":  # the counts, as many as given (an empty list: as the problem needs)
            dims = len(v) if isinstance(v, (list, tuple)) and v else space_dims
            settings = {"dim": dims, "n": v}
        else:
            settings = {"dim": space_dims, "n": 2, key: v}
        try:
            check_settings(**settings)
        except ValueError as exc:  # "n must ...": said of the file's variable instead
            text = str(exc)
            said = text[len(key) :] if text.startswith(f"{key} ") else f": {text}"
            raise ProblemFileError(f"{where}[{key!r}]{said}") from None
    return dict(value)
