"""The reduced operator K of docs/mathematics.md K2, dense and matrix-free.

Public:
    reduced_operator(weights, data=None, *, form="sqrt")   dense K
    reduced_linear_operator(weights, data=None)            float64 matrix-free K
    reduced_terms(weights, data=None, *, form="sqrt")      the pairs (S_l, G_l) with K = sum S_l kron G_l
    minimizer_hessian(weights, data)                       exact ``J^T J`` (P x P) from ``C = X X^T``
    exact_operator_sizes(dims, n_samples)                  sizes of the exact forms, and the smallest

At a minimizer with ``R X^T = 0`` the Hessian is ``J^T J`` and its nonzero eigenvalues, with
multiplicity, are those of (docs/mathematics.md K2)

    K = sum_l (C^{1/2} B_l^T B_l C^{1/2}) kron (A_l A_l^T),     C = X X^T,

of size ``d_L d_0`` whatever the hidden widths; for ``X = I``, ``K = sum_l (B_l^T B_l) kron
(A_l A_l^T)``. ``K`` acts on the column-major ``vec(E)`` of ``E`` (``d_L x d_0``) as
``E -> sum_l A_l A_l^T E (C^{1/2} B_l^T B_l C^{1/2})``.

``form="gram"`` uses ``S_l = X^T B_l^T B_l X`` instead (size ``d_L N``): ``J J^T`` itself, which is
rational when the inputs are (``C^{1/2}`` is not) and has the same nonzero spectrum. Without data
both forms coincide.

**Which exact form.** The ``sqrt`` form is irrational with data, and a rational symmetric matrix
with its spectrum would need a rational ``F`` with ``F F^T = C`` (a rational Cholesky factor
does not exist in general). So the exact, certifiable choices are the ``gram`` form (``d_L N``)
and ``J^T J`` itself (``P x P``, the Hessian at a minimizer, docs/mathematics.md K1 with
``R X^T = 0``; its blocks ``(A_k^T A_l) kron (B_k C B_l^T)`` need ``X`` only through ``C``,
computed once). Both are rational, symmetric, and have the same nonzero spectrum (that of
``J J^T`` and ``J^T J``) and the same rank. ``exact_operator_sizes`` picks the smaller one (the
``gram`` form on ties): with many samples (``N > d_0``) and few parameters that is ``J^T J``, e.g.
``P = 2`` instead of ``d_L N = 2000``.

>>> import numpy as np
>>> ws = [np.array([[1.0, 0.0], [0.0, 2.0]]), np.eye(2)]
>>> np.linalg.eigvalsh(reduced_operator(ws))   # depth 2: s_i(W_2)^2 + t_j(W_1)^2 (K5)
array([2., 2., 5., 5.])
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Literal

import mpmath
import numpy as np
from scipy.sparse.linalg import LinearOperator

from derivations.errors import DmfError
from numeric.factors import left_factor, right_factor

__all__ = [
    "exact_operator_sizes",
    "minimizer_hessian",
    "reduced_linear_operator",
    "reduced_operator",
    "reduced_terms",
]

Form = Literal["sqrt", "gram"]


def _sym_sqrt(c: np.ndarray) -> np.ndarray:
    """``C^{1/2}`` of a symmetric positive semidefinite ``C`` (float64 or mpf entries)."""
    if c.dtype != object:
        vals, vecs = np.linalg.eigh(c)
        return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T
    if any(not isinstance(x, mpmath.mpf | int) for x in c.flat):
        raise DmfError(
            "C^{1/2} of exact rational data is irrational; use form='gram' (J J^T, same nonzero "
            "spectrum) for exact or certified work with data"
        )
    vals, vecs = mpmath.eigsy(mpmath.matrix(c.tolist()))
    n = c.shape[0]
    root = [mpmath.sqrt(max(vals[i], 0)) for i in range(n)]
    out = np.empty((n, n), dtype=object)
    for i in range(n):
        for j in range(n):
            out[i, j] = mpmath.fsum(vecs[i, k] * root[k] * vecs[j, k] for k in range(n))
    return out


def reduced_terms(
    weights: Sequence[np.ndarray], data: np.ndarray | None = None, *, form: Form = "sqrt"
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(S_l, G_l)]`` with ``G_l = A_l A_l^T`` and ``S_l = B_l^T B_l``, ``C^{1/2} B_l^T B_l
    C^{1/2}`` (``form="sqrt"``) or ``X^T B_l^T B_l X`` (``form="gram"``)."""
    if form not in ("sqrt", "gram"):
        raise ValueError(f"form must be 'sqrt' or 'gram'; got {form!r}")
    depth = len(weights)
    if data is None:
        left = [right_factor(weights, l) for l in range(1, depth + 1)]
    elif form == "gram":
        left = [right_factor(weights, l) @ data for l in range(1, depth + 1)]
    else:
        root = _sym_sqrt(data @ data.T)
        left = [right_factor(weights, l) @ root for l in range(1, depth + 1)]
    out = []
    for l in range(1, depth + 1):
        a = left_factor(weights, l)
        out.append((left[l - 1].T @ left[l - 1], a @ a.T))
    return out


