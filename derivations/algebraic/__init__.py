"""Exact eigenvalues of rational symmetric matrices as real algebraic numbers, and exact
comparison of such numbers (with each other, with rationals, with radical closed forms).

The code lives in ``derivations.algebraic.numbers`` (see its docstring); this package
re-exports its public names, so ``from derivations.algebraic import X`` works as before.
"""

from derivations.algebraic.numbers import (
    MAX_DEGREE,
    MAX_EXACT_SIZE,
    AlgebraicFormula,
    AlgebraicNumber,
    Comparison,
    algebraic_from_sympy,
    as_fmpq_mat,
    charpoly,
    compare_by_enclosures,
    compare_exact,
    compare_formulas,
    enclosure_of,
    exact_eigenvalues,
    exact_lambda_max,
    exact_rank,
    factor_charpoly,
    is_psd,
    real_roots,
)

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
