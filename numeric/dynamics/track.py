"""The sharpness along a training run: ``lambda_max`` of the loss's Hessian at every step
(float64, approximate: Lanczos), with the loss, ``||R||_F`` and ``||grad||``.

Public:
    SharpnessTracker(*, target=None, data=None, labels=None, inputs=None, targets=None,
                     loss="half-sum", eta=None, weight_decay=0, warm_start=True, seed=0,
                     ncv=DEFAULT_NCV, threads=None)
        tracker(weights, *, step=None) -> SharpnessRecord   one step (appended to ``history``)
        tracker.history                   the records, in call order
        tracker.two_over_eta              ``2/eta`` (``None`` without ``eta``)
        tracker.method                    how every number was obtained
        tracker.plot(ax=None, *, path=None)   sharpness vs step with ``2/eta``, loss on a second axis
        tracker.rows(), tracker.to_json() the history as table rows / a JSON-ready dict
    SharpnessRecord   one step: step, sharpness, loss, residual_norm, gradient_norm, products,
                      seconds (frozen)
    DEFAULT_NCV, LANCZOS_TOL, WARM_MIX, CHECK_AT, BASIS_BYTES, LANCZOS_STEPS

Helpers (private): reading the problem once (``_problem``) and compressing its data once
(``_compressed``), reading one step's weights (a list of arrays, a ``torch.nn.Sequential`` of
bias-free ``nn.Linear`` layers, JAX arrays), the ONE place the Hessian operator is built
(``_hessian_operator``), the ONE place the BLAS thread count is set (``_float64_work``:
``numeric.evaluators.threads.blas_threads``), and the eigen-solve (``_top_eigenpair``: the
Lanczos recurrence ``_lanczos``, ARPACK when its vectors fill their memory).

**What is computed** at weights ``W = (W_1, ..., W_L)``, with ``R = W_L ... W_1 X - Y`` (``X = I``,
``Y = M`` for ``target=M``), ``c`` the exact Hessian factor of the loss convention
(``numeric.loss_conventions.loss_factor``) and ``lam`` the weight decay:
    loss            ``c/2 ||R||_F^2 + lam/2 sum_l ||W_l||_F^2``   (the loss being trained)
    residual_norm   ``||R||_F``
    gradient_norm   ``(sum_l ||c A_l^T R X^T B_l^T + lam W_l||_F^2)^(1/2)``  (docs/mathematics.md K1)
    sharpness       ``lambda_max(c H + lam I) = c lambda_max(H) + lam``, ``H`` the Hessian of
                    ``1/2 ||R||_F^2`` (K1, both terms), by Lanczos on the matrix-free float64
                    operator ``numeric.hessian.hessian_operator(W, F, Y')`` (``numeric.operators``;
                    ``(F, Y')`` the data compressed once per tracker, the same Hessian): the
                    Rayleigh quotient ``rho`` of a Ritz vector ``x`` whose residual, computed with
                    one more product, is ``||H x - rho x|| <= LANCZOS_TOL |rho|`` (``_lanczos``;
                    ARPACK ``eigsh`` with ``ncv`` from its last Ritz vector when the Lanczos
                    vectors fill ``BASIS_BYTES``; ``P <= 2`` parameters: dense ``eigh`` of its
                    ``P`` columns); the factor ``c`` is applied once in float64 after the run.
All in float64: APPROXIMATE (no certificate; ``numeric.sharpness.sharpness`` certifies a single
point). The Lanczos run starts from the previous step's top eigenvector (a warm start), the first
step from the structured start ``J^T u`` of ``numeric.operators`` (the top eigenvector of the
Gauss-Newton part ``J^T J``: exact at a minimizer), each plus ``WARM_MIX`` times a seeded random
vector; ``warm_start=False`` starts every step from that random vector alone.

**Cost** (``benchmarks/run.py --only trajectory``: 200 gradient-descent steps of
(32,128,128,128,10), ``N = 512``, one BLAS thread): ARPACK (``ncv = 20``) from the warm start took
31.4 products and 29.5 ms per step; the Lanczos recurrence, which tests convergence after every
product instead of after ``ncv`` and does not reorthogonalize (ARPACK's reorthogonalization cost as
much as a product at ``P = 38144``), takes 28.7 products (the check included) and 14.9 ms. The
previous eigenvector and the structured start are about equally good there (25-26 products
each with ``WARM_MIX``): the random part, not the start, sets the count (with ``1e-6`` the
previous eigenvector took 22 and a linear extrapolation of the last two 19), and a smaller
``WARM_MIX`` is not safe: two networks side by side, 22528 parameters, whose top eigenvector
moves out of the previous one's invariant subspace (tests/test_track.py has the scenario): found
from ``WARM_MIX = 1e-6``, missed from ``1e-7`` in one of two seeds.

Gradient descent ``W <- W - eta grad`` on this loss is linearly stable only where
``sharpness <= 2/eta``; Cohen et al. (2021), "Gradient descent on neural networks typically
occurs at the edge of stability" (ICLR), observe the sharpness rising to ``2/eta`` and hovering
there. ``tracker.plot`` draws that line.

>>> import numpy as np
>>> tracker = SharpnessTracker(target=np.array([[6.0]]), eta=0.1)
>>> rec = tracker([np.array([[2.0]]), np.array([[3.0]])])   # H = [[9, 6], [6, 4]] at R = 0
>>> rec.step, round(rec.sharpness, 12), rec.loss, rec.residual_norm, tracker.two_over_eta
(0, 13.0, 0.0, 0.0, 20.0)
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import numbers
import os
import sys
import time
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from derivations.errors import DmfError, EmptyInputError, NonFiniteError, ShapeError
from derivations.exact import check_chain
from numeric.evaluators.float64_input import Float64RangeError
from numeric.evaluators.threads import blas_threads, check_threads
from numeric.loss_conventions import loss_factor, resolve_loss
from numeric.operators import NCV_TOP1, HessianOperator, compress_data
from numeric.result import parse_weight_decay
from numeric.sharpness import module_layers

__all__ = ["DEFAULT_NCV", "LANCZOS_TOL", "WARM_MIX", "SharpnessRecord", "SharpnessTracker"]

LANCZOS_TOL = 1e-10
"""ARPACK's relative residual tolerance (as ``numeric.sharpness.LANCZOS_TOL``): the returned
Ritz value is within about ``1e-10 |lambda|`` of an eigenvalue (symmetric operator)."""

DEFAULT_NCV = NCV_TOP1
"""Lanczos vectors per ARPACK restart (``ncv``; capped at ``P``) when ARPACK takes over from
the tracker's own Lanczos run (its basis full); ``numeric.operators.NCV_TOP1`` (10) for ``k =
1``."""

WARM_MIX = 1e-3
"""A warm start is ``v0 = u + WARM_MIX r``: ``u`` the previous step's unit top eigenvector,
``r`` a fixed seeded unit random vector, so that no eigenvector is exactly missing from the
start (Lanczos cannot find a direction its start vector is orthogonal to, e.g. after the top
two eigenvalues cross in a symmetric network)."""

CHECK_AT = 0.5
"""The Lanczos recurrence checks its Ritz pair (one product) once the residual estimate is
at most ``CHECK_AT * LANCZOS_TOL |theta|`` (a margin for rounding: the computed residual must be
``<= LANCZOS_TOL |rho|``)."""

BASIS_BYTES = 2**27
"""Memory for the Lanczos vectors of one tracker (128 MiB): ``min(LANCZOS_STEPS, BASIS_BYTES /
(8 P))`` vectors of ``P`` float64 entries, allocated once (the pages are touched only as they
are used); a run that needs more continues in ARPACK from its last Ritz vector."""

LANCZOS_STEPS = 400
"""At most this many Lanczos vectors (products) before ARPACK takes over."""

_DENSE_MAX = 2
"""Operators this small are diagonalized densely from ``P`` products (ARPACK needs ``P > k``
with room for a restart)."""

_PRODUCT_REFUSED = (
    "{name}='product' is not a training problem: the weights' product changes at every step; "
    "pass the {name} the run is trained on"
)


@dataclasses.dataclass(frozen=True)
class SharpnessRecord:
    """One step of a run (float64, approximate): the sharpness ``lambda_max`` of the chosen
    loss's Hessian (Lanczos), the loss, ``||R||_F``, ``||grad||`` of the loss, the number of
    Hessian-vector products the Lanczos run used, and the wall seconds of the call."""

    step: int
    sharpness: float
    loss: float
    residual_norm: float
    gradient_norm: float
    products: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """The record as a dict of JSON numbers."""
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------- input
def _torch() -> Any:
    """torch if the caller imported it (a caller holding a tensor has), else ``None``."""
    return sys.modules.get("torch")


def _float64(m: Any, name: str, what: str) -> np.ndarray:
    """``m`` (NumPy, nested lists of numbers, a torch or JAX array) as a float64 array, copied
    at most once: a torch tensor through ``.detach()`` (no copy when it is float64 on the CPU),
    anything else through ``np.asarray`` (no copy when it is a float64 array)."""
    torch = _torch()
    if torch is not None and isinstance(m, torch.Tensor):
        if m.is_complex():
            raise DmfError(f"{name} is a complex tensor; {what} must be real")
        return m.detach().to("cpu", torch.float64).numpy()
    if isinstance(m, str | bytes):
        raise DmfError(f"{name} must be {what}; got the string {m[:40]!r}")
    try:
        arr = np.asarray(m)
    except (TypeError, ValueError) as exc:
        raise DmfError(f"{name} must be {what}; got {type(m).__name__} ({str(exc)[:80]})"
                       ) from None
    if arr.dtype.kind == "c":
        raise DmfError(f"{name} has complex entries; {what} must be real")
    try:
        return arr.astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:
        raise DmfError(f"{name} must be {what}; got {type(m).__name__} ({str(exc)[:80]})"
                       ) from None


def _matrix(m: Any, name: str, layout: str) -> np.ndarray:
    """A finite 2-D float64 matrix (``_float64``) of the problem, named ``name``."""
    arr = _float64(m, name, f"a {layout} matrix of real numbers")
    if arr.ndim != 2:
        raise ShapeError(f"{name} must be a 2-D {layout} matrix; got shape {arr.shape}")
    if arr.size == 0:
        raise EmptyInputError(f"{name} has shape {arr.shape}; a {layout} matrix needs entries")
    if not np.all(np.isfinite(arr)):
        raise NonFiniteError(f"{name} has non-finite entries (NaN or Inf)")
    return arr


def _problem(target: Any, data: Any, labels: Any, inputs: Any, targets: Any
             ) -> tuple[np.ndarray | None, np.ndarray, str, tuple[str, str]]:
    """``(X, Y, how, (where d_0 is from, where d_L is from))`` in float64, one sample per
    column (``X = None`` for ``X = I``), from exactly one of ``target=M``, ``data=/labels=`` or
    ``inputs=/targets=`` (samples first: transposed here). The arrays are the tracker's own
    C-contiguous copies: changing the caller's arrays later changes nothing."""
    given = {k: v for k, v in (("target", target), ("data", data), ("labels", labels),
                               ("inputs", inputs), ("targets", targets)) if v is not None}
    for name, value in given.items():
        if isinstance(value, str) and value == "product":
            raise DmfError(_PRODUCT_REFUSED.format(name=name))
    pairs = (("target",), ("data", "labels"), ("inputs", "targets"))
    forms = [keys for keys in pairs if any(k in given for k in keys)]
    if len(forms) != 1:
        raise DmfError(
            "SharpnessTracker needs the problem of the run in exactly one form: inputs= and "
            "targets= (N x d_0 and N x d_L, one sample per row as in PyTorch and JAX), data= "
            "and labels= (d_0 x N and d_L x N, one sample per column), or target=M (plain "
            f"factorization, X = I); got {', '.join(given) or 'none of them'}"
        )
    missing = [k for k in forms[0] if k not in given]
    if missing:
        (have,) = [k for k in forms[0] if k in given]
        raise DmfError(f"SharpnessTracker got {have}= without {missing[0]}=: pass both (the "
                       "loss needs its targets)")
    if target is not None:
        m = _matrix(target, "target", "d_L x d_0")
        where = f"target M is {m.shape}"
        return None, _own(m), "target M (X = I)", (where, where)
    if data is not None:
        x, y = _matrix(data, "data", "d_0 x N"), _matrix(labels, "labels", "d_L x N")
        if x.shape[1] != y.shape[1]:
            raise ShapeError(f"data has {x.shape[1]} samples (shape {x.shape}) but labels has "
                             f"{y.shape[1]} (shape {y.shape}); both are d x N, one sample per "
                             "column")
        return (_own(x), _own(y), "data X and labels Y (one sample per column)",
                (f"data is {x.shape}", f"labels is {y.shape}"))
    a, b = _matrix(inputs, "inputs", "N x d_0"), _matrix(targets, "targets", "N x d_L")
    if a.shape[0] != b.shape[0]:
        hint = next((f"; {name} looks transposed: pass {name}={name}.T" for name, m, other
                     in (("inputs", a, b), ("targets", b, a)) if m.shape[1] == other.shape[0]),
                    "")
        raise ShapeError(f"inputs has {a.shape[0]} samples (shape {a.shape}) but targets has "
                         f"{b.shape[0]} (shape {b.shape}); both are N x d, one sample per "
                         f"row{hint}")
    return (_own(a.T), _own(b.T),
            "inputs and targets (one sample per row, transposed once)",
            (f"inputs is N x {a.shape[1]}", f"targets is N x {b.shape[1]}"))


