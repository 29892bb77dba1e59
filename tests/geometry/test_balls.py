"""Disks and balls (:mod:`neuralpde.geometry.balls`): maps, normals, distances, measures, and a
Poisson problem solved on the unit disk."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neuralpde as npde
from neuralpde.geometry import Ball, Disk

from .shapes import _unit

# -- disk and ball --------------------------------------------------------------------------------


def test_disk_interior_is_inside_and_uniform():
    disk = Disk([1.0, -2.0], 2.0)
    n = 16384
    p = disk.interior(_unit(n, 2))
    assert p.shape == (n, 2) and disk.contains(p).all()
    r = np.linalg.norm(p - disk.center, axis=1)
    # r < R / sqrt(2) holds half the area; the four quadrants a quarter each.
    assert abs(np.mean(r < 2.0 / math.sqrt(2.0)) - 0.5) < 0.01
    q = (p[:, 0] > 1.0) * 2 + (p[:, 1] > -2.0)
    np.testing.assert_allclose(np.bincount(q, minlength=4) / n, 0.25, atol=0.01)


def test_disk_boundary_normals_distance_and_arc_length():
    disk = Disk([1.0, -2.0], 2.0)
    s = disk.boundary(_unit(8192, 2, seed=1))
    np.testing.assert_allclose(np.linalg.norm(s.points - disk.center, axis=1), 2.0, atol=1e-14)
    np.testing.assert_allclose(s.normals, (s.points - disk.center) / 2.0, atol=1e-14)
    np.testing.assert_allclose(disk.distance(s.points), 0.0, atol=1e-14)
    assert disk.contains(s.points).all()
    np.testing.assert_array_equal(s.tags, 0)
    theta = np.arctan2(*(s.points - disk.center).T[::-1]) % (2 * np.pi)
    np.testing.assert_allclose(
        np.histogram(theta, bins=8, range=(0, 2 * np.pi))[0] / 8192, 1 / 8, atol=0.01
    )


def test_disk_distance_and_measures_closed_form():
    disk = Disk([0.0, 0.0], 1.5)
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, -1.5], [3.0, 4.0]])
    np.testing.assert_allclose(disk.distance(pts), [1.5, 0.5, 0.0, -3.5])
    np.testing.assert_array_equal(disk.contains(pts), [True, True, True, False])
    assert disk.measure == pytest.approx(math.pi * 1.5**2)
    assert disk.boundary_measure == pytest.approx(2 * math.pi * 1.5)
    assert disk.boundary_parts == ("boundary",)
    lo, hi = disk.bounds
    np.testing.assert_array_equal(lo, [-1.5, -1.5])
    np.testing.assert_array_equal(hi, [1.5, 1.5])


@pytest.mark.parametrize("d", [2, 3, 4])
def test_ball_interior_uniform_and_boundary_exact(d):
    ball = Ball(np.arange(d, dtype=float), 2.0)
    n = 16384
    p = ball.interior(_unit(n, d, seed=2))
    assert ball.contains(p).all()
    r = np.linalg.norm(p - ball.center, axis=1)
    assert abs(np.mean(r < 2.0 * 0.5 ** (1 / d)) - 0.5) < 0.015  # equal-volume halves
    assert abs(np.mean(p[:, 0] > ball.center[0]) - 0.5) < 0.015
    s = ball.boundary(_unit(4096, d, seed=3))
    np.testing.assert_allclose(np.linalg.norm(s.points - ball.center, axis=1), 2.0, atol=1e-14)
    np.testing.assert_allclose(s.normals, (s.points - ball.center) / 2.0, atol=1e-14)
    np.testing.assert_allclose(ball.distance(s.points), 0.0, atol=1e-14)
    volume = {2: math.pi * 4, 3: 4 / 3 * math.pi * 8, 4: math.pi**2 / 2 * 16}[d]
    assert ball.measure == pytest.approx(volume)
    assert ball.boundary_measure == pytest.approx(d * volume / 2.0)


def test_ball_unit_edge_values_stay_finite():
    ball = Ball([0.0, 0.0, 0.0], 1.0)
    unit = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5], [np.nextafter(1, 0)] * 3, [1.0, 0.5, 0.0]])
    for pts in (ball.interior(unit), ball.boundary(unit).points):
        assert np.isfinite(pts).all() and ball.contains(pts).all()


# -- end to end -----------------------------------------------------------------------------------


def test_solve_poisson_on_the_unit_disk():
    problem = npde.Problem(
        Disk([0.0, 0.0], 1.0),
        npde.Poisson(1.0),
        [npde.Dirichlet(0.0)],
        exact=lambda x: (1 - x[:, 0] ** 2 - x[:, 1] ** 2) / 4,
    )
    sol = npde.solve(
        problem,
        npde.Siren(width=16, depth=2, w0=1.0),
        npde.SobolSampler(256, 128),
        npde.Trainer(adam_steps=50, lbfgs_steps=50, progress=False),
        seed=0,
    )
    pts = problem.domain.interior(_unit(2048, 2, seed=12))
    u, exact = sol(pts), problem.exact_values(pts)
    assert np.linalg.norm(u - exact) / np.linalg.norm(exact) < 5e-2
