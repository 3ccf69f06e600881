"""Checkers of the balance claims (docs/mathematics.md, Claims): ``spectral-balance`` (depth 2: flattest iff ``||W_1||_2 = ||W_2||_2``), its corrected form ``spectral-balance-corrected`` (``||W_1||_2^2 = ||W_2||_2^2 = sigma_1(M)``), ``constant-product`` (equal ``||A_l||_2 ||B_l||_2`` implies flattest) and ``constant-product-corrected`` (the common value ``sigma_1(M)^((L-1)/L)``). Each is an ``Implication`` decided by ``numeric.claims.implications``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from derivations.algebraic import (
    compare_formulas,
)
from derivations.exact import Point, parse_point
from numeric.claims.engine import combine_parts
from numeric.claims.flatness import (
    _balanced_gen,
    _flattest_float,
    _flattest_float_fails,
    _flattest_float_holds,
    _flattest_side,
    _full_rank_target,
    _product_float,
    _product_sq,
    flattest_value,
)
from numeric.claims.frames import (
    _equal_max,
    _frames_gen,
    _monomial_gen,
    _rng_pick,
    frames_point,
    frames_strategy,
    monomial_frames_point,
    monomial_frames_strategy,
)
from numeric.claims.implications import (
    Implication,
    Side,
    _all_equal,
    _close,
    decide_implication,
)
from numeric.claims.points import point_strategy
from numeric.claims.quantities import (
    float_weights,
    sq_norm,
)
from numeric.claims.runner import CheckContext, ClaimOutcome, Part

__all__ = [
    "CONSTANT_PRODUCT",
    "CONSTANT_PRODUCT_CORRECTED",
    "IF_BALANCED",
    "IF_CORRECTED",
    "ONLY_IF_BALANCED",
    "ONLY_IF_CORRECTED",
    "check_constant_product",
    "check_constant_product_corrected",
    "check_spectral_balance",
    "check_spectral_balance_corrected",
]

# ----------------------------------------------------------------------------- spectral balance


def _norms_equal_side(point: Point) -> Side:
    ok, text = _all_equal([sq_norm(w) for w in point.weights])
    return Side(ok, f"||W_l||_2 {text}")


def _norms_equal_float(point: Point) -> bool:
    return _close([float(np.linalg.norm(w, 2)) for w in float_weights(point)])


def _norms_differ_float(point: Point) -> bool:
    return not _close([float(np.linalg.norm(w, 2)) for w in float_weights(point)], 1e-6)


IF_BALANCED = Implication(
    "||W_1||_2 = ||W_2||_2", "flattest", _norms_equal_side, _flattest_side,
    _norms_equal_float, _flattest_float_fails,
)


def _not_side(f: Callable[[Point], Side]) -> Callable[[Point], Side]:
    def g(p: Point) -> Side:
        s = f(p)
        return Side(not s.holds, s.text, s.lhs, s.rhs, s.cmp)

    return g


ONLY_IF_BALANCED = Implication(
    "flattest", "||W_1||_2 = ||W_2||_2", _flattest_side, _norms_equal_side,
    _flattest_float_holds, _norms_differ_float,
)


def _flattest_gen(widths_gen: Callable[[np.random.Generator, int], Point]
                  ) -> Callable[[np.random.Generator, int], Point]:
    """Cycle: a flattest point built as ``_flat_depth2`` (shared middle frame); a generic
    point (usually not flattest); a flattest point found among equalized monomial-frame points
    (independent values and signed permutations, kept when ``||W_1||^2 + ||W_2||^2 =
    2 sigma_1(M)`` exactly -- a candidate filter only, each side is then decided exactly);
    a generic point."""

    def gen(rng: np.random.Generator, i: int) -> Point:
        base = widths_gen(rng, i)
        if i % 2:
            return base
        if i % 4 == 2:
            found = _monomial_at(rng, base.dims, _depth2_flat_accept)
            if found is not None:
                return found
        return _flat_depth2(rng, base.dims)

    return gen


def _depth2_flat_accept(point: Point, prods: list[Fraction]) -> bool:
    s2 = sq_norm(point.labels).rational
    return bool(s2) and prods[0] == prods[1] and prods[0] ** 4 == s2  # ||W_l||^2 = sigma_1


def _monomial_at(rng: np.random.Generator, dims: Sequence[int],
                 accept: Callable[[Point, list[Fraction]], bool], tries: int = 40
                 ) -> Point | None:
    """An equalized monomial-frame point with these dims accepted by ``accept`` (seeded
    rejection, at most ``tries`` draws), or ``None``."""
    pick = _rng_pick(rng)
    for _ in range(tries):
        point, prods = monomial_frames_point(pick, dims, max_entry=4, den=2)
        if accept(point, prods):
            return point
    return None


def _flat_depth2(rng: np.random.Generator, dims: Sequence[int]) -> Point:
    """A depth-2 flattest minimizer that need not be balanced: ``W_1 = P diag(t_1, c_2 t_2,
    ...) Q^T``, ``W_2 = R diag(t_1, t_2 / c_2, ...) P^T`` with ``c_i t_i <= t_1`` and
    ``t_i / c_i <= t_1``, so ``||W_1||^2 = ||W_2||^2 = t_1^2 = sigma_1(M)``."""
    from numeric.minimizers import rational_orthogonal

    d0, d1, d2 = dims
    k = min(dims)
    t = sorted((Fraction(int(rng.integers(1, 5))) for _ in range(k)), reverse=True)
    a = [t[0]]
    b = [t[0]]
    for ti in t[1:]:
        lo, hi = ti / t[0], t[0] / ti  # c in [t_i / t_1, t_1 / t_i]
        c = lo + (hi - lo) * Fraction(int(rng.integers(0, 5)), 4)
        a.append(c * ti)
        b.append(ti / c)
    p, q, r = rational_orthogonal(d1, rng), rational_orthogonal(d0, rng), rational_orthogonal(
        d2, rng)
    return frames_point(dims, [a, b], [q, p, r])


_FAMILIES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("square", {"square": True}), ("overparameterized", {"overparameterized": True}))

_DIMS_LISTS: dict[str, list[tuple[int, ...]]] = {
    "square": [(1, 1, 1), (2, 2, 2), (3, 3, 3)],
    "overparameterized": [(1, 2, 1), (2, 3, 1), (1, 3, 2), (2, 3, 2), (3, 4, 3)],
    "depth2": [(2, 2, 2), (2, 3, 2), (3, 3, 3)],
    "scalar": [(1, 1, 1), (1, 2, 1), (1, 3, 1), (1, 1, 1, 1), (1, 2, 2, 1)],
    "depth3": [(2, 2, 2, 2), (2, 3, 3, 2)],
}


def check_spectral_balance(ctx: CheckContext) -> ClaimOutcome:
    """Both directions of the literal iff, for square and for overparameterized widths."""
    parts: list[Part] = []
    for name, kw in _FAMILIES:
        strat = [frames_strategy(dims=d, equal_max=True) for d in _DIMS_LISTS[name]]
        gen_eq = _frames_gen((2, 2), (1, 3), equalize=_equal_max, **kw)
        parts.append(decide_implication(
            ctx, IF_BALANCED, strategy=strat, generate=gen_eq,
            label=f"if (balanced => flattest), {name}", salt=len(parts),
            search_filter=_full_rank_target))
        gen = _flattest_gen(_frames_gen((2, 2), (1, 3), **kw))
        parts.append(decide_implication(
            ctx, ONLY_IF_BALANCED, strategy=strat, generate=gen,
            label=f"only if (flattest => balanced), {name}", salt=10 + len(parts)))
    return combine_parts(
        parts,
        "lambda_max = ||W_1||^2 + ||W_2||^2 (K5) >= 2||W_1|| ||W_2|| >= 2||W_2 W_1|| = "
        "2 sigma_1(M): equality needs BOTH ||W_1|| = ||W_2|| and ||W_1|| ||W_2|| = sigma_1(M), "
        "so 'only if' holds and 'if' fails whenever the top singular directions do not align; "
        "see spectral-balance-corrected.",
    )


def _corrected_side(point: Point) -> Side:
    s = sq_norm(point.labels).root(2)  # sigma_1(M)
    vals = [sq_norm(w) for w in point.weights]
    for l, v in enumerate(vals, start=1):
        c = compare_formulas(v, s)
        if c.relation != "=":
            return Side(False, f"||W_{l}||_2^2 {c.relation} sigma_1(M)")
    return Side(True, "||W_1||_2^2 = ||W_2||_2^2 = sigma_1(M) (exact)")


def _corrected_float(point: Point, tol: float) -> bool:
    s = float(np.linalg.norm(np.array(point.labels, dtype=np.float64), 2))
    return _close([*(float(np.linalg.norm(w, 2)) ** 2 for w in float_weights(point)), s], tol)


IF_CORRECTED = Implication(
    "||W_1||^2 = ||W_2||^2 = sigma_1(M)", "flattest", _corrected_side, _flattest_side,
    lambda p: _corrected_float(p, 1e-9), _flattest_float_fails,
)
ONLY_IF_CORRECTED = Implication(
    "flattest", "||W_1||^2 = ||W_2||^2 = sigma_1(M)", _flattest_side, _corrected_side,
    _flattest_float_holds, lambda p: not _corrected_float(p, 1e-6),
)


def check_spectral_balance_corrected(ctx: CheckContext) -> ClaimOutcome:
    parts: list[Part] = []
    for name, kw in _FAMILIES:
        strat = frames_strategy(depths=(2, 2), widths=(1, 3), **kw)
        gen = _flattest_gen(_frames_gen((2, 2), (1, 3), **kw))
        parts.append(decide_implication(ctx, IF_CORRECTED, strategy=strat, generate=gen,
                                        label=f"if, {name}", salt=len(parts)))
        parts.append(decide_implication(ctx, ONLY_IF_CORRECTED, strategy=strat, generate=gen,
                                        label=f"only if, {name}", salt=10 + len(parts)))
    return combine_parts(
        parts,
        "Proof sketch: K5 and AM-GM give lambda_max >= 2||W_1|| ||W_2|| >= 2 sigma_1(M) with "
        "equality iff ||W_1|| = ||W_2|| and ||W_1|| ||W_2|| = sigma_1(M). Points include "
        "flattest minimizers that are NOT balanced (W_1^T W_1 != W_2 W_2^T).",
    )


# ----------------------------------------------------------------------------- constant product


def _products_equal_side(point: Point) -> Side:
    ok, text = _all_equal([_product_sq(point, l) for l in range(1, point.depth + 1)])
    return Side(ok, f"||A_l||_2 ||B_l||_2 {text}")


def _products_equal_float(point: Point) -> bool:
    return _close([_product_float(point, l) for l in range(1, point.depth + 1)])


CONSTANT_PRODUCT = Implication(
    "||A_l||_2 ||B_l||_2 equal for all l", "flattest", _products_equal_side, _flattest_side,
    _products_equal_float, _flattest_float_fails,
)


def _scalar_ends_gen(rng: np.random.Generator, i: int) -> Point | None:
    """Scalar-ends points with equal products: odd ``i``, depth 2, ``W_1`` a column and ``W_2``
    a row of equal Euclidean norm (a signed permutation of the same entries, so in general not
    aligned with ``W_1``); even ``i``, equalized monomial-frame points of depth 2-3
    (``monomial_frames_point`` with ``d_0 = d_L = 1``)."""
    if i % 2 == 0:
        return _monomial_gen((2, 3), (1, 3), first=(1, 1), last=(1, 1))(rng, i)
    d1 = int(rng.integers(1, 4))
    col = [Fraction(int(rng.integers(-3, 4))) for _ in range(d1)]
    row = list(col)
    rng.shuffle(row)
    signs = rng.choice([-1, 1], size=d1)
    return parse_point([[[c] for c in col], [[Fraction(int(s)) * r for s, r in
                                              zip(signs, row, strict=True)]]])


def check_constant_product(ctx: CheckContext) -> ClaimOutcome:
    """The literal v5 sufficient condition. Points satisfying the hypothesis EXACTLY come from
    families that do not favour aligned top directions: depth 2 with shared frames and
    independent diagonals (equal largest entries, possibly at different indices); scalar ends
    (signed shuffles, monomial frames); depth 3-4 matrix ends from ``monomial_frames_point``
    (independent per-layer singular values and signed permutations between shared rational
    frames, rescaled so every product is equal)."""
    parts = [
        decide_implication(
            ctx, CONSTANT_PRODUCT, strategy=[frames_strategy(dims=d, equal_max=True)
                                              for d in _DIMS_LISTS["depth2"]],
            generate=_frames_gen((2, 2), (2, 3), equalize=_equal_max),
            label="depth 2, matrix ends", search_filter=_full_rank_target),
        decide_implication(
            ctx, CONSTANT_PRODUCT,
            strategy=[point_strategy(depths=(dep, dep), widths=(w, w), first=(1, 1), last=(1, 1))
                      for dep, w in ((2, 1), (2, 2), (2, 3), (3, 1), (3, 2))],
            generate=_scalar_ends_gen, label="scalar ends (depth 2-3)", salt=1,
            search_filter=_full_rank_target),
        decide_implication(
            ctx, CONSTANT_PRODUCT,
            strategy=[monomial_frames_strategy(dims=d) for d in _DIMS_LISTS["depth3"]],
            generate=_monomial_gen((3, 4), (2, 3)),
            label="depth 3-4, matrix ends (monomial frames, products equalized)", salt=2,
            search_filter=_full_rank_target),
    ]
    return combine_parts(
        parts,
        "Depth 2: the products are ||W_2|| and ||W_1||, so this is the 'if' direction of "
        "spectral-balance. Equal products c give lambda_max <= L c^2 (K4), but c^L >= "
        "sigma_1^(L-1) (the chain argument of K7) can be strict when the top singular "
        "directions of consecutive layers are not aligned; see constant-product-corrected.",
    )


def _corrected_products_side(point: Point) -> Side:
    target = flattest_value(point) * Fraction(1, point.depth)
    for l in range(1, point.depth + 1):
        c = compare_formulas(_product_sq(point, l), target)
        if c.relation != "=":
            return Side(False, f"||A_{l}||^2 ||B_{l}||^2 {c.relation} sigma_1^(2(L-1)/L)")
    return Side(True, "||A_l||_2 ||B_l||_2 = sigma_1(M)^((L-1)/L) for all l (exact)")


def _corrected_products_float(point: Point) -> bool:
    v = _flattest_float(point) / point.depth
    return _close([_product_float(point, l) ** 2 for l in range(1, point.depth + 1)] + [v])


CONSTANT_PRODUCT_CORRECTED = Implication(
    "||A_l||_2 ||B_l||_2 = sigma_1(M)^((L-1)/L) for all l", "flattest",
    _corrected_products_side, _flattest_side, _corrected_products_float, _flattest_float_fails,
)


def _corrected_accept(point: Point, prods: list[Fraction]) -> bool:
    """The corrected hypothesis on a monomial-frame point, exactly: all products equal to
    ``c`` and ``c^L = sigma_1(M)^(L-1)``, i.e. ``c^(2L) = (sigma_1^2)^(L-1)`` (here
    ``sigma_1(M)^2`` is rational: ``M`` is a frame times a monomial core)."""
    if len(set(prods)) != 1:
        return False
    s2 = sq_norm(point.labels).rational
    depth = point.depth
    return bool(s2) and prods[0] ** (2 * depth) == s2 ** (depth - 1)  # type: ignore[operator]


def _corrected_gen(rng: np.random.Generator, i: int) -> Point | None:
    """Points satisfying the corrected hypothesis, NOT built to be flattest: mostly
    equalized monomial-frame points (independent per-layer values and signed permutations,
    depth 2-4, widths 1-3) kept when the hypothesis holds exactly (seeded rejection); every
    third case a balanced minimizer or a depth-2 flattest non-balanced one."""
    if i % 3 == 2:
        return _balanced_or_gauged_gen(rng, i)
    return _monomial_gen((2, 4), (1, 3), accept=_corrected_accept)(rng, i)


def _balanced_or_gauged_gen(rng: np.random.Generator, i: int) -> Point:
    """Balanced minimizers, and (odd i) depth-2 flattest non-balanced ones."""
    if i % 2:
        dims = tuple(int(rng.integers(1, 4)) for _ in range(3))
        return _flat_depth2(rng, dims)
    return _balanced_gen((1, 4), (1, 3))(rng, i)


def check_constant_product_corrected(ctx: CheckContext) -> ClaimOutcome:
    """``||A_l|| ||B_l|| = sigma_1(M)^((L-1)/L)`` for every ``l`` implies flattest.

    Proof (X = I, a minimizer, so sharpness = lambda_max(K) by K2). Upper: ``K = sum_l K_l``
    with ``K_l = (B_l^T B_l) kron (A_l A_l^T)`` PSD and ``lambda_max(K_l) = ||A_l||^2
    ||B_l||^2``; ``lambda_max`` is subadditive on symmetric matrices, so ``lambda_max(K) <=
    sum_l ||A_l||^2 ||B_l||^2 = L sigma_1^(2(L-1)/L)`` under the hypothesis (K4). Lower (K7):
    with ``u, v`` the top singular vectors of ``M``, ``x_l = B_l v``, ``y_l = A_l^T u``:
    ``(v kron u)^T K (v kron u) = sum_l ||x_l||^2 ||y_l||^2 >= L (prod_l ||x_l|| ||y_l||)^(2/L)``
    (AM-GM), and ``prod_l ||x_l|| ||y_l|| = ||x_1|| ||y_L|| prod_(l<L) ||y_l|| ||x_(l+1)||``
    ``>= 1 * 1 * sigma_1^(L-1)`` since ``y_l^T x_(l+1) = u^T A_l W_l B_l v = sigma_1``. So
    ``lambda_max = L sigma_1^(2(L-1)/L)``: the claim holds for every depth and width (including
    ``L = 1``, where both sides are 1, and ``M = 0``). The checker tests it on points built
    without reference to flatness (see ``_corrected_gen``)."""
    part = decide_implication(
        ctx, CONSTANT_PRODUCT_CORRECTED,
        strategy=[monomial_frames_strategy(dims=d) for d in ((2, 2, 2), (2, 2, 2, 2),
                                                             (2, 3, 3, 2))],
        generate=_corrected_gen, label="all depths")
    out = combine_parts(
        [part],
        "Proof: K4 gives lambda_max <= sum_l ||A_l||^2 ||B_l||^2 = L sigma_1^(2(L-1)/L), and K7 "
        "gives >= (AM-GM and prod_l ||A_l^T u|| ||B_l v|| >= sigma_1^(L-1)). Only sufficiency "
        "is claimed (necessity is not).",
    )
    return out
