"""Weight decay in the oracle: ``sharpness(..., weight_decay=lam)``, ``--weight-decay`` and the
JSON key ``weight_decay``.

The loss ``c L + (lam/2) sum_l ||W_l||_F^2`` has the Hessian ``c H_0 + lam I``
(docs/mathematics.md K8, K1). The references here are independent of the oracle's spectrum
code: the exact full Hessian ``H_0`` (``numeric.hessian.full_hessian`` on ``Fraction`` arrays
built here), ``c H_0 + lam I`` formed exactly, its eigenvalues by mpmath's Jacobi method at twice
the precision, SymPy's exact characteristic polynomial, and torch autograd.
"""

from __future__ import annotations

import dataclasses
import json
import random
from fractions import Fraction
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest

from derivations.errors import DmfError
from numeric.cli import main
from numeric.hessian import full_hessian
from numeric.sharpness import sharpness

DPS = 30
LAMS = [Fraction(0), Fraction(1, 3), Fraction(2)]


def _rand_matrix(rng: random.Random, rows: int, cols: int) -> list[list[Fraction]]:
    return [[Fraction(rng.randint(-6, 6), rng.randint(1, 4)) for _ in range(cols)]
            for _ in range(rows)]


def _point(seed: int, dims: tuple[int, ...], kind: str) -> dict[str, Any]:
    """A random rational point: ``kind`` "minimizer" (no target: the product), "target" (a
    random target, X = I) or "data" (random X and Y)."""
    rng = random.Random(seed)
    ws = [_rand_matrix(rng, dims[i + 1], dims[i]) for i in range(len(dims) - 1)]
    out: dict[str, Any] = {"weights": ws}
    if kind == "target":
        out["target"] = _rand_matrix(rng, dims[-1], dims[0])
    elif kind == "data":
        out["data"] = _rand_matrix(rng, dims[0], 3)
        out["labels"] = _rand_matrix(rng, dims[-1], 3)
    return out


def _obj(m: list[list[Fraction]]) -> np.ndarray:
    return np.array(m, dtype=object)


def _exact_hessian(pt: dict[str, Any], factor: Fraction, lam: Fraction) -> np.ndarray:
    """``factor * H_0 + lam I``, exact (H_0 by ``full_hessian`` on Fraction arrays)."""
    ws = [_obj(w) for w in pt["weights"]]
    prod = ws[0]
    for w in ws[1:]:
        prod = w.dot(prod)
    x = None if "data" not in pt else _obj(pt["data"])
    if "labels" in pt:
        y = _obj(pt["labels"])
    elif "target" in pt:
        y = _obj(pt["target"])
    else:
        y = prod if x is None else prod.dot(x)
    h = full_hessian(ws, x, y) * factor
    for i in range(h.shape[0]):
        h[i, i] += lam
    return h


def _mp_eigs(h: np.ndarray, dps: int) -> list[Fraction]:
    """Eigenvalues of the exact symmetric ``h`` by mpmath's Jacobi method at ``dps`` digits,
    descending, as the exact rationals of the binary numbers mpmath returns."""
    with mpmath.workdps(dps):
        m = mpmath.matrix([[mpmath.mpf(q.numerator) / q.denominator for q in row] for row in h])
        ev = mpmath.eigsy(m, eigvals_only=True)
        vals = [Fraction(*mpmath.libmp.to_rational(ev[i]._mpf_)) for i in range(m.rows)]
    return sorted(vals, reverse=True)


def _tol(ref: list[Fraction], digits: int) -> Fraction:
    return max([abs(v) for v in ref] + [Fraction(1)]) / Fraction(10) ** digits


def _call(pt: dict[str, Any], **kw: Any) -> Any:
    """The oracle at ``pt``; a "minimizer" point (no target, no data) asks for its product."""
    target = pt.get("target", None if "data" in pt else "product")
    return sharpness(pt["weights"], target, data=pt.get("data"), labels=pt.get("labels"), **kw)


