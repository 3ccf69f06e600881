"""Gradient descent near a minimizer: escape above ``eta lambda_max = 2``, convergence below.

    escape    runs, sweeps over ``factor x eps``, the linearized prediction of the escape step
    plots     figures of a run and of a sweep (matplotlib, PNG, written atomically)

May import: ``derivations``, the mathematics at the top of ``numeric`` (the oracle certifies
``lambda_max`` at the start) and ``numeric.oracle.files`` (atomic writes). Not ``claims`` or
``cli``: the ``escape`` claim's verdict lives in ``numeric.claims.escape``.
"""
