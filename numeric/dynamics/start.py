"""The start of an escape run: the minimizer ``W*`` under weight decay and ``lambda_max`` there.

With weight decay ``lam >= 0`` gradient descent runs on
``L_lam(W) = 1/2 ||W_L ... W_1 X - Y||_F^2 + (lam/2) sum_l ||W_l||_F^2`` whose Hessian is
``H_lam = H_0 + lam I`` (docs/mathematics.md K8): every eigenvalue of ``H_0`` shifted by ``lam``,
the eigenvectors unchanged. So the threshold step is ``2 / lambda_max(H_0 + lam I)`` and the
linearization of :mod:`numeric.dynamics.escape` holds with ``H_lam`` in place of ``H_0``.

Public:
    regularized_start(target, dims, lam, *, digits)  the regularized global minimizer of ``M``
        (:func:`numeric.regularized.regularized_minimizer`) with its algebraic weights rounded
        to exact rationals at ``digits`` digits, as a :class:`~derivations.exact.Point` whose
        labels are ``M`` (not the weights' product), and a description
    start_gradient_norm(point, lam, *, digits)       ``||grad L_lam(W*)||_F`` (mpmath, approximate)

Private helpers shared with :mod:`numeric.dynamics.escape` (and ``numeric.claims.escape``):
``_start_lambda_max`` (certified ``lambda_max(H_0 + lam I)`` from the oracle, with fallbacks) and
``_float64_eigh`` (float64 eigenpairs of the dense ``H_0 + lam I``).

How accurate the start is. The weights of the regularized minimizer are generally algebraic
(``t^2 = sigma - lam`` for depth 2; a root of ``t^(2L-2) - sigma t^(L-2) + lam`` in general).
``RegularizedMinimizer.weights(digits)`` certifies every entry to ``digits`` digits relative to
its matrix's largest entry; the midpoint of each enclosure is taken as an exact rational. The
start ``W*`` is then within about ``10^-digits ||W||`` of the true minimizer and
``||grad L_lam(W*)||`` is of the same order (reported by :func:`start_gradient_norm`). A run at
``dps`` digits with ``digits >= dps + 10`` starts at ``W* + eps D`` for any ``eps`` well above
that.

Collapsed minimizer (``lam`` above the collapse threshold of every singular value): ``W* = 0``
exactly. For depth ``L >= 3`` then ``H_0 = 0``, ``H_lam = lam I`` and ``lambda_max = lam``; for
depth 2, ``H_0(0)`` has only the off-diagonal blocks coming from ``R = -M``, with eigenvalues
``+-sigma_i`` (and 0), so ``lambda_max = lam + sigma_max``.
Both are computed here, not assumed (the oracle on the exact zero weights). A tie (a carried
singular value with two global scalar minimizers ``0`` and ``t_+``): the positive branch is
taken, as :func:`~numeric.regularized.regularized_minimizer` does, and the description says so.

>>> p, info = regularized_start([[2]], (1, 1, 1), "1/4", digits=30)   # t^2 = 2 - 1/4
>>> round(float(p.weights[0][0, 0]) ** 2, 12), info["collapsed"]
(1.75, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

from derivations.errors import DmfError, PrecisionExhausted
from derivations.exact import Point, parse_matrix
from derivations.intervals import as_enclosure
from numeric.evaluators.kinds import point_arrays
from numeric.regularized import regularized_gradient
from numeric.result import parse_weight_decay

__all__ = ["regularized_start", "start_gradient_norm"]

_ORACLE_MIN_DPS = 30


def regularized_start(
    target: Any, dims: Sequence[int], lam: Any, *, digits: int
) -> tuple[Point, dict[str, Any]]:
    """The regularized global minimizer of ``L_lam`` for the target ``M`` (module docstring):
    a :class:`Point` with exact rational weights (enclosure midpoints at ``digits`` digits) and
    labels ``M``, and a description (``collapsed``, ``tie``, ``bottleneck_split``, ``exact``,
    ``start_gradient_norm``)."""
    from numeric.regularized import regularized_minimizer

    q = parse_weight_decay(lam)
    m = parse_matrix(target, "target M")
    reg = regularized_minimizer(m, dims, q)
    ws = [_midpoints(w) for w in reg.weights(digits)]
    point = Point(weights=tuple(ws), labels=m, data=None)
    grad = start_gradient_norm(point, q, digits=digits + 20)
    notes = []
    if reg.collapsed:
        notes.append("collapsed: lam is above the collapse threshold of every singular value, "
                     "so the global minimizer is W* = 0")
    if reg.tie:
        notes.append("tie: a carried singular value has two global scalar minimizers (0 and "
                     "t_+); the positive branch t_+ is used")
    if reg.bottleneck_split:
        notes.append("bottleneck split: the narrowest width splits a repeated singular value; "
                     "the first vectors of that singular space are carried")
    return point, {
        "construction": (
            f"regularized global minimizer of L_lam, lam = {q} (numeric.regularized), weights "
            f"certified to {digits} digits and read at their midpoints"
            + ("" if reg.exact else " (algebraic: rounded)")
        ),
        "collapsed": reg.collapsed,
        "tie": reg.tie,
        "bottleneck_split": reg.bottleneck_split,
        "exact": reg.exact,
        "start_gradient_norm": grad,
        "start_gradient_norm_method": f"approximate: mpmath at {digits + 20} digits",
        "notes": notes,
    }


def _midpoints(w: np.ndarray) -> np.ndarray:
    out = np.empty(w.shape, dtype=object)
    for idx, x in np.ndenumerate(w):
        out[idx] = x if isinstance(x, Fraction | int) else as_enclosure(x).mid
    return out


def start_gradient_norm(point: Point, lam: Fraction, *, digits: int) -> float:
    """``||grad L_lam(W*)||_F = ||(A_l^T R X^T B_l^T + lam W_l)_l||`` at the exact point,
    evaluated in mpmath at ``digits`` digits (approximate; rounding ~``10^-digits``)."""
    with mpmath.workdps(digits):
        ws, data, labels = point_arrays(point, "mpmath", digits)
        lam_m = mpmath.mpf(lam.numerator) / lam.denominator
        total = mpmath.mpf(0)
        for g in regularized_gradient(ws, labels, lam_m, data=data):
            for x in g.flat:
                total += x * x
        return float(mpmath.sqrt(total))


def _float64_eigh(
    w64: Sequence[np.ndarray], data64: np.ndarray | None, labels64: np.ndarray,
    lam: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Eigenpairs (ascending) of the float64 dense ``H_0 + lam I`` (approximate)."""
    from numeric.hessian import full_hessian

    h = np.asarray(full_hessian(list(w64), data64, labels64), dtype=np.float64)
    vals, vecs = np.linalg.eigh((h + h.T) / 2)
    return vals + lam, vecs


