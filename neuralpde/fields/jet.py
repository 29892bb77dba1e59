r"""Forward propagation of derivatives through a field, in one pass (a "jet").

For a field :math:`u(x)`, :math:`x \in \mathbb{R}^d`, a jet carries through every layer the
activations :math:`h`, their first derivatives :math:`\partial_i h` (one per input coordinate, or
per coordinate a channel needs) and a few second-order *channels*

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
A channel may also have a constant first-order part, :math:`s_c = \sum_i a_i \partial_i h +
\sum_{ij} C_{ij} \partial_i\partial_j h`: it enters as the channel's value at the input
(:math:`s_c(x) = a`) and the same chain rule carries it, so a constant-coefficient operator such
as :math:`\partial_t - \kappa\Delta` is one channel, and the first derivatives need rows only
along the coordinates the :math:`C` involve.
The whole computation is a few batched matrix products per layer, differentiable with respect
to the parameters by ordinary autograd; nested reverse-mode differentiation instead replays the
network once per derivative order and coordinate.

A module takes part by implementing ``jet(j: Jet) -> Jet``; :class:`SirenNet`,
:class:`MLPNet` and :class:`InputScaling` do, and any wrapper built from affine maps and
elementwise functions can.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import nn
from torch.autograd.function import once_differentiable
from torch.nn import functional

from .perpoint import per_point_linear

__all__ = [
    "Jet",
    "affine",
    "feature_major_layout",
    "forward_jet",
    "input_jet",
    "jet_obstacle",
    "library_jets_only",
    "linear_weight_t",
    "plain_forward",
    "supports_jet",
]


def linear_weight_t(weight: torch.Tensor) -> torch.Tensor:
    r"""``weight.T`` (shape ``(in, out)``) laid out for the products of a layer ``h @ weight.T``.

    Autograd computes the weight's gradient :math:`\bar W = \bar y^\top h` in the layout of the
    operand it multiplies by. For a narrow input (``in < out``, such as a field's first layer on
    two or three coordinates) the transposed view would make that an ``(out, N) @ (N, in)``
    product with a few output columns, several times slower than the ``(in, N) @ (N, out)``
    product a contiguous ``weight.T`` gives (1.4 against 0.24 ms at 8192 points, 128 features).
    """
    wt = weight.t()
    return wt.contiguous() if weight.shape[1] < weight.shape[0] else wt


def feature_major_layout(weight: torch.Tensor) -> bool:
    r"""Whether a jet's blocks are stored feature by feature for a layer of this ``weight``.

    A block of ``N`` points by ``F`` features is then stored as ``(F, N)`` (and ``r`` blocks as
    ``(F, r, N)``), and a layer is the product :math:`W B` instead of :math:`B W^\top`. The
    numbers are the same; only the order in which the matrix-product library is asked for them
    differs. On a CPU in float64 the products of a layer (forward, input gradient, weight gradient)
    then take about 22% less time (MKL, 8192-24576 rows of 128 features); in float32 they take
    about 15% more, and on a GPU the usual layout is kept.
    """
    return weight.dtype == torch.float64 and weight.device.type == "cpu"


def affine(
    h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, transposed: bool
) -> torch.Tensor:
    r"""A layer's :math:`h W^\top + b` for ``h`` of shape ``(N, F_in)``; with ``transposed``,
    ``h`` is given as :math:`h^\top` (shape ``(F_in, N)``) and :math:`W h^\top + b` is returned
    (shape ``(F_out, N)``), the layout :func:`feature_major_layout` picks."""
    if not transposed:
        return functional.linear(h, linear_weight_t(weight).t(), bias)
    w = linear_weight_t(weight).t()  # for a narrow input, the fast weight-gradient layout
    return w @ h if bias is None else torch.addmm(bias.unsqueeze(1), w, h)


def plain_forward(
    x: torch.Tensor,
    hidden: Iterable[tuple[torch.Tensor, torch.Tensor | None]],
    activation: Callable[[torch.Tensor], torch.Tensor],
    out: nn.Linear,
) -> torch.Tensor:
    """A field's plain forward pass, ``out(act(... act(x W_1^T + b_1) ...))``, over the hidden
    layers' ``(weight, bias)``, in the layout :func:`feature_major_layout` picks.

    Weights of shape ``(N, out, in)`` and biases ``(N, out)`` are one copy per point (the
    per-point parameters with which :mod:`neuralpde.training.gauss_newton` takes Jacobians):
    point ``n`` then goes through its own copy, :math:`W_n h_n + b_n`."""
    if out.weight.dim() == 3:
        h = x
        for weight, bias in hidden:
            h = activation(_per_point_affine(h, weight, bias))
        return _per_point_affine(h, out.weight, out.bias)
    fm = feature_major_layout(out.weight)  # float64 on a CPU: h stored transposed
    h = x.t() if fm else x
    for weight, bias in hidden:
        h = activation(affine(h, weight, bias, fm))
    y = affine(h, out.weight, out.bias, fm)
    return y.t().contiguous() if fm else y  # a copy only for several outputs


def _per_point_affine(
    h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    """:math:`W_n h_n + b_n` for each point ``n``: ``h`` ``(N, in)``, ``weight`` ``(N, out, in)``
    (a view that repeats one matrix costs no memory), ``bias`` ``(N, out)`` or ``None``."""
    y = torch.matmul(weight, h.unsqueeze(-1)).squeeze(-1)
    return y if bias is None else y + bias


def _empty_blocks(like: torch.Tensor, rows: int) -> torch.Tensor:
    """An uninitialised ``(rows, N, F)`` tensor stored like ``like`` (``(N, F)``): feature by
    feature when ``like`` is."""
    n, f = like.shape
    if n > 1 and like.stride() == (1, n):
        return like.new_empty(f, rows, n).permute(1, 2, 0)
    return like.new_empty(rows, n, f)


@dataclass(frozen=True)
class Jet:
    """Values and derivatives of ``F`` features at ``N`` points with respect to ``d`` directions.

    ``value`` has shape ``(N, F)``. ``deriv`` stacks the ``d`` first derivatives and then the
    ``c`` channels, shape ``(d + c, N, F)``. While the jet is an affine map of the input its
    second derivatives vanish and nothing depends on the point: ``deriv`` then has shape
    ``(d, 1, F)``, or ``(d + c, 1, F)`` when channels have a first-order part (see
    :func:`input_jet`). ``forms`` holds the channels' matrices, shape ``(c, d, d)``; ``weights``
    holds their diagonals as Python numbers when they are all diagonal (``c`` tuples of ``d``),
    else ``None``. With ``keep_grad=False`` the output layer (:meth:`output`) maps the value and
    the channels only. In float64 on a CPU the blocks are stored feature by feature (see
    :func:`feature_major_layout`); the shapes above are the same either way.
    """

    value: torch.Tensor
    deriv: torch.Tensor
    forms: torch.Tensor
    weights: tuple[tuple[float, ...], ...] | None
    keep_grad: bool = True

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
        """The jet of ``value @ weight.T + bias``; ``weight`` ``(N, out, in)`` and ``bias``
        ``(N, out)`` are per-point copies (see :mod:`neuralpde.fields.perpoint`)."""
        if weight.dim() == 3:
            value, deriv = per_point_linear(self.value, self.deriv, weight, bias)
            return Jet(value, deriv, self.forms, self.weights, self.keep_grad)
        fm = feature_major_layout(weight)
        value, deriv = (
            _through(self.value, weight, bias, fm),
            _blocks_through(self.deriv, weight, fm),
        )
        return Jet(value, deriv, self.forms, self.weights, self.keep_grad)

    def output(self, weight: torch.Tensor, bias: torch.Tensor | None) -> Jet:
        """The jet of a field's output layer ``value @ weight.T + bias``.

        Without ``keep_grad`` only the value and the channels are mapped, and the result has no
        first-derivative rows (``dim == 0``): no work is spent on a gradient nobody reads.
        """
        if self.keep_grad:
            return self.linear(weight, bias)
        d = self.dim
        quad = self.deriv[d:] if d else self.deriv  # a slice's backward would fill zeros
        if weight.dim() == 3:  # per-point copies
            return self._channels_only(*per_point_linear(self.value, quad, weight, bias))
        fm = feature_major_layout(weight)
        value = _through(self.value, weight, bias, fm)
        return self._channels_only(value, _blocks_through(quad, weight, fm))

    def _channels_only(self, value: torch.Tensor, channels: torch.Tensor) -> Jet:
        """A jet of ``value`` and the ``channels`` alone, without first-derivative rows."""
        weights = None if self.weights is None else tuple(() for _ in self.weights)
        return Jet(value, channels, self.forms[:, :0, :0], weights, False)

    def quadratic(self) -> torch.Tensor:
        r""":math:`\sum_{ij} C^{(c)}_{ij} \partial_i h\, \partial_j h` for each channel."""
        g = self.grad
        d, c = g.shape[0], self.forms.shape[0]
        if self.weights is not None:
            sq = g * g
            zero = g.new_zeros(g.shape[1:])
            return torch.stack(
                [sum((w * sq[i] for i, w in enumerate(ws) if w), zero) for ws in self.weights]
            )
        flat = g.reshape(d, -1)
        cg = (self.forms.reshape(c * d, d) @ flat).reshape(c, d, -1)
        q = (cg * flat).sum(dim=1)
        return q.reshape(c, *g.shape[1:])

    def activate(self, f: torch.Tensor, df: torch.Tensor, d2f: torch.Tensor) -> Jet:
        """The jet of ``sigma(value)``, given ``sigma``, ``sigma'`` and ``sigma''`` at ``value``."""
        grad = df * self.grad
        if self.forms.shape[0] == 0:
            return Jet(f, grad, self.forms, self.weights, self.keep_grad)
        quad = d2f * self.quadratic()
        if self.quad is not None:
            quad = quad + df * self.quad
        return Jet(f, torch.cat([grad, quad]), self.forms, self.weights, self.keep_grad)

    def sine(self, final: bool = False) -> Jet:
        """The jet of ``sin(value)``: ``sin' = cos``, ``sin'' = -sin``.

        ``final`` marks the activation before the output layer: without ``keep_grad`` its first
        derivatives are then not computed (the jet keeps the value and the channels only).
        """
        if self.weights is None:
            s = torch.sin(self.value)
            return self.activate(s, torch.cos(self.value), -s)
        return self._activation("sin", final)

    def tanh(self, final: bool = False) -> Jet:
        """The jet of ``tanh(value)``: ``tanh' = 1 - tanh^2``, ``tanh'' = -2 tanh tanh'``.

        ``final`` as for :meth:`sine`.
        """
        if self.weights is None:
            t = torch.tanh(self.value)
            dt = 1 - t * t
            return self.activate(t, dt, -2 * t * dt)
        return self._activation("tanh", final)

    def _activation(self, kind: str, final: bool) -> Jet:
        drop = final and not self.keep_grad
        args = (self.value, self.deriv, self.dim, self.weights, kind, drop)
        f, deriv = _ActivationJet.apply(*args)
        if not drop:
            return Jet(f, deriv, self.forms, self.weights, self.keep_grad)
        return self._channels_only(f, deriv)

    def scale_inputs(self, scale: torch.Tensor, shift: torch.Tensor) -> Jet:
        """The jet of ``value * scale + shift`` (a per-feature affine map)."""
        value, deriv = self.value * scale + shift, self.deriv * scale
        return Jet(value, deriv, self.forms, self.weights, self.keep_grad)


