"""When the app fails on an unexpected error: keep the traceback, and say the work is safe.

Every change is durable in the session's journal before the screen shows it, so a crash loses
no acknowledged work: the next open replays the journal. What a crash must not do is pass
silently (exit 0) or lose the evidence. The crash log goes into this machine's ``backups/`` in the
project (``machines/<machine>/backups/``: every machine writes only its own files), owner-only (``0600``) even in a group-shared project, because a traceback can quote survey text.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

from . import __version__

#: Crash logs kept per project; older ones are removed when a new one is written.
KEPT = 20
PREFIX = "crash-"


def keep_crash_log(project_dir: Path, folder: Path, traceback_text: str, *,
                   coder: str | None = None) -> Path:
    """Write ``traceback_text`` with what is needed to understand it to a new crash log in
    ``folder`` (this machine's backups in ``project_dir``) and return its path. Raises OSError if
    it cannot be written."""
    from .store.files import fsync_dir, make_private_dir

    make_private_dir(folder, shared_root=project_dir)
    now = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}"
    header = [
        f"tuiqa {__version__} crashed at {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(now))}",
        f"project: {project_dir.resolve()}",
        f"coder: {coder or '?'}",
        f"Python {platform.python_version()} on {platform.platform()}",
        f"Textual {_version('textual')}, Rich {_version('rich')}",
        f"TERM={os.environ.get('TERM', '')} command: {' '.join(sys.argv)}",
        "",
    ]
    data = ("\n".join(header) + traceback_text.rstrip("\n") + "\n").encode("utf-8", "replace")
    n = 0
    while True:
        path = folder / f"{PREFIX}{stamp}{f'-{n:03d}' if n else ''}.log"  # names sort by time
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            n += 1
    try:
        os.fchmod(fd, 0o600)  # owner-only whatever the umask or the folder's sharing
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(folder)
    _prune(folder, keep=path)
    return path


def safe_message(project_dir: Path, log: Path | None, problem: str | None = None) -> str:
    """What the user reads after a crash: where the work is, where the error is kept."""
    where = project_dir.resolve()
    lines = [
        "tuiqa: the app stopped on an unexpected error (a fault in tuiqa).",
        f"Your work is safe in {where}: every change you made before the error is in its journal,",
        f"and is read back when you open it again (tuiqa open {where}).",
    ]
    if log is not None:
        lines.append(f"The error is kept in {log} (readable by you only; it may quote survey "
                     "text): please send it with a note of what you were doing.")
    else:
        lines.append(f"The error could not be kept in a crash log ({problem}); it is shown above.")
    return "\n".join(lines)


def _prune(folder: Path, keep: Path) -> None:
    logs = sorted(folder.glob(f"{PREFIX}*.log"))
    for old in logs[:-KEPT]:
        if old != keep:
            try:
                old.unlink()
            except OSError:
                pass


def _version(package: str) -> str:
    try:
        from importlib.metadata import version

        return version(package)
    except Exception:
        return "?"
