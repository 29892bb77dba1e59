"""A solved field written for other programs: its values (and gradients) at the nodes of a mesh,
on a uniform grid at any resolution, or at listed points.

* :func:`to_mesh`: values ``u`` and gradients ``grad_u`` (and ``du_dt`` in time) at the nodes of
  any mesh meshio reads, written in the format the output's suffix names (``.vtu``, ``.msh``,
  ``.xdmf``, ...); an evolution problem's field at one time, or at several as an XDMF time series.
* :func:`to_grid`: values on a uniform grid over the bounding box (and the time span) as a
  solution file (``.h5``), netCDF-4 (``.nc``) or VTK (``.vtk`` legacy structured points,
  ``.vti`` image data, ``.vtr`` rectilinear grid).
* :func:`to_points`: values (and gradients) at the rows of a CSV file or an array, as CSV.

Every point is evaluated once, values and gradients in one pass (:func:`evaluate`), in blocks;
points outside the field's domain (:meth:`~neuralpde.NeuralField.contains`) are NaN. An argument
that does not fit the field or the files is an :class:`ExportError` naming it. Files are written
to a temporary file beside the target and renamed into place (but for XDMF, whose data go to an
HDF5 file beside it).
"""

from __future__ import annotations

from ._common import MAX_TIMES as MAX_TIMES  # public, though not in __all__
from ._common import Exported, ExportError, parse_grid, parse_times
from ._common import log as log  # the logger "neuralpde.export"
from ._evaluate import Evaluation, evaluate
from ._grid import GRID_SUFFIXES, grid_axes, to_grid
from ._mesh import to_mesh
from ._points import POINTS_SUFFIXES, read_points, to_points

__all__ = [
    "GRID_SUFFIXES",
    "POINTS_SUFFIXES",
    "ExportError",
    "Exported",
    "Evaluation",
    "evaluate",
    "grid_axes",
    "parse_grid",
    "parse_times",
    "read_points",
    "to_grid",
    "to_mesh",
    "to_points",
]
