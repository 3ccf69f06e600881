"""Exact eigenvalues of rational symmetric matrices as real algebraic numbers, and exact
comparison of such numbers (with each other, with rationals, with radical closed forms).

Public:
    as_fmpq_mat(matrix, *, name, symmetric, square)   checked conversion to ``fmpq_mat``
    charpoly(matrix) -> fmpq_poly              ``det(x I - A)``, monic, exact (python-flint)
    factor_charpoly(matrix) -> [(fmpz_poly, multiplicity)]   irreducible factors over Q
    exact_rank(matrix) -> int                  rank over Q (any shape)
    is_psd(matrix) -> bool                     exact positive semidefiniteness (symmetric)
    AlgebraicNumber            a real algebraic number: minimal polynomial + isolating interval;
                               exact ``+``, ``-``, ``*``, integer ``**``, ``root(k)``,
                               ``from_rational`` (each result again with its minimal polynomial)
    MAX_DEGREE                 the largest defining polynomial those operations build
    real_roots(poly) -> [AlgebraicNumber]      all real roots, ascending, exactly isolated
    exact_eigenvalues(matrix) -> [(AlgebraicNumber, multiplicity)], descending
    exact_lambda_max(matrix) -> AlgebraicNumber
    Comparison                 ``relation``, ``proof``, ``gap`` (Enclosure of a - b), ``proved``
    compare_exact(a, b) -> Comparison          exact ``<``, ``=``, ``>``
    AlgebraicFormula           a formula in algebraic numbers: certified enclosures at once,
                               the exact value (an ``AlgebraicNumber``) only on demand
    compare_formulas(a, b) -> Comparison       enclosures first, exact values when they overlap
    algebraic_from_sympy(expr) -> AlgebraicNumber   via ``sympy.minimal_polynomial`` (guarded)
    enclosure_of(expr, dps) -> Enclosure       rigorous interval evaluation of a SymPy expression
    compare_by_enclosures(a, b, *, dps, max_dps) -> Comparison   strict inequality from disjoint
                                               enclosures, otherwise "~" (equal to N digits,
                                               NOT proved)

Algorithms (all exact; no floating point decides anything):
    * characteristic polynomial: FLINT's ``fmpq_mat_charpoly`` (python-flint ``fmpq_mat.charpoly``);
    * factorization over Q: FLINT's ``fmpz_poly_factor`` (Zassenhaus / van Hoeij) of the
      primitive integer polynomial; factors are made primitive with positive leading coefficient,
      so a factor *is* the minimal polynomial (times its content) of each of its roots;
    * real-root isolation: candidate intervals from FLINT's certified complex root finder
      (``fmpz_poly.complex_roots``, Arb balls; real roots come with exact zero imaginary part),
      then *verified exactly*: each candidate has rational endpoints with a strict sign change
      of the polynomial and the candidates are pairwise disjoint, so each holds at least one
      root; when there are ``degree`` of them (always the case for factors of symmetric
      matrices, whose roots are all real) each holds exactly one. For polynomials with
      non-real roots the real-root count comes from a Sturm sequence over Q (degree <= 24) or
      from Arb's certified isolation of the non-real roots. If verification fails, isolation
      falls back to Sturm-sequence bisection;
    * refinement: bisection with the exact sign of the polynomial at rational midpoints;
    * comparison: two real algebraic numbers are equal iff they have the same minimal polynomial
      and the intersection of their isolating intervals contains a root of it (a strict sign
      change at its rational endpoints); otherwise they differ and refining until the intervals
      are disjoint decides ``<``/``>``.
    * arithmetic: ``a + b``, ``a b`` and ``a^n`` are roots of the resultants
      ``Res_y(f(y), g(x - y))``, ``Res_y(f(y), y^m g(x / y))`` and ``Res_y(f(y), x - y^n)``
      (FLINT's multivariate resultant), ``a^(1/k)`` a root of ``f(x^k)``; the result's minimal
      polynomial is the irreducible factor over Q whose exactly isolated root meets an
      enclosure of the result (distinct irreducible factors share no root). With a rational
      operand the minimal polynomial is a translate/rescaling, no factoring needed.

Conventions: ``charpoly`` returns a python-flint ``fmpq_poly``; factors are ``fmpz_poly``.
Relative precision: ``refine(dps)`` makes ``width <= 10^-dps * min|x|`` over the interval.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from derivations.errors import (
    DmfError,
    EmptyInputError,
    EntryError,
    NonFiniteError,
    PrecisionExhausted,
    ShapeError,
    TooLargeError,
)
from derivations.intervals import Enclosure, arb_to_fraction, as_enclosure, relative_tolerance

__all__ = [
    "MAX_DEGREE",
    "AlgebraicFormula",
    "AlgebraicNumber",
    "Comparison",
    "algebraic_from_sympy",
    "as_fmpq_mat",
    "charpoly",
    "compare_by_enclosures",
    "compare_exact",
    "compare_formulas",
    "enclosure_of",
    "exact_eigenvalues",
    "exact_lambda_max",
    "exact_rank",
    "factor_charpoly",
    "is_psd",
    "real_roots",
]

_LOG2_10 = math.log2(10)
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


def exact_rank(matrix: Any) -> int:
    """The rank over Q of a rational matrix (any shape), by FLINT's exact row reduction.

    >>> exact_rank([[1, 2, 3], [2, 4, 6]])
    1
    """
    return int(as_fmpq_mat(matrix, symmetric=False, square=False).rank())


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


# --------------------------------------------------------------------------------------------
# Sturm sequences and sign evaluation
# --------------------------------------------------------------------------------------------
def _sign(f: Any, x: Fraction) -> int:
    v = f(_fmpq(x))
    return (v > 0) - (v < 0)


@functools.lru_cache(maxsize=256)
def _sturm_chain(coeffs: tuple[int, ...]) -> tuple[Any, ...]:
    """Sturm sequence ``p0 = f, p1 = f', p_{k+1} = -(p_{k-1} mod p_k)`` over Q."""
    from flint import fmpq_poly

    chain = [fmpq_poly(list(coeffs))]
    chain.append(chain[0].derivative())
    while not chain[-1].is_zero() and chain[-1].degree() > 0:
        r = -(chain[-2] % chain[-1])
        if r.is_zero():
            break
        chain.append(r)
    return tuple(p for p in chain if not p.is_zero())


