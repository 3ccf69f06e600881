"""``dmf-sharpness regularized``: the global minimizer of the weight-decay loss
``1/2 ||W_L ... W_1 - M||_F^2 + (lam/2) sum_l ||W_l||_F^2`` and its sharpness, certified.

Public:
    register(subparsers)    add the ``regularized`` subcommand
    run(args)               its implementation (0 on success; ``DmfError`` -> one line, exit 2)
    report(target, dims, lam, *, dps) -> dict   the JSON document

What is printed (``--json``: the same as one JSON document), each number with how it was
obtained (numeric.regularized derives every formula):
    collapse_threshold   lam*(sigma_1, L): ``{"exact": rational or "root of P in [lo, hi]",
                         "value": decimal}``; per singular value in ``singular_values``
    collapsed            the global minimizer is W = 0 (exact decision)
    tie                  lam is on the exceptional set (two global minimizers; the positive
                         branch is reported)
    bottleneck_split     the narrowest hidden width splits a repeated singular value (the
                         product is then not unique); ``carried`` per singular value says how
                         many copies the weights carry
    end_to_end, weights  decimal strings of certified enclosures (exact when rational)
    frobenius_norms      ||W_l||_F per layer (certified), all equal at a global minimizer
    lambda_max, enclosure, lambda_min, trace   of H_0 + lam I at the minimizer (certified: the
                         K1 Hessian in exact rational interval arithmetic, eigenvalues of its
                         midpoint by numeric.eigen widened by the radius; exact when rational)
    gradient             whether every entry's enclosure of grad L_lam contains 0
"""

from __future__ import annotations

import argparse
import itertools
import json
from typing import Any

import numpy as np

from derivations.errors import DmfError, TooLargeError
from derivations.exact import parse_entry
from derivations.intervals import Enclosure, as_enclosure

__all__ = ["register", "report", "run"]

MAX_PARAMS = 200
"""Refuse larger parameter counts: the interval Hessian is built entry by entry."""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "regularized",
        help="global minimizer of the loss with weight decay: collapse threshold, sharpness",
        description=(
            "Global minimizer of 1/2||W_L...W_1 - M||_F^2 + lam/2 sum_l ||W_l||_F^2 (X = I): "
            "per singular value sigma of M, each layer carries t minimizing 1/2(t^L - sigma)^2 "
            "+ lam L t^2/2; the exact collapse threshold lam*(sigma, L); certified weights and "
            "the certified lambda_max of H_0 + lam I there."
        ),
    )
    p.add_argument("--dims", required=True, help="widths d_0,...,d_L, e.g. 2,2,2,2")
    p.add_argument("--target", required=True,
                   help="M as rows ';' entries ',' e.g. '1,1/2;0,2' (exact)")
    p.add_argument("--weight-decay", required=True, metavar="LAM",
                   help="lam >= 0, exact (e.g. 1/10, 0.25, 2)")
    p.add_argument("--dps", type=int, default=20, help="certified decimal digits (default 20)")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    p.set_defaults(func=run)


def _interval_text(e: Enclosure, dps: int) -> str:
    return str(e.lo) if e.is_exact else e.to_decimal(dps)


def _matrix_text(m: np.ndarray, dps: int) -> list[list[str]]:
    return [[_interval_text(as_enclosure(x), dps) for x in row] for row in m]


