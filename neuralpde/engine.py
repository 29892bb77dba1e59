r"""The derivative engines: which one a field gets, and the plan of the fused pass.

:func:`derivative_plan` runs a residual once on probe points and records the operators of
:mod:`neuralpde.operators` it calls (a :class:`DerivativePlan`); :func:`field_values` evaluates a
field at points with those derivatives, from one fused forward pass
(:mod:`neuralpde.fields.jet`) where the field propagates jets, else by autograd on demand
(:func:`engine_for` decides); :func:`check_fused` compares the two on probe points.

A training run decides once: :func:`bind_engine` makes a :class:`Derivatives`, the engine bound
to a field, a plan and the coordinates, whose :meth:`~Derivatives.values` evaluates without
looking at the field or the arguments again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ._arguments import check_columns
from ._names import ENGINES
from .fields.jet import forward_jet, jet_obstacle
from .operators import FieldValues, LinearForm, SecondKey

__all__ = [
    "ENGINES",
    "DerivativePlan",
    "Derivatives",
    "autograd_engine",
    "bind_engine",
    "check_precision",
    "derivative_plan",
    "engine_for",
    "field_values",
    "check_fused",
]


# -- engines --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DerivativePlan:
    r"""The derivatives a residual uses: first derivatives, and channels.

    ``gradient`` is whether it reads first derivatives itself. ``second`` holds ``"lap"`` for the
    space Laplacian, ``(i, j)`` (``i <= j``) for :math:`\partial^2 u / \partial x_i \partial
    x_j`, and a :class:`LinearForm` for each :func:`combination`. ``differentiated`` is whether
    the residual differentiates ``u`` or an operator's result itself (``torch.autograd.grad``),
    which only the autograd engine's derivatives allow. ``time_order`` is the highest number of
    time differentiations in any derivative it takes (0 for none, 1 for ``dt(u)`` or
    :math:`\partial_t\partial_x u`, 2 for ``dtt(u)``), or ``None`` where that is unknown (the
    residual differentiates by itself, or reads ``u.full_gradient()`` directly); it is for
    checks of the problem and is left out of comparisons of plans.
    """

    gradient: bool = False
    second: tuple[SecondKey, ...] = ()
    differentiated: bool = False
    time_order: int | None = field(default=0, compare=False)

    def __post_init__(self) -> None:
        for name in ("gradient", "differentiated"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(
                    f"DerivativePlan.{name} must be True or False, got {getattr(self, name)!r}"
                )
        t = self.time_order
        if t is not None and (isinstance(t, bool) or not isinstance(t, int) or t < 0):
            raise TypeError(
                f"DerivativePlan.time_order must be a non-negative int or None, got {t!r}"
            )
        if not isinstance(self.second, tuple):
            raise TypeError(
                f"DerivativePlan.second must be a tuple, got {type(self.second).__name__}"
            )
        for key in self.second:
            pair = (
                isinstance(key, tuple)
                and len(key) == 2
                and all(isinstance(i, int) and not isinstance(i, bool) for i in key)
                and 0 <= key[0] <= key[1]
            )
            if not (key == "lap" or isinstance(key, LinearForm) or pair):
                raise ValueError(
                    "DerivativePlan.second entries are 'lap', a pair of columns (i, j) with "
                    f"0 <= i <= j, or a LinearForm; got {key!r}"
                )

    @property
    def empty(self) -> bool:
        """Whether the residual takes no derivatives at all (values only)."""
        return not self.gradient and not self.second and not self.differentiated

    def forms(self, dim: int, time_index: int | None) -> torch.Tensor:
        """The channels' quadratic forms, shape ``(len(second), dim, dim)``, float64."""
        for key in self.second:
            size = len(key.first) if isinstance(key, LinearForm) else None
            if (size is not None and size != dim) or (isinstance(key, tuple) and key[1] >= dim):
                raise ValueError(f"DerivativePlan.second entry {key!r} does not fit {dim} columns")
        return _forms(self.second, dim, time_index).clone()

    def first(self, dim: int) -> torch.Tensor | None:
        """The channels' first-order parts, shape ``(len(second), dim)``, or ``None`` if none."""
        rows = [k.first if isinstance(k, LinearForm) else (0.0,) * dim for k in self.second]
        if not any(any(r) for r in rows):
            return None
        return torch.tensor(rows, dtype=torch.float64)


@functools.lru_cache(maxsize=64)
def _forms(second: tuple[SecondKey, ...], dim: int, time_index: int | None) -> torch.Tensor:
    out = torch.zeros(len(second), dim, dim, dtype=torch.float64)
    for c, key in enumerate(second):
        if key == "lap":
            for i in range(dim):
                if i != time_index:
                    out[c, i, i] = 1.0
        elif isinstance(key, LinearForm):
            out[c] = torch.tensor(key.second, dtype=torch.float64)
        else:
            i, j = key
            out[c, i, j] += 0.5
            out[c, j, i] += 0.5
    return out


