"""Identities of docs/mathematics.md proved symbolically: polynomial identities for given dims, and
matrix-calculus identities for symbolic sizes.

Public:
    ProofResult                      what was proved, for which sizes, how, and how long it took
    prove_equal                      the core check: ``lhs - rhs`` expands to the zero polynomial
    symbolic_reduced_operator        ``K = sum_l (X^T B_l^T B_l X) kron (A_l A_l^T)`` (K2)
    prove_gradient_formula           ``dL/dW_l = A_l^T R X^T B_l^T`` (K1), given dims
    prove_gauss_newton               ``H = J^T J + sum_{i,n} (R X^T)_{in} Hess f_{in}`` (K1, K2)
    prove_jjt_equals_k               ``J J^T = K`` (K2), given dims
    prove_kronecker_sum              depth 2: ``J J^T = I kron W_2 W_2^T + W_1^T W_1 kron I`` (K5)
    prove_gradient_formula_all_sizes the gradient formula for symbolic widths (SymPy MatrixSymbol)
    prove_gauss_newton_all_sizes     the Gauss-Newton identity for symbolic widths
    prove_matrix_expressions_equal   the core check for matrix expressions of symbolic size
    ALL_IDENTITIES                   identity name -> function
    FIXED_DIMS_IDENTITIES, ALL_SIZES_IDENTITIES   which names take ``dims`` and which take nothing

Method, given dims: every side is built as exact polynomials over ``QQ`` in the weight symbols
(``w{l}_{i}_{j}``), the target/label symbols (``m_i_j``/``y_i_j``) and any data symbols; the
difference of the two sides is expanded and the identity is proved iff every entry is the zero
polynomial (exact coefficient comparison: no numeric samples). Derivatives come from
``derivations.hessian`` (differentiating the loss); ``A_l``, ``B_l``, ``K`` are built from the
symbolic weight matrices here, independently of the derivatives.

Method, all sizes: ``W_l`` are SymPy ``MatrixSymbol``s of symbolic shapes ``n_l x n_(l-1)``,
``X`` is ``n_0 x N`` and ``Y`` is ``n_L x N`` (``X = I`` is the case ``N = n_0``); SymPy's matrix
calculus differentiates ``Trace(R^T R)/2`` with respect to each ``W_l``, and an identity is proved
iff SymPy reduces ``(lhs - rhs).expand().doit()`` to zero. The depth is fixed (1, 2, 3 by
default; ``depths=(4,)`` also works, in about 3 s for the gradient and 17 s for Gauss-Newton):
SymPy cannot handle a symbolic number of factors, so "all sizes" means all widths, all ``N``
and all ``X``, ``Y`` at each listed depth.

>>> prove_gradient_formula((2, 1, 2)).proved
True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy
from sympy.polys.matrices import DomainMatrix

from derivations.errors import ShapeError
from derivations.hessian import (
    gauss_newton_poly,
    gradient_poly,
    hessian_poly,
    jacobian_poly,
)
from derivations.symbolic import PolyModel, cached_model, normalize_inputs

__all__ = [
    "ALL_IDENTITIES",
    "ALL_SIZES_IDENTITIES",
    "FIXED_DIMS_IDENTITIES",
    "ProofResult",
    "prove_equal",
    "prove_gauss_newton",
    "prove_gauss_newton_all_sizes",
    "prove_gradient_formula",
    "prove_gradient_formula_all_sizes",
    "prove_jjt_equals_k",
    "prove_kronecker_sum",
    "prove_matrix_expressions_equal",
    "symbolic_reduced_operator",
]


@dataclass(frozen=True)
class ProofResult:
    """The outcome of one symbolic proof.

    ``identity``: its name; ``dims``: the sizes (``None`` for symbolic sizes); ``proved``: whether
    the identity was established; ``holds_for``: what was established, in words; ``detail``: how
    (or the first nonzero entry of the difference); ``seconds``: wall time of the proof.
    """

    identity: str
    dims: tuple[int, ...] | None
    proved: bool
    holds_for: str
    detail: str
    seconds: float


# ---------------------------------------------------------------------------------------------
# the core check for given dims


def _describe_ring(pm: PolyModel) -> str:
    extra = f" and {len(pm.extra_symbols)} data/label symbols" if pm.extra_symbols else ""
    return f"{len(pm.params)} weight symbols{extra}"


def prove_equal(
    identity: str,
    dims: tuple[int, ...],
    lhs: DomainMatrix,
    rhs: DomainMatrix,
    *,
    holds_for: str,
    what: str,
    started: float | None = None,
) -> ProofResult:
    """Prove ``lhs == rhs`` as matrices of polynomials: ``proved`` iff ``lhs - rhs`` is the zero
    matrix after exact expansion. ``what`` names the identity in the detail message.

    >>> from derivations.symbolic import poly_model
    >>> pm = poly_model((1, 1, 1))
    >>> w1, w2 = pm.weights
    >>> prove_equal("commute", (1, 1, 1), w2 * w1, w1 * w2, holds_for="1 x 1", what="W2 W1 = W1 W2").proved
    True
    """
    t0 = time.perf_counter() if started is None else started
    if lhs.shape != rhs.shape:
        return ProofResult(
            identity, dims, False, "nothing (shapes differ)",
            f"{what}: left side is {lhs.shape}, right side is {rhs.shape}",
            time.perf_counter() - t0,
        )
    diff = (lhs - rhs).to_list()
    bad = [(i, j, p) for i, row in enumerate(diff) for j, p in enumerate(row) if p]
    ring = lhs.domain
    if not bad:
        detail = (
            f"{what}: all {lhs.shape[0]} x {lhs.shape[1]} entries of the difference expand to the "
            f"zero polynomial over QQ in {len(ring.symbols)} symbols"
        )
        return ProofResult(identity, dims, True, holds_for, detail, time.perf_counter() - t0)
    i, j, p = bad[0]
    text = str(ring.to_sympy(p))
    text = text if len(text) <= 300 else text[:300] + "..."
    detail = (
        f"{what} is false: {len(bad)} of {lhs.shape[0] * lhs.shape[1]} entries of the difference "
        f"are nonzero polynomials; entry ({i}, {j}) is {text}"
    )
    return ProofResult(identity, dims, False, "nothing", detail, time.perf_counter() - t0)


def _kron(a: DomainMatrix, b: DomainMatrix) -> DomainMatrix:
    """The Kronecker product ``a kron b`` of two DomainMatrices over one ring."""
    la, lb = a.to_list(), b.to_list()
    (ra, ca), (rb, cb) = a.shape, b.shape
    rows = [
        [la[i // rb][j // cb] * lb[i % rb][j % cb] for j in range(ca * cb)]
        for i in range(ra * rb)
    ]
    return DomainMatrix(rows, (ra * rb, ca * cb), a.domain)


def _dims_text(dims: tuple[int, ...], data: Any) -> str:
    return f"dims {dims}" + ("" if data is None else " with the given data X")


# ---------------------------------------------------------------------------------------------
# identities for given dims


def prove_gradient_formula(dims: Sequence[int], *, data: Any = None) -> ProofResult:
    """``dL/dW_l = A_l^T R X^T B_l^T`` for every layer (docs/mathematics.md K1), with ``Y`` symbolic: the
    gradient from differentiating the loss, reshaped row-major, against the matrix formula.

    >>> prove_gradient_formula((2, 3, 2)).holds_for
    'dims (2, 3, 2), every target M (symbolic m_i_j) and every weight'
    """
    t0 = time.perf_counter()
    key = normalize_inputs(dims, data, None)
    dims_t, x, _ = key
    pm = cached_model(*key)
    grad = gradient_poly(*key)
    rxt = pm.residual if pm.data is None else pm.residual * pm.data.transpose()
    formula: list[Any] = []  # the blocks A_l^T R X^T B_l^T, each flattened row-major, layer 1 first
    for l in range(1, pm.depth + 1):
        block = pm.left(l).transpose() * rxt * pm.right(l).transpose()
        formula.extend(p for row in block.to_list() for p in row)
    rhs = DomainMatrix([[p] for p in formula], (len(formula), 1), pm.ring)
    return prove_equal(
        "gradient-formula", dims_t, grad, rhs,
        holds_for=_holds_for(dims_t, x),
        what=f"dL/dW_l = A_l^T R X^T B_l^T for l = 1..{len(dims_t) - 1} ({_describe_ring(pm)})",
        started=t0,
    )


def _holds_for(dims: tuple[int, ...], x: Any) -> str:
    labels = "every target M (symbolic m_i_j)" if x is None else "every label matrix Y (symbolic y_i_j)"
    return f"{_dims_text(dims, x)}, {labels} and every weight"


def _residual_term(pm: PolyModel) -> DomainMatrix:
    """``S = sum_{i,n} (R X^T)_{in} Hess(f_{in})``: linear in the entries of ``R X^T``."""
    rxt = pm.residual if pm.data is None else pm.residual * pm.data.transpose()
    g = rxt.to_list()
    f = pm.product.to_list()
    p = len(pm.params)
    total = [[pm.ring.zero] * p for _ in range(p)]
    for i, row in enumerate(f):
        for n, fin in enumerate(row):
            first = [fin.diff(a) for a in pm.params]
            for r in range(p):
                if not first[r]:
                    continue
                for c in range(p):
                    second = first[r].diff(pm.params[c])
                    if second:
                        total[r][c] += g[i][n] * second
    return DomainMatrix(total, (p, p), pm.ring)


def prove_gauss_newton(dims: Sequence[int], *, data: Any = None) -> ProofResult:
    """docs/mathematics.md K1/K2: ``H - J^T J = sum_{i,n} (R X^T)_{in} Hess(f_{in})`` as a polynomial
    identity in the weights and the symbolic labels ``Y`` (and ``X`` when symbolic). The right
    side is linear in the entries of ``R X^T``, so ``H = J^T J`` wherever ``R X^T = 0``. Also
    checked directly: ``H - J^T J`` becomes the zero polynomial after substituting
    ``Y := f(W) X``.

    >>> r = prove_gauss_newton((1, 2, 1))
    >>> r.proved, r.holds_for
    (True, 'dims (1, 2, 1), every target M (symbolic m_i_j) and every weight')
    """
    t0 = time.perf_counter()
    key = normalize_inputs(dims, data, None)
    dims_t, x, y = key
    pm = cached_model(*key)
    h = hessian_poly(*key)
    jtj = gauss_newton_poly(dims_t, x)
    first = prove_equal(
        "gauss-newton", dims_t, h - jtj, _residual_term(pm),
        holds_for=_holds_for(dims_t, x),
        what="H - J^T J = sum_{i,n} (R X^T)_{in} Hess(f_{in}) (linear in R X^T)",
        started=t0,
    )
    if not first.proved:
        return first
    zero = _substitute_labels(pm, y, h - jtj)
    nonzero = sum(1 for row in zero.to_list() for p in row if p)
    if nonzero:
        return ProofResult(
            "gauss-newton", dims_t, False, "nothing",
            f"{first.detail}; but after Y := f(W) X, {nonzero} entries of H - J^T J are nonzero",
            time.perf_counter() - t0,
        )
    detail = (
        f"{first.detail}; hence H = J^T J whenever R X^T = 0. Direct check: every entry of "
        "H - J^T J is the zero polynomial after substituting Y := f(W) X"
    )
    return ProofResult(
        "gauss-newton", dims_t, True, first.holds_for, detail, time.perf_counter() - t0
    )


def _substitute_labels(pm: PolyModel, y: sympy.ImmutableMatrix, m: DomainMatrix) -> DomainMatrix:
    """Substitute the label symbols ``Y := f(W) X`` into every entry of ``m``."""
    gens = {str(s): g for s, g in zip(pm.extra_symbols, pm.extras, strict=True)}
    fx = pm.fx.to_list()
    pairs = [
        (gens[str(y[i, j])], fx[i][j]) for i in range(y.rows) for j in range(y.cols)
    ]
    rows = [[p.compose(pairs) if p else p for p in row] for row in m.to_list()]
    return DomainMatrix(rows, m.shape, m.domain)


def symbolic_reduced_operator(
    dims: Sequence[int], *, data: Any = None, layers: Sequence[int] | None = None
) -> DomainMatrix:
    """``K = sum_l (X^T B_l^T B_l X) kron (A_l A_l^T)`` (docs/mathematics.md K2; with ``X = I`` it is
    ``sum_l (B_l^T B_l) kron (A_l A_l^T)``, size ``d_L d_0``), built from the symbolic ``A_l``,
    ``B_l``; ``layers`` restricts the sum (default: all layers). Matches the column-major vec of
    :func:`derivations.hessian.product_jacobian`.

    >>> symbolic_reduced_operator((1, 1, 1)).to_Matrix()
    Matrix([[w1_0_0**2 + w2_0_0**2]])
    """
    key = normalize_inputs(dims, data, None)
    pm = cached_model(*key)
    chosen = range(1, pm.depth + 1) if layers is None else layers
    total = None
    for l in chosen:
        a, b = pm.left(l), pm.right(l)
        bx = b if pm.data is None else b * pm.data
        term = _kron(bx.transpose() * bx, a * a.transpose())
        total = term if total is None else total + term
    if total is None:
        raise ShapeError("symbolic_reduced_operator: no layers chosen; expected some of 1..L")
    return total


def prove_jjt_equals_k(dims: Sequence[int], *, data: Any = None) -> ProofResult:
    """docs/mathematics.md K2: ``J J^T = K``, with ``J`` the Jacobian of ``vec(f(W) X)`` (column-major vec,
    from differentiation) and ``K = sum_l (X^T B_l^T B_l X) kron (A_l A_l^T)`` built from the
    symbolic factors (``X = I``: ``sum_l (B_l^T B_l) kron (A_l A_l^T)``).

    >>> prove_jjt_equals_k((2, 2, 3)).proved
    True
    """
    t0 = time.perf_counter()
    dims_t, x, _ = normalize_inputs(dims, data, None)
    j = jacobian_poly(dims_t, x)
    k = symbolic_reduced_operator(dims_t, data=x)
    form = "sum_l (B_l^T B_l) kron (A_l A_l^T)" if x is None else "sum_l (X^T B_l^T B_l X) kron (A_l A_l^T)"
    return prove_equal(
        "jjt-equals-k", dims_t, j * j.transpose(), k,
        holds_for=f"{_dims_text(dims_t, x)} and every weight",
        what=f"J J^T = K = {form}", started=t0,
    )


def prove_kronecker_sum(dims: Sequence[int]) -> ProofResult:
    """docs/mathematics.md K5 (depth 2, ``X = I``): ``J J^T = I kron W_2 W_2^T + W_1^T W_1 kron I``.

    >>> prove_kronecker_sum((2, 3, 2)).proved
    True
    """
    t0 = time.perf_counter()
    dims_t, x, _ = normalize_inputs(dims, None, None)
    if len(dims_t) != 3:
        raise ShapeError(
            f"the Kronecker-sum form is a depth-2 identity; dims {dims_t} have depth "
            f"{len(dims_t) - 1}; expected (d_0, d_1, d_2)"
        )
    pm = cached_model(*normalize_inputs(dims_t, None, None))
    w1, w2 = pm.weights
    eye0 = DomainMatrix.eye(dims_t[0], pm.ring)
    eye2 = DomainMatrix.eye(dims_t[2], pm.ring)
    ksum = _kron(eye0, w2 * w2.transpose()) + _kron(w1.transpose() * w1, eye2)
    j = jacobian_poly(dims_t, x)
    return prove_equal(
        "kronecker-sum", dims_t, j * j.transpose(), ksum,
        holds_for=f"dims {dims_t} and every weight",
        what="J J^T = I kron W_2 W_2^T + W_1^T W_1 kron I", started=t0,
    )


# ---------------------------------------------------------------------------------------------
# identities for symbolic sizes (SymPy matrix calculus)


def _is_zero(e: Any) -> bool:
    return bool(e == 0 or getattr(e, "is_ZeroMatrix", False))


def prove_matrix_expressions_equal(
    identity: str, lhs: Any, rhs: Any, *, holds_for: str, what: str
) -> ProofResult:
    """Prove ``lhs == rhs`` for matrix expressions of symbolic size: ``proved`` iff SymPy
    reduces ``(lhs - rhs).expand().doit()`` to zero by its equivalence-preserving rewriting
    (expansion, collection of equal terms). SymPy's canonical form can fail to recognise a true
    identity; then ``proved`` is ``False`` and ``detail`` shows what was left.

    >>> n = sympy.Symbol("n", integer=True, positive=True)
    >>> A, B = sympy.MatrixSymbol("A", n, n), sympy.MatrixSymbol("B", n, n)
    >>> prove_matrix_expressions_equal("t", (A + B).T, A.T + B.T, holds_for="all n", what="t").proved
    True
    """
    t0 = time.perf_counter()
    reduced = (lhs - rhs).expand().doit().expand()
    if _is_zero(reduced):
        detail = f"{what}: SymPy reduces the difference to zero"
        return ProofResult(identity, None, True, holds_for, detail, time.perf_counter() - t0)
    detail = f"{what}: SymPy leaves the nonzero difference {reduced}"
    return ProofResult(identity, None, False, "nothing", detail, time.perf_counter() - t0)


class _SymbolicNet:
    """``W_1..W_L``, directions ``D_1..D_L``, ``X``, ``Y`` as MatrixSymbols of symbolic size."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        n = sympy.symbols(f"n0:{depth + 1}", integer=True, positive=True)
        self.sizes = n
        self.batch = sympy.Symbol("N", integer=True, positive=True)
        self.w = [sympy.MatrixSymbol(f"W{l}", n[l], n[l - 1]) for l in range(1, depth + 1)]
        self.d = [sympy.MatrixSymbol(f"D{l}", n[l], n[l - 1]) for l in range(1, depth + 1)]
        self.x = sympy.MatrixSymbol("X", n[0], self.batch)
        self.y = sympy.MatrixSymbol("Y", n[depth], self.batch)
        self.t = sympy.Symbol("t")

    def chain(self, mats: Sequence[Any], size: Any) -> Any:
        """``mats[-1] * ... * mats[0]``, or ``I_size`` for an empty chain."""
        if not mats:
            return sympy.Identity(size)
        return sympy.MatMul(*reversed(list(mats))) if len(mats) > 1 else mats[0]

    def left(self, l: int) -> Any:
        return self.chain(self.w[l:], self.sizes[l])

    def right(self, l: int) -> Any:
        return self.chain(self.w[: l - 1], self.sizes[0])

    def fx(self) -> Any:
        return self.chain(self.w, self.sizes[0]) * self.x

    def residual(self) -> Any:
        return self.fx() - self.y

    def loss(self) -> Any:
        r = self.residual()
        return sympy.Trace(r.T * r) / 2

    def shifted(self, e: Any) -> Any:
        """``e`` at ``W + t D``."""
        return e.subs({w: w + self.t * d for w, d in zip(self.w, self.d, strict=True)})

    def first_order(self, e: Any) -> Any:
        """The coefficient of ``t`` in ``e(W + t D)``: the directional derivative along ``D``.

        Extracted from the expanded polynomial in ``t``. ``MatrixExpr.diff(t)`` is not used: on
        the depth-2 gradient at ``W + t D`` SymPy 1.14 returned a term ``2*D2*(...)`` where
        ``2*D2.T*(...)`` is due (a dropped transpose, with mismatched shapes)."""
        expanded = sympy.expand(self.shifted(e))
        terms = expanded.args if isinstance(expanded, sympy.MatAdd) else (expanded,)
        keep = []
        for term in terms:
            coeff, mat = term.as_coeff_mmul()
            c1 = sympy.expand(coeff).coeff(self.t, 1)
            if c1 != 0:
                keep.append(c1 * mat)
        if not keep:
            return sympy.ZeroMatrix(*e.shape)
        return sympy.MatAdd(*keep) if len(keep) > 1 else keep[0]

    def d_left(self, l: int) -> Any:
        """``dA_l = sum_{k>l} W_L..W_{k+1} D_k W_{k-1}..W_{l+1}`` (explicit formula)."""
        terms = []
        for k in range(l + 1, self.depth + 1):
            mats = [*self.w[l : k - 1], self.d[k - 1], *self.w[k:]]
            terms.append(self.chain(mats, self.sizes[l]))
        return sympy.MatAdd(*terms) if terms else sympy.ZeroMatrix(self.sizes[-1], self.sizes[l])

    def d_right(self, l: int) -> Any:
        """``dB_l = sum_{k<l} W_{l-1}..W_{k+1} D_k W_{k-1}..W_1`` (explicit formula)."""
        terms = []
        for k in range(1, l):
            mats = [*self.w[: k - 1], self.d[k - 1], *self.w[k : l - 1]]
            terms.append(self.chain(mats, self.sizes[0]))
        return sympy.MatAdd(*terms) if terms else sympy.ZeroMatrix(self.sizes[l - 1], self.sizes[0])


