"""Checkers of the claims on the whole Hessian spectrum and its rank.

Public:
    check_balanced_spectrum       ``balanced-spectrum``: the nonzero eigenvalues at a balanced
                                  minimizer, ``sum_l s_i^(2(L-l)/L) s_j^(2(l-1)/L)``, against the
                                  exact characteristic polynomial
    check_hessian_rank            ``hessian-rank``, the literal claim (Singh, Bachmann & Hofmann,
                                  NeurIPS 2021): with ``q = min(r, k, m_1..m_{L-1})``,
                                  ``s = min(r, k)``, ``rank H_o = q(r+k-q)``,
                                  ``rank H_f = 2q sum m_l + 2qs - Lq^2``,
                                  ``rank H = 2q sum m_l - Lq^2 + q(r+k)`` are upper bounds attained
                                  generically, at generic points and at generic minimizers
    check_hessian_rank_corrected  ``hessian-rank-corrected``: upper bounds at every point,
                                  attained at generic points; at every minimizer ``H_f = 0`` and
                                  ``rank H = rank H_o``, which is ``q(r+k-q)`` at generic ones
    FORMULA_TEXT                  the three rank formulas as printed in part labels

Ranks are exact over Q (python-flint). At a minimizer ``R X^T = 0``, so ``H_f = 0``
(docs/mathematics.md K2): the ``H_f`` and ``H`` formulas cannot be attained there, which refutes
the literal claim at every generic minimizer (the counterexample is the point and both ranks).
A rank below a formula at a random point is otherwise only evidence (inconclusive), since a
random point is generic only with high probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from derivations.algebraic import (
    charpoly,
    exact_rank,
)
from derivations.exact import Point, parse_point
from numeric.claims.engine import combine_parts
from numeric.claims.points import random_point
from numeric.claims.quantities import (
    exact_hessian,
)
from numeric.claims.runner import CheckContext, ClaimOutcome, Counterexample, Part

__all__ = [
    "FORMULA_TEXT",
    "check_balanced_spectrum",
    "check_hessian_rank",
    "check_hessian_rank_corrected",
]

# ----------------------------------------------------------------------------- balanced spectrum


def _balanced_spectrum_case(rng: np.random.Generator) -> tuple[Point, list[Fraction], bool,
                                                                 str]:
    from numeric.minimizers import exact_balanced_minimizer

    depth = int(rng.integers(1, 5))
    dims = tuple(int(rng.integers(1, 4)) for _ in range(depth + 1))
    k = int(rng.integers(1, min(dims) + 1))
    t = sorted((Fraction(int(rng.integers(0, 4)), int(rng.integers(1, 3))) for _ in range(k)),
               reverse=True)
    point = exact_balanced_minimizer(t, dims, rng=rng)
    ti = t + [Fraction(0)] * (dims[-1] - k)
    tj = t + [Fraction(0)] * (dims[0] - k)
    lams = []
    for a in ti:
        for b in tj:
            lam = sum((_pow0(a, 2 * (depth - l)) * _pow0(b, 2 * (l - 1))
                       for l in range(1, depth + 1)), Fraction(0))
            lams.append(lam)
    h = exact_hessian(point)
    import flint

    x = flint.fmpq_poly([0, 1])
    nonzero = [v for v in lams if v != 0]
    pred = x ** (h.shape[0] - len(nonzero))
    for v in nonzero:
        pred *= flint.fmpq_poly([flint.fmpq(-v.numerator, v.denominator), 1])
    ok = h.shape[0] >= len(nonzero) and charpoly(h) == pred
    return point, nonzero, ok, f"dims {dims}, t = s^(1/L) = {[str(v) for v in t]}"


def _pow0(x: Fraction, n: int) -> Fraction:
    return Fraction(1) if n == 0 else x**n


def check_balanced_spectrum(ctx: CheckContext) -> ClaimOutcome:
    rng = ctx.rng()
    done = 0
    capped = False
    seen = []
    for i in range(ctx.cases):
        if ctx.time_up():
            capped = True
            break
        ctx.tick(i)
        point, lams, ok, text = _balanced_spectrum_case(rng)
        if not ok:
            cx = Counterexample(list(point.weights), f"charpoly(H) = {charpoly(exact_hessian(point))}",
                                f"predicted nonzero eigenvalues {[str(v) for v in lams]}",
                                "the polynomials differ (exact)", "charpoly(H)", "prediction",
                                target=point.labels, shrunk=False)
            return ClaimOutcome("refuted", done + 1, "exact", f"mismatch at {text}", None, cx)
        done += 1
        seen.append(text)
    detail = (
        f"charpoly(H) == x^(P - #nonzero) prod_(i,j) (x - lambda_ij) exactly over Q on {done} "
        "exact balanced minimizers (rational frames, rational t_i = s_i^(1/L), zero t_i "
        "included: rank-deficient targets), i over d_L and j over d_0 with zero padding and "
        "0^0 = 1; the i = j values are L t_i^(2(L-1)) = L s_i^(2-2/L). Cases: "
        + "; ".join(seen[:5]) + ("; ..." if len(seen) > 5 else "")
        + ("; time cap reached" if capped else "")
    )
    if done == 0:
        return ClaimOutcome("inconclusive", 0, "none", "time cap reached before any case")
    return ClaimOutcome("verified", done, "exact", detail, None, None, [], capped)


# ----------------------------------------------------------------------------- hessian rank


def _rank_formulas(dims: Sequence[int], r: int) -> dict[str, int]:
    k = dims[-1]
    hidden = list(dims[1:-1])
    depth = len(dims) - 1
    q = min([r, k, *hidden])
    s = min(r, k)
    m = sum(hidden)
    return {
        "H_o": q * (r + k - q),
        "H_f": 2 * q * m + 2 * q * s - depth * q * q,
        "H": 2 * q * m - depth * q * q + q * (r + k),
    }


def _ranks(point: Point) -> dict[str, int]:
    from numeric.hessian import gauss_newton

    h = exact_hessian(point)
    ho = np.asarray(gauss_newton(list(point.weights), point.data), dtype=object)
    return {"H": exact_rank(h), "H_o": exact_rank(ho), "H_f": exact_rank(h - ho)}


def _rank_point(rng: np.random.Generator, setting: str) -> Point:
    """A point of ``setting`` with entries ``k/den``, ``|k| <= 10^6``: a polynomial condition of
    degree ``d`` that is not identically zero vanishes there with probability at most
    ``d / (2 10^6 + 1)`` (Schwartz-Zippel), so random points are generic with high
    probability."""
    depth = int(rng.integers(2, 4))
    dims = tuple(int(rng.integers(1, 4)) for _ in range(depth + 1))
    n = int(rng.integers(1, 5))
    big = 10**6
    p = random_point(rng, dims, max_entry=big, denominator=int(rng.integers(1, 8)), data_n=n)
    if setting == "generic point":
        y = np.asarray(rng.integers(-big, big + 1, size=p.labels.shape), dtype=object)
        return parse_point(list(p.weights), data=p.data,
                           labels=[[Fraction(int(v)) for v in row] for row in y])
    if setting == "generic minimizer":
        return p
    # special: a balanced minimizer of a rank-deficient target (X = I), or a zero layer row
    from numeric.minimizers import exact_balanced_minimizer

    if rng.integers(0, 2):
        k = int(rng.integers(1, min(dims) + 1))
        roots = [Fraction(1)] + [Fraction(0)] * (k - 1)
        return exact_balanced_minimizer(roots, dims, rng=rng)
    ws = [w.copy() for w in p.weights]
    ws[0][0, :] = Fraction(0)
    return parse_point(ws, data=p.data)


@dataclass(eq=False)
class _RankCase:
    """One point of the hessian-rank sample: its setting, ``r = rank(X X^T)``, the three
    formulas and the three exact ranks."""

    index: int
    setting: str
    point: Point
    r: int
    formulas: dict[str, int]
    ranks: dict[str, int]


_SETTINGS = ("generic point", "generic minimizer", "special minimizer")
_FORMS = ("H_o", "H_f", "H")
FORMULA_TEXT = {"H_o": "q(r+k-q)", "H_f": "2q sum m_l + 2qs - Lq^2",
                "H": "2q sum m_l - Lq^2 + q(r+k)"}
"""The three rank formulas of Singh et al. as printed in part labels."""


def _rank_sample(ctx: CheckContext) -> tuple[list[_RankCase], bool]:
    """``ctx.cases`` points in each setting (generic point, generic minimizer, special
    minimizer, in turn), with exact ranks; and whether the time cap cut the sample."""
    rng = ctx.rng()
    out: list[_RankCase] = []
    for i in range(ctx.cases):
        for setting in _SETTINGS:
            if ctx.time_up():
                return out, True
            ctx.tick(i)
            p = _rank_point(rng, setting)
            r = exact_rank(p.data @ p.data.T) if p.data is not None else p.dims[0]
            out.append(_RankCase(len(out) + 1, setting, p, r, _rank_formulas(p.dims, r),
                                 _ranks(p)))
    return out, False


def _params(c: _RankCase) -> str:
    dims = c.point.dims
    q = min([c.r, dims[-1], *dims[1:-1]])
    return (f"dims {dims}, r = rank(X X^T) = {c.r}, k = {dims[-1]}, q = {q}, "
            f"s = {min(c.r, dims[-1])}, sum m_l = {sum(dims[1:-1])}, L = {len(dims) - 1}")


def _small_structural(c: _RankCase, f: str) -> _RankCase | None:
    """A minimizer with entries in ``-2..2``, the same dims, ``N`` and ``r``, at which the same
    structural shortfall holds (``H_f = 0`` at every minimizer, so the shortfall needs no
    genericity): the counterexample shown instead of the sample's ``10^6``-sized point."""
    n = c.point.data.shape[1] if c.point.data is not None else None
    for seed in range(64):
        p = random_point(np.random.default_rng(seed), c.point.dims, max_entry=2, data_n=n)
        r = exact_rank(p.data @ p.data.T) if p.data is not None else p.dims[0]
        small = _RankCase(c.index, c.setting, p, r, _rank_formulas(p.dims, r), _ranks(p))
        if r == c.r and small.ranks[f] < small.formulas[f] and _structural(small, f):
            return small
    return None


