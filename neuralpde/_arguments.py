"""Checks of the precision and device arguments shared by the API, the trainer and the CLI."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["check_device", "check_dtype", "check_module_placement", "check_seed"]

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
    return dev


def check_seed(seed: object, name: str = "seed") -> int:
    """``seed`` as an ``int``, after checking that it is a non-negative integer."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed!r}")
    return int(seed)


def check_module_placement(net: torch.nn.Module, dtype: torch.dtype, device: torch.device) -> None:
    """Check that ``net``'s floating-point parameters have ``dtype`` and live on ``device``."""
    for p in net.parameters():
        if not p.is_floating_point():
            continue
        here = p.device.type == device.type and device.index in (None, p.device.index)
        if p.dtype != dtype or not here:
            raise ValueError(
                f"net's parameters are {p.dtype} on {p.device}, but training was asked in "
                f"{dtype} on {device}: call net.to(dtype={dtype}, device={str(device)!r}) first, "
                "or pass the net's own dtype and device"
            )
