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


def test_offmin_and_trajectory_suites_smoke(tmp_path: Path) -> None:
    """``--only offmin,trajectory --sizes small``: every table has its rows, every value agrees
    with every baseline's (and the plain-NumPy limit's) to the suites' tolerance, a baseline
    that is not installed says how to install it, and the load average and thread setting
    are printed around every table. No timing is asserted."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import hvp_baselines
    import offmin
    import trajectory

    out_json = tmp_path / "extra.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--only", "offmin,trajectory", "--sizes", "small",
         "--repeat", "1", "--cap", "60", "--json", str(out_json)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    doc = json.loads(out_json.read_text())

    cases = offmin.SIZES["small"]()
    tables = doc["offmin"]["tables"]
    assert set(tables) == set(cases) == {"offmin", "minimizer", "sweep"}
    for name, expected in cases.items():
        rows = tables[name]["rows"]
        assert [r["case"] for r in rows] == [c.label for c in expected]
        for r in rows:
            assert r["case"] in out  # the printed table has the row
            assert r["ours"]["status"] == "ok" and r["ours_solve"]["status"] == "ok", r
            assert r["agree"] and r["max_rel_diff"] <= offmin.AGREE, r
            ran = [b for b in r["baselines"] if b["status"] == "ok"]
            assert all(abs(float(b["value"]) - float(r["ours"]["value"]))
                       <= offmin.AGREE * abs(float(r["ours"]["value"])) for b in ran), r
            assert (r["limit"] is not None) == (name == "minimizer")
        assert out.count(f"load average before {tables[name]['load_before']}") >= 1
    assert out.count("every baseline: 1 thread") == 4  # three offmin tables, one trajectory
    assert out.count("load average after") == 4
    assert "BLAS threads: 1" in out and "FLAGGED" not in out
    assert doc["offmin"]["growth"]["ours"] is not None

    traj = doc["trajectory"]
    steps = trajectory.SIZES["small"].steps
    assert traj["ours"]["steps"] == steps and len(traj["ours"]["values"]) == steps
    assert all(p >= 1 for p in traj["ours"]["products"])
    ran = [b for b in traj["baselines"] if b["status"] == "ok"]
    installed = [name for name, why in hvp_baselines.available().items() if not why]
    assert bool(ran) == bool(installed)  # without torch and JAX (CI's first run) none runs
    if ran:
        assert traj["fastest"] in {b["method"] for b in ran}
    for b in ran:
        assert b["agree"] and b["max_rel_diff"] <= 1e-10, b
        assert b["method"] in out
        if b["method"] == traj["fastest"]:
            assert b["steps"] == steps

    for name, why in hvp_baselines.available().items():
        if why:  # not installed: reported with the command that installs it, never a failure
            assert f"{name}: not installed" in out and "install: pip install" in out
    texts = {t["target"] for t in doc["targets"]}
    assert any("plain-NumPy limit" in t for t in texts)
    assert any("warm-started baseline" in t for t in texts)
    assert "Speed targets" in out
