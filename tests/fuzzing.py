"""Property-based fuzzing shared by ``tests/repository/test_fuzz.py`` (a bounded, fixed-seed run
in CI) and ``benchmarks/robustness.py`` (a long campaign).

Three kinds of input, each a family of hypothesis strategies:

* bad arguments to the API (constructors, ``Problem``, ``Trainer``, ``solve``, the readers and
  writers, a loaded field), which must succeed or raise a documented ``ValueError`` or
  ``TypeError`` (an ``OSError`` for a path that cannot be read or written);
* command lines through :func:`neuralpde.cli.main`, which must end with exit status 0, 1 or 2 and,
  on an error, one line ``neuralpde: error: ...`` (argparse's usage lines above it for a bad
  option) and never a traceback;
* damaged and crafted files (:func:`mutations`), which every reader must refuse with a
  ``FormatError`` or read, without hanging, without opening any other file, and, for a solution
  file that loads, with the network of the original file: a wrong network never loads silently.

Run as a module, it runs the file campaign in this process and prints its tally as JSON (the
tests start it in a subprocess, whose memory they measure)::

    python -m tests.fuzzing files --examples 500 --folder /tmp/fuzz
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import faulthandler
import hashlib
import io
import json
import logging
import math
import os
import re
import resource
import shutil
import signal
import struct
import sys
import threading
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

import neuralpde as npde
from neuralpde.cli import main
from neuralpde.io import (
    FormatError,
    file_kind,
    read_grid,
    read_reference,
    read_solution,
    write_reference,
    write_solution,
)
from neuralpde.io._reading import content_digest
from neuralpde.reference import convergence_study, load_reference, save_reference
from neuralpde.validate import validate

#: Seconds one call may take before it counts as a hang.
CALL_SECONDS = 60.0
#: The documented errors of the API for bad arguments.
ARGUMENT_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError)
#: ... and of calls that take a path (a missing file, a folder that cannot be written).
PATH_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, OSError)

NAN, INF = float("nan"), float("inf")
ERROR_LINE = re.compile(r"^neuralpde: error: \S")
ARGPARSE_LINE = re.compile(r"^neuralpde(?: [\w-]+)?: error: \S")


# -- outcomes ------------------------------------------------------------------------------------


class FindingError(AssertionError):
    """An outcome the library promises never to have: a traceback, a hang, a message that is not
    one line, a file outside the given one opened, a wrong network loaded as the right one."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class HangError(BaseException):
    """Raised in the main thread when a call runs past its time limit (a ``BaseException``, so
    that no ``except Exception`` of the library swallows it)."""


@dataclasses.dataclass
class Tally:
    """Outcomes by family: ``counts[family][outcome]``, and the findings' descriptions."""

    counts: dict[str, Counter] = dataclasses.field(default_factory=dict)
    findings: list[str] = dataclasses.field(default_factory=list)

    def add(self, family: str, outcome: str, n: int = 1) -> None:
        self.counts.setdefault(family, Counter())[outcome] += n

    def total(self, *outcomes: str) -> int:
        """Inputs of every family (with one of ``outcomes``, if given)."""
        return sum(
            n for c in self.counts.values() for k, n in c.items() if not outcomes or k in outcomes
        )

    def update(self, other: Tally) -> None:
        for family, counts in other.counts.items():
            for outcome, n in counts.items():
                self.add(family, outcome, n)
        self.findings.extend(other.findings)

    def as_json(self) -> dict[str, Any]:
        return {"counts": {k: dict(v) for k, v in self.counts.items()}, "findings": self.findings}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tally:
        return cls({k: Counter(v) for k, v in data["counts"].items()}, list(data["findings"]))


#: Outcomes that are findings (never allowed).
FINDINGS = ("traceback", "hang", "bad exit", "bad message", "silent wrong network", "foreign open")


def write_record(path: Path, rec: dict, **changes: Any) -> Path:
    """A solution file of ``rec`` (a record as :func:`~neuralpde.io.read_solution` gives it) with
    ``changes`` to its entries, written (and digested) by neuralpde."""
    rec = {**rec, **changes}
    return write_solution(
        path,
        coords=rec["coords"],
        values=rec["u"],
        exact=rec["exact"],
        architecture=rec["architecture"],
        parameters=rec["parameters"],
        dtype=rec["dtype"],
        problem=rec["problem"],
        training=rec["training"],
        metrics=rec["metrics"],
        provenance={"versions": rec["versions"], "platform": rec["platform"]},
    )


def write_version_1(path: Path) -> Path:
    """Rewrite the solution or reference file ``path`` (of format version 2) in place as format
    version 1 laid it out, for tests of reading old files: ``/u`` and ``/exact`` in the
    coordinates' order with labelled dimensions, the root attribute ``coordinates``, no CF
    attributes, ``/training/step`` in float64, and the content digest that version computed."""
    with h5py.File(path, "r+") as f:
        assert int(f.attrs["format_version"]) == 2, "a file of format version 2 is rewritten"
        names = json.loads(f.attrs["neuralpde_coordinates"])
        for key in ("neuralpde_coordinates", "Conventions"):
            del f.attrs[key]
        f.attrs["coordinates"] = json.dumps(names)
        f.attrs["format_version"] = 1
        for name in names:
            for key in ("long_name", "units", "axis"):
                if key in f[name].attrs:
                    del f[name].attrs[key]
        for key in ("u", "exact"):
            if key not in f:
                continue
            old = f[key]
            values, long_name = old[()].T, old.attrs["long_name"].decode()
            for i, name in enumerate(reversed(names)):
                old.dims[i].detach_scale(f[name])
            del f[key]
            ds = f.create_dataset(key, data=values, compression="gzip")
            ds.attrs["long_name"] = long_name
            for i, name in enumerate(names):
                ds.dims[i].attach_scale(f[name])
                ds.dims[i].label = name
        arrays = {f"/{n}": f[n][()] for n in names}
        arrays.update({f"/{k}": f[k][()] for k in ("u", "exact") if k in f})
        metadata: dict[str, Any] = {"/@coordinates": names}
        if "training" in f:
            step = f["training/step"][()].astype(np.float64)
            del f["training/step"]
            f["training"].create_dataset("step", data=step)
            params = f["model/parameters"]
            arrays.update({f"/model/parameters/{k}": v[()] for k, v in params.items()})
            metadata.update(
                {
                    "/model@architecture": json.loads(f["model"].attrs["architecture"]),
                    "/model@dtype": f["model"].attrs["dtype"],
                    "/problem@description": json.loads(f["problem"].attrs["description"]),
                }
            )
        else:
            for group in ("convergence", "convergence/extrapolated"):
                if group in f:
                    arrays.update(
                        {
                            f"/{group}/{k}": v[()]
                            for k, v in f[group].items()
                            if isinstance(v, h5py.Dataset)
                        }
                    )
        f.attrs["content_sha256"] = content_digest(arrays, metadata)
    return path


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`HangError` in the block after ``seconds`` (main thread, POSIX; else no
    limit)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def expired(signum: int, frame: object) -> None:
        raise HangError(f"no answer within {seconds:g} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def call_api(
    label: str,
    call: Callable[[], object],
    allowed: tuple[type[BaseException], ...] = ARGUMENT_ERRORS,
    seconds: float = CALL_SECONDS,
) -> str:
    """Run ``call``; ``"success"`` or ``"clean error"`` (one of ``allowed``, with a message), or
    a :class:`FindingError`. Warnings are recorded, not raised (pytest turns them into errors)."""
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            with time_limit(seconds):
                call()
        except HangError as exc:
            raise FindingError("hang", f"{label}: {exc}") from None
        except allowed as exc:
            if not str(exc).strip():
                raise FindingError(
                    "bad message", f"{label}: {type(exc).__name__} without a message"
                ) from None
            return "clean error"
        except Exception as exc:  # any other exception is the finding
            where = "".join(traceback.format_exception(exc)[-6:])
            raise FindingError(
                "traceback", f"{label}: {type(exc).__name__}: {_one_line(str(exc))}\n{where}"
            ) from None
    return "success"


# -- the command line ----------------------------------------------------------------------------


