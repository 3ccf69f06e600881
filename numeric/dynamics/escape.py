"""Gradient descent near a minimizer: escape above ``eta * lambda_max = 2``, convergence below.

Gradient descent
``theta <- theta - eta grad L(theta)`` on ``L = 1/2 ||W_L ... W_1 X - Y||_F^2`` starts at
``theta_0 = theta* + eps D`` (``theta*`` a minimizer, ``D`` a unit direction) with
``eta = factor * 2 / lambda_max(theta*)``. Linearizing, ``grad L(theta* + x) = H x + O(|x|^2)``
with ``H`` the Hessian at ``theta*``, so ``x_t ~ (I - eta H)^t x_0``: the component along the top
eigenvector is multiplied by ``1 - eta lambda_max = 1 - 2 factor`` at every step. Hence

* ``factor > 1``: that component grows like ``(2 factor - 1)^t`` and the distance reaches
  ``delta`` after about ``log(delta / eps_top) / log|1 - eta lambda_max|`` steps, where
  ``eps_top`` is the size of the start offset's component along the top eigenvector
  (:func:`predicted_escape_step`; Cohen et al., ICLR 2021, Sec. 2; Kamber & Parhi,
  arXiv:2509.25783, the escape experiments);
* ``factor < 1``: every non-flat component contracts and the iterates converge to a minimizer
  within ``O(eps)`` of ``theta*`` (the flat, zero-eigenvalue components of ``x_0`` stay).

The escape step is linear in ``log(1/eps)`` with slope ``1 / log(2 factor - 1)`` per natural log
(``log(10) / log(2 factor - 1)`` per decade): :func:`fit_escape_slope` fits it. Runs in
mpmath at ``dps`` digits reach ``eps`` far below float64's rounding of ``theta*`` (about
``1e-16 ||theta*||``); a float64 run started at ``eps = 1e-30`` starts *at* ``fl(theta*)``
and shows only what rounding does (:attr:`EscapeRun.offset_lost`).

Weight decay (``weight_decay=lam > 0``, docs/mathematics.md K8). GD runs on
``L_lam = L + (lam/2) sum_l ||W_l||_F^2`` from near a minimizer of ``L_lam`` (for a target, the
regularized global minimizer: :func:`numeric.dynamics.start.regularized_start`). Its Hessian is
``H_lam = H_0 + lam I`` (same eigenvectors, eigenvalues shifted by ``lam``), so everything above
holds with ``lambda_max = lambda_max(H_0 + lam I)``: ``eta = factor * 2 / lambda_max(H_lam)`` and
the top component is multiplied by ``1 - 2 factor`` per step. Since ``L_lam(theta*) > 0``, the
recorded loss is the excess ``L_lam(theta_t) - L_lam(theta*)`` (run arithmetic, so it bottoms out
near ``10^-dps L_lam(theta*)``) and convergence is judged on ``||grad L_lam||^2`` instead
(same tolerances). ``start_gradient_norm`` reports ``||grad L_lam(theta*)||`` (the start is a
rounding of an algebraic point). When ``theta* = 0`` (a collapsed minimizer) the escape radius
is ``delta`` itself (absolute). ``weight_decay=0`` is the plain loss, step for step.

Public:
    Direction              ``"random" | "top"`` or a given vector of length ``P``
    EscapeRun              one run: trajectory, outcome, measured vs predicted escape step
    SlopeFit               least-squares fit of escape step against ``log10(1/eps)``
    EscapeSweep            a ``factors x eps`` grid of runs with slope fits per factor
    escape_run(point, *, factor, eps, dps=None, weight_decay=0, ...)  one run (float64 if
                                                        ``dps`` is None)
    predicted_escape_step(delta_abs, eps_top, factor)   the linearized prediction
    fit_escape_slope(runs)                              slope of escape step vs log10(1/eps)
    escape_sweep(point, *, factors, epss, ...)          the grid

Conventions. Distances are Euclidean in parameter space (docs/mathematics.md parameter order). ``eps`` is
absolute (``||theta_0 - theta*|| = eps``); ``delta`` is *relative*: a run has escaped when
``||theta_t - theta*|| > delta * ||theta*||`` (``delta_abs``). The linearization holds while the
offset is small against ``theta*``, so ``delta`` around ``1e-2`` keeps the prediction within a
few percent; ``delta`` near 1 leaves the linear regime before the step is counted.

How each number is obtained. ``lambda_max(theta*)`` comes from the oracle
(:func:`numeric.sharpness.sharpness`, certified at ``max(dps, 30)`` digits); ``eta`` is
computed from it at the run's precision. The trajectory is approximate: float64 arithmetic, or
mpmath at ``dps`` digits, without error bounds. The top eigenvector of ``H(theta*)`` and the
sharpness along the trajectory are approximate: the dense full Hessian
(:func:`numeric.hessian.full_hessian`) in float64 with ``numpy.linalg.eigh``. A float64
eigenvector is enough even at ``eps = 1e-40``: it only enters through ``eps_top`` and the
component ``<theta_t - theta*, v>``, both to relative accuracy ``~1e-15``.

>>> from derivations.exact import parse_point
>>> pt = parse_point([[[1]], [[1]]])           # W* = (1, 1), M = 1: lambda_max = 2
>>> run = escape_run(pt, factor=1.5, eps=1e-12, dps=30, direction="top", stop_at_escape=True)
>>> # predicted: log(1e-2 * ||(1, 1)|| / 1e-12) / log|1 - 3| = 33.72
>>> run.outcome, run.escape_step, round(run.predicted_escape_step, 2)
('escaped', 34, 33.72)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import mpmath
import numpy as np

from derivations.errors import DmfError
from derivations.exact import Point, parse_entry
from numeric.dynamics.start import _float64_eigh, _start_lambda_max
from numeric.evaluators.kinds import point_arrays
from numeric.evaluators.threads import blas_threads
from numeric.loss import flatten, gradient, loss, unflatten
from numeric.regularized import regularized_gradient
from numeric.result import parse_weight_decay

__all__ = [
    "Direction",
    "EscapeRun",
    "EscapeSweep",
    "Number",
    "SlopeFit",
    "escape_run",
    "escape_sweep",
    "fit_escape_slope",
    "predicted_escape_step",
]

Direction = Literal["random", "top"] | np.ndarray
Number = float | str | Fraction

_FLOAT64_DIGITS = 15
_CONVERGED_RTOL = 1e-12
"""Converged when the loss falls below this fraction of the largest loss seen (amplitude 1e-6)."""
_FLOOR_PATIENCE = 200
"""Or converged when the loss stays at the rounding floor of the arithmetic this many steps
(a start below the rounding of theta* may still drift away on rounding noise: wait for it)."""
_DIVERGED_LOSS = 1e20
"""Diverged when the loss exceeds this times ``max(1, ||Y||_F^2)``."""
_TOP_RTOL = 1e-8
"""Eigenvalues within this relative distance of lambda_max span the 'top eigenspace'."""


@dataclass(frozen=True)
class EscapeRun:
    """One gradient-descent run started near ``theta*`` (see the module docstring).

    ``outcome`` is ``"escaped"`` (distance beyond ``delta_abs`` and no divergence),
    ``"converged"`` (loss fell below the tolerance before escaping), ``"diverged"`` (overflow,
    NaN or a huge loss; ``escaped`` says whether it left the neighbourhood first) or
    ``"undecided"`` (step budget exhausted). ``after_escape`` tells where an escaped run went
    when it was continued: ``"converged"`` (to another minimizer, see ``final_lambda_max``),
    ``"diverged"``, ``"oscillating"`` (the loss repeats with period 1, 2 or 4 at the end of the
    budget; a note gives the period), ``"undecided"``, or ``None`` (stopped at the escape or
    never escaped).
    Per-step lists hold float approximations (values below ~1e-308 show as 0.0).
    ``weight_decay`` is ``lam`` as an exact string (``"0"``: the plain loss); with ``lam > 0``
    the losses are the excess ``L_lam(theta_t) - L_lam(theta*)`` and ``start_gradient_norm`` is
    ``||grad L_lam(theta*)||`` (approximate, mpmath 20 digits beyond the run's and the weights').
    """

    dims: tuple[int, ...]
    kind: Literal["float64", "mpmath"]
    dps: int | None
    factor: float
    eps: str
    delta: float
    delta_abs: float
    direction: str
    lambda_max_start: Any
    lambda_max_method: str
    eta: Any
    growth: float
    eps_top: float
    eps_top_stored: float
    start_offset: float
    offset_lost: bool
    predicted_escape_step: float | None
    outcome: Literal["escaped", "converged", "diverged", "undecided"]
    escaped: bool
    escape_step: int | None
    after_escape: str | None
    steps_run: int
    converged_step: int | None
    diverged_step: int | None
    divergence_reason: str | None
    losses: list[float]
    distances: list[float]
    top_components: list[float]
    sharpness_steps: list[int]
    sharpness_values: list[float]
    final_loss: float
    final_distance: float
    final_lambda_max: float | None
    final_eta_lambda_max: float | None
    seconds: float
    notes: tuple[str, ...] = field(default=())
    weight_decay: str = "0"
    start_gradient_norm: float | None = None

    @property
    def relative_step_error(self) -> float | None:
        """``|measured - predicted| / predicted`` for an escaped run, else ``None``."""
        if self.escape_step is None or not self.predicted_escape_step:
            return None
        return abs(self.escape_step - self.predicted_escape_step) / self.predicted_escape_step

    @property
    def distance_over_eps(self) -> float | None:
        """``||theta_final - theta*|| / eps`` (``O(1)`` when GD converged near ``theta*``)."""
        e = float(self.eps)
        return None if e == 0 else self.final_distance / e

    def to_json(self) -> dict[str, Any]:
        """The ``dmf-sharpness escape --json`` document plus a ``details`` object."""
        return {
            "escaped": self.escaped,
            "escape_step": self.escape_step,
            "predicted_escape_step": self.predicted_escape_step,
            "lambda_max_start": _num_str(self.lambda_max_start, self.dps),
            "eta": _num_str(self.eta, self.dps),
            "final": {
                "loss": _finite_or_none(self.final_loss),
                "lambda_max": _finite_or_none(self.final_lambda_max),
                "eta_lambda_max": _finite_or_none(self.final_eta_lambda_max),
            },
            "outcome": self.outcome,
            "details": {
                "weight_decay": self.weight_decay,
                "dims": list(self.dims),
                "arithmetic": "float64" if self.dps is None else f"mpmath dps={self.dps}",
                "factor": self.factor,
                "eps": self.eps,
                "eps_top": self.eps_top,
                "eps_top_stored": self.eps_top_stored,
                "start_offset_stored": self.start_offset,
                "offset_lost": self.offset_lost,
                "delta_relative": self.delta,
                "delta_abs": self.delta_abs,
                "direction": self.direction,
                "growth_per_step": self.growth,
                "relative_step_error": self.relative_step_error,
                "after_escape": self.after_escape,
                "steps_run": self.steps_run,
                "converged_step": self.converged_step,
                "diverged_step": self.diverged_step,
                "divergence_reason": self.divergence_reason,
                "final_distance": _finite_or_none(self.final_distance),
                "final_distance_over_eps": _finite_or_none(self.distance_over_eps),
                "lambda_max_start_method": self.lambda_max_method,
                "trajectory_method": (
                    "approximate: float64 arithmetic" if self.dps is None
                    else f"approximate: mpmath at {self.dps} digits"
                ),
                "sharpness_method": (
                    "approximate: float64 dense full Hessian, numpy.linalg.eigvalsh"
                    + ("" if self.weight_decay == "0" else ", plus lam (H_0 + lam I)")
                ),
                "loss_convention": (
                    "1/2 ||W_L...W_1 X - Y||_F^2" if self.weight_decay == "0" else
                    "excess L_lam(theta) - L_lam(theta*), L_lam = 1/2 ||W_L...W_1 X - Y||_F^2 + "
                    "(lam/2) sum_l ||W_l||_F^2"
                ),
                "start_gradient_norm": self.start_gradient_norm,
                "seconds": round(self.seconds, 3),
                "notes": list(self.notes),
            },
        }


@dataclass(frozen=True)
class SlopeFit:
    """Least-squares line ``escape_step = intercept + slope * log10(1/eps)`` over escaped runs.

    ``predicted_slope = log(10) / log|1 - eta lambda_max|`` (steps per decade of ``eps``).
    """

    factor: float
    slope: float
    intercept: float
    predicted_slope: float
    relative_error: float
    points: int


@dataclass(frozen=True)
class EscapeSweep:
    """Runs over ``factors x epss`` (``runs[i][j]`` for ``factors[i]``, ``epss[j]``)."""

    factors: tuple[float, ...]
    epss: tuple[str, ...]
    runs: tuple[tuple[EscapeRun, ...], ...]
    fits: tuple[SlopeFit, ...]
    seconds: float
    weight_decay: str = "0"

    def to_json(self) -> dict[str, Any]:
        return {
            "weight_decay": self.weight_decay,
            "factors": list(self.factors),
            "eps": list(self.epss),
            "runs": [
                {
                    "factor": r.factor,
                    "eps": r.eps,
                    "outcome": r.outcome,
                    "escape_step": r.escape_step,
                    "predicted_escape_step": r.predicted_escape_step,
                    "relative_step_error": r.relative_step_error,
                    "final_distance_over_eps": _finite_or_none(r.distance_over_eps),
                }
                for row in self.runs
                for r in row
            ],
            "slope_fits": [
                {
                    "factor": f.factor,
                    "slope_steps_per_decade": f.slope,
                    "predicted_slope": f.predicted_slope,
                    "relative_error": f.relative_error,
                    "points": f.points,
                }
                for f in self.fits
            ],
            "seconds": round(self.seconds, 3),
        }


# ----------------------------------------------------------------------------- prediction


def predicted_escape_step(delta_abs: float, eps_top: float, factor: float) -> float | None:
    """``log(delta_abs / eps_top) / log|1 - eta lambda_max|`` with ``eta lambda_max = 2 factor``.

    ``None`` when no escape is predicted (``factor <= 1``) or ``eps_top = 0``.

    >>> round(predicted_escape_step(1e-2, 1e-30, 1.5), 3)   # log(1e28) / log 2
    93.014
    >>> predicted_escape_step(1e-2, 1e-30, 0.9) is None
    True
    """
    growth = abs(1 - 2 * factor)
    if growth <= 1 or eps_top <= 0:
        return None
    return math.log(delta_abs / eps_top) / math.log(growth)


def fit_escape_slope(runs: Sequence[EscapeRun]) -> SlopeFit | None:
    """Fit ``escape_step = a + b log10(1/eps)`` over the escaped runs (same factor) by least
    squares; ``None`` with fewer than two distinct ``eps``. Predicted ``b = log 10 / log(2f-1)``.
    """
    pts = [(-math.log10(float(r.eps)), r.escape_step) for r in runs if r.escape_step is not None]
    if len({x for x, _ in pts}) < 2:
        return None
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts], dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    factor = runs[0].factor
    predicted = math.log(10) / math.log(abs(1 - 2 * factor))
    return SlopeFit(
        factor=factor,
        slope=float(slope),
        intercept=float(intercept),
        predicted_slope=predicted,
        relative_error=abs(float(slope) - predicted) / predicted,
        points=len(pts),
    )


# ----------------------------------------------------------------------------- one run


@dataclass
class _Setup:
    """Everything fixed before the first step, in the run's arithmetic."""

    dims: tuple[int, ...]
    data: np.ndarray | None
    labels: np.ndarray
    theta_star: np.ndarray
    theta0: np.ndarray
    top: np.ndarray  # columns: orthonormal basis of the top eigenspace (run arithmetic)
    eta: Any
    lam: Any
    lam_method: str
    delta_abs: Any
    eps_top: float  # intended: eps * |top-space component of D| (float64, before rounding)
    contraction: float  # below threshold: max |1 - eta mu| over the nonzero Hessian eigenvalues
    data64: np.ndarray | None
    labels64: np.ndarray
    notes: list[str]
    wd: Fraction = Fraction(0)  # weight decay lam, exact
    wd_run: Any = 0.0  # lam in the run's arithmetic
    loss_star: Any = 0.0  # L_lam(theta*) in the run's arithmetic (lam > 0)
    grad_scale: float = 1.0  # size of the gradient's terms (lam > 0: its rounding floor)
    start_gradient_norm: float | None = None


