"""The decision engine for relations ``lhs (=|<=|>=) rhs`` between two exact sides.

Public:
    Relation                a claimed relation between two exact sides of a point
    decide_relation         search (Hypothesis, float64 with a margin) -> shrink -> remove hidden
                            units -> exact re-check; otherwise exact verification on generated
                            cases
    run_search, SearchOutcome   the seeded, count-bounded Hypothesis search both engines use
    reduce_hidden_units     drop hidden units while a counterexample stays one
    combine_parts           one claim outcome from the outcomes of its parts

Evidence discipline: a search predicate may use float64 (with a margin); every verdict's evidence
is exact (rationals, algebraic numbers with their minimal polynomials) or certified (disjoint
rigorous enclosures), all from ``derivations.algebraic``: sides are ``AlgebraicFormula`` values
compared by ``compare_formulas`` (enclosures first, exact values when they overlap). A strict
relation proved by disjoint enclosures is labelled "certified", with the enclosures' digits; an
equality (or a comparison of rationals) is "exact". Implications ``hypothesis => conclusion``
are decided by ``numeric.claims.implications``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import HealthCheck, find, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, NoSuchExample, Unsatisfiable

from derivations.algebraic import (
    AlgebraicFormula,
    Comparison,
    compare_formulas,
)
from derivations.errors import PrecisionExhausted
from derivations.exact import Point, parse_point
from numeric.claims.quantities import alg_text
from numeric.claims.runner import (
    CheckContext,
    ClaimOutcome,
    Counterexample,
    Part,
    hypothesis_storage,
)

__all__ = [
    "Relation",
    "SearchOutcome",
    "combine_parts",
    "decide_relation",
    "reduce_hidden_units",
    "run_search",
]


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
    ``random.Random(ctx.search_seed(salt))``, without the example database (Hypothesis' other
    storage in a temporary directory: ``runner.hypothesis_storage``), and the shrinking
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
        with hypothesis_storage():  # its caches: never in the working directory
            found = find(strategy, pred, settings=conf,
                         random=random.Random(ctx.search_seed(salt)))
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


def gap_text(lhs_name: str, rhs_name: str) -> str:
    """``lhs - rhs`` with ``rhs`` in parentheses when it is a sum or difference, so the text
    means what was computed: ``gap_text("a", "b - c") == "a - (b - c)"``."""
    depth, top_level_sum = 0, False
    for i, ch in enumerate(rhs_name):
        depth += (ch in "([") - (ch in ")]")
        if depth == 0 and ch in "+-" and (i == 0 or rhs_name[i - 1] == " "):
            top_level_sum = True
    return f"{lhs_name} - ({rhs_name})" if top_level_sum else f"{lhs_name} - {rhs_name}"


def _counterexample(point: Point, rel: Relation, c: Comparison, dps: int, *, shrunk: bool,
                    lhs: AlgebraicFormula, rhs: AlgebraicFormula, note: str = "",
                    ) -> Counterexample:
    return Counterexample(
        weights=list(point.weights),
        lhs=alg_text(lhs, dps),
        rhs=alg_text(rhs, dps),
        gap=f"{gap_text(rel.lhs_name, rel.rhs_name)} in {c.gap} ({c.proof})",
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
