"""The ``vectors`` subcommand of ``dmf-sharpness``: write or check the conformance vectors.

Public:
    register(subparsers)      add the subcommand to the ``dmf-sharpness`` parser
    run_vectors(args)         ``dmf-sharpness vectors --out DIR [--check] [--jobs N]``

Every failure is a ``DmfError``; ``numeric.cli.main`` prints it as one line on stderr and exits
with status 2. ``vectors --check`` exits with status 1 when a regenerated vector differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "run_vectors"]


def register(subparsers: Any) -> None:
    """Add ``vectors`` to the ``dmf-sharpness`` subcommands."""
    v = subparsers.add_parser(
        "vectors",
        help="write (or check) the conformance vectors",
        description=(
            "Write the known-answer conformance vectors (one JSON file per case, input format "
            "plus 'expected'), or with --check regenerate them and compare digit by digit with "
            "the files in --out (default: the set shipped in the package)."
        ),
    )
    v.add_argument("--out", type=Path, metavar="DIR", help="directory to write to (or check)")
    v.add_argument("--check", action="store_true", help="compare instead of writing")
    v.add_argument("--jobs", "-j", type=_jobs, default=1, metavar="N",
                   help="compute the cases in N worker processes (default 1: in this process); "
                        "the same vectors and the same comparison, in the same order")
    v.set_defaults(func=run_vectors)


def run_vectors(args: argparse.Namespace) -> int:
    """``dmf-sharpness vectors``: all cases are computed in memory before anything is written;
    each file is then written atomically (temporary file + ``os.replace``)."""
    from derivations.errors import DmfError, InputFileError
    from numeric.oracle import vectors

    if args.check:
        directory = args.out if args.out is not None else vectors.shipped_directory()
        _check_readable(directory)
        diffs = vectors.check_directory(directory, jobs=args.jobs)
        if diffs:
            for line in diffs:
                print(line, file=sys.stderr)
            print(f"{len(diffs)} difference(s) against {directory}", file=sys.stderr)
            return 1
        print(f"all vectors in {directory} agree digit by digit with a fresh computation")
        return 0
    if args.out is None:
        raise DmfError("vectors needs --out DIR (or --check to compare with the shipped set)")
    generated = vectors.generate_vectors(jobs=args.jobs)
    try:
        paths = vectors.write_vectors(generated, args.out)
    except OSError as exc:
        raise InputFileError(
            f"cannot write the vectors to {args.out}: {exc.strerror or exc}"
            + (f" ({exc.filename})" if exc.filename and str(exc.filename) != str(args.out) else "")
        ) from exc
    print(f"wrote {len(paths)} conformance vectors to {args.out}")
    return 0


def _jobs(text: str) -> int:
    """``--jobs``: a whole number >= 1 (argparse reports anything else in one line)."""
    from derivations.errors import DmfError
    from numeric.parallel import check_jobs

    try:
        return check_jobs(text)
    except DmfError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--jobs ")) from exc


def _check_readable(directory: Path) -> None:
    """``--check DIR``: DIR must exist and hold at least one ``*.json`` vector."""
    from derivations.errors import InputFileError

    if not directory.exists():
        raise InputFileError(
            f"{directory} does not exist; write the vectors there first "
            f"(dmf-sharpness vectors --out {directory}) or omit --out to check the shipped set"
        )
    if not directory.is_dir():
        raise InputFileError(f"{directory} is not a directory (--out names the vectors' directory)")
    try:
        empty = not any(directory.glob("*.json"))
    except OSError as exc:
        raise InputFileError(f"cannot read the directory {directory}: {exc.strerror or exc}") from exc
    if empty:
        raise InputFileError(
            f"{directory} holds no conformance vectors (no *.json files); write them with "
            f"dmf-sharpness vectors --out {directory}"
        )
