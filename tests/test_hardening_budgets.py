"""numeric.sharpness hardening: the exact route picks the smaller exact operator with many
samples, refuses work predicted over its time budget (instead of hanging), and reads data in
both layouts (columns as samples, or rows as samples as in PyTorch and JAX) without guessing."""

from __future__ import annotations

import importlib
import subprocess
import sys
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations.errors import DmfError, TooLargeError
from derivations.exact import parse_point
from numeric.eigen import certified_eigvalsh
from numeric.evaluators.budget import BudgetExceededError, estimate_exact_seconds
from numeric.evaluators.kinds import point_arrays
from numeric.hessian import full_hessian
from numeric.reduced import (
    data_factor,
    data_factor_columns,
    exact_operator_sizes,
    four_squares,
    minimizer_hessian,
    reduced_operator,
)
from numeric.sharpness import sharpness

eigen_module = importlib.import_module("numeric.eigen")


@pytest.fixture
def eig_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every matrix handed to ``certified_eigvalsh``."""
    sizes: list[int] = []
    original = eigen_module.certified_eigvalsh

    def counted(matrix: Any, **kwargs: Any) -> Any:
        sizes.append(len(matrix))
        return original(matrix, **kwargs)

    monkeypatch.setattr(eigen_module, "certified_eigvalsh", counted)
    return sizes


# ----------------------------------------------------------------------- 1. many samples
def _repeated_data(n: int) -> list[list[int]]:
    return [[1] * n, [2] * n]


@pytest.mark.parametrize("n", [60, 2000])
def test_many_samples_use_the_smaller_exact_operator(n: int, eig_sizes: list[int]) -> None:
    """W_1 = [1, 2] (P = 2) on N samples: the gram form of K is N x N (2000 x 2000 took over a
    minute); J^T J is 2 x 2. The samples repeat one column, so K(N) = (N/50) K(50): the
    certified enclosure must meet N/50 times the gram-form route's enclosure at N = 50."""
    ws = [[[1, 2]]]
    r = sharpness(ws, data=_repeated_data(n), labels="product", dps=30)
    assert r.certified and r.route == "reduced" and r.at_minimizer
    p, d0_dl = 2, 2 * 1
    assert r.operator_size is not None and r.operator_size <= max(p, d0_dl)
    assert eig_sizes and max(eig_sizes) <= max(p, d0_dl)
    point = parse_point(ws, data=_repeated_data(50))
    w, x, _ = point_arrays(point, "exact")
    gram = reduced_operator(w, x, form="gram")
    assert gram.shape == (50, 50)  # the slow route, run where it is cheap
    ref = certified_eigvalsh(gram, dps=30, which="top")[0]
    scale = Fraction(n, 50)
    assert r.enclosure.lo <= ref.hi * scale and ref.lo * scale <= r.enclosure.hi
    assert r.enclosure.contains(5 * n)  # ||w||^2 ||x_1||^2 N: the rank-1 closed form
    assert r.zero_multiplicity is None and r.multiplicity == 1


def test_many_samples_mpmath_route_agrees(eig_sizes: list[int]) -> None:
    r = sharpness([[[1, 2]]], data=_repeated_data(2000), labels="product", dps=20, certify=False)
    assert abs(r.value - 10000) <= 1e-12 * 10000
    assert not eig_sizes  # not certified: no certified_eigvalsh


