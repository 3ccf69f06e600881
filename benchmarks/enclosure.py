"""The certified Weyl enclosure of lambda_max(H) off minimizers (``numeric.enclosure``) at scale,
against float64 Lanczos on the full Hessian (``sharpness(..., float64=True)``).

Run from the repository root (one BLAS thread; prints the load at start and end, writes
nothing):

    python benchmarks/enclosure.py            # the cases below (about a minute)
    python benchmarks/enclosure.py --quick    # small sizes (the smoke run)

Cases (seeded ``N(0, 1/d_(l-1))`` weights, ``X = I``):

- near a minimizer: dims (16, 1024, 1024, 16), target ``M = f (1 + 1e-6 g)`` entrywise (``f`` the
  float64 product, ``g`` standard normal): a point about ``1e-6`` (relative) from a minimizer;
  the goal is <= 30 s and a certified relative width <= 1e-6;
- the float64 product as target: dims (64, 128, 128, 128, 64) (``R`` is the product's float64
  rounding, about ``1e-16`` relative);
- the width against the distance: dims (16, 256, 256, 16), relative noise 1e-9 ... 1e-1 and a
  random target (``M`` standard normal: far from every minimizer).

Each row: the certified enclosure (lower end, relative width, which ends came from Rayleigh,
Kato-Temple or Weyl), ``e >= ||E||_2``, the time, float64 Lanczos's value and time, and its
error: ``inside`` the enclosure, or its relative distance from it (a proven lower bound of
Lanczos's relative error).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from numeric.enclosure import weyl_enclosure
from numeric.sharpness import sharpness


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _weights(dims: tuple[int, ...], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(0.0, 1.0 / np.sqrt(dims[i]), size=(dims[i + 1], dims[i]))
            for i in range(len(dims) - 1)]


def _product(ws: list[np.ndarray]) -> np.ndarray:
    f = ws[0]
    for w in ws[1:]:
        f = w @ f
    return f


def _target(ws: list[np.ndarray], noise: float | None, seed: int) -> np.ndarray:
    """``f (1 + noise g)``; ``noise=None``: a standard normal target (far from minimizers)."""
    rng = np.random.default_rng(seed + 1)
    f = _product(ws)
    if noise is None:
        return rng.normal(size=f.shape)
    return f * (1.0 + noise * rng.normal(size=f.shape))


def _row(label: str, dims: tuple[int, ...], ws: list[np.ndarray], m: np.ndarray) -> None:
    t0 = time.perf_counter()
    lo, hi, how = weyl_enclosure(ws, m, dps=20)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    lanczos = sharpness(ws, m, float64=True)
    theirs = time.perf_counter() - t0
    value = Fraction(float(lanczos.value))
    outside = max(lo - value, value - hi, Fraction(0)) / lo if lo > 0 else None
    ends = how.method.rsplit("; ", 1)[-1]
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in how.seconds.items() if k != "total")
    print(f"{label:<34} {dims!s:<26} {float(lo):<22.17g} {how.relative_width:<10.2g} "
          f"{float(how.residual_bound):<10.3g} {ours:>7.1f} s   {float(lanczos.value):<22.17g} "
          f"{theirs:>6.1f} s  {'inside' if outside == 0 else f'{float(outside):.1g}' if outside else '-'}")
    print(f"{'':<34} {ends}; {stages}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    print(f"load at start: {_load()}")
    print("certified: numeric.enclosure.weyl_enclosure (dps 20), one BLAS thread; "
          "float64: sharpness(ws, M, float64=True) (ARPACK Lanczos on the full Hessian)")
    print(f"{'case':<34} {'dims':<26} {'certified lower end':<22} {'rel width':<10} "
          f"{'e':<10} {'time':>9}   {'float64 Lanczos':<22} {'time':>8}  its error")
    near = (16, 64, 64, 16) if args.quick else (16, 1024, 1024, 16)
    deep = (8, 16, 16, 16, 8) if args.quick else (64, 128, 128, 128, 64)
    sweep = (8, 32, 32, 8) if args.quick else (16, 256, 256, 16)
    with threadpool_limits(1):
        ws = _weights(near, 0)
        _row("near a minimizer (1e-6 relative)", near, ws, _target(ws, 1e-6, 0))
        ws = _weights(deep, 1)
        _row("target: the float64 product", deep, ws, _product(ws))
        ws = _weights(sweep, 2)
        for noise in (1e-9, 1e-6, 1e-3, 1e-1):
            _row(f"relative noise {noise:g}", sweep, ws, _target(ws, noise, 2))
        _row("random target (far)", sweep, ws, _target(ws, None, 2))
    print(f"load at end: {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
