"""Neural fields: SIREN and tanh MLP specifications, and wrappers that compose with them.

A specification (``Siren(width=64)``) is a small immutable description; ``build(in_features)``
makes the PyTorch module. :func:`build_field` rebuilds a module from its saved description.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import nn

from .mlp import MLP, MLPNet
from .siren import Siren, SirenNet
from .wrappers import InputScaling

__all__ = ["MLP", "MLPNet", "Siren", "SirenNet", "InputScaling", "spec_from_dict", "build_field"]

FieldSpec = Siren | MLP


def spec_from_dict(d: Mapping) -> FieldSpec:
    """The specification described by ``d`` (the output of ``spec.describe()``)."""
    kind = d.get("type")
    if kind == "siren":
        return Siren(width=int(d["width"]), depth=int(d["depth"]), w0=tuple(d["w0"]))
    if kind == "mlp":
        return MLP(width=int(d["width"]), depth=int(d["depth"]))
    raise ValueError(f"unknown field type {kind!r}; expected 'siren' or 'mlp'")


def build_field(architecture: Mapping) -> nn.Module:
    """Rebuild the (untrained) module from an architecture description.

    ``architecture`` has keys ``field`` (a spec description), ``in_features`` and optionally
    ``input_scaling`` with ``lower`` and ``upper``.
    """
    net = spec_from_dict(architecture["field"]).build(int(architecture["in_features"]))
    scaling = architecture.get("input_scaling")
    if scaling is not None:
        net = InputScaling(net, scaling["lower"], scaling["upper"])
    return net
