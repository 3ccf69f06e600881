"""User conjectures decided by the registry's engine: the built-in relations restated as text
get the built-ins' verdicts, planted false conjectures are refuted with exact counterexamples
that the built-in quantities also reject, implications count the points where the hypothesis
holds, undefined points are counted, and the same seed gives the same report."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from derivations.algebraic import AlgebraicFormula, compare_formulas
from derivations.exact import Point, parse_point
from numeric.claims.closed_forms import SUM_FORMULA
from numeric.claims.quantities import lambda_max_hessian, sq_norm, sum_of_products
from numeric.claims.runner import run_claims
from numeric.conjecture import assert_holds, check, conjecture

QUICK: dict[str, Any] = {"budget": "quick", "seed": 0}

SUM = "sum(norm2(A[l])**2 * norm2(B[l])**2 for l in layers)"
RESTATED = [
    # (built-in id, part label or None, statement, options)
    ("trace", None, "trace == sum(fro(A[l])**2 * fro(B[l])**2 for l in layers)",
     {"depth": "1..4"}),
    ("upper-bound", None, f"lambda_max <= {SUM}", {}),
    ("depth2", None, "lambda_max == norm2(W[1])**2 + norm2(W[2])**2", {"depth": "2..2"}),
    ("scalar-ends", None, f"lambda_max == {SUM}", {"depth": "1..4", "ends": "scalar"}),
    ("sum-formula", None, f"lambda_max == {SUM}", {"depth": "3..3"}),
    ("flattest", "lower bound at minimizers", "lambda_max >= L * s[1]**(2*(L-1)/L)", {}),
]


@pytest.fixture(scope="module")
def builtins() -> dict[str, str]:
    """The built-ins' verdicts, computed now (not remembered)."""
    ids = sorted({r[0] for r in RESTATED})
    report = run_claims(ids, budget="quick", seed=0, progress=False)
    out = {}
    for c in report.claims:
        out[c.id] = c.outcome.verdict
        for p in c.outcome.parts:
            out[f"{c.id}/{p.label}"] = p.verdict
    return out


def _point(cx: dict[str, Any]) -> Point:
    def mat(rows: list[list[str]]) -> list[list[Fraction]]:
        return [[Fraction(x) for x in row] for row in rows]

    ws = [mat(w) for w in cx["weights"]]
    if cx["data"] is not None:
        return parse_point(ws, data=mat(cx["data"]), labels=mat(cx["labels"]))
    return parse_point(ws, mat(cx["target"]))


@pytest.mark.parametrize("claim_id,label,statement,options", RESTATED,
                         ids=[r[0] for r in RESTATED])
def test_builtin_restated_gets_the_builtin_verdict(builtins: dict[str, str], claim_id: str,
                                                   label: str | None, statement: str,
                                                   options: dict[str, Any]) -> None:
    rep = check(statement, **options, **QUICK)
    expected = builtins[claim_id if label is None else f"{claim_id}/{label}"]
    assert rep["verdict"] == expected, rep["detail"]
    assert rep["undefined"] == 0
    if expected == "verified":
        assert rep["cases"] >= 3 and rep["evidence"] in ("exact", "certified", "exact+certified")


def test_sum_formula_counterexample_is_rejected_by_the_builtin_exact_check() -> None:
    rep = check(f"lambda_max == {SUM}", depth="3..3", **QUICK)
    assert rep["verdict"] == "refuted"
    cx = rep["counterexample"]
    p = _point(cx)
    assert p.is_minimizer() and p.depth == 3
    assert all(all("." not in x for x in row) for w in cx["weights"] for row in w)  # p/q
    c = compare_formulas(SUM_FORMULA.lhs(p), SUM_FORMULA.rhs(p))
    assert not SUM_FORMULA.holds(c)
    assert "excluding" not in cx["gap"] and ("<" in cx["gap"] or "disjoint" in cx["gap"])
    # both sides also written exactly: minimal polynomials with isolating intervals
    assert cx["lhs_exact"].startswith("root of ") and cx["rhs_exact"].startswith("root of ")
    assert str(SUM_FORMULA.lhs(p).value()).split(" in ")[0] == cx["lhs_exact"].split(" in ")[0]


def test_trace_with_data_restated() -> None:
    rep = check("trace == sum(fro(A[l])**2 * fro(B[l] @ X)**2 for l in layers)",
                over="data-minimizers", **QUICK)
    assert rep["verdict"] == "verified" and rep["evidence"] == "exact"


PLANTED: list[tuple[str, str, dict[str, Any], Any]] = [
    # a dropped term: lambda_max == ||W_1||^2 (depth 2)
    ("dropped-term", "lambda_max == norm2(W[1])**2 + 0", {"depth": "2..2"},
     lambda p: compare_formulas(lambda_max_hessian(p), sq_norm(p.weights[0])).relation != "="),
    # a wrong exponent in the flattest bound (2 instead of 2(L-1)/L), balanced minimizers
    ("wrong-exponent", "lambda_max >= L * s[1]**2", {"over": "balanced", "depth": "2..3"},
     lambda p: compare_formulas(lambda_max_hessian(p),
                                p.depth * sq_norm(p.labels)).relation == "<"),
    # the upper bound with <= flipped
    ("flipped", f"lambda_max >= {SUM}", {"depth": "3..3"},
     lambda p: compare_formulas(lambda_max_hessian(p), sum_of_products(p)).relation == "<"),
]


@pytest.mark.parametrize("name,statement,options,fails", PLANTED, ids=[p[0] for p in PLANTED])
def test_planted_false_conjectures_are_refuted_exactly(name: str, statement: str,
                                                       options: dict[str, Any],
                                                       fails: Any) -> None:
    rep = check(statement, **options, **QUICK)
    assert rep["verdict"] == "refuted", rep["detail"]
    assert rep["evidence"] in ("exact", "certified")
    p = _point(rep["counterexample"])
    assert fails(p)  # the built-in exact quantities reject the point too


