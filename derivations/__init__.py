"""dmf-sharpness, exact and symbolic side: exact input, SymPy Hessians, identities proved as
polynomials, exact eigenvalues as real algebraic numbers.

Modules (one per mathematical object):
    derivations.errors      the exception hierarchy (``DmfError`` is a ``ValueError``)
    derivations.exact       exact rational input (the one place outside numbers enter), ``Point``
    derivations.intervals   closed intervals with exact rational endpoints (``Enclosure``)
    derivations.symbolic    symbolic weights, product and loss
    derivations.hessian     the Hessian by differentiating the loss (the slow, obviously correct
                            reference)
    derivations.identities  identities of docs/mathematics.md proved symbolically
    derivations.algebraic   charpolys, real-root isolation, algebraic numbers, exact comparison

This package never imports ``numeric``. Importing it does not import SymPy or python-flint:
the public names below load their module on first access.

>>> import derivations
>>> derivations.parse_entry("0.1")
Fraction(1, 10)
"""

from __future__ import annotations

import importlib
from typing import Any

from derivations.errors import DmfError

__version__ = "0.2.0"

# public name -> module that defines it (loaded on first access)
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        ["Point", "parse_entry", "parse_matrix", "parse_point", "exact_product", "to_float64",
         "to_mpmath", "to_sympy"], "derivations.exact"),
    "Enclosure": "derivations.intervals",
    **dict.fromkeys(["loss_hessian", "loss_gradient", "symbolic_hessian_at"],
                    "derivations.hessian"),
    **dict.fromkeys(
        ["ALL_IDENTITIES", "ProofResult", "prove_gauss_newton", "prove_jjt_equals_k",
         "prove_kronecker_sum", "prove_gradient_formula"], "derivations.identities"),
    **dict.fromkeys(
        ["AlgebraicNumber", "AlgebraicFormula", "charpoly", "exact_eigenvalues",
         "exact_lambda_max", "exact_rank", "compare_exact", "compare_formulas"],
        "derivations.algebraic"),
}

__all__ = ["DmfError", "__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'derivations' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
