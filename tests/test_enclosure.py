"""The Weyl enclosure of lambda_max(H) off minimizers (``numeric.enclosure``): it contains the
certified exact sharpness (full Hessian) near and far from minimizers, with and without data;
at an exact minimizer ``e = 0`` and its Weyl part is the reduced route's enclosure; each proven
ingredient (``e >= ||E||_2``, ``||W||_2``, ``lambda_max(M_1 M_2)``, ``lambda_max(C)``, the
positive-definiteness proof) is compared with certified values of the exact quantity, also on
adversarial matrices; bad input is refused in one line."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations.errors import DmfError, TooLargeError
from derivations.exact import parse_point
from numeric.eigen import certified_eigvalsh, certified_lambda_max
from numeric.enclosure import residual_term_bound, spectral_norm_bound, weyl_enclosure
from numeric.evaluators.kinds import point_arrays
from numeric.evaluators.verified import (
    _Dy,
    _nonneg_lambda_max,
    _positive_definite,
    _product_lambda_max,
)
from numeric.factors import left_factor, right_factor
from numeric.hessian import full_hessian, gauss_newton
from numeric.reduced import dyadic_reduced_operator, reduced_operator
from numeric.sharpness import sharpness


def _weights(rng: np.random.Generator, dims: tuple[int, ...]) -> list[np.ndarray]:
    return [rng.normal(size=(dims[i + 1], dims[i])) for i in range(len(dims) - 1)]


def _product(ws: list[np.ndarray]) -> np.ndarray:
    f = ws[0]
    for w in ws[1:]:
        f = w @ f
    return f


def _target(rng: np.random.Generator, ws: list[np.ndarray], kind: str) -> np.ndarray:
    f = _product(ws)
    if kind == "near":
        return f + 1e-5 * rng.normal(size=f.shape)
    if kind == "far":
        return rng.normal(size=f.shape)
    return f  # the float64 product: R is its rounding error


@st.composite
def _points(draw: st.DrawFn) -> tuple[list[np.ndarray], np.ndarray]:
    depth = draw(st.integers(2, 3))
    dims = tuple(draw(st.lists(st.integers(1, 4), min_size=depth + 1, max_size=depth + 1)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ws = _weights(rng, dims)
    return ws, _target(rng, ws, draw(st.sampled_from(["near", "far", "float product"])))


def _assert_contains_exact(lo: Fraction, hi: Fraction, exact: object) -> None:
    enc = exact.enclosure  # type: ignore[attr-defined]
    assert lo <= enc.lo and enc.hi <= hi, (float(lo), float(hi), str(enc))


# ----------------------------------------------------------------------------- containment
@settings(max_examples=25, deadline=None)
@given(_points())
def test_enclosure_contains_the_certified_exact_sharpness(point: tuple) -> None:
    ws, m = point
    lo, hi, how = weyl_enclosure(ws, m, dps=20)
    _assert_contains_exact(lo, hi, sharpness(ws, m, dps=30))
    assert how.weyl.contains(how.enclosure)  # Rayleigh and Kato-Temple only narrow it
    assert how.method.startswith("certified: Weyl enclosure, width")


@pytest.mark.parametrize("dims", [(2, 6, 3), (3, 5, 4, 2), (6, 2, 6), (4, 6, 5, 3)])
@pytest.mark.parametrize("kind", ["near", "far"])
def test_enclosure_contains_exact_sharpness_seeded(dims: tuple[int, ...], kind: str) -> None:
    rng = np.random.default_rng(sum(dims) + len(kind))
    ws = _weights(rng, dims)
    m = _target(rng, ws, kind)
    lo, hi, how = weyl_enclosure(ws, m, dps=20)
    _assert_contains_exact(lo, hi, sharpness(ws, m, dps=30))
    if kind == "near":  # e ~ 1e-5: the second-order ends are far narrower than Weyl's 2e
        assert how.relative_width < 1e-6 and how.width < how.weyl.width / 100


@pytest.mark.parametrize("labels_kind", ["near", "far"])
def test_enclosure_with_data_contains_exact_sharpness(labels_kind: str) -> None:
    rng = np.random.default_rng(7)
    ws = _weights(rng, (3, 4, 2))
    x = rng.normal(size=(3, 5))
    fx = _product(ws) @ x
    y = fx + (1e-5 if labels_kind == "near" else 1.0) * rng.normal(size=fx.shape)
    lo, hi, how = weyl_enclosure(ws, data=x, labels=y)
    assert how.gram_size == 2 * 5
    _assert_contains_exact(lo, hi, sharpness(ws, data=x, labels=y, dps=30))


def _exact_rayleigh(ws: list[np.ndarray], m: np.ndarray | None, x: np.ndarray | None,
                    y: np.ndarray | None, u: np.ndarray) -> Fraction:
    """``x^T H x / x^T x`` for ``x = J^T u`` from the exact full Hessian (the slow reference)."""
    point = parse_point(ws, m, data=x, labels=y)
    ew, ex, ey = point_arrays(point, "exact")
    depth = len(ew)
    dl = ew[-1].shape[0]
    big_u = np.array([Fraction(float(v)) for v in u], dtype=object).reshape(-1, dl).T
    ux = big_u if ex is None else big_u @ ex.T
    parts = [(left_factor(ew, l).T @ ux @ right_factor(ew, l).T).ravel()
             for l in range(1, depth + 1)]
    vec = np.concatenate(parts)
    h = full_hessian(ew, ex, ey)
    return Fraction(vec @ h @ vec) / Fraction(vec @ vec)


@pytest.mark.parametrize("with_data", [False, True])
def test_rayleigh_quotient_is_that_of_the_exact_hessian(with_data: bool) -> None:
    rng = np.random.default_rng(11)
    ws = _weights(rng, (2, 3, 3, 2))
    if with_data:
        x = rng.normal(size=(2, 3))
        y = _product(ws) @ x + 0.1 * rng.normal(size=(2, 3))
        _, _, how = weyl_enclosure(ws, data=x, labels=y)
        assert how.vector is not None
        expected = _exact_rayleigh(ws, None, x, y, how.vector)
    else:
        m = _target(rng, ws, "far")
        _, _, how = weyl_enclosure(ws, m)
        assert how.vector is not None
        expected = _exact_rayleigh(ws, m, None, None, how.vector)
    assert how.rayleigh == expected


# ----------------------------------------------------------------------------- minimizers
@pytest.mark.parametrize("dims", [(3, 4, 2), (2, 3, 3, 2)])
def test_at_an_exact_minimizer_e_is_zero_and_weyl_is_the_reduced_enclosure(
        dims: tuple[int, ...]) -> None:
    rng = np.random.default_rng(3)
    ws = [np.round(4 * w) / 4 for w in _weights(rng, dims)]  # small dyadics: f exact in float64
    f = _product(ws)
    for target in ("product", f):
        lo, hi, how = weyl_enclosure(ws, target, dps=20)
        assert how.residual_bound == 0 and how.residual.residual_zero
        reduced = certified_eigvalsh(dyadic_reduced_operator(ws), dps=20, which="top")[0]
        assert how.weyl == reduced
        assert reduced.contains(how.enclosure)
        exact = sharpness(ws, "product", dps=20).enclosure
        assert lo <= exact.hi and exact.lo <= hi


# ----------------------------------------------------------------------------- e >= ||E||_2
@pytest.mark.parametrize("seed", range(4))
def test_residual_bound_is_at_least_the_norm_of_the_exact_residual_term(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    dims = ((2, 3, 2), (3, 2, 3, 2), (2, 2, 2, 2, 2), (1, 3, 3, 1))[seed]
    ws = _weights(rng, dims)
    m = _target(rng, ws, "far")
    e, how = residual_term_bound(ws, m)
    ew, ex, ey = point_arrays(parse_point(ws, m), "exact")
    residual = full_hessian(ew, ex, ey) - gauss_newton(ew, ex)
    encs = certified_eigvalsh(residual, dps=20)
    assert e >= max(encs[0].hi, -encs[-1].lo)
    c_top = certified_lambda_max(np.array(how.c, dtype=object), dps=20)
    assert (e >= c_top.hi or c_top.contains(e)) and e <= c_top.hi * (1 + Fraction(1, 10**8))


# ----------------------------------------------------------------------------- spectral norms
def _adversarial() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(5)
    q1, _ = np.linalg.qr(rng.normal(size=(9, 9)))
    q2, _ = np.linalg.qr(rng.normal(size=(7, 7)))
    clustered = (q1[:, :7] * (1 - np.arange(7) * 1e-15)) @ q2.T
    mixed = rng.normal(size=(6, 5)) * np.logspace(-150, 150, 5)
    return [
        ("random", rng.normal(size=(8, 5))),
        ("rank one", np.outer(rng.normal(size=7), rng.normal(size=4))),
        ("zero columns", np.hstack([rng.normal(size=(5, 2)), np.zeros((5, 3))])),
        ("clustered singular values", clustered),
        ("tiny", 1e-300 * rng.normal(size=(5, 6))),
        ("subnormal", 5e-324 * rng.integers(-3, 4, size=(4, 4)).astype(float)),
        ("huge", 1e300 * rng.normal(size=(6, 4))),
        ("mixed scales", mixed),
        ("one entry", np.array([[-3.5]])),
        ("all ones", np.ones((10, 10))),
    ]


@pytest.mark.parametrize("method", ["exact", "float"])
@pytest.mark.parametrize(("name", "w"), _adversarial(), ids=[n for n, _ in _adversarial()])
def test_spectral_norm_bound_is_proven_and_sharp(method: str, name: str, w: np.ndarray) -> None:
    bound = spectral_norm_bound(w, method=method)  # type: ignore[arg-type]
    exact_w = np.array([[Fraction(float(v)) for v in row] for row in w], dtype=object)
    top = certified_lambda_max(exact_w.T @ exact_w, dps=30)  # ||W||_2^2
    assert bound * bound >= top.hi
    if name != "subnormal":  # there the underflow terms dominate, by design
        assert bound * bound <= top.hi * (1 + Fraction(1, 10**8)) + Fraction(1, 10**600)


def test_spectral_norm_bound_float_route_at_size() -> None:
    rng = np.random.default_rng(9)
    w = rng.normal(size=(150, 120)) / 12
    bound = spectral_norm_bound(w)  # auto: verified float64 (smaller side > EXACT_NORM_SIDE)
    exact = float(np.linalg.norm(w, 2))
    assert bound >= Fraction(exact) * (1 - Fraction(1, 10**12))
    assert float(bound) <= exact * (1 + 1e-9)
    assert bound < Fraction(float(np.linalg.norm(w)))  # sharper than Frobenius


# ----------------------------------------------------------------------------- small eigen bounds
@pytest.mark.parametrize("seed", range(6))
def test_product_lambda_max_is_at_least_the_squared_norm(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, r = 4, (4, 2, 1, 4, 3, 4)[seed]
    u = rng.normal(size=(6, n))
    v = rng.normal(size=(r, 5)) * (10.0 ** (seed - 3))
    v = np.vstack([v, np.zeros((n - r, 5))])  # M_2 = V V^T singular when r < n
    du, dv = _Dy.of(u), _Dy.of(v)
    t, how = _product_lambda_max(du.T @ du, dv @ dv.T)
    g = (du @ dv).fmpq()  # G = U V, ||G||_2^2 = lambda_max(M_1 M_2)
    top = certified_lambda_max(g.transpose() * g, dps=30)
    assert t >= top.hi
    if how == "spectral":
        assert t <= top.hi * (1 + Fraction(1, 10**8))


@pytest.mark.parametrize("c", [
    [[Fraction(0)]],
    [[Fraction(0), Fraction(3, 7)], [Fraction(3, 7), Fraction(0)]],
    [[Fraction(0), Fraction(1), Fraction(1)], [Fraction(1), Fraction(0), Fraction(1)],
     [Fraction(1), Fraction(1), Fraction(0)]],
    [[Fraction(0), Fraction(10**-30), Fraction(5)], [Fraction(10**-30), Fraction(0), Fraction(0)],
     [Fraction(5), Fraction(0), Fraction(0)]],
    [[Fraction(0)] * 4 for _ in range(4)],
], ids=["1x1", "2x2", "all ones", "tiny and large", "zero"])
def test_c_matrix_bound_is_at_least_lambda_max(c: list[list[Fraction]]) -> None:
    bound, how = _nonneg_lambda_max(c)
    top = certified_lambda_max(np.array(c, dtype=object), dps=30)
    assert bound >= top.hi or (how == "exact" and top.contains(bound))


def test_positive_definite_proof_never_accepts_a_non_definite_matrix() -> None:
    from flint import fmpq_mat

    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    qx = np.array([[Fraction(float(v)) for v in row] for row in q], dtype=object)

    def sym(diag: list[Fraction]) -> object:
        from flint import fmpq

        m = qx @ np.diag(np.array(diag, dtype=object)) @ qx.T
        return fmpq_mat([[fmpq(v.numerator, v.denominator) for v in row] for row in m])

    one, tiny = Fraction(1), Fraction(1, 10**40)
    assert _positive_definite(sym([one, one, 2 * one, 3 * one, 5 * one]))
    assert not _positive_definite(sym([one, one, one, one, Fraction(0)]))  # singular PSD
    assert not _positive_definite(sym([one, one, one, one, -tiny]))  # barely indefinite
    assert not _positive_definite(sym([-one] * 5))
    assert not _positive_definite(fmpq_mat(3, 3, [0] * 9))


# ----------------------------------------------------------------------------- refusals
_W = [np.ones((2, 3)), np.ones((2, 2))]
_REFUSALS = [
    ("no problem", (_W,), {}, "needs the problem"),
    ("list weights", ([[[1.0, 2.0]], [[1.0]]], "product"), {}, "W_1 is a list"),
    ("integer weights", ([np.ones((2, 3), dtype=int), np.ones((2, 2))], "product"), {},
     "W_1 is a 2-D int64 array"),
    ("Fraction weights", ([np.array([[Fraction(1, 3)]], dtype=object)], "product"), {},
     "W_1 is a 2-D object array"),
    ("string target", (_W, "identity"), {}, "must be 'product'"),
    ("target and data", (_W, np.ones((2, 3))), {"data": np.ones((3, 4)), "labels": "product"},
     "not both"),
    ("data without labels", (_W,), {"data": np.ones((3, 4))}, "needs labels="),
    ("labels without data", (_W, "product"), {"labels": np.ones((2, 3))}, "needs data="),
    ("bad target shape", (_W, np.ones((3, 3))), {}, "target"),
    ("nan weight", ([np.array([[np.nan]])], "product"), {}, "nan"),
    ("bad dps", (_W, "product"), {"dps": 2}, "dps must be"),
    ("Gram too large", ([np.ones((70, 70))], "product"), {}, "4900 x 4900"),
]


@pytest.mark.parametrize(("args", "kwargs", "message"), [r[1:] for r in _REFUSALS],
                         ids=[r[0] for r in _REFUSALS])
def test_bad_input_is_refused_in_one_line(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises(DmfError, match=re.escape(message)) as info:
        weyl_enclosure(*args, **kwargs)
    assert "\n" not in str(info.value)
    if "large" in message:
        assert isinstance(info.value, TooLargeError)


def test_spectral_norm_bound_refuses_non_float_input() -> None:
    with pytest.raises(DmfError, match="2-D float64 array"):
        spectral_norm_bound(np.array([[Fraction(1)]], dtype=object))


# ----------------------------------------------------------------------------- verified float64 G
@pytest.mark.parametrize(("dims", "with_data"), [((3, 5, 4), False), ((2, 4, 3, 3), False),
                                                  ((3, 4, 2), True)])
def test_verified_float_gram_route_agrees_with_the_certified_one(
        monkeypatch: pytest.MonkeyPatch, dims: tuple[int, ...], with_data: bool) -> None:
    import numeric.enclosure as enclosure

    rng = np.random.default_rng(sum(dims))
    ws = _weights(rng, dims)
    if with_data:
        x = rng.normal(size=(dims[0], 4))
        y = _product(ws) @ x + 1e-4 * rng.normal(size=(dims[-1], 4))
        kwargs: dict = {"data": x, "labels": y}
    else:
        kwargs = {"target": _target(rng, ws, "near")}
    lo, hi, certified = weyl_enclosure(ws, **kwargs)
    monkeypatch.setattr(enclosure, "CERTIFIED_GRAM_SIZE", 0)
    lo_f, hi_f, verified = weyl_enclosure(ws, **kwargs)
    assert verified.gram_method.startswith("verified float64")
    assert verified.gram.contains(certified.gram)  # lambda_max(G), certified at 20 digits
    assert verified.gram.width < certified.gram.hi * Fraction(1, 10**9)
    point = parse_point(ws, kwargs.get("target"), data=kwargs.get("data"),
                        labels=kwargs.get("labels"))
    ew, ex, _ = point_arrays(point, "exact")
    second = certified_eigvalsh(reduced_operator(ew, ex, form="gram"), dps=20)[1]
    assert verified.gram_second is not None and verified.gram_second >= second.hi
    assert lo_f <= hi and lo <= hi_f
    exact = sharpness(ws, **kwargs, dps=30).enclosure
    assert lo_f <= exact.lo and exact.hi <= hi_f


# ----------------------------------------------------------------------------- sharpness(route="weyl")
def test_sharpness_route_weyl_is_the_enclosure_and_says_so() -> None:
    rng = np.random.default_rng(21)
    ws = _weights(rng, (3, 4, 3, 2))
    m = _target(rng, ws, "near")
    result = sharpness(ws, m, route="weyl", dps=20)
    lo, hi, _ = weyl_enclosure(ws, m, dps=20)
    assert result.route == "weyl" and result.certified and not result.at_minimizer
    assert (result.enclosure.lo, result.enclosure.hi) == (lo, hi)
    assert result.method.startswith("certified: Weyl enclosure, width")
    assert result.enclosure.contains(sharpness(ws, m, dps=30).enclosure)
    digits = result.enclosure.correct_digits
    assert 6 <= digits < 20 and len(str(result).split()[2].replace(".", "")) <= digits + 1
    scaled = sharpness(ws, m, route="weyl", dps=20, loss="mse", weight_decay="1/10")
    factor = Fraction(2, m.size)
    assert scaled.enclosure.lo == lo * factor + Fraction(1, 10)


@pytest.mark.parametrize("flag", [{"float64": True}, {"certify": False}, {"exact": True},
                                  {"spectrum": True}, {"require_minimizer": True}])
def test_sharpness_route_weyl_refuses_other_modes(flag: dict) -> None:
    with pytest.raises(DmfError, match="route='weyl'"):
        sharpness(_W, "product", route="weyl", **flag)


@pytest.mark.parametrize("seed", range(5))
def test_leading_minors_flint_and_bareiss_agree_with_determinants(seed: int) -> None:
    from flint import fmpz_mat

    from numeric.evaluators.verified import _bareiss_minors_positive, _leading_minors_positive

    rng = np.random.default_rng(seed)
    n = 6
    g = rng.integers(-50, 50, size=(n, n)).astype(object)
    a = g @ g.T - (0 if seed % 2 else int(rng.integers(0, 4000)))  # sometimes indefinite
    if seed == 4:
        a[0, 0] = 0  # a zero leading minor: FLINT must exchange rows
    rows = [[int(v) for v in row] for row in a]
    minors = [fmpz_mat([r[:k] for r in rows[:k]]).det() for k in range(1, n + 1)]
    expected = all(m > 0 for m in minors)
    assert _leading_minors_positive([r[:] for r in rows]) == expected
    assert _bareiss_minors_positive([r[:] for r in rows]) == expected


def test_benchmark_script_quick_run() -> None:
    """``benchmarks/enclosure.py --quick`` runs (no timing asserted) and every certified
    enclosure it prints has a Lanczos value inside it or within float64 rounding of it."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, str(root / "benchmarks" / "enclosure.py"), "--quick"],
                          cwd=root, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    def within_rounding(line: str) -> bool:  # "inside", or off by at most 1e-14 relative
        last = line.split()[-1] if line.split() else ""
        return last == "inside" or (last[:1].isdigit() and "e-" in last and float(last) <= 1e-14)

    rows = [line for line in proc.stdout.splitlines() if within_rounding(line)]
    assert len(rows) == 7, proc.stdout


