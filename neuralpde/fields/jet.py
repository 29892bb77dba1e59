r"""Forward propagation of derivatives through a field, in one pass (a "jet").

For a field :math:`u(x)`, :math:`x \in \mathbb{R}^d`, a jet carries through every layer the
activations :math:`h`, their first derivatives :math:`\partial_i h` (one per input coordinate) and
a few second-order *channels*

.. math::

    s_c = \sum_{ij} C^{(c)}_{ij}\, \partial_i \partial_j h ,

each defined by a symmetric :math:`d \times d` matrix :math:`C^{(c)}`: the identity on the space
coordinates gives the Laplacian, :math:`e_t e_t^\top` gives :math:`\partial_t^2`, and
:math:`(e_x e_y^\top + e_y e_x^\top)/2` gives :math:`\partial_x\partial_y`. A linear layer maps all
of them by its weight (the bias touches the value only); an elementwise activation
:math:`\sigma` maps them by the chain rule

.. math::

    h' = \sigma(z), \qquad \partial_i h' = \sigma'(z)\,\partial_i z, \qquad
    s'_c = \sigma'(z)\, s_c(z) + \sigma''(z) \sum_{ij} C^{(c)}_{ij}\, \partial_i z\, \partial_j z .

This is the "forward Laplacian" of Li et al. (2023), generalised to any set of quadratic forms.
The whole computation is a few batched matrix products per layer, differentiable with respect
to the parameters by ordinary autograd; nested reverse-mode differentiation instead replays the
network once per derivative order and coordinate.

A module takes part by implementing ``jet(j: Jet) -> Jet``; :class:`SirenNet`,
:class:`MLPNet` and :class:`InputScaling` do, and any wrapper built from affine maps and
elementwise functions can.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.autograd.function import once_differentiable

__all__ = ["Jet", "input_jet", "supports_jet", "forward_jet"]


@dataclass(frozen=True)
class Jet:
    """Values and derivatives of ``F`` features at ``N`` points with respect to ``d`` inputs.

    ``value`` has shape ``(N, F)``. ``deriv`` stacks the ``d`` first derivatives and then the
    second-order channels, shape ``(d + c, N, F)``; it has shape ``(d, 1, F)`` (no channels,
    shared by all points) while the jet is an affine map of the input, whose second derivatives
    vanish. ``forms`` holds the channels' matrices, shape ``(c, d, d)``; ``weights`` holds their
    diagonals as Python numbers when they are all diagonal (``c`` tuples of ``d``), else ``None``.
    """

    value: torch.Tensor
    deriv: torch.Tensor
    forms: torch.Tensor
    weights: tuple[tuple[float, ...], ...] | None

    @property
    def dim(self) -> int:
        return self.forms.shape[1]

    @property
    def grad(self) -> torch.Tensor:
        """First derivatives, shape ``(d, N, F)`` or ``(d, 1, F)``."""
        return self.deriv[: self.dim]

    @property
    def quad(self) -> torch.Tensor | None:
        """Second-order channels, shape ``(c, N, F)``, or ``None`` while they are all zero."""
        return self.deriv[self.dim :] if self.deriv.shape[0] > self.dim else None

    def linear(self, weight: torch.Tensor, bias: torch.Tensor | None) -> Jet:
        """The jet of ``value @ weight.T + bias``."""
        wt = weight.t()
        value = self.value @ wt if bias is None else torch.addmm(bias, self.value, wt)
        return Jet(value, self.deriv @ wt, self.forms, self.weights)

    def quadratic(self) -> torch.Tensor:
        r""":math:`\sum_{ij} C^{(c)}_{ij} \partial_i h\, \partial_j h` for each channel."""
        g = self.grad
        d, c = g.shape[0], self.forms.shape[0]
        if self.weights is not None:
            sq = g * g
            return torch.stack(
                [sum(w * sq[i] for i, w in enumerate(ws) if w) for ws in self.weights]
            )
        flat = g.reshape(d, -1)
        cg = (self.forms.reshape(c * d, d) @ flat).reshape(c, d, -1)
        q = (cg * flat).sum(dim=1)
        return q.reshape(c, *g.shape[1:])

    def activate(self, f: torch.Tensor, df: torch.Tensor, d2f: torch.Tensor) -> Jet:
        """The jet of ``sigma(value)``, given ``sigma``, ``sigma'`` and ``sigma''`` at ``value``."""
        grad = df * self.grad
        if self.forms.shape[0] == 0:
            return Jet(f, grad, self.forms, self.weights)
        quad = d2f * self.quadratic()
        if self.quad is not None:
            quad = quad + df * self.quad
        return Jet(f, torch.cat([grad, quad]), self.forms, self.weights)

    def sine(self) -> Jet:
        """The jet of ``sin(value)``: ``sin' = cos``, ``sin'' = -sin``."""
        if self.weights is None:
            s = torch.sin(self.value)
            return self.activate(s, torch.cos(self.value), -s)
        f, deriv = _SineJet.apply(self.value, self.deriv, self.dim, self.weights)
        return Jet(f, deriv, self.forms, self.weights)

    def scale_inputs(self, scale: torch.Tensor, shift: torch.Tensor) -> Jet:
        """The jet of ``value * scale + shift`` (a per-feature affine map)."""
        return Jet(self.value * scale + shift, self.deriv * scale, self.forms, self.weights)


