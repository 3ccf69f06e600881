"""Conformance vectors: known-answer cases for other sharpness implementations.

Public:
    Vector                  one case: ``name``, ``description``, exact ``point``, ``expected``
    CASES                   the case names, in order
    build_point(name)       the exact point of a case (fixed seeds: reproducible)
    case_weight_decay(name) the case's weight decay ``lam`` (``None``: the plain loss)
    expected_for(point, weight_decay=None)
                            the ``expected`` block, computed by the project (never typed in)
    generate_vectors()      every case with its ``expected`` block (``jobs=N``: in N processes)
    write_vectors(vs, dir)  one JSON file per case; all files written atomically
    load_vectors(dir=None)  read a directory of vector files (``None``: the set in the package)
    shipped_directory()     where the frozen set lives (``numeric/oracle/vectors/``)
    compare_expected(a, b)  the fields where two ``expected`` blocks differ (string equality)
    check_directory(dir)    regenerate (``jobs=N``: in N processes) and compare with ``dir``

A vector file is an oracle input file (``numeric.oracle.files``: ``weights`` and ``target`` or
``data``/``labels``, every entry an exact fraction string) plus ``name``, ``description`` and
``expected``:

* ``lambda_max``: 50 significant digits (rounded to nearest) of the sharpness of the Hessian of
  ``0.5*||W_L...W_1 X - Y||_F^2``, from a certified enclosure at 60 digits
  (``numeric.sharpness``; reduced route at minimizers, full Hessian elsewhere);
  ``lambda_max_status`` says ``exact`` (the proven enclosure is a single point, or the value is
  proven rational: then ``lambda_max_exact`` gives it) or ``certified``;
  ``enclosure``: ``[lo, hi]`` rounded
  outward to 52 digits (still proven to contain ``lambda_max``).
* ``trace``: the exact trace of the exact full Hessian (docs/mathematics.md K1), as a fraction and digits.
* ``closed_forms``: the closed forms that apply at the point, each with ``formula``,
  ``relation`` (what docs/mathematics.md says it is to ``lambda_max``), ``value`` (50 digits), ``status``
  (``exact`` or ``certified``), ``enclosure`` (outward to 52 digits) and, when exact, ``exact``
  (the fraction): ``depth2`` (K5; L = 2, X = I,
  minimizer), ``scalar_ends`` (K6; d_0 = d_L = 1, X = I, minimizer), ``upper_bound`` (K4;
  minimizer), ``flattest`` (K7's lower bound; X = I, minimizer). Spectral norms are certified
  with ``numeric.eigen.certified_lambda_max`` on exact Gram matrices and combined by outward
  interval arithmetic; norms of vectors are exact.

**Weight decay.** The cases ``weight-decay-*`` carry the file key ``weight_decay`` (``lam``,
exact) and sit at a global minimizer of ``L_lam = 0.5*||W_L...W_1 - M||_F^2 + (lam/2) sum_l
||W_l||_F^2`` (docs/mathematics.md K8) for their own ``target`` ``M`` (not the product of the
weights: at a regularized minimizer ``R != 0``). Their ``expected`` block adds ``weight_decay``;
``lambda_max`` is that of ``H_0 + lam I``, ``trace`` is ``trace(H_0) + lam P`` (exact),
``closed_forms`` is empty (K4-K7 hold at minimizers of the plain loss, ``R = 0``; ``R != 0``
here, see ``closed_forms_note``) and ``regularized`` records the exact checks: the gradient of
``L_lam`` is exactly zero and ``L_lam`` equals its value at the certified global minimizer of
``numeric.regularized.regularized_minimizer``. The points are built (``_regularized``) as
balanced weights ``W_l = F_l[:, :k] diag(t) F_(l-1)[:, :k]^T`` with Cayley frames ``F_l`` and
rational layer singular values ``t_i``; the target's singular values are ``sigma_i = t_i^L +
lam t_i^(2-L)`` (then ``g(t_i) = t_i^(L-2) (t_i^L - sigma_i) + lam = 0``: ``t_i`` is stationary
for the scalar problem ``f(t) = 1/2 (t^L - sigma)^2 + (lam L/2) t^2``), or given for collapsed
ones (``t_i = 0``); every ``t_i`` is checked to be THE unique global minimizer of ``f``
exactly (``numeric.regularized.scalar_minimizer``) before the point is built.

The cases cover depth 1 to 5, square and rectangular layers, overparameterized and bottleneck
widths, rank-deficient and zero targets, scalar ends (both and one), gauge-transformed and exactly
balanced minimizers (one with a clustered top spectrum), entries that are float64 values, data
``X`` with and without zero residual, non-minimizers (including a saddle), and regularized
global minimizers with weight decay (scalar, square, overparameterized, fully and partly
collapsed).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from derivations.errors import DmfError, InputFileError, PrecisionExhausted
from derivations.exact import ExactMatrix, Point, parse_point
from numeric.oracle.files import atomic_write_text, load_arrays, point_to_json_dict

__all__ = [
    "CASES",
    "DPS",
    "Vector",
    "build_point",
    "case_weight_decay",
    "check_directory",
    "compare_expected",
    "expected_for",
    "generate_vectors",
    "load_vectors",
    "shipped_directory",
    "write_vectors",
]

DPS = 50
"""Significant digits of every expected value."""
_WORK_DPS = DPS + 10
_ENCLOSURE_DIGITS = DPS + 2
_LOSS = "0.5*||W_L...W_1 X - Y||_F^2"


@dataclass(frozen=True)
class Vector:
    """One conformance case: an exact point and its ``expected`` block (see module doc)."""

    name: str
    description: str
    point: Point
    expected: dict[str, Any]
    weight_decay: Fraction | None = None
    """The file's ``weight_decay`` (``lam`` of ``L_lam``); ``None`` for the plain loss."""

    def to_json_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "description": self.description}
        doc.update(point_to_json_dict(self.point))
        if self.weight_decay is not None:
            doc["weight_decay"] = str(self.weight_decay)
        doc["expected"] = self.expected
        return doc


