"""Exact input: parsing weights, targets, data and labels into rational matrices.

This is the one place where outside numbers enter dmf-sharpness (STYLE.md 3 and 9).

Public:
    MAX_DIGITS           the most digits of an integer string, of each side of ``p/q``, of a
                         decimal string's mantissa (4000)
    ExactMatrix          alias: a 2-D NumPy ``object`` array of ``fractions.Fraction``
    parse_entry          one number -> ``Fraction`` (ints, Fractions, decimal or ``p/q`` strings,
                         finite floats taken as the exact binary rationals they are)
    parse_matrix         a 2-D array-like -> ``ExactMatrix``
    Point                a validated point: exact weights, optional data ``X``, labels ``Y``
    parse_point          the public boundary: check shapes, finiteness, sizes; build a ``Point``
    check_chain          shape check shared with the float64 path (``numeric.inputs``)
    exact_product        ``W_L ... W_1`` exactly
    identity             exact identity matrix
    to_sympy, to_fmpq_mat, to_float64, to_mpmath   the conversions out of the exact world
    from_fmpq_mat        back from python-flint

Conventions follow docs/mathematics.md: layer ``l`` is ``W_l`` of shape ``(d_l, d_{l-1})``,
``W_1`` first; data ``X`` is ``(d_0, N)``, labels ``Y`` are ``(d_L, N)``; without data ``X = I``
and ``Y = M`` (the target). ``target=None`` (and ``labels=None`` with data) means "the product
of the weights", i.e. the point is a global minimizer with zero residual.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

import numpy as np

from derivations.errors import (
    EmptyInputError,
    EntryError,
    NonFiniteError,
    ShapeError,
    TooLargeError,
)

__all__ = [
    "MAX_DIGITS",
    "MAX_ENTRIES",
    "ExactMatrix",
    "Point",
    "check_chain",
    "exact_product",
    "from_fmpq_mat",
    "identity",
    "parse_entry",
    "parse_matrix",
    "parse_point",
    "to_float64",
    "to_fmpq_mat",
    "to_mpmath",
    "to_sympy",
]

ExactMatrix = np.ndarray
"""A 2-D NumPy array of dtype ``object`` whose entries are ``fractions.Fraction``."""

MAX_ENTRIES = 10_000_000
"""Refuse a single matrix with more entries than this (absurd sizes)."""

_FLINT_PRODUCT_THRESHOLD = 400  # parameters; below it Fraction arrays are as fast
_MAX_DECIMAL_EXPONENT = 1000
_MAX_STRING_LENGTH = 10_000
MAX_DIGITS = 4000
"""Refuse an integer string, either side of a fraction string, or a decimal string's mantissa
with more digits than this (README, Input files); checked before any conversion."""
_MAX_EXPONENT_DIGITS = 6  # a longer exponent is far beyond _MAX_DECIMAL_EXPONENT anyway
# ASCII digits only: Python's \d and int() also accept other scripts' digits ("\u0661", "\uff11").
_FRACTION_RE = re.compile(r"([+-]?)([0-9]+)/([0-9]+)")
_DECIMAL_RE = re.compile(r"[+-]?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?")


def parse_entry(x: Any, where: str = "entry") -> Fraction:
    """Read one number exactly.

    Accepted: ``int`` (not ``bool``), ``Fraction`` and other ``numbers.Rational`` (SymPy's
    ``Rational``, python-flint's ``fmpq``), finite ``float``/NumPy floats (the exact binary
    rational they store), finite mpmath ``mpf`` (also exact binary), ``decimal.Decimal``, and strings: an integer,
    a decimal (``"0.1"`` is exactly 1/10) or a fraction ``"p/q"``. Strings are never evaluated.

    >>> parse_entry("0.1"), parse_entry("-2/6"), parse_entry(0.5), parse_entry(3)
    (Fraction(1, 10), Fraction(-1, 3), Fraction(1, 2), Fraction(3, 1))
    """
    if isinstance(x, bool | np.bool_):
        raise EntryError(f"{where}: got the boolean {x!r}; expected a number")
    if isinstance(x, Fraction):
        return x
    if isinstance(x, int | np.integer):
        return Fraction(int(x))
    if isinstance(x, float | np.floating):
        if not np.isfinite(x):
            raise NonFiniteError(f"{where} is {x!r}; every entry must be finite")
        # The exact binary rational stored, whatever the width (float16 ... longdouble):
        # ``float(x)`` would round a longdouble to float64.
        return Fraction(*x.as_integer_ratio())
    if isinstance(x, str):
        return _parse_string(x, where)
    if isinstance(x, Decimal):
        return _parse_decimal(x, str(x), where)
    if hasattr(x, "p") and hasattr(x, "q") and getattr(x, "is_Rational", False):
        return Fraction(int(x.p), int(x.q))  # SymPy Rational / Integer
    if isinstance(x, numbers.Rational):
        return Fraction(int(x.numerator), int(x.denominator))
    if type(x).__name__ == "fmpq":
        return Fraction(int(x.p), int(x.q))
    if type(x).__name__ == "mpf":
        return _parse_mpf(x, where)
    raise EntryError(
        f"{where}: cannot read {x!r} (type {type(x).__name__}) as an exact number; expected an "
        "int, a Fraction, a finite float, or a string like '3', '-0.25', '2/3'"
    )


def _shown(s: str) -> str:
    """``repr`` of user text, cut short so an error stays one readable line."""
    return repr(s) if len(s) <= 60 else repr(s[:40]) + f"... ({len(s)} characters)"


def _check_digits(count: int, what: str, s: str, where: str) -> None:
    if count > MAX_DIGITS:
        raise EntryError(
            f"{where}: {_shown(s)} has {count} digits in {what}; the limit is {MAX_DIGITS} digits"
        )


def _parse_string(s: str, where: str) -> Fraction:
    if len(s) > _MAX_STRING_LENGTH:
        raise EntryError(f"{where}: a string of {len(s)} characters is too long for a number")
    if not s.isascii():
        raise EntryError(
            f"{where}: {_shown(s)} contains non-ASCII characters; write numbers with the ASCII "
            "digits 0-9 (like '3', '-0.25', '2/3')"
        )
    t = s.strip()
    if t.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
        raise NonFiniteError(f"{where} is {_shown(s)}; every entry must be finite")
    if any(c.isspace() for c in t):
        raise EntryError(
            f"{where}: {_shown(s)} has a space inside the number; write it without spaces, "
            "like '-1/2' or '0.25'"
        )
    fraction = _FRACTION_RE.fullmatch(t)
    if fraction:
        sign, num_text, den_text = fraction.groups()
        _check_digits(len(num_text), "the numerator", s, where)
        _check_digits(len(den_text), "the denominator", s, where)
        num, den = int(num_text), int(den_text)
        if den == 0:
            raise EntryError(f"{where}: {_shown(s)} has a zero denominator")
        return Fraction(-num if sign == "-" else num, den)
    decimal = _DECIMAL_RE.fullmatch(t)
    if decimal:
        mantissa, exponent = decimal.groups()
        _check_digits(len(mantissa.replace(".", "")), "the mantissa", s, where)
        if exponent is not None and len(exponent.lstrip("+-")) > _MAX_EXPONENT_DIGITS:
            raise EntryError(
                f"{where}: {_shown(s)} has a decimal exponent beyond +-{_MAX_DECIMAL_EXPONENT}"
            )
        try:
            d = Decimal(t)
        except InvalidOperation as exc:  # pragma: no cover - the regex already vets it
            raise EntryError(f"{where}: {_shown(s)} is not a decimal number") from exc
        return _parse_decimal(d, s, where)
    raise EntryError(
        f"{where}: cannot read the string {_shown(s)} as a number; expected an integer, a decimal "
        "like '-0.25' or '1e-3', or a fraction like '2/3'"
    )


def _parse_decimal(d: Decimal, text: str, where: str) -> Fraction:
    if not d.is_finite():
        raise NonFiniteError(f"{where} is {text!r}; every entry must be finite")
    exponent = d.as_tuple().exponent
    if isinstance(exponent, int) and abs(exponent) > _MAX_DECIMAL_EXPONENT:
        raise EntryError(
            f"{where}: {_shown(text)} has a decimal exponent beyond +-{_MAX_DECIMAL_EXPONENT}"
        )
    return Fraction(d)


def _parse_mpf(x: Any, where: str) -> Fraction:
    import mpmath

    if not mpmath.isfinite(x):
        raise NonFiniteError(f"{where} is {x}; every entry must be finite")
    sign, man, exp, _ = x._mpf_  # man_exp would drop the sign
    value = Fraction(int(man) << int(exp)) if exp >= 0 else Fraction(int(man), 1 << int(-exp))
    return -value if sign else value


def parse_matrix(obj: Any, name: str = "matrix") -> ExactMatrix:
    """Read a 2-D array-like (NumPy array, nested lists, SymPy/flint matrix) into an
    ``ExactMatrix``. Errors name ``name`` and the offending position."""
    rows = _as_rows(obj, name)
    if len(rows) == 0 or len(rows[0]) == 0:
        raise EmptyInputError(f"{name} is empty (shape {_shape_of(rows)}); every dimension must be >= 1")
    ncols = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != ncols:
            raise ShapeError(
                f"{name} is ragged: row 0 has {ncols} entries but row {i} has {len(row)}"
            )
    if len(rows) * ncols > MAX_ENTRIES:
        raise TooLargeError(
            f"{name} has {len(rows)} x {ncols} entries, more than the limit {MAX_ENTRIES}"
        )
    out = np.empty((len(rows), ncols), dtype=object)
    for i, row in enumerate(rows):
        for j, x in enumerate(row):
            out[i, j] = parse_entry(x, f"{name}[{i}, {j}]")
    return out


def _shape_of(rows: list[Any]) -> tuple[int, ...]:
    return (len(rows),) if not rows else (len(rows), len(rows[0]))


def _as_rows(obj: Any, name: str) -> list[Any]:
    if isinstance(obj, np.ndarray):
        if obj.ndim != 2:
            raise ShapeError(f"{name} must be a 2-D matrix; got an array of shape {obj.shape}")
        if obj.dtype.kind == "f" and obj.size and not np.all(np.isfinite(obj)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(obj))[0])
            raise NonFiniteError(
                f"{name}[{bad[0]}, {bad[1]}] is {obj[bad]!r}; every entry must be finite"
            )
        if obj.dtype.kind == "c":
            raise EntryError(f"{name} is complex ({obj.dtype}); expected real entries")
        return [list(r) for r in obj]
    if hasattr(obj, "tolist") and hasattr(obj, "shape") and not isinstance(obj, list):
        return _as_rows(np.array(obj.tolist(), dtype=object), name)  # SymPy Matrix
    if hasattr(obj, "tolist") and hasattr(obj, "nrows"):
        return [list(r) for r in obj.tolist()]  # python-flint matrices
    if isinstance(obj, str | bytes) or not isinstance(obj, Sequence):
        raise ShapeError(
            f"{name} must be a 2-D matrix (a list of rows or a 2-D array); got {type(obj).__name__}"
        )
    rows = list(obj)
    for i, row in enumerate(rows):
        if isinstance(row, str | bytes) or not isinstance(row, Sequence | np.ndarray):
            raise ShapeError(
                f"{name} must be a 2-D matrix (a list of rows); row {i} is a "
                f"{type(row).__name__}, not a list"
            )
        for j, x in enumerate(row):
            if isinstance(x, list | tuple | np.ndarray):
                raise ShapeError(f"{name}[{i}][{j}] is a sequence; {name} must be 2-D")
    return [list(r) for r in rows]


def check_chain(
    weight_shapes: Sequence[tuple[int, ...]],
    *,
    target_shape: tuple[int, ...] | None = None,
    data_shape: tuple[int, ...] | None = None,
    labels_shape: tuple[int, ...] | None = None,
) -> tuple[int, ...]:
    """Check that ``W_1, ..., W_L`` chain (``W_l`` is ``(d_l, d_{l-1})``) and that target, data
    and labels fit. Returns ``dims = (d_0, ..., d_L)``.

    >>> check_chain([(3, 2), (4, 3)])
    (2, 3, 4)
    """
    if len(weight_shapes) == 0:
        raise EmptyInputError("no layers given; expected weights W_1, ..., W_L with L >= 1")
    for l, shape in enumerate(weight_shapes, start=1):
        if len(shape) != 2:
            raise ShapeError(f"W_{l} must be 2-D (d_{l}, d_{l - 1}); got shape {tuple(shape)}")
    dims = [weight_shapes[0][1]]
    for l, (rows, cols) in enumerate(weight_shapes, start=1):
        if cols != dims[-1]:
            raise ShapeError(
                f"layer {l} (W_{l}) has shape ({rows}, {cols}) but layer {l - 1} outputs "
                f"{dims[-1]} rows; W_{l} must be (d_{l}, {dims[-1]})"
            )
        dims.append(rows)
    d0, dL = dims[0], dims[-1]
    if target_shape is not None and data_shape is not None:
        raise ShapeError("give either a target M (with X = I) or data X with labels Y, not both")
    if target_shape is not None and tuple(target_shape) != (dL, d0):
        raise ShapeError(
            f"target M has shape {tuple(target_shape)}; expected (d_L, d_0) = ({dL}, {d0})"
        )
    if labels_shape is not None and data_shape is None:
        raise ShapeError("labels Y were given without data X; give data X too, or use target")
    if data_shape is not None:
        if data_shape[0] != d0:
            raise ShapeError(
                f"data X has shape {tuple(data_shape)}; expected (d_0, N) with d_0 = {d0}"
            )
        n = data_shape[1]
        if labels_shape is not None and tuple(labels_shape) != (dL, n):
            raise ShapeError(
                f"labels Y have shape {tuple(labels_shape)}; expected (d_L, N) = ({dL}, {n})"
            )
    return tuple(int(d) for d in dims)


def identity(n: int) -> ExactMatrix:
    """The exact ``n x n`` identity."""
    out = np.empty((n, n), dtype=object)
    out[...] = Fraction(0)
    for i in range(n):
        out[i, i] = Fraction(1)
    return out


def exact_product(weights: Sequence[ExactMatrix]) -> ExactMatrix:
    """``W_L ... W_1`` in exact arithmetic (``W_1`` is ``weights[0]``); large products go
    through python-flint's ``fmpq_mat`` (exact, in C) instead of ``Fraction`` object arrays."""
    if sum(w.size for w in weights) < _FLINT_PRODUCT_THRESHOLD:
        out = weights[0]
        for w in weights[1:]:
            out = w @ out
        return out
    acc = to_fmpq_mat(weights[0])
    for w in weights[1:]:
        acc = to_fmpq_mat(w) * acc
    return from_fmpq_mat(acc)


