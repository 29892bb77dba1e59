r"""Checks run before training, each message naming the fix.

* every boundary part is covered by a boundary condition (a warning where not: the solution is
  not determined there);
* user callables (condition data, coefficients, the exact solution) return one finite value per
  point, probed on a few points;
* a pure-Neumann Poisson problem satisfies the compatibility condition
  :math:`\int_\Omega f\,dx + \oint_{\partial\Omega} g\,ds = 0` (from
  :math:`-\oint \partial_n u = \int f`), estimated by quasi-Monte Carlo, and is warned about its
  free additive constant.

Initial conditions against the equation's time order and boundary part names are checked when
the :class:`~neuralpde.Problem` is built.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy.stats import qmc

from .coefficients import evaluate
from .conditions import BoundaryCondition, Neumann, Observations, Periodic
from .domains import SpaceTime
from .equations import Heat, Poisson
from .operators import FieldValues
from .problem import Problem

__all__ = ["ProblemWarning", "check_problem"]


class ProblemWarning(UserWarning):
    """A problem that can be solved but is probably not what was meant."""


def _unit(n: int, d: int, seed: int) -> np.ndarray:
    return qmc.Sobol(d, scramble=True, seed=seed).random(n)


def check_problem(problem: Problem, n_probe: int = 1024, seed: int = 0) -> None:
    """Run the checks on ``problem``; raise ``ValueError`` on errors, warn on doubts."""
    domain = problem.domain
    d = domain.dim
    parts = domain.boundary_parts
    covered: dict[str, set[str]] = {p: set() for p in parts}
    for c in problem.conditions:
        if isinstance(c, BoundaryCondition):
            for p in c.on or parts:
                covered[p].add(type(c).__name__)
        if isinstance(c, Periodic):
            covered[c.part_a].add("Periodic")
            covered[c.part_b].add("Periodic")
    empty = set(domain.empty_parts)  # nothing to impose on a part with no boundary points
    bare = [p for p, kinds in covered.items() if not kinds and p not in empty]
    if bare:
        warnings.warn(
            f"problem {problem.name!r}: boundary part(s) {bare} have no boundary condition, so "
            "the solution is not determined there; add e.g. Dirichlet(..., on=[...]) or "
            "Neumann(..., on=[...])",
            ProblemWarning,
            stacklevel=3,
        )

    # Probe every callable on a few points, so that a shape or NaN error surfaces now.
    x_in = torch.as_tensor(domain.interior(_unit(n_probe, d, seed)), dtype=torch.float64)
    boundary = domain.boundary(_unit(n_probe, d, seed + 1))
    x_b = torch.as_tensor(boundary.points, dtype=torch.float64)
    for i, c in enumerate(problem.conditions):
        if isinstance(c, (Periodic, Observations)):
            continue  # no user callables
        pts = x_b
        if not isinstance(c, BoundaryCondition):
            assert isinstance(domain, SpaceTime)
            pts = torch.as_tensor(domain.initial(_unit(64, d - 1, seed + 2)), dtype=torch.float64)
        evaluate(c.value, pts[:64], f"conditions[{i}] ({type(c).__name__}).value")
    if problem.exact is not None:
        evaluate(problem.exact, x_in[:64], "exact")
    xp = x_in[:64].clone().requires_grad_(True)
    probe = FieldValues((xp**2).sum(dim=1), xp, domain.names, problem.time_index)
    r = problem.residual(probe, xp)
    if not torch.is_tensor(r) or r.shape != (64,):
        got = tuple(r.shape) if torch.is_tensor(r) else type(r).__name__
        raise ValueError(f"the residual must return one value per point, (64,), got {got}")
    if not torch.isfinite(r).all():
        raise ValueError(
            "the residual is NaN or infinite at probe points inside the domain: check the "
            "equation's coefficients and source"
        )

    # A diffusivity that varies must stay positive: the forward heat equation is ill-posed
    # wherever it is negative.
    eq = problem.equation
    if isinstance(eq, Heat) and callable(eq.kappa):
        k = evaluate(eq.kappa, x_in, "Heat.kappa")
        if not bool((k > 0).all()):
            raise ValueError(
                f"problem {problem.name!r}: Heat.kappa must be positive in the domain, got "
                f"{float(k.min()):.4g} at probe points (the equation is ill-posed where it is not)"
            )

    # Pure-Neumann Poisson: compatibility and the free constant.
    kinds = set().union(*covered.values()) if covered else set()
    pure_neumann = kinds == {"Neumann"} and not bare
    if pure_neumann and isinstance(problem.equation, Poisson) and hasattr(domain, "measure"):
        f = evaluate(problem.equation.f, x_in, "Poisson.f").expand(len(x_in))
        f_int = domain.measure * float(f.mean())
        g = torch.zeros(len(x_b), dtype=torch.float64)
        tags = torch.as_tensor(boundary.tags)
        for c in problem.conditions:
            if isinstance(c, Neumann):
                wanted = [parts.index(p) for p in (c.on or parts)]
                on = torch.isin(tags, torch.as_tensor(wanted))
                g = g + on * evaluate(c.value, x_b, "Neumann.value")
        g_int = domain.boundary_measure * float(g.mean())
        # relative to the integrals of |f| and |g|, so that cancellation is judged fairly
        scale = domain.measure * float(f.abs().mean()) + domain.boundary_measure * float(
            g.abs().mean()
        )
        if abs(f_int + g_int) > 1e-2 * scale + 1e-12:
            raise ValueError(
                f"problem {problem.name!r} is pure Neumann but incompatible: ∫f dx = {f_int:.4g} "
                f"and ∮g ds = {g_int:.4g} should sum to 0 (-Δu = f integrates to -∮∂u/∂n = ∫f); "
                "change f or the Neumann data, or put a Dirichlet condition on some part"
            )
        warnings.warn(
            f"problem {problem.name!r} is pure Neumann: its solution is determined only up to "
            "an additive constant; add a Dirichlet condition on some part to fix it",
            ProblemWarning,
            stacklevel=3,
        )
