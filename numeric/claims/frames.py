"""Exact points built from rational orthogonal frames: ``W_l = U_l D_l U_(l-1)^T`` with Cayley frames (``frames_point``, ``frames_strategy``) and monomial frames (signed permutations between shared rational frames, each layer rescaled so that all ``||A_l|| ||B_l||`` are equal: ``monomial_frames_point``, ``monomial_frames_strategy``), and the per-claim generators built on them. They reach flat, balanced and deliberately misaligned minimizers that random points almost never hit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from itertools import pairwise
from typing import Any

import numpy as np
from hypothesis import strategies as st

from derivations.exact import Point, parse_point

__all__ = [
    "Pick",
    "frames_point",
    "frames_strategy",
    "monomial_frames_point",
    "monomial_frames_strategy",
    "monomial_products",
]

# ----------------------------------------------------------------------------- point families


def _cayley(params: Sequence[int], n: int) -> np.ndarray:
    """A rational orthogonal ``n x n`` from ``n(n-1)/2`` integers (all zero: the identity)."""
    from numeric.minimizers import cayley_orthogonal

    s = np.zeros((n, n), dtype=object)
    s[...] = Fraction(0)
    k = 0
    for i in range(n):
        for j in range(i + 1, n):
            s[i, j] = Fraction(params[k], 2)
            s[j, i] = -Fraction(params[k], 2)
            k += 1
    return np.asarray(cayley_orthogonal(s.tolist()), dtype=object)


def _diag(vals: Sequence[Fraction], rows: int, cols: int) -> np.ndarray:
    d = np.empty((rows, cols), dtype=object)
    d[...] = Fraction(0)
    for i, v in enumerate(vals):
        d[i, i] = Fraction(v)
    return d


def frames_point(dims: Sequence[int], diags: Sequence[Sequence[Any]],
                 frames: Sequence[np.ndarray]) -> Point:
    """``W_l = F_l D_l F_{l-1}^T`` (``frames[l]`` is ``F_l``, ``d_l x d_l`` orthogonal)."""
    ws = [
        np.asarray(frames[l] @ _diag(diags[l - 1], dims[l], dims[l - 1]) @ frames[l - 1].T,
                   dtype=object)
        for l in range(1, len(dims))
    ]
    return parse_point(ws)


@st.composite
def frames_strategy(
    draw: st.DrawFn,
    *,
    depths: tuple[int, int] = (2, 2),
    widths: tuple[int, int] = (1, 3),
    first: tuple[int, int] | None = None,
    last: tuple[int, int] | None = None,
    square: bool = False,
    overparameterized: bool = False,
    max_entry: int = 3,
    dims: tuple[int, ...] | None = None,
    equal_max: bool = False,
) -> Point:
    """Points ``W_l = F_l D_l F_{l-1}^T``: integer diagonals (shrinking to 0) and rational
    orthogonal frames from Cayley parameters in {-1, 0, 1} (shrinking to the identity). The
    products ``A_l``, ``B_l`` are diagonal in these frames, so their spectral norms are
    rational and hypotheses like ``||W_1||_2 = ||W_2||_2`` can hold EXACTLY. ``dims`` fixes
    the widths (searches over a list of dims, smallest first, give minimal counterexamples)."""
    if dims is not None:
        return _frames_draw(draw, dims, max_entry, equal_max)
    depth = draw(st.integers(*depths))
    if square:
        d = draw(st.integers(*widths))
        dims = (d,) * (depth + 1)
    else:
        d0 = draw(st.integers(*(first or widths)))
        dl = draw(st.integers(*(last or widths)))
        lo = max(d0, dl) + 1 if overparameterized else widths[0]
        hidden = [draw(st.integers(lo, max(lo, widths[1] + (1 if overparameterized else 0))))
                  for _ in range(depth - 1)]
        dims = (d0, *hidden, dl)
    return _frames_draw(draw, dims, max_entry, equal_max)


def _frames_draw(draw: st.DrawFn, dims: tuple[int, ...], max_entry: int,
                 equal_max: bool = False) -> Point:
    diags = [[Fraction(draw(st.integers(0, max_entry)))
              for _ in range(min(a, b))] for a, b in pairwise(dims)]
    if equal_max:  # every ||W_l||_2 equal: a deterministic edit, so shrinking still works
        diags = _equal_max(np.random.default_rng(0), dims, diags)
    frames = []
    for d in dims:
        params = [draw(st.integers(-1, 1)) for _ in range(d * (d - 1) // 2)]
        frames.append(_cayley(params, d))
    return frames_point(dims, diags, frames)


def _frames_gen(depths: tuple[int, int], widths: tuple[int, int], *, square: bool = False,
                overparameterized: bool = False, equalize: Callable[..., Any] | None = None,
                first: tuple[int, int] | None = None, last: tuple[int, int] | None = None,
                ) -> Callable[[np.random.Generator, int], Point]:
    """Seeded generator of the same family; ``equalize(rng, dims, diags)`` may edit the
    diagonals so that a hypothesis holds exactly."""
    from numeric.minimizers import rational_orthogonal

    def gen(rng: np.random.Generator, i: int) -> Point:
        depth = int(rng.integers(depths[0], depths[1] + 1))
        if square:
            d = int(rng.integers(widths[0], widths[1] + 1))
            dims: tuple[int, ...] = (d,) * (depth + 1)
        else:
            f, la = first or widths, last or widths
            d0 = int(rng.integers(f[0], f[1] + 1))
            dl = int(rng.integers(la[0], la[1] + 1))
            lo = max(d0, dl) + 1 if overparameterized else widths[0]
            hi = max(lo, widths[1] + (1 if overparameterized else 0))
            dims = (d0, *[int(rng.integers(lo, hi + 1)) for _ in range(depth - 1)], dl)
        diags = [[Fraction(int(rng.integers(0, 5)), int(rng.integers(1, 3)))
                  for _ in range(min(a, b))] for a, b in pairwise(dims)]
        if equalize is not None:
            diags = equalize(rng, dims, diags)
        frames = [rational_orthogonal(d, rng) for d in dims]
        return frames_point(dims, diags, frames)

    return gen


def _equal_max(rng: np.random.Generator, dims: Sequence[int], diags: list[list[Fraction]]
               ) -> list[list[Fraction]]:
    """Make every layer's largest diagonal entry equal (so all ``||W_l||_2`` are equal)."""
    top = max(max(d) if d else Fraction(0) for d in diags)
    if top == 0:
        top = Fraction(1)
    out = []
    for d in diags:
        d = list(d)
        j = max(range(len(d)), key=lambda i: d[i]) if d else 0
        d[j] = top
        out.append(d)
    return out


