"""Tests of derivations.symbolic and derivations.hessian (the SymPy route).

The route's agreement with the explicit-formula Hessian of ``numeric.hessian`` is tested by the
lead in ``test_core_properties.py``; here the SymPy route is checked against SymPy itself
(direct ``sympy.diff`` of the loss expression, ``subs``) and against exact interpolation of the
loss along lines (``numeric.loss.loss`` on Fractions, no Hessian code).
"""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations.errors import EmptyInputError, EntryError, ShapeError, TooLargeError
from derivations.exact import Point, parse_point
from derivations.hessian import (
    SYMBOLIC_PARAM_LIMIT,
    gauss_newton_matrix,
    loss_gradient,
    loss_hessian,
    product_jacobian,
    symbolic_hessian_at,
)
from derivations.symbolic import (
    check_dims,
    loss,
    matrix_symbols,
    num_params,
    parameters,
    symbolic_weights,
    weight_symbol,
)
from numeric.loss import flatten
from numeric.loss import loss as exact_loss

SMALL_DIMS = [(1, 1), (2, 3), (1, 2, 1), (2, 3, 2), (3, 1, 2), (2, 2, 2, 2), (1, 2, 3, 1)]


# --- symbols and parameter order ------------------------------------------------------------


def test_symbol_names_unambiguous_for_wide_layers() -> None:
    names = [str(s) for s in parameters((12, 11))]
    assert len(set(names)) == len(names) == 132
    assert weight_symbol(1, 1, 11) != weight_symbol(1, 11, 1)
    assert str(weight_symbol(1, 10, 2)) == "w1_10_2"


@pytest.mark.parametrize("dims", SMALL_DIMS, ids=str)
def test_parameter_order_is_math_md_flatten(dims: tuple[int, ...]) -> None:
    """theta = concat(W_1.ravel(), ..., W_L.ravel()), the same as numeric.loss.flatten."""
    ws = [np.array(w.tolist(), dtype=object) for w in symbolic_weights(dims)]
    assert list(flatten(ws)) == parameters(dims)
    expected = [
        sympy.Symbol(f"w{l}_{i}_{j}")
        for l in range(1, len(dims))
        for i in range(dims[l])
        for j in range(dims[l - 1])
    ]
    assert parameters(dims) == expected
    assert len(expected) == num_params(dims)


@pytest.mark.parametrize(
    ("dims", "data", "labels"),
    [
        ((2, 3, 2), None, None),
        ((1, 2, 1), None, [[Fraction(3, 2)]]),
        ((2, 2, 1), [[1, 0, 2], [Fraction(-1, 3), 1, 1]], None),
        ((2, 1, 2), [[1, 2], [3, 5]], [[0, 1], [1, 0]]),
        ((1, 2, 2), matrix_symbols("x", 1, 2), None),
    ],
    ids=["symbolic-M", "rational-M", "data", "data+labels", "symbolic-X"],
)
def test_gradient_and_hessian_match_direct_sympy_diff(dims, data, labels) -> None:
    """Each entry equals sympy.diff of the loss expression w.r.t. the named symbol."""
    expr = loss(dims, data=data, labels=labels)
    g, params = loss_gradient(dims, data=data, labels=labels)
    h, params_h = loss_hessian(dims, data=data, labels=labels)
    assert params == params_h == parameters(dims)
    for k, p in enumerate(params):
        dk = sympy.diff(expr, p)
        assert sympy.expand(g[k] - dk) == 0
        for j, q in enumerate(params):
            assert sympy.expand(h[k, j] - sympy.diff(dk, q)) == 0


def test_named_entry_of_the_gradient() -> None:
    """dL/dw2_1_0 for dims (1, 2, 2) sits at index 2 + 1*2 + 0 = 4 of theta."""
    g, params = loss_gradient((1, 2, 2))
    s = sympy.Symbol("w2_1_0")
    assert params.index(s) == 4
    assert sympy.expand(g[4] - sympy.diff(loss((1, 2, 2)), s)) == 0


