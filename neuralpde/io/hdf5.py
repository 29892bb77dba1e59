"""The HDF5 file formats of solutions and finite-difference references, in one place.

Solution files (``format = "neuralpde-solution"``, ``format_version = 2``)::

    /                 attrs: format, format_version, neuralpde_version, created,
                      neuralpde_coordinates, Conventions ("CF-1.10"), content_sha256
    /x, /y, /t ...    1-D coordinate variables: HDF5 dimension scales named after the
                      coordinates; attrs units ("1"), long_name, axis ("T", time only)
    /u                the field on the grid in CF's order (t, z, y, x: time first, then the
                      space axes last to first), dimensions attached to the coordinate scales;
                      attrs long_name, units
    /exact            the exact solution on the same grid (when the problem has one)
    /model            attrs: architecture (JSON), dtype
    /model/parameters one dataset per tensor of the network's state (no pickle)
    /problem          attrs: description (JSON)
    /problem/mesh     (a MeshDomain, or SpaceTime of one) datasets points, cells, facets,
                      facet_parts (gzip); attrs: sha256, cell_type, parts (JSON): the mesh,
                      rebuilt on loading (:mod:`neuralpde.io._mesh`)
    /training         datasets step (integers), time, loss, monitor, phase; attrs: status,
                      message, seed, steps, timings (JSON), settings (JSON)
    /metrics          attrs: error metrics against the exact solution, when known
    /provenance       attrs: versions (JSON), platform

Reference files (``format = "neuralpde-reference"``, ``format_version = 2``) share the grid
layout (the coordinate scales and ``/u``), so a tool that reads one reads the other::

    /                 attrs: format, format_version, neuralpde_version, created,
                      neuralpde_coordinates, Conventions, checksum, content_sha256
    /x, /y, /t ...    1-D coordinate variables (the finest grid's nodes), dimension scales
    /u                the finest grid's solution in CF's order, dimensions attached to the scales
    /convergence      one entry per grid level, coarsest first: datasets n (levels x space
                      axes), h, dt (NaN when steady), steps (-1 when steady), difference (NaN
                      on the coarsest level), wall_time; attrs: observed_order, order_used,
                      order, estimated_error, gci, ratio, scheme, wall_time, settings (JSON),
                      extrapolated
    /convergence/extrapolated   (Richardson-extrapolated references) one entry per pair of
                      levels: n, levels, h, dt, steps, difference
    /problem          attrs: description (JSON)
    /provenance       attrs: versions (JSON), created, platform

Format version 1 stored ``/u`` and ``/exact`` in the coordinates' order (x, y, t), with labelled
dimensions, named the coordinates in the root attribute ``coordinates`` and ``/training/step``
in float64; such files are still read. Every reader returns the grids indexed in the
coordinates' order (``u[i, j, k]`` at ``x[i], y[j], t[k]``) whatever the version: a version-2
grid is a transposed view of the stored array.

Coordinates share the root with the other entries, so a coordinate may not be named like one
of them (:data:`RESERVED_NAMES`) nor contain ``/``; :func:`check_coordinate_names` says so when
a domain is built, long before a file is written.

``checksum`` is :func:`reference_checksum` of the problem description and the settings, so a
reference whose inputs did not change can be reused. ``content_sha256`` is the content digest
(:func:`~neuralpde.io._reading.content_digest`) of the stored values and of the attributes that
decide what they mean: the coordinates, ``/u``, ``/exact``, the network's tensors and the
attributes ``neuralpde_coordinates``, ``format_version``, ``/model`` ``architecture`` and
``dtype`` and ``/problem`` ``description`` of a solution; the coordinates, ``/u``, the datasets
of ``/convergence``, ``neuralpde_coordinates`` and ``format_version`` of a reference. Readers
recompute it and refuse a file whose contents no longer match (a version-1 file written before
it existed, without the attribute, or before it covered the attributes, is read with a logged
warning; a version-2 file without it is refused).

Files are read as untrusted data (:mod:`neuralpde.io._reading`): no link is followed and no
dataset stored in other files is read, and every entry's type and size is checked against
limits before its values are read.

Because the coordinates are dimension scales named like the dimensions, netCDF-4 readers
(xarray with h5netcdf or netCDF4, VTK's and ParaView's netCDF CF reader) see ``u`` as a
variable on named coordinates, with the first space coordinate as X and time as time steps.
:meth:`Solution.save <neuralpde.Solution.save>` and :func:`~neuralpde.reference.save_reference`
also write an XDMF sidecar (:mod:`neuralpde.io.xdmf`). Files are written to a temporary file
beside the target and renamed into place, so a failed write never leaves a truncated file
behind.

This module is the formats' public face: solution files are written and read in
:mod:`neuralpde.io._solution_file`, reference files in :mod:`neuralpde.io._reference_file`,
on the helpers they share in :mod:`neuralpde.io._common`; :func:`file_kind` and
:func:`read_grid` (any HDF5 or netCDF-4 grid) are here.
"""

