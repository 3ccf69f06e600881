"""``dmf-sharpness check``: the quick run's JSON lists every claim with an honest verdict; the
refutations' counterexamples re-check exactly; ``--claim`` filters; unknown ids error.

The ``--quick`` run (up to ~2 minutes) happens ONCE per session (module-scoped fixture).
"""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from typing import Any

import pytest

from derivations.algebraic import compare_formulas
from derivations.exact import parse_point
from numeric.claims.closed_forms import SUM_FORMULA
from numeric.claims.flatness import flattest_value
from numeric.claims.registry import CLAIM_IDS
from numeric.claims.runner import VERDICTS
from numeric.cli import main


@pytest.fixture(scope="module")
def quick_report() -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "numeric.cli", "check", "--quick", "--json", "--no-progress"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in report["claims"]}


def weights_of(cx: dict[str, Any]) -> list[list[list[Fraction]]]:
    return [[[Fraction(x) for x in row] for row in w] for w in cx["weights"]]


def test_quick_json_lists_every_registered_claim(quick_report: dict[str, Any]) -> None:
    assert [c["id"] for c in quick_report["claims"]] == list(CLAIM_IDS)
    assert quick_report["seed"] == 0 and quick_report["errors"] == []
    assert {"python-flint", "sympy", "hypothesis", "dmf-sharpness"} <= set(quick_report["versions"])
    keys = {"id", "statement", "verdict", "cases", "digits", "certified", "counterexample",
            "source", "domain", "method", "seconds", "detail", "evidence"}
    for c in quick_report["claims"]:
        assert keys <= set(c)
        assert c["verdict"] in VERDICTS
        if c["verdict"] == "refuted":
            assert c["counterexample"] is not None
            assert c["certified"] == (c["evidence"] != "approximate")
        if c["verdict"] == "inconclusive":
            assert not c["certified"] and c["detail"]


def test_quick_refutations_recheck_exactly(quick_report: dict[str, Any]) -> None:
    claims = by_id(quick_report)
    assert claims["sum-formula"]["verdict"] == "refuted"
    point = parse_point(weights_of(claims["sum-formula"]["counterexample"]))
    assert compare_formulas(SUM_FORMULA.lhs(point), SUM_FORMULA.rhs(point)).relation == "<"
    for cid in ("spectral-balance", "constant-product"):
        assert claims[cid]["verdict"] == "refuted"
        point = parse_point(weights_of(claims[cid]["counterexample"]))
        assert compare_formulas(SUM_FORMULA.lhs(point), flattest_value(point)).relation == ">"
    for cid in ("spectral-balance-corrected", "constant-product-corrected", "depth2", "trace",
                "scalar-ends", "balanced-spectrum", "reduced-spectrum"):
        assert claims[cid]["verdict"] == "verified", claims[cid]["detail"]
        assert claims[cid]["evidence"] in ("exact", "exact+certified", "certified")
    # the escape verdict is defined by measurement: verified, but never "certified"
    esc = claims["escape"]
    assert (esc["verdict"], esc["evidence"], esc["certified"]) == ("verified", "approximate", False)
    assert "not certified" in esc["method"] and "not certified" in esc["detail"]


def test_claim_filter_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["check", "--quick", "--claim", "balanced-spectrum", "--claim", "hessian-rank",
               "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].split() == ["claim", "verdict", "evidence", "cases", "time"]
    assert any(line.split()[:2] == ["balanced-spectrum", "verified"] for line in lines)
    assert "trace" not in out.split("budget")[0].split()


def test_same_seed_same_report(capsys: pytest.CaptureFixture[str]) -> None:
    reports = []
    for _ in range(2):
        assert main(["check", "--quick", "--claim", "balanced-spectrum", "--json",
                     "--no-progress"]) == 0
        rep = json.loads(capsys.readouterr().out)
        for c in rep["claims"]:
            c.pop("seconds")
        rep.pop("seconds")
        reports.append(rep)
    assert reports[0] == reports[1]


def test_unknown_claim_id_exits_2_listing_valid_ids(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--quick", "--claim", "no-such-claim"]) == 2
    err = capsys.readouterr().err
    assert "unknown claim id 'no-such-claim'" in err and "sum-formula" in err
