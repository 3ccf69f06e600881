"""The sharpness (largest Hessian eigenvalue) at a point: the oracle's Python API.

Public:
    sharpness(weights, target=None, *, data=None, labels=None, dps=50, certify=True,
              float64=False, loss="half-sum", spectrum=False, route="auto",
              require_minimizer=False, inputs=None, targets=None,
              max_seconds=DEFAULT_MAX_SECONDS, exact=False, weight_decay=0) -> SharpnessResult
    SharpnessResult    value, enclosure, status, exact, route, spectrum facts; ``str()``,
                       ``to_json()``, ``float()``; ``ExactValue``, ``EXACT_LIMIT`` (``exact=True``)
    LOSSES             the loss conventions and their Hessian factors
    loss_factor(loss, *, n_samples, d_out) -> (Fraction, formula string)
    estimate_exact_seconds(point, route, *, dps=50, certify=True) -> (seconds, what)
    BudgetExceededError   exact work predicted over ``max_seconds`` (a ``TooLargeError``)
    Float64RangeError     float64 cannot hold the point's numbers (a ``TooLargeError``)

Helpers (private): the three evaluation modes (certified / mpmath / float64), the exact
minimizer test for large float64 input, spectrum summaries.

**Routes** (docs/mathematics.md K1, K2). At a global minimizer with ``R X^T = 0`` (decided EXACTLY) the
Hessian is ``J^T J`` and its nonzero spectrum is that of the reduced operator
``K = sum_l (B_l^T B_l) kron (A_l A_l^T)`` (with data: the ``gram`` form
``sum_l (X^T B_l^T B_l X) kron (A_l A_l^T)``, rational, or the ``C^{1/2}`` ``sqrt`` form), of size
``d_L d_0`` whatever the hidden widths; the Hessian's zero eigenvalue has multiplicity
``P - rank K``. That is ``route="reduced"``; with data its exact (certified) work uses the
smallest rational form with that spectrum: the ``gram`` form (``d_L N``), the ``gram`` form of
a rational ``F`` with ``F F^T = X X^T`` (``d_L m``, ``m <= 4 d_0``) or ``J^T J`` (``P``)
(``numeric.reduced``; ``SharpnessResult.operator_size``). Anywhere else ``route="full"``: the
explicit ``P x P`` Hessian of ``numeric.hessian`` (K1, both terms).

**Budget.** The exact work is predicted before it starts (``estimate_exact_seconds``) and
refused over ``max_seconds`` (``BudgetExceededError``), so no call hangs for minutes.

**Modes** (every number says how it was obtained, ``SharpnessResult.method``):
    certify=True (default)   exact rational K or H, eigenvalue enclosures proven to contain the
                             eigenvalues (``numeric.eigen.certified_eigvalsh``) at ``dps`` digits;
                             ranks decided exactly over Q (python-flint). If some eigenvalue
                             other than lambda_max cannot be refined to ``dps`` digits, only
                             lambda_max is (``which="top"``); the others keep rigorous wider
                             enclosures and ``SharpnessResult.secondary`` says so. A rational
                             lambda_max is proven when cheap (numeric.result, "Exact answers").
    certify=False            mpmath ``eigsy`` (Jacobi) at ``dps`` digits: approximate.
    float64=True             float64, approximate; dense LAPACK for small matrices, otherwise
                             matrix-free Lanczos (ARPACK ``eigsh`` on ``reduced_linear_operator``
                             or ``hessian_operator``); ``certify`` is ignored. Large NumPy float
                             input skips exact parsing (shapes and finiteness still checked, the
                             minimizer test stays exact). Lanczos computes lambda_max alone
                             unless ``secondary=True`` (then also the next eigenvalues and
                             lambda_min). On the full Hessian lambda_min is bounded by the
                             residual term's norm (J^T J is PSD): near minimizers it is 0 to
                             float64 precision and reported so without Lanczos, or within a
                             narrow cluster and reported as an interval (``CLUSTER_RATIO``);
                             elsewhere, with ``secondary=True``, its Lanczos run gets at most
                             ``max(lambda_max's products, LAMBDA_MIN_MIN_PRODUCTS)`` products
                             (otherwise: not reported, its interval is). Points whose products
                             overflow or underflow float64 are refused (``Float64RangeError``):
                             use the exact route.

Secondary quantities (lambda_min, gap, multiplicity, spectrum) never make lambda_max fail and
never dominate its cost; a gap is the exact difference of enclosure midpoints (no cancellation
below a huge lambda_max), and enclosed secondary numbers are printed only to the digits their
enclosures prove.

**Loss conventions** (``loss=``, ``numeric.loss_conventions``). Write ``L_half = 1/2 ||W_L ... W_1 X - Y||_F^2`` (docs/mathematics.md) and
``N`` the number of samples (columns of ``X``; ``N = d_0`` when ``X = I``):
    "half-sum"     L_half                       Hessian factor 1
    "sum"          ||R||_F^2                    factor 2        (``nn.MSELoss(reduction="sum")``)
    "mse"          (1/(d_L N)) ||R||_F^2        factor 2/(d_L N)  (``torch.nn.MSELoss()``)
    "half-mse"     (1/(2 d_L N)) ||R||_F^2      factor 1/(d_L N)  (``optax.l2_loss(...).mean()``)
    "sample-mean"  (1/N) ||R||_F^2              factor 2/N
A ``torch.nn.MSELoss`` object is accepted as its reduction says; ``"mean"`` is refused as
ambiguous (PyTorch's mean is ``"mse"``).
Every reported eigenvalue is the eigenvalue of the Hessian of the chosen loss (factor applied
exactly, enclosures included); ``loss_factor`` and ``loss`` record it.

**Weight decay** (``weight_decay=lam``, docs/mathematics.md K8; numeric.result, "Weight
decay"). The loss gains ``(lam/2) sum_l ||W_l||_F^2`` and its Hessian is ``c H_0 + lam I``: the
route and the spectrum of ``c H_0`` are computed as without decay, then every eigenvalue and
enclosure endpoint moves by exactly ``lam`` (float64: in float64).

>>> sharpness([[[1]], [[2]]], "product", weight_decay="1/3", loss="sum").exact.rational  # 10+1/3
'31/3'

>>> r = sharpness([[[1]], [[2]]], "product", dps=20, certify=False)
>>> r.route, r.at_minimizer, mpmath.nstr(r.value, 10)       # K5: ||W_1||^2 + ||W_2||^2
('reduced', True, '5.0')
>>> sharpness([[[1]], [[2]]], "product", dps=20, certify=False, loss="sum").value == 2 * r.value
True
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, Literal

import mpmath
import numpy as np

from derivations.errors import (
    DmfError,
    NotAMinimizerError,
    ShapeError,
)
from derivations.exact import check_chain, parse_point
from numeric.evaluators.budget import (
    DEFAULT_MAX_SECONDS,
    BudgetExceededError,
    _check_budget_option,
    _enforce_budget,
    _enforce_budget_from_shapes,
    _enforce_dyadic_budget,
    _exact_choice,
    estimate_exact_seconds,
)
from numeric.evaluators.exact import _dyadic_input, _mode_dyadic, _mode_exact, _mode_weyl
from numeric.evaluators.float64 import (
    CLUSTER_RATIO,
    DENSE_FLOAT64_LIMIT,
    LAMBDA_MIN_MIN_PRODUCTS,
    LANCZOS_K,
    LANCZOS_TOL,
    _float64_work,
    _threaded_float64,
)
from numeric.evaluators.float64_input import (
    _EXACT_ROUTE,
    Float64RangeError,
    _check_float64_range,
    _exact_to_float64,
    _fast_float_input,
    _float_is_minimizer,
)
from numeric.evaluators.kinds import point_arrays
from numeric.evaluators.threads import blas_threads, check_threads
from numeric.loss_conventions import resolve_loss
from numeric.result import (
    EXACT_LIMIT,
    LOSSES,
    ExactValue,
    SharpnessResult,
    _check_exact_size,
    _dominance,
    _exact_answer,
    _is_exact_zero,
    _reported_value,
    _runs,
    _same,
    _scale,
    _shift,
    _Spectrum,
    _sub,
    decay_formula,
    loss_factor,
    magnitude_note,
    parse_weight_decay,
)

__all__ = [  # with the public names of result, budget and float64_input
    "CLUSTER_RATIO",
    "DEFAULT_MAX_SECONDS",
    "DENSE_FLOAT64_LIMIT",
    "EXACT_LIMIT",
    "LAMBDA_MIN_MIN_PRODUCTS",
    "LANCZOS_K",
    "LANCZOS_TOL",
    "LOSSES",
    "BudgetExceededError",
    "ExactValue",
    "Float64RangeError",
    "LossName",
    "RouteName",
    "SharpnessResult",
    "estimate_exact_seconds",
    "loss_factor",
    "magnitude_note",
    "sharpness",
]

LossName = Literal["half-sum", "sum", "mse", "half-mse", "sample-mean"]
RouteName = Literal["auto", "reduced", "full"]

MIN_DPS, MAX_DPS = 5, 5000
# --------------------------------------------------------------------------- the API
def module_layers(model: Any) -> list[Any]:
    """The weight tensors (not copied) of a ``torch.nn.Sequential`` of bias-free ``nn.Linear``
    layers, or of one such layer, ``W_1`` first; any other module, a bias, or no layer at all
    is refused in one line (``ShapeError``). torch is looked up in ``sys.modules`` only: a
    caller holding a torch module has imported torch already."""
    from derivations.errors import ShapeError

    torch = sys.modules["torch"]
    modules = list(model) if isinstance(model, torch.nn.Sequential) else [model]
    out = []
    for i, m in enumerate(modules):
        if not isinstance(m, torch.nn.Linear):
            raise ShapeError(f"module {i} of the model is {type(m).__name__}; a deep linear "
                             "network has only bias-free nn.Linear layers")
        if m.bias is not None:
            raise ShapeError(f"layer {i + 1} (W_{i + 1}) has a bias; deep matrix factorization "
                             "has none (nn.Linear(..., bias=False))")
        out.append(m.weight)
    if not out:
        raise ShapeError("the torch model has no layers")
    return out


def _weights_from_module(weights: Any) -> Any:
    """A torch model (:func:`module_layers`) -> its weights as float64 arrays, ``W_1`` first;
    any other object unchanged. torch is never imported by this module."""
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(weights, torch.nn.Module):
        return weights
    return [t.detach().to(torch.float64).cpu().numpy().copy() for t in module_layers(weights)]


def _transposed(m: Any, name: str, layout: str) -> Any:
    """A samples-first matrix (``N x d``: list of rows, NumPy array, torch/JAX array)
    transposed to docs/mathematics.md's ``d x N``; exact entries stay exact."""
    if hasattr(m, "detach"):  # a torch tensor
        m = m.detach().cpu().numpy()
    arr = np.asarray(m) if isinstance(m, np.ndarray) or hasattr(m, "__array__") else None
    if arr is None or arr.dtype.kind not in "fiu":
        try:
            arr = np.array(m, dtype=object)
        except ValueError:
            arr = None
    if arr is None or arr.ndim != 2:
        from derivations.errors import ShapeError

        raise ShapeError(f"{name} must be a 2-D {layout} matrix (one sample per row); got "
                         f"{type(m).__name__}"
                         + ("" if arr is None else f" with {arr.ndim} dimension(s)"))
    return arr.T


