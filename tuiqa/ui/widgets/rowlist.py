"""RowList: a keyboard list of one-line rows that renders only what is on screen.

Textual's DataTable measures every cell it is given (2,000 codes × 8 columns took about a second
to add), and OptionList repaints the whole list on each cursor move. RowList keeps the rows as
data, turns a row into text only when that line is painted, and repaints just the two lines a
cursor move changes, so it costs the same with 20 rows or 50,000 and writes little to a slow
terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Sequence, TypeVar

from rich.segment import Segment
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

T = TypeVar("T")


class RowList(ScrollView, Generic[T], can_focus=True):
    DEFAULT_CSS = """
    RowList { height: 1fr; }
    RowList > .rowlist--cursor { background: $accent 40%; text-style: bold; }
    RowList:focus > .rowlist--cursor { background: $accent 70%; }
    """
    COMPONENT_CLASSES = {"rowlist--cursor"}
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False, id="list.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="list.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="list.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="list.page_down"),
        Binding("home", "edge(0)", "First", show=False, id="list.first"),
        Binding("end", "edge(1)", "Last", show=False, id="list.last"),
        Binding("enter", "select", "Select", show=False, id="list.select"),
    ]

    @dataclass
    class Highlighted(Message):
        rowlist: RowList
        index: int

        @property
        def control(self) -> RowList:
            return self.rowlist

    @dataclass
    class Selected(Message):
        rowlist: RowList
        index: int

        @property
        def control(self) -> RowList:
            return self.rowlist

    def __init__(self, render_row: Callable[[T, int], Text], *, id: str | None = None,
                 key: Callable[[T], Any] | None = None, fixed_rows: int = 0) -> None:
        """``fixed_rows``: keep the scrollable height at least this many rows, so a list that
        grows and shrinks as you type never changes its layout (which repaints everything)."""
        super().__init__(id=id)
        self._fixed_rows = fixed_rows
        self._render_row = render_row
        self._key = key or (lambda row: row)
        self.rows: list[T] = []
        self.cursor = 0
        #: what each screen line was last painted with (see set_rows)
        self._on_screen: dict[int, tuple | None] = {}

    # -- data --------------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[T], *, keep: Any = None) -> None:
        """Replace the rows; the cursor stays on the row whose key is ``keep`` if it is there.

        Only the screen lines whose content changed are repainted (a picker narrowing as you
        type rewrites a few lines, not the whole list).
        """
        before = [self._on_screen.get(y) for y in range(max(self.size.height, 0))]
        self.rows = list(rows)
        index = 0
        if keep is not None:
            for i, row in enumerate(self.rows):
                if self._key(row) == keep:
                    index = i
                    break
            else:
                index = min(self.cursor, max(len(self.rows) - 1, 0))
        self.cursor = index
        self._scroll_to_cursor()
        size = Size(self.size.width, max(len(self.rows), self.size.height, self._fixed_rows))
        if size != self.virtual_size or not self.is_mounted:
            self.virtual_size = size
            self.refresh()
            return
        after = self._painted()
        for y, (old, new) in enumerate(zip(before, after)):
            if old != new:
                self.refresh(Region(0, y, self.size.width, 1))

    def _painted(self) -> list[tuple | None]:
        """What each visible line would show now (text, styles, cursor)."""
        top = int(self.scroll_offset.y)
        return [self._signature(top + y) for y in range(max(self.size.height, 0))]

    def _signature(self, index: int) -> tuple | None:
        if index >= len(self.rows):
            return None
        text = self._render_row(self.rows[index], self.size.width)
        return (text.plain, tuple((sp.start, sp.end, str(sp.style)) for sp in text.spans),
                str(text.style), index == self.cursor)

    def refresh_row(self, index: int) -> None:
        y = index - int(self.scroll_offset.y)
        if 0 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    @property
    def current(self) -> T | None:
        if 0 <= self.cursor < len(self.rows):
            return self.rows[self.cursor]
        return None

    @property
    def current_key(self) -> Any:
        row = self.current
        return None if row is None else self._key(row)

    # -- drawing -----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = int(self.scroll_offset.y) + y
        base = self.rich_style
        if index >= len(self.rows):
            self._on_screen[y] = None
            return Strip.blank(width, base)
        text = self._render_row(self.rows[index], width)
        self._on_screen[y] = (text.plain, tuple((sp.start, sp.end, str(sp.style)) for sp in text.spans),
                              str(text.style), index == self.cursor)
        text.no_wrap = True
        text.overflow = "ellipsis"
        text.end = ""
        segments = list(text.render(self.app.console))
        strip = Strip(Segment.apply_style(segments, base)).adjust_cell_length(width, base)
        if index == self.cursor:
            strip = strip.apply_style(self.get_component_rich_style("rowlist--cursor"))
        return strip

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._on_screen.clear()  # every line is repainted after a scroll

    def on_resize(self) -> None:
        self._on_screen.clear()
        self.virtual_size = Size(self.size.width, max(len(self.rows), self.size.height, self._fixed_rows))

    # -- moving ------------------------------------------------------------------------------

    def move_to(self, index: int) -> None:
        if not self.rows:
            return
        index = max(0, min(len(self.rows) - 1, index))
        if index == self.cursor:
            return
        old, self.cursor = self.cursor, index
        self.refresh_row(old)
        self.refresh_row(index)
        self._scroll_to_cursor()
        self.post_message(self.Highlighted(self, index))

    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_offset.y)
        height = max(self.size.height, 1)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(self.size.height - 1, 1))

    def action_edge(self, end: int) -> None:
        self.move_to(len(self.rows) - 1 if end else 0)

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self, self.cursor))

    def on_click(self, event) -> None:
        index = int(self.scroll_offset.y) + event.y
        if 0 <= index < len(self.rows):
            self.move_to(index)
            if event.chain >= 2:
                self.action_select()
