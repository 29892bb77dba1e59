r"""Differential operators on a field evaluated at points.

A residual receives ``u``, a :class:`FieldValues`: the field's values at collocation points
together with the points themselves. It behaves like a tensor of shape ``(N,)`` in arithmetic and
in ``torch`` functions, and the operators below differentiate it:

.. math::

    \nabla u = (\partial_{x_1} u, \dots, \partial_{x_n} u), \qquad
    \Delta u = \sum_i \partial_{x_i}^2 u, \qquad \partial_t u, \qquad \partial_t^2 u,

with derivatives over the space coordinates only (time is excluded from ``grad`` and
``laplacian``). Derivatives are taken by reverse-mode automatic differentiation and stay
differentiable with respect to the network's parameters; each first derivative is computed once
and reused by every operator that needs it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["FieldValues", "grad", "laplacian", "dt", "dtt", "partial", "value"]


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
    ) -> None:
        if value.ndim == 2 and value.shape[1] == 1:
            value = value[:, 0]
        if value.ndim != 1 or value.shape[0] != x.shape[0]:
            raise ValueError(
                f"field values must have shape ({x.shape[0]},), got {tuple(value.shape)}"
            )
        self.value = value
        self.x = x
        self.names = tuple(names)
        self.time_index = time_index
        self._grad: torch.Tensor | None = None
        self._second: dict[int, torch.Tensor] = {}

    # -- derivatives ------------------------------------------------------------------------
    @property
    def space_indices(self) -> list[int]:
        return [i for i in range(len(self.names)) if i != self.time_index]

    def full_gradient(self) -> torch.Tensor:
        """All first derivatives, shape ``(N, d)`` (space and time)."""
        if self._grad is None:
            if not self.x.requires_grad:
                raise RuntimeError("derivatives need points created with requires_grad=True")
            (g,) = torch.autograd.grad(
                self.value, self.x, torch.ones_like(self.value), create_graph=True
            )
            self._grad = g
        return self._grad

    def second(self, i: int) -> torch.Tensor:
        """The pure second derivative along column ``i``, shape ``(N,)``."""
        if i not in self._second:
            self._second[i] = _derivative(self.full_gradient()[:, i], self.x)[:, i]
        return self._second[i]

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(
                f"unknown coordinate {name!r}; this field's coordinates are {self.names}"
            ) from None

    # -- tensor behaviour -------------------------------------------------------------------
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):  # noqa: D105
        kwargs = kwargs or {}
        args = tuple(a.value if isinstance(a, FieldValues) else a for a in args)
        kwargs = {k: (v.value if isinstance(v, FieldValues) else v) for k, v in kwargs.items()}
        return func(*args, **kwargs)

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

    def __pow__(self, other):
        return self.value ** _unwrap(other)

    def __rpow__(self, other):
        return _unwrap(other) ** self.value

    def __neg__(self):
        return -self.value

    def __abs__(self):
        return self.value.abs()

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


def _unwrap(a):
    return a.value if isinstance(a, FieldValues) else a


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
    return u.full_gradient()[:, u.space_indices]


def laplacian(u: FieldValues) -> torch.Tensor:
    r"""Spatial Laplacian :math:`\Delta u = \sum_i \partial^2 u / \partial x_i^2`, shape (N,)."""
    u = _check(u, "laplacian")
    return torch.stack([u.second(i) for i in u.space_indices]).sum(0)


def _time_index(u: FieldValues, op: str) -> int:
    if u.time_index is None:
        raise ValueError(f"{op}() needs a time coordinate; this problem's domain is steady")
    return u.time_index


def dt(u: FieldValues) -> torch.Tensor:
    r""":math:`\partial u / \partial t`, shape ``(N,)``."""
    u = _check(u, "dt")
    return u.full_gradient()[:, _time_index(u, "dt")]


def dtt(u: FieldValues) -> torch.Tensor:
    r""":math:`\partial^2 u / \partial t^2`, shape ``(N,)``."""
    u = _check(u, "dtt")
    return u.second(_time_index(u, "dtt"))


def partial(u: FieldValues, *names: str) -> torch.Tensor:
    r"""Mixed partial derivative by coordinate names, e.g. ``partial(u, "x", "y")`` is
    :math:`\partial^2 u / \partial x \partial y`; ``partial(u, "x")`` is
    :math:`\partial u / \partial x`.
    """
    u = _check(u, "partial")
    if not names:
        raise ValueError("partial() needs at least one coordinate name, e.g. partial(u, 'x')")
    idx = [u.index(n) for n in names]
    if len(idx) == 2 and idx[0] == idx[1]:
        return u.second(idx[0])
    out = u.full_gradient()[:, idx[0]]
    for i in idx[1:]:
        out = _derivative(out, u.x)[:, i]
    return out
