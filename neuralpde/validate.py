r"""Validate a solution against a finite-difference reference or against its exact solution.

:func:`validate` compares a stored (or in-memory) solution with

* a reference (:func:`neuralpde.reference.convergence_study`, or a reference file): the network is
  evaluated exactly at the reference grid's nodes, nothing is interpolated; the reference's own
  estimated error is reported beside the metrics, since an error below a few times it cannot be
  resolved;
* the exact solution stored in the solution file, on the file's grid (for an in-memory
  :class:`~neuralpde.Solution`, its problem's exact solution on the dense grid).

Metrics (:mod:`neuralpde.metrics`): relative :math:`L^2`, relative max, RMSE, and the RMSE by
frequency band (:func:`~neuralpde.metrics.band_errors`), absolute and relative.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import metrics
from .problem import differing_mathematics
from .reference import ReferenceSolution, load_reference, nodes_inside
from .solution import SavedField, Solution, SolvedField, load

__all__ = ["ValidationResult", "validate"]

log = logging.getLogger("neuralpde.validate")

_METRIC_LABELS = {
    "relative_l2": "relative L2",
    "relative_max": "relative max",
    "rmse": "RMSE",
}


@dataclass(frozen=True, eq=False)
class ValidationResult:
    """The outcome of :func:`validate`.

    ``against`` is ``"reference"`` or ``"exact"``; ``metrics`` holds ``relative_l2``,
    ``relative_max``, ``rmse``, ``frmse_low|mid|high`` and ``relative_frmse_low|mid|high``;
    ``reference_error`` is the reference's estimated relative L2 error (0 for the exact
    solution); ``passed`` is ``relative_l2 <= tol``, or ``None`` without a tolerance. ``u`` and
    ``ref`` are the compared values on the grid of ``axes`` (coordinates ``names``; time last
    when ``time_axis`` is set), for plots. ``reference_info`` is the reference's
    :meth:`~neuralpde.reference.ReferenceSolution.describe` (scheme, orders, convergence table).
    """

    against: str
    metrics: dict[str, float]
    reference_error: float
    tol: float | None
    passed: bool | None
    names: tuple[str, ...]
    axes: tuple[np.ndarray, ...]
    u: np.ndarray
    ref: np.ndarray
    time_axis: int | None
    problem: str
    solution_path: str | None = None
    reference_path: str | None = None
    reference_info: dict | None = None
    notes: tuple[str, ...] = ()

    @property
    def error(self) -> np.ndarray:
        """``u - ref`` on the grid."""
        return self.u - self.ref

    @property
    def observed_order(self) -> float | None:
        """The reference's observed order of convergence (``None`` against the exact solution)."""
        return None if self.reference_info is None else self.reference_info["observed_order"]

    def summary(self) -> str:
        """The metrics, the reference's estimated error and the verdict, as text."""
        m = self.metrics
        if self.against == "reference":
            info = self.reference_info or {}
            n = "x".join(str(v) for v in info.get("n", ()))
            src = f"reference {self.reference_path}" if self.reference_path else "reference"
            against = (
                f"{src} ({info.get('scheme', '?')}; values on n={n}, observed order "
                f"{_fmt_order(info.get('observed_order'))})"
            )
        else:
            # an in-memory Solution is compared with its problem's exact solution, not a file's
            stored = " stored in the solution file" if self.solution_path else ""
            against = f"the exact solution{stored}"
        grid = " x ".join(
            f"{nm}[{a.min():g}, {a.max():g}]:{len(a)}"
            for nm, a in zip(self.names, self.axes, strict=True)
        )
        lines = [
            f"problem:            {self.problem}",
            f"solution:           {self.solution_path or '(in memory)'}",
            f"against:            {against}",
            f"grid:               {grid}",
        ]
        for key, label in _METRIC_LABELS.items():
            lines.append(f"{label + ':':<20}{m[key]:.3e}")
        why = (
            "the reference's own estimated relative L2 error"
            if self.against == "reference"
            else "exact solution"
        )
        lines.append(f"{'reference error:':<20}{self.reference_error:.3e} ({why})")
        for band, label in (("low", "|k| <= 4"), ("mid", "5 <= |k| <= 12"), ("high", "|k| >= 13")):
            lines.append(
                f"{'fRMSE ' + band + ':':<20}{m['frmse_' + band]:.3e} "
                f"(relative {m['relative_frmse_' + band]:.3e}; {label})"
            )
        lines.append(f"{'result:':<20}{self.verdict()}")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    def verdict(self) -> str:
        """``PASS``/``FAIL`` with the comparison, or why there is none."""
        if self.tol is None:
            return "not judged (no tolerance given)"
        err = self.metrics["relative_l2"]
        if self.passed:
            return f"PASS: relative L2 {err:.3e} <= tol {self.tol:.3e}"
        return f"FAIL: relative L2 {err:.3e} > tol {self.tol:.3e}"


