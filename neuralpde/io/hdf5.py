"""The HDF5 file formats of solutions and finite-difference references, in one place.

Solution files (``format = "neuralpde-solution"``, ``format_version = 1``)::

    /                 attrs: format, format_version, neuralpde_version, created, coordinates
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
                      checksum
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
reference whose inputs did not change can be reused.

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


class FormatError(ValueError):
    """The file is not a neuralpde file of the expected kind that this version can read."""


def _temp_prefix(target: Path) -> str:
    """The prefix of a temporary file beside ``target``: hidden, named after it, and cut to 32
    characters so that the temporary name fits wherever the target's name does (a file name may
    be as long as the file system allows, 255 bytes on most)."""
    return f".{target.name[:32]}."


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
        fd, probe = tempfile.mkstemp(prefix=_temp_prefix(p), suffix=".tmp", dir=parent)
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
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(image)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, _file_mode(target))
        os.replace(tmp, target)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):  # say which file could not be written
            raise OSError(exc.errno, f"could not write {str(target)!r}: {exc.strerror}") from exc
        raise
    return given


def _grid_shape(coords: Mapping[str, np.ndarray], values: np.ndarray) -> list[str]:
    names = list(coords)
    check_coordinate_names(names, "coords")
    shape = tuple(len(coords[n]) for n in names)
    if values.shape != shape:
        raise ValueError(f"values have shape {values.shape}, the coordinates give {shape}")
    return names


def _write_grid(
    f: h5py.File, coords: Mapping[str, np.ndarray], arrays: Mapping[str, tuple[np.ndarray, str]]
) -> None:
    """Coordinate scales at the root and ``arrays`` (name -> (values, long_name)) on them."""
    names = list(coords)
    f.attrs["coordinates"] = _json(names)
    for n in names:
        ds = f.create_dataset(n, data=np.asarray(coords[n], dtype=np.float64))
        ds.make_scale(n)
    for key, (data, long_name) in arrays.items():
        ds = f.create_dataset(key, data=np.asarray(data, dtype=np.float64), compression="gzip")
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
    """Write a solution file atomically; returns its path."""
    _grid_shape(coords, values)

    def fill(f: h5py.File) -> None:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["neuralpde_version"] = provenance.get("neuralpde", "unknown")
        f.attrs["created"] = provenance.get("created", "")
        arrays = {"u": (values, "solution")}
        if exact is not None:
            arrays["exact"] = (exact, "exact solution")
        _write_grid(f, coords, arrays)
        m = f.create_group("model")
        m.attrs["architecture"] = _json(dict(architecture))
        m.attrs["dtype"] = dtype
        pg = m.create_group("parameters")
        for k, v in parameters.items():
            pg.create_dataset(k, data=np.asarray(v))
        f.create_group("problem").attrs["description"] = _json(dict(problem))
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


def _attr_str(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


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
        return h5py.File(p, "r")
    except OSError as exc:
        if exc.errno is None:  # HDF5's verdict on the contents
            raise FormatError(f"{str(p)!r} is not an HDF5 file ({exc})") from None
        why = "; another program may have it open for writing" if exc.errno == errno.EAGAIN else ""
        raise type(exc)(exc.errno, f"cannot open {str(p)!r}: {exc.strerror}{why}") from None


def _open(path: str | os.PathLike, kind: str | None) -> tuple[h5py.File, str, int]:
    """Open a neuralpde file read-only, checking its format (``kind``: expected, or any).

    Returns the open file, its kind (``"solution"`` or ``"reference"``) and format version.
    """
    p = _existing_file(path, "a neuralpde file")
    f = _open_hdf5(p)
    try:
        fmt = _attr_str(f.attrs.get("format", ""))
        if fmt not in _KINDS:
            what = f"neuralpde {kind}" if kind else "neuralpde"
            raise FormatError(f"{str(p)!r} is not a {what} file (format={fmt!r})")
        found, readable = _KINDS[fmt]
        if kind is not None and found != kind:
            raise FormatError(
                f"{str(p)!r} is a neuralpde {found} file, not a {kind} file: read it with "
                f"{_READERS[found]}"
            )
        if "format_version" not in f.attrs:
            raise FormatError(f"{str(p)!r} has no format_version; expected an integer >= 1")
        raw = f.attrs["format_version"]
        version = as_number(raw, integral=True)
        if version is None or version < 1:
            shown = raw.item() if isinstance(raw, np.generic) else raw
            raise FormatError(f"{str(p)!r} has format_version {shown!r}; expected an integer >= 1")
        if version > readable:
            raise FormatError(
                f"{str(p)!r} has {found} format version {version}; this neuralpde reads up to "
                f"{readable}: upgrade neuralpde"
            )
    except BaseException:
        f.close()
        raise
    return f, found, version


def file_kind(path: str | os.PathLike) -> str:
    """``"solution"`` or ``"reference"``: which kind of neuralpde file ``path`` is.

    Raises ``FileNotFoundError`` for a missing file and :class:`FormatError` for any other file
    (or a newer format version than this neuralpde reads).
    """
    f, kind, _ = _open(path, None)
    f.close()
    return kind


@contextlib.contextmanager
def _damaged(path: str | os.PathLike, kind: str):
    """Turn a missing or unreadable part of an opened neuralpde file into a :class:`FormatError`
    that names the file (a dataset deleted, an attribute that is not JSON, ...)."""
    try:
        yield
    except FormatError:
        raise
    except (KeyError, ValueError, TypeError, OSError, AttributeError, IndexError) as exc:
        raise FormatError(
            f"{str(path)!r} is a damaged neuralpde {kind} file: {type(exc).__name__}: {exc}"
        ) from None


def _read_common(f: h5py.File, version: int) -> dict[str, Any]:
    """What solution and reference files share: header, grid coordinates, problem, provenance."""
    names: Sequence[str] = json.loads(_attr_str(f.attrs["coordinates"]))
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"the attribute 'coordinates' must be a JSON list of names, got {names!r}")
    coords = {n: f[n][()] for n in names}
    shape = tuple(f["u"].shape)
    if tuple(np.shape(c) for c in coords.values()) != tuple((k,) for k in shape):
        raise ValueError(
            f"'u' has shape {shape}, but the coordinates {names} have shapes "
            f"{[np.shape(c) for c in coords.values()]}"
        )
    return {
        "format_version": version,
        "neuralpde_version": _attr_str(f.attrs.get("neuralpde_version", "")),
        "created": _attr_str(f.attrs.get("created", "")),
        "coordinates": list(names),
        "coords": coords,
        "grid_shape": shape,
        "problem": json.loads(_attr_str(f["problem"].attrs["description"])),
        "versions": json.loads(_attr_str(f["provenance"].attrs["versions"])),
        "platform": _attr_str(f["provenance"].attrs["platform"]),
    }


def read_solution(path: str | os.PathLike, *, grid: bool = True) -> dict[str, Any]:
    """Read a solution file into plain Python and NumPy objects.

    Raises ``FileNotFoundError`` for a missing file and :class:`FormatError` for a file that is not
    a neuralpde solution of a readable version (a reference file included).
    """
    f, _, version = _open(path, "solution")
    with f, _damaged(path, "solution"):
        out = _read_common(f, version)
        out.update(
            architecture=json.loads(_attr_str(f["model"].attrs["architecture"])),
            dtype=_attr_str(f["model"].attrs["dtype"]),
            parameters={k: v[()] for k, v in f["model/parameters"].items()},
            metrics={k: float(v) for k, v in f["metrics"].attrs.items()},
        )
        tg = f["training"]
        out["training"] = {
            "history": {k: tg[k][()] for k in ("step", "time", "loss", "monitor")},
            "status": _attr_str(tg.attrs["status"]),
            "message": _attr_str(tg.attrs["message"]),
            "seed": int(tg.attrs["seed"]),
            "steps": int(tg.attrs["steps"]),
            "timings": json.loads(_attr_str(tg.attrs["timings"])),
            "settings": json.loads(_attr_str(tg.attrs["settings"])),
        }
        out["training"]["history"]["phase"] = [_attr_str(s) for s in tg["phase"][()]]
        if grid:
            out["u"] = f["u"][()]
            out["exact"] = f["exact"][()] if "exact" in f else None
    return out


# -- reference files ---------------------------------------------------------------------------

_LEVEL_KEYS = ("n", "h", "dt", "steps", "difference", "wall_time")
_CONVERGENCE_ATTRS = ("observed_order", "order_used", "estimated_error", "gci", "wall_time")


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


def _rows(g: h5py.Group, keys: Sequence[str]) -> list[dict[str, Any]]:
    """Per-level rows back from a group of per-level datasets (NaN / -1 become ``None``)."""
    cols = {k: g[k][()] for k in keys}
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
    ``reference_checksum(problem, settings)``.
    """
    _grid_shape(coords, values)
    table = list(convergence.get("table", ()))
    if not table:
        raise ValueError("convergence['table'] must list at least one grid level, got none")
    missing = [k for k in _LEVEL_KEYS if any(k not in row for row in table)]
    if missing:
        raise ValueError(
            f"convergence['table'] rows need the keys {_LEVEL_KEYS}; missing {missing}"
        )
    checksum = reference_checksum(problem, settings)

    def fill(f: h5py.File) -> None:
        f.attrs["format"] = REFERENCE_FORMAT
        f.attrs["format_version"] = REFERENCE_FORMAT_VERSION
        f.attrs["neuralpde_version"] = provenance.get("neuralpde", "unknown")
        f.attrs["created"] = provenance.get("created", "")
        f.attrs["checksum"] = checksum
        _write_grid(f, coords, {"u": (values, "finite-difference reference solution")})
        cg = f.create_group("convergence")
        cg.create_dataset("n", data=np.array([list(r["n"]) for r in table], dtype=np.int64))
        for key in ("h", "wall_time"):
            cg.create_dataset(key, data=_column(table, key, np.nan))
        cg.create_dataset("dt", data=_column(table, "dt", np.nan))
        cg.create_dataset("steps", data=_column(table, "steps", -1).astype(np.int64))
        cg.create_dataset("difference", data=_column(table, "difference", np.nan))
        for key in _CONVERGENCE_ATTRS:
            cg.attrs[key] = float(convergence[key])
        cg.attrs["order"] = int(convergence["order"])
        cg.attrs["ratio"] = int(convergence["ratio"])
        cg.attrs["scheme"] = str(convergence["scheme"])
        cg.attrs["settings"] = _json(dict(settings))
        cg.attrs["extrapolated"] = bool(convergence.get("extrapolated", False))
        ext = list(convergence.get("extrapolated_table") or ())
        if ext:
            eg = cg.create_group("extrapolated")
            eg.create_dataset("n", data=np.array([list(r["n"]) for r in ext], dtype=np.int64))
            eg.create_dataset("levels", data=np.array([list(r["levels"]) for r in ext], np.int64))
            eg.create_dataset("h", data=np.array([r["h"] for r in ext], dtype=np.float64))
            eg.create_dataset("dt", data=_column(ext, "dt", np.nan))
            eg.create_dataset("steps", data=_column(ext, "steps", -1).astype(np.int64))
            eg.create_dataset("difference", data=_column(ext, "difference", np.nan))
        f.create_group("problem").attrs["description"] = _json(dict(problem))
        pv = f.create_group("provenance")
        pv.attrs["versions"] = _json(provenance.get("versions", {}))
        pv.attrs["created"] = str(provenance.get("created", ""))
        pv.attrs["platform"] = str(provenance.get("platform", ""))

    return _atomic_write(path, fill)


