"""Writing and reading reference files (``format = "neuralpde-reference"``; the layout is in
:mod:`neuralpde.io.hdf5`), their per-level convergence tables and :func:`reference_checksum`."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..geometry import MeshDomain
from ._common import (
    REFERENCE_FORMAT,
    REFERENCE_FORMAT_VERSION,
    atomic_write,
    damaged_entries,
    digest_metadata,
    grid_arrays,
    grid_shape,
    node,
    open_file,
    read_common,
    read_grid_values,
    stored_layout,
    to_json,
    verify_digest,
    write_grid,
)
from ._mesh import read_mesh, write_mesh
from ._reading import (
    DIGEST_ATTRIBUTE,
    FLOATS,
    INTEGERS,
    MAX_COORDINATES,
    MAX_LEVELS,
    content_digest,
    read_dataset,
    read_json,
    read_number,
    read_text,
)
from .xdmf import write_sidecar

__all__ = ["reference_checksum", "write_reference", "read_reference"]

#: The ``format_version`` a :func:`reference_checksum` hashes: the version of the checksum's
#: definition, 1 whatever the layout's version, so that the checksum of equal inputs stays
#: equal (a reference of format version 1 is still reused for them).
_CHECKSUM_FORMAT_VERSION = 1

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
        "format_version": _CHECKSUM_FORMAT_VERSION,
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
        ds = node(g, k, h5py.Dataset)
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
    xdmf: bool = False,
    mesh: MeshDomain | None = None,
) -> Path:
    """Write a reference file atomically; returns its path.

    ``values`` is indexed in the order of ``coords`` (space, then time for an evolution
    problem: one whose levels have ``steps``) and stored in CF's order (time first, then the
    space axes last to first). With ``xdmf``, an XDMF sidecar (:mod:`neuralpde.io.xdmf`) is
    written beside the file once it is complete.

    ``convergence`` holds ``table`` (one mapping per level, coarsest first, with the keys
    ``n, h, dt, steps, difference, wall_time``; ``None`` where a value does not apply) and the
    scalars ``observed_order, order_used, order, estimated_error, gci, ratio, scheme,
    wall_time``; optionally ``extrapolated`` (bool) and ``extrapolated_table`` (rows with
    ``n, levels, h, dt, steps, difference``). The root attribute ``checksum`` is
    ``reference_checksum(problem, settings)``, and ``content_sha256`` the content digest of
    the coordinates, ``/u``, the datasets of ``/convergence`` and the attributes
    ``neuralpde_coordinates`` and ``format_version``.

    ``mesh``, the problem's mesh domain where it has one, is stored in ``/problem/mesh`` as in
    a solution file (:mod:`neuralpde.io._mesh`), so that the file knows which of its nodes lie
    inside the domain.
    """
    if not isinstance(xdmf, bool):
        raise TypeError(f"xdmf must be True or False, got {type(xdmf).__name__} {xdmf!r}")
    if mesh is not None and not isinstance(mesh, MeshDomain):
        raise TypeError(f"mesh must be a MeshDomain or None, got {type(mesh).__name__}")
    names = grid_shape(coords, values)
    table = list(convergence.get("table", ()))
    if not table:
        raise ValueError("convergence['table'] must list at least one grid level, got none")
    missing = [k for k in _LEVEL_KEYS if any(k not in row for row in table)]
    if missing:
        raise ValueError(
            f"convergence['table'] rows need the keys {_LEVEL_KEYS}; missing {missing}"
        )
    checksum = reference_checksum(problem, settings)
    grid = grid_arrays(coords, {"u": values})
    levels = _table(table, _LEVEL_KEYS)
    ext = list(convergence.get("extrapolated_table") or ())
    pairs = _table(ext, _EXTRAPOLATED_KEYS) if ext else {}
    metadata = digest_metadata(names, REFERENCE_FORMAT_VERSION)
    digest = content_digest(_reference_arrays(grid, levels, pairs), metadata)
    time = table[-1]["steps"] is not None  # an evolution problem's levels take time steps

    def fill(f: h5py.File) -> None:
        f.attrs["format"] = REFERENCE_FORMAT
        f.attrs["format_version"] = REFERENCE_FORMAT_VERSION
        f.attrs["neuralpde_version"] = provenance.get("neuralpde", "unknown")
        f.attrs["created"] = provenance.get("created", "")
        f.attrs["checksum"] = checksum
        f.attrs[DIGEST_ATTRIBUTE] = digest
        write_grid(f, names, grid, {"u": "finite-difference reference solution"}, time)
        _write_convergence(f.create_group("convergence"), levels, pairs, convergence, settings)
        pr = f.create_group("problem")
        pr.attrs["description"] = to_json(dict(problem))
        if mesh is not None:
            write_mesh(pr, mesh)
        pv = f.create_group("provenance")
        pv.attrs["versions"] = to_json(provenance.get("versions", {}))
        pv.attrs["created"] = str(provenance.get("created", ""))
        pv.attrs["platform"] = str(provenance.get("platform", ""))

    written = atomic_write(path, fill)
    if xdmf:
        write_sidecar(written, dict(coords), ["u"], time)
    return written


def _write_convergence(
    cg: h5py.Group,
    levels: Mapping[str, np.ndarray],
    pairs: Mapping[str, np.ndarray],
    convergence: Mapping[str, Any],
    settings: Mapping,
) -> None:
    """Fill ``/convergence``: the levels' table, the estimates and the study's settings, and
    the extrapolated sequence's table where there is one."""
    for key, data in levels.items():
        cg.create_dataset(key, data=data)
    for key in _CONVERGENCE_ATTRS:
        cg.attrs[key] = float(convergence[key])
    cg.attrs["order"] = int(convergence["order"])
    cg.attrs["ratio"] = int(convergence["ratio"])
    cg.attrs["scheme"] = str(convergence["scheme"])
    cg.attrs["settings"] = to_json(dict(settings))
    cg.attrs["extrapolated"] = bool(convergence.get("extrapolated", False))
    if pairs:
        eg = cg.create_group("extrapolated")
        for key, data in pairs.items():
            eg.create_dataset(key, data=data)


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


