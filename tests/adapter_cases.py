"""Cases shared by the PyTorch and JAX adapter tests: exact input every other entry point reads,
and bad entries that must be refused in one line naming the layer."""

from __future__ import annotations

import numpy as np
import pytest

EXACT_LAYERS: list[list[list[str | int]]] = [
    [["1/3", "0.1"], ["-2/7", "9007199254740993/3"]], [["1e-3", 5]]]
"""Fraction and decimal strings and an int. ``9007199254740993/3`` is ``(2^53 + 1)/3``: rounded
once it is the float64 ``3002399751580331``; rounding ``2^53 + 1`` first gives ``...330.5``."""

BAD_W2 = [
    pytest.param([["abc"]], r"W_2\[0, 0\]: cannot read the string 'abc'", id="not-a-number"),
    pytest.param([["1/0"]], r"W_2\[0, 0\]: '1/0' has a zero denominator", id="zero-denominator"),
    pytest.param([["1e400"]], r"W_2\[0, 0\] is beyond the float64 range", id="beyond-float64"),
    pytest.param([["nan"]], r"W_2\[0, 0\] is 'nan'; every entry must be finite", id="nan-string"),
    pytest.param(np.array([[np.nan]]), r"W_2\[0, 0\] is .*nan.*must be finite", id="nan-array"),
    pytest.param([[1], [2, 3]], r"W_2 is ragged", id="ragged"),
    pytest.param([[[1]]], r"W_2 must be 2-D", id="three-deep"),
]
"""A bad second layer after ``W_1 = [[1, 2]]`` (so ``W_2`` must be ``(d_2, 1)``)."""
