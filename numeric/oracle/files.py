"""Input and output files of the oracle: a point ``(W_1, ..., W_L)`` with its target or data.

Public:
    load_point(path)              ``.json`` or ``.npz`` file -> ``(Point, meta)``
    load_arrays(path)             the same checks, stopping before the ``Point`` (``InputArrays``)
    load_json_text(text)          the same for JSON text already in memory
    save_point_json(point, path)  write a point as exact fraction strings, atomically
    point_to_json_dict(point)     the JSON object of a point (exact fraction strings)
    atomic_write(path, write, *, binary)  write a file through a temporary file and ``os.replace``
    atomic_write_text(path, text) the same for a text
    check_dps(dps)                refuse a precision outside ``MIN_DPS..MAX_DPS``
    limits: MAX_FILE_BYTES, MAX_NPZ_UNCOMPRESSED_BYTES, MAX_PARAMETERS, MAX_DATA_ENTRIES,
            MAX_DEPTH, MIN_DPS, MAX_DPS
    JSON_KEYS, OPTION_KEYS, META_KEYS, NPZ_OPTIONAL_KEYS   the keys a file may hold

Formats (README "Reference oracle"):

* ``.json``: ``{"weights": [W_1, ..., W_L], "target": M?, "data": X?, "labels": Y?}``, each
  matrix a list of rows. An entry is an integer, a decimal string (``"0.1"`` is exactly 1/10),
  a fraction string (``"2/3"``) or a JSON number with a fraction or exponent (``0.1``), which is
  taken as the float64 it parses to, exactly (``0.1`` is ``3602879701896397/2**55``). The keys
  ``name``, ``description`` and ``expected`` are metadata (conformance vectors carry them) and are
  returned in ``meta`` untouched. ``target`` absent means the product of the weights (a minimizer).
  The optional key ``weight_decay`` (one entry, same syntax, ``>= 0``) is the ``lam`` of the
  loss term ``(lam/2) sum_l ||W_l||_F^2`` (``InputArrays.weight_decay``; also ``meta``).
* ``.npz``: arrays ``W1, ..., WL`` (contiguous from 1) and optional ``M``, ``X``, ``Y`` of integer
  or floating dtype, loaded with ``allow_pickle=False``. No weight decay (the oracle's
  ``--weight-decay`` gives it).

A file is untrusted input: entries are read with ``fractions.Fraction``/``decimal`` only (through
``derivations.exact.parse_entry``), never with ``eval`` or ``sympify``. Everything that can be
checked without arithmetic (keys, nesting, ragged rows, shapes, sizes, non-finite literals) is
checked before any entry is converted; every failure is a ``DmfError`` with one line.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from derivations.errors import (
    DmfError,
    EmptyInputError,
    EntryError,
    InputFileError,
    NonFiniteError,
    ShapeError,
    TooLargeError,
)
from derivations.exact import ExactMatrix, Point, check_chain, parse_matrix, parse_point
from numeric.oracle.npz import read_npz

__all__ = [
    "JSON_KEYS",
    "MAX_DATA_ENTRIES",
    "MAX_DEPTH",
    "MAX_DPS",
    "MAX_FILE_BYTES",
    "MAX_NPZ_UNCOMPRESSED_BYTES",
    "MAX_PARAMETERS",
    "META_KEYS",
    "MIN_DPS",
    "NPZ_OPTIONAL_KEYS",
    "OPTION_KEYS",
    "InputArrays",
    "atomic_write",
    "atomic_write_text",
    "check_dps",
    "load_arrays",
    "load_json_text",
    "load_point",
    "point_to_json_dict",
    "save_point_json",
]

MAX_FILE_BYTES = 256 * 2**20
"""Largest input file accepted (on disk), 256 MiB."""
MAX_NPZ_UNCOMPRESSED_BYTES = 1024 * 2**20
"""Largest total uncompressed size of the arrays in an ``.npz`` (guards against zip bombs)."""
MAX_PARAMETERS = 2_000_000
"""Largest number of parameters ``P = sum_l d_l d_{l-1}``."""
MAX_DATA_ENTRIES = 2_000_000
"""Largest number of entries of each of ``M``, ``X``, ``Y``."""
MAX_DEPTH = 100
"""Largest depth ``L``."""
MIN_DPS = 5
MAX_DPS = 5000
"""Range of the precision ``dps`` (decimal digits) accepted from a user (``numeric.sharpness``'s)."""
_MAX_INT_DIGITS = 4000

JSON_KEYS = ("weights", "target", "data", "labels")
OPTION_KEYS = ("weight_decay",)
META_KEYS = ("name", "description", "expected")
NPZ_OPTIONAL_KEYS = ("M", "X", "Y")


def check_dps(dps: int) -> int:
    """Refuse a precision outside ``MIN_DPS..MAX_DPS`` decimal digits.

    >>> check_dps(50)
    50
    """
    if isinstance(dps, bool) or not isinstance(dps, int) or not MIN_DPS <= dps <= MAX_DPS:
        raise TooLargeError(
            f"dps = {dps!r} is outside the accepted range {MIN_DPS}..{MAX_DPS} decimal digits"
        )
    return dps


@dataclass(frozen=True)
class InputArrays:
    """A checked input file before the ``Point`` is built: exact ``Fraction`` matrices (shapes,
    finiteness and sizes already checked) and ``meta``. ``target``/``labels`` are ``None`` when
    the file gave none (the point is then a minimizer of its own product)."""

    weights: tuple[ExactMatrix, ...]
    target: ExactMatrix | None
    data: ExactMatrix | None
    labels: ExactMatrix | None
    meta: dict[str, Any]
    weight_decay: Fraction | None = None
    """The file's ``weight_decay`` (exact, ``>= 0``), ``None`` when it has none."""

    def float64_arrays(self) -> tuple[list[np.ndarray], Any, Any, Any] | None:
        """``(weights, target, data, labels)`` as float64 arrays when every entry is a float64
        exactly (integers, binary fractions, numbers read from an ``.npz``), else ``None``:
        then a float64 copy would move the point (a minimizer could stop being one)."""
        mats = [*self.weights, self.target, self.data, self.labels]
        out = [None if m is None else _exact_float64(m) for m in mats]
        if any(o is None for o, m in zip(out, mats, strict=True) if m is not None):
            return None
        ws = [o for o in out[: len(self.weights)] if o is not None]
        return ws, out[-3], out[-2], out[-1]

    def to_point(self) -> Point:
        """The validated ``Point`` (computes the exact product when no target was given)."""
        return parse_point(list(self.weights), self.target, data=self.data, labels=self.labels)


def _exact_float64(m: ExactMatrix) -> np.ndarray | None:
    try:
        out = np.array([float(x) for x in m.flat], dtype=np.float64).reshape(m.shape)
    except OverflowError:  # an entry beyond float64's range is not a float64
        return None
    if all(Fraction(float(f)) == x for f, x in zip(out.flat, m.flat, strict=True)):
        return out
    return None


def load_point(path: str | os.PathLike[str]) -> tuple[Point, dict[str, Any]]:
    """Read ``path`` (``.json`` or ``.npz``) into a validated exact ``Point``.

    ``meta`` holds ``format``, ``path``, ``target_given`` (whether the file gave a target or
    labels; if not, the point is a minimizer of the product of its weights) and, for JSON, the
    metadata keys ``name``/``description``/``expected`` that are present.
    """
    arrays = load_arrays(path)
    return arrays.to_point(), arrays.meta


def load_arrays(path: str | os.PathLike[str]) -> InputArrays:
    """Read and check ``path`` like :func:`load_point` but stop before building the ``Point``:
    without a target that needs the exact product ``W_L ... W_1``, which for large float64
    inputs costs far more than a float64 sharpness (the ``--float64`` path skips it)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".json", ".npz"):
        raise InputFileError(f"{p}: unknown file type {suffix or '(none)'!r}; expected .json or .npz")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise InputFileError(f"{p}: cannot read the file ({exc.strerror or exc})") from exc
    if not p.is_file():
        raise InputFileError(f"{p}: not a regular file")
    if size > MAX_FILE_BYTES:
        raise TooLargeError(f"{p}: the file has {size} bytes, more than the limit {MAX_FILE_BYTES}")
    if suffix == ".json":
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputFileError(f"{p}: cannot read the file as UTF-8 text ({exc})") from exc
        arrays = _load_json(text, str(p))
    else:
        arrays = _load_npz(p)
    arrays.meta["path"] = str(p)
    return arrays


def load_json_text(text: str, source: str = "<json>") -> tuple[Point, dict[str, Any]]:
    """:func:`load_point` for JSON text already in memory (``source`` names it in errors)."""
    arrays = _load_json(text, source)
    return arrays.to_point(), arrays.meta


# --- JSON -------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise NonFiniteError(
        f"the JSON literal {name} is not a finite number; every entry must be finite"
    )


def _keep_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NonFiniteError(
            f"the JSON number {text} overflows float64; write it as a string (\"{text}\") "
            "to have it read exactly"
        )
    return value


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > _MAX_INT_DIGITS:
        raise EntryError(
            f"a JSON integer with {digits} digits is longer than the limit {_MAX_INT_DIGITS} digits"
        )
    return int(text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InputFileError(f"the key {key!r} appears twice in one JSON object")
        out[key] = value
    return out


def _load_json(text: str, source: str) -> InputArrays:
    try:
        doc = json.loads(
            text,
            parse_float=_keep_float,
            parse_int=_bounded_int,
            parse_constant=_reject_constant,
            object_pairs_hook=_no_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except DmfError as exc:
        raise type(exc)(f"{source}: {exc}") from exc
    except RecursionError as exc:
        raise InputFileError(f"{source}: the JSON is nested too deeply") from exc
    if not isinstance(doc, dict):
        raise InputFileError(
            f"{source}: the top level must be a JSON object with a 'weights' key; got "
            f"{_json_type(doc)}"
        )
    unknown = sorted(set(doc) - set(JSON_KEYS) - set(OPTION_KEYS) - set(META_KEYS))
    if unknown:
        raise InputFileError(
            f"{source}: unknown key(s) {', '.join(map(repr, unknown))}; allowed keys are "
            f"{', '.join(JSON_KEYS + OPTION_KEYS + META_KEYS)}"
        )
    lam = None if "weight_decay" not in doc else _json_weight_decay(doc["weight_decay"], source)
    if "weights" not in doc:
        raise InputFileError(f"{source}: the key 'weights' (the list [W_1, ..., W_L]) is missing")
    weights = doc["weights"]
    if not isinstance(weights, list):
        raise InputFileError(
            f"{source}: 'weights' must be a list of matrices [W_1, ..., W_L]; got {_json_type(weights)}"
        )
    _check_keys_compatible(source, "target" in doc, "data" in doc, "labels" in doc)
    try:
        shapes = [_json_matrix_shape(w, f"W_{l}") for l, w in enumerate(weights, start=1)]
        extra = {
            key: _json_matrix_shape(doc[key], _NAMES[key])
            for key in ("target", "data", "labels")
            if key in doc
        }
        _check_sizes(shapes, extra)
        arrays = _parse_all(weights, doc.get("target"), doc.get("data"), doc.get("labels"))
    except DmfError as exc:
        raise type(exc)(f"{source}: {exc}") from exc
    meta: dict[str, Any] = {
        "format": "json",
        "target_given": "target" in doc or "labels" in doc,
    }
    meta.update({key: doc[key] for key in META_KEYS if key in doc})
    if lam is not None:
        meta["weight_decay"] = str(lam)
    ws, m, x, y = arrays
    return InputArrays(ws, m, x, y, meta, lam)


def _json_weight_decay(value: Any, source: str) -> Fraction:
    """The file's ``weight_decay``: one exact number ``>= 0`` (one line otherwise)."""
    from numeric.result import parse_weight_decay

    if isinstance(value, list | dict) or value is None:
        raise EntryError(f"{source}: 'weight_decay' must be one number (2, \"0.01\", \"1/3\"); "
                         f"got {_json_type(value)}")
    try:
        return parse_weight_decay(value)
    except DmfError as exc:
        raise type(exc)(f"{source}: {exc}") from None


_NAMES = {"target": "target M", "data": "data X", "labels": "labels Y"}


def _json_type(x: Any) -> str:
    if isinstance(x, bool):
        return "a boolean"
    if x is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", int: "an integer",
            float: "a number"}.get(type(x), type(x).__name__)


