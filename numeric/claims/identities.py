"""Checkers of the identity claims: ``gauss-newton`` (``H = J^T J`` where ``R X^T = 0``, proved symbolically, K1/K2) and ``reduced-spectrum`` (``x^n charpoly(H) = x^P charpoly(K)`` exactly, K2).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from derivations.algebraic import (
    charpoly,
)
from derivations.exact import Point, parse_point
from numeric.claims.points import _minimizer_gen
from numeric.claims.quantities import _a, exact_hessian
from numeric.claims.runner import CheckContext, ClaimOutcome, Counterexample
from numeric.factors import right_factor

__all__ = [
    "check_gauss_newton",
    "check_reduced_spectrum",
]

# ----------------------------------------------------------------------------- reduced spectrum


def _k_similar(point: Point) -> np.ndarray:
    """A rational matrix with the characteristic polynomial of docs/mathematics.md's
    ``K = (C^1/2 kron I) K_B (C^1/2 kron I)``, ``K_B = sum_l (B_l^T B_l) kron (A_l A_l^T)``:
    ``K_B (C kron I)`` (``charpoly(UV) = charpoly(VU)``). Built here from the factors,
    independently of ``numeric.reduced``; ``X = I`` gives ``K`` itself."""
    total: np.ndarray | None = None
    for l in range(1, point.depth + 1):
        b = np.asarray(right_factor(list(point.weights), l), dtype=object)
        a = _a(point, l)
        term = np.kron(np.asarray(b.T @ b, dtype=object), np.asarray(a @ a.T, dtype=object))
        total = term if total is None else total + term
    assert total is not None
    if point.data is None:
        return np.asarray(total, dtype=object)
    c = np.asarray(point.data @ point.data.T, dtype=object)
    eye = np.identity(point.dims[-1], dtype=int).astype(object)
    return np.asarray(total @ np.kron(c, eye), dtype=object)


def _zero_order(poly: Any) -> int:
    coeffs = poly.coeffs()
    return next(i for i, c in enumerate(coeffs) if c != 0)


def check_reduced_spectrum(ctx: CheckContext) -> ClaimOutcome:
    """docs/mathematics.md K2 exactly: ``x^n charpoly(H) = x^P charpoly(K_gram)`` over Q."""
    import flint

    rng = ctx.rng()
    gen = _minimizer_gen((1, 3), (1, 3), data=True)
    done = 0
    capped = False
    with_data = 0
    ranks: list[str] = []
    for i in range(ctx.cases):
        if ctx.time_up():
            capped = True
            break
        ctx.tick(i)
        point = gen(rng, i)
        if i % 4 == 2:  # a rank-deficient product: a zero column in W_1
            ws = [w.copy() for w in point.weights]
            ws[0][:, 0] = Fraction(0)
            point = parse_point(ws, data=point.data)
        h = exact_hessian(point)
        k = _k_similar(point)
        p, n = h.shape[0], k.shape[0]
        x = flint.fmpq_poly([0, 1])
        lhs = x**n * charpoly(h)
        rhs = x**p * charpoly(k)
        if lhs != rhs:
            cx = Counterexample(
                list(point.weights), f"charpoly(H) = {charpoly(h)}", f"charpoly(K) = {charpoly(k)}",
                "x^n charpoly(H) - x^P charpoly(K) is a nonzero polynomial",
                "x^n charpoly(H)", "x^P charpoly(K)", data=point.data,
                labels=point.labels, shrunk=False,
            )
            return ClaimOutcome("refuted", done + 1, "exact", "exact polynomial mismatch", None, cx)
        # K is symmetric, so rank K = n - (order of the root 0 of charpoly(K))
        zero_mult = p - (n - _zero_order(charpoly(k)))
        ranks.append(f"{point.dims}{'+X' if point.data is not None else ''}: P={p}, "
                     f"zero multiplicity {zero_mult}")
        with_data += point.data is not None
        done += 1
    detail = (
        f"x^n charpoly(H)(x) == x^P charpoly(K)(x) exactly (n = d_L d_0) on {done} minimizers "
        f"({with_data} with data X, including labels with R != 0 but R X^T = 0; every 4th case "
        "has a rank-deficient W_1). This proves equal nonzero spectra with multiplicity and "
        "zero multiplicity P - rank K. With data, charpoly(K) is computed exactly as "
        "charpoly(K_B (C kron I)), K_B = sum_l (B_l^T B_l) kron (A_l A_l^T), since "
        "K = (C^1/2 kron I) K_B (C^1/2 kron I) and charpoly(UV) = charpoly(VU). Cases: "
        + "; ".join(ranks[:6]) + ("; ..." if len(ranks) > 6 else "")
        + ("; time cap reached" if capped else "")
    )
    if done == 0:
        return ClaimOutcome("inconclusive", 0, "none", "time cap reached before any case")
    return ClaimOutcome("verified", done, "exact", detail, None, None, [], capped)


# ----------------------------------------------------------------------------- symbolic, dynamics


_GN_DIMS: tuple[tuple[tuple[int, ...], int | None], ...] = (
    ((1, 1, 1), None), ((1, 2, 1), 2), ((2, 1, 2), None), ((2, 2, 2), None),
    ((1, 1, 1, 1), 1), ((2, 2, 2), 2), ((1, 2, 2, 1), None), ((2, 2, 2, 2), None),
    ((2, 3, 2), 3), ((3, 2, 3), None),
)


def _symbolic_data(d0: int, n: int) -> np.ndarray:
    x = np.empty((d0, n), dtype=object)
    for i in range(d0):
        for j in range(n):
            x[i, j] = Fraction((i + 2) * (j + 1) + (i * j) % 3)
    return x


def check_gauss_newton(ctx: CheckContext) -> ClaimOutcome:
    """``H = J^T J`` at ``R X^T = 0``, proved symbolically (derivations.identities) for the
    listed dims, plus the all-sizes matrix-calculus proof when SymPy manages it."""
    from derivations import identities

    proved: list[str] = []
    failed: list[str] = []
    capped = False
    for i, (dims, n) in enumerate(_GN_DIMS[: ctx.cases]):
        if ctx.time_up():
            capped = True
            break
        ctx.tick(i)
        data = None if n is None else _symbolic_data(dims[0], n)
        res = identities.prove_gauss_newton(dims, data=data)
        tag = f"{dims}" + ("" if n is None else f" with X {dims[0]}x{n}")
        (proved if res.proved else failed).append(f"{tag} [{res.holds_for}]")  # no timings: the
        # report must be identical for a seed whatever the load (times are in "seconds")
    all_sizes = "not attempted"
    fn = getattr(identities, "prove_gauss_newton_all_sizes", None)
    if fn is not None and not ctx.time_up():
        r = fn()
        all_sizes = f"{'PROVED' if r.proved else 'not proved'}: {r.holds_for}; {r.detail}"
    detail = (
        f"proved symbolically for {len(proved)} dims: " + "; ".join(proved)
        + (f". NOT proved for: {'; '.join(failed)}" if failed else "")
        + f". All sizes (matrix calculus): {all_sizes}"
        + ("; time cap reached" if capped else "")
    )
    if failed:
        return ClaimOutcome("inconclusive", len(proved), "symbolic",
                            "a symbolic proof did not close: " + detail, None, None, [], capped)
    if not proved:
        return ClaimOutcome("inconclusive", 0, "none", "no dims proved: " + detail)
    return ClaimOutcome("proved", len(proved), "symbolic", detail, None, None, [], capped)
