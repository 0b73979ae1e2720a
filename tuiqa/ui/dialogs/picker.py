"""A fuzzy picker: type a few letters, the list narrows, Enter chooses.

Used for the code picker (with "create a new code" entries and several codes at once), jumping
to a participant or question, and choosing a filter. Only the best matches are put in the list,
so each keystroke costs the same with 20 codes or 2,000.

Nothing in the picker takes focus: every key reaches the screen itself, in the order typed, and
the query line is edited there. Over a slow link a burst of keys ("c", a few letters, Enter)
arrives at once, and a focused text box would be handed some of those keys while the screen
still held the others (two queues, no order between them); here "c hope Enter" always codes with
what "hope" finds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ...fuzzy import rank
from ...text import cells, one_line
from ..widgets.rowlist import RowList

SHOWN = 60


@dataclass
class PickerItem:
    key: str
    label: str
    detail: str = ""
    payload: Any = None
    #: always listed (e.g. "create a new code"), after the matches
    sticky: bool = False
    style: str = ""
    search: str = ""  # text matched against; defaults to the label

    def haystack(self) -> str:
        return self.search or self.label


@dataclass
class PickResult:
    items: list[PickerItem] = field(default_factory=list)
    query: str = ""

    @property
    def item(self) -> PickerItem | None:
        return self.items[0] if self.items else None


class QueryLine(Static):
    """What has been typed, with a block cursor; edited by its screen (it never has focus)."""

    def __init__(self, placeholder: str, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.value = ""
        self.placeholder = placeholder

    def on_mount(self) -> None:
        self._paint()

    def on_resize(self) -> None:
        self._paint()

    def set(self, value: str) -> None:
        self.value = value
        self._paint()

    def _paint(self) -> None:
        text = Text(end="", no_wrap=True)
        shown = one_line(self.value)
        room = max(self.content_region.width - 2, 4)
        while cells(shown) > room:  # keep the end in view: that is where the typing is
            shown = "…" + shown[2:]
        text.append(shown)
        text.append(" ", style="reverse")
        if not self.value:
            text.append(self.placeholder, style="dim not bold")
        self.update(text)


class PickerScreen(ModalScreen[PickResult | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("down", "move(1)", "Down", show=False, id="picker.down"),
        Binding("up", "move(-1)", "Up", show=False, id="picker.up"),
        Binding("pagedown", "move(8)", "Page down", show=False, id="picker.pagedown"),
        Binding("pageup", "move(-8)", "Page up", show=False, id="picker.pageup"),
        Binding("tab", "toggle_mark", "Mark several", id="picker.mark"),
        Binding("enter", "choose", "Choose", id="picker.choose"),
    ]

    def __init__(self, title: str, items: list[PickerItem], *, multi: bool = False,
                 extra: Callable[[str], list[PickerItem]] | None = None,
                 placeholder: str = "type to narrow…", hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.items = items
        self.multi = multi
        self.extra = extra
        self.placeholder = placeholder
        self.hint = hint
        self.marked: dict[str, PickerItem] = {}
        self.shown: list[PickerItem] = []
        self._last_hint = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(Text(self.title_text, style="bold"), id="picker-title")
            yield QueryLine(self.placeholder, id="picker-input")
            rows: RowList[tuple[PickerItem, list[int]]] = RowList(
                lambda row, width: self._prompt(*row), id="picker-list",
                           key=lambda row: row[0].key, fixed_rows=SHOWN + 4)
            rows.can_focus = False  # keys stay with the screen (see the module's docstring)
            yield rows
            yield Static(Text(self.hint or self._default_hint(), style="dim"), id="picker-hint")

    def _default_hint(self) -> str:
        if self.multi:
            return "Enter choose · Tab mark several · Esc cancel"
        return "Enter choose · Esc cancel"

    def on_mount(self) -> None:
        self.set_focus(None)
        self._fill("")

    @property
    def query_text(self) -> str:
        return self.query_one(QueryLine).value

    def _set_query(self, value: str) -> None:
        self.query_one(QueryLine).set(value)
        self._fill(value)

    def on_key(self, event: events.Key) -> None:
        """Typing edits the query: letters add, Backspace takes one back, Ctrl+W a word,
        Ctrl+U all of it."""
        value = self.query_text
        if event.key == "backspace":
            new = value[:-1]
        elif event.key == "ctrl+w":
            new = value.rstrip()
            new = new[:len(new) - len(new.split()[-1])] if new.split() else ""
        elif event.key == "ctrl+u":
            new = ""
        elif event.is_printable and event.character:
            new = value + event.character
        else:
            return
        event.stop()
        event.prevent_default()
        self._set_query(new)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self._set_query(self.query_text + " ".join(event.text.split()))

    def _fill(self, query: str) -> None:
        query = query.strip()
        if query:
            matches = rank(query, self.items, key=PickerItem.haystack, limit=SHOWN)
        else:
            matches = [(item, []) for item in self.items[:SHOWN]]
        sticky: list[tuple[PickerItem, list[int]]] = [
            (item, []) for item in (self.extra(query) if self.extra else [])]
        # "Create …" entries come first when no item holds the typed text as it stands, so Enter
        # after typing a new name creates it instead of applying a loose fuzzy match.
        folded = query.casefold()
        contains = any(folded in item.haystack().casefold() for item, _ in matches)
        matches = matches + sticky if contains or not query else sticky + matches
        self.shown = [item for item, _ in matches]
        self.query_one(RowList).set_rows(matches)
        found = sum(1 for item in self.shown if not item.sticky)
        hint = f"{found}{'+' if found >= SHOWN else ''} match{'es' if found != 1 else ''} · " + \
            (self.hint or self._default_hint())
        if hint != self._last_hint:  # repaint the hint only when it says something new
            self._last_hint = hint
            self.query_one("#picker-hint", Static).update(Text(hint, style="dim", no_wrap=True,
                                                               overflow="ellipsis"))

    def _prompt(self, item: PickerItem, marks: list[int]) -> Text:
        label = one_line(item.label)
        mark = "✓ " if item.key in self.marked else "  " if self.multi else ""
        text = Text(mark, end="")
        start = len(text)
        # Plain rows: no per-code colour and no underlined matches, so a row that stays where it
        # was as you type is not repainted (each keystroke costs a few hundred bytes over SSH).
        text.append(label, style="bold" if item.sticky else "")
        del start, marks
        if item.detail:
            text.append("  " + one_line(item.detail, 60), style="dim")
        return text

    def action_move(self, delta: int) -> None:
        self.query_one(RowList).action_cursor(delta)

    def _highlighted_item(self) -> PickerItem | None:
        row = self.query_one(RowList).current
        return row[0] if row is not None else None

    def action_toggle_mark(self) -> None:
        if not self.multi:
            return
        item = self._highlighted_item()
        if item is None or item.sticky:
            return
        if item.key in self.marked:
            del self.marked[item.key]
        else:
            self.marked[item.key] = item
        rows = self.query_one(RowList)
        rows.refresh_row(rows.cursor)
        self.action_move(1)

    def action_choose(self) -> None:
        query = self.query_text
        if self.marked:
            self.dismiss(PickResult(list(self.marked.values()), query))
            return
        item = self._highlighted_item()
        if item is None:
            return
        self.dismiss(PickResult([item], query))

    @on(RowList.Selected)
    def _clicked(self, event: RowList.Selected) -> None:
        event.stop()
        self.action_choose()

    def action_cancel(self) -> None:
        self.dismiss(None)
