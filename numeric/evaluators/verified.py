"""Verified bounds for the certified enclosure off minimizers (``numeric.enclosure``): exact
dyadic arithmetic on float64 matrices (FLINT integers times powers of two), positive
definiteness proven exactly (Sylvester's criterion on a rounded integer matrix), the a priori
rounding error of float64 products, rigorous upper bounds of spectral norms, and of the top
eigenvalue of small nonnegative or product matrices. The derivations are in
``numeric.enclosure``'s module docstring ("The bound e >= ||E||_2").

Public:
    spectral_norm_bound(w, *, method="auto"|"exact"|"float")   a rational ``>= ||w||_2``
    EXACT_NORM_SIDE
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from derivations.errors import DmfError, TooLargeError
from derivations.intervals import Enclosure

__all__ = ["EXACT_NORM_SIDE", "spectral_norm_bound"]

EXACT_NORM_SIDE = 64
"""``spectral_norm_bound`` works exactly (integer ``W^T W`` on the smaller side) up to this
side, and in verified float64 above it."""

_U = Fraction(1, 2**53)  # unit roundoff of binary64
_ETA = Fraction(1, 2**1074)  # the smallest subnormal: the underflow term
_SQRT_BITS = 80  # square roots are rounded up with about this many bits


# --------------------------------------------------------------------------- exact dyadic
@dataclass(frozen=True)
class _Dy:
    """The exact dyadic matrix ``m 2^e`` (``m`` a python-flint ``fmpz_mat``)."""

    m: Any
    e: int

    @classmethod
    def of(cls, a: np.ndarray) -> _Dy:
        from numeric.evaluators.float64_input import dyadic_matrix

        return cls(*dyadic_matrix(np.ascontiguousarray(a, dtype=np.float64)))

    @classmethod
    def identity(cls, n: int) -> _Dy:
        from flint import fmpz_mat

        return cls(fmpz_mat(n, n, [int(i == j) for i in range(n) for j in range(n)]), 0)

    def __matmul__(self, other: _Dy) -> _Dy:
        return _Dy(self.m * other.m, self.e + other.e)

    def __sub__(self, other: _Dy) -> _Dy:
        low = min(self.e, other.e)
        return _Dy(self.m * (1 << (self.e - low)) - other.m * (1 << (other.e - low)), low)

    def __add__(self, other: _Dy) -> _Dy:
        low = min(self.e, other.e)
        return _Dy(self.m * (1 << (self.e - low)) + other.m * (1 << (other.e - low)), low)

    def scaled(self, c: int) -> _Dy:
        """``c`` times this matrix (``c`` an integer)."""
        return _Dy(self.m * c, self.e)

    def inner(self, other: _Dy) -> Fraction:
        """``<self, other> = tr(self^T other)``, exactly."""
        return (self.T @ other).trace()

    @property
    def T(self) -> _Dy:  # the transpose, as NumPy names it
        return _Dy(self.m.transpose(), self.e)

    def is_zero(self) -> bool:
        return bool(self.m.is_zero())

    def trace(self) -> Fraction:
        return sum((Fraction(int(self.m[i, i])) for i in range(self.m.nrows())),
                   Fraction(0)) * _pow2(self.e)

    def fmpq(self) -> Any:
        from flint import fmpq, fmpq_mat

        return fmpq_mat(self.m) * (fmpq(2) ** self.e if self.e >= 0 else fmpq(1, 2 ** -self.e))

    def floats(self) -> tuple[np.ndarray, int]:
        """``(a, k)`` with ``a 2^k`` close to this matrix (an estimate: not rigorous)."""
        ints = [int(v) for v in self.m.entries()]
        shift = max(max((abs(v).bit_length() for v in ints), default=0) - 60, 0)
        a = np.array([float(v >> shift) for v in ints]).reshape(self.m.nrows(), self.m.ncols())
        return a, self.e + shift


def _pow2(k: int) -> Fraction:
    return Fraction(2) ** k


def _fraction(x: Any) -> Fraction:
    """A python-flint ``fmpq`` (or anything Fraction takes) as a ``Fraction``."""
    if hasattr(x, "p") and hasattr(x, "q"):
        return Fraction(int(x.p), int(x.q))
    return Fraction(x)


def _sqrt_up(q: Fraction) -> Fraction:
    """A rational ``>= sqrt(q)`` (``q >= 0``), about ``_SQRT_BITS`` bits."""
    return Enclosure.point(q).sqrt(_SQRT_BITS).hi


def _sqrt_down(q: Fraction) -> Fraction:
    return Enclosure.point(q).sqrt(_SQRT_BITS).lo


# --------------------------------------------------------------------------- positive definite
def _leading_minors_positive(a: list[list[int]]) -> bool:
    """Whether every leading principal minor of the integer matrix ``a`` is positive (Sylvester:
    ``a`` symmetric is then positive definite). FLINT's fraction-free LU ``P a = L D^-1 U``
    (``fmpz_mat.fflu``): when ``P = I`` the leading ``k x k`` block of ``a`` is ``L_k D_k^-1
    U_k`` (triangular factors), so its determinant is ``prod_{i<k} L_ii U_ii / D_ii`` and all
    are positive iff every ``L_ii U_ii D_ii > 0``. Otherwise (a row exchange) the plain Bareiss
    elimination decides (``_bareiss_minors_positive``)."""
    from flint import fmpz_mat

    if not a:
        return True
    p, low, d, up = fmpz_mat(a).fflu()
    if not p.is_one():
        return _bareiss_minors_positive(a)
    return all(low[i, i] * up[i, i] * d[i, i] > 0 for i in range(len(a)))


def _bareiss_minors_positive(a: list[list[int]]) -> bool:
    """``_leading_minors_positive`` by fraction-free Bareiss elimination without pivoting, in
    Python integers: after step ``k`` the pivot ``a[k][k]`` is the leading minor of order
    ``k + 1``, and every division is exact. (It changes ``a``.)"""
    n = len(a)
    prev = 1
    for k in range(n):
        piv = a[k][k]
        if piv <= 0:
            return False
        row_k = a[k]
        for i in range(k + 1, n):
            row_i, aik = a[i], a[i][k]
            for j in range(k + 1, n):
                row_i[j] = (row_i[j] * piv - aik * row_k[j]) // prev
        prev = piv
    return True


def _positive_definite(t: Any, bits: Sequence[int] = (96, 320)) -> bool:
    """A proof that the symmetric rational matrix ``t`` (python-flint ``fmpq_mat``) is positive
    definite (module docstring): ``True`` only when proven; ``False`` means "not proven at these
    precisions" (it may still be positive definite, e.g. with a tiny smallest eigenvalue)."""
    n = t.nrows()
    entries = [_fraction(x) for x in t.entries()]
    big = max((abs(v) for v in entries), default=Fraction(0))
    if big == 0:
        return False
    top = big.numerator.bit_length() - big.denominator.bit_length()
    for b in bits:
        s = b - top
        scale = _pow2(s)
        ints = [math.floor(v * scale + Fraction(1, 2)) for v in entries]
        a = [[2 * ints[i * n + j] - (n if i == j else 0) for j in range(n)] for i in range(n)]
        if _leading_minors_positive(a):
            return True
    return False


