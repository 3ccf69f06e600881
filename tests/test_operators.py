"""``numeric.operators``: the samples and factors Hessian-vector products against the explicit
K1 Hessian (``numeric.hessian.full_hessian``, the slow reference), the data compression, the
structured Lanczos start and the route choice. Tolerances come from float64's eps and the norms
of the point (``_scale``); nothing here is timed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from derivations.errors import DmfError, ShapeError
from numeric import operators
from numeric.hessian import full_hessian, gauss_newton
from numeric.hessian import hessian_operator as hessian_hessian_operator
from numeric.operators import (
    HessianOperator,
    choose_route,
    compress_data,
    hessian_operator,
    lambda_max_float64,
    route_seconds,
    top_eigenpairs,
)
from numeric.strategies import dims as dims_strategy

EPS = float(np.finfo(np.float64).eps)

# (dims, samples) where samples is None (X = I), "few" (N < d_0), "many" (N > d_0)
Case = tuple[tuple[int, ...], Any, bool, int]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """Small dims, a data regime, minimizer or not, and a seed for the numpy draws."""
    d = draw(dims_strategy(max_depth=4, max_width=5))
    return d, draw(st.sampled_from([None, "few", "many"])), draw(st.booleans()), draw(
        st.integers(0, 2**32 - 1))


def _point(case: Case) -> tuple[list[np.ndarray], np.ndarray | None, np.ndarray]:
    """Weights ``N(0, 1)``; data ``N < d_0`` (at least 1) or ``N = 2 d_0 + 1``; labels the
    product through the data (a minimizer, ``R = 0`` up to rounding) or ``N(0, 1)``."""
    d, regime, minimizer, seed = case
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal((d[l + 1], d[l])) for l in range(len(d) - 1)]
    n = {None: None, "few": max(1, d[0] - 1), "many": 2 * d[0] + 1}[regime]
    x = None if n is None else rng.standard_normal((d[0], n))
    f = ws[0]
    for w in ws[1:]:
        f = w @ f
    out = f if x is None else f @ x
    y = out.copy() if minimizer else rng.standard_normal(out.shape)
    return ws, x, y


def _scale(ws: list[np.ndarray], x: np.ndarray | None, y: np.ndarray) -> float:
    """A float64 error scale of every Hessian entry: ``n eps (S^2 + T)`` with ``S = sum_l
    prod_{j != l} ||W_j|| ||X||`` (bounds ``||J||``), ``T = sum_{k<l} (prod_j ||W_j|| ||X|| +
    ||Y||) ||X|| prod_{j != k, l} ||W_j||`` (bounds the residual term with ``R`` computed in
    float64) and ``n`` the sum of all inner dimensions (plus ``N``): each entry is a sum of
    products along a chain of these matrices, each rounded once per operation."""
    norms = [float(np.linalg.norm(w)) for w in ws]
    xn = 1.0 if x is None else float(np.linalg.norm(x))
    depth = len(ws)

    def others(skip: set[int]) -> float:
        return float(np.prod([n for j, n in enumerate(norms) if j not in skip]))

    s = sum(others({l}) * xn for l in range(depth))
    r = others(set()) * xn + float(np.linalg.norm(y))
    t = sum(r * xn * others({k, l}) for l in range(depth) for k in range(l))
    inner = sum(w.shape[0] + w.shape[1] for w in ws) + (0 if x is None else sum(x.shape))
    return 8 * inner * EPS * (s * s + t + 1e-300)


# --------------------------------------------------------------------------- the products
@given(cases())
@example(((3, 4, 2), None, False, 0))  # X = I, d_L < d_0: the transposed network
@example(((2, 3, 4), None, True, 1))  # X = I, R = 0 exactly: the g terms are skipped
@example(((3, 1, 3), "many", False, 2))  # width-1 bottleneck, compressed data
@example(((4, 2), "few", True, 3))  # one layer
def test_samples_and_factors_products_equal_the_explicit_hessian(case: Case) -> None:
    ws, x, y = _point(case)
    h = full_hessian(ws, x, y)
    p = h.shape[0]
    v = np.random.default_rng(case[3] + 1).standard_normal(p)
    tol = _scale(ws, x, y) * np.sqrt(p) * np.linalg.norm(v)
    for how in ("samples", "factors"):
        op = hessian_operator(ws, x, y, how=how)
        assert op.route == how and op.shape == (p, p)
        assert np.linalg.norm(op.matvec(v) - h @ v) <= tol, how
        assert op.products == 1
    samples = hessian_operator(ws, x, y, how="samples")
    assert samples.samples == (min(ws[0].shape[1], ws[-1].shape[0]) if x is None
                               else min(x.shape))


@given(cases())
def test_operator_columns_form_the_explicit_hessian(case: Case) -> None:
    """Every column (``op @ I``): the operator is the Hessian, symmetric, in K1's order."""
    ws, x, y = _point(case)
    h = full_hessian(ws, x, y)
    p = h.shape[0]
    tol = _scale(ws, x, y) * p
    dense = hessian_operator(ws, x, y, how="samples") @ np.eye(p)
    assert np.max(np.abs(dense - h)) <= tol
    assert np.max(np.abs(dense - dense.T)) <= 2 * tol


