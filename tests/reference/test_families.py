"""The equation families of the finite-difference reference
(:mod:`neuralpde.reference.families`)."""

from __future__ import annotations

import torch

import neuralpde as npde
from neuralpde.reference import solve_fd

from .manufactured import (
    UNIT,
    heat_problem,
    helmholtz_problem,
    poisson_problem,
    smooth,
    wave_problem,
)

# -- the equation families -------------------------------------------------------------------------


def test_each_equation_class_has_one_family_whose_name_the_scheme_starts_with():
    """The families' names are what schemes, and so reference files, write: they must not
    change."""
    from neuralpde.reference.families import FAMILIES, family_of

    assert [(f.name, f.equation, f.time_order) for f in FAMILIES] == [
        ("poisson", npde.Poisson, 0),
        ("helmholtz", npde.Helmholtz, 0),
        ("heat", npde.Heat, 1),
        ("wave", npde.Wave, 2),
    ]
    problems = [
        poisson_problem(smooth(1), UNIT[1]),
        helmholtz_problem(smooth(1), UNIT[1], 2.0),
        heat_problem(lambda x: smooth(1)(x) * torch.exp(-x[:, 1]), UNIT[1], 1.0),
        wave_problem(lambda x: smooth(1)(x) * torch.cos(x[:, 1]), UNIT[1], 1.0),
    ]
    for family, problem in zip(FAMILIES, problems, strict=True):
        assert family_of(problem.equation) is family
        assert solve_fd(problem, 4).scheme.startswith(f"{family.name}: ")
    assert family_of(npde.Problem(UNIT[1], lambda u, x: u, [npde.Dirichlet(0.0)]).equation) is None