# --- decimal strings --------------------------------------------------------------------


def _dec(x: Fraction, digits: int = DPS, rounding: str = ROUND_HALF_EVEN) -> str:
    """``x`` to ``digits`` significant digits, computed exactly from the fraction."""
    ctx = Context(prec=digits, rounding=rounding, Emax=999999, Emin=-999999)
    return str(ctx.divide(Decimal(x.numerator), Decimal(x.denominator)))


def _value_entry(enc: Any) -> dict[str, Any]:
    """``value`` / ``status`` / ``enclosure`` or ``exact`` for an enclosure of a number."""
    outward = [
        _dec(enc.lo, _ENCLOSURE_DIGITS, ROUND_FLOOR),
        _dec(enc.hi, _ENCLOSURE_DIGITS, ROUND_CEILING),
    ]
    if enc.lo == enc.hi:
        return {"value": _dec(enc.lo), "status": "exact", "exact": str(enc.lo), "enclosure": outward}
    if enc.correct_digits < DPS + 2:
        raise PrecisionExhausted(
            f"an enclosure {enc} pins down only {enc.correct_digits} digits; need {DPS + 2}"
        )
    return {"value": _dec(enc.mid), "status": "certified", "enclosure": outward}


# --- the cases --------------------------------------------------------------------------


def _q(rng: np.random.Generator, shape: tuple[int, int], num: int = 3, den: int = 3) -> ExactMatrix:
    """A random rational matrix, entries ``p/q`` with ``|p| <= num``, ``1 <= q <= den``."""
    p = rng.integers(-num, num + 1, size=shape)
    q = rng.integers(1, den + 1, size=shape)
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        out[idx] = Fraction(int(p[idx]), int(q[idx]))
    return out


def _layers(rng: np.random.Generator, dims: Sequence[int], **kw: int) -> list[ExactMatrix]:
    return [_q(rng, (dims[l], dims[l - 1]), **kw) for l in range(1, len(dims))]


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _plain(dims: Sequence[int], seed: int) -> Point:
    rng = _rng(seed)
    while True:  # redraw (deterministically) until no layer is the zero matrix
        ws = _layers(rng, dims)
        if all(any(x != 0 for x in w.flat) for w in ws):
            return parse_point(ws)


