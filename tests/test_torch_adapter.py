"""The PyTorch adapter: conversions, and two real sharpness implementations checked against the
certified oracle (the first agrees to float64 accuracy, the second loses digits on clustered
spectra and at saddles)."""

from __future__ import annotations

import builtins
import importlib
import sys
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="the optional extra 'torch' is not installed (pip install -e '.[torch]')"
)

from hypothesis import given, settings  # noqa: E402

from derivations.exact import parse_point, to_float64  # noqa: E402
from numeric.adapters.torch import (  # noqa: E402
    autograd_full_hessian_sharpness,
    check_implementation,
    from_sequential,
    hvp_power_iteration_sharpness,
    to_sequential,
    torch_data,
)
from numeric.loss import flatten, loss  # noqa: E402
from numeric.oracle.vectors import load_vectors  # noqa: E402
from numeric.strategies import minimizers  # noqa: E402

VECTORS = load_vectors()
EPS = float(np.finfo(np.float64).eps)


def test_sequential_roundtrip_and_parameter_order() -> None:
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((3, 2)), rng.standard_normal((4, 3)), rng.standard_normal((1, 4))]
    model = to_sequential(ws)
    assert [m.weight.shape for m in model] == [(3, 2), (4, 3), (1, 4)]
    assert all(m.bias is None and m.weight.dtype == torch.float64 for m in model)
    back = from_sequential(model)
    assert all(np.array_equal(a, b) for a, b in zip(ws, back, strict=True))
    theta = torch.cat([p.detach().flatten() for p in model.parameters()]).numpy()
    assert np.array_equal(theta, flatten(ws))  # docs/mathematics.md parameter order


def test_to_sequential_leaves_the_global_rng_alone() -> None:
    state = torch.random.get_rng_state()
    to_sequential([[[1, 2]], [[3], [4]]])
    assert torch.equal(state, torch.random.get_rng_state())


def test_torch_loss_is_the_math_md_loss() -> None:
    point = parse_point([[[1, "1/2"], [0, 2], [1, 1]], [[1, -1, "1/4"]]], data=[[1, 2, 0], [0, 1, 1]],
                        labels=[[1, 0, 2]])
    inputs, targets = torch_data(point)
    model = to_sequential(point)
    ours = 0.5 * ((model(inputs) - targets) ** 2).sum().item()
    ws = [to_float64(w) for w in point.weights]
    assert point.data is not None
    ref = loss(ws, to_float64(point.data), to_float64(point.labels))
    assert abs(ours - ref) <= 10 * EPS * abs(ref)


def test_from_sequential_refuses_non_linear_models() -> None:
    with pytest.raises(ValueError, match="module 1 of the model is ReLU"):
        from_sequential(torch.nn.Sequential(torch.nn.Linear(2, 2, bias=False), torch.nn.ReLU()))
    with pytest.raises(ValueError, match=r"layer 1 \(W_1\) has a bias"):
        from_sequential(torch.nn.Sequential(torch.nn.Linear(2, 2)))


def test_autograd_full_hessian_agrees_to_float64_accuracy() -> None:
    report = check_implementation(autograd_full_hessian_sharpness, VECTORS, rtol=1e-12)
    assert report.passed, str(report)
    assert report.min_digits >= 12
    # the weight-decay vectors need a function told lam: skipped without weight_decay=
    assert len(report.cases) + len(report.skipped) == len(VECTORS)
    assert set(report.skipped) == {v.name for v in VECTORS if v.weight_decay is not None}


def test_power_iteration_loses_digits_on_clustered_spectra() -> None:
    report = check_implementation(hvp_power_iteration_sharpness, VECTORS, rtol=1e-10)
    by_name = {c.name: c for c in report.cases}
    assert not report.passed
    clustered = by_name["depth2-balanced-clustered"]  # relative gap 5e-4 at the top
    assert clustered.digits < 6 and not clustered.passed
    assert by_name["depth2-square"].digits >= 10  # a well separated top: fine
    saddle = by_name["saddle-origin"]  # +-lambda: power iteration cannot tell them apart
    assert saddle.rel_error > 1e-3
    assert report.worst is not None and report.worst.rel_error == report.worst_rel_error
    assert "FAIL" in str(report)


