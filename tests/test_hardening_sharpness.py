"""numeric.sharpness hardening: secondary quantities (lambda_min, gap, multiplicity) never
dominate the cost nor make lambda_max fail, and every printed number is right."""

from __future__ import annotations

import importlib
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest
from scipy.sparse.linalg import LinearOperator

from derivations.errors import TooLargeError
from numeric.sharpness import sharpness

sharpness_module = importlib.import_module("numeric.sharpness")
float64_module = importlib.import_module("numeric.evaluators.float64")
hessian_module = importlib.import_module("numeric.hessian")


def _near_minimizer(dims: tuple[int, ...], seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """float64 weights and their float64 product as the target: residual ~1e-16, so the point
    is not an exact minimizer (the full route) but the residual term is negligible."""
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal((dims[i + 1], dims[i])) / np.sqrt(dims[i])
          for i in range(len(dims) - 1)]
    target = ws[0]
    for w in ws[1:]:
        target = w @ target
    return ws, target


@pytest.fixture
def hvp_count(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the Hessian-vector products of every ``hessian_operator`` built."""
    count = [0]
    original = hessian_module.hessian_operator

    def counted(*args: Any, **kwargs: Any) -> LinearOperator:
        op = original(*args, **kwargs)

        def matvec(v: np.ndarray) -> np.ndarray:
            count[0] += 1
            return op.matvec(v)

        return LinearOperator(op.shape, matvec=matvec, rmatvec=matvec, dtype=op.dtype)

    monkeypatch.setattr(hessian_module, "hessian_operator", counted)
    return count


def _printed_in(enc: Any, text: str, digits: int) -> bool:
    """``text`` is a value of ``enc`` rounded to at most ``digits`` significant digits."""
    tol = abs(enc.mid) * Fraction(1, 10 ** (digits - 1))
    return bool(enc.lo - tol <= Fraction(text) <= enc.hi + tol)


# ----------------------------------------------------------------------- 1. float64 cost
def test_float64_near_minimizer_lambda_min_costs_bounded_work(
    monkeypatch: pytest.MonkeyPatch, hvp_count: list[int]
) -> None:
    """Before: ARPACK spent ~62,000 products (13 s) on lambda_min in the near-zero cluster and
    then reported nothing. Now lambda_min is bounded from the residual term's norm."""
    monkeypatch.setattr(float64_module, "DENSE_FLOAT64_LIMIT", 0)  # P = 256: Lanczos
    ws, target = _near_minimizer((8, 8, 8, 8, 8), seed=0)
    ref = sharpness(ws, "product", float64=True)  # exact minimizer: reduced route
    r = sharpness(ws, target, float64=True)
    assert r.route == "full" and not r.at_minimizer and "Lanczos" in r.method
    assert hvp_count[0] < 2000
    assert abs(r.value - ref.value) <= 1e-8 * ref.value
    assert r.lambda_min is not None and abs(r.lambda_min) <= 1e-9 * r.value
    assert "|lambda_min| <=" in r.method
    assert r.largest_magnitude_is_lambda_min is False


def test_float64_near_minimizer_lambda_min_is_never_wrong(
    monkeypatch: pytest.MonkeyPatch, hvp_count: list[int]
) -> None:
    """Before: Lanczos (which="SA") reported lambda_min = 9.6e-4 here, while |lambda_min| is
    below 1e-13 (J^T J is PSD and singular, the residual term is ~1e-15)."""
    monkeypatch.setattr(float64_module, "DENSE_FLOAT64_LIMIT", 0)
    ws, target = _near_minimizer((8, 8, 8, 8), seed=1)
    r = sharpness(ws, target, float64=True)
    dense = np.linalg.eigvalsh(hessian_module.full_hessian(ws, None, target))
    assert abs(r.value - dense[-1]) <= 1e-8 * dense[-1]
    assert r.lambda_min is not None and abs(r.lambda_min - dense[0]) <= 1e-9 * r.value
    assert hvp_count[0] < 2000


def test_float64_lambda_min_away_from_minimizer_still_computed(
    monkeypatch: pytest.MonkeyPatch, hvp_count: list[int]
) -> None:
    """Away from minimizers the residual term matters: with ``secondary=True`` Lanczos still
    computes lambda_min (and the gap); by default lambda_max alone, with fewer products."""
    monkeypatch.setattr(float64_module, "DENSE_FLOAT64_LIMIT", 0)
    rng = np.random.default_rng(5)
    ws = [rng.standard_normal((4, 3)), rng.standard_normal((5, 4)), rng.standard_normal((3, 5))]
    target = 3 * rng.standard_normal((3, 3))
    dense = np.linalg.eigvalsh(hessian_module.full_hessian(ws, None, target))
    r = sharpness(ws, target, float64=True, secondary=True)
    full_cost = hvp_count[0]
    assert abs(r.value - dense[-1]) <= 1e-8 * abs(dense[-1])
    assert r.lambda_min is not None and abs(r.lambda_min - dense[0]) <= 1e-8 * abs(dense[-1])
    assert r.gap is not None and abs(r.gap - (dense[-1] - dense[-2])) <= 1e-8 * abs(dense[-1])
    hvp_count[0] = 0
    alone = sharpness(ws, target, float64=True)
    assert abs(alone.value - dense[-1]) <= 1e-8 * abs(dense[-1])
    assert alone.lambda_min is None and alone.gap is None
    assert alone.secondary is not None and "secondary=True" in alone.secondary
    assert 0 < hvp_count[0] < full_cost / 2


def test_residual_term_bound_is_a_bound() -> None:
    rng = np.random.default_rng(2)
    for depth in (2, 3, 4):
        dims = rng.integers(1, 5, size=depth + 1)
        ws = [rng.standard_normal((dims[l], dims[l - 1])) for l in range(1, depth + 1)]
        x = rng.standard_normal((dims[0], 3))
        y = rng.standard_normal((dims[-1], 3))
        for data, labels in ((None, rng.standard_normal((dims[-1], dims[0]))), (x, y)):
            hf = hessian_module.residual_term(ws, data, labels)
            norm = float(np.max(np.abs(np.linalg.eigvalsh(hf)))) if hf.size else 0.0
            bound = float64_module._residual_term_bound(ws, data, labels)
            assert norm <= bound * (1 + 1e-12) + 1e-300


# ----------------------------------------------------------------------- 2. secondary eigenvalues
POINT_2 = [
    [[72, -40, 72], ["261/4", "-145/4", "261/4"]],
    [["-17/4000000000000", "-1/2500000000000"], ["7/3000000000000", "-3/5000000000000"]],
]


@pytest.mark.parametrize("route", ["auto", "full"])
@pytest.mark.parametrize("dps", [30, 50])
def test_secondary_eigenvalue_never_fails_lambda_max(route: str, dps: int) -> None:
    """Before: route="full" raised PrecisionExhausted on an eigenvalue ~1e-25 (or ~1e-40)
    far below lambda_max ~ 21797 at dps 30 and 50."""
    ref = sharpness(POINT_2, "product", dps=50)
    r = sharpness(POINT_2, "product", dps=dps, route=route)
    assert r.certified and r.enclosure.overlaps(ref.enclosure)  # both rigorous
    assert r.enclosure.correct_digits >= dps
    if r.gap_enclosure is not None:  # every printed number lies in its enclosure
        assert _printed_in(r.gap_enclosure, r.to_json()["gap"], dps)
    if r.lambda_min_enclosure is not None:
        assert _printed_in(r.lambda_min_enclosure, r.to_json()["lambda_min"], dps)


def _significant(text: str) -> int:
    mantissa = text.lower().split("e")[0].replace("-", "").replace(".", "")
    return len(mantissa.lstrip("0")) or 1


def test_secondary_fallback_is_labelled_and_prints_proven_digits() -> None:
    r = sharpness(POINT_2, "product", dps=50, route="full", spectrum=True)
    j = r.to_json()
    if r.secondary is None:  # certified_eigvalsh resolved every eigenvalue: nothing to check
        return
    assert j["secondary"] == r.secondary and "only lambda_max is required" in r.method
    assert r.enclosure.correct_digits >= 50
    for text, enc in zip(j["spectrum"], r.spectrum_enclosures, strict=True):
        assert _printed_in(enc, text, _significant(text))
        assert _significant(text) <= min(50, max(1, enc.correct_digits) + 2)


def test_exact_call_of_the_report() -> None:
    ref = sharpness(POINT_2, "product", dps=50)
    r = sharpness(POINT_2, "product", dps=30)
    assert r.certified and r.enclosure.overlaps(ref.enclosure)
    assert _printed_in(r.gap_enclosure, r.to_json()["gap"], 30)  # was 2.2993e-23, outside


# ----------------------------------------------------------------------- 3. gap digits
HUGE = [
    [[10**18, 0], [0, 10**18]],
    [[10**18, 0], [0, str(Fraction(10**18) - Fraction(1, 10**35))]],
]


@pytest.mark.parametrize("kwargs", [{}, {"dps": 20}, {"route": "full"}],
                         ids=["reduced", "dps20", "full"])
def test_small_gap_below_huge_lambda_max_keeps_its_digits(kwargs: dict[str, Any]) -> None:
    """lambda_max = 2e36, gap 2e-17 - 1e-70: 53 digits cancel in lambda_1 - lambda_2. Before,
    the gap printed as "0.0" (full route), or as cancellation garbage (3.55e-15, 2.25e15)."""
    r = sharpness(HUGE, "product", **kwargs)
    gap = r.to_json()["gap"]
    assert float(gap) != 0.0
    assert _printed_in(r.gap_enclosure, gap, r.dps)
    assert "e-17" in gap.lower()
    assert _printed_in(r.gap_enclosure, mpmath.nstr(r.gap, r.dps), r.dps)  # the value too


# ----------------------------------------------------------------------- 4. float64 range
FLOAT64_RANGE = [
    ([[[1e308]], [[1e308]]], "product", "overflow"),  # lambda_max 2e616: printed 0.0 before
    ([np.array([[1e308]]), np.array([[1e308]])], "product", "overflow"),  # the NumPy fast path
    ([[[1e200]], [[1e200]]], [[1]], "overflow"),  # nan before
    ([np.array([[1e200]]), np.array([[1e200]])], np.array([[1.0]]), "overflow"),
    ([np.array([[1e160, 1.0], [2.0, 1e160]]), np.array([[1e160, 3.0], [1.0, 1e160]])],
     np.eye(2), "overflow"),  # LinAlgError before
    ([[[1e160, 1], [2, 1e160]], [[1e160, 3], [1, 1e160]]], "product", "overflow"),
    ([[["1e400"]], [[1]]], "product", "overflow"),  # an entry beyond float64
    ([np.array([[1e-200]]), np.array([[1e-200]])], "product", "underflow"),  # 0.0 before (2e-400)
    ([[["1e-400"]], [[1]]], "product", "underflow"),  # an entry that rounds to 0
]


@pytest.mark.parametrize(("weights", "target", "kind"), FLOAT64_RANGE)
def test_float64_out_of_range_is_refused(weights: Any, target: Any, kind: str) -> None:
    with pytest.raises(sharpness_module.Float64RangeError, match=kind) as info:
        sharpness(weights, target, float64=True)
    assert "exact route" in str(info.value) and "float64=False" in str(info.value)
    assert isinstance(info.value, TooLargeError)


def test_float64_large_but_representable_still_works() -> None:
    """Products up to ~1e200 are fine in float64: no refusal, right answer (K5: a^2 + b^2)."""
    r = sharpness([np.array([[1e100]]), np.array([[2e100]])], "product", float64=True)
    assert r.value == pytest.approx(5e200, rel=1e-12)
    r = sharpness([[[1e100]], [[1e100]]], [[1]], float64=True)
    exact = sharpness([[[10**100]], [[10**100]]], [[1]], dps=20)
    assert float(exact.value) == pytest.approx(r.value, rel=1e-12)


def test_float64_lambda_min_lanczos_is_capped_off_the_minimizer(
    monkeypatch: pytest.MonkeyPatch, hvp_count: list[int]
) -> None:
    """A small residual (1e-4): lambda_min ~ -5e-4 sits in a cluster of near-zero eigenvalues.
    Before: 8,697 products in all (most on lambda_min). Now a budget caps it; an unconverged
    lambda_min is not reported, its bound is, and lambda_max is unaffected."""
    monkeypatch.setattr(float64_module, "DENSE_FLOAT64_LIMIT", 0)
    rng = np.random.default_rng(7)
    ws, target = _near_minimizer((8, 8, 8, 8), seed=3)
    target = target + 1e-4 * rng.standard_normal(target.shape)
    r = sharpness(ws, target, float64=True)
    dense = np.linalg.eigvalsh(hessian_module.full_hessian(ws, None, target))
    assert abs(r.value - dense[-1]) <= 1e-8 * dense[-1]
    assert hvp_count[0] < 2000
    if r.lambda_min is None:
        assert r.secondary is not None and "not reported" in r.secondary
        assert r.largest_magnitude_is_lambda_min is False  # decided by the bound
    else:
        assert abs(r.lambda_min - dense[0]) <= 1e-8 * r.value


@pytest.mark.parametrize(("dims", "noise"), [((16, 16, 16, 16, 16), 1e-3), ((8, 16, 16, 8), 1e-6)])
def test_float64_lambda_min_in_a_narrow_cluster_costs_no_lanczos(
    hvp_count: list[int], dims: tuple[int, ...], noise: float
) -> None:
    """Near a minimizer (a regularized minimizer is one: R small, not 0) lambda_min lies in a
    cluster of at least P - d_L N eigenvalues within the residual term's bound. Lanczos spent
    600 products there (12 times lambda_max's) without converging; now none are spent, and the
    bound, which must contain the true lambda_min, is reported."""
    rng = np.random.default_rng(11)
    ws, target = _near_minimizer(dims, seed=4)
    target = target + noise * rng.standard_normal(target.shape)
    r = sharpness(ws, target, float64=True)
    top_only = hvp_count[0]
    dense = np.linalg.eigvalsh(hessian_module.full_hessian(ws, None, target))
    bound = float64_module._residual_term_bound(ws, None, target)
    assert abs(r.value - dense[-1]) <= 1e-8 * dense[-1]
    assert bound <= sharpness_module.CLUSTER_RATIO * r.value
    assert -bound <= dense[0] <= bound
    assert r.lambda_min is None and r.secondary is not None
    assert "not reported" in r.secondary and "cluster" in r.secondary
    assert f"{bound:.3g}" in r.secondary
    assert top_only < 200  # lambda_max's Lanczos alone


def test_float64_lambda_max_alone_reports_no_gap_it_did_not_compute() -> None:
    """Lanczos for lambda_max alone (the default) knows lambda_min = 0 near a minimizer, but
    not lambda_2: the gap is unknown (None), never lambda_max - lambda_min; with
    ``secondary=True`` it is lambda_1 - lambda_2."""
    ws, target = _near_minimizer((16, 16, 16, 16, 16), seed=6)
    dense = np.linalg.eigvalsh(hessian_module.full_hessian(ws, None, target))
    alone = sharpness(ws, target, float64=True)
    assert alone.lambda_min == 0.0 and alone.gap is None
    assert "only the top 1 eigenvalue computed" in alone.method
    full = sharpness(ws, target, float64=True, secondary=True)
    assert full.gap is not None
    assert abs(full.gap - (dense[-1] - dense[-2])) <= 1e-8 * dense[-1]
    assert full.value == pytest.approx(alone.value, rel=1e-10)
