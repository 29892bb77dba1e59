"""neuralpde: partial differential equations solved by neural fields, with known error.

Define a :class:`Problem` (domain, equation, conditions), call :func:`solve`, evaluate or
:meth:`~neuralpde.solution.Solution.save` the result, and :func:`load` it anywhere.
"""

from __future__ import annotations

import logging

from . import operators, reference  # noqa: E402
from ._version import __version__
from .api import solve  # noqa: E402
from .checks import ProblemWarning  # noqa: E402
from .conditions import (  # noqa: E402
    Dirichlet,
    Initial,
    InitialVelocity,
    Neumann,
    Observations,
    Periodic,
    Robin,
)
from .domains import Box, Interval, Rectangle, SpaceTime  # noqa: E402
from .equations import Custom, Equation, Heat, Helmholtz, Poisson, Wave  # noqa: E402
from .fields import MLP, Siren  # noqa: E402
from .geometry import (  # noqa: E402
    Ball,
    Difference,
    Disk,
    Intersection,
    MeshDomain,
    Polygon,
    Union,
)
from .griddata import GridData  # noqa: E402
from .problem import Problem  # noqa: E402
from .sampling import LatinHypercubeSampler, SobolSampler, UniformSampler  # noqa: E402
from .solution import ExtrapolationWarning, NeuralField, Solution, load  # noqa: E402
from .training import Trainer  # noqa: E402

logging.getLogger("neuralpde").addHandler(logging.NullHandler())

__all__ = [
    "__version__",
    "operators",
    "reference",
    "solve",
    "load",
    "Problem",
    "Solution",
    "NeuralField",
    "ExtrapolationWarning",
    "ProblemWarning",
    "Box",
    "Interval",
    "Rectangle",
    "SpaceTime",
    "Disk",
    "Ball",
    "Polygon",
    "MeshDomain",
    "Union",
    "Intersection",
    "Difference",
    "Dirichlet",
    "Neumann",
    "Robin",
    "Periodic",
    "Observations",
    "Initial",
    "InitialVelocity",
    "Equation",
    "Custom",
    "Poisson",
    "Helmholtz",
    "Heat",
    "Wave",
    "Siren",
    "GridData",
    "MLP",
    "Trainer",
    "SobolSampler",
    "UniformSampler",
    "LatinHypercubeSampler",
]
