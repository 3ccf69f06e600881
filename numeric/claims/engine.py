"""Claim checkers, part 1: the decision engine and the closed-form claims.

Public (each ``check_*`` takes a ``CheckContext`` and returns a ``ClaimOutcome``):
    Relation                a claimed relation ``lhs (=|<=|>=) rhs`` between two exact sides
    decide_relation         search (Hypothesis, float64 with a margin) -> shrink -> exact re-check;
                            otherwise exact verification on generated cases
    point_strategy          a shrinkable Hypothesis strategy of exact minimizers (integer entries)
    random_point            a seeded random exact minimizer (optionally with data)
    lambda_max_hessian      ``lambda_max(H)`` as an exact algebraic number (``AlgebraicFormula``)
    check_gauss_newton, check_reduced_spectrum, check_trace, check_upper_bound, check_depth2,
    check_scalar_ends, check_sum_formula, check_escape

Evidence discipline: a search predicate may use float64 (with a margin); every verdict's evidence
is exact (rationals, algebraic numbers with their minimal polynomials) or certified (disjoint
rigorous enclosures), all from ``derivations.algebraic``: sides are ``AlgebraicFormula`` values
compared by ``compare_formulas`` (enclosures first, exact values when they overlap). A strict
relation proved by disjoint enclosures is labelled "certified", with the enclosures' digits; an
equality (or a comparison of rationals) is "exact". ``lambda_max(H)`` is the largest root of
the exact characteristic polynomial of the exact K1 Hessian (``numeric.hessian.full_hessian`` on
``Fraction`` arrays), not of the reduced operator, so these checks do not lean on K2.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import Any

import numpy as np
from hypothesis import HealthCheck, find, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, NoSuchExample, Unsatisfiable

from derivations.algebraic import (
    AlgebraicFormula,
    Comparison,
    as_fmpq_mat,
    charpoly,
    compare_formulas,
    exact_lambda_max,
)
from derivations.errors import PrecisionExhausted
from derivations.exact import Point, parse_point
from numeric.claims.runner import CheckContext, ClaimOutcome, Counterexample, Part, fraction_str
from numeric.factors import data_right_factor, left_factor, right_factor

__all__ = [
    "ESCAPE_METHOD",
    "Relation",
    "SearchOutcome",
    "alg_text",
    "check_depth2",
    "check_escape",
    "check_gauss_newton",
    "check_reduced_spectrum",
    "check_scalar_ends",
    "check_sum_formula",
    "check_trace",
    "check_upper_bound",
    "combine_parts",
    "decide_relation",
    "exact_hessian",
    "float_weights",
    "gram_small",
    "lambda_max_hessian",
    "point_strategy",
    "random_point",
    "reduce_hidden_units",
    "run_search",
    "sq_norm",
    "sum_of_products",
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


def float_weights(point: Point) -> list[np.ndarray]:
    """APPROXIMATE float64 copies of the weights (for search predicates only)."""
    return [np.array(w, dtype=np.float64) for w in point.weights]


# ----------------------------------------------------------------------------- exact sides


def exact_hessian(point: Point) -> np.ndarray:
    """The exact K1 Hessian (``Fraction`` entries) at the point."""
    from numeric.hessian import full_hessian

    return np.asarray(full_hessian(list(point.weights), point.data, point.labels), dtype=object)


def lambda_max_hessian(point: Point) -> AlgebraicFormula:
    """``lambda_max(H)`` exactly: the largest root of the exact characteristic polynomial of the
    full Hessian, with its minimal polynomial (``derivations.algebraic.exact_lambda_max``)."""
    return AlgebraicFormula.of(exact_lambda_max(exact_hessian(point)))


def _bx(point: Point, l: int) -> np.ndarray:
    return np.asarray(data_right_factor(list(point.weights), l, point.data), dtype=object)


def _a(point: Point, l: int) -> np.ndarray:
    return np.asarray(left_factor(list(point.weights), l), dtype=object)


def gram_small(m: np.ndarray) -> np.ndarray:
    """``m^T m`` or ``m m^T``, whichever is smaller (the same nonzero spectrum)."""
    m = np.asarray(m, dtype=object)
    return np.asarray(m.T @ m if m.shape[1] <= m.shape[0] else m @ m.T, dtype=object)


def sq_norm(m: np.ndarray) -> AlgebraicFormula:
    """``||m||_2^2`` exactly (``lambda_max`` of the smaller Gram matrix)."""
    return AlgebraicFormula.of(exact_lambda_max(gram_small(m)))


def _frob2(m: np.ndarray) -> Fraction:
    return sum((Fraction(x) ** 2 for x in np.asarray(m).flat), Fraction(0))


def sum_of_products(point: Point) -> AlgebraicFormula:
    """``sum_l ||A_l||_2^2 ||B_l X||_2^2`` exactly (its exact value is built only if an
    enclosure does not decide a comparison)."""
    total = AlgebraicFormula.of(0)
    for l in range(1, point.depth + 1):
        total = total + sq_norm(_a(point, l)) * sq_norm(_bx(point, l))
    return total


def alg_text(a: AlgebraicFormula, dps: int) -> str:
    """An exact rational as ``p/q``; otherwise a certified interval (and the degree of the
    minimal polynomial used)."""
    if a.rational is not None:
        return fraction_str(a.rational)
    return f"{a.enclosure(dps)} (certified)"


def _lam_float(point: Point) -> float:
    from numeric.hessian import full_hessian

    ws = float_weights(point)
    x = None if point.data is None else np.array(point.data, dtype=np.float64)
    y = np.array(point.labels, dtype=np.float64)
    h = full_hessian(ws, x, y)
    return float(np.linalg.eigvalsh(h)[-1]) if h.size else 0.0


def _sum_products_float(point: Point) -> float:
    ws = float_weights(point)
    total = 0.0
    for l in range(1, len(ws) + 1):
        a = left_factor(ws, l)
        b = right_factor(ws, l)
        if point.data is not None:
            b = b @ np.array(point.data, dtype=np.float64)
        total += float(np.linalg.norm(a, 2) ** 2 * np.linalg.norm(b, 2) ** 2)
    return total


# ----------------------------------------------------------------------------- the engine


@dataclass(frozen=True)
class Relation:
    """``lhs rel rhs`` with exact sides (``AlgebraicFormula``) and float64 sides for the
    search."""

    lhs_name: str
    rhs_name: str
    lhs: Callable[[Point], AlgebraicFormula]
    rhs: Callable[[Point], AlgebraicFormula]
    lhs_float: Callable[[Point], float]
    rhs_float: Callable[[Point], float]
    rel: str = "="

    def float_violated(self, point: Point) -> bool:
        a, b = self.lhs_float(point), self.rhs_float(point)
        margin = 1e-7 * (1.0 + abs(a) + abs(b))
        if self.rel == "=":
            return abs(a - b) > margin
        if self.rel == "<=":
            return a - b > margin
        return b - a > margin

    def holds(self, c: Comparison) -> bool:
        return c.relation == "=" or (self.rel == "<=" and c.relation == "<") or (
            self.rel == ">=" and c.relation == ">"
        )


@dataclass(frozen=True)
class SearchOutcome:
    """What ``run_search`` found. ``example``: the most shrunk hit (``None``: no hit within the
    example budget). ``shrunk``: Hypothesis finished shrinking within the ``shrink_calls``
    budget (otherwise the simplest hit seen is returned). ``time_capped``: the wall-clock
    safety net cut the search or the shrinking (the result may then depend on load).
    ``calls``/``shrink_calls``: predicate calls in all and after the first hit."""

    example: Any
    shrunk: bool
    time_capped: bool
    calls: int
    shrink_calls: int

    def text(self) -> str:
        """How the search ended, for a part's detail."""
        if self.example is None:
            how = f"no counterexample in {self.calls} search examples"
        elif self.shrunk:
            how = f"found and shrunk ({self.shrink_calls} shrink calls)"
        else:
            how = (f"found; shrinking stopped at the budget of {self.shrink_calls} calls "
                   "(the simplest hit is reported)")
        if self.time_capped:
            how += ("; CUT BY THE WALL-CLOCK SAFETY NET, so this result may depend on the "
                    "machine's load")
        return how


