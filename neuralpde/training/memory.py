"""Reuse of freed memory between training steps (glibc's ``malloc`` on Linux).

Every training step allocates and frees the same large arrays: for 8192 points and 128
features, each block of derivatives is 12–34 MB. glibc's ``malloc`` hands out blocks above its
*mmap threshold* (adaptive, at most 32 MiB by default) as fresh pages from the operating system
and gives them back when they are freed, and it returns free memory at the top of the heap
above its *trim threshold*. Each step then pays a page fault, and the zeroing of a page, for
every 4 KiB it touches. Raising both thresholds keeps freed blocks in the process for the next
step; the process's peak memory is unchanged, but its resident size no longer shrinks after a
solve. ``python benchmarks/step_time.py`` measures training steps with this setting, and with
``NEURALPDE_MALLOC=system`` in front, without it (see ``docs/performance.md``).

Set the environment variable ``NEURALPDE_MALLOC=system`` to leave ``malloc`` as it is.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

__all__ = ["malloc_setting", "retain_freed_memory"]

log = logging.getLogger("neuralpde.training")

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 1 << 30  # blocks up to 1 GiB come from the heap
_TRIM_THRESHOLD = 2**31 - 1  # free memory at the top of the heap stays, up to 2 GiB
_applied: bool | None = None


def malloc_setting() -> str:
    """The memory setting asked for by the environment: ``"retain"`` (the default, also for an
    empty ``NEURALPDE_MALLOC``) or ``"system"``; any other value is a ``ValueError``."""
    choice = os.environ.get("NEURALPDE_MALLOC", "").strip().lower()
    if choice not in ("", "retain", "system"):
        raise ValueError(f"NEURALPDE_MALLOC must be 'retain' or 'system', got {choice!r}")
    return choice or "retain"


def retain_freed_memory() -> bool:
    """Keep freed memory in the process for reuse (once per process; glibc only).

    Returns whether the setting is in force: ``False`` off Linux, on a C library other than
    glibc, or when ``NEURALPDE_MALLOC=system``. :meth:`neuralpde.Trainer.fit` calls it before
    training on a CPU.
    """
    global _applied
    if _applied is not None:
        return _applied
    choice = malloc_setting()  # checked before the answer is kept
    _applied = False
    if choice == "system" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)  # the C library this interpreter runs on
        if not hasattr(libc, "gnu_get_libc_version"):  # not glibc (musl, ...)
            return False
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _applied = bool(
        mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )
    log.debug(
        "malloc keeps freed memory in the process for reuse: %s (NEURALPDE_MALLOC=system "
        "leaves it as the system sets it)",
        _applied,
    )
    return _applied
