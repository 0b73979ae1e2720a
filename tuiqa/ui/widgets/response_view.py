"""The answer being coded: its text with coded extracts and the current selection."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from ..render import Glyphs, Mark, UNICODE, line_of_offset, offset_at, response_text


class ResponseView(VerticalScroll, can_focus=True):
    """Scrollable, read-only view of one response. Keys are handled by the coding screen.

    The mouse is welcome, never needed: the wheel scrolls, a click asks for the sentence under
    the pointer, a shift-click for the selection to grow to it (:class:`Clicked`).
    """

    class Clicked(Message):
        def __init__(self, offset: int, extend: bool) -> None:
            super().__init__()
            self.offset = offset
            self.extend = extend

    DEFAULT_CSS = """
    ResponseView { height: 1fr; padding: 0 1; }
    ResponseView > #response-body { width: 100%; }
    """

    def __init__(self, *, id: str | None = None, glyphs: Glyphs = UNICODE) -> None:
        super().__init__(id=id)
        self.glyphs = glyphs
        self._body = Static("", id="response-body")
        self._text = ""
        self._sel = (0, 0)
        self._key: tuple | None = None
        self._shown = ""
        self._sources: list[int] = []

    def compose(self):
        yield self._body

    def show(self, text: str, marks: list[Mark], sel_start: int, sel_end: int, *,
             response_key: str) -> None:
        show_sel = not (sel_start == 0 and sel_end == len(text))
        key = (response_key, text, tuple(marks), sel_start, sel_end)
        if key == self._key:
            return
        moved = self._key is None or self._key[0] != response_key
        self._key = key
        self._text = text
        self._sel = (sel_start, sel_end)
        sources: list[int] = []
        rendered: Text = response_text(text, marks, sel_start, sel_end, show_selection=show_sel,
                                       g=self.glyphs, sources=sources)
        self._shown, self._sources = rendered.plain, sources
        self._body.update(rendered)
        if moved:
            self.scroll_home(animate=False)
        elif show_sel:
            self.call_after_refresh(self._keep_selection_visible)

    def _keep_selection_visible(self) -> None:
        width = max(self._body.content_region.width, 10)  # the text wraps at the body's width
        top = line_of_offset(self._text, self._sel[0], width)
        bottom = line_of_offset(self._text, self._sel[1], width)
        height = max(self.content_region.height, 1)
        y = self.scroll_y
        if top < y:
            self.scroll_to(y=top, animate=False)
        elif bottom >= y + height:
            self.scroll_to(y=max(top, bottom - height + 1), animate=False)

    def on_click(self, event: events.Click) -> None:
        if not self._text:
            return
        where = event.get_content_offset(self._body)
        if where is None:
            return
        offset = offset_at(self._shown, self._sources, where.x, where.y,
                           self._body.content_region.width)
        if offset is not None:
            self.post_message(self.Clicked(offset, extend=event.shift))
