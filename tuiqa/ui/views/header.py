"""The head of an answer: its question, then its participant with their attributes.

Built here once, for the coding screen and the team screens."""

from __future__ import annotations

from rich.text import Text

from ..render import Glyphs, plain

MISSING = "—"


def response_header(project, response_id: str, *, glyphs: Glyphs, question_limit: int = 120,
                    one_line: bool = False) -> tuple[Text, Text]:
    """(question line, participant line) of an answer. ``question_limit`` cuts the question's
    text; ``one_line`` keeps the participant's line to one line, cut with "…" (else it wraps)."""
    r = project.responses[response_id]
    q = project.questions.get(r.question_id)
    part = project.participants.get(r.participant_id)
    question = Text(end="")
    question.append(f"{q.key if q else '?'} ", style="bold reverse")
    question.append(" ")
    question.append_text(plain(q.text if q else "(unknown question)", style="bold",
                               limit=question_limit))
    who = Text(end="", no_wrap=True, overflow="ellipsis") if one_line else Text(end="")
    who.append(part.pid if part else "?", style="bold")
    if part:
        for attr in project.attributes:
            value = part.attrs.get(attr, "")
            who.append(f" {glyphs.bullet} ", style="dim")
            who.append_text(plain(attr, style="dim"))
            who.append(": ", style="dim")
            who.append_text(plain(value) if value else Text(MISSING, style="dim"))
    return question, who


def question_room(width: int, key: str) -> int:
    """How much of a question's text fits in two lines beside its key at ``width``."""
    return max(2 * (width - 2) - len(f"{key}  ") - 1, 20)