@dataclass(frozen=True)
class Point:
    """A validated point ``(W_1, ..., W_L)`` with its data, all exact rationals.

    ``data is None`` means ``X = I`` (plain factorization), and then ``labels`` is the target
    ``M`` (``d_L x d_0``). Otherwise ``data`` is ``X`` (``d_0 x N``) and ``labels`` is ``Y``.
    """

    weights: tuple[ExactMatrix, ...]
    labels: ExactMatrix
    data: ExactMatrix | None = None

    @property
    def dims(self) -> tuple[int, ...]:
        return (self.weights[0].shape[1], *(w.shape[0] for w in self.weights))

    @property
    def depth(self) -> int:
        return len(self.weights)

    @property
    def num_params(self) -> int:
        return sum(w.size for w in self.weights)

    @property
    def target(self) -> ExactMatrix:
        """``M`` for plain factorization (``X = I``)."""
        if self.data is not None:
            raise ShapeError("this point has data X; its labels are Y, there is no target M")
        return self.labels

    def residual(self) -> ExactMatrix:
        """``R = W_L ... W_1 X - Y`` exactly."""
        f = exact_product(self.weights)
        fx = f if self.data is None else f @ self.data
        return fx - self.labels

    def is_minimizer(self) -> bool:
        """Exactly whether ``R X^T = 0`` (a global minimizer of the squared loss when the
        bottleneck allows it; for ``X = I`` this is ``R = 0``)."""
        r = self.residual()
        rxt = r if self.data is None else r @ self.data.T
        return all(x == 0 for x in rxt.flat)


