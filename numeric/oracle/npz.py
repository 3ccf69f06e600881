"""A safe reader for ``.npz`` point files: untrusted archives read with bounded work.

Public:
    read_npz(path, *, max_file_bytes, max_unpacked_bytes, check_names=None)
                     -> dict[str, np.ndarray]  (in the archive's member order)
    MEMBER_NAME      the member names accepted: ``W1``, ``W2``, ..., ``M``, ``X``, ``Y``, and a
                     PyTorch ``state_dict``'s ``MODULE.weight``/``MODULE.bias`` with ``inputs``,
                     ``targets``
    MAX_MEMBER_NAME  the longest member name accepted (characters, ``.npy`` excluded)
    check_member_names(source, names, *, what)  refuse names outside ``MEMBER_NAME`` in one line
    shown_name(name) ``repr(name)`` cut to a readable length for messages

``numpy.load`` trusts the archive: it decompresses a member whole before anyone can check its
size (a zip bomb), looks members up by names that may be any Unicode, and turns a damaged
archive into ``zlib.error``, ``KeyError`` or ``AttributeError``. Here the file is read once into
memory (so a file replaced while it is read cannot mix two versions), and each member is checked
in this order, refusing with one line (an ``InputFileError``, ``TooLargeError`` or
``ShapeError``) before any larger allocation:

1. the file is a zip archive from its first byte (a ``.npy`` with a zip appended is not);
2. every member is named ``NAME.npy`` with ``NAME`` in :data:`MEMBER_NAME` (ASCII letters,
   digits and ``_`` only, the dots of a module path ``layers.0.weight`` the one separator; no
   ``/``, ``\\``, ``..`` or empty segment; at most :data:`MAX_MEMBER_NAME` characters), once,
   and is neither encrypted nor stored with an unknown compression method; then
   ``check_names(names)`` (the caller's rules on the set of names: which may go together) runs
   before any member's data is read;
3. its ``.npy`` header (magic, version, header dictionary, at most 10,000 bytes) declares an
   integer or floating dtype, two dimensions and a size within ``max_unpacked_bytes`` summed over
   the members;
4. exactly that many bytes are decompressed (``ZipExtFile.read(n)`` never produces more), and
   the member must end there; a damaged stream (bad deflate data, CRC mismatch) is refused.
"""

from __future__ import annotations

import io
import math
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

import numpy as np
import numpy.lib.format as npy_format

from derivations.errors import DmfError, InputFileError, ShapeError, TooLargeError

__all__ = ["MAX_MEMBER_NAME", "MEMBER_NAME", "check_member_names", "read_npz", "shown_name"]

_MODULE_PATH = r"(?:[A-Za-z0-9_]{1,64}\.){0,16}"
MEMBER_NAME = re.compile(
    rf"(W[1-9][0-9]{{0,2}}|M|X|Y|inputs|targets|{_MODULE_PATH}(?:weight|bias))", re.ASCII
)
"""Accepted member names (without ``.npy``): ``W1`` ... ``W999``, ``M``, ``X``, ``Y``; and the
names ``np.savez(path, **model.state_dict(), inputs=X, targets=Y)`` writes: ``inputs``,
``targets`` and ``MODULE.weight``/``MODULE.bias`` (``weight`` alone for a bare ``nn.Linear``),
``MODULE`` a dotted path of at most 16 segments of 1 to 64 ASCII letters, digits or ``_``."""
MAX_MEMBER_NAME = 200
"""Longest accepted member name (checked before the pattern; longer names are shown cut)."""
_ALLOWED = ("allowed are W1, ..., WL and optional M, X, Y, or a state_dict's MODULE.weight "
            "arrays with optional inputs, targets (ASCII names)")

