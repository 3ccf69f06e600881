"""Adapters to other frameworks, one module per library, each an optional extra imported only
when that library is installed (``import numeric`` never imports them).

    torch     PyTorch: ``nn.Sequential`` <-> weights, data layout, ``check_implementation``
              (extra ``torch``)
    jax       JAX (CPU): weight arrays <-> weights, data layout, ``check_implementation``, two
              reference implementations; importing it switches JAX to float64 globally
              (extra ``jax``)
    report    the framework-neutral conformance reports and case loading (no extra)

May import: ``derivations``, the mathematics at the top of ``numeric`` and ``numeric.oracle``.
A module here whose library is missing is collected by the test suite as one visible skip
(``conftest.py`` in this folder).
"""
