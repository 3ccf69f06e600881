"""Check your own conjecture about the sharpness: a statement typed as text (``lambda_max <=
sum(norm2(A[l])**2 * norm2(B[l])**2 for l in layers)``) becomes a first-class claim, decided by
the same engine as the registry's built-in claims (``numeric.claims.engine.decide_relation``
and ``numeric.claims.implications.decide_implication``).

    language     the statement parsed with ``ast`` into a whitelisted tree (never evaluated as
                 Python); refusals name the token and its column with a caret line
    interpreter  the tree evaluated at a point: exactly (rationals, exact rational matrices,
                 algebraic numbers via ``derivations.algebraic``) and in float64 (search only)
    families     the point families (``--over``): minimizers of each kind of
                 ``numeric.strategies``, points with random targets, points with data,
                 exact global minimizers of the weight-decay loss
    decay        weight decay: ``RegularizedPoint`` (a point that carries its ``lam``) and the
                 family ``regularized-minimizers`` (construction, strategy, exact membership)
    symbolic     ``proved`` for polynomial identities: exact expansion over Q (SymPy sparse
                 polynomials) for every dims of a small range
    claim        ``Conjecture`` (the claim object), ``conjecture``, ``check``,
                 ``assert_holds``: the verdict and its report (the JSON of one claim of
                 ``dmf-sharpness check --json``, plus ``undefined`` and ``hypothesis_held``);
                 ``weight_decay=lam`` makes ``H``, ``lambda_max``, ``lambda_min``, ``trace``,
                 ``rank`` and ``loss`` those of ``L_lam`` (docs/mathematics.md K8)

Public API (imported lazily, so ``import numeric.conjecture`` stays cheap): ``conjecture``,
``check``, ``assert_holds``, ``Conjecture``, ``parse_statement``, ``StatementError``,
``FAMILIES``.

May import: ``derivations``, the mathematics at the top of ``numeric`` and
``numeric.regularized``, ``numeric.strategies``,
``numeric.claims`` (the engine, points and quantities), Hypothesis and SymPy (``symbolic``,
imported when a statement is a polynomial identity). Nothing outside this
package imports it except ``numeric.cli``.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "FAMILIES",
    "Conjecture",
    "StatementError",
    "assert_holds",
    "check",
    "conjecture",
    "parse_statement",
]

_WHERE = {
    "FAMILIES": "numeric.conjecture.families",
    "Conjecture": "numeric.conjecture.claim",
    "StatementError": "numeric.conjecture.language",
    "assert_holds": "numeric.conjecture.claim",
    "check": "numeric.conjecture.claim",
    "conjecture": "numeric.conjecture.claim",
    "parse_statement": "numeric.conjecture.language",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'numeric.conjecture' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