def _fmt_order(p: Any) -> str:
    return f"{p:.2f}" if isinstance(p, (int, float)) and math.isfinite(p) else str(p)


def _as_solution(solution: Any) -> SolvedField:
    """``solution`` as a :class:`~neuralpde.solution.SolvedField`: a path is loaded (the
    field then knows its file), a saved or in-memory solution is taken as it is."""
    if isinstance(solution, (str, os.PathLike)):
        solution = load(solution)
    if isinstance(solution, SolvedField):
        return solution
    raise TypeError(
        "solution must be a path to a solution file, a SavedField (neuralpde.load) or a "
        f"Solution (neuralpde.solve), got {type(solution).__name__}"
    )


# A measured difference under this multiple of the reference's estimated error is not
# resolved by the comparison.
_RESOLVE = 3.0


def _check_grid(
    sol: SolvedField, names: Sequence[str], axes: Sequence[np.ndarray], ref_label: str
) -> list[str]:
    """Raise ``ValueError`` unless the reference grid lies in the solution's domain."""
    sol_label = f"solution {sol.path!r}" if sol.path else "the solution"
    if tuple(names) != sol.names:
        raise ValueError(
            f"{ref_label} has coordinates {tuple(names)} but {sol_label} has {sol.names}: "
            "they do not describe the same domain"
        )
    notes = []
    partial = False
    lower, upper = sol.bounds
    for i, (nm, a) in enumerate(zip(names, axes, strict=True)):
        lo, hi = float(lower[i]), float(upper[i])
        slack = 1e-9 * max(1.0, hi - lo)
        if a.min() < lo - slack or a.max() > hi + slack:
            raise ValueError(
                f"{ref_label} covers {nm} in [{a.min():g}, {a.max():g}], outside the domain of "
                f"{sol_label}, {nm} in [{lo:g}, {hi:g}]"
            )
        partial |= a.min() > lo + slack or a.max() < hi - slack
    if partial:
        notes.append(f"{ref_label} covers only part of the solution's domain")
    return notes


def _check_tol(tol: Any) -> float | None:
    if tol is None:
        return None
    if (
        isinstance(tol, bool)
        or not isinstance(tol, (int, float, np.floating, np.integer))
        or not 0 < tol < math.inf
    ):
        raise ValueError(f"tol must be a positive finite number or None, got {tol!r}")
    return float(tol)


@dataclass
class _Compared:
    """The two fields compared on the grid of ``axes`` (``u`` the solution's, ``ref`` the
    reference's or the exact solution's) and what is known so far: the reference's estimated
    error (0 for the exact solution), the notes, the reference's path and description."""

    against: str
    axes: tuple[np.ndarray, ...]
    u: np.ndarray
    ref: np.ndarray
    reference_error: float
    notes: list[str]
    path: str | None = None
    info: dict | None = None


