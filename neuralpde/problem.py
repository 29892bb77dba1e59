"""A PDE problem: domain, equation, conditions and, optionally, the exact solution.

A problem holds the mathematics only. It knows nothing of point counts, networks or optimizers,
so the neural solver and a classical reference solver consume the same object.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import torch

from ._arguments import check_name, check_points, shown
from .conditions import Condition, Initial, InitialVelocity, condition_class
from .domains import Domain, SpaceTime
from .equations import Custom, Equation, Heat, Helmholtz, Poisson, Wave
from .limits import MAX_CONDITIONS
from .operators import FieldValues

__all__ = ["Problem", "mathematics", "differing_mathematics", "determined_up_to_a_constant"]

ExactSolution = Callable[[torch.Tensor], "torch.Tensor | np.ndarray"]

_PROBES = 16  # points at which a problem's callables are evaluated for its fingerprint
_PROBE_SEED = 20_261_207


def _probe_text(compute: Callable[[], object]) -> bytes:
    """What ``compute()`` returns, as text to 10 significant digits (numbers), or the name of
    the error it raises."""
    try:
        out = compute()
        if torch.is_tensor(out):
            out = out.detach().cpu().numpy()
        arr = np.asarray(out, dtype=np.float64).reshape(-1)
    except Exception as exc:  # noqa: BLE001 - a failing callable is part of what it computes
        return f"<{type(exc).__name__}>".encode()
    return " ".join(f"{v:.9e}" for v in arr).encode()


def _value_text(value: object, pts: torch.Tensor) -> bytes:
    """A condition's field for the fingerprint: a callable at the probe points, an array by
    its values, anything else by its ``repr``."""
    if callable(value) and not isinstance(value, type):
        return _probe_text(lambda: value(pts))
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return _probe_text(lambda: value)
    return repr(value).encode()


@dataclass(frozen=True)
class Problem:
    """A well-posed PDE problem.

    Parameters
    ----------
    domain:
        Where the problem lives; a :class:`~neuralpde.domains.SpaceTime` for evolution equations.
    equation:
        An :class:`~neuralpde.equations.Equation`, or a residual function ``(u, x) -> r``
        (wrapped in :class:`~neuralpde.equations.Custom`, steady).
    conditions:
        Boundary and initial conditions: a :class:`~neuralpde.conditions.Condition` or a
        sequence of at most :data:`~neuralpde.limits.MAX_CONDITIONS` (1024) of them.
    exact:
        Optional exact solution, a callable of the points ``(N, d)`` returning ``N`` values;
        written with ``torch`` functions it can also be differentiated (e.g. to check residuals).
    name:
        A short identifier, used in files and reports: a non-empty string of at most
        :data:`~neuralpde.limits.MAX_NAME_LENGTH` (256) characters.
    """

    domain: Domain
    equation: Equation | Callable
    conditions: Sequence[Condition] = field(default_factory=tuple)
    exact: ExactSolution | None = None
    name: str = "problem"

    def __post_init__(self) -> None:
        if not isinstance(self.domain, Domain):
            raise TypeError(f"domain must be a neuralpde Domain, got {type(self.domain).__name__}")
        eq = self.equation
        if not isinstance(eq, Equation):
            if not callable(eq):
                raise TypeError(
                    f"equation must be an Equation or a residual function (u, x) -> r, got "
                    f"{type(eq).__name__}"
                )
            object.__setattr__(self, "equation", Custom(eq))
        conds = (self.conditions,) if isinstance(self.conditions, Condition) else self.conditions
        if isinstance(conds, (str, bytes)) or not isinstance(conds, Iterable):
            raise TypeError(
                "conditions must be a Condition or a sequence of Conditions (e.g. "
                f"[Dirichlet(0.0)]; [] for none), got {shown(conds)}"
            )
        conds = tuple(itertools.islice(conds, MAX_CONDITIONS + 1))
        if len(conds) > MAX_CONDITIONS:
            raise ValueError(f"conditions must hold at most {MAX_CONDITIONS} conditions, got more")
        for c in conds:
            if not isinstance(c, Condition):
                raise TypeError(f"conditions must be Condition objects, got {type(c).__name__}")
        object.__setattr__(self, "conditions", conds)
        if self.exact is not None and not callable(self.exact):
            raise TypeError(
                f"exact must be a callable of the points, got {type(self.exact).__name__}"
            )
        if not isinstance(self.name, str):
            raise ValueError(f"name must be a non-empty string, got {shown(self.name)}")
        check_name(self.name, "name")
        self._check_well_posed()

    def _check_well_posed(self) -> None:
        order = self.equation.time_order
        timed = isinstance(self.domain, SpaceTime)
        kinds = {type(c) for c in self.conditions}
        initial = any(c.where == "initial" for c in self.conditions)
        if order > 0 and not timed:
            raise ValueError(
                f"{type(self.equation).__name__} is an evolution equation: give it a SpaceTime "
                "domain, e.g. SpaceTime(Rectangle(...), t_span=(0, 1))"
            )
        if not timed and initial:
            raise ValueError("Initial conditions need a SpaceTime domain")
        if order >= 1 and Initial not in kinds:
            raise ValueError(
                f"{type(self.equation).__name__} needs an Initial condition u(x, t0) = u0(x)"
            )
        if order >= 2 and InitialVelocity not in kinds:
            raise ValueError(
                f"{type(self.equation).__name__} is second order in time: it needs an "
                "InitialVelocity condition du/dt(x, t0) = v0(x) as well as Initial"
            )
        # initial data beyond the equation's order over-determine it at t0
        name = type(self.equation).__name__
        custom = isinstance(self.equation, Custom)
        extra = [c for c in (Initial, InitialVelocity)[order:] if c in kinds]
        if extra:
            what = "has no time derivative" if order == 0 else "is first order in time"
            fix = f"drop its {extra[0].__name__} condition"
            if custom:
                fix += f", or write it as npde.Custom(fn, time_order={order + 1}) if it takes "
                fix += "∂u/∂t" if order == 0 else "∂²u/∂t²"
            raise ValueError(
                f"{name} {what} (time_order={order}), so an {extra[0].__name__} condition "
                f"over-determines it: {fix}"
            )
        # two initial data of one kind over-determine it as well
        for kind, what in ((Initial, "u(x, t0)"), (InitialVelocity, "du/dt(x, t0)")):
            held = [i for i, c in enumerate(self.conditions) if isinstance(c, kind)]
            if len(held) > 1:
                where = " and ".join(f"conditions[{i}]" for i in held)
                raise ValueError(
                    f"{len(held)} {kind.__name__} conditions ({where}) each set {what} on the "
                    f"whole initial slice, which takes one value: give one {kind.__name__}"
                )
        # what each condition's points need (see neuralpde.conditions: ``where``)
        parts = set(self.domain.boundary_parts)
        for c in self.conditions:
            if c.where == "pairs":
                self._periodic_axis(c)
            if c.where == "points":
                if c.points.shape[1] != self.domain.dim:
                    raise ValueError(
                        f"{type(c).__name__}.points have {c.points.shape[1]} columns; this "
                        f"domain's coordinates are {self.domain.names}"
                    )
                outside = ~self.domain.contains(c.points)
                if outside.any():
                    raise ValueError(
                        f"{int(outside.sum())} observation point(s) lie outside the domain, "
                        f"e.g. {c.points[outside][0].tolist()}"
                    )
            if c.where == "boundary" and c.on is not None:
                unknown = [p for p in c.on if p not in parts]
                if unknown:
                    raise ValueError(
                        f"{type(c).__name__}(on=...) names unknown boundary part(s) {unknown}; "
                        f"this domain's parts are {sorted(parts)}"
                    )

    def _periodic_axis(self, c: Condition) -> tuple[int, float]:
        """Axis and signed shift from ``c.part_a`` to ``c.part_b`` (opposite faces of a box) of
        a condition on pairs of points (:class:`~neuralpde.conditions.Periodic`)."""
        from .domains import Box

        space = self.domain.space if isinstance(self.domain, SpaceTime) else self.domain
        if not isinstance(space, Box):
            raise ValueError(
                f"Periodic conditions need a box (or a box x time), got {type(space).__name__}"
            )
        lo, hi = space.bounds
        for i, n in enumerate(space.names):
            pair = {f"{n}_min", f"{n}_max"}
            if {c.part_a, c.part_b} == pair:
                shift = hi[i] - lo[i]
                return i, (shift if c.part_a.endswith("_min") else -shift)
        raise ValueError(
            f"Periodic({c.part_a!r}, {c.part_b!r}) must pair opposite faces of the box, e.g. "
            f"Periodic('{space.names[0]}_min', '{space.names[0]}_max')"
        )

    def periodic_partner(self, c: Condition, points: np.ndarray) -> np.ndarray:
        """The points of ``c.part_b`` facing ``points`` on ``c.part_a``, for a condition on
        pairs of points (``where == "pairs"``: :class:`~neuralpde.conditions.Periodic`)."""
        axis, shift = self._periodic_axis(c)
        out = np.array(points, dtype=float, copy=True)
        out[:, axis] += shift
        return out

    @property
    def time_index(self) -> int | None:
        """Column of time in the points, or ``None`` when steady."""
        return self.domain.dim - 1 if isinstance(self.domain, SpaceTime) else None

    @property
    def determined_up_to_a_constant(self) -> bool:
        """Whether the problem fixes its solution only up to an additive constant: it is steady,
        its equation is :attr:`~neuralpde.equations.Equation.blind_to_constants` (Poisson) and
        it has conditions, none of which :attr:`~neuralpde.conditions.Condition.pins_constant`
        (Neumann, Periodic, Robin with ``a = 0``; a Dirichlet, Observations or other Robin
        condition pins it). Such a solution is compared with a reference less both means."""
        return _up_to_a_constant(
            self.time_index is None,
            self.equation.blind_to_constants,
            [c.pins_constant for c in self.conditions],
        )

    def residual(self, u: FieldValues, x: torch.Tensor) -> torch.Tensor:
        """The equation's residual at points ``x``."""
        return self.equation.residual(u, x)

    def exact_values(self, points: np.ndarray) -> np.ndarray:
        """The exact solution at finite points ``(N, d)`` (columns in ``domain.names`` order; one
        point may be a flat sequence of ``d`` numbers) as a float64 NumPy array."""
        if self.exact is None:
            raise ValueError(f"problem {self.name!r} has no exact solution")
        x = torch.as_tensor(check_points(points, self.domain.names))
        with torch.no_grad():
            out = self.exact(x)
        out = out.detach().cpu().numpy() if torch.is_tensor(out) else np.asarray(out)
        return np.asarray(out, dtype=np.float64).reshape(len(x))

    def describe(self) -> dict:
        """A JSON-serialisable description (stored in every solution file), with
        :attr:`fingerprint`."""
        return {
            "name": self.name,
            "domain": self.domain.describe(),
            "equation": self.equation.describe(),
            "conditions": [c.describe() for c in self.conditions],
            "has_exact": self.exact is not None,
            "fingerprint": self.fingerprint,
        }

    @cached_property
    def fingerprint(self) -> str:
        r"""SHA-256 of what the problem computes, not of how it is written: the equation's
        residual of a fixed probe field :math:`v(x) = \sum_i \sin(0.7\,i\,x_i + 0.3) + 0.1
        \prod_i x_i` and every condition's value (and any other callable or array it holds),
        at :data:`_PROBES` fixed points of the bounding box, each to 10 significant digits. A
        condition without a ``value`` (Periodic, Observations) counts as one of ``0.0``, as it
        did when every condition had one, so that stored fingerprints still match.

        Two problems written with the same text but different captured values (a closure
        ``lambda x: A * q(x)`` with another ``A``) have different fingerprints; a callable
        that fails at the probes contributes the name of its error."""
        lo, hi = self.domain.bounds
        unit = np.random.default_rng(_PROBE_SEED).random((_PROBES, self.domain.dim))
        pts = torch.as_tensor(lo + unit * (hi - lo), dtype=torch.float64)
        h = hashlib.sha256()
        h.update(_probe_text(lambda: self._probe_residual(pts)))
        for c in self.conditions:
            h.update(type(c).__name__.encode())
            h.update(b"value" + _value_text(getattr(c, "value", 0.0), pts))
            for f in dataclasses.fields(c):
                if f.name in ("value", "weight"):  # a weight changes the training, not the problem
                    continue
                h.update(f.name.encode() + _value_text(getattr(c, f.name), pts))
        return h.hexdigest()

    def differs_from(self, description: Mapping) -> list[str]:
        """The parts in which this problem differs from another's ``description`` (a file's):
        :func:`differing_mathematics` of the two."""
        return differing_mathematics(self.describe(), description)

    def _probe_residual(self, pts: torch.Tensor) -> torch.Tensor:
        from .engine import field_values
        from .operators import residual_values

        class _Probe(torch.nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                k = torch.arange(1, x.shape[1] + 1, dtype=x.dtype)
                v = torch.sin(0.7 * k * x + 0.3).sum(1) + 0.1 * x.prod(1)
                return v.unsqueeze(1)

        x = pts.clone().requires_grad_(True)
        u = field_values(_Probe(), x, self.domain.names, self.time_index, None, "autograd")
        return residual_values(self.residual(u, x), x.shape[0])


def _up_to_a_constant(steady: bool, blind: bool, pins: Sequence[bool]) -> bool:
    """The decision of :attr:`Problem.determined_up_to_a_constant`, from whether the problem is
    steady, whether its equation is blind to constants and whether each condition pins one."""
    return steady and blind and bool(pins) and not any(pins)


#: The classes a problem description's equation ``"type"`` names (a file holds descriptions,
#: not objects): ``describe()`` writes the class's name. Condition types are looked up by
#: :func:`~neuralpde.conditions.condition_class`.
_EQUATION_TYPES: dict[str, type[Equation]] = {
    e.__name__: e for e in (Poisson, Heat, Helmholtz, Wave, Custom)
}


def determined_up_to_a_constant(description: Mapping, time_axis: int | None) -> bool:
    """:attr:`Problem.determined_up_to_a_constant` of the problem that ``description`` (a
    :meth:`Problem.describe`, as a solution file stores it) describes, ``time_axis`` its time
    column (``None`` when steady); for a live problem ask the problem. A solved field asks
    either through its :class:`~neuralpde.problem_spec.ProblemSpec`.

    The answer comes from the classes the description's ``"type"`` entries name; a condition
    of a type this package does not know pins the constant, an equation of one is not blind to
    constants."""

    def pins(condition: Mapping) -> bool:
        cls = condition_class(condition.get("type"))
        return True if cls is None else cls.pins_constant_described(condition)

    eq = _EQUATION_TYPES.get(description.get("equation", {}).get("type"))
    return _up_to_a_constant(
        time_axis is None,
        eq is not None and eq.blind_to_constants,
        [pins(c) for c in description.get("conditions", [])],
    )


def mathematics(desc: Mapping) -> dict[str, Any]:
    """The parts of a problem description that define the solution (not the loss weights), as
    a file stores them (JSON: tuples become lists, other values their text), so that a live
    description compares equal to the same one read from a file."""
    conds = [{k: v for k, v in c.items() if k != "weight"} for c in desc.get("conditions", [])]
    parts = {"domain": desc.get("domain"), "equation": desc.get("equation"), "conditions": conds}
    return json.loads(json.dumps(parts, default=str))


def differing_mathematics(a: Mapping, b: Mapping) -> list[str]:
    """The parts (``domain``, ``equation``, ``conditions``) in which two problem descriptions
    differ, loss weights aside (see :func:`mathematics`)."""
    ma, mb = mathematics(a), mathematics(b)
    differ = [k for k in ma if ma[k] != mb[k]]
    fa, fb = a.get("fingerprint"), b.get("fingerprint")
    if not differ and fa and fb and fa != fb:  # same text, different values computed
        differ.append("values at the probe points (captured constants or data differ)")
    return differ
