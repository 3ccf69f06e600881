"""Input and output files of the oracle: a point ``(W_1, ..., W_L)`` with its target or data.

Public:
    load_point(path, *, data, samples_first, target)   a point file (and a data file) ->
                                  ``(Point, meta)``
    load_arrays(path, *, data, samples_first, target)  the same checks, stopping before the
                                  ``Point`` (``InputArrays``)
    load_json_text(text)          the same for JSON text already in memory
    save_point_json(point, path)  write a point as exact fraction strings, atomically
    point_to_json_dict(point)     the JSON object of a point (exact fraction strings)
    atomic_write(path, write, *, binary)  write a file through a temporary file and ``os.replace``
    atomic_write_text(path, text) the same for a text
    check_dps(dps)                refuse a precision outside ``MIN_DPS..MAX_DPS``
    limits: MAX_FILE_BYTES, MAX_NPZ_UNCOMPRESSED_BYTES, MAX_PARAMETERS, MAX_DATA_ENTRIES,
            MAX_DEPTH, MIN_DPS, MAX_DPS
    JSON_KEYS, OPTION_KEYS, META_KEYS, NPZ_OPTIONAL_KEYS, STATE_DICT_DATA_KEYS   the keys a file
            may hold; DATA_SUFFIXES, TARGET_CHOICES   the data files and targets accepted

Formats (README "Reference oracle", "Files from PyTorch"):

* ``.json``: ``{"weights": [W_1, ..., W_L], "target": M?, "data": X?, "labels": Y?}``, each
  matrix a list of rows. An entry is an integer, a decimal string (``"0.1"`` is exactly 1/10),
  a fraction string (``"2/3"``) or a JSON number with a fraction or exponent (``0.1``), which is
  taken as the float64 it parses to, exactly (``0.1`` is ``3602879701896397/2**55``). The keys
  ``name``, ``description`` and ``expected`` are metadata (conformance vectors carry them) and are
  returned in ``meta`` untouched. ``target`` absent means the product of the weights (a minimizer).
  The optional key ``weight_decay`` (one entry, same syntax, ``>= 0``) is the ``lam`` of the
  loss term ``(lam/2) sum_l ||W_l||_F^2`` (``InputArrays.weight_decay``; also ``meta``).
* ``.npz``: arrays ``W1, ..., WL`` (contiguous from 1) and optional ``M``, ``X``, ``Y`` of integer
  or floating dtype, read by ``numeric.oracle.npz`` (never unpickled). No weight decay (the
  oracle's ``--weight-decay`` gives it). ``M``/``Y`` absent means the product, as in JSON.
* a PyTorch ``state_dict`` in an ``.npz`` (``np.savez(path, **{k: v.numpy() for k, v in
  model.state_dict().items()}, inputs=X, targets=Y)``) or a ``.pt`` (``torch.save``; read with
  ``torch.load(weights_only=True, map_location="cpu")``, never unpickling an object, floating
  tensors widened to float64 exactly; needs the extra ``torch``): the arrays ``MODULE.weight``
  are ``W_1, ..., W_L`` in the file's order (module order; ``nn.Linear.weight`` is
  ``(d_out, d_in)`` = ``W_l``, not transposed). A ``MODULE.bias`` is refused (deep matrix
  factorization has none), as are ``W1..WL`` mixed with ``MODULE.weight``. ``inputs``
  (``N x d_0``) and ``targets`` (``N x d_L``) are data one sample per *row*; ``X``/``Y`` stay
  one sample per column; the two pairs are never mixed. A ``state_dict`` without targets is
  refused unless ``target="product"`` says the product is meant: nothing is implied.

``data=FILE`` (``.npz``/``.pt`` with ``inputs``/``targets`` or ``X``/``Y``) gives the data of a
point file that has none; ``samples_first=True`` reads ``X``/``Y`` (JSON ``data``/``labels``) as
one sample per row. Data and labels are checked in the layout the user wrote (a message shows
that shape) and then stored one sample per column, as everywhere else.

A file is untrusted input: entries are read with ``fractions.Fraction``/``decimal`` only (through
``derivations.exact.parse_entry``), never with ``eval`` or ``sympify``. Everything that can be
checked without arithmetic (keys, nesting, ragged rows, shapes, sizes, non-finite literals) is
checked before any entry is converted; every failure is a ``DmfError`` with one line.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
from numeric.oracle.pt import read_pt

__all__ = [
    "DATA_SUFFIXES",
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
    "STATE_DICT_DATA_KEYS",
    "TARGET_CHOICES",
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
STATE_DICT_DATA_KEYS = ("inputs", "targets")
"""Samples-first data of an ``.npz``/``.pt``: ``inputs`` is ``N x d_0``, ``targets`` ``N x d_L``."""
DATA_SUFFIXES = (".npz", ".pt")
"""File types of a separate data file (``load_arrays(..., data=FILE)``, ``--data FILE``)."""
TARGET_CHOICES = ("product",)
"""Values of ``load_arrays(..., target=)`` (``--target``): ``product``, the weights' product."""


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
    finiteness and sizes already checked; data and labels one sample per column) and ``meta``.
    ``target``/``labels`` are ``None`` when the target is the product of the weights (the file
    gave none and its format implies it, or ``target="product"`` asked for it): the point is
    then a minimizer of its own product."""

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


def load_point(
    path: str | os.PathLike[str], *, data: str | os.PathLike[str] | None = None,
    samples_first: bool = False, target: str | None = None,
) -> tuple[Point, dict[str, Any]]:
    """Read ``path`` (``.json``, ``.npz`` or ``.pt``) into a validated exact ``Point``; the
    options are :func:`load_arrays`'s.

    ``meta`` holds ``format``, ``path``, ``target_given`` (whether the files gave a target or
    labels; if not, the point is a minimizer of the product of its weights), ``problem`` (lines
    saying what was taken for granted or transposed, empty when nothing was), ``data_path``
    with ``data=``, ``layers`` for a ``state_dict`` (its weight names, ``W_1`` first) and, for
    JSON, the metadata keys ``name``/``description``/``expected`` that are present.
    """
    arrays = load_arrays(path, data=data, samples_first=samples_first, target=target)
    return arrays.to_point(), arrays.meta


def load_arrays(
    path: str | os.PathLike[str], *, data: str | os.PathLike[str] | None = None,
    samples_first: bool = False, target: str | None = None,
    before_parsing: Callable[[list[Any], Any], None] | None = None,
) -> InputArrays:
    """Read and check ``path`` like :func:`load_point` but stop before building the ``Point``:
    without a target that needs the exact product ``W_L ... W_1``, which for large float64
    inputs costs far more than a float64 sharpness (the ``--float64`` path skips it).

    ``data``: a separate ``.npz``/``.pt`` holding ``inputs``/``targets`` (``N x d_0``,
    ``N x d_L``) or ``X``/``Y`` (``d_0 x N``, ``d_L x N``), for a ``path`` without data or
    target. ``samples_first``: the ``X``/``Y`` arrays (JSON ``data``/``labels``) hold one sample
    per row; they are transposed. ``target="product"``: the target is the product of the
    weights (``Y = W_L ... W_1 X`` with data), never implied for a ``state_dict`` or ``.pt``
    file, a ``data`` file or ``inputs``: those without targets are refused in one line.
    ``before_parsing(weights, data)``: called with the raw arrays (as read, after every shape
    check, before any entry is read exactly), e.g. to refuse over budget from shapes and bits.
    """
    if target is not None and target not in TARGET_CHOICES:
        raise InputFileError(
            f"target must be one of {', '.join(TARGET_CHOICES)} (the product of the weights); "
            f"got {target!r}"
        )
    p = _checked_file(path, (".json", ".npz", ".pt"), "")
    problem = _read_problem(p)
    if data is not None:
        d = _checked_file(data, DATA_SUFFIXES, "--data ")
        problem = _with_data_file(problem, _read_data_file(d))
    arrays = _finish(problem, samples_first=samples_first, target=target,
                     before_parsing=before_parsing)
    arrays.meta["path"] = str(p)
    if data is not None:
        arrays.meta["data_path"] = str(d)
    return arrays


def load_json_text(text: str, source: str = "<json>") -> tuple[Point, dict[str, Any]]:
    """:func:`load_point` for JSON text already in memory (``source`` names it in errors)."""
    arrays = _finish(_json_problem(text, source), samples_first=False, target=None)
    return arrays.to_point(), arrays.meta


def _checked_file(path: str | os.PathLike[str], suffixes: Sequence[str], what: str) -> Path:
    """``path`` as a ``Path`` once its type, existence, regularity and size are checked."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in suffixes:
        expected = ", ".join(suffixes[:-1]) + " or " + suffixes[-1]
        raise InputFileError(
            f"{what}{p}: unknown file type {suffix or '(none)'!r}; expected {expected}"
        )
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise InputFileError(f"{what}{p}: cannot read the file ({exc.strerror or exc})") from exc
    if not p.is_file():
        raise InputFileError(f"{what}{p}: not a regular file")
    if size > MAX_FILE_BYTES:
        raise TooLargeError(
            f"{what}{p}: the file has {size} bytes, more than the limit {MAX_FILE_BYTES}"
        )
    return p


