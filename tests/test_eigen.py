"""Certified eigenvalue enclosures (numeric.eigen) and the Enclosure type (derivations.intervals).

Reference values are recomputed independently with mpmath's Jacobi solver ``eigsy`` at
``2 dps + 20`` digits, or are known exactly by construction (a rational orthogonal ``Q`` from
the Cayley transform of a skew matrix, ``A = Q diag(d) Q^T``), which gives exactly repeated
eigenvalues in matrices that are far from diagonal.

The Kato-Temple step (``numeric.eigen._kato_temple``) is also tested on its own, with
deliberately perturbed eigenvector matrices so that its residual terms are active.
"""

from __future__ import annotations

import functools
import itertools
from fractions import Fraction as F

import mpmath
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import numeric.eigen as eigen_module
from derivations.errors import (
    DmfError,
    EmptyInputError,
    EntryError,
    NonFiniteError,
    PrecisionExhausted,
    ShapeError,
)
from derivations.intervals import Enclosure, relative_tolerance
from numeric import strategies
from numeric.eigen import (
    certified_eigvalsh,
    certified_lambda_max,
    certified_spectrum_summary,
)

# --------------------------------------------------------------------------------------------
# helpers and strategies
# --------------------------------------------------------------------------------------------
small_fracs = st.builds(F, st.integers(-6, 6), st.integers(1, 5))


def exact(rows) -> np.ndarray:
    return np.array([[F(int(F(x).numerator), int(F(x).denominator)) for x in row] for row in rows],
                    dtype=object)


def cayley(skew: np.ndarray) -> np.ndarray:
    """``Q = (I - S)(I + S)^{-1}``: exactly orthogonal and rational for skew ``S``."""
    import sympy

    n = skew.shape[0]
    s = sympy.Matrix(n, n, [sympy.Rational(x.numerator, x.denominator) for x in skew.flat])
    q = (sympy.eye(n) - s) * (sympy.eye(n) + s).inv()
    return np.array([[F(int(v.p), int(v.q)) for v in q.row(i)] for i in range(n)], dtype=object)


symmetric_matrices = functools.partial(strategies.symmetric_matrices, max_denominator=5)


@st.composite
def known_spectrum(draw, *, max_n: int = 5) -> tuple[np.ndarray, list[F]]:
    """``(Q diag(d) Q^T, d)`` with ``d`` drawn from few values (so repeats are common)."""
    n = draw(st.integers(2, max_n))
    values = draw(st.lists(small_fracs, min_size=1, max_size=3))
    d = [draw(st.sampled_from(values)) for _ in range(n)]
    skew = np.zeros((n, n), dtype=object)
    skew[...] = F(0)
    for i in range(n):
        for j in range(i + 1, n):
            v = draw(st.builds(F, st.integers(-2, 2), st.integers(1, 3)))
            skew[i, j], skew[j, i] = v, -v
    q = cayley(skew)
    dm = np.diag(np.array(d, dtype=object))
    dm[dm == 0] = F(0)
    return q @ dm @ q.T, sorted(d, reverse=True)


def mp_eigenvalues(m: np.ndarray, dps: int) -> list:
    with mpmath.workdps(dps):
        a = mpmath.matrix([[mpmath.mpf(x.numerator) / x.denominator for x in row] for row in m])
        vals = mpmath.eigsy(a, eigvals_only=True)
        return sorted((vals[i] for i in range(m.shape[0])), reverse=True)


def near(e: Enclosure, v, ref_dps: int, scale) -> bool:
    """``v`` (an mpmath value accurate to about ``10^-ref_dps * scale``) lies in ``e`` up to
    that reference error, which is ``10^-(dps+20)`` times smaller than ``e``'s allowed width."""
    tol = F(max(scale, 1)) / 10 ** (ref_dps - 10)
    return Enclosure(e.lo - tol, e.hi + tol).contains(v)


