"""File input and output; the only part of neuralpde that imports h5py."""

from .._names import REFERENCE_ENTRIES, RESERVED_NAMES, SOLUTION_ENTRIES, check_coordinate_names
from .hdf5 import (
    FORMAT,
    FORMAT_VERSION,
    REFERENCE_FORMAT,
    REFERENCE_FORMAT_VERSION,
    FormatError,
    check_writable,
    file_kind,
    read_grid,
    read_reference,
    read_solution,
    reference_checksum,
    write_reference,
    write_solution,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "REFERENCE_FORMAT",
    "REFERENCE_ENTRIES",
    "REFERENCE_FORMAT_VERSION",
    "RESERVED_NAMES",
    "SOLUTION_ENTRIES",
    "FormatError",
    "check_coordinate_names",
    "check_writable",
    "file_kind",
    "read_grid",
    "read_reference",
    "read_solution",
    "reference_checksum",
    "write_reference",
    "write_solution",
]