def test_numeric_hessian_operator_delegates() -> None:
    ws, x, y = _point(((3, 4, 2), "few", False, 5))
    op = hessian_hessian_operator(ws, x, y)
    assert isinstance(op, HessianOperator)
    assert hessian_hessian_operator(ws, x, y, how="factors").route == "factors"


# --------------------------------------------------------------------------- the compression
@given(cases().filter(lambda c: c[1] == "many"))
def test_compression_leaves_the_hessian_unchanged(case: Case) -> None:
    ws, x, y = _point(case)
    assert x is not None
    f, y2 = compress_data(x, y)
    assert f.shape == (x.shape[0], min(x.shape)) and y2.shape == (y.shape[0], f.shape[1])
    xn = float(np.linalg.norm(x))
    gram_tol = 8 * sum(x.shape) * EPS * xn * xn
    assert np.max(np.abs(f @ f.T - x @ x.T)) <= gram_tol
    assert np.max(np.abs(y2 @ f.T - y @ x.T)) <= gram_tol / xn * float(np.linalg.norm(y))
    tol = _scale(ws, x, y)
    assert np.max(np.abs(full_hessian(ws, f, y2) - full_hessian(ws, x, y))) <= tol


def test_compression_keeps_few_samples_as_they_are() -> None:
    x, y = np.arange(6.0).reshape(3, 2), np.ones((1, 2))
    f, y2 = compress_data(x, y)
    assert np.array_equal(f, x) and np.array_equal(y2, y)


# --------------------------------------------------------------------------- the start vector
@given(cases())
def test_gram_has_the_nonzero_spectrum_of_gauss_newton(case: Case) -> None:
    """``J J^T`` (on the compressed / transposed outputs) and ``J^T J`` (``gauss_newton`` on
    the original problem) share their nonzero eigenvalues; the ``K, G`` form, the pass form
    and the dense matrix agree."""
    ws, x, y = _point(case)
    op = hessian_operator(ws, x, y, how="samples")
    gram = operators._Gram(op._pass())
    dense = gram.dense()
    gn = np.linalg.eigvalsh(gauss_newton(ws, x))[::-1]
    gv = np.linalg.eigvalsh(dense)[::-1]
    n = min(gn.size, gv.size)
    tol = _scale(ws, x, y) * max(gn.size, gv.size)
    assert np.all(np.abs(gv[:n] - gn[:n]) <= tol)
    assert np.all(np.abs(gn[n:]) <= tol) and np.all(np.abs(gv[n:]) <= tol)
    u = np.random.default_rng(case[3]).standard_normal(gram.size)
    by_pass = gram.s.jvp(gram.s.vjp(u.reshape(gram.out_shape)))[-1].ravel()
    assert np.linalg.norm(gram.apply(u) - dense @ u) <= tol * np.linalg.norm(u) * gram.size
    assert np.linalg.norm(by_pass - dense @ u) <= tol * np.linalg.norm(u) * gram.size