def read_reference(path: str | os.PathLike, *, grid: bool = True) -> dict[str, Any]:
    """Read a reference file into plain Python and NumPy objects.

    Raises ``FileNotFoundError`` for a missing file and :class:`FormatError` for a file that is not
    a neuralpde reference of a readable version (a solution file included).
    """
    f, _, version = _open(path, "reference")
    with f, _damaged(path, "reference"):
        cg = f["convergence"]
        table = _rows(cg, _LEVEL_KEYS)
        convergence: dict[str, Any] = {k: float(cg.attrs[k]) for k in _CONVERGENCE_ATTRS}
        convergence.update(
            order=int(cg.attrs["order"]),
            ratio=int(cg.attrs["ratio"]),
            scheme=_attr_str(cg.attrs["scheme"]),
            table=table,
            extrapolated=bool(cg.attrs.get("extrapolated", False)),
            extrapolated_table=(
                _rows(cg["extrapolated"], ("n", "levels", "h", "dt", "steps", "difference"))
                if "extrapolated" in cg
                else []
            ),
        )
        out = _read_common(f, version)
        out.update(
            checksum=_attr_str(f.attrs["checksum"]),
            convergence=convergence,
            settings=json.loads(_attr_str(cg.attrs["settings"])),
        )
        if grid:
            out["u"] = f["u"][()]
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
    f = _open_hdf5(p)
    with f:
        if dataset not in f:
            raise KeyError(f"{str(p)!r} has no dataset {dataset!r}; it has {sorted(f.keys())}")
        ds = f[dataset]
        if not isinstance(ds, h5py.Dataset):
            raise KeyError(
                f"{str(p)!r}: {dataset!r} is a group, not a dataset; the file's datasets at the "
                f"root are {sorted(k for k, v in f.items() if isinstance(v, h5py.Dataset))}"
            )
        axes = []
        for i, dim in enumerate(ds.dims):
            if len(dim) != 1:
                raise FormatError(
                    f"dimension {i} of {dataset!r} in {str(p)!r} has {len(dim)} coordinate "
                    "scales; one is needed"
                )
            if _attr_str(dim[0].attrs.get("NAME", "")).startswith(_NETCDF_DIMENSION_ONLY):
                raise FormatError(
                    f"dimension {i} of {dataset!r} in {str(p)!r} ({dim[0].name!r}) is a netCDF "
                    "dimension without coordinate values (a placeholder scale of zeros); "
                    "coordinate values are needed"
                )
            axes.append(np.asarray(dim[0][()], dtype=np.float64))
        return axes, np.asarray(ds[()], dtype=np.float64)
