"""Benchmarks: how fast is dmf-sharpness against the ways users compute sharpness today?

Run from the repository root:

    python benchmarks/run.py                       # default sizes, table on stdout
    python benchmarks/run.py --sizes small         # the smoke-test sizes (seconds)
    python benchmarks/run.py --json out.json --plot out.png
    python benchmarks/run.py --only autograd,hvp --repeat 7 --cap 120
    python benchmarks/run.py --only offmin,trajectory   # off minimizers and along training

Every method runs in this one process on the same inputs (seeded). For each input the table
gives the median time of ours and of theirs, the **speed-up** ``their time / our time`` and the
number of leading decimal digits on which the two sharpness values agree. Each method runs
``--repeat`` times, calls faster than a few milliseconds more often (until 0.25 s in all, at
most 50 runs) so that their median is not one load spike. Baselines that pass
``--cap`` seconds are interrupted and reported as ``> cap`` (the speed-up is then a lower
bound). Both NumPy/SciPy and PyTorch get the same number of threads (``--threads``, default 1:
on a shared machine this keeps the comparison fair and the numbers stable).

What is timed (``benchmarks/suites.py`` and ``benchmarks/baselines.py`` say exactly):
ours is the public API, ``numeric.sharpness.sharpness``, end to end from the weights; theirs
is what a user writes: torch autograd full Hessian + ``eigvalsh``; ARPACK Lanczos on torch
Hessian-vector products; PyHessian-style power iteration; mpmath ``eigsy`` on the full
Hessian; SymPy ``hessian`` of the loss expression.

Two more suites run only when named with ``--only`` (at the default sizes they take about 6 and
2 minutes, more than the rest of the default run together; ``--sizes small`` takes seconds):
``offmin`` (``benchmarks/offmin.py``: one float64 ``lambda_max`` off minimizers and at exact
minimizers against the fastest of the HVP + ``eigsh`` baselines of
``benchmarks/hvp_baselines.py`` and the plain-NumPy limit, and a width sweep with growth
exponents) and ``trajectory`` (``benchmarks/trajectory.py``: ``SharpnessTracker`` over a
200-step gradient-descent run against the fastest baseline warm-started with ``eigsh(k=1,
v0=previous eigenvector)``). Each prints its thread setting and the load average before and
after every table; a baseline that is not installed is reported with its install command.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
DEFAULT_SUITES = ("autograd", "hvp", "mpmath", "symbolic", "scaling")
SUITE_NAMES = (*DEFAULT_SUITES, "offmin", "trajectory")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Time dmf-sharpness against torch autograd, HVP Lanczos/power iteration, "
                    "mpmath eigsy and plain SymPy, side by side in one process.")
    p.add_argument("--sizes", choices=("small", "default", "large"), default="default",
                   help="problem sizes (small: the smoke test, seconds; default: a few minutes)")
    p.add_argument("--repeat", type=int, default=5,
                   help="runs per method and size; the median is reported (slow methods stop "
                        "repeating after --budget seconds)")
    p.add_argument("--cap", type=float, default=60.0,
                   help="interrupt a run after this many seconds and report '> cap'")
    p.add_argument("--budget", type=float, default=20.0,
                   help="stop repeating a method once its runs took this many seconds")
    p.add_argument("--only", default=",".join(DEFAULT_SUITES),
                   help=f"comma-separated suites to run, from {', '.join(SUITE_NAMES)} "
                        f"(default: {','.join(DEFAULT_SUITES)}; offmin and trajectory only "
                        "when named)")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS/OpenMP and torch threads for every method (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    p.add_argument("--json", metavar="FILE", help="also write all results as JSON to FILE")
    p.add_argument("--plot", metavar="FILE.png", help="also draw time vs size to FILE.png")
    p.add_argument("--profile", action="store_true",
                   help="after each suite, cProfile our call at its largest size (top functions)")
    p.add_argument("--markdown", action="store_true",
                   help="print the tables as Markdown (for the README)")
    args = p.parse_args(argv)
    unknown = set(args.only.split(",")) - set(SUITE_NAMES)
    if unknown:
        p.error(f"unknown suite(s) {sorted(unknown)}; choose from {', '.join(SUITE_NAMES)}")
    if args.repeat < 1 or args.cap <= 0 or args.threads < 1:
        p.error("--repeat and --threads must be >= 1 and --cap > 0")
    return args


def set_threads(n: int) -> None:
    """Pin every numeric library to ``n`` threads (XLA too). Must run before NumPy is imported."""
    for var in _THREAD_VARS:
        os.environ[var] = str(n)
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                          f"intra_op_parallelism_threads={n}")
    try:
        import torch

        torch.set_num_threads(n)
        torch.set_num_interop_threads(n)
    except (ImportError, RuntimeError):
        pass


# --------------------------------------------------------------------------- formatting
def _sec(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:.3g}"


def _time_cell(t: Any) -> str:
    if t is None:
        return "-"
    if t.status == "capped":
        return f"> {t.seconds:g}"
    if t.status != "ok":
        return t.status
    return _sec(t.seconds)


def _speedup_cell(row: Any) -> str:
    s = row.speedup
    if s is None:
        return "-"
    text = f"{s:.3g}x" if s < 100 else f"{s:.0f}x"
    return ("> " + text) if row.speedup_is_lower_bound else text


def _digits_cell(row: Any) -> str:
    if row.digits is None:
        return "-"
    if math.isinf(row.digits):
        return "exact"
    return f"{row.digits:.1f}"


def _baseline_rows(rows: list[Any]) -> list[list[str]]:
    out = []
    for r in rows:
        out.append([str(r.dims), str(r.params), str(r.n), _time_cell(r.ours), r.theirs.method
                    if r.theirs else "-", _time_cell(r.theirs), _speedup_cell(r),
                    _digits_cell(r)])
    return out


BASELINE_HEADER = ["dims", "P", "d_L*d_0", "ours [s]", "baseline", "theirs [s]",
                   "speed-up (theirs/ours)", "agreeing digits"]


def _scaling_tables(rows: list[Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """One table per scaling kind: total and parts (seconds), and how K was solved."""
    out = []
    titles = {"scaling-hidden": "float64, hidden width grows at fixed d_0 = d_L",
              "scaling-ends": "float64, d_L d_0 grows at fixed hidden width",
              "scaling-certified": "certified (50 digits), hidden width grows at fixed d_0 = d_L"}
    for kind, title in titles.items():
        sel = [r for r in rows if r.suite == kind]
        if not sel:
            continue
        labels: list[str] = []
        for r in sel:
            labels += [k for k in r.ours.parts if k not in labels]
        header = ["dims", "P", "d_L*d_0", "total [s]", *[f"{k} [s]" for k in labels]]
        if kind != "scaling-certified":
            header.append("eigen method")
        body = []
        for r in sel:
            line = [str(r.dims), str(r.params), str(r.n), _time_cell(r.ours),
                    *[_sec(r.ours.parts.get(k)) for k in labels]]
            if kind != "scaling-certified":
                line.append(r.ours.note)
            body.append(line)
        out.append((title, header, body))
    return out


def format_table(header: list[str], body: list[list[str]], *, markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), fmt.format(*("-" * w for w in widths)),
                      *(fmt.format(*row) for row in body)])


def print_notes(rows: list[Any]) -> None:
    for r in rows:
        for t in (r.ours, r.theirs):
            if t is not None and t.status in ("error", "unavailable"):
                print(f"  note {r.dims} {t.method}: {t.status}: {t.note}")
        if r.agreement:
            print(f"  {r.dims}: {r.agreement}")


def profile_largest(rows: list[Any], top: int = 14) -> None:
    """cProfile our call on the largest input of each kind of row: where does the time go?"""
    import cProfile
    import io
    import pstats

    for kind in dict.fromkeys(r.suite for r in rows):
        sel = [r for r in rows if r.suite == kind and r.ours_fn is not None]
        if not sel:
            continue
        row = max(sel, key=lambda r: r.params)
        prof = cProfile.Profile()
        prof.runcall(row.ours_fn)
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out).sort_stats("cumulative")
        stats.print_stats(top)
        text = out.getvalue()
        body = text[text.find("ncalls"):] if "ncalls" in text else text
        print(f"\n  profile of ours at {row.dims} ({kind}), by cumulative time:")
        print("\n".join("    " + line for line in body.rstrip().splitlines()))


# --------------------------------------------------------------------------- targets
def _closest(rows: list[Any], p: float, lo: float, hi: float) -> Any:
    ok = [r for r in rows if lo <= r.params <= hi]
    return min(ok, key=lambda r: abs(math.log(r.params / p)), default=None)


def _speed_target(row: Any, goal: float, digits: float) -> dict[str, Any]:
    if row is None or row.speedup is None:
        return {"measured": None, "met": None}
    met = row.speedup >= goal and (row.digits or 0) >= digits
    bound = "> " if row.speedup_is_lower_bound else ""
    return {"dims": list(row.dims), "parameters": row.params, "speedup": row.speedup,
            "digits": row.digits, "met": met,
            "measured": f"{bound}{row.speedup:.3g}x at P = {row.params} {row.dims}, "
                        f"{_digits_cell(row)} agreeing digits"}


def evaluate_targets(rows: list[Any], dps: int) -> list[dict[str, Any]]:
    """The speed targets (README, Performance), each with its measured value and met / missed."""
    by = lambda s: [r for r in rows if r.suite == s]  # noqa: E731
    out = []
    auto = _closest(by("autograd"), 1000, 400, 2500)
    out.append({"target": "float64 >= 100x torch autograd full Hessian at P ~ 1000, >= 10 digits",
                **_speed_target(auto, 100, 10)})
    lanczos = [r for r in by("hvp") if r.theirs and "Lanczos" in r.theirs.method]
    hv = _closest(lanczos, 5e4, 2e4, 2e5)
    out.append({"target": "float64 >= 100x HVP Lanczos at P ~ 5e4, >= 10 digits",
                **_speed_target(hv, 100, 10)})
    mp = next((r for r in by("mpmath") if r.dims == (8, 8, 8, 8)), None)
    entry: dict[str, Any] = {"target": f"{dps} certified digits at (8,8,8,8) in <= 2 s and >= 10x "
                                       "mpmath eigsy on the full Hessian"}
    if mp is not None and mp.ours.ok and mp.speedup is not None:
        met = mp.ours.seconds <= 2.0 and mp.speedup >= 10
        bound = "> " if mp.speedup_is_lower_bound else ""
        entry.update(measured=f"ours {mp.ours.seconds:.3g} s ({mp.ours.note}); "
                              f"{bound}{mp.speedup:.3g}x", met=met, seconds=mp.ours.seconds,
                     speedup=mp.speedup)
    else:
        entry.update(measured=None, met=None)
    out.append(entry)
    sy = next((r for r in by("symbolic") if r.dims == (3, 3, 3, 3)), None)
    entry = {"target": "depth-3 width-3 symbolic Hessian + proof <= 10 s"}
    if sy is not None and sy.ours.ok:
        entry.update(measured=f"{sy.ours.seconds:.3g} s (plain SymPy: {_time_cell(sy.theirs)} s; "
                              f"{_speedup_cell(sy)})", met=sy.ours.seconds <= 10.0,
                     seconds=sy.ours.seconds)
    else:
        entry.update(measured=None, met=None)
    out.append(entry)
    out.append(_flat_target(by("scaling-hidden")))
    out.append(_growth_target(by("scaling-ends")))
    return out


def _part(r: Any, prefix: str) -> float | None:
    return next((v for k, v in r.ours.parts.items() if k.startswith(prefix)), None)


def _flat_target(rows: list[Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"target": "time vs hidden width at fixed d_0, d_L: eigen part "
                                       "near-flat"}
    if len(rows) < 2:
        return {**entry, "measured": None, "met": None}
    a, b = rows[0], rows[-1]
    ea, eb = _part(a, "eigen"), _part(b, "eigen")
    if not (ea and eb):
        return {**entry, "measured": None, "met": None}
    ratio = eb / ea
    return {**entry, "met": ratio <= 3.0, "eigen_ratio": ratio,
            "measured": f"P x{b.params / a.params:.0f} ({a.dims} -> {b.dims}): eigen part "
                        f"x{ratio:.2g}, K assembly x{(_part(b, 'assemble') or 0) / (_part(a, 'assemble') or 1):.3g}, "
                        f"total x{(b.ours.seconds or 0) / (a.ours.seconds or 1):.3g}"}


def _growth_target(rows: list[Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"target": "time vs d_L d_0 at fixed hidden width (report)"}
    ok = [r for r in rows if r.ours.ok]
    if len(ok) < 2:
        return {**entry, "measured": None, "met": None}
    parts = []
    for a, b in itertools.pairwise(ok):
        slope = math.log(b.ours.seconds / a.ours.seconds) / math.log(b.n / a.n)
        parts.append(f"n {a.n}->{b.n}: t ~ n^{slope:.2f}")
    return {**entry, "measured": "; ".join(parts), "met": None}


def print_targets(targets: list[dict[str, Any]]) -> None:
    print("\nSpeed targets")
    for t in targets:
        verdict = {True: "MET", False: "MISSED", None: "n/a"}[t["met"]]
        if t["met"] is None and t["measured"] is not None:
            verdict = "report"
        print(f"  [{verdict:6}] {t['target']}: {t['measured'] or 'not measured at these sizes'}")


# --------------------------------------------------------------------------- plot
def plot(rows: list[Any], path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("autograd", "P"), ("hvp", "P"), ("mpmath", "P"), ("symbolic", "P"),
              ("scaling-hidden", "P"), ("scaling-ends", "d_L d_0"), ("scaling-certified", "P")]
    fig, axes = plt.subplots(2, 4, figsize=(20, 9))
    axes.flat[-1].axis("off")
    for ax, (suite, xlabel) in zip(axes.flat, panels, strict=False):
        sel = [r for r in rows if r.suite == suite]
        ax.set_title(suite)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("seconds (median)")
        if not sel:
            ax.text(0.5, 0.5, "not run", ha="center", transform=ax.transAxes)
            continue
        xs = (lambda r: r.n) if xlabel != "P" else (lambda r: r.params)
        series: dict[str, list[tuple[float, float, bool]]] = {}
        for r in sel:
            for t in (r.ours, r.theirs):
                if t is None or t.seconds is None or t.status not in ("ok", "capped"):
                    continue
                pts = series.setdefault(t.method, [])
                if (xs(r), t.seconds, t.status == "capped") not in pts:
                    pts.append((xs(r), t.seconds, t.status == "capped"))
            for label, v in r.ours.parts.items():
                if v and math.isfinite(v):
                    series.setdefault("  part: " + label, []).append((xs(r), v, False))
        for label, pts in series.items():
            pts.sort()
            style = ":" if label.startswith("  part") else "-"
            line = ax.plot([p[0] for p in pts], [p[1] for p in pts], style, marker="o",
                           label=label.strip()[:60])[0]
            capped = [p for p in pts if p[2]]
            if capped:
                ax.plot([p[0] for p in capped], [p[1] for p in capped], "^", ms=11,
                        color=line.get_color(), label="(> cap: lower bound)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=70)
    plt.close(fig)


# --------------------------------------------------------------------------- offmin, trajectory
EXTRA_SUITES = {
    "offmin": "float64 lambda_max off minimizers and at exact minimizers: ours vs the fastest "
              "HVP + eigsh baseline and the plain-NumPy limit",
    "trajectory": "sharpness along training: SharpnessTracker vs the fastest warm-started "
                  "HVP + eigsh baseline",
}


def run_extra(name: str, args: argparse.Namespace, opts: Any) -> dict[str, Any]:
    """Run the ``offmin`` or ``trajectory`` suite, print its tables and return its result,
    targets and wall time."""
    import offmin
    import trajectory

    print(f"\n== {EXTRA_SUITES[name]} ==", flush=True)
    start = time.perf_counter()
    module: Any = offmin if name == "offmin" else trajectory
    result = module.run(args.sizes, opts)
    seconds = time.perf_counter() - start

    def fmt(header: list[str], body: list[list[str]]) -> str:
        table = format_table(header, body, markdown=args.markdown)
        return f"\n{table}\n" if args.markdown else table  # a Markdown table ends at a blank line

    print(offmin.tables(result, fmt) if name == "offmin" else trajectory.table(result, fmt))
    print(f"  ({seconds:.1f} s for this suite; {time.strftime('%Y-%m-%d %H:%M')})", flush=True)
    return {"result": result, "targets": module.targets(result, args.sizes), "seconds": seconds}


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    set_threads(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import harness
    import suites

    opts = suites.Options(repeat=args.repeat, cap=args.cap, seed=args.seed, budget=args.budget)
    info = harness.machine_info(args.threads)
    print(f"dmf-sharpness benchmarks: sizes={args.sizes}, repeat={args.repeat}, cap={args.cap:g} s, "
          f"{args.threads} thread(s) per library, {info['cpus']} CPUs, load average "
          f"{info['load_average']}, mpmath backend {info['mpmath_backend']}")
    selected = [s for s in SUITE_NAMES if s in args.only.split(",")]
    suites.warm_up(selected)
    all_rows: list[Any] = []
    wall: dict[str, float] = {}
    extra: dict[str, Any] = {}
    for name in selected:
        if name in EXTRA_SUITES:
            extra[name] = run_extra(name, args, opts)
            wall[name] = extra[name]["seconds"]
            continue
        title = suites.SUITES[name][0]
        print(f"\n== {title} ==", flush=True)
        rows, seconds = suites.run_suite(name, args.sizes, opts)
        wall[name] = seconds
        all_rows += rows
        if name == "scaling":
            for title, header, body in _scaling_tables(rows):
                print(f"-- {title}")
                print(format_table(header, body, markdown=args.markdown))
        else:
            print(format_table(BASELINE_HEADER, _baseline_rows(rows), markdown=args.markdown))
        print_notes(rows)
        print(f"  ({seconds:.1f} s for this suite)", flush=True)
        if args.profile:
            profile_largest(rows)
    targets = evaluate_targets(all_rows, opts.dps) if all_rows else []
    for result in extra.values():
        targets += result["targets"]
    print_targets(targets)
    info["load_average_end"] = (
        [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None)
    if args.json:
        doc = {"machine": info, "options": vars(args), "suite_seconds": wall,
               "rows": [r.to_json() for r in all_rows], "targets": targets,
               **{name: result["result"] for name, result in extra.items()},
               "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
        Path(args.json).write_text(json.dumps(doc, indent=1, default=str, allow_nan=False))
        print(f"\nwrote {args.json}")
    if args.plot and all_rows:
        plot(all_rows, args.plot, f"dmf-sharpness benchmarks ({args.sizes}; {info['cpus']} CPUs, "
                                  f"{args.threads} thread(s))")
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
