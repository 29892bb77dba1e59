"""Problem files: Python files that define a problem, run as the command line runs them.

A problem file assigns a :class:`~neuralpde.Problem` to ``problem`` and may set ``field``,
``sampler``, ``trainer``, ``dtype`` and ``reference`` (finite-difference settings: a
:class:`~neuralpde.reference.Study`, or a dict of its settings). Running one runs its code: it
is Python the user chose to run, unlike a solution or reference file.
"""

from __future__ import annotations

import runpy
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from ._arguments import check_dtype
from .fields import MLP, Siren
from .problem import Problem
from .reference import Study
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
    ``reference`` dict with unknown keys or bad values). ``reference`` is returned as a
    :class:`~neuralpde.reference.Study` (or ``None``).
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
    out["reference"] = _reference_study(ns.get("reference"), path)
    return out


def _reference_study(value: Any, path: str) -> Study | None:
    """A problem file's optional ``reference``: a :class:`~neuralpde.reference.Study` (checked
    when the file made it), or a dict of its settings made into one, each message naming the
    file's ``reference['key']``. Whether ``n`` has one count per space axis of the problem is
    checked where a reference is computed, so that a file only solved is not refused for it."""
    if value is None or isinstance(value, Study):
        return value
    where = f"problem file {path!r}: reference"
    if not isinstance(value, dict):
        raise ProblemFileError(
            f"{where} must be a neuralpde.reference.Study or a dict of its settings (keys "
            f"{', '.join(f.name for f in fields(Study))}), got {type(value).__name__}"
        )
    try:
        return Study.from_dict(value, name="reference")
    except ValueError as exc:  # "n must ...": said of the file's variable instead
        text = str(exc)
        key = text.partition(" ")[0]
        if text.startswith("reference "):
            said = text[len("reference") :]
        elif key in value:
            said = f"[{key!r}]{text[len(key) :]}"
        else:
            said = f": {text}"
        raise ProblemFileError(f"{where}{said}") from None
