"""The thematic map as a text diagram, and saved map versions (save, open, restore, compare)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ... import themes as T
from ...model import MapVersion
from ..base import ListScreen, ProjectScreen
from ..dialogs.basic import ConfirmScreen, InputScreen, TextScreen
from ..views import map as view
from ..views.status import status_line
from ..widgets.lists import fill_keeping_place


class MapScreen(ProjectScreen):
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

    def redraw(self) -> None:
        self.refresh_map()

    def project_changed(self) -> None:
        if self.snapshot is None:
            self.refresh_map()

    def _map(self) -> T.ThemeMap:
        if self.snapshot is None:
            return T.build(self.project)
        return T.map_from_snapshot(self.project, self.snapshot)

    def refresh_map(self) -> None:
        self.drawn()
        shown = view.layout(self.project, self._map(), self.lens, width=self.size.width,
                            height=self.size.height, page=self.page, paged=self.chosen)
        self.page = shown.page
        if shown.paged != self.paged:
            self.paged = shown.paged
            self.refresh_bindings()  # the footer offers turning pages only when there are pages
        self.query_one("#map-title", Static).update(
            view.title(self.title_text, shown, read_only=self.snapshot is not None))
        self.query_one("#map-body", Static).update(view.body(shown))

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


class VersionsScreen(ListScreen):
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

    def compose(self) -> ComposeResult:
        yield Static(Text("Map versions", style="bold"), id="versions-title")
        yield OptionList(id="versions-list", markup=False)
        yield Static(id="versions-status")
        yield Footer()

    def redraw(self) -> None:
        self.refresh_list()

    def refresh_list(self) -> None:
        self.drawn()
        items = T.versions(self.project)
        self._ids = [v.id for v in items]
        fill_keeping_place(self.query_one(OptionList),
                           [Option(view.version_row(v, marked=v.id == self.marked)) for v in items])
        hint = view.VERSIONS_HINT if items else view.NO_VERSIONS
        self.query_one("#versions-status", Static).update(status_line(self.message, hint))

    def current(self) -> MapVersion | None:
        vid = self.highlighted_item(self._ids)
        return None if vid is None else self.project.map_version(vid)

    def action_save(self) -> None:
        def answered(label: str | None) -> None:
            if label and label.strip():
                self.say(self.session.save_map_version(label).message)

        self.app.push_screen(InputScreen("Save the current map as… (e.g. “initial themes, community staff”)"),
                             answered)

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
                self.say(self.session.restore_map_version(v.id).message)

        changes = T.diff(T.snapshot(self.project), v.snapshot)
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
        older = self.project.map_version(self.marked) if self.marked else None
        if older is None or older.id == v.id:
            self.say("Mark one version with Space, then press d on another (c compares with now)")
            return
        changes = T.diff(older.snapshot, v.snapshot)
        self.app.push_screen(TextScreen(f"From “{older.label}” to “{v.label}”", "\n".join(changes.lines())))

    def action_diff_current(self) -> None:
        v = self.current()
        if v is None:
            return
        changes = T.diff(v.snapshot, T.snapshot(self.project))
        self.app.push_screen(TextScreen(f"From “{v.label}” to the map now", "\n".join(changes.lines())))
