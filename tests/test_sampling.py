"""Samplers: reproducibility, placement of interior, boundary and initial points, quality."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import qmc

from neuralpde.conditions import Dirichlet, Initial, InitialVelocity
from neuralpde.domains import Interval, Rectangle, SpaceTime
from neuralpde.equations import Heat, Poisson, Wave
from neuralpde.problem import Problem
from neuralpde.sampling import LatinHypercubeSampler, SobolSampler, UniformSampler

SAMPLERS = [UniformSampler, SobolSampler, LatinHypercubeSampler]
IDS = ["uniform", "sobol", "lhs"]

RECT = Rectangle([0.0, -1.0], [2.0, 1.0])


def _poisson_problem() -> Problem:
    return Problem(
        RECT,
        Poisson(f=1.0),
        [Dirichlet(0.0, on="x_min"), Dirichlet(1.0, on=["x_max", "y_min", "y_max"])],
    )


def _heat_problem() -> Problem:
    st = SpaceTime(RECT, t_span=(0.25, 1.5))
    return Problem(st, Heat(kappa=0.1), [Initial(0.0), Dirichlet(0.0)])


def _wave_problem() -> Problem:
    st = SpaceTime(Interval(0.0, 1.0), t_span=(-1.0, 2.0))
    return Problem(st, Wave(), [Dirichlet(0.0), Initial(1.0), InitialVelocity(0.0)])


def _sampler(cls, **kw):
    counts = {"n_interior": 256, "n_boundary": 256, "n_initial": 128}
    counts.update(kw)
    return cls(**counts)


def _all_arrays(points):
    return [points.interior, *points.condition_points]


# -- reproducibility ------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", SAMPLERS, ids=IDS)
@pytest.mark.parametrize("make_problem", [_poisson_problem, _heat_problem, _wave_problem])
def test_same_seed_and_round_give_identical_points(cls, make_problem):
    problem = make_problem()
    a = _sampler(cls).draw(problem, seed=7, round=3)
    b = _sampler(cls).draw(problem, seed=7, round=3)
    assert len(a.condition_points) == len(problem.conditions)
    for x, y in zip(_all_arrays(a), _all_arrays(b), strict=True):
        assert x.dtype == np.float64
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("cls", SAMPLERS, ids=IDS)
def test_different_seed_or_round_give_different_points(cls):
    problem = _heat_problem()
    s = _sampler(cls)
    base = s.draw(problem, seed=7, round=0)
    for other in (s.draw(problem, seed=8, round=0), s.draw(problem, seed=7, round=1)):
        for x, y in zip(_all_arrays(base), _all_arrays(other), strict=True):
            assert x.shape == y.shape
            # Not merely a permutation or a tiny shift: almost every point moves.
            assert np.mean(np.all(np.isclose(x, y), axis=1)) < 0.05
            assert not np.array_equal(np.sort(x, axis=0), np.sort(y, axis=0))


@pytest.mark.parametrize("cls", SAMPLERS, ids=IDS)
def test_default_round_is_zero(cls):
    problem = _poisson_problem()
    s = _sampler(cls)
    np.testing.assert_array_equal(
        s.draw(problem, seed=3).interior, s.draw(problem, seed=3, round=0).interior
    )


# -- placement ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", SAMPLERS, ids=IDS)
def test_interior_points_inside_domain(cls):
    for problem in (_poisson_problem(), _heat_problem(), _wave_problem()):
        pts = _sampler(cls, n_interior=300).draw(problem, seed=1).interior
        assert pts.shape == (300, problem.domain.dim)
        assert problem.domain.contains(pts).all()
        lo, hi = problem.domain.bounds
        # Spread over the whole domain.
        assert np.all(pts.max(axis=0) - pts.min(axis=0) > 0.9 * (hi - lo))


@pytest.mark.parametrize("cls", SAMPLERS, ids=IDS)
def test_dirichlet_on_one_face_gets_only_that_face(cls):
    problem = _poisson_problem()
    pts = _sampler(cls, n_boundary=600).draw(problem, seed=2)
    x_min, rest = pts.condition_points
    assert len(x_min) > 0
    np.testing.assert_array_equal(x_min[:, 0], 0.0)
    assert np.all((x_min[:, 1] >= -1.0) & (x_min[:, 1] <= 1.0))
    # The other three faces: none of their points is on x = 0 (apart from the corners' edges).
    on_rest = (rest[:, 0] == 2.0) | (rest[:, 1] == -1.0) | (rest[:, 1] == 1.0)
    assert on_rest.all()
    assert not np.any((rest[:, 0] == 0.0) & (np.abs(rest[:, 1]) < 1.0))
    # The two conditions split one shared boundary draw of n_boundary points.
    assert len(x_min) + len(rest) == 600
    # x_min is a side of length 2 out of a perimeter of 8.
    assert 0.15 < len(x_min) / 600 < 0.35


@pytest.mark.parametrize("cls", SAMPLERS, ids=IDS)
def test_dirichlet_everywhere_gets_all_boundary_points(cls):
    problem = _heat_problem()
    initial, boundary = _sampler(cls, n_boundary=400).draw(problem, seed=4).condition_points
    assert boundary.shape == (400, 3)
    on_face = (
        (boundary[:, 0] == 0.0)
        | (boundary[:, 0] == 2.0)
        | (boundary[:, 1] == -1.0)
        | (boundary[:, 1] == 1.0)
    )
    assert on_face.all()
    t = boundary[:, 2]
    assert np.all((t >= 0.25) & (t <= 1.5))
    assert t.max() - t.min() > 1.0  # lateral boundary spans the time interval


@pytest.mark.parametrize("cls", SAMPLERS, ids=IDS)
def test_initial_conditions_at_t0(cls):
    problem = _wave_problem()
    boundary, u0, v0 = _sampler(cls, n_initial=128).draw(problem, seed=5).condition_points
    for pts in (u0, v0):
        assert pts.shape == (128, 2)
        np.testing.assert_array_equal(pts[:, 1], -1.0)
        assert np.all((pts[:, 0] >= 0.0) & (pts[:, 0] <= 1.0))
        assert pts[:, 0].max() - pts[:, 0].min() > 0.9
    # The two initial conditions draw from separate streams.
    assert not np.array_equal(u0, v0)
    # The boundary of an interval in space-time: x in {0, 1}, t across [t0, t1].
    assert set(np.unique(boundary[:, 0])) == {0.0, 1.0}
    assert np.all((boundary[:, 1] >= -1.0) & (boundary[:, 1] <= 2.0))


def test_no_points_on_tiny_face_raises():
    # The x faces of a 1000 x 1 rectangle hold 1/2002 of the perimeter each.
    rect = Rectangle([0.0, 0.0], [1000.0, 1.0])
    problem = Problem(rect, Poisson(), [Dirichlet(0.0, on="x_min")])
    with pytest.raises(ValueError, match="n_boundary"):
        UniformSampler(n_interior=8, n_boundary=4).draw(problem, seed=0)


# -- unit-cube quality ----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", SAMPLERS, ids=IDS)
def test_unit_points_in_half_open_cube(cls):
    u = cls().unit(512, 3, np.random.default_rng(0))
    assert u.shape == (512, 3)
    assert np.all((u >= 0.0) & (u < 1.0))


def _is_latin(u: np.ndarray) -> bool:
    n = u.shape[0]
    strata = np.floor(u * n).astype(int)
    return all(np.array_equal(np.sort(strata[:, j]), np.arange(n)) for j in range(u.shape[1]))


@pytest.mark.parametrize(("n", "d"), [(1, 1), (10, 2), (97, 3), (256, 5)])
def test_latin_hypercube_one_point_per_stratum(n, d):
    u = LatinHypercubeSampler().unit(n, d, np.random.default_rng(11))
    assert u.shape == (n, d)
    assert _is_latin(u)


def test_uniform_points_are_not_latin():
    # Control for the property above: i.i.d. points almost never fill every stratum once.
    assert not _is_latin(UniformSampler().unit(97, 3, np.random.default_rng(11)))


def test_latin_hypercube_interior_draw_is_stratified_in_domain():
    problem = _poisson_problem()
    pts = LatinHypercubeSampler(n_interior=64).draw(problem, seed=9).interior
    lo, hi = RECT.bounds
    assert _is_latin((pts - lo) / (hi - lo))


def test_sobol_discrepancy_below_uniform():
    rng = np.random.default_rng(123)
    sobol = SobolSampler().unit(1024, 2, rng)
    uniform = UniformSampler().unit(1024, 2, np.random.default_rng(123))
    d_sobol = qmc.discrepancy(sobol)
    d_uniform = qmc.discrepancy(uniform)
    # Typical values: about 8e-7 for scrambled Sobol, 2e-4 for i.i.d. points.
    assert d_sobol < d_uniform / 20


def test_sobol_non_power_of_two_does_not_warn():
    # pytest turns warnings into errors; the sampler silences scipy's balance warning itself.
    u = SobolSampler().unit(100, 2, np.random.default_rng(0))
    assert u.shape == (100, 2)


# -- validation -----------------------------------------------------------------------------------

BAD = [
    ("n_interior", 0),
    ("n_interior", -4),
    ("n_interior", 2.5),
    ("n_interior", True),
    ("n_interior", "64"),
    ("n_boundary", 0),
    ("n_boundary", None),
    ("n_initial", 0),
    ("n_initial", -1),
    ("resample_every", -1),
    ("resample_every", 1.5),
    ("resample_every", False),
]


@pytest.mark.parametrize("cls", SAMPLERS, ids=IDS)
@pytest.mark.parametrize(("name", "value"), BAD)
def test_bad_counts_raise_value_error_naming_parameter(cls, name, value):
    with pytest.raises(ValueError, match=name):
        cls(**{name: value})


def test_valid_counts_accepted_and_described():
    s = SobolSampler(n_interior=np.int64(32), n_boundary=16, n_initial=8, resample_every=0)
    assert s.describe() == {
        "type": "SobolSampler",
        "n_interior": 32,
        "n_boundary": 16,
        "n_initial": 8,
        "resample_every": 0,
    }


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seed": 1.5}, r"^seed must be a non-negative integer, got 1.5$"),
        ({"seed": "3"}, r"^seed must be a non-negative integer, got '3'$"),
        ({"seed": None}, r"^seed must be a non-negative integer, got None$"),
        ({"seed": -1}, r"^seed must be a non-negative integer, got -1$"),
        ({"seed": 0, "round": -1}, r"^round must be a non-negative integer, got -1$"),
        ({"seed": 0, "round": 2.0}, r"^round must be a non-negative integer, got 2.0$"),
    ],
)
def test_draw_refuses_seeds_and_rounds_that_are_not_non_negative_integers(kwargs, match):
    # seed=1.5 used to draw the points of seed=1, and seed="3" those of seed=3
    problem = _poisson_problem()
    with pytest.raises(ValueError, match=match):
        UniformSampler(16, 8).draw(problem, **kwargs)
    same = UniformSampler(16, 8).draw(problem, np.int64(3), np.int32(1)).interior
    np.testing.assert_array_equal(same, UniformSampler(16, 8).draw(problem, 3, 1).interior)
