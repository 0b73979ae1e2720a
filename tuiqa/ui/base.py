"""What every screen stands on: typed access to the project, the session and the navigator,
going back, saying something, and keeping in step with other sessions' changes.

A screen subclasses :class:`ProjectScreen` (a full screen) or :class:`ProjectModal` (a dialog
over one). It asks the app for another screen with :meth:`ProjectScreen.open` (a message: screens
never import each other), and draws what a view in :mod:`tuiqa.ui.views` computes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, ClassVar, Sequence, TypeVar, cast

from textual import on
from textual.screen import ModalScreen, Screen
from textual.widgets import OptionList

from .messages import Open, Say, ScreenName, ShowInContext
from .views.lens import Lens

if TYPE_CHECKING:
    from ..navigation import Navigator
    from ..project import Project
    from ..session import Session
    from .app import TuiqaApp
    from .render import Glyphs

R = TypeVar("R")
T = TypeVar("T")


class AppAccess:
    """Typed access to what the app holds (mixed into screens and dialogs)."""

    app: Any  # (Textual's: a screen's app)

    @property
    def tapp(self) -> TuiqaApp:
        return cast("TuiqaApp", self.app)

    @property
    def project(self) -> Project:
        return self.tapp.project

    @property
    def session(self) -> Session:
        return self.tapp.session

    @property
    def navigator(self) -> Navigator:
        return self.tapp.navigator

    @property
    def lens(self) -> Lens:
        """Whose work this coder may see (blind coding)."""
        return self.tapp.lens

    @property
    def glyphs(self) -> Glyphs:
        return self.tapp.glyphs


class ProjectScreen(AppAccess, Screen):
    """A full screen drawn from the project.

    A screen implements :meth:`redraw` (which calls :meth:`drawn`). Another session's change
    redraws the screen in front at once (:meth:`project_changed`); a screen coming back from
    under another redraws only if the project changed meanwhile (:meth:`resumed`). A message
    (:meth:`say`) goes to the screen's status line, repainted by :meth:`show_message`.
    """

    #: The heading of this screen's keys in the help and the command palette.
    HELP_GROUP: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self.message = ""
        self._seen_generation: int | None = None

    # -- drawing ---------------------------------------------------------------------------

    def redraw(self) -> None:
        raise NotImplementedError

    def drawn(self) -> None:
        """Note the project as drawn (called by :meth:`redraw`)."""
        self._seen_generation = self.project.generation

    def project_changed(self) -> None:
        """Another session's change (or one made behind this screen) arrived."""
        self.redraw()

    def resumed(self) -> None:
        """Back in front: redraw if the project changed while another screen was on top."""
        if self._seen_generation != self.project.generation:
            self.redraw()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.resumed()

    # -- the status line -------------------------------------------------------------------

    def say(self, message: str) -> None:
        self.message = message
        self.show_message()

    def show_message(self) -> None:
        """Repaint what shows :attr:`message` (the whole screen unless a screen says less)."""
        self.redraw()

    def on_say(self, message: Say) -> None:
        message.stop()
        self.say(message.text)

    def refuse_if_blind(self, what: str) -> bool:
        """True (and says why) when ``what`` shows other coders' work and this coder is blind."""
        refusal = self.lens.refusal(what)
        if refusal:
            self.say(refusal)
        return refusal is not None

    # -- going places ----------------------------------------------------------------------

    def open(self, screen: ScreenName, then: Callable[[Any], None] | None = None,
             **params: Any) -> None:
        """Ask the app for another screen on top of this one."""
        self.app.post_message(Open(screen, then, **params))

    def show_in_context(self, response_id: str, start: int = 0, end: int | None = None) -> None:
        self.app.post_message(ShowInContext(response_id, start, end))

    def copy(self, text: str, what: str) -> None:
        """Copy to the clipboard; this screen says which routes took it."""
        from .clip import copy_text

        copy_text(self.tapp, text, what)

    def action_back(self) -> None:
        self.app.pop_screen()


class ListScreen(ProjectScreen):
    """A screen around one list (an ``OptionList``, one row per item): drawn when mounted with
    the list focused; Enter or a click on a row is :meth:`row_chosen` (open it, by default)."""

    def on_mount(self) -> None:
        self.redraw()
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _row_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.row_chosen()

    def row_chosen(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        """Open the highlighted item (each list screen says what that means)."""

    def highlighted_item(self, items: Sequence[T]) -> T | None:
        """``items[i]`` for the highlighted row ``i`` (None when nothing is highlighted)."""
        from .widgets.lists import highlighted

        return highlighted(self.query_one(OptionList), items)


class ProjectModal(AppAccess, ModalScreen[R]):
    """A dialog over a screen, with the same typed access."""
