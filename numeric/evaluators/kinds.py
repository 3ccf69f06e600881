"""Arithmetic kinds: a validated exact ``Point`` seen as float64, mpmath or exact arrays.

Public:
    Kind                 ``"float64" | "mpmath" | "exact"``
    point_arrays(point, kind, dps)   -> (weights, data, labels) arrays of that kind
    to_mpf(x)            one number (Fraction, int, float, mpf) -> ``mpf`` at the current precision
    to_mp_matrix(m)      a 2-D array of such numbers -> ``mpmath.matrix`` at the current precision

``"exact"`` keeps ``Fraction`` entries; ``"mpmath"`` rounds each rational to ``mpf`` at ``dps``
decimal digits (the caller must then compute inside ``mpmath.workdps(dps)``); ``"float64"``
rounds to nearest double (approximate).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal

import mpmath
import numpy as np

from derivations.exact import Point, to_float64, to_mpmath

__all__ = ["Kind", "point_arrays", "to_mp_matrix", "to_mpf"]

Kind = Literal["float64", "mpmath", "exact"]


def point_arrays(
    point: Point, kind: Kind, dps: int | None = None
) -> tuple[list[np.ndarray], np.ndarray | None, np.ndarray]:
    """The point's ``(weights, data, labels)`` as arrays of ``kind``."""
    if kind == "exact":
        conv = lambda m: m  # noqa: E731
    elif kind == "float64":
        conv = to_float64
    elif kind == "mpmath":
        if dps is None:
            raise ValueError("kind='mpmath' needs an explicit dps (decimal digits)")
        def conv(m: np.ndarray) -> np.ndarray:
            with mpmath.workdps(dps):
                return to_mpmath(m)
    else:
        raise ValueError(f"unknown kind {kind!r}; expected 'float64', 'mpmath' or 'exact'")
    data = None if point.data is None else conv(point.data)
    return [conv(w) for w in point.weights], data, conv(point.labels)


def to_mpf(x: Any) -> Any:
    """A ``Fraction`` (rounded once, at the current mpmath precision), int, float or ``mpf``
    as an ``mpf``. Call inside ``mpmath.workdps(dps)``."""
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    return mpmath.mpf(x)


def to_mp_matrix(m: np.ndarray) -> Any:
    """A 2-D array -> ``mpmath.matrix`` (entries through :func:`to_mpf`)."""
    out = mpmath.matrix(*m.shape)
    for (i, j), x in np.ndenumerate(m):
        out[i, j] = to_mpf(x)
    return out
