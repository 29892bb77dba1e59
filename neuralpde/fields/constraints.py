r"""Hard constraints: fields that meet their Dirichlet and initial data exactly.

Following Sukumar & Srivastava (2022), the trained field is

.. math::

    u(x, t) = A(x, t) + C\, \varphi(x)\, \tau(t)^k\, N(x, t),

with :math:`N` the network, :math:`\varphi \ge 0` a smooth function that vanishes exactly on
the boundary parts that carry Dirichlet data (and nowhere else in the domain),
:math:`\tau = (t - t_0)/(t_1 - t_0)` and :math:`k` the number of initial conditions (value, and
velocity for a second-order equation), and :math:`A` a *lift* that meets all of the data:

.. math::

    A = \hat g(x, t) + \big(u_0(x) - \hat g(x, t_0)\big)
        + (t - t_0)\big(v_0(x) - \partial_t \hat g(x, t_0)\big).

:math:`\hat g` extends the Dirichlet data into the domain: the data callable itself where one
condition covers every Dirichlet part, else the transfinite blend
:math:`\hat g = \sum_k w_k g_k`, :math:`w_k = \varphi_k^{-1} / \sum_j \varphi_j^{-1}` of each
condition's data by the inverse of the distance-like function of its parts (a weight that is
1 on its own parts and 0 on the others, smooth between them).

:math:`\varphi` is a product of one factor per boundary piece, each an approximate distance that
is positive inside: a face of a box :math:`\pm(x_i - a)`, a ball's sphere
:math:`\pm(r^2 - |x - c|^2)/(2r)` (negative sign for a hole), a polygon's edge by the signed
distance to its line where the whole polygon lies on the line's inner side (every edge of a
convex polygon: the product is then a polynomial, as for a box), else (an edge at a reentrant
corner) by the trimmed segment function of Sukumar & Srivastava, whose kink at the segment's
ends (a cone about each vertex) no smooth network follows exactly. A product is smooth
wherever no two factors vanish (a sum of inverses, their "R-equivalence", has a Laplacian that
is singular at every corner).
It is scaled so that its largest value on the domain is 1, and :math:`C` is the scale of the
solution's departure from the lift (:mod:`neuralpde.defaults` estimates it from the problem), so
that the network's output stays of unit size.

**Reentrant corners.** Near a corner of interior angle :math:`\alpha > \pi` between two edges
with Dirichlet data, the solution of a second-order elliptic problem behaves as
:math:`K \rho^{\lambda} \sin(\lambda\theta)`, :math:`\lambda = \pi/\alpha < 1`
(:math:`\rho, \theta` polar coordinates about the corner, :math:`\theta` from one edge):
unbounded derivatives that no smooth :math:`N` times :math:`\varphi` can follow. With
:math:`\sigma_c = \rho^{\lambda} \sin(\lambda\theta)` (zero on the corner's two edges), each
such corner adds

.. math::

    a_c\, \sigma_c + w_c\, \sigma_c\, \chi(\rho/R), \qquad
    \chi = \frac{h(1 - q)}{h(1 - q) + h(q)},\ q = 2\rho/R - 1,\
    h(t) = e^{-1/t}\ (t > 0),\ 0 \text{ else}.

:math:`a_c` is fixed, fitted with the lift (:func:`neuralpde.training.lift.fit_lift`), so the
lift's series fits only what is smooth, and is used only where the ray from the corner along
the bisector of the missing sector never meets the domain again (``clear``: :math:`\theta` is
then continuous on the domain); :math:`w_c` is trained. :math:`R` is the distance from the
corner to the nearest edge not at it, and :math:`\chi` is 1 up to :math:`R/2`, 0 from
:math:`R` on, infinitely differentiable: the trained term vanishes on the whole boundary, so the
data stay met exactly whatever :math:`w_c` (singular-function enrichment, as in
singular-function finite elements).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

from .jet import Jet, supports_jet

__all__ = ["HardConstraint", "boundary_pieces", "corner_functions", "distance_product"]

Lift = Callable[[torch.Tensor], torch.Tensor]  # the exact lift, a function of the points


def _piece_values(piece: Mapping, x: torch.Tensor) -> torch.Tensor:
    """One piece's approximate distance at ``x`` (``(N, D)``, space first), positive inside."""
    kind = piece["kind"]
    if kind == "plane":
        return piece["side"] * (x[:, piece["axis"]] - piece["at"])
    if kind == "sphere":
        c = torch.as_tensor(piece["centre"], dtype=x.dtype, device=x.device)
        r = float(piece["radius"])
        d2 = ((x[:, : c.numel()] - c) ** 2).sum(dim=1)
        return piece["side"] * (r * r - d2) / (2.0 * r)
    if kind == "line":  # an edge whose line leaves the whole polygon on its inner side
        a, b = piece["a"], piece["b"]
        ex, ey = b[0] - a[0], b[1] - a[1]
        length = math.hypot(ex, ey)
        return (ex * (x[:, 1] - a[1]) - ey * (x[:, 0] - a[0])) / length
    if kind == "segment":
        a = torch.as_tensor(piece["a"], dtype=x.dtype, device=x.device)
        b = torch.as_tensor(piece["b"], dtype=x.dtype, device=x.device)
        e = b - a
        length = float(torch.linalg.norm(e))
        p = x[:, :2]
        # signed distance to the edge's line, and the trimming function that is positive
        # over the segment's own span (Sukumar & Srivastava 2022, eqs. 6-8)
        f = ((p[:, 0] - a[0]) * e[1] - (p[:, 1] - a[1]) * e[0]) / length
        centre = 0.5 * (a + b)
        t = ((0.5 * length) ** 2 - ((p - centre) ** 2).sum(dim=1)) / length
        varphi = torch.sqrt(t * t + f**4)
        return torch.sqrt(f * f + 0.25 * (varphi - t) ** 2)
    raise ValueError(f"unknown boundary piece kind {kind!r}")


