"""JAX adapter: check a user's JAX sharpness code against the certified oracle.

Needs the optional extra ``jax`` (``pip install -e ".[jax]"``, the CPU build of ``jax``).

Public:
    to_jax(weights)                  ``[W_1, ..., W_L]`` -> ``list[jax.Array]`` (float64,
                                     ``W_l`` of shape ``(d_l, d_{l-1})``)
    from_jax(arrays)                 the inverse: ``list[np.ndarray]`` (float64), ``W_1`` first
    jax_data(point)                  ``(inputs, targets) = (X^T, Y^T)`` in the sample-major layout
    half_sum_loss(ws, inputs, targets)
                                     ``0.5 * sum((inputs @ W_1^T ... @ W_L^T - targets)^2)``
    check_implementation(fn, cases, *, weight_decay=None)
                                     run ``fn`` on conformance cases, compare with certified values
    ConformanceReport, CaseReport    what ``check_implementation`` returns (``numeric.adapters.report``)
    hessian_eigvalsh_sharpness       reference: ``jax.hessian`` over the flattened parameters +
                                     ``jnp.linalg.eigvalsh`` (``weight_decay=lam``: of the loss
                                     plus ``(lam/2) ||theta||^2``)
    hvp_lanczos_sharpness            reference: a jitted forward-over-reverse HVP
                                     (``jax.jvp`` of ``jax.grad``) + ARPACK ``eigsh`` (Lanczos)

**float64 is switched on for the whole process.** Importing this module runs
``jax.config.update("jax_enable_x64", True)``: JAX is float32-only otherwise, and a float32
Hessian cannot be compared with a 50-digit value. The setting is global to JAX (every JAX array
created afterwards in the process defaults to 64 bits); a program that wants float32 JAX
elsewhere should pass ``dtype=jnp.float32`` explicitly there.

Layout: the same as the PyTorch adapter. docs/mathematics.md writes ``f(W) = W_L ... W_1`` acting
on columns (data ``X`` is ``(d_0, N)``); array code acts on rows, so a user's function receives
``inputs = X^T`` (``N x d_0``) and ``targets = Y^T`` (``N x d_L``); without data ``X = I``
(``inputs`` is the identity, ``N = d_0``) and ``targets = M^T``. The loss of docs/mathematics.md is
``0.5 * ((inputs @ W_1.T @ ... @ W_L.T - targets) ** 2).sum()`` and the parameter order is
``jnp.concatenate([w.ravel() for w in ws])`` (row-major, ``W_1`` first).

>>> ws = to_jax([[[1, 2]], [[3], [4]]])
>>> [w.shape for w in ws], ws[0].dtype
([(1, 2), (2, 1)], dtype('float64'))
>>> inputs = jnp.eye(2)
>>> float(half_sum_loss(ws, inputs, jnp.zeros((2, 2))))     # 0.5 * ||[[3, 6], [4, 8]]||_F^2
62.5
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from functools import partial
from typing import Any

import numpy as np

try:
    import jax
    import jax.numpy as jnp
except ImportError as _exc:  # pragma: no cover - exercised only without jax
    raise ImportError(
        "numeric.adapters.jax needs JAX, an optional extra of dmf-sharpness: install it with  "
        "pip install -e '.[jax]'  (or  pip install jax ; the CPU build is enough)"
    ) from _exc

from derivations.errors import ShapeError
from derivations.exact import Point
from numeric.adapters._layers import float64_weights
from numeric.adapters.report import (
    CaseReport,
    ConformanceReport,
    call_user,
    run_conformance,
    samples_first,
)

jax.config.update("jax_enable_x64", True)

_DENSE_FALLBACK_LIMIT = 512
"""``hvp_lanczos_sharpness``: up to this many parameters an ARPACK breakdown falls back to the
dense Hessian assembled from ``P`` HVPs."""

__all__ = [
    "CaseReport",
    "ConformanceReport",
    "check_implementation",
    "from_jax",
    "half_sum_loss",
    "hessian_eigvalsh_sharpness",
    "hvp_lanczos_sharpness",
    "jax_data",
    "to_jax",
]


# --- conversions ------------------------------------------------------------------------


def _array_float64(w: Any) -> np.ndarray | None:
    """A JAX array as a float64 NumPy array; ``None`` for anything else."""
    if isinstance(w, jax.Array):
        return np.asarray(w, dtype=np.float64)
    return None


def to_jax(weights: Sequence[Any] | Point) -> list[jax.Array]:
    """``[W_1, ..., W_L]`` as float64 JAX arrays, checked to chain (``W_l`` is ``(d_l,
    d_{l-1})``). Entries are read as every entry point reads them (arrays, ints, ``Fraction``,
    decimal and fraction strings like ``"0.1"``, ``"1/3"``; ``numeric.adapters._layers``) and
    exact ones rounded once to the nearest float64; a bad entry gets one line naming the layer
    (``W_2[0, 1]: ...``)."""
    return [jnp.asarray(arr, dtype=jnp.float64)
            for arr in float64_weights(weights, _array_float64)]


def from_jax(arrays: Sequence[Any]) -> list[np.ndarray]:
    """``[W_1, ..., W_L]`` as float64 NumPy arrays (copies)."""
    out = [np.array(a, dtype=np.float64) for a in arrays]
    if not out:
        raise ShapeError("no layers given")
    return out


def jax_data(point: Point) -> tuple[jax.Array, jax.Array]:
    """``(inputs, targets) = (X^T, Y^T)`` as float64 arrays (``X = I``, ``Y = M`` without data)."""
    inputs, targets = samples_first(point)
    return jnp.asarray(inputs), jnp.asarray(targets)


def half_sum_loss(ws: Sequence[Any], inputs: Any, targets: Any) -> Any:
    """``0.5 * ||inputs @ W_1^T @ ... @ W_L^T - targets||_F^2`` (docs/mathematics.md's loss,
    transposed)."""
    out = inputs
    for w in ws:
        out = out @ w.T
    return 0.5 * jnp.sum((out - targets) ** 2)


# --- the two reference implementations --------------------------------------------------


def _flat_loss(shapes: Sequence[tuple[int, ...]]) -> Callable[[Any, Any, Any], Any]:
    sizes = [int(np.prod(s)) for s in shapes]
    cuts = list(np.cumsum(sizes)[:-1])

    def loss_of(theta: Any, inputs: Any, targets: Any) -> Any:
        parts = jnp.split(theta, cuts)
        return half_sum_loss([p.reshape(s) for p, s in zip(parts, shapes, strict=True)],
                             inputs, targets)

    return loss_of


@partial(jax.jit, static_argnums=0)
def _top_of_hessian(shapes: tuple[tuple[int, ...], ...], theta: Any, inputs: Any, targets: Any,
                    lam: Any) -> Any:
    data_loss = _flat_loss(shapes)

    def loss_of(t: Any, x: Any, y: Any) -> Any:
        return data_loss(t, x, y) + 0.5 * lam * jnp.sum(t**2)

    hess = jax.hessian(loss_of)(theta, inputs, targets)
    return jnp.linalg.eigvalsh(hess)[-1]


def hessian_eigvalsh_sharpness(weights: Sequence[Any], inputs: Any, targets: Any, *,
                               weight_decay: float = 0.0) -> float:
    """Sharpness by the plain route: the ``P x P`` Hessian of the half-sum loss plus
    ``(weight_decay/2) ||theta||^2`` over the flattened parameters ``theta`` (``jax.hessian``,
    forward-over-reverse; the decay term differentiated by JAX too), then
    ``jnp.linalg.eigvalsh`` (LAPACK ``syevd``; float64, approximate; ``O(P^3)``, for small
    ``P``). Both run in one ``jax.jit`` program, compiled once per layer shapes."""
    ws = to_jax(weights)
    shapes = tuple(tuple(int(n) for n in w.shape) for w in ws)
    theta0 = jnp.concatenate([w.ravel() for w in ws])
    return float(_top_of_hessian(shapes, theta0, jnp.asarray(inputs), jnp.asarray(targets),
                                 jnp.float64(weight_decay)))


@partial(jax.jit, static_argnums=0)
def _hvp(shapes: tuple[tuple[int, ...], ...], theta: Any, v: Any, inputs: Any, targets: Any) -> Any:
    """``H(theta) v`` by forward-over-reverse (``jvp`` of ``grad``), compiled once per shape."""
    loss_of = _flat_loss(shapes)
    return jax.jvp(lambda t: jax.grad(loss_of)(t, inputs, targets), (theta,), (v,))[1]


def hvp_lanczos_sharpness(
    weights: Sequence[Any], inputs: Any, targets: Any, *, seed: int = 0, tol: float = 0.0
) -> float:
    """Sharpness by matrix-free Lanczos: ARPACK ``eigsh(k=1, which="LA")`` (largest
    *algebraic*, so a saddle's ``-lambda`` is not mistaken for the top) on a
    ``LinearOperator`` whose matvec is the jitted HVP ``v -> d/de grad L(theta + e v)`` (one
    ``jax.jvp`` of ``jax.grad``); seeded start vector, tolerance ``tol`` (0: machine
    precision). Approximate: the Ritz value converges to ``lambda_max`` to about machine
    precision relative to ``||H||``. With ``P <= 2`` parameters (too few for ARPACK), or when
    ARPACK's Krylov space collapses and ``P <= 512``, the Hessian is assembled from ``P``
    products and diagonalized densely instead."""
    from scipy.sparse.linalg import ArpackError, LinearOperator, eigsh

    ws = to_jax(weights)
    shapes = tuple(tuple(int(n) for n in w.shape) for w in ws)
    theta = jnp.concatenate([w.ravel() for w in ws])
    x, y = jnp.asarray(inputs), jnp.asarray(targets)
    p = int(theta.shape[0])

    def matvec(v: np.ndarray) -> np.ndarray:
        return np.asarray(_hvp(shapes, theta, jnp.asarray(v.reshape(-1)), x, y))

    def dense() -> float:  # the Hessian from P matvecs, then LAPACK
        h = np.column_stack([matvec(e) for e in np.eye(p)])
        return float(np.linalg.eigvalsh(0.5 * (h + h.T))[-1])

    if p <= 2:  # too small for ARPACK's k = 1
        return dense()
    op = LinearOperator((p, p), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(p)
    try:
        return float(eigsh(op, k=1, which="LA", v0=v0, tol=tol, return_eigenvectors=False)[0])
    except ArpackError:
        # ARPACK stops when the Krylov space collapses (``H v0 = 0``, e.g. H = 0 at all-zero
        # weights: "Starting vector is zero"); small problems then go dense.
        if p > _DENSE_FALLBACK_LIMIT:
            raise
        return dense()


# --- conformance checking ---------------------------------------------------------------


def check_implementation(
    fn: Callable[..., float],
    cases: Any = None,
    *,
    rtol: float = 1e-10,
    dps: int = 50,
    loss: str = "half-sum",
    weight_decay: Any = None,
) -> ConformanceReport:
    """Run ``fn(weights, inputs, targets) -> float`` on each case and compare with the certified
    sharpness (``numeric.adapters.report.run_conformance``).

    ``cases``: ``None`` (the conformance vectors shipped in the package), a directory of vector
    files, or an iterable of ``numeric.oracle.vectors.Vector``, ``Point`` (e.g. strategy draws
    from ``numeric.strategies``), input-file paths, or weight lists. ``fn`` gets the float64
    weights of :func:`to_jax` and ``(inputs, targets) = (X^T, Y^T)`` from :func:`jax_data`.
    ``loss`` names the user's loss convention (``numeric.loss_conventions``: ``half-sum`` =
    ``0.5 * sum``, ``sum``, ``mse`` = ``jnp.mean`` of the squares, ``half-mse`` =
    ``optax.l2_loss(...).mean()``, ``sample-mean``); the certified value is scaled to match. A
    case passes when its relative error is at most ``rtol``; ``ConformanceReport.diagnosis``
    names another convention that every case would pass under.

    **Weight decay** (as in ``numeric.adapters.torch.check_implementation``).
    ``weight_decay=lam`` (exact, ``numeric.result.parse_weight_decay``) checks the sharpness of
    the loss plus ``(lam/2) sum_l ||W_l||_F^2``, expected ``c lambda_max(H_0) + lam`` (the decay
    term is not scaled by the loss factor ``c``); ``fn`` is then called as
    ``fn(weights, inputs, targets, weight_decay=lam_f)``, ``lam_f`` the case's ``lam`` rounded to
    float64. Vectors with their own ``weight_decay`` run with their own ``lam``; without
    ``weight_decay`` ``fn(weights, inputs, targets)`` is called as before and they are skipped
    (``report.skipped``).

    >>> report = check_implementation(hessian_eigvalsh_sharpness, [[[[1]], [[2]]]], dps=20)
    >>> report.passed, report.cases[0].expected
    (True, '5.0')
    """

    def call(point: Point, lam: Fraction | None = None) -> float:
        return call_user(fn, (to_jax(point), *jax_data(point)), lam)

    return run_conformance(call, cases, rtol=rtol, dps=dps, loss=loss, weight_decay=weight_decay)