def _samples_first(data: Any, labels: Any, inputs: Any, targets: Any,
                   weights: Any = None) -> tuple[Any, Any]:
    """``(data, labels)`` in docs/mathematics.md's layout from either pair (one at a time, as
    :func:`_explicit_problem` has checked); samples-first shapes are checked against ``weights``
    as passed (``_check_samples_first``)."""
    if inputs is None:
        return data, labels
    x = _transposed(inputs, "inputs", "N x d_0")
    y = None if targets is None else _transposed(targets, "targets", "N x d_L")
    _check_samples_first(weights, x.shape[::-1], None if y is None else y.shape[::-1])
    return x, y


def _check_pairs(data: Any, labels: Any, inputs: Any, targets: Any) -> None:
    """One layout at a time, and outputs only with their inputs."""
    if (inputs is not None or targets is not None) and (data is not None or labels is not None):
        raise DmfError(
            "give either data/labels (d_0 x N, d_L x N: one sample per column) or inputs/targets "
            "(N x d_0, N x d_L: one sample per row, as in PyTorch and JAX), not both"
        )
    if targets is not None and inputs is None:
        raise DmfError("targets (N x d_L) needs inputs (N x d_0): targets are outputs for inputs")
    if labels is not None and data is None:
        raise DmfError("labels (d_L x N) need data (d_0 x N): labels are outputs for data; for "
                       "plain factorization pass target=M")


