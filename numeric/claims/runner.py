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
    CheckReport         the whole run (``to_json``, ``table``, ``markdown``)
    CheckContext        what a checker receives: seed, budget, case count, time cap, RNG, ticks
    run_claims          run selected claims under a budget (one progress bar, on a terminal
                        only), in this process, in ``jobs`` worker processes or on a Dask
                        cluster: the same report
    FORMATS             the output formats of ``check``: ``table``, ``markdown``, ``json``
    format_table        the human-readable table, laid out for the terminal's width, with the
                        ``details`` section below it
    format_markdown     the same as Markdown
    format_details      each refutation in full (point, both sides exactly, gap) and each
                        inconclusive verdict's reason
    evidence_text, cases_text   the table's ``evidence`` and ``cases`` cells
    closed_form, poly_text      an algebraic number in radicals / its minimal polynomial
    terminal_width      ``COLUMNS``, else the terminal's width, else ``DEFAULT_WIDTH``
    fraction_str        an exact rational as ``p/q``
    versions            versions of the libraries that produced the evidence
    hypothesis_storage  Hypothesis' ``.hypothesis`` storage in a temporary directory this
                        process removes (the one place that decides where it goes: the
                        search engine, the commands and the worker processes use it)

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

import contextlib
import os
import platform
import re
import shutil
import sys
import tempfile
import textwrap
import time
import traceback
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from derivations.errors import DmfError

__all__ = [
    "BUDGETS",
    "DEFAULT_WIDTH",
    "EVIDENCE_KINDS",
    "FORMATS",
    "MIN_WIDTH",
    "VERDICTS",
    "Budget",
    "CheckContext",
    "CheckReport",
    "ClaimOutcome",
    "ClaimReport",
    "Counterexample",
    "Part",
    "cases_text",
    "closed_form",
    "evidence_text",
    "format_details",
    "format_markdown",
    "format_table",
    "fraction_str",
    "hypothesis_storage",
    "poly_text",
    "run_claims",
    "terminal_width",
    "versions",
]

VERDICTS = ("proved", "verified", "refuted", "inconclusive")
EVIDENCE_KINDS = ("symbolic", "exact", "certified", "exact+certified", "approximate", "none")
UNCERTIFIED = ("approximate", "none")
FORMATS = ("table", "markdown", "json")
DEFAULT_WIDTH = 100
MIN_WIDTH = 60


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

    def table(self, *, width: int | None = None) -> str:
        return format_table(self, width=width)

    def markdown(self) -> str:
        return format_markdown(self)


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


@contextlib.contextmanager
def hypothesis_storage(*, within: str | None = None) -> Iterator[None]:
    """Inside, Hypothesis' storage (its ``.hypothesis`` folder: example database, constants
    cache, Unicode tables, patches) is a temporary directory that this process creates (inside
    ``within`` when given) and removes on the way out, so nothing is written in the working
    directory; Hypothesis' previous setting is restored. Kept as it is when someone already chose
    a place: the user with ``HYPOTHESIS_STORAGE_DIRECTORY`` or
    ``hypothesis.configuration.set_hypothesis_home_dir`` (anything but ``<cwd>/.hypothesis``,
    Hypothesis' default), the test suite's conftest, or an enclosing ``hypothesis_storage``.
    (It reads ``hypothesis.configuration``'s module globals; should they move, it still makes
    the temporary directory.)"""
    import hypothesis.configuration as configuration

    home = getattr(configuration, "__hypothesis_home_directory", None)
    default = getattr(configuration, "__hypothesis_home_directory_default", None)
    asked = os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY")
    if (home is not None and home != default) or (asked and home in (None, Path(asked))):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="dmf-sharpness-hypothesis-", dir=within) as tmp:
        configuration.set_hypothesis_home_dir(tmp)
        try:
            yield
        finally:
            configuration.set_hypothesis_home_dir(home)


