"""The Hessian-vector-product baselines, rebuilt at any weights and data, for the suites that
time one solve off a minimizer (``offmin``) or a solve at every step of a training run
(``trajectory``).

Public:
    BASELINES               (name, peer, build) rows: ``build(ws, inputs, targets)`` -> ``matvec``
    available()             name -> ``None`` (runs) or why not, with the command that installs it
    top_eigenpair(matvec, p, v0, tol)   ARPACK ``eigsh(k=1, which="LA")`` as a user calls it ->
                            ``(value, unit vector, products)``
    solve(build, ws, inputs, targets, tol, seed)   one end-to-end solve from the weights -> value
    enable_float64_jax()    ``jax_enable_x64`` (before any JAX array is made)

Each ``build`` is what a user of that tool writes for the loss ``0.5 ||W_L...W_1 X - Y||_F^2``
(sample-major ``inputs = X^T``, ``targets = Y^T``; ``X = I`` is passed as the identity): the
work that depends on the weights (the graph, the closure, the operator) is done inside
``build``, so that timing ``build`` + the solve is timing the method end to end from the
weights. Unlike ``baselines.hvp_lanczos``, every baseline here takes the data.

    torch double backprop        grad of the loss with ``create_graph=True`` once; each product
                                 ``autograd.grad(<grad, v>, params, retain_graph=True)``
    torch.func jvp(grad)         ``torch.func.jvp`` of ``torch.func.grad`` (forward-over-reverse)
    curvlinops                   ``HessianLinearOperator(model, MSELoss(reduction="sum"), params,
                                 [(X, Y)], check_deterministic=False).to_scipy()``, halved
    JAX jit(jvp(grad))           one ``jax.jit``-compiled forward-over-reverse product on the
                                 flattened parameters (compiled once per shape; the first call
                                 at a shape is not a timed one: ``warm_up`` runs it)

All float64 on the CPU; the thread count is set by the caller (``run.py``: 1 thread for every
library, XLA included).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np

__all__ = ["BASELINES", "available", "enable_float64_jax", "solve", "top_eigenpair"]

Matvec = Callable[[np.ndarray], np.ndarray]
Build = Callable[[Sequence[np.ndarray], np.ndarray, np.ndarray], Matvec]


# --------------------------------------------------------------------------- torch
def _torch_double_backprop(ws: Sequence[np.ndarray], inputs: np.ndarray,
                           targets: np.ndarray) -> Matvec:
    import torch

    x, y = torch.from_numpy(inputs), torch.from_numpy(targets)
    params = [torch.from_numpy(np.ascontiguousarray(w)).requires_grad_(True) for w in ws]
    out = x
    for w in params:
        out = out @ w.T
    loss = 0.5 * ((out - y) ** 2).sum()
    grads = torch.autograd.grad(loss, params, create_graph=True)
    flat = torch.cat([g.reshape(-1) for g in grads])

    def matvec(v: np.ndarray) -> np.ndarray:
        vt = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).reshape(-1))
        hv = torch.autograd.grad(flat @ vt, params, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv]).numpy()

    return matvec


def _torch_func(ws: Sequence[np.ndarray], inputs: np.ndarray, targets: np.ndarray) -> Matvec:
    import torch
    from torch.func import grad, jvp

    x, y = torch.from_numpy(inputs), torch.from_numpy(targets)
    tw = tuple(torch.from_numpy(np.ascontiguousarray(w)) for w in ws)
    sizes = [w.numel() for w in tw]

    def loss(*params: Any) -> Any:
        out = x
        for w in params:
            out = out @ w.T
        return 0.5 * ((out - y) ** 2).sum()

    g = grad(loss, argnums=tuple(range(len(tw))))

    def matvec(v: np.ndarray) -> np.ndarray:
        vt = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).reshape(-1))
        vs = tuple(part.reshape(w.shape) for part, w in zip(torch.split(vt, sizes), tw,
                                                               strict=True))
        hv = jvp(g, tw, vs)[1]
        return torch.cat([h.reshape(-1) for h in hv]).numpy()

    return matvec


def _curvlinops(ws: Sequence[np.ndarray], inputs: np.ndarray, targets: np.ndarray) -> Matvec:
    import torch
    from curvlinops import HessianLinearOperator
    from torch.nn import MSELoss

    from numeric.adapters.torch import to_sequential

    model = to_sequential(list(ws))
    h = HessianLinearOperator(model, MSELoss(reduction="sum"), list(model.parameters()),
                              [(torch.from_numpy(inputs), torch.from_numpy(targets))],
                              check_deterministic=False).to_scipy()
    return lambda v: np.asarray(h.matvec(v)).reshape(-1) / 2


# --------------------------------------------------------------------------- JAX
def enable_float64_jax() -> None:
    """JAX computes in float32 unless ``jax_enable_x64`` is on (the adapter sets it too)."""
    import jax

    jax.config.update("jax_enable_x64", True)


@cache
def _jax_hvp(shapes: tuple[tuple[int, int], ...]) -> Any:
    """The jitted product ``(theta, v, X^T, Y^T) -> H(theta) v`` for these layer shapes."""
    import jax
    import jax.numpy as jnp

    sizes = [a * b for a, b in shapes]
    cuts = np.cumsum(sizes)[:-1].tolist()

    def loss(theta: Any, x: Any, y: Any) -> Any:
        out = x
        for part, shape in zip(jnp.split(theta, cuts), shapes, strict=True):
            out = out @ part.reshape(shape).T
        return 0.5 * jnp.sum((out - y) ** 2)

    def hvp(theta: Any, v: Any, x: Any, y: Any) -> Any:
        return jax.jvp(lambda t: jax.grad(loss)(t, x, y), (theta,), (v,))[1]

    return jax.jit(hvp)


def _jax(ws: Sequence[np.ndarray], inputs: np.ndarray, targets: np.ndarray) -> Matvec:
    import jax.numpy as jnp

    enable_float64_jax()
    hvp = _jax_hvp(tuple((int(w.shape[0]), int(w.shape[1])) for w in ws))
    theta = jnp.concatenate([jnp.asarray(w).ravel() for w in ws])
    x, y = jnp.asarray(inputs), jnp.asarray(targets)
    return lambda v: np.asarray(hvp(theta, jnp.asarray(v.reshape(-1)), x, y))


BASELINES: list[tuple[str, str, Build]] = [
    ("torch double-backprop HVP + eigsh", "torch", _torch_double_backprop),
    ("torch.func jvp(grad) HVP + eigsh", "torch", _torch_func),
    ("curvlinops HessianLinearOperator + eigsh", "curvlinops", _curvlinops),
    ("JAX jit(jvp(grad)) HVP + eigsh", "JAX", _jax),
]
"""(name, peer it needs: a key of ``peer_tools.PEERS``, build)."""


def available() -> dict[str, str | None]:
    """Baseline name -> ``None`` when its library imports, otherwise why not and the command
    that installs it (``peer_tools.INSTALL_HINT``)."""
    from peer_tools import INSTALL_HINT, PEERS

    out: dict[str, str | None] = {}
    for name, peer, _ in BASELINES:
        try:
            importlib.import_module(PEERS[peer][0])
        except Exception as exc:  # a broken install is reported like a missing one
            out[name] = (f"not installed ({type(exc).__name__}: {str(exc)[:80]}); install: "
                         f"{INSTALL_HINT[peer]}")
        else:
            out[name] = None
    return out


# --------------------------------------------------------------------------- the solve
def top_eigenpair(matvec: Matvec, p: int, v0: np.ndarray, *, tol: float,
                  ncv: int | None = None) -> tuple[float, np.ndarray, int]:
    """``eigsh(LinearOperator(matvec), k=1, which="LA", v0=v0, tol=tol)`` (ARPACK, its default
    ``ncv = 20`` unless given) -> ``(lambda_max, unit eigenvector, products)``."""
    from scipy.sparse.linalg import LinearOperator, eigsh

    count = [0]

    def counted(v: np.ndarray) -> np.ndarray:
        count[0] += 1
        return matvec(v)

    op = LinearOperator((p, p), matvec=counted, dtype=np.float64)
    vals, vecs = eigsh(op, k=1, which="LA", v0=v0, tol=tol, ncv=ncv)
    vec = vecs[:, 0]
    return float(vals[0]), vec / np.linalg.norm(vec), count[0]


def solve(build: Build, ws: Sequence[np.ndarray], inputs: np.ndarray, targets: np.ndarray, *,
          tol: float, seed: int = 0) -> tuple[float, int]:
    """One solve end to end from the weights: ``build`` and ARPACK from a seeded start ->
    ``(lambda_max, products)``."""
    p = sum(w.size for w in ws)
    v0 = np.random.default_rng(seed).standard_normal(p)
    value, _, products = top_eigenpair(build(ws, inputs, targets), p, v0, tol=tol)
    return value, products
