"""Conjectures under weight decay: ``--weight-decay`` / ``weight_decay=`` / the TOML key, the
name ``lam``, and the family ``regularized-minimizers`` (exact global minimizers of
``L_lam = 1/2 ||W_L...W_1 - M||_F^2 + (lam/2) sum_l ||W_l||_F^2``), every property checked
against an independent computation (SymPy derivatives, the certified minimizer of
``numeric.regularized``)."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings

from derivations.exact import Point
from numeric.cli import main
from numeric.conjecture import check, conjecture
from numeric.conjecture.decay import RegularizedPoint, build, is_member, strategy
from numeric.conjecture.families import FAMILIES, Shape

OVER = "regularized-minimizers"
QUICK = {"budget": "quick", "depth": "1..3", "width": "1..2"}


# ----------------------------------------------------------------------------- independent maths


def _symbols_and_loss(p: Point, lam: Fraction) -> tuple[list[sp.Symbol], sp.Expr, dict]:
    """``L_lam`` as a SymPy expression in fresh symbols, and the point's values for them."""
    syms, mats, values = [], [], {}
    for l, w in enumerate(p.weights, start=1):
        rows, cols = w.shape
        m = sp.Matrix(rows, cols, [sp.Symbol(f"w{l}_{i}_{j}") for i in range(rows)
                                   for j in range(cols)])
        mats.append(m)
        for i in range(rows):
            for j in range(cols):
                syms.append(m[i, j])
                values[m[i, j]] = sp.Rational(w[i, j].numerator, w[i, j].denominator)
    prod = mats[0]
    for m in mats[1:]:
        prod = m * prod
    target = sp.Matrix(p.labels.tolist()).applyfunc(lambda x: sp.Rational(x.numerator,
                                                                          x.denominator))
    r = prod - target
    lam_s = sp.Rational(lam.numerator, lam.denominator)
    loss = sum(x**2 for x in r) / 2 + lam_s * sum(x**2 for m in mats for x in m) / 2
    return syms, sp.expand(loss), values


def _psd(h: sp.Matrix) -> bool:
    """A symmetric matrix is PSD iff the coefficients of det(t I - H) alternate weakly in sign
    (Descartes: no negative eigenvalue)."""
    coeffs = h.charpoly().all_coeffs()
    return all(c * (-1) ** k >= 0 for k, c in enumerate(coeffs))


def _points(n: int, seed: int, *, depth: tuple[int, int] = (1, 3)) -> list[RegularizedPoint]:
    gen = FAMILIES[OVER].generator(Shape(depth, (1, 2)))
    rng = np.random.default_rng(seed)
    return [gen(rng, i) for i in range(n)]  # type: ignore[misc]


# ----------------------------------------------------------------------------- the family


def test_family_points_are_exact_critical_points_with_psd_hessian_and_minimal_loss() -> None:
    from numeric.regularized import regularized_loss, regularized_minimizer

    residual_seen = 0
    for p in _points(10, 5):
        assert isinstance(p, RegularizedPoint) and 0 < p.lam <= 1
        syms, loss, vals = _symbols_and_loss(p, p.lam)
        grad = [sp.diff(loss, s).subs(vals) for s in syms]
        assert all(g == 0 for g in grad), (p, grad)
        hess = sp.hessian(loss, syms).subs(vals)
        assert _psd(hess), p
        # the global minimum value from the certified minimizer of numeric.regularized
        ref = regularized_minimizer(p.labels, p.dims, p.lam)
        assert ref.exact  # rational sigma and t: the reference weights are exact
        assert regularized_loss(ref.weights(20), p.labels, p.lam) == loss.subs(vals)
        residual_seen += any(x != 0 for x in p.residual().flat)
        assert is_member(p)
    assert residual_seen >= 3  # the target is not the product: R != 0


@settings(max_examples=25, deadline=None)
@given(strategy(Shape((1, 3), (1, 2)), Fraction(1, 3)))
def test_strategy_points_are_members_and_carry_lam(p: RegularizedPoint) -> None:
    assert p.lam == Fraction(1, 3)
    assert is_member(p)


