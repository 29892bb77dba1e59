"""Per-point linear layers of a jet (:mod:`neuralpde.fields.perpoint`): each copy of the
parameters gets its own point's gradient, equal to autograd's one point at a time."""

from __future__ import annotations

import pytest
import torch

from neuralpde.fields.perpoint import per_point_linear


def _head(value, deriv):
    """A nonlinear function of each point's own rows, the stand-in for what follows a layer."""
    return torch.sin(value).sum(1) + (deriv**2).sum((0, 2)) * torch.cos(value[:, 0])


@pytest.mark.parametrize("shared", [False, True])
def test_each_copy_gets_its_own_points_gradient(shared):
    gen = torch.Generator().manual_seed(0)
    n, r, fin, fout = 6, 3, 4, 5
    value = torch.randn(n, fin, generator=gen, dtype=torch.float64, requires_grad=True)
    rows = torch.randn(r, 1 if shared else n, fin, generator=gen, dtype=torch.float64)
    rows.requires_grad_(True)
    w = torch.randn(fout, fin, generator=gen, dtype=torch.float64)
    b = torch.randn(fout, generator=gen, dtype=torch.float64)
    wn = w.unsqueeze(0).expand(n, -1, -1).requires_grad_(True)
    bn = b.unsqueeze(0).expand(n, -1).requires_grad_(True)
    out, drows = per_point_linear(value, rows, wn, bn)
    assert out.shape == (n, fout) and drows.shape == (r, n, fout)
    torch.testing.assert_close(out, value @ w.T + b)
    torch.testing.assert_close(drows, (rows @ w.T).expand(r, n, fout))
    y = _head(out, drows)
    gw, gb, gv, gr = torch.autograd.grad(y.sum(), (wn, bn, value, rows))
    for k in range(n):  # point k alone, through the shared matrix
        wk = w.clone().requires_grad_(True)
        bk = b.clone().requires_grad_(True)
        rk = rows[:, 0 if shared else k]
        yk = _head((value[k] @ wk.T + bk).unsqueeze(0), (rk @ wk.T).unsqueeze(1))
        ew, eb = torch.autograd.grad(yk.sum(), (wk, bk))
        torch.testing.assert_close(gw[k], ew, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(gb[k], eb, rtol=1e-12, atol=1e-12)
    # the input gradients are autograd's through the plain layer
    v2, r2 = value.detach().requires_grad_(True), rows.detach().requires_grad_(True)
    ev, er = torch.autograd.grad(_head(v2 @ w.T + b, r2 @ w.T).sum(), (v2, r2))
    torch.testing.assert_close(gv, ev, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gr, er, rtol=1e-12, atol=1e-12)


def test_copies_that_differ_or_do_not_match_the_points_are_refused():
    value, rows = torch.zeros(4, 2), torch.zeros(1, 4, 2)
    w = torch.ones(4, 3, 2)
    w[-1, 0, 0] = 2.0
    with pytest.raises(ValueError, match="copies differ"):
        per_point_linear(value, rows, w, None)
    with pytest.raises(ValueError, match=r"weight must hold one \(out, in\) copy per point"):
        per_point_linear(value, rows, torch.ones(3, 2), None)
    with pytest.raises(ValueError, match=r"bias must have shape \(4, out\)"):
        per_point_linear(value, rows, torch.ones(4, 3, 2), torch.ones(3))
