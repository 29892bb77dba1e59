"""Neural fields: SIREN and tanh MLP specifications, and wrappers that compose with them.

A specification (``Siren(width=64)``) is a small immutable description; ``build(in_features)``
makes the PyTorch module. :func:`build_field` rebuilds a module from its saved description.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ..limits import (
    MAX_DEPTH,
    MAX_IN_FEATURES,
    MAX_PARAMETERS,
    MAX_PIECES,
    MAX_TERMS,
    MAX_W0,
    MAX_WIDTH,
)
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
    "check_architecture",
    "MAX_WIDTH",
    "MAX_DEPTH",
    "MAX_IN_FEATURES",
    "MAX_PARAMETERS",
    "MAX_TERMS",
    "MAX_PIECES",
    "MAX_W0",
]

# The limits on a stored architecture (MAX_WIDTH, MAX_DEPTH, MAX_IN_FEATURES, MAX_PARAMETERS,
# MAX_TERMS, MAX_PIECES, MAX_W0) are those of neuralpde.limits, checked (check_architecture)
# before build_field allocates anything.
_MAX_TIME_ORDER = 16

FieldSpec = Siren | MLP


def spec_from_dict(d: Mapping) -> FieldSpec:
    """The specification described by ``d`` (the output of ``spec.describe()``)."""
    kind = d.get("type")
    if kind == "siren":
        inputs = d.get("w0_inputs")
        return Siren(
            width=int(d["width"]),
            depth=int(d["depth"]),
            w0=tuple(d["w0"]),
            w0_inputs=None if inputs is None else tuple(inputs),
        )
    if kind == "mlp":
        return MLP(width=int(d["width"]), depth=int(d["depth"]))
    raise ValueError(f"unknown field type {kind!r}; expected 'siren' or 'mlp'")


def _integer(value: object, where: str, low: int, high: int) -> int:
    """``value`` as an ``int`` in ``[low, high]`` (an integral float too; not a bool)."""
    integral = isinstance(value, numbers.Real) and float(value).is_integer()
    ok = isinstance(value, numbers.Integral) or integral
    if isinstance(value, bool) or not ok or not low <= value <= high:
        raise ValueError(f"{where} must be an integer from {low} to {high}, got {value!r}")
    return int(value)


def _real(value: object, where: str, positive: bool = False, high: float = math.inf) -> float:
    """``value`` as a finite ``float`` (``positive``: > 0) of magnitude at most ``high``."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or abs(value) > high or (positive and value <= 0):
        bound = f", at most {high:g}" if math.isfinite(high) else ""
        kind = "a positive finite number" if positive else "a finite number"
        raise ValueError(f"{where} must be {kind}{bound}, got {value!r}")
    return float(value)


def _reals(
    value: object, where: str, count: int | None, positive: bool = False, high: float = math.inf
) -> list[float]:
    """``value`` as a list of ``count`` (any number when ``None``) :func:`_real` numbers."""
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise ValueError(f"{where} must be a list of numbers, got {type(value).__name__}")
    if count is not None and len(value) != count:
        raise ValueError(f"{where} must hold {count} numbers, got {len(value)}")
    return [_real(v, f"{where}[{i}]", positive, high) for i, v in enumerate(value)]