def escape_run(
    point: Point,
    *,
    factor: Number,
    eps: Number,
    dps: int | None = None,
    direction: Direction = "random",
    seed: int = 0,
    delta: float = 1e-2,
    steps: int | None = None,
    every: int = 10,
    stop_at_escape: bool = False,
    lambda_max: Any = None,
    progress: Callable[[int], None] | None = None,
    weight_decay: Any = 0,
) -> EscapeRun:
    """Run gradient descent from ``theta* + eps D`` with ``eta = factor * 2 / lambda_max``.

    ``point`` is the minimizer ``W*`` (an exact :class:`~derivations.exact.Point`; when it is
    not an exact minimizer its residual drives the run too, and a note says so). ``dps=None``
    runs in float64, an int runs in mpmath at that many digits (inside ``mpmath.workdps``).
    ``direction``: ``"random"`` (a seeded Gaussian direction, normalized), ``"top"`` (the top
    Hessian eigenvector at ``theta*``) or a vector of length ``P``. ``steps=None`` picks a
    budget from the prediction. ``every``: record the sharpness every that many steps.
    ``stop_at_escape`` ends the run at the escape step (sweeps do); otherwise it continues to
    see where GD goes. ``lambda_max`` overrides the oracle (a number, assumed exact; with
    weight decay it must be that of ``H_0 + lam I``). ``weight_decay=lam`` (exact, ``>= 0``):
    GD on ``L_lam`` with ``eta = factor * 2 / lambda_max(H_0 + lam I)``; ``point`` should then
    be a minimizer of ``L_lam`` (its labels the target ``M``;
    :func:`numeric.dynamics.start.regularized_start`), see the module docstring.
    """
    _check_options(factor=factor, eps=eps, dps=dps, delta=delta, steps=steps, every=every)
    wd = parse_weight_decay(weight_decay)
    f = float(Fraction(str(factor)) if isinstance(factor, str) else factor)
    t0 = time.perf_counter()
    # BLAS threads by size (numeric.evaluators.threads): the dense eigh of the P x P Hessian works in
    # 2 P^2-flop matrix-vector products, the steps in smaller ones
    work = 2.0 * float(point.num_params) ** 2
    with mpmath.workdps(dps if dps is not None else 15), blas_threads(work):
        setup = _setup(point, f, eps, dps, direction, seed, delta, lambda_max, wd)
        pred = predicted_escape_step(float(setup.delta_abs), setup.eps_top, f)
        budget = steps if steps is not None else _default_budget(
            pred, stop_at_escape, setup.contraction
        )
        trace = _Trace(setup, digits=dps or _FLOAT64_DIGITS)
        trace.run(budget, every=every, stop_at_escape=stop_at_escape, progress=progress)
    return _finish(setup, trace, f, eps, dps, delta, direction, pred, time.perf_counter() - t0)


