"""Gradient descent near minima (numeric.dynamics.escape): the ``escape`` claim of docs/mathematics.md.

Tolerances: the escape step is an integer and the prediction is a linearization, so measured
and predicted steps are compared with the claim's 10% (they agree to about one step when the
prediction is tens of steps or more). Distances below the threshold are compared with ``eps``.
"""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction

import numpy as np
import pytest

from derivations.errors import DmfError
from derivations.exact import Point, parse_point
from numeric.claims.escape import check_escape_claim
from numeric.dynamics.escape import (
    escape_run,
    escape_sweep,
    fit_escape_slope,
    predicted_escape_step,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _minimizer(dims: tuple[int, ...], seed: int) -> Point:
    """An exact minimizer: random weights k/4 (k in -4..4, no zero entries), target their
    product. No zero entries, so a float64 offset of 1e-30 is lost in every coordinate."""
    rng = np.random.default_rng(seed)
    ws = []
    for a, b in itertools.pairwise(dims):
        k = rng.integers(1, 5, size=(b, a)) * rng.choice([-1, 1], size=(b, a))
        ws.append([[Fraction(int(x), 4) for x in row] for row in k])
    return parse_point(ws)


@pytest.fixture(scope="module")
def point() -> Point:
    return _minimizer((2, 3, 2), seed=3)


@pytest.mark.parametrize("dps", [None, 40], ids=["float64", "mpmath40"])
def test_threshold_both_sides_moderate_eps(point: Point, dps: int | None) -> None:
    up = escape_run(point, factor=1.25, eps=1e-6, dps=dps, stop_at_escape=True, every=50)
    assert up.outcome == "escaped" and up.escaped
    assert up.relative_step_error is not None and up.relative_step_error <= 0.10
    down = escape_run(point, factor=0.8, eps=1e-6, dps=dps, every=50)
    assert down.outcome == "converged" and not down.escaped
    # the limit is a minimizer within O(eps): the flat components of the offset stay
    assert down.distance_over_eps is not None and down.distance_over_eps <= 1.5
    assert down.final_eta_lambda_max is not None and down.final_eta_lambda_max < 2


def test_high_precision_eps_1e30_escapes_and_float64_cannot_show_it(point: Point) -> None:
    hp = escape_run(point, factor=1.5, eps="1e-30", dps=60, stop_at_escape=True, every=1000)
    assert hp.outcome == "escaped" and not hp.offset_lost
    assert hp.relative_step_error is not None and hp.relative_step_error <= 0.10
    assert hp.predicted_escape_step is not None and hp.predicted_escape_step > 60
    # float64: 1e-30 is below the rounding of theta* (entries >= 1/4), the start IS fl(theta*)
    f30 = escape_run(point, factor=1.5, eps=1e-30, dps=None, steps=300, every=1000)
    f40 = escape_run(point, factor=1.5, eps=1e-40, dps=None, steps=300, every=1000)
    assert f30.offset_lost and f30.start_offset == 0.0 and f30.eps_top_stored == 0.0
    assert f30.losses == f40.losses  # float64 cannot tell eps = 1e-30 from 1e-40
    # whatever float64 does (stay put, or escape on rounding noise), it is not the eps escape
    assert f30.escape_step is None or f30.relative_step_error > 0.25  # type: ignore[operator]
    assert any("rounding" in n for n in f30.notes)


def test_high_precision_below_threshold_converges_within_eps(point: Point) -> None:
    run = escape_run(point, factor=0.9, eps="1e-30", dps=60, every=1000)
    assert run.outcome == "converged" and not run.escaped
    ratio = run.distance_over_eps
    assert ratio is not None and 0 < ratio <= 1.5


@pytest.mark.parametrize("factor", [1.05, 1.2, 1.5])
def test_escape_step_matches_prediction(factor: float) -> None:
    point = _minimizer((2, 2, 2), seed=1)
    run = escape_run(
        point, factor=factor, eps="1e-25", dps=40, direction="top", stop_at_escape=True,
        every=10**6,
    )
    assert run.escape_step is not None and run.predicted_escape_step is not None
    assert abs(run.escape_step - run.predicted_escape_step) <= 0.10 * run.predicted_escape_step
    assert run.eps_top == pytest.approx(1e-25, rel=1e-9)  # direction "top": all of eps is on top


def test_escape_step_linear_in_log_eps_with_predicted_slope(point: Point) -> None:
    sweep = escape_sweep(point, factors=[1.3], epss=["1e-10", "1e-20", "1e-30", "1e-40"], dps=60)
    fit = fit_escape_slope(sweep.runs[0])
    assert fit is not None and fit.points == 4
    assert fit.predicted_slope == pytest.approx(math.log(10) / math.log(1.6))
    # one-step rounding of each escape step over a 30-decade range bounds the slope error
    assert fit.relative_error <= 2 / (30 * fit.predicted_slope)
    json.dumps(sweep.to_json(), allow_nan=False)


@pytest.mark.parametrize("dps", [None, 30], ids=["float64", "mpmath30"])
def test_huge_factor_diverges_cleanly(point: Point, dps: int | None) -> None:
    run = escape_run(point, factor=50, eps=1e-3, dps=dps, steps=500, every=1)
    assert run.outcome == "diverged" and run.diverged_step is not None
    assert run.divergence_reason
    doc = run.to_json()
    assert doc["final"]["lambda_max"] is None
    json.dumps(doc, allow_nan=False)  # no NaN/Infinity in the JSON


def test_prediction_formula() -> None:
    assert predicted_escape_step(1.0, 2.0**-20, 1.5) == pytest.approx(20.0)
    assert predicted_escape_step(1.0, 1e-3, 1.0) is None
    assert predicted_escape_step(1.0, 0.0, 1.5) is None


def test_records_and_json(point: Point) -> None:
    run = escape_run(point, factor=1.2, eps=1e-8, dps=30, stop_at_escape=True, every=5)
    n = run.steps_run + 1
    assert len(run.losses) == len(run.distances) == len(run.top_components) == n
    assert run.sharpness_steps[0] == 0 and all(s % 5 == 0 for s in run.sharpness_steps[:-1])
    # at the start (within 1e-8 of W*) the float64 full-Hessian sharpness agrees with the
    # certified oracle value at W* up to O(eps) (Lipschitz in the weights)
    assert run.sharpness_values[0] == pytest.approx(float(run.lambda_max_start), rel=1e-6)
    assert float(run.eta) * float(run.lambda_max_start) == pytest.approx(2.4, rel=1e-12)
    doc = run.to_json()
    assert set(doc) >= {
        "escaped", "escape_step", "predicted_escape_step", "lambda_max_start", "eta", "final",
        "outcome",
    }
    assert set(doc["final"]) == {"loss", "lambda_max", "eta_lambda_max"}
    assert isinstance(doc["lambda_max_start"], str) and isinstance(doc["eta"], str)


def test_given_direction_is_normalized(point: Point) -> None:
    d = np.zeros(point.num_params)
    d[0] = 3.0
    run = escape_run(point, factor=0.8, eps=1e-6, direction=d, every=1000)
    assert run.direction == "given"
    assert run.distances[0] == pytest.approx(1e-6, rel=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"factor": 0}, "factor must be > 0"),
        ({"eps": 0}, "eps must be >= 1e-300"),
        ({"factor": "abc"}, "must be numbers"),
        ({"dps": 5}, "dps must be between"),
        ({"steps": 0}, "steps must be >= 1"),
        ({"every": 0}, "every must be >= 1"),
        ({"delta": -1.0}, "delta must be > 0"),
        ({"direction": "sideways"}, "direction must be"),
        ({"direction": np.ones(3)}, "length P = 12"),
    ],
    ids=["factor0", "eps0", "factor-text", "dps5", "steps0", "every0", "delta-neg",
         "direction-name", "direction-length"],
)
def test_bad_options(point: Point, kwargs: dict, match: str) -> None:
    args = {"factor": 1.2, "eps": 1e-6, **kwargs}
    with pytest.raises(DmfError, match=match):
        escape_run(point, **args)