class _SineJet(torch.autograd.Function):
    r"""The sine step of a jet with diagonal channels, with a hand-written backward.

    With :math:`D_{ci}` the channels' diagonals, forward:
    :math:`h = \sin z`, :math:`g_i = \cos z\, g^z_i`,
    :math:`s_c = \cos z\, s^z_c - \sin z\, Q_c`, :math:`Q_c = \sum_i D_{ci} (g^z_i)^2`.
    Backward, with :math:`\bar h, \bar g, \bar s` the incoming gradients:
    :math:`\bar z = \cos z\,(\bar h - \sum_c Q_c \bar s_c)
    - \sin z\,(\sum_i g^z_i \bar g_i + \sum_c s^z_c \bar s_c)`,
    :math:`\bar g^z_i = \cos z\, \bar g_i - 2 \sin z\, g^z_i \sum_c D_{ci} \bar s_c`,
    :math:`\bar s^z_c = \cos z\, \bar s_c`.

    Each line is a few passes over the ``(N, F)`` blocks, written into preallocated outputs;
    autograd's generic graph would store and revisit every intermediate product instead. The
    diagonals ``diag`` are Python numbers (``c`` tuples of ``d``), so zero and unit weights cost
    nothing. The backward is not itself differentiable: fused derivatives are never
    differentiated again with respect to the points (see
    :class:`neuralpde.operators.FieldValues`).
    """

    @staticmethod
    def forward(ctx, z, deriv, d, diag):  # noqa: D102
        c = len(diag)
        s, co = torch.sin(z), torch.cos(z)
        gz = deriv[:d]
        shared = gz.shape[1] != z.shape[0]  # an affine input: one row of derivatives for all
        out = z.new_empty(d + c, *z.shape)
        if shared:
            torch.mul(co, gz, out=out[:d])
        else:  # the incoming channels are scaled by cos z along with the first derivatives
            torch.mul(co, deriv, out=out[: deriv.shape[0]])
        q = gz.new_empty(c, *gz.shape[1:])
        for k, weights in enumerate(diag):
            _weighted_squares(weights, gz, out=q[k])
            if shared or deriv.shape[0] == d:
                torch.mul(s, q[k], out=out[d + k]).neg_()
            else:
                out[d + k].addcmul_(s, q[k], value=-1.0)
        ctx.d, ctx.diag, ctx.shared = d, diag, shared
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(s, co, deriv, q)
        return s, out

    @staticmethod
    @once_differentiable
    def backward(ctx, dh, dout):  # noqa: D102
        s, co, deriv, q = ctx.saved_tensors
        d, diag, shared = ctx.d, ctx.diag, ctx.shared
        if dout is None:
            return (None if dh is None else co * dh), None, None, None
        rows = deriv.shape[0]
        # a = sum over incoming rows of deriv * dout;  b = dh - sum_c Q_c ds_c
        a = torch.mul(deriv[0], dout[0])
        for r in range(1, rows):
            a.addcmul_(deriv[r], dout[r])
        b = dh
        for k in range(len(diag)):
            if b is None:
                b = torch.mul(q[k], dout[d + k]).neg_()
            elif k == 0:  # not in place: dh belongs to autograd
                b = torch.addcmul(dh, q[k], dout[d + k], value=-1.0)
            else:
                b.addcmul_(q[k], dout[d + k], value=-1.0)
        dz = torch.zeros_like(co) if b is None else co * b
        dz.addcmul_(s, a, value=-1.0)
        # t_c = sin z * ds_c, shared by every coordinate the channel weighs
        t = [torch.mul(s, dout[d + k]) for k in range(len(diag))]
        if shared:  # sum over the points: gz_i does not depend on them
            dderiv = (co * dout[:d]).sum(1, keepdim=True)
            for k, weights in enumerate(diag):
                tk = t[k].sum(0, keepdim=True)
                for i, w in enumerate(weights):
                    if w:
                        dderiv[i].addcmul_(tk, deriv[i], value=-2.0 * w)
            return dz, dderiv, None, None
        dderiv = torch.mul(co, dout[:rows])
        for k, weights in enumerate(diag):
            for i, w in enumerate(weights):
                if w:
                    dderiv[i].addcmul_(t[k], deriv[i], value=-2.0 * w)
        return dz, dderiv, None, None


