"""The oracle's files: reading and writing points, and the conformance vectors.

    files     ``.json``/``.npz``/``.pt`` input read exactly and refused in one line when
              wrong (points, PyTorch ``state_dict`` files, samples-first data); the limits;
              atomic writes
    npz       the hardened ``.npz`` reader (never trusts the archive)
    pt        ``.pt`` files through ``torch.load(weights_only=True)``
    vectors   the known-answer conformance vectors: generation from fixed seeds, the shipped
              set (``vectors/*.json``, data of this package), checking a directory

May import: ``derivations`` and the mathematics at the top of ``numeric`` (with ``numeric.parallel``) (the vectors' expected
values come from ``numeric.sharpness``). Not ``claims``, ``dynamics``, ``adapters`` or ``cli``.
The oracle's Python API itself is :func:`numeric.sharpness`.
"""
