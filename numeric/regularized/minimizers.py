"""Global minimizers of deep matrix factorization with weight decay, certified: weights,
end-to-end product and the sharpness of ``H_0 + lam I`` there, for any rational target ``M``
and any widths. The scalar problem per singular value (``f``, ``t_+``, the collapse threshold
``lam*``) is in ``numeric.regularized``, whose docstring derives everything used here.

Public:
    RegularizedMinimizer, regularized_minimizer(target, dims, lam)  certified weights at any dps
    frame_minimizer(ts, sigmas, lam, frames)   an exactly rational minimizer from Cayley frames
    frame_point(ts, sigmas, frames)            the same point, built without the minimality check
    interval_lambda_max(H, *, dps)             certified lambda_max / lambda_min of an interval
                                               (or exact) symmetric matrix
Helpers (private): Lagrange projectors, interval Gram-Schmidt, embeddings, dyadic rounding.

Which singular values a minimizer carries. With ``k = min(d_1, ..., d_(L-1))`` the product has
rank ``<= k``. The gain ``f_sigma(0) - min_t f_sigma(t)`` has derivative ``t^L >= 0`` in
``sigma`` (envelope theorem), strictly positive where ``t > 0``, so a global minimizer carries
the (up to ``k``) largest singular values whose ``t`` is positive. When ``k`` splits a repeated
singular value the end-to-end product is not unique (``bottleneck_split``; any ``k``-subspace of
that singular space serves); otherwise it is ``Z = U diag(t_i^L) V^T`` over the carried ones.

Weights without singular vectors (hidden widths ``>= n = min(d_0, d_L)``). With ``N = M^T M``
(``d_0 <= d_L``; otherwise the transposed problem), distinct eigenvalues ``s_i`` and Lagrange
projectors ``P_i = prod_(j != i) (N - s_j I)/(s_i - s_j)``: ``T = sum_i t_i P_i`` and
``Phi = sum_i (t_i / sigma_i) P_i`` (0 on collapsed and zero singular values);
``W_1 = E_1 T``, ``W_l = E_l T E_(l-1)^T``, ``W_L = M Phi E_(L-1)^T`` with ``E_l = [I; 0]``
(``d_l x n``). Then ``W_L ... W_1 = M Phi T^(L-1) = U diag(t_i^L) V^T`` and
``W_(l+1)^T W_(l+1) = W_l W_l^T`` (balanced). Exact rationals whenever every ``s_i`` and
``t_i`` is rational, even when the singular vectors are irrational.

Bottleneck (some hidden width ``< n``): orthonormal eigenvectors ``v_j`` from the columns of the
``P_i`` by pivoted Gram-Schmidt in interval arithmetic (exact in exact arithmetic for the
chosen pivots; a pivot whose squared norm is not proved positive raises the precision),
``u_j = M v_j / sigma_j``; ``W_1 = E_1 D V^T``, ``W_l = E_l D E_(l-1)^T``, ``W_L = U D E_(L-1)^T``
with ``D = diag(t_j)`` over the carried singular values.

All entries are evaluated in exact rational interval arithmetic
(``derivations.intervals.Enclosure``) from certified enclosures of ``s_i`` and ``t_i``; the
precision is raised until every entry has ``dps`` digits relative to its matrix's largest
entry (``PrecisionExhausted`` otherwise).

>>> r = regularized_minimizer([[5, 0], [0, 2]], (2, 2, 2), 1)   # t^2 = sigma - lam
>>> [[str(x) for x in w.flat] for w in r.weights(10)]
[['2', '0', '0', '1'], ['2', '0', '0', '1']]
>>> b = regularized_minimizer([[5, 0], [0, 2]], (2, 1, 2), 1)   # width 1 keeps sigma = 5
>>> [[str(x) for x in w.flat] for w in b.weights(10)], b.bottleneck_split
([['2', '0'], ['2', '0']], False)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from derivations.algebraic import AlgebraicNumber, exact_eigenvalues
from derivations.errors import DmfError, PrecisionExhausted, ShapeError
from derivations.exact import ExactMatrix, Point, parse_entry, parse_matrix
from derivations.intervals import Enclosure, as_enclosure, relative_tolerance
from numeric.regularized.scalar import ScalarMinimizer, _lam, scalar_minimizer

__all__ = [
    "RegularizedMinimizer",
    "frame_minimizer",
    "interval_lambda_max",
    "regularized_minimizer",
]


def _round(x: Fraction, bits: int) -> Fraction:
    if x == 0:
        return x
    shift = bits - (abs(x.numerator).bit_length() - x.denominator.bit_length())
    return Fraction(round(x * 2**shift)) / 2**shift


def interval_lambda_max(h: np.ndarray, *, dps: int = 30) -> tuple[Enclosure, Enclosure, str]:
    """Certified ``(lambda_max, lambda_min, how)`` of a symmetric matrix of ``Enclosure`` /
    exact entries: the eigenvalues of the dyadic midpoint matrix ``C`` (``numeric.eigen``),
    widened by ``||H - C||_2 <= ||rad + |mid - C| ||_F`` (Weyl's inequality)."""
    from numeric.eigen import certified_eigvalsh

    n = h.shape[0]
    encs = [[as_enclosure(h[i, j]) for j in range(n)] for i in range(n)]
    if all(e.is_exact for row in encs for e in row):
        vals = certified_eigvalsh(np.array([[e.lo for e in row] for row in encs], dtype=object),
                                  dps=dps)
        return vals[0], vals[-1], "exact Hessian, certified eigenvalues (numeric.eigen)"
    bits = int(dps * 3.33) + 40
    mid = np.empty((n, n), dtype=object)
    err = Fraction(0)
    for i in range(n):
        for j in range(i, n):
            m = (encs[i][j].mid + encs[j][i].mid) / 2
            c = _round(m, bits)
            mid[i, j] = mid[j, i] = c
            dev = max(abs(encs[i][j].lo - c), abs(encs[i][j].hi - c),
                      abs(encs[j][i].lo - c), abs(encs[j][i].hi - c))
            err += dev * dev * (1 if i == j else 2)
    r = Enclosure.point(err).sqrt(bits).hi
    vals = certified_eigvalsh(mid, dps=dps)
    how = ("interval Hessian (exact rational interval arithmetic); certified eigenvalues of its "
           f"midpoint widened by ||radius||_F <= {float(r):.3g} (Weyl)")
    return (Enclosure(vals[0].lo - r, vals[0].hi + r), Enclosure(vals[-1].lo - r, vals[-1].hi + r),
            how)


def _gram(m: np.ndarray) -> np.ndarray:
    return np.asarray(m.T @ m, dtype=object)


def _check_dims(dims: Sequence[int], target: np.ndarray) -> tuple[int, ...]:
    d = tuple(int(x) for x in dims)
    if len(d) < 2 or any(x < 1 for x in d):
        raise ShapeError(f"dims must be (d_0, ..., d_L) with L >= 1 and every d_l >= 1; got {d}")
    if target.shape != (d[-1], d[0]):
        raise ShapeError(f"the target M has shape {target.shape}; dims {d} need (d_L, d_0) = "
                         f"({d[-1]}, {d[0]})")
    return d


@dataclass(frozen=True)
class RegularizedMinimizer:
    """A global minimizer of ``L_lam`` for the rational target ``M``. ``singular``: per distinct
    eigenvalue ``s`` of ``M^T M`` (or ``M M^T``, the smaller): ``(s, multiplicity,
    ScalarMinimizer)``, descending. ``carried``: how many copies of each the weights carry (the
    bottleneck rule of the module docstring). ``weights(dps)`` / ``product(dps)``: arrays of
    ``Enclosure`` (exact ``Fraction`` arrays when everything involved is rational)."""

    dims: tuple[int, ...]
    lam: Fraction
    target: ExactMatrix
    singular: tuple[tuple[AlgebraicNumber, int, ScalarMinimizer], ...]
    transposed: bool

    @property
    def depth(self) -> int:
        return len(self.dims) - 1

    @property
    def carried(self) -> tuple[int, ...]:
        budget = min(self.dims[1:-1]) if self.depth >= 2 else sum(m for _, m, _ in self.singular)
        out = []
        for _, mult, sm in self.singular:
            take = 0 if (sm.collapsed and not sm.tie) else min(mult, budget)
            budget -= take
            out.append(take)
        return tuple(out)

    @property
    def collapsed(self) -> bool:
        """The global minimizer is ``W = 0`` (exact decision)."""
        return not any(self.carried)

    @property
    def tie(self) -> bool:
        """A carried singular value sits on the exceptional set (two scalar minimizers)."""
        return any(sm.tie and c for (_, _, sm), c in zip(self.singular, self.carried, strict=True))

    @property
    def bottleneck_split(self) -> bool:
        """The narrowest hidden width splits a repeated singular value (product not unique)."""
        return any(0 < c < m for (_, m, _), c in zip(self.singular, self.carried, strict=True))

    @property
    def exact(self) -> bool:
        return all(s.is_rational and sm.t.fraction is not None for s, _, sm in self.singular)

    def frobenius_squared(self, dps: int) -> Enclosure:
        """``||W_l||_F^2 = sum_i t_i^2`` over the carried singular values (every layer)."""
        out = Enclosure.point(0)
        for (_, _, sm), c in zip(self.singular, self.carried, strict=True):
            if c:
                out = out + c * sm.t.enclosure(dps + 5) ** 2
        return out

    def weights(self, dps: int = 30) -> list[np.ndarray]:
        """The balanced weights (module docstring), each entry certified to ``dps`` digits
        relative to its matrix's largest entry (precision raised until then)."""
        work = dps + 10
        for _ in range(6):
            ws = self._weights_at(work)
            if ws is not None and _accurate(ws, dps):
                return [_exactify(w) for w in ws]
            work *= 2
        raise PrecisionExhausted(f"could not certify the weights to {dps} digits")

    def product(self, dps: int = 30) -> np.ndarray:
        ws = self.weights(dps + 5)
        out = ws[0]
        for w in ws[1:]:
            out = w @ out
        return out

    def _weights_at(self, work: int) -> list[np.ndarray] | None:
        m = self.target.T if self.transposed else self.target
        dims = self.dims[::-1] if self.transposed else self.dims
        depth, n = self.depth, m.shape[1]
        bits = int(work * 3.33) + 20
        if depth == 1:
            return [np.asarray(self.target * (Fraction(1) / (1 + self.lam)), dtype=object)]
        s_enc = [as_enclosure(s.as_fraction()) if s.is_rational else s.enclosure(work)
                 for s, _, _ in self.singular]
        sigma_enc = [sm.sigma.enclosure(work) for _, _, sm in self.singular]
        t_enc = [sm.t.enclosure(work) for _, _, sm in self.singular]
        projectors = _projectors(_gram(m), s_enc, bits)
        if min(dims[1:-1]) >= n:
            ws = self._through_projectors(m, dims, projectors, sigma_enc, t_enc)
        else:
            got = self._through_vectors(m, dims, projectors, sigma_enc, t_enc, bits)
            if got is None:
                return None
            ws = got
        ws = [_tidy(w, bits) for w in ws]
        if self.transposed:
            ws = [np.asarray(w.T, dtype=object) for w in ws[::-1]]
        return ws

    def _through_projectors(self, m: np.ndarray, dims: tuple[int, ...],
                            projectors: list[np.ndarray], sigma_enc: list[Enclosure],
                            t_enc: list[Enclosure]) -> list[np.ndarray]:
        n = m.shape[1]
        ts, ratios = [], []
        for c, se, te in zip(self.carried, sigma_enc, t_enc, strict=True):
            ts.append(te if c else Enclosure.point(0))
            ratios.append(te / se if c else Enclosure.point(0))
        t_mat = _combine(projectors, ts, n)
        phi = _combine(projectors, ratios, n)
        ws = [_embed(t_mat, dims[1], n, rows=True)]
        for l in range(2, self.depth):
            ws.append(_embed(_embed(t_mat, dims[l], n, rows=True), dims[l - 1], n, rows=False))
        ws.append(_embed(np.asarray(m @ phi, dtype=object), dims[-2], n, rows=False))
        return ws

    def _through_vectors(self, m: np.ndarray, dims: tuple[int, ...],
                         projectors: list[np.ndarray], sigma_enc: list[Enclosure],
                         t_enc: list[Enclosure], bits: int) -> list[np.ndarray] | None:
        vs: list[np.ndarray] = []
        us: list[np.ndarray] = []
        ts: list[Enclosure] = []
        for p, c, se, te in zip(projectors, self.carried, sigma_enc, t_enc, strict=True):
            if not c:
                continue
            basis = _orthonormal_columns(p, c, bits)
            if basis is None:
                return None
            for v in basis:
                vs.append(v)
                us.append(np.asarray(m @ v, dtype=object) * (1 / se))
                ts.append(te)
        k = len(ts)
        if k == 0:
            return [_zero_matrix(b, a) for a, b in itertools.pairwise(dims)]
        diag = _zero_matrix(k, k)
        for j, te in enumerate(ts):
            diag[j, j] = te
        v_mat = np.array(vs, dtype=object).T  # n x k
        u_mat = np.array(us, dtype=object).T  # d_L x k
        ws = [_embed(np.asarray(diag @ v_mat.T, dtype=object), dims[1], k, rows=True)]
        for l in range(2, self.depth):
            ws.append(_embed(_embed(diag, dims[l], k, rows=True), dims[l - 1], k, rows=False))
        ws.append(_embed(np.asarray(u_mat @ diag, dtype=object), dims[-2], k, rows=False))
        return ws


def _zero_matrix(rows: int, cols: int) -> np.ndarray:
    out = np.zeros((rows, cols), dtype=object)
    out[...] = 0
    return out


def _orthonormal_columns(p: np.ndarray, count: int, bits: int) -> list[np.ndarray] | None:
    """``count`` orthonormal vectors spanning part of the column space of the projector ``p``
    (pivoted Gram-Schmidt in interval arithmetic); ``None`` when a pivot's squared norm is not
    proved positive at this precision."""
    basis: list[np.ndarray] = []
    cols = [np.asarray(p[:, j], dtype=object) for j in range(p.shape[1])]
    for _ in range(count):
        best: tuple[Enclosure, np.ndarray] | None = None
        for c in cols:
            r = c
            for b in basis:
                r = r - b * sum((x * y for x, y in zip(b, c, strict=True)), Enclosure.point(0))
            nrm2 = as_enclosure(sum((x * x for x in r), Enclosure.point(0)))
            if best is None or nrm2.lo > best[0].lo:
                best = (nrm2, r)
        if best is None or best[0].lo <= 0:
            return None
        norm = best[0].sqrt(bits)
        basis.append(np.array([as_enclosure(x) / norm for x in best[1]], dtype=object))
    return basis


def _projectors(gram: np.ndarray, s_enc: list[Enclosure], bits: int) -> list[np.ndarray]:
    n = gram.shape[0]
    eye = np.zeros((n, n), dtype=object)
    eye[...] = 0
    for i in range(n):
        eye[i, i] = 1
    out = []
    for i, si in enumerate(s_enc):
        p = eye.copy()
        for j, sj in enumerate(s_enc):
            if j != i:
                p = _tidy(np.asarray(p @ (gram - eye * sj), dtype=object) * (1 / (si - sj)), bits)
        out.append(p)
    return out


def _combine(projectors: list[np.ndarray], coeffs: list[Enclosure], n: int) -> np.ndarray:
    out = np.zeros((n, n), dtype=object)
    out[...] = 0
    for p, c in zip(projectors, coeffs, strict=True):
        out = out + p * c
    return np.asarray(out, dtype=object)


def _embed(a: np.ndarray, size: int, n: int, *, rows: bool) -> np.ndarray:
    shape = (size, a.shape[1]) if rows else (a.shape[0], size)
    out = np.zeros(shape, dtype=object)
    out[...] = 0
    if rows:
        out[:n, :] = a
    else:
        out[:, :n] = a
    return out


def _tidy(a: np.ndarray, bits: int) -> np.ndarray:
    out = np.empty(a.shape, dtype=object)
    for idx, x in np.ndenumerate(a):
        e = as_enclosure(x)
        out[idx] = e if e.is_exact else e.round_out(bits)
    return out


def _exactify(a: np.ndarray) -> np.ndarray:
    encs = [as_enclosure(x) for x in a.flat]
    if all(e.is_exact for e in encs):
        return np.array([e.lo for e in encs], dtype=object).reshape(a.shape)
    return np.array(encs, dtype=object).reshape(a.shape)


def _accurate(ws: list[np.ndarray], dps: int) -> bool:
    for w in ws:
        encs = [as_enclosure(x) for x in w.flat]
        scale = max((e.mag for e in encs), default=Fraction(0))
        if not all(relative_tolerance(e, dps, scale) for e in encs):
            return False
    return True


def regularized_minimizer(target: Any, dims: Sequence[int], lam: Any) -> RegularizedMinimizer:
    """A global minimizer of ``L_lam`` for the rational target ``M`` and any ``dims`` (the
    module docstring; ``numeric.regularized`` for the scalar problems): the unique one off the
    exceptional set; on a tie the one with the positive branch, on a bottleneck split the one
    carrying the first vectors of the split singular space.

    >>> r = regularized_minimizer([[5, 0], [0, 2]], (2, 2, 2), 1)   # t^2 = sigma - lam
    >>> [[str(x) for x in w.flat] for w in r.weights(10)]
    [['2', '0', '0', '1'], ['2', '0', '0', '1']]
    """
    m = parse_matrix(target, "target M")
    q = _lam(lam)
    d = _check_dims(dims, m)
    transposed = d[0] > d[-1]
    gram = _gram(m.T if transposed else m)
    singular = tuple(
        (s, mult, scalar_minimizer(len(d) - 1, q, s)) for s, mult in exact_eigenvalues(gram)
    )
    return RegularizedMinimizer(d, q, m, singular, transposed)


def frame_minimizer(ts: Sequence[Any], sigmas: Sequence[Any], lam: Any,
                    frames: Sequence[Any]) -> Point:
    """:func:`frame_point` ``(ts, sigmas, frames)``, a global minimizer of ``L_lam`` iff every
    ``t_i`` is a global minimizer of ``f`` for ``sigma_i`` (checked exactly here; ``DmfError``
    otherwise).

    >>> p = frame_minimizer([2], [5], 1, [[[1]], [[1]], [[1]]])   # L = 2: t^2 = 5 - 1
    >>> p.weights[0].tolist(), p.target.tolist()
    ([[Fraction(2, 1)]], [[Fraction(5, 1)]])
    """
    q = _lam(lam)
    depth = len(frames) - 1
    tq = [parse_entry(t, "t") for t in ts]
    sq = [parse_entry(s, "sigma") for s in sigmas]
    for t, s in zip(tq, sq, strict=True):
        sm = scalar_minimizer(depth, q, s * s)
        if all(r.fraction != t for r in sm.minimizers):
            raise DmfError(f"t = {t} is not a global minimizer of f for sigma = {s}, lam = {q}, "
                           f"L = {depth}")
    return frame_point(tq, sq, frames)


def _diagonal(values: Sequence[Fraction]) -> np.ndarray:
    out = _zero_matrix(len(values), len(values))
    for i, x in enumerate(values):
        out[i, i] = x
    return out


def _frame(f: Any, l: int) -> np.ndarray:
    """Frame ``F_l`` read exactly; a hidden frame may have no columns (every value collapsed)."""
    a = np.asarray(f, dtype=object)
    return a if a.ndim == 2 and a.shape[0] >= 1 and a.shape[1] == 0 else parse_matrix(f, f"frame F_{l}")


def frame_point(ts: Sequence[Any], sigmas: Sequence[Any], frames: Sequence[Any]) -> Point:
    """The exactly rational point ``W_l = F_l[:, :p] diag(t_1..t_p) F_(l-1)[:, :p]^T`` with
    target ``M = F_L[:, :k] diag(sigma) F_0[:, :k]^T``: ``k = len(ts) = len(sigmas)``, the ``p``
    nonzero ``t``'s first, then the zeros (collapsed singular values). ``frames``: ``F_0 .. F_L``
    with exactly orthonormal columns, at least ``k`` at the ends and ``p`` in the hidden layers
    (so a hidden width below ``k`` can carry the ``p`` positive values). Every layer has the
    singular values ``t`` and the product is ``F_L[:, :k] diag(t^L) F_0[:, :k]^T``.
    No minimality check (:func:`frame_minimizer` makes one).

    >>> p = frame_point([2, 0], [5, "1/2"], [[[1, 0], [0, 1]], [[1]], [[1, 0], [0, 1]]])
    >>> [w.tolist() for w in p.weights], p.target[1, 1]
    ([[[Fraction(2, 1), Fraction(0, 1)]], [[Fraction(2, 1)], [Fraction(0, 1)]]], Fraction(1, 2))
    """
    fs = [_frame(f, l) for l, f in enumerate(frames)]
    tq = [parse_entry(t, "t") for t in ts]
    sq = [parse_entry(s, "sigma") for s in sigmas]
    p = sum(1 for t in tq if t != 0)
    if len(tq) != len(sq) or any(t == 0 for t in tq[:p]):
        raise DmfError("frame_point needs one t per sigma, the nonzero t's first")
    depth, k = len(fs) - 1, len(sq)
    cols = [f[:, :p] for f in fs]
    diag_t = _diagonal(tq[:p])
    ws = tuple(np.asarray(cols[l] @ diag_t @ cols[l - 1].T, dtype=object) if p
               else _zero_matrix(fs[l].shape[0], fs[l - 1].shape[0]) for l in range(1, depth + 1))
    m = (np.asarray(fs[-1][:, :k] @ _diagonal(sq) @ fs[0][:, :k].T, dtype=object) if k
         else _zero_matrix(fs[-1].shape[0], fs[0].shape[0]))
    return Point(weights=ws, labels=m, data=None)
