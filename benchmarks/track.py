"""Benchmark of ``SharpnessTracker``: warm starts against cold starts along one training run.

Run from the repository root:

    .venv/bin/python benchmarks/track.py                   # 200 steps, dims (32,128,128,128,10), N = 512
    .venv/bin/python benchmarks/track.py --steps 20 --json out.json

One full-batch gradient-descent run on the ``mse`` loss (``nn.MSELoss()``) of a deep linear
network with Gaussian inputs and targets (seeded; He-like init ``N(0, 1/d_{l-1})``), at step
size ``eta = --eta-factor / lambda_max(start)`` (default 1: half the stability limit ``2/eta``).
At every step two trackers measure the same weights: one warm-started from the previous step's
eigenvector (the default), one started from the seeded random vector every time
(``warm_start=False``, the cold start). Timed: each tracker call (the float64 Lanczos run, the
loss, residual and gradient norms); not timed: the descent step. All of it under
``threadpoolctl.threadpool_limits(1)`` (one BLAS thread), with the load average printed at start
and end. Values are float64 approximations (Lanczos, relative residual <= 1e-10); the two
trackers must agree to 1e-9 relative at every step, which the script checks. ``--ncv`` is
ARPACK's basis size when ARPACK takes over from the tracker's Lanczos recurrence (rarely: its
vectors filled their memory). ``benchmarks/run.py --only trajectory`` times the tracker against
the fastest warm-started HVP baseline.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from numeric.dynamics.track import DEFAULT_NCV, SharpnessTracker  # noqa: E402
from numeric.loss import gradient  # noqa: E402


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _run(dims: tuple[int, ...], samples: int, steps: int, eta_factor: float, ncv: int,
         seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    inputs = rng.standard_normal((samples, dims[0]))
    targets = rng.standard_normal((samples, dims[-1]))
    ws = [rng.standard_normal((dims[l], dims[l - 1])) / math.sqrt(dims[l - 1])
          for l in range(1, len(dims))]
    probe = SharpnessTracker(inputs=inputs, targets=targets, loss="mse", ncv=ncv)
    eta = eta_factor / probe(ws).sharpness
    warm = SharpnessTracker(inputs=inputs, targets=targets, loss="mse", eta=eta, ncv=ncv)
    cold = SharpnessTracker(inputs=inputs, targets=targets, loss="mse", eta=eta, ncv=ncv,
                            warm_start=False)
    x, y, c = inputs.T, targets.T, float(warm.factor)
    started = time.perf_counter()
    for _ in range(steps):
        a, b = warm(ws), cold(ws)
        if abs(a.sharpness - b.sharpness) > 1e-9 * abs(b.sharpness):
            raise SystemExit(f"warm and cold disagree at step {a.step}: {a.sharpness!r} vs "
                             f"{b.sharpness!r}")
        ws = [w - eta * c * g for w, g in zip(ws, gradient(ws, x, y), strict=True)]
    wall = time.perf_counter() - started
    return {"warm": warm, "cold": cold, "eta": eta, "wall": wall}


def _summary(tracker: SharpnessTracker) -> dict[str, Any]:
    h = tracker.history
    products = [r.products for r in h]
    return {"seconds": sum(r.seconds for r in h), "products": sum(products),
            "products_min": min(products), "products_max": max(products),
            "products_mean": sum(products) / len(products)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dims", default="32,128,128,128,10", help="d_0,...,d_L")
    parser.add_argument("--samples", type=int, default=512, help="N")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--eta-factor", type=float, default=1.0,
                        help="eta = this / lambda_max(start); below 2 is stable at the start")
    parser.add_argument("--ncv", type=int, default=DEFAULT_NCV,
                        help="ARPACK's Lanczos vectors per restart when ARPACK takes over")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    dims = tuple(int(d) for d in args.dims.split(","))

    from threadpoolctl import threadpool_limits

    print(f"SharpnessTracker, warm vs cold starts: dims {dims}, N = {args.samples}, "
          f"{args.steps} GD steps, loss mse, one BLAS thread (threadpool_limits(1))")
    print(f"load at start: {_load()}")
    with threadpool_limits(1):
        out = _run(dims, args.samples, args.steps, args.eta_factor, args.ncv, args.seed)
    load_end = _load()
    warm, cold = _summary(out["warm"]), _summary(out["cold"])
    h = out["warm"].history
    print(f"eta = {out['eta']:.6g} (2/eta = {2 / out['eta']:.6g}); sharpness {h[0].sharpness:.6g}"
          f" -> {h[-1].sharpness:.6g} (max eta*sharpness/2 = "
          f"{max(out['eta'] * r.sharpness / 2 for r in h):.4f}); loss {h[0].loss:.6g} -> "
          f"{h[-1].loss:.6g}")
    print(f"{'start':>6} {'seconds':>9} {'products':>9} {'per step':>9} {'min':>4} {'max':>4}")
    for name, s in (("warm", warm), ("cold", cold)):
        print(f"{name:>6} {s['seconds']:>9.3f} {s['products']:>9d} {s['products_mean']:>9.2f} "
              f"{s['products_min']:>4d} {s['products_max']:>4d}")
    print(f"warm/cold: time {warm['seconds'] / cold['seconds']:.3f}, products "
          f"{warm['products'] / cold['products']:.3f}; the whole loop (both trackers and the GD "
          f"steps) took {out['wall']:.2f} s")
    print(f"load at end: {load_end}")
    print(f"values: {out['warm'].method}")
    if args.json is not None:
        args.json.write_text(json.dumps({
            "dims": dims, "samples": args.samples, "steps": args.steps, "eta": out["eta"],
            "warm": warm, "cold": cold, "load_end": load_end,
            "run": out["warm"].to_json()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