class _Watch(torch.autograd.Function):
    """The identity, noting in ``seen`` when something differentiates through it with
    ``create_graph=True`` (so that the derivative can be differentiated again)."""

    @staticmethod
    def forward(ctx, t, seen):  # noqa: D102
        ctx.seen = seen
        return t.clone()  # not a view: a residual may modify what it is given in place

    @staticmethod
    def backward(ctx, g):  # noqa: D102
        if torch.is_grad_enabled():  # create_graph=True: the result is to be differentiated
            ctx.seen.append(True)
        return g, None


class _Recorder(FieldValues):
    """Field values that note which derivatives are asked for (autograd underneath), and
    whether the residual differentiates the values or derivatives it is given."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.asked_gradient = False
        self.asked: list[SecondKey] = []
        self.seen: list[bool] = []
        self.time_order: int | None = 0  # None: first derivatives read by unknown columns
        self._plain_value = self.value  # own derivatives from the unwatched values
        self.value = _Watch.apply(self.value, self.seen)

    def note_columns(self, columns: Sequence[int]) -> None:
        if self.time_index is not None and self.time_order is not None:
            order = sum(int(c) % len(self.names) == self.time_index for c in columns)
            self.time_order = max(self.time_order, order)

    def _gradient(self) -> torch.Tensor:
        self.asked_gradient = True
        return _Watch.apply(FieldValues.full_gradient(self), self.seen)

    def full_gradient(self) -> torch.Tensor:
        self.time_order = None  # all columns, read by the residual itself
        return self._gradient()

    def autograd_gradient(self) -> torch.Tensor:
        self.time_order = None  # as full_gradient
        return self._gradient()

    def first(self, columns: int | list[int]) -> torch.Tensor:
        # any index the gradient's columns take (an int of any kind, a list, a slice)
        for c in torch.arange(len(self.names))[columns].reshape(-1).tolist():
            self.note_columns([c])  # each a first derivative
        return self._gradient()[:, columns]

    def mixed(self, i: int, j: int) -> torch.Tensor:
        key = self._key(i, j)
        self.note_columns(key)
        if key not in self.asked:
            self.asked.append(key)
        return _Watch.apply(super().mixed(i, j), self.seen)

    def laplacian(self) -> torch.Tensor:
        if "lap" not in self.asked:
            self.asked.append("lap")
        return _Watch.apply(super().laplacian(), self.seen)

    def linear_form(self, form: LinearForm) -> torch.Tensor:
        t = self.time_index
        if t is not None:
            if form.second[t][t]:
                self.note_columns((t, t))
            elif form.first[t] or any(form.second[t]) or any(row[t] for row in form.second):
                self.note_columns((t,))
        if form not in self.asked:
            self.asked.append(form)
        return _Watch.apply(super().linear_form(form), self.seen)


def derivative_plan(
    residual: Callable[[FieldValues, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    names: Sequence[str],
    time_index: int | None = None,
) -> DerivativePlan:
    """Run ``residual`` on probe points ``x`` (a few points inside the domain, in the precision
    and on the device of training) and record the operators it applies to ``u``, and whether it
    differentiates what they return."""
    check_columns(x, names, time_index)
    xp = x.detach().clone().requires_grad_(True)
    # a probe field whose derivatives of every order are non-zero
    slopes = torch.linspace(0.3, 0.9, xp.shape[1], dtype=xp.dtype, device=xp.device)
    probe = torch.sin(xp @ slopes + 0.1)
    u = _Recorder(probe, xp, names, time_index)
    residual(u, xp)
    second = tuple(u.asked)
    differentiated = bool(u.seen)
    return DerivativePlan(
        gradient=u.asked_gradient,
        second=second,
        differentiated=differentiated,
        time_order=None if differentiated else u.time_order,
    )


def engine_for(
    net: nn.Module, plan: DerivativePlan | None, engine: str = "auto", name: str = "engine"
) -> str:
    """The engine that takes ``plan``'s derivatives of ``net`` when ``engine`` is asked for:
    ``"fused"``, ``"autograd"`` (also with ``plan=None``: derivatives on demand) or ``"none"``
    (an empty plan: only values). ``"fused"`` for a field that cannot carry derivatives forward
    is an error; ``name`` is the argument's name in the messages."""
    _check_engine(plan, engine, name)
    return _kind(plan, engine, jet_obstacle(net), name)


