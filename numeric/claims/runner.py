"""Running the claims registry: budgets, per-claim context, outcomes, the table and the JSON.

Public:
    VERDICTS            ``("proved", "verified", "refuted", "inconclusive")``
    EVIDENCE_KINDS      how a verdict's numbers were obtained (``symbolic``, ``exact``,
                        ``certified``, ``exact+certified``, ``approximate``, ``none``)
    BUDGETS             ``quick`` (CI, < 2 min in total), ``default`` (< 10 min), ``thorough``
    Counterexample      a point written out exactly, with both sides and their gap
    Part                a labelled sub-decision of a claim (a direction, a setting, a formula)
    ClaimOutcome        what a checker returns
    ClaimReport         a claim plus its outcome and timing (``to_json``)
    CheckReport         the whole run (``to_json``, ``table``)
    CheckContext        what a checker receives: seed, budget, case count, time cap, RNG, ticks
    run_claims          run selected claims under a budget
    format_table        the human-readable table
    fraction_str        an exact rational as ``p/q``
    versions            versions of the libraries that produced the evidence

Verdicts (docs/mathematics.md, How a verdict is reached): ``proved`` -- a symbolic identity for the listed dims; ``verified`` -- held
on N generated cases, each exactly or with certified intervals; ``refuted`` -- a counterexample
found by Hypothesis, shrunk, then re-checked exactly; ``inconclusive`` -- with the reason.
A claim whose own definition of the verdict is a measurement (``escape``: outcomes
and escape steps within 10% of the prediction) is verified or refuted on ``approximate``
evidence; such a verdict is reported with ``certified: false``.
A checker that crashes is reported ``inconclusive`` with the error, and ``run_claims`` records
it in ``CheckReport.errors`` (the command then exits non-zero).
"""

from __future__ import annotations

import platform
import time
import traceback
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from derivations.errors import DmfError

__all__ = [
    "BUDGETS",
    "EVIDENCE_KINDS",
    "VERDICTS",
    "Budget",
    "CheckContext",
    "CheckReport",
    "ClaimOutcome",
    "ClaimReport",
    "Counterexample",
    "Part",
    "format_table",
    "fraction_str",
    "run_claims",
    "versions",
]

VERDICTS = ("proved", "verified", "refuted", "inconclusive")
EVIDENCE_KINDS = ("symbolic", "exact", "certified", "exact+certified", "approximate", "none")
UNCERTIFIED = ("approximate", "none")


@dataclass(frozen=True)
class Budget:
    """A run budget. Per-claim case counts and time caps come from the registry (keyed by
    ``name``). ``search_examples`` is the Hypothesis example budget of a counterexample search
    and ``shrink_calls`` the number of predicate calls its shrinking may make after the first
    hit: COUNTS, so a search gives the same result for the same seed whatever the machine's
    load. ``dps`` is the digits certified enclosures aim for. ``search_seconds`` is only a
    safety net: a search (with its shrinking) that runs longer is cut, and the claim then
    reports ``time_capped: true`` (its result may depend on load)."""

    name: str
    search_examples: int
    dps: int
    search_seconds: float
    shrink_calls: int = 300


BUDGETS: dict[str, Budget] = {
    "quick": Budget("quick", search_examples=120, dps=30, search_seconds=60.0, shrink_calls=300),
    "default": Budget("default", search_examples=800, dps=50, search_seconds=240.0,
                      shrink_calls=1200),
    "thorough": Budget("thorough", search_examples=3000, dps=80, search_seconds=900.0,
                       shrink_calls=5000),
}


def fraction_str(x: Any) -> str:
    """An exact rational as ``"p/q"`` (``"p"`` for an integer).

    >>> fraction_str(Fraction(3, 4)), fraction_str(Fraction(2))
    ('3/4', '2')
    """
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def _matrix_json(m: Any) -> list[list[str]]:
    return [[fraction_str(Fraction(x)) for x in row] for row in np.asarray(m, dtype=object)]


def _matrix_text(m: Any) -> str:
    rows = ["[" + ", ".join(fraction_str(Fraction(x)) for x in row) + "]" for row in m]
    return "[" + ", ".join(rows) + "]"


@dataclass
class Counterexample:
    """A counterexample written out exactly: rational weights (``W_1`` first), the target or
    data/labels, the two sides of the claimed relation (exact values or certified intervals,
    as strings) and the gap ``lhs - rhs`` as an enclosure that excludes 0."""

    weights: Sequence[Any]
    lhs: str
    rhs: str
    gap: str
    lhs_name: str = "lhs"
    rhs_name: str = "rhs"
    target: Any = None
    data: Any = None
    labels: Any = None
    shrunk: bool = True
    note: str = ""

    @property
    def dims(self) -> list[int]:
        ws = [np.asarray(w, dtype=object) for w in self.weights]
        return [int(ws[0].shape[1]), *(int(w.shape[0]) for w in ws)]

    def summary(self) -> str:
        ws = ", ".join(f"W_{l}={_matrix_text(w)}" for l, w in enumerate(self.weights, start=1))
        extra = ""
        if self.data is not None:
            extra = f", X={_matrix_text(self.data)}"
        return (
            f"dims={tuple(self.dims)}: {ws}{extra}; {self.lhs_name}={self.lhs}, "
            f"{self.rhs_name}={self.rhs}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "weights": [_matrix_json(w) for w in self.weights],
            "lhs": self.lhs,
            "rhs": self.rhs,
            "lhs_name": self.lhs_name,
            "rhs_name": self.rhs_name,
            "gap": self.gap,
            "dims": self.dims,
            "target": None if self.target is None else _matrix_json(self.target),
            "data": None if self.data is None else _matrix_json(self.data),
            "labels": None if self.labels is None else _matrix_json(self.labels),
            "shrunk": self.shrunk,
            "note": self.note,
        }