def _rank_cx(c: _RankCase, f: str) -> Counterexample:
    small = _small_structural(c, f) if _structural(c, f) else None
    c = small or c
    p = c.point
    why = (" H_f = H - J^T J is the zero matrix here, as at every minimizer (R X^T = 0, "
           "docs/mathematics.md K2), so the shortfall is no accident of this point."
           if c.setting != "generic point" and c.ranks["H_f"] == 0 else "")
    return Counterexample(
        list(p.weights), f"{c.ranks[f]} (exact rank over Q)",
        f"{c.formulas[f]} (= {FORMULA_TEXT[f]} with {_params(c)})",
        f"rank {f} - formula = {c.ranks[f] - c.formulas[f]} (exact integers)",
        f"rank {f}", "formula", data=p.data, labels=p.labels, shrunk=small is not None,
        note=f"setting: {c.setting}.{why}"
             + (" Shown at a minimizer with entries in -2..2 of the same dims, N and r."
                if small is not None else ""))


def _structural(c: _RankCase, f: str) -> bool:
    """A shortfall at a minimizer that holds at EVERY minimizer: H_f = 0 there (checked: rank
    H_f = 0), so rank H_f = 0 < formula, and rank H = rank H_o <= q(r+k-q) < the H formula."""
    if c.setting == "generic point" or c.ranks["H_f"] != 0:
        return False
    return f == "H_f" or (f == "H" and c.formulas["H_o"] < c.formulas["H"])