def read_reference(
    path: str | os.PathLike, *, grid: bool = True, mesh: bool = False
) -> dict[str, Any]:
    """Read a reference file into plain Python and NumPy objects.

    Raises ``FileNotFoundError`` for a missing file and :class:`FormatError` for a file that is not
    a neuralpde reference of a readable version (a solution file included), that is damaged or
    exceeds the limits of :mod:`neuralpde.io._reading`. With ``grid`` (the default), ``/u`` is
    read too and the content digest is checked. Every format version is read into the same
    record: ``u`` indexed in the order of ``coordinates``, whatever the order it is stored in.
    With ``mesh``, a stored mesh domain's arrays are read into ``mesh`` (``None`` when there is
    none; rebuilt by :func:`~neuralpde.io.hdf5.rebuilt_mesh`).
    """
    f, _, version = open_file(path, "reference")
    p = str(path)
    with f, damaged_entries(path, "reference"):
        cg = node(f, "convergence", h5py.Group)
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
        out = read_common(f, p, version)
        out.update(
            checksum=read_text(f, "checksum", p),
            convergence=convergence,
            settings=read_json(cg, "settings", p),
        )
        if grid:
            out["u"] = read_grid_values(f, p, "u", out["grid_shape"], version)
            grid_arrays = {f"/{n}": c for n, c in out["coords"].items()}
            grid_arrays["/u"] = stored_layout(out["u"], version)
            arrays = _reference_arrays(grid_arrays, levels, pairs)
            what = "coordinates, grid and convergence table"
            metadata = digest_metadata(out["coordinates"], version)
            verify_digest(path, out["content_sha256"], arrays, what, metadata, version)
        if mesh:
            out["mesh"] = read_mesh(f, p)
    return out
