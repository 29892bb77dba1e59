r"""Balls and disks: :class:`Ball` in any dimension and :class:`Disk`, its 2-D special case."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import gammainc, ndtri

from .._arguments import real_array
from ..domains import BoundarySample, Domain, check_domain_points, check_unit_points
from ..limits import MAX_IN_FEATURES
from .common import REL_TOL, check_names

__all__ = ["Ball", "Disk"]

_TINY = 2.0**-53  # keeps ndtri finite on unit points 0 and 1


class Ball(Domain):
    r"""The closed ball :math:`|x - c| \le R` in :math:`d` dimensions; one part ``"boundary"``.

    Interior: :math:`d` unit coordinates give a Gaussian vector :math:`g = \Phi^{-1}(u)` (inverse
    normal CDF, ``scipy.special.ndtri``); its direction :math:`g/|g|` is uniform on the sphere and
    independent of :math:`F_{\chi^2_d}(|g|^2) \sim U(0, 1)`, so
    :math:`x = c + R\, F_{\chi^2_d}(|g|^2)^{1/d}\, g/|g|` is uniform in the ball (volume-preserving
    in distribution). Boundary: :math:`x = c + R\, g/|g|`, outward normal :math:`g/|g|`.
    ``distance`` is exact: :math:`R - |x - c|`.
    """

    def __init__(
        self,
        center: Sequence[float],
        radius: float,
        names: Sequence[str] | None = None,
    ) -> None:
        c = np.atleast_1d(real_array(center, "center"))
        if c.ndim != 1 or c.size == 0 or not np.all(np.isfinite(c)):
            raise ValueError(f"center must be a flat sequence of finite numbers, got {center!r}")
        if c.size > MAX_IN_FEATURES:
            raise ValueError(
                f"center must hold at most {MAX_IN_FEATURES} coordinates (the limit on a "
                f"domain's dimension), got {c.size}"
            )
        if (
            isinstance(radius, bool)
            or not isinstance(radius, (int, float, np.floating, np.integer))
            or not (np.isfinite(radius) and radius > 0)
        ):
            raise ValueError(f"radius must be a positive finite number, got {radius!r}")
        self.center = c
        self.radius = float(radius)
        self.names = check_names(names, c.size)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.center - self.radius, self.center + self.radius

    @property
    def boundary_parts(self) -> tuple[str, ...]:
        return ("boundary",)

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Exact distance to the sphere, positive inside: :math:`R - |x - c|`."""
        points = check_domain_points(points, self.dim, f"{type(self).__name__}.distance")
        return self.radius - np.linalg.norm(points - self.center, axis=1)

    def contains(self, points: np.ndarray) -> np.ndarray:
        points = check_domain_points(points, self.dim, f"{type(self).__name__}.contains")
        r = np.linalg.norm(points - self.center, axis=1)
        return r <= self.radius * (1.0 + REL_TOL)

    @staticmethod
    def _directions(unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = ndtri(np.clip(unit, _TINY, 1.0 - _TINY))
        norm = np.linalg.norm(g, axis=1)
        zero = norm == 0.0  # unit point exactly at the centre of the cube
        g[zero] = 0.0
        g[zero, 0] = 1.0
        norm[zero] = 1.0
        return g / norm[:, None], norm

    def interior(self, unit: np.ndarray) -> np.ndarray:
        unit = check_unit_points(unit, self.dim, f"{type(self).__name__}.interior")
        direction, norm = self._directions(unit)
        d = self.dim
        r = self.radius * gammainc(d / 2.0, norm**2 / 2.0) ** (1.0 / d)
        return self.center + r[:, None] * direction

    def boundary(self, unit: np.ndarray) -> BoundarySample:
        unit = check_unit_points(unit, self.dim, f"{type(self).__name__}.boundary")
        direction, _ = self._directions(unit)
        pts = self.center + self.radius * direction
        return BoundarySample(pts, direction, np.zeros(len(unit), dtype=np.int64))

    @property
    def measure(self) -> float:
        r""":math:`\pi^{d/2} R^d / \Gamma(d/2 + 1)`."""
        d = self.dim
        return math.pi ** (d / 2) * self.radius**d / math.gamma(d / 2 + 1)

    @property
    def boundary_measure(self) -> float:
        r"""Surface measure :math:`d\, V / R`."""
        return self.dim * self.measure / self.radius

    def describe(self) -> dict:
        out = super().describe()
        out["center"] = self.center.tolist()
        out["radius"] = self.radius
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.center.tolist()}, {self.radius}, names={self.names})"


class Disk(Ball):
    r"""The closed disk :math:`|x - c| \le R` in 2-D; one part ``"boundary"``.

    Interior by the area-preserving polar map :math:`r = R\sqrt{u_0}`, :math:`\theta = 2\pi u_1`;
    boundary by arc length :math:`\theta = 2\pi u_0`, normal :math:`(\cos\theta, \sin\theta)`.
    """

    def __init__(
        self, center: Sequence[float], radius: float, names: Sequence[str] = ("x", "y")
    ) -> None:
        if np.asarray(center).shape != (2,):
            raise ValueError(f"Disk takes a center of 2 numbers, got center={center!r}")
        super().__init__(center, radius, names=names)

    def interior(self, unit: np.ndarray) -> np.ndarray:
        unit = check_unit_points(unit, 2, "Disk.interior")
        r = self.radius * np.sqrt(unit[:, 0])
        theta = 2.0 * np.pi * unit[:, 1]
        return self.center + r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])

    def boundary(self, unit: np.ndarray) -> BoundarySample:
        unit = check_unit_points(unit, 2, "Disk.boundary")
        theta = 2.0 * np.pi * unit[:, 0]
        normals = np.column_stack([np.cos(theta), np.sin(theta)])
        pts = self.center + self.radius * normals
        return BoundarySample(pts, normals, np.zeros(len(unit), dtype=np.int64))

    def __repr__(self) -> str:
        return f"Disk({self.center.tolist()}, {self.radius})"
