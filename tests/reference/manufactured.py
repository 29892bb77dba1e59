"""Manufactured solutions for the finite-difference reference's tests: problems whose exact
solution is known, their errors and observed orders."""

from __future__ import annotations

import numpy as np
import torch

import neuralpde as npde
from neuralpde.reference import FDSolution, solve_fd

# -- manufactured solutions ------------------------------------------------------------------


def _d(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Gradient of ``y.sum()`` with respect to ``x``, zero where ``y`` does not depend on it."""
    if not y.requires_grad:
        return torch.zeros_like(x)
    g = torch.autograd.grad(y.sum(), x, create_graph=True, allow_unused=True)[0]
    return torch.zeros_like(x) if g is None else g


def _derivatives(fn, x: torch.Tensor, d: int):
    """``u``, the space gradient, the Laplacian and the first two time derivatives of ``fn`` at
    ``x`` (space columns ``0..d-1``, then time), by automatic differentiation."""
    with torch.enable_grad():
        x = x.detach().clone().requires_grad_(True)
        u = fn(x)
        g = _d(u, x)
        lap = sum(_d(g[:, i], x)[:, i] for i in range(d))
        ut = g[:, d] if x.shape[1] > d else None
        utt = _d(ut, x)[:, d] if ut is not None else None
    out = (u, g[:, :d], lap, ut, utt)
    return tuple(None if v is None else v.detach() for v in out)


def smooth(d: int):
    """A non-polynomial solution ``sin(a.x + 0.4) exp(b.x)`` with non-zero boundary values."""
    a = torch.tensor([1.7, -1.1, 0.9][:d], dtype=torch.float64)
    b = torch.tensor([0.6, 0.3, -0.5][:d], dtype=torch.float64)

    def u(x):
        return torch.sin(x[:, :d] @ a + 0.4) * torch.exp(x[:, :d] @ b)

    return u


def poisson_problem(exact, box: npde.Box) -> npde.Problem:
    d = box.dim
    return npde.Problem(
        box,
        npde.Poisson(lambda x: -_derivatives(exact, x, d)[2]),
        [npde.Dirichlet(exact)],
        exact=exact,
    )


def helmholtz_problem(exact, box: npde.Box, k) -> npde.Problem:
    d = box.dim

    def f(x):
        u, _, lap, _, _ = _derivatives(exact, x, d)
        kk = k(x) if callable(k) else k
        return lap + kk**2 * u

    return npde.Problem(box, npde.Helmholtz(k=k, f=f), [npde.Dirichlet(exact)], exact=exact)


def heat_problem(exact, space: npde.Box, kappa, t_span=(0.0, 1.0), equation=npde.Heat):
    d = space.dim
    divergence = getattr(equation, "divergence_form", False)

    def f(x):
        u, grad, lap, ut, _ = _derivatives(exact, x, d)
        if not callable(kappa):
            return ut - kappa * lap
        kap, gk = _derivatives(kappa, x, d)[:2]
        return ut - kap * lap - (gk * grad).sum(dim=1) * divergence

    return npde.Problem(
        npde.SpaceTime(space, t_span),
        equation(kappa=kappa, f=f),
        [npde.Dirichlet(exact), npde.Initial(exact)],
        exact=exact,
    )


def wave_problem(exact, space: npde.Box, c, t_span=(0.0, 1.0)):
    d = space.dim

    def f(x):
        _, _, lap, _, utt = _derivatives(exact, x, d)
        cc = c(x) if callable(c) else c
        return utt - cc**2 * lap

    def v0(x):
        return _derivatives(exact, x, d)[3]

    return npde.Problem(
        npde.SpaceTime(space, t_span),
        npde.Wave(c=c, f=f),
        [npde.Dirichlet(exact), npde.Initial(exact), npde.InitialVelocity(v0)],
        exact=exact,
    )


def max_error(sol: FDSolution, problem: npde.Problem) -> float:
    return float(np.max(np.abs(sol.values.ravel() - problem.exact_values(sol.points()))))


def rel_l2_error(sol: FDSolution, problem: npde.Problem) -> float:
    ref = problem.exact_values(sol.points())
    return float(np.linalg.norm(sol.values.ravel() - ref) / np.linalg.norm(ref))


def observed_order(problem, ns, **kw) -> float:
    """Least-squares slope of log(max error) against log(h) over the grids ``ns``."""
    h, err = [], []
    for n in ns:
        sol = solve_fd(problem, n, **kw)
        h.append(1.0 / n)
        err.append(max_error(sol, problem))
    assert np.all(np.diff(err) < 0), err
    return float(np.polyfit(np.log(h), np.log(err), 1)[0])


UNIT = {1: npde.Interval(0.0, 1.3), 2: npde.Rectangle((0.0, -0.5), (1.0, 1.0))}
UNIT[3] = npde.Box((0.0, 0.0, 0.0), (1.0, 0.8, 1.2))
GRIDS = {1: (8, 16, 32, 64), 2: (8, 16, 32, 64), 3: (8, 12, 16)}


# -- Neumann faces ------------------------------------------------------------------------------


def neumann_value(exact, d: int, face: str):
    """``du/dn`` (outward) of ``exact`` on the Box face ``face`` (``x_min``, ``y_max``, ...)."""
    axis = "xyz".index(face[0])
    sign = 1.0 if face.endswith("max") else -1.0
    return lambda x: sign * _derivatives(exact, x, d)[1][:, axis]


def mixed_conditions(exact, box: npde.Box, neumann: tuple[str, ...]) -> list:
    """Neumann data of ``exact`` on the faces ``neumann``, Dirichlet on the others."""
    d = box.dim
    out = [npde.Neumann(neumann_value(exact, d, f), on=f) for f in neumann]
    dirichlet = [p for p in box.boundary_parts if p not in neumann]
    return ([npde.Dirichlet(exact, on=dirichlet)] if dirichlet else []) + out


def with_neumann(problem: npde.Problem, neumann: tuple[str, ...]) -> npde.Problem:
    """``problem`` with Neumann data of its exact solution on ``neumann`` (Dirichlet elsewhere)."""
    space = problem.domain.space if isinstance(problem.domain, npde.SpaceTime) else problem.domain
    rest = [c for c in problem.conditions if not isinstance(c, npde.Dirichlet)]
    conditions = mixed_conditions(problem.exact, space, neumann) + rest
    return npde.Problem(problem.domain, problem.equation, conditions, exact=problem.exact)


def max_error_up_to_constant(sol: FDSolution, problem: npde.Problem) -> float:
    e = sol.values.ravel() - problem.exact_values(sol.points())
    return float(np.max(np.abs(e - e.mean())))


def trapezoidal_mean(values: np.ndarray) -> float:
    w = np.ones(values.shape)
    for i in range(values.ndim):
        for end in (0, -1):
            idx = [slice(None)] * values.ndim
            idx[i] = end
            w[tuple(idx)] *= 0.5
    return float(np.sum(w * values) / np.sum(w))