def _check_options(
    *, factor: Number, eps: Number, dps: int | None, delta: float, steps: int | None, every: int
) -> None:
    try:
        f = float(Fraction(str(factor)))
        e = float(Fraction(str(eps)))
    except (ValueError, ZeroDivisionError) as exc:
        raise DmfError(f"factor={factor!r} and eps={eps!r} must be numbers like 1.05, 1e-30") from exc
    if not f > 0:
        raise DmfError(f"factor must be > 0 (eta = factor * 2 / lambda_max); got {factor!r}")
    if not 1e-300 <= e:
        raise DmfError(
            f"eps must be >= 1e-300 (the start is theta* + eps D; records are floats); got {eps!r}"
        )
    if dps is not None and not 15 <= dps <= 10_000:
        raise DmfError(f"dps must be between 15 and 10000 decimal digits (or None); got {dps}")
    if not 0 < delta:
        raise DmfError(f"delta must be > 0 (relative to ||theta*||); got {delta}")
    if steps is not None and steps < 1:
        raise DmfError(f"steps must be >= 1; got {steps}")
    if every < 1:
        raise DmfError(f"every must be >= 1 (record the sharpness every k steps); got {every}")


_MAX_DEFAULT_STEPS = 20_000


def _default_budget(pred: float | None, stop_at_escape: bool, contraction: float) -> int:
    """Steps: 1.5x the predicted escape step (+2000 to follow GD after it, when continuing);
    below the threshold twice the steps the slowest nonzero mode ``|1 - eta mu|^t`` needs to
    shrink by 1e-7 (the loss tolerance is 1e-12 of its peak), capped at 20000."""
    if pred is not None:
        return int(1.5 * pred) + 50 if stop_at_escape else int(2 * pred) + 2000
    if not 0 < contraction < 1:
        return _MAX_DEFAULT_STEPS
    needed = math.log(1e-7) / math.log(contraction)
    return int(min(max(2 * needed + 100, 200), _MAX_DEFAULT_STEPS))


