"""What the terminal receives, and when: the real app in a real pseudo-terminal at 80×24.

    python bench/pty_bytes.py PROJECT_DIR [--keys 20]

Prints one JSON object: ``bytes_per_next`` (median bytes written after a next-answer key),
``bytes_per_picker_key`` (one letter typed in the code picker), ``idle_bytes_per_s`` (output while
nobody types: must be 0, i.e. no blinking cursor), and the samples. Over SSH every byte is
latency: 4 KB is ~30 ms at 1 Mbit/s. :func:`time_to_screen` times a start-up the same way: until
the first screen has been written to the terminal, not only drawn (``run.py`` uses it).
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import statistics
import struct
import sys
import termios
import time
from pathlib import Path

QUIET_S = 0.25


def spawn(project: str, env_extra: dict[str, str] | None = None,
          argv: list[str] | None = None) -> tuple[int, int]:
    """``tuiqa open PROJECT`` (or ``argv``) in a new 80×24 pseudo-terminal: (pid, its fd)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update({"TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24",
                           "TUIQA_CODER": "bench", **(env_extra or {})})
        argv = argv or [sys.executable, "-m", "tuiqa", "open", project]
        os.execv(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    return pid, fd


def time_to_screen(argv: list[str], marker: bytes, env_extra: dict[str, str] | None = None,
                   limit: float = 30.0) -> float:
    """Seconds from starting ``argv`` in a pseudo-terminal until ``marker`` has been written to
    it (the process is then killed: what it does on the way out is not measured)."""
    t0 = time.perf_counter()
    pid, fd = spawn("", env_extra, argv)
    seen = b""
    try:
        while time.perf_counter() - t0 < limit:
            chunk = read_ready(fd, 0.005)
            if chunk is None:
                continue
            if not chunk:
                break
            seen = seen[-len(marker):] + chunk
            if marker in seen:
                return time.perf_counter() - t0
        raise RuntimeError(f"{argv}: {marker!r} not on the terminal within {limit} s")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.close(fd)
        os.waitpid(pid, 0)


def read_ready(fd: int, timeout: float) -> bytes | None:
    """What the app has written, waiting up to ``timeout``: None if nothing yet, b"" once the
    terminal is closed (the app has ended)."""
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return None
    try:
        return os.read(fd, 65536)
    except OSError:  # Linux reports a closed pseudo-terminal this way
        return b""


def drain(fd: int, quiet: float = QUIET_S, limit: float = 10.0) -> int:
    """Read until the app has been silent for ``quiet`` seconds; return the bytes read."""
    total = 0
    end = time.monotonic() + limit
    last = time.monotonic()
    while time.monotonic() < end:
        chunk = read_ready(fd, 0.02)
        if chunk is None:
            if time.monotonic() - last >= quiet:
                break
            continue
        if not chunk:
            break
        total += len(chunk)
        last = time.monotonic()
    return total


def measure(project: str, keys: int = 20) -> dict:
    root = Path(__file__).resolve().parent.parent
    env = {"PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    pid, fd = spawn(project, env)
    try:
        drain(fd, quiet=1.5, limit=30)  # start-up, and the background load finishing
        idle = drain(fd, quiet=2.0, limit=2.0)
        nexts = []
        for _ in range(keys):
            os.write(fd, b"n")
            nexts.append(drain(fd))
        os.write(fd, b"c")
        drain(fd, quiet=0.5)
        picker = []
        for ch in "hopetrustrisk"[:keys]:
            os.write(fd, ch.encode())
            picker.append(drain(fd))
        os.write(fd, b"\x1b")
        drain(fd, quiet=0.5)
    finally:
        os.kill(pid, signal.SIGTERM)
        try:
            drain(fd, quiet=0.5, limit=5)
        finally:
            os.close(fd)
            os.waitpid(pid, 0)
    return {"bytes_per_next": int(statistics.median(nexts)),
            "bytes_per_picker_key": int(statistics.median(picker)),
            "idle_bytes_per_s": round(idle / 2.0, 1),
            "samples_next": nexts, "samples_picker": picker}


if __name__ == "__main__":
    keys = int(sys.argv[sys.argv.index("--keys") + 1]) if "--keys" in sys.argv else 20
    print(json.dumps(measure(sys.argv[1], keys)))