def _hit_size(x: Any) -> tuple[Any, ...]:
    """A deterministic simplicity order on hits: fewer parameters, then smaller entries."""
    if not isinstance(x, Point):
        return (0,)
    entries = [Fraction(v) for w in x.weights for v in np.asarray(w).flat]
    return (x.num_params, x.depth, sum(abs(v.numerator) + v.denominator - 1 for v in entries))


def run_search(
    ctx: CheckContext,
    strategy: st.SearchStrategy[Any],
    predicate: Callable[[Any], bool],
    *,
    salt: int = 0,
    max_examples: int | None = None,
) -> SearchOutcome:
    """``hypothesis.find`` for a shrunk example satisfying ``predicate``, DETERMINISTIC given
    the run seed, the claim id, ``salt`` and the budget: the search draws at most
    ``max_examples`` (default ``ctx.search_examples``) examples from
    ``random.Random(ctx.search_seed(salt))``, without the example database, and the shrinking
    may call the predicate at most ``ctx.budget.shrink_calls`` times after the first hit;
    past that budget the predicate answers False, which ends the shrinking at the same point
    on every machine (the simplest hit seen, by ``_hit_size``, is returned, ``shrunk`` false).
    Errors in the predicate count as "not a counterexample". Wall clock enters only as a
    safety net: past the claim's time cap or ``ctx.budget.search_seconds`` the predicate
    answers False too and the outcome says ``time_capped``."""
    from hypothesis import Phase, Verbosity

    hits: list[Any] = []
    calls = [0, 0]  # all calls, calls after the first hit
    capped = [False, False]  # wall clock, shrink budget
    stop = time.perf_counter() + ctx.budget.search_seconds
    shrink_budget = ctx.budget.shrink_calls

    def pred(x: Any) -> bool:
        calls[0] += 1
        if hits:
            calls[1] += 1
            if calls[1] > shrink_budget:
                capped[1] = True
                return False
        if ctx.time_up() or time.perf_counter() > stop:
            capped[0] = True
            return False
        try:
            ok = bool(predicate(x))
        except (ArithmeticError, ValueError, np.linalg.LinAlgError):
            return False
        if ok:
            hits.append(x)
        return ok

    conf = settings(
        max_examples=max_examples or ctx.search_examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=(Phase.generate, Phase.shrink),
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
    )
    try:
        found = find(strategy, pred, settings=conf, random=random.Random(ctx.search_seed(salt)))
    except (NoSuchExample, Unsatisfiable):
        found = None
    except Flaky:
        # a budget or the safety net ended the shrinking: report the simplest hit seen
        found = None
    cut = capped[0] or capped[1]
    if found is None and hits:
        found = min(hits, key=_hit_size)
    used = min(calls[1], shrink_budget)
    return SearchOutcome(found, found is not None and not cut, capped[0], calls[0], used)


