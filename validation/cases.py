"""The validation cases: catalog problems, each with the tolerance its solution must meet.

Tolerances are relative L2 errors. They guard what the default settings reach today, so that a
regression fails: about 10 times the median error over seeds 0-2 in ``benchmarks/RESULTS.md``,
rounded up to 1, 2 or 5 times a power of ten (V4, whose defaults are far from the project's
target, 3 times). B1-B4 (exact solutions), V1-V4 (no closed form, checked against
finite-difference references) and G1-G6 (other domains and boundary conditions, with
manufactured solutions; the ids of ``benchmarks/accuracy.py --suite geometry``, whose target is
1e-5). Their finite-difference references
are second order (Shortley-Weller off a box) and far less accurate than the solutions: the
comparison with the reference is judged to within its own error (see ``validation/run.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    id: str
    name: str  # the problem file problems/<name>.py
    tol: float
    exact: bool  # whether the problem has an exact solution


CASES = (
    Case("B1", "poisson2d_sine", 5e-7, True),  # measured 4.4e-8 (9.4e-9 to 4.5e-8)
    Case("B2", "helmholtz2d", 5e-5, True),  # 4.9e-6 (3.0e-6 to 5.4e-6)
    Case("B3", "heat2d", 2e-5, True),  # 1.5e-6 (1.3e-6 to 1.5e-6)
    Case("B4", "wave1d", 5e-4, True),  # 3.7e-5 (3.2e-5 to 8.2e-5)
    Case("V1", "poisson2d_bumps", 5e-5, False),  # 4.7e-6 (2.4e-6 to 1.0e-5)
    Case("V2", "helmholtz2d_source", 1e-3, False),  # 6.2e-5 (3.1e-5 to 7.6e-5)
    Case("V3", "heat2d_varcoef", 5e-3, False),  # 2.5e-4 (1.8e-4 to 3.1e-4)
    Case("V4", "wave2d_pulse", 0.1, False),  # 2.2e-2 (1.9e-2 to 3.4e-2)
    Case("G1", "neumann_square", 5e-10, True),  # measured 3.1e-11 (2.2e-11 to 9.8e-11)
    Case("G2", "robin_square", 5e-6, True),  # 4.4e-7 (1.0e-7 to 9.0e-7)
    Case("G3", "poisson_disk", 1e-6, True),  # 6.0e-8 (1.7e-8 to 1.3e-7)
    Case("G4", "poisson_lshape", 1e-8, True),  # 9.5e-10 (2.1e-10 to 1.5e-9)
    Case("G5", "poisson_holes", 5e-8, True),  # 3.0e-9 (3.0e-9 to 9.6e-9)
    Case("G6", "poisson_mesh", 5e-5, True),  # 4.2e-6 (2.4e-6 to 1.2e-5)
)