def test_loss_conventions_and_weights_mode() -> None:
    cases = [v for v in VECTORS if v.name in ("depth2-rectangular", "data-nonminimizer")]

    def mse_sharpness(weights: Any, inputs: Any, targets: Any) -> float:
        theta0 = torch.cat([w.flatten() for w in weights])
        sizes = [w.numel() for w in weights]

        def f(theta: Any) -> Any:
            out = inputs
            for part, w in zip(torch.split(theta, sizes), weights, strict=True):
                out = out @ part.reshape(w.shape).T
            return torch.nn.functional.mse_loss(out, targets)

        return float(torch.linalg.eigvalsh(torch.autograd.functional.hessian(f, theta0))[-1])

    report = check_implementation(mse_sharpness, cases, loss="mse", as_model=False, rtol=1e-12)
    assert report.passed, str(report)
    wrong = check_implementation(mse_sharpness, cases, loss="half-sum", as_model=False)
    assert not wrong.passed  # the factor 2/(d_L N) is not 1


def test_a_failing_implementation_is_reported() -> None:
    def broken(model: Any, inputs: Any, targets: Any) -> float:
        raise RuntimeError("boom")

    report = check_implementation(broken, VECTORS[:2])
    assert not report.passed and all(c.error == "RuntimeError: boom" for c in report.cases)


@settings(max_examples=5)
@given(minimizers(kind="any"))
def test_strategy_draws_as_cases(point: Any) -> None:
    report = check_implementation(autograd_full_hessian_sharpness, [point], rtol=1e-10, dps=30)
    assert report.passed, str(report)


def test_import_without_torch_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_torch(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    monkeypatch.delitem(sys.modules, "numeric.adapters.torch")
    with pytest.raises(ImportError, match=r"pip install -e '\.\[torch\]'"):
        importlib.import_module("numeric.adapters.torch")


def test_sample_mean_loss_convention_is_two_over_n() -> None:
    """``loss="sample-mean"``: an implementation of the Hessian of (1/N) ||R||_F^2 must pass. Its
    Hessian is (2/N) times the half-sum one; the adapters used 1/N and failed it."""
    from numeric.adapters.torch import check_implementation

    def mean_loss_sharpness(model: Any, inputs: Any, targets: Any) -> float:
        ws = [layer.weight.detach().clone() for layer in model]
        shapes, sizes = [w.shape for w in ws], [w.numel() for w in ws]
        n = inputs.shape[0]

        def loss(theta: Any) -> Any:
            out = inputs.T
            for part, shape in zip(torch.split(theta, sizes), shapes, strict=True):
                out = part.reshape(shape) @ out
            return ((out - targets.T) ** 2).sum() / n

        theta = torch.cat([w.flatten() for w in ws])
        hess = torch.autograd.functional.hessian(loss, theta)
        return float(torch.linalg.eigvalsh(hess)[-1])

    report = check_implementation(mean_loss_sharpness, loss="sample-mean")
    assert report.passed, str(report)
    assert not check_implementation(mean_loss_sharpness, loss="half-sum").passed


# --- weight decay ------------------------------------------------------------------------

DECAY_NAMES = {v.name for v in VECTORS if v.weight_decay is not None}


def _func_hessian_sharpness(model: Any, inputs: Any, targets: Any, *, weight_decay: float,
                            decay_scale: float = 1.0, mean: bool = False) -> float:
    """A user's implementation written here with ``torch.autograd.functional.hessian`` (not the
    adapter's helper; ``torch.func.hessian`` warns about ``torch.jit.script`` in torch 2.13):
    the Hessian of ``0.5*sum`` (or ``(1/N) sum`` with ``mean``) of the squared residual plus
    ``decay_scale * (lam/2) ||theta||^2``; ``decay_scale`` plants the bugs."""
    ws = [layer.weight.detach().clone() for layer in model]
    shapes, sizes = [w.shape for w in ws], [w.numel() for w in ws]

    def loss_of(theta: Any) -> Any:
        out = inputs
        for part, shape in zip(torch.split(theta, sizes), shapes, strict=True):
            out = out @ part.reshape(shape).T
        sq = ((out - targets) ** 2).sum()
        data = sq / inputs.shape[0] if mean else 0.5 * sq
        return data + decay_scale * 0.5 * weight_decay * (theta**2).sum()

    theta = torch.cat([w.flatten() for w in ws])
    return float(torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss_of, theta))[-1])