def _fmpq_identity(n: int, c: Fraction) -> Any:
    from flint import fmpq, fmpq_mat

    v = fmpq(c.numerator, c.denominator)
    return fmpq_mat(n, n, [v if i == j else 0 for i in range(n) for j in range(n)])


def _to_fmpq(q: Fraction) -> Any:
    from flint import fmpq

    return fmpq(q.numerator, q.denominator)


# --------------------------------------------------------------------------- float64 error model
def _gamma(k: int) -> Fraction:
    """``gamma_k = k u / (1 - k u)`` (Higham, Lemma 3.1), exactly."""
    ku = k * _U
    if ku >= Fraction(1, 2):
        raise TooLargeError(f"an inner product of length {k} is beyond the float64 error model")
    return ku / (1 - ku)


def _sum_squares_upper(m: np.ndarray) -> Fraction:
    """A proven ``>= sum m_ij^2`` of a float64 array: the float64 dot product ``s`` of its entries
    with themselves satisfies ``|s - exact| <= gamma_k exact + k eta``. ``inf`` if it overflows."""
    v = np.ascontiguousarray(m, dtype=np.float64).ravel()
    if v.size == 0:
        return Fraction(0)
    s = float(np.dot(v, v))
    if not math.isfinite(s):
        raise OverflowError("sum of squares overflows float64")
    return (Fraction(s) + v.size * _ETA) / (1 - _gamma(v.size))


# --------------------------------------------------------------------------- spectral norms
NormMethod = Literal["auto", "exact", "float"]


