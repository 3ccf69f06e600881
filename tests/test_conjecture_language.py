"""The conjecture language: what is accepted, what is refused (before anything is evaluated),
and the exact interpreter against the built-in quantities."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from derivations.algebraic import compare_formulas
from derivations.exact import parse_point
from numeric.claims.flatness import flattest_value
from numeric.claims.points import random_point
from numeric.claims.quantities import lambda_max_hessian, sq_norm, sum_of_products
from numeric.conjecture.interpreter import (
    ExactPoint,
    FloatPoint,
    Undefined,
    exact_value,
    float_value,
    reciprocal,
)
from numeric.conjecture.language import StatementError, parse_statement

REFUSED = [
    ("not-operator", "not lambda_max", "operator 'not' is not allowed", 1),
    ("invert-operator", "~lambda_max <= 1", "operator '~' is not allowed", 1),
    ("import", "__import__('os')", "unknown function '__import__'", 1),
    ("dunder-attribute", "().__class__", "attribute '.__class__' is not allowed", 3),
    ("open", "open('x') == 1", "unknown function 'open'", 1),
    ("lambda", "lambda: 1", "'lambda' is not allowed", 1),
    ("unknown-name", "lambda_max <= foo", "unknown name 'foo' at column 15; allowed names", 15),
    ("string", "lambda_max == 'a'", "a string is not allowed", 15),
    ("float-index", "norm2(W[1.5]) > 0", "an index must be an integer", 9),
    ("division-index", "norm2(W[L/2]) > 0", "an index may use only", 9),
    ("loop-var-outside", "norm2(W[l]) > 0", "'l' is defined only inside", 9),
    ("other-iterable", "sum(trace for l in range(3)) > 0", "runs over 'layers'", 20),
    ("other-loop-var", "sum(trace for k in layers) > 0", "loop variable must be 'l'", 15),
    ("nested-reduction", "sum(sum(trace for l in layers) for l in layers) > 0",
     "may not be nested", 5),
    ("not-a-relation", "lambda_max + 1", "a statement must be a relation", 1),
    ("or", "trace > 0 or trace < 0", "only 'and' may join", 1),
    ("matrix-side", "H == H", "is a matrix", 1),
    ("matrix-times-matrix", "norm2(H * H) > 0", "use '@'", 7),
    ("huge-power", "2**10**10 > 1", "out of range", 4),
    ("exponent-irrational", "trace ** lambda_max > 1", "an exponent must be a rational", 10),
    ("method-call", "H.sum() > 0", "attribute '.sum' is not allowed", 2),
    ("call-transpose", "H.T() > 0", "'H.T' cannot be called", 1),
    ("keyword", "norm2(m=H) > 0", "takes no keyword", 9),
    ("syntax", "trace >= ", "not a valid expression", None),
    ("too-long", "x" * 1_000_000, "1000000 characters", None),
    ("deep", "-" * 60 + "1 > 0", "nested more than 50 levels", None),
    ("walrus", "(x := 1) > 0", "':=' is not allowed", 2),
]


@pytest.mark.parametrize("text,match,col", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused_statements_name_the_token_and_column(text: str, match: str,
                                                       col: int | None) -> None:
    with pytest.raises(StatementError, match=match.replace("(", r"\(").replace("*", r"\*")) as e:
        parse_statement(text)
    if col is not None:
        assert e.value.col == col - 1
        lines = str(e.value).splitlines()
        assert f"at column {col}" in lines[0]
        caret = lines[-1]
        assert caret.index("^") - 2 == col - 1, str(e.value)


def test_accepted_vocabulary() -> None:
    s = parse_statement(
        "lambda_max >= L * s[1]**(2*(L-1)/L) and trace == tr(H) and rank <= P and "
        "lmax(K) <= lambda_max and loss >= 0 and d[0] * d[L] >= 1 and "
        "norm2(W[1] @ W[1].T) <= fro(W[1])**2 and sigma(M, 1) == s[1] and "
        "max(abs(lambda_min), 0) <= sqrt(2) * 0.25e1 + 1/3 and prod(norm2(W[l]) for l in layers)"
        " >= 0 and rank(M) <= min(d[0], d[L]) and norm2(sum(A[l] @ A[l].T for l in layers)) "
        ">= 0 and lmin(X @ X.T) >= 0 and norm2(Y) >= 0 and 0 <= 1 < 2")
    assert len(s.relations) == 16


def test_decimal_literals_are_read_exactly() -> None:
    rel = parse_statement("0.1 == 1/10").relations[0]
    env = ExactPoint(parse_point([[[1]]]))
    assert exact_value(rel.left, env).rational == Fraction(1, 10)
    assert compare_formulas(exact_value(rel.left, env), exact_value(rel.right, env)).relation == "="


@pytest.mark.parametrize("seed", range(4))
def test_interpreter_matches_the_builtin_quantities(seed: int) -> None:
    rng = np.random.default_rng(seed)
    dims = (2, 3, 2, 2) if seed % 2 else (3, 2, 3)
    p = random_point(rng, dims, denominator=2)
    env, fenv = ExactPoint(p), FloatPoint(p)
    pairs = [
        ("lambda_max", lambda_max_hessian(p)),
        ("sum(norm2(A[l])**2 * norm2(B[l])**2 for l in layers)", sum_of_products(p)),
        ("L * s[1]**(2*(L-1)/L)", flattest_value(p)),
        ("norm2(W[2])**2", sq_norm(p.weights[1])),
    ]
    for text, expected in pairs:
        node = parse_statement(f"{text} == 0").relations[0].left
        got = exact_value(node, env)
        assert compare_formulas(got, expected).relation == "=", text
        assert abs(float_value(node, fenv) - float(expected.enclosure(20).mid)) < 1e-8


UNDEFINED = [
    ("norm2(W[5])", "does not exist"),
    ("lmax(K)", "only at minimizers"),
    ("1 / (trace - trace)", "division by zero"),
    ("sigma(W[1], 3)", "outside 1..2"),
    ("tr(W[2])", "square"),
    ("lmax(W[1])", "symmetric"),
    ("(0 - trace) ** (1/2)", "negative number to a fractional power"),
    ("norm2(W[1] + W[2])", "do not fit"),
]


@pytest.mark.parametrize("text,reason", UNDEFINED, ids=[u[0] for u in UNDEFINED])
def test_undefined_quantities_raise_undefined_not_a_crash(text: str, reason: str) -> None:
    # W_1 is 2 x 2, W_2 is 1 x 2; the target is not the product (not a minimizer)
    p = parse_point([[[1, 2], [0, 1]], [[1, 1]]], [[5, 5]])
    node = parse_statement(f"{text} == 0").relations[0].left
    with pytest.raises(Undefined, match=reason):
        exact_value(node, ExactPoint(p))
    with pytest.raises(Undefined):
        float_value(node, FloatPoint(p))


def test_reciprocal_and_powers_are_exact() -> None:
    env = ExactPoint(parse_point([[[1, 1]]]))  # norm2(W[1])**2 = 2
    node = parse_statement("1 / norm2(W[1]) == 0").relations[0].left
    v = exact_value(node, env)
    assert compare_formulas(v * v, Fraction(1, 2)).relation == "="
    assert reciprocal(v).degree_bound == v.degree_bound
    cube = parse_statement("norm2(W[1]) ** (2/3) == 0").relations[0].left
    c = exact_value(cube, env)
    assert compare_formulas(c * c * c, 2).relation == "="


@pytest.mark.parametrize(("lhs", "rhs", "text"), [
    ("a", "b - c", "a - (b - c)"),
    ("a", "-b", "a - (-b)"),
    ("x", "2*y + 1", "x - (2*y + 1)"),
    ("a", "f(b - c)", "a - f(b - c)"),
    ("x", "sum(a - b for l in layers)", "x - sum(a - b for l in layers)"),
    ("x", "1e-3", "x - 1e-3"),
])
def test_a_gap_text_means_what_was_computed(lhs: str, rhs: str, text: str) -> None:
    from numeric.claims.engine import gap_text

    assert gap_text(lhs, rhs) == text
