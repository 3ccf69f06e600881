"""The ``offmin`` suite of ``benchmarks/run.py``: one float64 ``lambda_max`` off minimizers and at
exact minimizers, ours against the fastest Hessian-vector-product baseline and the plain-NumPy
limit.

Public:
    SIZES                    ``{"small" | "default" | "large": {"offmin": [...], "minimizer":
                             [...], "sweep": [...]}}`` (the cases below)
    Case                     one input: weights, data (``None``: ``X = I``), labels / target
    run(size, opts)          every table's rows (dicts, JSON-ready) and its load / thread text
    tables(result)           the printed tables
    targets(result)         the project's speed targets for this suite, met or missed

**Ours** is the public call ``numeric.sharpness.sharpness(ws, ..., float64=True)`` end to end
from the weights (input checks, the minimizer test, the Hessian operator, Lanczos: ARPACK
``k = 1``, relative residual ``1e-10``, from the structured start ``J^T u``), and, to show
what the call adds, one solve of ``numeric.operators``: ``lambda_max_float64(hessian_operator(ws,
X, Y), tol=1e-10)`` (the operator built inside the timed call). **Theirs**: every baseline of
``hvp_baselines.BASELINES`` (torch double backprop, ``torch.func`` jvp-of-grad, curvlinops, jitted
JAX jvp-of-grad), each ARPACK ``eigsh(k=1, which="LA")`` from a seeded start at the SAME relative
residual ``1e-10``, timed end to end from the weights; a baseline that is not installed is
reported with the command that installs it. Ratio = the fastest baseline's time / ours.
Agreement: the largest relative difference between our value and any baseline's (and the
plain-NumPy limit's); above ``AGREE = 1e-10`` the row is flagged.

**Cases** (``N(0, 1/d_{l-1})`` weights, seeded; data and labels i.i.d. ``N(0, 1)``):
    offmin      (64,128,128,128,64) ``X = I``, target the float64 product ``fl(W_4 W_3 W_2 W_1)``
                (``R`` is its rounding error: not a minimizer, the full Hessian);
                (32,256,256,256,10) with data, ``N`` = 32, 256, 4096; (784,512,512,10), ``N`` =
                32, 256; (32,256,256,256,10) ``1e-3`` from a minimizer (``Y = W*_L...W*_1 X``,
                each ``W_l = W*_l + 1e-3 Z_l``, ``Z_l`` i.i.d. ``N(0, 1/d_{l-1})``), ``N = 256``
    minimizer   exact minimizers, ``target="product"``: (16,1024,1024,16), (8,512,512,512,8),
                against the plain-NumPy limit too: ``K = sum_l (A_l A_l^T) kron (B_l^T B_l)``
                (``A_l = W_L...W_{l+1}``, ``B_l = W_{l-1}...W_1``, thin chains) and
                ``np.linalg.eigvalsh(K)[-1]`` (``lambda_max(J^T J) = lambda_max(J J^T)``,
                docs/mathematics.md K2); the baselines get the float64 product as target
    sweep       hidden width ``w`` = 64, 128, 256, 512, 1024 at dims (32,w,w,w,10) (depth 4),
                data ``N = 256``; the growth exponent ``alpha`` of ``t ~ w^alpha`` (least squares
                on ``log t``) for ours and for the fastest baseline at each width
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import hvp_baselines as hb
import numpy as np
from harness import Timing, measure

__all__ = ["AGREE", "SIZES", "Case", "run", "tables", "targets"]

AGREE = 1e-10
"""Largest relative difference between two values of one case that passes (both solvers stop
at relative residual ``TOL``; the eigenvalue error is far smaller)."""
TOL = 1e-10
"""ARPACK's relative residual, ours (``numeric.sharpness.LANCZOS_TOL``) and every baseline's."""


@dataclass(frozen=True)
class Case:
    """One input. ``data`` ``None``: ``X = I`` and ``labels`` is the target ``M`` (or the string
    ``"product"``: an exact minimizer)."""

    table: str
    label: str
    weights: tuple[np.ndarray, ...]
    data: np.ndarray | None
    labels: Any

    @property
    def dims(self) -> tuple[int, ...]:
        return (self.weights[0].shape[1], *(w.shape[0] for w in self.weights))

    @property
    def params(self) -> int:
        return sum(w.size for w in self.weights)

    @property
    def samples(self) -> int | None:
        return None if self.data is None else self.data.shape[1]

    def float_target(self) -> np.ndarray:
        """``Y`` (``d_L x N``) or ``M``; for ``"product"`` the float64 product (baselines)."""
        if isinstance(self.labels, str):
            return _product(self.weights)
        return np.asarray(self.labels)

    def sample_major(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X^T, Y^T)`` as the frameworks want them (``X = I`` as the identity)."""
        x = np.eye(self.dims[0]) if self.data is None else self.data
        return np.ascontiguousarray(x.T), np.ascontiguousarray(self.float_target().T)