def _check_samples_first(weights: Any, inputs: tuple[int, ...],
                         targets: tuple[int, ...] | None) -> None:
    """Refuse ``inputs`` (``N x d_0``) or ``targets`` (``N x d_L``) whose shape, as the caller
    passed it, does not fit the weights, naming the argument and that shape (a message about
    the transposed ``data`` would name neither). Unclear weight shapes are left to the parser."""
    from numeric.evaluators.budget import _shape2

    if not isinstance(weights, Sequence) or isinstance(weights, str | bytes) or not weights:
        return
    first, last = _shape2(weights[0]), _shape2(weights[-1])
    if first is None or last is None:
        return
    wanted = (("inputs", inputs, first[1], "W_1 takes d_0", "inputs"),
              ("targets", targets, last[0], f"W_{len(weights)} gives d_L", "outputs"))
    for name, shape, d, has, unit in wanted:
        if shape is None or shape[1] == d:
            continue
        hint = (f"; it looks transposed: pass {name}={name}.T" if shape[0] == d else "")
        raise ShapeError(f"{name} has shape {shape} but {has} = {d} {unit} per sample: {name} "
                         f"must be N x {d} (one sample per row){hint}")
    if targets is not None and targets[0] != inputs[0]:
        raise ShapeError(f"inputs has {inputs[0]} samples (shape {inputs}) but targets has "
                         f"{targets[0]} (shape {targets}); both are N x d, one sample per row")


