"""The HDF5 file format of solutions, in one place.

Layout (``format = "neuralpde-solution"``, ``format_version = 1``)::

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

Because the coordinates are dimension scales named like the dimensions, netCDF-4 readers
(xarray with h5netcdf or netCDF4) see ``u`` as a variable on named coordinates. Files are written
to a temporary file beside the target and renamed into place, so a failed write never leaves a
truncated file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "FormatError",
    "write_solution",
    "read_solution",
    "check_writable",
]

FORMAT = "neuralpde-solution"
FORMAT_VERSION = 1


class FormatError(ValueError):
    """The file is not a neuralpde solution file this version can read."""


def check_writable(path: str | os.PathLike) -> Path:
    """Raise ``OSError`` with a clear message unless ``path`` can be created or replaced."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise IsADirectoryError(f"output path {str(p)!r} is a directory; give a file name")
    if not parent.is_dir():
        raise FileNotFoundError(f"output directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise PermissionError(f"output directory {str(parent)!r} is not writable")
    if p.exists() and not os.access(p, os.W_OK):
        raise PermissionError(f"output file {str(p)!r} exists and is not writable")
    return p


def _file_mode(target: Path) -> int:
    """The mode a new file would get (or the existing target's), not mkstemp's private 0600."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _json(obj: Any) -> str:
    return json.dumps(obj, default=str)


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
    target = check_writable(path)
    names = list(coords)
    shape = tuple(len(coords[n]) for n in names)
    if values.shape != shape:
        raise ValueError(f"values have shape {values.shape}, the coordinates give {shape}")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["neuralpde_version"] = provenance.get("neuralpde", "unknown")
            f.attrs["created"] = provenance.get("created", "")
            f.attrs["coordinates"] = _json(names)
            for n in names:
                ds = f.create_dataset(n, data=np.asarray(coords[n], dtype=np.float64))
                ds.make_scale(n)
            u = f.create_dataset("u", data=values.astype(np.float64), compression="gzip")
            u.attrs["long_name"] = "solution"
            datasets = [u]
            if exact is not None:
                e = f.create_dataset("exact", data=exact.astype(np.float64), compression="gzip")
                e.attrs["long_name"] = "exact solution"
                datasets.append(e)
            for ds in datasets:
                for i, n in enumerate(names):
                    ds.dims[i].attach_scale(f[n])
                    ds.dims[i].label = n
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
        os.chmod(tmp, _file_mode(target))
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


def _attr_str(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def read_solution(path: str | os.PathLike, *, grid: bool = True) -> dict[str, Any]:
    """Read a solution file into plain Python and NumPy objects.

    Raises ``FileNotFoundError`` for a missing file and :class:`FormatError` for a file that is not
    a neuralpde solution of a readable version.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such file: {str(p)!r}")
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise FormatError(f"{str(p)!r} is not an HDF5 file ({exc})") from None
    with f:
        fmt = _attr_str(f.attrs.get("format", ""))
        if fmt != FORMAT:
            raise FormatError(f"{str(p)!r} is not a neuralpde solution file (format={fmt!r})")
        version = int(f.attrs["format_version"])
        if version > FORMAT_VERSION:
            raise FormatError(
                f"{str(p)!r} has format version {version}; this neuralpde reads up to "
                f"{FORMAT_VERSION}: upgrade neuralpde"
            )
        names: Sequence[str] = json.loads(_attr_str(f.attrs["coordinates"]))
        out: dict[str, Any] = {
            "format_version": version,
            "neuralpde_version": _attr_str(f.attrs.get("neuralpde_version", "")),
            "created": _attr_str(f.attrs.get("created", "")),
            "coordinates": list(names),
            "coords": {n: f[n][()] for n in names},
            "grid_shape": tuple(f["u"].shape),
            "architecture": json.loads(_attr_str(f["model"].attrs["architecture"])),
            "dtype": _attr_str(f["model"].attrs["dtype"]),
            "parameters": {k: v[()] for k, v in f["model/parameters"].items()},
            "problem": json.loads(_attr_str(f["problem"].attrs["description"])),
            "metrics": {k: float(v) for k, v in f["metrics"].attrs.items()},
            "versions": json.loads(_attr_str(f["provenance"].attrs["versions"])),
            "platform": _attr_str(f["provenance"].attrs["platform"]),
        }
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