def _balanced(roots: Sequence[Fraction], dims: Sequence[int], seed: int) -> Point:
    from numeric.minimizers import exact_balanced_minimizer

    return exact_balanced_minimizer(list(roots), dims, rng=_rng(seed))


def _gauge(dims: Sequence[int], seed: int) -> Point:
    from numeric.minimizers import gauge_transform, random_gauges

    rng = _rng(seed)
    point = parse_point(_layers(rng, dims))
    return gauge_transform(point, random_gauges(dims, rng, max_entry=2))


def _rank_deficient(seed: int) -> Point:
    rng = _rng(seed)
    ws = _layers(rng, (3, 3, 3, 3))
    u, v = _q(rng, (3, 1)), _q(rng, (1, 3))
    u[0, 0] = Fraction(1)  # never the zero matrix
    v[0, 0] = Fraction(1)
    ws[1] = u @ v  # rank 1: the target has rank <= 1
    return parse_point(ws)


def _zero_target() -> Point:
    # W_2 W_1 = 0 with both nonzero: W_1 maps onto e_1, W_2 kills e_1
    w1 = [[1, "1/2"], [0, 0]]
    w2 = [[0, 2], [0, "-1/3"]]
    w3 = [["1/2", 1], [1, 0]]
    return parse_point([w1, w2, w3])


def _float64_entries(seed: int) -> Point:
    rng = _rng(seed)
    dims = (2, 3, 3, 2)
    return parse_point([rng.standard_normal((dims[l], dims[l - 1])) for l in range(1, 4)])


def _with_data(dims: Sequence[int], samples: int, seed: int, *, minimizer: bool) -> Point:
    rng = _rng(seed)
    ws = _layers(rng, dims)
    x = _q(rng, (dims[0], samples))
    y = None if minimizer else _q(rng, (dims[-1], samples))
    return parse_point(ws, data=x, labels=y)


def _non_minimizer(dims: Sequence[int], seed: int) -> Point:
    rng = _rng(seed)
    ws = _layers(rng, dims)
    return parse_point(ws, _q(rng, (dims[-1], dims[0])))


def _saddle() -> Point:
    # the origin of depth 2 with a nonzero target: H = [[0, -M^T kron], ...], eigenvalues +-s_i
    return parse_point([[[0, 0], [0, 0]], [[0, 0], [0, 0]]], [[3, 1], ["1/2", 2]])


def _regularized(ts: Sequence[Fraction], lam: Fraction, dims: Sequence[int], seed: int,
                 collapsed: Sequence[Fraction] = ()) -> Point:
    """A global minimizer of ``L_lam`` (module doc, "Weight decay"): layer singular values
    ``ts`` (target ``sigma_i = t_i^L + lam t_i^(2-L)``) and, for each of ``collapsed``, a target
    singular value whose layers carry ``t = 0``; Cayley frames from ``seed``. Refused
    (``DmfError``) unless every ``t_i`` is the unique global minimizer of ``f`` (exact)."""
    from numeric.minimizers import rational_orthogonal
    from numeric.regularized import frame_minimizer, scalar_minimizer, stationary_target

    depth = len(dims) - 1
    layer = [*ts, *(Fraction(0) for _ in collapsed)]
    sigmas = [*(stationary_target(t, lam, depth) for t in ts), *collapsed]
    for t, s in zip(layer, sigmas, strict=True):
        sm = scalar_minimizer(depth, lam, s * s)
        if sm.tie or len(sm.minimizers) != 1 or sm.t.fraction != t:
            raise DmfError(f"t = {t} is not the unique global minimizer of f for sigma = {s}, "
                           f"lam = {lam}, L = {depth}")
    rng = _rng(seed)
    return frame_minimizer(layer, sigmas, lam, [rational_orthogonal(d, rng) for d in dims])