@pytest.mark.parametrize("dims", [(2, 3, 2), (2, 2, 2, 2)], ids=str)
def test_hessian_is_symmetric_and_gauss_newton_is_jtj(dims: tuple[int, ...]) -> None:
    h, _ = loss_hessian(dims)
    assert all(sympy.expand(h[i, j] - h[j, i]) == 0 for i in range(h.rows) for j in range(i))
    j, _ = product_jacobian(dims)
    g, _ = gauss_newton_matrix(dims)
    assert j.shape == (dims[-1] * dims[0], num_params(dims))
    assert (j.T * j - g).expand() == sympy.zeros(*g.shape)


def test_jacobian_rows_are_column_major_vec() -> None:
    """Row i + d_L j of J is the gradient of entry (i, j) of f X (docs/mathematics.md's vec)."""
    dims, x = (2, 1, 3), [[1, 2, 0, 1], [0, 1, 1, Fraction(1, 2)]]
    j, params = product_jacobian(dims, data=x)
    w = symbolic_weights(dims)
    fx = w[1] * w[0] * sympy.Matrix(x)
    for c in range(fx.cols):
        for r in range(fx.rows):
            row = [sympy.diff(fx[r, c], p) for p in params]
            assert [sympy.expand(a - b) for a, b in zip(j.row(r + dims[-1] * c), row, strict=True)] == [0] * len(row)


def test_results_are_cached_and_immutable() -> None:
    h1, _ = loss_hessian((2, 2, 2))
    h2, _ = loss_hessian([2, 2, 2])
    assert h1 is h2
    with pytest.raises(TypeError):
        h1[0, 0] = 0


# --- exact evaluation at points ---------------------------------------------------------------


