"""Comparing two real numbers: exactly (rationals, algebraic numbers, formulas) or through
certified enclosures.

Public:
    Comparison                 ``relation``, ``proof``, ``gap`` (Enclosure of a - b), ``proved``
    compare_exact(a, b) -> Comparison          exact ``<``, ``=``, ``>``
    compare_formulas(a, b) -> Comparison       enclosures first, exact values when they overlap
    compare_by_enclosures(a, b, *, dps, max_dps) -> Comparison   strict inequality from disjoint
                                               enclosures, otherwise "~" (equal to N digits,
                                               NOT proved)

How two algebraic numbers are compared exactly is described in ``numbers``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from derivations.algebraic.closed_forms import _as_algebraic, enclosure_of
from derivations.algebraic.formulas import AlgebraicFormula
from derivations.algebraic.numbers import AlgebraicNumber, _same_root, _separate
from derivations.errors import PrecisionExhausted, TooLargeError
from derivations.intervals import Enclosure, as_enclosure


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
# formulas: certified enclosures first, exact values when they overlap
# --------------------------------------------------------------------------------------------
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
# certified enclosures only (overlap: equal to N digits, not proved)
# --------------------------------------------------------------------------------------------
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
