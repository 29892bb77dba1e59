"""What a solved field knows of its problem: :class:`ProblemSpec`, one frozen record made from a
live :class:`~neuralpde.Problem` (:meth:`ProblemSpec.from_problem`) or read from a solution
file's problem description (:meth:`ProblemSpec.from_description`), so that a trained
:class:`~neuralpde.Solution` and the field :func:`neuralpde.load` reads back answer every
question about their problem from the same place (:class:`~neuralpde.solution.SolvedField`).

A live problem and its file's description give equal specs: the description is kept as a file
stores it (JSON text), and whether the solution is fixed only up to a constant is asked of the
problem's classes, or of the classes its description names
(:func:`~neuralpde.problem.determined_up_to_a_constant`), by one rule."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._arguments import shown
from .domains import Domain, SpaceTime
from .io.hdf5 import FormatError, rebuilt_mesh
from .problem import Problem, determined_up_to_a_constant

__all__ = ["ProblemSpec", "rebuilt_domain", "stored_description"]

_Bounds = tuple[tuple[float, ...], tuple[float, ...]]


def stored_description(description: Mapping) -> str:
    """``description`` (a :meth:`~neuralpde.Problem.describe`) as the JSON text a solution file
    stores in ``/problem@description``: values JSON has no form for become their text."""
    return json.dumps(dict(description), default=str)


@dataclass(frozen=True)
class ProblemSpec:
    """The problem a solved field solves, as far as the field knows it; frozen.

    ``name``: the problem's name; ``names``: its coordinates (space, then time); ``time_index``:
    the column of time (``None``: steady); ``equation`` and ``conditions``: the type names its
    description gives (``""`` where it gives none); ``has_exact``: whether it has an exact
    solution; ``determined_up_to_a_constant``: whether it fixes its solution only up to an
    additive constant (:attr:`~neuralpde.Problem.determined_up_to_a_constant`); ``bounds``: its
    domain's bounding box (``None`` when a description gives none); ``text``: its
    :meth:`~neuralpde.Problem.describe` as a file stores it (JSON; :attr:`description` is the
    dictionary); ``domain``: its :class:`~neuralpde.domains.Domain`, rebuilt for a file
    (:func:`rebuilt_domain`; ``None`` where it cannot be, and not compared).
    """

    name: str
    names: tuple[str, ...]
    time_index: int | None
    equation: str
    conditions: tuple[str, ...]
    has_exact: bool
    determined_up_to_a_constant: bool
    bounds: _Bounds | None
    text: str = field(repr=False)
    domain: Domain | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_problem(cls, problem: Problem) -> ProblemSpec:
        """The spec of a live ``problem``: its domain, and the constant asked of its classes."""
        if not isinstance(problem, Problem):
            raise TypeError(f"problem must be a neuralpde.Problem, got {type(problem).__name__}")
        text = stored_description(problem.describe())
        lo, hi = problem.domain.bounds
        return cls._made(
            json.loads(text),
            text,
            problem.domain.names,
            problem.time_index,
            problem.determined_up_to_a_constant,
            (tuple(map(float, lo)), tuple(map(float, hi))),
            problem.domain,
        )

    @classmethod
    def from_description(
        cls,
        description: Mapping,
        names: Sequence[str],
        *,
        mesh: Mapping[str, Any] | None = None,
        path: str | None = None,
    ) -> ProblemSpec:
        """The spec of the problem ``description`` describes (a :meth:`~neuralpde.Problem.describe`,
        as a solution file stores it) with the coordinates ``names``: the domain rebuilt from it
        and ``mesh`` (:func:`rebuilt_domain`; ``None`` for a domain it cannot rebuild), the
        constant asked of the classes its ``"type"`` entries name. ``TypeError`` or
        ``ValueError`` for a description not of a problem's shape (not a mapping; a ``name``
        not a string; an ``equation`` not a mapping; ``conditions`` not a list of mappings)."""
        desc = _checked(description)
        if (
            isinstance(names, str)
            or not isinstance(names, Sequence)
            or not all(isinstance(n, str) for n in names)
        ):
            raise TypeError(f"names must be a sequence of strings, got {shown(names)}")
        names = tuple(names)
        domain = desc.get("domain")
        timed = isinstance(domain, Mapping) and domain.get("type") == "SpaceTime"
        time_index = len(names) - 1 if timed and names else None
        return cls._made(
            desc,
            stored_description(desc),
            names,
            time_index,
            determined_up_to_a_constant(desc, time_index),
            _described_bounds(domain, len(names)),
            rebuilt_domain(domain, names, mesh, path),
        )

    @classmethod
    def _made(
        cls,
        desc: Mapping,
        text: str,
        names: Sequence[str],
        time_index: int | None,
        free: bool,
        bounds: _Bounds | None,
        domain: Domain | None,
    ) -> ProblemSpec:
        """The spec of the checked description ``desc`` (``text`` as stored) and what the
        constructor found of the rest."""
        equation = desc.get("equation") or {}
        return cls(
            name=str(desc.get("name", "")),
            names=tuple(names),
            time_index=time_index,
            equation=_type_name(equation),
            conditions=tuple(_type_name(c) for c in desc.get("conditions") or ()),
            has_exact=desc.get("has_exact") is True,
            determined_up_to_a_constant=bool(free),
            bounds=bounds,
            text=text,
            domain=domain,
        )

    @property
    def description(self) -> dict:
        """The problem's description as a file stores it (a new dictionary at each call)."""
        return json.loads(self.text)

    @property
    def domain_description(self) -> dict:
        """The description's ``"domain"`` (``{}`` where it has none, or not a mapping)."""
        domain = self.description.get("domain")
        return domain if isinstance(domain, dict) else {}

    @property
    def domain_type(self) -> str:
        """The type name of the domain its description gives (``""`` where it gives none)."""
        return _type_name(self.domain_description)

    @property
    def space_axes(self) -> tuple[int, ...]:
        """The columns of the space coordinates (all but :attr:`time_index`)."""
        return tuple(i for i in range(len(self.names)) if i != self.time_index)

    @property
    def space_dim(self) -> int:
        """The number of space coordinates."""
        return len(self.space_axes)


