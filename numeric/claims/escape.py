"""Checker of the ``escape`` claim: gradient descent next to a minimizer escapes when ``eta lambda_max > 2`` within 10% of the predicted step, and converges when ``eta lambda_max < 2``. The verdict is defined by measurement (docs/mathematics.md, How a verdict is reached): evidence ``approximate``, ``certified: false``.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from derivations.errors import DmfError
from derivations.exact import Point, parse_point
from numeric.claims.runner import CheckContext, ClaimOutcome, Counterexample
from numeric.dynamics.escape import (
    EscapeRun,
    Number,
    _float64_eigh,
    _num_str,
    _start_lambda_max,
    escape_run,
)
from numeric.evaluators.kinds import point_arrays

__all__ = [
    "ESCAPE_DPS",
    "ESCAPE_EPS",
    "ESCAPE_FACTORS",
    "ESCAPE_METHOD",
    "ESCAPE_TOLERANCE",
    "check_escape",
]

ESCAPE_FACTORS = (0.8, 1.25, 1.5)
ESCAPE_DPS = 60
ESCAPE_EPS = "1e-30"
ESCAPE_TOLERANCE = 0.10
ESCAPE_METHOD = (
    f"gradient descent in mpmath at {ESCAPE_DPS} digits from W* + eps D (eps = {ESCAPE_EPS}, D a "
    f"seeded random unit direction), eta = factor * 2 / lambda_max(W*) for factors "
    f"{', '.join(map(str, ESCAPE_FACTORS))}; lambda_max(W*) certified (numeric.sharpness, "
    "certify=True; numeric.dynamics.escape falls back to an uncertified value only if certification "
    "fails); escape steps measured, not certified"
)


def check_escape(ctx: CheckContext) -> ClaimOutcome:
    """The ``escape`` claim, decided by measurement (docs/mathematics.md, How a verdict is reached): verified when, over generated
    minimizers and factors on both sides of 1, the outcome matches the threshold and the escape
    steps match the prediction within 10% (``check_escape_claim``); refuted
    when a run contradicts it, inconclusive when a run is undecided. The evidence is measured,
    not proved: kind ``"approximate"`` (the report says ``certified: false``), see
    ``ESCAPE_METHOD``."""
    res = check_escape_claim(seed=ctx.seed, cases=ctx.cases, factors=ESCAPE_FACTORS,
                             dps=ESCAPE_DPS, eps=ESCAPE_EPS, tolerance=ESCAPE_TOLERANCE)
    methods = sorted({d["lambda_max_start_method"] for d in res.details
                      if d.get("lambda_max_start_method")})
    how = f"lambda_max(W*): {'; '.join(methods)}. " if methods else ""
    detail = (
        f"{res.summary}. Method: {ESCAPE_METHOD}. {how}Not certified: the trajectories are "
        "approximate (mpmath at fixed precision) and 'close to the predicted step' is a 10% "
        "tolerance."
    )
    if res.verdict == "verified":
        return ClaimOutcome("verified", res.cases, "approximate", detail)
    if res.verdict == "inconclusive":
        undecided = [_brief(d) for d in res.details if d["status"] == "inconclusive"][:2]
        return ClaimOutcome("inconclusive", res.cases, "approximate",
                            f"a run is undecided (step budget exhausted): {undecided}. {detail}")
    bad = [d for d in res.details if d["status"] == "contradicts"]
    cx = _escape_counterexample(bad[0])
    shown = [_brief(d) for d in bad[:2]]
    if cx is None:
        return ClaimOutcome(
            "inconclusive", res.cases, "approximate",
            f"check_escape_claim reports a contradiction ({shown}) but its minimizer could "
            f"not be reconstructed for the report. {detail}")
    return ClaimOutcome("refuted", res.cases, "approximate",
                        f"runs contradicting the claim: {shown}. {detail}", None, cx)


def _brief(run: dict[str, Any]) -> dict[str, Any]:
    """A run's details without the weights (the counterexample carries them)."""
    return {k: v for k, v in run.items() if k != "weights"}


