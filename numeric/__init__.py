"""dmf-sharpness, numeric side: Hessians at points, certified eigenvalues, minimizers,
gradient-descent dynamics, the reference oracle and the ``dmf-sharpness`` command line.

The main entry point is the function :func:`numeric.sharpness` (imported eagerly below: were it
lazy, importing the submodule ``numeric.sharpness`` would rebind the name to the module). Submodules, one per mathematical object:
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

__version__ = "0.1.0"

from numeric.sharpness import SharpnessResult, sharpness

__all__ = ["SharpnessResult", "__version__", "sharpness"]