def exact_operator_sizes(dims: Sequence[int], n_samples: int | None) -> tuple[str, int, int, int]:
    """``(choice, size of the choice, d_L N, P)`` for the exact route at a minimizer: ``"gram"``
    (``K`` in its ``gram`` form, ``d_L N``; ``N = d_0`` without data) unless ``J^T J``
    (``"hessian"``, ``P x P``) is strictly smaller, which happens only with data.

    >>> exact_operator_sizes((2, 1), 2000)      # W_1 is 1 x 2, X is 2 x 2000
    ('hessian', 2, 2000, 2)
    >>> exact_operator_sizes((3, 3, 2), 5)
    ('gram', 10, 10, 15)
    """
    params = sum(a * b for a, b in itertools.pairwise(dims))
    gram = dims[-1] * (dims[0] if n_samples is None else n_samples)
    if n_samples is not None and params < gram:
        return "hessian", params, gram, params
    return "gram", gram, gram, params


def minimizer_hessian(weights: Sequence[np.ndarray], data: np.ndarray | None) -> np.ndarray:
    """``J^T J`` exactly (``Fraction`` entries), the Hessian at a minimizer with ``R X^T = 0``
    (docs/mathematics.md K1: the residual term vanishes there), in the parameter order of
    ``numeric.hessian``: block ``(k, l)`` is ``(A_k^T A_l) kron (B_k C B_l^T)`` with ``C = X X^T``
    (computed once, with python-flint; ``C = I`` without data), so its cost does not grow with
    the number of samples beyond that one product.

    >>> from fractions import Fraction as F
    >>> import numpy as np
    >>> w = np.array([[F(1), F(2)]], dtype=object)
    >>> minimizer_hessian([w], np.array([[F(1), F(1), F(1)], [F(2), F(2), F(2)]], dtype=object))
    array([[Fraction(3, 1), Fraction(6, 1)],
           [Fraction(6, 1), Fraction(12, 1)]], dtype=object)
    """
    from derivations.exact import from_fmpq_mat, to_fmpq_mat

    depth = len(weights)
    c = None if data is None else from_fmpq_mat(to_fmpq_mat(data) * to_fmpq_mat(data).transpose())
    a = [left_factor(weights, l) for l in range(1, depth + 1)]
    b = [right_factor(weights, l) for l in range(1, depth + 1)]
    bc = [bl if c is None else bl @ c for bl in b]
    sizes = [w.size for w in weights]
    off = [sum(sizes[:l]) for l in range(depth + 1)]
    out = np.empty((off[-1], off[-1]), dtype=object)
    for k in range(depth):
        for l in range(k, depth):
            block = np.kron(a[k].T @ a[l], bc[k] @ b[l].T)
            out[off[k] : off[k + 1], off[l] : off[l + 1]] = block
            if l != k:
                out[off[l] : off[l + 1], off[k] : off[k + 1]] = block.T
    return out


