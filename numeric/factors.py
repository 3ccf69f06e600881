"""Left and right factors of a deep linear network (docs/mathematics.md "Objects and conventions").

Public:
    product(weights)          f = W_L ... W_1                       (d_L x d_0)
    left_factor(weights, l)   A_l = W_L ... W_{l+1},  A_L = I        (d_L x d_l)
    right_factor(weights, l)  B_l = W_{l-1} ... W_1,  B_1 = I        (d_{l-1} x d_0)
    data_right_factor(weights, l, data)   B_l X (B_l when data is None, i.e. X = I)
    identity_like(ref, n)     an n x n identity of the same element kind as ``ref``

``f = A_l W_l B_l`` for every ``l`` (layers are 1-based, ``weights[0]`` is ``W_1``).
All functions are generic over the element type: float64 arrays, or ``object`` arrays of
``Fraction`` (exact) or ``mpmath.mpf`` (call inside ``mpmath.workdps``).

>>> import numpy as np
>>> ws = [np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]])]
>>> left_factor(ws, 1), right_factor(ws, 2)
(array([[3.],
       [4.]]), array([[1., 2.]]))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["data_right_factor", "identity_like", "left_factor", "product", "right_factor"]


def identity_like(ref: np.ndarray, n: int) -> np.ndarray:
    """``I_n`` as float64 when ``ref`` is a float array, else as an ``object`` array of ints
    (exact 0 and 1, which combine with ``Fraction`` and ``mpf`` without rounding)."""
    if ref.dtype == object:
        out = np.zeros((n, n), dtype=object)
        out[...] = 0
        for i in range(n):
            out[i, i] = 1
        return out
    return np.eye(n, dtype=ref.dtype)


def _chain(mats: Sequence[np.ndarray], ref: np.ndarray, n: int) -> np.ndarray:
    """``mats[-1] @ ... @ mats[0]``, or ``I_n`` for an empty chain."""
    if not mats:
        return identity_like(ref, n)
    out = mats[0]
    for m in mats[1:]:
        out = m @ out
    return out


def product(weights: Sequence[np.ndarray]) -> np.ndarray:
    """The end-to-end matrix ``f(W) = W_L ... W_1``."""
    return _chain(weights, weights[0], weights[0].shape[1])


def left_factor(weights: Sequence[np.ndarray], l: int) -> np.ndarray:
    """``A_l = W_L ... W_{l+1}`` (``d_L x d_l``); ``A_L = I``. ``l`` is 1-based."""
    _check_layer(weights, l)
    return _chain(weights[l:], weights[0], weights[l - 1].shape[0])


def right_factor(weights: Sequence[np.ndarray], l: int) -> np.ndarray:
    """``B_l = W_{l-1} ... W_1`` (``d_{l-1} x d_0``); ``B_1 = I``. ``l`` is 1-based."""
    _check_layer(weights, l)
    return _chain(weights[: l - 1], weights[0], weights[0].shape[1])


def data_right_factor(
    weights: Sequence[np.ndarray], l: int, data: np.ndarray | None
) -> np.ndarray:
    """``B_l X`` (``d_{l-1} x N``), the right factor seen through the data; ``B_l`` when
    ``data is None`` (``X = I``)."""
    b = right_factor(weights, l)
    return b if data is None else b @ data


def _check_layer(weights: Sequence[np.ndarray], l: int) -> None:
    if not 1 <= l <= len(weights):
        raise IndexError(f"layer index l = {l} is outside 1..L = 1..{len(weights)}")
