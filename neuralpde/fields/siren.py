r"""SIREN: a multilayer perceptron with sine activations (Sitzmann et al., NeurIPS 2020).

Layer :math:`i` computes :math:`h_{i+1} = \sin(\omega_i (W_i h_i + b_i))` and a final linear layer
gives the value. Initialisation follows the paper: the first layer draws
:math:`W \sim U(-1/n, 1/n)` and the later layers
:math:`W \sim U(-\sqrt{6/n}/\omega, \sqrt{6/n}/\omega)`
(:math:`n` the fan-in), which keeps pre-activations distributed as :math:`\arcsin`-like unit
variance through depth. Biases keep PyTorch's default :math:`U(-1/\sqrt{n}, 1/\sqrt{n})`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .._arguments import as_number, check_int, check_network_size
from ..limits import MAX_IN_FEATURES, MAX_W0
from .jet import Jet, plain_forward

__all__ = ["Siren", "SirenNet"]


class SirenNet(nn.Module):
    """The SIREN module; build it from a :class:`Siren` specification."""

    def __init__(
        self,
        in_features: int,
        width: int,
        depth: int,
        w0: Sequence[float],
        out_features: int = 1,
        w0_inputs: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        self.w0 = [float(w) for w in w0]
        # the first layer's omega_0 per input coordinate, as a factor on its weight's columns
        scale = [self.w0[0]] * in_features if w0_inputs is None else [float(w) for w in w0_inputs]
        if len(scale) != in_features:
            raise ValueError(
                f"Siren.w0_inputs must hold one number per input coordinate ({in_features}), "
                f"got {list(w0_inputs or [])!r}"
            )
        self.register_buffer(
            "w0_inputs", torch.tensor(scale, dtype=torch.float64), persistent=False
        )
        sizes = [in_features] + [width] * depth
        self.hidden = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.out = nn.Linear(width, out_features)
        with torch.no_grad():
            for i, layer in enumerate(self.hidden):
                n = layer.in_features
                bound = 1.0 / n if i == 0 else math.sqrt(6.0 / n) / self.w0[i]
                layer.weight.uniform_(-bound, bound)
            n = self.out.in_features
            bound = math.sqrt(6.0 / n) / self.w0[-1]
            self.out.weight.uniform_(-bound, bound)

    def _scaled(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Each hidden layer's :math:`(\\omega W, \\omega b)`; the first layer's weight scaled
        column by column by the per-input :math:`\\omega_0`."""
        first = self.hidden[0]
        columns = self.w0_inputs.to(first.weight.dtype)
        out = [(first.weight * columns, self.w0[0] * first.bias)]
        for w0, layer in zip(self.w0[1:], self.hidden[1:], strict=True):
            out.append((w0 * layer.weight, w0 * layer.bias))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # omega_0 folded into the weights: one pass over the features less per layer
        return plain_forward(x, self._scaled(), torch.sin, self.out)

    _jet_checked = True  # its jet is tested against autograd (subclasses are not)

    def supports_jet(self) -> bool:
        return True

    def jet(self, j: Jet) -> Jet:
        """Propagate values and derivatives (see :mod:`neuralpde.fields.jet`)."""
        last = len(self.hidden) - 1
        if self.out.weight.dim() == 3:  # per-point copies: omega scales the layer's input
            for i, layer in enumerate(self.hidden):  # (omega W) h = W (omega h), no copy of W
                scale = self.w0_inputs.to(j.value.dtype) if i == 0 else self.w0[i]
                j = j.scale_inputs(scale, 0.0).linear(layer.weight, self.w0[i] * layer.bias)
                j = j.sine(final=i == last)
            return j.output(self.out.weight, self.out.bias)
        for i, (weight, bias) in enumerate(self._scaled()):
            j = j.linear(weight, bias).sine(final=i == last)
        return j.output(self.out.weight, self.out.bias)


