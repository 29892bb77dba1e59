"""Helpers for crafted and damaged files: a bound on what reading one may allocate, and the
check that it is refused by name."""

from __future__ import annotations

import contextlib
import re
import tracemalloc

import h5py
import pytest

from neuralpde.io import FormatError

MEMORY = 100 * 2**20  # what reading one crafted file may allocate at most (NumPy included)


@contextlib.contextmanager
def small_memory():
    """Fail when the block allocates more than :data:`MEMORY` bytes traced by Python."""
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY, f"reading took {peak / 2**20:.0f} MiB"


def refused(read, path, *patterns: str) -> FormatError:
    """``read(path)`` raises a FormatError naming ``path`` and matching every pattern."""
    with small_memory(), pytest.raises(FormatError) as info:
        read(path)
    message = str(info.value)
    assert str(path) in message, message
    for pattern in patterns:
        assert re.search(pattern, message), (pattern, message)
    return info.value


def replace(f: h5py.File, name: str, **create) -> h5py.Dataset:
    """``f[name]`` deleted and created anew with ``create_dataset``'s keywords."""
    del f[name]
    return f.create_dataset(name, **create)
