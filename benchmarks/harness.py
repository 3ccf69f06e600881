"""Timing harness for the benchmarks: medians, caps, agreeing digits.

Public:
    Timing          one method on one input: median seconds, runs, value, status
    CapExceeded     raised inside a run that passed its time cap
    time_limit      context manager: interrupt pure-Python work after ``seconds`` (SIGALRM)
    measure         run a callable up to ``repeat`` times under a cap -> ``Timing``
    agreeing_digits ``-log10(|a - b| / |b|)``, the number of leading digits two values share
    machine_info    CPU count, load average, library versions (for the report)

A cap interrupts Python code between bytecodes (mpmath, SymPy, a Python loop of torch calls);
a single long call into C (one LAPACK ``eigh``) finishes before the interrupt is seen. On
platforms without ``SIGALRM`` the cap is not enforced (the time is still reported).
"""

from __future__ import annotations

import math
import os
import platform
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "CapExceeded",
    "Timing",
    "agreeing_digits",
    "machine_info",
    "measure",
    "time_limit",
]


class CapExceeded(Exception):
    """A timed run passed its cap."""


@dataclass
class Timing:
    """One method on one input. ``status``: ``"ok"``, ``"capped"`` (``seconds`` is then the
    cap, a lower bound), ``"error"`` or ``"unavailable"`` (``note`` says why). ``value`` is the
    method's sharpness as returned (float, or a decimal string for high precision)."""

    method: str
    seconds: float | None = None
    runs: int = 0
    times: list[float] = field(default_factory=list)
    value: Any = None
    status: str = "ok"
    note: str = ""
    parts: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["value"] = None if self.value is None else str(self.value)
        return out


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`CapExceeded` in the main thread once ``seconds`` have passed."""
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def _alarm(signum: int, frame: Any) -> None:
        raise CapExceeded(f"passed the cap of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def measure(
    method: str,
    fn: Callable[[], Any],
    *,
    repeat: int,
    cap: float | None = None,
    budget: float = 20.0,
    setup: Callable[[], Any] | None = None,
    min_total: float = 0.25,
    max_runs: int = 50,
) -> Timing:
    """Run ``fn()`` ``repeat`` times (``setup()`` untimed before each run) and return the
    median time and the last value. Fast calls run more often, until they took ``min_total``
    seconds in all (at most ``max_runs`` runs), so that a millisecond median is not one load
    spike; slow ones stop repeating once the runs so far took ``budget`` seconds (slow
    baselines run once). A run passing ``cap`` seconds ends the measurement with status
    ``"capped"``; an exception ends it with status ``"error"``."""
    t = Timing(method)
    for i in range(max(max_runs, repeat)):
        if i >= repeat and sum(t.times) >= min_total:
            break
        if setup is not None:
            setup()
        start = time.perf_counter()
        try:
            with time_limit(cap):
                value = fn()
        except CapExceeded:
            t.status, t.seconds, t.note = "capped", cap, f"> {cap:g} s (cap)"
            return t
        except Exception as exc:  # a failing method is a result to report, not a crash
            t.status, t.note = "error", f"{type(exc).__name__}: {exc}"[:300]
            return t
        t.times.append(time.perf_counter() - start)
        t.value = value
        if sum(t.times) >= budget:
            break
    t.runs = len(t.times)
    t.seconds = statistics.median(t.times)
    return t


def agreeing_digits(a: Any, b: Any, *, limit: float) -> float | None:
    """Leading decimal digits shared by ``a`` and ``b`` (relative to ``|b|``), at most
    ``limit`` (the working precision: equal values agree to ``limit`` digits)."""
    if a is None or b is None:
        return None
    try:
        import mpmath

        with mpmath.workdps(int(limit) + 20):
            x, y = mpmath.mpf(str(a)), mpmath.mpf(str(b))
            diff = abs(x - y)
            if diff == 0:
                return float(limit)
            scale = abs(y) if y != 0 else mpmath.mpf(1)
            return float(min(limit, max(0.0, -mpmath.log10(diff / scale))))
    except (TypeError, ValueError):
        return None


def machine_info(threads: int) -> dict[str, Any]:
    """What the report says about the machine and libraries."""
    import mpmath
    import numpy
    import scipy
    import sympy

    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "threads_per_library": threads,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "sympy": sympy.__version__,
        "mpmath": mpmath.__version__,
        "mpmath_backend": mpmath.libmp.BACKEND,
    }
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    try:
        import flint

        info["python-flint"] = flint.__version__
    except ImportError:
        info["python-flint"] = None
    return info


def finite(x: float | None) -> bool:
    """Whether ``x`` is a finite float."""
    return x is not None and math.isfinite(x)
