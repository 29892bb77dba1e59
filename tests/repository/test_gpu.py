"""Training on a CUDA GPU: the engines agree there, and a solution trained there loads anywhere.

Skipped where PyTorch sees no CUDA device.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.fields import InputScaling
from neuralpde.problem_file import load_problem_file
from neuralpde.training.loss import loss_terms, make_batch, residual_plan

from ..conftest import ROOT

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def _problem(name: str) -> npde.Problem:
    return load_problem_file(str(ROOT / "problems" / f"{name}.py"))["problem"]


@pytest.mark.parametrize(
    "name", ["poisson2d_sine", "helmholtz2d", "heat2d", "wave1d", "heat2d_varcoef", "poisson5d"]
)
def test_fused_and_autograd_agree_on_the_gpu_and_with_the_cpu(name):
    problem = _problem(name)
    lo, hi = problem.domain.bounds
    torch.manual_seed(0)
    net = InputScaling(
        npde.Siren(width=32, depth=3).build(problem.domain.dim), lo.tolist(), hi.tolist()
    ).double()
    pts = npde.SobolSampler(n_interior=512, n_boundary=128, n_initial=128).draw(problem, 0, 0)
    plan = residual_plan(problem)
    results = {}
    for device in ("cpu", "cuda"):
        net = net.to(device)
        batch = make_batch(problem, pts, torch.float64, device)
        for engine in ("fused", "autograd"):
            net.zero_grad()
            loss, _ = loss_terms(net, problem, batch, engine=engine, plan=plan)
            loss.backward()
            grads = torch.cat([p.grad.flatten() for p in net.parameters()]).cpu()
            results[device, engine] = (float(loss.detach()), grads)
    ref_loss, ref_grad = results["cpu", "autograd"]
    for loss, grad in results.values():
        assert loss == pytest.approx(ref_loss, rel=1e-12)
        assert float((grad - ref_grad).norm()) <= 1e-10 * float(ref_grad.norm())


def test_solve_on_the_gpu_then_load_on_the_cpu(tmp_path):
    problem = _problem("poisson2d_sine")
    sol = npde.solve(
        problem,
        npde.Siren(width=24, depth=2, w0=1.0),
        npde.SobolSampler(n_interior=256, n_boundary=128),
        npde.Trainer(adam_steps=50, lbfgs_steps=100, progress=False),
        device="cuda",
    )
    assert next(sol.net.parameters()).is_cuda
    assert sol.settings["device"] == "cuda"
    assert sol.error() < 1e-2
    path = sol.save(tmp_path / "gpu.h5")
    field = npde.load(path)
    assert field.record["training"]["settings"]["device"] == "cuda"
    pts = np.random.default_rng(0).random((200, 2))
    np.testing.assert_allclose(field(pts), sol(pts), rtol=0, atol=1e-12)
