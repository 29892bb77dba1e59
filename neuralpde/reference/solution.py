"""Results of the finite-difference reference: a grid solution, and one with its error estimate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import NdBSpline, RegularGridInterpolator, make_interp_spline

from .._arguments import check_points
from ..domains import outside_box

__all__ = ["FDSolution", "LevelResult", "ExtrapolatedResult", "ReferenceSolution"]


@dataclass(frozen=True, eq=False)
class FDSolution:
    """Values of a finite-difference solution on a tensor grid.

    ``axes`` are the 1-D node coordinates, one per entry of ``names`` (the problem's coordinate
    names, space first, time last); ``values[i, j, ...]`` is the solution at
    ``(axes[0][i], axes[1][j], ...)``. For an evolution problem the time axis holds the stored
    time levels: from :func:`~neuralpde.reference.solve_fd`, all steps or ``time_samples`` of
    them; from :func:`~neuralpde.reference.convergence_study`, the coarsest level's time levels
    or ``time_samples`` of them. ``problem`` is the problem's name and ``description`` its
    :meth:`~neuralpde.Problem.describe`, by which :func:`~neuralpde.validate` tells a reference
    of another problem of the same name. ``domain`` is the problem's domain object: the one
    the values were computed on, or for a reference read from a file the one its description
    stands for (a mesh from the file's own copy; ``None`` where it cannot be rebuilt).
    :func:`~neuralpde.reference.save_reference` stores a mesh domain with the values.
    """

    axes: tuple[np.ndarray, ...]
    values: np.ndarray
    names: tuple[str, ...]
    scheme: str
    order: int
    n: tuple[int, ...]
    dt: float | None
    steps: int | None
    wall_time: float
    problem: str
    description: dict = field(default_factory=dict, kw_only=True, repr=False)
    domain: object = field(default=None, kw_only=True, repr=False)

    def points(self) -> np.ndarray:
        """All grid nodes as an ``(N, d)`` array, in the order of ``values.ravel()``."""
        mesh = np.meshgrid(*self.axes, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)

    def interpolate(self, points: np.ndarray | Sequence, method: str = "cubic") -> np.ndarray:
        """Values at arbitrary ``(N, d)`` points of the grid's box; NaN at points outside it
        (beyond round-off), where the reference says nothing. Points are checked as a field's
        are: real and finite, columns in the order of :attr:`names`, a single point possibly
        flat (``(d,)``, one value back).

        ``"cubic"``: the tensor-product cubic spline (not-a-knot) through the nodes, error
        ``O(h^4)``; along an axis of fewer than 4 nodes (e.g. ``time_samples=3``), where that
        spline does not exist, it is linear, ``O(h^2)`` along that axis only. ``"linear"``:
        multilinear, ``O(h^2)``.

        On a domain that is not a box the nodes outside it are NaN: ``"linear"`` is NaN in the
        cells that touch one, and ``"cubic"`` (whose spline couples every node of a grid line)
        raises ``ValueError``.
        """
        points = check_points(points, self.names)
        if method not in ("cubic", "linear"):
            raise ValueError(f"method must be 'cubic' or 'linear', got {method!r}")
        lo = np.array([a[0] for a in self.axes])
        hi = np.array([a[-1] for a in self.axes])
        outside = outside_box(points, lo, hi)
        points = np.clip(points, lo, hi)  # round-off outside the box: onto its faces
        if method == "linear":
            values = RegularGridInterpolator(self.axes, self.values, method="linear")(points)
        else:
            if np.isnan(self.values).any():
                raise ValueError(
                    "method='cubic' needs a value at every node, and this solution is NaN at "
                    "the nodes outside its domain (not a box): use method='linear'"
                )
            degrees = tuple(3 if len(a) >= 4 else 1 for a in self.axes)
            coef, knots = self.values, []
            for i, (ax, k) in enumerate(zip(self.axes, degrees, strict=True)):
                spline = make_interp_spline(ax, coef, k=k, axis=i)
                coef = np.moveaxis(spline.c, 0, i)
                knots.append(spline.t)
            values = NdBSpline(tuple(knots), coef, degrees)(points)
        return np.where(outside, np.nan, values)

    def describe(self) -> dict:
        """A JSON-serialisable summary (no arrays)."""
        return {
            "problem": self.problem,
            "scheme": self.scheme,
            "order": self.order,
            "n": list(self.n),
            "dt": self.dt,
            "steps": self.steps,
            "names": list(self.names),
            "shape": list(self.values.shape),
            "wall_time": self.wall_time,
        }


@dataclass(frozen=True)
class LevelResult:
    """One grid of a convergence study.

    ``difference`` is the discrete L2 norm (trapezoidal rule) of this level's solution minus the
    previous (coarser) level's, on the previous level's nodes (for evolution problems, at the
    coarsest level's time levels), relative to the finest solution's norm on the nodes of the
    finest pair; ``None`` on the coarsest level.
    ``h`` is the largest grid spacing.
    """

    n: tuple[int, ...]
    h: float
    dt: float | None
    steps: int | None
    difference: float | None
    wall_time: float


@dataclass(frozen=True)
class ExtrapolatedResult:
    """One Richardson-extrapolated solution of a convergence study with ``extrapolate=True``.

    It combines the levels ``levels = (k, k + 1)`` and lives on level ``k``'s grid (``n``,
    ``h``, ``dt``, ``steps`` are that grid's). ``difference`` is the discrete L2 norm
    (trapezoidal rule) of it minus the previous extrapolated solution, on the previous one's
    nodes, relative to the finest extrapolated solution's norm; ``None`` for the first.
    """

    n: tuple[int, ...]
    h: float
    dt: float | None
    steps: int | None
    levels: tuple[int, int]
    difference: float | None


@dataclass(frozen=True, eq=False)
class ReferenceSolution(FDSolution):
    r"""The finest grid's solution with its own error estimated from successive refinements.

    With :math:`e_\ell` the ``difference`` of level :math:`\ell` and :math:`r` the refinement ratio,
    from the three finest levels:

    * ``observed_order`` :math:`p = \log(e_{L-1}/e_L)/\log r`;
    * ``estimated_error`` (Richardson) :math:`e_L/(r^p - 1)`, the relative L2 error of the
      finest solution;
    * ``gci`` (Roache's grid-convergence index, safety factor 1.25)
      :math:`1.25\, e_L/(r^p - 1)`.

    When :math:`p` is not positive and finite (differences at round-off, or grids far from the
    asymptotic range) the scheme's formal order is used instead (``order + 1`` for an extrapolated
    sequence), and an observed order above the formal one (``order + 2`` for an extrapolated
    sequence) is capped there: convergence faster than the scheme's is pre-asymptotic, and would
    shrink the estimate below the true error. ``order_used`` says which order the estimates
    used.

    When ``extrapolated`` (``convergence_study(..., extrapolate=True)``) the values are the
    Richardson extrapolation of the two finest levels, on the coarser one's grid (``n``, ``dt``,
    ``steps`` are that grid's), ``extrapolated_table`` lists the sequence of extrapolated
    solutions, one per pair of successive levels, and ``observed_order``, ``estimated_error``
    and ``gci`` are those of that sequence (the formulas above with its differences);
    ``table`` still lists the levels themselves.

    ``time_samples`` is the study's ``time_samples`` (``None``: every time level of the coarsest
    grid was kept), ``study_dt`` its ``dt`` (``None``: the default choice).
    """

    table: tuple[LevelResult, ...]
    observed_order: float
    order_used: float
    estimated_error: float
    gci: float
    ratio: int
    extrapolated: bool = field(default=False, kw_only=True)
    extrapolated_table: tuple[ExtrapolatedResult, ...] = field(default=(), kw_only=True)
    time_samples: int | None = field(default=None, kw_only=True)
    study_dt: float | None = field(default=None, kw_only=True)

    def describe(self) -> dict:
        out = super().describe()
        out.update(
            observed_order=self.observed_order,
            order_used=self.order_used,
            estimated_error=self.estimated_error,
            gci=self.gci,
            ratio=self.ratio,
            table=[
                {
                    "n": list(r.n),
                    "h": r.h,
                    "dt": r.dt,
                    "steps": r.steps,
                    "difference": r.difference,
                    "wall_time": r.wall_time,
                }
                for r in self.table
            ],
            extrapolated=self.extrapolated,
            extrapolated_table=[
                {
                    "n": list(r.n),
                    "h": r.h,
                    "dt": r.dt,
                    "steps": r.steps,
                    "levels": list(r.levels),
                    "difference": r.difference,
                }
                for r in self.extrapolated_table
            ],
        )
        return out
