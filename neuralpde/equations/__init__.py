"""Equation families, one per file, each written as ``residual(u, x) = 0``."""

from .base import Equation
from .custom import Custom
from .heat import Heat
from .helmholtz import Helmholtz
from .poisson import Poisson
from .wave import Wave

__all__ = ["Equation", "Custom", "Heat", "Helmholtz", "Poisson", "Wave"]