@pytest.mark.parametrize("reference", ["adapter-helper", "user-written"])
def test_weight_decay_a_correct_implementation_passes(reference: str) -> None:
    fn = autograd_full_hessian_sharpness if reference == "adapter-helper" else _func_hessian_sharpness
    report = check_implementation(fn, VECTORS, rtol=1e-12, weight_decay="1/10")
    assert report.passed, str(report)
    assert report.skipped == () and len(report.cases) == len(VECTORS)
    lams = {c.name: c.weight_decay for c in report.cases}
    for v in VECTORS:  # a vector's own lam wins; the others run with the given one
        assert lams[v.name] == (str(v.weight_decay) if v.weight_decay is not None else "1/10")
    assert "weight decay lam = 1/10" in str(report)


@pytest.mark.parametrize(("scale", "what"), [(0.0, "forgets lam"), (0.5, "adds lam/2")])
def test_weight_decay_a_buggy_implementation_fails_naming_the_cases(scale: float, what: str) -> None:
    def buggy(model: Any, inputs: Any, targets: Any, *, weight_decay: float) -> float:
        return _func_hessian_sharpness(model, inputs, targets, weight_decay=weight_decay,
                                       decay_scale=scale)

    cases = [v for v in VECTORS if v.name in ("depth2-square", "weight-decay-depth2-square")]
    report = check_implementation(buggy, cases, weight_decay="1/10")
    assert not report.passed, what
    text = str(report)
    for c in report.cases:
        assert not c.passed and c.error is None
        assert f"{c.name[:32]}" in text and "FAIL" in text


def test_without_weight_decay_the_decay_vectors_are_skipped_and_named() -> None:
    def plain(model: Any, inputs: Any, targets: Any) -> float:  # no weight_decay parameter
        return autograd_full_hessian_sharpness(model, inputs, targets)

    report = check_implementation(plain, rtol=1e-12)
    assert report.passed and set(report.skipped) == DECAY_NAMES
    assert all("weight-decay" not in c.name for c in report.cases)
    assert "skipped 5 case(s) with their own weight decay" in str(report)
    decay_only = [v for v in VECTORS if v.weight_decay is not None]
    with pytest.raises(ValueError, match="every case has its own weight decay"):
        check_implementation(plain, decay_only)
    # weight_decay=0: the decay vectors run with their own lam, the others without decay
    zero = check_implementation(autograd_full_hessian_sharpness, rtol=1e-12, weight_decay=0)
    assert zero.passed and zero.skipped == ()
    assert {c.weight_decay for c in zero.cases if c.name not in DECAY_NAMES} == {"0"}


def test_weight_decay_with_the_mean_loss_is_not_scaled() -> None:
    """``sample-mean``: Hessian ``(2/N) H_0 + lam I``, the oracle's ``sharpness(loss="sample-mean",
    weight_decay=lam)``. An implementation that also divides the decay by ``N`` fails."""
    from numeric.sharpness import sharpness

    cases = [v for v in VECTORS if v.name in ("depth2-rectangular", "weight-decay-depth3-overparameterized")]

    def right(model: Any, inputs: Any, targets: Any, *, weight_decay: float) -> float:
        return _func_hessian_sharpness(model, inputs, targets, weight_decay=weight_decay, mean=True)

    def scaled(model: Any, inputs: Any, targets: Any, *, weight_decay: float) -> float:
        n = inputs.shape[0]
        return _func_hessian_sharpness(model, inputs, targets, weight_decay=weight_decay,
                                       decay_scale=1.0 / n, mean=True)

    report = check_implementation(right, cases, loss="sample-mean", weight_decay="1/10",
                                  rtol=1e-12)
    assert report.passed, str(report)
    for case, v in zip(report.cases, cases, strict=True):
        lam = v.weight_decay if v.weight_decay is not None else "1/10"
        oracle = sharpness(list(v.point.weights), v.point.labels, loss="sample-mean", weight_decay=lam,
                           dps=30)
        assert abs(float(case.expected) - float(oracle.value)) <= 1e-15 * float(oracle.value)
    assert not check_implementation(scaled, cases, loss="sample-mean",
                                      weight_decay="1/10").passed


