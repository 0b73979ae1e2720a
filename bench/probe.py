"""Run inside a fresh process by bench/run.py: start an app headless and time it from within.

    python bench/probe.py floor                 a minimal Textual app (Header + Footer)
    python bench/probe.py floor-tty             the same in a real terminal, until killed
    python bench/probe.py open DIR [--keys N]   tuiqa on DIR: first paint, N next-response keys,
                                                N code applications, peak memory

Prints one JSON object on stdout. Times are taken with a frame hook (``App._display``, the
method Textual calls with each rendered frame; pinned Textual version), never with the test
pilot, whose key presses add ~84 ms of waiting each.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIZE = (80, 24)


def _rss_mb() -> float:
    """Peak resident memory of this process. VmHWM, not ru_maxrss: on Linux ru_maxrss carries
    over the parent's peak through fork and exec, so a child of a big parent looks big."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def floor() -> dict:
    from textual.app import App
    from textual.widgets import Footer, Header

    out: dict = {}

    class Floor(App):
        def compose(self):
            yield Header()
            yield Footer()

        def _display(self, screen, renderable):
            if renderable is not None and "first_paint" not in out:
                out["first_paint"] = time.time()
                self.call_later(self.exit)
            super()._display(screen, renderable)

    Floor().run(headless=True, size=SIZE)
    out["rss_mb"] = _rss_mb()
    return out


def open_project(directory: str, keys: int) -> dict:
    # tuiqa.ui first, exactly as `tuiqa open` imports it (it sets Textual's frame rate)
    from tuiqa.ui.app import TuiqaApp
    from tuiqa.ui.factory import make_app
    from tuiqa.ui.screens.coding import CodingScreen

    from textual import events

    from tuiqa.project import Project

    out: dict = {"next_ms": [], "tag_ms": []}
    frame = asyncio.Event()

    class Probe(TuiqaApp):
        def _display(self, screen, renderable):
            if renderable is not None:
                if "first_paint" not in out and isinstance(screen, CodingScreen) \
                        and screen.is_mounted and screen.nav.current is not None:
                    out["first_paint"] = time.time()
                    self.set_timer(0.3, self.start_probe)
                self.frame_screen = screen
                frame.set()
            super()._display(screen, renderable)

        def start_probe(self) -> None:
            # A task of its own, and this callback returns nothing: Textual awaits an awaitable
            # that a callback returns, which would block the very message loop that has to
            # handle the keys and draw the frames.
            self._probe_task = asyncio.get_running_loop().create_task(self.run_probe())

        async def run_probe(self) -> None:
            while self.project.loading:  # the rest of a lazy open, decoded in the background
                await asyncio.sleep(0.01)
            out["ready"] = time.time()
            for _ in range(keys):
                frame.clear()
                t0 = time.perf_counter()
                self.post_message(events.Key("n", "n"))
                await frame.wait()
                out["next_ms"].append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.01)
            session = self.session
            code_ids = [c.id for c in self.project.codes()[:50]]
            responses = self.navigator.sequence
            for i in range(keys):
                rid = responses[(i * 7919) % len(responses)]
                text = self.project.responses[rid].text
                t0 = time.perf_counter()
                session.apply_codes(rid, 0, len(text), [code_ids[i % len(code_ids)]])
                out["tag_ms"].append((time.perf_counter() - t0) * 1000)
            await self.measure_codebook()
            await self.measure_themes()
            out["rss_mb"] = _rss_mb()
            self.exit()

        async def press(self, key: str, character: str | None = None) -> float:
            """Post a key as the terminal would and time it to the frame it causes (ms)."""
            frame.clear()
            t0 = time.perf_counter()
            self.post_message(events.Key(key, character))
            await frame.wait()
            return (time.perf_counter() - t0) * 1000

        async def until_screen(self, key: str, screen_class) -> float:
            """Time from a key to the first frame of the screen it opens (ms)."""
            frame.clear()
            t0 = time.perf_counter()
            self.post_message(events.Key(key, key))
            while True:
                await frame.wait()
                frame.clear()
                if isinstance(self.frame_screen, screen_class):
                    return (time.perf_counter() - t0) * 1000

        async def measure_themes(self) -> None:
            from tuiqa.ui.screens.coding import CodingScreen
            from tuiqa.ui.screens.themes import ThemesScreen

            while not isinstance(self.screen, CodingScreen):
                self.pop_screen()
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.2)
            out["themes_open_ms"] = await self.until_screen("t", ThemesScreen)

        async def measure_codebook(self) -> None:
            from tuiqa.ui.screens.codebook import CodebookScreen

            # time from the key to the first frame that shows the codebook
            frame.clear()
            t0 = time.perf_counter()
            self.post_message(events.Key("b", "b"))
            while True:
                await frame.wait()
                frame.clear()
                if isinstance(self.frame_screen, CodebookScreen):
                    break
            out["codebook_open_ms"] = (time.perf_counter() - t0) * 1000
            await asyncio.sleep(0.2)
            await self.press("slash", "/")
            await asyncio.sleep(0.05)
            times = []
            for ch in "hope ti" * 3:
                times.append(await self.press("space" if ch == " " else ch, ch))
                await asyncio.sleep(0.02)
                if ch == "i":  # clear and start again
                    for _ in range(7):
                        await self.press("backspace")
                        await asyncio.sleep(0.02)
            out["codebook_filter_ms"] = times

    project = Project.open(directory, lazy=True)
    try:
        app = make_app(project, "bench", refresh_seconds=0, app_class=Probe)
        app.run(headless=True, size=SIZE)
    finally:
        project.close(compact=False)
    return out


def floor_tty() -> None:
    """The floor app in a real terminal, for ``pty_bytes.time_to_screen`` (marker ``FLOOR``)."""
    from textual.app import App
    from textual.widgets import Footer, Header

    class Floor(App):
        TITLE = "FLOOR"

        def compose(self):
            yield Header()
            yield Footer()

    Floor().run(size=SIZE)


def main() -> int:
    mode = sys.argv[1]
    if mode == "floor-tty":
        floor_tty()  # killed by the bench once its first screen is on the terminal
        return 0
    if mode == "floor":
        result = floor()
    else:
        keys = int(sys.argv[sys.argv.index("--keys") + 1]) if "--keys" in sys.argv else 50
        result = open_project(sys.argv[2], keys)
    result["pid"] = os.getpid()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
