"""Smoke test of ``benchmarks/run.py``: one run at the smallest sizes, one repetition, so that
the benchmark script cannot rot. It checks that every suite ran, that each baseline agrees with
ours to the digits its arithmetic allows, and that the JSON and PNG outputs are written.
Timings are not asserted (the machine may be loaded); the benchmarks themselves are run by hand
(README, "Performance")."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "run.py"

# digits each comparison must reach: float64 eigh/Lanczos vs ours, mpmath eigsy at 50 digits,
# exact SymPy Hessians. PyHessian-style power iteration (100 steps) converges only like
# (lambda_2 / lambda_1)^200, so it has no requirement.
NEEDED_DIGITS = {"autograd": 10.0, "hvp-lanczos": 10.0, "mpmath": 40.0, "symbolic": math.inf}


def _needed(row: dict) -> float | None:
    if row["suite"] == "hvp":
        return NEEDED_DIGITS["hvp-lanczos"] if "Lanczos" in row["theirs"]["method"] else None
    return NEEDED_DIGITS.get(row["suite"])


def test_benchmark_script_smoke(tmp_path: Path) -> None:
    out_json, out_png = tmp_path / "bench.json", tmp_path / "bench.png"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--sizes", "small", "--repeat", "1", "--cap", "20",
         "--json", str(out_json), "--plot", str(out_png)],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "speed-up (theirs/ours)" in proc.stdout and "Speed targets" in proc.stdout
    doc = json.loads(out_json.read_text())

    suites = {r["suite"] for r in doc["rows"]}
    assert {"autograd", "hvp", "mpmath", "symbolic", "scaling-hidden", "scaling-ends",
            "scaling-certified"} <= suites
    torch_missing = doc["machine"]["torch"] is None
    for row in doc["rows"]:
        assert row["ours"]["status"] == "ok", row
        assert row["ours"]["seconds"] > 0
        theirs = row["theirs"]
        if theirs is None:
            assert row["ours"]["parts"], row  # scaling rows report where the time goes
            continue
        if torch_missing and row["suite"] in ("autograd", "hvp"):
            assert theirs["status"] == "unavailable", row
            continue
        assert theirs["status"] == "ok", row
        assert row["speedup"] is not None and row["speedup"] > 0
        needed = _needed(row)
        if needed is not None:
            digits = math.inf if row["digits"] == "exact" else row["digits"]
            assert digits >= needed, row

    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(doc["targets"]) == 6
