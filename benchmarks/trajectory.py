"""The ``trajectory`` suite of ``benchmarks/run.py``: the sharpness at every step of one
gradient-descent run, ``numeric.dynamics.track.SharpnessTracker`` against the fastest
Hessian-vector-product baseline warm-started from its previous eigenvector.

Public:
    SIZES                 ``{"small" | "default" | "large": Setting}``
    Setting               dims, samples, steps, screened steps, ``eta`` factor
    points(setting, seed) the run's weights at every step (gradient descent, untimed)
    run(size, opts)       the rows (JSON-ready), load before / after, thread settings
    table(result, fmt)    the printed table
    targets(result, size) the project's target for this suite, met or missed

**The run.** Seeded ``N(0, 1/d_{l-1})`` weights, data ``X`` and labels ``Y`` i.i.d. ``N(0, 1)``
(``d_0 x N``, ``d_L x N``), loss ``0.5 ||W_L...W_1 X - Y||_F^2``, full-batch gradient descent
``W <- W - eta grad`` at ``eta = eta_factor / lambda_max(start)`` (default 1: half the
stability limit ``2/eta``). The weights of every step are computed first (not timed).

**Ours**: one ``SharpnessTracker(data=X, labels=Y)`` called on every step's weights (its
defaults: warm start from the previous eigenvector, ARPACK ``k = 1``, relative residual
``1e-10``); the total of the calls' wall times, and the products per step it records.
**Theirs**: each baseline of ``hvp_baselines.BASELINES`` at every step: its HVP rebuilt at the
step's weights, then ``eigsh(k=1, which="LA", v0=previous eigenvector, tol=1e-10)`` (the
first step from a seeded random vector), ARPACK's default ``ncv``, as a user writes a warm
start. Every baseline runs the first ``screen`` steps; the fastest of them over those steps
(they share the start vectors and ARPACK, so they differ only in the cost of a product) runs
the whole trajectory, and the ratio is its total over ours. Agreement: the largest relative
difference between our value and the baseline's over the steps it ran; above
``offmin.AGREE = 1e-10`` the row is flagged.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import hvp_baselines as hb
import numpy as np

__all__ = ["SIZES", "Setting", "points", "run", "table", "targets"]

TOL = 1e-10
"""ARPACK's relative residual, the tracker's (``numeric.dynamics.track.LANCZOS_TOL``) and the
baselines'."""


@dataclass(frozen=True)
class Setting:
    dims: tuple[int, ...]
    samples: int
    steps: int
    screen: int
    eta_factor: float = 1.0


SIZES: dict[str, Setting] = {
    "small": Setting((8, 16, 16, 16, 6), 48, 20, 5),
    "default": Setting((32, 128, 128, 128, 10), 512, 200, 20),
    "large": Setting((32, 128, 128, 128, 10), 512, 200, 200),
}


def points(setting: Setting, seed: int) -> tuple[list[list[np.ndarray]], np.ndarray,
                                                np.ndarray, float]:
    """``(weights at every step, X, Y, eta)``: gradient descent on the half-sum loss."""
    from numeric.loss import gradient
    from numeric.operators import hessian_operator, lambda_max_float64

    dims, n = setting.dims, setting.samples
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal((dims[l], dims[l - 1])) / math.sqrt(dims[l - 1])
          for l in range(1, len(dims))]
    x, y = rng.standard_normal((dims[0], n)), rng.standard_normal((dims[-1], n))
    eta = setting.eta_factor / lambda_max_float64(hessian_operator(ws, x, y), tol=TOL)[0]
    out = [ws]
    for _ in range(setting.steps - 1):
        ws = [w - eta * g for w, g in zip(ws, gradient(ws, x, y), strict=True)]
        out.append(ws)
    return out, x, y, eta


def ours(path: list[list[np.ndarray]], x: np.ndarray, y: np.ndarray,
         tracker_class: Any = None) -> dict[str, Any]:
    """The tracker over the run: total seconds (sum of the calls' wall times), values, products."""
    from numeric.dynamics.track import SharpnessTracker

    tracker = (tracker_class or SharpnessTracker)(data=x, labels=y)
    seconds = 0.0
    for ws in path:
        start = time.perf_counter()
        tracker(ws)
        seconds += time.perf_counter() - start
    hist = tracker.history
    return {"method": "ours: SharpnessTracker(data=X, labels=Y)", "steps": len(hist),
            "seconds": seconds, "values": [r.sharpness for r in hist],
            "products": [r.products for r in hist], "how": tracker.method}


def warm_baseline(name: str, build: hb.Build, path: list[list[np.ndarray]], x: np.ndarray,
                  y: np.ndarray) -> dict[str, Any]:
    """One baseline over ``path``: HVP rebuilt per step, ``eigsh`` from the previous vector."""
    inputs, targets = np.ascontiguousarray(x.T), np.ascontiguousarray(y.T)
    p = sum(w.size for w in path[0])
    v0 = np.random.default_rng(0).standard_normal(p)
    values, products, seconds = [], [], 0.0
    for ws in path:
        start = time.perf_counter()
        value, v0, count = hb.top_eigenpair(build(ws, inputs, targets), p, v0, tol=TOL)
        seconds += time.perf_counter() - start
        values.append(value)
        products.append(count)
    return {"method": name, "steps": len(path), "seconds": seconds, "values": values,
            "products": products}


def _diff(a: list[float], b: list[float]) -> float:
    return max(abs(u - v) / abs(u) for u, v in zip(a, b, strict=False))


