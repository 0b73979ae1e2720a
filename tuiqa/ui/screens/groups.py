"""Compare groups: for one participant attribute, each code's participants and extracts per group."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ... import groups
from ..render import plain
from .picker import PickerItem, PickerScreen, PickResult


class CompareScreen(Screen):
    """Rows are codes (or themes); each group has two columns: participants, extracts."""

    HELP_GROUP = "Compare groups"
    BINDINGS = [
        Binding("escape,b", "back", "Back", id="groups.back"),
        Binding("a", "attribute", "Attribute", id="groups.attribute"),
        Binding("s", "sort", "Sort", id="groups.sort"),
    ]

    def __init__(self, attribute: str | None = None, rows_for=None, what: str = "code") -> None:
        super().__init__()
        self.attribute = attribute
        self.rows_for = rows_for  # callable(project) -> [(key, label, code ids)] (themes use it)
        self.what = what
        self.sort_by: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="groups-title")
        yield DataTable(id="groups-table", cursor_type="row", zebra_stripes=True)
        yield Static(Text("a choose the attribute · s sort by a group · Esc back", style="dim"))
        yield Footer()

    def on_mount(self) -> None:
        attrs = self.app.project.attributes  # type: ignore[attr-defined]
        if self.attribute is None and attrs:
            preferred = [a for a in attrs if a.casefold() in ("setting", "group", "site")]
            self.attribute = preferred[0] if preferred else attrs[0]
        self.refresh_table()
        self.query_one(DataTable).focus()

    def refresh_table(self) -> None:
        app = self.app
        table = self.query_one(DataTable)
        table.clear(columns=True)
        title = Text(end="")
        if not self.attribute:
            title.append("No participant attributes to compare by", style="bold")
            self.query_one("#groups-title", Static).update(title)
            return
        codes = self.rows_for(app.project) if self.rows_for else None
        data = groups.compare(app.project, self.attribute, app.visible_coder, codes)  # type: ignore[attr-defined]
        title.append(f"Compare by {self.attribute}", style="bold")
        title.append("  " + " · ".join(f"{v}: {data.sizes[v]} participant(s)" for v in data.values),
                     style="dim")
        self.query_one("#groups-title", Static).update(title)
        table.add_column(self.what, width=28, key="label")
        for v in data.values:
            table.add_column(Text(f"{v[:10]} part"), width=max(6, min(len(v), 10) + 5), key=f"p:{v}")
            table.add_column(Text(f"{v[:10]} extr"), width=max(6, min(len(v), 10) + 5), key=f"e:{v}")
        rows = data.rows
        if self.sort_by in data.values:
            rows = sorted(rows, key=lambda r: (-r.participants[self.sort_by], r.label.casefold()))
        for row in rows:
            cells = [plain(row.label, limit=28)]
            for v in data.values:
                share = row.participants[v] / data.sizes[v] if data.sizes[v] else 0
                cells.append(Text(f"{row.participants[v]} {share:>4.0%}", justify="right"))
                cells.append(Text(str(row.extracts[v]), justify="right"))
            table.add_row(*cells, key=row.key)

    def action_attribute(self) -> None:
        attrs = self.app.project.attributes  # type: ignore[attr-defined]
        items = [PickerItem(a, a, payload=a) for a in attrs]

        def chosen(result: PickResult | None) -> None:
            if result and result.item:
                self.attribute = result.item.payload
                self.sort_by = None
                self.refresh_table()

        self.app.push_screen(PickerScreen("Compare groups by…", items), chosen)

    def action_sort(self) -> None:
        data = groups.compare(self.app.project, self.attribute, self.app.visible_coder) \
            if self.attribute else None  # type: ignore[attr-defined]
        values = [None] + (data.values if data else [])
        current = values.index(self.sort_by) if self.sort_by in values else 0
        self.sort_by = values[(current + 1) % len(values)]
        self.refresh_table()

    def action_back(self) -> None:
        self.app.pop_screen()

    def project_changed(self) -> None:
        self.refresh_table()
