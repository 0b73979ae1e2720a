"""The status line under a list: the last message, else what to press."""

from __future__ import annotations

from rich.text import Text

from ..render import plain


def status_line(message: str, hint: str | Text) -> Text:
    """``message`` (wrapping if long), else ``hint`` (dim, on one line)."""
    text = Text(end="", no_wrap=not message, overflow="ellipsis")
    if message:
        text.append_text(plain(message, style="italic"))
    elif isinstance(hint, Text):
        text.append_text(hint)
    else:
        text.append(hint, style="dim")
    return text
