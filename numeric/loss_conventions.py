"""The loss conventions: which multiple of ``1/2 ||W_L ... W_1 X - Y||_F^2`` a user's loss is,
and the exact factor it puts on the Hessian.

Public:
    LOSSES            convention name -> its formula
    EQUIVALENTS       convention name -> the same loss written in PyTorch and in JAX/optax
    resolve_loss      a name or a ``torch.nn.MSELoss`` object -> the convention's name
    loss_factor       the exact Hessian factor of a convention and its formula with ``N``, ``d_L``
    conventions_with_factor   the conventions whose factor is a given ratio (to diagnose a
                      user's function that is off by the same factor on every case)

Write ``R = W_L ... W_1 X - Y`` (``d_L x N``: ``N`` samples, one per column; ``N = d_0`` when
``X = I``). The Hessian of ``c/2 ||R||_F^2`` is ``c`` times that of ``1/2 ||R||_F^2``:

    name           loss                         factor c      PyTorch / JAX (optax)
    half-sum       1/2 ||R||_F^2                 1             0.5*((f(X)-Y)**2).sum() / optax.l2_loss(...).sum()
    sum            ||R||_F^2                     2             nn.MSELoss(reduction="sum") / optax.squared_error(...).sum()
    mse            ||R||_F^2 / (d_L N)           2/(d_L N)     nn.MSELoss() / optax.squared_error(...).mean()
    half-mse       ||R||_F^2 / (2 d_L N)         1/(d_L N)     0.5*nn.MSELoss()(...) / optax.l2_loss(...).mean()
    sample-mean    ||R||_F^2 / N                 2/N           ((f(X)-Y)**2).sum(1).mean() / jnp.mean(jnp.sum(sq, -1))

``"mean"`` is refused: PyTorch's ``reduction="mean"`` (the ``nn.MSELoss()`` default) averages
over all ``d_L N`` entries (``"mse"``), while a mean over samples of ``||r_i||^2`` is
``"sample-mean"``; either reading would be a guess.

>>> resolve_loss("mse"), loss_factor("mse", n_samples=3, d_out=2)[0]
('mse', Fraction(1, 3))
>>> resolve_loss("mean")
Traceback (most recent call last):
    ...
derivations.errors.DmfError: loss='mean' is ambiguous: PyTorch's reduction='mean' (nn.MSELoss() default) averages over all d_L*N entries, which is loss='mse'; the mean over the N samples of ||y_i - f(x_i)||^2 is loss='sample-mean'
"""

from __future__ import annotations

import sys
from fractions import Fraction
from typing import Any

from derivations.errors import DmfError

__all__ = ["EQUIVALENTS", "LOSSES", "conventions_with_factor", "loss_factor", "resolve_loss"]

_NORM = "||W_L...W_1 X - Y||_F^2"
LOSSES: dict[str, str] = {
    "half-sum": f"0.5*{_NORM}",
    "sum": _NORM,
    "mse": f"(1/(d_L*N))*{_NORM}",
    "half-mse": f"(1/(2*d_L*N))*{_NORM}",
    "sample-mean": f"(1/N)*{_NORM}",
}
"""Loss convention name -> its formula (``N`` samples; ``N = d_0`` when ``X = I``)."""

EQUIVALENTS: dict[str, tuple[str, str]] = {
    "half-sum": ("0.5 * ((model(X) - Y) ** 2).sum()", "optax.l2_loss(pred, Y).sum()"),
    "sum": ('nn.MSELoss(reduction="sum")', "optax.squared_error(pred, Y).sum()"),
    "mse": ('nn.MSELoss()  (reduction="mean")', "optax.squared_error(pred, Y).mean()"),
    "half-mse": ("0.5 * nn.MSELoss()(model(X), Y)", "optax.l2_loss(pred, Y).mean()"),
    "sample-mean": ("((model(X) - Y) ** 2).sum(dim=1).mean()",
                    "jnp.mean(jnp.sum((pred - Y) ** 2, axis=-1))"),
}
"""Convention name -> ``(PyTorch, JAX/optax)`` expressions of the same loss, samples first
(``X`` is ``N x d_0``, ``Y`` is ``N x d_L``)."""

