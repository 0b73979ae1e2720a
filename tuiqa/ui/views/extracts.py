"""A code's collated extracts: its heading, the memos on it, one entry per extract."""

from __future__ import annotations

from rich.text import Text

from ...colours import colour_for
from ...model import Code, Coding
from ...text import display_text
from ..render import plain
from .lens import Lens
from .status import status_line

HINT = "Enter in context · y copy · Space mark · S move marked to another code"
GONE = "This code no longer exists (merged or deleted)"


def title(code: Code, extracts: int) -> Text:
    text = Text(end="", no_wrap=True, overflow="ellipsis")
    text.append_text(plain(code.name, style=f"bold {colour_for(code.id, code.colour)}"))
    text.append(f"  {code.kind} · {extracts} extract(s)", style="dim")
    if code.description:
        text.append("\n")
        text.append_text(plain(code.description, style="italic", limit=200))
    return text


def memos(project, code_id: str, lens: Lens) -> Text:
    text = Text(end="")
    for m in lens.memos(project.memos_for("code", code_id)):
        text.append(f"✎ {m.coder}: ", style="dim")
        text.append_text(plain(m.text, style="italic", limit=150))
        text.append("\n")
    text.rstrip()
    return text


def attributes_line(project, participant) -> str:
    """A participant's attribute values, comma-separated (the blank ones left out)."""
    return ", ".join(v for a in project.attributes if (v := participant.attrs.get(a)))


def entry(project, c: Coding, *, marked: bool) -> Text:
    """Who, where, what (two or more lines: the extract in full)."""
    r = project.responses.get(c.response_id)
    part = project.participants.get(r.participant_id) if r else None
    q = project.questions.get(r.question_id) if r else None
    head = Text(end="")
    head.append("✓ " if marked else "  ", style="bold")
    head.append(part.pid if part else "?", style="bold")
    head.append(f" · {q.key if q else '?'}", style="bold")
    if part:
        attrs = attributes_line(project, part)
        if attrs:
            head.append(" · ")
            head.append_text(plain(attrs, style="dim", limit=50))
    head.append(f" · {c.coder}", style="dim italic")
    body = display_text(r.text[c.start:c.end]) if r else "?"
    head.append("\n  ")
    head.append(body.replace("\n", "\n  "))
    return head


def status(message: str, marked: int) -> Text:
    hint = Text(end="")
    hint.append(HINT, style="dim")
    if marked:
        hint.append(f" · {marked} marked", style="bold")
    return status_line(message, hint)


def gone() -> Text:
    return Text(GONE, style="bold", end="", no_wrap=True, overflow="ellipsis")
