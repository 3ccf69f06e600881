"""Strip volatile metadata from the notebooks so that re-executing them changes only outputs.

Usage (from the repository root):

    .venv/bin/python notebooks/_strip.py notebooks/*.ipynb      # rewrite in place
    .venv/bin/python notebooks/_strip.py --check notebooks/*.ipynb   # exit 1 if any would change
    .venv/bin/python notebooks/_strip.py --execute notebooks/NAME.ipynb   # re-run, then strip

``--execute`` runs the notebook top to bottom with ``nbclient`` in the ``python3`` kernel of this
interpreter (IPC sockets, a temporary working directory) and writes it back with its new outputs.

What is kept: cell sources, outputs (text, PNG figures), execution counts, and a minimal,
version-free kernelspec (``python3``) so that Jupyter knows which kernel to start.
What is removed: ``language_info`` (Python version), kernel display names, widget state,
execution timing (``metadata.execution``), ``collapsed``/``scrolled`` flags, and random cell ids
(replaced by ``cell-01``, ``cell-02``, ...). The file is written with sorted keys and a final
newline, as ``nbformat`` does.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat

__all__ = ["KERNELSPEC", "execute_notebook", "main", "strip_notebook", "stripped_text"]

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
"""The only notebook-level metadata kept (the venv's ``python3`` kernel from ipykernel)."""

_OUTPUT_METADATA_KEEP = ("image/png",)


def _strip_output(out: Any) -> None:
    if "metadata" in out:
        kept = {k: v for k, v in out["metadata"].items() if k in _OUTPUT_METADATA_KEEP}
        out["metadata"] = nbformat.from_dict(kept)
    if out.get("output_type") == "execute_result":
        out["metadata"] = out.get("metadata", nbformat.from_dict({}))


def strip_notebook(nb: Any) -> Any:
    """Remove volatile metadata from ``nb`` (a ``nbformat.NotebookNode``) in place; return it."""
    nb.metadata = nbformat.from_dict({"kernelspec": dict(KERNELSPEC)})
    nb.nbformat, nb.nbformat_minor = 4, 5
    for i, cell in enumerate(nb.cells, start=1):
        cell["id"] = f"cell-{i:02d}"
        cell["metadata"] = nbformat.from_dict({})
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                _strip_output(out)
    return nb


def stripped_text(nb: Any) -> str:
    """The stripped notebook as the text written to disk."""
    return nbformat.writes(strip_notebook(nb)) + "\n"


def execute_notebook(nb: Any, *, timeout: int = 600) -> Any:
    """Execute ``nb`` in place in a fresh ``python3`` kernel of this interpreter; return it."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory(prefix="nbk") as tmp:
        km = KernelManager(kernel_name="python3", transport="ipc", ip=f"{tmp}/kernel")
        client = NotebookClient(
            nb, km=km, kernel_name="python3", timeout=timeout, resources={"metadata": {"path": tmp}}
        )
        client.execute(cleanup_kc=True)
    return nb


def main(argv: list[str]) -> int:
    check = "--check" in argv
    execute = "--execute" in argv
    paths = [Path(a) for a in argv if a not in ("--check", "--execute")]
    changed = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
        if execute and not check:
            print(f"executing {path} ...")
            execute_notebook(nb)
        new = stripped_text(nb)
        if new != text:
            changed.append(str(path))
            if not check:
                path.write_text(new, encoding="utf-8")
    if changed:
        print(("would change: " if check else "stripped: ") + ", ".join(changed))
    return 1 if (check and changed) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
