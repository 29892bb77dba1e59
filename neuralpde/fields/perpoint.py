r"""A jet's linear layer with per-point parameters: the per-point gradient in one batched product.

The Gauss–Newton phase (:mod:`neuralpde.training.gauss_newton`) takes the Jacobian of the
residual rows with respect to the parameters by evaluating each point with its own copy of the
parameters, a broadcast view of one set. A layer :math:`z = W h + b` of a jet maps the value
and every derivative row :math:`h_k` of a point by the same :math:`W`, so the gradient with
respect to point :math:`n`'s copy is a sum of outer products over the rows,

.. math::

    \frac{\partial R_n}{\partial W_n} = \sum_k \bar z_{k,n}\, h_{k,n}^\top, \qquad
    \frac{\partial R_n}{\partial b_n} = \bar z_{0,n},

one batched product of :math:`(N, F_\text{out}, 1 + r)` by :math:`(N, 1 + r, F_\text{in})`
blocks, with the forward pass a single product by the shared matrix. Autograd's generic route
would instead multiply every point by its own copy, a batch of matrix-vector products.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

__all__ = ["per_point_linear"]


def per_point_linear(
    value: torch.Tensor, deriv: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""``value @ W.T + b`` and ``deriv @ W.T`` for per-point copies ``weight`` ``(N, out, in)``
    and ``bias`` ``(N, out)`` (or ``None``) of one matrix and one vector.

    ``value`` is ``(N, in)``, ``deriv`` ``(r, N, in)`` or ``(r, 1, in)`` (rows shared by all
    points, as at a field's input; the result's rows are then one per point, so that each point's
    gradient is its own). Returns ``(N, out)`` and ``(r, N, out)``. The copies must be equal (the
    forward pass uses the first): a :class:`ValueError` where the first and the last differ.
    """
    n = value.shape[0]
    if weight.dim() != 3 or weight.shape[0] != n:
        raise ValueError(
            f"weight must hold one (out, in) copy per point, shape ({n}, out, in), got "
            f"{tuple(weight.shape)}"
        )
    if bias is not None and (bias.dim() != 2 or bias.shape[0] != n):
        raise ValueError(f"bias must have shape ({n}, out), got {tuple(bias.shape)}")
    if n > 1 and not (
        torch.equal(weight[0], weight[-1]) and (bias is None or torch.equal(bias[0], bias[-1]))
    ):
        raise ValueError(
            "per_point_linear needs per-point copies of one set of parameters (a broadcast "
            "view); the first and the last point's copies differ"
        )
    return _PerPointLinear.apply(value, deriv, weight, bias)


class _PerPointLinear(torch.autograd.Function):
    """See :func:`per_point_linear`; the backward gives each copy its own point's gradient."""

    @staticmethod
    def forward(ctx, value, deriv, weight, bias):  # noqa: D102
        w = weight[0]
        out = value @ w.t()
        if bias is not None:
            out = out + bias[0]
        rows = deriv @ w.t()
        if rows.shape[1] != value.shape[0]:  # shared rows: one per point from here on
            rows = rows.expand(-1, value.shape[0], -1).contiguous()
        ctx.shared = deriv.shape[1] != value.shape[0]
        ctx.has_bias = bias is not None
        ctx.save_for_backward(value, deriv, w)
        return out, rows

    @staticmethod
    @once_differentiable
    def backward(ctx, dout, drows):  # noqa: D102
        value, deriv, w = ctx.saved_tensors
        n = value.shape[0]
        if dout is None:
            dout = value.new_zeros(n, w.shape[0])
        if drows is None:
            drows = value.new_zeros(deriv.shape[0], n, w.shape[0])
        dvalue = dout @ w
        dderiv = drows @ w
        if ctx.shared:
            dderiv = dderiv.sum(dim=1, keepdim=True)
        h = torch.cat([value.unsqueeze(0), deriv.expand(-1, n, -1)])  # (1 + r, N, in)
        g = torch.cat([dout.unsqueeze(0), drows])  # (1 + r, N, out)
        dweight = torch.bmm(g.permute(1, 2, 0), h.permute(1, 0, 2))  # (N, out, in)
        return dvalue, dderiv, dweight, (dout if ctx.has_bias else None)
