"""The point families a conjecture is decided over (``--over``), each with a shrinkable
Hypothesis strategy (the counterexample search), a seeded NumPy generator (the verification
cases) and an exact membership test (kept after shrinking and hidden-unit removal).

Public:
    FAMILIES          name -> ``Family``
    Shape             depth and width ranges and the ends (``any``, ``matrix``, ``scalar``,
                      ``one-scalar``); ``parse_range("2..4")``
    Family            ``strategy(shape)``, ``generator(shape)``, ``member(shape)``

Families (all exact rationals; docs/mathematics.md "Objects and conventions"):
    minimizers         plain minimizers (``X = I``, target ``M`` = the product of the weights)
    gauge              minimizers moved by invertible gauges ``W_l -> G_l W_l G_(l-1)^-1``
    balanced           exactly balanced minimizers ``W_(l+1)^T W_(l+1) = W_l W_l^T`` (rational
                       Cayley frames, rational singular roots)
    overparameterized  minimizers whose hidden widths exceed both end widths
    rank-deficient     minimizers with ``rank M < min(d_0, d_L)``
    zero-target        minimizers with ``M = 0``
    points             random targets: NOT minimizers (``R = W_L..W_1 - M != 0``)
    data               random data ``X`` (``d_0 x N``, ``N = 1..3``) and random labels ``Y``
    data-minimizers    data ``X`` with ``Y = f X`` (every other case ``Y = f X + Z``,
                       ``Z X^T = 0``, so ``R != 0`` but ``R X^T = 0``)
    regularized-minimizers   exact global minimizers of the weight-decay loss ``L_lam``
                       (``lam > 0`` carried by each point; ``R != 0`` in general): balanced weights with
                       rational Cayley frames, per singular value a rational global minimizer
                       ``t`` of ``f(t) = 1/2 (t^L - sigma)^2 + (lam L/2) t^2`` or a collapsed one
                       (``numeric.conjecture.decay``)

The search strategies are ``numeric.strategies`` (``minimizers(kind=...)``,
``points_with_data``) on dims drawn from the shape; the generators draw the same kinds from a
seeded ``numpy.random.Generator``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from derivations.algebraic import exact_rank
from derivations.errors import DmfError
from derivations.exact import Point, exact_product, parse_point

__all__ = ["ENDS", "FAMILIES", "Family", "Shape", "parse_range"]

ENDS = ("any", "matrix", "scalar", "one-scalar")
MAX_DEPTH, MAX_WIDTH = 6, 4


def parse_range(text: Any, what: str, *, lo: int, hi: int) -> tuple[int, int]:
    """``"a..b"``, ``"a"``, an int or a pair as ``(a, b)`` with ``lo <= a <= b <= hi``.

    >>> parse_range("2..4", "depth", lo=1, hi=6), parse_range(3, "depth", lo=1, hi=6)
    ((2, 4), (3, 3))
    """
    try:
        if isinstance(text, tuple | list) and len(text) == 2:
            a, b = int(text[0]), int(text[1])
        elif isinstance(text, int) and not isinstance(text, bool):
            a = b = text
        else:
            s = str(text).strip()
            left, sep, right = s.partition("..")
            a = int(left)
            b = int(right) if sep else a
    except (TypeError, ValueError):
        raise DmfError(f"--{what} must be 'a..b' or 'a' with integers; got {text!r}") from None
    if not lo <= a <= b <= hi:
        raise DmfError(f"--{what} {a}..{b} is out of range; expected {lo} <= a <= b <= {hi}")
    return a, b


@dataclass(frozen=True)
class Shape:
    """Depth range, width range (every width ``d_0 .. d_L`` unless ``ends`` fixes an end to 1)
    and the ends."""

    depth: tuple[int, int] = (1, 3)
    width: tuple[int, int] = (1, 3)
    ends: str = "any"

    def __post_init__(self) -> None:
        if self.ends not in ENDS:
            raise DmfError(f"--ends must be one of {', '.join(ENDS)}; got {self.ends!r}")
        if self.ends in ("matrix", "one-scalar") and self.width[1] < 2:
            raise DmfError(f"--ends {self.ends} needs a width of at least 2; got --width "
                           f"{self.width[0]}..{self.width[1]}")

    def text(self) -> str:
        return (f"depth {self.depth[0]}..{self.depth[1]}, widths {self.width[0]}.."
                f"{self.width[1]}, ends {self.ends}")

    def _end_range(self) -> tuple[int, int]:
        return max(2, self.width[0]), self.width[1]

    def ends_ok(self, d0: int, dl: int) -> bool:
        w = self.width
        inside = [w[0] <= d <= w[1] for d in (d0, dl)]
        if self.ends == "any":
            return all(inside)
        if self.ends == "scalar":
            return d0 == dl == 1
        if self.ends == "matrix":
            return d0 >= 2 and dl >= 2 and all(inside)
        one = (d0 == 1) != (dl == 1)
        return one and all(d == 1 or self._end_range()[0] <= d <= w[1] for d in (d0, dl))

    def dims_ok(self, dims: tuple[int, ...], *, over: bool = False) -> bool:
        depth = len(dims) - 1
        if not self.depth[0] <= depth <= self.depth[1]:
            return False
        if not self.ends_ok(dims[0], dims[-1]):
            return False
        hidden = dims[1:-1]
        if over:
            return all(h > max(dims[0], dims[-1]) for h in hidden)
        return all(self.width[0] <= h <= self.width[1] for h in hidden)

    def _ends(self, pick: Callable[[int, int], int]) -> tuple[int, int]:
        w = self.width
        if self.ends == "any":
            return pick(*w), pick(*w)
        if self.ends == "scalar":
            return 1, 1
        lo, hi = self._end_range()
        if self.ends == "matrix":
            return pick(lo, hi), pick(lo, hi)
        other = pick(lo, hi)
        return (1, other) if pick(0, 1) == 0 else (other, 1)

    def dims(self, pick: Callable[[int, int], int], *, over: bool = False) -> tuple[int, ...]:
        """Dims from ``pick(lo, hi)`` (a Hypothesis draw or a NumPy draw)."""
        depth = pick(*self.depth)
        d0, dl = self._ends(pick)
        if over:
            top = max(d0, dl)
            hidden = [pick(top + 1, top + 2) for _ in range(depth - 1)]
        else:
            hidden = [pick(*self.width) for _ in range(depth - 1)]
        return (d0, *hidden, dl)

    def dims_strategy(self, *, over: bool = False) -> st.SearchStrategy[tuple[int, ...]]:
        @st.composite
        def draw_dims(draw: st.DrawFn) -> tuple[int, ...]:
            return self.dims(lambda a, b: draw(st.integers(a, b)), over=over)

        return draw_dims()


def _rng_pick(rng: np.random.Generator) -> Callable[[int, int], int]:
    return lambda a, b: int(rng.integers(a, b + 1))


def _frac(rng: np.random.Generator, shape: tuple[int, int], den: int = 1,
          m: int = 3) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        out[idx] = Fraction(int(rng.integers(-m, m + 1)), den)
    return out


def _weights(rng: np.random.Generator, dims: tuple[int, ...]) -> list[np.ndarray]:
    den = int(rng.integers(1, 4))
    return [_frac(rng, (dims[l], dims[l - 1]), den) for l in range(1, len(dims))]


def _is_zero(m: np.ndarray) -> bool:
    return all(x == 0 for x in m.flat)


def _balanced(p: Point) -> bool:
    ws = p.weights
    return all(
        np.array_equal(np.asarray(ws[l].T @ ws[l], dtype=object),
                       np.asarray(ws[l - 1] @ ws[l - 1].T, dtype=object))
        for l in range(1, len(ws)))


# ----------------------------------------------------------------------------- generators


def _gen_plain(shape: Shape, rng: np.random.Generator, i: int, *, over: bool = False) -> Point:
    return parse_point(_weights(rng, shape.dims(_rng_pick(rng), over=over)))


def _gen_gauge(shape: Shape, rng: np.random.Generator, i: int) -> Point:
    from numeric.minimizers import gauge_transform, random_gauges

    base = _gen_plain(shape, rng, i)
    return gauge_transform(base, random_gauges(base.dims, rng, max_entry=2))


def _gen_balanced(shape: Shape, rng: np.random.Generator, i: int) -> Point:
    from numeric.minimizers import exact_balanced_minimizer

    dims = shape.dims(_rng_pick(rng))
    k = int(rng.integers(1, min(dims) + 1))
    roots = sorted((Fraction(int(rng.integers(0, 4)), int(rng.integers(1, 3))) for _ in range(k)),
                   reverse=True)
    return exact_balanced_minimizer(roots, dims, rng=rng)


def _gen_rank_deficient(shape: Shape, rng: np.random.Generator, i: int) -> Point:
    dims = shape.dims(_rng_pick(rng))
    ws = _weights(rng, dims)
    r = int(rng.integers(0, min(dims[0], dims[-1])))
    ws[0] = (_frac(rng, (dims[1], r)) @ _frac(rng, (r, dims[0])) if r
             else _frac(rng, (dims[1], dims[0]), m=0))
    return parse_point([np.asarray(w, dtype=object) for w in ws])


def _gen_zero_target(shape: Shape, rng: np.random.Generator, i: int) -> Point:
    dims = shape.dims(_rng_pick(rng))
    ws = _weights(rng, dims)
    wide = [h for h in range(1, len(dims) - 1) if dims[h] >= 2]
    if wide:
        h = wide[int(rng.integers(0, len(wide)))]
        cut = int(rng.integers(1, dims[h]))
        ws[h - 1][cut:, :] = Fraction(0)
        ws[h][:, :cut] = Fraction(0)
    else:
        ws[int(rng.integers(0, len(ws)))][...] = Fraction(0)
    return parse_point(ws)


def _gen_points(shape: Shape, rng: np.random.Generator, i: int) -> Point:
    ws = _weights(rng, shape.dims(_rng_pick(rng)))
    target = _frac(rng, (ws[-1].shape[0], ws[0].shape[1]))
    if np.array_equal(target, exact_product(ws)):
        target[0, 0] += 1
    return parse_point(ws, target)


def _gen_data(shape: Shape, rng: np.random.Generator, i: int, *, minimizer: bool = False
              ) -> Point:
    from numeric.claims.points import random_point

    dims = shape.dims(_rng_pick(rng))
    n = int(rng.integers(1, 4))
    if minimizer:
        return random_point(rng, dims, denominator=int(rng.integers(1, 4)), data_n=n,
                            residual=i % 2 == 1)
    ws = _weights(rng, dims)
    return parse_point(ws, data=_frac(rng, (dims[0], n)), labels=_frac(rng, (dims[-1], n)))


# ----------------------------------------------------------------------------- families


@dataclass(frozen=True)
class Family:
    """A point family: ``kind`` is the ``numeric.strategies`` minimizer kind (``None`` for
    the non-minimizer families). ``regularized``: the points carry a weight decay ``lam > 0``
    (``numeric.conjecture.decay``); ``strategy``/``generator``/``member`` then take the
    ``lam`` of the conjecture (``None``: drawn per point)."""

    name: str
    description: str
    kind: str | None
    minimizers: bool
    generate: Callable[..., Point]
    extra: Callable[[Point], bool] = lambda p: True
    over: bool = False
    data: bool = False
    regularized: bool = False

    def strategy(self, shape: Shape, lam: Fraction | None = None) -> st.SearchStrategy[Point]:
        from numeric.strategies import minimizers, points_with_data, rational_matrices

        if self.regularized:
            from numeric.conjecture.decay import strategy

            return strategy(shape, lam)
        dims = shape.dims_strategy(over=self.over)
        if self.name == "data":
            return points_with_data(dims=dims, max_samples=3)
        if self.name == "data-minimizers":
            return points_with_data(dims=dims, max_samples=3, minimizer=True)
        base = minimizers(dims=dims, kind=self.kind or "plain")
        if self.name != "points":
            return base

        def with_target(p: Point) -> st.SearchStrategy[Point]:
            shape2 = (p.dims[-1], p.dims[0])
            return rational_matrices(shape2, max_denominator=1).map(
                lambda t: Point(weights=p.weights, labels=np.asarray(t, dtype=object)))

        return base.flatmap(with_target)

    def generator(self, shape: Shape, lam: Fraction | None = None
                  ) -> Callable[[np.random.Generator, int], Point]:
        def gen(rng: np.random.Generator, i: int) -> Point:
            if self.regularized:
                return self.generate(shape, rng, i, lam=lam)
            return self.generate(shape, rng, i)

        return gen

    def member(self, shape: Shape, lam: Fraction | None = None) -> Callable[[Point], bool]:
        """Exact membership: the shape, minimizer or not, and the kind's own property (for
        the regularized family: ``numeric.conjecture.decay.is_member`` and, when given, the
        conjecture's ``lam``)."""

        def ok(p: Point) -> bool:
            if not shape.dims_ok(p.dims, over=self.over):
                return False
            if self.regularized:
                from numeric.conjecture.decay import is_member, point_lam

                return (lam is None or point_lam(p, Fraction(-1)) == lam) and is_member(p)
            if self.data != (p.data is not None):
                return False
            if self.minimizers != p.is_minimizer() and self.name != "data":
                return False
            return self.extra(p)

        return ok