def _variations(chain: tuple[Any, ...], x: Fraction | None, at: int = 0) -> int:
    """Sign variations of the chain at ``x`` (``x is None``: at ``at * infinity``)."""
    signs = []
    for p in chain:
        if x is None:
            lc = p.leading_coefficient()
            s = (lc > 0) - (lc < 0)
            s = s if (at > 0 or p.degree() % 2 == 0) else -s
        else:
            s = _sign(p, x)
        if s:
            signs.append(s)
    return sum(1 for a, b in itertools.pairwise(signs) if a != b)


def _chain(f: Any) -> tuple[Any, ...]:
    return _sturm_chain(tuple(int(c) for c in f.coeffs()))


def _count_roots(f: Any, lo: Fraction | None, hi: Fraction | None) -> int:
    """Number of distinct real roots of the squarefree ``f`` in ``(lo, hi]`` (``None``:
    infinite end)."""
    ch = _chain(f)
    return _variations(ch, lo, -1) - _variations(ch, hi, 1)


# --------------------------------------------------------------------------------------------
# real-root isolation
# --------------------------------------------------------------------------------------------
def _candidate_intervals(f: Any) -> tuple[list[tuple[Fraction, Fraction]], int]:
    """Isolating-interval candidates for the real roots, from FLINT's certified complex root
    finder, and the number of roots it certifies non-real (imaginary part excluding 0)."""
    out, nonreal = [], 0
    for root, _ in f.complex_roots():
        if root.imag.is_zero():
            out.append((arb_to_fraction(root.real.lower()), arb_to_fraction(root.real.upper())))
        elif not root.imag.contains(0):
            nonreal += 1
    return sorted(out), nonreal


_STURM_MAX_DEGREE = 24


def _verified(f: Any, cands: list[tuple[Fraction, Fraction]], nonreal: int) -> bool:
    """Exact check that the candidates isolate all real roots of the irreducible ``f``:
    each has rational endpoints with a strict sign change (so at least one root, an odd
    number), they are pairwise disjoint, and their number is the number of real roots:
    the degree (then every root is real: the counting argument, no Sturm sequence needed,
    e.g. for factors of symmetric matrices), else ``deg - nonreal`` from Arb's certified
    isolation, cross-checked by a Sturm sequence over Q up to degree 24."""
    for k, (lo, hi) in enumerate(cands):
        if not lo < hi or _sign(f, lo) * _sign(f, hi) >= 0:
            return False
        if k and cands[k - 1][1] >= lo:
            return False
    deg = f.degree()
    if len(cands) == deg:
        return True
    if deg <= _STURM_MAX_DEGREE:
        return len(cands) == _count_roots(f, None, None)
    return len(cands) + nonreal == deg


def _cauchy_bound(f: Any) -> Fraction:
    c = [abs(Fraction(int(x))) for x in f.coeffs()]
    return 1 + max(c[:-1]) / c[-1] if len(c) > 1 else Fraction(1)


def _bisect_isolate(f: Any) -> list[tuple[Fraction, Fraction]]:
    """Sturm-sequence bisection (used only if the fast candidates fail verification)."""
    b = _cauchy_bound(f)
    todo, out = [(-b, b)], []
    while todo:
        lo, hi = todo.pop()
        k = _count_roots(f, lo, hi)
        if k == 0:
            continue
        if k == 1 and _sign(f, lo) != 0 and _sign(f, hi) != 0:
            out.append((lo, hi))
            continue
        mid = (lo + hi) / 2
        if _sign(f, mid) == 0:  # only possible for a rational root (degree-1 factor)
            mid += (hi - lo) / 7
        todo += [(lo, mid), (mid, hi)]
    return sorted(out)


def real_roots(poly: Any) -> list[AlgebraicNumber]:
    """All real roots of an integer/rational polynomial, ascending, each with its minimal
    polynomial and an exactly verified isolating interval (multiple roots listed once).

    >>> [(str(r.poly), r.interval.contains("1.4142")) for r in real_roots([-4, 0, 2])]
    [('x^2 + (-2)', False), ('x^2 + (-2)', False)]
    >>> [r.enclosure(4).to_decimal(5) for r in real_roots([-4, 0, 2])]
    ['-1.4142', '1.4142']
    """
    f = _integer_poly(poly)
    if f.degree() < 1:
        raise DmfError(f"the polynomial {f} has no roots; expected degree >= 1")
    _, factors = f.factor()
    roots: list[AlgebraicNumber] = []
    for g, _ in factors:
        roots += _irreducible_real_roots(_normalize(g))
    return sorted(roots, key=functools.cmp_to_key(_cmp))


@functools.lru_cache(maxsize=512)
def _isolating_intervals(coeffs: tuple[int, ...]) -> tuple[tuple[Fraction, Fraction], ...]:
    """Verified isolating intervals (ascending) of the real roots of an irreducible
    polynomial of degree >= 2, given by its coefficients (ascending)."""
    from flint import fmpz_poly

    f = fmpz_poly(list(coeffs))
    cands, nonreal = _candidate_intervals(f)
    if not _verified(f, cands, nonreal):  # pragma: no cover - FLINT's roots are certified
        cands = _bisect_isolate(f)
    return tuple(cands)


def _irreducible_real_roots(f: Any) -> list[AlgebraicNumber]:
    if f.degree() == 1:
        c0, c1 = (int(c) for c in f.coeffs())
        q = Fraction(-c0, c1)
        return [AlgebraicNumber(f, q, q, _checked=True)]
    return [
        AlgebraicNumber(f, lo, hi, _checked=True)
        for lo, hi in _isolating_intervals(tuple(int(c) for c in f.coeffs()))
    ]


