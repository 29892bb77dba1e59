r"""A P2 finite-element reference on the user's own mesh, beside the finite-difference one.

:func:`fem_reference` solves Poisson :math:`-\Delta u = f` or Helmholtz
:math:`\Delta u + k^2 u = f` on a :class:`~neuralpde.MeshDomain` (triangles in 2-D,
tetrahedra in 3-D) with a Dirichlet, Neumann or Robin condition (:math:`a u +
b\,\partial_n u = g`) on every boundary part, by quadratic Lagrange elements (scikit-fem,
the ``fem`` extra: ``pip install "neuralpde[fem]"``). With :math:`s = 1` (Poisson) or
:math:`s = -1` and :math:`\kappa = k^2` (Helmholtz, multiplied by :math:`-1`) the weak form
is: find :math:`u = g` on the Dirichlet parts with

.. math::

    \int_\Omega \nabla u\cdot\nabla v - \kappa\,u v
    + \sum_\mathrm{Robin} \oint \frac{a}{b}\,u v
    = \int_\Omega s f v + \sum_\mathrm{Neumann} \oint g v
    + \sum_\mathrm{Robin} \oint \frac{g}{b}\,v

for every P2 :math:`v` vanishing on them (Dirichlet data interpolated at the degrees of freedom;
a part takes the last condition naming it, and a degree of freedom shared with a Dirichlet
part is Dirichlet). With every part a pure flux (Poisson, or Helmholtz with :math:`k = 0`) the
data must be compatible, :math:`\int s f + \oint g = 0` (checked), and the solution of zero
mean is returned (a Lagrange multiplier).

It solves on the mesh and on ``refinements`` (at least 2) uniform refinements of it (each cell
split in :math:`2^d`; the spaces are nested), so level :math:`\ell` has spacing
:math:`h/2^\ell`. Successive levels are compared in the :math:`L^2` norm of the finer one,
exactly: the coarser solution is a P2 function of the finer mesh (its values at the finer
degrees of freedom), so :math:`d_\ell = \|u_\ell - u_{\ell-1}\|_{L^2(\Omega)}` is
:math:`(e^\top M e)^{1/2}` with :math:`M` the finer mass matrix, relative to
:math:`\|u_L\|_{L^2}`. The observed order, the Richardson estimate of the finest level's
relative :math:`L^2` error and the GCI follow from the last two differences exactly as for the
finite-difference study (:func:`~.richardson.estimate_error`), with the formal order 3 (P2 in
:math:`L^2`; a corner singularity shows as a lower observed order, which is then used).

The finest solution is sampled (exactly: the P2 function at each node) on a regular grid of the
mesh's bounding box, NaN at the nodes outside the mesh, as a finite-difference reference on a
domain that is not a box is; the result, a :class:`FEMReference`, is a
:class:`~neuralpde.reference.ReferenceSolution`, so :func:`~neuralpde.validate` and
:func:`~neuralpde.reference.save_reference` take it as they take a study's.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from .._arguments import check_grid_nodes
from ..conditions import Dirichlet, Neumann, Robin
from ..equations import Helmholtz, Poisson
from ..geometry import MeshDomain
from ..problem import Problem
from ._fem_mesh import (
    CellLocator,
    compact_mesh,
    edge_lengths,
    facet_parts,
    p2_values,
    refined_facet_parts,
)
from ._grid import evaluate_numpy
from .richardson import estimate_error
from .settings import check_intervals
from .solution import LevelResult, ReferenceSolution

__all__ = [
    "METHOD",
    "FORMAL_ORDER",
    "MAX_FEM_CELLS",
    "FEMReference",
    "FEMProblem",
    "check_fem_problem",
    "fem_reference",
]

log = logging.getLogger("neuralpde.reference")

#: The method a finite-element reference records.
METHOD = "fem-p2"
#: The :math:`L^2` order of P2 elements for a smooth solution.
FORMAL_ORDER = 3
#: The most cells the finest level may have (a direct sparse solve).
MAX_FEM_CELLS = 2**20
_INTORDER = 6  # quadrature degree of the cells and facets
_INSTALL = 'pip install "neuralpde[fem]"'


def _skfem() -> Any:
    """scikit-fem, imported when used; an ``ImportError`` naming the extra without it. Its
    logger, which tells every assembly at INFO, is set to WARNING unless it has a level."""
    try:
        import skfem
    except ImportError as exc:
        raise ImportError(
            f"the finite-element reference needs scikit-fem, which is not installed: {_INSTALL} "
            "(or pip install scikit-fem)"
        ) from exc
    quiet = logging.getLogger("skfem")
    if quiet.level == logging.NOTSET:
        quiet.setLevel(logging.WARNING)
    return skfem


@dataclass(frozen=True, eq=False)
class FEMReference(ReferenceSolution):
    """A P2 finite-element reference (:func:`fem_reference`): a
    :class:`~neuralpde.reference.ReferenceSolution` whose ``table`` has one row per mesh level
    (``n`` its cell count, ``h`` its longest edge), ``order`` the formal :math:`L^2` order 3
    and ``n`` the sampling grid's intervals; ``method`` is ``"fem-p2"``, ``refinements`` the
    uniform refinements of the user's mesh, ``cells`` and ``unknowns`` each level's."""

    method: str = field(default=METHOD, kw_only=True)
    refinements: int = field(default=2, kw_only=True)
    cells: tuple[int, ...] = field(default=(), kw_only=True)
    unknowns: tuple[int, ...] = field(default=(), kw_only=True)

    def describe(self) -> dict:
        out = super().describe()
        out.update(
            method=self.method,
            refinements=self.refinements,
            cells=list(self.cells),
            unknowns=list(self.unknowns),
        )
        return out

    def recorded_settings(self) -> dict[str, Any]:
        """The settings a reference file records (and its checksum covers): ``method``,
        ``refinements``, the levels, the ratio 2, the order and the sampling grid ``n``."""
        return {
            "method": self.method,
            "refinements": self.refinements,
            "levels": len(self.table),
            "ratio": self.ratio,
            "order": self.order,
            "n": list(self.n),
            "dt": None,
            "time_samples": None,
            "extrapolate": False,
        }


@dataclass(frozen=True)
class FEMProblem:
    """A problem :func:`fem_reference` solves, read: its mesh ``domain``, source ``f``,
    ``k`` (``None`` for Poisson), the boundary ``conditions`` and ``owner``, the condition of
    each boundary part (an index into ``conditions``), and whether every part is a pure flux
    with no zeroth-order term (``singular``: the solution is defined up to a constant)."""

    problem: Problem
    domain: MeshDomain
    f: Any
    k: Any
    conditions: tuple
    owner: np.ndarray
    singular: bool


def check_fem_problem(problem: Problem) -> FEMProblem:
    """``problem`` read for :func:`fem_reference`; ``NotImplementedError`` naming what is not
    supported (a domain that is not a ``MeshDomain``, an equation other than Poisson or
    Helmholtz, another kind of condition, a part with no condition)."""
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a neuralpde Problem, got {type(problem).__name__}")
    dom, eq = problem.domain, problem.equation
    if not isinstance(dom, MeshDomain):
        raise NotImplementedError(
            f"the finite-element reference solves on a MeshDomain (the user's own mesh); "
            f"{problem.name!r} is on a {type(dom).__name__}: use the finite-difference reference "
            "(convergence_study, neuralpde reference without --fem)"
        )
    if not isinstance(eq, (Poisson, Helmholtz)):
        raise NotImplementedError(
            f"the finite-element reference solves Poisson and Helmholtz; {problem.name!r} is "
            f"{type(eq).__name__}: use the finite-difference reference"
        )
    conditions = tuple(problem.conditions)
    for c in conditions:
        if not isinstance(c, (Dirichlet, Neumann, Robin)):
            raise NotImplementedError(
                f"the finite-element reference takes Dirichlet, Neumann and Robin conditions; "
                f"{problem.name!r} has a {type(c).__name__} condition"
            )
    parts = dom.boundary_parts
    owner = np.full(len(parts), -1, dtype=np.int64)
    for i, c in enumerate(conditions):  # a part takes the last condition naming it
        for p in parts if c.on is None else c.on:
            owner[parts.index(p)] = i
    missing = [p for p, o in zip(parts, owner, strict=True) if o < 0 and p not in dom.empty_parts]
    if missing:
        raise NotImplementedError(
            f"the finite-element reference needs a Dirichlet, Neumann or Robin condition on "
            f"every boundary part of the mesh; none on {missing}"
        )
    used = [conditions[i] for i in sorted(set(owner[owner >= 0].tolist()))]
    flux = all(isinstance(c, Neumann) or (isinstance(c, Robin) and c.flux_only) for c in used)
    k = eq.k if isinstance(eq, Helmholtz) else None
    no_mass = k is None or (not callable(k) and float(k) == 0.0)
    return FEMProblem(problem, dom, eq.f, k, conditions, owner, flux and no_mass)


@lru_cache(maxsize=1)
def _forms() -> tuple[Any, Any, Any]:
    """The forms: :math:`\\int \\nabla u\\cdot\\nabla v`, :math:`\\int c\\,u v`,
    :math:`\\int c\\,v` (``c`` values at the quadrature points)."""
    skfem = _skfem()
    from skfem.helpers import dot, grad

    @skfem.BilinearForm
    def laplace(u, v, w):
        return dot(grad(u), grad(v))

    @skfem.BilinearForm
    def mass(u, v, w):
        return w.c * u * v

    @skfem.LinearForm
    def load(v, w):
        return w.c * v

    return laplace, mass, load


def _at(value: Any, basis: Any, name: str) -> np.ndarray:
    """A coefficient at the quadrature points of ``basis``, shape ``(cells, points)``."""
    x = np.asarray(basis.global_coordinates())  # (d, cells, points)
    pts = x.reshape(x.shape[0], -1).T
    out = evaluate_numpy(value, pts, name)
    return np.broadcast_to(out, (len(pts),)).reshape(x.shape[1:])


@dataclass
class _Level:
    """One level: its mesh, its basis and solution, the parts of its boundary facets, its
    mass matrix and what it took."""

    mesh: Any
    parts: np.ndarray
    basis: Any = None
    u: np.ndarray | None = None
    mass: Any = None
    wall: float = 0.0
    flux: float = 0.0  # the fluxes' integral and that of their absolute values
    flux_abs: float = 0.0


def _boundary(fp: FEMProblem, level: _Level, elem: Any) -> tuple[Any, np.ndarray, dict]:
    """The Robin matrix, the Neumann and Robin load, and the Dirichlet values by degree of
    freedom (``{dof: value}``, the last condition winning) of ``level``."""
    skfem = _skfem()
    _, mass, load = _forms()
    basis = level.basis
    n = basis.N
    matrix, rhs, fixed = sp.csr_matrix((n, n)), np.zeros(n), {}
    facets = level.mesh.boundary_facets()
    owner = fp.owner[level.parts]
    for i, c in enumerate(fp.conditions):
        mine = facets[owner == i]
        if not len(mine):
            continue
        if isinstance(c, Dirichlet) or (isinstance(c, Robin) and _is_zero(c.b)):
            dofs = basis.get_dofs(mine).all()
            y = basis.doflocs[:, dofs].T
            g = np.broadcast_to(evaluate_numpy(c.value, y, f"{type(c).__name__}.value"), len(y))
            if isinstance(c, Robin):  # b = 0: u = g / a
                g = g / np.broadcast_to(evaluate_numpy(c.a, y, "Robin.a"), len(y))
            fixed.update(zip(dofs.tolist(), g.tolist(), strict=True))
            continue
        fb = skfem.FacetBasis(level.mesh, elem, facets=mine, intorder=_INTORDER)
        g = _at(c.value, fb, f"{type(c).__name__}.value")
        if isinstance(c, Robin):
            b = _at(c.b, fb, "Robin.b")
            if np.any(b == 0):
                parts = [p for k, p in enumerate(fp.domain.boundary_parts) if fp.owner[k] == i]
                raise ValueError(
                    f"Robin.b vanishes at points of the parts {parts}: the condition is "
                    "Dirichlet there; give b as the number 0 for a Dirichlet part, or a b that "
                    "does not vanish"
                )
            g = g / b
            if not c.flux_only:
                matrix = matrix + skfem.asm(mass, fb, c=_at(c.a, fb, "Robin.a") / b)
        rhs += skfem.asm(load, fb, c=g)
        level.flux += float(np.sum(fb.dx * g))
        level.flux_abs += float(np.sum(fb.dx * np.abs(g)))
    return matrix, rhs, fixed


def _is_zero(value: Any) -> bool:
    return not callable(value) and float(value) == 0.0


def _solve_level(fp: FEMProblem, level: _Level) -> None:
    """Assemble and solve the P2 system of ``level`` (the module doc's weak form)."""
    start = time.perf_counter()
    skfem = _skfem()
    laplace, mass, load = _forms()
    d = level.mesh.p.shape[0]
    elem = skfem.ElementTriP2() if d == 2 else skfem.ElementTetP2()
    basis = level.basis = skfem.Basis(level.mesh, elem, intorder=_INTORDER)
    name = type(fp.problem.equation).__name__
    f = _at(fp.f, basis, f"{name}.f")
    sign = 1.0 if fp.k is None else -1.0
    A = skfem.asm(laplace, basis)
    if fp.k is not None:
        A = A - skfem.asm(mass, basis, c=_at(fp.k, basis, "Helmholtz.k") ** 2)
    rhs = skfem.asm(load, basis, c=sign * f)
    robin, flux, fixed = _boundary(fp, level, elem)
    A, rhs = (A + robin).tocsr(), rhs + flux
    level.mass = skfem.asm(mass, basis, c=np.ones_like(f))
    if fixed:
        dofs = np.fromiter(fixed.keys(), dtype=np.int64, count=len(fixed))
        x = np.zeros(basis.N)
        x[dofs] = np.fromiter(fixed.values(), dtype=np.float64, count=len(fixed))
        free = np.setdiff1d(np.arange(basis.N), dofs)
        x[free] = _lu(A[free][:, free], rhs[free] - A[free] @ x, fp)
        level.u = x
    elif fp.singular:
        level.u = _zero_mean(fp, level, A, rhs, float(np.sum(basis.dx * sign * f)), basis, f)
    else:
        level.u = _lu(A, rhs, fp)
    level.wall = time.perf_counter() - start


def _lu(A: Any, b: np.ndarray, fp: FEMProblem) -> np.ndarray:
    """``A^{-1} b`` by sparse LU; ``ValueError`` when ``A`` is singular (a Helmholtz
    resonance: :math:`k^2` an eigenvalue of the discrete Laplacian)."""
    try:
        return splu(sp.csc_matrix(A)).solve(b)
    except RuntimeError as exc:
        raise ValueError(
            f"the finite-element system of {fp.problem.name!r} is singular ({exc}): k^2 is an "
            "eigenvalue of the Laplacian with these boundary conditions (resonance)"
        ) from None


def _zero_mean(
    fp: FEMProblem, level: _Level, A: Any, rhs: np.ndarray, source: float, basis: Any, f: Any
) -> np.ndarray:
    r"""The zero-mean solution of a pure-flux problem: the system bordered by
    :math:`\int \phi_i` (a Lagrange multiplier), after the check that the data are compatible,
    :math:`|\int s f + \oint g| \le 10^{-4} (\int |f| + \oint |g|)`."""
    total = source + level.flux
    scale = float(np.sum(basis.dx * np.abs(f))) + level.flux_abs
    if abs(total) > 1e-4 * scale:
        sign = "int f - oint g" if fp.k is not None else "int f + oint g"
        raise ValueError(
            f"every boundary part is Neumann (or Robin with a = 0), so {fp.problem.name!r} has "
            f"a solution only when the data are compatible: {sign} = 0; here it is "
            f"{total:.6g} (relative {abs(total) / scale:.3g} of int |f| + oint |g|). Change f or "
            "the Neumann data, or make a part Dirichlet"
        )
    ones = np.asarray(level.mass.sum(axis=0)).ravel()  # the integrals of the basis functions
    bordered = sp.bmat([[A, ones[:, None]], [ones[None, :], None]], format="csc")
    out = _lu(bordered, np.append(rhs, 0.0), fp)
    return out[:-1]


def _difference(previous: _Level, level: _Level) -> float:
    r""":math:`\|u_\ell - u_{\ell-1}\|_{L^2}`, exactly: the coarser P2 solution at the finer
    degrees of freedom is its P2 function on the finer mesh."""
    mesh = previous.mesh
    cell, lam, found = CellLocator(mesh.p.T, mesh.t.T).locate(level.basis.doflocs.T)
    if not found.all():
        raise ValueError("a refined mesh's degree of freedom lies outside the coarser mesh")
    e = level.u - p2_values(previous.basis, previous.u, cell, lam)
    return math.sqrt(max(float(e @ (level.mass @ e)), 0.0))


def _levels(
    fp: FEMProblem, refinements: int
) -> tuple[list[LevelResult], list[float], list[int], _Level]:
    """Solve the mesh and its ``refinements`` uniform refinements; the levels' rows (with
    their absolute differences, made relative by the caller), the differences, the levels'
    unknowns and the finest level. Only the previous level is kept while the next is
    solved."""
    skfem = _skfem()
    points, cells, facets, parts = compact_mesh(fp.domain)
    kind = skfem.MeshTri if points.shape[1] == 2 else skfem.MeshTet
    mesh = kind(np.ascontiguousarray(points.T), np.ascontiguousarray(cells.T))
    level = _Level(mesh, facet_parts(mesh, facets, parts))
    rows, differences, unknowns, previous = [], [], [], None
    for k in range(refinements + 1):
        if previous is not None:
            mesh = previous.mesh.refined()
            level = _Level(mesh, refined_facet_parts(previous.mesh, previous.parts, mesh))
        _solve_level(fp, level)
        diff = None if previous is None else _difference(previous, level)
        if diff is not None:
            differences.append(diff)
        rows.append(
            LevelResult(
                n=(int(mesh.t.shape[1]),),
                h=float(edge_lengths(mesh).max()),
                dt=None,
                steps=None,
                difference=diff,
                wall_time=level.wall,
            )
        )
        log.info(
            "%s: P2 level %d, %d cells, %d unknowns in %.3f s",
            fp.problem.name,
            k,
            mesh.t.shape[1],
            level.basis.N,
            level.wall,
        )
        unknowns.append(int(level.basis.N))
        previous = level
    return rows, differences, unknowns, level


def _sampling_counts(n: int | Sequence[int] | None, fp: FEMProblem, finest: _Level) -> tuple:
    """The sampling grid's intervals per axis: ``n`` (checked), or by default about two nodes
    per median edge of the finest mesh along each axis, from 16 to 256 (2-D) or 64 (3-D)."""
    lo, hi = fp.domain.bounds
    d = len(lo)
    if n is None:
        h = float(np.median(edge_lengths(finest.mesh)))
        top = 256 if d == 2 else 64
        counts = tuple(
            int(np.clip(math.ceil(2 * (b - a) / h), 16, top)) for a, b in zip(lo, hi, strict=True)
        )
    else:
        counts = check_intervals(n, d)
    check_grid_nodes(counts, "n")
    return counts


def _sample(
    fp: FEMProblem, finest: _Level, counts: tuple[int, ...]
) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The finest solution at the nodes of the grid of ``counts`` intervals over the mesh's
    bounding box; NaN at the nodes outside the mesh."""
    lo, hi = fp.domain.bounds
    axes = tuple(np.linspace(a, b, m + 1) for a, b, m in zip(lo, hi, counts, strict=True))
    grid = np.meshgrid(*axes, indexing="ij")
    pts = np.stack([g.ravel() for g in grid], axis=1)
    values = np.full(len(pts), np.nan)
    inside = np.flatnonzero(fp.domain.contains(pts))
    mesh = finest.mesh
    cell, lam, found = CellLocator(mesh.p.T, mesh.t.T).locate(pts[inside])
    values[inside[found]] = p2_values(finest.basis, finest.u, cell[found], lam[found])
    return axes, values.reshape(grid[0].shape)


def _check_refinements(refinements: object, fp: FEMProblem) -> int:
    """``refinements`` after checking that it is an int of at least 2 (three levels give an
    order) whose finest mesh has at most :data:`MAX_FEM_CELLS` cells."""
    if isinstance(refinements, bool) or not isinstance(refinements, (int, np.integer)):
        raise ValueError(f"refinements must be an int >= 2, got {refinements!r}")
    if refinements < 2:
        raise ValueError(
            f"refinements must be at least 2 (the mesh and two refinements: two differences "
            f"give an order), got {refinements}"
        )
    d = fp.domain.dim
    cells = len(fp.domain.cells) * 2 ** (d * int(refinements))
    if cells > MAX_FEM_CELLS:
        raise ValueError(
            f"refinements={refinements} would give a finest mesh of {cells:,} cells, more "
            f"than the {MAX_FEM_CELLS:,} allowed; give fewer refinements or a coarser mesh"
        )
    return int(refinements)


def fem_reference(
    problem: Problem, refinements: int = 2, *, n: int | Sequence[int] | None = None
) -> FEMReference:
    r"""The P2 finite-element reference of ``problem`` on its own mesh; see the module doc.

    ``problem`` is Poisson or Helmholtz on a :class:`~neuralpde.MeshDomain` with a Dirichlet,
    Neumann or Robin condition on every boundary part (else ``NotImplementedError``); it is
    solved on the mesh and ``refinements`` (at least 2) uniform refinements, and the finest
    solution is sampled on a grid of ``n`` intervals per axis over the mesh's bounding box
    (default: about two nodes per edge of the finest mesh). Needs scikit-fem (``ImportError``
    naming ``pip install "neuralpde[fem]"`` without it), checked after the problem.
    """
    start = time.perf_counter()
    fp = check_fem_problem(problem)
    refinements = _check_refinements(refinements, fp)
    skfem = _skfem()
    if n is not None:  # before anything is solved
        check_grid_nodes(check_intervals(n, fp.domain.dim), "n")
    rows, differences, unknowns, finest = _levels(fp, refinements)
    norm = math.sqrt(max(float(finest.u @ (finest.mass @ finest.u)), 0.0))
    if norm == 0:
        raise ValueError(
            "the finest finite-element solution is identically zero: relative errors are undefined"
        )
    rel = [e / norm for e in differences]
    rows = [rows[0]] + [
        LevelResult(r.n, r.h, r.dt, r.steps, e, r.wall_time)
        for r, e in zip(rows[1:], rel, strict=True)
    ]
    p, used, estimate = estimate_error(rel, 2, FORMAL_ORDER, problem.name, " (P2 elements)")
    counts = _sampling_counts(n, fp, finest)
    axes, values = _sample(fp, finest, counts)
    cells = tuple(r.n[0] for r in rows)
    shape = "triangles" if fp.domain.dim == 2 else "tetrahedra"
    scheme = (
        f"P2 Lagrange finite elements (scikit-fem {skfem.__version__}) on the mesh of "
        f"{cells[0]} {shape} and {refinements} uniform refinements to {cells[-1]} "
        f"({finest.basis.N} unknowns), sparse LU"
        + ("; pure flux, zero-mean solution" if fp.singular else "")
        + f"; sampled on a {'x'.join(map(str, counts))} grid of the mesh's bounding box "
        "(NaN outside the mesh)"
    )
    return FEMReference(
        axes=axes,
        values=values,
        names=tuple(fp.domain.names),
        scheme=scheme,
        order=FORMAL_ORDER,
        n=counts,
        dt=None,
        steps=None,
        wall_time=time.perf_counter() - start,
        problem=problem.name,
        description=problem.describe(),
        domain=problem.domain,
        table=tuple(rows),
        observed_order=p,
        order_used=used,
        estimated_error=float(estimate),
        gci=float(1.25 * estimate),
        ratio=2,
        refinements=refinements,
        cells=cells,
        unknowns=tuple(unknowns),
    )
