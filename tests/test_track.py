"""``numeric.dynamics.track.SharpnessTracker``: the sharpness along a training run.

Every tracked value is compared with an independent computation of the same quantity: the
certified oracle (``numeric.sharpness.sharpness``, exact Hessian and proven enclosures) on small
points with dyadic entries, and its float64 mode (dense ``eigh`` or its own Lanczos run) on
larger ones. Tolerances: Lanczos stops at relative residual ``1e-10``, so the Ritz value is
within ``1e-10 |lambda_max|`` of an eigenvalue; ``1e-9`` relative leaves room for the float64
rounding of the operator (``~ P eps ||H||``, far below that at these sizes).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import numeric
from derivations.errors import DmfError, EmptyInputError, NonFiniteError, ShapeError
from numeric.dynamics.track import SharpnessRecord, SharpnessTracker, _layers
from numeric.loss import gradient, loss, residual
from numeric.loss_conventions import loss_factor
from numeric.sharpness import sharpness

RTOL = 1e-9


def _dyadic_net(dims: tuple[int, ...], seed: int) -> list[np.ndarray]:
    """Entries in {-1, -3/4, ..., 1}: exact in float32 and float64 alike."""
    rng = np.random.default_rng(seed)
    return [rng.integers(-4, 5, size=(dims[l], dims[l - 1])) / 4 for l in range(1, len(dims))]


def _gaussian_net(dims: tuple[int, ...], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((dims[l], dims[l - 1])) / math.sqrt(dims[l - 1])
            for l in range(1, len(dims))]


def _samples(d_in: int, d_out: int, n: int, seed: int, *, dyadic: bool) -> tuple[Any, Any]:
    """``(inputs, targets)``, samples first (``N x d_0``, ``N x d_L``)."""
    rng = np.random.default_rng(seed)
    if dyadic:
        return (rng.integers(-2, 3, size=(n, d_in)) / 2, rng.integers(-2, 3, size=(n, d_out)) / 2)
    return rng.standard_normal((n, d_in)), rng.standard_normal((n, d_out))


def _as_form(ws: list[np.ndarray], form: str) -> Any:
    """The same weights as a list of arrays, nested lists, a torch model or JAX arrays."""
    if form == "numpy":
        return ws
    if form == "lists":
        return [w.tolist() for w in ws]
    if form == "torch":
        torch = pytest.importorskip("torch", reason="the torch form needs the 'torch' extra")
        model = torch.nn.Sequential(*[torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
                                      for w in ws])
        with torch.no_grad():
            for layer, w in zip(model, ws, strict=True):
                layer.weight.copy_(torch.from_numpy(w))
        return model
    jnp = pytest.importorskip("jax", reason="the JAX form needs the 'jax' extra").numpy
    return [jnp.asarray(w) for w in ws]


def _problem(kind: str, inputs: np.ndarray, targets: np.ndarray) -> dict[str, Any]:
    if kind == "inputs":
        return {"inputs": inputs, "targets": targets}
    if kind == "data":
        return {"data": inputs.T, "labels": targets.T}
    return {"target": targets[: inputs.shape[1]].T}  # M is d_L x d_0


def _sharpness_problem(kind: str, inputs: np.ndarray, targets: np.ndarray) -> dict[str, Any]:
    """The same problem in ``sharpness()``'s arguments."""
    p = _problem(kind, inputs, targets)
    return {"target": p["target"]} if kind == "target" else p


FORMS = ["numpy", "lists", "torch", "jax"]
KINDS = ["inputs", "data", "target"]


# ----------------------------------------------------------------------- the tracked value
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("form", FORMS)
def test_small_point_matches_the_certified_oracle(form: str, kind: str) -> None:
    dims = (3, 4, 3, 2)
    ws = _dyadic_net(dims, seed=1)
    inputs, targets = _samples(3, 2, 5, seed=2, dyadic=True)
    tracker = SharpnessTracker(**_problem(kind, inputs, targets))
    rec = tracker(_as_form(ws, form))
    cert = sharpness(ws, **_sharpness_problem(kind, inputs, targets), dps=30)
    assert cert.certified and not cert.at_minimizer  # a nonzero residual: the full Hessian
    assert abs(rec.sharpness - float(cert.enclosure.mid)) <= RTOL * abs(rec.sharpness)
    fast = sharpness(ws, **_sharpness_problem(kind, inputs, targets), float64=True)
    assert abs(rec.sharpness - fast.value) <= RTOL * abs(fast.value)
    assert rec.residual_norm == pytest.approx(float(cert.residual_norm), rel=1e-14)