PRODUCT = "product"
"""``target=PRODUCT`` (with data: ``labels=`` or ``targets=PRODUCT``): the weights' own product
``W_L ... W_1`` (times ``X``) is the target, so the point is a global minimizer by construction."""

_NO_PROBLEM = (
    "sharpness() got weights but no problem to answer: for a trained network's loss pass "
    "inputs= and targets= (N x d_0 and N x d_L, one sample per row as in PyTorch and JAX) or "
    "data= and labels= (one sample per column); for plain factorization pass target=M; "
    "target='product' takes the weights' own product W_L...W_1 as M (a global minimizer)"
)


def _is_product(m: Any) -> bool:
    return isinstance(m, str) and m == PRODUCT


def _explicit_problem(target: Any, data: Any, labels: Any, inputs: Any,
                      targets: Any) -> tuple[Any, Any, Any]:
    """``(target, labels, targets)`` with ``"product"`` read as ``None`` (the product of the
    weights), after refusing a call that does not say which problem it asks about: no target
    and no data, or data without labels. A model's loss needs its data; answering for the
    model's own product instead would be another problem, silently."""
    for name, m in (("target", target), ("labels", labels), ("targets", targets)):
        if isinstance(m, str) and m != PRODUCT:
            raise DmfError(f"{name} must be a matrix or {PRODUCT!r} (the product of the "
                           f"weights); got the string {m[:40]!r}")
    _check_pairs(data, labels, inputs, targets)
    if data is None and inputs is None:
        if target is None:
            raise DmfError(_NO_PROBLEM)
        return (None if _is_product(target) else target), labels, targets
    if labels is None and targets is None:
        given = "inputs" if inputs is not None else "data"
        wanted = "targets" if inputs is not None else "labels"
        raise DmfError(
            f"sharpness() got {given}= but no {wanted}=: pass the {wanted} of the loss "
            f"({'N x d_L, one sample per row' if wanted == 'targets' else 'd_L x N'}), or "
            f"{wanted}='product' for Y = W_L...W_1 X (a global minimizer)"
        )
    return target, (None if _is_product(labels) else labels), (
        None if _is_product(targets) else targets)


def _check_options(dps: int, loss: Any, route: str) -> str:
    """Check ``dps`` and ``route``; return the loss convention's name (``resolve_loss``)."""
    if isinstance(dps, bool) or not isinstance(dps, int) or not MIN_DPS <= dps <= MAX_DPS:
        raise DmfError(f"dps must be an integer in [{MIN_DPS}, {MAX_DPS}]; got {dps!r}")
    name = resolve_loss(loss)
    if route not in ("auto", "reduced", "full", "weyl"):
        raise DmfError(f"route must be 'auto', 'reduced', 'full' or 'weyl'; got {route!r}")
    return name


def _choose_route(route: str, at_min: bool, require_minimizer: bool, residual: Any) -> str:
    if (require_minimizer or route == "reduced") and not at_min:
        raise NotAMinimizerError(
            f"the point is not a global minimizer with R X^T = 0 (residual norm {residual}); "
            "the reduced operator K applies only there -- use route='auto' or 'full'"
        )
    if route == "auto":
        return "reduced" if at_min else "full"
    return route