class _CurrentStderr(logging.StreamHandler):
    """Log records to whatever ``sys.stderr`` is when they are emitted (the CLI's messages are
    captured by swapping it)."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201 - the stream of the moment
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:  # the one given at set-up is not kept
        pass


def route_logging_to_stderr() -> None:
    """Give the root logger a handler that follows ``sys.stderr`` (so that ``main``'s
    ``basicConfig`` keeps it, and captured output holds the log lines)."""
    root = logging.getLogger()
    if not any(isinstance(h, _CurrentStderr) for h in root.handlers):
        root.addHandler(_CurrentStderr())


def run_cli(argv: Sequence[str], seconds: float = CALL_SECONDS) -> tuple[int, bool, str, str]:
    """``main(argv)`` with its output captured: ``(status, from argparse, stdout, stderr)``; a
    :class:`FindingError` for an exception that escapes it or a hang. Torch's thread count (which
    ``--threads`` sets) is restored."""
    out, err = io.StringIO(), io.StringIO()
    threads = torch.get_num_threads()
    parsed = False
    try:
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            warnings.catch_warnings(),
            time_limit(seconds),
        ):
            try:
                status = main(list(argv))
            except SystemExit as exc:
                parsed = True
                status = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except HangError as exc:
        raise FindingError("hang", f"neuralpde {argv!r}: {exc}") from None
    except Exception as exc:  # escaped main: the finding
        where = "".join(traceback.format_exception(exc)[-6:])
        raise FindingError(
            "traceback", f"neuralpde {argv!r}: {type(exc).__name__}: {exc}\n{where}"
        ) from None
    finally:
        torch.set_num_threads(threads)
    return status, parsed, out.getvalue(), err.getvalue()


def check_cli(argv: Sequence[str], seconds: float = CALL_SECONDS) -> str:
    """Run a command line and judge it: ``"success"``, ``"clean error"`` (exit status 1 or 2,
    one error line last; argparse's usage lines above it for a bad option) or ``"fail
    verdict"`` (``validate``'s exit status 1 for a tolerance not met); a :class:`FindingError`
    otherwise."""
    status, parsed, out, err = run_cli(argv, seconds)
    shown = f"neuralpde {list(argv)!r} (exit {status})"
    if "Traceback (most recent call last)" in out + err:
        raise FindingError("traceback", f"{shown} printed a traceback:\n{err[-2000:]}")
    lines = [line for line in err.splitlines() if line.strip()]
    if status == 0:
        return "success"
    if parsed:  # argparse: usage lines, then "neuralpde CMD: error: ..."
        if status != 2:
            raise FindingError("bad exit", f"{shown}: argparse exited with {status}: {err[-500:]}")
        if not lines or not ARGPARSE_LINE.match(lines[-1]) or not lines[0].startswith("usage:"):
            raise FindingError("bad message", f"{shown}: argparse's message is {err[-800:]!r}")
        return "clean error"
    if status not in (1, 2):
        raise FindingError("bad exit", f"{shown}: stdout {out[-300:]!r}, stderr {err[-500:]!r}")
    errors = [line for line in lines if line.startswith("neuralpde: error:")]
    if not errors:
        verdicts = ("FAIL: relative L2", "not written: training diverged")
        if status == 1 and any(v in out for v in verdicts):
            return "fail verdict"
        raise FindingError("bad message", f"{shown} without an error line: {err[-500:]!r}")
    if len(errors) != 1 or lines[-1] != errors[0] or not ERROR_LINE.match(errors[0]):
        raise FindingError("bad message", f"{shown}: the error is not one line: {err[-800:]!r}")
    return "clean error"


# -- values that are wrong -------------------------------------------------------------------


class _Opaque:
    """An object of no use to neuralpde."""

    def __repr__(self) -> str:
        return "<opaque>"


NOT_NUMBERS = st.sampled_from(
    [None, "1", b"1", "nan", [1.0], (1, 2), {}, {"a": 1}, _Opaque(), 1j, np.array([1.0, 2.0])]
    + [True, False, np.bool_(True), Ellipsis, str, torch.tensor([1.0, 2.0])]
)
BAD_REALS = st.sampled_from(
    [NAN, INF, -INF, 0.0, -0.0, -1.0, -1e308, 1e308, 5e-324, 1e300, -5]
    + [np.float32("nan"), np.float64(INF), np.float64(-2.5), np.int64(-7)]
)
BAD_INTS = st.one_of(
    st.integers(max_value=0),
    st.integers(min_value=2**24 + 1),
    st.sampled_from([2**63, 2**64, -(2**63) - 1, 1.5, np.float64(3.0), np.int64(-1)]),
    st.sampled_from([np.uint64(2**64 - 1), 10**30, 2.0]),
)
BAD_NAMES = st.sampled_from(
    ["", "u", "model", "exact", "convergence", "a/b", ".", "x" * 300, "x\0", "\n", 7, None]
    + [b"x", ("x",), "problem", "training"]
)
GOOD_NAMES = st.sampled_from(["x", "y", "z", "s", "r", "θ", "x1", "long_name", "a b"])
BAD_PATHS = st.sampled_from(
    [None, 3, b"bytes.h5", "", "a\0b.h5", "x" * 300 + ".h5", "d/" * 2100 + "x.h5"]
    + ["missing/folder/f.h5", "/proc/nope.h5", "/dev/null", "/", ".", "/etc/passwd/x.h5"]
    + [Path("missing") / "f.h5", 1.5, ["a.h5"], "/dev/zero"]
)  # none of them can be written: a writer given one writes nothing anywhere


def small_ints(lo: int, hi: int) -> st.SearchStrategy:
    return st.one_of(st.integers(lo, hi), st.sampled_from([np.int64(lo), np.int32(hi)]))


def finite(lo: float = -10.0, hi: float = 10.0) -> st.SearchStrategy:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def either(*strategies: st.SearchStrategy) -> st.SearchStrategy:
    """One of the strategies (a good value or one of the kinds of bad ones)."""
    return st.one_of(*strategies)


# coefficients and data that misbehave when called on the points (N, d)
def returns_str(x: torch.Tensor) -> object:
    return "one"


def returns_none(x: torch.Tensor) -> object:
    return None


def returns_object(x: torch.Tensor) -> object:
    return _Opaque()


def returns_dict(x: torch.Tensor) -> object:
    return {"a": 1.0}


def returns_mixed_list(x: torch.Tensor) -> object:
    return [1.0, "x"] * (len(x) // 2)


def returns_complex(x: torch.Tensor) -> object:
    return torch.zeros(len(x), dtype=torch.complex128)


def returns_one_too_many(x: torch.Tensor) -> object:
    return torch.zeros(len(x) + 1, dtype=x.dtype)


def returns_two_columns(x: torch.Tensor) -> object:
    return torch.zeros(len(x), 2, dtype=x.dtype)


def returns_empty(x: torch.Tensor) -> object:
    return torch.zeros(0, dtype=x.dtype)


def returns_nan(x: torch.Tensor) -> object:
    return torch.full((len(x),), NAN, dtype=x.dtype)


def returns_inf(x: torch.Tensor) -> object:
    return x[:, 0] * INF


def returns_strings(x: torch.Tensor) -> object:
    return np.array(["a"] * len(x))


def returns_objects(x: torch.Tensor) -> object:
    return np.array([None] * len(x), dtype=object)


def returns_masked(x: torch.Tensor) -> object:
    return np.ma.masked_all(len(x))


def returns_generator(x: torch.Tensor) -> object:
    return (float(v) for v in x[:, 0])


def returns_function(x: torch.Tensor) -> object:
    return returns_str


def returns_huge(x: torch.Tensor) -> object:
    return torch.full((len(x),), 1e308, dtype=x.dtype) * 10


def raises_value_error(x: torch.Tensor) -> object:
    raise ValueError("this coefficient refuses every point")


def takes_nothing() -> float:
    return 1.0


def returns_bools(x: torch.Tensor) -> object:
    return x[:, 0] > 0.5


def returns_ints(x: torch.Tensor) -> object:
    return torch.ones(len(x), dtype=torch.int64)


def returns_column(x: torch.Tensor) -> object:
    return torch.sin(x[:, :1])


def returns_numpy(x: torch.Tensor) -> object:
    return np.cos(x[:, 0].numpy())


BAD_CALLABLES = st.sampled_from(
    [returns_str, returns_none, returns_object, returns_dict, returns_mixed_list]
    + [returns_complex, returns_one_too_many, returns_two_columns, returns_empty, returns_nan]
    + [returns_inf, returns_strings, returns_objects, returns_masked, returns_generator]
    + [returns_function, returns_huge, raises_value_error, takes_nothing]
)
GOOD_CALLABLES = st.sampled_from([returns_bools, returns_ints, returns_column, returns_numpy])
COEFFICIENTS = either(finite(), GOOD_CALLABLES, BAD_CALLABLES, BAD_REALS, NOT_NUMBERS)


@dataclasses.dataclass(frozen=True)
class Case:
    """One API input: its family, a readable label and the call; ``allowed`` errors."""

    family: str
    label: str
    call: Callable[[], object]
    allowed: tuple[type[BaseException], ...] = ARGUMENT_ERRORS

    def __repr__(self) -> str:
        return f"Case({self.family}: {self.label})"

    def run(self) -> str:
        return call_api(f"{self.family}: {self.label}", self.call, self.allowed)


def _kwargs(draw: st.DrawFn, options: Mapping[str, st.SearchStrategy]) -> dict[str, Any]:
    return draw(st.fixed_dictionaries({}, optional=dict(options)))


def _call_text(name: str, args: Sequence[object] = (), kwargs: Mapping[str, object] = ()) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in dict(kwargs).items()]
    text = f"{name}({', '.join(parts)})"
    return text if len(text) <= 400 else text[:400] + "...)"


SQUARE = npde.Rectangle((0.0, 0.0), (1.0, 1.0))
MESHES: list[Any] = []
LINE = npde.Interval(0.0, 1.0)
SLAB = npde.SpaceTime(npde.Interval(0.0, 1.0), (0.0, 1.0))


def _problem_checks(problem: npde.Problem) -> None:
    """What ``solve`` runs on a problem before training: the checks, and its description."""
    from neuralpde.checks import check_problem

    check_problem(problem)
    json.dumps(problem.describe(), default=str)


# -- API families --------------------------------------------------------------------------------


@st.composite
def field_cases(draw: st.DrawFn) -> Case:
    """``Siren``/``MLP`` specifications, then built on a number of inputs."""
    kind = draw(st.sampled_from(["Siren", "MLP"]))
    options = {
        "width": either(small_ints(1, 12), BAD_INTS, NOT_NUMBERS, st.just(4097)),
        "depth": either(small_ints(1, 3), BAD_INTS, NOT_NUMBERS, st.just(65)),
    }
    if kind == "Siren":
        w0 = either(finite(0.1, 30), BAD_REALS, NOT_NUMBERS, st.just(2e6))
        options.update(
            w0=either(w0, st.lists(w0, max_size=4), st.just(np.array([1.0, 2.0]))),
            w0_hidden=either(st.none(), w0),
            w0_inputs=either(st.none(), st.lists(w0, max_size=3), NOT_NUMBERS),
        )
    kwargs = _kwargs(draw, options)
    inputs = draw(either(small_ints(1, 3), BAD_INTS, NOT_NUMBERS, st.just(33)))
    points = draw(st.integers(0, 5))

    def call() -> None:
        spec = getattr(npde, kind)(**kwargs)
        spec.describe()
        net = spec.build(inputs)
        net(torch.zeros(points, inputs))

    return Case("fields", _call_text(kind, (), kwargs) + f".build({inputs!r})", call)


@st.composite
def sampler_cases(draw: st.DrawFn) -> Case:
    """Samplers, then a draw of points of a small problem with a seed and a round."""
    kind = draw(st.sampled_from(["SobolSampler", "UniformSampler", "LatinHypercubeSampler"]))
    count = either(small_ints(1, 40), BAD_INTS, NOT_NUMBERS)
    kwargs = _kwargs(
        draw,
        {
            "n_interior": count,
            "n_boundary": count,
            "n_initial": count,
            "resample_every": either(small_ints(0, 5), BAD_INTS, NOT_NUMBERS),
        },
    )
    seed = draw(either(small_ints(0, 9), BAD_INTS, NOT_NUMBERS))
    round_ = draw(either(small_ints(0, 3), BAD_INTS, NOT_NUMBERS))
    problem = draw(st.sampled_from([TINY_PROBLEM, TINY_HEAT]))

    def call() -> None:
        sampler = getattr(npde, kind)(**kwargs)
        sampler.describe()
        sampler.draw(problem, seed, round_)

    return Case("samplers", _call_text(kind, (), kwargs) + f".draw({seed!r}, {round_!r})", call)


def corners(d: int) -> st.SearchStrategy:
    return st.lists(finite(), min_size=d, max_size=d)


BAD_CORNERS = either(
    NOT_NUMBERS,
    st.sampled_from(
        [[], [[0.0, 1.0]], [NAN, 0.0], [INF, 1.0], [True, False], ["0", "1"], [0.0] * 33]
        + [[1e308, -1e308], np.zeros((2, 2)), [1j, 0.0], [0.0, None]]
    ),
)
BAD_POLYGONS = st.sampled_from(
    [
        [(0, 0), (1, 1), (1, 0), (0, 1)],  # a bow tie
        [(0, 0), (1, 0), (2, 0)],  # collinear
        [(0, 0), (1, 0)],
        [(0, 0), (0, 0), (0, 0)],
        [(0, 0), (1, 0), (NAN, 1)],
        [(0, 0), (1, 0), (1, 1, 1)],
        [(0, 0), (1, 0), ("a", 1)],
        np.zeros((3000, 2)),
        [(0, 0), (1e308, 0), (0, 1e308)],
        [],
        [[(0, 0)]],
    ]
)
POLYGONS = st.sampled_from(
    [[(0, 0), (1, 0), (0, 1)], [(0, 0), (2, 0), (2, 1), (1, 2), (0, 1)], [(0, 0), (1, 0), (0, 1)]]
)
JUNK_POINTS = st.sampled_from(
    [
        [[0.5, 0.5]],
        [0.5, 0.5],
        [[NAN, 0.5]],
        [["a", 0.5]],
        [[0.5, 0.5, 0.5]],
        np.zeros((0, 2)),
        np.ma.masked_array([[0.5, 0.5]], mask=[[True, False]]),
        np.array([[1j, 0.5]]),
        [[True, False]],
        [[1e308, -1e308]],
        torch.tensor([[0.25, 0.75]]),
        [[0.5], [0.5, 0.5]],
        None,
        "points",
        np.zeros((2, 2, 2)),
        np.array([[0.5, 0.5]], dtype=np.float32),
    ]
)


def name_tuples(d: int) -> st.SearchStrategy:
    good = st.lists(GOOD_NAMES, min_size=d, max_size=d, unique=True).map(tuple)
    bad = either(
        st.lists(either(GOOD_NAMES, BAD_NAMES), min_size=0, max_size=d + 1).map(tuple),
        BAD_NAMES,
    )
    return either(good, bad)


@st.composite
def domain_cases(draw: st.DrawFn) -> Case:
    """Every kind of domain with good and bad corners, radii, vertices, names and spans; then
    ``contains`` of (possibly bad) points and ``describe``."""
    kind = draw(
        st.sampled_from(
            ["Rectangle", "Box", "Interval", "Ball", "Disk", "Polygon", "SpaceTime"]
            + ["Union", "Intersection", "Difference"]
        )
    )
    d = draw(st.integers(1, 3))
    args: tuple = ()
    kwargs: dict[str, Any] = {}
    if kind == "Rectangle":
        args = (draw(either(corners(2), BAD_CORNERS)), draw(either(corners(2), BAD_CORNERS)))
        kwargs = _kwargs(draw, {"names": name_tuples(2)})
    elif kind == "Box":
        args = (draw(either(corners(d), BAD_CORNERS)), draw(either(corners(d), BAD_CORNERS)))
        kwargs = _kwargs(draw, {"names": name_tuples(d)})
    elif kind == "Interval":
        bound = either(finite(), BAD_REALS, NOT_NUMBERS)
        args = (draw(bound), draw(bound))
        kwargs = _kwargs(draw, {"name": either(GOOD_NAMES, BAD_NAMES)})
    elif kind in ("Ball", "Disk"):
        n = 2 if kind == "Disk" else d
        args = (
            draw(either(corners(n), BAD_CORNERS)),
            draw(either(finite(0.01, 5), BAD_REALS, NOT_NUMBERS)),
        )
        kwargs = _kwargs(draw, {"names": name_tuples(n)})
    elif kind == "Polygon":
        args = (draw(either(POLYGONS, BAD_POLYGONS, NOT_NUMBERS)),)
        kwargs = _kwargs(draw, {"names": name_tuples(2)})
    elif kind == "SpaceTime":
        space = draw(
            st.sampled_from(
                [
                    LINE,
                    SQUARE,
                    npde.Disk((0, 0), 1.0),
                    SLAB,
                    None,
                    "x",
                    npde.Box([0] * 32, [1] * 32),
                ]
            )
        )
        span = draw(
            either(
                st.tuples(finite(-1, 0), finite(0.5, 2)),
                st.sampled_from([(1, 0), (0, NAN), (0, INF), (0,), (0, 1, 2), "01", None]),
                st.tuples(finite(), finite()),
            )
        )
        args = (space, span)
        kwargs = _kwargs(draw, {"time_name": either(st.just("t"), GOOD_NAMES, BAD_NAMES)})
    else:
        parts = st.sampled_from(
            [npde.Disk((0, 0), 1.0), npde.Rectangle((0, 0), (1, 1)), LINE, SLAB, None, 3]
        )
        args = tuple(draw(st.lists(parts, max_size=4)))
        if draw(st.booleans()) and draw(st.booleans()):
            args = (npde.Disk((0, 0), 1.0),) * 65
    points = draw(JUNK_POINTS)

    def call() -> None:
        domain = getattr(npde, kind)(*args, **kwargs)
        json.dumps(domain.describe())
        domain.contains(points)

    return Case("domains", _call_text(kind, args, kwargs), call)


def _meshes() -> list[Any]:
    """Meshes (``meshio.Mesh``) good and bad: indices out of range, NaN points, flat and
    overlapping cells, no cells of a kind neuralpde meshes, non-constant extra coordinates."""
    import meshio

    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    two = np.array([[0, 1, 2], [0, 2, 3]])
    specs = [
        (square, [("triangle", two)]),
        (square, [("triangle", np.array([[0, 1, 7]]))]),
        (square, [("triangle", np.array([[0, -1, 2]]))]),
        (square, [("triangle", np.array([[0, 1, 2, 3]]))]),
        (square, [("triangle", np.zeros((0, 3), dtype=int))]),
        (square, [("line", np.array([[0, 1], [1, 2]]))]),
        (np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]), [("triangle", np.array([[0, 1, 2]]))]),
        (np.where(square == 1.0, np.nan, square), [("triangle", two)]),
        (np.column_stack([square, [0.0, 1.0, 0.0, 1.0]]), [("triangle", two)]),
        (square, [("triangle", np.array([[0, 1, 2], [0, 1, 2]]))]),
        (square, [("triangle", np.array([[0, 1, 2], [1, 3, 0]]))]),
        (np.zeros((4, 3)), [("tetra", np.array([[0, 1, 2, 3]]))]),
        (square * 1e308, [("triangle", two)]),
        (square, [("triangle", two.astype(float) + 0.5)]),
        (np.zeros((0, 2)), [("triangle", two)]),
    ]
    out = []
    for points, cells in specs:
        try:
            out.append(meshio.Mesh(points, cells))
        except Exception:  # meshio's own refusal: not neuralpde's to judge
            continue
    return out


MESH_FILES = {
    "junk.msh": b"$MeshFormat\n4.1 0 8\n$EndMeshFormat\n$Nodes\n1 2\n",
    "junk.vtk": b"# vtk DataFile Version 4.2\nx\nASCII\nDATASET UNSTRUCTURED_GRID\nPOINTS 3 f\n",
    "empty.obj": b"",
    "binary.stl": bytes(range(256)) * 4,
    "text.xdmf": b"<Xdmf><Domain><Grid></Grid></Domain>",
    "nodes.off": b"OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 9\n",
}


@st.composite
def data_cases(draw: st.DrawFn, ws: Workspace) -> Case:
    """``MeshDomain`` of bad meshes and mesh files, ``GridData`` of bad axes, values and
    columns, and ``GridData.from_file`` of files of every kind."""
    kind = draw(st.sampled_from(["mesh", "mesh file", "grid data", "grid file"]))
    if kind == "mesh":
        mesh = draw(st.sampled_from(MESHES))
        names = draw(either(st.none(), name_tuples(2)))
        label = f"MeshDomain({mesh!r}, names={names!r})"

        def call() -> None:
            domain = npde.MeshDomain(mesh, names=names)
            domain.contains(np.full((3, domain.dim), 0.25))
            domain.describe()

    elif kind == "mesh file":
        path = draw(st.sampled_from(sorted(str(ws.folder / "meshes" / k) for k in MESH_FILES)))
        label = f"MeshDomain({path!r})"

        def call() -> None:
            npde.MeshDomain(path)

    elif kind == "grid data":
        axes = draw(
            st.sampled_from(
                [[np.linspace(0, 1, 3)], [np.linspace(0, 1, 3)] * 2, [[0.0, 0.0, 1.0]], []]
                + [[np.linspace(0, 1, 3)] * 33, None, "axes", [[NAN, 1.0]], [[1.0, 0.0]]]
            )
        )
        values = draw(
            st.sampled_from(
                [np.zeros(3), np.zeros((3, 3)), np.zeros(4), [NAN, 0.0, 1.0], "abc", None]
                + [np.zeros((3, 3, 3)), [[1j, 0, 0]], [True, False, True]]
            )
        )
        kwargs = _kwargs(
            draw,
            {
                "columns": st.sampled_from([None, [0], [1, 0], [40], ["x"], 0, [0, 0], []]),
                "name": either(GOOD_NAMES, BAD_NAMES),
            },
        )
        points = draw(JUNK_POINTS)
        label = _call_text("GridData", (axes, values), kwargs) + f"({points!r})"

        def call() -> None:
            data = npde.GridData(axes, values, **kwargs)
            data(torch.as_tensor(np.asarray(points, dtype=float)))

    else:
        path = draw(either(BAD_PATHS, st.sampled_from(sorted(ws.files.values()))))
        dataset = draw(st.sampled_from(["u", "x", "exact", "/model/parameters", "nope", 3]))
        label = f"GridData.from_file({path!r}, {dataset!r})"

        def call() -> None:
            npde.GridData.from_file(path, dataset)

    return Case("meshes and grid data", label, call, PATH_ERRORS + (KeyError,))


ON = either(
    st.none(),
    st.sampled_from(["x_min", ["x_min", "y_max"], ("y_min",)]),
    st.sampled_from([3, "", ["nope"], [1], b"x_min", [], ("x_min", None), {"x_min"}, 1.5]),
)
WEIGHTS = either(finite(0.1, 10), BAD_REALS, NOT_NUMBERS)


@st.composite
def condition_cases(draw: st.DrawFn) -> Case:
    """Conditions with good and bad values, weights and parts; then a problem that holds one,
    checked as ``solve`` checks it (which calls its callables)."""
    kind = draw(
        st.sampled_from(
            ["Dirichlet", "Neumann", "Robin", "Periodic", "Initial", "InitialVelocity"]
            + ["Observations"]
        )
    )
    if kind in ("Dirichlet", "Neumann"):
        kwargs = _kwargs(draw, {"value": COEFFICIENTS, "weight": WEIGHTS, "on": ON})
        args: tuple = ()
    elif kind == "Robin":
        kwargs = _kwargs(
            draw,
            {
                "value": COEFFICIENTS,
                "a": COEFFICIENTS,
                "b": COEFFICIENTS,
                "on": ON,
                "weight": WEIGHTS,
            },
        )
        args = ()
    elif kind == "Periodic":
        part = either(st.sampled_from(["x_min", "x_max", "y_min", "y_max"]), BAD_NAMES)
        args = (draw(part), draw(part))
        kwargs = _kwargs(draw, {"weight": WEIGHTS})
    elif kind in ("Initial", "InitialVelocity"):
        kwargs = _kwargs(draw, {"value": COEFFICIENTS, "weight": WEIGHTS})
        args = ()
    else:
        pts = either(
            st.sampled_from([[[0.5, 0.5]], np.full((3, 2), 0.25), [[0.1, 0.2], [0.3, 0.4]]]),
            JUNK_POINTS,
        )
        vals = either(
            st.sampled_from([[1.0], np.zeros(3), [1.0, 2.0]]),
            st.sampled_from([[NAN], ["a"], None, np.zeros((2, 2)), [], [1j], 3.0]),
        )
        args = (draw(pts), draw(vals))
        kwargs = _kwargs(draw, {"weight": WEIGHTS})

    def call() -> None:
        cond = getattr(npde, kind)(*args, **kwargs)
        json.dumps(cond.describe(), default=str)
        if kind in ("Initial", "InitialVelocity"):
            conds = [npde.Dirichlet(0.0), cond]
            if kind == "InitialVelocity":
                conds.append(npde.Initial(0.0))
            eq = npde.Wave(1.0) if kind == "InitialVelocity" else npde.Heat(0.1)
            problem = npde.Problem(npde.SpaceTime(SQUARE, (0, 1)), eq, conds)
        else:
            problem = npde.Problem(SQUARE, npde.Poisson(1.0), [cond])
        _problem_checks(problem)

    return Case("conditions", _call_text(kind, args, kwargs), call)


def residual_str(u: object, x: torch.Tensor) -> object:
    return "residual"


def residual_none(u: object, x: torch.Tensor) -> object:
    return None


def residual_wrong_shape(u: object, x: torch.Tensor) -> object:
    return torch.zeros(3, 3)


def residual_raises(u: object, x: torch.Tensor) -> object:
    raise ValueError("this residual refuses")


def residual_laplace(u: object, x: torch.Tensor) -> object:
    from neuralpde.operators import laplacian

    return laplacian(u) + 1.0


def residual_of_numbers(u: object, x: torch.Tensor) -> object:
    return 1.0


RESIDUALS = st.sampled_from(
    [residual_str, residual_none, residual_wrong_shape, residual_raises, residual_laplace]
    + [residual_of_numbers, None, "laplacian(u)", 3]
)
KAPPAS = either(
    COEFFICIENTS,
    st.sampled_from(
        [
            [[1.0, 0.0], [0.0, 1.0]],
            [[1.0, 2.0]],
            [[-1.0, 0.0], [0.0, -1.0]],
            [[1.0, 5.0], [0.0, 1.0]],
        ]
        + [[0.1, 0.2], [[NAN, 0], [0, 1]], [], [[1.0]], np.eye(3), [["a", 0], [0, 1]]]
    ),
)


@st.composite
def equation_cases(draw: st.DrawFn) -> Case:
    """Equations with good and bad coefficients (callables returning strings, ``None``, wrong
    shapes, NaN, ...), in a problem checked as ``solve`` checks it."""
    kind = draw(st.sampled_from(["Poisson", "Helmholtz", "Heat", "Wave", "Custom"]))
    if kind == "Poisson":
        kwargs = _kwargs(draw, {"f": COEFFICIENTS})
    elif kind == "Helmholtz":
        kwargs = _kwargs(draw, {"k": COEFFICIENTS, "f": COEFFICIENTS})
    elif kind == "Heat":
        kwargs = _kwargs(
            draw,
            {
                "kappa": KAPPAS,
                "f": COEFFICIENTS,
                "divergence_form": either(st.booleans(), NOT_NUMBERS),
            },
        )
    elif kind == "Wave":
        kwargs = _kwargs(draw, {"c": COEFFICIENTS, "f": COEFFICIENTS})
    else:
        kwargs = _kwargs(
            draw,
            {
                "fn": RESIDUALS,
                "time_order": either(st.integers(0, 2), BAD_INTS, NOT_NUMBERS),
                "name": either(GOOD_NAMES, BAD_NAMES),
            },
        )
    space = draw(st.sampled_from([LINE, SQUARE]))
    exact = draw(either(st.none(), GOOD_CALLABLES, BAD_CALLABLES, NOT_NUMBERS))

    def call() -> None:
        eq = getattr(npde, kind)(**kwargs)
        order = getattr(eq, "time_order", 0)
        if order:
            conds = [npde.Dirichlet(0.0), npde.Initial(0.0)]
            if order == 2:
                conds.append(npde.InitialVelocity(0.0))
            problem = npde.Problem(npde.SpaceTime(space, (0, 1)), eq, conds, exact=exact)
        else:
            problem = npde.Problem(space, eq, [npde.Dirichlet(0.0)], exact=exact)
        _problem_checks(problem)

    return Case("equations", _call_text(kind, (), kwargs) + f" exact={exact!r}", call)


def _many(n: int) -> Iterator[npde.Dirichlet]:
    return (npde.Dirichlet(0.0) for _ in range(n))


@st.composite
def problem_cases(draw: st.DrawFn) -> Case:
    """``Problem(...)`` with bad domains, equations, conditions, exact solutions and names."""
    domain = draw(st.sampled_from([SQUARE, LINE, SLAB, None, "square", 3, npde.Poisson()]))
    equation = draw(
        st.sampled_from(
            [npde.Poisson(1.0), npde.Heat(0.1), npde.Wave(), residual_laplace, None, "poisson"]
            + [3, SQUARE, npde.Dirichlet(0.0)]
        )
    )
    conditions = draw(
        st.sampled_from(
            [[npde.Dirichlet(0.0)], npde.Dirichlet(0.0), [], None, 3, "Dirichlet", [_Opaque()]]
            + [[npde.Dirichlet(0.0), npde.Initial(0.0)], [npde.Initial(0.0)], "many"]
            + [[npde.Neumann(0.0, on="nope")], [npde.Periodic("x_min", "x_max")], ["x"]]
            + [[npde.Observations([[0.5, 0.5, 0.5]], [1.0])], [npde.InitialVelocity(0.0)]]
        )
    )
    kwargs = _kwargs(
        draw,
        {
            "exact": either(st.none(), GOOD_CALLABLES, BAD_CALLABLES, NOT_NUMBERS),
            "name": either(GOOD_NAMES, BAD_NAMES, st.just("p" * 257)),
        },
    )

    def call() -> None:
        conds = _many(2000) if conditions == "many" else conditions
        problem = npde.Problem(domain, equation, conds, **kwargs)
        _problem_checks(problem)

    return Case("problems", _call_text("Problem", (domain, equation, conditions), kwargs), call)


@st.composite
def trainer_cases(draw: st.DrawFn) -> Case:
    """``Trainer(...)`` with good and bad settings, then ``with_budget``."""
    steps = either(small_ints(0, 50), BAD_INTS, NOT_NUMBERS, st.just(10**9 + 1))
    rate = either(finite(1e-5, 1.0), BAD_REALS, NOT_NUMBERS)
    kwargs = _kwargs(
        draw,
        {
            "adam_steps": steps,
            "lbfgs_steps": steps,
            "gauss_newton_steps": steps,
            "lr": rate,
            "lr_final": either(st.none(), rate),
            "seconds": either(st.none(), finite(0.1, 100), BAD_REALS, NOT_NUMBERS),
            "adam_fraction": either(finite(0.1, 1.0), BAD_REALS, NOT_NUMBERS, st.just(1.5)),
            "tol": either(finite(0, 1), BAD_REALS, NOT_NUMBERS),
            "lbfgs_history": either(small_ints(1, 50), BAD_INTS, NOT_NUMBERS),
            "log_every": either(small_ints(1, 50), BAD_INTS, NOT_NUMBERS),
            "progress": either(st.none(), st.booleans(), NOT_NUMBERS),
            "derivatives": either(
                st.sampled_from(["auto", "fused", "autograd"]),
                st.sampled_from(["", "jax", None, 1]),
            ),
            "damping": rate,
        },
    )
    budget = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "steps": either(small_ints(1, 100), BAD_INTS, NOT_NUMBERS),
                "seconds": either(finite(0.1, 100), BAD_REALS, NOT_NUMBERS),
            },
        )
    )

    def call() -> None:
        trainer = npde.Trainer(**kwargs)
        trainer.describe()
        trainer.with_budget(**budget)

    return Case("trainers", _call_text("Trainer", (), kwargs) + f".with_budget({budget})", call)


# -- solve, files, fields ----------------------------------------------------------------------


def _exact_1d(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x[:, 0] * (1 - x[:, 0])


TINY_PROBLEM = npde.Problem(
    LINE, npde.Poisson(1.0), [npde.Dirichlet(0.0)], exact=_exact_1d, name="fuzz_line"
)
TINY_HEAT = npde.Problem(
    SLAB, npde.Heat(0.1), [npde.Dirichlet(0.0), npde.Initial(0.0)], name="fuzz_heat"
)
TINY_FIELD = npde.Siren(width=4, depth=1)
TINY_SAMPLER = npde.SobolSampler(n_interior=16, n_boundary=2, n_initial=4)
TINY_TRAINER = npde.Trainer(adam_steps=1, lbfgs_steps=0, progress=False)


@dataclasses.dataclass
class Workspace:
    """Files the API and command-line cases use: a good solution and reference of one small
    2-D problem, a solution object, problem files of every kind, and paths of every kind."""

    folder: Path
    solution: Path
    reference: Path
    field: npde.solution.SavedField
    saved: npde.Solution
    problems: dict[str, Path]
    files: dict[str, str]
    record: dict[str, Any]

    def outputs(self) -> list[str]:
        """The paths of :attr:`files` a writer may be given: none of them holds a file that
        other cases read."""
        keep = ("out", "in-missing-folder", "folder", "dev-null", "fifo", "out-slash", "long")
        return [self.files[k] for k in keep + ("nul", "newline")]


def _sin_sin(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(torch.pi * x[:, 0]) * torch.sin(torch.pi * x[:, 1])


def _source(x: torch.Tensor) -> torch.Tensor:
    return 2 * torch.pi**2 * _sin_sin(x)


BASE_PROBLEM = npde.Problem(
    SQUARE, npde.Poisson(_source), [npde.Dirichlet(0.0)], exact=_sin_sin, name="fuzz_square"
)


def make_base_files(folder: Path) -> tuple[Path, Path, npde.Solution]:
    """A small solution file (a SIREN with built-in conditions on a 6 x 6 grid) and a reference
    file (17 x 17 nodes) of one Poisson problem, written by neuralpde."""
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = npde.solve(
            BASE_PROBLEM,
            npde.Siren(width=4, depth=1),
            npde.SobolSampler(n_interior=16, n_boundary=16),
            npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False),
            monitor=False,
        )
        solution = sol.save(folder / "solution.h5", n=6)
        ref = convergence_study(BASE_PROBLEM, 4, levels=3)
        reference = save_reference(ref, folder / "reference.h5", problem=BASE_PROBLEM)
    return Path(solution), Path(reference), sol


_GOOD_PROBLEM = """\
import neuralpde as npde


def exact(x):
    return 0.5 * x[:, 0] * (1 - x[:, 0])


problem = npde.Problem(
    npde.Interval(0, 1), npde.Poisson(1.0), [npde.Dirichlet(0.0)], exact=exact, name="cli_line"
)
field = npde.Siren(width=4, depth=1)
sampler = npde.SobolSampler(n_interior=16, n_boundary=2)
trainer = npde.Trainer(adam_steps=1, lbfgs_steps=0, progress=False)
reference = {"n": 4, "levels": 3}
"""
_HEAD = "import neuralpde as npde\nimport torch\n"
_LINE = "npde.Problem(npde.Interval(0, 1), npde.Poisson(1.0), [npde.Dirichlet(0.0)]"
PROBLEM_FILES = {
    "good": _GOOD_PROBLEM,
    "syntax": "def (:\n",
    "raises": "raise RuntimeError('boom\\nand a second line')\n",
    "keyerror": "{}['missing']\n",
    "nothing": "x = 1\n",
    "empty": "",
    "two": _HEAD + f"a = {_LINE})\nb = {_LINE})\n",
    "wrong-type": "problem = 3\n",
    "bad-field": _HEAD + f"problem = {_LINE})\nfield = 'siren'\n",
    "bad-sampler": _HEAD + f"problem = {_LINE})\nsampler = npde.Siren()\n",
    "bad-trainer": _HEAD + f"problem = {_LINE})\ntrainer = {{'adam_steps': 1}}\n",
    "bad-dtype": _HEAD + f"problem = {_LINE})\ndtype = 'float16'\n",
    "bad-reference": _HEAD + f"problem = {_LINE})\nreference = {{'n': -1, 'levels': 'x'}}\n",
    "reference-list": _HEAD + f"problem = {_LINE})\nreference = [4, 3]\n",
    "reference-key": _HEAD + f"problem = {_LINE})\nreference = {{'grid': 4}}\n",
    "exits": "import sys\nsys.exit(3)\n",
    "exits-text": "import sys\nsys.exit('a message')\n",
    "coefficient-str": _HEAD
    + "problem = npde.Problem(npde.Interval(0, 1), npde.Poisson(lambda x: 'one'), "
    "[npde.Dirichlet(0.0)])\n",
    "coefficient-divides": _HEAD
    + "problem = npde.Problem(npde.Interval(0, 1), npde.Poisson(lambda x: 1 / 0), "
    "[npde.Dirichlet(0.0)])\n",
    "heat-on-interval": _HEAD
    + "problem = npde.Problem(npde.Interval(0, 1), npde.Heat(0.1), [npde.Dirichlet(0.0)])\n",
    "not-utf8": "\udcff\udcfe = 1\n",
    "huge-reference": _HEAD + f"problem = {_LINE})\nreference = {{'n': 10**9, 'levels': 25}}\n",
}


def make_workspace(folder: Path) -> Workspace:
    """Write the base files, the problem files and the odd paths into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    MESHES[:] = MESHES or _meshes()
    solution, reference, saved = make_base_files(folder / "base")
    pdir = folder / "problems"
    pdir.mkdir(exist_ok=True)
    problems = {}
    for name, text in PROBLEM_FILES.items():
        path = pdir / f"{name}.py"
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        problems[name] = path
    (pdir / "folder.py").mkdir(exist_ok=True)
    problems["folder"] = pdir / "folder.py"
    problems["missing"] = pdir / "missing.py"
    odd = folder / "odd"
    odd.mkdir(exist_ok=True)
    (odd / "text.h5").write_text("not an HDF5 file\n")
    (odd / "empty.h5").write_bytes(b"")
    (odd / "a dir.h5").mkdir(exist_ok=True)
    (odd / "new\nline.h5").write_text("")
    meshes = folder / "meshes"
    meshes.mkdir(exist_ok=True)
    for name, data in MESH_FILES.items():
        (meshes / name).write_bytes(data)
    fifo = odd / "fifo.h5"
    if hasattr(os, "mkfifo") and not fifo.exists():
        os.mkfifo(fifo)
    plain = h5py.File(odd / "plain.h5", "w")
    plain["u"] = np.zeros((3, 3))
    plain.close()
    files = {
        "solution": str(solution),
        "reference": str(reference),
        "text": str(odd / "text.h5"),
        "empty": str(odd / "empty.h5"),
        "folder": str(odd / "a dir.h5"),
        "newline": str(odd / "new\nline.h5"),
        "fifo": str(fifo),
        "plain-hdf5": str(odd / "plain.h5"),
        "missing": str(odd / "missing.h5"),
        "problem-file": str(problems["good"]),
        "dev-null": "/dev/null",
        "long": str(odd / ("x" * 300 + ".h5")),
        "nul": str(odd / "a\0b.h5"),
        "in-missing-folder": str(odd / "missing" / "f.h5"),
        "out": str(odd / "out.h5"),
        "out-slash": str(odd / "out") + "/",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        field = npde.load(solution)
    record = read_solution(solution)
    return Workspace(folder, solution, reference, field, saved, problems, files, record)


@st.composite
def solve_cases(draw: st.DrawFn, ws: Workspace) -> Case:
    """``solve`` with one keyword (at least) bad, so that it must refuse before training."""
    tmp = ws.folder / "ckpt"
    good = {
        "problem": st.sampled_from([TINY_PROBLEM, TINY_HEAT]),
        "field": st.sampled_from([None, TINY_FIELD, npde.MLP(width=4, depth=1)]),
        "sampler": st.sampled_from([None, TINY_SAMPLER]),
        "trainer": st.just(TINY_TRAINER),
        "seed": small_ints(0, 5),
        "dtype": st.sampled_from([torch.float64, torch.float32]),
        "device": st.sampled_from(["cpu", torch.device("cpu"), "cpu:0"]),
        "monitor": st.sampled_from([True, False, None]),
        "constraints": st.booleans(),
        "checkpoint": st.sampled_from([None, str(tmp / "run.ckpt")]),
        "checkpoint_every": st.sampled_from([60.0, 0, 1]),
        "resume": st.just(False),
    }
    bad = {
        "problem": st.sampled_from([None, "p", npde.Poisson(), SQUARE, [TINY_PROBLEM]]),
        "field": st.sampled_from(["siren", npde.Siren, 3, TINY_SAMPLER, {"width": 4}]),
        "sampler": st.sampled_from(["sobol", npde.SobolSampler, TINY_FIELD, 16]),
        "trainer": st.sampled_from([{"adam_steps": 1}, "lbfgs", npde.Trainer, 0]),
        "seed": either(
            st.integers(max_value=-1),
            st.integers(min_value=2**63),
            st.sampled_from([1.5, np.float64(3.0), np.int64(-1), 2.0, -(2**63)]),
            NOT_NUMBERS,
        ),
        "dtype": st.sampled_from(
            [torch.float16, "float64", np.float64, torch.int32, None, torch.complex64]
            + [torch.bfloat16, float, "torch.float64"]
        ),
        "device": st.sampled_from(
            ["cuda:99", "tpu", "", None, "cpu:1", "meta", "cuda:-1", 0, torch.device("meta")]
            + ["gpu", "cpu\0", "mps", "xla", [], "cuda:x"]
        ),
        "monitor": st.sampled_from(["yes", 1, 0.0, print, "False"]),
        "constraints": st.sampled_from([None, "no", 0, 1.0, []]),
        "checkpoint": BAD_PATHS.filter(lambda p: p is not None),
        "checkpoint_every": st.sampled_from([-1, NAN, INF, "60", None, True, -0.5, 1j]),
        "resume": st.sampled_from(["yes", None, 1, 0, np.array([True])]),
    }
    if not torch.cuda.is_available():
        bad["device"] = either(bad["device"], st.sampled_from(["cuda", "cuda:0"]))
    wrong = draw(st.lists(st.sampled_from(sorted(bad)), min_size=1, max_size=3, unique=True))
    kwargs = {k: draw(bad[k] if k in wrong else good[k]) for k in good}
    if kwargs["checkpoint"] is None and draw(st.booleans()):
        kwargs["resume"] = True  # resume without a checkpoint: refused
    elif isinstance(kwargs["checkpoint"], str) and draw(st.booleans()) and "resume" not in wrong:
        kwargs["resume"] = True  # a checkpoint that does not exist: refused
    positional = [kwargs.pop(k) for k in ("problem", "field", "sampler", "trainer")]

    def call() -> None:
        tmp.mkdir(exist_ok=True)
        npde.solve(*positional, **kwargs)

    return Case("solve", _call_text("solve", (), kwargs), call, PATH_ERRORS)


READER_NAMES = ("load", "load_reference", "read_solution", "read_reference", "file_kind")


@st.composite
def file_api_cases(draw: st.DrawFn, ws: Workspace) -> Case:
    """Readers, writers and ``validate`` with bad paths and arguments."""
    paths = either(BAD_PATHS, st.sampled_from(sorted(ws.files.values())))
    # writers never get the base files (the other cases read them) nor the problem files
    outputs = either(BAD_PATHS, st.sampled_from(sorted(ws.outputs())))
    kind = draw(
        st.sampled_from(
            [*READER_NAMES, "read_grid", "validate", "save", "save_reference", "write_solution"]
            + ["convergence_study", "reference_checksum"]
        )
    )
    writes = kind in ("save", "save_reference", "write_solution")
    path = draw(outputs if writes else paths)
    label = f"{kind}({path!r}"
    if kind in READER_NAMES:
        fn = {
            "load": npde.load,
            "load_reference": load_reference,
            "read_solution": read_solution,
            "read_reference": read_reference,
            "file_kind": file_kind,
        }[kind]

        def call() -> None:
            fn(path)

    elif kind == "read_grid":
        dataset = draw(st.sampled_from(["u", "x", "/u", "model", "missing", "", None, 3, "a/b/c"]))
        label += f", {dataset!r}"

        def call() -> None:
            read_grid(path, dataset)

    elif kind == "validate":
        kwargs = _kwargs(
            draw,
            {
                "reference": either(st.none(), paths, st.just(ws.field)),
                "exact": either(st.booleans(), NOT_NUMBERS),
                "tol": either(st.none(), finite(1e-6, 1.0), BAD_REALS, NOT_NUMBERS),
            },
        )
        subject = draw(either(st.just(path), st.sampled_from([ws.field, ws.saved, None, 3])))
        label = _call_text("validate", (subject,), kwargs)

        def call() -> None:
            validate(subject, **kwargs)

    elif kind == "save":
        n = draw(either(st.none(), small_ints(2, 8), BAD_INTS, NOT_NUMBERS, st.just([3, 3, 3])))
        label += f", n={n!r}"

        def call() -> None:
            ws.saved.save(path, n=n)

    elif kind == "save_reference":
        subject = draw(st.sampled_from(["ref", "field", None]))
        problem = draw(st.sampled_from([None, BASE_PROBLEM, TINY_PROBLEM, {"name": 3}, "p"]))
        settings_ = draw(st.sampled_from([None, {}, {"n": 4}, {"bogus": 1}, {"levels": -1}, []]))
        label += f", ref={subject}, problem={problem!r}, settings={settings_!r}"

        def call() -> None:
            ref = {"ref": load_reference(ws.reference), "field": ws.field, None: None}[subject]
            save_reference(ref, path, problem=problem, settings=settings_)

    elif kind == "write_solution":
        rec = dict(ws.record)
        key = draw(st.sampled_from(["coords", "values", "exact", "architecture", "parameters"]))
        if key in ("values", "exact"):
            choices = [
                np.zeros((7, 7)),
                np.zeros(0),
                "x",
                np.full((6, 6), "a"),
                np.zeros((6, 6, 1)),
            ]
        else:  # mappings of bad contents (the types are those of the signature)
            choices = [{}, {"u": np.zeros(3)}, {"a/b": np.zeros(6)}, {"x": "str", "y": None}]
            choices += [{"x": np.zeros(6), "y": np.zeros(6), "u": np.zeros(6)}, {"": np.zeros(6)}]
            choices += [{"field": _Opaque(), "in_features": NAN}, {"x": np.zeros((6, 6))}]
        value = draw(st.sampled_from(choices))
        label = f"write_solution({path!r}, {key}={value!r})"

        def call() -> None:
            rec[key if key != "values" else "u"] = value
            write_solution(
                path,
                coords=rec["coords"],
                values=rec["u"],
                exact=rec["exact"],
                architecture=rec["architecture"],
                parameters=rec["parameters"],
                dtype=rec["dtype"],
                problem=rec["problem"],
                training=rec["training"],
                metrics=rec["metrics"],
                provenance={},
            )

    elif kind == "convergence_study":
        kwargs = _kwargs(
            draw,
            {
                "levels": either(small_ints(3, 3), BAD_INTS, NOT_NUMBERS, st.just(30)),
                "ratio": either(st.just(2), BAD_INTS, NOT_NUMBERS, st.just(10**4)),
                "order": either(st.sampled_from([2, 4]), BAD_INTS, NOT_NUMBERS),
                "dt": either(st.none(), BAD_REALS, NOT_NUMBERS, st.just(1e-300)),
                "time_samples": either(st.none(), BAD_INTS, NOT_NUMBERS),
                "method": st.sampled_from(["auto", "direct", "nope", None]),
                "extrapolate": either(st.booleans(), NOT_NUMBERS),
            },
        )
        n = draw(either(small_ints(2, 4), BAD_INTS, NOT_NUMBERS, st.just([4, 4, 4])))
        problem = draw(st.sampled_from([TINY_PROBLEM, TINY_HEAT, None, "p"]))
        label = _call_text("convergence_study", (problem, n), kwargs)

        def call() -> None:
            convergence_study(problem, n, **kwargs)

    else:
        from neuralpde.reference import reference_checksum

        n = draw(either(small_ints(2, 8), BAD_INTS, NOT_NUMBERS))
        problem = draw(st.sampled_from([TINY_PROBLEM, {"domain": {"names": ["x"]}}, {}, None, 3]))
        label = f"reference_checksum({problem!r}, n={n!r})"

        def call() -> None:
            reference_checksum(problem, n=n)

    return Case("files and validate", label + ")", call, PATH_ERRORS + (KeyError,))


@st.composite
def evaluation_cases(draw: st.DrawFn, ws: Workspace) -> Case:
    """A loaded field called, differentiated and gridded with bad points and axes."""
    how = draw(st.sampled_from(["call", "gradient", "on_grid", "errors", "save-n"]))
    points = draw(JUNK_POINTS)
    axes = draw(
        st.sampled_from(
            [[np.linspace(0, 1, 3)] * 2, [np.linspace(0, 1, 3)], None, "ab", [[NAN], [0.5]]]
            + [[np.zeros((2, 2)), np.zeros(2)], [[0.5], ["a"]], [[], []], 3, [np.zeros(3)] * 3]
        )
    )
    subject = draw(st.sampled_from(["loaded", "solved"]))

    def call() -> None:
        field = ws.field if subject == "loaded" else ws.saved
        if how == "call":
            field(points)
        elif how == "gradient":
            field.gradient(points)
        elif how == "on_grid":
            field.on_grid(axes)
        elif how == "errors":
            ws.saved.errors(n=axes if not isinstance(axes, list) else 4)
        else:
            ws.saved.grid_axes(points if not isinstance(points, list) else 3)

    label = f"{subject} field.{how}(points={points!r}, axes={axes!r})"
    return Case("field evaluation", label, call)


# -- command lines -------------------------------------------------------------------------------


def _value(good: Sequence[str], bad: Sequence[str]) -> st.SearchStrategy:
    return either(st.sampled_from(list(good)), st.sampled_from(list(bad)))


@st.composite
def argv_cases(draw: st.DrawFn, ws: Workspace) -> list[str]:
    """Command lines: every subcommand with good and bad positional arguments (problem files of
    every kind, files of every kind) and options with good, bad and missing values."""
    command = draw(
        st.sampled_from(["solve", "reference", "validate", "info", "", "bogus", "--version", "-h"])
    )
    problems = st.sampled_from(sorted(str(p) for p in ws.problems.values()))
    files = st.sampled_from(sorted(ws.files.values()))
    argv: list[str] = [command] if command else []
    options: dict[str, st.SearchStrategy] = {}
    if command in ("solve", "reference"):
        if draw(st.integers(0, 9)):
            argv.append(draw(problems))
        if draw(st.integers(0, 9)):
            outputs = st.sampled_from(sorted(ws.outputs()) + [ws.files["problem-file"]])
            argv += [draw(st.sampled_from(["-o", "--output"])), draw(outputs)]
        options = {
            "-q": st.just(None),
            "--quiet": st.just(None),
        }
        if command == "solve":
            options.update(
                {
                    "--seed": _value(["0", "3"], ["-1", str(2**63), "abc", "1e3", "", "0x10"]),
                    "--steps": _value(["1", "2"], ["0", "-5", "1e9", str(10**10), "many"]),
                    "--seconds": _value(["0.05"], ["0", "-1", "nan", "inf", "1e8", "x"]),
                    "--checkpoint-every": _value(["0", "5"], ["-1", "nan", "inf", "1e8", "x"]),
                    "--dtype": _value(["float32", "float64"], ["float16", "double", ""]),
                    "--float32": st.just(None),
                    "--derivatives": _value(["auto", "autograd"], ["jax", "", "fused2"]),
                    "--soft": st.just(None),
                    "--device": _value(
                        ["cpu"], ["cuda:7", "tpu", "", "cpu:1", "meta", "cuda:x", "-1"]
                    ),
                    "--threads": _value(["1"], ["0", "-1", "100000", "x", "1.5"]),
                    "--resume": st.just(None),
                }
            )
        else:
            options.update(
                {
                    "--n": _value(["4"], ["1", "0", "-3", "x", "100000000", "4.5"]),
                    "--levels": _value(["3"], ["2", "26", "x", "20", "-1"]),
                    "--order": _value(["2", "4"], ["3", "0", "x"]),
                    "--time-samples": _value(["3"], ["1", "0", "x", "100000000"]),
                    "--extrapolate": st.just(None),
                    "--no-extrapolate": st.just(None),
                }
            )
    elif command == "validate":
        if draw(st.integers(0, 9)):
            argv.append(draw(files))
        options = {
            "--reference": files,
            "--exact": st.just(None),
            "--tol": _value(["1e-3", "10", "0.5"], ["0", "-1", "nan", "inf", "x", "", "1e999"]),
            "--report": st.sampled_from(
                [ws.files["text"], ws.files["nul"], ws.files["long"], "/proc/x/report"]
                + [ws.files["in-missing-folder"] + "/deeper"]
            ),
            "-q": st.just(None),
        }
    elif command == "info":
        if draw(st.integers(0, 9)):
            argv.append(draw(files))
        options = {"--json": st.just(None)}
    chosen = (
        draw(st.lists(st.sampled_from(sorted(options)), max_size=5, unique=True)) if options else []
    )
    for option in chosen:
        value = draw(options[option])
        argv.append(option)
        if value is not None and draw(st.integers(0, 14)):  # now and then the value is missing
            argv.append(value)
    if draw(st.integers(0, 9)) == 0:
        argv.append(draw(st.sampled_from(["--bogus", "extra", "-", "--", "-o"])))
    return argv


# -- a campaign of every API family ---------------------------------------------------------------

#: Each API family's strategy of cases, from the workspace.
API_FAMILIES: dict[str, Callable[[Workspace], st.SearchStrategy]] = {
    "fields": lambda ws: field_cases(),
    "samplers": lambda ws: sampler_cases(),
    "domains": lambda ws: domain_cases(),
    "conditions": lambda ws: condition_cases(),
    "equations": lambda ws: equation_cases(),
    "problems": lambda ws: problem_cases(),
    "trainers": lambda ws: trainer_cases(),
    "solve": solve_cases,
    "files and validate": file_api_cases,
    "field evaluation": evaluation_cases,
    "meshes and grid data": data_cases,
}


def run_api_campaign(ws: Workspace, examples: int, seed: int | None = None) -> Tally:
    """``examples`` cases of every API family and twice as many command lines, recording each
    outcome (a finding too, without stopping)."""
    tally = Tally()
    route_logging_to_stderr()
    families: dict[str, Callable[[Workspace], st.SearchStrategy]] = {
        **API_FAMILIES,
        "command lines": argv_cases,
    }
    for family, make in families.items():
        test = _family_property(ws, family, make, tally, examples, seed)
        test()
    return tally


def _family_property(
    ws: Workspace,
    family: str,
    make: Callable[[Workspace], st.SearchStrategy],
    tally: Tally,
    examples: int,
    seed: int | None,
) -> Callable[[], None]:
    """The property of one family, recording every outcome in ``tally``."""

    @settings(
        max_examples=2 * examples if family == "command lines" else examples,
        derandomize=seed is None,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    @given(st.data())
    def property_of_family(data: st.DataObject) -> None:
        case = data.draw(make(ws))
        try:
            outcome = check_cli(case) if family == "command lines" else case.run()
        except FindingError as exc:
            tally.add(family, exc.kind)
            tally.findings.append(f"{family}: {exc}")
        else:
            tally.add(family, outcome)

    return property_of_family if seed is None else hypothesis_seed(seed)(property_of_family)


# -- damaged files -------------------------------------------------------------------------------

#: Attributes holding JSON, by file kind.
JSON_ATTRIBUTES = {
    "solution": [
        ("/", "neuralpde_coordinates"),
        ("/model", "architecture"),
        ("/problem", "description"),
        ("/training", "timings"),
        ("/training", "settings"),
        ("/provenance", "versions"),
    ],
    "reference": [
        ("/", "neuralpde_coordinates"),
        ("/convergence", "settings"),
        ("/problem", "description"),
        ("/provenance", "versions"),
    ],
}


@dataclasses.dataclass(frozen=True)
class Layout:
    """What a base file holds: its datasets, groups and attributes, and its size in bytes."""

    datasets: tuple[str, ...]
    groups: tuple[str, ...]
    attributes: tuple[tuple[str, str], ...]
    size: int

    @classmethod
    def of(cls, path: Path) -> Layout:
        datasets: list[str] = []
        groups: list[str] = []
        with h5py.File(path, "r") as f:
            attributes = [("/", k) for k in f.attrs]

            def visit(name: str, obj: object) -> None:
                full = "/" + name
                (datasets if isinstance(obj, h5py.Dataset) else groups).append(full)
                attributes.extend((full, k) for k in obj.attrs)

            f.visititems(visit)
        return cls(tuple(datasets), tuple(groups), tuple(attributes), path.stat().st_size)


@dataclasses.dataclass(frozen=True)
class Mutation:
    """One change to a copy of a base file: its family (a row of the report), the operation
    and its arguments."""

    base: str
    family: str
    op: str
    args: tuple = ()

    def __repr__(self) -> str:
        text = f"{self.base}: {self.family}: {self.op}{self.args!r}"
        return text if len(text) <= 300 else text[:300] + "...)"


JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from(["float64", "siren", "x", "Poisson", "SpaceTime", "u", "chebyshev"])
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
RAW_JSON = st.sampled_from(
    ["[" * 100 + "]" * 100, "[" * 10_000, '{"a": ' + "9" * 5000 + "}", "NaN", "Infinity", "1e999"]
    + ["", "null", "[1, 2", "{}", "[]", '"x"', "\x00", "{" * 70 + "}" * 70, '["x", "x"]', "1"]
    + ['["y", "x"]', '["x"]', '["x", "y", "t"]', '{"field": null}', '"' + "a" * 100_000 + '"']
)
ATTRIBUTE_VALUES = st.sampled_from(
    [
        np.int64(7),
        -1,
        2**62,
        NAN,
        INF,
        1.5,
        "",
        "x" * 70_000,
        np.void(b"\xff\xfe\x00"),
        np.array([1, 2]),
        np.bool_(True),
        np.complex128(1 + 2j),
        np.float16(1),
        np.uint64(2**64 - 1),
        np.zeros(0),
        "[]",
        "float32",
        "torch.float64",
        "neuralpde-reference",
        "neuralpde-solution",
        np.bytes_(b"\xff\xfe"),
        np.bytes_(b"float64"),
        np.array(["a", "b"], dtype=h5py.string_dtype()),
        "0" * 64,
        "f" * 64,
    ]
)
DTYPES = st.sampled_from(
    ["f2", "f4", "f8", ">f8", "i1", "i8", "u2", "c16", "?", "S8", "vlen-str", "compound", "enum"]
)


@st.composite
def mutations(draw: st.DrawFn, layouts: Mapping[str, Layout]) -> Mutation:
    """A damaging or crafted change to a copy of the solution or the reference base file."""
    base = draw(st.sampled_from(sorted(layouts)))
    lay = layouts[base]
    dataset = st.sampled_from(lay.datasets)
    entry = st.sampled_from(lay.datasets + lay.groups)
    attribute = st.sampled_from(lay.attributes)
    offset = st.floats(0, 1, exclude_max=True)
    family = draw(
        st.sampled_from(
            [
                "byte flips",
                "truncation",
                "appended junk",
                "overwritten block",
                "entry deleted",
                "entry renamed or swapped",
                "dataset dtype changed",
                "dataset shape changed",
                "dataset values changed",
                "entry kind swapped",
                "attribute deleted",
                "attribute replaced",
                "JSON edited",
                "JSON text replaced",
                "huge declared shape",
                "soft link",
                "external link",
                "external storage or virtual dataset",
                "filters and chunks",
                "format and version",
                "NaN weights",
                "/u replaced by /exact",
                "extra entries",
                "crafted with a valid digest",
            ]
        )
    )
    if family == "byte flips":
        flips = st.tuples(offset, st.integers(1, 255))
        return Mutation(base, family, "flip", tuple(draw(st.lists(flips, min_size=1, max_size=4))))
    if family == "truncation":
        return Mutation(base, family, "truncate", (draw(offset),))
    if family == "appended junk":
        junk = either(st.binary(min_size=1, max_size=64), st.just(b"\x89HDF\r\n\x1a\n" * 8))
        return Mutation(base, family, "append", (draw(junk),))
    if family == "overwritten block":
        block = either(st.binary(min_size=1, max_size=128), st.just(b"\0" * 512))
        return Mutation(base, family, "overwrite", (draw(offset), draw(block)))
    if family == "entry deleted":
        return Mutation(base, family, "delete", (draw(entry),))
    if family == "entry renamed or swapped":
        if draw(st.booleans()):
            return Mutation(base, family, "swap", (draw(dataset), draw(dataset)))
        name = draw(st.sampled_from(["u2", "U", "x ", "exact", "model2", "x", "y", "t", "e"]))
        return Mutation(base, family, "rename", (draw(entry), name))
    if family == "dataset dtype changed":
        return Mutation(base, family, "retype", (draw(dataset), draw(DTYPES)))
    if family == "dataset shape changed":
        how = st.sampled_from(["transpose", "flatten", "add-dim", "scalar", "empty", "shorter"])
        return Mutation(base, family, "reshape", (draw(dataset), draw(how | st.just("longer"))))
    if family == "dataset values changed":
        how = st.sampled_from(["nan", "inf", "-inf", "huge", "zero", "negate", "ulp", "tiny"])
        return Mutation(base, family, "values", (draw(dataset), draw(how), draw(offset)))
    if family == "entry kind swapped":
        return Mutation(base, family, "kind", (draw(entry),))
    if family == "attribute deleted":
        return Mutation(base, family, "del-attr", draw(attribute))
    if family == "attribute replaced":
        return Mutation(base, family, "set-attr", (*draw(attribute), draw(ATTRIBUTE_VALUES)))
    if family == "JSON edited":
        where = draw(st.sampled_from(JSON_ATTRIBUTES[base]))
        how = draw(st.sampled_from(["replace", "delete", "insert", "wrap"]))
        return Mutation(base, family, "json", (*where, how, draw(offset), draw(JSON_VALUES)))
    if family == "JSON text replaced":
        where = draw(st.sampled_from(JSON_ATTRIBUTES[base]))
        return Mutation(base, family, "json-raw", (*where, draw(RAW_JSON)))
    if family == "huge declared shape":
        log2 = draw(st.integers(27, 62))  # beyond every limit on what a reader reads
        how = draw(st.sampled_from(["chunked", "gzip", "chunked-2d", "contiguous"]))
        return Mutation(base, family, "huge", (draw(dataset), log2, how))
    if family == "soft link":
        target = draw(
            either(entry, st.sampled_from(["/missing", "/", ".", "../..", "/u/u", "self"]))
        )
        return Mutation(base, family, "softlink", (draw(entry), target))
    if family == "external link":
        target = draw(st.sampled_from(["/u", "/d", "/", "/missing"]))
        return Mutation(base, family, "extlink", (draw(entry), target))
    if family == "external storage or virtual dataset":
        how = draw(st.sampled_from(["external", "virtual"]))
        return Mutation(base, family, how, (draw(dataset),))
    if family == "filters and chunks":
        how = draw(st.sampled_from(["plugin", "corrupt-gzip", "huge-chunks", "bomb", "fletcher"]))
        return Mutation(base, family, "filter", (draw(dataset), how))
    if family == "format and version":
        name = draw(st.sampled_from(["format", "format_version"]))
        value = draw(
            st.sampled_from(
                ["neuralpde-solution", "neuralpde-reference", "neuralpde", "", 1, 2, 0, -1]
                + [1.5, "1", np.uint8(1), 2**70 // 2**10, np.float64(1.0), True]
            )
        )
        return Mutation(base, family, "set-attr", ("/", name, value))
    if family == "NaN weights" and base == "solution":
        params = [d for d in lay.datasets if d.startswith("/model/parameters/")]
        how = draw(st.sampled_from(["nan", "inf", "-inf"]))
        return Mutation(base, family, "values", (draw(st.sampled_from(params)), how, draw(offset)))
    if family == "/u replaced by /exact" and base == "solution":
        return Mutation(base, family, "u-exact", (draw(st.sampled_from(["values", "link"])),))
    if family == "extra entries":
        how = draw(st.sampled_from(["group", "dataset", "cycle", "param", "attrs", "many"]))
        return Mutation(base, family, "extra", (how,))
    if family == "crafted with a valid digest":
        parts = {
            "solution": ["parameters", "architecture", "dtype", "coords", "u", "problem"]
            + ["training", "metrics"],
            "reference": ["convergence", "settings", "problem", "u", "coords", "table"],
        }
        part = draw(st.sampled_from(parts[base]))
        return Mutation(base, family, "crafted", (part, draw(offset), draw(JSON_VALUES)))
    # the families above for solution files only, drawn for a reference: its /u's values
    return Mutation(base, "dataset values changed", "values", ("/u", "nan", draw(offset)))


class Sentinel:
    """Files that crafted links and storage point at, and a watch of every open of them
    (inotify on Linux; else their access times), so that a reader that follows a link is
    caught even when HDF5's C library opens the file."""

    IN_ACCESS, IN_OPEN = 0x1, 0x20

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.hdf5 = folder / "other.h5"
        with h5py.File(self.hdf5, "w") as f:
            f["u"] = np.ones((6, 6))
            f["d"] = np.ones((6, 6))
        self.raw = folder / "values.bin"
        self.raw.write_bytes(np.ones(4096).tobytes())
        self.digest = self._contents()
        self.fd = -1
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
            if (
                fd >= 0
                and libc.inotify_add_watch(fd, os.fsencode(folder), self.IN_OPEN | self.IN_ACCESS)
                >= 0
            ):
                self.fd = fd
        except (OSError, AttributeError):
            pass
        self.atimes = self._atimes()

    def _contents(self) -> str:
        h = hashlib.sha256()
        for p in sorted(self.folder.iterdir()):
            h.update(p.read_bytes())
        return h.hexdigest()

    def _atimes(self) -> dict[str, int]:
        old = 10**9  # 2001: relatime updates an access time this old on the next read
        for p in self.folder.iterdir():
            os.utime(p, ns=(old * 10**9, p.stat().st_mtime_ns))
        return {p.name: p.stat().st_atime_ns for p in self.folder.iterdir()}

    def opened(self) -> list[str]:
        """The sentinel files opened since the last call (names)."""
        names = []
        if self.fd >= 0:
            while True:
                try:
                    data = os.read(self.fd, 65536)
                except BlockingIOError:
                    break
                i = 0
                while i + 16 <= len(data):
                    _, mask, _, size = struct.unpack_from("iIII", data, i)
                    name = data[i + 16 : i + 16 + size].rstrip(b"\0").decode(errors="replace")
                    names.append(name or "(the folder)")
                    i += 16 + size
        else:
            now = {p.name: p.stat().st_atime_ns for p in self.folder.iterdir()}
            names = [k for k, v in now.items() if v != self.atimes.get(k)]
            if names:
                self.atimes = self._atimes()
        return names

    def intact(self) -> bool:
        return self._contents() == self.digest


def _node_paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _node_paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _node_paths(v, (*prefix, i))
    return out


def _edit_json(doc: Any, how: str, where: float, new: Any) -> Any:
    """``doc`` with the node chosen by ``where`` (a fraction) replaced, deleted, given a new
    key or wrapped in a list."""
    paths = _node_paths(doc)
    path = paths[int(where * len(paths))]
    if not path:
        return [doc] if how == "wrap" else new
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    if how == "replace":
        parent[key] = new
    elif how == "delete":
        del parent[key]
    elif how == "wrap":
        parent[key] = [parent[key]]
    elif isinstance(parent[key], dict):
        parent[key]["fuzz"] = new
    elif isinstance(parent[key], list):
        parent[key].append(new)
    else:
        parent[key] = {"fuzz": parent[key]}
    return doc


def _replace(f: h5py.File, name: str, **create: Any) -> h5py.Dataset:
    del f[name]
    return f.create_dataset(name, **create)


def _retyped(data: np.ndarray, dtype: str) -> dict[str, Any]:
    if dtype == "vlen-str":
        return {"data": np.asarray(data).astype(str).astype(object), "dtype": h5py.string_dtype()}
    if dtype == "compound":
        out = np.zeros(np.shape(data), dtype=[("a", "f8"), ("b", "i4")])
        out["a"] = np.asarray(data, dtype=float)
        return {"data": out}
    if dtype == "enum":
        kind = h5py.enum_dtype({"zero": 0, "one": 1}, basetype="i1")
        return {"data": np.zeros(np.shape(data), dtype="i1"), "dtype": kind}
    with np.errstate(all="ignore"):
        return {"data": np.asarray(data).astype(dtype)}


def apply(m: Mutation, path: Path, sentinel: Sentinel) -> str | None:
    """Apply ``m`` to the file at ``path``; returns ``None``, or why the change could not be
    made (an entry the base file lacks in that form): the file is then checked unchanged."""
    if m.op in ("flip", "truncate", "append", "overwrite"):
        data = bytearray(path.read_bytes())
        if m.op == "flip":
            for where, mask in m.args:
                data[int(where * len(data))] ^= mask
        elif m.op == "truncate":
            del data[int(m.args[0] * len(data)) :]
        elif m.op == "append":
            data += m.args[0]
        else:
            at = int(m.args[0] * len(data))
            data[at : at + len(m.args[1])] = m.args[1]
        path.write_bytes(bytes(data))
        return None
    if m.op == "crafted":
        return _craft(m, path)
    try:
        with h5py.File(path, "a") as f:
            return _edit(f, m, sentinel)
    except (OSError, RuntimeError, ValueError, TypeError, KeyError) as exc:
        # h5py would not make the change (a NUL in a string, say): the file as far as it went
        return f"h5py refused the change ({type(exc).__name__})"


def _edit(f: h5py.File, m: Mutation, sentinel: Sentinel) -> str | None:
    op, args = m.op, m.args
    if op == "delete":
        del f[args[0]]
    elif op == "rename":
        source, name = args
        parent = source.rsplit("/", 1)[0] or "/"
        target = f"{parent.rstrip('/')}/{name}"
        if target in f:
            del f[target]
        f.move(source, target)
    elif op == "swap":
        a, b = args
        if a == b:
            return "the same dataset twice"
        f.move(a, a + ".swap")
        f.move(b, a)
        f.move(a + ".swap", b)
    elif op == "retype":
        name, dtype = args
        _replace(f, name, **_retyped(f[name][()], dtype))
    elif op == "reshape":
        name, how = args
        data = np.asarray(f[name][()])
        if how == "transpose":
            data = data.T if data.ndim > 1 else data[::-1]
        elif how == "flatten":
            data = data.reshape(-1)
        elif how == "add-dim":
            data = data[None]
        elif how == "scalar":
            data = data.reshape(-1)[0] if data.size else np.float64(0)
        elif how == "empty":
            data = data.reshape(-1)[:0]
        elif how == "shorter":
            data = data[:-1] if data.ndim and len(data) else data
        else:
            data = np.concatenate([data, data[:1]]) if data.ndim and len(data) else data
        _replace(f, name, data=data)
    elif op == "values":
        name, how, where = args
        data = np.array(f[name][()])
        if data.dtype.kind not in "iuf" or data.size == 0:
            return "not a numeric dataset"
        flat = data.reshape(-1)
        i = int(where * flat.size)
        with np.errstate(all="ignore"):
            if data.dtype.kind == "f":
                new = {
                    "nan": NAN,
                    "inf": INF,
                    "-inf": -INF,
                    "huge": 1e300,
                    "zero": 0.0,
                    "negate": -flat[i],
                    "ulp": np.nextafter(flat[i], INF),
                    "tiny": 5e-324,
                }[how]
            else:
                new = {"huge": np.iinfo(data.dtype).max, "negate": -flat[i], "zero": 0}.get(
                    how, flat[i] + 1
                )
            flat[i] = new
        f[name][...] = data
    elif op == "kind":
        name = args[0]
        if isinstance(f[name], h5py.Dataset):
            del f[name]
            f.create_group(name)
        else:
            del f[name]
            f[name] = np.zeros(3)
    elif op == "del-attr":
        obj, name = args
        del f[obj].attrs[name]
    elif op == "set-attr":
        obj, name, value = args
        f[obj].attrs[name] = value
    elif op == "json":
        obj, name, how, where, new = args
        doc = json.loads(f[obj].attrs[name])
        doc = _edit_json(doc, how, where, new)
        f[obj].attrs[name] = json.dumps(doc)
    elif op == "json-raw":
        obj, name, text = args
        f[obj].attrs[name] = text
    elif op == "huge":
        name, log2, how = args
        n = 2**log2
        if how == "contiguous":  # space is allocated when written: never
            _replace(f, name, shape=(n,), dtype="f8")
        elif how == "chunked-2d":
            side = 2 ** (log2 // 2)
            _replace(f, name, shape=(side, side), chunks=(64, 64), dtype="f8")
        else:
            extra = {"compression": "gzip"} if how == "gzip" else {}
            _replace(f, name, shape=(n,), maxshape=(None,), chunks=(4096,), dtype="f8", **extra)
    elif op == "softlink":
        name, target = args
        del f[name]
        f[name] = h5py.SoftLink(name if target == "self" else target)
    elif op == "extlink":
        name, target = args
        del f[name]
        f[name] = h5py.ExternalLink(str(sentinel.hdf5), target)
    elif op == "external":
        name = args[0]
        old = f[name]
        shape, dtype = old.shape or (1,), old.dtype if old.dtype.kind in "iuf" else "f8"
        size = math.prod(shape) * np.dtype(dtype).itemsize
        if size > sentinel.raw.stat().st_size:
            return "larger than the sentinel's raw file"
        _replace(f, name, shape=shape, dtype=dtype, external=[(str(sentinel.raw), 0, size)])
    elif op == "virtual":
        name = args[0]
        layout = h5py.VirtualLayout(shape=(6, 6), dtype="f8")
        layout[...] = h5py.VirtualSource(str(sentinel.hdf5), "d", shape=(6, 6))
        del f[name]
        f.create_virtual_dataset(name, layout, fillvalue=0)
    elif op == "filter":
        name, how = args
        old = np.asarray(f[name][()])
        shape = old.shape or (1,)
        if how == "plugin":
            ds = _replace(
                f,
                name,
                shape=shape,
                chunks=shape,
                dtype="f8",
                compression=32015,
                allow_unknown_filter=True,
            )
            ds.id.write_direct_chunk((0,) * len(shape), np.zeros(shape).tobytes())
        elif how == "corrupt-gzip":
            ds = _replace(f, name, shape=shape, chunks=shape, dtype="f8", compression="gzip")
            ds.id.write_direct_chunk((0,) * len(shape), b"not deflate data")
        elif how == "huge-chunks":
            _replace(
                f,
                name,
                shape=shape,
                dtype="f8",
                maxshape=(None,) * len(shape),
                chunks=(4096,) * len(shape),
            )
        elif how == "bomb":  # 64 chunks of 1 MiB of zeros, each stored compressed in ~1 kB
            chunk = 2**17
            packed = __import__("zlib").compress(bytes(8 * chunk), 9)
            ds = _replace(f, name, shape=(64 * chunk,), chunks=(chunk,), dtype="f8", compression=1)
            for i in range(64):
                ds.id.write_direct_chunk((i * chunk,), packed)
        else:
            _replace(f, name, data=old, chunks=shape if old.shape else None, fletcher32=True)
    elif op == "u-exact":
        if args[0] == "values":
            f["u"][...] = f["exact"][()]
        else:
            del f["u"]
            f["u"] = f["exact"]
    elif op == "extra":
        how = args[0]
        if how == "group":
            f.create_group("extra/deeper")
        elif how == "dataset":
            f["extra"] = np.arange(10)
        elif how == "cycle":
            g = f.create_group("extra")
            g["again"] = g
            f["model" if "model" in f else "convergence"]["back"] = f["/"]
        elif how == "param":
            where = "model/parameters" if "model" in f else "convergence"
            f[f"{where}/extra"] = np.zeros(3)
        elif how == "attrs":
            target = f["metrics"] if "metrics" in f else f["convergence"]
            for i in range(40):
                target.attrs[f"extra{i}"] = "x" if i % 2 else float(i)
        else:
            for i in range(300):
                f.create_group(f"extra/g{i}")
    else:
        return f"unknown operation {op}"
    return None


def _craft(m: Mutation, path: Path) -> str | None:
    """Rewrite ``path`` with neuralpde's own writer from its record with one part changed: a
    file whose digest matches what it holds (crafted, not damaged)."""
    part, where, new = m.args
    if m.base == "solution":
        rec = read_solution(path)
        rec = json.loads(json.dumps(rec, default=_plain_json)) | {
            k: rec[k] for k in ("coords", "u", "exact", "parameters")
        }
        if part == "parameters":
            names = sorted(rec["parameters"])
            name = names[int(where * len(names))]
            value = np.array(rec["parameters"][name])
            flat = value.reshape(-1)
            choice = int(where * 1000) % 6
            if choice == 0 and value.dtype.kind == "f":
                flat[0] = NAN
            elif choice == 1:
                value = value.astype(np.float32)
            elif choice == 2:
                value = value.reshape(-1)[:-1] if value.size > 1 else np.zeros(5)
            elif choice == 3:
                value = np.round(value).astype(np.int64)
            elif choice == 4:
                rec["parameters"]["extra.weight"] = np.zeros(2)
            else:
                del rec["parameters"][name]
            if choice not in (4, 5):
                rec["parameters"][name] = value
        elif part in ("architecture", "problem", "training"):
            key = {"problem": "problem", "architecture": "architecture", "training": "training"}
            rec[key[part]] = _edit_json(rec[key[part]], "replace", where, new)
        elif part == "dtype":
            rec["dtype"] = new if isinstance(new, str) else "float32"
        elif part == "coords":
            name = sorted(rec["coords"])[0]
            rec["coords"][name] = np.asarray(rec["coords"][name])[::-1].copy()
        elif part == "u":
            rec["u"] = np.full_like(rec["u"], NAN)
        elif part == "metrics":
            rec["metrics"] = {"relative_l2": NAN, "fuzz": 1e308}
        else:
            return "a reference part drawn for a solution"
        try:
            write_solution(
                path,
                coords=rec["coords"],
                values=rec["u"],
                exact=rec["exact"],
                architecture=rec["architecture"]
                if isinstance(rec["architecture"], dict)
                else {"value": rec["architecture"]},
                parameters=rec["parameters"],
                dtype=str(rec["dtype"]),
                problem=rec["problem"] if isinstance(rec["problem"], dict) else {"p": 1},
                training=rec["training"] if isinstance(rec["training"], dict) else {},
                metrics=rec["metrics"],
                provenance={"versions": rec["versions"], "platform": rec["platform"]},
            )
        except (ValueError, TypeError) as exc:
            return f"the writer refused it ({type(exc).__name__})"
        return None
    rec = read_reference(path)
    conv = dict(rec["convergence"])
    settings_ = rec["settings"]
    problem = rec["problem"]
    values = rec["u"]
    if part == "convergence":
        keys = ["estimated_error", "observed_order", "order", "ratio", "gci", "scheme"]
        key = keys[int(where * len(keys))]
        conv[key] = new if isinstance(new, (int, float)) and not isinstance(new, bool) else NAN
    elif part == "settings":
        settings_ = _edit_json(settings_, "replace", where, new)
    elif part == "problem":
        problem = _edit_json(problem, "replace", where, new)
    elif part == "u":
        values = np.full_like(values, NAN)
    elif part == "coords":
        name = sorted(rec["coords"])[0]
        rec["coords"][name] = np.asarray(rec["coords"][name])[::-1].copy()
    else:
        conv["table"] = conv["table"][:1] if where < 0.5 else []
    try:
        write_reference(
            path,
            coords=rec["coords"],
            values=values,
            convergence=conv,
            problem=problem if isinstance(problem, dict) else {"p": problem},
            settings=settings_ if isinstance(settings_, dict) else {"s": settings_},
            provenance={"versions": rec["versions"], "platform": rec["platform"]},
        )
    except (ValueError, TypeError, KeyError) as exc:
        return f"the writer refused it ({type(exc).__name__})"
    return None


def _plain_json(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


# -- checking a damaged file ---------------------------------------------------------------------


class _LogRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclasses.dataclass
class FileCampaign:
    """The base files, what their readers give, and the checks of each damaged copy."""

    folder: Path
    solution: Path
    reference: Path
    sentinel: Sentinel
    layouts: dict[str, Layout]
    points: np.ndarray
    original: np.ndarray
    original_names: tuple[str, ...]
    reference_arrays: dict[str, np.ndarray]
    tally: Tally = dataclasses.field(default_factory=Tally)
    examples: int = 0
    opened: list[str] = dataclasses.field(default_factory=list)

    @classmethod
    def create(cls, folder: Path) -> FileCampaign:
        folder.mkdir(parents=True, exist_ok=True)
        solution, reference, _ = make_base_files(folder / "base")
        sentinel = Sentinel(folder / "sentinel")
        points = np.random.default_rng(7).random((64, 2))
        field = npde.load(solution)
        ref = load_reference(reference)
        campaign = cls(
            folder=folder,
            solution=solution,
            reference=reference,
            sentinel=sentinel,
            layouts={"solution": Layout.of(solution), "reference": Layout.of(reference)},
            points=points,
            original=field(points),
            original_names=tuple(field.names),
            reference_arrays={
                "names": np.array(ref.names),
                "values": np.asarray(ref.values),
                **{f"axis{i}": np.asarray(a) for i, a in enumerate(ref.axes)},
            },
        )
        campaign._install_open_hook()
        return campaign

    def _install_open_hook(self) -> None:
        """Record Python-level opens of files in the campaign's folder (an audit hook)."""
        folder = str(self.folder.resolve())

        def hook(event: str, args: tuple) -> None:
            if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
                name = os.fsdecode(args[0])
                if name.startswith(folder) or name.startswith(str(self.folder)):
                    self.opened.append(name)

        sys.addaudithook(hook)

    def run_one(self, m: Mutation, stop: bool = False) -> None:
        """Make the damaged copy of ``m``, check it with every reader and the command line,
        and count the outcomes (a finding is raised with ``stop``, else recorded)."""
        self.examples += 1
        if os.environ.get("NEURALPDE_FUZZ_TRACE"):  # which example a hard crash or hang was
            rss = max_rss_bytes() // 2**20
            print(f"example {self.examples} ({rss} MiB): {m!r}", file=sys.__stderr__, flush=True)
        path = self.folder / f"mutated-{self.examples}.h5"
        shutil.copyfile(self.solution if m.base == "solution" else self.reference, path)
        try:
            skipped = apply(m, path, self.sentinel)
            self.sentinel.opened()  # writing the links opens nothing, but start afresh
            self.opened.clear()
            outcome = self.examine(path, m, crafted=m.op == "crafted")
            if skipped is not None:
                outcome += f" ({'writer refused' if 'writer' in skipped else 'unchanged'})"
            self.tally.add(m.family, outcome)
        except FindingError as exc:
            self.tally.add(m.family, exc.kind)
            self.tally.findings.append(f"{m!r}: {exc}")
            if stop:
                raise
        finally:
            path.unlink(missing_ok=True)

    def _foreign(self, path: Path, what: str) -> None:
        opened = self.sentinel.opened()
        others = [
            p
            for p in self.opened
            if os.path.realpath(p)
            not in {str(path.resolve()), str(self.solution.resolve())}
            | {str(self.reference.resolve())}
        ]
        self.opened.clear()
        if opened or others:
            raise FindingError("foreign open", f"{what} opened {sorted(set(opened + others))}")

    def examine(self, path: Path, m: Mutation, crafted: bool) -> str:
        """Every reader and the command line on ``path``; the outcome of its own reader."""
        p = str(path)
        calls = [
            ("load", lambda: npde.load(p), (FormatError,)),
            ("read_solution", lambda: read_solution(p), (FormatError,)),
            ("load_reference", lambda: load_reference(p), (FormatError,)),
            ("read_reference", lambda: read_reference(p), (FormatError,)),
            ("file_kind", lambda: file_kind(p), (FormatError,)),
            ("read_grid", lambda: read_grid(p, "u"), (FormatError, KeyError)),
            ("GridData.from_file", lambda: npde.GridData.from_file(p), (ValueError, KeyError)),
        ]
        for name, call, allowed in calls:
            self.tally.add("reader calls", call_api(f"{name}({m!r})", call, allowed))
            self._foreign(path, f"{name} of {m!r}")
        outcome = (
            self._solution_outcome(path, m, crafted)
            if m.base == "solution"
            else self._reference_outcome(path, m, crafted)
        )
        self._foreign(path, f"validate of {m!r}")
        argvs = [["info", p, *(["--json"] if self.examples % 2 else [])]]
        if m.base == "solution":
            argvs.append(["validate", p, "--exact", "--tol", "0.5"])
        else:
            argvs.append(["validate", str(self.solution), "--reference", p, "--tol", "10"])
        for argv in argvs:
            self.tally.add("command-line calls", check_cli(argv))
            self._foreign(path, f"neuralpde {argv[0]} of {m!r}")
        if not self.sentinel.intact():
            raise FindingError("foreign open", f"a sentinel file changed after {m!r}")
        return outcome

    def _solution_outcome(self, path: Path, m: Mutation, crafted: bool) -> str:
        logs = _LogRecords()
        logger = logging.getLogger("neuralpde")
        logger.addHandler(logs)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    field = npde.load(path)
                except FormatError:
                    return "refused"
                # the network, judged at the same points in the original's column order
                names = tuple(field.names)
                if sorted(names) != sorted(self.original_names):
                    values = None
                else:
                    cols = [self.original_names.index(n) for n in names]
                    values = field(self.points[:, cols])
                same = values is not None and np.array_equal(values, self.original, equal_nan=True)
                verdict = call_api(
                    f"validate({m!r})",
                    lambda: validate(field, exact=True, tol=0.5),
                    ARGUMENT_ERRORS,
                )
                self.tally.add("validate calls", verdict)
        finally:
            logger.removeHandler(logs)
        if same:
            return "loaded, same network"
        if crafted:
            return "crafted, loaded"
        warned = field.record.get("content_sha256") is None and any(
            "no content digest" in r.getMessage() for r in logs.records
        )
        if warned:
            return "loaded, no digest (warned)"
        raise FindingError(
            "silent wrong network",
            f"{m!r} loads without a warning, but its network differs from the original's "
            f"(names {names}, validate: {verdict})",
        )

    def _reference_outcome(self, path: Path, m: Mutation, crafted: bool) -> str:
        logs = _LogRecords()
        logger = logging.getLogger("neuralpde")
        logger.addHandler(logs)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    ref = load_reference(path)
                except FormatError:
                    return "refused"
                field = npde.load(self.solution)
                self.tally.add(
                    "validate calls",
                    call_api(
                        f"validate(reference={m!r})",
                        lambda: validate(field, reference=ref, tol=10.0),
                        ARGUMENT_ERRORS,
                    ),
                )
        finally:
            logger.removeHandler(logs)
        arrays = {
            "names": np.array(ref.names),
            "values": np.asarray(ref.values),
            **{f"axis{i}": np.asarray(a) for i, a in enumerate(ref.axes)},
        }
        same = arrays.keys() == self.reference_arrays.keys() and all(
            np.array_equal(arrays[k], self.reference_arrays[k], equal_nan=k != "names")
            for k in arrays
        )
        if same:
            return "loaded, same values"
        if crafted:
            return "crafted, loaded"
        if any("no content digest" in r.getMessage() for r in logs.records):
            return "loaded, no digest (warned)"
        raise FindingError(
            "silent wrong network",
            f"{m!r}: the reference loads without a warning, but its grid or values differ",
        )


def max_rss_bytes(who: int = resource.RUSAGE_SELF) -> int:
    """Peak resident memory of this process (or its waited-for children), in bytes."""
    peak = resource.getrusage(who).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def run_file_campaign(
    folder: Path,
    examples: int,
    seed: int | None = None,
    stop: bool = False,
    seconds: float = CALL_SECONDS,
) -> dict[str, Any]:
    """Check ``examples`` damaged or crafted copies of the base files; returns the tally, the
    number of files and the peak memory before and after (bytes). ``seed=None``: hypothesis's
    fixed derandomized sequence; ``stop``: raise the first finding (hypothesis shrinks it)."""
    route_logging_to_stderr()
    logging.getLogger().setLevel(logging.WARNING)
    faulthandler.enable()
    started = time.perf_counter()
    campaign = FileCampaign.create(folder)
    baseline = max_rss_bytes()

    @settings(
        max_examples=examples,
        derandomize=seed is None,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate, Phase.shrink] if stop else [Phase.generate],
    )
    @given(mutations(campaign.layouts))
    def damaged_files_are_refused_or_read_right(m: Mutation) -> None:
        # a hang in C code (HDF5) is not interrupted by the alarm: dump the stacks and exit
        faulthandler.dump_traceback_later(4 * seconds, exit=True)
        try:
            with time_limit(4 * seconds):
                campaign.run_one(m, stop=stop)
        except HangError as exc:
            campaign.tally.add(m.family, "hang")
            campaign.tally.findings.append(f"{m!r}: hang: {exc}")
            if stop:
                raise FindingError("hang", f"{m!r}: {exc}") from None
        finally:
            faulthandler.cancel_dump_traceback_later()

    test = damaged_files_are_refused_or_read_right
    if seed is not None:
        test = hypothesis_seed(seed)(test)
    test()
    return {
        "files": campaign.examples,
        "tally": campaign.tally.as_json(),
        "baseline_rss": baseline,
        "peak_rss": max_rss_bytes(),
        "seconds": time.perf_counter() - started,
        "inotify": campaign.sentinel.fd >= 0,
    }


def _main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzzing")
    ap.add_argument("what", choices=["files"])
    ap.add_argument("--examples", type=int, default=500)
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: derandomized)")
    ap.add_argument("--folder", required=True)
    ap.add_argument("--stop", action="store_true", help="stop at the first finding, shrunk")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    result = run_file_campaign(Path(args.folder), args.examples, args.seed, args.stop)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
