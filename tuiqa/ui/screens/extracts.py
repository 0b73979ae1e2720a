"""Collated extracts of one code: read them one after another, split, recode, copy, jump."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ... import codebook
from ...model import Coding
from ..actions import copy_code_quotes, new_code_kind, open_code_memo, pick_code
from ..base import ListScreen
from ..dialogs.picker import PickerItem
from ..views import extracts as view
from ..widgets.lists import fill_keeping_place


class ExtractsScreen(ListScreen):
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

    def compose(self) -> ComposeResult:
        yield Static(id="extracts-title")
        yield Static(id="extracts-memos")
        yield OptionList(id="extracts-list", markup=False)
        yield Static(id="extracts-status")
        yield Footer()

    def redraw(self) -> None:
        self.refresh_list()

    # -- drawing -----------------------------------------------------------------------------

    def refresh_list(self) -> None:
        self.drawn()
        project = self.project
        code = project.code(self.code_id)
        if code is None or code.deleted:
            self.query_one("#extracts-title", Static).update(view.gone())
            self.query_one(OptionList).clear_options()
            return
        extracts = codebook.extracts_of(project, self.code_id, self.lens.counted_coder)
        self.query_one("#extracts-title", Static).update(view.title(code, len(extracts)))
        self.query_one("#extracts-memos", Static).update(view.memos(project, self.code_id, self.lens))
        self._items = [c.id for c in extracts]
        fill_keeping_place(self.query_one(OptionList), [Option(self._prompt(c)) for c in extracts])
        self.show_message()

    def _prompt(self, c: Coding):
        return view.entry(self.project, c, marked=c.id in self.marked)

    def show_message(self) -> None:
        self.query_one("#extracts-status", Static).update(view.status(self.message, len(self.marked)))

    def current(self) -> Coding | None:
        cid = self.highlighted_item(self._items)
        return None if cid is None else self.project.coding(cid)

    # -- actions -----------------------------------------------------------------------------

    def action_open(self) -> None:
        c = self.current()
        if c is not None:
            self.show_in_context(c.response_id, c.start, c.end)

    def action_copy(self) -> None:
        c = self.current()
        if c is not None:
            self.copy(self.session.quote(c), "the quote")

    def action_copy_all(self) -> None:
        copy_code_quotes(self, self.code_id)

    def action_mark(self) -> None:
        c = self.current()
        if c is None:
            return
        self.marked.symmetric_difference_update({c.id})
        ol = self.query_one(OptionList)
        index = ol.highlighted
        if index is None:
            return
        ol.replace_option_prompt_at_index(index, self._prompt(c))
        if index + 1 < len(self._items):
            ol.highlighted = index + 1
        self.say("")

    def action_split(self) -> None:
        chosen_ids = [i for i in self._items if i in self.marked]
        if not chosen_ids:
            c = self.current()
            chosen_ids = [c.id] if c is not None else []
        if not chosen_ids:
            return

        def picked(item: PickerItem, query: str) -> None:
            kind = new_code_kind(item)
            if kind is not None:
                outcome = self.session.move_codings(chosen_ids, new_name=query, kind=kind)
            else:
                outcome = self.session.move_codings(chosen_ids, item.payload)
            self.marked.clear()
            self.say(outcome.message + " (u undoes)")
            self.refresh_list()

        pick_code(self, f"Move {len(chosen_ids)} extract(s) to…", picked, exclude=[self.code_id],
                  allow_new=True)

    def action_recode(self) -> None:
        c = self.current()
        if c is None:
            return

        def picked(item: PickerItem, query: str) -> None:
            session = self.session
            kind = new_code_kind(item)
            if c.coder != session.coder:
                outcome = session.recode(c.id, "")  # explains that only its coder can
            elif kind is not None:
                outcome = session.move_codings([c.id], new_name=query, kind=kind)
            else:
                outcome = session.recode(c.id, item.payload)
            self.say(outcome.message)
            self.refresh_list()

        pick_code(self, "Recode this extract as…", picked, exclude=[self.code_id], allow_new=True)

    def action_uncode(self) -> None:
        c = self.current()
        if c is not None:
            self.say(self.session.remove_coding(c.id).message)
            self.refresh_list()

    def action_memo(self) -> None:
        open_code_memo(self, self.code_id)

    def action_undo(self) -> None:
        self.say(self.session.undo().message)
        self.refresh_list()

    def action_redo(self) -> None:
        self.say(self.session.redo().message)
        self.refresh_list()
