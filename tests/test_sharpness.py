"""numeric.sharpness: routes agree, certified enclosures contain the truth, modes and loss
conventions are consistent, bad input is refused clearly."""

from __future__ import annotations

import importlib
import json
import math
from fractions import Fraction as F
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings

from derivations.errors import (
    DmfError,
    EmptyInputError,
    EntryError,
    NonFiniteError,
    NotAMinimizerError,
    ShapeError,
)
from derivations.exact import Point
from numeric import strategies as dst
from numeric.closed_forms import hessian_trace, sharpness_upper_bound
from numeric.minimizers import minimizer_from_weights
from numeric.result import SharpnessResult
from numeric.sharpness import sharpness

# ``numeric.sharpness`` is the function (the package re-exports it); this is the module
sharpness_module = importlib.import_module("numeric.sharpness")
float64_module = importlib.import_module("numeric.evaluators.float64")


def _args(p: Point) -> tuple[list[Any], Any, dict[str, Any]]:
    ws = [w.tolist() for w in p.weights]
    if p.data is None:
        return ws, p.labels.tolist(), {}
    return ws, None, {"data": p.data.tolist(), "labels": p.labels.tolist()}


def _overlap(a: SharpnessResult, b: SharpnessResult) -> bool:
    return bool(a.enclosure.lo <= b.enclosure.hi and b.enclosure.lo <= a.enclosure.hi)


def _mp(q: F) -> Any:
    return mpmath.mpf(q.numerator) / q.denominator


# ----------------------------------------------------------------------- routes
@settings(max_examples=10)
@given(dst.minimizers(dims=dst.dims(max_depth=3, max_width=3)))
@example(minimizer_from_weights([[[0, 0]], [[0], [0]]]))  # zero weights, zero target
@example(minimizer_from_weights([[[1, 1]], [[1], [1]]]))  # width-1 bottleneck, rank 1
def test_routes_agree_at_minimizers(point: Point) -> None:
    ws, target, kw = _args(point)
    red = sharpness(ws, target, dps=30, **kw)
    full = sharpness(ws, target, dps=30, route="full", **kw)
    assert (red.route, full.route) == ("reduced", "full")
    assert red.at_minimizer and full.at_minimizer and red.certified and full.certified
    assert _overlap(red, full)
    assert red.multiplicity == full.multiplicity


@settings(max_examples=8)
@given(dst.near_minimizers(with_data=True, max_samples=3))
def test_full_route_away_from_minimizers(point: Point) -> None:
    ws, target, kw = _args(point)
    r = sharpness(ws, target, dps=30, **kw)
    assert r.route == ("reduced" if point.is_minimizer() else "full")
    assert r.at_minimizer == point.is_minimizer()
    if not r.at_minimizer:
        with pytest.raises(NotAMinimizerError, match="not a global minimizer"):
            sharpness(ws, target, dps=30, require_minimizer=True, **kw)


@settings(max_examples=6)
@given(dst.points_with_data(minimizer=True, dims=dst.dims(max_depth=2)))
def test_reduced_route_with_data_agrees_with_full(point: Point) -> None:
    ws, _, kw = _args(point)
    red, full = sharpness(ws, dps=30, **kw), sharpness(ws, dps=30, route="full", **kw)
    assert red.route == "reduced" and _overlap(red, full)


# ----------------------------------------------------------------------- certification
@settings(max_examples=6)
@given(dst.near_minimizers(dims=dst.dims(max_depth=3, max_width=2)))
def test_enclosure_contains_value_at_twice_the_precision(point: Point) -> None:
    ws, target, kw = _args(point)
    cert = sharpness(ws, target, dps=25, **kw)
    approx = sharpness(ws, target, dps=50, certify=False, **kw)
    assert cert.certified and not approx.certified and approx.enclosure is None
    # the 50-digit approximation is within its own rounding of the enclosure (a point enclosure,
    # e.g. exactly 1/10^6, does not contain the binary mpf nearest to it)
    with mpmath.workdps(60):
        lo, hi = (mpmath.mpf(q.numerator) / q.denominator for q in (cert.enclosure.lo,
                                                                      cert.enclosure.hi))
        slack = mpmath.mpf(10) ** -48 * max(abs(lo), abs(hi))
        assert lo - slack <= approx.value <= hi + slack
    assert cert.route == approx.route


