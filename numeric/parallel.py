"""Independent, seeded tasks on many cores (``--jobs N``) or on a Dask cluster (``--scheduler``).

Public:
    ordered_map(fn, items, *, jobs, ...)    ``[fn(*item) for item in items]`` in ``jobs`` worker
                                            processes; results in the order of ``items``
    dask_map(fn, items, *, address, ...)    the same as tasks of a ``dask.distributed`` cluster
    check_jobs(n)                           ``--jobs`` validated (an int >= 1), else ``DmfError``
    DASK_EXTRA                              the install line named when Dask is missing

Why a module of its own, at the top of ``numeric``: both ``numeric.claims.runner`` (the claims
of ``check``) and ``numeric.oracle.vectors`` (the cases of ``vectors --check``) farm out
independent work, and ``oracle`` may not import ``claims``; the process handling -- the
start method, Ctrl-C, dead workers, order -- is subtle enough to live in one place. It imports
nothing of the project but ``derivations.errors``, so every subpackage may use it; it is
infrastructure, not mathematics, and holds no formula.

What a caller may rely on (each is what makes a report identical for any ``jobs``):

* ``fn`` and the items travel by pickle, so ``fn`` is a module-level function and the items
  plain data (ids, budget names, seeds): never a closure. Results are returned in the order of
  ``items``, whatever order the workers finish in; ``on_done(i)`` is called as item ``i``
  finishes (a progress bar advances with it).
* ``jobs == 1`` runs in this process, one item after the other, with no pool at all.
* Workers are started with the ``spawn`` method: a fresh interpreter, not a ``fork`` of this
  one, which may hold threads (the Ctrl-C watchdog of ``numeric.cli``, tqdm's monitor, the BLAS
  pool) whose locks a fork would copy in an unknown state. A worker ignores SIGINT (the terminal
  sends Ctrl-C to the whole process group; the parent alone decides) and exits by itself should
  its parent disappear.
* An exception raised by ``fn`` in a worker, or a worker process that died (a crash, the OOM
  killer), reaches ``on_error(i, exc)``, whose return value stands in for the result; without
  ``on_error`` the first such exception is raised here, after the pool is stopped.
* Ctrl-C (``KeyboardInterrupt`` in this process) or any other exception terminates every worker
  before it propagates: no orphan keeps computing after the command has exited.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import gc
import multiprocessing
import os
import re
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from derivations.errors import DmfError

__all__ = ["DASK_EXTRA", "check_jobs", "dask_map", "ordered_map"]

R = TypeVar("R")

DASK_EXTRA = "pip install 'dask[distributed]'"
"""What to install for ``--scheduler`` (the optional ``dask`` extra of the package)."""

_START_METHOD = "spawn"
_ORPHAN_POLL_SECONDS = 1.0


def check_jobs(n: Any) -> int:
    """``--jobs`` as an int >= 1.

    >>> check_jobs("2")
    2
    >>> check_jobs(0)
    Traceback (most recent call last):
    ...
    derivations.errors.DmfError: --jobs must be a whole number >= 1 (worker processes); got 0
    """
    try:
        value = int(str(n).strip())
    except ValueError:
        value = 0
    if value < 1:
        raise DmfError(f"--jobs must be a whole number >= 1 (worker processes); got {n!r}")
    return value


def _worker_init(parent: int) -> None:
    """In each worker: Ctrl-C is the parent's business; leave should the parent vanish
    (``os._exit`` of the parent, ``kill -9``), instead of computing for nobody."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(_ORPHAN_POLL_SECONDS)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="dmf-sharpness-orphan-guard", daemon=True).start()


def _stop(executor: cf.ProcessPoolExecutor) -> None:
    """Terminate the workers now (SIGTERM, then SIGKILL for one that lingers) and drop what is
    still queued. ``ProcessPoolExecutor.shutdown`` alone would wait for the running tasks;
    Python 3.14's ``terminate_workers`` does this, 3.11 needs the executor's process table."""
    processes = list((getattr(executor, "_processes", None) or {}).values())
    for p in processes:
        with contextlib.suppress(Exception):
            p.terminate()
    for p in processes:
        with contextlib.suppress(Exception):
            p.join(2.0)
            if p.is_alive():
                p.kill()
                p.join(1.0)
    # the workers are gone: the executor's manager thread sees it and ends at once
    executor.shutdown(wait=True, cancel_futures=True)


def _collect(i: int, future: Any, results: list[Any], on_done: Callable[[int], None] | None,
             on_error: Callable[[int, BaseException], Any] | None) -> None:
    """Store item ``i``'s result from a finished future (or ``on_error``'s stand-in for its
    exception, which is re-raised without ``on_error``), then report it done."""
    try:
        results[i] = future.result()
    except Exception as exc:
        if on_error is None:
            raise
        results[i] = on_error(i, exc)
    if on_done is not None:
        on_done(i)


