"""Float64 input: points whose numbers float64 cannot hold are refused (``Float64RangeError``) instead of answered as ``0.0`` or ``nan``; NumPy float input is taken without exact parsing; and whether such a point is a minimizer is decided exactly on its dyadic entries (FLINT integer matrices times powers of two).

Public:
    Float64RangeError   float64 cannot hold the point's numbers (a ``TooLargeError``)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from derivations.errors import (
    NonFiniteError,
    TooLargeError,
)
from derivations.exact import check_chain

__all__ = [
    "Float64RangeError",
    "dyadic_matrix",
]

# --------------------------------------------------------------------------- float64 range
class Float64RangeError(TooLargeError):
    """``float64=True`` refused: the point's numbers (or the products the Hessian is made of)
    overflow or underflow float64, so the approximate answer would be wrong (``inf``, ``nan``,
    ``0.0``). The exact route (``float64=False``, certified) has no range limit."""


_EXACT_ROUTE = ("use the exact route instead (float64=False, the default: certified; on the "
                "command line, drop --float64), which has no range limit")


def _log2_norm(m: np.ndarray) -> float:
    """``log2 ||m||_F`` without overflow or underflow (``-inf`` for a zero matrix)."""
    big = float(np.max(np.abs(m))) if m.size else 0.0
    if big == 0.0:
        return -math.inf
    return math.log2(big) + math.log2(float(np.linalg.norm(m / big)))


def _check_float64_range(ws: list[np.ndarray], x: np.ndarray | None, y: np.ndarray | None) -> None:
    """Refuse (``Float64RangeError``) before computing when float64 cannot hold the numbers the
    Hessian is made of (docs/mathematics.md K1), bounded by products of Frobenius norms in
    ``log2``: every contiguous chain ``W_j...W_i``, ``F X``, ``R``, ``R X^T``, the Gauss-Newton
    entries ``||A_k|| ||A_l|| ||B_k X|| ||B_l X||`` and the residual-term entries ``||B_k X||
    ||R|| ||A_l|| ||W_{l-1}...W_{k+1}||``. Overflow: the largest exceeds ``2^1024 /
    (size margin)``. Underflow: the Hessian's entries are all below ``2^-969`` (subnormal: no
    relative accuracy) without being exactly 0."""
    logs = [_log2_norm(w) for w in ws]
    depth = len(ws)
    lx = 0.0 if x is None else _log2_norm(x)
    ly = -math.inf if y is None else _log2_norm(y)
    terms: list[tuple[float, str]] = []
    for i in range(depth):
        for j in range(i + 1, depth + 1):
            name = f"W_{i + 1}" if j == i + 1 else f"W_{j}...W_{i + 1}"
            terms.append((sum(logs[i:j]), f"the product {name}"))
    fx = sum(logs) + lx
    r = fx if ly == -math.inf else max(fx, ly) + 1.0
    terms += [(fx, "the product W_L...W_1 X"), (ly, "the target"), (r, "the residual R"),
              (r + lx, "R X^T")]
    a = [sum(logs[l + 1 :]) for l in range(depth)]  # ||A_l||, 0-based layer l
    b = [sum(logs[:l]) + lx for l in range(depth)]  # ||B_l X||
    hessian: list[tuple[float, str]] = []
    for k in range(depth):
        for l in range(k, depth):
            hessian.append((a[k] + a[l] + b[k] + b[l],
                            f"the Gauss-Newton block of layers {k + 1}, {l + 1}"))
            if k < l:
                hessian.append((b[k] + r + a[l] + sum(logs[k + 1 : l]),
                                f"the residual-term block of layers {k + 1}, {l + 1}"))
    terms += hessian
    size = math.log2(max(sum(w.size for w in ws), *(max(w.shape) for w in ws), 2)) + 8
    top, what = max(terms, key=lambda t: t[0])
    norms = ", ".join(f"||W_{l}||_F ~ {_pow2_str(v)}" for l, v in enumerate(logs, start=1))
    if top > 1024 - size:
        raise Float64RangeError(
            f"float64 would overflow: {what} reaches about {_pow2_str(top)}, beyond float64's "
            f"largest number 1.8e308 (layer norms: {norms}); {_EXACT_ROUTE}"
        )
    scale, what = max(hessian, key=lambda t: t[0]) if hessian else (-math.inf, "")
    if -math.inf < scale < -1022 + 53:
        raise Float64RangeError(
            f"float64 would underflow: every Hessian entry is below about {_pow2_str(scale)} "
            f"(largest: {what}), where float64 keeps no relative accuracy (layer norms: "
            f"{norms}); {_EXACT_ROUTE}"
        )


def _pow2_str(log2_value: float) -> str:
    """``2^log2_value`` as ``1e616``-style text (no overflow)."""
    if log2_value == -math.inf:
        return "0"
    exponent = log2_value * math.log10(2)
    e = math.floor(exponent)
    mantissa = round(10 ** (exponent - e), 1)
    if mantissa >= 10:
        mantissa, e = mantissa / 10, e + 1
    return f"{mantissa:.1f}e{e}"


def _exact_to_float64(name: str, m: np.ndarray) -> np.ndarray:
    """An exact (``Fraction``) matrix rounded to float64, refused when an entry overflows or a
    nonzero entry underflows to 0."""
    out = np.empty(m.shape, dtype=np.float64)
    for (i, j), q in np.ndenumerate(m):
        try:
            v = float(q)
        except OverflowError:
            v = math.inf
        if math.isinf(v) or (v == 0.0 and q != 0):
            kind = "overflows" if math.isinf(v) else "underflows to 0 in"
            raise Float64RangeError(
                f"{name}[{i}, {j}] = {_fraction_size(q)} {kind} float64 (range about "
                f"2.2e-308 to 1.8e308); {_EXACT_ROUTE}"
            )
        out[i, j] = v
    return out


def _fraction_size(q: Any) -> str:
    f = Fraction(q)
    log2_abs = math.log2(abs(f.numerator)) - math.log2(f.denominator)
    return f"{'-' if f < 0 else ''}~{_pow2_str(log2_abs)}"


# --------------------------------------------------------------------------- input
def _is_float_array(a: Any) -> bool:
    return isinstance(a, np.ndarray) and a.ndim == 2 and a.dtype.kind in "fiu"


def _fast_float_input(
    weights: Sequence[Any], target: Any, data: Any, labels: Any
) -> tuple[list[np.ndarray], np.ndarray | None, np.ndarray | None, np.ndarray | None] | None:
    """NumPy float/int arrays only: validate shapes (``check_chain``) and finiteness without
    building exact rationals. Returns ``None`` when the input needs the exact parser."""
    if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence) or not weights:
        return None
    if not all(_is_float_array(w) for w in weights):
        return None
    others = [target, data, labels]
    if any(o is not None and not _is_float_array(o) for o in others):
        return None
    ws = [np.asarray(w, dtype=np.float64) for w in weights]
    t, x, y = (None if o is None else np.asarray(o, dtype=np.float64) for o in others)
    check_chain(
        [w.shape for w in ws],
        target_shape=None if t is None else t.shape,
        data_shape=None if x is None else x.shape,
        labels_shape=None if y is None else y.shape,
    )
    named = [(f"W_{l}", w) for l, w in enumerate(ws, start=1)]
    named += [(n, m) for n, m in (("target M", t), ("data X", x), ("labels Y", y)) if m is not None]
    for name, m in named:
        if m.size == 0:
            from derivations.errors import EmptyInputError

            raise EmptyInputError(f"{name} is empty (shape {m.shape}); every dimension must be >= 1")
        if not np.all(np.isfinite(m)):
            i, j = (int(k) for k in np.argwhere(~np.isfinite(m))[0])
            raise NonFiniteError(f"{name}[{i}, {j}] is {m[i, j]!r}; every entry must be finite")
    return ws, t, x, y


def dyadic_matrix(m: np.ndarray) -> tuple[Any, int]:
    """A float64 matrix exactly as ``(N, e)`` with ``m = N 2^e``, ``N`` an integer ``fmpz_mat``
    (every float64 is a dyadic rational: ``frexp`` gives its 53-bit mantissa and exponent)."""
    from flint import fmpz_mat

    mant, expo = np.frexp(m)
    ints = (mant * 2.0**53).astype(np.int64)
    expo = expo.astype(np.int64) - 53
    nz = ints != 0
    e0 = int(expo[nz].min()) if np.any(nz) else 0
    shift = np.where(nz, expo - e0, 0)
    entries = [int(a) << int(s) for a, s in zip(ints.flat, shift.flat, strict=True)]
    return fmpz_mat(m.shape[0], m.shape[1], entries), e0


def _dyadic_mul(a: tuple[Any, int], b: tuple[Any, int]) -> tuple[Any, int]:
    return a[0] * b[0], a[1] + b[1]


def _dyadic_equal(a: tuple[Any, int], b: tuple[Any, int]) -> bool:
    (ma, ea), (mb, eb) = a, b
    if ea >= eb:
        return bool(ma * (2 ** (ea - eb)) == mb)
    return bool(mb * (2 ** (eb - ea)) == ma)


def _clearly_not_minimizer(
    ws: list[np.ndarray], x: np.ndarray | None, y: np.ndarray, f: np.ndarray | None = None
) -> bool:
    """``True`` when float64 arithmetic PROVES ``R X^T != 0``: some entry of the computed
    ``R X^T`` exceeds twice the a priori bound of its rounding error, ``gamma_n (|W_L| ...
    |W_1| |X| + |Y|) |X|^T`` with ``gamma_n = n u / (1 - n u)``, ``u = 2^-53`` and ``n`` the sum
    of the inner dimensions of the products (Higham, *Accuracy and Stability of Numerical
    Algorithms*, 2nd ed., Lemma 3.5 and section 3.5: ``|fl(AB) - AB| <= gamma_k |A| |B|``,
    chained over the product), plus ``1e-300`` for underflow. ``False`` says nothing: the exact
    test decides. A product of float64 matrices costs far less than the exact integer one.
    ``y`` is the target ``M`` (``x = None``) or the labels; ``f``, when given, is the computed
    product ``W_L ... W_1`` (``numeric.factors.product``), which the caller needs too."""
    from numeric.factors import product

    f = product(ws) if f is None else f
    fa = product([np.abs(w) for w in ws])
    n = sum(w.shape[1] for w in ws) + 2
    if x is None:
        r, scale = f - y, fa + np.abs(y)
    else:
        xa = np.abs(x)
        r, scale = (f @ x - y) @ x.T, (fa @ xa + np.abs(y)) @ xa.T
        n += x.shape[0] + 2 * x.shape[1]
    u = 2.0**-53
    gamma = n * u / (1 - n * u)
    return bool(np.any(np.abs(r) > 2 * gamma * scale + 1e-300))


def _float_is_minimizer(
    ws: list[np.ndarray], t: np.ndarray | None, x: np.ndarray | None, y: np.ndarray | None,
    f: np.ndarray | None = None,
) -> bool:
    """Exactly whether ``R X^T = 0`` for float64 input (its exact binary-rational values): first
    a float64 proof that it is not (:func:`_clearly_not_minimizer`, given the computed product
    ``f`` when the caller has it), then integer matrices (python-flint ``fmpz_mat``)."""
    goal = t if x is None else y
    if goal is None:
        return True  # target/labels default to the exact product
    if _clearly_not_minimizer(ws, x, goal, f):
        return False
    exact = dyadic_matrix(ws[0])
    for w in ws[1:]:
        exact = _dyadic_mul(dyadic_matrix(w), exact)
    if x is None:
        return _dyadic_equal(exact, dyadic_matrix(goal))
    xd = dyadic_matrix(x)
    xt = (xd[0].transpose(), xd[1])
    return _dyadic_equal(_dyadic_mul(_dyadic_mul(exact, xd), xt),
                         _dyadic_mul(dyadic_matrix(goal), xt))
