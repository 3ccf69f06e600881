"""``dmf-sharpness oracle`` on files from PyTorch: a ``state_dict`` (``.npz`` or ``.pt``) with
samples-first data, a separate ``--data`` file, ``--samples-first`` and ``--target product``.

Each file is the same problem as a column-major ``W1..WL``/``X``/``Y`` file, so the oracle must
print the same certified enclosure for both; the value is also compared with an independent
float64 reference, the eigenvalues of the full Hessian that ``torch.autograd.functional.hessian``
computes through the model's own ``forward`` (so the order of the layers comes from the module,
not from the file's keys). Bad files are one table: each refused in one line naming the problem,
by ``load_arrays`` and by the command (exit status 2).
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import zipfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations.errors import DmfError, InputFileError, ShapeError, TooLargeError
from numeric.cli import main
from numeric.oracle.files import load_arrays
from numeric.oracle.npz import read_npz

EPS = float(np.finfo(np.float64).eps)
DIMS = (4, 3, 2)  # d_0, d_1, d_2
N = 6
VOLATILE = ("input", "problem")
"""Fields of the --json document that name the file or how it was read, not the answer."""

_HAS_TORCH = importlib.util.find_spec("torch") is not None

_TORCH = "torch is an optional extra; .pt files and the autograd reference need it"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _oracle_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = _run(capsys, "oracle", *argv, "--json", "--dps", "30")
    assert code == 0 and err == "", err
    return json.loads(out)


def _answer(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in VOLATILE}


def _arrays(seed: int = 0) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """float32 weights ``W_l`` (``d_l x d_{l-1}``, as ``nn.Linear.weight``), ``inputs``
    (``N x d_0``) and ``targets`` (``N x d_L``), as a float32 PyTorch model would hold them."""
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal((DIMS[l + 1], DIMS[l])).astype(np.float32) for l in range(2)]
    inputs = rng.standard_normal((N, DIMS[0])).astype(np.float32)
    targets = rng.standard_normal((N, DIMS[-1])).astype(np.float32)
    return ws, inputs, targets


def _column_major(path: Path, ws: list[np.ndarray], inputs: Any, targets: Any) -> Path:
    """The same problem in the original layout: ``W1, W2`` and ``X = inputs^T``, ``Y =
    targets^T`` (float32 -> float64 is exact)."""
    np.savez(path, **{f"W{l}": np.asarray(w, np.float64) for l, w in enumerate(ws, 1)},
             X=np.asarray(inputs, np.float64).T, Y=np.asarray(targets, np.float64).T)
    return path


# --- with numpy alone ----------------------------------------------------------------------


def test_state_dict_npz_is_the_column_major_problem(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """``0.weight``, ``2.weight`` (an ``nn.Sequential`` with a parameter-free module between)
    with ``inputs``/``targets``: the same certified answer as ``W1, W2, X, Y``, and the report
    says which key is which ``W_l`` and that the data was transposed."""
    ws, inputs, targets = _arrays()
    sd = tmp_path / "model.npz"
    np.savez(sd, **{"0.weight": ws[0], "2.weight": ws[1]}, inputs=inputs, targets=targets)
    ref = _oracle_json(capsys, str(_column_major(tmp_path / "cm.npz", ws, inputs, targets)))
    doc = _oracle_json(capsys, str(sd))
    assert _answer(doc) == _answer(ref)
    assert doc["certified"] is True and doc["dims"] == list(DIMS) and doc["at_minimizer"] is False
    assert doc["problem"][0].startswith("weights: W_1 = 0.weight, W_2 = 2.weight")
    assert "X = inputs^T, Y = targets^T" in doc["problem"][1]
    code, out, _ = _run(capsys, "oracle", str(sd), "--dps", "20")
    assert code == 0
    assert "(npz state_dict)" in out and "data: inputs (6, 4) and targets (6, 2)" in out


def test_the_file_order_is_the_module_order(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """``fc1``, ``fc2`` saved in module order give the answer of ``W1 = fc1``, ``W2 = fc2``;
    saved the other way round they do not chain, and the message lists which key is ``W_1``."""
    ws, inputs, targets = _arrays(1)
    good = tmp_path / "good.npz"
    np.savez(good, **{"fc1.weight": ws[0], "fc2.weight": ws[1]}, inputs=inputs, targets=targets)
    ref = _oracle_json(capsys, str(_column_major(tmp_path / "cm.npz", ws, inputs, targets)))
    assert _answer(_oracle_json(capsys, str(good))) == _answer(ref)
    swapped = tmp_path / "swapped.npz"
    np.savez(swapped, **{"fc2.weight": ws[1], "fc1.weight": ws[0]}, inputs=inputs, targets=targets)
    with pytest.raises(ShapeError, match=r"module order: W_1 = fc2\.weight \(2, 3\)"):
        load_arrays(swapped)


@pytest.mark.parametrize("fmt", ["npz", "json"])
def test_samples_first_transposes_x_and_y(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          fmt: str) -> None:
    """``--samples-first``: ``X``/``Y`` (JSON ``data``/``labels``) given ``N x d`` are the
    column-major problem; without the flag the same file is refused, naming the flag."""
    ws, inputs, targets = _arrays(2)
    w64 = [w.astype(np.float64) for w in ws]
    path = tmp_path / f"rows.{fmt}"
    if fmt == "npz":
        np.savez(path, W1=w64[0], W2=w64[1], X=inputs.astype(np.float64),
                 Y=targets.astype(np.float64))
    else:
        path.write_text(json.dumps({"weights": [w.tolist() for w in w64],
                                    "data": inputs.astype(np.float64).tolist(),
                                    "labels": targets.astype(np.float64).tolist()}))
    ref = _oracle_json(capsys, str(_column_major(tmp_path / "cm.npz", ws, inputs, targets)))
    assert _answer(_oracle_json(capsys, str(path), "--samples-first")) == _answer(ref)
    with pytest.raises(ShapeError, match=r"has shape \(6, 4\) but W_1 takes 4 inputs: .* pass "
                       r"--samples-first if it holds one sample per row"):
        load_arrays(path)


def test_data_file_gives_the_data_of_a_bare_state_dict(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """``--data`` with ``inputs``/``targets`` or with column-major ``X``/``Y``: one answer."""
    ws, inputs, targets = _arrays(3)
    sd = tmp_path / "weights.npz"
    np.savez(sd, **{"0.weight": ws[0], "1.weight": ws[1]})
    rows, cols = tmp_path / "rows.npz", tmp_path / "cols.npz"
    np.savez(rows, inputs=inputs, targets=targets)
    np.savez(cols, X=inputs.T, Y=targets.T)
    ref = _answer(_oracle_json(capsys, str(_column_major(tmp_path / "cm.npz", ws, inputs, targets))))
    assert _answer(_oracle_json(capsys, str(sd), "--data", str(rows))) == ref
    assert _answer(_oracle_json(capsys, str(sd), "--data", str(cols))) == ref


def test_target_product_is_plain_factorization(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """``--target product`` on a bare state_dict is the ``W1..WL`` file without target (a
    global minimizer, on the reduced route); both reports say the target is the product of
    the weights, and why."""
    ws, _, _ = _arrays(4)
    sd, legacy = tmp_path / "sd.npz", tmp_path / "legacy.npz"
    np.savez(sd, **{"0.weight": ws[0], "1.weight": ws[1]})
    np.savez(legacy, W1=ws[0], W2=ws[1])
    doc = _oracle_json(capsys, str(sd), "--target", "product")
    ref = _oracle_json(capsys, str(legacy))
    assert _answer(doc) == _answer(ref)
    assert doc["at_minimizer"] is True and doc["route"] == "reduced"
    assert "(--target product)" in doc["problem"][-1]
    assert ref["problem"] == ["target: the product of the weights, M = W_L...W_1 (given no "
                              "target): a global minimizer"]


def test_state_dict_names_are_checked_before_unpacking(tmp_path: Path) -> None:
    """The bias is refused by its name, before its (damaged) data is read: the caller's
    ``check_names`` runs first; the hostile-name rules of the reader still hold for module
    paths (no separators, ASCII, bounded)."""
    buf = io.BytesIO()
    np.save(buf, np.ones((2, 2)))
    good = buf.getvalue()
    p = tmp_path / "m.npz"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("0.weight.npy", good)
        zf.writestr("0.bias.npy", b"\x93NUMPY garbage")
    with pytest.raises(InputFileError, match=r"layer `0` has a bias `0\.bias`"):
        load_arrays(p, target="product")
    for name in ("a/0.weight", "..weight", "0..weight", "l\u00e4yer.weight", "x" * 300 + ".weight",
                 "0.weight.T", "0.running_mean"):
        with zipfile.ZipFile(p, "w") as zf:
            zf.writestr(f"{name}.npy", good)
        with pytest.raises(InputFileError, match=r"unknown array\(s\) .*ASCII") as info:
            read_npz(p, max_file_bytes=2**20, max_unpacked_bytes=2**20)
        assert len(str(info.value)) < 400  # a long name is shown cut


def _saved(fmt: str) -> bytes:
    """A valid state_dict file with data, as bytes (``.npz`` by numpy, ``.pt`` by torch)."""
    ws, inputs, targets = _arrays(7)
    arrays = {"0.weight": ws[0], "2.weight": ws[1], "inputs": inputs, "targets": targets}
    buf = io.BytesIO()
    if fmt == "npz":
        np.savez(buf, **arrays)
    else:
        torch = pytest.importorskip("torch", reason=_TORCH)
        torch.save({k: torch.from_numpy(v) for k, v in arrays.items()}, buf)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["npz", "pt"])
@settings(max_examples=100, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1,
                      max_size=6))
def test_mutated_state_dict_files_are_read_or_refused_cleanly(
    tmp_path_factory: pytest.TempPathFactory, fmt: str, edits: list[tuple[int, int]]
) -> None:
    """A state_dict file with bytes changed is read (then it is still a checked problem) or
    refused with one line, never another exception (``torch.load``'s own errors included)."""
    data = bytearray(_saved(fmt))
    for pos, byte in edits:
        data[pos % len(data)] = byte
    path = tmp_path_factory.mktemp("fuzz") / f"m.{fmt}"
    path.write_bytes(bytes(data))
    try:
        arrays = load_arrays(path)
    except DmfError as exc:
        assert "\n" not in str(exc)
    else:
        assert len(arrays.weights) == 2 and arrays.data is not None and arrays.labels is not None


def test_pt_without_torch_says_which_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "model.pt"
    p.write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    code, out, err = _run(capsys, "oracle", str(p))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "needs PyTorch, the optional extra torch" in err and str(p) in err


# --- with torch ----------------------------------------------------------------------------


def _model(kind: str) -> Any:
    """A real bias-free linear network: an ``nn.Sequential`` (keys ``0.weight``,
    ``2.weight``: an ``nn.Identity`` sits between) or a module with ``fc1``, ``fc2``."""
    torch = pytest.importorskip("torch", reason=_TORCH)
    from torch import nn

    torch.manual_seed(5)
    if kind == "sequential":
        return nn.Sequential(nn.Linear(DIMS[0], DIMS[1], bias=False), nn.Identity(),
                             nn.Linear(DIMS[1], DIMS[2], bias=False))

    class TwoLayers(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = nn.Linear(DIMS[0], DIMS[1], bias=False)
            self.fc2 = nn.Linear(DIMS[1], DIMS[2], bias=False)

        def forward(self, x: Any) -> Any:
            return self.fc2(self.fc1(x))

    return TwoLayers()


def _autograd_sharpness(model: Any, inputs: Any, targets: Any) -> tuple[float, float]:
    """``(lambda_max, max |lambda|)`` of the full Hessian of ``0.5 ||model(inputs) -
    targets||_F^2`` over the flattened parameters, by ``torch.autograd.functional.hessian``
    through the model's own ``forward`` (float64 copy), then ``torch.linalg.eigvalsh``."""
    import copy

    import torch
    from torch.func import functional_call

    m64 = copy.deepcopy(model).double()
    names = [n for n, _ in m64.named_parameters()]
    shapes = [p.shape for _, p in m64.named_parameters()]
    sizes = [p.numel() for _, p in m64.named_parameters()]
    theta0 = torch.cat([p.detach().flatten() for _, p in m64.named_parameters()])
    x, y = inputs.double(), targets.double()

    def loss(theta: Any) -> Any:
        parts = torch.split(theta, sizes)
        params = {n: t.reshape(s) for n, t, s in zip(names, parts, shapes, strict=True)}
        return 0.5 * ((functional_call(m64, params, (x,)) - y) ** 2).sum()

    ev = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss, theta0))
    return float(ev[-1]), float(ev.abs().max())