def test_the_command_line_offers_and_runs_the_weyl_route(
        tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """A point over the exact route's budget: the refusal names ``--route weyl``, and that
    route prints lambda_max only to the digits its enclosure proves (no zero padding)."""
    import json

    from numeric.cli import main

    rng = np.random.default_rng(0)
    ws = _weights(rng, (16, 32, 32, 16))
    f = _product(ws)
    np.savez(tmp_path / "near.npz", W1=ws[0], W2=ws[1], W3=ws[2],
             M=f + 1e-7 * rng.standard_normal(f.shape))
    assert main(["oracle", str(tmp_path / "near.npz"), "--max-seconds", "5"]) == 2
    assert "--route weyl" in capsys.readouterr().err
    assert main(["oracle", str(tmp_path / "near.npz"), "--route", "weyl", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    lo, hi = (Fraction(x) for x in doc["enclosure"])
    value = Fraction(doc["lambda_max"])
    assert doc["route"] == "weyl" and doc["certified"] and lo <= value <= hi
    digits = len(doc["lambda_max"].replace(".", "").lstrip("0"))
    assert digits <= doc["dps"] < 50  # the proven digits, not --dps 50 padded with zeros
    assert (hi - lo) / value < Fraction(1, 10 ** (doc["dps"] - 1))
