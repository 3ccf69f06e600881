"""The sharpness of a trained model, right the first time.

* README's quick starts ("The sharpness of your trained model"), run as written: the value is
  the top eigenvalue of autograd's full Hessian of the same loss, for PyTorch and for JAX;
* every loss name is the PyTorch expression the README's table puts next to it (autograd's
  Hessian of that very expression), ``nn.MSELoss`` objects are their reduction, and ``"mean"``
  (ambiguous) and losses of unknown reduction are refused in one line;
* ``check_implementation`` says which convention a function off by one factor computes;
* a refusal for size is made from the shapes, before any exact work (and so in milliseconds).
"""

from __future__ import annotations

import re
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from derivations.errors import DmfError
from derivations.exact import parse_matrix
from numeric.evaluators.budget import BudgetExceededError, _float_bits, _matrix_bits
from numeric.loss_conventions import EQUIVALENTS, LOSSES, loss_factor, resolve_loss
from numeric.sharpness import sharpness

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks(heading: str) -> list[str]:
    """The ```python blocks of the README section ``## heading``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {heading}\n")
    end = text.index("\n## ", start + 1)
    return re.findall(r"^```python\n(.*?)^```", text[start:end], flags=re.M | re.S)


def _quick_starts() -> list[str]:
    return _python_blocks("The sharpness of your trained model")


def _run_block(code: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(compile(code, "README.md", "exec"), namespace)  # the project's own README, as written
    assert not any(tmp_path.iterdir()), "the README example wrote into the working directory"
    return namespace


def _top_eigenvalue(hessian: Any) -> float:
    return float(np.linalg.eigvalsh(np.asarray(hessian, dtype=np.float64))[-1])


def _torch_hessian_top(ws: list[Any], inputs: Any, targets: Any, loss_of: Any) -> float:
    """``lambda_max`` of ``torch.autograd.functional.hessian`` of ``loss_of(prediction, Y)``
    over the flattened float64 weights (layer 1 first)."""
    import torch

    shapes = [tuple(w.shape) for w in ws]
    sizes = [int(np.prod(s)) for s in shapes]
    x = torch.as_tensor(np.asarray(inputs), dtype=torch.float64)
    y = torch.as_tensor(np.asarray(targets), dtype=torch.float64)

    def loss(theta: Any) -> Any:
        out = x
        for part, shape in zip(torch.split(theta, sizes), shapes, strict=True):
            out = out @ part.reshape(shape).T
        return loss_of(out, y)

    theta = torch.cat([torch.as_tensor(np.asarray(w), dtype=torch.float64).flatten() for w in ws])
    return _top_eigenvalue(torch.autograd.functional.hessian(loss, theta).numpy())


# ----------------------------------------------------------------------- README quick starts
def test_readme_has_both_quick_starts() -> None:
    blocks = _quick_starts()
    assert len(blocks) == 2
    assert "import torch" in blocks[0] and "import jax" in blocks[1]


def test_readme_pytorch_quick_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch", reason="the PyTorch quick start needs the 'torch' extra")
    ns = _run_block(_quick_starts()[0], monkeypatch, tmp_path)
    r, model = ns["r"], ns["model"]
    ws = [layer.weight.detach().to(torch.float64) for layer in model]
    ref = _torch_hessian_top(ws, ns["X"], ns["Y"], torch.nn.MSELoss())
    assert r.certified and r.loss_convention == "mse" and not r.at_minimizer
    assert abs(float(r) - ref) <= 1e-12 * abs(ref)
    # the trained point is where the README says: 300 steps lowered the loss it names
    with torch.no_grad():
        assert float(torch.nn.MSELoss()(model(ns["X"]), ns["Y"])) < float(ns["Y"].pow(2).mean())


def test_readme_jax_quick_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    jax = pytest.importorskip("jax", reason="the JAX quick start needs the 'jax' extra")
    ns = _run_block(_quick_starts()[1], monkeypatch, tmp_path)
    ws = [np.asarray(w, dtype=np.float64) for w in ns["ws"]]
    x, y = np.asarray(ns["X"], dtype=np.float64), np.asarray(ns["Y"], dtype=np.float64)
    import numeric.adapters.jax  # noqa: F401  (switches JAX to float64, as documented)

    jnp = jax.numpy
    shapes = [w.shape for w in ws]

    def mse(theta: Any) -> Any:
        out, start = jnp.asarray(x), 0
        for s in shapes:
            out = out @ theta[start:start + s[0] * s[1]].reshape(s).T
            start += s[0] * s[1]
        return jnp.mean((out - jnp.asarray(y)) ** 2)

    theta = jnp.concatenate([jnp.asarray(w).ravel() for w in ws])
    assert theta.dtype == jnp.float64
    ref = _top_eigenvalue(jax.hessian(mse)(theta))
    r = ns["r"]
    assert r.certified and r.loss_convention == "mse"
    assert abs(float(r) - ref) <= 1e-12 * abs(ref)


def test_readme_tracker_example(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    """README "Sharpness along training" as written: the last record is the float64
    sharpness of the model's final weights, as the oracle computes it."""
    torch = pytest.importorskip("torch", reason="the tracker example uses PyTorch")
    (block,) = _python_blocks("Sharpness along training")
    ns = _run_block(block, monkeypatch, tmp_path)
    tracker, model = ns["tracker"], ns["model"]
    assert len(tracker.history) == 200 and tracker.two_over_eta == 4.0
    assert "sharpness" in capsys.readouterr().out
    ws = [layer.weight.detach().to(torch.float64) for layer in model]
    last = tracker(model)  # the weights after the final step
    ref = _torch_hessian_top(ws, ns["X"], ns["Y"], torch.nn.MSELoss())
    assert abs(last.sharpness - ref) <= 1e-9 * abs(ref)


