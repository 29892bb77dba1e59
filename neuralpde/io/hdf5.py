"""The HDF5 file formats of solutions and finite-difference references, in one place.

Solution files (``format = "neuralpde-solution"``, ``format_version = 1``)::

    /                 attrs: format, format_version, neuralpde_version, created, coordinates,
                      content_sha256
    /x, /y, /t ...    1-D coordinate arrays, HDF5 dimension scales named after the coordinates
    /u                the field on the grid, dimensions attached to the coordinate scales
    /exact            the exact solution on the same grid (when the problem has one)
    /model            attrs: architecture (JSON), dtype
    /model/parameters one dataset per tensor of the network's state (no pickle)
    /problem          attrs: description (JSON)
    /training         datasets step, time, loss, monitor, phase; attrs: status, message, seed,
                      steps, timings (JSON), settings (JSON)
    /metrics          attrs: error metrics against the exact solution, when known
    /provenance       attrs: versions (JSON), platform

Reference files (``format = "neuralpde-reference"``, ``format_version = 1``) share the grid
layout (the coordinate scales and ``/u``), so a tool that reads one reads the other::

    /                 attrs: format, format_version, neuralpde_version, created, coordinates,
                      checksum, content_sha256
    /x, /y, /t ...    1-D coordinate arrays (the finest grid's nodes), dimension scales
    /u                the finest grid's solution, dimensions attached to the scales
    /convergence      one entry per grid level, coarsest first: datasets n (levels x space
                      axes), h, dt (NaN when steady), steps (-1 when steady), difference (NaN
                      on the coarsest level), wall_time; attrs: observed_order, order_used,
                      order, estimated_error, gci, ratio, scheme, wall_time, settings (JSON),
                      extrapolated
    /convergence/extrapolated   (Richardson-extrapolated references) one entry per pair of
                      levels: n, levels, h, dt, steps, difference
    /problem          attrs: description (JSON)
    /provenance       attrs: versions (JSON), created, platform

Coordinates share the root with the other entries, so a coordinate may not be named like one
of them (:data:`RESERVED_NAMES`) nor contain ``/``; :func:`check_coordinate_names` says so when
a domain is built, long before a file is written.

``checksum`` is :func:`reference_checksum` of the problem description and the settings, so a
reference whose inputs did not change can be reused. ``content_sha256`` is the content digest
(:func:`~neuralpde.io._reading.content_digest`) of the stored values and of the attributes that
decide what they mean: the coordinates, ``/u``, ``/exact``, the network's tensors and the
attributes ``coordinates``, ``/model`` ``architecture`` and ``dtype`` and ``/problem``
``description`` of a solution; the
coordinates, ``/u``, the datasets of ``/convergence`` and ``coordinates`` of a reference. Readers
recompute it and refuse a file whose contents no longer match (a file written before it existed,
without the attribute, or before it covered the attributes, is read with a logged warning).

Files are read as untrusted data (:mod:`neuralpde.io._reading`): no link is followed and no
dataset stored in other files is read, and every entry's type and size is checked against
limits before its values are read.

Because the coordinates are dimension scales named like the dimensions, netCDF-4 readers
(xarray with h5netcdf or netCDF4) see ``u`` as a variable on named coordinates. Files are written
to a temporary file beside the target and renamed into place, so a failed write never leaves a
truncated file behind.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import math
import os
import tempfile
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .._arguments import as_number, check_path
from .._names import (
    check_coordinate_names,
)
from ._reading import (
    DIGEST_ATTRIBUTE,
    FLOATS,
    INTEGERS,
    MAX_ATTRIBUTES,
    MAX_COORDINATES,
    MAX_GRID_ELEMENTS,
    MAX_HISTORY_LENGTH,
    MAX_LEVELS,
    MAX_PARAMETER_ELEMENTS,
    MAX_PARAMETER_TENSORS,
    MAX_PHASE_BYTES,
    NUMBERS,
    FormatError,
    MissingEntryError,
    brief,
    check_global_heaps,
    check_link,
    check_storage,
    check_structure,
    checked_shape,
    content_digest,
    read_attribute,
    read_dataset,
    read_digest,
    read_json,
    read_number,
    read_strings,
    read_text,
    shown,
)
from .atomic import replace_atomically, temp_prefix

log = logging.getLogger("neuralpde.io")

__all__ = [
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

FORMAT = "neuralpde-solution"
FORMAT_VERSION = 1
REFERENCE_FORMAT = "neuralpde-reference"
REFERENCE_FORMAT_VERSION = 1

_KINDS = {
    FORMAT: ("solution", FORMAT_VERSION),
    REFERENCE_FORMAT: ("reference", REFERENCE_FORMAT_VERSION),
}
_READERS = {
    "solution": "neuralpde.load / neuralpde info",
    "reference": "neuralpde.reference.load_reference / neuralpde info",
}


def check_writable(path: str | os.PathLike) -> Path:
    """Raise ``OSError`` with a clear message unless ``path`` can be created or replaced
    (``TypeError`` when ``path`` is not a path)."""
    p = Path(check_path(path))
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir() or str(path).endswith(("/", os.sep)):
        raise IsADirectoryError(f"output path {str(path)!r} names a directory; give a file name")
    if parent.exists() and not parent.is_dir():
        raise NotADirectoryError(f"output path {str(path)!r}: {str(parent)!r} is a file")
    if not parent.is_dir():
        raise FileNotFoundError(f"output directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise PermissionError(f"output directory {str(parent)!r} is not writable")
    if p.exists() and not p.is_file():  # a device such as /dev/null, a pipe: never replaced
        raise OSError(f"output path {str(path)!r} exists and is not a regular file")
    if p.exists() and not os.access(p, os.W_OK):
        raise PermissionError(f"output file {str(p)!r} exists and is not writable")
    # access() does not see everything (root on a read-only or special file system such as
    # /proc): create and remove a file there, so that the directory is known to take one
    try:
        fd, probe = tempfile.mkstemp(
            prefix=f"{temp_prefix(p)}{os.getpid()}-", suffix=".tmp", dir=parent
        )
    except OSError as exc:
        raise PermissionError(
            f"output directory {str(parent)!r} is not writable: {exc.strerror or exc}"
        ) from None
    os.close(fd)
    os.unlink(probe)
    return p


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process's umask, read from ``/proc`` where it is shown; else set and restored under a
    lock, through the private 0o077 so that a file another thread creates meanwhile is never
    more open than it would have been."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        umask = os.umask(0o077)
        os.umask(umask)
    return umask


def _file_mode(target: Path) -> int:
    """The mode a new file would get (or the existing target's), not mkstemp's private 0600."""
    if target.exists():
        return target.stat().st_mode & 0o777
    return 0o666 & ~_umask()


def _json(obj: Any) -> str:
    return json.dumps(obj, default=str)


def _atomic_write(path: str | os.PathLike, fill: Callable[[h5py.File], None]) -> Path:
    """Create an HDF5 file with ``fill`` in memory, write its bytes to a temporary file beside
    ``path``, then rename it over ``path`` (over the file it links to, for a symbolic link).

    The file is built in memory (HDF5's core driver) so that a failing disk (no space left, an
    I/O error) surfaces as one ``OSError`` from an ordinary write, and the library never holds
    a half-written file open (HDF5 failing to flush such a file can crash the process).
    """
    given = Path(check_path(path))
    # through a symbolic link, the file it points to is replaced and the link kept; otherwise
    # the path as given, whose trailing '/' (a directory, which Path drops) is refused
    target = check_writable(os.path.realpath(given) if given.is_symlink() else path)
    name = f"{target.name}.{uuid.uuid4().hex}"  # a file in memory only, never on disk
    with h5py.File(name, "w", driver="core", backing_store=False) as f:
        fill(f)
        f.flush()
        image = f.id.get_file_image()
    try:
        replace_atomically(target, lambda out: out.write(image), _file_mode(target))
    except OSError as exc:  # say which file could not be written
        raise OSError(exc.errno, f"could not write {str(target)!r}: {exc.strerror}") from exc
    return given


def _grid_shape(coords: Mapping[str, np.ndarray], values: np.ndarray) -> list[str]:
    names = list(coords)
    check_coordinate_names(names, "coords")
    shape = tuple(len(coords[n]) for n in names)
    values = np.asarray(values)
    if values.shape != shape:
        raise ValueError(f"values have shape {values.shape}, the coordinates give {shape}")
    if not 0 < len(names) <= MAX_COORDINATES:
        raise ValueError(f"a grid has 1 to {MAX_COORDINATES} coordinates, got {len(names)}")
    if values.size > MAX_GRID_ELEMENTS:  # a file that no neuralpde would read back
        raise ValueError(
            f"the grid {shape} has {values.size} points, more than the {MAX_GRID_ELEMENTS} a "
            "file may hold: choose fewer points per axis"
        )
    return names


def _grid_arrays(
    coords: Mapping[str, np.ndarray], arrays: Mapping[str, np.ndarray | None]
) -> dict[str, np.ndarray]:
    """The coordinate arrays and the gridded ``arrays`` (``None`` left out) as they are written,
    in float64, by their paths in the file."""
    out = {f"/{n}": np.asarray(c, dtype=np.float64) for n, c in coords.items()}
    out.update(
        {f"/{k}": np.asarray(v, dtype=np.float64) for k, v in arrays.items() if v is not None}
    )
    return out


def _write_grid(
    f: h5py.File,
    names: Sequence[str],
    grid: Mapping[str, np.ndarray],
    long_names: Mapping[str, str],
) -> None:
    """Coordinate scales at the root and the arrays of ``grid`` named in ``long_names`` (name ->
    long_name) on them; ``grid`` is :func:`_grid_arrays`."""
    f.attrs["coordinates"] = _json(list(names))
    for n in names:
        ds = f.create_dataset(n, data=grid[f"/{n}"])
        ds.make_scale(n)
    for key, long_name in long_names.items():
        if f"/{key}" not in grid:
            continue
        ds = f.create_dataset(key, data=grid[f"/{key}"], compression="gzip")
        ds.attrs["long_name"] = long_name
        for i, n in enumerate(names):
            ds.dims[i].attach_scale(f[n])
            ds.dims[i].label = n


def write_solution(
    path: str | os.PathLike,
    *,
    coords: Mapping[str, np.ndarray],
    values: np.ndarray,
    exact: np.ndarray | None,
    architecture: Mapping,
    parameters: Mapping[str, np.ndarray],
    dtype: str,
    problem: Mapping,
    training: Mapping[str, Any],
    metrics: Mapping[str, float],
    provenance: Mapping[str, Any],
) -> Path:
    """Write a solution file atomically; returns its path.

    The root attribute ``content_sha256`` is :func:`~neuralpde.io._reading.content_digest` of
    the coordinates, ``/u``, ``/exact`` and every tensor of ``parameters``, as written, and of
    the attributes that define the network (``coordinates``, ``architecture``, ``dtype``) and
    its problem (``description``).
    """
    names = _grid_shape(coords, values)
    grid = _grid_arrays(coords, {"u": values, "exact": exact})
    tensors = {k: np.asarray(v) for k, v in parameters.items()}
    arrays = {**grid, **{f"/model/parameters/{k}": v for k, v in tensors.items()}}
    # what the reader compares: the attributes' values as JSON reads them back
    stored_architecture = json.loads(_json(dict(architecture)))
    description = json.loads(_json(dict(problem)))
    metadata = _solution_metadata(names, stored_architecture, dtype, description)
    digest = content_digest(arrays, metadata)

    def fill(f: h5py.File) -> None:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["neuralpde_version"] = provenance.get("neuralpde", "unknown")
        f.attrs["created"] = provenance.get("created", "")
        f.attrs[DIGEST_ATTRIBUTE] = digest
        _write_grid(f, names, grid, {"u": "solution", "exact": "exact solution"})
        m = f.create_group("model")
        m.attrs["architecture"] = _json(stored_architecture)
        m.attrs["dtype"] = dtype
        pg = m.create_group("parameters")
        for k, v in tensors.items():
            pg.create_dataset(k, data=v)
        f.create_group("problem").attrs["description"] = _json(description)
        tg = f.create_group("training")
        history = training.get("history", {})
        for key in ("step", "time", "loss", "monitor"):
            tg.create_dataset(key, data=np.asarray(history.get(key, []), dtype=np.float64))
        tg.create_dataset(
            "phase", data=np.asarray(history.get("phase", []), dtype=h5py.string_dtype())
        )
        for key in ("status", "message"):
            tg.attrs[key] = str(training.get(key, ""))
        tg.attrs["seed"] = int(training.get("seed", 0))
        tg.attrs["steps"] = int(training.get("steps", 0))
        tg.attrs["timings"] = _json(training.get("timings", {}))
        tg.attrs["settings"] = _json(training.get("settings", {}))
        mg = f.create_group("metrics")
        for k, v in metrics.items():
            mg.attrs[k] = float(v)
        pv = f.create_group("provenance")
        pv.attrs["versions"] = _json(provenance.get("versions", {}))
        pv.attrs["platform"] = str(provenance.get("platform", ""))

    return _atomic_write(path, fill)


def _existing_file(path: str | os.PathLike, what: str) -> Path:
    """``path`` as a ``Path`` after checking that it is a regular file: ``FileNotFoundError``
    when nothing is there, :class:`FormatError` for a directory, a pipe or a device (h5py reads
    only regular files), saying it is not ``what``; ``TypeError`` when ``path`` is not a path."""
    p = Path(check_path(path))
    if p.is_dir():
        raise FormatError(f"{str(p)!r} is a directory, not {what}")
    if p.exists() and not p.is_file():
        raise FormatError(f"{str(p)!r} is not a regular file, not {what}")
    if not p.is_file():
        raise FileNotFoundError(f"no such file: {str(p)!r}")
    return p


def _open_hdf5(p: Path) -> h5py.File:
    """``p`` opened read-only. A file HDF5 cannot read raises :class:`FormatError`; one the
    system refuses (locked by a program that has it open for writing, no read permission)
    raises that ``OSError``, naming the file, since its contents may be fine."""
    try:
        check_global_heaps(p)  # HDF5 itself would loop forever on some damaged ones
        return h5py.File(p, "r")
    except OSError as exc:
        if exc.errno is None:  # HDF5's verdict on the contents
            raise FormatError(f"{str(p)!r} is not an HDF5 file ({exc})") from None
        why = "; another program may have it open for writing" if exc.errno == errno.EAGAIN else ""
        raise type(exc)(exc.errno, f"cannot open {str(p)!r}: {exc.strerror}{why}") from None


def _open(path: str | os.PathLike, kind: str | None) -> tuple[h5py.File, str, int]:
    """Open a neuralpde file read-only, checking its format (``kind``: expected, or any) and
    its structure (:func:`~neuralpde.io._reading.check_structure`: no links, no storage in other
    files), before anything else is read.

    Returns the open file, its kind (``"solution"`` or ``"reference"``) and format version.
    """
    p = _existing_file(path, "a neuralpde file")
    f = _open_hdf5(p)
    name = str(p)
    try:
        try:
            fmt = read_text(f, "format", name, default="")
        except (FormatError, KeyError):  # not a string: not a neuralpde file either
            fmt = "<not a string>"
        if fmt not in _KINDS:
            what = f"neuralpde {kind}" if kind else "neuralpde"
            raise FormatError(f"{name!r} is not a {what} file (format={shown(fmt, 80)})")
        found, readable = _KINDS[fmt]
        if kind is not None and found != kind:
            raise FormatError(
                f"{name!r} is a neuralpde {found} file, not a {kind} file: read it with "
                f"{_READERS[found]}"
            )
        raw = read_attribute(f, "format_version", name, default=None)
        if raw is None:
            raise FormatError(f"{name!r} has no format_version; expected an integer >= 1")
        version = as_number(raw, integral=True)
        if version is None or version < 1:
            shown_raw = raw.item() if isinstance(raw, np.generic) else raw
            raise FormatError(
                f"{name!r} has format_version {shown_raw!r}; expected an integer >= 1"
            )
        if version > readable:
            raise FormatError(
                f"{name!r} has {found} format version {version}; this neuralpde reads up to "
                f"{readable}: upgrade neuralpde"
            )
        check_structure(f, name)
    except BaseException:
        f.close()
        raise
    return f, found, version


def file_kind(path: str | os.PathLike) -> str:
    """``"solution"`` or ``"reference"``: which kind of neuralpde file ``path`` is.

    Raises ``FileNotFoundError`` for a missing file and :class:`FormatError` for any other file
    (or a newer format version than this neuralpde reads, or one holding links).
    """
    f, kind, _ = _open(path, None)
    f.close()
    return kind


@contextlib.contextmanager
def damaged_entries(path: str | os.PathLike, kind: str):
    """Turn a missing or unreadable part of an opened neuralpde file into a :class:`FormatError`
    that names the file (a dataset deleted, an attribute that is not JSON, ...)."""
    try:
        yield
    except FormatError:
        raise
    except (
        KeyError,
        ValueError,
        TypeError,
        OSError,
        AttributeError,
        IndexError,
        RuntimeError,
        RecursionError,
        ArithmeticError,
    ) as exc:
        name = "KeyError" if isinstance(exc, MissingEntryError) else type(exc).__name__
        raise FormatError(
            f"{str(path)!r} is a damaged neuralpde {kind} file: {name}: {exc}"
        ) from None


def _node(group: h5py.Group, name: str, kind: type) -> Any:
    """The entry ``name`` of ``group`` (whose links :func:`_open` found hard), of ``kind``
    (``h5py.Group`` or ``h5py.Dataset``); ``KeyError`` or ``TypeError`` naming it otherwise."""
    entry = f"{group.name.rstrip('/')}/{name}"
    try:
        obj = group.get(name)
    except (OSError, RuntimeError, ValueError) as exc:  # a damaged object header, say
        raise OSError(f"{entry!r} cannot be opened ({exc})") from None
    if obj is None:
        raise MissingEntryError(f"{entry!r} is missing")
    if not isinstance(obj, kind):
        raise TypeError(f"{entry!r} is not a {kind.__name__.lower()}")
    return obj


def _read_common(f: h5py.File, p: str, version: int) -> dict[str, Any]:
    """What solution and reference files share: header, grid coordinates, problem, provenance.

    The shape of ``/u`` is checked (not read) against the coordinates, which are read."""
    names = read_json(f, "coordinates", p)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(
            f"the attribute 'coordinates' must be a JSON list of names, got {brief(names)}"
        )
    if not 0 < len(names) <= MAX_COORDINATES or len(set(names)) != len(names):
        raise ValueError(
            f"the attribute 'coordinates' must name 1 to {MAX_COORDINATES} distinct "
            f"coordinates, got {brief(names)}"
        )
    check_coordinate_names(names, "the attribute 'coordinates'")
    u = _node(f, "u", h5py.Dataset)
    shape = checked_shape(u, p, FLOATS, MAX_GRID_ELEMENTS, "a grid")
    scales = {n: _node(f, n, h5py.Dataset) for n in names}
    declared = [
        checked_shape(s, p, FLOATS, MAX_GRID_ELEMENTS, "a coordinate") for s in scales.values()
    ]
    if tuple(declared) != tuple((k,) for k in shape):
        raise ValueError(
            f"'u' has shape {shape}, but the coordinates {names} have shapes {declared}"
        )
    coords = {
        n: read_dataset(s, p, FLOATS, MAX_GRID_ELEMENTS, "a coordinate") for n, s in scales.items()
    }
    for n, c in coords.items():
        if not np.isfinite(c).all():
            raise FormatError(f"{p!r}: the coordinate '/{n}' holds NaN or infinite values")
    prov = _node(f, "provenance", h5py.Group)
    return {
        "format_version": version,
        "neuralpde_version": read_text(f, "neuralpde_version", p, default=""),
        "created": read_text(f, "created", p, default=""),
        "content_sha256": read_digest(f, p),
        "coordinates": list(names),
        "coords": coords,
        "grid_shape": shape,
        "problem": _check_description(
            read_json(_node(f, "problem", h5py.Group), "description", p), len(names)
        ),
        "versions": read_json(prov, "versions", p),
        "platform": read_text(prov, "platform", p),
    }


def _check_description(desc: Any, dim: int) -> dict[str, Any]:
    """``desc`` (the problem's description, read from a file) after checking that it has the
    shape its readers (``validate``, ``info``) rely on: a JSON object whose ``name`` is a
    string; ``domain`` (and a space-time domain's ``space``) an object whose ``lower`` and
    ``upper`` hold ``dim`` numbers (the domain's, with the space's: fewer) and ``names``
    strings; ``equation`` an object; ``conditions`` a list of objects. ``ValueError``
    otherwise (a damaged file, for the caller)."""
    where = "the attribute 'description' of '/problem'"

    def mapping(value: Any, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValueError(f"{where}: {what} must be a JSON object, got {brief(value, 80)}")
        return value

    def text(value: Any, what: str) -> None:
        if not isinstance(value, str):
            raise ValueError(f"{where}: {what} must be a string, got {brief(value, 80)}")

    mapping(desc, "the description")
    if "name" in desc:
        text(desc["name"], "'name'")
    domain = mapping(desc.get("domain", {}), "'domain'")
    parts = [("'domain'", domain, dim)]
    if "space" in domain:
        parts.append(("'domain' 'space'", mapping(domain["space"], "'domain' 'space'"), dim - 1))
    for what, part, size in parts:
        for key in ("lower", "upper"):
            if key not in part:
                continue
            v = part[key]
            if (
                not isinstance(v, list)
                or len(v) != size
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
            ):
                raise ValueError(
                    f"{where}: {what} {key!r} must be a list of {size} numbers, got {brief(v, 80)}"
                )
        names = part.get("names", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"{where}: {what} 'names' must be a list of strings")
        if "type" in part:
            text(part["type"], f"{what} 'type'")
    equation = mapping(desc.get("equation", {}), "'equation'")
    if "type" in equation:
        text(equation["type"], "'equation' 'type'")
    conditions = desc.get("conditions", [])
    if not isinstance(conditions, list):
        raise ValueError(f"{where}: 'conditions' must be a list, got {brief(conditions, 80)}")
    for i, c in enumerate(conditions):
        if "type" in mapping(c, f"'conditions'[{i}]"):
            text(c["type"], f"'conditions'[{i}] 'type'")
    return desc


def _read_grid_values(f: h5py.File, p: str, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """The gridded dataset ``name``, of the grid's ``shape``."""
    ds = _node(f, name, h5py.Dataset)
    if checked_shape(ds, p, FLOATS, MAX_GRID_ELEMENTS, "a grid") != shape:
        raise FormatError(f"{p!r}: '/{name}' has shape {ds.shape}; the grid's is {shape}")
    return read_dataset(ds, p, FLOATS, MAX_GRID_ELEMENTS, "a grid")


def _expected_shapes(architecture: Any, names: Sequence[str], p: str) -> dict[str, tuple[int, ...]]:
    """The shape of every tensor of the network ``architecture`` describes, from a copy built
    on PyTorch's ``meta`` device (no memory); the architecture is checked against the limits
    first. ``FormatError`` when it cannot be built."""
    import torch

    from ..fields import build_field, check_architecture

    where = f"{p!r}: attribute 'architecture' of '/model'"
    try:
        check_architecture(architecture)
    except ValueError as exc:
        raise FormatError(f"{where} is refused: {exc}") from None
    if architecture["in_features"] != len(names):
        raise FormatError(
            f"{where} has in_features {architecture['in_features']!r}, but the file has the "
            f"coordinates {list(names)!r}"
        )
    try:
        with torch.device("meta"):
            net = build_field(architecture)
    except (ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise FormatError(
            f"{p!r}: the stored network cannot be rebuilt ({type(exc).__name__}: {exc})"
        ) from None
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def _read_parameters(
    f: h5py.File, p: str, expected: Mapping[str, tuple[int, ...]]
) -> dict[str, np.ndarray]:
    """The tensors of ``/model/parameters``: their names and declared shapes must be those of
    the network (``expected``) before any value is read."""
    pg = _node(f, "model/parameters", h5py.Group)
    if len(pg) > MAX_PARAMETER_TENSORS:
        raise FormatError(
            f"{p!r}: '/model/parameters' holds {len(pg)} tensors, more than the "
            f"{MAX_PARAMETER_TENSORS} a network may have: they are not read"
        )
    if set(pg) != set(expected):
        missing, extra = sorted(set(expected) - set(pg)), sorted(set(pg) - set(expected))
        raise FormatError(
            f"{p!r}: '/model/parameters' does not hold the tensors of its architecture "
            f"(missing {missing[:5]}, unexpected {extra[:5]}): they are not read"
        )
    datasets = {k: _node(pg, k, h5py.Dataset) for k in pg}
    total = 0
    for k, ds in datasets.items():
        shape = checked_shape(ds, p, NUMBERS, MAX_PARAMETER_ELEMENTS, "a network")
        if tuple(shape) != expected[k]:
            raise FormatError(
                f"{p!r}: '/model/parameters/{k}' declares shape {tuple(shape)}, but its "
                f"architecture's tensor has {expected[k]}: it is not read"
            )
        total += math.prod(shape)
        if total > MAX_PARAMETER_ELEMENTS:
            raise FormatError(
                f"{p!r}: the tensors of '/model/parameters' declare more than the "
                f"{MAX_PARAMETER_ELEMENTS} elements a network may have: they are not read"
            )
    return {
        k: read_dataset(ds, p, NUMBERS, MAX_PARAMETER_ELEMENTS, "a network")
        for k, ds in datasets.items()
    }


def _read_metrics(f: h5py.File, p: str) -> dict[str, float]:
    mg = _node(f, "metrics", h5py.Group)
    if len(mg.attrs) > MAX_ATTRIBUTES:
        raise FormatError(
            f"{p!r}: '/metrics' has {len(mg.attrs)} attributes, more than the {MAX_ATTRIBUTES} read"
        )
    return {k: read_number(mg, k, p) for k in mg.attrs}


def _solution_arrays(rec: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The arrays of a solution record that its content digest covers, by path in the file."""
    arrays = {f"/{n}": c for n, c in rec["coords"].items()}
    arrays["/u"] = rec["u"]
    if rec.get("exact") is not None:
        arrays["/exact"] = rec["exact"]
    arrays.update({f"/model/parameters/{k}": v for k, v in rec["parameters"].items()})
    return arrays


def _solution_metadata(
    names: Sequence[str], architecture: Any, dtype: Any, description: Any
) -> dict[str, Any]:
    """The attributes a solution's content digest covers besides its arrays: they decide what
    the stored network computes (the order of its inputs, its layers, its precision) and how
    ``validate`` judges it (the problem: its domain, conditions, time axis)."""
    return {
        "/@coordinates": list(names),
        "/model@architecture": architecture,
        "/model@dtype": dtype,
        "/problem@description": description,
    }


def _verify(
    path: str | os.PathLike,
    stored: str | None,
    arrays: Mapping[str, np.ndarray],
    what: str,
    metadata: Mapping[str, Any],
) -> None:
    """Refuse ``arrays`` and ``metadata`` (read from ``path``) unless their digest is the
    ``stored`` one. A file written before digests were stored (``None``), or before they
    covered the metadata (digest version 1, of the arrays alone), is let through with a logged
    warning."""
    if stored is None:
        log.warning(
            "%r has no content digest (it was written before neuralpde stored one): it cannot "
            "be checked for damage",
            str(path),
        )
        return
    if content_digest(arrays, metadata) == stored:
        return
    if content_digest(arrays) == stored:
        log.warning(
            "%r has a content digest of its values only (it was written before neuralpde's "
            "digest covered %s too): they cannot be checked for damage",
            str(path),
            ", ".join(metadata),
        )
        return
    raise FormatError(
        f"{str(path)!r}: its content digest does not match: the file was altered or damaged "
        f"since it was written (its {what} no longer hash to the attribute "
        f"{DIGEST_ATTRIBUTE!r} of '/')"
    )


def verify_solution(path: str | os.PathLike, rec: Mapping[str, Any]) -> None:
    """Refuse a solution record read with its grid whose content digest does not match."""
    what = "coordinates, grids, network weights, architecture, precision and problem"
    metadata = _solution_metadata(
        rec["coordinates"], rec["architecture"], rec["dtype"], rec["problem"]
    )
    _verify(path, rec["content_sha256"], _solution_arrays(rec), what, metadata)


def read_solution(path: str | os.PathLike, *, grid: bool = True) -> dict[str, Any]:
    """Read a solution file into plain Python and NumPy objects.

    Raises ``FileNotFoundError`` for a missing file and :class:`FormatError` for a file that is not
    a neuralpde solution of a readable version (a reference file included), that is damaged or
    exceeds the limits of :mod:`neuralpde.io._reading`. With ``grid`` (the default), ``/u`` and
    ``/exact`` are read too and the content digest is checked.
    """
    return read_solution_record(path, grid=grid, verify=grid)


def read_solution_record(path: str | os.PathLike, *, grid: bool, verify: bool) -> dict[str, Any]:
    """:func:`read_solution`; ``verify`` (which needs ``grid``) checks the content digest."""
    f, _, version = _open(path, "solution")
    p = str(path)
    with f, damaged_entries(path, "solution"):
        out = _read_common(f, p, version)
        model = _node(f, "model", h5py.Group)
        dtype = read_text(model, "dtype", p)
        if dtype.removeprefix("torch.") not in FLOATS:
            raise FormatError(
                f"{p!r}: attribute 'dtype' of '/model' is {shown(dtype, 80)}; expected "
                "'float32' or 'float64'"
            )
        architecture = read_json(model, "architecture", p)
        out.update(
            architecture=architecture,
            dtype=dtype,
            parameters=_read_parameters(
                f, p, _expected_shapes(architecture, out["coordinates"], p)
            ),
            metrics=_read_metrics(f, p),
        )
        tg = _node(f, "training", h5py.Group)
        history = {
            k: read_dataset(
                _node(tg, k, h5py.Dataset), p, NUMBERS, MAX_HISTORY_LENGTH, "a history", ndim=1
            )
            for k in ("step", "time", "loss", "monitor")
        }
        history["phase"] = read_strings(
            _node(tg, "phase", h5py.Dataset), p, MAX_HISTORY_LENGTH, MAX_PHASE_BYTES
        )
        out["training"] = {
            "history": history,
            "status": read_text(tg, "status", p),
            "message": read_text(tg, "message", p),
            "seed": read_number(tg, "seed", p, integral=True),
            "steps": read_number(tg, "steps", p, integral=True),
            "timings": read_json(tg, "timings", p),
            "settings": read_json(tg, "settings", p),
        }
        if grid:
            out["u"] = _read_grid_values(f, p, "u", out["grid_shape"])
            out["exact"] = (
                _read_grid_values(f, p, "exact", out["grid_shape"])
                if f.get("exact") is not None
                else None
            )
            if verify:
                verify_solution(path, out)
    return out


# -- reference files ---------------------------------------------------------------------------

_LEVEL_KEYS = ("n", "h", "dt", "steps", "difference", "wall_time")
_CONVERGENCE_ATTRS = ("observed_order", "order_used", "estimated_error", "gci", "wall_time")
_EXTRAPOLATED_KEYS = ("n", "levels", "h", "dt", "steps", "difference")


def reference_checksum(problem: Mapping, settings: Mapping) -> str:
    """The sha256 (hex) of the JSON of ``problem`` (a description), ``settings`` and the format.

    Keys are sorted and the JSON is compact, so equal inputs give equal checksums on any machine.
    """
    payload = {
        "problem": dict(problem),
        "settings": dict(settings),
        "format": REFERENCE_FORMAT,
        "format_version": REFERENCE_FORMAT_VERSION,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _column(rows: Sequence[Mapping], key: str, none: float) -> np.ndarray:
    return np.array([none if r[key] is None else r[key] for r in rows], dtype=np.float64)


def _table(rows: Sequence[Mapping], keys: Sequence[str]) -> dict[str, np.ndarray]:
    """Per-level datasets from rows (``None`` becomes NaN, or -1 for ``steps``)."""
    out = {}
    for key in keys:
        if key in ("n", "levels"):
            out[key] = np.array([list(r[key]) for r in rows], dtype=np.int64)
        elif key == "steps":
            out[key] = _column(rows, key, -1).astype(np.int64)
        else:
            out[key] = _column(rows, key, np.nan)
    return out


def _read_table(g: h5py.Group, keys: Sequence[str], p: str) -> dict[str, np.ndarray]:
    """The per-level datasets ``keys`` of ``g``: integers ``n``, ``levels`` (levels x columns)
    and ``steps``, floats else; sizes checked before reading, lengths against each other."""
    cols = {}
    for k in keys:
        ds = _node(g, k, h5py.Dataset)
        if k in ("n", "levels"):
            cols[k] = read_dataset(ds, p, INTEGERS, MAX_LEVELS * MAX_COORDINATES, "a table", 2)
        else:
            dtypes = INTEGERS if k == "steps" else FLOATS
            cols[k] = read_dataset(ds, p, dtypes, MAX_LEVELS, "a table", ndim=1)
    rows = {len(v) for v in cols.values()}
    if len(rows) != 1 or cols["n"].shape[1] > MAX_COORDINATES:
        shapes = {k: v.shape for k, v in cols.items()}
        raise ValueError(f"the datasets of {g.name!r} must have one row per level, got {shapes}")
    return cols


def _rows(cols: Mapping[str, np.ndarray]) -> list[dict[str, Any]]:
    """Per-level rows back from per-level datasets (NaN / -1 become ``None``)."""
    out = []
    for i in range(len(cols["n"])):
        row: dict[str, Any] = {}
        for k, v in cols.items():
            x = v[i]
            if k in ("n", "levels"):
                row[k] = [int(c) for c in x]
            elif k == "steps":
                row[k] = None if x < 0 else int(x)
            elif k in ("dt", "difference"):
                row[k] = None if np.isnan(x) else float(x)
            else:
                row[k] = float(x)
        out.append(row)
    return out


def write_reference(
    path: str | os.PathLike,
    *,
    coords: Mapping[str, np.ndarray],
    values: np.ndarray,
    convergence: Mapping[str, Any],
    problem: Mapping,
    settings: Mapping,
    provenance: Mapping[str, Any],
) -> Path:
    """Write a reference file atomically; returns its path.

    ``convergence`` holds ``table`` (one mapping per level, coarsest first, with the keys
    ``n, h, dt, steps, difference, wall_time``; ``None`` where a value does not apply) and the
    scalars ``observed_order, order_used, order, estimated_error, gci, ratio, scheme,
    wall_time``; optionally ``extrapolated`` (bool) and ``extrapolated_table`` (rows with
    ``n, levels, h, dt, steps, difference``). The root attribute ``checksum`` is
    ``reference_checksum(problem, settings)``, and ``content_sha256`` the content digest of
    the coordinates, ``/u``, the datasets of ``/convergence`` and the attribute
    ``coordinates``.
    """
    names = _grid_shape(coords, values)
    table = list(convergence.get("table", ()))
    if not table:
        raise ValueError("convergence['table'] must list at least one grid level, got none")
    missing = [k for k in _LEVEL_KEYS if any(k not in row for row in table)]
    if missing:
        raise ValueError(
            f"convergence['table'] rows need the keys {_LEVEL_KEYS}; missing {missing}"
        )
    checksum = reference_checksum(problem, settings)
    grid = _grid_arrays(coords, {"u": values})
    levels = _table(table, _LEVEL_KEYS)
    ext = list(convergence.get("extrapolated_table") or ())
    pairs = _table(ext, _EXTRAPOLATED_KEYS) if ext else {}
    digest = content_digest(_reference_arrays(grid, levels, pairs), {"/@coordinates": names})

    def fill(f: h5py.File) -> None:
        f.attrs["format"] = REFERENCE_FORMAT
        f.attrs["format_version"] = REFERENCE_FORMAT_VERSION
        f.attrs["neuralpde_version"] = provenance.get("neuralpde", "unknown")
        f.attrs["created"] = provenance.get("created", "")
        f.attrs["checksum"] = checksum
        f.attrs[DIGEST_ATTRIBUTE] = digest
        _write_grid(f, names, grid, {"u": "finite-difference reference solution"})
        cg = f.create_group("convergence")
        for key, data in levels.items():
            cg.create_dataset(key, data=data)
        for key in _CONVERGENCE_ATTRS:
            cg.attrs[key] = float(convergence[key])
        cg.attrs["order"] = int(convergence["order"])
        cg.attrs["ratio"] = int(convergence["ratio"])
        cg.attrs["scheme"] = str(convergence["scheme"])
        cg.attrs["settings"] = _json(dict(settings))
        cg.attrs["extrapolated"] = bool(convergence.get("extrapolated", False))
        if pairs:
            eg = cg.create_group("extrapolated")
            for key, data in pairs.items():
                eg.create_dataset(key, data=data)
        f.create_group("problem").attrs["description"] = _json(dict(problem))
        pv = f.create_group("provenance")
        pv.attrs["versions"] = _json(provenance.get("versions", {}))
        pv.attrs["created"] = str(provenance.get("created", ""))
        pv.attrs["platform"] = str(provenance.get("platform", ""))

    return _atomic_write(path, fill)


def _reference_arrays(
    grid: Mapping[str, np.ndarray],
    levels: Mapping[str, np.ndarray],
    pairs: Mapping[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """The arrays a reference's content digest covers, by path in the file."""
    return {
        **grid,
        **{f"/convergence/{k}": v for k, v in levels.items()},
        **{f"/convergence/extrapolated/{k}": v for k, v in pairs.items()},
    }


def read_reference(path: str | os.PathLike, *, grid: bool = True) -> dict[str, Any]:
    """Read a reference file into plain Python and NumPy objects.

    Raises ``FileNotFoundError`` for a missing file and :class:`FormatError` for a file that is not
    a neuralpde reference of a readable version (a solution file included), that is damaged or
    exceeds the limits of :mod:`neuralpde.io._reading`. With ``grid`` (the default), ``/u`` is
    read too and the content digest is checked.
    """
    f, _, version = _open(path, "reference")
    p = str(path)
    with f, damaged_entries(path, "reference"):
        cg = _node(f, "convergence", h5py.Group)
        levels = _read_table(cg, _LEVEL_KEYS, p)
        eg = cg.get("extrapolated")
        if eg is not None and not isinstance(eg, h5py.Group):
            raise TypeError("'/convergence/extrapolated' is not a group")
        pairs = _read_table(eg, _EXTRAPOLATED_KEYS, p) if eg is not None else {}
        convergence: dict[str, Any] = {k: read_number(cg, k, p) for k in _CONVERGENCE_ATTRS}
        convergence.update(
            order=read_number(cg, "order", p, integral=True),
            ratio=read_number(cg, "ratio", p, integral=True),
            scheme=read_text(cg, "scheme", p),
            table=_rows(levels),
            extrapolated=bool(read_number(cg, "extrapolated", p, default=False)),
            extrapolated_table=_rows(pairs) if pairs else [],
        )
        out = _read_common(f, p, version)
        out.update(
            checksum=read_text(f, "checksum", p),
            convergence=convergence,
            settings=read_json(cg, "settings", p),
        )
        if grid:
            out["u"] = _read_grid_values(f, p, "u", out["grid_shape"])
            grid_arrays = {f"/{n}": c for n, c in out["coords"].items()}
            grid_arrays["/u"] = out["u"]
            arrays = _reference_arrays(grid_arrays, levels, pairs)
            what = "coordinates, grid and convergence table"
            metadata = {"/@coordinates": out["coordinates"]}
            _verify(path, out["content_sha256"], arrays, what, metadata)
    return out


#: The ``NAME`` with which netCDF-4 marks the dimension scale of a dimension that has no
#: coordinate variable: a placeholder holding zeros, not coordinates.
_NETCDF_DIMENSION_ONLY = "This is a netCDF dimension but not a netCDF variable"


def read_grid(path: str | os.PathLike, dataset: str = "u") -> tuple[list[np.ndarray], np.ndarray]:
    """A gridded dataset of an HDF5 file and the coordinate arrays attached to its dimensions.

    Each dimension of ``dataset`` must carry one dimension scale holding its coordinates (as in
    solution and reference files, and netCDF-4 files for dimensions with a coordinate variable);
    raises ``FileNotFoundError``, :class:`FormatError` or ``KeyError`` with the reason.
    """
    if not isinstance(dataset, str):
        raise TypeError(
            f"dataset must be the name of a dataset in the file (a str), got "
            f"{type(dataset).__name__} {dataset!r}"
        )
    p = _existing_file(path, "an HDF5 file")
    name = str(p)
    f = _open_hdf5(p)
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
        axes = []
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
        values = read_dataset(ds, name, NUMBERS, MAX_GRID_ELEMENTS, "a grid")
        return axes, np.asarray(values, dtype=np.float64)


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
