"""Checkers of the closed-form claims: ``trace`` (K3), ``upper-bound`` (K4), ``depth2`` (K5), ``scalar-ends`` (K6) and ``sum-formula`` (docs/mathematics.md). Each ``check_*`` takes a ``CheckContext`` and returns a ``ClaimOutcome``; each relation is decided by ``numeric.claims.engine.decide_relation``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from derivations.algebraic import (
    AlgebraicFormula,
)
from derivations.exact import Point
from numeric.claims.engine import Relation, _single, combine_parts, decide_relation
from numeric.claims.points import (
    _dims_gen,
    _minimizer_gen,
    _non_minimizer_gen,
    frame_point,
    point_strategy,
    random_point,
)
from numeric.claims.quantities import (
    _a,
    _bx,
    _frob2,
    _lam_float,
    _sum_products_float,
    exact_hessian,
    float_weights,
    lambda_max_hessian,
    sq_norm,
    sum_of_products,
)
from numeric.claims.runner import CheckContext, ClaimOutcome

__all__ = [
    "DEPTH2",
    "SCALAR_ENDS",
    "SUM_FORMULA",
    "TRACE",
    "UPPER",
    "check_depth2",
    "check_scalar_ends",
    "check_sum_formula",
    "check_trace",
    "check_upper_bound",
]

# ----------------------------------------------------------------------------- checkers


def _frob_formula(point: Point) -> Fraction:
    return sum(
        (_frob2(_a(point, l)) * _frob2(_bx(point, l)) for l in range(1, point.depth + 1)),
        Fraction(0),
    )


def _trace_exact(point: Point) -> Fraction:
    h = exact_hessian(point)
    return sum((Fraction(h[i, i]) for i in range(h.shape[0])), Fraction(0))


TRACE = Relation(
    "tr H", "sum_l ||A_l||_F^2 ||B_l X||_F^2",
    lambda p: AlgebraicFormula.of(_trace_exact(p)), lambda p: AlgebraicFormula.of(_frob_formula(p)),
    lambda p: float(_trace_exact(p)), lambda p: float(_frob_formula(p)),
)


def check_trace(ctx: CheckContext) -> ClaimOutcome:
    """docs/mathematics.md K3, exact rational equality at minimizers (X = I and with data, including
    ``R != 0`` with ``R X^T = 0``), then the same identity at arbitrary points (a remark)."""
    main = decide_relation(
        ctx, TRACE, strategy=point_strategy(depths=(1, 4)),
        generate=_minimizer_gen((1, 4), (1, 3), data=True),
    )
    beyond = decide_relation(
        ctx, TRACE, strategy=None, generate=_non_minimizer_gen, label="beyond the domain",
        salt=7,
    )
    remark = (
        "Remark: the identity also holds at arbitrary (non-minimizing) points: "
        f"{beyond.verdict} on {beyond.cases} random points with random labels (the diagonal of "
        "H_f vanishes because the loss is quadratic in each single weight)."
    )
    return _single(main, remark)


UPPER = Relation(
    "lambda_max(H)", "sum_l ||A_l||_2^2 ||B_l X||_2^2",
    lambda_max_hessian, sum_of_products, _lam_float, _sum_products_float, "<=",
)


def check_upper_bound(ctx: CheckContext) -> ClaimOutcome:
    """docs/mathematics.md K4 at minimizers (X = I and with data): exact algebraic comparison."""
    part = decide_relation(
        ctx, UPPER, strategy=point_strategy(depths=(1, 3)),
        generate=_minimizer_gen((1, 3), (1, 3), data=True),
    )
    return _single(part, "")


def _depth2_rhs(p: Point) -> AlgebraicFormula:
    return sq_norm(p.weights[0]) + sq_norm(p.weights[1])


def _depth2_rhs_float(p: Point) -> float:
    w = float_weights(p)
    return float(np.linalg.norm(w[0], 2) ** 2 + np.linalg.norm(w[1], 2) ** 2)


DEPTH2 = Relation(
    "lambda_max(H)", "||W_1||_2^2 + ||W_2||_2^2",
    lambda_max_hessian, _depth2_rhs, _lam_float, _depth2_rhs_float,
)


def check_depth2(ctx: CheckContext) -> ClaimOutcome:
    """docs/mathematics.md K5: exact algebraic equality per case (random integer points and points with
    rational norms built from rational orthogonal frames)."""

    def gen(rng: np.random.Generator, i: int) -> Point:
        dims = _dims_gen(rng, (2, 2), (1, 3))
        if i % 2:
            return frame_point(rng, dims)
        return random_point(rng, dims, denominator=int(rng.integers(1, 4)))

    part = decide_relation(
        ctx, DEPTH2, strategy=point_strategy(depths=(2, 2)), generate=gen,
        in_domain=lambda p: p.depth == 2 and p.data is None,
    )
    return _single(part, "")


def _row_col_formula(p: Point) -> Fraction:
    return sum(
        (_frob2(_a(p, l)) * _frob2(_bx(p, l)) for l in range(1, p.depth + 1)), Fraction(0)
    )


SCALAR_ENDS = Relation(
    "lambda_max(H)", "sum_l ||A_l||_2^2 ||B_l||_2^2",
    lambda_max_hessian, lambda p: AlgebraicFormula.of(_row_col_formula(p)), _lam_float,
    lambda p: float(_row_col_formula(p)),
)


def check_scalar_ends(ctx: CheckContext) -> ClaimOutcome:
    """docs/mathematics.md K6: for a row ``A_l`` and a column ``B_l`` the spectral norm is the Euclidean
    norm, so the right side is rational; ``lambda_max(H)`` is decided exactly (the top factor of
    ``charpoly(H)`` is linear iff it is rational)."""
    part = decide_relation(
        ctx, SCALAR_ENDS, strategy=point_strategy(depths=(1, 4), first=(1, 1), last=(1, 1)),
        generate=_minimizer_gen((1, 4), (1, 3), first=(1, 1), last=(1, 1)),
        in_domain=lambda p: p.dims[0] == 1 and p.dims[-1] == 1 and p.data is None,
    )
    return _single(part, "")


SUM_FORMULA = Relation(
    "lambda_max(H)", "sum_l ||A_l||_2^2 ||B_l||_2^2",
    lambda_max_hessian, sum_of_products, _lam_float, _sum_products_float,
)


def check_sum_formula(ctx: CheckContext) -> ClaimOutcome:
    """The general sum formula, decided separately for matrix ends and for exactly one scalar
    end (either ``d_0 = 1`` or ``d_L = 1``)."""
    matrix_ends = decide_relation(
        ctx, SUM_FORMULA,
        strategy=point_strategy(depths=(1, 4), first=(2, 3), last=(2, 3)),
        generate=_minimizer_gen((1, 4), (1, 3), first=(2, 3), last=(2, 3)),
        in_domain=lambda p: p.dims[0] >= 2 and p.dims[-1] >= 2,
        label="matrix ends (d_0, d_L >= 2)",
    )
    one_in = decide_relation(
        ctx, SUM_FORMULA,
        strategy=point_strategy(depths=(1, 4), first=(1, 1), last=(2, 3)),
        generate=_minimizer_gen((1, 4), (1, 3), first=(1, 1), last=(2, 3)),
        label="one scalar end, d_0 = 1", salt=1,
    )
    one_out = decide_relation(
        ctx, SUM_FORMULA,
        strategy=point_strategy(depths=(1, 4), first=(2, 3), last=(1, 1)),
        generate=_minimizer_gen((1, 4), (1, 3), first=(2, 3), last=(1, 1)),
        label="one scalar end, d_L = 1", salt=2,
    )
    detail = (
        "lambda_max(K) <= sum_l lambda_max(K_l) (K4) with equality iff the top eigenvectors "
        "v_l kron u_l of the terms K_l = B_l^T B_l kron A_l A_l^T can be chosen common; exact "
        "in depth2 and scalar-ends (see those claims)."
    )
    return combine_parts([matrix_ends, one_in, one_out], detail)
