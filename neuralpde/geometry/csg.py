r"""Constructive solid geometry: :class:`Union`, :class:`Intersection` and :class:`Difference`,
and the operators ``a | b``, ``a & b`` and ``a - b`` they give every
:class:`~neuralpde.domains.Domain` once this module is imported.

Interior points are drawn by rejection from the bounding box, boundary points by rejection from
the children's boundaries; the measures are quasi-Monte Carlo estimates (:data:`MC_POINTS`
scrambled Sobol points with a fixed seed).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence

import numpy as np
from scipy.stats import qmc

from ..domains import (
    BoundarySample,
    Box,
    Domain,
    SpaceTime,
    UnitSource,
    check_domain_points,
    check_unit_points,
)
from ..limits import MAX_CHILDREN
from .common import REL_TOL, distance_to_boundary

__all__ = ["Union", "Intersection", "Difference", "MC_POINTS"]

#: Quasi-Monte Carlo points used to estimate the measures of CSG domains.
MC_POINTS = 2**16
_MC_SEED = 20240611
_REL_EPS = 1e-7  # probe offset along normals in CSG boundary classification, relative to size
_PART_PROBE = 1024  # points drawn on each CSG child's boundary to find the parts that are empty
_PART_RECHECK = 32768  # points drawn again on a child with a part that looks empty


def _refill_rng(unit: np.ndarray) -> np.random.Generator:
    """A generator determined by the unit points (for rows that rejection must redraw)."""
    return np.random.default_rng([_MC_SEED, zlib.crc32(np.ascontiguousarray(unit).tobytes())])


def _draw_rounds(
    n: int, source: UnitSource, width: int, rate: float, candidates: Callable
) -> tuple[np.ndarray, ...]:
    """First ``n`` accepted candidates from rounds of ``source(m, width)``."""
    got: list[tuple[np.ndarray, ...]] = []
    count = 0
    for _ in range(1000):
        m = int(math.ceil((n - count) / max(rate, 1e-6) * 1.2)) + 16
        ok, *arrays = candidates(source(m, width))
        got.append(tuple(a[ok] for a in arrays))
        count += int(ok.sum())
        if count >= n:
            return tuple(np.concatenate(parts)[:n] for parts in zip(*got, strict=True))
    raise RuntimeError(  # pragma: no cover - the rate is estimated beforehand
        f"rejection sampling accepted only {count} of {n} points"
    )


def _fill_rows(unit: np.ndarray, rate: float, candidates: Callable) -> tuple[np.ndarray, ...]:
    """One accepted candidate per row of ``unit``; rejected rows are redrawn from a generator
    seeded by ``unit`` (so the map is deterministic)."""
    ok, *arrays = candidates(unit)
    out = [a.copy() for a in arrays]
    pending = np.nonzero(~ok)[0]
    if pending.size:
        rng = _refill_rng(unit)
        fresh = _draw_rounds(
            pending.size, lambda m, k: rng.random((m, k)), unit.shape[1], rate, candidates
        )
        for o, f in zip(out, fresh, strict=True):
            o[pending] = f
    return tuple(out)


class _CSG(Domain):
    """Shared machinery of :class:`Union`, :class:`Intersection` and :class:`Difference`."""

    _prefix = "part"

    def __init__(self, *domains: Domain, names: Sequence[str] | None = None) -> None:
        kind = type(self).__name__
        if not 2 <= len(domains) <= MAX_CHILDREN:
            raise ValueError(
                f"{kind} takes at least two domains and at most {MAX_CHILDREN}, got {len(domains)}"
            )
        for i, dom in enumerate(domains):
            if not isinstance(dom, Domain) or isinstance(dom, SpaceTime):
                raise ValueError(
                    f"domains[{i}] must be a spatial Domain (wrap the result in SpaceTime), "
                    f"got {dom!r}"
                )
            for attr in ("measure", "boundary_measure"):
                if not hasattr(dom, attr):
                    raise ValueError(f"domains[{i}] ({type(dom).__name__}) has no {attr}")
            if not (hasattr(dom, "distance") or isinstance(dom, Box)):
                raise ValueError(f"domains[{i}] ({type(dom).__name__}) has no distance")
            if dom.names != domains[0].names:
                raise ValueError(
                    f"domains must share their coordinate names; domains[0] has "
                    f"{domains[0].names}, domains[{i}] has {dom.names}"
                )
        if names is None:
            names = self._default_child_names(len(domains))
        names = tuple(names)
        if (
            len(names) != len(domains)
            or len(set(names)) != len(names)
            or not all(isinstance(n, str) and n for n in names)
        ):
            raise ValueError(
                f"names must be {len(domains)} distinct non-empty strings, got {names!r}"
            )
        self.children = tuple(domains)
        self.child_names = names
        self.names = domains[0].names
        self._parts = tuple(
            f"{cn}.{p}" for cn, c in zip(names, domains, strict=True) for p in c.boundary_parts
        )
        self._offsets = np.cumsum([0] + [len(c.boundary_parts) for c in domains])
        lo, hi = self._box()
        if np.any(hi <= lo):
            raise ValueError(f"{kind} of {names} is empty (bounding boxes do not overlap)")
        self._lo, self._hi = lo, hi
        size = float(np.linalg.norm(hi - lo))
        self._eps = _REL_EPS * size
        self._tol = REL_TOL * size
        child_b = np.array([c.boundary_measure for c in domains], dtype=float)
        self._child_bcdf = np.concatenate([[0.0], np.cumsum(child_b)]) / child_b.sum()
        self._child_btotal = float(child_b.sum())
        # Quasi-Monte Carlo estimates of the measures.
        d = self.dim
        unit = qmc.Sobol(d, scramble=True, seed=_MC_SEED).random(MC_POINTS)
        box_volume = float(np.prod(hi - lo))
        self._rate = float(np.mean(self.contains(lo + unit * (hi - lo))))
        self._measure = box_volume * self._rate
        if self._measure == 0:
            raise ValueError(f"{kind} of {names} is empty (no volume found)")
        self._brate = float(np.mean(self._boundary_candidates(unit)[0]))
        self._bmeasure = self._child_btotal * self._brate
        if self._bmeasure == 0:  # pragma: no cover - a non-empty domain has a boundary
            raise ValueError(f"{kind} of {names} has no boundary")
        self._empty = self._find_empty_parts()

    # A union member inside the others or a hole that misses the domain is a mistake; an
    # intersection with a domain that holds the others is a harmless way to write the others.
    _refuse_idle_children = True

    def _find_empty_parts(self) -> tuple[str, ...]:
        """Draw :data:`_PART_PROBE` points on each child's boundary (:data:`_PART_RECHECK` on a
        child with a part that got points but kept none); raise ``ValueError`` if none
        of a child's lies on this domain's boundary (the child changes nothing; not for an
        :class:`Intersection`), and return the parts that got candidates but kept none."""
        kind, names = type(self).__name__, self.child_names
        n_parts = len(self._parts)

        def counts(c: int, n: int) -> tuple[np.ndarray, np.ndarray, bool]:
            unit = qmc.Sobol(self.dim, scramble=True, seed=_MC_SEED + 1).random(n)
            keep, _, _, tags = self._classify(c, unit)
            drawn = np.bincount(tags, minlength=n_parts)
            return drawn, np.bincount(tags[keep], minlength=n_parts), bool(keep.any())

        drawn, kept = np.zeros(n_parts, dtype=np.int64), np.zeros(n_parts, dtype=np.int64)
        for c in range(len(self.children)):
            d_c, k_c, any_kept = counts(c, _PART_PROBE)
            if ((d_c > 0) & (k_c == 0)).any():  # look again, closer, before judging a part empty
                d_c, k_c, any_kept = counts(c, _PART_RECHECK)
            if not any_kept and self._refuse_idle_children:
                raise ValueError(
                    f"{kind} of {names}: no point of the boundary of domains[{c}] "
                    f"({names[c]!r}) lies on the boundary of the result, so it changes nothing "
                    f"({self._no_boundary_hint(c)}); move it or leave it out"
                )
            drawn += d_c
            kept += k_c
        return tuple(p for p, m, k in zip(self._parts, drawn, kept, strict=True) if m and not k)

    def _no_boundary_hint(self, c: int) -> str:
        return "it lies inside the other domains"

    @property
    def empty_parts(self) -> tuple[str, ...]:
        """Children's boundary parts with no point on this domain's boundary (found from
        :data:`_PART_PROBE` points on each child's boundary), e.g. the side of a rectangle that
        lies along a side of an earlier one."""
        return self._empty

    def _default_child_names(self, n: int) -> tuple[str, ...]:
        return tuple(f"{self._prefix}{i}" for i in range(n))

    def _box(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self._lo.copy(), self._hi.copy()

    @property
    def boundary_parts(self) -> tuple[str, ...]:
        return self._parts

    def parts_of(self, *child_names: str) -> tuple[str, ...]:
        """The boundary parts contributed by the children named ``child_names``."""
        unknown = [c for c in child_names if c not in self.child_names]
        if unknown:
            raise ValueError(f"child_names {unknown} unknown; children are {self.child_names}")
        return tuple(p for p in self._parts if any(p.startswith(f"{c}.") for c in child_names))

    @property
    def measure(self) -> float:
        """Volume, a quasi-Monte Carlo estimate (:data:`MC_POINTS` points in the bounding box)."""
        return self._measure

    @property
    def boundary_measure(self) -> float:
        """Boundary measure, a quasi-Monte Carlo estimate over the children's boundaries."""
        return self._bmeasure

    # interior: rejection from the bounding box
    def _interior_candidates(self, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pts = self._lo + unit * (self._hi - self._lo)
        return self.contains(pts), pts

    def interior(self, unit: np.ndarray) -> np.ndarray:
        """One interior point per unit point: the point mapped into the bounding box if inside,
        else a redraw from a generator seeded by ``unit`` (uniform either way)."""
        unit = check_unit_points(unit, self.dim, f"{type(self).__name__}.interior")
        return _fill_rows(unit, self._rate, self._interior_candidates)[0]

    def sample_interior(self, n: int, unit: UnitSource) -> np.ndarray:
        """Rounds of ``unit`` points mapped into the bounding box; the first ``n`` inside."""
        return _draw_rounds(n, unit, self.dim, self._rate, self._interior_candidates)[0]

    # boundary: rejection from the children's boundaries
    def _boundary_candidates(
        self, unit: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Child chosen by boundary measure from ``u_0`` (its fractional position reused), a
        point of its boundary from the rest; kept where it lies on this domain's boundary."""
        cdf = self._child_bcdf
        k = np.clip(np.searchsorted(cdf, unit[:, 0], side="right") - 1, 0, len(cdf) - 2)
        n, d = unit.shape
        pts, normals = np.empty((n, d)), np.empty((n, d))
        tags = np.empty(n, dtype=np.int64)
        ok = np.zeros(n, dtype=bool)
        for c in range(len(self.children)):  # loop over children
            rows = np.nonzero(k == c)[0]
            if rows.size == 0:
                continue
            u = unit[rows].copy()
            u[:, 0] = np.clip((u[:, 0] - cdf[c]) / (cdf[c + 1] - cdf[c]), 0.0, np.nextafter(1, 0))
            ok[rows], pts[rows], normals[rows], tags[rows] = self._classify(c, u)
        return ok, pts, normals, tags

    def _classify(
        self, c: int, unit: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Points of child ``c``'s boundary from ``unit``: whether each lies on this domain's
        boundary, the points, this domain's outward normals there and the part tags."""
        b = self.children[c].boundary(unit)
        p, nrm, e = b.points, b.normals, self._eps
        ahead, behind = p + e * nrm, p - e * nrm
        in_ahead, in_behind = self.contains(ahead), self.contains(behind)
        out_side = in_behind & ~in_ahead  # on our boundary, same normal
        in_side = in_ahead & ~in_behind  # on our boundary, normal flipped
        keep = out_side | in_side
        for earlier in self.children[:c]:  # an earlier child already covers this piece
            keep &= earlier.contains(ahead) == earlier.contains(behind)
        normals = np.where(in_side[:, None], -nrm, nrm)
        return keep, p, normals, self._offsets[c] + b.tags

    def boundary(self, unit: np.ndarray) -> BoundarySample:
        """One boundary point per unit point (rejected rows redrawn from a generator seeded by
        ``unit``)."""
        unit = check_unit_points(unit, self.dim, f"{type(self).__name__}.boundary")
        return BoundarySample(*_fill_rows(unit, self._brate, self._boundary_candidates))

    def sample_boundary(self, n: int, unit: UnitSource) -> BoundarySample:
        """Rounds of ``unit`` points through :meth:`_boundary_candidates`; the first ``n`` kept."""
        return BoundarySample(
            *_draw_rounds(n, unit, self.dim, self._brate, self._boundary_candidates)
        )

    def describe(self) -> dict:
        out = super().describe()
        out["children"] = [c.describe() for c in self.children]
        out["child_names"] = list(self.child_names)
        return out

    def __repr__(self) -> str:
        inner = ", ".join(repr(c) for c in self.children)
        return f"{type(self).__name__}({inner}, names={self.child_names})"


class Union(_CSG):
    r"""The union of domains; children named ``part0``, ``part1``, … unless ``names`` is given.

    ``distance`` is :math:`\max_i d_i`: exact sign and zero set, a lower bound of the true
    distance inside (approximate).
    """

    def _box(self) -> tuple[np.ndarray, np.ndarray]:
        lows, highs = zip(*(c.bounds for c in self.children), strict=True)
        return np.min(lows, axis=0), np.max(highs, axis=0)

    def contains(self, points: np.ndarray) -> np.ndarray:
        points = check_domain_points(points, self.dim, "Union.contains")
        out = np.zeros(len(points), dtype=bool)
        for c in self.children:
            out |= c.contains(points)
        return out

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Approximate distance to the boundary, positive inside: :math:`\\max_i d_i`."""
        points = check_domain_points(points, self.dim, "Union.distance")
        return np.max([distance_to_boundary(c, points) for c in self.children], axis=0)


class Intersection(_CSG):
    r"""The intersection of domains; children named ``part0``, ``part1``, … by default.

    ``distance`` is :math:`\min_i d_i`: exact sign and zero set, approximate magnitude outside.
    """

    def _box(self) -> tuple[np.ndarray, np.ndarray]:
        lows, highs = zip(*(c.bounds for c in self.children), strict=True)
        return np.max(lows, axis=0), np.min(highs, axis=0)

    _refuse_idle_children = False

    def contains(self, points: np.ndarray) -> np.ndarray:
        points = check_domain_points(points, self.dim, "Intersection.contains")
        out = np.ones(len(points), dtype=bool)
        for c in self.children:
            out &= c.contains(points)
        return out

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Approximate distance to the boundary, positive inside: :math:`\\min_i d_i`."""
        points = check_domain_points(points, self.dim, "Intersection.distance")
        return np.min([distance_to_boundary(c, points) for c in self.children], axis=0)


class Difference(_CSG):
    r"""``domains[0]`` with ``domains[1:]`` removed (the closure of the set difference).

    Children are named ``outer``, ``hole0``, ``hole1``, … unless ``names`` is given, so the parts
    of ``Rectangle(...) - Disk(...) - Disk(...)`` are ``outer.x_min``, …, ``hole0.boundary``,
    ``hole1.boundary`` (``a - b - c`` flattens to one difference). A hole's boundary normals point
    into the hole (outward from this domain). ``distance`` is
    :math:`\min(d_0, -d_1, -d_2, \dots)`: exact sign and zero set, approximate magnitude.
    """

    def _default_child_names(self, n: int) -> tuple[str, ...]:
        return ("outer", *(f"hole{i}" for i in range(n - 1)))

    def _box(self) -> tuple[np.ndarray, np.ndarray]:
        return self.children[0].bounds

    def _no_boundary_hint(self, c: int) -> str:
        if c == 0:
            return "its boundary lies inside the holes"
        return "a hole outside domains[0], or inside another hole"

    def contains(self, points: np.ndarray) -> np.ndarray:
        points = check_domain_points(points, self.dim, "Difference.contains")
        out = self.children[0].contains(points)
        for c in self.children[1:]:  # outside each hole's interior (its boundary kept)
            out &= distance_to_boundary(c, points) <= self._tol
        return out

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Approximate distance to the boundary, positive inside: :math:`\\min(d_0, -d_i)`."""
        points = check_domain_points(points, self.dim, "Difference.distance")
        out = distance_to_boundary(self.children[0], points)
        for c in self.children[1:]:
            out = np.minimum(out, -distance_to_boundary(c, points))
        return out


# -- operators on every Domain: a | b, a & b, a - b -----------------------------------------------


def _next_name(names: tuple[str, ...], stem: str, index: int) -> str:
    name = f"{stem}{index}"
    while name in names:
        index += 1
        name = f"{stem}{index}"
    return name


def _combine(kind: type[_CSG], a: Domain, b: Domain) -> _CSG:
    if type(a) is kind:  # flatten a | b | c into one node
        stem = "hole" if kind is Difference else "part"
        extra = len(a.children) - 1 if kind is Difference else len(a.children)
        names = (*a.child_names, _next_name(a.child_names, stem, extra))
        return kind(*a.children, b, names=names)
    return kind(a, b)


def _operator(kind: type[_CSG]):
    def op(self: Domain, other: object):
        if not isinstance(other, Domain):
            return NotImplemented
        return _combine(kind, self, other)

    op.__name__ = f"__{kind.__name__.lower()}__"
    op.__doc__ = f"``{kind.__name__}`` of the two domains (needs :mod:`neuralpde.geometry`)."
    return op


for _name, _kind in (("__or__", Union), ("__and__", Intersection), ("__sub__", Difference)):
    if not any(_name in vars(k) for k in Domain.__mro__):
        setattr(Domain, _name, _operator(_kind))