def _aligned_max(rng: np.random.Generator, dims: Sequence[int], diags: list[list[Fraction]]
                 ) -> list[list[Fraction]]:
    """Put every layer's largest diagonal entry, all equal, at index 0 (aligned top
    directions: then all products ||A_l|| ||B_l|| are equal)."""
    top = max(max(d) if d else Fraction(0) for d in diags) or Fraction(1)
    return [[top] + [min(v, top) for v in d[1:]] for d in diags]


# ----------------------------------------------------------------------------- monomial frames


Pick = Callable[[int, int], int]


def _max_abs(m: np.ndarray) -> Fraction:
    return max((abs(Fraction(x)) for x in np.asarray(m).flat), default=Fraction(0))


def _chain(cores: Sequence[np.ndarray], lo: int, hi: int, size: int) -> np.ndarray:
    """``C_hi ... C_lo`` (1-based; the ``size x size`` identity when ``lo > hi``)."""
    out = np.identity(size, dtype=int).astype(object)
    for c in cores[lo - 1: hi]:
        out = np.asarray(c @ out, dtype=object)
    return out


def monomial_products(cores: Sequence[np.ndarray]) -> list[Fraction]:
    """``||A_l||_2 ||B_l||_2`` for ``W_l = F_l C_l F_{l-1}^T`` with orthogonal ``F`` and
    generalized monomial cores ``C_l`` (at most one nonzero per row and column): products of
    such cores are again generalized monomial, and the spectral norm of one is its largest
    absolute entry, so every product is an exact rational."""
    depth = len(cores)
    d0 = cores[0].shape[1]
    out = []
    for l in range(1, depth + 1):
        a = _chain(cores, l + 1, depth, cores[l - 1].shape[0])
        b = _chain(cores, 1, l - 1, d0)
        out.append(_max_abs(a) * _max_abs(b))
    return out


def _permutation(pick: Pick, n: int) -> list[int]:
    """A permutation from a Lehmer code (all picks 0: the identity, so it shrinks to it)."""
    rest = list(range(n))
    return [rest.pop(pick(0, len(rest) - 1)) for _ in range(n)]


