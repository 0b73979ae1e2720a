"""Comparing groups of participants (by one attribute): a row per code or theme, for each
group its participants (and their share of the group) and extracts."""

from __future__ import annotations

from rich.text import Text

from ... import themes as T
from ...groups import GroupTable
from ..render import plain

PREFERRED = ("setting", "group", "site")


def preferred_attribute(attributes: list[str]) -> str | None:
    """The attribute to start with: one named like a setting or group, else the first."""
    preferred = [a for a in attributes if a.casefold() in PREFERRED]
    return preferred[0] if preferred else (attributes[0] if attributes else None)


def theme_rows(project) -> list[tuple[str, str, set[str]]]:
    """(theme id, indented name, its codes) for each theme, in the map's order."""
    m = T.build(project)
    return [(node.id, ("  " * node.depth) + node.theme.name, node.all_code_ids())
            for root in m.roots for node in root.walk()]


def title(attribute: str | None, data: GroupTable | None) -> Text:
    text = Text(end="")
    if data is None:
        text.append("No participant attributes to compare by", style="bold")
        return text
    text.append(f"Compare by {attribute}", style="bold")
    text.append("  " + " · ".join(f"{v}: {data.sizes[v]} participant(s)" for v in data.values),
                style="dim")
    return text


def rows(data: GroupTable, sort_by: str | None) -> list[tuple[str, list[Text]]]:
    """(row key, its cells), sorted by the participants in group ``sort_by`` if given."""
    listed = data.rows
    if sort_by in data.values:
        listed = sorted(listed, key=lambda r: (-r.participants[sort_by], r.label.casefold()))
    out = []
    for row in listed:
        cells = [plain(row.label, limit=28)]
        for v in data.values:
            share = row.participants[v] / data.sizes[v] if data.sizes[v] else 0
            cells.append(Text(f"{row.participants[v]} {share:>4.0%}", justify="right"))
            cells.append(Text(str(row.extracts[v]), justify="right"))
        out.append((row.key, cells))
    return out
