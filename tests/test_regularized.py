"""Weight decay (numeric.regularized, numeric.claims.weight_decay, numeric.cli.regularized):
the collapse threshold against brute force, the minimizers' gradient and Hessian, the
reduction to one scalar per singular value, lam = 0, the checkers, the command line."""

from __future__ import annotations

import itertools
import json
import re
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import numeric.cli as cli
from derivations.algebraic import compare_exact, is_psd
from derivations.errors import DmfError
from derivations.intervals import Enclosure, as_enclosure
from numeric.claims.runner import BUDGETS, CheckContext
from numeric.claims.weight_decay import (
    check_collapse_threshold,
    check_frobenius_constant,
    check_matrix_spectrum_constant,
    check_scalar_spectrum_constant,
    check_trace_lower_bound,
    check_unique_end_to_end,
    decide_threshold,
    minimizer_case,
    tie_case,
)
from numeric.eigen import certified_lambda_max
from numeric.hessian import full_hessian
from numeric.minimizers import exact_balanced_minimizer
from numeric.regularized.minimizers import (
    frame_minimizer,
    interval_lambda_max,
    regularized_minimizer,
)
from numeric.regularized.scalar import (
    certify_collapse,
    collapse_threshold,
    regularized_gradient,
    regularized_hessian,
    regularized_loss,
    scalar_minimizer,
    scalar_objective,
)

sigmas = st.fractions(min_value=F(1, 4), max_value=F(6), max_denominator=6)


# ----------------------------------------------------------------------------- threshold
@pytest.mark.parametrize("depth", [2, 3, 4, 5, 6])
@given(sigma=sigmas)
def test_threshold_against_brute_force_on_both_sides(depth: int, sigma: F) -> None:
    thr = collapse_threshold(depth, sigma * sigma)
    assert thr is not None
    e = thr.enclosure(30)
    below = certify_collapse(depth, e.lo * F(999, 1000), sigma)
    above = certify_collapse(depth, e.hi * F(1001, 1000), sigma)
    assert below.collapsed is False and below.witness is not None
    assert scalar_objective(below.witness, sigma, e.lo * F(999, 1000), depth) < sigma**2 / 2
    assert above.collapsed is True


@pytest.mark.parametrize("depth", [2, 3, 4, 5, 6])
def test_exact_selection_agrees_with_brute_force(depth: int) -> None:
    sigma = F(3, 2)
    e = collapse_threshold(depth, sigma * sigma).enclosure(30)  # type: ignore[union-attr]
    for lam, collapsed in ((e.lo * F(99, 100), False), (e.hi * F(101, 100), True)):
        assert scalar_minimizer(depth, lam, sigma * sigma).collapsed is collapsed
        assert certify_collapse(depth, lam, sigma).collapsed is collapsed


@pytest.mark.parametrize("depth", [3, 4, 5, 6])
def test_threshold_is_a_root_of_the_resultant(depth: int) -> None:
    """Eliminate t from g(t) = 0 and (f(t) - f(0))/t^2 = 0 (sigma = 1) by a resultant: lam*
    must be a root of it (an independent derivation of the closed form)."""
    sympy = pytest.importorskip("sympy", reason="resultant by SymPy")
    t, lam = sympy.symbols("t lam")
    g = t ** (2 * depth - 2) - t ** (depth - 2) + lam
    h = t ** (2 * depth - 2) / 2 - t ** (depth - 2) + lam * depth / 2
    res = sympy.Poly(sympy.resultant(g, h, t), lam)
    thr = collapse_threshold(depth, 1)
    assert thr is not None
    factors = [f for f, _ in sympy.factor_list(res)[1]]
    assert any(
        compare_exact(r, thr).relation == "=" for f in factors if f.degree() > 0
        for r in __import__("derivations.algebraic", fromlist=["real_roots"]).real_roots(f)
    )


def test_l2_threshold_is_sigma_and_l3_is_rational_at_a_cube() -> None:
    assert collapse_threshold(2, 9).as_fraction() == 3  # type: ignore[union-attr]
    assert collapse_threshold(3, 256).as_fraction() == 16  # type: ignore[union-attr]
    assert collapse_threshold(1, 4) is None


@pytest.mark.parametrize("depth", [3, 4, 5])
def test_tie_points_have_two_global_minimizers(depth: int) -> None:
    sigma, lam, t = tie_case(np.random.default_rng(depth), depth)
    assert scalar_objective(t, sigma, lam, depth) == scalar_objective(F(0), sigma, lam, depth)
    sm = scalar_minimizer(depth, lam, sigma * sigma)
    assert sm.tie and [m.fraction for m in sm.minimizers] == [0, t]


