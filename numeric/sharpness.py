"""The sharpness (largest Hessian eigenvalue) at a point: the oracle's Python API.

Public:
    sharpness(weights, target=None, *, data=None, labels=None, dps=50, certify=True,
              float64=False, loss="half-sum", spectrum=False, route="auto",
              require_minimizer=False, inputs=None, targets=None,
              max_seconds=DEFAULT_MAX_SECONDS) -> SharpnessResult
    SharpnessResult    value, enclosure, status, route, spectrum facts; ``str()``, ``to_json()``
    LOSSES             the loss conventions and their Hessian factors
    loss_factor(loss, *, n_samples, d_out) -> (Fraction, formula string)
    estimate_exact_seconds(point, route, *, dps=50, certify=True) -> (seconds, what)
    BudgetExceededError   exact work predicted over ``max_seconds`` (a ``TooLargeError``)
    Float64RangeError     float64 cannot hold the point's numbers (a ``TooLargeError``)

Helpers (private): the three evaluation modes (certified / mpmath / float64), the exact
minimizer test for large float64 input, spectrum summaries.

**Routes** (docs/mathematics.md K1, K2). At a global minimizer with ``R X^T = 0`` (decided EXACTLY) the
Hessian is ``J^T J`` and its nonzero spectrum is that of the reduced operator
``K = sum_l (B_l^T B_l) kron (A_l A_l^T)`` (with data: the ``gram`` form
``sum_l (X^T B_l^T B_l X) kron (A_l A_l^T)``, rational, or the ``C^{1/2}`` ``sqrt`` form), of size
``d_L d_0`` whatever the hidden widths; the Hessian's zero eigenvalue has multiplicity
``P - rank K``. That is ``route="reduced"``; with data its exact (certified) work uses the
smallest rational form with that spectrum: the ``gram`` form (``d_L N``), the ``gram`` form of
a rational ``F`` with ``F F^T = X X^T`` (``d_L m``, ``m <= 4 d_0``) or ``J^T J`` (``P``)
(``numeric.reduced``; ``SharpnessResult.operator_size``). Anywhere else ``route="full"``: the
explicit ``P x P`` Hessian of ``numeric.hessian`` (K1, both terms).

**Budget.** The exact work is predicted before it starts (``estimate_exact_seconds``) and
refused over ``max_seconds`` (``BudgetExceededError``), so no call hangs for minutes.

**Modes** (every number says how it was obtained, ``SharpnessResult.method``):
    certify=True (default)   exact rational K or H, eigenvalue enclosures proven to contain the
                             eigenvalues (``numeric.eigen.certified_eigvalsh``) at ``dps`` digits;
                             ranks decided exactly over Q (python-flint). If some eigenvalue
                             other than lambda_max cannot be refined to ``dps`` digits, only
                             lambda_max is (``which="top"``); the others keep rigorous wider
                             enclosures and ``SharpnessResult.secondary`` says so.
    certify=False            mpmath ``eigsy`` (Jacobi) at ``dps`` digits: approximate.
    float64=True             float64, approximate; dense LAPACK for small matrices, otherwise
                             matrix-free Lanczos (ARPACK ``eigsh`` on ``reduced_linear_operator``
                             or ``hessian_operator``); ``certify`` is ignored. Large NumPy float
                             input skips exact parsing (shapes and finiteness still checked, the
                             minimizer test stays exact). With Lanczos on the full Hessian,
                             lambda_min is bounded by the residual term's norm (J^T J is PSD):
                             near minimizers it is 0 to float64 precision and reported so
                             without Lanczos; elsewhere its Lanczos run gets at most
                             ``max(2 x lambda_max's products, LAMBDA_MIN_MIN_PRODUCTS)``
                             products. Points whose products overflow or underflow float64
                             are refused (``Float64RangeError``): use the exact route.

Secondary quantities (lambda_min, gap, multiplicity, spectrum) never make lambda_max fail and
never dominate its cost; a gap is the exact difference of enclosure midpoints (no cancellation
below a huge lambda_max), and enclosed secondary numbers are printed only to the digits their
enclosures prove.

**Loss conventions** (``loss=``). Write ``L_half = 1/2 ||W_L ... W_1 X - Y||_F^2`` (docs/mathematics.md) and
``N`` the number of samples (columns of ``X``; ``N = d_0`` when ``X = I``):
    "half-sum"  L_half                          Hessian factor 1
    "sum"       ||R||_F^2                       factor 2
    "mean"      (1/N) ||R||_F^2                 factor 2/N
    "mse"       (1/(d_L N)) ||R||_F^2           factor 2/(d_L N)  (``torch.nn.MSELoss()``)
Every reported eigenvalue is the eigenvalue of the Hessian of the chosen loss (factor applied
exactly, enclosures included); ``loss_factor`` and ``loss`` record it.

>>> r = sharpness([[[1]], [[2]]], dps=20, certify=False)
>>> r.route, r.at_minimizer, mpmath.nstr(r.value, 10)       # K5: ||W_1||^2 + ||W_2||^2
('reduced', True, '5.0')
>>> sharpness([[[1]], [[2]]], dps=20, certify=False, loss="sum").value == 2 * r.value
True
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal
from fractions import Fraction
from typing import Any, Literal

import mpmath
import numpy as np

from derivations.algebraic import exact_rank
from derivations.errors import (
    DmfError,
    NonFiniteError,
    NotAMinimizerError,
    PrecisionExhausted,
    TooLargeError,
)
from derivations.exact import Point, check_chain, parse_point
from numeric.kinds import point_arrays

__all__ = [
    "DEFAULT_MAX_SECONDS",
    "LOSSES",
    "BudgetExceededError",
    "Float64RangeError",
    "SharpnessResult",
    "estimate_exact_seconds",
    "loss_factor",
    "magnitude_note",
    "sharpness",
]

LossName = Literal["half-sum", "sum", "mean", "mse"]
RouteName = Literal["auto", "reduced", "full"]

_NORM = "||W_L...W_1 X - Y||_F^2"
LOSSES: dict[str, str] = {
    "half-sum": f"0.5*{_NORM}",
    "sum": _NORM,
    "mean": f"(1/N)*{_NORM}",
    "mse": f"(1/(d_L*N))*{_NORM}",
}
"""Loss convention name -> its formula (``N`` samples; ``N = d_0`` when ``X = I``)."""

MIN_DPS, MAX_DPS = 5, 5000
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


LAMBDA_MIN_MIN_PRODUCTS = 600
"""float64 Lanczos: lambda_min may use ``max(2 x the products spent on lambda_max, this)``
Hessian-vector products, so a secondary quantity never dominates the cost."""


DEFAULT_MAX_SECONDS = 60.0
"""``sharpness``'s default ``max_seconds``: the largest predicted time of the exact work."""

# Cost model of the exact work (seconds), measured on this project's 2-core machine at load
# averages of 3 to 6 (other jobs running; the same run takes up to twice as long at 6), each
# stage timed separately: depth-6 float64 networks of widths 4-16 at minimizers (reduced
# operator K of size 16-256), chains of 10-100 2 x 2 integer layers away from minimizers (full
# Hessian of size 40-400, entries up to ~1000 bits), and float64 networks (2,3,3,2), (4,4,4,4),
# (8,8,8,8), (16,16,16) on both routes. The prediction is within about a factor of 2 of the
# measured time either way (100-layer chain: predicted 66 s, measured 40 s at load 3 and 88 s
# at load 5; (16,16,16) away from a minimizer: predicted 81 s, measured 44 s and 79 s).
COST_FRACTION_OP = 5e-6
"""One ``Fraction`` multiply-add of ~64-bit entries in the factor products (build stage)."""
COST_ENTRY = 2e-6
"""One ``Fraction`` entry of a Kronecker term or Hessian block (build stage)."""
COST_RANK = 3e-8
"""``exact_rank``: seconds per ``n^3`` (FLINT) at ~300-bit entries."""
COST_FOUR_SQUARES = 0.05
"""``numeric.reduced.four_squares`` on one pivot of ``X X^T`` (at most ``FACTOR_MAX_BITS``)."""
COST_MPMATH = 1.5e-4
"""mpmath ``eigsy`` (Jacobi, certify=False): seconds per ``n^3`` at 50 digits."""
_BITS_UNIT = 512.0