def validate(
    solution: str | os.PathLike | SavedField | Solution,
    *,
    reference: str | os.PathLike | ReferenceSolution | None = None,
    exact: bool = False,
    tol: float | None = None,
) -> ValidationResult:
    r"""Compare ``solution`` with a reference or with the exact solution; see the module doc.

    Parameters
    ----------
    solution:
        A solution file's path, a :class:`~neuralpde.solution.SavedField` from
        :func:`neuralpde.load`, or a :class:`~neuralpde.Solution`.
    reference:
        A reference file's path or a :class:`~neuralpde.reference.ReferenceSolution`. The
        solution's network is evaluated at the reference's nodes; the reference's coordinates
        must be the solution's, its nodes must lie in the solution's domain and its estimated
        error must be finite (levels that do not converge judge nothing).
    exact:
        Compare with the exact solution instead: the ``exact`` dataset on a file's grid (the
        problem's exact solution on the dense grid for an in-memory ``Solution``).
    tol:
        Pass when the relative :math:`L^2` error is at most ``tol``.
    """
    _check_against(reference, exact)
    tol = _check_tol(tol)
    sol = _as_solution(solution)
    c = _against_exact(sol) if reference is None else _against_reference(sol, reference)
    spec = sol.spec  # what is known of its problem, live or loaded alike
    if spec.determined_up_to_a_constant:
        c.u, c.ref = metrics.without_means(c.u, c.ref)
        c.notes.append(
            "the problem has only Neumann or periodic conditions: its solution is determined up "
            "to an additive constant, so both fields are compared with their means removed"
        )
    m = metrics.summary(c.u, c.ref)
    m.update(metrics.band_errors(c.u, c.ref, time_axis=spec.time_index, endpoint=True))
    c.notes += _measured_notes(c, m, tol)
    result = ValidationResult(
        against=c.against,
        metrics=m,
        reference_error=c.reference_error,
        tol=tol,
        passed=None if tol is None else bool(m["relative_l2"] <= tol),
        names=sol.names,
        axes=c.axes,
        u=c.u,
        ref=c.ref,
        time_axis=spec.time_index,
        problem=spec.name,
        solution_path=sol.path,
        reference_path=c.path,
        reference_info=c.info,
        notes=tuple(c.notes),
    )
    log.debug(  # the command line prints the summary; Python callers have the result
        "%s vs %s: relative L2 %.3e (reference error %.3e) %s",
        spec.name,
        c.against,
        m["relative_l2"],
        c.reference_error,
        result.verdict(),
    )
    return result


def _check_against(reference: Any, exact: Any) -> None:
    """Raise ``ValueError`` unless exactly one of ``reference`` and ``exact=True`` is given."""
    if not isinstance(exact, (bool, np.bool_)):
        raise ValueError(f"exact must be True or False, got {exact!r}")
    if (reference is None) == (not exact):
        raise ValueError(
            "give exactly one of reference=... (a reference file or ReferenceSolution) and "
            f"exact=True, got reference={reference!r} and exact={exact!r}"
        )


def _against_reference(sol: SolvedField, reference: Any) -> _Compared:
    """The solution's network at the nodes of ``reference`` (a path or a
    :class:`ReferenceSolution`), after the checks that the reference can judge it."""
    ref_path = None
    if isinstance(reference, (str, os.PathLike)):
        ref_path = str(reference)
        reference = load_reference(reference)
    if not isinstance(reference, ReferenceSolution):
        raise TypeError(
            "reference must be a path to a reference file or a ReferenceSolution (from "
            f"neuralpde.reference.convergence_study), got {type(reference).__name__}"
        )
    ref_label = f"reference {ref_path!r}" if ref_path else "the reference"
    notes = _check_grid(sol, reference.names, reference.axes, ref_label)
    notes += _check_problem(sol, reference, ref_label)
    reference_error = _reference_error(reference, ref_label)
    axes = tuple(np.asarray(a, dtype=np.float64) for a in reference.axes)
    ref_values = np.asarray(reference.values, dtype=np.float64)
    outside = _outside_nodes(sol, axes, ref_values)
    missing = int(np.count_nonzero(~np.isfinite(ref_values) & ~outside))
    if missing:  # a finite-difference reference has a value at every node of its domain
        raise ValueError(
            f"{ref_label} is NaN or infinite at {missing} of its {ref_values.size} nodes inside "
            "the domain: a reference with holes would judge only the nodes left; compute it again"
        )
    u = np.where(outside, np.nan, sol.on_grid(axes))
    info = reference.describe()
    return _Compared("reference", axes, u, ref_values, reference_error, notes, ref_path, info)


