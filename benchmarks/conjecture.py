"""Time the conjecture command's decisions: the README's worked examples and a 60-case run.

    .venv/bin/python benchmarks/conjecture.py [--budget quick|default|thorough] [--seed N]

Each line is one decision (``numeric.conjecture.conjecture(...).outcome()``) with its verdict,
cases and wall time; the load average is printed before and after (the machine is shared:
times are only comparable within one run). The target: a conjecture over 60 cases at depth
<= 4, width <= 3 decides in <= 30 s at the default budget on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from numeric.conjecture import conjecture

SUM = "sum(norm2(A[l])**2 * norm2(B[l])**2 for l in layers)"
EXAMPLES = [
    ("true bound (K7 floor)", "lambda_max >= L * s[1]**(2*(L-1)/L)", {"depth": "1..4"}),
    ("false: the sum formula at depth 3", f"lambda_max == {SUM}", {"depth": "3..3"}),
    ("implication: scalar ends", f"lambda_max == {SUM}",
     {"depth": "1..4", "if_": "d[0] == 1 and d[L] == 1"}),
    ("polynomial identity (K3)", "trace == sum(fro(A[l])**2 * fro(B[l])**2 for l in layers)",
     {"depth": "1..2", "width": "1..2"}),
    ("60 cases, depth <= 4, width <= 3", f"lambda_max <= {SUM}", {"depth": "1..4", "width": "1..3"}),
]
TARGET_SECONDS = 30.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="default", choices=["quick", "default", "thorough"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(f"load at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'example':36} {'verdict':12} {'cases':>5} {'seconds':>8}")
    timings = []
    for label, statement, options in EXAMPLES:
        t0 = time.perf_counter()
        claim = conjecture(statement, budget=args.budget, seed=args.seed, **options)
        out = claim.outcome()
        seconds = time.perf_counter() - t0
        timings.append((label, out.cases, seconds))
        print(f"{label:36} {out.verdict:12} {out.cases:5d} {seconds:8.2f}")
    label, cases, seconds = timings[-1]
    met = "met" if seconds <= TARGET_SECONDS else "MISSED"
    print(f"target: {cases} cases at depth <= 4, width <= 3 in <= {TARGET_SECONDS:.0f} s "
          f"({args.budget} budget): {seconds:.1f} s, {met}")
    print(f"load at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
