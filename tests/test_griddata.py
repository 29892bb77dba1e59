"""Gridded coefficients: exact on multilinear data, differentiable, readable from files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.checks import check_problem
from neuralpde.coefficients import evaluate, gradient
from neuralpde.griddata import GridData


def test_reproduces_bilinear_data_exactly_with_its_gradient():
    ax, ay = np.linspace(0, 1, 5), np.linspace(-1, 2, 7)
    X, Y = np.meshgrid(ax, ay, indexing="ij")
    c = GridData([ax, ay], 1 + 2 * X - 3 * Y + 0.5 * X * Y)  # bilinear: interpolation is exact
    x = torch.rand(200, 3, dtype=torch.float64) * torch.tensor([1.0, 3.0, 1.0]) + torch.tensor(
        [0.0, -1.0, 0.0]
    )
    expected = 1 + 2 * x[:, 0] - 3 * x[:, 1] + 0.5 * x[:, 0] * x[:, 1]
    torch.testing.assert_close(evaluate(c, x, "kappa"), expected, rtol=1e-12, atol=1e-12)
    g = gradient(c, x, "kappa")
    torch.testing.assert_close(g[:, 0], 2 + 0.5 * x[:, 1], rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(g[:, 1], -3 + 0.5 * x[:, 0], rtol=1e-10, atol=1e-10)
    assert torch.all(g[:, 2] == 0)  # the time column is not a grid axis


def test_converges_at_second_order_on_smooth_data():
    errs = []
    x = torch.rand(1000, 2, dtype=torch.float64)
    for n in (9, 17, 33):
        a = np.linspace(0, 1, n)
        X, Y = np.meshgrid(a, a, indexing="ij")
        c = GridData([a, a], np.sin(3 * X) * np.cos(2 * Y))
        exact = torch.sin(3 * x[:, 0]) * torch.cos(2 * x[:, 1])
        errs.append(float((c(x) - exact).abs().max()))
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(orders - 2) < 0.3), orders


def test_errors_and_file_round_trip(tmp_path):
    a = np.linspace(0, 1, 4)
    with pytest.raises(ValueError, match="one dimension per axis"):
        GridData([a, a], np.zeros(4))
    with pytest.raises(ValueError, match="must be increasing"):
        GridData([a[::-1]], np.zeros(4))
    with pytest.raises(ValueError, match="has 4 points but values has 3"):
        GridData([a], np.zeros(3))
    c = GridData([a], a**2, name="kappa map")
    with pytest.raises(ValueError, match="kappa map: points outside the grid"):
        c(torch.tensor([[1.5]], dtype=torch.float64))
    # a solution file's grid serves as a coefficient map
    p = npde.Problem(npde.Rectangle((0, 0), (1, 1)), npde.Poisson(1.0), [npde.Dirichlet(0.0)])
    sol = npde.solve(
        p,
        npde.Siren(width=8, depth=1),
        npde.SobolSampler(64, 32),
        npde.Trainer(adam_steps=2, lbfgs_steps=0),
    )
    path = sol.save(tmp_path / "s.h5", n=11)
    m = GridData.from_file(path)
    pts = np.array([[0.3, 0.4], [0.0, 1.0]])
    np.testing.assert_allclose(m(torch.as_tensor(pts)).numpy()[1], sol(pts)[1], rtol=1e-12)
    assert "s.h5:u" in repr(m)
    with pytest.raises(KeyError, match=r"'model' is a group, not a dataset; .* \['u', 'x', 'y'\]"):
        GridData.from_file(path, "model")
    # the same data read from another directory describe the same coefficient
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    (moved / "s.h5").write_bytes(path.read_bytes())
    assert repr(GridData.from_file(moved / "s.h5")) == repr(m)


def test_fd_reference_takes_gridded_coefficients():
    """A GridData diffusivity equal to a linear function gives the same FD solution."""
    from neuralpde.reference import solve_fd

    a = np.linspace(0, 1, 6)
    X, Y = np.meshgrid(a, a, indexing="ij")
    grid_kappa = GridData([a, a], 0.1 + 0.05 * X + 0.02 * Y)  # linear: interpolation is exact

    def problem(kappa):
        return npde.Problem(
            npde.SpaceTime(npde.Rectangle((0, 0), (1, 1)), (0, 0.2)),
            npde.Heat(kappa=kappa, divergence_form=True),
            [npde.Dirichlet(0.0), npde.Initial(lambda x: torch.sin(np.pi * x[:, 0]) * x[:, 1])],
        )

    u_grid = solve_fd(problem(grid_kappa), 16).values
    u_fn = solve_fd(problem(lambda x: 0.1 + 0.05 * x[:, 0] + 0.02 * x[:, 1]), 16).values
    np.testing.assert_allclose(u_grid, u_fn, rtol=1e-10, atol=1e-12)


def test_maps_with_different_data_describe_different_problems(tmp_path):
    """The description (and so a reference's checksum) carries a digest of the map's data."""
    from neuralpde.reference import convergence_study, reference_checksum, save_reference
    from neuralpde.validate import validate

    ax = [np.linspace(0, 1, 5), np.linspace(0, 1, 5)]

    def problem(values):
        f = GridData([a.copy() for a in ax], values)
        return npde.Problem(
            npde.Rectangle((0, 0), (1, 1)), npde.Poisson(f=f), [npde.Dirichlet(0.0)], name="gd"
        )

    p1, p1_again, p10 = (
        problem(np.ones((5, 5))),
        problem(np.ones((5, 5))),
        problem(10 * np.ones((5, 5))),
    )
    assert p1.describe() == p1_again.describe()
    assert reference_checksum(p1, n=8) == reference_checksum(p1_again, n=8)
    assert p1.describe()["equation"]["f"] != p10.describe()["equation"]["f"]
    assert reference_checksum(p1, n=8) != reference_checksum(p10, n=8)
    assert "sha256 " in repr(p1.equation.f)
    # the same values on other axes, or -0.0 for 0.0, are told apart / taken alike
    moved = GridData([ax[0] * 2, ax[1]], np.ones((5, 5)))
    assert repr(moved).split("sha256 ")[1] != repr(p1.equation.f).split("sha256 ")[1]
    assert repr(GridData(ax, np.zeros((5, 5)))) == repr(GridData(ax, -np.zeros((5, 5))))
    # a reference of the f=1 problem is refused for a solution of the f=10 problem
    ref = save_reference(convergence_study(p1, 8, levels=3), tmp_path / "r.h5", problem=p1)
    sol = npde.solve(
        p10,
        npde.Siren(width=8, depth=1),
        npde.SobolSampler(64, 32),
        npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False),
    )
    with pytest.raises(ValueError, match=r"their problems' equation differ"):
        validate(sol, reference=str(ref))


def test_a_solution_on_a_disk_is_refused_with_the_reason(tmp_path):
    """Its grid spans the bounding box and holds NaN outside the disk."""
    import h5py

    from neuralpde.io import read_grid

    p = npde.Problem(npde.Disk((0, 0), 1.0), npde.Poisson(1.0), [npde.Dirichlet(0.0)])
    sol = npde.solve(
        p,
        npde.Siren(width=8, depth=1),
        npde.SobolSampler(64, 32),
        npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False),
    )
    path = sol.save(tmp_path / "disk.h5", n=11)
    with pytest.raises(
        ValueError,
        match=r"disk.h5:u': 40 of 121 grid values are NaN; a solution on a domain that is not a "
        r"box holds NaN outside the domain .*read them with neuralpde.io.read_grid, fill the NaN",
    ):
        GridData.from_file(path)
    axes, values = read_grid(path)
    filled = GridData(axes, np.nan_to_num(values, nan=0.0))  # the user's choice, made explicit
    assert filled(torch.tensor([[0.0, 0.0]], dtype=torch.float64)).item() == pytest.approx(
        sol(np.array([[0.0, 0.0]]))[0]
    )
    # a file of another origin with NaN gets the plain message, with where the first one is
    other = tmp_path / "map.h5"
    with h5py.File(other, "w") as f:
        for n in ("x", "y"):
            f.create_dataset(n, data=np.linspace(0, 1, 4)).make_scale(n)
        data = np.ones((4, 4))
        data[1, 2] = np.nan
        ds = f.create_dataset("kappa", data=data)
        for i, n in enumerate(("x", "y")):
            ds.dims[i].attach_scale(f[n])
    with pytest.raises(ValueError, match=r"values must be finite; 1 of 16 are NaN or inf \(the fi"):
        GridData.from_file(other, "kappa")


def test_a_grid_with_more_columns_than_the_points_is_refused_by_name():
    a = np.linspace(0, 1, 3)
    square = npde.Rectangle((0, 0), (1, 1))
    cube = GridData([a, a, a], np.ones((3, 3, 3)), name="kappa map")
    problem = npde.Problem(square, npde.Poisson(cube), [npde.Dirichlet(0.0)])
    with pytest.raises(
        ValueError,
        match=r"kappa map: a 3-D grid on point columns \[0, 1, 2\] needs points of shape "
        r"\(N, d\) with those columns, got shape \(64, 2\)",
    ):
        check_problem(problem)
    line = GridData([a], a**2, columns=[5])
    with pytest.raises(ValueError, match=r"columns \[5\] .* got shape \(2, 2\)"):
        line(torch.zeros(2, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"got shape \(2,\)"):
        line(torch.zeros(2, dtype=torch.float64))
    # a column counted from the end is one of the points' columns
    end = GridData([a], a**2, columns=[-1])
    x = torch.tensor([[0.0, 0.5]], dtype=torch.float64)
    torch.testing.assert_close(end(x), torch.tensor([0.25], dtype=torch.float64))
