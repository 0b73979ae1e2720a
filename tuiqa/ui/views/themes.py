"""The themes tree: each theme's and code's label with its counts, the title, the detail line
under the tree."""

from __future__ import annotations

from rich.text import Text

from ... import themes as T
from ...colours import colour_for
from ...text import one_line
from ..render import plain
from .lens import Lens

HINT = "n theme · s sub-theme · O overarching · a assign · e edit · M map · V versions"


def counts(project, m: T.ThemeMap, lens: Lens) -> dict[str, T.Counts]:
    """Codes, extracts and participants under each theme and code (this coder's, if blind)."""
    return T.counts(project, m, lens.counted_coder)


def theme_label(node: T.Node, c: T.Counts | None) -> Text:
    c = c or T.Counts(0, 0, 0)
    label = Text(end="")
    if node.level == T.OVERARCHING:
        label.append("◆ ", style="bold")
        label.append_text(plain(node.theme.name, style="bold underline"))
    elif node.level == T.SUBTHEME:
        label.append("◦ ", style="dim")
        label.append_text(plain(node.theme.name, style="italic"))
    else:
        label.append("● ")
        label.append_text(plain(node.theme.name, style="bold"))
    if node.theme.status != "candidate":
        label.append(f" [{node.theme.status}]", style="green" if node.theme.status == "final" else "cyan")
    label.append(f"  {c.codes}c {c.extracts}e {c.participants}p", style="dim")
    return label


def code_label(project, m: T.ThemeMap | None, cid: str, c: T.Counts | None) -> Text:
    code = project.code(cid)
    c = c or T.Counts(1, 0, 0)
    label = plain(code.name if code else "?", style=colour_for(cid, code.colour if code else ""))
    label.append(f"  {c.extracts}e {c.participants}p", style="dim")
    held = m.themes_of_code.get(cid, []) if m else []
    if len(held) > 1:
        label.append(f"  (in {len(held)} themes)", style="dim italic")
    return label


def pile_label(title: str, codes: int) -> Text:
    return Text(f"{title} · {codes}", style="italic")


def title(m: T.ThemeMap) -> Text:
    text = Text(end="", no_wrap=True, overflow="ellipsis")
    text.append("Themes", style="bold")
    levels = [n.level for n in m.by_id.values()]
    text.append(f"  {levels.count(T.OVERARCHING)} overarching · {T.plural(levels.count(T.THEME), 'theme')} · "
                f"{T.plural(levels.count(T.SUBTHEME), 'sub-theme')} · {len(m.unassigned)} unassigned · "
                f"{len(m.miscellaneous)} in miscellaneous")
    return text


def about(text: Text, theme, *, description_limit: int) -> None:
    """A theme's central organising concept and description, each on its own line."""
    if theme.concept:
        text.append("\nConcept: ", style="bold")
        text.append_text(plain(theme.concept, limit=200))
    if theme.description:
        text.append("\n")
        text.append_text(plain(theme.description, style="italic", limit=description_limit))


def theme_detail(project, node: T.Node, lens: Lens) -> Text:
    t = node.theme
    detail = Text(end="")
    detail.append(f"{node.level} · {t.status}", style="dim")
    about(detail, t, description_limit=200)
    for m in lens.memos(project.memos_for("theme", node.id)):
        detail.append(f"\n✎ {m.coder}: ", style="dim")
        detail.append_text(plain(m.text, limit=120))
    return detail


def code_detail(project, m: T.ThemeMap, cid: str) -> Text:
    held = [m.by_id[t].theme.name for t in m.themes_of_code.get(cid, []) if t in m.by_id]
    detail = Text(end="")
    detail.append_text(plain(project.code_name(cid), style="bold"))
    detail.append("  in: " + (", ".join(one_line(h) for h in held) if held else "no theme"),
                  style="dim")
    return detail

