"""The layout's promises: the dependency direction is one way, the public faces resolve, and
importing the packages stays cheap."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import derivations
import numeric

ROOT = Path(__file__).resolve().parents[1]
MATH_MODULES = [p for p in (ROOT / "numeric").glob("*.py") if p.name != "__init__.py"]
SUBPACKAGES = ("claims", "conjecture", "dynamics", "oracle", "adapters", "cli")
MATH_ROOMS = ("evaluators", "regularized")
"""Subpackages of the mathematics level: they obey its rule (no subpackage by responsibility)."""
MATH_LEVEL = MATH_MODULES + [p for room in MATH_ROOMS for p in (ROOT / "numeric" / room).glob("*.py")]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


@pytest.mark.parametrize("path", sorted((ROOT / "derivations").rglob("*.py")), ids=lambda p: p.name)
def test_derivations_never_imports_numeric(path: Path) -> None:
    bad = sorted(m for m in _imports(path) if m == "numeric" or m.startswith("numeric."))
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize("path", sorted(MATH_LEVEL), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_mathematics_never_imports_a_subpackage(path: Path) -> None:
    bad = sorted(m for m in _imports(path)
                 if any(m == f"numeric.{s}" or m.startswith(f"numeric.{s}.") for s in SUBPACKAGES))
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_top_level_stays_small_and_no_module_is_huge() -> None:
    assert len(MATH_MODULES) <= 15
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines())
             for pkg in ("numeric", "derivations") for p in (ROOT / pkg).rglob("*.py")}
    assert max(sizes.values()) <= 900, max(sizes.items(), key=lambda kv: kv[1])


@pytest.mark.parametrize("package", [numeric, derivations], ids=lambda m: m.__name__)
def test_every_public_name_resolves(package: object) -> None:
    for name in package.__all__:  # type: ignore[attr-defined]
        assert getattr(package, name) is not None, name


def test_importing_the_packages_does_not_import_sympy_or_torch() -> None:
    code = ("import sys, numeric, derivations; "
            "print(sorted(m for m in ('sympy', 'torch', 'hypothesis') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
