"""Collocation samplers: uniform random, Sobol and Latin-hypercube points.

A sampler draws points in the unit cube; the domain maps them onto its interior, boundary and
initial slice. Every draw is reproducible from ``(seed, round)``: round ``k`` is the ``k``-th
resampling, so a run with the same seed sees the same points.

Each condition's points come from where its :attr:`~neuralpde.conditions.Condition.where` says
(one rule per value, in :meth:`Sampler.draw`): the boundary, the initial slice, periodic pairs
or the condition's own points.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from ._arguments import check_count, check_seed, check_steps
from .domains import Domain, SpaceTime
from .problem import Problem

__all__ = [
    "Sampler",
    "UniformSampler",
    "SobolSampler",
    "LatinHypercubeSampler",
    "CollocationPoints",
]


def _none_fell(domain: Domain, parts: Sequence[str], n_boundary: int) -> str:
    """Why no boundary point fell on ``parts``: parts with no point on the domain's boundary,
    or too few points drawn."""
    empty = [p for p in parts if p in domain.empty_parts]
    if empty and len(empty) == len(parts):
        return (
            f"boundary part(s) {empty} hold no point of the domain's boundary (they lie inside "
            "or outside the domain, or along another part), so no condition can be imposed "
            "there; leave them out of on="
        )
    return f"no boundary points fell on {tuple(parts)}; raise n_boundary (now {n_boundary})"


@dataclass(frozen=True)
class CollocationPoints:
    """One draw of training points (float64 NumPy arrays).

    ``condition_points[i]`` holds the points of the problem's ``i``-th condition and
    ``condition_normals[i]`` their outward unit normals (``None`` off the boundary); ``interior``
    the residual points.
    """

    interior: np.ndarray
    condition_points: tuple[np.ndarray, ...]
    condition_normals: tuple[np.ndarray | None, ...] = ()


@dataclass(frozen=True)
class Sampler:
    """Base sampler: point counts and the resampling period.

    Parameters
    ----------
    n_interior:
        Residual points in the interior.
    n_boundary:
        Points on the whole boundary, shared among boundary conditions by the parts they target.
    n_initial:
        Points on the initial slice, for each initial condition.
    resample_every:
        Draw new points every this many first-order optimizer steps (0: never).

    Each count is an integer from 1 to :data:`~neuralpde.limits.MAX_POINTS` (2**24);
    ``resample_every`` from 0 to :data:`~neuralpde.limits.MAX_STEPS` (10**9).
    """

    n_interior: int = 4096
    n_boundary: int = 1024
    n_initial: int = 1024
    resample_every: int = 0

    kind = "base"

    def __post_init__(self) -> None:
        for name in ("n_interior", "n_boundary", "n_initial"):
            check_count(getattr(self, name), name)
        check_steps(self.resample_every, "resample_every")

    def unit(self, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` points in ``[0, 1)^d``."""
        raise NotImplementedError

    def draw(self, problem: Problem, seed: int, round: int = 0) -> CollocationPoints:
        """Draw the interior and condition points of ``problem``; ``seed`` and ``round`` are
        non-negative integers."""
        domain = problem.domain
        seed, round = check_seed(seed), check_seed(round, "round")

        def rng(stream: int) -> np.random.Generator:
            return np.random.default_rng([seed, round, stream])

        def source(stream: int):
            gen = rng(stream)
            return lambda m, k: self.unit(m, k, gen)

        interior = domain.sample_interior(self.n_interior, source(0))
        boundary = None
        cond_points, cond_normals = [], []
        for i, cond in enumerate(problem.conditions):
            where = cond.where
            if where in ("boundary", "pairs") and boundary is None:
                boundary = domain.sample_boundary(self.n_boundary, source(1))
            if where == "boundary":  # the points on the parts of ``on``, with their normals
                assert boundary is not None
                if cond.on is None:
                    keep = np.ones(len(boundary.points), dtype=bool)
                else:
                    wanted = [domain.boundary_parts.index(p) for p in cond.on]
                    keep = np.isin(boundary.tags, wanted)
                pts = boundary.points[keep]
                if len(pts) == 0:
                    raise ValueError(_none_fell(domain, cond.on or (), self.n_boundary))
                cond_points.append(pts)
                cond_normals.append(boundary.normals[keep])
            elif where == "pairs":  # the points on part_a, then their partners on part_b
                assert boundary is not None
                on_a = boundary.tags == domain.boundary_parts.index(cond.part_a)
                pts = boundary.points[on_a]
                if len(pts) == 0:
                    raise ValueError(_none_fell(domain, (cond.part_a,), self.n_boundary))
                cond_points.append(np.concatenate([pts, problem.periodic_partner(cond, pts)]))
                cond_normals.append(boundary.normals[on_a])
            elif where == "points":  # the condition's own
                cond_points.append(cond.points)
                cond_normals.append(None)
            elif where == "initial":
                assert isinstance(domain, SpaceTime)  # Problem refuses them on a steady domain
                cond_points.append(domain.sample_initial(self.n_initial, source(2 + i)))
                cond_normals.append(None)
            else:
                raise TypeError(
                    f"no sampling rule for {type(cond).__name__}: its where is {where!r}, not "
                    "one of neuralpde.conditions.WHERE"
                )
        return CollocationPoints(interior, tuple(cond_points), tuple(cond_normals))

    def describe(self) -> dict:
        return {
            "type": type(self).__name__,
            "n_interior": int(self.n_interior),
            "n_boundary": int(self.n_boundary),
            "n_initial": int(self.n_initial),
            "resample_every": int(self.resample_every),
        }


@dataclass(frozen=True)
class UniformSampler(Sampler):
    """Independent uniform random points."""

    def unit(self, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
        return rng.random((n, d))


@dataclass(frozen=True)
class SobolSampler(Sampler):
    """Scrambled Sobol points (low discrepancy; best with power-of-two counts)."""

    def unit(self, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
        engine = qmc.Sobol(d, scramble=True, seed=rng)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*balance properties.*")
            return engine.random(n)


@dataclass(frozen=True)
class LatinHypercubeSampler(Sampler):
    """Latin-hypercube points: one point in each of ``n`` slabs along every axis."""

    def unit(self, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
        return qmc.LatinHypercube(d, seed=rng).random(n)
