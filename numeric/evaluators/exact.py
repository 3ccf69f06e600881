"""The exact arithmetics of the sharpness: certified enclosures (python-flint / Arb) and
mpmath, from the exact rational operator of a route; float64 weights at their own product read
exactly through FLINT (dyadic); the certified Weyl enclosure off minimizers.

Helpers of ``numeric.sharpness`` (private): each evaluator takes the point and the route and
returns the ``_Spectrum`` that ``numeric.result`` turns into a ``SharpnessResult``.
    _mode_exact(point, route, dps, certify)   certified (``certify=True``) or mpmath Jacobi
    _mode_dyadic(ws, dps, params)             the reduced operator ``K`` from dyadic weights
    _mode_weyl(...)                           ``numeric.enclosure.weyl_enclosure`` as a spectrum
    _dyadic_input(...)                        when the dyadic route applies
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

from derivations.algebraic import exact_rank
from derivations.errors import PrecisionExhausted
from derivations.exact import Point, check_chain
from numeric.evaluators.budget import _exact_choice
from numeric.evaluators.float64_input import _fast_float_input
from numeric.evaluators.kinds import point_arrays
from numeric.result import _Ev, _Spectrum


def _certified_list(matrix: np.ndarray, dps: int) -> tuple[list[_Ev], str | None]:
    """Enclosures of all eigenvalues, each to ``dps`` digits when ``certified_eigvalsh`` can;
    when some eigenvalue other than ``lambda_max`` cannot be refined that far (e.g. distinct
    eigenvalues far below ``lambda_max`` and closer than the working precision), ``lambda_max``
    alone is certified to ``dps`` digits (``which="top"``, with up to four times the default
    working precision before ``PrecisionExhausted`` is raised) and the others keep their
    rigorous but wider enclosures. Returns the list and, in that case, why."""
    from numeric.eigen import certified_eigvalsh

    note = None
    try:
        encs = certified_eigvalsh(matrix, dps=dps)
    except PrecisionExhausted as exc:
        reason = str(exc).split(". Eigenvalues that are distinct")[0]
        default = 4 * dps + 100
        try:
            encs = certified_eigvalsh(matrix, dps=dps, which="top")
        except PrecisionExhausted:
            encs = certified_eigvalsh(matrix, dps=dps, which="top", max_dps=4 * default)
        note = (
            f"only lambda_max is required to reach {dps} digits; the other eigenvalues keep "
            "rigorous enclosures with possibly fewer proven digits (lambda_min, the gap and the "
            "spectrum are printed only to the digits their enclosures prove; the multiplicity "
            "counts the enclosures overlapping lambda_max's), because certified_eigvalsh "
            f"{reason}"
        )
    with mpmath.workdps(dps):
        evs = [_Ev(mpmath.mpf(e.mid.numerator) / e.mid.denominator, e) for e in encs]
    return evs, note


def _exact_zero(template: _Ev) -> _Ev:
    zero = Fraction(0)
    enc = None if template.enc is None else dataclasses.replace(template.enc, lo=zero, hi=zero)
    value = mpmath.mpf(0) if isinstance(template.value, mpmath.mpf) else 0.0
    return _Ev(value, enc)


def _pad_reduced(k_evs: list[_Ev], rank: int, params: int) -> list[_Ev]:
    """Hessian spectrum at a minimizer: the ``rank`` nonzero eigenvalues of K and
    ``P - rank`` zeros (docs/mathematics.md K2), descending (K is positive semidefinite)."""
    nonzero = k_evs[:rank]
    zero_template = k_evs[0] if k_evs else _Ev(0.0)
    return nonzero + [_exact_zero(zero_template)] * (params - rank)


def _drop_zeros(evs: list[_Ev], rank: int) -> list[_Ev]:
    """Replace the ``len - rank`` eigenvalues closest to 0 by exact zeros (the rank is exact)."""
    n_zero = len(evs) - rank
    if n_zero == 0:
        return evs
    order = sorted(range(len(evs)), key=lambda i: abs(evs[i].value))
    zeros = set(order[:n_zero])
    out = [_exact_zero(e) if i in zeros else e for i, e in enumerate(evs)]
    return sorted(out, key=lambda e: e.value, reverse=True)


def _tol_mp(evs: list[_Ev], dps: int) -> Any:
    scale = max([abs(e.value) for e in evs] + [mpmath.mpf(1)])
    with mpmath.workdps(dps):
        return scale * mpmath.mpf(10) ** (-max(dps * 3 // 4, dps - 10))


def _mode_exact(point: Point, route: str, dps: int, certify: bool) -> _Spectrum:
    ws, x, y = point_arrays(point, "exact")
    params = point.num_params
    if route == "reduced":
        from numeric.reduced import data_factor, minimizer_hessian, reduced_operator

        choice, size = _exact_choice(point)
        factor = data_factor(x) if choice == "factor" and x is not None else None
        if choice == "hessian":  # many samples, few parameters: J^T J is the smaller one
            k_exact = minimizer_hessian(ws, x)
            what = f"the exact rational J^T J ({size} x {size}, smaller than K's gram form)"
        elif factor is not None:  # many samples: F F^T = X X^T with few columns
            k_exact = reduced_operator(ws, factor, form="gram")
            what = (f"the exact rational reduced operator K (gram form of F with F F^T = X X^T, "
                    f"{size} x {size})")
        else:
            k_exact = reduced_operator(ws, x, form="gram")
            what = f"the exact rational reduced operator K (gram form, {size} x {size})"
        rank = exact_rank(k_exact)
        note = None
        if certify:
            k_evs, note = _certified_list(k_exact, dps)
            method = (
                "certified: enclosures (numeric.eigen.certified_eigvalsh) of the eigenvalues of "
                f"{what}; rank K exact over Q"
            )
        else:
            k_evs = _mpmath_reduced(point, dps)
            size = point.dims[0] * point.dims[-1]
            method = (
                f"approximate: mpmath eigsy (Jacobi) at {dps} digits on K (sqrt form), not "
                f"certified; rank K exact over Q (from {what})"
            )
        evs = _pad_reduced(k_evs, rank, params)
        return _Spectrum(evs, True, evs[-1], params - rank, _tol_mp(evs, dps), method, note,
                         operator_size=size, exact_matrix=k_exact if certify else None)
    from numeric.hessian import full_hessian

    h_exact = full_hessian(ws, x, y)
    rank = exact_rank(h_exact)
    note = None
    if certify:
        evs, note = _certified_list(h_exact, dps)
        method = (
            "certified: enclosures (numeric.eigen.certified_eigvalsh) of the eigenvalues of the "
            "exact rational full Hessian (docs/mathematics.md K1); rank exact over Q"
        )
    else:
        pw, px, py = point_arrays(point, "mpmath", dps)
        with mpmath.workdps(dps):
            h = full_hessian(pw, px, py)
        from numeric.spectrum import eigh_mpmath

        evs = [_Ev(v) for v in eigh_mpmath(h, dps)[0]]
        method = f"approximate: mpmath eigsy (Jacobi) at {dps} digits on the full Hessian"
    evs = _drop_zeros(evs, rank)
    return _Spectrum(evs, True, evs[-1], params - rank, _tol_mp(evs, dps), method, note,
                     operator_size=params, exact_matrix=h_exact if certify else None)


def _dyadic_input(weights: Any, target: Any, data: Any, labels: Any, *, route: str,
                  float64: bool, certify: bool) -> list[np.ndarray] | None:
    """The float64 weights when the certified reduced route can build ``K`` from their dyadic
    values directly (NumPy float arrays, no target, data or labels: the point is a minimizer of
    its own product, ``X = I``), else ``None``."""
    if float64 or not certify or route in ("full", "weyl") or any(
            o is not None for o in (target, data, labels)):
        return None
    if not isinstance(weights, Sequence) or isinstance(weights, np.ndarray) or not weights:
        return None
    if not all(isinstance(w, np.ndarray) and w.ndim == 2 and w.dtype.kind == "f" for w in weights):
        return None
    fast = _fast_float_input(weights, None, None, None)
    if fast is None:
        return None
    return fast[0]  # exact from here on: no float64 range to check


def _mode_dyadic(ws: list[np.ndarray], dps: int, params: int) -> _Spectrum:
    """Certified at a minimizer given by float64 weights alone: ``K`` built exactly from the
    weights' dyadic values by thin integer products (``numeric.reduced.dyadic_reduced_operator``,
    never a Fraction product of hidden layers), then the same certified eigenvalues and exact
    rank as the other exact routes."""
    from numeric.reduced import dyadic_reduced_operator

    k = dyadic_reduced_operator(ws)
    n = k.nrows()
    rank = exact_rank(k)
    k_evs, note = _certified_list(k, dps)
    method = (
        "certified: enclosures (numeric.eigen.certified_eigvalsh) of the eigenvalues of the "
        f"exact rational reduced operator K ({n} x {n}) built from the float64 weights' exact "
        "dyadic values by thin integer products (numeric.reduced.dyadic_reduced_operator); the "
        "target is their exact product; rank K exact over Q"
    )
    evs = _pad_reduced(k_evs, rank, params)
    return _Spectrum(evs, True, evs[-1], params - rank, _tol_mp(evs, dps), method, note,
                     operator_size=n, exact_matrix=k)


def _mode_weyl(weights: Any, target: Any, data: Any, labels: Any,
               dps: int) -> tuple[_Spectrum, tuple[int, ...], int, int, bool, Any]:
    """``route="weyl"``: the certified Weyl enclosure of lambda_max off minimizers
    (``numeric.enclosure.weyl_enclosure``; float64 input only), never chosen unless asked. Its
    width is what it proves: the value is the enclosure's midpoint rounded to the digits the
    enclosure proves. Returns ``(spectrum, dims, P, N, at_min, residual norm)``."""
    from numeric.enclosure import weyl_enclosure

    if data is None:
        how = weyl_enclosure(weights, "product" if target is None else target, dps=dps)[2]
    else:
        how = weyl_enclosure(weights, data=data, labels="product" if labels is None
                             else labels, dps=dps)[2]
    ws = [np.asarray(w, dtype=np.float64) for w in weights]
    dims = check_chain([w.shape for w in ws])
    digits = max(1, min(dps, int(how.enclosure.correct_digits)))
    r2 = how.residual_norm_squared
    with mpmath.workdps(dps):
        mid = mpmath.mpf(how.enclosure.mid.numerator) / how.enclosure.mid.denominator
        value = mpmath.mpf(mpmath.nstr(mid, digits))
        residual_norm = mpmath.sqrt(mpmath.mpf(r2.numerator) / r2.denominator)
    spec = _Spectrum([_Ev(value, how.enclosure)], False, None, None, _tol_mp([_Ev(value)], dps),
                     how.method, operator_size=how.gram_size)
    n_samples = dims[0] if data is None else int(np.asarray(data).shape[1])
    return (spec, dims, sum(w.size for w in ws), n_samples, how.residual.residual_zero,
            residual_norm)


def _mpmath_reduced(point: Point, dps: int) -> list[_Ev]:
    from numeric.reduced import reduced_operator
    from numeric.spectrum import eigh_mpmath

    pw, px, _ = point_arrays(point, "mpmath", dps)
    with mpmath.workdps(dps):
        k = reduced_operator(pw, px, form="sqrt")
    return [_Ev(v) for v in eigh_mpmath(k, dps)[0]]
