"""Closed intervals with exact rational endpoints: the currency of certified results.

Public:
    Enclosure          frozen dataclass ``[lo, hi]`` with ``Fraction`` endpoints, ``lo <= hi``;
                       ``mid``, ``rad``, ``width``, ``mig``, ``mag``, ``contains``, ``overlaps``,
                       ``correct_digits``, ``to_decimal``, ``round_out``; interval arithmetic
                       ``+ - * /``, ``**`` (integer powers), ``root(n, bits)``, ``sqrt(bits)``
    as_enclosure       a rational, float, mpf, decimal string or Enclosure -> Enclosure
    relative_tolerance the acceptance rule ``width <= 10^-dps * max(mig, floor)``

An ``Enclosure`` is a *proof object*: whoever builds one asserts that the true value lies in
``[lo, hi]``. Every operation here rounds outward (the result contains every value the
operands' values can produce), so enclosures computed from enclosures stay rigorous (this is
standard interval arithmetic, R. E. Moore, *Interval Analysis*, 1966).

It lives in ``derivations`` (exact, no floating point) so that both ``derivations.algebraic``
and ``numeric.eigen`` can use it without ``derivations`` importing ``numeric``.
"""

from __future__ import annotations

import decimal
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from derivations.errors import DmfError, EntryError

__all__ = ["Enclosure", "arb_to_fraction", "as_enclosure", "relative_tolerance"]


def _frac(x: Any, where: str = "value") -> Fraction:
    """Any exact-able number (int, Fraction, float, mpf, decimal string, ...) as a Fraction."""
    from derivations.exact import parse_entry

    if type(x).__name__ == "mpf" and hasattr(x, "_mpf_"):
        return _mpf_fraction(x, where)
    return parse_entry(x, where)


def _mpf_fraction(x: Any, where: str) -> Fraction:
    """An mpmath ``mpf`` as the exact binary rational it stores (sign included)."""
    sign, man, exp, _ = x._mpf_
    if not man and exp:  # +-inf and nan have zero mantissa and a nonzero special exponent
        from derivations.errors import NonFiniteError

        raise NonFiniteError(f"{where} is {x}; it must be finite")
    value = Fraction(int(man) << int(exp)) if exp >= 0 else Fraction(int(man), 1 << -int(exp))
    return -value if sign else value


def arb_to_fraction(x: Any) -> Fraction:
    """An exactly representable python-flint ``arb`` (a midpoint or an endpoint: radius 0) as
    the binary rational it stores."""
    man, exp = x.man_exp()
    man, exp = int(man), int(exp)
    return Fraction(man << exp) if exp >= 0 else Fraction(man, 1 << -exp)


def _floor_log2(x: Fraction) -> int:
    """``floor(log2(x))`` for ``x > 0``, exactly."""
    e = x.numerator.bit_length() - x.denominator.bit_length()
    # 2^(e-1) < x < 2^(e+1); fix up to the exact floor.
    return e if Fraction(2) ** e <= x else e - 1


