"""The weight-decay conformance vectors: each sits at a global minimizer of
``L_lam = 1/2 ||W_L...W_1 - M||_F^2 + (lam/2) sum_l ||W_l||_F^2`` for its own target, and its
``lambda_max`` is that of ``H_0 + lam I`` (docs/mathematics.md K8), checked here independently of
the certified eigenvalue code (symbolic Hessian, mpmath Jacobi at twice the shipped precision,
exact singularity test) and of ``numeric.regularized``'s gradient (written out here)."""

from __future__ import annotations

import itertools
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest

from derivations.exact import ExactMatrix, Point
from derivations.hessian import symbolic_hessian_at
from numeric.cli import main
from numeric.hessian import full_hessian
from numeric.oracle import vectors
from numeric.regularized import scalar_minimizer

DPS2 = 2 * vectors.DPS
DECAY = [v for v in vectors.load_vectors() if v.weight_decay is not None]
IDS = [v.name for v in DECAY]


def _product(ws: list[ExactMatrix]) -> ExactMatrix:
    out = ws[0]
    for w in ws[1:]:
        out = w @ out
    return out


def _identity(n: int) -> ExactMatrix:
    out = np.full((n, n), Fraction(0), dtype=object)
    for i in range(n):
        out[i, i] = Fraction(1)
    return out


def _own_gradient(point: Point, lam: Fraction) -> list[ExactMatrix]:
    """``A_l^T R B_l^T + lam W_l`` with ``A_l = W_L..W_(l+1)``, ``B_l = W_(l-1)..W_1`` and
    ``R = W_L..W_1 - M``, written out here (no ``numeric`` gradient code)."""
    ws = list(point.weights)
    r = _product(ws) - point.labels
    out = []
    for l in range(len(ws)):
        a = _product(ws[l + 1:]) if l + 1 < len(ws) else _identity(ws[-1].shape[0])
        b = _product(ws[:l]) if l > 0 else _identity(ws[0].shape[1])
        out.append(a.T @ r @ b.T + lam * ws[l])
    return out


def _hessian_mp(point: Point, lam: Fraction) -> Any:
    """The exact dense Hessian of ``L_lam`` as an mpmath matrix: the Hessian of the plain loss
    by symbolic differentiation (``derivations.hessian``, none of ``numeric``'s formula code),
    plus ``lam I`` (the Hessian of ``(lam/2) ||theta||^2``)."""
    h = symbolic_hessian_at(point)
    assert np.all(h == full_hessian(list(point.weights), None, point.labels))  # K1 agrees
    exact = [[x + (lam if i == j else 0) for j, x in enumerate(row)] for i, row in enumerate(h)]
    return mpmath.matrix([[mpmath.mpf(q.numerator) / q.denominator for q in row] for row in exact])


def _exact_singular(m: ExactMatrix) -> bool:
    """Whether a square Fraction matrix is singular (Gaussian elimination over Q)."""
    a = [list(row) for row in m]
    n = len(a)
    for c in range(n):
        piv = next((r for r in range(c, n) if a[r][c] != 0), None)
        if piv is None:
            return True
        a[c], a[piv] = a[piv], a[c]
        for r in range(c + 1, n):
            f = a[r][c] / a[c][c]
            a[r] = [x - f * y for x, y in zip(a[r], a[c], strict=True)]
    return False


def test_at_least_four_weight_decay_vectors_of_each_kind() -> None:
    names = {v.name for v in DECAY}
    assert len(DECAY) >= 4 and names <= set(vectors.CASES)
    dims = {tuple(v.point.dims) for v in DECAY}
    assert any(all(d == 1 for d in ds) for ds in dims)  # scalar
    assert (2, 2, 2) in dims  # square
    assert any(min(ds[1:-1]) > max(ds[0], ds[-1]) for ds in dims)  # overparameterized
    assert any(all(x == 0 for w in v.point.weights for x in w.flat) for v in DECAY)  # collapsed


@pytest.mark.parametrize("vector", DECAY, ids=IDS)
def test_gradient_of_the_regularized_loss_is_exactly_zero(vector: vectors.Vector) -> None:
    assert vector.weight_decay is not None and vector.weight_decay > 0
    grads = _own_gradient(vector.point, vector.weight_decay)
    assert all(x == 0 for g in grads for x in g.flat)
    # the residual is not zero: a regularized minimizer is no minimizer of the plain loss
    assert not vector.point.is_minimizer()
    # a planted wrong lam is caught by the same check (the test can fail)
    assert any(x != 0 for g in _own_gradient(vector.point, vector.weight_decay * 2)
               for x in g.flat) or all(x == 0 for w in vector.point.weights for x in w.flat)