def ordered_map(
    fn: Callable[..., R],
    items: Sequence[tuple[Any, ...]],
    *,
    jobs: int,
    on_done: Callable[[int], None] | None = None,
    on_error: Callable[[int, BaseException], R] | None = None,
) -> list[R]:
    """``[fn(*item) for item in items]``, computed by ``jobs`` worker processes (in this process
    when ``jobs == 1``), returned in the order of ``items`` (module doc: pickling, errors,
    Ctrl-C).

    >>> ordered_map(divmod, [(7, 2), (9, 4)], jobs=1)
    [(3, 1), (2, 1)]
    """
    jobs = check_jobs(jobs)
    results: list[Any] = [None] * len(items)
    if jobs == 1 or len(items) <= 1:
        for i, item in enumerate(items):
            try:
                results[i] = fn(*item)
            except Exception as exc:
                if on_error is None:
                    raise
                results[i] = on_error(i, exc)
            if on_done is not None:
                on_done(i)
        return results
    context = multiprocessing.get_context(_START_METHOD)
    executor = cf.ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=context,
                                      initializer=_worker_init, initargs=(os.getpid(),))
    finished = False
    try:
        futures = {executor.submit(fn, *item): i for i, item in enumerate(items)}
        for future in cf.as_completed(futures):
            _collect(futures[future], future, results, on_done, on_error)
        finished = True
    finally:
        if finished:
            executor.shutdown(wait=True)
        else:  # Ctrl-C, or an error raised to the caller: no worker outlives this call
            _stop(executor)
            # release the pool's semaphores now: ``dmf-sharpness`` leaves with ``os._exit``
            # after Ctrl-C, and multiprocessing's resource tracker would otherwise warn about
            # "leaked semaphore objects" on stderr
            del executor
            gc.collect()
    return results


_ADDRESS = re.compile(
    r"(?:(?P<proto>tcp|tls)://)?(?P<host>[^/:\s]+|\[[0-9a-fA-F:.]+\]):(?P<port>\d{1,5})")


def _probe(address: str, timeout: float) -> None:
    """``[tcp://|tls://]host:port`` checked, and something listening there, before Dask's
    ``Client`` is made (a ``Client`` that fails half-built hangs in its finalizer)."""
    found = _ADDRESS.fullmatch(address.strip())
    if found is None:
        raise DmfError(f"--scheduler expects a Dask scheduler address such as "
                       f"tcp://127.0.0.1:8786; got {address!r}")
    host, port = found["host"].strip("[]"), int(found["port"])
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise DmfError(f"no Dask scheduler answers at {address!r}: "
                       f"{exc.strerror or exc}") from exc


def dask_map(
    fn: Callable[..., R],
    items: Sequence[tuple[Any, ...]],
    *,
    address: str,
    on_done: Callable[[int], None] | None = None,
    on_error: Callable[[int, BaseException], R] | None = None,
    timeout: float = 10.0,
) -> list[R]:
    """``ordered_map`` on the ``dask.distributed`` scheduler at ``address`` (``tcp://host:8786``):
    one task per item, results in the order of ``items``. The workers import ``fn`` by name,
    so they need this package installed (the same version, for the same report). Without
    ``distributed`` installed, or with no scheduler answering within ``timeout`` seconds: one
    ``DmfError``. Ctrl-C cancels the tasks not yet finished."""
    try:
        from distributed import Client, as_completed
    except ImportError as exc:
        raise DmfError(f"--scheduler needs Dask's distributed scheduler, which is not installed "
                       f"({exc.name or exc}); install the 'dask' extra: {DASK_EXTRA}") from exc
    _probe(address, timeout)
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise DmfError(f"cannot reach a Dask scheduler at {address!r} within {timeout:g} s: "
                       f"{exc}") from exc
    results: list[Any] = [None] * len(items)
    futures: list[Any] = []
    try:
        run = uuid.uuid4().hex[:8]
        futures = [client.submit(fn, *item, key=f"dmf-sharpness-{run}-{i}", pure=False)
                   for i, item in enumerate(items)]
        index = {f.key: i for i, f in enumerate(futures)}
        for future in as_completed(futures, loop=client.loop):
            _collect(index[future.key], future, results, on_done, on_error)
    finally:
        with contextlib.suppress(Exception):
            client.cancel([f for f in futures if not f.done()])
        with contextlib.suppress(Exception):
            client.close()
    return results
