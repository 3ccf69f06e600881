"""Hostile ``.npz`` files: each is refused in one line (a ``DmfError``) before large work, and a
fuzz test mutates a valid archive byte by byte: a mutated file is either read or refused with a
``DmfError``, never another exception."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations.errors import DmfError, InputFileError, ShapeError, TooLargeError
from numeric.oracle.npz import read_npz

LIMITS = {"max_file_bytes": 2**20, "max_unpacked_bytes": 2**20}


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _zip(members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


GOOD = {"W1.npy": _npy(np.array([[1.0, 2.0]])), "W2.npy": _npy(np.array([[3.0], [4.0]]))}


def _set_flag(data: bytes, flag: int) -> bytes:
    """Set a general-purpose flag bit in every local and central header."""
    out = bytearray(data)
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = out.find(sig)
        while i >= 0:
            (bits,) = struct.unpack_from("<H", out, i + offset)
            struct.pack_into("<H", out, i + offset, bits | flag)
            i = out.find(sig, i + 4)
    return bytes(out)


def _corrupt_deflate(data: bytes) -> bytes:
    out = bytearray(data)
    start = 30 + len("W1.npy")  # first member's data, after its local header
    for k in range(start + 5, start + 25):
        out[k] ^= 0xFF
    return bytes(out)


def _huge_header() -> bytes:
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1048576, 1048576), }"
    header = header.ljust(118) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1")


HOSTILE: dict[str, tuple[Callable[[], bytes], type[DmfError], str]] = {
    "member-not-npy": (lambda: _zip({**GOOD, "notes.txt": b"hi"}), InputFileError, "not a .npy array"),
    "arabic-digit-name": (lambda: _zip({"W\u0661.npy": GOOD["W1.npy"]}), InputFileError, "unknown array.*ASCII"),
    "superscript-name": (lambda: _zip({"W\u00b2.npy": GOOD["W1.npy"]}), InputFileError, "ASCII"),
    "npy-with-zip-appended": (lambda: GOOD["W1.npy"] + _zip(GOOD), InputFileError, "not a readable .npz"),
    "corrupt-deflate": (lambda: _corrupt_deflate(_zip(GOOD)), InputFileError, "damaged|not a .npy|data"),
    "encrypted-flag": (lambda: _set_flag(_zip(GOOD), 0x1), InputFileError, "encrypted"),
    "7-TiB-shape": (lambda: _zip({"W1.npy": _huge_header()}), TooLargeError, "unpack to"),
    "object-dtype": (lambda: _zip({"W1.npy": _npy(np.array([[1, 2]], dtype=np.int64)).replace(b"<i8", b"|O ")}), InputFileError, "dtype"),
    "three-dims": (lambda: _zip({"W1.npy": _npy(np.ones((1, 1, 1)))}), ShapeError, "2-D"),
    "truncated-data": (lambda: _zip({"W1.npy": GOOD["W1.npy"][:-3]}), InputFileError, "data bytes"),
    "trailing-data": (lambda: _zip({"W1.npy": GOOD["W1.npy"] + b"xyz"}), InputFileError, "beyond"),
    "not-a-zip": (lambda: b"hello world", InputFileError, "not a readable .npz"),
    "empty-file": (lambda: b"", InputFileError, "not a readable .npz"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE), ids=str)
def test_hostile_npz_is_refused_in_one_line(tmp_path: Path, case: str) -> None:
    make, error, match = HOSTILE[case]
    p = tmp_path / "p.npz"
    p.write_bytes(make())
    with pytest.raises(error, match=match) as info:
        read_npz(p, **LIMITS)
    assert "\n" not in str(info.value)


def test_zip_bomb_is_refused_before_decompressing(tmp_path: Path) -> None:
    """A member whose header declares a small shape but whose stream inflates to 64 MiB: only
    the declared bytes (and one more) are ever decompressed."""
    bomb = _npy(np.zeros((1, 2))) + b"\0" * (64 * 2**20)
    p = tmp_path / "bomb.npz"
    p.write_bytes(_zip({"W1.npy": bomb}))
    assert p.stat().st_size < 2**20
    with pytest.raises(InputFileError, match="beyond"):
        read_npz(p, **LIMITS)


def test_declared_size_over_the_limit(tmp_path: Path) -> None:
    p = tmp_path / "big.npz"
    p.write_bytes(_zip({"W1.npy": _npy(np.zeros((512, 512)))}))  # 2 MiB unpacked
    with pytest.raises(TooLargeError, match="limit"):
        read_npz(p, **LIMITS)


def test_a_good_archive_reads_exactly(tmp_path: Path) -> None:
    p = tmp_path / "good.npz"
    w = np.array([[1 + 2.0**-50, -3.5]], dtype=np.float64)
    np.savez_compressed(p, W1=w, W2=np.asfortranarray(np.arange(6.0).reshape(2, 3)[:, :1]))
    arrays = read_npz(p, **LIMITS)
    assert set(arrays) == {"W1", "W2"} and arrays["W1"].tobytes() == w.tobytes()
    assert arrays["W2"].tolist() == [[0.0], [3.0]]


@settings(max_examples=max(200, settings.default.max_examples), deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6))
def test_mutated_archives_are_read_or_refused_cleanly(tmp_path_factory: pytest.TempPathFactory,
                                                     edits: list[tuple[int, int]]) -> None:
    data = bytearray(_zip(GOOD))
    for pos, byte in edits:
        data[pos % len(data)] = byte
    p = tmp_path_factory.mktemp("fuzz") / "m.npz"
    p.write_bytes(bytes(data))
    try:
        arrays = read_npz(p, **LIMITS)
    except DmfError as exc:
        assert "\n" not in str(exc)
    else:
        assert all(a.ndim == 2 and a.dtype.kind in "iuf" for a in arrays.values())
