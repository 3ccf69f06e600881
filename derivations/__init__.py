"""dmf-sharpness, symbolic side: exact input, SymPy Hessians, identities, exact eigenvalues.

Submodules (one per mathematical object):
    derivations.errors      the exception hierarchy (``DmfError`` is a ``ValueError``)
    derivations.exact       exact rational input, the ``Point`` type, conversions
    derivations.symbolic    symbolic weights, product and loss
    derivations.hessian     the Hessian by differentiating the loss (the slow reference)
    derivations.identities  polynomial identities proved for given dims
    derivations.algebraic   characteristic polynomials, exact lambda_max, exact comparison

Importing this package does not import SymPy; the submodules that need it do.
"""

from derivations.errors import DmfError

__all__ = ["DmfError", "__version__"]
__version__ = "0.1.0"
