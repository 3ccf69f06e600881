"""Framework-neutral conformance checking: run a user's sharpness function on cases and compare
each value with the certified sharpness.

Public:
    CaseReport, ConformanceReport    what a ``check_implementation`` returns (one row per case)
    Case                             one case: name, exact ``Point``, certified value (mpf)
    LOSS_FACTORS                     the loss conventions a user may name
    load_cases(cases, dps)           conformance vectors / points / files -> ``list[Case]``
    run_conformance(call, cases, *, rtol, dps, loss, weight_decay)
                                     call ``call(point) -> float`` (``call(point, lam)`` with
                                     ``weight_decay``) on each case -> report
    samples_first(point)             ``(X^T, Y^T)`` in float64 (``X = I``, ``Y = M`` without data)
    call_user(fn, args, lam)         ``fn(*args)``, or ``fn(*args, weight_decay=float(lam))``
    relative_error(got, expected)    ``|got - expected| / |expected|`` in mpf (absolute if 0)
    agreeing_digits(rel_error)       ``max(0, -log10(rel_error))``, ``inf`` for an exact match

The adapters (``numeric.adapters.torch``, ``numeric.adapters.jax``) only convert a case to
their framework's arrays; everything numeric here is mpmath at ``dps`` digits and exact fractions.

The certified value of a case is the sharpness of the Hessian of ``0.5 ||W_L ... W_1 X - Y||_F^2``
(docs/mathematics.md, conventions); a user's loss convention scales it by an exact factor
(``sum``: 2, ``mean``: ``2/N``, ``mse``: ``2/(d_L N)``, ``N`` the number of samples).

**Weight decay** (docs/mathematics.md K8). With ``weight_decay = lam`` the user's loss is their
data loss plus ``(lam/2) sum_l ||W_l||_F^2``, whose Hessian is ``c H_0 + lam I`` (``c`` the
factor above): the expected value is ``c lambda_max(H_0) + lam`` -- the decay term is NOT scaled
by ``c``, also for ``mean``/``mse`` (PyTorch's ``SGD(weight_decay=lam)`` convention: ``lam W``
added to the gradient of the mean loss), exactly what ``numeric.sharpness(..., loss=,
weight_decay=)`` returns. A case may carry its own ``lam`` (a vector or input file with the key
``weight_decay``: its point is a minimizer of that ``L_lam``); such a case always runs with its
own ``lam``. Calling conventions:

* ``weight_decay=None`` (default): ``call(point)``, the plain loss; cases with their own ``lam``
  are skipped (listed in ``ConformanceReport.skipped``), since a function that takes no ``lam``
  cannot compute the sharpness of ``L_lam``. Existing user functions keep working.
* ``weight_decay=lam`` (``>= 0``, exact, ``numeric.result.parse_weight_decay``):
  ``call(point, lam_case)`` on every case, ``lam_case`` the case's own ``lam`` or else ``lam``
  (an exact ``Fraction``); ``weight_decay=0`` runs the weight-decay vectors with their own
  ``lam`` and the others without decay.

>>> from derivations.exact import parse_point
>>> report = run_conformance(lambda p: 5.0, [parse_point([[[1]], [[2]]])], dps=20)
>>> report.passed, report.cases[0].expected          # K5: ||W_1||^2 + ||W_2||^2 = 5
(True, '5.0')
>>> decayed = run_conformance(lambda p, lam: 5 + float(lam), [parse_point([[[1]], [[2]]])],
...                           dps=20, weight_decay="1/10")
>>> decayed.passed, decayed.cases[0].expected, decayed.cases[0].weight_decay   # H_0 + lam I
(True, '5.1', '1/10')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import mpmath
import numpy as np

from derivations.errors import DmfError, ShapeError
from derivations.exact import Point, parse_point, to_float64
from numeric.loss_conventions import LOSSES, resolve_loss
from numeric.loss_conventions import loss_factor as _oracle_factor
from numeric.oracle.files import check_dps, load_arrays

__all__ = [
    "LOSS_FACTORS",
    "Case",
    "CaseReport",
    "ConformanceReport",
    "agreeing_digits",
    "call_user",
    "expected_value",
    "load_cases",
    "relative_error",
    "run_conformance",
    "samples_first",
]

LOSS_FACTORS = tuple(LOSSES)
"""The loss conventions a user may name (``numeric.loss_conventions``)."""


@dataclass(frozen=True)
class CaseReport:
    """One case: the certified value (``expected``, a decimal string, in the user's loss
    convention), what the user's function returned, the relative error and the agreeing digits
    ``max(0, -log10(rel_error))`` (``inf`` for an exact float64 match; absolute error when the
    expected value is 0). ``error`` holds the exception text if the function raised.
    ``weight_decay``: the ``lam`` the case ran with (``"0"``: none)."""

    name: str
    dims: tuple[int, ...]
    expected: str
    got: float | None
    rel_error: float
    digits: float
    passed: bool
    error: str | None = None
    weight_decay: str = "0"


@dataclass(frozen=True)
class ConformanceReport:
    """Per-case reports, the worst relative error, the fewest agreeing digits, and whether
    every case is within ``rtol``. ``skipped``: cases with their own weight decay that did not
    run (no ``weight_decay`` given); ``weight_decay``: the ``lam`` given (``None``: none)."""

    cases: tuple[CaseReport, ...]
    rtol: float
    loss: str
    skipped: tuple[str, ...] = ()
    weight_decay: str | None = None
    diagnosis: str | None = None
    worst_rel_error: float = field(init=False)
    min_digits: float = field(init=False)
    passed: bool = field(init=False)

    def __post_init__(self) -> None:
        errs = [c.rel_error for c in self.cases]
        object.__setattr__(self, "worst_rel_error", max(errs, default=0.0))
        object.__setattr__(self, "min_digits", min((c.digits for c in self.cases), default=math.inf))
        object.__setattr__(self, "passed", all(c.passed for c in self.cases))

    @property
    def worst(self) -> CaseReport | None:
        """The case with the largest relative error."""
        return max(self.cases, key=lambda c: c.rel_error, default=None)

    def __str__(self) -> str:
        lines = [f"{'case':32} {'dims':22} {'digits':>6}  {'rel. error':>10}  result"]
        for c in self.cases:
            res = "ok" if c.passed else ("ERROR " + (c.error or "") if c.error else "FAIL")
            res += f" (lam {c.weight_decay})" if c.weight_decay != "0" else ""
            lines.append(
                f"{c.name[:32]:32} {str(c.dims)[:22]:22} {c.digits:6.1f}  {c.rel_error:10.2e}  {res}"
            )
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} case(s) with their own weight decay "
                         f"(pass weight_decay= to run them): {', '.join(self.skipped)}")
        if self.diagnosis:
            lines.append(self.diagnosis)
        decay = "" if self.weight_decay is None else f" + weight decay lam = {self.weight_decay}"
        lines.append(
            f"{len(self.cases)} cases, loss {self.loss}{decay}, rtol {self.rtol:.1e}: worst relative "
            f"error {self.worst_rel_error:.2e} ({self.min_digits:.1f} digits) -> "
            f"{'PASS' if self.passed else 'FAIL'}"
        )
        return "\n".join(lines)


@dataclass(frozen=True)
class Case:
    """One case: ``value`` is the sharpness (mpf at the working precision) of the half-sum loss
    plus the case's own weight-decay term ``(lam/2) sum_l ||W_l||_F^2`` (``weight_decay``;
    ``None``: no decay), i.e. ``lambda_max(H_0) + lam``; ``certified`` says whether it comes
    from a proven enclosure."""

    name: str
    point: Point
    value: Any
    certified: bool
    weight_decay: Fraction | None = None


def samples_first(point: Point) -> tuple[np.ndarray, np.ndarray]:
    """``(inputs, targets) = (X^T, Y^T)``, one sample per row as PyTorch and JAX hold them, in
    float64 (nearest; ``X = I`` and ``Y = M`` without data)."""
    x = np.eye(point.dims[0]) if point.data is None else to_float64(point.data)
    return np.ascontiguousarray(x.T), np.ascontiguousarray(to_float64(point.labels).T)


def call_user(fn: Callable[..., Any], args: Sequence[Any], lam: Fraction | None) -> float:
    """The adapters' calling convention: ``fn(*args)`` without weight decay, else
    ``fn(*args, weight_decay=lam_f)`` with ``lam_f`` the nearest float64 to ``lam`` (module doc,
    "Weight decay")."""
    if lam is None:
        return float(fn(*args))
    return float(fn(*args, weight_decay=float(lam)))


def float64_layers(weights: Sequence[Any] | Point,
                   as_float64: Callable[[Any], np.ndarray]) -> list[np.ndarray]:
    """``[W_1, ..., W_L]`` converted by an adapter's ``as_float64`` and checked to be 2-D and
    to chain (``W_l`` is ``(d_l, d_{l-1})``), with one-line ``ShapeError`` messages."""
    ws = list(weights.weights) if isinstance(weights, Point) else list(weights)
    if not ws:
        raise ShapeError("no layers given; expected weights W_1, ..., W_L with L >= 1")
    out: list[np.ndarray] = []
    for l, w in enumerate(ws, start=1):
        arr = as_float64(w)
        if arr.ndim != 2:
            raise ShapeError(f"W_{l} must be 2-D (d_{l}, d_{l - 1}); got shape {arr.shape}")
        if out and arr.shape[1] != out[-1].shape[0]:
            raise ShapeError(f"layer {l} (W_{l}) has shape {arr.shape} but layer {l - 1} "
                             f"outputs {out[-1].shape[0]} rows")
        out.append(arr)
    return out


def loss_factor(loss: Any, point: Point) -> Fraction:
    """Factor by which the Hessian of the ``loss`` convention exceeds the half-sum one: the
    oracle's own ``numeric.loss_conventions.loss_factor`` (``mse``: ``2/(d_L N)``), never a
    copy of it."""
    n = point.dims[0] if point.data is None else point.data.shape[1]
    return _oracle_factor(loss, n_samples=n, d_out=point.dims[-1])[0]


def load_cases(cases: Any, dps: int) -> list[Case]:
    """``cases``: ``None`` (the shipped conformance vectors), a directory of vector files, or an
    iterable of ``Vector``, ``Point`` (e.g. draws from ``numeric.strategies``), input-file
    paths or weight lists. Points without a stored value get the certified sharpness
    (``numeric.sharpness.sharpness`` at ``dps`` digits). A vector's or file's
    ``weight_decay`` becomes the case's own ``lam``."""
    from numeric.oracle.vectors import Vector, load_vectors

    check_dps(dps)
    if cases is None:
        cases = load_vectors()
    elif isinstance(cases, str | Path) and Path(cases).is_dir():
        cases = load_vectors(cases)
    elif isinstance(cases, Point | Vector | str | Path):
        cases = [cases]
    out = []
    for i, case in enumerate(cases):
        if isinstance(case, Vector):
            with mpmath.workdps(dps):
                value = mpmath.mpf(case.expected["lambda_max"])
            out.append(Case(case.name, case.point, value, True, case.weight_decay))
            continue
        own: Fraction | None = None
        if isinstance(case, str | Path):
            arrays = load_arrays(case)
            point, own = arrays.to_point(), arrays.weight_decay
            name = str(arrays.meta.get("name", Path(case).stem))
        elif isinstance(case, Point):
            point, name = case, f"case {i}"
        else:
            point, name = parse_point(case), f"case {i}"
        out.append(_oracle_case(name, point, dps, own))
    return out


