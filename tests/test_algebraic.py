"""Exact eigenvalues and exact comparison (derivations.algebraic).

The characteristic polynomial is checked against SymPy's (an independent exact route),
exact roots against certified enclosures (numeric.eigen) and against mpmath at twice the
precision, and comparisons against facts known by construction.
"""

from __future__ import annotations

import functools
import itertools
import math
from fractions import Fraction as F

import mpmath
import numpy as np
import pytest
import sympy
from flint import fmpq
from hypothesis import example, given, settings
from hypothesis import strategies as st

from derivations.algebraic import (
    MAX_DEGREE,
    AlgebraicFormula,
    AlgebraicNumber,
    algebraic_from_sympy,
    charpoly,
    compare_by_enclosures,
    compare_exact,
    compare_formulas,
    enclosure_of,
    exact_eigenvalues,
    exact_lambda_max,
    exact_rank,
    factor_charpoly,
    is_psd,
    real_roots,
)
from derivations.errors import (
    DmfError,
    EntryError,
    PrecisionExhausted,
    ShapeError,
    TooLargeError,
)
from derivations.intervals import Enclosure
from numeric import strategies
from numeric.eigen import certified_eigvalsh, certified_lambda_max

small_fracs = st.builds(F, st.integers(-6, 6), st.integers(1, 4))


symmetric_matrices = functools.partial(strategies.symmetric_matrices, max_denominator=4)


def exact(rows) -> np.ndarray:
    return np.array([[F(int(F(x).numerator), int(F(x).denominator)) for x in row]
                     for row in rows], dtype=object)


def inside(e: Enclosure, v: AlgebraicNumber) -> bool:
    """The exact number ``v``, refined well below ``e``'s width, lies inside ``e``."""
    digits = 60 if e.correct_digits == float("inf") else int(e.correct_digits) + 10
    return e.contains(v.enclosure(max(digits, 60)))


def mpf_of(x: F):
    """A Fraction at the current mpmath precision."""
    return mpmath.mpf(x.numerator) / x.denominator


def kron_sum(a, b) -> np.ndarray:
    ia = exact(np.eye(a.shape[0], dtype=int))
    ib = exact(np.eye(b.shape[0], dtype=int))
    return np.kron(a, ib) + np.kron(ia, b)


def to_sympy(m: np.ndarray) -> sympy.Matrix:
    return sympy.Matrix(m.shape[0], m.shape[1],
                        [sympy.Rational(x.numerator, x.denominator) for x in m.flat])


EXAMPLES = [
    exact([[2, 0, 0], [0, 2, 0], [0, 0, 1]]),
    exact(np.eye(3, dtype=int)),
    exact(np.zeros((2, 2), dtype=int)),
    exact(np.outer([1, 2, -1], [1, 2, -1])),
    kron_sum(exact([[2, 1], [1, 2]]), exact([[1, 1], [1, 1]])),
]


# --------------------------------------------------------------------------------------------
# characteristic polynomial and factorization
# --------------------------------------------------------------------------------------------
@given(m=symmetric_matrices())
def test_charpoly_matches_sympy_and_factors_multiply_back(m) -> None:
    x = sympy.Symbol("x")
    ours = charpoly(m)
    theirs = to_sympy(m).charpoly(x).all_coeffs()  # descending
    assert [F(int(c.p), int(c.q)) for c in reversed(theirs)] == [
        F(int(c.p), int(c.q)) for c in ours.coeffs()
    ]
    product = sympy.Integer(1)
    for f, mult in factor_charpoly(m):
        assert f.leading_coefficient() > 0 and f.content() == 1
        assert len(f.factor()[1]) == 1  # irreducible
        product *= sympy.Poly(list(reversed([int(c) for c in f.coeffs()])), x).as_expr() ** mult
    monic = sympy.Poly(product, x).monic()
    assert monic.as_expr().expand() == sympy.Poly(theirs, x).as_expr().expand()


