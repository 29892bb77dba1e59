"""The equation families the finite-difference reference solves, and :func:`analyse`, which
reads a :class:`~neuralpde.Problem` into the :class:`~._spec.Spec` its solvers take.

Each :class:`~._spec.Family` is built once here from its equation class and names its solver,
its scheme's description and its checks; everything downstream asks ``spec.family``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..conditions import Dirichlet, Initial, InitialVelocity, Neumann, Robin
from ..domains import Box, Domain, SpaceTime
from ..equations import Heat, Helmholtz, Poisson, Wave
from ..problem import Problem
from ._faces import face_owners, is_dirichlet_robin, robin_as_dirichlet
from ._spec import Family, Spec
from .evolution import (
    check_wave_step,
    default_heat_steps,
    default_wave_steps,
    describe_heat,
    describe_wave,
    solve_heat,
    solve_wave,
)
from .irregular import RegionData, check_region
from .steady import check_resonance, describe_steady, solve_helmholtz, solve_poisson

__all__ = ["POISSON", "HELMHOLTZ", "HEAT", "WAVE", "FAMILIES", "family_of", "analyse"]

POISSON = Family("poisson", Poisson, solve=solve_poisson, describe=describe_steady)
HELMHOLTZ = Family(
    "helmholtz", Helmholtz, solve=solve_helmholtz, describe=describe_steady, check=check_resonance
)
HEAT = Family(
    "heat", Heat, solve=solve_heat, describe=describe_heat, default_steps=default_heat_steps
)
WAVE = Family(
    "wave",
    Wave,
    solve=solve_wave,
    describe=describe_wave,
    default_steps=default_wave_steps,
    check_step=check_wave_step,
)

#: The families, in the order an equation is matched against their classes.
FAMILIES = (POISSON, HELMHOLTZ, HEAT, WAVE)


def family_of(equation: object) -> Family | None:
    """The family of ``equation`` (an instance of its class or of a subclass), or ``None``."""
    return next((f for f in FAMILIES if isinstance(equation, f.equation)), None)


def analyse(problem: Problem) -> Spec:
    """Check that ``problem`` is one the FD reference solves; raise naming what is not."""
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a neuralpde Problem, got {type(problem).__name__}")
    eq = problem.equation
    family = family_of(eq)
    if family is None:
        raise NotImplementedError(
            f"the finite-difference reference does not support the equation "
            f"{type(eq).__name__}; supported: {', '.join(f.title for f in FAMILIES)}"
        )
    if getattr(eq, "anisotropic", False):
        raise NotImplementedError(
            "the finite-difference reference does not support an anisotropic (tensor) Heat.kappa "
            "yet; scalar constants, callables and GridData maps are supported"
        )
    dom = problem.domain
    space = dom.space if isinstance(dom, SpaceTime) else dom
    if not isinstance(space, Box):
        return _analyse_region(problem, family, space, isinstance(dom, SpaceTime))
    timed = isinstance(dom, SpaceTime)
    if timed and family.steady:
        raise NotImplementedError(
            f"{type(eq).__name__} is steady: the finite-difference reference solves it on a "
            "Box, not on a SpaceTime domain"
        )
    dirichlet, neumann, robin, initial, velocity = _conditions(problem.conditions)
    parts = space.boundary_parts
    _check_one_kind_per_face(parts, Dirichlet=dirichlet, Neumann=neumann, Robin=robin)
    owner = face_owners(robin, parts)
    as_dirichlet = sorted(f for f, c in owner.items() if is_dirichlet_robin(c))
    for f in as_dirichlet:  # b = 0: u = value / a
        dirichlet.append(robin_as_dirichlet(owner[f], (parts[f],)))
    spec = Spec(
        problem=problem,
        family=family,
        equation=eq,
        box=space,
        t_span=(dom.t0, dom.t1) if timed else None,
        dirichlet=tuple(dirichlet),
        initial=initial,
        velocity=velocity,
        neumann=tuple(neumann),
        neumann_faces=frozenset(parts.index(p) for p in _faces(neumann, parts)),
        robin=tuple(robin),
        robin_faces=frozenset(owner) - frozenset(as_dirichlet),
    )
    _check_initial_data(spec)
    return spec


_REGION_SUPPORT = (
    "on a domain that is not a box it solves Poisson and Helmholtz (steady), and heat and wave "
    "on SpaceTime of the domain, with Dirichlet, Neumann or Robin conditions on every boundary "
    "part, to second order (Shortley-Weller; ghost nodes on Neumann and Robin parts)"
)


def _analyse_region(problem: Problem, family: Family, space: Domain, timed: bool) -> Spec:
    """The :class:`Spec` of a problem on a domain that is not a box (:mod:`.irregular`):
    Dirichlet, Neumann and Robin conditions covering every boundary part (and the initial data
    of an evolution problem); ``NotImplementedError`` naming what is supported otherwise."""
    name = type(space).__name__
    if timed and family.steady:
        raise NotImplementedError(
            f"the finite-difference reference cannot solve {problem.name!r} on SpaceTime of a "
            f"{name}: {family.title} is steady: give it the {name} itself, not a SpaceTime; "
            f"{_REGION_SUPPORT}"
        )
    if not timed and not family.steady:
        raise NotImplementedError(
            f"{family.title} is an evolution problem: the finite-difference reference solves it "
            f"on SpaceTime({name}, t_span), not on the {name} itself"
        )
    check_region(space)
    boundary, initial, velocity = [], None, None
    for c in problem.conditions:
        if isinstance(c, (Dirichlet, Neumann, Robin)):
            boundary.append(c)
        elif isinstance(c, InitialVelocity) and timed:
            velocity = c
        elif isinstance(c, Initial) and timed:
            initial = c
        else:
            raise NotImplementedError(
                f"the finite-difference reference does not support {type(c).__name__} "
                f"conditions on {'SpaceTime of ' if timed else ''}a {name}; {_REGION_SUPPORT}"
            )
    parts = space.boundary_parts
    covered = _faces(boundary, parts, f"boundary parts of the {name}", "its parts")
    missing = [p for p in parts if p not in covered and p not in space.empty_parts]
    if missing:
        raise NotImplementedError(
            f"the finite-difference reference needs a Dirichlet, Neumann or Robin condition on "
            f"every boundary part of the {name}; none on {missing}"
        )
    RegionData(space, boundary)  # refuses parts it could not tell apart
    lo, hi = space.bounds
    spec = Spec(
        problem=problem,
        family=family,
        equation=problem.equation,
        box=Box(lo, hi, names=space.names),
        t_span=(problem.domain.t0, problem.domain.t1) if timed else None,
        dirichlet=tuple(c for c in boundary if isinstance(c, Dirichlet)),
        initial=initial,
        velocity=velocity,
        region=space,
        boundary=tuple(boundary),
    )
    if timed:
        if spec.divergence_form:
            raise NotImplementedError(
                f"Heat in divergence form with a varying kappa is solved on a Box only; on a "
                f"{name} use the non-conservative form kappa * laplacian(u)"
            )
        _check_initial_data(spec)
    return spec


def _check_one_kind_per_face(parts: tuple[str, ...], **kinds: list) -> None:
    """Refuse a face with conditions of two kinds, or with none (``kinds``: the conditions of
    each kind, by name)."""
    on = {kind: _faces(conds, parts) for kind, conds in kinds.items()}
    held = {p: [kind for kind in kinds if p in on[kind]] for p in parts}
    both = [p for p in parts if len(held[p]) > 1]
    if both:
        names = sorted({k for p in both for k in held[p]}, key=list(kinds).index)
        raise ValueError(
            f"faces {both} have both a {' and a '.join(names)} condition; the finite-difference "
            "reference needs exactly one kind of condition per face"
        )
    missing = [p for p in parts if not held[p]]
    if missing:
        raise NotImplementedError(
            "the finite-difference reference needs a Dirichlet, Neumann or Robin condition on "
            f"every face; none on {missing}"
        )


def _check_initial_data(spec: Spec) -> None:
    """Refuse Neumann and Robin faces in divergence form, and initial data that do not fit the
    family's order in time."""
    family = spec.family
    if spec.ghost_faces and spec.divergence_form:
        kinds = " and ".join(
            k
            for k, faces in (("Neumann", spec.neumann_faces), ("Robin", spec.robin_faces))
            if faces
        )
        raise NotImplementedError(
            f"{kinds} faces are not available for {family.title} in divergence form with a "
            "varying kappa; use the non-conservative form kappa * laplacian(u), or Dirichlet "
            "faces"
        )
    if family.time_order == 1 and spec.initial is None:
        raise ValueError(f"{family.title} needs an Initial condition")
    if family.time_order == 2 and (spec.initial is None or spec.velocity is None):
        raise ValueError(f"{family.title} needs Initial and InitialVelocity conditions")
    if family.time_order == 1 and spec.velocity is not None:
        raise NotImplementedError(
            f"InitialVelocity is meaningless for {family.title} (first order in time)"
        )


