"""How the sharpness of a route's operator is evaluated, one module per arithmetic (as mpmath
keeps a context per arithmetic), and what each arithmetic needs.

    numeric.evaluators.kinds          float64 / mpmath / exact views of a validated point
    numeric.evaluators.budget         the time budget of exact work, predicted before it starts
    numeric.evaluators.float64_input  float64 input: range checks, exact dyadic values, the
                                      minimizer test
    numeric.evaluators.threads        the BLAS thread setting of the float64 routes

This subpackage belongs to the mathematics level (like ``numeric.regularized``): it imports
``derivations`` and the modules at the top of ``numeric``, never a subpackage by responsibility
(claims, conjecture, dynamics, oracle, adapters, cli).
"""