@settings(max_examples=15, deadline=None)
@given(
    dims=st.sampled_from([(2, 1), (2, 2, 1), (1, 2, 2), (3, 1, 2)]),
    n=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_minimizer_hessian_is_the_full_hessian_at_minimizers(
    dims: tuple[int, ...], n: int, seed: int
) -> None:
    """J^T J from C = X X^T equals the full Hessian (docs/mathematics.md K1, from X itself) at a
    minimizer, exactly, and has the gram form's rank."""
    rng = np.random.default_rng(seed)

    def rational(rows: int, cols: int) -> list[list[Fraction]]:
        return [[Fraction(int(rng.integers(-4, 5)), int(rng.integers(1, 4))) for _ in range(cols)]
                for _ in range(rows)]

    ws = [rational(dims[i + 1], dims[i]) for i in range(len(dims) - 1)]
    point = parse_point(ws, data=rational(dims[0], n))
    w, x, y = point_arrays(point, "exact")
    h = minimizer_hessian(w, x)
    assert (h == full_hessian(w, x, y)).all()
    from derivations.algebraic import exact_rank

    assert exact_rank(h) == exact_rank(reduced_operator(w, x, form="gram"))


@settings(max_examples=40, deadline=None)
@given(n=st.one_of(st.integers(0, 5000), st.integers(0, 2**300)))
def test_four_squares(n: int) -> None:
    squares = four_squares(n)
    assert len(squares) == 4 and sum(v * v for v in squares) == n
    assert four_squares(n) == squares  # seeded by n: reproducible


@settings(max_examples=25, deadline=None)
@given(
    d0=st.integers(1, 3),
    n=st.integers(1, 12),
    rank=st.integers(0, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_data_factor_is_exact_and_small(d0: int, n: int, rank: int, seed: int) -> None:
    """F F^T = X X^T exactly, with at most 4 rank(C) columns (rank-deficient and zero data
    included)."""
    rng = np.random.default_rng(seed)
    r = min(rank, d0, n)
    left = np.array([[Fraction(int(rng.integers(-3, 4)), int(rng.integers(1, 5)))
                      for _ in range(r)] for _ in range(d0)], dtype=object).reshape(d0, r)
    right = np.array([[Fraction(int(rng.integers(-3, 4))) for _ in range(n)]
                      for _ in range(r)], dtype=object).reshape(r, n)
    x = left @ right if r else np.full((d0, n), Fraction(0), dtype=object)
    f = data_factor(x)
    assert f is not None and (f @ f.T == x @ x.T).all()
    from derivations.algebraic import exact_rank

    columns = data_factor_columns(x)
    assert columns is not None and f.shape[1] <= max(columns, 1)
    assert columns <= max(4 * exact_rank(x @ x.T), 1)  # X = 0: one zero column


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_factor_form_agrees_with_the_full_hessian(seed: int, eig_sizes: list[int]) -> None:
    """dims (2, 5, 2), N = 20 integer samples at a minimizer: the gram form is 40 x 40, J^T J
    20 x 20, the factor form at most 16 x 16. Its enclosure must meet the full Hessian's
    (route="full": docs/mathematics.md K1 from X itself, an independent route)."""
    rng = np.random.default_rng(seed)
    ws = [rng.integers(-2, 3, (5, 2)).tolist(), rng.integers(-2, 3, (2, 5)).tolist()]
    x = rng.integers(-3, 4, (2, 20)).tolist()
    r = sharpness(ws, data=x, labels="product", dps=30, spectrum=True)
    assert "F F^T = X X^T" in r.method and r.operator_size is not None
    assert r.operator_size <= 2 * 8 and max(eig_sizes) <= 16
    full = sharpness(ws, data=x, labels="product", dps=30, route="full", spectrum=True)
    assert r.enclosure.overlaps(full.enclosure)
    assert r.zero_multiplicity == full.zero_multiplicity
    assert all(a.overlaps(b) for a, b in zip(r.spectrum_enclosures or [],
                                             full.spectrum_enclosures or [], strict=True))


def test_large_pivots_fall_back_to_the_other_exact_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pivots beyond FACTOR_MAX_BITS: no factor (the four-square search would be slow); the
    smaller of J^T J and the gram form is used, with the same enclosure."""
    rng = np.random.default_rng(0)
    ws = [rng.integers(-2, 3, (5, 2)).tolist(), rng.integers(-2, 3, (2, 5)).tolist()]
    x = rng.integers(-3, 4, (2, 20)).tolist()
    with_factor = sharpness(ws, data=x, labels="product", dps=30)
    monkeypatch.setattr(importlib.import_module("numeric.reduced"), "FACTOR_MAX_BITS", 1)
    assert data_factor(np.array(x, dtype=object) + Fraction(0)) is None
    r = sharpness(ws, data=x, labels="product", dps=30)
    assert "J^T J (20 x 20" in r.method and r.operator_size == 20
    assert r.enclosure.overlaps(with_factor.enclosure)


def test_exact_operator_sizes_prefers_the_gram_form_on_ties_and_without_data() -> None:
    assert exact_operator_sizes((3, 3, 2), None) == ("gram", 6, 6, 15)
    assert exact_operator_sizes((2, 3), 2)[0] == "gram"  # d_L N = 6 = P: tie
    assert exact_operator_sizes((2, 3), 3) == ("hessian", 6, 9, 6)


# ----------------------------------------------------------------------- 2. budgets
def _chain_point(depth: int) -> tuple[list[Any], list[list[int]]]:
    """2 x 2 integer layers (entries of the products grow like 2.6^depth), target 0."""
    rng = np.random.default_rng(0)
    ws = [[[int(v) for v in row] for row in rng.integers(1, 3, size=(2, 2))]
          for _ in range(depth)]
    return ws, [[0, 0], [0, 0]]


def _float_network(dims: tuple[int, ...]) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.standard_normal((dims[i + 1], dims[i])) / np.sqrt(dims[i])
            for i in range(len(dims) - 1)]


@pytest.mark.parametrize(
    ("weights", "target", "what"),
    [
        (*_chain_point(100), "400 x 400 full Hessian"),
        (_float_network((32,) * 7), "product", "1024 x 1024 eigenvalue problem"),
    ],
    ids=["depth100-2x2-nonminimizer", "depth6-width32-minimizer"],
)
def test_work_over_budget_is_refused_up_front(weights: Any, target: Any, what: str) -> None:
    """Before: no answer after 65 s (depth 100), 247 s and 3 GB (width 32)."""
    with pytest.raises(BudgetExceededError,
                       match=r"predicted to take (about|at least) [0-9.e+]+ s") as info:
        sharpness(weights, target)
    msg = str(info.value)
    assert isinstance(info.value, TooLargeError) and "\n" not in msg
    assert what in msg and "max_seconds=60" in msg and "float64=True" in msg
    assert "max_seconds (None: no limit)" in msg


def test_shapes_alone_refuse_before_the_entries_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Width 512 (P = 786432): refused from the shapes, without parsing 786432 entries and
    multiplying them exactly (that alone took 12 s); smaller shapes go on to the parser."""
    sharpness_module = importlib.import_module("numeric.sharpness")

    def no_parsing(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the entries were parsed")

    monkeypatch.setattr(sharpness_module, "parse_point", no_parsing)
    ws = _float_network((512, 512, 512, 512))
    with pytest.raises(BudgetExceededError, match=r"at least .* from the shapes alone, before "
                       r"reading the entries: at least a 262144 x 262144 eigenvalue problem"):
        sharpness(ws, "product")
    with pytest.raises(BudgetExceededError, match="from the shapes alone"):
        sharpness(ws, "product", certify=False)
    narrow = _float_network((512, 512, 4))  # without data at least 2048 x 2048: refused
    with pytest.raises(BudgetExceededError, match="2048 x 2048"):
        sharpness(narrow, "product")
    with pytest.raises(BudgetExceededError, match=r"2\^2 exact factor products of width 512"):
        sharpness(narrow, data=np.ones((512, 2)), labels="product")  # not dyadic: the chains
    with pytest.raises(AssertionError, match="parsed"):  # with data the bound is d_L = 4
        sharpness(_float_network((64, 64, 4)), data=np.ones((64, 2)), labels="product")
    small = _float_network((3, 4, 2))
    with pytest.raises(AssertionError, match="parsed"):  # with a target: the exact parser
        sharpness(small, target=np.ones((2, 3)))
    res = sharpness(small, "product")  # float weights, M = product: K from their dyadic values
    assert res.certified and "dyadic" in res.method


def test_budget_names_certify_false_when_that_fits() -> None:
    """dims (2, 20, 2) with 100 samples: certified work on J^T J (80 x 80), mpmath on the
    4 x 4 sqrt form of K; a budget between the two predictions points to certify=False."""
    ws = _float_network((2, 20, 2))
    data = np.arange(200.0).reshape(2, 100) % 7
    point = parse_point(ws, data=data)
    cert, _ = estimate_exact_seconds(point, "reduced")
    approx, _ = estimate_exact_seconds(point, "reduced", certify=False)
    budget = (cert + approx) / 2
    assert approx < budget < cert
    with pytest.raises(BudgetExceededError, match="certify=False"):
        sharpness(ws, data=data, labels="product", max_seconds=budget)
    with pytest.raises(BudgetExceededError, match="float64=True") as info:
        sharpness(ws, data=data, labels="product", max_seconds=approx / 2)
    assert "certify=False" not in str(info.value)
    assert sharpness(ws, data=data, labels="product", max_seconds=budget, certify=False).dps == 50


def test_the_estimate_grows_with_size_and_depth() -> None:
    small = estimate_exact_seconds(parse_point(_float_network((4, 4, 4))), "reduced")[0]
    wide = estimate_exact_seconds(parse_point(_float_network((16, 16, 16))), "reduced")[0]
    deep = estimate_exact_seconds(parse_point(*_chain_point(40)), "full")[0]
    deeper = estimate_exact_seconds(parse_point(*_chain_point(80)), "full")[0]
    assert small < wide and deep < deeper and small < 1


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "60", True],
                         ids=["zero", "negative", "nan", "inf", "string", "bool"])
def test_bad_max_seconds_is_one_line(bad: Any) -> None:
    with pytest.raises(DmfError, match="max_seconds must be a positive number"):
        sharpness([[[1]]], "product", max_seconds=bad)


def test_no_budget_and_float64_ignore_the_estimate() -> None:
    ws, target = _chain_point(100)
    r = sharpness(ws, target, float64=True, max_seconds=1e-9)  # float64 has no budget
    assert r.dps is None and r.route == "full"
    assert sharpness([[[1]], [[2]]], "product", max_seconds=None, dps=20).enclosure.contains(5)


# ----------------------------------------------------------------------- 3. data layout
X = [["1", "2", "-1"], ["0", "1", "3"]]  # d_0 = 2, N = 3
Y = [["2", "1/2", "0"]]  # d_L = 1
WS = [[["1", "-1"], ["2", "1"]], [["1", "1/3"]]]


def _transpose(m: list[list[Any]]) -> list[list[Any]]:
    return [list(col) for col in zip(*m, strict=True)]


def test_inputs_targets_are_data_labels_transposed() -> None:
    a = sharpness(WS, data=X, labels=Y, dps=30)
    b = sharpness(WS, inputs=_transpose(X), targets=_transpose(Y), dps=30)
    assert not a.at_minimizer and a.enclosure == b.enclosure and a.route == b.route
    with pytest.raises(DmfError, match="got inputs= but no targets="):  # no silent Y = f X
        sharpness(WS, inputs=_transpose(X), dps=30)
    c = sharpness(WS, inputs=np.array(_transpose(X), dtype=float), targets="product", dps=30)
    assert c.at_minimizer  # Y = f X, asked for explicitly
    same = sharpness(WS, data=np.array(X, dtype=float), labels="product", dps=30)
    assert c.enclosure == same.enclosure
    floats = [np.array([[float(Fraction(v)) for v in row] for row in m]) for m in (X, Y)]
    f = sharpness(WS, inputs=floats[0].T, targets=floats[1].T, float64=True)
    assert abs(f.value - float(a.value)) <= 1e-9 * f.value


def test_square_data_layouts_differ_unless_symmetric() -> None:
    """N = d_0 = 2: the same square matrices read in the two layouts are different problems
    (depth 2: at depth 1 the Hessian is (X X^T) kron I, and X X^T, X^T X share eigenvalues)."""
    ws = [[[1, 2], [0, 1]], [[1, 0], [1, 1]]]
    x, y = [[1, 2], [0, 1]], [[1, 0], [3, 1]]
    by_columns = sharpness(ws, data=x, labels=y, dps=20)
    by_rows = sharpness(ws, inputs=x, targets=y, dps=20)
    assert not by_columns.enclosure.overlaps(by_rows.enclosure)
    sym_x, sym_y = [[2, 1], [1, 3]], [[1, 4], [4, 0]]
    assert (sharpness(ws, data=sym_x, labels=sym_y, dps=20).enclosure
            == sharpness(ws, inputs=sym_x, targets=sym_y, dps=20).enclosure)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"data": X, "labels": Y, "inputs": _transpose(X)}, "not both"),
        ({"inputs": _transpose(X), "labels": Y, "targets": _transpose(Y)}, "not both"),
        ({"data": X, "targets": _transpose(Y)}, "not both"),
        ({"targets": _transpose(Y)}, r"targets \(N x d_L\) needs inputs"),
        ({"target": "product", "targets": _transpose(Y)}, "targets .* needs inputs"),
        ({"inputs": [1, 2, 3], "targets": "product"}, "inputs must be a 2-D N x d_0 matrix"),
        ({"inputs": [[1, 2], [3]], "targets": "product"}, "inputs must be a 2-D N x d_0 matrix"),
        ({"inputs": _transpose(X), "targets": [[1, 2, 3]]},
         r"targets has shape \(1, 3\) but W_2 gives d_L = 1 outputs per sample"),
    ],
    ids=["data+inputs", "labels+targets", "data+targets", "targets-alone",
         "targets-without-inputs", "inputs-1d",
         "inputs-ragged", "targets-wrong-shape"],
)
def test_layout_errors_are_one_line(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(DmfError, match=match) as info:
        sharpness(WS, dps=20, **kwargs)
    assert "\n" not in str(info.value)


def test_torch_sequential_as_weights() -> None:
    torch = pytest.importorskip("torch", reason="the optional torch extra is not installed")
    ws = _float_network((3, 4, 2))
    model = torch.nn.Sequential(*(torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
                                  for w in ws)).double()
    with torch.no_grad():
        for layer, w in zip(model, ws, strict=True):
            layer.weight.copy_(torch.from_numpy(w))
    inputs = torch.from_numpy(np.arange(15.0).reshape(5, 3) / 7)
    a = sharpness(model, inputs=inputs, targets="product", dps=30)
    b = sharpness(ws, data=inputs.numpy().T, labels="product", dps=30)
    assert a.enclosure == b.enclosure and a.dims == (3, 4, 2)
    with pytest.raises(DmfError, match="bias"):
        sharpness(torch.nn.Sequential(torch.nn.Linear(2, 2)), "product")


def test_torch_is_not_imported_for_plain_weights() -> None:
    code = ("import sys; from numeric.sharpness import sharpness; "
            "sharpness([[[1, 2]]], inputs=[[1, 0], [0, 1]], targets='product', dps=20); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
