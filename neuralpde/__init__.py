"""neuralpde: partial differential equations solved by neural fields, with known error.

Define a :class:`Problem` (domain, equation, conditions), call :func:`solve`, evaluate or
:meth:`~neuralpde.solution.Solution.save` the result, and :func:`load` it anywhere.

The names below are imported on first use (PEP 562), so ``import neuralpde`` and
``neuralpde --version`` do not load PyTorch until something needs it.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from typing import TYPE_CHECKING, Any

from ._version import __version__

#: public name -> the module that defines it
_WHERE = {
    "solve": "api",
    "fit": "fitting",
    "ProblemWarning": "checks",
    **dict.fromkeys(
        ("Dirichlet", "Initial", "InitialVelocity", "Neumann", "Observations", "Periodic", "Robin"),
        "conditions",
    ),
    **dict.fromkeys(("Box", "Interval", "Rectangle", "SpaceTime"), "domains"),
    **dict.fromkeys(("Custom", "Equation", "Heat", "Helmholtz", "Poisson", "Wave"), "equations"),
    **dict.fromkeys(("MLP", "Siren"), "fields"),
    **dict.fromkeys(
        ("Ball", "Difference", "Disk", "Intersection", "MeshDomain", "Polygon", "Union"),
        "geometry",
    ),
    "GridData": "griddata",
    "Problem": "problem",
    **dict.fromkeys(("LatinHypercubeSampler", "SobolSampler", "UniformSampler"), "sampling"),
    **dict.fromkeys(
        ("ExtrapolationWarning", "NeuralField", "OutsideDomainWarning", "Solution", "load"),
        "solution",
    ),
    "Trainer": "training",
}

if TYPE_CHECKING:  # what static tools see; at run time each is imported on first use
    from . import operators, reference
    from .api import solve
    from .checks import ProblemWarning
    from .conditions import (
        Dirichlet,
        Initial,
        InitialVelocity,
        Neumann,
        Observations,
        Periodic,
        Robin,
    )
    from .domains import Box, Interval, Rectangle, SpaceTime
    from .equations import Custom, Equation, Heat, Helmholtz, Poisson, Wave
    from .fields import MLP, Siren
    from .fitting import fit
    from .geometry import Ball, Difference, Disk, Intersection, MeshDomain, Polygon, Union
    from .griddata import GridData
    from .problem import Problem
    from .sampling import LatinHypercubeSampler, SobolSampler, UniformSampler
    from .solution import ExtrapolationWarning, NeuralField, OutsideDomainWarning, Solution, load
    from .training import Trainer


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    elif not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}"):
        value = importlib.import_module(f"{__name__}.{name}")  # a submodule, as if imported
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


logging.getLogger("neuralpde").addHandler(logging.NullHandler())

__all__ = [
    "__version__",
    "operators",
    "reference",
    "solve",
    "fit",
    "load",
    "Problem",
    "Solution",
    "NeuralField",
    "ExtrapolationWarning",
    "OutsideDomainWarning",
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