def _attained_part(cases: list[_RankCase], f: str, where: str) -> Part:
    """``rank f = formula`` on ``cases`` (one setting): verified if exact at all; refuted by an
    exact counterexample if a rank exceeds the formula or falls short for a structural reason
    (``_structural``); otherwise a shortfall at a random point is inconclusive (the point may
    be special: random points are generic only with high probability)."""
    label = f"rank {f} = {FORMULA_TEXT[f]} at {where}"
    below = [c for c in cases if c.ranks[f] < c.formulas[f]]
    above = [c for c in cases if c.ranks[f] > c.formulas[f]]
    bad = next((c for c in cases if c in above or (c in below and _structural(c, f))), None)
    if bad is not None:
        n = cases.index(bad) + 1
        text = (f"{'above' if bad in above else 'below'} the formula at case {n} of {len(cases)} "
                f"({_params(bad)}: rank {f} = {bad.ranks[f]} vs {bad.formulas[f]}); below it at "
                f"{len(below)} of {len(cases)}, exact at "
                f"{len(cases) - len(below) - len(above)}")
        return Part(label, "refuted", n, text, "exact", _rank_cx(bad, f))
    if below:
        c = below[0]
        return Part(label, "inconclusive", len(cases),
                    f"below the formula at {len(below)} of {len(cases)} random points (e.g. "
                    f"{_params(c)}: {c.ranks[f]} vs {c.formulas[f]}); a random point is generic "
                    "only with high probability, so this is evidence, not a proof", "exact")
    return Part(label, "verified", len(cases),
                f"rank {f} = {FORMULA_TEXT[f]} exactly at all {len(cases)} {where} (exact ranks "
                "over Q)", "exact")


