"""Weight decay: the loss ``L_lam(W) = 1/2 ||W_L...W_1 X - Y||_F^2 + (lam/2) sum_l ||W_l||_F^2``
(docs/mathematics.md K8), its Hessian ``H_0 + lam I``, and its global minimizers.

    scalar       the problem per singular value, ``f(t) = 1/2 (t^L - sigma)^2 + (lam L/2) t^2``;
                 the exact collapse threshold ``lam*``, ties, the regularized loss, gradient
                 and Hessian
    minimizers   certified global minimizers for any widths (exact rational interval
                 arithmetic, no floating-point SVD)

Part of the mathematics: may import ``derivations`` and the modules at the top of ``numeric``,
never ``claims``, ``dynamics``, ``oracle``, ``adapters`` or ``cli``.
"""

from __future__ import annotations

from numeric.regularized.minimizers import (
    RegularizedMinimizer,
    frame_minimizer,
    frame_point,
    interval_lambda_max,
    regularized_minimizer,
)
from numeric.regularized.scalar import (
    CollapseCertificate,
    ScalarMinimizer,
    certify_collapse,
    collapse_threshold,
    regularized_gradient,
    regularized_hessian,
    regularized_loss,
    scalar_minimizer,
    scalar_objective,
    stationarity_polynomial,
    stationary_target,
    threshold_polynomial,
)

__all__ = [
    "CollapseCertificate",
    "RegularizedMinimizer",
    "ScalarMinimizer",
    "certify_collapse",
    "collapse_threshold",
    "frame_minimizer",
    "frame_point",
    "interval_lambda_max",
    "regularized_gradient",
    "regularized_hessian",
    "regularized_loss",
    "regularized_minimizer",
    "scalar_minimizer",
    "scalar_objective",
    "stationarity_polynomial",
    "stationary_target",
    "threshold_polynomial",
]