_F = Fraction
_WEIGHT_DECAY: dict[str, Fraction] = {
    "weight-decay-scalar": _F(1, 10),
    "weight-decay-depth2-square": _F(1, 10),
    "weight-decay-depth3-overparameterized": _F(1, 20),
    "weight-decay-depth3-collapsed": _F(1),
    "weight-decay-depth2-partial-collapse": _F(1, 10),
}
_BUILDERS: dict[str, tuple[str, Callable[[], Point]]] = {
    "depth1-square": ("L = 1, 3 x 3, minimizer: H = I", lambda: _plain((3, 3), 101)),
    "depth1-data-nonminimizer": (
        "L = 1 with data X (2 x 4) and labels Y: H = (X X^T) kron I, residual nonzero",
        lambda: _with_data((2, 3), 4, 102, minimizer=False),
    ),
    "depth2-square": ("L = 2, dims (3, 3, 3), random rational minimizer", lambda: _plain((3, 3, 3), 201)),
    "depth2-rectangular": ("L = 2, dims (2, 3, 4), minimizer", lambda: _plain((2, 3, 4), 202)),
    "depth2-overparameterized": (
        "L = 2, dims (2, 6, 2): hidden width larger than both ends", lambda: _plain((2, 6, 2), 203)
    ),
    "depth2-bottleneck": (
        "L = 2, dims (3, 1, 3): width-1 bottleneck, rank-1 target", lambda: _plain((3, 1, 3), 204)
    ),
    "depth2-balanced": (
        "L = 2, exactly balanced minimizer (Cayley frames), target singular values 4, 1",
        lambda: _balanced([_F(2), _F(1)], (2, 2, 2), 205),
    ),
    "depth2-balanced-clustered": (
        "L = 2, exactly balanced, roots 1, 999/1000, 1/2: top eigenvalues 2 and 1.999... "
        "(relative gap 5e-4; hard for power iteration)",
        lambda: _balanced([_F(1), _F(999, 1000), _F(1, 2)], (3, 3, 3), 206),
    ),
    "depth2-gauge": (
        "L = 2, dims (2, 3, 2), minimizer moved by an exact gauge G_1 (same product)",
        lambda: _gauge((2, 3, 2), 207),
    ),
    "depth3-square": ("L = 3, dims (3, 3, 3, 3), minimizer", lambda: _plain((3, 3, 3, 3), 301)),
    "depth3-rectangular": ("L = 3, dims (2, 3, 4, 3), minimizer", lambda: _plain((2, 3, 4, 3), 302)),
    "depth3-balanced": (
        "L = 3, exactly balanced minimizer, dims (2, 3, 3, 2), roots 1, 1/2",
        lambda: _balanced([_F(1), _F(1, 2)], (2, 3, 3, 2), 303),
    ),
    "depth3-rank-deficient": (
        "L = 3, dims (3, 3, 3, 3), W_2 of rank 1 so the target has rank 1",
        lambda: _rank_deficient(304),
    ),
    "depth3-zero-target": (
        "L = 3, dims (2, 2, 2, 2), nonzero weights with product exactly 0", _zero_target
    ),
    "depth3-float64-entries": (
        "L = 3, dims (2, 3, 3, 2), entries float64 normals taken exactly", lambda: _float64_entries(305)
    ),
    "depth4-rectangular": ("L = 4, dims (2, 3, 2, 3, 2), minimizer", lambda: _plain((2, 3, 2, 3, 2), 401)),
    "depth4-balanced": (
        "L = 4, exactly balanced minimizer, dims (2, 2, 2, 2, 2), roots 1, 1/2",
        lambda: _balanced([_F(1), _F(1, 2)], (2, 2, 2, 2, 2), 402),
    ),
    "depth5-small": ("L = 5, dims (2, 2, 2, 2, 2, 2), minimizer", lambda: _plain((2,) * 6, 501)),
    "scalar-ends-depth3": ("d_0 = d_L = 1, dims (1, 3, 2, 1), minimizer", lambda: _plain((1, 3, 2, 1), 601)),
    "scalar-ends-depth4": (
        "d_0 = d_L = 1, dims (1, 2, 3, 2, 1), minimizer", lambda: _plain((1, 2, 3, 2, 1), 602)
    ),
    "one-scalar-end": ("d_L = 1 only, dims (3, 2, 2, 1), minimizer", lambda: _plain((3, 2, 2, 1), 603)),
    "data-minimizer": (
        "L = 2 with data X (3 x 5), labels Y = f X: R = 0",
        lambda: _with_data((3, 3, 2), 5, 701, minimizer=True),
    ),
    "data-nonminimizer": (
        "L = 3 with data X (2 x 4) and random labels Y: residual nonzero",
        lambda: _with_data((2, 3, 3, 2), 4, 702, minimizer=False),
    ),
    "nonminimizer-depth2": (
        "L = 2, dims (2, 2, 2), random target: residual nonzero", lambda: _non_minimizer((2, 2, 2), 801)
    ),
    "nonminimizer-depth3": (
        "L = 3, dims (2, 3, 2, 2), random target: residual nonzero",
        lambda: _non_minimizer((2, 3, 2, 2), 802),
    ),
    "saddle-origin": (
        "L = 2 at W = 0 with target M != 0: a saddle, eigenvalues +-sigma_i(M)", _saddle
    ),
    "weight-decay-scalar": (
        "L = 3, dims (1, 1, 1, 1), lam = 1/10: regularized global minimizer t = 3/2, "
        "target sigma = t^3 + lam/t = 413/120",
        lambda: _regularized([_F(3, 2)], _WEIGHT_DECAY["weight-decay-scalar"], (1, 1, 1, 1), 901),
    ),
    "weight-decay-depth2-square": (
        "L = 2, dims (2, 2, 2), lam = 1/10: balanced regularized minimizer t = 2, 1 "
        "(sigma = t^2 + lam = 41/10, 11/10), Cayley frames",
        lambda: _regularized([_F(2), _F(1)], _WEIGHT_DECAY["weight-decay-depth2-square"],
                             (2, 2, 2), 902),
    ),
    "weight-decay-depth3-overparameterized": (
        "L = 3, dims (2, 3, 3, 2), lam = 1/20: balanced regularized minimizer t = 1, 1/2 "
        "(sigma = t^3 + lam/t = 21/20, 9/40), Cayley frames",
        lambda: _regularized([_F(1), _F(1, 2)],
                             _WEIGHT_DECAY["weight-decay-depth3-overparameterized"],
                             (2, 3, 3, 2), 903),
    ),
    "weight-decay-depth3-collapsed": (
        "L = 3, dims (2, 2, 2, 2), lam = 1 above the collapse threshold (sigma/2)^(4/3) of "
        "both singular values 3/2, 1/2: the global minimizer is W = 0, H = lam I",
        lambda: _regularized([], _WEIGHT_DECAY["weight-decay-depth3-collapsed"], (2, 2, 2, 2),
                             904, collapsed=[_F(3, 2), _F(1, 2)]),
    ),
    "weight-decay-depth2-partial-collapse": (
        "L = 2, dims (2, 2, 2), lam = 1/10: sigma = 41/10 kept (t = 2), sigma = 1/20 < lam "
        "collapsed (t = 0); rank-1 product",
        lambda: _regularized([_F(2)], _WEIGHT_DECAY["weight-decay-depth2-partial-collapse"],
                             (2, 2, 2), 905, collapsed=[_F(1, 20)]),
    ),
}

