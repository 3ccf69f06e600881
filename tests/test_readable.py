"""Readable results: the ``check`` table fits the terminal and shows each refutation in full,
its columns say one thing each, ``check`` writes no progress bar into redirected logs, the
``hessian-rank`` pair separates the literal claim from what holds, the escape figures draw
runs that did not escape as such, and notebook 05 states the loss factors the oracle applies.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from derivations.algebraic import exact_rank
from derivations.exact import exact_product, parse_point
from numeric.claims.closed_forms import SUM_FORMULA
from numeric.claims.runner import (
    EVIDENCE_KINDS,
    CheckReport,
    cases_text,
    closed_form,
    evidence_text,
    format_details,
    format_table,
    poly_text,
    run_claims,
    terminal_width,
)
from numeric.cli import main
from numeric.result import loss_factor

ROOT = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------- notebook 05


def _notebook_markdown(name: str) -> str:
    nb = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def test_notebook05_states_the_loss_factors_the_oracle_applies() -> None:
    text = _notebook_markdown("05_oracle_for_your_code.ipynb")
    n, d_out = 3, 2  # any sizes: the stated factor, read with N = 3, must be the oracle's
    mean = re.search(r'`"sample-mean"`: \$(\d+)/N\$', text)
    assert mean is not None, "notebook 05 no longer states the sample-mean factor as $k/N$"
    assert Fraction(int(mean.group(1)), n) == loss_factor("sample-mean", n_samples=n,
                                                          d_out=d_out)[0]
    total = re.search(r'`"sum"`: factor (\d+)', text)
    assert total is not None
    assert Fraction(int(total.group(1))) == loss_factor("sum", n_samples=n, d_out=d_out)[0]
    mse = re.search(r"\$(\d+)/\(N d_L\)\$", text)
    assert mse is not None
    assert Fraction(int(mse.group(1)), n * d_out) == loss_factor("mse", n_samples=n,
                                                                 d_out=d_out)[0]


# ----------------------------------------------------------------------------- the check table

EVIDENCE_CELL = re.compile(r"exact|certified( \d+ digits)?|symbolic|approximate|none")


@pytest.fixture(scope="module")
def report() -> CheckReport:
    """A real quick run of claims with irrational, rational and rank counterexamples."""
    return run_claims(["sum-formula", "constant-product", "hessian-rank",
                       "hessian-rank-corrected", "balanced-spectrum"],
                      budget="quick", progress=False)


def _fraction_matrix(m: Any) -> list[list[Fraction]]:
    return [[Fraction(x) for x in row] for row in np.asarray(m, dtype=object)]


@pytest.mark.parametrize("width", [60, 72, 100, 160])
def test_table_fits_the_width_and_cuts_nothing(report: CheckReport, width: int) -> None:
    text = format_table(report, width=width)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    assert "..." not in text
    if width < 72:  # below 72 columns a long claim id may break at a hyphen
        return
    words = set(text.split())
    for c in report.claims:
        assert c.id in words
        for p in c.outcome.parts:  # every word of every part label is shown (maybe wrapped)
            assert set(p.label.split()) <= words, p.label
    assert lines[0].split() == ["claim", "verdict", "evidence", "cases", "time"]


def test_terminal_width_honours_columns_else_defaults_to_100(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "123")
    assert terminal_width() == 123

    def no_terminal(*args: Any) -> Any:
        raise OSError("not a terminal")

    monkeypatch.delenv("COLUMNS")
    monkeypatch.setattr(os, "get_terminal_size", no_terminal)
    assert terminal_width() == 100


def test_evidence_and_cases_cells_say_one_thing_each(report: CheckReport) -> None:
    for kind in EVIDENCE_KINDS:
        for digits in (None, 30):
            assert EVIDENCE_CELL.fullmatch(evidence_text(kind, digits))
    assert evidence_text("exact+certified", 51) == "certified 51 digits"
    for c in report.claims:
        o = c.outcome
        items = [(o.verdict, o.evidence, o.digits, o.counterexample, o.cases, o.detail,
                  o.parts)] + [(p.verdict, p.evidence, p.digits, p.counterexample, p.cases,
                                p.detail, []) for p in o.parts]
        for verdict, evidence, digits, cx, cases, detail, parts in items:
            assert EVIDENCE_CELL.fullmatch(evidence_text(evidence, digits, cx))
            cell = cases_text(verdict, cases, detail, parts)
            if verdict == "refuted":  # never a bare count that reads like cases checked
                assert not cell.isdigit() and ("counterexample" in cell or "fails in" in cell)
                if parts:
                    bad = sum(p.verdict == "refuted" for p in parts)
                    assert cell == f"fails in {bad} of {len(parts)} parts"
            else:
                assert cell == str(cases)


def test_details_show_each_refutation_in_full(report: CheckReport) -> None:
    details = "\n".join(format_details(report, width=100))
    unwrapped = " ".join(details.split())
    refuted = [(c, p) for c in report.claims
               for p in (c.outcome.parts or [c.outcome])  # type: ignore[list-item]
               if p.verdict == "refuted"]
    assert refuted
    for c, p in refuted:
        cx = p.counterexample
        assert cx is not None and c.id in details
        for l, w in enumerate(cx.weights, start=1):  # the weights, exactly
            text = "[" + ", ".join("[" + ", ".join(str(x) for x in row) + "]"
                                   for row in _fraction_matrix(w)) + "]"
            assert f"W_{l} = {text}" in unwrapped
        assert " ".join(cx.gap.split()) in unwrapped
    # the sum-formula sides: exact closed forms, checked against an independent recomputation
    sf = next(c for c in report.claims if c.id == "sum-formula").outcome.parts[0]
    assert sf.counterexample is not None
    point = parse_point([_fraction_matrix(w) for w in sf.counterexample.weights])
    import sympy

    for side in (SUM_FORMULA.lhs(point).value(), SUM_FORMULA.rhs(point).value()):
        assert side.degree <= 4 and not side.is_rational
        form = closed_form(side)
        assert form is not None and f"= {form}" in unwrapped
        assert f"root of {poly_text(side)}" in unwrapped
        expr = sympy.sympify(form.replace("^", "**"))  # our own output, not user text
        x = sympy.Symbol("x")
        assert sympy.minimal_polynomial(expr, x) == sympy.Poly(
            [int(c) for c in reversed(side.poly.coeffs())], x).as_expr()
        assert side.enclosure(30).contains(sympy.Rational(str(sympy.N(expr, 60))))


def test_hessian_rank_literal_is_refuted_by_an_exact_counterexample(report: CheckReport) -> None:
    from numeric.claims.quantities import exact_hessian
    from numeric.hessian import gauss_newton

    claims = {c.id: c for c in report.claims}
    literal, corrected = claims["hessian-rank"].outcome, claims["hessian-rank-corrected"].outcome
    assert literal.verdict == "refuted" and literal.evidence == "exact"
    assert corrected.verdict == "verified" and corrected.evidence == "exact"
    assert report.claims[3].corrects == "hessian-rank"
    cx = literal.counterexample
    assert cx is not None and cx.data is not None
    point = parse_point([_fraction_matrix(w) for w in cx.weights], data=_fraction_matrix(cx.data),
                        labels=_fraction_matrix(cx.labels))
    h = exact_hessian(point)
    ho = np.asarray(gauss_newton(list(point.weights), point.data), dtype=object)
    x, y = _fraction_matrix(cx.data), _fraction_matrix(cx.labels)
    xt = np.asarray(x, dtype=object).T
    residual = exact_product(list(point.weights)) @ np.asarray(x, dtype=object) - np.asarray(
        y, dtype=object)
    assert not np.any(residual @ xt)  # a minimizer: R X^T = 0
    dims, r = point.dims, exact_rank(np.asarray(x, dtype=object) @ xt)
    q, s, m = min([r, dims[-1], *dims[1:-1]]), min(r, dims[-1]), sum(dims[1:-1])
    formula_hf = 2 * q * m + 2 * q * s - (len(dims) - 1) * q * q
    assert exact_rank(h - ho) == 0 < formula_hf  # rank H_f = 0 below its formula
    assert f"{formula_hf} (" in cx.rhs and cx.lhs.startswith("0 ")
    statements = ("at every point", "at generic points", "at generic minimizers",
                  "at every minimizer")
    for part in literal.parts + corrected.parts:  # each part states what it decided
        assert ("<=" in part.label or "=" in part.label) and part.label.endswith(statements)
    assert [p.verdict for p in literal.parts if p.verdict == "refuted"] == ["refuted"] * 2


# ----------------------------------------------------------------------------- the CLI


def test_check_writes_no_progress_bar_into_a_redirected_stderr(tmp_path: Path) -> None:
    err = tmp_path / "stderr.txt"
    with err.open("w") as fh:
        proc = subprocess.run(
            [sys.executable, "-m", "numeric.cli", "check", "--quick", "--claim", "depth2"],
            stdout=subprocess.PIPE, stderr=fh, text=True, timeout=300, check=False,
            env={**os.environ, "COLUMNS": "72"},
        )
    assert proc.returncode == 0
    assert err.stat().st_size == 0, err.read_text()[:300]
    assert all(len(line) <= 72 for line in proc.stdout.splitlines())


def test_progress_bar_only_on_a_terminal_and_without_time_estimate(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from numeric.claims import runner

    assert runner._progress(3, True) is None or sys.stderr.isatty()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    bar = runner._progress(3, True)
    assert bar is not None
    try:
        assert "remaining" not in bar.bar_format and "rate" not in bar.bar_format
    finally:
        bar.close()
    assert runner._progress(3, False) is None


def test_format_option(capsys: pytest.CaptureFixture[str]) -> None:
    outs = {}
    for args in (["--json"], ["--format", "json"], ["--format", "markdown"]):
        assert main(["check", "--quick", "--claim", "balanced-spectrum", "--no-progress",
                     *args]) == 0
        outs[" ".join(args)] = capsys.readouterr().out
    reports = []
    for key in ("--json", "--format json"):
        rep = json.loads(outs[key])
        rep.pop("seconds")
        for c in rep["claims"]:
            c.pop("seconds")
        reports.append(rep)
    assert reports[0] == reports[1]
    md = outs["--format markdown"].splitlines()
    assert md[0] == "| claim | verdict | evidence | cases | time |"
    assert any(line.startswith("| `balanced-spectrum` | verified | exact |") for line in md)
    assert main(["check", "--quick", "--json", "--format", "table"]) == 2
    assert "contradict" in capsys.readouterr().err


# ----------------------------------------------------------------------------- escape figures


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The figures of one run above the threshold and of a sweep with a factor below it,
    kept open (``_save`` intercepted) so that their artists can be inspected."""
    import matplotlib.pyplot as plt

    from numeric.dynamics import plots
    from numeric.dynamics.escape import escape_run, escape_sweep

    point = parse_point([[[1, 0], [0, 1]], [[2, 0], [0, 1]]])
    kept: list[Any] = []

    def keep(fig: Any, path: Any) -> Path:
        kept.append(fig)
        return Path(path)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plots, "_save", keep)
        run = escape_run(point, factor=1.2, eps=1e-8, dps=30, steps=120, every=10)
        plots.plot_run(run, tmp_path_factory.mktemp("fig") / "run.png")
        sweep = escape_sweep(point, factors=[0.8, 1.3], epss=["1e-8", "1e-16"], dps=30)
        plots.plot_sweep(sweep, tmp_path_factory.mktemp("fig") / "sweep.png")
    yield {"run": run, "run_fig": kept[0], "sweep": sweep, "sweep_fig": kept[1]}
    for fig in kept:
        plt.close(fig)


