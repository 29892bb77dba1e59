"""The limits on sizes that neuralpde accepts, in one place.

Every constructor, :func:`~neuralpde.solve`, ``save``, ``load`` and command-line option checks
its arguments against these before it allocates or trains anything, and refuses a value beyond
them with a ``ValueError`` (``TypeError`` for a value of the wrong type; exit status 2 on the
command line) that names the parameter, what it takes and what it got. They are far above what
a run on one machine needs, and keep a typo (``width=10**6``, ``--levels 20``) from ending in an
out-of-memory error or an hours-long hang. See ``docs/limits.md``.
"""

from __future__ import annotations

import os

__all__ = [
    "MAX_WIDTH",
    "MAX_DEPTH",
    "MAX_IN_FEATURES",
    "MAX_PARAMETERS",
    "MAX_TERMS",
    "MAX_PIECES",
    "MAX_W0",
    "MAX_POINTS",
    "MAX_STEPS",
    "MAX_SECONDS",
    "MAX_GRID_NODES",
    "MAX_REFERENCE_LEVELS",
    "MAX_TIME_STEPS",
    "MAX_STORED_VALUES",
    "MAX_VERTICES",
    "MAX_CHILDREN",
    "MAX_CONDITIONS",
    "MAX_MESH_CELLS",
    "MAX_NAME_LENGTH",
    "THREADS_PER_CPU",
    "max_threads",
]

#: Neurons per hidden layer of a :class:`~neuralpde.Siren` or :class:`~neuralpde.MLP`.
MAX_WIDTH = 4096
#: Hidden layers of a field.
MAX_DEPTH = 64
#: Coordinates of a domain (space and time together), the inputs of a field.
MAX_IN_FEATURES = 32
#: Numbers in a field's state (weights, biases, input scaling, lift): 2**26, about 67 M.
MAX_PARAMETERS = 2**26
#: Terms of a Chebyshev lift, and boundary pieces of a hard constraint (stored architectures).
MAX_TERMS = 2**20
MAX_PIECES = 4096
#: The largest omega_0 of a SIREN layer.
MAX_W0 = 1e6
#: Points of one kind in a sampler (``n_interior``, ``n_boundary``, ``n_initial``), and
#: observation points: 2**24, about 16.8 M.
MAX_POINTS = 2**24
#: Optimizer steps of a phase or a whole budget, and ``resample_every``.
MAX_STEPS = 10**9
#: A wall-time budget in seconds (about 116 days).
MAX_SECONDS = 1e7
#: Nodes of a grid: the finest grid of a finite-difference reference (space nodes, from ``n``,
#: ``levels``, ``ratio`` and the dimension) and the grid a solution is saved on.
MAX_GRID_NODES = 2**26
#: Levels of a finite-difference convergence study on the command line: beyond 25, even the
#: coarsest grid allowed (2 intervals, 1-D) refined by 2 has a finest grid over MAX_GRID_NODES.
MAX_REFERENCE_LEVELS = 25
#: Time steps of the finest level of a finite-difference reference.
MAX_TIME_STEPS = 2**24
#: Values a finite-difference reference keeps (finest space nodes x stored time levels).
MAX_STORED_VALUES = 2**28
#: Vertices of a :class:`~neuralpde.Polygon` (its simplicity test compares every pair of edges).
MAX_VERTICES = 2048
#: Domains combined by one :class:`~neuralpde.Union`, :class:`~neuralpde.Intersection` or
#: :class:`~neuralpde.Difference`.
MAX_CHILDREN = 64
#: Conditions of one :class:`~neuralpde.Problem`.
MAX_CONDITIONS = 1024
#: Cells of a :class:`~neuralpde.MeshDomain`: 2**22, about 4.2 M.
MAX_MESH_CELLS = 2**22
#: Characters of a problem's or a coordinate's name.
MAX_NAME_LENGTH = 256
#: CPU threads per core that ``--threads`` may ask for.
THREADS_PER_CPU = 4


def max_threads() -> int:
    """The most CPU threads a run may use: :data:`THREADS_PER_CPU` per CPU of this machine."""
    return THREADS_PER_CPU * (os.cpu_count() or 1)
