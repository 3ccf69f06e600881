"""The ways users compute the sharpness today, written as they would write them.

Public:
    float_weights(dims, seed)       seeded random float64 weights (a minimizer of its own product)
    rational_weights(dims, seed)    seeded random small rationals (exact input)
    torch_available()               whether PyTorch imports (``None``) or why not (a string)
    autograd_full_hessian(ws)       ``torch.autograd.functional.hessian`` over the flattened
                                    parameters + ``torch.linalg.eigvalsh`` (the adapter's reference)
    hvp_lanczos(ws)                 ARPACK ``eigsh`` (k=1, largest algebraic) on a
                                    ``LinearOperator`` whose matvec is a torch double-backprop HVP
    hvp_power_iteration(ws)         PyHessian-style power iteration on the same HVP, 100 steps
                                    (the adapter's reference)
    mpmath_full_eigsy(point, dps)   the full ``P x P`` Hessian in mpf (docs/mathematics.md K1 formulas),
                                    then ``mpmath.eigsy`` at ``dps`` digits
    sympy_naive_hessian(dims)       SymPy ``Expr`` loss, ``sympy.hessian``, and the Gauss-Newton
                                    identity at a minimizer checked by ``expand``

Every baseline here is approximate (float64 or unproved mpmath) except the SymPy one, which
is exact; each is timed end to end from the weights, as a user's script would run it.
The inputs are minimizers: the target is the product of the weights (``X = I``).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = [
    "autograd_full_hessian",
    "float_weights",
    "hvp_lanczos",
    "hvp_power_iteration",
    "mpmath_full_eigsy",
    "rational_weights",
    "sympy_naive_hessian",
    "torch_available",
]


def float_weights(dims: Sequence[int], seed: int) -> list[np.ndarray]:
    """``W_l`` with i.i.d. ``N(0, 1/d_{l-1})`` entries (float64), seeded."""
    rng = np.random.default_rng(seed)
    return [
        rng.standard_normal((dims[l + 1], dims[l])) / np.sqrt(dims[l]) for l in range(len(dims) - 1)
    ]


def rational_weights(dims: Sequence[int], seed: int) -> list[list[list[Fraction]]]:
    """``W_l`` with entries ``p/q``, ``|p| <= 9``, ``1 <= q <= 9``, seeded (exact input)."""
    rng = np.random.default_rng(seed)
    return [
        [
            [Fraction(int(rng.integers(-9, 10)), int(rng.integers(1, 10))) for _ in range(dims[l])]
            for _ in range(dims[l + 1])
        ]
        for l in range(len(dims) - 1)
    ]


def torch_available() -> str | None:
    """``None`` when PyTorch imports, otherwise the reason it does not."""
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        return f"PyTorch not installed ({exc}); install the extra: pip install -e '.[torch]'"
    return None


def _torch_problem(ws: Sequence[np.ndarray]) -> tuple[Any, Any, list[Any]]:
    """``(inputs, targets, weight tensors)``: ``inputs = I`` (``X = I``, sample-major) and
    ``targets = (W_L ... W_1)^T`` computed by the forward pass, as a user would."""
    import torch

    tw = [torch.tensor(w, dtype=torch.float64) for w in ws]
    inputs = torch.eye(ws[0].shape[1], dtype=torch.float64)
    with torch.no_grad():
        out = inputs
        for w in tw:
            out = out @ w.T
    return inputs, out.clone(), tw


def autograd_full_hessian(ws: Sequence[np.ndarray]) -> Any:
    """A zero-argument callable: the adapter's ``autograd_full_hessian_sharpness``."""
    from numeric.adapters.torch import autograd_full_hessian_sharpness

    inputs, targets, tw = _torch_problem(ws)
    return lambda: autograd_full_hessian_sharpness(tw, inputs, targets)


def hvp_power_iteration(ws: Sequence[np.ndarray], *, iterations: int = 100) -> Any:
    """A zero-argument callable: the adapter's ``hvp_power_iteration_sharpness``."""
    from numeric.adapters.torch import hvp_power_iteration_sharpness

    inputs, targets, tw = _torch_problem(ws)
    return lambda: hvp_power_iteration_sharpness(tw, inputs, targets, iterations=iterations)


