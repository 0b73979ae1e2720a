"""The Textual application: screens over an open project and a coder's session.

The app owns navigation: screens ask for another screen, for an answer in context or for a
message to be shown by posting :mod:`.messages`, and the app opens it (screens never import
each other). It also keeps the project in step with other sessions (polling, one place), holds
the blind-coding state (:attr:`TuiqaApp.lens`), runs long work behind a progress bar, and offers
every action in the command palette.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

from rich.markup import escape
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.filter import LineFilter, Monochrome, NoColor
from textual.notifications import Notification, SeverityLevel
from textual.screen import Screen

from ..clipboard import CopyResult
from ..navigation import BY_PARTICIPANT, Navigator
from ..project import Project
from ..session import Session
from ..text import quoted
from . import loading
from .base import ProjectScreen
from .console import ConsoleGlyphs, console_mode
from .keymap import Keymap, check_keymap, keymap_path, read_keymap
from .keyorder import OneKeyAtATime
from .messages import Open, Say, ScreenName, ShowInContext
from .render import glyphs
from .views.lens import Lens

REFRESH_SECONDS = 1.5
#: The terminal's own colours: right on dark and light terminals, in 16 colours, and cheapest on a
#: slow link (no 256-colour codes on every cell). Textual's full-colour themes are in Ctrl+P.
DEFAULT_THEME = "ansi-dark"
#: F3 switches to a full-colour light or dark theme that paints its own background, whatever the
#: terminal's colours (the ANSI themes cannot: they draw in the terminal's own colours).
LIGHT_THEME = "textual-light"
DARK_THEME = "textual-dark"
WELCOME = "Welcome"

#: Every screen the app opens, by name: "module:Class" under ``tuiqa.ui.screens``, imported
#: when first opened (rarely used screens cost nothing at start-up).
SCREEN_CLASSES: dict[str, str] = {
    "coding": "coding:CodingScreen",
    "codebook": "codebook:CodebookScreen",
    "extracts": "extracts:ExtractsScreen",
    "code_edit": "code_edit:CodeEditScreen",
    "template": "template:TemplateScreen",
    "compare": "groups:CompareScreen",
    "themes": "themes:ThemesScreen",
    "theme_review": "theme_review:ThemeReviewScreen",
    "map": "map:MapScreen",
    "versions": "map:VersionsScreen",
    "journal": "journal:JournalScreen",
    "review": "team:ReviewScreen",
    "questions": "team:QuestionsScreen",
    "agreement": "team:AgreementScreen",
    "disagreements": "team:DisagreementScreen",
    "help": "help:HelpScreen",
}
#: The full screens, in the order the help lists their keys.
HELP_ORDER: tuple[ScreenName, ...] = (
    "coding", "codebook", "extracts", "themes", "theme_review", "map", "versions", "compare",
    "journal", "review", "questions", "agreement", "disagreements")


def screen_class(name: str) -> type[Screen]:
    module, cls = SCREEN_CLASSES[name].split(":")
    return getattr(importlib.import_module(f"{__package__}.screens.{module}"), cls)


def screen_classes() -> list[type[ProjectScreen]]:
    """Every full screen, for the help (imported now)."""
    return [cls for cls in map(screen_class, HELP_ORDER) if issubclass(cls, ProjectScreen)]


def binding_groups() -> dict[str, Sequence[Binding]]:
    """The bindings of every screen, dialog and widget of the UI, by its name (imports them
    all: for checking a user's keymap)."""
    import pkgutil

    from . import __path__ as ui_path

    groups: dict[str, Sequence[Binding]] = {}
    for info in pkgutil.walk_packages(ui_path, prefix=f"{__package__}."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__ \
                    and "BINDINGS" in vars(value):
                groups[getattr(value, "HELP_GROUP", "") or value.__name__] = vars(value)["BINDINGS"]
    return groups


class TuiqaApp(OneKeyAtATime, App):
    CSS_PATH = Path(__file__).parent / "app.tcss"
    TITLE = "tuiqa"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("f2,number_sign", "journal", "Journal", id="app.journal"),
        Binding("f3", "toggle_dark", "Light/dark", show=False, id="app.theme"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, id="app.quit2", priority=True),
    ]

    def __init__(self, project: Project, session: Session, *, order: str = BY_PARTICIPANT,
                 blind: bool = False, refresh_seconds: float = REFRESH_SECONDS,
                 welcome: bool = True, keymap: Path | None = None) -> None:
        """Build it with :func:`tuiqa.ui.factory.make_app`."""
        super().__init__()
        self.project = project
        self.session = session
        # blind coding is remembered per coder in the project until turned off on purpose
        self.blind = blind or session.blind
        self._turn_blind_on = blind and not session.blind
        self.glyphs = glyphs()
        self.navigator = Navigator(project, session.coder, order)
        self.refresh_seconds = refresh_seconds
        self.hung_up = False
        self._welcome_wanted = welcome
        self._welcome_note: Notification | None = None
        self.keymap = Keymap(keymap or keymap_path())  # read when the app starts
        #: the notifications shown (the newest last), e.g. for tests and the welcome hint
        self.notices: list[Notification] = []
        self._warned = 0
        self._theme_ready = False
        # Line filters fitted to the terminal (see get_line_filters)
        self._glyph_filter = ConsoleGlyphs() if console_mode() else None
        self._no_color_filters = (NoColor(), Monochrome())
        # Clipboard routes besides OSC 52 (tests replace them with fakes).
        from .. import clipboard

        self.clipboard_system = clipboard.pyperclip_in_child
        self.clipboard_tmux = clipboard.tmux_buffer
        self.last_copy: CopyResult | None = None  # what the last copy to the clipboard did
        self.title = f"tuiqa · {project.dir.name}"
        # What Textual prints after an unhandled error (the traceback) is also kept, for the
        # crash log (see crash_report), and reaches the terminal with its colours but no other
        # control characters (an error message can quote survey text).
        import sys

        from rich.console import Console

        from ..safe_output import SafeStream, styles_only

        self.error_console = Console(markup=False, highlight=False, record=True,
                                     file=SafeStream(sys.__stderr__, styles_only))
        self.sub_title = f"coder {session.coder}" + (" (blind)" if self.blind else "")

    @property
    def lens(self) -> Lens:
        """Whose work this coder sees (blind coding)."""
        return Lens(self.session.coder, self.blind)

    # -- lifecycle ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._install_signal_handlers()
        self._apply_keymap()
        wanted = os.environ.get("TUIQA_THEME") or self.session.ui_theme or DEFAULT_THEME
        self.theme = wanted if wanted in self.available_themes else DEFAULT_THEME
        self._theme_ready = True
        if self._welcome_wanted and not self.session.welcomed and not self.project.readonly:
            self.call_after_refresh(self._welcome)
        if self._turn_blind_on:
            self.call_after_refresh(self.set_blind, True)
        self.push_screen(screen_class("coding")())
        if self.refresh_seconds > 0:
            self.set_interval(self.refresh_seconds, self.poll_project)
        loading.load_in_background(self, self.project, self._loaded)
        self._show_store_warnings()

    def _loaded(self) -> None:
        """A lazy open has finished decoding in the background: redraw with everything."""
        self.redraw_screen()
        self._show_store_warnings()

    def _show_store_warnings(self) -> None:
        warnings = self.project.store.warnings
        for warning in warnings[self._warned:]:
            self.notify(escape(warning), severity="warning", timeout=8)
        self._warned = len(warnings)

    def _apply_keymap(self) -> None:
        """The user's keymap file, if there is one (a bad one is explained; the app opens)."""
        keymap = self.keymap = read_keymap(self.keymap.path)
        if keymap.keys:  # (the screens are imported only for someone with a keymap)
            check_keymap(keymap, binding_groups())
            self.set_keymap(keymap.keys)
        for problem in keymap.problems:
            self.notify(escape(problem), title="Your keymap", severity="error", timeout=20)

    def _install_signal_handlers(self) -> None:
        """An SSH drop or a closed window: SIGHUP (and SIGTERM) end the app, and it is gone within
        2 s even when the terminal has vanished (see tuiqa.hangup for why that needs care).
        Every change is already on disk (journal, fdatasync) by then."""
        from ..hangup import HangUp

        self.hangup = HangUp(self._hang_up)
        try:
            self.hangup.install(asyncio.get_running_loop(), guard_sigcont=not self.is_headless)
        except RuntimeError:  # no running loop
            return
        if self.hangup.terminal_fds and not self.is_headless:
            self.set_interval(2.0, self.hangup.check)  # a terminal gone without a signal

    def crash_report(self) -> str | None:
        """After the app has ended: the traceback of the unhandled error that ended it, as Textual
        showed it, or None if it ended normally (``return_code`` is 1 after such an error)."""
        if not self.return_code:
            return None
        return self.error_console.export_text(clear=False) or "(Textual showed no traceback)\n"

    def _hang_up(self) -> None:
        self.hung_up = True
        self.exit()

    # -- notifications -----------------------------------------------------------------------

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """As Textual's, and kept in :attr:`notices`."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
        self.notices = [n for n in self.notices if not n.has_expired][-50:]
        note = Notification(message, title, severity,
                            self.NOTIFICATION_TIMEOUT if timeout is None else timeout, markup=markup)
        self.notices.append(note)
        if title.startswith(WELCOME):
            self._welcome_note = note

    def _welcome(self) -> None:
        """The first time a coder opens a project: how to start."""
        self.notify(
            "↓ selects a sentence, c codes it, n goes on. ? lists every key, Ctrl+P finds any "
            "action. Everything is saved as you go.",
            title=escape(f"{WELCOME}, {self.session.coder}"), timeout=12)
        try:
            self.session.mark_welcomed()
        except Exception as exc:  # the welcome is not worth failing for
            self.log.warning(f"could not remember the welcome: {exc}")

    def _dismiss_welcome(self) -> None:
        """The hint has done its job once the user opens anything: take it away, leaving any
        other notice up for the rest of its time."""
        note, self._welcome_note = self._welcome_note, None
        if note is None or note.has_expired:
            return
        others = [n for n in self.notices if n is not note and not n.has_expired]
        self.notices = []
        self.clear_notifications()
        for n in others:
            self.notify(n.message, title=n.title, severity=n.severity, timeout=n.time_left,
                        markup=n.markup)

    # -- navigation --------------------------------------------------------------------------

    def push_screen(self, *args, **kwargs):
        self._dismiss_welcome()
        return super().push_screen(*args, **kwargs)

    def open_screen(self, name: ScreenName, then=None, **params: Any) -> None:
        self.push_screen(screen_class(name)(**params), then)

    def on_open(self, message: Open) -> None:
        self.open_screen(message.screen, message.then, **message.params)

    def on_show_in_context(self, message: ShowInContext) -> None:
        self.show_in_context(message.response_id, message.start, message.end)

    def show_in_context(self, response_id: str, start: int = 0, end: int | None = None) -> None:
        """The coding screen on this answer, the extract selected, over the screen in front:
        Backspace comes back."""
        from ..selection import Selection
        from .screens.coding import CodingScreen

        nav = self.navigator
        if not nav.goto(response_id):
            nav.set_filter(None)
            nav.goto(response_id)
            self.notify("The filter was cleared to show this answer", timeout=4)
        screen = CodingScreen(in_context=True)
        response = self.project.responses[response_id]
        screen.selection = Selection(start, end if end is not None else len(response.text))
        self.push_screen(screen)

    def on_say(self, message: Say) -> None:
        """A message no screen took (it was posted to a dialog): a notification."""
        self.notify(escape(message.text))

    def say(self, text: str) -> None:
        """Tell the user: in the status line of the screen in front, else as a notification."""
        if isinstance(self.screen, ProjectScreen):
            self.screen.say(text)
        else:
            self.notify(escape(text))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While long work runs behind its bar, only Esc (stop) and quitting work: nothing else
        may open over it (the palette could start a merge into the project being read)."""
        from .dialogs.progress import ProgressScreen

        if isinstance(self.screen, ProgressScreen) and action != "quit":
            return False
        return super().check_action(action, parameters)

    # -- other sessions' changes ---------------------------------------------------------------

    def poll_project(self) -> None:
        """Pick up other coders' changes (their journals) and show them (every
        ``refresh_seconds``, and after an import or a merge)."""
        if not loading.is_whole(self.project):
            return
        if any(w.group == "long-work" and w.is_running for w in self.workers):
            return  # an export is reading the project on another thread: changes wait for it
        try:
            result = self.project.refresh(self.session.coder)
        except Exception as exc:  # a damaged file written by someone else: say so, keep going
            self.notify(escape(f"Could not read others' changes: {exc}"), severity="error",
                        timeout=10)
            return
        if result.conflicts:
            for c in result.conflicts[:3]:
                self.notify(escape(f"Conflict on {c.kind} {c.field}: kept {quoted(c.kept)}, "
                                   f"{quoted(c.lost)} lost (a later change won)"), severity="warning",
                            timeout=10)
        self._notify_arrivals(result)
        if result.changed:
            self.redraw_screen()

    def _notify_arrivals(self, result) -> None:
        """Work from other machines (a synced folder) is announced as it arrives."""
        notes = self.project.arrival_notes() + self.project.arrival_notes(result)
        if notes:
            self.notify(escape("Arrived: " + "; ".join(notes)), title="From other machines",
                        timeout=8)
        for warning in result.warnings:
            self.notify(escape(warning), severity="warning", timeout=10)

    def redraw_screen(self) -> None:
        """The project (or what this coder may see of it) changed: redraw the screen in front.
        A screen below redraws when it comes back (see ProjectScreen.resumed)."""
        if isinstance(self.screen, ProjectScreen):
            self.screen.project_changed()

    # -- blind coding ----------------------------------------------------------------------------

    def set_blind(self, blind: bool) -> None:
        """Turn blind coding on or off for this coder (remembered), and redraw."""
        self.session.set_blind(blind)
        self.blind = blind
        self.notify("Blind coding: you see only your own work (remembered until you turn it off)"
                    if blind else "Blind coding is off: you now see everyone's work",
                    timeout=6 if blind else 5)
        self.redraw_screen()

    def _ask_blind_off(self) -> None:
        from .actions import confirm_blind_off

        confirm_blind_off(self, lambda: self.set_blind(False))

    # -- the look ----------------------------------------------------------------------------

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, fitted: with ``NO_COLOR``, the colour filter that suits the theme
        in use, and on the Linux console only the glyphs its font has.

        Textual chooses its ``NO_COLOR`` filter once, for the theme an app starts with:
        ``Monochrome`` (greys from true colours) unless that theme uses the terminal's own ANSI
        colours. Our themes do, and ``Monochrome`` turns the terminal's default colours into
        black on black, so the screen went blank. ``NoColor`` leaves the terminal's default
        colours, which is right; F3's full-colour themes want ``Monochrome``.
        """
        filters = list(super().get_line_filters())
        if self.no_color:
            wanted = self._no_color_filters[0 if self.native_ansi_color else 1]
            filters = [wanted if isinstance(f, (NoColor, Monochrome)) else f for f in filters]
        if self._glyph_filter is not None:
            filters.append(self._glyph_filter)
        return filters

    def watch_theme(self, theme: str) -> None:
        """Remember the theme for this coder (not the one it starts with)."""
        if not self._theme_ready or self.project.readonly:
            return
        try:
            self.session.remember_theme(theme)
        except Exception as exc:  # a preference is not worth interrupting anyone for
            self.log.warning(f"could not remember the theme: {exc}")

    def action_toggle_dark(self) -> None:
        self.theme = LIGHT_THEME if self.current_theme.dark else DARK_THEME

    def action_terminal_colours(self) -> None:
        self.theme = DEFAULT_THEME

    # -- actions -----------------------------------------------------------------------------

    def action_help(self) -> None:
        from .screens.help import binding_rows

        keys = self.keymap.keys
        groups = [(cls.HELP_GROUP, binding_rows(cls, keys)) for cls in screen_classes()]
        groups.append(("Everywhere", binding_rows(TuiqaApp, keys)
                       + [("Ctrl+P", "Command palette: every action by name")]))
        intro = ("Read an answer, select an extract (whole answer by default), press c to code it. "
                 "Every change is saved as you make it.")
        self.open_screen("help", groups=groups, intro=intro)

    def action_journal(self) -> None:
        if not isinstance(self.screen, screen_class("journal")):
            self.open_screen("journal")

    # -- long work, behind a progress bar ------------------------------------------------------

    def export(self, fmt: str) -> None:
        """Export in the background with a progress bar (Esc stops it, writing nothing)."""
        from ..exporters import ExportContext, export
        from .dialogs.progress import ProgressScreen

        if self.blind:
            self.notify("Blind coding: exports include everyone's work; turn blind coding off first",
                        severity="warning")
            return

        def work(progress, cancel) -> str:
            ctx = ExportContext(session_coder=self.session.coder, progress=progress, cancel=cancel)
            out = export(self.project, fmt, None, ctx)
            return f"Exported {fmt} to {out}"

        self.push_screen(ProgressScreen(f"Exporting {fmt}…", work))

    def ask_merge(self) -> None:
        from .dialogs.basic import InputScreen

        def chosen(folder: str | None) -> None:
            if folder and folder.strip():
                self.merge(Path(folder.strip()).expanduser())

        self.push_screen(InputScreen("Merge which copy? (its folder)",
                                     hint="Enter merges · Esc cancels · the other copy is only read"),
                         chosen)

    def merge(self, other: Path) -> None:
        """Merge another copy with a progress bar; Esc before the writing starts leaves all as it was."""
        from ..merge import merge_into
        from ..store.store import is_project
        from .dialogs.progress import ProgressScreen

        if not is_project(other):
            self.notify(escape(f"{other} is not a tuiqa project"), severity="error")
            return
        if other.resolve() == self.project.dir.resolve():
            self.notify("That is this project", severity="error")
            return

        def work(progress, cancel) -> str:
            report = merge_into(self.project, other, self.session.coder, progress, cancel)
            return "\n".join(report.lines(other))

        self.push_screen(ProgressScreen(f"Merging {other.name}…", work),
                         lambda _: self.redraw_screen())

    def ask_import(self) -> None:
        from .dialogs.basic import InputScreen

        def chosen(path: str | None) -> None:
            if path and path.strip():
                self.import_survey(Path(path.strip()).expanduser())

        self.push_screen(InputScreen(
            "Import which survey export? (a CSV, TSV or XLSX file)",
            hint="Enter imports · Esc cancels · new participants and questions are added; "
                 "nothing already here changes"), chosen)

    def import_survey(self, path: Path) -> None:
        """Add a survey export's new participants and questions, with a progress bar; Esc
        before the writing starts leaves the project as it was (as ``tuiqa import``)."""
        from ..importers.survey import import_survey
        from ..longwork import Cancelled
        from .dialogs.progress import ProgressScreen

        if not path.is_file():
            self.notify(escape(f"{path} is not a file"), severity="error")
            return
        directory = self.project.dir

        def work(progress, cancel) -> str:
            def step(done: int, total: int) -> None:
                if cancel.is_set():
                    raise Cancelled
                progress(done, total)

            _, lines = import_survey(directory, path, create=False, progress=step)
            # the gist for a notice; `tuiqa import` prints the whole report (every column)
            gist = [lines[0].split(" into ")[0]] + [
                line.strip() for line in lines[1:]
                if line.lstrip().startswith(("participants:", "responses:", "questions ("))]
            return "\n".join(gist)

        self.push_screen(ProgressScreen(f"Importing {path.name}…", work), self._after_long_write)

    async def _after_long_write(self, _: object = None) -> None:
        """Another copy of the project wrote the files (an import, a merge): once its worker has
        ended, read what it wrote, as for another coder's change."""
        from textual.worker import WorkerCancelled, WorkerFailed

        for worker in [w for w in self.workers if w.group == "long-work"]:
            try:
                await worker.wait()
            except (WorkerCancelled, WorkerFailed):  # the failure has been shown already
                pass
        self.poll_project()

    # -- the command palette -------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help: keys", "Every key of every screen", self.action_help)
        yield SystemCommand("Journal: open the reflexive journal", "key F2 or #", self.action_journal)
        yield SystemCommand("Theme: light / dark", "switch between the light and the dark theme (F3)",
                            self.action_toggle_dark)
        yield SystemCommand("Theme: the terminal's own colours",
                            "the default: your terminal's palette and background, in 16 colours",
                            self.action_terminal_colours)
        if self.blind:
            yield SystemCommand("Blind coding: turn it off", "see the other coders' work again",
                                self._ask_blind_off)
        else:
            yield SystemCommand("Blind coding: turn it on", "see only your own work until you turn it off",
                                lambda: self.set_blind(True))
        from ..exporters import load_all

        for fmt in sorted(load_all().values(), key=lambda f: f.name):
            yield SystemCommand(f"Export: {fmt.name}", fmt.description,
                                lambda fmt=fmt: self.export(fmt.name))
        if not self.project.readonly:
            yield SystemCommand("Merge: bring in another copy of this project…",
                                "a colleague's copy, or yours from a laptop (tuiqa merge)", self.ask_merge)
            yield SystemCommand("Import: add participants or questions from a survey export…",
                                "CSV, TSV or XLSX; what is here already stays (tuiqa import)",
                                self.ask_import)
        if not isinstance(screen, ProjectScreen) or not screen.HELP_GROUP:
            return
        for binding in type(screen).BINDINGS:
            if not isinstance(binding, Binding) or binding.action.startswith("recent"):
                continue
            action = binding.action
            keys = self.keymap.keys.get(binding.id or "", binding.key)

            def run(action: str = action, screen: Screen = screen) -> None:
                self.call_later(screen.run_action, action)

            yield SystemCommand(f"{screen.HELP_GROUP}: {binding.description}",
                                f"key {keys.split(',')[0]}", run)