def _all_sizes_text(depths: Sequence[int]) -> str:
    return (
        f"depths {tuple(depths)} with symbolic widths n_0..n_L, any N, every X (n_0 x N, "
        "X = I included), every Y and every weight; not a symbolic depth"
    )


def _combine(identity: str, depths: Sequence[int], parts: list[ProofResult], t0: float) -> ProofResult:
    proved = all(p.proved for p in parts)
    detail = "; ".join(p.detail for p in parts)
    if proved:
        holds_for = _all_sizes_text(depths)
    else:
        ok = [d for d, p in zip(depths, parts, strict=True) if p.proved]
        holds_for = f"depths {tuple(ok)} (symbolic widths)" if ok else "nothing"
    return ProofResult(identity, None, proved, holds_for, detail, time.perf_counter() - t0)


def prove_gradient_formula_all_sizes(*, depths: Sequence[int] = (1, 2, 3)) -> ProofResult:
    """docs/mathematics.md K1 for symbolic widths: SymPy's ``Trace(R^T R)/2 .diff(W_l)`` equals
    ``A_l^T R X^T B_l^T`` for each ``l``, at each depth in ``depths``."""
    t0 = time.perf_counter()
    parts = []
    for depth in depths:
        net = _SymbolicNet(depth)
        loss, r = net.loss(), net.residual()
        sub = []
        for l in range(1, depth + 1):
            grad = loss.diff(net.w[l - 1])
            formula = net.left(l).T * r * net.x.T * net.right(l).T
            sub.append(prove_matrix_expressions_equal(
                "gradient-formula", grad, formula, holds_for="", what=f"L={depth}, l={l}"
            ))
        parts.append(_merge_layers(depth, "dL/dW_l = A_l^T R X^T B_l^T", sub))
    return _combine("gradient-formula-all-sizes", depths, parts, t0)