def _oracle_case(name: str, point: Point, dps: int, lam: Fraction | None = None) -> Case:
    from numeric.sharpness import sharpness

    result = sharpness(
        list(point.weights),
        None if point.data is not None else point.labels,
        data=point.data,
        labels=None if point.data is None else point.labels,
        dps=dps,
        weight_decay=lam or 0,
    )
    with mpmath.workdps(dps):  # the default loss is half-sum: factor 1
        value = mpmath.mpf(result.value)
    return Case(name, point, value, bool(result.certified), lam)


def expected_value(case: Case, factor: Fraction, lam: Fraction, dps: int) -> Any:
    """``c lambda_max(H_0) + lam`` (mpf at ``dps`` digits): the sharpness of the user's loss
    ``c``-scaled data term plus ``(lam/2) sum_l ||W_l||_F^2`` (module doc, "Weight decay"), from
    the case's ``value = lambda_max(H_0) + own lam``."""
    own = case.weight_decay or Fraction(0)
    with mpmath.workdps(dps):
        h0 = case.value - mpmath.mpf(own.numerator) / own.denominator
        return h0 * factor.numerator / factor.denominator + mpmath.mpf(lam.numerator) / lam.denominator


def relative_error(got: float | None, expected: Any) -> float:
    """``|got - expected| / |expected|`` computed in mpf (``got`` is an exact binary
    rational); the absolute error when ``expected`` is 0; ``inf`` for a missing or non-finite
    ``got``."""
    if got is None or not math.isfinite(got):
        return math.inf
    diff = abs(mpmath.mpf(got) - expected)
    scale = abs(expected)
    return float(diff / scale) if scale != 0 else float(diff)


