"""Long work that the user may stop: import, merge, export.

Such work is split in two. First it reads and plans, reporting its steps; it may stop at any of
them (:class:`Steps` raises :class:`Cancelled` when asked to stop; Ctrl+C raises
``KeyboardInterrupt``) and nothing has been written. Then it writes, inside
:func:`uninterrupted`: once writing has begun it runs to the end, so a project is never left
with half a change. A Ctrl+C pressed while writing is noted, not acted on.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

Progress = Callable[[int, int], None]


class Cancelled(Exception):
    """The user stopped the work before anything was written."""


class Steps:
    """``steps(done)`` reports progress out of ``total`` and stops if the user asked."""

    def __init__(self, total: int, progress: Progress | None = None,
                 cancel: threading.Event | None = None) -> None:
        self.total = total
        self.progress = progress
        self.cancel = cancel

    def __call__(self, done: int) -> None:
        self.check()
        if self.progress is not None:
            self.progress(done, self.total)

    def check(self) -> None:
        """Stop here if the user asked (call it last thing before writing)."""
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.total, self.total)


@contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold back Ctrl+C while a write runs (on the main thread; other threads never get it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed: list[int] = []

    def note(signum, frame) -> None:
        pressed.append(signum)

    try:
        previous = signal.signal(signal.SIGINT, note)
    except ValueError:  # not in the main interpreter
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if pressed:
            print("(Ctrl+C came while writing: the work was finished rather than left half done)",
                  file=sys.stderr)