@given(cases().filter(lambda c: c[2]))
def test_start_vector_at_a_minimizer_is_a_top_eigenvector(case: Case) -> None:
    """At a minimizer ``H = J^T J`` (up to rounding of ``R``): ``J^T u / sqrt(s)`` is a unit
    eigenvector for ``lambda_max``."""
    ws, x, y = _point(case)
    op = hessian_operator(ws, x, y, how="samples")
    v = op.start_vector(1)
    h = full_hessian(ws, x, y)
    vals = np.linalg.eigvalsh(h)
    tol = _scale(ws, x, y) * h.shape[0]
    if vals[-1] <= tol:  # J = 0 (a zero layer): no structured start
        return
    assert v is not None
    assert abs(np.linalg.norm(v) - 1) <= 1e-6
    lam = vals[-1]
    gap = lam - vals[-2] if vals.size > 1 else lam
    assert abs(v @ h @ v - lam) <= tol * 10
    if gap > 1e-6 * lam:  # a simple top eigenvalue: the vector itself is determined
        assert np.linalg.norm(h @ v - lam * v) <= 1e-6 * lam + tol * 10


@pytest.mark.parametrize("form", ["dense", "kron", "pass"])
def test_structured_start_gives_the_dense_lambda_max(form: str, monkeypatch: Any) -> None:
    """Dims (3,6,5,4) with 7 samples (compressed to 3), near and away from a minimizer, with
    ``u`` from dense ``eigh``, Lanczos on the ``K, G`` form or on ``J (J^T u)``: ARPACK from
    the structured start finds the same top eigenvalues as LAPACK on the explicit Hessian."""
    if form != "dense":
        monkeypatch.setattr(operators, "GRAM_DENSE_LIMIT", 2)
        monkeypatch.setattr(operators, "EXPECTED_PRODUCTS", 0 if form == "pass" else 10**9)
    rng = np.random.default_rng(7)
    d = (3, 6, 5, 4)
    star = [rng.standard_normal((d[l + 1], d[l])) for l in range(3)]
    x = rng.standard_normal((3, 7))
    f = star[2] @ star[1] @ star[0]
    for move in (1e-3, 1.0):
        ws = [w + move * rng.standard_normal(w.shape) for w in star]
        y = f @ x
        h = full_hessian(ws, x, y)
        vals = np.linalg.eigvalsh(h)[::-1]
        for k in (1, 4):
            op = hessian_operator(ws, x, y, how="samples")
            got, vecs, products = top_eigenpairs(op, k, tol=1e-12)
            assert np.allclose(got, vals[:k], rtol=1e-9, atol=0)
            assert np.linalg.norm(h @ vecs - vecs * got) <= 1e-9 * vals[0]
            assert products == op.products > 0
            assert op.gram_products > 0 if form != "dense" else op.gram_products == 0
        value, vector, products = lambda_max_float64(hessian_operator(ws, x, y), tol=1e-12)
        assert abs(value - vals[0]) <= 1e-9 * vals[0] and vector.shape == (sum(
            w.size for w in ws),)


def test_cold_start_is_the_seeded_random_vector() -> None:
    ws, x, y = _point(((3, 4, 5, 2), "few", False, 11))
    op = hessian_operator(ws, x, y)
    seeded = np.random.default_rng(0).standard_normal(op.shape[0])
    a = top_eigenpairs(op, 1, v0=seeded, tol=1e-12)
    b = top_eigenpairs(hessian_operator(ws, x, y), 1, v0=seeded, tol=1e-12)
    assert a[2] == b[2] and a[0][0] == b[0][0]
    assert abs(a[0][0] - np.linalg.eigvalsh(full_hessian(ws, x, y))[-1]) <= 1e-9 * a[0][0]