def test_membership_refuses_the_wrong_side_and_lost_lam() -> None:
    one = np.array([[Fraction(1)]], dtype=object)
    # L = 3, lam = 1, t = 1/2: sigma = t^3 + lam/t = 17/8 makes t stationary (a local
    # maximum of f), not the global minimizer
    t, lam = Fraction(1, 2), Fraction(1)
    sigma = t**3 + lam / t
    bad = build(lam, [t], [sigma], [one] * 4)
    syms, loss, vals = _symbols_and_loss(bad, lam)
    assert all(sp.diff(loss, s).subs(vals) == 0 for s in syms)  # critical ...
    assert not is_member(bad)                                     # ... but not global
    good = next(q for q in _points(10, 2) if any(x != 0 for w in q.weights for x in w.flat))
    assert is_member(good)
    assert not is_member(Point(good.weights, good.labels))        # lam not carried
    moved = good.labels.copy()
    moved[0, 0] += 1
    assert not is_member(RegularizedPoint(good.weights, moved, None, good.lam))


# ----------------------------------------------------------------------------- verdicts


@pytest.mark.parametrize(("statement", "depth"), [
    ("lambda_max >= lam", "1..3"),
    ("lambda_min >= 0", "1..3"),
    ("lam > 0 and lam <= 1", "1..3"),
    ("fro(W[2].T @ W[2] - W[1] @ W[1].T) == 0", "2..2"),
])
def test_true_statements_are_verified(statement: str, depth: str) -> None:
    rep = check(statement, over=OVER, **{**QUICK, "depth": depth})
    assert rep["verdict"] == "verified", rep["detail"]
    assert rep["cases"] >= 12 and rep["undefined"] == 0


@pytest.mark.parametrize("statement", ["lambda_max <= lam",
                                       "lambda_min >= 0 and lambda_max <= lam"])
def test_planted_false_statement_is_refuted_with_a_small_exact_counterexample(
        statement: str) -> None:
    rep = check(statement, over=OVER, **QUICK)
    assert rep["verdict"] == "refuted"
    cx = rep["counterexample"]
    ws = [np.array([[Fraction(x) for x in row] for row in w], dtype=object)
          for w in cx["weights"]]
    target = np.array([[Fraction(x) for x in row] for row in cx["target"]], dtype=object)
    lam = Fraction(cx["lam"])
    assert sum(w.size for w in ws) <= 4  # shrunk
    p = RegularizedPoint(tuple(ws), target, None, lam)
    assert is_member(p)
    syms, loss, vals = _symbols_and_loss(p, lam)
    eig = max(sp.hessian(loss, syms).subs(vals).eigenvals())
    assert eig > lam and sp.nsimplify(cx["lhs_exact"] or cx["lhs"]) == eig


def test_lambda_min_at_least_lam_is_false() -> None:
    """``H_lam`` is PSD at a regularized minimizer, but ``H_0`` is not: ``lambda_min >= lam``
    fails (a collapsed singular value with ``R != 0``)."""
    rep = check("lambda_min >= lam", over=OVER, **QUICK)
    assert rep["verdict"] == "refuted"
    assert Fraction(rep["counterexample"]["lam"]) > 0


def test_meaning_of_loss_and_trace_with_a_weight_decay() -> None:
    """Decided by the engine (inequalities: no symbolic proof) and proved by expansion."""
    lam = "1/4"
    loss = "loss {} lam / 2 * sum(fro(W[l])**2 for l in layers)"  # minimizers: R = 0
    assert check(loss.format(">="), weight_decay=lam, **QUICK)["verdict"] == "verified"
    assert check(loss.format("<="), weight_decay=lam, **QUICK)["verdict"] == "verified"
    assert check(loss.format("=="), weight_decay=lam, **QUICK)["verdict"] == "proved"
    assert check("lambda_min >= lam", weight_decay=lam, **QUICK)["verdict"] == "verified"
    rep = check("trace == sum(fro(A[l])**2 * fro(B[l])**2 for l in layers) + lam * P",
                weight_decay=lam, **QUICK)
    assert rep["verdict"] == "proved" and rep["weight_decay"] == "1/4"
    assert check("lam == 1/4", weight_decay=lam, **QUICK)["verdict"] == "proved"
    assert check("lam >= 1/4", weight_decay=lam, **QUICK)["verdict"] == "verified"


