"""Argument types shared by the ``dmf-sharpness`` commands (argparse ``type=`` callables).

Public:
    MAX_SEED    the largest seed accepted (2**64 - 1)
    seed        ``--seed``: an ASCII integer in ``0..MAX_SEED``

A type refuses bad text with ``argparse.ArgumentTypeError``; the parser
(``numeric.cli.build_parser``) prints it as one line ``dmf-sharpness CMD: error: ...`` and
exits with status 2.
"""

from __future__ import annotations

import argparse
import re

__all__ = ["MAX_SEED", "seed"]

MAX_SEED = 2**64 - 1
_INTEGER = re.compile(r"[+-]?[0-9]{1,40}")


def seed(text: str) -> int:
    """``--seed``: a non-negative integer (same seed, same run)."""
    t = text.strip()
    value = int(t) if _INTEGER.fullmatch(t) else None
    if value is None or not 0 <= value <= MAX_SEED:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise argparse.ArgumentTypeError(
            f"expected an integer in 0..{MAX_SEED} (2^64 - 1), got {shown!r}"
        )
    return value