@pytest.mark.parametrize("kind", ["sequential", "module"])
@pytest.mark.parametrize("saved", ["npz", "pt", "pt-with-data-file"])
def test_a_trained_model_file_agrees_with_column_major_and_autograd(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, saved: str
) -> None:
    """The model saved as the README says (``np.savez(**state_dict, inputs=, targets=)``,
    ``torch.save(state_dict)`` with the data inside or in ``--data``): the enclosure is the
    column-major file's, and it holds the autograd value up to float64 eigvalsh's error."""
    torch = pytest.importorskip("torch", reason=_TORCH)
    model = _model(kind)
    gen = torch.Generator().manual_seed(6)
    inputs, targets = torch.randn(N, DIMS[0], generator=gen), torch.randn(N, DIMS[-1], generator=gen)
    state = model.state_dict()
    argv: list[str]
    if saved == "npz":
        path = tmp_path / "model.npz"
        np.savez(path, **{k: v.numpy() for k, v in state.items()}, inputs=inputs.numpy(),
                 targets=targets.numpy())
        argv = [str(path)]
    elif saved == "pt":
        path = tmp_path / "model.pt"
        torch.save({**state, "inputs": inputs, "targets": targets}, path)
        argv = [str(path)]
    else:
        path, data = tmp_path / "model.pt", tmp_path / "data.pt"
        torch.save(state, path)
        torch.save({"inputs": inputs, "targets": targets}, data)
        argv = [str(path), "--data", str(data)]
    ws = [t.numpy() for t in state.values()]
    ref = _oracle_json(capsys, str(_column_major(tmp_path / "cm.npz", ws, inputs.numpy(),
                                                 targets.numpy())))
    doc = _oracle_json(capsys, *argv)
    assert _answer(doc) == _answer(ref)
    lo, hi = (Fraction(s) for s in doc["enclosure"])
    value, scale = _autograd_sharpness(model, inputs, targets)
    params = sum(w.size for w in ws)
    tol = 100 * params * EPS * scale  # float64 Hessian entries and eigvalsh: O(P eps ||H||)
    assert float(lo) - tol <= value <= float(hi) + tol
    assert doc["status"] == "certified" and hi - lo < Fraction(1, 10**25)