def _as_integers(m: np.ndarray) -> tuple[np.ndarray, int]:
    """A matrix of ``Fraction``s (and ints) as ``(integer matrix, d)``, ``m = integers / d``."""
    den = math.lcm(*(x.denominator for x in m.flat))
    ints = np.empty(m.size, dtype=object)
    ints[:] = [x.numerator * (den // x.denominator) for x in m.flat]
    return ints.reshape(m.shape), den


def _kron_sum_exact(terms: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """``sum_l S_l kron G_l`` for ``Fraction`` (or int) matrices, computed on Python integers over one
    common denominator (integer products are much cheaper than ``Fraction`` ones), then one
    ``Fraction`` per entry. Exact."""
    scaled = [(_as_integers(s), _as_integers(g)) for s, g in terms]
    den = math.lcm(*(ds * dg for (_, ds), (_, dg) in scaled))
    total: np.ndarray | None = None
    for (si, ds), (gi, dg) in scaled:
        term = np.kron(si, gi)
        if den != ds * dg:
            term = term * (den // (ds * dg))
        total = term if total is None else total + term
    assert total is not None
    out = np.empty(total.size, dtype=object)
    out[:] = [Fraction(v, den) for v in total.flat]
    return out.reshape(total.shape)


def reduced_operator(
    weights: Sequence[np.ndarray], data: np.ndarray | None = None, *, form: Form = "sqrt"
) -> np.ndarray:
    """Dense ``K = sum_l S_l kron G_l`` (docs/mathematics.md K2); exact for ``Fraction`` inputs."""
    terms = reduced_terms(weights, data, form=form)
    if all(isinstance(x, Fraction | int) for s, g in terms for m in (s, g) for x in m.flat):
        return _kron_sum_exact(terms)
    k = np.kron(*terms[0])
    for s, g in terms[1:]:
        k = k + np.kron(s, g)
    return k


def reduced_linear_operator(
    weights: Sequence[np.ndarray], data: np.ndarray | None = None
) -> LinearOperator:
    """Matrix-free float64 ``K``: ``vec(E) -> vec(sum_l G_l E S_l)`` (column-major vec), cost
    ``O(L (d_L^2 d_0 + d_L d_0^2))`` per product, never forming the ``d_L d_0``-square matrix.

    It works on ``E^T`` (the C-order reshape of the column-major ``vec(E)``), where the product
    is ``sum_l S_l E^T G_l`` (``S_l``, ``G_l`` symmetric), so no transposed copies are made;
    factors that are exactly the identity (``S_1 = I`` without data, ``G_L = I``) are skipped.
    """
    ws = [np.asarray(w, dtype=np.float64) for w in weights]
    x = None if data is None else np.asarray(data, dtype=np.float64)
    terms = reduced_terms(ws, x, form="sqrt")
    d_l, d_0 = ws[-1].shape[0], terms[0][0].shape[0]
    n = d_l * d_0
    ident_s, ident_g = np.eye(d_0), np.eye(d_l)
    left = [g for s, g in terms if np.array_equal(s, ident_s)]  # E -> G E
    right = [s for s, g in terms if np.array_equal(g, ident_g) and not np.array_equal(s, ident_s)]
    both = [(s, g) for s, g in terms if not (np.array_equal(s, ident_s) or np.array_equal(g, ident_g))]
    g_left = sum(left, np.zeros((d_l, d_l)))
    s_right = sum(right, np.zeros((d_0, d_0)))
    s_both = np.stack([s for s, _ in both]) if both else np.zeros((0, d_0, d_0))
    g_both = np.stack([g for _, g in both]) if both else np.zeros((0, d_l, d_l))

    def matvec(v: np.ndarray) -> np.ndarray:
        et = np.asarray(v, dtype=np.float64).reshape(d_0, d_l)  # E^T
        out = np.zeros((d_0, d_l))
        if left:
            out += et @ g_left
        if right:
            out += s_right @ et
        if both:
            out += np.matmul(np.matmul(s_both, et), g_both).sum(axis=0)
        return out.reshape(n)

    return LinearOperator((n, n), matvec=matvec, rmatvec=matvec, dtype=np.float64)