def _through(
    h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, fm: bool
) -> torch.Tensor:
    """``h @ weight.T + bias`` for ``h`` of shape ``(N, F)``; with ``fm`` computed as
    ``(weight @ h.T + bias).T``, so that the result is stored feature by feature."""
    return (
        affine(h.t(), weight, bias, transposed=True).t() if fm else affine(h, weight, bias, False)
    )


def _blocks_through(blocks: torch.Tensor, weight: torch.Tensor, fm: bool) -> torch.Tensor:
    """``blocks @ weight.T`` for blocks ``(r, N, F)``. With ``fm``, one product ``weight @ B``
    with ``B`` the blocks stored ``(F, r N)`` (a view when they are stored feature by feature,
    else a copy), the result stored feature by feature; rows shared by all points (``N = 1``,
    a few numbers) are multiplied as they are."""
    if not fm or blocks.shape[1] <= 1:  # rows shared by all points, or no points
        return blocks @ linear_weight_t(weight)
    r, n, f = blocks.shape
    flat = blocks.permute(2, 0, 1).reshape(f, r * n)
    return (weight @ flat).view(-1, r, n).permute(1, 2, 0)


class _ActivationJet(torch.autograd.Function):
    r"""The activation step of a jet with diagonal channels, with a hand-written backward.

    For :math:`\sigma` = ``sin`` or ``tanh``, with :math:`D_{ci}` the channels' diagonals,
    forward: :math:`h = \sigma(z)`, :math:`g_i = \sigma_1 g^z_i`,
    :math:`s_c = \sigma_1 s^z_c + \sigma_2 Q_c`, :math:`Q_c = \sum_i D_{ci} (g^z_i)^2`, where
    :math:`\sigma_k` is the k-th derivative of :math:`\sigma` at :math:`z`. Backward, with
    :math:`\bar h, \bar g, \bar s` the incoming gradients:
    :math:`\bar z = \sigma_1 \bar h + \sigma_2 (\sum_i g^z_i \bar g_i + \sum_c s^z_c \bar s_c)
    + \sigma_3 \sum_c Q_c \bar s_c`,
    :math:`\bar g^z_i = \sigma_1 \bar g_i + 2 \sigma_2 g^z_i \sum_c D_{ci} \bar s_c`,
    :math:`\bar s^z_c = \sigma_1 \bar s_c`.
    ``sin``: :math:`\sigma_1 = \cos z`, :math:`\sigma_2 = -\sin z`, :math:`\sigma_3 = -\sigma_1`;
    ``tanh``: :math:`\sigma_1 = p = 1 - h^2`, :math:`\sigma_2 = -2hp`,
    :math:`\sigma_3 = -2p + 6h \cdot hp`. :math:`\sigma_2` is stored as ``c2 * e2`` with a number
    ``c2`` (``e2`` is :math:`\sin z` or :math:`hp`), so its sign and factor cost no pass.

    Each line is a few passes over the ``(N, F)`` blocks, written into preallocated outputs;
    autograd's generic graph would store and revisit every intermediate product instead. The
    diagonals ``diag`` are Python numbers (``c`` tuples of ``d``), so zero and unit weights cost
    nothing. The backward is not itself differentiable: fused derivatives are never
    differentiated again with respect to the points (see
    :class:`neuralpde.operators.FieldValues`).
    """

    @staticmethod
    def forward(ctx, z, deriv, d, diag, kind, final=False):  # noqa: D102
        c = len(diag)
        if kind == "sin":
            f, d1 = torch.sin(z), torch.cos(z)
            e2, c2 = f, -1.0
        else:  # tanh
            f = torch.tanh(z)
            d1 = torch.addcmul(torch.ones_like(f), f, f, value=-1.0)
            e2, c2 = f * d1, -2.0
        gz = deriv[:d]
        rows = deriv.shape[0]
        shared = gz.shape[1] != z.shape[0]  # an affine input: one row of derivatives for all
        base = 0 if final else d  # where the channels start in the output
        out = _empty_blocks(z, base + c)
        # incoming channels (or their first-order seeds) are scaled by sigma_1, with the gradient
        # unless this is the final step, whose gradient nobody reads
        torch.mul(d1, deriv[d - base :], out=out[: rows - d + base])
        q = gz.new_empty(c, *gz.shape[1:]) if shared else _empty_blocks(z, c)
        for k, weights in enumerate(diag):
            _sum_products(((gz[i], gz[i], w) for i, w in enumerate(weights)), out=q[k])
            if rows == d:
                torch.mul(e2, q[k], out=out[base + k]).mul_(c2)
            elif any(weights):  # else Q_c = 0: a first-order channel, scaled by sigma_1 alone
                out[base + k].addcmul_(e2, q[k], value=c2)
        ctx.d, ctx.diag, ctx.shared, ctx.kind, ctx.c2 = d, diag, shared, kind, c2
        ctx.base = base
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(f, d1, e2, deriv, q)
        return f, out

    @staticmethod
    @once_differentiable
    def backward(ctx, dh, dout):  # noqa: D102
        f, d1, e2, deriv, q = ctx.saved_tensors
        d, diag, shared, c2, base = ctx.d, ctx.diag, ctx.shared, ctx.c2, ctx.base
        none = (None,) * 4
        if dout is None:
            return (None if dh is None else d1 * dh), None, *none
        rows = deriv.shape[0]
        first = d - base  # the first incoming row with an incoming gradient
        # a = sum over those rows of deriv * dout (none: no first derivatives, no seeds)
        a = torch.mul(deriv[first], dout[0]) if rows > first else None
        for r in range(first + 1, rows):
            a.addcmul_(deriv[r], dout[r - first])
        ds = dout[base:]
        live = [float(any(weights)) for weights in diag]  # 0: Q_c = 0, its terms vanish
        if ctx.kind == "sin":  # sigma_3 = -sigma_1: dz = cos z (dh - sum_c Q_c ds_c) - sin z a
            b = _sum_products(((q[k], ds[k], -live[k]) for k in range(len(diag))), start=dh)
            dz = torch.zeros_like(d1) if b is None else d1 * b
        else:  # dz = p dh + sigma_3 sum_c Q_c ds_c + sigma_2 a
            dz = torch.zeros_like(d1) if dh is None else d1 * dh
            m = _sum_products((q[k], ds[k], live[k]) for k in range(len(diag)))
            if m is not None:
                dz.addcmul_(torch.addcmul(d1 * -2.0, f, e2, value=6.0), m)
        if a is not None:
            dz.addcmul_(e2, a, value=c2)
        # t_c = e2 * ds_c, shared by every coordinate the channel weighs
        t = [torch.mul(e2, ds[k]) if live[k] else None for k in range(len(diag))]
        if shared:  # sum over the points: gz_i does not depend on them
            t = [None if tk is None else tk.sum(0, keepdim=True) for tk in t]
            dderiv = deriv.new_zeros(deriv.shape)
            dderiv[first:] = (d1 * dout[: rows - first]).sum(1, keepdim=True)
        else:
            dderiv = torch.empty_like(deriv)  # in the layout of deriv
            torch.mul(d1, dout[: rows - first], out=dderiv[first:])
        written = [shared or i >= first for i in range(d)]
        for k, weights in enumerate(diag):
            for i, w in enumerate(weights):
                if not w:
                    continue
                if written[i]:
                    dderiv[i].addcmul_(t[k], deriv[i], value=2.0 * c2 * w)
                else:
                    torch.mul(t[k], deriv[i], out=dderiv[i]).mul_(2.0 * c2 * w)
                    written[i] = True
        for i in range(d):
            if not written[i]:
                dderiv[i].zero_()
        return dz, dderiv, *none


