"""``proved`` for polynomial identities: a conjecture whose relations are all ``==`` between
polynomials in the weights (and the target or data) is proved by exact expansion over Q for every
dims of its family's range, when that range is small.

Public:
    try_prove(statement, family, shape, lam=0) -> ProofResult | None
        ``None`` when the statement is not a polynomial identity or the range is too large (the
        engine then decides it); otherwise whether every dims was proved, with the dims listed.
    MAX_DIMS, MAX_PARAMS, MAX_TERMS   the limits (counts, so the outcome never depends on load)

Polynomial vocabulary: numbers, ``L``, ``P``, ``d[l]``, ``l``, ``lam``; ``W[l]``, ``A[l]``, ``B[l]``, ``M``,
``X``, ``Y``, ``H``; ``trace``, ``loss``, ``tr(m)``, ``fro(m)**(2k)``, ``+ - *``, ``/`` by a
nonzero number, ``**`` a nonnegative integer, ``@``, ``.T``, ``sum``/``prod`` over layers.
Everything else (eigenvalues, ``norm2``, ``sigma``, ``sqrt``, ``abs``, ``max``, ``min``, ``K``,
ranks) makes the statement non-polynomial here.

Method (docs/mathematics.md K1): the weight entries, the target ``M`` (data ``X``, labels ``Y``)
are independent indeterminates of a SymPy sparse polynomial ring over QQ; ``loss = 1/2
||W_L...W_1 X - Y||_F^2 + (lam/2) sum_l ||W_l||_F^2`` (``lam`` the conjecture's exact weight
decay, a constant; K8), ``H`` its Hessian in the weight entries (``M``/``Y`` held fixed),
then, for the minimizer families, ``M = W_L...W_1`` substituted. The identity is proved for
those dims when ``lhs - rhs`` expands to the zero polynomial. Proving it for all minimizers of
given dims proves it for every minimizer kind of those dims (balanced, rank-deficient, ...).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from numeric.conjecture.families import Family, Shape
from numeric.conjecture.language import (
    Bin,
    Call,
    Neg,
    Node,
    Num,
    Reduce,
    Statement,
    Sub,
    Transpose,
    Var,
)

__all__ = ["MAX_DIMS", "MAX_PARAMS", "MAX_TERMS", "ProofResult", "try_prove"]

MAX_DIMS = 64
MAX_PARAMS = 16
MAX_TERMS = 20000


class _NotPolynomial(Exception):
    pass


@dataclass(frozen=True)
class ProofResult:
    """``proved``: ``lhs - rhs`` expanded to 0 for every dims in ``dims``; otherwise
    ``failed_at`` is the first dims where it did not (the engine then looks for the
    counterexample)."""

    proved: bool
    dims: tuple[tuple[int, ...], ...]
    failed_at: tuple[int, ...] | None = None
    samples: tuple[int, ...] = ()

    def text(self) -> str:
        shown = ", ".join(str(d) for d in self.dims[:12]) + (" ..." if len(self.dims) > 12 else "")
        extra = f" with N = {', '.join(map(str, self.samples))} data columns" if self.samples else ""
        return (f"polynomial identity proved by exact expansion over Q for all {len(self.dims)} "
                f"dims of the range{extra}: {shown}")


_POLY_CALLS = {"tr", "fro"}
_POLY_NAMES = {"L", "P", "l", "lam", "trace", "loss", "W", "A", "B", "M", "X", "Y", "H", "d"}


def _is_polynomial(node: Node, parent_pow: bool = False) -> bool:
    if isinstance(node, Num):
        return True
    if isinstance(node, Var):
        return node.name in _POLY_NAMES
    if isinstance(node, Sub):
        return node.name in _POLY_NAMES and _is_polynomial(node.index)
    if isinstance(node, Call):
        if node.name not in _POLY_CALLS or (node.name == "fro" and not parent_pow):
            return False
        return all(_is_polynomial(a) for a in node.args)
    if isinstance(node, Reduce):
        return node.name in ("sum", "prod") and _is_polynomial(node.body)
    if isinstance(node, Neg | Transpose):
        return _is_polynomial(node.operand)
    if isinstance(node, Bin):
        if node.op == "**":
            return (node.right.kind == "int" and _is_polynomial(node.left, parent_pow=True)
                    and _is_polynomial(node.right))
        if node.op == "/":
            return node.right.kind in ("int", "rat") and _is_polynomial(node.left) and \
                _is_polynomial(node.right)
        return _is_polynomial(node.left) and _is_polynomial(node.right)
    return False


def _dims_in_range(family: Family, shape: Shape) -> list[tuple[int, ...]] | None:
    top = shape.width[1] + 2
    out: list[tuple[int, ...]] = []
    for depth in range(shape.depth[0], shape.depth[1] + 1):
        for dims in itertools.product(range(1, top + 1), repeat=depth + 1):
            if shape.dims_ok(dims, over=family.over):
                out.append(dims)
                if len(out) > MAX_DIMS:
                    return None
    return out


def try_prove(statement: Statement, family: Family, shape: Shape,
              lam: Fraction = Fraction(0)) -> ProofResult | None:
    """Prove a polynomial identity for every dims of the range (see the module docstring), or
    ``None`` when this does not apply (also for ``regularized-minimizers``: its points are
    not a free polynomial family)."""
    if not all(r.op == "==" and _is_polynomial(r.left) and _is_polynomial(r.right)
               for r in statement.relations):
        return None
    if family.name == "data-minimizers" or family.regularized:
        return None  # Y = f X + Z with Z X^T = 0 is not a free polynomial family
    all_dims = _dims_in_range(family, shape)
    if not all_dims:
        return None
    samples = (1, 2, 3) if family.data else (0,)
    if any(sum(a * b for a, b in itertools.pairwise(d)) > MAX_PARAMS for d in all_dims):
        return None
    try:
        for dims in all_dims:
            for n in samples:
                if not _proved_at(statement, family, dims, n, lam):
                    return ProofResult(False, tuple(all_dims), dims,
                                       samples if family.data else ())
    except _NotPolynomial:
        return None
    return ProofResult(True, tuple(all_dims), None, samples if family.data else ())


# ----------------------------------------------------------------------------- evaluation


class _Point:
    """Symbolic weights (and target or data) in a polynomial ring over QQ."""

    def __init__(self, family: Family, dims: tuple[int, ...], n: int,
                 lam: Fraction = Fraction(0)) -> None:
        from sympy import QQ
        from sympy.polys.rings import ring

        self.dims, self.depth, self.lam = dims, len(dims) - 1, lam
        names: list[str] = []
        for l in range(1, self.depth + 1):
            names += [f"w{l}_{i}_{j}" for i in range(dims[l]) for j in range(dims[l - 1])]
        self.num_params = len(names)
        self.data = family.data
        if self.data:
            names += [f"x{i}_{j}" for i in range(dims[0]) for j in range(n)]
            names += [f"y{i}_{j}" for i in range(dims[-1]) for j in range(n)]
        else:
            names += [f"m{i}_{j}" for i in range(dims[-1]) for j in range(dims[0])]
        self.ring, *gens = ring(",".join(names), QQ)
        it = iter(gens)
        self.weights = []
        for l in range(1, self.depth + 1):
            w = np.empty((dims[l], dims[l - 1]), dtype=object)
            for i in range(dims[l]):
                for j in range(dims[l - 1]):
                    w[i, j] = next(it)
            self.weights.append(w)
        self.wvars = gens[:self.num_params]
        rest = list(it)
        if self.data:
            k = dims[0] * n
            self.x = np.array(rest[:k], dtype=object).reshape(dims[0], n)
            self.y = np.array(rest[k:], dtype=object).reshape(dims[-1], n)
            self.m_subs: list[Any] = []
        else:
            self.x = _identity(self.ring, dims[0])
            self.y = np.array(rest, dtype=object).reshape(dims[-1], dims[0])
            if family.minimizers:
                prod = self.product()
                self.m_subs = [(self.y[i, j], prod[i, j]) for i in range(dims[-1])
                               for j in range(dims[0])]
            else:
                self.m_subs = []
        self._hessian: np.ndarray | None = None

    def product(self) -> np.ndarray:
        out = self.weights[0]
        for w in self.weights[1:]:
            out = w @ out
        return out

    def left(self, l: int) -> np.ndarray:
        out = _identity(self.ring, self.dims[l])
        for w in self.weights[l:]:
            out = w @ out
        return out

    def right(self, l: int) -> np.ndarray:
        out = _identity(self.ring, self.dims[0])
        for w in self.weights[: l - 1]:
            out = w @ out
        return out

    def loss(self) -> Any:
        r = self.product() @ self.x - self.y
        data = sum((v * v for v in r.flat), self.ring(0)) / 2
        if not self.lam:
            return data
        return data + self.ring(self.lam) * sum((v * v for v in self.wvars), self.ring(0)) / 2

    def hessian(self) -> np.ndarray:
        if self._hessian is None:
            g = [self.loss().diff(v) for v in self.wvars]
            h = np.empty((self.num_params, self.num_params), dtype=object)
            for a in range(self.num_params):
                for b in range(a, self.num_params):
                    h[a, b] = h[b, a] = g[a].diff(self.wvars[b])
            self._hessian = h
        return self._hessian

    def finish(self, p: Any) -> Any:
        """Substitute ``M = W_L ... W_1`` (minimizer families)."""
        if self.m_subs:
            p = p.compose(self.m_subs)
        if len(p.terms()) > MAX_TERMS:
            raise _NotPolynomial("too many terms")
        return p


def _identity(r: Any, n: int) -> np.ndarray:
    out = np.empty((n, n), dtype=object)
    for i in range(n):
        for j in range(n):
            out[i, j] = r(1 if i == j else 0)
    return out


def _proved_at(statement: Statement, family: Family, dims: tuple[int, ...], n: int,
               lam: Fraction = Fraction(0)) -> bool:
    pt = _Point(family, dims, n, lam)
    ev = _Sym(pt)
    for rel in statement.relations:
        diff = ev.scalar(rel.left, None) - ev.scalar(rel.right, None)
        if not pt.finish(diff).is_zero:
            return False
    return True


class _Sym:
    def __init__(self, pt: _Point) -> None:
        self.pt = pt
        self.r = pt.ring

    def scalar(self, node: Node, l: int | None) -> Any:
        v = self.ev(node, l)
        if isinstance(v, np.ndarray):  # pragma: no cover - the parser refuses matrix sides
            raise _NotPolynomial("matrix side")
        return v

    def const(self, node: Node, l: int | None) -> Fraction:
        v = self.scalar(node, l)
        if not v.is_ground:
            raise _NotPolynomial("not a constant")
        if v.is_zero:
            return Fraction(0)
        c = v.LC
        return Fraction(int(c.numerator), int(c.denominator))

    def ev(self, node: Node, l: int | None) -> Any:
        pt, r = self.pt, self.r
        if isinstance(node, Num):
            return r(node.value)
        if isinstance(node, Var):
            name = node.name
            if name == "l":
                return r(l)
            if name == "L":
                return r(pt.depth)
            if name == "P":
                return r(pt.num_params)
            if name == "lam":
                return r(pt.lam)
            if name == "loss":
                return pt.loss()
            if name == "trace":
                h = pt.hessian()
                return sum((h[i, i] for i in range(pt.num_params)), r(0))
            if name == "H":
                return pt.hessian()
            if name == "M":
                if pt.data:
                    raise _NotPolynomial("M with data")
                return pt.y
            if name == "X":
                return pt.x
            if name == "Y":
                return pt.y
            raise _NotPolynomial(name)
        if isinstance(node, Sub):
            i = int(self.const(node.index, l))
            if node.name == "d":
                if not 0 <= i <= pt.depth:
                    raise _NotPolynomial("undefined width")
                return r(pt.dims[i])
            if not 1 <= i <= pt.depth:
                raise _NotPolynomial("undefined layer")
            if node.name == "W":
                return pt.weights[i - 1]
            if node.name == "A":
                return pt.left(i)
            if node.name == "B":
                return pt.right(i)
            raise _NotPolynomial(node.name)
        if isinstance(node, Call):  # tr only (fro appears under an even power)
            m = self.ev(node.args[0], l)
            if node.name != "tr" or m.shape[0] != m.shape[1]:
                raise _NotPolynomial(node.name)
            return sum((m[i, i] for i in range(m.shape[0])), r(0))
        if isinstance(node, Reduce):
            vals = [self.ev(node.body, k) for k in range(1, pt.depth + 1)]
            acc = vals[0]
            for v in vals[1:]:
                if isinstance(acc, np.ndarray) and acc.shape != v.shape:
                    raise _NotPolynomial("shapes")
                acc = acc + v if node.name == "sum" else acc * v
            return acc
        if isinstance(node, Neg):
            return -self.ev(node.operand, l)
        if isinstance(node, Transpose):
            return self.ev(node.operand, l).T
        if isinstance(node, Bin):
            return self.binary(node, l)
        raise _NotPolynomial(type(node).__name__)  # pragma: no cover

    def binary(self, node: Bin, l: int | None) -> Any:
        r = self.r
        if node.op == "**":
            e = self.const(node.right, l)
            if e.denominator != 1 or e < 0:
                raise _NotPolynomial("exponent")
            k = int(e)
            if isinstance(node.left, Call) and node.left.name == "fro":
                if k % 2:
                    raise _NotPolynomial("odd power of fro")
                m = self.ev(node.left.args[0], l)
                return sum((v * v for v in m.flat), r(0)) ** (k // 2)
            return self.scalar(node.left, l) ** k
        a, b = self.ev(node.left, l), self.ev(node.right, l)
        if node.op in "+-":
            if isinstance(a, np.ndarray) and a.shape != b.shape:
                raise _NotPolynomial("shapes")
            return a + b if node.op == "+" else a - b
        if node.op == "@":
            if a.shape[1] != b.shape[0]:
                raise _NotPolynomial("shapes")
            return a @ b
        if node.op == "*":
            return a * b
        c = self.const(node.right, l)
        if c == 0:
            raise _NotPolynomial("division by zero")
        return a * r(1 / c)