def reduce_hidden_units(point: Point, still_bad: Callable[[Point], bool]) -> Point:
    """After Hypothesis' shrinking: greedily delete hidden units (row ``j`` of ``W_l`` with
    column ``j`` of ``W_{l+1}``) while the point stays a counterexample (Hypothesis shrinks
    widths only when the entries it drew still fit, so this finishes the job)."""
    if point.data is not None:
        return point
    changed = True
    while changed:
        changed = False
        for l in range(1, point.depth):
            if point.dims[l] <= 1:
                continue
            for j in range(point.dims[l]):
                ws = [np.asarray(w, dtype=object) for w in point.weights]
                ws[l - 1] = np.delete(ws[l - 1], j, axis=0)
                ws[l] = np.delete(ws[l], j, axis=1)
                candidate = parse_point(ws)
                try:
                    bad = still_bad(candidate)
                except (ArithmeticError, ValueError, np.linalg.LinAlgError):
                    bad = False
                if bad:
                    point, changed = candidate, True
                    break
            if changed:
                break
    return point


def _counterexample(point: Point, rel: Relation, c: Comparison, dps: int, *, shrunk: bool,
                    lhs: AlgebraicFormula, rhs: AlgebraicFormula, note: str = "",
                    ) -> Counterexample:
    return Counterexample(
        weights=list(point.weights),
        lhs=alg_text(lhs, dps),
        rhs=alg_text(rhs, dps),
        gap=f"{rel.lhs_name} - {rel.rhs_name} in {c.gap} ({c.proof})",
        lhs_name=rel.lhs_name,
        rhs_name=rel.rhs_name,
        target=point.labels if point.data is None else None,
        data=point.data,
        labels=point.labels if point.data is not None else None,
        shrunk=shrunk,
        note=note,
    )


@dataclass
class _Tally:
    cases: int = 0
    exact: int = 0
    certified: int = 0
    undecided: int = 0
    skipped: int = 0
    digits: int | None = None
    capped: bool = False

    def evidence(self) -> str:
        if self.exact and self.certified:
            return "exact+certified"
        return "certified" if self.certified else "exact" if self.exact else "none"

    def add(self, c: Comparison, enc_digits: int | None) -> None:
        self.cases += 1
        if c.relation == "=" or c.dps is None or enc_digits is None:
            self.exact += 1
        else:
            self.certified += 1
            self.digits = enc_digits if self.digits is None else min(self.digits, enc_digits)