def _contraction(vals: np.ndarray, eta: float) -> float:
    """``max |1 - eta mu|`` over the eigenvalues ``mu`` of ``H(theta*)`` that are not ~0."""
    nonzero = vals[np.abs(vals) > 1e-9 * abs(vals[-1])]
    return float(np.max(np.abs(1 - eta * nonzero))) if nonzero.size else 1.0


def _scalar(x: Number, dps: int | None) -> Any:
    """A number in the run's arithmetic (call inside the run's ``workdps``)."""
    if dps is None:
        return float(Fraction(str(x))) if isinstance(x, str) else float(x)
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    return mpmath.mpf(x)  # str parsed at the current precision; float taken exactly


def _setup(
    point: Point, f: float, eps: Number, dps: int | None, direction: Direction, seed: int,
    delta: float, lambda_max: Any, wd: Fraction = Fraction(0),
) -> _Setup:
    weights, data, labels = point_arrays(point, "float64" if dps is None else "mpmath", dps)
    w64, data64, labels64 = point_arrays(point, "float64")
    theta_star = flatten(weights)
    vals, vecs = _float64_eigh(w64, data64, labels64, float(wd))
    lam, lam_method = _start_lambda_max(point, dps, lambda_max, wd)
    notes = _start_notes(point, vals, lam, wd)
    top64 = vecs[:, vals >= vals[-1] - _TOP_RTOL * abs(vals[-1])]
    d64 = _direction(direction, vecs[:, -1], theta_star.size, seed)
    d64 = d64 / np.linalg.norm(d64)
    eps_top = float(Fraction(str(eps))) * float(np.linalg.norm(top64.T @ d64))
    conv = (lambda a: a) if dps is None else _to_mpf_array
    d = conv(d64)
    d = d / _norm(d)
    theta0 = theta_star + d * _scalar(eps, dps)
    eta = _scalar(Fraction(f).limit_denominator(10**12), dps) * 2 / _scalar(parse_entry(lam, "lambda_max(W*)"), dps)
    delta_abs = _scalar(delta, dps) * _norm(theta_star)
    if wd != 0 and not delta_abs > 0:
        delta_abs = _scalar(delta, dps)
        notes.append(f"theta* = 0 (collapsed minimizer): the escape radius is delta = {delta:g} "
                     "itself (absolute)")
    setup = _Setup(
        dims=point.dims, data=data, labels=labels, theta_star=theta_star, theta0=theta0,
        top=conv(top64), eta=eta, lam=lam, lam_method=lam_method, delta_abs=delta_abs,
        eps_top=eps_top, contraction=_contraction(vals, float(eta)),
        data64=data64, labels64=labels64, notes=notes,
    )
    if wd != 0:
        _decay_setup(setup, point, wd, dps)
    return setup