def hvp_lanczos(ws: Sequence[np.ndarray], *, seed: int = 0,
                targets: np.ndarray | None = None) -> Any:
    """A zero-argument callable computing the sharpness by Lanczos on torch HVPs: the loss
    graph is built once with ``create_graph=True``; each matvec is
    ``grad(<grad L, v>, theta)`` (double backprop, as in PyHessian/curvlinops); ARPACK
    ``eigsh(k=1, which="LA")`` from a seeded start vector, default tolerance (machine
    precision), eigenvalues only. ``targets`` (sample-major, ``Y^T``): default the weights'
    product (a minimizer)."""
    import torch
    from scipy.sparse.linalg import LinearOperator, eigsh

    inputs, product, tw = _torch_problem(ws)
    goal = product if targets is None else torch.from_numpy(np.array(targets, dtype=np.float64))

    def run() -> float:
        params = [w.clone().requires_grad_(True) for w in tw]
        out = inputs
        for w in params:
            out = out @ w.T
        loss = 0.5 * ((out - goal) ** 2).sum()
        grads = torch.autograd.grad(loss, params, create_graph=True)
        flat = torch.cat([g.reshape(-1) for g in grads])
        p = flat.numel()

        def matvec(v: np.ndarray) -> np.ndarray:
            vt = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).reshape(-1))
            hv = torch.autograd.grad(flat @ vt, params, retain_graph=True)
            return torch.cat([h.reshape(-1) for h in hv]).numpy()

        op = LinearOperator((p, p), matvec=matvec, dtype=np.float64)
        v0 = np.random.default_rng(seed).standard_normal(p)
        return float(eigsh(op, k=1, which="LA", v0=v0, return_eigenvectors=False)[0])

    return run


def mpmath_full_eigsy(point: Any, dps: int) -> Any:
    """A zero-argument callable: the full Hessian (``numeric.hessian.full_hessian`` on mpf
    entries, docs/mathematics.md K1), then ``mpmath.eigsy(..., eigvals_only=True)`` (Jacobi) at ``dps``
    digits; returns ``lambda_max`` as a ``dps``-digit string (approximate, not certified)."""
    import mpmath

    from numeric.evaluators.kinds import point_arrays, to_mp_matrix
    from numeric.hessian import full_hessian

    def run() -> str:
        with mpmath.workdps(dps):
            pw, px, py = point_arrays(point, "mpmath", dps)
            h = full_hessian(pw, px, py)
            vals = mpmath.eigsy(to_mp_matrix(h), eigvals_only=True)
            return str(mpmath.nstr(max(vals), dps, strip_zeros=False))

    return run


def sympy_naive_hessian(dims: Sequence[int]) -> Any:
    """A zero-argument callable: the textbook SymPy route. Weights and target ``M`` are
    matrices of symbols (named as in ``derivations.symbolic``), the loss is the ``Expr``
    ``1/2 sum (W_L ... W_1 - M)_ij^2``, ``H = sympy.hessian(loss, params)``; the Gauss-Newton
    identity at minimizers is checked by substituting ``M := W_L ... W_1`` and expanding
    every entry of ``H - J^T J``. Returns ``(H, proved)``."""
    import sympy

    def run() -> tuple[Any, bool]:
        ws = [
            sympy.Matrix(dims[l], dims[l - 1], lambda i, j, l=l: sympy.Symbol(f"w{l}_{i}_{j}"))
            for l in range(1, len(dims))
        ]
        m = sympy.Matrix(dims[-1], dims[0], lambda i, j: sympy.Symbol(f"m_{i}_{j}"))
        f = ws[0]
        for w in ws[1:]:
            f = w * f
        params = [s for w in ws for s in w]  # row-major, layer 1 first
        loss = sum(((f - m)[k] ** 2 for k in range(len(m))), sympy.Integer(0)) / 2
        h = sympy.hessian(loss, params)
        jac = sympy.Matrix(list(f)).jacobian(params)
        at_min = h.subs(dict(zip(list(m), list(f), strict=True)))
        proved = all(sympy.expand(e) == 0 for e in at_min - jac.T * jac)
        return h, proved

    return run
