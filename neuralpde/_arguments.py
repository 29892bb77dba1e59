"""Checks of arguments shared by the API, the trainer, the operators and the CLI."""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence

import numpy as np
import torch

__all__ = [
    "as_number",
    "check_columns",
    "check_device",
    "check_dtype",
    "check_module_placement",
    "check_path",
    "check_points",
    "check_seed",
    "real_coordinates",
]

_DTYPES = (torch.float32, torch.float64)


def check_dtype(dtype: object, name: str = "dtype") -> torch.dtype:
    """``dtype`` after checking that it is ``torch.float32`` or ``torch.float64``."""
    if dtype not in _DTYPES:
        raise ValueError(f"{name} must be torch.float32 or torch.float64, got {dtype!r}")
    return dtype  # type: ignore[return-value]


def check_device(device: torch.device | str, name: str = "device") -> torch.device:
    """``device`` as a :class:`torch.device`, after checking that this machine has it."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"{name} must be 'cpu', 'cuda' or 'cuda:N' (a torch.device), got {device!r}"
        ) from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name} {device!r} asked for, but this PyTorch sees no CUDA GPU")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"{name} {device!r} asked for, but only {torch.cuda.device_count()} CUDA "
                "GPU(s) are visible"
            )
    elif dev.type != "cpu":
        raise ValueError(f"{name} must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    elif dev.index not in (None, 0):
        raise ValueError(f"{name} must be 'cpu' (the CPU takes no index), got {device!r}")
    else:
        dev = torch.device("cpu")  # 'cpu:0' too: CPU tensors carry no index
    return dev


def as_number(value: object, integral: bool = False) -> int | float | None:
    """``value`` as a Python ``int`` (``integral``) or ``float`` when it is a number of that kind,
    NumPy scalars included and bools not; ``None`` otherwise, for the caller's own message."""
    kind = numbers.Integral if integral else numbers.Real
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, kind):
        return None
    return int(value) if integral else float(value)


def real_array(value: object, name: str) -> np.ndarray:
    """``value`` (a real number or a nested sequence or array of them) as a float64 array,
    after checking that every entry is a real number: not a bool, a string or ``None``, which
    ``np.asarray(value, dtype=float)`` would turn into numbers."""
    try:
        return real_coordinates(value, name, "real numbers")
    except ValueError:
        raise TypeError(f"{name} must hold real numbers, got {value!r}") from None


def _non_real_index(flat: np.ndarray) -> int | None:
    """The index of the first entry of the flat object array ``flat`` that is not a real number
    (a bool, a string, ``None``, ...); ``None`` when every entry is one."""
    for i, v in enumerate(flat):
        if (isinstance(v, np.ndarray) and v.size == 1) or (torch.is_tensor(v) and v.numel() == 1):
            v = v.item()  # an entry that is itself a one-element array or tensor
        if as_number(v) is None:
            return i
    return None


def real_coordinates(value: object, name: str, expected: str) -> np.ndarray:
    """``value`` (an array, tensor or nested sequence) as a float64 array of any shape.

    Float and integer arrays and tensors are converted as they are; other input (nested
    sequences) is checked entry by entry, so that a bool among numbers, which NumPy would make a
    number, is refused too. Raises :class:`TypeError` for a masked array (its
    mask would be ignored) or complex numbers, and :class:`ValueError` (``"{name} must be
    {expected}"``) for anything else that is not an array of real numbers: strings, bools,
    ``None``, ragged sequences.
    """
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(
            f"{name} must not be a masked array, whose mask would be ignored: pass a plain "
            "array of only the entries to use"
        )
    try:
        if torch.is_tensor(value):
            t = value.detach().cpu()
            arr = (t.double() if t.is_floating_point() else t).numpy()
        else:
            arr = np.asarray(value)
        plain = torch.is_tensor(value) or isinstance(value, np.ndarray)
        if plain and arr.dtype.kind in "fiu":
            return arr.astype(np.float64)
        if arr.dtype.kind != "c":
            flat = (arr if plain else np.asarray(value, dtype=object)).astype(object).reshape(-1)
            i = _non_real_index(flat)
            if i is not None:
                raise ValueError(f"{flat[i]!r} is a {type(flat[i]).__name__}, not a real number")
            return arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be {expected}, got {type(value).__name__} that is not one ({exc})"
        ) from None
    raise TypeError(f"{name} must be real coordinates, got complex numbers")