# --------------------------------------------------------------------------- the route choice
@pytest.mark.parametrize("dims, n", [
    ((784, 512, 512, 10), 32),
    ((32, 256, 256, 256, 10), 8),
    ((128, 128, 128, 128, 128, 128), 16),
])
def test_auto_picks_samples_when_n_is_much_smaller_than_the_widths(
        dims: tuple[int, ...], n: int) -> None:
    assert choose_route(dims, n) == "samples"
    cost = route_seconds(dims, n)
    assert cost["samples"][1] < cost["factors"][1]


def test_auto_builds_no_factor_on_the_samples_route() -> None:
    rng = np.random.default_rng(3)
    d = (64, 96, 96, 10)
    ws = [rng.standard_normal((d[l + 1], d[l])) / np.sqrt(d[l]) for l in range(3)]
    x, y = rng.standard_normal((64, 4)), rng.standard_normal((10, 4))
    op = hessian_operator(ws, x, y)
    assert op.route == "samples" and op._factors is None and op.samples == 4


def test_cost_model_grows_with_samples_up_to_d0_only() -> None:
    """The samples route's product is priced on ``m = min(N, d_0)`` columns: more samples cost
    more up to ``d_0`` and nothing beyond (only the one-off compression grows)."""
    d = (16, 64, 64, 8)
    per = [route_seconds(d, n)["samples"][1] for n in (2, 8, 16, 64, 1024)]
    assert per[0] < per[1] < per[2] == per[3] == per[4]
    setup = [route_seconds(d, n)["samples"][0] for n in (16, 64, 1024)]
    assert setup[0] < setup[1] < setup[2]
    assert route_seconds(d, 8)["factors"][1] == route_seconds(d, 1024)["factors"][1]


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("args, match", [
    (([np.ones((2, 3)), np.ones((4, 5))], None, np.ones((4, 3))),
     r"W_2 has shape \(4, 5\) but W_1 outputs 2 rows"),
    (([np.ones((2, 3))], np.ones((4, 5)), np.ones((2, 5))), r"data X must be \(d_0, N\)"),
    (([np.ones((2, 3))], np.ones((3, 5)), np.ones((2, 4))), r"labels Y must be .* \(2, 5\)"),
    (([np.ones((2, 3))], None, np.ones((3, 2))), r"target M must be .* \(2, 3\)"),
    (([np.ones(3)], None, np.ones((1, 3))), r"W_1 must be 2-D"),
], ids=["layers-do-not-chain", "data-rows", "labels-shape", "target-shape", "not-2d"])
def test_bad_shapes_are_refused_in_one_line(args: Any, match: str) -> None:
    with pytest.raises(ShapeError, match=match):
        hessian_operator(*args)


def test_bad_route_is_refused() -> None:
    with pytest.raises(DmfError, match="how must be 'auto', 'samples' or 'factors'; got 'fast'"):
        hessian_operator([np.ones((1, 1))], None, np.ones((1, 1)), how="fast")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the benchmark
def test_benchmark_script_runs_and_its_solvers_agree() -> None:
    """``benchmarks/operators.py --quick`` (no torch, no grid, one run): every table is printed
    and the four solves of each case (old factors, cold at ncv 20 and 10, structured start) give
    the same lambda_max to 1e-9 (times are printed, not asserted)."""
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "operators.py"), "--quick", "--no-torch",
         "--no-grid", "--repeat", "1"],
        cwd=root, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "One Hessian-vector product" in out and out.count("load average") >= 3
    section = out.split("lambda_max by ARPACK", 1)[1].split("lambda_max (struct)", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("(")]
    assert len(rows) == 4, out
    assert max(float(line.rsplit("|", 1)[1]) for line in rows) <= 1e-9, out
