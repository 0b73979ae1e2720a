"""The reflexive journal: dated, signed entries on the project, newest first."""

from __future__ import annotations

from rich.text import Text

from ...model import Memo
from ...store.stamps import stamp_local
from ...text import display_text
from .lens import Lens

#: journal entries are memos on the project itself
PROJECT = "project"


def entries(project, lens: Lens, query: str = "") -> list[Memo]:
    """The entries this coder may see, newest first, those matching ``query`` (text or coder)."""
    memos = lens.memos(project.memos_for(PROJECT, project.project_id))
    q = query.casefold().strip()
    if q:
        memos = [m for m in memos if q in m.text.casefold() or q in m.coder.casefold()]
    return sorted(memos, key=lambda m: m.created, reverse=True)


def entry(m: Memo) -> Text:
    t = Text(end="")
    t.append(stamp_local(m.created), style="bold")
    t.append(f" · {m.coder}", style="italic")
    if m.updated != m.created:
        t.append(f" (edited {stamp_local(m.updated)})", style="dim")
    t.append("\n")
    t.append(display_text(m.text))
    return t


def hint(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'} · n new · e edit yours · / search"