def _own(m: np.ndarray) -> np.ndarray:
    return np.array(m, dtype=np.float64, order="C", copy=True)


def _eta(eta: Any) -> float | None:
    if eta is None:
        return None
    if isinstance(eta, bool) or not isinstance(eta, numbers.Real) or not (
            math.isfinite(float(eta)) and float(eta) > 0):
        raise DmfError(f"eta (the step size) must be a finite number > 0; got {eta!r}")
    return float(eta)


def _layers(weights: Any) -> list[np.ndarray]:
    """One step's weights as float64 arrays, each copied at most once: a torch model's tensors
    via ``.detach()`` (no copy when they are float64 on the CPU), JAX and NumPy arrays via
    ``np.asarray``."""
    torch = _torch()
    if torch is not None and isinstance(weights, torch.nn.Module):
        weights = module_layers(weights)
    elif isinstance(weights, np.ndarray) or not isinstance(weights, Sequence) or isinstance(
            weights, str | bytes):
        raise DmfError("weights must be a list [W_1, ..., W_L] of 2-D arrays (W_l is d_l x "
                       "d_{l-1}), a torch.nn.Sequential of bias-free nn.Linear layers, or a list "
                       f"of JAX arrays; got {type(weights).__name__}")
    if len(weights) == 0:
        raise EmptyInputError("no layers given; expected weights W_1, ..., W_L with L >= 1")
    return [_weight(w, l) for l, w in enumerate(weights, start=1)]