def _read_problem(p: Path) -> _Problem:
    """The point file ``p`` (``.json``, ``.npz`` or ``.pt``), its names and shapes checked."""
    suffix = p.suffix.lower()
    if suffix == ".json":
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputFileError(f"{p}: cannot read the file as UTF-8 text ({exc})") from exc
        return _json_problem(text, str(p))
    arrays = _read_container(p, data_file=False)
    roles = _roles(str(p), list(arrays), data_file=False)
    fmt = ("npz" if suffix == ".npz" else "pt") + (" state_dict" if roles.state_dict else "")
    # only the original formats (JSON, W1..WL in an .npz, X column-major) imply the product
    implied = suffix == ".npz" and not roles.state_dict and roles.data != "inputs"
    return _array_problem(str(p), arrays, roles, fmt, implied)


def _read_data_file(p: Path) -> _Problem:
    """The ``--data`` file ``p``: ``inputs``/``targets`` or ``X``/``Y`` and nothing else."""
    arrays = _read_container(p, data_file=True)
    roles = _roles(f"--data {p}", list(arrays), data_file=True)
    return _array_problem(f"--data {p}", arrays, roles, p.suffix.lower()[1:], False)


def _read_container(p: Path, *, data_file: bool) -> dict[str, np.ndarray]:
    """The named arrays of an ``.npz`` or ``.pt``, their names checked (:func:`_roles`) before
    any array is unpacked or converted."""
    source = f"--data {p}" if data_file else str(p)

    def check(names: list[str]) -> None:
        _roles(source, names, data_file=data_file)

    if p.suffix.lower() == ".pt":
        return read_pt(p, check_names=check, max_bytes=MAX_NPZ_UNCOMPRESSED_BYTES)
    return read_npz(p, max_file_bytes=MAX_FILE_BYTES,
                    max_unpacked_bytes=MAX_NPZ_UNCOMPRESSED_BYTES, check_names=check)


