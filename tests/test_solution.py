"""Solutions on non-box domains: errors inside the domain, files with NaN outside it."""

from __future__ import annotations

import h5py
import numpy as np
import torch

import neuralpde as npde


def test_disk_solution_saves_with_nan_outside_and_errors_inside(tmp_path):
    disk = npde.Disk((0.0, 0.0), 1.0)
    problem = npde.Problem(
        disk,
        npde.Poisson(1.0),
        [npde.Dirichlet(0.0, weight=100.0)],
        exact=lambda x: (1 - x[:, 0] ** 2 - x[:, 1] ** 2) / 4,
        name="disk",
    )
    sol = npde.solve(
        problem,
        npde.Siren(width=16, depth=2, w0=1.0),
        npde.SobolSampler(256, 128),
        npde.Trainer(adam_steps=50, lbfgs_steps=50, progress=False),
    )
    err = sol.error(n=41)
    assert 0 < err < 5e-2
    path = sol.save(tmp_path / "disk.h5", n=41)
    with h5py.File(path) as f:
        u, x, y = f["u"][()], f["x"][()], f["y"][()]
        stored = f["metrics"].attrs["relative_l2"]
    X, Y = np.meshgrid(x, y, indexing="ij")
    outside = X**2 + Y**2 > 1 + 1e-12
    assert np.all(np.isnan(u[outside])) and np.all(np.isfinite(u[~outside]))
    assert stored == err  # the same points, the same error
    field = npde.load(path)
    np.testing.assert_allclose(field([[0.1, 0.2]]), sol([[0.1, 0.2]]), rtol=1e-12)
    assert torch.isfinite(torch.as_tensor(field([[0.0, 0.0]]))).all()


def test_space_time_over_a_disk_samples_trains_and_saves(tmp_path):
    """Evolution problems compose with the new domains: heat on a disk x [0, 0.5]."""
    domain = npde.SpaceTime(npde.Disk((0.0, 0.0), 1.0), (0.0, 0.5))
    problem = npde.Problem(
        domain,
        npde.Heat(kappa=0.1),
        [npde.Dirichlet(0.0), npde.Initial(lambda x: 1 - x[:, 0] ** 2 - x[:, 1] ** 2)],
        name="disk_heat",
    )
    draw = npde.SobolSampler(128, 64, 64).draw(problem, seed=0)
    r2 = (draw.interior[:, :2] ** 2).sum(1)
    assert np.all(r2 <= 1 + 1e-12) and np.all(
        (draw.interior[:, 2] >= 0) & (draw.interior[:, 2] <= 0.5)
    )
    rb = (draw.condition_points[0][:, :2] ** 2).sum(1)
    np.testing.assert_allclose(rb, 1.0, atol=1e-12)
    assert np.all(draw.condition_points[1][:, 2] == 0.0)
    sol = npde.solve(
        problem,
        npde.Siren(width=8, depth=1),
        npde.SobolSampler(128, 64, 64),
        npde.Trainer(adam_steps=5, lbfgs_steps=0),
    )
    path = sol.save(tmp_path / "disk_heat.h5", n=(9, 9, 3))
    with h5py.File(path) as f:
        assert f["u"].shape == (3, 9, 9) and np.isnan(f["u"][0, 0, 0])  # (t, y, x)
