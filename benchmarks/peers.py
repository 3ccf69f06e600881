"""The oracle side by side with the peer tools: how many digits of the sharpness does each get
right, and how fast is dmf-sharpness against the fastest of them?

Run from the repository root:

    python benchmarks/peers.py                 # every case, default sizes (about 10 minutes)
    python benchmarks/peers.py --quick         # a few cases, small sizes (the smoke test)
    python benchmarks/peers.py --cap 120 --json peers.json --profile

**Accuracy.** Every tool and setting of ``benchmarks/peer_tools.py`` (curvlinops, PyHessian at
its defaults and tightened, hessian-eigenthings' Lanczos and power iteration, JAX's two
references, and ours in float64) runs on the shipped conformance vectors and on 20 points drawn
with a fixed seed from ``numeric.strategies`` (minimizers, near-minimizers, points with data;
every entry a float64 value, so all tools get the exact input). Each value is compared with the
certified sharpness (the vector's 50-digit value, or ``numeric.sharpness.sharpness`` at 30
digits for the drawn points): digits = ``-log10(relative error)`` (absolute error when the
certified value is 0). The table gives, per tool and setting, the median and the minimum digits,
the cases with relative error > 1e-6 (WRONG) and the cases where the tool raised.

**Speed.** At minimizers with seeded ``N(0, 1/d)`` weights and ``X = I``: ours,
``sharpness(ws, "product", float64=True)`` (target: the exact product, so the reduced operator
of docs/mathematics.md K2 applies) and certified (``sharpness(ws, "product")``, capped), against the
HVP-Lanczos baselines (torch double backprop, ``torch.func`` jvp-of-grad, curvlinops, jitted
JAX; all ARPACK ``eigsh(k=1, which="LA")`` at machine precision). The ratio is the fastest
baseline's median time over ours. In the wide regime only ours and the two fastest baselines
of the previous size run. Every library gets one thread (``--threads``); ``/proc/loadavg`` is
printed at the start and the end. A missing peer is reported, never a failure.

**Speed off minimizers.** The same weights with the target moved (``R != 0``: the full Hessian,
for every tool), at residual ``1e-3`` (what a regularized minimizer looks like) and ``1`` (far
from every minimizer): ours, ``sharpness(ws, target, float64=True)`` (Lanczos for lambda_max
alone, as the baselines) and with ``secondary=True`` (also the gap, the multiplicity and
lambda_min), against the two fastest baselines of the minimizer table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
WRONG = 1e-6
SIZES: dict[str, list[tuple[int, ...]]] = {
    "default": [(16, 16, 16, 16, 16), (64, 128, 128, 128, 64)],
    "quick": [(4, 4, 4, 4), (8, 8, 8, 8, 8)],
}
WIDE: dict[str, tuple[int, ...]] = {"default": (16, 1024, 1024, 16), "quick": (4, 64, 64, 4)}
TARGETS = {  # dims -> the speed-up over the fastest peer that ours must reach
    (16, 16, 16, 16, 16): 10.0, (64, 128, 128, 128, 64): 10.0, (16, 1024, 1024, 16): 100.0,
}
QUICK_VECTORS = ("depth2-square", "depth2-balanced-clustered", "saddle-origin",
                 "data-nonminimizer", "scalar-ends-depth3")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="dmf-sharpness against curvlinops, PyHessian, "
                                "hessian-eigenthings and JAX: digits agreed and speed.")
    p.add_argument("--quick", action="store_true",
                   help="five vectors, two drawn points, small sizes (the smoke test)")
    p.add_argument("--cap", type=float, default=120.0,
                   help="interrupt a timed run after this many seconds and report '> cap'")
    p.add_argument("--points", type=int, default=20, help="seeded generated points (default 20)")
    p.add_argument("--seed", type=int, default=0, help="seed of the drawn points and weights")
    p.add_argument("--repeat", type=int, default=3, help="timed runs per method (median)")
    p.add_argument("--threads", type=int, default=1, help="threads for every library")
    p.add_argument("--only", choices=("accuracy", "speed", "profile"),
                   help="run one part (profile: only the cProfile of ours, no baselines)")
    p.add_argument("--json", metavar="FILE", help="also write every result as JSON to FILE")
    p.add_argument("--profile", action="store_true",
                   help="cProfile ours (float64) at each speed size: top 15 by cumulative time")
    args = p.parse_args(argv)
    if args.cap <= 0 or args.repeat < 1 or args.threads < 1 or args.points < 0:
        p.error("--cap must be > 0, --repeat and --threads >= 1, --points >= 0")
    return args


def set_threads(n: int) -> None:
    """One thread count for BLAS, torch and XLA (before they are imported)."""
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


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --------------------------------------------------------------------------- the cases
def drawn_points(n: int, seed: int) -> list[tuple[str, Any]]:
    """``n`` points from ``numeric.strategies`` with Hypothesis seeded (``hypothesis.seed``,
    no database): a third minimizers, a third near-minimizers, a third points with data, all
    float64-exact (``exact=False``)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    from numeric.strategies import minimizers, near_minimizers, points_with_data

    kinds = [("minimizer", minimizers(kind="any", exact=False)),
             ("near-minimizer", near_minimizers(kind="any", exact=False)),
             ("with-data", points_with_data(exact=False))]
    out: list[tuple[str, Any]] = []
    for i, (label, strategy) in enumerate(kinds):
        want = n // 3 + (1 if i < n % 3 else 0)
        got = _draw(strategy, max(want * 3, 1), seed + i, hseed, given, settings,
                    [Phase.generate], list(HealthCheck))
        # the first draws are Hypothesis' simplest examples: spread the picks over the run
        picks = got[:: max(1, len(got) // max(want, 1))][:want]
        out.extend((f"{label} {j} {p.dims}", p) for j, p in enumerate(picks))
    return out


def _draw(strategy: Any, n: int, seed: int, hseed: Any, given: Any, settings: Any,
          phases: list[Any], checks: list[Any]) -> list[Any]:
    got: list[Any] = []

    @hseed(seed)
    @settings(max_examples=n, database=None, phases=phases, deadline=None,
              suppress_health_check=checks)
    @given(strategy)
    def collect(point: Any) -> None:
        got.append(point)

    from numeric.claims.runner import hypothesis_storage

    with hypothesis_storage():  # nothing written in the working directory
        collect()
    return got


def load_all_cases(args: argparse.Namespace) -> list[Any]:
    from numeric.adapters.report import Case, load_cases
    from numeric.oracle.vectors import load_vectors

    # the peers compute the plain Hessian: the weight-decay vectors (H_0 + lam I) are not theirs
    vectors = [v for v in load_vectors() if v.weight_decay is None]
    points = args.points
    if args.quick:
        vectors = [v for v in vectors if v.name in QUICK_VECTORS]
        points = min(points, 2)
    cases = load_cases(vectors, 50)
    for name, point in drawn_points(points, args.seed):
        (case,) = load_cases([point], 30)
        cases.append(Case(name, case.point, case.value, case.certified))
    return cases


# --------------------------------------------------------------------------- accuracy
def accuracy(cases: list[Any], status: dict[str, str | None]) -> list[dict[str, Any]]:
    import mpmath
    from peer_tools import ACCURACY_TOOLS, problem_from_point

    from numeric.adapters.report import agreeing_digits, relative_error

    problems = [problem_from_point(c.point) for c in cases]
    rows = []
    for tool, setting, runner in ACCURACY_TOOLS:
        why = status.get(tool)
        row: dict[str, Any] = {"tool": tool, "setting": setting, "missing": why, "cases": []}
        if why is None:
            start = time.perf_counter()
            for case, problem in zip(cases, problems, strict=True):
                try:
                    got: float | None = float(runner(problem))
                    err = None
                except Exception as exc:  # a tool failing on a case is a finding
                    got, err = None, f"{type(exc).__name__}: {exc}"[:200]
                with mpmath.workdps(50):
                    rel = relative_error(got, case.value)
                row["cases"].append({"case": case.name, "got": got, "rel_error": rel,
                                     "digits": agreeing_digits(rel), "error": err})
            row["seconds"] = time.perf_counter() - start
        rows.append(row)
    return rows


def _digits_text(d: float) -> str:
    return "exact" if math.isinf(d) else f"{d:.1f}"


def accuracy_table(rows: list[dict[str, Any]], n_cases: int) -> str:
    head = (f"{'tool':20} {'setting':47} {'median':>6} {'min':>6} {'WRONG':>5} {'error':>5}  "
            "worst case")
    lines = [f"Digits agreed with the certified sharpness ({n_cases} cases; WRONG = relative "
             f"error > {WRONG:g}; 'exact' = equal to the float64 nearest)", head, "-" * len(head)]
    for r in rows:
        if r["missing"]:
            lines.append(f"{r['tool']:20} {r['setting'][:47]:47} {r['missing']}")
            continue
        cs = r["cases"]
        digits = [min(c["digits"], 99.0) for c in cs]
        wrong = sum(1 for c in cs if c["error"] is None and c["rel_error"] > WRONG)
        errors = sum(1 for c in cs if c["error"] is not None)
        worst = min(cs, key=lambda c: c["digits"])
        note = worst["case"] + (f" ({worst['error'][:60]})" if worst["error"] else "")
        med = statistics.median(digits)
        lines.append(f"{r['tool']:20} {r['setting'][:47]:47} {_digits_text(med if med < 99 else math.inf):>6} "
                     f"{_digits_text(min(digits) if min(digits) < 99 else math.inf):>6} "
                     f"{wrong:5d} {errors:5d}  {note}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- speed
class _Capped(BaseException):
    """Raised by the alarm; a ``BaseException`` so that no ``except Exception`` inside a
    library swallows it."""


def _timing(name: str, fn: Any, args: argparse.Namespace) -> Any:
    """Median of ``--repeat`` runs (fast ones repeat until 0.25 s in all, at most 50), one run
    capped at ``--cap`` seconds. The alarm re-fires every 0.5 s after the cap: an exception
    raised inside a garbage-collector callback (JAX installs one) is ignored by Python, and a
    single alarm would then be lost."""
    import signal

    from harness import Timing

    def _alarm(signum: int, frame: Any) -> None:
        raise _Capped

    t = Timing(name)
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for i in range(max(50, args.repeat)):
            if i >= args.repeat and sum(t.times) >= 0.25:
                break
            start = time.perf_counter()
            try:
                signal.setitimer(signal.ITIMER_REAL, args.cap, 0.5)
                try:
                    value = fn()
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except _Capped:
                t.status, t.seconds, t.note = "capped", args.cap, f"> {args.cap:g} s (cap)"
                return t
            except Exception as exc:  # a failing method is a result to report
                t.status, t.note = "error", f"{type(exc).__name__}: {exc}"[:300]
                return t
            t.times.append(time.perf_counter() - start)
            t.value = value
            if sum(t.times) >= max(20.0, args.cap / 2):
                break
    finally:
        signal.signal(signal.SIGALRM, previous)
    t.runs = len(t.times)
    t.seconds = statistics.median(t.times)
    return t


# the row labels of our two timings: the calls timed
OURS_FLOAT64 = 'ours: sharpness(ws, "product", float64=True)'
OURS_CERTIFIED = 'ours: sharpness(ws, "product") certified'


def speed(args: argparse.Namespace, status: dict[str, str | None]) -> list[dict[str, Any]]:
    from harness import Timing
    from peer_tools import SPEED_BASELINES, minimizer_problem

    from numeric.sharpness import sharpness

    kind = "quick" if args.quick else "default"
    rows: list[dict[str, Any]] = []
    fastest_two: list[str] = [b[0] for b in SPEED_BASELINES]
    for dims in [*SIZES[kind], WIDE[kind]]:
        wide = dims == WIDE[kind]
        problem = minimizer_problem(dims, args.seed)
        ws = list(problem.weights)
        sharpness(ws, "product", float64=True)  # warm caches (imports), untimed
        ours = _timing(OURS_FLOAT64,
                       lambda ws=ws: float(sharpness(ws, "product", float64=True).value), args)
        certified: Timing | None = None
        if not wide:
            certified = _timing(OURS_CERTIFIED,
                                lambda ws=ws: sharpness(ws, "product").value, args)
        theirs: list[Timing] = []
        for name, peer, factory in SPEED_BASELINES:
            if status.get(peer):
                theirs.append(Timing(name, status="unavailable", note=str(status[peer])))
                continue
            if wide and name not in fastest_two:
                theirs.append(Timing(name, status="skipped",
                                     note="wide regime: only the two fastest baselines run"))
                continue
            try:
                fn = factory(problem)
            except Exception as exc:
                theirs.append(Timing(name, status="error", note=f"{type(exc).__name__}: {exc}"))
                continue
            theirs.append(_timing(name, fn, args))
        ok = [t for t in theirs if t.ok]
        capped = [t for t in theirs if t.status == "capped"]
        fastest = min(ok, key=lambda t: t.seconds or 0.0) if ok else (capped[0] if capped else None)
        ratio = None if (fastest is None or not ours.ok) else fastest.seconds / ours.seconds
        if not wide and ok:
            fastest_two = [t.method for t in sorted(ok, key=lambda t: t.seconds or 0.0)[:2]]
        rows.append({"dims": dims, "params": problem.params, "ours": ours,
                     "certified": certified, "theirs": theirs,
                     "fastest": None if fastest is None else fastest.method,
                     "ratio": ratio, "ratio_is_lower_bound": bool(fastest and not fastest.ok),
                     "target": TARGETS.get(dims)})
    return rows


OFF_MIN_RESIDUALS = (1e-3, 1.0)


def speed_off_minimizer(args: argparse.Namespace, status: dict[str, str | None],
                        fastest_two: list[str]) -> list[dict[str, Any]]:
    """Ours against ``fastest_two`` of the minimizer table, at the minimizer sizes, with the
    target moved by each of ``OFF_MIN_RESIDUALS`` (module doc)."""
    from peer_tools import SPEED_BASELINES, off_minimizer_problem

    from numeric.sharpness import sharpness

    kind = "quick" if args.quick else "default"
    rows: list[dict[str, Any]] = []
    for dims in SIZES[kind]:
        for res in OFF_MIN_RESIDUALS:
            problem = off_minimizer_problem(dims, args.seed, res)
            ws, target = list(problem.weights), problem.targets.T
            sharpness(ws, target, float64=True)  # warm, untimed
            ours = _timing("ours", lambda ws=ws, y=target: float(
                sharpness(ws, y, float64=True).value), args)
            result = sharpness(ws, target, float64=True, secondary=True)
            more = _timing("ours, secondary=True", lambda ws=ws, y=target: float(
                sharpness(ws, y, float64=True, secondary=True).value), args)
            theirs = [_timing(name, factory(problem), args)
                      for name, peer, factory in SPEED_BASELINES
                      if name in fastest_two and not status.get(peer)]
            ok = [t for t in theirs if t.ok]
            fastest = min(ok, key=lambda t: t.seconds or 0.0) if ok else None
            rows.append({"dims": dims, "params": problem.params, "residual": res, "ours": ours,
                         "secondary": more, "lambda_min": result.lambda_min, "theirs": theirs,
                         "ratio": None if fastest is None or not ours.ok
                         else fastest.seconds / ours.seconds})
    return rows


def off_minimizer_table(rows: list[dict[str, Any]]) -> str:
    lines = ["Seconds (median), off minimizers (R != 0: the full Hessian), X = I"]
    for r in rows:
        lmin = "not reported" if r["lambda_min"] is None else f"{r['lambda_min']:.6g}"
        lines.append(f"\ndims {r['dims']}  P = {r['params']}  residual {r['residual']:g}")
        lines.append(f"  {'ours: lambda_max alone':44} {_cell(r['ours']):>14}"
                     f"   value {r['ours'].value}")
        lines.append(f"  {'ours: secondary=True (gap, lambda_min)':44} "
                     f"{_cell(r['secondary']):>14}   lambda_min {lmin}")
        for t in r["theirs"]:
            lines.append(f"  {t.method:44} {_cell(t):>14}   value {t.value}")
        if r["ratio"] is not None:
            lines.append(f"  fastest baseline / ours = {r['ratio']:.3g}x")
    return "\n".join(lines)


def _cell(t: Any) -> str:
    if t is None:
        return "-"
    if t.status == "capped":
        return f"> {t.seconds:g} (cap)"
    if not t.ok:
        return t.status
    return f"{t.seconds:.3g}"


def speed_table(rows: list[dict[str, Any]]) -> str:
    lines = ["Seconds (median), minimizers, X = I, one thread per library"]
    for r in rows:
        lines.append(f"\ndims {r['dims']}  P = {r['params']}")
        lines.append(f"  {OURS_FLOAT64:44} {_cell(r['ours']):>14}"
                     f"   value {r['ours'].value}")
        cert = r["certified"]
        if cert is not None:
            note = f"   {cert.note[:110]}" if cert.status == "error" else ""
            lines.append(f"  {OURS_CERTIFIED:44} {_cell(cert):>14}{note}")
        for t in r["theirs"]:
            extra = f"   value {t.value}" if t.ok else (f"   {t.note}" if t.note else "")
            lines.append(f"  {t.method:44} {_cell(t):>14}{extra}")
        if r["ratio"] is not None:
            bound = "> " if r["ratio_is_lower_bound"] else ""
            lines.append(f"  fastest baseline: {r['fastest']}; fastest / ours = "
                         f"{bound}{r['ratio']:.3g}x")
    return "\n".join(lines)


def targets_text(rows: list[dict[str, Any]]) -> str:
    lines = ["Speed targets (fastest peer / ours float64, at a minimizer)"]
    if all(r["target"] is None for r in rows):
        lines.append("  none at these sizes (the targets are set at the default sizes)")
    for r in rows:
        if r["target"] is None:
            continue
        if r["ratio"] is None:
            verdict = "not measured"
        else:
            verdict = "MET" if r["ratio"] >= r["target"] else "MISSED"
        got = "-" if r["ratio"] is None else f"{r['ratio']:.3g}x"
        lines.append(f"  {r['dims']} (P = {r['params']}): target >= {r['target']:g}x, "
                     f"measured {got}: {verdict}")
    return "\n".join(lines)


def profile_ours(rows: list[dict[str, Any]]) -> str:
    import cProfile
    import io
    import pstats

    from peer_tools import minimizer_problem

    from numeric.sharpness import sharpness

    out = []
    for r in rows:
        ws = list(minimizer_problem(r["dims"], 0).weights)
        sharpness(ws, "product", float64=True)  # warm: the profile is of the steady state
        prof = cProfile.Profile()
        calls, start = 0, time.perf_counter()
        while calls < 3 or (time.perf_counter() - start < 2.0 and calls < 200):
            prof.enable()
            sharpness(ws, "product", float64=True)
            prof.disable()
            calls += 1
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(15)
        out.append(f"cProfile of sharpness(ws, 'product', float64=True) at {r['dims']}, "
                   f"{calls} calls "
                   f"(times are totals over the calls):\n{buf.getvalue()}")
    return "\n".join(out)


# --------------------------------------------------------------------------- main
def _json_timing(t: Any) -> Any:
    return None if t is None else t.to_json()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    set_threads(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from peer_tools import peer_status, versions

    load_start = loadavg()
    print(f"load at start (/proc/loadavg): {load_start}")
    status = peer_status()
    vers = versions()
    print("versions: " + ", ".join(f"{k} {v or 'not installed'}" for k, v in vers.items()))
    for name, why in status.items():
        if why:
            print(f"peer {name}: {why}")
    doc: dict[str, Any] = {"versions": vers, "peers": status, "load_start": load_start,
                           "threads": args.threads, "quick": args.quick}
    if args.only in (None, "accuracy"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cases = load_all_cases(args)
            acc = accuracy(cases, status)
        print()
        print(accuracy_table(acc, len(cases)))
        doc["accuracy"] = acc
    if args.only == "profile":
        kind = "quick" if args.quick else "default"
        print(profile_ours([{"dims": d} for d in [*SIZES[kind], WIDE[kind]]]))
    if args.only in (None, "speed"):
        rows = speed(args, status)
        print()
        print(speed_table(rows))
        print()
        print(targets_text(rows))
        doc["speed"] = [{**r, "ours": _json_timing(r["ours"]),
                         "certified": _json_timing(r["certified"]),
                         "theirs": [_json_timing(t) for t in r["theirs"]]} for r in rows]
        fastest_two = sorted((t for r in rows[:1] for t in r["theirs"] if t.ok),
                             key=lambda t: t.seconds or 0.0)[:2]
        off = speed_off_minimizer(args, status, [t.method for t in fastest_two])
        print()
        print(off_minimizer_table(off))
        doc["speed_off_minimizer"] = [{**r, "ours": _json_timing(r["ours"]),
                                       "secondary": _json_timing(r["secondary"]),
                                       "theirs": [_json_timing(t) for t in r["theirs"]]}
                                      for r in off]
        if args.profile:
            print()
            print(profile_ours(rows))
    load_end = loadavg()
    doc["load_end"] = load_end
    print(f"\nload at end (/proc/loadavg): {load_end}")
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