def meets_rule(e: Enclosure, dps: int, rho: F) -> bool:
    """The documented acceptance rule, restated: ``dps`` relative digits, or absolute width
    ``10^-dps rho`` for an enclosure within ``10^-dps rho`` of 0."""
    if e.mig <= rho / 10**dps:
        return e.width <= rho / 10**dps
    return relative_tolerance(e, dps)


def assert_certified(enc: list[Enclosure], dps: int) -> None:
    rho = max(e.mag for e in enc)
    for e in enc:
        assert meets_rule(e, dps, rho), e
    assert all(a.mid >= b.mid for a, b in itertools.pairwise(enc))


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------
@given(m=symmetric_matrices(), dps=st.sampled_from([15, 30]))
@example(m=exact([[2, 0, 0], [0, 2, 0], [0, 0, 1]]), dps=30)
@example(m=exact(np.eye(4, dtype=int)), dps=15)
@example(m=exact(np.zeros((3, 3), dtype=int)), dps=15)
@example(m=exact(np.outer([1, 2, -3], [1, 2, -3])), dps=30)
def test_enclosures_contain_twice_precision_values(m: np.ndarray, dps: int) -> None:
    enc = certified_eigvalsh(m, dps=dps)
    assert len(enc) == m.shape[0]
    assert_certified(enc, dps)
    rho = max(e.mag for e in enc)
    for e, v in zip(enc, mp_eigenvalues(m, 2 * dps + 20), strict=True):
        assert near(e, v, 2 * dps + 20, rho), (e, v)
    # trace: sum of eigenvalues, each in its enclosure
    trace = sum(m[i, i] for i in range(m.shape[0]))
    assert abs(sum(e.mid for e in enc) - trace) <= sum(e.rad for e in enc)


@given(case=known_spectrum())
def test_exactly_repeated_eigenvalues_are_enclosed(case) -> None:
    m, d = case
    enc = certified_eigvalsh(m, dps=20)
    assert_certified(enc, 20)
    for e, v in zip(enc, d, strict=True):
        assert e.contains(v)
    s = certified_spectrum_summary(m, dps=20)
    true_mult = d.count(d[0])
    # distinct values differ by >= 1/25, far above 10^-20: the bound is exact here
    assert s.multiplicity_upper == true_mult
    assert s.multiplicity_lower == 1
    assert s.lambda_max.contains(d[0]) and s.lambda_min.contains(d[-1])
    assert s.zero_multiplicity == d.count(0)
    assert s.gap.contains(d[0] - d[1])
    if true_mult < len(d):
        assert s.separated_gap is not None and s.separated_gap.contains(d[0] - d[true_mult])
    else:
        assert s.separated_gap is None


def test_near_repeated_eigenvalues_are_separated() -> None:
    """Eigenvalues 1 + 1e-30, 1, 1 - 1e-30 in a rotated basis: float64 sees a triple
    eigenvalue; the refinement must still separate them (cluster rotation)."""
    q = cayley(exact([[0, F(1, 2), F(1, 3)], [F(-1, 2), 0, 1], [F(-1, 3), -1, 0]]))
    eps = F(1, 10**30)
    d = [1 + eps, F(1), 1 - eps]
    m = q @ np.diag(np.array(d, dtype=object)) @ q.T
    enc = certified_eigvalsh(m, dps=40)
    for e, v in zip(enc, d, strict=True):
        assert e.contains(v) and e.correct_digits >= 40
    assert not enc[0].overlaps(enc[1]) and not enc[1].overlaps(enc[2])


