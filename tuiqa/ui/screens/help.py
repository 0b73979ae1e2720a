"""The help screen: every key of every screen, grouped."""

from __future__ import annotations

from typing import Mapping

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_NAMES = {
    "left_square_bracket": "[", "right_square_bracket": "]", "question_mark": "?",
    "pagedown": "PgDn", "pageup": "PgUp", "escape": "Esc", "enter": "Enter", "delete": "Del",
    "down": "↓", "up": "↑", "left": "←", "right": "→", "tab": "Tab", "slash": "/",
    "space": "Space", "backspace": "Backspace", "number_sign": "#", "home": "Home", "end": "End",
    "plus": "+", "minus": "-", "full_stop": ".", "comma": ",",
    **{f"f{n}": f"F{n}" for n in range(1, 13)},
}


def key_label(keys: str) -> str:
    out = []
    for key in keys.split(","):
        parts = key.strip().split("+")
        parts[-1] = KEY_NAMES.get(parts[-1], parts[-1])
        out.append("+".join(p.capitalize() if p in ("ctrl", "shift", "alt") else p for p in parts))
    return " / ".join(out)


def binding_rows(screen_cls, keymap: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(keys, what they do) for every binding of a screen, with the keys the user's ``keymap``
    gives (binding id -> keys); numbered twins (1…9) fold into one."""
    rows: list[tuple[str, str]] = []
    for b in screen_cls.BINDINGS:
        if not isinstance(b, Binding):
            b = Binding(*b)
        description = b.description or b.action
        if description[-1:].isdigit() and description[:-1].endswith(" "):
            if description.endswith(" 1"):
                rows.append(("1 … 9", description[:-2] + " 1 … 9"))
            continue
        keys = (keymap or {}).get(b.id or "", b.key)
        rows.append((key_label(keys), description))
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help.close")]

    def __init__(self, groups: list[tuple[str, list[tuple[str, str]]]], intro: str = "") -> None:
        super().__init__()
        self.groups = groups
        self.intro = intro

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Static(Text("tuiqa keys", style="bold"))
            if self.intro:
                yield Static(Text(self.intro, style="italic"))
            for title, rows in self.groups:
                table = Table(title=title, title_justify="left", show_header=False, box=None,
                              padding=(0, 2), expand=False)
                table.add_column("key", style="bold", no_wrap=True, width=22)
                table.add_column("action")
                for key, what in rows:
                    table.add_row(Text(key), Text(what))
                yield Static(table)
            yield Static(Text("Esc closes this help.", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