CASES = [(seed, dims, kind) for seed, (dims, kind) in enumerate([
    ((2, 2, 2), "minimizer"), ((2, 3, 1), "minimizer"), ((2, 2, 2), "target"),
    ((1, 2, 2), "target"), ((2, 2, 1), "data"), ((1, 2, 1, 2), "minimizer"),
])]


@pytest.mark.parametrize("lam", LAMS, ids=str)
@pytest.mark.parametrize(("seed", "dims", "kind"), CASES,
                         ids=[f"{k}-{'x'.join(map(str, d))}" for _, d, k in CASES])
def test_every_eigenvalue_of_h0_plus_lam_lies_in_its_enclosure(
        seed: int, dims: tuple[int, ...], kind: str, lam: Fraction) -> None:
    pt = _point(100 + seed, dims, kind)
    r = _call(pt, dps=DPS, spectrum=True, weight_decay=lam, max_seconds=None)
    ref = _mp_eigs(_exact_hessian(pt, Fraction(1), lam), 2 * DPS)
    tol = _tol(ref, 2 * DPS - 8)  # mpmath's error, far below the enclosures' 10^-DPS
    assert r.weight_decay == lam and r.status in ("certified", "exact")
    assert r.enclosure.lo - tol <= ref[0] <= r.enclosure.hi + tol
    # the whole spectrum: the listed eigenvalues, plus zero_multiplicity copies of lam (H_0's
    # kernel, shifted) -- or of 0 without decay
    encs = sorted(r.spectrum_enclosures, key=lambda e: e.lo, reverse=True)
    full = sorted([(e.lo, e.hi) for e in encs] + [(lam, lam)] * r.zero_multiplicity,
                  key=lambda p: p[0], reverse=True)
    assert len(full) == len(ref) == r.parameters
    for (lo, hi), v in zip(full, ref, strict=True):
        assert lo - tol <= v <= hi + tol
    if lam:
        assert "weight decay" in r.method and f"lam = {lam}" in r.method
        assert r.loss.endswith(" + (lam/2)*sum_l ||W_l||_F^2")
        assert r.to_json()["weight_decay"] == str(lam)


@pytest.mark.parametrize(("seed", "dims", "kind"), CASES[:4],
                         ids=[f"{k}-{'x'.join(map(str, d))}" for _, d, k in CASES[:4]])
def test_sum_loss_scales_the_data_term_only(seed: int, dims: tuple[int, ...], kind: str) -> None:
    """``loss="sum"``: lambda_max = 2 lambda_max(H_0) + lam, not 2 (lambda_max(H_0) + lam)."""
    pt = _point(100 + seed, dims, kind)
    lam = Fraction(1, 3)
    r = _call(pt, dps=DPS, loss="sum", weight_decay=lam, max_seconds=None)
    top0 = _mp_eigs(_exact_hessian(pt, Fraction(1), Fraction(0)), 2 * DPS)[0]
    right, wrong, tol = 2 * top0 + lam, 2 * (top0 + lam), _tol([top0], 2 * DPS - 8)
    assert r.enclosure.lo - tol <= right <= r.enclosure.hi + tol
    assert not r.enclosure.lo - tol <= wrong <= r.enclosure.hi + tol
    assert r.loss_factor == 2


def _no_decay_fields(r: Any) -> dict[str, Any]:
    return {f.name: getattr(r, f.name) for f in dataclasses.fields(r)
            if f.name not in ("seconds",)}