def test_kronecker_sum_and_gauss_newton_hessian() -> None:
    """K5-like Kronecker sum (eigenvalues s_i + t_j, many repeats) and J^T J of a depth-3
    chain: its nonzero spectrum is that of J J^T (K2), the rest are exact zeros."""
    a, b = exact([[2, 1], [1, 2]]), exact([[1, 1, 0], [1, 1, 0], [0, 0, 2]])
    i2, i3 = exact(np.eye(2, dtype=int)), exact(np.eye(3, dtype=int))
    ks = np.kron(a, i3) + np.kron(i2, b)  # eigenvalues {1,3} + {0,2,2}
    expected = sorted([x + y for x in (1, 3) for y in (0, 2, 2)], reverse=True)
    enc = certified_eigvalsh(ks, dps=30)
    assert all(e.contains(v) for e, v in zip(enc, expected, strict=True))
    rng = np.random.default_rng(7)
    jac = exact(rng.integers(-3, 4, (4, 9)))
    h = jac.T @ jac  # 9 x 9, rank <= 4
    summary = certified_spectrum_summary(h, dps=30)
    top = certified_eigvalsh(jac @ jac.T, dps=30)
    for e_h, e_k in zip(summary.eigenvalues[:4], top, strict=True):
        assert e_h.overlaps(e_k)
    assert summary.zero_multiplicity == 9 - 4
    assert summary.zero_count_upper == 5
    for e in summary.eigenvalues[4:]:  # exact zeros: absolute width 10^-dps rho
        assert e.contains(0) and e.width <= summary.lambda_max.hi / 10**30


def test_lambda_max_digits_and_consistency() -> None:
    m = exact([[F(1, i + j + 1) for j in range(6)] for i in range(6)])  # Hilbert matrix
    e30 = certified_lambda_max(m, dps=30)
    e80 = certified_lambda_max(m, dps=80)
    assert e30.correct_digits >= 30 and e80.correct_digits >= 80
    assert e30.overlaps(e80)
    assert near(e30, mp_eigenvalues(m, 100)[0], 100, 2)
    assert certified_eigvalsh(m, dps=30)[0].overlaps(e30)


def test_float64_and_fmpq_inputs_are_taken_exactly() -> None:
    from flint import fmpq, fmpq_mat

    a = np.array([[0.1, 0.2], [0.2, 0.3]])
    as_exact = exact([[F(0.1), F(0.2)], [F(0.2), F(0.3)]])  # the binary rationals stored
    ref = mp_eigenvalues(as_exact, 80)
    for e, v in zip(certified_eigvalsh(a, dps=30), ref, strict=True):
        assert near(e, v, 80, 1)
    fm = fmpq_mat(2, 2, [fmpq(1, 3), fmpq(1, 7), fmpq(1, 7), fmpq(-2, 5)])
    ref = mp_eigenvalues(exact([[F(1, 3), F(1, 7)], [F(1, 7), F(-2, 5)]]), 80)
    for e, v in zip(certified_eigvalsh(fm, dps=30), ref, strict=True):
        assert near(e, v, 80, 1)


def test_extreme_scales() -> None:
    for scale in (F(1, 10**200), F(10**200)):
        m = exact([[2 * scale, scale], [scale, 2 * scale]])
        enc = certified_eigvalsh(m, dps=25)
        assert enc[0].contains(3 * scale) and enc[1].contains(scale)
        assert min(e.correct_digits for e in enc) >= 25


# --------------------------------------------------------------------------------------------
# near clusters elsewhere in the spectrum, near-zero eigenvalues, Kato-Temple
# --------------------------------------------------------------------------------------------
def rounded_minimizer_k(target, dims) -> np.ndarray:
    """K (gram form) at the balanced minimizer computed in mpmath at 25 digits and then taken
    as exact rationals (target := their exact product, so a minimizer)."""
    from derivations.exact import parse_point
    from numeric.minimizers import balanced_minimizer
    from numeric.reduced import reduced_operator

    point = parse_point(balanced_minimizer(target, dims, dps=25))
    return reduced_operator(point.weights, form="gram")


REPRODUCTIONS = [
    # two eigenvalues 5.19125... split by ~7e-26 (float64 mixes their eigenvectors)
    pytest.param([[1, "1/2"], [0, 2]], (2, 3, 3, 2), id="near-pair"),
    # rank-deficient target: an eigenvalue ~1.7e-150 (rounding), and a near pair at 5
    pytest.param([[1, 2], [2, 4]], (2, 3, 2), id="near-zero"),
]