def _conditions(
    conditions: Iterable[object],
) -> tuple[list[Dirichlet], list[Neumann], list[Robin], Initial | None, InitialVelocity | None]:
    """The ``Dirichlet``, ``Neumann`` and ``Robin`` conditions, and the (last) ``Initial`` and
    ``InitialVelocity``; ``NotImplementedError`` for a condition of another kind.

    The kinds are told apart by class: no attribute of the conditions says which one a
    condition is (``pins_constant``, for one, is false for Neumann, InitialVelocity, Periodic
    and flux-only Robin conditions alike)."""
    dirichlet, neumann, robin, initial, velocity = [], [], [], None, None
    for c in conditions:
        if isinstance(c, Dirichlet):
            dirichlet.append(c)
        elif isinstance(c, Neumann):
            neumann.append(c)
        elif isinstance(c, Robin):
            robin.append(c)
        elif isinstance(c, InitialVelocity):
            velocity = c
        elif isinstance(c, Initial):
            initial = c
        else:
            raise NotImplementedError(
                f"the finite-difference reference does not support {type(c).__name__} "
                "conditions on a Box; supported there: Dirichlet, Neumann, Robin, Initial, "
                "InitialVelocity"
            )
    return dirichlet, neumann, robin, initial, velocity


def _faces(
    conditions, parts: tuple[str, ...], what: str = "faces of the box", its: str = "its faces"
) -> set[str]:
    """The boundary parts named by ``conditions`` (all of them for ``on=None``)."""
    out: set[str] = set()
    for c in conditions:
        names = parts if c.on is None else c.on
        unknown = [p for p in names if p not in parts]
        if unknown:
            raise ValueError(
                f"{type(c).__name__}(on={list(c.on)!r}) names {unknown}, which are not {what}; "
                f"{its} are {list(parts)}"
            )
        out |= set(names)
    return out
