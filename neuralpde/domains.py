"""Domains: where a problem lives.

Every domain maps points of the unit cube ``[0, 1)^m`` (drawn by a sampler) onto its interior and
onto its boundary, so that the choice of random, Sobol or Latin-hypercube points stays apart from
the geometry. Coordinates are columns of an ``(N, d)`` array, named by :attr:`Domain.names`, space
first and time last.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ._arguments import as_number, check_grid_nodes, check_name, real_array, real_coordinates
from ._names import check_coordinate_names
from .limits import MAX_IN_FEATURES

__all__ = ["Domain", "Box", "Interval", "Rectangle", "SpaceTime", "BoundarySample", "UnitSource"]

#: ``unit(m, k)`` returns ``m`` points of the unit cube ``[0, 1)^k`` (from a sampler).
UnitSource = Callable[[int, int], np.ndarray]

_DEFAULT_NAMES = ("x", "y", "z")


def grid_counts(n: object, dim: int) -> list[int]:
    """``n`` (one count, or one per axis) as ``dim`` integer point counts, each at least 2 and
    :data:`~neuralpde.limits.MAX_GRID_NODES` (2**26) in all."""
    if not np.isscalar(n) and not isinstance(n, (Sequence, np.ndarray)):
        raise ValueError(f"n must be an integer or a sequence of {dim} integers, got {n!r}")
    counts = [n] * dim if np.isscalar(n) else list(n)  # type: ignore[arg-type]
    ok = len(counts) == dim and all(
        isinstance(c, (int, np.integer)) and not isinstance(c, bool) and c >= 2 for c in counts
    )
    if not ok:
        raise ValueError(
            f"n must give at least 2 points per axis (integers) for {dim} axes, got {n!r}"
        )
    check_grid_nodes(counts, "n", plus_one=False)
    return [int(c) for c in counts]


def outside_box(points: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Which rows of ``points`` (``(N, d)``) lie outside the box ``[lower, upper]`` by more than
    round-off (1e-9 of each side's length), as a boolean array of shape ``(N,)``."""
    slack = 1e-9 * (upper - lower)
    return ((points < lower - slack) | (points > upper + slack)).any(axis=1)


@dataclass(frozen=True)
class BoundarySample:
    """Points on a boundary, their outward unit normals and the index of the part they lie on.

    ``tags[i]`` indexes :attr:`Domain.boundary_parts`.
    """

    points: np.ndarray
    normals: np.ndarray
    tags: np.ndarray


class Domain(ABC):
    """A region of space (or space-time) with named coordinates and tagged boundary parts."""

    names: tuple[str, ...]

    @property
    def dim(self) -> int:
        """Number of coordinates (space and time together)."""
        return len(self.names)

    @property
    @abstractmethod
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper corners of the bounding box, each of shape ``(d,)``."""

    @property
    @abstractmethod
    def boundary_parts(self) -> tuple[str, ...]:
        """Names of the boundary parts that conditions may target."""

    @abstractmethod
    def contains(self, points: np.ndarray) -> np.ndarray:
        """Boolean mask of the points (shape ``(N, d)``) inside the closed domain."""

    @abstractmethod
    def interior(self, unit: np.ndarray) -> np.ndarray:
        """Map unit-cube points of shape ``(N, d)`` to interior points."""

    @abstractmethod
    def boundary(self, unit: np.ndarray) -> BoundarySample:
        """Map unit-cube points of shape ``(N, d)`` to boundary points with normals and tags."""

    @property
    def empty_parts(self) -> tuple[str, ...]:
        """Boundary parts that hold no point of the domain's boundary (e.g. a CSG child's side
        that lies inside another child); none for most domains."""
        return ()

    def sample_interior(self, n: int, unit: UnitSource) -> np.ndarray:
        """``n`` interior points from the sampler's unit points.

        The default maps ``n`` unit points through :meth:`interior`; domains that need more
        (e.g. by rejection) draw more from ``unit``.
        """
        return self.interior(unit(n, self.dim))

    def sample_boundary(self, n: int, unit: UnitSource) -> BoundarySample:
        """``n`` boundary points (with normals and tags) from the sampler's unit points."""
        return self.boundary(unit(n, self.dim))

    def describe(self) -> dict:
        """A JSON-serialisable description of the domain."""
        lo, hi = self.bounds
        return {
            "type": type(self).__name__,
            "names": list(self.names),
            "lower": lo.tolist(),
            "upper": hi.tolist(),
        }