def test_4444_certified_50_digits() -> None:
    rng = np.random.default_rng(4)
    ws = [rng.integers(-3, 4, size=(4, 4)).tolist() for _ in range(3)]
    r = sharpness(ws, "product", dps=50)
    assert r.certified and r.route == "reduced" and r.parameters == 48
    assert r.enclosure.width <= F(1, 10**50) * abs(r.enclosure.mid)
    assert r.enclosure.contains(sharpness(ws, "product", dps=100, certify=False).value)


@settings(max_examples=8)
@given(dst.minimizers(kind="any"))
def test_spectrum_at_minimizers(point: Point) -> None:
    ws = [w.tolist() for w in point.weights]
    r = sharpness(ws, "product", dps=20, spectrum=True)
    assert r.spectrum is not None and r.spectrum_enclosures is not None
    assert r.zero_multiplicity is not None
    assert len(r.spectrum) + r.zero_multiplicity == r.parameters
    # K3: the trace is exact; the nonzero eigenvalue enclosures must sum around it
    trace = hessian_trace(list(point.weights), None)
    assert sum(e.lo for e in r.spectrum_enclosures) <= trace <= sum(e.hi for e in r.spectrum_enclosures)
    assert r.lambda_min == 0 or r.zero_multiplicity == 0
    assert r.largest_magnitude == r.value  # H is positive semidefinite at minimizers


def test_lambda_min_dominates() -> None:
    r = sharpness([[["1/2"]], [["-1/2"]], [["1/2"]]], [[-7]], dps=30)
    assert r.route == "full" and r.largest_magnitude_is_lambda_min is True
    assert r.largest_magnitude == r.lambda_min < 0 < r.value < -r.lambda_min
    assert "power iteration would find lambda_min" in str(r)


def test_symmetric_spectrum_is_a_tie() -> None:
    r = sharpness([[[0]], [[0]]], [[1]], dps=30)  # H = [[0, -1], [-1, 0]]
    assert r.enclosure.contains(1) and r.lambda_min_enclosure.contains(-1)
    assert r.largest_magnitude_is_lambda_min is None


def test_multiplicity_and_gap() -> None:
    r = sharpness([[[1, 0], [0, 1]], [[1, 0], [0, 1]]], "product", dps=30)  # K = 2 I_4 (K5), P = 8
    assert r.multiplicity == 4 and r.enclosure.contains(2)
    assert r.gap_enclosure.contains(2)  # next eigenvalue is the exact zero (multiplicity 4)


# ----------------------------------------------------------------------- float64
@pytest.mark.parametrize("at_minimizer", [True, False], ids=["minimizer", "non-minimizer"])
def test_float64_agrees_with_certified(at_minimizer: bool) -> None:
    rng = np.random.default_rng(11)
    dims = (3, 5, 4, 3)
    ws = [rng.integers(-4, 5, size=(dims[l], dims[l - 1])) / 4 for l in range(1, 4)]
    target = "product" if at_minimizer else np.ones((3, 3))
    cert = sharpness(ws, target, dps=30)
    fast = sharpness(ws, target, float64=True)
    assert fast.route == cert.route and not fast.certified and fast.dps is None
    assert abs(fast.value - float(cert.enclosure.mid)) <= 1e-10 * abs(fast.value)
    assert abs(fast.lambda_min - float(cert.lambda_min)) <= 1e-10 * abs(fast.value)