def _decay_setup(s: _Setup, point: Point, wd: Fraction, dps: int | None) -> None:
    """The weight-decay parts of the setup: ``lam``, ``L_lam(theta*)`` in run arithmetic, the
    gradient's scale, ``||grad L_lam(theta*)||`` (:func:`_gradient_digits`)."""
    from numeric.dynamics.start import start_gradient_norm

    s.wd, s.wd_run = wd, _scalar(wd, dps)
    ws = unflatten(s.theta_star, s.dims)
    s.loss_star = _decay_loss(ws, s, subtract=False)
    size = float(_norm(s.theta_star))
    s.grad_scale = (max(1.0, float(_norm(s.labels.ravel()))) * max(1.0, size) ** (len(s.dims) - 2)
                    + float(wd) * size)
    digits = _gradient_digits(point, dps)
    s.start_gradient_norm = start_gradient_norm(point, wd, digits=digits)
    s.notes.append(
        f"weight decay lam = {wd}: GD on L_lam, lambda_max of H_0 + lam I; ||grad L_lam(theta*)|| "
        f"= {s.start_gradient_norm:.3g} at the start minimizer (approximate: mpmath at {digits} "
        "digits)"
    )


def _gradient_digits(point: Point, dps: int | None) -> int:
    """Digits for ``||grad L_lam(theta*)||``: 20 beyond both the run's and those of the exact
    rational weights (their rounding of an algebraic minimizer must show), at most 2000."""
    size = max((len(str(Fraction(x).denominator)) for w in point.weights for x in w.flat),
               default=1)
    return min(max(dps or 15, size) + 20, 2000)