def _mapping(value: object, where: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be a mapping, got {type(value).__name__}")
    return value


def _check_piece(piece: object, where: str, d: int) -> None:
    """A boundary piece of a hard constraint (see :mod:`~neuralpde.fields.constraints`)."""
    piece = _mapping(piece, where)
    kind = piece.get("kind")
    if kind == "plane":
        _integer(piece.get("axis"), f"{where}['axis']", 0, d - 1)
        _real(piece.get("at"), f"{where}['at']")
        _real(piece.get("side"), f"{where}['side']")
    elif kind == "sphere":
        if not isinstance(piece.get("centre"), Sequence) or not 1 <= len(piece["centre"]) <= d:
            raise ValueError(f"{where}['centre'] must hold 1 to {d} numbers")
        _reals(piece["centre"], f"{where}['centre']", None)
        _real(piece.get("radius"), f"{where}['radius']", positive=True)
        _real(piece.get("side"), f"{where}['side']")
    elif kind in ("segment", "line"):
        if d < 2:
            raise ValueError(f"{where} is a {kind}, which needs 2 inputs or more, not {d}")
        a = _reals(piece.get("a"), f"{where}['a']", 2)
        if a == _reals(piece.get("b"), f"{where}['b']", 2):
            raise ValueError(f"{where} is a {kind} of length 0")
    else:
        raise ValueError(
            f"{where}['kind'] must be 'plane', 'sphere', 'segment' or 'line', got {kind!r}"
        )


def _check_constraint(c: object, d: int, scaled: bool) -> int:
    """A hard constraint's description; returns the numbers its lift holds."""
    c = _mapping(c, "architecture['constraint']")
    pieces = c.get("pieces")
    if not isinstance(pieces, Sequence) or isinstance(pieces, (str, bytes)):
        raise ValueError("architecture['constraint']['pieces'] must be a list")
    if len(pieces) > MAX_PIECES:
        raise ValueError(
            f"architecture['constraint']['pieces'] holds {len(pieces)} pieces, more than the "
            f"{MAX_PIECES} allowed"
        )
    for i, piece in enumerate(pieces):
        _check_piece(piece, f"architecture['constraint']['pieces'][{i}]", d)
    for key in ("norm", "scale"):
        _real(c.get(key), f"architecture['constraint'][{key!r}]", positive=True)
    time = c.get("time")
    if time is not None:
        time = _mapping(time, "architecture['constraint']['time']")
        _integer(time.get("axis"), "architecture['constraint']['time']['axis']", 0, d - 1)
        t0 = _real(time.get("t0"), "architecture['constraint']['time']['t0']")
        t1 = _real(time.get("t1"), "architecture['constraint']['time']['t1']")
        if not t1 > t0:
            raise ValueError(f"architecture['constraint']['time'] needs t0 < t1, got {t0}, {t1}")
        where = "architecture['constraint']['time']['order']"
        _integer(time.get("order"), where, 0, _MAX_TIME_ORDER)
    count = _check_corners(c.get("corners", ()), d)
    lift = c.get("lift")
    if lift is None:
        return count
    lift = _mapping(lift, "architecture['constraint']['lift']")
    if lift.get("type") != "chebyshev" or not scaled:
        raise ValueError(f"unknown lift {lift!r}; expected a Chebyshev series (with input_scaling)")
    terms = _integer(lift.get("terms"), "architecture['constraint']['lift']['terms']", 1, MAX_TERMS)
    return count + terms * (d + 1) + 2 * d  # indices, coefficients, bounds


def _check_corners(corners: object, d: int) -> int:
    """A hard constraint's reentrant corners (singular terms); returns their number."""
    where = "architecture['constraint']['corners']"
    if not isinstance(corners, Sequence) or isinstance(corners, (str, bytes)):
        raise ValueError(f"{where} must be a list")
    if len(corners) > MAX_PIECES:
        raise ValueError(
            f"{where} holds {len(corners)} corners, more than the {MAX_PIECES} allowed"
        )
    if corners and d != 2:
        raise ValueError(f"{where}: corner terms need 2 inputs, got {d}")
    for i, corner in enumerate(corners):
        c = _mapping(corner, f"{where}[{i}]")
        _reals(c.get("at"), f"{where}[{i}]['at']", 2)
        _real(c.get("start"), f"{where}[{i}]['start']")
        _real(c.get("radius"), f"{where}[{i}]['radius']", positive=True)
        if not isinstance(c.get("clear", False), bool):
            raise ValueError(f"{where}[{i}]['clear'] must be true or false, got {c['clear']!r}")
        angle = _real(c.get("angle"), f"{where}[{i}]['angle']", positive=True)
        if not math.pi < angle < 2 * math.pi:
            raise ValueError(f"{where}[{i}]['angle'] must lie between pi and 2 pi, got {angle!r}")
    return len(corners)


def check_architecture(architecture: object) -> None:
    """Raise ``ValueError`` naming the entry unless ``architecture`` is a description that
    :func:`build_field` can rebuild within the limits (:data:`MAX_WIDTH`, :data:`MAX_DEPTH`,
    :data:`MAX_IN_FEATURES`, :data:`MAX_PARAMETERS`, :data:`MAX_TERMS`, :data:`MAX_PIECES`,
    :data:`MAX_W0`); allocates nothing. For descriptions read from files, which may be crafted.
    """
    arch = _mapping(architecture, "architecture")
    field = _mapping(arch.get("field"), "architecture['field']")
    d = _integer(arch.get("in_features"), "architecture['in_features']", 1, MAX_IN_FEATURES)
    kind = field.get("type")
    if kind not in ("siren", "mlp"):
        raise ValueError(f"unknown field type {kind!r}; expected 'siren' or 'mlp'")
    width = _integer(field.get("width"), "architecture['field']['width']", 1, MAX_WIDTH)
    depth = _integer(field.get("depth"), "architecture['field']['depth']", 1, MAX_DEPTH)
    if kind == "siren":
        _reals(field.get("w0"), "architecture['field']['w0']", depth, True, MAX_W0)
        if field.get("w0_inputs") is not None:
            _reals(field["w0_inputs"], "architecture['field']['w0_inputs']", d, True, MAX_W0)
    count = (d + 1) * width + (depth - 1) * (width + 1) * width + width + 1
    scaling = arch.get("input_scaling")
    if scaling is not None:
        scaling = _mapping(scaling, "architecture['input_scaling']")
        lo = _reals(scaling.get("lower"), "architecture['input_scaling']['lower']", d)
        hi = _reals(scaling.get("upper"), "architecture['input_scaling']['upper']", d)
        if not all(a < b for a, b in zip(lo, hi, strict=True)):
            raise ValueError(f"architecture['input_scaling'] needs lower < upper, got {lo}, {hi}")
        count += 2 * d
    if arch.get("constraint") is not None:
        count += _check_constraint(arch["constraint"], d, scaling is not None)
    if count > MAX_PARAMETERS:
        raise ValueError(
            f"the architecture holds {count} numbers (width {width}, depth {depth}), more than "
            f"the {MAX_PARAMETERS} allowed"
        )


def build_field(architecture: Mapping) -> nn.Module:
    """Rebuild the (untrained) module from an architecture description.

    ``architecture`` has keys ``field`` (a spec description), ``in_features`` and optionally
    ``input_scaling`` with ``lower`` and ``upper`` and ``constraint`` (a
    :class:`~neuralpde.fields.constraints.HardConstraint`'s description, with ``lift`` the
    description of its lift, a :class:`~neuralpde.fields.chebyshev.ChebyshevSeries`, or
    ``None``). It is checked first (:func:`check_architecture`): a description beyond the
    limits raises ``ValueError`` before anything is allocated.
    """
    check_architecture(architecture)
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
        net = HardConstraint(
            net, c["pieces"], c["norm"], c["scale"], c.get("time"), lift, c.get("corners", ())
        )
    return net
