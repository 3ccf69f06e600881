"""SymPy closed forms (rationals, ``+``, ``*``, rational powers, ``CRootOf``, ...) as exact
algebraic numbers or rigorous enclosures.

Public:
    algebraic_from_sympy(expr) -> AlgebraicNumber   via ``sympy.minimal_polynomial`` (guarded)
    enclosure_of(expr, dps) -> Enclosure       rigorous interval evaluation of a SymPy expression

Used by the other modules: ``_as_algebraic(x)``, an ``AlgebraicNumber``, a rational or a SymPy
number as an ``AlgebraicNumber`` (the operand conversion of ``AlgebraicNumber``'s operators,
``AlgebraicFormula.of`` and ``compare_exact``).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from derivations.algebraic.matrices import _integer_poly
from derivations.algebraic.numbers import (
    _LOG2_10,
    AlgebraicNumber,
    _irreducible_real_roots,
    real_roots,
)
from derivations.errors import DmfError, EntryError, PrecisionExhausted, TooLargeError
from derivations.intervals import Enclosure, arb_to_fraction, as_enclosure


# --------------------------------------------------------------------------------------------
# closed forms (SymPy)
# --------------------------------------------------------------------------------------------
def _as_algebraic(x: Any) -> AlgebraicNumber:
    if isinstance(x, AlgebraicNumber):
        return x
    if hasattr(x, "free_symbols") and not getattr(x, "is_Rational", False):
        return algebraic_from_sympy(x)
    return AlgebraicNumber.rational(x)


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