def _decay_loss(ws: Sequence[np.ndarray], s: _Setup, *, subtract: bool = True) -> Any:
    """``L_lam(W) = L(W) + (lam/2) sum_l ||W_l||_F^2`` (minus ``L_lam(theta*)`` by default)."""
    sq = sum((x * x for w in ws for x in w.flat), start=0 * ws[0].flat[0])
    out = loss(ws, s.data, s.labels) + s.wd_run * sq / 2
    return out - s.loss_star if subtract else out


def _to_mpf_array(a: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape, dtype=object)
    for idx, x in np.ndenumerate(a):
        out[idx] = mpmath.mpf(float(x))
    return out


def _sqnorm(v: np.ndarray) -> Any:
    if v.dtype == object:
        return mpmath.fsum(x * x for x in v)
    return float(np.dot(v, v))


def _norm(v: np.ndarray) -> Any:
    if v.dtype == object:
        return mpmath.sqrt(mpmath.fsum(x * x for x in v))
    return float(np.sqrt(np.dot(v, v)))


def _start_notes(point: Point, vals: np.ndarray, lam: Any, wd: Fraction) -> list[str]:
    notes = []
    if wd == 0 and not point.is_minimizer():
        notes.append("W* is not an exact minimizer (R X^T != 0): its gradient drives the run too")
    if abs(vals[-1] - float(lam)) > 1e-8 * abs(float(lam)):
        notes.append(
            f"float64 dense Hessian gives lambda_max {vals[-1]:.12g}, oracle {float(lam):.12g}"
        )
    return notes


def _direction(direction: Direction, top: np.ndarray, size: int, seed: int) -> np.ndarray:
    if isinstance(direction, str):
        if direction == "top":
            return top.copy()
        if direction == "random":
            return np.random.default_rng(seed).standard_normal(size)
        raise DmfError(f"direction must be 'random', 'top' or a vector; got {direction!r}")
    d = np.asarray(direction, dtype=np.float64).ravel()
    if d.size != size or not np.all(np.isfinite(d)) or not np.any(d):
        raise DmfError(
            f"the given direction must be a finite nonzero vector of length P = {size} "
            f"(docs/mathematics.md parameter order); got {d.size} entries"
        )
    return d


def _eps_top(setup: _Setup, theta: np.ndarray) -> float:
    """Size of the component of ``theta - theta*`` in the top eigenspace (float)."""
    c = (theta - setup.theta_star) @ setup.top
    return float(_norm(np.asarray(c, dtype=setup.top.dtype)))


