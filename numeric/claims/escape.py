"""Checker of the ``escape`` claim: gradient descent next to a minimizer escapes when ``eta lambda_max > 2`` within 10% of the predicted step, and converges when ``eta lambda_max < 2``. The verdict is defined by measurement (docs/mathematics.md, How a verdict is reached): evidence ``approximate``, ``certified: false``.
"""

from __future__ import annotations

from typing import Any

from derivations.exact import parse_point
from numeric.claims.runner import CheckContext, ClaimOutcome, Counterexample

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
    """The ``escape`` claim, decided as issue 5 defines it: verified when, over generated
    minimizers and factors on both sides of 1, the outcome matches the threshold and the escape
    steps match the prediction within 10% (``numeric.dynamics.escape.check_escape_claim``); refuted
    when a run contradicts it, inconclusive when a run is undecided. The evidence is measured,
    not proved: kind ``"approximate"`` (the report says ``certified: false``), see
    ``ESCAPE_METHOD``."""
    try:
        from numeric.dynamics.escape import check_escape_claim
    except ImportError:
        return ClaimOutcome("inconclusive", 0, "none", "numeric.dynamics.escape is not available")
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
    (``numeric.dynamics.escape.check_escape_claim`` records them as ``"p/q"`` strings, with
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
