"""Fuzzing the oracle's boundary: generated hostile JSON point files and API calls.

Each example must end in one of two ways: a one-line refusal (a ``DmfError``), or a labelled
answer whose certified enclosure contains ``lambda_max`` recomputed independently: the exact
full Hessian (docs/mathematics.md K1, on ``Fraction`` entries) diagonalized by mpmath at twice
the precision. Any other exception is a bug. CI runs these derandomized (the ``ci`` profile);
``--hypothesis-profile thorough`` multiplies the examples.
"""

from __future__ import annotations

import json
import string
from fractions import Fraction
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derivations.errors import DmfError
from derivations.exact import Point
from numeric.hessian import full_hessian
from numeric.oracle.files import load_point
from numeric.sharpness import sharpness

_EXAMPLES = max(200, settings.default.max_examples)
_FUZZ = settings(max_examples=_EXAMPLES, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
_SMALL_P = 12  # recompute lambda_max independently only for points this small

_number_texts = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.fractions(max_denominator=10**4).map(str),
    st.sampled_from(["0.1", "-2.5e-3", "1e400", "1e-400", "1/0", "0/0", "nan", "inf", "-0",
                     " 1", "1 ", "1 / 2", "\u0661\u0662", "\uff11", "1_000", "0x10", "1e", "--1",
                     "+3", ".5", "5.", "2/-3", "", "1" * 5000, "1/" + "3" * 5000]),
    st.text(alphabet=string.printable, max_size=12),
)
_entries = st.one_of(
    st.integers(-10**4, 10**4),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    _number_texts,
    st.none(), st.booleans(),
)


_valid_entries = st.one_of(
    st.integers(-6, 6),
    st.fractions(min_value=-4, max_value=4, max_denominator=8).map(str),
    st.sampled_from(["0.5", "-0.25", "1e-3", "2.5e1"]),
    st.floats(min_value=-4, max_value=4, allow_nan=False, width=32).map(float),
)


def _matrix(rows: int, cols: int, entries: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(st.lists(entries, min_size=cols, max_size=cols), min_size=rows, max_size=rows)


@st.composite
def _documents(draw: st.DrawFn) -> Any:
    """Mostly well-shaped points with hostile entries; sometimes broken structure."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.recursive(_entries, lambda c: st.lists(c, max_size=3)
                                 | st.dictionaries(st.sampled_from(["weights", "target", "data",
                                                                    "labels", "bias"]), c,
                                                   max_size=3), max_leaves=12))
    hostile = draw(st.integers(0, 3)) == 0  # a quarter of the documents have hostile entries
    entries = _entries if hostile else _valid_entries
    dims = draw(st.lists(st.integers(0 if hostile else 1, 3), min_size=2, max_size=4))
    doc: dict[str, Any] = {"weights": [draw(_matrix(dims[i + 1], dims[i], entries))
                                       for i in range(len(dims) - 1)]}
    extra = draw(st.sampled_from(["none", "target", "data", "data+labels", "bad-key"]))
    if extra == "target":
        doc["target"] = draw(_matrix(dims[-1], dims[0], entries))
    elif extra.startswith("data"):
        n = draw(st.integers(1, 3))
        doc["data"] = draw(_matrix(dims[0], n, entries))
        if extra == "data+labels":
            doc["labels"] = draw(_matrix(dims[-1], n, entries))
    elif extra == "bad-key" and hostile:
        doc["bias"] = [0]
    return doc


def _true_lambda_max(point: Point, dps: int) -> Any:
    """lambda_max of the exact full Hessian, by mpmath's symmetric eigensolver at ``dps``."""
    x = point.data
    h = full_hessian(list(point.weights), x, point.labels)  # Fraction entries: exact
    with mpmath.workdps(dps):
        m = mpmath.matrix([[mpmath.mpf(v.numerator) / v.denominator for v in row]
                           for row in np.asarray(h, dtype=object)])
        return max(mpmath.eigsy(m, eigvals_only=True))


def _check_answer(point: Point, dps: int, **kwargs: Any) -> None:
    result = sharpness(list(point.weights), point.labels if point.data is None else None,
                       data=point.data, labels=point.labels if point.data is not None else None,
                       dps=dps, **kwargs)
    assert result.certified and result.enclosure is not None
    if result.parameters <= _SMALL_P:
        truth = _true_lambda_max(point, 2 * dps)
        with mpmath.workdps(2 * dps):
            lo, hi = (mpmath.mpf(e.numerator) / e.denominator
                      for e in (result.enclosure.lo, result.enclosure.hi))
            slack = mpmath.mpf(10) ** (-(2 * dps) + 5) * max(1, abs(truth))
            assert lo - slack <= truth <= hi + slack, (truth, result.enclosure)


@_FUZZ
@given(doc=_documents())
def test_hostile_json_is_refused_or_answered_right(tmp_path_factory: Any, doc: Any) -> None:
    path = Path(tmp_path_factory.mktemp("fuzz")) / "point.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    try:
        point, _ = load_point(path)
    except DmfError as exc:
        assert "\n" not in str(exc).strip(), str(exc)
        return
    try:
        _check_answer(point, dps=20)
    except DmfError as exc:
        assert "\n" not in str(exc).strip(), str(exc)


@_FUZZ
@given(
    dims=st.lists(st.integers(1, 3), min_size=2, max_size=4),
    data=st.data(),
    dps=st.integers(5, 40),
)
def test_api_answers_contain_the_recomputed_value(dims: list[int], data: st.DataObject,
                                                 dps: int) -> None:
    entry = st.fractions(min_value=-4, max_value=4, max_denominator=6)
    weights = [np.array(data.draw(st.lists(st.lists(entry, min_size=dims[i], max_size=dims[i]),
                                           min_size=dims[i + 1], max_size=dims[i + 1])),
                        dtype=object) for i in range(len(dims) - 1)]
    target = None
    if data.draw(st.booleans()):
        target = np.array(data.draw(st.lists(st.lists(entry, min_size=dims[0], max_size=dims[0]),
                                             min_size=dims[-1], max_size=dims[-1])), dtype=object)
    from derivations.exact import parse_point

    point = parse_point(weights, target)
    assert all(isinstance(v, Fraction) for w in point.weights for v in w.flat)
    _check_answer(point, dps=dps)