@pytest.mark.parametrize(("target", "dims"), REPRODUCTIONS)
@pytest.mark.parametrize("dps", [30, 50])
def test_rounded_minimizers_certify(target, dims, dps) -> None:
    """Formerly ``PrecisionExhausted``: a Newton step on a barely separated pair blew ``X``
    up. Now ``lambda_max`` and the whole spectrum certify, and contain mpmath's values."""
    k = rounded_minimizer_k(target, dims)
    ref = mp_eigenvalues(k, 2 * dps + 20)
    top = certified_lambda_max(k, dps=dps)
    assert top.correct_digits >= dps and near(top, ref[0], 2 * dps + 20, top.hi)
    enc = certified_eigvalsh(k, dps=dps)
    assert_certified(enc, dps)
    for e, v in zip(enc, ref, strict=True):
        assert near(e, v, 2 * dps + 20, top.hi), (e, v)


@pytest.mark.parametrize(("target", "dims"), REPRODUCTIONS)
def test_sharpness_certifies_rounded_minimizers(target, dims) -> None:
    from derivations.exact import parse_point
    from numeric.minimizers import balanced_minimizer
    from numeric.sharpness import sharpness

    ws = parse_point(balanced_minimizer(target, dims, dps=25)).weights
    k = rounded_minimizer_k(target, dims)
    for dps in (30, 50):
        result = sharpness(ws, "product", dps=dps, certify=True)
        assert result.certified and result.enclosure is not None
        assert result.enclosure.overlaps(certified_lambda_max(k, dps=dps))
        assert result.enclosure.correct_digits >= dps


def test_synthetic_near_pair_and_near_zero() -> None:
    """``Q diag(5, 1 + 1e-25, 1, 0, 1e-60) Q^T`` (Q rational orthogonal): lambda_max = 5 to
    50 digits, and every eigenvalue enclosed under the acceptance rule."""
    skew = exact([[0, F(1, 2), F(1, 3), 1, F(-1, 2)], [F(-1, 2), 0, 1, F(1, 3), 2],
                  [F(-1, 3), -1, 0, F(1, 2), F(1, 5)], [-1, F(-1, 3), F(-1, 2), 0, 1],
                  [F(1, 2), -2, F(-1, 5), -1, 0]])
    q = cayley(skew)
    d = [F(5), F(1) + F(1, 10**25), F(1), F(0), F(1, 10**60)]
    m = q @ np.diag(np.array(d, dtype=object)) @ q.T
    m[m == 0] = F(0)
    top = certified_lambda_max(m, dps=50)
    assert top.contains(5) and top.correct_digits >= 50
    enc = certified_eigvalsh(m, dps=50)
    assert_certified(enc, 50)
    assert all(e.contains(v) for e, v in zip(enc, sorted(d, reverse=True), strict=True))
    assert not enc[1].overlaps(enc[2])  # the 1e-25 split is resolved


def certify_with(m: np.ndarray, x: np.ndarray, prec: int = 300) -> list[Enclosure]:
    """The certificate (Weyl + Ostrowski, then Kato-Temple) from a given eigenvector matrix
    ``x`` (float64 entries: exact dyadic rationals)."""
    from flint import arb_mat

    n = m.shape[0]
    a_q = eigen_module._exact_symmetric(m)
    return eigen_module._certify(a_q, arb_mat(n, n, [float(v) for v in x.flat]), prec)


def planted(skew_entries: list[F], d: list[F]) -> tuple[np.ndarray, np.ndarray]:
    n = len(d)
    skew = np.full((n, n), F(0), dtype=object)
    it = iter(skew_entries)
    for i in range(n):
        for j in range(i + 1, n):
            v = next(it)
            skew[i, j], skew[j, i] = v, -v
    q = cayley(skew)
    order = sorted(range(n), key=lambda i: d[i], reverse=True)
    return q @ np.diag(np.array(d, dtype=object)) @ q.T, q[:, order]


