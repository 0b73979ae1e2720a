"""Getting text to the user's clipboard, wherever they are, and saying honestly what happened.

Three routes, all tried where they apply:

1. **OSC 52 through the terminal** (the app passes Textual's ``copy_to_clipboard``): the only
   route that reaches the user's own clipboard over SSH. The terminal never confirms it, and some
   refuse it (macOS Terminal; iTerm2 and xterm until allowed; tmux unless ``set-clipboard on``).
2. **tmux's own buffer** when ``$TMUX`` is set: ``tmux load-buffer -w -`` stores the text and
   (tmux ≥ 3.2) forwards it to the client's clipboard even under tmux's default settings, which
   drop an application's bare OSC 52.
3. **The local system clipboard** through pyperclip, only in a local session (no SSH) with a
   display or on macOS/Windows/WSL. It runs in a child process with a timeout and its error
   output captured, because pyperclip raises with no display, hangs or prints over the screen
   with a stale ``DISPLAY``, and never checks xclip's exit status.

Nothing here imports Textual; call :func:`copy` off the event loop (it may wait on tmux or
pyperclip for up to a few seconds).
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Callable, Mapping

OSC52_LIMIT = 100_000  # bytes of base64; many terminals cap or drop longer payloads
TIMEOUT_S = 3.0

_PYPERCLIP_CHILD = (
    "import sys, pyperclip\n"
    "try:\n"
    "    pyperclip.copy(sys.stdin.read())\n"
    "except pyperclip.PyperclipException as exc:\n"
    "    print(str(exc).splitlines()[0], file=sys.stderr)\n"
    "    sys.exit(3)\n"
)


class SystemClipboardUnavailable(Exception):
    pass


@dataclass
class CopyResult:
    text: str
    routes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    too_big_for_terminal: bool = False

    @property
    def confirmed(self) -> bool:
        """A route that reports success (tmux, the local clipboard), not just a hopeful OSC 52."""
        return any(r != "terminal (OSC 52)" for r in self.routes)

    def message(self, what: str) -> str:
        if not self.routes:
            return f"Could not copy {what}: " + ("; ".join(self.problems) or "no clipboard here")
        joined = " and ".join(self.routes)
        msg = f"Copied {what} to the {joined}"
        if self.routes == ["terminal (OSC 52)"]:
            msg = (f"Sent {what} to the terminal clipboard (OSC 52), which terminals cannot "
                   "confirm: some block it (see the README)")
        if self.too_big_for_terminal:
            msg += "; it is large, so your terminal may drop it"
        return msg


def local_session(env: Mapping[str, str]) -> bool:
    """True where a local clipboard can be reached (not over SSH, and a display or a desktop OS)."""
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY") or env.get("SSH_CLIENT"):
        return False
    if sys.platform in ("darwin", "win32", "cygwin"):
        return True
    if env.get("WAYLAND_DISPLAY") or env.get("DISPLAY"):
        return True
    try:
        with open("/proc/version") as fh:
            return "microsoft" in fh.read().lower()
    except OSError:
        return False


def pyperclip_in_child(text: str, timeout: float = TIMEOUT_S) -> None:
    """Copy with pyperclip in a child process: hangs time out, errors never reach the screen."""
    try:
        done = subprocess.run([sys.executable, "-c", _PYPERCLIP_CHILD], input=text.encode("utf-8"),
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SystemClipboardUnavailable("the system clipboard did not answer in time") from None
    except OSError as exc:
        raise SystemClipboardUnavailable(str(exc)) from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SystemClipboardUnavailable(reason[0] if reason else "pyperclip failed")


def tmux_buffer(text: str, timeout: float = TIMEOUT_S) -> None:
    done = subprocess.run(["tmux", "load-buffer", "-w", "-"], input=text.encode("utf-8"),
                          capture_output=True, timeout=timeout)
    if done.returncode != 0:
        # tmux older than 3.2 has no -w: store the buffer at least
        done = subprocess.run(["tmux", "load-buffer", "-"], input=text.encode("utf-8"),
                              capture_output=True, timeout=timeout)
        if done.returncode != 0:
            raise OSError(done.stderr.decode("utf-8", "replace").strip() or "tmux refused")


def copy(text: str, *, terminal: Callable[[str], None] | None,
         env: Mapping[str, str] | None = None,
         system: Callable[[str], None] | None = pyperclip_in_child,
         tmux: Callable[[str], None] | None = tmux_buffer) -> CopyResult:
    """Copy ``text`` by every route that applies here; see the module docstring."""
    env = os.environ if env is None else env
    result = CopyResult(text)
    size = len(base64.b64encode(text.encode("utf-8")))
    result.too_big_for_terminal = size > OSC52_LIMIT
    if terminal is not None:
        try:
            terminal(text)
            result.routes.append("terminal (OSC 52)")
        except Exception as exc:  # the terminal route must never take the others down
            result.problems.append(f"terminal: {exc}")
    if env.get("TMUX") and tmux is not None:
        try:
            tmux(text)
            result.routes.append("tmux buffer")
        except (OSError, subprocess.SubprocessError) as exc:
            result.problems.append(f"tmux: {exc}")
    if system is not None and local_session(env):
        try:
            system(text)
            result.routes.append("system clipboard")
        except SystemClipboardUnavailable as exc:
            result.problems.append(f"system clipboard: {exc}")
    elif system is not None:
        result.problems.append("system clipboard: not reachable over SSH or without a display")
    return result