def _weight(w: Any, l: int) -> np.ndarray:
    arr = _float64(w, f"W_{l}", "a 2-D array of real numbers")
    if arr.ndim != 2:
        raise ShapeError(f"W_{l} must be 2-D (d_{l}, d_{l - 1}); got shape {arr.shape}")
    return arr


# --------------------------------------------------------------------------- float64 work
def _float64_work(ws: list[np.ndarray], x: np.ndarray | None,
                  threads: Any) -> contextlib.AbstractContextManager[Any]:
    """THE ONE PLACE the BLAS thread count of the float64 work is set:
    ``numeric.evaluators.threads.blas_threads`` (the ``threads`` option, else ``DMF_SHARPNESS_THREADS``,
    else by size: 1 thread unless one product of a Hessian-vector product is huge), given the
    flops of the largest product as ``sharpness()``'s Lanczos route counts them
    (``numeric.evaluators.float64._float64_work``). Yields the ``ThreadChoice``."""
    from numeric.evaluators.float64 import _float64_work as lanczos_work

    return blas_threads(lanczos_work(ws, x, "full", dense=False), threads)


def _hessian_operator(ws: list[np.ndarray], x: np.ndarray | None, y: np.ndarray) -> Any:
    """THE ONE PLACE the Hessian of ``1/2 ||W_L...W_1 X - Y||_F^2`` is built: the matrix-free
    float64 ``LinearOperator`` of ``numeric.hessian.hessian_operator`` (docs/mathematics.md K1,
    both terms)."""
    from numeric.hessian import hessian_operator

    return hessian_operator(ws, x, y)


