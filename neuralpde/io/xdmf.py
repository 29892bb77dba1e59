"""XDMF sidecars: a small XML file beside a solution or reference file (``u.xdmf`` beside
``u.h5``) that describes its grid to XDMF readers (ParaView, VisIt), which then read the values
from the HDF5 file itself.

The grid is a rectilinear mesh (``2DRectMesh`` or ``3DRectMesh``) on the stored coordinate
arrays (geometry ``VXVY`` or ``VXVYVZ``: the first space coordinate is the readers' X); a 1-D
grid is a ``2DRectMesh`` one node high, at Y = 0. The gridded datasets (``/u``, ``/exact``) are
node-centred scalar attributes. An evolution problem's grid is a temporal collection: one grid
per time sample, at its time, whose attributes are the samples' slices of the datasets
(``HyperSlab`` items). Grids of more than three space dimensions have no XDMF description and
get no sidecar.

A rectilinear mesh is used even when the coordinates are evenly spaced: ParaView's XDMF 3
reader puts a 2-D ``CoRectMesh`` in the Y-Z plane, and the stored coordinates are exact where an
origin and a spacing are recomputed.

The sidecar is written after the HDF5 file is complete, to a temporary file renamed into place
(:func:`~neuralpde.io.atomic.replace_atomically`). It is a view for other programs: neuralpde
never reads it, and a failure to write it is logged (``neuralpde.io`` logger), not raised, since
the HDF5 file it describes was written.
"""

from __future__ import annotations

import logging
import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ._common import file_mode
from .atomic import replace_atomically

__all__ = ["SUFFIX", "sidecar_path", "xdmf_text", "write_sidecar"]

log = logging.getLogger("neuralpde.io")

SUFFIX = ".xdmf"
#: Space dimensions an XDMF structured mesh describes.
MAX_SPACE_DIMS = 3


def sidecar_path(path: str | os.PathLike) -> Path:
    """The sidecar of the HDF5 file ``path``: its name with the suffix ``.xdmf`` (``u.h5`` ->
    ``u.xdmf``), or ``.xdmf`` added where that would be ``path`` itself."""
    p = Path(path)
    side = p.with_suffix(SUFFIX) if p.suffix else p.with_name(p.name + SUFFIX)
    return p.with_name(p.name + SUFFIX) if side.name == p.name else side


def _item(parent: ET.Element, text: str, dims: Sequence[int], kind: str = "Float") -> None:
    """A data item of ``dims``: HDF5 (``text`` is ``file:/path``) or, for integers, XML."""
    attrs = {"Dimensions": _dims(dims)}
    if kind == "Float":
        attrs.update(NumberType="Float", Precision="8", Format="HDF")
    else:
        attrs.update(NumberType="Int", Precision="8", Format="XML")
    ET.SubElement(parent, "DataItem", attrs).text = text


def _dims(values: Sequence[int]) -> str:
    return " ".join(str(int(v)) for v in values)


def _mesh(grid: ET.Element, h5name: str, space: Sequence[str], counts: Sequence[int]) -> None:
    """The topology and geometry of the rectilinear mesh of the ``space`` coordinates, of
    ``counts`` nodes (slowest first: Z, Y, X, the stored order; one Y node for a 1-D grid)."""
    ET.SubElement(
        grid,
        "Topology",
        TopologyType=f"{len(counts)}DRectMesh",
        Dimensions=_dims(counts),
    )
    kind = "VXVYVZ" if len(counts) == 3 else "VXVY"
    geometry = ET.SubElement(grid, "Geometry", GeometryType=kind)
    for n, size in zip(space, reversed(counts), strict=False):
        _item(geometry, f"{h5name}:/{n}", [size])
    if len(space) == 1:  # the readers' Y: one node, at 0
        ET.SubElement(
            geometry, "DataItem", Dimensions="1", NumberType="Float", Precision="8", Format="XML"
        ).text = "0"