def _json_matrix_shape(obj: Any, name: str) -> tuple[int, int]:
    """Check nesting, emptiness and raggedness of a JSON matrix without converting entries."""
    if not isinstance(obj, list):
        raise ShapeError(f"{name} must be a list of rows; got {_json_type(obj)}")
    if not obj:
        raise EmptyInputError(f"{name} is empty ([]); every dimension must be >= 1")
    ncols = None
    for i, row in enumerate(obj):
        if not isinstance(row, list):
            raise ShapeError(f"{name} must be a list of rows; row {i} is {_json_type(row)}")
        if ncols is None:
            ncols = len(row)
            if ncols == 0:
                raise EmptyInputError(f"{name} has an empty row 0; every dimension must be >= 1")
        elif len(row) != ncols:
            raise ShapeError(f"{name} is ragged: row 0 has {ncols} entries but row {i} has {len(row)}")
        for j, x in enumerate(row):
            if isinstance(x, list | dict):
                raise ShapeError(f"{name}[{i}][{j}] is {_json_type(x)}; {name} must be 2-D")
            if x is None or isinstance(x, bool):
                raise EntryError(
                    f"{name}[{i}, {j}] is {_json_type(x)}; expected an integer, a decimal or "
                    "fraction string, or a number"
                )
    assert ncols is not None
    return len(obj), ncols