def _escape_counterexample(run: dict[str, Any]) -> Counterexample | None:
    """The minimizer of a contradicting run, rebuilt exactly from the run's ``weights``
    (``check_escape_claim`` records them as ``"p/q"`` strings, with
    ``lambda_max_start_method``); ``None`` when they are missing or do not rebuild a
    minimizer of the run's dims."""
    if not run.get("weights"):
        return None
    point = parse_point(run["weights"])
    if list(point.dims) != list(run["dims"]) or not point.is_minimizer():
        return None
    how = run.get("lambda_max_start_method") or "method not recorded"
    steps = f"escape step {run['escape_step']} (outcome {run['outcome']})"
    if run["factor"] > 1:
        want = f"escape at about step {run['predicted_escape_step']:.1f} (within 10%)"
        gap = f"relative step error {run['relative_step_error']} (tolerance 10%)"
    else:
        want = "convergence within 10 eps of W*, no escape"
        gap = f"final distance / eps = {run['final_distance_over_eps']}"
    return Counterexample(
        list(point.weights), steps, want, f"{gap}; measured, not certified", "measured",
        "predicted", target=point.labels, shrunk=False,
        note=(f"factor {run['factor']}, eps {run['eps']}, lambda_max(W*) = "
              f"{run['lambda_max_start']} ({how}); {ESCAPE_METHOD}"),
    )

@dataclass(frozen=True)
class EscapeClaimResult:
    """The ``escape`` claim over generated minimizers and factors on both sides of 1."""

    claim: str
    verdict: Literal["verified", "refuted", "inconclusive"]
    cases: int
    runs: int
    worst_relative_error: float | None
    tolerance: float
    details: list[dict[str, Any]]
    summary: str
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "claim": self.claim,
            "verdict": self.verdict,
            "cases": self.cases,
            "runs": self.runs,
            "worst_relative_error": self.worst_relative_error,
            "tolerance": self.tolerance,
            "summary": self.summary,
            "details": self.details,
            "seconds": round(self.seconds, 3),
        }
_CLAIM_DIMS: tuple[tuple[int, ...], ...] = ((2, 2, 2), (2, 3, 2), (1, 2, 2), (2, 2, 2, 2), (2, 3, 3, 2))
_MAX_CONDITION = 100.0
_O_EPS_BOUND = 10.0


def check_escape_claim(
    *,
    seed: int,
    cases: int,
    factors: Sequence[float] = (0.8, 1.25, 1.5),
    dps: int = 60,
    eps: Number = "1e-30",
    delta: float = 1e-2,
    tolerance: float = 0.10,
) -> EscapeClaimResult:
    """Decide the docs/mathematics.md ``escape`` claim on ``cases`` generated minimizers.

    Each case is an exact minimizer ``W*`` (random small rational weights, target = their
    product; dims cycle through small shapes; drawn with Hessian condition number
    ``lambda_max / mu_min <= 100`` so that convergence below the threshold is decided within
    the step budget; ill-conditioned minimizers converge too, only slower), run at ``dps`` digits from
    ``W* + eps D`` (``D`` a seeded random unit direction) for every factor. A run agrees with the
    claim when: ``factor > 1`` and it escapes with ``|measured - predicted| <= tolerance *
    predicted``; ``factor < 1`` and it converges without escaping to a point within
    ``10 eps`` of ``W*``. Verdict: ``"refuted"`` if some run contradicts the claim,
    ``"inconclusive"`` if some run is undecided (budget exhausted), else ``"verified"``.
    Each run's details carry ``"weights"`` (the exact minimizer ``W*``, ``W_1`` first, entries
    as ``"p/q"`` strings; its target is their product) and ``"lambda_max_start_method"`` (how
    ``lambda_max(W*)`` was obtained: certified by the oracle, or the stated fallback), so a
    report can rebuild and re-check ``W*`` without this module's private generator.
    """
    if cases < 1 or not factors:
        raise DmfError(f"need cases >= 1 and at least one factor; got cases={cases}, {factors=}")
    if any(f == 1 for f in factors):
        raise DmfError("factor 1 is the threshold itself; the claim says nothing there")
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    details: list[dict[str, Any]] = []
    for c in range(cases):
        point = _random_minimizer(_CLAIM_DIMS[c % len(_CLAIM_DIMS)], rng)
        lam, lam_method = _start_lambda_max(point, dps, None)
        weights = [[[str(Fraction(x)) for x in row] for row in w] for w in point.weights]
        dseed = int(rng.integers(2**31))
        for f in factors:
            run = escape_run(
                point, factor=f, eps=eps, dps=dps, seed=dseed, delta=delta, every=10**9,
                stop_at_escape=True, lambda_max=lam,
            )
            details.append({**_judge(c, run, tolerance), "weights": weights,
                            "lambda_max_start_method": lam_method})
    return _claim_result(details, cases, tolerance, time.perf_counter() - t0)