# --- the problem: which matrices, in which layout ----------------------------------------


@dataclass(frozen=True)
class _Mat:
    """One matrix of an input file before it is read exactly, in the layout the user wrote."""

    raw: Any
    """An array, or a JSON list of rows."""
    shape: tuple[int, int]
    name: str
    """As messages name it: ``W_1``, ``0.weight``, ``target M``, ``data X``, ``inputs``."""
    source: str
    """The file it came from (``--data FILE`` for a data file)."""
    rows_are_samples: bool = False
    """Data or labels given ``N x d`` (``inputs``/``targets``, or ``--samples-first``)."""


@dataclass(frozen=True)
class _Problem:
    """What the files hold: weights ``W_1`` first, an optional target or data and labels."""

    source: str
    weights: tuple[_Mat, ...]
    target: _Mat | None
    data: _Mat | None
    labels: _Mat | None
    format: str
    implied_product: bool
    """No target and no labels means the product of the weights (JSON, ``W1..WL`` .npz)."""
    state_dict: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    weight_decay: Fraction | None = None


def _with_data_file(problem: _Problem, data: _Problem) -> _Problem:
    """``problem`` with the data and labels of the ``--data`` file; refused in one line when the
    point file has a target or data of its own (one of them would be dropped silently)."""
    own = problem.data or problem.target
    if own is not None:
        raise InputFileError(
            f"{data.source} conflicts with the {own.name} in {problem.source}; give the data "
            "once: in the point file or with --data"
        )
    return replace(problem, data=data.data, labels=data.labels, implied_product=False)


