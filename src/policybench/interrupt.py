"""SIGINT and SIGTERM handled alike: the work in progress stops with an exception that carries
what was measured, so that a caller can still show it and write it out.

``with interruptible():`` installs the handlers and puts the previous ones back on exit: the
process is left as it was found.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class Interrupted(KeyboardInterrupt):
    """A run was stopped by a signal. A KeyboardInterrupt, so that ``except Exception`` (which
    isolates a failing policy) lets it through. ``partial`` is what was measured before."""

    def __init__(self, signum: int, partial: object = None):
        super().__init__(f"{signal.Signals(signum).name} received")
        self.signum = signum
        self.partial = partial

    @property
    def exit_code(self) -> int:
        """As a shell reports a process killed by the signal: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + self.signum

    @classmethod
    def wrap(cls, exc: KeyboardInterrupt, partial: object) -> "Interrupted":
        """``exc`` (ours, or a plain Ctrl-C) with ``partial`` attached."""
        return cls(getattr(exc, "signum", signal.SIGINT), partial)


_installed = False  # an interruptible() is active: nested ones leave its handlers in place


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Inside: the first SIGINT or SIGTERM raises Interrupted in the main thread; later ones are
    ignored so that the clean-up (stopping children, writing results) can finish. Outside the
    main thread, where handlers cannot be installed, nothing changes; nor inside another
    interruptible(), whose handlers stay (an inner one putting the outer's back would let a second
    signal interrupt the outer clean-up)."""
    global _installed
    if threading.current_thread() is not threading.main_thread() or _installed:
        yield
        return
    caught: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if not caught:
            caught.append(signum)
            raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    _installed = True
    try:
        yield
    finally:
        _installed = False
        for s, h in previous.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)  # None: set outside Python
