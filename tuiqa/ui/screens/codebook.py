"""The codebook: every code with its counts; sort, search, rename, merge, delete, compare."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from ... import codebook
from ...colours import colour_for
from ...fuzzy import rank
from ...model import LATENT, SEMANTIC
from ...text import one_line
from ..render import plain
from ..widgets.rowlist import RowList, cells
from .dialogs import ConfirmScreen, InputScreen, MemoScreen
from .picker import PickerItem, PickerScreen, PickResult
from .project_view import ProjectView

if TYPE_CHECKING:
    from ..app import TuiqaApp

SORTS = ("name", "extracts", "responses", "participants")


class CodebookScreen(ProjectView, Screen):
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
        self._stats_key: tuple | None = None
        self._shown: list[str] = []
        self._memo_targets: set[str] = set()
        self._message = ""

    @property
    def tapp(self) -> TuiqaApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="codebook-title")
        yield Input(placeholder="/ search codes (fuzzy)", id="codebook-search")
        yield Static(self._header(), id="codebook-header")
        yield RowList(self._row, id="codebook-table")
        yield Static(id="codebook-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False
        self.refresh_table()
        self.query_one(RowList).focus()

    @staticmethod
    def _header() -> Text:
        header = cells((" ", 1), ("code", 26), ("kind", 4), (Text("extr", justify="right"), 5),
                       (Text("resp", justify="right"), 5), (Text("part", justify="right"), 5),
                       ("by", 8), ("description", 0))
        header.stylize("bold dim")
        return header

    def _row(self, cid: str, width: int) -> Text:
        e = self._stats.get(cid)
        if e is None:
            return Text("")
        c = e.code
        name = plain(c.name, style=colour_for(c.id, c.colour))
        if cid in self._memo_targets:
            name.append(" ✎", style="dim")
        return cells(
            ("✓" if cid in self.marked else " ", 1),
            (name, 26),
            (Text("lat", style="italic") if c.kind == LATENT else Text("sem"), 4),
            (Text(str(e.extracts), justify="right"), 5),
            (Text(str(e.responses), justify="right"), 5),
            (Text(str(e.participants), justify="right"), 5),
            (plain(c.created_by if not self.tapp.blind or c.created_by == self.tapp.session.coder
                   else ""), 8),
            (plain(c.description or "", style="dim"), 0),
        )

    # -- data --------------------------------------------------------------------------------

    def stats(self) -> dict[str, codebook.CodeStats]:
        project = self.tapp.project
        coder = self.tapp.visible_coder
        key = (project.generation, coder)
        if key != self._stats_key:
            self._stats = codebook.code_stats(project, coder)
            self._stats_key = key
        return self._stats

    def visible_ids(self) -> list[str]:
        stats = self.stats()
        entries = list(stats.values())
        if self.max_extracts is not None:
            entries = [e for e in entries if e.extracts <= self.max_extracts]
        if self.query_text.strip():
            return [e.code.id for e, _ in rank(self.query_text, entries, key=lambda e: e.code.name)]
        if self.sort == "name":
            entries.sort(key=lambda e: e.code.name.casefold())
        else:
            entries.sort(key=lambda e: (-getattr(e, self.sort), e.code.name.casefold()))
        return [e.code.id for e in entries]

    def refresh_table(self, keep: str | None = None) -> None:
        self.drawn()
        table = self.query_one(RowList)
        if keep is None:
            keep = self.current_id()
        self.stats()
        project = self.tapp.project
        me, blind = self.tapp.session.coder, self.tapp.blind
        self._memo_targets = {tid for (kind, tid), memos in project.memos_by_target.items()
                              if kind == "code" and memos
                              and (not blind or any(m.coder == me for m in memos.values()))}
        self._shown = self.visible_ids()
        table.set_rows(self._shown, keep=keep)
        self._update_title()

    def _update_title(self) -> None:
        project = self.tapp.project
        total = len(self.stats())
        text = Text(end="", no_wrap=True, overflow="ellipsis")
        text.append("Codebook", style="bold")
        text.append(f"  {len(self._shown)} of {total} codes · sorted by {self.sort}")
        if self.max_extracts is not None:
            text.append(f" · only ≤ {self.max_extracts} extracts", style="bold")
        if self.marked:
            text.append(f" · {len(self.marked)} marked", style="bold")
        coder = self.tapp.visible_coder
        if coder:
            text.append(f" · counting {coder}'s codings only", style="italic")
        self.query_one("#codebook-title", Static).update(text)
        status = Text(end="", no_wrap=not self._message, overflow="ellipsis")
        if self._message:
            status.append_text(plain(self._message, style="italic"))
        else:
            status.append("Enter extracts · e edit · Space mark · M merge · D delete · / search · g groups",
                          style="dim")
        self.query_one("#codebook-status", Static).update(status)
        del project

    def say(self, message: str) -> None:
        self._message = message
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
        if cid is None:
            return
        from .extracts import ExtractsScreen

        self.app.push_screen(ExtractsScreen(cid))

    def action_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self._message = f"Sorted by {self.sort}"
        self.refresh_table()

    def action_few(self) -> None:
        def answered(value: str | None) -> None:
            if value is None:
                return
            value = value.strip()
            if not value:
                self.max_extracts = None
                self._message = "Showing every code"
            elif value.isdigit():
                self.max_extracts = int(value)
                self._message = f"Codes with at most {value} extracts"
            else:
                self._message = "Give a whole number (or nothing to show every code)"
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
        project = self.tapp.project
        items = [PickerItem(c.id, c.name, c.kind, payload=c.id, style=colour_for(c.id, c.colour))
                 for c in project.codes() if c.id not in sources]
        names = ", ".join(project.code_name(s) for s in sources)

        def chosen(result: PickResult | None) -> None:
            if not result or not result.item:
                return
            self.merge(sources, result.item.payload)

        self.app.push_screen(PickerScreen(f"Merge {one_line(names, 50)} into…", items), chosen)

    def merge(self, sources: list[str], target: str) -> None:
        outcome = self.tapp.session.merge_codes(sources, target)
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
                self.say(self.tapp.session.delete_code(cid).message)
                self.refresh_table()

        self.app.push_screen(ConfirmScreen(
            f"Delete the code “{name}”?",
            f"{stats.extracts} coding(s) by {len(stats.coders)} coder(s) go with it. "
            "Undo (u) brings everything back.", yes="Delete", no="Keep"), answered)

    def action_rename(self) -> None:
        cid = self.current_id()
        if cid is None:
            return
        name = self.tapp.project.code_name(cid)

        def answered(value: str | None) -> None:
            if value is not None:
                self.rename(cid, value)

        self.app.push_screen(InputScreen(f"Rename “{one_line(name, 40)}” to", name), answered)

    def rename(self, cid: str, new_name: str) -> None:
        try:
            outcome = self.tapp.session.rename_code(cid, new_name)
        except codebook.NameTaken as taken:
            existing = taken.existing

            def answered(yes: bool | None) -> None:
                if yes:
                    self.merge([cid], existing.id)

            self.app.push_screen(ConfirmScreen(
                f"“{existing.name}” already exists. Merge “{self.tapp.project.code_name(cid)}” into it?",
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
        code = self.tapp.project.code(cid)
        kind = SEMANTIC if code.kind == LATENT else LATENT
        self.say(self.tapp.session.edit_code(cid, kind=kind).message + f": now {kind}")
        self.refresh_table(keep=cid)

    def action_edit(self) -> None:
        cid = self.current_id()
        if cid is None:
            return
        from .code_edit import CodeEditScreen

        self.app.push_screen(CodeEditScreen(cid))

    def action_memo(self) -> None:
        cid = self.current_id()
        if cid is None:
            return
        open_code_memo(self, cid)

    def action_copy_all(self) -> None:
        cid = self.current_id()
        if cid is None:
            return
        copy_code_quotes(self.tapp, cid)

    def action_groups(self) -> None:
        from .groups import CompareScreen

        self.app.push_screen(CompareScreen())

    def action_template(self) -> None:
        from .template import TemplateScreen

        self.app.push_screen(TemplateScreen())

    def action_undo(self) -> None:
        self.say(self.tapp.session.undo().message)
        self.refresh_table()

    def action_redo(self) -> None:
        self.say(self.tapp.session.redo().message)
        self.refresh_table()


def open_code_memo(screen, code_id: str) -> None:
    app = screen.app
    session = app.session
    mine = session.my_memo("code", code_id)
    others = [(f"{m.coder}", m.text) for m in app.project.memos_for("code", code_id)
              if m.coder != session.coder and not app.blind]
    name = app.project.code_name(code_id)

    def saved(text: str | None) -> None:
        if text is not None:
            screen.say(session.save_memo("code", code_id, text).message)
            if hasattr(screen, "refresh_table"):
                screen.refresh_table()

    app.push_screen(MemoScreen(f"Memo on the code “{one_line(name, 40)}” (by {session.coder})",
                               mine.text if mine else "", others), saved)


def copy_code_quotes(app, code_id: str) -> None:
    from ..clip import copy_text

    session = app.session
    extracts = codebook.extracts_of(app.project, code_id, app.visible_coder)
    if not extracts:
        app.screen.say("This code has no extracts to copy")
        return
    text = "\n".join(session.quote(c) for c in extracts)
    copy_text(app, text, f"{len(extracts)} quote(s) of “{app.project.code_name(code_id)}”")
