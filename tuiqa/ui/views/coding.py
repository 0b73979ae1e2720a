"""What the coding screen shows around the answer: its codings listed by number, the recent
codes, where you are and the last message."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.cells import cell_len
from rich.text import Text

from ...colours import colour_for
from ...model import Coding, Response
from ...navigation import Navigator
from ..render import Glyphs, Mark, plain
from .lens import Lens

HINT = "↓↑ select a sentence · c code · d done · n next · ? every key"


@dataclass
class CodingsView:
    """An answer's codings: the marks in the text and the numbered list below it."""

    marks: list[Mark] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=dict)  # coding id -> its number
    lines: Text = field(default_factory=lambda: Text(end=""))


def codings_view(project, response: Response, codings: list[Coding], *, me: str, glyphs: Glyphs,
                 width: int, rows: int) -> CodingsView:
    """Number the codings, mark them in the text and list them, one line each, in ``rows``
    lines at ``width`` (the last line says how many more there are, if they do not fit)."""
    view = CodingsView()
    lines = view.lines
    for number, c in enumerate(codings, 1):
        view.numbers[c.id] = number
        code = project.code(c.code_id)
        colour = colour_for(c.code_id, code.colour if code else "")
        view.marks.append(Mark(number, c.start, c.end, colour, c.coder == me))
        if number > rows or (number == rows and len(codings) > rows):
            if number == rows:
                lines.append(f"\n… and {len(codings) - rows + 1} more, tagged in the text "
                             "(x lists yours)", style="dim italic")
            continue
        if number > 1:
            lines.append("\n")
        # one line per coding: the extract gives way so the code and the coder always show
        tag = f"{glyphs.tag_open}{number}{glyphs.tag_close} "
        name = plain(project.code_name(c.code_id), style="bold", limit=40)
        by = plain(f"  — {c.coder}", style="dim", limit=24) if c.coder != me else Text("")
        room = width - 2 - cell_len(tag) - name.cell_len - 2 - by.cell_len
        lines.append(tag, style=f"bold {colour}")
        lines.append_text(name)
        extract = response.text[c.start:c.end]
        whole = c.start == 0 and c.end == len(response.text)
        lines.append("  ")
        lines.append_text(plain("(whole answer)" if whole else f"“{extract}”", style="italic",
                                limit=max(8, room)))
        lines.append_text(by)
    if not codings:
        lines.append("No codings yet: select with ↑↓ (sentence) or Shift+←→ (word), "
                     "then c to code.", style="dim italic")
    return view


def recent_line(project, recent: list[str]) -> Text:
    """The recent codes, on keys 1–9."""
    text = Text(end="", no_wrap=True, overflow="ellipsis")
    if not recent:
        text.append("Recent codes appear here, on keys 1–9.", style="dim")
    for i, cid in enumerate(recent, 1):
        if i > 1:
            text.append("  ")
        text.append(f"{i}", style="bold reverse")
        text.append(" ")
        text.append_text(plain(project.code_name(cid), limit=24))
    return text


def status_lines(project, nav: Navigator, lens: Lens, glyphs: Glyphs, *, mine_only: bool,
                 selection: tuple[int, int] | None, message: str) -> Text:
    """Two fixed lines: where you are, then the last message (or what to press)."""
    r = nav.current
    text = Text(end="", no_wrap=True, overflow="ellipsis")
    total = len(nav)
    text.append(f"{nav.index + 1 if total else 0}/{total}", style="bold")
    done = project.is_done(r.id, lens.coder) if r else False
    if done:
        text.append(f" {glyphs.check} done", style="bold green")
    else:
        text.append(" not done", style="yellow")
    if lens.blind:
        text.append(" · BLIND", style="bold red")
    text.append(f" · {lens.coder}: {nav.done_count()}/{total} done")
    text.append(f" · by {nav.order}")
    if nav.filter is not None:
        text.append(" · ")
        text.append_text(plain(nav.filter.describe(), style="bold"))
    if mine_only and not lens.blind:
        text.append(" · mine only", style="bold")
    if selection is not None:
        text.append(f" · sel {selection[0]}–{selection[1]}")
    second = Text(end="", no_wrap=True, overflow="ellipsis")
    if message:
        second.append_text(plain(message, style="italic"))
    else:
        second.append(HINT, style="dim")
    text.append("\n")
    text.append_text(second)
    return text