def _frobenius_bound(w: np.ndarray) -> Fraction:
    """A proven ``>= ||W||_F`` (scaled by a power of two first: no overflow)."""
    big = float(np.max(np.abs(w))) if w.size else 0.0
    if big == 0.0:
        return Fraction(0)
    k = math.frexp(big)[1]
    scaled = np.ldexp(w, -k)
    loss = w.size * _pow2(k - 1074)
    return _pow2(k) * _sqrt_up(_sum_squares_upper(scaled)) + loss


def _exact_norm(w: np.ndarray) -> Fraction:
    """``||W||_2`` bound from the exact integer ``S = W^T W`` (smaller side): a float64 guess
    ``t`` proven by ``t I - S > 0``; the Frobenius norm if no guess is proven."""
    a = _Dy.of(w if w.shape[0] >= w.shape[1] else w.T)
    s = a.T @ a
    if s.is_zero():
        return Fraction(0)
    approx, k = s.floats()
    est = max(float(np.linalg.eigvalsh(approx)[-1]), 0.0)
    size = float(np.linalg.norm(approx))
    sq = s.fmpq()
    n = sq.nrows()
    for rel in (2.0**-40, 2.0**-20, 2.0**-8):
        t = (Fraction(est) * (1 + Fraction(rel)) + Fraction(size) * Fraction(rel) / 64) * _pow2(k)
        if _positive_definite(_fmpq_identity(n, t) - sq):
            return _sqrt_up(t)
    return _frobenius_bound(w)


def _eigh_bounds(s: np.ndarray) -> tuple[np.ndarray, np.ndarray, Fraction, Fraction] | None:
    """``(Lambda, Q, r, alpha)`` from float64 ``eigh`` of the exactly symmetric float64 ``s``, with
    proven ``r >= ||s Q - Q Lambda||_2`` and ``alpha >= ||Q^T Q - I||_2``, ``alpha < 1/2``
    (module docstring, "Spectral norms"); ``None`` when ``eigh`` fails or ``alpha`` is too large."""
    n = s.shape[0]
    try:
        lam, q = np.linalg.eigh(s)
    except np.linalg.LinAlgError:
        return None
    if not (np.all(np.isfinite(lam)) and np.all(np.isfinite(q))):
        return None
    r = s @ q - q * lam
    absprod = np.abs(s) @ np.abs(q)
    q_fro = _sqrt_up(_sum_squares_upper(q))
    lam_abs = Fraction(float(np.max(np.abs(lam))))
    absprod_fro = (_sqrt_up(_sum_squares_upper(absprod)) + n * n * _ETA) / (1 - _gamma(n))
    r_norm = (_sqrt_up(_sum_squares_upper(r)) + _gamma(n + 2) * (absprod_fro + q_fro * lam_abs)
              + n * (n + 2) * _ETA)
    qtq = q.T @ q
    diag = np.diag(qtq)
    if not np.all((diag >= 0.5) & (diag <= 2.0)):
        return None
    qtq[np.diag_indices(n)] -= 1.0  # exact (Sterbenz)
    alpha = _sqrt_up(_sum_squares_upper(qtq)) + _gamma(n) * q_fro**2 + n * n * _ETA
    if alpha >= Fraction(1, 2):
        return None
    return lam, q, r_norm, alpha


def _float_norm(w: np.ndarray) -> Fraction:
    """``||W||_2`` bound in verified float64 (module docstring, "Spectral norms")."""
    if w.shape[0] < w.shape[1]:
        w = w.T
    m, n = w.shape
    big = float(np.max(np.abs(w)))
    if big == 0.0:
        return Fraction(0)
    k = math.frexp(big)[1]
    ws = np.ldexp(w, -k)
    loss = m * n * _pow2(k - 1074)
    s = ws.T @ ws
    s = np.triu(s) + np.triu(s, 1).T
    ds = _gamma(m) * _sum_squares_upper(ws) + n * m * _ETA  # >= ||S~ - S'||_2
    found = _eigh_bounds(s)
    if found is None:
        return _frobenius_bound(w)
    lam, _, r_norm, alpha = found
    top = Fraction(float(lam[-1])) + r_norm / _sqrt_down(1 - alpha)  # >= lambda_max(S~)
    return _pow2(k) * _sqrt_up(max(top + ds, Fraction(0))) + loss