@given(sigma=sigmas, lam=st.fractions(min_value=0, max_value=3, max_denominator=8),
       depth=st.integers(1, 5))
def test_scalar_minimizer_is_below_every_grid_point(sigma: F, lam: F, depth: int) -> None:
    sm = scalar_minimizer(depth, lam, sigma * sigma)
    fmin = scalar_objective(sm.t.enclosure(30), sigma, lam, depth)
    for k in range(0, 41):
        assert scalar_objective(F(k, 10), sigma, lam, depth) >= fmin.lo


def test_planted_wrong_threshold_is_refuted() -> None:
    ctx = CheckContext("wd-collapse-threshold", BUDGETS["quick"], 0, 6, 60.0)

    def doubled(depth: int, s: object):  # type: ignore[no-untyped-def]
        thr = collapse_threshold(depth, s)
        return None if thr is None else thr * 2

    part = decide_threshold(ctx, doubled)
    assert part.verdict == "refuted" and part.counterexample is not None
    assert decide_threshold(ctx).verdict == "verified"


def test_l2_formula_at_every_depth_is_refuted() -> None:
    ctx = CheckContext("wd-collapse-threshold", BUDGETS["quick"], 0, 6, 60.0)
    part = decide_threshold(ctx, lambda depth, s: collapse_threshold(2, s))
    assert part.verdict == "refuted"


# ----------------------------------------------------------------------------- minimizers
@pytest.mark.parametrize("dims", [(1, 1), (2, 2, 2), (1, 3, 2, 1), (2, 3, 3, 2), (3, 2, 2, 2)])
def test_rational_minimizer_gradient_zero_and_hessian_psd(dims: tuple[int, ...]) -> None:
    rng = np.random.default_rng(len(dims) * 7 + dims[0])
    point, lam, _, _, _ = minimizer_case(rng, dims)
    grad = regularized_gradient(list(point.weights), point.labels, lam)
    assert all(x == 0 for g in grad for x in g.flat)
    assert is_psd(regularized_hessian(list(point.weights), point.labels, lam))


def test_a_non_minimizer_has_nonzero_gradient() -> None:
    with pytest.raises(DmfError, match="not a global minimizer"):
        frame_minimizer([F(1)], [F(5)], 1, [[[1]], [[1]], [[1]]])


@pytest.mark.parametrize("lam", ["1/10", "1/2", "2"])
@pytest.mark.parametrize("dims", [(2, 2, 2), (2, 3, 2, 2), (3, 3, 2)])
def test_certified_minimizer_of_an_irrational_target(dims: tuple[int, ...], lam: str) -> None:
    target = [[1, F(1, 2), 0][: dims[0]], [0, 2, F(1, 3)][: dims[0]]]
    r = regularized_minimizer(target, dims, lam)
    ws = r.weights(20)
    grad = regularized_gradient(ws, r.target, F(lam))
    assert all(as_enclosure(x).contains(0) for g in grad for x in g.flat)
    lmax, lmin, _ = interval_lambda_max(regularized_hessian(ws, r.target, F(lam)), dps=15)
    assert lmin.lo > -F(1, 10**12) * lmax.hi  # PSD to the certified precision
    norms = [sum((as_enclosure(x) ** 2 for x in w.flat), Enclosure.point(0)) for w in ws]
    assert all(n.overlaps(r.frobenius_squared(25)) for n in norms)


def test_reduction_matches_direct_minimization() -> None:
    """APPROXIMATE (scipy L-BFGS from 8 seeded starts, float64): the smallest value of L_lam
    found directly equals sum_i f_i(t_i) to 1e-7."""
    optimize = pytest.importorskip("scipy.optimize", reason="direct minimization by scipy")
    target = np.array([[F(3)], [F(1)]], dtype=object) @ np.array([[F(1), F(2)]], dtype=object)
    target = target + np.array([[F(1), F(0)], [F(0), F(1, 2)]], dtype=object)
    dims, lam = (2, 2, 2, 2), F(3, 10)
    r = regularized_minimizer(target, dims, lam)
    value = sum((m * scalar_objective(sm.t.enclosure(20), sm.sigma.enclosure(20), lam, 3)
                 for _, m, sm in r.singular), Enclosure.point(0))
    mf = np.array(target, dtype=float)
    sizes = [(b, a) for a, b in itertools.pairwise(dims)]

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        ws, k = [], 0
        for shp in sizes:
            ws.append(x[k:k + shp[0] * shp[1]].reshape(shp))
            k += shp[0] * shp[1]
        val = float(regularized_loss(ws, mf, float(lam)))
        grads = regularized_gradient(ws, mf, float(lam))
        return val, np.concatenate([g.ravel() for g in grads])

    rng = np.random.default_rng(0)
    best = min(optimize.minimize(fun, rng.normal(size=12), jac=True, method="L-BFGS-B",
                                 options={"gtol": 1e-12, "ftol": 1e-15}).fun for _ in range(8))
    assert best == pytest.approx(float(value.mid), abs=1e-7)
    assert best >= float(value.lo) - 1e-9


