"""Exact and certified primitives the claim checkers are built on (python-flint / Arb).

Public:
    fmat(m)                 ``ExactMatrix`` -> ``flint.fmpq_mat`` (exact)
    charpoly(m)             ``det(x I - m)`` as an exact ``fmpq_poly``
    exact_rank(m)           the rank over Q
    is_psd(m)               exactly whether a rational symmetric matrix is positive semidefinite
    squarefree(p)           the squarefree part of a rational polynomial
    gram_small(m)           ``m^T m`` or ``m m^T``, whichever is smaller (same nonzero spectrum)
    Alg                     a real algebraic number: a defining polynomial (computed lazily)
                            plus enclosures at any precision; ``+``, ``*``, integer ``**``,
                            ``rational``, ``lambda_max``, ``root``
    Comparison, compare     decide ``a < b``, ``a = b`` or ``a > b`` EXACTLY for two ``Alg``
    fraction_str            a Fraction as ``"p/q"``

How the comparison is exact (not "equal to 50 digits"): both numbers are roots of their defining
polynomials ``p`` and ``q``; enclosures are refined until they are disjoint (then the order is
proven), or until each overlaps exactly one of the isolating root balls of ``squarefree(p q)``
(Arb's ``complex_roots``, which are rigorous). If both overlap the SAME single ball, that ball
contains exactly one root of ``p q`` and both numbers are roots in it: they are equal.

The largest eigenvalue of a rational symmetric matrix is the largest root of its characteristic
polynomial; every root is real, so the isolating balls have disjoint real projections and the
top ball's real interval is an enclosure of ``lambda_max``.

Sums and products of algebraic numbers get defining polynomials from companion matrices: the
eigenvalues of ``C_p kron I + I kron C_q`` are all sums ``alpha_i + beta_j`` and those of
``C_p kron C_q`` all products (standard linear algebra over Q).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import flint
import numpy as np

from derivations.errors import PrecisionExhausted, TooLargeError
from derivations.exact import ExactMatrix, to_fmpq_mat
from derivations.intervals import Enclosure

__all__ = [
    "MAX_DEGREE",
    "Alg",
    "Comparison",
    "charpoly",
    "compare",
    "exact_rank",
    "fmat",
    "fraction_str",
    "gram_small",
    "is_psd",
    "squarefree",
]

MAX_DEGREE = 200
"""Refuse to build defining polynomials of larger degree (companion products grow fast)."""

_DPS_LADDER = (30, 60, 120, 240, 480)


def fmat(m: ExactMatrix) -> Any:
    """``ExactMatrix`` -> ``fmpq_mat``."""
    return to_fmpq_mat(np.asarray(m, dtype=object))


def fraction_str(x: Fraction) -> str:
    """``Fraction(3, 4)`` -> ``"3/4"``, ``Fraction(2)`` -> ``"2"``."""
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def charpoly(m: ExactMatrix) -> Any:
    """``det(x I - m)`` exactly (python-flint ``fmpq_mat.charpoly``).

    >>> charpoly(np.array([[Fraction(2), Fraction(1)], [Fraction(1), Fraction(2)]], dtype=object))
    x^2 + (-4)*x + 3
    """
    return fmat(m).charpoly()


def exact_rank(m: ExactMatrix) -> int:
    """The rank of a rational matrix over Q."""
    return int(fmat(m).rank())


def squarefree(p: Any) -> Any:
    """The squarefree part (product of the distinct irreducible factors) of a nonzero
    ``fmpq_poly``, made monic."""
    _, factors = p.factor_squarefree()
    out = flint.fmpq_poly([1])
    for f, _mult in factors:
        out *= f
    return out


def is_psd(m: ExactMatrix) -> bool:
    """Exactly whether the rational symmetric ``m`` is positive semidefinite.

    A real-rooted ``det(x I - m) = x^n + c_{n-1} x^{n-1} + ... + c_0`` has no negative root iff
    its coefficients alternate in sign: ``(-1)^(n-k) c_k >= 0`` for all ``k`` (Descartes' rule
    of signs is exact for real-rooted polynomials).

    >>> is_psd(np.array([[Fraction(1), Fraction(1)], [Fraction(1), Fraction(1)]], dtype=object))
    True
    """
    coeffs = [Fraction(int(c.p), int(c.q)) for c in charpoly(m).coeffs()]
    n = len(coeffs) - 1
    return all(((-1) ** (n - k)) * c >= 0 for k, c in enumerate(coeffs))


def gram_small(m: ExactMatrix) -> ExactMatrix:
    """``m^T m`` or ``m m^T``, whichever is smaller; its ``lambda_max`` is ``||m||_2^2``."""
    return np.asarray(m.T @ m if m.shape[1] <= m.shape[0] else m @ m.T, dtype=object)


# ----------------------------------------------------------------------------- root balls


def _arb_bounds(x: Any) -> tuple[Fraction, Fraction]:
    """Exact rational endpoints ``[mid - rad, mid + rad]`` of an Arb real ball."""
    man, exp = x.mid().man_exp()
    mid = Fraction(int(man)) * Fraction(2) ** int(exp)
    rman, rexp = flint.arb(x.rad()).man_exp()
    rad = Fraction(int(rman)) * Fraction(2) ** int(rexp)
    return mid - rad, mid + rad


@dataclass(frozen=True)
class _Ball:
    lo: Fraction
    hi: Fraction
    imag_lo: Fraction
    imag_hi: Fraction

    @property
    def may_be_real(self) -> bool:
        return self.imag_lo <= 0 <= self.imag_hi

    def overlaps(self, e: Enclosure) -> bool:
        return self.may_be_real and self.lo <= e.hi and e.lo <= self.hi


def _root_balls(p: Any, dps: int) -> list[_Ball]:
    """Isolating balls (real and imaginary parts as exact intervals) of the roots of the
    squarefree ``p``, computed by Arb at ``dps`` digits (rigorous)."""
    if p.degree() < 1:
        return []
    with flint.ctx.workdps(dps):
        roots = p.complex_roots()
    out = []
    for z, _mult in roots:
        lo, hi = _arb_bounds(z.real)
        ilo, ihi = _arb_bounds(z.imag)
        out.append(_Ball(lo, hi, ilo, ihi))
    return out


def _largest_root_enclosure(p: Any, dps: int) -> Enclosure:
    """Enclosure of the largest root of the real-rooted squarefree ``p``."""
    if p.degree() == 1:
        c = p.coeffs()
        r = -Fraction(int(c[0].p), int(c[0].q)) / Fraction(int(c[1].p), int(c[1].q))
        return Enclosure.point(r)
    balls = _root_balls(p, dps)
    top = max(balls, key=lambda b: b.hi)
    return Enclosure(top.lo, top.hi)


def _top_factor(p: Any) -> Any:
    """The monic irreducible factor of the real-rooted ``p`` whose largest root is the largest
    root of ``p`` (roots of distinct factors are distinct, so enclosures separate them)."""
    _, factors = p.factor()
    polys = [f for f, _ in factors]
    if len(polys) == 1:
        return polys[0]
    for dps in _DPS_LADDER:
        encs = [_largest_root_enclosure(f, dps) for f in polys]
        best = max(range(len(polys)), key=lambda i: encs[i].hi)
        if all(encs[best].lo > encs[i].hi for i in range(len(polys)) if i != best):
            return polys[best]
    raise PrecisionExhausted("could not tell which factor carries the largest root")


# ----------------------------------------------------------------------------- algebraic numbers


def _companion(p: Any) -> Any:
    """The companion matrix of the monic version of ``p`` (as ``fmpq_mat``)."""
    c = [Fraction(int(x.p), int(x.q)) for x in p.coeffs()]
    n = len(c) - 1
    lead = c[-1]
    m = flint.fmpq_mat(n, n)
    for i in range(1, n):
        m[i, i - 1] = 1
    for i in range(n):
        q = -c[i] / lead
        m[i, n - 1] = flint.fmpq(q.numerator, q.denominator)
    return m


def _kron(a: Any, b: Any) -> Any:
    n, m = a.nrows(), b.nrows()
    out = flint.fmpq_mat(n * m, n * m)
    for i in range(n):
        for j in range(n):
            aij = a[i, j]
            if aij == 0:
                continue
            for k in range(m):
                for l in range(m):
                    out[i * m + k, j * m + l] = aij * b[k, l]
    return out


def _eye(n: int) -> Any:
    out = flint.fmpq_mat(n, n)
    for i in range(n):
        out[i, i] = 1
    return out


def _check_degree(n: int) -> None:
    if n > MAX_DEGREE:
        raise TooLargeError(
            f"a defining polynomial of degree {n} exceeds the limit {MAX_DEGREE}; "
            "use certified enclosures instead of an exact comparison"
        )


@dataclass
class Alg:
    """A real algebraic number: ``poly()`` returns a nonzero squarefree rational polynomial
    having it as a root (built on first use), ``enclosure(dps)`` a rigorous interval with about
    ``dps`` digits. ``degree_bound`` is the degree of ``poly`` (known without building it).
    ``exact`` holds the value when it is a known rational.

    >>> two = Alg.lambda_max(np.array([[Fraction(2)]], dtype=object))
    >>> root2 = two.root(2)
    >>> compare(root2 * root2, Alg.rational(Fraction(2))).relation
    '='
    """

    _poly: Callable[[], Any]
    _enc: Callable[[int], Enclosure]
    degree_bound: int
    exact: Fraction | None = None
    _cache: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def rational(q: Fraction | int) -> Alg:
        q = Fraction(q)
        poly = flint.fmpq_poly([flint.fmpq(-q.numerator, q.denominator), 1])
        return Alg(lambda: poly, lambda dps: Enclosure.point(q), 1, q)

    @staticmethod
    def lambda_max(g: ExactMatrix) -> Alg:
        """``lambda_max`` of the rational symmetric matrix ``g``, defined by the irreducible
        factor (over Q) of ``det(x I - g)`` that carries the largest root (its minimal
        polynomial): a rational when that factor is linear."""
        g = np.asarray(g, dtype=object)
        if g.shape == (1, 1):
            return Alg.rational(Fraction(g[0, 0]))
        f = _top_factor(charpoly(g))
        if f.degree() == 1:
            return Alg.rational(_largest_root_enclosure(f, 30).lo)
        return Alg(lambda: f, lambda dps: _largest_root_enclosure(f, dps), f.degree())

    def poly(self) -> Any:
        if "poly" not in self._cache:
            self._cache["poly"] = self._poly()
        return self._cache["poly"]

    def enclosure(self, dps: int) -> Enclosure:
        if self.exact is not None:
            return Enclosure.point(self.exact)
        key = f"enc{dps}"
        if key not in self._cache:
            self._cache[key] = self._enc(dps)
        return self._cache[key]

    def __add__(self, other: Alg | Fraction | int) -> Alg:
        o = other if isinstance(other, Alg) else Alg.rational(Fraction(other))
        if self.exact is not None and o.exact is not None:
            return Alg.rational(self.exact + o.exact)
        deg = self.degree_bound * o.degree_bound
        a, b = self, o

        def poly() -> Any:
            _check_degree(deg)
            ca, cb = _companion(a.poly()), _companion(b.poly())
            na, nb = ca.nrows(), cb.nrows()
            return squarefree((_kron(ca, _eye(nb)) + _kron(_eye(na), cb)).charpoly())

        return Alg(poly, lambda dps: a.enclosure(dps + 5) + b.enclosure(dps + 5), deg)

    __radd__ = __add__

    def __mul__(self, other: Alg | Fraction | int) -> Alg:
        o = other if isinstance(other, Alg) else Alg.rational(Fraction(other))
        if self.exact is not None and o.exact is not None:
            return Alg.rational(self.exact * o.exact)
        deg = self.degree_bound * o.degree_bound
        a, b = self, o

        def poly() -> Any:
            _check_degree(deg)
            return squarefree(_kron(_companion(a.poly()), _companion(b.poly())).charpoly())

        return Alg(poly, lambda dps: a.enclosure(dps + 5) * b.enclosure(dps + 5), deg)

    __rmul__ = __mul__

    def __pow__(self, n: int) -> Alg:
        if n < 0:
            raise ValueError("only nonnegative integer powers")
        out = Alg.rational(1)
        for _ in range(n):
            out = out * self
        return out

    def root(self, k: int) -> Alg:
        """The nonnegative real ``k``-th root of this (nonnegative) number: a root of
        ``p(x^k)``."""
        if self.exact is not None:
            r = _rational_root(self.exact, k)
            if r is not None:
                return Alg.rational(r)
        a = self
        deg = self.degree_bound * k

        def poly() -> Any:
            _check_degree(deg)
            xk = flint.fmpq_poly([0] * k + [1])
            return squarefree(a.poly()(xk))

        def enc(dps: int) -> Enclosure:
            e = a.enclosure(dps + 5)
            bits = int(dps * 3.33) + 20
            return Enclosure(max(e.lo, Fraction(0)), e.hi).root(k, bits)

        return Alg(poly, enc, deg)


def _rational_root(q: Fraction, k: int) -> Fraction | None:
    if q < 0:
        return None
    num, den = _int_root(q.numerator, k), _int_root(q.denominator, k)
    if num is None or den is None:
        return None
    return Fraction(num, den)


def _int_root(n: int, k: int) -> int | None:
    r = round(n ** (1.0 / k)) if n < 2**1000 else None
    if r is None:
        return None
    for c in (r - 1, r, r + 1):
        if c >= 0 and c**k == n:
            return c
    return None


@dataclass(frozen=True)
class Comparison:
    """``relation`` between ``a`` and ``b`` (``"<"``, ``"="``, ``">"``), the enclosure ``gap``
    of ``a - b`` (excludes 0 unless equal), and how it was proven."""

    relation: str
    gap: Enclosure
    proof: str
    dps: int


def compare(a: Alg, b: Alg, *, ladder: tuple[int, ...] = _DPS_LADDER) -> Comparison:
    """Decide the order of ``a`` and ``b`` exactly (see the module docstring)."""
    if a.exact is not None and b.exact is not None:
        gap = Enclosure.point(a.exact - b.exact)
        rel = "<" if a.exact < b.exact else ">" if a.exact > b.exact else "="
        return Comparison(rel, gap, "exact rational arithmetic", 0)
    for dps in ladder:
        ea, eb = a.enclosure(dps), b.enclosure(dps)
        gap = ea - eb
        if gap.hi < 0 or gap.lo > 0:
            rel = "<" if gap.hi < 0 else ">"
            return Comparison(rel, gap, f"disjoint certified enclosures at {dps} digits", dps)
        try:
            g = squarefree(a.poly() * b.poly())
        except TooLargeError:
            continue
        balls = _root_balls(g, dps)
        hit_a = [i for i, ball in enumerate(balls) if ball.overlaps(ea)]
        hit_b = [i for i, ball in enumerate(balls) if ball.overlaps(eb)]
        if len(hit_a) == 1 and hit_a == hit_b:
            return Comparison(
                "=", gap,
                f"both are roots of one isolating ball of a degree-{g.degree()} squarefree "
                f"polynomial at {dps} digits (exact algebraic equality)", dps,
            )
    raise PrecisionExhausted(
        f"could not separate or identify two algebraic numbers up to {ladder[-1]} digits"
    )