@contextlib.contextmanager
def _no_local_constants() -> Iterator[None]:
    """Hypothesis salts its draws with constants read from the source of every non-library
    module *currently imported*: a search would depend on what this process has loaded (the
    claims run before it, the command line, a worker's fresh interpreter). Inside, that pool is
    empty, so a search depends on the seed, claim and budget only, in any process. (It reaches
    into ``hypothesis.internal``; should that move, the context does nothing.)"""
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # pragma: no cover - a Hypothesis without local constants
        yield
        return
    original = getattr(providers, "_get_local_constants", None)
    if original is None:  # pragma: no cover
        yield
        return
    empty = Constants()
    providers.CONSTANTS_CACHE.cache.clear()
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = original
        providers.CONSTANTS_CACHE.cache.clear()


def _run_one(claim: Any, budget: Budget, seed: int, tick: Callable[[int], None]) -> tuple[
    ClaimOutcome, str | None
]:
    ctx = CheckContext(
        claim_id=claim.id, budget=budget, seed=seed, cases=claim.cases[budget.name],
        time_cap=claim.time_cap[budget.name], tick=tick,
    )
    try:
        with _no_local_constants():
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
    jobs: int = 1,
    scheduler: str | None = None,
) -> CheckReport:
    """Run the selected claims (all when ``ids`` is None) under ``budget``. ``claims`` replaces
    the registry (tests plant false formulas this way). With ``progress``, one tqdm bar over
    the claims goes to stderr, only when it is a terminal; beside it, the claim now running
    (``jobs == 1``) or the claim last finished.
    ``jobs > 1``: in that many worker processes; ``scheduler``: as tasks of the
    ``dask.distributed`` cluster at that address (``numeric.parallel``). Each claim is seeded
    from ``seed`` and its id and bounded by counts, so the report, assembled in registry
    order, is the same either way, timings aside. A worker receives the claim's id (a claim
    outside the registry: the picklable ``Claim``), the budget's name and the seed; a crash
    there, even of the worker process, is reported as in-process (inconclusive, ``errors``)."""
    from numeric.claims.registry import CLAIMS, select_claims
    from numeric.parallel import check_jobs, dask_map, ordered_map

    pool = list(CLAIMS if claims is None else claims)
    chosen = select_claims(ids, pool) if ids else pool
    if budget not in BUDGETS:
        raise DmfError(f"unknown budget {budget!r}; expected one of {sorted(BUDGETS)}")
    jobs = check_jobs(jobs)
    t0 = time.perf_counter()
    items = [(_claim_ref(c, remote=jobs > 1 or scheduler is not None), budget, seed)
             for c in chosen]
    bar = _progress(len(chosen), progress)
    if bar is not None and chosen and jobs == 1 and scheduler is None:
        bar.set_postfix_str(chosen[0].id)

    def done(i: int) -> None:  # beside the bar: the claim now running (one process), else
        if bar is not None:  # the one last finished
            one = jobs == 1 and scheduler is None
            bar.set_postfix_str(chosen[i + 1].id if one and i + 1 < len(chosen)
                                else "" if one else chosen[i].id, refresh=False)
            bar.update(1)

    def failed(i: int, exc: BaseException) -> tuple[ClaimOutcome, str | None, float]:
        msg = f"{chosen[i].id}: the worker running it failed: {type(exc).__name__}: {exc}"
        return ClaimOutcome("inconclusive", 0, "none", f"internal error in the checker: {msg}"
                            ), msg, 0.0

    try:
        if scheduler is not None:
            results = dask_map(_claim_task, items, address=scheduler, on_done=done,
                               on_error=failed)
        elif jobs == 1:
            results = ordered_map(_run_here, items, jobs=1, on_done=done, on_error=failed)
        else:  # the workers' Hypothesis storage lives under a directory this process removes,
            # so a worker that dies or is stopped by Ctrl-C leaves nothing behind in /tmp
            with tempfile.TemporaryDirectory(prefix="dmf-sharpness-hypothesis-") as root:
                results = ordered_map(_claim_task, [(*item, root) for item in items],
                                      jobs=jobs, on_done=done, on_error=failed)
    finally:
        if bar is not None:
            bar.close()
    reports = [
        ClaimReport(
            id=claim.id, statement=claim.statement, source=claim.source, domain=claim.domain,
            method=claim.method, outcome=outcome, seconds=seconds, corrects=claim.corrects,
        )
        for claim, (outcome, _, seconds) in zip(chosen, results, strict=True)
    ]
    errors = [err for _, err, _ in results if err]
    return CheckReport(reports, seed, budget, time.perf_counter() - t0, errors)


