"""Names that coordinates may take: the rule the domains check and the files rely on.

A coordinate names a dataset at the root of every solution and reference file (see
:mod:`neuralpde.io.hdf5`), so it must be a non-empty string without ``/`` and must not be one of
the files' own root entries. This module sits below both the domains and the file format, so
that neither imports the other for it.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ENGINES",
    "SOLUTION_ENTRIES",
    "REFERENCE_ENTRIES",
    "RESERVED_NAMES",
    "check_coordinate_names",
]

#: The derivative engines a trainer may be told to use (see :mod:`neuralpde.engine`); here, below
#: PyTorch, so that the command line can offer them without loading it.
ENGINES = ("auto", "fused", "autograd")
#: The root entries of solution and reference files other than the coordinates.
SOLUTION_ENTRIES = ("u", "exact", "model", "problem", "training", "metrics", "provenance")
REFERENCE_ENTRIES = ("u", "convergence", "problem", "provenance")
#: Names a coordinate may not take: they would clash with a root entry of a file.
RESERVED_NAMES = tuple(dict.fromkeys(SOLUTION_ENTRIES + REFERENCE_ENTRIES))


def check_coordinate_names(names: Sequence[object], parameter: str = "names") -> None:
    """Raise ``ValueError`` naming ``parameter`` unless every name can be a coordinate of a
    solution or reference file: a non-empty string without ``/``, not ``.``, not reserved."""
    for name in names:
        if not isinstance(name, str) or not name or "/" in name or name == ".":
            raise ValueError(
                f"{parameter} must be non-empty strings without '/' (they name datasets of the "
                f"solution file), got {name!r} in {tuple(names)!r}"
            )
        if name in RESERVED_NAMES:
            raise ValueError(
                f"{parameter} may not use {name!r}: it names an entry of the solution and "
                f"reference files; reserved names are {list(RESERVED_NAMES)}"
            )
