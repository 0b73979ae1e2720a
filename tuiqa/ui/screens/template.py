"""Set the project's quote attribution template, with a live preview on real participants."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from ... import quotes
from ..base import ProjectModal


class TemplateScreen(ProjectModal[str]):
    """Dismissed with what saving did (for the screen below to say), or "" when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="template.cancel")]

    def compose(self) -> ComposeResult:
        session = self.session
        attrs = self.project.attributes
        with Vertical(id="template", classes="dialog"):
            yield Static(Text("Quote attribution template", style="bold"))
            yield Static(Text(
                "Fields: {participant} " + " ".join("{" + a + "}" for a in attrs) + ". "
                "Transforms: {Setting|lower}, |title, |upper. A [...] group vanishes when its fields "
                "are empty. Default: " + quotes.default_template(attrs), style="dim"))
            inp = Input(session.quote_template, id="template-input")
            inp.cursor_blink = False
            yield inp
            yield Static(id="template-preview")
            yield Static(Text("Enter saves · Esc cancels", style="dim"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._preview(self.query_one(Input).value)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._preview(event.value)

    def _preview(self, template: str) -> None:
        project = self.project
        out = Text()
        try:
            quotes.parse(template, project.attributes)
        except quotes.TemplateError as exc:
            out.append(str(exc), style="bold red")
        else:
            for part in project.participants_in_order()[:4]:
                line = quotes.attribution(template, project.attributes, part.pid, part.attrs)
                out.append(quotes.quote("…", line) + "\n")
        self.query_one("#template-preview", Static).update(out)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            outcome = self.session.set_quote_template(event.value)
        except quotes.TemplateError:
            return  # the preview already says what is wrong
        self.dismiss(outcome.message)

    def action_cancel(self) -> None:
        self.dismiss("")
