"""Input files of the oracle (numeric.oracle.files): exact parsing, the bad-input table, atomic writes."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from derivations.errors import (
    DmfError,
    EmptyInputError,
    EntryError,
    InputFileError,
    NonFiniteError,
    ShapeError,
    TooLargeError,
)
from derivations.exact import parse_point
from numeric.oracle import files as io

GOOD = {"weights": [[[1, "1/2"], ["0.1", 2]], [[3, "-2/3"]]]}


def _json(text: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        p = tmp / "in.json"
        p.write_text(text, encoding="utf-8")
        return p

    return make


def _doc(**changes: Any) -> Callable[[Path], Path]:
    doc = dict(GOOD)
    for k, v in changes.items():
        if v is None:
            doc.pop(k, None)
        else:
            doc[k] = v
    return _json(json.dumps(doc))


def _npz(**arrays: Any) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        p = tmp / "in.npz"
        np.savez(p, **arrays)
        return p

    return make


def _raw(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        p = tmp / name
        p.write_bytes(data)
        return p

    return make


W1 = np.array([[1.0, 2.0], [3.0, 4.0]])
W2 = np.array([[1.0, -1.0]])

BAD_INPUTS = [
    ("json-syntax", _json('{"weights": [[[1]]],\n "target": [[1]],}'), InputFileError,
     r"invalid JSON at line 2, column \d+"),
    ("json-top-level-list", _json("[[[1]]]"), InputFileError, "top level must be a JSON object"),
    ("json-unknown-key", _doc(bias=[[0]]), InputFileError,
     r"unknown key\(s\) 'bias'; allowed keys are weights, target, data, labels"),
    ("json-duplicate-key", _json('{"weights": [[[1]]], "weights": [[[2]]]}'), InputFileError,
     "appears twice"),
    ("json-no-weights", _json('{"target": [[1]]}'), InputFileError, "'weights'.*missing"),
    ("json-weights-not-list", _doc(weights={"W1": [[1]]}), InputFileError,
     "'weights' must be a list"),
    ("json-ragged", _doc(weights=[[[1, 2], [3]]]), ShapeError,
     "W_1 is ragged: row 0 has 2 entries but row 1 has 1"),
    ("json-3d", _doc(weights=[[[[1]]]]), ShapeError, r"W_1\[0\]\[0\] is a list"),
    ("json-empty-matrix", _doc(weights=[[]]), EmptyInputError, "W_1 is empty"),
    ("json-NaN-literal", _json('{"weights": [[[NaN]]]}'), NonFiniteError, "NaN is not a finite"),
    ("json-Infinity-literal", _json('{"weights": [[[-Infinity]]]}'), NonFiniteError,
     "-Infinity is not a finite"),
    ("json-overflowing-number", _json('{"weights": [[[1e400]]]}'), NonFiniteError,
     "1e400 overflows float64"),
    ("json-nan-string", _doc(weights=[[["nan"]]]), NonFiniteError, "must be finite"),
    ("json-null-entry", _doc(weights=[[[None]]]), EntryError, r"W_1\[0, 0\] is null"),
    ("json-bool-entry", _doc(weights=[[[True]]]), EntryError, "is a boolean"),
    ("json-bad-string", _doc(weights=[[["1+1"]]]), EntryError, "cannot read the string '1\\+1'"),
    ("json-zero-denominator", _doc(weights=[[["1/0"]]]), EntryError, "zero denominator"),
    ("json-huge-int", _json('{"weights": [[[' + "9" * 5000 + "]]]}"), EntryError,
     "longer than the limit"),
    ("json-target-and-data", _doc(target=[[1, 1]], data=[[1], [1]]), InputFileError,
     "'target' and 'data' conflict"),
    ("json-labels-without-data", _doc(labels=[[1]]), InputFileError, "'labels' given without"),
    ("json-layers-do-not-chain", _doc(weights=[[[1, 2]], [[1, 2]]]), ShapeError,
     r"layer 2 \(W_2\) has shape \(1, 2\) but layer 1 outputs 1 rows"),
    ("json-target-shape", _doc(target=[[1, 2, 3]]), ShapeError,
     r"target M has shape \(1, 3\); expected \(d_L, d_0\) = \(1, 2\)"),
    ("json-not-utf8", _raw("in.json", b'{"weights": [[[1]]], "name": "\xff"}'), InputFileError,
     "cannot read the file as UTF-8"),
    ("unknown-suffix", _raw("in.txt", b"1"), InputFileError, "unknown file type '.txt'"),
    ("missing-file", lambda tmp: tmp / "nope.json", InputFileError, "cannot read the file"),
    ("npz-pickled", _npz(W1=np.array([[1.0]], dtype=object)), InputFileError,
     "pickled arrays are refused"),
    ("npz-gap-in-layers", _npz(W1=W1, W3=W2), InputFileError, "without gaps; missing W2"),
    ("npz-unknown-array", _npz(W1=W1, b1=W2), InputFileError,
     r"unknown array\(s\) 'b1'; allowed are W1, ..., WL and optional M, X, Y"),
    ("npz-W0", _npz(W0=W1), InputFileError, "unknown array"),
    ("npz-no-weights", _npz(M=W1), InputFileError, "no weight arrays"),
    ("npz-target-and-data", _npz(W1=W1, M=W1, X=W1), InputFileError, "'M' .* and 'X' .* conflict"),
    ("npz-labels-without-data", _npz(W1=W1, Y=W1), InputFileError, "'Y' .* without 'X'"),
    ("npz-3d", _npz(W1=np.zeros((2, 2, 2))), ShapeError, "expected a 2-D matrix"),
    ("npz-complex", _npz(W1=W1 + 1j), InputFileError, "expected an integer or floating dtype"),
    ("npz-bool", _npz(W1=W1 > 2), InputFileError, "dtype bool"),
    ("npz-nan", _npz(W1=np.array([[1.0, np.nan]])), NonFiniteError, r"W_1\[0, 1\] is .*nan"),
    ("npz-inf", _npz(W1=W1, W2=np.array([[np.inf, 1.0]])), NonFiniteError, r"W_2\[0, 0\] is .*inf"),
    ("npz-not-a-zip", _raw("in.npz", b"not a zip archive"), InputFileError,
     "not a readable .npz archive"),
    ("npz-shape", _npz(W1=W1, W2=np.ones((1, 3))), ShapeError, r"layer 2 \(W_2\)"),
]


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [pytest.param(m, e, r, id=i) for i, m, e, r in BAD_INPUTS],
)
def test_bad_input_is_refused(tmp_path: Path, make: Any, error: type, match: str) -> None:
    path = make(tmp_path)
    with pytest.raises(error, match=match) as info:
        io.load_point(path)
    assert isinstance(info.value, DmfError)
    assert "\n" not in str(info.value)  # one clear line
    assert str(path) in str(info.value)  # names the file


@pytest.mark.parametrize(
    ("limit", "value", "match"),
    [
        ("MAX_FILE_BYTES", 10, "more than the limit 10"),
        ("MAX_PARAMETERS", 4, "P = 6 parameters, more than the limit 4"),
        ("MAX_DEPTH", 1, "depth L = 2 is beyond the limit 1"),
        ("MAX_DATA_ENTRIES", 1, "target M has 1 x 2 entries"),
    ],
    ids=["file-size", "parameters", "depth", "data-entries"],
)
def test_absurd_sizes_are_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: str, value: int, match: str
) -> None:
    monkeypatch.setattr(io, limit, value)
    p = tmp_path / "big.json"
    p.write_text(json.dumps({**GOOD, "target": [["1/3", 5]]}))
    with pytest.raises(TooLargeError, match=match):
        io.load_point(p)


def test_npz_zip_bomb_guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(io, "MAX_NPZ_UNCOMPRESSED_BYTES", 100)
    p = tmp_path / "z.npz"
    np.savez_compressed(p, W1=np.zeros((50, 50)))
    with pytest.raises(TooLargeError, match="unpack to"):
        io.load_point(p)


@pytest.mark.parametrize(
    ("dps", "ok"), [(5, True), (5000, True), (4, False), (5001, False), (True, False)]
)
def test_check_dps(dps: Any, ok: bool) -> None:
    if ok:
        assert io.check_dps(dps) == dps
    else:
        with pytest.raises(TooLargeError, match=r"outside the accepted range 5\.\.5000"):
            io.check_dps(dps)


def test_json_entries_are_exact(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    big = 10**40 + 1
    p.write_text(
        '{"weights": [[[1, "0.1", "2/3", 0.1, ' + str(big) + ', "-1e-3", 2.5e-1]]],'
        ' "name": "n", "description": "d", "expected": {"k": 1}}'
    )
    point, meta = io.load_point(p)
    assert list(point.weights[0][0]) == [
        Fraction(1), Fraction(1, 10), Fraction(2, 3), Fraction(0.1), Fraction(big),
        Fraction(-1, 1000), Fraction(1, 4),
    ]
    assert Fraction(0.1) != Fraction(1, 10)  # the JSON number is the float64 it parses to
    assert meta["name"] == "n" and meta["expected"] == {"k": 1} and meta["format"] == "json"
    assert meta["target_given"] is False and point.is_minimizer()


def test_json_and_npz_give_the_same_point(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ws = [rng.standard_normal((3, 2)), rng.standard_normal((2, 3))]
    x, y = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    np.savez(tmp_path / "p.npz", W1=ws[0], W2=ws[1], X=x, Y=y)
    (tmp_path / "p.json").write_text(
        json.dumps({"weights": [w.tolist() for w in ws], "data": x.tolist(), "labels": y.tolist()})
    )
    a, _ = io.load_point(tmp_path / "p.npz")
    b, _ = io.load_point(tmp_path / "p.json")
    c = parse_point(ws, data=x, labels=y)
    for p in (a, b):
        assert all(np.all(u == v) for u, v in zip(p.weights, c.weights, strict=True))
        assert np.all(p.data == c.data) and np.all(p.labels == c.labels)


def test_float64_arrays_only_when_lossless(tmp_path: Path) -> None:
    exact = io.load_arrays(_doc()(tmp_path))  # holds 1/10: not a float64
    assert exact.float64_arrays() is None
    dyadic = io.load_arrays(_doc(weights=[[[1, "1/2"], ["0.25", 2]], [[3, -1]]])(tmp_path))
    floats = dyadic.float64_arrays()
    assert floats is not None
    assert floats[0][0].dtype == np.float64 and floats[0][0][0, 1] == 0.5 and floats[1] is None


def test_save_point_json_roundtrip(tmp_path: Path) -> None:
    point = parse_point(GOOD["weights"], [["1/3", 7]])
    path = io.save_point_json(point, tmp_path / "out.json", meta={"name": "roundtrip"})
    doc = json.loads(path.read_text())
    assert doc["weights"][0][1][0] == "1/10" and doc["target"] == [["1/3", "7"]]
    again, meta = io.load_point(path)
    assert meta["name"] == "roundtrip" and meta["target_given"]
    assert all(np.all(u == v) for u, v in zip(again.weights, point.weights, strict=True))
    assert np.all(again.labels == point.labels)
    with pytest.raises(InputFileError, match="cannot write the key 'bias'"):
        io.save_point_json(point, tmp_path / "bad.json", meta={"bias": 1})


def test_atomic_write_leaves_nothing_half_written(tmp_path: Path) -> None:
    target = tmp_path / "keep.json"
    target.write_text("old contents")
    with pytest.raises(UnicodeEncodeError):
        io.atomic_write_text(target, "new " + "\ud800")  # fails while writing
    assert target.read_text() == "old contents"
    assert sorted(os.listdir(tmp_path)) == ["keep.json"]  # no temporary file left


def test_npz_members_are_checked_before_loading(tmp_path: Path) -> None:
    p = tmp_path / "odd.npz"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("W1.npy", b"garbage")
        zf.writestr("readme.txt", b"hello")
    with pytest.raises(InputFileError, match=r"'readme\.txt' is not a \.npy array"):
        io.load_point(p)


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_atomic_write_gives_the_usual_file_mode_and_leaves_no_temporary(tmp_path, binary: bool) -> None:
    """mkstemp creates 0600 files; a written vector or figure must get 0666 & ~umask like any
    other file, and no temporary file may be left behind, also when the writer fails."""
    from numeric.oracle.files import atomic_write

    old = os.umask(0o022)
    try:
        target = tmp_path / "out.bin"
        atomic_write(target, lambda fh: fh.write(b"x" if binary else "x"), binary=binary)
        assert target.stat().st_mode & 0o777 == 0o644
        with pytest.raises(RuntimeError):
            atomic_write(tmp_path / "bad", lambda fh: (_ for _ in ()).throw(RuntimeError("boom")))
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


_FLOAT_DTYPES = [np.float16, np.float32, np.float64, np.longdouble]


@pytest.mark.parametrize("dtype", _FLOAT_DTYPES, ids=lambda t: np.dtype(t).name)
def test_every_float_dtype_is_read_as_the_rational_it_stores(tmp_path: Path, dtype: Any) -> None:
    """W_1 = [[1 + ulp]], W_2 = [[1]], M = [[1]] stored in ``dtype``: the entry read must be the
    stored value itself (not its float64 rounding), and the certified enclosure must contain the
    lambda_max recomputed independently (SymPy, exact) from the exact stored entries."""
    import sympy

    from numeric.sharpness import sharpness

    info = np.finfo(dtype)
    w1 = np.array([[dtype(1) + info.eps]], dtype=dtype)
    exact_w1 = Fraction(*w1[0, 0].as_integer_ratio())
    assert exact_w1 == 1 + Fraction(2) ** int(np.log2(info.eps))
    np.savez(tmp_path / "p.npz", W1=w1, W2=np.ones((1, 1), dtype), M=np.ones((1, 1), dtype))
    point, _ = io.load_point(tmp_path / "p.npz")
    assert point.weights[0][0, 0] == exact_w1
    a, b = sympy.Rational(exact_w1.numerator, exact_w1.denominator), sympy.Integer(1)
    # H of 0.5 (w2 w1 - 1)^2 in (w1, w2): [[w2^2, 2 w1 w2 - 1], [2 w1 w2 - 1, w1^2]].
    hess = sympy.Matrix([[b**2, 2 * a * b - 1], [2 * a * b - 1, a**2]])
    trace, det = hess.trace(), hess.det()
    truth = (trace + sympy.sqrt(trace**2 - 4 * det)) / 2  # the larger root, exactly
    result = sharpness(list(point.weights), point.labels, dps=40)
    assert not result.at_minimizer
    lo, hi = (sympy.Rational(e.numerator, e.denominator) for e in (result.enclosure.lo, result.enclosure.hi))
    assert bool(lo <= truth) and bool(truth <= hi), (result.enclosure, sympy.N(truth, 50))


def test_tiny_longdouble_is_not_flushed_to_zero(tmp_path: Path) -> None:
    if np.finfo(np.longdouble).minexp >= np.finfo(np.float64).minexp:
        pytest.skip("this platform's longdouble has the range of float64: no such value exists")
    tiny = np.array([[np.longdouble("1e-400")]])
    np.savez(tmp_path / "p.npz", W1=tiny, W2=np.ones((1, 1), np.longdouble))
    point, _ = io.load_point(tmp_path / "p.npz")
    assert point.weights[0][0, 0] != 0
    assert point.weights[0][0, 0] == Fraction(*tiny[0, 0].as_integer_ratio())
