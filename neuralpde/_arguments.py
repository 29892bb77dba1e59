"""Checks of arguments shared by the API, the trainer, the operators and the CLI."""

from __future__ import annotations

import math
import numbers
import os
import reprlib
from collections.abc import Sequence

import numpy as np
import torch

from . import limits

__all__ = [
    "as_number",
    "check_columns",
    "check_count",
    "check_device",
    "check_dtype",
    "check_grid_nodes",
    "check_int",
    "check_module_placement",
    "check_name",
    "check_network_size",
    "check_path",
    "check_points",
    "check_seconds",
    "check_seed",
    "check_steps",
    "check_threads",
    "real_coordinates",
    "shown",
]

_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlist = _SHORT.maxtuple = 6


def shown(value: object) -> str:
    """``value``'s type and a ``repr`` cut to about 60 characters, for messages."""
    return f"{type(value).__name__} {_SHORT.repr(value)}"


def check_int(value: object, name: str, low: int, high: int) -> int:
    """``value`` as an ``int`` in ``[low, high]`` (Python and NumPy integers; not a bool);
    otherwise a ``ValueError`` naming ``name``, the range and what ``value`` is."""
    v = as_number(value, integral=True)
    if v is None or not low <= v <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high:,}, got {shown(value)}")
    return v


def check_count(value: object, name: str, low: int = 1, high: int = limits.MAX_POINTS) -> int:
    """A number of points: :func:`check_int` in ``[low, high]`` (at most
    :data:`~neuralpde.limits.MAX_POINTS` by default)."""
    return check_int(value, name, low, high)


def check_steps(value: object, name: str, low: int = 0) -> int:
    """A number of optimizer steps: :func:`check_int` from ``low`` to
    :data:`~neuralpde.limits.MAX_STEPS`."""
    return check_int(value, name, low, limits.MAX_STEPS)


def check_seconds(value: object, name: str = "seconds") -> float:
    """A wall-time budget as a ``float``: a finite number above 0 and at most
    :data:`~neuralpde.limits.MAX_SECONDS`."""
    v = as_number(value)
    if v is None or not (math.isfinite(v) and 0 < v <= limits.MAX_SECONDS):
        raise ValueError(
            f"{name} must be a finite number of seconds above 0 and at most "
            f"{limits.MAX_SECONDS:g}, got {shown(value)}"
        )
    return v


def check_threads(value: object, name: str = "threads") -> int:
    """A number of CPU threads: from 1 to :func:`~neuralpde.limits.max_threads`."""
    return check_int(value, name, 1, limits.max_threads())


