"""PyTorch adapter: check a user's sharpness code against the certified oracle.

Needs the optional extra ``torch`` (``pip install -e ".[torch]"``, which pins ``torch==2.13.0``).

Public:
    to_sequential(weights)           ``[W_1, ..., W_L]`` -> ``torch.nn.Sequential`` of bias-free
                                     ``nn.Linear`` layers (float64, ``layer[l-1].weight = W_l``)
    from_sequential(model)           the inverse: ``list[np.ndarray]`` (float64), ``W_1`` first
    torch_data(point)                ``(inputs, targets)`` tensors in PyTorch's sample-major layout
    check_implementation(fn, cases, *, weight_decay=None)
                                     run ``fn`` on conformance cases, compare with certified values
    ConformanceReport, CaseReport    what ``check_implementation`` returns
    autograd_full_hessian_sharpness  reference: ``torch.autograd.functional.hessian`` + ``eigvalsh``
                                     (``weight_decay=lam``: of the loss plus ``(lam/2)||theta||^2``)
    hvp_power_iteration_sharpness    reference: Hessian-vector products by double backprop and a
                                     fixed number of power iterations

Layout. docs/mathematics.md writes the network as ``f(W) = W_L ... W_1`` acting on columns: data ``X`` is
``(d_0, N)``. PyTorch acts on rows, so a user's function receives ``inputs = X^T`` (``N x d_0``)
and ``targets = Y^T`` (``N x d_L``); without data ``X = I`` (``inputs`` is the identity, ``N =
d_0``) and ``targets = M^T``. Then ``model(inputs) = (f X)^T`` and the docs/mathematics.md loss is
``0.5 * ((model(inputs) - targets) ** 2).sum()``. The parameter order is docs/mathematics.md's:
``torch.cat([layer.weight.flatten() for layer in model])``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

try:
    import torch
    from torch import nn
except ImportError as _exc:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "numeric.adapters.torch needs PyTorch, an optional extra of dmf-sharpness: install it "
        "with  pip install -e '.[torch]'  (or  pip install torch==2.13.0 )"
    ) from _exc

from derivations.exact import Point
from numeric.adapters._layers import as_float64, float64_weights
from numeric.adapters.report import (
    CaseReport,
    ConformanceReport,
    call_user,
    run_conformance,
    samples_first,
)

__all__ = [
    "CaseReport",
    "ConformanceReport",
    "autograd_full_hessian_sharpness",
    "check_implementation",
    "from_sequential",
    "hvp_power_iteration_sharpness",
    "to_sequential",
    "torch_data",
]



# --- conversions ------------------------------------------------------------------------


def _tensor_float64(w: Any) -> np.ndarray | None:
    """A torch tensor as a float64 array; ``None`` for anything else."""
    if isinstance(w, torch.Tensor):
        return w.detach().to(torch.float64).cpu().numpy()
    return None


def _as_float64(w: Any, name: str = "W") -> np.ndarray:
    """One layer in float64: a tensor or float array cast, exact input (``"1/3"``, ``"0.1"``,
    ``Fraction``) rounded once to the nearest float64 (``numeric.adapters._layers``)."""
    return as_float64(w, name, _tensor_float64)


def to_sequential(weights: Sequence[Any] | Point) -> nn.Sequential:
    """A ``torch.nn.Sequential`` of bias-free ``nn.Linear`` layers with ``layer[l-1].weight =
    W_l`` in float64 (docs/mathematics.md: ``W_l`` is ``(d_l, d_{l-1})``, the ``nn.Linear.weight`` shape).
    Entries are read as every entry point reads them (tensors, arrays, ints, ``Fraction``,
    decimal and fraction strings like ``"0.1"``, ``"1/3"``) and exact ones rounded once to the
    nearest float64; a bad entry gets one line naming the layer (``W_2[0, 1]: ...``). No random
    initialization runs (the global torch RNG is left untouched).

    >>> model = to_sequential([[[1, 2]], [[3], [4]]])
    >>> model(torch.eye(2, dtype=torch.float64)).T
    tensor([[3., 6.],
            [4., 8.]], dtype=torch.float64, grad_fn=<PermuteBackward0>)
    """
    layers = []
    for arr in float64_weights(weights, _tensor_float64):
        layer = nn.utils.skip_init(
            nn.Linear, arr.shape[1], arr.shape[0], bias=False, dtype=torch.float64
        )
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(arr))
        layers.append(layer)
    return nn.Sequential(*layers)


def from_sequential(model: nn.Module) -> list[np.ndarray]:
    """``[W_1, ..., W_L]`` (float64 NumPy arrays) from a ``Sequential`` of bias-free
    ``nn.Linear`` layers; anything else (a bias, an activation) is refused."""
    from numeric.sharpness import module_layers

    return [t.detach().to(torch.float64).cpu().numpy().copy() for t in module_layers(model)]


def torch_data(point: Point) -> tuple[torch.Tensor, torch.Tensor]:
    """``(inputs, targets) = (X^T, Y^T)`` as float64 tensors (``X = I``, ``Y = M`` without data)."""
    inputs, targets = samples_first(point)
    return torch.from_numpy(inputs), torch.from_numpy(targets)


def _linear_weights(model_or_weights: Any) -> list[torch.Tensor]:
    if isinstance(model_or_weights, nn.Module):
        return [m.weight for m in model_or_weights.modules() if isinstance(m, nn.Linear)]
    return [torch.as_tensor(w, dtype=torch.float64) for w in model_or_weights]


def _half_sum_loss(ws: Sequence[torch.Tensor], inputs: torch.Tensor, targets: torch.Tensor) -> Any:
    out = inputs
    for w in ws:
        out = out @ w.T
    return 0.5 * ((out - targets) ** 2).sum()


# --- the two reference implementations --------------------------------------------------


def autograd_full_hessian_sharpness(
    model_or_weights: Any, inputs: torch.Tensor, targets: torch.Tensor, *,
    weight_decay: float = 0.0,
) -> float:
    """Sharpness by the plain route: the ``P x P`` Hessian of ``0.5 ||model(inputs) -
    targets||_F^2 + (weight_decay/2) ||theta||^2`` over the flattened parameters ``theta``
    (``torch.autograd.functional.hessian``; the decay term differentiated by autograd too),
    then ``torch.linalg.eigvalsh`` (float64, approximate; ``O(P^3)``, for small ``P``). It
    takes ``weight_decay`` as ``check_implementation(..., weight_decay=)`` passes it."""
    ws = _linear_weights(model_or_weights)
    shapes = [w.shape for w in ws]
    sizes = [w.numel() for w in ws]
    theta0 = torch.cat([w.detach().flatten() for w in ws]).to(torch.float64)

    def loss_of(theta: torch.Tensor) -> torch.Tensor:
        parts = torch.split(theta, sizes)
        data = _half_sum_loss([p.reshape(s) for p, s in zip(parts, shapes, strict=True)], inputs, targets)
        return data + 0.5 * weight_decay * (theta**2).sum()

    hess = torch.autograd.functional.hessian(loss_of, theta0)
    return float(torch.linalg.eigvalsh(hess)[-1])


def hvp_power_iteration_sharpness(
    model_or_weights: Any,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    iterations: int = 100,
    seed: int = 0,
) -> float:
    """Sharpness as PyHessian-style code estimates it: Hessian-vector products by double
    backprop, ``iterations`` power-iteration steps from a seeded random start, then the Rayleigh
    quotient. Approximate: it finds the largest-*magnitude* eigenvalue, and its error decays
    like ``(lambda_2 / lambda_1)^(2k)``, so it loses digits when the top of the spectrum is
    clustered (small gap ``lambda_1 - lambda_2``)."""
    ws = [w.detach().clone().to(torch.float64).requires_grad_(True) for w in _linear_weights(model_or_weights)]
    loss = _half_sum_loss(ws, inputs, targets)
    grads = torch.autograd.grad(loss, ws, create_graph=True)
    gen = torch.Generator().manual_seed(seed)
    v = [torch.randn(w.shape, generator=gen, dtype=torch.float64) for w in ws]

    def normalize(vs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        norm = torch.sqrt(sum((x * x).sum() for x in vs))  # type: ignore[arg-type]
        return [x / norm for x in vs]

    def hvp(vs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        dot = sum((g * x).sum() for g, x in zip(grads, vs, strict=True))
        return list(torch.autograd.grad(dot, ws, retain_graph=True))  # type: ignore[arg-type]

    v = normalize(v)
    estimate = 0.0
    for _ in range(iterations):
        hv = hvp(v)
        estimate = float(sum((a * b).sum() for a, b in zip(v, hv, strict=True)))
        if all(float(x.abs().max()) == 0.0 for x in hv):
            return 0.0
        v = normalize(hv)
    return estimate


# --- conformance checking ---------------------------------------------------------------


def check_implementation(
    fn: Callable[..., float],
    cases: Any = None,
    *,
    rtol: float = 1e-10,
    dps: int = 50,
    loss: str = "half-sum",
    as_model: bool = True,
    weight_decay: Any = None,
) -> ConformanceReport:
    """Run ``fn(model, inputs, targets) -> float`` on each case and compare with the certified
    sharpness.

    ``cases``: ``None`` (the conformance vectors shipped in the package), a directory of vector
    files, or an iterable of ``numeric.oracle.vectors.Vector``, ``Point`` (e.g. strategy draws from
    ``numeric.strategies``), input-file paths, or weight lists. ``fn`` gets the
    ``nn.Sequential`` of :func:`to_sequential` (or, with ``as_model=False``, the list of float64
    weight tensors) and ``(inputs, targets) = (X^T, Y^T)`` from :func:`torch_data`. ``loss``
    names the user's loss convention (``numeric.loss_conventions``: ``half-sum`` = ``0.5 *
    sum``, ``sum``, ``mse`` = ``torch.nn.MSELoss()``, ``half-mse``, ``sample-mean``), or is an
    ``nn.MSELoss`` object; the certified value is scaled to match. A case passes when its
    relative error is at most ``rtol``; when cases fail and every case passes under another
    convention (or is off by one factor), ``ConformanceReport.diagnosis`` says so.

    **Weight decay.** ``weight_decay=lam`` (exact: ``"1/10"``, ``Fraction``, ``0.25``; read by
    ``numeric.result.parse_weight_decay``) checks the sharpness of the loss above plus
    ``(lam/2) sum_l ||W_l||_F^2``, expected ``c lambda_max(H_0) + lam`` (``c`` the loss factor;
    the decay term is not scaled, also for ``sample-mean``/``mse``: ``numeric.adapters.report``).
    ``fn`` is then called as ``fn(model, inputs, targets, weight_decay=lam_f)`` with ``lam_f``
    the case's ``lam`` rounded to the nearest float64 (the comparison uses the exact ``lam``;
    ``1/10`` rounds by ``~1e-17`` relative, far below any useful ``rtol``). Shipped vectors with
    their own ``weight_decay`` (``weight-decay-*``, regularized minimizers) always run with
    their own ``lam``. Without ``weight_decay`` (default) ``fn`` is called as
    ``fn(model, inputs, targets)`` as before and those vectors are skipped
    (``report.skipped``); ``weight_decay=0`` runs them with their own ``lam`` and every other
    case without decay.
    """

    def call(point: Point, lam: Fraction | None = None) -> float:
        model_arg: Any = (
            to_sequential(point)
            if as_model
            else [torch.from_numpy(_as_float64(w)) for w in point.weights]
        )
        return call_user(fn, (model_arg, *torch_data(point)), lam)

    return run_conformance(call, cases, rtol=rtol, dps=dps, loss=loss, weight_decay=weight_decay)