def _weights(dims: Sequence[int], seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((dims[l + 1], dims[l])) / np.sqrt(dims[l])
                 for l in range(len(dims) - 1))


def _product(ws: Sequence[np.ndarray]) -> np.ndarray:
    out = ws[0]
    for w in ws[1:]:
        out = w @ out
    return out


def float_product_case(dims: tuple[int, ...], seed: int) -> Case:
    ws = _weights(dims, seed)
    return Case("offmin", f"{dims} X=I, M = fl(product)", ws, None, _product(ws))


def data_case(dims: tuple[int, ...], n: int, seed: int, table: str = "offmin") -> Case:
    ws = _weights(dims, seed)
    rng = np.random.default_rng(seed + 1000)
    x, y = rng.standard_normal((dims[0], n)), rng.standard_normal((dims[-1], n))
    return Case(table, f"{dims} N={n}", ws, x, y)


def near_minimizer_case(dims: tuple[int, ...], n: int, seed: int, eps: float) -> Case:
    star = _weights(dims, seed)
    rng = np.random.default_rng(seed + 1000)
    x = rng.standard_normal((dims[0], n))
    moved = tuple(w + eps * rng.standard_normal(w.shape) / np.sqrt(w.shape[1]) for w in star)
    return Case("offmin", f"{dims} N={n}, {eps:g} from a minimizer", moved, x, _product(star) @ x)


def minimizer_case(dims: tuple[int, ...], seed: int) -> Case:
    return Case("minimizer", f"{dims} target='product'", _weights(dims, seed), None, "product")


def _cases(offmin: list[tuple[Any, ...]], minimizer: list[tuple[int, ...]],
           sweep: tuple[tuple[int, int, int], list[int], int]) -> dict[str, list[Case]]:
    out: list[Case] = []
    for i, spec in enumerate(offmin):
        kind, dims, *rest = spec
        if kind == "product":
            out.append(float_product_case(dims, i))
        elif kind == "data":
            out.append(data_case(dims, rest[0], i))
        else:
            out.append(near_minimizer_case(dims, rest[0], i, rest[1]))
    (d0, dl, depth), widths, n = sweep
    return {"offmin": out,
            "minimizer": [minimizer_case(d, 50 + i) for i, d in enumerate(minimizer)],
            "sweep": [data_case((d0, *([w] * (depth - 1)), dl), n, 100 + w, "sweep")
                      for w in widths]}


SIZES: dict[str, Callable[[], dict[str, list[Case]]]] = {
    "small": lambda: _cases(
        [("product", (8, 16, 16, 16, 8)), ("data", (4, 32, 32, 32, 3), 4),
         ("data", (4, 32, 32, 32, 3), 32), ("data", (4, 32, 32, 32, 3), 256),
         ("data", (24, 32, 32, 3), 8), ("data", (24, 32, 32, 3), 32),
         ("near", (4, 32, 32, 32, 3), 32, 1e-3)],
        [(4, 64, 64, 4), (2, 32, 32, 32, 2)], ((4, 3, 4), [16, 32, 64], 32)),
    "default": lambda: _cases(
        [("product", (64, 128, 128, 128, 64)), *(("data", (32, 256, 256, 256, 10), n)
                                                for n in (32, 256, 4096)),
         *(("data", (784, 512, 512, 10), n) for n in (32, 256)),
         ("near", (32, 256, 256, 256, 10), 256, 1e-3)],
        [(16, 1024, 1024, 16), (8, 512, 512, 512, 8)], ((32, 10, 4), [64, 128, 256, 512, 1024],
                                                        256)),
}
SIZES["large"] = SIZES["default"]


