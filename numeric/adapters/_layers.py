"""Weights given to an adapter, read into float64 layers once (a helper of ``torch`` and ``jax``;
no framework is imported here).

Helpers:
    as_float64(w, name, native)        one layer as a float64 array
    float64_weights(weights, native)   ``[W_1, ..., W_L]`` as float64 arrays, checked to chain

A layer is read the way every other entry point reads exact input: through
``derivations.exact.parse_matrix`` (ints, ``Fraction``, decimal strings ``"0.1"``, fraction
strings ``"1/3"``, finite floats), then rounded ONCE to the nearest float64 by
``derivations.exact.to_float64`` (``"1/3"`` becomes ``float(Fraction(1, 3))``, ``"0.1"`` the
float64 nearest 1/10). What NumPy already reads as finite integers or floats (arrays, lists
of Python numbers) and the framework's own tensors (``native``) are only cast to float64.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from derivations.errors import EntryError, ShapeError
from derivations.exact import Point, parse_matrix, to_float64
from numeric.adapters.report import float64_layers

Native = Callable[[Any], "np.ndarray | None"]
"""A framework's conversion of its own tensor to float64, ``None`` for anything else."""


def _none(w: Any) -> np.ndarray | None:
    return None


def as_float64(w: Any, name: str, native: Native = _none) -> np.ndarray:
    """``w`` as a float64 array: ``native(w)`` when it converts it, finite integers or floats
    cast, anything else read exactly by ``parse_matrix`` and rounded once to the nearest
    float64. A bad entry, a ragged or non-2-D layer, or an entry beyond the float64 range
    raises the one-line ``DmfError`` naming ``name`` (e.g. ``W_2[0, 1]``)."""
    arr = native(w)
    if arr is None:
        arr = _finite_numbers(w)
    if arr is not None:
        return arr
    exact = parse_matrix(w, name)
    try:
        return to_float64(exact)
    except OverflowError:
        i, j = next(ij for ij, x in np.ndenumerate(exact) if _overflows(x))
        raise EntryError(
            f"{name}[{i}, {j}] is beyond the float64 range (|x| < 1.8e308) that the adapters "
            "compute in; rescale the weights"
        ) from None


def _finite_numbers(w: Any) -> np.ndarray | None:
    """``w`` cast to float64 when NumPy reads it as finite integers or floats (an array, or
    lists of Python numbers: the fast path, each entry rounded once as ``to_float64`` would);
    ``None`` for anything else (strings, ``Fraction``, ragged rows, booleans, NaN), which
    ``parse_matrix`` reads or refuses."""
    try:
        arr = np.asarray(w)
    except (ValueError, TypeError):
        return None
    if arr.dtype.kind not in "iuf" or (arr.dtype.kind == "f" and not np.isfinite(arr).all()):
        return None
    return arr.astype(np.float64)


def _overflows(x: Any) -> bool:
    try:
        float(x)
    except OverflowError:
        return True
    return False


def float64_weights(weights: Sequence[Any] | Point, native: Native = _none) -> list[np.ndarray]:
    """``[W_1, ..., W_L]`` (or a ``Point``'s weights) as float64 arrays: layer ``l`` by
    ``as_float64(W_l, "W_l", native)``, then checked to be 2-D and to chain
    (``report.float64_layers``: ``W_l`` is ``(d_l, d_{l-1})``)."""
    if isinstance(weights, Point):
        layers: list[Any] = list(weights.weights)
    elif isinstance(weights, Sequence | np.ndarray) and not isinstance(weights, str | bytes):
        layers = list(weights)
    else:
        raise ShapeError(f"weights must be a list of matrices [W_1, ..., W_L]; got "
                         f"{type(weights).__name__}")
    arrays = [as_float64(w, f"W_{l}", native) for l, w in enumerate(layers, start=1)]
    return float64_layers(arrays, np.asarray)
