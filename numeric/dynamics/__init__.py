"""Gradient descent near a minimizer: escape above ``eta lambda_max = 2``, convergence below;
and the sharpness along any training run.

    escape    runs, sweeps over ``factor x eps``, the linearized prediction of the escape step
    start     the start minimizer under weight decay (the regularized global minimizer of the
              target) and the certified ``lambda_max(H_0 + lam I)`` there
    plots     figures of a run and of a sweep (matplotlib, PNG, written atomically)
    track     ``SharpnessTracker``: lambda_max of the loss's Hessian at every step of a
              training run (float64 Lanczos, warm-started), with loss, ||R||_F and ||grad||

May import: ``derivations``, the mathematics at the top of ``numeric`` (the oracle certifies
``lambda_max`` at the start), ``numeric.regularized`` (the start under weight decay) and ``numeric.oracle.files`` (atomic writes). Not ``claims`` or
``cli``: the ``escape`` claim's verdict lives in ``numeric.claims.escape``. Nor ``adapters``:
``track`` reads torch models and tensors itself, looking torch up in ``sys.modules`` only (a
caller holding a tensor has imported it), and imports matplotlib only inside ``plot``.
"""
