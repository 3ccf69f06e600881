"""Global minimizers of deep matrix factorization: construction, balancing, gauge transforms.

Public:
    minimizer_from_weights(weights)        the point with target ``M := W_L ... W_1`` (exact)
    cayley_orthogonal(S)                   exact rational orthogonal ``Q = (I - S)(I + S)^{-1}``
    rational_orthogonal(n, rng)            a random exact rational orthogonal ``n x n`` matrix
    balanced_minimizer(target, dims, *, dps=None)
                                           K7's balanced (flattest) minimizer of a given ``M``,
                                           float64 or mpmath (APPROXIMATE: residual ~ 10^-dps)
    exact_balanced_minimizer(singular_roots, dims, *, frames=None, rng=None)
                                           an EXACTLY balanced rational minimizer whose target
                                           has singular values ``s_i^L``
    exact_balanced_from_factors(left, singular_roots, right, dims, *, hidden_frames=None)
                                           the same with the target's singular frames given
    gauge_transform(weights, gauges)       ``W_l -> G_l W_l G_{l-1}^{-1}``, product kept exactly
    random_gauges(dims, rng, *, max_entry=3)   random rational invertible ``G_1 .. G_{L-1}``

Helpers (private): exact rank/inverse through python-flint, frame checks.

Conventions (docs/mathematics.md): ``dims = (d_0, ..., d_L)``, ``W_l`` is ``d_l x d_{l-1}``,
``weights[0]`` is ``W_1``. Exact results are ``derivations.exact.Point`` objects holding
``Fraction`` object arrays; every exact constructor's product equals its target *exactly*.

Balanced minimizers (docs/mathematics.md K7): from an SVD ``M = U_L S U_0^T`` (``r = rank M`` columns) and
frames ``U_l`` (``d_l x r``, orthonormal columns) for the hidden layers,
``W_l = U_l S^(1/L) U_{l-1}^T``. Then ``W_L ... W_1 = U_L S U_0^T = M`` and
``W_{l+1}^T W_{l+1} = W_l W_l^T`` (balanced); the sharpness there is ``L s_1^(2(L-1)/L)``.
This needs every hidden width ``d_l >= r``.

>>> from fractions import Fraction as F
>>> p = exact_balanced_minimizer([F(2), F(1)], (2, 3, 2))
>>> p.target.tolist() == [[F(4), F(0)], [F(0), F(1)]]
True
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

from derivations.algebraic import exact_rank
from derivations.errors import DmfError, ShapeError
from derivations.exact import (
    ExactMatrix,
    Point,
    exact_product,
    from_fmpq_mat,
    identity,
    parse_matrix,
    parse_point,
    to_fmpq_mat,
)

__all__ = [
    "balanced_minimizer",
    "cayley_orthogonal",
    "exact_balanced_from_factors",
    "exact_balanced_minimizer",
    "gauge_transform",
    "minimizer_from_weights",
    "random_gauges",
    "rational_orthogonal",
]


# --------------------------------------------------------------------------- exact helpers
def _zeros(rows: int, cols: int) -> ExactMatrix:
    out = np.empty((rows, cols), dtype=object)
    out[...] = Fraction(0)
    return out


def _exact_inverse(m: ExactMatrix, name: str) -> ExactMatrix:
    if m.shape[0] != m.shape[1]:
        raise ShapeError(f"{name} must be square; got shape {m.shape}")
    fm = to_fmpq_mat(m)
    rank = int(fm.rank())
    if rank < m.shape[0]:
        raise DmfError(
            f"{name} ({m.shape[0]} x {m.shape[1]}) is singular (rank {rank}); it must be "
            "invertible"
        )
    return from_fmpq_mat(fm.inv())


def _has_orthonormal_columns(m: ExactMatrix) -> bool:
    return bool(np.all(m.T @ m == identity(m.shape[1])))


# --------------------------------------------------------------------------- minimizers
def minimizer_from_weights(weights: Sequence[Any]) -> Point:
    """The global minimizer ``weights`` of ``1/2 ||W_L ... W_1 - M||_F^2`` with
    ``M := W_L ... W_1`` (computed exactly; every entry read through ``parse_point``).

    >>> minimizer_from_weights([[[1, 2]], [[3], ["1/2"]]]).target.tolist()
    [[Fraction(3, 1), Fraction(6, 1)], [Fraction(1, 2), Fraction(1, 1)]]
    """
    return parse_point(weights)


def cayley_orthogonal(skew: Any) -> ExactMatrix:
    """The Cayley transform ``Q = (I - S)(I + S)^{-1}`` of a rational skew-symmetric ``S``.

    ``Q`` is exactly orthogonal (``Q^T Q = I``) with rational entries; ``I + S`` is always
    invertible because ``S``'s eigenvalues are imaginary. Every rational orthogonal matrix
    without eigenvalue ``-1`` arises this way.

    >>> cayley_orthogonal([[0, "1/2"], ["-1/2", 0]]).tolist()
    [[Fraction(3, 5), Fraction(-4, 5)], [Fraction(4, 5), Fraction(3, 5)]]
    """
    s = parse_matrix(skew, "S")
    n = s.shape[0]
    if s.shape != (n, n):
        raise ShapeError(f"S must be square; got shape {s.shape}")
    if not np.all(s == -s.T):
        bad = tuple(int(i) for i in np.argwhere(s != -s.T)[0])
        raise DmfError(
            f"S must be skew-symmetric (S^T = -S) but S[{bad[0]}, {bad[1]}] = {s[bad]} and "
            f"S[{bad[1]}, {bad[0]}] = {s[bad[::-1]]}"
        )
    eye = identity(n)
    return np.asarray((eye - s) @ _exact_inverse(eye + s, "I + S"), dtype=object)


def rational_orthogonal(
    n: int, rng: np.random.Generator, *, max_entry: int = 2, reflect: bool = True
) -> ExactMatrix:
    """A random exact rational orthogonal ``n x n`` matrix: the Cayley transform of a random
    integer skew-symmetric matrix (entries in ``[-max_entry, max_entry]``), times a random
    diagonal sign matrix when ``reflect`` (so both determinants ``+-1`` occur)."""
    if n < 0:
        raise ShapeError(f"n must be >= 0; got {n}")
    upper = rng.integers(-max_entry, max_entry + 1, size=(n, n))
    s = np.triu(upper, 1)
    q = cayley_orthogonal((s - s.T).tolist()) if n else _zeros(0, 0)
    if reflect and n:
        signs = rng.choice([-1, 1], size=n)
        q = q * np.array([Fraction(int(x)) for x in signs], dtype=object)[None, :]
    return q


def _check_dims(dims: Sequence[int]) -> tuple[int, ...]:
    out = tuple(int(d) for d in dims)
    if len(out) < 2:
        raise ShapeError(f"dims must be (d_0, ..., d_L) with L >= 1; got {tuple(dims)}")
    if any(d < 1 for d in out):
        raise ShapeError(f"every width in dims must be >= 1; got {out}")
    return out


def _check_hidden_widths(dims: tuple[int, ...], rank: int, what: str) -> None:
    for l in range(1, len(dims) - 1):
        if dims[l] < rank:
            raise ShapeError(
                f"hidden layer {l} has width d_{l} = {dims[l]}, smaller than {what} = {rank}; "
                f"no minimizer with zero residual exists for dims {dims}: every hidden width "
                f"must be >= {rank}"
            )


def balanced_minimizer(
    target: Any, dims: Sequence[int], *, dps: int | None = None
) -> list[np.ndarray]:
    """The balanced (flattest) minimizer of docs/mathematics.md K7 for the target ``M`` and ``dims``.

    ``W_l = U_l S^(1/L) U_{l-1}^T`` with the compact SVD ``M = U_L S U_0^T`` (``r = rank M``,
    decided exactly over Q) and the hidden frames ``U_l = [I_r; 0]`` (``d_l x r``), i.e. wider
    hidden layers are padded with zeros. Requires every hidden width ``d_l >= r``; otherwise
    ``ShapeError`` names the too-narrow layer.

    APPROXIMATE: ``dps=None`` gives float64 arrays (NumPy SVD); ``dps=N`` gives ``mpmath.mpf``
    object arrays computed at ``N`` decimal digits (mpmath SVD and ``L``-th roots). Neither is an
    exact minimizer: ``||W_L ... W_1 - M||`` is about ``10^-N`` (or float64 rounding). For exact
    balanced minimizers use :func:`exact_balanced_minimizer`.

    >>> ws = balanced_minimizer([[4, 0], [0, 1]], (2, 2, 2), dps=30)
    >>> with mpmath.workdps(30):
    ...     print(mpmath.nstr(abs(ws[0][0, 0]), 10), mpmath.nstr((ws[1] @ ws[0])[0, 0], 10))
    2.0 4.0
    """
    dims_t = _check_dims(dims)
    m = parse_matrix(target, "target M")
    if m.shape != (dims_t[-1], dims_t[0]):
        raise ShapeError(
            f"target M has shape {m.shape}; expected (d_L, d_0) = ({dims_t[-1]}, {dims_t[0]})"
        )
    r = exact_rank(m)
    _check_hidden_widths(dims_t, r, "rank M")
    if dps is None:
        return _balanced_float64(m, dims_t, r)
    with mpmath.workdps(dps):
        return _balanced_mpmath(m, dims_t, r)


def _embed(u: np.ndarray, rows: int, r: int, zero: Any, one: Any) -> np.ndarray:
    """The frame ``[I_r; 0]`` (``rows x r``) in the element kind of ``u``."""
    out = np.empty((rows, r), dtype=u.dtype)
    out[...] = zero
    for i in range(r):
        out[i, i] = one
    return out


def _balanced_from_svd(
    u: np.ndarray, roots: np.ndarray, v: np.ndarray, dims: tuple[int, ...], zero: Any, one: Any
) -> list[np.ndarray]:
    r = len(roots)
    if r == 0:  # the zero target: every layer is zero
        return [np.full((dims[l], dims[l - 1]), zero, dtype=u.dtype) for l in range(1, len(dims))]
    frames = [v] + [_embed(u, d, r, zero, one) for d in dims[1:-1]] + [u]
    diag = np.empty((r, r), dtype=u.dtype)
    diag[...] = zero
    for i in range(r):
        diag[i, i] = roots[i]
    return [frames[l] @ diag @ frames[l - 1].T for l in range(1, len(dims))]


def _balanced_float64(m: ExactMatrix, dims: tuple[int, ...], r: int) -> list[np.ndarray]:
    mf = np.array([[float(x) for x in row] for row in m], dtype=np.float64).reshape(m.shape)
    u, s, vt = np.linalg.svd(mf)
    roots = s[:r] ** (1.0 / (len(dims) - 1))
    return _balanced_from_svd(u[:, :r], roots, vt[:r].T, dims, 0.0, 1.0)


def _balanced_mpmath(m: ExactMatrix, dims: tuple[int, ...], r: int) -> list[np.ndarray]:
    depth = len(dims) - 1
    mm = mpmath.matrix([[mpmath.mpf(x.numerator) / x.denominator for x in row] for row in m])
    u, s, vt = mpmath.svd_r(mm, full_matrices=False, compute_uv=True)
    order = sorted(range(len(s)), key=lambda i: -s[i])[:r]
    uo = np.array([[u[i, k] for k in order] for i in range(u.rows)], dtype=object)
    uo = uo.reshape(u.rows, r)
    vo = np.array([[vt[k, j] for k in order] for j in range(vt.cols)], dtype=object)
    vo = vo.reshape(vt.cols, r)
    roots = np.array([mpmath.root(s[k], depth) for k in order], dtype=object)
    return _balanced_from_svd(uo, roots, vo, dims, mpmath.mpf(0), mpmath.mpf(1))


def _check_roots(singular_roots: Sequence[Any]) -> list[Fraction]:
    roots = [
        parse_matrix([[x]], f"singular_roots[{i}]")[0, 0] for i, x in enumerate(singular_roots)
    ]
    for i, x in enumerate(roots):
        if x < 0:
            raise DmfError(f"singular_roots[{i}] = {x} is negative; expected s_i >= 0")
    return roots


def exact_balanced_minimizer(
    singular_roots: Sequence[Any],
    dims: Sequence[int],
    *,
    frames: Sequence[Any] | None = None,
    rng: np.random.Generator | None = None,
) -> Point:
    """An EXACT balanced minimizer: ``W_l = U_l diag(s) U_{l-1}^T`` with rational ``s_i >= 0``
    and exact rational frames ``U_l`` (``d_l x k``, orthonormal columns, ``k = len(s)``).

    Its target is ``M = U_L diag(s_i^L) U_0^T`` (singular values ``s_i^L``), exactly, and it is
    exactly balanced: ``W_{l+1}^T W_{l+1} = W_l W_l^T``. docs/mathematics.md K7 says its sharpness is
    ``L max_i s_i^(2(L-1))`` -- for rational ``s`` an exact rational, which lets exact and
    certified checks of the ``flattest`` and ``balanced-spectrum`` claims compare exactly.
    Zero ``s_i`` give rank-deficient (all zero: the zero) targets.

    ``frames``: ``L + 1`` exact matrices ``U_0, ..., U_L`` with orthonormal columns (checked
    exactly). Otherwise, with ``rng``: the first ``k`` columns of random Cayley orthogonal
    matrices (:func:`rational_orthogonal`); with neither: ``[I_k; 0]``. ``k`` must not exceed
    any width.

    >>> from fractions import Fraction as F
    >>> p = exact_balanced_minimizer([F(1, 2), F(0)], (2, 2, 3, 2), rng=np.random.default_rng(0))
    >>> int(exact_rank(p.target)), p.is_minimizer()
    (1, True)
    """
    dims_t = _check_dims(dims)
    roots = _check_roots(singular_roots)
    k = len(roots)
    for l, d in enumerate(dims_t):
        if d < k:
            raise ShapeError(
                f"layer width d_{l} = {d} is smaller than the number of singular roots k = {k}; "
                f"each frame U_l is d_l x k with orthonormal columns, so every width must be >= {k}"
            )
    if frames is not None:
        fs = _check_frames(frames, dims_t, k)
    elif rng is not None:
        fs = [rational_orthogonal(d, rng)[:, :k] for d in dims_t]
    else:
        fs = [_embed(_zeros(0, 0), d, k, Fraction(0), Fraction(1)) for d in dims_t]
    return _exact_balanced(fs, roots)


def exact_balanced_from_factors(
    left: Any,
    singular_roots: Sequence[Any],
    right: Any,
    dims: Sequence[int],
    *,
    hidden_frames: Sequence[Any] | None = None,
) -> Point:
    """The exact balanced minimizer of ``M = left diag(s_i^L) right^T`` for given exact frames
    ``left`` (``d_L x k``) and ``right`` (``d_0 x k``) with orthonormal columns (checked
    exactly): ``W_l = U_l diag(s) U_{l-1}^T`` with ``U_0 = right``, ``U_L = left`` and the hidden
    frames ``hidden_frames`` (``U_1 .. U_{L-1}``; default ``[I_k; 0]``).

    >>> from fractions import Fraction as F
    >>> q = cayley_orthogonal([[0, 2], [-2, 0]])
    >>> p = exact_balanced_from_factors(q, [F(2), F(1)], q, (2, 2, 2))
    >>> bool(np.all(p.target == q @ np.diag([F(4), F(1)]) @ q.T))
    True
    """
    dims_t = _check_dims(dims)
    roots = _check_roots(singular_roots)
    k = len(roots)
    hidden = (
        [_embed(_zeros(0, 0), d, k, Fraction(0), Fraction(1)) for d in dims_t[1:-1]]
        if hidden_frames is None
        else list(hidden_frames)
    )
    if len(hidden) != len(dims_t) - 2:
        raise ShapeError(
            f"hidden_frames must hold L - 1 = {len(dims_t) - 2} frames U_1 .. U_(L-1); "
            f"got {len(hidden)}"
        )
    fs = _check_frames([right, *hidden, left], dims_t, k)
    return _exact_balanced(fs, roots)


def _check_frames(frames: Sequence[Any], dims: tuple[int, ...], k: int) -> list[ExactMatrix]:
    if len(frames) != len(dims):
        raise ShapeError(
            f"frames must be L + 1 = {len(dims)} matrices U_0 .. U_L; got {len(frames)}"
        )
    out = []
    for l, (f, d) in enumerate(zip(frames, dims, strict=True)):
        u = parse_matrix(f, f"frame U_{l}") if k else _zeros(d, 0)
        if u.shape != (d, k):
            raise ShapeError(f"frame U_{l} has shape {u.shape}; expected (d_{l}, k) = ({d}, {k})")
        if not _has_orthonormal_columns(u):
            raise DmfError(f"frame U_{l} does not have exactly orthonormal columns (U^T U != I)")
        out.append(u)
    return out


def _exact_balanced(frames: list[ExactMatrix], roots: list[Fraction]) -> Point:
    k = len(roots)
    diag = _zeros(k, k)
    for i, x in enumerate(roots):
        diag[i, i] = x
    weights = []
    for l in range(1, len(frames)):
        w = frames[l] @ diag @ frames[l - 1].T
        weights.append(w if k else _zeros(frames[l].shape[0], frames[l - 1].shape[0]))
    return Point(weights=tuple(weights), labels=exact_product(weights), data=None)


# --------------------------------------------------------------------------- gauges
def gauge_transform(weights: Point | Sequence[Any], gauges: Sequence[Any]) -> Point:
    """``W_l -> G_l W_l G_{l-1}^{-1}`` for ``l = 1..L`` with ``G_0 = I``, ``G_L = I`` and exact
    rational invertible ``G_1, ..., G_{L-1}`` (``G_l`` is ``d_l x d_l``).

    The product ``W_L ... W_1`` is unchanged exactly, so minimizers stay minimizers; the
    sharpness generally changes (the loss is gauge invariant, its curvature is not).
    Given a ``Point``, its data and labels are kept; given weights, the target is their product.
    Invertibility is decided exactly; a singular ``G_l`` raises ``DmfError`` naming ``l``.

    >>> p = gauge_transform([[[1], [1]], [[1, 1]]], [[[2, 0], [0, 1]]])
    >>> [w.tolist() for w in p.weights]
    [[[Fraction(2, 1)], [Fraction(1, 1)]], [[Fraction(1, 2), Fraction(1, 1)]]]
    """
    point = weights if isinstance(weights, Point) else parse_point(weights)
    depth = point.depth
    dims = point.dims
    if len(gauges) != depth - 1:
        raise ShapeError(
            f"expected L - 1 = {depth - 1} gauges G_1 .. G_(L-1) for depth L = {depth}; "
            f"got {len(gauges)}"
        )
    gs = [identity(dims[0])]
    inverses = [identity(dims[0])]
    for l, g in enumerate(gauges, start=1):
        gm = parse_matrix(g, f"gauge G_{l}")
        if gm.shape != (dims[l], dims[l]):
            raise ShapeError(
                f"gauge G_{l} has shape {gm.shape}; expected (d_{l}, d_{l}) = "
                f"({dims[l]}, {dims[l]})"
            )
        gs.append(gm)
        inverses.append(_exact_inverse(gm, f"gauge G_{l}"))
    gs.append(identity(dims[-1]))
    new = tuple(
        np.asarray(gs[l] @ point.weights[l - 1] @ inverses[l - 1], dtype=object)
        for l in range(1, depth + 1)
    )
    return Point(weights=new, labels=point.labels, data=point.data)


def random_gauges(
    dims: Sequence[int], rng: np.random.Generator, *, max_entry: int = 3
) -> list[ExactMatrix]:
    """Random exact invertible integer gauges ``G_1, ..., G_{L-1}`` (entries in
    ``[-max_entry, max_entry]``, redrawn until the determinant is nonzero, decided exactly)."""
    dims_t = _check_dims(dims)
    if max_entry < 1:
        raise DmfError(f"max_entry must be >= 1; got {max_entry}")
    out = []
    for d in dims_t[1:-1]:
        while True:
            g = rng.integers(-max_entry, max_entry + 1, size=(d, d))
            gm = np.array([[Fraction(int(x)) for x in row] for row in g], dtype=object)
            if exact_rank(gm) == d:
                out.append(gm)
                break
    return out
