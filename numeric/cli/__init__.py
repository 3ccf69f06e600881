"""The ``dmf-sharpness`` command line: one module per command.

    check     decide every claim of the registry
    oracle    the sharpness of the point in a file, certified
    vectors   write or check the conformance vectors
    escape    ``escape`` and ``escape-sweep``: gradient descent near a minimizer

Each module exposes ``register(subparsers) -> None``; the module names are listed in
``_SUBCOMMAND_MODULES`` (add yours there). Errors raised as ``DmfError`` print one clear line on
stderr and exit with status 2. May import everything in ``numeric`` and ``derivations``; nothing
imports it (it is the top of the dependency order).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from derivations.errors import DmfError
from numeric import __version__

__all__ = ["build_parser", "main"]

_SUBCOMMAND_MODULES: list[str] = [
    "numeric.cli.check", "numeric.cli.oracle", "numeric.cli.vectors", "numeric.cli.escape",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dmf-sharpness",
        description=(
            "Sharpness (largest Hessian eigenvalue) of the squared loss "
            "0.5*||W_L...W_1 X - Y||_F^2 of deep matrix factorization: checker and oracle."
        ),
    )
    parser.add_argument("--version", action="version", version=f"dmf-sharpness {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except DmfError as exc:
        print(f"dmf-sharpness {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
