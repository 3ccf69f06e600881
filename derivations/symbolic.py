"""Symbolic weights, product and loss of a deep linear network (docs/mathematics.md "Objects and conventions").

Public:
    SYMBOLIC_PARAM_LIMIT  the largest parameter count ``P`` the symbolic routes accept
    SYMBOLIC_TERM_LIMIT   a second guard against deep networks (the loss has too many terms)
    validate_dims         ``dims`` is a sequence of >= 2 positive ints (no size limit)
    check_dims            validate ``dims``; refuse sizes beyond the limits (``TooLargeError``)
    num_params            ``P = sum_l d_l d_{l-1}``
    weight_symbol         the SymPy ``Symbol`` ``w{l}_{i}_{j}`` for entry ``(i, j)`` of ``W_l``
    matrix_symbols        a matrix of symbols ``{prefix}_{i}_{j}`` (targets ``m``, labels ``y``, data ``x``)
    symbolic_weights      ``(W_1, ..., W_L)`` as SymPy matrices of weight symbols
    parameters            the ``P`` weight symbols in docs/mathematics.md order (layer 1 first, row-major)
    product, left_factor, right_factor   ``f = W_L ... W_1``, ``A_l``, ``B_l`` on SymPy matrices
    loss                  the SymPy expression ``1/2 ||W_L ... W_1 X - Y||_F^2``
    normalize_inputs      ``(dims, X, Y)`` checked, defaults filled in, hashable (a cache key)
    PolyModel, poly_model the same objects as exact polynomials (the engine of
                          ``derivations.hessian`` and ``derivations.identities``)
    cached_model          ``PolyModel`` from a ``normalize_inputs`` key (lru-cached)

Helpers (private): input normalisation of ``data``/``labels`` and the polynomial ring.

Symbol names. ``w{l}_{i}_{j}`` is entry ``(i, j)`` (0-based) of ``W_l`` (1-based layer), e.g.
``w1_0_1`` is ``W_1[0, 1]``; the underscores keep names unambiguous for widths and depths >= 10
(``w1_11_2`` versus ``w1_1_12``). The default target ``M`` (``X = I``) has entries ``m_i_j``; with
data ``X`` the default labels ``Y`` have entries ``y_i_j``. All symbols carry no assumptions, so
``sympy.Symbol("w1_0_1")`` is the same symbol.

``data`` and ``labels`` may be ``None`` (defaults above), a rational array-like (read exactly
by ``derivations.exact.parse_matrix``), or a SymPy matrix whose entries are polynomials with
rational coefficients in symbols other than the weight symbols (a symbolic ``X`` or ``Y``).

Engine. Everything is computed with exact sparse polynomials over ``QQ``
(``sympy.polys.matrices.DomainMatrix`` over ``QQ[w..., m...]``): expanding a product of symbol
matrices and differentiating it is orders of magnitude faster there than on SymPy ``Expr`` trees,
and equality is decided by exact coefficient comparison. With python-flint installed SymPy uses
it for the rational coefficients automatically; nothing here requires it.

>>> [str(s) for s in parameters((2, 1, 1))]
['w1_0_0', 'w1_0_1', 'w2_0_0']
>>> loss((1, 1))
(-m_0_0 + w1_0_0)**2/2
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cached_property, lru_cache
from typing import Any

import sympy
from sympy.polys.domains import QQ
from sympy.polys.matrices import DomainMatrix
from sympy.polys.polyerrors import CoercionFailed

from derivations.errors import EmptyInputError, EntryError, ShapeError, TooLargeError
from derivations.exact import parse_matrix, to_sympy

__all__ = [
    "SYMBOLIC_PARAM_LIMIT",
    "SYMBOLIC_TERM_LIMIT",
    "PolyModel",
    "cached_model",
    "check_dims",
    "left_factor",
    "loss",
    "matrix_symbols",
    "normalize_inputs",
    "num_params",
    "parameters",
    "poly_model",
    "product",
    "right_factor",
    "symbolic_weights",
    "validate_dims",
    "weight_symbol",
]

SYMBOLIC_PARAM_LIMIT = 48
"""Refuse symbolic work for more than this many weights ``P``.

