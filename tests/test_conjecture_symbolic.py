"""``proved`` for polynomial identities: exact expansion over Q for every dims of a small range;
anything else falls through to the engine."""

from __future__ import annotations

import pytest

from numeric.conjecture import check
from numeric.conjecture.families import FAMILIES, Shape
from numeric.conjecture.language import parse_statement
from numeric.conjecture.symbolic import try_prove

TRACE = "trace == sum(fro(A[l])**2 * fro(B[l])**2 for l in layers)"
SMALL = {"depth": "1..2", "width": "1..2", "budget": "quick"}


def test_trace_identity_is_proved_for_every_dims_of_the_range() -> None:
    rep = check(TRACE, **SMALL)
    assert rep["verdict"] == "proved" and rep["evidence"] == "symbolic" and rep["certified"]
    assert rep["cases"] == 12  # (1,1), (1,2), (2,1), (2,2) and the eight depth-2 dims
    assert "(2, 2, 2)" in rep["detail"] and "(1, 1)" in rep["detail"]


def test_trace_identity_with_data_is_proved_at_arbitrary_points() -> None:
    rep = check("trace == sum(fro(A[l])**2 * fro(B[l] @ X)**2 for l in layers)", over="data",
                **SMALL)
    assert rep["verdict"] == "proved" and rep["cases"] == 12 * 3  # N = 1, 2, 3


@pytest.mark.parametrize("statement,over", [
    (f"{TRACE[:-1]}) + loss", "points"),        # loss != 0 off minimizers
    ("tr(H @ H) == trace**2", "minimizers"),    # true only when H has rank <= 1
    ("loss == 1/2 * fro(M)**2", "points"),      # a dropped cross term
], ids=["plus-loss", "trace-squared", "dropped-term"])
def test_false_polynomial_identities_are_not_proved_but_refuted(statement: str,
                                                                over: str) -> None:
    res = try_prove(parse_statement(statement), FAMILIES[over], Shape((1, 2), (1, 2)))
    assert res is not None and not res.proved
    rep = check(statement, over=over, **SMALL)
    assert rep["verdict"] == "refuted"
    assert "not a polynomial identity" in rep["detail"]


@pytest.mark.parametrize("statement,shape", [
    ("lambda_max == trace", Shape((1, 2), (1, 2))),           # eigenvalues: not polynomial
    ("fro(W[1]) == fro(W[1])", Shape((1, 2), (1, 2))),        # an odd power of fro
    ("trace <= trace + 1", Shape((1, 2), (1, 2))),            # not an equality
    (TRACE, Shape((1, 3), (1, 3))),                           # 117 dims: too many
])
def test_proof_is_not_attempted_outside_its_scope(statement: str, shape: Shape) -> None:
    assert try_prove(parse_statement(statement), FAMILIES["minimizers"], shape) is None
