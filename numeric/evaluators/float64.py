"""The float64 arithmetic of the sharpness (approximate, and said so): dense LAPACK ``eigh``
for small operators, matrix-free Lanczos (ARPACK ``eigsh``) on ``numeric.operators``' Hessian or
on the reduced operator otherwise, with the library's BLAS threads
(``numeric.evaluators.threads``).

Helpers of ``numeric.sharpness`` (private), and the constants of the float64 mode (public,
re-exported by ``numeric.sharpness``):
    DENSE_FLOAT64_LIMIT, LANCZOS_K, LANCZOS_TOL, LAMBDA_MIN_MIN_PRODUCTS, CLUSTER_RATIO
    _threaded_float64(threads, ws, x, y, route, want_spectrum, secondary)   the evaluator
    _residual_term_bound(ws, x, y)   a float64 bound of the residual term's norm (lambda_min)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from numeric.evaluators.exact import _drop_zeros, _pad_reduced
from numeric.evaluators.threads import blas_threads
from numeric.result import _Ev, _Spectrum

DENSE_FLOAT64_LIMIT = 256
"""float64 mode: matrices up to this size are diagonalized densely, larger ones by Lanczos
(measured crossover on this project's 2-core machine: n = 196 dense 2.2 ms vs Lanczos 3.4 ms,
n = 324 dense 9.8 ms vs Lanczos 3.2 ms)."""
LANCZOS_K = 4
LANCZOS_TOL = 1e-10
"""ARPACK's relative residual tolerance: each returned Ritz value is then within about
``1e-10 |lambda|`` of an eigenvalue (for symmetric matrices ``|theta - lambda| <= ||r||``), and in
practice far closer (the error is quadratic in the residual); at dims (64,128,128,128,64) it
takes 26 ms against 60 ms at machine-precision tolerance, with the same value to 1e-15."""


LAMBDA_MIN_MIN_PRODUCTS = 50
"""float64 Lanczos: lambda_min may use ``max(the products spent on lambda_max, this)``
Hessian-vector products, so it at most doubles the cost and the whole call stays as fast as a
peer tool's lambda_max alone (README, "Side by side with the peer tools"); the floor lets a
small problem converge."""

CLUSTER_RATIO = 0.05
"""float64 Lanczos on the full Hessian with ``P > d_L N``: when the residual term's bound is at
most this times ``lambda_max``, ``lambda_min`` lies in ``[-bound, bound]`` together with at least
``P - d_L N`` other eigenvalues, and Lanczos for it is not run (at dims (16,16,16,16,16) near a
minimizer it spent 600 products, 12 times lambda_max's, without converging); the interval is
reported instead."""



def _float_tol(values: Any) -> float:
    scale = max([abs(float(v)) for v in values] + [1e-300])
    return 1e-9 * scale


def _mode_float64(
    ws: list[np.ndarray],
    x: np.ndarray | None,
    y: np.ndarray,
    route: str,
    want_spectrum: bool,
    secondary: bool = True,
) -> _Spectrum:
    """float64 eigenvalues: dense LAPACK when small (everything, for free), else Lanczos for
    the top ``LANCZOS_K`` eigenvalues and lambda_min (``secondary``) or lambda_max alone."""
    from numeric.spectrum import eigvalsh_float64, top_eigenpairs_float64

    k = LANCZOS_K if secondary else 1

    params = sum(w.size for w in ws)
    if route == "reduced":
        from numeric.reduced import reduced_linear_operator, reduced_operator

        n = ws[-1].shape[0] * ws[0].shape[1]
        if n <= DENSE_FLOAT64_LIMIT or want_spectrum:
            vals = eigvalsh_float64(reduced_operator(ws, x, form="sqrt"))
            tol = _float_tol(vals)
            rank = int(np.sum(vals > max(n, 1) * np.finfo(float).eps * max(vals[0], 0.0)))
            evs = _pad_reduced([_Ev(float(v)) for v in vals], rank, params)
            method = "approximate: float64 LAPACK eigh on the dense reduced operator K"
            return _Spectrum(evs, True, evs[-1], params - rank, tol, method, operator_size=n)
        vals = top_eigenpairs_float64(reduced_linear_operator(ws, x), k=k, tol=LANCZOS_TOL)[0]
        lam_min = _Ev(0.0) if params > n else None
        method = "approximate: float64 Lanczos (ARPACK eigsh, relative residual <= 1e-10) on the matrix-free reduced operator"
        return _Spectrum([_Ev(float(v)) for v in vals], False, lam_min, None, _float_tol(vals),
                         method)
    from numeric.hessian import full_hessian, hessian_operator
    from numeric.operators import HessianOperator, top_eigenpairs

    if params <= DENSE_FLOAT64_LIMIT or want_spectrum:
        vals = eigvalsh_float64(full_hessian(ws, x, y))
        tol = _float_tol(vals)
        small = max(params, 1) * np.finfo(float).eps * max(abs(vals[0]), abs(vals[-1]))
        zero_mult = int(np.sum(np.abs(vals) <= small))
        evs = _drop_zeros([_Ev(float(v)) for v in vals], params - zero_mult)
        method = "approximate: float64 LAPACK eigh on the dense full Hessian"
        return _Spectrum(evs, True, evs[-1], zero_mult, tol, method, operator_size=params)
    hop = hessian_operator(ws, x, y)  # numeric.operators: samples or factors product
    # the structured start: the top k eigenvectors of J^T J summed (J^T u from J J^T)
    v0 = hop.start_vector(k) if isinstance(hop, HessianOperator) else None
    op, products = _counted(hop)
    vals = top_eigenpairs(op, k, v0=v0, tol=LANCZOS_TOL)[0]  # ncv 10 for k = 1
    top_products = products[0]
    method = ("approximate: float64 Lanczos (ARPACK eigsh, relative residual <= 1e-10"
              + (", started from J^T u" if v0 is not None else "")
              + f") on the matrix-free full Hessian ({getattr(hop, 'route', 'factors')} "
              "product)")
    bound = _residual_term_bound(ws, x, y)
    tol = _float_tol(vals)
    n_samples = ws[0].shape[1] if x is None else x.shape[1]
    singular = params > ws[-1].shape[0] * n_samples  # rank J^T J <= d_L N < P
    where = (f"[{-bound:.3g}, {bound:.3g}]" if singular else f">= {-bound:.3g}")
    where += " (for 0.5*||R||_F^2: times loss_factor)"
    why = ("J^T J is PSD" + (" and singular (P > d_L N)" if singular else "")
           + " and the residual term's norm is at most lambda_max([c_kl]), c_kl = "
           "||B_k X R^T A_l|| ||W_{l-1}...W_{k+1}|| plus float64 rounding of R X^T, evaluated "
           "in float64 (docs/mathematics.md K1)")
    if singular and bound <= tol:
        # lambda_min is 0 to this precision: no Lanczos in the near-zero cluster (at a
        # near-minimizer it took ARPACK tens of thousands of products, and could still miss it)
        note = (f"lambda_min: |lambda_min| <= {bound:.3g} (for 0.5*||R||_F^2: times loss_factor; "
                f"{why}), reported as 0.0 without Lanczos")
        return _Spectrum([_Ev(float(v)) for v in vals], False, _Ev(0.0), None, tol, method,
                         note, bound)
    if singular and bound <= CLUSTER_RATIO * float(vals[0]):
        # lambda_min sits in a cluster of at least P - d_L N eigenvalues within [-bound, bound],
        # narrow against the spectrum: Lanczos does not resolve it within lambda_max's budget
        note = (f"lambda_min: not reported (no Lanczos: it lies in a cluster of at least "
                f"{params - ws[-1].shape[0] * n_samples} eigenvalues within the bound, narrow "
                f"against lambda_max (bound <= {CLUSTER_RATIO:g} lambda_max), which Lanczos does "
                "not resolve at the cost of lambda_max; spectrum=True gives every eigenvalue by "
                f"dense eigh); lambda_min in {where} ({why})")
        return _Spectrum([_Ev(float(v)) for v in vals], False, None, None, tol, method, note,
                         bound)
    if not secondary:
        note = (f"lambda_min: not computed (secondary=True runs Lanczos for it, and for the gap "
                f"and multiplicity); lambda_min in {where} ({why})")
        return _Spectrum([_Ev(float(v)) for v in vals], False, None, None, tol, method, note,
                         bound)
    budget = max(top_products, LAMBDA_MIN_MIN_PRODUCTS)
    low = _lanczos_lambda_min(op, budget)
    spent = products[0] - top_products
    if low is not None and not (-bound - tol <= low and (not singular or low <= bound + tol)):
        # ARPACK converged to a Ritz value outside the bound: not lambda_min
        outcome = f"Lanczos converged to {low:.6g}, outside that bound: rejected"
        low = None
    else:
        outcome = f"Lanczos did not converge within {spent} products (budget {budget})"
    if low is not None:
        return _Spectrum([_Ev(float(v)) for v in vals], False, _Ev(low), None,
                         _float_tol([*vals, low]), method, None, bound)
    note = f"lambda_min: not reported ({outcome}); lambda_min in {where} ({why})"
    return _Spectrum([_Ev(float(v)) for v in vals], False, None, None, tol, method, note, bound)


def _float64_work(ws: list[np.ndarray], x: np.ndarray | None, route: str, *, dense: bool) -> float:
    """Flops per product of the float64 route (``numeric.evaluators.threads``' automatic rule): a dense
    ``eigh`` of size ``n`` spends its time in ``2 n^2``-flop matrix-vector products (the
    tridiagonal reduction); Lanczos, in the products of a Hessian-vector product, of ``K``'s
    or of the forward pass: ``2 max(d_0, d_L, N) max(d_l d_{l-1}, d_0 d_L)``."""
    d0, dl = ws[0].shape[1], ws[-1].shape[0]
    if dense:
        n = dl * d0 if route == "reduced" else sum(w.size for w in ws)
        return 2.0 * float(n) ** 2
    n_cols = d0 if x is None else x.shape[1]
    return 2.0 * max(d0, dl, n_cols) * max(max(w.size for w in ws), d0 * dl)


def _threaded_float64(threads: Any, ws: list[np.ndarray], x: np.ndarray | None, y: np.ndarray,
                      route: str, want_spectrum: bool, secondary: bool) -> _Spectrum:
    """``_mode_float64`` with the BLAS threads of ``numeric.evaluators.threads.blas_threads`` (the
    ``threads`` argument, ``DMF_SHARPNESS_THREADS`` or the size), recorded in the method:
    ``"... (BLAS threads: 1, chosen by size)"``."""
    n = ws[-1].shape[0] * ws[0].shape[1] if route == "reduced" else sum(w.size for w in ws)
    dense = n <= DENSE_FLOAT64_LIMIT or want_spectrum  # as _mode_float64 decides
    with blas_threads(_float64_work(ws, x, route, dense=dense), threads) as choice:
        spec = _mode_float64(ws, x, y, route, want_spectrum, secondary)
    return dataclasses.replace(spec, method=f"{spec.method} ({choice.describe()})")


def _counted(op: Any) -> tuple[Any, list[int]]:
    """``op`` with a counter of its products (``[count]``)."""
    from scipy.sparse.linalg import LinearOperator

    count = [0]

    def matvec(v: np.ndarray) -> np.ndarray:
        count[0] += 1
        return np.asarray(op.matvec(v))

    return LinearOperator(op.shape, matvec=matvec, rmatvec=matvec, dtype=op.dtype), count


def _residual_term_bound(ws: list[np.ndarray], x: np.ndarray | None, y: np.ndarray) -> float:
    """An upper bound (evaluated in float64) of the operator norm of the Hessian's residual
    term ``H_f`` (docs/mathematics.md K1): ``H_f[D, D] = 2 sum_{k<l} <R, A_l D_l M_kl D_k B_k
    X>`` with ``M_kl = W_{l-1}...W_{k+1}``. Each term is ``tr(D_l M_kl D_k G_kl)`` with
    ``G_kl = B_k X R^T A_l``, so ``|.| <= c_kl ||D_l||_F ||D_k||_F`` with ``c_kl = ||G_kl||_F
    prod_{k<j<l} ||W_j||_2``; hence ``|H_f[D, D]| <= z^T C z <= lambda_max(C) ||D||^2`` with
    ``z_l = ||D_l||_F`` and ``C`` the symmetric nonnegative ``L x L`` matrix of the ``c_kl``
    (zero diagonal). ``O(L^2)`` small matrix products: cheaper than a few Hessian-vector
    products. Since ``J^T J`` is PSD, ``lambda_min(H) >= -bound``.

    ``R X^T`` is computed in float64, so ``c_kl`` also gets the rounding error of that
    computation (first-order: ``(sum of inner dimensions) eps (prod_j ||W_j||_F ||X||_F +
    ||Y||_F) ||X||_F``) times ``prod_{j != k, l} ||W_j||_2``: near a minimizer the float64
    residual can be exactly 0 while the exact one is not."""
    depth = len(ws)
    if depth < 2:
        return 0.0
    f = ws[0]
    for w in ws[1:]:
        f = w @ f
    r = (f if x is None else f @ x) - y
    rxt_t = (r if x is None else r @ x.T).T  # (R X^T)^T = X R^T, d_0 x d_L
    norms = [float(np.linalg.norm(w, 2)) for w in ws]
    x_norm = 1.0 if x is None else float(np.linalg.norm(x))
    inner = sum(w.shape[1] for w in ws) + (0 if x is None else sum(x.shape)) + 2
    rounding = inner * float(np.finfo(np.float64).eps) * x_norm * (
        float(np.prod([np.linalg.norm(w) for w in ws])) * x_norm + float(np.linalg.norm(y))
    )
    b = [np.eye(ws[0].shape[1])]  # B_k = W_{k-1}...W_1 (0-based: b[k] for layer k + 1)
    for w in ws[:-1]:
        b.append(w @ b[-1])
    a = [np.eye(ws[-1].shape[0])]  # A_l = W_L...W_{l+1}, built from the top
    for w in reversed(ws[1:]):
        a.append(a[-1] @ w)
    a.reverse()
    c = np.zeros((depth, depth))
    for l in range(1, depth):
        right = rxt_t @ a[l]  # X R^T A_l
        for k in range(l):
            g = float(np.linalg.norm(b[k] @ right))
            others = float(np.prod(norms[:k] + norms[l + 1 :]))
            c[k, l] = c[l, k] = g * float(np.prod(norms[k + 1 : l])) + rounding * others
    return float(np.linalg.eigvalsh(c)[-1])


class _BudgetSpent(Exception):
    """Internal: the Lanczos run for a secondary quantity used up its products."""


def _lanczos_lambda_min(op: Any, budget: int) -> float | None:
    """The smallest eigenvalue by Lanczos (ARPACK, ``which="SA"``, seeded) within ``budget``
    products (the operator stops ARPACK when they are spent), or ``None`` when it does not
    converge by then (near minimizers it sits in a huge cluster of near-zero eigenvalues)."""
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    n = op.shape[0]
    used = [0]

    def matvec(v: np.ndarray) -> np.ndarray:
        used[0] += 1
        if used[0] > budget:
            raise _BudgetSpent
        return np.asarray(op.matvec(v))

    capped = LinearOperator(op.shape, matvec=matvec, rmatvec=matvec, dtype=op.dtype)
    v0 = np.random.default_rng(0).standard_normal(n)
    try:
        vals = eigsh(capped, k=1, which="SA", v0=v0, ncv=min(n - 1, 40), tol=1e-10)[0]
    except (ArpackNoConvergence, _BudgetSpent):
        return None
    return float(vals[0])
