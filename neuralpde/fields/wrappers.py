r"""Wrappers that compose with any field module.

:class:`InputScaling` maps the domain's bounding box onto :math:`[-1, 1]^d`,
:math:`\hat x = 2 (x - \ell) / (h - \ell) - 1`, so that a network's initialisation sees inputs of
unit scale whatever the physical units.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .jet import Jet, supports_jet

__all__ = ["InputScaling"]


class InputScaling(nn.Module):
    """``net(2 (x - lower) / (upper - lower) - 1)``; the bounds are saved with the weights."""

    def __init__(self, net: nn.Module, lower: Sequence[float], upper: Sequence[float]) -> None:
        super().__init__()
        self.net = net
        # checked as plain numbers: the module may be built on the meta device, for its shapes
        lo_np = np.asarray(lower, dtype=np.float64)
        hi_np = np.asarray(upper, dtype=np.float64)
        finite = bool(np.isfinite(lo_np).all() and np.isfinite(hi_np).all())
        lo = torch.as_tensor(lo_np.tolist(), dtype=torch.float64)
        hi = torch.as_tensor(hi_np.tolist(), dtype=torch.float64)
        if lo_np.shape != hi_np.shape or lo_np.ndim != 1 or not finite or not (hi_np > lo_np).all():
            raise ValueError(
                "InputScaling needs finite bounds, one per input coordinate, with lower < upper; "
                f"got {lower!r} and {upper!r}"
            )
        self.register_buffer("lower", lo)
        self.register_buffer("upper", hi)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(2.0 * (x - self.lower) / (self.upper - self.lower) - 1.0)

    _jet_checked = True  # its jet is tested against autograd (subclasses are not)

    def supports_jet(self) -> bool:
        return supports_jet(self.net)

    def jet(self, j: Jet) -> Jet:
        """Propagate values and derivatives (see :mod:`neuralpde.fields.jet`)."""
        width = self.upper - self.lower
        return self.net.jet(j.scale_inputs(2.0 / width, -2.0 * self.lower / width - 1.0))