def _check_keys_compatible(source: str, target: bool, data: bool, labels: bool) -> None:
    if target and data:
        raise InputFileError(
            f"{source}: 'target' and 'data' conflict; give either a target M (with X = I) or "
            "data X with optional labels Y"
        )
    if labels and not data:
        raise InputFileError(f"{source}: 'labels' given without 'data'; give data X too, or use 'target'")


def _check_sizes(
    weight_shapes: Sequence[tuple[int, int]], extra: Mapping[str, tuple[int, int]]
) -> None:
    if len(weight_shapes) > MAX_DEPTH:
        raise TooLargeError(f"depth L = {len(weight_shapes)} is beyond the limit {MAX_DEPTH}")
    params = sum(r * c for r, c in weight_shapes)
    if params > MAX_PARAMETERS:
        raise TooLargeError(
            f"the weights have P = {params} parameters, more than the limit {MAX_PARAMETERS}"
        )
    for key, (r, c) in extra.items():
        if r * c > MAX_DATA_ENTRIES:
            raise TooLargeError(
                f"{_NAMES.get(key, key)} has {r} x {c} entries, more than the limit {MAX_DATA_ENTRIES}"
            )
    check_chain(
        list(weight_shapes),
        target_shape=extra.get("target"),
        data_shape=extra.get("data"),
        labels_shape=extra.get("labels"),
    )


