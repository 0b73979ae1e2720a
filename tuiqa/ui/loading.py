"""The one place where the UI meets a lazy open (``Project.open(lazy=True)``): what the first
screen needs is ready at once, the rest of the codings is decoded on a background thread.

Today the UI asks the project whether that work is done (a short timer on the app, a sleep on
a worker thread); when the core gives an event for it, only this module changes.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from ..longwork import Cancelled

if TYPE_CHECKING:
    from textual.app import App

    from ..project import Project

#: after the first frame: the decoding would otherwise compete with it for the interpreter
#: (a short timer, not call_after_refresh: "after refresh" can come before the frame is
#: written; bench: open_ratio ~2.1 -> ~1.7, ready_s +0.04 s)
START_AFTER = 0.04
CHECK_EVERY = 0.05


def load_in_background(app: App, project: Project, when_loaded) -> None:
    """Start decoding the rest of a lazy open after the first paint; once it is swapped in,
    call ``when_loaded()`` on the app's thread. Nothing happens for a project already whole."""
    if not project.loading:
        return
    app.set_timer(START_AFTER, project.start_loading)

    def check() -> None:
        if project.try_complete():
            timer.stop()
            when_loaded()

    timer = app.set_interval(CHECK_EVERY, check)


def is_whole(project: Project) -> bool:
    """Swap in what the background has decoded if it is done; never waits. True when whole."""
    return project.try_complete()


def make_whole(project: Project) -> None:
    """On the app's thread, for work that needs every coding now: wait for the decoding."""
    project.finish_loading()


def wait_until_whole(project: Project, cancel: threading.Event) -> None:
    """On a worker thread: wait for the decoding, which the app's thread swaps in (work that
    reads every coding must not start on half of them). ``cancel`` stops the wait."""
    while project.loading:
        if cancel.is_set():
            raise Cancelled
        time.sleep(0.02)
