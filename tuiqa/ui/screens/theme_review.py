"""Review a theme: every extract under it (sub-themes included), grouped by code, attributed."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ... import themes as T
from ...model import Coding
from ..base import ListScreen
from ..views import theme_review as view
from ..views.status import status_line


class ThemeReviewScreen(ListScreen):
    HELP_GROUP = "Theme review"
    BINDINGS = [
        Binding("escape,backspace", "back", "Back", id="review_theme.back"),
        Binding("enter,o", "open", "In context", id="review_theme.open"),
        Binding("y", "copy", "Copy quote", id="review_theme.copy"),
        Binding("Y", "copy_all", "Copy all", show=False, id="review_theme.copy_all"),
    ]

    def __init__(self, theme_id: str) -> None:
        super().__init__()
        self.theme_id = theme_id
        self._rows: list[Coding | None] = []  # a coding, or None for a code heading
        self._hint = ""

    def compose(self) -> ComposeResult:
        yield Static(id="review-title")
        yield OptionList(id="review-list", markup=False)
        yield Static(id="review-status")
        yield Footer()

    def redraw(self) -> None:
        self.refresh_list()

    def refresh_list(self) -> None:
        self.drawn()
        node = T.build(self.project).by_id.get(self.theme_id)
        ol = self.query_one(OptionList)
        if node is None:
            self.query_one("#review-title", Static).update(Text(view.GONE, style="bold", end=""))
            ol.clear_options()
            return
        self.query_one("#review-title", Static).update(view.heading(node))
        review = view.review(self.project, self.session, node, self.lens)
        self._rows = [c for c, _ in review.rows]
        ol.set_options([Option(text, disabled=c is None) for c, text in review.rows])
        first = next((i for i, row in enumerate(self._rows) if row is not None), None)
        if first is not None:
            ol.highlighted = first
        self._hint = view.hint(review.codes, review.extracts)
        self.show_message()

    def show_message(self) -> None:
        self.query_one("#review-status", Static).update(status_line(self.message, self._hint))

    def current(self) -> Coding | None:
        return self.highlighted_item(self._rows)

    def action_open(self) -> None:
        c = self.current()
        if c is not None:
            self.show_in_context(c.response_id, c.start, c.end)

    def action_copy(self) -> None:
        c = self.current()
        if c is not None:
            self.copy(self.session.quote(c), "the quote")

    def action_copy_all(self) -> None:
        rows = [r for r in self._rows if r is not None]
        if rows:
            text = "\n".join(self.session.quote(c) for c in rows)
            self.copy(text, f"{len(rows)} quote(s) of this theme")
