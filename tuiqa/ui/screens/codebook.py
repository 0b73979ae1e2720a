"""The codebook: every code with its counts; sort, search, rename, merge, delete, compare."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Input, Static

from ... import codebook
from ...model import LATENT, SEMANTIC
from ...text import one_line
from ..actions import copy_code_quotes, open_code_memo, pick_code
from ..base import ProjectScreen
from ..dialogs.basic import ConfirmScreen, InputScreen
from ..views import codebook as view
from ..views.status import status_line
from ..widgets.rowlist import RowList


class CodebookScreen(ProjectScreen):
    """All codes. Type / to search; Space marks several for a merge."""

    HELP_GROUP = "Codebook"
    BINDINGS = [
        Binding("escape,b", "back", "Back", id="codebook.back"),
        Binding("slash", "search", "Search", id="codebook.search"),
        Binding("down", "to_table", "To the list", show=False, id="codebook.to_table"),
        Binding("enter", "open", "Extracts", id="codebook.open", priority=False),
        Binding("e", "edit", "Edit", id="codebook.edit"),
        Binding("r", "rename", "Rename", show=False, id="codebook.rename"),
        Binding("k", "toggle_kind", "Semantic/latent", show=False, id="codebook.kind"),
        Binding("space", "mark", "Mark", show=False, id="codebook.mark"),
        Binding("M", "merge", "Merge", id="codebook.merge"),
        Binding("D,delete", "delete", "Delete", id="codebook.delete"),
        Binding("s", "sort", "Sort", id="codebook.sort"),
        Binding("f", "few", "≤ N extracts", show=False, id="codebook.few"),
        Binding("m", "memo", "Memo on code", show=False, id="codebook.memo"),
        Binding("y", "copy_all", "Copy quotes", show=False, id="codebook.copy_all"),
        Binding("g", "groups", "Compare groups", id="codebook.groups"),
        Binding("T", "template", "Quote template", show=False, id="codebook.template"),
        Binding("u,ctrl+z", "undo", "Undo", show=False, id="codebook.undo"),
        Binding("U,ctrl+r,ctrl+y", "redo", "Redo", show=False, id="codebook.redo"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sort = "name"
        self.query_text = ""
        self.max_extracts: int | None = None
        self.marked: set[str] = set()
        self._stats: dict[str, codebook.CodeStats] = {}
        self._shown: list[str] = []
        self._memo_targets: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Static(id="codebook-title")
        yield Input(placeholder="/ search codes (fuzzy)", id="codebook-search")
        yield Static(view.header(), id="codebook-header")
        yield RowList(self._row, id="codebook-table")
        yield Static(id="codebook-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False
        self.refresh_table()
        self.query_one(RowList).focus()

    def _row(self, cid: str, width: int) -> Text:
        e = self._stats.get(cid)
        if e is None:
            return Text("")
        return view.row(e, marked=cid in self.marked, memo=cid in self._memo_targets, lens=self.lens)

    # -- data --------------------------------------------------------------------------------

    def stats(self) -> dict[str, codebook.CodeStats]:
        self._stats = view.stats(self.project, self.lens)
        return self._stats

    def refresh_table(self, keep: str | None = None) -> None:
        self.drawn()
        table = self.query_one(RowList)
        if keep is None:
            keep = self.current_id()
        stats = self.stats()
        self._memo_targets = view.codes_with_memos(self.project, self.lens)
        self._shown = view.shown_ids(stats, query=self.query_text, sort=self.sort,
                                     max_extracts=self.max_extracts)
        table.set_rows(self._shown, keep=keep)
        self._update_title()

    def _update_title(self) -> None:
        self.query_one("#codebook-title", Static).update(view.title(
            len(self._shown), len(self._stats), sort=self.sort, max_extracts=self.max_extracts,
            marked=len(self.marked), lens=self.lens))
        self.query_one("#codebook-status", Static).update(status_line(self.message, view.HINT))

    def show_message(self) -> None:
        self._update_title()

    def current_id(self) -> str | None:
        return self.query_one(RowList).current

    def redraw(self) -> None:
        self.refresh_table()

    # -- search ------------------------------------------------------------------------------

    def action_search(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Changed, "#codebook-search")
    def _search(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.refresh_table()

    @on(Input.Submitted, "#codebook-search")
    def _search_done(self) -> None:
        self.query_one(RowList).focus()

    def action_to_table(self) -> None:
        self.query_one(RowList).focus()

    def action_back(self) -> None:
        inp = self.query_one(Input)
        if self.focused is inp:
            if inp.value:
                inp.value = ""
            self.query_one(RowList).focus()
            return
        self.app.pop_screen()

    # -- actions -----------------------------------------------------------------------------

    @on(RowList.Selected)
    def _selected(self, event: RowList.Selected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        cid = self.current_id()
        if cid is not None:
            self.open("extracts", code_id=cid)

    def action_sort(self) -> None:
        self.sort = view.SORTS[(view.SORTS.index(self.sort) + 1) % len(view.SORTS)]
        self.message = f"Sorted by {self.sort}"
        self.refresh_table()

    def action_few(self) -> None:
        def answered(value: str | None) -> None:
            if value is None:
                return
            value = value.strip()
            if not value:
                self.max_extracts = None
                self.message = "Showing every code"
            elif value.isdigit():
                self.max_extracts = int(value)
                self.message = f"Codes with at most {value} extracts"
            else:
                self.message = "Give a whole number (or nothing to show every code)"
            self.refresh_table()

        current = "" if self.max_extracts is None else str(self.max_extracts)
        self.app.push_screen(InputScreen("Show only codes with at most N extracts (empty: all)",
                                         current), answered)

    def action_mark(self) -> None:
        cid = self.current_id()
        if cid is None:
            return
        self.marked.symmetric_difference_update({cid})
        table = self.query_one(RowList)
        table.refresh_row(table.cursor)
        table.action_cursor(1)
        self._update_title()

    def _targets(self) -> list[str]:
        if self.marked:
            return [cid for cid in self._stats if cid in self.marked]
        cid = self.current_id()
        return [cid] if cid else []

    def action_merge(self) -> None:
        sources = self._targets()
        if not sources:
            return
        names = ", ".join(self.project.code_name(s) for s in sources)
        pick_code(self, f"Merge {one_line(names, 50)} into…",
                  lambda item, _query: self.merge(sources, item.payload), exclude=sources)

    def merge(self, sources: list[str], target: str) -> None:
        outcome = self.session.merge_codes(sources, target)
        self.marked.clear()
        self.say(outcome.message + " (u undoes)")
        self.refresh_table(keep=target)

    def action_delete(self) -> None:
        cid = self.current_id()
        if cid is None:
            return
        stats = self.stats()[cid]
        name = stats.code.name

        def answered(yes: bool | None) -> None:
            if yes:
                self.say(self.session.delete_code(cid).message)
                self.refresh_table()

        self.app.push_screen(ConfirmScreen(
            f"Delete the code “{name}”?",
            f"{stats.extracts} coding(s) by {len(stats.coders)} coder(s) go with it. "
            "Undo (u) brings everything back.", yes="Delete", no="Keep"), answered)

    def action_rename(self) -> None:
        cid = self.current_id()
        if cid is None:
            return
        name = self.project.code_name(cid)

        def answered(value: str | None) -> None:
            if value is not None:
                self.rename(cid, value)

        self.app.push_screen(InputScreen(f"Rename “{one_line(name, 40)}” to", name), answered)

    def rename(self, cid: str, new_name: str) -> None:
        try:
            outcome = self.session.rename_code(cid, new_name)
        except codebook.NameTaken as taken:
            existing = taken.existing

            def answered(yes: bool | None) -> None:
                if yes:
                    self.merge([cid], existing.id)

            self.app.push_screen(ConfirmScreen(
                f"“{existing.name}” already exists. Merge “{self.project.code_name(cid)}” into it?",
                "Code names are unique. Merging moves every coding; u undoes it.",
                yes="Merge", no="Cancel"), answered)
            return
        except Exception as exc:  # ChangeError: empty name …
            self.say(str(exc))
            return
        self.say(outcome.message)
        self.refresh_table(keep=cid)

    def action_toggle_kind(self) -> None:
        cid = self.current_id()
        if cid is None:
            return
        code = self.project.code(cid)
        if code is None:
            return
        kind = SEMANTIC if code.kind == LATENT else LATENT
        self.say(self.session.edit_code(cid, kind=kind).message + f": now {kind}")
        self.refresh_table(keep=cid)

    def action_edit(self) -> None:
        cid = self.current_id()
        if cid is not None:
            self.open("code_edit", code_id=cid)

    def action_memo(self) -> None:
        cid = self.current_id()
        if cid is not None:
            open_code_memo(self, cid)

    def action_copy_all(self) -> None:
        cid = self.current_id()
        if cid is not None:
            copy_code_quotes(self, cid)

    def action_groups(self) -> None:
        self.open("compare")

    def action_template(self) -> None:
        self.open("template", then=lambda message: self.say(message) if message else None)

    def action_undo(self) -> None:
        self.say(self.session.undo().message)
        self.refresh_table()

    def action_redo(self) -> None:
        self.say(self.session.redo().message)
        self.refresh_table()