CASES: tuple[str, ...] = tuple(_BUILDERS)


def build_point(name: str) -> Point:
    """The exact point of the case ``name`` (deterministic: fixed seeds)."""
    if name not in _BUILDERS:
        raise DmfError(f"unknown conformance case {name!r}; known: {', '.join(CASES)}")
    return _BUILDERS[name][1]()


def case_weight_decay(name: str) -> Fraction | None:
    """The weight decay ``lam`` of the case ``name`` (``None``: the plain loss, no key)."""
    if name not in _BUILDERS:
        raise DmfError(f"unknown conformance case {name!r}; known: {', '.join(CASES)}")
    return _WEIGHT_DECAY.get(name)


# --- expected values --------------------------------------------------------------------


def _sq_norm(m: ExactMatrix) -> Any:
    """``||m||_2^2`` as a certified ``Enclosure`` (exact for a row, a column or zero)."""
    from numeric.eigen import Enclosure, certified_lambda_max

    if all(x == 0 for x in m.flat):
        return Enclosure.point(0)
    if min(m.shape) == 1:
        return Enclosure.point(sum((x * x for x in m.flat), Fraction(0)))
    gram = m.T @ m if m.shape[1] <= m.shape[0] else m @ m.T
    return certified_lambda_max(gram, dps=_WORK_DPS)


