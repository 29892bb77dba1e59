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
    vanish. ``forms`` holds the channels' matrices, shape ``(c, d, d)``, and ``diagonal`` says
    whether they are all diagonal.
    """

    value: torch.Tensor
    deriv: torch.Tensor
    forms: torch.Tensor
    diagonal: bool

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
        return Jet(value, self.deriv @ wt, self.forms, self.diagonal)

    def quadratic(self) -> torch.Tensor:
        r""":math:`\sum_{ij} C^{(c)}_{ij} \partial_i h\, \partial_j h` for each channel."""
        g = self.grad
        d, c = g.shape[0], self.forms.shape[0]
        flat = g.reshape(d, -1)
        if self.diagonal:
            q = _weighted(torch.diagonal(self.forms, dim1=1, dim2=2), flat * flat)
        else:
            cg = (self.forms.reshape(c * d, d) @ flat).reshape(c, d, -1)
            q = (cg * flat).sum(dim=1)
        return q.reshape(c, *g.shape[1:])

    def activate(self, f: torch.Tensor, df: torch.Tensor, d2f: torch.Tensor) -> Jet:
        """The jet of ``sigma(value)``, given ``sigma``, ``sigma'`` and ``sigma''`` at ``value``."""
        grad = df * self.grad
        if self.forms.shape[0] == 0:
            return Jet(f, grad, self.forms, self.diagonal)
        quad = d2f * self.quadratic()
        if self.quad is not None:
            quad = quad + df * self.quad
        return Jet(f, torch.cat([grad, quad]), self.forms, self.diagonal)

    def sine(self) -> Jet:
        """The jet of ``sin(value)``: ``sin' = cos``, ``sin'' = -sin``."""
        if not self.diagonal or self.forms.shape[0] == 0:
            s = torch.sin(self.value)
            return self.activate(s, torch.cos(self.value), -s)
        diag = torch.diagonal(self.forms, dim1=1, dim2=2).contiguous()
        f, deriv = _SineJet.apply(self.value, self.deriv, diag)
        return Jet(f, deriv, self.forms, self.diagonal)

    def scale_inputs(self, scale: torch.Tensor, shift: torch.Tensor) -> Jet:
        """The jet of ``value * scale + shift`` (a per-feature affine map)."""
        return Jet(self.value * scale + shift, self.deriv * scale, self.forms, self.diagonal)


def _weighted(diag: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """``out[c] = sum_i diag[c, i] * a[i]`` for ``a`` of shape ``(d, ...)``."""
    return (diag @ a.reshape(a.shape[0], -1)).reshape(diag.shape[0], *a.shape[1:])


class _SineJet(torch.autograd.Function):
    r"""The sine step of a jet with diagonal channels, with a hand-written backward.

    With :math:`D_{ci}` the channels' diagonals, forward:
    :math:`h = \sin z`, :math:`g_i = \cos z\, g^z_i`,
    :math:`s_c = \cos z\, s^z_c - \sin z\, Q_c`, :math:`Q_c = \sum_i D_{ci} (g^z_i)^2`.
    Backward, with :math:`\bar h, \bar g, \bar s` the incoming gradients:
    :math:`\bar z = \cos z\,(\bar h - \sum_c Q_c \bar s_c)
    - \sin z\,(\sum_i g^z_i \bar g_i + \sum_c s^z_c \bar s_c)`,
    :math:`\bar g^z_i = \cos z\, \bar g_i - 2 \sin z\, g^z_i \sum_c D_{ci} \bar s_c`,
    :math:`\bar s^z_c = \cos z\, \bar s_c`. Autograd's generic graph would store and revisit
    every intermediate product instead. The backward is not itself differentiable: fused
    derivatives are never differentiated again with respect to the points (see
    :class:`neuralpde.operators.FieldValues`).
    """

    @staticmethod
    def forward(ctx, z, deriv, diag):  # noqa: D102
        d, c = diag.shape[1], diag.shape[0]
        s, co = torch.sin(z), torch.cos(z)
        gz, sz = deriv[:d], deriv[d:]
        q = _weighted(diag, gz * gz)
        out = z.new_empty(d + c, *z.shape)
        torch.mul(co, gz, out=out[:d])
        torch.mul(s, q, out=out[d:])
        out[d:].neg_()
        if sz.shape[0]:
            out[d:].addcmul_(co, sz)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(s, co, deriv, diag, q)
        return s, out

    @staticmethod
    @once_differentiable
    def backward(ctx, dh, dout):  # noqa: D102
        s, co, deriv, diag, q = ctx.saved_tensors
        d = diag.shape[1]
        gz, sz = deriv[:d], deriv[d:]
        if dout is None:
            dz = None if dh is None else co * dh
            return dz, None, None
        dg, ds = dout[:d], dout[d:]
        a = (gz * dg).sum(0)
        if sz.shape[0]:
            a.add_((sz * ds).sum(0))
        b = (q * ds).sum(0)
        if dh is not None:
            b = dh - b
        else:
            b.neg_()
        dz = co * b
        dz.sub_(s * a)
        dgz = co * dg
        dgz.sub_(2.0 * s * gz * _weighted(diag.t(), ds))
        if sz.shape[0]:
            dderiv = torch.cat([dgz, co * ds])
        else:  # the input had no channels, and may have been shared by all points
            dderiv = dgz.sum(1, keepdim=True) if gz.shape[1] == 1 else dgz
        return dz, dderiv, None


def input_jet(x: torch.Tensor, forms: torch.Tensor) -> Jet:
    """The jet of the identity map at points ``x`` (shape ``(N, d)``), with channels ``forms``."""
    d = x.shape[1]
    if forms.ndim != 3 or forms.shape[1:] != (d, d):
        raise ValueError(f"forms must have shape (c, {d}, {d}), got {tuple(forms.shape)}")
    forms = forms.to(dtype=x.dtype, device=x.device)
    off = forms - torch.diag_embed(torch.diagonal(forms, dim1=1, dim2=2))
    eye = torch.eye(d, dtype=x.dtype, device=x.device)[:, None, :]  # d(x_k)/d(x_i) = delta_ik
    return Jet(x, eye, forms, not bool(off.any()))


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