def check_points(value: object, names: Sequence[str], name: str = "points") -> np.ndarray:
    """``value`` as a finite float64 ``(N, d)`` array of points with columns ``names`` (see
    :func:`real_coordinates`); a single point given as a flat sequence of ``d`` numbers becomes
    a ``(1, d)`` array."""
    names = tuple(names)
    d = len(names)
    arr = real_coordinates(value, name, f"an (N, {d}) array of numbers with columns {names}")
    if arr.ndim == 1 and arr.shape[0] == d:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != d:
        raise ValueError(f"{name} must have shape (N, {d}) with columns {names}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contain NaN or inf")
    return arr


def check_path(path: object, name: str = "path", what: str = "a file path") -> str | os.PathLike:
    """``path`` after checking that it is a ``str`` or :class:`os.PathLike`; otherwise a
    ``TypeError`` saying that ``name`` must be ``what`` and what it is."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{name} must be {what} (a str or os.PathLike), got {type(path).__name__} {path!r}"
        )
    return path


SEED_LIMIT = 2**63  # seeds and the offsets derived from them stay within torch's 64 bits


def check_seed(seed: object, name: str = "seed") -> int:
    """``seed`` as an ``int``, after checking that it is an integer in ``[0, 2**63)``."""
    v = as_number(seed, integral=True)
    if v is None or v < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed!r}")
    if v >= SEED_LIMIT:
        raise ValueError(f"{name} must be a non-negative integer below 2**63, got {seed!r}")
    return v


def check_module_placement(net: torch.nn.Module, dtype: torch.dtype, device: torch.device) -> None:
    """Check that ``net``'s parameters and buffers live on ``device`` (a :func:`check_device`
    result) and that the floating-point ones have ``dtype``."""
    index = device.index
    if device.type == "cuda" and index is None:  # tensors made on "cuda" go to the current GPU
        index = torch.cuda.current_device()
    for kind, tensors in (("parameters", net.parameters()), ("buffers", net.buffers())):
        for t in tensors:
            here = t.device.type == device.type and t.device.index == index
            if not here or (t.is_floating_point() and t.dtype != dtype):
                raise ValueError(
                    f"net's {kind} include {t.dtype} on {t.device}, but training was asked in "
                    f"{dtype} on {device}: call net.to(dtype={dtype}, device={str(device)!r}) "
                    "first, or pass the net's own dtype and device"
                )


def check_columns(x: torch.Tensor, names: Sequence[str], time_index: object) -> None:
    """Check that ``x`` is a floating-point tensor of points (``(N, d)``), that ``names`` names
    each of its columns and that ``time_index`` is ``None`` or one of those columns."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(
            "x must be a floating-point torch.Tensor of points, shape (N, d), got "
            + (f"a {x.dtype} tensor" if isinstance(x, torch.Tensor) else type(x).__name__)
        )
    if x.ndim != 2 or len(names) != x.shape[1]:
        raise ValueError(
            f"names must name each of x's columns: x has shape {tuple(x.shape)}, names "
            f"{tuple(names)!r}"
        )
    if time_index is not None and (
        isinstance(time_index, bool)
        or not isinstance(time_index, (int, np.integer))
        or not 0 <= time_index < x.shape[1]
    ):
        raise ValueError(
            f"time_index must be None or a column of x (0 to {x.shape[1] - 1}), got {time_index!r}"
        )
