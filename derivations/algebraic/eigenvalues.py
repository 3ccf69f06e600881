"""Exact eigenvalues of rational symmetric matrices: the real roots, as ``AlgebraicNumber``
values, of the irreducible factors over Q of ``det(x I - A)``.

Public:
    exact_eigenvalues(matrix) -> [(AlgebraicNumber, multiplicity)], descending
    exact_lambda_max(matrix) -> AlgebraicNumber
"""

from __future__ import annotations

import functools
from typing import Any

from derivations.algebraic.matrices import as_fmpq_mat, factor_charpoly
from derivations.algebraic.numbers import AlgebraicNumber, _cmp, _irreducible_real_roots
from derivations.errors import DmfError


# --------------------------------------------------------------------------------------------
# exact eigenvalues
# --------------------------------------------------------------------------------------------
def exact_eigenvalues(matrix: Any) -> list[tuple[AlgebraicNumber, int]]:
    """All distinct eigenvalues of the rational symmetric ``matrix``, descending, each an
    exact ``AlgebraicNumber`` with its multiplicity (that of its irreducible factor in
    ``det(x I - A)``).

    >>> [(str(v), m) for v, m in exact_eigenvalues([[2, 0, 0], [0, 2, 0], [0, 0, 1]])]
    [('2', 2), ('1', 1)]
    """
    as_fmpq_mat(matrix, symmetric=True)
    out: list[tuple[AlgebraicNumber, int]] = []
    for f, mult in factor_charpoly(matrix):
        roots = _irreducible_real_roots(f)
        if len(roots) != f.degree():  # pragma: no cover - impossible for symmetric input
            raise DmfError(f"the factor {f} of a symmetric matrix has non-real roots")
        out += [(r, mult) for r in roots]
    def by_value(a: tuple[AlgebraicNumber, int], b: tuple[AlgebraicNumber, int]) -> int:
        return -_cmp(a[0], b[0])

    return sorted(out, key=functools.cmp_to_key(by_value))


def exact_lambda_max(matrix: Any) -> AlgebraicNumber:
    """The largest eigenvalue of the rational symmetric ``matrix`` as an exact algebraic
    number: the largest real root over all irreducible factors of ``det(x I - A)``.

    >>> exact_lambda_max([[1, 1], [1, 1]]).to_sympy(), exact_lambda_max([[1, 1], [1, 2]]).degree
    (2, 2)
    """
    as_fmpq_mat(matrix, symmetric=True)
    tops = [_irreducible_real_roots(f)[-1] for f, _ in factor_charpoly(matrix)]
    return functools.reduce(lambda a, b: a if _cmp(a, b) >= 0 else b, tops)