def _top_eigenpair(op: Any, v0: np.ndarray, *, ncv: int,
                   basis: np.ndarray | None = None) -> tuple[float, np.ndarray, int]:
    """``(lambda_max, unit eigenvector, products)`` of the symmetric ``op`` with relative residual
    ``<= LANCZOS_TOL``: :func:`_lanczos` from ``v0`` in the rows of ``basis``, and ARPACK
    (``eigsh``, ``k=1``, ``which="LA"``, ``ncv``) from its last Ritz vector when it stops without
    an answer (basis full, or a breakdown whose vector fails the check); dense ``eigh`` of the
    ``P`` columns ``op e_i`` when ``P <= _DENSE_MAX``."""
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    n = op.shape[0]
    count = [0]

    def matvec(v: np.ndarray) -> np.ndarray:
        count[0] += 1
        return np.asarray(op.matvec(v), dtype=np.float64).reshape(-1)

    if n <= _DENSE_MAX:
        dense = np.column_stack([matvec(e) for e in np.eye(n)])
        vals, vecs = np.linalg.eigh((dense + dense.T) / 2)
        return float(vals[-1]), vecs[:, -1], count[0]
    if basis is not None:
        found, v0 = _lanczos(matvec, v0, basis)
        if found is not None:
            return found[0], found[1], count[0]
    counted = LinearOperator(op.shape, matvec=matvec, rmatvec=matvec, dtype=np.float64)
    try:
        vals, vecs = eigsh(counted, k=1, which="LA", v0=v0, tol=LANCZOS_TOL, ncv=min(n, ncv))
    except ArpackNoConvergence:
        raise DmfError(f"Lanczos (ARPACK) did not converge to relative residual {LANCZOS_TOL:g} "
                       f"within {count[0]} Hessian-vector products; try a larger ncv") from None
    vec = vecs[:, 0]
    return float(vals[0]), vec / np.linalg.norm(vec), count[0]


