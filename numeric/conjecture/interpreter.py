"""Evaluation of a parsed conjecture (``numeric.conjecture.language``) at a point: exactly, over
rationals, exact rational matrices and real algebraic numbers, and in float64 (only to steer a
search, like the float predicates of the built-in claims).

Public:
    Undefined          a quantity undefined at a point (``K`` off minimizers, ``W[5]`` at depth
                       3, division by zero, ``sigma`` index out of range, ...): the point is
                       counted as undefined, never decided
    Real               an exact scalar ``base ** exp`` (``base`` an ``AlgebraicFormula``,
                       ``exp`` rational; ``base >= 0`` whenever ``exp`` is not an integer)
    ExactPoint, FloatPoint   a point with its quantities cached (exact / float64)
    exact_value(node, env) -> AlgebraicFormula     a scalar side, exactly
    float_value(node, env) -> float                the same side in float64
    reciprocal(a) -> AlgebraicFormula              ``1 / a`` for ``a != 0`` (exact on demand)

Exact meanings (docs/mathematics.md "Objects and conventions", K1, K2, K8): ``H`` is the exact
K1 Hessian (``numeric.hessian.full_hessian`` on ``Fraction`` arrays) plus ``lam I`` with the
weight decay ``lam`` of the point (``ExactPoint(point, lam)``; 0 unless the conjecture has a
weight decay or the point carries one, ``numeric.conjecture.decay``); ``lambda_max``,
``lambda_min`` its extreme eigenvalues as algebraic numbers (``derivations.algebraic``),
``trace`` and ``rank`` its trace and rank; ``lam`` the weight decay itself;
``norm2(m) = lambda_max(G)^(1/2)`` with ``G`` the smaller Gram matrix of ``m``; ``fro(m) =
(sum m_ij^2)^(1/2)``; ``sigma(m, i) = lambda_i(G)^(1/2)`` (descending, with multiplicity);
``s[i] = sigma(M, i)``; ``K = sum_l (B_l^T B_l) kron (A_l A_l^T)`` for ``X = I`` and, with
data, the Gram form ``sum_l (X^T B_l^T B_l X) kron (A_l A_l^T)`` (same nonzero spectrum,
rational; ``numeric.reduced``), defined only at minimizers (``R X^T = 0``; it ignores ``lam``); ``loss = 1/2 ||W_L..W_1 X -
Y||_F^2 + (lam/2) sum_l ||W_l||_F^2``;
``0 ** 0 = 1``. A power ``x ** (p/q)`` of a nonnegative ``x`` is ``(x^|p|)^(1/q)`` (inverted
when ``p < 0``); powers of powers of nonnegative bases multiply exponents first, so
``norm2(m)**2`` is ``lambda_max(G)`` itself.

>>> from derivations.exact import parse_point
>>> from numeric.conjecture.language import parse_statement
>>> rel = parse_statement("norm2(W[1])**2 == 2").relations[0]
>>> env = ExactPoint(parse_point([[[1, 1]]]))
>>> exact_value(rel.left, env).rational, float_value(rel.left, FloatPoint(env.point))
(Fraction(2, 1), 2.0000000000000004)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from derivations.algebraic import (
    MAX_EXACT_SIZE,
    AlgebraicFormula,
    compare_formulas,
    exact_eigenvalues,
    exact_lambda_max,
    exact_rank,
)
from derivations.errors import DmfError, PrecisionExhausted
from derivations.exact import Point, identity
from derivations.intervals import Enclosure
from numeric.conjecture.language import (
    MAX_BITS,
    MAX_EXPONENT,
    Bin,
    Call,
    Neg,
    Node,
    Num,
    Reduce,
    Sub,
    Transpose,
    Var,
)
from numeric.factors import left_factor, right_factor

__all__ = [
    "ExactPoint",
    "FloatPoint",
    "Real",
    "Undefined",
    "exact_value",
    "float_value",
    "reciprocal",
]


class Undefined(ArithmeticError):
    """A quantity of the statement is undefined at this point (the reason says which)."""


# ----------------------------------------------------------------------------- exact scalars


@dataclass(frozen=True)
class Real:
    """``base ** exp`` exactly; ``nonneg``: ``base >= 0`` is known (required unless ``exp`` is
    an integer)."""

    base: AlgebraicFormula
    exp: Fraction = Fraction(1)
    nonneg: bool = False

    @classmethod
    def of(cls, x: Any, *, nonneg: bool = False) -> Real:
        return cls(AlgebraicFormula.of(x), Fraction(1), nonneg)

    def value(self) -> AlgebraicFormula:
        """The value as an ``AlgebraicFormula`` (``Undefined`` for ``0`` to a negative power)."""
        b, e = self.base, self.exp
        if e == 1:
            return b
        p, q = e.numerator, e.denominator
        r = b.rational
        if r is not None:
            if r == 0:
                if p < 0:
                    raise Undefined("zero to a negative power")
                return AlgebraicFormula.of(1 if p == 0 else 0)
            v = AlgebraicFormula.of(_rat_power(r, abs(p)))
        else:
            v = b ** abs(p) if p else AlgebraicFormula.of(1)
        if q > 1:
            v = v.root(q)
        return reciprocal(v) if p < 0 else v

    def rational(self) -> Fraction | None:
        return self.value().rational


def _rat_power(r: Fraction, n: int) -> Fraction:
    bits = max(r.numerator.bit_length(), r.denominator.bit_length())
    if bits * n > MAX_BITS:
        raise Undefined(f"a rational power exceeds {MAX_BITS} bits")
    return r**n


def _sign(a: AlgebraicFormula) -> int:
    if a.rational is not None:
        return (a.rational > 0) - (a.rational < 0)
    try:
        rel = compare_formulas(a, 0).relation
    except PrecisionExhausted:
        raise Undefined("the sign of a value could not be decided (precision ladder "
                        "exhausted)") from None
    return {"<": -1, "=": 0, ">": 1}[rel]


def reciprocal(a: AlgebraicFormula) -> AlgebraicFormula:
    """``1 / a`` (``Undefined`` when ``a = 0``, decided exactly). The exact value is
    ``a.value() ** -1`` (reversed minimal polynomial), built only when needed; enclosures are
    ``1 / enclosure(a)`` at a precision where the enclosure excludes 0.

    >>> reciprocal(AlgebraicFormula.of(Fraction(2, 3))).rational
    Fraction(3, 2)
    """
    if a.rational is not None:
        if a.rational == 0:
            raise Undefined("division by zero")
        return AlgebraicFormula.of(1 / a.rational)
    if _sign(a) == 0:
        raise Undefined("division by zero")

    def enc(d: int) -> Enclosure:
        dd = d + 5
        e = a.enclosure(dd)
        while e.lo <= 0 <= e.hi:
            dd *= 2
            if dd > 4000:
                raise PrecisionExhausted("could not separate a nonzero divisor from 0")
            e = a.enclosure(dd)
        return 1 / e

    return AlgebraicFormula(lambda: a.value() ** -1, enc, a.degree_bound)


def _power(x: Real, e: Fraction) -> Real:
    if x.nonneg or x.exp != 1:
        total = x.exp * e
        nonneg = x.nonneg
    else:
        total, nonneg = e, False
    if e.denominator != 1 and not nonneg:
        v = x.value()
        if _sign(v) < 0:
            raise Undefined("a negative number to a fractional power")
        return _power(Real(v, Fraction(1), True), e)
    if abs(total.numerator // total.denominator) > MAX_EXPONENT or total.denominator > \
            MAX_EXPONENT:
        raise Undefined(f"the exponent {total} is out of range (|integer part| and denominator "
                        f"at most {MAX_EXPONENT})")
    if not nonneg and x.exp != 1:  # pragma: no cover - non-integer exponents imply nonneg
        return Real(x.value(), e)
    return Real(x.base, total, nonneg)


# ----------------------------------------------------------------------------- points


def _gram_small(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=object)
    return np.asarray(m.T @ m if m.shape[1] <= m.shape[0] else m @ m.T, dtype=object)


def _exact_matrix(m: Any) -> np.ndarray:
    out = np.empty(np.shape(m), dtype=object)
    for idx, x in np.ndenumerate(np.asarray(m, dtype=object)):
        out[idx] = Fraction(x)
    return out


class _Cached:
    def __init__(self, point: Point, lam: Fraction = Fraction(0)) -> None:
        self.point = point
        self.lam = Fraction(lam)
        self._cache: dict[Any, Any] = {}

    def cached(self, key: Any, fn: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    def layer(self, l: int, name: str) -> int:
        if not 1 <= l <= self.point.depth:
            raise Undefined(f"{name}[{l}] does not exist at depth L = {self.point.depth} "
                            f"(layers are 1..L)")
        return l

    def minimizer(self) -> bool:
        return bool(self.cached("minimizer", self.point.is_minimizer))


class ExactPoint(_Cached):
    """A point with its exact quantities cached (``Fraction`` matrices, algebraic numbers)."""

    def weights(self) -> list[np.ndarray]:
        return [np.asarray(w, dtype=object) for w in self.point.weights]

    def hessian(self) -> np.ndarray:
        from numeric.claims.quantities import exact_hessian

        p = self.point.num_params
        if p > MAX_EXACT_SIZE:
            raise Undefined(f"H is {p} x {p}; exact spectra are limited to {MAX_EXACT_SIZE}")
        return self.cached("H", lambda: _shifted(_exact_matrix(exact_hessian(self.point)),
                                                 self.lam))

    def matrix(self, name: str, l: int | None = None) -> np.ndarray:
        p = self.point
        if name == "W":
            return self.weights()[self.layer(l or 0, "W") - 1]
        if name == "A":
            return self.cached(("A", l), lambda: _exact_matrix(
                left_factor(self.weights(), self.layer(l or 0, "A"))))
        if name == "B":
            return self.cached(("B", l), lambda: _exact_matrix(
                right_factor(self.weights(), self.layer(l or 0, "B"))))
        if name == "M":
            if p.data is not None:
                raise Undefined("M is the target of a point without data; with data use X, Y")
            return p.labels
        if name == "X":
            return identity(p.dims[0]) if p.data is None else p.data
        if name == "Y":
            return p.labels
        if name == "H":
            return self.hessian()
        if name == "K":
            if not self.minimizer():
                raise Undefined("K (the reduced operator) is defined only at minimizers")
            from numeric.reduced import reduced_operator

            return self.cached("K", lambda: _exact_matrix(reduced_operator(
                self.weights(), p.data, form="gram")))
        raise Undefined(f"unknown matrix {name}")  # pragma: no cover - the parser refuses it

    def scalar(self, name: str) -> Real:
        p = self.point
        if name == "L":
            return Real.of(p.depth)
        if name == "P":
            return Real.of(p.num_params)
        if name == "lambda_max":
            return self.cached("lmax", lambda: Real.of(exact_lambda_max(self.hessian())))
        if name == "lambda_min":
            return self.cached("lmin", lambda: Real.of(exact_eigenvalues(self.hessian())[-1][0]))
        if name == "trace":
            return Real.of(_trace(self.hessian()))
        if name == "rank":
            return self.cached("rank", lambda: Real.of(exact_rank(self.hessian())))
        if name == "loss":
            r = p.residual()
            data = sum((Fraction(x) ** 2 for x in r.flat), Fraction(0)) / 2
            return Real.of(data + self.lam * _weights_squared(self.weights()) / 2)
        if name == "lam":
            return Real.of(self.lam)
        raise Undefined(f"unknown quantity {name}")  # pragma: no cover


def _shifted(h: np.ndarray, lam: Fraction) -> np.ndarray:
    """``h + lam I`` (``h`` itself when ``lam = 0``)."""
    if lam:
        for i in range(h.shape[0]):
            h[i, i] = h[i, i] + lam
    return h


def _weights_squared(ws: list[np.ndarray]) -> Fraction:
    """``sum_l ||W_l||_F^2`` exactly."""
    return sum((Fraction(x) ** 2 for w in ws for x in w.flat), Fraction(0))


def _trace(m: np.ndarray) -> Fraction:
    if m.shape[0] != m.shape[1]:
        raise Undefined(f"tr needs a square matrix; got shape {m.shape}")
    return sum((Fraction(m[i, i]) for i in range(m.shape[0])), Fraction(0))


def _symmetric(m: np.ndarray, fn: str) -> None:
    if m.shape[0] != m.shape[1] or any(m[i, j] != m[j, i] for i in range(m.shape[0])
                                       for j in range(i)):
        raise Undefined(f"{fn} needs a symmetric matrix; got one of shape {m.shape} that is not")
    if m.shape[0] > MAX_EXACT_SIZE:
        raise Undefined(f"{fn} of a {m.shape[0]} x {m.shape[0]} matrix: exact spectra are "
                        f"limited to {MAX_EXACT_SIZE}")


def _sigmas_squared(m: np.ndarray) -> list[Any]:
    g = _gram_small(m)
    _symmetric(g, "sigma")
    out = []
    for v, mult in exact_eigenvalues(g):
        out += [v] * mult
    return out


# ----------------------------------------------------------------------------- exact


def exact_value(node: Node, env: ExactPoint) -> AlgebraicFormula:
    """A scalar side exactly (``Undefined`` when a quantity is undefined at the point)."""
    try:
        v = _Exact(env).ev(node, None)
    except Undefined:
        raise
    except (DmfError, ZeroDivisionError, IndexError) as exc:
        raise Undefined(str(exc).splitlines()[0]) from None
    if isinstance(v, np.ndarray):  # pragma: no cover - the parser refuses matrix sides
        raise Undefined("a side is a matrix")
    try:
        return v.value()
    except DmfError as exc:
        raise Undefined(str(exc).splitlines()[0]) from None


def _as_rational(x: Real, what: str) -> Fraction:
    r = x.rational()
    if r is None:
        raise Undefined(f"{what} is not rational at this point")
    return r


def _as_int(x: Real, what: str) -> int:
    r = _as_rational(x, what)
    if r.denominator != 1:
        raise Undefined(f"{what} = {r} is not an integer")
    return int(r)


def _shape_check(a: np.ndarray, b: np.ndarray, op: str) -> None:
    ok = a.shape == b.shape if op in "+-" else a.shape[1] == b.shape[0]
    if not ok:
        raise Undefined(f"shapes {a.shape} and {b.shape} do not fit for '{op}'")


class _Exact:
    def __init__(self, env: ExactPoint) -> None:
        self.env = env

    def ev(self, node: Node, l: int | None) -> Any:
        env = self.env
        if isinstance(node, Num):
            return Real.of(node.value)
        if isinstance(node, Var):
            if node.name == "l":
                return Real.of(l)
            if node.kind == "mat":
                return env.matrix(node.name)
            return env.scalar(node.name)
        if isinstance(node, Sub):
            i = _as_int(self.ev(node.index, l), "an index")
            if node.name == "d":
                if not 0 <= i <= env.point.depth:
                    raise Undefined(f"d[{i}] does not exist at depth L = {env.point.depth} "
                                    "(widths are d[0] .. d[L])")
                return Real.of(env.point.dims[i])
            if node.name == "s":
                return self.sigma(env.matrix("M"), i)
            return env.matrix(node.name, i)
        if isinstance(node, Call):
            return self.call(node, l)
        if isinstance(node, Reduce):
            return self.reduce(node)
        if isinstance(node, Neg):
            v = self.ev(node.operand, l)
            return -v if isinstance(v, np.ndarray) else Real(-v.value())
        if isinstance(node, Transpose):
            return np.asarray(self.ev(node.operand, l).T, dtype=object)
        if isinstance(node, Bin):
            return self.binary(node, l)
        raise Undefined(f"cannot evaluate {type(node).__name__}")  # pragma: no cover

    def sigma(self, m: np.ndarray, i: int) -> Real:
        vals = self.env.cached(("sigma", id(m)), lambda: (m, _sigmas_squared(m)))[1]
        if not 1 <= i <= len(vals):
            raise Undefined(f"sigma index {i} is outside 1..{len(vals)} for a "
                            f"{m.shape[0]} x {m.shape[1]} matrix")
        return Real(AlgebraicFormula.of(vals[i - 1]), Fraction(1, 2), True)

    def call(self, node: Call, l: int | None) -> Any:
        f = node.name
        args = [self.ev(a, l) for a in node.args]
        if f == "norm2":
            g = _gram_small(args[0])
            _symmetric(g, "norm2")
            return Real(AlgebraicFormula.of(exact_lambda_max(g)), Fraction(1, 2), True)
        if f == "fro":
            frob2 = sum((Fraction(x) ** 2 for x in args[0].flat), Fraction(0))
            return Real(AlgebraicFormula.of(frob2), Fraction(1, 2), True)
        if f == "sigma":
            return self.sigma(args[0], _as_int(args[1], "the sigma index"))
        if f == "rank":
            return Real.of(exact_rank(args[0]))
        if f == "tr":
            return Real.of(_trace(args[0]))
        if f in ("lmax", "lmin"):
            _symmetric(args[0], f)
            if f == "lmax":
                return Real.of(exact_lambda_max(args[0]))
            return Real.of(exact_eigenvalues(args[0])[-1][0])
        if f == "sqrt":
            return _power(args[0], Fraction(1, 2))
        if f == "abs":
            x = args[0]
            if x.nonneg:
                return x
            v = x.value()
            return Real(-v) if _sign(v) < 0 else Real(v)
        return self.extreme(f, args)

    def extreme(self, f: str, args: list[Real]) -> Real:
        best = args[0]
        for x in args[1:]:
            s = _sign(x.value() - best.value())
            if (s > 0 and f == "max") or (s < 0 and f == "min"):
                best = x
        return best

    def reduce(self, node: Reduce) -> Any:
        vals = [self.ev(node.body, l) for l in range(1, self.env.point.depth + 1)]
        if node.name in ("max", "min"):
            return self.extreme(node.name, vals)
        acc = vals[0]
        for v in vals[1:]:
            if node.name == "sum":
                acc = self.add(acc, v, "+")
            else:
                acc = Real(acc.value() * v.value())
        return acc

    def add(self, a: Any, b: Any, op: str) -> Any:
        if isinstance(a, np.ndarray):
            _shape_check(a, b, op)
            return np.asarray(a + b if op == "+" else a - b, dtype=object)
        return Real(a.value() + b.value() if op == "+" else a.value() - b.value())

    def binary(self, node: Bin, l: int | None) -> Any:
        a, b = self.ev(node.left, l), self.ev(node.right, l)
        op = node.op
        if op in "+-":
            return self.add(a, b, op)
        if op == "@":
            _shape_check(a, b, "@")
            return np.asarray(a @ b, dtype=object)
        if op == "**":
            return _power(a, _as_rational(b, "an exponent"))
        if op == "*":
            if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
                m, s = (a, b) if isinstance(a, np.ndarray) else (b, a)
                return np.asarray(m * _as_rational(s, "a number multiplying a matrix"),
                                  dtype=object)
            return Real(a.value() * b.value())
        # division
        if isinstance(a, np.ndarray):
            q = _as_rational(b, "a number dividing a matrix")
            if q == 0:
                raise Undefined("division by zero")
            return np.asarray(a / q, dtype=object)
        return Real(a.value() * reciprocal(b.value()))


# ----------------------------------------------------------------------------- float64


class FloatPoint(_Cached):
    """A point with float64 copies of its quantities (APPROXIMATE: only to steer searches)."""

    def weights(self) -> list[np.ndarray]:
        return self.cached("ws", lambda: [np.array(w, dtype=np.float64)
                                          for w in self.point.weights])

    def hessian(self) -> np.ndarray:
        from numeric.hessian import full_hessian

        p = self.point

        def build() -> np.ndarray:
            x = None if p.data is None else np.array(p.data, dtype=np.float64)
            h = full_hessian(self.weights(), x, np.array(p.labels, dtype=np.float64))
            return h + float(self.lam) * np.eye(h.shape[0]) if self.lam else h

        return self.cached("H", build)

    def eigs(self) -> np.ndarray:
        return self.cached("eigs", lambda: np.linalg.eigvalsh(self.hessian()))

    def matrix(self, name: str, l: int | None = None) -> np.ndarray:
        p = self.point
        if name == "W":
            return self.weights()[self.layer(l or 0, "W") - 1]
        if name == "A":
            return left_factor(self.weights(), self.layer(l or 0, "A"))
        if name == "B":
            return right_factor(self.weights(), self.layer(l or 0, "B"))
        if name == "M":
            if p.data is not None:
                raise Undefined("M is the target of a point without data")
            return self.cached("M", lambda: np.array(p.labels, dtype=np.float64))
        if name == "X":
            return np.eye(p.dims[0]) if p.data is None else np.array(p.data, dtype=np.float64)
        if name == "Y":
            return np.array(p.labels, dtype=np.float64)
        if name == "H":
            return self.hessian()
        if name == "K":
            if not self.minimizer():
                raise Undefined("K is defined only at minimizers")
            from numeric.reduced import reduced_operator

            x = None if p.data is None else np.array(p.data, dtype=np.float64)
            return self.cached("K", lambda: reduced_operator(self.weights(), x, form="gram"))
        raise Undefined(f"unknown matrix {name}")  # pragma: no cover

    def scalar(self, name: str) -> float:
        p = self.point
        if name == "L":
            return float(p.depth)
        if name == "P":
            return float(p.num_params)
        if name == "lambda_max":
            return float(self.eigs()[-1])
        if name == "lambda_min":
            return float(self.eigs()[0])
        if name == "trace":
            return float(np.trace(self.hessian()))
        if name == "rank":
            return float(np.linalg.matrix_rank(self.hessian()))
        if name == "loss":
            data = float(sum(float(x) ** 2 for x in p.residual().flat) / 2)
            if not self.lam:
                return data
            return data + float(self.lam) * sum(float(np.sum(w * w)) for w in self.weights()) / 2
        if name == "lam":
            return float(self.lam)
        raise Undefined(f"unknown quantity {name}")  # pragma: no cover


def float_value(node: Node, env: FloatPoint) -> float:
    """A scalar side in float64 (APPROXIMATE; ``Undefined`` as in the exact evaluation)."""
    with np.errstate(all="ignore"):
        try:
            v = _Float(env).ev(node, None)
        except (ValueError, np.linalg.LinAlgError, ZeroDivisionError, OverflowError,
                IndexError) as exc:
            raise Undefined(str(exc).splitlines()[0] if str(exc) else "float error") from None
    if isinstance(v, np.ndarray):  # pragma: no cover
        raise Undefined("a side is a matrix")
    return float(v)


def _fsym(m: np.ndarray, fn: str) -> np.ndarray:
    if m.ndim != 2 or m.shape[0] != m.shape[1] or not np.allclose(m, m.T):
        raise Undefined(f"{fn} needs a symmetric matrix")
    return np.linalg.eigvalsh((m + m.T) / 2)


class _Float:
    def __init__(self, env: FloatPoint) -> None:
        self.env = env

    def ev(self, node: Node, l: int | None) -> Any:
        env = self.env
        if isinstance(node, Num):
            return float(node.value)
        if isinstance(node, Var):
            if node.name == "l":
                return float(l or 0)
            return env.matrix(node.name) if node.kind == "mat" else env.scalar(node.name)
        if isinstance(node, Sub):
            i = self.integer(self.ev(node.index, l))
            if node.name == "d":
                if not 0 <= i <= env.point.depth:
                    raise Undefined(f"d[{i}] does not exist")
                return float(env.point.dims[i])
            if node.name == "s":
                return self.sigma(env.matrix("M"), i)
            return env.matrix(node.name, i)
        if isinstance(node, Call):
            return self.call(node, l)
        if isinstance(node, Reduce):
            vals = [self.ev(node.body, k) for k in range(1, env.point.depth + 1)]
            if node.name == "max":
                return max(vals)
            if node.name == "min":
                return min(vals)
            acc = vals[0]
            for v in vals[1:]:
                if node.name == "sum":
                    if isinstance(acc, np.ndarray) and acc.shape != v.shape:
                        raise Undefined("shapes do not fit for '+'")
                    acc = acc + v
                else:
                    acc = acc * v
            return acc
        if isinstance(node, Neg):
            return -self.ev(node.operand, l)
        if isinstance(node, Transpose):
            return self.ev(node.operand, l).T
        if isinstance(node, Bin):
            return self.binary(node, l)
        raise Undefined("cannot evaluate")  # pragma: no cover

    @staticmethod
    def integer(x: float) -> int:
        if x != round(x):
            raise Undefined(f"index {x} is not an integer")
        return round(x)

    @staticmethod
    def sigma(m: np.ndarray, i: int) -> float:
        s = np.linalg.svd(m, compute_uv=False)
        if not 1 <= i <= len(s):
            raise Undefined(f"sigma index {i} out of range")
        return float(s[i - 1])

    def call(self, node: Call, l: int | None) -> Any:
        f = node.name
        args = [self.ev(a, l) for a in node.args]
        if f == "norm2":
            return float(np.linalg.norm(args[0], 2))
        if f == "fro":
            return float(np.linalg.norm(args[0]))
        if f == "sigma":
            return self.sigma(args[0], self.integer(args[1]))
        if f == "rank":
            return float(np.linalg.matrix_rank(args[0]))
        if f == "tr":
            if args[0].shape[0] != args[0].shape[1]:
                raise Undefined("tr needs a square matrix")
            return float(np.trace(args[0]))
        if f == "lmax":
            return float(_fsym(args[0], f)[-1])
        if f == "lmin":
            return float(_fsym(args[0], f)[0])
        if f == "sqrt":
            if args[0] < 0:
                raise Undefined("sqrt of a negative number")
            return float(np.sqrt(args[0]))
        if f == "abs":
            return abs(args[0])
        return max(args) if f == "max" else min(args)

    def binary(self, node: Bin, l: int | None) -> Any:
        a, b = self.ev(node.left, l), self.ev(node.right, l)
        op = node.op
        if op in "+-":
            if isinstance(a, np.ndarray) and a.shape != b.shape:
                raise Undefined(f"shapes do not fit for '{op}'")
            return a + b if op == "+" else a - b
        if op == "@":
            if a.shape[1] != b.shape[0]:
                raise Undefined("shapes do not fit for '@'")
            return a @ b
        if op == "*":
            return a * b
        if op == "/":
            if b == 0:
                raise Undefined("division by zero")
            return a / b
        if a < 0 and b != round(b):
            raise Undefined("a negative number to a fractional power")
        if a == 0 and b < 0:
            raise Undefined("zero to a negative power")
        return float(a) ** float(b)
