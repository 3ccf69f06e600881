"""The ``oracle`` subcommand of ``dmf-sharpness``.

Public:
    register(subparsers)      add the subcommand to the ``dmf-sharpness`` parser
    run_oracle(args)          ``dmf-sharpness oracle FILE [--data FILE] [--samples-first]
                              [--target product] [--dps N] [--json] [--spectrum]
                              [--float64] [--loss NAME] [--no-certify]
                              [--exact] [--max-seconds S|none] [--weight-decay LAM]
                              [--threads N|auto] [--route auto|reduced|full|weyl]``
    format_human(result, meta)   the human-readable report of one oracle run
    oracle_json(result, meta)    the ``--json`` document: ``SharpnessResult.to_json()`` (the
                                 same document as the API's) plus ``input`` and, when the
                                 problem is not literally the file's matrices, ``problem``

**Files from PyTorch.** FILE may be a ``state_dict`` (``.npz`` with arrays ``MODULE.weight``,
or ``.pt`` read with ``torch.load(weights_only=True)``) with samples-first data ``inputs``
(``N x d_0``) and ``targets`` (``N x d_L``); ``--data FILE`` gives the data in a file of its own;
``--samples-first`` reads ``X``/``Y`` one sample per row; ``--target product`` asks for the
product of the weights as target. A ``state_dict`` without data or target is refused: nothing
is implied (``numeric.oracle.files``). The report's ``problem`` lines say which key is which
``W_l``, what was transposed and when the target is the product of the weights.

**Weight decay.** ``--weight-decay LAM`` and the JSON file's key ``"weight_decay"`` (an entry
like any other number: ``"1/3"``, ``"0.01"``, ``2``) give ``lam >= 0`` of the term
``(lam/2) sum_l ||W_l||_F^2`` (``numeric.sharpness``, "Weight decay"). Given both, they must be
equal (exactly); different values are refused in one line rather than one silently winning.
``.npz`` files have no weight-decay array: use the flag.

Every failure is a ``DmfError``; ``numeric.cli.main`` prints it as one line on stderr and exits
with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator
from typing import Any

from derivations.errors import DmfError
from numeric.evaluators.budget import (
    DEFAULT_MAX_SECONDS,
    BudgetExceededError,
    _enforce_budget_from_shapes,
)
from numeric.loss_conventions import resolve_loss
from numeric.oracle.files import MAX_DPS, MIN_DPS, TARGET_CHOICES, check_dps, load_arrays
from numeric.result import EXACT_LIMIT, magnitude_note

__all__ = ["format_human", "oracle_json", "register", "run_oracle"]



def register(subparsers: Any) -> None:
    """Add ``oracle`` to the ``dmf-sharpness`` subcommands."""
    p = subparsers.add_parser(
        "oracle",
        help="certified sharpness of the point in a .json, .npz or .pt file",
        description=(
            "Sharpness (lambda_max of the loss Hessian) at the point in FILE, with a certified "
            "enclosure by default. FILE is .json {\"weights\": [W_1, ..., W_L], \"target\": M?, "
            "\"data\": X?, \"labels\": Y?} or .npz with arrays W1..WL and optional M, X, Y "
            "(one sample per column; no target: the product of the weights); or a PyTorch "
            "state_dict of bias-free nn.Linear layers, saved as .npz (np.savez(path, **{k: "
            "v.numpy() for k, v in model.state_dict().items()}, inputs=X, targets=Y)) or .pt "
            "(torch.save; needs the torch extra), with optional inputs (N x d_0) and targets "
            "(N x d_L), one sample per row. A state_dict needs data (inputs/targets, or --data "
            "FILE) or --target product."
        ),
    )
    p.add_argument("file", metavar="FILE", help="input point (.json, .npz or .pt)")
    p.add_argument(
        "--data", default=None, metavar="FILE",
        help="the data in a file of its own (.npz or .pt): inputs (N x d_0) and targets "
        "(N x d_L), one sample per row, or X (d_0 x N) and Y (d_L x N); FILE must then hold "
        "no data and no target",
    )
    p.add_argument(
        "--samples-first", action="store_true",
        help="the X and Y arrays (JSON data and labels) hold one sample per row (N x d): "
        "transpose them (inputs/targets always do)",
    )
    p.add_argument(
        "--target", choices=TARGET_CHOICES, default=None,
        help="product: the target is the product of the weights W_L...W_1 (with data: "
        "Y = W_L...W_1 X), a plain factorization at a global minimizer; required for a "
        "state_dict without targets",
    )
    p.add_argument(
        "--dps", type=int, default=50, help=f"decimal digits ({MIN_DPS}..{MAX_DPS}; default 50)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument(
        "--spectrum", action="store_true",
        help="also list the full nonzero Hessian spectrum and the multiplicity of 0",
    )
    p.add_argument(
        "--float64", action="store_true",
        help="fast approximate float64 path (matrix-free Lanczos for large inputs)",
    )
    p.add_argument(
        "--loss", default="half-sum", metavar="NAME",
        help="loss convention: half-sum = 0.5*||R||^2 (default), sum = ||R||^2 (MSELoss("
        "reduction='sum')), mse = ||R||^2/(d_L N) (MSELoss()), half-mse = ||R||^2/(2 d_L N), "
        "sample-mean = ||R||^2/N; 'mean' is refused as ambiguous",
    )
    p.add_argument(
        "--route", choices=("auto", "reduced", "full", "weyl"), default="auto",
        help="auto (default): the reduced operator K at minimizers, the full Hessian elsewhere; "
        "weyl: a certified enclosure off minimizers for float64 input at any size (Weyl's "
        "inequality on J^T J + E; its width is what it proves, tight near minimizers)",
    )
    p.add_argument(
        "--no-certify", action="store_true",
        help="mpmath eigenvalues at --dps digits without a proof (approximate)",
    )
    p.add_argument(
        "--exact", action="store_true",
        help="also lambda_max as an algebraic number (minimal polynomial, root, isolating "
        f"interval, radicals up to degree 4, rational value); operators of size <= {EXACT_LIMIT}",
    )
    p.add_argument(
        "--max-seconds", default=None, metavar="S",
        help=f"refuse exact work predicted to take longer than S seconds (default "
        f"{DEFAULT_MAX_SECONDS:g}; 'none': no limit)",
    )
    p.add_argument(
        "--weight-decay", default=None, metavar="LAM",
        help="weight decay lam >= 0 (exact: 2, 0.01, 1/3): the loss gains "
        "(lam/2)*sum_l ||W_l||_F^2 and every Hessian eigenvalue gains lam; must equal the "
        "file's \"weight_decay\" when both are given",
    )
    p.add_argument(
        "--threads", default=None, metavar="N|auto",
        help="BLAS threads of the --float64 work: N >= 1 or 'auto' (1 unless its repeated "
        "products are very large; never from the machine's load); default: the environment "
        "variable DMF_SHARPNESS_THREADS, else auto",
    )
    p.set_defaults(func=run_oracle)


def _max_seconds(text: str | None) -> float | None:
    """``--max-seconds``: a positive number of seconds or ``none``; one line otherwise."""
    if text is None:
        return DEFAULT_MAX_SECONDS
    if text.strip().lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value > 0 and value != float("inf")):
        raise DmfError(f"--max-seconds must be a positive number of seconds or 'none' (no "
                       f"limit); got {text!r}")
    return value

def _weight_decay(flag: str | None, in_file: Any) -> Any:
    """The weight decay from ``--weight-decay`` and the file's ``weight_decay`` (both exact):
    either one, 0 when neither, refused in one line when both are given and differ."""
    from numeric.result import parse_weight_decay

    if flag is None:
        return 0 if in_file is None else in_file
    try:
        lam = parse_weight_decay(flag)
    except DmfError as exc:
        raise type(exc)(f"--weight-decay: {str(exc).removeprefix('weight_decay: ')}") from None
    if in_file is not None and in_file != lam:
        raise DmfError(f"--weight-decay {flag} conflicts with the file's \"weight_decay\" "
                       f"({in_file}); give one of them, or the same value")
    return lam


def oracle_json(result: Any, meta: dict[str, Any]) -> dict[str, Any]:
    """The ``--json`` document: ``SharpnessResult.to_json()`` (the API's document, ``status``
    included) plus ``input`` (the file) and, when the files were read as more than their
    matrices (a ``state_dict``'s keys, transposed or separate data, the weights' product as
    target), ``problem``: the lines the human report prints about it."""
    doc = {**result.to_json(), "input": meta.get("path")}
    if meta.get("problem"):
        doc["problem"] = list(meta["problem"])
    return doc


def format_human(result: Any, meta: dict[str, Any]) -> str:
    """A readable report: the input and what was read from it (``meta["problem"]``: which key is
    which ``W_l``, data transposed, the product of the weights as target), the value and how it
    was obtained, then the spectrum facts."""
    doc = result.to_json()
    status = result.status
    lines = [f"input: {meta.get('path')} ({meta.get('format')}), dims {tuple(result.dims)}, "
             f"P = {result.parameters} parameters"]
    lines += list(meta.get("problem") or ())
    lines.append(f"lambda_max = {doc['lambda_max']}")
    if doc["enclosure"] is not None:
        lo, hi = doc["enclosure"]
        lines.append(f"  status: {status}; enclosure [{lo}, {hi}]")
    else:
        lines.append(f"  status: {status}")
    if result.exact is not None:
        ex = result.exact
        lines.append(f"  exact: {ex.describe()}")
        lines.append(f"    minimal polynomial {ex.polynomial_text(max_chars=400)}, degree "
                     f"{ex.degree}; isolating interval [{ex.isolating_interval[0]}, "
                     f"{ex.isolating_interval[1]}]")
    lines.append(f"  method: {result.method}")
    where = "yes (R X^T = 0, decided exactly)" if result.at_minimizer else "no"
    if result.weight_decay:
        where += " (the test R X^T = 0 is on the loss without decay; lam does not change the route)"
    lines += [
        f"route: {result.route}; at a minimizer: {where}; residual norm {doc['residual_norm']}",
        f"loss: {result.loss} (convention {result.loss_convention}, Hessian factor "
        f"{result.loss_factor} relative to 0.5*||R||_F^2"
        + (f"; weight decay lam = {result.weight_decay})" if result.weight_decay else ")"),
        f"lambda_min = {doc['lambda_min']}",
        f"largest magnitude = {doc['largest_magnitude']}"
        + (f"  ({note})" if (note := magnitude_note(result)) else ""),
        f"multiplicity of lambda_max = {result.multiplicity}; gap lambda_1 - lambda_2 = "
        f"{doc['gap'] if doc['gap'] is not None else 'n/a (a single distinct eigenvalue)'}",
    ]
    if doc.get("spectrum") is not None:
        kernel = (f"lam = {result.weight_decay}, from H_0's zero," if result.weight_decay
                  else "zero")
        lines.append(
            f"{'spectrum besides lam' if result.weight_decay else 'nonzero spectrum'} "
            f"({len(doc['spectrum'])} eigenvalues, descending; {kernel} has "
            f"multiplicity {doc['zero_multiplicity']}):"
        )
        lines += [f"  {x}" for x in doc["spectrum"]]
    return "\n".join(lines)


@contextlib.contextmanager
def _command_line_budget() -> Iterator[None]:
    """A ``BudgetExceededError`` naming the command line's flag, not the API's option."""
    try:
        yield
    except BudgetExceededError as exc:
        raise BudgetExceededError(str(exc).replace("over max_seconds=", "over --max-seconds ").replace(
            "a larger max_seconds (None: no limit)", "a larger --max-seconds S ('none': no limit)"
        )) from None


def run_oracle(args: argparse.Namespace) -> int:
    """``dmf-sharpness oracle``: everything is checked before any computation starts."""
    from numeric.sharpness import sharpness

    dps = check_dps(args.dps)
    resolve_loss(args.loss)  # a bad or ambiguous --loss is refused before the file is read
    max_seconds = _max_seconds(getattr(args, "max_seconds", None))

    def budget_from_shapes(weights: list[Any], data: Any) -> None:
        """Refuse exact work over budget from the file's shapes and bits, before its entries
        are read exactly (a million float64 entries take seconds to read as fractions)."""
        if not args.float64 and args.route != "weyl" and max_seconds is not None:
            with _command_line_budget():
                _enforce_budget_from_shapes(weights, data, dps=dps, certify=not args.no_certify,
                                            max_seconds=max_seconds)

    arrays = load_arrays(
        args.file, data=getattr(args, "data", None),
        samples_first=getattr(args, "samples_first", False), target=getattr(args, "target", None),
        before_parsing=budget_from_shapes,
    )
    weights: Any = list(arrays.weights)
    target: Any = arrays.target
    data: Any = arrays.data
    labels: Any = arrays.labels
    if args.float64 or args.route == "weyl":  # the Weyl enclosure reads float64 input
        floats = arrays.float64_arrays()
        if floats is not None:  # lossless: lets sharpness skip exact parsing of large inputs
            weights, target, data, labels = floats
    if target is None and data is None:  # load_arrays decided it is the product: say so
        target = "product"
    elif data is not None and labels is None:
        labels = "product"
    lam = _weight_decay(getattr(args, "weight_decay", None), arrays.weight_decay)
    with _command_line_budget():
        result = sharpness(
            weights, target, data=data, labels=labels, dps=dps, certify=not args.no_certify,
            float64=args.float64, loss=args.loss, spectrum=args.spectrum, route=args.route,
            max_seconds=max_seconds, exact=getattr(args, "exact", False), weight_decay=lam,
            secondary=True,  # the report prints lambda_min, the gap and the multiplicity
            threads=getattr(args, "threads", None),
        )
    if args.json:
        print(json.dumps(oracle_json(result, arrays.meta), indent=2))
    else:
        print(format_human(result, arrays.meta))
    return 0
