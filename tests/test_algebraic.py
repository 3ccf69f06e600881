"""Exact eigenvalues and exact comparison (derivations.algebraic).

The characteristic polynomial is checked against SymPy's (an independent exact route),
exact roots against certified enclosures (numeric.eigen) and against mpmath at twice the
precision, and comparisons against facts known by construction.
"""

from __future__ import annotations

import itertools
from fractions import Fraction as F

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import example, given
from hypothesis import strategies as st

from derivations.algebraic import (
    AlgebraicNumber,
    algebraic_from_sympy,
    charpoly,
    compare_by_enclosures,
    compare_exact,
    enclosure_of,
    exact_eigenvalues,
    exact_lambda_max,
    factor_charpoly,
    real_roots,
)
from derivations.errors import DmfError, EntryError, ShapeError, TooLargeError
from derivations.intervals import Enclosure
from numeric.eigen import certified_eigvalsh, certified_lambda_max

small_fracs = st.builds(F, st.integers(-6, 6), st.integers(1, 4))


@st.composite
def symmetric_matrices(draw, *, max_n: int = 5) -> np.ndarray:
    n = draw(st.integers(1, max_n))
    m = np.empty((n, n), dtype=object)
    for i in range(n):
        for j in range(i, n):
            m[i, j] = m[j, i] = draw(small_fracs)
    return m


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
    k = sum(np.kron(b.T @ b, a @ a.T) for a, b in pairs)
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
