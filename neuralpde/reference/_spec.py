"""What the finite-difference reference supports, read off a :class:`~neuralpde.Problem`."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from .._arguments import as_number
from ..conditions import Dirichlet, Initial, InitialVelocity, Neumann
from ..domains import Box, SpaceTime
from ..equations import Equation, Heat, Helmholtz, Poisson, Wave
from ..problem import Problem

__all__ = ["Spec", "analyse"]

_KINDS = ((Poisson, "poisson"), (Helmholtz, "helmholtz"), (Heat, "heat"), (Wave, "wave"))


@dataclass(frozen=True)
class Spec:
    """The pieces of a supported problem."""

    problem: Problem
    kind: str  # "poisson", "helmholtz", "heat" or "wave"
    equation: Equation
    box: Box
    t_span: tuple[float, float] | None
    dirichlet: tuple[Dirichlet, ...]
    initial: Initial | None
    velocity: InitialVelocity | None
    neumann: tuple[Neumann, ...] = ()
    neumann_faces: frozenset[int] = frozenset()  # indices into box.boundary_parts

    @property
    def all_neumann(self) -> bool:
        """Every face is a Neumann face: the steady problem's solution is defined up to a
        constant (Poisson, Helmholtz with ``k = 0``)."""
        return len(self.neumann_faces) == len(self.box.boundary_parts)

    @property
    def timed(self) -> bool:
        return self.t_span is not None

    @property
    def divergence_form(self) -> bool:
        """Heat written as ``u_t = div(kappa grad u) + f`` (an equation attribute
        ``divergence_form = True``) with a ``kappa`` that varies, rather than
        ``kappa * laplacian(u) + f`` (the same equation when ``kappa`` is a number)."""
        return _varying_divergence_form(self.equation)


def _varying_divergence_form(eq: object) -> bool:
    return bool(getattr(eq, "divergence_form", False)) and callable(getattr(eq, "kappa", None))


def check_dt(dt: object) -> float | None:
    """A study's time step ``dt`` as a ``float`` (``None``, the default choice, as it is), after
    checking that it is a positive finite number (NumPy scalars too; not a bool)."""
    if dt is None:
        return None
    step = as_number(dt)
    if step is None or not 0 < step < math.inf:
        raise ValueError(
            "dt must be a positive finite number (an int or float, NumPy scalars too) or None, "
            f"got {type(dt).__name__} {dt!r}"
        )
    return step


def analyse(problem: Problem) -> Spec:
    """Check that ``problem`` is one the FD reference solves; raise naming what is not."""
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a neuralpde Problem, got {type(problem).__name__}")
    eq = problem.equation
    kind = next((k for cls, k in _KINDS if isinstance(eq, cls)), None)
    if kind is None:
        raise NotImplementedError(
            f"the finite-difference reference does not support the equation "
            f"{type(eq).__name__}; supported: Poisson, Helmholtz, Heat, Wave"
        )
    if getattr(eq, "anisotropic", False):
        raise NotImplementedError(
            "the finite-difference reference does not support an anisotropic (tensor) Heat.kappa "
            "yet; scalar constants, callables and GridData maps are supported"
        )
    dom = problem.domain
    space = dom.space if isinstance(dom, SpaceTime) else dom
    if not isinstance(space, Box):
        raise NotImplementedError(
            f"the finite-difference reference needs a Box domain (or SpaceTime of a Box), got "
            f"{type(space).__name__}"
        )
    timed = isinstance(dom, SpaceTime)
    if timed and kind in ("poisson", "helmholtz"):
        raise NotImplementedError(
            f"{type(eq).__name__} is steady: the finite-difference reference solves it on a "
            "Box, not on a SpaceTime domain"
        )
    dirichlet, neumann, initial, velocity = _conditions(problem.conditions)
    parts = space.boundary_parts
    on_d, on_n = _faces(dirichlet, parts), _faces(neumann, parts)
    both = [p for p in parts if p in on_d and p in on_n]
    if both:
        raise ValueError(
            f"faces {both} have both a Dirichlet and a Neumann condition; the finite-difference "
            "reference needs exactly one kind of condition per face"
        )
    missing = [p for p in parts if p not in on_d and p not in on_n]
    if missing:
        raise NotImplementedError(
            f"the finite-difference reference needs a Dirichlet or Neumann condition on every "
            f"face; none on {missing}"
        )
    if neumann and kind == "heat" and _varying_divergence_form(eq):
        raise NotImplementedError(
            "Neumann faces are not available for Heat in divergence form with a varying "
            "kappa; use the non-conservative form kappa * laplacian(u), or Dirichlet faces"
        )
    if kind == "heat" and initial is None:
        raise ValueError("Heat needs an Initial condition")
    if kind == "wave" and (initial is None or velocity is None):
        raise ValueError("Wave needs Initial and InitialVelocity conditions")
    if kind == "heat" and velocity is not None:
        raise NotImplementedError("InitialVelocity is meaningless for Heat (first order in time)")
    return Spec(
        problem=problem,
        kind=kind,
        equation=eq,
        box=space,
        t_span=(dom.t0, dom.t1) if timed else None,
        dirichlet=tuple(dirichlet),
        initial=initial,
        velocity=velocity,
        neumann=tuple(neumann),
        neumann_faces=frozenset(parts.index(p) for p in on_n),
    )


def _conditions(
    conditions: Iterable[object],
) -> tuple[list[Dirichlet], list[Neumann], Initial | None, InitialVelocity | None]:
    """The ``Dirichlet`` and ``Neumann`` conditions, and the (last) ``Initial`` and
    ``InitialVelocity``; ``NotImplementedError`` for a condition of another kind."""
    dirichlet, neumann, initial, velocity = [], [], None, None
    for c in conditions:
        if isinstance(c, Dirichlet):
            dirichlet.append(c)
        elif isinstance(c, Neumann):
            neumann.append(c)
        elif isinstance(c, InitialVelocity):
            velocity = c
        elif isinstance(c, Initial):
            initial = c
        else:
            raise NotImplementedError(
                f"the finite-difference reference does not support {type(c).__name__} "
                "conditions; supported: Dirichlet, Neumann, Initial, InitialVelocity"
            )
    return dirichlet, neumann, initial, velocity


def _faces(conditions, parts: tuple[str, ...]) -> set[str]:
    """The boundary parts named by ``conditions`` (all of them for ``on=None``)."""
    out: set[str] = set()
    for c in conditions:
        names = parts if c.on is None else c.on
        unknown = [p for p in names if p not in parts]
        if unknown:
            raise ValueError(
                f"{type(c).__name__}(on={list(c.on)!r}) names {unknown}, which are not faces "
                f"of the box; its faces are {list(parts)}"
            )
        out |= set(names)
    return out
