"""The BLAS thread setting of the float64 routes: how many threads BLAS, LAPACK (and OpenMP)
may use while a float64 computation runs.

Public:
    blas_threads(work=None, threads=None)    context manager: limit the threads of every BLAS
                                             and OpenMP library loaded (NumPy's and SciPy's
                                             OpenBLAS, ...) for its duration, restore the
                                             previous setting on exit (exceptions included);
                                             yields the ``ThreadChoice``
    choose_threads(work=None, threads=None)  the ``ThreadChoice`` alone, nothing is changed
    check_threads(threads)                   the ``threads`` option validated: an int >= 1,
                                             ``"auto"`` or ``None``; ``DmfError`` otherwise
    ThreadChoice                             the thread count and who chose it; ``describe()``
                                             is the text of ``SharpnessResult.method``
    ENV_VAR                                  ``"DMF_SHARPNESS_THREADS"``
    PARALLEL_WORK                            the automatic rule's threshold (flops)

**The choice**, first that applies: the ``threads`` argument (an int >= 1; ``"auto"`` skips the
environment); else the environment variable ``DMF_SHARPNESS_THREADS`` (an int >= 1 or
``auto``); else automatic, from the SIZE of the work only. ``work`` is the number of floating
point operations of one of the products the computation repeats (a product of a
Hessian-vector product; for a dense ``eigh``, one matrix-vector product of its tridiagonal
reduction, ``2 n^2``), and the rule is 1 thread when ``work < PARALLEL_WORK``, otherwise the
cores this process may run on (``os.sched_getaffinity``), never more than the BLAS libraries'
own current setting (so ``OPENBLAS_NUM_THREADS=1`` or an enclosing ``threadpoolctl`` limit is
kept). The machine's load is never looked at: BLAS results can differ in the last bits
between thread counts, and a choice that followed the load would make the same call give
different bits from one run to the next.

**Why 1 thread** (measured on this project's 2-core machine, OpenBLAS 0.3.31 SkylakeX
pthreads, NumPy 2.4.6; ``benchmarks/threads.py`` prints the figures again): OpenBLAS splits
every call between its threads, which wait for each other; when the other core is busy with
another process, the waiting thread loses a scheduler time slice on every call.
``sharpness(..., float64=True)`` makes thousands of BLAS calls of a few milliseconds or less
(the products of each Hessian-vector product, ARPACK's vector updates), so on a loaded machine
2 threads (NumPy's default here) made it several times slower:

    depth 5, N = 64, data off a minimizer     2 threads    1 thread    load
    width 128                                  2.14 s      0.34 s     1.7-2.5
    width 256                                  6.08 s      4.42 s     2.5-3.1
    width 512                                 64.0 s      20.7 s      3.1-4.4
    (a user's run at load 2-3: 12.5/0.54 s, 27.9/3.8 s, 102.9/25.9 s)

Single ``d x d`` products at load 4.6-5.6 (mean of alternated runs, 1 thread / 2 threads):
d = 128: 0.28 / 13.7 ms, 256: 1.5 / 9.9 ms, 512: 16 / 34 ms, 1024: 124 / 88 ms, 2048:
444 / 415 ms; on an idle machine 2 threads were 1.4-2.3 times faster from d = 384. A dense
``eigh`` route (``spectrum=True``, ``P = 3000``) at load 4.6: 2.5-3.6 s with 1 thread,
8.4-12.5 s with 2 (LAPACK's ``eigh`` is half matrix-vector products). So 2 threads never pay
reliably under load; they are taken only from ``PARALLEL_WORK`` flops per product (widest
layer about 1700 and up, on the Lanczos routes), where a lost time slice is small against the
call and the worst measured loss was 1.6 times against a gain of 2 times on an idle machine.

>>> choose_threads(work=1e6, threads="auto").describe()   # "auto": the rule, not the variable
'BLAS threads: 1, chosen by size'
>>> choose_threads(threads=3).describe()
'BLAS threads: 3, set by the threads argument'
>>> check_threads("auto"), check_threads("2"), check_threads(None)
('auto', 2, None)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from derivations.errors import DmfError

__all__ = [
    "ENV_VAR",
    "PARALLEL_WORK",
    "ThreadChoice",
    "blas_threads",
    "check_threads",
    "choose_threads",
]

ENV_VAR = "DMF_SHARPNESS_THREADS"
"""The environment variable read when no ``threads`` argument is given."""

PARALLEL_WORK = 1e10
"""Automatic rule: below this many flops per product, 1 thread (module docstring: products of
``d x d`` matrices with 2 threads were 2-50 times slower than with 1 for ``d <= 512`` on a
loaded machine, and 0.6-1.4 times as fast for ``d >= 1024``; ``2 d^3 = 1e10`` at ``d = 1710``)."""

Source = Literal["argument", "environment", "size"]
_SOURCE_TEXT = {
    "argument": "set by the threads argument",
    "environment": f"set by {ENV_VAR}",
    "size": "chosen by size",
}


@dataclass(frozen=True)
class ThreadChoice:
    """``threads`` BLAS threads, chosen by ``source``: the ``threads`` argument, the environment
    variable ``DMF_SHARPNESS_THREADS``, or the size of the work (``work`` flops, when given)."""

    threads: int
    source: Source
    work: float | None = None

    def describe(self) -> str:
        """``"BLAS threads: 1, chosen by size"``: what ``SharpnessResult.method`` records."""
        return f"BLAS threads: {self.threads}, {_SOURCE_TEXT[self.source]}"


def _parse(value: Any, what: str) -> int | Literal["auto"]:
    """An int >= 1 or ``"auto"`` from ``value`` (an int, or text like ``"2"``); one-line
    ``DmfError`` naming ``what`` otherwise (``0``, ``-1``, ``"x"``, ``1.5``, ``True``)."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "auto":
            return "auto"
        if text.isdigit() and int(text) >= 1:
            return int(text)
    elif isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise DmfError(f"{what} must be a whole number of threads >= 1 or 'auto' (BLAS threads of "
                   f"the float64 routes); got {value!r}")


