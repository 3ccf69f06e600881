"""The claims registry and the engine that decides each claim (``dmf-sharpness check``).

A claim is found from its id in one step: ``registry.py`` names its checker as
``module:function``, one module per family of claims.

    registry      every claim by its stable id: statement, source, domain, method, budgets
    runner        budgets, per-claim context, outcomes, the table and the JSON report
    engine        relations ``lhs (=|<=|>=) rhs``: seeded search, shrinking, exact re-check
    implications  implications ``hypothesis => conclusion``, decided the same way
    quantities    the exact sides compared (``lambda_max(H)``, norms, sums of products)
    points        seeded random exact minimizers and Hypothesis strategies of them
    frames        points built from rational Cayley and monomial frames
    identities    gauss-newton, reduced-spectrum
    closed_forms  trace, upper-bound, depth2, scalar-ends, sum-formula
    flatness      flattest, flattest-data
    balance       spectral-balance, constant-product and their corrected forms
    spectra       balanced-spectrum, hessian-rank
    escape        escape (decided by measurement; see docs/mathematics.md)
    weight_decay  wd-collapse-threshold, wd-unique-end-to-end, wd-frobenius-constant,
                  wd-scalar-spectrum-constant, wd-matrix-spectrum-constant, wd-trace-lower-bound

May import: ``derivations``, the mathematics at the top of ``numeric`` (with ``numeric.parallel``), ``numeric.dynamics``
(for the escape claim) and Hypothesis. Nothing outside this package imports it except
``numeric.cli``. What each verdict means is stated in docs/mathematics.md, "How a verdict is
reached".
"""