def test_pt_tensors_are_read_exactly(tmp_path: Path) -> None:
    """float32, bfloat16 and int32 tensors become the rationals they store (widening is
    exact); a stride-0 view is sized by its shape, not its storage."""
    torch = pytest.importorskip("torch", reason=_TORCH)
    w1 = torch.tensor([[1 + 2.0**-20, -3.0]], dtype=torch.float32)
    w2 = torch.tensor([[1.5], [2**-7]], dtype=torch.bfloat16)
    w3 = torch.tensor([[7]], dtype=torch.int32).expand(2, 2)
    p = tmp_path / "m.pt"
    torch.save({"a.weight": w1, "b.weight": w2,
                "c.weight": w3}, p)
    arrays = load_arrays(p, target="product")
    assert arrays.weights[0][0, 0] == Fraction(2**20 + 1, 2**20)
    assert arrays.weights[1][1, 0] == Fraction(1, 128)
    assert arrays.weights[2].tolist() == [[7, 7], [7, 7]]
    assert arrays.meta["layers"] == ["a.weight", "b.weight", "c.weight"]


# --- bad files: one table -----------------------------------------------------------------

Make = Callable[[Path], tuple[Path, dict[str, Any]]]


def _npz_file(name: str = "m.npz", **options: Any) -> Callable[..., Make]:
    def arrays(**arrs: Any) -> Make:
        def make(tmp: Path) -> tuple[Path, dict[str, Any]]:
            np.savez(tmp / name, **arrs)
            return tmp / name, dict(options)
        return make
    return arrays