def parse_point(
    weights: Sequence[Any],
    target: Any = None,
    *,
    data: Any = None,
    labels: Any = None,
) -> Point:
    """The public boundary: read and check a point. ``target=None`` (or, with data,
    ``labels=None``) sets the target/labels to the exact product of the weights."""
    if isinstance(weights, np.ndarray) and weights.dtype != object and weights.ndim == 2:
        raise ShapeError("weights must be a sequence of 2-D matrices [W_1, ..., W_L], not one matrix")
    if isinstance(weights, str | bytes | dict) or not isinstance(weights, Sequence | np.ndarray):
        raise ShapeError(
            f"weights must be a sequence [W_1, ..., W_L] of 2-D matrices; got {type(weights).__name__}"
        )
    ws = tuple(parse_matrix(w, f"W_{l}") for l, w in enumerate(weights, start=1))
    m = None if target is None else parse_matrix(target, "target M")
    x = None if data is None else parse_matrix(data, "data X")
    y = None if labels is None else parse_matrix(labels, "labels Y")
    check_chain(
        [w.shape for w in ws],
        target_shape=None if m is None else m.shape,
        data_shape=None if x is None else x.shape,
        labels_shape=None if y is None else y.shape,
    )
    product = exact_product(ws)
    if x is None:
        return Point(weights=ws, labels=product if m is None else m, data=None)
    return Point(weights=ws, labels=product @ x if y is None else y, data=x)