# ----------------------------------------------------------------------- loss conventions
def _torch_losses() -> dict[str, Any]:
    """Each convention as the PyTorch expression README's table gives for it."""
    nn = pytest.importorskip("torch", reason="the PyTorch expressions need the 'torch' extra").nn
    return {
        "half-sum": lambda p, y: 0.5 * ((p - y) ** 2).sum(),
        "sum": nn.MSELoss(reduction="sum"),
        "mse": nn.MSELoss(),
        "half-mse": lambda p, y: 0.5 * nn.MSELoss()(p, y),
        "sample-mean": lambda p, y: ((p - y) ** 2).sum(dim=1).mean(),
    }


def test_every_convention_has_its_pytorch_and_jax_expression() -> None:
    assert set(EQUIVALENTS) == set(LOSSES)
    text = README.read_text(encoding="utf-8")
    for name, (torch_expr, jax_expr) in EQUIVALENTS.items():
        row = next((line for line in text.splitlines() if line.startswith(f'| `"{name}"`')), None)
        assert row is not None, f"README's loss table has no row for {name!r}"
        assert f"`{torch_expr}`" in row and f"`{jax_expr}`" in row, row


@pytest.mark.parametrize("name", list(LOSSES))
def test_each_loss_name_is_its_pytorch_expression(name: str) -> None:
    rng = np.random.default_rng(3)
    ws = [rng.integers(-2, 3, (3, 2)).astype(float), rng.integers(-2, 3, (2, 3)).astype(float)]
    x, y = rng.integers(-2, 3, (5, 2)).astype(float), rng.integers(-2, 3, (5, 2)).astype(float)
    ref = _torch_hessian_top(ws, x, y, _torch_losses()[name])
    r = sharpness(ws, inputs=x, targets=y, loss=name, dps=30)
    assert r.loss_convention == name
    assert abs(float(r) - ref) <= 1e-12 * max(1.0, abs(ref))


@pytest.mark.parametrize(("reduction", "name"), [("mean", "mse"), ("sum", "sum")])
def test_a_torch_mse_loss_object_is_its_reduction(reduction: str, name: str) -> None:
    torch = pytest.importorskip("torch", reason="nn.MSELoss needs the 'torch' extra")
    ws = [[[1, 2], [0, 1]], [[1, -1]]]
    x, y = [[1, 0], [2, 1], [0, 3]], [[1], [0], [2]]
    by_object = sharpness(ws, inputs=x, targets=y, loss=torch.nn.MSELoss(reduction=reduction))
    by_name = sharpness(ws, inputs=x, targets=y, loss=name)
    assert by_object.loss_convention == name and by_object.enclosure == by_name.enclosure


def _refused_losses() -> list[Any]:
    out: list[Any] = [pytest.param("mean", "ambiguous.*'mse'.*'sample-mean'", id="mean"),
                      pytest.param("MSE", "unknown loss convention 'MSE'", id="unknown-name"),
                      pytest.param(np.mean, "reduction is not known", id="a-function")]
    try:
        import torch
    except ImportError:
        return out
    return [*out,
            pytest.param(torch.nn.MSELoss(reduction="none"), "not a scalar loss", id="none"),
            pytest.param(torch.nn.L1Loss(), "got L1Loss", id="l1"),
            pytest.param(torch.nn.functional.mse_loss, "reduction is not known", id="F.mse_loss")]


