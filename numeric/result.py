"""The oracle's result: ``SharpnessResult`` (``lambda_max`` with how it was obtained, the secondary quantities, the loss convention, the JSON document), how its numbers are printed (only the digits an enclosure proves), the exact answers (``ExactValue``), and the eigenvalue lists the modes of ``numeric.sharpness`` fill in.

Public:
    SharpnessResult     what ``numeric.sharpness.sharpness`` returns; ``status``, ``to_json()``
                        (the one JSON document of the API and of ``dmf-sharpness oracle``)
    ExactValue          lambda_max as a real algebraic number: minimal polynomial, which real
                        root, isolating interval, radicals (degree <= 4), rational value
    EXACT_LIMIT         the largest operator whose lambda_max is given exactly
    as_mpf, as_float    an enclosure's endpoints rounded outward to mpf / float64
    poly_text           an integer polynomial in SymPy's syntax (any coefficient size)
    magnitude_note      a note when lambda_max is huge or tiny against float64
    LOSSES, loss_factor the loss conventions and their exact Hessian factors (defined in
                        numeric.loss_conventions)
    parse_weight_decay  the weight decay ``lam >= 0`` read exactly (one line when refused)
    decay_formula       a loss formula with `` + (lam/2)*sum_l ||W_l||_F^2`` when ``lam > 0``

**Weight decay** (docs/mathematics.md K8). ``L_lam = L + (lam/2) sum_l ||W_l||_F^2`` has the
Hessian ``c H_0 + lam I`` (``c`` the loss factor: the data term scales, the decay term does not;
PyTorch's ``SGD(weight_decay=lam)`` adds ``lam W`` to the gradient, the gradient of
``(lam/2) ||W||^2``). So every eigenvalue of ``c H_0`` moves by exactly ``lam``: ``_shift`` adds
the rational ``lam`` to each value and to both endpoints of each enclosure (still proven), run
by run like ``_scale``. ``zero_multiplicity`` stays that of ``H_0``: with ``lam > 0`` it counts
the eigenvalue ``lam`` of the Hessian coming from ``H_0``'s kernel, and ``spectrum`` lists the
other eigenvalues (so ``spectrum`` plus ``zero_multiplicity`` copies of ``lam`` is the whole
spectrum, kept O(rank) at wide minimizers).

**Exact answers.** The Hessian's lambda_max is the largest root of ``det(x I - A)`` for the
exact rational operator ``A`` of the route (the full Hessian, or at a minimizer the reduced
operator, whose nonzero spectrum is the Hessian's: docs/mathematics.md K1, K2), times the loss
factor. ``sharpness(..., exact=True)`` gives it as an ``AlgebraicNumber``
(``derivations.algebraic.exact_lambda_max``). Without ``exact=True`` a rational lambda_max is
still proven when cheap: the first continued-fraction convergent ``p/q`` of the enclosure's
midpoint lying inside the enclosure (when ``q^4 width <= 1``; a rational ``lambda_max`` with
``q^2 width < 1`` is that convergent, by Legendre's theorem) is checked exactly: ``p/q`` is
lambda_max with multiplicity ``m`` iff ``det(x I - A) = (x - p/q)^m g(x)`` with ``g(p/q) != 0``
and ``g(x + p/q)`` without sign changes in its coefficients (all roots are real, so by
Descartes' rule ``g`` then has no root above ``p/q``).
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
    TooLargeError,
)
from numeric.loss_conventions import LOSSES, loss_factor

__all__ = [
    "EXACT_LIMIT",
    "LOSSES",
    "ExactValue",
    "SharpnessResult",
    "as_float",
    "as_mpf",
    "decay_formula",
    "loss_factor",
    "magnitude_note",
    "parse_weight_decay",
    "poly_text",
]

EXACT_LIMIT = 64
"""``exact=True`` and the rational check of the default mode work on operators of size
``n <= EXACT_LIMIT`` (FLINT's characteristic polynomial and factorization of a 64 x 64 rational
matrix of float64 entries: about 0.1 s)."""

def parse_weight_decay(value: Any) -> Fraction:
    """The weight decay ``lam`` read exactly like every input number (``int``, ``Fraction``,
    ``"p/q"``, a decimal string, a float as the binary rational it is); negative refused.

    >>> parse_weight_decay("1/3"), parse_weight_decay("0.25"), parse_weight_decay(0)
    (Fraction(1, 3), Fraction(1, 4), Fraction(0, 1))
    """
    from derivations.exact import parse_entry

    lam = parse_entry(value, "weight_decay")
    if lam < 0:
        raise DmfError(f"weight_decay must be >= 0 (the coefficient lam of (lam/2)*sum_l "
                       f"||W_l||_F^2); got {lam}")
    return lam


def decay_formula(formula: str, lam: Fraction) -> str:
    """The loss formula with the weight-decay term when ``lam > 0``.

    >>> decay_formula(LOSSES["sum"], Fraction(1, 3))
    '||W_L...W_1 X - Y||_F^2 + (lam/2)*sum_l ||W_l||_F^2'
    """
    return formula if lam == 0 else f"{formula} + (lam/2)*sum_l ||W_l||_F^2"


# --------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class SharpnessResult:
    """The sharpness at a point and how it was obtained.

    Eigenvalues are those of the Hessian of the chosen ``loss`` (``loss_factor`` applied).
    ``value`` is an ``mpf`` at ``dps`` digits (the rational value when proven rational, else
    the enclosure midpoint when certified), or a ``float`` in float64 mode (``mpmath.mpf`` of it
    is exact); ``float(result)`` is the value as a float in every mode. ``status`` is
    ``exact`` (``exact`` given, or the enclosure is a single point), ``certified`` or
    ``approximate``; ``str()``, ``to_json()`` and the oracle command all use it. ``exact`` is an
    ``ExactValue`` with ``exact=True``, else ``None``. Enclosures are ``numeric.eigen.Enclosure`` (exact ``Fraction``
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
    exact: ExactValue | None = None
    """lambda_max as an algebraic number (``sharpness(..., exact=True)``), else ``None``."""
    weight_decay: Fraction = Fraction(0)
    """``lam`` of the loss's term ``(lam/2) sum_l ||W_l||_F^2`` (module's "Weight decay"): every
    eigenvalue is that of ``loss_factor * H_0`` plus ``lam``."""

    @property
    def status(self) -> str:
        """``exact``, ``certified`` or ``approximate``: how ``lambda_max`` was obtained."""
        enc = self.enclosure
        if self.exact is not None or (enc is not None and enc.lo == enc.hi):
            return "exact"
        return "certified" if self.certified else "approximate"

    def __float__(self) -> float:
        return float(self.value)

    def _fmt(self, x: Any) -> str:
        if x is None:
            return "n/a"
        if isinstance(x, mpmath.mpf) and self.dps is not None:
            return str(mpmath.nstr(x, self.dps))
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
        status = self.status
        if status == "exact" and self.exact is not None:
            status = f"exact: {self.exact.describe()}"
        elif status == "exact":
            status = f"exact: lambda_max = {self.enclosure.lo}"
        elif status == "certified":
            lo, hi = _enclosure_strings(self.enclosure, self.dps or 50)
            status = f"certified: lambda_max in [{lo}, {hi}]"
        elif not self.method.startswith("approximate"):
            status = f"approximate: {self.method}"
        else:
            status = self.method
        where = "at a minimizer (R X^T = 0)" if self.at_minimizer else "not a minimizer"
        if self.weight_decay:
            where += " of the loss without decay"
        lines = [
            f"lambda_max = {self._fmt(self.value)}  [{status}]",
            f"route: {self.route}; {where}; residual norm {self._fmt(self.residual_norm)}",
            f"loss: {self.loss} (Hessian factor {self.loss_factor} relative to docs/mathematics.md's 1/2"
            + (f"; weight decay lam = {self.weight_decay})" if self.weight_decay else ")"),
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
            kernel = f"lam = {self.weight_decay} (H_0's zero)" if self.weight_decay else "zero"
            lines.append(
                f"{'spectrum' if self.weight_decay else 'nonzero spectrum'} "
                f"({len(self.spectrum)} values), {kernel} with multiplicity {self.zero_multiplicity}"
            )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready document (numbers as decimal strings), the same for the API and for
        ``dmf-sharpness oracle --json`` (which adds only ``input``; README "The oracle
        command"). The oracle's stable fields come first (``lambda_max``, ``enclosure``,
        ``certified``, ``route``, ``at_minimizer``, ``residual_norm``, ``loss``, ``dims``,
        ``parameters``, ``spectrum``), then ``status`` (exact/certified/approximate) and
        ``exact`` (``ExactValue.to_json()`` or ``None``), then the loss convention, its factor
        and ``weight_decay`` (``"0"`` without decay), then the secondary quantities."""
        digits = self.dps or 17
        value = float(self.value) if self.dps is None else self.value  # float64: its repr
        out: dict[str, Any] = {
            "lambda_max": _num_string(value, digits),
            "enclosure": None
            if self.enclosure is None
            else list(_enclosure_strings(self.enclosure, digits)),
            "certified": self.certified,
            "route": self.route,
            "at_minimizer": self.at_minimizer,
            "residual_norm": _num_string(self.residual_norm, digits),
            "loss": self.loss,
            "dims": list(self.dims),
            "parameters": self.parameters,
        }
        if self.spectrum is not None:
            encs = self.spectrum_enclosures or [None] * len(self.spectrum)
            out["spectrum"] = [_num_string(x, digits, e) for x, e in zip(self.spectrum, encs,
                                                                         strict=True)]
        out |= {
            "status": self.status,
            "exact": None if self.exact is None else self.exact.to_json(),
            "loss_convention": self.loss_convention,
            "loss_factor": str(self.loss_factor),
            "weight_decay": str(self.weight_decay),
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


# --------------------------------------------------------------------------- exact answers
@dataclass(frozen=True)
class ExactValue:
    """lambda_max as a real algebraic number: ``minimal_polynomial`` (SymPy syntax, primitive
    integer coefficients), ``root`` (which of its real roots: ``"largest real root"``, or
    ``"real root k of n (ascending, from 0)"``), ``isolating_interval`` (exact rationals ``lo``,
    ``hi`` containing no other root), ``radicals`` (SymPy's real radical formula when the degree
    is <= 4 and one without ``I`` exists, else ``None``) and ``rational`` (``"p/q"`` or ``None``).
    All of it is computed from the minimal polynomial, never from user text.

    >>> from derivations.algebraic import AlgebraicNumber
    >>> e = ExactValue.of(AlgebraicNumber.real_root([8, -7, 1], 1))
    >>> e.minimal_polynomial, e.root, e.radicals, e.rational
    ('x**2 - 7*x + 8', 'largest real root', 'sqrt(17)/2 + 7/2', None)
    >>> ExactValue.of(AlgebraicNumber.rational("25/4")).to_json()["rational"]
    '25/4'
    """

    minimal_polynomial: str
    root: str
    isolating_interval: tuple[str, str]
    radicals: str | None
    rational: str | None
    degree: int
    number: Any = field(default=None, compare=False, repr=False)
    """The ``derivations.algebraic.AlgebraicNumber`` itself (exact comparison, refinement)."""

    @classmethod
    def of(cls, a: Any) -> ExactValue:
        """The exact description of the ``AlgebraicNumber`` ``a``."""
        lo, hi = a.interval.lo, a.interval.hi  # before anything refines it
        text = poly_text(a.poly)
        if a.is_rational:
            q = _q_text(a.as_fraction())
            return cls(text, "the only root", (q, q), q, q, 1, a)
        index, n_real = _root_index(a.poly, lo, hi)
        root = ("largest real root" if index == n_real - 1
                else f"real root {index} of {n_real} (ascending, from 0)")
        return cls(text, root, (_q_text(lo), _q_text(hi)), _radicals(a), None, a.degree, a)

    def to_json(self) -> dict[str, Any]:
        return {
            "minimal_polynomial": self.minimal_polynomial,
            "root": self.root,
            "isolating_interval": list(self.isolating_interval),
            "radicals": self.radicals,
            "rational": self.rational,
        }

    def describe(self, *, max_chars: int = 160) -> str:
        """One line: the rational value, or the radicals and the polynomial's root (a minimal
        polynomial longer than ``max_chars`` is named by its degree only)."""
        if self.rational is not None:
            return f"lambda_max = {self.rational}"
        where = f"the {self.root} of {self.polynomial_text(max_chars=max_chars)}"
        return f"lambda_max = {self.radicals}, {where}" if self.radicals else f"lambda_max is {where}"

    def polynomial_text(self, *, max_chars: int = 160) -> str:
        """The minimal polynomial, or, when longer than ``max_chars``, its degree and length
        (the whole of it is ``minimal_polynomial``, and in the JSON document)."""
        if len(self.minimal_polynomial) <= max_chars:
            return self.minimal_polynomial
        return (f"its minimal polynomial (degree {self.degree}, {len(self.minimal_polynomial)} "
                "characters: see minimal_polynomial / --json)")


def poly_text(f: Any) -> str:
    """An integer polynomial (python-flint ``fmpz_poly``) in SymPy's syntax, highest degree
    first, as ``str(sympy.Poly(...).as_expr())`` prints it when the leading coefficient is
    positive (as for minimal polynomials); coefficients of any size (FLINT's
    own decimal conversion, not Python's ``int`` one, which refuses more than 4300 digits).

    >>> from flint import fmpz_poly
    >>> poly_text(fmpz_poly([8, -7, 1])), poly_text(fmpz_poly([-25, 4])), poly_text(fmpz_poly([0, -1, 0, 2]))
    ('x**2 - 7*x + 8', '4*x - 25', '2*x**3 - x')
    """
    coeffs = f.coeffs()
    out = ""
    for k in range(len(coeffs) - 1, -1, -1):
        c = coeffs[k]
        if c == 0:
            continue
        mono = "" if k == 0 else "x" if k == 1 else f"x**{k}"
        mag = str(abs(c))
        body = mag if k == 0 else mono if mag == "1" else f"{mag}*{mono}"
        if not out:
            out = f"-{body}" if c < 0 else body
        else:
            out += f" - {body}" if c < 0 else f" + {body}"
    return out or "0"


def _q_text(q: Fraction) -> str:
    """``q`` as ``p/q`` (or ``p``) for numerators of any size (FLINT's decimal conversion)."""
    from flint import fmpq

    return str(fmpq(q.numerator, q.denominator))


def _root_index(f: Any, lo: Fraction, hi: Fraction) -> tuple[int, int]:
    """Which real root of the irreducible ``f`` (degree >= 2) the isolating interval
    ``[lo, hi]`` holds, counted ascending from 0, and how many real roots ``f`` has: each root
    of ``derivations.algebraic.real_roots`` is refined until its interval lies below, above or
    inside ``[lo, hi]`` (exact; the roots are distinct and irrational)."""
    from derivations.algebraic import real_roots

    roots = real_roots(f)
    below = 0
    for r in roots:
        digits = 16
        while True:
            e = r.interval
            if e.hi < lo:
                below += 1
                break
            if e.lo > hi or (lo <= e.lo and e.hi <= hi):
                break
            digits *= 2
            r.enclosure(digits)
    return below, len(roots)


def _radicals(a: Any) -> str | None:
    """``a`` in real radicals (SymPy's formulas up to quartics, from its minimal polynomial;
    the root is told apart from its conjugates by a 40-digit enclosure), or ``None`` (degree
    above 4, no formula free of ``I``, or coefficients too long to print)."""
    import sympy

    if a.degree > 4 or any(abs(c).bit_length() > 4000 for c in (int(c) for c in a.poly.coeffs())):
        return None
    x = sympy.Symbol("x")
    poly = sympy.Poly([int(c) for c in reversed(a.poly.coeffs())], x)
    enc = a.enclosure(40)
    lo = sympy.Rational(enc.lo.numerator, enc.lo.denominator)
    hi = sympy.Rational(enc.hi.numerator, enc.hi.denominator)
    for root in sympy.roots(poly, cubics=True, quartics=True):
        if root.has(sympy.I):
            continue
        v = sympy.N(root, 60)
        if v.is_real and lo <= v <= hi:
            try:
                return str(root)
            except ValueError:  # pragma: no cover - a radical with an integer over 4300 digits
                return None
    return None


def as_mpf(enc: Any, *, dps: int) -> tuple[Any, Any]:
    """An enclosure's endpoints as ``mpf`` at ``dps`` digits, rounded outward (``lo`` down,
    ``hi`` up): still an enclosure.

    >>> from derivations.intervals import Enclosure
    >>> lo, hi = as_mpf(Enclosure(Fraction(1, 3), Fraction(1, 3)), dps=10)
    >>> exact = [Fraction(*mpmath.libmp.to_rational(x._mpf_)) for x in (lo, hi)]
    >>> exact[0] < Fraction(1, 3) < exact[1]
    True
    """
    prec = int(dps * 3.3219280948873626) + 4
    lo = mpmath.libmp.from_rational(enc.lo.numerator, enc.lo.denominator, prec, "f")
    hi = mpmath.libmp.from_rational(enc.hi.numerator, enc.hi.denominator, prec, "c")
    with mpmath.workprec(prec):  # mpf() rounds a raw value to the context's precision
        return mpmath.mpf(lo), mpmath.mpf(hi)


def as_float(enc: Any) -> tuple[float, float]:
    """An enclosure's endpoints as float64, rounded outward (still an enclosure).

    >>> from derivations.intervals import Enclosure
    >>> lo, hi = as_float(Enclosure(Fraction(1, 10), Fraction(1, 10)))
    >>> lo < Fraction(1, 10) < hi, lo == 0.1 or hi == 0.1
    (True, True)
    """
    import math

    lo, hi = float(enc.lo), float(enc.hi)  # correctly rounded to nearest
    if Fraction(lo) > enc.lo:
        lo = math.nextafter(lo, -math.inf)
    if Fraction(hi) < enc.hi:
        hi = math.nextafter(hi, math.inf)
    return lo, hi


def _check_exact_size(size: int, route: str) -> None:
    """Refuse ``exact=True`` on an operator larger than ``EXACT_LIMIT``, in one line."""
    if size > EXACT_LIMIT:
        what = "P (the full Hessian)" if route == "full" else "the reduced operator's size"
        raise TooLargeError(
            f"exact=True (--exact) needs an operator of size <= {EXACT_LIMIT}; {what} is {size}; "
            "use the certified enclosure (the default) instead"
        )


def _rational_top(matrix: Any, q: Fraction) -> int:
    """The multiplicity of ``q`` as the largest eigenvalue of the rational symmetric
    ``matrix``, or 0 when ``q`` is not its largest eigenvalue (exact: see the module's "Exact
    answers")."""
    from flint import fmpq, fmpq_poly

    from derivations.algebraic import charpoly

    p = charpoly(matrix)
    shifted = p(fmpq_poly([fmpq(q.numerator, q.denominator), 1]))  # p(x + q)
    coeffs = [Fraction(int(c.p), int(c.q)) for c in shifted.coeffs()]
    m = next((k for k, c in enumerate(coeffs) if c != 0), len(coeffs))
    rest = [c for c in coeffs[m:] if c != 0]
    if m == 0 or any((c > 0) != (rest[-1] > 0) for c in rest):
        return 0
    return m


def _rational_candidate(enc: Any) -> Fraction | None:
    """The first continued-fraction convergent ``p/q`` of ``enc.mid`` inside ``enc`` if
    ``q^4 width <= 1`` (the only rational of denominator ``< width^(-1/2)`` in it), else
    ``None``."""
    width, x = enc.width, enc.mid
    if width == 0:
        return None
    h0, h1, k0, k1 = 0, 1, 1, 0  # convergents h/k
    while True:
        a = x.numerator // x.denominator
        h0, h1, k0, k1 = h1, a * h1 + h0, k1, a * k1 + k0
        if k1**4 * width > 1:
            return None
        cand = Fraction(h1, k1)
        if enc.lo <= cand <= enc.hi:
            return cand
        frac = x - a
        if frac == 0:
            return None
        x = 1 / frac


def _exact_answer(spec: _Spectrum, factor: Fraction, *, exact: bool,
                  shift: Fraction = Fraction(0)) -> ExactValue | None:
    """lambda_max of the Hessian (``factor`` times the top eigenvalue of
    ``spec.exact_matrix``, the route's exact operator, plus the weight decay ``shift``) as an
    ``ExactValue``: always with
    ``exact=True``; otherwise only when it is proven rational (a point enclosure, or the
    convergent check of the module's "Exact answers" on operators of size <= ``EXACT_LIMIT``).
    The enclosures are left as ``certified_eigvalsh`` proved them."""
    from derivations.algebraic import AlgebraicNumber

    matrix, top = spec.exact_matrix, spec.evs[0]
    if exact:
        from derivations.algebraic import exact_lambda_max

        a = exact_lambda_max(matrix)
        a = a if factor == 1 else a * factor
        return ExactValue.of(a if shift == 0 else a + shift)
    if top.enc is None:
        return None
    if top.enc.width == 0:
        return ExactValue.of(AlgebraicNumber.rational(top.enc.lo * factor + shift))
    n = int(matrix.nrows()) if hasattr(matrix, "nrows") else len(matrix)
    q = _rational_candidate(top.enc) if n <= EXACT_LIMIT else None
    if q is None or not _rational_top(matrix, q):
        return None
    return ExactValue.of(AlgebraicNumber.rational(q * factor + shift))


def _reported_value(value: Any, exact: ExactValue | None, dps: int | None) -> Any:
    """``SharpnessResult.value``, an ``mpf`` in every mode: a proven rational at ``dps`` digits,
    the mode's mpf, or in float64 mode the exact ``mpf`` of the float (53 bits: no rounding)."""
    if exact is not None and exact.rational is not None:
        q = Fraction(exact.rational)
        with mpmath.workdps(dps or 15):
            return mpmath.mpf(q.numerator) / q.denominator
    if isinstance(value, float):
        with mpmath.workprec(53):
            return mpmath.mpf(value)
    return value


# --------------------------------------------------------------------------- eigenvalue lists
@dataclass(frozen=True)
class _Ev:
    """One Hessian eigenvalue: a value (mpf / float / Fraction) and, when certified, an
    enclosure."""

    value: Any
    enc: Any = None
    kernel: bool = field(default=False, compare=False)
    """Set by ``_shift``: an exact zero of ``H_0`` moved to ``lam`` (``zero_multiplicity``
    counts it; the spectrum leaves it out)."""


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
    exact_matrix: Any = None
    """The exact rational operator whose largest eigenvalue is lambda_max (before the loss
    factor), when a certified route built one, else ``None``."""


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


def _shift(spec: _Spectrum, lam: Fraction, dps: int | None) -> _Spectrum:
    """Every eigenvalue plus ``lam`` (the Hessian ``c H_0 + lam I``): enclosure endpoints
    exactly (the value becomes the new midpoint at ``dps`` digits), mpf values at ``dps``
    digits, float64 values in float64 (approximate); run by run, so the padded zeros stay one
    shared object (O(rank) work, see ``_runs``)."""
    if lam == 0:
        return spec

    def one(e: _Ev) -> _Ev:
        return dataclasses.replace(moved(e), kernel=_is_exact_zero(e))

    def moved(e: _Ev) -> _Ev:
        if e.enc is not None:
            enc = dataclasses.replace(e.enc, lo=e.enc.lo + lam, hi=e.enc.hi + lam)
            mid = enc.mid
            with mpmath.workdps(dps or 15):
                return _Ev(mpmath.mpf(mid.numerator) / mid.denominator, enc)
        if isinstance(e.value, mpmath.mpf):
            with mpmath.workdps(dps or 15):
                return _Ev(e.value + mpmath.mpf(lam.numerator) / lam.denominator)
        if isinstance(e.value, Fraction):
            return _Ev(e.value + lam)
        return _Ev(float(e.value) + float(lam))

    evs: list[_Ev] = []
    for e, count in _runs(spec.evs):
        evs.extend([one(e)] * count)
    how = ("in float64 (approximate)" if any(isinstance(e.value, float) for e in spec.evs[:1])
           else "exactly (rational shift: enclosures stay proven)")
    return dataclasses.replace(
        spec, evs=evs, lambda_min=None if spec.lambda_min is None else one(spec.lambda_min),
        lambda_min_bound=None if spec.lambda_min_bound is None
        else spec.lambda_min_bound - float(lam),
        method=f"{spec.method}; weight decay: every eigenvalue of the loss Hessian H_0 plus lam "
               f"= {lam} {how}; zero_multiplicity is that of H_0 (the eigenvalue lam of "
               "H_0 + lam I), the spectrum lists the others",
    )


def _is_exact_zero(e: _Ev) -> bool:
    """Whether ``e`` is an exact zero (a point enclosure at 0, or the value 0)."""
    if e.enc is not None:
        return bool(e.enc.lo == 0 and e.enc.hi == 0)
    return bool(e.value == 0)


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
    if top.enc is not None and low.enc is not None:  # proven only when the intervals say so
        if -low.enc.hi > top.enc.hi:  # min |lambda_min| > max lambda_max
            return True
        if -low.enc.lo < top.enc.lo or low.enc.lo >= 0:  # max |lambda_min| < min lambda_max
            return False
        return None
    if low.value < 0 and abs(-low.value - top.value) <= tol:
        return None
    return bool(-low.value > top.value)
