"""Tests of derivations.identities: true identities are proved, planted false ones are not."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy
from sympy.polys.matrices import DomainMatrix

from derivations.errors import ShapeError, TooLargeError
from derivations.hessian import gauss_newton_poly, gradient_poly, hessian_poly, jacobian_poly
from derivations.identities import (
    ALL_IDENTITIES,
    ALL_SIZES_IDENTITIES,
    FIXED_DIMS_IDENTITIES,
    ProofResult,
    _SymbolicNet,
    prove_equal,
    prove_gauss_newton,
    prove_gauss_newton_all_sizes,
    prove_gradient_formula,
    prove_gradient_formula_all_sizes,
    prove_jjt_equals_k,
    prove_kronecker_sum,
    prove_matrix_expressions_equal,
    symbolic_reduced_operator,
)
from derivations.symbolic import cached_model, matrix_symbols, normalize_inputs

DIMS = [(1, 1), (3, 2), (1, 2, 1), (2, 3, 2), (3, 1, 2), (2, 2, 2, 2), (1, 2, 3, 1), (2, 1, 1, 3)]
DATA = {
    "rational-X": ((2, 3, 2), [[1, Fraction(1, 2), 0], [2, -1, 3]]),
    "wide-X": ((2, 2, 1), [[1, 0, 2, 1], [0, 1, 1, -3]]),
    "symbolic-X": ((1, 2, 2), matrix_symbols("x", 1, 2)),
}


def _check(r: ProofResult, name: str, dims: tuple[int, ...]) -> None:
    assert r.identity == name and r.dims == dims
    assert r.proved, r.detail
    assert f"dims {dims}" in r.holds_for
    assert "zero polynomial" in r.detail and r.seconds >= 0


@pytest.mark.parametrize("dims", DIMS, ids=str)
def test_fixed_dims_identities_are_proved(dims: tuple[int, ...]) -> None:
    _check(prove_gradient_formula(dims), "gradient-formula", dims)
    _check(prove_gauss_newton(dims), "gauss-newton", dims)
    _check(prove_jjt_equals_k(dims), "jjt-equals-k", dims)


@pytest.mark.parametrize("case", list(DATA), ids=str)
def test_identities_with_data_are_proved(case: str) -> None:
    dims, x = DATA[case]
    _check(prove_gradient_formula(dims, data=x), "gradient-formula", dims)
    _check(prove_gauss_newton(dims, data=x), "gauss-newton", dims)
    r = prove_jjt_equals_k(dims, data=x)
    _check(r, "jjt-equals-k", dims)
    assert "X^T B_l^T B_l X" in r.detail


def test_depth3_width3_identities() -> None:
    """dims (3, 3, 3, 3) (P = 27) must work; each proof well inside the 10 s target."""
    dims = (3, 3, 3, 3)
    for name in FIXED_DIMS_IDENTITIES:
        if name == "kronecker-sum":
            continue
        r = ALL_IDENTITIES[name](dims)
        _check(r, name, dims)
        assert r.seconds < 60  # about 1 s on an idle machine; generous for a loaded one


@pytest.mark.parametrize("dims", [(1, 1, 1), (2, 3, 2), (3, 2, 1), (1, 4, 3)], ids=str)
def test_kronecker_sum_depth2(dims: tuple[int, ...]) -> None:
    _check(prove_kronecker_sum(dims), "kronecker-sum", dims)


def test_kronecker_sum_refuses_other_depths() -> None:
    with pytest.raises(ShapeError, match=r"depth-2 identity; dims \(2, 2, 2, 2\) have depth 3"):
        prove_kronecker_sum((2, 2, 2, 2))


def test_too_large_is_refused() -> None:
    with pytest.raises(TooLargeError, match=r"P = 98 parameters"):
        prove_gauss_newton((7, 7, 7))


# --- planted false identities: the machinery must say "not proved" ---------------------------


@pytest.mark.parametrize("dims", [(2, 3, 2), (2, 2, 2, 2)], ids=str)
@pytest.mark.parametrize("dropped", [1, 2], ids=lambda l: f"drop-layer-{l}")
def test_planted_k_missing_a_term_is_not_proved(dims: tuple[int, ...], dropped: int) -> None:
    depth = len(dims) - 1
    j = jacobian_poly(dims, None)
    wrong = symbolic_reduced_operator(dims, layers=[l for l in range(1, depth + 1) if l != dropped])
    r = prove_equal("planted", dims, j * j.transpose(), wrong, holds_for="-", what="JJ^T = K - term")
    assert not r.proved
    assert r.holds_for == "nothing" and "is false" in r.detail and "nonzero" in r.detail
    right = symbolic_reduced_operator(dims)
    assert prove_equal("ok", dims, j * j.transpose(), right, holds_for="-", what="JJ^T = K").proved


def test_planted_gradient_with_transposed_factor_is_not_proved() -> None:
    """A_l R B_l instead of A_l^T R B_l^T (square dims, so the shapes still fit)."""
    key = normalize_inputs((2, 2, 2), None, None)
    pm = cached_model(*key)
    wrong: list[object] = []
    for l in (1, 2):
        block = pm.left(l) * pm.residual * pm.right(l)
        wrong.extend(p for row in block.to_list() for p in row)
    rhs = DomainMatrix([[p] for p in wrong], (8, 1), pm.ring)
    r = prove_equal("planted", (2, 2, 2), gradient_poly(*key), rhs, holds_for="-", what="wrong")
    assert not r.proved


def test_planted_gauss_newton_without_residual_term_is_not_proved() -> None:
    """H = J^T J is false away from minimizers: the residual term is needed."""
    key = normalize_inputs((2, 2, 1), None, None)
    h, jtj = hessian_poly(*key), gauss_newton_poly(key[0], None)
    r = prove_equal("planted", key[0], h, jtj, holds_for="-", what="H = J^T J")
    assert not r.proved and "m_0_" in r.detail  # the difference involves the target


def test_shape_mismatch_is_not_proved() -> None:
    j = jacobian_poly((2, 1, 3), None)  # 6 x 5
    r = prove_equal("planted", (2, 1, 3), j, j.transpose(), holds_for="-", what="J = J^T")
    assert not r.proved and "shapes differ" in r.holds_for


# --- all sizes (SymPy matrix calculus) ---------------------------------------------------------


def test_gradient_formula_all_sizes() -> None:
    r = prove_gradient_formula_all_sizes()
    assert r.proved, r.detail
    assert r.dims is None and r.identity == "gradient-formula-all-sizes"
    assert "depths (1, 2, 3)" in r.holds_for and "not a symbolic depth" in r.holds_for


def test_gauss_newton_all_sizes() -> None:
    r = prove_gauss_newton_all_sizes(depths=(1, 2, 3))
    assert r.proved, r.detail
    assert r.identity == "gauss-newton-all-sizes" and "depths (1, 2, 3)" in r.holds_for
    assert "Y := f(W) X" in r.detail


def test_planted_all_sizes_identities_are_not_proved() -> None:
    net = _SymbolicNet(2)
    loss, r = net.loss(), net.residual()
    grad2 = loss.diff(net.w[1])
    assert prove_matrix_expressions_equal(
        "ok", grad2, r * net.x.T * net.w[0].T, holds_for="-", what="right"
    ).proved
    wrong = prove_matrix_expressions_equal(
        "planted", grad2, (net.fx() + net.y) * net.x.T * net.w[0].T, holds_for="-", what="sign"
    )
    assert not wrong.proved and "Y*X.T*W1.T" in wrong.detail
    # the Hessian-vector product without the residual term dA_1^T R X^T B_1^T
    v = sympy.MatrixSymbol("V", net.sizes[-1], net.batch)
    hd = net.first_order(loss.diff(net.w[0]))
    jtjd = sympy.Trace(v.T * net.fx()).diff(net.w[0]).subs(v, net.first_order(net.fx()))
    assert not prove_matrix_expressions_equal("planted", hd, jtjd, holds_for="-", what="H=JTJ").proved


def test_first_order_is_the_directional_derivative() -> None:
    """Coefficient of t in f(W + tD) for depth 2 is D2 W1 + W2 D1."""
    net = _SymbolicNet(2)
    w1, w2 = net.w
    d1, d2 = net.d
    assert prove_matrix_expressions_equal(
        "jd", net.first_order(w2 * w1), d2 * w1 + w2 * d1, holds_for="-", what="jd"
    ).proved


# --- registry ------------------------------------------------------------------------------------


def test_registry_lists_every_identity() -> None:
    assert set(ALL_IDENTITIES) == set(FIXED_DIMS_IDENTITIES) | set(ALL_SIZES_IDENTITIES)
    for name in FIXED_DIMS_IDENTITIES:
        r = ALL_IDENTITIES[name]((2, 3, 2))
        assert isinstance(r, ProofResult) and r.identity == name and r.proved
