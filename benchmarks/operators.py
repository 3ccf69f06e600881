"""Hessian-vector products that cost what the data costs: the samples and factors products of
``numeric.operators``, ARPACK from a cold and from the structured start, and a torch HVP +
``eigsh`` baseline, in one process with ONE BLAS thread.

Run from the repository root (not a test: it times, and the machine may be loaded):

    python benchmarks/operators.py                 # the cases below (a few minutes)
    python benchmarks/operators.py --quick         # small sizes (seconds): the smoke run
    python benchmarks/operators.py --no-torch --no-grid

Every library runs with one thread (``threadpoolctl.threadpool_limits(1)``,
``torch.set_num_threads(1)``); ``os.getloadavg()`` is printed before and after each table.

**Cases.** ``N(0, 1/d_{l-1})`` weights (``peer_tools.minimizer_problem``, seeded):
(64,128,128,128,64) with ``X = I`` and the float64 product as target (a minimizer);
(32,256,256,256,10) with random data ``X``, ``Y`` i.i.d. ``N(0, 1)``, ``N = 32, 256, 4096``;
(784,512,512,10) likewise with ``N = 32, 256``; (128,128,128,128,128,128) with ``N = 64``
(a user's report: 0.54 s against 0.41 s for torch HVP + eigsh); and (32,256,256,256,10) ``1e-3`` from a
minimizer (``Y = W*_L...W*_1 X``, ``N = 256``, each ``W_l = W*_l + 1e-3 Z_l``, ``Z_l``
i.i.d. ``N(0, 1/d_{l-1})``).

**Products** (table 1): build time and the median time of one product of each route, the cost
model's prediction (``numeric.operators.route_seconds``) and the route ``how="auto"`` takes.

**Solves** (table 2), each end to end from the weights (operator built inside the timed call),
``tol = 1e-10`` (``numeric.sharpness.LANCZOS_TOL``), ``k = 1``: *old* = the factors product with
ARPACK from a seeded random start, ``ncv = 20`` (``numeric.spectrum.top_eigenpairs_float64``:
what ``_mode_float64`` ran before); *cold* = the auto route, same start and ``ncv``;
*cold10* = the same with ``ncv = NCV_TOP1`` (10);
*struct* = the auto route from the structured start (``lambda_max_float64`` defaults: ``u``
from ``J J^T``, ``ncv = NCV_TOP1``, 10); then the torch baseline of ``peer_tools.SPEED_BASELINES``
(double backprop, ``baselines.hvp_lanczos``, when ``X = I``; ``torch.func`` jvp-of-grad with data,
as the double-backprop baseline takes no inputs) with ARPACK at machine precision from a
seeded start, as it is written. ``prods`` are Hessian-vector products; ``gram`` the products
with ``J J^T`` (kron form, or dense ``eigh`` when ``d_L m <= GRAM_DENSE_LIMIT``, then 0).

**Grid** (table 3): the route choice against measured times at more shapes, off minimizers
(``X = I`` with the target moved by i.i.d. ``N(0, 1)``, or random data): the faster route by
``setup + EXPECTED_PRODUCTS * product``, measured and predicted.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from peer_tools import SPEED_BASELINES, Problem, minimizer_problem
from threadpoolctl import threadpool_info, threadpool_limits

from numeric.operators import (
    EXPECTED_PRODUCTS,
    NCV_TOP1,
    HessianOperator,
    hessian_operator,
    lambda_max_float64,
    route_seconds,
)
from numeric.spectrum import top_eigenpairs_float64

TOL = 1e-10
Case = tuple[str, list[np.ndarray], np.ndarray | None, np.ndarray]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Time the samples and factors Hessian-vector "
                                "products, cold and structured Lanczos starts, and a torch "
                                "HVP + eigsh baseline, with one BLAS thread.")
    p.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    p.add_argument("--repeat", type=int, default=3, help="timed solves per method (median)")
    p.add_argument("--no-torch", action="store_true", help="skip the torch baseline")
    p.add_argument("--no-grid", action="store_true", help="skip the route-choice grid")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error(f"--repeat must be >= 1; got {args.repeat}")
    return args


def load() -> str:
    return "load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


# --------------------------------------------------------------------------- the cases
def _problem(dims: tuple[int, ...], n: int | None, seed: int, *,
             perturb: float | None = None, off: bool = False) -> Case:
    """Seeded ``N(0, 1/d)`` weights; ``n=None``: ``X = I`` and the float64 product as target
    (``off``: plus i.i.d. ``N(0, 1)``); else data and labels i.i.d. ``N(0, 1)``, or labels
    through a minimizer whose weights are then moved by ``perturb``."""
    base = minimizer_problem(dims, seed)
    ws = [w.copy() for w in base.weights]
    rng = np.random.default_rng(seed + 100)
    name = f"{dims}"
    if n is None and off:
        return name + " X=I", ws, None, base.targets.T + rng.standard_normal(base.targets.T.shape)
    if n is None:
        return name + " X=I min", ws, None, base.targets.T.copy()
    x = rng.standard_normal((dims[0], n))
    if perturb is None:
        return name + f" N={n}", ws, x, rng.standard_normal((dims[-1], n))
    f = ws[0]
    for w in ws[1:]:
        f = w @ f
    moved = [w + perturb * rng.standard_normal(w.shape) / np.sqrt(w.shape[1]) for w in ws]
    return name + f" N={n} {perturb:g} off min", moved, x, f @ x


def cases(quick: bool) -> list[Case]:
    if quick:
        return [_problem((8, 16, 16, 8), None, 0), _problem((8, 32, 32, 4), 4, 1),
                _problem((8, 32, 32, 4), 64, 2), _problem((8, 32, 32, 4), 16, 3, perturb=1e-3)]
    return [_problem((64, 128, 128, 128, 64), None, 0), _problem((128,) * 6, 64, 4),
            *(_problem((32, 256, 256, 256, 10), n, 1) for n in (32, 256, 4096)),
            *(_problem((784, 512, 512, 10), n, 2) for n in (32, 256)),
            _problem((32, 256, 256, 256, 10), 256, 3, perturb=1e-3)]


def _dims(ws: list[np.ndarray]) -> list[int]:
    return [ws[0].shape[1]] + [w.shape[0] for w in ws]


# --------------------------------------------------------------------------- timing
def median_seconds(fn: Callable[[], Any], *, runs: int, min_total: float = 0.0) -> float:
    """Median of at least ``runs`` calls (more until ``min_total`` seconds in all, at most 50)."""
    times: list[float] = []
    while len(times) < runs or (sum(times) < min_total and len(times) < 50):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def product_row(case: Case) -> dict[str, Any]:
    name, ws, x, y = case
    row: dict[str, Any] = {"case": name}
    for how in ("factors", "samples"):
        row[f"{how} setup"] = median_seconds(
            functools.partial(hessian_operator, ws, x, y, how=how), runs=3, min_total=0.2)
        op = hessian_operator(ws, x, y, how=how)
        v = np.random.default_rng(0).standard_normal(op.shape[0])
        row[f"{how} hvp"] = median_seconds(functools.partial(op.matvec, v), runs=5,
                                           min_total=0.3)
        if how == "samples":
            row["m"] = op.samples
    pred = route_seconds(_dims(ws), None if x is None else x.shape[1])
    row["pred"] = pred
    row["auto"] = hessian_operator(ws, x, y).route
    return row


def _solve_old(ws: list[np.ndarray], x: np.ndarray | None, y: np.ndarray) -> tuple[float, int]:
    op = HessianOperator(ws, x, y, "factors")
    vals = top_eigenpairs_float64(op, k=1, tol=TOL)[0]
    return float(vals[0]), op.products


def _solve_cold(ws: list[np.ndarray], x: np.ndarray | None, y: np.ndarray, *,
                ncv: int = 20) -> tuple[float, int]:
    op = hessian_operator(ws, x, y)
    v0 = np.random.default_rng(0).standard_normal(op.shape[0])
    value, _, products = lambda_max_float64(op, v0, tol=TOL, ncv=ncv)
    return value, products


def _solve_struct(ws: list[np.ndarray], x: np.ndarray | None,
                  y: np.ndarray) -> tuple[float, int, int]:
    op = hessian_operator(ws, x, y)
    value, _, products = lambda_max_float64(op, tol=TOL)
    return value, products, op.gram_products


def _torch_baseline(case: Case) -> tuple[str, Callable[[], float]]:
    _, ws, x, y = case
    want = "torch double-backprop HVP + eigsh" if x is None else "torch.func jvp(grad) HVP + eigsh"
    factory = next(f for name, _, f in SPEED_BASELINES if name == want)
    inputs = np.eye(ws[0].shape[1]) if x is None else x.T.copy()
    return want, factory(Problem(tuple(ws), inputs, y.T.copy()))


def solve_row(case: Case, repeat: int, torch: bool) -> dict[str, Any]:
    name, ws, x, y = case
    row: dict[str, Any] = {"case": name}
    solvers: list[tuple[str, Callable[..., Any]]] = [
        ("old", _solve_old), ("cold", _solve_cold),
        ("cold10", functools.partial(_solve_cold, ncv=NCV_TOP1)), ("struct", _solve_struct)]
    for label, fn in solvers:
        out: list[Any] = []

        def run(fn: Callable[..., Any] = fn, out: list[Any] = out) -> None:
            out.append(fn(ws, x, y))

        row[f"{label} s"] = median_seconds(run, runs=repeat)
        row[f"{label} value"], row[f"{label} prods"] = out[-1][0], out[-1][1]
        if label == "struct":
            row["gram"] = out[-1][2]
    if torch:
        which, baseline = _torch_baseline(case)
        values: list[float] = []
        row["torch s"] = median_seconds(lambda: values.append(baseline()), runs=repeat)
        row["torch value"], row["torch"] = values[-1], which
    return row


# --------------------------------------------------------------------------- tables
def _ms(s: float) -> str:
    return f"{s * 1e3:.3g}"


def product_table(rows: list[dict[str, Any]]) -> str:
    head = (f"{'case':<44} {'m':>4} | {'factors setup/hvp ms':>21} | {'samples setup/hvp ms':>21}"
            f" | {'predicted f / s hvp ms':>22} | auto    | faster")
    lines = [head, "-" * len(head)]
    for r in rows:
        f = r["factors setup"] + EXPECTED_PRODUCTS * r["factors hvp"]
        s = r["samples setup"] + EXPECTED_PRODUCTS * r["samples hvp"]
        faster = "samples" if s <= f else "factors"
        lines.append(
            f"{r['case']:<44} {r['m']:>4} | {_ms(r['factors setup']):>9} / {_ms(r['factors hvp']):>9}"
            f" | {_ms(r['samples setup']):>9} / {_ms(r['samples hvp']):>9}"
            f" | {_ms(r['pred']['factors'][1]):>10} / {_ms(r['pred']['samples'][1]):>9}"
            f" | {r['auto']:<7} | {faster} ({max(f, s) / min(f, s):.2g}x)")
    return "\n".join(lines)


def solve_table(rows: list[dict[str, Any]]) -> str:
    head = (f"{'case':<44} | {'old ms (prods)':>15} | {'cold ms (prods)':>15} | "
            f"{'cold10 ms (prods)':>17} | {'struct ms (prods+gram)':>22} | {'torch ms':>9} | "
            "old/struct | max rel diff")
    lines = [head, "-" * len(head)]
    for r in rows:
        values = [r["old value"], r["cold value"], r["cold10 value"], r["struct value"]]
        if "torch value" in r:
            values.append(r["torch value"])
        diff = (max(values) - min(values)) / abs(r["struct value"])
        torch = _ms(r["torch s"]) if "torch s" in r else "-"
        lines.append(
            f"{r['case']:<44} | {_ms(r['old s']):>8} ({r['old prods']:>3}) |"
            f" {_ms(r['cold s']):>8} ({r['cold prods']:>3}) |"
            f" {_ms(r['cold10 s']):>10} ({r['cold10 prods']:>3}) |"
            f" {_ms(r['struct s']):>10} ({r['struct prods']:>3}+{r['gram']:>3}) |"
            f" {torch:>9} | {r['old s'] / r['struct s']:>10.2f} | {diff:.1e}")
    lines.append("lambda_max (struct): " + "; ".join(
        f"{r['case']}: {r['struct value']:.12g}" for r in rows))
    if rows and "torch" in rows[0]:
        lines.append("torch baselines: " + "; ".join(sorted({r["torch"] for r in rows})))
    return "\n".join(lines)


def grid_cases(quick: bool) -> list[Case]:
    shapes: list[tuple[tuple[int, ...], int | None]] = (
        [((8, 16, 16, 8), None), ((8, 16, 16, 8), 4), ((16, 16, 16), 64)] if quick else
        [((64, 64, 64, 64), None), ((128, 128, 128, 128), None), ((256, 256, 256, 256), None),
         ((256, 64, 64, 256), None), ((512, 128, 128, 10), None), ((16, 256, 256, 16), None),
         ((128, 128, 128, 128), 8), ((128, 128, 128, 128), 64), ((128, 128, 128, 128), 1024),
         ((256, 256, 256, 256), 128), ((256, 64, 64, 256), 64), ((64, 512, 512, 10), 64),
         ((512, 512, 512, 512), 32)])
    return [_problem(d, n, 7 + i, off=True) for i, (d, n) in enumerate(shapes)]


def grid_table(rows: list[dict[str, Any]]) -> str:
    head = (f"{'case':<36} {'m':>4} | {'measured f / s ms':>17} | {'predicted f / s ms':>18} |"
            f" auto    | measured faster")
    lines = [head, "-" * len(head)]
    right = 0
    for r in rows:
        f = r["factors setup"] + EXPECTED_PRODUCTS * r["factors hvp"]
        s = r["samples setup"] + EXPECTED_PRODUCTS * r["samples hvp"]
        pf = r["pred"]["factors"][0] + EXPECTED_PRODUCTS * r["pred"]["factors"][1]
        ps = r["pred"]["samples"][0] + EXPECTED_PRODUCTS * r["pred"]["samples"][1]
        faster = "samples" if s <= f else "factors"
        right += faster == r["auto"] or max(f, s) <= 1.1 * min(f, s)
        lines.append(f"{r['case']:<36} {r['m']:>4} | {_ms(f):>8} / {_ms(s):>6} |"
                     f" {_ms(pf):>8} / {_ms(ps):>7} | {r['auto']:<7} | {faster}"
                     f" ({max(f, s) / min(f, s):.2g}x)")
    lines.append(f"(setup + {EXPECTED_PRODUCTS} products) auto chose the faster route, or one "
                 f"within 10%, in {right} of {len(rows)} cases")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main
def _torch_ready(skip: bool) -> bool:
    if skip:
        return False
    try:
        import torch
    except ImportError as exc:
        print(f"torch baseline skipped: PyTorch does not import ({exc})")
        return False
    torch.set_num_threads(1)
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch = _torch_ready(args.no_torch)
    import scipy

    versions = f"numpy {np.__version__}, scipy {scipy.__version__}"
    if torch:
        import torch as _torch

        versions += f", torch {_torch.__version__} ({_torch.get_num_threads()} thread)"
    print(versions)
    with threadpool_limits(1):
        blas = "; ".join(f"{i['internal_api']} {i.get('version')} {i['num_threads']} thread"
                         for i in threadpool_info())
        print(f"BLAS (inside threadpool_limits(1)): {blas}")
        print(load())
        rows = [product_row(c) for c in cases(args.quick)]
        print("\nOne Hessian-vector product (median) and building the operator\n"
              + product_table(rows))
        print(load())
        solves = [solve_row(c, args.repeat, torch) for c in cases(args.quick)]
        print(f"\nlambda_max by ARPACK (tol {TOL:g}, k = 1), end to end, median of "
              f"{args.repeat}\n" + solve_table(solves))
        print(load())
        if not args.no_grid:
            grid = [product_row(c) for c in grid_cases(args.quick)]
            print("\nRoute choice against measured time\n" + grid_table(grid))
            print(load())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
