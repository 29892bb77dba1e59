"""What is plotted: a file's values on its grid, NaN outside the domain, and for a comparison
the error on the compared grid."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._arguments import check_path
from ..io import FormatError, file_kind
from ..reference import ReferenceSolution, load_reference, nodes_inside
from ..solution import SavedField, Solution, SolvedField, load
from ..validate import validate
from ._options import PlotArgumentError

__all__ = [
    "PlotData",
    "compared",
    "evaluate_on_grid",
    "load_source",
    "reference_data",
    "solution_data",
]


@dataclass
class PlotData:
    """The values of one file on its grid (NaN outside the domain) and, for a comparison, the
    error on the same grid."""

    kind: str  # "solution" or "reference"
    label: str  # the file's name, or what the object is
    problem: str
    names: tuple[str, ...]
    axes: tuple[np.ndarray, ...]
    values: np.ndarray
    time_axis: int | None
    domain: dict
    field: SolvedField | None = None  # evaluated between the nodes (no comparison)
    error: np.ndarray | None = None
    against: str | None = None  # "exact" or "reference"
    means_removed: bool = False

    @property
    def n_space(self) -> int:
        return len(self.names) - (self.time_axis is not None)


def load_source(source: Any) -> tuple[str, Any]:
    """``("solution", SolvedField)`` or ``("reference", ReferenceSolution)``."""
    if isinstance(source, SolvedField):
        return "solution", source
    if isinstance(source, ReferenceSolution):
        return "reference", source
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            "source must be the path of a solution or reference file, a loaded solution "
            "(neuralpde.load, neuralpde.solve) or a ReferenceSolution, got "
            f"{type(source).__name__}"
        )
    check_path(source, "source", "a file path")
    kind = file_kind(source)
    if kind == "reference":
        return kind, load_reference(source)
    return kind, load(source)


def solution_data(sol: SolvedField) -> PlotData:
    names = tuple(sol.names)
    spec = sol.spec
    domain = spec.domain_description
    if isinstance(sol, SavedField):
        coords, values = sol.grid
        axes = tuple(np.asarray(coords[n], dtype=np.float64) for n in names)
        label = Path(sol.path).name if sol.path else "solution"
        if values is None:
            values = evaluate_on_grid(sol, axes, domain, None)
    elif isinstance(sol, Solution):
        axes = tuple(np.asarray(a, dtype=np.float64) for a in sol.grid_axes())
        values = sol.on_domain_grid(axes)
        label = "solution"
    else:
        raise TypeError(f"cannot plot a {type(sol).__name__}: no grid to draw it on")
    return PlotData(
        "solution",
        label,
        spec.name,
        names,
        axes,
        np.asarray(values, dtype=np.float64),
        spec.time_index,
        domain,
        field=sol,
    )


def reference_data(ref: ReferenceSolution) -> PlotData:
    desc = getattr(ref, "description", None) or {}
    domain = desc.get("domain") if isinstance(desc.get("domain"), dict) else {}
    timed = ref.steps is not None or domain.get("type") == "SpaceTime"
    path = getattr(ref, "path", "")
    return PlotData(
        "reference",
        Path(path).name if path else "reference",
        str(ref.problem),
        tuple(ref.names),
        tuple(np.asarray(a, dtype=np.float64) for a in ref.axes),
        np.asarray(ref.values, dtype=np.float64),
        len(ref.names) - 1 if timed else None,
        domain,
    )


def compared(data: PlotData, sol: SolvedField, exact: bool, reference: Any) -> PlotData:
    """``data`` on the grid of the comparison, with its error
    (:func:`neuralpde.validate.validate`'s values)."""
    option = "exact" if exact else "reference"
    if exact and not _has_exact(sol):
        raise PlotArgumentError(
            "exact",
            f"{data.label} has no exact solution (its problem {data.problem!r} defines none, so "
            "the file stores no 'exact' dataset): draw the error against a finite-difference "
            "reference instead",
        )
    try:
        result = validate(sol, exact=True) if exact else validate(sol, reference=reference)
    except ValueError as exc:
        if isinstance(exc, FormatError):
            raise
        raise PlotArgumentError(option, str(exc)) from None
    means_removed = sol.spec.determined_up_to_a_constant
    values = result.u
    if means_removed:  # the field itself, not less its mean
        values = np.where(np.isnan(result.u), np.nan, sol.on_grid(result.axes))
    data.axes = tuple(result.axes)
    data.values = np.asarray(values, dtype=np.float64)
    data.error = np.abs(result.u - result.ref)
    data.against = result.against
    data.means_removed = means_removed
    data.field = None  # panels lie on the compared grid
    return data


def _has_exact(sol: SolvedField) -> bool:
    if isinstance(sol, SavedField):
        return sol.record.get("exact") is not None
    if isinstance(sol, Solution):
        return sol.spec.has_exact
    return True  # let validate tell


def _inside(domain: dict, axes: Sequence[np.ndarray], time_axis: int | None) -> np.ndarray | None:
    """Which nodes of the grid ``axes`` lie in the described ``domain``; ``None`` when the
    description does not determine it (a mesh) or is damaged."""
    try:
        if time_axis is None:
            return nodes_inside(domain, axes)
        space = domain.get("space")
        if not isinstance(space, dict):
            return None
        inside = nodes_inside(space, [a for i, a in enumerate(axes) if i != time_axis])
    except (ValueError, KeyError, TypeError):
        return None
    if inside is None:
        return None
    return np.broadcast_to(np.expand_dims(inside, time_axis), tuple(len(a) for a in axes))


def evaluate_on_grid(
    sol: SolvedField, axes: Sequence[np.ndarray], domain: dict, fallback: np.ndarray | None
) -> np.ndarray:
    """The field on the grid ``axes``, NaN outside the domain: its problem's ``contains`` in
    memory, else the file's description of it, else the NaN of ``fallback`` (the file's values
    at the nearest nodes)."""
    if isinstance(sol, Solution):
        return sol.on_domain_grid(axes)
    values = sol.on_grid(axes)
    inside = _inside(domain, axes, sol.spec.time_index)
    if inside is None:
        if fallback is None:
            return values
        inside = ~np.isnan(fallback)
    return np.where(inside, values, np.nan)
