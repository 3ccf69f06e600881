"""``dmf-sharpness check --file``: named conjectures from a TOML file (data, never executed),
decided beside the built-in claims, in the same table and JSON, identically for any --jobs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from numeric.cli import main
from numeric.conjecture import check as check_one

ROOT = Path(__file__).resolve().parents[1]
GOOD = """
[[conjecture]]
id = "my-upper-bound"
statement = "lambda_max <= sum(norm2(A[l])**2 * norm2(B[l])**2 for l in layers)"
depth = "1..3"
source = "K4, restated"

[[conjecture]]
id = "my-sum-formula"
statement = "lambda_max == sum(norm2(A[l])**2 * norm2(B[l])**2 for l in layers)"
depth = "3..3"
"""


def _run(tmp_path: Path, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    f = tmp_path / "conjectures.toml"
    f.write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "numeric.cli", "check", "--quick", "--json", "--no-progress",
         "--file", str(f), *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )


def _strip_seconds(doc: object) -> object:
    if isinstance(doc, dict):
        return {k: _strip_seconds(v) for k, v in doc.items() if k != "seconds"}
    if isinstance(doc, list):
        return [_strip_seconds(v) for v in doc]
    return doc


def test_file_conjectures_get_the_verdicts_of_the_conjecture_command(tmp_path: Path) -> None:
    proc = _run(tmp_path, GOOD)
    assert proc.returncode == 0, proc.stderr
    claims = {c["id"]: c for c in json.loads(proc.stdout)["claims"]}
    assert list(claims) == ["my-upper-bound", "my-sum-formula"]
    for cid, depth in (("my-upper-bound", "1..3"), ("my-sum-formula", "3..3")):
        alone = check_one(claims[cid]["statement"], depth=depth, budget="quick")
        assert claims[cid]["verdict"] == alone["verdict"]
    assert claims["my-upper-bound"]["verdict"] == "verified"
    cx = claims["my-sum-formula"]["counterexample"]
    assert claims["my-sum-formula"]["verdict"] == "refuted" and cx["dims"][0:4]
    assert claims["my-upper-bound"]["source"] == "K4, restated"
    assert not any(p.name.startswith(".hypothesis") for p in tmp_path.iterdir())


def test_claim_selects_among_the_file_and_the_built_ins(tmp_path: Path) -> None:
    proc = _run(tmp_path, GOOD, "--claim", "depth2", "--claim", "my-upper-bound")
    assert proc.returncode == 0, proc.stderr
    assert [c["id"] for c in json.loads(proc.stdout)["claims"]] == ["depth2", "my-upper-bound"]


def test_the_report_is_the_same_for_any_number_of_jobs(tmp_path: Path) -> None:
    one, two = (_run(tmp_path, GOOD, "--jobs", n) for n in ("1", "2"))
    assert one.returncode == two.returncode == 0, (one.stderr, two.stderr)
    assert _strip_seconds(json.loads(one.stdout)) == _strip_seconds(json.loads(two.stdout))


BAD = {
    "unknown-key": ('[[conjecture]]\nid = "a"\nstatement = "trace >= 0"\nbias = "1"\n', "unknown key"),
    "missing-id": ('[[conjecture]]\nstatement = "trace >= 0"\n', "'id' is required"),
    "bad-id": ('[[conjecture]]\nid = "A B"\nstatement = "trace >= 0"\n', "lowercase"),
    "builtin-id": ('[[conjecture]]\nid = "depth2"\nstatement = "trace >= 0"\n', "built-in"),
    "duplicate-id": ('[[conjecture]]\nid = "a"\nstatement = "trace >= 0"\n'
                     '[[conjecture]]\nid = "a"\nstatement = "trace >= 1"\n', "already taken"),
    "code": ('[[conjecture]]\nid = "a"\nstatement = "__import__(\'os\').system(\'touch pwned\')"\n',
             "'.system' is not allowed"),
    "not-toml": ("[[conjecture]\nid=", "not valid TOML"),
    "no-tables": ('title = "x"\n', "unknown top-level key"),
    "number-not-string": ('[[conjecture]]\nid = "a"\nstatement = "trace >= 0"\ndepth = 3\n',
                          "must be a string"),
}


@pytest.mark.parametrize("case", sorted(BAD), ids=str)
def test_bad_files_are_refused_in_one_line(tmp_path: Path, case: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    text, match = BAD[case]
    f = tmp_path / "c.toml"
    f.write_text(text, encoding="utf-8")
    assert main(["check", "--quick", "--file", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert match in err and err.startswith("dmf-sharpness check: error:"), err
    assert not (tmp_path / "pwned").exists() and not (ROOT / "pwned").exists()
