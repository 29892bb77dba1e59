"""What the solution and reference files of :mod:`neuralpde.io.hdf5` share: the formats' names
and versions, atomic writes, the coordinate grid and its CF layout, opening a file and checking
its kind, the entries every file has, and the content digest check.

The names here are public so that the file modules can share them; the package's interface is
:mod:`neuralpde.io.hdf5` (and :mod:`neuralpde.io`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
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
from .._names import check_coordinate_names
from ._reading import (
    DIGEST_ATTRIBUTE,
    FLOATS,
    MAX_COORDINATES,
    MAX_GRID_ELEMENTS,
    FormatError,
    MissingEntryError,
    brief,
    check_global_heaps,
    check_structure,
    checked_shape,
    content_digest,
    read_attribute,
    read_dataset,
    read_digest,
    read_json,
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
    "COORDINATES_ATTRIBUTE",
    "CONVENTIONS",
    "check_writable",
    "umask",
    "file_mode",
    "to_json",
    "atomic_write",
    "grid_shape",
    "grid_arrays",
    "stored_layout",
    "time_is_last",
    "write_grid",
    "existing_file",
    "open_hdf5",
    "open_file",
    "damaged_entries",
    "node",
    "read_common",
    "read_grid_values",
    "coordinates_attribute",
    "digest_metadata",
    "verify_digest",
]

FORMAT = "neuralpde-solution"
#: 1: gridded datasets in coordinate order (x, y, t), root attribute ``coordinates``.
#: 2: gridded datasets in CF order (t, z, y, x), root attribute ``neuralpde_coordinates``, CF
#: attributes, ``/training/step`` as integers, the format version in the content digest.
FORMAT_VERSION = 2
REFERENCE_FORMAT = "neuralpde-reference"
REFERENCE_FORMAT_VERSION = 2
#: The root attribute naming the coordinates in the order of the network's inputs (space, then
#: time): ``coordinates`` up to format version 1, where CF readers took it for their own
#: attribute of that name (a variable's auxiliary coordinates).
COORDINATES_ATTRIBUTE = "neuralpde_coordinates"
_COORDINATES_V1 = "coordinates"
#: The root attribute ``Conventions`` of files from format version 2.
CONVENTIONS = "CF-1.10"

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


def umask() -> int:
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
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def file_mode(target: Path) -> int:
    """The mode a new file would get (or the existing target's), not mkstemp's private 0600."""
    if target.exists():
        return target.stat().st_mode & 0o777
    return 0o666 & ~umask()


def to_json(obj: Any) -> str:
    return json.dumps(obj, default=str)


def atomic_write(path: str | os.PathLike, fill: Callable[[h5py.File], None]) -> Path:
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
        replace_atomically(target, lambda out: out.write(image), file_mode(target))
    except OSError as exc:  # say which file could not be written
        raise OSError(exc.errno, f"could not write {str(target)!r}: {exc.strerror}") from exc
    return given


def grid_shape(coords: Mapping[str, np.ndarray], values: np.ndarray) -> list[str]:
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


def time_is_last(description: object) -> bool:
    """Whether the last coordinate of a problem (its ``describe()``) is time: a space-time
    domain's."""
    if not isinstance(description, Mapping):
        return False
    domain = description.get("domain")
    return isinstance(domain, Mapping) and domain.get("type") == "SpaceTime"


def stored_layout(values: np.ndarray, version: int) -> np.ndarray:
    """A gridded array as format ``version`` stores it, from its order in memory (one axis per
    coordinate, in the coordinates' order: space, then time), or back: from version 2 the axes
    are reversed (time first, then the space axes last to first, CF's order), a transpose that
    is its own inverse (a view, nothing is copied)."""
    return values.T if version >= 2 else values


def grid_arrays(
    coords: Mapping[str, np.ndarray], arrays: Mapping[str, np.ndarray | None]
) -> dict[str, np.ndarray]:
    """The coordinate arrays and the gridded ``arrays`` (``None`` left out) as they are written,
    in float64 and in the stored layout (:func:`stored_layout`), by their paths in the file."""
    out = {f"/{n}": np.asarray(c, dtype=np.float64) for n, c in coords.items()}
    out.update(
        {
            f"/{k}": np.ascontiguousarray(
                stored_layout(np.asarray(v, dtype=np.float64), FORMAT_VERSION)
            )
            for k, v in arrays.items()
            if v is not None
        }
    )
    return out


def _text(obj: h5py.HLObject, name: str, value: str) -> None:
    """A fixed-length string attribute: netCDF's text (``NC_CHAR``), which netCDF readers such
    as VTK's read where they ignore a variable-length string (``NC_STRING``)."""
    data = value.encode("utf-8")
    obj.attrs.create(name, np.bytes_(data), dtype=h5py.string_dtype("utf-8", max(len(data), 1)))


def write_grid(
    f: h5py.File,
    names: Sequence[str],
    grid: Mapping[str, np.ndarray],
    long_names: Mapping[str, str],
    time: bool,
) -> None:
    """The grid of :func:`grid_arrays` in CF's layout: coordinate variables at the root (HDF5
    dimension scales, as netCDF-4 keeps them), each gridded array of ``long_names`` (name ->
    long_name) with its dimensions (time first, then the space axes last to first) attached to
    them; the last coordinate is time when ``time``.

    Coordinates carry ``units`` ("1": a problem has no units), ``long_name`` and, for time,
    ``axis = "T"``. Space coordinates carry no ``axis``: VTK's CF reader (ParaView's netCDF
    reader) takes ``X`` and ``Y`` for longitude and latitude and draws the grid on a sphere.
    No dimension labels are written (netCDF readers pass ``DIMENSION_LABELS`` on as an
    attribute, which netCDF writers then refuse): the scales name the dimensions.
    """
    f.attrs[COORDINATES_ATTRIBUTE] = to_json(list(names))
    _text(f, "Conventions", CONVENTIONS)
    last = len(names) - 1
    for i, n in enumerate(names):
        ds = f.create_dataset(n, data=grid[f"/{n}"])
        ds.make_scale(n)
        is_time = time and i == last
        _text(ds, "long_name", "time" if is_time else f"space coordinate {n}")
        _text(ds, "units", "1")
        if is_time:
            _text(ds, "axis", "T")
    stored = list(_stored_shape(tuple(names), FORMAT_VERSION))  # the dimensions' names
    for key, long_name in long_names.items():
        if f"/{key}" not in grid:
            continue
        ds = f.create_dataset(key, data=grid[f"/{key}"], compression="gzip")
        _text(ds, "long_name", long_name)
        _text(ds, "units", "1")
        for i, n in enumerate(stored):
            ds.dims[i].attach_scale(f[n])


def existing_file(path: str | os.PathLike, what: str) -> Path:
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


def open_hdf5(p: Path) -> h5py.File:
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


def open_file(path: str | os.PathLike, kind: str | None) -> tuple[h5py.File, str, int]:
    """Open a neuralpde file read-only, checking its format (``kind``: expected, or any) and
    its structure (:func:`~neuralpde.io._reading.check_structure`: no links, no storage in other
    files), before anything else is read.

    Returns the open file, its kind (``"solution"`` or ``"reference"``) and format version.
    """
    p = existing_file(path, "a neuralpde file")
    f = open_hdf5(p)
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


def node(group: h5py.Group, name: str, kind: type) -> Any:
    """The entry ``name`` of ``group`` (whose links :func:`open_file` found hard), of ``kind``
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


def read_common(f: h5py.File, p: str, version: int) -> dict[str, Any]:
    """What solution and reference files share: header, grid coordinates, problem, provenance.

    The coordinates are read from the root attribute ``neuralpde_coordinates`` (``coordinates``
    in format version 1). The shape of ``/u`` is checked (not read) against the coordinates,
    which are read; ``grid_shape`` is the grid's shape in the coordinates' order, whatever the
    version's layout."""
    attribute = coordinates_attribute(version)
    names = read_json(f, attribute, p)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(
            f"the attribute {attribute!r} must be a JSON list of names, got {brief(names)}"
        )
    if not 0 < len(names) <= MAX_COORDINATES or len(set(names)) != len(names):
        raise ValueError(
            f"the attribute {attribute!r} must name 1 to {MAX_COORDINATES} distinct "
            f"coordinates, got {brief(names)}"
        )
    check_coordinate_names(names, f"the attribute {attribute!r}")
    u = node(f, "u", h5py.Dataset)
    stored = checked_shape(u, p, FLOATS, MAX_GRID_ELEMENTS, "a grid")
    shape = _stored_shape(stored, version)  # in the coordinates' order (a reversal undoes one)
    scales = {n: node(f, n, h5py.Dataset) for n in names}
    declared = [
        checked_shape(s, p, FLOATS, MAX_GRID_ELEMENTS, "a coordinate") for s in scales.values()
    ]
    if tuple(declared) != tuple((k,) for k in shape):
        raise ValueError(
            f"'u' has shape {stored}{_stored_order(names, version)}, but the coordinates "
            f"{names} have shapes {declared}"
        )
    coords = {
        n: read_dataset(s, p, FLOATS, MAX_GRID_ELEMENTS, "a coordinate") for n, s in scales.items()
    }
    for n, c in coords.items():
        if not np.isfinite(c).all():
            raise FormatError(f"{p!r}: the coordinate '/{n}' holds NaN or infinite values")
    prov = node(f, "provenance", h5py.Group)
    return {
        "format_version": version,
        "neuralpde_version": read_text(f, "neuralpde_version", p, default=""),
        "created": read_text(f, "created", p, default=""),
        "content_sha256": read_digest(f, p),
        "coordinates": list(names),
        "coords": coords,
        "grid_shape": shape,
        "problem": _check_description(
            read_json(node(f, "problem", h5py.Group), "description", p), len(names)
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


def coordinates_attribute(version: int) -> str:
    """The root attribute naming the coordinates in files of format ``version``."""
    return COORDINATES_ATTRIBUTE if version >= 2 else _COORDINATES_V1


def _stored_shape(shape: tuple[Any, ...], version: int) -> tuple[Any, ...]:
    """The shape :func:`stored_layout` gives an array of ``shape`` (or the order it gives its
    axes' names)."""
    return tuple(reversed(shape)) if version >= 2 else tuple(shape)


def _stored_order(names: Sequence[str], version: int) -> str:
    """`` (t, y, x)``: the order of the stored axes, where it is not the coordinates'."""
    if version < 2 or len(names) < 2:
        return ""
    return f" (axes {', '.join(reversed(names))})"


def read_grid_values(
    f: h5py.File, p: str, name: str, shape: tuple[int, ...], version: int
) -> np.ndarray:
    """The gridded dataset ``name`` in the coordinates' order (from format version 2 a
    transposed view of the stored array), of the grid's ``shape``."""
    ds = node(f, name, h5py.Dataset)
    want = _stored_shape(shape, version)
    if checked_shape(ds, p, FLOATS, MAX_GRID_ELEMENTS, "a grid") != want:
        raise FormatError(f"{p!r}: '/{name}' has shape {ds.shape}; the grid's is {want}")
    return stored_layout(read_dataset(ds, p, FLOATS, MAX_GRID_ELEMENTS, "a grid"), version)


def digest_metadata(names: Sequence[str], version: int) -> dict[str, Any]:
    """The root attributes a content digest covers besides a file's own (:func:`verify_digest`):
    the coordinates' order and, from format version 2, the version, which decides the layout
    the arrays are read in."""
    if version < 2:
        return {f"/@{_COORDINATES_V1}": list(names)}
    return {f"/@{COORDINATES_ATTRIBUTE}": list(names), "/@format_version": int(version)}


def verify_digest(
    path: str | os.PathLike,
    stored: str | None,
    arrays: Mapping[str, np.ndarray],
    what: str,
    metadata: Mapping[str, Any],
    version: int,
) -> None:
    """Refuse ``arrays`` (as stored) and ``metadata`` (read from ``path``) unless their digest
    is the ``stored`` one. A file without one (``None``: written before digests were stored, or
    stripped of it) is let through with a logged warning, and so is a file of format version 1
    whose digest is of its arrays alone (digest version 1, written before it covered the
    metadata); a later version's writers never wrote that one."""
    if stored is None:
        log.warning(
            "%r has no content digest (it was written before neuralpde stored one): it cannot "
            "be checked for damage",
            str(path),
        )
        return
    if content_digest(arrays, metadata) == stored:
        return
    if version < 2 and content_digest(arrays) == stored:
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
