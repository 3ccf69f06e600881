"""``exact_rank``'s modular shortcut: a rank over GF(p) equal to min(rows, cols) proves full
rank over Q; anything less falls back to exact elimination. Both must agree with the plain
rational elimination."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from flint import fmpq, fmpq_mat

from derivations.algebraic import exact_rank, matrices


def _plain_rank(m: np.ndarray) -> int:
    rows, cols = m.shape
    f = fmpq_mat(rows, cols, [fmpq(int(x.numerator), int(x.denominator)) for x in m.flat])
    return int(f.rank())


@pytest.mark.parametrize("seed", range(6))
def test_rank_agrees_with_plain_elimination(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = 40, int(rng.integers(1, 41))  # rank k <= 40 by construction
    a = rng.integers(-9, 10, (n, k)).astype(object)
    b = rng.integers(-9, 10, (k, n)).astype(object)
    m = (a @ b) * Fraction(1, int(rng.integers(1, 50)))
    assert exact_rank(m) == _plain_rank(m)


def test_multiples_of_the_prime_do_not_fool_the_shortcut(monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries that vanish mod p make the modular rank drop: exact elimination then decides."""
    p = matrices._RANK_PRIME
    m = np.diag([Fraction(p)] * 33 + [Fraction(1)]).astype(object)  # full rank over Q
    assert matrices._rank_mod_p(matrices.as_fmpq_mat(m, symmetric=False)) == 1
    assert exact_rank(m) == 34


def test_full_rank_is_proven_without_rational_elimination(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    m = (rng.integers(-5, 6, (64, 64)).astype(object) * Fraction(1, 3)) + np.eye(64, dtype=object) * 100

    def no_elimination(self: object) -> int:
        raise AssertionError("rational elimination ran")

    monkeypatch.setattr(fmpq_mat, "rank", no_elimination, raising=False)
    assert exact_rank(m) == 64