# --------------------------------------------------------------------------------------------
# exact eigenvalues versus certified enclosures
# --------------------------------------------------------------------------------------------
@given(m=symmetric_matrices())
@example(m=EXAMPLES[0])
@example(m=EXAMPLES[1])
@example(m=EXAMPLES[2])
@example(m=EXAMPLES[3])
@example(m=EXAMPLES[4])
def test_exact_eigenvalues_lie_in_certified_enclosures(m) -> None:
    dps = 25
    eigen = exact_eigenvalues(m)
    assert sum(mult for _, mult in eigen) == m.shape[0]
    flat = [v for v, mult in eigen for _ in range(mult)]
    for a, b in itertools.pairwise(flat):
        assert compare_exact(a, b).relation in (">", "=")
    enc = certified_eigvalsh(m, dps=dps)
    for v, e in zip(flat, enc, strict=True):
        # the exact number, refined to twice the digits, sits inside the certified interval
        assert inside(e, v)
    top = exact_lambda_max(m)
    assert compare_exact(top, flat[0]).relation == "="
    assert inside(certified_lambda_max(m, dps=dps), top)


def test_known_exact_spectra() -> None:
    (two, m2), (one, m1) = exact_eigenvalues(EXAMPLES[0])
    assert (two.as_fraction(), m2, one.as_fraction(), m1) == (2, 2, 1, 1)
    assert exact_eigenvalues(EXAMPLES[2])[0][0].as_fraction() == 0
    # path graph P3 + 2I: eigenvalues 2 + sqrt(2), 2, 2 - sqrt(2)
    p3 = exact([[2, 1, 0], [1, 2, 1], [0, 1, 2]])
    top = exact_lambda_max(p3)
    assert top.degree == 2
    assert compare_exact(top, 2 + sympy.sqrt(2)).relation == "="
    assert compare_exact(exact_eigenvalues(p3)[2][0], 2 - sympy.sqrt(2)).relation == "="
    assert compare_exact(top, exact_lambda_max(p3)).relation == "="  # its own exact root


def test_reduced_operator_size_16() -> None:
    """A 16 x 16 reduced-operator-like matrix (depth 3 Gram sum, d_L d_0 = 16)."""
    rng = np.random.default_rng(11)
    w1, w2, w3 = (exact(rng.integers(-2, 3, (4, 4))) for _ in range(3))
    ident = exact(np.eye(4, dtype=int))
    pairs = [(w3 @ w2, ident), (w3, w1), (ident, w2 @ w1)]  # (A_l, B_l)
    k = np.asarray(sum(np.kron(b.T @ b, a @ a.T) for a, b in pairs), dtype=object)
    top = exact_lambda_max(k)
    enc = certified_lambda_max(k, dps=50)
    assert inside(enc, top)
    with mpmath.workdps(120):
        ref = max(mpmath.eigsy(mpmath.matrix([[int(x) for x in row] for row in k]),
                               eigvals_only=True))
        assert abs(ref - mpf_of(top.enclosure(100).mid)) < mpmath.mpf(10) ** -90 * ref


# --------------------------------------------------------------------------------------------
# algebraic numbers and comparison
# --------------------------------------------------------------------------------------------
def test_sqrt2_plus_sqrt2_equals_sqrt8() -> None:
    a = algebraic_from_sympy(sympy.Add(sympy.sqrt(2), sympy.sqrt(2), evaluate=False))
    b = AlgebraicNumber.real_root([-8, 0, 1], 1)  # sqrt(8) as the positive root of x^2 - 8
    c = compare_exact(a, b)
    assert c.relation == "=" and c.proved and c.gap == Enclosure.point(0)
    assert "same minimal polynomial" in c.proof
    neg = AlgebraicNumber.real_root([-8, 0, 1], 0)
    c = compare_exact(neg, b)
    assert c.relation == "<" and "different roots" in c.proof and c.gap.hi < 0


@given(q=st.builds(F, st.integers(1, 50), st.integers(1, 9)),
       r=st.builds(F, st.integers(0, 30), st.integers(1, 9)))
