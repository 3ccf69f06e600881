"""Exact eigenvalues of rational symmetric matrices as real algebraic numbers, and exact
comparison of such numbers (with each other, with rationals, with radical closed forms).

Modules, one per mathematical object, in dependency order (each imports only those above it):
    matrices      exact rational matrices: ``as_fmpq_mat``, ``charpoly``, ``factor_charpoly``,
                  ``exact_rank``, ``is_psd``, ``MAX_EXACT_SIZE``; shared polynomial helpers
    roots         real-root isolation of integer polynomials (Sturm sequences, FLINT's
                  candidate intervals, exact verification, bisection): intervals only
    numbers       ``AlgebraicNumber`` (minimal polynomial + isolating interval), ``real_roots``,
                  exact order and exact arithmetic, ``MAX_DEGREE``
    eigenvalues   ``exact_eigenvalues``, ``exact_lambda_max`` of rational symmetric matrices
    closed_forms  SymPy expressions: ``algebraic_from_sympy``, ``enclosure_of``
    formulas      ``AlgebraicFormula``: certified enclosures at once, exact value on demand
    compare       ``Comparison``, ``compare_exact``, ``compare_formulas``,
                  ``compare_by_enclosures``

The one exception to that order: the operators of ``AlgebraicNumber`` accept
``AlgebraicFormula`` and SymPy operands, so ``numbers._operand`` imports ``closed_forms`` and
``formulas`` when it is called (not at import time, so there is no import cycle).

These modules import only the standard library, ``derivations.errors``,
``derivations.intervals``, ``derivations.exact``, python-flint, SymPy and NumPy; never
anything from ``numeric``.

Every public name is re-exported here, so ``from derivations.algebraic import X`` works for
all of them.
"""

from derivations.algebraic.closed_forms import algebraic_from_sympy, enclosure_of
from derivations.algebraic.compare import (
    Comparison,
    compare_by_enclosures,
    compare_exact,
    compare_formulas,
)
from derivations.algebraic.eigenvalues import exact_eigenvalues, exact_lambda_max
from derivations.algebraic.formulas import AlgebraicFormula
from derivations.algebraic.matrices import (
    MAX_EXACT_SIZE,
    as_fmpq_mat,
    charpoly,
    exact_rank,
    factor_charpoly,
    is_psd,
)
from derivations.algebraic.numbers import MAX_DEGREE, AlgebraicNumber, real_roots

__all__ = [
    "MAX_DEGREE",
    "MAX_EXACT_SIZE",
    "AlgebraicFormula",
    "AlgebraicNumber",
    "Comparison",
    "algebraic_from_sympy",
    "as_fmpq_mat",
    "charpoly",
    "compare_by_enclosures",
    "compare_exact",
    "compare_formulas",
    "enclosure_of",
    "exact_eigenvalues",
    "exact_lambda_max",
    "exact_rank",
    "factor_charpoly",
    "is_psd",
    "real_roots",
]
