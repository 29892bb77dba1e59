"""Writing and reading solution files (``format = "neuralpde-solution"``; the layout is in
:mod:`neuralpde.io.hdf5`)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..domains import Domain
from ._common import (
    FORMAT,
    FORMAT_VERSION,
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
    time_is_last,
    to_json,
    verify_digest,
    write_grid,
)
from ._mesh import mesh_of, read_mesh, write_mesh
from ._reading import (
    DIGEST_ATTRIBUTE,
    FLOATS,
    INTEGERS,
    MAX_ATTRIBUTES,
    MAX_HISTORY_LENGTH,
    MAX_PARAMETER_ELEMENTS,
    MAX_PARAMETER_TENSORS,
    MAX_PHASE_BYTES,
    NUMBERS,
    FormatError,
    checked_shape,
    content_digest,
    read_dataset,
    read_json,
    read_number,
    read_strings,
    read_text,
    shown,
)
from .xdmf import write_sidecar

__all__ = ["write_solution", "read_solution", "read_solution_record", "verify_solution"]


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
    xdmf: bool = False,
    domain: Domain | None = None,
) -> Path:
    """Write a solution file atomically; returns its path.

    ``values`` and ``exact`` are indexed in the order of ``coords`` (space, then time); they are
    stored in CF's order (time first, then the space axes last to first). The root attribute
    ``content_sha256`` is :func:`~neuralpde.io._reading.content_digest` of the coordinates,
    ``/u``, ``/exact`` and every tensor of ``parameters``, as written, and of the attributes
    that define the network (``neuralpde_coordinates``, ``architecture``, ``dtype``), its
    problem (``description``) and the layout (``format_version``). With ``xdmf``, an XDMF
    sidecar (:mod:`neuralpde.io.xdmf`) is written beside the file once it is complete. When
    ``domain`` (the problem's) is a :class:`~neuralpde.MeshDomain` or ``SpaceTime`` of one, the
    mesh is stored in ``/problem/mesh`` (:mod:`neuralpde.io._mesh`), so that the loaded field
    knows its domain.
    """
    if not isinstance(xdmf, bool):
        raise TypeError(f"xdmf must be True or False, got {type(xdmf).__name__} {xdmf!r}")
    names = grid_shape(coords, values)
    grid = grid_arrays(coords, {"u": values, "exact": exact})
    tensors = {k: np.asarray(v) for k, v in parameters.items()}
    arrays = {**grid, **{f"/model/parameters/{k}": v for k, v in tensors.items()}}
    # what the reader compares: the attributes' values as JSON reads them back
    stored_architecture = json.loads(to_json(dict(architecture)))
    description = json.loads(to_json(dict(problem)))
    metadata = _solution_metadata(names, stored_architecture, dtype, description, FORMAT_VERSION)
    digest = content_digest(arrays, metadata)
    steps = _counters(training.get("history", {}).get("step", []), "training history 'step'")
    mesh = mesh_of(domain)

    def fill(f: h5py.File) -> None:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["neuralpde_version"] = provenance.get("neuralpde", "unknown")
        f.attrs["created"] = provenance.get("created", "")
        f.attrs[DIGEST_ATTRIBUTE] = digest
        write_grid(
            f, names, grid, {"u": "solution", "exact": "exact solution"}, time_is_last(description)
        )
        m = f.create_group("model")
        m.attrs["architecture"] = to_json(stored_architecture)
        m.attrs["dtype"] = dtype
        pg = m.create_group("parameters")
        for k, v in tensors.items():
            pg.create_dataset(k, data=v)
        pr = f.create_group("problem")
        pr.attrs["description"] = to_json(description)
        if mesh is not None:
            write_mesh(pr, mesh)
        _write_training(f.create_group("training"), training, steps)
        mg = f.create_group("metrics")
        for k, v in metrics.items():
            mg.attrs[k] = float(v)
        pv = f.create_group("provenance")
        pv.attrs["versions"] = to_json(provenance.get("versions", {}))
        pv.attrs["platform"] = str(provenance.get("platform", ""))

    written = atomic_write(path, fill)
    if xdmf:
        datasets = [k for k in ("u", "exact") if f"/{k}" in grid]
        write_sidecar(written, dict(coords), datasets, time_is_last(description))
    return written


def _write_training(tg: h5py.Group, training: Mapping[str, Any], steps: np.ndarray) -> None:
    """The group ``/training``: the history (its ``step`` counters as ``steps``) and the run's
    status, seed, timings and settings."""
    history = training.get("history", {})
    tg.create_dataset("step", data=steps)
    for key in ("time", "loss", "monitor"):
        tg.create_dataset(key, data=np.asarray(history.get(key, []), dtype=np.float64))
    tg.create_dataset("phase", data=np.asarray(history.get("phase", []), dtype=h5py.string_dtype()))
    for key in ("status", "message"):
        tg.attrs[key] = str(training.get(key, ""))
    tg.attrs["seed"] = int(training.get("seed", 0))
    tg.attrs["steps"] = int(training.get("steps", 0))
    tg.attrs["timings"] = to_json(training.get("timings", {}))
    tg.attrs["settings"] = to_json(training.get("settings", {}))


def _counters(values: Any, what: str) -> np.ndarray:
    """``values`` as the int64 array a counter is stored as; ``ValueError`` for a value that
    is not a whole number."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64)
    try:
        as_float = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must hold whole numbers, got {arr.dtype}") from None
    if not (np.isfinite(as_float).all() and (as_float == np.round(as_float)).all()):
        raise ValueError(f"{what} must hold whole numbers")
    if np.abs(as_float).max(initial=0.0) >= 2.0**63:
        raise ValueError(f"{what} holds numbers beyond int64")
    return as_float.astype(np.int64)


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
    pg = node(f, "model/parameters", h5py.Group)
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
    datasets = {k: node(pg, k, h5py.Dataset) for k in pg}
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
    mg = node(f, "metrics", h5py.Group)
    if len(mg.attrs) > MAX_ATTRIBUTES:
        raise FormatError(
            f"{p!r}: '/metrics' has {len(mg.attrs)} attributes, more than the {MAX_ATTRIBUTES} read"
        )
    return {k: read_number(mg, k, p) for k in mg.attrs}


def _solution_arrays(rec: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The arrays of a solution record that its content digest covers, by path in the file, as
    its format version stores them."""
    version = rec["format_version"]
    arrays = {f"/{n}": c for n, c in rec["coords"].items()}
    arrays["/u"] = stored_layout(rec["u"], version)
    if rec.get("exact") is not None:
        arrays["/exact"] = stored_layout(rec["exact"], version)
    arrays.update({f"/model/parameters/{k}": v for k, v in rec["parameters"].items()})
    return arrays


def _solution_metadata(
    names: Sequence[str], architecture: Any, dtype: Any, description: Any, version: int
) -> dict[str, Any]:
    """The attributes a solution's content digest covers besides its arrays: they decide what
    the stored network computes (the order of its inputs, its layers, its precision), how
    ``validate`` judges it (the problem: its domain, conditions, time axis) and, from format
    version 2, the layout its grids are read in (the version)."""
    return {
        **digest_metadata(names, version),
        "/model@architecture": architecture,
        "/model@dtype": dtype,
        "/problem@description": description,
    }


def verify_solution(path: str | os.PathLike, rec: Mapping[str, Any]) -> None:
    """Refuse a solution record read with its grid whose content digest does not match."""
    what = "coordinates, grids, network weights, architecture, precision and problem"
    version = rec["format_version"]
    metadata = _solution_metadata(
        rec["coordinates"], rec["architecture"], rec["dtype"], rec["problem"], version
    )
    verify_digest(path, rec["content_sha256"], _solution_arrays(rec), what, metadata, version)


def read_solution(path: str | os.PathLike, *, grid: bool = True) -> dict[str, Any]:
    """Read a solution file into plain Python and NumPy objects.

    Raises ``FileNotFoundError`` for a missing file and :class:`FormatError` for a file that is not
    a neuralpde solution of a readable version (a reference file included), that is damaged or
    exceeds the limits of :mod:`neuralpde.io._reading`. With ``grid`` (the default), ``/u`` and
    ``/exact`` are read too and the content digest is checked. Every format version is read
    into the same record: ``u`` and ``exact`` indexed in the order of ``coordinates`` (space,
    then time), whatever the order they are stored in.
    """
    return read_solution_record(path, grid=grid, verify=grid)


def read_solution_record(
    path: str | os.PathLike, *, grid: bool, verify: bool, mesh: bool = False
) -> dict[str, Any]:
    """:func:`read_solution`; ``verify`` (which needs ``grid``) checks the content digest;
    ``mesh`` reads a stored mesh domain's arrays into ``mesh`` (:func:`~neuralpde.io._mesh.
    read_mesh`: ``None`` when there is none; rebuilt by :func:`~neuralpde.io._mesh.
    rebuilt_mesh`)."""
    f, _, version = open_file(path, "solution")
    p = str(path)
    with f, damaged_entries(path, "solution"):
        out = read_common(f, p, version)
        model = node(f, "model", h5py.Group)
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
        tg = node(f, "training", h5py.Group)
        history = {
            k: read_dataset(
                node(tg, k, h5py.Dataset),
                p,
                INTEGERS if k == "step" and version >= 2 else NUMBERS,  # float64 in version 1
                MAX_HISTORY_LENGTH,
                "a history",
                ndim=1,
            )
            for k in ("step", "time", "loss", "monitor")
        }
        history["phase"] = read_strings(
            node(tg, "phase", h5py.Dataset), p, MAX_HISTORY_LENGTH, MAX_PHASE_BYTES
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
            out["u"] = read_grid_values(f, p, "u", out["grid_shape"], version)
            out["exact"] = (
                read_grid_values(f, p, "exact", out["grid_shape"], version)
                if f.get("exact") is not None
                else None
            )
            if verify:
                verify_solution(path, out)
        if mesh:
            out["mesh"] = read_mesh(f, p)
    return out