@dataclass
class Part:
    """A labelled sub-decision (e.g. one direction of an "iff", one setting).
    ``time_capped``: a wall-clock safety net cut its search, shrinking or cases short (the
    result may then depend on the machine's load)."""

    label: str
    verdict: str
    cases: int
    detail: str
    evidence: str = "exact"
    counterexample: Counterexample | None = None
    digits: int | None = None
    time_capped: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "verdict": self.verdict,
            "cases": self.cases,
            "evidence": self.evidence,
            "digits": self.digits,
            "time_capped": self.time_capped,
            "detail": self.detail,
            "counterexample": None if self.counterexample is None else self.counterexample.to_json(),
        }


@dataclass
class ClaimOutcome:
    """What a checker returns. ``digits``: the fewest certified digits over the cases when the
    evidence is (partly) certified, ``None`` when it is exact or symbolic."""

    verdict: str
    cases: int
    evidence: str
    detail: str
    digits: int | None = None
    counterexample: Counterexample | None = None
    parts: list[Part] = field(default_factory=list)
    time_capped: bool = False

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise DmfError(f"unknown verdict {self.verdict!r}; expected one of {VERDICTS}")
        if self.evidence not in EVIDENCE_KINDS:
            raise DmfError(f"unknown evidence kind {self.evidence!r}; expected {EVIDENCE_KINDS}")
        if self.verdict == "refuted" and self.counterexample is None:
            raise DmfError("a refuted verdict needs a counterexample")


@dataclass
class CheckContext:
    """What a checker receives. ``rng(salt)`` is a NumPy generator seeded from the run seed,
    the claim id and ``salt`` (reproducible, no global state); ``time_up()`` says the claim's
    time cap has passed (checkers stop between cases and report what they completed, with
    ``time_capped``). The caps are safety nets: case counts and search/shrink budgets, not
    time, decide what a run does, so the same seed gives the same report unless a cap
    triggers (then the report says so, and the result may depend on load)."""

    claim_id: str
    budget: Budget
    seed: int
    cases: int
    time_cap: float
    started: float = field(default_factory=time.perf_counter)
    tick: Callable[[int], None] = lambda n: None

    @property
    def dps(self) -> int:
        return self.budget.dps

    @property
    def search_examples(self) -> int:
        return self.budget.search_examples

    def rng(self, salt: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(self.claim_id.encode()), salt])

    def search_seed(self, salt: int = 0) -> int:
        return int(self.rng(1000 + salt).integers(2**31))

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def time_up(self) -> bool:
        return self.elapsed() > self.time_cap


@dataclass
class ClaimReport:
    """A claim with its outcome."""

    id: str
    statement: str
    source: str
    domain: str
    method: str
    outcome: ClaimOutcome
    seconds: float
    corrects: str | None = None

    @property
    def certified(self) -> bool:
        """Whether the verdict rests on proof: exact, symbolic or certified evidence (an
        ``approximate`` verdict, measured numerically, is not certified)."""
        return self.outcome.verdict != "inconclusive" and self.outcome.evidence not in UNCERTIFIED

    def to_json(self) -> dict[str, Any]:
        o = self.outcome
        return {
            "id": self.id,
            "statement": self.statement,
            "verdict": o.verdict,
            "cases": o.cases,
            "digits": o.digits,
            "certified": self.certified,
            "evidence": o.evidence,
            "counterexample": None if o.counterexample is None else o.counterexample.to_json(),
            "source": self.source,
            "domain": self.domain,
            "method": self.method,
            "corrects": self.corrects,
            "seconds": round(self.seconds, 3),
            "time_capped": o.time_capped,
            "detail": o.detail,
            "parts": [p.to_json() for p in o.parts],
        }


@dataclass
class CheckReport:
    claims: list[ClaimReport]
    seed: int
    budget: str
    seconds: float
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "claims": [c.to_json() for c in self.claims],
            "seed": self.seed,
            "budget": self.budget,
            "seconds": round(self.seconds, 3),
            "errors": self.errors,
            "versions": versions(),
        }

    def table(self) -> str:
        return format_table(self)