@pytest.mark.parametrize("vector", DECAY, ids=IDS)
def test_lambda_max_against_the_dense_exact_hessian_at_high_precision(
    vector: vectors.Vector,
) -> None:
    exp, lam = vector.expected, vector.weight_decay
    assert lam is not None and exp["weight_decay"] == str(lam)
    with mpmath.workdps(DPS2):
        eigs = sorted(mpmath.eigsy(_hessian_mp(vector.point, lam), eigvals_only=True))
        top, bottom = eigs[-1], eigs[0]
        tol = mpmath.mpf(10) ** (-DPS2 + 10) * max(1, abs(top))
        lo, hi = (mpmath.mpf(s) for s in exp["enclosure"])
        assert lo - tol <= top <= hi + tol
        assert abs(mpmath.mpf(exp["lambda_max"]) - top) <= mpmath.mpf(10) ** (
            -vectors.DPS + 1) * max(1, abs(top))
        assert bottom >= -tol  # a minimizer: H_0 + lam I is positive semidefinite
    if exp["lambda_max_status"] == "exact":  # the rational is an eigenvalue, exactly
        q = Fraction(exp["lambda_max_exact"])
        h = symbolic_hessian_at(vector.point)
        assert _exact_singular(h + (lam - q) * _identity(h.shape[0]))


@pytest.mark.parametrize("vector", DECAY, ids=IDS)
def test_trace_loss_and_the_layers_singular_values(vector: vectors.Vector) -> None:
    exp, point, lam = vector.expected, vector.point, vector.weight_decay
    assert lam is not None
    h = full_hessian(list(point.weights), None, point.labels)
    trace = sum((h[i, i] for i in range(h.shape[0])), Fraction(0)) + lam * point.num_params
    assert Fraction(exp["trace"]["exact"]) == trace
    assert exp["closed_forms"] == {} and "R = 0" in exp["closed_forms_note"]
    r = _product(list(point.weights)) - point.labels
    loss = sum((x * x for x in r.flat), Fraction(0)) / 2 + lam / 2 * sum(
        (x * x for w in point.weights for x in w.flat), Fraction(0))
    assert Fraction(exp["regularized"]["loss_value"]) == loss
    # balanced: W_(l+1)^T W_(l+1) = W_l W_l^T (K8: every critical point with lam > 0 is)
    ws = list(point.weights)
    assert all(np.all(b.T @ b == a @ a.T) for a, b in itertools.pairwise(ws))
    # the nonzero eigenvalues t^2 of W_1^T W_1 are rational squares of global minimizers of f
    g = ws[0].T @ ws[0]
    m_gram = point.labels.T @ point.labels
    depth = point.depth
    sigma_sq = [Fraction(x) for x in _rational_eigenvalues(m_gram)]
    t_sq = _rational_eigenvalues(g)
    for s in sigma_sq:
        sm = scalar_minimizer(depth, lam, s)
        t = sm.t.fraction
        assert t is not None and not sm.tie
        assert t * t in t_sq or t == 0


def _rational_eigenvalues(m: ExactMatrix) -> list[Fraction]:
    """The eigenvalues of a small symmetric rational matrix known to have rational ones: the
    candidates from float64 eigenvalues are snapped to small-denominator fractions and each is
    confirmed exactly (``det(m - q I) = 0``)."""
    approx = np.linalg.eigvalsh(np.array(m, dtype=float))
    out = []
    for x in approx:
        q = Fraction(float(x)).limit_denominator(10**6)
        assert _exact_singular(m - q * _identity(m.shape[0])), (x, q)
        out.append(q)
    return out


def test_roundtrip_through_files(tmp_path: Path) -> None:
    vectors.write_vectors(DECAY, tmp_path)
    back = {v.name: v for v in vectors.load_vectors(tmp_path)}
    for v in DECAY:
        doc = json.loads((tmp_path / f"{v.name}.json").read_text())
        assert doc["weight_decay"] == str(v.weight_decay) == str(vectors.case_weight_decay(v.name))
        w = back[v.name]
        assert w.weight_decay == v.weight_decay and w.expected == v.expected
        assert np.all(w.point.labels == v.point.labels)
    plain = next(v for v in vectors.load_vectors() if v.weight_decay is None)
    assert "weight_decay" not in plain.to_json_dict()
    assert vectors.case_weight_decay(plain.name) is None


def _tampered_dir(tmp_path: Path, edit: Any) -> Path:
    out = tmp_path / "v"
    vectors.write_vectors(vectors.load_vectors(), out)
    path = out / "weight-decay-depth2-square.json"
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    return out


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.__setitem__("weight_decay", "1/11"), "weight_decay 1/11 differs"),
        (lambda d: d.pop("weight_decay"), "weight_decay None differs"),
        (lambda d: d["target"][0].__setitem__(0, "7"), "the point differs"),
    ],
    ids=["lam", "lam-missing", "target"],
)
def test_check_compares_lam_and_target(tmp_path: Path, edit: Any, message: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = _tampered_dir(tmp_path, edit)
    diffs = vectors.check_directory(out)
    assert any(d.startswith("weight-decay-depth2-square: ") and message in d for d in diffs), diffs
    assert main(["vectors", "--out", str(out), "--check"]) == 1
    assert message in capsys.readouterr().err


def test_the_generator_refuses_a_non_global_layer_value() -> None:
    """``t = 1/2`` at ``L = 3`` with ``lam = 1/10 > t^4``: stationary, but ``f(t) > f(0)``."""
    with pytest.raises(vectors.DmfError, match="not the unique global minimizer"):
        vectors._regularized([Fraction(1, 2)], Fraction(1, 10), (1, 1, 1, 1), 0)