def _check_engine(plan: DerivativePlan | None, engine: str, name: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"{name} must be one of {ENGINES}, got {engine!r}")
    if plan is not None and not isinstance(plan, DerivativePlan):
        raise TypeError(f"plan must be a DerivativePlan or None, got {type(plan).__name__}")


def _kind(plan: DerivativePlan | None, engine: str, obstacle: str | None, name: str) -> str:
    """:func:`engine_for`'s choice, from the field's ``obstacle`` to jets (``None``: none)."""
    if engine == "fused" and obstacle is not None:
        raise ValueError(
            f"{name}='fused' needs a field that propagates derivatives forward (SIREN, MLP, "
            f"InputScaling): {obstacle}; use {name}='auto' or 'autograd'"
        )
    if engine == "fused" and plan is not None and plan.differentiated:
        raise ValueError(
            f"{name}='fused' cannot serve a residual that differentiates u or an operator's "
            "result itself (torch.autograd.grad): fused derivatives cannot be differentiated "
            f"again. Use {name}='auto' or 'autograd', or partial(u, ...) for a higher derivative"
        )
    if plan is not None and plan.empty:
        return "none"
    if engine == "autograd" or plan is None or plan.differentiated:
        return "autograd"
    return "fused" if obstacle is None else "autograd"


@dataclass(frozen=True)
class Derivatives:
    """A derivative engine bound once to a field, a plan and coordinates (:func:`bind_engine`).

    ``kind`` is the engine that takes ``plan``'s derivatives (``"fused"``, ``"autograd"`` or
    ``"none"``, as :func:`engine_for` says); ``names`` and ``time_index`` are the coordinates;
    ``asked`` is the engine asked for and ``obstacle`` why the field cannot propagate jets
    (``None`` when it can, or when autograd was asked for and the field was not looked at), so
    that :meth:`for_plan` binds another plan without looking at the field again. ``name`` is
    the argument's name in messages.
    """

    kind: str
    plan: DerivativePlan | None
    names: tuple[str, ...]
    time_index: int | None = None
    asked: str = "auto"
    obstacle: str | None = None
    name: str = "engine"
    forms: torch.Tensor | None = field(default=None, repr=False, compare=False)
    first: torch.Tensor | None = field(default=None, repr=False, compare=False)
    # the bindings of other plans (for_plan), each made once
    derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def values(self, net: nn.Module, x: torch.Tensor) -> FieldValues:
        """``net`` (the field bound) at points ``x`` with the plan's derivatives, by this
        engine. Only ``x``'s shape is checked; its precision must be ``net``'s."""
        if not (
            isinstance(x, torch.Tensor)
            and x.is_floating_point()
            and x.ndim == 2
            and x.shape[1] == len(self.names)
        ):
            check_columns(x, self.names, self.time_index)  # says what is wrong
        if self.kind != "fused":
            return FieldValues(net(x), x, self.names, self.time_index)
        plan = self.plan
        u, g, q = forward_jet(net, x, self.forms, self.first, gradient=plan.gradient, checked=True)
        second = {key: q[:, c] for c, key in enumerate(plan.second)}
        return FieldValues(
            u, x, self.names, self.time_index, gradient=g, second=second, plain=lambda: net(x)
        )

    def for_plan(self, plan: DerivativePlan | None) -> Derivatives:
        """The same engine bound to another plan of the same field (a condition's), once."""
        bound = self.derived.get(plan)
        if bound is None:
            kind = _kind(plan, self.asked, self.obstacle, self.name)
            args = (self.names, self.time_index, self.asked, self.obstacle, self.name)
            bound = self.derived[plan] = _bound(kind, plan, *args)
        return bound


def _bound(
    kind: str,
    plan: DerivativePlan | None,
    names: tuple[str, ...],
    time_index: int | None,
    asked: str,
    obstacle: str | None,
    name: str,
) -> Derivatives:
    """A :class:`Derivatives`, with the fused pass's forms worked out once."""
    forms = first = None
    if kind == "fused":
        forms, first = plan.forms(len(names), time_index), plan.first(len(names))
    return Derivatives(kind, plan, names, time_index, asked, obstacle, name, forms, first)


def bind_engine(
    net: nn.Module,
    names: Sequence[str],
    time_index: int | None = None,
    plan: DerivativePlan | None = None,
    engine: str = "auto",
    *,
    name: str = "engine",
) -> Derivatives:
    """Bind the derivative engine once: ``net``'s ``plan`` derivatives at points whose columns
    ``names`` names (``time_index``: the column of time), by the engine :func:`engine_for`
    chooses for ``engine``, with its errors (``name`` is the argument's name in them)."""
    names = _check_names(names, time_index)
    _check_engine(plan, engine, name)
    obstacle = jet_obstacle(net)
    kind = _kind(plan, engine, obstacle, name)
    return _bound(kind, plan, names, time_index, engine, obstacle, name)