def check_name(value: object, name: str, high: int = limits.MAX_NAME_LENGTH) -> str:
    """``value`` after checking that it is a non-empty ``str`` of at most ``high`` characters
    without NUL characters."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a non-empty string, got {shown(value)}")
    if not value or len(value) > high or "\0" in value:
        raise ValueError(
            f"{name} must be a non-empty string of at most {high} characters without NUL "
            f"characters, got {shown(value)} ({len(value)} characters)"
        )
    return value


def network_size(width: int, depth: int, in_features: int) -> int:
    """Weights and biases of a field of ``depth`` hidden layers of ``width`` neurons on
    ``in_features`` inputs, with one output."""
    return (in_features + 1) * width + (depth - 1) * (width + 1) * width + width + 1


def check_network_size(kind: str, width: object, depth: object, in_features: int = 1) -> int:
    """Check a field's ``width`` (at most :data:`~neuralpde.limits.MAX_WIDTH`), ``depth``
    (:data:`~neuralpde.limits.MAX_DEPTH`) and its parameters on ``in_features`` inputs
    (:data:`~neuralpde.limits.MAX_PARAMETERS`); returns the parameter count. ``kind`` names the
    specification in the messages (``"Siren"``)."""
    w = check_int(width, f"{kind}.width", 1, limits.MAX_WIDTH)
    d = check_int(depth, f"{kind}.depth", 1, limits.MAX_DEPTH)
    count = network_size(w, d, in_features)
    if count > limits.MAX_PARAMETERS:
        raise ValueError(
            f"{kind}.width and {kind}.depth: a {kind} of width {w} and depth {d} on "
            f"{in_features} input(s) holds {count:,} parameters, more than the "
            f"{limits.MAX_PARAMETERS:,} (2**26) allowed; lower the width or the depth"
        )
    return count


def check_grid_nodes(
    counts: Sequence[int],
    name: str = "n",
    *,
    levels: int = 1,
    ratio: int = 2,
    high: int = limits.MAX_GRID_NODES,
    plus_one: bool = True,
) -> int:
    """The nodes of the finest of ``levels`` nested grids whose coarsest has ``counts[i]``
    intervals along axis ``i`` (``plus_one=False``: ``counts[i]`` nodes), each level ``ratio``
    times finer; a ``ValueError`` naming ``name`` (and ``levels``) when they exceed ``high``.
    Computed from the numbers alone, before anything is built."""
    given = [int(c) for c in counts]
    if levels - 1 > 64:  # every axis has at least 2 intervals: far beyond any limit
        along, nodes = None, None
    else:
        along = [c * ratio ** (levels - 1) + (1 if plus_one else 0) for c in given]
        nodes = math.prod(along)
        if nodes <= high:
            return nodes
    count = "" if nodes is None else f"{nodes:,}" if nodes < 10**12 else f"{nodes:.3g}"
    if levels > 1:
        size = (
            "far more nodes"
            if along is None
            else f"{' x '.join(f'{a:,}' for a in along)} = {count} nodes"
        )
        what = (
            f"{name}={given}, levels={levels} and ratio={ratio} give a finest grid of {size} "
            f"in {len(given)}-D"
        )
        fix = "lower levels or n"
    else:
        what = f"{name}={given} gives a grid of {count} nodes in {len(given)}-D"
        fix = f"lower {name}"
    raise ValueError(f"{what}, more than the {high:,} allowed; {fix}")


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
    """``path`` after checking that it is a ``str`` or :class:`os.PathLike` (a ``TypeError``
    otherwise) that the file system can take: no NUL character, no name between separators
    longer than it allows (``PC_NAME_MAX``, else 255 bytes) and not longer in all than
    ``PC_PATH_MAX`` (else 4096 bytes) (a ``ValueError`` naming ``name`` otherwise). Touches
    nothing but ``stat`` and ``pathconf`` of the path's nearest existing folder."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{name} must be {what} (a str or os.PathLike), got {type(path).__name__} {path!r}"
        )
    text = os.fspath(path)
    try:
        raw = text if isinstance(text, bytes) else os.fsencode(text)
    except UnicodeError:
        raise ValueError(
            f"{name} must be {what} the file system can encode, got {shown(text)}"
        ) from None
    if b"\0" in raw:
        raise ValueError(f"{name} must be {what} without NUL characters, got {shown(text)}")
    if not raw:
        raise ValueError(f"{name} must be {what}, got an empty path")
    name_max, path_max = _path_limits(os.path.dirname(raw) or b".")
    if len(raw) > path_max:
        raise ValueError(
            f"{name} must be {what} of at most {path_max} bytes, got one of {len(raw)} bytes "
            f"({shown(text)})"
        )
    for part in raw.split(b"/"):
        if len(part) > name_max:
            raise ValueError(
                f"{name} must be {what} whose names between '/' hold at most {name_max} bytes "
                f"(the file system's limit), got a name of {len(part)} bytes in {shown(text)}"
            )
    return path


def _path_limits(folder: bytes) -> tuple[int, int]:
    """``(PC_NAME_MAX, PC_PATH_MAX)`` of ``folder``'s nearest existing ancestor (255 and 4096
    where the system does not say)."""
    base = folder
    while not os.path.isdir(base) and os.path.dirname(base) not in (base, b""):
        base = os.path.dirname(base)
    if not os.path.isdir(base):
        base = b"."
    out = []
    for key, default in (("PC_NAME_MAX", 255), ("PC_PATH_MAX", 4096)):
        try:
            value = os.pathconf(base, key)
        except (OSError, ValueError, AttributeError):
            value = -1
        out.append(value if value > 0 else default)
    return out[0], out[1]


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


def parse_times(text: str, limit: int) -> list[float]:
    """``"0,0.25,1"`` as ``[0.0, 0.25, 1.0]``; ``ValueError`` for an item that is not a finite
    number, or more than ``limit`` times."""
    out = []
    for s in (item.strip() for item in str(text).split(",")):
        try:
            v = float(s)
        except ValueError:
            raise ValueError(
                f"expected numbers separated by commas (T1,T2,...), got {str(text)[:60]!r}"
            ) from None
        if not math.isfinite(v):
            raise ValueError(f"expected finite times, got {s[:30]!r}")
        out.append(v)
    if len(out) > limit:
        raise ValueError(f"at most {limit} times, got {len(out)}")
    return out
