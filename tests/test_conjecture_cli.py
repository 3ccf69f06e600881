"""``dmf-sharpness conjecture``: exit statuses, the human and JSON reports, and hostile
statements refused with exit 2 and no side effect."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from numeric.cli import main

SUM = "sum(norm2(A[l])**2 * norm2(B[l])**2 for l in layers)"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["conjecture", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_verified_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, f"lambda_max <= {SUM}", "--quick")
    assert code == 0, err
    assert "verdict:    VERIFIED (12 cases" in out
    assert "evidence" in out


def test_refuted_report_writes_the_counterexample_exactly(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, f"lambda_max == {SUM}", "--depth", "3..3", "--quick")
    assert code == 0, err
    assert list(tmp_path.iterdir()) == []  # nothing written (Hypothesis' storage is temporary)
    assert "REFUTED" in out
    for needle in ("W[1] = [[", "W[3] = [[", "M = [[", "lambda_max = ", f"{SUM} = ", "gap: "):
        assert needle in out, out


def test_json_is_one_claim_and_the_same_for_the_same_seed(
        capsys: pytest.CaptureFixture[str]) -> None:
    args = ("trace >= 0", "--if", "L == 2", "--quick", "--json", "--seed", "3")
    code, out, _ = _run(capsys, *args)
    assert code == 0
    rep = json.loads(out)
    for key in ("id", "statement", "verdict", "cases", "evidence", "digits", "counterexample",
                "undefined", "hypothesis_held", "detail"):
        assert key in rep
    assert rep["hypothesis"] == "L == 2" and rep["seed"] == 3
    again = json.loads(_run(capsys, *args)[1])
    rep.pop("seconds")
    again.pop("seconds")
    assert rep == again


CANARY = "CANARY_conjecture_was_executed"
HOSTILE = [
    ("import-system", f"__import__('os').system('touch {CANARY}') == 0"),
    ("open", f"open('{CANARY}', 'w').write('x') == 1"),
    ("subclasses", "().__class__.__base__.__subclasses__() == 0"),
    ("comprehension", f"[open('{CANARY}', 'w') for _ in 'x'] == 0"),
    ("exec", f"exec(\"open('{CANARY}', 'w')\") == 0"),
    ("eval", f"eval(\"open('{CANARY}', 'w')\") == 0"),
    ("lambda", f"(lambda: open('{CANARY}', 'w'))() == 0"),
    ("deep", "(" * 300 + "1" + ")" * 300 + " > 0"),
    ("huge-power", "2**10**10 > 1"),
    ("long", "1" * 1_000_000 + " > 0"),
    ("in-hypothesis", None),
]


@pytest.mark.parametrize("name,statement", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_statements_are_refused_without_side_effects(
        name: str, statement: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    if statement is None:
        args = ["trace >= 0", "--if", f"open('{CANARY}', 'w') == 1"]
    else:
        args = [statement]
    code, out, err = _run(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.startswith("dmf-sharpness conjecture: error: ")
    assert len(err.splitlines()) in (1, 3)  # one line, or one line + statement + carets
    if len(err.splitlines()) == 3:
        assert set(err.splitlines()[2].strip()) == {"^"}
    assert not (tmp_path / CANARY).exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args,match", [
    (["trace >= 0", "--depth", "9"], "out of range"),
    (["trace >= 0", "--width", "x"], "must be 'a..b'"),
    (["trace >= 0", "--ends", "matrix", "--width", "1..1"], "at least 2"),
    (["trace >= 0", "--dps", "3"], "dps must be"),
    (["lambda_max <= foo"], "unknown name 'foo' at column 15"),
], ids=["depth", "width", "ends", "dps", "unknown-name"])
def test_bad_arguments_exit_2_with_one_line(args: list[str], match: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, *args)
    assert code == 2 and out == ""
    assert match in err.splitlines()[0]


def test_an_engine_crash_is_reported_inconclusive_with_exit_1(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from numeric.conjecture.claim import Conjecture

    def boom(self: Conjecture) -> Any:
        raise RuntimeError("planted")

    monkeypatch.setattr(Conjecture, "_decide_relations", boom)
    code, out, err = _run(capsys, "trace >= 0", "--quick", "--json")
    assert code == 1
    rep = json.loads(out)
    assert rep["verdict"] == "inconclusive" and rep["error"] == "RuntimeError: planted"
    assert err.strip() == "dmf-sharpness conjecture: internal error: RuntimeError: planted"
