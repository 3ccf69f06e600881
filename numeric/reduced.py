"""The reduced operator K of docs/mathematics.md K2, dense and matrix-free.

Public:
    reduced_operator(weights, data=None, *, form="sqrt")   dense K
    reduced_linear_operator(weights, data=None)            float64 matrix-free K
    reduced_terms(weights, data=None, *, form="sqrt")      the pairs (S_l, G_l) with K = sum S_l kron G_l
    minimizer_hessian(weights, data)                       exact ``J^T J`` (P x P) from ``C = X X^T``
    data_factor(data) / data_factor_columns(data)          rational ``F``, ``F F^T = X X^T``, few columns
    four_squares(n)                                        Lagrange: ``n = a^2 + b^2 + c^2 + d^2``
    exact_operator_sizes(dims, n_samples, factor_columns=None)   the exact forms' sizes, the smallest

At a minimizer with ``R X^T = 0`` the Hessian is ``J^T J`` and its nonzero eigenvalues, with
multiplicity, are those of (docs/mathematics.md K2)

    K = sum_l (C^{1/2} B_l^T B_l C^{1/2}) kron (A_l A_l^T),     C = X X^T,

of size ``d_L d_0`` whatever the hidden widths; for ``X = I``, ``K = sum_l (B_l^T B_l) kron
(A_l A_l^T)``. ``K`` acts on the column-major ``vec(E)`` of ``E`` (``d_L x d_0``) as
``E -> sum_l A_l A_l^T E (C^{1/2} B_l^T B_l C^{1/2})``.

``form="gram"`` uses ``S_l = X^T B_l^T B_l X`` instead (size ``d_L N``): ``J J^T`` itself, which is
rational when the inputs are (``C^{1/2}`` is not) and has the same nonzero spectrum. Without data
both forms coincide.

**Which exact form.** The ``sqrt`` form is irrational with data. Three rational symmetric
matrices have the Hessian's nonzero spectrum and rank at a minimizer (that of ``J J^T`` and
``J^T J``): the ``gram`` form (``d_L N``); ``J^T J`` itself (``P x P``, docs/mathematics.md K1
with ``R X^T = 0``; blocks ``(A_k^T A_l) kron (B_k C B_l^T)``, from ``C = X X^T`` computed
once); and the ``gram`` form of any rational ``F`` with ``F F^T = C`` in place of ``X`` (``d_L
m``): the nonzero spectrum of ``(Z^T kron I) M (Z kron I)``, ``M = sum_l B_l^T B_l kron A_l
A_l^T``, is that of ``M^{1/2} (Z Z^T kron I) M^{1/2}``, so it depends on ``Z`` only through
``Z Z^T``. A rational Cholesky factor does not exist in general, but ``C = sum_k d_k v_k v_k^T``
(symmetric elimination, rational ``d_k > 0`` and ``v_k``) and each ``d_k = p/q`` is a sum of four
rational squares (Lagrange: ``p q = a^2 + b^2 + c^2 + d^2``, then ``d_k = sum (a/q)^2``), so
``F = [a_j/q v_k]`` has at most ``4 rank C <= 4 d_0`` columns (one per ``d_k`` that is a
rational square). ``F F^T = C`` is checked exactly after it is built. ``exact_operator_sizes``
picks the smallest (the ``gram`` form on ties, then ``F``): with many samples that is ``F``
(about ``4 d_0 d_L``) or ``J^T J`` (e.g. ``P = 2`` instead of ``d_L N = 2000``).

>>> import numpy as np
>>> ws = [np.array([[1.0, 0.0], [0.0, 2.0]]), np.eye(2)]
>>> np.linalg.eigvalsh(reduced_operator(ws))   # depth 2: s_i(W_2)^2 + t_j(W_1)^2 (K5)
array([2., 2., 5., 5.])
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, Literal

import mpmath
import numpy as np
from scipy.sparse.linalg import LinearOperator

from derivations.errors import DmfError
from numeric.factors import left_factor, right_factor

__all__ = [
    "FACTOR_MAX_BITS",
    "data_factor",
    "data_factor_columns",
    "dyadic_kron_sum",
    "dyadic_reduced_operator",
    "exact_operator_sizes",
    "four_squares",
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


FACTOR_MAX_BITS = 1024
"""``data_factor`` gives up (``None``) when a pivot ``p/q`` of ``C`` has ``p q`` beyond this many
bits: the four-square search tests about ``bits/2`` candidates for primality (measured: 0.01-0.05
s per pivot at 1024 bits, 0.15-0.7 s at 2048)."""


def exact_operator_sizes(
    dims: Sequence[int], n_samples: int | None, factor_columns: int | None = None
) -> tuple[str, int, int, int]:
    """``(choice, size of the choice, d_L N, P)`` for the exact route at a minimizer, the
    smallest of: ``"gram"`` (``K`` in its ``gram`` form, ``d_L N``; ``N = d_0`` without
    data), ``"factor"`` (the ``gram`` form of ``F`` with ``F F^T = X X^T``, ``d_L m``, when
    ``factor_columns = m`` is given) and ``"hessian"`` (``J^T J``, ``P x P``; only with data).
    Ties go to ``gram``, then ``factor``.

    >>> exact_operator_sizes((2, 1), 2000)      # W_1 is 1 x 2, X is 2 x 2000
    ('hessian', 2, 2000, 2)
    >>> exact_operator_sizes((4, 64, 4), 1000, factor_columns=16)
    ('factor', 64, 4000, 512)
    >>> exact_operator_sizes((3, 3, 2), 5, factor_columns=12)
    ('gram', 10, 10, 15)
    """
    params = sum(a * b for a, b in itertools.pairwise(dims))
    gram = dims[-1] * (dims[0] if n_samples is None else n_samples)
    options = [("gram", gram)]
    if n_samples is not None:
        if factor_columns is not None:
            options.append(("factor", dims[-1] * factor_columns))
        options.append(("hessian", params))
    choice, size = min(options, key=lambda o: o[1])  # min keeps the first of equal sizes
    return choice, size, gram, params


def _is_square(n: int) -> int | None:
    r = math.isqrt(n)
    return r if r * r == n else None


def _two_squares_of_prime(p: int, rng: random.Random) -> tuple[int, int] | None:
    """``(a, b)`` with ``a^2 + b^2 = p`` for a prime ``p = 1 mod 4`` (Hermite-Serret: Euclid on
    ``(p, s)``, ``s^2 = -1 mod p``, stops at the first remainder below ``sqrt p``); ``None`` if
    ``p`` is not such a prime after all (the result is checked)."""
    for _ in range(64):
        s = pow(rng.randrange(2, p - 1), (p - 1) // 4, p)
        if s * s % p == p - 1:
            break
    else:
        return None
    a, b = p, s
    while b * b > p:
        a, b = b, a % b
    c = _is_square(p - b * b)
    return None if c is None else (b, c)


def four_squares(n: int) -> tuple[int, int, int, int]:
    """Integers ``(a, b, c, d)`` with ``a^2 + b^2 + c^2 + d^2 = n >= 0`` (Lagrange's theorem),
    by the randomized algorithm of M. O. Rabin and J. O. Shallit ("Randomized algorithms in
    number theory", Comm. Pure Appl. Math. 39 (1986) S239-S256): after removing factors 4,
    pick ``x, y`` with parities that make ``p = n - x^2 - y^2 = 1 mod 4``; when ``p`` is prime
    it is a sum of two squares (Fermat), found by ``_two_squares_of_prime``. The random choices
    are seeded by ``n`` (the same ``n`` always gives the same squares); the result is exact
    and checked.

    >>> four_squares(7), four_squares(4 * 7), sum(v * v for v in four_squares(10**40 + 7))
    ((2, 1, 1, 1), (4, 2, 2, 2), 10000000000000000000000000000000000000007)
    """
    if n < 0:
        raise ValueError(f"four_squares needs n >= 0; got {n}")
    k = 0
    while n and n % 4 == 0:
        n, k = n // 4, k + 1
    scale = 1 << k
    root = _is_square(n)
    if root is not None:
        return root * scale, 0, 0, 0
    if n < 1024:
        for a in range(math.isqrt(n), -1, -1):
            for b in range(min(a, math.isqrt(n - a * a)), -1, -1):
                for c in range(min(b, math.isqrt(n - a * a - b * b)), -1, -1):
                    d = _is_square(n - a * a - b * b - c * c)
                    if d is not None and d <= c:
                        return a * scale, b * scale, c * scale, d * scale
    from flint import fmpz

    rng = random.Random(n)
    odd_x, odd_y = {1: (0, 0), 2: (1, 0), 3: (1, 1)}[n % 4]
    while True:
        x = rng.randrange(0, math.isqrt(n) + 1)
        x = x | 1 if odd_x else x & ~1
        rest = n - x * x
        if rest < 5:
            continue
        y = rng.randrange(0, math.isqrt(rest) + 1)
        y = y | 1 if odd_y else y & ~1
        p = rest - y * y
        if p < 5 or p % 4 != 1 or not fmpz(p).is_probable_prime():
            continue
        ab = _two_squares_of_prime(p, rng)
        if ab is not None:
            out = (x * scale, y * scale, ab[0] * scale, ab[1] * scale)
            assert sum(v * v for v in out) == n * scale * scale
            return out


def _pivots(c: np.ndarray) -> list[tuple[Fraction, np.ndarray]]:
    """``C = sum_k d_k v_k v_k^T`` for a positive semidefinite rational ``C``: symmetric
    elimination on the first nonzero diagonal entry (a zero diagonal entry of a PSD matrix has
    a zero row), ``d_k > 0``."""
    work = np.array(c, dtype=object)
    out = []
    for _ in range(work.shape[0]):
        i = next((i for i in range(work.shape[0]) if work[i, i] != 0), None)
        if i is None:
            break
        d = Fraction(work[i, i])
        if d < 0:
            raise DmfError("internal error: C = X X^T has a negative pivot; please report it")
        v = work[:, i] / d
        work = work - d * np.multiply.outer(v, v)
        out.append((d, v))
    return out


def _gram(data: np.ndarray) -> np.ndarray:
    from derivations.exact import from_fmpq_mat, to_fmpq_mat

    x = to_fmpq_mat(data)
    return from_fmpq_mat(x * x.transpose())


def data_factor_columns(data: np.ndarray) -> int | None:
    """The number of columns ``data_factor`` uses at most (``4 rank C``, 1 per pivot that is a
    rational square), or ``None`` when a pivot is too large for the four-square search
    (``FACTOR_MAX_BITS``). Cheap: one product ``X X^T`` and one elimination on ``d_0 x d_0``."""
    count = 0
    for d, _ in _pivots(_gram(data)):
        n = d.numerator * d.denominator
        if n.bit_length() > FACTOR_MAX_BITS:
            return None
        count += 1 if _is_square(n) is not None else 4
    return max(count, 1)  # X = 0: one zero column


def data_factor(data: np.ndarray) -> np.ndarray | None:
    """A rational ``F`` (``d_0 x m``, ``m <= 4 rank C``) with ``F F^T = C = X X^T`` exactly (module
    docstring; checked), or ``None`` when a pivot is too large (``data_factor_columns``).

    >>> from fractions import Fraction as F
    >>> x = np.array([[F(1), F(1), F(1)], [F(2), F(2), F(2)]], dtype=object)   # C = [[3, 6], [6, 12]]
    >>> f = data_factor(x)
    >>> f.shape, bool((f @ f.T == x @ x.T).all())
    ((2, 3), True)
    """
    c = _gram(data)
    columns = []
    for d, v in _pivots(c):
        p, q = d.numerator, d.denominator
        if (p * q).bit_length() > FACTOR_MAX_BITS:
            return None
        roots = [_is_square(p * q)]
        squares = [r for r in (roots if roots[0] is not None else four_squares(p * q)) if r]
        columns += [v * Fraction(a, q) for a in squares]
    if not columns:
        columns = [np.zeros(c.shape[0], dtype=object) + Fraction(0)]
    f = np.stack(columns, axis=1)
    if not (f @ f.T == c).all():
        raise DmfError("internal error: the rational factor F F^T != X X^T; please report it")
    return f


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


# ----------------------------------------------------------------------------- float64 weights
def _identity_fmpz(n: int) -> Any:
    from flint import fmpz_mat

    return fmpz_mat(n, n, [int(i == j) for i in range(n) for j in range(n)])


def dyadic_reduced_operator(weights: Sequence[np.ndarray]) -> Any:
    """The exact reduced operator ``K = sum_l (B_l^T B_l) kron (A_l A_l^T)`` (``X = I``,
    docs/mathematics.md K2) of float64 weights, as a python-flint ``fmpq_mat`` of size
    ``d_0 d_L``, the same matrix as ``reduced_operator(..., form="gram")`` on the exact
    rationals the floats store.

    Every float64 is a dyadic rational, so ``W_l = N_l 2^(e_l)`` with an integer matrix ``N_l``;
    the factors are built by thin integer products only (FLINT ``fmpz_mat``),
    ``B_(l+1) = W_l B_l`` (``d_l x d_0``) and ``A_(l-1) = A_l W_l`` (``d_L x d_(l-1)``), never
    a ``d_l x d_l`` product of hidden layers, and only their Gram matrices ``B_l^T B_l``
    (``d_0 x d_0``) and ``A_l A_l^T`` (``d_L x d_L``) enter ``K``. At dims
    ``(16, 1024, 1024, 16)`` (1.08 million weights) this takes about 3.4 s on the project's
    2-core machine, where the same ``K`` from ``Fraction`` products is predicted at days.

    >>> ws = [np.array([[0.5, 1.0]]), np.array([[2.0], [1.0]])]
    >>> k = dyadic_reduced_operator(ws)     # K = I kron W_2 W_2^T + W_1^T W_1 kron I (K5)
    >>> k.nrows(), k[0, 0], k[3, 3]
    (4, 17/4, 2)
    >>> from derivations.exact import parse_point     # the same floats, read exactly
    >>> exact = reduced_operator(list(parse_point(ws).weights), form="gram")
    >>> all(str(k[i, j]) == str(exact[i, j]) for i in range(4) for j in range(4))
    True
    """
    from numeric.evaluators.float64_input import dyadic_matrix

    mats = [dyadic_matrix(np.asarray(w, dtype=np.float64)) for w in weights]
    depth = len(mats)
    d0, dl = mats[0][0].ncols(), mats[-1][0].nrows()
    grams_b: list[tuple[Any, int]] = []
    b, eb = _identity_fmpz(d0), 0
    for l in range(depth):
        grams_b.append((b.transpose() * b, 2 * eb))
        b, eb = mats[l][0] * b, eb + mats[l][1]
    grams_a: list[tuple[Any, int]] = []
    a, ea = _identity_fmpz(dl), 0
    for l in reversed(range(depth)):
        grams_a.append((a * a.transpose(), 2 * ea))
        a, ea = a * mats[l][0], ea + mats[l][1]
    grams_a.reverse()
    return dyadic_kron_sum(grams_b, grams_a)


def dyadic_kron_sum(grams_b: Sequence[tuple[Any, int]], grams_a: Sequence[tuple[Any, int]]) -> Any:
    """``sum_l (S_l 2^(s_l)) kron (G_l 2^(g_l))`` exactly, as a python-flint ``fmpq_mat``, from
    integer ``fmpz_mat`` pairs ``(S_l, s_l)`` (square, all the same size) and ``(G_l, g_l)``
    (likewise): one integer sum over the smallest exponent, then one power of two. With
    ``S_l = B_l^T B_l`` and ``G_l = A_l A_l^T`` this is ``K`` in the column-major ``vec`` order
    of ``dyadic_reduced_operator`` (row ``i d_G + p`` for ``S`` index ``i``, ``G`` index ``p``).

    >>> from flint import fmpz_mat
    >>> dyadic_kron_sum([(fmpz_mat([[1]]), 0)], [(fmpz_mat([[1, 1], [1, 3]]), -1)]).tolist()
    [[1/2, 1/2], [1/2, 3/2]]
    """
    from flint import fmpq, fmpq_mat

    depth = len(grams_b)
    d0, dl = grams_b[0][0].nrows(), grams_a[0][0].nrows()
    exps = [grams_b[l][1] + grams_a[l][1] for l in range(depth)]
    low = min(exps)
    n = d0 * dl
    total = [0] * (n * n)
    for l in range(depth):
        scale = 1 << (exps[l] - low)
        gb = [[int(grams_b[l][0][i, j]) * scale for j in range(d0)] for i in range(d0)]
        ga = [[int(grams_a[l][0][p, q]) for q in range(dl)] for p in range(dl)]
        for i in range(d0):
            for j in range(d0):
                if gb[i][j]:
                    for p in range(dl):
                        row, v, gp = (i * dl + p) * n + j * dl, gb[i][j], ga[p]
                        for q in range(dl):
                            total[row + q] += v * gp[q]
    factor = fmpq(2) ** low if low >= 0 else fmpq(1, 2 ** (-low))
    return fmpq_mat(n, n, [fmpq(v) * factor for v in total])
