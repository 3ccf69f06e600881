"""The Hessian as an operator: one object per curvature, as curvlinops has.

Public:
    HessianOperator        the float64 Hessian of ``1/2 ||W_L...W_1 X - Y||_F^2`` as a
                           ``scipy.sparse.linalg.LinearOperator``: ``.matvec``, ``.shape``,
                           ``.products`` (Hessian-vector products so far), ``.route``
                           (``"samples"`` | ``"factors"``), ``.samples`` (``m``),
                           ``.start_vector(k)`` (the structured Lanczos start)
    hessian_operator(weights, data, labels, *, how="auto")   builds it
    compress_data(data, labels) -> (F, Y')    ``F F^T = X X^T``, ``Y' F^T = Y X^T``, ``m = min(N, d_0)``
    route_seconds(dims, n_samples) -> {"samples": s, "factors": s}   the cost model (one product)
    choose_route(dims, n_samples) -> "samples" | "factors"
    lambda_max_float64(op, v0=None, *, tol) -> (value, vector, products)
    top_eigenpairs(op, k, *, v0=None, tol) -> (values, vectors, products)

Helpers (private): ``_Samples`` (the samples product), ``_Gram`` (``J J^T`` on the outputs),
``_Problem`` (the data compressed, the layers transposed when that shrinks ``m``), the GEMM
shape lists of the cost model.

Everything here is float64 (approximate arithmetic); the slow, obviously correct reference is
``numeric.hessian.full_hessian`` (docs/mathematics.md K1), which the tests compare with.

**The samples product** (forward-over-reverse by hand). Parameters ``theta = (vec_r W_1, ...,
vec_r W_L)`` (row-major blocks, docs/mathematics.md K1 order). Forward: ``h_0 = X`` (``d_0 x
m``), ``h_l = W_l h_{l-1}``; residual ``R = h_L - Y``; backward ``g_L = R``, ``g_{l-1} = W_l^T
g_l``, so ``grad_l = g_l h_{l-1}^T`` is the gradient of ``1/2 ||R||_F^2``. Differentiating the
gradient along ``D = (D_1, ..., D_L)``::

    dh_0 = 0,  dh_l = D_l h_{l-1} + W_l dh_{l-1}
    dg_L = dh_L,  dg_{l-1} = D_l^T g_l + W_l^T dg_l
    (H D)_l = dg_l h_{l-1}^T + g_l dh_{l-1}^T

``h_l`` and ``g_l`` are computed once per point; one product is ``6L - 3`` matrix products of
size ``d_l x d_{l-1} x m`` (``O(L d^2 m)``), fewer when ``h_0 = I`` (``D_1 h_0 = D_1``) or
``R = 0`` exactly (the ``g`` terms vanish). No ``d x d`` factor is formed.

**Why ``m = min(N, d_0)`` samples suffice.** ``R X^T = f X X^T - Y X^T`` with ``f = W_L...W_1``,
and by K1 the Hessian is ``sum`` of blocks ``(A_k^T A_l) kron (B_k X X^T B_l^T)`` (Gauss-Newton)
plus blocks built from ``B_k X R^T A_l`` (residual term): it depends on the data only through
``C = X X^T`` and ``R X^T``. Replace ``(X, Y)`` by ``(F, Y')`` with ``F F^T = X X^T`` and
``Y' F^T = Y X^T``: then ``F F^T = C`` and ``R' F^T = f F F^T - Y' F^T = f C - Y X^T = R X^T``,
so the Hessian is unchanged (the loss changes by the constant ``||Y||^2 - ||Y'||^2``). When
``N > d_0`` take the thin QR ``X^T = Q T`` (``Q``: ``N x d_0`` orthonormal columns, ``T``:
``d_0 x d_0``): ``F = T^T``, ``Y' = Y Q``; indeed ``F F^T = T^T T = T^T Q^T Q T = X X^T`` and
``Y' F^T = Y Q T = Y X^T``. Householder QR is backward stable and divides by nothing, so
rank-deficient ``X`` needs no threshold. Then ``m = min(N, d_0)``.

**Without data** (``X = I``, target ``M``) ``h_0 = I`` and ``m = d_0``. When ``d_L < d_0`` the
transposed network ``V_k = W_{L+1-k}^T`` (``V_L...V_1 = f^T``, target ``M^T``) has the same loss
and the same Hessian up to transposing each block and reversing the layer order, with ``m =
d_L``; the operator uses it, so ``m = min(d_0, d_L)``.

**The factors product** (``numeric.hessian._HvpFactors``) forms ``A_l = W_L...W_{l+1}``, ``B_l =
W_{l-1}...W_1`` once (``O(L d^3)``) and costs ``8L - 2`` products of factor size per product,
independent of ``N``.

**Cost model.** Each route is a list of GEMM shapes ``(p, q, r)`` (``p x q`` times ``q x r``) per
product; a GEMM is charged ``GEMM_OVERHEAD + max(pqr / GEMM_RATE, 8 (pq + qr + pr) /
GEMM_BANDWIDTH)`` seconds (compute- or memory-bound; measured with ONE OpenBLAS thread on the
project's machine, ``benchmarks/operators.py``), plus ``PAGE_FAULT`` per 4 KiB page of a fresh
output of at least ``MMAP_BYTES`` (the factors product allocates its ``d x d`` temporaries; the
samples product reuses one workspace). ``how="auto"`` takes the route with the smaller setup
plus ``EXPECTED_PRODUCTS`` products.

**The structured start.** ``H = J^T J + E`` (``E`` the residual term, small near minimizers).
``J D = dh_L`` and ``J^T U = (g_l h_{l-1}^T)_l`` with ``g_L = U``, ``g_{l-1} = W_l^T g_l``. If
``u`` is a unit top eigenvector of the Gram matrix ``J J^T`` (``d_L m x d_L m``) with eigenvalue
``s``, then ``J^T u / sqrt(s)`` is a unit top eigenvector of ``J^T J`` (same nonzero spectrum).
In row-major ``vec_r`` of ``d_L x m`` outputs, ``J_l = A_l kron h_{l-1}^T`` and
``J J^T = sum_l (A_l A_l^T) kron (h_{l-1}^T h_{l-1})``, i.e. ``U -> sum_l K_l U G_l`` with ``K_l =
A_l A_l^T`` (``d_L x d_L``) and ``G_l = h_{l-1}^T h_{l-1}`` (``m x m``). ``u`` comes from dense
``eigh`` when ``d_L m <= GRAM_DENSE_LIMIT``, else from Lanczos on that small operator (whichever of
the ``K, G`` form and ``J (J^T U)`` the cost model prices lower), and there is no structured start
beyond ``GRAM_LIMIT``. For ``k > 1`` the start is the sum of the top ``k`` unit eigenvectors of
``J^T J``. ``ARPACK eigsh(H, which="LA", v0=...)`` then refines; near minimizers the start is
nearly the answer.

>>> import numpy as np
>>> ws = [np.array([[2.0]]), np.array([[3.0]])]
>>> op = hessian_operator(ws, None, np.array([[5.0]]), how="samples")
>>> op.matvec(np.array([1.0, 0.0]))   # column 1 of [[9, 6 + R], [6 + R, 4]], R = 6 - 5
array([9., 7.])
>>> op.products, op.route
(1, 'samples')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from derivations.errors import DmfError, ShapeError

__all__ = [
    "EXPECTED_PRODUCTS",
    "GRAM_DENSE_LIMIT",
    "GRAM_LIMIT",
    "GRAM_TOL",
    "NCV_TOP1",
    "HessianOperator",
    "RouteChoice",
    "choose_route",
    "compress_data",
    "hessian_operator",
    "lambda_max_float64",
    "route_seconds",
    "top_eigenpairs",
]

RouteChoice = Literal["auto", "samples", "factors"]

GEMM_OVERHEAD = 1.5e-6
"""Seconds per NumPy matrix product call (Python and BLAS dispatch), one OpenBLAS thread."""
GEMM_RATE = 2.4e10
"""Multiply-adds per second of a large float64 GEMM, one OpenBLAS thread (SkylakeX, measured
23-26e9 for sizes 64..512)."""
GEMM_BANDWIDTH = 1.4e10
"""Bytes per second a GEMM with one thin side streams (512 x 512 times 512 x 4: 147 us)."""
PAGE_FAULT = 3e-6
"""Seconds per 4 KiB page of fresh memory (a minor page fault on this virtual machine: the
factors product at dims (64,512,512,10) took 15 ms with its 2430 faults, 6.5 ms without)."""
MMAP_BYTES = 131072
"""Arrays from this size on come from fresh pages (glibc's ``mmap`` threshold)."""
EXPECTED_PRODUCTS = 30
"""Products a Lanczos solve is assumed to take when the route's setup is weighed against its
per-product cost."""
GRAM_DENSE_LIMIT = 128
"""``d_L m`` up to which ``J J^T`` is formed and diagonalized densely for the start vector;
beyond, Lanczos on its ``K, G`` form is cheaper (``d_L m = 320``: dense ``eigh`` 10 ms, Lanczos
2 ms, the same Hessian products after)."""
NCV_TOP1 = 10
"""ARPACK's Lanczos basis size for ``k = 1`` (for ``k > 1``: ``max(20, 2k + 1)``, as
``numeric.spectrum.top_eigenpairs_float64``). ARPACK spends at least ``ncv`` products before its
first convergence test and orthogonalizes each new vector against up to ``ncv`` others, which
at ``P`` of 1e5 to 1e6 costs more than a samples product; benchmarks/operators.py: from the
structured start at a minimizer of dims (64,128,128,128,64) 11 products instead of 21, and from
a cold start within 5 products of ``ncv = 20`` in every case, with about half ARPACK's work per
product."""
GRAM_TOL = 1e-6
"""ARPACK's relative residual for ``u`` (Lanczos on ``J J^T``): at a minimizer of dims
(64,128,128,128,64) the Hessian solve then takes as few products as from ``1e-8`` (11), with
fewer Gram products elsewhere (21 instead of 31); ``1e-4`` took 21 Hessian products there."""
GRAM_LIMIT = 8192
"""``d_L m`` beyond which there is no structured start (the start is seeded random)."""

Shapes = list[tuple[int, int, int]]


# --------------------------------------------------------------------------- the problem
def compress_data(data: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(F, Y')`` with ``F F^T = X X^T`` and ``Y' F^T = Y X^T`` and ``min(N, d_0)`` columns: the
    thin QR ``X^T = Q T`` gives ``F = T^T``, ``Y' = Y Q`` when ``N > d_0`` (module docstring);
    otherwise ``(X, Y)`` unchanged. The Hessian depends on the data only through ``X X^T`` and
    ``R X^T``, so it is unchanged (up to float64 rounding of the QR)."""
    x = np.asarray(data, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if x.shape[1] <= x.shape[0]:
        return x, y
    q, t = np.linalg.qr(x.T, mode="reduced")
    return np.ascontiguousarray(t.T), y @ q


class _Problem:
    """The float64 problem the samples route runs on: inner weights, ``h_0`` (``None`` for the
    identity), inner labels, and whether the layers were transposed (``X = I``, ``d_L < d_0``)."""

    def __init__(
        self, weights: Sequence[np.ndarray], data: np.ndarray | None, labels: np.ndarray
    ) -> None:
        ws = [np.asarray(w, dtype=np.float64) for w in weights]
        y = np.asarray(labels, dtype=np.float64)
        self.shapes = [w.shape for w in ws]
        self.offsets = [0]
        for w in ws:
            self.offsets.append(self.offsets[-1] + w.size)
        self.transposed = data is None and ws[-1].shape[0] < ws[0].shape[1]
        self.h0: np.ndarray | None
        if data is not None:
            self.h0, self.y = compress_data(data, y)
            self.ws = ws
        elif self.transposed:
            self.h0, self.y = None, np.ascontiguousarray(y.T)
            self.ws = [np.ascontiguousarray(w.T) for w in reversed(ws)]
        else:
            self.h0, self.y, self.ws = None, y, ws

    @property
    def samples(self) -> int:
        """``m``, the number of columns pushed through."""
        return self.ws[0].shape[1] if self.h0 is None else self.h0.shape[1]

    def to_inner(self, v: np.ndarray) -> list[np.ndarray]:
        """``theta`` -> the inner blocks (reversed and transposed when ``transposed``)."""
        off = self.offsets
        blocks = [v[off[i] : off[i + 1]].reshape(s) for i, s in enumerate(self.shapes)]
        return [b.T for b in reversed(blocks)] if self.transposed else blocks

    def from_inner(self, blocks: Sequence[np.ndarray]) -> np.ndarray:
        """The inner blocks -> ``theta`` (the inverse of :meth:`to_inner`)."""
        if self.transposed:
            blocks = [b.T for b in reversed(blocks)]
        return np.concatenate([b.ravel() for b in blocks])

    def out_views(self, out: np.ndarray) -> list[np.ndarray]:
        """Writable views of ``theta``-vector ``out`` in the inner block shapes."""
        return self.to_inner(out)


# --------------------------------------------------------------------------- the samples route
class _Samples:
    """The samples Hessian-vector product (module docstring): ``h_l``, ``g_l`` of one point."""

    def __init__(self, problem: _Problem) -> None:
        ws, h0 = problem.ws, problem.h0
        self.ws, self.identity = ws, h0 is None
        self.wt = [w.T for w in ws]
        h: list[np.ndarray] = [np.empty((0, 0)) if h0 is None else h0]
        for i, w in enumerate(ws):
            h.append(w if (i == 0 and h0 is None) else w @ h[-1])
        self.h = h  # h[l], l = 0..L (h[0] unused when identity)
        r = h[-1] - problem.y
        self.live = bool(np.any(r))  # R = 0 exactly: every g_l = 0
        g: list[np.ndarray] = [r] * (len(ws) + 1)
        for l in range(len(ws), 1, -1):
            g[l - 1] = self.wt[l - 1] @ g[l]
        self.g = g  # g[l], l = 1..L

    def _times_h(self, l: int, left: np.ndarray) -> np.ndarray:
        """``left h_{l-1}`` (``left`` itself when ``h_0 = I`` and ``l = 1``)."""
        return left if (l == 1 and self.identity) else left @ self.h[l - 1]

    def _times_ht(self, l: int, left: np.ndarray) -> np.ndarray:
        """``left h_{l-1}^T``."""
        return left if (l == 1 and self.identity) else left @ self.h[l - 1].T

    def jvp(self, d: Sequence[np.ndarray]) -> list[np.ndarray]:
        """``[dh_1, ..., dh_L]`` along ``D`` (``dh_L = J D``)."""
        dh: list[np.ndarray] = []
        for l in range(1, len(self.ws) + 1):
            step = self._times_h(l, d[l - 1])
            dh.append(step if l == 1 else step + self.ws[l - 1] @ dh[-1])
        return dh

    def vjp(self, u: np.ndarray) -> list[np.ndarray]:
        """``J^T U``: blocks ``g_l h_{l-1}^T`` with ``g_L = U``, ``g_{l-1} = W_l^T g_l``."""
        out: list[np.ndarray] = [u] * len(self.ws)
        for l in range(len(self.ws), 0, -1):
            out[l - 1] = self._times_ht(l, u)
            if l > 1:
                u = self.wt[l - 1] @ u
        return out

    def _workspace(self) -> None:
        """Buffers reused by every product (fresh memory costs page faults: at dims
        (64,512,512,10) they doubled the time of the factors product, which allocates its
        temporaries). With ``R != 0`` the stacked ``[h_{l-1}, dh_{l-1}]`` and ``[dg_l, g_l]``
        (``l >= 2``) hold ``h`` and ``g`` once; ``dh`` and ``dg`` are views into them."""
        depth, m = len(self.ws), self.h[-1].shape[1]
        rows = [self.ws[0].shape[1]] + [w.shape[0] for w in self.ws]  # d_0 .. d_L
        dh: list[np.ndarray] = [np.empty(0)] * (depth + 1)
        dg: list[np.ndarray] = [np.empty(0)] * (depth + 1)
        self._hd: list[np.ndarray] = [np.empty(0)] * (depth + 1)
        self._gd: list[np.ndarray] = [np.empty(0)] * (depth + 1)
        for l in range(2, depth + 1) if self.live else ():
            self._hd[l] = np.empty((rows[l - 1], 2 * m))
            self._hd[l][:, :m] = self.h[l - 1]
            self._gd[l] = np.empty((rows[l], 2 * m))
            self._gd[l][:, m:] = self.g[l]
            dh[l - 1], dg[l] = self._hd[l][:, m:], self._gd[l][:, :m]
        for l in range(1, depth + 1):
            if dh[l].size == 0 and l < depth:
                dh[l] = np.empty((rows[l], m))
            if dg[l].size == 0 and l < depth:
                dg[l] = np.empty((rows[l], m))
        dh[depth] = dg[depth] if dg[depth].size else np.empty((rows[depth], m))
        dg[depth] = dh[depth]  # dg_L = dh_L
        self._dh, self._dg = dh, dg
        self._tmp = [np.empty((r, m)) for r in rows]  # W_l dh_{l-1} and D_{l+1}^T g_{l+1}

    def apply(self, d: Sequence[np.ndarray], out: Sequence[np.ndarray]) -> None:
        """``(H D)_l = dg_l h_{l-1}^T + g_l dh_{l-1}^T`` (module docstring) written into the
        blocks ``out``; with ``R != 0`` the two terms are one product ``[dg_l, g_l] [h_{l-1},
        dh_{l-1}]^T`` (inner dimension ``2m``, no ``d x d`` temporary). Reuses one workspace:
        not for concurrent calls."""
        if not hasattr(self, "_dh"):
            self._workspace()
        depth, dh, dg, tmp = len(self.ws), self._dh, self._dg, self._tmp
        for l in range(1, depth + 1):  # dh_l = D_l h_{l-1} + W_l dh_{l-1}
            if l == 1 and self.identity:
                dh[1][...] = d[0]
            else:
                np.matmul(d[l - 1], self.h[l - 1], out=dh[l])
            if l > 1:
                dh[l] += np.matmul(self.ws[l - 1], dh[l - 1], out=tmp[l])
        for l in range(depth, 0, -1):  # dg_L = dh_L, dg_{l-1} = W_l^T dg_l + D_l^T g_l
            if self.live and l > 1:
                np.matmul(self._gd[l], self._hd[l].T, out=out[l - 1])
            elif l == 1 and self.identity:
                out[0][...] = dg[1]
            else:
                np.matmul(dg[l], self.h[l - 1].T, out=out[l - 1])
            if l > 1:
                np.matmul(self.wt[l - 1], dg[l], out=dg[l - 1])
                if self.live:
                    dg[l - 1] += np.matmul(d[l - 1].T, self.g[l], out=tmp[l - 1])


# --------------------------------------------------------------------------- the operator
class HessianOperator(LinearOperator):
    """The float64 Hessian as a symmetric ``LinearOperator`` that counts its products
    (``.products``) and says how it multiplies (``.route``: ``"samples"`` or ``"factors"``)."""

    def __init__(
        self, weights: Sequence[np.ndarray], data: np.ndarray | None, labels: np.ndarray,
        route: Literal["samples", "factors"],
    ) -> None:
        self.weights = [np.asarray(w, dtype=np.float64) for w in weights]
        self.data = None if data is None else np.asarray(data, dtype=np.float64)
        self.labels = np.asarray(labels, dtype=np.float64)
        p = sum(w.size for w in self.weights)
        super().__init__(np.dtype(np.float64), (p, p))
        self.route = route
        self.products = 0
        self.gram_products = 0
        self._problem: _Problem | None = None
        self._samples: _Samples | None = None
        self._factors = None
        if route == "samples":
            self._pass()
        else:
            from numeric.hessian import _HvpFactors

            self._factors = _HvpFactors(self.weights, self.data, self.labels)

    @property
    def problem(self) -> _Problem:
        """The samples route's problem (data compressed, layers transposed), built once."""
        if self._problem is None:
            self._problem = _Problem(self.weights, self.data, self.labels)
        return self._problem

    @property
    def samples(self) -> int:
        """``m``: columns the samples route pushes through (``min(N, d_0)``, or ``min(d_0,
        d_L)`` without data)."""
        return self.problem.samples

    def _pass(self) -> _Samples:
        """The forward and backward passes (built once; the factors route builds them only for
        :meth:`start_vector`)."""
        if self._samples is None:
            self._samples = _Samples(self.problem)
        return self._samples

    def _matvec(self, v: np.ndarray) -> np.ndarray:
        self.products += 1
        v = np.asarray(v, dtype=np.float64).ravel()
        if self._factors is not None:
            return self._factors.apply(v)
        s, problem = self._pass(), self.problem
        out = np.empty(self.shape[0])
        s.apply(problem.to_inner(v), problem.out_views(out))
        return out

    def _rmatvec(self, v: np.ndarray) -> np.ndarray:
        return self._matvec(v)

    def _adjoint(self) -> HessianOperator:
        return self

    def start_vector(self, k: int = 1) -> np.ndarray | None:
        """The structured Lanczos start: the sum of the top ``k`` unit eigenvectors of ``J^T
        J``, ``J^T u_i / sqrt(s_i)`` from the top eigenpairs ``(s_i, u_i)`` of ``J J^T``
        (module docstring); ``None`` when ``d_L m > GRAM_LIMIT`` or ``J = 0``. Gram products
        are counted in ``.gram_products``, not in ``.products``."""
        s = self._pass()
        gram = _Gram(s)
        if gram.size > GRAM_LIMIT or gram.size == 0:
            return None
        vals, vecs = gram.top(min(k, gram.size))
        self.gram_products += gram.products
        keep = vals > np.finfo(np.float64).eps * gram.size * max(float(vals[0]), 0.0)
        if not np.any(keep):
            return None
        out_shape = s.h[-1].shape
        v = np.zeros(self.shape[0])
        for val, u in zip(vals[keep], vecs[:, keep].T, strict=True):
            v += self.problem.from_inner(s.vjp(u.reshape(out_shape))) / np.sqrt(val)
        return v


# --------------------------------------------------------------------------- the Gram matrix
class _Gram:
    """``J J^T`` on ``d_L x m`` outputs: ``U -> sum_l K_l U G_l`` (module docstring), or ``U ->
    J (J^T U)`` through the passes, whichever the cost model prices lower."""

    def __init__(self, s: _Samples) -> None:
        self.s = s
        self.out_shape = s.h[-1].shape
        self.size = int(np.prod(self.out_shape))
        self.products = 0
        dims, m, eye = _inner_dims(s), self.out_shape[1], s.identity
        self.kron = self.size <= GRAM_DENSE_LIMIT or _seconds(_gram_kron_setup(dims, m, eye)) + (
            EXPECTED_PRODUCTS * _seconds(_gram_kron_product(dims, m, eye))
        ) <= EXPECTED_PRODUCTS * _seconds(_gram_pass_product(dims, m, eye))
        if self.kron:
            self.k, self.g = self._kron_factors()

    def _kron_factors(self) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """``K_l = A_l A_l^T`` (``A_L = I``, ``A_{l-1} = A_l W_l``) and ``G_l = h_{l-1}^T
        h_{l-1}`` (``None`` for ``G_1 = I`` when ``h_0 = I``)."""
        s, depth = self.s, len(self.s.ws)
        a = np.eye(self.out_shape[0])
        k: list[np.ndarray] = [a] * depth
        for l in range(depth, 0, -1):
            k[l - 1] = a @ a.T
            if l > 1:
                a = a @ s.ws[l - 1]
        g: list[np.ndarray | None] = [
            None if (l == 1 and s.identity) else s.h[l - 1].T @ s.h[l - 1]
            for l in range(1, depth + 1)
        ]
        return k, g

    def apply(self, u: np.ndarray) -> np.ndarray:
        """``J J^T u`` (``u`` in row-major ``vec_r`` of ``d_L x m``)."""
        self.products += 1
        um = u.reshape(self.out_shape)
        if self.kron:
            out = np.zeros(self.out_shape)
            for k, g in zip(self.k, self.g, strict=True):
                ku = k @ um
                out += ku if g is None else ku @ g
        else:
            out = self.s.jvp(self.s.vjp(um))[-1]
        return out.ravel()

    def dense(self) -> np.ndarray:
        """``sum_l K_l kron G_l`` (``vec_r(K U G) = (K kron G^T) vec_r(U)``, ``G`` symmetric)."""
        m = self.out_shape[1]
        return sum(
            (np.kron(k, np.eye(m) if g is None else g) for k, g in zip(self.k, self.g, strict=True)),
            start=np.zeros((self.size, self.size)),
        )

    def top(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The top ``k`` eigenpairs (descending): dense ``eigh`` up to ``GRAM_DENSE_LIMIT``,
        else ARPACK on :meth:`apply` (relative residual ``GRAM_TOL``, seeded)."""
        if self.size <= GRAM_DENSE_LIMIT or self.size <= k + 1:
            vals, vecs = np.linalg.eigh(self.dense() if self.kron else self._dense_by_products())
            return vals[::-1][:k], vecs[:, ::-1][:, :k]
        op = LinearOperator((self.size, self.size), matvec=self.apply, dtype=np.float64)
        v0 = np.random.default_rng(0).standard_normal(self.size)
        ncv = min(self.size - 1, max(20, 2 * k + 1))
        vals, vecs = eigsh(op, k=k, which="LA", v0=v0, tol=GRAM_TOL, ncv=ncv)
        order = np.argsort(vals)[::-1]
        return vals[order], vecs[:, order]

    def _dense_by_products(self) -> np.ndarray:
        return np.column_stack([self.apply(e) for e in np.eye(self.size)])


# --------------------------------------------------------------------------- the cost model
def _gram_kron_setup(dims: Sequence[int], m: int, identity: bool) -> Shapes:
    """``A_l`` from the top, ``K_l = A_l A_l^T`` and ``G_l = h_{l-1}^T h_{l-1}``."""
    dl, depth = dims[-1], len(dims) - 1
    out: Shapes = [(dl, dims[l], dims[l - 1]) for l in range(2, depth + 1)]
    out += [(dl, dims[l], dl) for l in range(1, depth + 1)]
    return out + [(m, dims[l - 1], m) for l in range(1 + identity, depth + 1)]


def _gram_kron_product(dims: Sequence[int], m: int, identity: bool) -> Shapes:
    """``sum_l K_l U G_l``."""
    dl, depth = dims[-1], len(dims) - 1
    return [(dl, dl, m)] * depth + [(dl, m, m)] * (depth - identity)


def _gram_pass_product(dims: Sequence[int], m: int, identity: bool) -> Shapes:
    """``J (J^T U)``: the backward pass and the forward pass."""
    out: Shapes = []
    for l in range(1, len(dims)):
        shape = (dims[l], dims[l - 1], m)
        out += ([] if l == 1 and identity else [shape, shape]) + ([shape, shape] if l > 1 else [])
    return out


def _gemm_seconds(p: int, q: int, r: int) -> float:
    """Predicted seconds of one ``p x q`` times ``q x r`` float64 product, one BLAS thread."""
    compute = p * q * r / GEMM_RATE
    memory = 8.0 * (p * q + q * r + p * r) / GEMM_BANDWIDTH
    return GEMM_OVERHEAD + max(compute, memory)


def _seconds(shapes: Shapes, *, fresh: bool = False) -> float:
    """Predicted seconds of the GEMMs ``shapes``; ``fresh``: each output of at least
    ``MMAP_BYTES`` is new memory (``PAGE_FAULT`` seconds per 4 KiB page)."""
    out = sum(_gemm_seconds(*s) for s in shapes)
    if fresh:
        out += sum(PAGE_FAULT * p * r * 8 / 4096 for p, _, r in shapes if p * r * 8 >= MMAP_BYTES)
    return out


def _inner_dims(s: _Samples) -> list[int]:
    return [s.ws[0].shape[1]] + [w.shape[0] for w in s.ws]


def _samples_product(dims: Sequence[int], m: int, identity: bool, live: bool = True) -> Shapes:
    """GEMM shapes of one samples product on inner ``dims`` with ``m`` columns."""
    out: Shapes = []
    for l in range(1, len(dims)):
        shape = (dims[l], dims[l - 1], m)
        if l == 1:
            out += [] if identity else [shape, shape]  # D_1 h_0, dg_1 h_0^T
            continue
        out += [shape] * 3  # D_l h_{l-1}, W_l dh_{l-1}, W_l^T dg_l
        out += [(dims[l], 2 * m, dims[l - 1]), shape] if live else [(dims[l], m, dims[l - 1])]
    return out


def _samples_setup(dims: Sequence[int], n: int | None) -> Shapes:
    """Compression (QR of ``X^T``, ``Y Q``) when ``N > d_0``, the forward and backward passes."""
    d0, dl = dims[0], dims[-1]
    m = min(d0, dl) if n is None else min(n, d0)
    out: Shapes = []
    if n is not None and n > d0:
        out += [(n, d0, d0), (n, d0, d0), (dl, n, d0)]  # Householder QR ~ 2 N d_0^2, Y Q
    for l in range(1, len(dims)):
        out += [(dims[l], dims[l - 1], m)] * 2
    return out


def _factors_product(dims: Sequence[int], data: bool) -> Shapes:
    """GEMM shapes of one ``_HvpFactors.apply`` (``numeric.hessian``), layer by layer."""
    depth, d0, dl = len(dims) - 1, dims[0], dims[-1]
    out: Shapes = []
    for l in range(1, depth + 1):
        dout, din = dims[l], dims[l - 1]
        out += [(dl, dout, din)] * (2 if l < depth else 1)  # dA_{l-1}: A_l D_l, dA_l W_l
        out += [(dout, din, d0)] * ((2 if l > 1 else 1) if l < depth else 0)  # dB_{l+1}
        out += [(dout, d0, din)]  # U_l B_l^T
        out += [(din, dout, d0)] if l > 1 else []  # U_{l-1} = W_l^T U_l
        out += [(dout, dl, din)] if l < depth else []  # dA_l^T (R X^T B_l^T)
        out += [(dout, d0, din)] if l > 1 else []  # (A_l^T R X^T) dB_l^T
    return out + ([(dl, d0, d0)] if data else [])  # dR X X^T


def _factors_setup(dims: Sequence[int], n: int | None) -> Shapes:
    """``A_l``, ``B_l`` (each its own chain, as ``numeric.factors`` computes them), ``f``, ``R
    X^T``, ``X X^T`` and the point's constant products."""
    depth, d0, dl = len(dims) - 1, dims[0], dims[-1]
    out: Shapes = [(dims[j], dims[j - 1], d0) for j in range(2, depth + 1)]  # f
    for l in range(1, depth + 1):
        out += [(dims[j], dims[j - 1], dims[l]) for j in range(l + 2, depth + 1)]  # A_l
        out += [(dims[j], dims[j - 1], d0) for j in range(2, l)]  # B_l
        out += [(dl, d0, dims[l - 1]), (dims[l], dl, d0)]  # R X^T B_l^T, A_l^T R X^T
    if n is not None:
        out += [(dl, d0, n), (dl, n, d0), (d0, n, d0)]  # f X, R X^T, X X^T
    return out


def route_seconds(dims: Sequence[int], n_samples: int | None) -> dict[str, tuple[float, float]]:
    """Predicted ``(setup, one product)`` seconds of each route, one BLAS thread (module
    docstring), for widths ``dims = (d_0, ..., d_L)`` and ``N = n_samples`` (``None``: no data).
    The samples route is priced on its inner problem (``m = min(N, d_0)``; without data the
    layers transposed when ``d_L < d_0``) with a nonzero residual."""
    dims = list(dims)
    identity = n_samples is None
    inner = dims[::-1] if identity and dims[-1] < dims[0] else dims
    m = inner[0] if identity else min(int(n_samples or 0), dims[0])
    return {
        "samples": (_seconds(_samples_setup(dims, n_samples), fresh=True),
                    _seconds(_samples_product(inner, m, identity))),
        "factors": (_seconds(_factors_setup(dims, n_samples), fresh=True),
                    _seconds(_factors_product(dims, not identity), fresh=True)),
    }


def choose_route(dims: Sequence[int], n_samples: int | None) -> Literal["samples", "factors"]:
    """The route with the smaller predicted ``setup + EXPECTED_PRODUCTS * product``."""
    cost = {name: setup + EXPECTED_PRODUCTS * one
            for name, (setup, one) in route_seconds(dims, n_samples).items()}
    return "samples" if cost["samples"] <= cost["factors"] else "factors"


def _check_shapes(ws: Sequence[np.ndarray], x: np.ndarray | None,
                  labels: tuple[int, ...]) -> None:
    """One ``ShapeError`` line when the layers do not chain or data and labels do not fit."""
    if not ws:
        raise ShapeError("expected at least one layer W_1; got none")
    for l, w in enumerate(ws, start=1):
        if w.ndim != 2:
            raise ShapeError(f"W_{l} must be 2-D (d_{l}, d_{l - 1}); got shape {w.shape}")
        if l > 1 and w.shape[1] != ws[l - 2].shape[0]:
            raise ShapeError(f"W_{l} has shape {w.shape} but W_{l - 1} outputs "
                             f"{ws[l - 2].shape[0]} rows; W_{l} must be ({w.shape[0]}, "
                             f"{ws[l - 2].shape[0]})")
    d0, dl = ws[0].shape[1], ws[-1].shape[0]
    if x is not None and (x.ndim != 2 or x.shape[0] != d0):
        raise ShapeError(f"data X must be (d_0, N) = ({d0}, N), one sample per column; got "
                         f"shape {x.shape}")
    want = (dl, d0 if x is None else x.shape[1])
    if labels != want:
        what = "target M" if x is None else "labels Y"
        raise ShapeError(f"{what} must be (d_L, {'d_0' if x is None else 'N'}) = {want}; got "
                         f"shape {labels}")


def hessian_operator(
    weights: Sequence[np.ndarray], data: np.ndarray | None, labels: np.ndarray, *,
    how: RouteChoice = "auto",
) -> HessianOperator:
    """The float64 Hessian of ``1/2 ||W_L...W_1 X - Y||_F^2`` as a :class:`HessianOperator`
    (``data=None``: ``X = I``, ``labels`` is the target ``M``); ``how`` picks the product
    (``"auto"``: :func:`choose_route`)."""
    if how not in ("auto", "samples", "factors"):
        raise DmfError(f"how must be 'auto', 'samples' or 'factors'; got {how!r}: pass one of "
                       "them (or leave the default 'auto')")
    ws = [np.asarray(w, dtype=np.float64) for w in weights]
    x = None if data is None else np.asarray(data, dtype=np.float64)
    _check_shapes(ws, x, np.shape(labels))
    dims = [ws[0].shape[1]] + [w.shape[0] for w in ws]
    route = choose_route(dims, None if x is None else x.shape[1]) if how == "auto" else how
    return HessianOperator(ws, x, labels, route)


# --------------------------------------------------------------------------- Lanczos
def top_eigenpairs(
    op: LinearOperator, k: int = 1, *, v0: np.ndarray | None = None, tol: float = 1e-10,
    ncv: int | None = None, seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, int]:
    """The ``k`` algebraically largest eigenpairs (descending) by ARPACK ``eigsh(which="LA")``
    from ``v0`` (default: ``op.start_vector(k)`` for a :class:`HessianOperator`, else a vector
    seeded by ``seed``), with the products it took (approximate, float64: each Ritz value
    ``theta`` has ``||H x - theta x|| <= tol |theta|``). ``ncv`` defaults to ``NCV_TOP1`` for
    ``k = 1``, else ``max(20, 2k + 1)``. Dense ``eigh`` when the operator is too small for
    ARPACK."""
    n = op.shape[0]
    before = getattr(op, "products", 0)
    k = min(k, n)
    if n <= max(k + 1, 3):
        vals, vecs = np.linalg.eigh(op @ np.eye(n))
        return vals[::-1][:k], vecs[:, ::-1][:, :k], getattr(op, "products", 0) - before
    if v0 is None and isinstance(op, HessianOperator):
        v0 = op.start_vector(k)
    if v0 is None or not np.any(v0):
        v0 = np.random.default_rng(seed).standard_normal(n)
    if ncv is None:
        ncv = NCV_TOP1 if k == 1 else max(20, 2 * k + 1)
    ncv = min(n - 1, ncv)
    counted = _Counted(op)
    vals, vecs = eigsh(counted, k=k, which="LA", v0=v0, tol=tol, ncv=ncv)
    order = np.argsort(vals)[::-1]
    return vals[order], vecs[:, order], counted.count


def lambda_max_float64(
    op: LinearOperator, v0: np.ndarray | None = None, *, tol: float = 1e-10,
    ncv: int | None = None,
) -> tuple[float, np.ndarray, int]:
    """``(lambda_max, unit eigenvector, products)`` of a symmetric operator by ARPACK from
    ``v0`` (default: the structured start of a :class:`HessianOperator`); approximate float64
    (relative residual ``<= tol``)."""
    vals, vecs, products = top_eigenpairs(op, 1, v0=v0, tol=tol, ncv=ncv)
    return float(vals[0]), vecs[:, 0], products


class _Counted(LinearOperator):
    """``op`` with a product counter (``.count``), for operators that do not count."""

    def __init__(self, op: LinearOperator) -> None:
        super().__init__(np.dtype(np.float64), op.shape)
        self.op, self.count = op, 0

    def _matvec(self, v: np.ndarray) -> np.ndarray:
        self.count += 1
        return np.asarray(self.op.matvec(v))

    def _rmatvec(self, v: np.ndarray) -> np.ndarray:
        return self._matvec(v)
