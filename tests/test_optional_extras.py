"""The README's test command must pass on a machine without the optional extras: a module that
needs PyTorch must be collected as a visible skip, never as a collection error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_collection_without_torch_skips_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "torch.py").write_text('raise ModuleNotFoundError("No module named torch (hidden)")\n')
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-ra", "--collect-only",
         "numeric", "tests/test_torch_adapter.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "error" not in out.lower().replace("importerror", ""), out[-3000:]
    assert "need the optional extra 'torch'" in out, out[-3000:]
