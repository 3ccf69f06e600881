"""Adapters to other frameworks, one module per library, each an optional extra imported only
when that library is installed (``import numeric`` never imports them).

    torch     PyTorch: ``nn.Sequential`` <-> weights, data layout, ``check_implementation``
              (extra ``torch``)

May import: ``derivations``, the mathematics at the top of ``numeric`` and ``numeric.oracle``.
A module here whose library is missing is collected by the test suite as one visible skip
(``conftest.py`` in this folder).
"""
