r"""Differential operators on a field evaluated at points.

A residual receives ``u``, a :class:`FieldValues`: the field's values at collocation points
together with the points themselves. It behaves like a tensor of shape ``(N,)`` in arithmetic,
comparisons, indexing and ``torch`` functions, and the operators below differentiate it:

.. math::

    \nabla u = (\partial_{x_1} u, \dots, \partial_{x_n} u), \qquad
    \Delta u = \sum_i \partial_{x_i}^2 u, \qquad \partial_t u, \qquad \partial_t^2 u,

with derivatives over the space coordinates only (time is excluded from ``grad`` and
``laplacian``). All derivatives stay differentiable with respect to the network's parameters.

Two engines compute them, with the same answers to round-off (:mod:`neuralpde.engine` picks
one and plans the fused pass):

* **fused** (forward): for fields that propagate jets (SIREN, tanh MLP, input scaling; see
  :mod:`neuralpde.fields.jet`), the value and the derivatives a residual uses (the gradient when
  it reads first derivatives, the Laplacian, any second derivative, a :func:`combination`) come
  out of one forward pass. Which ones a residual needs is found once per problem by
  :func:`derivative_plan`, which runs the residual on a few probe points and records the
  operators it calls.
* **autograd** (reverse, nested): the general fallback. Each first derivative is computed once and
  reused; a derivative the fused pass did not provide (a third derivative, a user operator, or a
  residual that asks for more than it did when probed) is taken this way from the same values.
  A residual that differentiates ``u`` or an operator's result itself (``torch.autograd.grad``)
  gets this engine throughout: the fused derivatives cannot be differentiated again in ``x``.

:func:`neuralpde.engine.field_values` picks the engine (``"auto"`` takes the fused one when the
field supports it). This module is the calculus a residual is written in; it imports no network
code.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch

__all__ = [
    "FieldValues",
    "as_column",
    "grad",
    "laplacian",
    "dt",
    "dtt",
    "partial",
    "combination",
    "LinearForm",
    "value",
    "residual_values",
]


@dataclass(frozen=True)
class LinearForm:
    r"""A constant-coefficient operator :math:`\ell u = \sum_i a_i\, \partial_i u + \sum_{ij}
    C_{ij}\, \partial_i \partial_j u`, with ``first = a`` and ``second = C`` (symmetric) over all
    coordinate columns. Built by :func:`combination`; the fused engine carries it as one channel.
    """

    first: tuple[float, ...]
    second: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        n = len(self.first)
        C = self.second
        if len(C) != n or any(len(row) != n for row in C):
            raise ValueError(
                f"LinearForm.second must be a {n}x{n} matrix (first has {n} entries), got "
                f"rows of lengths {[len(row) for row in C]}"
            )
        if any(C[i][j] != C[j][i] for i in range(n) for j in range(i)):
            raise ValueError(f"LinearForm.second must be symmetric, got {C}")


# A channel: "lap" (the space Laplacian), (i, j) with i <= j for d2u/dx_i dx_j, or a LinearForm.
SecondKey = str | tuple[int, int] | LinearForm


class FieldValues:
    """Values of a scalar field at points ``x`` (shape ``(N, d)``), with their derivatives.

    ``names`` are the coordinate names (space first); ``time_index`` is the column of time, or
    ``None`` for a steady problem.
    """

    def __init__(
        self,
        value: torch.Tensor,
        x: torch.Tensor,
        names: Sequence[str],
        time_index: int | None = None,
        *,
        gradient: torch.Tensor | None = None,
        second: dict[SecondKey, torch.Tensor] | None = None,
        plain: Callable[[], torch.Tensor] | None = None,
    ) -> None:
        value = as_column(value, x)
        self.value = value
        self.x = x
        self.names = tuple(names)
        self.time_index = time_index
        # derivatives computed by a fused pass: used as they are, never differentiated in x
        self._fused_grad = gradient
        self._fused: dict[SecondKey, torch.Tensor] = dict(second or {})
        # the rest by autograd, from the values of a plain forward pass (``plain()``) when the
        # values came from a fused pass, else from ``value``; ``self.value`` is then a copy, so
        # that a residual that modifies it in place (``u.mul_(2)``) leaves the field's
        # derivatives as they are, as the fused ones are
        self._plain = plain
        self._plain_value: torch.Tensor | None = None if plain is not None else value
        if plain is None:
            self.value = value.clone()
        self._grad: torch.Tensor | None = None
        self._second: dict[SecondKey, torch.Tensor] = {}

    # -- derivatives ------------------------------------------------------------------------
    @property
    def space_indices(self) -> list[int]:
        return [i for i in range(len(self.names)) if i != self.time_index]

    def _autograd_value(self) -> torch.Tensor:
        if self._plain_value is None:
            assert self._plain is not None
            self._plain_value = as_column(self._plain(), self.x)
        return self._plain_value

    def autograd_gradient(self) -> torch.Tensor:
        """All first derivatives by reverse-mode autograd, shape ``(N, d)``."""
        return self._autograd_grad()

    def _autograd_grad(self) -> torch.Tensor:
        if self._grad is None:
            if not self.x.requires_grad:
                raise RuntimeError("derivatives need points created with requires_grad=True")
            v = self._autograd_value()
            (g,) = torch.autograd.grad(v, self.x, torch.ones_like(v), create_graph=True)
            self._grad = g
        return self._grad

    def autograd_mixed(self, i: int, j: int) -> torch.Tensor:
        """The second derivative along columns ``i`` and ``j`` by nested autograd."""
        key = self._key(i, j)
        if key not in self._second:
            self._second[key] = _derivative(self._autograd_grad()[:, key[0]], self.x)[:, key[1]]
        return self._second[key]

    def full_gradient(self) -> torch.Tensor:
        """All first derivatives, shape ``(N, d)`` (space and time)."""
        return self._fused_grad if self._fused_grad is not None else self._autograd_grad()

    def first(self, columns: int | list[int]) -> torch.Tensor:
        """The first derivatives along ``columns``: shape ``(N,)`` for one column, ``(N, k)``
        for a list of ``k``."""
        return self.full_gradient()[:, columns]

    def note_columns(self, columns: Sequence[int]) -> None:
        """Say that a derivative along ``columns`` (one entry per differentiation) is taken by
        other means than the methods here; only :func:`derivative_plan`'s recorder notes it."""

    def second(self, i: int) -> torch.Tensor:
        """The pure second derivative along column ``i``, shape ``(N,)``."""
        return self.mixed(i, i)

    def mixed(self, i: int, j: int) -> torch.Tensor:
        """The second derivative along columns ``i`` and ``j``, shape ``(N,)``."""
        key = self._key(i, j)
        return self._fused[key] if key in self._fused else self.autograd_mixed(*key)

    def _key(self, i: int, j: int) -> tuple[int, int]:
        """The key ``(i, j)``, ``i <= j``, of a second derivative along columns ``i`` and ``j``
        (negative indices count from the last column)."""
        n = len(self.names)
        cols = []
        for c in (i, j):
            if isinstance(c, bool) or not isinstance(c, numbers.Integral) or not -n <= c < n:
                raise IndexError(f"column {c!r} is not one of the {n} columns {self.names}")
            cols.append(int(c) % n)
        return _pair(*cols)

    def laplacian(self) -> torch.Tensor:
        """The sum of the pure second derivatives over the space columns, shape ``(N,)``."""
        if "lap" in self._fused:
            return self._fused["lap"]
        if "lap" not in self._second:  # FieldValues.mixed: a recorder notes "lap" only
            pure = [FieldValues.mixed(self, i, i) for i in self.space_indices]
            self._second["lap"] = torch.stack(pure).sum(0)
        return self._second["lap"]

    def linear_form(self, form: LinearForm) -> torch.Tensor:
        r"""The operator ``form`` applied to the field, shape ``(N,)`` (see :class:`LinearForm`)."""
        if form in self._fused:
            return self._fused[form]
        if form not in self._second:  # FieldValues' own methods: a recorder notes the form only
            terms = []
            if any(form.first):
                a = torch.tensor(form.first, dtype=self.x.dtype, device=self.x.device)
                terms.append(FieldValues.full_gradient(self) @ a)
            n = len(form.first)
            for i in range(n):
                for j in range(i, n):
                    w = form.second[i][j] * (1 if i == j else 2)
                    if w:
                        terms.append(w * FieldValues.mixed(self, i, j))
            self._second[form] = sum(terms) if terms else torch.zeros_like(self.value)
        return self._second[form]

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(
                f"unknown coordinate {name!r}; this field's coordinates are {self.names}"
            ) from None

    # -- tensor behaviour -------------------------------------------------------------------
    # As a tensor's: a NumPy scalar on the left (``np.sqrt(2) * u``) defers to the methods
    # below instead of converting ``u`` to an array.
    __array_priority__ = 1000

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):  # noqa: D105
        kwargs = kwargs or {}
        args = tuple(_unwrap_all(a) for a in args)  # also inside lists: torch.stack([u, u])
        kwargs = {k: _unwrap_all(v) for k, v in kwargs.items()}
        return func(*args, **kwargs)

    def __getattr__(self, name: str):
        """Tensor methods and attributes (``u.exp()``, ``u.dtype``) act on the values."""
        if name.startswith("_") or name in ("value", "x", "names", "time_index"):
            raise AttributeError(name)  # not set yet (during construction) or private
        if name == "grad":  # a tensor's .grad is not the field's gradient
            raise AttributeError(
                "u.grad is not the field's gradient: use neuralpde.operators.grad(u)"
            )
        try:
            return getattr(self.value, name)
        except AttributeError:
            raise AttributeError(
                f"'FieldValues' object (the field u) has no attribute {name!r}, and its values "
                "(a torch.Tensor) have none either"
            ) from None

    def __add__(self, other):
        return self.value + _unwrap(other)

    def __radd__(self, other):
        return _unwrap(other) + self.value

    def __sub__(self, other):
        return self.value - _unwrap(other)

    def __rsub__(self, other):
        return _unwrap(other) - self.value

    def __mul__(self, other):
        return self.value * _unwrap(other)

    def __rmul__(self, other):
        return _unwrap(other) * self.value

    def __truediv__(self, other):
        return self.value / _unwrap(other)

    def __rtruediv__(self, other):
        return _unwrap(other) / self.value

    def __floordiv__(self, other):
        return self.value // _unwrap(other)

    def __rfloordiv__(self, other):
        return _unwrap(other) // self.value

    def __mod__(self, other):
        return self.value % _unwrap(other)

    def __rmod__(self, other):
        return _unwrap(other) % self.value

    def __pow__(self, other):
        return self.value ** _unwrap(other)

    def __rpow__(self, other):
        return _unwrap(other) ** self.value

    def __neg__(self):
        return -self.value

    def __pos__(self):
        return +self.value

    def __abs__(self):
        return self.value.abs()

    # Comparisons act on the values, element by element, as a tensor's do (``(u > 0) * t``).
    # Hashing stays by identity, as for a tensor, so a FieldValues can still be a dict key.
    def __eq__(self, other):  # type: ignore[override]
        return self.value == _unwrap(other)

    def __ne__(self, other):  # type: ignore[override]
        return self.value != _unwrap(other)

    def __lt__(self, other):
        return self.value < _unwrap(other)

    def __le__(self, other):
        return self.value <= _unwrap(other)

    def __gt__(self, other):
        return self.value > _unwrap(other)

    def __ge__(self, other):
        return self.value >= _unwrap(other)

    __hash__ = object.__hash__

    def __getitem__(self, index):
        """Indexing acts on the values: ``u[:, None]`` is ``(N, 1)``, ``u[0]`` one value."""
        return self.value[_unwrap_all(index)]

    @property
    def shape(self) -> torch.Size:
        return self.value.shape

    def __len__(self) -> int:
        return self.value.shape[0]

    def __repr__(self) -> str:
        return f"FieldValues(N={self.value.shape[0]}, names={self.names})"