def versions() -> dict[str, str]:
    """Versions of Python and of every library that produces evidence."""
    import hypothesis
    import mpmath
    import sympy

    from numeric import __version__

    try:
        import flint

        flint_version = str(flint.__version__)
    except ImportError:  # pragma: no cover - python-flint is a hard dependency
        flint_version = "missing"
    return {
        "dmf-sharpness": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sympy": sympy.__version__,
        "mpmath": mpmath.__version__,
        "python-flint": flint_version,
        "hypothesis": hypothesis.__version__,
    }


def _run_one(claim: Any, budget: Budget, seed: int, tick: Callable[[int], None]) -> tuple[
    ClaimOutcome, str | None
]:
    ctx = CheckContext(
        claim_id=claim.id, budget=budget, seed=seed, cases=claim.cases[budget.name],
        time_cap=claim.time_cap[budget.name], tick=tick,
    )
    try:
        return claim.resolve_checker()(ctx), None
    except ImportError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        return ClaimOutcome(
            "inconclusive", 0, "none", f"a module this checker needs is not available: {missing}"
        ), None
    except Exception as exc:  # a checker bug must not hide the other claims' results
        tb = traceback.format_exc(limit=3)
        msg = f"{claim.id}: {type(exc).__name__}: {exc}"
        return ClaimOutcome(
            "inconclusive", 0, "none", f"internal error in the checker: {msg}\n{tb}"
        ), msg


def run_claims(
    ids: Sequence[str] | None = None,
    *,
    budget: str = "default",
    seed: int = 0,
    progress: bool = True,
    claims: Sequence[Any] | None = None,
) -> CheckReport:
    """Run the selected claims (all when ``ids`` is None) under ``budget``. ``claims`` replaces
    the registry (tests plant false formulas this way). A tqdm bar goes to stderr."""
    from numeric.claims.registry import CLAIMS, select_claims

    pool = list(CLAIMS if claims is None else claims)
    chosen = select_claims(ids, pool) if ids else pool
    if budget not in BUDGETS:
        raise DmfError(f"unknown budget {budget!r}; expected one of {sorted(BUDGETS)}")
    b = BUDGETS[budget]
    t0 = time.perf_counter()
    reports: list[ClaimReport] = []
    errors: list[str] = []
    bar = _progress(len(chosen), progress)
    for claim in chosen:
        if bar is not None:
            bar.set_postfix_str(claim.id)
        start = time.perf_counter()

        def tick(n: int, claim_id: str = claim.id) -> None:
            if bar is not None:
                bar.set_postfix_str(f"{claim_id} case {n}")

        outcome, err = _run_one(claim, b, seed, tick)
        if err:
            errors.append(err)
        reports.append(
            ClaimReport(
                id=claim.id, statement=claim.statement, source=claim.source, domain=claim.domain,
                method=claim.method, outcome=outcome, seconds=time.perf_counter() - start,
                corrects=claim.corrects,
            )
        )
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return CheckReport(reports, seed, budget, time.perf_counter() - t0, errors)


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="claims", unit="claim", leave=False)


def _digits_text(o: ClaimOutcome) -> str:
    if o.evidence in ("exact", "symbolic"):
        return o.evidence
    if o.digits is None:
        return "-"
    return str(o.digits)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def format_table(report: CheckReport, *, width: int = 160) -> str:
    """The table printed by ``dmf-sharpness check``: claim, verdict, cases, digits (or
    ``exact``/``symbolic``), evidence, time, counterexample summary (parts indented)."""
    head = ("claim", "verdict", "cases", "digits", "evidence", "time", "counterexample / note")
    rows: list[tuple[str, ...]] = []
    for c in report.claims:
        o = c.outcome
        note = o.counterexample.summary() if o.counterexample else _first_line(o.detail)
        time_text = f"{c.seconds:.1f}s" + ("*" if o.time_capped else "")
        rows.append((c.id, o.verdict, str(o.cases), _digits_text(o), o.evidence, time_text, note))
        for p in o.parts:
            pnote = p.counterexample.summary() if p.counterexample else _first_line(p.detail)
            pd = "" if p.digits is None else str(p.digits)
            rows.append(("  - " + p.label, p.verdict, str(p.cases), pd, p.evidence, "", pnote))
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(6)]
    widths = [min(w, 44) if i == 0 else w for i, w in enumerate(widths)]
    used = sum(widths) + 2 * 6
    last = max(20, width - used)

    def fmt(r: tuple[str, ...]) -> str:
        cells = [_shorten(r[i], widths[i]).ljust(widths[i]) for i in range(6)]
        return "  ".join([*cells, _shorten(r[6], last)]).rstrip()

    lines = [fmt(head), "  ".join("-" * w for w in [*widths, last])]
    lines += [fmt(r) for r in rows]
    lines.append(
        f"budget {report.budget}, seed {report.seed}, {report.seconds:.1f}s in total"
        + ("; * = a time cap (a safety net) was reached: the cases completed are reported, "
           "and the result may depend on the machine's load" if any(
            c.outcome.time_capped for c in report.claims) else "")
    )
    return "\n".join(lines)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