def test_lam_is_zero_without_a_weight_decay() -> None:
    assert check("lam <= 0", **QUICK)["verdict"] == "verified"
    assert check("lam == 0", **QUICK)["verdict"] == "proved"
    assert check("lam > 0", **QUICK)["verdict"] == "refuted"


@pytest.mark.parametrize("statement", [
    "lambda_max <= sum(norm2(A[l])**2 * norm2(B[l])**2 for l in layers)",
    "trace == sum(fro(A[l])**2 * fro(B[l])**2 for l in layers)",
    "lambda_max == sum(norm2(A[l])**2 * norm2(B[l])**2 for l in layers)",
])
def test_weight_decay_zero_reproduces_the_verdict(capsys: pytest.CaptureFixture[str],
                                                  statement: str) -> None:
    reports = []
    for extra in ((), ("--weight-decay", "0")):
        assert main(["conjecture", statement, "--quick", "--json", "--depth", "1..3",
                     *extra]) == 0
        rep = json.loads(capsys.readouterr().out)
        rep.pop("seconds")
        reports.append(rep)
    assert reports[1].pop("weight_decay") == "0" and reports[0].pop("weight_decay") is None
    assert reports[0] == reports[1]


def test_the_symbolic_proof_carries_the_weight_decay() -> None:
    plain = check("trace == sum(fro(A[l])**2 * fro(B[l])**2 for l in layers)", **QUICK)
    decayed = check("trace == sum(fro(A[l])**2 * fro(B[l])**2 for l in layers)",
                    weight_decay="1/2", **QUICK)
    assert plain["verdict"] == "proved" and decayed["verdict"] == "refuted"
    assert "does not expand to 0" in decayed["detail"]
    over = check("loss == lam / 2 * sum(fro(W[l])**2 for l in layers)", over=OVER,
                 weight_decay="1/2", **QUICK)  # R != 0 there: never proved, refuted
    assert over["verdict"] == "refuted"


@pytest.mark.parametrize(("value", "needle"), [
    ("-1", ">= 0"), ("nan", "finite"), ("inf", "finite"), ("abc", "cannot read"),
    ("1e99999", "exponent"), ("", "weight_decay"), ("0", "lam > 0"),
])
def test_hostile_weight_decay_is_one_line_exit_2(capsys: pytest.CaptureFixture[str],
                                                 value: str, needle: str) -> None:
    code = main(["conjecture", "lambda_max >= lam", "--over", OVER, "--weight-decay", value,
                 "--quick"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err, err
    assert "Traceback" not in err


def test_python_api_refuses_bad_weight_decay() -> None:
    from derivations.errors import DmfError

    with pytest.raises(DmfError, match=">= 0"):
        conjecture("lam >= 0", weight_decay=-1)


TOML = """
[[conjecture]]
id = "psd-at-regularized-minima"
statement = "lambda_min >= 0"
over = "regularized-minimizers"
weight_decay = "1/4"
depth = "1..3"
width = "1..2"

[[conjecture]]
id = "sharpness-below-lam"
statement = "lambda_max <= lam"
over = "regularized-minimizers"
weight_decay = "1/4"
depth = "1..2"
width = "1..2"
"""


def _check_file(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    f = tmp_path / "wd.toml"
    f.write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "numeric.cli", "check", "--quick", "--json", "--no-progress",
         "--file", str(f)], cwd=tmp_path, capture_output=True, text=True, timeout=300)


def test_toml_weight_decay_key(tmp_path: Path) -> None:
    proc = _check_file(tmp_path, TOML)
    assert proc.returncode == 0, proc.stderr
    claims = {c["id"]: c for c in json.loads(proc.stdout)["claims"]}
    assert claims["psd-at-regularized-minima"]["verdict"] == "verified"
    bad = claims["sharpness-below-lam"]
    assert bad["verdict"] == "refuted" and "lam = 1/4" in bad["domain"] + bad["detail"]
    broken = _check_file(tmp_path, TOML.replace('weight_decay = "1/4"', 'weight_decay = "-2"', 1))
    assert broken.returncode == 2
    assert len(broken.stderr.strip().splitlines()) == 1
    assert "psd-at-regularized-minima" in broken.stderr and ">= 0" in broken.stderr
