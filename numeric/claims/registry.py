"""The claims registry: every statement of docs/mathematics.md ("Claims the checker must decide")
that ``dmf-sharpness check`` decides, by its stable id.

Public:
    Claim           one claim: id, statement (plain math), source, domain, how it is checked,
                    the checker (``"module:function"``, imported on use), per-budget case counts
                    and time caps, and ``corrects`` (the literal claim a corrected entry fixes)
    CLAIMS          the registry, in report order
    CLAIM_IDS       their ids
    get_claim       one claim by id (a ``DmfError`` listing the valid ids otherwise)
    select_claims   several claims by id, in the order given

A literal statement that fails but has an evident corrected form appears twice: the literal
entry (refuted, with its counterexample) and a ``...-corrected`` entry checked on its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from derivations.errors import DmfError

__all__ = ["CLAIMS", "CLAIM_IDS", "Claim", "get_claim", "select_claims"]

KAMBER = "Kamber & Parhi, arXiv:2509.25783"
WD_SOURCES = (
    "Kamber & Parhi, arXiv:2603.27072 (2026); Chen, Jiang & Wang, arXiv:2506.20344 (2025): "
    "the project's reading of the abstracts"
)


def _budget(quick: int, default: int, thorough: int) -> dict[str, int]:
    return {"quick": quick, "default": default, "thorough": thorough}


def _caps(quick: float, default: float, thorough: float) -> dict[str, float]:
    return {"quick": quick, "default": default, "thorough": thorough}


@dataclass(frozen=True)
class Claim:
    """One registered claim. ``checker`` is ``"module:function"`` (or a callable) taking a
    ``numeric.claims.runner.CheckContext`` and returning a ``ClaimOutcome``."""

    id: str
    statement: str
    source: str
    domain: str
    method: str
    checker: str | Callable[..., Any]
    cases: dict[str, int] = field(default_factory=lambda: _budget(6, 60, 300))
    time_cap: dict[str, float] = field(default_factory=lambda: _caps(8.0, 45.0, 400.0))
    corrects: str | None = None

    def resolve_checker(self) -> Callable[..., Any]:
        if callable(self.checker):
            return self.checker
        module, _, name = self.checker.partition(":")
        fn: Callable[..., Any] = getattr(importlib.import_module(module), name)
        return fn


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "gauss-newton",
        "At every point with R X^T = 0: H = J^T J (the Hessian of 1/2||W_L...W_1 X - Y||_F^2 "
        "equals its Gauss-Newton part); docs/mathematics.md K1/K2.",
        "docs/mathematics.md K1, K2 (standard)",
        "symbolic dims listed in the detail (with and without data X); all sizes via matrix "
        "calculus where SymPy can",
        "derivations.identities.prove_gauss_newton for each listed dims (SymPy differentiation "
        "of the loss, exact simplification) and prove_gauss_newton_all_sizes",
        "numeric.claims.identities:check_gauss_newton",
        cases=_budget(3, 6, 10),
        time_cap=_caps(25.0, 120.0, 900.0),
    ),
    Claim(
        "reduced-spectrum",
        "At a minimizer (R X^T = 0) the nonzero eigenvalues of H, with multiplicity, are those "
        "of K = sum_l (C^1/2 B_l^T B_l C^1/2) kron (A_l A_l^T); zero has multiplicity P - rank K.",
        "docs/mathematics.md K2",
        "generated: random rational minimizers (entries k/q, |k| <= 3, q <= 3; target or labels "
        "= the product) of depth 1-3, widths 1-3, alternately X = I and random integer data X "
        "(N = 1-3) with labels Y = f X + Z, Z X^T = 0 (R != 0); every 4th with a zero column in "
        "W_1 (rank-deficient); random widths give bottlenecks",
        "exact: x^n charpoly(H)(x) == x^P charpoly(K_gram)(x) over Q (python-flint), with "
        "K_gram = sum_l (X^T B_l^T B_l X) kron (A_l A_l^T) of size n = d_L N (same nonzero "
        "spectrum as K); H is the exact K1 Hessian (numeric.hessian)",
        "numeric.claims.identities:check_reduced_spectrum",
        cases=_budget(8, 40, 200),
    ),
    Claim(
        "trace",
        "At a minimizer (R X^T = 0): tr H = sum_l ||A_l||_F^2 ||B_l X||_F^2.",
        "docs/mathematics.md K3",
        "minimizers of depth 1-4, widths 1-3, X = I and with data (random rational minimizers "
        "as for reduced-spectrum, no special structure); non-minimizers (random labels) "
        "reported separately",
        "exact rational equality on the generated points, after a Hypothesis search over "
        "integer-entry minimizers (depth 1-4) for a counterexample",
        "numeric.claims.closed_forms:check_trace",
        cases=_budget(8, 40, 200),
    ),
    Claim(
        "upper-bound",
        "At a minimizer (R X^T = 0): lambda_max(H) <= sum_l ||A_l||_2^2 ||B_l X||_2^2.",
        "docs/mathematics.md K4 (triangle + Cauchy-Schwarz)",
        "generated: random rational minimizers of depth 1-3, widths 1-3, X = I and with data "
        "(generic points: the bound is strict there; equality cases such as depth 2 occur too)",
        "Hypothesis search over integer-entry minimizers, then exact comparison of algebraic numbers (charpoly roots, companion-matrix sums/products, "
        "certified Arb enclosures until disjoint or provably equal)",
        "numeric.claims.closed_forms:check_upper_bound",
        cases=_budget(6, 30, 150),
    ),
    Claim(
        "depth2",
        "L = 2, X = I, every minimizer, all widths: lambda_max(H) = ||W_1||_2^2 + ||W_2||_2^2.",
        f"docs/mathematics.md K5; {KAMBER}",
        "depth 2, widths 1-3: random rational minimizers alternating with W_l = P_l diag(s_l) "
        "Q_l^T (independent rational orthogonal frames per layer, rational norms)",
        "Hypothesis search, then per case an exact algebraic comparison of lambda_max(H) with "
        "the sum of the two algebraic squared norms",
        "numeric.claims.closed_forms:check_depth2",
    ),
    Claim(
        "scalar-ends",
        "d_0 = d_L = 1, X = I, any depth and hidden widths, every minimizer: lambda_max(H) = "
        "sum_l ||A_l||_2^2 ||B_l||_2^2 (rational: A_l is a row, B_l a column).",
        f"docs/mathematics.md K6; {KAMBER}",
        "scalar ends, depth 1-4, hidden widths 1-3: random rational minimizers (generic)",
        "exact: charpoly(H) == x^(P-1) (x - rhs) over Q, after a Hypothesis search",
        "numeric.claims.closed_forms:check_scalar_ends",
    ),
    Claim(
        "sum-formula",
        "Every minimizer, any depth and widths, X = I: lambda_max(H) = sum_l ||A_l||_2^2 "
        "||B_l||_2^2. Decided for matrix ends (d_0, d_L >= 2) and, separately, with exactly one "
        "scalar end.",
        f"{KAMBER} (exact in depth2 and scalar-ends)",
        "depth 1-4, widths 1-3, X = I; random rational minimizers (generic)",
        "Hypothesis search over integer-entry minimizers (float64 with a margin) for "
        "lambda_max < sum, shrunk, then exact re-check: certified enclosures of both sides "
        "whose gap excludes 0",
        "numeric.claims.closed_forms:check_sum_formula",
        cases=_budget(4, 20, 100),
        time_cap=_caps(20.0, 90.0, 600.0),
    ),
    Claim(
        "flattest",
        "X = I, target M, s = sigma_1(M): every minimizer has lambda_max(H) >= L s^(2(L-1)/L), "
        "with equality at balanced minimizers W_l = U_l S^(1/L) U_{l-1}^T.",
        "docs/mathematics.md K7 (Mulayoff & Michaeli 2020; Kamber & Parhi)",
        "depth 1-4, widths 1-3; bound: random rational minimizers (generic, not built to be "
        "flat); attainment: exactly rational balanced minimizers (the claim's own domain)",
        "bound: exact algebraic comparison of lambda_max(H) with L * lambda_max(M^T M)^((L-1)/L); "
        "attainment: balanced minimizers with rational frames (Cayley) and rational s_i^(1/L), "
        "so the K7 value is rational and equality is exact",
        "numeric.claims.flatness:check_flattest",
    ),
    Claim(
        "spectral-balance",
        "Depth 2, X = I: a minimizer is flattest (lambda_max = 2 sigma_1(M)) if and only if "
        "||W_1||_2 = ||W_2||_2.",
        f"{KAMBER}, abstract v4",
        "depth 2, square widths (d_0 = d_1 = d_2) and overparameterized widths (d_1 > d_0, d_2)",
        "each direction separately, Hypothesis search + exact re-check, then generated points. "
        "'if': W_l = F_l D_l F_(l-1)^T (rational Cayley frames shared by consecutive layers, "
        "independent diagonals whose largest entries are made equal, at possibly different "
        "indices, so top directions need not align). 'only if': flattest points built with a "
        "shared middle frame, flattest points found among monomial-frame points (independent "
        "values, signed permutations), and generic points (usually not flattest: vacuous)",
        "numeric.claims.balance:check_spectral_balance",
        time_cap=_caps(20.0, 90.0, 600.0),
    ),
    Claim(
        "spectral-balance-corrected",
        "Depth 2, X = I: a minimizer is flattest (lambda_max = 2 sigma_1(M)) if and only if "
        "||W_1||_2^2 = ||W_2||_2^2 = sigma_1(M).",
        "corrected form of spectral-balance (this checker; follows from K5 and AM-GM: "
        "||W_1||^2 + ||W_2||^2 >= 2||W_1|| ||W_2|| >= 2||W_2 W_1||)",
        "depth 2, square and overparameterized widths",
        "exact, both directions, on: flattest points built with a shared middle frame "
        "(including non-balanced ones, W_1^T W_1 != W_2 W_2^T), flattest points found among "
        "monomial-frame points (independent per-layer values and signed permutations, not "
        "built to be flat), and generic frame points (usually outside both sides); after a "
        "Hypothesis search over frame points",
        "numeric.claims.balance:check_spectral_balance_corrected",
        time_cap=_caps(15.0, 90.0, 600.0),
        corrects="spectral-balance",
    ),
    Claim(
        "constant-product",
        "X = I: a minimizer whose products ||A_l||_2 ||B_l||_2 are equal for all l is flattest "
        "(lambda_max = L sigma_1(M)^(2(L-1)/L)).",
        f"{KAMBER}, abstract v5 (\"sufficient condition for flatness\")",
        "depth 2 (matrix ends), scalar ends (depth 2-3), depth 3-4 matrix ends",
        "Hypothesis search + exact re-check over points satisfying the hypothesis EXACTLY, from "
        "families that do not favour aligned top directions: depth 2, shared frames with "
        "independent diagonals (equal largest entries); scalar ends, integer points and signed "
        "shuffles; depth 3-4, W_l = F_l C_l F_(l-1)^T with rational frames F and generalized "
        "monomial cores C_l (independent per-layer singular values, signed permutations), each "
        "layer rescaled by its product ||A_l|| ||B_l|| so that all products are equal",
        "numeric.claims.balance:check_constant_product",
        time_cap=_caps(20.0, 90.0, 600.0),
    ),
    Claim(
        "constant-product-corrected",
        "X = I: a minimizer with ||A_l||_2 ||B_l||_2 = sigma_1(M)^((L-1)/L) for every l is "
        "flattest.",
        "corrected form of constant-product (this checker; K4 gives lambda_max <= "
        "L sigma_1^(2(L-1)/L) and K7 gives >=)",
        "depth 1-4, widths 1-3",
        "exact on points satisfying the hypothesis that are NOT built to be flat: equalized "
        "monomial-frame points (independent per-layer values and signed permutations) kept when "
        "c^L = sigma_1^(L-1) exactly (seeded rejection), plus every third case a balanced or a "
        "depth-2 flattest non-balanced minimizer; after a Hypothesis search over monomial-frame "
        "points. Also proved for all sizes (K4 + K7; see the detail)",
        "numeric.claims.balance:check_constant_product_corrected",
        corrects="constant-product",
    ),
    Claim(
        "balanced-spectrum",
        "At a balanced minimizer with M's singular values s_1 >= ... (padded with zeros, "
        "0^0 = 1), the nonzero Hessian eigenvalues are sum_{l=1..L} s_i^(2(L-l)/L) "
        "s_j^(2(l-1)/L) over pairs (i, j); for i = j, L s_i^(2-2/L).",
        "Ghosh et al. (ICLR 2025) for i = j; docs/mathematics.md",
        "balanced minimizers (the claim's own domain: rational Cayley frames, rational "
        "s_i^(1/L) in 0..3 with denominators 1-2), depth 1-4, widths 1-3, rank-deficient "
        "targets included",
        "exact: charpoly(H) == x^(P - d_L d_0) prod_(i,j) (x - lambda_ij) over Q, with rational "
        "s_i^(1/L) and rational frames",
        "numeric.claims.spectra:check_balanced_spectrum",
    ),
    Claim(
        "hessian-rank",
        "With q = min(r, k, m_1..m_{L-1}), s = min(r, k), r = rank(X X^T), k = d_L: "
        "rank H_o = q(r + k - q), rank H_f = 2q sum_l m_l + 2qs - L q^2, rank H = "
        "2q sum_l m_l - L q^2 + q(r + k); upper bounds attained generically (decided as: at "
        "every point, and with equality at generic points and at generic minimizers).",
        "Singh, Bachmann & Hofmann, NeurIPS 2021",
        "depth 2-3, widths 1-3, data N = 1-4; generic points (random entries |k| <= 10^6 and random "
        "labels), generic minimizers (labels = f X), special minimizers (balanced of a rank-1 "
        "target, or a zero row in W_1; for the upper bounds only)",
        "exact ranks over Q (python-flint) of H, H_o = J^T J and H_f = H - H_o; one part per "
        "formula and statement (upper bound at every point, equality at generic points, equality "
        "at generic minimizers); a formula exceeded, or not attained at a minimizer because "
        "H_f = 0 there (true at every minimizer), refutes with the point and both ranks; a "
        "shortfall at a random point is otherwise inconclusive (random = generic only with high "
        "probability)",
        "numeric.claims.spectra:check_hessian_rank",
        cases=_budget(6, 24, 120),
    ),
    Claim(
        "hessian-rank-corrected",
        "With q, s, r, k, m_l as in hessian-rank: at every point rank H_o <= q(r + k - q), "
        "rank H_f <= 2q sum_l m_l + 2qs - L q^2 and rank H <= 2q sum_l m_l - L q^2 + q(r + k), "
        "with equality at generic points; at every minimizer (R X^T = 0) H_f = 0, so "
        "rank H = rank H_o <= q(r + k - q), with equality at generic minimizers.",
        "corrected form of hessian-rank (this checker; H_f = 0 at minimizers is docs/mathematics.md "
        "K2)",
        "the sample of hessian-rank: depth 2-3, widths 1-3, data N = 1-4; generic points, generic "
        "minimizers, special minimizers",
        "exact ranks over Q of H, H_o and H_f: the three upper bounds at every point; equality "
        "at generic points (random, so generic with high probability: a shortfall would be "
        "inconclusive, not a refutation); H - J^T J is the zero matrix and rank H = rank H_o at "
        "every minimizer (generic and special); rank H_o = q(r + k - q) at generic minimizers",
        "numeric.claims.spectra:check_hessian_rank_corrected",
        cases=_budget(6, 24, 120),
        corrects="hessian-rank",
    ),
    Claim(
        "flattest-data",
        "Data X with C = X X^T positive definite, T = Y X^T C^-1: the smallest sharpness over "
        "all global minima equals L max_{||v||=1} (v^T C v)^(1/L) ||T C^1/2 v||^(2(L-1)/L).",
        "docs/mathematics.md candidate (reduces to K7 when C = I); Mulayoff & Michaeli 2020",
        "depth 2-3, widths 1-3, N >= d_0; random integer minimizers with random integer data "
        "(C positive definite)",
        "lower bound: certified at random minimizers against a certified upper bound of the "
        "candidate; attainment: search over minimizers (see detail)",
        "numeric.claims.flatness:check_flattest_data",
        cases=_budget(4, 20, 80),
        time_cap=_caps(12.0, 60.0, 400.0),
    ),
    Claim(
        "escape",
        "GD with step eta from within eps of a minimizer W*: if eta lambda_max(W*) > 2 the "
        "iterates leave and reach distance delta after about log(delta/eps_top)/log|1 - eta "
        "lambda_max| steps; if eta lambda_max(W*) < 2 they converge within O(eps) of W*.",
        "docs/mathematics.md; Cohen et al. 2021",
        "small generated minimizers (Hessian condition <= 100), factors 0.8, 1.25, 1.5 of "
        "2/lambda_max, eps = 1e-30 (far below float64's 1e-16) at 60 digits",
        "numeric.claims.escape.check_escape_claim, the verdict defined by measurement (every outcome "
        "on the predicted side of the threshold, escape steps within 10% of the prediction): "
        "gradient descent in mpmath at 60 digits; lambda_max(W*) certified; escape steps "
        "measured, not certified (evidence 'approximate', certified: false)",
        "numeric.claims.escape:check_escape",
        cases=_budget(1, 3, 10),
        time_cap=_caps(25.0, 120.0, 600.0),
    ),
    Claim(
        "wd-collapse-threshold",
        "Weight decay, X = I: per singular value sigma the global minimizer t >= 0 of f(t) = "
        "1/2 (t^L - sigma)^2 + (lam L/2) t^2 is 0 exactly when lam > lam*(sigma, L) (for L = 2: "
        "when lam >= lam* = sigma), "
        "lam*^L = (L-2)^(L-2) sigma^(2L-2) / (L-1)^(2L-2) (lam* = sigma for L = 2; L = 1 never "
        "collapses); at lam = lam*, L >= 3, both 0 and t_* = (lam*(L-2))^(1/(2L-2)) are global "
        "minimizers.",
        f"{WD_SOURCES} (\"above a critical lam the minimizer collapses to zero\"); the formula is "
        "derived in numeric.regularized",
        "L = 2-6, sigma = k/q in (0, 12] random rational; planted tie points with rational t_* "
        "(L = 3-6)",
        "brute force without the formula: at lam*(1 - 10^-3) a rational witness f(t) < f(0) "
        "(exact), at lam*(1 + 10^-3) (f(t) - f(0))/t^2 > 0 on (0, T] by exact rational interval "
        "branch and bound and f > f(0) beyond T; lam* = lam and f(t_*) = f(0) exactly at ties",
        "numeric.claims.weight_decay:check_collapse_threshold",
        cases=_budget(6, 40, 200),
    ),
    Claim(
        "wd-unique-end-to-end",
        "Weight decay, X = I, any widths: the global minimizer's end-to-end product is unique "
        "for every rational target and lam > 0 except on the exceptional set {some carried singular "
        "value has lam = lam*(sigma_i, L), L >= 3} (project's reading of the abstract: a "
        "Lebesgue-null set determined by depth and lam; a hidden width splitting a repeated "
        "singular value, also null, is reported separately).",
        WD_SOURCES,
        "scalar problems with random rational (sigma, lam), L = 1-5; planted ties (L = 3-6); "
        "random integer targets M (depth 1-4, widths 1-3 with bottlenecks; irrational singular "
        "values)",
        "per singular value the candidates 0 and every positive root of g(t) = t^(2L-2) - sigma "
        "t^(L-2) + lam (exact real roots) compared by f exactly (certified enclosures, exact "
        "values on overlap); the exceptional-set test decided by exact algebraic comparison "
        "with lam*; for random targets f(t_+) < f(0) by disjoint certified enclosures",
        "numeric.claims.weight_decay:check_unique_end_to_end",
        cases=_budget(6, 40, 200),
    ),
    Claim(
        "wd-frobenius-constant",
        "Weight decay lam > 0, X = I, off the exceptional set: every layer's ||W_l||_F^2 is the "
        "same (sum_i t_i^2) at every global minimizer; minimizers are related by orthogonal "
        "gauges W_l -> G_l W_l G_(l-1)^T (when no hidden width splits a repeated singular value), "
        "and generic non-orthogonal gauges (which keep the product) are not minimizers.",
        f"{WD_SOURCES}; every critical point with lam > 0 is balanced (numeric.regularized)",
        "exactly rational minimizers W_l = F_l diag(t) F_(l-1)^T (rational Cayley frames, "
        "rational t_i, some collapsed), depth 1-4, widths 1-3; random rational orthogonal gauges; "
        "new hidden frames; random integer (non-orthogonal) gauges",
        "exact: norms, L_lam and its gradient in rational arithmetic (gradient exactly 0 at each "
        "minimizer; nonzero and L_lam strictly larger after a non-orthogonal gauge)",
        "numeric.claims.weight_decay:check_frobenius_constant",
        cases=_budget(6, 40, 200),
    ),
    Claim(
        "wd-scalar-spectrum-constant",
        "Weight decay lam > 0, d_0 = d_L = 1, off the exceptional set: the spectrum of H_0 + lam I is the "
        "same at every global minimizer.",
        f"{WD_SOURCES} (\"the Hessian spectrum is constant across all minimizers of regularized "
        "deep scalar factorization\")",
        "scalar ends, depth 1-3, hidden widths 1-3: exactly rational minimizers, their images "
        "under random rational orthogonal gauges, and minimizers built with new hidden frames",
        "exact: charpoly(H_0 + lam I) equal over Q (python-flint); the detail reports that on "
        "the exceptional set the two minimizers' spectra differ",
        "numeric.claims.weight_decay:check_scalar_spectrum_constant",
        cases=_budget(6, 40, 200),
    ),
    Claim(
        "wd-matrix-spectrum-constant",
        "Weight decay lam > 0, matrix ends (d_0, d_L >= 2), off the exceptional set: the spectrum of "
        "H_0 + lam I is the same at every global minimizer (the scalar statement for matrix "
        "targets).",
        f"extension of wd-scalar-spectrum-constant to matrix targets ({WD_SOURCES})",
        "d_0, d_L in 2-3, depth 1-3: exactly rational minimizers (every other one with all "
        "singular values equal), orthogonal gauges, new hidden frames, and for repeated "
        "singular values both end frames rotated inside the block (same M, built anew)",
        "exact: charpoly(H_0 + lam I) equal over Q; why: minimizers of one Z are related by "
        "orthogonal gauges, an orthogonal change of variables leaving L_lam invariant",
        "numeric.claims.weight_decay:check_matrix_spectrum_constant",
        cases=_budget(6, 40, 200),
    ),
    Claim(
        "wd-trace-lower-bound",
        "Weight decay lam > 0, X = I: at every global minimizer tr(H_0 + lam I) >= L ||Z||_F^2 / c + "
        "lam P, where Z = W_L...W_1 and c = ||W_l||_F^2 (the same for every l and, off the "
        "exceptional set, for every global minimizer, so the bound is one number); equality for "
        "rank-one Z with scalar ends.",
        f"this checker's bound (docs/mathematics.md K3 + ||A W B||_F <= ||A||_F ||W||_F "
        f"||B||_F), answering the 'global lower bound on the Hessian trace' of {WD_SOURCES}",
        "exactly rational minimizers, depth 1-4, widths 1-3, every third with scalar ends",
        "exact rational comparison of the trace of the exact Hessian with the bound",
        "numeric.claims.weight_decay:check_trace_lower_bound",
        cases=_budget(6, 40, 200),
    ),
)

CLAIM_IDS: tuple[str, ...] = tuple(c.id for c in CLAIMS)


def get_claim(claim_id: str, pool: Sequence[Claim] = CLAIMS) -> Claim:
    """The claim with this id; an unknown id raises ``DmfError`` listing the valid ones."""
    for c in pool:
        if c.id == claim_id:
            return c
    valid = ", ".join(c.id for c in pool)
    raise DmfError(f"unknown claim id {claim_id!r}; valid ids: {valid}")


def select_claims(ids: Sequence[str], pool: Sequence[Claim] = CLAIMS) -> list[Claim]:
    """The claims with these ids, in the order given, each once."""
    out: list[Claim] = []
    for i in ids:
        c = get_claim(i, pool)
        if c not in out:
            out.append(c)
    return out
