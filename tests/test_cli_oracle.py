"""The ``dmf-sharpness oracle`` and ``vectors`` subcommands."""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest

from derivations.errors import DmfError
from derivations.exact import parse_point
from numeric.cli import main
from numeric.hessian import full_hessian
from numeric.oracle import vectors
from numeric.sharpness import sharpness
from numeric.spectrum import eigvalsh_float64

STABLE_FIELDS = (
    "lambda_max", "enclosure", "certified", "route", "at_minimizer", "residual_norm", "loss",
    "dims", "parameters",
)

# an exact rational minimizer (dims (2, 3, 2)) and a non-minimizer with data
WEIGHTS = [[[1, "1/2"], ["-2/3", 1], [0, "0.25"]], [[1, 0, "1/3"], ["1/2", -1, 2]]]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _write_json(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def minimizer_file(tmp_path: Path) -> Path:
    return _write_json(tmp_path / "min.json", {"weights": WEIGHTS})


def test_json_output_has_the_stable_fields_first(capsys: pytest.CaptureFixture[str], minimizer_file: Path) -> None:
    code, out, err = _run(capsys, "oracle", str(minimizer_file), "--json", "--dps", "30")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert list(doc)[: len(STABLE_FIELDS)] == list(STABLE_FIELDS)
    assert doc["certified"] is True and doc["status"] == "certified"
    assert doc["route"] == "reduced" and doc["at_minimizer"] is True
    assert doc["dims"] == [2, 3, 2] and doc["parameters"] == 12
    assert doc["loss"] == "0.5*||W_L...W_1 X - Y||_F^2"
    lo, hi = (Fraction(s) for s in doc["enclosure"])
    assert lo <= Fraction(doc["lambda_max"]) <= hi and hi - lo < Fraction(1, 10**28)
    # the value is K5's ||W_1||^2 + ||W_2||^2 (float64 check, tolerance from float64)
    w = [np.array([[float(Fraction(str(x))) for x in row] for row in m]) for m in WEIGHTS]
    k5 = np.linalg.norm(w[0], 2) ** 2 + np.linalg.norm(w[1], 2) ** 2
    assert abs(float(doc["lambda_max"]) - k5) < 1e-12 * k5


def test_human_output(capsys: pytest.CaptureFixture[str], minimizer_file: Path) -> None:
    code, out, _ = _run(capsys, "oracle", str(minimizer_file), "--dps", "20")
    assert code == 0
    for needle in ("lambda_max = ", "status: certified; enclosure [", "route: reduced",
                   "at a minimizer: yes", "residual norm", "loss: 0.5*||W_L...W_1 X - Y||_F^2",
                   "Hessian factor 1", "lambda_min = ", "largest magnitude = ",
                   "multiplicity of lambda_max = ", "gap lambda_1 - lambda_2 = "):
        assert needle in out, needle


def test_spectrum_lists_the_nonzero_spectrum(capsys: pytest.CaptureFixture[str], minimizer_file: Path) -> None:
    code, out, _ = _run(capsys, "oracle", str(minimizer_file), "--json", "--spectrum", "--dps", "20")
    assert code == 0
    doc = json.loads(out)
    spec = [float(x) for x in doc["spectrum"]]
    assert len(spec) + doc["zero_multiplicity"] == doc["parameters"]
    # compare with the dense float64 full Hessian (an independent route: K1, not K)
    point = parse_point(WEIGHTS)
    h = full_hessian([np.vectorize(float)(w).astype(float) for w in point.weights], None,
                     np.vectorize(float)(point.labels).astype(float))
    dense = eigvalsh_float64(h)
    scale = dense[0]
    nonzero = [x for x in dense if abs(x) > 1e-10 * scale]
    assert len(nonzero) == len(spec)
    assert np.allclose(spec, nonzero, rtol=0, atol=1e-12 * scale)


def test_loss_conventions_scale_the_value(capsys: pytest.CaptureFixture[str], minimizer_file: Path) -> None:
    values = {}
    for loss in ("half-sum", "sum", "sample-mean", "mse", "half-mse"):
        code, out, _ = _run(capsys, "oracle", str(minimizer_file), "--json", "--loss", loss,
                            "--dps", "25")
        assert code == 0
        doc = json.loads(out)
        values[loss] = (Fraction(doc["lambda_max"]), Fraction(doc["loss_factor"]))
    base = values["half-sum"][0]
    n, d_out = 2, 2  # X = I: N = d_0 samples
    assert values["sum"][1] == 2 and values["sample-mean"][1] == Fraction(2, n)
    assert values["half-mse"][1] == Fraction(1, n * d_out)
    assert values["mse"][1] == Fraction(2, n * d_out)
    for loss, (value, factor) in values.items():
        assert abs(value - factor * base) <= Fraction(1, 10**20) * base, loss


def test_float64_path_is_labelled_approximate(capsys: pytest.CaptureFixture[str], minimizer_file: Path) -> None:
    code, out, _ = _run(capsys, "oracle", str(minimizer_file), "--json", "--float64")
    assert code == 0
    doc = json.loads(out)
    assert doc["certified"] is False and doc["status"] == "approximate"
    assert "float64" in doc["method"] and doc["enclosure"] is None
    exact = sharpness(WEIGHTS, "product", dps=30)
    assert exact.enclosure.contains(doc["lambda_max"]) or abs(
        float(doc["lambda_max"]) - float(exact.value)
    ) < 1e-13 * float(exact.value)


def test_no_certify_is_approximate(capsys: pytest.CaptureFixture[str], minimizer_file: Path) -> None:
    code, out, _ = _run(capsys, "oracle", str(minimizer_file), "--json", "--no-certify", "--dps", "30")
    doc = json.loads(out)
    assert code == 0 and doc["status"] == "approximate" and doc["enclosure"] is None
    certified = sharpness(WEIGHTS, "product", dps=30)
    with mpmath.workdps(30):
        assert abs(mpmath.mpf(doc["lambda_max"]) - certified.value) < mpmath.mpf(10) ** -25


def test_exact_json_npz_and_api_agree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Same point three ways: identical certified answers (JSON, npz and the API agree)."""
    rng = np.random.default_rng(11)
    ws = [rng.integers(-3, 4, (3, 2)) / 4, rng.integers(-3, 4, (2, 3)) / 8]  # dyadic: exact
    x = rng.integers(-2, 3, (2, 4)).astype(float)
    y = rng.integers(-2, 3, (2, 4)).astype(float)
    np.savez(tmp_path / "p.npz", W1=ws[0], W2=ws[1], X=x, Y=y)
    frac = lambda m: [[str(Fraction(v)) for v in row] for row in m]  # noqa: E731
    _write_json(tmp_path / "p.json", {"weights": [frac(w) for w in ws], "data": frac(x),
                                      "labels": frac(y)})
    docs = []
    for name in ("p.npz", "p.json"):
        code, out, _ = _run(capsys, "oracle", str(tmp_path / name), "--json", "--dps", "40")
        assert code == 0
        docs.append(json.loads(out))
    api = sharpness([w.tolist() for w in ws], data=x.tolist(), labels=y.tolist(), dps=40).to_json()
    keys = ("lambda_max", "enclosure", "route", "at_minimizer", "residual_norm", "lambda_min", "gap")
    for doc in docs:
        assert {k: doc[k] for k in keys} == {k: api[k] for k in keys}
    assert docs[0]["route"] == "full" and docs[0]["certified"]


BAD_CLI = [
    ("missing-file", lambda t: [str(t / "none.json")], "cannot read the file"),
    ("nan-literal", lambda t: [str(_write_raw(t / "n.json", '{"weights": [[[NaN]]]}'))],
     "NaN is not a finite number"),
    ("unknown-key", lambda t: [str(_write_json(t / "k.json", {"weights": [[[1]]], "bias": 1}))],
     "unknown key"),
    ("pickled", lambda t: [str(_pickled(t))], "pickled arrays are refused"),
    ("bad-shapes", lambda t: [str(_write_json(t / "s.json", {"weights": [[[1, 2]], [[1, 2]]]}))],
     "layer 2"),
    ("dps-too-large", lambda t: [str(_write_json(t / "d.json", {"weights": [[[1]]]})), "--dps",
                                 "100000"], "outside the accepted range"),
]


def _write_raw(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _pickled(tmp: Path) -> Path:
    p = tmp / "p.npz"
    np.savez(p, W1=np.array([[1]], dtype=object))
    return p


@pytest.mark.parametrize(("argv", "match"), [pytest.param(a, m, id=i) for i, a, m in BAD_CLI])
def test_cli_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: Any, match: str
) -> None:
    code, out, err = _run(capsys, "oracle", *argv(tmp_path))
    assert code != 0 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and match in lines[0] and lines[0].startswith("dmf-sharpness oracle: error:")


def test_vectors_out_writes_every_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "v"
    code, out, _ = _run(capsys, "vectors", "--out", str(out_dir))
    assert code == 0 and f"wrote {len(vectors.CASES)}" in out
    assert sorted(p.stem for p in out_dir.iterdir()) == sorted(vectors.CASES)
    code, out, _ = _run(capsys, "vectors", "--out", str(out_dir), "--check")
    assert code == 0 and "agree digit by digit" in out
    tampered = out_dir / "depth2-square.json"
    doc = json.loads(tampered.read_text())
    doc["expected"]["lambda_max"] = doc["expected"]["lambda_max"][:-1] + "0"
    tampered.write_text(json.dumps(doc))
    code, _, err = _run(capsys, "vectors", "--out", str(out_dir), "--check")
    assert code == 1 and "depth2-square: lambda_max" in err


def test_vectors_failure_midway_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """All cases are computed before the first file is written (then each file atomically)."""
    calls = []
    real = vectors.expected_for

    def failing(point: Any) -> dict[str, Any]:
        calls.append(point)
        if len(calls) == 3:
            raise DmfError("simulated failure in the third case")
        return real(point)

    monkeypatch.setattr(vectors, "expected_for", failing)
    out_dir = tmp_path / "v"
    code, _, err = _run(capsys, "vectors", "--out", str(out_dir))
    assert code == 2 and "simulated failure" in err and len(calls) == 3
    assert not out_dir.exists() or os.listdir(out_dir) == []


def test_vectors_needs_out(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "vectors")
    assert code == 2 and "needs --out DIR" in err