@example(q=F(4), r=F(2))
@example(q=F(9, 4), r=F(3, 2))
def test_sqrt_versus_rational(q, r) -> None:
    """sqrt(q) vs r >= 0 decided exactly, checked against q vs r^2 in rationals."""
    c = compare_exact(sympy.sqrt(sympy.Rational(q.numerator, q.denominator)), r)
    expected = "<" if q < r * r else ("=" if q == r * r else ">")
    assert c.relation == expected and c.proved
    assert c.gap.contains(0) == (expected == "=")


@given(a=small_fracs, b=small_fracs)
def test_rationals_compare_like_fractions(a, b) -> None:
    c = compare_exact(a, b)
    assert c.relation == ("<" if a < b else "=" if a == b else ">")
    assert c.gap.contains(a - b)


def test_inequalities_between_radicals() -> None:
    c = compare_exact(sympy.sqrt(2) + sympy.sqrt(3), sympy.sqrt(10))
    assert c.relation == "<" and "different minimal polynomials" in c.proof
    assert compare_exact(sympy.sqrt(10), sympy.sqrt(2) + sympy.sqrt(3)).relation == ">"
    # K7 value at scalar target s = 2, depth 3: 3 * 2^(4/3) ~ 7.56 > 7
    assert compare_exact(3 * sympy.Integer(2) ** sympy.Rational(4, 3), 7).relation == ">"


def test_refine_enclosure_and_sympy_roundtrip() -> None:
    r = algebraic_from_sympy(sympy.sqrt(2) + sympy.sqrt(3) + sympy.sqrt(5))
    assert r.degree == 8
    e = r.enclosure(60)
    assert e.correct_digits >= 60
    with mpmath.workdps(140):
        v = mpmath.sqrt(2) + mpmath.sqrt(3) + mpmath.sqrt(5)
        assert abs(mpf_of(e.mid) - v) <= mpf_of(e.width)
    back = r.to_sympy()
    assert isinstance(back, sympy.CRootOf)
    assert compare_exact(algebraic_from_sympy(back), r).relation == "="
    assert [x.degree for x in real_roots([-2, 0, 1, 0, 0, 3])] == [5]  # one real root


def test_compare_by_enclosures_proves_or_abstains() -> None:
    p3 = exact([[2, 1, 0], [1, 2, 1], [0, 1, 2]])
    lam = lambda d: certified_lambda_max(p3, dps=d)  # noqa: E731
    c = compare_by_enclosures(lam, sympy.Rational(341, 100), dps=20)
    assert c.relation == ">" and c.proved and "disjoint certified enclosures" in c.proof
    c = compare_by_enclosures(lam, 2 + sympy.sqrt(2), dps=20, max_dps=40)
    assert c.relation == "~" and not c.proved and "NOT proved" in c.proof
    assert c.gap.contains(0) and c.gap.mag <= F(1, 10**38)
    assert compare_by_enclosures(sympy.pi, sympy.Rational(22, 7)).relation == "<"
    pi = enclosure_of(sympy.pi, 40)  # pi = 3.14159265358979323846264338327950288419716939937510582...
    assert pi.overlaps(Enclosure(F("3.14159265358979323846264338327950288419716939937510"),
                                 F("3.14159265358979323846264338327950288419716939937511")))
    assert pi.correct_digits >= 40


# --------------------------------------------------------------------------------------------
# exact arithmetic: sums, products, powers, roots (each result with its minimal polynomial)
# --------------------------------------------------------------------------------------------
@st.composite
def radicals(draw) -> sympy.Expr:
    """``c n^(1/k) + q``: small rationals ``c != 0``, ``q``, radicand ``n`` in 2..13, ``k`` in
    1..3 (degree up to 3; rational when ``k = 1``)."""
    n = draw(st.integers(2, 13))
    k = draw(st.integers(1, 3))
    c = draw(st.builds(F, st.integers(1, 5), st.integers(1, 3)).map(
        lambda x: x if draw(st.booleans()) else -x))
    q = draw(small_fracs)
    return (sympy.Rational(c.numerator, c.denominator) * sympy.Integer(n) ** sympy.Rational(1, k)
            + sympy.Rational(q.numerator, q.denominator))


