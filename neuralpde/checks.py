r"""Checks run before training, each message naming the fix.

* every boundary part is covered by a boundary condition (a warning where not: the solution is
  not determined there), and by only one (a warning where two conditions share a part; for a
  :class:`~neuralpde.Custom` equation only where they are of one kind, since a higher-order
  equation may need u and its normal derivative on one part);
* the residual's time derivatives agree with its equation's ``time_order`` (a ``ValueError``
  where not; with observations a lower ``time_order`` is accepted);
* user callables (condition data, coefficients, the exact solution) return one finite value per
  point, probed on a few points;
* a Poisson problem with only Neumann and periodic conditions satisfies the compatibility
  condition :math:`\int_\Omega f\,dx + \oint_{\partial\Omega} g\,ds = 0` (from
  :math:`-\oint \partial_n u = \int f`; periodic faces cancel), estimated by quasi-Monte Carlo,
  and is warned about its free additive constant (unless observations fix it).

Initial conditions against the equation's time order and boundary part names are checked when
the :class:`~neuralpde.Problem` is built. What each condition holds, constrains and prescribes is
asked of it (:mod:`neuralpde.conditions`), so no condition class is named here but those the
time-order messages name.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy.stats import qmc

from .coefficients import evaluate
from .conditions import Condition, Initial, InitialVelocity
from .domains import SpaceTime
from .engine import DerivativePlan, derivative_plan
from .equations import Custom, Heat, Poisson
from .operators import FieldValues, residual_values
from .problem import Problem

__all__ = ["ProblemWarning", "check_problem", "check_time_order"]


class ProblemWarning(UserWarning):
    """A problem that can be solved but is probably not what was meant."""


def _unit(n: int, d: int, seed: int) -> np.ndarray:
    return qmc.Sobol(d, scramble=True, seed=seed).random(n)


def _label(i: int, c: Condition) -> str:
    """``conditions[i] Dirichlet(0.0)``, with a function's value shown as ``<function>``."""
    return f"conditions[{i}] {c.summary()}"


def _warn_overlaps(problem: Problem, holders: dict[str, list[int]]) -> None:
    """Warn once for each pair of conditions that both hold on some boundary part: two of one
    kind always; two of different kinds (Dirichlet and Neumann, say) unless the equation is a
    :class:`~neuralpde.equations.Custom` one, whose order may need both (a clamped plate)."""
    shared: dict[tuple[int, int], list[str]] = {}
    for part, held in holders.items():
        for k, i in enumerate(held):
            for j in held[k + 1 :]:
                if i != j:
                    shared.setdefault((i, j), []).append(part)
    custom = isinstance(problem.equation, Custom)
    for (i, j), where in sorted(shared.items()):
        a, b = problem.conditions[i], problem.conditions[j]
        if custom and type(a) is not type(b):
            continue
        warnings.warn(
            f"problem {problem.name!r}: boundary part(s) {where} have two conditions, "
            f"{_label(i, a)} and {_label(j, b)}; training settles on a compromise between them, "
            "so give each part one condition, e.g. by naming the parts with on=[...]",
            ProblemWarning,
            stacklevel=4,
        )


def _coverage(problem: Problem) -> dict[str, list[int]]:
    """The indices of the conditions that hold on each boundary part."""
    parts = problem.domain.boundary_parts
    holders: dict[str, list[int]] = {p: [] for p in parts}
    for i, c in enumerate(problem.conditions):
        for p in c.holds_on(parts):
            holders[p].append(i)
    return holders


def _warn_bare(problem: Problem, holders: dict[str, list[int]]) -> list[str]:
    """Warn about the boundary parts with no condition (parts with no boundary points aside,
    there is nothing to impose on them) and return them."""
    empty = set(problem.domain.empty_parts)
    bare = [p for p, held in holders.items() if not held and p not in empty]
    if bare:
        warnings.warn(
            f"problem {problem.name!r}: boundary part(s) {bare} have no boundary condition, so "
            "the solution is not determined there; add e.g. Dirichlet(..., on=[...]) or "
            "Neumann(..., on=[...])",
            ProblemWarning,
            stacklevel=4,
        )
    return bare