_ZIP_MAGIC = b"PK\x03\x04"
_HEADER_LIMIT = 10_000
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def read_npz(
    path: str | os.PathLike[str], *, max_file_bytes: int, max_unpacked_bytes: int,
    check_names: Callable[[list[str]], None] | None = None,
) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` at ``path`` by member name (``"W1"``, ..., ``"0.weight"``), in
    the archive's member order (``np.savez`` keeps its keywords' order: a ``state_dict``'s
    module order), each checked as the module docstring lists before its data is decompressed.
    ``check_names(names)``, given, sees the validated names first and may refuse them."""
    p = Path(path)
    data = _read_once(p, max_file_bytes)
    if not data.startswith(_ZIP_MAGIC):
        raise InputFileError(
            f"{p}: not a readable .npz archive (a zip file starts with {_ZIP_MAGIC!r}; this one "
            f"starts with {data[:4]!r})"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError,
            NotImplementedError) as exc:  # e.g. "zip file version 6.4" from a damaged header
        raise InputFileError(f"{p}: not a readable .npz archive ({exc})") from exc
    names = _member_names(p, infos)
    if check_names is not None:
        check_names(names)
    budget = max_unpacked_bytes
    arrays: dict[str, np.ndarray] = {}
    with archive:
        for info, name in zip(infos, names, strict=True):
            arrays[name] = _read_member(p, archive, info, name, budget)
            budget -= arrays[name].nbytes
    return arrays


def _read_once(p: Path, max_file_bytes: int) -> bytes:
    try:
        with open(p, "rb") as fh:
            data = fh.read(max_file_bytes + 1)
    except OSError as exc:
        raise InputFileError(f"{p}: cannot read the file ({exc.strerror or exc})") from exc
    if len(data) > max_file_bytes:
        raise TooLargeError(f"{p}: the file has more than {max_file_bytes} bytes, the limit")
    return data


def _member_names(p: Path, infos: list[zipfile.ZipInfo]) -> list[str]:
    names: list[str] = []
    for info in infos:
        if not info.filename.endswith(".npy"):
            raise InputFileError(f"{p}: the archive member {info.filename!r} is not a .npy array")
        names.append(info.filename[: -len(".npy")])
    check_member_names(str(p), names)
    for info, name in zip(infos, names, strict=True):
        if names.count(name) > 1:
            raise InputFileError(f"{p}: the archive holds {info.filename!r} twice")
        if info.flag_bits & 0x1:
            raise InputFileError(f"{p}: the archive member {info.filename!r} is encrypted")
        if info.compress_type not in _METHODS:
            raise InputFileError(
                f"{p}: the archive member {info.filename!r} uses compression method "
                f"{info.compress_type}; expected stored or deflated"
            )
    return names


def check_member_names(source: str, names: Sequence[str], *, what: str = "array") -> None:
    """Refuse, in one line listing the allowed ones, every name not in :data:`MEMBER_NAME` or
    longer than :data:`MAX_MEMBER_NAME` (also the keys of a ``.pt`` state_dict: ``what="key"``)."""
    unknown = sorted(
        n for n in names if len(n) > MAX_MEMBER_NAME or not MEMBER_NAME.fullmatch(n)
    )
    if unknown:
        shown = ", ".join(shown_name(n) for n in unknown[:10]) + (", ..." if len(unknown) > 10 else "")
        raise InputFileError(f"{source}: unknown {what}(s) {shown}; {_ALLOWED}")


def shown_name(name: str) -> str:
    """``repr(name)``, cut to about 60 characters (a zip member name may have 65,535)."""
    return repr(name) if len(name) <= 60 else repr(name[:60]) + f"... ({len(name)} characters)"


def _read_member(
    p: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: int
) -> np.ndarray:
    where = f"{p}: array {name!r}"
    try:
        with archive.open(info) as fh:
            shape, fortran, dtype = _header(fh, where)
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes > budget:
                raise TooLargeError(
                    f"{where} would unpack to {nbytes} bytes (its header declares shape {shape} "
                    f"of {dtype}), more than the {budget} bytes left of the limit on unpacked "
                    "arrays"
                )
            raw = fh.read(nbytes)
            trailing = fh.read(1)
    except DmfError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError,
            ValueError, OSError) as exc:  # ValueError: e.g. a negative seek from a bad offset
        raise InputFileError(f"{where} is damaged ({exc})") from exc
    if len(raw) != nbytes:
        raise InputFileError(f"{where} holds {len(raw)} data bytes; its header declares {nbytes}")
    if trailing:
        raise InputFileError(f"{where} has data beyond the {nbytes} bytes its header declares")
    flat = np.frombuffer(raw, dtype=dtype)
    return flat.reshape(shape, order="F" if fortran else "C")


def _header(fh: IO[bytes], where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        version = npy_format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(fh, _HEADER_LIMIT)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(fh, _HEADER_LIMIT)
        else:
            raise InputFileError(f"{where}: unknown .npy format version {version}")
    except (ValueError, TypeError, SyntaxError, OverflowError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{where} is not a .npy array ({exc})") from exc
    if dtype.hasobject:
        raise InputFileError(
            f"{where} is pickled (object dtype); pickled arrays are refused, store numbers "
            "(integer or float dtype)"
        )
    if dtype.kind not in "iuf":
        raise InputFileError(
            f"{where} has dtype {dtype}; expected an integer or floating dtype"
        )
    if len(shape) != 2:
        raise ShapeError(f"{where} has shape {shape}; expected a 2-D matrix")
    return tuple(int(n) for n in shape), bool(fortran), dtype
