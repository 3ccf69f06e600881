"""Deep matrix factorization with weight decay: the scalar problem per singular value, its
collapse threshold, and certified global minimizers of

    L_lam(W) = 1/2 ||W_L ... W_1 - M||_F^2 + (lam/2) sum_l ||W_l||_F^2,   lam >= 0 rational,

whose Hessian is ``H_0 + lam I`` (``H_0`` the Hessian of the unregularized loss, K1 of
docs/mathematics.md). Sources: Kamber & Parhi, arXiv:2603.27072 (2026); Chen, Jiang & Wang,
arXiv:2506.20344 (2025). Only their abstracts were available here; every statement below is
derived in this docstring and checked by ``numeric.claims.weight_decay``.

Public:
    scalar_objective(t, sigma, lam, depth)     f(t) = 1/2 (t^L - sigma)^2 + (lam L / 2) t^2
    stationarity_polynomial(sigma, lam, depth) g(t) = t^(2L-2) - sigma t^(L-2) + lam (ascending)
    threshold_polynomial(depth, sigma_squared) (L-1)^(2L-2) x^L - (L-2)^(L-2) s^(L-1)
    collapse_threshold(depth, sigma_squared)   lam*(sigma, L), exact (None for L = 1: never)
    ScalarMinimizer, scalar_minimizer(depth, lam, sigma_squared)   the global minimizers t >= 0
    CollapseCertificate, certify_collapse(depth, lam, sigma)       brute-force certified answer
    regularized_loss / regularized_gradient / regularized_hessian  generic (Fraction, Enclosure)
Helpers (private): ``_Real`` (an exact algebraic number or a certified enclosure function),
``_bracket`` (``t_+`` for an irrational ``sigma^2``). The minimizers of the matrix problem
(section 4 below: certified weights, the interval ``lambda_max``) are in
``numeric.regularized.minimizers``.

1. Reduction to one scalar per singular value (X = I). For a product ``Z = W_L ... W_1``,
   ``min { 1/2 sum_l ||W_l||_F^2 : W_L ... W_1 = Z } = (L/2) sum_i sigma_i(Z)^(2/L)`` (AM-GM on
   the singular values and Holder for products; attained by the balanced factorization
   ``W_l = U_l diag(z_i^(1/L)) U_(l-1)^T``). So ``min L_lam = min_Z 1/2 ||Z - M||_F^2 +
   (lam L / 2) sum_i sigma_i(Z)^(2/L)``; by von Neumann's trace inequality an optimal ``Z``
   shares the singular vectors of ``M``, ``Z = U diag(z_i) V^T``, and the problem separates:
   with ``z = t^L``, for each singular value ``sigma`` of ``M`` minimize over ``t >= 0``

       f(t) = 1/2 (t^L - sigma)^2 + (lam L / 2) t^2,

   each layer carrying singular value ``t``. Every critical point of ``L_lam`` with ``lam > 0``
   is balanced: ``W_(l+1)^T grad_(l+1) - grad_l W_l^T = lam (W_(l+1)^T W_(l+1) - W_l W_l^T)``
   because the data terms agree (``A_l = A_(l+1) W_(l+1)``, ``B_(l+1) = W_l B_l``). So global
   minimizers are exactly the balanced factorizations of the optimal ``Z``, and two of them
   with the same ``Z`` differ by orthogonal gauges ``W_l -> G_l W_l G_(l-1)^T``.
2. Stationarity: ``f'(t) = L t^(L-1) (t^L - sigma) + lam L t = L t g(t)`` with
   ``g(t) = t^(2L-2) - sigma t^(L-2) + lam`` (``L >= 2``). By Descartes' rule ``g`` has at most
   two positive roots; ``g(0+) = lam > 0``, so the smaller is a local maximum of ``f`` and the
   larger, ``t_+``, the only positive local minimum. With ``s = sigma^2`` rational the positive
   roots of ``g`` are those of ``G(t) = (t^(2L-2) + lam)^2 - s t^(2L-4)`` (for ``t > 0``,
   ``g = 0`` iff ``t^(2L-2) + lam = sigma t^(L-2)``, both sides positive), a rational
   polynomial even when ``sigma`` is irrational. At a root of ``g``,
   ``f(t) - f(0) = t^2 (lam (L-1) - sigma t^(L-2)) / 2`` (substitute ``t^(2L-2) = sigma
   t^(L-2) - lam`` into ``f(t) - f(0) = t^2 (t^(2L-2)/2 - sigma t^(L-2) + lam L/2)``), which is
   how ``scalar_minimizer`` compares ``f(t_+)`` with ``f(0)`` exactly.
   ``L = 1``: ``f`` is convex, ``t = sigma / (1 + lam)``, never zero for ``sigma > 0``.
3. Collapse threshold. ``f(t) < f(0)`` for some ``t > 0`` iff ``lam L / 2 < -min_(t>0) k(t)``,
   ``k(t) = t^(2L-2)/2 - sigma t^(L-2)``; ``k' = 0`` at ``t^L = sigma (L-2)/(L-1)``, giving

       lam*(sigma, L)^L = (L-2)^(L-2) sigma^(2L-2) / (L-1)^(2L-2)     (0^0 = 1),

   i.e. ``lam* = sigma`` for ``L = 2`` and ``lam* = (sigma/2)^(4/3)`` for ``L = 3``. For
   ``lam < lam*`` the unique global minimizer is ``t_+ > 0``; for ``lam > lam*`` it is ``0``; at
   ``lam = lam*`` and ``L >= 3`` both ``0`` and ``t_* = (lam* (L-2))^(1/(2L-2))`` are global
   minimizers (a tie; for ``L = 2`` the branch ``t_+^2 = sigma - lam`` reaches 0 continuously, no
   tie). ``lam*`` is the positive root of ``threshold_polynomial``, an exact real algebraic
   number (rational coefficients whenever ``sigma^2`` is rational). The exceptional set where
   the end-to-end minimizer is not unique: some singular value with ``lam = lam*(sigma_i, L)``,
   ``L >= 3`` -- for fixed ``lam`` one value of ``sigma`` per depth, Lebesgue-null.
4. The matrix problem's minimizers: see ``numeric.regularized.minimizers``.

>>> from fractions import Fraction as F
>>> str(collapse_threshold(2, F(9)))      # L = 2: lam* = sigma
'3'
>>> collapse_threshold(3, F(256)).as_fraction()   # (sigma/2)^(4/3) with sigma = 16
Fraction(16, 1)
>>> scalar_objective(F(2), F(16), F(16), 3) == scalar_objective(F(0), F(16), F(16), 3)
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from derivations.algebraic import AlgebraicNumber, compare_exact, real_roots
from derivations.errors import DmfError, PrecisionExhausted
from derivations.exact import parse_entry
from derivations.intervals import Enclosure, relative_tolerance
from numeric.hessian import full_hessian
from numeric.loss import gradient, residual

__all__ = [
    "CollapseCertificate",
    "ScalarMinimizer",
    "certify_collapse",
    "collapse_threshold",
    "regularized_gradient",
    "regularized_hessian",
    "regularized_loss",
    "scalar_minimizer",
    "scalar_objective",
    "stationarity_polynomial",
    "threshold_polynomial",
]


def _depth(depth: int) -> int:
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise DmfError(f"the depth L must be an integer >= 1; got {depth!r}")
    return depth


def _lam(lam: Any) -> Fraction:
    q = parse_entry(lam, "weight decay lam")
    if q < 0:
        raise DmfError(f"the weight decay lam must be >= 0; got {q}")
    return q


# ----------------------------------------------------------------------------- the scalar problem
def scalar_objective(t: Any, sigma: Any, lam: Any, depth: int) -> Any:
    """``f(t) = 1/2 (t^L - sigma)^2 + (lam L / 2) t^2`` (exact for rationals, outward-rounded
    for ``Enclosure`` arguments).

    >>> scalar_objective(Fraction(1), Fraction(3), Fraction(1, 2), 2)
    Fraction(5, 2)
    """
    return (t**depth - sigma) ** 2 / 2 + lam * depth * t**2 / 2


def stationary_target(t: Fraction, lam: Fraction, depth: int) -> Fraction:
    """``sigma = t^L + lam t^(2-L)``: the singular value for which a given ``t > 0`` is a
    critical point of ``f`` (``t^(L-2) (t^L - sigma) + lam = 0``; for ``L = 1``,
    ``t = sigma / (1 + lam)``). Whether ``t`` is then the *global* minimizer is
    :func:`scalar_minimizer`'s decision.

    >>> stationary_target(Fraction(2), Fraction(1, 10), 2), stationary_target(Fraction(3, 2), Fraction(1, 10), 3)
    (Fraction(41, 10), Fraction(413, 120))
    """
    return t**depth + lam * t ** (2 - depth)


def stationarity_polynomial(sigma: Any, lam: Any, depth: int) -> list[Fraction]:
    """Ascending coefficients of ``g(t) = t^(2L-2) - sigma t^(L-2) + lam`` (``L >= 2``), whose
    positive roots are the positive critical points of ``f`` (``f' = L t g``).

    >>> stationarity_polynomial(3, "1/2", 2)
    [Fraction(-5, 2), Fraction(0, 1), Fraction(1, 1)]
    """
    depth = _depth(depth)
    if depth < 2:
        raise DmfError("the stationarity polynomial g needs L >= 2 (L = 1: t = sigma/(1+lam))")
    s, q = parse_entry(sigma, "sigma"), _lam(lam)
    coeffs = [Fraction(0)] * (2 * depth - 1)
    coeffs[2 * depth - 2] += 1
    coeffs[depth - 2] -= s
    coeffs[0] += q
    return coeffs


def _squared_polynomial(s: Fraction, lam: Fraction, depth: int) -> list[Fraction]:
    """``G(t) = (t^(2L-2) + lam)^2 - s t^(2L-4)``: same positive roots as ``g`` (module, 2)."""
    out = [Fraction(0)] * (4 * depth - 3)
    out[4 * depth - 4] += 1
    out[2 * depth - 2] += 2 * lam
    out[0] += lam * lam
    out[2 * depth - 4] -= s
    return out


def threshold_polynomial(depth: int, sigma_squared: Any) -> list[Fraction]:
    """Ascending coefficients of ``(L-1)^(2L-2) x^L - (L-2)^(L-2) s^(L-1)`` (``s = sigma^2``
    rational, ``L >= 2``); its positive root is ``lam*``.

    >>> threshold_polynomial(3, 1)
    [Fraction(-1, 1), Fraction(0, 1), Fraction(0, 1), Fraction(16, 1)]
    """
    depth = _depth(depth)
    if depth < 2:
        raise DmfError("L = 1 never collapses (t = sigma/(1+lam)); no threshold polynomial")
    s = parse_entry(sigma_squared, "sigma^2")
    coeffs = [Fraction(0)] * (depth + 1)
    coeffs[depth] = Fraction((depth - 1) ** (2 * depth - 2))
    coeffs[0] = -Fraction((depth - 2) ** (depth - 2)) * s ** (depth - 1)
    return coeffs


def _as_algebraic(x: Any) -> AlgebraicNumber:
    return x if isinstance(x, AlgebraicNumber) else AlgebraicNumber.rational(x)


def collapse_threshold(depth: int, sigma_squared: Any) -> AlgebraicNumber | None:
    """``lam*(sigma, L)``: the global minimizer of ``f`` is 0 for ``lam > lam*`` and positive
    for ``lam < lam*`` (module, 3). ``sigma_squared``: a rational or an ``AlgebraicNumber``
    ``>= 0``. ``None`` for ``L = 1`` (never collapses).

    >>> collapse_threshold(3, 1).enclosure(10).to_decimal(8)
    '0.39685026'
    """
    depth = _depth(depth)
    if depth == 1:
        return None
    s = _as_algebraic(sigma_squared)
    if compare_exact(s, 0).relation == "<":
        raise DmfError(f"sigma^2 must be >= 0; got {s}")
    if s.is_rational:
        if s.as_fraction() == 0:
            return AlgebraicNumber.rational(0)
        roots = real_roots(threshold_polynomial(depth, s.as_fraction()))
        return roots[-1]
    c = Fraction((depth - 2) ** (depth - 2), (depth - 1) ** (2 * depth - 2))
    return (s ** (depth - 1) * AlgebraicNumber.rational(c)).root(depth)


class _Real:
    """A real number, exact (``AlgebraicNumber``) or given by certified enclosures."""

    def __init__(self, exact: AlgebraicNumber | None = None,
                 enclose: Callable[[int], Enclosure] | None = None) -> None:
        if (exact is None) == (enclose is None):
            raise DmfError("_Real needs exactly one of exact, enclose")
        self.exact, self._enclose = exact, enclose

    def enclosure(self, dps: int) -> Enclosure:
        if self.exact is not None:
            return self.exact.enclosure(dps)
        assert self._enclose is not None
        return self._enclose(dps)

    @property
    def fraction(self) -> Fraction | None:
        return self.exact.as_fraction() if self.exact is not None and self.exact.is_rational \
            else None

    def text(self, dps: int) -> dict[str, str]:
        """``{"exact": ..., "value": decimal}``; ``exact`` is the rational, or the minimal
        polynomial with an isolating interval, or ``"certified enclosure"``."""
        e = self.enclosure(dps)
        if self.exact is None:
            how = f"certified enclosure {e}"
        elif self.exact.is_rational:
            how = str(self.exact.as_fraction())
        else:
            iv = self.exact.interval
            how = f"root of {self.exact.poly} in [{iv.lo}, {iv.hi}]"
        return {"exact": how, "value": e.to_decimal(dps)}


def _largest_positive_root(poly: list[Fraction]) -> AlgebraicNumber | None:
    if all(c == 0 for c in poly[1:]):
        return None
    pos = [r for r in real_roots(poly) if compare_exact(r, 0).relation == ">"]
    return pos[-1] if pos else None


@dataclass(frozen=True)
class ScalarMinimizer:
    """The global minimizers ``t >= 0`` of ``f`` for one singular value ``sigma = sqrt(s)``.
    ``minimizers``: one ``_Real`` (two on a tie, ``0`` first); ``threshold``: ``lam*`` (``None``
    for ``L = 1``); ``collapsed``: the (first) global minimizer is 0; ``tie``: two global
    minimizers (``lam = lam*``, ``L >= 3``, ``sigma > 0``)."""

    depth: int
    lam: Fraction
    sigma_squared: AlgebraicNumber
    minimizers: tuple[_Real, ...]
    threshold: AlgebraicNumber | None
    collapsed: bool
    tie: bool

    @property
    def t(self) -> _Real:
        """The global minimizer (the positive one on a tie)."""
        return self.minimizers[-1]

    @property
    def sigma(self) -> AlgebraicNumber:
        return self.sigma_squared.root(2)


def scalar_minimizer(depth: int, lam: Any, sigma_squared: Any) -> ScalarMinimizer:
    """All global minimizers of ``f`` on ``t >= 0``, decided exactly (module, 2-3).

    >>> m = scalar_minimizer(2, "1/2", 9)      # t^2 = sigma - lam = 5/2
    >>> m.collapsed, m.tie, str(m.t.exact.poly)
    (False, False, '2*x^2 + (-5)')
    >>> scalar_minimizer(3, 16, 256).tie        # sigma = 16, lam = lam* = 16: t in {0, 2}
    True
    """
    depth, q = _depth(depth), _lam(lam)
    s = _as_algebraic(sigma_squared)
    if compare_exact(s, 0).relation == "<":
        raise DmfError(f"sigma^2 must be >= 0; got {s}")
    thr = collapse_threshold(depth, s)
    zero = _Real(AlgebraicNumber.rational(0))
    if depth == 1:  # t = sigma / (1 + lam)
        t = s.root(2) * AlgebraicNumber.rational(1 / (1 + q))
        return ScalarMinimizer(1, q, s, (_Real(t),), None, s.is_rational and
                               s.as_fraction() == 0, False)
    if s.is_rational and s.as_fraction() == 0:
        return ScalarMinimizer(depth, q, s, (zero,), thr, True, False)
    if s.is_rational:
        tp = _largest_positive_root(_squared_polynomial(s.as_fraction(), q, depth))
        if tp is None:
            return ScalarMinimizer(depth, q, s, (zero,), thr, True, False)
        # sign of f(t_+) - f(0) = sign(lam (L-1) - sigma t^(L-2)); compare squares (both >= 0)
        lhs = (tp ** (2 * depth - 4) * s) if depth > 2 else s
        rel = compare_exact(lhs, q * q * (depth - 1) ** 2).relation
        if rel == "<":  # f(t_+) > f(0)
            return ScalarMinimizer(depth, q, s, (zero,), thr, True, False)
        if rel == "=":
            return ScalarMinimizer(depth, q, s, (zero, _Real(tp)), thr, True, True)
        return ScalarMinimizer(depth, q, s, (_Real(tp),), thr, False, False)
    assert thr is not None
    rel = compare_exact(AlgebraicNumber.rational(q), thr).relation
    if rel == ">" or (rel == "=" and depth == 2):
        return ScalarMinimizer(depth, q, s, (zero,), thr, True, False)
    if rel == "=":
        tstar = AlgebraicNumber.rational(q * (depth - 2)).root(2 * depth - 2)
        return ScalarMinimizer(depth, q, s, (zero, _Real(tstar)), thr, True, True)
    return ScalarMinimizer(depth, q, s, (_Real(enclose=_bracket(depth, q, s)),), thr, False,
                           False)


def _bracket(depth: int, lam: Fraction, s: AlgebraicNumber) -> Callable[[int], Enclosure]:
    """``t_+`` for an irrational ``s``: ``t_+`` increases with ``s`` (``dt/dsigma = t^(L-2) /
    g'(t_+) > 0``, ``t_+`` simple below the threshold), so ``[t_+(s_lo), t_+(s_hi)]`` encloses it
    for rational ``s_lo <= s <= s_hi``."""

    def enclose(dps: int) -> Enclosure:
        work = dps + 5
        while work <= 8 * dps + 400:
            e = s.enclosure(work)
            lo = _largest_positive_root(_squared_polynomial(e.lo, lam, depth))
            hi = _largest_positive_root(_squared_polynomial(e.hi, lam, depth))
            if lo is not None and hi is not None:
                out = Enclosure(lo.enclosure(work).lo, hi.enclosure(work).hi)
                if relative_tolerance(out, dps):
                    return out
            work *= 2
        raise PrecisionExhausted(f"could not enclose t_+ to {dps} digits (s = {s})")

    return enclose


# ----------------------------------------------------------------------------- brute force
@dataclass(frozen=True)
class CollapseCertificate:
    """Brute-force answer to "is 0 the unique global minimizer of ``f`` on ``t >= 0``?" without
    the threshold formula. ``collapsed`` True: ``h(t) = (f(t) - f(0))/t^2 > 0`` on ``(0, T]``
    was proved by exact rational interval bounds on ``boxes`` boxes, and ``f(t) > f(0)`` for
    ``t > T`` (``T^L >= 2 sigma``). False: ``witness`` is a rational ``t`` with ``f(t) < f(0)``
    exactly. None: undecided within ``max_boxes``."""

    collapsed: bool | None
    witness: Fraction | None
    boxes: int
    bound: Fraction

    def text(self) -> str:
        if self.collapsed is True:
            return f"0 is the unique global minimizer ({self.boxes} boxes on [0, {self.bound}])"
        if self.collapsed is False:
            return f"f({self.witness}) < f(0) exactly: not collapsed"
        return f"undecided after {self.boxes} boxes"


def certify_collapse(depth: int, lam: Any, sigma: Any, *,
                     max_boxes: int = 200_000) -> CollapseCertificate:
    """Branch and bound on ``h(t) = t^(2L-2)/2 - sigma t^(L-2) + lam L/2`` over ``[0, T]``
    (``L >= 2``, rational ``sigma >= 0``): on ``[a, b]``, ``h >= a^(2L-2)/2 - sigma b^(L-2) +
    lam L/2``; a box with a positive bound is done, a midpoint with ``h < 0`` is a witness.

    >>> certify_collapse(2, "1.01", 1).collapsed, certify_collapse(2, "0.99", 1).collapsed
    (True, False)
    """
    depth, q = _depth(depth), _lam(lam)
    sg = parse_entry(sigma, "sigma")
    if depth < 2 or sg < 0:
        raise DmfError("certify_collapse needs L >= 2 and sigma >= 0")
    big = max(Fraction(1), 2 * sg)
    half_l = q * depth / 2

    def h(t: Fraction) -> Fraction:
        return t ** (2 * depth - 2) / 2 - sg * t ** (depth - 2) + half_l

    stack = [(Fraction(0), big)]
    boxes = 0
    while stack:
        a, b = stack.pop()
        boxes += 1
        if boxes > max_boxes:
            return CollapseCertificate(None, None, boxes, big)
        if a ** (2 * depth - 2) / 2 - sg * b ** (depth - 2) + half_l > 0:
            continue
        m = (a + b) / 2
        if h(m) < 0:
            return CollapseCertificate(False, m, boxes, big)
        stack += [(m, b), (a, m)]
    return CollapseCertificate(True, None, boxes, big)


# ----------------------------------------------------------------------------- the matrix problem
def regularized_loss(weights: Sequence[np.ndarray], target: np.ndarray, lam: Any) -> Any:
    """``1/2 ||W_L ... W_1 - M||_F^2 + lam/2 sum_l ||W_l||_F^2`` (generic element type)."""
    r = residual(weights, None, target)
    out = sum((x * x for x in r.flat), start=0 * r.flat[0]) / 2
    return out + lam * sum((x * x for w in weights for x in w.flat), start=0 * r.flat[0]) / 2


def regularized_gradient(weights: Sequence[np.ndarray], target: np.ndarray,
                         lam: Any, *, data: np.ndarray | None = None) -> list[np.ndarray]:
    """``grad_(W_l) L_lam = A_l^T R X^T B_l^T + lam W_l`` (K1 plus the weight decay; ``X = I``
    unless ``data``, and then ``target`` is the labels ``Y``), in the entries' own arithmetic."""
    return [g + w * lam for g, w in zip(gradient(weights, data, target), weights, strict=True)]


def regularized_hessian(weights: Sequence[np.ndarray], target: np.ndarray,
                        lam: Any) -> np.ndarray:
    """``H_0 + lam I`` with ``H_0`` the exact K1 Hessian (``numeric.hessian.full_hessian``)."""
    h = full_hessian(weights, None, target)
    for i in range(h.shape[0]):
        h[i, i] = h[i, i] + lam
    return h
