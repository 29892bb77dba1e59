"""The validation cases: catalog problems, each with the tolerance its solution must meet.

Tolerances are relative L2 errors. For B1-B4 they are the accuracy targets of the default
settings; for V1-V4 (no closed form, checked against finite-difference references) they guard
the accuracy the default settings reach today, with a margin, so that a regression fails.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    id: str
    name: str
    tol: float
    exact: bool


CASES = (
    Case("B1", "poisson2d_sine", 1e-3, True),
    Case("B2", "helmholtz2d", 1e-2, True),
    Case("B3", "heat2d", 1e-2, True),
    Case("B4", "wave1d", 5e-2, True),
    Case("V1", "poisson2d_bumps", 0.1, False),
    Case("V2", "helmholtz2d_source", 0.3, False),
    Case("V3", "heat2d_varcoef", 1e-2, False),
    Case("V4", "wave2d_pulse", 0.2, False),
)
