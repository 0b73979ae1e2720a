"""Review a theme: every extract under it (sub-themes included), grouped by code, attributed."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ... import codebook
from ... import themes as T
from ...colours import colour_for
from ...text import display_text
from ..render import plain
from ..widgets.highlighted import highlighted
from .project_view import ProjectView


class ThemeReviewScreen(ProjectView, Screen):
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
        self._rows: list[object] = []  # a coding, or None for a code heading
        self._message = ""

    def compose(self) -> ComposeResult:
        yield Static(id="review-title")
        yield OptionList(id="review-list", markup=False)
        yield Static(id="review-status")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_list()
        self.query_one(OptionList).focus()

    def redraw(self) -> None:
        self.refresh_list()

    def refresh_list(self) -> None:
        self.drawn()
        app = self.app
        project = app.project  # type: ignore[attr-defined]
        m = T.build(project)
        node = m.by_id.get(self.theme_id)
        title = Text(end="")
        ol = self.query_one(OptionList)
        if node is None:
            title.append("This theme no longer exists", style="bold")
            self.query_one("#review-title", Static).update(title)
            ol.clear_options()
            return
        t = node.theme
        title.append_text(plain(t.name, style="bold"))
        title.append(f"  {node.level} · {t.status}", style="dim")
        if t.concept:
            title.append("\nConcept: ", style="bold")
            title.append_text(plain(t.concept, limit=200))
        if t.description:
            title.append("\n")
            title.append_text(plain(t.description, style="italic", limit=300))
        self.query_one("#review-title", Static).update(title)
        options: list[Option] = []
        self._rows = []
        codes = sorted(node.all_code_ids(), key=lambda cid: project.code_name(cid).casefold())
        for cid in codes:
            extracts = codebook.extracts_of(project, cid, app.visible_coder)  # type: ignore[attr-defined]
            code = project.code(cid)
            heading = plain(f"{code.name if code else '?'} · {len(extracts)} extract(s)",
                            style=f"bold underline {colour_for(cid, code.colour if code else '')}")
            options.append(Option(heading, disabled=True))
            self._rows.append(None)
            for c in extracts:
                r = project.responses[c.response_id]
                line = Text("  ")
                line.append(display_text(" ".join(r.text[c.start:c.end].split())))
                line.append("  ")
                line.append_text(plain(app.session.attribution(r), style="dim"))  # type: ignore[attr-defined]
                options.append(Option(line))
                self._rows.append(c)
        ol.set_options(options)
        first = next((i for i, row in enumerate(self._rows) if row is not None), None)
        if first is not None:
            ol.highlighted = first
        self._update_status(len(codes), sum(1 for r in self._rows if r is not None))

    def _update_status(self, codes: int = 0, extracts: int = 0) -> None:
        status = Text(end="", no_wrap=not self._message, overflow="ellipsis")
        if self._message:
            status.append_text(plain(self._message, style="italic"))
        else:
            status.append(f"{codes} code(s), {extracts} extract(s) · Enter in context · y copy · Y copy all",
                          style="dim")
        self.query_one("#review-status", Static).update(status)

    def say(self, message: str) -> None:
        self._message = message
        self._update_status()

    def current(self):
        return highlighted(self.query_one(OptionList), self._rows)

    @on(OptionList.OptionSelected)
    def _selected(self, event) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        from .extracts import open_in_context

        c = self.current()
        if c is not None:
            open_in_context(self.app, c.response_id, c.start, c.end)

    def action_copy(self) -> None:
        from ..clip import copy_text

        c = self.current()
        if c is not None:
            copy_text(self.app, self.app.session.quote(c), "the quote")  # type: ignore[attr-defined]

    def action_copy_all(self) -> None:
        from ..clip import copy_text

        rows = [r for r in self._rows if r is not None]
        if rows:
            text = "\n".join(self.app.session.quote(c) for c in rows)  # type: ignore[attr-defined]
            copy_text(self.app, text, f"{len(rows)} quote(s) of this theme")

    def action_back(self) -> None:
        self.app.pop_screen()