Measured on this project's 2-core machine (polynomial Hessian / conversion of all ``P^2``
entries to SymPy ``Expr``): dims (3, 3, 3, 3), ``P = 27``: 0.1 s / 0.9 s; (4, 4, 4, 4),
``P = 48``: 0.8 s / 7 s; (3, 3, 3, 3, 3), ``P = 36``: 0.9 s / 16 s; (6, 6, 6, 6), ``P = 108``:
20 s / 180 s. Beyond this the numeric routes (exact ``Fraction`` or mpmath formula Hessians)
are the tool."""

SYMBOLIC_TERM_LIMIT = 10_000
"""Second guard, for depth: refuse when ``d_0 d_L (d_1 ... d_{L-1})^2`` (about twice the number
of monomials of the loss for ``X = I``) exceeds this. Depth 5 width 3 (``P = 45``) has 25 524
loss terms and needs 12 s / 6 minutes, so it is refused although ``P <= 48``."""

_Key = tuple[tuple[int, ...], Any, Any]


# ---------------------------------------------------------------------------------------------
# dims and symbols


def num_params(dims: Sequence[int]) -> int:
    """``P = sum_l d_l d_{l-1}``.

    >>> num_params((3, 3, 3, 3))
    27
    """
    return sum(int(dims[l]) * int(dims[l - 1]) for l in range(1, len(dims)))


def validate_dims(dims: Sequence[int]) -> tuple[int, ...]:
    """Validate ``dims = (d_0, ..., d_L)``: ``L >= 1`` and every width an int ``>= 1``.

    >>> validate_dims([2, 3, 2])
    (2, 3, 2)
    """
    if isinstance(dims, str | bytes) or not isinstance(dims, Sequence):
        raise ShapeError(f"dims must be a sequence (d_0, ..., d_L) of ints; got {dims!r}")
    if len(dims) < 2:
        raise EmptyInputError(
            f"dims {tuple(dims)!r} has no layer; expected (d_0, ..., d_L) with depth L >= 1"
        )
    for l, d in enumerate(dims):
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise ShapeError(f"d_{l} = {d!r} in dims {tuple(dims)!r}; every width must be an int >= 1")
    return tuple(int(d) for d in dims)


def check_dims(dims: Sequence[int]) -> tuple[int, ...]:
    """:func:`validate_dims`, and refuse sizes beyond :data:`SYMBOLIC_PARAM_LIMIT` and
    :data:`SYMBOLIC_TERM_LIMIT` with ``TooLargeError``.

    >>> check_dims([3, 3, 3, 3])
    (3, 3, 3, 3)
    """
    out = validate_dims(dims)
    p = num_params(out)
    if p > SYMBOLIC_PARAM_LIMIT:
        raise TooLargeError(
            f"dims {out} have P = {p} parameters, more than SYMBOLIC_PARAM_LIMIT = "
            f"{SYMBOLIC_PARAM_LIMIT} for symbolic differentiation; use the numeric routes "
            "(numeric.hessian with exact Fraction or mpmath entries) for this size"
        )
    paths = math.prod(out[1:-1])
    terms = out[0] * out[-1] * paths**2
    if terms > SYMBOLIC_TERM_LIMIT:
        raise TooLargeError(
            f"dims {out} (P = {p} parameters) give d_0 d_L (d_1...d_(L-1))^2 = {terms}, more "
            f"than SYMBOLIC_TERM_LIMIT = {SYMBOLIC_TERM_LIMIT} (the loss polynomial would be too "
            "large); use the numeric routes for this depth"
        )
    return out


def weight_symbol(l: int, i: int, j: int) -> sympy.Symbol:
    """The symbol of entry ``(i, j)`` (0-based) of ``W_l`` (1-based layer).

    >>> weight_symbol(1, 10, 2)
    w1_10_2
    """
    return sympy.Symbol(f"w{l}_{i}_{j}")


def matrix_symbols(prefix: str, rows: int, cols: int) -> sympy.ImmutableMatrix:
    """A ``rows x cols`` matrix of symbols ``{prefix}_{i}_{j}``.

    >>> matrix_symbols("m", 1, 2)
    Matrix([[m_0_0, m_0_1]])
    """
    return sympy.ImmutableMatrix(
        rows, cols, [sympy.Symbol(f"{prefix}_{i}_{j}") for i in range(rows) for j in range(cols)]
    )


def symbolic_weights(dims: Sequence[int]) -> tuple[sympy.ImmutableMatrix, ...]:
    """``(W_1, ..., W_L)``: ``W_l`` is ``d_l x d_{l-1}`` with entries ``w{l}_{i}_{j}``.

    >>> symbolic_weights((2, 1))
    (Matrix([[w1_0_0, w1_0_1]]),)
    """
    dims = validate_dims(dims)
    return tuple(matrix_symbols(f"w{l}", dims[l], dims[l - 1]) for l in range(1, len(dims)))


def parameters(dims: Sequence[int]) -> list[sympy.Symbol]:
    """``theta``: the weight symbols in docs/mathematics.md order, ``concat(W_1.ravel(), ..., W_L.ravel())``
    (layer 1 first, each layer row-major)."""
    return [s for w in symbolic_weights(dims) for s in w]  # ImmutableMatrix iterates row-major


def product(weights: Sequence[Any]) -> Any:
    """``f = W_L ... W_1`` (``weights[0]`` is ``W_1``), for SymPy matrices or DomainMatrices."""
    out = weights[0]
    for w in weights[1:]:
        out = w * out
    return out


def _eye_like(ref: Any, n: int) -> Any:
    if isinstance(ref, DomainMatrix):
        return DomainMatrix.eye(n, ref.domain)
    return sympy.ImmutableMatrix(sympy.eye(n))


def left_factor(weights: Sequence[Any], l: int) -> Any:
    """``A_l = W_L ... W_{l+1}`` (``d_L x d_l``), ``A_L = I``; ``l`` is 1-based."""
    if not 1 <= l <= len(weights):
        raise IndexError(f"layer index l = {l} is outside 1..L = 1..{len(weights)}")
    rest = list(weights[l:])
    return product(rest) if rest else _eye_like(weights[0], weights[l - 1].shape[0])


def right_factor(weights: Sequence[Any], l: int) -> Any:
    """``B_l = W_{l-1} ... W_1`` (``d_{l-1} x d_0``), ``B_1 = I``; ``l`` is 1-based."""
    if not 1 <= l <= len(weights):
        raise IndexError(f"layer index l = {l} is outside 1..L = 1..{len(weights)}")
    rest = list(weights[: l - 1])
    return product(rest) if rest else _eye_like(weights[0], weights[0].shape[1])


# ---------------------------------------------------------------------------------------------
# data and labels


def _as_matrix(obj: Any, name: str) -> sympy.ImmutableMatrix | None:
    """``None``, a rational array-like or a SymPy matrix -> an immutable (hashable) SymPy matrix."""
    if obj is None:
        return None
    if isinstance(obj, sympy.MatrixBase):
        if obj.rows == 0 or obj.cols == 0:
            raise EmptyInputError(f"{name} is empty (shape {obj.shape}); every dimension must be >= 1")
        return sympy.ImmutableMatrix(obj.applyfunc(sympy.sympify))
    return sympy.ImmutableMatrix(to_sympy(parse_matrix(obj, name)))


def normalize_inputs(
    dims: Sequence[int], data: Any = None, labels: Any = None
) -> _Key:
    """``(dims, X, Y)`` with shapes checked and the defaults filled in; hashable (a cache key).

    ``X`` stays ``None`` for ``X = I``; ``Y`` defaults to ``m_i_j`` (no data) or ``y_i_j``."""
    dims = check_dims(dims)
    d0, dl = dims[0], dims[-1]
    x = _as_matrix(data, "data X")
    y = _as_matrix(labels, "target M" if data is None else "labels Y")
    if x is not None and x.rows != d0:
        raise ShapeError(f"data X has shape {x.shape}; expected (d_0, N) with d_0 = {d0}")
    n = d0 if x is None else x.cols
    if y is None:
        y = matrix_symbols("m" if x is None else "y", dl, n)
    elif y.shape != (dl, n):
        what = "target M" if x is None else "labels Y"
        raise ShapeError(f"{what} has shape {y.shape}; expected (d_L, {'d_0' if x is None else 'N'}) = ({dl}, {n})")
    return dims, x, y


# ---------------------------------------------------------------------------------------------
# the polynomial engine


class PolyModel:
    """The loss of dims ``(d_0, ..., d_L)`` as exact polynomials.

    ``ring`` is ``QQ[theta, extras]`` (weights first, in docs/mathematics.md order, then the symbols of
    ``X``/``Y`` sorted by name); ``weights``, ``data`` (``None`` for ``X = I``), ``labels`` are
    ``DomainMatrix`` objects over it; ``params`` are the ring generators of ``theta``.
    """

    def __init__(self, dims: tuple[int, ...], x: Any, y: Any) -> None:
        self.dims = dims
        self.param_symbols = parameters(dims)
        taken = set(self.param_symbols)
        extras: set[sympy.Symbol] = set()
        for mat, name in ((x, "data X"), (y, "labels Y")):
            if mat is None:
                continue
            clash = mat.free_symbols & taken
            if clash:
                raise EntryError(f"{name} uses the weight symbol(s) {sorted(map(str, clash))}")
            extras |= mat.free_symbols
        self.extra_symbols = sorted(extras, key=str)
        self.ring = QQ[tuple(self.param_symbols) + tuple(self.extra_symbols)]
        gens = self.ring.gens
        self.params = tuple(gens[: len(self.param_symbols)])
        self.extras = tuple(gens[len(self.param_symbols) :])
        self.weights: tuple[DomainMatrix, ...] = tuple(
            self._convert(w, f"W_{l}") for l, w in enumerate(symbolic_weights(dims), start=1)
        )
        self.data = None if x is None else self._convert(x, "data X")
        self.labels = self._convert(y, "labels Y")

    def _convert(self, m: sympy.MatrixBase, name: str) -> DomainMatrix:
        rows = []
        for i in range(m.rows):
            row = []
            for j in range(m.cols):
                try:
                    row.append(self.ring.from_sympy(m[i, j]))
                except (CoercionFailed, ValueError) as exc:
                    raise EntryError(
                        f"{name}[{i}, {j}] = {m[i, j]} is not a polynomial with rational "
                        "coefficients; symbolic data and labels must be polynomial"
                    ) from exc
            rows.append(row)
        return DomainMatrix(rows, m.shape, self.ring)

    @property
    def depth(self) -> int:
        return len(self.weights)

    @cached_property
    def product(self) -> DomainMatrix:
        """``f = W_L ... W_1``."""
        return product(self.weights)

    @cached_property
    def fx(self) -> DomainMatrix:
        """``f X`` (``f`` itself when ``X = I``)."""
        return self.product if self.data is None else self.product * self.data

    @cached_property
    def residual(self) -> DomainMatrix:
        """``R = f X - Y``."""
        return self.fx - self.labels

    @cached_property
    def loss(self) -> Any:
        """``1/2 ||R||_F^2`` as a polynomial (a ring element)."""
        total = self.ring.zero
        for row in self.residual.to_list():
            for r in row:
                total += r * r
        return total / 2

    def left(self, l: int) -> DomainMatrix:
        """``A_l``."""
        return left_factor(self.weights, l)

    def right(self, l: int) -> DomainMatrix:
        """``B_l``."""
        return right_factor(self.weights, l)

    def to_sympy(self, p: Any) -> sympy.Expr:
        """A ring element as a SymPy expression."""
        return self.ring.to_sympy(p)


@lru_cache(maxsize=128)
def cached_model(dims: tuple[int, ...], x: Any, y: Any) -> PolyModel:
    """The :class:`PolyModel` of a ``normalize_inputs`` key, built once per key."""
    return PolyModel(dims, x, y)


def poly_model(dims: Sequence[int], *, data: Any = None, labels: Any = None) -> PolyModel:
    """The cached :class:`PolyModel` for ``dims`` with data ``X`` and labels ``Y``.

    >>> pm = poly_model((1, 1, 1))
    >>> pm.to_sympy(pm.loss) == sympy.expand(loss((1, 1, 1)))
    True
    """
    return cached_model(*normalize_inputs(dims, data, labels))


def loss(dims: Sequence[int], *, data: Any = None, labels: Any = None) -> sympy.Expr:
    """``L(W) = 1/2 ||W_L ... W_1 X - Y||_F^2`` as an (unexpanded) SymPy expression
    (docs/mathematics.md "Objects and conventions")."""
    dims, x, y = normalize_inputs(dims, data, labels)
    f = product(symbolic_weights(dims))
    r = (f if x is None else f * x) - y
    return sympy.Rational(1, 2) * sum((e**2 for e in r), sympy.Integer(0))
