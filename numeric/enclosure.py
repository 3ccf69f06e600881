"""The Weyl enclosure of ``lambda_max(H)`` off minimizers, certified at scale for float64 input.

Public:
    weyl_enclosure(weights, target=None, *, data=None, labels=None, dps=20)
                               -> (lo, hi, WeylEnclosure)      lambda_max(H) in [lo, hi]
    WeylEnclosure              how the enclosure was obtained (every ingredient, its width)
    spectral_norm_bound(w, *, method="auto") -> Fraction       a proven ``>= ||W||_2``
    residual_term_bound(weights, target=None, *, data=None, labels=None)
                               -> (e, ResidualBound)           a proven ``>= ||E||_2``
    MAX_GRAM_SIZE              the largest Gram matrix ``G`` this builds (``d_L N``)

Helpers (private): exact dyadic matrices (``_Dy``), the positive-definiteness proof by exact
integer elimination (``_positive_definite``), the float64 rounding-error model (``_gamma``,
``_sum_squares_upper``), ``lambda_max`` of a product of two PSD matrices, of the ``L x L``
matrix ``C``, the Rayleigh quotient and the Kato-Temple bound.

**The problem.** ``L(W) = 1/2 ||W_L...W_1 X - Y||_F^2`` (the ``half-sum`` convention of
``numeric.sharpness``; plain factorization: ``X = I``, ``Y = M``) at float64 weights, taken as
the exact binary rationals they store, like every other input (target, data, labels). The
Hessian is ``H = J^T J + E`` (docs/mathematics.md K1): ``J^T J`` is the Gauss-Newton part
(PSD) and ``E`` the residual term, ``E[D, D] = 2 sum_{k<l} <R, A_l D_l Mid_kl D_k B_k X>``
with ``R = f X - Y``, ``Mid_kl = W_{l-1}...W_{k+1}``, ``A_l = W_L...W_{l+1}``,
``B_l = W_{l-1}...W_1``.

**The enclosure.** ``J^T J`` has the nonzero spectrum of the Gram matrix
``G = J J^T = sum_l (X^T B_l^T B_l X) kron (A_l A_l^T)`` (size ``d_L N``; ``d_L d_0`` without
data, where it is the reduced operator ``K`` of docs/mathematics.md K2: the same formula holds
off minimizers). By Weyl's inequality ``|lambda_max(H) - lambda_max(J^T J)| <= ||E||_2``, so

    lambda_max(H) in [lambda_lo(G) - e, lambda_hi(G) + e]      for any e >= ||E||_2,

with ``[lambda_lo(G), lambda_hi(G)]`` the certified enclosure of ``lambda_max(G)``
(``lambda_max(J^T J) = max(lambda_max(G), 0) = lambda_max(G)``, ``G`` being PSD). Two
refinements, both rigorous, are intersected with it:

- *Rayleigh lower end.* ``lambda_max(H) >= rho = x^T H x / x^T x`` for every ``x != 0``. With
  ``x = J^T u`` (``u`` a float64 approximation of ``G``'s top eigenvector, used exactly),
  ``x^T x = u^T G u``, ``x^T J^T J x = u^T G^2 u`` and ``x^T E x`` is a sum of traces of
  ``d_0``-by-``d_L``-sized matrices (below), so ``rho`` is an exact rational, found with thin
  products only. Near a minimizer ``rho = lambda_max(H) - O(||E||^2 / gap)``.
- *Kato-Temple upper end* (T. Kato, J. Phys. Soc. Japan 4 (1949) 334-339; G. Temple, Proc. R.
  Soc. A 119 (1928) 276-293). For symmetric ``H``, unit ``x``, ``rho = x^T H x``,
  ``r = ||H x - rho x||`` and any ``alpha >= lambda_2(H)`` with ``alpha < rho``:
  ``lambda_max(H) <= rho + r^2 / (rho - alpha)``. Proof: in ``H``'s eigenbasis,
  ``sum_i (lambda_i - lambda_1)(lambda_i - alpha) x_i^2 >= 0`` (every term is: ``i = 1`` gives 0,
  ``i >= 2`` two factors ``<= 0``), and the sum equals ``||Hx||^2 - (lambda_1 + alpha) rho +
  lambda_1 alpha = r^2 - (lambda_1 - rho)(rho - alpha)``. Here ``alpha = max(lambda_hi,2(G), 0)
  + e`` (Weyl again: ``lambda_2(H) <= lambda_2(J^T J) + ||E||``, and ``lambda_2(J^T J) <=
  max(lambda_2(G), 0)``), and ``r <= ||J^T (G u - rho u)|| / ||x|| + e`` because ``H x - rho x
  = J^T (G - rho) u + E x``; ``||J^T w||^2 = w^T G w`` is exact. So the upper end is
  ``lambda_max(H) + O(e^2 / gap)``: second order in the residual, where Weyl's is first order.
  When ``rho <= alpha`` (a gap not resolved against ``e``) the Weyl end is kept.

The width ``hi - lo`` is reported; near a minimizer it is small, far from one it can be useless
(``e`` grows with ``||R X^T||``), and the result says so by its width, never by silence.

**Exact parts** (FLINT integer arithmetic on the dyadic values ``W_l = N_l 2^(e_l)``, thin
products only, as ``numeric.reduced.dyadic_reduced_operator``): the chains ``B_(l+1) = W_l B_l``
and ``A_(l-1) = A_l W_l``, their Gram matrices, ``G`` (``numeric.reduced.dyadic_kron_sum``), the
residual ``Z = R X^T = f X X^T - Y X^T`` (for ``X = I``: ``f - M``), ``rho`` and ``w^T G w``
(matrix-free: ``G`` acts on ``U``, ``d_L x N``, as ``U -> sum_l A_l A_l^T U X^T B_l^T B_l X``),
the positive-definiteness proofs below, and ``||W||_2`` of layers with a side of at most
``EXACT_NORM_SIDE``.

**Certified eigenvalues of G.** Up to ``CERTIFIED_GRAM_SIZE``, ``lambda_max(G)`` and the upper
end of ``lambda_2(G)`` come from ``numeric.eigen.certified_eigvalsh`` (``which="top"``, ``dps``
digits; exact ``G``, ball arithmetic). Above it (``d_L N`` up to ``MAX_GRAM_SIZE``) in verified
float64 (``_verified_gram``): ``G`` rounded to float64 with a proven bound on the rounding
(``_float_gram``), ``eigh``, and ``lambda_k(Q^T g Q) in [lambda_(k) - f, lambda_(k) + f]``,
``f = alpha max|Lambda| + sqrt(1 + alpha) ||g Q - Q Lambda||_2`` (Weyl, since ``Q^T g Q - Lambda
= (Q^T Q - I) Lambda + Q^T (g Q - Q Lambda)``), then Ostrowski's theorem (Horn & Johnson,
*Matrix Analysis*, Thm 4.5.9: ``lambda_k(Q^T g Q) = theta_k lambda_k(g)``, ``theta_k`` between
the extreme eigenvalues of ``Q^T Q``, so in ``[1 - alpha, 1 + alpha]``). That is rigorous under
the float64 assumption of "Spectral norms" below, not ball arithmetic; the details say which.
Either way the Rayleigh and Kato-Temple ends are exact and usually decide the width.

**What is exact, certified, rigorous-float, or only a guess.** Exact: ``G``'s entries, ``Z``,
``rho``, ``w^T G w``, every positive-definiteness proof. Certified in ball arithmetic:
``lambda_max(G)`` up to ``CERTIFIED_GRAM_SIZE``. Rigorous under the stated float64 model:
``||W_j||_2`` of layers with both sides above ``EXACT_NORM_SIDE``, and ``G``'s eigenvalues above
``CERTIFIED_GRAM_SIZE``. Unverified float64, and harmless: the vector ``u`` (any ``u`` gives a
valid Rayleigh quotient and Kato-Temple bound) and every guess ``t`` (each is proven before use,
or replaced by a looser rigorous bound).

**The bound e >= ||E||_2**, step by step (it refines ``numeric.evaluators.float64._residual_term_bound``,
which evaluates the same structure in float64 without rigour):

1. Each term of ``E[D, D]`` is ``<R, A_l D_l Mid D_k B_k X> = tr(D_l Mid D_k G_kl)`` with
   ``G_kl = B_k X R^T A_l = B_k Z^T A_l`` (``d_{k-1} x d_l``).
2. ``|tr(P Q)| <= ||P||_F ||Q||_F`` and ``||A B||_F <= ||A||_2 ||B||_F``, ``||A B||_F <= ||A||_F
   ||B||_2`` give ``|tr(D_l Mid D_k G_kl)| <= c_kl ||D_l||_F ||D_k||_F`` with
   ``c_kl = ||G_kl||_2 prod_{k<j<l} ||W_j||_2`` (``||Mid||_2 <= prod ||W_j||_2``).
3. With ``z_l = ||D_l||_F`` and ``C`` the symmetric nonnegative ``L x L`` matrix of the ``c_kl``
   (zero diagonal): ``|E[D, D]| <= 2 sum_{k<l} c_kl z_k z_l = z^T C z <= lambda_max(C) ||z||^2
   = lambda_max(C) ||D||^2``; ``E`` is symmetric, so ``||E||_2 <= lambda_max(C) =: e``.
4. ``||G_kl||_2^2 = lambda_max(M_1 M_2)`` with the ``d_L x d_L`` PSD matrices ``M_1 = Z B_k^T
   B_k Z^T``, ``M_2 = A_l A_l^T`` (or the ``d_0 x d_0`` pair ``Z^T A_l A_l^T Z``, ``B_k^T B_k``,
   whichever is smaller): ``G^T G = A_l^T M_1 A_l`` has the nonzero eigenvalues of ``M_1 M_2``.
   Exact. An upper bound ``t`` is *proven*: with ``M_2' = M_2 + delta I`` (``delta >= 0``),
   ``T = t M_2' - M_2' M_1 M_2' = M_2'^(1/2) (t I - S) M_2'^(1/2)``, ``S = M_2'^(1/2) M_1
   M_2'^(1/2)``; if ``T`` is positive definite then ``M_2'`` is nonsingular, the congruence
   gives ``t > lambda_max(S) = lambda_max(M_1 M_2') >= lambda_max(M_1 M_2)`` (Loewner
   monotonicity of ``M_1^(1/2) M_2 M_1^(1/2)``). ``t`` is guessed from float64 (slightly
   above) and ``T > 0`` is proven exactly (``_positive_definite``); if no guess is proven,
   ``||G_kl||_F^2 = tr(M_1 M_2)`` (exact) is used, and the details say so.
5. ``||W_j||_2``: ``spectral_norm_bound`` (below): exact for thin layers, verified float64 for
   large ones.
6. ``lambda_max(C)``: ``C`` itself for ``L = 2`` (``lambda_max([[0, c], [c, 0]]) = c``), else a
   float64 guess ``t`` proven by ``t I - C > 0`` (exact), else the largest row sum (Perron-
   Frobenius: a rigorous bound for nonnegative ``C``). Square roots are rounded up to rationals.

**Positive definiteness, proven** (``_positive_definite``): a symmetric rational ``T`` (``n x n``)
is scaled by ``2^s`` and rounded to an integer matrix ``T~`` (each entry within ``1/2``); then
``2^s T >= T~ - (n/2) I`` (``||2^s T - T~||_2 <= ||.||_F <= n/2``), so ``2 T~ - n I > 0``
proves ``T > 0``; that is decided exactly by Sylvester's criterion (all leading principal minors
positive), the minors read off FLINT's fraction-free LU decomposition (``fmpz_mat.fflu``; when it
exchanged rows, from Python-integer Bareiss elimination without pivoting: E. H. Bareiss, Math.
Comp. 22 (1968) 565-578).

**Spectral norms** (``spectral_norm_bound``): ``||W||_2^2 = lambda_max(S)``, ``S = W^T W`` on the
smaller side ``n``. Thin (``n <= EXACT_NORM_SIDE``): ``S`` exact (integers), a float64 guess
proven by ``t I - S > 0``. Large: *verified float64* (rigorous under the assumption stated next):

- ``W`` is scaled by the power of two ``2^-k`` that puts its largest entry in ``[1/2, 1)``; an
  entry that underflows in that scaling moves by at most ``2^(k-1075)``, so ``||W||_2 <= 2^k
  ||W'||_2 + m n 2^(k-1074)``.
- ``S~ = fl(W'^T W')`` (symmetrized by mirroring its upper triangle, no arithmetic): every
  entry is a float64 inner product of length ``m``, so ``|S~ - S'| <= gamma_m |W'|^T |W'| + m eta``
  entrywise (N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., SIAM
  2002, Lemma 3.1 and Sec. 3.5; ``gamma_k = k u / (1 - k u)``, ``u = 2^-53``; ``eta = 2^-1074``
  covers underflow, Sec. 2.1), hence ``||S~ - S'||_2 <= gamma_m ||W'||_F^2 + n m eta``.
- ``(Lambda, Q) = eigh(S~)`` in float64 (LAPACK; no trust needed). For symmetric ``A``, real
  diagonal ``Lambda`` and nonsingular ``Q``, every eigenvalue ``mu`` of ``A`` satisfies
  ``min_i |mu - lambda_i| <= ||A Q - Q Lambda||_2 / sigma_min(Q)``: for ``A y = mu y``,
  ``||y|| = 1``, ``(mu I - Lambda) Q^T y = (A Q - Q Lambda)^T y``, and ``||Q^T y|| >=
  sigma_min(Q) >= sqrt(1 - alpha)`` when ``||Q^T Q - I||_2 <= alpha < 1`` (a symmetric form of
  the Bauer-Fike theorem, F. L. Bauer, C. T. Fike, Numer. Math. 2 (1960) 137-141, without its
  condition number). So ``lambda_max(S~) <= max(Lambda) + ||S~ Q - Q Lambda||_2 / sqrt(1 -
  alpha)``.
- ``S~ Q - Q Lambda`` is evaluated in float64 with the a-priori error ``gamma_(n+2) (|S~| |Q| +
  |Q| |Lambda|) + (n + 2) eta`` (one product, one column scaling, one subtraction), ``|S~||Q|``
  itself in float64 and corrected upward by ``1 / (1 - gamma_n)``; ``Q^T Q - I`` likewise
  (``gamma_n |Q|^T |Q|``; the subtraction of 1 on the diagonal is exact by Sterbenz's lemma,
  checked: every diagonal entry lies in ``[1/2, 2]``), and ``|| |Q|^T |Q| ||_F <= ||Q||_F^2``.
  Frobenius norms are float64 sums of squares corrected upward (``(s + k eta) / (1 -
  gamma_k)``), and everything is combined in exact rationals with square roots rounded up.
- *Assumption*: IEEE 754 binary64 arithmetic with rounding to nearest, and matrix products that
  evaluate each entry as an inner product (any order of additions, with or without fused
  multiply-adds: OpenBLAS, MKL, reference BLAS). A fast (Strassen-type) matrix product would
  void the ``gamma_m`` bound; NumPy does not use one. Under that assumption the bound is
  rigorous; it is sharp to about ``gamma_n n`` relative (``1e-10`` at ``n = 1024``) where the
  Frobenius norm is loose by up to ``sqrt(n)``. If ``eigh`` fails or ``alpha >= 1/2``, the
  Frobenius norm (upper-rounded) is used and the details say so.

**With data** ``X`` (``d_0 x N``): ``G`` is the ``gram`` form ``J J^T`` of size ``d_L N``, built
with ``X`` itself (dyadic); ``J^T u`` and ``rho`` use ``U X^T`` in place of ``U``; ``E`` depends
on the data only through ``Z = R X^T``. Sizes above ``MAX_GRAM_SIZE`` are refused (a rational
factor ``F F^T = X X^T`` with fewer columns, as ``numeric.reduced.data_factor`` builds, would
serve many samples; not done here).

>>> import numpy as np
>>> ws = [np.array([[1.0, 0.5], [0.0, 2.0]]), np.array([[1.0, 1.0]])]
>>> lo, hi, how = weyl_enclosure(ws, np.array([[1.0, 2.5]]), dps=20)   # R = [0, 0]: a minimizer
>>> from numeric.sharpness import sharpness
>>> exact = sharpness(ws, np.array([[1.0, 2.5]]), dps=20).enclosure
>>> how.residual_bound, lo <= exact.hi and exact.lo <= hi, how.status
(Fraction(0, 1), True, 'certified')
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from derivations.errors import DmfError, TooLargeError
from derivations.intervals import Enclosure
from numeric.evaluators.verified import (
    _ETA,
    EXACT_NORM_SIDE,
    _describe,
    _Dy,
    _eigh_bounds,
    _gamma,
    _nonneg_lambda_max,
    _pow2,
    _product_lambda_max,
    _sqrt_up,
    spectral_norm_bound,
)

__all__ = [
    "CERTIFIED_GRAM_SIZE",
    "EXACT_NORM_SIDE",
    "MAX_GRAM_SIZE",
    "ResidualBound",
    "WeylEnclosure",
    "residual_term_bound",
    "spectral_norm_bound",
    "weyl_enclosure",
]

MAX_GRAM_SIZE = 4096
"""The largest Gram matrix ``G`` (``d_L N``; ``d_L d_0`` without data) ``weyl_enclosure``
takes: its float64 ``eigh`` alone takes about 30 s at 4096 on one thread."""

CERTIFIED_GRAM_SIZE = 512
"""Up to this size ``lambda_max(G)`` is enclosed by ``numeric.eigen.certified_eigvalsh`` (exact
``G``, ball arithmetic; about 35 s at 512, 110 s at 1024: README, "Certified at scale"); above,
in verified float64 (``_verified_gram``)."""



# --------------------------------------------------------------------------- the problem
@dataclass(frozen=True)
class _Problem:
    weights: list[np.ndarray]
    target: np.ndarray | None  # X = I: M (None: the product)
    data: np.ndarray | None
    labels: np.ndarray | None  # with data: Y (None: the product times X)



def _float_array(x: Any, name: str) -> np.ndarray:
    if not (isinstance(x, np.ndarray) and x.ndim == 2 and x.dtype.kind == "f"
            and x.dtype.itemsize <= 8):
        raise DmfError(
            f"weyl_enclosure works on the exact binary values of float64 arrays; {name} is "
            f"{_describe(x)}: pass a 2-D NumPy float array (np.asarray(..., dtype=np.float64)), "
            "or numeric.sharpness.sharpness() without route='weyl' for exact rational input"
        )
    return x.astype(np.float64)


def _problem(weights: Any, target: Any, data: Any, labels: Any, dps: Any) -> _Problem:
    from numeric.evaluators.float64_input import _fast_float_input

    if isinstance(dps, bool) or not isinstance(dps, int) or not 5 <= dps <= 1000:
        raise DmfError(f"dps must be an integer in [5, 1000]; got {dps!r}")
    if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence) or not weights:
        raise DmfError(f"weights must be a non-empty list [W_1, ..., W_L] of 2-D float64 arrays; "
                       f"got {_describe(weights)}")
    ws = [_float_array(w, f"W_{l}") for l, w in enumerate(weights, start=1)]
    if data is None:
        if labels is not None:
            raise DmfError("labels= needs data= (the inputs X, d_0 x N); for X = I pass target=")
        if target is None:
            raise DmfError("weyl_enclosure needs the problem: target=M (d_L x d_0), "
                           "target='product' (the weights' own product: a minimizer), or "
                           "data=X with labels=Y")
        t = None if _is_product(target) else _float_array(target, "target M")
        x = y = None
    else:
        if target is not None:
            raise DmfError("pass either target= (X = I) or data= with labels=, not both")
        if labels is None:
            raise DmfError("data= needs labels= (Y, d_L x N), or labels='product' (Y = W_L...W_1 X)")
        t = None
        x = _float_array(data, "data X")
        y = None if _is_product(labels) else _float_array(labels, "labels Y")
    checked = _fast_float_input(ws, t, x, y)
    assert checked is not None  # every array is float64 here
    return _Problem(checked[0], checked[1], checked[2], checked[3])


def _is_product(m: Any) -> bool:
    if isinstance(m, str):
        if m != "product":
            raise DmfError(f"a target or labels string must be 'product'; got {m[:40]!r}")
        return True
    return False


# --------------------------------------------------------------------------- exact chains
@dataclass(frozen=True)
class _Chains:
    """Exact (dyadic) thin factors of a float64 point."""

    mats: list[_Dy]  # W_l
    b: list[_Dy]  # b[l] = B for layer l (0-based; b[L] = f)
    a: list[_Dy]  # a[l] = A for layer l (0-based)
    gb: list[_Dy]  # B^T B
    ga: list[_Dy]  # A A^T
    x: _Dy | None
    r: _Dy  # R = f X - Y (d_L x N)
    z: _Dy  # R X^T (d_L x d_0)


def _chains(p: _Problem) -> _Chains:
    mats = [_Dy.of(w) for w in p.weights]
    depth = len(mats)
    d0, dl = p.weights[0].shape[1], p.weights[-1].shape[0]
    b = [_Dy.identity(d0)]
    for w in mats:
        b.append(w @ b[-1])
    a: list[_Dy] = [_Dy.identity(dl)] * depth
    for l in range(depth - 1, 0, -1):
        a[l - 1] = a[l] @ mats[l]
    gb = [b[l].T @ b[l] for l in range(depth)]
    ga = [a[l] @ a[l].T for l in range(depth)]
    f = b[depth]
    x = None if p.data is None else _Dy.of(p.data)
    if x is None:
        r = f - f if p.target is None else f - _Dy.of(p.target)
        z = r
    else:
        r = (f - f) @ x if p.labels is None else f @ x - _Dy.of(p.labels)
        z = r @ x.T
    return _Chains(mats, b, a, gb, ga, x, r, z)


# --------------------------------------------------------------------------- the residual bound
@dataclass(frozen=True)
class ResidualBound:
    """``e >= ||E||_2`` and its ingredients (module docstring, "The bound")."""

    e: Fraction
    c: list[list[Fraction]]  # c_kl (0-based layers), symmetric, zero diagonal
    g_norms: dict[tuple[int, int], tuple[Fraction, str]]  # ||G_kl||_2 bound and how
    layer_norms: dict[int, Fraction]  # ||W_j||_2 bounds (1-based j), hidden layers in a Mid
    how_c: str  # how lambda_max(C) was bounded
    residual_zero: bool  # R X^T = 0 exactly: E = 0

    @property
    def method(self) -> str:
        if self.residual_zero:
            return "e = 0: R X^T = 0 exactly (E = 0)"
        kinds = sorted({how for _, how in self.g_norms.values()})
        return (f"e = {float(self.e):.6g} >= ||E||_2: lambda_max(C) ({self.how_c}), c_kl = "
                f"||G_kl||_2 ({', '.join(kinds)}) times proven ||W_j||_2")


def _residual_bound(ch: _Chains, weights: list[np.ndarray]) -> ResidualBound:
    depth = len(ch.mats)
    zero = [[Fraction(0)] * depth for _ in range(depth)]
    if depth == 1 or ch.z.is_zero():
        return ResidualBound(Fraction(0), zero, {}, {}, "exact", ch.z.is_zero())
    dl, d0 = ch.z.m.nrows(), ch.z.m.ncols()
    norms = {j + 1: spectral_norm_bound(weights[j]) for j in range(1, depth - 1)}
    c = [row[:] for row in zero]
    g_norms: dict[tuple[int, int], tuple[Fraction, str]] = {}
    for l in range(1, depth):
        for k in range(l):
            if dl <= d0:
                m1, m2 = ch.z @ ch.gb[k] @ ch.z.T, ch.ga[l]
            else:
                m1, m2 = ch.z.T @ ch.ga[l] @ ch.z, ch.gb[k]
            g2, how = _product_lambda_max(m1, m2)
            g = _sqrt_up(g2)
            g_norms[(k + 1, l + 1)] = (g, how)
            mid = Fraction(1)
            for j in range(k + 1, l):
                mid *= norms[j + 1]
            c[k][l] = c[l][k] = g * mid
    e, how_c = _nonneg_lambda_max(c)
    return ResidualBound(e, c, g_norms, norms, how_c, False)


def residual_term_bound(weights: Any, target: Any = None, *, data: Any = None,
                        labels: Any = None) -> tuple[Fraction, ResidualBound]:
    """A proven ``e >= ||E||_2`` for the residual term ``E = H - J^T J`` of the Hessian at
    float64 ``weights`` (their exact values; problem as in ``weyl_enclosure``), with its
    ingredients: ``e = lambda_max(C)``, ``c_kl = ||B_k Z^T A_l||_2 prod_{k<j<l} ||W_j||_2``,
    ``Z = R X^T`` exact (module docstring, "The bound").

    >>> import numpy as np
    >>> ws = [np.array([[1.0]]), np.array([[1.0]])]
    >>> e, how = residual_term_bound(ws, np.array([[0.5]]))   # E = [[0, R], [R, 0]], R = 1/2
    >>> 0.5 <= e < 0.5 + 1e-12, how.c[0][1] == e
    (True, True)
    """
    p = _problem(weights, target, data, labels, 20)
    rb = _residual_bound(_chains(p), p.weights)
    return rb.e, rb


# --------------------------------------------------------------------------- the enclosure
@dataclass(frozen=True)
class WeylEnclosure:
    """How ``weyl_enclosure`` obtained ``lambda_max(H) in enclosure`` (all bounds proven)."""

    enclosure: Enclosure
    gram: Enclosure  # lambda_max(G), certified
    gram_second: Fraction | None  # >= lambda_2(G) (None: G is 1 x 1)
    gram_size: int
    gram_method: str  # how lambda_max(G) was enclosed
    residual_bound: Fraction  # e >= ||E||_2
    residual: ResidualBound
    weyl: Enclosure  # [gram.lo - e, gram.hi + e]
    rayleigh: Fraction | None  # rho = x^T H x / x^T x, exact (a lower bound)
    kato_temple: Fraction | None  # rho + r^2 / (rho - alpha), when rho > alpha
    dps: int
    seconds: dict[str, float] = field(compare=False)
    residual_norm_squared: Fraction = Fraction(0)  # ||R||_F^2 = ||f X - Y||_F^2, exact
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)
    """``u`` (float64, used exactly): ``x = J^T u`` gave ``rayleigh``; ``G``'s column-major
    order, ``U[p, i] = u[i d_L + p]`` (``U`` is ``d_L x N``)."""

    @property
    def width(self) -> Fraction:
        return self.enclosure.width

    @property
    def relative_width(self) -> float:
        mig = self.enclosure.mig
        return math.inf if mig == 0 else float(self.width / mig)

    @property
    def status(self) -> str:
        return "certified"

    @property
    def method(self) -> str:
        lo = "Rayleigh quotient" if self.rayleigh is not None and self.rayleigh > self.weyl.lo \
            else "Weyl"
        hi = "Kato-Temple" if self.kato_temple is not None and self.kato_temple < self.weyl.hi \
            else "Weyl"
        return (
            f"certified: Weyl enclosure, width {float(self.width):.3g} (relative "
            f"{self.relative_width:.3g}); lambda_max(J^T J) from the exact Gram matrix G "
            f"({self.gram_size} x {self.gram_size}; {self.gram_method}); {self.residual.method}; "
            f"lower end: {lo}, upper end: {hi}"
        )

    def __str__(self) -> str:
        return f"lambda_max(H) in {self.enclosure} ({self.method})"


def _rounded(d: _Dy) -> tuple[np.ndarray, int, Fraction]:
    """``(a, k, f)``: ``a`` the entries of ``d 2^-k`` correctly rounded to float64 (Python's
    integer true division), the largest in ``[1/2, 1]``; ``f >= ||d 2^-k||_F``, exact."""
    ints = [int(v) for v in d.m.entries()]
    top = max((abs(v).bit_length() for v in ints), default=0)
    den = 1 << top
    a = np.array([v / den for v in ints]).reshape(d.m.nrows(), d.m.ncols())
    f = _sqrt_up(Fraction(sum(v * v for v in ints), den * den))
    return a, d.e + top, f


def _float_gram(left: list[_Dy], ga: list[_Dy]) -> tuple[np.ndarray, int, Fraction]:
    """``(g, k, err)``: a float64 ``g`` (exactly symmetric) with ``||G 2^-k - g||_2 <= err``,
    ``G = sum_l S_l kron G_l`` (``G``'s column-major order). Each factor is rounded once
    (relative ``u``), each Kronecker entry is one product, scaled by an exact power of two
    ``2^(c_l) <= 1``, and the ``L`` terms are summed: ``|g - G 2^-k| <= gamma_(L+2) sum_l 2^(c_l)
    |S_l'| kron |G_l'| + 8 L eta`` entrywise, whose spectral norm is at most ``gamma_(L+2) sum_l
    2^(c_l) ||S_l'||_F ||G_l'||_F + 8 L n eta`` (``|| |A| ||_2 <= ||A||_F``, ``||A kron B||_2 =
    ||A||_2 ||B||_2``)."""
    terms = [(_rounded(sl), _rounded(gl)) for sl, gl in zip(left, ga, strict=True)]
    k = max(a[1] + b[1] for a, b in terms)
    n = left[0].m.nrows() * ga[0].m.nrows()
    g = np.zeros((n, n))
    bound = Fraction(0)
    for (a, ka, fa), (b, kb, fb) in terms:
        c = ka + kb - k
        g += np.ldexp(np.kron(a, b), c)
        bound += _pow2(c) * fa * fb
    g = np.triu(g) + np.triu(g, 1).T
    depth = len(left)
    return g, k, _gamma(depth + 2) * bound + 8 * depth * n * _ETA


def _verified_gram(left: list[_Dy], ga: list[_Dy]) -> tuple[Enclosure, Fraction | None,
                                                            np.ndarray | None]:
    """Enclosures of ``lambda_1(G)`` and ``lambda_2(G)`` (its upper end) in verified float64, and
    ``G``'s float64 top eigenvector: ``eigh`` of the rounded ``G`` (``_float_gram``), then
    ``lambda_k(Q^T g Q) in [lambda_(k) - f, lambda_(k) + f]`` with ``Q^T g Q - Lambda = (Q^T Q -
    I) Lambda + Q^T (g Q - Q Lambda)``, so ``f = alpha max|Lambda| + sqrt(1 + alpha) r`` (Weyl),
    and ``lambda_k(g) = lambda_k(Q^T g Q) / theta_k``, ``theta_k in [1 - alpha, 1 + alpha]``
    (Ostrowski: Horn & Johnson, *Matrix Analysis*, Thm 4.5.9); then ``+- err`` (Weyl) and the
    scale ``2^k``. ``None`` for the second when ``G`` is ``1 x 1``."""
    g, k, err = _float_gram(left, ga)
    found = _eigh_bounds(g)
    if found is None:
        raise DmfError("the verified float64 eigenvalues of G failed (eigh did not give usable "
                       "eigenvectors); please report it")
    lam, q, r_norm, alpha = found
    f = alpha * Fraction(float(np.max(np.abs(lam)))) + _sqrt_up(1 + alpha) * r_norm
    theta = Enclosure(1 - alpha, 1 + alpha)
    scale = _pow2(k)

    def enclose(i: int) -> Enclosure:
        mid = Fraction(float(lam[i]))
        return (Enclosure(mid - f, mid + f) / theta + Enclosure(-err, err)) * scale

    top = enclose(-1)
    top = Enclosure(max(top.lo, Fraction(0)), max(top.hi, Fraction(0)))  # G is PSD
    second = enclose(-2).hi if g.shape[0] > 1 else None
    u = np.asarray(q[:, -1]) if top.hi > 0 else None
    return top, second, u


def _top_vector(left: list[_Dy], ga: list[_Dy]) -> np.ndarray | None:
    """A float64 approximation of ``G``'s top eigenvector (``None`` if ``G = 0``)."""
    g = _float_gram(left, ga)[0]
    if not np.any(g):
        return None
    return np.asarray(np.linalg.eigh(g)[1][:, -1])


def _rayleigh(ch: _Chains, left: list[_Dy], u: np.ndarray) -> tuple[Fraction, Fraction, Fraction]:
    """``(rho, w^T G w, u^T G u)`` for ``x = J^T u`` and ``w = G u - rho u``, exactly and
    matrix-free: ``G`` acts on ``U`` (``d_L x N``) as ``U -> sum_l A_l A_l^T U S_l`` (module
    docstring)."""
    dl = ch.z.m.nrows()
    big_u = _Dy.of(np.asarray(u).reshape(-1, dl).T)  # U[p, i] = u[i d_L + p]

    def apply(v: _Dy) -> _Dy:
        total = ch.ga[0] @ v @ left[0]
        for gl, sl in zip(ch.ga[1:], left[1:], strict=True):
            total = total + gl @ v @ sl
        return total

    ku = apply(big_u)
    ugu, ug2u = big_u.inner(ku), ku.inner(ku)
    xex = Fraction(0)
    if not ch.z.is_zero():
        v = big_u if ch.x is None else big_u @ ch.x.T  # U X^T, d_L x d_0
        depth = len(ch.mats)
        for kk in range(depth - 1):
            t = ch.a[kk].T  # Mid_kl A_k^T, d_l x d_L (Mid = I for l = k + 1)
            for l in range(kk + 1, depth):
                if l > kk + 1:
                    t = ch.mats[l - 1] @ t
                p_kl = ch.b[l].T @ t  # B_l^T Mid A_k^T, d_0 x d_L
                xex += 2 * (ch.gb[kk] @ ch.z.T @ ch.ga[l] @ v @ p_kl @ v).trace()
    if ugu == 0:
        return Fraction(0), Fraction(0), ugu
    rho = (ug2u + xex) / ugu
    w = ku.scaled(rho.denominator) - big_u.scaled(rho.numerator)  # (G u - rho u) times den
    return rho, w.inner(apply(w)) / rho.denominator**2, ugu


def weyl_enclosure(
    weights: Sequence[np.ndarray],
    target: Any = None,
    *,
    data: Any = None,
    labels: Any = None,
    dps: int = 20,
) -> tuple[Fraction, Fraction, WeylEnclosure]:
    """A certified enclosure ``lambda_max(H) in [lo, hi]`` of the Hessian of ``1/2 ||W_L...W_1
    X - Y||_F^2`` at float64 ``weights`` (their exact binary values) at any point, minimizer or
    not: the Weyl enclosure ``[lambda_lo(G) - e, lambda_hi(G) + e]`` of the module docstring,
    intersected with the Rayleigh quotient (lower end) and the Kato-Temple bound (upper end).
    Its width is what it proves: near a minimizer (small ``e``) many digits, far from one
    possibly none. ``dps``: digits of the certified ``lambda_max(G)`` (the width is dominated by
    ``e`` otherwise; 20 is plenty).

    The problem is explicit, as in ``numeric.sharpness.sharpness``: ``target=M`` (``X = I``,
    a float64 ``d_L x d_0`` array) or ``target="product"``, or ``data=X`` with ``labels=Y`` (or
    ``labels="product"``). Weights, target, data and labels must be NumPy float arrays (float16,
    32 and 64 convert exactly); anything else is refused in one line (``DmfError``).
    ``G`` larger than ``MAX_GRAM_SIZE`` raises ``TooLargeError``.

    Returns ``(lo, hi, details)``: ``lo``, ``hi`` exact ``Fraction``s, ``details`` a
    ``WeylEnclosure`` (its ``method`` reads ``certified: Weyl enclosure, width ...``).

    >>> import numpy as np
    >>> ws = [np.array([[1.0, 0.5], [0.0, 2.0]]), np.array([[1.0, 1.0]])]
    >>> lo, hi, how = weyl_enclosure(ws, np.array([[1.0, 2.5001]]))   # near a minimizer
    >>> how.method.startswith("certified: Weyl enclosure, width"), how.relative_width < 1e-6
    (True, True)
    """
    from numeric.eigen import certified_eigvalsh
    from numeric.reduced import dyadic_kron_sum

    seconds: dict[str, float] = {}
    start = time.perf_counter()
    p = _problem(weights, target, data, labels, dps)
    dl = p.weights[-1].shape[0]
    n_cols = p.weights[0].shape[1] if p.data is None else p.data.shape[1]
    if dl * n_cols > MAX_GRAM_SIZE:
        raise TooLargeError(
            f"the Gram matrix G = J J^T would be {dl * n_cols} x {dl * n_cols} (d_L = {dl} times "
            f"{'d_0' if p.data is None else 'N'} = {n_cols}); weyl_enclosure takes it up to "
            f"{MAX_GRAM_SIZE}: use fewer samples, or sharpness(..., float64=True) for an "
            "approximate value"
        )
    ch = _chains(p)
    left = ch.gb if ch.x is None else [ch.x.T @ g @ ch.x for g in ch.gb]
    n = dl * n_cols
    if n <= CERTIFIED_GRAM_SIZE:
        k = dyadic_kron_sum([(g.m, g.e) for g in left], [(g.m, g.e) for g in ch.ga])
        seconds["exact G"] = time.perf_counter() - start
        t0 = time.perf_counter()
        encs = certified_eigvalsh(k, dps=dps, which="top")
        top, second = encs[0], (encs[1].hi if n > 1 else None)
        u = _top_vector(left, ch.ga)
        gram_how = f"numeric.eigen.certified_eigvalsh, {dps} digits"
    else:
        seconds["exact G"] = time.perf_counter() - start
        t0 = time.perf_counter()
        top, second, u = _verified_gram(left, ch.ga)
        gram_how = "verified float64: eigh of G rounded, with residual bounds"
    seconds["eigenvalues of G"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rb = _residual_bound(ch, p.weights)
    e = rb.e
    seconds["residual bound e"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    weyl = Enclosure(top.lo - e, top.hi + e)
    rho = kt = None
    if u is not None:
        rho, wgw, ugu = _rayleigh(ch, left, u)
        if ugu == 0:
            rho = None
        else:
            r = _sqrt_up(wgw / ugu) + e
            alpha = max(second if second is not None else Fraction(0), Fraction(0)) + e
            if rho > alpha:
                kt = rho + r * r / (rho - alpha)
    seconds["Rayleigh and Kato-Temple"] = time.perf_counter() - t0
    lo = weyl.lo if rho is None else max(weyl.lo, rho)
    hi = weyl.hi if kt is None else min(weyl.hi, kt)
    bits = int(dps * 3.33) + 64
    enc = Enclosure(lo, hi).round_out(bits)  # Rayleigh / Kato-Temple ends have huge numerators
    enc = Enclosure(max(enc.lo, weyl.lo), min(enc.hi, weyl.hi))
    seconds["total"] = time.perf_counter() - start
    details = WeylEnclosure(enc, top, second, n, gram_how, e, rb, weyl, rho, kt, dps, seconds,
                            ch.r.inner(ch.r), u)
    return enc.lo, enc.hi, details
