"""The real app in real terminals (issue 8): a pseudo-terminal per TERM, the Linux console's
glyphs, and tmux at 80×24 read back from the screen the way a user sees it.

These start ``python -m tuiqa`` as a separate process, so they test the installed entry point,
the terminal set-up and tear-down, and key handling through a tty, not only the pilot.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
import uuid
from pathlib import Path

import pytest

from tuiqa.project import Project
from tuiqa.ui.console import CP437

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

ROOT = Path(__file__).resolve().parent.parent

# Escape sequences: CSI, OSC (ended by BEL or ST), DCS/APC strings, charset picks, the rest.
ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
                     r"|\x1b[P_^][^\x1b]*\x1b\\|\x1b[()][0-9A-Za-z]|\x1b[@-Z\\-_=>78]")


def child_env(term: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TMUX", "STY", "TEXTUAL"))}
    env.update({"TERM": term, "TUIQA_CODER": "lead", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")})
    env.pop("NO_COLOR", None)
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    env.update(extra)
    return env


class Pty:
    """``tuiqa open`` in a pseudo-terminal of the given size, with everything it writes kept."""

    def __init__(self, project: Path, term: str, size=(80, 24), **env: str) -> None:
        import pty

        self.out = bytearray()
        pid, fd = pty.fork()
        if pid == 0:  # the child: become the app
            os.execve(sys.executable, [sys.executable, "-m", "tuiqa", "open", str(project)],
                      child_env(term, **env))
        cols, rows = size
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.pid, self.fd = pid, fd

    def read(self, quiet: float = 0.4, limit: float = 20.0, until: bytes | None = None) -> bytes:
        """Read until ``until`` has appeared (then the screen is quiet), or ``limit`` passes."""
        start = len(self.out)
        end = time.monotonic() + limit
        last = time.monotonic()
        while time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                self.out += chunk
                last = time.monotonic()
            elif time.monotonic() - last >= quiet and (
                    until is None or until.decode() in visible(bytes(self.out[start:]))):
                break
        return bytes(self.out[start:])

    def keys(self, *keys: str, pause: float = 0.3) -> bytes:
        got = bytearray()
        for key in keys:
            os.write(self.fd, key.encode())
            got += self.read(quiet=pause, limit=5)
        return bytes(got)

    def close(self) -> int:
        """Quit with q; the exit status (or kill it if it will not go)."""
        try:
            os.write(self.fd, b"q")
        except OSError:
            pass
        deadline = time.monotonic() + 15
        status = None
        while time.monotonic() < deadline:
            self.read(quiet=0.1, limit=0.5)
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            status = -1
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status) if status not in (None, -1) else -1


def visible(data: bytes) -> str:
    return ESCAPES.sub("", data.decode("utf-8", errors="replace"))


@pytest.mark.parametrize("term", ["xterm-256color", "screen-256color", "tmux-256color", "linux"])
def test_each_terminal_type_opens_moves_and_quits_cleanly(demo, term):
    app = Pty(demo, term)
    try:
        first = visible(app.read(until=b"1/260", limit=30))
        assert "Thinking about Jo" in first and "1/260" in first
        moved = visible(app.keys("n"))
        assert "2/260" in moved
    finally:
        status = app.close()
    assert status == 0
    tail = bytes(app.out[-400:])
    assert b"\x1b[?1049l" in tail  # the alternate screen was left: the shell is back as it was
    with Project.open(demo, readonly=True) as project:
        assert project.coders()  # and the project is intact


def test_linux_console_shows_only_glyphs_its_font_has(demo):
    """TERM=linux: every character written is in the console font (CP437), on every screen."""
    app = Pty(demo, "linux")
    try:
        app.read(until=b"1/260", limit=30)
        app.keys("\x1b[B", "c", "h", "o", "\x1b", pause=0.4)  # select, picker, cancel
        app.keys("b", "\x1b", "t", "M", "\x1b", "\x1b", "?", "\x1b", "A", "d", "\x1b", "\x1b",
                 pause=0.5)
    finally:
        status = app.close()
    assert status == 0
    shown = visible(bytes(app.out))
    for screen_word in ("Codebook", "Themes", "Thematic map", "Agreement", "Disagreements"):
        assert screen_word in shown, f"did not reach the {screen_word} screen"
    foreign = {ch for ch in shown if ch not in CP437 and ch not in "\r\n\t\x07\x08"}
    assert not foreign, f"characters the Linux console cannot draw: {sorted(foreign)!r}"


def test_no_color_over_a_pty_uses_the_terminals_default_colours(demo):
    app = Pty(demo, "xterm-256color", NO_COLOR="1")
    try:
        data = app.read(until=b"1/260", limit=30)
    finally:
        app.close()
    assert "Thinking about Jo" in visible(data)
    # no foreground or background colour codes at all: only bold/underline/reverse/dim
    colours = re.findall(rb"\x1b\[[0-9;]*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9;]*)?m", data)
    assert not colours, colours[:5]


# -- tmux -----------------------------------------------------------------------------------------


@pytest.fixture
def tmux():
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt install tmux): the tmux test needs it")
    socket = f"tuiqa-test-{uuid.uuid4().hex[:8]}"

    def run(*args: str, check: bool = True) -> str:
        return subprocess.run(["tmux", "-L", socket, *args], check=check, capture_output=True,
                              text=True, timeout=20).stdout

    yield run
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=20)


def wait_for(run, text: str, limit: float = 30.0) -> str:
    end = time.monotonic() + limit
    screen = ""
    while time.monotonic() < end:
        screen = run("capture-pane", "-p", "-t", "t")
        if text in screen:
            time.sleep(0.2)  # let the frame finish
            return run("capture-pane", "-p", "-t", "t")
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")


def test_in_tmux_at_80x24_a_user_codes_a_sentence_and_sees_it(tmux, demo, tmp_path):
    env = child_env("tmux-256color", XDG_DATA_HOME=str(tmp_path / "xdg"))
    command = " ".join([sys.executable, "-m", "tuiqa", "open", str(demo), "--coder", "ann"])
    args = ["new-session", "-d", "-s", "t", "-x", "80", "-y", "24"]
    for key in ("PYTHONPATH", "XDG_DATA_HOME", "LANG", "LC_ALL"):
        args += ["-e", f"{key}={env[key]}"]
    tmux(*args, command)

    screen = wait_for(tmux, "1/260")
    lines = screen.splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    assert lines[0].startswith(" Q1") and "Thinking about Jo" in lines[0]
    assert "P1 · Role: Support worker" in screen
    wait_for(tmux, "Welcome, ann")  # the first-run hint (drawn just after the first frame)

    for key in ("n", "Down"):  # next answer, select its first sentence
        tmux("send-keys", "-t", "t", key)
        time.sleep(0.3)
    wait_for(tmux, "2/260")
    tmux("send-keys", "-t", "t", "c")
    wait_for(tmux, "Code “")
    tmux("send-keys", "-t", "t", "-l", "warm welcome")  # no code matches: the first row is "new"
    wait_for(tmux, "+ new semantic code “warm welcome”")
    tmux("send-keys", "-t", "t", "Enter")
    screen = wait_for(tmux, "⟨1⟩ warm welcome")
    assert "⟨1⟩Tell Jo I'm glad they came in." in screen  # the coded sentence is tagged in the text
    assert "1 warm welcome" in screen  # and the new code is recent code 1

    tmux("send-keys", "-t", "t", "q")
    end = time.monotonic() + 15
    while time.monotonic() < end:
        if "t" not in tmux("list-sessions", "-F", "#{session_name}", check=False).split():
            break
        time.sleep(0.2)
    with Project.open(demo, readonly=True) as project:
        code = project.code_by_name("warm welcome")
        assert code is not None
        coded = [c for c in project.all_codings() if c.code_id == code.id]
        assert len(coded) == 1 and coded[0].coder == "ann"
        text = project.responses[coded[0].response_id].text
        assert text[coded[0].start:coded[0].end] == "Tell Jo I'm glad they came in."


# -- GNU screen -----------------------------------------------------------------------------------


def test_in_gnu_screen_at_80x24(demo, tmp_path):
    if shutil.which("screen") is None:
        pytest.skip("GNU screen is not installed (apt install screen): the screen test needs it")
    name = f"tuiqa-{uuid.uuid4().hex[:8]}"
    rc = tmp_path / "screenrc"
    rc.write_text("startup_message off\ndefutf8 on\ndefencoding UTF-8\n", encoding="utf-8")
    env = child_env("screen", SCREENDIR=str(tmp_path / "screens"))
    (tmp_path / "screens").mkdir(mode=0o700)

    def screen(*args: str) -> None:
        subprocess.run(["screen", "-S", name, *args], env=env, check=True, timeout=20,
                       capture_output=True)

    def shown() -> str:
        copy = tmp_path / "hardcopy.txt"
        copy.unlink(missing_ok=True)
        screen("-X", "hardcopy", str(copy))
        for _ in range(50):
            if copy.exists() and copy.stat().st_size:
                break
            time.sleep(0.05)
        # hardcopy writes one byte per cell: the ASCII of what is shown is what can be checked
        return copy.read_bytes().decode("latin-1")

    def wait_for(text: str) -> str:
        end = time.monotonic() + 30
        seen = ""
        while time.monotonic() < end:
            seen = shown()
            if text in seen:
                return seen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared under screen:\n{seen}")

    subprocess.run(["screen", "-c", str(rc), "-U", "-d", "-m", "-S", name, sys.executable, "-m",
                    "tuiqa", "open", str(demo)], env=env, check=True, timeout=20)
    try:
        first = wait_for("1/260")
        lines = first.rstrip("\n").split("\n")
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
        assert "Thinking about Jo" in lines[0] and "Recovery isn't a straight line." in first
        screen("-X", "stuff", "n")
        assert "Tell Jo I'm glad they came in." in wait_for("2/260")
        screen("-X", "stuff", "q")
        end = time.monotonic() + 15
        while time.monotonic() < end:
            if subprocess.run(["screen", "-S", name, "-Q", "select", "."], env=env,
                              capture_output=True, timeout=20).returncode != 0:
                break  # the session ended: the app quit
            time.sleep(0.2)
        else:
            raise AssertionError("the app did not quit under screen")
    finally:
        subprocess.run(["screen", "-S", name, "-X", "quit"], env=env, capture_output=True, timeout=20)


def test_keys_that_arrive_together_over_a_slow_link_all_land(demo):
    """Over SSH a burst of typing arrives in one read: the key that opens a picker or a search
    and the letters after it. None may be lost or taken as a command by the screen behind."""
    app = Pty(demo, "xterm-256color")
    try:
        app.read(until=b"1/260", limit=30)
        app.keys("\x1b[B", pause=0.3)  # select the first sentence
        # (each read waits for what should appear: a busy machine can pause longer than "quiet")
        os.write(app.fd, b"czzburst\r")  # code it with a new code, all in one write
        app.read(quiet=0.6, limit=30, until="Created semantic code".encode())
        os.write(app.fd, b"b/stig")  # the codebook, its search, a few letters, in one write
        shown = visible(app.read(quiet=0.6, limit=30, until=b"1 of 16 codes"))
        assert "Rename" not in shown and "1 of 16 codes" in shown
        os.write(app.fd, b"\x1b")
        app.read(quiet=0.5, limit=5)
        os.write(app.fd, b"\x1b")
        app.read(quiet=0.5, limit=5)
    finally:
        status = app.close()
    assert status == 0
    with Project.open(demo, readonly=True) as project:
        code = project.code_by_name("zzburst")
        assert code is not None
        assert [c.coder for c in project.all_codings() if c.code_id == code.id] == ["lead"]