def _roots_in(f: Any, lo: Fraction, hi: Fraction) -> int:
    """Number of real roots of the irreducible ``f`` in ``[lo, hi]`` (exact: each isolated
    root is refined until its interval lies inside or outside ``[lo, hi]``)."""
    count = 0
    for r in _irreducible_real_roots(f):
        if r.is_rational:
            count += lo <= r._lo <= hi
            continue
        while True:
            if r._hi < lo or r._lo > hi:
                break
            if lo <= r._lo and r._hi <= hi:
                count += 1
                break
            r._bisect()
    return count


# --------------------------------------------------------------------------------------------
# algebraic numbers
# --------------------------------------------------------------------------------------------
class AlgebraicNumber:
    """A real algebraic number: its minimal polynomial (irreducible, primitive, positive
    leading coefficient, an ``fmpz_poly``) and a rational isolating interval ``[lo, hi]``
    containing exactly one real root of it (``lo == hi`` exactly when the number is rational).

    Refining shrinks the interval in place; the number it denotes never changes.

    >>> r = AlgebraicNumber.real_root([-2, 0, 1], 1)
    >>> r.degree, (r.enclosure(30) ** 2).contains(2), r.enclosure(30).correct_digits >= 30
    (2, True, True)
    >>> r.to_sympy()
    CRootOf(x**2 - 2, 1)
    """

    __slots__ = ("_hi", "_lo", "_poly", "_sign_lo")

    def __init__(self, poly: Any, lo: Any, hi: Any, *, _checked: bool = False) -> None:
        f = _integer_poly(poly)
        lo_q, hi_q = Fraction(lo), Fraction(hi)
        if not _checked:
            _, factors = f.factor()
            if len(factors) != 1 or int(factors[0][1]) != 1:
                raise DmfError(f"{f} is not irreducible over Q; pass an irreducible factor")
            if lo_q > hi_q:
                raise DmfError(f"isolating interval needs lo <= hi; got [{lo_q}, {hi_q}]")
            if f.degree() == 1:
                c0, c1 = (int(c) for c in f.coeffs())
                if not lo_q <= Fraction(-c0, c1) <= hi_q:
                    raise DmfError(f"[{lo_q}, {hi_q}] does not contain the root of {f}")
                lo_q = hi_q = Fraction(-c0, c1)
            elif lo_q == hi_q or _roots_in(f, lo_q, hi_q) != 1:
                raise DmfError(f"[{lo_q}, {hi_q}] does not isolate exactly one root of {f}")
        self._poly, self._lo, self._hi = f, lo_q, hi_q
        self._sign_lo = _sign(f, lo_q)

    # --- construction -------------------------------------------------------------------
    @classmethod
    def rational(cls, q: Any) -> AlgebraicNumber:
        """The rational number ``q`` (minimal polynomial ``den x - num``)."""
        from derivations.exact import parse_entry

        v = parse_entry(q, "rational")
        return cls([-v.numerator, v.denominator], v, v, _checked=True)

    @classmethod
    def real_root(cls, poly: Any, index: int) -> AlgebraicNumber:
        """The ``index``-th real root (ascending, from 0) of an *irreducible* polynomial."""
        f = _integer_poly(poly)
        _, factors = f.factor()
        if len(factors) != 1 or int(factors[0][1]) != 1:
            raise DmfError(f"{f} is not irreducible over Q; use real_roots(poly) instead")
        roots = _irreducible_real_roots(f)
        if not -len(roots) <= index < len(roots):
            raise DmfError(f"{f} has {len(roots)} real roots; index {index} is out of range")
        return roots[index]

    # --- properties ---------------------------------------------------------------------
    @property
    def poly(self) -> Any:
        """The minimal polynomial (primitive ``fmpz_poly``, positive leading coefficient)."""
        return self._poly

    @property
    def degree(self) -> int:
        return int(self._poly.degree())

    @property
    def is_rational(self) -> bool:
        return self.degree == 1

    @property
    def interval(self) -> Enclosure:
        """The current isolating interval as an ``Enclosure``."""
        return Enclosure(self._lo, self._hi)

    def as_fraction(self) -> Fraction:
        if not self.is_rational:
            raise DmfError(f"{self} is irrational (degree {self.degree})")
        return self._lo

    # --- refinement ---------------------------------------------------------------------
    def _bisect(self) -> None:
        mid = (self._lo + self._hi) / 2
        s = _sign(self._poly, mid)  # never 0: an irreducible polynomial of degree >= 2
        if s == self._sign_lo:
            self._lo = mid
        else:
            self._hi = mid

    def refine(self, dps: int) -> AlgebraicNumber:
        """Shrink the isolating interval until ``width <= 10^-dps * min|x|`` (relative
        precision ``dps`` digits; the number is never 0 unless rational). Returns ``self``."""
        if self.is_rational:
            return self
        target = Enclosure(self._lo, self._hi)
        while not relative_tolerance(target, dps):
            for _ in range(8):
                self._bisect()
            target = Enclosure(self._lo, self._hi)
        return self

    def enclosure(self, dps: int = 50) -> Enclosure:
        """A rigorous ``Enclosure`` with at least ``dps`` correct significant digits."""
        return self.refine(dps).interval

    # --- exact arithmetic (see the "arithmetic" section of the module) -------------------
    @classmethod
    def from_rational(cls, q: Any) -> AlgebraicNumber:
        """The rational ``q`` (an int, ``Fraction``, decimal string, ...); same as
        ``rational``."""
        return cls.rational(q)

    def __neg__(self) -> AlgebraicNumber:
        return _scaled(self, Fraction(-1))

    def __add__(self, other: Any) -> AlgebraicNumber:
        o = _operand(other)
        return NotImplemented if o is None else _add(self, o)

    __radd__ = __add__

    def __sub__(self, other: Any) -> AlgebraicNumber:
        o = _operand(other)
        return NotImplemented if o is None else _add(self, -o)

    def __rsub__(self, other: Any) -> AlgebraicNumber:
        o = _operand(other)
        return NotImplemented if o is None else _add(o, -self)

    def __mul__(self, other: Any) -> AlgebraicNumber:
        o = _operand(other)
        return NotImplemented if o is None else _mul(self, o)

    __rmul__ = __mul__

    def __pow__(self, n: int) -> AlgebraicNumber:
        return _power(self, n)

    def root(self, k: int) -> AlgebraicNumber:
        """The nonnegative real ``k``-th root of this nonnegative number."""
        return _root(self, k)

    # --- conversions --------------------------------------------------------------------
    def to_sympy(self) -> Any:
        """SymPy ``Rational`` (degree 1) or ``CRootOf(minimal polynomial, index)``."""
        import sympy

        if self.is_rational:
            return sympy.Rational(self._lo.numerator, self._lo.denominator)
        x = sympy.Symbol("x")
        coeffs = [int(c) for c in reversed(self._poly.coeffs())]
        index = next(  # CRootOf numbers the real roots ascending from 0
            k for k, r in enumerate(_irreducible_real_roots(self._poly)) if _same_root(self, r)
        )
        return sympy.CRootOf(sympy.Poly(coeffs, x), index)

    def __float__(self) -> float:
        return float(self.enclosure(20).mid)

    def __str__(self) -> str:
        if self.is_rational:
            return str(self._lo)
        return f"root of {self._poly} in {self.enclosure(16)}"

    def __repr__(self) -> str:
        return f"AlgebraicNumber({self})"