def to_sympy(m: ExactMatrix) -> Any:
    """``ExactMatrix`` -> ``sympy.Matrix`` of ``Rational`` (exact)."""
    import sympy

    return sympy.Matrix(
        m.shape[0], m.shape[1], [sympy.Rational(x.numerator, x.denominator) for x in m.flat]
    )


def to_fmpq_mat(m: ExactMatrix) -> Any:
    """``ExactMatrix`` -> ``flint.fmpq_mat`` (exact)."""
    from flint import fmpq, fmpq_mat

    return fmpq_mat(m.shape[0], m.shape[1], [fmpq(x.numerator, x.denominator) for x in m.flat])


def from_fmpq_mat(m: Any) -> ExactMatrix:
    """``flint.fmpq_mat`` -> ``ExactMatrix`` (exact)."""
    out = np.empty((m.nrows(), m.ncols()), dtype=object)
    for i, row in enumerate(m.tolist()):
        for j, x in enumerate(row):
            out[i, j] = Fraction(int(x.p), int(x.q))
    return out


def to_float64(m: ExactMatrix) -> np.ndarray:
    """``ExactMatrix`` -> float64 array (rounded to nearest: approximate from here on)."""
    return np.array([[float(x) for x in row] for row in m], dtype=np.float64).reshape(m.shape)


def to_mpmath(m: ExactMatrix) -> np.ndarray:
    """``ExactMatrix`` -> object array of ``mpmath.mpf``, rounded at the *current* mpmath
    precision: call it inside ``mpmath.workdps(dps)``."""
    import mpmath

    out = np.empty(m.shape, dtype=object)
    for idx, x in np.ndenumerate(m):
        out[idx] = mpmath.mpf(x.numerator) / x.denominator
    return out