def test_float64_lanczos_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(float64_module, "DENSE_FLOAT64_LIMIT", 0)
    rng = np.random.default_rng(3)
    ws = [rng.standard_normal((5, 4)), rng.standard_normal((6, 5))]
    cert = sharpness(ws, "product", dps=30)  # floats are exact binary rationals: certified at them
    fast = sharpness(ws, "product", float64=True)
    assert "Lanczos" in fast.method and fast.spectrum is None
    assert abs(fast.value - float(cert.enclosure.mid)) <= 1e-10 * fast.value
    off = sharpness(ws, np.zeros((6, 4)), float64=True)
    ref = sharpness(ws, np.zeros((6, 4)), dps=30)
    assert off.route == "full" and "Lanczos" in off.method
    assert abs(off.value - float(ref.enclosure.mid)) <= 1e-10 * abs(off.value)


def test_float64_large_at_minimizer() -> None:
    rng = np.random.default_rng(0)
    dims = (64, 128, 128, 128, 64)
    ws = [rng.standard_normal((dims[l], dims[l - 1])) / math.sqrt(dims[l - 1]) for l in range(1, 5)]
    r = sharpness(ws, "product", float64=True)
    assert r.route == "reduced" and r.at_minimizer and r.parameters == 49152
    assert r.lambda_min == 0.0 and 0 < r.value <= sharpness_upper_bound(ws) * (1 + 1e-12)
    assert r.seconds < 10.0  # well under a second when the machine is idle (see the report)


def test_float64_exact_minimizer_test() -> None:
    """The float64 path decides R = 0 for the exact binary rationals the floats store."""
    ws = [np.array([[0.5, 0.25]]), np.array([[3.0], [0.1]])]
    exact = [[F(3, 2), F(3, 4)], [F(0.1) / 2, F(0.1) / 4]]
    target = np.array([[1.5, 0.75], [0.1 / 2, 0.1 / 4]])  # exact halvings of the double 0.1
    assert sharpness(ws, target, float64=True).at_minimizer
    assert sharpness(ws, exact, float64=True).at_minimizer
    assert not sharpness(ws, [[1.5, 0.75], ["0.05", 0.1 / 4]], float64=True).at_minimizer
    nudged = target.copy()
    nudged[1, 1] = np.nextafter(nudged[1, 1], 1.0)
    r = sharpness(ws, nudged, float64=True)
    assert not r.at_minimizer and r.route == "full"


# ----------------------------------------------------------------------- loss conventions
@pytest.mark.parametrize(
    ("loss", "factor"),
    [("half-sum", F(1)), ("sum", F(2)), ("sample-mean", F(2, 3)), ("mse", F(2, 6)),
     ("half-mse", F(1, 6))],
)
def test_loss_factors(loss: str, factor: F) -> None:
    ws = [[[1, 2, 0], [0, 1, 1]], [[1, -1], [2, 1]]]  # dims (3, 2, 2): N = d_0 = 3, d_L = 2
    base = sharpness(ws, "product", dps=30)
    r = sharpness(ws, "product", dps=30, loss=loss)
    assert r.loss_factor == factor and r.loss_convention == loss
    assert r.enclosure.lo == factor * base.enclosure.lo and r.enclosure.hi == factor * base.enclosure.hi
    assert r.to_json()["loss"] == r.loss


def test_sample_mean_loss_counts_samples_with_data() -> None:
    r = sharpness([[[1, 1]]], data=[[1, 0, 1, 2], [0, 1, 1, 2]], labels="product", dps=20,
                  loss="sample-mean")
    assert r.loss_factor == F(2, 4) and "1/4" in r.loss