@st.composite
def planted_near_clusters(draw, *, max_n: int = 5):
    """``(Q diag(d) Q^T, Q, d)`` with ``d`` built from a few base values, each copy split by
    ``10^-k`` (``k`` in 5..60) or exactly repeated: near clusters anywhere in the spectrum."""
    n = draw(st.integers(2, max_n))
    bases = draw(st.lists(small_fracs, min_size=1, max_size=3))
    d = []
    for _ in range(n):
        split = draw(st.sampled_from([0, 5, 12, 25, 40, 60]))
        d.append(draw(st.sampled_from(bases)) + (F(draw(st.integers(-3, 3)), 10**split)
                                                 if split else 0))
    skew_entries = draw(st.lists(st.builds(F, st.integers(-2, 2), st.integers(1, 3)),
                                 min_size=n * (n - 1) // 2, max_size=n * (n - 1) // 2))
    m, q = planted(skew_entries, d)
    return m, q, sorted(d, reverse=True)


@given(case=planted_near_clusters(), noise_bits=st.sampled_from([8, 20, 40]),
       seed=st.integers(0, 2**16))
def test_kato_temple_never_misses_the_true_value(case, noise_bits, seed) -> None:
    """The certificate from a *perturbed* eigenvector matrix (so the residual terms of
    Kato-Temple are large and active) still contains every exact eigenvalue."""
    m, q, d = case
    rng = np.random.default_rng(seed)
    x = np.array(q, dtype=float) + rng.standard_normal(q.shape) * 2.0**-noise_bits
    enc = certify_with(m, x)
    for e, v in zip(enc, d, strict=True):
        assert e.contains(v), (e, v)


@given(case=planted_near_clusters(max_n=4), dps=st.sampled_from([20, 30]))
def test_planted_near_clusters_certify(case, dps) -> None:
    """End to end: every enclosure contains the exact planted eigenvalue, also compared with
    mpmath at ``2 dps + 20`` digits (an independent route)."""
    m, _, d = case
    enc = certified_eigvalsh(m, dps=dps)
    assert_certified(enc, dps)
    assert all(e.contains(v) for e, v in zip(enc, d, strict=True))
    rho = max(e.mag for e in enc)
    for e, v in zip(enc, mp_eigenvalues(m, 2 * dps + 20), strict=True):
        assert near(e, v, 2 * dps + 20, rho)
    top = certified_lambda_max(m, dps=dps)
    assert top.contains(d[0]) and meets_rule(top, dps, rho)


def mixed_pair_case() -> tuple[np.ndarray, np.ndarray, list[F]]:
    """Eigenvalues 5, 1 + 1e-25, 1, 1/2 with the eigenvectors of the near pair rotated by
    about 0.3 rad: the basis is accurate except inside that pair."""
    d = [F(5), F(1) + F(1, 10**25), F(1), F(1, 2)]
    m, q = planted([F(1, 2), F(1, 3), F(1), F(-1, 3), F(2, 3), F(1, 5)], d)
    x = np.array(q, dtype=float)
    c, s = np.cos(0.3), np.sin(0.3)
    x[:, 1], x[:, 2] = c * x[:, 1] + s * x[:, 2], -s * x[:, 1] + c * x[:, 2]
    return m, x, d


def test_kato_temple_certifies_lambda_max_despite_an_unresolved_pair(monkeypatch) -> None:
    """From the mixed basis the global (Weyl) bound is ~1e-16 for every eigenvalue (float64
    eigenvectors, pair coupling ~1e-26); Kato-Temple pins lambda_max = 5 far tighter since
    its own residual squared is ~1e-32."""
    m, x, d = mixed_pair_case()
    enc = certify_with(m, x)
    assert all(e.contains(v) for e, v in zip(enc, d, strict=True))
    assert enc[0].width <= F(1, 10**25)
    assert enc[1].overlaps(enc[2])  # the pair itself is not resolved from this basis
    monkeypatch.setattr(eigen_module, "_kato_temple_interval", lambda *args: None)
    assert certify_with(m, x)[0].width > F(1, 10**20)  # Weyl alone: not even 20 digits


def test_planted_kato_temple_bug_is_caught(monkeypatch) -> None:
    """Mutation check: dropping the ``r^2`` terms (claiming ``lambda_k = rho``) must be caught
    by the containment test above on a perturbed basis."""
    d = [F(3), F(1), F(-2)]
    m, q = planted([F(1, 2), F(1, 3), F(1)], d)
    x = np.array(q, dtype=float) + np.random.default_rng(1).standard_normal(q.shape) * 2.0**-20
    assert all(e.contains(v) for e, v in zip(certify_with(m, x), d, strict=True))

    def no_residual(rho, r2, alpha, beta):
        return rho

    monkeypatch.setattr(eigen_module, "_kato_temple_interval", no_residual)
    assert not all(e.contains(v) for e, v in zip(certify_with(m, x), d, strict=True))


def test_exact_eigenvector_gives_a_point_enclosure() -> None:
    """When a refined column is an exact eigenvector (residual exactly 0 in ball arithmetic),
    Kato-Temple proves the eigenvalue exactly: a point enclosure (status "exact")."""
    enc = certified_eigvalsh(exact([[3, 0, 0], [0, 1, 1], [0, 1, 1]]), dps=30)
    assert enc[0].is_exact and enc[0].lo == 3
    assert enc[1].contains(2) and enc[2].contains(0)


def test_which_top_and_bad_which() -> None:
    m, _, d = mixed_pair_case()
    enc = certified_eigvalsh(m, dps=40, which="top")
    assert enc[0].contains(5) and enc[0].correct_digits >= 40
    assert all(e.contains(v) for e, v in zip(enc, d, strict=True))
    s = certified_spectrum_summary(m, dps=40, which="top")
    assert s.lambda_max.correct_digits >= 40 and s.multiplicity_upper == 1
    with pytest.raises(DmfError, match="which must be 'all' or 'top'; got 'both'"):
        certified_eigvalsh(m, dps=20, which="both")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# refusing to guess
# --------------------------------------------------------------------------------------------
def test_precision_exhausted_when_max_dps_below_dps() -> None:
    with pytest.raises(PrecisionExhausted, match="max_dps = 10 is below the requested dps = 20"):
        certified_eigvalsh(exact([[1, 2], [2, 1]]), dps=20, max_dps=10)


def test_precision_exhausted_when_small_cluster_needs_more_digits() -> None:
    """Eigenvalues 1, 1e-20 + 1e-45, 1e-20: 30 relative digits of the two small ones need
    them separated (absolute width ~1e-50), beyond 40 working digits: refused at
    ``max_dps=40``; the default works, and ``lambda_max`` alone works at 40."""
    q = cayley(exact([[0, F(1, 2), F(1, 3)], [F(-1, 2), 0, 1], [F(-1, 3), -1, 0]]))
    d = [F(1), F(1, 10**20) + F(1, 10**45), F(1, 10**20)]
    m = q @ np.diag(np.array(d, dtype=object)) @ q.T
    with pytest.raises(PrecisionExhausted, match="could not certify 30 digits for all"):
        certified_eigvalsh(m, dps=30, max_dps=40)
    enc = certified_eigvalsh(m, dps=30)
    assert all(e.contains(v) and e.correct_digits >= 30 for e, v in zip(enc, d, strict=True))
    assert certified_lambda_max(m, dps=30, max_dps=40).contains(1)  # only lambda_max asked
    assert certified_eigvalsh(m, dps=30, max_dps=40, which="top")[0].correct_digits >= 30


def test_eigenvalue_below_the_floor_gets_absolute_width() -> None:
    """Eigenvalues 1 and 1e-100 at 30 digits: 1e-100 < 10^-30 rho, so it needs only the
    absolute width 10^-30 rho (it did need 10^-60 rho before), and no more working digits
    than 1 itself; whatever the width, ``correct_digits`` stays honest."""
    q = cayley(exact([[0, F(1, 2)], [F(-1, 2), 0]]))
    d = [F(1), F(1, 10**100)]
    m = q @ np.diag(np.array(d, dtype=object)) @ q.T
    enc = certified_eigvalsh(m, dps=30, max_dps=35)
    assert enc[1].contains(d[1]) and enc[1].width <= enc[0].hi / 10**30
    assert enc[0].contains(1) and enc[0].correct_digits >= 30


BAD_INPUTS = [
    pytest.param([[1, 2, 3], [2, 1, 0]], ShapeError, r"shape \(2, 3\); expected a square",
                 id="non-square"),
    pytest.param([[1, 2], [3, 1]], ShapeError, r"not symmetric: entry \[0, 1\] = 2 but \[1, 0\] = 3",
                 id="non-symmetric"),
    pytest.param(np.array([[1.0, np.nan], [np.nan, 1.0]]), NonFiniteError, "NaN or Inf",
                 id="nan"),
    pytest.param([[1, "x"], ["x", 1]], EntryError, r"matrix\[0, 1\]", id="non-number"),
    pytest.param([[]], EmptyInputError, "empty", id="empty"),
    pytest.param([[1, 2], [2]], ShapeError, "ragged", id="ragged"),
    pytest.param([1, 2, 3], ShapeError, "list of rows", id="vector"),
]


@pytest.mark.parametrize(("matrix", "error", "message"), BAD_INPUTS)
def test_bad_input(matrix, error, message) -> None:
    with pytest.raises(error, match=message):
        certified_eigvalsh(matrix, dps=15)


def test_bad_dps() -> None:
    with pytest.raises(DmfError, match="dps must be a positive integer"):
        certified_lambda_max([[1]], dps=0)


# --------------------------------------------------------------------------------------------
# Enclosure
# --------------------------------------------------------------------------------------------
intervals = st.tuples(small_fracs, small_fracs).map(lambda t: Enclosure(min(t), max(t)))


@given(a=intervals, b=intervals, s=st.floats(0, 1), t=st.floats(0, 1))
def test_interval_arithmetic_contains_pointwise_results(a, b, s, t) -> None:
    x = a.lo + F(s) * a.width  # points inside a and b
    y = b.lo + F(t) * b.width
    assert (a + b).contains(x + y) and (a - b).contains(x - y) and (a * b).contains(x * y)
    assert (-a).contains(-x) and (a**2).contains(x * x) and (a**3).contains(x**3)
    if not b.contains(0):
        assert (a / b).contains(x / y)
    if a.lo >= 0:
        r = a.sqrt(60)
        assert r.lo**2 <= x <= r.hi**2  # rigorous, and tight to ~60 bits:
        assert r.hi**2 <= a.hi * (1 + F(1, 2**50)) and r.lo**2 >= a.lo * (1 - F(1, 2**50))
        assert (a.round_out(20)).contains(a)


def test_enclosure_basics() -> None:
    e = Enclosure(F(314159, 100000), F(314160, 100000))
    assert e.correct_digits == 5 and e.contains("3.1415950") and not e.contains(3.2)
    assert e.to_decimal(7) == "3.141595"
    assert str(e).startswith("[3.14159") and str(e).endswith("]")
    assert Enclosure.point(2).correct_digits == float("inf")
    assert Enclosure(F(-1), F(1)).correct_digits == 0
    with mpmath.workdps(30):
        assert Enclosure(F(-2), F(-1)).contains(mpmath.mpf(-1.5))  # sign of mpf kept
        assert not Enclosure(F(1), F(2)).contains(mpmath.mpf(-1.5))
    assert e.overlaps(Enclosure(F(3), F(31416, 10000))) and not e.overlaps(4)
    with pytest.raises(DmfError, match="lo <= hi"):
        Enclosure(F(2), F(1))
    with pytest.raises(DmfError, match="contains 0"):
        _ = Enclosure(F(1), F(2)) / Enclosure(F(-1), F(1))
    with pytest.raises(NonFiniteError):
        Enclosure.point(mpmath.inf)