def sharpness(
    weights: Sequence[Any],
    target: Any = None,
    *,
    data: Any = None,
    labels: Any = None,
    dps: int = 50,
    certify: bool = True,
    float64: bool = False,
    loss: Any = "half-sum",
    spectrum: bool = False,
    route: str = "auto",
    require_minimizer: bool = False,
    inputs: Any = None,
    targets: Any = None,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
    exact: bool = False,
    weight_decay: Any = 0,
    secondary: bool = False,
    threads: int | str | None = None,
) -> SharpnessResult:
    """The sharpness ``lambda_max`` of the Hessian of the squared loss at ``weights``.

    ``weights``: ``[W_1, ..., W_L]`` (``W_l`` is ``d_l x d_{l-1}``), each a 2-D array-like of
    ints, Fractions, decimal or ``"p/q"`` strings, or floats (taken as the exact binary
    rationals they are). The problem must be named: ``target=M``, or ``data=``/``labels=``
    (``inputs=``/``targets=``); ``target="product"`` (with data, ``labels=`` or
    ``targets="product"``) takes the product of the weights (times ``X``), so the point is a
    global minimizer. No target and no data, or data without labels, is refused
    (``DmfError``): a model's loss needs its data. ``route="auto"`` uses the reduced
    operator exactly when ``R X^T = 0`` and the full Hessian otherwise; ``"reduced"`` and
    ``require_minimizer=True`` raise ``NotAMinimizerError`` away from minimizers; ``"full"``
    forces the full Hessian (an independent check of the reduced route). ``"weyl"`` (float64
    NumPy input only; never chosen by ``"auto"``) gives the certified Weyl enclosure of
    ``numeric.enclosure.weyl_enclosure`` instead, for points off minimizers too large for the
    full Hessian: ``lambda_max`` alone, its width whatever the residual allows (``method``
    reads ``certified: Weyl enclosure, width ...``; the value shows only the proven digits).
    ``weights`` may also be a ``torch.nn.Sequential`` of bias-free ``nn.Linear`` layers (their
    float64 weights, as ``numeric.adapters.torch.from_sequential`` reads them; torch is never
    imported by this module).

    **Data layout.** ``data`` ``X`` is ``d_0 x N`` and ``labels`` ``Y`` is ``d_L x N``, one
    sample per *column*, as in docs/mathematics.md. ``inputs`` (``N x d_0``) and ``targets``
    (``N x d_L``) take the samples-first layout of PyTorch and JAX (one sample per *row*):
    ``inputs=A, targets=B`` is ``data=A^T, labels=B^T``. The two pairs are mutually exclusive
    (a square ``N = d_0`` matrix would otherwise be read in the wrong layout silently).

    **Budget.** ``max_seconds`` (default ``DEFAULT_MAX_SECONDS``; ``None``: no limit) bounds the
    *predicted* time of the exact work (``estimate_exact_seconds``: operator size, entry bit
    sizes, dps); a prediction above it raises ``BudgetExceededError`` at once, naming the
    estimate and the way out (``float64=True``, ``certify=False`` when that fits, or a larger
    ``max_seconds``). ``float64=True`` has no budget (Lanczos, seconds).
    **Exact.** ``exact=True`` (certified only) adds lambda_max as an algebraic number
    (``SharpnessResult.exact``) for exact operators of size ``<= EXACT_LIMIT`` (``P`` on the
    full route, ``d_0 d_L`` at minimizers without data); larger ones raise ``TooLargeError``.
    **Weight decay.** ``weight_decay=lam`` (an exact number ``>= 0``) adds
    ``(lam/2) sum_l ||W_l||_F^2`` to the loss: every eigenvalue gains exactly ``lam``.
    **Secondary quantities in float64 Lanczos** (matrices too large for dense ``eigh``): by
    default only lambda_max, as fast as a peer tool's; ``secondary=True`` also computes the next
    ``LANCZOS_K - 1`` eigenvalues (gap, multiplicity) and lambda_min, at up to three times the
    cost. Dense and certified routes always give them (they come with the spectrum).
    **Threads.** ``threads`` (an int >= 1 or ``"auto"``; ``None``: the environment variable
    ``DMF_SHARPNESS_THREADS``, else ``"auto"``) is the number of BLAS threads of the float64
    work (``numeric.evaluators.threads``); ``"auto"`` takes 1 unless the products it repeats are very
    large (``PARALLEL_WORK`` flops each), never from the machine's load; ``method`` records the choice.
    See the module docstring for modes and loss conventions.
    """
    loss = _check_options(dps, loss, route)
    lam = parse_weight_decay(weight_decay)
    _check_budget_option(max_seconds)
    check_threads(threads)
    if exact and (float64 or not certify):
        raise DmfError("exact=True (--exact) needs the certified mode; drop float64=True "
                       "(--float64) and certify=False (--no-certify)")
    if route == "weyl" and (float64 or not certify or exact or spectrum or require_minimizer):
        raise DmfError("route='weyl' (the certified Weyl enclosure of lambda_max off minimizers) "
                       "computes lambda_max alone, certified: drop float64=True, certify=False, "
                       "exact=True, spectrum=True and require_minimizer=True")
    start = time.perf_counter()
    target, labels, targets = _explicit_problem(target, data, labels, inputs, targets)
    weights = _weights_from_module(weights)
    data, labels = _samples_first(data, labels, inputs, targets, weights)
    dyadic = _dyadic_input(weights, target, data, labels, route=route, float64=float64,
                           certify=certify)
    if not float64 and max_seconds is not None and route != "weyl":
        _enforce_budget_from_shapes(weights, data, dps=dps, certify=certify,
                                    max_seconds=max_seconds, chains=dyadic is None)
    fast = _fast_float_input(weights, target, data, labels) if float64 else None
    residual_norm: Any
    if route == "weyl":
        spec, dims, params, n_samples, at_min, residual_norm = _mode_weyl(
            weights, target, data, labels, dps)
        chosen = "weyl"
        enc = spec.evs[0].enc  # printed to the digits it proves, never padded with zeros
        dps = max(1, min(dps, int(enc.correct_digits))) if enc is not None else dps
    elif dyadic is not None:
        dims = check_chain([w.shape for w in dyadic])
        params, n_samples = sum(w.size for w in dyadic), dims[0]
        if max_seconds is not None:
            _enforce_dyadic_budget(params, dims[0], dims[-1], dps=dps, max_seconds=max_seconds)
        if exact:
            _check_exact_size(dims[0] * dims[-1], "reduced")
        at_min, residual_norm, chosen = True, mpmath.mpf(0), "reduced"  # target := the product
        spec = _mode_dyadic(dyadic, dps, params)
    elif fast is not None:
        ws, t, x, y = fast
        _check_float64_range(ws, x, t if x is None else y)
        from numeric.factors import product

        with blas_threads(_float64_work(ws, x, "full", dense=False), threads):
            f = product(ws)
            at_min = _float_is_minimizer(ws, t, x, y, f)
            fx = f if x is None else f @ x
            y_eff = (fx if t is None else t) if x is None else (fx if y is None else y)
            residual_norm = float(np.linalg.norm(fx - y_eff))
        dims = check_chain([w.shape for w in ws])
        params = sum(w.size for w in ws)
        n_samples = dims[0] if x is None else x.shape[1]
        chosen = _choose_route(route, at_min, require_minimizer, residual_norm)
        spec = _threaded_float64(threads, ws, x, y_eff, chosen, spectrum, secondary)
    else:
        point = parse_point(weights, target, data=data, labels=labels)
        dims, params = point.dims, point.num_params
        n_samples = dims[0] if point.data is None else point.data.shape[1]
        at_min = point.is_minimizer()
        r2 = sum((q * q for q in point.residual().flat), Fraction(0))
        with mpmath.workdps(dps):
            residual_norm = mpmath.sqrt(mpmath.mpf(r2.numerator) / r2.denominator)
        chosen = _choose_route(route, at_min, require_minimizer, mpmath.nstr(residual_norm, 5))
        if not float64 and max_seconds is not None:
            _enforce_budget(point, chosen, dps=dps, certify=certify, max_seconds=max_seconds)
        if exact:
            _check_exact_size(params if chosen == "full" else _exact_choice(point)[1], chosen)
        if float64:
            ew, ex, ey = point_arrays(point, "exact")
            fw = [_exact_to_float64(f"W_{l}", w) for l, w in enumerate(ew, start=1)]
            fx_ = None if ex is None else _exact_to_float64("data X", ex)
            y_name = "labels Y" if ex is not None else "target M (the product, for target='product')"
            fy = _exact_to_float64(y_name, ey)
            _check_float64_range(fw, fx_, fy)
            residual_norm = float(residual_norm)
            spec = _threaded_float64(threads, fw, fx_, fy, chosen, spectrum, secondary)
        else:
            spec = _mode_exact(point, chosen, dps, certify)
    if float64 and not all(math.isfinite(float(e.value)) for e in (spec.evs[0], spec.lambda_min)
                            if e is not None):
        raise Float64RangeError(  # a last guard: the range check above should prevent it
            f"float64 produced a non-finite eigenvalue ({spec.evs[0].value}); {_EXACT_ROUTE}"
        )
    factor, formula = loss_factor(loss, n_samples=n_samples, d_out=dims[-1])
    exact_value = (None if spec.exact_matrix is None
                   else _exact_answer(spec, factor, exact=exact, shift=lam))
    spec = _shift(_scale(spec, factor, None if float64 else dps), lam, None if float64 else dps)
    return _result(
        spec,
        route=chosen,
        at_min=at_min,
        residual_norm=residual_norm,
        loss=(loss, decay_formula(formula, lam), factor),
        dims=tuple(dims),
        params=params,
        dps=None if float64 else dps,
        want_spectrum=spectrum,
        seconds=time.perf_counter() - start,
        exact=exact_value,
        weight_decay=lam,
    )


