"""The benchmark suites: each times our route and a user's route on the same inputs.

Public:
    SIZES        ``{"small" | "default" | "large": {suite: [dims, ...]}}``
    SUITES       suite name -> (title, function)
    Row          one line of the table: dims, our timing, their timing, agreement
    Options      what every suite needs (repeat, cap, seed, dps)

Suites (names for ``--only``):
    autograd   float64 at minimizers: ``numeric.sharpness.sharpness(ws, "product",
               float64=True)`` (dense reduced operator K, or Lanczos on the matrix-free K) vs
               torch autograd full Hessian + ``eigvalsh``
    hvp        the same "ours" vs ARPACK Lanczos on torch HVPs, and vs 100 steps of
               PyHessian-style HVP power iteration
    mpmath     50 digits: ``sharpness(exact rationals, dps=50)`` (certified enclosure of
               lambda_max(K)) vs mpmath ``eigsy`` on the full P x P Hessian
    symbolic   ``derivations.hessian.loss_hessian`` + ``derivations.identities.prove_gauss_newton``
               vs SymPy ``hessian`` on an ``Expr`` loss + ``expand`` of ``H - J^T J``
    scaling    ours only, with a breakdown: float64 time vs hidden width at fixed d_0 = d_L
               and vs d_L d_0 at fixed hidden width (K assembly / eigen part), and the
               certified route vs hidden width
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import baselines as bl
import numpy as np
from harness import Timing, agreeing_digits, measure

__all__ = ["SIZES", "SUITES", "Options", "Row"]

FLOAT64_DIGITS = 15.9
"""Agreement cap for float64 values (``-log10(2^-53) = 15.95``)."""


def _cube(ds: Sequence[int]) -> list[tuple[int, ...]]:
    return [(d, d, d, d) for d in ds]


SIZES: dict[str, dict[str, list[tuple[int, ...]]]] = {
    "small": {
        "autograd": _cube([6]),
        "hvp": [(8, 16, 16, 8)],
        "mpmath": _cube([3]),
        "symbolic": [(2, 2, 2)],
        "scaling-hidden": [(4, h, h, 4) for h in (4, 16)],
        "scaling-ends": [(d, 16, 16, d) for d in (2, 8)],
        "scaling-certified": [(2, h, h, 2) for h in (2, 4)],
    },
    "default": {
        "autograd": _cube([6, 12, 18, 26, 36]),
        "hvp": [(d, 2 * d, 2 * d, 2 * d, d) for d in (8, 16, 32, 64)],
        "mpmath": _cube([4, 6, 8]),
        "symbolic": [(2, 2, 2), (3, 3, 3), (2, 2, 2, 2), (3, 3, 3, 3)],
        "scaling-hidden": [(8, h, h, h, 8) for h in (8, 32, 128, 512)],
        "scaling-ends": [(d, 64, 64, 64, d) for d in (4, 8, 16, 32, 64)],
        "scaling-certified": [(4, h, h, 4) for h in (4, 8, 16, 32)],
    },
    "large": {
        "autograd": _cube([6, 12, 18, 26, 36, 44]),
        "hvp": [(d, 2 * d, 2 * d, 2 * d, d) for d in (8, 16, 32, 64, 96)],
        "mpmath": _cube([4, 6, 8, 10]),
        "symbolic": [(2, 2, 2), (3, 3, 3), (2, 2, 2, 2), (3, 3, 3, 3), (2, 2, 2, 2, 2)],
        "scaling-hidden": [(8, h, h, h, 8) for h in (8, 32, 128, 512, 1024)],
        "scaling-ends": [(d, 64, 64, 64, d) for d in (4, 8, 16, 32, 64, 96)],
        "scaling-certified": [(4, h, h, 4) for h in (4, 8, 16, 32, 48)],
    },
}


@dataclass(frozen=True)
class Options:
    repeat: int
    cap: float
    seed: int = 0
    dps: int = 50
    budget: float = 20.0


@dataclass
class Row:
    """One table line. ``speedup = theirs.seconds / ours.seconds`` (a lower bound when their
    run was capped); ``digits``: leading digits on which the two values agree."""

    suite: str
    dims: tuple[int, ...]
    ours: Timing
    theirs: Timing | None = None
    digits: float | None = None
    agreement: str = ""
    ours_fn: Callable[[], Any] | None = dataclasses.field(default=None, repr=False)
    """Our call, kept for ``--profile`` (not serialized)."""

    @property
    def params(self) -> int:
        return sum(a * b for a, b in zip(self.dims, self.dims[1:], strict=False))

    @property
    def n(self) -> int:
        return self.dims[0] * self.dims[-1]

    @property
    def speedup(self) -> float | None:
        t = self.theirs
        if t is None or t.seconds is None or not self.ours.ok or not self.ours.seconds:
            return None
        if t.status not in ("ok", "capped"):
            return None
        return t.seconds / self.ours.seconds

    @property
    def speedup_is_lower_bound(self) -> bool:
        return self.theirs is not None and self.theirs.status == "capped"

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "dims": list(self.dims),
            "parameters": self.params,
            "reduced_size": self.n,
            "ours": self.ours.to_json(),
            "theirs": None if self.theirs is None else self.theirs.to_json(),
            "speedup": self.speedup,
            "speedup_is_lower_bound": self.speedup_is_lower_bound,
            "digits": "exact" if self.digits == float("inf") else self.digits,
            "agreement": self.agreement,
        }


def _skipped(method: str, cap: float) -> Timing:
    return Timing(method, seconds=cap, status="capped",
                  note=f"> {cap:g} s (not run: a smaller size already passed the cap)")


def _unavailable(method: str, why: str) -> Timing:
    return Timing(method, status="unavailable", note=why)


class _CapTracker:
    """Skip a baseline at larger sizes once it passed the cap at a smaller one."""

    def __init__(self) -> None:
        self.capped: set[str] = set()

    def run(self, method: str, factory: Callable[[], Callable[[], Any]], opts: Options,
            repeat: int | None = None) -> Timing:
        if method in self.capped:
            return _skipped(method, opts.cap)
        t = measure(method, factory(), repeat=opts.repeat if repeat is None else repeat,
                    cap=opts.cap, budget=opts.budget)
        if t.status == "capped":
            self.capped.add(method)
        return t


def _digits(ours: Timing, theirs: Timing, limit: float) -> float | None:
    if not (ours.ok and theirs.ok):
        return None
    return agreeing_digits(ours.value, theirs.value, limit=limit)


# --------------------------------------------------------------------------- float64 suites
OURS_FLOAT64 = 'ours: sharpness(ws, "product", float64=True)'


def _float64_call(ws: list[np.ndarray]) -> Callable[[], float]:
    from numeric.sharpness import sharpness

    return lambda: float(sharpness(ws, "product", float64=True).value)


def _ours_float64(ws: list[np.ndarray], opts: Options) -> Timing:
    return measure(OURS_FLOAT64, _float64_call(ws), repeat=opts.repeat, cap=opts.cap,
                   budget=opts.budget)


def suite_autograd(sizes: list[tuple[int, ...]], opts: Options) -> list[Row]:
    """Ours (float64) vs torch autograd full Hessian + eigvalsh."""
    why = bl.torch_available()
    tracker, rows = _CapTracker(), []
    name = "torch.autograd.functional.hessian + eigvalsh"
    for dims in sizes:
        ws = bl.float_weights(dims, opts.seed)
        ours = _ours_float64(ws, opts)
        theirs = (_unavailable(name, why) if why else
                  tracker.run(name, partial(bl.autograd_full_hessian, ws), opts))
        rows.append(Row("autograd", dims, ours, theirs, _digits(ours, theirs, FLOAT64_DIGITS),
                        ours_fn=_float64_call(ws)))
    return rows


def suite_hvp(sizes: list[tuple[int, ...]], opts: Options) -> list[Row]:
    """Ours (float64) vs ARPACK Lanczos on torch HVPs, and vs HVP power iteration."""
    why = bl.torch_available()
    tracker, rows = _CapTracker(), []
    lanczos = "scipy eigsh (Lanczos) on torch HVP LinearOperator"
    power = "torch HVP power iteration, 100 steps (PyHessian-style)"
    for dims in sizes:
        ws = bl.float_weights(dims, opts.seed)
        ours = _ours_float64(ws, opts)
        for name, factory in ((lanczos, bl.hvp_lanczos), (power, bl.hvp_power_iteration)):
            theirs = (_unavailable(name, why) if why else
                      tracker.run(name, partial(factory, ws), opts))
            rows.append(Row("hvp", dims, ours, theirs, _digits(ours, theirs, FLOAT64_DIGITS),
                            ours_fn=_float64_call(ws)))
    return rows


# --------------------------------------------------------------------------- high precision
def suite_mpmath(sizes: list[tuple[int, ...]], opts: Options) -> list[Row]:
    """Ours (certified, 50 digits) vs mpmath eigsy on the full Hessian at 50 digits."""
    import mpmath

    from derivations.exact import parse_point
    from numeric.sharpness import sharpness

    tracker, rows = _CapTracker(), []
    name = f"mpmath eigsy on the full P x P Hessian, {opts.dps} digits"
    for dims in sizes:
        ws = bl.rational_weights(dims, opts.seed)
        result: dict[str, Any] = {}

        def ours_run(ws: Any = ws, result: dict[str, Any] = result) -> str:
            r = sharpness(ws, "product", dps=opts.dps)
            result["r"] = r
            return str(mpmath.nstr(r.value, opts.dps, strip_zeros=False))

        ours = measure(f"ours: sharpness(exact, dps={opts.dps}) certified", ours_run,
                       repeat=opts.repeat, cap=opts.cap, budget=opts.budget)
        if ours.ok:
            r = result["r"]
            enc = r.enclosure
            ours.note = (f"certified={r.certified}, enclosure width {float(enc.width):.1e}"
                         if enc is not None else "not certified")
        point = parse_point(ws)
        theirs = tracker.run(name, partial(bl.mpmath_full_eigsy, point, opts.dps), opts,
                             repeat=1 if opts.repeat > 1 else None)
        rows.append(Row("mpmath", dims, ours, theirs, _digits(ours, theirs, opts.dps),
                        ours_fn=ours_run))
    return rows


# --------------------------------------------------------------------------- symbolic
def _clear_symbolic_caches() -> None:
    """Our symbolic routes cache by dims; time them cold."""
    import importlib

    for mod_name in ("derivations.symbolic", "derivations.hessian", "derivations.identities"):
        mod = importlib.import_module(mod_name)
        for obj in vars(mod).values():
            clear = getattr(obj, "cache_clear", None)
            if callable(clear):
                clear()


def _cold(fn: Callable[[], Any]) -> Any:
    _clear_symbolic_caches()
    return fn()


def suite_symbolic(sizes: list[tuple[int, ...]], opts: Options) -> list[Row]:
    """Ours (polynomial engine) vs SymPy Expr: Hessian + Gauss-Newton identity."""
    import sympy

    try:
        from derivations.hessian import loss_hessian
        from derivations.identities import prove_gauss_newton
    except ImportError as exc:
        why = f"derivations.hessian/identities not importable: {exc}"
        return [Row("symbolic", d, _unavailable("ours", why)) for d in sizes]
    tracker, rows = _CapTracker(), []
    name = "SymPy hessian(Expr loss) + expand(H - J^T J) at M = f(W)"
    for dims in sizes:
        out: dict[str, Any] = {}

        def ours_run(dims: tuple[int, ...] = dims, out: dict[str, Any] = out) -> str:
            h, _ = loss_hessian(dims)
            proof = prove_gauss_newton(dims)
            out["h"], out["proved"] = h, proof.proved
            return "proved" if proof.proved else "NOT proved"

        ours = measure("ours: loss_hessian + prove_gauss_newton", ours_run, repeat=opts.repeat,
                       cap=opts.cap, budget=opts.budget, setup=_clear_symbolic_caches)
        if ours.ok and not out["proved"]:
            ours.status, ours.note = "error", "prove_gauss_newton did not prove the identity"
        theirs_out: dict[str, Any] = {}

        def factory(dims: tuple[int, ...] = dims, o: dict[str, Any] = theirs_out) -> Any:
            run = bl.sympy_naive_hessian(dims)

            def wrapped() -> str:
                o["h"], o["proved"] = run()
                return "proved" if o["proved"] else "NOT proved"

            return wrapped

        theirs = tracker.run(name, factory, opts)
        row = Row("symbolic", dims, ours, theirs, ours_fn=partial(_cold, ours_run))
        if ours.ok and theirs.ok:
            same = all(sympy.expand(e) == 0 for e in sympy.Matrix(out["h"]) - theirs_out["h"])
            row.agreement = "Hessians identical (exact)" if same else "Hessians DIFFER"
            row.digits = float("inf") if same else 0.0
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- scaling
def _float_parts(ws: list[np.ndarray], opts: Options) -> tuple[dict[str, float], str]:
    """Median seconds of the two parts of the float64 reduced route, called the way
    ``numeric.sharpness`` calls them: build K (dense, or the matrix-free operator) and the
    eigen-solve (LAPACK ``eigh``, or ARPACK Lanczos); and which of the two it was."""
    from numeric.reduced import reduced_linear_operator, reduced_operator
    from numeric.sharpness import DENSE_FLOAT64_LIMIT, LANCZOS_K
    from numeric.spectrum import eigvalsh_float64, top_eigenpairs_float64

    n = ws[-1].shape[0] * ws[0].shape[1]
    dense = n <= DENSE_FLOAT64_LIMIT
    build: Callable[[], Any] = (
        (lambda: reduced_operator(ws, None, form="sqrt")) if dense
        else (lambda: reduced_linear_operator(ws)))
    k = build()
    solve: Callable[[], Any] = (
        (lambda: eigvalsh_float64(k)) if dense
        else (lambda: top_eigenpairs_float64(k, k=LANCZOS_K)))
    parts = _time_parts((("assemble K", build), ("eigen-solve", solve)), opts)
    how = "dense K, LAPACK eigh" if dense else f"matrix-free K, ARPACK Lanczos k={LANCZOS_K}"
    return parts, how


def _certified_parts(ws: Any, opts: Options) -> dict[str, float]:
    """Median seconds of the parts of the certified reduced route."""
    from derivations.exact import parse_point, to_fmpq_mat
    from numeric.eigen import certified_eigvalsh
    from numeric.reduced import reduced_operator

    point = parse_point(ws)
    k = reduced_operator(list(point.weights), None, form="gram")
    steps: tuple[tuple[str, Callable[[], Any]], ...] = (
        ("parse + minimizer test", lambda: parse_point(ws).is_minimizer()),
        ("assemble K (Fractions)", lambda: reduced_operator(list(point.weights), None, form="gram")),
        ("exact rank (flint)", lambda: to_fmpq_mat(k).rank()),
        ("certified eigvalsh", lambda: certified_eigvalsh(k, dps=opts.dps)),
    )
    return _time_parts(steps, opts)


def _time_parts(steps: Sequence[tuple[str, Callable[[], Any]]], opts: Options) -> dict[str, float]:
    """Median seconds of each step (a step that fails or passes the cap is left out)."""
    out = {}
    for label, fn in steps:
        t = measure(label, fn, repeat=opts.repeat, cap=opts.cap, budget=opts.budget)
        if t.ok and t.seconds is not None:
            out[label] = t.seconds
    return out


def _with_rest(t: Timing) -> Timing:
    """Add ``rest = total - sum(parts)``: what the API spends outside the measured parts
    (input checks, bookkeeping of the P eigenvalues, result)."""
    if t.ok and t.seconds is not None and t.parts:
        t.parts["rest of sharpness()"] = max(0.0, t.seconds - sum(t.parts.values()))
    return t


def _certified_value(sharpness: Callable[..., Any], ws: Any, dps: int) -> str:
    return str(sharpness(ws, "product", dps=dps).value)


def suite_scaling(sizes: dict[str, list[tuple[int, ...]]], opts: Options) -> list[Row]:
    """Ours only: float64 vs hidden width, vs d_L d_0, and certified vs hidden width."""
    from numeric.sharpness import sharpness

    rows = []
    for kind in ("scaling-hidden", "scaling-ends"):
        for dims in sizes[kind]:
            fw = bl.float_weights(dims, opts.seed)
            ours = _ours_float64(fw, opts)
            ours.parts, ours.note = _float_parts(fw, opts)
            rows.append(Row(kind, dims, _with_rest(ours), ours_fn=_float64_call(fw)))
    for dims in sizes["scaling-certified"]:
        rw = bl.rational_weights(dims, opts.seed)
        run: Callable[[], str] = partial(_certified_value, sharpness, rw, opts.dps)
        ours = measure(f"ours: sharpness(exact, dps={opts.dps}) certified", run,
                       repeat=opts.repeat, cap=opts.cap, budget=opts.budget)
        ours.parts = _certified_parts(rw, opts)
        rows.append(Row("scaling-certified", dims, _with_rest(ours), ours_fn=run))
    return rows


SUITES: dict[str, tuple[str, Callable[..., list[Row]]]] = {
    "autograd": ("float64 at minimizers: ours vs torch autograd full Hessian + eigvalsh",
                 suite_autograd),
    "hvp": ("float64 at minimizers: ours vs Hessian-vector-product methods (torch double "
            "backprop)", suite_hvp),
    "mpmath": ("50 digits: ours (certified) vs mpmath eigsy on the full Hessian", suite_mpmath),
    "symbolic": ("symbolic: Hessian + Gauss-Newton identity H = J^T J at minimizers",
                 suite_symbolic),
    "scaling": ("scaling of our routes (no baseline): where the time goes", suite_scaling),
}


def warm_up(names: Sequence[str]) -> None:
    """Call every method once on a tiny problem, untimed: first calls pay for imports, BLAS
    and torch initialisation, which no later call does."""
    from numeric.sharpness import sharpness

    tiny = (2, 3, 2)
    ws = bl.float_weights(tiny, 0)
    sharpness(ws, "product", float64=True)
    sharpness(bl.rational_weights(tiny, 0), "product", dps=20)
    if bl.torch_available() is None and {"autograd", "hvp"} & set(names):
        bl.autograd_full_hessian(ws)()
        bl.hvp_lanczos(bl.float_weights((4, 4, 4), 0))()
        bl.hvp_power_iteration(ws, iterations=2)()
    if "mpmath" in names:
        from derivations.exact import parse_point

        bl.mpmath_full_eigsy(parse_point(bl.rational_weights(tiny, 0)), 20)()
    if "symbolic" in names:
        bl.sympy_naive_hessian((1, 1, 1))()
        try:
            from derivations.hessian import loss_hessian
            from derivations.identities import prove_gauss_newton

            loss_hessian((1, 1, 1))
            prove_gauss_newton((1, 1, 1))
        except ImportError:
            pass


def run_suite(name: str, size: str, opts: Options) -> tuple[list[Row], float]:
    """Run one suite at ``size``; returns its rows and its wall time."""
    start = time.perf_counter()
    table = SIZES[size]
    fn = SUITES[name][1]
    rows = fn(table, opts) if name == "scaling" else fn(table[name], opts)
    return rows, time.perf_counter() - start


def replace_options(opts: Options, **kw: Any) -> Options:
    return dataclasses.replace(opts, **kw)
