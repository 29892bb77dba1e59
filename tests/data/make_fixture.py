"""Write ``solution_v1.h5``: a small solution file of format version 1, kept to test loading.

Run from the repository root: ``python tests/data/make_fixture.py``. Do not regenerate it when
the format changes: it stands for files users already have.
"""

from pathlib import Path

import neuralpde as npde
from neuralpde.problem_file import load_problem_file

root = Path(__file__).resolve().parents[2]
problem = load_problem_file(str(root / "problems" / "poisson2d_sine.py"))["problem"]
sol = npde.solve(
    problem,
    npde.Siren(width=8, depth=2, w0=1.0),
    npde.SobolSampler(n_interior=64, n_boundary=32),
    npde.Trainer(adam_steps=10, lbfgs_steps=10, progress=False),
)
sol.save(Path(__file__).parent / "solution_v1.h5", n=12)
