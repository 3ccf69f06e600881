"""README's weight-decay and PyTorch-file examples run as written.

Every command of the README's weight-decay sections is run from a temporary directory with the
installed ``dmf-sharpness`` on ``PATH``:

* a ``console`` block (``$ command`` lines followed by what they print) must print exactly what
  the README shows (trailing spaces aside);
* an indented line starting with ``dmf-sharpness`` must exit with status 0.

So a README example that drifts from the program fails here, with the command and both texts.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
SECTIONS = ("Weight decay", "Files from PyTorch")
"""Headings (prefixes, any level) whose examples are run: their subsections are included."""


@dataclass(frozen=True)
class Example:
    section: str
    commands: tuple[str, ...]
    """Shell lines run in order in one directory (earlier ones prepare files)."""
    output: str | None
    """What the last command prints, as the README shows it; ``None``: only exit status 0."""


def _sections(text: str) -> list[tuple[str, str]]:
    """``(heading, body)`` of each README section whose heading starts with one of SECTIONS,
    the body running to the next heading of the same or a higher level."""
    heads = [(m.start(), len(m.group(1)), m.group(2)) for m in
             re.finditer(r"^(#+) (.*)$", text, flags=re.M)]
    out: list[tuple[str, str]] = []
    covered = 0
    for i, (start, level, title) in enumerate(heads):
        if start < covered or not title.startswith(SECTIONS):
            continue
        covered = next((s for s, lv, _ in heads[i + 1:] if lv <= level), len(text))
        out.append((title, text[start:covered]))
    return out


def _console_examples(title: str, body: str) -> list[Example]:
    out = []
    for block in re.findall(r"^```console\n(.*?)^```", body, flags=re.M | re.S):
        setup: list[str] = []
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            cmd = lines[i].removeprefix("$ ")
            i += 1
            shown = []
            while i < len(lines) and not lines[i].startswith("$ "):
                shown.append(lines[i])
                i += 1
            if shown:
                out.append(Example(title, (*setup, cmd), "\n".join(shown)))
            setup.append(cmd)
    return out


def _indented_examples(title: str, body: str) -> list[Example]:
    body = re.sub(r"^```.*?^```", "", body, flags=re.M | re.S)
    return [Example(title, (line.strip(),), None)
            for line in body.splitlines() if line.startswith("    dmf-sharpness ")]


def _examples() -> list[Example]:
    text = README.read_text(encoding="utf-8")
    out: list[Example] = []
    for title, body in _sections(text):
        out += _console_examples(title, body) + _indented_examples(title, body)
    return out


EXAMPLES = _examples()


def _run(commands: tuple[str, ...], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="100", PYTHONHASHSEED="0")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return subprocess.run(["bash", "-c", " && ".join(commands)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def _tidy(text: str) -> str:
    """Trailing spaces aside, and a run time such as ``; 1.7s)`` read as ``; <time>)``."""
    text = re.sub(r"; \d+(\.\d+)?s\)", "; <time>)", text)
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def test_the_weight_decay_sections_have_examples() -> None:
    assert len(EXAMPLES) >= 4, [e.commands for e in EXAMPLES]
    assert any(e.output is not None for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: shlex.split(e.commands[-1])[1]
                         + ":" + e.commands[-1][-40:])
def test_readme_example_runs_as_written(example: Example, tmp_path: Path) -> None:
    done = _run(example.commands, tmp_path)
    assert done.returncode == 0, (example.commands, done.stderr)
    if example.output is not None:
        assert _tidy(done.stdout) == _tidy(example.output), example.commands


def test_the_collapsed_json_example_says_what_the_readme_says(tmp_path: Path) -> None:
    """README: with ``--weight-decay 2`` (above both thresholds) the JSON has ``"collapsed":
    true``, every weight exactly ``"0"`` and ``"lambda_max": "2"``."""
    import json

    cmd = 'dmf-sharpness regularized --dims 2,2,2,2 --target "1,1/2;0,2" --weight-decay 2 --json'
    assert any(e.commands == (cmd,) for e in EXAMPLES)
    doc = json.loads(_run((cmd,), tmp_path).stdout)
    assert doc["collapsed"] is True
    assert {x for w in doc["weights"] for row in w for x in row} == {"0"}
    assert doc["lambda_max"] == "2"
