"""One pass of the network for values and gradients, in blocks: :func:`evaluate`."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .._arguments import check_points
from ..operators import as_column
from ..solution import NeuralField, OutsideDomainWarning

__all__ = ["Evaluation", "evaluate"]
#: Points evaluated per block: at most this many, fewer for a wide network.
_BLOCK = 65536


@dataclass(frozen=True)
class Evaluation:
    """Values ``(N,)``, gradients ``(N, d)`` over every coordinate (``None`` when not asked),
    both NaN at the ``outside`` points outside the domain."""

    values: np.ndarray
    gradient: np.ndarray | None
    outside: int


def _block_rows(field: NeuralField) -> int:
    """Points per block: at most :data:`_BLOCK`, fewer for a wide network (about 2**25 numbers
    of activations and their derivatives per block)."""
    spec = field.architecture.get("field") or {}
    units = int(spec.get("width", 64)) * (int(spec.get("depth", 1)) + 1)
    return int(min(_BLOCK, max(1024, 2**25 // max(units * 6, 1))))


def evaluate(
    field: NeuralField,
    points: np.ndarray | Sequence,
    *,
    gradient: bool = True,
    warn: bool = True,
    stacklevel: int = 2,
    what: str = "points",
) -> Evaluation:
    """The field's values (and, with ``gradient``, its gradients) at ``points`` ``(N, d)``
    (columns :attr:`~neuralpde.NeuralField.names`), from one pass of the network per block: the
    same numbers as ``field(points)`` and ``field.gradient(points)``, at the cost of the
    gradients alone. NaN outside the domain, with one :class:`~neuralpde.OutsideDomainWarning`
    that counts them (``warn``; the ``what``, e.g. ``"points"``), attributed ``stacklevel``
    frames up."""
    arr = check_points(points, field.names)
    inside = np.asarray(field.contains(arr), dtype=bool)
    n, d = arr.shape
    outside = int(n - np.count_nonzero(inside))
    if outside and warn:
        warnings.warn(
            f"{outside} of {n} {what} lie outside the field's domain: the field is NaN there",
            OutsideDomainWarning,
            stacklevel=stacklevel,
        )
    values = np.full(n, math.nan)
    grads = np.full((n, d), math.nan) if gradient else None
    rows = np.flatnonzero(inside) if outside else None
    todo = arr if rows is None else arr[rows]
    if len(todo):
        v, g = _network_pass(field, todo, gradient)
        if rows is None:
            values[:] = v
            if grads is not None:
                grads[:] = g
        else:
            values[rows] = v
            if grads is not None:
                grads[rows] = g
    return Evaluation(values, grads, outside)


def _network_pass(
    field: NeuralField, arr: np.ndarray, gradient: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Values (and gradients) of the network at the points ``arr``, all of them, in blocks."""
    param = next(field.net.parameters())
    dtype, device = param.dtype, param.device
    if dtype != torch.float64 and np.abs(arr).max() > torch.finfo(dtype).max:
        raise ValueError(
            f"points must be finite in the field's precision ({dtype}), got magnitudes up to "
            f"{np.abs(arr).max():.4g}"
        )
    net = field.module(dtype=dtype, device=device)  # a frozen copy: no graph of the weights
    rows = _block_rows(field)
    values = np.empty(len(arr))
    grads = np.empty(arr.shape) if gradient else None
    context = torch.enable_grad() if gradient else torch.no_grad()
    with torch.inference_mode(False), context:
        for i in range(0, len(arr), rows):
            x = torch.from_numpy(arr[i : i + rows]).to(device=device, dtype=dtype)
            x.requires_grad_(gradient)
            u = as_column(net(x), x)
            values[i : i + rows] = u.detach().cpu().numpy()
            if grads is not None:
                g = None
                if u.requires_grad:
                    (g,) = torch.autograd.grad(u.sum(), x, allow_unused=True)
                grads[i : i + rows] = 0.0 if g is None else g.cpu().numpy()
    return values, grads
