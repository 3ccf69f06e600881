"""Smoke test of ``benchmarks/peers.py --quick``: one run on the smallest cases and sizes, so
that the side-by-side benchmark cannot rot. It checks that both tables are printed, that every
tool and setting has its row (a peer that is not installed is reported as missing, never a
crash) and that the tools that cannot err here agree with the certified values. Timings are
not asserted (the machine may be loaded)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "peers.py"
sys.path.insert(0, str(ROOT / "benchmarks"))

from peer_tools import ACCURACY_TOOLS, PEERS, SPEED_BASELINES  # noqa: E402


def test_peers_quick_run_prints_every_row(tmp_path: Path) -> None:
    out_json = tmp_path / "peers.json"
    cwd = tmp_path / "cwd"  # the run writes only what it is asked to (its Hypothesis draws too)
    cwd.mkdir()
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--repeat", "1", "--cap", "20",
         "--json", str(out_json)],
        cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not any(cwd.iterdir()), sorted(p.name for p in cwd.iterdir())
    assert "Digits agreed with the certified sharpness" in out
    assert "Seconds (median)" in out and "Speed targets" in out
    assert "load at start (/proc/loadavg)" in out and "load at end (/proc/loadavg)" in out
    doc = json.loads(out_json.read_text())
    status = doc["peers"]  # as the script saw them (this process turns warnings into errors)
    assert set(status) == set(PEERS)
    table = out.split("Digits agreed", 1)[1].split("Seconds (median)", 1)[0]
    for tool, setting, _ in ACCURACY_TOOLS:
        line = next((ln for ln in table.splitlines() if ln.startswith(tool)
                     and setting[:47] in ln), None)
        assert line is not None, f"no row for {tool} / {setting}:\n{table}"
        if status.get(tool):
            assert "missing" in line, line
    for name, peer, _ in SPEED_BASELINES:
        assert name in out, name
        if status.get(peer):
            assert "unavailable" in out.split(name, 1)[1].splitlines()[0]

    for row in doc["accuracy"]:
        if row["missing"]:
            continue
        assert len(row["cases"]) >= 5
        exact_tools = ("dmf-sharpness", "JAX")  # float64 eigh / Lanczos to machine precision
        if row["tool"] in exact_tools:
            assert all(c["error"] is None and c["rel_error"] < 1e-12 for c in row["cases"]), row
    for row in doc["speed"]:
        assert row["ours"]["status"] == "ok" and row["ours"]["seconds"] > 0
