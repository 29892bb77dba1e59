"""Coefficients and boundary data: constants or callables of the coordinates.

A callable receives the points as a ``torch`` tensor of shape ``(N, d)`` (space columns first,
then time) and returns ``N`` values, written with ``torch`` functions (``torch.sin(x[:, 0])``). A
NumPy array, a number or a list of numbers returned is accepted too. The result is checked to be
real numbers (a ``TypeError`` naming the coefficient for a string, ``None`` or any other object),
converted to a tensor of the points' dtype and checked for shape and finiteness.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
import torch

from ._arguments import real_coordinates, shown

Coefficient = float | int | Callable[[torch.Tensor], "torch.Tensor | np.ndarray"]

__all__ = ["Coefficient", "evaluate", "gradient", "check_coefficient", "describe_coefficient"]


def check_coefficient(value: object, name: str) -> None:
    """Raise ``TypeError``/``ValueError`` naming ``name`` unless ``value`` is a finite number
    or a callable."""
    if callable(value):
        return
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(
            f"{name} must be a number or a callable of the points, got {type(value).__name__}"
        )
    if not np.isfinite(float(value)):
        raise ValueError(f"{name} must be finite, got {value}")


def evaluate(value: Coefficient, x: torch.Tensor, name: str = "coefficient") -> torch.Tensor:
    """Evaluate a coefficient at points ``x`` (``(N, d)``); returns a tensor of shape ``(N,)``.

    Constants come back as a 0-d tensor that broadcasts.
    """
    if not callable(value):
        return torch.as_tensor(float(value), dtype=x.dtype, device=x.device)
    with torch.no_grad():
        out = _as_tensor(value(x.detach()), name, x.shape[0])
    out = out.to(dtype=x.dtype, device=x.device)
    if out.ndim == 0:
        out = out.expand(x.shape[0])
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.shape != (x.shape[0],):
        raise ValueError(
            f"{name} returned shape {tuple(out.shape)} for {x.shape[0]} points; expected "
            f"({x.shape[0]},)"
        )
    if not torch.isfinite(out).all():
        raise ValueError(f"{name} returned non-finite values (NaN or inf)")
    return out


def _as_tensor(out: object, name: str, n: int) -> torch.Tensor:
    """What a coefficient's callable returned, as a tensor, after checking that it holds real
    numbers: a ``TypeError`` naming ``name`` and saying what it is otherwise."""
    expected = (
        f"expected {n} real numbers, one per point (a torch tensor or NumPy array of shape "
        f"({n},), or a number)"
    )
    if torch.is_tensor(out):
        if out.is_complex():
            raise TypeError(f"{name} returned a complex tensor; {expected}")
        return out
    if isinstance(out, np.ndarray) and out.dtype.kind in "biuf":
        return torch.from_numpy(np.ascontiguousarray(out))
    try:
        arr = real_coordinates(out, f"{name}'s result", "real numbers")
    except (TypeError, ValueError):
        raise TypeError(f"{name} returned {shown(out)}; {expected}") from None
    return torch.from_numpy(arr)


def gradient(value: Coefficient, x: torch.Tensor, name: str = "coefficient") -> torch.Tensor:
    r"""The gradient :math:`\nabla c` of a coefficient at points ``x``, shape ``(N, d)``.

    Zero for a constant. A callable must be written with ``torch`` functions.
    """
    if not callable(value):
        return torch.zeros_like(x)
    xg = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        try:
            out = value(xg)
        except RuntimeError as exc:  # NumPy called on the points, which require grad here
            if "requires grad" not in str(exc):
                raise
            raise TypeError(
                f"the gradient of {name} is needed, but it calls NumPy on the points ({exc}): "
                "write it with differentiable torch functions of the points (e.g. torch.sin)"
            ) from None
        if not torch.is_tensor(out) or not out.requires_grad:
            got = (
                "values that do not depend differentiably on the points (a constant, or "
                "torch.where between constants)"
                if torch.is_tensor(out)
                else f"a {type(out).__name__}, not a torch tensor"
            )
            raise TypeError(
                f"the gradient of {name} is needed, but it returned {got}: write it with "
                "differentiable torch functions of the points (e.g. torch.sin), not NumPy, and "
                "give a constant as a number"
            )
        out = out.reshape(-1)
        if out.shape != (x.shape[0],):
            raise ValueError(f"{name} returned {tuple(out.shape)} values for {x.shape[0]} points")
        (g,) = torch.autograd.grad(out.sum(), xg)
    return g.detach()


def describe_coefficient(value: Coefficient) -> str:
    """A short, JSON-friendly description: the number, or the callable's source or name."""
    if not callable(value):
        return repr(float(value))
    try:
        src = inspect.getsource(value).strip()
    except (OSError, TypeError):
        src = getattr(value, "__qualname__", repr(value))
    return src if len(src) <= 400 else src[:397] + "..."
