"""The Textual application: screens over an open project and a coder's session."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Iterable

from rich.markup import escape
from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from ..navigation import BY_PARTICIPANT, Navigator
from ..project import Project
from ..session import Session
from .console import ConsoleGlyphs, console_mode
from .render import glyphs
from .screens.coding import CodingScreen

REFRESH_SECONDS = 1.5
#: The terminal's own colours: right on dark and light terminals, in 16 colours, and cheapest on a
#: slow link (no 256-colour codes on every cell). Textual's full-colour themes are in Ctrl+P.
DEFAULT_THEME = "ansi-dark"
#: F3 switches to a full-colour light or dark theme that paints its own background, whatever the
#: terminal's colours (the ANSI themes cannot: they draw in the terminal's own colours).
LIGHT_THEME = "textual-light"
DARK_THEME = "textual-dark"


class TuiqaApp(App):
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
                 welcome: bool = True) -> None:
        super().__init__()
        self.project = project
        self.session = session
        # blind coding is remembered per coder in the project until turned off on purpose
        self.blind = blind or session.blind
        self._turn_blind_on = blind and not session.blind
        self.glyphs = glyphs()
        if console_mode():  # the Linux console: every painted line uses only its font's glyphs
            self._filters.append(ConsoleGlyphs())
        self.navigator = Navigator(project, session.coder, order)
        self.refresh_seconds = refresh_seconds
        self.hung_up = False
        self._welcome_wanted = welcome
        from collections import deque

        self._keys: deque[events.Key] = deque()  # keys waiting their turn (see _next_key)
        self._key_busy = False
        self._key_token: object | None = None
        self._key_waiter: asyncio.Task | None = None
        # Clipboard routes besides OSC 52 (tests replace them with fakes).
        from .. import clipboard

        self.clipboard_system = clipboard.pyperclip_in_child
        self.clipboard_tmux = clipboard.tmux_buffer
        self.last_copy = None
        self.title = f"tuiqa · {project.dir.name}"
        self.sub_title = f"coder {session.coder}" + (" (blind)" if self.blind else "")

    # -- keys, one at a time ---------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            self._keys.append(event)
            if not self._key_busy:
                await self._next_key()
            return
        await super().on_event(event)

    async def _next_key(self) -> None:
        """Hand on the next waiting key, and arrange to hear when it has been dealt with.

        Textual hands each key to the focused widget's queue and goes straight on to the next;
        a key that no widget wants comes back to the app, behind the keys that followed it, and
        only then runs its binding. Over a slow link a burst ("c", "hope", Enter) arrives in one
        read, so the letters reached the coding screen (where `u` undoes, `x` uncodes and `t`
        opens the themes) before `c` had opened the picker, and Enter chose from an empty query.
        Here a key is handed on only when the one before it is finished: every widget of the
        screen has worked through what it had, and its binding (if it came back) has run.
        """
        if not self._keys:
            self._key_busy = False
            return
        self._key_busy = True
        event = self._keys.popleft()
        await super().on_event(event)
        token = object()
        self._key_token = token
        self._key_waiter = asyncio.create_task(self._when_handled(token))

    async def _when_handled(self, token: object, timeout: float = 2.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            first = True
            while loop.time() < deadline:
                try:
                    widgets = list(self.screen.walk_children(with_self=True))
                except Exception:  # no screen: shutting down
                    break
                # Textual's private queue (pinned version). A pump with nothing queued has
                # finished what it was given, unless it is still being mounted (that runs before
                # its queue); the first round waits on the focused widget and the screen too,
                # which were handed the key.
                pumps = [w for w in widgets
                         if getattr(w, "_message_queue", None) is not None
                         and (not w._message_queue.empty() or not w.is_mounted)]
                if first:
                    first = False
                    for pump in (self.focused, self.screen):
                        if pump is not None and pump not in pumps:
                            pumps.append(pump)
                if not pumps:
                    break
                pending = 0
                drained = asyncio.Event()

                def tick() -> None:
                    nonlocal pending
                    pending -= 1
                    if pending == 0:
                        drained.set()

                for pump in pumps:  # each runs tick after what it is doing and has queued
                    if pump.call_later(tick):
                        pending += 1
                if pending:
                    try:
                        await asyncio.wait_for(drained.wait(), max(deadline - loop.time(), 0.001))
                    except asyncio.TimeoutError:
                        break
                else:  # none could take a message yet (still starting): let them get on
                    await asyncio.sleep(0.005)
        finally:
            # behind anything the key sent back to the app, so its binding runs first
            self.call_later(self._key_handled, token)

    async def _key_handled(self, token: object) -> None:
        if token is self._key_token:
            await self._next_key()

    # -- lifecycle ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._install_signal_handlers()
        pref = self.project.coder_pref(self.session.coder)
        wanted = os.environ.get("TUIQA_THEME") or (pref.ui_theme if pref is not None else "") or DEFAULT_THEME
        self.theme = wanted if wanted in self.available_themes else DEFAULT_THEME
        self._theme_ready = True
        if self._welcome_wanted and not (pref is not None and pref.welcomed) \
                and not self.project.store.readonly:
            self.call_after_refresh(self._welcome)
        if self._turn_blind_on:
            self.call_after_refresh(self._remember_blind)
        self.push_screen(CodingScreen())
        if self.refresh_seconds > 0:
            self.set_interval(self.refresh_seconds, self.poll_project)
        if self.project.loading:
            # After the first paint, decode the rest of the project in the background. A short
            # timer, not call_after_refresh: "after refresh" can still come before the frame is
            # written, and the decoding thread then holds the GIL while the first frame waits
            # (bench: open_ratio ~2.1 -> ~1.7, ready_s +0.04 s).
            self.set_timer(0.04, self.project.start_loading)
            self._load_timer = self.set_interval(0.05, self._check_loaded)

    def _check_loaded(self) -> None:
        """A lazy open finished decoding in the background: swap it in and redraw."""
        if self.project.try_complete():
            self._load_timer.stop()
            self.redraw_screen()
        for warning in self.project.store.warnings:
            self.notify(escape(warning), severity="warning", timeout=8)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While long work runs behind its bar, only Esc (stop) and quitting work: nothing else
        may open over it (the palette could start a merge into the project being read)."""
        from .screens.progress import ProgressScreen

        if isinstance(self.screen, ProgressScreen) and action != "quit":
            return False
        return super().check_action(action, parameters)

    def push_screen(self, *args, **kwargs):
        self._dismiss_welcome()  # the hint has done its job once the user opens anything
        return super().push_screen(*args, **kwargs)

    def _dismiss_welcome(self) -> None:
        for note in list(self._notifications):
            if (note.title or "").startswith("Welcome"):
                self._unnotify(note)

    def _welcome(self) -> None:
        """The first time a coder opens a project: how to start."""
        self.notify(
            "↓ selects a sentence, c codes it, n goes on. ? lists every key, Ctrl+P finds any "
            "action. Everything is saved as you go.",
            title=escape(f"Welcome, {self.session.coder}"), timeout=12)
        from ..model import CoderPref

        change = self.project.change("welcomed")
        change.create(CoderPref, CoderPref.make_id(self.session.coder), record=False,
                      coder=self.session.coder, welcomed=True)
        try:
            self.project.commit(change, self.session.coder)
        except Exception as exc:  # the welcome is not worth failing for
            self.log.warning(f"could not remember the welcome: {exc}")

    def _remember_blind(self) -> None:
        self.session.set_blind(True)
        self.notify("Blind coding: you see only your own work (remembered until you turn it off)",
                    timeout=6)

    def _install_signal_handlers(self) -> None:
        """An SSH drop sends SIGHUP, which Textual does not catch: exit cleanly instead of dying.
        Every change is already on disk (journal, fdatasync) by then."""
        try:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGHUP, signal.SIGTERM):
                loop.add_signal_handler(sig, self._hang_up)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            pass

    def _hang_up(self) -> None:
        self.hung_up = True
        self.exit()

    def poll_project(self) -> None:
        """Pick up other coders' changes (their journals) and show them."""
        if not self.project.try_complete():
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
                self.notify(escape(f"Conflict on {c.kind} {c.field}: kept {c.kept!r}, "
                                   f"{c.lost!r} lost (a later change won)"), severity="warning",
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
        A screen below redraws when it comes back (see ProjectView)."""
        handler = getattr(self.screen, "project_changed", None)
        if handler is not None:
            handler()

    @property
    def visible_coder(self) -> str | None:
        """Whose codings counts and lists show: only yours in blind mode, else everyone's."""
        return self.session.coder if self.blind else None

    # -- actions -----------------------------------------------------------------------------

    def action_help(self) -> None:
        from .screens.help import HelpScreen, binding_rows

        groups = [(cls.HELP_GROUP, binding_rows(cls)) for cls in screen_classes()]
        groups.append(("Everywhere", binding_rows(TuiqaApp)
                       + [("Ctrl+P", "Command palette: every action by name")]))
        intro = ("Read an answer, select an extract (whole answer by default), press c to code it. "
                 "Every change is saved as you make it.")
        self.push_screen(HelpScreen(groups, intro))

    def export(self, fmt: str) -> None:
        """Export in the background with a progress bar (Esc stops it, writing nothing)."""
        from ..exporters import ExportContext, export
        from .screens.progress import ProgressScreen

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
        from .screens.dialogs import InputScreen

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
        from .screens.progress import ProgressScreen

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
        from .screens.dialogs import InputScreen

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
        from .screens.progress import ProgressScreen

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

    def _fit_no_color_filter(self) -> None:
        """With ``NO_COLOR``, strip colours in the way that suits the theme now in use.

        Textual chooses its filter once, for the theme an app starts with: ``Monochrome`` (greys
        from true colours) unless that theme uses the terminal's own ANSI colours. Our themes do,
        and ``Monochrome`` turns the terminal's default colours into black on black, so the
        screen went blank. ``NoColor`` leaves the terminal's default colours, which is right.
        """
        if not self.no_color:
            return
        from textual.filter import Monochrome, NoColor

        wanted = NoColor if self.native_ansi_color else Monochrome
        self._filters[:] = [wanted() if isinstance(f, (NoColor, Monochrome)) else f
                            for f in self._filters]

    def watch_theme(self, theme: str) -> None:
        """Fit the NO_COLOR filter to the theme; remember the theme for this coder."""
        self._fit_no_color_filter()
        if not getattr(self, "_theme_ready", False) or self.project.store.readonly:
            return
        pref = self.project.coder_pref(self.session.coder)
        if pref is not None and pref.ui_theme == theme:
            return
        from ..model import CoderPref

        change = self.project.change("theme")
        change.create(CoderPref, CoderPref.make_id(self.session.coder), record=False,
                      coder=self.session.coder, ui_theme=theme)
        try:
            self.project.commit(change, self.session.coder)
        except Exception as exc:  # a preference is not worth interrupting anyone for
            self.log.warning(f"could not remember the theme: {exc}")

    def action_toggle_dark(self) -> None:
        self.theme = LIGHT_THEME if self.current_theme.dark else DARK_THEME

    def action_terminal_colours(self) -> None:
        self.theme = DEFAULT_THEME

    def _blind_on(self) -> None:
        self.blind = True
        self._remember_blind()
        self.redraw_screen()

    def action_journal(self) -> None:
        from .screens.journal import JournalScreen

        if not isinstance(self.screen, JournalScreen):
            self.push_screen(JournalScreen())

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
            from .screens.team import confirm_blind_off

            yield SystemCommand("Blind coding: turn it off", "see the other coders' work again",
                                lambda: confirm_blind_off(self))
        else:
            yield SystemCommand("Blind coding: turn it on", "see only your own work until you turn it off",
                                self._blind_on)
        from ..exporters import load_all

        for fmt in sorted(load_all().values(), key=lambda f: f.name):
            yield SystemCommand(f"Export: {fmt.name}", fmt.description,
                                lambda fmt=fmt: self.export(fmt.name))
        if not self.project.store.readonly:
            yield SystemCommand("Merge: bring in another copy of this project…",
                                "a colleague's copy, or yours from a laptop (tuiqa merge)", self.ask_merge)
            yield SystemCommand("Import: add participants or questions from a survey export…",
                                "CSV, TSV or XLSX; what is here already stays (tuiqa import)",
                                self.ask_import)
        group = getattr(type(screen), "HELP_GROUP", None)
        if group is None:
            return
        for binding in type(screen).BINDINGS:
            if not isinstance(binding, Binding) or binding.action.startswith("recent"):
                continue
            action = binding.action

            def run(action: str = action, screen: Screen = screen) -> None:
                self.call_later(screen.run_action, action)

            yield SystemCommand(f"{group}: {binding.description}",
                                f"key {binding.key.split(',')[0]}", run)


def screen_classes() -> list[type]:
    """Every full screen, for the help and the palette (imported here, not at start-up)."""
    from .screens.codebook import CodebookScreen
    from .screens.extracts import ExtractsScreen
    from .screens.groups import CompareScreen
    from .screens.journal import JournalScreen
    from .screens.map import MapScreen, VersionsScreen
    from .screens.theme_review import ThemeReviewScreen
    from .screens.team import AgreementScreen, DisagreementScreen, QuestionsScreen, ReviewScreen
    from .screens.themes import ThemesScreen

    return [CodingScreen, CodebookScreen, ExtractsScreen, ThemesScreen, ThemeReviewScreen,
            MapScreen, VersionsScreen, CompareScreen, JournalScreen, ReviewScreen, QuestionsScreen,
            AgreementScreen, DisagreementScreen]