def _weighted_squares(weights: tuple[float, ...], g: torch.Tensor, out: torch.Tensor) -> None:
    """``out = sum_i weights[i] * g[i]**2``, skipping zero weights."""
    first = True
    for i, w in enumerate(weights):
        if not w:
            continue
        if first:
            torch.mul(g[i], g[i], out=out)
            if w != 1.0:
                out.mul_(w)
            first = False
        else:
            out.addcmul_(g[i], g[i], value=w)
    if first:
        out.zero_()


def input_jet(x: torch.Tensor, forms: torch.Tensor) -> Jet:
    """The jet of the identity map at points ``x`` (shape ``(N, d)``), with channels ``forms``."""
    d = x.shape[1]
    if forms.ndim != 3 or forms.shape[1:] != (d, d):
        raise ValueError(f"forms must have shape (c, {d}, {d}), got {tuple(forms.shape)}")
    host = forms.detach().to(device="cpu", dtype=torch.float64)
    diag = torch.diagonal(host, dim1=1, dim2=2)
    weights = (
        tuple(map(tuple, diag.tolist())) if bool((host == torch.diag_embed(diag)).all()) else None
    )
    forms = forms.to(dtype=x.dtype, device=x.device)
    eye = torch.eye(d, dtype=x.dtype, device=x.device)[:, None, :]  # d(x_k)/d(x_i) = delta_ik
    return Jet(x, eye, forms, weights)


def supports_jet(module: nn.Module) -> bool:
    """Whether ``module`` (and every module it wraps) propagates jets."""
    check = getattr(module, "supports_jet", None)
    return bool(check()) if callable(check) else False


def forward_jet(
    module: nn.Module, x: torch.Tensor, forms: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Value, gradient and second-order channels of a scalar field at ``x`` in one pass.

    Returns ``u`` of shape ``(N,)``, ``grad`` of shape ``(N, d)`` and ``quad`` of shape
    ``(N, c)``, with ``quad[:, k] = sum_ij forms[k, i, j] * d2u/dx_i dx_j``.
    """
    if not supports_jet(module):
        raise TypeError(f"{type(module).__name__} does not propagate derivatives forward")
    out = module.jet(input_jet(x, forms))
    if out.value.shape[1] != 1:
        raise ValueError(f"forward_jet needs a scalar field, got {out.value.shape[1]} outputs")
    n = x.shape[0]
    grad = out.grad[:, :, 0].expand(-1, n).t()
    if out.quad is None:
        quad = x.new_zeros(n, forms.shape[0])
    else:
        quad = out.quad[:, :, 0].expand(-1, n).t()
    return out.value[:, 0], grad, quad
