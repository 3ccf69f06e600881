"""The JAX adapter: conversions, the data layout, and its two reference implementations checked
against the certified oracle.

How many digits the references can have. Both compute an eigenvalue of a float64 Hessian ``H +
E`` whose rounding error is ``||E|| <~ c P eps ||H||`` (``P`` parameters, ``eps = 2^-52``);
Weyl's inequality then bounds the error of ``lambda_max`` by ``||E||``, so the relative error is
at most about ``c P eps ||H||_2 / |lambda_max|``. That is the tolerance asserted case by case
(with ``c = 64``): a point whose most negative eigenvalue dwarfs ``lambda_max`` can lose digits,
and no float64 code can do better there. On the shipped vectors ``||H||_2 / lambda_max`` is
small, so the bound is below ``1e-12`` and both references must agree to >= 12 digits there.
"""

from __future__ import annotations

import builtins
import importlib
import math
import sys
from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip(
    "jax", reason="the optional extra 'jax' is not installed (pip install -e '.[jax]')"
)

from hypothesis import given, settings  # noqa: E402

from derivations.exact import parse_point, to_float64  # noqa: E402
from numeric.adapters.jax import (  # noqa: E402
    check_implementation,
    from_jax,
    half_sum_loss,
    hessian_eigvalsh_sharpness,
    hvp_lanczos_sharpness,
    jax_data,
    to_jax,
)
from numeric.hessian import full_hessian  # noqa: E402
from numeric.loss import flatten, loss  # noqa: E402
from numeric.oracle.vectors import load_vectors  # noqa: E402
from numeric.strategies import minimizers, points_with_data  # noqa: E402

jnp = jax.numpy
VECTORS = load_vectors()
PLAIN = [v for v in VECTORS if v.weight_decay is None]  # no weight_decay= given: only these run
EPS = float(np.finfo(np.float64).eps)
REFERENCES = {"hessian+eigvalsh": hessian_eigvalsh_sharpness, "jit-hvp+eigsh": hvp_lanczos_sharpness}


def _weyl_tolerance(point: Any, value: float) -> float:
    """``64 P eps ||H||_2 / |lambda_max|`` (absolute when ``lambda_max = 0``), ``H`` the float64
    Hessian from ``numeric.hessian`` (docs/mathematics.md K1), independent of JAX."""
    ws = [to_float64(w) for w in point.weights]
    x = None if point.data is None else to_float64(point.data)
    h = full_hessian(ws, x, to_float64(point.labels))
    norm = float(np.max(np.abs(np.linalg.eigvalsh(h))))
    scale = abs(value) if value != 0 else 1.0
    return max(1e-15, 64 * h.shape[0] * EPS * norm / scale)


def test_conversions_roundtrip_and_parameter_order() -> None:
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((3, 2)), rng.standard_normal((4, 3)), rng.standard_normal((1, 4))]
    arrays = to_jax(ws)
    assert [a.shape for a in arrays] == [(3, 2), (4, 3), (1, 4)]
    assert all(a.dtype == jnp.float64 for a in arrays)
    back = from_jax(arrays)
    assert all(np.array_equal(a, b) for a, b in zip(ws, back, strict=True))
    theta = np.asarray(jnp.concatenate([a.ravel() for a in arrays]))
    assert np.array_equal(theta, flatten(ws))  # docs/mathematics.md parameter order


def test_jax_loss_is_the_math_md_loss() -> None:
    point = parse_point([[[1, "1/2"], [0, 2], [1, 1]], [[1, -1, "1/4"]]],
                        data=[[1, 2, 0], [0, 1, 1]], labels=[[1, 0, 2]])
    inputs, targets = jax_data(point)
    assert inputs.shape == (3, 2) and targets.shape == (3, 1)  # samples first
    ours = float(half_sum_loss(to_jax(point), inputs, targets))
    assert point.data is not None
    ref = loss([to_float64(w) for w in point.weights], to_float64(point.data),
               to_float64(point.labels))
    assert abs(ours - ref) <= 10 * EPS * abs(ref)