def _claim_ref(claim: Any, *, remote: bool = False) -> Any:
    """What a worker receives for ``claim``: its id when it is the registry's own claim, else
    the ``Claim`` itself, which must then pickle (``remote``: checked here, one clear error)."""
    import pickle

    from numeric.claims.registry import CLAIM_IDS, get_claim

    if claim.id in CLAIM_IDS and get_claim(claim.id) is claim:
        return claim.id
    if remote:
        try:
            pickle.dumps(claim)
        except Exception as exc:
            raise DmfError(f"claim {claim.id!r} cannot be sent to a worker process ({exc}); "
                           "name its checker as 'module:function'") from exc
    return claim


def _run_here(ref: Any, budget: str, seed: int) -> tuple[ClaimOutcome, str | None, float]:
    """One claim in this process: ``(outcome, error or None, seconds)``."""
    from numeric.claims.registry import get_claim

    start = time.perf_counter()
    claim = get_claim(ref) if isinstance(ref, str) else ref
    outcome, err = _run_one(claim, BUDGETS[budget], seed, lambda n: None)
    return outcome, err, time.perf_counter() - start


def _claim_task(ref: Any, budget: str, seed: int, root: str | None = None
                ) -> tuple[ClaimOutcome, str | None, float]:
    """``_run_here`` in a worker process or a Dask task, with Hypothesis' storage in a private
    temporary directory (``hypothesis_storage``: nothing written in the working directory;
    workers share nothing unless the user chose a place), inside ``root`` when given (a
    directory the parent process removes whatever happens to the worker)."""
    with hypothesis_storage(within=root):
        return _run_here(ref, budget, seed)


def _progress(total: int, enabled: bool) -> Any:
    """One bar over the claims, on stderr, only when stderr is a terminal; no time estimate
    (claims take very different times, so an estimate from the ones done means nothing)."""
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="check", unit="claim", leave=False, file=sys.stderr,
                bar_format="{desc} {bar:20} {n_fmt}/{total_fmt} claims, {elapsed} {postfix}")


# ----------------------------------------------------------------------------- output formats