def _finish(problem: _Problem, *, samples_first: bool, target: str | None,
            before_parsing: Callable[[list[Any], Any], None] | None = None) -> InputArrays:
    """Check the problem whole (target, layout, sizes, chain), then read every entry exactly
    and put data and labels one sample per column."""
    _check_target(problem, target)
    if samples_first:
        problem = _rows_are_samples(problem)
    _check_sizes(problem)
    d0, dl = _chain(problem)
    _check_layout(problem, d0, dl)
    if before_parsing is not None:
        before_parsing([w.raw for w in problem.weights],
                       None if problem.data is None else problem.data.raw)
    ws, m, x, y = _parse_all(problem)
    meta: dict[str, Any] = {
        "format": problem.format,
        "target_given": problem.target is not None or problem.labels is not None,
        "problem": _problem_lines(problem, target),
    }
    if problem.state_dict:
        meta["layers"] = [w.name for w in problem.weights]
    meta.update(problem.meta)
    return InputArrays(ws, m, x, y, meta, problem.weight_decay)


def _check_target(problem: _Problem, target: str | None) -> None:
    """``target="product"`` must not meet a given target or labels; without it, a problem with
    neither is refused unless its format implies the product (JSON, ``W1..WL`` .npz)."""
    given = problem.target or problem.labels
    if target is not None and given is not None:
        raise InputFileError(
            f"--target product conflicts with the {given.name} in {given.source}; give one "
            "of them"
        )
    if target is not None or given is not None or problem.implied_product:
        return
    if problem.data is None:
        raise InputFileError(
            f"{problem.source} holds weights but no data and no target; pass the data of the "
            "trained network's loss (arrays inputs (N x d_0) and targets (N x d_L) in the file, "
            "or --data FILE), or --target product to take the product of the weights as target "
            "(plain factorization, at a global minimizer)"
        )
    x = problem.data
    wanted = "targets (N x d_L)" if x.rows_are_samples else "Y (d_L x N)"
    raise InputFileError(
        f"{x.source} has {x.name} but no labels; add {wanted}, or pass --target product for "
        "Y = W_L...W_1 X (the network's own outputs, a global minimizer)"
    )


def _rows_are_samples(problem: _Problem) -> _Problem:
    """``--samples-first``: ``X``/``Y`` (JSON ``data``/``labels``) hold one sample per row."""
    x, y = problem.data, problem.labels
    if x is None or x.rows_are_samples:
        has = (f"{problem.source} has no X" if x is None
               else f"{x.source} has {x.name}, which is always one sample per row")
        raise InputFileError(
            f"--samples-first says X and Y hold one sample per row, but {has}; drop "
            "--samples-first"
        )
    return replace(problem, data=replace(x, rows_are_samples=True),
                   labels=None if y is None else replace(y, rows_are_samples=True))


def _check_sizes(problem: _Problem) -> None:
    """Depth, parameter count and data entries within the limits (before any parsing)."""
    src, ws = problem.source, problem.weights
    if len(ws) > MAX_DEPTH:
        raise TooLargeError(f"{src}: depth L = {len(ws)} is beyond the limit {MAX_DEPTH}")
    params = sum(r * c for r, c in (w.shape for w in ws))
    if params > MAX_PARAMETERS:
        raise TooLargeError(
            f"{src}: the weights have P = {params} parameters, more than the limit "
            f"{MAX_PARAMETERS}"
        )
    for m in (problem.target, problem.data, problem.labels):
        if m is not None and m.shape[0] * m.shape[1] > MAX_DATA_ENTRIES:
            raise TooLargeError(
                f"{m.source}: {m.name} has {m.shape[0]} x {m.shape[1]} entries, more than the "
                f"limit {MAX_DATA_ENTRIES}"
            )