# ----------------------------------------------------------------------- output
def test_json_and_str() -> None:
    r = sharpness([[[1, 2]], [[1], [1]]], "product", dps=20, spectrum=True)
    out = json.loads(json.dumps(r.to_json()))
    assert {"lambda_max", "enclosure", "certified", "route", "at_minimizer", "residual_norm",
            "loss", "dims", "parameters", "spectrum", "zero_multiplicity"} <= out.keys()
    lo, hi = (F(x) for x in out["enclosure"])
    assert lo <= r.enclosure.lo and r.enclosure.hi <= hi  # outward rounded
    assert F(out["lambda_max"]) == pytest.approx(float(r.value))
    assert str(r).startswith("lambda_max = ") and "[exact: lambda_max = 7]" in str(r)  # rational
    irrational = sharpness([[[0, 1], [1, 1]], [[0, 1]], [[0], [1]]], "product", dps=20)  # (7 + sqrt 17)/2
    assert "certified: lambda_max in [" in str(irrational)
    approx = sharpness([[[1, 2]], [[1], [1]]], "product", float64=True)
    assert "approximate: float64" in str(approx) and approx.to_json()["enclosure"] is None


# ----------------------------------------------------------------------- bad input
BAD = [
    ("layers-do-not-chain", ([[[1, 2]], [[1, 2, 3]]], "product", {}), ShapeError,
     r"layer 2 \(W_2\) has shape \(1, 3\) but layer 1 outputs 1 rows"),
    ("nan", ([[[1.0, float("nan")]]], "product", {}), NonFiniteError, r"W_1\[0, 1\] is nan"),
    ("inf-float64-path", ([np.array([[1.0, np.inf]])], "product", {"float64": True}), NonFiniteError,
     r"W_1\[0, 1\] is .*inf"),
    ("no-layers", ([], "product", {}), EmptyInputError, "no layers given"),
    ("empty-matrix", ([[]], "product", {}), EmptyInputError, "W_1 is empty"),
    ("ragged", ([[[1, 2], [3]]], "product", {}), ShapeError, "W_1 is ragged"),
    ("bad-entry", ([[["x"]]], "product", {}), EntryError, r"W_1\[0, 0\]: cannot read the string 'x'"),
    ("wrong-target-shape", ([[[1, 2]]], [[1]], {}), ShapeError,
     r"target M has shape \(1, 1\); expected \(d_L, d_0\) = \(1, 2\)"),
    ("wrong-data-shape", ([[[1, 2]]], None, {"data": [[1, 2]], "labels": "product"}), ShapeError,
     r"data X has shape \(1, 2\); expected \(d_0, N\) with d_0 = 2"),
    ("wrong-labels-shape", ([[[1, 2]]], None, {"data": [[1], [2]], "labels": [[1, 2]]}),
     ShapeError, r"labels Y have shape \(1, 2\); expected \(d_L, N\) = \(1, 1\)"),
    ("unknown-loss", ([[[1]]], "product", {"loss": "l1"}), DmfError, "unknown loss convention 'l1'"),
    ("absurd-dps", ([[[1]]], "product", {"dps": 10**6}), DmfError, r"dps must be an integer in \[5,"),
    ("reduced-route-off-minimum", ([[[1]]], [[2]], {"route": "reduced"}), NotAMinimizerError,
     "not a global minimizer"),
]