# --------------------------------------------------------------------------------------------
# arithmetic
# --------------------------------------------------------------------------------------------
MAX_DEGREE = 200
"""Refuse to build defining polynomials of larger degree (the degree of ``a + b`` or ``a b``
can be ``deg a * deg b``); ``compare_formulas`` then decides by enclosures alone."""

_IDENTIFY_DPS = (15, 30, 60, 120, 240, 480, 960)


def _operand(x: Any) -> AlgebraicNumber | None:
    """``x`` as an ``AlgebraicNumber`` (rationals and SymPy numbers converted), or ``None``
    for an ``AlgebraicFormula`` (whose reflected operator then takes over)."""
    return None if isinstance(x, AlgebraicFormula) else _as_algebraic(x)


def _check_degree(n: int, what: str) -> None:
    if n > MAX_DEGREE:
        raise TooLargeError(
            f"{what} needs a defining polynomial of degree {n} > MAX_DEGREE = {MAX_DEGREE}; "
            "compare certified enclosures instead (compare_formulas does so by itself)"
        )


def _xy() -> tuple[Any, Any]:
    from flint import fmpz_mpoly_ctx

    x, y = fmpz_mpoly_ctx.get(("x", "y"), "lex").gens()
    return x, y


def _compose(f: Any, t: Any) -> Any:
    """``f(t)`` for an integer polynomial ``f`` and a bivariate ``t`` (Horner)."""
    acc = 0 * t
    for c in reversed(f.coeffs()):
        acc = acc * t + int(c)
    return acc


def _resultant_y(f: Any, g: Any) -> Any:
    """``Res_y(f(y), g(x, y))`` as an ``fmpz_poly`` in ``x``: up to a constant it is
    ``prod_{f(alpha) = 0} g(x, alpha)`` (standard; e.g. Cohen, *A Course in Computational
    Algebraic Number Theory*, 3.3.4)."""
    from flint import fmpz_poly

    _, y = _xy()
    r = _compose(f, y).resultant(g, "y")
    terms = r.to_dict()
    coeffs = [0] * (max(i for i, _ in terms) + 1)
    for (i, _), c in terms.items():
        coeffs[i] = int(c)
    return fmpz_poly(coeffs)


def _identify(f: Any, enclosure: Any, what: str) -> AlgebraicNumber:
    """The real root of the nonzero integer polynomial ``f`` that ``enclosure(dps)`` (rigorous
    intervals shrinking with ``dps``) pins down, with its minimal polynomial: ``f`` is factored
    over Q, the real roots of each irreducible factor are isolated exactly, and the precision
    grows until exactly one of them meets the enclosure (distinct irreducible factors share no
    root, so the surviving factor is the minimal polynomial)."""
    _, factors = f.factor()
    roots = [r for g, _ in factors for r in _irreducible_real_roots(_normalize(g))]
    for dps in _IDENTIFY_DPS:
        enc = enclosure(dps)
        hits = [r for r in roots if r.refine(dps).interval.overlaps(enc)]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise DmfError(f"{what} is not real (no real root of {f} meets its enclosure {enc})")
    raise PrecisionExhausted(
        f"could not tell which root of {f} is {what} at {_IDENTIFY_DPS[-1]} digits"
    )


def _shifted(a: AlgebraicNumber, q: Fraction) -> AlgebraicNumber:
    """``a + q``: minimal polynomial ``f(x - q)`` (a translate of an irreducible polynomial is
    irreducible), isolating interval ``[lo + q, hi + q]``."""
    from flint import fmpq_poly

    g = fmpq_poly([int(c) for c in a.poly.coeffs()])(fmpq_poly([_fmpq(-q), 1]))
    return AlgebraicNumber(g, a._lo + q, a._hi + q, _checked=True)


def _scaled(a: AlgebraicNumber, q: Fraction) -> AlgebraicNumber:
    """``q a``: minimal polynomial ``q^d f(x / q)`` (coefficients ``c_k q^(d-k)``), interval
    ``q [lo, hi]`` (flipped for ``q < 0``)."""
    if q == 0 or a.is_rational:
        return AlgebraicNumber.rational(q * a._lo)
    d = a.degree
    coeffs = [Fraction(int(c)) * q ** (d - k) for k, c in enumerate(a.poly.coeffs())]
    lo, hi = sorted((a._lo * q, a._hi * q))
    return AlgebraicNumber(coeffs, lo, hi, _checked=True)


def _add(a: AlgebraicNumber, b: AlgebraicNumber) -> AlgebraicNumber:
    """``a + b``: a root of ``Res_y(f(y), g(x - y))`` (its roots are all ``alpha_i + beta_j``),
    degree ``deg f deg g``; the minimal polynomial is the factor holding ``a + b``."""
    if b.is_rational:
        return _shifted(a, b._lo)
    if a.is_rational:
        return _shifted(b, a._lo)
    _check_degree(a.degree * b.degree, "the sum of two algebraic numbers")
    x, y = _xy()
    f = _resultant_y(a.poly, _compose(b.poly, x - y))
    return _identify(f, lambda d: a.enclosure(d + 5) + b.enclosure(d + 5), f"{a} + {b}")


