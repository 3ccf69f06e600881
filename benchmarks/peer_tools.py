"""The peer tools, called as their users call them, on one float64 problem.

Public:
    Problem                  float64 weights ``[W_1, ..., W_L]``, ``inputs = X^T``, ``targets =
                             Y^T`` (sample-major, as every framework here wants them)
    problem_from_point(p)    a ``derivations.exact.Point`` rounded to float64
    minimizer_problem(dims, seed)
                             seeded ``N(0, 1/d_{l-1})`` weights, ``X = I``, ``Y`` = the product
    PEERS                    peer name -> (import name, distribution name)
    peer_status()            peer name -> ``None`` (importable) or why not
    versions()               library versions for the report
    ACCURACY_TOOLS           (tool, setting, runner) rows of the accuracy table
    SPEED_BASELINES          (name, peer needed, factory) HVP-Lanczos baselines of the speed table

Every runner returns the sharpness of the Hessian of ``0.5 ||W_L ... W_1 X - Y||_F^2``
(docs/mathematics.md); a tool whose loss is ``torch.nn.MSELoss(reduction="sum")`` (twice that)
has its value halved, which is exact in binary floating point. Everything runs in float64 on
the CPU. What each runner calls is said in its docstring; the settings are the tool's defaults
unless the setting name says otherwise.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "ACCURACY_TOOLS",
    "PEERS",
    "SPEED_BASELINES",
    "Problem",
    "minimizer_problem",
    "off_minimizer_problem",
    "peer_status",
    "problem_from_point",
    "versions",
]

PEERS: dict[str, tuple[str, str]] = {
    "curvlinops": ("curvlinops", "curvlinops-for-pytorch"),
    "PyHessian": ("pyhessian", "pyhessian"),
    "hessian-eigenthings": ("hessian_eigenthings", "hessian-eigenthings"),
    "JAX": ("jax", "jax"),
    "torch": ("torch", "torch"),
}
INSTALL_HINT = {
    "curvlinops": "pip install --no-deps curvlinops-for-pytorch (see pyproject.toml, extra peers)",
    "PyHessian": "pip install --no-deps pyhessian",
    "hessian-eigenthings": "pip install --no-deps hessian-eigenthings",
    "JAX": "pip install -e '.[jax]'",
    "torch": "pip install -e '.[torch]'",
}


@dataclass(frozen=True)
class Problem:
    """One float64 problem; ``weights[l-1]`` is ``W_l`` of shape ``(d_l, d_{l-1})``."""

    weights: tuple[np.ndarray, ...]
    inputs: np.ndarray
    targets: np.ndarray

    @property
    def params(self) -> int:
        return sum(w.size for w in self.weights)


def problem_from_point(point: Any) -> Problem:
    """The point's weights, ``X^T`` (identity without data) and ``Y^T``, rounded to float64."""
    from derivations.exact import to_float64
    from numeric.adapters.report import samples_first

    ws = tuple(to_float64(w) for w in point.weights)
    return Problem(ws, *samples_first(point))


def minimizer_problem(dims: tuple[int, ...], seed: int) -> Problem:
    """Seeded weights with i.i.d. ``N(0, 1/d_{l-1})`` entries, ``X = I`` and the target their
    product (computed in float64 by the forward pass, as a user would): a minimizer."""
    rng = np.random.default_rng(seed)
    ws = tuple(rng.standard_normal((dims[l + 1], dims[l])) / np.sqrt(dims[l])
               for l in range(len(dims) - 1))
    out = np.eye(dims[0])
    for w in ws:
        out = out @ w.T
    return Problem(ws, np.eye(dims[0]), out)


def off_minimizer_problem(dims: tuple[int, ...], seed: int, residual: float) -> Problem:
    """:func:`minimizer_problem` with its target moved by ``residual`` times a seeded
    ``N(0, 1)`` matrix: ``R != 0``, so every tool works on the full Hessian. A small
    ``residual`` is what a regularized minimizer looks like (its ``R`` is of the order of the
    weight decay); ``residual = 1`` is a point far from every minimizer."""
    base = minimizer_problem(dims, seed)
    rng = np.random.default_rng(seed + 1)
    return Problem(base.weights, base.inputs,
                   base.targets + residual * rng.standard_normal(base.targets.shape))


def peer_status() -> dict[str, str | None]:
    """Peer name -> ``None`` when it imports, otherwise the reason and how to install it."""
    out: dict[str, str | None] = {}
    for name, (module, _) in PEERS.items():
        try:
            importlib.import_module(module)
        except Exception as exc:  # a broken install is reported like a missing one
            out[name] = f"missing ({type(exc).__name__}: {exc}); install: {INSTALL_HINT[name]}"
        else:
            out[name] = None
    return out


