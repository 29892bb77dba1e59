"""A :class:`~neuralpde.MeshDomain` stored in a solution file, so that a loaded field knows its
domain exactly rather than by its bounding box.

When a solution's domain is a mesh (or ``SpaceTime`` of one), the group ``/problem/mesh``
holds it, compressed (gzip, with the shuffle filter)::

    /problem/mesh     attrs: sha256 (MeshDomain.digest), cell_type ("triangle" or "tetra"),
                      parts (JSON: the boundary parts' names, in order)
      points          (P, d) float64: the vertices the cells use
      cells           (E, d + 1) int64: each cell's vertices (rows of points)
      facets          (F, d) int64: the boundary facets' vertices, each facing outward
      facet_parts     (F,) int64: each boundary facet's part (an index into parts)

The arrays are not in the file's content digest (a file with a mesh still loads, by its
bounding box, in a neuralpde that predates this group); the mesh's own SHA-256 is, as part of
the problem's description (``sha256`` of its domain). :func:`rebuilt_mesh` rebuilds the mesh
from the arrays and refuses (:class:`FormatError`) one whose digest is not the stored one, as
the loader refuses any other damaged entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import h5py
import numpy as np

from ..domains import Domain, SpaceTime
from ..geometry import MeshDomain
from ..limits import MAX_MESH_CELLS
from ._common import node, to_json
from ._reading import FLOATS, INTEGERS, FormatError, brief, read_dataset, read_json, read_text

__all__ = ["MESH_GROUP", "mesh_of", "write_mesh", "read_mesh", "rebuilt_mesh"]

#: Where a mesh domain is stored, below ``/problem``.
MESH_GROUP = "mesh"
#: The datasets of a stored mesh: (dtypes, dimensions, element limit).
_DATASETS = {
    "points": (FLOATS, 2, 3 * 4 * MAX_MESH_CELLS),
    "cells": (INTEGERS, 2, 4 * MAX_MESH_CELLS),
    "facets": (INTEGERS, 2, 3 * 4 * MAX_MESH_CELLS),
    "facet_parts": (INTEGERS, 1, 4 * MAX_MESH_CELLS),
}
_FACET_TYPE = {"triangle": "line", "tetra": "triangle"}


def mesh_of(domain: Domain | None) -> MeshDomain | None:
    """The mesh ``domain`` is, or whose space it is (``SpaceTime``); ``None`` for another."""
    space = domain.space if isinstance(domain, SpaceTime) else domain
    return space if isinstance(space, MeshDomain) else None


def write_mesh(problem: h5py.Group, mesh: MeshDomain) -> None:
    """Store ``mesh`` in the group ``mesh`` of ``problem``: the points its cells use (the
    cells and facets renumbered to them; the digest, of coordinates, is unchanged)."""
    used, cells = np.unique(mesh.cells, return_inverse=True)
    arrays = {
        "points": np.asarray(mesh.points[used], dtype=np.float64),
        "cells": cells.reshape(mesh.cells.shape).astype(np.int64),
        "facets": np.searchsorted(used, mesh.boundary_facets).astype(np.int64),
        "facet_parts": mesh.facet_parts.astype(np.int64),
    }
    g = problem.create_group(MESH_GROUP)
    g.attrs["sha256"] = mesh.digest
    g.attrs["cell_type"] = "tetra" if mesh.dim == 3 else "triangle"
    g.attrs["parts"] = to_json(list(mesh.boundary_parts))
    for name, arr in arrays.items():
        g.create_dataset(name, data=arr, compression="gzip", compression_opts=4, shuffle=True)


def read_mesh(f: h5py.File, p: str) -> dict[str, Any] | None:
    """The arrays and attributes of ``/problem/mesh`` (types, dimensions and sizes checked
    before their values are read), ``None`` when the file stores no mesh."""
    problem = node(f, "problem", h5py.Group)
    if MESH_GROUP not in problem:
        return None
    g = node(problem, MESH_GROUP, h5py.Group)
    out: dict[str, Any] = {
        name: read_dataset(node(g, name, h5py.Dataset), p, dtypes, limit, "a mesh", ndim)
        for name, (dtypes, ndim, limit) in _DATASETS.items()
    }
    out["sha256"] = read_text(g, "sha256", p)
    out["cell_type"] = read_text(g, "cell_type", p)
    out["parts"] = read_json(g, "parts", p)
    return out


def rebuilt_mesh(stored: Mapping[str, Any], desc: Mapping[str, Any], path: str) -> MeshDomain:
    """The :class:`~neuralpde.MeshDomain` ``stored`` (:func:`read_mesh`) holds, with the
    coordinate names and source of its description ``desc``; :class:`FormatError` when it
    cannot be rebuilt or its digest is not the one stored (``sha256`` of the group, and of
    ``desc`` where it has one): the file was altered or damaged."""
    where = f"{path!r}: the mesh of '/problem/{MESH_GROUP}'"
    try:
        mesh = MeshDomain(_meshio_mesh(stored), names=desc.get("names"))
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise FormatError(f"{where} cannot be rebuilt ({exc}): the file is damaged") from None
    said = [stored["sha256"]] + ([desc["sha256"]] if "sha256" in desc else [])
    if any(s != mesh.digest for s in said):
        raise FormatError(
            f"{where} does not match its digest (its cells and boundary parts hash to "
            f"{mesh.digest}, the file says {brief(said, 160)}): the file was altered or damaged "
            "since it was written"
        )
    if isinstance(desc.get("source"), str):
        mesh.source = desc["source"]
    return mesh


def _meshio_mesh(stored: Mapping[str, Any]) -> Any:
    """A ``meshio.Mesh`` of the stored arrays: the cells, and the boundary facets tagged with
    their part (gmsh physical tags named by ``field_data``), as :class:`MeshDomain` reads them."""
    import meshio

    cell_type, parts = stored["cell_type"], stored["parts"]
    if cell_type not in _FACET_TYPE:
        raise ValueError(f"cell_type must be 'triangle' or 'tetra', got {brief(cell_type, 80)}")
    if not isinstance(parts, list) or not all(isinstance(n, str) for n in parts):
        raise ValueError(f"parts must be a JSON list of names, got {brief(parts, 80)}")
    tags = np.asarray(stored["facet_parts"], dtype=np.int64)
    if tags.size and (tags.min() < 0 or tags.max() >= len(parts)):
        raise ValueError(f"facet_parts must index the {len(parts)} parts")
    d = 3 if cell_type == "tetra" else 2
    cells = np.asarray(stored["cells"], dtype=np.int64)
    facets = np.asarray(stored["facets"], dtype=np.int64)
    return meshio.Mesh(
        np.asarray(stored["points"], dtype=np.float64),
        [(cell_type, cells), (_FACET_TYPE[cell_type], facets)],
        cell_data={"gmsh:physical": [np.zeros(len(cells), dtype=np.int64), tags]},
        field_data={name: np.array([i, d - 1]) for i, name in enumerate(parts)},
    )