@pytest.mark.parametrize("kw", [
    {"spectrum": True}, {"spectrum": True, "loss": "mse"}, {"certify": False, "spectrum": True},
    {"float64": True, "spectrum": True}, {"exact": True},
], ids=["certified", "mse", "mpmath", "float64", "exact"])
@pytest.mark.parametrize("kind", ["minimizer", "target"])
def test_zero_weight_decay_reproduces_the_result(kw: dict[str, Any], kind: str) -> None:
    pt = _point(7, (2, 2, 2), kind)
    plain = _call(pt, dps=DPS, **kw)
    for zero in (0, "0", Fraction(0), "0/5", 0.0):
        r = _call(pt, dps=DPS, weight_decay=zero, **kw)
        assert _no_decay_fields(r) == _no_decay_fields(plain)
        doc, ref = r.to_json(), plain.to_json()
        assert doc.pop("weight_decay") == "0" and ref.pop("weight_decay") == "0"
        assert doc == ref
        assert "weight decay" not in r.method and "lam" not in r.loss


@pytest.mark.parametrize("loss", ["half-sum", "sum"])
def test_exact_mode_gives_the_algebraic_lambda_max_plus_lam(loss: str) -> None:
    """``exact=True``: lambda_max of ``c H_0 + lam I`` as an algebraic number, checked against
    SymPy's exact characteristic polynomial of that matrix."""
    import sympy

    pt = _point(3, (1, 2, 2), "target")
    lam = Fraction(2)
    factor = Fraction(2) if loss == "sum" else Fraction(1)
    r = _call(pt, dps=DPS, exact=True, loss=loss, weight_decay=lam)
    h = _exact_hessian(pt, factor, lam)
    x = sympy.Symbol("x")
    m = sympy.Matrix([[sympy.Rational(q.numerator, q.denominator) for q in row] for row in h])
    top = sympy.real_roots(sympy.Poly(m.charpoly(x).as_expr(), x))[-1]
    minpoly = sympy.Poly(list(reversed([int(c) for c in r.exact.number.poly.coeffs()])), x)
    assert minpoly.eval(top) == 0 or sympy.simplify(minpoly.as_expr().subs(x, top)) == 0
    lo, hi = (sympy.Rational(v) for v in r.exact.isolating_interval)
    assert lo <= top <= hi


def test_exact_rational_lambda_max_is_shifted() -> None:
    """``H_0 = [[4, 2], [2, 1]]`` at ``(W_1, W_2) = (1, 2)`` (eigenvalues 5, 0): lambda_max of
    ``c H_0 + lam I`` is ``5c + lam``, reported exact and rational."""
    for loss, c in (("half-sum", 1), ("sum", 2)):
        for lam in LAMS:
            r = sharpness([[[1]], [[2]]], "product", dps=DPS, loss=loss, weight_decay=lam,
                          spectrum=True)
            assert r.status == "exact" and r.exact is not None
            assert Fraction(r.exact.rational) == 5 * c + lam
            assert r.zero_multiplicity == 1 and r.lambda_min_enclosure.lo == lam


def test_float64_shift_is_labelled_approximate() -> None:
    pt = _point(5, (2, 2, 2), "target")
    r = _call(pt, float64=True, weight_decay="1/3")
    ref = _mp_eigs(_exact_hessian(pt, Fraction(1), Fraction(1, 3)), DPS)[0]
    assert r.status == "approximate" and "in float64 (approximate)" in r.method
    assert abs(float(r.value) - float(ref)) <= 1e-10 * max(1.0, abs(float(ref)))


@pytest.mark.parametrize(("value", "match"), [
    (-1, "must be >= 0"), ("-1/3", "must be >= 0"), ("abc", "cannot read"),
    (None, "cannot read"), (True, "boolean"), ([1], "cannot read"),
], ids=["negative-int", "negative-fraction", "word", "none", "bool", "list"])
def test_bad_weight_decay_is_refused(value: Any, match: str) -> None:
    with pytest.raises(DmfError, match=match):
        sharpness([[[1]], [[2]]], "product", weight_decay=value)


# --------------------------------------------------------------------------- the command
def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _file(tmp_path: Path, **extra: Any) -> Path:
    pt = _point(11, (2, 2, 2), "target")
    doc = {k: [[str(q) for q in row] for row in v] if k != "weights"
           else [[[str(q) for q in row] for row in w] for w in v] for k, v in pt.items()}
    path = tmp_path / "p.json"
    path.write_text(json.dumps({**doc, **extra}))
    return path


