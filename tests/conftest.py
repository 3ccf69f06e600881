"""Test configuration: Hypothesis profiles and mpmath hygiene.

Profiles (select with ``--hypothesis-profile NAME`` or ``HYPOTHESIS_PROFILE=NAME``):
    default   the everyday run
    ci        derandomized (reproducible), used automatically when ``CI`` is set
    thorough  many more examples, for a long local run
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import mpmath
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default"))


@pytest.fixture(autouse=True)
def _reset_mpmath() -> Iterator[None]:
    """No test may leak mpmath precision into another (mpmath's own conftest does this)."""
    mpmath.mp.dps = 15
    mpmath.iv.dps = 15
    yield
    assert mpmath.mp.dps == 15, "a test or the code under test changed mpmath.mp.dps globally"
    mpmath.mp.dps = 15
