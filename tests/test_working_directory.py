"""Nothing is written in the working directory unless the user asked (README): no ``.hypothesis``
folder (Hypothesis' example database, constants cache, Unicode tables) from the Python API that
runs Hypothesis, nor from the test suite itself.

Each check runs in a fresh interpreter whose working directory is an empty temporary one.
In-process checks would prove nothing: Hypothesis fixes its default storage
(``<cwd>/.hypothesis``) when it is imported, and in this session ``tests/conftest.py`` has
already pointed it at a temporary directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    """This environment, with the checkout importable and no storage place asked for."""
    env = dict(os.environ)
    env.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _contents(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


def test_conjecture_check_writes_nothing_in_the_working_directory(tmp_path: Path) -> None:
    """``numeric.conjecture.check`` runs its whole Hypothesis search (a true statement: H is
    positive semidefinite at a minimizer, so no counterexample ends it early) and writes nothing
    where it runs."""
    script = textwrap.dedent("""
        import numeric.conjecture as c
        report = c.check("lambda_max <= trace", depth="1..2", width="1..2", budget="quick")
        print(report["verdict"])
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["verified"], done.stdout
    assert _contents(tmp_path) == []


def test_the_test_suite_writes_nothing_in_the_working_directory(tmp_path: Path) -> None:
    """One of the project's own Hypothesis test files, run by pytest with its conftest, from an
    empty working directory that is also the rootdir: neither that directory nor the checkout
    gains a ``.hypothesis``."""
    had_one = (ROOT / ".hypothesis").exists()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         f"--rootdir={tmp_path}", "-c", str(ROOT / "pyproject.toml"),
         str(ROOT / "tests" / "test_strategies.py"), "-k", "dims or rational_matrices"],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert " passed" in done.stdout, done.stdout[-2000:]
    assert _contents(tmp_path) == []
    assert had_one or not (ROOT / ".hypothesis").exists()