def _sum_products(
    terms: Iterable[tuple[torch.Tensor, torch.Tensor, float]],
    start: torch.Tensor | None = None,
    out: torch.Tensor | None = None,
) -> torch.Tensor | None:
    """``start + sum_k w_k a_k b_k`` over ``terms`` ``(a_k, b_k, w_k)``, one pass per term.

    Zero weights cost nothing. The sum goes into ``out`` when given (zero if there is nothing
    to add), else into a new tensor (``start`` itself, or ``None``, if there is nothing to add);
    ``start`` is never modified.
    """
    acc = None
    for a, b, w in terms:
        if not w:
            continue
        if acc is not None:
            acc.addcmul_(a, b, value=w)
        elif start is not None:
            acc = torch.addcmul(start, a, b, value=w, out=out)
        else:
            acc = torch.mul(a, b, out=out)
            if w != 1.0:
                acc.mul_(w)
    if acc is None and out is not None:
        return out.zero_() if start is None else out.copy_(start)
    return start if acc is None else acc


def input_jet(
    x: torch.Tensor,
    forms: torch.Tensor,
    first: torch.Tensor | None = None,
    coords: tuple[int, ...] | None = None,
    keep_grad: bool = True,
) -> Jet:
    r"""The jet of the identity map at points ``x`` (shape ``(N, n)``).

    Channel ``k`` is :math:`\sum_i a_{ki}\, \partial_i + \sum_{ij} C^{(k)}_{ij}\, \partial_i
    \partial_j` with ``forms[k] = C`` (shape ``(c, n, n)``) and ``first[k] = a`` (shape
    ``(c, n)``, zero by default); the first-order part enters as the channel's value at the
    input, :math:`\ell_k(x) = a_k`. First derivatives are carried along the columns ``coords``
    only (default all); every form must vanish outside them.
    """
    n = x.shape[1]
    if forms.ndim != 3 or forms.shape[1:] != (n, n):
        raise ValueError(f"forms must have shape (c, {n}, {n}), got {tuple(forms.shape)}")
    c = forms.shape[0]
    if first is not None and tuple(first.shape) != (c, n):
        raise ValueError(f"first must have shape ({c}, {n}), got {tuple(first.shape)}")
    # forms and seeds are a few numbers: read them once into Python, where looking at them costs
    # no tensor operations (this runs every training step)
    C = forms.detach().tolist()
    idx = list(range(n)) if coords is None else list(coords)
    if any(not 0 <= i < n for i in idx) or len(set(idx)) != len(idx):
        raise ValueError(f"coords must be distinct columns in [0, {n}), got {coords!r}")
    if set(_support(C)) - set(idx):
        raise ValueError(f"forms involve columns outside coords={tuple(idx)}")
    sub = [[[Ck[i][j] for j in idx] for i in idx] for Ck in C]
    m = len(idx)
    diagonal = all(Ck[i][j] == 0 for Ck in sub for i in range(m) for j in range(m) if i != j)
    weights = tuple(tuple(Ck[i][i] for i in range(m)) for Ck in sub) if diagonal else None
    rows = [[float(k == i) for k in range(n)] for i in idx]  # d(x_k)/d(x_i) = delta_ik
    if first is not None:
        a = first.detach().tolist()
        if any(v != 0 for ak in a for v in ak):
            rows += a
    like = {"dtype": x.dtype, "device": x.device}
    deriv = torch.tensor(rows, **like).reshape(len(rows), 1, n)
    return Jet(x, deriv, torch.tensor(sub, **like).reshape(c, m, m), weights, keep_grad)