# --- npz --------------------------------------------------------------------------------


def _npz_weight_count(p: Path, names: Sequence[str]) -> int:
    unknown = sorted(
        n for n in names
        if n not in NPZ_OPTIONAL_KEYS and not (n.startswith("W") and n[1:].isdigit() and n[1] != "0")
    )
    if unknown:
        raise InputFileError(
            f"{p}: unknown array(s) {', '.join(map(repr, unknown))}; allowed are W1, ..., WL "
            f"and optional {', '.join(NPZ_OPTIONAL_KEYS)}"
        )
    layers = sorted(int(n[1:]) for n in names if n.startswith("W"))
    if not layers:
        raise InputFileError(f"{p}: no weight arrays; expected W1, ..., WL")
    if layers != list(range(1, len(layers) + 1)):
        missing = sorted(set(range(1, max(layers) + 1)) - set(layers))
        raise InputFileError(
            f"{p}: the weight arrays must be W1, ..., WL without gaps; missing "
            f"{', '.join(f'W{i}' for i in missing)}"
        )
    return len(layers)


def _load_npz(p: Path) -> InputArrays:
    """An ``.npz`` read by the safe reader (``numeric.oracle.npz``: bounded work, one-line
    refusals), then checked like a JSON file."""
    arrays = read_npz(
        p, max_file_bytes=MAX_FILE_BYTES, max_unpacked_bytes=MAX_NPZ_UNCOMPRESSED_BYTES
    )
    names = list(arrays)
    depth = _npz_weight_count(p, names)
    if "M" in names and "X" in names:
        raise InputFileError(f"{p}: 'M' (target) and 'X' (data) conflict; give one of them")
    if "Y" in names and "X" not in names:
        raise InputFileError(f"{p}: 'Y' (labels) given without 'X' (data)")
    for name, arr in arrays.items():
        if arr.dtype.kind not in "iuf":
            raise InputFileError(
                f"{p}: array {name!r} has dtype {arr.dtype}; expected an integer or floating dtype"
            )
        if arr.ndim != 2:
            raise ShapeError(f"{p}: array {name!r} has shape {arr.shape}; expected a 2-D matrix")
    weights = [arrays[f"W{l}"] for l in range(1, depth + 1)]
    extra_names = {"M": "target", "X": "data", "Y": "labels"}
    extra = {extra_names[k]: arrays[k].shape for k in NPZ_OPTIONAL_KEYS if k in arrays}
    try:
        _check_sizes([w.shape for w in weights], extra)
        parsed = _parse_all(weights, arrays.get("M"), arrays.get("X"), arrays.get("Y"))
    except DmfError as exc:
        raise type(exc)(f"{p}: {exc}") from exc
    ws, m, x, y = parsed
    return InputArrays(ws, m, x, y, {"format": "npz", "target_given": "M" in arrays or "Y" in arrays})