def _result(
    spec: _Spectrum,
    *,
    route: str,
    at_min: bool,
    residual_norm: Any,
    loss: tuple[str, str, Fraction],
    dims: tuple[int, ...],
    params: int,
    dps: int | None,
    want_spectrum: bool,
    seconds: float,
    exact: ExactValue | None = None,
    weight_decay: Fraction = Fraction(0),
) -> SharpnessResult:
    evs = spec.evs
    top = evs[0]
    runs = _runs(evs)  # the P - rank padded zeros are one run: O(rank) work, not O(P)
    mult = sum(count for e, count in runs if _same(e, top, spec.tol))
    # the next distinct eigenvalue among those computed; with only the top ones computed and all
    # equal to lambda_max, it is unknown (lambda_min is not it: there may be others between)
    nxt = next((e for e, _ in runs if not _same(e, top, spec.tol)), None)
    gap = None if nxt is None else _sub(top, nxt, dps)
    low = spec.lambda_min
    dominated = None if low is None else _dominance(top, low, spec.tol)
    if low is None and spec.lambda_min_bound is not None and spec.lambda_min_bound < top.value:
        dominated = False  # lambda_min >= -bound > -lambda_max
    largest = top if (low is None or not dominated) else low
    method = spec.method
    if spec.secondary:
        method += f"; {spec.secondary}"
    if not spec.complete:
        method += (f"; only the top {len(evs)} eigenvalue{'s' if len(evs) > 1 else ''} "
                   "computed (multiplicity is a lower bound)")
    listed = (lambda e: not e.kernel) if weight_decay else (lambda e: not _is_exact_zero(e))
    nonzero = [e for e in evs if listed(e)] if want_spectrum else []
    with_enc = top.enc is not None
    return SharpnessResult(
        value=_reported_value(top.value, exact, dps),
        enclosure=top.enc,
        certified=with_enc,
        route=route,
        at_minimizer=at_min,
        residual_norm=residual_norm,
        loss=loss[1],
        loss_factor=loss[2],
        dims=dims,
        parameters=params,
        lambda_min=None if low is None else low.value,
        largest_magnitude=largest.value,
        multiplicity=mult,
        gap=None if gap is None else gap.value,
        spectrum=[e.value for e in nonzero] if want_spectrum and spec.complete else None,
        zero_multiplicity=spec.zero_multiplicity if want_spectrum else None,
        method=method,
        dps=dps,
        loss_convention=loss[0],
        lambda_min_enclosure=None if low is None else low.enc,
        gap_enclosure=None if gap is None else gap.enc,
        spectrum_enclosures=[e.enc for e in nonzero] if want_spectrum and with_enc else None,
        largest_magnitude_is_lambda_min=dominated,
        seconds=seconds,
        secondary=spec.secondary,
        operator_size=spec.operator_size,
        exact=exact,
        weight_decay=weight_decay,
    )