def _as_corner(value: float | Sequence[float], name: str) -> np.ndarray:
    arr = np.atleast_1d(real_array(value, name))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a number or a flat sequence of numbers, got {value!r}")
    if arr.size > MAX_IN_FEATURES:
        raise ValueError(
            f"{name} must hold at most {MAX_IN_FEATURES} coordinates (the limit on a domain's "
            f"dimension), got {arr.size}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr.tolist()}")
    return arr


def check_unit_points(
    unit: np.ndarray, width: int, what: str, kind: str = "unit points"
) -> np.ndarray:
    """``unit`` as a float ``(N, width)`` array (points of the unit cube that a domain maps to
    its own), or a ``ValueError`` naming ``what`` expected it."""
    unit = np.asarray(unit, dtype=float)
    if unit.ndim != 2 or unit.shape[1] != width:
        raise ValueError(f"{what} expects {kind} of shape (N, {width}), got {unit.shape}")
    return unit


def check_domain_points(points: object, width: int, what: str) -> np.ndarray:
    """User ``points`` as a float64 ``(N, width)`` array; strings, bools, ``None`` and masked
    arrays are refused (see :func:`~neuralpde._arguments.real_coordinates`), NaN and inf kept.

    A plain float64 array (as the domains pass each other) is taken as it is.
    """
    if type(points) is not np.ndarray or points.dtype != np.float64:
        points = real_coordinates(points, "points", f"an (N, {width}) array of numbers")
    return check_unit_points(points, width, what, kind="points")


class Box(Domain):
    """The axis-aligned box ``[lo_1, hi_1] x ... x [lo_d, hi_d]``.

    Boundary parts are the faces, named ``"<coord>_min"`` and ``"<coord>_max"`` (e.g. ``"x_min"``).
    """

    def __init__(
        self,
        lower: float | Sequence[float],
        upper: float | Sequence[float],
        names: Sequence[str] | None = None,
    ) -> None:
        lo = _as_corner(lower, "lower")
        hi = _as_corner(upper, "upper")
        if lo.shape != hi.shape:
            raise ValueError(
                f"lower and upper must have the same length, got {lo.size} and {hi.size}"
            )
        bad = np.nonzero(~(hi > lo))[0]
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"upper must exceed lower in every coordinate; coordinate {i} has "
                f"lower={lo[i]} and upper={hi[i]}"
            )
        d = lo.size
        if names is None:
            names = _DEFAULT_NAMES[:d] if d <= 3 else tuple(f"x{i + 1}" for i in range(d))
        names = tuple(names)
        if len(names) != d or len(set(names)) != d or not all(isinstance(n, str) for n in names):
            raise ValueError(f"names must be {d} distinct strings, got {names!r}")
        check_coordinate_names(names)
        for name in names:
            check_name(name, "names")
        self.names = names
        self._lo, self._hi = lo, hi
        # Faces: for coordinate i, the min face then the max face.
        self._parts = tuple(f"{n}_{side}" for n in names for side in ("min", "max"))
        areas = []
        for i in range(d):
            other = np.delete(hi - lo, i)
            area = float(np.prod(other)) if other.size else 1.0
            areas += [area, area]
        self._face_cdf = np.cumsum(areas) / np.sum(areas)
        self._face_total = float(np.sum(areas))

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self._lo.copy(), self._hi.copy()

    @property
    def boundary_parts(self) -> tuple[str, ...]:
        return self._parts

    def contains(self, points: np.ndarray) -> np.ndarray:
        points = check_domain_points(points, self.dim, f"{type(self).__name__}.contains")
        return np.all((points >= self._lo) & (points <= self._hi), axis=1)

    def interior(self, unit: np.ndarray) -> np.ndarray:
        unit = check_unit_points(unit, self.dim, f"{type(self).__name__}.interior")
        return self._lo + unit * (self._hi - self._lo)

    def boundary(self, unit: np.ndarray) -> BoundarySample:
        """Face chosen by the first unit coordinate (area-weighted), position by the rest."""
        d = self.dim
        unit = check_unit_points(unit, d, f"{type(self).__name__}.boundary")
        face = np.searchsorted(self._face_cdf, unit[:, 0], side="right")
        face = np.minimum(face, 2 * d - 1)
        axis, upper = face // 2, face % 2
        n = unit.shape[0]
        pts = np.empty((n, d))
        normals = np.zeros((n, d))
        rows = np.arange(n)
        for i in range(d):  # loop over coordinates, not points
            on = axis == i
            rest = [j for j in range(d) if j != i]
            pts[np.ix_(on, rest)] = self._lo[rest] + unit[np.ix_(on, range(1, d))] * (
                self._hi[rest] - self._lo[rest]
            )
        pts[rows, axis] = np.where(upper == 1, self._hi[axis], self._lo[axis])
        normals[rows, axis] = np.where(upper == 1, 1.0, -1.0)
        return BoundarySample(pts, normals, face.astype(np.int64))

    @property
    def measure(self) -> float:
        """Volume (length, area, ...) of the box."""
        return float(np.prod(self._hi - self._lo))

    @property
    def boundary_measure(self) -> float:
        """Total measure of the faces (2 points count 2 in 1-D)."""
        return float(self._face_total)

    def grid(self, n: int | Sequence[int]) -> tuple[np.ndarray, ...]:
        """Uniform 1-D coordinate arrays (end points included), one per axis."""
        counts = grid_counts(n, self.dim)
        return tuple(
            np.linspace(a, b, c) for a, b, c in zip(self._lo, self._hi, counts, strict=True)
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self._lo.tolist()}, {self._hi.tolist()}, names={self.names})"
        )