def _parse_all(weights: Sequence[Any], target: Any, data: Any, labels: Any) -> tuple[Any, ...]:
    """Every matrix read exactly (``parse_matrix``), shapes checked (``check_chain``)."""
    ws = tuple(parse_matrix(w, f"W_{l}") for l, w in enumerate(weights, start=1))
    m, x, y = (
        None if a is None else parse_matrix(a, name)
        for a, name in ((target, "target M"), (data, "data X"), (labels, "labels Y"))
    )
    check_chain(
        [w.shape for w in ws],
        target_shape=None if m is None else m.shape,
        data_shape=None if x is None else x.shape,
        labels_shape=None if y is None else y.shape,
    )
    return ws, m, x, y


# --- writing ----------------------------------------------------------------------------


def _exact_rows(m: np.ndarray) -> list[list[str]]:
    return [[str(Fraction(x)) for x in row] for row in m]


def point_to_json_dict(point: Point) -> dict[str, Any]:
    """The JSON object of ``point``: every entry an exact fraction string."""
    doc: dict[str, Any] = {"weights": [_exact_rows(w) for w in point.weights]}
    if point.data is None:
        doc["target"] = _exact_rows(point.labels)
    else:
        doc["data"] = _exact_rows(point.data)
        doc["labels"] = _exact_rows(point.labels)
    return doc


def save_point_json(
    point: Point, path: str | os.PathLike[str], *, meta: Mapping[str, Any] | None = None
) -> Path:
    """Write ``point`` to ``path`` as JSON in the input format, entries as exact fraction
    strings (``"-3/7"``), target or data/labels always written out. ``meta`` may add the keys
    ``name``, ``description``, ``expected``. The write is atomic (temporary file in the same
    directory, then ``os.replace``): a reader never sees a half-written file."""
    doc = point_to_json_dict(point)
    for key, value in (meta or {}).items():
        if key not in META_KEYS:
            raise InputFileError(f"cannot write the key {key!r}; metadata keys are {', '.join(META_KEYS)}")
        doc[key] = value
    return atomic_write_text(path, json.dumps(doc, indent=1) + "\n")


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[Any], Any], *, binary: bool = False
) -> Path:
    """Call ``write(fh)`` on a temporary file in the target's directory, then ``os.replace`` it
    onto ``path`` (atomic on POSIX): a reader never sees a half-written file, and the temporary
    file is removed on any failure. The file gets the usual mode ``0666 & ~umask`` (``mkstemp``
    alone would leave it ``0600``)."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` with :func:`atomic_write`."""
    return atomic_write(path, lambda fh: fh.write(text))
