"""BLAS threads of the float64 routes (``numeric.evaluators.threads``): the limit is set and restored, the
argument beats ``DMF_SHARPNESS_THREADS`` which beats the size rule, bad values are one line, and
the sharpness does not depend on the thread count beyond rounding. No test is timed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.linalg  # noqa: F401  (both BLAS libraries loaded: NumPy's and SciPy's)
from threadpoolctl import threadpool_info, threadpool_limits

from derivations.errors import DmfError
from numeric.cli import main
from numeric.evaluators.threads import (
    ENV_VAR,
    PARALLEL_WORK,
    blas_threads,
    check_threads,
    choose_threads,
)
from numeric.sharpness import sharpness


def _blas_counts() -> dict[str, int]:
    """The current thread count of every loaded BLAS library (by file), read by threadpoolctl."""
    return {i["filepath"]: int(i["num_threads"]) for i in threadpool_info()
            if i["user_api"] == "blas"}


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's own DMF_SHARPNESS_THREADS must not decide these tests."""
    monkeypatch.delenv(ENV_VAR, raising=False)


def _off_minimizer(dims: tuple[int, ...], n: int, seed: int = 0) -> tuple[list[np.ndarray], Any, Any]:
    """Seeded ``N(0, 1/d)`` weights, ``N(0, 1)`` data ``X`` (``d_0 x n``) and labels ``Y``
    (``d_L x n``) drawn independently: ``R X^T != 0``, the full Hessian."""
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal((dims[l + 1], dims[l])) / np.sqrt(dims[l])
          for l in range(len(dims) - 1)]
    return ws, rng.standard_normal((dims[0], n)), rng.standard_normal((dims[-1], n))


# --------------------------------------------------------------------------- set and restore
@pytest.mark.parametrize("outer, inner", [(2, 1), (1, 2)], ids=["2-then-1", "1-then-2"])
def test_the_limit_is_set_inside_and_restored_after(outer: int, inner: int) -> None:
    with threadpool_limits(limits=outer):
        before = _blas_counts()
        assert before and set(before.values()) == {outer}
        with blas_threads(threads=inner) as choice:
            assert set(_blas_counts().values()) == {inner} and choice.threads == inner
        assert _blas_counts() == before


def test_the_limit_is_restored_when_the_block_raises() -> None:
    with threadpool_limits(limits=2):
        before = _blas_counts()
        with pytest.raises(ZeroDivisionError), blas_threads(threads=1):
            assert set(_blas_counts().values()) == {1}
            _ = 1 / 0
        assert _blas_counts() == before


def test_the_limit_reaches_scipys_blas_that_arpack_runs_on() -> None:
    with blas_threads(threads=1):
        libs = [i for i in threadpool_info() if i["user_api"] == "blas"]
        assert any("scipy" in i["filepath"] for i in libs)
        assert {int(i["num_threads"]) for i in libs} == {1}


def test_sharpness_restores_the_callers_setting() -> None:
    ws, x, y = _off_minimizer((6, 8, 6), 5)
    with threadpool_limits(limits=2):
        before = _blas_counts()
        sharpness(ws, data=x, labels=y, float64=True, threads=1)
        assert _blas_counts() == before


# --------------------------------------------------------------------------- the choice
def test_argument_beats_environment_beats_size(monkeypatch: pytest.MonkeyPatch) -> None:
    small = PARALLEL_WORK / 100
    assert choose_threads(small) == choose_threads(small, "auto")
    assert (choose_threads(small).threads, choose_threads(small).source) == (1, "size")
    monkeypatch.setenv(ENV_VAR, "3")
    env = choose_threads(small)
    assert (env.threads, env.source) == (3, "environment")
    assert env.describe() == f"BLAS threads: 3, set by {ENV_VAR}"
    arg = choose_threads(small, 2)
    assert (arg.threads, arg.source) == (2, "argument")
    assert (choose_threads(small, "auto").threads, choose_threads(small, "auto").source) == (1, "size")
    monkeypatch.setenv(ENV_VAR, " AUTO ")
    assert choose_threads(small).source == "size"
    monkeypatch.setenv(ENV_VAR, "")  # empty: as if unset
    assert choose_threads(small).source == "size"


@pytest.mark.parametrize("work", [None, 0.0, 1e6, PARALLEL_WORK / 2],
                         ids=["unknown", "zero", "small", "below-threshold"])
def test_the_size_rule_takes_one_thread_below_the_threshold(work: float | None) -> None:
    assert choose_threads(work, "auto").threads == 1


def test_the_size_rule_above_the_threshold_keeps_an_enclosing_limit() -> None:
    big = PARALLEL_WORK * 10
    with threadpool_limits(limits=1):
        assert choose_threads(big, "auto").threads == 1  # never more than the current setting
    with threadpool_limits(limits=2):
        chosen = choose_threads(big, "auto").threads
        assert 1 <= chosen <= 2 and chosen <= (os.cpu_count() or 1)