def _monomial_core(pick: Pick, rows: int, cols: int, max_entry: int, den: int) -> np.ndarray:
    """``S diag(v) T`` with independent values ``v_i = k_i / q_i`` (``0 <= k_i <= max_entry``,
    ``1 <= q_i <= den``), independent signed row and column permutations."""
    k = min(rows, cols)
    vals = [Fraction(pick(0, max_entry), pick(1, den)) for _ in range(k)]
    rperm, cperm = _permutation(pick, rows), _permutation(pick, cols)
    c = np.empty((rows, cols), dtype=object)
    c[...] = Fraction(0)
    for i, v in enumerate(vals):
        c[rperm[i], cperm[i]] = -v if pick(0, 1) else v
    return c


def monomial_frames_point(pick: Pick, dims: Sequence[int], *, max_entry: int = 3,
                          den: int = 1, equalize: bool = True) -> tuple[Point, list[Fraction]]:
    """``W_l = F_l C_l F_{l-1}^T``: rational Cayley frames ``F_l`` (parameters in {-1, 0, 1},
    shrinking to the identity) SHARED by consecutive layers, and generalized monomial cores
    ``C_l`` with INDEPENDENT per-layer singular values and signed permutations, so the top
    singular directions of consecutive layers are in general NOT aligned (the products
    ``||A_l|| ||B_l||`` stay rational: ``monomial_products``). ``equalize`` rescales layer
    ``l`` by ``p_l / max_k p_k`` (``p_l`` its product): scaling ``W_k`` by ``s_k`` multiplies
    ``p_l`` by ``prod_(k != l) s_k``, so afterwards every product equals
    ``prod_k s_k * max_k p_k`` -- the constant-product hypothesis holds EXACTLY on an unbiased
    family (skipped when some ``p_l = 0``, i.e. ``M = 0``). Returns the point and its
    products."""
    cores = [_monomial_core(pick, b, a, max_entry, den) for a, b in pairwise(dims)]
    frames = [_cayley([pick(-1, 1) for _ in range(d * (d - 1) // 2)], d) for d in dims]
    prods = monomial_products(cores)
    if equalize and all(p != 0 for p in prods):
        top = max(prods)
        cores = [np.asarray(c * (p / top), dtype=object) for c, p in zip(cores, prods,
                                                                          strict=True)]
        prods = monomial_products(cores)
    ws = [np.asarray(frames[l] @ cores[l - 1] @ frames[l - 1].T, dtype=object)
          for l in range(1, len(dims))]
    return parse_point(ws), prods


@st.composite
def monomial_frames_strategy(draw: st.DrawFn, *, dims: tuple[int, ...], max_entry: int = 3,
                             equalize: bool = True) -> Point:
    """Hypothesis strategy of ``monomial_frames_point`` (every choice shrinks: values to 0,
    permutations and signs to the identity, frames to the identity)."""
    return monomial_frames_point(lambda lo, hi: draw(st.integers(lo, hi)), dims,
                                 max_entry=max_entry, equalize=equalize)[0]


def _rng_pick(rng: np.random.Generator) -> Pick:
    return lambda lo, hi: int(rng.integers(lo, hi + 1))


def _monomial_gen(depths: tuple[int, int], widths: tuple[int, int], *,
                  first: tuple[int, int] | None = None, last: tuple[int, int] | None = None,
                  accept: Callable[[Point, list[Fraction]], bool] | None = None,
                  tries: int = 40) -> Callable[[np.random.Generator, int], Point | None]:
    """Seeded generator of equalized ``monomial_frames_point``s (values ``k/q``, ``k <= 4``,
    ``q <= 2``); with ``accept``, redrawn (at most ``tries`` times, deterministically) until
    ``accept(point, products)``; ``None`` if no draw is accepted."""

    def gen(rng: np.random.Generator, i: int) -> Point | None:
        pick = _rng_pick(rng)
        for _ in range(tries):
            depth = pick(*depths)
            f, la = first or widths, last or widths
            dims = (pick(*f), *[pick(*widths) for _ in range(depth - 1)], pick(*la))
            point, prods = monomial_frames_point(pick, dims, max_entry=4, den=2)
            if accept is None or accept(point, prods):
                return point
        return None

    return gen
