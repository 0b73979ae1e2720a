"""Ending the app when its terminal goes away: an SSH drop, a closed window, `tmux kill-session`.

Every change is durable in the session's journal before it shows, so a hang-up loses nothing;
what matters is that the process *ends*, releasing its journal so the next open folds it.

When a terminal hangs up, the kernel sends the process SIGHUP **and SIGCONT**. Textual (8.2.8)
takes SIGCONT as "resumed after Ctrl+Z" and restarts its terminal mode: it starts a second output
thread whose first write to the dead terminal fails (EIO), so that thread dies and its queue of
30 writes fills; shutting down then waits forever to queue one more
(``LinuxDriver.close → WriterThread.stop → Queue.put``), holding the journal lock. That was the
orphan left by about one `tmux kill-session` in two. Three guards, all with public means
(signals and file descriptors; nothing private in Textual):

1. SIGCONT reaches Textual's handler only while the terminal is still there.
2. Once the terminal is gone, the file descriptors that pointed at it are pointed at
   ``/dev/null``: whatever is still written on the way out succeeds and goes nowhere.
3. A watchdog ends the process a short grace period after the hang-up, whatever else happens.
   Nothing is lost by that: it is the same as being killed, which the journal is made for.

A terminal that disappears without any signal (a parent shell that does not pass SIGHUP on) is
noticed by :meth:`HangUp.check`, which the app calls every couple of seconds.

Nothing here knows about Textual: the app hands in what to do on a hang-up.
"""

from __future__ import annotations

import os
import signal
import termios
import threading
from typing import Callable

#: After a hang-up with the terminal gone, the process ends within this many seconds.
GRACE_GONE_S = 1.5
#: After SIGHUP/SIGTERM with the terminal still there, the app gets longer to put it back in order.
GRACE_ALIVE_S = 5.0


def is_gone(fd: int) -> bool:
    """Whether ``fd`` is a terminal that has hung up (its ioctl calls fail with EIO)."""
    try:
        termios.tcgetattr(fd)
    except termios.error as exc:
        return bool(exc.args) and exc.args[0] == 5  # EIO: hung up (ENOTTY: never a terminal)
    except (OSError, ValueError):
        return False
    return False


class HangUp:
    """Watches for the end of the terminal and makes sure the process then ends.

    ``on_hang_up`` asks the app to exit (called once, on the thread that installed this).
    ``exit_code`` is what the watchdog exits with if the app does not manage it in time.
    """

    def __init__(self, on_hang_up: Callable[[], None], *, exit_code: int = 0,
                 grace_gone_s: float = GRACE_GONE_S, grace_alive_s: float = GRACE_ALIVE_S,
                 end: Callable[[int], object] = os._exit) -> None:
        self.on_hang_up = on_hang_up
        self.exit_code = exit_code
        self.grace_gone_s = grace_gone_s
        self.grace_alive_s = grace_alive_s
        self.end = end
        self.hung_up = False
        self.terminal_fds = [fd for fd in (0, 1, 2) if _isatty(fd)]
        self._previous_cont = None
        self._silenced = False
        self._watchdog: threading.Timer | None = None

    # -- installing --------------------------------------------------------------------------

    def install(self, loop, *, guard_sigcont: bool = True) -> None:
        """SIGHUP and SIGTERM end the app; SIGCONT after a hang-up is kept from the terminal code.
        Call from the main thread, with the event loop running, after the terminal code has set
        up its own handlers (it installs its SIGCONT handler when it starts). The guard stays
        until the process ends: a SIGCONT from the hang-up can come while the app shuts down."""
        for sig in (signal.SIGHUP, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.hang_up)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
                return
        if guard_sigcont and self.terminal_fds and hasattr(signal, "SIGCONT"):
            self._previous_cont = signal.getsignal(signal.SIGCONT)
            signal.signal(signal.SIGCONT, self._on_sigcont)

    # -- what happens ------------------------------------------------------------------------

    def terminal_gone(self) -> bool:
        return any(is_gone(fd) for fd in self.terminal_fds)

    def check(self) -> bool:
        """Poll: if the terminal has gone without a signal, hang up now. True if it has gone."""
        if not self.hung_up and self.terminal_fds and self.terminal_gone():
            self.hang_up()
        return self.hung_up

    def hang_up(self) -> None:
        """SIGHUP, SIGTERM, or a terminal found gone: make sure we end, then ask the app to."""
        gone = self.terminal_gone()
        if gone:
            self.silence()
        if self._watchdog is None:
            grace = self.grace_gone_s if gone else self.grace_alive_s
            self._watchdog = threading.Timer(grace, self._end_now)
            self._watchdog.daemon = True
            self._watchdog.start()
        if not self.hung_up:
            self.hung_up = True
            self.on_hang_up()

    def silence(self) -> None:
        """Point the dead terminal's file descriptors at /dev/null, so that writing to them (the
        terminal code putting the screen back, a last message) succeeds instead of failing or
        stopping the thread that writes."""
        if self._silenced:
            return
        self._silenced = True
        try:
            null = os.open(os.devnull, os.O_RDWR)
        except OSError:
            return
        try:
            for fd in self.terminal_fds:
                if fd != 0 and is_gone(fd):  # input stays: a hung-up terminal reads as the end
                    os.dup2(null, fd)
        finally:
            os.close(null)

    def _on_sigcont(self, signum, frame) -> None:
        if self.terminal_gone():
            self.silence()  # a hang-up: there is nothing to resume on
            return
        previous = self._previous_cont
        if callable(previous):
            previous(signum, frame)

    def _end_now(self) -> None:
        """The watchdog: the app did not manage to end in time; every change is on disk."""
        if self.terminal_gone():
            self.silence()
        self.end(self.exit_code)


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False
