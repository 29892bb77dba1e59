r"""The error estimate every solution carries.

A trained field's error is not its loss. Where the finite-difference referee
(:mod:`neuralpde.reference`) can solve the problem, :func:`estimate_error` computes a small
convergence study (four nested grids, Richardson-extrapolated where the scheme allows) and
compares the network with it at the finest nodes:

.. math::

    d = \frac{\lVert u_\theta - u_h \rVert}{\lVert u_h \rVert}, \qquad
    \lvert e - d \rvert \le E_h ,

with :math:`e` the network's relative :math:`L^2` error and :math:`E_h` the reference's own
estimated error. When :math:`d \ge 3E_h` the difference *is* the error to within a third, and
it is reported as the estimate. Below that the grids cannot tell the network's error apart from
their own, and only the bound :math:`e \le d + E_h` is reported ("cannot tell below").

Where the referee does not apply (more than three space dimensions, conditions or domains it
does not handle), the estimate is an **indicator**, not an error: the root-mean-square residual
of the equation and of each condition that is not built into the field, at fresh quasi-random
points that training never saw.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Iterator
from typing import Any

import torch

from .engine import field_values
from .operators import residual_values
from .reference import convergence_study
from .sampling import SobolSampler
from .solution import Solution
from .training.loss import condition_defect, make_batch
from .validate import validate

__all__ = ["ErrorEstimate", "estimate_error"]

log = logging.getLogger("neuralpde")

_RESOLVED = 3.0  # d >= 3 E_h: the difference is the error to within a third
_INDICATOR_POINTS = 4096
#: coarsest grid per space dimension (four levels: the finest has 8x the intervals)
_COARSE = {1: 32, 2: 16, 3: 4}
_COARSE_TIMED = {1: 16, 2: 8}


@dataclasses.dataclass(frozen=True)
class ErrorEstimate:
    """A solution's estimated error (see the module's docstring).

    ``kind`` is ``"estimate"`` (``value`` is the estimated relative L2 error), ``"bound"``
    (the grids cannot resolve it: the error is at most ``value``) or ``"indicator"`` (``value``
    is the RMS residual of the equation, ``defects`` those of the soft conditions: not
    errors)."""

    kind: str
    value: float
    reference_error: float | None = None
    grid: str | None = None
    defects: dict[str, float] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    note: str = ""

    def describe(self) -> dict[str, Any]:
        """The record stored in a solution file (JSON)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v not in (None, "", {})}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ErrorEstimate:
        """The estimate a file stores (:meth:`describe`); ``ValueError`` for a damaged one."""
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(record, dict) or not set(record) <= names or "kind" not in record:
            raise ValueError(f"not an error estimate record: {record!r:.200}")
        if record["kind"] not in ("estimate", "bound", "indicator"):
            raise ValueError(f"unknown error estimate kind {record['kind']!r:.50}")
        return cls(**record)

    def summary(self) -> str:
        """One line for people."""
        if self.kind == "estimate":
            return (
                f"estimated error {self.value:.1e} (relative L2, against a finite-difference "
                f"study on {self.grid}, its own error {self.reference_error:.1e})"
            )
        if self.kind == "bound":
            return (
                f"error at most {self.value:.1e} (relative L2): a finite-difference study on "
                f"{self.grid} (its own error {self.reference_error:.1e}) cannot tell it more "
                "closely"
            )
        parts = ", ".join(f"{k} {v:.1e}" for k, v in self.defects.items())
        return (
            f"error indicator (not an error): RMS residual {self.value:.1e}"
            + (f"; RMS defects {parts}" if parts else "")
            + (f" ({self.note})" if self.note else "")
        )


def estimate_error(solution: Solution, seed: int = 0) -> ErrorEstimate:
    """The error estimate of ``solution`` (a live :class:`~neuralpde.Solution`): a
    finite-difference cross-check where the referee applies, else an indicator."""
    if not isinstance(solution, Solution):
        raise TypeError(
            f"solution must be a neuralpde.Solution (from neuralpde.solve), got "
            f"{type(solution).__name__}"
        )
    started = time.perf_counter()
    spec = solution.spec
    space = spec.space_dim
    coarse = (_COARSE_TIMED if spec.time_index is not None else _COARSE).get(space)
    why = f"the finite-difference referee has no {space}-D grids here"
    if coarse is not None:
        try:
            return _cross_check(solution, coarse, started)
        except (NotImplementedError, ValueError) as exc:  # the referee refuses the problem
            why = " ".join(str(exc).split())
            log.debug("no finite-difference cross-check: %s", why)
    return _indicator(solution, seed, started, why)


def _cross_check(solution: Solution, coarse: int, started: float) -> ErrorEstimate:
    problem = solution.problem
    with _quiet(logging.getLogger("neuralpde.reference")):  # its levels are not the user's news
        try:
            ref = convergence_study(problem, n=coarse, levels=4, extrapolate=True)
        except (NotImplementedError, ValueError):  # extrapolation is not offered everywhere
            ref = convergence_study(problem, n=coarse, levels=4)
    result = validate(solution, reference=ref)
    d, e_h = float(result.metrics["relative_l2"]), float(result.reference_error)
    if not (math.isfinite(d) and math.isfinite(e_h)):
        raise ValueError(f"the cross-check is not finite (difference {d}, reference {e_h})")
    grid = "x".join(str(len(a)) for a in ref.axes)
    seconds = time.perf_counter() - started
    if d >= _RESOLVED * e_h:
        return ErrorEstimate("estimate", d, e_h, grid, seconds=seconds)
    return ErrorEstimate("bound", d + e_h, e_h, grid, seconds=seconds)


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    """``logger``'s information records dropped for the duration (warnings still pass)."""

    def drop(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING

    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


def _indicator(solution: Solution, seed: int, started: float, why: str) -> ErrorEstimate:
    problem = solution.problem
    net = solution.net
    built = set(solution.architecture.get("constraint", {}).get("built_in", []))
    n = _INDICATOR_POINTS
    draw = SobolSampler(n_interior=n, n_boundary=n // 4, n_initial=n // 4).draw(
        problem,
        seed,
        2**20,  # a round that training never draws
    )
    p = next(net.parameters())
    batch = make_batch(problem, draw, p.dtype, p.device)
    with torch.enable_grad():
        x = batch.interior
        u = field_values(net, x, problem.domain.names, problem.time_index, None, "autograd")
        r = residual_values(problem.residual(u, x), x.shape[0]).detach()
    value = float(torch.sqrt(torch.mean(r**2)))
    defects = {}
    normals = batch.condition_normals or (None,) * len(problem.conditions)
    for i, cond in enumerate(problem.conditions):
        if i in built:
            continue
        pts, target = batch.condition_points[i], batch.condition_targets[i]
        with torch.enable_grad():
            e = condition_defect(net, problem, cond, pts, target, normals[i], "autograd")
        defects[f"{i}:{type(cond).__name__}"] = float(torch.sqrt(torch.mean(e.detach() ** 2)))
    seconds = time.perf_counter() - started
    return ErrorEstimate("indicator", value, defects=defects, seconds=seconds, note=why)
