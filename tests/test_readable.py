"""Readable results: the ``check`` table fits the terminal and shows each refutation in full,
its columns say one thing each, ``check`` writes no progress bar into redirected logs, the
``hessian-rank`` pair separates the literal claim from what holds, the escape figures draw
runs that did not escape as such, and notebook 05 states the loss factors the oracle applies.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from derivations.algebraic import exact_rank
from derivations.exact import exact_product, parse_point
from numeric.claims.runner import CheckReport, run_claims
from numeric.sharpness import loss_factor

ROOT = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------- notebook 05


def _notebook_markdown(name: str) -> str:
    nb = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def test_notebook05_states_the_loss_factors_the_oracle_applies() -> None:
    text = _notebook_markdown("05_oracle_for_your_code.ipynb")
    n, d_out = 3, 2  # any sizes: the stated factor, read with N = 3, must be the oracle's
    mean = re.search(r'`"mean"`: \$(\d+)/N\$', text)
    assert mean is not None, "notebook 05 no longer states the mean factor as $k/N$"
    assert Fraction(int(mean.group(1)), n) == loss_factor("mean", n_samples=n, d_out=d_out)[0]
    total = re.search(r'`"sum"`: factor (\d+)', text)
    assert total is not None
    assert Fraction(int(total.group(1))) == loss_factor("sum", n_samples=n, d_out=d_out)[0]
    mse = re.search(r"\$(\d+)/\(N d_L\)\$", text)
    assert mse is not None
    assert Fraction(int(mse.group(1)), n * d_out) == loss_factor("mse", n_samples=n,
                                                                 d_out=d_out)[0]


# ----------------------------------------------------------------------------- hessian-rank


@pytest.fixture(scope="module")
def report() -> CheckReport:
    """A real quick run of claims with irrational, rational and rank counterexamples."""
    return run_claims(["sum-formula", "constant-product", "hessian-rank",
                       "hessian-rank-corrected", "balanced-spectrum"],
                      budget="quick", progress=False)


def _fraction_matrix(m: Any) -> list[list[Fraction]]:
    return [[Fraction(x) for x in row] for row in np.asarray(m, dtype=object)]


def test_hessian_rank_literal_is_refuted_by_an_exact_counterexample(report: CheckReport) -> None:
    from numeric.claims.quantities import exact_hessian
    from numeric.hessian import gauss_newton

    claims = {c.id: c for c in report.claims}
    literal, corrected = claims["hessian-rank"].outcome, claims["hessian-rank-corrected"].outcome
    assert literal.verdict == "refuted" and literal.evidence == "exact"
    assert corrected.verdict == "verified" and corrected.evidence == "exact"
    assert report.claims[3].corrects == "hessian-rank"
    cx = literal.counterexample
    assert cx is not None and cx.data is not None
    point = parse_point([_fraction_matrix(w) for w in cx.weights], data=_fraction_matrix(cx.data),
                        labels=_fraction_matrix(cx.labels))
    h = exact_hessian(point)
    ho = np.asarray(gauss_newton(list(point.weights), point.data), dtype=object)
    x, y = _fraction_matrix(cx.data), _fraction_matrix(cx.labels)
    xt = np.asarray(x, dtype=object).T
    residual = exact_product(list(point.weights)) @ np.asarray(x, dtype=object) - np.asarray(
        y, dtype=object)
    assert not np.any(residual @ xt)  # a minimizer: R X^T = 0
    dims, r = point.dims, exact_rank(np.asarray(x, dtype=object) @ xt)
    q, s, m = min([r, dims[-1], *dims[1:-1]]), min(r, dims[-1]), sum(dims[1:-1])
    formula_hf = 2 * q * m + 2 * q * s - (len(dims) - 1) * q * q
    assert exact_rank(h - ho) == 0 < formula_hf  # rank H_f = 0 below its formula
    assert f"{formula_hf} (" in cx.rhs and cx.lhs.startswith("0 ")
    statements = ("at every point", "at generic points", "at generic minimizers",
                  "at every minimizer")
    for part in literal.parts + corrected.parts:  # each part states what it decided
        assert ("<=" in part.label or "=" in part.label) and part.label.endswith(statements)
    assert [p.verdict for p in literal.parts if p.verdict == "refuted"] == ["refuted"] * 2