def _lanczos(matvec: Any, v0: np.ndarray, basis: np.ndarray
             ) -> tuple[tuple[float, np.ndarray] | None, np.ndarray]:
    """The top eigenpair by the Lanczos three-term recurrence (Golub & Van Loan, "Matrix
    Computations", 4th ed., Alg. 10.1.1), without reorthogonalization, the vectors kept in the
    rows of ``basis``: ``beta_j q_{j+1} = H q_j - alpha_j q_j - beta_{j-1} q_{j-1}``, ``alpha_j =
    q_j^T H q_j``. After each product the top eigenpair ``(theta, s)`` of the tridiagonal
    ``T_j`` gives the Ritz vector ``x = Q_j s`` and the residual estimate ``|beta_j s_j|`` (exact
    in exact arithmetic: ``H x - theta x = beta_j s_j q_{j+1}``). Once the estimate is at most
    ``CHECK_AT LANCZOS_TOL |theta|``, the answer is CHECKED with one more product: ``rho = x^T
    H x`` (the Rayleigh quotient of the unit ``x``) is returned only if ``||H x - rho x|| <=
    LANCZOS_TOL |rho|``, the same test ARPACK makes on its estimate, here on the computed
    residual; otherwise the recurrence goes on (next check at a quarter of the estimate).
    Without reorthogonalization the vectors lose orthogonality once a Ritz value converges
    (Paige, 1976), which repeats converged Ritz values but does not stop the top one from
    converging; the check makes the answer independent of that. Returns ``((rho, x) or None,
    the last Ritz vector)``; ``None`` when ``basis`` is full or the recurrence breaks down
    (``beta_j = 0``) with a vector that fails the check."""
    from scipy.linalg import eigh_tridiagonal
    from scipy.linalg.blas import daxpy, ddot, dnrm2

    rows = basis.shape[0]
    alpha, beta = np.zeros(rows), np.zeros(rows)
    basis[0] = v0 / np.linalg.norm(v0)
    x, check_at = basis[0].copy(), CHECK_AT * LANCZOS_TOL
    for j in range(rows):
        w = matvec(basis[j])  # a fresh array: updated in place below (BLAS level 1)
        alpha[j] = ddot(basis[j], w)
        w = daxpy(basis[j], w, a=-alpha[j])
        if j > 0:
            w = daxpy(basis[j - 1], w, a=-beta[j - 1])
        b = float(dnrm2(w))
        if j == 0:
            theta, s = float(alpha[0]), np.ones(1)
        else:
            val, vec = eigh_tridiagonal(alpha[: j + 1], beta[:j], select="i",
                                        select_range=(j, j), check_finite=False)
            theta, s = float(val[0]), vec[:, 0]
        estimate = abs(b * s[-1])
        breakdown = b <= np.finfo(np.float64).eps * max(abs(theta), 1e-300)
        if estimate <= check_at * abs(theta) or breakdown:
            x = s @ basis[: j + 1]
            x /= np.linalg.norm(x)
            hx = matvec(x)
            rho = float(x @ hx)
            if np.linalg.norm(daxpy(x, hx, a=-rho)) <= LANCZOS_TOL * abs(rho):
                return (rho, x), x
            check_at = estimate / (4 * abs(theta)) if theta else 0.0
        if breakdown or j + 1 == rows:
            x = s @ basis[: j + 1]
            break
        beta[j] = b
        np.multiply(w, 1.0 / b, out=basis[j + 1])
    return None, x / np.linalg.norm(x)


