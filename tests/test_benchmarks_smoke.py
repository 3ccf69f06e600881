"""Smoke test of ``benchmarks/run.py``: the smallest sizes, one repetition, so that the
benchmark script cannot rot. It checks that every suite ran, that each method agrees with ours
to the digits its arithmetic allows, and that the JSON and PNG outputs are written. Timings
are not asserted (the machine may be loaded); the benchmarks themselves are run by hand
(README, "Performance")."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, Path]:
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--sizes", "small", "--repeat", "1", "--cap", "20",
         "--json", str(out / "bench.json"), "--plot", str(out / "bench.png")],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / "bench.json").read_text()), proc.stdout, out


def test_every_suite_reports_rows(smoke: tuple[dict, str, Path]) -> None:
    doc, stdout, _ = smoke
    suites = {r["suite"] for r in doc["rows"]}
    assert {"autograd", "hvp", "mpmath", "symbolic", "scaling-hidden", "scaling-ends",
            "scaling-certified"} <= suites
    for row in doc["rows"]:
        assert row["ours"]["status"] == "ok", row
        assert row["ours"]["seconds"] > 0
    assert "speed-up (theirs/ours)" in stdout and "Targets (issue 7)" in stdout


def test_baselines_agree_with_ours(smoke: tuple[dict, str, Path]) -> None:
    doc, _, _ = smoke
    torch_missing = doc["machine"]["torch"] is None
    # digits each comparison must reach: float64 Lanczos / eigh vs ours, mpmath at 50 digits;
    # power iteration (100 steps) converges only like (lambda_2/lambda_1)^200: no requirement.
    need = {"autograd": 10.0, "mpmath": 40.0, "symbolic": math.inf}
    for row in doc["rows"]:
        theirs = row["theirs"]
        if theirs is None or (torch_missing and row["suite"] in ("autograd", "hvp")):
            continue
        assert theirs["status"] == "ok", row
        assert row["speedup"] is not None and row["speedup"] > 0
        digits = math.inf if row["digits"] == "exact" else row["digits"]
        if row["suite"] == "hvp" and "Lanczos" in theirs["method"]:
            assert digits >= 10.0, row
        elif row["suite"] in need:
            assert digits >= need[row["suite"]], row


def test_outputs_written(smoke: tuple[dict, str, Path]) -> None:
    doc, _, out = smoke
    assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert doc["machine"]["cpus"] >= 1
    assert [t["target"] for t in doc["targets"]]  # the targets are evaluated (n/a at small sizes)
