"""The Linux console (TERM=linux): only the glyphs its font has.

The console's fonts hold the IBM code page 437 repertoire: ASCII, accented Latin letters, the
light and double box-drawing lines, full and half blocks, a few arrows and symbols. Textual and
tuiqa draw with more (rounded corners, eighth blocks, ▶, ●, ✓, “curly quotes” …), which the console
shows as broken boxes. :class:`ConsoleGlyphs` rewrites every painted line, one cell for one cell
so nothing moves: known characters to their nearest console glyph, anything else to ``·``.
"""

from __future__ import annotations

import os
import unicodedata
from functools import lru_cache

from rich.cells import cell_len
from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

CP437 = set(bytes(range(32, 127)).decode("ascii")) | set(bytes(range(128, 256)).decode("cp437")) \
    | set("☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼ ")

NEAREST = {
    "╭": "┌", "╮": "┐", "╰": "└", "╯": "┘", "━": "═", "┃": "║",
    "▔": "─", "▁": "_", "▂": "▄", "▃": "▄", "▅": "▄", "▆": "█", "▇": "█",
    "▉": "█", "▊": "▌", "▋": "▌", "▍": "▌", "▎": "│", "▏": "│", "▕": "│", "▐": "▐",
    "▶": "►", "▸": "►", "◀": "◄", "▾": "▼", "▴": "▲", "●": "•", "◆": "♦", "◦": "°", "○": "○",
    "✓": "√", "✔": "√", "✗": "x", "✎": "*", "⟨": "<", "⟩": ">", "‹": "<", "›": ">",
    "…": "~", "–": "-", "—": "-", "‒": "-", "“": '"', "”": '"', "„": '"', "‘": "'", "’": "'",
    "⏎": "|", "│": "│", "·": "·", "␛": "^", "␇": "^", "␡": "^", "�": "?", "\u00a0": " ",
    "🔎": "> ",  # the command palette's search icon (two cells wide, as is this)
}


def console_mode() -> bool:
    return os.environ.get("TERM", "") == "linux" or os.environ.get("TUIQA_ASCII") == "1"


@lru_cache(maxsize=4096)
def to_console(text: str) -> str:
    out = []
    for ch in text:
        if ch in CP437:
            out.append(ch)
            continue
        mapped = NEAREST.get(ch)
        if mapped is None and 0x2400 <= ord(ch) <= 0x241F:
            mapped = "^"  # a control character shown as a symbol
        if mapped is None:
            base = unicodedata.normalize("NFKD", ch)[:1]
            mapped = base if base in CP437 and base.isalpha() else "·" * max(cell_len(ch), 1)
        if cell_len(ch) == 0:
            mapped = ""  # a combining mark: the base letter already shows
        out.append(mapped)
    return "".join(out)


class ConsoleGlyphs(LineFilter):
    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [Segment(to_console(text), style, control) if text else Segment(text, style, control)
                for text, style, control in segments]