def _compressed(x: np.ndarray | None, y: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """The data the Hessian is built from, computed once per tracker: ``(F, Y')`` of
    ``numeric.operators.compress_data`` (``F F^T = X X^T``, ``Y' F^T = Y X^T``, ``min(N, d_0)``
    columns: the thin QR of ``X^T`` when ``N > d_0``). The Hessian depends on the data only
    through ``X X^T`` and ``R X^T`` (numeric.operators), which do not change, so it is the same
    Hessian at every step; without it every step would factor ``X^T`` again."""
    if x is None:
        return None, y
    return compress_data(x, y)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


# --------------------------------------------------------------------------- the tracker
class SharpnessTracker:
    """Track ``lambda_max`` of the loss's Hessian along a training run (float64, approximate;
    module docstring): create it once for the run's data and loss, call it with each step's
    weights.

    The problem, in exactly one form: ``inputs=``/``targets=`` (``N x d_0``, ``N x d_L``, one
    sample per row as in PyTorch and JAX), ``data=``/``labels=`` (``d_0 x N``, ``d_L x N``, one
    sample per column) or ``target=M`` (``d_L x d_0``, ``X = I``); converted to float64 here,
    once. ``loss``: a convention name (``"half-sum"``, ``"sum"``, ``"mse"``, ``"half-mse"``,
    ``"sample-mean"``) or a ``torch.nn.MSELoss``, as in ``numeric.sharpness.sharpness``.
    ``eta``: the step size (``> 0``), for the stability threshold ``2/eta``. ``weight_decay``:
    ``lam >= 0``, adding ``(lam/2) sum_l ||W_l||_F^2`` to the loss and ``lam`` to the sharpness.
    ``warm_start=False`` starts every Lanczos run from the seeded random vector (``seed``);
    ``ncv``: Lanczos vectors per ARPACK restart (``>= 2``) when ARPACK takes over.
    ``threads``: BLAS threads of the float64 work (an int ``>= 1`` or ``"auto"``; ``None``:
    ``DMF_SHARPNESS_THREADS``, else ``"auto"``: 1 thread at all but huge sizes), as in
    ``numeric.sharpness.sharpness`` (``numeric.evaluators.threads``); ``method`` records the choice.
    """

    def __init__(
        self,
        *,
        target: Any = None,
        data: Any = None,
        labels: Any = None,
        inputs: Any = None,
        targets: Any = None,
        loss: Any = "half-sum",
        eta: Any = None,
        weight_decay: Any = 0,
        warm_start: bool = True,
        seed: int = 0,
        ncv: int = DEFAULT_NCV,
        threads: int | str | None = None,
    ) -> None:
        self.loss_convention = resolve_loss(loss)
        self.eta = _eta(eta)
        self.weight_decay: Fraction = parse_weight_decay(weight_decay)
        if isinstance(ncv, bool) or not isinstance(ncv, int) or ncv < 2:
            raise DmfError(f"ncv (Lanczos vectors per restart) must be an integer >= 2; got "
                           f"{ncv!r}")
        self.warm_start, self.seed, self.ncv = bool(warm_start), seed, ncv
        self.threads = check_threads(threads)
        self._threads_text: str | None = None
        self._x, self._y, self.problem, self._sources = _problem(
            target, data, labels, inputs, targets)
        self.n_samples = self._y.shape[1]
        self.factor, self.loss_formula = loss_factor(
            self.loss_convention, n_samples=self.n_samples, d_out=self._y.shape[0])
        self._hessian_data = _compressed(self._x, self._y)
        self.history: list[SharpnessRecord] = []
        self._shapes: list[tuple[int, int]] | None = None
        self._random: np.ndarray | None = None
        self._vector: np.ndarray | None = None
        self._basis: np.ndarray | None = None

    # ----------------------------------------------------------------- properties
    @property
    def two_over_eta(self) -> float | None:
        """The stability threshold ``2/eta`` of gradient descent (``None`` without ``eta``)."""
        return None if self.eta is None else 2.0 / self.eta

    @property
    def d_in(self) -> int:
        """``d_0``: the columns of ``W_1`` the problem needs."""
        return self._y.shape[1] if self._x is None else self._x.shape[0]

    @property
    def method(self) -> str:
        """How every recorded number was obtained."""
        start = ("warm-started from the previous step's top eigenvector, the first step from "
                 "the structured start J^T u (numeric.operators) when there is one, each plus "
                 f"{WARM_MIX:g} times a seeded random vector" if self.warm_start
                 else f"started from a seeded random vector (seed {self.seed}) at every step")
        decay = "" if self.weight_decay == 0 else f" plus weight_decay {self.weight_decay}"
        f = self._hessian_data[0]
        data = ("" if f is None or f is self._x else "; the data compressed once (thin QR of "
                f"X^T: the same Hessian, {f.shape[1]} columns instead of {self.n_samples})")
        return (
            "approximate (float64): lambda_max of the loss's Hessian by Lanczos (three-term "
            "recurrence, k=1; the answer is the Rayleigh quotient of a Ritz vector whose "
            f"residual, computed with one more product, is <= {LANCZOS_TOL:g} relative; ARPACK "
            f"eigsh with ncv={self.ncv} takes over when the Lanczos vectors fill "
            f"{BASIS_BYTES // 2**20} MiB) on the matrix-free Hessian of 0.5*||R||_F^2 "
            f"(numeric.hessian.hessian_operator{data}), {start}; times the exact loss factor "
            f"{self.factor} of {self.loss_convention!r}{decay}"
            + ("" if self._threads_text is None else f" ({self._threads_text})")
        )

    # ----------------------------------------------------------------- one step
    def __call__(self, weights: Any, *, step: int | None = None) -> SharpnessRecord:
        """Compute one step's record at ``weights`` (module docstring), append it to
        ``history`` and return it. ``step`` defaults to the previous step plus one (0 first)."""
        started = time.perf_counter()
        step = self._step(step)
        ws = _layers(weights)
        self._check_shapes(ws, step)
        with _float64_work(ws, self._x, self.threads) as choice:
            record = self._measure(ws, step)
        self._threads_text = choice.describe()
        record = dataclasses.replace(record, seconds=time.perf_counter() - started)
        self.history.append(record)
        return record

    def _step(self, step: int | None) -> int:
        if step is None:
            return self.history[-1].step + 1 if self.history else 0
        if isinstance(step, bool) or not isinstance(step, numbers.Integral):
            raise DmfError(f"step must be an integer; got {step!r}")
        return int(step)

    def _check_shapes(self, ws: list[np.ndarray], step: int) -> None:
        """The weights fit the problem and the previous call's shapes; finite entries."""
        shapes = [(int(w.shape[0]), int(w.shape[1])) for w in ws]
        if self._shapes is not None and shapes != self._shapes:
            raise ShapeError(self._changed(shapes))
        if self._shapes is None:
            dims = check_chain(shapes)
            d_out = self._y.shape[0]
            if dims[0] != self.d_in:
                name = self._sources[0].split(" ")[0]
                hint = (f"; {name} looks transposed: pass {name}={name}.T"
                        if self._x is not None and dims[0] == self.n_samples else "")
                raise ShapeError(
                    f"W_1 has shape {shapes[0]} but the problem has d_0 = {self.d_in} "
                    f"({self._sources[0]}); W_1 must be (d_1, {self.d_in}){hint}")
            if dims[-1] != d_out:
                raise ShapeError(
                    f"W_{len(ws)} has shape {shapes[-1]} but the problem has d_L = {d_out} "
                    f"outputs ({self._sources[1]}); W_{len(ws)} must be ({d_out}, "
                    f"d_{len(ws) - 1})")
        for l, w in enumerate(ws, start=1):
            if not np.all(np.isfinite(w)):
                raise NonFiniteError(f"W_{l} has non-finite entries (NaN or Inf) at step {step}: "
                                     "has the run diverged?")
        self._shapes = shapes

    def _changed(self, shapes: list[tuple[int, int]]) -> str:
        assert self._shapes is not None
        before = self.history[-1].step if self.history else "the previous call"
        tail = ("; a tracker follows one network (its eigenvector warm-starts the next step): "
                "create a new SharpnessTracker for another")
        if len(shapes) != len(self._shapes):
            return (f"got {len(shapes)} layers but step {before} had {len(self._shapes)}"
                    + tail)
        l = next(i for i, (a, b) in enumerate(zip(shapes, self._shapes, strict=True), start=1)
                 if a != b)
        return (f"W_{l} has shape {shapes[l - 1]} but at step {before} it had "
                f"{self._shapes[l - 1]}" + tail)

    def _measure(self, ws: list[np.ndarray], step: int) -> SharpnessRecord:
        from numeric.loss import gradient, residual

        x, y, c, lam = self._x, self._y, float(self.factor), float(self.weight_decay)
        r = residual(ws, x, y)
        r_norm = float(np.linalg.norm(r))
        decay = 0.5 * lam * sum(float(np.vdot(w, w)) for w in ws)
        loss = 0.5 * c * r_norm**2 + decay
        grads = gradient(ws, x, y)
        g_norm = math.sqrt(sum(float(np.vdot(g, g)) for g in (
            c * g + lam * w for g, w in zip(grads, ws, strict=True))))
        op = _hessian_operator(ws, *self._hessian_data)
        top, vec, products = _top_eigenpair(op, self._start(op), ncv=self.ncv,
                                            basis=self._lanczos_basis(op.shape[0]))
        if not all(math.isfinite(v) for v in (loss, g_norm, top)):
            raise Float64RangeError(
                f"float64 overflowed at step {step} (loss {loss}, ||grad|| {g_norm}, "
                f"lambda_max {top}): the run has left the range float64 can track")
        self._vector = vec
        return SharpnessRecord(step=step, sharpness=c * top + lam, loss=loss,
                               residual_norm=r_norm, gradient_norm=g_norm, products=products,
                               seconds=0.0)

    def _start(self, op: Any) -> np.ndarray:
        """The Lanczos start, plus ``WARM_MIX`` times the seeded random unit vector ``r``: the
        previous step's top eigenvector (warm), at the first step the structured start ``J^T
        u`` of ``numeric.operators`` (the top eigenvector of the Gauss-Newton part ``J^T J``,
        exact at a minimizer) when it exists; ``r`` alone with ``warm_start=False`` or when
        there is no structured start."""
        n = op.shape[0]
        if self._random is None or self._random.shape[0] != n:
            self._random = _unit(np.random.default_rng(self.seed).standard_normal(n))
        if not self.warm_start:
            return self._random
        start = self._vector
        if start is None and isinstance(op, HessianOperator):
            start = op.start_vector(1)
        if start is None or not np.any(start):
            return self._random
        return _unit(_unit(start) + WARM_MIX * self._random)

    def _lanczos_basis(self, n: int) -> np.ndarray:
        """The rows the Lanczos vectors are written to, allocated once per tracker
        (``BASIS_BYTES``: virtual memory, touched only as far as a run goes)."""
        rows = max(2, min(LANCZOS_STEPS, BASIS_BYTES // (8 * n)))
        if self._basis is None or self._basis.shape != (rows, n):
            self._basis = np.empty((rows, n))
        return self._basis

    # ----------------------------------------------------------------- output
    def rows(self) -> list[dict[str, Any]]:
        """The history as table rows (one dict per step; ``pandas.DataFrame(tracker.rows())``),
        with ``eta * sharpness / 2`` (stable below 1) when ``eta`` is known."""
        out = []
        for rec in self.history:
            row = rec.to_json()
            if self.eta is not None:
                row["eta_sharpness_over_2"] = self.eta * rec.sharpness / 2
            out.append(row)
        return out

    def to_json(self) -> dict[str, Any]:
        """The run as a JSON-ready dict: how the numbers were obtained, the problem, the loss
        (convention, exact factor, formula), ``eta``, ``2/eta``, weight decay and the rows."""
        return {
            "method": self.method,
            "problem": self.problem,
            "dims": None if self._shapes is None else [self._shapes[0][1]] + [
                s[0] for s in self._shapes],
            "samples": self.n_samples,
            "loss_convention": self.loss_convention,
            "loss_formula": self.loss_formula,
            "loss_factor": str(self.factor),
            "weight_decay": str(self.weight_decay),
            "eta": self.eta,
            "two_over_eta": self.two_over_eta,
            "history": self.rows(),
        }

    def plot(self, ax: Any = None, *, path: str | os.PathLike[str] | None = None) -> Any:
        """Sharpness vs step (with the ``2/eta`` line when ``eta`` is known) on ``ax`` (a new
        figure when ``None``) and the loss on a second y axis (log scale when positive).
        Returns ``(figure, (sharpness_axes, loss_axes))``; never shows the figure, and writes a
        file only to ``path`` (atomically; the format from its suffix, PNG by default)."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 3.8))
        else:
            fig = ax.figure
        steps = [r.step for r in self.history]
        ax.plot(steps, [r.sharpness for r in self.history], color="C0", lw=1.2,
                label="sharpness (float64 Lanczos)")
        if self.two_over_eta is not None:
            ax.axhline(self.two_over_eta, color="k", ls="--", lw=0.9,
                       label=f"2/eta = {self.two_over_eta:.4g}")
        ax.set_xlabel("step")
        ax.set_ylabel(r"$\lambda_{\max}$ of the loss's Hessian")
        ax_loss = ax.twinx()
        losses = [r.loss for r in self.history]
        ax_loss.plot(steps, losses, color="C1", lw=1, alpha=0.8, label=f"loss ({self.loss_convention})")
        if losses and min(losses) > 0:
            ax_loss.set_yscale("log")
        ax_loss.set_ylabel("loss", color="C1")
        handles = ax.get_legend_handles_labels()
        more = ax_loss.get_legend_handles_labels()
        ax.legend(handles[0] + more[0], handles[1] + more[1], fontsize=8, loc="best")
        if path is not None:
            _save(fig, Path(path))
        return fig, (ax, ax_loss)


def _save(fig: Any, path: Path) -> None:
    from numeric.oracle.files import atomic_write

    fmt = path.suffix.lstrip(".").lower() or "png"
    atomic_write(path, lambda fh: fig.savefig(fh, format=fmt, dpi=110), binary=True)