def _random_minimizer(
    dims: tuple[int, ...], rng: np.random.Generator, *, max_condition: float = _MAX_CONDITION
) -> Point:
    """An exact minimizer: random weights with entries k/4, k in -4..4, target their product,
    redrawn until ``lambda_max / mu_min <= max_condition`` (``mu_min`` the smallest nonzero
    Hessian eigenvalue, float64): below the threshold GD needs about ``lambda_max / mu_min``
    steps to converge, so ill-conditioned minimizers would exhaust the step budget."""
    while True:
        ws = [
            [[Fraction(int(k), 4) for k in row] for row in rng.integers(-4, 5, size=(b, a))]
            for a, b in itertools.pairwise(dims)
        ]
        point = parse_point(ws)
        if any(x != 0 for x in point.labels.flat) and _condition(point) <= max_condition:
            return point


def _condition(point: Point) -> float:
    """``lambda_max / mu_min`` of the float64 Hessian at the point (``mu`` above 1e-9 lambda)."""
    vals, _ = _float64_eigh(*point_arrays(point, "float64"))
    nonzero = vals[vals > 1e-9 * abs(vals[-1])]
    return float(vals[-1] / nonzero[0]) if nonzero.size and vals[-1] > 0 else math.inf


def _judge(case: int, run: EscapeRun, tol: float) -> dict[str, Any]:
    err = run.relative_step_error
    if run.factor > 1:
        if run.outcome == "undecided":
            status = "inconclusive"
        else:
            status = "agrees" if run.escaped and err is not None and err <= tol else "contradicts"
    elif run.outcome == "undecided":
        status = "inconclusive"
    else:
        ratio = run.distance_over_eps
        ok = run.outcome == "converged" and ratio is not None and ratio <= _O_EPS_BOUND
        status = "agrees" if ok else "contradicts"
    return {
        "case": case, "dims": list(run.dims), "factor": run.factor, "eps": run.eps,
        "lambda_max_start": _num_str(run.lambda_max_start, 20), "outcome": run.outcome,
        "escape_step": run.escape_step, "predicted_escape_step": run.predicted_escape_step,
        "relative_step_error": err, "final_distance_over_eps": run.distance_over_eps,
        "status": status,
    }


def _claim_result(
    details: list[dict[str, Any]], cases: int, tol: float, seconds: float
) -> EscapeClaimResult:
    errs = [d["relative_step_error"] for d in details if d["relative_step_error"] is not None]
    worst = max(errs) if errs else None
    statuses = {d["status"] for d in details}
    if "contradicts" in statuses:
        verdict = "refuted"
    elif "inconclusive" in statuses:
        verdict = "inconclusive"
    else:
        verdict = "verified"
    bad = sum(d["status"] != "agrees" for d in details)
    summary = (
        f"{len(details)} runs on {cases} minimizers (Hessian condition <= {_MAX_CONDITION:g}): "
        f"{len(details) - bad} agree with the "
        f"threshold and the predicted escape step (worst relative error "
        f"{'n/a' if worst is None else f'{worst:.3%}'}, tolerance {tol:.0%})"
    )
    return EscapeClaimResult(
        claim="escape", verdict=verdict, cases=cases, runs=len(details),  # type: ignore[arg-type]
        worst_relative_error=worst, tolerance=tol, details=details, summary=summary,
        seconds=seconds,
    )