def _mul(a: AlgebraicNumber, b: AlgebraicNumber) -> AlgebraicNumber:
    """``a b``: a root of ``Res_y(f(y), y^m g(x / y))`` (``m = deg g``; roots all
    ``alpha_i beta_j``), degree ``deg f deg g``; then the factor holding ``a b``."""
    if b.is_rational:
        return _scaled(a, b._lo)
    if a.is_rational:
        return _scaled(b, a._lo)
    _check_degree(a.degree * b.degree, "the product of two algebraic numbers")
    x, y = _xy()
    m = b.degree
    g = sum((int(c) * x**k * y ** (m - k) for k, c in enumerate(b.poly.coeffs())), 0 * x)
    f = _resultant_y(a.poly, g)
    return _identify(f, lambda d: a.enclosure(d + 5) * b.enclosure(d + 5), f"{a} * {b}")


def _reciprocal(a: AlgebraicNumber) -> AlgebraicNumber:
    """``1 / a``: minimal polynomial ``x^d f(1/x)`` (the reversed coefficients), interval
    ``[1/hi, 1/lo]`` once ``[lo, hi]`` excludes 0 (``x -> 1/x`` is monotone on each side)."""
    if a.is_rational:
        if a._lo == 0:
            raise DmfError("cannot invert 0")
        return AlgebraicNumber.rational(1 / a._lo)
    a.refine(1)  # width <= mig / 10, so 0 is outside the interval
    return AlgebraicNumber(list(reversed([int(c) for c in a.poly.coeffs()])), 1 / a._hi,
                           1 / a._lo, _checked=True)


def _power(a: AlgebraicNumber, n: int) -> AlgebraicNumber:
    """``a^n``: a root of ``Res_y(f(y), x - y^n)`` (roots ``alpha_i^n``, degree ``deg f``);
    negative ``n`` through ``1 / a``."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise EntryError(f"AlgebraicNumber ** n needs an integer n; got {n!r} (use .root)")
    if n < 0:
        return _power(_reciprocal(a), -n)
    if a.is_rational:
        return AlgebraicNumber.rational(a._lo**n)
    if n == 0:
        return AlgebraicNumber.rational(1)
    if n == 1:
        return a
    x, y = _xy()
    f = _resultant_y(a.poly, x - y**n)
    extra = len(str(n)) + 5
    return _identify(f, lambda d: a.enclosure(d + extra) ** n, f"({a})^{n}")


def _root(a: AlgebraicNumber, k: int) -> AlgebraicNumber:
    """``a^(1/k)`` for ``a >= 0``: the nonnegative root of ``f(x^k)`` (degree ``k deg f``)."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise EntryError(f"root needs an integer k >= 1; got {k!r}")
    if k == 1 or (a.is_rational and a._lo == 0):
        return a
    if not a.is_rational:
        a.refine(1)  # the interval now excludes 0, so its sign is the number's
    if a._hi < 0:
        raise DmfError(f"the real {k}-th root needs a nonnegative number; got {a}")
    _check_degree(a.degree * k, f"the {k}-th root")

    def enclosure(d: int) -> Enclosure:
        return a.enclosure(d + 5).root(k, int((d + 5) * _LOG2_10) + 20)

    return _identify(a.poly.inflate(k), enclosure, f"({a})^(1/{k})")


# --------------------------------------------------------------------------------------------
# exact eigenvalues
# --------------------------------------------------------------------------------------------
def exact_eigenvalues(matrix: Any) -> list[tuple[AlgebraicNumber, int]]:
    """All distinct eigenvalues of the rational symmetric ``matrix``, descending, each an
    exact ``AlgebraicNumber`` with its multiplicity (that of its irreducible factor in
    ``det(x I - A)``).

    >>> [(str(v), m) for v, m in exact_eigenvalues([[2, 0, 0], [0, 2, 0], [0, 0, 1]])]
    [('2', 2), ('1', 1)]
    """
    as_fmpq_mat(matrix, symmetric=True)
    out: list[tuple[AlgebraicNumber, int]] = []
    for f, mult in factor_charpoly(matrix):
        roots = _irreducible_real_roots(f)
        if len(roots) != f.degree():  # pragma: no cover - impossible for symmetric input
            raise DmfError(f"the factor {f} of a symmetric matrix has non-real roots")
        out += [(r, mult) for r in roots]
    def by_value(a: tuple[AlgebraicNumber, int], b: tuple[AlgebraicNumber, int]) -> int:
        return -_cmp(a[0], b[0])

    return sorted(out, key=functools.cmp_to_key(by_value))


def exact_lambda_max(matrix: Any) -> AlgebraicNumber:
    """The largest eigenvalue of the rational symmetric ``matrix`` as an exact algebraic
    number: the largest real root over all irreducible factors of ``det(x I - A)``.

    >>> exact_lambda_max([[1, 1], [1, 1]]).to_sympy(), exact_lambda_max([[1, 1], [1, 2]]).degree
    (2, 2)
    """
    as_fmpq_mat(matrix, symmetric=True)
    tops = [_irreducible_real_roots(f)[-1] for f, _ in factor_charpoly(matrix)]
    return functools.reduce(lambda a, b: a if _cmp(a, b) >= 0 else b, tops)


# --------------------------------------------------------------------------------------------
# exact comparison
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """The result of comparing ``a`` with ``b``: ``relation`` is ``"<"``, ``"="`` or ``">"``
    (proved) or ``"~"`` (``compare_by_enclosures`` only: equal to the stated digits, NOT
    proved); ``gap`` encloses ``a - b``; ``proof`` says how the relation was established;
    ``dps`` is the precision of the disjoint certified enclosures that proved a strict
    relation, ``None`` when exact arithmetic decided it (rationals, minimal polynomials)."""

    relation: str
    proof: str
    gap: Enclosure
    proved: bool = True
    dps: int | None = None