def _gen_regularized(shape: Shape, rng: np.random.Generator, i: int, *,
                     lam: Fraction | None = None) -> Point:
    from numeric.conjecture.decay import generate

    return generate(shape, lam, rng, i)


def _rank_deficient(p: Point) -> bool:
    return exact_rank(p.labels) < min(p.dims[0], p.dims[-1])


FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("minimizers", "plain minimizers (X = I, target M = W_L...W_1)", "plain", True,
           _gen_plain),
    Family("gauge", "gauge-transformed minimizers (W_l -> G_l W_l G_(l-1)^-1)", "gauge", True,
           _gen_gauge),
    Family("balanced", "exactly balanced minimizers (W_(l+1)^T W_(l+1) = W_l W_l^T)",
           "balanced", True, _gen_balanced, _balanced),
    Family("overparameterized", "minimizers with every hidden width above both end widths",
           "overparameterized", True, lambda s, r, i: _gen_plain(s, r, i, over=True),
           over=True),
    Family("rank-deficient", "minimizers with rank M < min(d_0, d_L)", "rank_deficient", True,
           _gen_rank_deficient, _rank_deficient),
    Family("zero-target", "minimizers with M = 0", "zero_target", True, _gen_zero_target,
           lambda p: _is_zero(p.labels)),
    Family("points", "points with random targets M (not minimizers)", None, False,
           _gen_points),
    Family("data", "points with random data X (d_0 x N, N = 1..3) and random labels Y", None,
           False, _gen_data, data=True),
    Family("data-minimizers", "minimizers with data: Y = W_L...W_1 X (+ Z with Z X^T = 0)",
           None, True, lambda s, r, i: _gen_data(s, r, i, minimizer=True), data=True),
    Family("regularized-minimizers",
           "exact global minimizers of L_lam = 1/2 ||W_L...W_1 - M||_F^2 + (lam/2) sum_l "
           "||W_l||_F^2 (lam > 0; R != 0 in general)", None, False, _gen_regularized,
           regularized=True),
)}