class _Trace:
    """The descent loop and its records."""

    def __init__(self, setup: _Setup, *, digits: int) -> None:
        self.s = setup
        self.theta = setup.theta0
        scale = max(1.0, float(_norm(setup.labels.ravel())))
        self.floor = 0.5 * (scale * 10.0 ** (-(digits - 2))) ** 2
        self.huge = _DIVERGED_LOSS * scale**2
        self.losses: list[float] = []
        self.distances: list[float] = []
        self.top_components: list[float] = []
        self.sharp_steps: list[int] = []
        self.sharp_values: list[float] = []
        self.escape_step: int | None = None
        self.converged_step: int | None = None
        self.diverged_step: int | None = None
        self.reason: str | None = None
        self.peak = 0.0
        self.at_floor = 0
        self.grad_floor = (setup.grad_scale * 10.0 ** (-(digits - 2))) ** 2

    def run(
        self, steps: int, *, every: int, stop_at_escape: bool,
        progress: Callable[[int], None] | None,
    ) -> None:
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            for t in range(steps + 1):
                try:
                    if self._step(t, every, stop_at_escape, last=t == steps):
                        return
                except (FloatingPointError, OverflowError, ZeroDivisionError) as exc:
                    self.diverged_step, self.reason = t, f"{type(exc).__name__}: {exc}"
                    return
                if progress is not None:
                    progress(t)

    def _step(self, t: int, every: int, stop_at_escape: bool, *, last: bool) -> bool:
        """One step. Convergence is judged on the loss (plain) or, under weight decay, on
        ``||grad L_lam||^2`` (same tolerances), where the loss recorded is the excess over
        ``L_lam(theta*)``."""
        s = self.s
        ws = unflatten(self.theta, s.dims)
        g: np.ndarray | None = None
        if s.wd != 0:
            lv = _decay_loss(ws, s)
            g = flatten(regularized_gradient(ws, s.labels, s.wd_run, data=s.data))
            measure, floor = float(_sqnorm(g)), self.grad_floor
        else:
            lv = loss(ws, s.data, s.labels)
            measure, floor = float(lv), self.floor
        off = self.theta - s.theta_star
        dist = _norm(off)
        self.losses.append(float(lv))
        self.distances.append(float(dist))
        self.top_components.append(float((off @ s.top)[0]))
        if not (math.isfinite(float(lv)) and math.isfinite(float(dist))) or float(lv) > self.huge:
            self.diverged_step = t
            self.reason = f"loss {float(lv):.3g} exceeded {self.huge:.3g} (or is not finite)"
            return True
        if self.escape_step is None and dist > s.delta_abs:
            self.escape_step = t
            if stop_at_escape:
                self._record_sharpness(t, ws)
                return True
        self.peak = max(self.peak, measure)
        self.at_floor = self.at_floor + 1 if measure <= floor else 0
        if measure <= _CONVERGED_RTOL * self.peak or self.at_floor > _FLOOR_PATIENCE:
            self.converged_step = t
            self._record_sharpness(t, ws)
            return True
        if t % every == 0 or last:
            self._record_sharpness(t, ws)
        if last:
            return True
        if g is None:
            g = flatten(gradient(ws, s.data, s.labels))
        self.theta = self.theta - g * s.eta  # array first: mpf * ndarray is slow
        return False

    def _record_sharpness(self, t: int, ws: Sequence[np.ndarray]) -> None:
        value = _float64_sharpness(ws, self.s.data64, self.s.labels64)
        if value is not None:
            self.sharp_steps.append(t)
            self.sharp_values.append(value + float(self.s.wd))


def _float64_sharpness(
    ws: Sequence[np.ndarray], data64: np.ndarray | None, labels64: np.ndarray
) -> float | None:
    """Approximate ``lambda_max`` of the full Hessian at a point (float64 dense, eigvalsh);
    ``None`` when float64 overflows there."""
    from numeric.hessian import full_hessian

    w64 = [np.array([[float(x) for x in row] for row in w], dtype=np.float64) for w in ws]
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            if not all(np.all(np.isfinite(w)) for w in w64):
                return None
            h = np.asarray(full_hessian(w64, data64, labels64), dtype=np.float64)
            if not np.all(np.isfinite(h)):
                return None
            return float(np.linalg.eigvalsh((h + h.T) / 2)[-1])
    except (FloatingPointError, OverflowError, np.linalg.LinAlgError):
        return None


