"""Formulas in exact real algebraic numbers whose exact value is built only when needed.

Public:
    AlgebraicFormula           a formula in algebraic numbers: certified enclosures at once,
                               the exact value (an ``AlgebraicNumber``) only on demand
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from derivations.algebraic.closed_forms import _as_algebraic
from derivations.algebraic.numbers import _LOG2_10, MAX_DEGREE, AlgebraicNumber, _add, _mul
from derivations.errors import DmfError, EntryError
from derivations.intervals import Enclosure


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
