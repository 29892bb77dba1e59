r"""The lift of a hard constraint, fitted as a Chebyshev series.

A hard-constrained field :math:`u = A + C\varphi\tau^k N` (see
:mod:`neuralpde.fields.constraints`) needs the lift :math:`A` only where :math:`\varphi\tau^k`
and its time derivatives vanish: on the Dirichlet parts of the boundary (its value) and at the
initial time (its value and, for a second-order equation, its time derivative). Inside, the
network :math:`N` corrects whatever :math:`A` is. So :math:`A` is a Chebyshev series
(:class:`~neuralpde.fields.chebyshev.ChebyshevSeries`) fitted to the exact lift :math:`A^\ast`
(the problem's data, blended) by one linear least-squares solve,

.. math::

    \min_c\; \frac{1}{N_b}\sum_b (A - A^\ast)^2
      + \frac{1}{N_v}\sum_v \big(\tfrac{T}{2}(\partial_t A - \partial_t A^\ast)\big)^2
      + \frac{\beta^2}{N_i}\sum_i (A - A^\ast)^2 ,

over points on the Dirichlet parts and the initial slice (:math:`b`), initial points for the
velocity (:math:`v`) and interior points (:math:`i`, :math:`\beta = 0.1`, which keep :math:`A`
close to :math:`A^\ast` inside). The degrees per axis follow the data's spectrum. Smooth data
are then met to about 1e-12 of their size, and a stored solution needs no problem code: the
series is saved with the weights.

On a box (or a box times an interval of time) the series is instead the tensor-product
interpolant of :math:`A^\ast` at the Chebyshev–Lobatto points
:math:`s_j = \cos(\pi j / p_i)`, its coefficients by a type-I discrete cosine transform along
each axis. The grid holds the box's faces, so the interpolant restricted to a face is the
interpolant of the face's data, and the degree along each axis is doubled until the last
coefficients fall below :math:`10^{-13}` of the largest: no least-squares matrix is formed, and
data as sharp as a Gaussian of width 0.1 (degree ~80 per axis, 6,561 terms) are met to
round-off.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence

import numpy as np
import scipy.fft
import torch

from ..conditions import Dirichlet, Initial, InitialVelocity
from ..domains import Box, SpaceTime
from ..fields.chebyshev import ChebyshevSeries, chebyshev_basis, index_set
from ..fields.constraints import corner_functions
from ..problem import Problem
from ..sampling import SobolSampler

__all__ = ["fit_lift"]

log = logging.getLogger("neuralpde.training")

_INTERIOR_WEIGHT = 0.1
_TAIL = 1e-13  # the interpolant's last coefficients, relative to its largest, once resolved
_CHOP = 1e-15  # coefficients dropped from a resolved interpolant, relative to its largest
_MAX_DEGREE = 256  # per axis, interpolated
_MAX_TERMS = 40_000  # of an interpolated series (tables of 4M numbers per block of points)
_DEFECT_POINTS = 4096  # per condition, where an interpolated series' defect is measured


def fit_lift(
    problem: Problem,
    exact_lift,
    built_in: tuple[bool, ...],
    degrees: Sequence[int],
    *,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
    corners: Sequence[dict] = (),
) -> tuple[ChebyshevSeries, dict]:
    r"""A Chebyshev series fitted to ``exact_lift`` where it counts (see the module's docstring),
    with the given per-axis ``degrees``, doubled (up to 60 per axis) while the data are met to
    more than 1e-10 of their size: data blended across parts that meet at a corner converge
    more slowly than smooth data. Returns the best module and its record: the largest defect on
    the boundary and initial points relative to the data's largest value, the number of terms,
    the degrees and the seconds taken. With reentrant ``corners`` (steady problems on polygons),
    the singular functions :math:`\sigma_c` of the clear ones join the series' terms in the
    least-squares fit, so that the series fits only what is smooth; their weights :math:`a_c`
    are the record's ``corner_weights`` (0 for a corner that is not clear; see
    :mod:`neuralpde.fields.constraints`)."""
    t_start = time.perf_counter()
    degrees = tuple(int(p) for p in degrees)
    best = None
    if _on_a_box(problem):
        best = _interpolated_series(problem, exact_lift, built_in, degrees, seed)
    for _ in range(0 if best is not None and best[1]["relative_defect"] <= 1e-10 else 3):
        fit = _fit_series(problem, exact_lift, built_in, degrees, seed, corners)
        if best is None or fit[1]["relative_defect"] < best[1]["relative_defect"]:
            best = fit
        more = tuple(min(2 * p, 60) if p else 0 for p in degrees)
        if best[1]["relative_defect"] <= 1e-10 or more == degrees:
            break
        degrees = more
    series, record = best
    record["seconds"] = time.perf_counter() - t_start
    log.info(
        "lift: a Chebyshev series of %d terms meets the boundary and initial data to %.1e of "
        "their size (%.1f s)",
        record["terms"],
        record["relative_defect"],
        record["seconds"],
    )
    return series.to(dtype=dtype, device=device), record


def _on_a_box(problem: Problem) -> bool:
    dom = problem.domain
    return isinstance(dom.space if isinstance(dom, SpaceTime) else dom, Box)


def _lobatto_coefficients(values: np.ndarray) -> np.ndarray:
    r"""Chebyshev coefficients of the tensor-product interpolant of ``values``, given at the
    points :math:`s_j = \cos(\pi j / p_i)` along each axis (an axis of one point is a constant):
    :math:`c_k = \tfrac{2}{p}\sum_j{}'' v_j \cos(\pi jk/p)`, halved at :math:`k = 0, p`."""
    c = values
    for axis, n in enumerate(values.shape):
        p = n - 1
        if p == 0:
            continue
        c = scipy.fft.dct(c, type=1, axis=axis) / p
        ends = [slice(None)] * c.ndim
        for k in (0, p):
            ends[axis] = k
            c[tuple(ends)] *= 0.5
    return c


def _interpolant(problem: Problem, exact_lift, degrees: Sequence[int]) -> np.ndarray:
    """The coefficients of the interpolant of ``exact_lift`` at the Lobatto points of the
    domain's bounding box, shape ``degrees + 1``."""
    lo, hi = problem.domain.bounds
    axes = [
        lo[i] + 0.5 * (hi[i] - lo[i]) * (1 + np.cos(np.pi * np.arange(p + 1) / max(p, 1)))
        for i, p in enumerate(degrees)
    ]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(degrees))
    with torch.no_grad():
        v = exact_lift(torch.as_tensor(grid, dtype=torch.float64)).numpy()
    return _lobatto_coefficients(np.nan_to_num(v).reshape([p + 1 for p in degrees]))