def _plain(value: object) -> object:
    """A NumPy array or torch tensor as the Python number (0-d) or list it holds; anything
    else as it is."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else value.tolist()
    return value


@dataclass(frozen=True)
class Siren:
    """Specification of a SIREN field.

    Parameters
    ----------
    width:
        Neurons per hidden layer, 1 to :data:`~neuralpde.limits.MAX_WIDTH` (4096).
    depth:
        Number of sine layers, 1 to :data:`~neuralpde.limits.MAX_DEPTH` (64); the network may
        hold at most :data:`~neuralpde.limits.MAX_PARAMETERS` (2**26) parameters.
    w0:
        Frequency factor :math:`\\omega_0` of the first layer, or a sequence of one per layer.
        The first layer's :math:`\\omega_0` sets the highest frequency the field starts with
        (about :math:`\\omega_0/2` radians per unit of the scaled inputs in :math:`[-1, 1]`).
    w0_hidden:
        :math:`\\omega_0` of the later layers when ``w0`` is a number (default 1).
    w0_inputs:
        The first layer's :math:`\\omega_0` per input coordinate, for data that vary faster
        along some axes than others: the first layer computes
        :math:`\\sin(\\sum_j \\omega_{0,j} W_{ij} x_j + \\omega_0 b_i)`. By default every input
        uses the first layer's :math:`\\omega_0`.

    The paper's image-fitting setting is ``w0=30, w0_hidden=30``; PDE solutions are smoother and
    a large :math:`\\omega_0` lets the field meet the residual at the collocation points while
    oscillating between them, so the defaults here are ``w0=3, w0_hidden=1``.
    """

    width: int = 64
    depth: int = 3
    w0: float | Sequence[float] = 3.0
    w0_hidden: float | None = None
    w0_inputs: Sequence[float] | None = None

    def __post_init__(self) -> None:
        check_network_size("Siren", self.width, self.depth)
        for name in ("width", "depth"):
            object.__setattr__(self, name, as_number(getattr(self, name), integral=True))
        w0 = _plain(self.w0)
        single = as_number(w0)
        if single is not None:
            object.__setattr__(self, "w0", single)
        elif isinstance(w0, (str, bytes)) or not isinstance(w0, Iterable):
            raise ValueError(
                f"Siren.w0 must be a number or a sequence of {self.depth} numbers, got {self.w0!r}"
            )
        else:
            values = tuple(w0)
            numbers = [as_number(w) for w in values]
            if len(values) != self.depth or any(w is None for w in numbers):
                raise ValueError(
                    f"Siren.w0 must be a number or a sequence of {self.depth} numbers (one per "
                    f"layer), got {self.w0!r}"
                )
            object.__setattr__(self, "w0", tuple(numbers))
        if self.w0_hidden is not None:
            if single is None:
                raise ValueError("Siren.w0_hidden applies only when w0 is a single number")
            hidden = as_number(_plain(self.w0_hidden))
            if hidden is None:
                raise ValueError(f"Siren.w0_hidden must be a number, got {self.w0_hidden!r}")
            object.__setattr__(self, "w0_hidden", hidden)
        if not all(math.isfinite(w) and 0 < w <= MAX_W0 for w in self.w0_per_layer()):
            raise ValueError(
                f"Siren.w0 and w0_hidden must be positive and finite, at most {MAX_W0:g}, got "
                f"{self.w0!r} and {self.w0_hidden!r}"
            )
        if self.w0_inputs is not None:
            raw = _plain(self.w0_inputs)
            ok = isinstance(raw, Iterable) and not isinstance(raw, (str, bytes))
            numbers = [as_number(w) for w in raw] if ok else [None]
            if (
                not numbers
                or len(numbers) > MAX_IN_FEATURES
                or any(w is None or not (math.isfinite(w) and 0 < w <= MAX_W0) for w in numbers)
            ):
                raise ValueError(
                    f"Siren.w0_inputs must be a sequence of positive finite numbers (at most "
                    f"{MAX_W0:g}), one per input coordinate, got {self.w0_inputs!r}"
                )
            object.__setattr__(self, "w0_inputs", tuple(float(w) for w in numbers))

    def w0_per_layer(self) -> list[float]:
        if isinstance(self.w0, (int, float)):
            hidden = 1.0 if self.w0_hidden is None else float(self.w0_hidden)
            return [float(self.w0)] + [hidden] * (self.depth - 1)
        return [float(w) for w in self.w0]

    def build(self, in_features: int, out_features: int = 1) -> SirenNet:
        """The module for ``in_features`` inputs (1 to :data:`~neuralpde.limits.MAX_IN_FEATURES`),
        after checking its size against :data:`~neuralpde.limits.MAX_PARAMETERS`."""
        in_features = check_int(in_features, "in_features", 1, MAX_IN_FEATURES)
        check_network_size("Siren", self.width, self.depth, in_features)
        return SirenNet(
            in_features, self.width, self.depth, self.w0_per_layer(), out_features, self.w0_inputs
        )

    def describe(self) -> dict:
        return {
            "type": "siren",
            "width": self.width,
            "depth": self.depth,
            "w0": self.w0_per_layer(),
            **({} if self.w0_inputs is None else {"w0_inputs": list(self.w0_inputs)}),
        }
