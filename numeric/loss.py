"""The squared loss, its residual and its gradient (docs/mathematics.md K1).

Public:
    residual(weights, data, labels)   R = W_L ... W_1 X - Y    (X = None means X = I)
    loss(weights, data, labels)       L = 1/2 ||R||_F^2
    gradient(weights, data, labels)   [grad_{W_l} L]_l with grad_{W_l} L = A_l^T R X^T B_l^T
    flatten(mats), unflatten(theta, dims)   the docs/mathematics.md parameter order (layer 1 first, row-major)

Generic over float64 / exact ``Fraction`` / ``mpmath.mpf`` (inside ``mpmath.workdps``) arrays.

>>> import numpy as np
>>> ws = [np.array([[2.0]]), np.array([[3.0]])]
>>> float(loss(ws, None, np.array([[5.0]])))
0.5
>>> [g.item() for g in gradient(ws, None, np.array([[5.0]]))]
[3.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from numeric.factors import left_factor, product, right_factor

__all__ = ["flatten", "gradient", "loss", "residual", "unflatten"]


def residual(weights: Sequence[np.ndarray], data: np.ndarray | None, labels: np.ndarray) -> np.ndarray:
    """``R = f(W) X - Y`` (``d_L x N``); with ``data=None``, ``R = f(W) - M``."""
    f = product(weights)
    return (f if data is None else f @ data) - labels


def loss(weights: Sequence[np.ndarray], data: np.ndarray | None, labels: np.ndarray) -> Any:
    """``1/2 ||W_L ... W_1 X - Y||_F^2`` (the docs/mathematics.md convention, with the 1/2)."""
    r = residual(weights, data, labels)
    return sum((x * x for x in r.flat), start=0 * r.flat[0]) / 2


def gradient(
    weights: Sequence[np.ndarray], data: np.ndarray | None, labels: np.ndarray
) -> list[np.ndarray]:
    """``grad_{W_l} L = A_l^T R X^T B_l^T`` for ``l = 1..L`` (docs/mathematics.md K1)."""
    r = residual(weights, data, labels)
    rxt = r if data is None else r @ data.T
    return [
        left_factor(weights, l).T @ rxt @ right_factor(weights, l).T
        for l in range(1, len(weights) + 1)
    ]


def flatten(mats: Sequence[np.ndarray]) -> np.ndarray:
    """``theta = concat(W_1.ravel(), ..., W_L.ravel())`` (row-major, layer 1 first)."""
    return np.concatenate([np.asarray(m).ravel() for m in mats])


def unflatten(theta: np.ndarray, dims: Sequence[int]) -> list[np.ndarray]:
    """Inverse of :func:`flatten` for ``dims = (d_0, ..., d_L)``."""
    out, start = [], 0
    for l in range(1, len(dims)):
        size = dims[l] * dims[l - 1]
        out.append(np.asarray(theta[start : start + size]).reshape(dims[l], dims[l - 1]))
        start += size
    if start != len(theta):
        raise ValueError(f"theta has {len(theta)} entries; dims {tuple(dims)} need {start}")
    return out