def agreeing_digits(rel_error: float) -> float:
    """``max(0, -log10(rel_error))``; ``inf`` for 0, 0 for ``inf``.

    >>> agreeing_digits(1e-13), agreeing_digits(0.0), agreeing_digits(math.inf)
    (13.0, inf, 0.0)
    """
    if rel_error == 0:
        return math.inf
    if not 0 < rel_error < math.inf:
        return 0.0
    return max(0.0, -math.log10(rel_error))


def run_conformance(
    call: Callable[..., float],
    cases: Any = None,
    *,
    rtol: float = 1e-10,
    dps: int = 50,
    loss: str = "half-sum",
    weight_decay: Any = None,
) -> ConformanceReport:
    """Call ``call(point)`` (with ``weight_decay``: ``call(point, lam)``, module doc) on each
    case of :func:`load_cases` and compare with the certified sharpness of the user's loss,
    ``c lambda_max(H_0) + lam`` (``c`` the ``loss`` factor); a case passes when its relative
    error is at most ``rtol``. An exception from ``call`` is a failing case (its text is kept),
    not a crash. Without ``weight_decay``, cases with their own ``lam`` are skipped (listed in
    ``skipped``; ``DmfError`` if that leaves none of several cases)."""
    from numeric.result import parse_weight_decay

    loss = resolve_loss(loss)
    check_dps(dps)
    given = None if weight_decay is None else parse_weight_decay(weight_decay)
    loaded = load_cases(cases, dps)
    runnable = [c for c in loaded if given is not None or c.weight_decay is None]
    skipped = tuple(c.name for c in loaded if given is None and c.weight_decay is not None)
    if loaded and not runnable:
        raise DmfError(f"every case has its own weight decay ({', '.join(skipped)}); pass "
                       "weight_decay= (e.g. 0) and a function that takes it")
    reports, got_by_case = [], []
    for case in runnable:
        lam = case.weight_decay if case.weight_decay is not None else (given or Fraction(0))
        expected = expected_value(case, loss_factor(loss, case.point), lam, dps)
        with mpmath.workdps(dps):
            try:
                got: float | None = float(call(case.point) if given is None
                                          else call(case.point, lam))
                err: str | None = None
            except Exception as exc:  # a user's function failing is a finding, not a crash
                got, err = None, f"{type(exc).__name__}: {exc}"
            rel = relative_error(got, expected)
            exp_str = mpmath.nstr(expected, 20)
        reports.append(
            CaseReport(case.name, case.point.dims, exp_str, got, rel, agreeing_digits(rel),
                       rel <= rtol, err, str(lam))
        )
        got_by_case.append((case, lam, got))
    failing = any(not r.passed for r in reports)
    diagnosis = _diagnose(got_by_case, loss, rtol, dps) if failing and len(reports) >= 2 else None
    return ConformanceReport(tuple(reports), rtol, loss, skipped,
                             None if given is None else str(given), diagnosis)