_AMBIGUOUS = (
    "loss='mean' is ambiguous: PyTorch's reduction='mean' (nn.MSELoss() default) averages over "
    "all d_L*N entries, which is loss='mse'; the mean over the N samples of ||y_i - f(x_i)||^2 "
    "is loss='sample-mean'"
)


def resolve_loss(loss: Any) -> str:
    """The convention's name for ``loss``: one of :data:`LOSSES`, or a ``torch.nn.MSELoss``
    (``reduction="mean"`` is ``"mse"``, ``"sum"`` is ``"sum"``). Anything else is refused in one
    line: ``"mean"`` (ambiguous, see the module doc), ``reduction="none"``, other loss modules
    and functions (``F.mse_loss``, ``optax.squared_error``: their reduction is not known)."""
    if isinstance(loss, str):
        if loss in LOSSES:
            return loss
        if loss == "mean":
            raise DmfError(_AMBIGUOUS)
        raise DmfError(f"unknown loss convention {loss[:40]!r}; expected one of "
                       f"{', '.join(LOSSES)} or a torch.nn.MSELoss")
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(loss, torch.nn.MSELoss):
        reduction = loss.reduction
        if reduction in ("mean", "sum"):
            return "mse" if reduction == "mean" else "sum"
        raise DmfError(f"nn.MSELoss(reduction={reduction!r}) is not a scalar loss; use "
                       "reduction='mean' or 'sum'")
    raise DmfError(
        f"loss must be a convention name ({', '.join(LOSSES)}) or a torch.nn.MSELoss; got "
        f"{type(loss).__name__} (a loss function's reduction is not known: name it, e.g. "
        "F.mse_loss or optax.squared_error(...).mean() is loss='mse')"
    )


def loss_factor(loss: str, *, n_samples: int, d_out: int) -> tuple[Fraction, str]:
    """The exact factor ``c`` turning the Hessian of ``1/2 ||R||_F^2`` into that of ``loss``
    (a name or a ``torch.nn.MSELoss``, :func:`resolve_loss`), and the loss formula with ``N``
    and ``d_L`` filled in.

    >>> loss_factor("mse", n_samples=3, d_out=2)
    (Fraction(1, 3), '(1/(2*3))*||W_L...W_1 X - Y||_F^2')
    >>> loss_factor("sample-mean", n_samples=4, d_out=2)
    (Fraction(1, 2), '(1/4)*||W_L...W_1 X - Y||_F^2')
    """
    name = resolve_loss(loss)
    entries = d_out * n_samples
    factors = {
        "half-sum": (Fraction(1), LOSSES[name]),
        "sum": (Fraction(2), LOSSES[name]),
        "mse": (Fraction(2, entries), f"(1/({d_out}*{n_samples}))*{_NORM}"),
        "half-mse": (Fraction(1, entries), f"(1/(2*{d_out}*{n_samples}))*{_NORM}"),
        "sample-mean": (Fraction(2, n_samples), f"(1/{n_samples})*{_NORM}"),
    }
    return factors[name]


def conventions_with_factor(ratio: Fraction, *, used: str, n_samples: int,
                            d_out: int) -> list[str]:
    """The conventions other than ``used`` whose Hessian is ``ratio`` times that of ``used`` at
    ``N = n_samples``, ``d_L = d_out``: a function off by one factor on every case computes one
    of them.

    >>> conventions_with_factor(Fraction(1, 3), used="sample-mean", n_samples=4, d_out=3)
    ['mse']
    """
    base = loss_factor(used, n_samples=n_samples, d_out=d_out)[0]
    return [name for name in LOSSES if name != used
            and loss_factor(name, n_samples=n_samples, d_out=d_out)[0] == ratio * base]