def test_flattest_bound_is_attained_at_balanced_minimizers() -> None:
    rep = check("lambda_max == L * s[1]**(2*(L-1)/L)", over="balanced", **QUICK)
    assert rep["verdict"] == "verified" and rep["evidence"] == "exact"
    c = conjecture("lambda_max == L * s[1]**(2*(L-1)/L)", over="balanced", **QUICK)
    assert c.report() is not c.report() and c.outcome() is c.outcome()  # decided once


def test_implication_counts_the_points_where_the_hypothesis_holds() -> None:
    rep = check("lambda_max == norm2(W[1])**2 + norm2(W[2])**2", if_="L == 2", **QUICK)
    assert rep["verdict"] == "verified"
    assert rep["hypothesis"] == "L == 2"
    assert rep["hypothesis_held"] == rep["cases"] >= 3


def test_false_implication_is_refuted() -> None:
    rep = check("lambda_max == norm2(W[1])**2", if_="L == 2", **QUICK)
    assert rep["verdict"] == "refuted"
    cx = rep["counterexample"]
    p = _point(cx)
    assert p.depth == 2
    assert cx["lhs_name"] == "lambda_max" and cx["rhs_name"] == "norm2(W[1])**2"
    assert rep["hypothesis_held"] >= 1
    assert compare_formulas(lambda_max_hessian(p), sq_norm(p.weights[0])).relation != "="


def test_a_hypothesis_that_never_holds_is_inconclusive_never_verified() -> None:
    rep = check("lambda_max < 0", if_="trace < 0", **QUICK)
    assert rep["verdict"] == "inconclusive"
    assert rep["hypothesis_held"] == 0 and rep["cases"] == 0


def test_too_few_hypothesis_points_is_inconclusive() -> None:
    # the hypothesis holds only at depth 1 with a 1 x 1 weight: rarely (< 3 of 12)
    rep = check("lambda_max >= 0", if_="P == 1", **QUICK)
    assert rep["hypothesis_held"] < 3
    assert rep["verdict"] == "inconclusive" and "fewer than 3" in rep["detail"]


def test_undefined_points_are_counted_not_decided() -> None:
    rep = check("norm2(W[3]) >= 0", depth="2..3", **QUICK)
    assert rep["undefined"] > 0 and rep["verdict"] == "verified"
    assert rep["cases"] + rep["undefined"] == 12
    assert any("does not exist" in r for r in rep["undefined_reasons"])
    none = check("lmax(K) >= 0", over="points", **QUICK)
    assert none["verdict"] == "inconclusive" and none["undefined"] == 12


def test_same_seed_same_report_and_a_seed_matters() -> None:
    def strip(r: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in r.items() if k != "seconds"}

    stmt = f"lambda_max <= {SUM}"
    assert strip(check(stmt, **QUICK)) == strip(check(stmt, **QUICK))
    refuted = f"lambda_max == {SUM}"
    a = check(refuted, depth="3..3", **QUICK)
    assert strip(a) == strip(check(refuted, depth="3..3", **QUICK))


def test_assert_holds_carries_the_counterexample() -> None:
    assert assert_holds("trace >= 0", **QUICK)["verdict"] == "verified"
    with pytest.raises(AssertionError, match=r"REFUTED(.|\n)*W\[1\] = (.|\n)*gap:"):
        assert_holds(f"lambda_max == {SUM}", depth="3..3", **QUICK)


@pytest.mark.parametrize("kwargs,match", [
    ({"over": "nowhere"}, "unknown family"),
    ({"depth": "0..2"}, "out of range"),
    ({"width": "a..b"}, "must be 'a..b'"),
    ({"ends": "round"}, "--ends must be one of"),
    ({"ends": "matrix", "width": "1..1"}, "needs a width of at least 2"),
    ({"budget": "forever"}, "unknown budget"),
    ({"dps": 5}, "dps must be"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"if_": "L = 2"}, "in the hypothesis: not a valid expression"),
    ({"if_": "L == 2", "hypothesis": "L == 2"}, "give the hypothesis once"),
], ids=["over", "depth", "width", "ends", "ends-width", "budget", "dps", "seed", "bad-hypothesis",
        "two-hypotheses"])
def test_bad_options_are_refused(kwargs: dict[str, Any], match: str) -> None:
    from derivations.errors import DmfError

    with pytest.raises(DmfError, match=match):
        conjecture("trace >= 0", **kwargs)


def test_exact_value_is_the_builtin_value() -> None:
    # sanity of the reference used above: norm2(W)**2 is sq_norm exactly
    p = parse_point([[[1, 2], [3, 4]]])
    from numeric.conjecture.interpreter import ExactPoint, exact_value
    from numeric.conjecture.language import parse_statement

    node = parse_statement("norm2(W[1])**2 == 0").relations[0].left
    v = exact_value(node, ExactPoint(p))
    assert compare_formulas(v, AlgebraicFormula.of(sq_norm(p.weights[0]))).relation == "="


def test_refuted_implication_reports_its_certified_digits_and_named_gap() -> None:
    rep = check(f"lambda_max == {SUM}", if_="d[0] == 1", depth="3..3", **QUICK)
    assert rep["verdict"] == "refuted"
    cx = rep["counterexample"]
    assert _point(cx).dims[0] == 1
    assert cx["gap"].startswith(f"lambda_max - {SUM} in [")
    if rep["evidence"] == "certified":
        assert rep["digits"] is not None and rep["digits"] >= 30