def versions() -> dict[str, str | None]:
    """Installed versions of the libraries in the tables (``None``: not installed)."""
    out: dict[str, str | None] = {}
    for dist in ("dmf-sharpness", "numpy", "scipy", "torch", "jax", "jaxlib",
                 "curvlinops-for-pytorch", "pyhessian", "hessian-eigenthings"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


# --------------------------------------------------------------------------- torch helpers
def _torch(problem: Problem) -> tuple[Any, Any, Any]:
    """``(model, inputs, targets)``: the adapter's float64 ``nn.Sequential`` and tensors."""
    import torch

    from numeric.adapters.torch import to_sequential

    return (to_sequential(list(problem.weights)), torch.from_numpy(problem.inputs.copy()),
            torch.from_numpy(problem.targets.copy()))


def _half_sum(out: Any, target: Any) -> Any:
    return 0.5 * ((out - target) ** 2).sum()


@contextlib.contextmanager
def _float64_default(seed: int) -> Iterator[None]:
    """PyHessian draws its start vector with ``torch.randn(shape)`` in the *default* dtype from
    the *global* generator: a float64 user sets both."""
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # backward(create_graph=True) warns on every call
            yield
    finally:
        torch.set_default_dtype(old)


def _eigsh_top(op: Any, p: int, seed: int) -> float:
    from scipy.sparse.linalg import eigsh

    v0 = np.random.default_rng(seed).standard_normal(p)
    return float(eigsh(op, k=1, which="LA", v0=v0, return_eigenvectors=False)[0])


# --------------------------------------------------------------------------- the runners
def curvlinops_eigsh(problem: Problem, *, seed: int = 0, check_deterministic: bool = True) -> float:
    """``curvlinops.HessianLinearOperator(model, MSELoss(reduction="sum"), params, [(X, Y)])
    .to_scipy()``, then SciPy ``eigsh(k=1, which="LA")`` (ARPACK Lanczos, default tolerance =
    machine precision, seeded start), halved. The operator's HVP is ``torch.func`` ``jvp`` of
    ``jacrev``."""
    from curvlinops import HessianLinearOperator
    from torch.nn import MSELoss

    model, x, y = _torch(problem)
    params = list(model.parameters())
    h = HessianLinearOperator(model, MSELoss(reduction="sum"), params, [(x, y)],
                              check_deterministic=check_deterministic).to_scipy()
    return _eigsh_top(h, problem.params, seed) / 2


def pyhessian_top(problem: Problem, *, max_iter: int = 100, tol: float = 1e-3,
                  seed: int = 0) -> float:
    """``pyhessian.hessian(model, criterion, data=(X, Y), cuda=False).eigenvalues(maxIter,
    tol)[0][0]``: power iteration on double-backprop HVPs (defaults ``maxIter=100, tol=1e-3``),
    float64 default dtype, seeded global generator."""
    from pyhessian import hessian

    with _float64_default(seed):
        model, x, y = _torch(problem)
        comp = hessian(model, _half_sum, data=(x, y), cuda=False)
        values, _ = comp.eigenvalues(maxIter=max_iter, tol=tol)
    return float(values[0])


def _eigenthings_operator(problem: Problem) -> Any:
    from hessian_eigenthings import HessianOperator, supervised_loss

    model, x, y = _torch(problem)
    return HessianOperator(model, [(x, y)], supervised_loss(_half_sum))


def eigenthings_lanczos(problem: Problem, *, k: int = 5, seed: int = 0) -> float:
    """``hessian_eigenthings.lanczos(HessianOperator(model, [(X, Y)], supervised_loss(crit)),
    k=k, seed=0).eigenvalues[0]``: the README's call (``k=5``; ``k = min(5, P)`` on tiny
    problems), defaults ``max_iter = min(2k, P - 1)``, ``which="LM"`` (largest magnitude)."""
    from hessian_eigenthings import lanczos

    op = _eigenthings_operator(problem)
    return float(lanczos(op, k=min(k, op.size), seed=seed).eigenvalues[0])


def eigenthings_power(problem: Problem, *, seed: int = 0) -> float:
    """``hessian_eigenthings.deflated_power_iteration(op, k=1, seed=0).eigenvalues[0]``
    (defaults ``max_iter=100, tol=1e-4``)."""
    from hessian_eigenthings import deflated_power_iteration

    return float(deflated_power_iteration(_eigenthings_operator(problem), k=1,
                                          seed=seed).eigenvalues[0])


def jax_hessian(problem: Problem) -> float:
    """``numeric.adapters.jax.hessian_eigvalsh_sharpness``: ``jax.hessian`` + ``eigvalsh``."""
    from numeric.adapters.jax import hessian_eigvalsh_sharpness

    return hessian_eigvalsh_sharpness(list(problem.weights), problem.inputs, problem.targets)


def jax_hvp_eigsh(problem: Problem, *, seed: int = 0) -> float:
    """``numeric.adapters.jax.hvp_lanczos_sharpness``: jitted ``jvp`` of ``grad`` + ``eigsh``
    (``k=1, which="LA"``, machine-precision tolerance)."""
    from numeric.adapters.jax import hvp_lanczos_sharpness

    return hvp_lanczos_sharpness(list(problem.weights), problem.inputs, problem.targets,
                                 seed=seed)


def ours_float64(problem: Problem) -> float:
    """``numeric.sharpness.sharpness(ws, Y=targets^T, data=X, float64=True)`` on the same
    float64 input (approximate: LAPACK or ARPACK)."""
    from numeric.sharpness import sharpness

    ws = list(problem.weights)
    identity = problem.inputs.shape[0] == problem.inputs.shape[1] and np.array_equal(
        problem.inputs, np.eye(problem.inputs.shape[0]))
    if identity:
        return float(sharpness(ws, problem.targets.T.copy(), float64=True).value)
    return float(sharpness(ws, data=problem.inputs.T.copy(), labels=problem.targets.T.copy(),
                           float64=True).value)


Runner = Callable[[Problem], float]
ACCURACY_TOOLS: list[tuple[str, str, Runner]] = [
    ("dmf-sharpness", "sharpness(float64=True)", ours_float64),
    ("curvlinops", "HessianLinearOperator + eigsh(k=1, LA)", curvlinops_eigsh),
    ("PyHessian", "eigenvalues() defaults (maxIter 100, tol 1e-3)", pyhessian_top),
    ("PyHessian", "eigenvalues(maxIter=5000, tol=1e-12)",
     lambda p: pyhessian_top(p, max_iter=5000, tol=1e-12)),
    ("hessian-eigenthings", "lanczos(k=5) (README call)", eigenthings_lanczos),
    ("hessian-eigenthings", "lanczos(k=1)", lambda p: eigenthings_lanczos(p, k=1)),
    ("hessian-eigenthings", "deflated_power_iteration(k=1)", eigenthings_power),
    ("JAX", "jax.hessian + eigvalsh", jax_hessian),
    ("JAX", "jit(jvp of grad) HVP + eigsh", jax_hvp_eigsh),
]
"""(tool, setting, runner); the tool name is a key of ``PEERS`` except ``dmf-sharpness``."""


# --------------------------------------------------------------------------- speed baselines
def _torch_double_backprop(problem: Problem) -> Callable[[], float]:
    import baselines as bl

    return bl.hvp_lanczos(list(problem.weights), targets=problem.targets)


def _torch_func_jvp_grad(problem: Problem) -> Callable[[], float]:
    """``torch.func.jvp`` of ``torch.func.grad`` (forward-over-reverse) HVP + ``eigsh``."""
    import torch
    from scipy.sparse.linalg import LinearOperator
    from torch.func import grad, jvp

    x, y = torch.from_numpy(problem.inputs.copy()), torch.from_numpy(problem.targets.copy())
    tw = [torch.from_numpy(w.copy()) for w in problem.weights]

    def run() -> float:
        def loss(*ws: Any) -> Any:
            out = x
            for w in ws:
                out = out @ w.T
            return _half_sum(out, y)

        g = grad(loss, argnums=tuple(range(len(tw))))
        sizes = [w.numel() for w in tw]

        def matvec(v: np.ndarray) -> np.ndarray:
            vt = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).reshape(-1))
            vs = tuple(part.reshape(w.shape) for part, w in zip(torch.split(vt, sizes), tw,
                                                                   strict=True))
            hv = jvp(lambda *ws: g(*ws), tuple(tw), vs)[1]
            return torch.cat([h.reshape(-1) for h in hv]).numpy()

        p = sum(sizes)
        return _eigsh_top(LinearOperator((p, p), matvec=matvec, dtype=np.float64), p, 0)

    return run


def _curvlinops(problem: Problem) -> Callable[[], float]:
    return lambda: curvlinops_eigsh(problem, check_deterministic=False)


def _jax(problem: Problem) -> Callable[[], float]:
    return lambda: jax_hvp_eigsh(problem)


SPEED_BASELINES: list[tuple[str, str, Callable[[Problem], Callable[[], float]]]] = [
    ("torch double-backprop HVP + eigsh", "torch", _torch_double_backprop),
    ("torch.func jvp(grad) HVP + eigsh", "torch", _torch_func_jvp_grad),
    ("curvlinops HessianLinearOperator + eigsh", "curvlinops", _curvlinops),
    ("JAX jit(jvp(grad)) HVP + eigsh", "JAX", _jax),
]
"""(name, peer it needs, factory: problem -> zero-argument timed callable). Each is timed end
to end from the weights; curvlinops runs with ``check_deterministic=False`` (its safety probe
costs extra HVPs; off, it can only be faster), JAX's compilation is cached after the first
run (the median excludes it)."""
