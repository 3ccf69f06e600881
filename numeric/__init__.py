"""dmf-sharpness, numeric side: the sharpness at a point, certified; minimizers; and everything
built on both sides (claims, dynamics, the oracle's files, adapters, the command line).

The mathematics sits at the top of this package, one module per object:
    numeric.factors       product ``f``, left factors ``A_l``, right factors ``B_l``
    numeric.loss          residual, loss, gradient, parameter flattening
    numeric.loss_conventions  the loss conventions (half-sum, sum, mse, ...) and their factors
    numeric.hessian       the explicit full Hessian (docs/mathematics.md K1)
    numeric.operators     the float64 Hessian as an operator (samples or factors product, the
                          structured Lanczos start J^T u)
    numeric.enclosure     the certified Weyl enclosure of lambda_max off minimizers
    numeric.reduced       the reduced operator ``K`` (K2) and its spectrum
    numeric.closed_forms  the closed forms K3-K7
    numeric.spectrum      approximate eigenvalues (float64, mpmath), labelled as such
    numeric.eigen         certified eigenvalue enclosures (python-flint / Arb)
    numeric.minimizers    minimizers: balanced, gauge transforms, padding
    numeric.strategies    public Hypothesis strategies of points
    numeric.sharpness     ``sharpness(...)``: the oracle's Python API
    numeric.parallel      ordered maps over worker processes or a Dask cluster (claims, vectors)
    numeric.regularized   weight decay (a subpackage): the problem per singular value, the exact
                          collapse threshold, certified global minimizers
    numeric.evaluators    how a route is evaluated, one module per arithmetic (a subpackage):
                          exact (certified, mpmath), float64, and what they need (the budget of
                          exact work, float64 input checks, BLAS threads, number kinds)
Subpackages, by responsibility (each docstring says what it may import):
    numeric.claims        the claims registry and the engine deciding them
    numeric.conjecture    your own conjectures: a statement language, decided by that engine
    numeric.dynamics      gradient descent: escape from sharp minima, the sharpness tracker
    numeric.oracle        input/output files and the conformance vectors
    numeric.adapters      PyTorch (optional extra), one module per library
    numeric.cli           the ``dmf-sharpness`` command, one module per command
The dependency order is one way: ``derivations`` <- the mathematics <- ``oracle``,
``dynamics`` <- ``claims`` <- ``conjecture``, ``adapters`` <- ``cli``; the mathematics never imports a subpackage.

Public names are importable from here; all but ``sharpness`` load lazily, so ``import numeric``
stays cheap (``sharpness`` is eager: were it lazy, importing the submodule ``numeric.sharpness``
would rebind the name to the module):

>>> import numeric
>>> numeric.sharpness([[[1, 0], [0, 2]], [[3, 0], [0, 1]]], target="product").enclosure.contains(13)
True
>>> numeric.load_vectors()[0].name
'depth1-square'
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

from numeric.result import SharpnessResult
from numeric.sharpness import sharpness

# public name -> module that defines it (loaded on first access)
_LAZY: dict[str, str] = {
    "balanced_minimizer": "numeric.minimizers",
    "gauge_transform": "numeric.minimizers",
    "minimizer_from_weights": "numeric.minimizers",
    "full_hessian": "numeric.hessian",
    "reduced_operator": "numeric.reduced",
    "certified_eigvalsh": "numeric.eigen",
    "certified_lambda_max": "numeric.eigen",
    "load_point": "numeric.oracle.files",
    "save_point_json": "numeric.oracle.files",
    "load_vectors": "numeric.oracle.vectors",
    "CLAIMS": "numeric.claims.registry",
    "run_claims": "numeric.claims.runner",
    "escape_run": "numeric.dynamics.escape",
    "escape_sweep": "numeric.dynamics.escape",
    "SharpnessTracker": "numeric.dynamics.track",
}

__all__ = ["SharpnessResult", "__version__", "sharpness", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'numeric' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