def _second_derivative_along(point: Point, u: list[Fraction]) -> Fraction:
    """u^T H u, exactly: L(theta + t u) is a polynomial of degree <= 2L in t; interpolate it
    at 2L + 1 integers (Lagrange, exact) and return twice its t^2 coefficient."""
    degree = 2 * point.depth
    ts = list(range(-(degree // 2), degree - degree // 2 + 1))
    values = []
    for t in ts:
        shifted, k = [], 0
        for w in point.weights:
            d = np.array(u[k : k + w.size], dtype=object).reshape(w.shape)
            shifted.append(w + t * d)
            k += w.size
        values.append(exact_loss(shifted, point.data, point.labels))
    poly = sympy.interpolate(list(zip(ts, values, strict=True)), sympy.Symbol("t"))
    c2 = sympy.Poly(poly, sympy.Symbol("t")).coeff_monomial(sympy.Symbol("t") ** 2)
    return 2 * Fraction(int(c2.p), int(c2.q))


def _rational() -> st.SearchStrategy[Fraction]:
    return st.fractions(min_value=-3, max_value=3, max_denominator=4)


@st.composite
def small_points(draw: st.DrawFn) -> Point:
    dims = draw(st.sampled_from([(1, 2), (2, 1, 2), (1, 2, 1), (2, 2, 1), (1, 1, 2, 1)]))
    ws = [
        [[draw(_rational()) for _ in range(dims[l - 1])] for _ in range(dims[l])]
        for l in range(1, len(dims))
    ]
    if draw(st.booleans()):
        target = [[draw(_rational()) for _ in range(dims[0])] for _ in range(dims[-1])]
        return parse_point(ws, target)
    n = draw(st.integers(1, 3))
    x = [[draw(_rational()) for _ in range(n)] for _ in range(dims[0])]
    y = [[draw(_rational()) for _ in range(n)] for _ in range(dims[-1])]
    return parse_point(ws, data=x, labels=y)


@settings(max_examples=20, deadline=None)
@given(small_points())
def test_symbolic_hessian_at_matches_line_interpolation(point: Point) -> None:
    h = symbolic_hessian_at(point)
    p = point.num_params
    assert h.shape == (p, p)
    assert all(type(v) is Fraction for v in h.flat)
    assert (h == h.T).all()
    for i in range(p):
        e_i = [Fraction(int(k == i)) for k in range(p)]
        assert h[i, i] == _second_derivative_along(point, e_i)
        for j in range(i):
            e_ij = [Fraction(int(k in (i, j))) for k in range(p)]
            assert h[i, i] + 2 * h[i, j] + h[j, j] == _second_derivative_along(point, e_ij)


def test_symbolic_hessian_at_matches_sympy_subs() -> None:
    point = parse_point(
        [[[1, Fraction(1, 2)], [0, 2]], [[3, -1]]], data=[[1, 2, 3], [0, 1, 1]],
        labels=[[Fraction(1, 3), 0, 5]],
    )
    h, params = loss_hessian((2, 2, 1), data=point.data, labels=point.labels)
    values = dict(zip(params, [v for w in point.weights for v in w.flat], strict=True))
    expected = h.subs({k: sympy.Rational(v.numerator, v.denominator) for k, v in values.items()})
    got = symbolic_hessian_at(point)
    assert [[sympy.Rational(v.numerator, v.denominator) for v in row] for row in got] == expected.tolist()


def test_depth3_width3_hessian_at_a_point() -> None:
    """dims (3, 3, 3, 3), P = 27, must work; it is exact and symmetric."""
    rng = np.random.default_rng(7)
    ws = [[[Fraction(int(v), 2) for v in row] for row in rng.integers(-3, 4, (3, 3))] for _ in range(3)]
    point = parse_point(ws, [[1, 0, 0], [0, 2, 0], [0, 0, 3]])
    t0 = time.perf_counter()
    h = symbolic_hessian_at(point)
    elapsed = time.perf_counter() - t0
    assert h.shape == (27, 27) and (h == h.T).all()
    assert elapsed < 60  # generous: about 1 s on an idle 2-core machine
    at_min = symbolic_hessian_at(parse_point(ws))  # R = 0: H = J^T J is positive semidefinite
    assert all(at_min[i, i] >= 0 for i in range(27))


# --- refusals and bad input -------------------------------------------------------------------


def test_too_large_names_the_count_and_the_limit() -> None:
    with pytest.raises(TooLargeError, match=rf"P = 98 parameters.*SYMBOLIC_PARAM_LIMIT = {SYMBOLIC_PARAM_LIMIT}"):
        loss_hessian((7, 7, 7))
    with pytest.raises(TooLargeError, match=r"SYMBOLIC_TERM_LIMIT"):
        check_dims((3, 3, 3, 3, 3, 3))
    assert check_dims((3, 3, 3, 3)) == (3, 3, 3, 3)


@pytest.mark.parametrize(
    ("dims", "kwargs", "error", "message"),
    [
        ((), {}, EmptyInputError, r"no layer"),
        ((3,), {}, EmptyInputError, r"depth L >= 1"),
        ((2, 0), {}, ShapeError, r"d_1 = 0"),
        ((2, 2.5), {}, ShapeError, r"d_1 = 2.5"),
        ("23", {}, ShapeError, r"sequence"),
        ((2, 3), {"data": [[1, 2]]}, ShapeError, r"data X has shape \(1, 2\).*d_0 = 2"),
        ((2, 3), {"labels": [[1, 2]]}, ShapeError, r"target M has shape \(1, 2\); expected .* \(3, 2\)"),
        ((2, 3), {"data": [[1], [2]], "labels": [[1, 2]]}, ShapeError, r"labels Y .* \(3, 1\)"),
        ((1, 1), {"data": sympy.Matrix([[sympy.Symbol("w1_0_0")]])}, EntryError, r"weight symbol"),
        ((1, 1), {"labels": sympy.Matrix([[sympy.sqrt(2)]])}, EntryError, r"not a polynomial"),
        ((1, 1), {"labels": [["nan"]]}, ValueError, r"finite"),
    ],
    ids=["empty", "no-layer", "zero-width", "float-width", "string", "data-rows", "target-shape",
         "labels-shape", "data-uses-weight", "irrational", "nan"],
)
def test_bad_input_table(dims, kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        loss_hessian(dims, **kwargs)
