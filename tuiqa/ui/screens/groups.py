"""Compare groups: for one participant attribute, each code's participants and extracts per group."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from ... import groups
from ..base import ProjectScreen
from ..dialogs.picker import PickerItem, PickerScreen, PickResult
from ..views import groups as view


class CompareScreen(ProjectScreen):
    """Rows are codes (or themes); each group has two columns: participants, extracts."""

    HELP_GROUP = "Compare groups"
    BINDINGS = [
        Binding("escape,b", "back", "Back", id="groups.back"),
        Binding("a", "attribute", "Attribute", id="groups.attribute"),
        Binding("s", "sort", "Sort", id="groups.sort"),
    ]

    def __init__(self, attribute: str | None = None, what: str = "code") -> None:
        """``what``: "code" (a row per code) or "theme" (a row per theme, with its codes)."""
        super().__init__()
        self.attribute = attribute
        self.what = what
        self.sort_by: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="groups-title")
        yield DataTable(id="groups-table", cursor_type="row", zebra_stripes=True)
        yield Static(Text("a choose the attribute · s sort by a group · Esc back", style="dim"))
        yield Footer()

    def on_mount(self) -> None:
        if self.attribute is None:
            self.attribute = view.preferred_attribute(self.project.attributes)
        self.refresh_table()
        self.query_one(DataTable).focus()

    def redraw(self) -> None:
        self.refresh_table()

    def _data(self) -> groups.GroupTable | None:
        if not self.attribute:
            return None
        rows = view.theme_rows(self.project) if self.what == "theme" else None
        return groups.compare(self.project, self.attribute, self.lens.counted_coder, rows)

    def refresh_table(self) -> None:
        self.drawn()
        table = self.query_one(DataTable)
        table.clear(columns=True)
        data = self._data()
        self.query_one("#groups-title", Static).update(view.title(self.attribute, data))
        if data is None:
            return
        table.add_column(self.what, width=28, key="label")
        for v in data.values:
            table.add_column(Text(f"{v[:10]} part"), width=max(6, min(len(v), 10) + 5), key=f"p:{v}")
            table.add_column(Text(f"{v[:10]} extr"), width=max(6, min(len(v), 10) + 5), key=f"e:{v}")
        for key, cells in view.rows(data, self.sort_by):
            table.add_row(*cells, key=key)

    def action_attribute(self) -> None:
        items = [PickerItem(a, a, payload=a) for a in self.project.attributes]

        def chosen(result: PickResult | None) -> None:
            if result and result.item:
                self.attribute = result.item.payload
                self.sort_by = None
                self.refresh_table()

        self.app.push_screen(PickerScreen("Compare groups by…", items), chosen)

    def action_sort(self) -> None:
        data = self._data()
        values = [None] + (data.values if data else [])
        current = values.index(self.sort_by) if self.sort_by in values else 0
        self.sort_by = values[(current + 1) % len(values)]
        self.refresh_table()
