"""pytest hooks for the package's own doctests (``--doctest-modules``).

A module that needs an optional extra (PyTorch, JAX) cannot be imported without it, and the
doctest collector would turn that ``ImportError`` into a collection *error*. Here such a module
is collected as one visible skip that names the missing extra and how to install it, so the
README's test command passes on a machine with only the ``test`` extra.
"""

from __future__ import annotations

import importlib
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

# module path relative to this folder -> (importable name it needs, extra that installs it)
OPTIONAL_MODULES: dict[str, tuple[str, str]] = {
    "torch.py": ("torch", "torch"),
    "jax.py": ("jax", "jax"),
}


class _MissingExtra(pytest.Module):
    """A module whose optional dependency is absent: collected as a single skip."""

    reason: str = ""

    def collect(self) -> list[Any]:
        pytest.skip(self.reason)


def _missing_extra(file_path: Path) -> str | None:
    try:
        key = file_path.relative_to(Path(__file__).parent).as_posix()
    except ValueError:
        return None
    if key not in OPTIONAL_MODULES:
        return None
    name, extra = OPTIONAL_MODULES[key]
    try:
        importlib.import_module(name)
    except ImportError as exc:
        return (
            f"doctests of numeric/adapters/{key} need the optional extra '{extra}' "
            f"(pip install -e '.[{extra}]'): {exc}"
        )
    return None


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Generator[Any, Any, Any]:
    collectors = yield
    reason = _missing_extra(file_path)
    if reason is None:
        return collectors
    skipper = _MissingExtra.from_parent(parent, path=file_path)
    skipper.reason = reason
    return [skipper]
