"""The codebook: every code with its counts (whose counts: the lens says), sorted, searched."""

from __future__ import annotations

from rich.text import Text

from ... import codebook
from ...colours import colour_for
from ...fuzzy import rank
from ...model import LATENT
from ..render import cells, plain
from .lens import Lens

SORTS = ("name", "extracts", "responses", "participants")
HINT = "Enter extracts · e edit · Space mark · M merge · D delete · / search · g groups"


def header() -> Text:
    text = cells((" ", 1), ("code", 26), ("kind", 4), (Text("extr", justify="right"), 5),
                 (Text("resp", justify="right"), 5), (Text("part", justify="right"), 5),
                 ("by", 8), ("description", 0))
    text.stylize("bold dim")
    return text


def stats(project, lens: Lens) -> dict[str, codebook.CodeStats]:
    """Each code's counts over the codings this coder may see (kept until the project changes)."""
    coder = lens.counted_coder
    return project.remember(("codebook-stats", coder), lambda: codebook.code_stats(project, coder))


def row(e: codebook.CodeStats, *, marked: bool, memo: bool, lens: Lens) -> Text:
    c = e.code
    name = plain(c.name, style=colour_for(c.id, c.colour))
    if memo:
        name.append(" ✎", style="dim")
    return cells(
        ("✓" if marked else " ", 1),
        (name, 26),
        (Text("lat", style="italic") if c.kind == LATENT else Text("sem"), 4),
        (Text(str(e.extracts), justify="right"), 5),
        (Text(str(e.responses), justify="right"), 5),
        (Text(str(e.participants), justify="right"), 5),
        (plain(lens.creator(c)), 8),
        (plain(c.description or "", style="dim"), 0),
    )


def codes_with_memos(project, lens: Lens) -> set[str]:
    """Codes with a memo this coder may see (marked ✎)."""
    return {tid for (kind, tid), memos in project.memos_by_target.items()
            if kind == "code" and memos and lens.memos(memos.values())}


def shown_ids(entries: dict[str, codebook.CodeStats], *, query: str, sort: str,
              max_extracts: int | None) -> list[str]:
    """The codes listed: at most ``max_extracts`` extracts, matching ``query`` (best first),
    else sorted by ``sort``."""
    listed = list(entries.values())
    if max_extracts is not None:
        listed = [e for e in listed if e.extracts <= max_extracts]
    if query.strip():
        return [e.code.id for e, _ in rank(query, listed, key=lambda e: e.code.name)]
    if sort == "name":
        listed.sort(key=lambda e: e.code.name.casefold())
    else:
        listed.sort(key=lambda e: (-getattr(e, sort), e.code.name.casefold()))
    return [e.code.id for e in listed]


def title(shown: int, total: int, *, sort: str, max_extracts: int | None, marked: int,
          lens: Lens) -> Text:
    text = Text(end="", no_wrap=True, overflow="ellipsis")
    text.append("Codebook", style="bold")
    text.append(f"  {shown} of {total} codes · sorted by {sort}")
    if max_extracts is not None:
        text.append(f" · only ≤ {max_extracts} extracts", style="bold")
    if marked:
        text.append(f" · {marked} marked", style="bold")
    if lens.counted_coder:
        text.append(f" · counting {lens.counted_coder}'s codings only", style="italic")
    return text
