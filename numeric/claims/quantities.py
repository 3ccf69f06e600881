"""The exact sides the claims compare: ``lambda_max(H)`` of the exact Hessian, squared spectral norms, sums of products of left and right factors, each as an ``AlgebraicFormula`` (exact value on demand, certified enclosures at once), and their float64 versions used only to steer searches.

``lambda_max(H)`` is the largest root of the exact characteristic polynomial of the exact Hessian (docs/mathematics.md K1, ``numeric.hessian.full_hessian`` on ``Fraction`` arrays), not of the reduced operator, so checks built on it do not lean on K2.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from derivations.algebraic import (
    AlgebraicFormula,
    exact_lambda_max,
)
from derivations.exact import Point
from numeric.claims.runner import fraction_str
from numeric.factors import data_right_factor, left_factor, right_factor

__all__ = [
    "alg_text",
    "exact_hessian",
    "float_weights",
    "gram_small",
    "lambda_max_hessian",
    "sq_norm",
    "sum_of_products",
]

def float_weights(point: Point) -> list[np.ndarray]:
    """APPROXIMATE float64 copies of the weights (for search predicates only)."""
    return [np.array(w, dtype=np.float64) for w in point.weights]


# ----------------------------------------------------------------------------- exact sides


def exact_hessian(point: Point) -> np.ndarray:
    """The exact K1 Hessian (``Fraction`` entries) at the point."""
    from numeric.hessian import full_hessian

    return np.asarray(full_hessian(list(point.weights), point.data, point.labels), dtype=object)


def lambda_max_hessian(point: Point) -> AlgebraicFormula:
    """``lambda_max(H)`` exactly: the largest root of the exact characteristic polynomial of the
    full Hessian, with its minimal polynomial (``derivations.algebraic.exact_lambda_max``)."""
    return AlgebraicFormula.of(exact_lambda_max(exact_hessian(point)))


def _bx(point: Point, l: int) -> np.ndarray:
    return np.asarray(data_right_factor(list(point.weights), l, point.data), dtype=object)


def _a(point: Point, l: int) -> np.ndarray:
    return np.asarray(left_factor(list(point.weights), l), dtype=object)


def gram_small(m: np.ndarray) -> np.ndarray:
    """``m^T m`` or ``m m^T``, whichever is smaller (the same nonzero spectrum)."""
    m = np.asarray(m, dtype=object)
    return np.asarray(m.T @ m if m.shape[1] <= m.shape[0] else m @ m.T, dtype=object)


def sq_norm(m: np.ndarray) -> AlgebraicFormula:
    """``||m||_2^2`` exactly (``lambda_max`` of the smaller Gram matrix)."""
    return AlgebraicFormula.of(exact_lambda_max(gram_small(m)))


def _frob2(m: np.ndarray) -> Fraction:
    return sum((Fraction(x) ** 2 for x in np.asarray(m).flat), Fraction(0))


def sum_of_products(point: Point) -> AlgebraicFormula:
    """``sum_l ||A_l||_2^2 ||B_l X||_2^2`` exactly (its exact value is built only if an
    enclosure does not decide a comparison)."""
    total = AlgebraicFormula.of(0)
    for l in range(1, point.depth + 1):
        total = total + sq_norm(_a(point, l)) * sq_norm(_bx(point, l))
    return total


def alg_text(a: AlgebraicFormula, dps: int) -> str:
    """An exact rational as ``p/q``; otherwise a certified interval (and the degree of the
    minimal polynomial used)."""
    if a.rational is not None:
        return fraction_str(a.rational)
    return f"{a.enclosure(dps)} (certified)"


def _lam_float(point: Point) -> float:
    from numeric.hessian import full_hessian

    ws = float_weights(point)
    x = None if point.data is None else np.array(point.data, dtype=np.float64)
    y = np.array(point.labels, dtype=np.float64)
    h = full_hessian(ws, x, y)
    return float(np.linalg.eigvalsh(h)[-1]) if h.size else 0.0


def _sum_products_float(point: Point) -> float:
    ws = float_weights(point)
    total = 0.0
    for l in range(1, len(ws) + 1):
        a = left_factor(ws, l)
        b = right_factor(ws, l)
        if point.data is not None:
            b = b @ np.array(point.data, dtype=np.float64)
        total += float(np.linalg.norm(a, 2) ** 2 * np.linalg.norm(b, 2) ** 2)
    return total