def report(target: Any, dims: tuple[int, ...], lam: Any, *, dps: int) -> dict[str, Any]:
    """The document ``run`` prints (see the module docstring)."""
    from numeric.regularized.minimizers import interval_lambda_max, regularized_minimizer
    from numeric.regularized.scalar import regularized_gradient, regularized_hessian

    if not 1 <= dps <= 500:
        raise DmfError(f"--dps must be between 1 and 500; got {dps}")
    q = parse_entry(lam, "--weight-decay")
    if q < 0:
        raise DmfError(f"--weight-decay must be >= 0; got {q}")
    params = sum(a * b for a, b in itertools.pairwise(dims))
    if params > MAX_PARAMS:
        raise TooLargeError(f"dims {dims} have {params} parameters; this command certifies up "
                            f"to {MAX_PARAMS}")
    r = regularized_minimizer(target, dims, q)
    singular = []
    for (_s, mult, sm), carried in zip(r.singular, r.carried, strict=True):
        thr = sm.threshold
        singular.append({
            "sigma": _real_text(sm.sigma, dps),
            "multiplicity": mult,
            "carried": carried,
            "collapse_threshold": _threshold_text(thr, dps),
            "t": sm.t.text(dps),
            "collapsed": sm.collapsed and not sm.tie,
            "tie": sm.tie,
            "minimizers_t": [m.text(dps)["exact"] for m in sm.minimizers],
        })
    ws = r.weights(dps)
    prod = ws[0]
    for w in ws[1:]:
        prod = w @ prod
    grad = regularized_gradient(ws, r.target, q)
    grad_zero = all(as_enclosure(x).contains(0) for g in grad for x in g.flat)
    h = regularized_hessian(ws, r.target, q)
    lmax, lmin, how = interval_lambda_max(h, dps=dps)
    trace = sum((as_enclosure(h[i, i]) for i in range(h.shape[0])), Enclosure.point(0))
    norms = [sum((as_enclosure(x) ** 2 for x in w.flat), Enclosure.point(0)) for w in ws]
    exact = all(as_enclosure(x).is_exact for w in ws for x in w.flat)
    how_weights = ("exact rationals" if exact else
                   "certified enclosures (exact rational interval arithmetic; module "
                   "numeric.regularized, 4)")
    top = singular[0] if singular else None
    return {
        "dims": list(dims),
        "weight_decay": str(q),
        "depth": len(dims) - 1,
        "collapse_threshold": None if top is None else top["collapse_threshold"],
        "singular_values": singular,
        "collapsed": r.collapsed,
        "tie": r.tie,
        "bottleneck_split": r.bottleneck_split,
        "exact": exact,
        "end_to_end": _matrix_text(prod, dps),
        "weights": [_matrix_text(w, dps) for w in ws],
        "weights_how": how_weights,
        "frobenius_norms": [_interval_text(n.sqrt(int(dps * 3.4) + 20), dps) for n in norms],
        "frobenius_squared": [_interval_text(n, dps) for n in norms],
        "lambda_max": lmax.to_decimal(dps),
        "enclosure": str(lmax),
        "lambda_min": str(lmin),
        "lambda_how": how,
        "trace": _interval_text(trace, dps),
        "trace_enclosure": str(trace),
        "gradient_encloses_zero": grad_zero,
        "dps": dps,
    }


def _real_text(x: Any, dps: int) -> dict[str, str]:
    e = x.enclosure(dps)
    if x.is_rational:
        return {"exact": str(x.as_fraction()), "value": e.to_decimal(dps)}
    iv = x.interval
    return {"exact": f"root of {x.poly} in [{iv.lo}, {iv.hi}]", "value": e.to_decimal(dps)}


def _threshold_text(thr: Any, dps: int) -> dict[str, str]:
    if thr is None:
        return {"exact": "none: L = 1 never collapses (t = sigma/(1 + lam))", "value": "inf"}
    return _real_text(thr, dps)


def run(args: argparse.Namespace) -> int:
    from numeric.cli.escape import _parse_dims, _parse_target

    dims = _parse_dims(args.dims)
    target = _parse_target(args.target)
    doc = report(target, dims, args.weight_decay, dps=args.dps)
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(_summary(doc))
    return 0


def _summary(doc: dict[str, Any]) -> str:
    lines = [f"dims {tuple(doc['dims'])}, weight decay lam = {doc['weight_decay']}"]
    for i, sv in enumerate(doc["singular_values"], start=1):
        state = "tie (two global minimizers)" if sv["tie"] else (
            "collapsed" if sv["collapsed"] else "positive")
        lines.append(
            f"  sigma_{i} = {sv['sigma']['value']} (x{sv['multiplicity']}): collapse threshold "
            f"lam* = {sv['collapse_threshold']['value']} [{sv['collapse_threshold']['exact']}]; "
            f"t = {sv['t']['value']} ({state}; carried x{sv['carried']})")
    lines += [
        f"collapsed (W = 0 is the global minimizer): {doc['collapsed']}",
        f"tie (lam on the exceptional set): {doc['tie']}",
        f"bottleneck splits a repeated singular value: {doc['bottleneck_split']}",
        f"end-to-end W_L...W_1 ({'exact' if doc['exact'] else 'certified'}): "
        f"{doc['end_to_end']}",
        f"||W_l||_F per layer: {doc['frobenius_norms']}",
        f"lambda_max(H_0 + lam I) = {doc['lambda_max']}  enclosure {doc['enclosure']}",
        f"  ({doc['lambda_how']})",
        f"trace(H_0 + lam I) = {doc['trace']}",
        f"gradient of L_lam encloses 0 in every entry: {doc['gradient_encloses_zero']}",
    ]
    return "\n".join(lines)
