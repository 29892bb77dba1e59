"""Neural fields: SIREN and tanh MLP specifications, and wrappers that compose with them.

A specification (``Siren(width=64)``) is a small immutable description; ``build(in_features)``
makes the PyTorch module. :func:`build_field` rebuilds a module from its saved description.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from .chebyshev import ChebyshevSeries
from .constraints import HardConstraint
from .mlp import MLP, MLPNet
from .siren import Siren, SirenNet
from .wrappers import InputScaling

__all__ = [
    "MLP",
    "MLPNet",
    "Siren",
    "SirenNet",
    "InputScaling",
    "HardConstraint",
    "spec_from_dict",
    "build_field",
]

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
    ``input_scaling`` with ``lower`` and ``upper`` and ``constraint`` (a
    :class:`~neuralpde.fields.constraints.HardConstraint`'s description, with ``lift`` the
    description of its lift, a :class:`~neuralpde.fields.chebyshev.ChebyshevSeries`, or
    ``None``).
    """
    net = spec_from_dict(architecture["field"]).build(int(architecture["in_features"]))
    scaling = architecture.get("input_scaling")
    if scaling is not None:
        net = InputScaling(net, scaling["lower"], scaling["upper"])
    c = architecture.get("constraint")
    if c is not None:
        lift = None
        if c.get("lift") is not None:  # a series over the same box, its values in the weights
            if c["lift"].get("type") != "chebyshev" or scaling is None:
                raise ValueError(f"unknown lift {c['lift']!r}; expected a Chebyshev series")
            d = int(architecture["in_features"])
            shape = (int(c["lift"]["terms"]), d)
            lift = ChebyshevSeries(scaling["lower"], scaling["upper"], torch.zeros(shape))
        net = HardConstraint(net, c["pieces"], c["norm"], c["scale"], c.get("time"), lift)
    return net
