"""Edit a code: name, kind, description (several lines), colour, and your memo on it."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, RadioButton, RadioSet, Static, TextArea

from ... import codebook
from ...colours import NAMES, parse_colour
from ...model import LATENT, SEMANTIC
from ...project import ChangeError
from ...text import one_line
from ..base import ProjectModal
from ..dialogs.basic import ConfirmScreen


class CodeEditScreen(ProjectModal[None]):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="code_edit.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="code_edit.cancel"),
    ]

    def __init__(self, code_id: str) -> None:
        super().__init__()
        self.code_id = code_id

    def compose(self) -> ComposeResult:
        session = self.session
        code = self.project.code(self.code_id)
        assert code is not None
        memo = session.my_memo("code", self.code_id)
        with Vertical(id="code-edit", classes="dialog"):
            yield Static(Text(f"Edit the code “{one_line(code.name, 50)}”", style="bold"))
            yield Static(Text("Name", style="dim"))
            yield Input(code.name, id="edit-name")
            with Horizontal(classes="row"):
                with RadioSet(id="edit-kind"):
                    yield RadioButton("semantic (what was said)", value=code.kind == SEMANTIC, id="kind-semantic")
                    yield RadioButton("latent (the idea underneath)", value=code.kind == LATENT, id="kind-latent")
                with Vertical():
                    yield Static(Text("Colour: #RRGGBB or " + ", ".join(NAMES), style="dim"))
                    yield Input(code.colour or "", placeholder="(automatic)", id="edit-colour")
            yield Static(Text("Description", style="dim"))
            yield TextArea(code.description or "", id="edit-description", soft_wrap=True)
            yield Static(Text(f"Your memo on this code ({session.coder})", style="dim"))
            yield TextArea(memo.text if memo else "", id="edit-memo", soft_wrap=True)
            yield Static(Text("Ctrl+S saves · Esc cancels", style="dim"), id="edit-hint")

    def on_mount(self) -> None:
        for area in self.query(TextArea):
            area.cursor_blink = False
        for inp in self.query(Input):
            inp.cursor_blink = False
        self.query_one("#edit-name", Input).focus()

    def _hint(self, message: str) -> None:
        self.query_one("#edit-hint", Static).update(Text(message, style="bold red"))

    def action_save(self) -> None:
        session = self.session
        name = self.query_one("#edit-name", Input).value
        kind = LATENT if self.query_one("#kind-latent", RadioButton).value else SEMANTIC
        colour = self.query_one("#edit-colour", Input).value
        description = self.query_one("#edit-description", TextArea).text
        memo = self.query_one("#edit-memo", TextArea).text
        if colour.strip():
            try:
                parse_colour(colour)
            except ValueError as exc:
                self._hint(str(exc))
                return
        try:
            session.rename_code(self.code_id, name)
        except codebook.NameTaken as taken:
            self._offer_merge(taken.existing)
            return
        except ChangeError as exc:
            self._hint(str(exc))
            return
        session.edit_code(self.code_id, kind=kind, description=description, colour=colour)
        session.save_memo("code", self.code_id, memo)
        self.dismiss(None)

    def _offer_merge(self, existing) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                outcome = self.session.merge_codes([self.code_id], existing.id)
                self.app.notify(escape(outcome.message))
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen(
            f"“{existing.name}” already exists. Merge this code into it?",
            "Code names are unique. Merging moves every coding; u undoes it.",
            yes="Merge", no="Keep editing"), answered)

    def action_cancel(self) -> None:
        self.dismiss(None)