from __future__ import annotations

import contextlib
import os

import h5py
import numpy as np

from ._common import (
    COORDINATES_ATTRIBUTE,
    FORMAT,
    FORMAT_VERSION,
    REFERENCE_FORMAT,
    REFERENCE_FORMAT_VERSION,
    check_writable,
    coordinates_attribute,
    existing_file,
    open_file,
    open_hdf5,
)
from ._common import damaged_entries as damaged_entries
from ._mesh import mesh_of as mesh_of
from ._mesh import rebuilt_mesh as rebuilt_mesh
from ._reading import (
    MAX_COORDINATES,
    MAX_GRID_ELEMENTS,
    NUMBERS,
    FormatError,
    check_link,
    check_storage,
    checked_shape,
    read_attribute,
    read_dataset,
    read_json,
    read_text,
)
from ._reference_file import read_reference, reference_checksum, write_reference
from ._solution_file import read_solution, write_solution
from ._solution_file import read_solution_record as read_solution_record
from ._solution_file import verify_solution as verify_solution

__all__ = [
    "COORDINATES_ATTRIBUTE",
    "FORMAT",
    "FORMAT_VERSION",
    "REFERENCE_FORMAT",
    "REFERENCE_FORMAT_VERSION",
    "FormatError",
    "write_solution",
    "read_solution",
    "write_reference",
    "read_reference",
    "reference_checksum",
    "file_kind",
    "check_writable",
    "read_grid",
]


def file_kind(path: str | os.PathLike) -> str:
    """``"solution"`` or ``"reference"``: which kind of neuralpde file ``path`` is.

    Raises ``FileNotFoundError`` for a missing file and :class:`FormatError` for any other file
    (or a newer format version than this neuralpde reads, or one holding links).
    """
    f, kind, _ = open_file(path, None)
    f.close()
    return kind


_NETCDF_DIMENSION_ONLY = "This is a netCDF dimension but not a netCDF variable"


def read_grid(path: str | os.PathLike, dataset: str = "u") -> tuple[list[np.ndarray], np.ndarray]:
    """A gridded dataset of an HDF5 file and the coordinate arrays attached to its dimensions.

    Each dimension of ``dataset`` must carry one dimension scale holding its coordinates (as in
    solution and reference files, and netCDF-4 files for dimensions with a coordinate variable);
    raises ``FileNotFoundError``, :class:`FormatError` or ``KeyError`` with the reason. The axes
    come in the order of the dataset's dimensions, except in a neuralpde solution or reference
    file (one whose root attributes ``format`` and ``neuralpde_coordinates``, or ``coordinates``
    in format version 1, say so, as netCDF copies of one made with xarray keep them): a grid on
    its coordinates, stored in CF's order from format version 2 (time first, the space axes
    reversed), comes in the order of its coordinates (space, then time: ``values[i, j, k]`` at
    ``axes[0][i], axes[1][j], axes[2][k]``), as :func:`read_solution` gives it.
    """
    if not isinstance(dataset, str):
        raise TypeError(
            f"dataset must be the name of a dataset in the file (a str), got "
            f"{type(dataset).__name__} {dataset!r}"
        )
    p = existing_file(path, "an HDF5 file")
    name = str(p)
    f = open_hdf5(p)
    with f, _unreadable(name):
        _check_hard_path(f, dataset, name)
        if dataset not in f:
            raise KeyError(f"{name!r} has no dataset {dataset!r}; it has {sorted(f.keys())}")
        ds = f[dataset]
        if not isinstance(ds, h5py.Dataset):
            raise KeyError(
                f"{name!r}: {dataset!r} is a group, not a dataset; the file's datasets at the "
                f"root are {_root_datasets(f)}"
            )
        check_storage(ds.id, ds.name, name, plugins=True)
        checked_shape(ds, name, NUMBERS, MAX_GRID_ELEMENTS, "a grid")
        axes, scales = [], []
        for i, dim in enumerate(ds.dims):
            if len(dim) != 1:
                raise FormatError(
                    f"dimension {i} of {dataset!r} in {name!r} has {len(dim)} coordinate "
                    "scales; one is needed"
                )
            scale = dim[0]
            if read_text(scale, "NAME", name, default="").startswith(_NETCDF_DIMENSION_ONLY):
                raise FormatError(
                    f"dimension {i} of {dataset!r} in {name!r} ({scale.name!r}) is a netCDF "
                    "dimension without coordinate values (a placeholder scale of zeros); "
                    "coordinate values are needed"
                )
            check_storage(scale.id, scale.name, name, plugins=True)
            length = checked_shape(scale, name, NUMBERS, MAX_GRID_ELEMENTS, "a coordinate", 1)
            if length != (ds.shape[i],):  # before its values are read: it may declare many
                raise FormatError(
                    f"dimension {i} of {dataset!r} in {name!r} ({scale.name!r}) has "
                    f"{length[0]} coordinates; {dataset!r} has {ds.shape[i]} values along it"
                )
            values = read_dataset(scale, name, NUMBERS, MAX_GRID_ELEMENTS, "a coordinate", 1)
            axes.append(np.asarray(values, dtype=np.float64))
            scales.append(scale.name)
        values = np.asarray(
            read_dataset(ds, name, NUMBERS, MAX_GRID_ELEMENTS, "a grid"), dtype=np.float64
        )
        order = _coordinate_order(f, name, scales)
        if order is not None:
            axes, values = [axes[i] for i in order], values.transpose(order)
        return axes, values