def _chain(problem: _Problem) -> tuple[int, int]:
    """``(d_0, d_L)`` once the weights chain (``derivations.exact.check_chain``); for a
    ``state_dict`` the message lists which key is which ``W_l``."""
    try:
        dims = check_chain([w.shape for w in problem.weights])
    except DmfError as exc:
        names = ""
        if problem.state_dict:
            shown = [f"W_{l} = {w.name} {w.shape}" for l, w in enumerate(problem.weights, 1)]
            names = f" (module order: {', '.join(shown[:8])}{', ...' if len(shown) > 8 else ''})"
        raise type(exc)(f"{problem.source}: {exc}{names}") from exc
    return dims[0], dims[-1]


def _check_layout(problem: _Problem, d0: int, dl: int) -> None:
    """Data and labels fit the weights, checked in the layout the user wrote (so a message
    shows the shape as the user passed it); the target is ``d_L x d_0``."""
    x, y, m = problem.data, problem.labels, problem.target
    if m is not None and m.shape != (dl, d0):
        raise ShapeError(
            f"{m.source}: {m.name} has shape {m.shape}; expected (d_L, d_0) = ({dl}, {d0})"
        )
    if x is None:
        return
    n = _samples(x, d0)
    if y is None:
        return
    axis = 1 if y.rows_are_samples else 0
    if y.shape[axis] != dl:
        why = f"W_L outputs {dl}"
    elif y.shape[1 - axis] != n:
        why = f"{x.name} holds N = {n} samples"
    else:
        return
    want = (f"N x d_L = {n} x {dl} (one sample per row)" if y.rows_are_samples
            else f"d_L x N = {dl} x {n} (one sample per column)")
    raise ShapeError(f"{y.source}: {y.name} has shape {y.shape} but {why}: {y.name} must be {want}")


def _samples(x: _Mat, d0: int) -> int:
    """The number of samples ``N`` of the data ``x``, refused when it does not take ``d_0``
    inputs in its layout (with a hint when the other layout would fit)."""
    rows, cols = x.shape
    if x.rows_are_samples:
        if cols == d0:
            return rows
        want = f"N x d_0 = N x {d0} (one sample per row)"
        hint = ""
        if rows == d0:
            hint = ("; it looks d_0 x N: save inputs.T, or save it as X (one sample per column)"
                    if x.name == "inputs" else "; it looks d_0 x N: drop --samples-first")
    else:
        if rows == d0:
            return cols
        want = f"d_0 x N = {d0} x N (one sample per column)"
        hint = "; pass --samples-first if it holds one sample per row" if cols == d0 else ""
    raise ShapeError(
        f"{x.source}: {x.name} has shape {x.shape} but W_1 takes {d0} inputs: {x.name} must be "
        f"{want}{hint}"
    )


def _parse_all(problem: _Problem) -> tuple[Any, ...]:
    """Every matrix read exactly (``parse_matrix``, errors naming the user's array and
    position), data and labels then put one sample per column; shapes checked again
    (``check_chain``)."""
    ws = tuple(_parse(w) for w in problem.weights)
    m, x, y = (None if a is None else _parse(a)
               for a in (problem.target, problem.data, problem.labels))
    check_chain(
        [w.shape for w in ws],
        target_shape=None if m is None else m.shape,
        data_shape=None if x is None else x.shape,
        labels_shape=None if y is None else y.shape,
    )
    return ws, m, x, y


def _parse(m: _Mat) -> ExactMatrix:
    try:
        out = parse_matrix(m.raw, m.name)
    except DmfError as exc:
        raise type(exc)(f"{m.source}: {exc}") from exc
    return np.ascontiguousarray(out.T) if m.rows_are_samples else out


