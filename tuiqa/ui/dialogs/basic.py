"""Small modal dialogs: confirm, edit a memo, show text."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual import on
from textual.widgets import Button, Input, Static, TextArea


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, detail: str = "", yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm", classes="dialog"):
            yield Static(Text(self.question, style="bold"))
            if self.detail:
                yield Static(Text(self.detail))
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="primary")
                yield Button(f"{self.no} (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class MemoScreen(ModalScreen[str | None]):
    """Edit a memo. Ctrl+S saves; Escape leaves (asking first if something was typed)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="memo.save", priority=True),
        Binding("escape", "leave", "Cancel", id="memo.cancel", priority=True),
    ]

    def __init__(self, title: str, text: str = "", others: list[tuple[str, str]] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.initial = text
        self.others = others or []

    def compose(self) -> ComposeResult:
        with Vertical(id="memo", classes="dialog"):
            yield Static(Text(self.title_text, style="bold"))
            if self.others:
                with VerticalScroll(id="memo-others"):
                    for heading, body in self.others:
                        yield Static(Text(heading, style="dim italic"))
                        yield Static(Text(body))
            area = TextArea(self.initial, id="memo-text", soft_wrap=True, show_line_numbers=False)
            area.cursor_blink = False
            yield area
            yield Static(Text("Ctrl+S save · Esc cancel (an empty memo deletes yours)", style="dim"))

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_leave(self) -> None:
        if self.query_one(TextArea).text == self.initial:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen("Discard the changes to this memo?", yes="Discard",
                                           no="Keep editing"), answered)


class TextScreen(ModalScreen[None]):
    """Show a block of text (e.g. a copy that could not reach the clipboard) to select by hand."""

    BINDINGS = [Binding("escape,q", "close", "Close", id="text.close")]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(id="textview", classes="dialog"):
            yield Static(Text(self.title_text, style="bold"))
            area = TextArea(self.body, read_only=True, soft_wrap=True, id="textview-body")
            area.cursor_blink = False
            yield area
            yield Static(Text("Shift+drag selects in most terminals · Esc closes", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)


class InputScreen(ModalScreen[str | None]):
    """Ask for one line of text. Enter accepts, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="input.cancel")]

    def __init__(self, question: str, value: str = "", hint: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="ask", classes="dialog"):
            yield Static(Text(self.question, style="bold"))
            inp = Input(self.value, id="ask-input")
            inp.cursor_blink = False
            yield inp
            yield Static(Text(self.hint or "Enter accepts · Esc cancels", style="dim"), id="ask-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
