"""The Hessian of the loss by symbolic differentiation: the slow, obviously correct reference.

Public:
    SYMBOLIC_PARAM_LIMIT  (re-exported from ``derivations.symbolic``) the largest ``P`` accepted
    loss_gradient         ``(g, params)``: ``g_i = dL/dtheta_i`` (``P x 1``)
    loss_hessian          ``(H, params)``: ``H_ij = d/dtheta_j (dL/dtheta_i)`` (``P x P``)
    product_jacobian      ``(J, params)``: ``J = d vec(f(W) X) / d theta`` (``d_L N x P``)
    gauss_newton_matrix   ``(J^T J, params)`` (``P x P``)
    symbolic_hessian_at   the Hessian evaluated exactly at a ``Point``: a ``Fraction`` array
    evaluate              evaluate a polynomial matrix exactly (helper shared with identities)
    gradient_poly, hessian_poly, jacobian_poly, gauss_newton_poly, vec_columns
                          the same objects as ``DomainMatrix`` over the polynomial ring, cached
                          by the hashable key ``(dims, X, Y)`` of ``symbolic.normalize_inputs``
                          (``derivations.identities`` works on these)

Conventions (docs/mathematics.md): ``L(W) = 1/2 ||W_L ... W_1 X - Y||_F^2``; ``theta`` is
``concat(W_1.ravel(), ..., W_L.ravel())`` (layer 1 first, row-major), and ``params`` lists the
weight symbols (``w{l}_{i}_{j}``) in that order. The Jacobian's rows follow the **column-major**
vec of ``f X`` (docs/mathematics.md's vec): row ``i + d_L * j`` is entry ``(i, j)`` of ``f X``.

How it is obtained: the loss is expanded as an exact polynomial over ``QQ``, differentiated once
per parameter for the gradient, and each gradient entry is differentiated once per parameter
for the Hessian (the Jacobian of the gradient; ``sympy.hessian`` would recompute the first
derivatives for every entry). Nothing here uses the formula code of ``numeric`` (the routes stay
independent). Results are cached by ``(dims, X, Y)``; returned matrices are immutable.

>>> H, params = loss_hessian((1, 1, 1))
>>> params
[w1_0_0, w2_0_0]
>>> H
Matrix([
[                 w2_0_0**2, -m_0_0 + 2*w1_0_0*w2_0_0],
[-m_0_0 + 2*w1_0_0*w2_0_0,                 w1_0_0**2]])
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np
import sympy
from sympy.polys.domains import QQ
from sympy.polys.matrices import DomainMatrix

from derivations.exact import ExactMatrix, Point
from derivations.symbolic import (
    SYMBOLIC_PARAM_LIMIT,
    cached_model,
    check_dims,
    normalize_inputs,
)

__all__ = [
    "SYMBOLIC_PARAM_LIMIT",
    "evaluate",
    "gauss_newton_matrix",
    "gauss_newton_poly",
    "gradient_poly",
    "hessian_poly",
    "jacobian_poly",
    "loss_gradient",
    "loss_hessian",
    "product_jacobian",
    "symbolic_hessian_at",
    "vec_columns",
]


# ---------------------------------------------------------------------------------------------
# polynomial versions (cached; the identities module uses these)


@lru_cache(maxsize=64)
def gradient_poly(dims: tuple[int, ...], x: Any, y: Any) -> DomainMatrix:
    """``P x 1``: each loss derivative, ``dL/dtheta_i``, by differentiating the loss polynomial."""
    pm = cached_model(dims, x, y)
    rows = [[pm.loss.diff(p)] for p in pm.params]
    return DomainMatrix(rows, (len(rows), 1), pm.ring)


@lru_cache(maxsize=64)
def hessian_poly(dims: tuple[int, ...], x: Any, y: Any) -> DomainMatrix:
    """``P x P``: the Jacobian of the gradient, ``H_ij = d(dL/dtheta_i)/dtheta_j``."""
    pm = cached_model(dims, x, y)
    grad = [row[0] for row in gradient_poly(dims, x, y).to_list()]
    rows = [[g.diff(p) for p in pm.params] for g in grad]
    return DomainMatrix(rows, (len(rows), len(rows)), pm.ring)


def vec_columns(m: DomainMatrix) -> list[Any]:
    """The column-major vec of a DomainMatrix as a list of ring elements."""
    rows = m.to_list()
    return [rows[i][j] for j in range(m.shape[1]) for i in range(m.shape[0])]


@lru_cache(maxsize=64)
def jacobian_poly(dims: tuple[int, ...], x: Any) -> DomainMatrix:
    """``d_L N x P``: ``J_{r, k} = d vec(f X)_r / d theta_k`` (column-major vec)."""
    pm = cached_model(dims, x, _labels_for_jacobian(dims, x))
    entries = vec_columns(pm.fx)
    rows = [[e.diff(p) for p in pm.params] for e in entries]
    return DomainMatrix(rows, (len(rows), len(pm.params)), pm.ring)


def _labels_for_jacobian(dims: tuple[int, ...], x: Any) -> Any:
    """J does not involve the labels: use the default symbolic ones (shares the cached model)."""
    return normalize_inputs(dims, x, None)[2]


@lru_cache(maxsize=64)
def gauss_newton_poly(dims: tuple[int, ...], x: Any) -> DomainMatrix:
    """``P x P``: ``J^T J``."""
    j = jacobian_poly(dims, x)
    return j.transpose() * j


# ---------------------------------------------------------------------------------------------
# public SymPy versions


@lru_cache(maxsize=64)
def _to_matrix(kind: str, dims: tuple[int, ...], x: Any, y: Any) -> sympy.ImmutableMatrix:
    polys = {
        "gradient": lambda: gradient_poly(dims, x, y),
        "hessian": lambda: hessian_poly(dims, x, y),
        "jacobian": lambda: jacobian_poly(dims, x),
        "gauss-newton": lambda: gauss_newton_poly(dims, x),
    }[kind]()
    return sympy.ImmutableMatrix(polys.to_Matrix())


def loss_gradient(
    dims: Sequence[int], *, data: Any = None, labels: Any = None
) -> tuple[sympy.ImmutableMatrix, list[sympy.Symbol]]:
    """The gradient ``dL/dtheta`` (``P x 1``, docs/mathematics.md K1) and the parameter symbols.

    >>> g, params = loss_gradient((1, 1))
    >>> g
    Matrix([[-m_0_0 + w1_0_0]])
    """
    key = normalize_inputs(dims, data, labels)
    return _to_matrix("gradient", *key), list(cached_model(*key).param_symbols)


def loss_hessian(
    dims: Sequence[int], *, data: Any = None, labels: Any = None
) -> tuple[sympy.ImmutableMatrix, list[sympy.Symbol]]:
    """The ``P x P`` Hessian of ``L`` obtained by differentiating the loss (gradient first, then
    its Jacobian), and the ``P`` parameter symbols in docs/mathematics.md order.

    ``data``/``labels``: ``None`` (``X = I``, ``Y`` = symbolic ``M`` with entries ``m_i_j``), a
    rational array-like, or a SymPy matrix of polynomials (see ``derivations.symbolic``).

    >>> H, _ = loss_hessian((1, 1), data=[[2]], labels=[[1]])
    >>> H
    Matrix([[4]])
    """
    key = normalize_inputs(dims, data, labels)
    return _to_matrix("hessian", *key), list(cached_model(*key).param_symbols)


def product_jacobian(
    dims: Sequence[int], *, data: Any = None
) -> tuple[sympy.ImmutableMatrix, list[sympy.Symbol]]:
    """``J = d vec(f(W) X) / d theta`` (``d_L N x P``; ``N = d_0`` when ``X = I``), rows in
    column-major vec order (entry ``(i, j)`` of ``f X`` is row ``i + d_L j``), columns in
    docs/mathematics.md parameter order. ``J theta_dot = vec(sum_l A_l D_l B_l X)`` (docs/mathematics.md K1).

    >>> J, _ = product_jacobian((1, 1, 2))
    >>> J
    Matrix([
    [w2_0_0, w1_0_0,      0],
    [w2_1_0,      0, w1_0_0]])
    """
    key = normalize_inputs(dims, data, None)
    return _to_matrix("jacobian", *key), list(cached_model(*key).param_symbols)


def gauss_newton_matrix(
    dims: Sequence[int], *, data: Any = None
) -> tuple[sympy.ImmutableMatrix, list[sympy.Symbol]]:
    """The Gauss-Newton matrix ``J^T J`` (``P x P``), the first term of docs/mathematics.md K1.

    >>> G, _ = gauss_newton_matrix((1, 1, 1))
    >>> G
    Matrix([
    [    w2_0_0**2, w1_0_0*w2_0_0],
    [w1_0_0*w2_0_0,     w1_0_0**2]])
    """
    key = normalize_inputs(dims, data, None)
    return _to_matrix("gauss-newton", *key), list(cached_model(*key).param_symbols)


# ---------------------------------------------------------------------------------------------
# exact evaluation


def evaluate(m: DomainMatrix, ring_values: Sequence[Any]) -> ExactMatrix:
    """Evaluate every entry of a polynomial matrix at ``ring_values`` (one exact rational per
    ring generator, in ring order); returns a ``Fraction`` object array."""
    vals = [QQ.convert(v) for v in ring_values]
    powers: dict[tuple[int, int], Any] = {}

    def power(k: int, e: int) -> Any:
        key = (k, e)
        if key not in powers:
            powers[key] = vals[k] ** e
        return powers[key]

    rows = m.to_list()
    out = np.empty(m.shape, dtype=object)
    for i, row in enumerate(rows):
        for j, p in enumerate(row):
            total = QQ.zero
            for monom, coeff in p.terms():
                term = coeff
                for k, e in enumerate(monom):
                    if e:
                        term *= power(k, e)
                total += term
            out[i, j] = Fraction(int(QQ.numer(total)), int(QQ.denom(total)))
    return out


def _qq(x: Fraction) -> Any:
    return QQ(x.numerator, x.denominator)


def symbolic_hessian_at(point: Point) -> ExactMatrix:
    """The symbolic Hessian (:func:`loss_hessian`) evaluated exactly at ``point``: a ``P x P``
    ``Fraction`` object array in docs/mathematics.md order.

    Without data the cached Hessian with symbolic target ``M`` is evaluated at the point's
    weights and target. With data, the point's ``X`` and ``Y`` are substituted as rationals into
    the loss before differentiating (cached per ``(dims, X, Y)``), then evaluated at the weights.

    >>> from derivations.exact import parse_point
    >>> symbolic_hessian_at(parse_point([[[1]], [[2]]], [[3]])).tolist()
    [[Fraction(4, 1), Fraction(1, 1)], [Fraction(1, 1), Fraction(1, 1)]]
    """
    dims = check_dims(point.dims)
    weights = [_qq(v) for w in point.weights for v in w.flat]
    if point.data is None:
        key = normalize_inputs(dims, None, None)
        pm = cached_model(*key)
        target = dict(zip(key[2], point.labels.flat, strict=True))
        extras = [_qq(target[s]) for s in pm.extra_symbols]
        return evaluate(hessian_poly(*key), weights + extras)
    key = normalize_inputs(dims, point.data, point.labels)
    return evaluate(hessian_poly(*key), weights)