def test_weight_decay_zero_reproduces_the_balanced_minimizer() -> None:
    p = exact_balanced_minimizer([F(2), F(1, 2)], (2, 3, 3, 2), rng=np.random.default_rng(1))
    r = regularized_minimizer(p.target, (2, 3, 3, 2), 0)
    assert r.exact
    ws = r.weights(20)
    prod = ws[2] @ ws[1] @ ws[0]
    assert all(x == 0 for x in (prod - p.target).flat)
    for a, b in itertools.pairwise(ws):  # balanced
        assert all(x == 0 for x in (b.T @ b - a @ a.T).flat)
    ours = certified_lambda_max(regularized_hessian(ws, r.target, 0), dps=30)
    theirs = certified_lambda_max(full_hessian(list(p.weights), None, p.target), dps=30)
    assert ours.overlaps(theirs) and ours.contains(3 * 2**4)  # K7: L s_1^(2(L-1)/L), s_1 = 8


# ----------------------------------------------------------------------------- checkers
@pytest.mark.parametrize("checker", [
    check_collapse_threshold, check_unique_end_to_end, check_frobenius_constant,
    check_scalar_spectrum_constant, check_matrix_spectrum_constant, check_trace_lower_bound,
], ids=lambda f: f.__name__)
def test_checkers_verify(checker) -> None:  # type: ignore[no-untyped-def]
    out = checker(CheckContext(checker.__name__, BUDGETS["quick"], 0, 6, 60.0))
    assert out.verdict == "verified", out.detail
    assert out.cases >= 6


