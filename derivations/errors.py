"""The exception hierarchy of dmf-sharpness (shared by ``derivations`` and ``numeric``).

Public:
    DmfError            base class, a ``ValueError``
    ShapeError          a matrix has the wrong shape or layers do not chain
    NonFiniteError      NaN or Inf in the input
    EmptyInputError     no layers, or a matrix with a zero dimension
    EntryError          an entry that cannot be read as an exact number
    NotAMinimizerError  a minimizer was required and the point is not one
    TooLargeError       sizes beyond what the requested (symbolic/exact) method can do
    PrecisionExhausted  certification failed even at the largest allowed precision
    InputFileError      a malformed, unreadable or unsafe input file

Every message says what was expected, what was received and, where it helps, what to do
(the model is Hypothesis's ``InvalidArgument`` and SymPy's ``ShapeError``).
"""

from __future__ import annotations

__all__ = [
    "DmfError",
    "EmptyInputError",
    "EntryError",
    "InputFileError",
    "NonFiniteError",
    "NotAMinimizerError",
    "PrecisionExhausted",
    "ShapeError",
    "TooLargeError",
]


class DmfError(ValueError):
    """Base class of every error raised on purpose by dmf-sharpness."""


class ShapeError(DmfError):
    """A matrix has the wrong shape, or consecutive layers do not chain."""


class NonFiniteError(DmfError):
    """An input holds NaN or Inf."""


class EmptyInputError(DmfError):
    """No layers were given, or a matrix has a zero dimension."""


class EntryError(DmfError):
    """An entry cannot be read as an exact number (int, Fraction, decimal/fraction string, float)."""


class NotAMinimizerError(DmfError):
    """A global minimizer (``R X^T = 0``) was required and the point is not one."""


class TooLargeError(DmfError):
    """The sizes are beyond what the requested method can handle in reasonable time."""


class PrecisionExhausted(DmfError):
    """A certified result could not be obtained even at the largest allowed precision."""


class InputFileError(DmfError):
    """An input file is malformed, unreadable, pickled, or has unknown keys."""
