"""The float64 route's minimizer test: a float64 proof that ``R X^T != 0`` first (cheap), the
exact integer test otherwise; together they must agree with the exact parser's
``Point.is_minimizer`` on every point, including points a rounding error away."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations.exact import parse_point
from numeric.evaluators.float64_input import _clearly_not_minimizer, _float_is_minimizer


@st.composite
def _points(draw: st.DrawFn) -> tuple[list[np.ndarray], np.ndarray | None, np.ndarray]:
    """Small-integer weights and data (every product exact in float64), the target or labels
    the exact product moved by ``2^-k`` in one entry, or not at all."""
    depth = draw(st.integers(1, 3))
    dims = draw(st.lists(st.integers(1, 4), min_size=depth + 1, max_size=depth + 1))
    ints = st.integers(-3, 3)
    ws = [np.array(draw(st.lists(st.lists(ints, min_size=dims[l], max_size=dims[l]),
                                 min_size=dims[l + 1], max_size=dims[l + 1])), dtype=float)
          for l in range(depth)]
    f = ws[0]
    for w in ws[1:]:
        f = w @ f
    x = None
    if draw(st.booleans()):
        n = draw(st.integers(1, 4))
        x = np.array(draw(st.lists(st.lists(ints, min_size=n, max_size=n),
                                   min_size=dims[0], max_size=dims[0])), dtype=float)
        f = f @ x
    y = f.copy()
    shift = draw(st.sampled_from([None, 1, 2**-20, 2**-52, 2**-60]))
    if shift is not None:
        i, j = draw(st.integers(0, y.shape[0] - 1)), draw(st.integers(0, y.shape[1] - 1))
        y[i, j] += shift
    return ws, x, y


@settings(max_examples=150, deadline=None)
@given(_points())
def test_the_float64_test_agrees_with_the_exact_parser(
        point: tuple[list[np.ndarray], np.ndarray | None, np.ndarray]) -> None:
    ws, x, y = point
    exact = parse_point(ws, None if x is not None else y, data=x,
                        labels=y if x is not None else None).is_minimizer()
    t = None if x is not None else y
    assert _float_is_minimizer(ws, t, x, None if x is None else y) == exact
    if exact:  # the float64 proof never claims a nonzero residual at a minimizer
        assert not _clearly_not_minimizer(ws, x, y)


def test_a_far_point_is_decided_in_float64() -> None:
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((5, 4)), rng.standard_normal((3, 5))]
    assert _clearly_not_minimizer(ws, None, rng.standard_normal((3, 4)))


def test_a_rounding_error_is_not_taken_for_a_residual() -> None:
    """``W_2 W_1 = 1`` exactly, but float64 may sum ``1 + 2^-53 - 2^-53`` as ``1 - 2^-53``:
    the float64 residual can be nonzero at an exact minimizer, and the bound must cover it."""
    w1 = np.array([[1.0], [2.0**-53], [-(2.0**-53)]])
    w2 = np.array([[1.0, 1.0, 1.0]])
    target = np.array([[1.0]])
    assert not _clearly_not_minimizer([w1, w2], None, target)
    assert _float_is_minimizer([w1, w2], target, None, None)
    moved = np.array([[1.0 - 2.0**-40]])
    assert not _float_is_minimizer([w1, w2], moved, None, None)
