"""Exact rational matrices and their characteristic polynomials (python-flint).

Public:
    as_fmpq_mat(matrix, *, name, symmetric, square)   checked conversion to ``fmpq_mat``
    charpoly(matrix) -> fmpq_poly              ``det(x I - A)``, monic, exact (python-flint)
    factor_charpoly(matrix) -> [(fmpz_poly, multiplicity)]   irreducible factors over Q
    exact_rank(matrix) -> int                  rank over Q (any shape)
    is_psd(matrix) -> bool                     exact positive semidefiniteness (symmetric)
    MAX_EXACT_SIZE             the largest ``n`` whose characteristic polynomial is computed

Also the helpers the other modules of ``derivations.algebraic`` share: ``_integer_poly`` (any
polynomial as a primitive ``fmpz_poly`` with positive leading coefficient), ``_normalize``, and
``_fraction`` / ``_fmpq`` (python-flint ``fmpq`` <-> ``Fraction``).

Algorithms (all exact; no floating point decides anything):
    * characteristic polynomial: FLINT's ``fmpq_mat_charpoly`` (python-flint ``fmpq_mat.charpoly``);
    * factorization over Q: FLINT's ``fmpz_poly_factor`` (Zassenhaus / van Hoeij) of the
      primitive integer polynomial; factors are made primitive with positive leading coefficient,
      so a factor *is* the minimal polynomial (times its content) of each of its roots.

Conventions: ``charpoly`` returns a python-flint ``fmpq_poly``; factors are ``fmpz_poly``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from derivations.errors import EmptyInputError, NonFiniteError, ShapeError, TooLargeError

MAX_EXACT_SIZE = 96
"""Refuse exact characteristic polynomials of matrices larger than this (too slow)."""


# --------------------------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------------------------
def as_fmpq_mat(
    matrix: Any, *, name: str = "matrix", symmetric: bool = True, square: bool = True
) -> Any:
    """Check and convert an exact matrix (``Fraction`` object array, nested lists, SymPy
    matrix, python-flint ``fmpq_mat``; floats are taken as the exact binary rationals they
    store) to ``fmpq_mat``; square (and symmetric) unless told otherwise. Errors name the
    shape or the offending entry."""
    from flint import fmpq, fmpq_mat

    if isinstance(matrix, fmpq_mat):
        m = matrix
    else:
        from derivations.exact import parse_matrix

        if isinstance(matrix, np.ndarray) and matrix.dtype.kind == "f":
            if not np.all(np.isfinite(matrix)):
                raise NonFiniteError(f"{name} contains NaN or Inf; every entry must be finite")
        exact = parse_matrix(matrix, name)
        m = fmpq_mat(
            exact.shape[0],
            exact.shape[1],
            [fmpq(int(x.numerator), int(x.denominator)) for x in exact.flat],
        )
    n, c = m.nrows(), m.ncols()
    if n == 0 or c == 0:
        kind = "a square matrix" if square else "a matrix"
        raise EmptyInputError(f"{name} is empty ({n} x {c}); expected {kind}, n >= 1")
    if square and n != c:
        raise ShapeError(f"{name} has shape ({n}, {c}); expected a square matrix")
    if symmetric:
        for i in range(n):
            for j in range(i + 1, n):
                if m[i, j] != m[j, i]:
                    raise ShapeError(
                        f"{name} is not symmetric: entry [{i}, {j}] = {m[i, j]} but "
                        f"[{j}, {i}] = {m[j, i]}; expected a real symmetric matrix"
                    )
    return m


def _fraction(q: Any) -> Fraction:
    return Fraction(int(q.p), int(q.q))


def _fmpq(x: Fraction) -> Any:
    from flint import fmpq

    return fmpq(x.numerator, x.denominator)


# --------------------------------------------------------------------------------------------
# characteristic polynomial
# --------------------------------------------------------------------------------------------
def charpoly(matrix: Any) -> Any:
    """``det(x I - A)`` exactly, as a monic python-flint ``fmpq_poly`` (``A`` square; it need
    not be symmetric).

    >>> str(charpoly([[2, 1], [1, 2]]))
    'x^2 + (-4)*x + 3'
    """
    m = as_fmpq_mat(matrix, symmetric=False)
    if m.nrows() > MAX_EXACT_SIZE:
        raise TooLargeError(
            f"matrix is {m.nrows()} x {m.nrows()}; exact characteristic polynomials are limited "
            f"to n <= {MAX_EXACT_SIZE}; use numeric.eigen.certified_eigvalsh instead"
        )
    return m.charpoly()


def _normalize(f: Any) -> Any:
    """Primitive integer polynomial with positive leading coefficient."""
    from flint import fmpz_poly

    f = fmpz_poly(f)
    content = f.content()
    if content != 1 and content != 0:
        f = fmpz_poly([c // content for c in f.coeffs()])
    return -f if f.leading_coefficient() < 0 else f


def _integer_poly(p: Any) -> Any:
    """An ``fmpq_poly``/``fmpz_poly``/SymPy ``Poly``/coefficient list (ascending) as a
    primitive ``fmpz_poly`` with positive leading coefficient."""
    from flint import fmpq_poly, fmpz_poly

    if isinstance(p, fmpz_poly):
        return _normalize(p)
    if isinstance(p, fmpq_poly):
        return _normalize(p.numer())
    if hasattr(p, "all_coeffs"):  # SymPy Poly, descending coefficients
        coeffs = [Fraction(int(c.p), int(c.q)) for c in reversed(p.all_coeffs())]
    else:
        coeffs = [Fraction(c) for c in p]
    den = math.lcm(*(c.denominator for c in coeffs)) if coeffs else 1
    return _normalize(fmpz_poly([int(c * den) for c in coeffs]))


def factor_charpoly(matrix: Any) -> list[tuple[Any, int]]:
    """The irreducible factors over Q of ``det(x I - A)`` with multiplicities, each a primitive
    ``fmpz_poly`` with positive leading coefficient, sorted by degree then coefficients.

    >>> [(str(f), m) for f, m in factor_charpoly([[2, 0, 0], [0, 2, 0], [0, 0, 1]])]
    [('x + (-2)', 2), ('x + (-1)', 1)]
    """
    p = charpoly(matrix)
    _, factors = _integer_poly(p).factor()
    out = [(_normalize(f), int(m)) for f, m in factors]
    return sorted(out, key=lambda fm: (fm[0].degree(), [int(c) for c in fm[0].coeffs()]))


_RANK_PRIME = 2**61 - 1
"""The prime of the modular shortcut in ``exact_rank`` (a Mersenne prime below 2^64)."""
_RANK_SHORTCUT_SIZE = 32


def exact_rank(matrix: Any) -> int:
    """The rank over Q of a rational matrix (any shape), by FLINT's exact row reduction.

    Shortcut for sizes from 32 on: scale each row by the lcm of its denominators (the rank does
    not change) and take the rank over GF(p), ``p = 2^61 - 1``. Every minor of the integer
    matrix that is nonzero mod p is nonzero, so that rank is a lower bound of the rank over Q;
    when it equals ``min(rows, cols)`` the matrix has full rank, proven, in milliseconds where
    the rational elimination of a 1024 x 1024 matrix with 1,000-bit entries takes minutes.
    Otherwise the exact elimination decides.

    >>> exact_rank([[1, 2, 3], [2, 4, 6]])
    1
    """
    m = as_fmpq_mat(matrix, symmetric=False, square=False)
    full = min(m.nrows(), m.ncols())
    if full >= _RANK_SHORTCUT_SIZE and _rank_mod_p(m) == full:
        return full
    return int(m.rank())


def _rank_mod_p(m: Any) -> int:
    """The rank over GF(``_RANK_PRIME``) of ``m`` with each row scaled to integers."""
    from flint import nmod_mat

    entries: list[int] = []
    for i in range(m.nrows()):
        row = [m[i, j] for j in range(m.ncols())]
        den = math.lcm(*(int(q.q) for q in row))
        entries.extend(int(q.p) * (den // int(q.q)) % _RANK_PRIME for q in row)
    return int(nmod_mat(m.nrows(), m.ncols(), entries, _RANK_PRIME).rank())


def is_psd(matrix: Any) -> bool:
    """Exactly whether the rational symmetric ``matrix`` is positive semidefinite.

    ``det(x I - A) = x^n + c_{n-1} x^{n-1} + ... + c_0`` has only real roots, and a real-rooted
    polynomial has no negative root iff its coefficients alternate in sign,
    ``(-1)^(n-k) c_k >= 0`` for all ``k`` (Descartes' rule of signs is exact for real-rooted
    polynomials).

    >>> is_psd([[1, 1], [1, 1]]), is_psd([[1, 2], [2, 1]])
    (True, False)
    """
    m = as_fmpq_mat(matrix, symmetric=True)
    coeffs = [_fraction(c) for c in charpoly(m).coeffs()]
    n = len(coeffs) - 1
    return all((-1) ** (n - k) * c >= 0 for k, c in enumerate(coeffs))
