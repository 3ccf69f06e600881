"""Hypothesis strategies for deep matrix factorization (public: use them in your own tests).

Public (all ``@hypothesis.strategies.composite``; size limits are keyword-only, small by
default, and everything shrinks towards small integers, zeros and identities):

    dims(*, min_depth=1, max_depth=3, min_width=1, max_width=3, square_ends=None,
         scalar_ends=False)
        ``(d_0, ..., d_L)``. ``square_ends=True`` forces ``d_0 = d_L``, ``False`` forbids it,
        ``None`` leaves it free; ``scalar_ends=True`` forces ``d_0 = d_L = 1``.
    rational_matrices(shape, *, max_numerator=3, max_denominator=3, exact=True)
        a ``shape`` matrix. ``exact=True``: an object array of ``fractions.Fraction``
        ``p/q`` with ``|p| <= max_numerator``, ``1 <= q <= max_denominator``.
        ``exact=False``: a float64 array of dyadic rationals ``p/2^k`` (``2^k <=
        max_denominator``), each exactly representable, so its exact value is known.
    gauges(dims, *, max_entry=2, exact=True)
        invertible ``G_1 .. G_{L-1}`` as ``L_unit diag(+-2^k or c) U_unit`` (invertible by
        construction; ``exact=False`` keeps inverses dyadic).
    minimizers(*, dims=None, kind="any", exact=True, max_numerator=3, max_denominator=3)
        a ``derivations.exact.Point`` that is a global minimizer with ``X = I`` and zero
        residual (target = product of the weights, exactly). ``kind``:
        ``"plain"`` random weights; ``"gauge"`` plain weights gauge-transformed;
        ``"balanced"`` an exactly balanced minimizer (``numeric.minimizers``
        ``exact_balanced_minimizer``, Cayley frames; signed-permutation frames when
        ``exact=False``); ``"overparameterized"`` hidden widths larger than both ends;
        ``"rank_deficient"`` ``rank M < min(d_0, d_L)``; ``"zero_target"`` ``M = 0`` with
        nonzero weights where the widths allow it; ``"any"`` one of these.
        ``exact=False``: every entry of weights and target is a float64-representable rational
        (convert with ``to_float64`` without rounding).
    near_minimizers(*, dims=None, kind="any", exact=True, with_data=False, scale=1/1000,
                    max_samples=3)
        a minimizer ``W*`` (of ``kind``; with data: labels ``Y = f(W*) X``) whose weights are
        moved by ``scale * E`` with a small rational ``E`` (which may shrink to zero: then the
        point is the minimizer itself). ``exact=False``: ``scale`` is rounded to a power of 2.
    symmetric_matrices(*, max_n=5, max_numerator=6, max_denominator=4)
        a square symmetric ``Fraction`` matrix (input for eigenvalue routines).
    points_with_data(*, dims=None, min_samples=1, max_samples=4, exact=True, minimizer=False)
        random weights, data ``X`` (``d_0 x N``) and labels ``Y`` (``d_L x N``): in general
        NOT a minimizer; ``minimizer=True`` sets ``Y = f(W) X`` (``R = 0``).

``dims`` arguments of the point strategies accept a tuple or a strategy of tuples.

Example (a property a user can run against their own sharpness code)::

    from hypothesis import given
    from numeric.strategies import minimizers

    @given(minimizers(kind="balanced"))
    def test_point_is_minimizer(point):
        assert point.is_minimizer()
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from derivations.exact import ExactMatrix, Point, exact_product, identity
from numeric.minimizers import _exact_balanced, cayley_orthogonal, gauge_transform

__all__ = [
    "KINDS",
    "dims",
    "gauges",
    "minimizers",
    "near_minimizers",
    "points_with_data",
    "rational_matrices",
    "symmetric_matrices",
]

KINDS = ("plain", "gauge", "balanced", "overparameterized", "rank_deficient", "zero_target")
"""The minimizer kinds drawn by ``minimizers(kind="any")``."""

DimsArg = tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None


def _check_positive(name: str, value: int, minimum: int = 1) -> None:
    if not isinstance(value, int) or value < minimum:
        raise InvalidArgument(f"{name} must be an integer >= {minimum}; got {value!r}")


@st.composite
def dims(
    draw: st.DrawFn,
    *,
    min_depth: int = 1,
    max_depth: int = 3,
    min_width: int = 1,
    max_width: int = 3,
    square_ends: bool | None = None,
    scalar_ends: bool = False,
) -> tuple[int, ...]:
    """``(d_0, ..., d_L)`` with ``min_depth <= L <= max_depth`` and widths in
    ``[min_width, max_width]`` (see the module docstring for the end options)."""
    _check_positive("min_depth", min_depth)
    _check_positive("min_width", min_width)
    if max_depth < min_depth or max_width < min_width:
        raise InvalidArgument(
            f"need min_depth <= max_depth and min_width <= max_width; got depth "
            f"[{min_depth}, {max_depth}], width [{min_width}, {max_width}]"
        )
    if scalar_ends and min_width > 1:
        raise InvalidArgument(f"scalar_ends=True needs min_width = 1; got {min_width}")
    if square_ends is False and (scalar_ends or min_width == max_width):
        raise InvalidArgument("square_ends=False needs two distinct end widths to be possible")
    depth = draw(st.integers(min_depth, max_depth))
    width = st.integers(min_width, max_width)
    hidden = [draw(width) for _ in range(depth - 1)]
    if scalar_ends:
        return (1, *hidden, 1)
    d0 = draw(width)
    if square_ends:
        return (d0, *hidden, d0)
    d_last = draw(width.filter(lambda d: d != d0)) if square_ends is False else draw(width)
    return (d0, *hidden, d_last)


def _entry(draw: st.DrawFn, max_numerator: int, max_denominator: int, exact: bool) -> Fraction:
    num = draw(st.integers(-max_numerator, max_numerator))
    if exact:
        den = draw(st.integers(1, max_denominator))
    else:
        den = 2 ** draw(st.integers(0, max(0, max_denominator.bit_length() - 1)))
    return Fraction(num, den)


@st.composite
def rational_matrices(
    draw: st.DrawFn,
    shape: tuple[int, int],
    *,
    max_numerator: int = 3,
    max_denominator: int = 3,
    exact: bool = True,
) -> np.ndarray:
    """A ``shape`` matrix of small rationals ``p/q`` (shrinks towards zero): an object array of
    ``Fraction`` when ``exact``, else a float64 array of exactly representable dyadic
    rationals."""
    rows, cols = shape
    _check_positive("rows", rows)
    _check_positive("cols", cols)
    _check_positive("max_numerator", max_numerator, 0)
    _check_positive("max_denominator", max_denominator)
    out = np.empty((rows, cols), dtype=object)
    for i in range(rows):
        for j in range(cols):
            out[i, j] = _entry(draw, max_numerator, max_denominator, exact)
    if exact:
        return out
    return out.astype(np.float64)


@st.composite
def symmetric_matrices(
    draw: st.DrawFn,
    *,
    max_n: int = 5,
    max_numerator: int = 6,
    max_denominator: int = 4,
) -> np.ndarray:
    """A square symmetric ``Fraction`` object array of size ``1..max_n`` with entries ``p/q``
    (``|p| <= max_numerator``, ``1 <= q <= max_denominator``): inputs for eigenvalue code."""
    _check_positive("max_n", max_n)
    n = draw(st.integers(1, max_n))
    m = np.empty((n, n), dtype=object)
    for i in range(n):
        for j in range(i, n):
            m[i, j] = m[j, i] = Fraction(
                draw(st.integers(-max_numerator, max_numerator)), draw(st.integers(1, max_denominator))
            )
    return m


def _exact(m: np.ndarray) -> ExactMatrix:
    """A float64 or Fraction matrix as an exact ``Fraction`` object array (floats exactly)."""
    if m.dtype == object:
        return m
    return np.array([[Fraction(float(x)) for x in row] for row in m], dtype=object).reshape(
        m.shape
    )


def _matrix(
    draw: st.DrawFn, shape: tuple[int, int], num: int, den: int, exact: bool
) -> ExactMatrix:
    return _exact(
        draw(rational_matrices(shape, max_numerator=num, max_denominator=den, exact=exact))
    )


def _gauge(draw: st.DrawFn, d: int, max_entry: int, exact: bool) -> ExactMatrix:
    """``L diag(c) U`` with unit triangular integer ``L, U`` and nonzero ``c`` (shrinks to I)."""
    lower, upper, diag = identity(d), identity(d), identity(d)
    for i in range(d):
        for j in range(i):
            lower[i, j] = Fraction(draw(st.integers(-max_entry, max_entry)))
            upper[j, i] = Fraction(draw(st.integers(-max_entry, max_entry)))
        sign = draw(st.sampled_from([1, -1]))
        if exact:
            diag[i, i] = sign * Fraction(draw(st.integers(1, max_entry + 1)))
        else:
            diag[i, i] = sign * Fraction(2) ** draw(st.integers(-1, 1))
    return np.asarray(lower @ diag @ upper, dtype=object)


@st.composite
def gauges(
    draw: st.DrawFn, dims: Sequence[int], *, max_entry: int = 2, exact: bool = True
) -> list[ExactMatrix]:
    """Invertible gauges ``G_1 .. G_{L-1}`` for ``numeric.minimizers.gauge_transform``."""
    _check_positive("max_entry", max_entry)
    return [_gauge(draw, d, max_entry, exact) for d in tuple(dims)[1:-1]]


def _draw_dims(draw: st.DrawFn, dims_arg: DimsArg, kind: str) -> tuple[int, ...]:
    if dims_arg is None:
        if kind == "overparameterized":
            ends = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
            depth = draw(st.integers(2, 3))
            hidden = draw(st.lists(st.integers(max(ends) + 1, max(ends) + 2),
                                   min_size=depth - 1, max_size=depth - 1))
            return (ends[0], *hidden, ends[1])
        return draw(dims())
    out = draw(dims_arg) if isinstance(dims_arg, st.SearchStrategy) else tuple(dims_arg)
    if len(out) < 2 or any(not isinstance(d, int) or d < 1 for d in out):
        raise InvalidArgument(f"dims must be (d_0, ..., d_L) with L >= 1 and widths >= 1; got {out}")
    return tuple(out)


def _point(weights: Sequence[ExactMatrix]) -> Point:
    ws = tuple(np.asarray(w, dtype=object) for w in weights)
    return Point(weights=ws, labels=exact_product(ws), data=None)


def _plain(draw: st.DrawFn, d: tuple[int, ...], num: int, den: int, exact: bool) -> Point:
    return _point([_matrix(draw, (d[l], d[l - 1]), num, den, exact) for l in range(1, len(d))])


def _rank_deficient(draw: st.DrawFn, d: tuple[int, ...], num: int, den: int, exact: bool) -> Point:
    """``W_1 = A B`` through an inner width ``r < min(d_0, d_L)`` (``r = 0``: ``W_1 = 0``)."""
    r = draw(st.integers(0, min(d[0], d[-1]) - 1))
    if r == 0:
        w1 = _matrix(draw, (d[1], d[0]), 0, 1, exact)
    else:
        w1 = _matrix(draw, (d[1], r), num, den, exact) @ _matrix(draw, (r, d[0]), num, den, exact)
    rest = [_matrix(draw, (d[l], d[l - 1]), num, den, exact) for l in range(2, len(d))]
    return _point([w1, *rest])


def _zero_target(draw: st.DrawFn, d: tuple[int, ...], num: int, den: int, exact: bool) -> Point:
    """Product exactly zero: a hidden layer ``h`` of width >= 2 is split so that ``W_h`` writes
    only into coordinates that ``W_{h+1}`` ignores; without such a layer one ``W_l = 0``."""
    ws = [_matrix(draw, (d[l], d[l - 1]), num, den, exact) for l in range(1, len(d))]
    wide = [h for h in range(1, len(d) - 1) if d[h] >= 2]
    if wide:
        h = draw(st.sampled_from(wide))
        cut = draw(st.integers(1, d[h] - 1))
        ws[h - 1][cut:, :] = Fraction(0)  # W_h writes only into coordinates < cut
        ws[h][:, :cut] = Fraction(0)  # W_{h+1} reads only coordinates >= cut
    else:
        ws[draw(st.integers(0, len(ws) - 1))][...] = Fraction(0)
    return _point(ws)


def _signed_permutation(draw: st.DrawFn, n: int) -> ExactMatrix:
    perm = draw(st.permutations(list(range(n))))
    out = identity(n) * Fraction(0)
    for i, j in enumerate(perm):
        out[i, j] = Fraction(draw(st.sampled_from([1, -1])))
    return out


def _orthogonal(draw: st.DrawFn, n: int, exact: bool) -> ExactMatrix:
    if not exact:
        return _signed_permutation(draw, n)
    s = identity(n) * Fraction(0)
    for i in range(n):
        for j in range(i + 1, n):
            x = Fraction(draw(st.integers(-2, 2)), draw(st.integers(1, 2)))
            s[i, j], s[j, i] = x, -x
    q = cayley_orthogonal(s)
    return np.asarray(q @ _signed_permutation(draw, n), dtype=object)


def _balanced(draw: st.DrawFn, d: tuple[int, ...], num: int, den: int, exact: bool) -> Point:
    k = draw(st.integers(1, min(d)))
    roots = [abs(_entry(draw, num, den, exact)) for _ in range(k)]
    frames = [_orthogonal(draw, n, exact)[:, :k] for n in d]
    return _exact_balanced(frames, roots)


_BUILDERS = {
    "plain": _plain,
    "overparameterized": _plain,
    "rank_deficient": _rank_deficient,
    "zero_target": _zero_target,
    "balanced": _balanced,
}


def _check_kind(kind: str) -> None:
    if kind not in (*KINDS, "any"):
        raise InvalidArgument(f"kind must be one of {(*KINDS, 'any')}; got {kind!r}")


def _is_float64_exact(point: Point) -> bool:
    mats = [*point.weights, point.labels] + ([] if point.data is None else [point.data])
    return all(Fraction(float(x)) == x for m in mats for x in m.flat)


@st.composite
def minimizers(
    draw: st.DrawFn,
    *,
    dims: DimsArg = None,
    kind: str = "any",
    exact: bool = True,
    max_numerator: int = 3,
    max_denominator: int = 3,
) -> Point:
    """A global minimizer (``X = I``, target = product, zero residual) of the given ``kind``
    (see the module docstring)."""
    _check_kind(kind)
    if kind == "any":
        kind = draw(st.sampled_from(KINDS))
    d = _draw_dims(draw, dims, kind)
    num, den = max_numerator, max_denominator
    if kind == "gauge":
        base = _plain(draw, d, num, den, exact)
        point = gauge_transform(base, draw(gauges(d, exact=exact)))
    else:
        point = _BUILDERS[kind](draw, d, num, den, exact)
    if not exact and not _is_float64_exact(point):  # pragma: no cover - small sizes never hit
        raise InvalidArgument("sizes too large for float64-exact entries; lower the limits")
    return point


def _scale(scale: Fraction, exact: bool) -> Fraction:
    if exact or scale == 0:
        return scale
    return Fraction(2) ** round(float(np.log2(float(abs(scale))))) * (1 if scale > 0 else -1)


@st.composite
def near_minimizers(
    draw: st.DrawFn,
    *,
    dims: DimsArg = None,
    kind: str = "any",
    exact: bool = True,
    with_data: bool = False,
    scale: Fraction = Fraction(1, 1000),
    max_samples: int = 3,
) -> Point:
    """A minimizer of ``kind`` moved by ``scale * E`` (``E`` small rational, may be zero).
    With data: ``X`` random (``d_0 x N``), ``Y = f(W*) X`` for the unperturbed ``W*``."""
    _check_positive("max_samples", max_samples)
    base = draw(minimizers(dims=dims, kind=kind, exact=exact))
    eps = _scale(Fraction(scale), exact)
    moved = tuple(
        np.asarray(w + eps * _matrix(draw, w.shape, 3, 3, exact), dtype=object)
        for w in base.weights
    )
    if not with_data:
        return Point(weights=moved, labels=base.labels, data=None)
    n = draw(st.integers(1, max_samples))
    x = _matrix(draw, (base.dims[0], n), 3, 3, exact)
    return Point(weights=moved, labels=np.asarray(base.labels @ x, dtype=object), data=x)


@st.composite
def points_with_data(
    draw: st.DrawFn,
    *,
    dims: DimsArg = None,
    min_samples: int = 1,
    max_samples: int = 4,
    exact: bool = True,
    minimizer: bool = False,
) -> Point:
    """Random weights with data ``X`` (``d_0 x N``) and labels ``Y`` (``d_L x N``); generally
    not a minimizer. ``minimizer=True`` sets ``Y = f(W) X`` (zero residual)."""
    _check_positive("min_samples", min_samples)
    if max_samples < min_samples:
        raise InvalidArgument(f"need min_samples <= max_samples; got {min_samples}, {max_samples}")
    d = _draw_dims(draw, dims, "plain")
    ws = _plain(draw, d, 3, 3, exact).weights
    n = draw(st.integers(min_samples, max_samples))
    x = _matrix(draw, (d[0], n), 3, 3, exact)
    y = exact_product(ws) @ x if minimizer else _matrix(draw, (d[-1], n), 3, 3, exact)
    return Point(weights=ws, labels=np.asarray(y, dtype=object), data=x)
