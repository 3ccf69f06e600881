"""The exact input boundary (derivations.exact): what is accepted, exactly, and what is refused."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from derivations.errors import (
    DmfError,
    EmptyInputError,
    EntryError,
    NonFiniteError,
    ShapeError,
)
from derivations.exact import parse_entry, parse_matrix, parse_point


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (3, Fraction(3)),
        ("0.1", Fraction(1, 10)),
        ("-2/6", Fraction(-1, 3)),
        (" 1e-3 ", Fraction(1, 1000)),
        (0.1, Fraction(3602879701896397, 36028797018963968)),  # the binary double, exactly
        (np.float32(0.5), Fraction(1, 2)),
        (np.int64(-7), Fraction(-7)),
        (sympy.Rational(2, 3), Fraction(2, 3)),
        (Decimal("0.25"), Fraction(1, 4)),
    ],
    ids=["int", "decimal-string", "fraction-string", "exponent", "float", "float32", "np-int",
         "sympy-rational", "Decimal"],
)
def test_entries_are_read_exactly(raw: object, expected: Fraction) -> None:
    assert parse_entry(raw) == expected


@pytest.mark.parametrize("sign", [1, -1], ids=["positive", "negative"])
def test_mpf_is_read_as_its_binary_value(sign: int) -> None:
    with mpmath.workdps(30):
        x = sign * mpmath.mpf(1) / 3
        q = parse_entry(x)
        assert mpmath.mpf(q.numerator) / q.denominator == x
    assert parse_entry(mpmath.mpf(-1.5)) == Fraction(-3, 2)


@given(st.fractions(max_denominator=10**6))
def test_fraction_strings_round_trip(q: Fraction) -> None:
    assert parse_entry(f"{q.numerator}/{q.denominator}") == q


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_finite_floats_round_trip_exactly(x: float) -> None:
    assert float(parse_entry(x)) == x and parse_entry(x) == Fraction(x)


BAD_POINTS = [
    pytest.param(dict(weights=[]), EmptyInputError, "no layers", id="no-layers"),
    pytest.param(dict(weights=[[[1, 2]], [[1, 2]]]), ShapeError,
                 re.escape("layer 2 (W_2) has shape (1, 2) but layer 1 outputs 1 rows; W_2 must be (d_2, 1)"),
                 id="layers-do-not-chain"),
    pytest.param(dict(weights=[[[1, 2], [3]]]), ShapeError, "W_1 is ragged", id="ragged"),
    pytest.param(dict(weights=[[]]), EmptyInputError, "W_1 is empty", id="empty-matrix"),
    pytest.param(dict(weights=[np.array([[1.0, np.inf]])]), NonFiniteError, r"W_1\[0, 1\] is", id="inf"),
    pytest.param(dict(weights=[[["nan"]]]), NonFiniteError, "every entry must be finite", id="nan-string"),
    pytest.param(dict(weights=[[["1/0"]]]), EntryError, "zero denominator", id="zero-denominator"),
    pytest.param(dict(weights=[[["__import__('os')"]]]), EntryError, "cannot read the string", id="code-string"),
    pytest.param(dict(weights=[[[True]]]), EntryError, "boolean", id="bool"),
    pytest.param(dict(weights=[[[1 + 2j]]]), EntryError, "cannot read", id="complex"),
    pytest.param(dict(weights=[np.ones(3)]), ShapeError, "must be a 2-D matrix", id="1-d-array"),
    pytest.param(dict(weights=[[[1, 2]]], target=[[1, 2, 3]]), ShapeError,
                 re.escape("target M has shape (1, 3); expected (d_L, d_0) = (1, 2)"), id="target-shape"),
    pytest.param(dict(weights=[[[1, 2]]], data=[[1], [2], [3]]), ShapeError,
                 re.escape("data X has shape (3, 1); expected (d_0, N) with d_0 = 2"), id="data-shape"),
    pytest.param(dict(weights=[[[1, 2]]], data=[[1], [2]], labels=[[1, 2]]), ShapeError,
                 re.escape("labels Y have shape (1, 2); expected (d_L, N) = (1, 1)"), id="labels-shape"),
    pytest.param(dict(weights=[[[1]]], labels=[[1]]), ShapeError, "without data X", id="labels-without-data"),
    pytest.param(dict(weights=[[[1]]], target=[[1]], data=[[1]]), ShapeError, "not both", id="target-and-data"),
    pytest.param(dict(weights="[[1]]"), ShapeError, "sequence", id="string-weights"),
    pytest.param(dict(weights=[[["1e99999"]]]), EntryError, "exponent", id="absurd-exponent"),
]


@pytest.mark.parametrize(("kwargs", "error", "message"), BAD_POINTS)
def test_bad_points_are_refused_with_a_clear_message(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        parse_point(**kwargs)
    assert issubclass(error, DmfError) and issubclass(error, ValueError)


def test_target_defaults_to_the_exact_product() -> None:
    point = parse_point([[["1/2", 1]], [[3], ["0.1"]]])
    assert point.dims == (2, 1, 2)
    assert point.labels.tolist() == [[Fraction(3, 2), Fraction(3)], [Fraction(1, 20), Fraction(1, 10)]]
    assert point.is_minimizer()


def test_data_point_minimizer_means_r_xt_zero() -> None:
    # W = [1], X = [1 1], Y = [0 2]: R = [1, -1], R X^T = 0 although R != 0.
    point = parse_point([[[1]]], data=[[1, 1]], labels=[[0, 2]])
    assert any(x != 0 for x in point.residual().flat)
    assert point.is_minimizer()
    assert not parse_point([[[1]]], data=[[1, 1]], labels=[[0, 3]]).is_minimizer()


def test_parse_matrix_accepts_sympy_and_flint() -> None:
    from flint import fmpq_mat

    m = parse_matrix(sympy.Matrix([[sympy.Rational(1, 3), 2]]), "M")
    assert m.tolist() == [[Fraction(1, 3), Fraction(2)]]
    f = parse_matrix(fmpq_mat(1, 2, [1, 2]), "M")
    assert f.tolist() == [[Fraction(1), Fraction(2)]]