def test_check_threads_reads_text_as_the_command_line_gives_it() -> None:
    assert check_threads(None) is None and check_threads("auto") == "auto"
    assert check_threads(" 4 ") == 4 and check_threads(2) == 2


# --------------------------------------------------------------------------- bad values
BAD = [0, -1, "x", 1.5, True, "1.5", "", "0", "-2", "two", [1]]


@pytest.mark.parametrize("value", BAD, ids=lambda v: f"arg={v!r}")
def test_bad_arguments_are_one_line(value: Any) -> None:
    with pytest.raises(DmfError, match=r"^threads \(--threads\) must be a whole number of "
                       r"threads >= 1 or 'auto' .*; got ") as info:
        check_threads(value)
    assert "\n" not in str(info.value) and repr(value) in str(info.value)
    ws, x, y = _off_minimizer((3, 4, 3), 4)
    with pytest.raises(DmfError, match="threads"):  # refused before any work
        sharpness(ws, data=x, labels=y, float64=True, threads=value)


@pytest.mark.parametrize("text", ["0", "-1", "x", "1.5", "two", "2 threads"],
                         ids=lambda t: f"env={t!r}")
def test_bad_environment_values_are_one_line(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv(ENV_VAR, text)
    with pytest.raises(DmfError, match=rf"^the environment variable {ENV_VAR} must be a whole "
                       r"number of threads >= 1 or 'auto'") as info:
        choose_threads(1e6)
    assert "\n" not in str(info.value) and repr(text) in str(info.value)
    ws, x, y = _off_minimizer((3, 4, 3), 4)
    with pytest.raises(DmfError, match=ENV_VAR):
        sharpness(ws, data=x, labels=y, float64=True)
    assert sharpness(ws, data=x, labels=y, float64=True, threads=1).value > 0  # argument wins


# --------------------------------------------------------------------------- sharpness
@pytest.mark.parametrize("dims, n, spectrum", [
    ((24, 40, 40, 40, 24), 16, False),   # matrix-free Lanczos on the full Hessian
    ((6, 10, 10, 6), 5, True),           # dense eigh of the full Hessian
], ids=["lanczos-full", "dense-full"])
def test_one_and_two_threads_agree_and_method_says_which(
    dims: tuple[int, ...], n: int, spectrum: bool
) -> None:
    ws, x, y = _off_minimizer(dims, n)
    one = sharpness(ws, data=x, labels=y, float64=True, threads=1, spectrum=spectrum)
    two = sharpness(ws, data=x, labels=y, float64=True, threads=2, spectrum=spectrum)
    assert one.route == two.route == "full"
    assert ("Lanczos" in one.method) is (not spectrum)
    v1, v2 = float(one.value), float(two.value)
    assert v1 > 0 and abs(v1 - v2) <= 1e-12 * abs(v1)
    assert "(BLAS threads: 1, set by the threads argument)" in one.method
    assert "(BLAS threads: 2, set by the threads argument)" in two.method
    auto = sharpness(ws, data=x, labels=y, float64=True, spectrum=spectrum)
    assert "(BLAS threads: 1, chosen by size)" in auto.method


def test_the_minimizer_route_and_the_environment_are_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    ws, x, _ = _off_minimizer((4, 6, 4), 5)
    monkeypatch.setenv(ENV_VAR, "2")
    r = sharpness(ws, data=x, labels="product", float64=True)
    assert r.route == "reduced" and f"(BLAS threads: 2, set by {ENV_VAR})" in r.method
    exact = sharpness(ws, data=x, labels="product", dps=20)  # certified: no thread note
    assert "BLAS threads" not in exact.method
    assert abs(float(r.value) - float(exact.value)) <= 1e-9 * float(exact.value)


# --------------------------------------------------------------------------- the command line
def test_oracle_threads_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ws, x, y = _off_minimizer((4, 6, 4), 5)
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"weights": [w.tolist() for w in ws], "data": x.tolist(),
                                "labels": y.tolist()}))
    code = main(["oracle", str(path), "--float64", "--json", "--threads", "1"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert "(BLAS threads: 1, set by the threads argument)" in json.loads(out)["method"]
    code = main(["oracle", str(path), "--float64", "--threads", "x"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "--threads" in err and "'x'" in err


# --------------------------------------------------------------------------- the benchmark
def test_the_threads_benchmark_runs_and_the_settings_agree() -> None:
    """``benchmarks/threads.py --quick`` (not timed: only that it runs, names the BLAS library
    and the load, and that the three settings give the same lambda_max to 1e-12)."""
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "threads.py"), "--quick"],
        cwd=root, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "load average at start" in out and "openblas" in out.lower()
    rows = [line.split() for line in out.splitlines() if line.strip().startswith(("8 ", "16 "))]
    by_width: dict[str, list[float]] = {}
    for row in rows:
        by_width.setdefault(row[0], []).append(float(row[row.index("->") + 2]))
    assert sorted(by_width) == ["16", "8"] and all(len(v) == 3 for v in by_width.values())
    for values in by_width.values():
        assert max(values) - min(values) <= 1e-12 * max(values)
    assert "1, chosen by size" in out
