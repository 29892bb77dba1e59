"""File input and output; the only part of neuralpde that imports h5py."""

from .hdf5 import FORMAT, FORMAT_VERSION, FormatError, check_writable, read_solution, write_solution

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "FormatError",
    "check_writable",
    "read_solution",
    "write_solution",
]
