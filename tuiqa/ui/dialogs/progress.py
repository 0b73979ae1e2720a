"""Long work with a progress bar: Escape stops it, leaving nothing half done."""

from __future__ import annotations

import threading
from typing import Any, Callable

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.notifications import SeverityLevel
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import ProgressBar, Static

from ...longwork import Cancelled

Work = Callable[[Callable[[int, int], None], threading.Event], Any]

# Work over more compared responses than this runs on a thread behind a progress bar; below it,
# it takes a few tens of milliseconds and a bar would only flash.
BIG_WORK = 5_000


class ProgressScreen(ModalScreen[Any]):
    """Runs ``work(progress, cancel)`` on a worker thread behind a progress bar.

    The screen is dismissed with what the work returned, or ``None`` when it was stopped or
    failed (the user is told which). With ``report`` the returned text is shown as a
    notification (an export's "Exported … to …"); without it the caller uses the result.
    """

    BINDINGS = [Binding("escape", "cancel", "Stop", id="progress.cancel")]

    def __init__(self, title: str, work: Work, *, report: bool = True, writes: bool = True) -> None:
        super().__init__()
        self.title_text = title
        self.work = work
        self.report = report
        self.writes = writes
        self.cancel = threading.Event()
        self._waiting: tuple[Any] | None = None  # a result held while a screen is open above

    def compose(self) -> ComposeResult:
        with Vertical(id="progress", classes="dialog"):
            yield Static(Text(self.title_text, style="bold"))
            yield ProgressBar(id="progress-bar", show_eta=False)
            yield Static(Text("Esc stops; nothing is written until it is complete" if self.writes
                              else "Esc stops", style="dim"), id="progress-hint")

    def on_mount(self) -> None:
        self.app.run_worker(self._run, thread=True, group="long-work", exit_on_error=False)

    def _run(self) -> None:
        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(self._update, done, total)

        try:
            result = self.work(progress, self.cancel)
        except Exception as exc:  # shown, never a crash
            stopped = isinstance(exc, (Cancelled, KeyboardInterrupt))
            message = ("Stopped; nothing was written" if self.writes else "Stopped") if stopped \
                else f"Failed: {exc}"
            self.app.call_from_thread(self._finish, None, message, "warning" if stopped else "error")
            return
        self.app.call_from_thread(self._finish, result, str(result) if self.report else "",
                                  "information")

    def _update(self, done: int, total: int) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=max(total, 1), progress=done)
        if self.writes and done >= total:
            self.query_one("#progress-hint", Static).update(
                Text("Writing it all at once; Esc can no longer stop it", style="dim"))

    def _finish(self, result: Any, message: str, severity: SeverityLevel) -> None:
        if message:
            self.app.notify(escape(message), severity=severity, timeout=8 if severity != "error" else 15)
        if self.is_current:
            self.dismiss(result)
        else:  # something is open above (help, say): go once it has closed
            self._waiting = (result,)

    def on_screen_resume(self) -> None:
        waiting = self._waiting
        if waiting is not None:
            self.dismiss(waiting[0])

    def on_unmount(self) -> None:
        self.cancel.set()  # the app is closing: stop if it has not started writing

    def action_cancel(self) -> None:
        self.cancel.set()
