"""The notebooks in ``notebooks/`` run top to bottom and stay tidy.

Each notebook is executed with ``nbclient`` in the ``python3`` kernel of the interpreter running
the tests (``jupyter_client`` starts the ``python3`` kernelspec with ``sys.executable``, i.e. the
venv's python with its ipykernel); a probe cell appended to the in-memory copy checks that the
kernel really runs that interpreter. The kernel's working directory is a temporary one; the
committed files are never rewritten here.

A notebook fails if a cell raises, if it runs longer than ``NOTEBOOK_TIMEOUT`` seconds in total
(the per-cell timeout is the time left), if it writes to stderr (warnings included), if it shows
no figure, or if it does not end with its "What this showed" summary. The committed files must
carry outputs (so they render on a code host) and no volatile metadata (``notebooks/_strip.py``).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is in the 'test' extra")
nbclient = pytest.importorskip("nbclient", reason="nbclient is in the 'test' extra")
pytest.importorskip("ipykernel", reason="ipykernel (the python3 kernel) is in the 'test' extra")
KernelManager = pytest.importorskip("jupyter_client.manager").KernelManager

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
NOTEBOOK_TIMEOUT = 240.0
"""Seconds one notebook may take in total (all five together take well under 5 minutes on an
idle machine; this is the ceiling on a loaded one)."""

pytestmark = pytest.mark.notebooks

_PROBE = "import json, sys\nprint(json.dumps({'executable': sys.executable, 'prefix': sys.prefix}))"


def _strip_module() -> Any:
    spec = importlib.util.spec_from_file_location("_nb_strip", NB_DIR / "_strip.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _outputs(nb: Any) -> list[Any]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _figures(nb: Any) -> int:
    return sum("image/png" in o.get("data", {}) for o in _outputs(nb))


def test_the_seven_notebooks_exist() -> None:
    stems = [p.stem for p in NOTEBOOKS]
    for prefix in ("01_", "02_", "03_", "04_", "05_", "06_", "07_"):
        assert any(s.startswith(prefix) for s in stems), f"no notebook {prefix}*.ipynb in {stems}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_is_stripped_and_has_outputs(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    assert _strip_module().stripped_text(nbformat.reads(text, as_version=4)) == text, (
        f"{path.name} carries volatile metadata; run: python notebooks/_strip.py {path.name}"
    )
    code = [c for c in nb.cells if c.cell_type == "code"]
    unexecuted = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.execution_count is None]
    assert code and not unexecuted, f"{path.name}: cells {unexecuted} were committed without outputs"
    assert _figures(nb) >= 1, f"{path.name}: the committed notebook shows no figure"


def _execute(nb: Any, workdir: Path) -> float:
    """Execute ``nb`` in place in a fresh ``python3`` kernel; return the seconds it took."""
    deadline = time.monotonic() + NOTEBOOK_TIMEOUT

    def time_left(_cell: Any) -> int:
        return max(1, int(deadline - time.monotonic()))

    with tempfile.TemporaryDirectory(prefix="nbk") as sockets:
        # IPC sockets instead of TCP ports: no port races with other kernels on the machine
        km = KernelManager(kernel_name="python3", transport="ipc", ip=f"{sockets}/kernel")
        client = nbclient.NotebookClient(
            nb,
            km=km,
            kernel_name="python3",
            timeout_func=time_left,
            resources={"metadata": {"path": str(workdir)}},  # must stay empty
        )
        started = time.monotonic()
        client.execute(cleanup_kc=True)  # we own the kernel manager: shut the kernel down
        return time.monotonic() - started


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path: Path, tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_PROBE))
    elapsed = _execute(nb, tmp_path)
    assert elapsed <= NOTEBOOK_TIMEOUT, f"{path.name} took {elapsed:.0f} s"
    left = sorted(p.name for p in tmp_path.iterdir())
    assert not left, f"{path.name} wrote {left} in its working directory (e.g. Hypothesis' storage)"

    probe = json.loads(nb.cells[-1].outputs[0]["text"])
    assert Path(probe["prefix"]).resolve() == Path(sys.prefix).resolve(), (
        f"{path.name} ran in {probe['executable']}, not in this interpreter's environment "
        f"{sys.prefix}"
    )
    nb.cells.pop()

    stderr = [o["text"] for o in _outputs(nb) if o.get("name") == "stderr"]
    assert not stderr, f"{path.name} wrote to stderr (a warning?): {stderr[0][:500]}"
    assert _figures(nb) >= 1, f"{path.name} shows no figure"
    last = nb.cells[-1]
    assert last.cell_type == "markdown" and last.source.startswith("## What this showed"), (
        f"{path.name} must end with a '## What this showed' summary"
    )


def test_oracle_notebook_without_torch_says_so(tmp_path: Path) -> None:
    """Notebook 05 with PyTorch and JAX hidden from the kernel: no error, visible skip messages."""
    (path,) = [p for p in NOTEBOOKS if p.stem.startswith("05_")]
    nb = nbformat.read(path, as_version=4)
    hide = ("import sys\nsys.modules['torch'] = None  # as if PyTorch were not installed\n"
            "sys.modules['jax'] = None  # and JAX")
    nb.cells.insert(0, nbformat.v4.new_code_cell(hide))
    _execute(nb, tmp_path)
    text = "".join(o.get("text", "") for o in _outputs(nb))
    assert "SKIPPED: PyTorch is not installed" in text
    assert text.count("skipped: PyTorch is not installed") >= 3
    assert "skipped: JAX is not installed" in text
    assert _figures(nb) >= 1, "the conformance-vector figure needs no PyTorch"
