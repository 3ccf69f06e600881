"""``dmf-sharpness conjecture``: decide a conjecture typed by the user (``numeric.conjecture``).

Public:
    register(subparsers)   add the ``conjecture`` subcommand
    run(args)              its implementation: exit status 0 whatever the verdict, 2 for a bad
                           statement or argument (one line on stderr, then the statement with a
                           caret line under the offending token), 1 if the engine crashed (the
                           verdict is then inconclusive with the error)

Output: a short report (verdict, cases, evidence, the counterexample written out exactly with
both sides) or, with ``--json``, the JSON of one claim of ``dmf-sharpness check --json`` plus
``undefined`` and ``hypothesis_held``. Example::

    dmf-sharpness conjecture "lambda_max <= sum(norm2(A[l])**2 * norm2(B[l])**2 for l in layers)"

Weight decay (``--weight-decay LAM``, exact, ``>= 0``): the statement is about
``L_lam = 1/2 ||W_L...W_1 X - Y||_F^2 + (lam/2) sum_l ||W_l||_F^2``: ``H = H_0 + lam I``, so
``lambda_max``, ``lambda_min``, ``trace``, ``rank`` are those of ``H_lam``, ``loss`` is ``L_lam``
and the name ``lam`` is ``LAM`` (0 without the flag). ``--over regularized-minimizers`` decides
it over exact global minimizers of ``L_lam`` (``lam`` drawn per point without the flag; 0 is
refused)::

    dmf-sharpness conjecture "lambda_min >= 0" --over regularized-minimizers --weight-decay 1/4
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    from numeric.conjecture.families import ENDS, FAMILIES

    p = subparsers.add_parser(
        "conjecture",
        help="decide your own conjecture about the sharpness (proved / verified / refuted / "
             "inconclusive)",
        description=(
            "Decide a statement 'EXPR REL EXPR' (REL: == <= < >= >, relations joined by 'and') "
            "about the points of a family, with the engine of 'dmf-sharpness check': a seeded "
            "Hypothesis search for a counterexample (shrunk, re-checked exactly), otherwise "
            "exact or certified verification on generated cases (polynomial identities over a "
            "small range of dims are proved by exact expansion). Vocabulary: lambda_max, "
            "lambda_min, trace, rank, loss, L, P, d[l]; W[l], A[l], B[l], M, X, Y, H, K; "
            "norm2, fro, sigma(m, i), s[i], rank(m), tr, lmax, lmin, @, .T, sqrt, abs, max, "
            "min; sum/prod/max/min(... for l in layers); lam (the weight decay). Layers are "
            "1-based. With --weight-decay LAM the statement is about the regularized loss "
            "L_lam = 1/2 ||W_L...W_1 X - Y||_F^2 + (LAM/2) sum_l ||W_l||_F^2: H = H_0 + LAM I "
            "(lambda_max, lambda_min, trace, rank of it), loss = L_lam."
        ),
    )
    p.add_argument("statement", help='the conjecture, e.g. "lambda_max >= L * s[1]**(2*(L-1)/L)"')
    p.add_argument("--if", dest="hypothesis", metavar="REL", default=None,
                   help="a hypothesis: only points where it holds exactly count")
    p.add_argument("--over", default="minimizers", choices=list(FAMILIES),
                   help="the point family (default: minimizers)")
    p.add_argument("--depth", default="1..3", metavar="a..b", help="depth range (default 1..3)")
    p.add_argument("--width", default="1..3", metavar="a..b", help="width range (default 1..3)")
    p.add_argument("--ends", default="any", choices=list(ENDS),
                   help="end widths: any, matrix (d_0, d_L >= 2), scalar (d_0 = d_L = 1), "
                        "one-scalar (exactly one of them 1)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--quick", dest="budget", action="store_const", const="quick",
                        help="12 cases, a short search")
    budget.add_argument("--thorough", dest="budget", action="store_const", const="thorough",
                        help="300 cases, a long search")
    p.set_defaults(budget="default")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0; same seed, same report)")
    p.add_argument("--dps", type=int, default=30,
                   help="digits of the certified enclosures reported (default 30)")
    p.add_argument("--weight-decay", default=None, metavar="LAM",
                   help="weight decay lam >= 0 (exact: 2, 0.01, 1/3): H, lambda_max, "
                        "lambda_min, trace, rank and loss are those of L_lam; the name lam is "
                        "LAM (default: none, lam = 0; over regularized-minimizers each point "
                        "then draws its own lam in (0, 1])")
    p.add_argument("--json", action="store_true", help="print the JSON report on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from numeric.claims.runner import hypothesis_storage
    from numeric.conjecture.claim import conjecture

    claim = conjecture(
        args.statement, if_=args.hypothesis, over=args.over, depth=args.depth,
        width=args.width, ends=args.ends, seed=args.seed, budget=args.budget, dps=args.dps,
        weight_decay=args.weight_decay,
    )
    with hypothesis_storage():
        claim.outcome()
    if args.json:
        json.dump(claim.report(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(claim.text_report())
    if claim.error:
        print(f"dmf-sharpness conjecture: internal error: {claim.error}", file=sys.stderr)
        return 1
    return 0