def _unresolved(c: np.ndarray) -> list[bool]:
    """Per axis, whether the last two coefficients along it exceed :data:`_TAIL` of the
    largest."""
    top = max(float(np.abs(c).max()), 1e-300)
    out = []
    for axis, n in enumerate(c.shape):
        tail = np.take(np.abs(c), range(max(n - 2, 0), n), axis=axis) if n > 2 else None
        out.append(tail is not None and float(tail.max()) > _TAIL * top)
    return out


def _chopped(c: np.ndarray) -> np.ndarray:
    """``c`` less its trailing slices, along each axis, whose coefficients are all below
    :data:`_CHOP` of the largest (they change no value by more than that)."""
    top = max(float(np.abs(c).max()), 1e-300)
    keep = []
    for axis in range(c.ndim):
        profile = np.abs(c).max(axis=tuple(a for a in range(c.ndim) if a != axis))
        big = np.nonzero(profile > _CHOP * top)[0]
        keep.append(slice(0, int(big[-1]) + 1 if big.size else 1))
    return c[tuple(keep)]


def _interpolated_series(
    problem: Problem, exact_lift, built_in: tuple[bool, ...], degrees: Sequence[int], seed: int
) -> tuple[ChebyshevSeries, dict] | None:
    """The interpolant on a box (see the module's docstring), its degrees doubled along each
    unresolved axis; ``None`` where the terms would pass :data:`_MAX_TERMS`."""
    degrees = [max(int(p), 8) if p else 0 for p in degrees]
    while True:
        c = _interpolant(problem, exact_lift, degrees)
        more = [
            min(2 * p, _MAX_DEGREE) if bad else p
            for p, bad in zip(degrees, _unresolved(c), strict=True)
        ]
        if more == degrees or math.prod(p + 1 for p in more) > _MAX_TERMS:
            break
        degrees = more
    if math.prod(p + 1 for p in degrees) > _MAX_TERMS:
        return None
    c = _chopped(c)
    degrees = [n - 1 for n in c.shape]
    grids = torch.meshgrid(*[torch.arange(p + 1) for p in degrees], indexing="ij")
    indices = torch.stack([g.reshape(-1) for g in grids], dim=1).to(torch.int64)
    lo, hi = problem.domain.bounds
    series = ChebyshevSeries(lo.tolist(), hi.tolist(), indices, torch.as_tensor(c.reshape(-1)))
    record = {
        "kind": "chebyshev",
        "fit": "interpolation",
        "terms": int(indices.shape[0]),
        "degrees": [int(p) for p in degrees],
        "relative_defect": _defect(problem, exact_lift, built_in, series, seed),
    }
    return series, record


