"""Approximate eigenvalues of symmetric matrices (float64 and mpmath). Certified enclosures
live in ``numeric.eigen``; everything here is *approximate* and labelled so by its callers.

Public:
    eigvalsh_float64(m)            all eigenvalues, descending (LAPACK ``eigh``, float64)
    eigh_mpmath(m, dps)            eigenvalues (descending) and eigenvectors at ``dps`` digits
                                   (mpmath ``eigsy``, Jacobi; approximate, not certified)
    top_eigenpairs_float64(op, k)  the ``k`` largest eigenpairs of a symmetric ``LinearOperator``
                                   (ARPACK Lanczos via ``scipy.sparse.linalg.eigsh``; float64)
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from numeric.evaluators.kinds import to_mp_matrix

__all__ = ["eigh_mpmath", "eigvalsh_float64", "top_eigenpairs_float64"]


def eigvalsh_float64(m: np.ndarray) -> np.ndarray:
    """Eigenvalues of the symmetric ``m`` in float64, largest first."""
    return np.linalg.eigvalsh(np.asarray(m, dtype=np.float64))[::-1]


def eigh_mpmath(m: np.ndarray, dps: int) -> tuple[list[Any], np.ndarray]:
    """Eigenvalues (descending, ``mpf``) and eigenvectors (columns of an object array) of the
    symmetric ``m`` with mpmath's ``eigsy`` at ``dps`` decimal digits. Entries may be
    ``Fraction``, ``mpf``, int or float; they are rounded to ``dps`` digits first."""
    n = m.shape[0]
    with mpmath.workdps(dps):
        vals, vecs = mpmath.eigsy(to_mp_matrix(m))
        order = sorted(range(n), key=lambda i: vals[i], reverse=True)
        q = np.empty((n, n), dtype=object)
        for c, i in enumerate(order):
            for r in range(n):
                q[r, c] = vecs[r, i]
        return [vals[i] for i in order], q


def top_eigenpairs_float64(
    op: LinearOperator | np.ndarray,
    k: int = 2,
    *,
    seed: int = 0,
    tol: float = 0.0,
    ncv: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` algebraically largest eigenpairs (descending) of a symmetric operator, by
    implicitly restarted Lanczos (ARPACK) with a seeded start vector; dense ``eigh`` when the
    operator is too small for ARPACK (``n <= k + 1``). ``ncv`` Lanczos vectors (default
    ``max(20, 2k + 1)`` capped at ``n - 1``; more converge faster on clustered tops: for the
    full Hessian at dims (64,128,128,128,64), 80 instead of 20 took 12 s instead of 51 s)."""
    n = op.shape[0]
    k = min(k, n)
    if n <= max(k + 1, 3):
        dense = op @ np.eye(n) if isinstance(op, LinearOperator) else np.asarray(op, dtype=float)
        vals, vecs = np.linalg.eigh(dense)
        return vals[::-1][:k], vecs[:, ::-1][:, :k]
    v0 = np.random.default_rng(seed).standard_normal(n)
    ncv = min(n - 1, ncv if ncv is not None else max(20, 2 * k + 1))
    vals, vecs = eigsh(op, k=k, which="LA", v0=v0, tol=tol, ncv=ncv)
    order = np.argsort(vals)[::-1]
    return vals[order], vecs[:, order]