@pytest.mark.parametrize("form", FORMS)
def test_larger_point_matches_float64_lanczos(form: str) -> None:
    """P = 480 > DENSE_FLOAT64_LIMIT: sharpness(float64=True) runs its own Lanczos."""
    dims = (8, 16, 16, 6)
    ws = [w.astype(np.float32).astype(np.float64) for w in _gaussian_net(dims, seed=3)]
    inputs, targets = _samples(8, 6, 24, seed=4, dyadic=False)
    rec = SharpnessTracker(inputs=inputs, targets=targets, loss="mse")(_as_form(ws, form))
    ref = sharpness(ws, inputs=inputs, targets=targets, loss="mse", float64=True)
    assert "Lanczos" in ref.method
    assert abs(rec.sharpness - ref.value) <= RTOL * abs(ref.value)


def test_the_layouts_give_the_same_records() -> None:
    ws = _gaussian_net((4, 5, 3), seed=5)
    inputs, targets = _samples(4, 3, 7, seed=6, dyadic=False)
    a = SharpnessTracker(inputs=inputs, targets=targets)(ws)
    b = SharpnessTracker(data=inputs.T.tolist(), labels=targets.T.tolist())(ws)
    assert dataclasses_equal(a, b)


def dataclasses_equal(a: SharpnessRecord, b: SharpnessRecord) -> bool:
    keys = ("step", "sharpness", "loss", "residual_norm", "gradient_norm", "products")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


# ----------------------------------------------------------------------- loss conventions
def _mse_loss() -> Any:
    return pytest.importorskip("torch", reason="nn.MSELoss needs the 'torch' extra").nn.MSELoss()


@pytest.mark.parametrize(
    ("loss_arg", "name"),
    [("half-sum", "half-sum"), ("sum", "sum"), ("mse", "mse"), ("half-mse", "half-mse"),
     ("sample-mean", "sample-mean"), (_mse_loss, "mse")],
    ids=["half-sum", "sum", "mse", "half-mse", "sample-mean", "nn.MSELoss"],
)
def test_loss_conventions(loss_arg: Any, name: str) -> None:
    loss_arg = loss_arg() if callable(loss_arg) else loss_arg
    ws = _gaussian_net((4, 6, 5, 3), seed=7)
    inputs, targets = _samples(4, 3, 9, seed=8, dyadic=False)
    x, y = inputs.T, targets.T
    c, _ = loss_factor(name, n_samples=9, d_out=3)
    base = SharpnessTracker(inputs=inputs, targets=targets)(ws)
    tracker = SharpnessTracker(inputs=inputs, targets=targets, loss=loss_arg)
    rec = tracker(ws)
    assert tracker.loss_convention == name and tracker.factor == c
    assert rec.sharpness == pytest.approx(float(c) * base.sharpness, rel=1e-14)
    assert rec.loss == pytest.approx(float(c) * float(loss(ws, x, y)), rel=1e-13)
    ref = sharpness(ws, inputs=inputs, targets=targets, loss=loss_arg, float64=True)
    assert abs(rec.sharpness - ref.value) <= RTOL * abs(ref.value)


def test_weight_decay_adds_lam() -> None:
    ws = _gaussian_net((4, 6, 3), seed=9)
    inputs, targets = _samples(4, 3, 8, seed=10, dyadic=False)
    lam = Fraction(1, 8)
    plain = SharpnessTracker(inputs=inputs, targets=targets, loss="sum")(ws)
    rec = SharpnessTracker(inputs=inputs, targets=targets, loss="sum", weight_decay="1/8")(ws)
    decay = float(lam) / 2 * sum(float(np.sum(w * w)) for w in ws)
    assert rec.sharpness == pytest.approx(plain.sharpness + float(lam), rel=1e-14)
    assert rec.loss == pytest.approx(plain.loss + decay, rel=1e-14)
    ref = sharpness(ws, inputs=inputs, targets=targets, loss="sum", weight_decay=lam,
                    float64=True)
    assert abs(rec.sharpness - ref.value) <= RTOL * abs(ref.value)


