"""Readable results: the ``check`` table fits the terminal and shows each refutation in full,
its columns say one thing each, ``check`` writes no progress bar into redirected logs, the
``hessian-rank`` pair separates the literal claim from what holds, the escape figures draw
runs that did not escape as such, and notebook 05 states the loss factors the oracle applies.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

from numeric.sharpness import loss_factor

ROOT = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------- notebook 05


def _notebook_markdown(name: str) -> str:
    nb = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def test_notebook05_states_the_loss_factors_the_oracle_applies() -> None:
    text = _notebook_markdown("05_oracle_for_your_code.ipynb")
    n, d_out = 3, 2  # any sizes: the stated factor, read with N = 3, must be the oracle's
    mean = re.search(r'`"mean"`: \$(\d+)/N\$', text)
    assert mean is not None, "notebook 05 no longer states the mean factor as $k/N$"
    assert Fraction(int(mean.group(1)), n) == loss_factor("mean", n_samples=n, d_out=d_out)[0]
    total = re.search(r'`"sum"`: factor (\d+)', text)
    assert total is not None
    assert Fraction(int(total.group(1))) == loss_factor("sum", n_samples=n, d_out=d_out)[0]
    mse = re.search(r"\$(\d+)/\(N d_L\)\$", text)
    assert mse is not None
    assert Fraction(int(mse.group(1)), n * d_out) == loss_factor("mse", n_samples=n,
                                                                 d_out=d_out)[0]
