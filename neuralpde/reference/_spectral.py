"""The spectral radius of the Laplacian of a :class:`~._operator.RegionOperator` on its dynamic
unknowns, which bounds the wave equation's leapfrog time step (see :mod:`~.evolution`)."""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse.linalg as spla

from ._linalg import LUSolver
from ._operator import RegionOperator

__all__ = ["spectral_radius"]

log = logging.getLogger("neuralpde.reference")


def spectral_radius(op: RegionOperator) -> float:
    r"""The spectral radius :math:`\rho` of the Laplacian of ``op`` on its dynamic unknowns,
    the merged nodes eliminated (:math:`L_{DD} - L_{DA} L_{AA}^{-1} L_{AD}`), by ARPACK
    (relative tolerance :math:`10^{-4}`, raised by 1%); leapfrog is stable for
    :math:`c^2 \Delta t^2 \rho \le 4`. Falls back on a row-sum bound when ARPACK does not
    converge (``L_AA`` is nearly :math:`-I`)."""
    dyn = np.flatnonzero(op.dynamic)
    alg = np.flatnonzero(~op.dynamic)
    L = op.L.tocsr()
    LDD = L[dyn][:, dyn]
    if alg.size:
        LDA, LAD = L[dyn][:, alg], L[alg][:, dyn]
        lu = LUSolver(L[alg][:, alg], (), perm=np.arange(alg.size))

        def matvec(v: np.ndarray) -> np.ndarray:
            return LDD @ v - LDA @ lu.solve(LAD @ v)

        bound = float(np.max(abs(LDD).sum(axis=1))) + float(np.max(abs(LDA).sum(axis=1))) * float(
            np.max(abs(LAD).sum(axis=1))
        )
    else:

        def matvec(v: np.ndarray) -> np.ndarray:
            return LDD @ v

        bound = float(np.max(abs(LDD).sum(axis=1)))
    m = dyn.size
    if m < 3:
        return bound
    A = spla.LinearOperator((m, m), matvec=matvec, dtype=np.float64)
    try:
        lam = spla.eigs(A, k=1, which="LM", tol=1e-4, maxiter=20 * m, return_eigenvectors=False)
        return 1.01 * float(np.abs(lam[0]))
    except spla.ArpackNoConvergence:
        log.debug("spectral radius: ARPACK did not converge; the row-sum bound is used")
        return bound
