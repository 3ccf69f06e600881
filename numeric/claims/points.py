"""Points the claim checkers draw: seeded random exact minimizers (optionally with data), shrinkable Hypothesis strategies of them, and per-claim generators of dims and points.

May import: ``derivations``, the mathematics at the top of ``numeric``, Hypothesis. Not the checkers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from itertools import pairwise
from typing import Any

import numpy as np
from hypothesis import strategies as st

from derivations.algebraic import (
    as_fmpq_mat,
)
from derivations.exact import Point, parse_point

__all__ = [
    "frame_point",
    "point_strategy",
    "random_point",
]

# ----------------------------------------------------------------------------- points


def _frac_matrix(a: Any) -> np.ndarray:
    out = np.empty(np.shape(a), dtype=object)
    for idx, x in np.ndenumerate(np.asarray(a)):
        out[idx] = Fraction(int(x)) if isinstance(x, np.integer) else Fraction(x)
    return out


def random_point(
    rng: np.random.Generator,
    dims: Sequence[int],
    *,
    max_entry: int = 3,
    denominator: int = 1,
    data_n: int | None = None,
    residual: bool = False,
) -> Point:
    """A random exact minimizer with entries ``k / denominator``, ``|k| <= max_entry``.
    ``data_n``: also random data ``X`` (``d_0 x N``) with labels ``Y = f X`` (plus, when
    ``residual``, a part ``Z`` with ``Z X^T = 0``, so ``R = -Z != 0`` but ``R X^T = 0``)."""
    ws = [
        _frac_matrix(rng.integers(-max_entry, max_entry + 1, size=(b, a))) / denominator
        for a, b in pairwise(dims)
    ]
    if data_n is None:
        return parse_point(ws)
    x = _frac_matrix(rng.integers(-max_entry, max_entry + 1, size=(dims[0], data_n)))
    point = parse_point(ws, data=x)
    if not residual:
        return point
    null = _left_null_rows(x)
    if null.shape[0] == 0:
        return point
    coef = _frac_matrix(rng.integers(-2, 3, size=(dims[-1], null.shape[0])))
    return parse_point(ws, data=x, labels=point.labels + coef @ null)


def _left_null_rows(x: np.ndarray) -> np.ndarray:
    """Rows ``z`` (``1 x N``) spanning ``{z : z X^T = 0}``, exactly (from the RREF of ``X``)."""
    import flint

    rref, rank = as_fmpq_mat(x, name="X", symmetric=False, square=False).rref()
    n = x.shape[1]
    pivots = []
    for i in range(rank):
        for j in range(n):
            if rref[i, j] != 0:
                pivots.append(j)
                break
    free = [j for j in range(n) if j not in pivots]
    rows = []
    for f in free:
        z = [Fraction(0)] * n
        z[f] = Fraction(1)
        for i, p in enumerate(pivots):
            v = rref[i, f]
            z[p] = -Fraction(int(v.p), int(v.q)) if isinstance(v, flint.fmpq) else -Fraction(v)
        rows.append(z)
    out = np.empty((len(rows), n), dtype=object)
    for i, z in enumerate(rows):
        out[i, :] = z
    return out


@st.composite
def point_strategy(
    draw: st.DrawFn,
    *,
    depths: tuple[int, int] = (2, 3),
    widths: tuple[int, int] = (1, 3),
    first: tuple[int, int] | None = None,
    last: tuple[int, int] | None = None,
    max_entry: int = 3,
) -> Point:
    """Exact minimizers (``X = I``, target = product) with integer entries in
    ``[-max_entry, max_entry]``; depth, widths (``first``/``last`` override the end widths) and
    entries all shrink towards small values, so ``find`` returns minimal counterexamples."""
    depth = draw(st.integers(*depths))
    d0 = draw(st.integers(*(first or widths)))
    hidden = [draw(st.integers(*widths)) for _ in range(depth - 1)]
    dl = draw(st.integers(*(last or widths)))
    dims = (d0, *hidden, dl)
    entry = st.integers(-max_entry, max_entry)
    ws = [
        [[Fraction(draw(entry)) for _ in range(a)] for _ in range(b)]
        for a, b in pairwise(dims)
    ]
    return parse_point(ws)


# ----------------------------------------------------------------------------- generators


def _dims_gen(
    rng: np.random.Generator, depths: tuple[int, int], widths: tuple[int, int],
    *, first: tuple[int, int] | None = None, last: tuple[int, int] | None = None,
) -> tuple[int, ...]:
    depth = int(rng.integers(depths[0], depths[1] + 1))
    f = first or widths
    la = last or widths
    d0 = int(rng.integers(f[0], f[1] + 1))
    hidden = [int(rng.integers(widths[0], widths[1] + 1)) for _ in range(depth - 1)]
    return (d0, *hidden, int(rng.integers(la[0], la[1] + 1)))


def _minimizer_gen(
    depths: tuple[int, int], widths: tuple[int, int], *, data: bool = False,
    first: tuple[int, int] | None = None, last: tuple[int, int] | None = None,
) -> Callable[[np.random.Generator, int], Point]:
    def gen(rng: np.random.Generator, i: int) -> Point:
        dims = _dims_gen(rng, depths, widths, first=first, last=last)
        use_data = data and i % 2 == 1
        n = int(rng.integers(1, 4)) if use_data else None
        den = int(rng.integers(1, 4))
        return random_point(rng, dims, denominator=den, data_n=n, residual=use_data)

    return gen


def _non_minimizer_gen(rng: np.random.Generator, i: int) -> Point:
    dims = _dims_gen(rng, (1, 3), (1, 3))
    p = random_point(rng, dims, data_n=int(rng.integers(1, 4)))
    y = _frac_matrix(rng.integers(-3, 4, size=p.labels.shape))
    return parse_point(list(p.weights), data=p.data, labels=y)


def frame_point(rng: np.random.Generator, dims: Sequence[int]) -> Point:
    """A minimizer with rational spectral norms: ``W_l = P_l diag(sigma_l) Q_l^T`` with exact
    rational orthogonal frames (Cayley) and rational ``sigma_l`` (the frames of consecutive
    layers are independent, so the point is generic apart from its rational norms)."""
    from numeric.minimizers import rational_orthogonal

    ws = []
    for a, b in pairwise(dims):
        k = min(a, b)
        sig = [Fraction(int(rng.integers(0, 5)), int(rng.integers(1, 3))) for _ in range(k)]
        d = np.empty((b, a), dtype=object)
        d[...] = Fraction(0)
        for i, s in enumerate(sig):
            d[i, i] = s
        p, q = rational_orthogonal(b, rng), rational_orthogonal(a, rng)
        ws.append(np.asarray(p @ d @ q.T, dtype=object))
    return parse_point(ws)
