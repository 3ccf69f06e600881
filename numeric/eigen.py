"""Certified eigenvalues of exact real symmetric matrices (all of them, clusters included).

Public:
    Enclosure                  re-exported from ``derivations.intervals`` (exact endpoints)
    certified_eigvalsh(matrix, *, dps=50, max_dps=None, which="all") -> list[Enclosure],
                               descending
    certified_lambda_max(matrix, *, dps=50, max_dps=None) -> Enclosure
    SpectrumSummary            lambda_max, lambda_min, gap, multiplicity bounds, zero multiplicity
    certified_spectrum_summary(matrix, *, dps=50, max_dps=None, which="all") -> SpectrumSummary
    Which                      ``Literal["all", "top"]``: which eigenvalues need ``dps`` digits
    estimated_seconds(n, *, dps=50) -> float   predicted time of ``certified_eigvalsh`` (n x n)

Helpers (private): input checking, Ogita-Aishima refinement, the Weyl + Ostrowski certificate,
the Kato-Temple sharpening, the acceptance rule.

Method. ``matrix`` is exact (rationals; a float64 matrix is taken as the exact binary
rationals it stores). It is first scaled by an exact power of two ``2^k`` so that its largest
entry is about 1.

1. *Approximate eigenvectors.* ``numpy.linalg.eigh`` in float64, then Ogita-Aishima iterative
   refinement (T. Ogita, K. Aishima, "Iterative refinement for symmetric eigenvalue
   decomposition", Japan J. Indust. Appl. Math. 35 (2018) 1007-1035, Algorithm 1): with
   ``R = I - X^T X``, ``S = X^T A X``, ``l_i = s_ii / (1 - r_ii)``, ``delta = 2 (||S - diag(l)||
   + ||A|| ||R||)``, the correction ``E`` has ``e_ij = (s_ij + l_j r_ij) / (l_j - l_i)`` when
   ``|l_i - l_j| > delta`` and ``e_ij = r_ij / 2`` otherwise (this second rule is what makes
   exactly repeated eigenvalues harmless); ``X <- X + X E``. Convergence is quadratic, so the
   working precision doubles per step. Eigenvalues that are distinct but closer than the
   current accuracy form a cluster that Algorithm 1 cannot resolve, and so do pairs whose
   first-order correction is too large to trust (``|e_ij| > min(1/16, sqrt(acc) / 4)``, ``acc``
   the current accuracy of ``X``: the step leaves an error ``O(e_ij^2)``; e.g. a pair split by
   ``1e-25``, whose float64 eigenvectors are an arbitrary basis of their plane: a Newton step
   there makes ``X`` worse). When a cluster's internal coupling dominates the residual, its columns are
   rotated by the eigenvectors of the projected block (a Rayleigh-Ritz step, float64 ``eigh``
   made orthogonal to the working precision by Newton-Schulz iterations), after which
   Algorithm 1 separates them. A step that makes ``X`` worse is discarded. All matrix products
   run in C (python-flint ``arb_mat``, midpoints only: this stage needs no rigour).
2. *Global certificate* (rigorous, ball arithmetic on the exact matrix): with the refined
   ``X`` (exact dyadic entries) and ``D = diag(d)``, ``d`` the rounded diagonal of ``X^T A X``,
   bound ``g >= ||X^T X - I||_F >= ||X^T X - I||_2`` and ``e >= ||X^T A X - D||_F``. Weyl's
   inequality gives ``lambda_k(X^T A X) in [d_(k) - e, d_(k) + e]`` (``d`` sorted), and
   Ostrowski's theorem (Horn & Johnson, *Matrix Analysis*, Thm 4.5.9) gives
   ``lambda_k(X^T A X) = theta_k lambda_k(A)`` with ``theta_k in [1 - g, 1 + g]`` (``g < 1``).
   Hence ``lambda_k(A) in [d_(k) - e, d_(k) + e] / [1 - g, 1 + g]``, an interval division
   with exact rational endpoints. No eigenvalue needs to be isolated, so clusters and exactly
   repeated eigenvalues are certified like any others (their enclosures simply overlap).
3. *Kato-Temple sharpening* (rigorous) of every eigenvalue whose global enclosure is disjoint
   from its neighbours' (so ``lambda_k`` is proven alone in ``(hi_{k+1}, lo_{k-1})``): with
   its column ``x`` of ``X``, ``rho = x^T A x / x^T x`` and ``r = ||A x - rho x|| / ||x||``,
   ``rho - r^2 / (lo_{k-1} - rho) <= lambda_k <= rho + r^2 / (rho - hi_{k+1})`` (T. Kato
   1949, G. Temple 1928; see ``_kato_temple``), intersected with the global enclosure. The
   global ``e`` is one bound for all eigenvalues (the worst column sets it); ``r^2`` is
   quadratically small and per column, so ``lambda_max`` is certified to full accuracy even
   when some distant cluster is not (yet) resolved.

Acceptance rule ("``dps`` digits"): with ``mig`` the smallest ``|x|`` in an enclosure and
``rho`` the largest ``|x|`` over all enclosures (a bound on the spectral radius), an enclosure
is accepted when

- ``mig > 10^-dps rho`` and ``width <= 10^-dps mig`` (``dps`` *relative* digits), or
- ``mig <= 10^-dps rho`` (it contains 0 or lies within ``10^-dps rho`` of 0) and
  ``width <= 10^-dps rho`` (``dps`` digits *relative to the spectral radius*: such an
  eigenvalue is indistinguishable from 0 at ``dps`` digits of the spectrum; its enclosure may
  contain 0, and then ``Enclosure.correct_digits`` says 0).

``which="all"`` applies the rule to every eigenvalue, ``which="top"`` (and
``certified_lambda_max``) to ``lambda_max`` only; all returned enclosures are rigorous either
way, and ``correct_digits`` of each says what it proves. If the rule fails the working
precision is doubled and the refinement continues; beyond ``max_dps`` working digits
``PrecisionExhausted`` is raised.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from derivations.algebraic import as_fmpq_mat
from derivations.errors import DmfError, PrecisionExhausted
from derivations.intervals import Enclosure, arb_to_fraction, relative_tolerance

__all__ = [
    "Enclosure",
    "SpectrumSummary",
    "Which",
    "certified_eigvalsh",
    "certified_lambda_max",
    "certified_spectrum_summary",
    "estimated_seconds",
]

Which = Literal["all", "top"]
_LOG2_10 = math.log2(10)
_GUARD_BITS = 24
EIG_SECONDS = 1.2e-5
"""``certified_eigvalsh`` takes about ``EIG_SECONDS n^2.5`` seconds at 50 digits (see
``estimated_seconds``)."""


def estimated_seconds(n: int, *, dps: int = 50) -> float:
    """Predicted seconds of ``certified_eigvalsh`` on an ``n x n`` matrix at ``dps`` digits:
    ``EIG_SECONDS n^2.5 max(1, dps/50)^0.75``. Measured on this project's 2-core machine (load
    3 to 6: the same run takes up to twice as long at load 6) for n = 16..512 (depth-6 float64
    reduced operators, depth-10..100 integer-chain Hessians, (16, 16, 16) networks; e.g.
    n = 256: 7-21 s, n = 512: about 35 s): the time grows like ``n^2.5`` over that range
    (``n^3`` arithmetic in C, ``n^2`` Python work per refinement step) and is almost
    independent of the entries' bit size (the refinement works at the working precision). In
    ``dps`` it grows like ``(dps/50)^0.7`` (n = 192: 2.6 s at 50 digits, 8.3 s at 400, 22.5 s at
    1000). Clustered spectra that need more precision can take several times longer.

    >>> round(estimated_seconds(100), 1)
    1.2
    """
    return EIG_SECONDS * n**2.5 * max(1.0, dps / 50) ** 0.75


# --------------------------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------------------------
def _exact_symmetric(matrix: Any, name: str = "matrix") -> Any:
    """Check and convert ``matrix`` (Fraction object array, float array taken exactly, nested
    lists, SymPy or python-flint ``fmpq_mat``) to a python-flint ``fmpq_mat``."""
    return as_fmpq_mat(matrix, name=name, symmetric=True)


def _power_of_two_scale(m: Any) -> int:
    """``k`` such that ``max |a_ij| / 2^k`` lies in ``[1/2, 1)`` (0 for the zero matrix)."""
    biggest = max((abs(Fraction(int(x.p), int(x.q))) for x in m.entries()), default=Fraction(0))
    if biggest == 0:
        return 0
    e = biggest.numerator.bit_length() - biggest.denominator.bit_length()
    return e + 1 if Fraction(2) ** e <= biggest else e


def _scaled(m: Any, k: int) -> Any:
    from flint import fmpq

    return m * fmpq(1, 2**k) if k >= 0 else m * fmpq(2 ** (-k))


def _float_matrix(m: Any) -> np.ndarray:
    n = m.nrows()
    vals = [float(Fraction(int(x.p), int(x.q))) for x in m.entries()]
    return np.array(vals, dtype=np.float64).reshape(n, n)


# --------------------------------------------------------------------------------------------
# arb helpers
# --------------------------------------------------------------------------------------------
def _upper(x: Any) -> Fraction:
    """A rational upper bound of every point of the arb ball ``x``."""
    return arb_to_fraction(x.upper())


def _frobenius_upper(entries: list[Any]) -> Fraction:
    """A rational upper bound of ``sqrt(sum |x|^2)`` over arb balls (rigorous)."""
    from flint import arb

    total = arb(0)
    for x in entries:
        u = x.abs_upper()  # exact, >= |y| for every y in the ball
        total += u * u
    if total.is_zero():
        return Fraction(0)
    return _upper(arb(total.upper()).sqrt())


def _arb_norm(entries: list[Any]) -> Any:
    """Approximate Frobenius norm (an arb; for the refinement's heuristics only)."""
    from flint import arb

    total = arb(0)
    for v in entries:
        m = v.mid()
        total += m * m
    return total.sqrt().mid()


def _log2(x: Any) -> float:
    """``log2 |x|`` of an arb midpoint as a float (``-inf`` for 0); no underflow."""
    man, exp = x.mid().man_exp()
    man = abs(int(man))
    if man == 0:
        return -math.inf
    shift = max(man.bit_length() - 60, 0)
    return math.log2(man >> shift) + shift + int(exp)


def _to_float_scaled(entries: list[Any], log2_scale: float) -> list[float]:
    """``entries / 2^round(log2_scale)`` as floats (so tiny blocks do not underflow)."""
    from flint import arb

    k = round(log2_scale)
    factor = arb(2) ** (-k)
    return [float((v * factor).mid()) for v in entries]


# --------------------------------------------------------------------------------------------
# Ogita-Aishima refinement (midpoint arithmetic, no rigour needed)
# --------------------------------------------------------------------------------------------
_MAX_ROTATIONS = 3
# Algorithm 1's first-order correction e_ij = (s_ij + l_j r_ij) / (l_j - l_i) is used only when
# |e_ij| <= min(_MAX_CORRECTION, sqrt(acc) / 4), acc the current accuracy of X: the step
# leaves an error O(e_ij^2), which must be below acc for the step to help. A larger e_ij
# means the pair's approximate eigenvectors are still mixed by a rotation that a Newton step
# cannot undo (e.g. a pair split by 1e-25, whose float64 eigenvectors are an arbitrary basis
# of their plane; or split by 1e-12 with X accurate to 1e-15): the pair is then treated as a
# cluster (Rayleigh-Ritz rotation, or left alone).
_MAX_CORRECTION = 1 / 16


def _clusters(lam: list[Any], delta: Any, coupled: list[tuple[int, int]]) -> list[list[int]]:
    """Groups of indices that Algorithm 1 cannot separate: chains of approximate eigenvalues
    within ``delta`` of a neighbour, joined with the ``coupled`` pairs (whose first-order
    correction would be large, see ``_refine_step``). Only groups of two or more."""
    parent = list(range(len(lam)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(len(lam)), key=lambda i: arb_to_fraction(lam[i].mid()))
    links = [(p, c) for p, c in itertools.pairwise(order) if (lam[c] - lam[p]).mid() <= delta]
    for i, j in [*links, *coupled]:
        parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in order:
        groups.setdefault(root(i), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def _orthogonal_rotation(block: list[Any], k: int, prec: int) -> Any:
    """Eigenvectors of the symmetric ``k x k`` block (float64 ``eigh`` of the scaled block),
    made orthogonal to ``prec`` bits by Newton-Schulz steps ``Q <- Q (3I - Q^T Q) / 2``."""
    from flint import arb_mat

    top = max((_log2(v) for v in block), default=-math.inf)
    scaled = np.array(_to_float_scaled(block, top if math.isfinite(top) else 0.0)).reshape(k, k)
    _, vecs = np.linalg.eigh((scaled + scaled.T) / 2)
    q = arb_mat(k, k, [float(v) for v in vecs.flat])
    eye = arb_mat(k, k, [1 if i % (k + 1) == 0 else 0 for i in range(k * k)])
    for _ in range(12):
        defect = (q.transpose() * q).mid() - eye
        if _log2(_arb_norm(defect.entries())) < -(prec - 8):
            break
        q = (q * (3 * eye - defect - eye)).mid() * 0.5
    return q


def _rotate_clusters(
    x: Any,
    s_e: list[Any],
    g_e: list[Any],
    lam: list[Any],
    groups: list[list[int]],
    off_norm: Any,
    prec: int,
) -> Any | None:
    """Ogita & Aishima's part II idea (Japan J. Indust. Appl. Math. 36 (2019)): inside a
    cluster (``groups``, see ``_clusters``) Algorithm 1 cannot fix the basis, so when a
    cluster's internal coupling ``||offdiag(X_C^T (A - cI) X_C)||`` dominates the residual,
    rotate ``X_C`` by the eigenvectors of that block (a Rayleigh-Ritz step). Returns the new
    ``X`` or ``None`` when no cluster needs it."""
    from flint import arb_mat

    n = x.nrows()
    rotated = False
    cols = [[x[i, j] for i in range(n)] for j in range(n)]
    for group in groups:
        k = len(group)
        c = sum((lam[i] for i in group[1:]), lam[group[0]]) / k
        block = [s_e[i * n + j] - c * g_e[i * n + j] for i in group for j in group]
        coupling = _arb_norm([block[a * k + b] for a in range(k) for b in range(k) if a != b])
        if _log2(coupling) < _log2(off_norm) - 2:
            continue
        q = _orthogonal_rotation(block, k, prec)
        xc = arb_mat(n, k, [cols[j][i] for i in range(n) for j in group])
        new = (xc * q).mid()
        for b, j in enumerate(group):
            cols[j] = [new[i, b] for i in range(n)]
        rotated = True
    if not rotated:
        return None
    return arb_mat(n, n, [cols[j][i] for i in range(n) for j in range(n)])


def _refine_step(a_mid: Any, x: Any, prec: int, *, rotate: bool) -> tuple[Any, float, bool]:
    """One step of Ogita & Aishima (2018), Algorithm 1, at ``prec`` bits (or, when a cluster
    needs it and ``rotate`` is set, a Rayleigh-Ritz rotation of that cluster instead).

    Returns the new ``X`` (exact midpoints), ``log2`` of the accuracy of the *input* ``X``,
    ``max(||R||_F, ||S - diag(l)||_F / ||A||)`` (approximate), and whether it rotated."""
    from flint import arb_mat, ctx

    n = x.nrows()
    with ctx.workprec(prec):
        xt = x.transpose()
        s = (xt * (a_mid * x).mid()).mid()
        gram = (xt * x).mid()
        s_e, g_e = s.entries(), gram.entries()
        r_e = [(1 if i % (n + 1) == 0 else 0) - g for i, g in enumerate(g_e)]
        lam = [s_e[i * (n + 1)] / (1 - r_e[i * (n + 1)]) for i in range(n)]
        off = [s_e[i * n + j] - (lam[i] if i == j else 0) for i in range(n) for j in range(n)]
        norm_a = max((abs(v.mid()) for v in lam), key=lambda v: arb_to_fraction(v))
        off_norm, r_norm = _arb_norm(off), _arb_norm(r_e)
        rel_off = off_norm / norm_a if not norm_a.is_zero() else off_norm
        accuracy = max(_log2(r_norm), _log2(rel_off))
        delta = (2 * (off_norm + norm_a * r_norm)).mid()
        # e_ij of Algorithm 1 where it is trusted (separated, small); r_ij / 2 elsewhere
        e_vals: list[Any] = [r / 2 for r in r_e]
        coupled: list[tuple[int, int]] = []
        trusted = min(math.log2(_MAX_CORRECTION), (accuracy - 4) / 2)
        for i in range(n):
            for j in range(i + 1, n):
                gap = lam[j] - lam[i]
                size = abs(gap.mid())
                if size <= delta:
                    continue
                e_ij = (s_e[i * n + j] + lam[j] * r_e[i * n + j]) / gap
                e_ji = (s_e[j * n + i] + lam[i] * r_e[j * n + i]) / -gap
                if max(_log2(e_ij), _log2(e_ji)) > trusted:
                    coupled.append((i, j))
                else:
                    e_vals[i * n + j], e_vals[j * n + i] = e_ij, e_ji
        if rotate:
            groups = _clusters(lam, delta, coupled)
            rotated = _rotate_clusters(x, s_e, g_e, lam, groups, off_norm, prec)
            if rotated is not None:
                return rotated, accuracy, True
        e = arb_mat(n, n, e_vals)
        new_x = (x + (x * e).mid()).mid()
    return new_x, accuracy, False


def _refine(a_q: Any, x: Any, target_bits: int, accuracy_bits: float) -> tuple[Any, float]:
    """Refine until ``X`` is accurate to about ``target_bits`` bits, or stops improving (e.g.
    eigenvalues distinct but closer than the precision). ``accuracy_bits`` is the predicted
    accuracy of the incoming ``X``; returns the new ``X`` and its predicted accuracy. When a
    step made ``X`` worse (measured on the next step), the better earlier ``X`` is returned:
    refinement never hands the certificate a degraded basis."""
    from flint import arb_mat, ctx

    previous = -math.inf
    before = x  # the input of the previous step, whose accuracy is ``previous``
    rotations = 0
    while accuracy_bits < target_bits:
        prec = int(min(2 * accuracy_bits, target_bits)) + _GUARD_BITS
        with ctx.workprec(prec):
            a_mid = arb_mat(a_q).mid()
        new_x, log2_acc, rotated = _refine_step(
            a_mid, x, prec, rotate=rotations < _MAX_ROTATIONS
        )
        measured = -log2_acc  # accuracy (bits) of the input x
        if rotated:
            rotations += 1
            x, accuracy_bits = new_x, min(max(measured, 45.0), prec - _GUARD_BITS)
            previous, before = -math.inf, x
            continue
        if measured < previous + 4:  # stagnation: keep the better of the last two inputs
            if measured < previous:
                return before, previous
            return x, measured
        previous, before = measured, x
        x, accuracy_bits = new_x, min(2 * measured, prec - _GUARD_BITS)
    return x, accuracy_bits


# --------------------------------------------------------------------------------------------
# certificate (rigorous)
# --------------------------------------------------------------------------------------------
def _certify(a_q: Any, x: Any, prec: int) -> list[Enclosure]:
    """Enclosures of all eigenvalues of ``a_q`` (descending) from the approximate eigenvector
    matrix ``X`` (exact entries): the global Weyl + Ostrowski enclosures, each intersected with
    its Kato-Temple enclosure where the global ones prove it isolated (``_kato_temple``)."""
    from flint import arb, arb_mat, ctx

    n = a_q.nrows()
    with ctx.workprec(prec):
        a_ball = arb_mat(a_q)  # balls containing the exact rationals
        xt = x.transpose()
        ax = a_ball * x
        t = xt * ax
        gram = xt * x
        t_e, g_e = t.entries(), gram.entries()
        d = [arb_to_fraction(t_e[i * (n + 1)].mid()) for i in range(n)]
        resid = [
            t_e[k] - arb(d[k // n].numerator) / d[k // n].denominator
            if k % (n + 1) == 0
            else t_e[k]
            for k in range(n * n)
        ]
        orth = [g - 1 if k % (n + 1) == 0 else g for k, g in enumerate(g_e)]
        e = _frobenius_upper(resid)
        g = _frobenius_upper(orth)
    if g >= 1:
        raise _NotYet(f"the eigenvector matrix is not close to orthonormal (g = {float(g):.3g})")
    theta = Enclosure(1 - g, 1 + g)
    order = sorted(range(n), key=lambda j: d[j], reverse=True)
    weyl = [(Enclosure(d[j] - e, d[j] + e) / theta).round_out(prec + 8) for j in order]
    diag = [(t_e[j * (n + 1)], g_e[j * (n + 1)]) for j in order]
    return _kato_temple(ax, x, order, diag, weyl, prec)


def _kato_temple_interval(
    rho: Enclosure, r2: Fraction, alpha: Fraction | None, beta: Fraction | None
) -> Enclosure | None:
    """Kato-Temple: if the open interval ``(alpha, beta)`` contains ``rho`` (the Rayleigh
    quotient, known to lie in the interval ``rho``) and exactly one eigenvalue ``lambda`` of
    ``A``, and ``r2 >= ||A x - rho x||^2 / ||x||^2``, then
    ``rho - r2 / (beta - rho) <= lambda <= rho + r2 / (rho - alpha)``
    (``alpha = None``: -inf, no residual term above; ``beta = None``: +inf, the Rayleigh bound
    ``lambda >= rho``). Each term is bounded separately over the ``rho`` interval. Returns
    ``None`` when ``rho`` is not proven inside ``(alpha, beta)``.

    >>> F = Fraction  # rho = 2, r^2 = 1/100, no other eigenvalue in (0, 4): 2 -+ 1/200
    >>> e = _kato_temple_interval(Enclosure.point(2), F(1, 100), F(0), F(4))
    >>> e.lo, e.hi
    (Fraction(399, 200), Fraction(401, 200))
    >>> _kato_temple_interval(Enclosure.point(2), F(1, 100), F(0), None).lo  # top: Rayleigh
    Fraction(2, 1)
    """
    if (alpha is not None and rho.lo <= alpha) or (beta is not None and rho.hi >= beta):
        return None
    hi = rho.hi if alpha is None else rho.hi + r2 / (rho.lo - alpha)
    lo = rho.lo if beta is None else rho.lo - r2 / (beta - rho.hi)
    return Enclosure(lo, hi)


def _kato_temple(
    ax: Any,
    x: Any,
    order: list[int],
    diag: list[tuple[Any, Any]],
    weyl: list[Enclosure],
    prec: int,
) -> list[Enclosure]:
    """Sharpen the global enclosures ``weyl`` (descending) of the eigenvalues that they prove
    isolated, by the Kato-Temple inequality (T. Kato, "On the upper and lower bounds of
    eigenvalues", J. Phys. Soc. Japan 4 (1949) 334-339; G. Temple, Proc. Roy. Soc. London A
    119 (1928) 276-293; stated as Theorem A in S. T. Kuroda, Publ. RIMS 43 (2007) 505-520).

    For eigenvalue ``k`` (descending) take ``alpha = hi(weyl[k+1])`` and ``beta =
    lo(weyl[k-1])`` (``-inf``/``+inf`` at the ends). If ``alpha < lo(weyl[k])`` and
    ``hi(weyl[k]) < beta``, then ``lambda_k`` lies in ``(alpha, beta)`` and no other
    eigenvalue does (all others are ``<= lambda_{k+1} <= alpha`` or ``>= lambda_{k-1} >=
    beta``): the hypothesis of the theorem. With the column ``x`` of ``X`` whose ``x^T A x``
    gave ``weyl[k]``'s centre, ``rho = x^T A x / x^T x`` and ``r2 >= ||A x - rho x||^2 /
    x^T x`` are bounded in ball arithmetic (``A x`` is the ball product of the exact ``A`` and
    the exact ``X``), and ``_kato_temple_interval`` gives an enclosure of width ``O(r^2)``,
    intersected with ``weyl[k]``. Proof of the inequality (unit ``x = sum c_i u_i``): when
    ``(a, b)`` contains ``rho`` and no eigenvalue, ``0 <= sum c_i^2 (l_i - a)(l_i - b) = r^2 -
    (rho - a)(b - rho)``; apply it to ``(alpha, lambda_k)`` if ``lambda_k > rho`` and to
    ``(lambda_k, beta)`` if ``lambda_k < rho``. Any ``x`` gives a valid (maybe useless) bound,
    so the choice of column needs no proof. ``order[k]`` is that column, ``diag[k]`` its balls
    ``(x^T A x, x^T x)``."""
    from flint import arb, arb_mat, ctx

    n = len(weyl)
    out = list(weyl)
    with ctx.workprec(prec):
        for k in range(n):
            alpha = weyl[k + 1].hi if k + 1 < n else None
            beta = weyl[k - 1].lo if k > 0 else None
            if (alpha is not None and alpha >= weyl[k].lo) or (
                beta is not None and weyl[k].hi >= beta
            ):
                continue  # not proven isolated: the global enclosure stands
            j = order[k]
            num, den = diag[k]
            rho_ball = num / den
            if not (den > 0 and rho_ball.is_finite()):
                continue
            rho = Enclosure(arb_to_fraction(rho_ball.lower()), _upper(rho_ball))
            col = arb_mat(n, 1, [x[i, j] for i in range(n)])
            res = arb_mat(n, 1, [ax[i, j] for i in range(n)]) - col * rho_ball
            total = arb(0)
            for v in res.entries():
                u = v.abs_upper()
                total += u * u
            r2 = _upper(total / den)
            kt = _kato_temple_interval(rho, r2, alpha, beta)
            if kt is None:
                continue
            lo, hi = max(kt.lo, weyl[k].lo), min(kt.hi, weyl[k].hi)
            if lo > hi:  # both contain lambda_k: impossible unless there is a bug
                raise DmfError(
                    f"internal error: the Kato-Temple enclosure {kt} of eigenvalue {k + 1} "
                    f"misses its Weyl enclosure {weyl[k]}; please report this matrix"
                )
            out[k] = Enclosure(lo, hi).round_out(prec + 8)
    return out


class _NotYet(Exception):
    """Internal: the certificate is not good enough yet; raise precision."""


def _initial_vectors(a_q: Any) -> Any:
    from flint import arb_mat

    n = a_q.nrows()
    _, vecs = np.linalg.eigh(_float_matrix(a_q))
    return arb_mat(n, n, [float(v) for v in vecs.flat])


def _accepted(e: Enclosure, dps: int, rho: Fraction) -> bool:
    """The acceptance rule of the module docstring: ``width <= 10^-dps * mig``, or, for an
    enclosure within ``10^-dps rho`` of 0 (``mig <= 10^-dps rho``), ``width <= 10^-dps rho``.

    >>> F = Fraction
    >>> _accepted(Enclosure(F(-1, 10**5), F(1, 10**5)), 4, F(2))  # near 0: absolute
    True
    >>> _accepted(Enclosure(F(1, 10**3), F(1, 10**3) + F(1, 10**5)), 4, F(2))  # relative
    False
    """
    tiny = rho / 10**dps
    if e.mig <= tiny:
        return e.width <= tiny
    return relative_tolerance(e, dps)


def _check_which(which: Any) -> list[int] | None:
    if which == "all":
        return None
    if which == "top":
        return [0]
    raise DmfError(f"which must be 'all' or 'top'; got {which!r}")


def _eigen_enclosures(
    matrix: Any, dps: int, max_dps: int | None, indices: list[int] | None
) -> list[Enclosure]:
    """The shared engine: enclosures of all eigenvalues (descending), accepted once those
    listed in ``indices`` (``None``: all) meet ``_accepted``."""
    if not isinstance(dps, int) or dps < 1:
        raise DmfError(f"dps must be a positive integer; got {dps!r}")
    limit = 4 * dps + 100 if max_dps is None else max_dps
    if limit < dps:
        raise PrecisionExhausted(
            f"max_dps = {limit} is below the requested dps = {dps}: {dps} certified digits "
            "cannot be obtained working at fewer digits; raise max_dps"
        )
    m = _exact_symmetric(matrix)
    n = m.nrows()
    k = _power_of_two_scale(m)
    a_q = _scaled(m, k)
    scale = Fraction(2) ** k
    if n == 1 or all(a_q[i, j] == 0 for i in range(n) for j in range(n) if i != j):
        diag = sorted((Fraction(int(a_q[i, i].p), int(a_q[i, i].q)) for i in range(n)),
                      reverse=True)
        return [Enclosure.point(v * scale) for v in diag]
    x = _initial_vectors(a_q)
    work_dps = dps + 5
    accuracy_bits = 45.0
    wanted = list(range(n)) if indices is None else indices
    last = "no certificate computed"
    while work_dps <= limit:
        bits = int(work_dps * _LOG2_10) + 2 * n.bit_length() + 8
        x, accuracy_bits = _refine(a_q, x, bits, accuracy_bits)
        try:
            encl = [v * scale for v in _certify(a_q, x, bits + _GUARD_BITS)]
        except _NotYet as exc:
            last = str(exc)
        else:
            rho = max(v.mag for v in encl)
            bad = [i for i in wanted if not _accepted(encl[i], dps, rho)]
            if not bad:
                return encl
            worst = min(bad, key=lambda i: encl[i].correct_digits)
            last = f"eigenvalue {worst + 1} (descending) only enclosed as {encl[worst]}"
        work_dps *= 2
    raise PrecisionExhausted(
        f"could not certify {dps} digits for {'all eigenvalues' if indices is None else 'lambda_max'} "
        f"of the {n} x {n} "
        f"matrix working at up to {limit} digits (max_dps); last attempt: {last}. Eigenvalues "
        "that are distinct but closer than the working precision cannot be separated; raise "
        "max_dps or ask for fewer digits"
    )


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------
def certified_eigvalsh(
    matrix: Any, *, dps: int = 50, max_dps: int | None = None, which: Which = "all"
) -> list[Enclosure]:
    """All eigenvalues of the exact real symmetric ``matrix``, descending, each as a rigorous
    ``Enclosure``. Repeated eigenvalues get overlapping enclosures.

    ``which="all"``: every enclosure meets the module's acceptance rule (``dps`` relative
    digits; absolute width ``10^-dps rho`` for those within ``10^-dps rho`` of 0, ``rho`` the
    spectral radius bound). ``which="top"``: only ``lambda_max`` must meet it; the others are
    returned as computed then (still rigorous, possibly wider: read their digits from
    ``Enclosure.correct_digits``), which is what callers needing ``lambda_max`` plus gap and
    multiplicity bounds want.

    ``matrix``: a square ``Fraction`` object array (``derivations.exact``), a python-flint
    ``fmpq_mat``, or anything ``parse_matrix`` reads (floats are taken as the exact binary
    rationals they store). Raises ``PrecisionExhausted`` beyond ``max_dps`` working digits
    (default ``4 dps + 100``).

    >>> from fractions import Fraction as F
    >>> enc = certified_eigvalsh([[F(2), F(1)], [F(1), F(2)]], dps=20)
    >>> [e.contains(3) for e in enc], enc[1].contains(1), enc[0].correct_digits >= 20
    ([True, False], True, True)
    """
    return _eigen_enclosures(matrix, dps, max_dps, _check_which(which))


def certified_lambda_max(matrix: Any, *, dps: int = 50, max_dps: int | None = None) -> Enclosure:
    """The largest eigenvalue of the exact symmetric ``matrix`` as a rigorous ``Enclosure`` of
    relative width ``<= 10^-dps`` (absolute ``10^-dps rho`` if it lies within ``10^-dps rho``
    of 0); the other eigenvalues need not be resolved (``certified_eigvalsh(which="top")``).

    >>> certified_lambda_max([[0, 1], [1, 0]], dps=30).contains(1)
    True
    """
    return _eigen_enclosures(matrix, dps, max_dps, [0])[0]


@dataclass(frozen=True)
class SpectrumSummary:
    """What the certified enclosures prove about the top and bottom of the spectrum.

    ``multiplicity_upper`` counts the enclosures that overlap the top one: every eigenvalue
    equal to ``lambda_max`` is among them, so the multiplicity of ``lambda_max`` is between
    ``multiplicity_lower`` (1, or ``multiplicity_upper`` when that is 1) and
    ``multiplicity_upper``. The others are *proven* strictly below ``lambda_max``. Enclosures
    of exactly equal eigenvalues overlap at every precision, so the true multiplicity can be
    smaller than ``multiplicity_upper`` only if some eigenvalues are distinct but closer than
    the enclosure widths (``10^-dps`` relative with ``which="all"``). ``zero_multiplicity``
    is exact: ``n - rank(A)`` over the rationals.
    """

    eigenvalues: list[Enclosure]
    lambda_max: Enclosure
    lambda_min: Enclosure
    gap: Enclosure
    separated_gap: Enclosure | None
    multiplicity_lower: int
    multiplicity_upper: int
    zero_multiplicity: int
    zero_count_upper: int
    dps: int
    method: str


def certified_spectrum_summary(
    matrix: Any, *, dps: int = 50, max_dps: int | None = None, which: Which = "all"
) -> SpectrumSummary:
    """Certified ``lambda_max``, ``lambda_min``, the gap ``lambda_1 - lambda_2`` (contains 0
    when the top eigenvalue is repeated), the gap to the first eigenvalue proven below
    ``lambda_max`` (``separated_gap``, ``None`` if there is none), multiplicity bounds of
    ``lambda_max`` and the exact multiplicity of the eigenvalue 0. ``which`` as in
    ``certified_eigvalsh`` (``"top"``: only ``lambda_max`` to ``dps`` digits; the gap,
    ``lambda_min`` and the bounds are then proven from possibly wider enclosures).

    >>> s = certified_spectrum_summary([[2, 0, 0], [0, 2, 0], [0, 0, 1]], dps=20)
    >>> s.multiplicity_upper, s.zero_multiplicity, s.separated_gap.contains(1)
    (2, 0, True)
    """
    m = _exact_symmetric(matrix)
    enc = _eigen_enclosures(m, dps, max_dps, _check_which(which))
    top = enc[0]
    overlapping = [i for i, e in enumerate(enc) if e.overlaps(top)]
    upper = len(overlapping)
    below = [e for e in enc if not e.overlaps(top)]
    gap = top - enc[1] if len(enc) > 1 else Enclosure.point(0)
    return SpectrumSummary(
        eigenvalues=enc,
        lambda_max=top,
        lambda_min=enc[-1],
        gap=gap,
        separated_gap=(top - below[0]) if below else None,
        multiplicity_lower=1,
        multiplicity_upper=upper,
        zero_multiplicity=m.nrows() - m.rank(),
        zero_count_upper=sum(1 for e in enc if e.contains(0)),
        dps=dps,
        method=(
            "certified: float64 eigh, Ogita-Aishima refinement (arb midpoints), Weyl + "
            "Ostrowski enclosures sharpened by Kato-Temple for isolated eigenvalues, in ball "
            "arithmetic (python-flint/Arb); zero multiplicity exact (rank over Q)"
        ),
    )