def _finish(
    s: _Setup, tr: _Trace, f: float, eps: Number, dps: int | None, delta: float,
    direction: Direction, pred: float | None, seconds: float,
) -> EscapeRun:
    escaped = tr.escape_step is not None
    if tr.diverged_step is not None:
        outcome = "diverged"
    elif escaped:
        outcome = "escaped"
    elif tr.converged_step is not None:
        outcome = "converged"
    else:
        outcome = "undecided"
    after = None
    if escaped and (tr.diverged_step is not None or tr.converged_step is not None):
        after = "diverged" if tr.diverged_step is not None else "converged"
    elif escaped and len(tr.losses) - 1 > tr.escape_step:  # type: ignore[operator]
        period = _loss_period(tr.losses)
        after = "undecided" if period is None else "oscillating"
        if period is not None:
            tail = ", ".join(f"{x:.6g}" for x in tr.losses[-period:])
            s.notes.append(
                f"after escaping, GD settled on a period-{period} orbit (losses {tail}), "
                "neither converging nor diverging"
            )
    final_lam = None
    if tr.diverged_step is None:
        final_lam = _float64_sharpness(unflatten(tr.theta, s.dims), s.data64, s.labels64)
        final_lam = None if final_lam is None else final_lam + float(s.wd)
    eta_f = float(s.eta)
    notes = list(s.notes)
    with mpmath.workdps(dps or 15):
        eps_top_stored = _eps_top(s, s.theta0)
        start_offset = float(_norm(s.theta0 - s.theta_star))
    eps_f = float(Fraction(str(eps)))
    lost = abs(start_offset - eps_f) > 0.5 * eps_f or (
        abs(eps_top_stored - s.eps_top) > 0.5 * s.eps_top
    )
    if lost:
        notes.append(
            f"the perturbation eps = {eps} is below the rounding of theta* in "
            f"{'float64' if dps is None else f'{dps} digits'}: the stored start offset is "
            f"{start_offset:.3g} (top component {eps_top_stored:.3g}, intended {s.eps_top:.3g}); "
            "the run shows what rounding does, not what eps does"
        )
    return EscapeRun(
        dims=s.dims, kind="float64" if dps is None else "mpmath", dps=dps, factor=f,
        eps=str(eps), delta=delta, delta_abs=float(s.delta_abs),
        direction=direction if isinstance(direction, str) else "given",
        lambda_max_start=s.lam, lambda_max_method=s.lam_method, eta=s.eta,
        growth=abs(1 - 2 * f), eps_top=s.eps_top, eps_top_stored=eps_top_stored,
        start_offset=start_offset, offset_lost=lost,
        predicted_escape_step=pred, outcome=outcome, escaped=escaped,  # type: ignore[arg-type]
        escape_step=tr.escape_step, after_escape=after, steps_run=len(tr.losses) - 1,
        converged_step=tr.converged_step, diverged_step=tr.diverged_step,
        divergence_reason=tr.reason, losses=tr.losses, distances=tr.distances,
        top_components=tr.top_components, sharpness_steps=tr.sharp_steps,
        sharpness_values=tr.sharp_values, final_loss=tr.losses[-1],
        final_distance=tr.distances[-1], final_lambda_max=final_lam,
        final_eta_lambda_max=None if final_lam is None else eta_f * final_lam,
        seconds=seconds, notes=tuple(notes), weight_decay=str(s.wd),
        start_gradient_norm=s.start_gradient_norm,
    )


def _loss_period(losses: list[float], *, window: int = 8, rtol: float = 1e-9) -> int | None:
    """The smallest ``p in (1, 2, 4)`` with ``loss[t] = loss[t - p]`` (relative ``rtol``) over the
    last ``window`` steps, for a run that ended without converging; else ``None``."""
    if len(losses) < window + 4:
        return None
    tail = losses[-(window + 4):]
    for p in (1, 2, 4):
        if all(abs(tail[i] - tail[i - p]) <= rtol * abs(tail[i]) for i in range(4, len(tail))):
            return p
    return None


def _num_str(x: Any, dps: int | None) -> str:
    if isinstance(x, float):
        return repr(x)
    with mpmath.workdps(dps or 17):
        return mpmath.nstr(mpmath.mpf(x), dps or 17)


def _finite_or_none(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


# ----------------------------------------------------------------------------- grids, claim


def escape_sweep(
    point: Point,
    *,
    factors: Sequence[float],
    epss: Sequence[Number],
    dps: int | None = 60,
    direction: Direction = "random",
    seed: int = 0,
    delta: float = 1e-2,
    steps: int | None = None,
    progress: Callable[[int], None] | None = None,
    weight_decay: Any = 0,
) -> EscapeSweep:
    """Runs over ``factors x epss`` (stopping at the escape) with the same seeded direction,
    and a slope fit per factor > 1 (:func:`fit_escape_slope`). ``lambda_max(theta*)`` (of
    ``H_0 + lam I`` with ``weight_decay=lam``) is obtained once from the oracle."""
    t0 = time.perf_counter()
    wd = parse_weight_decay(weight_decay)
    lam, _ = _start_lambda_max(point, dps, None, wd)
    rows = []
    for f in factors:
        rows.append(tuple(
            escape_run(
                point, factor=f, eps=e, dps=dps, direction=direction, seed=seed, delta=delta,
                steps=steps, every=10**9, stop_at_escape=True, lambda_max=lam, progress=progress,
                weight_decay=wd,
            )
            for e in epss
        ))
    fits = tuple(fit for row in rows if (fit := fit_escape_slope(row)) is not None)
    return EscapeSweep(
        factors=tuple(float(f) for f in factors), epss=tuple(str(e) for e in epss),
        runs=tuple(rows), fits=fits, seconds=time.perf_counter() - t0, weight_decay=str(wd),
    )


"""Generated cases have ``lambda_max / mu_min`` at most this (see ``_random_minimizer``)."""
"""Below the threshold the limit must lie within this many ``eps`` of ``theta*``."""