def _derivative(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``d g_n / d x_n`` for each point ``n``; zero where ``g`` does not depend on ``x``."""
    if not g.requires_grad:  # e.g. the gradient of an affine field is constant
        return torch.zeros_like(x)
    (h,) = torch.autograd.grad(
        g, x, torch.ones_like(g), create_graph=True, allow_unused=True, materialize_grads=True
    )
    return h


def _pair(i: int, j: int) -> tuple[int, int]:
    """The key of the second derivative along columns ``i`` and ``j`` (symmetric)."""
    return (min(i, j), max(i, j))


def as_column(y: object, x: torch.Tensor) -> torch.Tensor:
    """A field's output ``y`` at points ``x`` as one value per point, shape ``(N,)``, from a
    tensor of shape ``(N, 1)`` or ``(N,)``; a :class:`ValueError` for anything else."""
    n = x.shape[0]
    if isinstance(y, torch.Tensor):
        if y.ndim == 2 and y.shape == (n, 1):
            return y[:, 0]
        if y.shape == (n,):
            return y
    got = f"shape {tuple(y.shape)}" if isinstance(y, torch.Tensor) else type(y).__name__
    raise ValueError(
        f"net must map points of shape ({n}, {x.shape[1]}) to values of shape ({n},) or "
        f"({n}, 1), got {got}"
    )


def residual_values(r: object, n: int) -> torch.Tensor:
    """A residual's result ``r`` at ``n`` points as a floating-point tensor of shape ``(n,)``
    (``u`` itself gives its values); a :class:`ValueError` saying what it is otherwise."""
    r = _unwrap(r)
    if isinstance(r, torch.Tensor) and r.shape == (n,) and r.is_floating_point():
        return r
    if not isinstance(r, torch.Tensor):
        got = type(r).__name__
        if hasattr(r, "__array__"):
            got += " (write the residual with torch functions, so that it can be differentiated)"
    elif r.shape != (n,):
        got = str(tuple(r.shape))
    else:
        got = f"a tensor of dtype {r.dtype}"
    raise ValueError(
        f"the residual must return one value per point, ({n},), a floating-point tensor, got {got}"
    )


def _unwrap(a):
    return a.value if isinstance(a, FieldValues) else a


def _unwrap_all(a):
    """``a`` with every :class:`FieldValues` in it, at any depth of lists and tuples, replaced
    by its values."""
    if isinstance(a, (list, tuple)):
        return type(a)(_unwrap_all(v) for v in a)
    return _unwrap(a)


def _check(u: object, op: str) -> FieldValues:
    if not isinstance(u, FieldValues):
        raise TypeError(
            f"{op}() takes the field u passed to the residual, got {type(u).__name__}; "
            "apply operators to u itself, before any arithmetic"
        )
    return u


def value(u: FieldValues) -> torch.Tensor:
    """The field's values, shape ``(N,)``."""
    return _check(u, "value").value


def grad(u: FieldValues) -> torch.Tensor:
    r"""Spatial gradient :math:`\nabla u`, shape ``(N, n_space)``."""
    u = _check(u, "grad")
    return u.first(u.space_indices)


def laplacian(u: FieldValues) -> torch.Tensor:
    r"""Spatial Laplacian :math:`\Delta u = \sum_i \partial^2 u / \partial x_i^2`, shape (N,)."""
    return _check(u, "laplacian").laplacian()


def time_axis_of(u: FieldValues, op: str) -> int:
    if u.time_index is None:
        raise ValueError(f"{op}() needs a time coordinate; this problem's domain is steady")
    return u.time_index


def dt(u: FieldValues) -> torch.Tensor:
    r""":math:`\partial u / \partial t`, shape ``(N,)``."""
    u = _check(u, "dt")
    return u.first(time_axis_of(u, "dt"))


def dtt(u: FieldValues) -> torch.Tensor:
    r""":math:`\partial^2 u / \partial t^2`, shape ``(N,)``."""
    u = _check(u, "dtt")
    return u.second(time_axis_of(u, "dtt"))


def partial(u: FieldValues, *names: str) -> torch.Tensor:
    r"""Mixed partial derivative by coordinate names, e.g. ``partial(u, "x", "y")`` is
    :math:`\partial^2 u / \partial x \partial y`; ``partial(u, "x")`` is
    :math:`\partial u / \partial x`.
    """
    u = _check(u, "partial")
    if not names:
        raise ValueError("partial() needs at least one coordinate name, e.g. partial(u, 'x')")
    idx = [u.index(n) for n in names]
    if len(idx) == 1:
        return u.first(idx[0])
    if len(idx) == 2:
        return u.mixed(idx[0], idx[1])
    u.note_columns(idx)
    out = u.autograd_mixed(idx[0], idx[1])  # differentiated again below: autograd throughout
    for i in idx[2:]:
        out = _derivative(out, u.x)[:, i]
    return out


def combination(u: FieldValues, terms: Mapping[str | tuple[str, ...], float]) -> torch.Tensor:
    r"""A linear combination of derivatives with constant coefficients,
    :math:`\sum_k a_k D_k u`, shape ``(N,)``.

    ``terms`` maps each derivative to its coefficient (a number). A derivative is named by
    ``"u"`` (the value), ``"lap"`` (the space Laplacian), a coordinate name or a 1-tuple of one
    (:math:`\partial u/\partial x`), or a 2-tuple of names (:math:`\partial^2 u/\partial x
    \partial y`). The heat and wave operators, for example::

        combination(u, {"t": 1.0, "lap": -kappa})           # u_t - kappa * lap(u)
        combination(u, {("t", "t"): 1.0, "lap": -c**2})     # u_tt - c^2 * lap(u)

    The result equals the sum of the separate operators, but the fused engine computes all its
    derivatives as a single channel: cheaper than asking for each, since a first derivative
    that appears only here (like :math:`u_t` in the heat equation) costs no extra work.
    Coefficients that vary in space need the separate operators.
    """
    u = _check(u, "combination")
    if not isinstance(terms, Mapping) or not terms:
        raise TypeError(
            "combination() takes a non-empty mapping of derivative -> coefficient, e.g. "
            f"{{'t': 1.0, 'lap': -0.5}}, got {terms!r}"
        )
    n = len(u.names)
    first = [0.0] * n
    second = [[0.0] * n for _ in range(n)]
    a0 = 0.0
    for key, coef in terms.items():
        if isinstance(coef, bool) or not isinstance(coef, numbers.Real):
            raise TypeError(
                f"combination() coefficients must be constant numbers; term {key!r} got "
                f"{type(coef).__name__} (for coefficients that vary, add the separate operators)"
            )
        coef = float(coef)
        if not math.isfinite(coef):
            raise ValueError(
                f"combination() coefficient of term {key!r} must be finite, got {coef}"
            )
        if key == "u":
            a0 += coef
        elif key == "lap":
            for i in u.space_indices:
                second[i][i] += coef
        else:
            names = (key,) if isinstance(key, str) else key
            if not isinstance(names, tuple) or not 1 <= len(names) <= 2:
                raise ValueError(
                    "combination() terms are 'u', 'lap', a coordinate name, or a tuple of one or "
                    f"two coordinate names; got {key!r}"
                )
            try:
                idx = [u.index(name) for name in names]
            except ValueError as e:
                raise ValueError(
                    f"combination() term {key!r}: {e}; a second derivative is a tuple such as "
                    f"({u.names[0]!r}, {u.names[0]!r})"
                ) from None
            if len(idx) == 1:
                first[idx[0]] += coef
            else:
                i, j = idx
                second[i][j] += coef / 2
                second[j][i] += coef / 2
    out = None
    if any(first) or any(any(row) for row in second):
        form = LinearForm(tuple(first), tuple(map(tuple, second)))
        out = u.linear_form(form)
    if a0:
        out = a0 * u.value if out is None else out + a0 * u.value
    return torch.zeros_like(u.value) if out is None else out