@pytest.mark.parametrize("lam", [0, Fraction(1, 4)], ids=["no-decay", "decay"])
def test_gradient_norm_is_the_slope_of_the_loss(lam: Fraction) -> None:
    """``||grad||`` is the loss's rate of decrease along ``-grad/||grad||`` (central difference,
    step 1e-5: error ~ h^2 |third derivative|, far below 1e-6 here); the loss is the recorded one."""
    ws = _gaussian_net((3, 4, 2), seed=11)
    inputs, targets = _samples(3, 2, 6, seed=12, dyadic=False)
    tracker = SharpnessTracker(inputs=inputs, targets=targets, loss="mse", weight_decay=lam)
    rec = tracker(ws)
    c = float(tracker.factor)
    g = [c * gi + float(lam) * w for gi, w in zip(gradient(ws, inputs.T, targets.T), ws,
                                                   strict=True)]
    norm = math.sqrt(sum(float(np.sum(gi * gi)) for gi in g))
    assert rec.gradient_norm == pytest.approx(norm, rel=1e-13)
    h = 1e-5
    plus = tracker([w - h * gi / norm for w, gi in zip(ws, g, strict=True)]).loss
    minus = tracker([w + h * gi / norm for w, gi in zip(ws, g, strict=True)]).loss
    assert (minus - plus) / (2 * h) == pytest.approx(rec.gradient_norm, rel=1e-6)
    assert rec.residual_norm == pytest.approx(
        float(np.linalg.norm(residual(ws, inputs.T, targets.T))), rel=1e-15)


def test_plain_factorization_matches_the_exact_closed_form() -> None:
    """At a minimizer of ``M``: ``lambda_max = ||W_1||^2 + ||W_2||^2`` for scalars (K5)."""
    rec = SharpnessTracker(target=[[6]], eta=0.1)([[[2.0]], [[3.0]]])
    assert rec.sharpness == pytest.approx(13.0, rel=1e-14)
    assert rec.loss == 0.0 and rec.residual_norm == 0.0 and rec.gradient_norm == 0.0


# ----------------------------------------------------------------------- warm starts
def _trajectory(steps: int) -> tuple[list[list[np.ndarray]], np.ndarray, np.ndarray]:
    """Gradient descent on the half-sum loss at ``eta = 1/lambda_max(start)``."""
    ws = _gaussian_net((8, 16, 16, 6), seed=13)
    inputs, targets = _samples(8, 6, 24, seed=14, dyadic=False)
    eta = 1 / SharpnessTracker(inputs=inputs, targets=targets)(ws).sharpness
    points = [ws]
    for _ in range(steps - 1):
        ws = [w - eta * g for w, g in zip(ws, gradient(ws, inputs.T, targets.T), strict=True)]
        points.append(ws)
    return points, inputs, targets


def test_warm_starts_use_no_more_products_than_cold_starts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DMF_SHARPNESS_THREADS", raising=False)  # the size rule: 1 thread
    points, inputs, targets = _trajectory(12)
    warm = SharpnessTracker(inputs=inputs, targets=targets)
    cold = SharpnessTracker(inputs=inputs, targets=targets, warm_start=False)
    for ws in points:
        a, b = warm(ws), cold(ws)
        assert abs(a.sharpness - b.sharpness) <= RTOL * abs(b.sharpness)
    assert all(w.products <= c.products for w, c in zip(warm.history, cold.history, strict=True))
    assert sum(r.products for r in warm.history) < sum(r.products for r in cold.history)
    assert "warm-started" in warm.method and "seeded random vector" in cold.method
    assert warm.method.endswith("(BLAS threads: 1, chosen by size)")


