"""The thematic map as text, whole or one overarching theme at a time; saved versions."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from ... import themes as T
from ...model import MapVersion
from ...store.stamps import stamp_local
from ...text import display_text
from ..render import ascii_terminal, plain
from .lens import Lens

EMPTY = "No themes yet: press n in the themes screen."
VERSIONS_HINT = "s save · Enter open · R restore · Space mark, d compare with marked · c compare with now"
NO_VERSIONS = "No saved versions yet: s saves the map as it is now"


@dataclass
class MapView:
    lines: list[str]
    paged: bool
    page: int  # (with paged) the part shown: each overarching theme, then the rest, then piles
    pages: int


def layout(project, m: T.ThemeMap, lens: Lens, *, width: int, height: int, page: int,
           paged: bool | None) -> MapView:
    """The map at ``width``: paged when the user chose it (``paged``), else only if the whole
    map does not fit in ``height`` and there is more than one part."""
    width = max(40, min(width - 2 or 78, 120))
    counts = T.counts(project, m, lens.counted_coder)
    lines = T.map_lines(project, m, width=width, ascii_only=ascii_terminal(), counts_by=counts)
    fits = len(lines) <= max(height - 3, 10)
    paged = paged if paged is not None else (not fits and len(m.roots) > 1)
    if not (paged and m.roots):
        return MapView(lines, paged, 0, 1)
    parts: list[list[T.Node]] = [[r] for r in m.roots if r.level == T.OVERARCHING]
    rest = [r for r in m.roots if r.level != T.OVERARCHING]
    if rest:
        parts.append(rest)
    page %= len(parts) + 1
    if page < len(parts):
        lines = T.map_lines(project, m, width=width, ascii_only=ascii_terminal(),
                            counts_by=counts, roots=parts[page], show_piles=False)
    else:
        lines = T.map_lines(project, m, width=width, ascii_only=ascii_terminal(),
                            counts_by=counts, roots=[], show_piles=True) or ["(no codes outside themes)"]
    return MapView(lines, True, page, len(parts) + 1)


def title(heading: str, shown: MapView, *, read_only: bool) -> Text:
    text = Text(end="", no_wrap=True, overflow="ellipsis")
    text.append(heading, style="bold")
    if shown.paged and shown.pages > 1:
        text.append(f"  part {shown.page + 1} of {shown.pages} · ←/→ turn · a whole map", style="dim")
    else:
        text.append("  whole map · a one part at a time", style="dim")
    if read_only:
        text.append("  (read-only)", style="bold yellow")
    return text


def body(shown: MapView) -> Text:
    text = Text(display_text("\n".join(shown.lines))) if shown.lines else Text(EMPTY, style="italic")
    text.no_wrap = True
    return text


def version_row(v: MapVersion, *, marked: bool) -> Text:
    t = Text(end="")
    t.append("● " if marked else "  ", style="bold")
    t.append_text(plain(v.label, style="bold"))
    themes = len(v.snapshot.get("themes", {}))
    t.append(f"  {stamp_local(v.created)} · {v.created_by} · {themes} theme(s)", style="dim")
    return t