class Interval(Box):
    """The interval ``[a, b]``; boundary parts ``"<name>_min"`` and ``"<name>_max"``."""

    def __init__(self, a: float, b: float, name: str = "x") -> None:
        if as_number(a) is None or as_number(b) is None:
            raise ValueError(f"Interval takes two numbers a < b, got a={a!r}, b={b!r}")
        super().__init__([a], [b], names=[name])


class Rectangle(Box):
    """The rectangle ``[x0, x1] x [y0, y1]`` given by two opposite corners."""

    def __init__(
        self,
        lower: Sequence[float],
        upper: Sequence[float],
        names: Sequence[str] = ("x", "y"),
    ) -> None:
        if np.asarray(lower).shape != (2,) or np.asarray(upper).shape != (2,):
            raise ValueError(
                f"Rectangle takes two corners of 2 numbers each, got lower={lower!r}, "
                f"upper={upper!r}"
            )
        super().__init__(lower, upper, names=names)


class SpaceTime(Domain):
    """The product ``space x [t0, t1]`` for evolution problems; time is the last coordinate.

    Its boundary is the lateral boundary ``∂space x [t0, t1]`` (parts named as the space's parts);
    the initial slice ``space x {t0}`` is sampled by :meth:`initial`.
    """

    def __init__(self, space: Domain, t_span: tuple[float, float], time_name: str = "t") -> None:
        if not isinstance(space, Domain) or isinstance(space, SpaceTime):
            raise ValueError(f"space must be a spatial Domain, got {space!r}")
        if space.dim + 1 > MAX_IN_FEATURES:
            raise ValueError(
                f"space must have at most {MAX_IN_FEATURES - 1} coordinates, so that with time "
                f"it has at most {MAX_IN_FEATURES}, got {space.dim}"
            )
        try:
            t0, t1 = (float(v) for v in real_array(t_span, "t_span"))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"t_span must be a pair of numbers (t0, t1), got {t_span!r}") from exc
        if not (np.isfinite(t0) and np.isfinite(t1) and t1 > t0):
            raise ValueError(f"t_span must be finite with t1 > t0, got ({t0}, {t1})")
        if time_name in space.names:
            raise ValueError(f"time_name {time_name!r} clashes with a space coordinate name")
        check_coordinate_names([time_name], "time_name")
        check_name(time_name, "time_name")
        self.space = space
        self.t0, self.t1 = t0, t1
        self.names = (*space.names, time_name)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.space.bounds
        return np.append(lo, self.t0), np.append(hi, self.t1)

    @property
    def boundary_parts(self) -> tuple[str, ...]:
        return self.space.boundary_parts

    @property
    def empty_parts(self) -> tuple[str, ...]:
        return self.space.empty_parts

    def contains(self, points: np.ndarray) -> np.ndarray:
        points = check_domain_points(points, self.dim, "SpaceTime.contains")
        t = points[:, -1]
        return self.space.contains(points[:, :-1]) & (t >= self.t0) & (t <= self.t1)

    def _time(self, u: np.ndarray) -> np.ndarray:
        return self.t0 + u * (self.t1 - self.t0)

    def interior(self, unit: np.ndarray) -> np.ndarray:
        unit = check_unit_points(unit, self.dim, "SpaceTime.interior")
        return np.column_stack([self.space.interior(unit[:, :-1]), self._time(unit[:, -1])])

    def boundary(self, unit: np.ndarray) -> BoundarySample:
        unit = check_unit_points(unit, self.dim, "SpaceTime.boundary")
        b = self.space.boundary(unit[:, :-1])
        pts = np.column_stack([b.points, self._time(unit[:, -1])])
        normals = np.column_stack([b.normals, np.zeros(len(pts))])
        return BoundarySample(pts, normals, b.tags)

    def initial(self, unit: np.ndarray) -> np.ndarray:
        """Map unit points of shape ``(N, d - 1)`` to points of the slice ``t = t0``."""
        unit = check_unit_points(unit, self.dim - 1, "SpaceTime.initial")
        return np.column_stack([self.space.interior(unit), np.full(len(unit), self.t0)])

    def _space_maps_directly(self, method: str) -> bool:
        return getattr(type(self.space), method) is getattr(Domain, method)

    def sample_interior(self, n: int, unit: UnitSource) -> np.ndarray:
        if self._space_maps_directly("sample_interior"):
            return self.interior(unit(n, self.dim))
        space = self.space.sample_interior(n, unit)
        return np.column_stack([space, self._time(unit(n, 1)[:, 0])])

    def sample_boundary(self, n: int, unit: UnitSource) -> BoundarySample:
        if self._space_maps_directly("sample_boundary"):
            return self.boundary(unit(n, self.dim))
        b = self.space.sample_boundary(n, unit)
        pts = np.column_stack([b.points, self._time(unit(n, 1)[:, 0])])
        return BoundarySample(pts, np.column_stack([b.normals, np.zeros(n)]), b.tags)

    def sample_initial(self, n: int, unit: UnitSource) -> np.ndarray:
        """``n`` points of the slice ``t = t0``."""
        if self._space_maps_directly("sample_interior"):
            return self.initial(unit(n, self.dim - 1))
        return np.column_stack([self.space.sample_interior(n, unit), np.full(n, self.t0)])

    def grid(self, n: int | Sequence[int]) -> tuple[np.ndarray, ...]:
        """Uniform coordinate arrays: the space's grid, then time."""
        counts = grid_counts(n, self.dim)
        if not hasattr(self.space, "grid"):
            raise ValueError(f"{type(self.space).__name__} has no regular grid")
        return (*self.space.grid(counts[:-1]), np.linspace(self.t0, self.t1, counts[-1]))

    def describe(self) -> dict:
        out = super().describe()
        out["space"] = self.space.describe()
        out["t_span"] = [self.t0, self.t1]
        return out

    def __repr__(self) -> str:
        return f"SpaceTime({self.space!r}, t_span=({self.t0}, {self.t1}))"
