"""The reflexive journal: dated, signed entries on the project, newest first, searchable."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from ...model import Memo
from ...store.stamps import stamp_local
from ..base import ListScreen
from ..dialogs.basic import ConfirmScreen, MemoScreen
from ..views import journal as view
from ..views.status import status_line


class JournalScreen(ListScreen):
    HELP_GROUP = "Reflexive journal"
    BINDINGS = [
        Binding("escape", "back", "Back", id="journal.back"),
        Binding("n,a", "new", "New entry", id="journal.new"),
        Binding("e,enter", "edit", "Edit yours", id="journal.edit"),
        Binding("d,delete", "delete", "Delete yours", show=False, id="journal.delete"),
        Binding("slash", "search", "Search", id="journal.search"),
        Binding("down", "to_list", "To the list", show=False, id="journal.to_list"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._ids: list[str] = []
        self._query = ""

    def compose(self) -> ComposeResult:
        yield Static(Text("Reflexive journal", style="bold"), id="journal-title")
        yield Input(placeholder="/ search entries", id="journal-search")
        yield OptionList(id="journal-list", markup=False)
        yield Static(id="journal-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False

    def redraw(self) -> None:
        self.refresh_list()

    def refresh_list(self) -> None:
        self.drawn()
        entries = view.entries(self.project, self.lens, self._query)
        self._ids = [m.id for m in entries]
        ol = self.query_one(OptionList)
        ol.set_options([Option(view.entry(m)) for m in entries])
        if entries:
            ol.highlighted = 0
        self.query_one("#journal-status", Static).update(status_line(self.message, view.hint(len(entries))))

    def current(self) -> Memo | None:
        mid = self.highlighted_item(self._ids)
        return None if mid is None else self.project.memo(mid)

    def action_new(self) -> None:
        session = self.session

        def saved(text: str | None) -> None:
            if text is not None:
                self.say(session.add_journal_entry(text).message)

        self.app.push_screen(MemoScreen(f"New journal entry (by {session.coder})"), saved)

    def action_edit(self) -> None:
        m = self.current()
        session = self.session
        if m is None:
            return
        if m.coder != session.coder:
            self.say(f"That entry is {m.coder}'s; you can add your own with n")
            return

        def saved(text: str | None) -> None:
            if text is not None:
                self.say(session.edit_memo(m.id, text).message)

        self.app.push_screen(MemoScreen(f"Journal entry of {stamp_local(m.created)}", m.text), saved)

    def row_chosen(self) -> None:
        self.action_edit()

    def action_delete(self) -> None:
        m = self.current()
        session = self.session
        if m is None or m.coder != session.coder:
            self.say("You can delete only your own entries")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.say(session.edit_memo(m.id, "").message)

        self.app.push_screen(ConfirmScreen("Delete this journal entry?", "u in the coding screen undoes it.",
                                           yes="Delete", no="Keep"), answered)

    def action_search(self) -> None:
        self.query_one(Input).focus()

    def action_to_list(self) -> None:
        self.query_one(OptionList).focus()

    @on(Input.Changed, "#journal-search")
    def _search(self, event: Input.Changed) -> None:
        self._query = event.value
        self.refresh_list()

    @on(Input.Submitted, "#journal-search")
    def _search_done(self) -> None:
        self.query_one(OptionList).focus()

    def action_back(self) -> None:
        inp = self.query_one(Input)
        if self.focused is inp:
            inp.value = ""
            self.query_one(OptionList).focus()
            return
        self.app.pop_screen()
