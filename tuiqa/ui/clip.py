"""Copying from the app: OSC 52 on the event loop, the other routes on a worker thread, and an
honest report; a copy that may not have arrived offers the text on screen or in a file."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from .. import clipboard
from ..store.files import atomic_write, make_private_dir

if TYPE_CHECKING:
    from .app import TuiqaApp


def export_dir(app: TuiqaApp) -> Path:
    directory = app.project.dir / "exports"
    make_private_dir(directory, shared_root=app.project.dir)
    return directory


def save_text(app: TuiqaApp, text: str, stem: str) -> Path:
    """Write text to DIR/exports/<stem>-<time>.txt (private, like every project file)."""
    path = export_dir(app) / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}.txt"
    atomic_write(path, text.encode("utf-8"))
    return path


def copy_text(app: TuiqaApp, text: str, what: str) -> None:
    """Copy ``text``; the screen that asked gets ``say(message)`` when every route has answered."""
    screen = app.screen
    app.copy_to_clipboard(text)  # OSC 52 (and app.clipboard, for pasting inside the app)

    def work() -> None:
        result = clipboard.copy(text, terminal=lambda _t: None, env=os.environ,
                                system=app.clipboard_system, tmux=app.clipboard_tmux)
        app.call_from_thread(report, result)

    def report(result: clipboard.CopyResult) -> None:
        message = result.message(what)
        say = getattr(screen, "say", None)
        if say is not None:
            say(message)
        else:
            app.notify(escape(message))
        app.last_copy = result
        if result.too_big_for_terminal and not result.confirmed:
            offer_alternatives(app, text, what, message)

    app.run_worker(work, thread=True, group="clipboard", exit_on_error=False)


def offer_alternatives(app: TuiqaApp, text: str, what: str, why: str) -> None:
    from .screens.picker import PickerItem, PickerScreen

    items = [PickerItem("show", "Show the text on screen (select it with Shift+drag)"),
             PickerItem("save", "Save it to a file in the project's exports/ folder"),
             PickerItem("close", "Leave it")]

    def chosen(result) -> None:
        if not result or not result.item:
            return
        key = result.item.key
        if key == "show":
            from .screens.dialogs import TextScreen

            app.push_screen(TextScreen(f"{what} ({len(text):,} characters)", text))
        elif key == "save":
            path = save_text(app, text, "quotes")
            app.notify(escape(f"Saved to {path}"), timeout=8)

    app.push_screen(PickerScreen(why, items), chosen)
