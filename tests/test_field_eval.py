"""A solved field, loaded or live: its domain, the points it takes, its derivatives, its module."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.fields import build_field
from neuralpde.fields.chebyshev import index_set
from neuralpde.solution import Solution
from neuralpde.training import TrainResult
from neuralpde.training.status import Status

LSHAPE = npde.Polygon([(0, 0), (1, 0), (1, 0.5), (0.5, 0.5), (0.5, 1), (0, 1)])
FAST = {
    "sampler": npde.SobolSampler(n_interior=32, n_boundary=16, n_initial=16),
    "trainer": npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False),
    "seed": 0,
    "constraints": False,
}


def _poisson(domain: npde.Domain, name: str) -> npde.Problem:
    return npde.Problem(domain, npde.Poisson(f=1.0), [npde.Dirichlet(0.0)], name=name)


def _saved(solution: Solution, tmp_path, name: str, **load) -> npde.solution.SavedField:
    return npde.load(solution.save(tmp_path / f"{name}.h5", n=9), **load)


@pytest.fixture(scope="module")
def lshape(tmp_path_factory):
    """The live and the loaded field of a (barely trained) Poisson problem on an L."""
    sol = npde.solve(_poisson(LSHAPE, "lshape"), npde.Siren(width=8, depth=1), **FAST)
    return sol, _saved(sol, tmp_path_factory.mktemp("lshape"), "lshape")


def _constrained(problem: npde.Problem, time: dict | None, tmp_path) -> npde.solution.SavedField:
    """A loaded field whose network is a hard constraint with a Chebyshev lift (random
    coefficients of degree 2 per axis), so that every part of it has derivatives."""
    lo, hi = problem.domain.bounds
    d = len(lo)
    pieces = [
        {"kind": "plane", "axis": 0, "at": float(lo[0]), "side": 1.0},
        {"kind": "plane", "axis": 0, "at": float(hi[0]), "side": -1.0},
    ]
    indices = index_set([2] * d)
    architecture = {
        "field": npde.Siren(width=12, depth=2, w0=2.0).describe(),
        "in_features": d,
        "input_scaling": {"lower": lo.tolist(), "upper": hi.tolist()},
        "constraint": {
            "pieces": pieces,
            "norm": 0.25,
            "scale": 0.7,
            "time": time,
            "lift": {"type": "chebyshev", "terms": len(indices)},
        },
    }
    torch.manual_seed(3)
    net = build_field(architecture).double()
    with torch.no_grad():
        net.lift.indices.copy_(indices)
        net.lift.coefficients.copy_(torch.randn(len(indices), dtype=torch.float64))
    result = TrainResult(Status.STEP_BUDGET, "all steps done", 0)
    sol = Solution(problem, net, architecture, result, seed=0, settings={})
    return _saved(sol, tmp_path, problem.name)


def _central(field, x: np.ndarray, axis: int, h: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """First and second central differences of ``field`` along ``axis`` at ``x``."""
    e = np.zeros(x.shape[1])
    e[axis] = h
    up, mid, down = field(x + e), field(x), field(x - e)
    return (up - down) / (2 * h), (up - 2 * mid + down) / h**2


def _close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-6) -> None:
    assert np.abs(a - b).max() <= rtol * np.abs(b).max(), np.abs(a - b).max() / np.abs(b).max()


# -- the domain -------------------------------------------------------------------------------


def test_a_point_in_the_notch_of_an_l_is_nan_with_one_warning(lshape):
    for field in lshape:
        inside = [[0.25, 0.25], [0.25, 0.75], [0.75, 0.25]]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert np.isfinite(field(inside)).all()
        with pytest.warns(npde.OutsideDomainWarning, match=r"^1 of 2 points lie outside") as rec:
            values = field([[0.9, 0.9], [0.25, 0.25]])
        assert len(rec) == 1 and rec[0].filename == __file__
        assert np.isnan(values[0]) and np.isfinite(values[1])
        assert issubclass(npde.OutsideDomainWarning, npde.ExtrapolationWarning)
        assert issubclass(npde.OutsideDomainWarning, UserWarning)
        for method in (field.gradient, field.laplacian, field.hessian):
            with pytest.warns(npde.OutsideDomainWarning, match="1 of 1 points") as rec:
                assert np.isnan(method([[0.9, 0.9]])).all()
            assert rec[0].filename == __file__


def test_strict_raises_instead(lshape, tmp_path):
    sol, field = lshape
    with pytest.raises(ValueError, match=r"1 of 2 points lie outside .*Polygon.*e\.g\. \[0\.9"):
        field([[0.25, 0.25], [0.9, 0.9]], strict=True)
    with pytest.raises(ValueError, match="strict=True"):
        sol.gradient([[0.9, 0.9]], strict=True)
    strict = npde.load(field.path, strict=True)
    assert strict.strict and np.isfinite(strict([[0.25, 0.25]])).all()
    with pytest.raises(ValueError, match="lie outside"):
        strict.laplacian([[0.9, 0.9]])
    with pytest.warns(npde.OutsideDomainWarning):  # a call's strict=False overrides the field's
        strict([[0.9, 0.9]], strict=False)
    with pytest.raises(TypeError, match="strict must be True or False"):
        npde.load(field.path, strict="yes")


def test_the_boundary_counts_as_inside(lshape):
    _, field = lshape
    boundary = np.array(
        [[0.5, 0.5], [0.75, 0.5], [0.5, 0.75], [1.0, 0.25], [0.0, 0.0], [0.3, 1.0]], dtype=float
    )
    near = boundary + 1e-14  # rounding off the boundary, inward or outward
    assert field.contains(boundary).all() and field.contains(near).all()
    far = [[0.5 + 1e-6, 0.5 + 1e-6], [1.0 + 1e-6, 0.25], [-1e-6, 0.5]]
    assert not field.contains(far).any()
    assert field.domain is not None and type(field.domain).__name__ == "Polygon"


def test_a_disk_and_a_difference_are_rebuilt_from_the_file(tmp_path):
    disk = npde.solve(
        _poisson(npde.Disk((0.0, 0.0), 1.0), "disk"), npde.Siren(width=8, depth=1), **FAST
    )
    field = _saved(disk, tmp_path, "disk")
    pts = [[0.0, 0.0], [1.0, 0.0], [0.6, 0.8], [0.8, 0.8], [-0.99, -0.99]]
    np.testing.assert_array_equal(field.contains(pts), [True, True, True, False, False])
    np.testing.assert_array_equal(field.contains(pts), disk.contains(pts))

    holed = npde.Rectangle((0.0, 0.0), (1.0, 1.0)) - npde.Disk((0.5, 0.5), 0.25)
    sol = npde.solve(_poisson(holed, "holed"), npde.Siren(width=8, depth=1), **FAST)
    field = _saved(sol, tmp_path, "holed")
    assert type(field.domain).__name__ == "Difference"
    pts = [[0.1, 0.1], [0.5, 0.5], [0.75, 0.5], [0.5, 0.25], [1.0, 1.0], [1.0, 0.5 + 1e-15]]
    expected = [True, False, True, True, True, True]
    np.testing.assert_array_equal(field.contains(pts), expected)
    np.testing.assert_array_equal(sol.contains(pts), expected)
    with pytest.warns(npde.OutsideDomainWarning, match=r"1 of 6 .*Difference"):
        values = field(pts)
    assert np.isnan(values[1]) and np.isfinite(np.delete(values, 1)).all()


def test_a_domain_that_cannot_be_rebuilt_is_known_by_its_bounding_box(lshape, tmp_path):
    _, loaded = lshape
    field = npde.load(loaded.path)
    # a mesh's description names its file, not its cells
    field.record["problem"]["domain"] = {
        **field.record["problem"]["domain"],
        "type": "MeshDomain",
        "source": "l.msh",
    }
    assert field.domain is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(field([[0.9, 0.9]])).all()  # in the box: not told apart
    with pytest.warns(npde.OutsideDomainWarning, match="known by its bounding box only"):
        assert np.isnan(field([[1.5, 0.5]])).all()


# -- the points it takes ------------------------------------------------------------------------


def test_meshio_points_of_a_2d_field_drop_a_zero_third_column(lshape):
    for field in lshape:
        pts = np.array([[0.25, 0.25], [0.1, 0.7], [0.7, 0.1]])
        mesh = np.column_stack([pts, np.zeros(len(pts))])
        np.testing.assert_array_equal(field(mesh), field(pts))
        np.testing.assert_array_equal(field.gradient(mesh), field.gradient(pts))
        np.testing.assert_array_equal(field.contains(mesh), [True] * 3)
        mesh[1, 2] = 0.5
        with pytest.raises(ValueError, match=r"shape \(3, 3\), but the field's coordinates are "):
            field(mesh)
        with pytest.raises(ValueError, match=r"\('x', 'y'\).* 1 row is not, e\.g\. row 1"):
            field.laplacian(mesh)


def test_numpy_in_numpy_out_and_torch_in_torch_out(lshape):
    _, field = lshape
    pts = np.array([[0.25, 0.25], [0.1, 0.7]])
    values = field(pts)
    assert isinstance(values, np.ndarray) and values.dtype == np.float64 and values.shape == (2,)
    assert field([0.25, 0.25]).shape == (1,)  # one point, as (d,)
    assert field.gradient([0.25, 0.25]).shape == (1, 2)
    assert field.hessian(pts).shape == (2, 2, 2)
    assert isinstance(field.contains(pts), np.ndarray)

    t32 = torch.tensor(pts, dtype=torch.float32)
    out = field(t32)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32 and out.shape == (2,)
    np.testing.assert_allclose(out.numpy(), values, rtol=1e-6)
    t64 = torch.tensor(pts, requires_grad=True)
    for method, shape in ((field, (2,)), (field.gradient, (2, 2)), (field.laplacian, (2,))):
        out = method(t64)
        assert out.dtype == torch.float64 and out.shape == shape and not out.requires_grad
    assert field(torch.tensor([[0, 0]])).dtype == torch.float64  # integers: the field's dtype
    inside = field.contains(t32)
    assert isinstance(inside, torch.Tensor) and inside.dtype == torch.bool
    with pytest.warns(npde.OutsideDomainWarning):
        out = field(torch.tensor([[0.9, 0.9], [0.25, 0.25]]))
    assert torch.isnan(out[0]) and torch.isfinite(out[1])
    none = np.zeros((0, 2))
    assert field(none).shape == (0,) and field.gradient(none).shape == (0, 2)


# -- derivatives ---------------------------------------------------------------------------------


def test_derivatives_of_a_loaded_constrained_field_match_finite_differences(tmp_path):
    problem = _poisson(npde.Rectangle((0.0, -1.0), (2.0, 1.0)), "square")
    field = _constrained(problem, None, tmp_path)
    assert type(field.net).__name__ == "HardConstraint" and field.net.lift is not None
    x = np.random.default_rng(0).random((40, 2)) * [1.6, 1.6] + [0.2, -0.8]
    grad, lap, hess = field.gradient(x), field.laplacian(x), field.hessian(x)
    firsts, seconds = zip(*(_central(field, x, i) for i in range(2)), strict=True)
    _close(grad, np.column_stack(firsts))
    _close(lap, seconds[0] + seconds[1])
    _close(np.stack([hess[:, 0, 0], hess[:, 1, 1]], axis=1), np.column_stack(seconds))
    e = np.array([1e-4, 1e-4])
    mixed = (field(x + e) - field(x + [1e-4, -1e-4]) - field(x - [1e-4, -1e-4]) + field(x - e)) / (
        4e-8
    )
    _close(hess[:, 0, 1], mixed)
    np.testing.assert_array_equal(hess[:, 0, 1], hess[:, 1, 0])
    with pytest.raises(ValueError, match=r"steady, its coordinates \('x', 'y'\) are all space"):
        field.time_derivative(x)


def test_time_derivatives_of_a_heat_solution(tmp_path):
    problem = npde.Problem(
        npde.SpaceTime(npde.Interval(0.0, 1.0), (0.0, 0.5)),
        npde.Heat(kappa=0.1),
        [npde.Dirichlet(0.0), npde.Initial(lambda x: torch.sin(math.pi * x[:, 0]))],
        name="heat1d",
    )
    time = {"axis": 1, "t0": 0.0, "t1": 0.5, "order": 1}
    field = _constrained(problem, time, tmp_path)
    assert field.time_axis == 1 and type(field.domain).__name__ == "SpaceTime"
    x = np.random.default_rng(1).random((30, 2)) * [0.8, 0.4] + [0.1, 0.05]
    dt, dtt = _central(field, x, 1)
    _close(field.time_derivative(x), dt)
    _close(field.time_derivative(x, order=2), dtt)
    _, dxx = _central(field, x, 0)
    _close(field.laplacian(x), dxx)  # space only: time is left out
    assert field.hessian(x).shape == (30, 2, 2)
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        field.time_derivative(x, order=3)
    with pytest.warns(npde.OutsideDomainWarning, match=r"SpaceTime of Box.* t in \[0, 0\.5\]"):
        beyond = field.time_derivative([[0.5, 0.6], [0.5, 0.25]])
    assert np.isnan(beyond[0]) and np.isfinite(beyond[1])
    assert field.contains([[0.5, 0.5 + 1e-14], [0.0, 0.0]]).all()


def test_derivatives_run_in_blocks(lshape, monkeypatch):
    _, field = lshape
    x = np.random.default_rng(2).random((2500, 2)) * 0.5
    expected = field.laplacian(x), field.gradient(x)
    monkeypatch.setattr(npde.solution, "_CHUNK", 1000)  # 3 blocks
    assert field._rows("second") == field._rows("gradient") == 1000
    np.testing.assert_allclose(field.laplacian(x), expected[0], rtol=1e-12)
    np.testing.assert_allclose(field.gradient(x), expected[1], rtol=1e-12)


# -- the module ---------------------------------------------------------------------------------


def test_module_is_a_float64_copy_differentiable_in_inputs_and_parameters(lshape):
    sol, field = lshape
    assert field.net is not None and sol.net is not None  # the old name still works
    m = field.module()
    params = list(m.parameters())
    assert params and all(p.dtype == torch.float64 and not p.requires_grad for p in params)
    x = torch.tensor([[0.25, 0.25], [0.1, 0.7]], dtype=torch.float64, requires_grad=True)
    u = m(x)
    assert u.shape == (2, 1)
    (g,) = torch.autograd.grad(u.sum(), x)
    np.testing.assert_allclose(g.numpy(), field.gradient(x.detach().numpy()), rtol=1e-12)

    trainable = field.module(requires_grad=True)
    assert all(p.requires_grad for p in trainable.parameters())
    trainable(x).sum().backward()
    assert all(p.grad is not None for p in trainable.parameters())
    before = field(x.detach())
    with torch.no_grad():
        for p in trainable.parameters():
            p.add_(1.0)
    np.testing.assert_array_equal(field(x.detach()), before)  # a copy: the field is unchanged
    assert field.module(dtype=torch.float32)(x.float()).dtype == torch.float32