# ----------------------------------------------------------------------------- command line
@pytest.fixture
def main(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    if "numeric.cli.regularized" not in cli._SUBCOMMAND_MODULES:
        monkeypatch.setattr(cli, "_SUBCOMMAND_MODULES",
                            [*cli._SUBCOMMAND_MODULES, "numeric.cli.regularized"])
    return cli.main


def test_cli_json_collapse_and_tie(main, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(["regularized", "--dims", "1,1,1,1", "--target", "16", "--weight-decay", "16",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["tie"] is True and doc["collapse_threshold"]["exact"] == "16"
    assert main(["regularized", "--dims", "2,2,2", "--target", "1,1/2;0,2", "--weight-decay",
                 "3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    sigma1 = float(doc["singular_values"][0]["sigma"]["value"])
    assert doc["collapsed"] is True and all(x == "0" for w in doc["weights"] for r in w for x in r)
    # at W = 0, depth 2: H_0 = [[0, -M^T kron I], ...] has eigenvalues +-sigma_i
    assert abs(float(doc["lambda_max"]) - (sigma1 + 3)) < 1e-15
    assert main(["regularized", "--dims", "2,2,2", "--target", "1,1/2;0,2", "--weight-decay",
                 "1/10", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["collapsed"] is False and doc["gradient_encloses_zero"] is True
    lmax = float(doc["lambda_max"])
    # depth 2, top singular pair: H_0 block [[t^2, t^2 - lam], [t^2 - lam, t^2]] (the residual
    # is -lam there), eigenvalues 2 t^2 - lam and lam; plus lam: 2 t^2 = 2 (sigma_1 - lam)
    assert abs(lmax - 2 * (sigma1 - 0.1)) < 1e-12


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--dims", "2,2", "--target", "1,2;3", "--weight-decay", "1"], "ragged"),
        (["--dims", "2,2,2", "--target", "1,0;0,1", "--weight-decay", "-1"], ">= 0"),
        (["--dims", "2,2,2", "--target", "1,0;0,1", "--weight-decay", "abc"], "weight-decay"),
        (["--dims", "2,1,2", "--target", "1,0;0,1", "--weight-decay", "1/0"], "zero denominator"),
        (["--dims", "2,2,2", "--target", "1,0;0,1", "--weight-decay", "1", "--dps", "0"],
         "--dps"),
        (["--dims", "3,2", "--target", "1,0;0,1", "--weight-decay", "1"], "shape"),
        (["--dims", "x", "--target", "1", "--weight-decay", "1"], "--dims"),
    ],
    ids=["ragged", "negative-lam", "lam-text", "lam-zero-denominator", "dps", "target-shape",
         "dims"],
)
def test_cli_bad_input_exit_2_one_line(main, capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
                                       argv: list[str], match: str) -> None:
    assert main(["regularized", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dmf-sharpness regularized: error:")
    assert re.search(re.escape(match), lines[0])


@given(entries=st.lists(st.integers(-3, 3), min_size=4, max_size=4),
       lam=st.fractions(min_value=0, max_value=2, max_denominator=8),
       seed=st.integers(0, 2**16))
def test_the_minimizer_is_below_random_and_nearby_points(entries: list[int], lam: F,
                                                         seed: int) -> None:
    """L_lam at the certified minimizer (an enclosure) is <= L_lam at random rational points
    and at rational perturbations of it (exact): the selected root is the global one."""
    target = np.array([[F(x) for x in entries[:2]], [F(x) for x in entries[2:]]], dtype=object)
    dims = (2, 2, 2, 2)
    r = regularized_minimizer(target, dims, lam)
    ws = r.weights(15)
    best = regularized_loss(ws, target, lam)
    best = as_enclosure(best)
    rng = np.random.default_rng(seed)
    for k in range(6):
        scale = F(1, 10 ** (k % 3 + 1))
        if k % 2:
            pts = [np.array([[F(int(v), 4) for v in row] for row in rng.integers(-6, 7, (2, 2))],
                            dtype=object) for _ in range(3)]
        else:
            pts = [np.array([[as_enclosure(x).mid + scale * F(int(rng.integers(-5, 6)), 5)
                              for x in row] for row in w], dtype=object) for w in ws]
        assert regularized_loss(pts, target, lam) >= best.lo


@pytest.mark.parametrize("dims", [(3, 1, 3), (3, 2, 2, 3), (2, 1, 1, 3), (3, 1, 2)])
@pytest.mark.parametrize("lam", ["0", "1/5"])
def test_bottleneck_minimizer_is_certified_and_below_random_points(dims: tuple[int, ...],
                                                                   lam: str) -> None:
    rng = np.random.default_rng(sum(dims))
    target = np.array([[F(int(x)) for x in row] for row in rng.integers(-3, 4, (dims[-1], dims[0]))],
                      dtype=object)
    r = regularized_minimizer(target, dims, lam)
    assert not r.bottleneck_split and sum(r.carried) <= min(dims[1:-1])
    ws = r.weights(15)
    assert all(w.shape == (b, a) for w, (a, b) in zip(ws, itertools.pairwise(dims), strict=True))
    grad = regularized_gradient(ws, target, F(lam))
    assert all(as_enclosure(x).contains(0) for g in grad for x in g.flat)
    best = as_enclosure(regularized_loss(ws, target, F(lam)))
    for _ in range(20):
        pts = [np.array([[as_enclosure(x).mid + F(int(rng.integers(-5, 6)), 100) for x in row]
                         for row in w], dtype=object) for w in ws]
        assert regularized_loss(pts, target, F(lam)) >= best.lo
    lmax, lmin, _ = interval_lambda_max(regularized_hessian(ws, target, F(lam)), dps=12)
    assert lmin.lo > -F(1, 10**9) * lmax.hi


def test_a_bottleneck_through_a_repeated_singular_value_is_reported() -> None:
    r = regularized_minimizer([[1, 0], [0, 1]], (2, 1, 2), 0)
    assert r.bottleneck_split and r.carried == (1,)
    r = regularized_minimizer([[3, 0], [0, 1]], (2, 1, 2), 2)  # t^2 = 3 - 2; sigma = 1 collapses
    assert not r.bottleneck_split and r.carried == (1, 0)
    w1, w2 = r.weights(10)
    assert [as_enclosure(x).contains(y) for x, y in zip(w1.flat, (1, 0), strict=True)] == [True] * 2
    assert [as_enclosure(x).contains(y) for x, y in zip(w2.flat, (1, 0), strict=True)] == [True] * 2


def test_the_invariance_claims_need_positive_weight_decay() -> None:
    """Why the wd-* statements say lam > 0: at lam = 0, M = [[1]] has the minimizers
    (W_1, W_2) = ([[2]], [[1/2]]) and ([[1]], [[1]]), whose Frobenius norms and Hessian spectra
    differ (exact characteristic polynomials x^2 - 17/4 x and x^2 - 2x)."""
    from derivations.algebraic import charpoly
    from derivations.exact import parse_point
    from numeric.hessian import full_hessian

    polys = []
    for ws in ([[[2]], [["1/2"]]], [[[1]], [[1]]]):
        p = parse_point(ws, [[1]])
        polys.append(charpoly(full_hessian(list(p.weights), None, p.labels)))
    assert polys[0] != polys[1]
    assert [str(c) for c in polys[0].coeffs()] == ["0", "-17/4", "1"]
