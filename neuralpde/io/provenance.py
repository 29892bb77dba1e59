"""Provenance: the versions of neuralpde and of the libraries that shape a file's numbers."""

from __future__ import annotations

import sys

import h5py
import numpy as np
import scipy
import torch

from .._version import __version__

__all__ = ["versions"]


def versions() -> dict[str, str]:
    """Versions of neuralpde and of the libraries that shape its results."""
    return {
        "neuralpde": __version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "h5py": h5py.__version__,
    }
