"""Hardening of the input boundary and the command line: bad input gets one clear line.

Each test pins a defect that once gave a traceback, a hang, or a silently wrong answer.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from derivations.errors import EntryError
from derivations.exact import parse_entry
from numeric.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(err: str, command: str) -> None:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"dmf-sharpness {command}: error: "), err


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "numeric.cli", *args]


# ----------------------------------------------------------------------------- 1. digit limits


@pytest.mark.parametrize(
    "text",
    [
        "7" * 5000 + "/3",
        "3/" + "7" * 5000,
        "-" + "7" * 4001 + "/3",
        "9" * 9999,
        "-" + "9" * 4001,
        "1" * 4001 + ".5",
        "0." + "1" * 4001,
        "1" * 4001 + "e3",
    ],
)
def test_digit_limit_is_enforced_before_converting(text: str) -> None:
    with pytest.raises(EntryError, match=r"4001|5000|9999|4002") as info:
        parse_entry(text)
    assert "4000" in str(info.value)
    assert "\n" not in str(info.value)


def test_digit_limit_allows_4000_digits() -> None:
    assert parse_entry("9" * 4000) == Fraction(10**4000 - 1)
    assert parse_entry("9" * 4000 + "/" + "7" * 4000) == Fraction(10**4000 - 1, int("7" * 4000))
    assert parse_entry("-" + "1" * 3999 + ".5") == -Fraction(int("1" * 3999 + "5"), 10)


def test_huge_fraction_in_a_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "big.json"
    p.write_text(json.dumps({"weights": [[["7" * 5000 + "/3"]]]}))
    code, _, err = _cli(["oracle", str(p)], capsys)
    assert code == 2
    _one_line_error(err, "oracle")
    assert "4000" in err


# ----------------------------------------------------------------------------- 2. ASCII digits only


@pytest.mark.parametrize(
    "text",
    ["\u0661\u0662", "\uff11\uff12", "1/\u0662", "\u0661.5", "1e\u0662", "\uff11\uff12/3"],
)
def test_non_ascii_digits_are_refused(text: str) -> None:
    with pytest.raises(EntryError, match="ASCII"):
        parse_entry(text)


@pytest.mark.parametrize("text", ["1 / 2", "1 /2", "1/ 2", "1\t/2", "- 1/2"])
def test_spaces_inside_a_fraction_are_refused(text: str) -> None:
    with pytest.raises(EntryError, match="space"):
        parse_entry(text)


def test_outer_spaces_are_still_accepted() -> None:
    assert parse_entry(" 1/2 ") == Fraction(1, 2)
    assert parse_entry(" 12 ") == 12


@pytest.mark.parametrize("text", ["\u0661\u0662", "\uff11\uff12", "1 / 2"])
def test_odd_strings_in_a_file_are_one_line(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "odd.json"
    p.write_text(json.dumps({"weights": [[[text]]]}))
    code, _, err = _cli(["oracle", str(p)], capsys)
    assert code == 2
    _one_line_error(err, "oracle")


# ----------------------------------------------------------------------------- 3. no litter


def test_check_writes_nothing_in_the_working_directory(tmp_path: Path) -> None:
    env = _env()
    env.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    done = subprocess.run(
        _command("check", "--quick", "--claim", "depth2", "--no-progress"),
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- 4. signals, pipes


def test_closed_pipe_exits_quietly() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written, like ``| head -c 0``
    try:
        done = subprocess.run(
            _command("check", "--list"), env=_env(), stdout=write_end, stderr=subprocess.PIPE,
            text=True, timeout=60,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert done.stderr == ""
    assert done.returncode == 141  # 128 + SIGPIPE, like a standard tool killed by the closed pipe


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_full_device_is_one_line() -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            _command("check", "--list"), env=_env(), stdout=full, stderr=subprocess.PIPE,
            text=True, timeout=60,
        )
    assert done.returncode == 2
    _one_line_error(done.stderr, "check")
    assert "No space left on device" in done.stderr


def test_sigint_is_one_line_and_exit_130() -> None:
    proc = subprocess.Popen(
        _command("check", "--no-progress"), env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:  # pragma: no cover - a hang is the failure
        proc.kill()
        proc.communicate()
        pytest.fail("the command did not stop on SIGINT")
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines() == ["dmf-sharpness check: interrupted"]


# ----------------------------------------------------------------------------- 5. seeds, vectors


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--seed", "-1", "--claim", "depth2"],
        ["escape", "--dims", "2,2", "--seed", "-1"],
        ["escape-sweep", "--dims", "2,2", "--seed", "-1"],
        ["check", "--seed", "1" * 30],
    ],
)
def test_bad_seeds_are_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    _one_line_error(err, argv[0])
    assert "--seed" in err and "0.." in err


def test_argparse_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--no-such-option"]) == 2
    _one_line_error(capsys.readouterr().err, "check")
    with pytest.raises(SystemExit) as info:
        main(["escape", "--every", "x", "--dims", "2,2"])
    assert info.value.code == 2
    _one_line_error(capsys.readouterr().err, "escape")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="no /proc on this system")
def test_vectors_to_an_unwritable_directory(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(["vectors", "--out", "/proc/vec"], capsys)
    assert code == 2 and out == ""
    _one_line_error(err, "vectors")
    assert "/proc/vec" in err


def test_vectors_under_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    code, _, err = _cli(["vectors", "--out", str(tmp_path / "file" / "sub")], capsys)
    assert code == 2
    _one_line_error(err, "vectors")


def test_vectors_check_of_an_empty_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(["vectors", "--check", "--out", str(tmp_path)], capsys)
    assert code == 2 and out == ""
    _one_line_error(err, "vectors")
    assert "no conformance vectors" in err


def test_vectors_check_of_a_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(["vectors", "--check", "--out", str(tmp_path / "missing")], capsys)
    assert code == 2
    _one_line_error(err, "vectors")
    assert "does not exist" in err


# ----------------------------------------------------------------------------- 6. escape arguments

ESCAPE = ["escape", "--dims", "2,2", "--target", "1,0;0,2", "--steps", "5"]


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--eps", "1e300"], "--eps"),
        (["--eps", "0"], "--eps"),
        (["--eps=-1e-30"], "--eps"),
        (["--eps", "1e-301"], "--eps"),
        (["--eps", "nan"], "--eps"),
        (["--factor", "1e-300"], "--factor"),
        (["--factor", "101"], "--factor"),
        (["--factor", "inf"], "--factor"),
        (["--factor", "-1"], "--factor"),
        (["--delta", "inf", "--json"], "--delta"),
        (["--delta", "1"], "--delta"),
        (["--delta", "0"], "--delta"),
        (["--delta", "nan"], "--delta"),
        (["--target", "0,0;0,0"], "zero"),
        (["--target", "1e1000,0;0,1"], "--target"),
        (["--target", "1e-1000,0;0,0"], "--target"),
        (["--dims", "300,300", "--target", "1"], "--dims"),
        (["--dims", "2,2", "--target", "1,2,3"], "needs"),
        (["--dims", "8,8,8,8,8,8"], "parameters"),
        (["--dims", "2,2", "--dps", "100000"], "--dps"),
        (["--dims", "2,2", "--steps", "0"], "--steps"),
        (["--dims", "2,2", "--steps", "1000000000"], "--steps"),
        (["--dims", "2,2", "--every", "0"], "--every"),
    ],
    ids=lambda v: v if isinstance(v, str) else " ".join(v),
)
def test_escape_arguments_refused_up_front(
    extra: list[str], match: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = list(ESCAPE)
    for flag in ("--dims", "--target"):  # the extra arguments replace the base ones
        if flag in extra:
            i = argv.index(flag)
            del argv[i:i + 2]
    start = time.perf_counter()
    code, out, err = _cli([*argv, *extra], capsys)
    assert code == 2 and out == "", err
    _one_line_error(err, "escape")
    assert match in err
    assert time.perf_counter() - start < 5  # refused before any computation


def test_escape_plot_into_a_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _cli([*ESCAPE, "--plot", str(tmp_path)], capsys)
    assert code == 2 and out == ""
    _one_line_error(err, "escape")
    assert "--plot" in err and "directory" in err
    code, _, err = _cli([*ESCAPE, "--plot", str(tmp_path / "missing" / "x.png")], capsys)
    assert code == 2
    _one_line_error(err, "escape")
    assert "--plot" in err


@pytest.mark.parametrize(
    "extra",
    [
        ["--eps", "1,1e-40"],
        ["--eps", "1e-999999999"],
        ["--factors", "1e999999999"],
        ["--factors", "0.5,1e-9"],
        ["--delta", "inf"],
    ],
    ids=" ".join,
)
def test_escape_sweep_arguments_refused(extra: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(["escape-sweep", "--dims", "2,2", "--target", "1,0;0,2", *extra], capsys)
    assert code == 2 and out == ""
    _one_line_error(err, "escape-sweep")


@pytest.mark.parametrize(
    "extra",
    [
        ["--eps", "1e999999999"],
        ["--eps", "1e-999999999"],
        ["--factor", "1e999999999"],
        ["--dims", "99999999999999999999,2"],
        ["--dims", ",".join(["2"] * 3000)],
    ],
    ids=["eps-huge-exponent", "eps-tiny-exponent", "factor-huge-exponent", "dims-huge",
         "dims-3000"],
)
def test_escape_arguments_that_used_to_hang(extra: list[str]) -> None:
    argv = ["escape", "--steps", "5", *extra]
    if "--dims" not in extra:
        argv += ["--dims", "2,2", "--target", "1,0;0,2"]
    done = subprocess.run(_command(*argv), env=_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    _one_line_error(done.stderr, "escape")


def test_escape_readme_example_still_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    from numeric.cli import escape as escape_cli

    parser = __import__("numeric.cli", fromlist=["build_parser"]).build_parser()
    args = parser.parse_args(["escape", "--dims", "2,3,3,2", "--target", "1,1/2;0,2", "--factor",
                              "1.05", "--eps", "1e-30", "--dps", "60", "--json"])
    escape_cli.check_arguments(args)  # no error: the README example is inside the bounds
    sweep = parser.parse_args(["escape-sweep", "--dims", "2,3,3,2", "--target", "1,1/2;0,2",
                               "--factors", "0.9,1.05,1.2,1.5", "--eps", "1e-10,1e-20,1e-30,1e-40"])
    escape_cli.check_arguments(sweep)


_SWALLOWED = """
import sys, time
from numeric.cli import _Interrupt
guard = _Interrupt("check")
guard.install()
class Dropped:
    def __del__(self):
        raise KeyboardInterrupt  # lands in sys.unraisablehook, as Ctrl-C inside a __del__ does
try:
    Dropped()
    for _ in range(300):
        time.sleep(0.01)
    print("not interrupted")
except KeyboardInterrupt:
    print("interrupted")
finally:
    guard.uninstall()
"""


def test_an_interrupt_swallowed_by_a_destructor_is_raised_again_quietly() -> None:
    """Ctrl-C landing in a ``__del__`` or a GC callback reaches ``sys.unraisablehook``: it must
    come back as ``KeyboardInterrupt`` in the main program, without a traceback on stderr."""
    done = subprocess.run([sys.executable, "-c", _SWALLOWED], env=_env(), capture_output=True,
                          text=True, timeout=60)
    assert done.stdout.strip() == "interrupted"
    assert done.stderr == ""