def _coordinate_order(f: h5py.File, path: str, scales: list[str]) -> list[int] | None:
    """In a neuralpde file whose coordinates (its root attribute ``neuralpde_coordinates``, or
    ``coordinates`` in format version 1) are the dimension ``scales`` (their paths) in some
    order, the dimensions in the coordinates' order; ``None`` in any other file or grid."""
    try:
        fmt = read_attribute(f, "format", path, default=None)
    except FormatError:  # not a string or a number: not a neuralpde file
        return None
    if fmt not in (FORMAT, REFERENCE_FORMAT):
        return None
    version = 2 if COORDINATES_ATTRIBUTE in f.attrs else 1
    names = read_json(f, coordinates_attribute(version), path)
    if (
        not isinstance(names, list)
        or not 0 < len(names) <= MAX_COORDINATES
        or not all(isinstance(n, str) for n in names)
    ):
        raise FormatError(
            f"{path!r} is a neuralpde file whose attribute {coordinates_attribute(version)!r} "
            "is not a list of coordinate names: the order of its grid's axes is unknown"
        )
    paths = [f"/{n}" for n in names]
    if sorted(paths) != sorted(scales):
        return None
    return [scales.index(q) for q in paths]


@contextlib.contextmanager
def _unreadable(path: str):
    """Turn HDF5's errors on a damaged part of an opened file into a :class:`FormatError`
    naming it; a :class:`FormatError` or ``KeyError`` (a missing dataset) passes as it is."""
    try:
        yield
    except (FormatError, KeyError):
        raise
    except (OSError, RuntimeError, ValueError, TypeError) as exc:
        raise FormatError(
            f"{path!r} cannot be read: it is damaged ({type(exc).__name__}: {exc})"
        ) from None


def _check_hard_path(f: h5py.File, dataset: str, path: str) -> None:
    """Refuse a path in ``f`` that goes through a link other than a hard one (not followed)."""
    group: h5py.Group = f
    parts = [c for c in dataset.split("/") if c]
    for i, part in enumerate(parts):
        raw = part.encode()
        if not isinstance(group, h5py.Group) or not group.id.links.exists(raw):
            return  # the caller says what is missing
        check_link(group.id, raw, "/" + "/".join(parts[: i + 1]), path)
        group = group[part]


def _root_datasets(f: h5py.File) -> list[str]:
    """The names of the datasets at the root of ``f``, following no link but hard ones."""
    return sorted(
        k
        for k in f
        if isinstance(f.get(k, getlink=True), h5py.HardLink) and isinstance(f[k], h5py.Dataset)
    )
