"""A safe reader for ``.npz`` point files: untrusted archives read with bounded work.

Public:
    read_npz(path, *, max_file_bytes, max_unpacked_bytes) -> dict[str, np.ndarray]
    MEMBER_NAME      the member names accepted: ``W1``, ``W2``, ... and ``M``, ``X``, ``Y``

``numpy.load`` trusts the archive: it decompresses a member whole before anyone can check its
size (a zip bomb), looks members up by names that may be any Unicode, and turns a damaged
archive into ``zlib.error``, ``KeyError`` or ``AttributeError``. Here the file is read once into
memory (so a file replaced while it is read cannot mix two versions), and each member is checked
in this order, refusing with one line (an ``InputFileError``, ``TooLargeError`` or
``ShapeError``) before any larger allocation:

1. the file is a zip archive from its first byte (a ``.npy`` with a zip appended is not);
2. every member is named ``NAME.npy`` with ``NAME`` in :data:`MEMBER_NAME` (ASCII digits only),
   once, and is neither encrypted nor stored with an unknown compression method;
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
from pathlib import Path
from typing import IO

import numpy as np
import numpy.lib.format as npy_format

from derivations.errors import DmfError, InputFileError, ShapeError, TooLargeError

__all__ = ["MEMBER_NAME", "read_npz"]

MEMBER_NAME = re.compile(r"(W[1-9][0-9]{0,2}|M|X|Y)", re.ASCII)
"""Accepted member names (without ``.npy``): ``W1`` ... ``W999``, ``M``, ``X``, ``Y``."""

_ZIP_MAGIC = b"PK\x03\x04"
_HEADER_LIMIT = 10_000
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def read_npz(
    path: str | os.PathLike[str], *, max_file_bytes: int, max_unpacked_bytes: int
) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` at ``path`` by member name (``"W1"``, ..., ``"M"``), each checked
    as the module docstring lists before its data is decompressed."""
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
    unknown = sorted(n for n in names if not MEMBER_NAME.fullmatch(n))
    if unknown:
        raise InputFileError(
            f"{p}: unknown array(s) {', '.join(map(repr, unknown))}; allowed are W1, ..., WL and "
            "optional M, X, Y (ASCII names)"
        )
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
