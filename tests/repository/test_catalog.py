"""Every catalog problem's exact solution satisfies its equation and conditions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuralpde.conditions import Dirichlet, Initial, InitialVelocity, Neumann, Robin
from neuralpde.operators import FieldValues, dt, grad
from neuralpde.problem_file import load_problem_file
from neuralpde.sampling import SobolSampler

from ..conftest import CATALOG

NAMES = {"poisson2d_sine", "helmholtz2d", "heat2d", "wave1d"}
REFERENCE_ONLY = {"poisson2d_bumps", "helmholtz2d_source", "heat2d_varcoef", "wave2d_pulse"}
EXACT = [p for p in CATALOG if p.stem not in REFERENCE_ONLY]


def test_catalog_has_the_benchmark_problems():
    assert {p.stem for p in CATALOG} >= NAMES | REFERENCE_ONLY
    for p in CATALOG:
        spec = load_problem_file(str(p))
        assert spec["problem"].name == p.stem
        assert (spec["problem"].exact is None) == (p.stem in REFERENCE_ONLY)
        # the catalog holds problems only: the defaults must do without tuned settings
        assert all(spec[k] is None for k in ("field", "sampler", "trainer", "dtype"))
        assert all(c.weight == 1.0 for c in spec["problem"].conditions)


@pytest.mark.parametrize("name", sorted(REFERENCE_ONLY))
def test_initial_data_vanish_on_the_boundary(name):
    """Initial data must agree with the homogeneous boundary data where they meet."""
    problem = load_problem_file(str(CATALOG[0].parent / f"{name}.py"))["problem"]
    for cond in problem.conditions:
        if isinstance(cond, Initial) and callable(cond.value):
            b = problem.domain.space.boundary(np.random.default_rng(0).random((256, 2)))
            x = torch.as_tensor(np.column_stack([b.points, np.zeros(256)]))
            assert float(cond.value(x).abs().max()) < 1e-12


def _field(problem, fn, x):
    x = x.clone().requires_grad_(True)
    return FieldValues(fn(x), x, problem.domain.names, problem.time_index), x


def _perturbed(problem):
    lo, hi = (torch.as_tensor(b) for b in problem.domain.bounds)

    def fn(x):
        s = (x - lo) / (hi - lo)
        return problem.exact(x) + 0.01 * torch.sin(3.0 * s).prod(dim=1)

    return fn


@pytest.mark.parametrize("path", EXACT, ids=lambda p: p.stem)
def test_exact_solution_has_zero_residual(path):
    problem = load_problem_file(str(path))["problem"]
    pts = SobolSampler(n_interior=1024).draw(problem, seed=3).interior
    x = torch.as_tensor(pts, dtype=torch.float64)
    u, xg = _field(problem, problem.exact, x)
    r = problem.residual(u, xg).detach().numpy()
    # Source terms reach ~300 (Helmholtz); round-off in the second derivatives stays far below.
    assert np.max(np.abs(r)) < 1e-9
    # A perturbation of size 1e-2 is clearly visible in the residual.
    up, xp = _field(problem, _perturbed(problem), x)
    rp = problem.residual(up, xp).detach().numpy()
    assert np.sqrt(np.mean(rp**2)) > 1e-3


@pytest.mark.parametrize("path", EXACT, ids=lambda p: p.stem)
def test_exact_solution_meets_the_conditions(path):
    problem = load_problem_file(str(path))["problem"]
    draw = SobolSampler(n_boundary=512, n_initial=256).draw(problem, seed=5)
    for cond, pts, nrm in zip(
        problem.conditions, draw.condition_points, draw.condition_normals, strict=True
    ):
        x = torch.as_tensor(pts, dtype=torch.float64)
        target = cond.value(x) if callable(cond.value) else torch.full((len(x),), cond.value)
        if isinstance(cond, InitialVelocity):
            u, xg = _field(problem, problem.exact, x)
            got = dt(u)
        elif isinstance(cond, (Neumann, Robin)):
            u, xg = _field(problem, problem.exact, x)
            dn = (grad(u) * torch.as_tensor(nrm)).sum(dim=1)
            got = dn if isinstance(cond, Neumann) else cond.a * u.value + cond.b * dn
        else:
            assert isinstance(cond, (Dirichlet, Initial))
            got = problem.exact(x)
        np.testing.assert_allclose(got.detach().numpy(), np.asarray(target), atol=1e-12)