@pytest.mark.parametrize("kind", ["data", "target"])
def test_first_step_starts_from_the_structured_vector(kind: str) -> None:
    """At a minimizer ``H = J^T J`` and the structured start ``J^T u`` is its top eigenvector:
    the first step needs fewer products than from the seeded random vector, same value."""
    ws = _gaussian_net((8, 16, 16, 6), seed=19)
    x = np.random.default_rng(20).standard_normal((8, 40))
    f = ws[2] @ ws[1] @ ws[0]
    problem = {"data": x, "labels": f @ x} if kind == "data" else {"target": f}
    warm = SharpnessTracker(**problem)
    cold = SharpnessTracker(**problem, warm_start=False)
    a, b = warm(ws), cold(ws)
    assert abs(a.sharpness - b.sharpness) <= RTOL * abs(b.sharpness)
    assert a.residual_norm < 1e-12 * float(np.linalg.norm(f))
    assert a.products < b.products
    assert "structured start J^T u" in warm.method


def _qr_counter(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    qr = np.linalg.qr

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return qr(*args, **kwargs)

    monkeypatch.setattr(np.linalg, "qr", counting)
    return calls


def test_data_are_compressed_once_per_tracker(monkeypatch: pytest.MonkeyPatch) -> None:
    """``N = 24 > d_0 = 8``: the thin QR of ``X^T`` runs once, when the tracker is made, not at
    every step; the Hessian (and the sharpness) is that of the data as given."""
    points, inputs, targets = _trajectory(3)
    calls = _qr_counter(monkeypatch)
    tracker = SharpnessTracker(inputs=inputs, targets=targets)
    for ws in points:
        rec = tracker(ws)
        ref = sharpness(ws, inputs=inputs, targets=targets, float64=True)
        assert abs(rec.sharpness - ref.value) <= RTOL * abs(ref.value)
    assert calls[0] - 3 <= 1  # sharpness() factors X^T once per call; the tracker once in all
    assert "the data compressed once (thin QR of X^T: the same Hessian, 8 columns instead of " \
        "24)" in tracker.method


def test_no_compression_when_samples_do_not_exceed_d0(monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _gaussian_net((8, 16, 6), seed=21)
    inputs, targets = _samples(8, 6, 5, seed=22, dyadic=False)
    calls = _qr_counter(monkeypatch)
    tracker = SharpnessTracker(inputs=inputs, targets=targets)
    tracker(ws)
    assert calls[0] == 0 and "compressed" not in tracker.method


def test_full_lanczos_basis_continues_in_arpack(monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for 3 Lanczos vectors the run cannot finish there: ARPACK takes over from the
    last Ritz vector and the value is the same."""
    import numeric.dynamics.track as track

    points, inputs, targets = _trajectory(2)
    full = SharpnessTracker(inputs=inputs, targets=targets)
    monkeypatch.setattr(track, "LANCZOS_STEPS", 3)
    small = SharpnessTracker(inputs=inputs, targets=targets)
    for ws in points:
        a, b = full(ws), small(ws)
        assert abs(a.sharpness - b.sharpness) <= RTOL * abs(a.sharpness)
        assert b.products > 3
        ref = float(np.linalg.eigvalsh(numeric.hessian.full_hessian(ws, inputs.T, targets.T))[-1])
        assert abs(b.sharpness - ref) <= RTOL * abs(ref)


def _block(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0] + b.shape[0], a.shape[1] + b.shape[1]))
    out[: a.shape[0], : a.shape[1]], out[a.shape[0]:, a.shape[1]:] = a, b
    return out


def _two_networks(scale_b: float) -> tuple[list[np.ndarray], np.ndarray, float]:
    """Two independent networks side by side (block-diagonal weights and target): their
    parameters, those of network B and the off-diagonal blocks span subspaces that every
    Hessian-vector product maps into themselves EXACTLY (zero blocks stay zero in float64).
    Returns the weights with network B scaled by ``scale_b``, the target and ``lambda_max`` of
    network A alone."""
    dims = (3, 6, 6, 2)
    a, b = _gaussian_net(dims, seed=23), _gaussian_net(dims, seed=24)
    rng = np.random.default_rng(25)
    ma = a[2] @ a[1] @ a[0] + 0.3 * rng.standard_normal((2, 3))
    mb = b[2] @ b[1] @ b[0] + 0.3 * rng.standard_normal((2, 3))
    lam_a = float(np.linalg.eigvalsh(numeric.hessian.full_hessian(a, None, ma))[-1])
    return [_block(u, scale_b * v) for u, v in zip(a, b, strict=True)], _block(ma, mb), lam_a


@pytest.mark.parametrize("mix", ["default", 0.0], ids=["WARM_MIX", "no-mix-control"])
def test_warm_start_finds_a_top_outside_the_previous_subspace(
        monkeypatch: pytest.MonkeyPatch, mix: Any) -> None:
    """Step 0: network A is the sharper, so the top eigenvector lies in A's invariant subspace;
    step 1: network B is scaled up and the top lies outside it. Lanczos from the previous
    eigenvector alone never leaves that subspace (the control: it returns network A's value);
    the ``WARM_MIX`` random part makes the warm start find the true top."""
    import numeric.dynamics.track as track

    if mix != "default":
        monkeypatch.setattr(track, "WARM_MIX", mix)
    w0, m, lam_a = _two_networks(0.2)
    w1, _, _ = _two_networks(1.6)
    tracker = SharpnessTracker(target=m)
    assert abs(tracker(w0).sharpness - lam_a) <= RTOL * lam_a  # the top is network A's
    ref = float(np.linalg.eigvalsh(numeric.hessian.full_hessian(w1, None, m))[-1])
    assert ref > 1.05 * lam_a  # after the step it is not
    got = tracker(w1).sharpness
    if mix == "default":
        assert abs(got - ref) <= RTOL * ref
    else:
        assert abs(got - lam_a) <= RTOL * lam_a


def test_threads_option_is_recorded() -> None:
    tracker = SharpnessTracker(target=np.eye(2), threads=2)
    tracker(_gaussian_net((2, 3, 2), seed=18))
    assert tracker.method.endswith("(BLAS threads: 2, set by the threads argument)")


def test_steps_count_and_can_be_given() -> None:
    ws = _gaussian_net((2, 3, 2), seed=15)
    tracker = SharpnessTracker(target=np.eye(2))
    assert [tracker(ws).step for _ in range(3)] == [0, 1, 2]
    assert tracker(ws, step=10).step == 10 and tracker(ws).step == 11
    assert len(tracker.history) == 5


# ----------------------------------------------------------------------- no hidden copies
def test_data_are_the_trackers_own_and_weights_are_not_copied() -> None:
    ws = _gaussian_net((3, 4, 2), seed=16)
    inputs, targets = _samples(3, 2, 5, seed=17, dyadic=False)
    tracker = SharpnessTracker(inputs=inputs, targets=targets, warm_start=False)
    before = tracker(ws)
    inputs[:] = 0.0  # the caller's array changes after construction: the tracker's does not
    after = tracker(ws)
    assert (after.sharpness, after.loss) == (before.sharpness, before.loss)
    assert all(a is w for a, w in zip(_layers(ws), ws, strict=True))  # float64: no copy


def test_torch_float64_weights_are_read_without_a_copy() -> None:
    torch = pytest.importorskip("torch", reason="the torch form needs the 'torch' extra")
    model = torch.nn.Sequential(torch.nn.Linear(3, 4, bias=False),
                                torch.nn.Linear(4, 2, bias=False)).double()
    arrays = _layers(model)
    assert all(np.shares_memory(a, layer.weight.detach().numpy())
               for a, layer in zip(arrays, model, strict=True))


# ----------------------------------------------------------------------- refusals
_M = np.ones((2, 3))  # target: d_0 = 3, d_L = 2
_IN, _OUT = np.ones((5, 3)), np.ones((5, 2))  # N = 5 samples
_W = [np.ones((4, 3)), np.ones((2, 4))]


def _track(*calls: Any, **kw: Any) -> Callable[[], Any]:
    def run() -> None:
        tracker = SharpnessTracker(**kw)
        for weights in calls:
            tracker(weights)
    return run


def _step(step: Any) -> Callable[[], Any]:
    return lambda: SharpnessTracker(target=_M)(_W, step=step)


REFUSED = [
    ("eta-zero", _track(target=_M, eta=0), DmfError, r"eta \(the step size\) must be .* > 0; got 0"),
    ("eta-negative", _track(target=_M, eta=-0.1), DmfError, "must be a finite number > 0"),
    ("eta-nan", _track(target=_M, eta=float("nan")), DmfError, "must be a finite number > 0"),
    ("eta-string", _track(target=_M, eta="0.1"), DmfError, "must be a finite number > 0"),
    ("no-problem", _track(), DmfError, "needs the problem of the run .* got none of them"),
    ("two-problems", _track(target=_M, inputs=_IN, targets=_OUT), DmfError,
     "exactly one form.* got target, inputs, targets"),
    ("data-without-labels", _track(data=_IN.T), DmfError, "got data= without labels="),
    ("targets-without-inputs", _track(targets=_OUT), DmfError, "got targets= without inputs="),
    ("product", _track(inputs=_IN, targets="product"), DmfError,
     "targets='product' is not a training problem"),
    ("sample-counts", _track(inputs=_IN, targets=_OUT[:4]), ShapeError,
     r"inputs has 5 samples \(shape \(5, 3\)\) but targets has 4"),
    ("labels-columns", _track(data=_IN.T, labels=_OUT[:4].T), ShapeError,
     "data has 5 samples .* but labels has 4"),
    ("nan-data", _track(inputs=np.full((5, 3), np.nan), targets=_OUT), NonFiniteError,
     "inputs has non-finite entries"),
    ("string-data", _track(target=[["a", "b"]]), DmfError, "target must be a d_L x d_0 matrix"),
    ("1-D-target", _track(target=[1.0, 2.0]), ShapeError, r"target must be a 2-D .* shape \(2,\)"),
    ("loss-mean", _track(target=_M, loss="mean"), DmfError, "loss='mean' is ambiguous"),
    ("negative-decay", _track(target=_M, weight_decay=-1), DmfError, "weight_decay must be >= 0"),
    ("ncv", _track(target=_M, ncv=1), DmfError, "ncv .* must be an integer >= 2; got 1"),
    ("W_1-misfit", _track([np.ones((4, 2)), np.ones((2, 4))], target=_M), ShapeError,
     r"W_1 has shape \(4, 2\) but the problem has d_0 = 3 \(target M is \(2, 3\)\)"),
    ("inputs-transposed-counts", _track(inputs=_IN.T, targets=_OUT), ShapeError,
     r"inputs has 3 samples .* but targets has 5 .*; inputs looks transposed: pass inputs=inputs.T"),
    ("inputs-transposed", _track(_W, inputs=_IN.T, targets=np.ones((3, 2))), ShapeError,
     r"d_0 = 5 \(inputs is N x 5\); W_1 must be \(d_1, 5\); inputs looks transposed"),
    ("W_L-misfit", _track([np.ones((4, 3)), np.ones((3, 4))], inputs=_IN, targets=_OUT),
     ShapeError, r"W_2 has shape \(3, 4\) but the problem has d_L = 2 outputs \(targets is N x 2\)"),
    ("no-chain", _track([np.ones((4, 3)), np.ones((2, 5))], target=_M), ShapeError,
     r"layer 2 \(W_2\) has shape \(2, 5\) but layer 1 outputs 4 rows"),
    ("shape-changed", _track(_W, [np.ones((5, 3)), np.ones((2, 5))], target=_M), ShapeError,
     r"W_1 has shape \(5, 3\) but at step 0 it had \(4, 3\); a tracker follows one network"),
    ("depth-changed", _track(_W, [np.ones((2, 3))], target=_M), ShapeError,
     "got 1 layers but step 0 had 2"),
    ("nan-weights", _track(_W, [np.ones((4, 3)), np.full((2, 4), np.inf)], target=_M),
     NonFiniteError, "W_2 has non-finite entries .* at step 1: has the run diverged"),
    ("one-array", _track(np.ones((2, 3)), target=_M), DmfError, "weights must be a list"),
    ("no-layers", _track([], target=_M), EmptyInputError, "no layers given"),
    ("3-D-layer", _track([np.ones((2, 3, 1))], target=_M), ShapeError,
     r"W_1 must be 2-D \(d_1, d_0\); got shape \(2, 3, 1\)"),
    ("string-entries", _track([[["1/3", "1"]]], target=[[1.0, 1.0]]), DmfError,
     "W_1 must be a 2-D array of real numbers; got list"),
    ("complex-layer", _track([np.ones((2, 3)) * 1j], target=_M), DmfError,
     "W_1 has complex entries"),
    ("threads-zero", _track(target=_M, threads=0), DmfError,
     r"threads \(--threads\) must be a whole number of threads >= 1 or 'auto'"),
    ("step-string", _step("3"), DmfError, "step must be an integer; got '3'"),
    ("step-bool", _step(True), DmfError, "step must be an integer; got True"),
]


@pytest.mark.parametrize(("run", "error", "match"), [r[1:] for r in REFUSED],
                         ids=[r[0] for r in REFUSED])
def test_refused_in_one_line(run: Callable[[], Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match) as info:
        run()
    assert "\n" not in str(info.value)


def _torch_model(*, bias: bool, extra: bool = False) -> Any:
    nn = pytest.importorskip("torch", reason="torch models need the 'torch' extra").nn
    layers: list[Any] = [nn.Linear(3, 4, bias=False), nn.Linear(4, 2, bias=bias)]
    if extra:
        layers.insert(1, nn.ReLU())
    return nn.Sequential(*layers)


@pytest.mark.parametrize(
    ("build", "match"),
    [(lambda: _torch_model(bias=True), r"layer 2 \(W_2\) has a bias; .*bias=False"),
     (lambda: _torch_model(bias=False, extra=True), "module 1 of the model is ReLU")],
    ids=["bias", "relu"],
)
def test_torch_models_refused(build: Callable[[], Any], match: str) -> None:
    model = build()
    with pytest.raises(ShapeError, match=match) as info:
        SharpnessTracker(target=_M)(model)
    assert "\n" not in str(info.value)


# ----------------------------------------------------------------------- output
def _plt() -> Any:
    matplotlib = pytest.importorskip("matplotlib", reason="plot needs matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _short_run(eta: float | None = 0.05) -> SharpnessTracker:
    points, inputs, targets = _trajectory(4)
    tracker = SharpnessTracker(inputs=inputs, targets=targets, eta=eta)
    for ws in points:
        tracker(ws)
    return tracker


def test_plot_draws_the_history_and_writes_nothing(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    plt = _plt()
    monkeypatch.chdir(tmp_path)
    tracker = _short_run()
    fig, (ax, ax_loss) = tracker.plot()
    try:
        steps = [r.step for r in tracker.history]
        curve, threshold = ax.lines
        assert list(curve.get_xdata()) == steps
        assert list(curve.get_ydata()) == [r.sharpness for r in tracker.history]
        assert list(threshold.get_ydata()) == [40.0, 40.0]  # 2/eta, eta = 0.05
        (loss_line,) = ax_loss.lines
        assert list(loss_line.get_ydata()) == [r.loss for r in tracker.history]
        assert list(loss_line.get_xdata()) == steps
    finally:
        plt.close(fig)
    assert list(tmp_path.iterdir()) == []


def test_plot_on_given_axes_and_to_a_file(tmp_path: Path) -> None:
    plt = _plt()
    tracker = _short_run(eta=None)
    fig, ax = plt.subplots()
    try:
        got_fig, (got_ax, _) = tracker.plot(ax, path=tmp_path / "run.png")
        assert got_fig is fig and got_ax is ax
        assert len(ax.lines) == 1  # no eta: no 2/eta line
    finally:
        plt.close(fig)
    assert [p.name for p in tmp_path.iterdir()] == ["run.png"]
    assert (tmp_path / "run.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rows_and_json() -> None:
    tracker = _short_run()
    doc = json.loads(json.dumps(tracker.to_json()))
    assert doc["method"].startswith("approximate (float64)") and "Lanczos" in doc["method"]
    assert doc["dims"] == [8, 16, 16, 6] and doc["samples"] == 24
    assert doc["two_over_eta"] == 40.0 and doc["loss_factor"] == "1"
    rows = tracker.rows()
    assert [r["sharpness"] for r in doc["history"]] == [r.sharpness for r in tracker.history]
    assert all(r["eta_sharpness_over_2"] == 0.05 * r["sharpness"] / 2 for r in rows)


def test_lazy_export() -> None:
    assert numeric.SharpnessTracker is SharpnessTracker
    assert "SharpnessTracker" in numeric.__all__