def sympy_minpoly(expr: sympy.Expr) -> list[int]:
    """The primitive integer minimal polynomial by SymPy (an independent exact route),
    ascending coefficients, positive leading coefficient."""
    x = sympy.Symbol("x")
    coeffs = [int(c) for c in reversed(sympy.Poly(sympy.minimal_polynomial(expr, x), x)
                                       .all_coeffs())]
    g = math.gcd(*coeffs) * (1 if coeffs[-1] > 0 else -1)
    return [c // g for c in coeffs]


def ours(v: AlgebraicNumber) -> list[int]:
    return [int(c) for c in v.poly.coeffs()]


@settings(max_examples=12)
@given(a=radicals(), b=radicals())
@example(a=sympy.sqrt(2), b=sympy.sqrt(3))
@example(a=sympy.sqrt(2), b=-sympy.sqrt(2))
@example(a=sympy.cbrt(2), b=sympy.cbrt(4))
def test_sum_and_product_enclose_and_have_the_minimal_polynomial(a, b) -> None:
    x, y = algebraic_from_sympy(a), algebraic_from_sympy(b)
    for value, expr, enc in ((x + y, a + b, x.enclosure(30) + y.enclosure(30)),
                             (x * y, a * b, x.enclosure(30) * y.enclosure(30))):
        # the exact result lies in the interval sum/product of the operands' enclosures
        assert enc.contains(value.enclosure(40))
        # its minimal polynomial is irreducible and is SymPy's minimal polynomial
        assert len(value.poly.factor()[1]) == 1
        assert ours(value) == sympy_minpoly(expr)
        # and it vanishes on it exactly: a strict sign change across the isolating interval
        if not value.is_rational:
            lo, hi = (fmpq(e.numerator, e.denominator) for e in (value.interval.lo,
                                                                  value.interval.hi))
            assert value.poly(lo) * value.poly(hi) < 0


def test_known_sums_products_powers_and_roots() -> None:
    r2 = AlgebraicNumber.real_root([-2, 0, 1], 1)
    r3 = AlgebraicNumber.real_root([-3, 0, 1], 1)
    s = r2 + r3
    assert ours(s) == [1, 0, -10, 0, 1]  # sqrt 2 + sqrt 3: x^4 - 10 x^2 + 1
    assert ours(r2 * r3) == [-6, 0, 1]
    assert (r2 * r2).as_fraction() == 2 and (r2 - r2).as_fraction() == 0
    assert compare_exact(s - r3, r2).relation == "="  # degree drops back to 2
    assert compare_exact(s * s, 5 + 2 * r2 * r3).relation == "="
    cube = AlgebraicNumber.real_root([-2, 0, 0, 1], 0)  # 2^(1/3)
    assert (cube**3).as_fraction() == 2 and ours(cube**2) == [-4, 0, 0, 1]
    assert ours(r2**-1) == [-1, 0, 2] and compare_exact(r2**-1 * 2, r2).relation == "="
    assert AlgebraicNumber.from_rational(F(9, 4)).root(2).as_fraction() == F(3, 2)
    assert ours(r2.root(2)) == [-2, 0, 0, 0, 1]
    assert compare_exact(r2.root(3) ** 6, 2).relation == "="
    assert ours(-s) == ours(s) and compare_exact(-s, 0).relation == "<"
    a = exact_lambda_max(exact([[2, 1], [1, 3]]))  # (5 + sqrt 5) / 2, irrational
    assert compare_exact(a + a, a * 2).relation == "="
    assert compare_exact(a.root(2) ** 2, a).relation == "="
    c = compare_exact(a, F(18, 5))
    assert c.relation == ">" and c.gap.lo > 0
    assert exact_lambda_max(exact([[1, 0], [0, 5]])).as_fraction() == 5


def test_degree_guard_and_bad_operands() -> None:
    a = AlgebraicNumber.real_root([-2] + [0] * 14 + [1], 0)  # 2^(1/15), degree 15
    b = AlgebraicNumber.real_root([-3] + [0] * 14 + [1], 0)
    assert a.degree * b.degree > MAX_DEGREE
    with pytest.raises(TooLargeError, match="degree 225 > MAX_DEGREE"):
        a * b
    with pytest.raises(TooLargeError, match="degree 225 > MAX_DEGREE"):
        a + b
    with pytest.raises(TooLargeError, match="14-th root"):
        a.root(14)
    with pytest.raises(DmfError, match="nonnegative"):
        AlgebraicNumber.real_root([-2, 0, 1], 0).root(2)
    with pytest.raises(EntryError, match="integer"):
        a ** F(1, 2)  # type: ignore[operator]
    with pytest.raises(DmfError, match="cannot invert 0"):
        AlgebraicNumber.rational(0) ** -1


def test_formulas_defer_exact_values_until_enclosures_overlap() -> None:
    cubes = [AlgebraicFormula.of(AlgebraicNumber.real_root([-p, 0, 0, 1], 0)) for p in (2, 3, 5)]
    eighth = AlgebraicFormula.of(AlgebraicNumber.real_root([-2] + [0] * 7 + [1], 1))
    big = cubes[0] + cubes[1] + cubes[2] + eighth  # degree bound 216 > MAX_DEGREE
    assert big.degree_bound == 216 and big.rational is None
    c = compare_formulas(big, F(5))
    assert c.relation == ">" and c.dps == 30 and c.gap.lo > 0  # enclosures alone
    with pytest.raises(PrecisionExhausted, match="too large"):
        compare_formulas(big, cubes[2] + cubes[1] + cubes[0] + eighth, ladder=(30, 60))
    r2 = AlgebraicFormula.of(sympy.sqrt(2))
    r3 = AlgebraicFormula.of(sympy.sqrt(3))
    c = compare_formulas(r2 * r2 + r3 * r3, 5)  # built on overlap: the value is rational
    assert c.relation == "=" and c.dps is None and "x + (-5)" in c.proof
    assert compare_formulas(r2 * 3, r2 + r2 + r2).relation == "="
    assert compare_formulas(AlgebraicFormula.of(F(1, 3)) + 1, F(4, 3)).proof == (
        "exact rational arithmetic")
    c = compare_formulas((r2 + r3) * (r2 + r3), 5 + 2 * r2 * r3)  # equal: exact values built
    assert c.relation == "=" and c.dps is None and "same minimal polynomial" in c.proof
    assert compare_formulas((r2 + r3).root(2) ** 2, r2 + r3).relation == "="
    assert compare_formulas(r2 - r3, 0).relation == "<"


def test_exact_rank_and_psd() -> None:
    assert exact_rank([[1, 2, 3], [2, 4, 6]]) == 1
    assert exact_rank(exact(np.eye(3, dtype=int))) == 3
    assert is_psd([[1, 1], [1, 1]]) and is_psd([[0]])
    assert not is_psd([[1, 2], [2, 1]])
    assert is_psd(exact(np.outer([1, 2, -1], [1, 2, -1])))
    with pytest.raises(ShapeError, match="not symmetric"):
        is_psd([[1, 2], [0, 1]])


BAD = [
    pytest.param(lambda: exact_lambda_max([[1, 2], [3, 1]]), ShapeError, "not symmetric",
                 id="non-symmetric"),
    pytest.param(lambda: charpoly([[1, 2, 3]]), ShapeError, "square", id="non-square"),
    pytest.param(lambda: AlgebraicNumber([-1, 0, 1], 0, 2), DmfError, "not irreducible",
                 id="reducible"),
    pytest.param(lambda: AlgebraicNumber([-2, 0, 1], -2, 2), DmfError, "exactly one root",
                 id="not-isolating"),
    pytest.param(lambda: algebraic_from_sympy(sympy.Symbol("t") + 1), EntryError,
                 "free symbols", id="free-symbol"),
    pytest.param(lambda: algebraic_from_sympy(sum(sympy.sqrt(p) for p in range(2, 40))),
                 TooLargeError, "operations", id="too-large"),
    pytest.param(lambda: enclosure_of(sympy.sin(1)), EntryError, "cannot enclose",
                 id="unsupported"),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD)
def test_bad_input(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()