def _problem_lines(problem: _Problem, target: str | None) -> list[str]:
    """What the report must say about the problem beyond the file's own matrices: the
    ``state_dict`` keys taken as ``W_l``, data transposed or read from ``--data``, a target
    that is the product of the weights."""
    lines = []
    if problem.state_dict:
        shown = [f"W_{l} = {w.name}" for l, w in enumerate(problem.weights, start=1)]
        if len(shown) > 6:
            shown = [*shown[:3], "...", *shown[-2:]]
        lines.append(f"weights: {', '.join(shown)} (the state_dict's order)")
    x, y = problem.data, problem.labels
    if x is not None and (x.rows_are_samples or x.source != problem.source):
        pair = f"{x.name} {x.shape}" + ("" if y is None else f" and {y.name} {y.shape}")
        where = "" if x.source == problem.source else f" from {x.source.removeprefix('--data ')}"
        layout = (", one sample per row: X = " + f"{x.name}^T" +
                  ("" if y is None else f", Y = {y.name}^T")) if x.rows_are_samples else ""
        lines.append(f"data: {pair}{where}{layout}")
    if problem.target is None and y is None:
        why = "--target product" if target is not None else "given no target"
        if x is None:
            lines.append(f"target: the product of the weights, M = W_L...W_1 ({why}): a global "
                         "minimizer")
        else:
            lines.append(f"labels: the network's own outputs, Y = W_L...W_1 X ({why}): a global "
                         "minimizer")
    return lines


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


def _json_problem(text: str, source: str) -> _Problem:
    """A JSON point file: keys, nesting and shapes checked, no entry converted yet."""
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
        ws = tuple(_Mat(w, _json_matrix_shape(w, f"W_{l}"), f"W_{l}", source)
                   for l, w in enumerate(weights, start=1))
        extra = {key: _Mat(doc[key], _json_matrix_shape(doc[key], _NAMES[key]), _NAMES[key], source)
                 for key in ("target", "data", "labels") if key in doc}
    except DmfError as exc:
        raise type(exc)(f"{source}: {exc}") from exc
    meta: dict[str, Any] = {key: doc[key] for key in META_KEYS if key in doc}
    if lam is not None:
        meta["weight_decay"] = str(lam)
    return _Problem(source, ws, extra.get("target"), extra.get("data"), extra.get("labels"),
                    "json", implied_product=True, meta=meta, weight_decay=lam)


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


# --- npz and pt: named arrays -------------------------------------------------------------


@dataclass(frozen=True)
class _Roles:
    """What each name of an ``.npz`` or ``.pt`` stands for."""

    weights: tuple[str, ...]
    """``W_1`` first: ``W1, W2, ...`` by number, ``MODULE.weight`` in the file's order."""
    state_dict: bool
    target: str | None
    data: str | None
    labels: str | None


_W_NAME = re.compile(r"W[1-9][0-9]{0,2}", re.ASCII)


