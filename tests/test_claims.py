"""The claims registry and its decision engine: every verdict path, planted false formulas.

Planted mutations of true closed forms must be REFUTED with a shrunk counterexample whose exact
re-check shows a nonzero gap; true closed forms must be VERIFIED; a claim checked outside its
domain must be INCONCLUSIVE; a symbolic identity must be PROVED.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings

from derivations.algebraic import AlgebraicFormula, compare_formulas
from derivations.errors import DmfError
from derivations.exact import Point, parse_point
from numeric.claims.closed_forms import DEPTH2
from numeric.claims.engine import Relation, decide_relation
from numeric.claims.flatness import flattest_value
from numeric.claims.frames import monomial_frames_strategy
from numeric.claims.points import _minimizer_gen, point_strategy
from numeric.claims.quantities import _frob2, _lam_float, float_weights, lambda_max_hessian, sq_norm
from numeric.claims.registry import CLAIM_IDS, CLAIMS, Claim, get_claim, select_claims
from numeric.claims.runner import (
    BUDGETS,
    VERDICTS,
    CheckContext,
    ClaimOutcome,
    ClaimReport,
    Part,
    run_claims,
)
from numeric.factors import left_factor, right_factor

Side = Callable[[Point], AlgebraicFormula]

MATH_IDS = {
    "gauss-newton", "reduced-spectrum", "trace", "upper-bound", "depth2", "scalar-ends",
    "sum-formula", "flattest", "spectral-balance", "constant-product", "balanced-spectrum",
    "hessian-rank", "flattest-data", "escape",
}


def ctx(cases: int = 4, seed: int = 0, cap: float = 60.0) -> CheckContext:
    return CheckContext("test-claim", BUDGETS["quick"], seed, cases, cap)


# ----------------------------------------------------------------------------- registry


def test_registry_lists_every_math_claim_and_the_corrected_entries() -> None:
    assert MATH_IDS <= set(CLAIM_IDS)
    assert len(CLAIM_IDS) == len(set(CLAIM_IDS))
    corrected = [c for c in CLAIMS if c.corrects]
    assert {c.corrects for c in corrected} == {"spectral-balance", "constant-product",
                                               "hessian-rank"}
    for c in corrected:
        assert c.id == f"{c.corrects}-corrected"
    for c in CLAIMS:
        assert c.statement and c.source and c.domain and c.method
        assert set(c.cases) == set(BUDGETS) and set(c.time_cap) == set(BUDGETS)
        assert callable(c.resolve_checker())


def test_unknown_claim_id_lists_the_valid_ones() -> None:
    with pytest.raises(DmfError, match="unknown claim id 'nope'; valid ids: gauss-newton"):
        get_claim("nope")
    assert [c.id for c in select_claims(["trace", "depth2", "trace"])] == ["trace", "depth2"]


# The exact arithmetic and comparisons the checkers rest on (sums, products, powers, roots of
# algebraic numbers, exact rank, PSD) are tested in tests/test_algebraic.py.


# ----------------------------------------------------------------------------- verdict paths


def test_true_closed_form_is_verified_exactly() -> None:
    part = decide_relation(
        ctx(), DEPTH2, strategy=point_strategy(depths=(2, 2)),
        generate=_minimizer_gen((2, 2), (1, 3)),
    )
    assert part.verdict == "verified"
    assert part.cases == 4 and part.evidence == "exact"
    assert part.counterexample is None


def _check_refuted(part: Part, *, max_params: int) -> None:
    assert part.verdict == "refuted", part.detail
    cx = part.counterexample
    assert cx is not None and cx.shrunk
    point = parse_point(cx.weights)
    assert point.num_params <= max_params, cx.summary()
    assert cx.to_json()["weights"] == [
        [[str(x) if x.denominator != 1 else str(x.numerator) for x in row] for row in w]
        for w in point.weights
    ]


def _assert_exact_gap(point: Point, lhs_fn: Side, rhs_fn: Side) -> None:
    c = compare_formulas(lhs_fn(point), rhs_fn(point))
    assert c.relation != "="
    assert not c.gap.contains(0)


def _frob_formula_missing_bx(p: Point) -> Fraction:
    ws = list(p.weights)
    return sum((_frob2(left_factor(ws, l)) for l in range(1, p.depth + 1)), Fraction(0))


def _trace(p: Point) -> Fraction:
    from numeric.claims.quantities import exact_hessian

    h = exact_hessian(p)
    return sum((h[i, i] for i in range(h.shape[0])), Fraction(0))


def _wrong_exponent(p: Point) -> Fraction:
    ws = list(p.weights)
    return sum(
        (_frob2(left_factor(ws, l)) * _frob2(right_factor(ws, l)) ** 2
         for l in range(1, p.depth + 1)),
        Fraction(0),
    )


PLANTED = {
    "depth2 missing the ||W_2||^2 term": (
        Relation("lambda_max(H)", "||W_1||_2^2", lambda_max_hessian,
                 lambda p: sq_norm(p.weights[0]), _lam_float,
                 lambda p: float(np.linalg.norm(float_weights(p)[0], 2) ** 2)),
        point_strategy(depths=(2, 2)), 2,
    ),
    "trace with the ||B_l X||_F^2 factor dropped": (
        Relation("tr H", "sum_l ||A_l||_F^2", lambda p: AlgebraicFormula.of(_trace(p)),
                 lambda p: AlgebraicFormula.of(_frob_formula_missing_bx(p)), lambda p: float(_trace(p)),
                 lambda p: float(_frob_formula_missing_bx(p))),
        point_strategy(depths=(1, 3)), 2,
    ),
    "scalar-ends with ||B_l||^4 instead of ||B_l||^2": (
        Relation("lambda_max(H)", "sum_l ||A_l||^2 ||B_l||^4", lambda_max_hessian,
                 lambda p: AlgebraicFormula.of(_wrong_exponent(p)), _lam_float,
                 lambda p: float(_wrong_exponent(p))),
        point_strategy(depths=(1, 3), first=(1, 1), last=(1, 1)), 2,
    ),
}


@pytest.mark.parametrize("name", list(PLANTED))
def test_planted_false_formula_is_refuted_with_a_shrunk_exact_counterexample(name: str) -> None:
    rel, strategy, max_params = PLANTED[name]
    part = decide_relation(ctx(), rel, strategy=strategy, generate=_minimizer_gen((1, 2), (1, 2)))
    _check_refuted(part, max_params=max_params)
    assert part.counterexample is not None
    point = parse_point(part.counterexample.weights)
    _assert_exact_gap(point, rel.lhs, rel.rhs)


def test_sum_formula_is_refuted_for_matrix_ends_with_an_exact_gap() -> None:
    from numeric.claims.closed_forms import SUM_FORMULA

    part = decide_relation(
        ctx(), SUM_FORMULA, strategy=point_strategy(depths=(3, 3), first=(2, 2), last=(2, 2)),
        generate=_minimizer_gen((3, 3), (1, 2), first=(2, 2), last=(2, 2)),
    )
    assert part.verdict == "refuted" and part.counterexample is not None
    point = parse_point(part.counterexample.weights)
    assert point.depth == 3 and max(point.dims) == 2
    c = compare_formulas(SUM_FORMULA.lhs(point), SUM_FORMULA.rhs(point))
    assert c.relation == "<" and c.gap.hi < 0


def test_claim_outside_its_domain_is_inconclusive() -> None:
    part = decide_relation(
        ctx(), DEPTH2, strategy=None, generate=_minimizer_gen((3, 3), (1, 2)),
        in_domain=lambda p: p.depth == 2,
    )
    assert part.verdict == "inconclusive"
    assert "domain" in part.detail


def test_true_identity_is_proved() -> None:
    pytest.importorskip("derivations.identities", reason="helper 'symbolic' not merged yet")
    from numeric.claims.identities import check_gauss_newton

    out = check_gauss_newton(ctx(cases=2))
    assert out.verdict == "proved" and out.evidence == "symbolic"


def test_runner_reports_checker_crash_as_inconclusive_and_error() -> None:
    def boom(c: CheckContext) -> ClaimOutcome:
        raise RuntimeError("planted bug")

    def fine(c: CheckContext) -> ClaimOutcome:
        return ClaimOutcome("verified", c.cases, "exact", "ok")

    claims = [Claim("boom", "s", "src", "dom", "how", boom),
              Claim("fine", "s", "src", "dom", "how", fine)]
    report = run_claims(budget="quick", progress=False, claims=claims)
    verdicts = {c.id: c.outcome.verdict for c in report.claims}
    assert verdicts == {"boom": "inconclusive", "fine": "verified"}
    assert report.errors and "planted bug" in report.errors[0]
    assert report.to_json()["claims"][1]["cases"] == 6
    assert all(c["verdict"] in VERDICTS for c in report.to_json()["claims"])


def test_refuted_without_counterexample_is_rejected() -> None:
    with pytest.raises(DmfError, match="counterexample"):
        ClaimOutcome("refuted", 1, "exact", "no evidence")


# ----------------------------------------------------------------------------- escape


@pytest.fixture(scope="module")
def escape_result() -> Any:
    """One real ``check_escape_claim`` run (1 minimizer, 3 factors, about a second)."""
    from numeric.claims.escape import (
        ESCAPE_DPS,
        ESCAPE_EPS,
        ESCAPE_FACTORS,
        ESCAPE_TOLERANCE,
        check_escape_claim,
    )

    return check_escape_claim(seed=0, cases=1, factors=ESCAPE_FACTORS, dps=ESCAPE_DPS,
                              eps=ESCAPE_EPS, tolerance=ESCAPE_TOLERANCE)


def _escape_outcome(monkeypatch: pytest.MonkeyPatch, result: Any) -> ClaimOutcome:
    import numeric.claims.escape
    from numeric.claims.escape import check_escape

    monkeypatch.setattr(numeric.claims.escape, "check_escape_claim", lambda **kw: result)
    return check_escape(ctx(cases=1))


def _with_status(result: Any, status: str, verdict: str, **change: Any) -> Any:
    details = [dict(d) for d in result.details]
    details[1] = {**details[1], "status": status, **change}
    return dataclasses.replace(result, verdict=verdict, details=details)


def _report(outcome: ClaimOutcome) -> ClaimReport:
    return ClaimReport("escape", "s", "src", "dom", "how", outcome, 0.0)


def test_escape_is_verified_on_measured_evidence_that_is_not_certified(
    monkeypatch: pytest.MonkeyPatch, escape_result: Any
) -> None:
    assert escape_result.verdict == "verified"  # the measured verdict of numeric.claims.escape
    out = _escape_outcome(monkeypatch, escape_result)
    assert (out.verdict, out.evidence, out.cases) == ("verified", "approximate", 1)
    assert "measured, not certified" in out.detail and "mpmath at 60 digits" in out.detail
    rep = _report(out)
    assert rep.certified is False and rep.to_json()["certified"] is False


def test_escape_contradiction_is_refuted_with_the_exact_minimizer(
    monkeypatch: pytest.MonkeyPatch, escape_result: Any
) -> None:
    out = _escape_outcome(monkeypatch, _with_status(escape_result, "contradicts", "refuted"))
    assert out.verdict == "refuted" and out.evidence == "approximate"
    cx = out.counterexample
    assert cx is not None and not cx.shrunk
    run = escape_result.details[1]
    point = parse_point(cx.weights, cx.target)
    assert list(point.dims) == run["dims"] and point.is_minimizer()
    assert abs(_lam_float(point) - float(run["lambda_max_start"])) < 1e-9 * _lam_float(point)
    assert "measured, not certified" in cx.gap
    assert run["lambda_max_start_method"].startswith("certified") and "certified" in cx.note
    assert _report(out).certified is False


def test_escape_undecided_or_unreconstructable_runs_are_inconclusive(
    monkeypatch: pytest.MonkeyPatch, escape_result: Any
) -> None:
    out = _escape_outcome(monkeypatch,
                          _with_status(escape_result, "inconclusive", "inconclusive"))
    assert out.verdict == "inconclusive" and "undecided" in out.detail
    wrong = _with_status(escape_result, "contradicts", "refuted", dims=[9, 9, 9])
    out = _escape_outcome(monkeypatch, wrong)
    assert out.verdict == "inconclusive" and "could not be reconstructed" in out.detail
    missing = _with_status(escape_result, "contradicts", "refuted", weights=None)
    out = _escape_outcome(monkeypatch, missing)
    assert out.verdict == "inconclusive" and "could not be reconstructed" in out.detail


# ----------------------------------------------------------------------------- determinism


def _without_timings(report: dict[str, Any]) -> dict[str, Any]:
    report = {k: v for k, v in report.items() if k != "seconds"}
    report["claims"] = [{k: v for k, v in c.items() if k != "seconds"} for c in report["claims"]]
    return report


def test_same_seed_gives_the_same_refutation_in_process() -> None:
    """A refuting claim run twice in one process: identical verdicts, cases and shrunk
    counterexamples (searches are bounded by example and shrink-call counts, not time, and use
    no example database, so nothing from the first run leaks into the second, although the
    test session's Hypothesis profile has one)."""
    runs = [_without_timings(run_claims(["sum-formula"], budget="quick", seed=0,
                                        progress=False).to_json()) for _ in range(2)]
    assert runs[0] == runs[1]
    claim = runs[0]["claims"][0]
    assert claim["verdict"] == "refuted" and claim["time_capped"] is False
    assert claim["counterexample"]["shrunk"] is True
    assert [p["counterexample"]["weights"] for p in claim["parts"]] == [
        p["counterexample"]["weights"] for p in runs[1]["claims"][0]["parts"]]


def test_search_cut_by_the_shrink_budget_does_not_depend_on_load() -> None:
    """With a shrink budget too small to finish, the reported (partly shrunk) counterexample is
    the same on an idle and on a loaded machine (a predicate slowed by sleeps stands in for
    load): the cut is made by counting predicate calls."""
    import time

    from numeric.claims.closed_forms import SUM_FORMULA

    tiny = dataclasses.replace(BUDGETS["quick"], shrink_calls=8)

    def slowed(f: Callable[[Point], float]) -> Callable[[Point], float]:
        def g(p: Point) -> float:
            time.sleep(0.002)
            return f(p)

        return g

    def part_json(rel: Relation) -> dict[str, Any]:
        c = CheckContext("sum-formula", tiny, 3, 2, 600.0)
        part = decide_relation(
            c, rel, strategy=point_strategy(depths=(3, 3), first=(2, 2), last=(2, 2)),
            generate=_minimizer_gen((3, 3), (1, 2), first=(2, 2), last=(2, 2)))
        return part.to_json()

    idle = part_json(SUM_FORMULA)
    loaded = part_json(dataclasses.replace(SUM_FORMULA, lhs_float=slowed(SUM_FORMULA.lhs_float)))
    assert idle == loaded
    assert idle["verdict"] == "refuted" and idle["time_capped"] is False
    assert idle["counterexample"]["shrunk"] is False  # the budget, not the clock, cut it
    assert "budget of 8 calls" in idle["detail"]


def test_wall_clock_safety_net_is_reported() -> None:
    """When the wall-clock safety net cuts a search, the part says so (``time_capped``) and
    warns that the result may depend on load."""
    no_time = dataclasses.replace(BUDGETS["quick"], search_seconds=0.0)
    c = CheckContext("depth2", no_time, 0, 2, 600.0)
    part = decide_relation(c, DEPTH2, strategy=point_strategy(depths=(2, 2)),
                           generate=_minimizer_gen((2, 2), (1, 2)))
    assert part.time_capped and part.to_json()["time_capped"] is True
    assert "may depend on the machine's load" in part.detail
    assert part.verdict == "verified" and part.cases == 2  # the exact cases still ran


# ----------------------------------------------------------------------------- constant product


# W_1 = I, W_2 = diag(1, 2), W_3 = diag(2, 1): every ||A_l|| ||B_l|| is 2, M = 2I, yet
# lambda_max = 12 > 3 * 2^(4/3) (top directions of consecutive layers not aligned)
UNALIGNED_DEPTH3 = parse_point([[[1, 0], [0, 1]], [[1, 0], [0, 2]], [[2, 0], [0, 1]]])


@given(point=monomial_frames_strategy(dims=(2, 2, 2, 2)))
@example(point=UNALIGNED_DEPTH3)
@settings(max_examples=8, deadline=None)
def test_equal_products_points_sit_between_k7_and_k4(point: Point) -> None:
    """Equalized monomial-frame points satisfy the constant-product hypothesis exactly (unless
    M = 0), and then flattest value <= lambda_max(H) <= L c^2 (K7, K4); the pinned point shows
    the lower end can be strict, i.e. the literal claim fails at depth 3."""
    from numeric.claims.balance import _products_equal_side
    from numeric.claims.flatness import _flattest_side, _product_sq

    side = _products_equal_side(point)
    if not side.holds:
        assert all(x == 0 for x in point.labels.flat)
        return
    lam, flat = lambda_max_hessian(point), flattest_value(point)
    assert compare_formulas(lam, flat).relation in ("=", ">")
    assert compare_formulas(lam, _product_sq(point, 1) * 3).relation in ("=", "<")
    if point is UNALIGNED_DEPTH3:
        assert lam.rational == 12 and _product_sq(point, 1).rational == 4
        assert not _flattest_side(point).holds


def test_constant_product_depth3_is_refuted_by_the_search_itself() -> None:
    from numeric.claims.balance import check_constant_product

    out = check_constant_product(CheckContext("constant-product", BUDGETS["quick"], 0, 3, 600.0))
    part = next(p for p in out.parts if p.label.startswith("depth 3"))
    assert part.verdict == "refuted" and "Hypothesis search" in part.detail, part.detail
    cx = part.counterexample
    assert cx is not None and cx.shrunk
    point = parse_point(cx.weights)
    assert point.depth == 3 and point.is_minimizer()
    from numeric.claims.balance import _products_equal_side

    assert _products_equal_side(point).holds
    c = compare_formulas(lambda_max_hessian(point), flattest_value(point))
    assert c.relation == ">" and not c.gap.contains(0)


def test_constant_product_corrected_sees_points_not_built_to_be_flat() -> None:
    """The corrected entry's generator yields points satisfying its hypothesis exactly that are
    not balanced (so 'verified' is not a statement about balanced minimizers only)."""
    from numeric.claims.balance import (
        CONSTANT_PRODUCT_CORRECTED,
        _corrected_gen,
        check_constant_product_corrected,
    )

    rng = np.random.default_rng(5)
    points = [p for i in range(9) if (p := _corrected_gen(rng, i)) is not None]
    assert len(points) >= 6
    unbalanced = [p for p in points if p.depth >= 2 and any(
        (p.weights[l + 1].T @ p.weights[l + 1] != p.weights[l] @ p.weights[l].T).any()
        for l in range(p.depth - 1))]
    assert any(p.depth >= 3 for p in unbalanced)
    assert all(CONSTANT_PRODUCT_CORRECTED.hyp(p).holds for p in points)
    out = check_constant_product_corrected(
        CheckContext("constant-product-corrected", BUDGETS["quick"], 0, 6, 600.0))
    assert out.verdict == "verified" and out.cases == 6 and "vacuous" in out.detail


def test_hessian_rank_corrected_is_decided_at_the_thorough_budget() -> None:
    """With generic points drawn from entries up to 40, a zero entry (probability 1/81 each)
    made 2 of 120 thorough points non-generic and the corrected claim inconclusive; from
    ``|k| <= 10^6`` (Schwartz-Zippel) every part is decided and verified."""
    report = run_claims(["hessian-rank-corrected"], budget="thorough", seed=0, progress=False)
    (claim,) = report.claims
    assert claim.outcome.verdict == "verified", claim.outcome.detail
