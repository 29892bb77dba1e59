"""Helpers shared by the geometry modules: coordinate names, the rounding tolerance of
``contains`` and :func:`distance_to_boundary`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._arguments import check_name
from .._names import check_coordinate_names
from ..domains import Box, Domain, check_domain_points

__all__ = ["REL_TOL", "check_names", "distance_to_boundary"]

REL_TOL = 1e-12  # rounding tolerance of `contains`, relative to the domain's size


def _default_names(d: int) -> tuple[str, ...]:
    return ("x", "y", "z")[:d] if d <= 3 else tuple(f"x{i + 1}" for i in range(d))


def check_names(names: Sequence[str] | None, d: int) -> tuple[str, ...]:
    """``names`` checked as ``d`` distinct coordinate names, or the defaults (``x``, ``y``,
    ``z``; ``x1``, … beyond 3-D) for ``None``."""
    if names is None:
        return _default_names(d)
    names = tuple(names)
    if len(names) != d or len(set(names)) != d or not all(isinstance(n, str) for n in names):
        raise ValueError(f"names must be {d} distinct strings, got {names!r}")
    check_coordinate_names(names)
    for name in names:
        check_name(name, "names")
    return names


def distance_to_boundary(domain: Domain, points: np.ndarray) -> np.ndarray:
    r"""``domain.distance(points)``, or the exact signed distance of a :class:`Box`.

    For a box, positive inside :math:`\min_i \min(x_i - l_i, h_i - x_i)`, negative outside
    :math:`-|\max(l - x, 0, x - h)|`.
    """
    if hasattr(domain, "distance"):
        return domain.distance(points)
    if isinstance(domain, Box):
        points = check_domain_points(points, domain.dim, f"{type(domain).__name__} distance")
        lo, hi = domain.bounds
        inside = np.minimum(points - lo, hi - points).min(axis=1)
        gap = np.maximum(np.maximum(lo - points, points - hi), 0.0)
        return np.where(inside >= 0, inside, -np.linalg.norm(gap, axis=1))
    raise ValueError(f"{type(domain).__name__} has no distance function")