def _load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def run(size: str, opts: Any, tracker_class: Any = None) -> dict[str, Any]:
    """Ours and every available baseline on the run of ``SIZES[size]`` (module docstring)."""
    from numeric.evaluators.threads import choose_threads

    setting = SIZES[size]
    path, x, y, eta = points(setting, opts.seed)
    available = hb.available()
    if available.get("JAX jit(jvp(grad)) HVP + eigsh") is None:
        hb.enable_float64_jax()
    for name, _, build in hb.BASELINES:  # untimed: JAX compiles, torch initializes
        if available[name] is None:
            build(path[0], np.ascontiguousarray(x.T), np.ascontiguousarray(y.T))(
                np.ones(sum(w.size for w in path[0])))
    before = _load()
    mine = ours(path, x, y, tracker_class)
    rows: list[dict[str, Any]] = []
    for name, _, build in hb.BASELINES:
        if available[name] is not None:
            rows.append({"method": name, "status": "unavailable", "note": available[name]})
            continue
        row = warm_baseline(name, build, path[: setting.screen], x, y)
        rows.append({**row, "status": "ok"})
    ran = [r for r in rows if r["status"] == "ok"]
    fastest = min(ran, key=lambda r: r["seconds"], default=None)
    if fastest is not None and setting.screen < setting.steps:
        build = next(b for n, _, b in hb.BASELINES if n == fastest["method"])
        fastest.update(warm_baseline(fastest["method"], build, path, x, y))
    for r in ran:
        r["max_rel_diff"] = _diff(mine["values"], r["values"])
        r["agree"] = r["max_rel_diff"] <= 1e-10
    d0, dl = setting.dims[0], setting.dims[-1]
    work = 2.0 * max(d0, dl, setting.samples) * max(
        max(a * b for a, b in zip(setting.dims, setting.dims[1:], strict=False)), d0 * dl)
    return {"setting": {"dims": list(setting.dims), "samples": setting.samples,
                        "steps": setting.steps, "screen": setting.screen, "eta": eta},
            "ours": mine, "baselines": rows,
            "fastest": None if fastest is None else fastest["method"],
            "ratio": None if fastest is None else fastest["seconds"] / mine["seconds"],
            "load_before": before, "load_after": _load(),
            "threads": choose_threads(work).describe()}


# --------------------------------------------------------------------------- printing
def _per_step(r: dict[str, Any]) -> str:
    p = r["products"]
    return f"{sum(p) / len(p):.1f} ({min(p)}-{max(p)})"


def table(result: dict[str, Any], fmt: Callable[[list[str], list[list[str]]], str]) -> str:
    s, mine = result["setting"], result["ours"]
    header = ["method", "steps run", "total [s]", "per step [ms]", "products per step (min-max)",
              "total / ours", "max rel diff"]
    body = [[mine["method"], str(mine["steps"]), f"{mine['seconds']:.3g}",
             f"{1e3 * mine['seconds'] / mine['steps']:.3g}", _per_step(mine), "1", "-"]]
    for r in result["baselines"]:
        if r["status"] != "ok":
            body.append([r["method"], "-", "not installed", "-", "-", "-", "-"])
            continue
        full = r["steps"] == s["steps"]
        total = f"{r['seconds']:.3g}" if full else f"({r['seconds']:.3g} for {r['steps']})"
        ratio = (r["seconds"] / mine["seconds"] if full else
                 r["seconds"] / (mine["seconds"] * r["steps"] / mine["steps"]))
        flag = "" if r["agree"] else " FLAGGED"
        body.append([r["method"] + (" [fastest]" if r["method"] == result["fastest"] else ""),
                     str(r["steps"]), total, f"{1e3 * r['seconds'] / r['steps']:.3g}",
                     _per_step(r), f"{ratio:.3g}x" + ("" if full else " (per step)"),
                     f"{r['max_rel_diff']:.1e}{flag}"])
    lines = [f"-- {s['steps']} gradient-descent steps of {tuple(s['dims'])}, N = {s['samples']},"
             f" eta = {s['eta']:.4g} (1/lambda_max at the start): SharpnessTracker vs the "
             "fastest baseline warm-started with eigsh(k=1, v0=previous eigenvector)",
             f"   load average before {result['load_before']}; ours: {result['threads']} "
             "(numeric.evaluators.threads.choose_threads); every baseline: 1 thread; every "
             f"baseline ran the first {s['screen']} steps, the fastest of them all "
             f"{s['steps']}", fmt(header, body),
             "   ratio (fastest baseline's total / ours): "
             + ("-" if result["ratio"] is None else f"{result['ratio']:.3g}x"),
             f"   ours: {mine['how']}", f"   load average after {result['load_after']}"]
    lines += [f"   {r['method']}: {r['note']}" for r in result["baselines"]
              if r["status"] != "ok"]
    return "\n".join(lines)


def targets(result: dict[str, Any], size: str) -> list[dict[str, Any]]:
    """>= 10x the fastest warm-started baseline over the 200-step run; agreement."""
    ratio = result["ratio"]
    entry: dict[str, Any] = {"target": ">= 10x the fastest warm-started baseline over the "
                                       "200-step trajectory"}
    if size == "small" or ratio is None:
        entry.update(met=None, measured="not at these sizes" if size == "small" else
                     "no baseline ran")
    else:
        entry.update(met=ratio >= 10.0, measured=f"{ratio:.3g}x vs {result['fastest']}")
    ran = [r for r in result["baselines"] if r["status"] == "ok"]
    bad = [r["method"] for r in ran if not r["agree"]]
    agree = {"target": "trajectory agreement: relative difference <= 1e-10 at every step",
             "met": not bad if ran else None,
             "measured": ("max " + f"{max(r['max_rel_diff'] for r in ran):.1e}" if ran else
                          "no baseline ran") + (f"; FLAGGED: {bad}" if bad else "")}
    return [entry, agree]
