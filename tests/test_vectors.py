"""The conformance vectors shipped in the package: reproducible digit by digit, and right."""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from derivations.exact import Point
from numeric.closed_forms import hessian_trace
from numeric.hessian import full_hessian
from numeric.oracle import vectors
from numeric.oracle.files import load_point

SHIPPED = vectors.load_vectors()
BY_NAME = {v.name: v for v in SHIPPED}
DPS2 = 2 * vectors.DPS  # the independent check runs at twice the shipped precision


def test_shipped_set_is_complete() -> None:
    assert [v.name for v in SHIPPED] == list(vectors.CASES)
    assert 15 <= len(SHIPPED) <= 40


def test_regenerated_vectors_equal_the_shipped_ones_digit_by_digit() -> None:
    """Rebuild every point from its seed, recompute every expected field, compare strings."""
    assert vectors.check_directory(vectors.shipped_directory()) == []


def test_compare_expected_reports_a_changed_digit() -> None:
    a = BY_NAME["depth2-square"].expected
    b = json.loads(json.dumps(a))
    b["closed_forms"]["depth2"]["value"] = b["closed_forms"]["depth2"]["value"][:-1] + "x"
    assert vectors.compare_expected(a, b) == [
        f"closed_forms.depth2.value: {json.dumps(a['closed_forms']['depth2']['value'])} != "
        f"{json.dumps(b['closed_forms']['depth2']['value'])}"
    ]


def _independent_lambda_max(point: Point, lam: Fraction | None = None) -> mpmath.mpf:
    """Exact full Hessian (docs/mathematics.md K1, both terms, at every point; plus ``lam I`` for
    a weight-decay vector, K8), then mpmath's Jacobi ``eigsy`` at twice the shipped precision:
    independent of the reduced operator and of the certified eigenvalue code used to make the
    vectors."""
    h = full_hessian(list(point.weights), point.data, point.labels)
    for i in range(h.shape[0]):
        h[i, i] += lam or 0
    m = mpmath.matrix([[mpmath.mpf(x.numerator) / x.denominator for x in row] for row in h])
    return max(mpmath.eigsy(m, eigvals_only=True))


@pytest.mark.parametrize("vector", SHIPPED, ids=[v.name for v in SHIPPED])
def test_shipped_enclosure_contains_the_independent_value(vector: vectors.Vector) -> None:
    exp = vector.expected
    with mpmath.workdps(DPS2):
        lam = _independent_lambda_max(vector.point, vector.weight_decay)
        lo, hi = (mpmath.mpf(s) for s in exp["enclosure"])
        tol = mpmath.mpf(10) ** (-DPS2 + 10) * max(1, abs(lam))  # eigsy's own rounding
        assert lo - tol <= lam <= hi + tol
        assert hi - lo <= mpmath.mpf(10) ** (-vectors.DPS) * max(1, abs(lam))
        # the 50-digit string is lambda_max rounded to 50 significant digits
        assert abs(mpmath.mpf(exp["lambda_max"]) - lam) <= mpmath.mpf(10) ** (
            -vectors.DPS + 1) * max(1, abs(lam))
    assert exp["dims"] == list(vector.point.dims)
    assert exp["parameters"] == vector.point.num_params
    assert exp["at_minimizer"] == vector.point.is_minimizer()
    assert exp["route"] == ("reduced" if exp["at_minimizer"] else "full")


@pytest.mark.parametrize("vector", SHIPPED, ids=[v.name for v in SHIPPED])
def test_trace_and_closed_forms(vector: vectors.Vector) -> None:
    """The trace is K3's formula (which holds at every point: the residual term of K1 has a zero
    diagonal); the closed forms sit where docs/mathematics.md K4-K7 put them relative to lambda_max."""
    exp, point = vector.expected, vector.point
    trace = Fraction(exp["trace"]["exact"])
    decay = vector.weight_decay or 0  # K8: H = H_0 + lam I adds lam P to the trace
    assert trace == hessian_trace(list(point.weights), point.data) + decay * point.num_params
    lam = Fraction(exp["lambda_max"])
    tol = Fraction(1, 10 ** (vectors.DPS - 2)) * max(Fraction(1), lam)
    forms = exp["closed_forms"]
    if not exp["at_minimizer"]:
        assert forms == {}
        return
    assert "upper_bound" in forms
    for name, form in forms.items():
        assert form["status"] in ("exact", "certified")
        value = Fraction(form["exact"]) if form["status"] == "exact" else Fraction(form["value"])
        if form["status"] == "certified":
            lo, hi = (Fraction(s) for s in form["enclosure"])
            assert lo - tol <= value <= hi + tol and hi - lo <= tol
        if name in ("depth2", "scalar_ends"):
            assert abs(value - lam) <= tol, name
        elif name == "upper_bound":
            assert value >= lam - tol
        elif name == "flattest":
            assert value <= lam + tol
            if "balanced" in vector.name:
                assert abs(value - lam) <= tol
    assert lam <= trace + tol  # lambda_max <= tr H for a PSD Hessian


def test_coverage_of_the_cases() -> None:
    depths = {v.point.depth for v in SHIPPED}
    assert depths == {1, 2, 3, 4, 5}
    assert any(v.point.data is not None and v.expected["at_minimizer"] for v in SHIPPED)
    assert any(v.point.data is not None and not v.expected["at_minimizer"] for v in SHIPPED)
    assert sum(not v.expected["at_minimizer"] for v in SHIPPED) >= 4
    assert any(v.point.dims[0] == v.point.dims[-1] == 1 for v in SHIPPED)
    assert any(all(x == 0 for x in v.point.labels.flat) for v in SHIPPED)  # zero target
    assert any(len(set(v.point.dims)) > 1 for v in SHIPPED)  # rectangular
    assert any(min(v.point.dims[1:-1], default=0) > max(v.point.dims[0], v.point.dims[-1])
               for v in SHIPPED)  # overparameterized
    assert any(Fraction(v.expected["closed_forms"].get("flattest", {}).get("value", "-1"))
               == Fraction(v.expected["lambda_max"]) for v in SHIPPED)  # a flattest minimizer


def test_files_are_oracle_inputs() -> None:
    for path in sorted(vectors.shipped_directory().glob("*.json")):
        point, meta = load_point(path)
        fresh = vectors.build_point(meta["name"])
        assert all(np.all(a == b) for a, b in zip(point.weights, fresh.weights, strict=True))
        assert np.all(point.labels == fresh.labels)
        doc = json.loads(path.read_text())
        assert all(isinstance(x, str) for w in doc["weights"] for row in w for x in row)


def test_unknown_case_is_refused() -> None:
    with pytest.raises(vectors.DmfError, match="unknown conformance case 'nope'"):
        vectors.build_point("nope")
