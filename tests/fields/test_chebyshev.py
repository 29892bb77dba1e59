"""Chebyshev series (:mod:`neuralpde.fields.chebyshev`): bases, derivatives by recurrence and
tensor-product contraction, against autograd."""

from __future__ import annotations

import numpy as np
import torch

from neuralpde.fields.chebyshev import ChebyshevSeries, chebyshev_basis, index_set, total_degree_set


def test_chebyshev_derivatives_match_autograd():
    idx = total_degree_set([7, 5])
    s = torch.rand(50, 2, dtype=torch.float64) * 2 - 1
    c = torch.randn(idx.shape[0], dtype=torch.float64)
    x = s.clone().requires_grad_(True)
    v = chebyshev_basis(x, idx) @ c
    g = torch.autograd.grad(v.sum(), x)[0]
    for axis in (0, 1):
        assert torch.allclose(chebyshev_basis(s, idx, axis) @ c, g[:, axis], atol=1e-11)
    # T_3(s) = 4 s^3 - 3 s on the first axis
    t3 = chebyshev_basis(s, torch.tensor([[3, 0]]))[:, 0]
    assert torch.allclose(t3, 4 * s[:, 0] ** 3 - 3 * s[:, 0], atol=1e-14)
    assert total_degree_set([30, 30], limit=200).shape[0] <= 200


def test_the_series_derivatives_by_recurrence_are_autograds_of_the_plain_sum():
    torch.manual_seed(0)
    idx = index_set([6, 5, 3])
    coef = torch.randn(idx.shape[0], dtype=torch.float64)
    series = ChebyshevSeries([0, -1, 0], [2, 1, 0.5], idx, coef).double()
    box = torch.tensor([2.0, 2.0, 0.5], dtype=torch.float64)
    x = torch.rand(20, 3, dtype=torch.float64) * box + torch.tensor([0.0, -1.0, 0.0])

    def derivatives(f, x):
        x = x.clone().requires_grad_(True)
        y = f(x)
        g = torch.autograd.grad(y.sum(), x, create_graph=True)[0]
        h = [torch.autograd.grad(g[:, i].sum(), x, retain_graph=True)[0] for i in range(3)]
        return y.detach(), g.detach(), torch.stack(h, 1)

    def plain(x):
        return chebyshev_basis(series.scaled(x), series.indices) @ series.coefficients

    for a, b in zip(derivatives(series, x), derivatives(plain, x), strict=True):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-9)
    with torch.no_grad():
        series.coefficients.mul_(2.0)  # new coefficients: nothing stale is reused
    assert torch.allclose(derivatives(series, x)[1], derivatives(plain, x)[1], rtol=1e-12)


def test_a_tensor_product_series_is_contracted_axis_by_axis_with_the_same_values():
    """A whole tensor-product set is evaluated by contraction; the same terms listed in another
    order take the term-by-term path: values, gradients and Hessians agree."""
    shape = (6, 4, 3)
    grids = torch.meshgrid(*[torch.arange(n) for n in shape], indexing="ij")
    idx = torch.stack([g.reshape(-1) for g in grids], dim=1)
    coef = torch.as_tensor(np.random.default_rng(1).normal(size=idx.shape[0]))
    lo, hi = [0.0, -1.0, 0.5], [2.0, 1.0, 3.0]
    fast = ChebyshevSeries(lo, hi, idx, coef).double()
    order = torch.randperm(idx.shape[0], generator=torch.Generator().manual_seed(0))
    slow = ChebyshevSeries(lo, hi, idx[order], coef[order]).double()
    assert fast.tensor_shape() == shape and slow.tensor_shape() is None
    x = torch.as_tensor(np.random.default_rng(2).uniform(lo, hi, (50, 3)))
    with torch.no_grad():
        assert torch.allclose(fast(x), slow(x), rtol=1e-12, atol=1e-12)
    derivs = []
    for series in (fast, slow):
        y = x.clone().requires_grad_(True)
        g = torch.autograd.grad(series(y).sum(), y, create_graph=True)[0]
        h = torch.stack(
            [torch.autograd.grad(g[:, i].sum(), y, retain_graph=True)[0] for i in range(3)], 1
        )
        derivs.append((g.detach(), h))
    assert torch.allclose(derivs[0][0], derivs[1][0], rtol=1e-11, atol=1e-11)
    assert torch.allclose(derivs[0][1], derivs[1][1], rtol=1e-10, atol=1e-10)
