r"""A tanh multilayer perceptron, the classical PINN baseline.

:math:`h_{i+1} = \tanh(W_i h_i + b_i)`, Glorot-normal weights, zero biases.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .._arguments import as_number, check_int, check_network_size
from ..limits import MAX_IN_FEATURES
from .jet import Jet, plain_forward

__all__ = ["MLP", "MLPNet"]


class MLPNet(nn.Module):
    """The tanh MLP module; build it from an :class:`MLP` specification."""

    def __init__(self, in_features: int, width: int, depth: int, out_features: int = 1) -> None:
        super().__init__()
        sizes = [in_features] + [width] * depth
        self.hidden = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.out = nn.Linear(width, out_features)
        with torch.no_grad():
            for layer in [*self.hidden, self.out]:
                nn.init.xavier_normal_(layer.weight)
                layer.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layers = ((layer.weight, layer.bias) for layer in self.hidden)
        return plain_forward(x, layers, torch.tanh, self.out)

    _jet_checked = True  # its jet is tested against autograd (subclasses are not)

    def supports_jet(self) -> bool:
        return True

    def jet(self, j: Jet) -> Jet:
        """Propagate values and derivatives (see :mod:`neuralpde.fields.jet`)."""
        last = len(self.hidden) - 1
        for i, layer in enumerate(self.hidden):
            j = j.linear(layer.weight, layer.bias).tanh(final=i == last)
        return j.output(self.out.weight, self.out.bias)


@dataclass(frozen=True)
class MLP:
    """Specification of a tanh MLP field with ``depth`` hidden layers of ``width`` neurons
    (at most :data:`~neuralpde.limits.MAX_DEPTH` = 64 layers of
    :data:`~neuralpde.limits.MAX_WIDTH` = 4096, and :data:`~neuralpde.limits.MAX_PARAMETERS`
    = 2**26 parameters in all)."""

    width: int = 64
    depth: int = 3

    def __post_init__(self) -> None:
        check_network_size("MLP", self.width, self.depth)
        for name in ("width", "depth"):
            object.__setattr__(self, name, as_number(getattr(self, name), integral=True))

    def build(self, in_features: int, out_features: int = 1) -> MLPNet:
        """The module for ``in_features`` inputs (1 to :data:`~neuralpde.limits.MAX_IN_FEATURES`),
        after checking its size against :data:`~neuralpde.limits.MAX_PARAMETERS`."""
        in_features = check_int(in_features, "in_features", 1, MAX_IN_FEATURES)
        check_network_size("MLP", self.width, self.depth, in_features)
        return MLPNet(in_features, self.width, self.depth, out_features)

    def describe(self) -> dict:
        return {"type": "mlp", "width": self.width, "depth": self.depth}