def check_threads(threads: Any) -> int | Literal["auto"] | None:
    """The ``threads`` option (``--threads``) validated: ``None`` (not given), ``"auto"`` or an
    int >= 1 (text such as ``"2"`` is read as that int); ``DmfError`` in one line otherwise.

    >>> check_threads(0)
    Traceback (most recent call last):
    ...
    derivations.errors.DmfError: threads (--threads) must be a whole number of threads >= 1 or 'auto' (BLAS threads of the float64 routes); got 0
    """
    return None if threads is None else _parse(threads, "threads (--threads)")


def _available_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no sched_getaffinity (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def _blas_current() -> int:
    """The largest current thread count of the loaded BLAS libraries (1 when none is found)."""
    counts = [int(i["num_threads"]) for i in _controller().info() if i.get("user_api") == "blas"]
    return max(counts, default=1)


def _by_size(work: float | None) -> int:
    if work is None or work < PARALLEL_WORK:
        return 1
    return max(1, min(_available_cores(), _blas_current()))


def choose_threads(work: float | None = None, threads: Any = None) -> ThreadChoice:
    """The thread count for a float64 computation whose largest single matrix operation costs
    ``work`` flops (``None``: unknown, taken as small): the ``threads`` argument, else
    ``DMF_SHARPNESS_THREADS``, else the size rule (module docstring). Bad values of the argument
    or of the variable raise ``DmfError`` in one line."""
    given = check_threads(threads)
    if isinstance(given, int):
        return ThreadChoice(given, "argument", work)
    if given is None:
        raw = os.environ.get(ENV_VAR, "").strip()
        if raw:
            env = _parse(raw, f"the environment variable {ENV_VAR}")
            if isinstance(env, int):
                return ThreadChoice(env, "environment", work)
    return ThreadChoice(_by_size(work), "size", work)


@contextmanager
def blas_threads(work: float | None = None, threads: Any = None) -> Iterator[ThreadChoice]:
    """Limit BLAS and OpenMP threads to ``choose_threads(work, threads)`` while the block runs;
    the previous limits come back on exit, also when the block raises.

    SciPy's BLAS is loaded first (``scipy.linalg``): ``threadpoolctl`` limits only libraries
    already loaded, and ARPACK (``eigsh``) runs on SciPy's OpenBLAS, not NumPy's.

    >>> from threadpoolctl import threadpool_info
    >>> with blas_threads(threads=1) as choice:
    ...     {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
    {1}
    >>> choice.describe()
    'BLAS threads: 1, set by the threads argument'
    """
    choice = choose_threads(work, threads)
    with _controller().limit(limits=choice.threads):
        yield choice


_CONTROLLER: list[Any] = []  # [(ThreadpoolController, len(sys.modules) when it was made)]


def _controller() -> Any:
    """One ``threadpoolctl.ThreadpoolController`` for the process (finding the loaded libraries
    costs about 1.4 ms, which a tracker called at every training step paid each time), made
    again when modules were imported since (a new one may bring its own BLAS or OpenMP)."""
    import scipy.linalg  # noqa: F401  (loads SciPy's BLAS, so that the limit reaches it)
    from threadpoolctl import ThreadpoolController

    if not _CONTROLLER or _CONTROLLER[0][1] != len(sys.modules):
        _CONTROLLER[:] = [(ThreadpoolController(), len(sys.modules))]
    return _CONTROLLER[0][0]