def _with_data(data: dict[str, Any], **options: Any) -> Make:
    """A bare state_dict ``m.npz`` and a data file ``d.npz`` holding ``data``."""
    def make(tmp: Path) -> tuple[Path, dict[str, Any]]:
        np.savez(tmp / "m.npz", **{"0.weight": W1, "1.weight": W2})
        np.savez(tmp / "d.npz", **data)
        return tmp / "m.npz", {"data": tmp / "d.npz", **options}
    return make


def _pt(make_obj: Callable[[Any], Any], **options: Any) -> Make:
    def make(tmp: Path) -> tuple[Path, dict[str, Any]]:
        torch = pytest.importorskip("torch", reason=_TORCH)
        torch.save(make_obj(torch), tmp / "m.pt")
        return tmp / "m.pt", dict(options)
    return make


def _module(torch: Any) -> Any:
    return torch.nn.Sequential(torch.nn.Linear(2, 3, bias=False))


W1, W2 = np.ones((3, 4)), np.ones((2, 3))
IN, OUT = np.ones((5, 4)), np.ones((5, 2))
SD = {"0.weight": W1, "1.weight": W2}
npz = _npz_file()
npz_target = _npz_file(target="product")
npz_rows = _npz_file(samples_first=True)

BAD: list[tuple[str, Make, type[DmfError], str]] = [
    ("bias", npz(**SD, **{"0.bias": np.ones(3)}, inputs=IN, targets=OUT), InputFileError,
     r"layer `0` has a bias `0\.bias`; deep matrix factorization has none: "
     r"nn\.Linear\(\.\.\., bias=False\)"),
    ("bare-linear-bias", npz(weight=W1, bias=np.ones(3)), InputFileError,
     "the layer has a bias `bias`"),
    ("mixed-naming", npz(W1=W1, **{"1.weight": W2}), InputFileError,
     r"mixes the names W1\.\.WL \(W1\) with a state_dict's MODULE\.weight \(1\.weight\)"),
    ("mixed-layouts", npz(**SD, inputs=IN, Y=OUT.T), InputFileError,
     r"mixes inputs \(one sample per row\) with Y \(one sample per column\)"),
    ("no-data-no-target", npz(**SD), InputFileError,
     r"holds weights but no data and no target; pass .*inputs \(N x d_0\) and targets "
     r"\(N x d_L\).*--data FILE.*--target product"),
    ("inputs-without-targets", npz(**SD, inputs=IN), InputFileError,
     r"has inputs but no labels; add targets \(N x d_L\), or pass --target product"),
    ("wrong-inputs-shape", npz(**SD, inputs=np.ones((32, 5)), targets=np.ones((32, 2))),
     ShapeError, r"inputs has shape \(32, 5\) but W_1 takes 4 inputs: inputs must be "
     r"N x d_0 = N x 4 \(one sample per row\)"),
    ("inputs-column-major", npz(**SD, inputs=np.ones((4, 7)), targets=np.ones((7, 2))),
     ShapeError, r"inputs has shape \(4, 7\) .* it looks d_0 x N: save inputs\.T"),
    ("targets-wrong-width", npz(**SD, inputs=IN, targets=np.ones((5, 3))), ShapeError,
     r"targets has shape \(5, 3\) but W_L outputs 2: targets must be N x d_L = 5 x 2"),
    ("targets-wrong-count", npz(**SD, inputs=IN, targets=np.ones((4, 2))), ShapeError,
     r"targets has shape \(4, 2\) but inputs holds N = 5 samples"),
    ("x-rows-with-samples-first", npz_rows(W1=W1, W2=W2, X=IN.T, Y=OUT.T), ShapeError,
     r"data X has shape \(4, 5\) .* N x d_0 = N x 4 \(one sample per row\); it looks d_0 x N: "
     r"drop --samples-first"),
    ("samples-first-on-inputs", npz_rows(**SD, inputs=IN, targets=OUT), InputFileError,
     "--samples-first says X and Y hold one sample per row, but .* has inputs"),
    ("target-product-and-targets", npz_target(**SD, inputs=IN, targets=OUT), InputFileError,
     "--target product conflicts with the targets in"),
    ("target-product-and-m", npz_target(W1=W1, W2=W2, M=np.ones((2, 4))), InputFileError,
     "--target product conflicts with the target M"),
    ("data-file-and-own-data", lambda tmp: (npz(**SD, inputs=IN, targets=OUT)(tmp)[0],
                                            {"data": _save(tmp / "d.npz", inputs=IN)}),
     InputFileError, r"--data .*d\.npz conflicts with the inputs in"),
    ("data-file-with-weights", _with_data({"inputs": IN, "targets": OUT, "0.weight": W1}),
     InputFileError, r"--data .*: holds '0\.weight'; a data file holds only inputs, targets"),
    ("data-file-without-targets", _with_data({"inputs": IN}), InputFileError,
     r"--data .*d\.npz has inputs but no labels; add targets"),
    ("data-file-type", lambda tmp: (npz(**SD)(tmp)[0], {"data": _text(tmp / "d.json")}),
     InputFileError, r"--data .*d\.json: unknown file type '\.json'; expected \.npz or \.pt"),
    ("pt-module", _pt(_module, target="product"), InputFileError,
     r"torch\.load\(weights_only=True\) refuses the file \(it holds a pickled "
     r"torch\.nn\.modules\.container\.Sequential\).*model\.state_dict\(\)"),
    ("pt-checkpoint", _pt(lambda t: {"model": _module(t).state_dict(), "epoch": 3}),
     InputFileError, r"'model' holds a dict, not a tensor \(a training checkpoint\?\)"),
    ("pt-batchnorm", _pt(lambda t: t.nn.Sequential(t.nn.Linear(2, 2, bias=False),
                                                   t.nn.BatchNorm1d(2)).state_dict()),
     InputFileError, r"unknown key\(s\) '1\.num_batches_tracked', '1\.running_mean'"),
    ("pt-single-tensor", _pt(lambda t: t.ones(2, 2)), InputFileError,
     r"holds a single tensor of shape \(2, 2\); expected a state_dict"),
    ("pt-stride-0-giant", _pt(lambda t: {"0.weight": t.ones(1, 1).expand(10**5, 10**5)},
                              target="product"),
     TooLargeError, r"'0\.weight' would take 80000000000 bytes"),
    ("pt-layernorm-weight", _pt(lambda t: {"0.weight": t.ones(3)}, target="product"),
     ShapeError, r"'0\.weight' has shape \(3,\); expected a 2-D matrix; deep matrix "
     r"factorization takes only bias-free nn\.Linear weights"),
    ("pt-complex", _pt(lambda t: {"0.weight": t.ones(2, 2, dtype=t.complex64)},
                       target="product"),
     InputFileError, "has dtype torch.complex64; expected an integer or floating dtype"),
    # without torch installed the same file is refused for that reason first
    ("pt-not-torch", lambda tmp: (_text(tmp / "m.pt"), {"target": "product"}), InputFileError,
     r"m\.pt: .*(refuses the file|not a readable PyTorch file)" if _HAS_TORCH
     else r"m\.pt: reading a \.pt file needs PyTorch"),
]


def _save(path: Path, **arrays: Any) -> Path:
    np.savez(path, **arrays)
    return path


def _text(path: Path) -> Path:
    path.write_text("{}")
    return path


def _cli_flags(options: dict[str, Any]) -> list[str]:
    flags = []
    if "data" in options:
        flags += ["--data", str(options["data"])]
    if options.get("samples_first"):
        flags.append("--samples-first")
    if "target" in options:
        flags += ["--target", options["target"]]
    return flags


@pytest.mark.parametrize(("make", "error", "match"),
                         [pytest.param(m, e, r, id=i) for i, m, e, r in BAD])
def test_bad_file_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         make: Make, error: type[DmfError], match: str) -> None:
    """``load_arrays`` raises one line naming the file; the command prints that line on
    stderr and exits with status 2, before any computation."""
    path, options = make(tmp_path)
    with pytest.raises(error, match=match) as info:
        load_arrays(path, **options)
    message = str(info.value)
    named = [path.name] + ([Path(options["data"]).name] if "data" in options else [])
    assert "\n" not in message and any(name in message for name in named)
    code, out, err = _run(capsys, "oracle", str(path), *_cli_flags(options))
    assert code == 2 and out == ""
    assert err == f"dmf-sharpness oracle: error: {message}\n"
