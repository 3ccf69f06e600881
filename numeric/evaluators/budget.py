"""The time budget of exact work: the cost of the certified route predicted from the shapes and the entries' bit sizes before any of it starts, and the refusal over ``max_seconds`` (``BudgetExceededError``, a ``TooLargeError``) that names the estimate and the way out (``float64=True``, ``certify=False``, a larger ``max_seconds``).

The constants were measured stage by stage on the project's 2-core machine (load 3-6); the estimate is good to about a factor 2.

Public:
    DEFAULT_MAX_SECONDS, BudgetExceededError, estimate_exact_seconds
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from derivations.errors import (
    DmfError,
    TooLargeError,
)
from derivations.exact import Point

__all__ = [
    "COST_DYADIC_WEIGHT",
    "COST_ENTRY",
    "COST_FOUR_SQUARES",
    "COST_FRACTION_OP",
    "COST_MPMATH",
    "COST_RANK",
    "COST_RANK_MOD_P",
    "DEFAULT_MAX_SECONDS",
    "BudgetExceededError",
    "estimate_dyadic_seconds",
    "estimate_exact_seconds",
]

DEFAULT_MAX_SECONDS = 60.0
"""``sharpness``'s default ``max_seconds``: the largest predicted time of the exact work."""

# Cost model of the exact work (seconds), measured on this project's 2-core machine at load
# averages of 3 to 6 (other jobs running; the same run takes up to twice as long at 6), each
# stage timed separately: depth-6 float64 networks of widths 4-16 at minimizers (reduced
# operator K of size 16-256), chains of 10-100 2 x 2 integer layers away from minimizers (full
# Hessian of size 40-400, entries up to ~1000 bits), and float64 networks (2,3,3,2), (4,4,4,4),
# (8,8,8,8), (16,16,16) on both routes. The prediction is within about a factor of 2 of the
# measured time either way (100-layer chain: predicted 66 s, measured 40 s at load 3 and 88 s
# at load 5; (16,16,16) away from a minimizer: predicted 81 s, measured 44 s and 79 s).
COST_FRACTION_OP = 5e-6
"""One ``Fraction`` multiply-add of ~64-bit entries in the factor products (build stage)."""
COST_ENTRY = 2e-6
"""One ``Fraction`` entry of a Kronecker term or Hessian block (build stage)."""
COST_RANK = 3e-8
"""``exact_rank``: seconds per ``n^3`` (FLINT) at ~300-bit entries."""
COST_FOUR_SQUARES = 0.05
"""``numeric.reduced.four_squares`` on one pivot of ``X X^T`` (at most ``FACTOR_MAX_BITS``)."""
COST_MPMATH = 1.5e-4
"""mpmath ``eigsy`` (Jacobi, certify=False): seconds per ``n^3`` at 50 digits."""
COST_RANK_MOD_P = 1e-6
"""``exact_rank``'s modular shortcut: seconds per entry (converting it mod p dominates)."""
COST_DYADIC_WEIGHT = 3.2e-6
"""``numeric.reduced.dyadic_reduced_operator``: seconds per float64 weight (reading it as an
integer times a power of two, and its share of the thin FLINT products); measured 3.4 s for the
1,081,344 weights of dims (16, 1024, 1024, 16) and 4.0 s for (32, 256, 256, 256, 32)."""
_BITS_UNIT = 512.0


def _exact_choice(point: Point) -> tuple[str, int]:
    """Which exact rational operator the reduced route diagonalizes, and its size
    (``numeric.reduced.exact_operator_sizes``: the smallest of K's gram form, the gram form of
    a rational ``F`` with ``F F^T = X X^T``, and ``J^T J``)."""
    from numeric.reduced import data_factor_columns, exact_operator_sizes

    if point.data is None:
        choice, size, _, _ = exact_operator_sizes(point.dims, None)
        return choice, size
    columns = data_factor_columns(point.data) if point.data.shape[1] > point.dims[0] else None
    choice, size, _, _ = exact_operator_sizes(point.dims, point.data.shape[1], columns)
    return choice, size


