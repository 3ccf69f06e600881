"""Test configuration: Hypothesis profiles and storage, mpmath hygiene.

Profiles (select with ``--hypothesis-profile NAME`` or ``HYPOTHESIS_PROFILE=NAME``):
    default   the everyday run
    ci        derandomized (reproducible), used automatically when ``CI`` is set
    thorough  many more examples, for a long local run

Storage: the test run writes nothing in the working directory. Hypothesis' ``.hypothesis``
folder (example database, constants cache, patches) is a temporary directory for the session,
removed when pytest ends (``numeric.claims.runner.hypothesis_storage``, the one place that
decides it), so failing examples are not replayed by the next run. To keep them, choose a
place: ``HYPOTHESIS_STORAGE_DIRECTORY=.hypothesis pytest ...``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import mpmath
import pytest
from hypothesis import HealthCheck, settings

from numeric.claims.runner import hypothesis_storage

_STORAGE = contextlib.ExitStack()
_STORAGE.enter_context(hypothesis_storage())  # before any test can touch Hypothesis' storage


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the session's Hypothesis storage (after Hypothesis' own end-of-run reports)."""
    _STORAGE.close()

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
