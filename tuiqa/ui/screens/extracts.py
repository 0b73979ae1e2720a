"""Collated extracts of one code: read them one after another, split, recode, copy, jump."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ... import codebook
from ...colours import colour_for
from ...model import LATENT, SEMANTIC
from ...text import display_text
from ..render import plain
from ..widgets.highlighted import highlighted
from .picker import PickerItem, PickerScreen, PickResult
from .project_view import ProjectView

if TYPE_CHECKING:
    from ..app import TuiqaApp


class ExtractsScreen(ProjectView, Screen):
    """Every extract of one code, with participant, question and attributes."""

    HELP_GROUP = "Collated extracts"
    BINDINGS = [
        Binding("escape,backspace", "back", "Back", id="extracts.back"),
        Binding("enter,o", "open", "In context", id="extracts.open"),
        Binding("y", "copy", "Copy quote", id="extracts.copy"),
        Binding("Y", "copy_all", "Copy all", show=False, id="extracts.copy_all"),
        Binding("space", "mark", "Mark", show=False, id="extracts.mark"),
        Binding("S", "split", "Split/move", id="extracts.split"),
        Binding("r", "recode", "Recode", show=False, id="extracts.recode"),
        Binding("x,delete", "uncode", "Uncode", show=False, id="extracts.uncode"),
        Binding("m", "memo", "Memo on code", show=False, id="extracts.memo"),
        Binding("u,ctrl+z", "undo", "Undo", show=False, id="extracts.undo"),
        Binding("U,ctrl+r,ctrl+y", "redo", "Redo", show=False, id="extracts.redo"),
    ]

    def __init__(self, code_id: str) -> None:
        super().__init__()
        self.code_id = code_id
        self.marked: set[str] = set()
        self._items: list[str] = []
        self._message = ""

    @property
    def tapp(self) -> TuiqaApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="extracts-title")
        yield Static(id="extracts-memos")
        yield OptionList(id="extracts-list", markup=False)
        yield Static(id="extracts-status")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_list()
        self.query_one(OptionList).focus()

    def redraw(self) -> None:
        self.refresh_list()

    # -- drawing -----------------------------------------------------------------------------

    def refresh_list(self) -> None:
        self.drawn()
        app = self.tapp
        project = app.project
        code = project.code(self.code_id)
        title = Text(end="", no_wrap=True, overflow="ellipsis")
        if code is None or code.deleted:
            title.append("This code no longer exists (merged or deleted)", style="bold")
            self.query_one("#extracts-title", Static).update(title)
            self.query_one(OptionList).clear_options()
            return
        extracts = codebook.extracts_of(project, self.code_id, app.visible_coder)
        title.append_text(plain(code.name, style=f"bold {colour_for(code.id, code.colour)}"))
        title.append(f"  {code.kind} · {len(extracts)} extract(s)", style="dim")
        if code.description:
            title.append("\n")
            title.append_text(plain(code.description, style="italic", limit=200))
        self.query_one("#extracts-title", Static).update(title)
        memos = Text(end="")
        for m in project.memos_for("code", self.code_id):
            if app.blind and m.coder != app.session.coder:
                continue
            memos.append(f"✎ {m.coder}: ", style="dim")
            memos.append_text(plain(m.text, style="italic", limit=150))
            memos.append("\n")
        self.query_one("#extracts-memos", Static).update(memos.rstrip() or Text(""))
        ol = self.query_one(OptionList)
        keep = ol.highlighted
        self._items = [c.id for c in extracts]
        ol.set_options([Option(self._prompt(c)) for c in extracts])
        if self._items:
            ol.highlighted = min(keep or 0, len(self._items) - 1)
        self._update_status()

    def _prompt(self, c) -> Text:
        project = self.tapp.project
        r = project.responses.get(c.response_id)
        part = project.participants.get(r.participant_id) if r else None
        q = project.questions.get(r.question_id) if r else None
        head = Text(end="")
        head.append("✓ " if c.id in self.marked else "  ", style="bold")
        head.append(part.pid if part else "?", style="bold")
        head.append(f" · {q.key if q else '?'}", style="bold")
        if part:
            attrs = ", ".join(v for a in project.attributes if (v := part.attrs.get(a)))
            if attrs:
                head.append(" · ")
                head.append_text(plain(attrs, style="dim", limit=50))
        head.append(f" · {c.coder}", style="dim italic")
        body = display_text(r.text[c.start:c.end]) if r else "?"
        head.append("\n  ")
        head.append(body.replace("\n", "\n  "))
        return head

    def _update_status(self) -> None:
        status = Text(end="", no_wrap=not self._message, overflow="ellipsis")
        if self._message:
            status.append_text(plain(self._message, style="italic"))
        else:
            status.append("Enter in context · y copy · Space mark · S move marked to another code",
                          style="dim")
            if self.marked:
                status.append(f" · {len(self.marked)} marked", style="bold")
        self.query_one("#extracts-status", Static).update(status)

    def say(self, message: str) -> None:
        self._message = message
        self._update_status()

    def current(self):
        cid = highlighted(self.query_one(OptionList), self._items)
        return None if cid is None else self.tapp.project.state.table("coding").get(cid)

    # -- actions -----------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        c = self.current()
        if c is not None:
            open_in_context(self.tapp, c.response_id, c.start, c.end)

    def action_copy(self) -> None:
        from ..clip import copy_text

        c = self.current()
        if c is not None:
            copy_text(self.tapp, self.tapp.session.quote(c), "the quote")

    def action_copy_all(self) -> None:
        from .codebook import copy_code_quotes

        copy_code_quotes(self.tapp, self.code_id)

    def action_mark(self) -> None:
        c = self.current()
        if c is None:
            return
        self.marked.symmetric_difference_update({c.id})
        ol = self.query_one(OptionList)
        index = ol.highlighted
        ol.replace_option_prompt_at_index(index, self._prompt(c))
        if index is not None and index + 1 < len(self._items):
            ol.highlighted = index + 1
        self._message = ""
        self._update_status()

    def _code_picker(self, title: str, on_pick, *, allow_new: bool) -> None:
        project = self.tapp.project
        items = [PickerItem(c.id, c.name, c.kind, payload=c.id, style=colour_for(c.id, c.colour))
                 for c in project.codes() if c.id != self.code_id]

        def extra(query: str) -> list[PickerItem]:
            name = " ".join(query.split())
            if not allow_new or not name or project.code_by_name(name) is not None:
                return []
            return [PickerItem(f"new:{kind}", f"+ new {kind} code “{name}”", sticky=True,
                               search=name, style="bold") for kind in (SEMANTIC, LATENT)]

        def chosen(result: PickResult | None) -> None:
            if result and result.item:
                on_pick(result.item, " ".join(result.query.split()))

        self.app.push_screen(PickerScreen(title, items, extra=extra), chosen)

    def action_split(self) -> None:
        chosen_ids = [i for i in self._items if i in self.marked]
        if not chosen_ids:
            c = self.current()
            chosen_ids = [c.id] if c is not None else []
        if not chosen_ids:
            return

        def picked(item: PickerItem, query: str) -> None:
            session = self.tapp.session
            if item.key.startswith("new:"):
                outcome = session.move_codings(chosen_ids, new_name=query, kind=item.key[4:])
            else:
                outcome = session.move_codings(chosen_ids, item.payload)
            self.marked.clear()
            self.say(outcome.message + " (u undoes)")
            self.refresh_list()

        self._code_picker(f"Move {len(chosen_ids)} extract(s) to…", picked, allow_new=True)

    def action_recode(self) -> None:
        c = self.current()
        if c is None:
            return

        def picked(item: PickerItem, query: str) -> None:
            session = self.tapp.session
            if c.coder != session.coder:
                outcome = session.recode(c.id, "")  # explains that only its coder can
            elif item.key.startswith("new:"):
                outcome = session.move_codings([c.id], new_name=query, kind=item.key[4:])
            else:
                outcome = session.recode(c.id, item.payload)
            self.say(outcome.message)
            self.refresh_list()

        self._code_picker("Recode this extract as…", picked, allow_new=True)

    def action_uncode(self) -> None:
        c = self.current()
        if c is not None:
            self.say(self.tapp.session.remove_coding(c.id).message)
            self.refresh_list()

    def action_memo(self) -> None:
        from .codebook import open_code_memo

        open_code_memo(self, self.code_id)

    def refresh_table(self) -> None:  # called by open_code_memo
        self.refresh_list()

    def action_undo(self) -> None:
        self.say(self.tapp.session.undo().message)
        self.refresh_list()

    def action_redo(self) -> None:
        self.say(self.tapp.session.redo().message)
        self.refresh_list()


def open_in_context(app, response_id: str, start: int = 0, end: int | None = None) -> None:
    """Show a response in the coding screen, on top of this one: Backspace comes back."""
    from ...selection import Selection
    from .coding import CodingScreen

    nav = app.navigator
    if not nav.goto(response_id):
        nav.set_filter(None)
        nav.goto(response_id)
        app.notify("The filter was cleared to show this answer", timeout=4)
    screen = CodingScreen(in_context=True)
    response = app.project.responses[response_id]
    screen.selection = Selection(start, end if end is not None else len(response.text))
    app.push_screen(screen)
