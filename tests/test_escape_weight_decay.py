"""Gradient descent near a regularized minimizer (numeric.dynamics.escape with weight_decay).

Independent references: the closed form of the scalar chain (1,1,1) with sigma = 2, lam = 1/4
(``t^2 = sigma - lam = 7/4``, ``H_0`` eigenvalues ``t^2 +- |2 t^2 - sigma|`` = 13/4, 1/4), a dense
Hessian of ``L_lam`` by central differences of its gradient in mpmath (never the Hessian code
the runs use), ``numeric.sharpness`` without weight decay for ``lambda_max(H_0)``, and the
linearized growth ``|1 - eta lambda_max|`` computed here. Tolerance on escape steps: 10% (an
integer step against a linearization, as in tests/test_dynamics.py).
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from derivations.exact import Point, parse_point
from numeric.cli import main
from numeric.dynamics.escape import escape_run, escape_sweep
from numeric.dynamics.start import regularized_start
from numeric.loss import flatten, unflatten
from numeric.regularized import regularized_gradient

DPS = 35
LAM = Fraction(1, 4)
MATRIX = [[3, 1], [1, 2]]


@pytest.fixture(scope="module")
def scalar() -> Point:
    return regularized_start([[2]], (1, 1, 1), LAM, digits=DPS + 10)[0]


@pytest.fixture(scope="module")
def matrix() -> Point:
    return regularized_start(MATRIX, (2, 2, 2), LAM, digits=DPS + 10)[0]


def _mp_gradient(theta: list, point: Point, lam: Fraction) -> list:
    """``grad L_lam`` at a flat mpmath parameter vector (call inside workdps)."""
    ws = unflatten(np.array(theta, dtype=object), point.dims)
    target = np.array([[mpmath.mpf(x.numerator) / x.denominator for x in row]
                       for row in point.labels], dtype=object)
    g = regularized_gradient(ws, target, mpmath.mpf(lam.numerator) / lam.denominator)
    return list(flatten(g))


def _theta(point: Point) -> list:
    return [mpmath.mpf(Fraction(x).numerator) / Fraction(x).denominator
            for w in point.weights for x in w.flat]


def _fd_lambda_max(point: Point, lam: Fraction, *, dps: int = 80) -> float:
    """lambda_max of the Hessian of L_lam by central differences of the gradient (mpmath)."""
    with mpmath.workdps(dps):
        theta, h = _theta(point), mpmath.mpf(10) ** (-25)
        n = len(theta)
        cols = []
        for j in range(n):
            up, down = list(theta), list(theta)
            up[j] += h
            down[j] -= h
            gu, gd = _mp_gradient(up, point, lam), _mp_gradient(down, point, lam)
            cols.append([(a - b) / (2 * h) for a, b in zip(gu, gd, strict=True)])
        hess = mpmath.matrix(n, n)
        for i in range(n):
            for j in range(n):
                hess[i, j] = (cols[j][i] + cols[i][j]) / 2
        return float(max(mpmath.eigsy(hess)[0]))


def _same(a: dict, b: dict) -> bool:
    a, b = json.loads(json.dumps(a)), json.loads(json.dumps(b))
    for doc in (a, b):
        doc.get("details", doc).pop("seconds", None)
        doc.pop("seconds", None)
    return a == b


# ----------------------------------------------------------------------------- (1) lam = 0


def test_weight_decay_zero_reproduces_the_plain_run() -> None:
    point = parse_point([[[1, 1]], [[1], [2]]], [[1, 1], [2, 2]])
    for kwargs in ({"factor": 1.3, "eps": "1e-20", "dps": 40, "stop_at_escape": True},
                   {"factor": 0.8, "eps": "1e-8", "dps": 30},
                   {"factor": 1.2, "eps": 1e-6, "dps": None, "steps": 200}):
        plain = escape_run(point, every=7, **kwargs)  # type: ignore[arg-type]
        for zero in (0, "0", Fraction(0)):
            with_zero = escape_run(point, every=7, weight_decay=zero, **kwargs)  # type: ignore[arg-type]
            assert with_zero.losses == plain.losses and with_zero.distances == plain.distances
            assert with_zero.sharpness_values == plain.sharpness_values
            assert str(with_zero.eta) == str(plain.eta)
            assert _same(with_zero.to_json(), plain.to_json())
            assert with_zero.to_json()["details"]["weight_decay"] == "0"
    sweep = escape_sweep(point, factors=[0.8, 1.3], epss=["1e-10", "1e-20"], dps=30)
    sweep0 = escape_sweep(point, factors=[0.8, 1.3], epss=["1e-10", "1e-20"], dps=30,
                          weight_decay=0)
    assert _same(sweep.to_json(), sweep0.to_json()) and sweep0.to_json()["weight_decay"] == "0"


# ----------------------------------------------------------------------------- (2) at the minimizer


@pytest.mark.parametrize("name", ["scalar", "matrix"])
def test_start_is_a_critical_point_and_lambda_max_is_that_of_h_lam(
    name: str, request: pytest.FixtureRequest
) -> None:
    point: Point = request.getfixturevalue(name)
    with mpmath.workdps(DPS + 40):
        g = _mp_gradient(_theta(point), point, LAM)
        norm = float(mpmath.sqrt(mpmath.fsum(x * x for x in g)))
    assert norm < 10.0 ** (-DPS)
    run = escape_run(point, factor=1.2, eps="1e-20", dps=DPS, direction="top",
                     stop_at_escape=True, weight_decay=LAM)
    assert run.start_gradient_norm is not None and run.start_gradient_norm < 10.0 ** (-DPS)
    reference = 3.5 if name == "scalar" else _fd_lambda_max(point, LAM)
    assert float(run.lambda_max_start) == pytest.approx(reference, rel=1e-12)
    if name == "scalar":  # the closed form, and the finite differences agree with it
        assert _fd_lambda_max(point, LAM) == pytest.approx(3.5, rel=1e-12)


@pytest.mark.parametrize("name", ["scalar", "matrix"])
def test_below_threshold_converges_above_escapes_on_time(
    name: str, request: pytest.FixtureRequest
) -> None:
    point: Point = request.getfixturevalue(name)
    down = escape_run(point, factor=0.9, eps="1e-20", dps=DPS, weight_decay=LAM, every=1000)
    assert down.outcome == "converged" and not down.escaped
    assert down.final_distance < 0.5 * float(down.eps)  # the distance shrinks: no flat modes
    up = escape_run(point, factor=1.2, eps="1e-20", dps=DPS, direction="top",
                    stop_at_escape=True, weight_decay=LAM, every=1000)
    assert up.outcome == "escaped" and up.escape_step is not None
    # independent prediction: eps_top = eps along the top eigenvector, growth |1 - 2.4|
    size = math.sqrt(sum(float(x) ** 2 for w in point.weights for x in w.flat))
    predicted = math.log(1e-2 * size / 1e-20) / math.log(1.4)
    assert abs(up.escape_step - predicted) <= 0.10 * predicted
    assert up.predicted_escape_step == pytest.approx(predicted, rel=1e-6)


# ----------------------------------------------------------------------------- (3) which threshold


def test_threshold_is_that_of_h0_plus_lam(scalar: Point) -> None:
    from numeric.sharpness import sharpness

    lam0 = float(sharpness(list(scalar.weights), scalar.labels, dps=40).value)
    assert lam0 == pytest.approx(3.25, rel=1e-12)  # H_0 alone: 2/lam0 is the wrong threshold
    factor = 1.04  # eta = 2.08/3.5: above 2/lambda_max(H_lam), below 2/lambda_max(H_0)
    eta_expected = factor * 2 / (lam0 + float(LAM))
    assert eta_expected * lam0 < 2 < eta_expected * (lam0 + float(LAM))
    run = escape_run(scalar, factor=factor, eps="1e-15", dps=DPS, direction="top",
                     stop_at_escape=True, weight_decay=LAM, every=1000)
    assert float(run.eta) == pytest.approx(eta_expected, rel=1e-14)
    assert run.outcome == "escaped" and run.escape_step is not None
    growth = abs(1 - eta_expected * (lam0 + float(LAM)))
    predicted = math.log(run.delta_abs / 1e-15) / math.log(growth)
    assert abs(run.escape_step - predicted) <= 0.10 * predicted
    below = escape_run(scalar, factor=0.97, eps="1e-15", dps=DPS, direction="top",
                       weight_decay=LAM, every=1000)
    assert below.outcome == "converged"


# ----------------------------------------------------------------------------- collapsed and tie


@pytest.mark.parametrize(("dims", "lam_max"), [((1, 1, 1, 1), 3.0), ((1, 1, 1), 5.0)])
def test_collapsed_minimizer(dims: tuple[int, ...], lam_max: float) -> None:
    point, info = regularized_start([[2]], dims, 3, digits=40)
    assert info["collapsed"] and all(x == 0 for w in point.weights for x in w.flat)
    assert _fd_lambda_max(point, Fraction(3)) == pytest.approx(lam_max, rel=1e-12)
    run = escape_run(point, factor=1.2, eps="1e-10", dps=30, direction="top",
                     stop_at_escape=True, weight_decay=3, every=1000)
    assert float(run.lambda_max_start) == pytest.approx(lam_max, rel=1e-12)
    assert run.outcome == "escaped" and run.escape_step is not None
    predicted = math.log(1e-2 / 1e-10) / math.log(1.4)  # radius delta itself: W* = 0
    assert abs(run.escape_step - predicted) <= 0.10 * predicted
    down = escape_run(point, factor=0.9, eps="1e-10", dps=30, weight_decay=3, every=1000)
    assert down.outcome == "converged" and down.final_distance < 1e-10


def test_tie_takes_the_positive_branch_and_says_so() -> None:
    point, info = regularized_start([[2]], (1, 1, 1, 1), 1, digits=40)  # lam* = 1 for sigma = 2
    assert info["tie"] and any("tie" in n for n in info["notes"])
    assert [float(w[0, 0]) for w in point.weights] == [1.0, 1.0, 1.0]


# ----------------------------------------------------------------------------- (4) CLI


def _cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_escape_with_weight_decay(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _cli(capsys, ["escape", "--dims", "1,1,1", "--target", "2", "--weight-decay", "1/4",
                        "--factor", "1.2", "--json"])
    assert doc["details"]["weight_decay"] == "1/4" and doc["outcome"] == "escaped"
    assert float(doc["lambda_max_start"]) == pytest.approx(3.5, rel=1e-14)
    assert float(doc["eta"]) == pytest.approx(2.4 / 3.5, rel=1e-14)
    info = doc["details"]["minimizer"]
    assert info["weight_decay"] == "1/4" and info["start_gradient_norm"] < 1e-60
    assert doc["details"]["start_gradient_norm"] < 1e-60


def test_cli_random_target_with_weight_decay(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _cli(capsys, ["escape", "--dims", "2,2,2", "--seed", "3", "--weight-decay", "1/2",
                        "--factor", "0.9", "--eps", "1e-20", "--dps", "30", "--json"])
    assert doc["outcome"] == "converged" and doc["details"]["final_distance_over_eps"] < 1
    assert doc["details"]["minimizer"]["target"] == "random (seed 3)"


@pytest.mark.parametrize(("value", "match"), [("-1", ">= 0"), ("abc", "cannot read")])
def test_cli_bad_weight_decay(capsys: pytest.CaptureFixture[str], value: str, match: str) -> None:
    assert main(["escape", "--dims", "1,1,1", "--target", "2", f"--weight-decay={value}"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1 and "--weight-decay" in lines[0]
    assert match in lines[0]


def test_cli_gauge_refused_with_weight_decay(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["escape", "--dims", "2,2,2", "--weight-decay", "1/4", "--minimizer",
                 "gauge"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "gauge" in lines[0] and "L_lam" in lines[0]


def test_cli_sweep_with_weight_decay(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _cli(capsys, ["escape-sweep", "--dims", "2,2,2", "--target", "3,1;1,2",
                        "--weight-decay", "1/4", "--factors", "0.9,1.2", "--eps",
                        "1e-10,1e-20", "--dps", "30", "--json"])
    assert doc["weight_decay"] == "1/4"
    outcomes = {(r["factor"], r["eps"]): r["outcome"] for r in doc["runs"]}
    assert outcomes == {(0.9, "1e-10"): "converged", (0.9, "1e-20"): "converged",
                        (1.2, "1e-10"): "escaped", (1.2, "1e-20"): "escaped"}
    (fit,) = doc["slope_fits"]
    assert fit["relative_error"] < 0.05
