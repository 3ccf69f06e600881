"""``dmf-sharpness check``: run the claims registry and print a verdict for every claim.

Public:
    register(subparsers)   add the ``check`` subcommand
    run(args)              its implementation (exit status 0 when the run completed, whatever
                           the verdicts; 1 when a checker crashed; 2 for bad arguments)

Output on stdout, by ``--format``:
    table      (default) one line per claim and per part -- claim, verdict, evidence (exact,
               certified N digits, symbolic, approximate or none), cases, time -- laid out for
               the terminal's width (``COLUMNS``; 100 when stdout is not a terminal), then a
               ``details`` section: each refutation in full (the point exactly, both sides,
               the gap) and each inconclusive verdict's reason
    markdown   the same as a Markdown table with the details as code blocks
    json       the machine-readable report ``{"claims": [...], "seed": ..., "versions": {...},
               ...}`` (``--json`` is the same)
A progress bar (one bar over the claims, advancing as they finish) goes to stderr only when
stderr is a terminal.

Where the claims run: in this process (default), in N worker processes (``--jobs N``), or as
tasks of a ``dask.distributed`` cluster (``--scheduler ADDRESS``; the optional ``dask`` extra).
Every claim is seeded from ``--seed`` and its id and bounded by counts, so the report is the
same in all three, timings aside (``numeric.claims.runner.run_claims``). A worker that crashes
is reported like a checker that crashes (inconclusive with the error; exit status 1). Ctrl-C
terminates the workers and exits with 130.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from derivations.errors import DmfError
from numeric.claims.runner import FORMATS, hypothesis_storage
from numeric.cli import _args

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "check",
        help="decide every claim of the registry (proved / verified / refuted / inconclusive)",
        description=(
            "Run the claims registry (numeric.claims.registry): each claim is proved symbolically, "
            "verified exactly or with certified intervals on generated cases, or refuted by a "
            "shrunk counterexample re-checked exactly; otherwise inconclusive with the reason."
        ),
    )
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--quick", dest="budget", action="store_const", const="quick",
                        help="CI budget (under 2 minutes in total)")
    budget.add_argument("--thorough", dest="budget", action="store_const", const="thorough",
                        help="many more cases and longer searches")
    p.set_defaults(budget="default")
    p.add_argument("--claim", action="append", metavar="ID", default=None,
                   help="check only this claim id (repeatable)")
    p.add_argument("--seed", type=_args.seed, default=0,
                   help="seed of every generator and search (default 0; same seed, same report)")
    p.add_argument("--format", choices=FORMATS, default=None, dest="format",
                   help="output format: table (default; fits the terminal, details below), "
                        "markdown, or json")
    p.add_argument("--json", action="store_true", help="the JSON report (same as --format json)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (there is none anyway when stderr is not a terminal)")
    p.add_argument("--list", action="store_true", help="list the claim ids and exit")
    p.add_argument("--file", metavar="TOML", default=None,
                   help="also decide the [[conjecture]] tables of this TOML file (data, never "
                        "executed): alone, or with --claim selecting among them and the "
                        "built-in claims")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--jobs", "-j", type=_jobs, default=1, metavar="N",
                       help="decide the claims in N worker processes (default 1: in this "
                            "process); the report is the same for any N, timings aside")
    where.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="decide the claims as tasks of the dask.distributed scheduler at "
                            "ADDRESS (e.g. tcp://127.0.0.1:8786; needs the 'dask' extra); the "
                            "same report")
    p.set_defaults(func=run)


def _jobs(text: str) -> int:
    """``--jobs``: a whole number >= 1 (argparse reports anything else in one line)."""
    from numeric.parallel import check_jobs

    try:
        return check_jobs(text)
    except DmfError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--jobs ")) from exc


def _format(args: argparse.Namespace) -> str:
    if args.json and args.format not in (None, "json"):
        raise DmfError(f"--json and --format {args.format} contradict each other; give one")
    return "json" if args.json else args.format or "table"


def run(args: argparse.Namespace) -> int:
    """Hypothesis' storage lives in a temporary directory for the whole run
    (``numeric.claims.runner.hypothesis_storage``): nothing is written in the working
    directory; ``HYPOTHESIS_STORAGE_DIRECTORY``, when set, is the user asking for a place."""
    with hypothesis_storage():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from numeric.claims.registry import CLAIMS, select_claims
    from numeric.claims.runner import run_claims

    pool, ids = list(CLAIMS), args.claim
    if args.file is not None:
        from numeric.conjecture.file import load_conjectures

        mine = load_conjectures(args.file)
        pool += mine
        ids = args.claim or [c.id for c in mine]  # the file's conjectures alone by default
    if args.list:
        for c in pool:
            print(f"{c.id}: {c.statement}")
        return 0
    if args.claim:
        select_claims(args.claim, pool)  # unknown ids raise DmfError (exit 2, valid ids listed)
    fmt = _format(args)
    report = run_claims(ids, budget=args.budget, seed=args.seed, claims=pool,
                        progress=not args.no_progress, jobs=args.jobs, scheduler=args.scheduler)
    if fmt == "json":
        json.dump(report.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif fmt == "markdown":
        print(report.markdown())
    else:
        print(report.table())
    for err in report.errors:
        print(f"dmf-sharpness check: internal error: {err}", file=sys.stderr)
    return 1 if report.errors else 0