def _attribute(
    grid: ET.Element,
    reference: str,
    counts: Sequence[int],
    stored: Sequence[int],
    sample: int | None,
) -> None:
    """A node-centred scalar on the mesh of ``counts`` nodes: the HDF5 dataset ``reference``
    (of shape ``stored``), or its time ``sample`` (the first axis). A slice, or a 1-D grid
    (whose mesh has a Y axis of one node), is a ``HyperSlab`` of the dataset, of the mesh's
    shape: the dataset itself is always declared with its own shape."""
    attribute = ET.SubElement(grid, "Attribute", Name=reference.rsplit("/", 1)[-1])
    attribute.attrib.update(AttributeType="Scalar", Center="Node")
    if sample is None and len(stored) == len(counts):
        _item(attribute, reference, stored)
        return
    slab = ET.SubElement(
        attribute, "DataItem", ItemType="HyperSlab", Type="HyperSlab", Dimensions=_dims(counts)
    )
    rank = len(stored)
    first = [] if sample is None else [sample]
    start = first + [0] * (rank - len(first))
    count = [1] * len(first) + list(stored[len(first) :])
    _item(slab, _dims(start + [1] * rank + count), [3, rank], "Int")
    _item(slab, reference, stored)


def xdmf_text(
    h5name: str,
    coords: Mapping[str, np.ndarray],
    datasets: Sequence[str],
    time: bool,
) -> bytes | None:
    """The XDMF document (UTF-8) describing the grid of the HDF5 file named ``h5name`` (in the
    same folder): its ``coords`` (name -> values, in the coordinates' order, time last when
    ``time``) and the gridded ``datasets`` on them, stored in CF order (time first, then the
    space axes last to first). ``None`` for more than three space dimensions."""
    names = list(coords)
    space = names[:-1] if time else names
    if not 1 <= len(space) <= MAX_SPACE_DIMS:
        return None
    sizes = {n: len(coords[n]) for n in names}
    stored = [sizes[n] for n in reversed(names)]
    counts = [sizes[n] for n in reversed(space)]
    if len(space) == 1:
        counts = [1, *counts]
    root = ET.Element("Xdmf", Version="3.0")
    root.append(ET.Comment(" written by neuralpde: the grid of the HDF5 file it names "))
    domain = ET.SubElement(root, "Domain")
    name = Path(h5name).stem
    if not time:
        grid = ET.SubElement(domain, "Grid", Name=name, GridType="Uniform")
        _mesh(grid, h5name, space, counts)
        for key in datasets:
            _attribute(grid, f"{h5name}:/{key}", counts, stored, None)
    else:
        series = ET.SubElement(
            domain, "Grid", Name=name, GridType="Collection", CollectionType="Temporal"
        )
        for k, value in enumerate(np.asarray(coords[names[-1]], dtype=np.float64).tolist()):
            grid = ET.SubElement(series, "Grid", Name=f"{names[-1]}={value!r}", GridType="Uniform")
            ET.SubElement(grid, "Time", Value=repr(value))
            _mesh(grid, h5name, space, counts)
            for key in datasets:
                _attribute(grid, f"{h5name}:/{key}", counts, stored, k)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def write_sidecar(
    path: str | os.PathLike,
    coords: Mapping[str, np.ndarray],
    datasets: Sequence[str],
    time: bool,
) -> Path | None:
    """Write the XDMF sidecar of the HDF5 file ``path`` (:func:`sidecar_path`) atomically;
    returns its path, or ``None`` when it was not written: a grid XDMF cannot describe, a file
    name XDMF cannot refer to (one holding ``:`` or control characters), or a failure to write,
    logged as a warning."""
    p = Path(path)
    target = sidecar_path(p)
    if ":" in p.name or any(ord(c) < 32 for c in p.name):
        log.warning(
            "no XDMF sidecar for %r: XDMF cannot refer to a file name holding ':' or control "
            "characters",
            str(p),
        )
        return None
    try:
        text = xdmf_text(p.name, coords, datasets, time)
        if text is None:
            log.info(
                "no XDMF sidecar for %r: XDMF describes grids of 1 to %d space dimensions",
                str(p),
                MAX_SPACE_DIMS,
            )
            return None
        replace_atomically(target, lambda fh: fh.write(text), file_mode(target))
    except (OSError, ValueError) as exc:  # UnicodeError included: a name XML cannot hold
        log.warning("could not write the XDMF sidecar %r of %r: %s", str(target), str(p), exc)
        return None
    return target