@pytest.mark.parametrize("how", ["flag", "file", "both-equal"])
def test_cli_flag_and_file_key(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                               how: str) -> None:
    path = _file(tmp_path, **({} if how == "flag" else {"weight_decay": "0.5"}))
    flag = [] if how == "file" else ["--weight-decay", "1/2" if how == "both-equal" else "0.5"]
    code, out, err = _run(capsys, "oracle", str(path), "--json", "--dps", "20", *flag)
    assert code == 0, err
    doc = json.loads(out)
    pt = _point(11, (2, 2, 2), "target")
    ref = _mp_eigs(_exact_hessian(pt, Fraction(1), Fraction(1, 2)), 40)[0]
    lo, hi = (Fraction(v) for v in doc["enclosure"])
    assert doc["weight_decay"] == "1/2" and lo <= ref <= hi
    code, out, err = _run(capsys, "oracle", str(path), "--dps", "20", *flag)
    assert code == 0 and "weight decay lam = 1/2" in out


@pytest.mark.parametrize(("extra", "flag", "match"), [
    ({}, ["--weight-decay", "-1"], "--weight-decay: weight_decay must be >= 0"),
    ({}, ["--weight-decay", "abc"], "--weight-decay: cannot read"),
    ({"weight_decay": "-2"}, [], "p.json: weight_decay must be >= 0"),
    ({"weight_decay": "x"}, [], "p.json: weight_decay: cannot read"),
    ({"weight_decay": [1]}, [], "'weight_decay' must be one number"),
    ({"weight_decay": "1/3"}, ["--weight-decay", "0.5"], "conflicts with the file's"),
], ids=["flag-negative", "flag-word", "file-negative", "file-word", "file-list", "conflict"])
def test_cli_bad_weight_decay_exits_2_with_one_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, extra: dict[str, Any],
        flag: list[str], match: str) -> None:
    path = _file(tmp_path, **extra)
    code, out, err = _run(capsys, "oracle", str(path), *flag)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and match in err, err


def test_torch_autograd_hessian_with_weight_decay() -> None:
    torch = pytest.importorskip("torch", reason="torch is optional: the autograd cross-check")
    pt = _point(21, (2, 3, 2), "target")
    lam = Fraction(1, 3)
    shapes = [(len(w), len(w[0])) for w in pt["weights"]]
    flat = torch.tensor([float(q) for w in pt["weights"] for row in w for q in row],
                        dtype=torch.float64)
    target = torch.tensor([[float(q) for q in row] for row in pt["target"]], dtype=torch.float64)

    def loss(theta: Any) -> Any:
        ws, k = [], 0
        for r, c in shapes:
            ws.append(theta[k:k + r * c].reshape(r, c))
            k += r * c
        out = torch.eye(shapes[0][1], dtype=torch.float64)
        for w in ws:
            out = w @ out
        decay = sum(w.pow(2).sum() for w in ws)
        return 0.5 * ((out - target) ** 2).sum() + float(lam) / 2 * decay

    h = torch.autograd.functional.hessian(loss, flat)
    top = float(torch.linalg.eigvalsh(h)[-1])
    r = _call(pt, dps=DPS, weight_decay=lam)
    assert abs(top - float(r.value)) <= 1e-10 * max(1.0, abs(top))
    r0 = _call(pt, dps=DPS)
    assert abs(top - float(r0.value)) > 0.3  # the decay is seen (lam = 1/3)


REGULARIZED_MINIMIZERS = [
    # (weights, target, lam): balanced factorizations with t_+ rational (docs/mathematics.md
    # K8: g(t) = t^(2L-2) - sigma t^(L-2) + lam = 0 at the larger positive root)
    ([[[2, 0], [0, 3]], [[2, 0], [0, 3]]], [[5, 0], [0, 10]], Fraction(1)),  # L=2: t^2 = sigma - lam
    ([[[1]], [[1]], [[1]]], [["4/3"]], Fraction(1, 3)),  # L=3, sigma = 4/3: g(1) = 0, g'(1) > 0
]