def distance_product(pieces: Sequence[Mapping], x: torch.Tensor) -> torch.Tensor:
    r""":math:`\prod_i \varphi_i(x)` over ``pieces`` (1 when there are none)."""
    out = torch.ones(x.shape[0], dtype=x.dtype, device=x.device)
    for p in pieces:
        out = out * _piece_values(p, x)
    return out


def corner_functions(corners: Sequence[Mapping], x: torch.Tensor, cut: bool = True) -> torch.Tensor:
    r"""The singular functions :math:`\sigma_c(x)\chi_c(x)` of ``corners`` (see the module's
    docstring; :math:`\sigma_c` alone when ``cut`` is false), shape ``(N, len(corners))``. A
    corner is ``{"at": (x, y), "start": θ0, "angle": α, "radius": R, "clear": bool}``: the
    domain near it is the sector of angles θ0 to θ0 + α counter-clockwise."""
    sigma, chi = _corner_parts(corners, x)
    return sigma * chi if cut else sigma


def _corner_parts(corners: Sequence[Mapping], x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r""":math:`\sigma_c(x)` and :math:`\chi_c(x)` of ``corners``, each ``(N, len(corners))``."""
    sigmas, chis = [], []
    tiny = torch.finfo(x.dtype).tiny
    for c in corners:
        alpha = float(c["angle"])
        lam = math.pi / alpha
        dx = x[:, 0] - float(c["at"][0])
        dy = x[:, 1] - float(c["at"][1])
        # angle from the sector's bisector, so that atan2's cut lies outside the domain
        mid = float(c["start"]) + 0.5 * alpha
        cm, sm = math.cos(mid), math.sin(mid)
        theta = torch.atan2(cm * dy - sm * dx, cm * dx + sm * dy) + 0.5 * alpha
        rho2 = dx * dx + dy * dy
        sigmas.append((rho2 + tiny) ** (0.5 * lam) * torch.sin(lam * theta))
        chis.append(_cutoff(rho2, float(c["radius"])))
    if not sigmas:
        empty = x.new_zeros((x.shape[0], 0))
        return empty, empty
    return torch.stack(sigmas, dim=1), torch.stack(chis, dim=1)


def _smooth_step(t: torch.Tensor) -> torch.Tensor:
    """:math:`e^{-1/t}` for :math:`t > 0`, else 0 (infinitely differentiable)."""
    pos = t > 0
    return torch.where(pos, torch.exp(-1.0 / torch.where(pos, t, torch.ones_like(t))), 0.0)


def _cutoff(rho2: torch.Tensor, radius: float) -> torch.Tensor:
    r""":math:`\chi(\rho/R)`: 1 up to :math:`R/2`, 0 from :math:`R` on, smooth between."""
    # the clamps keep the square root's derivative finite where the value is constant
    rho = torch.sqrt(rho2.clamp(min=(0.25 * radius) ** 2, max=4.0 * radius**2))
    q = 2.0 * rho / radius - 1.0
    a, b = _smooth_step(1.0 - q), _smooth_step(q)
    return a / (a + b)


def _edge_kind(polygon: object, a, b) -> str:
    """``"line"`` for an edge whose whole line bounds ``polygon`` (every vertex on its inner
    side, within round-off: the signed distance to the line is then positive inside and
    smooth), ``"segment"`` for another (an edge at a reentrant corner, whose line crosses the
    domain: the trimmed segment function)."""
    v = polygon.vertices
    ex, ey = float(b[0] - a[0]), float(b[1] - a[1])
    side = ex * (v[:, 1] - a[1]) - ey * (v[:, 0] - a[0])  # |e| times the signed distance
    scale = math.hypot(ex, ey) * float((v.max(axis=0) - v.min(axis=0)).max())
    return "line" if bool((side >= -1e-12 * scale).all()) else "segment"


def boundary_pieces(domain: object) -> dict[str, list[dict]] | None:
    """The boundary pieces of a spatial domain, by boundary part name, each a JSON-ready
    description of an approximate distance function that is positive inside; ``None`` when the
    domain has no such description (a union, a mesh, a hole that is not a ball)."""
    from ..domains import Box
    from ..geometry import Ball, Difference, Intersection, Polygon

    if isinstance(domain, Box):
        lo, hi = domain.bounds
        out: dict[str, list[dict]] = {}
        for i, name in enumerate(domain.names):
            out[f"{name}_min"] = [{"kind": "plane", "axis": i, "at": float(lo[i]), "side": 1.0}]
            out[f"{name}_max"] = [{"kind": "plane", "axis": i, "at": float(hi[i]), "side": -1.0}]
        return out
    if isinstance(domain, Ball):
        sphere = {
            "kind": "sphere",
            "centre": [float(c) for c in domain.center],
            "radius": float(domain.radius),
            "side": 1.0,
        }
        return {domain.boundary_parts[0]: [sphere]}
    if isinstance(domain, Polygon):
        return {
            part: [
                {
                    "kind": _edge_kind(domain, a, b),
                    "a": [float(v) for v in a],
                    "b": [float(v) for v in b],
                }
            ]
            for part, a, b in domain.edges()
        }
    if isinstance(domain, (Difference, Intersection)):
        out = {}
        for i, (name, child) in enumerate(zip(domain.child_names, domain.children, strict=True)):
            sub = boundary_pieces(child)
            hole = isinstance(domain, Difference) and i > 0
            if sub is None or (hole and not isinstance(child, Ball)):
                return None
            for part, pieces in sub.items():
                if hole:
                    pieces = [dict(p, side=-p["side"]) for p in pieces]
                out[f"{name}.{part}"] = pieces
        return out
    return None


class HardConstraint(nn.Module):
    r"""``lift(x) + scale * phi(x) * tau(t)^order * net(x)`` (see the module's docstring), plus
    ``sum_c (a_c sigma_c(x) + w_c sigma_c(x) chi_c(x))`` over reentrant ``corners`` (fitted
    ``corner_lift`` :math:`a_c`, a buffer; trained ``corner_weights`` :math:`w_c`).

    ``pieces`` describe :math:`\varphi` (divided by ``norm``); ``time`` is ``None`` or
    ``{"axis", "t0", "t1", "order"}``; ``lift`` a module for :math:`A` (a field fitted to the
    data, frozen: its parameters do not train), or ``None`` for :math:`A = 0`. Being a module,
    the lift is saved and loaded with the weights, so a stored field needs no problem code.
    """

    def __init__(
        self,
        net: nn.Module,
        pieces: Sequence[Mapping],
        norm: float,
        scale: float,
        time: Mapping | None = None,
        lift: nn.Module | None = None,
        corners: Sequence[Mapping] = (),
    ) -> None:
        super().__init__()
        if not (math.isfinite(norm) and norm > 0 and math.isfinite(scale) and scale > 0):
            raise ValueError(
                f"HardConstraint needs a positive finite norm and scale, got {norm!r}, {scale!r}"
            )
        self.net = net
        self.pieces = [dict(p) for p in pieces]
        self.norm = float(norm)
        self.scale = float(scale)
        self.time = None if time is None else dict(time)
        self.lift = lift
        self.corners = [dict(c) for c in corners]
        if self.corners:
            like = next(net.parameters(), None)
            kind = {} if like is None else {"dtype": like.dtype, "device": like.device}
            self.corner_weights = nn.Parameter(torch.zeros(len(self.corners), **kind))
            # the fitted a_c, saved with the weights (zero for a corner that is not clear)
            self.register_buffer("corner_lift", torch.zeros(len(self.corners), **kind))
        if lift is not None:
            for p in lift.parameters():
                p.requires_grad_(False)

    def factor(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`C \varphi(x) \tau^k`, shape ``(N,)``."""
        out = distance_product(self.pieces, x) * (self.scale / self.norm)
        if self.time is not None and self.time["order"] > 0:
            tau = (x[:, self.time["axis"]] - self.time["t0"]) / (self.time["t1"] - self.time["t0"])
            out = out * tau ** int(self.time["order"])
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.net(x)
        y = y[:, 0] if y.dim() == 2 else y
        fixed = self._fixed(x)  # a_c is 0 where a corner is not clear
        u = fixed[:, 0] + fixed[:, 1] * y
        if self.corners:  # weights (k,), or (N, k) when evaluated with per-point parameters
            u = u + (fixed[:, 2:] * self.corner_weights).sum(dim=1)
        return u.unsqueeze(1)

    _jet_checked = True  # its jet is tested against autograd (subclasses are not)

    def supports_jet(self) -> bool:
        return supports_jet(self.net)

    def _fixed(self, x: torch.Tensor) -> torch.Tensor:
        r"""The parts that do not train, ``(N, 2 + k)``: the lift with the fitted corner terms
        :math:`A + \sum_c a_c\sigma_c`, the factor :math:`C\varphi\tau^k`, and each corner's
        :math:`\sigma_c\chi_c`."""
        parts = [torch.zeros_like(x[:, 0]), self.factor(x)]
        if self.lift is not None:
            a = self.lift(x)
            parts[0] = a[:, 0] if a.dim() == 2 else a
        if self.corners:
            sigma, chi = _corner_parts(self.corners, x)
            parts[0] = parts[0] + (sigma * self.corner_lift).sum(dim=1)
            parts.extend((sigma * chi).unbind(dim=1))
        return torch.stack(parts, dim=1)

    def _fixed_jet(self, j: Jet) -> torch.Tensor:
        """:func:`fixed_jet` of :meth:`_fixed`, kept for the last points it was asked at: a
        training run asks at the same points at every step, and these parts do not train.
        An entry serves only points equal to its own, the same directions and channels, and
        the same lift and corner coefficients (their tensors' versions); at most
        :data:`_JET_CACHE` entries and :data:`_JET_CACHE_ELEMENTS` numbers are kept, the oldest
        dropped first."""
        x = j.value
        lift = () if self.lift is None else (*self.lift.buffers(), *self.lift.parameters())
        own = (self.corner_lift,) if self.corners else ()
        state = tuple(t._version for t in (*lift, *own))
        key = (
            x.data_ptr(),
            tuple(x.shape),
            x.dtype,
            str(x.device),
            tuple(map(tuple, j.deriv[:, 0, :].tolist())),
            tuple(j.forms.reshape(-1).tolist()),
            state,
            self.scale,
            self.norm,
        )
        cache = self.__dict__.setdefault("_jet_cache", {})
        hit = cache.get(key)
        if hit is not None and torch.equal(hit[0], x.detach()):
            return hit[1]
        out = fixed_jet(self._fixed, j)
        cache[key] = (x.detach().clone(), out)
        size = sum(a.numel() + b.numel() for a, b in cache.values())
        while len(cache) > _JET_CACHE or (cache and size > _JET_CACHE_ELEMENTS):
            a, b = cache.pop(next(iter(cache)))  # the oldest
            size -= a.numel() + b.numel()
        return out

    def jet(self, j: Jet) -> Jet:
        r"""Propagate values and derivatives (see :mod:`neuralpde.fields.jet`): the network's
        jet, and the parts that do not train (:math:`A`, :math:`\psi = C\varphi\tau^k`, the
        corners' :math:`\sigma_c\chi_c`) differentiated by autograd, joined by the product
        rule, for each channel :math:`\ell_c`

        .. math::

            \ell_c(\psi N) = \psi\, \ell_c N + N\, \ell_c \psi
                + 2 \sum_{ij} C^{(c)}_{ij}\, \partial_i \psi\, \partial_j N .

        The input jet must be that of the points themselves (or an affine map of them).
        """
        n, d, c = j.value.shape[0], j.dim, j.forms.shape[0]
        if j.deriv.shape[1] != 1:
            raise ValueError(
                "HardConstraint.jet needs the jet of its input points (derivative rows shared by "
                f"all points), got rows of shape {tuple(j.deriv.shape)}"
            )
        inner = self.net.jet(Jet(j.value, j.deriv, j.forms, j.weights, True))
        nv = inner.value[:, 0]
        nd = inner.deriv[:, :, 0].expand(-1, n)
        fixed = self._fixed_jet(j)  # (1 + d + c, N, 2 + k)
        lift, psi = fixed[:, :, 0], fixed[:, :, 1]
        value = lift[0] + psi[0] * nv
        grads = lift[1 : 1 + d] + psi[1 : 1 + d] * nv + psi[0] * nd[:d]
        chans = lift[1 + d :] + psi[1 + d :] * nv
        if c and nd.shape[0] > d:
            chans = chans + psi[0] * nd[d:]
        if c and d:
            chans = chans + 2.0 * _cross(j, psi[1 : 1 + d], nd[:d])
        if self.corners:  # weights (k,), or (N, k) with per-point parameters
            term = (fixed[:, :, 2:] * self.corner_weights).sum(dim=2)
            value, grads, chans = value + term[0], grads + term[1 : 1 + d], chans + term[1 + d :]
        out = Jet(value.unsqueeze(1), torch.cat([grads, chans]).unsqueeze(2), j.forms, j.weights)
        return out if j.keep_grad else out._channels_only(out.value, chans.unsqueeze(2))

    def describe(self) -> dict:
        """The constraint; the lift's architecture is described by the caller."""
        out = {
            "pieces": self.pieces,
            "norm": self.norm,
            "scale": self.scale,
            "time": self.time,
        }
        if self.corners:
            out["corners"] = self.corners
        return out


#: Point sets whose fixed jets a :class:`HardConstraint` keeps (the blocks of a Jacobian), and
#: the numbers they may hold in all (64 MB in float64): a one-off evaluation of many points
#: (a validation grid) is not kept.
_JET_CACHE = 64
_JET_CACHE_ELEMENTS = 2**23


def _cross(j: Jet, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    r""":math:`\sum_{ij} C^{(c)}_{ij} a_i b_j` for each channel of ``j``, ``a`` and ``b`` the
    derivative rows ``(d, N)`` of two functions; ``(c, N)``."""
    if j.weights is not None:
        zero = torch.zeros_like(a[0])
        return torch.stack(
            [sum((w * a[i] * b[i] for i, w in enumerate(ws) if w), zero) for ws in j.weights]
        )
    return torch.einsum("cij,in,jn->cn", j.forms.to(a.dtype), a, b)


def fixed_jet(f: Callable[[torch.Tensor], torch.Tensor], j: Jet) -> torch.Tensor:
    r"""The jet of functions ``f(x)`` ``(N, m)`` that do not train, at the input of ``j``, by
    autograd: rows ``(1 + d + c, N, m)``, the values, the derivatives along ``j``'s ``d``
    directions and its ``c`` channels. With :math:`D` the directions (rows ``(d, n)``),
    :math:`s_c` the channels' first-order parts and :math:`C^{(c)}` their forms, channel
    :math:`c` of :math:`f` is :math:`s_c \cdot \nabla f + \operatorname{tr}(M_c H_f)`,
    :math:`M_c = D^\top C^{(c)} D`; only the Hessian rows some :math:`M_c` reads are formed."""
    d, c = j.dim, j.forms.shape[0]
    x = j.value.detach().requires_grad_(True)
    n, dim = x.shape
    rows = j.deriv[:, 0, :].detach()
    D = rows[:d]
    seeds = rows[d:] if rows.shape[0] > d else None
    M = (D.t() @ j.forms.to(x.dtype) @ D) if c else x.new_zeros(0, dim, dim)  # (c, n, n)
    need = [k for k in range(dim) if bool(M[:, k, :].ne(0).any())]
    with torch.enable_grad():
        F = f(x)
        m = F.shape[1]
        out = x.new_zeros(1 + d + c, n, m)
        out[0] = F.detach()
        for q in range(m):
            (g,) = torch.autograd.grad(
                F[:, q].sum(), x, create_graph=bool(need), retain_graph=True, allow_unused=True
            )
            if g is None:
                continue
            out[1 : 1 + d, :, q] = (g @ D.t()).t().detach()
            if not c:
                continue
            chan = (g @ seeds.t()).t().detach() if seeds is not None else x.new_zeros(c, n)
            for k in need:
                if not g.requires_grad:
                    break
                (h,) = torch.autograd.grad(g[:, k].sum(), x, retain_graph=True, allow_unused=True)
                if h is not None:
                    chan = chan + (h @ M[:, k, :].t()).t()
            out[1 + d :, :, q] = chan
    return out
