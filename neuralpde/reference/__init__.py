r"""Classical finite-difference reference solutions whose own error is known.

They consume the same :class:`~neuralpde.Problem` as the neural solver: Poisson and Helmholtz on a
``Box`` (1-D, 2-D, 3-D), heat and wave on ``SpaceTime(Box, t_span)``, a ``Dirichlet``, a
``Neumann`` or a ``Robin`` condition (:math:`a u + b\,\partial u/\partial n = g`) on every face
(one kind per face; Dirichlet wins on shared edges and corners), ``Initial`` and
``InitialVelocity`` data. All four also on a ``Disk``, ``Ball``,
``Polygon``, CSG (``Union``, ``Intersection``, ``Difference``) or ``MeshDomain`` (heat and wave
on ``SpaceTime`` of one) with a Dirichlet, Neumann or Robin condition on every boundary part
(:mod:`.irregular`: second order on the bounding box's grid, the Shortley–Weller scheme at
Dirichlet parts and ghost nodes closed by least-squares fits at Neumann and Robin parts; NaN at
the nodes outside the domain).

* :func:`solve_fd` solves on one uniform grid: second-order central differences, or the compact
  fourth-order Mehrstellen scheme for steady problems with Dirichlet faces only; Crank–Nicolson
  for heat; leapfrog for wave. Neumann and Robin faces are second order (ghost nodes eliminated
  by the centred normal difference, :math:`u_{\mathrm{ghost}} = u_{\mathrm{mirror}} + 2h(g -
  a u)/b`; :mod:`._faces`); with every face a pure flux (Neumann, or Robin with :math:`a = 0`),
  Poisson's data must be compatible (:math:`\int f + \oint g = 0`, checked) and the zero-mean
  solution is returned. Heat in divergence form with a varying ``kappa`` takes Dirichlet faces
  only.
* :class:`Study` holds a convergence study's settings (``n``, ``levels``, ``ratio``, ``order``,
  ``dt``, ``time_samples``, ``method``, ``extrapolate``), each checked once, when it is made;
  ``Study(n=32, levels=3, order=4).run(problem)`` is ``convergence_study(problem, n=32,
  levels=3, order=4)``, and a problem file sets one as its ``reference``.
* :func:`convergence_study` solves on three or more nested grids and returns the finest solution
  (for evolution problems at the coarsest level's time levels, or ``time_samples`` of them)
  with its observed order of convergence, a Richardson estimate of its error and the
  grid-convergence index (:class:`ReferenceSolution`); with ``extrapolate=True`` (four or more
  grids) it returns the Richardson extrapolation of the two finest, with the error estimated
  from the sequence of extrapolations.
* :func:`fem_reference` (:mod:`.fem`, optional: needs scikit-fem, ``pip install
  "neuralpde[fem]"``) is offered beside them on a ``MeshDomain``: Poisson and Helmholtz with
  Dirichlet, Neumann and Robin parts by P2 finite elements on the user's own mesh and two or
  more uniform refinements, its error estimated from them as a study's is (formal order 3 in
  :math:`L^2`), sampled on a grid of the mesh's bounding box (:class:`FEMReference`, a
  :class:`ReferenceSolution`).
* :func:`save_reference` and :func:`load_reference` store it in an HDF5 reference file (the same
  grid layout as solution files, plus the convergence table and a checksum of the inputs);
  :func:`nodes_inside` tells the nodes inside a described domain (where a reference on a domain
  that is not a box has values).

NumPy and SciPy only (sparse assembly, SuperLU, type-I sine transforms for all-Dirichlet
constant-coefficient problems); coefficient callables are evaluated through
:func:`neuralpde.coefficients.evaluate` on float64 points.
"""

from __future__ import annotations

from .api import Study, convergence_study, solve_fd
from .fem import FEMReference, fem_reference
from .files import (
    SavedReference,
    load_reference,
    reference_checksum,
    reference_settings,
    save_reference,
)
from .irregular import nodes_inside
from .solution import ExtrapolatedResult, FDSolution, LevelResult, ReferenceSolution
from .steady import ResonanceWarning

__all__ = [
    "solve_fd",
    "Study",
    "convergence_study",
    "fem_reference",
    "FEMReference",
    "FDSolution",
    "ReferenceSolution",
    "LevelResult",
    "ExtrapolatedResult",
    "ResonanceWarning",
    "SavedReference",
    "save_reference",
    "load_reference",
    "reference_settings",
    "reference_checksum",
    "nodes_inside",
]
