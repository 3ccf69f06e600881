"""The loss conventions: which multiple of ``1/2 ||W_L ... W_1 X - Y||_F^2`` a user's loss is,
and the exact factor it puts on the Hessian.

Public:
    LOSSES        convention name -> its formula
    loss_factor   the exact Hessian factor of a convention and its formula with ``N``, ``d_L``
"""

from __future__ import annotations

from fractions import Fraction

from derivations.errors import DmfError

__all__ = ["LOSSES", "loss_factor"]

_NORM = "||W_L...W_1 X - Y||_F^2"
LOSSES: dict[str, str] = {
    "half-sum": f"0.5*{_NORM}",
    "sum": _NORM,
    "mean": f"(1/N)*{_NORM}",
    "mse": f"(1/(d_L*N))*{_NORM}",
}
"""Loss convention name -> its formula (``N`` samples; ``N = d_0`` when ``X = I``)."""


def loss_factor(loss: str, *, n_samples: int, d_out: int) -> tuple[Fraction, str]:
    """The exact factor turning the Hessian of ``1/2 ||R||_F^2`` into that of ``loss``, and the
    loss formula with ``N`` and ``d_L`` filled in.

    >>> loss_factor("mse", n_samples=3, d_out=2)
    (Fraction(1, 3), '(1/(2*3))*||W_L...W_1 X - Y||_F^2')
    """
    if loss == "half-sum":
        return Fraction(1), LOSSES[loss]
    if loss == "sum":
        return Fraction(2), LOSSES[loss]
    if loss == "mean":
        return Fraction(2, n_samples), f"(1/{n_samples})*{_NORM}"
    if loss == "mse":
        return Fraction(2, d_out * n_samples), f"(1/({d_out}*{n_samples}))*{_NORM}"
    raise DmfError(f"unknown loss convention {loss!r}; expected one of {sorted(LOSSES)}")