def _probe_callables(problem: Problem, x_in: torch.Tensor, x_b: torch.Tensor, seed: int) -> None:
    """Evaluate the conditions' coefficients and the exact solution on a few points (interior
    ``x_in``; boundary ``x_b``; initial points drawn; a condition's own points), so that a shape
    or NaN error surfaces now."""
    domain = problem.domain
    for i, c in enumerate(problem.conditions):
        coefficients = c.coefficients()
        if not coefficients:
            continue  # no user callables (Periodic, Observations)
        if c.where == "initial":
            assert isinstance(domain, SpaceTime)
            unit = _unit(64, domain.dim - 1, seed + 2)
            pts = torch.as_tensor(domain.initial(unit), dtype=torch.float64)
        elif c.where == "points":
            pts = torch.as_tensor(c.points, dtype=torch.float64)
        else:
            pts = x_b
        for name, value in coefficients.items():
            evaluate(value, pts[:64], f"conditions[{i}] ({type(c).__name__}).{name}")
    if problem.exact is not None:
        evaluate(problem.exact, x_in[:64], "exact")


def _check_residual(problem: Problem, x_in: torch.Tensor) -> None:
    """Raise ``ValueError`` when the residual is not finite at the interior points ``x_in`` for
    both probe fields, or when its time derivatives disagree with the equation's time order."""
    # The residual of two smooth probe fields, |x|^2 and a small positive one: a residual that
    # is defined only for some values of u (sqrt(1 - u), log u) is judged on the field it takes.
    names, ti = problem.domain.names, problem.time_index
    xp = x_in[:64].clone().requires_grad_(True)
    fields = ((xp**2).sum(dim=1), 0.01 * torch.exp(0.1 * torch.sin(xp).sum(dim=1)))
    for u in fields:
        probe = FieldValues(u, xp, names, ti)
        if torch.isfinite(residual_values(problem.residual(probe, xp), 64)).all():
            break
    else:
        raise ValueError(
            "the residual is NaN or infinite at probe points inside the domain, for the probe "
            "fields u = |x|^2 and u = 0.01 exp(0.1 sum_i sin x_i): check the equation's "
            "coefficients and source"
        )
    check_time_order(problem, derivative_plan(problem.residual, x_in[:8], names, ti))


def _check_kappa(problem: Problem, x_in: torch.Tensor) -> None:
    """A diffusivity that varies must stay positive: the forward heat equation is ill-posed
    wherever it is negative."""
    eq = problem.equation
    if isinstance(eq, Heat) and callable(eq.kappa):
        k = evaluate(eq.kappa, x_in, "Heat.kappa")
        if not bool((k > 0).all()):
            raise ValueError(
                f"problem {problem.name!r}: Heat.kappa must be positive in the domain, got "
                f"{float(k.min()):.4g} at probe points (the equation is ill-posed where it is not)"
            )


def _flux_integrals(
    problem: Problem, x_in: torch.Tensor, x_b: torch.Tensor, tags: np.ndarray
) -> tuple[float, float, float]:
    """Quasi-Monte Carlo estimates of ∫f dx and ∮g ds (g the flux the conditions prescribe:
    Neumann data, a flux-only Robin condition's value / b) from interior points ``x_in`` and
    boundary points ``x_b`` (with their part ``tags``), and the scale to judge their sum by: the
    integrals of |f| and |g|."""
    domain, parts = problem.domain, problem.domain.boundary_parts
    f = evaluate(problem.equation.f, x_in, "Poisson.f").expand(len(x_in))
    f_int = domain.measure * float(f.mean())
    g = torch.zeros(len(x_b), dtype=torch.float64)
    tag = torch.as_tensor(tags)
    for c in problem.conditions:
        flux = c.flux(x_b)
        if flux is not None:
            wanted = [parts.index(p) for p in c.holds_on(parts)]
            on = torch.isin(tag, torch.as_tensor(wanted))
            g = g + on * flux
    g_int = domain.boundary_measure * float(g.mean())
    # relative to the integrals of |f| and |g|, so that cancellation is judged fairly
    scale = domain.measure * float(f.abs().mean()) + domain.boundary_measure * float(g.abs().mean())
    return f_int, g_int, scale