def _defect(
    problem: Problem, exact_lift, built_in: tuple[bool, ...], series: ChebyshevSeries, seed: int
) -> float:
    """The largest miss of ``series`` on the built-in conditions' points (values, and time
    derivatives times half the time span), relative to the data's largest value."""
    n = _DEFECT_POINTS
    draw = SobolSampler(n_interior=n, n_boundary=n, n_initial=n).draw(problem, seed + 1, 0)
    lo, hi = problem.domain.bounds
    axis = problem.domain.dim - 1
    half_t = 0.5 * float(hi[axis] - lo[axis])
    misses, size = [0.0], 1e-300
    for i, c in enumerate(problem.conditions):
        if not built_in[i]:
            continue
        x = torch.as_tensor(np.asarray(draw.condition_points[i]), dtype=torch.float64)
        if isinstance(c, (Dirichlet, Initial)):
            with torch.no_grad():
                want, got = exact_lift(x), series(x)
        elif isinstance(c, InitialVelocity):
            e = torch.zeros_like(x)
            e[:, axis] = 1.0
            want = half_t * torch.func.jvp(exact_lift, (x,), (e,))[1].detach()
            got = half_t * series.derivative(x, axis)
        else:
            continue
        size = max(size, float(want.abs().max()))
        misses.append(float((got - want).abs().max()))
    return max(misses) / size


def _fit_series(
    problem: Problem,
    exact_lift,
    built_in: tuple[bool, ...],
    degrees: Sequence[int],
    seed: int,
    corners: Sequence[dict] = (),
) -> tuple[ChebyshevSeries, dict]:
    """One least-squares fit of a series of the given degrees, with the singular functions of
    ``corners`` beside its terms (float64, on the CPU)."""
    dom = problem.domain
    lo, hi = dom.bounds
    indices = index_set(degrees)
    n_terms = indices.shape[0]
    n_points = max(2 * n_terms, 1024)
    draw = SobolSampler(n_interior=n_points, n_boundary=n_points, n_initial=n_points).draw(
        problem, seed, 0
    )
    series = ChebyshevSeries(lo.tolist(), hi.tolist(), indices).to(torch.float64)

    def tensor(a):
        return torch.as_tensor(np.asarray(a), dtype=torch.float64)

    clear = [c for c in corners if c.get("clear")]

    def with_corners(basis: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if not clear:
            return basis
        return torch.cat([basis, corner_functions(clear, x, cut=False)], dim=1)

    axis = dom.dim - 1
    half_t = 0.5 * float(hi[axis] - lo[axis])
    blocks = []  # (design rows, targets, weight, counts toward the defect)
    for i, c in enumerate(problem.conditions):
        if not built_in[i]:
            continue
        x = tensor(draw.condition_points[i])
        w = 1.0 / math.sqrt(len(x))
        s = series.scaled(x)
        if isinstance(c, (Dirichlet, Initial)):
            with torch.no_grad():
                design = with_corners(chebyshev_basis(s, indices), x)
                blocks.append((design, exact_lift(x), w, True))
        elif isinstance(c, InitialVelocity):
            e = torch.zeros_like(x)
            e[:, axis] = 1.0
            dt = torch.func.jvp(exact_lift, (x,), (e,))[1].detach()
            # d/dt of the series: its derivative in s times ds/dt = 1 / half_t
            basis = chebyshev_basis(s, indices, derivative_axis=axis) / half_t
            basis = torch.cat([basis, basis.new_zeros((len(x), len(clear)))], dim=1)
            blocks.append((half_t * basis, half_t * dt, w, True))
    x = tensor(draw.interior)
    with torch.no_grad():
        inner = (with_corners(chebyshev_basis(series.scaled(x), indices), x), exact_lift(x))
    blocks.append((*inner, _INTERIOR_WEIGHT / math.sqrt(len(x)), False))
    a = torch.cat([w * b for b, _, w, _ in blocks])
    y = torch.cat([w * t.reshape(-1) for _, t, w, _ in blocks])
    # column scaling, then a least-squares solve that drops directions below round-off
    # (inside a hole, say, where no point holds the series)
    scale = torch.linalg.norm(a, dim=0).clamp_min(1e-300)
    # (the singular value decomposition where singular columns join: pivoted QR's rank
    # decisions then come out erratic)
    driver = "gelsd" if clear else "gelsy"
    coef = torch.linalg.lstsq(a / scale, y.unsqueeze(1), rcond=1e-13, driver=driver)
    coef = coef.solution[:, 0] / scale
    series.coefficients.copy_(coef[:n_terms])
    size = max(float(torch.cat([t.abs().reshape(-1) for _, t, _, _ in blocks]).max()), 1e-300)
    misses = [float((b @ coef - t.reshape(-1)).abs().max()) for b, t, _, edge in blocks if edge]
    defect = max(misses, default=0.0)
    record = {
        "kind": "chebyshev",
        "terms": n_terms,
        "degrees": [int(v) for v in indices.max(dim=0).values],
        "relative_defect": defect / size,
    }
    if corners:
        fitted = iter(coef[n_terms:].tolist())
        record["corner_weights"] = [next(fitted) if c.get("clear") else 0.0 for c in corners]
    return series, record
