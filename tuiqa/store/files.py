"""Durable, private files: atomic replace, fsync, permissions, locks.

Every file tuiqa writes is owner-only (0600). Inside a project directory that is group-writable
(a folder shared by a research group) files are group read/write (0660) and still closed to others;
directories get the matching 0700 / 2770.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def is_group_shared(directory: Path) -> bool:
    try:
        return bool(os.stat(directory).st_mode & stat.S_IWGRP)
    except FileNotFoundError:
        return False


def file_mode(directory: Path) -> int:
    return 0o660 if is_group_shared(directory) else 0o600


def dir_mode(parent: Path) -> int:
    return 0o2770 if is_group_shared(parent) else 0o700


def make_private_dir(path: Path, *, shared_root: Path | None = None) -> None:
    """Create ``path`` (and parents) with private permissions, following the project's sharing."""
    if path.is_dir():
        return
    root = shared_root if shared_root is not None else path.parent
    mode = dir_mode(root) if root.exists() else 0o700
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` so that a crash at any moment leaves the old or the new file.

    Temp file in the same directory, flush, fsync, ``os.replace``, fsync of the directory.
    """
    directory = path.parent
    if mode is None:
        mode = file_mode(directory)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _unlink_quietly(Path(tmp))
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(Path(tmp))
        raise
    fsync_dir(directory)


def remove_stale_temp_files(directory: Path, older_than_s: float = 60.0) -> int:
    """Delete ``.name.*.tmp`` files left by a crash between write and replace."""
    removed = 0
    now = time.time()
    try:
        entries = list(directory.iterdir())
    except FileNotFoundError:
        return 0
    for entry in entries:
        if entry.name.startswith(".") and entry.name.endswith(".tmp"):
            try:
                if now - entry.stat().st_mtime >= older_than_s:
                    entry.unlink()
                    removed += 1
            except FileNotFoundError:
                pass
    return removed


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


class LockTimeout(RuntimeError):
    pass


@contextmanager
def file_lock(path: Path, *, exclusive: bool = True, timeout_s: float = 30.0) -> Iterator[None]:
    """An ``flock`` on a sidecar lock file, held for the whole operation (read-modify-write)."""
    mode = file_mode(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, mode)
    try:
        _ensure_mode(fd, mode)
        flag = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, flag | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    raise LockTimeout(f"{path} is locked by another tuiqa process") from exc
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def try_lock_exclusive(path: Path) -> int | None:
    """Take an exclusive lock without waiting; returns the fd (keep it open to hold the lock)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _ensure_mode(fd: int, mode: int) -> None:
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != mode and os.fstat(fd).st_uid == os.getuid():
            os.fchmod(fd, mode)
    except OSError:
        pass