@pytest.mark.parametrize(("loss", "match"), _refused_losses())
def test_a_loss_that_would_be_a_guess_is_refused(loss: Any, match: str) -> None:
    with pytest.raises(DmfError, match=match):
        sharpness([[[1, 2]]], target="product", loss=loss)
    with pytest.raises(DmfError, match=match):
        resolve_loss(loss)


def test_the_command_line_refuses_mean_in_one_line(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    from numeric.cli import main

    path = tmp_path / "p.json"
    path.write_text('{"weights": [[[1, 2]]], "target": [[3]]}', encoding="utf-8")
    assert main(["oracle", str(path), "--loss", "mean"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'sample-mean'" in err and "'mse'" in err


def test_conformance_names_the_convention_a_function_computes() -> None:
    pytest.importorskip("torch", reason="check_implementation's PyTorch adapter needs 'torch'")
    from numeric.adapters.torch import autograd_full_hessian_sharpness, check_implementation

    cases = [[[[1, 2], [0, 1]], [[1, -1], [2, 0], [1, 1]]], [[[2, 1, 0]], [[1], [3]]]]
    half_sum = check_implementation(autograd_full_hessian_sharpness, cases, loss="mse")
    assert not half_sum.passed
    assert half_sum.diagnosis is not None and "loss='half-sum'" in half_sum.diagnosis
    assert half_sum.diagnosis in str(half_sum)
    assert check_implementation(autograd_full_hessian_sharpness, cases).diagnosis is None

    def off(*args: Any) -> float:
        return 1.25 * autograd_full_hessian_sharpness(*args)

    scaled = check_implementation(off, cases)
    assert scaled.diagnosis is not None and "same factor 1.25" in scaled.diagnosis


def test_loss_factor_table() -> None:
    n, d = 6, 4
    factors = {name: loss_factor(name, n_samples=n, d_out=d)[0] for name in LOSSES}
    assert factors == {"half-sum": 1, "sum": 2, "mse": Fraction(2, n * d),
                       "half-mse": Fraction(1, n * d), "sample-mean": Fraction(2, n)}


# ----------------------------------------------------------------------- instant budgets
def test_a_refusal_for_size_does_no_exact_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's case: depth 5, width 512, 64 samples, ``max_seconds=200``. The refusal comes
    from the shapes and the entries' bits (read without converting), before any parsing."""
    module = sys.modules["numeric.sharpness"]  # numeric.sharpness the name is the function

    def no_parsing(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the budget refusal parsed the point exactly")

    monkeypatch.setattr(module, "parse_point", no_parsing)
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((512, 512)) / np.sqrt(512) for _ in range(5)]
    x, y = rng.standard_normal((64, 512)), rng.standard_normal((64, 512))
    start = time.perf_counter()
    with pytest.raises(BudgetExceededError, match=r"from the shapes alone.*bits"):
        sharpness(ws, inputs=x, targets=y, max_seconds=200)
    assert time.perf_counter() - start < 1.0  # measured 0.08 s; the old route took 256 s


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)),
              elements=st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True)))
def test_float_bits_are_the_exact_bits(m: np.ndarray) -> None:
    """The bits read from ``frexp`` are those of the exact rationals (so the shapes' estimate
    is a lower bound of the estimate made after parsing)."""
    assert _float_bits(m) == _matrix_bits(parse_matrix(m, "m"))


def test_integer_bits_are_the_exact_bits() -> None:
    m = np.array([[3, -(2**40)], [0, 7]])
    assert _float_bits(m) == _matrix_bits(parse_matrix(m, "m"))


def test_the_command_line_refuses_for_size_before_reading_entries(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``oracle FILE.npz --max-seconds 200`` on a depth-5, width-256 network: refused from the
    file's shapes and bits, never reading an entry as a fraction (that took 6 s at width 512)."""
    import numeric.oracle.files as files
    from numeric.cli import main

    def no_parsing(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the refusal read the entries exactly")

    monkeypatch.setattr(files, "_parse_all", no_parsing)
    rng = np.random.default_rng(0)
    arrays = {f"W{l}": rng.standard_normal((256, 256)) for l in range(1, 6)}
    np.savez(tmp_path / "big.npz", **arrays, X=rng.standard_normal((256, 32)),
             Y=rng.standard_normal((256, 32)))
    assert main(["oracle", str(tmp_path / "big.npz"), "--max-seconds", "200"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "from the shapes alone" in err and "over --max-seconds 200" in err