def _roles(source: str, names: Sequence[str], *, data_file: bool) -> _Roles:
    """The roles of the (already well-formed: ``numeric.oracle.npz.MEMBER_NAME``) names of a
    container, refused in one line when they do not go together: a bias (deep matrix
    factorization has none), ``W1..WL`` mixed with ``MODULE.weight``, ``inputs``/``targets``
    (one sample per row) mixed with ``X``/``Y`` (one sample per column), a target with data,
    labels without data, gaps in ``W1..WL``, no weights; in a ``--data`` file anything but
    data and labels."""
    bias = next((n for n in names if n == "bias" or n.endswith(".bias")), None)
    if bias is not None:
        layer = "the layer" if bias == "bias" else f"layer `{bias.removesuffix('.bias')}`"
        raise InputFileError(
            f"{source}: {layer} has a bias `{bias}`; deep matrix factorization has none: "
            "nn.Linear(..., bias=False)"
        )
    present = set(names)
    if data_file and present - {"inputs", "targets", "X", "Y"}:
        other = sorted(present - {"inputs", "targets", "X", "Y"})
        raise InputFileError(
            f"{source}: holds {', '.join(map(repr, other))}; a data file holds only inputs, "
            "targets (one sample per row) or X, Y (one sample per column): the weights and a "
            "target go in the point file"
        )
    module = [n for n in names if n == "weight" or n.endswith(".weight")]
    numbered = [n for n in names if _W_NAME.fullmatch(n)]
    if module and numbered:
        raise InputFileError(
            f"{source}: mixes the names W1..WL ({numbered[0]}) with a state_dict's "
            f"MODULE.weight ({module[0]}); name every weight one way"
        )
    if present & {"inputs", "targets"} and present & {"X", "Y"}:
        rows = sorted(present & {"inputs", "targets"})
        cols = sorted(present & {"X", "Y"})
        raise InputFileError(
            f"{source}: mixes {', '.join(rows)} (one sample per row) with {', '.join(cols)} "
            "(one sample per column); give one pair, in one layout"
        )
    data = next((n for n in ("inputs", "X") if n in present), None)
    labels = next((n for n in ("targets", "Y") if n in present), None)
    target = "M" if "M" in present else None
    if target and data:
        raise InputFileError(f"{source}: 'M' (target) and '{data}' (data) conflict; give one of them")
    if labels and not data:
        wanted = "inputs" if labels == "targets" else "X"
        raise InputFileError(f"{source}: '{labels}' (labels) given without '{wanted}' (data)")
    if data_file:
        if not data:
            raise InputFileError(f"{source}: no data; expected inputs (N x d_0) or X (d_0 x N)")
        return _Roles((), False, None, data, labels)
    weights = tuple(module) if module else _numbered_weights(source, numbered)
    return _Roles(weights, bool(module), target, data, labels)


def _numbered_weights(source: str, numbered: Sequence[str]) -> tuple[str, ...]:
    """``W1, ..., WL`` in order, refused when there are none or there is a gap."""
    layers = sorted(int(n[1:]) for n in numbered)
    if not layers:
        raise InputFileError(
            f"{source}: no weight arrays; expected W1, ..., WL or a state_dict's MODULE.weight"
        )
    if layers != list(range(1, len(layers) + 1)):
        missing = sorted(set(range(1, max(layers) + 1)) - set(layers))
        raise InputFileError(
            f"{source}: the weight arrays must be W1, ..., WL without gaps; missing "
            f"{', '.join(f'W{i}' for i in missing)}"
        )
    return tuple(f"W{l}" for l in layers)


def _array_problem(source: str, arrays: Mapping[str, np.ndarray], roles: _Roles, fmt: str,
                   implied: bool) -> _Problem:
    """The problem of a container whose names have their roles: dtypes and 2-D shapes checked
    (the ``.npz`` reader checked them already; a ``.pt``'s tensors were checked alike)."""
    for name, arr in arrays.items():
        if arr.dtype.kind not in "iuf":
            raise InputFileError(
                f"{source}: array {name!r} has dtype {arr.dtype}; expected an integer or floating dtype"
            )
        if arr.ndim != 2:
            raise ShapeError(f"{source}: array {name!r} has shape {arr.shape}; expected a 2-D matrix")

    def mat(key: str | None) -> _Mat | None:
        if key is None:
            return None
        name = _ARRAY_NAMES.get(key, key)
        return _Mat(arrays[key], _shape2(arrays[key]), name, source, key in ("inputs", "targets"))

    ws = tuple(_Mat(arrays[k], _shape2(arrays[k]), k if roles.state_dict else f"W_{k[1:]}", source)
               for k in roles.weights)
    return _Problem(source, ws, mat(roles.target), mat(roles.data), mat(roles.labels), fmt,
                    implied, state_dict=roles.state_dict)


_ARRAY_NAMES = {"M": "target M", "X": "data X", "Y": "labels Y"}


def _shape2(arr: np.ndarray) -> tuple[int, int]:
    return int(arr.shape[0]), int(arr.shape[1])


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