def test_zero_sharpness_is_refused() -> None:
    with pytest.raises(DmfError, match="positive sharpness"):
        escape_run(parse_point([[[0]], [[0]]]), factor=1.2, eps=1e-6)


def test_plots_are_png(point: Point, tmp_path) -> None:
    from numeric.dynamics.plots import plot_run, plot_sweep

    run = escape_run(point, factor=1.2, eps=1e-8, dps=30, steps=150, every=5)
    p1 = plot_run(run, tmp_path / "run.png")
    sweep = escape_sweep(point, factors=[0.8, 1.3], epss=["1e-8", "1e-16"], dps=30)
    p2 = plot_sweep(sweep, tmp_path / "sub" / "sweep.png")
    for p in (p1, p2):
        data = p.read_bytes()
        assert len(data) > 1000 and data.startswith(PNG_MAGIC)
    assert sorted(x.name for x in tmp_path.rglob("*") if x.is_file()) == ["run.png", "sweep.png"]


def test_escape_claim_verified_on_small_run() -> None:
    res = check_escape_claim(seed=0, cases=2, factors=(0.8, 1.5), dps=40, eps="1e-25")
    assert res.verdict == "verified", res.details
    assert res.cases == 2 and res.runs == 4 and res.claim == "escape"
    assert res.worst_relative_error is not None and res.worst_relative_error <= 0.10
    assert {d["status"] for d in res.details} == {"agrees"}
    json.dumps(res.to_json(), allow_nan=False)
    for d in res.details:  # W* exactly, and how lambda_max(W*) was obtained
        point = parse_point(d["weights"])
        assert list(point.dims) == d["dims"] and point.is_minimizer()
        assert d["lambda_max_start_method"].startswith(("certified", "approximate"))


def test_escape_claim_refuses_the_threshold_itself() -> None:
    with pytest.raises(DmfError, match="threshold"):
        check_escape_claim(seed=0, cases=1, factors=(1,))


def test_with_data_both_sides() -> None:
    point = parse_point(
        [[[1, "1/2"], [0, 1], [1, 1]], [[1, 0, "1/2"], [0, 1, 1]]], data=[[1, 0, 2], [0, 1, 1]]
    )
    assert point.is_minimizer()
    up = escape_run(point, factor=1.2, eps="1e-30", dps=50, stop_at_escape=True, every=1000)
    assert up.relative_step_error is not None and up.relative_step_error <= 0.10
    down = escape_run(point, factor=0.8, eps="1e-30", dps=50, every=1000)
    assert down.outcome == "converged" and down.distance_over_eps <= 1.5  # type: ignore[operator]
