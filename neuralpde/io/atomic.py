"""Files replaced whole or not at all: a temporary file beside the target, renamed over it.

A temporary file is named ``.<target name>.<pid>-<random>.tmp`` (the target's name cut to 32
characters, so that it fits wherever the target's name does). A writer killed mid-write leaves
its temporary file behind and the target as it was; the next writer of that target removes the
temporary files of writers that no longer run (and, of files named otherwise, those over an hour
old).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["temp_prefix", "remove_orphans", "replace_atomically"]

log = logging.getLogger("neuralpde.io")

_STALE_SECONDS = 3600.0


def temp_prefix(target: Path) -> str:
    """The prefix of the temporary files beside ``target``: hidden and named after it."""
    return f".{target.name[:32]}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def remove_orphans(target: Path) -> int:
    """Remove the temporary files that killed writers of ``target`` left; returns how many."""
    prefix = temp_prefix(target)
    removed = 0
    for p in target.parent.glob(f"{prefix}*.tmp"):
        owner = p.name[len(prefix) :].split("-", 1)[0]
        if owner.isdigit():
            if int(owner) == os.getpid() or _alive(int(owner)):
                continue
        else:  # not named by a writer of this kind: only when long untouched
            with contextlib.suppress(OSError):
                if time.time() - p.stat().st_mtime < _STALE_SECONDS:
                    continue
        with contextlib.suppress(OSError):
            p.unlink()
            removed += 1
            log.info("removed %s, left by a writer that was stopped", p)
    return removed


def replace_atomically(
    target: Path, write: Callable[[BinaryIO], None], mode: int | None = None
) -> None:
    """Call ``write`` on a temporary file beside ``target``, flush it to disk, give it ``mode``
    (if given) and rename it over ``target``. On any failure the temporary file is removed and
    ``target`` is left as it was."""
    remove_orphans(target)
    fd, tmp = tempfile.mkstemp(
        prefix=f"{temp_prefix(target)}{os.getpid()}-", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
