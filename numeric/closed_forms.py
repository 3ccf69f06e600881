"""Closed forms for the sharpness and its bounds (docs/mathematics.md K3-K7, and the `sum-formula` claim).

Public (each ``*, dps``: ``None`` computes in float64 -- approximate --, an int computes with
mpmath at that many decimal digits -- approximate to about that many digits, not certified):
    spectral_norm(m)                 ||m||_2 = sigma_1(m)
    hessian_trace(weights, data)     K3: tr H = sum_l ||A_l||_F^2 ||B_l X||_F^2     (polynomial:
                                     exact for Fraction inputs when dps is None)
    sharpness_upper_bound(weights, data)   K4: sum_l ||A_l||_2^2 ||B_l X||_2^2
    depth2_sharpness(weights)        K5: ||W_1||_2^2 + ||W_2||_2^2                (L = 2, X = I)
    scalar_ends_sharpness(weights)   K6: sum_l ||A_l||_2^2 ||B_l||_2^2, d_0 = d_L = 1 (exact for
                                     Fraction inputs: the factors are vectors)
    flattest_sharpness(target, depth)  K7: L sigma_1(M)^(2(L-1)/L)
    sum_formula(weights)             the `sum-formula` claim's right side, sum_l ||A_l||_2^2 ||B_l||_2^2

The closed forms hold at minimizers; the functions evaluate them at any weights.

>>> import numpy as np
>>> ws = [np.array([[3.0, 0.0]]), np.array([[1.0], [2.0]])]
>>> depth2_sharpness(ws)    # 3^2 + 5
14.0
>>> from fractions import Fraction as F
>>> scalar_ends_sharpness([np.array([[F(1, 2)]], dtype=object), np.array([[F(3)]], dtype=object)])
Fraction(37, 4)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mpmath
import numpy as np

from derivations.errors import ShapeError
from numeric.evaluators.kinds import to_mp_matrix
from numeric.factors import data_right_factor, left_factor

__all__ = [
    "depth2_sharpness",
    "flattest_sharpness",
    "hessian_trace",
    "scalar_ends_sharpness",
    "sharpness_upper_bound",
    "spectral_norm",
    "sum_formula",
]


def _sq_spectral(m: np.ndarray, dps: int | None) -> Any:
    """``||m||_2^2 = lambda_max(m^T m)`` (the smaller Gram matrix)."""
    if dps is None:
        return float(np.linalg.norm(np.asarray(m, dtype=np.float64), 2)) ** 2
    with mpmath.workdps(dps + 10):
        a = to_mp_matrix(np.asarray(m, dtype=object))
        gram = a.T * a if a.cols <= a.rows else a * a.T
        vals = mpmath.eigsy(gram, eigvals_only=True)
        top = max(vals[i] for i in range(gram.rows))
    with mpmath.workdps(dps):
        return +max(top, mpmath.mpf(0))


def spectral_norm(m: np.ndarray, *, dps: int | None = None) -> Any:
    """``sigma_1(m)``."""
    sq = _sq_spectral(m, dps)
    if dps is None:
        return float(np.sqrt(sq))
    with mpmath.workdps(dps):
        return mpmath.sqrt(sq)


def _frob_sq(m: np.ndarray) -> Any:
    return sum((x * x for x in np.asarray(m).flat), start=0 * np.asarray(m).flat[0])


def hessian_trace(
    weights: Sequence[np.ndarray], data: np.ndarray | None = None, *, dps: int | None = None
) -> Any:
    """K3: ``tr H = sum_l ||A_l||_F^2 ||B_l X||_F^2`` at minimizers with ``R X^T = 0``. Computed
    in the inputs' own arithmetic (exact for ``Fraction``) unless ``dps`` asks for mpmath."""
    terms = [(left_factor(weights, l), data_right_factor(weights, l, data)) for l in range(1, len(weights) + 1)]
    if dps is None:
        return sum(_frob_sq(a) * _frob_sq(b) for a, b in terms)
    with mpmath.workdps(dps):
        return mpmath.fsum(_frob_sq(_mp_obj(a)) * _frob_sq(_mp_obj(b)) for a, b in terms)


def _mp_obj(m: np.ndarray) -> np.ndarray:
    a = to_mp_matrix(np.asarray(m, dtype=object))
    return np.array(a.tolist(), dtype=object).reshape(m.shape)


def sharpness_upper_bound(
    weights: Sequence[np.ndarray], data: np.ndarray | None = None, *, dps: int | None = None
) -> Any:
    """K4: ``lambda_max <= sum_l ||A_l||_2^2 ||B_l X||_2^2`` (triangle + Cauchy-Schwarz)."""
    return _sum_of_products(
        [(left_factor(weights, l), data_right_factor(weights, l, data)) for l in range(1, len(weights) + 1)], dps
    )


def sum_formula(weights: Sequence[np.ndarray], *, dps: int | None = None) -> Any:
    """``sum_l ||A_l||_2^2 ||B_l||_2^2`` (the `sum-formula` claim's right-hand side; X = I)."""
    return sharpness_upper_bound(weights, None, dps=dps)


def _sum_of_products(terms: list[tuple[np.ndarray, np.ndarray]], dps: int | None) -> Any:
    if dps is None:
        return sum(_sq_spectral(a, None) * _sq_spectral(b, None) for a, b in terms)
    with mpmath.workdps(dps + 5):
        total = mpmath.fsum(_sq_spectral(a, dps + 5) * _sq_spectral(b, dps + 5) for a, b in terms)
    with mpmath.workdps(dps):
        return +total


def depth2_sharpness(weights: Sequence[np.ndarray], *, dps: int | None = None) -> Any:
    """K5 (depth 2, ``X = I``): ``lambda_max = ||W_1||_2^2 + ||W_2||_2^2`` at every minimizer."""
    if len(weights) != 2:
        raise ShapeError(f"the depth-2 closed form needs L = 2 layers; got L = {len(weights)}")
    if dps is None:
        return _sq_spectral(weights[0], None) + _sq_spectral(weights[1], None)
    with mpmath.workdps(dps):
        return _sq_spectral(weights[0], dps) + _sq_spectral(weights[1], dps)


def scalar_ends_sharpness(weights: Sequence[np.ndarray], *, dps: int | None = None) -> Any:
    """K6 (``d_0 = d_L = 1``, ``X = I``): ``lambda_max = sum_l ||A_l||_2^2 ||B_l||_2^2``; each
    ``A_l`` is a row and each ``B_l`` a column, so the norms are sums of squares (exact for
    ``Fraction`` inputs when ``dps`` is None)."""
    d0, dl = weights[0].shape[1], weights[-1].shape[0]
    if d0 != 1 or dl != 1:
        raise ShapeError(f"the scalar-ends closed form needs d_0 = d_L = 1; got d_0 = {d0}, d_L = {dl}")
    return hessian_trace(weights, None, dps=dps)  # for vectors Frobenius = spectral norm


def flattest_sharpness(target: np.ndarray, depth: int, *, dps: int | None = None) -> Any:
    """K7: the smallest sharpness over all minimizers of depth ``L`` for target ``M`` (``X = I``),
    ``L * sigma_1(M)^(2(L-1)/L)``, attained at balanced minimizers."""
    if depth < 1:
        raise ShapeError(f"depth must be >= 1; got {depth}")
    sq = _sq_spectral(target, None if dps is None else dps + 5)  # sigma_1^2
    if dps is None:
        return depth * sq ** ((depth - 1) / depth)
    with mpmath.workdps(dps):
        return depth * mpmath.power(sq, mpmath.mpf(depth - 1) / depth)
