"""BLAS threads of the float64 routes: how long ``sharpness(..., float64=True)`` takes with the
BLAS library's default thread count, with 1 thread, and with the library's automatic choice
(``numeric.evaluators.threads``); and the crossover of single matrix products, 1 thread against 2.

Run from the repository root (not a test: it times, and the machine may be loaded):

    python benchmarks/threads.py                  # widths 128, 256, 512 (several minutes)
    python benchmarks/threads.py --quick          # tiny sizes: the smoke run
    python benchmarks/threads.py --widths 128 --no-products

**Sharpness.** Depth ``--depth`` (5), every width ``w`` (``d_0 = ... = d_L = w``), ``N =
--samples`` (64) samples, data off a minimizer: the weights of ``peer_tools.minimizer_problem``
(seeded i.i.d. ``N(0, 1/d)``), ``X`` with i.i.d. ``N(0, 1)`` entries and ``Y = W_L...W_1 X +
E``, ``E`` i.i.d. ``N(0, 1)``: ``R X^T != 0``, the full Hessian, matrix-free Lanczos for
lambda_max. Three settings, alternated per width: ``default`` (``threads=`` the BLAS library's
own count, read before anything is limited: what NumPy does when nobody sets threads), ``1``
and ``auto`` (the library's rule). Each median is over ``--repeat`` runs, but a setting whose
runs took ``--budget`` seconds in all stops there (slow cases run once), and a run over
``--cap`` seconds is stopped (reported as ``> cap``). Every figure carries the load average
(1 minute) read just before and after it.

**Products.** ``A @ B`` for ``d x d`` float64 matrices, 1 and 2 threads alternated, the MEAN
time over repetitions (a lost scheduler time slice is part of what a caller pays), with the
load average: the evidence behind ``numeric.evaluators.threads.PARALLEL_WORK``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from harness import measure
from peer_tools import minimizer_problem
from threadpoolctl import threadpool_info, threadpool_limits

from numeric.evaluators.threads import PARALLEL_WORK, choose_threads
from numeric.sharpness import sharpness


def load() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


def data_off_minimizer(width: int, depth: int, samples: int, seed: int) -> tuple[Any, Any, Any]:
    """Weights of ``minimizer_problem`` (seeded ``N(0, 1/d)``), ``X ~ N(0, 1)`` (``width x
    samples``) and ``Y = W_L...W_1 X + E`` with ``E ~ N(0, 1)`` (module docstring)."""
    ws = [np.array(w) for w in minimizer_problem((width,) * (depth + 1), seed).weights]
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((width, samples))
    fx = x
    for w in ws:
        fx = w @ fx
    return ws, x, fx + rng.standard_normal(fx.shape)


def blas_default() -> int:
    """The BLAS libraries' own thread count (before any limit): NumPy's default."""
    return max(int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas")


def sharpness_rows(args: argparse.Namespace, default: int) -> None:
    print(f"\nfloat64 sharpness, depth {args.depth}, N = {args.samples}, data off a minimizer "
          f"(seed {args.seed}); seconds (median of runs), load average before -> after")
    print(f"{'width':>6} {'P':>8}  {'setting':<22} {'seconds':>10} {'runs':>4}  "
          f"{'load':>11}  lambda_max")
    for width in args.widths:
        ws, x, y = data_off_minimizer(width, args.depth, args.samples, args.seed)
        params = sum(w.size for w in ws)
        for label, threads in ((f"default ({default} threads)", default), ("1 thread", 1),
                               ("auto", "auto")):
            before = load()

            def run(ws: Any = ws, x: Any = x, y: Any = y, th: Any = threads) -> Any:
                return sharpness(ws, data=x, labels=y, float64=True, threads=th)

            t = measure(label, run, repeat=args.repeat, cap=args.cap, budget=args.budget,
                        min_total=0.0)
            after = load()
            seconds = t.note if t.status != "ok" else f"{t.seconds:.3f}"
            value = "" if t.value is None else f"{float(t.value.value):.15g}"
            if label == "auto" and t.value is not None:
                value += f"  [{t.value.method.split('(BLAS threads: ')[1].split(')')[0]}]"
            print(f"{width:>6} {params:>8}  {label:<22} {seconds:>10} {t.runs:>4}  "
                  f"{before:>4.2f} -> {after:<4.2f}  {value}", flush=True)


def product_rows(args: argparse.Namespace) -> None:
    print(f"\nd x d float64 products A @ B, 1 vs 2 threads alternated, MEAN ms; 2 d^3 flops "
          f"(numeric.evaluators.threads.PARALLEL_WORK = {PARALLEL_WORK:.0e}: auto takes "
          f"{choose_threads(PARALLEL_WORK, 'auto').threads} thread(s) from there)")
    print(f"{'d':>6} {'flops':>9} {'reps':>5} {'1 thread':>10} {'2 threads':>10} "
          f"{'speed-up':>8}  {'load':>11}")
    rng = np.random.default_rng(args.seed)
    for d in args.products:
        a, b = rng.standard_normal((d, d)), rng.standard_normal((d, d))
        total, reps, start, before = {1: 0.0, 2: 0.0}, 0, time.perf_counter(), load()
        while reps < 3 or (time.perf_counter() - start < args.product_seconds and reps < 400):
            for threads in (1, 2):
                with threadpool_limits(limits=threads):
                    t0 = time.perf_counter()
                    a @ b
                    total[threads] += time.perf_counter() - t0
            reps += 1
        one, two = total[1] / reps * 1e3, total[2] / reps * 1e3
        print(f"{d:>6} {2.0 * d**3:>9.1e} {reps:>5} {one:>10.3f} {two:>10.3f} "
              f"{one / two:>8.2f}  {before:>4.2f} -> {load():<4.2f}", flush=True)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes (the smoke run)")
    p.add_argument("--widths", type=int, nargs="+", default=[128, 256, 512])
    p.add_argument("--depth", type=int, default=5)
    p.add_argument("--samples", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3, help="runs per setting (default 3)")
    p.add_argument("--budget", type=float, default=20.0,
                   help="stop repeating a setting once its runs took this many seconds")
    p.add_argument("--cap", type=float, default=240.0, help="stop a run after this many seconds")
    p.add_argument("--products", type=int, nargs="*",
                   default=[64, 128, 256, 512, 1024, 2048])
    p.add_argument("--no-products", dest="products", action="store_const", const=[])
    p.add_argument("--product-seconds", type=float, default=6.0,
                   help="time per product size (at least 3 repetitions)")
    args = p.parse_args(argv)
    if args.quick:
        args.widths, args.depth, args.samples = [8, 16], 3, 8
        args.products = [32, 64] if args.products else []
        args.product_seconds, args.repeat = 0.2, 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    default = blas_default()
    print(f"load average at start: {os.getloadavg()}; cores: {os.cpu_count()}; numpy "
          f"{np.__version__}")
    print(f"OPENBLAS_CORETYPE: {os.environ.get('OPENBLAS_CORETYPE', 'not set')}; "
          f"DMF_SHARPNESS_THREADS: {os.environ.get('DMF_SHARPNESS_THREADS', 'not set')}")
    import scipy.linalg  # noqa: F401  (so that threadpool_info lists SciPy's BLAS too)

    for info in threadpool_info():
        print(f"  {info['user_api']}: {info['internal_api']} {info.get('version')} "
              f"({info.get('architecture')}, {info.get('threading_layer')}), default "
              f"{info['num_threads']} threads: {Path(info['filepath']).name}")
    sharpness_rows(args, default)
    if args.products:
        product_rows(args)
    print(f"\nload average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