def _bound_part(cases: list[_RankCase], f: str) -> Part:
    label = f"rank {f} <= {FORMULA_TEXT[f]} at every point"
    above = [c for c in cases if c.ranks[f] > c.formulas[f]]
    if above:
        c = above[0]
        return Part(label, "refuted", cases.index(c) + 1,
                    f"exceeded at case {c.index} ({_params(c)}: rank {f} = {c.ranks[f]} vs "
                    f"{c.formulas[f]})", "exact", _rank_cx(c, f))
    exact = sum(c.ranks[f] == c.formulas[f] for c in cases)
    return Part(label, "verified", len(cases),
                f"rank {f} <= {FORMULA_TEXT[f]} at all {len(cases)} points (generic points, "
                f"generic and special minimizers): equal at {exact}, strictly below at "
                f"{len(cases) - exact}", "exact")


def _by_setting(cases: list[_RankCase], setting: str) -> list[_RankCase]:
    return [c for c in cases if c.setting == setting]


_SAMPLE_TEXT = ("exact ranks over Q of H, H_o = J^T J and H_f = H - H_o at {n} points: depth 2-3, "
                "widths 1-3, data N = 1-4, entries k/den with |k| <= 10^6 (random points are "
                "generic with high probability, Schwartz-Zippel); generic points have random "
                "labels, generic minimizers labels Y = f X, special minimizers a rank-1 "
                "balanced target or a zero row in W_1.")


def check_hessian_rank(ctx: CheckContext) -> ClaimOutcome:
    """The literal claim: the three formulas are upper bounds attained generically -- at
    generic points AND at generic minimizers. Parts: each formula as an upper bound at every
    point, attained at generic points, attained at generic minimizers. At a minimizer H_f = 0,
    so the H_f and H formulas are not attained there: refuted, with an exact counterexample
    (the point and both ranks)."""
    cases, capped = _rank_sample(ctx)
    if not cases:
        return ClaimOutcome("inconclusive", 0, "none", "time cap reached before any case")
    parts = []
    for f in _FORMS:
        parts.append(_bound_part(cases, f))
        parts.append(_attained_part(_by_setting(cases, "generic point"), f, "generic points"))
        parts.append(_attained_part(_by_setting(cases, "generic minimizer"), f,
                                    "generic minimizers"))
    detail = (_SAMPLE_TEXT.format(n=len(cases))
              + " At a minimizer R X^T = 0, so H_f = 0 (K2) and rank H = rank H_o: the H_f and "
              "H formulas count a residual term that is absent there."
              + (" Time cap reached." if capped else ""))
    out = combine_parts(parts, detail, capped=capped)
    out.cases = len(cases)  # points, each deciding all three formulas
    return out


def check_hessian_rank_corrected(ctx: CheckContext) -> ClaimOutcome:
    """What holds: the three formulas are upper bounds at every point and attained at generic
    points; at every minimizer H_f = 0 and rank H = rank H_o, which is q(r+k-q) at generic
    minimizers."""
    cases, capped = _rank_sample(ctx)
    if not cases:
        return ClaimOutcome("inconclusive", 0, "none", "time cap reached before any case")
    parts = [_bound_part(cases, f) for f in _FORMS]
    parts += [_attained_part(_by_setting(cases, "generic point"), f, "generic points")
              for f in _FORMS]
    minimizers = [c for c in cases if c.setting != "generic point"]
    label = "H_f = 0 and rank H = rank H_o at every minimizer"
    bad = next((c for c in minimizers if c.ranks["H_f"] != 0 or c.ranks["H"] != c.ranks["H_o"]),
               None)
    if bad is not None:
        n = minimizers.index(bad) + 1
        parts.append(Part(label, "refuted", n,
                          f"fails at minimizer {n} ({_params(bad)}: rank H_f = {bad.ranks['H_f']}, "
                          f"rank H = {bad.ranks['H']}, rank H_o = {bad.ranks['H_o']})", "exact",
                          _rank_cx(bad, "H_f")))
    else:
        parts.append(Part(label, "verified", len(minimizers),
                          f"H - J^T J is the zero matrix and rank H = rank H_o at all "
                          f"{len(minimizers)} minimizers (generic and special; exact)", "exact"))
    generic_min = _by_setting(cases, "generic minimizer")
    part = _attained_part(generic_min, "H_o", "generic minimizers")
    part.label = "rank H = rank H_o = q(r+k-q) at generic minimizers"
    parts.append(part)
    detail = (_SAMPLE_TEXT.format(n=len(cases))
              + " Special minimizers (rank-deficient product) may fall below q(r+k-q): q counts "
              "widths, not rank f." + (" Time cap reached." if capped else ""))
    out = combine_parts(parts, detail, capped=capped)
    out.cases = len(cases)
    return out