@pytest.mark.parametrize(("ws", "target", "lam"), REGULARIZED_MINIMIZERS, ids=["L2-diag", "L3-scalar"])
def test_regularized_minimizer_uses_the_full_hessian(ws: Any, target: Any, lam: Fraction) -> None:
    """At a minimizer of L_lam the residual is not zero (``R X^T != 0``): the full route, and
    lambda_max that of ``numeric.regularized.scalar.regularized_hessian`` (H_0 + lam I)."""
    from derivations.exact import parse_entry
    from numeric.regularized.scalar import regularized_gradient, regularized_hessian

    ew = [np.array([[parse_entry(q) for q in row] for row in w], dtype=object) for w in ws]
    em = np.array([[parse_entry(q) for q in row] for row in target], dtype=object)
    assert all(g == 0 for gw in regularized_gradient(ew, em, lam) for g in gw.flat)
    r = sharpness(ws, target, dps=DPS, weight_decay=lam, spectrum=True)
    assert r.route == "full" and not r.at_minimizer
    ref = _mp_eigs(regularized_hessian(ew, em, lam), 2 * DPS)
    assert r.enclosure.lo - _tol(ref, 2 * DPS - 8) <= ref[0] <= r.enclosure.hi + _tol(ref, 2 * DPS - 8)
    low = r.lambda_min_enclosure  # a local minimum of L_lam: lambda_min >= 0 (the gauge
    assert low.hi >= 0            # W_l -> G_l W_l G_(l-1)^T gives 0 when a width exceeds 1)
    assert low.lo - _tol(ref, 2 * DPS - 8) <= ref[-1] <= low.hi + _tol(ref, 2 * DPS - 8)


def test_float64_weights_on_the_dyadic_route() -> None:
    """NumPy float weights without a target take the certified dyadic route; the shift applies."""
    ws = [np.array([[0.5, 1.0], [-1.0, 0.25]]), np.array([[1.0, 2.0]])]
    lam = Fraction(1, 10)
    r = sharpness(ws, "product", dps=DPS, weight_decay="0.1")
    pt = {"weights": [[[Fraction(x) for x in row] for row in w.tolist()] for w in ws]}
    ref = _mp_eigs(_exact_hessian(pt, Fraction(1), lam), 2 * DPS)[0]
    assert r.certified and r.enclosure.lo - _tol([ref], 2 * DPS - 8) <= ref
    assert ref <= r.enclosure.hi + _tol([ref], 2 * DPS - 8)


def test_shift_keeps_the_padded_zeros_one_object() -> None:
    """The ``P - rank`` padded zeros are one shared object; the shift keeps them one (O(rank)
    work, as ``numeric.result._scale``), and marks them as ``H_0``'s kernel."""
    from derivations.intervals import Enclosure
    from numeric.result import _Ev, _runs, _shift, _Spectrum

    top = _Ev(mpmath.mpf(5), Enclosure(Fraction(5), Fraction(5)))
    zero = _Ev(mpmath.mpf(0), Enclosure(Fraction(0), Fraction(0)))
    spec = _Spectrum([top] + [zero] * 100_000, True, zero, 100_000, mpmath.mpf("1e-20"), "m")
    out = _shift(spec, Fraction(1, 3), 30)
    assert [count for _, count in _runs(out.evs)] == [1, 100_000]
    assert out.evs[1] is out.evs[-1] and out.evs[-1].kernel and not out.evs[0].kernel
    assert out.evs[-1].enc.lo == out.evs[-1].enc.hi == Fraction(1, 3)
    assert out.evs[0].enc.lo == Fraction(16, 3) and out.zero_multiplicity == 100_000