# --------------------------------------------------------------------------- budget
class BudgetExceededError(TooLargeError):
    """The exact (certified or mpmath) work is predicted to take longer than ``max_seconds``;
    refused before starting it. The message names the estimate and the ways out."""


def _check_budget_option(max_seconds: Any) -> None:
    if max_seconds is None:
        return
    if isinstance(max_seconds, bool) or not isinstance(max_seconds, int | float) or not (
        max_seconds > 0 and math.isfinite(max_seconds)
    ):
        raise DmfError(f"max_seconds must be a positive number of seconds or None (no limit); "
                       f"got {max_seconds!r}")


def _matrix_bits(m: np.ndarray) -> tuple[int, int]:
    """``(bits of the common denominator, bits of the largest cleared numerator + log2 of the
    inner dimension)`` of an exact matrix: the size a product gains per factor."""
    den = math.lcm(*(q.denominator for q in m.flat))
    num = max(abs(q.numerator) * (den // q.denominator) for q in m.flat)
    return den.bit_length(), num.bit_length() + max(m.shape[1], 1).bit_length()


def estimate_exact_seconds(
    point: Point, route: str, *, dps: int = 50, certify: bool = True
) -> tuple[float, str]:
    """The predicted seconds of the exact work of ``sharpness`` on ``point`` along ``route``
    (``"reduced"`` or ``"full"``), and what the prediction is made of.

    Model (constants ``COST_*`` above and ``numeric.eigen.estimated_seconds``): ``b`` = the
    entry bits of the operator, ``2 x`` the sum over layers (and data) of denominator bits plus
    cleared-numerator bits; ``n`` = its size (``exact_operator_sizes`` at a minimizer, ``P``
    on the full Hessian). Build: ``COST_FRACTION_OP (L^2 + L^3/6) d^3 (1 + b/512)`` for the
    factor chains (``L^3``: the residual term's chains, full route only) plus ``COST_ENTRY
    n^2 (1 + b/512)`` per Hessian entry (times ``L`` for the ``L`` Kronecker terms of
    ``K``), plus ``COST_FOUR_SQUARES d_0`` for the factor ``F``; rank: ``COST_RANK n^3 (1 +
    b/512)``; eigenvalues:
    ``numeric.eigen.estimated_seconds(n, dps)`` (certified) or ``COST_MPMATH n^3
    max(1, dps/50)^0.75`` (mpmath, on the ``d_0 d_L`` sqrt form at a minimizer).

    >>> from derivations.exact import parse_point
    >>> seconds, what = estimate_exact_seconds(parse_point([[[1, 2]]]), "reduced")
    >>> seconds < 1, what.startswith("2 x 2")
    (True, True)
    """
    from numeric.eigen import estimated_seconds

    dims, depth = point.dims, point.depth
    sizes = [_matrix_bits(w) for w in point.weights]
    bits = 2 * sum(d + n for d, n in sizes)
    if point.data is not None:
        bits += 2 * sum(_matrix_bits(point.data))
    if route == "reduced":
        choice, n = _exact_choice(point)
        chains = depth * depth
        what = {"hessian": "J^T J", "factor": "reduced operator K (F F^T = X X^T)"}.get(
            choice, "reduced operator K")
    else:
        choice, n, what = "full", point.num_params, "full Hessian"
        chains = depth * depth + depth**3 // 6
    grow = 1.0 + bits / _BITS_UNIT
    entries = n * n * (depth if route == "reduced" and choice != "hessian" else 1)
    build = (COST_FRACTION_OP * chains * max(dims) ** 3 + COST_ENTRY * entries) * grow
    if choice == "factor":
        build += COST_FOUR_SQUARES * dims[0]  # one four-square search per pivot of X X^T
    rank = COST_RANK * n**3 * grow
    if certify:
        eig, how = estimated_seconds(n, dps=dps), "certified eigenvalues"
    else:
        m = dims[0] * dims[-1] if route == "reduced" else n
        eig, how = COST_MPMATH * m**3 * max(1.0, dps / 50) ** 0.75, f"mpmath Jacobi on {m} x {m}"
    total = build + rank + eig
    return total, (f"{n} x {n} {what} with entries of about {bits} bits: build ~{build:.2g} s, "
                   f"exact rank ~{rank:.2g} s, {how} ~{eig:.2g} s")


def _shape2(m: Any) -> tuple[int, int] | None:
    """The shape of a 2-D array-like without reading its entries (``None`` if unclear)."""
    shape = getattr(m, "shape", None)
    if shape is not None:
        return (int(shape[0]), int(shape[1])) if len(shape) == 2 else None
    text = (str, bytes)
    if isinstance(m, Sequence) and not isinstance(m, text) and m and isinstance(
            m[0], Sequence) and not isinstance(m[0], text):
        return len(m), len(m[0])
    return None


def _float_bits(m: np.ndarray) -> tuple[int, int]:
    """:func:`_matrix_bits` of a NumPy float or integer matrix's exact values, read from
    ``frexp`` without building a single ``Fraction`` (each float64 is ``a 2^e`` with ``a`` an
    odd integer of at most 53 bits): milliseconds for a million entries."""
    inner = max(m.shape[1], 1).bit_length()
    if m.dtype.kind in "iu":
        top = int(np.max(np.abs(m.astype(object)))) if m.size else 0
        return 1, top.bit_length() + inner
    mant, expo = np.frexp(m.astype(np.float64))
    ints = np.abs((mant * 2.0**53).astype(np.int64))
    nz = ints != 0
    if not np.any(nz):
        return 1, inner
    ints, expo = ints[nz], expo[nz].astype(np.int64) - 53
    trailing = np.log2(ints & -ints).astype(np.int64)  # make a odd: a 2^e in lowest terms
    odd, expo = ints >> trailing, expo + trailing
    den_bits = max(0, -int(expo.min()))
    odd_bits = np.frexp(odd.astype(np.float64))[1].astype(np.int64)  # exact: odd < 2^53
    num_bits = odd_bits + expo + den_bits
    return den_bits + 1, int(num_bits.max()) + inner


def _shapes_bits(arrays: Sequence[Any]) -> int | None:
    """The entry bits ``2 sum (den + num)`` of ``estimate_exact_seconds`` when every array is
    a NumPy float or integer matrix (read without converting), else ``None``."""
    if not all(isinstance(a, np.ndarray) and a.ndim == 2 and a.dtype.kind in "fiu"
               and np.all(np.isfinite(a)) for a in arrays):
        return None
    return 2 * sum(sum(_float_bits(a)) for a in arrays)


def _enforce_budget_from_shapes(weights: Any, data: Any, *, dps: int, certify: bool,
                                max_seconds: float, chains: bool = True) -> None:
    """Refuse before reading (and multiplying) the entries when even the cheapest exact work
    the shapes allow is over budget: the ``L^2`` factor chains of ``estimate_exact_seconds``
    (``COST_FRACTION_OP L^2 d^3``, both routes; ``chains=False`` for the dyadic route, which
    builds ``K`` without them), scaled by the entries' bits when they are NumPy arrays (read
    without converting), plus the smallest eigenvalue problem the shapes allow: ``min(P, d_0
    d_L)`` without data, ``min(P, d_L)`` with data (the factor form of a rank-1 ``X X^T``),
    ``min(P, d_0 d_L)`` for mpmath. This is a lower bound of the estimate made after reading
    the point, so a refusal for size comes in milliseconds instead of after minutes of exact
    arithmetic. Unclear shapes are left to the parser's messages."""
    if not isinstance(weights, Sequence) or isinstance(weights, str | bytes) or not weights:
        return
    shapes = [_shape2(w) for w in weights]
    if any(sh is None or min(sh) < 1 for sh in shapes):
        return
    rows = [sh[0] for sh in shapes if sh is not None]
    cols = [sh[1] for sh in shapes if sh is not None]
    if any(c != r for c, r in zip(cols[1:], rows[:-1], strict=True)):
        return
    d0, dl, params = cols[0], rows[-1], sum(r * c for r, c in zip(rows, cols, strict=True))
    from numeric.eigen import estimated_seconds

    if certify:
        n = min(params, d0 * dl if data is None or _shape2(data) is None else dl)
        seconds = estimated_seconds(n, dps=dps)
    else:
        n = min(params, d0 * dl)
        seconds = COST_MPMATH * n**3 * max(1.0, dps / 50) ** 0.75
    build, bits = 0.0, None
    if chains:
        bits = _shapes_bits(list(weights) + ([] if data is None else [data]))
        depth, width = len(rows), max([*rows, d0])
        build = COST_FRACTION_OP * depth * depth * width**3 * (1.0 + (bits or 0) / _BITS_UNIT)
        seconds += build
    if seconds > max_seconds:
        chain = "" if not chains else (
            f"{len(rows)}^2 exact factor products of width {max([*rows, d0])}"
            + ("" if bits is None else f" with entries of about {bits} bits")
            + f" ~{build:.2g} s, then ")
        what = (f"from the shapes alone, before reading the entries: {chain}at least a {n} x "
                f"{n} eigenvalue problem (P = {params}, d_0 = {d0}, d_L = {dl})")
        _refuse(seconds, what, certify=certify, dps=dps, max_seconds=max_seconds, alt=None)


def _enforce_budget(point: Point, route: str, *, dps: int, certify: bool,
                    max_seconds: float) -> None:
    seconds, what = estimate_exact_seconds(point, route, dps=dps, certify=certify)
    if seconds <= max_seconds:
        return
    alt = estimate_exact_seconds(point, route, dps=dps, certify=False)[0] if certify else None
    _refuse(seconds, what, certify=certify, dps=dps, max_seconds=max_seconds, alt=alt)


def _refuse(seconds: float, what: str, *, certify: bool, dps: int, max_seconds: float,
            alt: float | None) -> None:
    ways = ["float64=True (command line: --float64; approximate float64, dense or Lanczos: "
            "seconds)"]
    if alt is not None and alt <= max_seconds:
        ways.append(f"certify=False (--no-certify; approximate mpmath at dps={dps}, "
                    f"predicted ~{alt:.2g} s)")
    if certify:
        ways.append("route='weyl' (--route weyl; float64 input: a certified enclosure off "
                    "minimizers whose width is what it proves, tight near minimizers)")
    ways.append("a larger max_seconds (None: no limit) to run it anyway")
    kind = "certified" if certify else "exact mpmath"
    about = "at least" if what.startswith("from the shapes") else "about"
    raise BudgetExceededError(
        f"the {kind} sharpness is predicted to take {about} {seconds:.2g} s, over max_seconds="
        f"{max_seconds:g} (estimate: {what}; model: numeric.sharpness.estimate_exact_seconds); use "
        + ", or ".join(ways)
    )


def estimate_dyadic_seconds(params: int, d0: int, dl: int, *, dps: int = 50) -> tuple[float, str]:
    """The predicted seconds of the certified route for float64 weights at their own product
    (``numeric.reduced.dyadic_reduced_operator``): ``COST_DYADIC_WEIGHT P`` to build the
    ``n = d_0 d_L`` operator ``K``, its rank (``COST_RANK_MOD_P n^2``: full rank is proven
    modulo a prime, as it is for generic weights) and the certified eigenvalues
    (``numeric.eigen.estimated_seconds``).

    >>> seconds, what = estimate_dyadic_seconds(1_081_344, 16, 16)
    >>> 10 < seconds < 60, what.split(",")[0]
    (True, 'a 256 x 256 eigenvalue problem')
    """
    from numeric.eigen import estimated_seconds

    n = d0 * dl  # the rank: a modular rank proves full rank (derivations.algebraic.exact_rank)
    build, rank, eig = COST_DYADIC_WEIGHT * params, COST_RANK_MOD_P * n**2, estimated_seconds(n, dps=dps)
    return build + rank + eig, (f"a {n} x {n} eigenvalue problem, the reduced operator K from "
                                f"the dyadic float64 weights: build ~{build:.2g} s, exact rank "
                                f"~{rank:.2g} s, certified eigenvalues ~{eig:.2g} s")


def _enforce_dyadic_budget(params: int, d0: int, dl: int, *, dps: int, max_seconds: float) -> None:
    seconds, what = estimate_dyadic_seconds(params, d0, dl, dps=dps)
    if seconds > max_seconds:
        _refuse(seconds, what, certify=True, dps=dps, max_seconds=max_seconds, alt=None)
