"""Long work with a progress bar: Escape stops it, leaving nothing half done."""

from __future__ import annotations

import threading
from typing import Callable

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import ProgressBar, Static


class ProgressScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "cancel", "Stop", id="progress.cancel")]

    def __init__(self, title: str, work: Callable[[Callable[[int, int], None], threading.Event], str]) -> None:
        """``work(progress, cancel)`` runs on a worker thread and returns a message for the user."""
        super().__init__()
        self.title_text = title
        self.work = work
        self.cancel = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical(id="progress", classes="dialog"):
            yield Static(Text(self.title_text, style="bold"))
            yield ProgressBar(id="progress-bar", show_eta=False)
            yield Static(Text("Esc stops; nothing is written until it is complete", style="dim"))

    def on_mount(self) -> None:
        self.app.run_worker(self._run, thread=True, group="long-work", exit_on_error=False)

    def _run(self) -> None:
        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(self._update, done, total)

        try:
            message = self.work(progress, self.cancel)
        except Exception as exc:  # shown, never a crash
            name = type(exc).__name__
            message = "Stopped; nothing was written" if name in ("Cancelled", "KeyboardInterrupt") \
                else f"Failed: {exc}"
            self.app.call_from_thread(self._finish, message, "warning")
            return
        self.app.call_from_thread(self._finish, message, "information")

    def _update(self, done: int, total: int) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=max(total, 1), progress=done)

    def _finish(self, message: str, severity: str) -> None:
        self.app.notify(escape(message), severity=severity, timeout=8)
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.cancel.set()
