"""Exact answers of the oracle: ``sharpness(..., exact=True)`` / ``oracle --exact`` (lambda_max as
an algebraic number), the default mode's proof of a rational lambda_max (status ``exact``), one
JSON document for the API and the CLI, ``value`` as an mpf in every mode, and
``oracle --max-seconds``."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from derivations.algebraic import AlgebraicNumber, charpoly, exact_eigenvalues
from derivations.errors import DmfError, TooLargeError
from derivations.exact import parse_point
from derivations.intervals import Enclosure
from numeric.claims.runner import closed_form
from numeric.cli import main
from numeric.evaluators.kinds import point_arrays
from numeric.hessian import full_hessian
from numeric.result import (
    EXACT_LIMIT,
    ExactValue,
    _rational_candidate,
    _rational_top,
    as_float,
    as_mpf,
    poly_text,
)
from numeric.sharpness import sharpness

RATIONAL = [[[1, "1/2"]], [[2], [1]]]  # rank one: lambda_max = ||W_1||^2 + ||W_2||^2 (K5)
COUNTEREXAMPLE = [[[0, 1], [1, 1]], [[0, 1]], [[0], [1]]]  # the sum formula's counterexample


def _frac_weights(ws: list[Any]) -> list[np.ndarray]:
    return [np.array([[Fraction(str(x)) for x in row] for row in w], dtype=object) for w in ws]


def _overlap(a: Enclosure, b: Enclosure) -> bool:
    return bool(a.lo <= b.hi and b.lo <= a.hi)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _file(tmp_path: Path, weights: Any, **extra: Any) -> Path:
    path = tmp_path / "point.json"
    path.write_text(json.dumps({"weights": weights, **extra}))
    return path


# ----------------------------------------------------------------------- default mode: rational
def test_default_mode_proves_a_rational_lambda_max(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    w1, w2 = _frac_weights(RATIONAL)
    k5 = sum(x * x for x in w1.flat) + sum(x * x for x in w2.flat)  # K5, exact
    r = sharpness(RATIONAL, "product")
    assert r.enclosure.lo != r.enclosure.hi  # not a point enclosure: proven by the exact check
    assert r.status == "exact" and r.exact is not None and Fraction(r.exact.rational) == k5
    assert r.value == mpmath.mpf(k5.numerator) / k5.denominator
    assert f"[exact: lambda_max = {k5}]" in str(r)
    code, out, _ = _run(capsys, "oracle", str(_file(tmp_path, RATIONAL)), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["status"] == "exact" and doc["exact"]["rational"] == str(k5)


def test_default_mode_leaves_an_irrational_lambda_max_certified() -> None:
    r = sharpness(COUNTEREXAMPLE, "product")
    assert r.status == "certified" and r.exact is None
    assert "certified: lambda_max in [" in str(r)


def test_rational_scaled_by_the_loss_factor() -> None:
    half, mse = sharpness(RATIONAL, "product"), sharpness(RATIONAL, "product", loss="mse")
    assert Fraction(mse.exact.rational) == Fraction(half.exact.rational) * mse.loss_factor


@given(st.lists(st.integers(-3, 3), min_size=6, max_size=6), st.integers(1, 4))
def test_rational_top_is_the_exact_multiplicity_of_the_top(entries: list[int], den: int) -> None:
    a, b, c, d, e, f = entries
    m = [[Fraction(x, den) for x in row] for row in ([a, b, c], [b, d, e], [c, e, f])]
    eigs = exact_eigenvalues(m)
    for k, (value, mult) in enumerate(eigs):
        if value.is_rational:
            assert _rational_top(m, value.as_fraction()) == (mult if k == 0 else 0)
    top = eigs[0][0].enclosure(30)
    assert _rational_top(m, top.hi + 1) == 0  # not an eigenvalue


@given(st.integers(-10**6, 10**6), st.integers(1, 10**5), st.integers(40, 60))
def test_rational_candidate_finds_small_denominators(p: int, q: int, digits: int) -> None:
    x = Fraction(p, q)
    w = Fraction(1, 10**digits)
    enc = Enclosure(x - w / 3, x + 2 * w / 3)
    assert _rational_candidate(enc) == x


def test_rational_candidate_refuses_large_denominators() -> None:
    x = Fraction(10**30 + 1, 10**30 - 7)  # denominator^4 * width > 1
    assert _rational_candidate(Enclosure(x - Fraction(1, 10**50), x + Fraction(1, 10**50))) is None


# ----------------------------------------------------------------------- exact=True / --exact
def test_exact_mode_gives_the_algebraic_number(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    r = sharpness(COUNTEREXAMPLE, "product", exact=True)
    a = r.exact.number
    ws, _, y = point_arrays(parse_point(COUNTEREXAMPLE), "exact")
    h = full_hessian(ws, None, y)  # the full Hessian: another route than the reduced K
    lam_h = exact_eigenvalues(h)[0][0]
    assert (a - lam_h).is_rational and (a - lam_h).as_fraction() == 0
    assert r.status == "exact" and r.exact.rational is None and r.exact.degree == a.degree
    assert r.exact.root == "largest real root"
    assert charpoly(h).numer() % a.poly == 0  # the minimal polynomial divides det(x I - H)
    lo, hi = (Fraction(s) for s in r.exact.isolating_interval)
    assert AlgebraicNumber(a.poly, lo, hi) is not None  # isolates one root (checked on build)
    assert _overlap(r.enclosure, a.enclosure(60))
    assert r.exact.radicals == closed_form(a).replace("^", "**")  # the claims runner's radicals
    code, out, _ = _run(capsys, "oracle", str(_file(tmp_path, COUNTEREXAMPLE)), "--exact",
                        "--json")
    doc = json.loads(out)
    assert code == 0 and doc["exact"] == r.to_json()["exact"] and doc["status"] == "exact"
    code, out, _ = _run(capsys, "oracle", str(_file(tmp_path, COUNTEREXAMPLE)), "--exact")
    assert "status: exact" in out and r.exact.minimal_polynomial in out


@given(st.lists(st.integers(-12, 12), min_size=0, max_size=6), st.integers(1, 12))
def test_poly_text_prints_as_sympy_does(coeffs: list[int], lead: int) -> None:
    import sympy
    from flint import fmpz_poly

    coeffs = [*coeffs, lead]  # a positive leading coefficient, as minimal polynomials have
    f = fmpz_poly(coeffs)
    x = sympy.Symbol("x")
    assert poly_text(f) == str(sympy.Poly(list(reversed(coeffs)), x).as_expr())


def test_exact_answer_with_coefficients_over_4300_digits() -> None:
    big = 10**5000 + 1  # Python's int -> str refuses more than 4300 digits by default
    a = AlgebraicNumber.real_root([-big, 0, 1], 1)  # sqrt(big)
    e = ExactValue.of(a)
    assert e.minimal_polynomial == f"x**2 - 1{'0' * 4999}1" and e.radicals is None
    assert e.root == "largest real root"
    assert f"degree 2, {len(e.minimal_polynomial)} characters" in e.describe()
    assert len(e.describe()) < 200


def test_which_root_is_counted_from_the_minimal_polynomial() -> None:
    sqrt2 = AlgebraicNumber.real_root([-2, 0, 1], 1)
    assert ExactValue.of(sqrt2).root == "largest real root"
    assert ExactValue.of(-sqrt2).root == "real root 0 of 2 (ascending, from 0)"
    assert ExactValue.of(-sqrt2).radicals == "-sqrt(2)"


def test_exact_mode_full_route_and_loss_factor_agree() -> None:
    reduced = sharpness(COUNTEREXAMPLE, "product", exact=True).exact.number
    full = sharpness(COUNTEREXAMPLE, "product", exact=True, route="full").exact.number
    summed = sharpness(COUNTEREXAMPLE, "product", exact=True, loss="sum").exact.number
    assert (reduced - full).as_fraction() == 0 and (summed - 2 * reduced).as_fraction() == 0


def test_exact_mode_rational_and_not_at_a_minimizer() -> None:
    r = sharpness(RATIONAL, "product", exact=True)
    assert r.exact.rational == sharpness(RATIONAL, "product").exact.rational
    floats = [np.array([[float(Fraction(str(x))) for x in row] for row in w]) for w in RATIONAL]
    dyadic = sharpness(floats, "product", exact=True)  # K from the float64 weights' dyadic values
    assert "float64 weights" in dyadic.method and dyadic.exact.rational == r.exact.rational
    off = sharpness([[[1, 2]], [[1], [-1]]], [[1, 0], [0, 1]], exact=True)  # full route
    assert off.route == "full" and _overlap(off.enclosure, off.exact.number.enclosure(60))


@pytest.mark.parametrize(
    ("weights", "target", "kwargs", "error", "match"),
    [
        pytest.param([np.eye(9), np.eye(9)], "product", {}, TooLargeError, rf"<= {EXACT_LIMIT}; the "
                     "reduced operator's size is 81", id="reduced-too-large"),
        pytest.param([np.ones((7, 5)), np.ones((5, 7))], np.eye(5), {}, TooLargeError,
                     rf"<= {EXACT_LIMIT}; P \(the full Hessian\) is 70", id="full-too-large"),
        pytest.param(RATIONAL, "product", {"float64": True}, DmfError, "needs the certified mode",
                     id="float64"),
        pytest.param(RATIONAL, "product", {"certify": False}, DmfError, "needs the certified mode",
                     id="no-certify"),
    ],
)
def test_exact_mode_refusals(weights: Any, target: Any, kwargs: dict[str, Any],
                             error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match) as info:
        sharpness(weights, target, exact=True, **kwargs)
    assert "\n" not in str(info.value)


# ----------------------------------------------------------------------- one document
@pytest.mark.parametrize("flags", [(), ("--no-certify",), ("--float64",), ("--exact",)])
def test_the_cli_document_is_to_json_plus_input(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path, flags: tuple[str, ...]) -> None:
    path = _file(tmp_path, COUNTEREXAMPLE)
    code, out, _ = _run(capsys, "oracle", str(path), "--json", "--dps", "20", *flags)
    kwargs = {"certify": "--no-certify" not in flags, "float64": "--float64" in flags,
              "exact": "--exact" in flags}
    r = sharpness(COUNTEREXAMPLE, "product", dps=20, **kwargs)  # the file has no target
    doc = json.loads(out)
    problem = doc.pop("problem")  # what the file implied, said: its target is the product
    assert code == 0 and doc == {**r.to_json(), "input": str(path)}
    assert any("product of the weights" in line for line in problem)
    assert r.to_json()["status"] == r.status and f"[{r.status}: " in str(r)


def test_float_of_a_result_in_every_mode() -> None:
    fast = sharpness(COUNTEREXAMPLE, "product", float64=True)
    slow = sharpness(COUNTEREXAMPLE, "product", certify=False, dps=30)
    for r in (fast, slow, sharpness(COUNTEREXAMPLE, "product")):
        assert isinstance(float(r), float) and float(r) == float(r.value)
    assert isinstance(slow.value, mpmath.mpf) and isinstance(fast.value, mpmath.mpf)
    assert fast.value == mpmath.mpf(float(fast))  # float64: the exact mpf of the float
    assert fast.to_json()["lambda_max"] == repr(float(fast))  # float64: printed as the float
    assert abs(float(fast) - float(slow)) <= 1e-12 * float(slow)


def test_enclosure_helpers_round_outward() -> None:
    enc = sharpness(COUNTEREXAMPLE, "product").enclosure
    lo, hi = as_float(enc)
    assert Fraction(lo) <= enc.lo and enc.hi <= Fraction(hi) and hi - lo < 1e-14
    mlo, mhi = as_mpf(enc, dps=30)
    exact = [Fraction(*mpmath.libmp.to_rational(x._mpf_)) for x in (mlo, mhi)]
    assert exact[0] <= enc.lo and enc.hi <= exact[1] and exact[1] - exact[0] < Fraction(1, 10**28)


# ----------------------------------------------------------------------- --max-seconds
def test_max_seconds_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = str(_file(tmp_path, COUNTEREXAMPLE))
    code, _, err = _run(capsys, "oracle", path, "--max-seconds", "1e-9")
    assert code == 2 and "--max-seconds S ('none': no limit)" in err
    assert "max_seconds" not in err and "over --max-seconds 1e-09 " in err and err.count("\n") == 1
    code, out, _ = _run(capsys, "oracle", path, "--max-seconds", "none", "--json")
    assert code == 0 and json.loads(out)["status"] == "certified"
    code, _, err = _run(capsys, "oracle", path, "--max-seconds", "-3")
    assert code == 2 and "--max-seconds must be a positive number" in err