def _support(C: list) -> list[int]:
    """The columns that the forms ``C`` (nested lists, ``c x n x n``) involve, in order."""
    n = len(C[0]) if C else 0
    return [
        i for i in range(n) if any(Ck[i][j] != 0 or Ck[j][i] != 0 for Ck in C for j in range(n))
    ]


def supports_jet(module: nn.Module) -> bool:
    """Whether ``module`` (and every module it wraps) propagates jets that describe its
    ``forward`` (see :func:`jet_obstacle`)."""
    return jet_obstacle(module) is None


def jet_obstacle(module: nn.Module) -> str | None:
    """Why ``module`` cannot propagate jets, or ``None`` when it can.

    A module takes part when its ``supports_jet()`` says so and its ``jet`` still computes the
    function its ``forward`` does. That is not the case, and the module is refused, when
    ``forward`` is replaced on the instance, when forward hooks are registered (on the module or
    globally), or when a class ahead of the one that defines ``jet`` in the method resolution
    order (a subclass, a mixin) defines ``forward``. A ``torch.compile`` wrapper is judged by the
    module it compiles.
    """
    name = type(module).__name__
    original = getattr(module, "_orig_mod", None)  # torch.compile's OptimizedModule
    if isinstance(original, nn.Module) and original is not module:
        return jet_obstacle(original)
    check = getattr(module, "supports_jet", None)
    if not callable(check):
        return f"{name} does not propagate derivatives forward"
    if "forward" in vars(module):
        return f"{name} has its forward replaced on the instance, which its jet does not follow"
    hooks = (
        module._forward_pre_hooks,
        module._forward_hooks,
        getattr(torch.nn.modules.module, "_global_forward_pre_hooks", {}),
        getattr(torch.nn.modules.module, "_global_forward_hooks", {}),
    )
    if any(len(h) for h in hooks):
        return f"{name} has forward hooks, which its jet does not run"
    mro = type(module).__mro__
    forward_owner, jet_owner = _defined_by(mro, "forward"), _defined_by(mro, "jet")
    overridden = (
        jet_owner is not None
        and forward_owner is not None
        and mro.index(forward_owner) < mro.index(jet_owner)
    )
    if overridden:
        where = "" if forward_owner is type(module) else f" (in {forward_owner.__qualname__})"
        return (
            f"{name} overrides forward{where} but inherits jet from {jet_owner.__qualname__}, "
            "which computes another function"
        )
    if check():
        return None
    for child in module.children():  # a wrapper: name the module it cannot carry through
        reason = jet_obstacle(child)
        if reason is not None:
            return f"{name} wraps a module that cannot: {reason}"
    return f"{name} does not propagate derivatives forward"


