"""dmf-sharpness, numeric side: Hessians at points, certified eigenvalues, minimizers,
gradient-descent dynamics, the reference oracle and the ``dmf-sharpness`` command line.

The main entry point is :func:`numeric.sharpness` (imported lazily so that ``import numeric``
stays cheap). Submodules, one per mathematical object:
    numeric.factors     product, left factors A_l, right factors B_l
    numeric.loss        residual, loss, gradient, parameter flattening
    numeric.kinds       float64 / mpmath / exact views of a validated point
    numeric.hessian     the explicit full Hessian from MATH.md K1
    numeric.reduced     the reduced operator K (MATH.md K2) and its spectrum
    numeric.closed_forms  K3-K7 closed forms
    numeric.minimizers  minimizer construction (balanced, gauge transforms, padding)
    numeric.eigen       certified eigenvalue enclosures (python-flint / Arb)
    numeric.sharpness   ``sharpness(...)``: the oracle's Python API
    numeric.cli         the ``dmf-sharpness`` command
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "sharpness": "numeric.sharpness",
    "SharpnessResult": "numeric.sharpness",
}

__all__ = ["SharpnessResult", "__version__", "sharpness"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'numeric' has no attribute {name!r}")
