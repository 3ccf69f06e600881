"""The core properties: three independent Hessian routes agree, and the closed forms of
docs/mathematics.md K2-K7 hold, exactly on rational points and to >= 40 digits with mpmath.

Routes: (1) SymPy differentiation of the loss (``derivations.hessian``), (2) the explicit K1
block formulas (``numeric.hessian``), (3) the reduced operator K (``numeric.reduced``).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest
from flint import fmpq, fmpq_poly
from hypothesis import HealthCheck, example, find, given, settings
from hypothesis import strategies as st

from derivations.exact import Point, parse_point, to_fmpq_mat
from numeric.closed_forms import (
    depth2_sharpness,
    flattest_sharpness,
    hessian_trace,
    scalar_ends_sharpness,
    sharpness_upper_bound,
)
from numeric.evaluators.kinds import point_arrays, to_mpf
from numeric.hessian import full_hessian, gauss_newton, hessian_vector_product, residual_term
from numeric.minimizers import exact_balanced_minimizer
from numeric.reduced import reduced_operator
from numeric.spectrum import eigh_mpmath
from numeric.strategies import dims, minimizers, near_minimizers, points_with_data

DPS = 50
TOL = mpmath.mpf(10) ** -40  # what ">= 40 digits" means below (relative, floor 1)


def close(a: Any, b: Any) -> bool:
    """|a - b| <= 1e-40 max(1, |a|, |b|), with a, b Fractions or mpf (compared at DPS digits)."""
    with mpmath.workdps(DPS):
        a, b = to_mpf(a), to_mpf(b)
        return abs(a - b) <= TOL * max(1, abs(a), abs(b))


def exact_hessian(point: Point) -> np.ndarray:
    ws, x, y = point_arrays(point, "exact")
    return full_hessian(ws, x, y)


def exact_k(point: Point) -> np.ndarray:
    ws, x, _ = point_arrays(point, "exact")
    return reduced_operator(ws, x, form="gram")


def lambda_max_mp(m: np.ndarray) -> Any:
    return eigh_mpmath(m, DPS)[0][0]


small_minimizers = minimizers(dims=dims(max_depth=3, max_width=3), kind="any")
small_dims = dims(max_depth=3, max_width=2)


# --- route 1 == route 2: SymPy differentiation vs explicit formulas, exactly ------------------

@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.one_of(
    near_minimizers(dims=small_dims, kind="plain"),
    points_with_data(dims=small_dims, max_samples=3),
))
def test_sympy_hessian_equals_formula_hessian_exactly(point: Point) -> None:
    hessian = pytest.importorskip("derivations.hessian", reason="derivations.hessian not built yet")
    symbolic = hessian.symbolic_hessian_at(point)
    formula = exact_hessian(point)
    assert symbolic.shape == formula.shape == (point.num_params, point.num_params)
    assert all(isinstance(x, Fraction) for x in symbolic.flat)
    assert (symbolic == formula).all()


@settings(max_examples=15, deadline=None)
@given(points_with_data(dims=small_dims, max_samples=3))
def test_formula_hessian_in_mpmath_matches_exact_to_40_digits(point: Point) -> None:
    exact = exact_hessian(point)
    with mpmath.workdps(DPS):
        ws, x, y = point_arrays(point, "mpmath", DPS)
        approx = full_hessian(ws, x, y)
        assert all(close(a, b) for a, b in zip(approx.flat, exact.flat, strict=True))


@settings(max_examples=20, deadline=None)
@given(points_with_data(dims=dims(max_depth=3, max_width=3), max_samples=3), st.integers(0, 2**32 - 1))
def test_matrix_free_hvp_equals_dense_hessian(point: Point, seed: int) -> None:
    ws, x, y = point_arrays(point, "float64")
    h = full_hessian(ws, x, y)
    v = np.random.default_rng(seed).standard_normal(h.shape[0])
    scale = max(1.0, np.abs(h).max()) * np.linalg.norm(v)
    assert np.linalg.norm(hessian_vector_product(ws, x, y, v) - h @ v) <= 1e-12 * scale


# --- route 2 == route 3 at minimizers ---------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(st.one_of(small_minimizers, points_with_data(dims=small_dims, minimizer=True)))
def test_hessian_is_gauss_newton_and_its_spectrum_is_that_of_k_exactly(point: Point) -> None:
    """K2 exactly: charpoly(H)(x) = x^(P - n) charpoly(K)(x); so the nonzero spectra agree with
    multiplicity and zero has multiplicity P - rank K."""
    h = exact_hessian(point)
    ws, x, y = point_arrays(point, "exact")
    assert all(v == 0 for v in residual_term(ws, x, y).flat)
    assert (h == gauss_newton(ws, x)).all()
    k = exact_k(point)
    p, n = h.shape[0], k.shape[0]
    h_q, k_q = to_fmpq_mat(h), to_fmpq_mat(k)
    if p >= n:
        assert h_q.charpoly() == fmpq_poly([0] * (p - n) + [1]) * k_q.charpoly()
    else:
        assert k_q.charpoly() == fmpq_poly([0] * (n - p) + [1]) * h_q.charpoly()
    assert p - h_q.rank() == p - k_q.rank()


@settings(max_examples=15, deadline=None)
@given(small_minimizers)
def test_lambda_max_of_h_equals_lambda_max_of_k_to_40_digits(point: Point) -> None:
    assert close(lambda_max_mp(exact_hessian(point)), lambda_max_mp(exact_k(point)))


@settings(max_examples=25, deadline=None)
@given(st.one_of(small_minimizers, points_with_data(dims=small_dims, minimizer=True)))
def test_trace_formula_exactly(point: Point) -> None:
    """K3 as an exact rational identity."""
    ws, x, _ = point_arrays(point, "exact")
    assert sum(np.diag(exact_hessian(point))) == hessian_trace(ws, x)


@settings(max_examples=20, deadline=None)
@given(st.one_of(small_minimizers, points_with_data(dims=small_dims, minimizer=True)))
def test_upper_bound_holds(point: Point) -> None:
    ws, x, _ = point_arrays(point, "exact")
    lam = lambda_max_mp(exact_k(point))
    bound = sharpness_upper_bound(ws, x, dps=DPS)
    with mpmath.workdps(DPS):
        assert lam <= bound + TOL * max(1, bound)


# --- closed forms -----------------------------------------------------------------------------

def depth2_holds(point: Point, formula: Callable[..., Any]) -> bool:
    ws, _, _ = point_arrays(point, "exact")
    return close(lambda_max_mp(exact_k(point)), formula(ws, dps=DPS))


depth2_minimizers = minimizers(dims=dims(min_depth=2, max_depth=2, max_width=3), kind="any")


@settings(max_examples=25, deadline=None)
@given(depth2_minimizers)
def test_depth2_closed_form_to_40_digits(point: Point) -> None:
    assert depth2_holds(point, depth2_sharpness)


@settings(max_examples=25, deadline=None)
@given(minimizers(dims=dims(max_depth=4, max_width=3, scalar_ends=True), kind="any"))
def test_scalar_ends_closed_form_exactly(point: Point) -> None:
    ws, _, _ = point_arrays(point, "exact")
    k = exact_k(point)
    assert k.shape == (1, 1)
    assert k[0, 0] == scalar_ends_sharpness(ws)  # exact rationals, both sides


@settings(max_examples=20, deadline=None)
@given(small_minimizers)
def test_flattest_bound_holds_at_random_minimizers(point: Point) -> None:
    lam = lambda_max_mp(exact_k(point))
    flat = flattest_sharpness(point.target, point.depth, dps=DPS)
    with mpmath.workdps(DPS):
        assert lam >= flat - TOL * max(1, flat)


@given(
    st.lists(st.fractions(min_value=0, max_value=3, max_denominator=3), min_size=1, max_size=2),
    st.integers(1, 3),
    st.integers(0, 2),
)
@example([Fraction(0)], 2, 0)  # zero target
def test_flattest_bound_is_attained_exactly_at_balanced_minimizers(roots: list[Fraction], depth: int, extra: int) -> None:
    """Exact: M = U diag(s_i^L) V^T, so L sigma_1(M)^(2(L-1)/L) = L s_1^(2(L-1)) is rational, and
    at the balanced minimizer lambda_max(K) equals it (checked via the exact characteristic
    polynomial: it vanishes there and has no larger root)."""
    r = len(roots)
    point = exact_balanced_minimizer(sorted(roots, reverse=True), (r, *[r + extra] * (depth - 1), r))
    s1 = max(roots)
    value = depth * s1 ** (2 * (depth - 1))
    q = fmpq(value.numerator, value.denominator)
    poly = to_fmpq_mat(exact_k(point)).charpoly()
    assert poly(q) == 0  # `value` is an eigenvalue of K ...
    # ... and none is larger: the roots of poly(x + value) are lambda_i - value, all real (K is
    # symmetric); by Descartes' rule they are all <= 0 iff the coefficients never change sign.
    nonzero = [c for c in poly(fmpq_poly([q, 1])).coeffs() if c != 0]
    assert all(c > 0 for c in nonzero) or all(c < 0 for c in nonzero)


# --- the test machinery catches planted errors ------------------------------------------------

def _depth2_missing_term(ws: list[np.ndarray], *, dps: int) -> Any:
    from numeric.closed_forms import spectral_norm

    with mpmath.workdps(dps):
        return spectral_norm(ws[1], dps=dps) ** 2  # forgot ||W_1||_2^2


def test_planted_wrong_depth2_formula_is_caught() -> None:
    """Hypothesis must find (and shrink) a minimizer where the planted formula fails."""
    bad = find(
        depth2_minimizers,
        lambda p: not depth2_holds(p, _depth2_missing_term),
        settings=settings(max_examples=200, database=None, derandomize=True),
    )
    assert not depth2_holds(bad, _depth2_missing_term)
    assert depth2_holds(bad, depth2_sharpness)
    assert bad.num_params <= 4  # shrunk to a tiny case


def test_planted_wrong_hessian_block_is_caught() -> None:
    """Dropping the residual term breaks agreement with the SymPy route away from minimizers."""
    hessian = pytest.importorskip("derivations.hessian", reason="derivations.hessian not built yet")
    point = parse_point([[[1, 2]], [[3], [1]]], target=[[1, 0], [0, 1]])
    ws, x, _ = point_arrays(point, "exact")
    assert not (hessian.symbolic_hessian_at(point) == gauss_newton(ws, x)).all()
    assert (hessian.symbolic_hessian_at(point) == exact_hessian(point)).all()


def test_k_from_float_matrix_free_equals_dense() -> None:
    from numeric.reduced import reduced_linear_operator

    rng = np.random.default_rng(7)
    ws = [rng.standard_normal((4, 3)), rng.standard_normal((5, 4)), rng.standard_normal((2, 5))]
    x = rng.standard_normal((3, 6))
    dense = reduced_operator(ws, x)
    assert np.allclose(reduced_linear_operator(ws, x) @ np.eye(dense.shape[0]), dense, rtol=1e-12, atol=1e-12)