def test_sweep_draws_runs_without_escape_off_the_step_axis(figures: dict[str, Any]) -> None:
    sweep, fig = figures["sweep"], figures["sweep_fig"]
    no_escape = {r.factor for row in sweep.runs for r in row if r.escape_step is None}
    assert no_escape == {0.8}  # the factor below the threshold converges
    step_axes = [ax for ax in fig.axes if ax.get_yscale() == "log"]
    assert len(step_axes) == 1
    ax = step_axes[0]
    for line in ax.get_lines():  # no marker of the step axis sits at a factor without escape
        if line.get_linestyle() in ("None", ""):
            assert not set(np.asarray(line.get_xdata(), dtype=float)) & no_escape
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert not any("no escape" in t for t in labels)
    strip = next(a for a in fig.axes if a.get_ylabel() == "no escape")
    marked = {float(x) for line in strip.get_lines() if line.get_marker() == "x"
              for x in line.get_xdata()}
    assert marked == no_escape
    notes = {t.get_text() for t in strip.texts}
    assert notes == {r.outcome for row in sweep.runs for r in row if r.escape_step is None}


def test_run_figure_shows_the_distance_on_top_and_says_escaped_once(
        figures: dict[str, Any]) -> None:
    fig = figures["run_fig"]
    title = fig._suptitle.get_text()
    assert title.count("escaped") == 1 and f"step {figures['run'].escape_step}" in title
    panel = next(ax for ax in fig.axes if ax.get_ylabel() == "distance to W*")
    lines = {line.get_label(): line for line in panel.get_lines()}
    distance = next(v for k, v in lines.items() if k.startswith("||theta_t - theta*||"))
    others = [v for k, v in lines.items() if "component" in k or "linearized" in k]
    assert others and all(distance.get_zorder() > o.get_zorder() for o in others)
    assert all(o.get_linestyle() != "-" for o in others)  # dashed or dotted beneath it
    assert distance.get_linewidth() > max(o.get_linewidth() for o in others)