def _outside_nodes(sol: SolvedField, axes: tuple[np.ndarray, ...], ref: np.ndarray) -> np.ndarray:
    """The reference's NaN nodes that lie outside the solution's domain (a reference on a domain
    that is not a box has no value there): from the domain's description, or, for a mesh,
    which a description does not determine, every NaN node (the reference file was checked on
    loading)."""
    nan = np.isnan(ref)
    if not nan.any():
        return nan
    spec = sol.spec
    inside = nodes_inside(spec.domain_description, axes)
    if inside is None:
        return nan if spec.domain_type == "MeshDomain" else np.zeros_like(nan)
    return nan & ~inside


def _check_problem(sol: SolvedField, reference: ReferenceSolution, ref_label: str) -> list[str]:
    """Raise ``ValueError`` unless ``reference`` was computed for the solution's problem (by
    name, and by its mathematics where both record them); a note when only the name can tell."""
    ref_desc = getattr(reference, "description", None)
    spec = sol.spec
    if reference.problem != spec.name:
        raise ValueError(
            f"{ref_label} was computed for problem {reference.problem!r}, but the solution "
            f"solves {spec.name!r}: a comparison of the two would judge nothing; compute "
            "a reference of the solution's problem"
        )
    if not (ref_desc and "equation" in ref_desc):
        return [
            f"{ref_label} records only its problem's name, not the problem itself: it was "
            f"matched to the solution by the name {spec.name!r} alone"
        ]
    description = spec.description
    if "equation" in description:
        differ = differing_mathematics(ref_desc, description)
        if differ:
            raise ValueError(
                f"{ref_label} and the solution are both for problem {spec.name!r}, but "
                f"their problems' {', '.join(differ)} differ (the problem changed between "
                "them): compute the reference again from the solution's problem"
            )
    return []


def _reference_error(reference: ReferenceSolution, ref_label: str) -> float:
    """The reference's estimated error; ``ValueError`` unless it is finite and at least 0."""
    reference_error = float(reference.estimated_error)
    if not math.isfinite(reference_error):
        raise ValueError(
            f"{ref_label} has estimated error {reference_error}: its levels do not "
            "converge, so its own error is unknown and it cannot judge a solution; compute "
            "the reference again (refine, or check that the problem is well posed)"
        )
    if not reference_error >= 0:
        raise ValueError(
            f"{ref_label} has estimated error {reference_error}: an error estimate is "
            "at least 0; the reference is damaged or was not made by a convergence study"
        )
    return reference_error


def _against_exact(sol: SolvedField) -> _Compared:
    """The solution's network and the exact solution on a solution file's grid (an in-memory
    :class:`Solution`'s dense grid), NaN at the grid's points outside the domain
    (:meth:`~neuralpde.solution.SolvedField.exact_on_grid`)."""
    # the network is judged, never a stored grid; a warning goes to validate's caller
    axes, u, ref_values = sol.exact_on_grid(stacklevel=4)
    return _Compared("exact", axes, u, ref_values, 0.0, [])


def _measured_notes(c: _Compared, m: dict[str, float], tol: float | None) -> list[str]:
    """Notes on the measured errors ``m``: points left out or not finite, an error the
    reference cannot resolve, a tolerance below the reference's error."""
    notes = []
    if np.isnan(c.ref).any():
        notes.append(
            "the domain is not a box: the grid's points outside it are left out of the errors, "
            "and the frequency-band errors (fRMSE), which need the whole grid, are not defined"
        )
    bad = int(np.count_nonzero(~np.isfinite(c.u) & ~np.isnan(c.ref)))
    if bad:
        notes.append(
            f"the solution is NaN or infinite at {bad} grid point(s) where it is compared: its "
            "errors are not finite, and it fails any tolerance"
        )
    if c.against == "reference" and m["relative_l2"] < _RESOLVE * c.reference_error:
        # a Richardson estimate is itself uncertain (it can run low by a factor near 1): a
        # measured difference within a few times it may be the reference's own error
        notes.append(
            f"the solution's relative L2 error {m['relative_l2']:.3e} is within "
            f"{_RESOLVE:g} times the reference's estimated error {c.reference_error:.3e}: "
            "this comparison cannot resolve it, as the reference's own error may make up the "
            "difference (refine the reference)"
        )
    if tol is not None and tol < c.reference_error:
        notes.append(
            f"tol {tol:.3e} is below the reference's estimated error {c.reference_error:.3e}: "
            "a pass cannot be verified with this reference"
        )
    return notes