def decide_relation(
    ctx: CheckContext,
    rel: Relation,
    *,
    strategy: st.SearchStrategy[Point] | None,
    generate: Callable[[np.random.Generator, int], Point | None],
    in_domain: Callable[[Point], bool] = lambda p: True,
    label: str = "",
    salt: int = 0,
) -> Part:
    """Decide ``rel`` on a domain: first a Hypothesis search for a float64 violation (shrunk),
    re-checked exactly; if none survives, exact/certified verification on ``ctx.cases``
    generated points (``generate(rng, i)``; ``None`` or points outside ``in_domain`` are
    skipped). Returns a ``Part`` (verdict, cases, evidence, counterexample)."""
    dps = ctx.dps
    note = ""
    search_capped = False
    if strategy is not None:
        found = run_search(
            ctx, strategy, lambda p: in_domain(p) and rel.float_violated(p), salt=salt
        )
        search_capped = found.time_capped
        if found.example is not None:
            hit = reduce_hidden_units(found.example,
                                      lambda p: in_domain(p) and rel.float_violated(p))
            lhs, rhs = rel.lhs(hit), rel.rhs(hit)
            c = compare_formulas(lhs, rhs)
            if not rel.holds(c):
                return Part(
                    label, "refuted", 1,
                    f"Hypothesis search: {found.text()}; hidden units then removed greedily; "
                    f"exact re-check: {rel.lhs_name} {c.relation} {rel.rhs_name}",
                    "exact" if c.dps is None or c.relation == "=" else "certified",
                    _counterexample(hit, rel, c, dps, shrunk=found.shrunk, lhs=lhs, rhs=rhs),
                    None if c.dps is None else min(_digits(lhs, c.dps), _digits(rhs, c.dps)),
                    found.time_capped,
                )
            note = "a float64 search hit was a false alarm (exact re-check holds); "
        elif found.time_capped:
            note = f"search: {found.text()}; "
    tally = _Tally(capped=search_capped)
    rng = ctx.rng(salt)
    for i in range(ctx.cases):
        if ctx.time_up():
            tally.capped = True
            break
        ctx.tick(i)
        point = generate(rng, i)
        if point is None or not in_domain(point):
            tally.skipped += 1
            continue
        lhs, rhs = rel.lhs(point), rel.rhs(point)
        try:
            c = compare_formulas(lhs, rhs)
        except PrecisionExhausted:
            tally.undecided += 1
            continue
        if not rel.holds(c):
            return Part(
                label, "refuted", tally.cases + 1,
                f"generated case {i} violates it (found without a search, not shrunk); exact "
                f"re-check: {rel.lhs_name} {c.relation} {rel.rhs_name}",
                "exact" if c.relation == "=" or c.dps is None else "certified",
                _counterexample(point, rel, c, dps, shrunk=False, lhs=lhs, rhs=rhs),
                time_capped=tally.capped,
            )
        enc_digits = None if c.dps is None else _digits(lhs, c.dps)
        tally.add(c, enc_digits)
    return _tally_part(label, tally, rel, note)


def _digits(a: AlgebraicFormula, dps: int) -> int:
    if a.rational is not None:
        return dps
    d = a.enclosure(dps).correct_digits
    return int(min(d, 10**6))


def _tally_part(label: str, t: _Tally, rel: Relation, note: str) -> Part:
    how = (
        f"{t.exact} exactly (rational arithmetic or exact algebraic equality), "
        f"{t.certified} by disjoint certified enclosures"
    )
    extra = ""
    if t.undecided:
        extra += f"; {t.undecided} undecided within the precision ladder (excluded)"
    if t.skipped:
        extra += f"; {t.skipped} generated points outside the domain skipped"
    if t.capped:
        extra += "; time cap (safety net) reached: the result may depend on the machine's load"
    if t.cases == 0:
        return Part(
            label, "inconclusive", 0,
            f"{note}no generated case was decided (none lies in the claim's domain or all were "
            f"undecided){extra}", "none", time_capped=t.capped,
        )
    return Part(
        label, "verified", t.cases,
        f"{note}{rel.lhs_name} {rel.rel} {rel.rhs_name} held on {t.cases} cases: {how}{extra}",
        t.evidence(), None, t.digits, t.capped,
    )


def combine_parts(parts: list[Part], detail: str, *, capped: bool = False) -> ClaimOutcome:
    """A claim's verdict from its parts: refuted if any part is refuted (the claim is universal),
    inconclusive if any is inconclusive, else verified (proved if all are proved)."""
    verdicts = [p.verdict for p in parts]
    cases = sum(p.cases for p in parts)
    cx = next((p.counterexample for p in parts if p.verdict == "refuted"), None)
    if "refuted" in verdicts:
        verdict = "refuted"
    elif "inconclusive" in verdicts:
        verdict = "inconclusive"
    elif all(v == "proved" for v in verdicts):
        verdict = "proved"
    else:
        verdict = "verified"
    kinds = {p.evidence for p in parts if p.evidence != "none"}
    if verdict == "refuted":
        kinds = {next(p.evidence for p in parts if p.verdict == "refuted")}
    evidence = _merge_evidence(kinds)
    relevant = [p for p in parts if p.verdict == "refuted"] if verdict == "refuted" else parts
    known = [p.digits for p in relevant if p.digits is not None]
    digits = min(known) if known and "certified" in evidence else None
    lines = [detail] + [f"[{p.label}] {p.verdict}: {p.detail}" for p in parts]
    capped = capped or any(p.time_capped for p in parts)
    return ClaimOutcome(verdict, cases, evidence, "\n".join(lines), digits, cx,
                        parts if len(parts) > 1 else [], capped)


