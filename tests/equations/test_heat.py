"""The heat equation (:mod:`neuralpde.equations.heat`): its divergence form and a tensor
diffusivity against closed forms, and a diffusivity that must be positive."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralpde as npde


def test_heat_divergence_form_adds_grad_kappa_dot_grad_u():
    r"""∇·(κ∇u) = κΔu + ∇κ·∇u, with κ = 1 + 0.5 x y and u = e^{-t} sin(πx) sin(πy)."""
    from neuralpde.operators import FieldValues

    def kappa(p):
        return 1 + 0.5 * p[:, 0] * p[:, 1]

    x = torch.rand(64, 3, dtype=torch.float64, requires_grad=True)
    X, Y, T = x[:, 0], x[:, 1], x[:, 2]
    pi = np.pi

    def field():
        return FieldValues(torch.exp(-T) * torch.sin(pi * X) * torch.sin(pi * Y), x, "xyt", 2)

    plain = npde.Heat(kappa=kappa).residual(field(), x)
    div = npde.Heat(kappa=kappa, divergence_form=True).residual(field(), x)
    ux = pi * torch.exp(-T) * torch.cos(pi * X) * torch.sin(pi * Y)
    uy = pi * torch.exp(-T) * torch.sin(pi * X) * torch.cos(pi * Y)
    expected = -(0.5 * Y * ux + 0.5 * X * uy)
    torch.testing.assert_close(div - plain, expected.detach(), rtol=1e-12, atol=1e-12)
    assert npde.Heat(divergence_form=True).latex == r"u_t = \nabla\cdot(\kappa \nabla u) + f"
    with pytest.raises(
        TypeError,
        match=r"gradient of Heat.kappa is needed, but it returned a ndarray, not a torch tensor: "
        "write it with differentiable torch functions",
    ):
        npde.Heat(kappa=lambda p: np.ones(len(p)), divergence_form=True).residual(field(), x)
    # written with torch, but constant in x (piecewise here): no gradient to take, and not NumPy
    layered = npde.Heat(kappa=lambda p: torch.where(p[:, 0] < 0.5, 1.0, 2.0), divergence_form=True)
    with pytest.raises(TypeError, match=r"returned values that do not depend differentiably on "):
        layered.residual(field(), x)
    with pytest.raises(TypeError, match="divergence_form must be True or False"):
        npde.Heat(divergence_form="yes")


def test_anisotropic_heat_residual_matches_closed_form():
    r"""u = e^{-t} sin(πx) sin(2πy), K = [[2, 0.5], [0.5, 1]]: div(K grad u) = sum K_ij u_ij."""
    from neuralpde.operators import FieldValues

    K = [[2.0, 0.5], [0.5, 1.0]]
    x = torch.rand(64, 3, dtype=torch.float64, requires_grad=True)
    X, Y, T = x[:, 0], x[:, 1], x[:, 2]
    pi = np.pi
    u = FieldValues(torch.exp(-T) * torch.sin(pi * X) * torch.sin(2 * pi * Y), x, "xyt", 2)
    r = npde.Heat(kappa=K).residual(u, x)
    e = torch.exp(-T)
    uxx = -(pi**2) * e * torch.sin(pi * X) * torch.sin(2 * pi * Y)
    uyy = -4 * pi**2 * e * torch.sin(pi * X) * torch.sin(2 * pi * Y)
    uxy = 2 * pi**2 * e * torch.cos(pi * X) * torch.cos(2 * pi * Y)
    ut = -e * torch.sin(pi * X) * torch.sin(2 * pi * Y)
    expected = ut - (2 * uxx + 2 * 0.5 * uxy + uyy)
    torch.testing.assert_close(r, expected.detach(), rtol=1e-10, atol=1e-10)
    # diagonal entries alone
    assert npde.Heat(kappa=[2.0, 1.0]).kappa == ((2.0, 0.0), (0.0, 1.0))
    with pytest.raises(ValueError, match="positive definite"):
        npde.Heat(kappa=[[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="symmetric"):
        npde.Heat(kappa=[[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="3x3 tensor but the space has 2"):
        npde.Heat(kappa=[1.0, 1.0, 1.0]).residual(u, x)


# -- the diffusivity -------------------------------------------------------------------------------


def test_heat_diffusivity_must_be_positive():
    for kappa in (-0.05, 0.0):
        with pytest.raises(ValueError, match="Heat.kappa must be positive"):
            npde.Heat(kappa=kappa)
    st = npde.SpaceTime(npde.Rectangle((0, 0), (1, 1)), t_span=(0.0, 1.0))
    bad = npde.Problem(
        st,
        npde.Heat(kappa=lambda x: 0.1 - x[:, 0]),
        [npde.Dirichlet(0.0), npde.Initial(0.0)],
    )
    with pytest.raises(ValueError, match="Heat.kappa must be positive in the domain, got -0.8"):
        npde.checks.check_problem(bad)
