"""Many claims on many cores: ``check --jobs N``, ``check --scheduler ADDRESS`` and
``vectors --check --jobs N`` give the same report as one process, in the same order; a crash in
a worker is reported like a crash in-process; Ctrl-C terminates the workers and exits 130.

The checkers planted here live in this module: a worker (a fresh ``spawn`` interpreter with the
parent's ``sys.path``) imports them by name, as it imports the registry's own.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from derivations.errors import DmfError
from numeric.claims.registry import Claim, get_claim
from numeric.claims.runner import ClaimOutcome, run_claims
from numeric.cli import main
from numeric.oracle import vectors
from numeric.parallel import check_jobs, ordered_map

# fast at --quick, and finishing out of registry order with two workers (sum-formula is the
# slowest); one refutation, so a counterexample travels back from a worker too
FAST = ["trace", "upper-bound", "sum-formula", "hessian-rank", "balanced-spectrum",
        "wd-collapse-threshold"]


def _without_timings(report: dict[str, Any]) -> dict[str, Any]:
    report = dict(report)
    report.pop("seconds")
    report["claims"] = [{k: v for k, v in c.items() if k != "seconds"} for c in report["claims"]]
    return report


def _check_json(*extra: str) -> dict[str, Any]:
    args = [sys.executable, "-m", "numeric.cli", "check", "--quick", "--json", "--no-progress"]
    for claim in FAST:
        args += ["--claim", claim]
    proc = subprocess.run([*args, *extra], capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def test_check_report_is_identical_for_one_and_two_jobs() -> None:
    one, two = _check_json("--jobs", "1"), _check_json("--jobs", "2")
    assert [c["id"] for c in two["claims"]] == FAST
    assert "refuted" in {c["verdict"] for c in two["claims"]}
    assert _without_timings(one) == _without_timings(two)


# --- planted checkers (module level: workers import them by name) -------------------------


def _fine(ctx: Any) -> ClaimOutcome:
    return ClaimOutcome("verified", ctx.cases, "exact", f"seed {ctx.seed}, {ctx.claim_id}")


def _raises(ctx: Any) -> ClaimOutcome:
    raise ZeroDivisionError("planted checker bug")


def _dies(ctx: Any) -> ClaimOutcome:
    os._exit(3)  # the worker process disappears mid-claim (a segfault, the OOM killer)


def _planted(name: str, checker: str) -> Claim:
    return Claim(name, f"planted {name}", "tests", "none", "none", f"test_parallel:{checker}")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_checker_that_raises_in_a_worker_is_reported_as_in_process(jobs: int) -> None:
    claims = [_planted("a", "_fine"), _planted("boom", "_raises"), _planted("c", "_fine")]
    report = run_claims(budget="quick", seed=7, progress=False, claims=claims, jobs=jobs)
    assert [c.id for c in report.claims] == ["a", "boom", "c"]
    assert [c.outcome.verdict for c in report.claims] == ["verified", "inconclusive", "verified"]
    assert "ZeroDivisionError: planted checker bug" in report.claims[1].outcome.detail
    assert report.errors == ["boom: ZeroDivisionError: planted checker bug"]
    assert report.claims[2].outcome.detail == "seed 7, c"


def test_a_worker_process_that_dies_is_an_inconclusive_claim_and_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    claims = [_planted("dies", "_dies"), _planted("b", "_fine")]
    report = run_claims(budget="quick", progress=False, claims=claims, jobs=2)
    dead = report.claims[0].outcome
    assert dead.verdict == "inconclusive" and "BrokenProcessPool" in dead.detail
    assert report.errors and report.errors[0].startswith("dies: the worker running it failed")
    assert list(tmp_path.iterdir()) == []  # the dead worker's Hypothesis storage is removed too


def test_ordered_map_keeps_the_order_of_the_items_and_stops_on_an_error() -> None:
    done: list[int] = []
    # the first item is the slowest: with two workers it finishes last
    items = [(0.8, 1), (0.0, 2), (0.0, 3), (0.0, 4)]
    assert ordered_map(_slow_square, items, jobs=2, on_done=done.append) == [1, 4, 9, 16]
    assert sorted(done) == [0, 1, 2, 3] and done[-1] == 0
    with pytest.raises(ZeroDivisionError):
        ordered_map(divmod, [(1, 1), (1, 0)], jobs=2)


def _slow_square(delay: float, x: int) -> int:
    time.sleep(delay)
    return x * x


@pytest.mark.parametrize("bad", [0, -1, "two", "1.5", True])
def test_jobs_must_be_a_whole_number_at_least_one(bad: Any) -> None:
    with pytest.raises(DmfError, match="--jobs must be a whole number >= 1"):
        check_jobs(bad)


def test_bad_jobs_on_the_command_line_is_one_line_and_exit_2(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["check", "--quick", "--jobs", "0"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--jobs" in err


def test_ctrl_c_terminates_the_workers_and_exits_130(tmp_path: Path) -> None:
    """The terminal sends SIGINT to the whole process group: the parent must exit 130 with one
    line, the workers (which ignore SIGINT) must be terminated, not left computing, and their
    temporary Hypothesis storage removed."""
    proc = subprocess.Popen(
        # claims of 10-30 s each at --thorough: still running when Ctrl-C comes
        [sys.executable, "-m", "numeric.cli", "check", "--thorough", "--jobs", "2",
         "--no-progress", "--claim", "spectral-balance-corrected", "--claim", "spectral-balance",
         "--claim", "constant-product-corrected"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env=dict(os.environ, TMPDIR=str(tmp_path)),
    )
    try:
        # two workers and multiprocessing's resource tracker
        _wait_for_children(proc.pid, 3, timeout=30.0)
        time.sleep(2.0)  # the workers import the package and start their first claim
        workers = _children(proc.pid)
        trackers = {w for w in workers if b"resource_tracker" in _cmdline(w)}
        assert len(workers - trackers) == 2 and proc.poll() is None
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["dmf-sharpness check: interrupted"]
    # the parent terminated and joined its workers before exiting (their own guard against a
    # vanished parent would end them only a second later); the tracker follows on its own
    assert not [w for w in workers - trackers if _alive(w)]
    deadline = time.monotonic() + 5.0
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)]
    assert list(tmp_path.iterdir()) == []


def test_workers_leave_when_their_parent_is_killed(tmp_path: Path) -> None:
    """``kill -9`` of ``dmf-sharpness`` (no chance to clean up): its workers notice within a
    second or so and exit instead of computing for nobody. (Their temporary directory is then
    left behind, under the TMPDIR given here.)"""
    proc = subprocess.Popen(
        [sys.executable, "-m", "numeric.cli", "check", "--thorough", "--jobs", "2",
         "--no-progress", "--claim", "spectral-balance-corrected", "--claim", "spectral-balance"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env=dict(os.environ, TMPDIR=str(tmp_path)),
    )
    try:
        _wait_for_children(proc.pid, 3, timeout=30.0)
        time.sleep(2.0)
        workers = {w for w in _children(proc.pid) if b"resource_tracker" not in _cmdline(w)}
        assert len(workers) == 2
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 10.0
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(x) for x in (task / "children").read_text().split()}
        except OSError:
            pass
    return out


def _wait_for_children(pid: int, n: int, *, timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = _children(pid)
        if len(kids) >= n:
            return kids
        time.sleep(0.05)
    pytest.fail(f"fewer than {n} worker processes appeared within {timeout} s")


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited (its parent, killed, cannot reap it)


# --- vectors --check --jobs ---------------------------------------------------------------


def test_vectors_check_reports_the_same_differences_in_order_for_any_jobs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "vectors"
    shutil.copytree(vectors.shipped_directory(), directory)
    for name in ("depth3-square", "depth1-square", "saddle-origin"):  # not in CASES order
        path = directory / f"{name}.json"
        doc = json.loads(path.read_text())
        doc["expected"]["trace"]["exact"] += "1"
        path.write_text(json.dumps(doc))
    outputs = []
    for jobs in ("1", "2"):
        assert main(["vectors", "--check", "--out", str(directory), "--jobs", jobs]) == 1
        outputs.append(capsys.readouterr().err)
    assert outputs[0] == outputs[1]
    named = [line.split(":")[0] for line in outputs[1].splitlines()[:-1]]
    assert named == ["depth1-square", "depth3-square", "saddle-origin"]


# --- the Dask backend ---------------------------------------------------------------------


def test_a_missing_dask_is_one_line_naming_the_extra(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert main(["check", "--quick", "--claim", "trace", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "dask[distributed]" in err and "'dask' extra" in err


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_dask_scheduler_gives_the_same_report_as_one_process() -> None:
    distributed = pytest.importorskip(
        "distributed", reason="the Dask backend needs dask[distributed] (the 'dask' extra)")
    ids = FAST[:4]
    local = run_claims(ids, budget="quick", seed=3, progress=False, jobs=1)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        remote = run_claims(ids, budget="quick", seed=3, progress=False,
                            scheduler=cluster.scheduler_address)
    assert remote.errors == []
    assert _without_timings(remote.to_json()) == _without_timings(local.to_json())


def test_registry_claims_travel_by_id() -> None:
    from numeric.claims.runner import _claim_ref

    assert _claim_ref(get_claim("trace")) == "trace"
    planted = _planted("trace", "_fine")  # same id, not the registry's claim: sent whole
    assert _claim_ref(planted) is planted


# --- what a search draws does not depend on the modules a process has imported ---------------


def _draws() -> list[int]:
    from random import Random

    from hypothesis import Phase, find, settings
    from hypothesis import strategies as st
    from hypothesis.errors import NoSuchExample

    seen: list[int] = []

    def never(x: int) -> bool:
        seen.append(x)
        return False

    conf = settings(max_examples=400, database=None, deadline=None, phases=[Phase.generate])
    with pytest.raises(NoSuchExample):
        find(st.integers(10**6, 10**7), never, settings=conf, random=Random(0))
    return seen


def test_searches_ignore_constants_of_the_modules_imported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hypothesis salts its draws with constants found in the source of the (non-library)
    modules imported so far; a worker has imported other modules than the parent, so a claim
    must not see them (``runner._no_local_constants``)."""
    import importlib

    from numeric.claims.runner import _no_local_constants

    with _no_local_constants():
        before = _draws()
    (tmp_path / "dmf_planted_constants.py").write_text("PLANTED = 1234567\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("dmf_planted_constants")
    with _no_local_constants():
        after = _draws()
    assert before == after and 1234567 not in after
    assert 1234567 in _draws()  # the hazard is real: outside the guard, the constant is drawn


def test_a_planted_claim_with_a_closure_is_refused_in_one_line_for_workers() -> None:
    claim = Claim("closure", "planted", "tests", "none", "none", lambda ctx: _fine(ctx))
    assert run_claims(progress=False, claims=[claim], budget="quick").claims[0].outcome.verdict \
        == "verified"  # in one process a closure is fine
    with pytest.raises(DmfError, match="'closure' cannot be sent to a worker process"):
        run_claims(progress=False, claims=[claim, _planted("b", "_fine")], budget="quick", jobs=2)


@pytest.mark.parametrize(("address", "message"), [
    ("foo", "expects a Dask scheduler address such as tcp://127.0.0.1:8786"),
    ("http://127.0.0.1:8786", "expects a Dask scheduler address"),
    ("tcp://127.0.0.1:1", "no Dask scheduler answers at 'tcp://127.0.0.1:1'"),
], ids=["no-port", "http", "nothing-listening"])
def test_a_bad_scheduler_address_is_one_line_and_exit_2(
        address: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("distributed", reason="the address is read once Dask is installed")
    assert main(["check", "--quick", "--claim", "trace", "--scheduler", address]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err
