"""The ``dmf-sharpness escape`` and ``escape-sweep`` subcommands (numeric.cli.escape)."""

from __future__ import annotations

import json

import pytest

from numeric.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DOCUMENTED_KEYS = {
    "escaped", "escape_step", "predicted_escape_step", "lambda_max_start", "eta", "final",
    "outcome",
}
BASE = ["escape", "--dims", "2,2,2", "--target", "1,1/2;0,2", "--eps", "1e-30", "--dps", "60"]


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    assert main(argv) == 0
    out = capsys.readouterr().out
    return json.loads(out)  # stdout is the JSON document and nothing else


def test_escape_json_above_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, [*BASE, "--factor", "1.5", "--stop-at-escape", "--json"])
    assert set(doc) - {"details"} == DOCUMENTED_KEYS
    assert doc["escaped"] is True and doc["outcome"] == "escaped"
    step, pred = doc["escape_step"], doc["predicted_escape_step"]
    assert isinstance(step, int) and abs(step - pred) <= 0.10 * pred
    assert float(doc["eta"]) * float(doc["lambda_max_start"]) == pytest.approx(3.0, rel=1e-12)
    assert set(doc["final"]) == {"loss", "lambda_max", "eta_lambda_max"}
    assert doc["details"]["minimizer"]["max_abs_deviation_from_M"] < 1e-60


def test_escape_json_below_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, [*BASE, "--factor", "0.9", "--json"])
    assert doc["escaped"] is False and doc["escape_step"] is None
    assert doc["outcome"] == "converged" and doc["predicted_escape_step"] is None
    assert doc["final"]["eta_lambda_max"] < 2
    assert doc["details"]["final_distance_over_eps"] <= 1.5


def test_escape_gauge_minimizer_text_and_plot(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    png = tmp_path / "run.png"
    argv = ["escape", "--dims", "2,3,2", "--seed", "4", "--minimizer", "gauge", "--factor",
            "1.2", "--eps", "1e-20", "--dps", "40", "--steps", "300", "--plot", str(png)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "outcome: escaped at step" in out and "random rational gauges" in out
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert [p.name for p in tmp_path.iterdir()] == ["run.png"]  # no temporary file left


def test_escape_float64_flag(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, [*BASE[:-4], "--eps", "1e-6", "--float64", "--factor", "1.2",
                         "--stop-at-escape", "--json"])
    assert doc["details"]["arithmetic"] == "float64" and doc["escaped"] is True


def test_sweep_json_and_plot(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    png = tmp_path / "sweep.png"
    doc = _json(capsys, ["escape-sweep", "--dims", "2,2,2", "--seed", "2", "--factors",
                         "0.8,1.3", "--eps", "1e-10,1e-30", "--dps", "40", "--plot", str(png),
                         "--json"])
    outcomes = {(r["factor"], r["eps"]): r["outcome"] for r in doc["runs"]}
    assert outcomes == {(0.8, "1e-10"): "converged", (0.8, "1e-30"): "converged",
                        (1.3, "1e-10"): "escaped", (1.3, "1e-30"): "escaped"}
    (fit,) = doc["slope_fits"]
    assert fit["factor"] == 1.3 and fit["relative_error"] < 0.05
    assert png.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["escape", "--dims", "2,x"], "--dims"),
        (["escape", "--dims", "2,2,2", "--target", "1,2;3"], "ragged"),
        (["escape", "--dims", "2,2,2", "--target", "1,2,3;4,5,6"], "needs \\(d_L, d_0\\)"),
        (["escape", "--dims", "2,1,2", "--target", "1,0;0,1"], "hidden layer 1"),
        (["escape", "--dims", "2,2", "--target", "1,0;0,1", "--factor", "-1"], "factor"),
        (["escape-sweep", "--dims", "2,2", "--factors", "a,b"], "--factors"),
    ],
    ids=["dims", "ragged-target", "target-shape", "narrow-hidden", "negative-factor",
         "factors-text"],
)
def test_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], match: str
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"dmf-sharpness {argv[0]}: error:")
    import re

    assert re.search(match, lines[0])


def test_help_describes_every_option_with_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    from numeric.cli import main

    with pytest.raises(SystemExit):
        main(["escape", "--help"])
    out = capsys.readouterr().out
    text = " ".join(out[out.index("options:"):].split())  # the option list, not the usage line
    for option, words in {"--minimizer": "gauge transform", "--direction": "top Hessian eigenvector",
                          "--delta": "(default 0.01)", "--seed": "(default 0)"}.items():
        after = text[text.index(option):]
        assert words in after[:400], (option, after[:200])
