"""The decision engine for implications ``hypothesis => conclusion``: each side decided exactly on a point (``Side``: holds or not, with exact or certified evidence), a seeded search for a point where the hypothesis holds and the conclusion fails, shrinking, and exact verification on generated points where the hypothesis holds. The relation engine (``lhs (=|<=|>=) rhs``) is ``numeric.claims.engine``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from derivations.algebraic import (
    AlgebraicFormula,
    Comparison,
    compare_formulas,
)
from derivations.errors import PrecisionExhausted
from derivations.exact import Point
from numeric.claims.engine import run_search
from numeric.claims.quantities import (
    alg_text,
)
from numeric.claims.runner import CheckContext, Counterexample, Part

__all__ = [
    "Implication",
    "Side",
    "decide_implication",
]

# ----------------------------------------------------------------------------- implications


@dataclass(frozen=True)
class Side:
    """One side of an implication evaluated exactly at a point: whether it holds, and the
    comparison that decided it (for the counterexample text)."""

    holds: bool
    text: str
    lhs: AlgebraicFormula | None = None
    rhs: AlgebraicFormula | None = None
    cmp: Comparison | None = None


@dataclass(frozen=True)
class Implication:
    hyp_name: str
    concl_name: str
    hyp: Callable[[Point], Side]
    concl: Callable[[Point], Side]
    hyp_float: Callable[[Point], bool]
    concl_float_fails: Callable[[Point], bool]


def decide_implication(
    ctx: CheckContext,
    imp: Implication,
    *,
    strategy: st.SearchStrategy[Point] | Sequence[st.SearchStrategy[Point]] | None,
    generate: Callable[[np.random.Generator, int], Point | None],
    label: str,
    salt: int = 0,
    search_filter: Callable[[Point], bool] = lambda p: True,
) -> Part:
    """Search for a point where the hypothesis holds and the conclusion fails (float64 with
    margins, shrunk), re-check both exactly; otherwise verify exactly on generated points.
    A list of strategies is searched in order (smallest dims first); the first hit wins."""
    dps = ctx.dps
    note = ""
    strategies: list[Any] = [] if strategy is None else (
        list(strategy) if isinstance(strategy, list | tuple) else [strategy])
    search_capped = False
    for j, strat in enumerate(strategies):
        found = run_search(
            ctx, strat,
            lambda p: search_filter(p) and imp.hyp_float(p) and imp.concl_float_fails(p),
            salt=salt + 100 * j, max_examples=max(30, ctx.search_examples // len(strategies)),
        )
        search_capped = search_capped or found.time_capped
        if found.example is None:
            continue
        point = found.example
        h, c = imp.hyp(point), imp.concl(point)
        if h.holds and not c.holds:
            return Part(label, "refuted", 1,
                        f"Hypothesis search ({found.text()}) found a point where "
                        f"{imp.hyp_name} holds exactly ({h.text}) but {imp.concl_name} "
                        f"fails ({c.text})", _kind(c), _cx(point, h, c, dps, found.shrunk),
                        time_capped=found.time_capped)
        note = "a float64 search hit did not survive the exact re-check; "
        break
    rng = ctx.rng(salt)
    held = vacuous = undecided = 0
    capped = search_capped
    kinds: set[str] = set()
    for i in range(ctx.cases):
        if ctx.time_up():
            capped = True
            break
        ctx.tick(i)
        point = generate(rng, i)
        if point is None:
            continue
        try:
            h = imp.hyp(point)
            if not h.holds:
                vacuous += 1
                continue
            c = imp.concl(point)
        except PrecisionExhausted:
            undecided += 1
            continue
        if not c.holds:
            return Part(label, "refuted", held + 1,
                        f"generated case {i} (not shrunk): {imp.hyp_name} holds ({h.text}) but "
                        f"{imp.concl_name} fails ({c.text})", _kind(c),
                        _cx(point, h, c, dps, False), time_capped=capped)
        held += 1
        kinds.add(_kind(c))
    extra = (f"; {vacuous} generated points did not satisfy the hypothesis (vacuous)"
             + (f"; {undecided} undecided" if undecided else "")
             + ("; time cap (safety net) reached: the result may depend on the machine's load"
                if capped else ""))
    if held == 0:
        return Part(label, "inconclusive", 0,
                    f"{note}no generated point satisfied the hypothesis exactly{extra}", "none",
                    time_capped=capped)
    evidence = "exact" if kinds == {"exact"} else "certified" if kinds == {"certified"} else (
        "exact+certified")
    return Part(label, "verified", held,
                f"{note}{imp.hyp_name} => {imp.concl_name} held exactly on {held} points that "
                f"satisfy the hypothesis{extra}", evidence, time_capped=capped)


def _kind(side: Side) -> str:
    c = side.cmp
    if c is None or c.relation == "=" or c.dps is None:
        return "exact"
    return "certified"


def _cx(point: Point, h: Side, c: Side, dps: int, shrunk: bool) -> Counterexample:
    lhs = alg_text(c.lhs, dps) if c.lhs is not None else c.text
    rhs = alg_text(c.rhs, dps) if c.rhs is not None else ""
    gap = f"{c.cmp.gap} ({c.cmp.proof})" if c.cmp is not None else c.text
    return Counterexample(
        list(point.weights), lhs, rhs, gap, "lambda_max(H)", "flattest value",
        target=point.labels, shrunk=shrunk, note=f"hypothesis holds exactly: {h.text}",
    )


def _all_equal(values: Sequence[AlgebraicFormula]) -> tuple[bool, str]:
    for v in values[1:]:
        c = compare_formulas(v, values[0])
        if c.relation != "=":
            return False, f"differ: {c.relation} ({c.proof})"
    return True, "all equal (exact)"


def _close(values: Sequence[float], rel: float = 1e-9) -> bool:
    scale = 1 + max(abs(v) for v in values)
    return max(values) - min(values) < rel * scale