def test_a_file_with_its_own_weight_decay_is_a_decay_case(tmp_path: Any) -> None:
    import json

    path = tmp_path / "p.json"
    path.write_text(json.dumps({"weights": [[[1, 2]], [[3], [4]]], "weight_decay": "1/4"}))
    seen = []

    def fn(model: Any, inputs: Any, targets: Any, *, weight_decay: float) -> float:
        seen.append(weight_decay)
        return autograd_full_hessian_sharpness(model, inputs, targets, weight_decay=weight_decay)

    report = check_implementation(fn, [path], weight_decay="1/10", rtol=1e-12)
    assert report.passed and seen == [0.25] and report.cases[0].weight_decay == "1/4"
    both = check_implementation(autograd_full_hessian_sharpness, [path, [[[1]], [[2]]]])
    assert both.skipped == ("p",) and [c.name for c in both.cases] == ["case 1"]


@pytest.mark.parametrize("seed", range(6))
def test_oracle_with_weight_decay_matches_autograd_at_random_points(seed: int) -> None:
    """Random float64 points (not minimizers; two with data): the autograd Hessian of
    ``L_lam`` (full ``P x P``, float64 ``eigvalsh``) against ``numeric.sharpness(...,
    weight_decay=lam)`` (certified, the float64 entries taken exactly)."""
    from fractions import Fraction

    from numeric.sharpness import sharpness

    rng = np.random.default_rng(1000 + seed)
    dims = [(2, 3, 2), (3, 3, 3, 3), (2, 4, 3, 2), (1, 3, 2, 1), (2, 2, 2), (3, 2, 4)][seed]
    ws = [rng.standard_normal((dims[l], dims[l - 1])) for l in range(1, len(dims))]
    lam = [Fraction(1, 10), Fraction(3, 4), Fraction(1, 1000), Fraction(2), Fraction(1, 3),
           Fraction(5, 8)][seed]
    if seed >= 4:  # with data X (d_0 x N) and labels Y
        x, y = rng.standard_normal((dims[0], 5)), rng.standard_normal((dims[-1], 5))
        point = parse_point(ws, data=x, labels=y)
        oracle = sharpness(ws, data=x, labels=y, weight_decay=lam, dps=30)
    else:
        m = rng.standard_normal((dims[-1], dims[0]))
        point = parse_point(ws, m)
        oracle = sharpness(ws, m, weight_decay=lam, dps=30)
    inputs, targets = torch_data(point)
    got = autograd_full_hessian_sharpness(to_sequential(point), inputs, targets,
                                          weight_decay=float(lam))
    ref = float(oracle.value)
    assert oracle.certified and abs(got - ref) <= 1e-12 * abs(ref), (got, ref)
    # forgetting lam moves the value by lam: the comparison can fail
    plain = autograd_full_hessian_sharpness(to_sequential(point), inputs, targets)
    assert abs(plain - ref) > 1e-6 * abs(ref)


# --- exact input: the strings every other entry point reads ------------------------------------

from adapter_cases import BAD_W2, EXACT_LAYERS  # noqa: E402  (shared with the JAX adapter)


def test_to_sequential_rounds_exact_strings_once_to_the_nearest_float64() -> None:
    from fractions import Fraction

    got = from_sequential(to_sequential(EXACT_LAYERS))
    want = [np.array([[float(Fraction(x)) for x in row] for row in w]) for w in EXACT_LAYERS]
    assert all(a.dtype == np.float64 for a in got)
    assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True)), (got, want)
    assert got[0][1, 1] != float(2**53 + 1) / 3  # the case tells one rounding from two


@pytest.mark.parametrize(("w2", "match"), BAD_W2)
def test_to_sequential_bad_entries_get_one_line_naming_the_layer(w2: Any, match: str) -> None:
    from derivations.errors import DmfError

    with pytest.raises(DmfError, match=match) as info:
        to_sequential([[[1, 2]], w2])
    assert "\n" not in str(info.value)