def _as_algebraic(x: Any) -> AlgebraicNumber:
    if isinstance(x, AlgebraicNumber):
        return x
    if hasattr(x, "free_symbols") and not getattr(x, "is_Rational", False):
        return algebraic_from_sympy(x)
    return AlgebraicNumber.rational(x)


def _separate(a: AlgebraicNumber, b: AlgebraicNumber, max_steps: int = 100_000) -> int:
    """Refine two *distinct* numbers until their intervals are disjoint; return the sign of
    ``a - b``."""
    for _ in range(max_steps):
        if a._hi < b._lo:
            return -1
        if b._hi < a._lo:
            return 1
        wider = a if a._hi - a._lo >= b._hi - b._lo else b
        if wider.is_rational:  # both rational and overlapping: they would be equal
            raise DmfError("internal: distinct rationals cannot overlap")  # pragma: no cover
        wider._bisect()
    raise PrecisionExhausted("could not separate two distinct algebraic numbers")  # pragma: no cover


def _same_root(a: AlgebraicNumber, b: AlgebraicNumber) -> bool:
    """Whether ``a`` and ``b`` (same minimal polynomial ``f``) denote the same root. Each
    interval holds exactly one root of ``f``, so their intersection ``[lo, hi]`` holds 0 or 1;
    ``f`` is squarefree with no rational root (degree >= 2), so it holds one iff
    ``f(lo)`` and ``f(hi)`` have opposite signs."""
    if a.is_rational:
        return a._lo == b._lo
    lo, hi = max(a._lo, b._lo), min(a._hi, b._hi)
    return lo < hi and _sign(a._poly, lo) != _sign(a._poly, hi)


def _cmp(a: AlgebraicNumber, b: AlgebraicNumber) -> int:
    if a._poly == b._poly and _same_root(a, b):
        return 0
    return _separate(a, b)


def compare_exact(a: Any, b: Any) -> Comparison:
    """Decide ``a < b``, ``a = b`` or ``a > b`` exactly. ``a``, ``b``: ``AlgebraicNumber``,
    rationals (int, Fraction, decimal string), or SymPy algebraic expressions (converted by
    ``algebraic_from_sympy``).

    Equality holds iff both have the same minimal polynomial and the intersection of their
    isolating intervals contains a root of it (Sturm count); otherwise the numbers differ and
    the intervals are refined until disjoint.

    >>> compare_exact(AlgebraicNumber.real_root([-8, 0, 1], 1), 3).relation
    '<'
    """
    x, y = _as_algebraic(a), _as_algebraic(b)
    if x._poly == y._poly:
        if _same_root(x, y):
            proof = (
                f"equal: same minimal polynomial {x.poly} and the intersection of the two "
                "isolating intervals contains its (unique) root: exact sign change at the "
                "rational endpoints"
            )
            return Comparison("=", proof, Enclosure.point(0))
        why = "same minimal polynomial but different roots (disjoint isolating intervals)"
    else:
        why = f"different minimal polynomials ({x.poly} vs {y.poly}), so the numbers differ"
    s = _separate(x, y)
    gap = x.interval - y.interval
    rel = "<" if s < 0 else ">"
    proof = f"{rel}: {why}; intervals refined until disjoint, a - b in {gap}"
    return Comparison(rel, proof, gap)


