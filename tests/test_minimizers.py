"""numeric.minimizers: exact constructions keep products exactly; balanced minimizers attain K7."""

from __future__ import annotations

from fractions import Fraction as F

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from derivations.errors import DmfError, ShapeError
from derivations.exact import exact_product, identity, parse_matrix, to_fmpq_mat
from numeric import strategies as dst
from numeric.closed_forms import depth2_sharpness, flattest_sharpness
from numeric.eigen import certified_lambda_max
from numeric.minimizers import (
    balanced_minimizer,
    cayley_orthogonal,
    exact_balanced_from_factors,
    exact_balanced_minimizer,
    gauge_transform,
    minimizer_from_weights,
    random_gauges,
    rational_orthogonal,
)
from numeric.reduced import reduced_operator


def _is_balanced(ws: tuple[np.ndarray, ...] | list[np.ndarray]) -> bool:
    return all(
        np.all(ws[l + 1].T @ ws[l + 1] == ws[l] @ ws[l].T) for l in range(len(ws) - 1)
    )


def _rank(m: np.ndarray) -> int:
    return int(to_fmpq_mat(m).rank())


@st.composite
def skew(draw: st.DrawFn, max_n: int = 4) -> np.ndarray:
    n = draw(st.integers(1, max_n))
    s = identity(n) * F(0)
    for i in range(n):
        for j in range(i + 1, n):
            x = F(draw(st.integers(-5, 5)), draw(st.integers(1, 4)))
            s[i, j], s[j, i] = x, -x
    return s


@given(skew())
def test_cayley_is_exactly_orthogonal(s: np.ndarray) -> None:
    q = cayley_orthogonal(s)
    assert np.all(q.T @ q == identity(s.shape[0]))
    assert np.all((identity(s.shape[0]) + s) @ q == identity(s.shape[0]) - s)


def test_cayley_rejects_non_skew() -> None:
    with pytest.raises(DmfError, match=r"skew-symmetric.*S\[0, 1\]"):
        cayley_orthogonal([[0, 1], [1, 0]])


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_rational_orthogonal(n: int) -> None:
    q = rational_orthogonal(n, np.random.default_rng(n))
    assert all(isinstance(x, F) for x in q.flat)
    assert np.all(q.T @ q == identity(n))


def test_minimizer_from_weights_sets_exact_target() -> None:
    p = minimizer_from_weights([[[1, "1/3"]], [["0.5"], [2]]])
    assert p.is_minimizer()
    assert p.target.tolist() == [[F(1, 2), F(1, 6)], [F(2), F(2, 3)]]


# ----------------------------------------------------------------------- exact balanced (K7)
@st.composite
def balanced_cases(draw: st.DrawFn) -> tuple[list[F], tuple[int, ...], int]:
    dims = draw(dst.dims(max_depth=4, max_width=3))
    k = draw(st.integers(0, min(dims)))
    roots = [F(draw(st.integers(0, 4)), draw(st.integers(1, 3))) for _ in range(k)]
    return roots, dims, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=15)
@given(balanced_cases())
@example(([F(1)], (1, 1), 0))  # depth 1, scalar
@example(([F(2), F(0)], (2, 3, 2), 1))  # rank-deficient target
@example(([], (2, 2, 2), 2))  # zero target
@example(([F(1, 2), F(1, 2)], (2, 2, 2, 2), 3))  # repeated singular values
def test_exact_balanced_minimizer_is_exact_and_attains_k7(
    case: tuple[list[F], tuple[int, ...], int],
) -> None:
    roots, dims, seed = case
    p = exact_balanced_minimizer(roots, dims, rng=np.random.default_rng(seed))
    assert p.dims == dims and p.is_minimizer() and _is_balanced(p.weights)
    depth = len(dims) - 1
    # the target's singular values are s_i^L: M^T M has eigenvalues s_i^(2L) (exact charpoly)
    assert _rank(p.target) == sum(1 for s in roots if s != 0)
    # K7: lambda_max(K) = L * s_1^(2(L-1)); it is an eigenvalue exactly, and the certified
    # enclosure of lambda_max contains it
    k = reduced_operator(list(p.weights))
    s1 = max(roots, default=F(0))
    expected = depth * s1 ** (2 * (depth - 1)) if depth > 1 else F(1)
    assert _rank(k - expected * identity(k.shape[0])) < k.shape[0]
    enc = certified_lambda_max(k, dps=30)
    assert enc.contains(expected)


def test_exact_balanced_from_factors() -> None:
    u = cayley_orthogonal([[0, 1, 2], [-1, 0, "1/2"], [-2, "-1/2", 0]])[:, :2]
    v = cayley_orthogonal([[0, 3], [-3, 0]])
    p = exact_balanced_from_factors(u, [F(2), F(1)], v, (2, 4, 3))
    assert np.all(p.target == u @ np.diag([F(4), F(1)]) @ v.T)
    assert _is_balanced(p.weights) and p.is_minimizer()
    with pytest.raises(DmfError, match="frame U_2 does not have exactly orthonormal columns"):
        exact_balanced_from_factors(2 * u, [F(2), F(1)], v, (2, 4, 3))


def test_exact_balanced_too_many_roots() -> None:
    with pytest.raises(ShapeError, match="d_1 = 1 is smaller than the number of singular roots"):
        exact_balanced_minimizer([F(1), F(1)], (2, 1, 2))


