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
:math:`\pm(r^2 - |x - c|^2)/(2r)` (negative sign for a hole), a polygon's edge by the trimmed
segment function of Sukumar & Srivastava. A product is smooth wherever no two factors vanish
(a sum of inverses, their "R-equivalence", has a Laplacian that is singular at every corner).
It is scaled so that its largest value on the domain is 1, and :math:`C` is the scale of the
solution's departure from the lift (:mod:`neuralpde.defaults` estimates it from the problem), so
that the network's output stays of unit size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

__all__ = ["HardConstraint", "boundary_pieces", "distance_product"]

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
            part: [{"kind": "segment", "a": [float(v) for v in a], "b": [float(v) for v in b]}]
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
    r"""``lift(x) + scale * phi(x) * tau(t)^order * net(x)`` (see the module's docstring).

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
        u = self.factor(x) * y
        if self.lift is not None:
            a = self.lift(x)
            u = u + (a[:, 0] if a.dim() == 2 else a)
        return u.unsqueeze(1)

    def describe(self) -> dict:
        """The constraint; the lift's architecture is described by the caller."""
        return {
            "pieces": self.pieces,
            "norm": self.norm,
            "scale": self.scale,
            "time": self.time,
        }