@functools.lru_cache(maxsize=32)
def _autograd_engine(names: tuple[str, ...], time_index: int | None) -> Derivatives:
    return Derivatives("autograd", None, names, time_index, "autograd")


def autograd_engine(names: Sequence[str], time_index: int | None = None) -> Derivatives:
    """Autograd's derivatives on demand (no plan), bound to the coordinates only: they serve
    any field, so no field is looked at."""
    names = _check_names(names, time_index)
    return _autograd_engine(names, time_index)


def _check_names(names: Sequence[str], time_index: object) -> tuple[str, ...]:
    """``names`` as a tuple; a :class:`ValueError` unless ``time_index`` is one of them."""
    names = tuple(names)
    n = len(names)
    if time_index is not None and (
        isinstance(time_index, bool)
        or not isinstance(time_index, (int, np.integer))
        or not 0 <= time_index < n
    ):
        raise ValueError(f"time_index must be None or a column (0 to {n - 1}), got {time_index!r}")
    return names


def check_precision(net: nn.Module, x: torch.Tensor) -> None:
    """A :class:`ValueError` unless ``x`` is in the precision of ``net``'s parameters."""
    param = next((p for p in net.parameters() if p.is_floating_point()), None)
    if param is not None and param.dtype != x.dtype:
        raise ValueError(
            f"x is {x.dtype} but net's parameters are {param.dtype}: convert one of them, e.g. "
            f"x.to({param.dtype})"
        )


def field_values(
    net: nn.Module,
    x: torch.Tensor,
    names: Sequence[str],
    time_index: int | None = None,
    plan: DerivativePlan | None = None,
    engine: str = "auto",
) -> FieldValues:
    """Evaluate ``net`` at ``x`` with the derivatives in ``plan`` (for the residual operators).

    ``engine`` is ``"auto"`` (fused when ``net`` supports it), ``"fused"`` (an error if it does
    not) or ``"autograd"``. With ``plan=None`` (nothing to carry forward) or the autograd
    engine, derivatives are taken on demand by autograd; ``x`` must then require gradients.
    ``names`` names ``x``'s columns; ``time_index`` is the column of time, if any. Training
    binds the engine once instead (:func:`bind_engine`).
    """
    check_columns(x, names, time_index)
    check_precision(net, x)
    return bind_engine(net, names, time_index, plan, engine).values(net, x)


def check_fused(
    net: nn.Module,
    plan: DerivativePlan,
    x: torch.Tensor,
    names: Sequence[str],
    time_index: int | None = None,
) -> None:
    r"""Check on a few points ``x`` that ``net``'s fused pass gives the values and the ``plan``'s
    derivatives that autograd gives from its ``forward``; a :class:`ValueError` if not.

    Each quantity must agree to :math:`\sqrt{\varepsilon}` of its own size (3e-4 in float32,
    1.5e-8 in float64). This guards a module's own ``jet``. A quantity that nearly cancels at
    ``x`` (the operator of a field that nearly solves its equation) is exact only relative to its
    terms and can fail the test; :meth:`neuralpde.Trainer.fit` therefore checks a copy of the
    field with perturbed parameters.
    """
    fused = field_values(net, x, names, time_index, plan, "fused")
    xa = x.detach().clone().requires_grad_(True)
    ref = field_values(net, xa, names, time_index, plan, "autograd")
    pairs = [("value", fused.value, ref.value)]
    if plan.gradient:
        pairs.append(("gradient", fused.full_gradient(), ref.full_gradient()))
    for key in plan.second:
        name = f"second derivative {key!r}"
        if key == "lap":
            pairs.append(("Laplacian", fused.laplacian(), ref.laplacian()))
        elif isinstance(key, LinearForm):
            pairs.append((name, fused.linear_form(key), ref.linear_form(key)))
        else:
            pairs.append((name, fused.mixed(*key), ref.mixed(*key)))
    tol = torch.finfo(x.dtype).eps ** 0.5
    tiny = torch.finfo(x.dtype).tiny
    for name, a, b in pairs:
        a, b = a.detach(), b.detach()
        diff = float((a - b).abs().max())
        size = max(float(a.abs().max()), float(b.abs().max()), tiny)
        if not diff <= tol * size:
            raise ValueError(
                f"{type(net).__name__}'s fused pass disagrees with autograd on its forward at "
                f"probe points: {name} differs by {diff:.3g} (values of size {size:.3g}). Its "
                "jet() does not compute the function forward() does; fix it, or train with "
                "derivatives='autograd'"
            )