def _merge_evidence(kinds: set[str]) -> str:
    if not kinds:
        return "none"
    if kinds == {"symbolic"}:
        return "symbolic"
    flat = set()
    for k in kinds:
        flat.update(k.split("+"))
    flat.discard("symbolic")
    if flat == {"exact"}:
        return "exact"
    if flat == {"certified"}:
        return "certified"
    return "exact+certified"


def _single(part: Part, detail: str) -> ClaimOutcome:
    return ClaimOutcome(
        part.verdict, part.cases, part.evidence, f"{part.detail}\n{detail}".strip(),
        part.digits if "certified" in part.evidence else None, part.counterexample, [],
        part.time_capped,
    )


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


# ----------------------------------------------------------------------------- checkers


def _frob_formula(point: Point) -> Fraction:
    return sum(
        (_frob2(_a(point, l)) * _frob2(_bx(point, l)) for l in range(1, point.depth + 1)),
        Fraction(0),
    )


def _trace_exact(point: Point) -> Fraction:
    h = exact_hessian(point)
    return sum((Fraction(h[i, i]) for i in range(h.shape[0])), Fraction(0))


TRACE = Relation(
    "tr H", "sum_l ||A_l||_F^2 ||B_l X||_F^2",
    lambda p: AlgebraicFormula.of(_trace_exact(p)), lambda p: AlgebraicFormula.of(_frob_formula(p)),
    lambda p: float(_trace_exact(p)), lambda p: float(_frob_formula(p)),
)


def check_trace(ctx: CheckContext) -> ClaimOutcome:
    """MATH.md K3, exact rational equality at minimizers (X = I and with data, including
    ``R != 0`` with ``R X^T = 0``), then the same identity at arbitrary points (a remark)."""
    main = decide_relation(
        ctx, TRACE, strategy=point_strategy(depths=(1, 4)),
        generate=_minimizer_gen((1, 4), (1, 3), data=True),
    )
    beyond = decide_relation(
        ctx, TRACE, strategy=None, generate=_non_minimizer_gen, label="beyond the domain",
        salt=7,
    )
    remark = (
        "Remark: the identity also holds at arbitrary (non-minimizing) points: "
        f"{beyond.verdict} on {beyond.cases} random points with random labels (the diagonal of "
        "H_f vanishes because the loss is quadratic in each single weight)."
    )
    return _single(main, remark)


def _non_minimizer_gen(rng: np.random.Generator, i: int) -> Point:
    dims = _dims_gen(rng, (1, 3), (1, 3))
    p = random_point(rng, dims, data_n=int(rng.integers(1, 4)))
    y = _frac_matrix(rng.integers(-3, 4, size=p.labels.shape))
    return parse_point(list(p.weights), data=p.data, labels=y)


UPPER = Relation(
    "lambda_max(H)", "sum_l ||A_l||_2^2 ||B_l X||_2^2",
    lambda_max_hessian, sum_of_products, _lam_float, _sum_products_float, "<=",
)


def check_upper_bound(ctx: CheckContext) -> ClaimOutcome:
    """MATH.md K4 at minimizers (X = I and with data): exact algebraic comparison."""
    part = decide_relation(
        ctx, UPPER, strategy=point_strategy(depths=(1, 3)),
        generate=_minimizer_gen((1, 3), (1, 3), data=True),
    )
    return _single(part, "")


def _depth2_rhs(p: Point) -> AlgebraicFormula:
    return sq_norm(p.weights[0]) + sq_norm(p.weights[1])


def _depth2_rhs_float(p: Point) -> float:
    w = float_weights(p)
    return float(np.linalg.norm(w[0], 2) ** 2 + np.linalg.norm(w[1], 2) ** 2)


DEPTH2 = Relation(
    "lambda_max(H)", "||W_1||_2^2 + ||W_2||_2^2",
    lambda_max_hessian, _depth2_rhs, _lam_float, _depth2_rhs_float,
)


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


def check_depth2(ctx: CheckContext) -> ClaimOutcome:
    """MATH.md K5: exact algebraic equality per case (random integer points and points with
    rational norms built from rational orthogonal frames)."""

    def gen(rng: np.random.Generator, i: int) -> Point:
        dims = _dims_gen(rng, (2, 2), (1, 3))
        if i % 2:
            return frame_point(rng, dims)
        return random_point(rng, dims, denominator=int(rng.integers(1, 4)))

    part = decide_relation(
        ctx, DEPTH2, strategy=point_strategy(depths=(2, 2)), generate=gen,
        in_domain=lambda p: p.depth == 2 and p.data is None,
    )
    return _single(part, "")


def _row_col_formula(p: Point) -> Fraction:
    return sum(
        (_frob2(_a(p, l)) * _frob2(_bx(p, l)) for l in range(1, p.depth + 1)), Fraction(0)
    )


