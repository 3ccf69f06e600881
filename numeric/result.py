"""The oracle's result: ``SharpnessResult`` (``lambda_max`` with how it was obtained, the secondary quantities, the loss convention, the JSON document), how its numbers are printed (only the digits an enclosure proves), and the eigenvalue lists the modes of ``numeric.sharpness`` fill in.

Public:
    SharpnessResult     what ``numeric.sharpness.sharpness`` returns
    magnitude_note      a note when lambda_max is huge or tiny against float64
    LOSSES, loss_factor the loss conventions and their exact Hessian factors
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal
from fractions import Fraction
from typing import Any

import mpmath

from derivations.errors import (
    DmfError,
)

__all__ = [
    "LOSSES",
    "SharpnessResult",
    "loss_factor",
    "magnitude_note",
]

_NORM = "||W_L...W_1 X - Y||_F^2"
LOSSES: dict[str, str] = {
    "half-sum": f"0.5*{_NORM}",
    "sum": _NORM,
    "mean": f"(1/N)*{_NORM}",
    "mse": f"(1/(d_L*N))*{_NORM}",
}
"""Loss convention name -> its formula (``N`` samples; ``N = d_0`` when ``X = I``)."""


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


def _runs(evs: list[_Ev]) -> list[tuple[_Ev, int]]:
    """Consecutive repeats of the *same object* collapsed to ``(ev, count)``.

    At a minimizer the list ends with ``P - rank`` copies of one exact zero (``_pad_reduced``),
    a million of them for a wide network: that tail is counted by C-level list operations
    (``list.count`` and ``==`` short-circuit on identical objects), so the work in Python is
    O(rank), not O(P). (Entries of the tail that are equal without being identical are merged
    into it; every count the callers take, multiplicities by value, is unchanged.)"""
    tail = 0
    if len(evs) > 1:
        last = evs[-1]
        k = evs.count(last)
        if k > 1 and evs[-k:] == [last] * k:
            tail = k
    head = evs[: len(evs) - tail]
    out = [(group[0], len(group)) for group in
           (list(g) for _, g in itertools.groupby(head, key=id))]
    if tail:
        if out and out[-1][0] is evs[-1]:
            out[-1] = (evs[-1], out[-1][1] + tail)
        else:
            out.append((evs[-1], tail))
    return out


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
    evs: list[_Ev] = []
    for e, count in _runs(spec.evs):  # a run of one object stays one object (O(rank) work)
        evs.extend([one(e)] * count)
    return dataclasses.replace(
        spec, evs=evs, lambda_min=lam_min, tol=spec.tol * float(c),
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
