"""Weight decay in the conjecture language: the points that carry their ``lam`` and the family
``regularized-minimizers`` of exact rational global minimizers of

    L_lam(W) = 1/2 ||W_L ... W_1 - M||_F^2 + (lam/2) sum_l ||W_l||_F^2      (lam > 0, X = I).

Public:
    RegularizedPoint       a ``derivations.exact.Point`` that carries its ``lam``
    point_lam(p, default)  the ``lam`` a point carries, else ``default``
    positive_pair(t, lam, depth) -> sigma | None    ``sigma`` with ``t > 0`` its global scalar
                           minimizer (``None`` when ``t`` is not global for its ``sigma``)
    collapsed_sigma(c, lam, depth) -> sigma         ``c * lam`` halved until 0 is a global scalar
                           minimizer for it
    build(lam, ts, sigmas, frames) -> RegularizedPoint
    strategy(shape, lam), generate(shape, lam, rng, i), is_member(p)

Construction (docs/mathematics.md K8; ``numeric.regularized.scalar`` derives the scalar
problem). Per singular value ``sigma`` the problem is ``f(t) = 1/2 (t^L - sigma)^2 + (lam L/2)
t^2`` on ``t >= 0``; ``f'(t) = L t (t^(L-2) (t^L - sigma) + lam)``, so for a rational ``t > 0``
the value ``sigma = t^L + lam t^(2-L)`` is rational and makes ``t`` stationary. ``t`` is kept
only when ``numeric.regularized.scalar_minimizer`` says it is a GLOBAL minimizer of ``f``
(exactly; for ``L >= 3`` that needs ``t^(2L-2) >= lam (L-2)``, the smaller stationary root is
a local maximum); otherwise ``t`` is doubled until it is. A collapsed singular value has
``t = 0`` and a ``sigma`` for which 0 is a global minimizer (``sigma <= lam`` for ``L = 2``,
``lam >= lam*(sigma)`` for ``L >= 3``, only ``sigma = 0`` for ``L = 1``). With exact rational
frames ``U_0`` (``d_0 x k``), ``U_L`` (``d_L x k``) and hidden frames ``U_l`` (``d_l x p``,
``p`` the positive ``t``'s, orthonormal columns, Cayley transforms as in the ``balanced``
family): ``W_l = U_l diag(t) U_(l-1)^T`` over the positive ``t``'s and ``M = U_L diag(sigma)
U_0^T`` over all ``k``. Then ``R = U_L diag(t_i^L - sigma_i) U_0^T != 0`` in general and

    L_lam(W) = sum_i f(t_i; sigma_i) = sum_i min_t f(t; sigma_i),

the lower bound ``L_lam >= sum_i min_t f(t; sigma_i)`` over the singular values of ``M`` (module
docstring of ``numeric.regularized.scalar``, item 1), so the point is a global minimizer.

Membership (``is_member``, exact, from the point alone): the point carries ``lam > 0``, has no
data, ``grad L_lam = A_l^T R B_l^T + lam W_l = 0`` exactly, and ``L_lam(W)`` equals that lower
bound computed from the exact eigenvalues of the smaller Gram matrix of ``M`` (each distinct
eigenvalue ``s = sigma^2`` through ``scalar_minimizer``; an irrational ``sigma`` or ``t`` makes
the test answer no). Equality with the lower bound certifies global minimality.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
from hypothesis import strategies as st

from derivations.exact import Point

if TYPE_CHECKING:
    from numeric.conjecture.families import Shape

__all__ = ["RegularizedPoint", "build", "collapsed_sigma", "generate", "is_member",
           "point_lam", "positive_pair", "strategy"]


@dataclass(frozen=True, eq=False)
class RegularizedPoint(Point):
    """A point (``X = I``, target ``labels = M``) with the weight decay ``lam`` its statement
    quantities use."""

    lam: Fraction = Fraction(0)


def point_lam(p: Point, default: Fraction) -> Fraction:
    """The ``lam`` of ``p``: its own (a ``RegularizedPoint``), else ``default``."""
    return p.lam if isinstance(p, RegularizedPoint) else default


def _is_global(t: Fraction, sigma: Fraction, lam: Fraction, depth: int) -> bool:
    from numeric.regularized import scalar_minimizer

    sm = scalar_minimizer(depth, lam, sigma * sigma)
    return any(r.fraction == t for r in sm.minimizers)


def positive_pair(t: Fraction, lam: Fraction, depth: int) -> Fraction | None:
    """``sigma = t^L + lam t^(2-L)`` (``t > 0`` stationary), or ``None`` when ``t`` is then not
    a global minimizer of ``f`` (exact).

    >>> positive_pair(Fraction(2), Fraction(1), 2), positive_pair(Fraction(1, 2), Fraction(1), 3)
    (Fraction(5, 1), None)
    """
    from numeric.regularized import stationary_target

    sigma = stationary_target(t, lam, depth)
    return sigma if _is_global(t, sigma, lam, depth) else None


def _global_t(t: Fraction, lam: Fraction, depth: int) -> tuple[Fraction, Fraction]:
    """``t`` doubled until it is a global minimizer for its ``sigma``; first cheaply up to the
    necessary ``t^(2L-2) >= lam (L-2)`` (module docstring), then checked exactly."""
    while depth >= 3 and t ** (2 * depth - 2) < lam * (depth - 2):
        t *= 2
    while (sigma := positive_pair(t, lam, depth)) is None:
        t *= 2
    return t, sigma


def collapsed_sigma(c: Fraction, lam: Fraction, depth: int) -> Fraction:
    """``sigma = c lam`` (``c >= 0``; ``0`` for ``L = 1``), halved until ``t = 0`` is a global
    minimizer of ``f`` (exact; it terminates because ``lam*(sigma) -> 0`` as ``sigma -> 0``).

    >>> collapsed_sigma(Fraction(1), Fraction(1, 2), 2), collapsed_sigma(Fraction(1), 20, 3)
    (Fraction(1, 2), Fraction(10, 1))
    """
    sigma = Fraction(0) if depth == 1 else c * lam
    if depth >= 3:  # cheaply below the threshold: lam^L (L-1)^(2L-2) >= (L-2)^(L-2) sigma^(2L-2)
        while lam**depth * (depth - 1) ** (2 * depth - 2) < (
                (depth - 2) ** (depth - 2) * sigma ** (2 * depth - 2)):
            sigma /= 2
    while not _is_global(Fraction(0), sigma, Fraction(lam), depth):
        sigma /= 2
    return sigma


def build(lam: Fraction, ts: list[Fraction], sigmas: list[Fraction],
          frames: list[np.ndarray]) -> RegularizedPoint:
    """``W_l = U_l diag(t) U_(l-1)^T`` over the ``p = len(ts)`` positive ``t``'s (the first
    ``p`` columns of the end frames) and ``M = U_L diag(sigmas) U_0^T`` (``k = len(sigmas)``;
    ``sigmas[:p]`` belong to ``ts``, the rest are collapsed), carrying ``lam``
    (``numeric.regularized.frame_point``). ``frames``: ``U_0 .. U_L`` with exactly orthonormal
    columns, ``k`` columns at the ends and ``p`` in between."""
    from numeric.regularized import frame_point

    point = frame_point([*ts, *(Fraction(0) for _ in sigmas[len(ts):])], sigmas, frames)
    return RegularizedPoint(weights=point.weights, labels=point.labels, data=None,
                            lam=Fraction(lam))


def _assemble(dims: tuple[int, ...], lam: Fraction, raw_t: list[Fraction],
              raw_c: list[Fraction], frame: Callable[[int, int], np.ndarray]
              ) -> RegularizedPoint:
    depth = len(dims) - 1
    pairs = [_global_t(t, lam, depth) for t in raw_t]
    ts = [t for t, _ in pairs]
    sigmas = [s for _, s in pairs] + [collapsed_sigma(c, lam, depth) for c in raw_c]
    k, p = len(sigmas), len(ts)
    frames = [frame(dims[0], k)] + [frame(d, p) for d in dims[1:-1]] + [frame(dims[-1], k)]
    return build(lam, ts, sigmas, frames)


def _counts(dims: tuple[int, ...], pick: Callable[[int, int], int]) -> tuple[int, int]:
    """(positive t's, collapsed ones): ``p <= min(dims)``, ``p + c <= min(d_0, d_L)``."""
    p = pick(0, min(dims))
    c = pick(0, min(dims[0], dims[-1]) - p)
    return p, c


_C_CHOICES = (Fraction(1), Fraction(1, 2), Fraction(0))


def strategy(shape: Shape, lam: Fraction | None) -> st.SearchStrategy[RegularizedPoint]:
    """The Hypothesis strategy: dims from ``shape``, ``lam`` (given, or ``a/b`` with
    ``1 <= a <= b <= 4``), rational ``t = a/b`` (``a`` in 1..4, ``b`` in 1..2), collapsed
    ``sigma = c lam`` (``c`` in 1, 1/2, 0), Cayley frames; it shrinks towards ``lam = 1``,
    ``t = 1``, identity frames and small dims."""
    from numeric.strategies import _orthogonal

    @st.composite
    def draw_point(draw: st.DrawFn) -> RegularizedPoint:
        dims = draw(shape.dims_strategy())
        if lam is None:
            b = draw(st.integers(1, 4))
            q = Fraction(draw(st.integers(1, b)), b)
        else:
            q = lam
        p, c = _counts(dims, lambda a, b: draw(st.integers(a, b)))
        raw_t = [Fraction(draw(st.integers(1, 4)), draw(st.integers(1, 2))) for _ in range(p)]
        raw_c = [draw(st.sampled_from(_C_CHOICES)) for _ in range(c)]
        return _assemble(dims, q, raw_t, raw_c,
                         lambda n, k: _orthogonal(draw, n, True)[:, :k])

    return draw_point()


def generate(shape: Shape, lam: Fraction | None, rng: np.random.Generator,
             i: int) -> RegularizedPoint:
    """The seeded generator: the same kinds drawn from ``rng`` (Cayley frames from
    ``numeric.minimizers.rational_orthogonal``)."""
    from numeric.minimizers import rational_orthogonal

    def pick(a: int, b: int) -> int:
        return int(rng.integers(a, b + 1))

    dims = shape.dims(pick)
    if lam is None:
        b = pick(1, 4)
        q = Fraction(pick(1, b), b)
    else:
        q = lam
    p, c = _counts(dims, pick)
    raw_t = [Fraction(pick(1, 4), pick(1, 2)) for _ in range(p)]
    raw_c = [_C_CHOICES[pick(0, 2)] for _ in range(c)]
    return _assemble(dims, q, raw_t, raw_c, lambda n, k: rational_orthogonal(n, rng)[:, :k])


# ----------------------------------------------------------------------------- membership


def _rational_sqrt(s: Fraction) -> Fraction | None:
    from math import isqrt

    a, b = isqrt(s.numerator), isqrt(s.denominator)
    return Fraction(a, b) if a * a == s.numerator and b * b == s.denominator else None


def _lower_bound(m: np.ndarray, lam: Fraction, depth: int) -> Fraction | None:
    """``sum_i min_(t >= 0) f(t; sigma_i)`` over the singular values of ``M`` (``None`` when a
    ``sigma`` or a minimizing ``t`` is irrational)."""
    from derivations.algebraic import exact_eigenvalues
    from numeric.regularized import scalar_minimizer

    g = np.asarray(m.T @ m if m.shape[1] <= m.shape[0] else m @ m.T, dtype=object)
    total = Fraction(0)
    for s_alg, mult in exact_eigenvalues(g):
        if not s_alg.is_rational:
            return None
        s = s_alg.as_fraction()
        sigma = _rational_sqrt(s)
        if sigma is None:
            return None
        t = scalar_minimizer(depth, lam, s).t.fraction
        if t is None:
            return None
        total += mult * ((t**depth - sigma) ** 2 / 2 + lam * depth * t * t / 2)
    return total


def _regularized_loss(p: Point, lam: Fraction) -> Fraction:
    r = p.residual()
    data = sum((Fraction(x) ** 2 for x in r.flat), Fraction(0)) / 2
    return data + lam * sum((Fraction(x) ** 2 for w in p.weights for x in w.flat),
                            Fraction(0)) / 2


def _gradient_zero(p: Point, lam: Fraction) -> bool:
    from numeric.loss import gradient

    grads = gradient([np.asarray(w, dtype=object) for w in p.weights], None, p.labels)
    return all(g + lam * x == 0 for gw, w in zip(grads, p.weights, strict=True)
               for g, x in zip(np.asarray(gw).flat, np.asarray(w).flat, strict=True))


_MEMBER_CACHE: dict[int, tuple[Point, bool]] = {}


def is_member(p: Point) -> bool:
    """Exactly: ``p`` carries ``lam > 0``, has no data, ``grad L_lam = 0`` and ``L_lam(W)``
    equals the lower bound ``sum_i min_t f(t; sigma_i)`` (so ``p`` is a global minimizer)."""
    hit = _MEMBER_CACHE.get(id(p))
    if hit is not None and hit[0] is p:
        return hit[1]
    ok = _member(p)
    if len(_MEMBER_CACHE) > 2000:
        _MEMBER_CACHE.clear()
    _MEMBER_CACHE[id(p)] = (p, ok)
    return ok


def _member(p: Point) -> bool:
    if not isinstance(p, RegularizedPoint) or p.data is not None or p.lam <= 0:
        return False
    if not _gradient_zero(p, p.lam):
        return False
    bound = _lower_bound(np.asarray(p.labels, dtype=object), p.lam, p.depth)
    return bound is not None and _regularized_loss(p, p.lam) == bound
