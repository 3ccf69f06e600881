"""Real-root isolation for integer polynomials: exactly verified isolating intervals with
rational endpoints. Intervals only: ``numbers.real_roots`` makes each an ``AlgebraicNumber``.

Used by the other modules:
    _isolating_intervals(coeffs) -> ((lo, hi), ...)   the verified isolating intervals,
                               ascending, of an irreducible polynomial of degree >= 2 (cached)
    _sign(f, x)                the exact sign of the polynomial ``f`` at the rational ``x``

Algorithms (all exact; no floating point decides anything):
    * real-root isolation: candidate intervals from FLINT's certified complex root finder
      (``fmpz_poly.complex_roots``, Arb balls; real roots come with exact zero imaginary part),
      then *verified exactly*: each candidate has rational endpoints with a strict sign change
      of the polynomial and the candidates are pairwise disjoint, so each holds at least one
      root; when there are ``degree`` of them (always the case for factors of symmetric
      matrices, whose roots are all real) each holds exactly one. For polynomials with
      non-real roots the real-root count comes from a Sturm sequence over Q (degree <= 24) or
      from Arb's certified isolation of the non-real roots. If verification fails, isolation
      falls back to Sturm-sequence bisection.
"""

from __future__ import annotations

import functools
import itertools
from fractions import Fraction
from typing import Any

from derivations.algebraic.matrices import _fmpq
from derivations.intervals import arb_to_fraction


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