SCALAR_ENDS = Relation(
    "lambda_max(H)", "sum_l ||A_l||_2^2 ||B_l||_2^2",
    lambda_max_hessian, lambda p: AlgebraicFormula.of(_row_col_formula(p)), _lam_float,
    lambda p: float(_row_col_formula(p)),
)


def check_scalar_ends(ctx: CheckContext) -> ClaimOutcome:
    """MATH.md K6: for a row ``A_l`` and a column ``B_l`` the spectral norm is the Euclidean
    norm, so the right side is rational; ``lambda_max(H)`` is decided exactly (the top factor of
    ``charpoly(H)`` is linear iff it is rational)."""
    part = decide_relation(
        ctx, SCALAR_ENDS, strategy=point_strategy(depths=(1, 4), first=(1, 1), last=(1, 1)),
        generate=_minimizer_gen((1, 4), (1, 3), first=(1, 1), last=(1, 1)),
        in_domain=lambda p: p.dims[0] == 1 and p.dims[-1] == 1 and p.data is None,
    )
    return _single(part, "")


SUM_FORMULA = Relation(
    "lambda_max(H)", "sum_l ||A_l||_2^2 ||B_l||_2^2",
    lambda_max_hessian, sum_of_products, _lam_float, _sum_products_float,
)


def check_sum_formula(ctx: CheckContext) -> ClaimOutcome:
    """The general sum formula, decided separately for matrix ends and for exactly one scalar
    end (either ``d_0 = 1`` or ``d_L = 1``)."""
    matrix_ends = decide_relation(
        ctx, SUM_FORMULA,
        strategy=point_strategy(depths=(1, 4), first=(2, 3), last=(2, 3)),
        generate=_minimizer_gen((1, 4), (1, 3), first=(2, 3), last=(2, 3)),
        in_domain=lambda p: p.dims[0] >= 2 and p.dims[-1] >= 2,
        label="matrix ends (d_0, d_L >= 2)",
    )
    one_in = decide_relation(
        ctx, SUM_FORMULA,
        strategy=point_strategy(depths=(1, 4), first=(1, 1), last=(2, 3)),
        generate=_minimizer_gen((1, 4), (1, 3), first=(1, 1), last=(2, 3)),
        label="one scalar end, d_0 = 1", salt=1,
    )
    one_out = decide_relation(
        ctx, SUM_FORMULA,
        strategy=point_strategy(depths=(1, 4), first=(2, 3), last=(1, 1)),
        generate=_minimizer_gen((1, 4), (1, 3), first=(2, 3), last=(1, 1)),
        label="one scalar end, d_L = 1", salt=2,
    )
    detail = (
        "lambda_max(K) <= sum_l lambda_max(K_l) (K4) with equality iff the top eigenvectors "
        "v_l kron u_l of the terms K_l = B_l^T B_l kron A_l A_l^T can be chosen common; exact "
        "in depth2 and scalar-ends (see those claims)."
    )
    return combine_parts([matrix_ends, one_in, one_out], detail)


# ----------------------------------------------------------------------------- reduced spectrum


def _k_similar(point: Point) -> np.ndarray:
    """A rational matrix with the characteristic polynomial of MATH.md's
    ``K = (C^1/2 kron I) K_B (C^1/2 kron I)``, ``K_B = sum_l (B_l^T B_l) kron (A_l A_l^T)``:
    ``K_B (C kron I)`` (``charpoly(UV) = charpoly(VU)``). Built here from the factors,
    independently of ``numeric.reduced``; ``X = I`` gives ``K`` itself."""
    total: np.ndarray | None = None
    for l in range(1, point.depth + 1):
        b = np.asarray(right_factor(list(point.weights), l), dtype=object)
        a = _a(point, l)
        term = np.kron(np.asarray(b.T @ b, dtype=object), np.asarray(a @ a.T, dtype=object))
        total = term if total is None else total + term
    assert total is not None
    if point.data is None:
        return np.asarray(total, dtype=object)
    c = np.asarray(point.data @ point.data.T, dtype=object)
    eye = np.identity(point.dims[-1], dtype=int).astype(object)
    return np.asarray(total @ np.kron(c, eye), dtype=object)


def _zero_order(poly: Any) -> int:
    coeffs = poly.coeffs()
    return next(i for i, c in enumerate(coeffs) if c != 0)