def _start_lambda_max(
    point: Point, dps: int | None, given: Any, weight_decay: Fraction = Fraction(0)
) -> tuple[Any, str]:
    """``lambda_max(H_0 + lam I)`` at ``theta*`` from the oracle (certified), or the caller's
    value."""
    if given is not None:
        return given, "given by the caller"
    from numeric.sharpness import sharpness

    digits = max(dps or 0, _ORACLE_MIN_DPS)
    try:
        res = sharpness(
            list(point.weights), None if point.data is not None else point.labels,
            data=point.data, labels=None if point.data is None else point.labels,
            dps=digits, certify=True, weight_decay=weight_decay,
        )
        value, how = res.value, (
            f"{'certified' if res.certified else 'approximate'}: numeric.sharpness "
            f"route={res.route} at {digits} digits"
            + ("" if weight_decay == 0 else f", weight_decay={weight_decay}")
        )
    except PrecisionExhausted:
        try:
            value, how = _certified_top(point, digits, weight_decay)
        except PrecisionExhausted as exc:
            value, how = _approximate_top(point, digits, exc, weight_decay)
    if value is None or not value > 0:
        raise DmfError(
            f"lambda_max at W* is {value}; eta = factor * 2 / lambda_max needs a minimizer "
            "with positive sharpness (is every weight zero?)"
        )
    return value, how


def _approximate_top(
    point: Point, digits: int, why: Exception, weight_decay: Fraction
) -> tuple[Any, str]:
    """Last resort when certification fails: the oracle's mpmath mode (approximate)."""
    from numeric.sharpness import sharpness

    res = sharpness(
        list(point.weights), None if point.data is not None else point.labels,
        data=point.data, labels=None if point.data is None else point.labels,
        dps=digits, certify=False, weight_decay=weight_decay,
    )
    return res.value, (
        f"approximate: numeric.sharpness certify=False (mpmath eigsy) at {digits} digits; "
        f"certification failed: {why}"
    )


def _certified_top(point: Point, digits: int, weight_decay: Fraction) -> tuple[Any, str]:
    """``lambda_max`` alone, certified: the oracle certifies *every* eigenvalue and gives up on
    eigenvalues closer to 0 than its precision (e.g. a rounded rank-deficient minimizer); the
    top one only needs :func:`numeric.eigen.certified_lambda_max` of the exact K (at an exact
    minimizer without weight decay, docs/mathematics.md K2) or of the exact full Hessian
    ``H_0 + lam I``."""
    from numeric.eigen import certified_lambda_max

    ws, x, y = point_arrays(point, "exact")
    if weight_decay == 0 and point.is_minimizer():
        from numeric.reduced import reduced_operator

        matrix, what = reduced_operator(ws, x, form="gram"), "reduced operator K (gram form)"
    else:
        from numeric.hessian import full_hessian

        matrix, what = full_hessian(ws, x, y), "full Hessian"
        if weight_decay != 0:
            for i in range(matrix.shape[0]):
                matrix[i, i] = matrix[i, i] + weight_decay
            what = f"full Hessian + {weight_decay} I"
    enc = certified_lambda_max(matrix, dps=digits)
    with mpmath.workdps(digits):
        value = mpmath.mpf(enc.mid.numerator) / enc.mid.denominator
    return value, (
        f"certified: numeric.eigen.certified_lambda_max of the exact {what} at {digits} digits "
        "(numeric.sharpness could not certify the eigenvalues near 0)"
    )
