"""The reflexive journal: dated, signed entries on the project, newest first, searchable."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from ...store.stamps import stamp_local
from ...text import display_text
from ..render import plain
from ..widgets.highlighted import highlighted
from .dialogs import ConfirmScreen, MemoScreen

PROJECT = "project"


class JournalScreen(Screen):
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
        self._message = ""

    @property
    def target_id(self) -> str:
        return self.app.project.store.meta.get("project_id", "")  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Static(Text("Reflexive journal", style="bold"), id="journal-title")
        yield Input(placeholder="/ search entries", id="journal-search")
        yield OptionList(id="journal-list", markup=False)
        yield Static(id="journal-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False
        self.refresh_list()
        self.query_one(OptionList).focus()

    def entries(self):
        app = self.app
        memos = app.project.memos_for(PROJECT, self.target_id)  # type: ignore[attr-defined]
        if app.blind:  # type: ignore[attr-defined]
            memos = [m for m in memos if m.coder == app.session.coder]  # type: ignore[attr-defined]
        q = self._query.casefold().strip()
        if q:
            memos = [m for m in memos if q in m.text.casefold() or q in m.coder.casefold()]
        return sorted(memos, key=lambda m: m.created, reverse=True)

    def refresh_list(self) -> None:
        entries = self.entries()
        self._ids = [m.id for m in entries]
        options = []
        for m in entries:
            t = Text(end="")
            t.append(stamp_local(m.created), style="bold")
            t.append(f" · {m.coder}", style="italic")
            if m.updated != m.created:
                t.append(f" (edited {stamp_local(m.updated)})", style="dim")
            t.append("\n")
            t.append(display_text(m.text))
            options.append(Option(t))
        ol = self.query_one(OptionList)
        ol.set_options(options)
        if options:
            ol.highlighted = 0
        status = Text(end="", no_wrap=not self._message, overflow="ellipsis")
        status.append_text(plain(self._message, style="italic") if self._message else
                           Text(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} · n new · "
                                "e edit yours · / search", style="dim"))
        self.query_one("#journal-status", Static).update(status)

    def say(self, message: str) -> None:
        self._message = message
        self.refresh_list()

    def current(self):
        mid = highlighted(self.query_one(OptionList), self._ids)
        return None if mid is None else self.app.project.state.table("memo").get(mid)  # type: ignore[attr-defined]

    def action_new(self) -> None:
        session = self.app.session  # type: ignore[attr-defined]

        def saved(text: str | None) -> None:
            if text is not None:
                self.say(session.add_journal_entry(text).message)

        self.app.push_screen(MemoScreen(f"New journal entry (by {session.coder})"), saved)

    def action_edit(self) -> None:
        m = self.current()
        session = self.app.session  # type: ignore[attr-defined]
        if m is None:
            return
        if m.coder != session.coder:
            self.say(f"That entry is {m.coder}'s; you can add your own with n")
            return

        def saved(text: str | None) -> None:
            if text is not None:
                self.say(session.edit_memo(m.id, text).message)

        self.app.push_screen(MemoScreen(f"Journal entry of {stamp_local(m.created)}", m.text), saved)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_edit()

    def action_delete(self) -> None:
        m = self.current()
        session = self.app.session  # type: ignore[attr-defined]
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

    def project_changed(self) -> None:
        self.refresh_list()
