"""The ``dmf-sharpness`` command line: one module per command.

    check     decide every claim of the registry
    oracle    the sharpness of the point in a file, certified
    vectors   write or check the conformance vectors
    escape    ``escape`` and ``escape-sweep``: gradient descent near a minimizer
    conjecture   decide a statement of your own about the sharpness
    regularized  the global minimizer with weight decay: collapse threshold, certified sharpness

Each module exposes ``register(subparsers) -> None``; the module names are listed in
``_SUBCOMMAND_MODULES`` (add yours there). Errors raised as ``DmfError`` print one clear line on
stderr and exit with status 2; so does an ``OSError`` (a full disk while writing the output).
Ctrl-C prints ``dmf-sharpness CMD: interrupted`` and exits with 130; a closed stdout pipe
(``| head``) exits quietly with 141 (128 + SIGPIPE, what a standard tool reports). May import
everything in ``numeric`` and ``derivations``; nothing imports it (it is the top of the
dependency order).
"""

from __future__ import annotations

import _thread
import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, NoReturn

from derivations.errors import DmfError
from numeric import __version__

__all__ = ["build_parser", "main"]

_SUBCOMMAND_MODULES: list[str] = [
    "numeric.cli.check", "numeric.cli.oracle", "numeric.cli.vectors", "numeric.cli.escape",
    "numeric.cli.conjecture", "numeric.cli.regularized",
]


class _Parser(argparse.ArgumentParser):
    """Bad arguments: one line ``dmf-sharpness CMD: error: ...`` and exit status 2 (no usage
    block; ``--help`` shows it). The subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dmf-sharpness",
        description=(
            "Sharpness (largest Hessian eigenvalue) of the squared loss "
            "0.5*||W_L...W_1 X - Y||_F^2 of deep matrix factorization: checker and oracle."
        ),
    )
    parser.add_argument("--version", action="version", version=f"dmf-sharpness {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status: 0 success, 1 a command-specific failure (see each
    command), 2 bad input or arguments (one line on stderr), 130 interrupted (Ctrl-C, one line),
    141 the reader of stdout went away (a closed pipe, ``| head``: quiet, 128 + SIGPIPE as a
    standard tool killed by the signal would report)."""
    words = sys.argv[1:] if argv is None else list(argv)
    interrupt = _Interrupt(next((a for a in words if not a.startswith("-")), ""))
    interrupt.install()
    try:
        code = _main(argv, interrupt)
    finally:
        interrupt.uninstall()
    if code == 130 and argv is None:
        # Run as the program: a KeyboardInterrupt that went through some C code (an extension
        # module's initialization) leaves CPython's "unhandled interrupt" flag set, and the
        # interpreter would then kill itself with SIGINT at exit instead of returning 130.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(130)
    return code


def _main(argv: Sequence[str] | None, interrupt: _Interrupt) -> int:
    command = interrupt.command
    try:
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        command = interrupt.command = getattr(args, "command", None) or command
        if extra:
            _error(command, f"unrecognized arguments: {' '.join(extra)} (see {_prog(command)} "
                            "--help)")
            return 2
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        try:
            code = int(args.func(args) or 0)
        except DmfError as exc:
            _flush_stdout()
            _error(command, str(exc))
            return 2
        _flush_stdout()
        return code
    except KeyboardInterrupt:
        _silence_stdout()
        interrupt.report()
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except OSError as exc:  # e.g. ENOSPC writing the output (``> /dev/full``)
        _silence_stdout()
        _error(command, _describe(exc))
        return 2


_GRACE_SECONDS = 3.0


class _Interrupt:
    """Ctrl-C. The first SIGINT raises ``KeyboardInterrupt`` (``main`` unwinds, prints one line,
    returns 130) and arms a watchdog: should a library swallow the ``KeyboardInterrupt``, or the
    unwinding take over ``_GRACE_SECONDS``, the line is printed and the process exits with 130
    anyway. A second SIGINT exits at once. Installed only by ``main`` in the main thread."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.reported = False
        self.previous: Any = None
        self.previous_hook: Any = sys.unraisablehook
        self.installed = False
        self.pending = False
        self.in_hook = False
        self.fired = threading.Event()  # set by the first SIGINT
        self.done = threading.Event()  # set when main returns

    def install(self) -> None:
        """Take over SIGINT, unless it is ignored (a background job) or this is not the main
        thread, or the current handler was not set from Python (it could not be restored).
        The watchdog thread is started here, not in the handler (no locks taken there but the
        two events')."""
        self.previous = signal.getsignal(signal.SIGINT)
        self.installed = (
            threading.current_thread() is threading.main_thread()
            and self.previous is not None
            and self.previous is not signal.SIG_IGN
        )
        if self.installed:
            threading.Thread(target=self._watch, name="dmf-sharpness-sigint", daemon=True).start()
            signal.signal(signal.SIGINT, self._on_sigint)
            self.previous_hook = sys.unraisablehook
            sys.unraisablehook = self._on_unraisable

    def uninstall(self) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, self.previous)
            sys.unraisablehook = self.previous_hook
            self.done.set()
            self.fired.set()

    def _watch(self) -> None:
        self.fired.wait()
        if not self.done.wait(_GRACE_SECONDS):
            self._exit()

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self.in_hook:  # inside the unraisable hook a raise would be swallowed again: later
            self._interrupt_later()
            return
        if self.pending:  # our own re-raise of a swallowed interrupt
            self.pending = False
            raise KeyboardInterrupt
        if self.fired.is_set():  # a second Ctrl-C
            self._exit()
        self.fired.set()
        raise KeyboardInterrupt

    def _on_unraisable(self, unraisable: Any) -> None:
        """A ``KeyboardInterrupt`` that landed where Python cannot raise it (a garbage
        collection callback, a ``__del__``): silent, and raised again in the main thread once
        this hook has returned (raised inside it, it would be swallowed and printed)."""
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            self.in_hook = True
            try:
                self.pending = True
                self._interrupt_later()
            finally:
                self.in_hook = False
            return
        self.previous_hook(unraisable)

    @staticmethod
    def _interrupt_later() -> None:
        """SIGINT for the main thread in 10 ms, from a timer thread (``_on_sigint`` re-arms it
        should it land inside the unraisable hook)."""
        timer = threading.Timer(0.01, _thread.interrupt_main)
        timer.daemon = True
        timer.start()

    def _line(self) -> str:
        return f"{_prog(self.command)}: interrupted\n"

    def report(self) -> None:
        if not self.reported:
            self.reported = True
            sys.stderr.write(self._line())
            sys.stderr.flush()

    def _exit(self) -> None:
        """Leave now (the watchdog, a second Ctrl-C): no Python-level buffers or locks."""
        try:
            if not self.reported:
                self.reported = True
                os.write(2, self._line().encode())
        finally:
            os._exit(130)


def _prog(command: str | None) -> str:
    return f"dmf-sharpness {command}" if command else "dmf-sharpness"


def _error(command: str | None, message: str) -> None:
    print(f"{_prog(command)}: error: {message}", file=sys.stderr)


def _describe(exc: OSError) -> str:
    what = exc.strerror or str(exc)
    if exc.filename is not None:
        return f"cannot write or read {exc.filename!s}: {what}"
    return f"cannot write the output: {what}"


def _flush_stdout() -> None:
    """Write out what is buffered now, so a failure to write is reported here (one line)."""
    sys.stdout.flush()


def _silence_stdout() -> None:
    """Point the stdout file descriptor to ``os.devnull``, so the interpreter's last flush of
    whatever is still buffered cannot fail again (``Exception ignored ... BrokenPipeError``)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