def spectral_norm_bound(w: np.ndarray, *, method: NormMethod = "auto") -> Fraction:
    """A rational upper bound of ``||W||_2 = sigma_max(W)`` of a float64 matrix (its exact
    binary values), proven: ``"exact"`` (integer ``W^T W`` on the smaller side and an exact
    positive-definiteness proof), ``"float"`` (verified float64: rigorous under IEEE binary64
    arithmetic and inner-product matrix multiplication, module docstring), ``"auto"``: exact when
    the smaller side is at most ``EXACT_NORM_SIDE``. Both are sharp to about ``1e-10``
    relative; when a step cannot be proven the (looser, still rigorous) Frobenius norm is
    returned.

    >>> spectral_norm_bound(np.array([[3.0, 0.0], [0.0, 4.0]])) - 4 < 1e-9
    True
    >>> float(spectral_norm_bound(np.ones((100, 100)), method="float"))   # exactly 100
    100.00000000...
    """
    a = np.asarray(w)
    if a.ndim != 2 or a.dtype.kind != "f" or a.dtype.itemsize > 8:
        raise DmfError(f"spectral_norm_bound needs a 2-D float64 array; got {_describe(w)}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise DmfError("spectral_norm_bound needs finite entries; got inf or nan")
    if method not in ("auto", "exact", "float"):
        raise DmfError(f"method must be 'auto', 'exact' or 'float'; got {method!r}")
    if a.size == 0:
        return Fraction(0)
    if method == "exact" or (method == "auto" and min(a.shape) <= EXACT_NORM_SIDE):
        return _exact_norm(a)
    return _float_norm(a)


# --------------------------------------------------------------------------- small eigenvalue bounds
def _product_lambda_max(m1: _Dy, m2: _Dy) -> tuple[Fraction, str]:
    """A proven ``t >= lambda_max(M_1 M_2)`` for PSD ``M_1``, ``M_2`` (module docstring, step 4),
    and ``"spectral"``; or ``tr(M_1 M_2)`` and ``"Frobenius"`` when no guess is proven."""
    if m1.is_zero() or m2.is_zero():
        return Fraction(0), "spectral"
    f1, k1 = m1.floats()
    f2, k2 = m2.floats()
    est = max(float(np.max(np.linalg.eigvals(f1 @ f2).real)), 0.0)
    size = Fraction(float(np.linalg.norm(f1)) * float(np.linalg.norm(f2)))
    q1, q2 = m1.fmpq(), m2.fmpq()
    n = q2.nrows()
    trace2 = m2.trace()
    for rel, dl in ((2.0**-40, 0.0), (2.0**-30, 2.0**-60), (2.0**-12, 2.0**-40)):
        t = (Fraction(est) * (1 + Fraction(rel)) + size * Fraction(rel) / 64
             + size * 2 * Fraction(dl)) * _pow2(k1 + k2)
        m2p = q2 + _fmpq_identity(n, Fraction(dl) * trace2 / n) if dl else q2
        if _positive_definite(m2p * _to_fmpq(t) - m2p * q1 * m2p):
            return t, "spectral"
    return _fraction(_trace(q1 * q2)), "Frobenius"  # ||G||_F^2


def _trace(m: Any) -> Any:
    from flint import fmpq

    return sum((m[i, i] for i in range(m.nrows())), fmpq(0))


def _nonneg_lambda_max(c: list[list[Fraction]]) -> tuple[Fraction, str]:
    """A proven ``>= lambda_max(C)`` of a symmetric nonnegative rational ``C`` and how."""
    n = len(c)
    if n == 1 or all(v == 0 for row in c for v in row):
        return max((v for row in c for v in row), default=Fraction(0)), "exact"
    if n == 2 and c[0][0] == c[1][1] == 0:
        return c[0][1], "exact"  # lambda_max([[0, c], [c, 0]]) = c
    approx = np.array([[float(v) for v in row] for row in c])
    est = max(float(np.linalg.eigvalsh(approx)[-1]), 0.0)
    size = Fraction(float(np.max(approx)))
    from flint import fmpq_mat

    cq = fmpq_mat(n, n, [_to_fmpq(v) for row in c for v in row])
    for rel in (2.0**-40, 2.0**-20, 2.0**-8):
        t = Fraction(est) * (1 + Fraction(rel)) + size * Fraction(rel) / 64
        if _positive_definite(_fmpq_identity(n, t) - cq):
            return t, "proven float64 guess"
    return max(sum(row, Fraction(0)) for row in c), "largest row sum"

def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"a {x.ndim}-D {x.dtype} array"
    return f"a {type(x).__name__}"