def _diagnose(runs: list[tuple[Case, Fraction, float | None]], loss: str, rtol: float,
              dps: int) -> str | None:
    """When some case fails: the other loss conventions under which every case passes (the
    function computes the Hessian of that loss), else the one factor ``c`` by which every value
    is off (``got / expected``, the same within ``1e-6`` on every case without weight decay);
    ``None`` when the errors have no such pattern."""
    if any(got is None for _, _, got in runs):
        return None
    matches = []
    for name in LOSSES:
        if name == loss:
            continue
        with mpmath.workdps(dps):
            ok = all(relative_error(got, expected_value(case, loss_factor(name, case.point),
                                                        lam, dps)) <= rtol
                     for case, lam, got in runs)
        if ok:
            matches.append(name)
    if matches:
        which = " or ".join(f"loss={m!r} ({LOSSES[m]})" for m in matches)
        return (f"these cases fail, and every case passes with {which}: the function computes "
                f"the Hessian of that loss, not of loss={loss!r} ({LOSSES[loss]})")
    if any(lam != 0 for _, lam, _ in runs):
        return None
    with mpmath.workdps(dps):
        expected = [expected_value(case, loss_factor(loss, case.point), Fraction(0), dps)
                    for case, _, _ in runs]
        if any(e == 0 for e in expected):
            return None
        ratios = [mpmath.mpf(got) / e for (_, _, got), e in zip(runs, expected, strict=True)]
        c = ratios[0]
        if c == 0 or any(abs(r - c) > 1e-6 * abs(c) for r in ratios):
            return None
        return (f"every case is off by the same factor {mpmath.nstr(c, 8)} (got / expected); no "
                f"loss convention ({', '.join(LOSSES)}) gives it: check the loss's scale")
