"""Reviewing a theme: its heading, then every extract under it, grouped by code, attributed."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text

from ... import codebook
from ... import themes as T
from ...colours import colour_for
from ...model import Coding
from ...text import display_text
from ..render import plain
from .lens import Lens
from .themes import about

GONE = "This theme no longer exists"


@dataclass
class ThemeReview:
    """The rows: a code's heading (``coding`` None) or one of its extracts, with its text."""

    codes: int = 0
    rows: list[tuple[Coding | None, Text]] = field(default_factory=list)

    @property
    def extracts(self) -> int:
        return sum(1 for c, _ in self.rows if c is not None)


def heading(node: T.Node) -> Text:
    t = node.theme
    text = Text(end="")
    text.append_text(plain(t.name, style="bold"))
    text.append(f"  {node.level} · {t.status}", style="dim")
    about(text, t, description_limit=300)
    return text


def review(project, session, node: T.Node, lens: Lens) -> ThemeReview:
    out = ThemeReview()
    codes = sorted(node.all_code_ids(), key=lambda cid: project.code_name(cid).casefold())
    out.codes = len(codes)
    for cid in codes:
        extracts = codebook.extracts_of(project, cid, lens.counted_coder)
        code = project.code(cid)
        out.rows.append((None, plain(f"{code.name if code else '?'} · {len(extracts)} extract(s)",
                                     style=f"bold underline {colour_for(cid, code.colour if code else '')}")))
        for c in extracts:
            r = project.responses[c.response_id]
            line = Text("  ")
            line.append(display_text(" ".join(r.text[c.start:c.end].split())))
            line.append("  ")
            line.append_text(plain(session.attribution(r), style="dim"))
            out.rows.append((c, line))
    return out


def hint(codes: int, extracts: int) -> str:
    return f"{codes} code(s), {extracts} extract(s) · Enter in context · y copy · Y copy all"