def _type_name(part: object) -> str:
    kind = part.get("type") if isinstance(part, Mapping) else None
    return kind if isinstance(kind, str) else ""


def _checked(desc: object) -> dict:
    """``desc`` as a dictionary, after checking the parts the spec reads: ``TypeError`` or
    ``ValueError`` naming the first that is damaged."""
    if not isinstance(desc, Mapping):
        raise TypeError(
            "a problem description must be a mapping (a Problem.describe(), as a solution file "
            f"stores it), got {type(desc).__name__}"
        )
    desc = dict(desc)
    if not isinstance(desc.get("name", ""), str):
        raise ValueError(f"the description's 'name' must be a string, got {shown(desc['name'])}")
    if not isinstance(desc.get("equation", {}), Mapping):
        raise ValueError(
            f"the description's 'equation' must be a mapping, got {shown(desc['equation'])}"
        )
    conditions = desc.get("conditions", [])
    if not isinstance(conditions, (list, tuple)) or not all(
        isinstance(c, Mapping) for c in conditions
    ):
        raise ValueError(
            f"the description's 'conditions' must be a list of mappings, got {shown(conditions)}"
        )
    return desc


def _described_bounds(domain: object, dim: int) -> _Bounds | None:
    """The ``lower`` and ``upper`` corners a domain description gives (``dim`` finite numbers
    each), else ``None``."""
    if not isinstance(domain, Mapping):
        return None
    corners = []
    for key in ("lower", "upper"):
        v = domain.get(key)
        if not isinstance(v, (list, tuple)) or len(v) != dim:
            return None
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            return None
        if not all(math.isfinite(x) for x in v):
            return None
        corners.append(tuple(float(x) for x in v))
    return corners[0], corners[1]


def rebuilt_domain(
    desc: object,
    names: Sequence[str],
    mesh: Mapping[str, Any] | None = None,
    path: str | None = None,
) -> Domain | None:
    """The domain a :meth:`~neuralpde.domains.Domain.describe` dictionary stands for (boxes,
    balls, disks, polygons, CSG domains of them, meshes, and
    :class:`~neuralpde.domains.SpaceTime` of those), with the coordinates ``names``; ``None``
    for any other, a damaged description, or a :class:`~neuralpde.MeshDomain` without the
    ``mesh`` its file stores (:func:`~neuralpde.io.hdf5.read_solution_record`; a file written
    before meshes were stored). A stored mesh whose digest does not match raises
    :class:`~neuralpde.io.FormatError` naming ``path``: the file is damaged."""
    if not isinstance(desc, Mapping):
        return None
    timed = desc.get("type") == "SpaceTime"
    try:
        space = _described_space(desc["space"] if timed else desc, mesh, path)
        if timed and space is not None:
            t0, t1 = (float(v) for v in desc["t_span"])
            dom = SpaceTime(space, (t0, t1), str(desc["names"][-1]))
        else:
            dom = space
    except FormatError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None
    return dom if dom is not None and tuple(dom.names) == tuple(names) else None


def _described_space(
    desc: object, mesh: Mapping[str, Any] | None, path: str | None
) -> Domain | None:
    """The domain of space ``desc`` describes (:func:`rebuilt_domain`), ``None`` if unknown."""
    from .reference.irregular import described_domain

    if isinstance(desc, Mapping) and desc.get("type") == "MeshDomain":
        return None if mesh is None else rebuilt_mesh(mesh, desc, path or "the solution file")
    return described_domain(dict(desc))
