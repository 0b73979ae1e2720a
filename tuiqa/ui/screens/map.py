"""The thematic map as a text diagram, and saved map versions (save, open, restore, compare)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ... import themes as T
from ...store.stamps import stamp_local
from ...text import display_text
from ..render import ascii_terminal, plain
from ..widgets.highlighted import highlighted
from .dialogs import ConfirmScreen, InputScreen, TextScreen


class MapScreen(Screen):
    """The whole map, or one overarching theme at a time when it does not fit."""

    HELP_GROUP = "Thematic map"
    BINDINGS = [
        Binding("escape,backspace", "back", "Back", id="map.back"),
        Binding("right,n,pagedown", "page(1)", "Next part", id="map.next"),
        Binding("left,p,pageup", "page(-1)", "Previous part", id="map.previous"),
        Binding("a", "toggle_all", "Whole/paged", id="map.all"),
    ]

    def __init__(self, snapshot: dict | None = None, title: str = "") -> None:
        super().__init__()
        self.snapshot = snapshot  # a saved version (read-only), or None for the current map
        self.title_text = title or ("Thematic map" if snapshot is None else "Saved map")
        self.page = 0
        self.paged = False
        self.chosen: bool | None = None  # the user's choice (a); None: paged only if it does not fit

    def compose(self) -> ComposeResult:
        yield Static(id="map-title")
        with VerticalScroll(id="map-scroll"):
            yield Static(id="map-body")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_map()
        self.query_one(VerticalScroll).focus()

    def project_changed(self) -> None:
        if self.snapshot is None:
            self.refresh_map()

    def _map(self) -> T.ThemeMap:
        project = self.app.project  # type: ignore[attr-defined]
        if self.snapshot is None:
            return T.build(project)
        return T.map_from_snapshot(project, self.snapshot)

    def refresh_map(self) -> None:
        project = self.app.project  # type: ignore[attr-defined]
        m = self._map()
        width = max(40, min(self.size.width - 2 or 78, 120))
        counts = T.counts(project, m, self.app.visible_coder)  # type: ignore[attr-defined]
        lines = T.map_lines(project, m, width=width, ascii_only=ascii_terminal(), counts_by=counts)
        fits = len(lines) <= max(self.size.height - 3, 10)
        paged = self.chosen if self.chosen is not None else (not fits and len(m.roots) > 1)
        if paged != self.paged:
            self.paged = paged
            self.refresh_bindings()  # the footer offers turning pages only when there are pages
        title = Text(end="", no_wrap=True, overflow="ellipsis")
        title.append(self.title_text, style="bold")
        if self.paged and m.roots:
            # pages: each overarching theme (with what sits under it), then the rest, then the piles
            pages: list[list[T.Node]] = [[r] for r in m.roots if r.level == T.OVERARCHING]
            rest = [r for r in m.roots if r.level != T.OVERARCHING]
            if rest:
                pages.append(rest)
            self.page %= len(pages) + 1
            if self.page < len(pages):
                lines = T.map_lines(project, m, width=width, ascii_only=ascii_terminal(),
                                    counts_by=counts, roots=pages[self.page], show_piles=False)
            else:
                lines = T.map_lines(project, m, width=width, ascii_only=ascii_terminal(),
                                    counts_by=counts, roots=[], show_piles=True) or ["(no codes outside themes)"]
            title.append(f"  part {self.page + 1} of {len(pages) + 1} · ←/→ turn · a whole map", style="dim")
        else:
            title.append("  whole map · a one part at a time", style="dim")
        if self.snapshot is not None:
            title.append("  (read-only)", style="bold yellow")
        self.query_one("#map-title", Static).update(title)
        body = Text(display_text("\n".join(lines))) if lines else \
            Text("No themes yet: press n in the themes screen.", style="italic")
        body.no_wrap = True
        self.query_one("#map-body", Static).update(body)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "page" and not self.paged:
            return False
        return True

    def action_page(self, delta: int) -> None:
        if self.paged:
            self.page += delta
            self.refresh_map()

    def action_toggle_all(self) -> None:
        self.chosen = not self.paged
        self.page = 0
        self.refresh_map()

    def on_resize(self) -> None:
        self.refresh_map()  # the first size is known only now: does the whole map fit?

    def action_back(self) -> None:
        self.app.pop_screen()


class VersionsScreen(Screen):
    """Saved versions of the map: s saves the current map; Enter opens one read-only."""

    HELP_GROUP = "Map versions"
    BINDINGS = [
        Binding("escape,backspace", "back", "Back", id="versions.back"),
        Binding("s", "save", "Save current", id="versions.save"),
        Binding("enter,o", "open", "Open", id="versions.open"),
        Binding("R", "restore", "Restore", id="versions.restore"),
        Binding("space", "mark", "Mark to compare", show=False, id="versions.mark"),
        Binding("d", "diff", "Compare", id="versions.diff"),
        Binding("c", "diff_current", "vs now", show=False, id="versions.diff_current"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._ids: list[str] = []
        self.marked: str | None = None
        self._message = ""

    def compose(self) -> ComposeResult:
        yield Static(Text("Map versions", style="bold"), id="versions-title")
        yield OptionList(id="versions-list", markup=False)
        yield Static(id="versions-status")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_list()
        self.query_one(OptionList).focus()

    def project_changed(self) -> None:
        self.refresh_list()

    def refresh_list(self) -> None:
        project = self.app.project  # type: ignore[attr-defined]
        items = T.versions(project)
        self._ids = [v.id for v in items]
        options = []
        for v in items:
            t = Text(end="")
            t.append("● " if v.id == self.marked else "  ", style="bold")
            t.append_text(plain(v.label, style="bold"))
            themes = len(v.snapshot.get("themes", {}))
            t.append(f"  {stamp_local(v.created)} · {v.created_by} · {themes} theme(s)", style="dim")
            options.append(Option(t))
        ol = self.query_one(OptionList)
        keep = ol.highlighted
        ol.set_options(options)
        if options:
            ol.highlighted = min(keep or 0, len(options) - 1)
        status = Text(end="", no_wrap=not self._message, overflow="ellipsis")
        if self._message:
            status.append_text(plain(self._message, style="italic"))
        elif not options:
            status.append("No saved versions yet: s saves the map as it is now", style="dim")
        else:
            status.append("s save · Enter open · R restore · Space mark, d compare with marked · c compare with now",
                          style="dim")
        self.query_one("#versions-status", Static).update(status)

    def say(self, message: str) -> None:
        self._message = message
        self.refresh_list()

    def current(self):
        vid = highlighted(self.query_one(OptionList), self._ids)
        return None if vid is None else self.app.project.state.table("mapversion").get(vid)  # type: ignore[attr-defined]

    def action_save(self) -> None:
        def answered(label: str | None) -> None:
            if label and label.strip():
                self.say(self.app.session.save_map_version(label).message)  # type: ignore[attr-defined]

        self.app.push_screen(InputScreen("Save the current map as… (e.g. “initial themes, community staff”)"),
                             answered)

    @on(OptionList.OptionSelected)
    def _selected(self, event) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        v = self.current()
        if v is not None:
            self.app.push_screen(MapScreen(v.snapshot, title=f"Map version “{v.label}”"))

    def action_restore(self) -> None:
        v = self.current()
        if v is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.say(self.app.session.restore_map_version(v.id).message)  # type: ignore[attr-defined]

        changes = T.diff(T.snapshot(self.app.project), v.snapshot)  # type: ignore[attr-defined]
        self.app.push_screen(ConfirmScreen(f"Restore the map “{v.label}”?",
                                           "\n".join(changes.lines()[:12]) + "\nu undoes it.",
                                           yes="Restore", no="Cancel"), answered)

    def action_mark(self) -> None:
        v = self.current()
        if v is not None:
            self.marked = None if self.marked == v.id else v.id
            self.refresh_list()

    def action_diff(self) -> None:
        v = self.current()
        if v is None:
            return
        if self.marked is None or self.marked == v.id:
            self.say("Mark one version with Space, then press d on another (c compares with now)")
            return
        older = self.app.project.state.table("mapversion")[self.marked]  # type: ignore[attr-defined]
        changes = T.diff(older.snapshot, v.snapshot)
        self.app.push_screen(TextScreen(f"From “{older.label}” to “{v.label}”", "\n".join(changes.lines())))

    def action_diff_current(self) -> None:
        v = self.current()
        if v is None:
            return
        changes = T.diff(v.snapshot, T.snapshot(self.app.project))  # type: ignore[attr-defined]
        self.app.push_screen(TextScreen(f"From “{v.label}” to the map now", "\n".join(changes.lines())))

    def action_back(self) -> None:
        self.app.pop_screen()