# --------------------------------------------------------------------------- the solvers
def ours(case: Case) -> Callable[[], float]:
    """``sharpness(..., float64=True)`` on the case's problem, as a user calls it."""
    from numeric.sharpness import sharpness

    ws = list(case.weights)
    if case.data is None:
        return lambda: float(sharpness(ws, case.labels, float64=True).value)
    return lambda: float(sharpness(ws, data=case.data, labels=case.labels, float64=True).value)


def ours_solve(case: Case, products: list[int]) -> Callable[[], float]:
    """One ``numeric.operators`` solve from the weights: operator + structured start + ARPACK
    (``ncv = NCV_TOP1``); its product count goes to ``products``."""
    from numeric.operators import hessian_operator, lambda_max_float64

    target = case.float_target() if case.data is None else case.labels

    def run() -> float:
        value, _, n = lambda_max_float64(hessian_operator(list(case.weights), case.data, target),
                                         tol=TOL)
        products[:] = [n]
        return value

    return run


def numpy_limit(ws: Sequence[np.ndarray]) -> float:
    """``lambda_max`` at a minimizer without data, in plain NumPy: ``K = sum_l (A_l A_l^T) kron
    (B_l^T B_l)`` from the thin chains ``A_{l-1} = A_l W_l`` (``A_L = I``) and ``B_{l+1} = W_l
    B_l`` (``B_1 = I``), then ``eigvalsh(K)[-1]`` (LAPACK, every eigenvalue)."""
    a, b = [np.eye(ws[-1].shape[0])], [np.eye(ws[0].shape[1])]
    for w in reversed(ws[1:]):
        a.append(a[-1] @ w)
    for w in ws[:-1]:
        b.append(w @ b[-1])
    k = sum(np.kron(al @ al.T, bl.T @ bl) for al, bl in zip(reversed(a), b, strict=True))
    return float(np.linalg.eigvalsh(k)[-1])


def baseline(build: hb.Build, case: Case, products: list[int]) -> Callable[[], float]:
    x, y = case.sample_major()
    ws = list(case.weights)

    def run() -> float:
        value, n = hb.solve(build, ws, x, y, tol=TOL)
        products[:] = [n]
        return value

    return run


# --------------------------------------------------------------------------- one row
def _work(case: Case) -> float:
    """Flops of the largest product of one Hessian-vector product, as ``numeric.sharpness``
    and the tracker count them for the thread rule."""
    d0, dl = case.dims[0], case.dims[-1]
    cols = d0 if case.samples is None else case.samples
    return 2.0 * max(d0, dl, cols) * max(max(w.size for w in case.weights), d0 * dl)


def _timed(name: str, fn: Callable[[], float], opts: Any) -> Timing:
    return measure(name, fn, repeat=opts.repeat, cap=opts.cap, budget=opts.budget)


def _warm(case: Case, available: dict[str, str | None]) -> None:
    """Untimed: JAX compiles per shape, torch initializes its autograd on first use."""
    x, y = case.sample_major()
    v = np.ones(case.params)
    for name, _, build in hb.BASELINES:
        if available[name] is None:
            build(list(case.weights), x, y)(v)


