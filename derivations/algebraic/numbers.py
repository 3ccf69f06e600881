"""Real algebraic numbers: ``AlgebraicNumber`` (minimal polynomial + isolating interval), the
real roots of a polynomial as such numbers, their exact order and their exact arithmetic.

Public:
    AlgebraicNumber            a real algebraic number: minimal polynomial + isolating interval;
                               exact ``+``, ``-``, ``*``, integer ``**``, ``root(k)``,
                               ``from_rational`` (each result again with its minimal polynomial)
    MAX_DEGREE                 the largest defining polynomial those operations build
    real_roots(poly) -> [AlgebraicNumber]      all real roots, ascending, exactly isolated

Used by the other modules: ``_irreducible_real_roots`` (the real roots of an irreducible
polynomial), ``_cmp`` / ``_same_root`` / ``_separate`` (exact order), ``_add`` / ``_mul``,
``_LOG2_10``.

Algorithms (all exact; no floating point decides anything):
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

Relative precision: ``refine(dps)`` makes ``width <= 10^-dps * min|x|`` over the interval.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Any

from derivations.algebraic.matrices import _fmpq, _integer_poly, _normalize
from derivations.algebraic.roots import _isolating_intervals, _sign
from derivations.errors import DmfError, EntryError, PrecisionExhausted, TooLargeError
from derivations.intervals import Enclosure, relative_tolerance

_LOG2_10 = math.log2(10)


# --------------------------------------------------------------------------------------------
# real roots, each an AlgebraicNumber
# --------------------------------------------------------------------------------------------
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
    # imported when called: closed_forms and formulas build on this module
    from derivations.algebraic.closed_forms import _as_algebraic
    from derivations.algebraic.formulas import AlgebraicFormula

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
# exact order
# --------------------------------------------------------------------------------------------
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