def _closed_forms(point: Point, at_min: bool) -> dict[str, Any]:
    from numeric.eigen import Enclosure
    from numeric.factors import left_factor, right_factor

    ws, x, depth = list(point.weights), point.data, point.depth
    out: dict[str, Any] = {}
    if not at_min:
        return out
    plain = x is None
    if depth == 2 and plain:
        out["depth2"] = {
            "formula": "||W_1||_2^2 + ||W_2||_2^2",
            "relation": "equals lambda_max at every minimizer (docs/mathematics.md K5)",
            **_value_entry(_sq_norm(ws[0]) + _sq_norm(ws[1])),
        }
    if plain and point.dims[0] == 1 and point.dims[-1] == 1:
        total = sum(
            (_sq_norm(left_factor(ws, l)) * _sq_norm(right_factor(ws, l)) for l in range(1, depth + 1)),
            Enclosure.point(0),
        )
        out["scalar_ends"] = {
            "formula": "sum_l ||A_l||_2^2 ||B_l||_2^2 (A_l a row, B_l a column)",
            "relation": "equals lambda_max at every minimizer (docs/mathematics.md K6)",
            **_value_entry(total),
        }
    bound = Enclosure.point(0)
    for l in range(1, depth + 1):
        bx = right_factor(ws, l) if x is None else right_factor(ws, l) @ x
        bound = bound + _sq_norm(left_factor(ws, l)) * _sq_norm(bx)
    out["upper_bound"] = {
        "formula": "sum_l ||A_l||_2^2 ||B_l X||_2^2",
        "relation": "upper bound on lambda_max at minimizers (docs/mathematics.md K4)",
        **_value_entry(bound),
    }
    if plain:
        s2 = _sq_norm(point.labels)  # sigma_1(M)^2
        if depth == 1:
            flat = Enclosure.point(1)  # L s^0 with 0^0 = 1
        elif s2.hi == 0:
            flat = Enclosure.point(0)
        else:
            flat = (s2 ** (depth - 1)).root(depth, bits=4 * _WORK_DPS) * depth
        out["flattest"] = {
            "formula": "L * sigma_1(M)^(2(L-1)/L)",
            "relation": "lower bound on lambda_max at every minimizer, equal at balanced "
            "minimizers (docs/mathematics.md K7)",
            **_value_entry(flat),
        }
    return out


def _exact_trace(point: Point) -> Fraction:
    from numeric.hessian import full_hessian

    h = full_hessian(list(point.weights), point.data, point.labels)
    return sum((h[i, i] for i in range(h.shape[0])), Fraction(0))