def run_case(case: Case, opts: Any, available: dict[str, str | None]) -> dict[str, Any]:
    """Ours (``sharpness`` and one ``numeric.operators`` solve), every baseline, and the NumPy
    limit for exact minimizers; the fastest baseline, the ratio and the agreement."""
    from numeric.evaluators.threads import choose_threads

    _warm(case, available)
    t_ours = _timed("ours: sharpness(float64=True)", ours(case), opts)
    prods: list[int] = []
    t_solve = _timed("ours: lambda_max_float64(hessian_operator)", ours_solve(case, prods), opts)
    t_solve.note = f"{prods[0]} products" if prods else t_solve.note
    theirs: list[Timing] = []
    for name, _, build in hb.BASELINES:
        if available[name] is not None:
            theirs.append(Timing(name, status="unavailable", note=str(available[name])))
            continue
        counted: list[int] = []
        t = _timed(name, baseline(build, case, counted), opts)
        if counted:
            t.note = f"{counted[0]} products"
        theirs.append(t)
    limit = (_timed("plain NumPy: eigvalsh(sum kron(A A^T, B^T B))[-1]",
                    lambda: numpy_limit(case.weights), opts)
             if isinstance(case.labels, str) else None)
    ok = [t for t in theirs if t.ok]
    fastest = min(ok, key=lambda t: t.seconds or math.inf, default=None)
    values = [t.value for t in (*ok, t_solve, *([limit] if limit and limit.ok else []))
              if t.ok]
    diff = (max(abs(v - t_ours.value) for v in values) / abs(t_ours.value)
            if t_ours.ok and values and t_ours.value else None)
    return {
        "table": case.table, "case": case.label, "dims": list(case.dims), "params": case.params,
        "samples": case.samples, "ours": t_ours.to_json(), "ours_solve": t_solve.to_json(),
        "baselines": [t.to_json() for t in theirs], "limit": None if limit is None else
        limit.to_json(), "fastest": None if fastest is None else fastest.method,
        "fastest_seconds": None if fastest is None else fastest.seconds,
        "ratio": _over(fastest, t_ours), "limit_ratio": _over(limit, t_ours),
        "max_rel_diff": diff, "agree": diff is not None and diff <= AGREE,
        "threads": choose_threads(_work(case)).describe(),
    }


def _over(theirs: Timing | None, ours: Timing) -> float | None:
    """``theirs.seconds / ours.seconds`` when both ran."""
    if theirs is None or not (theirs.ok and ours.ok and theirs.seconds and ours.seconds):
        return None
    return theirs.seconds / ours.seconds


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(size: str, opts: Any) -> dict[str, Any]:
    """Every table of the suite at ``size``: rows, load average before and after each table."""
    available = hb.available()
    if available.get("JAX jit(jvp(grad)) HVP + eigsh") is None:
        hb.enable_float64_jax()
    out: dict[str, Any] = {"available": available, "tables": {}}
    for table, cases in SIZES[size]().items():
        before = _load()
        rows = [run_case(c, opts, available) for c in cases]
        out["tables"][table] = {"rows": rows, "load_before": before, "load_after": _load()}
    sweep = out["tables"]["sweep"]["rows"]
    out["growth"] = {"ours": _exponent(sweep, lambda r: r["ours"]["seconds"]),
                     "fastest baseline": _exponent(sweep, lambda r: r["fastest_seconds"])}
    return out


def _exponent(rows: list[dict[str, Any]], seconds: Callable[[dict[str, Any]], Any]) -> float | None:
    """Least-squares slope of ``log t`` against ``log w`` (``w`` the hidden width)."""
    pts = [(math.log(r["dims"][1]), math.log(s)) for r in rows
           if (s := seconds(r)) is not None and s > 0]
    if len(pts) < 2:
        return None
    xs, ys = np.array(pts).T
    return float(np.polyfit(xs, ys, 1)[0])


# --------------------------------------------------------------------------- printing
def _cell(t: dict[str, Any] | None) -> str:
    if t is None:
        return "-"
    if t["status"] == "unavailable":
        return "not installed"
    if t["status"] == "capped":
        return f"> {t['seconds']:g}"
    if t["status"] != "ok":
        return t["status"]
    n = t["note"].split()[0] if t["note"].endswith("products") else ""
    return f"{t['seconds']:.3g}" + (f" ({n})" if n else "")


def _short(name: str) -> str:
    return name.replace(" HVP + eigsh", "").replace(" HessianLinearOperator + eigsh", "")


def _ratio(x: float | None) -> str:
    return "-" if x is None else (f"{x:.3g}x" if x < 100 else f"{x:.0f}x")