def terminal_width() -> int:
    """The width the table is laid out for: ``COLUMNS`` when set, else the terminal's width,
    else (output not a terminal) ``DEFAULT_WIDTH``; never below ``MIN_WIDTH``."""
    return max(MIN_WIDTH, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def evidence_text(evidence: str, digits: int | None, counterexample: Counterexample | None = None
                  ) -> str:
    """The table's ``evidence`` cell: ``exact``, ``certified N digits``, ``symbolic``,
    ``approximate`` or ``none``. A verdict resting partly on exact and partly on certified
    cases is as strong as its weakest case: certified, with the fewest digits.

    >>> evidence_text("exact+certified", 30), evidence_text("symbolic", None)
    ('certified 30 digits', 'symbolic')
    """
    if "certified" not in evidence:
        return evidence
    if digits is None and counterexample is not None:
        found = re.search(r"at (\d+) digits", counterexample.gap)
        digits = int(found.group(1)) if found else None
    return "certified" if digits is None else f"certified {digits} digits"


def cases_text(verdict: str, cases: int, detail: str, parts: Sequence[Part] = ()) -> str:
    """The table's ``cases`` cell. Verified or inconclusive: the number of cases decided. A
    refuted part or single-part claim: where its counterexample came from (a search, or the
    n-th generated case); a refuted claim with parts: how many of them fail.

    >>> cases_text("verified", 6, ""), cases_text("refuted", 4, "generated case 3 violates it")
    ('6', 'counterexample at case 4')
    """
    if verdict != "refuted":
        return str(cases)
    if parts:
        bad = sum(p.verdict == "refuted" for p in parts)
        return f"fails in {bad} of {len(parts)} parts"
    if detail.lstrip().startswith("Hypothesis search"):
        return "counterexample by search"
    return f"counterexample at case {cases}"


def _rows(report: CheckReport) -> list[tuple[int, str, str, str, str, str]]:
    """(indent, claim or part label, verdict, evidence, cases, time) per claim and part."""
    rows = []
    for c in report.claims:
        o = c.outcome
        time_text = f"{c.seconds:.1f}s" + ("*" if o.time_capped else "")
        rows.append((0, c.id, o.verdict, evidence_text(o.evidence, o.digits, o.counterexample),
                     cases_text(o.verdict, o.cases, o.detail, o.parts), time_text))
        for p in o.parts:
            rows.append((2, p.label, p.verdict,
                         evidence_text(p.evidence, p.digits, p.counterexample),
                         cases_text(p.verdict, p.cases, p.detail),
                         "*" if p.time_capped else ""))
    return rows


_HEAD = ("claim", "verdict", "evidence", "cases", "time")


def format_table(report: CheckReport, *, width: int | None = None) -> str:
    """The table printed by ``dmf-sharpness check``, laid out for ``width`` columns (default
    ``terminal_width()``): one line per claim and per part (indented) with its verdict,
    evidence, cases and time (a label too long for its column continues on the next line),
    then the footer and ``format_details``: every refutation in full, every inconclusive
    verdict's reason."""
    width = terminal_width() if width is None else max(MIN_WIDTH, width)
    rows = _rows(report)
    natural = [max(len(h), *(len(str(r[i + 1])) + (r[0] if i == 0 else 0) for r in rows))
               for i, h in enumerate(_HEAD)]
    widths = list(natural)
    excess = sum(widths) + 2 * (len(widths) - 1) - width
    ids = max(len(c.id) for c in report.claims) if report.claims else 14
    # shrink the label column (not below the claim ids), cases and evidence (not below their
    # longest word), then, on very narrow terminals, the label column further
    for i, floor in ((0, min(ids, 24)), (3, 14), (2, 9), (0, 12)):
        cut = max(0, min(excess, widths[i] - floor))
        widths[i] -= cut
        excess -= cut

    def render(indent: int, cells: Sequence[str]) -> list[str]:
        wrapped = [textwrap.wrap(cells[0], widths[0], initial_indent=" " * indent,
                                 subsequent_indent=" " * (indent + 2)) or [""]]
        wrapped += [textwrap.wrap(t, w) or [""] for t, w in zip(cells[1:], widths[1:],
                                                               strict=True)]
        height = max(len(w) for w in wrapped)
        return ["  ".join((w[k] if k < len(w) else "").ljust(widths[i])
                          for i, w in enumerate(wrapped)).rstrip() for k in range(height)]

    lines = [*render(0, _HEAD), "  ".join("-" * w for w in widths)]
    for r in rows:
        lines += render(r[0], r[1:])
    lines += textwrap.wrap(_footer(report), width)
    details = format_details(report, width=width)
    return "\n".join(lines + (["", *details] if details else []))


def _footer(report: CheckReport) -> str:
    capped = any(c.outcome.time_capped for c in report.claims)
    return (f"budget {report.budget}, seed {report.seed}, {report.seconds:.1f}s in total"
            + ("; * = a time cap (a safety net) was reached: the cases completed are reported, "
               "and the result may depend on the machine's load" if capped else ""))


def _items(report: CheckReport) -> list[tuple[str, str, str, str, Counterexample | None]]:
    """(title, verdict, evidence cell, detail, counterexample) of every refuted or inconclusive
    claim (or part, when the claim has parts)."""
    out = []
    for c in report.claims:
        o = c.outcome
        subjects = [(f"{c.id} / {p.label}", p.verdict, evidence_text(
            p.evidence, p.digits, p.counterexample), p.detail, p.counterexample)
            for p in o.parts] if o.parts else [(c.id, o.verdict, evidence_text(
                o.evidence, o.digits, o.counterexample), o.detail, o.counterexample)]
        out += [s for s in subjects if s[1] in ("refuted", "inconclusive")]
    return out


def format_details(report: CheckReport, *, width: int | None = None) -> list[str]:
    """The ``details`` section: each refutation in full (the point exactly, both sides --
    exact values, with a closed form from the minimal polynomial in radicals where its degree
    is at most 4, else the minimal polynomial and a certified enclosure -- and the gap) and
    the reason of each inconclusive verdict; lines wrapped to ``width``, nothing cut."""
    width = terminal_width() if width is None else max(MIN_WIDTH, width)
    items = _items(report)
    if not items:
        return []
    lines = ["details", "-------"]
    for title, verdict, evidence, detail, cx in items:
        lines.append("")
        lines += _wrap(f"{title}: {verdict} ({evidence})", width, 0)
        for text, level in _detail_lines(verdict, detail, cx, report.budget):
            lines += _wrap(text, width, level)
    return lines


def _wrap(text: str, width: int, level: int) -> list[str]:
    pad = " " * (2 * level)
    return textwrap.wrap(text, width, initial_indent=pad, subsequent_indent=pad + "    ",
                         break_on_hyphens=False) or [pad]


def _detail_lines(verdict: str, detail: str, cx: Counterexample | None, budget: str
                  ) -> list[tuple[str, int]]:
    """The lines (text, indent level) of one details item."""
    first = detail.strip().splitlines()[0] if detail.strip() else ""
    if verdict != "refuted" or cx is None:
        return [(f"why: {first}", 1)]
    out = [(f"how: {first}", 1)]
    where = "X = I" if cx.data is None else f"data X with N = {len(cx.data[0])} samples"
    found = "shrunk" if cx.shrunk else "not shrunk"
    out.append((f"point: dims {tuple(cx.dims)}, {where} ({found}):", 1))
    out += [(f"W_{l} = {_matrix_text(w)}", 2) for l, w in enumerate(cx.weights, start=1)]
    if cx.target is not None:
        out.append((f"M = {_matrix_text(cx.target)} (target)", 2))
    if cx.data is not None:
        out.append((f"X = {_matrix_text(cx.data)}", 2))
    if cx.labels is not None:
        out.append((f"Y = {_matrix_text(cx.labels)} (labels)", 2))
    dps = BUDGETS[budget].dps if budget in BUDGETS else 30
    for name, stored, value in zip((cx.lhs_name, cx.rhs_name), (cx.lhs, cx.rhs),
                                   _exact_sides(cx), strict=True):
        out += _side_lines(name, stored, value, dps)
    out.append((f"gap: {cx.gap}", 1))
    if cx.note:
        out.append((f"note: {cx.note}", 1))
    return out


def _side_lines(name: str, stored: str, value: Any, dps: int) -> list[tuple[str, int]]:
    """One side of a counterexample: its exact value (rational, or closed form and minimal
    polynomial), else the checker's text."""
    if value is None or not _consistent(value, stored):
        return [(f"{name} = {stored}", 1)]
    if value.is_rational:
        return [(f"{name} = {fraction_str(value.as_fraction())} (exact)", 1)]
    enc = value.enclosure(dps).round_out(int(3.33 * dps) + 16)  # about dps + 3 digits shown
    form = closed_form(value)
    head = f"{name} = {form}" if form else f"{name} = the real root below"
    return [(head, 1), (f"root of {poly_text(value)} in {enc} "
                        f"(exact; degree {value.degree}, enclosure certified)", 2)]


def _consistent(value: Any, stored: str) -> bool:
    """The recomputed exact value agrees with the checker's text (a rational equal to it, or
    an enclosure meeting its certified interval)."""
    if re.fullmatch(r"-?\d+(/\d+)?", stored.strip()):
        return bool(value.is_rational and value.as_fraction() == Fraction(stored.strip()))
    found = re.match(r"\[(\S+), (\S+)\]", stored.strip())
    if not found:
        return False
    from derivations.intervals import Enclosure

    return bool(value.enclosure(30).overlaps(Enclosure(Fraction(found.group(1)),
                                                       Fraction(found.group(2)))))


def _side_functions() -> dict[str, Callable[[Any], Any]]:
    """Side name -> the exact function the checkers use (from their relations)."""
    from numeric.claims.closed_forms import DEPTH2, SCALAR_ENDS, SUM_FORMULA, TRACE, UPPER
    from numeric.claims.flatness import FLAT_BOUND, flattest_value

    table: dict[str, Callable[[Any], Any]] = {"flattest value": flattest_value,
                                              "L s_1^(2(L-1)/L)": flattest_value}
    for rel in (TRACE, UPPER, DEPTH2, SCALAR_ENDS, SUM_FORMULA, FLAT_BOUND):
        table[rel.lhs_name], table[rel.rhs_name] = rel.lhs, rel.rhs
    return table


def _exact_sides(cx: Counterexample, *, max_degree: int = 16) -> list[Any]:
    """Both sides of a counterexample recomputed exactly from its printed point (an
    ``AlgebraicNumber`` each, or ``None`` when the side has no exact function here or its
    value would exceed ``max_degree``). A display aid: the verdict never depends on it."""
    from derivations.exact import parse_point

    table = _side_functions()
    if cx.lhs_name not in table and cx.rhs_name not in table:
        return [None, None]
    try:
        point = parse_point(cx.weights, cx.target, data=cx.data, labels=cx.labels)
    except DmfError:
        return [None, None]
    out: list[Any] = []
    for name in (cx.lhs_name, cx.rhs_name):
        try:
            formula = table[name](point) if name in table else None
            small = formula is not None and formula.degree_bound <= max_degree
            out.append(formula.value() if formula is not None and small else None)
        except (DmfError, ArithmeticError):
            out.append(None)
    return out


def poly_text(a: Any) -> str:
    """The minimal polynomial of an ``AlgebraicNumber`` as ``x^2 - 5*x + 2`` (the oracle's
    ``numeric.result.poly_text``, with ``^`` for powers)."""
    from numeric.result import poly_text as oracle_poly_text

    return oracle_poly_text(a.poly).replace("**", "^")


def closed_form(a: Any) -> str | None:
    """An ``AlgebraicNumber`` in real radicals when its minimal polynomial has degree <= 4 and
    SymPy's formula for the root is free of ``I``; ``None`` otherwise (the oracle's exact
    answers compute it: ``numeric.result._radicals``; here with ``^`` for powers).

    >>> from derivations.algebraic import AlgebraicNumber
    >>> closed_form(AlgebraicNumber.real_root([2, -5, 1], 1))
    'sqrt(17)/2 + 5/2'
    """
    from numeric.result import _radicals

    if a.is_rational:
        return fraction_str(a.as_fraction())
    form = _radicals(a)
    return None if form is None else form.replace("**", "^")


def format_markdown(report: CheckReport) -> str:
    """The table as Markdown (parts as ``- label`` rows) with the same ``details`` section,
    each item a code block (for README files and CI summaries)."""
    lines = ["| " + " | ".join(_HEAD) + " |", "|" + "---|" * len(_HEAD)]
    for r in _rows(report):
        label = f"`{r[1]}`" if r[0] == 0 else f"- {r[1]}"
        cells = [label, *r[2:]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines += ["", _footer(report)]
    items = _items(report)
    if items:
        lines += ["", "### Details"]
    for title, verdict, evidence, detail, cx in items:
        lines += ["", f"**{title}**: {verdict} ({evidence})", "", "```text"]
        lines += ["  " * (level - 1) + text
                  for text, level in _detail_lines(verdict, detail, cx, report.budget)]
        lines.append("```")
    return "\n".join(lines)
