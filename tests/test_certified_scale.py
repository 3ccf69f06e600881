"""Certified sharpness of float64 weights at their own product, built from their dyadic values
(``numeric.reduced.dyadic_reduced_operator``): the same exact ``K`` and the same certified
enclosure as the route through exact rational parsing, at a fraction of the cost."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from derivations.exact import parse_point
from numeric.evaluators.budget import estimate_dyadic_seconds
from numeric.reduced import dyadic_reduced_operator, reduced_operator
from numeric.sharpness import sharpness

_floats = st.one_of(
    st.floats(-8, 8, allow_nan=False, width=64),
    st.sampled_from([1e-30, -3e25, 2.0**-1000, 5e-324, 0.0, 1.0 + 2.0**-52]),
)


@st.composite
def _float_weights(draw: st.DrawFn) -> list[np.ndarray]:
    dims = draw(st.lists(st.integers(1, 3), min_size=2, max_size=4))
    return [draw(hnp.arrays(np.float64, (dims[i + 1], dims[i]), elements=_floats))
            for i in range(len(dims) - 1)]


@settings(max_examples=60, deadline=None)
@given(_float_weights())
def test_dyadic_operator_is_the_exact_reduced_operator(ws: list[np.ndarray]) -> None:
    k = dyadic_reduced_operator(ws)
    exact = reduced_operator(list(parse_point(ws).weights), form="gram")
    n = exact.shape[0]
    assert (k.nrows(), k.ncols()) == (n, n)
    assert all(str(k[i, j]) == str(exact[i, j]) for i in range(n) for j in range(n))


@pytest.mark.parametrize("dims", [(2, 3, 2), (3, 2, 4, 2), (1, 3, 3, 1), (2, 5, 1, 3)])
def test_same_enclosure_as_the_parsed_route(dims: tuple[int, ...]) -> None:
    rng = np.random.default_rng(sum(dims))
    ws = [rng.standard_normal((dims[i + 1], dims[i])) for i in range(len(dims) - 1)]
    fast = sharpness(ws, "product", dps=40)
    parsed = sharpness([w.tolist() for w in ws], "product", dps=40)  # lists: the exact parser
    assert "dyadic" in fast.method and "dyadic" not in parsed.method
    assert fast.enclosure == parsed.enclosure
    assert (fast.multiplicity, fast.at_minimizer, fast.route) == (parsed.multiplicity, True, "reduced")


def test_wide_hidden_layers_are_certified_within_the_default_budget() -> None:
    rng = np.random.default_rng(0)
    dims = (4, 256, 256, 4)  # P = 67,584: the Fraction route's budget refused such widths
    ws = [rng.standard_normal((dims[i + 1], dims[i])) / np.sqrt(dims[i]) for i in range(3)]
    res = sharpness(ws, "product", dps=50)
    assert res.certified and res.operator_size == 16 and res.parameters == 67_584
    approx = sharpness(ws, "product", float64=True).value
    assert abs(float(res.value) - float(approx)) <= 1e-12 * abs(float(approx))
    assert float(res.enclosure.hi - res.enclosure.lo) <= 1e-45 * float(res.value)


def test_budget_of_the_dyadic_route() -> None:
    seconds, what = estimate_dyadic_seconds(1_081_344, 16, 16)
    assert seconds < 60 and what.startswith("a 256 x 256 eigenvalue problem")
    assert estimate_dyadic_seconds(10**6, 64, 64)[0] > 60  # n = 4096: refused by default


def test_runs_match_a_plain_grouping() -> None:
    """``_runs`` counts the padded zero tail in C; it must agree with plain grouping."""
    import itertools

    from numeric.result import _Ev, _runs

    rng = np.random.default_rng(5)
    pool = [_Ev(float(v)) for v in (3.0, 2.0, 1.0)]
    for _ in range(200):
        evs = [pool[int(i)] for i in np.sort(rng.integers(0, 3, int(rng.integers(0, 9))))]
        evs += [pool[2]] * int(rng.integers(0, 5))
        plain = [(g[0], len(g)) for g in (list(gr) for _, gr in itertools.groupby(evs, key=id))]
        assert _runs(evs) == plain


def test_a_wide_network_does_not_walk_its_zero_eigenvalues_in_python() -> None:
    """P = 1,081,344 at a minimizer: P - 256 exact zeros, counted without a Python loop over
    them (float64 and with a loss factor, which rescales every eigenvalue)."""
    import sys

    rng = np.random.default_rng(0)
    dims = (16, 1024, 1024, 16)
    ws = [rng.standard_normal((dims[i + 1], dims[i])) / np.sqrt(dims[i]) for i in range(3)]
    calls = 0

    def tracer(frame: object, event: str, arg: object) -> object:
        nonlocal calls
        if event == "call":
            calls += 1
        return None

    sys.setprofile(tracer)
    try:
        res = sharpness(ws, "product", float64=True, loss="mse")
    finally:
        sys.setprofile(None)
    assert res.parameters == 1_081_344 and res.at_minimizer
    assert calls < 50_000, f"{calls} Python calls: the zero eigenvalues were walked one by one"


def test_float_weights_beyond_float64_products_are_certified_exactly() -> None:
    """The dyadic route is exact arithmetic: products that overflow float64 (1e200 * 1e200)
    are no reason to refuse, and the answer is the parser route's."""
    ws = [np.array([[1e200]]), np.array([[1e-200], [3.0]])]
    fast = sharpness(ws, "product", dps=30)
    parsed = sharpness([w.tolist() for w in ws], "product", dps=30)
    assert "dyadic" in fast.method and fast.enclosure == parsed.enclosure
