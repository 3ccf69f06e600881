"""numeric.strategies: every strategy draws valid, exactly described points of its kind."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import example, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from derivations.exact import Point, exact_product, to_fmpq_mat
from numeric import strategies as dst
from numeric.minimizers import minimizer_from_weights


def _float_exact(m: np.ndarray) -> bool:
    return all(F(float(x)) == x for x in m.flat)


def _valid(point: Point) -> None:
    dims = point.dims
    for l, w in enumerate(point.weights, start=1):
        assert w.shape == (dims[l], dims[l - 1])
        assert all(isinstance(x, F) for x in w.flat)
    assert all(isinstance(x, F) for x in point.labels.flat)


@given(dst.dims())
def test_dims_defaults(d: tuple[int, ...]) -> None:
    assert 2 <= len(d) <= 4 and all(1 <= x <= 3 for x in d)


@given(st.data())
def test_dims_options(data: st.DataObject) -> None:
    d = data.draw(dst.dims(scalar_ends=True))
    assert d[0] == d[-1] == 1
    d = data.draw(dst.dims(square_ends=True, min_depth=2, max_depth=2, min_width=2, max_width=5))
    assert d[0] == d[-1] and len(d) == 3 and all(2 <= x <= 5 for x in d)
    d = data.draw(dst.dims(square_ends=False))
    assert d[0] != d[-1]


@given(dst.rational_matrices((2, 3), max_numerator=4, max_denominator=5))
def test_rational_matrices_exact(m: np.ndarray) -> None:
    assert m.shape == (2, 3) and m.dtype == object
    assert all(isinstance(x, F) and abs(x.numerator) <= 4 and x.denominator <= 5 for x in m.flat)


@given(dst.rational_matrices((3, 2), max_numerator=7, max_denominator=8, exact=False))
def test_rational_matrices_float_are_dyadic(m: np.ndarray) -> None:
    assert m.dtype == np.float64
    assert all(F(float(x)).denominator in (1, 2, 4, 8) and abs(x * 8) <= 56 for x in m.flat)


def test_rational_matrices_shrink_to_zero() -> None:
    m = find(dst.rational_matrices((2, 2)), lambda _: True)
    assert all(x == 0 for x in m.flat)


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "float64"])
@pytest.mark.parametrize("kind", [*dst.KINDS, "any"])
def test_minimizers_are_minimizers(kind: str, exact: bool) -> None:
    @settings(max_examples=15)
    @given(dst.minimizers(kind=kind, exact=exact))
    def check(point: Point) -> None:
        _valid(point)
        assert point.data is None and point.is_minimizer()
        assert np.all(point.target == exact_product(point.weights))
        if not exact:
            assert all(_float_exact(m) for m in (*point.weights, point.target))
        d = point.dims
        rank = int(to_fmpq_mat(point.target).rank())
        if kind == "rank_deficient":
            assert rank < min(d[0], d[-1])
        if kind == "zero_target":
            assert rank == 0
        if kind == "overparameterized":
            assert all(h > max(d[0], d[-1]) for h in d[1:-1])
        if kind == "balanced":
            ws = point.weights
            assert all(np.all(ws[l + 1].T @ ws[l + 1] == ws[l] @ ws[l].T) for l in range(len(ws) - 1))

    check()


@given(dst.minimizers(kind="zero_target", dims=(2, 3, 2)))
def test_zero_target_has_nonzero_weights_when_widths_allow(point: Point) -> None:
    assert all(x == 0 for x in point.target.flat)


@given(dst.minimizers(dims=dst.dims(scalar_ends=True)))
@example(minimizer_from_weights([[[0]]]))  # depth 1, zero target
@example(minimizer_from_weights([[[1], [2]], [[0, 0]]]))  # zero target, nonzero W_1
def test_minimizers_accept_dims_strategy(point: Point) -> None:
    assert point.dims[0] == point.dims[-1] == 1 and point.is_minimizer()


@settings(max_examples=20)
@given(dst.near_minimizers(with_data=True, max_samples=2))
def test_near_minimizers_with_data(point: Point) -> None:
    _valid(point)
    assert point.data is not None
    assert point.data.shape[0] == point.dims[0] and 1 <= point.data.shape[1] <= 2
    assert point.labels.shape == (point.dims[-1], point.data.shape[1])


@settings(max_examples=20)
@given(dst.near_minimizers(exact=False, scale=F(1, 1000)))
def test_near_minimizers_float_exact_and_small(point: Point) -> None:
    assert all(_float_exact(w) for w in point.weights)
    resid = point.residual()
    assert all(abs(x) < 1 for x in resid.flat)  # scale 2^-10 times entries <= 3


@given(dst.points_with_data(minimizer=True))
def test_points_with_data_minimizer(point: Point) -> None:
    assert point.data is not None and point.is_minimizer()


@given(dst.points_with_data(min_samples=2, max_samples=3))
def test_points_with_data_shapes(point: Point) -> None:
    _valid(point)
    assert point.data is not None and 2 <= point.data.shape[1] <= 3


def test_points_with_data_are_generally_not_minimizers() -> None:
    p = find(dst.points_with_data(), lambda p: not p.is_minimizer())
    assert not p.is_minimizer()


@given(st.data())
def test_gauges_invertible(data: st.DataObject) -> None:
    d = data.draw(dst.dims(max_depth=4))
    gs = data.draw(dst.gauges(d))
    assert [g.shape[0] for g in gs] == list(d[1:-1])
    assert all(int(to_fmpq_mat(g).rank()) == g.shape[0] for g in gs)


@pytest.mark.parametrize(
    ("strategy", "match"),
    [
        (lambda: dst.dims(min_depth=0), "min_depth must be an integer >= 1"),
        (lambda: dst.dims(min_width=3, max_width=2), "min_width <= max_width"),
        (lambda: dst.dims(scalar_ends=True, min_width=2, max_width=3), "scalar_ends=True"),
        (lambda: dst.rational_matrices((0, 2)), "rows must be an integer >= 1"),
        (lambda: dst.minimizers(kind="flat"), "kind must be one of"),
        (lambda: dst.minimizers(dims=(2,)), "dims must be"),
        (lambda: dst.points_with_data(min_samples=3, max_samples=2), "min_samples <= max_samples"),
    ],
    ids=["depth-0", "width-range", "scalar-ends-width", "empty-matrix", "unknown-kind",
         "dims-too-short", "samples-range"],
)
def test_invalid_arguments(strategy: object, match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        find(strategy(), lambda _: True)  # type: ignore[operator]
