"""A user's conjecture as a first-class claim: built from its text, decided by the registry's
engine, reported in the JSON shape of one claim of ``dmf-sharpness check --json``.

Public:
    conjecture(statement, *, over, depth, width, ends, if_, seed, budget, dps, cases,
               weight_decay) -> Conjecture      the claim object (nothing is decided yet)
    check(statement, **options) -> dict    its report (``Conjecture.report()``)
    assert_holds(statement, **options)     for pytest: ``AssertionError`` carrying the shrunk
                                           exact counterexample (or the inconclusive reason)
    Conjecture          ``outcome()`` (a ``ClaimOutcome``), ``report()`` (the JSON dict),
                        ``text_report()`` (the short human report)
    CASES, TIME_CAPS    the generated cases and the safety-net time caps per budget

How a conjecture is decided (docs/mathematics.md, "How a verdict is reached"): a statement of
polynomial identities over a small range of dims is ``proved`` by exact expansion
(``numeric.conjecture.symbolic``). Otherwise each relation
``lhs REL rhs`` of the statement (``REL`` in ``== <= < >= >``; relations joined by ``and`` are
decided one by one, as the parts of one claim) becomes a ``numeric.claims.engine.Relation``
whose sides are this package's interpreter, decided by ``decide_relation``: a seeded,
count-bounded Hypothesis search over the family for a float64 violation that the exact
comparison confirms, shrunk, hidden units removed, re-checked exactly (``refuted``: rational
weights, both sides exact or certified, the gap enclosure excluding 0); otherwise exact or
certified verification on generated cases (``verified``, never on fewer than ``MIN_CASES``).
With a hypothesis (``if_``) it becomes a ``numeric.claims.implications.Implication``: only
points where the hypothesis holds exactly count, and the report says how many did. A point
where a quantity is undefined (``K`` off minimizers, ``W[5]`` at depth 3, division by zero,
``sigma`` out of range) is counted in ``undefined``, never decided.

Weight decay (``weight_decay=lam``, exact, ``>= 0``; docs/mathematics.md K8): the statement is
about ``L_lam(W) = 1/2 ||W_L...W_1 X - Y||_F^2 + (lam/2) sum_l ||W_l||_F^2``: ``H`` is
``H_0 + lam I``, ``lambda_max``/``lambda_min``/``trace``/``rank`` are those of ``H_lam``,
``loss`` is ``L_lam`` and ``lam`` is the number itself (0 without a weight decay; ``lam = 0``
reproduces every verdict without one). The family ``regularized-minimizers`` needs ``lam > 0``:
given, every point uses it; not given, each point draws its own ``lam`` in ``(0, 1]`` and
carries it (``numeric.conjecture.decay``). Polynomial identities are proved with the
weight-decay term in the loss (``numeric.conjecture.symbolic``), never over that family.

Nothing is written in the working directory: the searches keep Hypothesis' storage (its
``.hypothesis`` folder) in a temporary directory that they remove
(``numeric.claims.runner.hypothesis_storage``), unless the user chose a place
(``HYPOTHESIS_STORAGE_DIRECTORY``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from derivations.algebraic import AlgebraicFormula, Comparison, compare_formulas
from derivations.errors import DmfError, PrecisionExhausted
from derivations.exact import Point
from numeric.claims.engine import (
    Relation,
    _digits,
    combine_parts,
    decide_relation,
    gap_text,
)
from numeric.claims.implications import Implication, Side, decide_implication
from numeric.claims.quantities import alg_text
from numeric.claims.runner import (
    BUDGETS,
    CheckContext,
    ClaimOutcome,
    ClaimReport,
    Part,
)
from numeric.conjecture.decay import point_lam
from numeric.conjecture.families import (
    FAMILIES,
    MAX_DEPTH,
    MAX_WIDTH,
    Family,
    Shape,
    parse_range,
)
from numeric.conjecture.interpreter import (
    ExactPoint,
    FloatPoint,
    Undefined,
    exact_value,
    float_value,
)
from numeric.conjecture.language import Rel, Statement, StatementError, parse_statement
from numeric.result import parse_weight_decay

__all__ = ["CASES", "MIN_CASES", "TIME_CAPS", "Conjecture", "assert_holds", "check",
           "conjecture"]

CASES = {"quick": 12, "default": 60, "thorough": 300}
TIME_CAPS = {"quick": 60.0, "default": 240.0, "thorough": 1200.0}
MIN_CASES = 3
CLAIM_ID = "conjecture"


def _holds(op: str, c: Comparison) -> bool:
    r = c.relation
    return {"==": r == "=", "<=": r in "<=", "<": r == "<", ">=": r in ">=", ">": r == ">"}[op]


def _float_fails(op: str, a: float, b: float) -> bool:
    """float64 says ``a op b`` may fail (a margin keeps near-equalities as candidates for
    strict relations and drops them for the others)."""
    if not (np.isfinite(a) and np.isfinite(b)):
        return False
    margin = 1e-7 * (1.0 + abs(a) + abs(b))
    return {"==": abs(a - b) > margin, "<=": a - b > margin, "<": a - b > -margin,
            ">=": b - a > margin, ">": b - a > -margin}[op]


class _ConjectureRelation(Relation):
    """A ``Relation`` whose search predicate is float64 steering CONFIRMED by the exact
    comparison (so shrinking keeps an exact counterexample), for ``== <= < >= >``."""

    def float_violated(self, point: Point) -> bool:
        if not _float_fails(self.rel, self.lhs_float(point), self.rhs_float(point)):
            return False
        try:
            return not self.holds(compare_formulas(self.lhs(point), self.rhs(point)))
        except (Undefined, PrecisionExhausted):
            return False

    def holds(self, c: Comparison) -> bool:
        return _holds(self.rel, c)


@dataclass
class _Evaluations:
    """Exact and float64 environments per point (kept alive with the point, keyed by id),
    and the tallies of undefined points among the generated cases."""

    exact: dict[int, tuple[Point, ExactPoint]] = field(default_factory=dict)
    floats: dict[int, tuple[Point, FloatPoint]] = field(default_factory=dict)
    undefined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    held: int = 0
    lam: Fraction = Fraction(0)

    def env(self, p: Point) -> ExactPoint:
        hit = self.exact.get(id(p))
        if hit is None or hit[0] is not p:
            if len(self.exact) > 1000:
                self.exact.clear()
            hit = (p, ExactPoint(p, point_lam(p, self.lam)))
            self.exact[id(p)] = hit
        return hit[1]

    def fenv(self, p: Point) -> FloatPoint:
        hit = self.floats.get(id(p))
        if hit is None or hit[0] is not p:
            if len(self.floats) > 64:
                self.floats.clear()
            hit = (p, FloatPoint(p, point_lam(p, self.lam)))
            self.floats[id(p)] = hit
        return hit[1]

    def value(self, node: Any, p: Point) -> AlgebraicFormula:
        env = self.env(p)
        return env.cached(("side", id(node)), lambda: _capture(lambda: exact_value(node, env)))()

    def fvalue(self, node: Any, p: Point) -> float:
        return float_value(node, self.fenv(p))

    def note_undefined(self, exc: Exception) -> None:
        self.undefined += 1
        reason = str(exc) or type(exc).__name__
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


def _capture(fn: Callable[[], AlgebraicFormula]) -> Callable[[], AlgebraicFormula]:
    """Evaluate once; replay the value or the ``Undefined`` on every later call."""
    try:
        v = fn()
    except (Undefined, PrecisionExhausted) as exc:
        err = exc if isinstance(exc, Undefined) else Undefined(str(exc))

        def fail() -> AlgebraicFormula:
            raise err

        return fail
    return lambda: v


@dataclass
class Conjecture:
    """A conjecture over a family of points; ``outcome()`` decides it (once)."""

    statement: Statement
    hypothesis: Statement | None
    family: Family
    shape: Shape
    seed: int = 0
    budget: str = "default"
    dps: int = 30
    cases: int | None = None
    weight_decay: Fraction | None = None
    _outcome: ClaimOutcome | None = field(default=None, repr=False)
    _seconds: float = field(default=0.0, repr=False)
    _evals: _Evaluations = field(default_factory=_Evaluations, repr=False)
    _exact_sides: tuple[str, str] | None = field(default=None, repr=False)
    _cx_lam: dict[int, tuple[Any, Fraction]] = field(default_factory=dict, repr=False)
    error: str | None = field(default=None, repr=False)

    # --- the claim ---------------------------------------------------------------------
    def __post_init__(self) -> None:
        self._evals.lam = self.weight_decay or Fraction(0)

    @property
    def text(self) -> str:
        return self.statement.text.strip()

    @property
    def decays(self) -> bool:
        """A weight decay is in effect (``lam != 0`` given, or points that carry one)."""
        return bool(self.weight_decay) or self.family.regularized

    def _strategy(self) -> Any:
        return self.family.strategy(self.shape, self.weight_decay)

    def _member(self) -> Callable[[Point], bool]:
        return self.family.member(self.shape, self.weight_decay)

    def _context(self) -> CheckContext:
        b = dataclasses.replace(BUDGETS[self.budget], dps=self.dps)
        n = CASES[self.budget] if self.cases is None else self.cases
        return CheckContext(CLAIM_ID, b, self.seed, n, TIME_CAPS[self.budget])

    def _relation(self, rel: Rel) -> _ConjectureRelation:
        ev, src = self._evals, self.statement.text
        return _ConjectureRelation(
            src[rel.left.col:rel.left.end].strip(), src[rel.right.col:rel.right.end].strip(),
            lambda p: ev.value(rel.left, p), lambda p: ev.value(rel.right, p),
            lambda p: ev.fvalue(rel.left, p), lambda p: ev.fvalue(rel.right, p), rel.op,
        )

    def outcome(self) -> ClaimOutcome:
        """Decide the conjecture (once; later calls return the same outcome)."""
        if self._outcome is None:
            t0 = time.perf_counter()
            try:
                out = self._decide_implication() if self.hypothesis else (
                    self._decide_relations())
            except Exception as exc:  # an engine bug must give a verdict, not a traceback
                self.error = f"{type(exc).__name__}: {exc}"
                out = ClaimOutcome("inconclusive", 0, "none",
                                   f"internal error while deciding: {self.error}")
            self._seconds = time.perf_counter() - t0
            self._outcome = out
        return self._outcome

    def _generator(self, check: Callable[[Point], None]
                   ) -> Callable[[np.random.Generator, int], Point | None]:
        gen = self.family.generator(self.shape, self.weight_decay)
        member = self._member()
        ev = self._evals

        def generate(rng: np.random.Generator, i: int) -> Point | None:
            p = gen(rng, i)
            if not member(p):
                return None
            try:
                check(p)
            except (Undefined, PrecisionExhausted) as exc:
                ev.note_undefined(exc)
                return None
            return p

        return generate

    def _decide_relations(self) -> ClaimOutcome:
        from numeric.conjecture.symbolic import try_prove

        proof = try_prove(self.statement, self.family, self.shape, self._evals.lam)
        if proof is not None and proof.proved:
            n = len(proof.dims) * max(1, len(proof.samples))
            return ClaimOutcome("proved", n, "symbolic",
                                f"{self._domain_line()}\n{proof.text()}")
        ctx = self._context()
        member = self._member()
        parts = []
        ev = self._evals
        for k, rel in enumerate(self.statement.relations):
            r = self._relation(rel)

            def defined(p: Point, rel: Rel = rel) -> None:
                ev.value(rel.left, p)
                ev.value(rel.right, p)

            part = decide_relation(
                ctx, r, strategy=self._strategy(),
                generate=self._generator(defined), in_domain=member,
                label=rel.text, salt=k,
            )
            self._note_lam(part)
            parts.append(_at_least(part, "cases"))
        line = self._domain_line()
        if proof is not None and proof.failed_at is not None:
            line += (f"\nnot a polynomial identity: lhs - rhs does not expand to 0 at dims "
                     f"{proof.failed_at}")
        return combine_parts(parts, line)

    # --- implications --------------------------------------------------------------------
    def _side(self, stmt: Statement, p: Point, *, hypothesis: bool) -> Side:
        texts = []
        last = None
        for rel in stmt.relations:
            try:
                a, b = self._evals.value(rel.left, p), self._evals.value(rel.right, p)
                c = compare_formulas(a, b)
            except (Undefined, PrecisionExhausted) as exc:
                # undefined: the hypothesis does not hold there, the conclusion is not refuted
                return Side(not hypothesis, f"{rel.text}: undefined ({exc})")
            shown = f"{rel.text} ({alg_text(a, 16)} {c.relation} {alg_text(b, 16)})"
            if not _holds(rel.op, c):
                return Side(False, f"{shown} fails", a, b, c)
            texts.append(shown)
            last = (a, b, c)
        if last is None:  # pragma: no cover - a statement has at least one relation
            return Side(True, "")
        return Side(True, "; ".join(texts), *last)

    def _float_holds(self, stmt: Statement, p: Point) -> bool:
        for rel in stmt.relations:
            a, b = self._evals.fvalue(rel.left, p), self._evals.fvalue(rel.right, p)
            if not np.isfinite(a) or not np.isfinite(b):
                return False
            margin = 1e-7 * (1.0 + abs(a) + abs(b))
            ok = {"==": abs(a - b) <= margin, "<=": a - b <= margin, "<": a - b < margin,
                  ">=": b - a <= margin, ">": b - a < margin}[rel.op]
            if not ok:
                return False
        return True

    def _decide_implication(self) -> ClaimOutcome:
        hyp, concl = self.hypothesis, self.statement
        assert hyp is not None
        ctx = self._context()
        ev = self._evals
        sides: dict[tuple[int, bool], tuple[Point, Side]] = {}

        def side(p: Point, is_hyp: bool) -> Side:
            key = (id(p), is_hyp)
            hit = sides.get(key)
            if hit is None or hit[0] is not p:
                if len(sides) > 4000:
                    sides.clear()
                hit = (p, self._side(hyp if is_hyp else concl, p, hypothesis=is_hyp))
                sides[key] = hit
            return hit[1]

        def concl_fails(p: Point) -> bool:
            if not any(_float_fails(r.op, ev.fvalue(r.left, p), ev.fvalue(r.right, p))
                       for r in concl.relations):
                return False
            return side(p, True).holds and not side(p, False).holds

        def check(p: Point) -> None:
            for rel in hyp.relations:
                ev.value(rel.left, p)
                ev.value(rel.right, p)
            if side(p, True).holds:
                for rel in concl.relations:
                    ev.value(rel.left, p)
                    ev.value(rel.right, p)
                ev.held += 1

        imp = Implication(
            hyp.text.strip(), concl.text.strip(), lambda p: side(p, True),
            lambda p: side(p, False), lambda p: self._float_holds(hyp, p), concl_fails,
        )
        part = decide_implication(
            ctx, imp, strategy=self._strategy(),
            generate=self._generator(check), label=f"{imp.hyp_name} => {imp.concl_name}",
            search_filter=self._member(),
        )
        if part.counterexample is not None:
            self._name_counterexample(part)
        self._note_lam(part)
        return combine_parts([_at_least(part, "points satisfying the hypothesis")],
                             self._domain_line())

    def _name_counterexample(self, part: Part) -> None:
        """``decide_implication`` writes generic side names: put the failing relation's sides
        (and the point's data, if any) in."""
        cx = part.counterexample
        assert cx is not None
        for p, _ in self._evals.exact.values():
            if len(p.weights) == len(cx.weights) and all(
                    np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
                    for a, b in zip(p.weights, cx.weights, strict=True)) and np.array_equal(
                    p.labels, np.asarray(cx.target, dtype=object)):
                for rel in self.statement.relations:
                    s = self._side(Statement((rel,), self.statement.text), p, hypothesis=False)
                    if not s.holds:
                        src = self.statement.text
                        cx.lhs_name = src[rel.left.col:rel.left.end].strip()
                        cx.rhs_name = src[rel.right.col:rel.right.end].strip()
                        c = s.cmp
                        if c is not None:
                            cx.gap = (f"{gap_text(cx.lhs_name, cx.rhs_name)} in {c.gap} "
                                      f"({c.proof})")
                            if c.dps is not None and s.lhs is not None and s.rhs is not None:
                                part.digits = min(_digits(s.lhs, c.dps), _digits(s.rhs, c.dps))
                        break
                if p.data is not None:
                    cx.data, cx.labels, cx.target = p.data, p.labels, None
                return

    def _domain_line(self) -> str:
        return f"over {self.family.name}: {self.family.description}; {self.shape.text()}" + (
            f"; {self.lam_text()}" if self.decays else "")

    def lam_text(self) -> str:
        """The weight decay in words."""
        if self.weight_decay is None:
            return "weight decay lam drawn per point (0 < lam <= 1, carried by the point)"
        return f"weight decay lam = {self.weight_decay}"

    def _found(self, weights: Any, labels: Any) -> Point | None:
        """The evaluated point with these weights and labels (it carries its ``lam``)."""
        for p, _ in self._evals.exact.values():
            if len(p.weights) == len(weights) and all(
                    np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
                    for a, b in zip(p.weights, weights, strict=True)) and np.array_equal(
                    p.labels, np.asarray(labels, dtype=object)):
                return p
        return None

    def _note_lam(self, part: Part) -> None:
        """Record the ``lam`` of a part's counterexample while its point is still cached."""
        cx = part.counterexample
        if cx is not None:
            p = self._found(cx.weights, cx.labels if cx.data is not None else cx.target)
            self._cx_lam[id(cx)] = (cx, point_lam(p, self._evals.lam) if p is not None
                                    else self._evals.lam)

    def counterexample_lam(self) -> Fraction | None:
        """The weight decay at the counterexample (``None`` without one)."""
        cx = self.outcome().counterexample
        if cx is None:
            return None
        hit = self._cx_lam.get(id(cx))
        if hit is not None and hit[0] is cx:
            return hit[1]
        p = self._found(cx.weights, cx.labels if cx.data is not None else cx.target)
        return point_lam(p, self._evals.lam) if p is not None else self._evals.lam

    # --- reports -----------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        """The JSON of one claim of ``dmf-sharpness check --json``, plus ``undefined``
        (generated points where a quantity was undefined, with the reasons), ``hypothesis``
        and ``hypothesis_held`` (implications), ``over``, ``shape``, ``seed``, ``budget``,
        ``dps``, ``weight_decay`` (the given ``lam`` as text, ``None`` when not given; a
        counterexample also carries its ``lam``)."""
        o = self.outcome()
        statement = self.text if not self.hypothesis else (
            f"if {self.hypothesis.text.strip()} then {self.text}")
        method = ("Hypothesis search (float64 steering confirmed exactly), shrinking, hidden-unit "
                  "removal, exact re-check; otherwise exact/certified verification on generated "
                  "cases (numeric.claims.engine / numeric.claims.implications)")
        rep = ClaimReport(CLAIM_ID, statement, "user conjecture", self._domain_line(), method,
                          o, self._seconds).to_json()
        ev = self._evals
        rep.update({
            "undefined": ev.undefined,
            "undefined_reasons": [f"{n} x {r}" for r, n in sorted(
                ev.reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:5]],
            "hypothesis": None if self.hypothesis is None else self.hypothesis.text.strip(),
            "hypothesis_held": None if self.hypothesis is None else _held(o, ev),
            "over": self.family.name,
            "shape": {"depth": list(self.shape.depth), "width": list(self.shape.width),
                      "ends": self.shape.ends},
            "seed": self.seed, "budget": self.budget, "dps": self.dps, "error": self.error,
            "weight_decay": None if self.weight_decay is None else str(self.weight_decay),
        })
        if rep["counterexample"] is not None:
            lam = self.counterexample_lam()
            rep["counterexample"]["lam"] = None if lam is None else str(lam)
            exact = self.exact_sides()
            rep["counterexample"]["lhs_exact"] = exact[0] if exact else None
            rep["counterexample"]["rhs_exact"] = exact[1] if exact else None
        return rep

    def exact_sides(self) -> tuple[str, str] | None:
        """The two sides of the failing relation at the counterexample as exact algebraic
        numbers (minimal polynomial and isolating interval), or ``None`` when too large."""
        cx = self.outcome().counterexample
        if cx is None:
            return None
        if self._exact_sides is None:
            self._exact_sides = ("", "")
            ws = [np.asarray(w, dtype=object) for w in cx.weights]
            p = (Point(tuple(ws), np.asarray(cx.labels, dtype=object),
                       np.asarray(cx.data, dtype=object)) if cx.data is not None
                 else Point(tuple(ws), np.asarray(cx.target, dtype=object)))
            env = ExactPoint(p, self.counterexample_lam() or Fraction(0))
            for rel in self.statement.relations:
                try:
                    a, b = exact_value(rel.left, env), exact_value(rel.right, env)
                    if _holds(rel.op, compare_formulas(a, b)):
                        continue
                    self._exact_sides = (str(a.value()), str(b.value()))
                except (Undefined, DmfError):
                    pass
                break
        return self._exact_sides if self._exact_sides != ("", "") else None

    def text_report(self) -> str:
        """The short human report printed by ``dmf-sharpness conjecture``."""
        rep = self.report()
        o = self.outcome()
        lines = [f"conjecture: {rep['statement']}",
                 f"over:       {self.family.name}: {self.family.description}; "
                 f"{self.shape.text()}" + (f"; {self.lam_text()}" if self.decays else "")]
        digits = "" if rep["digits"] is None else f", {rep['digits']} certified digits"
        unit = "dims" if rep["verdict"] == "proved" else "case"
        cases = f"{rep['cases']} {unit}" + ("" if rep["cases"] == 1 or unit == "dims" else "s")
        lines.append(f"verdict:    {rep['verdict'].upper()} ({cases}, evidence "
                     f"{rep['evidence']}{digits}; {rep['seconds']:.1f}s)")
        if self.hypothesis is not None:
            held = rep["hypothesis_held"]
            lines.append(f"hypothesis held exactly on {held} point{'' if held == 1 else 's'}")
        if rep["undefined"]:
            lines.append(f"undefined:  {rep['undefined']} generated points ("
                         + "; ".join(rep["undefined_reasons"]) + ")")
        cx = o.counterexample
        if cx is not None:
            lines.append("counterexample (exact" + (", shrunk" if cx.shrunk else "") + "):")
            lines.append(f"  dims = {tuple(cx.dims)}")
            from numeric.claims.runner import _matrix_text

            for l, w in enumerate(cx.weights, start=1):
                lines.append(f"  W[{l}] = {_matrix_text(w)}")
            if cx.data is not None:
                lines.append(f"  X = {_matrix_text(cx.data)}")
                lines.append(f"  Y = {_matrix_text(cx.labels)}")
            elif cx.target is not None:
                lines.append(f"  M = {_matrix_text(cx.target)}")
            if self.decays:
                lines.append(f"  weight decay lam = {self.counterexample_lam()}")
            lines.append(f"  {cx.lhs_name} = {cx.lhs}")
            lines.append(f"  {cx.rhs_name} = {cx.rhs}")
            exact = self.exact_sides()
            if exact is not None and (exact[0] != cx.lhs or exact[1] != cx.rhs):
                lines.append(f"  exactly: {cx.lhs_name} = {exact[0]}")
                lines.append(f"           {cx.rhs_name} = {exact[1]}")
            lines.append(f"  gap: {cx.gap}")
            if cx.note:
                lines.append(f"  note: {cx.note}")
        elif o.parts:
            for part in o.parts:
                lines.append(f"  [{part.label}] {part.verdict} ({part.cases} cases, evidence "
                             f"{part.evidence})")
        else:
            lines.append("detail:     " + o.detail.strip().splitlines()[-1])
        if o.time_capped:
            lines.append("note: a time cap (safety net) was reached; the result may depend on "
                         "the machine's load")
        return "\n".join(lines)


def _held(o: ClaimOutcome, ev: _Evaluations) -> int:
    """Points where the hypothesis held exactly: the generated ones, or (refuted by the
    search) the counterexample."""
    return max(ev.held, o.cases)


def _at_least(part: Part, what: str) -> Part:
    """Never verified on fewer than ``MIN_CASES`` decided cases."""
    if part.verdict == "verified" and part.cases < MIN_CASES:
        return dataclasses.replace(
            part, verdict="inconclusive", evidence="none", digits=None,
            detail=f"only {part.cases} {what} (fewer than {MIN_CASES}); {part.detail}")
    return part


# ----------------------------------------------------------------------------- public API


def conjecture(
    statement: str,
    *,
    over: str = "minimizers",
    depth: Any = "1..3",
    width: Any = "1..3",
    ends: str = "any",
    if_: str | None = None,
    hypothesis: str | None = None,
    seed: int = 0,
    budget: str = "default",
    dps: int = 30,
    cases: int | None = None,
    weight_decay: Any = None,
) -> Conjecture:
    """The claim "``statement`` holds at every point of ``over``" (or, with ``if_`` /
    ``hypothesis``, "at every such point where the hypothesis holds"). Nothing is decided until
    ``outcome()``/``report()``. Bad input raises a ``DmfError`` (``StatementError`` with a
    caret line for the statements). ``weight_decay``: ``lam >= 0`` read exactly
    (``numeric.result.parse_weight_decay``; module docstring), ``None`` for none (``lam`` is 0,
    or drawn per point over ``regularized-minimizers``).

    >>> c = conjecture("trace >= 0", depth="1..2", width="1..2", budget="quick")
    >>> c.report()["verdict"], c.report()["cases"]
    ('verified', 12)
    """
    if if_ is not None and hypothesis is not None:
        raise DmfError("give the hypothesis once: if_=... or hypothesis=..., not both")
    hyp_text = if_ if if_ is not None else hypothesis
    if over not in FAMILIES:
        raise DmfError(f"unknown family {over!r}; expected one of {', '.join(FAMILIES)}")
    if budget not in BUDGETS:
        raise DmfError(f"unknown budget {budget!r}; expected one of {', '.join(BUDGETS)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DmfError(f"seed must be an integer >= 0; got {seed!r}")
    if isinstance(dps, bool) or not isinstance(dps, int) or not 10 <= dps <= 1000:
        raise DmfError(f"dps must be an integer in 10..1000; got {dps!r}")
    if cases is not None and (isinstance(cases, bool) or not isinstance(cases, int)
                              or not 1 <= cases <= 10000):
        raise DmfError(f"cases must be an integer in 1..10000; got {cases!r}")
    shape = Shape(parse_range(depth, "depth", lo=1, hi=MAX_DEPTH),
                  parse_range(width, "width", lo=1, hi=MAX_WIDTH), ends)
    lam = None if weight_decay is None else parse_weight_decay(weight_decay)
    if lam == 0 and FAMILIES[over].regularized:
        raise DmfError(f"--over {over} needs a weight decay lam > 0 (or none: each point then "
                       "draws its own); got 0")
    stmt = parse_statement(statement)
    try:
        hyp = None if hyp_text is None else parse_statement(hyp_text)
    except StatementError as exc:
        raise StatementError(f"in the hypothesis: {exc.message}", exc.text, exc.col,
                             exc.width) from None
    return Conjecture(stmt, hyp, FAMILIES[over], shape, seed, budget, dps, cases, lam)


def check(statement: str, **options: Any) -> dict[str, Any]:
    """``conjecture(statement, **options).report()``: the verdict and its evidence as the JSON
    of one claim of ``dmf-sharpness check --json`` (with ``undefined``, ``hypothesis_held``)."""
    return conjecture(statement, **options).report()


def assert_holds(statement: str, **options: Any) -> dict[str, Any]:
    """For pytest: decide the conjecture and raise ``AssertionError`` unless it is verified
    or proved;
    a refutation's message carries the shrunk exact counterexample (rational weights, both
    sides, the gap). Returns the report when verified."""
    c = conjecture(statement, **options)
    rep = c.report()
    if rep["verdict"] not in ("verified", "proved"):
        raise AssertionError(c.text_report())
    return rep