# ----------------------------------------------------------------------- approximate balanced
@pytest.mark.parametrize(
    ("target", "dims"),
    [
        ([[1, 2, 3], [4, 5, 6]], (3, 2, 5, 2)),  # rectangular, padded hidden layer
        ([[3, 1], [1, 3]], (2, 2, 2, 2)),
        ([[1, 1, 1]], (3, 1, 1, 1)),  # rank 1, width-1 bottleneck
        ([["1/3"]], (1, 4, 1)),  # scalar ends
        ([[2, 0], [0, 0]], (2, 1, 2)),  # rank-deficient
    ],
    ids=["rect-padded", "square-depth3", "bottleneck-1", "scalar-ends", "rank-deficient"],
)
def test_mpmath_balanced_minimizer_attains_k7_to_40_digits(
    target: list[list[object]], dims: tuple[int, ...]
) -> None:
    dps = 50
    ws = balanced_minimizer(target, dims, dps=dps)
    m = parse_matrix(target)
    with mpmath.workdps(dps):
        m_mp = np.vectorize(lambda q: mpmath.mpf(q.numerator) / q.denominator, otypes=[object])(m)
        resid = max(abs(x) for x in (exact_product(ws) - m_mp).flat)
        assert resid < mpmath.mpf(10) ** (5 - dps)
    # the mpf weights are exact binary rationals: certify lambda_max(K) at them exactly
    wq = [parse_matrix(w) for w in ws]  # mpf entries read exactly
    enc = certified_lambda_max(reduced_operator(wq), dps=dps)
    k7 = flattest_sharpness(m, len(dims) - 1, dps=dps + 10)
    with mpmath.workdps(dps + 10):
        rel = abs(mpmath.mpf(enc.mid.numerator) / enc.mid.denominator - k7) / k7
        assert rel < mpmath.mpf(10) ** -40


def test_float64_balanced_minimizer() -> None:
    m = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    ws = balanced_minimizer(m, (2, 3, 3, 3))
    assert np.allclose(exact_product(ws), m, rtol=1e-13, atol=1e-13)
    lam = np.linalg.eigvalsh(reduced_operator(ws))[-1]
    assert abs(lam - flattest_sharpness(m, 3)) < 1e-12 * lam


def test_balanced_zero_target() -> None:
    ws = balanced_minimizer([[0, 0]], (2, 1, 1), dps=20)
    assert all(x == 0 for w in ws for x in w.flat)


def test_balanced_names_too_narrow_layer() -> None:
    with pytest.raises(ShapeError, match=r"hidden layer 2 has width d_2 = 1, smaller than rank M = 2"):
        balanced_minimizer([[1, 0], [0, 1]], (2, 2, 1, 2))
    with pytest.raises(ShapeError, match=r"target M has shape \(2, 2\); expected \(d_L, d_0\)"):
        balanced_minimizer([[1, 0], [0, 1]], (3, 2))


# ----------------------------------------------------------------------- gauges
@given(dst.minimizers(kind="plain"), st.data())
def test_gauge_transform_keeps_product_exactly(point: object, data: st.DataObject) -> None:
    from derivations.exact import Point

    assert isinstance(point, Point)
    gs = data.draw(dst.gauges(point.dims))
    q = gauge_transform(point, gs)
    assert np.all(exact_product(q.weights) == exact_product(point.weights))
    assert q.is_minimizer() and q.dims == point.dims


def test_gauge_changes_sharpness() -> None:
    p = gauge_transform([[[1]], [[1]]], [[[2]]])
    assert [w.item() for w in p.weights] == [F(2), F(1, 2)]
    before = reduced_operator([np.array([[F(1)]]), np.array([[F(1)]])])[0, 0]
    after = reduced_operator(list(p.weights))[0, 0]  # K is 1 x 1 here: it is lambda_max
    assert (before, after) == (F(2), F(17, 4))  # K5: ||W_1||^2 + ||W_2||^2
    assert abs(depth2_sharpness([w.astype(float) for w in p.weights]) - 17 / 4) < 1e-14


def test_random_gauges_are_invertible_and_keep_product() -> None:
    rng = np.random.default_rng(7)
    dims = (2, 3, 1, 3, 2)
    gs = random_gauges(dims, rng)
    assert [g.shape for g in gs] == [(3, 3), (1, 1), (3, 3)]
    assert all(_rank(g) == g.shape[0] for g in gs)
    p = exact_balanced_minimizer([F(1, 2)], dims, rng=rng)
    q = gauge_transform(p, gs)
    assert np.all(q.target == p.target) and np.all(exact_product(q.weights) == p.target)


def test_singular_gauge_names_layer() -> None:
    with pytest.raises(DmfError, match=r"gauge G_2 \(2 x 2\) is singular \(rank 1\)"):
        gauge_transform([[[1]], [[1], [1]], [[1, 1]]], [[[1]], [[1, 1], [1, 1]]])
    with pytest.raises(ShapeError, match=r"expected L - 1 = 1 gauges"):
        gauge_transform([[[1]], [[1]]], [])
    with pytest.raises(ShapeError, match=r"gauge G_1 has shape \(2, 2\); expected \(d_1, d_1\)"):
        gauge_transform([[[1]], [[1]]], [[[1, 0], [0, 1]]])


def test_depth_one_has_no_gauges() -> None:
    assert random_gauges((3, 2), np.random.default_rng(0)) == []
    p = gauge_transform([[[1, 2]]], [])
    assert p.weights[0].tolist() == [[F(1), F(2)]]