def _check_flux_only(
    problem: Problem,
    holders: dict[str, list[int]],
    bare: list[str],
    x_in: torch.Tensor,
    x_b: torch.Tensor,
    tags: np.ndarray,
) -> None:
    """Poisson whose boundary conditions pin no constant (Neumann, flux-only Robin and
    periodic ones): raise ``ValueError`` unless it satisfies the compatibility condition, warn
    about the free constant unless observations fix it. Periodic faces add no net flux (the
    outward normal derivatives on the two faces cancel)."""
    held = [problem.conditions[i] for i in sorted({i for on in holders.values() for i in on})]
    flux_only = bool(held) and not any(c.pins_constant for c in held) and not bare
    if not (
        flux_only and isinstance(problem.equation, Poisson) and hasattr(problem.domain, "measure")
    ):
        return
    # the conditions that pin nothing are periodic ones and Neumann ones (flux-only Robin)
    neumann = any(c.where != "pairs" for c in held)
    periodic = any(c.where == "pairs" for c in held)
    what = (
        "periodic with Neumann elsewhere"
        if neumann and periodic
        else "pure Neumann"
        if neumann
        else "fully periodic"
    )
    f_int, g_int, scale = _flux_integrals(problem, x_in, x_b, tags)
    if abs(f_int + g_int) > 1e-2 * scale + 1e-12:
        raise ValueError(
            f"problem {problem.name!r} is {what} but incompatible: ∫f dx = {f_int:.4g} "
            f"and ∮g ds = {g_int:.4g} should sum to 0 (-Δu = f integrates to -∮∂u/∂n = ∫f, "
            "and periodic faces contribute nothing); change f or the Neumann data, or put a "
            "Dirichlet condition on some part"
        )
    if not any(c.pins_constant for c in problem.conditions):  # off the boundary: observations
        fix = (
            "pin it with an Observations condition at a point"
            if not neumann
            else "pin it with an Observations condition at a point, or put a Dirichlet "
            "condition in place of the Neumann one on some part"
        )
        warnings.warn(
            f"problem {problem.name!r} is {what}: its solution is determined only up to "
            f"an additive constant; {fix} (validate compares such solutions with their "
            "means removed)",
            ProblemWarning,
            stacklevel=4,
        )


def check_problem(problem: Problem, n_probe: int = 1024, seed: int = 0) -> None:
    """Run the checks on ``problem``; raise ``ValueError`` on errors, warn on doubts."""
    domain = problem.domain
    d = domain.dim
    holders = _coverage(problem)
    _warn_overlaps(problem, holders)
    bare = _warn_bare(problem, holders)
    # Probe every callable on a few points, so that a shape or NaN error surfaces now.
    x_in = torch.as_tensor(domain.interior(_unit(n_probe, d, seed)), dtype=torch.float64)
    boundary = domain.boundary(_unit(n_probe, d, seed + 1))
    x_b = torch.as_tensor(boundary.points, dtype=torch.float64)
    _probe_callables(problem, x_in, x_b, seed)
    _check_residual(problem, x_in)
    _check_kappa(problem, x_in)
    _check_flux_only(problem, holders, bare, x_in, x_b, boundary.tags)


_TIME_DERIVATIVE = {0: "no time derivative", 1: "∂u/∂t (dt)", 2: "∂²u/∂t² (dtt)"}


def check_time_order(problem: Problem, plan: DerivativePlan) -> None:
    """Raise ``ValueError`` when the time derivatives ``problem``'s residual takes (``plan``, from
    :func:`~neuralpde.engine.derivative_plan`) disagree with its equation's ``time_order``,
    which decides the initial conditions the problem needs.

    A residual with ∂u/∂t under ``time_order=0`` has no initial data and is not determined (the
    network settles near zero); one without time derivatives under ``time_order >= 1`` is
    over-determined by its initial condition. Observations may stand in for initial data, so
    with them a ``time_order`` below the residual's is accepted. Nothing is checked on a steady
    domain, or where the plan does not know its time derivatives (``plan.time_order is None``).
    """
    used, declared = plan.time_order, problem.equation.time_order
    if problem.time_index is None or used is None or used == declared:
        return
    observed = any(c.where == "points" for c in problem.conditions)
    if used > declared and observed:
        return
    eq = problem.equation
    what = _TIME_DERIVATIVE.get(used, f"a time derivative of order {used}")
    setting = f"{type(eq).__name__}.time_order is {declared}"
    if used > 2:
        fix = "time_order can be 0, 1 or 2: write the equation with at most ∂²u/∂t²"
    elif used < declared:
        drop = [c.__name__ for c in (Initial, InitialVelocity)[used:declared]]
        fix = (
            f"give it time_order={used} and drop its {' and '.join(drop)} condition"
            f"{'s' if len(drop) > 1 else ''}, or add the time derivative of order {declared} "
            "it lacks"
        )
    else:
        have = {type(c) for c in problem.conditions}
        missing = [c.__name__ for c in (Initial, InitialVelocity)[:used] if c not in have]
        fix = (
            f"write it as npde.Custom(fn, time_order={used})"
            if isinstance(eq, Custom)
            else f"give the equation time_order={used}"
        )
        if missing:
            fix += " and add " + " and ".join(f"an {m} condition" for m in missing)
    raise ValueError(f"problem {problem.name!r}: the residual takes {what} but {setting}; {fix}")
