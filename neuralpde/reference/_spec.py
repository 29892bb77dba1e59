"""The pieces of a problem the finite-difference reference solves (:class:`Spec`), and the family
of its equation (:class:`Family`): how that family is solved and described.

The families themselves, one per equation class, and :func:`~.families.analyse`, which reads a
:class:`~neuralpde.Problem` into a :class:`Spec`, are in :mod:`.families` (they name the solvers,
which take a :class:`Spec`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..conditions import Condition, Dirichlet, Initial, InitialVelocity, Neumann, Robin
from ..domains import Box, Domain
from ..equations import Equation
from ..problem import Problem
from ._faces import face_owners

__all__ = ["Family", "Spec", "unchecked"]


def unchecked(*args: object) -> None:
    """A check that has nothing to check."""


@dataclass(frozen=True, eq=False)
class Family:
    """An equation family the finite-difference reference solves, and how.

    ``name`` is the family's name as the scheme descriptions (and so reference files) write it;
    ``equation`` the equation class, whose ``time_order`` is the family's. The callables take
    the problem's :class:`Spec`:

    * ``solve(spec, grid, order, steps, keep, method)``: ``(values, linear-solver name)`` on
      ``grid`` (evolution problems: over ``steps`` time steps, the values ``keep`` asks for);
    * ``describe(spec, order, solver)``: the scheme's description;
    * ``check(spec)``: what to check (or warn about) before anything is solved;
    * evolution families: ``default_steps(spec, grid)``, the time steps on ``grid`` when no
      ``dt`` is given, and ``check_step(spec, grid, dt)``, which refuses an unstable ``dt``.
    """

    name: str
    equation: type[Equation]
    solve: Callable[..., tuple[Any, str]]
    describe: Callable[[Spec, int, str], str]
    check: Callable[[Spec], None] = unchecked
    default_steps: Callable[[Spec, Any], int] | None = None
    check_step: Callable[[Spec, Any, float], None] = unchecked

    @property
    def time_order(self) -> int:
        """The highest time derivative: 0 steady, 1 first order (heat), 2 second (wave)."""
        return int(self.equation.time_order)

    @property
    def steady(self) -> bool:
        return self.time_order == 0

    @property
    def title(self) -> str:
        """The equation class's name, as messages write it (``"Heat"``)."""
        return self.equation.__name__


@dataclass(frozen=True)
class Spec:
    """The pieces of a supported problem.

    ``box`` is the problem's ``Box`` (the space of its ``SpaceTime``), or for a problem on
    another domain (``region``: a ``Disk``, ``Ball``, ``Polygon``, CSG or mesh domain, or the
    space of a ``SpaceTime`` of one) that domain's bounding box, whose uniform grid carries the
    nodes; ``region`` is ``None`` on a box. ``boundary`` holds the boundary conditions on a
    region (Dirichlet, Neumann, Robin), in the problem's order. On a box ``dirichlet``,
    ``neumann`` and ``robin`` hold its conditions of each kind (a Robin condition with ``b`` the
    number 0 is among the Dirichlet ones, as :math:`u = g/a`:
    :func:`~._faces.robin_as_dirichlet`) and ``neumann_faces`` and ``robin_faces`` the faces
    that they hold, closed by ghost nodes (:mod:`._faces`).
    """

    problem: Problem
    family: Family
    equation: Equation
    box: Box
    t_span: tuple[float, float] | None
    dirichlet: tuple[Dirichlet, ...]
    initial: Initial | None
    velocity: InitialVelocity | None
    neumann: tuple[Neumann, ...] = ()
    neumann_faces: frozenset[int] = frozenset()  # indices into box.boundary_parts
    region: Domain | None = None  # the (space) domain when it is not a box
    boundary: tuple[Condition, ...] = ()  # the boundary conditions on a region
    robin: tuple[Robin, ...] = ()  # on a box: every Robin condition, in the problem's order
    robin_faces: frozenset[int] = frozenset()  # on a box: the Robin faces (b != 0)

    @property
    def ghost_faces(self) -> frozenset[int]:
        """The faces closed by ghost nodes, Neumann and Robin: the grid's ``neumann`` faces."""
        return self.neumann_faces | self.robin_faces

    @property
    def flux_faces(self) -> frozenset[int]:
        """The faces that impose a flux alone: Neumann faces, and Robin faces whose condition
        (the last Robin condition naming the face) has ``a`` the number 0."""
        owner = face_owners(self.robin, self.box.boundary_parts)
        flux = {f for f in self.robin_faces if owner[f].flux_only}
        return self.neumann_faces | flux

    @property
    def all_neumann(self) -> bool:
        """Every face imposes a flux alone (Neumann, or Robin with ``a = 0``): the steady
        problem's solution is defined up to a constant (Poisson, Helmholtz with ``k = 0``)."""
        return len(self.flux_faces) == len(self.box.boundary_parts)

    @property
    def neumann_face_names(self) -> list[str]:
        """The names of the Neumann faces, in the box's order."""
        parts = self.box.boundary_parts
        return [parts[f] for f in sorted(self.neumann_faces)]

    @property
    def robin_face_names(self) -> list[str]:
        """The names of the Robin faces, in the box's order."""
        parts = self.box.boundary_parts
        return [parts[f] for f in sorted(self.robin_faces)]

    @property
    def neumann_note(self) -> str:
        """What a scheme's description says of the Neumann and Robin faces (nothing without
        one)."""
        named = (("Neumann", self.neumann_face_names), ("Robin", self.robin_face_names))
        kinds = [f"{kind} faces {', '.join(names)}" for kind, names in named if names]
        if not kinds:
            return ""
        return f", {' and '.join(kinds)} by ghost nodes (2nd order)"

    @property
    def irregular(self) -> bool:
        """The domain is not a box: the grid is its bounding box's, the nodes outside it NaN."""
        return self.region is not None

    @property
    def timed(self) -> bool:
        return self.t_span is not None

    @property
    def divergence_form(self) -> bool:
        """Heat written as ``u_t = div(kappa grad u) + f`` (an equation attribute
        ``divergence_form = True``) with a ``kappa`` that varies, rather than
        ``kappa * laplacian(u) + f`` (the same equation when ``kappa`` is a number)."""
        eq = self.equation
        return bool(getattr(eq, "divergence_form", False)) and callable(getattr(eq, "kappa", None))