def expected_for(point: Point, weight_decay: Fraction | None = None) -> dict[str, Any]:
    """The ``expected`` block of ``point`` (module doc), all computed here. With
    ``weight_decay = lam`` (a regularized minimizer, ``X = I``): ``lambda_max`` of ``H_0 + lam I``,
    ``trace(H_0) + lam P``, no closed forms (they hold only where ``R = 0``) and the exact checks
    of ``regularized``; ``None`` gives the plain block, byte for byte as before weight decay."""
    from numeric.result import decay_formula
    from numeric.sharpness import sharpness

    lam = Fraction(0) if weight_decay is None else Fraction(weight_decay)
    result = sharpness(
        list(point.weights),
        point.labels if point.data is None else None,
        data=point.data,
        labels=point.labels if point.data is not None else None,
        dps=_WORK_DPS,
        weight_decay=lam,
    )
    if result.enclosure is None:  # pragma: no cover - certify=True always encloses
        raise PrecisionExhausted("the oracle returned no enclosure for a conformance vector")
    top = _value_entry(result.enclosure)
    if result.exact is not None and result.exact.rational is not None:  # proven rational
        q = Fraction(result.exact.rational)
        top = {**top, "value": _dec(q), "status": "exact", "exact": str(q)}
    trace = _exact_trace(point) + lam * point.num_params
    decay = {} if weight_decay is None else {"weight_decay": str(lam)}
    out = {
        "dps": DPS,
        "loss": decay_formula(_LOSS, lam),
        **decay,
        "dims": list(point.dims),
        "parameters": point.num_params,
        "at_minimizer": bool(result.at_minimizer),
        "route": result.route,
        "lambda_max": top["value"],
        "lambda_max_status": top["status"],
        **({"lambda_max_exact": top["exact"]} if "exact" in top else {}),
        "enclosure": top["enclosure"],
        "trace": {
            "value": _dec(trace),
            "exact": str(trace),
            "status": "exact",
            "method": "trace of the exact full Hessian (docs/mathematics.md K1)"
            + ("" if weight_decay is None else " plus lam * P (K8: H = H_0 + lam I)"),
        },
        "closed_forms": {} if decay else _closed_forms(point, bool(result.at_minimizer)),
    }
    if decay:
        out["closed_forms_note"] = (
            "none given: the closed forms of docs/mathematics.md K4-K7 hold at minimizers of the "
            "plain loss (R = 0); here R != 0 (each carried singular value is shrunk, "
            "sigma_i - t_i^L = lam t_i^(2-L), the collapsed ones are dropped), so they do not apply"
        )
        out["regularized"] = _regularized_checks(point, lam)
    return out


def _regularized_checks(point: Point, lam: Fraction) -> dict[str, Any]:
    """Exact facts at a weight-decay vector: ``grad L_lam = 0`` and ``L_lam(W)`` equal to its
    value at ``numeric.regularized.regularized_minimizer``'s certified global minimizer (exact
    weights when the target's singular values and the ``t_i`` are rational). Refused
    (``DmfError``) if either fails: such a point is not a regularized global minimizer."""
    from numeric.regularized import regularized_gradient, regularized_loss, regularized_minimizer

    if point.data is not None:
        raise DmfError("a weight-decay vector is a plain factorization (X = I)")
    ws, m = list(point.weights), point.labels
    if any(x != 0 for g in regularized_gradient(ws, m, lam) for x in g.flat):
        raise DmfError("the gradient of L_lam is not zero at a weight-decay vector")
    ref = regularized_minimizer(m, point.dims, lam)
    if not ref.exact:
        raise DmfError("the reference global minimizer is not exactly rational")
    value = Fraction(regularized_loss(ws, m, lam))
    best = Fraction(regularized_loss(ref.weights(_WORK_DPS), m, lam))
    if value != best:
        raise DmfError(f"L_lam = {value} here but {best} at the global minimizer")
    return {
        "loss_value": str(value),
        "gradient_zero": True,
        "global_minimizer": True,
        "collapsed": bool(ref.collapsed),
        "status": "exact",
        "method": "exact gradient of L_lam; L_lam equals its exact value at "
        "numeric.regularized.regularized_minimizer (certified global minimizer); every layer "
        "singular value is the unique global minimizer of the scalar problem (scalar_minimizer)",
    }


def generate_vectors(names: Sequence[str] | None = None, *, jobs: int = 1) -> list[Vector]:
    """Build every case (or ``names``) and compute its ``expected`` block, in memory, in
    ``jobs`` worker processes (``numeric.parallel.ordered_map``: each case from its own fixed
    seed, so the vectors are the same for any ``jobs``), in the order of ``names``."""
    from numeric.parallel import ordered_map

    chosen = list(names if names is not None else CASES)
    for name in chosen:
        if name not in _BUILDERS:
            raise DmfError(f"unknown conformance case {name!r}; known: {', '.join(CASES)}")
    return ordered_map(_case, [(name,) for name in chosen], jobs=jobs)


def _case(name: str) -> Vector:
    """One case with its ``expected`` block (a module-level function: it runs in workers)."""
    point, lam = build_point(name), case_weight_decay(name)
    expected = expected_for(point) if lam is None else expected_for(point, lam)
    return Vector(name, _BUILDERS[name][0], point, expected, lam)


