"""What screens ask of the app. A screen never opens another screen itself (screens do not
know each other): it posts one of these, and the app, which owns navigation, does it."""

from __future__ import annotations

from typing import Any, Callable, Literal

from textual.message import Message

#: The screens the app can open by name (see ``TuiqaApp.SCREEN_CLASSES``).
ScreenName = Literal["coding", "codebook", "extracts", "code_edit", "template", "compare", "themes",
                     "theme_review", "map", "versions", "journal", "review", "questions",
                     "agreement", "disagreements", "help"]


class Open(Message):
    """Open the screen called ``screen`` with ``params`` (its constructor's keywords) on top of
    the one in front; ``then`` receives what it is dismissed with."""

    def __init__(self, screen: ScreenName, then: Callable[[Any], None] | None = None,
                 **params: Any) -> None:
        super().__init__()
        self.screen = screen
        self.then = then
        self.params = params


class ShowInContext(Message):
    """Show an answer in the coding screen, the extract selected, on top of the screen in front
    (Backspace comes back)."""

    def __init__(self, response_id: str, start: int = 0, end: int | None = None) -> None:
        super().__init__()
        self.response_id = response_id
        self.start = start
        self.end = end


class Say(Message):
    """A short message for the user: the screen it is posted to shows it in its status line;
    where no screen takes it (a dialog), it reaches the app as a notification."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