@pytest.mark.parametrize(
    ("weights", "match"),
    [([], "no layers"), ([[1, 2]], "must be 2-D"), ([[[1, 2]], [[1, 2]]], r"layer 2 \(W_2\)")],
    ids=["empty", "one-dimensional", "chain-mismatch"],
)
def test_bad_weights_get_one_clear_message(weights: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        to_jax(weights)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_references_agree_with_the_oracle_on_the_shipped_vectors(name: str) -> None:
    report = check_implementation(REFERENCES[name], VECTORS, rtol=1e-12)
    assert len(report.cases) == len(PLAIN) and len(report.skipped) == len(VECTORS) - len(PLAIN)
    for case, vector in zip(report.cases, PLAIN, strict=True):
        assert case.error is None, case.error
        assert case.rel_error <= _weyl_tolerance(vector.point, float(case.expected)), str(report)
    assert report.passed and report.min_digits >= 12, str(report)


def test_a_planted_wrong_loss_scale_is_reported_failing() -> None:
    """``0.5000001 * sum`` instead of ``0.5 * sum``: every Hessian is ``1.0000002`` times too
    large, a relative error of ``2e-7`` that the check must flag on every nonzero case."""

    def wrong(ws: Any, inputs: Any, targets: Any) -> float:
        return hessian_eigvalsh_sharpness(ws, inputs, targets * 1.0) * (0.5000001 / 0.5)

    report = check_implementation(wrong, VECTORS[:6], rtol=1e-10)
    assert not report.passed
    for case in report.cases:
        assert not case.passed and math.isclose(case.rel_error, 2e-7, rel_tol=1e-6), str(report)
    assert "FAIL" in str(report)


def test_a_raising_implementation_is_a_finding() -> None:
    def broken(ws: Any, inputs: Any, targets: Any) -> float:
        raise RuntimeError("boom")

    report = check_implementation(broken, VECTORS[:2])
    assert not report.passed and all(c.error == "RuntimeError: boom" for c in report.cases)


@settings(max_examples=4)
@given(minimizers(kind="any", exact=False))
def test_strategy_minimizers_as_cases(point: Any) -> None:
    for fn in REFERENCES.values():
        report = check_implementation(fn, [point], rtol=1e-10, dps=30)
        assert report.passed, str(report)


@settings(max_examples=4)
@given(points_with_data())
def test_strategy_points_with_data_as_cases(point: Any) -> None:
    report = check_implementation(hvp_lanczos_sharpness, [point], rtol=1e-10, dps=30)
    case = report.cases[0]
    assert case.error is None
    assert case.rel_error <= max(1e-10, _weyl_tolerance(point, float(case.expected))), str(report)


def test_import_without_jax_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_jax(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "jax" or name.startswith("jax."):
            raise ImportError("No module named 'jax'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_jax)
    monkeypatch.delitem(sys.modules, "numeric.adapters.jax")
    with pytest.raises(ImportError, match=r"pip install -e '\.\[jax\]'"):
        importlib.import_module("numeric.adapters.jax")


def test_collection_without_jax_skips_with_a_reason(tmp_path: Any) -> None:
    """Without JAX the adapter's doctests are one visible skip, never a collection error."""
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "jax.py").write_text('raise ModuleNotFoundError("No module named jax (hidden)")\n')
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-ra", "--collect-only",
         "numeric/adapters", "tests/test_jax_adapter.py"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "error" not in out.lower().replace("importerror", ""), out[-3000:]
    assert "need the optional extra 'jax'" in out, out[-3000:]


# --- weight decay ------------------------------------------------------------------------


def _user_decay_sharpness(ws: Any, inputs: Any, targets: Any, *, weight_decay: float,
                          decay_scale: float = 1.0) -> float:
    """A user's JAX implementation written here: jitted ``jax.hessian`` of ``half_sum_loss`` plus
    ``decay_scale * (lam/2) sum_l ||W_l||_F^2`` over the layer list, flattened by hand and
    diagonalized with NumPy; ``decay_scale`` plants the bugs."""
    shapes = [w.shape for w in ws]

    def loss_of(theta: Any) -> Any:
        parts, start = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            parts.append(theta[start:start + size].reshape(shape))
            start += size
        decay = sum(jnp.sum(p**2) for p in parts)
        return half_sum_loss(parts, inputs, targets) + decay_scale * 0.5 * weight_decay * decay

    theta = jnp.concatenate([w.ravel() for w in ws])
    return float(np.linalg.eigvalsh(np.asarray(jax.jit(jax.hessian(loss_of))(theta)))[-1])


@pytest.mark.parametrize("reference", ["hessian+eigvalsh", "user-written"])
def test_weight_decay_a_correct_implementation_passes(reference: str) -> None:
    fn = hessian_eigvalsh_sharpness if reference == "hessian+eigvalsh" else _user_decay_sharpness
    # the user-written one compiles per case: the decay vectors and three more
    chosen = VECTORS if fn is hessian_eigvalsh_sharpness else [
        v for v in VECTORS if v.weight_decay is not None
        or v.name in ("depth2-rectangular", "data-nonminimizer", "saddle-origin")]
    report = check_implementation(fn, chosen, rtol=1e-12, weight_decay="1/10")
    assert report.passed and report.min_digits >= 12, str(report)
    assert report.skipped == () and len(report.cases) == len(chosen)
    for case, vector in zip(report.cases, chosen, strict=True):
        own = vector.weight_decay
        assert case.weight_decay == (str(own) if own is not None else "1/10")


@pytest.mark.parametrize("scale", [0.0, 0.5], ids=["forgets-lam", "adds-lam-over-2"])
def test_weight_decay_a_buggy_implementation_fails_naming_the_cases(scale: float) -> None:
    def buggy(ws: Any, inputs: Any, targets: Any, *, weight_decay: float) -> float:
        return _user_decay_sharpness(ws, inputs, targets, weight_decay=weight_decay,
                                     decay_scale=scale)

    cases = [v for v in VECTORS if v.name in ("depth3-square", "weight-decay-depth3-collapsed")]
    report = check_implementation(buggy, cases, weight_decay="1/10")
    assert not report.passed
    text = str(report)
    for case in report.cases:
        assert not case.passed and case.error is None and case.name[:32] in text
    assert "weight-decay-depth3-collapsed" in text and "FAIL" in text


def test_weight_decay_vectors_are_skipped_without_weight_decay() -> None:
    report = check_implementation(hessian_eigvalsh_sharpness, VECTORS, rtol=1e-12)
    assert report.passed
    assert set(report.skipped) == {v.name for v in VECTORS if v.weight_decay is not None}
    assert "pass weight_decay= to run them" in str(report)


# --- exact input: the strings every other entry point reads ------------------------------------

from adapter_cases import BAD_W2, EXACT_LAYERS  # noqa: E402  (shared with the torch adapter)


def test_to_jax_rounds_exact_strings_once_to_the_nearest_float64() -> None:
    from fractions import Fraction

    got = from_jax(to_jax(EXACT_LAYERS))
    want = [np.array([[float(Fraction(x)) for x in row] for row in w]) for w in EXACT_LAYERS]
    assert all(a.dtype == np.float64 for a in got)
    assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True)), (got, want)
    assert got[0][1, 1] != float(2**53 + 1) / 3  # the case tells one rounding from two


@pytest.mark.parametrize(("w2", "match"), BAD_W2)
def test_to_jax_bad_entries_get_one_line_naming_the_layer(w2: Any, match: str) -> None:
    from derivations.errors import DmfError

    with pytest.raises(DmfError, match=match) as info:
        to_jax([[[1, 2]], w2])
    assert "\n" not in str(info.value)