def _round_down(x: Fraction, bits: int) -> Fraction:
    """The largest dyadic ``k / 2^s`` with about ``bits`` significant bits that is ``<= x``."""
    dyadic = (x.denominator & (x.denominator - 1)) == 0
    if x == 0 or (dyadic and abs(x.numerator).bit_length() <= bits):
        return x
    s = bits - _floor_log2(abs(x))
    if s >= 0:
        return Fraction((x.numerator << s) // x.denominator, 1 << s)
    return Fraction((x.numerator // (x.denominator << -s)) << -s)


def _round_up(x: Fraction, bits: int) -> Fraction:
    return -_round_down(-x, bits)


def _iroot(n: int, k: int) -> int:
    """``floor(n ** (1/k))`` for integers ``n >= 0``, ``k >= 1`` (Newton's method)."""
    if n < 2 or k == 1:
        return n
    if k == 2:
        return math.isqrt(n)
    x = 1 << -(-n.bit_length() // k)  # an upper bound
    while True:
        y = ((k - 1) * x + n // x ** (k - 1)) // k
        if y >= x:
            break
        x = y
    while x**k > n:
        x -= 1
    while (x + 1) ** k <= n:
        x += 1
    return x


def _root_down(x: Fraction, k: int, bits: int) -> Fraction:
    """A dyadic rational ``<= x^(1/k)`` (``x >= 0``) with about ``bits`` correct bits."""
    if x == 0:
        return x
    s = bits - _floor_log2(x) // k + 2
    scaled = (x.numerator << (k * s)) // x.denominator if s >= 0 else x.numerator // (
        x.denominator << (-k * s)
    )
    r = _iroot(scaled, k)
    return Fraction(r, 1 << s) if s >= 0 else Fraction(r << -s)


def _root_up(x: Fraction, k: int, bits: int) -> Fraction:
    """A dyadic rational ``>= x^(1/k)`` (``x >= 0``) with about ``bits`` correct bits."""
    y = _root_down(x, k, bits)
    if y**k == x:
        return y
    s = bits - _floor_log2(x) // k + 2
    step = Fraction(1, 1 << s) if s >= 0 else Fraction(1 << -s)
    y += step
    while y**k < x:  # pragma: no cover - one step always suffices; kept as a guard
        y += step
    return y


def _decimal(x: Fraction, digits: int, rounding: str) -> str:
    """``x`` as a decimal string with ``digits`` significant digits, rounded as told."""
    with decimal.localcontext() as ctx:
        ctx.prec = max(1, digits)
        ctx.rounding = rounding
        ctx.Emax = decimal.MAX_EMAX
        ctx.Emin = decimal.MIN_EMIN
        value = decimal.Decimal(x.numerator) / decimal.Decimal(x.denominator)
    return str(value)


@dataclass(frozen=True)
class Enclosure:
    """The closed interval ``[lo, hi]`` with exact rational endpoints, asserted to contain a
    value. Arithmetic rounds outward, so results of operations on enclosures are enclosures.

    >>> e = Enclosure(Fraction(1, 3), Fraction(1, 2))
    >>> e.mid, e.width, e.contains("0.4"), e.contains(0.6)
    (Fraction(5, 12), Fraction(1, 6), True, False)
    >>> (e + 1).lo, (e * e).hi, str(Enclosure(Fraction(1), Fraction(1)))
    (Fraction(4, 3), Fraction(1, 4), '1')
    """

    lo: Fraction
    hi: Fraction

    def __post_init__(self) -> None:
        lo, hi = _frac(self.lo, "lower endpoint"), _frac(self.hi, "upper endpoint")
        if lo > hi:
            raise DmfError(f"an enclosure needs lo <= hi; got lo = {lo} > hi = {hi}")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    # --- construction -------------------------------------------------------------------
    @classmethod
    def point(cls, x: Any) -> Enclosure:
        """The degenerate interval ``[x, x]`` for an exact number ``x``."""
        q = _frac(x)
        return cls(q, q)

    # --- geometry -----------------------------------------------------------------------
    @property
    def mid(self) -> Fraction:
        return (self.lo + self.hi) / 2

    @property
    def rad(self) -> Fraction:
        return (self.hi - self.lo) / 2

    @property
    def width(self) -> Fraction:
        return self.hi - self.lo

    @property
    def mig(self) -> Fraction:
        """``min |x|`` over the interval (0 if it contains 0)."""
        if self.lo <= 0 <= self.hi:
            return Fraction(0)
        return min(abs(self.lo), abs(self.hi))

    @property
    def mag(self) -> Fraction:
        """``max |x|`` over the interval."""
        return max(abs(self.lo), abs(self.hi))

    @property
    def is_exact(self) -> bool:
        return self.lo == self.hi

    def contains(self, x: Any) -> bool:
        """Whether ``x`` (an exact number, float, mpf, decimal string, or an Enclosure: then
        inclusion) lies in ``[lo, hi]``."""
        if isinstance(x, Enclosure):
            return self.lo <= x.lo and x.hi <= self.hi
        q = _frac(x)
        return self.lo <= q <= self.hi

    def overlaps(self, other: Enclosure | Any) -> bool:
        o = as_enclosure(other)
        return self.lo <= o.hi and o.lo <= self.hi

    @property
    def correct_digits(self) -> float:
        """How many significant decimal digits the interval pins down: the largest ``k`` with
        ``width * 10^k <= mig`` (``mig`` = smallest ``|x|`` in the interval), 0 when the interval
        contains 0 and is not a point, ``math.inf`` for a point interval.

        >>> Enclosure(Fraction(314, 100), Fraction(315, 100)).correct_digits
        2
        """
        if self.is_exact:
            return math.inf
        ratio = self.mig / self.width
        if ratio < 1:
            return 0
        return len(str(ratio.numerator // ratio.denominator)) - 1

    def to_decimal(self, dps: int) -> str:
        """The midpoint to ``dps`` significant digits (rounded to nearest). This is a display:
        only ``correct_digits`` of them are certified."""
        return _decimal(self.mid, dps, decimal.ROUND_HALF_EVEN)

    def round_out(self, bits: int) -> Enclosure:
        """An enclosure of this one with dyadic endpoints of about ``bits`` significant bits
        (keeps numerators and denominators small; rounding is outward)."""
        return Enclosure(_round_down(self.lo, bits), _round_up(self.hi, bits))

    def __str__(self) -> str:
        if self.is_exact:
            return _decimal(self.lo, 60, decimal.ROUND_HALF_EVEN)
        digits = self.correct_digits
        shown = int(min(max(digits + 3, 6), 80))
        lo = _decimal(self.lo, shown, decimal.ROUND_FLOOR)
        hi = _decimal(self.hi, shown, decimal.ROUND_CEILING)
        return f"[{lo}, {hi}]"

    # --- interval arithmetic (outward, exact endpoints) ----------------------------------
    def __neg__(self) -> Enclosure:
        return Enclosure(-self.hi, -self.lo)

    def __add__(self, other: Any) -> Enclosure:
        o = as_enclosure(other)
        return Enclosure(self.lo + o.lo, self.hi + o.hi)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Enclosure:
        o = as_enclosure(other)
        return Enclosure(self.lo - o.hi, self.hi - o.lo)

    def __rsub__(self, other: Any) -> Enclosure:
        return as_enclosure(other) - self

    def __mul__(self, other: Any) -> Enclosure:
        o = as_enclosure(other)
        products = [self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi]
        return Enclosure(min(products), max(products))

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Enclosure:
        o = as_enclosure(other)
        if o.lo <= 0 <= o.hi:
            raise DmfError(f"cannot divide by the enclosure {o}, which contains 0")
        return self * Enclosure(1 / o.hi, 1 / o.lo)

    def __rtruediv__(self, other: Any) -> Enclosure:
        return as_enclosure(other) / self

    def __pow__(self, n: int) -> Enclosure:
        if not isinstance(n, int):
            raise EntryError(f"Enclosure ** n needs an integer n; got {n!r} (use .root)")
        if n < 0:
            return Enclosure.point(1) / self**-n
        if n == 0:
            return Enclosure.point(1)
        a, b = self.lo**n, self.hi**n
        if n % 2 == 1:
            return Enclosure(a, b)
        if self.lo >= 0:
            return Enclosure(a, b)
        if self.hi <= 0:
            return Enclosure(b, a)
        return Enclosure(Fraction(0), max(a, b))

    def root(self, k: int, bits: int = 200) -> Enclosure:
        """An enclosure of ``x^(1/k)`` (real, nonnegative ``x``) with about ``bits`` bits."""
        if k < 1:
            raise EntryError(f"root needs k >= 1; got {k}")
        if self.lo < 0:
            raise DmfError(f"the {k}-th root needs a nonnegative enclosure; got {self}")
        return Enclosure(_root_down(self.lo, k, bits), _root_up(self.hi, k, bits))

    def sqrt(self, bits: int = 200) -> Enclosure:
        """An enclosure of ``sqrt(x)``.

        >>> Enclosure.point(2).sqrt(20).contains("1.41421356")
        True
        """
        return self.root(2, bits)


def as_enclosure(x: Any) -> Enclosure:
    """``x`` itself if it is an ``Enclosure``, else the point interval of the exact number."""
    if isinstance(x, Enclosure):
        return x
    return Enclosure.point(x)


def relative_tolerance(enclosure: Enclosure, dps: int, floor: Fraction = Fraction(0)) -> bool:
    """The acceptance rule for "``dps`` certified digits": ``width <= 10^-dps * max(mig, floor)``.

    ``mig`` is the smallest ``|x|`` in the interval, so this is a relative width for values
    away from 0; ``floor`` makes it absolute for values near 0 (e.g. exactly zero eigenvalues).

    >>> relative_tolerance(Enclosure(Fraction(999, 1000), Fraction(1001, 1000)), 2)
    True
    """
    bound = max(enclosure.mig, floor)
    return enclosure.width * 10**dps <= bound