def loss_factor(loss: str, *, n_samples: int, d_out: int) -> tuple[Fraction, str]:
    """The exact factor turning the Hessian of ``1/2 ||R||_F^2`` into that of ``loss``, and the
    loss formula with ``N`` and ``d_L`` filled in.

    >>> loss_factor("mse", n_samples=3, d_out=2)
    (Fraction(1, 3), '(1/(2*3))*||W_L...W_1 X - Y||_F^2')
    """
    if loss == "half-sum":
        return Fraction(1), LOSSES[loss]
    if loss == "sum":
        return Fraction(2), LOSSES[loss]
    if loss == "mean":
        return Fraction(2, n_samples), f"(1/{n_samples})*{_NORM}"
    if loss == "mse":
        return Fraction(2, d_out * n_samples), f"(1/({d_out}*{n_samples}))*{_NORM}"
    raise DmfError(f"unknown loss convention {loss!r}; expected one of {sorted(LOSSES)}")


# --------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class SharpnessResult:
    """The sharpness at a point and how it was obtained.

    Eigenvalues are those of the Hessian of the chosen ``loss`` (``loss_factor`` applied).
    ``value`` is an ``mpf`` (certified or mpmath modes; the enclosure midpoint when certified)
    or a ``float`` (float64 mode). Enclosures are ``numeric.eigen.Enclosure`` (exact ``Fraction``
    endpoints) or ``None`` when not certified. ``multiplicity`` counts eigenvalues not
    separated from ``lambda_max`` (certified: enclosures overlapping its enclosure; otherwise
    within a tolerance derived from the precision; Lanczos: among the ``k`` computed).
    ``gap = lambda_1 - (next lower distinct eigenvalue)``. ``largest_magnitude`` is what power
    iteration converges to; ``largest_magnitude_is_lambda_min`` says when ``|lambda_min| >
    lambda_max`` (``None``: not decided at this precision). ``spectrum`` (with
    ``spectrum=True``) lists the nonzero eigenvalues, descending, and ``zero_multiplicity``
    the multiplicity of the eigenvalue 0.
    """

    value: Any
    enclosure: Any
    certified: bool
    route: str
    at_minimizer: bool
    residual_norm: Any
    loss: str
    loss_factor: Fraction
    dims: tuple[int, ...]
    parameters: int
    lambda_min: Any
    largest_magnitude: Any
    multiplicity: int
    gap: Any
    spectrum: list[Any] | None
    zero_multiplicity: int | None
    method: str
    dps: int | None
    loss_convention: str = "half-sum"
    lambda_min_enclosure: Any = None
    gap_enclosure: Any = None
    spectrum_enclosures: list[Any] | None = None
    largest_magnitude_is_lambda_min: bool | None = False
    seconds: float = field(default=0.0, compare=False)
    secondary: str | None = None
    """Why secondary quantities (``lambda_min``, gap, multiplicity, spectrum) are known to fewer
    digits than ``lambda_max`` (certified: their enclosures could not all be refined to ``dps``
    digits; float64: ``lambda_min`` bounded or not converged), or ``None``."""
    operator_size: int | None = field(default=None, compare=False)
    """The size ``n`` of the ``n x n`` matrix whose eigenvalues were computed (the reduced
    operator, ``J^T J`` or the full Hessian; ``None`` for matrix-free Lanczos)."""

    def _fmt(self, x: Any) -> str:
        if x is None:
            return "n/a"
        if isinstance(x, mpmath.mpf):
            return str(mpmath.nstr(x, self.dps or 15))
        return repr(float(x))

    def _secondary_string(self, x: Any, enc: Any) -> str:
        """A secondary number as printed: only the digits its enclosure proves (see
        ``_proven_string``), otherwise as ``_fmt``."""
        if x is None:
            return "n/a"
        if enc is not None:
            return _proven_string(x, enc, self.dps or 17)
        return self._fmt(x)

    def __str__(self) -> str:
        if self.certified and self.enclosure is not None:
            lo, hi = _enclosure_strings(self.enclosure, self.dps or 50)
            status = f"certified: lambda_max in [{lo}, {hi}]"
        else:
            status = self.method
        where = "at a minimizer (R X^T = 0)" if self.at_minimizer else "not a minimizer"
        lines = [
            f"lambda_max = {self._fmt(self.value)}  [{status}]",
            f"route: {self.route}; {where}; residual norm {self._fmt(self.residual_norm)}",
            f"loss: {self.loss} (Hessian factor {self.loss_factor} relative to docs/mathematics.md's 1/2)",
            f"dims {self.dims}, {self.parameters} parameters; multiplicity of lambda_max "
            f"{self.multiplicity}; gap lambda_1 - lambda_2 = "
            f"{self._secondary_string(self.gap, self.gap_enclosure)}",
            f"lambda_min = {self._secondary_string(self.lambda_min, self.lambda_min_enclosure)}; "
            f"largest magnitude = "
            f"{self._secondary_string(self.largest_magnitude, self._largest_enclosure())}",
        ]
        if self.secondary:
            lines.append(f"secondary quantities: {self.secondary}")
        note = magnitude_note(self)
        if note:
            lines.append(f"note: {note}")
        if self.spectrum is not None:
            lines.append(
                f"nonzero spectrum ({len(self.spectrum)} values), zero with multiplicity "
                f"{self.zero_multiplicity}"
            )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (numbers as decimal strings; the oracle's JSON format, README "The oracle command")."""
        digits = self.dps or 17
        out: dict[str, Any] = {
            "lambda_max": _num_string(self.value, digits),
            "enclosure": None
            if self.enclosure is None
            else list(_enclosure_strings(self.enclosure, digits)),
            "certified": self.certified,
            "route": self.route,
            "at_minimizer": self.at_minimizer,
            "residual_norm": _num_string(self.residual_norm, digits),
            "loss": self.loss,
            "loss_convention": self.loss_convention,
            "loss_factor": str(self.loss_factor),
            "dims": list(self.dims),
            "parameters": self.parameters,
            "lambda_min": _num_string(self.lambda_min, digits, self.lambda_min_enclosure),
            "largest_magnitude": _num_string(
                self.largest_magnitude, digits, self._largest_enclosure()
            ),
            "largest_magnitude_is_lambda_min": self.largest_magnitude_is_lambda_min,
            "multiplicity": self.multiplicity,
            "gap": _num_string(self.gap, digits, self.gap_enclosure),
            "method": self.method,
            "dps": self.dps,
        }
        if self.spectrum is not None:
            encs = self.spectrum_enclosures or [None] * len(self.spectrum)
            out["spectrum"] = [_num_string(x, digits, e) for x, e in zip(self.spectrum, encs,
                                                                         strict=True)]
            out["zero_multiplicity"] = self.zero_multiplicity
        if self.secondary:
            out["secondary"] = self.secondary
        return out

    def _largest_enclosure(self) -> Any:
        return self.lambda_min_enclosure if self.largest_magnitude_is_lambda_min else self.enclosure


def magnitude_note(result: SharpnessResult) -> str:
    """What a power iteration on this Hessian converges to, when that is not ``lambda_max``."""
    if result.lambda_min is None or result.lambda_min >= 0:
        return ""
    if result.largest_magnitude_is_lambda_min:
        return "|lambda_min| > lambda_max: power iteration would find lambda_min"
    if result.largest_magnitude_is_lambda_min is None:
        return ("|lambda_min| and lambda_max are not separated at this precision: power "
                "iteration need not converge to either")
    return ""


def _num_string(x: Any, digits: int, enc: Any = None) -> str | None:
    """``x`` as a decimal string of ``digits`` significant digits; with its enclosure ``enc``,
    only as many digits as ``enc`` proves (``_proven_string``)."""
    if x is None:
        return None
    if enc is not None:
        return _proven_string(x, enc, digits)
    if isinstance(x, mpmath.mpf):
        return str(mpmath.nstr(x, digits, strip_zeros=False))
    if isinstance(x, Fraction):
        return _decimal(x, digits, None)
    return repr(float(x))


def _proven_string(x: Any, enc: Any, digits: int) -> str:
    """An enclosed number to ``digits`` significant digits when its enclosure proves them
    (``correct_digits >= digits``: printed as before), otherwise its enclosure's midpoint with
    only the proven digits plus one, and more if needed until the printed decimal lies inside
    the enclosure. So a secondary quantity (a gap, a lambda_min) never shows digits that
    nothing proves, and what is printed is always inside its proven interval."""
    proven = enc.correct_digits
    if proven >= digits:
        return _num_string(x, digits)  # type: ignore[return-value]
    for n in range(max(1, int(proven) + 1), digits + 1):
        text = _decimal(enc.mid, n, None)
        if enc.contains(Fraction(text)):
            return text
    return _decimal(enc.mid, digits, None)


def _decimal(q: Fraction, digits: int, rounding: str | None) -> str:
    ctx = Context(prec=digits, rounding=rounding or "ROUND_HALF_EVEN")
    return str(ctx.divide(Decimal(q.numerator), Decimal(q.denominator)))


def _enclosure_strings(enc: Any, digits: int) -> tuple[str, str]:
    """Outward-rounded decimal endpoints (``lo`` rounded down, ``hi`` up): still an enclosure."""
    return _decimal(enc.lo, digits, ROUND_FLOOR), _decimal(enc.hi, digits, ROUND_CEILING)


# --------------------------------------------------------------------------- eigenvalue lists
@dataclass(frozen=True)
class _Ev:
    """One Hessian eigenvalue: a value (mpf / float / Fraction) and, when certified, an
    enclosure."""

    value: Any
    enc: Any = None


@dataclass
class _Spectrum:
    """What one mode found: the Hessian's eigenvalues (descending; ``complete`` or only the
    top ones), its lambda_min when known, and its exact zero multiplicity when known."""

    evs: list[_Ev]
    complete: bool
    lambda_min: _Ev | None
    zero_multiplicity: int | None
    tol: Any
    method: str
    secondary: str | None = None
    lambda_min_bound: float | None = None
    """float64: ``lambda_min >= -lambda_min_bound`` (the residual term's norm bound, J^T J
    being PSD), used to decide dominance when ``lambda_min`` itself is unknown."""
    operator_size: int | None = None
    """The size of the matrix whose eigenvalues were computed (``None``: matrix-free)."""


def _scale(spec: _Spectrum, c: Fraction, dps: int | None) -> _Spectrum:
    if c == 1:
        return spec

    def one(e: _Ev) -> _Ev:
        enc = None if e.enc is None else dataclasses.replace(e.enc, lo=e.enc.lo * c, hi=e.enc.hi * c)
        if isinstance(e.value, mpmath.mpf):
            with mpmath.workdps(dps or 15):
                return _Ev(e.value * c.numerator / c.denominator, enc)
        if isinstance(e.value, Fraction):
            return _Ev(e.value * c, enc)
        return _Ev(float(e.value) * float(c), enc)

    lam_min = None if spec.lambda_min is None else one(spec.lambda_min)
    bound = None if spec.lambda_min_bound is None else spec.lambda_min_bound * float(c)
    return dataclasses.replace(
        spec, evs=[one(e) for e in spec.evs], lambda_min=lam_min, tol=spec.tol * float(c),
        lambda_min_bound=bound,
    )


def _same(a: _Ev, b: _Ev, tol: Any) -> bool:
    if a.enc is not None and b.enc is not None:
        return bool(a.enc.lo <= b.enc.hi and b.enc.lo <= a.enc.hi)
    return bool(abs(a.value - b.value) <= tol)


def _sub(a: _Ev, b: _Ev, dps: int | None) -> _Ev:
    """``a - b``. With enclosures the value is the exact difference of their midpoints, rounded
    once: subtracting the rounded values would cancel (``2e36 - (2e36 - 2e-17)`` at 50 digits
    is 0), so a gap far below ``lambda_max`` keeps its significant digits."""
    enc = None
    if a.enc is not None and b.enc is not None:
        enc = dataclasses.replace(a.enc, lo=a.enc.lo - b.enc.hi, hi=a.enc.hi - b.enc.lo)
        if isinstance(a.value, mpmath.mpf) or isinstance(b.value, mpmath.mpf):
            mid = enc.mid
            with mpmath.workdps(dps or 15):
                return _Ev(mpmath.mpf(mid.numerator) / mid.denominator, enc)
    if isinstance(a.value, mpmath.mpf) or isinstance(b.value, mpmath.mpf):
        with mpmath.workdps(dps or 15):
            return _Ev(mpmath.mpf(a.value) - b.value, enc)
    return _Ev(a.value - b.value, enc)


def _dominance(top: _Ev, low: _Ev, tol: Any) -> bool | None:
    """Whether ``|lambda_min| > lambda_max`` (``None`` if the enclosures do not decide it, or,
    without enclosures, if the two magnitudes agree within ``tol``: a tie, as at the saddle
    ``W = 0``, where power iteration converges to neither)."""
    if top.enc is not None and low.enc is not None:
        if -low.enc.lo > top.enc.hi:
            return True
        if -low.enc.hi < top.enc.lo or low.enc.lo >= 0:
            return False
        return None
    if low.value < 0 and abs(-low.value - top.value) <= tol:
        return None
    return bool(-low.value > top.value)


# --------------------------------------------------------------------------- modes
def _certified_list(matrix: np.ndarray, dps: int) -> tuple[list[_Ev], str | None]:
    """Enclosures of all eigenvalues, each to ``dps`` digits when ``certified_eigvalsh`` can;
    when some eigenvalue other than ``lambda_max`` cannot be refined that far (e.g. distinct
    eigenvalues far below ``lambda_max`` and closer than the working precision), ``lambda_max``
    alone is certified to ``dps`` digits (``which="top"``, with up to four times the default
    working precision before ``PrecisionExhausted`` is raised) and the others keep their
    rigorous but wider enclosures. Returns the list and, in that case, why."""
    from numeric.eigen import certified_eigvalsh

    note = None
    try:
        encs = certified_eigvalsh(matrix, dps=dps)
    except PrecisionExhausted as exc:
        reason = str(exc).split(". Eigenvalues that are distinct")[0]
        default = 4 * dps + 100
        try:
            encs = certified_eigvalsh(matrix, dps=dps, which="top")
        except PrecisionExhausted:
            encs = certified_eigvalsh(matrix, dps=dps, which="top", max_dps=4 * default)
        note = (
            f"only lambda_max is required to reach {dps} digits; the other eigenvalues keep "
            "rigorous enclosures with possibly fewer proven digits (lambda_min, the gap and the "
            "spectrum are printed only to the digits their enclosures prove; the multiplicity "
            "counts the enclosures overlapping lambda_max's), because certified_eigvalsh "
            f"{reason}"
        )
    with mpmath.workdps(dps):
        evs = [_Ev(mpmath.mpf(e.mid.numerator) / e.mid.denominator, e) for e in encs]
    return evs, note


def _exact_zero(template: _Ev) -> _Ev:
    zero = Fraction(0)
    enc = None if template.enc is None else dataclasses.replace(template.enc, lo=zero, hi=zero)
    value = mpmath.mpf(0) if isinstance(template.value, mpmath.mpf) else 0.0
    return _Ev(value, enc)


def _pad_reduced(k_evs: list[_Ev], rank: int, params: int) -> list[_Ev]:
    """Hessian spectrum at a minimizer: the ``rank`` nonzero eigenvalues of K and
    ``P - rank`` zeros (docs/mathematics.md K2), descending (K is positive semidefinite)."""
    nonzero = k_evs[:rank]
    zero_template = k_evs[0] if k_evs else _Ev(0.0)
    return nonzero + [_exact_zero(zero_template)] * (params - rank)


def _drop_zeros(evs: list[_Ev], rank: int) -> list[_Ev]:
    """Replace the ``len - rank`` eigenvalues closest to 0 by exact zeros (the rank is exact)."""
    n_zero = len(evs) - rank
    if n_zero == 0:
        return evs
    order = sorted(range(len(evs)), key=lambda i: abs(evs[i].value))
    zeros = set(order[:n_zero])
    out = [_exact_zero(e) if i in zeros else e for i, e in enumerate(evs)]
    return sorted(out, key=lambda e: e.value, reverse=True)


def _tol_mp(evs: list[_Ev], dps: int) -> Any:
    scale = max([abs(e.value) for e in evs] + [mpmath.mpf(1)])
    with mpmath.workdps(dps):
        return scale * mpmath.mpf(10) ** (-max(dps * 3 // 4, dps - 10))


def _mode_exact(point: Point, route: str, dps: int, certify: bool) -> _Spectrum:
    ws, x, y = point_arrays(point, "exact")
    params = point.num_params
    if route == "reduced":
        from numeric.reduced import data_factor, minimizer_hessian, reduced_operator

        choice, size = _exact_choice(point)
        factor = data_factor(x) if choice == "factor" and x is not None else None
        if choice == "hessian":  # many samples, few parameters: J^T J is the smaller one
            k_exact = minimizer_hessian(ws, x)
            what = f"the exact rational J^T J ({size} x {size}, smaller than K's gram form)"
        elif factor is not None:  # many samples: F F^T = X X^T with few columns
            k_exact = reduced_operator(ws, factor, form="gram")
            what = (f"the exact rational reduced operator K (gram form of F with F F^T = X X^T, "
                    f"{size} x {size})")
        else:
            k_exact = reduced_operator(ws, x, form="gram")
            what = f"the exact rational reduced operator K (gram form, {size} x {size})"
        rank = exact_rank(k_exact)
        note = None
        if certify:
            k_evs, note = _certified_list(k_exact, dps)
            method = (
                "certified: enclosures (numeric.eigen.certified_eigvalsh) of the eigenvalues of "
                f"{what}; rank K exact over Q"
            )
        else:
            k_evs = _mpmath_reduced(point, dps)
            size = point.dims[0] * point.dims[-1]
            method = (
                f"approximate: mpmath eigsy (Jacobi) at {dps} digits on K (sqrt form), not "
                f"certified; rank K exact over Q (from {what})"
            )
        evs = _pad_reduced(k_evs, rank, params)
        return _Spectrum(evs, True, evs[-1], params - rank, _tol_mp(evs, dps), method, note,
                         operator_size=size)
    from numeric.hessian import full_hessian

    h_exact = full_hessian(ws, x, y)
    rank = exact_rank(h_exact)
    note = None
    if certify:
        evs, note = _certified_list(h_exact, dps)
        method = (
            "certified: enclosures (numeric.eigen.certified_eigvalsh) of the eigenvalues of the "
            "exact rational full Hessian (docs/mathematics.md K1); rank exact over Q"
        )
    else:
        pw, px, py = point_arrays(point, "mpmath", dps)
        with mpmath.workdps(dps):
            h = full_hessian(pw, px, py)
        from numeric.spectrum import eigh_mpmath

        evs = [_Ev(v) for v in eigh_mpmath(h, dps)[0]]
        method = f"approximate: mpmath eigsy (Jacobi) at {dps} digits on the full Hessian"
    evs = _drop_zeros(evs, rank)
    return _Spectrum(evs, True, evs[-1], params - rank, _tol_mp(evs, dps), method, note,
                     operator_size=params)


def _exact_choice(point: Point) -> tuple[str, int]:
    """Which exact rational operator the reduced route diagonalizes, and its size
    (``numeric.reduced.exact_operator_sizes``: the smallest of K's gram form, the gram form of
    a rational ``F`` with ``F F^T = X X^T``, and ``J^T J``)."""
    from numeric.reduced import data_factor_columns, exact_operator_sizes

    if point.data is None:
        choice, size, _, _ = exact_operator_sizes(point.dims, None)
        return choice, size
    columns = data_factor_columns(point.data) if point.data.shape[1] > point.dims[0] else None
    choice, size, _, _ = exact_operator_sizes(point.dims, point.data.shape[1], columns)
    return choice, size


def _mpmath_reduced(point: Point, dps: int) -> list[_Ev]:
    from numeric.reduced import reduced_operator
    from numeric.spectrum import eigh_mpmath

    pw, px, _ = point_arrays(point, "mpmath", dps)
    with mpmath.workdps(dps):
        k = reduced_operator(pw, px, form="sqrt")
    return [_Ev(v) for v in eigh_mpmath(k, dps)[0]]


def _float_tol(values: Any) -> float:
    scale = max([abs(float(v)) for v in values] + [1e-300])
    return 1e-9 * scale


def _mode_float64(
    ws: list[np.ndarray],
    x: np.ndarray | None,
    y: np.ndarray,
    route: str,
    want_spectrum: bool,
) -> _Spectrum:
    from numeric.spectrum import eigvalsh_float64, top_eigenpairs_float64

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
        vals = top_eigenpairs_float64(reduced_linear_operator(ws, x), k=LANCZOS_K, tol=LANCZOS_TOL)[0]
        lam_min = _Ev(0.0) if params > n else None
        method = "approximate: float64 Lanczos (ARPACK eigsh, relative residual <= 1e-10) on the matrix-free reduced operator"
        return _Spectrum([_Ev(float(v)) for v in vals], False, lam_min, None, _float_tol(vals),
                         method)
    from numeric.hessian import full_hessian, hessian_operator

    if params <= DENSE_FLOAT64_LIMIT or want_spectrum:
        vals = eigvalsh_float64(full_hessian(ws, x, y))
        tol = _float_tol(vals)
        small = max(params, 1) * np.finfo(float).eps * max(abs(vals[0]), abs(vals[-1]))
        zero_mult = int(np.sum(np.abs(vals) <= small))
        evs = _drop_zeros([_Ev(float(v)) for v in vals], params - zero_mult)
        method = "approximate: float64 LAPACK eigh on the dense full Hessian"
        return _Spectrum(evs, True, evs[-1], zero_mult, tol, method, operator_size=params)
    op, products = _counted(hessian_operator(ws, x, y))
    vals = top_eigenpairs_float64(op, k=LANCZOS_K, tol=LANCZOS_TOL)[0]
    top_products = products[0]
    method = "approximate: float64 Lanczos (ARPACK eigsh, relative residual <= 1e-10) on the matrix-free full Hessian"
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
    budget = max(2 * top_products, LAMBDA_MIN_MIN_PRODUCTS)
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


# --------------------------------------------------------------------------- budget
class BudgetExceededError(TooLargeError):
    """The exact (certified or mpmath) work is predicted to take longer than ``max_seconds``;
    refused before starting it. The message names the estimate and the ways out."""


def _check_budget_option(max_seconds: Any) -> None:
    if max_seconds is None:
        return
    if isinstance(max_seconds, bool) or not isinstance(max_seconds, int | float) or not (
        max_seconds > 0 and math.isfinite(max_seconds)
    ):
        raise DmfError(f"max_seconds must be a positive number of seconds or None (no limit); "
                       f"got {max_seconds!r}")


def _matrix_bits(m: np.ndarray) -> tuple[int, int]:
    """``(bits of the common denominator, bits of the largest cleared numerator + log2 of the
    inner dimension)`` of an exact matrix: the size a product gains per factor."""
    den = math.lcm(*(q.denominator for q in m.flat))
    num = max(abs(q.numerator) * (den // q.denominator) for q in m.flat)
    return den.bit_length(), num.bit_length() + max(m.shape[1], 1).bit_length()


def estimate_exact_seconds(
    point: Point, route: str, *, dps: int = 50, certify: bool = True
) -> tuple[float, str]:
    """The predicted seconds of the exact work of ``sharpness`` on ``point`` along ``route``
    (``"reduced"`` or ``"full"``), and what the prediction is made of.

    Model (constants ``COST_*`` above and ``numeric.eigen.estimated_seconds``): ``b`` = the
    entry bits of the operator, ``2 x`` the sum over layers (and data) of denominator bits plus
    cleared-numerator bits; ``n`` = its size (``exact_operator_sizes`` at a minimizer, ``P``
    on the full Hessian). Build: ``COST_FRACTION_OP (L^2 + L^3/6) d^3 (1 + b/512)`` for the
    factor chains (``L^3``: the residual term's chains, full route only) plus ``COST_ENTRY
    n^2 (1 + b/512)`` per Hessian entry (times ``L`` for the ``L`` Kronecker terms of
    ``K``), plus ``COST_FOUR_SQUARES d_0`` for the factor ``F``; rank: ``COST_RANK n^3 (1 +
    b/512)``; eigenvalues:
    ``numeric.eigen.estimated_seconds(n, dps)`` (certified) or ``COST_MPMATH n^3
    max(1, dps/50)^0.75`` (mpmath, on the ``d_0 d_L`` sqrt form at a minimizer).

    >>> from derivations.exact import parse_point
    >>> seconds, what = estimate_exact_seconds(parse_point([[[1, 2]]]), "reduced")
    >>> seconds < 1, what.startswith("2 x 2")
    (True, True)
    """
    from numeric.eigen import estimated_seconds

    dims, depth = point.dims, point.depth
    sizes = [_matrix_bits(w) for w in point.weights]
    bits = 2 * sum(d + n for d, n in sizes)
    if point.data is not None:
        bits += 2 * sum(_matrix_bits(point.data))
    if route == "reduced":
        choice, n = _exact_choice(point)
        chains = depth * depth
        what = {"hessian": "J^T J", "factor": "reduced operator K (F F^T = X X^T)"}.get(
            choice, "reduced operator K")
    else:
        choice, n, what = "full", point.num_params, "full Hessian"
        chains = depth * depth + depth**3 // 6
    grow = 1.0 + bits / _BITS_UNIT
    entries = n * n * (depth if route == "reduced" and choice != "hessian" else 1)
    build = (COST_FRACTION_OP * chains * max(dims) ** 3 + COST_ENTRY * entries) * grow
    if choice == "factor":
        build += COST_FOUR_SQUARES * dims[0]  # one four-square search per pivot of X X^T
    rank = COST_RANK * n**3 * grow
    if certify:
        eig, how = estimated_seconds(n, dps=dps), "certified eigenvalues"
    else:
        m = dims[0] * dims[-1] if route == "reduced" else n
        eig, how = COST_MPMATH * m**3 * max(1.0, dps / 50) ** 0.75, f"mpmath Jacobi on {m} x {m}"
    total = build + rank + eig
    return total, (f"{n} x {n} {what} with entries of about {bits} bits: build ~{build:.2g} s, "
                   f"exact rank ~{rank:.2g} s, {how} ~{eig:.2g} s")


def _shape2(m: Any) -> tuple[int, int] | None:
    """The shape of a 2-D array-like without reading its entries (``None`` if unclear)."""
    shape = getattr(m, "shape", None)
    if shape is not None:
        return (int(shape[0]), int(shape[1])) if len(shape) == 2 else None
    text = (str, bytes)
    if isinstance(m, Sequence) and not isinstance(m, text) and m and isinstance(
            m[0], Sequence) and not isinstance(m[0], text):
        return len(m), len(m[0])
    return None


def _enforce_budget_from_shapes(weights: Any, data: Any, *, dps: int, certify: bool,
                                max_seconds: float) -> None:
    """Refuse before reading (and multiplying) the entries when even the smallest eigenvalue
    problem the shapes allow is over budget: ``min(P, d_0 d_L)`` without data, ``min(P, d_L)``
    with data (the factor form of a rank-1 ``X X^T``), ``min(P, d_0 d_L)`` for mpmath. Unclear
    shapes are left to the parser's messages."""
    if not isinstance(weights, Sequence) or isinstance(weights, str | bytes) or not weights:
        return
    shapes = [_shape2(w) for w in weights]
    if any(sh is None or min(sh) < 1 for sh in shapes):
        return
    rows = [sh[0] for sh in shapes if sh is not None]
    cols = [sh[1] for sh in shapes if sh is not None]
    if any(c != r for c, r in zip(cols[1:], rows[:-1], strict=True)):
        return
    d0, dl, params = cols[0], rows[-1], sum(r * c for r, c in zip(rows, cols, strict=True))
    from numeric.eigen import estimated_seconds

    if certify:
        n = min(params, d0 * dl if data is None or _shape2(data) is None else dl)
        seconds = estimated_seconds(n, dps=dps)
    else:
        n = min(params, d0 * dl)
        seconds = COST_MPMATH * n**3 * max(1.0, dps / 50) ** 0.75
    if seconds > max_seconds:
        what = (f"from the shapes alone, before reading the entries: at least a {n} x {n} "
                f"eigenvalue problem (P = {params}, d_0 = {d0}, d_L = {dl})")
        _refuse(seconds, what, certify=certify, dps=dps, max_seconds=max_seconds, alt=None)


def _enforce_budget(point: Point, route: str, *, dps: int, certify: bool,
                    max_seconds: float) -> None:
    seconds, what = estimate_exact_seconds(point, route, dps=dps, certify=certify)
    if seconds <= max_seconds:
        return
    alt = estimate_exact_seconds(point, route, dps=dps, certify=False)[0] if certify else None
    _refuse(seconds, what, certify=certify, dps=dps, max_seconds=max_seconds, alt=alt)


def _refuse(seconds: float, what: str, *, certify: bool, dps: int, max_seconds: float,
            alt: float | None) -> None:
    ways = ["float64=True (command line: --float64; approximate float64, dense or Lanczos: "
            "seconds)"]
    if alt is not None and alt <= max_seconds:
        ways.append(f"certify=False (--no-certify; approximate mpmath at dps={dps}, "
                    f"predicted ~{alt:.2g} s)")
    ways.append("a larger max_seconds (None: no limit) to run it anyway")
    kind = "certified" if certify else "exact mpmath"
    about = "at least" if what.startswith("from the shapes") else "about"
    raise BudgetExceededError(
        f"the {kind} sharpness is predicted to take {about} {seconds:.2g} s, over max_seconds="
        f"{max_seconds:g} (estimate: {what}; model: numeric.sharpness.estimate_exact_seconds); use "
        + ", or ".join(ways)
    )


# --------------------------------------------------------------------------- float64 range
class Float64RangeError(TooLargeError):
    """``float64=True`` refused: the point's numbers (or the products the Hessian is made of)
    overflow or underflow float64, so the approximate answer would be wrong (``inf``, ``nan``,
    ``0.0``). The exact route (``float64=False``, certified) has no range limit."""


_EXACT_ROUTE = ("use the exact route instead (float64=False, the default: certified; on the "
                "command line, drop --float64), which has no range limit")


def _log2_norm(m: np.ndarray) -> float:
    """``log2 ||m||_F`` without overflow or underflow (``-inf`` for a zero matrix)."""
    big = float(np.max(np.abs(m))) if m.size else 0.0
    if big == 0.0:
        return -math.inf
    return math.log2(big) + math.log2(float(np.linalg.norm(m / big)))


def _check_float64_range(ws: list[np.ndarray], x: np.ndarray | None, y: np.ndarray | None) -> None:
    """Refuse (``Float64RangeError``) before computing when float64 cannot hold the numbers the
    Hessian is made of (docs/mathematics.md K1), bounded by products of Frobenius norms in
    ``log2``: every contiguous chain ``W_j...W_i``, ``F X``, ``R``, ``R X^T``, the Gauss-Newton
    entries ``||A_k|| ||A_l|| ||B_k X|| ||B_l X||`` and the residual-term entries ``||B_k X||
    ||R|| ||A_l|| ||W_{l-1}...W_{k+1}||``. Overflow: the largest exceeds ``2^1024 /
    (size margin)``. Underflow: the Hessian's entries are all below ``2^-969`` (subnormal: no
    relative accuracy) without being exactly 0."""
    logs = [_log2_norm(w) for w in ws]
    depth = len(ws)
    lx = 0.0 if x is None else _log2_norm(x)
    ly = -math.inf if y is None else _log2_norm(y)
    terms: list[tuple[float, str]] = []
    for i in range(depth):
        for j in range(i + 1, depth + 1):
            name = f"W_{i + 1}" if j == i + 1 else f"W_{j}...W_{i + 1}"
            terms.append((sum(logs[i:j]), f"the product {name}"))
    fx = sum(logs) + lx
    r = fx if ly == -math.inf else max(fx, ly) + 1.0
    terms += [(fx, "the product W_L...W_1 X"), (ly, "the target"), (r, "the residual R"),
              (r + lx, "R X^T")]
    a = [sum(logs[l + 1 :]) for l in range(depth)]  # ||A_l||, 0-based layer l
    b = [sum(logs[:l]) + lx for l in range(depth)]  # ||B_l X||
    hessian: list[tuple[float, str]] = []
    for k in range(depth):
        for l in range(k, depth):
            hessian.append((a[k] + a[l] + b[k] + b[l],
                            f"the Gauss-Newton block of layers {k + 1}, {l + 1}"))
            if k < l:
                hessian.append((b[k] + r + a[l] + sum(logs[k + 1 : l]),
                                f"the residual-term block of layers {k + 1}, {l + 1}"))
    terms += hessian
    size = math.log2(max(sum(w.size for w in ws), *(max(w.shape) for w in ws), 2)) + 8
    top, what = max(terms, key=lambda t: t[0])
    norms = ", ".join(f"||W_{l}||_F ~ {_pow2_str(v)}" for l, v in enumerate(logs, start=1))
    if top > 1024 - size:
        raise Float64RangeError(
            f"float64 would overflow: {what} reaches about {_pow2_str(top)}, beyond float64's "
            f"largest number 1.8e308 (layer norms: {norms}); {_EXACT_ROUTE}"
        )
    scale, what = max(hessian, key=lambda t: t[0]) if hessian else (-math.inf, "")
    if -math.inf < scale < -1022 + 53:
        raise Float64RangeError(
            f"float64 would underflow: every Hessian entry is below about {_pow2_str(scale)} "
            f"(largest: {what}), where float64 keeps no relative accuracy (layer norms: "
            f"{norms}); {_EXACT_ROUTE}"
        )


def _pow2_str(log2_value: float) -> str:
    """``2^log2_value`` as ``1e616``-style text (no overflow)."""
    if log2_value == -math.inf:
        return "0"
    exponent = log2_value * math.log10(2)
    e = math.floor(exponent)
    mantissa = round(10 ** (exponent - e), 1)
    if mantissa >= 10:
        mantissa, e = mantissa / 10, e + 1
    return f"{mantissa:.1f}e{e}"


def _exact_to_float64(name: str, m: np.ndarray) -> np.ndarray:
    """An exact (``Fraction``) matrix rounded to float64, refused when an entry overflows or a
    nonzero entry underflows to 0."""
    out = np.empty(m.shape, dtype=np.float64)
    for (i, j), q in np.ndenumerate(m):
        try:
            v = float(q)
        except OverflowError:
            v = math.inf
        if math.isinf(v) or (v == 0.0 and q != 0):
            kind = "overflows" if math.isinf(v) else "underflows to 0 in"
            raise Float64RangeError(
                f"{name}[{i}, {j}] = {_fraction_size(q)} {kind} float64 (range about "
                f"2.2e-308 to 1.8e308); {_EXACT_ROUTE}"
            )
        out[i, j] = v
    return out


def _fraction_size(q: Any) -> str:
    f = Fraction(q)
    log2_abs = math.log2(abs(f.numerator)) - math.log2(f.denominator)
    return f"{'-' if f < 0 else ''}~{_pow2_str(log2_abs)}"


# --------------------------------------------------------------------------- input
def _is_float_array(a: Any) -> bool:
    return isinstance(a, np.ndarray) and a.ndim == 2 and a.dtype.kind in "fiu"


def _fast_float_input(
    weights: Sequence[Any], target: Any, data: Any, labels: Any
) -> tuple[list[np.ndarray], np.ndarray | None, np.ndarray | None, np.ndarray | None] | None:
    """NumPy float/int arrays only: validate shapes (``check_chain``) and finiteness without
    building exact rationals. Returns ``None`` when the input needs the exact parser."""
    if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence) or not weights:
        return None
    if not all(_is_float_array(w) for w in weights):
        return None
    others = [target, data, labels]
    if any(o is not None and not _is_float_array(o) for o in others):
        return None
    ws = [np.asarray(w, dtype=np.float64) for w in weights]
    t, x, y = (None if o is None else np.asarray(o, dtype=np.float64) for o in others)
    check_chain(
        [w.shape for w in ws],
        target_shape=None if t is None else t.shape,
        data_shape=None if x is None else x.shape,
        labels_shape=None if y is None else y.shape,
    )
    named = [(f"W_{l}", w) for l, w in enumerate(ws, start=1)]
    named += [(n, m) for n, m in (("target M", t), ("data X", x), ("labels Y", y)) if m is not None]
    for name, m in named:
        if m.size == 0:
            from derivations.errors import EmptyInputError

            raise EmptyInputError(f"{name} is empty (shape {m.shape}); every dimension must be >= 1")
        if not np.all(np.isfinite(m)):
            i, j = (int(k) for k in np.argwhere(~np.isfinite(m))[0])
            raise NonFiniteError(f"{name}[{i}, {j}] is {m[i, j]!r}; every entry must be finite")
    return ws, t, x, y


def _dyadic(m: np.ndarray) -> tuple[Any, int]:
    """A float64 matrix exactly as ``fmpz_mat * 2^e`` (a float64 is a binary rational)."""
    from flint import fmpz_mat

    mant, expo = np.frexp(m)
    ints = (mant * 2.0**53).astype(np.int64)
    expo = expo.astype(np.int64) - 53
    nz = ints != 0
    e0 = int(expo[nz].min()) if np.any(nz) else 0
    shift = np.where(nz, expo - e0, 0)
    entries = [int(a) << int(s) for a, s in zip(ints.flat, shift.flat, strict=True)]
    return fmpz_mat(m.shape[0], m.shape[1], entries), e0


def _dyadic_mul(a: tuple[Any, int], b: tuple[Any, int]) -> tuple[Any, int]:
    return a[0] * b[0], a[1] + b[1]


def _dyadic_equal(a: tuple[Any, int], b: tuple[Any, int]) -> bool:
    (ma, ea), (mb, eb) = a, b
    if ea >= eb:
        return bool(ma * (2 ** (ea - eb)) == mb)
    return bool(mb * (2 ** (eb - ea)) == ma)


def _float_is_minimizer(
    ws: list[np.ndarray], t: np.ndarray | None, x: np.ndarray | None, y: np.ndarray | None
) -> bool:
    """Exactly whether ``R X^T = 0`` for float64 input (its exact binary-rational values), via
    integer matrices (python-flint ``fmpz_mat``)."""
    if (x is None and t is None) or (x is not None and y is None):
        return True  # target/labels default to the exact product
    f = _dyadic(ws[0])
    for w in ws[1:]:
        f = _dyadic_mul(_dyadic(w), f)
    if x is None:
        assert t is not None
        return _dyadic_equal(f, _dyadic(t))
    assert y is not None
    xd = _dyadic(x)
    xt = (xd[0].transpose(), xd[1])
    return _dyadic_equal(_dyadic_mul(_dyadic_mul(f, xd), xt), _dyadic_mul(_dyadic(y), xt))


# --------------------------------------------------------------------------- the API
def _weights_from_module(weights: Any) -> Any:
    """A ``torch.nn.Sequential`` of bias-free ``nn.Linear`` layers (or one such layer) -> its
    weights as float64 arrays, ``W_1`` first (as ``numeric.adapters.torch.from_sequential``,
    which this mathematics module may not import); any other object unchanged. torch is looked
    up in ``sys.modules`` only: a caller holding a torch module has imported torch already, and
    nobody else pays for importing it."""
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(weights, torch.nn.Module):
        return weights
    from derivations.errors import ShapeError

    modules = list(weights) if isinstance(weights, torch.nn.Sequential) else [weights]
    out = []
    for i, m in enumerate(modules):
        if not isinstance(m, torch.nn.Linear):
            raise ShapeError(f"module {i} is {type(m).__name__}; a deep linear network has only "
                             "bias-free nn.Linear layers")
        if m.bias is not None:
            raise ShapeError(f"layer {i + 1} has a bias; deep matrix factorization has none "
                             "(nn.Linear(..., bias=False))")
        out.append(m.weight.detach().to(torch.float64).cpu().numpy().copy())
    if not out:
        raise ShapeError("the torch model has no layers")
    return out


def _transposed(m: Any, name: str, layout: str) -> Any:
    """A samples-first matrix (``N x d``: list of rows, NumPy array, torch/JAX array)
    transposed to docs/mathematics.md's ``d x N``; exact entries stay exact."""
    if hasattr(m, "detach"):  # a torch tensor
        m = m.detach().cpu().numpy()
    arr = np.asarray(m) if isinstance(m, np.ndarray) or hasattr(m, "__array__") else None
    if arr is None or arr.dtype.kind not in "fiu":
        try:
            arr = np.array(m, dtype=object)
        except ValueError:
            arr = None
    if arr is None or arr.ndim != 2:
        from derivations.errors import ShapeError

        raise ShapeError(f"{name} must be a 2-D {layout} matrix (one sample per row); got "
                         f"{type(m).__name__}"
                         + ("" if arr is None else f" with {arr.ndim} dimension(s)"))
    return arr.T


def _samples_first(data: Any, labels: Any, inputs: Any, targets: Any) -> tuple[Any, Any]:
    """``(data, labels)`` in docs/mathematics.md's layout from either pair (mutually exclusive)."""
    if inputs is None and targets is None:
        return data, labels
    if data is not None or labels is not None:
        raise DmfError(
            "give either data/labels (d_0 x N, d_L x N: one sample per column) or inputs/targets "
            "(N x d_0, N x d_L: one sample per row, as in PyTorch and JAX), not both"
        )
    if inputs is None:
        raise DmfError("targets (N x d_L) needs inputs (N x d_0): labels are outputs for data")
    x = _transposed(inputs, "inputs", "N x d_0")
    y = None if targets is None else _transposed(targets, "targets", "N x d_L")
    return x, y


def _check_options(dps: int, loss: str, route: str) -> None:
    if isinstance(dps, bool) or not isinstance(dps, int) or not MIN_DPS <= dps <= MAX_DPS:
        raise DmfError(f"dps must be an integer in [{MIN_DPS}, {MAX_DPS}]; got {dps!r}")
    if loss not in LOSSES:
        raise DmfError(f"unknown loss convention {loss!r}; expected one of {sorted(LOSSES)}")
    if route not in ("auto", "reduced", "full"):
        raise DmfError(f"route must be 'auto', 'reduced' or 'full'; got {route!r}")


def _choose_route(route: str, at_min: bool, require_minimizer: bool, residual: Any) -> str:
    if (require_minimizer or route == "reduced") and not at_min:
        raise NotAMinimizerError(
            f"the point is not a global minimizer with R X^T = 0 (residual norm {residual}); "
            "the reduced operator K applies only there -- use route='auto' or 'full'"
        )
    if route == "auto":
        return "reduced" if at_min else "full"
    return route


def sharpness(
    weights: Sequence[Any],
    target: Any = None,
    *,
    data: Any = None,
    labels: Any = None,
    dps: int = 50,
    certify: bool = True,
    float64: bool = False,
    loss: str = "half-sum",
    spectrum: bool = False,
    route: str = "auto",
    require_minimizer: bool = False,
    inputs: Any = None,
    targets: Any = None,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
) -> SharpnessResult:
    """The sharpness ``lambda_max`` of the Hessian of the squared loss at ``weights``.

    ``weights``: ``[W_1, ..., W_L]`` (``W_l`` is ``d_l x d_{l-1}``), each a 2-D array-like of
    ints, Fractions, decimal or ``"p/q"`` strings, or floats (taken as the exact binary
    rationals they are). ``target=None`` (or, with ``data``, ``labels=None``) means the product
    of the weights: the point is then a global minimizer. ``route="auto"`` uses the reduced
    operator exactly when ``R X^T = 0`` and the full Hessian otherwise; ``"reduced"`` and
    ``require_minimizer=True`` raise ``NotAMinimizerError`` away from minimizers; ``"full"``
    forces the full Hessian (an independent check of the reduced route).
    ``weights`` may also be a ``torch.nn.Sequential`` of bias-free ``nn.Linear`` layers (their
    float64 weights, as ``numeric.adapters.torch.from_sequential`` reads them; torch is never
    imported by this module).

    **Data layout.** ``data`` ``X`` is ``d_0 x N`` and ``labels`` ``Y`` is ``d_L x N``, one
    sample per *column*, as in docs/mathematics.md. ``inputs`` (``N x d_0``) and ``targets``
    (``N x d_L``) take the samples-first layout of PyTorch and JAX (one sample per *row*):
    ``inputs=A, targets=B`` is ``data=A^T, labels=B^T``. The two pairs are mutually exclusive
    (a square ``N = d_0`` matrix would otherwise be read in the wrong layout silently).

    **Budget.** ``max_seconds`` (default ``DEFAULT_MAX_SECONDS``; ``None``: no limit) bounds the
    *predicted* time of the exact work (``estimate_exact_seconds``: operator size, entry bit
    sizes, dps); a prediction above it raises ``BudgetExceededError`` at once, naming the
    estimate and the way out (``float64=True``, ``certify=False`` when that fits, or a larger
    ``max_seconds``). ``float64=True`` has no budget (Lanczos, seconds).
    See the module docstring for modes and loss conventions.
    """
    _check_options(dps, loss, route)
    _check_budget_option(max_seconds)
    start = time.perf_counter()
    weights = _weights_from_module(weights)
    data, labels = _samples_first(data, labels, inputs, targets)
    if not float64 and max_seconds is not None:
        _enforce_budget_from_shapes(weights, data, dps=dps, certify=certify,
                                    max_seconds=max_seconds)
    fast = _fast_float_input(weights, target, data, labels) if float64 else None
    if fast is not None:
        ws, t, x, y = fast
        _check_float64_range(ws, x, t if x is None else y)
        at_min = _float_is_minimizer(ws, t, x, y)
        from numeric.factors import product

        f = product(ws)
        fx = f if x is None else f @ x
        y_eff = (fx if t is None else t) if x is None else (fx if y is None else y)
        residual_norm: Any = float(np.linalg.norm(fx - y_eff))
        dims = check_chain([w.shape for w in ws])
        params = sum(w.size for w in ws)
        n_samples = dims[0] if x is None else x.shape[1]
        chosen = _choose_route(route, at_min, require_minimizer, residual_norm)
        spec = _mode_float64(ws, x, y_eff, chosen, spectrum)
    else:
        point = parse_point(weights, target, data=data, labels=labels)
        dims, params = point.dims, point.num_params
        n_samples = dims[0] if point.data is None else point.data.shape[1]
        at_min = point.is_minimizer()
        r2 = sum((q * q for q in point.residual().flat), Fraction(0))
        with mpmath.workdps(dps):
            residual_norm = mpmath.sqrt(mpmath.mpf(r2.numerator) / r2.denominator)
        chosen = _choose_route(route, at_min, require_minimizer, mpmath.nstr(residual_norm, 5))
        if not float64 and max_seconds is not None:
            _enforce_budget(point, chosen, dps=dps, certify=certify, max_seconds=max_seconds)
        if float64:
            ew, ex, ey = point_arrays(point, "exact")
            fw = [_exact_to_float64(f"W_{l}", w) for l, w in enumerate(ew, start=1)]
            fx_ = None if ex is None else _exact_to_float64("data X", ex)
            y_name = "labels Y" if ex is not None else "target M (the product when none is given)"
            fy = _exact_to_float64(y_name, ey)
            _check_float64_range(fw, fx_, fy)
            residual_norm = float(residual_norm)
            spec = _mode_float64(fw, fx_, fy, chosen, spectrum)
        else:
            spec = _mode_exact(point, chosen, dps, certify)
    if float64 and not all(math.isfinite(float(e.value)) for e in (spec.evs[0], spec.lambda_min)
                            if e is not None):
        raise Float64RangeError(  # a last guard: the range check above should prevent it
            f"float64 produced a non-finite eigenvalue ({spec.evs[0].value}); {_EXACT_ROUTE}"
        )
    factor, formula = loss_factor(loss, n_samples=n_samples, d_out=dims[-1])
    spec = _scale(spec, factor, None if float64 else dps)
    return _result(
        spec,
        route=chosen,
        at_min=at_min,
        residual_norm=residual_norm,
        loss=(loss, formula, factor),
        dims=tuple(dims),
        params=params,
        dps=None if float64 else dps,
        want_spectrum=spectrum,
        seconds=time.perf_counter() - start,
    )


def _result(
    spec: _Spectrum,
    *,
    route: str,
    at_min: bool,
    residual_norm: Any,
    loss: tuple[str, str, Fraction],
    dims: tuple[int, ...],
    params: int,
    dps: int | None,
    want_spectrum: bool,
    seconds: float,
) -> SharpnessResult:
    evs = spec.evs
    top = evs[0]
    runs = _runs(evs)  # the P - rank padded zeros are one run: O(rank) work, not O(P)
    mult = sum(count for e, count in runs if _same(e, top, spec.tol))
    nxt = next((e for e, _ in runs if not _same(e, top, spec.tol)), None)
    if nxt is None and not spec.complete and spec.lambda_min is not None:
        nxt = None if _same(spec.lambda_min, top, spec.tol) else spec.lambda_min
    gap = None if nxt is None else _sub(top, nxt, dps)
    low = spec.lambda_min
    dominated = None if low is None else _dominance(top, low, spec.tol)
    if low is None and spec.lambda_min_bound is not None and spec.lambda_min_bound < top.value:
        dominated = False  # lambda_min >= -bound > -lambda_max
    largest = top if (low is None or not dominated) else low
    method = spec.method
    if spec.secondary:
        method += f"; {spec.secondary}"
    if not spec.complete:
        method += f"; only the top {len(evs)} eigenvalues computed (multiplicity is a lower bound)"
    nonzero = [e for e in evs if not _is_exact_zero(e)] if want_spectrum else []
    with_enc = top.enc is not None
    return SharpnessResult(
        value=top.value,
        enclosure=top.enc,
        certified=with_enc,
        route=route,
        at_minimizer=at_min,
        residual_norm=residual_norm,
        loss=loss[1],
        loss_factor=loss[2],
        dims=dims,
        parameters=params,
        lambda_min=None if low is None else low.value,
        largest_magnitude=largest.value,
        multiplicity=mult,
        gap=None if gap is None else gap.value,
        spectrum=[e.value for e in nonzero] if want_spectrum and spec.complete else None,
        zero_multiplicity=spec.zero_multiplicity if want_spectrum else None,
        method=method,
        dps=dps,
        loss_convention=loss[0],
        lambda_min_enclosure=None if low is None else low.enc,
        gap_enclosure=None if gap is None else gap.enc,
        spectrum_enclosures=[e.enc for e in nonzero] if want_spectrum and with_enc else None,
        largest_magnitude_is_lambda_min=dominated,
        seconds=seconds,
        secondary=spec.secondary,
        operator_size=spec.operator_size,
    )


def _runs(evs: list[_Ev]) -> list[tuple[_Ev, int]]:
    """Consecutive repeats of the *same object* collapsed to ``(ev, count)``."""
    groups = (list(g) for _, g in itertools.groupby(evs, key=id))
    return [(group[0], len(group)) for group in groups]


def _is_exact_zero(e: _Ev) -> bool:
    if e.enc is not None:
        return bool(e.enc.lo == 0 and e.enc.hi == 0)
    return bool(e.value == 0)