def _merge_layers(depth: int, what: str, sub: list[ProofResult]) -> ProofResult:
    proved = all(s.proved for s in sub)
    if proved:
        detail = f"depth {depth}: {what} for l = 1..{depth}, SymPy reduces each difference to zero"
    else:
        detail = f"depth {depth}: " + "; ".join(s.detail for s in sub if not s.proved)
    return ProofResult("", None, proved, "", detail, sum(s.seconds for s in sub))


def prove_gauss_newton_all_sizes(*, depths: Sequence[int] = (1, 2, 3)) -> ProofResult:
    """docs/mathematics.md K1/K2 for symbolic widths, through Hessian-vector products along a symbolic
    direction ``D = (D_1, ..., D_L)``:

    ``(H D)_l = (J^T J D)_l + dA_l^T G B_l^T + A_l^T G dB_l^T`` with ``G = R X^T``,

    where ``(H D)_l`` is the coefficient of ``t`` in SymPy's gradient ``dL/dW_l`` at ``W + t D``,
    ``J D`` the coefficient of ``t`` in ``f(W + t D) X``, ``(J^T V)_l = d Tr(V^T f X)/dW_l``, and
    ``dA_l``, ``dB_l`` the explicit first-order variations of the factors. The residual term is
    linear in ``G``, so ``H = J^T J`` wherever ``R X^T = 0``; directly checked too: ``H D = J^T J D``
    after substituting ``Y := f(W) X``."""
    t0 = time.perf_counter()
    parts = []
    for depth in depths:
        net = _SymbolicNet(depth)
        loss, g = net.loss(), net.residual() * net.x.T
        jd = net.first_order(net.fx())
        v = sympy.MatrixSymbol("V", net.sizes[-1], net.batch)
        fit = {net.y: net.fx()}
        sub = []
        for l in range(1, depth + 1):
            w = net.w[l - 1]
            hd = net.first_order(loss.diff(w))
            jtjd = sympy.Trace(v.T * net.fx()).diff(w).subs(v, jd)
            resid = net.d_left(l).T * g * net.right(l).T + net.left(l).T * g * net.d_right(l).T
            sub.append(prove_matrix_expressions_equal(
                "gauss-newton", hd, jtjd + resid, holds_for="", what=f"L={depth}, l={l}"
            ))
            sub.append(prove_matrix_expressions_equal(
                "gauss-newton", hd.subs(fit), jtjd.subs(fit), holds_for="",
                what=f"L={depth}, l={l}, Y := f(W) X",
            ))
        parts.append(_merge_layers(
            depth, "(H D)_l = (J^T J D)_l + dA_l^T R X^T B_l^T + A_l^T R X^T dB_l^T and, at "
            "Y := f(W) X, (H D)_l = (J^T J D)_l", sub,
        ))
    return _combine("gauss-newton-all-sizes", depths, parts, t0)


# ---------------------------------------------------------------------------------------------
# registry

FIXED_DIMS_IDENTITIES = ("gauss-newton", "jjt-equals-k", "kronecker-sum", "gradient-formula")
"""Names whose function takes ``dims`` (``kronecker-sum``: depth 2 only)."""

ALL_SIZES_IDENTITIES = ("gauss-newton-all-sizes", "gradient-formula-all-sizes")
"""Names whose function takes no arguments (symbolic widths, depths 1-3)."""

ALL_IDENTITIES: dict[str, Callable[..., ProofResult]] = {
    "gauss-newton": prove_gauss_newton,
    "jjt-equals-k": prove_jjt_equals_k,
    "kronecker-sum": prove_kronecker_sum,
    "gradient-formula": prove_gradient_formula,
    "gauss-newton-all-sizes": prove_gauss_newton_all_sizes,
    "gradient-formula-all-sizes": prove_gradient_formula_all_sizes,
}
"""Identity name -> proof function: ``ALL_IDENTITIES[name](dims)`` for the names in
``FIXED_DIMS_IDENTITIES``, ``ALL_IDENTITIES[name]()`` for those in ``ALL_SIZES_IDENTITIES``."""
