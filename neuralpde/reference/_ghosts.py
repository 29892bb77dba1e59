"""The ghost nodes' rows of the finite-difference reference on a domain that is not a box: each
ghost closed by the condition at its nearest boundary point on a weighted least-squares fit
(see :mod:`~.irregular`)."""

from __future__ import annotations

import logging

import numpy as np
from scipy.spatial import cKDTree

from ..domains import Domain

__all__ = ["FIT_DEGREE", "FIT_RADII", "FIT_WIDTH", "ghost_rows"]

log = logging.getLogger("neuralpde.reference")

#: The degree of the ghosts' least-squares fits (lower where the nodes do not determine one).
FIT_DEGREE = 3
#: The radius (grid spacings around the boundary point) of the nodes a fit of each degree takes.
FIT_RADII = {3: 3.0, 2: 2.0, 1: 1.5}
#: The width (grid spacings) of the fits' Gaussian weights.
FIT_WIDTH = 1.5
_QUERY = {2: 48, 3: 128}  # nearest nodes examined per ghost


def _exponents(d: int, degree: int) -> np.ndarray:
    """The exponents of the monomials of total degree 1 to ``degree`` in ``d`` variables."""
    import itertools

    out = [a for a in itertools.product(range(degree + 1), repeat=d) if 1 <= sum(a) <= degree]
    return np.array(sorted(out, key=lambda a: (sum(a), tuple(-v for v in a))), dtype=np.int64)


def _basis(xi: np.ndarray, degree: int, grad: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    r"""The monomials :math:`\xi^\alpha`, :math:`1 \le |\alpha| \le` ``degree``, at ``xi``
    (..., d) and, with ``grad``, their derivatives (..., d, p) in :math:`\xi`."""
    d = xi.shape[-1]
    alpha = _exponents(d, degree)
    powers = np.ones((degree + 1, *xi.shape))  # powers[k] = xi ** k
    for k in range(1, degree + 1):
        powers[k] = powers[k - 1] * xi
    xs = np.moveaxis(powers, -1, 0)  # (d, degree + 1, ...)
    phi = xs[0][alpha[:, 0]]  # (p, ...)
    for i in range(1, d):
        phi = phi * xs[i][alpha[:, i]]
    if not grad:
        return np.moveaxis(phi, 0, -1), None
    dphi = np.empty((d, *phi.shape))
    for i in range(d):
        scale = alpha[:, i].reshape(-1, *[1] * (xi.ndim - 1)).astype(float)
        out = scale * xs[i][np.maximum(alpha[:, i] - 1, 0)]
        for j in range(d):
            if j != i:
                out = out * xs[j][alpha[:, j]]
        dphi[i] = out
    return np.moveaxis(phi, 0, -1), np.moveaxis(dphi, (0, 1), (-2, -1))


def _fit(
    xi: np.ndarray,
    dist: np.ndarray,
    sees: np.ndarray,
    xb: np.ndarray,
    rb: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    degree: int,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Weighted least-squares fits of degree ``degree`` through the ghosts (see the module
        doc): the coefficients of the fit nodes in :math:`a q(B) + b\,n\cdot
    abla q(B)` and
        whether each fit reproduces every polynomial of its degree (a full-rank design)."""
    a, b, normals, h = rb
    alpha = _exponents(xi.shape[-1], degree)
    p = len(alpha)
    radius = FIT_RADII[degree]
    enough = np.sort(np.where(sees, dist, np.inf), axis=1)[:, min(2 * p, dist.shape[1]) - 1]
    radius = np.maximum(radius, np.where(np.isfinite(enough), enough, radius)) * (1 + 1e-9)
    use = sees & (dist <= radius[:, None])
    sw = np.sqrt(np.where(use, np.exp(-0.5 * (dist / FIT_WIDTH) ** 2), 0.0))
    phi, _ = _basis(xi, degree, grad=False)
    design = sw[:, :, None] * phi
    pinv = np.linalg.pinv(design, rcond=1e-12)
    P = pinv * sw[:, None, :]  # (G, p, k): the coefficients of the fit from the nodes' values
    defect = np.abs(np.einsum("gpk,gkq->gpq", pinv, design) - np.eye(p)).max(axis=(1, 2))
    ok = (defect < 1e-8) & (use.sum(axis=1) >= p)
    phi_b, dphi_b = _basis(xb, degree)
    grad = dphi_b / h[None, :, None]  # d/dx of the basis at the foot, (G, d, p)
    r = a[:, None] * phi_b + b[:, None] * np.einsum("gi,gip->gp", normals, grad)
    return np.einsum("gp,gpk->gk", r, P), ok


def ghost_rows(
    domain: Domain,
    ghosts: np.ndarray,
    feet: np.ndarray,
    normals: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    node_pts: np.ndarray,
    h: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""The condition rows of the ghosts: ``(coef_ghost, nodes, coef_nodes, degree)``, each
    ghost's row :math:`c_G u_G + \sum_j c_j u_{n_j} = g` with ``nodes`` (G, k) indices into
    ``node_pts`` (coefficients zero for nodes left out of the fit), and the degree of its fit:
    cubic where the nodes within :data:`FIT_RADII` determine one, quadratic or linear otherwise."""
    d = ghosts.shape[1]
    k = min(_QUERY.get(d, 4 * len(_exponents(d, 3))), len(node_pts))
    tree = cKDTree(node_pts / h)
    dist, near = tree.query(feet / h, k=k)
    dist, near = dist.reshape(len(feet), k), near.reshape(len(feet), k)
    mid = 0.5 * (feet[:, None, :] + node_pts[near])
    sees = np.asarray(domain.contains(mid.reshape(-1, d)), dtype=bool).reshape(near.shape)
    sees |= dist < 1e-9  # a node on the foot itself
    xi = (node_pts[near] - ghosts[:, None, :]) / h
    xb = (feet - ghosts) / h
    coef = np.zeros(near.shape)
    degree = np.zeros(len(ghosts), dtype=np.int64)
    todo = np.arange(len(ghosts))
    for deg in range(FIT_DEGREE, 0, -1):
        if todo.size == 0:
            break
        rb = (a[todo], b[todo], normals[todo], h)
        c, ok = _fit(xi[todo], dist[todo], sees[todo], xb[todo], rb, deg)
        take = ok if deg > 1 else np.ones(todo.size, dtype=bool)
        coef[todo[take]] = c[take]
        degree[todo[take]] = deg
        todo = todo[~take]
    low = np.count_nonzero(degree < 3)
    if low:
        log.debug("%d of %d ghosts fitted by a quadratic or linear polynomial", low, len(ghosts))
    return a - coef.sum(axis=1), near, coef, degree