def library_jets_only(module: nn.Module) -> bool:
    """Whether every module in ``module`` that has a ``jet`` is one of the library's own field
    classes (not a subclass), whose jets the test suite checks against autograd."""
    for m in module.modules():
        m = getattr(m, "_orig_mod", m)
        if callable(getattr(m, "jet", None)) and not vars(type(m)).get("_jet_checked", False):
            return False
    return True


def _defined_by(mro: tuple[type, ...], attr: str) -> type | None:
    """The first class in the method resolution order ``mro`` that defines ``attr``."""
    return next((k for k in mro if attr in vars(k)), None)


def forward_jet(
    module: nn.Module,
    x: torch.Tensor,
    forms: torch.Tensor,
    first: torch.Tensor | None = None,
    *,
    gradient: bool = True,
    checked: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    r"""Value, gradient and channels of a scalar field at ``x`` (shape ``(N, n)``) in one pass.

    Returns ``u`` of shape ``(N,)``, ``grad`` of shape ``(N, n)`` and ``quad`` of shape
    ``(N, c)``, with ``quad[:, k]`` :math:`= \sum_i` ``first[k, i]`` :math:`\partial_i u +
    \sum_{ij}` ``forms[k, i, j]`` :math:`\partial_i \partial_j u`. With ``gradient=False``,
    ``grad`` is ``None`` and first derivatives are carried only along the columns the forms
    involve: a time derivative that enters through ``first`` alone then costs no extra rows.
    ``checked``: ``module`` is known to propagate jets (a bound engine looked once), so
    :func:`jet_obstacle` is not asked again.
    """
    reason = None if checked else jet_obstacle(module)
    if reason is not None:
        raise TypeError(f"forward_jet needs a field that propagates derivatives forward: {reason}")
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        got = f"a {x.dtype} tensor" if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"x must be a floating-point torch.Tensor, got {got}")
    if x.ndim != 2:
        raise ValueError(f"x must have shape (N, n), got {tuple(x.shape)}")
    if not isinstance(forms, torch.Tensor):  # nested lists or an array: read in float64
        forms = torch.as_tensor(forms, dtype=torch.float64)
    if first is not None and not isinstance(first, torch.Tensor):
        first = torch.as_tensor(first, dtype=torch.float64)
    coords = None
    if not gradient and forms.ndim == 3:
        coords = tuple(_support(forms.detach().tolist()))
    out = module.jet(input_jet(x, forms, first, coords, keep_grad=gradient))
    if out.value.shape[1] != 1:
        raise ValueError(f"forward_jet needs a scalar field, got {out.value.shape[1]} outputs")
    n = x.shape[0]
    grad = out.grad[:, :, 0].expand(-1, n).t() if gradient else None
    if out.quad is None:
        quad = x.new_zeros(n, forms.shape[0])
    else:
        quad = out.quad[:, :, 0].expand(-1, n).t()
    return out.value[:, 0], grad, quad
