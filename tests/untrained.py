"""Solutions and meshes built in code for tests: an untrained field of a problem, ready to save,
and the Kuhn triangulation of the unit cube."""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch

import neuralpde as npde
from neuralpde.fields import build_field
from neuralpde.solution import Solution
from neuralpde.training import TrainResult
from neuralpde.training.status import Status


def untrained_solution(problem: npde.Problem, net: torch.nn.Module | None = None) -> Solution:
    """``problem`` with a field that was not trained: ``net``, or a random SIREN 8x1 seeded by 0,
    under the architecture of a SIREN over the domain's bounding box."""
    lo, hi = problem.domain.bounds
    architecture = {
        "field": npde.Siren(width=8, depth=1).describe(),
        "in_features": len(lo),
        "input_scaling": {"lower": np.asarray(lo).tolist(), "upper": np.asarray(hi).tolist()},
    }
    if net is None:
        torch.manual_seed(0)
        net = build_field(architecture).double()
    history = {"step": [1], "time": [0.0], "loss": [1.0], "monitor": [math.nan], "phase": ["adam"]}
    result = TrainResult(Status.STEP_BUDGET, "all steps done", 1, history)
    return Solution(problem, net, architecture, result, seed=0, settings={})


def kuhn_cube() -> tuple[np.ndarray, np.ndarray]:
    """The unit cube in 48 tetrahedra (Kuhn triangulation of 2^3 sub-cubes): points ``(27, 3)``
    and tetrahedra ``(48, 4)``."""
    g = np.linspace(0.0, 1.0, 3)
    pts = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    tets = []
    for corner in itertools.product(range(2), repeat=3):
        for perm in itertools.permutations(range(3)):
            c = list(corner)
            path = [(c[0] * 3 + c[1]) * 3 + c[2]]
            for axis in perm:
                c[axis] += 1
                path.append((c[0] * 3 + c[1]) * 3 + c[2])
            tets.append(path)
    return pts, np.array(tets)
