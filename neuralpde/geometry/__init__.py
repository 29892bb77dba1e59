r"""More domains: disks and balls, polygons, meshes and constructive solid geometry (CSG).

Every type here implements the :class:`~neuralpde.domains.Domain` interface (unit-cube points
mapped onto the interior and the boundary, outward normals, named boundary parts) and adds

* :meth:`distance`: the distance to the boundary, positive inside and negative outside (exact for
  :class:`Ball`, :class:`Disk`, :class:`Polygon` and :class:`MeshDomain`; for CSG a min/max
  combination of the children's distances, exact in sign and zero set, approximate in size);
* :attr:`measure` and :attr:`boundary_measure`: volume (area) and boundary measure (perimeter).

CSG domains (:class:`Union`, :class:`Intersection`, :class:`Difference`) draw interior points
by rejection from their bounding box and boundary points by rejection from their children's
boundaries; their measures are quasi-Monte Carlo estimates (:data:`MC_POINTS` scrambled Sobol
points with a fixed seed, relative error about 1e-3 or better). Importing this package (done by
``import neuralpde``) also gives every :class:`~neuralpde.domains.Domain` the operators
``a | b`` (union), ``a & b`` (intersection) and ``a - b`` (difference).

``contains`` counts points within rounding (1e-12 of the domain's size) of the boundary as
inside. Cost: polygon queries and mesh distances are vectorised over points and loop over edges
(facets), O(points x boundary facets); mesh ``contains`` looks up the cells near each point, about
O(points x log cells).

The package's modules: :mod:`~neuralpde.geometry.balls` (:class:`Ball`, :class:`Disk`),
:mod:`~neuralpde.geometry.polygons` (:class:`Polygon`), :mod:`~neuralpde.geometry.csg`
(:class:`Union`, :class:`Intersection`, :class:`Difference`, the operators),
:mod:`~neuralpde.geometry.meshes` (:class:`MeshDomain`) and :mod:`~neuralpde.geometry.common`
(:func:`distance_to_boundary`, the helpers they share).
"""

from __future__ import annotations

from .balls import Ball, Disk
from .common import distance_to_boundary
from .csg import MC_POINTS, Difference, Intersection, Union
from .meshes import MeshDomain
from .polygons import Polygon

__all__ = [
    "Ball",
    "Disk",
    "Polygon",
    "MeshDomain",
    "Union",
    "Intersection",
    "Difference",
    "distance_to_boundary",
    "MC_POINTS",
]