# --------------------------------------------------------------------------------------------
# formulas: exact values built on demand
# --------------------------------------------------------------------------------------------
class AlgebraicFormula:
    """A formula in exact real algebraic numbers (``+``, ``-``, ``*``, integer ``**``,
    ``root(k)`` of ``AlgebraicNumber`` leaves and rationals) whose exact value is built only
    when it is needed.

    ``enclosure(dps)`` evaluates the formula by outward interval arithmetic on the leaves'
    isolating intervals (rigorous and cheap); ``value()`` is the exact ``AlgebraicNumber`` (with
    its minimal polynomial) from the exact operations of ``AlgebraicNumber``. Operations whose
    degree multiplies (a sum or product of two irrational numbers, degree up to ``deg a deg b``)
    are deferred until ``value()``; the others (with a rational, negation, powers, roots, all
    of degree at most ``k deg a``) are done at once, so ``rational`` knows every value that is
    rational for a structural reason. ``degree_bound`` bounds the degree of the value.

    >>> r = AlgebraicFormula.of(AlgebraicNumber.real_root([-2, 0, 1], 1))  # sqrt(2)
    >>> s = r * r + 1
    >>> s.rational is None, s.degree_bound, s.value().as_fraction()
    (True, 4, Fraction(3, 1))
    """

    __slots__ = ("_build", "_enc", "_encs", "_value", "degree_bound")

    def __init__(
        self,
        build: Any,
        enclosure: Any,
        degree_bound: int,
        value: AlgebraicNumber | None = None,
    ) -> None:
        self._build, self._enc, self.degree_bound = build, enclosure, degree_bound
        self._value = value
        self._encs: dict[int, Enclosure] = {}

    @classmethod
    def of(cls, x: Any) -> AlgebraicFormula:
        """A leaf: an ``AlgebraicNumber``, a rational or a SymPy algebraic number (a formula is
        returned as it is)."""
        if isinstance(x, AlgebraicFormula):
            return x
        v = _as_algebraic(x)
        return cls(lambda: v, v.enclosure, v.degree, v)

    @property
    def rational(self) -> Fraction | None:
        """The value if it is already known to be rational, else ``None``."""
        v = self._value
        return v._lo if v is not None and v.is_rational else None

    def value(self) -> AlgebraicNumber:
        """The exact value (built once; ``TooLargeError`` past ``MAX_DEGREE``)."""
        if self._value is None:
            self._value = self._build()
        return self._value

    def enclosure(self, dps: int) -> Enclosure:
        """A rigorous enclosure; about ``dps`` digits unless cancellation costs some."""
        if self._value is not None:
            return self._value.enclosure(dps)
        if dps not in self._encs:
            self._encs[dps] = self._enc(dps)
        return self._encs[dps]

    def _binary(self, other: Any, op: Any, enc: Any) -> AlgebraicFormula:
        a, b = self, AlgebraicFormula.of(other)
        va, vb = a._value, b._value
        if va is not None and vb is not None and (va.is_rational or vb.is_rational):
            return AlgebraicFormula.of(op(va, vb))
        return AlgebraicFormula(lambda: op(a.value(), b.value()),
                                lambda d: enc(a.enclosure(d + 5), b.enclosure(d + 5)),
                                a.degree_bound * b.degree_bound)

    def _unary(self, op: Any, enc: Any, degree: int) -> AlgebraicFormula:
        a = self
        if a._value is not None and degree <= MAX_DEGREE:
            return AlgebraicFormula.of(op(a._value))
        return AlgebraicFormula(lambda: op(a.value()), enc, degree)

    def __add__(self, other: Any) -> AlgebraicFormula:
        return self._binary(other, _add, lambda x, y: x + y)

    __radd__ = __add__

    def __mul__(self, other: Any) -> AlgebraicFormula:
        return self._binary(other, _mul, lambda x, y: x * y)

    __rmul__ = __mul__

    def __neg__(self) -> AlgebraicFormula:
        return self._unary(lambda v: -v, lambda d: -self.enclosure(d), self.degree_bound)

    def __sub__(self, other: Any) -> AlgebraicFormula:
        return self + (-AlgebraicFormula.of(other))

    def __rsub__(self, other: Any) -> AlgebraicFormula:
        return AlgebraicFormula.of(other) + (-self)

    def __pow__(self, n: int) -> AlgebraicFormula:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise EntryError(f"AlgebraicFormula ** n needs an integer n >= 0; got {n!r}")
        extra = len(str(n)) + 5
        return self._unary(lambda v: v**n, lambda d: self.enclosure(d + extra) ** n,
                           self.degree_bound)

    def root(self, k: int) -> AlgebraicFormula:
        """The nonnegative real ``k``-th root (of a nonnegative value)."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise EntryError(f"root needs an integer k >= 1; got {k!r}")

        def enc(d: int) -> Enclosure:
            e = self.enclosure(d + 5)
            if e.hi < 0:
                raise DmfError(f"the real {k}-th root needs a nonnegative number; got {e}")
            return Enclosure(max(e.lo, Fraction(0)), e.hi).root(k, int((d + 5) * _LOG2_10) + 20)

        return self._unary(lambda v: v.root(k), enc, self.degree_bound * k)

    def __str__(self) -> str:
        if self._value is not None:
            return str(self._value)
        return f"algebraic of degree <= {self.degree_bound} in {self.enclosure(16)}"

    def __repr__(self) -> str:
        return f"AlgebraicFormula({self})"


_LADDER = (30, 60, 120, 240, 480)


def compare_formulas(a: Any, b: Any, *, ladder: tuple[int, ...] = _LADDER) -> Comparison:
    """Decide ``a < b``, ``a = b`` or ``a > b`` for formulas (``AlgebraicFormula``,
    ``AlgebraicNumber``, rationals), building exact values only when enclosures do not
    decide.

    Two known rationals compare exactly. Otherwise certified enclosures at the precisions of
    ``ladder`` are tried: disjoint ones PROVE the strict relation (``dps`` set). At the first
    overlap the exact values are built and ``compare_exact`` decides (``dps=None``); when a
    value would exceed ``MAX_DEGREE`` the ladder continues, and ``PrecisionExhausted`` is
    raised if it ends undecided.

    >>> r = AlgebraicFormula.of(AlgebraicNumber.real_root([-2, 0, 1], 1))
    >>> compare_formulas(r * r, 2).relation, compare_formulas(r, "1.41").dps
    ('=', 30)
    """
    fa, fb = AlgebraicFormula.of(a), AlgebraicFormula.of(b)
    ra, rb = fa.rational, fb.rational
    if ra is not None and rb is not None:
        rel = "<" if ra < rb else ">" if ra > rb else "="
        return Comparison(rel, "exact rational arithmetic", Enclosure.point(ra - rb))
    tried = False
    for dps in ladder:
        ea, eb = fa.enclosure(dps), fb.enclosure(dps)
        gap = ea - eb
        if gap.hi < 0 or gap.lo > 0:
            rel = "<" if gap.hi < 0 else ">"
            return Comparison(rel, f"disjoint certified enclosures at {dps} digits", gap,
                              dps=dps)
        if tried:
            continue
        tried = True
        try:
            va, vb = fa.value(), fb.value()
        except TooLargeError:
            continue
        return compare_exact(va, vb)
    raise PrecisionExhausted(
        f"could not separate or identify two algebraic numbers up to {ladder[-1]} digits "
        "(exact values too large to build)"
    )


# --------------------------------------------------------------------------------------------
# closed forms (SymPy)
# --------------------------------------------------------------------------------------------
_MAX_OPS = 60
_MAX_DEGREE = 64


def algebraic_from_sympy(
    expr: Any, *, max_ops: int = _MAX_OPS, max_degree: int = _MAX_DEGREE
) -> AlgebraicNumber:
    """A real algebraic SymPy expression (rationals, ``+``, ``*``, rational powers, ``CRootOf``)
    as an ``AlgebraicNumber``: its minimal polynomial by ``sympy.minimal_polynomial`` (exact),
    and the root it denotes identified by a rigorous ``enclosure_of`` meeting exactly one
    isolating interval. Guarded: more than ``max_ops`` operations or a minimal polynomial of
    degree above ``max_degree`` raise ``TooLargeError``.

    >>> import sympy
    >>> algebraic_from_sympy(sympy.sqrt(2) + sympy.sqrt(3)).degree
    4
    """
    import sympy

    if not isinstance(expr, sympy.Basic):
        return AlgebraicNumber.rational(expr)
    if expr.free_symbols:
        raise EntryError(f"{expr} has free symbols {expr.free_symbols}; expected a number")
    if expr.is_Rational:
        return AlgebraicNumber.rational(Fraction(int(expr.p), int(expr.q)))
    ops = sympy.count_ops(expr)
    if ops > max_ops:
        raise TooLargeError(f"{expr} has {ops} operations (> {max_ops}); minimal_polynomial "
                            "could be very slow; use compare_by_enclosures instead")
    x = sympy.Dummy("x")
    mp = sympy.minimal_polynomial(expr, x, polys=True)
    if mp.degree() > max_degree:
        raise TooLargeError(f"the minimal polynomial of {expr} has degree {mp.degree()} "
                            f"(> {max_degree})")
    roots = _irreducible_real_roots(_integer_poly(mp))
    for dps in (15, 30, 60, 120, 240, 480, 960):
        enc = enclosure_of(expr, dps)
        hits = [r for r in roots if r.refine(dps).interval.overlaps(enc)]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise DmfError(f"{expr} is not real (no real root of its minimal polynomial fits)")
    raise PrecisionExhausted(f"could not identify which root of {mp.as_expr()} is {expr}")


def _enclose(expr: Any, bits: int) -> Enclosure:
    import sympy

    if isinstance(expr, AlgebraicNumber):
        return expr.enclosure(int(bits / _LOG2_10) + 2)
    if expr.is_Rational:
        return Enclosure.point(Fraction(int(expr.p), int(expr.q)))
    if expr.is_Float:  # a binary float: taken as the exact rational it stores
        from derivations.intervals import _mpf_fraction

        return Enclosure.point(_mpf_fraction(expr, str(expr)))
    if expr is sympy.pi or expr is sympy.E:
        from flint import arb, ctx

        with ctx.workprec(bits + 10):
            v = arb.pi() if expr is sympy.pi else arb.const_e()
            return Enclosure(arb_to_fraction(v.lower()), arb_to_fraction(v.upper()))
    if isinstance(expr, sympy.CRootOf):
        if not expr.is_real:
            raise DmfError(f"{expr} is not real")
        return _enclose(real_roots(expr.poly)[int(expr.index)], bits)
    if expr.is_Add or expr.is_Mul:
        parts = [_enclose(a, bits) for a in expr.args]
        acc = parts[0]
        for p in parts[1:]:
            acc = (acc + p if expr.is_Add else acc * p).round_out(bits)
        return acc
    if expr.is_Pow:
        return _enclose_pow(expr, bits)
    if isinstance(expr, sympy.Abs):
        e = _enclose(expr.args[0], bits)
        return Enclosure(e.mig, e.mag)
    if isinstance(expr, sympy.Max | sympy.Min):
        parts = [_enclose(a, bits) for a in expr.args]
        pick = max if isinstance(expr, sympy.Max) else min
        return Enclosure(pick(p.lo for p in parts), pick(p.hi for p in parts))
    raise EntryError(
        f"cannot enclose {expr} (type {type(expr).__name__}); supported: rationals, +, *, "
        "rational powers, Abs, Max, Min, CRootOf, pi, E"
    )


def _enclose_pow(expr: Any, bits: int) -> Enclosure:
    base, exp = expr.args
    b = _enclose(base, bits + 8)
    if not exp.is_Rational:
        raise EntryError(f"cannot enclose {expr}: only rational exponents are supported")
    p, q = int(exp.p), int(exp.q)
    if q != 1:
        if b.lo < 0:
            raise DmfError(f"{expr}: a fractional power of a possibly negative base")
        b = b.root(q, bits + 8)
    return (b**p).round_out(bits)


def enclosure_of(expr: Any, dps: int = 50) -> Enclosure:
    """A rigorous ``Enclosure`` of a SymPy number expression evaluated by interval arithmetic
    with outward rounding at about ``dps`` digits (rational endpoints; the width reflects
    the accuracy actually reached, which can be less than ``dps`` digits after cancellation).

    >>> import sympy
    >>> enclosure_of(sympy.sqrt(2) * sympy.sqrt(3) - sympy.sqrt(6), 30).contains(0)
    True
    """
    import sympy

    if isinstance(expr, Enclosure):
        return expr
    if isinstance(expr, AlgebraicNumber):
        return expr.enclosure(dps)
    if not isinstance(expr, sympy.Basic):
        return as_enclosure(expr)
    if expr.free_symbols:
        raise EntryError(f"{expr} has free symbols {expr.free_symbols}; expected a number")
    return _enclose(expr, int(dps * _LOG2_10) + 32)


def _enclosure_at(x: Any, dps: int) -> Enclosure:
    if callable(x) and not isinstance(x, Enclosure | AlgebraicNumber):
        return as_enclosure(x(dps))
    return enclosure_of(x, dps)


def compare_by_enclosures(
    a: Any, b: Any, *, dps: int = 50, max_dps: int | None = None
) -> Comparison:
    """Compare ``a`` and ``b`` through rigorous enclosures: each is an ``Enclosure`` (fixed),
    a callable ``dps -> Enclosure`` (e.g. ``lambda d: certified_lambda_max(K, dps=d)``), an
    ``AlgebraicNumber``, a SymPy expression or a rational. The precision doubles from ``dps``
    up to ``max_dps`` (default ``4 dps``).

    Disjoint enclosures PROVE ``<`` or ``>``. Overlapping ones at the last precision give
    ``relation="~"`` and ``proved=False``: equal to that many digits, not proved.

    >>> import sympy
    >>> compare_by_enclosures(sympy.pi, sympy.Rational(22, 7)).relation
    '<'
    """
    limit = 4 * dps if max_dps is None else max_dps
    d = dps
    while True:
        ea, eb = _enclosure_at(a, d), _enclosure_at(b, d)
        gap = ea - eb
        if ea.hi < eb.lo or eb.hi < ea.lo:
            rel = "<" if ea.hi < eb.lo else ">"
            proof = (f"{rel}: proved by disjoint certified enclosures at {d} digits; "
                     f"a - b in {gap}")
            return Comparison(rel, proof, gap)
        if 2 * d > limit:
            break
        d *= 2
    digits = min(ea.correct_digits, eb.correct_digits)
    shown = "all" if math.isinf(digits) else f"{int(digits)}"
    proof = (f"~: NOT proved; the certified enclosures overlap at {d} digits (|a - b| <= "
             f"{gap.mag.__float__():.3g}); a and b agree to {shown} significant digits")
    return Comparison("~", proof, gap, proved=False)