@pytest.mark.parametrize(("args", "error", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(args: tuple[Any, Any, dict[str, Any]], error: type, match: str) -> None:
    weights, target, kw = args
    with pytest.raises(error, match=match):
        sharpness(weights, target, **kw)


# ----------------------------------------------------------------------- an explicit problem
_W = [[[1, 2, 0]], [[1], [-1]]]  # dims (3, 1, 2): d_0 = 3, d_L = 2
_X = np.array([[1, 0, 1, 2], [0, 1, 1, 0], [2, 0, 1, 1]])  # d_0 x N = 3 x 4 (N != d_0)
_Y = np.ones((2, 4), dtype=int)


def _torch_model() -> Any:
    torch = pytest.importorskip("torch", reason="the nn.Sequential case needs PyTorch (extra)")
    return torch.nn.Sequential(torch.nn.Linear(3, 2, bias=False), torch.nn.Linear(2, 1, bias=False))


REFUSED = [  # (id, weights, target, keywords, error, message)
    ("weights-alone", lambda: _W, None, {}, DmfError,
     r"got weights but no problem to answer: .*target='product'"),
    ("torch-model-alone", _torch_model, None, {}, DmfError,
     r"got weights but no problem to answer: .*inputs= and targets="),
    ("data-without-labels", lambda: _W, None, {"data": _X}, DmfError,
     r"got data= but no labels=: .*labels='product' for Y = W_L...W_1 X"),
    ("inputs-without-targets", lambda: _W, None, {"inputs": _X.T}, DmfError,
     r"got inputs= but no targets=: .*N x d_L, one sample per row.*targets='product'"),
    ("string-target", lambda: _W, "identity", {}, DmfError,
     r"target must be a matrix or 'product' .*got the string 'identity'"),
    ("string-labels", lambda: _W, None, {"data": _X, "labels": "Y"}, DmfError,
     r"labels must be a matrix or 'product' .*got the string 'Y'"),
    ("inputs-swapped-layout", lambda: _W, None, {"inputs": _X, "targets": _Y.T}, ShapeError,
     r"inputs has shape \(3, 4\) but W_1 takes d_0 = 3 inputs per sample: .*inputs=inputs\.T"),
]


@pytest.mark.parametrize(("build", "target", "kw", "error", "match"), [r[1:] for r in REFUSED],
                         ids=[r[0] for r in REFUSED])
def test_refused_without_an_explicit_problem(build: Any, target: Any, kw: dict[str, Any],
                                             error: type, match: str) -> None:
    """A call that does not say which loss it asks about is refused in one line; it is never
    answered for the weights' own product silently."""
    with pytest.raises(error, match=match):
        sharpness(build(), target, **kw)


@pytest.mark.parametrize("layout", ["target", "data", "samples-first"])
def test_product_keyword_is_the_explicit_product(layout: str) -> None:
    """``"product"`` asks for ``M = W_L...W_1`` (with data ``Y = W_L...W_1 X``): the same
    problem, hence the same certified enclosure, as passing that matrix."""
    f = np.array(_W[1]) @ np.array(_W[0])
    cases: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "target": ({"target": "product"}, {"target": f}),
        "data": ({"data": _X, "labels": "product"}, {"data": _X, "labels": f @ _X}),
        "samples-first": ({"inputs": _X.T, "targets": "product"},
                          {"inputs": _X.T, "targets": (f @ _X).T}),
    }
    product, explicit = cases[layout]
    a, b = sharpness(_W, dps=30, **product), sharpness(_W, dps=30, **explicit)
    assert a.at_minimizer and b.at_minimizer and a.route == b.route == "reduced"
    assert (a.enclosure.lo, a.enclosure.hi) == (b.enclosure.lo, b.enclosure.hi)
    assert a.enclosure.width <= F(1, 10**29) * abs(a.enclosure.mid)


@pytest.mark.parametrize("float64", [False, True], ids=["certified", "float64"])
def test_saddle_tie_between_lambda_min_and_lambda_max_is_reported(float64: bool) -> None:
    """At W = 0 with M = diag(1, 2) the Hessian's spectrum is symmetric (+-2, +-1): power
    iteration converges to neither end, and the result must not claim a winner."""
    r = sharpness([[[0, 0]], [[0], [0]]], [[1, 0], [0, 2]], dps=20, float64=float64)
    assert float(r.value) == pytest.approx(2.0) and float(r.lambda_min) == pytest.approx(-2.0)
    assert r.largest_magnitude_is_lambda_min is None
    assert "not separated" in str(r)


def test_dominant_negative_eigenvalue_is_flagged() -> None:
    """A depth-4 scalar chain with product 1 and target 4 (R = -3): the Hessian has eigenvalues 3
    (three times) and -5, so |lambda_min| > lambda_max and power iteration finds -5."""
    r = sharpness([[[-1]], [[-1]], [[1]], [[1]]], [[4]], dps=20)
    assert r.enclosure.contains(3) and r.lambda_min_enclosure.contains(-5)
    assert r.largest_magnitude_is_lambda_min is True
    assert "power iteration would find lambda_min" in str(r)