def write_vectors(vectors: Sequence[Vector], directory: str | os.PathLike[str]) -> list[Path]:
    """Write ``<name>.json`` for each vector into ``directory`` (created if needed). Each file is
    written atomically (temporary file in the same directory, then ``os.replace``); callers
    compute all vectors first (``generate_vectors``) so a failed computation writes nothing."""
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise InputFileError(f"{target} exists and is not a directory")
    target.mkdir(parents=True, exist_ok=True)
    texts = [(target / f"{v.name}.json", json.dumps(v.to_json_dict(), indent=1) + "\n") for v in vectors]
    return [atomic_write_text(path, text) for path, text in texts]


def shipped_directory() -> Path:
    """The frozen set inside the package (``numeric/oracle/vectors/``)."""
    return Path(__file__).with_name("vectors")


def load_vectors(directory: str | os.PathLike[str] | None = None) -> list[Vector]:
    """Read every ``*.json`` vector in ``directory`` (default: the shipped set), sorted by the
    order of ``CASES`` (unknown names last, alphabetically)."""
    d = shipped_directory() if directory is None else Path(directory)
    if not d.is_dir():
        raise InputFileError(f"{d} is not a directory of conformance vectors")
    out = []
    for path in sorted(d.glob("*.json")):
        arrays = load_arrays(path)
        meta = arrays.meta
        if "expected" not in meta:
            raise InputFileError(f"{path}: no 'expected' block; not a conformance vector")
        name = str(meta.get("name", path.stem))
        out.append(Vector(name, str(meta.get("description", "")), arrays.to_point(),
                          meta["expected"], arrays.weight_decay))
    order = {n: i for i, n in enumerate(CASES)}
    return sorted(out, key=lambda v: (order.get(v.name, len(order)), v.name))


def compare_expected(a: Mapping[str, Any], b: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Every field where ``a`` and ``b`` differ, compared as strings (digit by digit)."""
    diffs = []
    for key in sorted(set(a) | set(b)):
        where = f"{prefix}{key}"
        if key not in a or key not in b:
            diffs.append(f"{where}: present in only one of them")
        elif isinstance(a[key], Mapping) and isinstance(b[key], Mapping):
            diffs += compare_expected(a[key], b[key], f"{where}.")
        elif json.dumps(a[key]) != json.dumps(b[key]):
            diffs.append(f"{where}: {json.dumps(a[key])} != {json.dumps(b[key])}")
    return diffs


def _same_point(a: Point, b: Point) -> bool:
    def eq(x: ExactMatrix | None, y: ExactMatrix | None) -> bool:
        if x is None or y is None:
            return x is None and y is None
        return x.shape == y.shape and bool(np.all(x == y))

    return (
        len(a.weights) == len(b.weights)
        and all(eq(x, y) for x, y in zip(a.weights, b.weights, strict=True))
        and eq(a.data, b.data)
        and eq(a.labels, b.labels)
    )


def check_directory(directory: str | os.PathLike[str], *, jobs: int = 1) -> list[str]:
    """Regenerate every case (in ``jobs`` worker processes) and compare with the files in
    ``directory``: the points (weights, target or data/labels, and ``weight_decay``) must be
    identical and every ``expected`` field equal as a
    string. Returns the differences, in the order of ``CASES`` whatever ``jobs`` is."""
    stored = {v.name: v for v in load_vectors(directory)}
    diffs = [f"{n}: missing from {directory}" for n in CASES if n not in stored]
    diffs += [f"{n}: not a known case" for n in stored if n not in _BUILDERS]
    for fresh in generate_vectors([n for n in CASES if n in stored], jobs=jobs):
        old = stored[fresh.name]
        if not _same_point(fresh.point, old.point):
            diffs.append(f"{fresh.name}: the point differs from a fresh build")
        if fresh.weight_decay != old.weight_decay:
            diffs.append(f"{fresh.name}: weight_decay {old.weight_decay} differs from a fresh "
                         f"build's {fresh.weight_decay}")
        diffs += [f"{fresh.name}: {d}" for d in compare_expected(old.expected, fresh.expected)]
    return diffs