def _table_lines(rows: list[dict[str, Any]], limit: bool) -> tuple[list[str], list[list[str]]]:
    names = [_short(b["method"]) for b in rows[0]["baselines"]]
    header = ["case", "P", "ours sharpness() [s]", "ours solve [s] (prods)",
              *[f"{n} [s] (prods)" for n in names], "fastest", "fastest / ours"]
    if limit:
        header[-1:-1] = ["plain NumPy limit [s]"]
        header.append("NumPy / ours")
    header.append("max rel diff")
    body = []
    for r in rows:
        line = [r["case"], str(r["params"]), _cell(r["ours"]), _cell(r["ours_solve"]),
                *[_cell(b) for b in r["baselines"]],
                "-" if r["fastest"] is None else _short(r["fastest"]), _ratio(r["ratio"])]
        if limit:
            line[-1:-1] = [_cell(r["limit"])]
            line.append(_ratio(r["limit_ratio"]))
        diff = r["max_rel_diff"]
        line.append("-" if diff is None else f"{diff:.1e}" + ("" if r["agree"] else " FLAGGED"))
        body.append(line)
    return header, body


TITLES = {
    "offmin": "float64 lambda_max off minimizers: ours vs the fastest HVP + eigsh baseline",
    "minimizer": "float64 lambda_max at exact minimizers (target='product'): ours vs the "
                 "plain-NumPy limit and the baselines",
    "sweep": "width sweep: hidden width w at fixed ends, depth 4, data off a minimizer",
}


def tables(result: dict[str, Any], fmt: Callable[[list[str], list[list[str]]], str]) -> str:
    """The suite's tables as printed (``fmt`` lays out one table), each with its load average
    before and after and the thread setting."""
    parts = []
    for table, doc in result["tables"].items():
        rows = doc["rows"]
        if not rows:
            continue
        header, body = _table_lines(rows, table == "minimizer")
        threads = sorted({r["threads"] for r in rows})
        parts.append(f"-- {TITLES[table]}\n   load average before {doc['load_before']}; ours: "
                     f"{'; '.join(threads)} (numeric.evaluators.threads.choose_threads); every "
                     "baseline: 1 thread")
        parts.append(fmt(header, body))
        if table == "sweep":
            g = result["growth"]
            parts.append("   growth t ~ w^alpha: ours alpha = " + _num(g["ours"]) +
                         ", fastest baseline alpha = " + _num(g["fastest baseline"]))
        parts.append(f"   load average after {doc['load_after']}")
    missing = {k: v for k, v in result["available"].items() if v}
    for name, why in missing.items():
        parts.append(f"   {name}: {why}")
    return "\n".join(parts)


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def targets(result: dict[str, Any], size: str) -> list[dict[str, Any]]:
    """The suite's targets (README): measured, met / missed (``None``: not at these sizes)."""
    rows = [r for doc in result["tables"].values() for r in doc["rows"]]
    by = {r["case"]: r for r in rows}
    out: list[dict[str, Any]] = []
    heads = [f"(32, 256, 256, 256, 10) N={n}" for n in (32, 256, 4096)]
    heads.append("(64, 128, 128, 128, 64) X=I, M = fl(product)")
    sel = [by[h] for h in heads if h in by]
    out.append(_goal(">= 5x the fastest baseline at (32,256,256,256,10) N = 32, 256, 4096 off "
                     "minimizers and at (64,128,128,128,64) with the float product as target",
                     sel, "ratio", 5.0, len(heads)))
    out.append(_goal("never slower than the fastest baseline (every row)", rows, "ratio", 1.0,
                     len(rows)))
    mins = [r for r in rows if r["table"] == "minimizer"]
    out.append(_goal("within 2x of the plain-NumPy limit at exact minimizers", mins,
                     "limit_ratio", 0.5, len(mins)))
    bad = [r["case"] for r in rows if not r["agree"]]
    out.append({"target": f"agreement: relative difference <= {AGREE:g} on every row",
                "met": not bad, "measured": "all rows" if not bad else f"FLAGGED: {bad}"})
    if size == "small":
        for t in out[:1]:
            t["met"], t["measured"] = None, "not at these sizes"
    return out


def _goal(text: str, rows: list[dict[str, Any]], key: str, floor: float,
          expected: int) -> dict[str, Any]:
    vals = [(r["case"], r[key]) for r in rows]
    if not vals or len(vals) < expected or any(v is None for _, v in vals):
        return {"target": text, "met": None, "measured": "not measured"}
    worst = min(vals, key=lambda cv: cv[1])
    return {"target": text, "met": all(v >= floor for _, v in vals),
            "measured": f"lowest {worst[1]:.3g}x at {worst[0]}"}