def check_reduced_spectrum(ctx: CheckContext) -> ClaimOutcome:
    """MATH.md K2 exactly: ``x^n charpoly(H) = x^P charpoly(K_gram)`` over Q."""
    import flint

    rng = ctx.rng()
    gen = _minimizer_gen((1, 3), (1, 3), data=True)
    done = 0
    capped = False
    with_data = 0
    ranks: list[str] = []
    for i in range(ctx.cases):
        if ctx.time_up():
            capped = True
            break
        ctx.tick(i)
        point = gen(rng, i)
        if i % 4 == 2:  # a rank-deficient product: a zero column in W_1
            ws = [w.copy() for w in point.weights]
            ws[0][:, 0] = Fraction(0)
            point = parse_point(ws, data=point.data)
        h = exact_hessian(point)
        k = _k_similar(point)
        p, n = h.shape[0], k.shape[0]
        x = flint.fmpq_poly([0, 1])
        lhs = x**n * charpoly(h)
        rhs = x**p * charpoly(k)
        if lhs != rhs:
            cx = Counterexample(
                list(point.weights), f"charpoly(H) = {charpoly(h)}", f"charpoly(K) = {charpoly(k)}",
                "x^n charpoly(H) - x^P charpoly(K) is a nonzero polynomial",
                "x^n charpoly(H)", "x^P charpoly(K)", data=point.data,
                labels=point.labels, shrunk=False,
            )
            return ClaimOutcome("refuted", done + 1, "exact", "exact polynomial mismatch", None, cx)
        # K is symmetric, so rank K = n - (order of the root 0 of charpoly(K))
        zero_mult = p - (n - _zero_order(charpoly(k)))
        ranks.append(f"{point.dims}{'+X' if point.data is not None else ''}: P={p}, "
                     f"zero multiplicity {zero_mult}")
        with_data += point.data is not None
        done += 1
    detail = (
        f"x^n charpoly(H)(x) == x^P charpoly(K)(x) exactly (n = d_L d_0) on {done} minimizers "
        f"({with_data} with data X, including labels with R != 0 but R X^T = 0; every 4th case "
        "has a rank-deficient W_1). This proves equal nonzero spectra with multiplicity and "
        "zero multiplicity P - rank K. With data, charpoly(K) is computed exactly as "
        "charpoly(K_B (C kron I)), K_B = sum_l (B_l^T B_l) kron (A_l A_l^T), since "
        "K = (C^1/2 kron I) K_B (C^1/2 kron I) and charpoly(UV) = charpoly(VU). Cases: "
        + "; ".join(ranks[:6]) + ("; ..." if len(ranks) > 6 else "")
        + ("; time cap reached" if capped else "")
    )
    if done == 0:
        return ClaimOutcome("inconclusive", 0, "none", "time cap reached before any case")
    return ClaimOutcome("verified", done, "exact", detail, None, None, [], capped)


# ----------------------------------------------------------------------------- symbolic, dynamics


_GN_DIMS: tuple[tuple[tuple[int, ...], int | None], ...] = (
    ((1, 1, 1), None), ((1, 2, 1), 2), ((2, 1, 2), None), ((2, 2, 2), None),
    ((1, 1, 1, 1), 1), ((2, 2, 2), 2), ((1, 2, 2, 1), None), ((2, 2, 2, 2), None),
    ((2, 3, 2), 3), ((3, 2, 3), None),
)


def _symbolic_data(d0: int, n: int) -> np.ndarray:
    x = np.empty((d0, n), dtype=object)
    for i in range(d0):
        for j in range(n):
            x[i, j] = Fraction((i + 2) * (j + 1) + (i * j) % 3)
    return x


def check_gauss_newton(ctx: CheckContext) -> ClaimOutcome:
    """``H = J^T J`` at ``R X^T = 0``, proved symbolically (derivations.identities) for the
    listed dims, plus the all-sizes matrix-calculus proof when SymPy manages it."""
    from derivations import identities

    proved: list[str] = []
    failed: list[str] = []
    capped = False
    for i, (dims, n) in enumerate(_GN_DIMS[: ctx.cases]):
        if ctx.time_up():
            capped = True
            break
        ctx.tick(i)
        data = None if n is None else _symbolic_data(dims[0], n)
        res = identities.prove_gauss_newton(dims, data=data)
        tag = f"{dims}" + ("" if n is None else f" with X {dims[0]}x{n}")
        (proved if res.proved else failed).append(f"{tag} [{res.holds_for}; {res.seconds:.1f}s]")
    all_sizes = "not attempted"
    fn = getattr(identities, "prove_gauss_newton_all_sizes", None)
    if fn is not None and not ctx.time_up():
        r = fn()
        all_sizes = f"{'PROVED' if r.proved else 'not proved'}: {r.holds_for}; {r.detail}"
    detail = (
        f"proved symbolically for {len(proved)} dims: " + "; ".join(proved)
        + (f". NOT proved for: {'; '.join(failed)}" if failed else "")
        + f". All sizes (matrix calculus): {all_sizes}"
        + ("; time cap reached" if capped else "")
    )
    if failed:
        return ClaimOutcome("inconclusive", len(proved), "symbolic",
                            "a symbolic proof did not close: " + detail, None, None, [], capped)
    if not proved:
        return ClaimOutcome("inconclusive", 0, "none", "no dims proved: " + detail)
    return ClaimOutcome("proved", len(proved), "symbolic", detail, None, None, [], capped)


