"""``python -m numeric.cli``: the same as the ``dmf-sharpness`` command."""

import sys

from numeric.cli import main

sys.exit(main())
