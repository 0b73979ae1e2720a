"""Turn survey text into Rich ``Text`` for the screen, safely.

Every piece of user text reaches the screen through here or through :func:`plain`, as a
``rich.text.Text`` built from strings (never parsed as markup) with control characters made
visible (:func:`tuiqa.text.display_text`). Highlights never depend on colour alone: coded text is
underlined and tagged ``⟨n⟩``, the selection is shown reversed, so they stay distinguishable with
``NO_COLOR`` or on a 16-colour console.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from ..text import ascii_terminal, display_text, one_line


@dataclass(frozen=True)
class Glyphs:
    tag_open: str
    tag_close: str
    ellipsis: str
    bullet: str
    check: str
    newline: str


UNICODE = Glyphs("⟨", "⟩", "…", "·", "✓", "⏎")
ASCII = Glyphs("<", ">", "...", "-", "*", "|")


def glyphs() -> Glyphs:
    return ASCII if ascii_terminal() else UNICODE


def plain(text: str, style: str | Style = "", limit: int | None = None) -> Text:
    """One line of user text (a code name, an attribute value, a memo preview)."""
    return Text(one_line(text, limit), style=style, no_wrap=limit is not None, end="")


@dataclass(frozen=True)
class Mark:
    """A coded extract to draw: its number in the list below, span, colour."""

    number: int
    start: int
    end: int
    colour: str
    mine: bool = True


def response_text(text: str, marks: list[Mark], sel_start: int, sel_end: int,
                  *, show_selection: bool, g: Glyphs = UNICODE,
                  sources: list[int] | None = None) -> Text:
    """The answer with its codings and the selection.

    Offsets in ``marks`` and the selection are code points into ``text``; :func:`display_text`
    keeps one code point per code point, so they apply unchanged to what is shown. ``sources``,
    when given, is filled with the offset in ``text`` of each character shown (a tag like ⟨1⟩
    counts as the character it stands before), for :func:`offset_at`.
    """
    if sources is None:
        sources = []
    shown = display_text(text)
    n = len(shown)
    cuts = {0, n}
    starts: dict[int, list[Mark]] = {}
    for m in marks:
        cuts.update((max(0, min(m.start, n)), max(0, min(m.end, n))))
        starts.setdefault(m.start, []).append(m)
    if show_selection:
        cuts.update((sel_start, sel_end))
    out = Text(end="")
    points = sorted(cuts)
    for a, b in zip(points, points[1:]):
        opening = starts.get(a)
        if opening:
            numbers = ",".join(str(m.number) for m in sorted(opening, key=lambda m: m.number))
            colour = opening[0].colour
            tag = f"{g.tag_open}{numbers}{g.tag_close}"
            out.append(tag, Style(color=colour, bold=True, dim=False))
            sources.extend([a] * len(tag))
        covering = [m for m in marks if m.start <= a and b <= m.end]
        style = Style()
        if covering:
            inner = min(covering, key=lambda m: (m.end - m.start, m.number))
            style += Style(underline=True, color=inner.colour)
            if len(covering) > 1:
                style += Style(bold=True)
        if show_selection and sel_start <= a and b <= sel_end:
            style += Style(reverse=True)
        out.append(shown[a:b], style)
        sources.extend(range(a, b))
    if n == 0:
        out.append("(empty)", Style(italic=True, dim=True))
        sources.extend([0] * len("(empty)"))
    return out


def offset_at(shown: str, sources: list[int], x: int, y: int, width: int) -> int | None:
    """The offset in the answer under cell (``x``, ``y``) of ``shown`` wrapped at ``width``.

    Wraps the way Textual wraps a ``Static`` (Rich's ``divide_line``, folding long words), so a
    click lands on the character the user sees under the pointer; past the end of a line it is
    the line's last character. ``None`` below the text.
    """
    from rich._wrap import divide_line  # what textual.content uses to wrap

    row = 0
    base = 0
    for paragraph in shown.split("\n"):
        cuts = [0, *divide_line(paragraph, max(width, 1), fold=True), len(paragraph)]
        for a, b in zip(cuts, cuts[1:]):
            if row == y:
                column = 0
                for i in range(a, b):
                    column += cell_len(paragraph[i])
                    if x < column:
                        return sources[base + i]
                last = base + max(a, b - 1)
                return sources[min(last, len(sources) - 1)] if sources else None
            row += 1
        base += len(paragraph) + 1
    return None


def line_of_offset(text: str, offset: int, width: int) -> int:
    """Roughly which wrapped line an offset is on (to keep the selection in view)."""
    width = max(width, 10)
    line = 0
    pos = 0
    for paragraph in text.split("\n"):
        end = pos + len(paragraph)
        if offset <= end:
            return line + (offset - pos) // width
        line += max(1, -(-len(paragraph) // width))
        pos = end + 1
    return line


def cells(*columns: tuple[Text | str, int], gap: int = 1) -> Text:
    """Lay out fixed-width columns on one line (text is cut with … or padded to its width);
    a width of 0 means "the rest"."""
    out = Text(end="", no_wrap=True)
    for i, (value, width) in enumerate(columns):
        text = value if isinstance(value, Text) else Text(value)
        text = text.copy()
        text.no_wrap = True
        if width > 0:
            text.truncate(width, overflow="ellipsis", pad=True)
        if i:
            out.append(" " * gap)
        out.append_text(text)
    return out