ESCAPE_FACTORS = (0.8, 1.25, 1.5)
ESCAPE_DPS = 60
ESCAPE_EPS = "1e-30"
ESCAPE_TOLERANCE = 0.10
ESCAPE_METHOD = (
    f"gradient descent in mpmath at {ESCAPE_DPS} digits from W* + eps D (eps = {ESCAPE_EPS}, D a "
    f"seeded random unit direction), eta = factor * 2 / lambda_max(W*) for factors "
    f"{', '.join(map(str, ESCAPE_FACTORS))}; lambda_max(W*) certified (numeric.sharpness, "
    "certify=True; numeric.dynamics.escape falls back to an uncertified value only if certification "
    "fails); escape steps measured, not certified"
)


def check_escape(ctx: CheckContext) -> ClaimOutcome:
    """The ``escape`` claim, decided as issue 5 defines it: verified when, over generated
    minimizers and factors on both sides of 1, the outcome matches the threshold and the escape
    steps match the prediction within 10% (``numeric.dynamics.escape.check_escape_claim``); refuted
    when a run contradicts it, inconclusive when a run is undecided. The evidence is measured,
    not proved: kind ``"approximate"`` (the report says ``certified: false``), see
    ``ESCAPE_METHOD``."""
    try:
        from numeric.dynamics.escape import check_escape_claim
    except ImportError:
        return ClaimOutcome("inconclusive", 0, "none", "numeric.dynamics.escape is not available")
    res = check_escape_claim(seed=ctx.seed, cases=ctx.cases, factors=ESCAPE_FACTORS,
                             dps=ESCAPE_DPS, eps=ESCAPE_EPS, tolerance=ESCAPE_TOLERANCE)
    methods = sorted({d["lambda_max_start_method"] for d in res.details
                      if d.get("lambda_max_start_method")})
    how = f"lambda_max(W*): {'; '.join(methods)}. " if methods else ""
    detail = (
        f"{res.summary}. Method: {ESCAPE_METHOD}. {how}Not certified: the trajectories are "
        "approximate (mpmath at fixed precision) and 'close to the predicted step' is a 10% "
        "tolerance."
    )
    if res.verdict == "verified":
        return ClaimOutcome("verified", res.cases, "approximate", detail)
    if res.verdict == "inconclusive":
        undecided = [_brief(d) for d in res.details if d["status"] == "inconclusive"][:2]
        return ClaimOutcome("inconclusive", res.cases, "approximate",
                            f"a run is undecided (step budget exhausted): {undecided}. {detail}")
    bad = [d for d in res.details if d["status"] == "contradicts"]
    cx = _escape_counterexample(bad[0])
    shown = [_brief(d) for d in bad[:2]]
    if cx is None:
        return ClaimOutcome(
            "inconclusive", res.cases, "approximate",
            f"check_escape_claim reports a contradiction ({shown}) but its minimizer could "
            f"not be reconstructed for the report. {detail}")
    return ClaimOutcome("refuted", res.cases, "approximate",
                        f"runs contradicting the claim: {shown}. {detail}", None, cx)


def _brief(run: dict[str, Any]) -> dict[str, Any]:
    """A run's details without the weights (the counterexample carries them)."""
    return {k: v for k, v in run.items() if k != "weights"}


def _escape_counterexample(run: dict[str, Any]) -> Counterexample | None:
    """The minimizer of a contradicting run, rebuilt exactly from the run's ``weights``
    (``numeric.dynamics.escape.check_escape_claim`` records them as ``"p/q"`` strings, with
    ``lambda_max_start_method``); ``None`` when they are missing or do not rebuild a
    minimizer of the run's dims."""
    if not run.get("weights"):
        return None
    point = parse_point(run["weights"])
    if list(point.dims) != list(run["dims"]) or not point.is_minimizer():
        return None
    how = run.get("lambda_max_start_method") or "method not recorded"
    steps = f"escape step {run['escape_step']} (outcome {run['outcome']})"
    if run["factor"] > 1:
        want = f"escape at about step {run['predicted_escape_step']:.1f} (within 10%)"
        gap = f"relative step error {run['relative_step_error']} (tolerance 10%)"
    else:
        want = "convergence within 10 eps of W*, no escape"
        gap = f"final distance / eps = {run['final_distance_over_eps']}"
    return Counterexample(
        list(point.weights), steps, want, f"{gap}; measured, not certified", "measured",
        "predicted", target=point.labels, shrunk=False,
        note=(f"factor {run['factor']}, eps {run['eps']}, lambda_max(W*) = "
              f"{run['lambda_max_start']} ({how}); {ESCAPE_METHOD}"),
    )
