"""``dmf-sharpness escape`` and ``dmf-sharpness escape-sweep``: gradient descent near a minimizer.

Public:
    register(subparsers)    add both subcommands to the ``dmf-sharpness`` parser
    build_minimizer(dims, *, target, seed, minimizer, dps) -> (Point, description)

``escape`` runs one :func:`numeric.dynamics.escape.escape_run` and prints a summary (or, with
``--json``, the JSON document (README, Escape) on stdout; the progress bar goes to stderr and only when
stderr is a terminal). ``escape-sweep`` runs a ``factors x eps`` grid
(:func:`numeric.dynamics.escape.escape_sweep`). ``--plot`` writes a PNG atomically.

The start minimizer ``W*``: ``--target`` (rows separated by ``;``, entries by ``,``, exact
strings such as ``1/2``) or, without it, a random target ``M`` (the product of random integer
matrices of the given dims, from ``--seed``). ``--minimizer balanced`` takes the balanced
minimizer of ``M`` (docs/mathematics.md K7) computed at ``max(dps, 50) + 10`` digits; ``gauge`` applies random
rational gauges (seeded) to it. Either way the rounded weights are read exactly and the target
used is their exact product, so ``W*`` is an exact minimizer of a target within about
``10^-(dps+10)`` of ``M`` (the deviation is reported).

``--weight-decay LAM`` (exact, ``>= 0``, default 0): gradient descent on
``L_lam = 1/2||W_L...W_1 - M||_F^2 + (lam/2) sum_l ||W_l||_F^2`` with
``eta = factor * 2 / lambda_max(H_0 + lam I)``, started near the regularized global minimizer of
``M`` (:func:`numeric.dynamics.start.regularized_start`, weights certified to
``max(dps, 50) + 10`` digits and read as exact rationals; the target stays ``M`` and the
deviation reported is ``||grad L_lam(W*)||``). It may be collapsed (``W* = 0``); on a tie the
positive branch is taken (said in the output). ``--minimizer gauge`` is refused with
``LAM > 0``: a gauge keeps ``L`` but changes ``sum_l ||W_l||_F^2``, so it leaves the minimizers
of ``L_lam``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from derivations.errors import DmfError
from derivations.exact import Point, exact_product, parse_entry, parse_matrix, parse_point
from numeric.cli import _args
from numeric.dynamics.escape import EscapeRun, EscapeSweep, escape_run, escape_sweep
from numeric.result import parse_weight_decay

__all__ = [
    "DPS_RANGE",
    "EPS_RANGE",
    "FACTOR_RANGE",
    "MAX_LAYERS",
    "MAX_PARAMS_FLOAT64",
    "MAX_PARAMS_MPMATH",
    "MAX_STEPS",
    "MAX_SWEEP_RUNS",
    "MAX_WIDTH",
    "TARGET_RANGE",
    "WEIGHT_DECAY_MAX",
    "build_minimizer",
    "check_arguments",
    "register",
]


def register(subparsers: Any) -> None:
    """Add ``escape`` and ``escape-sweep`` to the ``dmf-sharpness`` subcommands."""
    one = subparsers.add_parser(
        "escape",
        help="gradient descent from W* + eps D: escape above eta*lambda_max = 2, stay below",
        description=(
            "Gradient descent on 1/2||W_L...W_1 - M||_F^2 (+ (lam/2) sum_l ||W_l||_F^2 with "
            "--weight-decay) from W* + eps D with eta = factor * 2 / lambda_max(W*) (of "
            "H_0 + lam I). Reports whether it escapes (distance > delta "
            "||W*||), the escape step vs the prediction log(delta/eps_top)/log|1 - eta "
            "lambda_max|, and where it goes."
        ),
    )
    _common(one)
    one.add_argument("--factor", default="1.05", help="eta = factor * 2/lambda_max (default 1.05)")
    one.add_argument("--eps", default="1e-30", help="start offset size (absolute, default 1e-30)")
    one.add_argument("--every", type=int, default=10, help="record the sharpness every K steps")
    one.add_argument(
        "--stop-at-escape", action="store_true", help="stop at the escape step (default: go on)"
    )
    one.set_defaults(func=_run_escape)

    sweep = subparsers.add_parser(
        "escape-sweep",
        help="escape step over a grid of factors x eps, measured vs predicted",
        description="Escape steps over factors x eps with the predicted curves (--plot).",
    )
    _common(sweep)
    sweep.add_argument("--factors", default="0.9,1.05,1.2,1.5", help="comma-separated factors")
    sweep.add_argument(
        "--eps", default="1e-10,1e-20,1e-30,1e-40", help="comma-separated start offsets"
    )
    sweep.set_defaults(func=_run_sweep)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dims", required=True, help="widths d_0,...,d_L, e.g. 2,3,3,2")
    p.add_argument("--target", help="M as rows ';' entries ',' e.g. '1,1/2;0,2' (exact)")
    p.add_argument("--seed", type=_args.seed, default=0, help="seed for the random target, gauges and direction (default 0)")
    p.add_argument(
        "--minimizer", choices=["balanced", "gauge"], default="balanced",
        help="W*: the balanced minimizer of the target, or a random rational gauge transform "
        "of it (default balanced)",
    )
    p.add_argument("--dps", type=int, default=60, help="mpmath decimal digits (default 60)")
    p.add_argument("--float64", action="store_true", help="run in float64 instead of mpmath")
    p.add_argument("--steps", type=int, default=None, help="step budget (default: from prediction)")
    p.add_argument("--delta", type=float, default=1e-2, help="escape radius, relative to ||W*||, in (0, 1) (default 0.01)")
    p.add_argument(
        "--direction", choices=["random", "top"], default="random",
        help="start offset D: a seeded random unit direction or the top Hessian eigenvector "
        "of W* (default random)",
    )
    p.add_argument(
        "--weight-decay", default="0",
        help="weight decay lam >= 0, exact (e.g. 1/4): GD on L + (lam/2) sum_l ||W_l||_F^2 near "
        "its regularized global minimizer, eta from lambda_max(H_0 + lam I) (default 0)",
    )
    p.add_argument("--plot", help="write a PNG figure here")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")


# ----------------------------------------------------------------------------- inputs


MAX_WIDTH = 64
"""Each width ``d_l`` of ``--dims`` is in ``1..MAX_WIDTH``."""
MAX_LAYERS = 12
"""At most this many layers ``L`` (``--dims`` has ``L + 1`` widths)."""
MAX_PARAMS_MPMATH = 256
"""``P = sum d_l d_(l-1)`` at most this in mpmath runs (each step is ``O(P d)`` mpf operations)."""
MAX_PARAMS_FLOAT64 = 1024
"""``P`` at most this with ``--float64`` (the start builds the dense ``P x P`` Hessian)."""
FACTOR_RANGE = (Fraction(1, 1000), Fraction(100))
"""``--factor`` (``eta = factor * 2 / lambda_max``) in ``[0.001, 100]``."""
EPS_RANGE = (Fraction(1, 10**300), Fraction(1, 10))
"""``--eps`` (absolute: the start is ``W* + eps D``, ``||D|| = 1``) in ``[1e-300, 0.1]``."""
DPS_RANGE = (15, 1000)
"""``--dps`` (mpmath decimal digits) in ``15..1000``."""
MAX_STEPS = 1_000_000
"""``--steps`` in ``1..MAX_STEPS``."""
TARGET_RANGE = (Fraction(1, 10**100), Fraction(10**100))
"""The largest ``|M_ij|`` of ``--target`` in ``[1e-100, 1e100]`` (a zero target is refused)."""
MAX_SWEEP_RUNS = 64
"""``escape-sweep``: at most this many runs (``factors x eps``)."""
WEIGHT_DECAY_MAX = Fraction(10**100)
"""``--weight-decay`` in ``[0, 1e100]``."""


def check_arguments(args: argparse.Namespace) -> None:
    """Refuse, in one line naming the allowed range, every argument of ``escape`` /
    ``escape-sweep`` outside the bounds above, before any computation."""
    dims = _parse_dims(args.dims)
    lam = _weight_decay(args)
    params = sum(a * b for a, b in itertools.pairwise(dims))
    limit = MAX_PARAMS_FLOAT64 if args.float64 else MAX_PARAMS_MPMATH
    if params > limit:
        raise DmfError(
            f"--dims {args.dims} has P = {params} parameters; at most {limit} "
            + ("with --float64" if args.float64 else f"in mpmath runs ({MAX_PARAMS_FLOAT64} with "
               "--float64)")
        )
    if args.target is not None:
        _check_target(_parse_target(args.target), lam)
    if not args.float64 and not DPS_RANGE[0] <= args.dps <= DPS_RANGE[1]:
        raise DmfError(f"--dps {args.dps} is outside {DPS_RANGE[0]}..{DPS_RANGE[1]} decimal digits")
    if args.steps is not None and not 1 <= args.steps <= MAX_STEPS:
        raise DmfError(f"--steps {args.steps} is outside 1..{MAX_STEPS}")
    if getattr(args, "every", 1) < 1:
        raise DmfError(f"--every {args.every} must be >= 1 (record the sharpness every K steps)")
    if not 0 < args.delta < 1:
        raise DmfError(
            f"--delta {args.delta} must be in (0, 1): the escape radius is delta * ||W*||"
        )
    if hasattr(args, "factors"):  # escape-sweep
        factors = _exact_list(args.factors, "--factors")
        epss = _exact_list(args.eps, "--eps")
        if len(factors) * len(epss) > MAX_SWEEP_RUNS:
            raise DmfError(
                f"--factors x --eps is {len(factors)} x {len(epss)} runs; at most {MAX_SWEEP_RUNS}"
            )
        for text in (x.strip() for x in args.factors.split(",") if x.strip()):
            _in_range(text, "--factors", FACTOR_RANGE, "a factor")
        for text in (x.strip() for x in args.eps.split(",") if x.strip()):
            _in_range(text, "--eps", EPS_RANGE, _EPS_WHAT)
    else:
        _in_range(args.factor, "--factor", FACTOR_RANGE, "eta = factor * 2 / lambda_max(W*)")
        _in_range(args.eps, "--eps", EPS_RANGE, _EPS_WHAT)
    if args.plot:
        _check_plot(args.plot)


_EPS_WHAT = "the start is W* + eps D with ||D|| = 1, eps absolute"


def _weight_decay(args: argparse.Namespace) -> Fraction:
    """``--weight-decay`` read exactly (``numeric.result.parse_weight_decay``), bounded, and
    refused with ``--minimizer gauge`` when positive."""
    text = str(getattr(args, "weight_decay", "0"))
    try:
        lam = parse_weight_decay(text.strip())
    except DmfError as exc:
        raise DmfError(f"--weight-decay {text[:40]!r}: {exc}") from None
    if lam > WEIGHT_DECAY_MAX:
        raise DmfError(f"--weight-decay {text[:40]!r} is above {_sci(WEIGHT_DECAY_MAX)}")
    if lam > 0 and args.minimizer == "gauge":
        raise DmfError(
            "--minimizer gauge with --weight-decay > 0: a gauge keeps the product but changes "
            "sum_l ||W_l||_F^2, so it leaves the minimizers of L_lam; use --minimizer balanced"
        )
    return lam


def _in_range(text: str, name: str, bounds: tuple[Fraction, Fraction], what: str) -> Fraction:
    value = parse_entry(text.strip(), name)
    lo, hi = bounds
    if not lo <= value <= hi:
        raise DmfError(
            f"{name} {text[:40]!r} is outside the allowed range [{_sci(lo)}, {_sci(hi)}] ({what})"
        )
    return value


def _sci(x: Fraction) -> str:
    return f"{float(x):g}"


def _exact_list(text: str, name: str) -> list[str]:
    items = [x.strip() for x in text.split(",") if x.strip()]
    if not items:
        raise DmfError(f"{name} is empty; give at least one number")
    return items


def _check_target(m: np.ndarray, lam: Fraction = Fraction(0)) -> None:
    biggest = max(abs(x) for x in m.flat)
    if biggest == 0 and lam > 0:
        return  # W* = 0 and lambda_max(H_0 + lam I) = lam > 0
    if biggest == 0:
        raise DmfError(
            "--target is zero: it has no nonzero singular value, so lambda_max(W*) = 0 and "
            "eta = factor * 2 / lambda_max is undefined; give a nonzero target"
        )
    lo, hi = TARGET_RANGE
    if not lo <= biggest <= hi:
        raise DmfError(
            f"--target: the largest |M_ij| is about {_magnitude(biggest)}; it must be in "
            f"[{_sci(lo)}, {_sci(hi)}] (the run's records and its float64 Hessian need it)"
        )


def _magnitude(x: Fraction) -> str:
    """``10^k`` with ``k`` from the digit counts (no float conversion: ``x`` may overflow)."""
    return f"10^{len(str(x.numerator)) - len(str(x.denominator))}"


def _check_plot(path: str) -> None:
    target = Path(path)
    if target.is_dir():
        raise DmfError(f"--plot {path}: is a directory; give a file name such as escape.png")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise DmfError(f"--plot {path}: the directory {parent} does not exist")
    if target.exists() and not target.is_file():
        raise DmfError(f"--plot {path}: exists and is not a regular file")


def _parse_dims(text: str) -> tuple[int, ...]:
    parts = text.split(",")
    if len(parts) > MAX_LAYERS + 1:
        raise DmfError(
            f"--dims has {len(parts)} widths ({len(parts) - 1} layers); at most {MAX_LAYERS} "
            f"layers ({MAX_LAYERS + 1} widths)"
        )
    if not all(_WIDTH.fullmatch(p.strip()) for p in parts):
        raise DmfError(f"--dims {text[:80]!r}: expected comma-separated integers like 2,3,3,2")
    dims = tuple(int(p) for p in parts)
    if len(dims) < 2 or not all(1 <= d <= MAX_WIDTH for d in dims):
        raise DmfError(
            f"--dims {text!r}: need at least two widths (d_0,...,d_L), each in 1..{MAX_WIDTH}"
        )
    return dims


_WIDTH = re.compile(r"[0-9]{1,30}")


def _parse_target(text: str) -> np.ndarray:
    rows = [[e.strip() for e in row.split(",")] for row in text.split(";")]
    return parse_matrix(rows, "target M (--target)")


def _random_target(dims: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """``M`` = the product of random integer matrices (entries -2..2) of the given dims, so
    its rank fits every hidden width; redrawn until nonzero."""
    while True:
        ws = [
            np.array([[Fraction(int(k)) for k in row] for row in rng.integers(-2, 3, size=(b, a))],
                     dtype=object)
            for a, b in itertools.pairwise(dims)
        ]
        m = exact_product(ws)
        if any(x != 0 for x in m.flat):
            return m


def build_minimizer(
    dims: tuple[int, ...], *, target: np.ndarray | None, seed: int, minimizer: str,
    dps: int | None, weight_decay: Any = 0,
) -> tuple[Point, dict[str, Any]]:
    """The start minimizer ``W*`` (see the module docstring) and a description of it; with
    ``weight_decay > 0`` the regularized global minimizer of the target."""
    from numeric.minimizers import balanced_minimizer, gauge_transform, random_gauges

    rng = np.random.default_rng(seed)
    m = _random_target(dims, rng) if target is None else target
    digits = max(dps or 0, 50) + 10  # rounding far below the run's (and the oracle's) digits
    lam = parse_weight_decay(weight_decay)
    if lam > 0:
        return _regularized_minimizer(dims, m, lam, digits, target is not None, seed, minimizer)
    ws = balanced_minimizer(m, dims, dps=digits)
    # the rounded weights read exactly (binary rationals); target := their exact product
    point = parse_point(list(ws))  # float64 / mpf entries read as the exact rationals they store
    if minimizer == "gauge" and len(dims) > 2:
        point = gauge_transform(point, random_gauges(dims, rng))
    dev = point.labels - m
    deviation = float(max(abs(x) for x in dev.flat))
    return point, {
        "kind": minimizer,
        "target": "given" if target is not None else f"random (seed {seed})",
        "construction": f"balanced minimizer of M at {digits} digits (docs/mathematics.md K7)"
        + (", then random rational gauges" if minimizer == "gauge" else ""),
        "target_used": "exact product of the (rounded) weights",
        "max_abs_deviation_from_M": deviation,
    }


def _regularized_minimizer(
    dims: tuple[int, ...], m: np.ndarray, lam: Fraction, digits: int, given: bool, seed: int,
    minimizer: str,
) -> tuple[Point, dict[str, Any]]:
    from numeric.dynamics.start import regularized_start

    if minimizer == "gauge":
        raise DmfError("--minimizer gauge is refused with --weight-decay > 0 (gauges leave the "
                       "minimizers of L_lam)")
    point, info = regularized_start(m, dims, lam, digits=digits)
    return point, {
        "kind": "regularized",
        "target": "given" if given else f"random (seed {seed})",
        "weight_decay": str(lam),
        "target_used": "M itself (the weights are a rounding of the minimizer of L_lam)",
        **info,
    }


def _start_point(args: argparse.Namespace) -> tuple[Point, dict[str, Any]]:
    dims = _parse_dims(args.dims)
    target = None if args.target is None else _parse_target(args.target)
    if target is not None and target.shape != (dims[-1], dims[0]):
        raise DmfError(
            f"--target has shape {target.shape}; --dims {args.dims} needs (d_L, d_0) = "
            f"({dims[-1]}, {dims[0]})"
        )
    return build_minimizer(
        dims, target=target, seed=args.seed, minimizer=args.minimizer, dps=_dps(args),
        weight_decay=_weight_decay(args),
    )


def _dps(args: argparse.Namespace) -> int | None:
    return None if args.float64 else int(args.dps)


def _progress(args: argparse.Namespace, desc: str) -> tuple[Callable[[int], None] | None, Any]:
    """A tqdm bar on stderr (only when stderr is a terminal and not --json)."""
    if args.json or not sys.stderr.isatty():
        return None, None
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit="step", file=sys.stderr, total=args.steps)
    return (lambda _t: bar.update(1)), bar


# ----------------------------------------------------------------------------- commands


def _run_escape(args: argparse.Namespace) -> int:
    check_arguments(args)
    point, info = _start_point(args)
    callback, bar = _progress(args, "gradient descent")
    try:
        run = escape_run(
            point, factor=args.factor, eps=args.eps, dps=_dps(args), direction=args.direction,
            seed=args.seed, delta=args.delta, steps=args.steps, every=args.every,
            stop_at_escape=args.stop_at_escape, progress=callback,
            weight_decay=_weight_decay(args),
        )
    finally:
        if bar is not None:
            bar.close()
    if args.plot:
        from numeric.dynamics.plots import plot_run

        plot_run(run, args.plot)
    if args.json:
        doc = run.to_json()
        doc["details"]["minimizer"] = info
        print(json.dumps(doc, indent=2))
    else:
        print(_summary(run, info, args.plot))
    return 0


def _summary(run: EscapeRun, info: dict[str, Any], plot: str | None) -> str:
    doc = run.to_json()
    arith = "float64" if run.dps is None else f"mpmath at {run.dps} digits"
    decay = run.weight_decay != "0"
    lines = [
        f"escape: dims {run.dims}, W* = {info['construction']}, M {info['target']}; {arith}",
        *([f"weight decay lam = {run.weight_decay}: GD on L_lam = L + (lam/2) sum_l ||W_l||_F^2; "
           f"||grad L_lam(W*)|| = {run.start_gradient_norm:.3g}"
           + (" (collapsed minimizer W* = 0)" if info.get("collapsed") else "")]
          if decay else []),
        f"lambda_max({'H_0 + lam I at ' if decay else ''}W*) = {doc['lambda_max_start']}  "
        f"({run.lambda_max_method})",
        f"eta = {run.factor:g} x 2/lambda_max = {doc['eta']}  (eta*lambda_max(W*) = "
        f"{2 * run.factor:g}; the top component is multiplied by {1 - 2 * run.factor:g} per step)",
        f"start: W* + eps D, eps = {run.eps}, D {run.direction} (seed-determined); "
        f"eps_top = {run.eps_top:.4g}; escape radius delta = {run.delta:g} "
        + ("(absolute, W* = 0)" if info.get("collapsed") else
           f"||W*|| = {run.delta_abs:.4g}"),
    ]
    if run.predicted_escape_step is not None:
        lines.append(f"predicted escape step: {run.predicted_escape_step:.2f}")
    lines.append(_outcome_line(run))
    if run.final_lambda_max is not None:
        lines.append(
            f"final: {'excess loss L_lam - L_lam(W*)' if decay else 'loss'} {run.final_loss:.4g}"
            f", distance to W* {run.final_distance:.4g} "
            f"({run.final_distance / float(run.eps):.4g} eps), lambda_max {run.final_lambda_max:.6g}"
            f", eta*lambda_max {run.final_eta_lambda_max:.6g} (approximate, float64 Hessian)"
        )
    lines.extend(f"note: {n}" for n in [*info.get("notes", []), *run.notes])
    if plot:
        lines.append(f"plot written: {plot}")
    return "\n".join(lines)


def _outcome_line(run: EscapeRun) -> str:
    if run.outcome == "diverged":
        where = "" if run.escape_step is None else f" after escaping at step {run.escape_step}"
        return f"outcome: diverged at step {run.diverged_step}{where} ({run.divergence_reason})"
    if run.outcome == "converged":
        return f"outcome: converged (no escape) at step {run.converged_step}"
    if run.outcome == "undecided":
        return f"outcome: undecided after {run.steps_run} steps (raise --steps)"
    err = run.relative_step_error
    line = f"outcome: escaped at step {run.escape_step}"
    if err is not None:
        line += f" (relative error vs prediction {err:.2%})"
    if run.after_escape == "converged":
        line += f"; then converged to another minimizer at step {run.converged_step}"
    elif run.after_escape == "oscillating":
        line += f"; then oscillated (see the note) until the budget, {run.steps_run} steps"
    elif run.after_escape == "undecided":
        line += f"; still moving after {run.steps_run} steps"
    return line


def _run_sweep(args: argparse.Namespace) -> int:
    check_arguments(args)
    point, info = _start_point(args)
    factors = _floats(args.factors, "--factors")
    epss = [e.strip() for e in args.eps.split(",") if e.strip()]
    _floats(args.eps, "--eps")
    callback, bar = _progress(args, "sweep")
    try:
        sweep = escape_sweep(
            point, factors=factors, epss=epss, dps=_dps(args), direction=args.direction,
            seed=args.seed, delta=args.delta, steps=args.steps, progress=callback,
            weight_decay=_weight_decay(args),
        )
    finally:
        if bar is not None:
            bar.close()
    if args.plot:
        from numeric.dynamics.plots import plot_sweep

        plot_sweep(sweep, args.plot)
    if args.json:
        doc = sweep.to_json()
        doc["minimizer"] = info
        doc["dims"] = list(point.dims)
        doc["arithmetic"] = "float64" if args.float64 else f"mpmath dps={args.dps}"
        print(json.dumps(doc, indent=2))
    else:
        print(_sweep_summary(sweep, args.plot))
    return 0


def _floats(text: str, name: str) -> list[float]:
    try:
        vals = [float(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise DmfError(f"{name} {text!r}: expected comma-separated numbers") from exc
    if not vals:
        raise DmfError(f"{name} is empty; give at least one number")
    return vals


def _sweep_summary(sweep: EscapeSweep, plot: str | None) -> str:
    lines = ["factor     eps        outcome     escape step   predicted   rel. error"]
    for row in sweep.runs:
        for r in row:
            pred = "-" if r.predicted_escape_step is None else f"{r.predicted_escape_step:.2f}"
            err = r.relative_step_error
            lines.append(
                f"{r.factor:<10g} {r.eps:<10} {r.outcome:<11} "
                f"{'-' if r.escape_step is None else r.escape_step!s:<13} {pred:<11} "
                f"{'-' if err is None else f'{err:.2%}'}"
            )
    for f in sweep.fits:
        lines.append(
            f"factor {f.factor:g}: fitted slope {f.slope:.4g} steps per decade of 1/eps, "
            f"predicted {f.predicted_slope:.4g} (relative error {f.relative_error:.3%}, "
            f"{f.points} points)"
        )
    if plot:
        lines.append(f"plot written: {plot}")
    return "\n".join(lines)
