"""The explicit Hessian of the loss at any point, from docs/mathematics.md K1 (not from SymPy).

Public:
    jacobian(weights, data=None)            J = [J_1 ... J_L],  J_l = A_l kron (B_l X)^T
    gauss_newton(weights, data=None)        H_o = J^T J, blocks (A_k^T A_l) kron (B_k C B_l^T)
    residual_term(weights, data, labels)    H_f = H - J^T J (the term with the residual R)
    full_hessian(weights, data, labels)     H = H_o + H_f   (P x P, docs/mathematics.md parameter order)
    hessian_vector_product(weights, data, labels, v)   H v without forming H (float64)
    hessian_operator(weights, data, labels) H as a ``scipy.sparse.linalg.LinearOperator``
                                            (``numeric.operators.HessianOperator``)

Derivation (docs/mathematics.md K1, with row-major ``vec_r`` so that ``vec_r(A D C) = (A kron C^T) vec_r(D)``):
``Df[D] X = sum_l A_l D_l B_l X`` gives the Jacobian blocks ``J_l = A_l kron (B_l X)^T`` (rows:
``vec_r`` of the ``d_L x N`` output). The second-order term of
``H[D, D] = ||J D||^2 + 2 sum_{k<l} <R, A_l D_l W_{l-1}...W_{k+1} D_k B_k X>`` is bilinear in
``(D_l, D_k)``: with ``Mid = W_{l-1}...W_{k+1}`` (``d_{l-1} x d_k``) and ``G = B_k X R^T A_l``
(``d_{k-1} x d_l``), ``<R, A_l D_l Mid D_k B_k X> = sum D_l[a,b] Mid[b,c] D_k[c,e] G[e,a]``, so the
block ``(l, k)`` of ``H_f`` has entry ``Mid[b, c] G[e, a]`` at row ``(a, b)``, column ``(c, e)``.

Generic over float64 arrays and ``object`` arrays of ``Fraction`` (exact) or ``mpf`` (inside
``mpmath.workdps``). ``data=None`` means ``X = I`` (then ``labels`` is the target ``M``).

>>> import numpy as np
>>> ws = [np.array([[2.0]]), np.array([[3.0]])]
>>> full_hessian(ws, None, np.array([[6.0]]))   # at a minimizer: J^T J = [3, 2]^T [3, 2]
array([[9., 6.],
       [6., 4.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy.sparse.linalg import LinearOperator

from numeric.factors import _chain, data_right_factor, left_factor, right_factor
from numeric.loss import residual

__all__ = [
    "full_hessian",
    "gauss_newton",
    "hessian_operator",
    "hessian_vector_product",
    "jacobian",
    "residual_term",
]


def _offsets(weights: Sequence[np.ndarray]) -> list[int]:
    out = [0]
    for w in weights:
        out.append(out[-1] + w.size)
    return out


def _zeros(ref: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if ref.dtype == object:
        out = np.empty(shape, dtype=object)
        out[...] = 0
        return out
    return np.zeros(shape, dtype=ref.dtype)


def jacobian(weights: Sequence[np.ndarray], data: np.ndarray | None = None) -> np.ndarray:
    """``J`` of ``theta -> vec_r(f(W) X)``: ``(d_L N) x P``, blocks ``J_l = A_l kron (B_l X)^T``."""
    blocks = [
        np.kron(left_factor(weights, l), data_right_factor(weights, l, data).T)
        for l in range(1, len(weights) + 1)
    ]
    return np.concatenate(blocks, axis=1)


def gauss_newton(weights: Sequence[np.ndarray], data: np.ndarray | None = None) -> np.ndarray:
    """``H_o = J^T J`` with blocks ``J_k^T J_l = (A_k^T A_l) kron (B_k X X^T B_l^T)``."""
    depth = len(weights)
    off = _offsets(weights)
    a = [left_factor(weights, l) for l in range(1, depth + 1)]
    bx = [data_right_factor(weights, l, data) for l in range(1, depth + 1)]
    out = _zeros(weights[0], (off[-1], off[-1]))
    for k in range(depth):
        for l in range(k, depth):
            block = np.kron(a[k].T @ a[l], bx[k] @ bx[l].T)
            out[off[k] : off[k + 1], off[l] : off[l + 1]] = block
            if l != k:
                out[off[l] : off[l + 1], off[k] : off[k + 1]] = block.T
    return out


def residual_term(
    weights: Sequence[np.ndarray], data: np.ndarray | None, labels: np.ndarray
) -> np.ndarray:
    """``H_f``: block ``(l, k)``, ``k < l``, has entry ``Mid[b, c] G[e, a]`` (module docstring);
    it is zero when ``R X^T = 0``."""
    depth = len(weights)
    off = _offsets(weights)
    r = residual(weights, data, labels)
    out = _zeros(weights[0], (off[-1], off[-1]))
    for l in range(2, depth + 1):  # 1-based layers, k < l
        a_l = left_factor(weights, l)
        for k in range(1, l):
            mid = _chain(weights[k : l - 1], weights[0], weights[k - 1].shape[0])
            g = data_right_factor(weights, k, data) @ r.T @ a_l  # d_{k-1} x d_l
            block = np.multiply.outer(g.T, mid).transpose(0, 2, 3, 1)  # [a, b, c, e]
            block = block.reshape(weights[l - 1].size, weights[k - 1].size)
            out[off[l - 1] : off[l], off[k - 1] : off[k]] = block
            out[off[k - 1] : off[k], off[l - 1] : off[l]] = block.T
    return out


def full_hessian(
    weights: Sequence[np.ndarray], data: np.ndarray | None, labels: np.ndarray
) -> np.ndarray:
    """The ``P x P`` Hessian of ``1/2 ||W_L...W_1 X - Y||_F^2`` (docs/mathematics.md K1): ``J^T J + H_f``."""
    return gauss_newton(weights, data) + residual_term(weights, data, labels)


def hessian_vector_product(
    weights: Sequence[np.ndarray], data: np.ndarray | None, labels: np.ndarray, v: np.ndarray
) -> np.ndarray:
    """``H v`` as the directional derivative of the gradient ``A_l^T R X^T B_l^T`` along ``v``.

    With ``A_{l-1} = A_l W_l`` and ``B_{l+1} = W_l B_l``: ``dA_{l-1} = dA_l W_l + A_l D_l``,
    ``dB_{l+1} = D_l B_l + W_l dB_l``, ``dR = sum_l A_l D_l B_l X``, and
    ``d grad_l = dA_l^T R X^T B_l^T + A_l^T dR X^T B_l^T + A_l^T R X^T dB_l^T``.
    """
    return _HvpFactors(weights, data, labels).apply(v)


class _HvpFactors:
    """What every Hessian-vector product at one point shares: ``A_l``, ``B_l``, ``R X^T``, and
    the point's constant products ``R X^T B_l^T`` and ``A_l^T R X^T``."""

    def __init__(
        self, weights: Sequence[np.ndarray], data: np.ndarray | None, labels: np.ndarray
    ) -> None:
        depth = len(weights)
        self.weights, self.data = list(weights), data
        self.offsets = _offsets(weights)
        self.a = [left_factor(weights, l) for l in range(1, depth + 1)]
        self.b = [right_factor(weights, l) for l in range(1, depth + 1)]
        r = residual(weights, data, labels)
        self.rxt = r if data is None else r @ data.T
        self.xxt = None if data is None else data @ data.T
        self.rxt_bt = [self.rxt @ b.T for b in self.b]
        self.at_rxt = [a.T @ self.rxt for a in self.a]
        self.wt = [w.T for w in self.weights]

    def apply(self, v: np.ndarray) -> np.ndarray:
        """``H v`` (docstring of :func:`hessian_vector_product`), with ``dR = dA_1 W_1 + A_1 D_1``
        (``B_1 = I``) and the Gauss-Newton part ``A_l^T dR X^T B_l^T`` from
        ``U_l = A_l^T dR X^T`` by ``U_{l-1} = W_l^T U_l``: ``8L - 2`` small products."""
        ws, a, b, off = self.weights, self.a, self.b, self.offsets
        depth = len(ws)
        d = [v[off[i] : off[i + 1]].reshape(w.shape) for i, w in enumerate(ws)]
        da: list[np.ndarray | None] = [None] * depth  # dA_L = 0
        for i in range(depth - 1, 0, -1):  # 0-based: dA_{i-1} = dA_i W_{i+1} + A_i D_{i+1}
            step = a[i] @ d[i]
            da[i - 1] = step if da[i] is None else da[i] @ ws[i] + step
        db: list[np.ndarray | None] = [None] * depth  # dB_1 = 0
        for i in range(1, depth):
            step = d[i - 1] @ b[i - 1]
            db[i] = step if db[i - 1] is None else ws[i - 1] @ db[i - 1] + step
        dr = a[0] @ d[0] if da[0] is None else da[0] @ ws[0] + a[0] @ d[0]
        u = dr if self.xxt is None else dr @ self.xxt  # U_L = dR X X^T (A_L = I)
        out: list[np.ndarray] = [u] * depth
        for i in range(depth - 1, -1, -1):
            gn = u @ b[i].T
            if i > 0:
                u = self.wt[i] @ u
            o = gn
            dai, dbi = da[i], db[i]
            if dai is not None:
                o = o + dai.T @ self.rxt_bt[i]
            if dbi is not None:
                o = o + self.at_rxt[i] @ dbi.T
            out[i] = o
        return np.concatenate([o.ravel() for o in out])


def hessian_operator(
    weights: Sequence[np.ndarray], data: np.ndarray | None, labels: np.ndarray, *,
    how: Literal["auto", "samples", "factors"] = "auto",
) -> LinearOperator:
    """The Hessian as a float64 matrix-free ``LinearOperator`` (approximate arithmetic): a
    ``numeric.operators.HessianOperator`` (counts its products; ``how`` = ``"auto"``,
    ``"samples"`` (push the ``min(N, d_0)`` samples through, no ``d x d`` factor) or
    ``"factors"`` (:class:`_HvpFactors`), chosen by ``numeric.operators.choose_route``)."""
    from numeric.operators import hessian_operator as operator

    return operator(weights, data, labels, how=how)
