"""Append-only journals: one file per session, one line per transaction.

Every change a user makes is one line, written with a single ``write`` and made durable with
``fdatasync`` before the app says it is done. A line is a transaction::

    {"t": stamp, "u": coder, "ops": [op, ...]}

so a multi-part change (a merge of codes, an undo of it) is applied whole or not at all. A process
killed mid-write leaves at most an incomplete last line with no newline, which was never
acknowledged and is ignored. No two processes ever write the same journal file: each session
holds an exclusive ``flock`` on its own file for as long as it lives, which is also how a
compaction tells a live session's journal from a dead one.
"""

from __future__ import annotations

import fcntl
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .files import file_mode

JOURNAL_SUFFIX = ".jsonl"


class JournalDamaged(Exception):
    def __init__(self, path: Path, line_no: int, detail: str) -> None:
        super().__init__(f"{path}: line {line_no} is damaged ({detail})")
        self.path = path
        self.line_no = line_no
        self.detail = detail


@dataclass
class ReadResult:
    txns: list[dict[str, Any]]
    offset: int  # bytes consumed (up to and including the last complete line)
    header: dict[str, Any] | None = None  # the journal's first line, if it was read
    damage: JournalDamaged | None = None  # with ``tolerant``: where reading stopped


def read_from(path: Path, offset: int, *, tolerant: bool = False) -> ReadResult:
    """Complete transactions in ``path`` from byte ``offset`` on. A damaged line raises
    :class:`JournalDamaged`, or with ``tolerant`` ends the reading there (another machine's
    journal: what comes before it is used, and the offset stays before it)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return ReadResult([], offset)
    end = data.rfind(b"\n")
    if end < 0:
        return ReadResult([], offset)
    txns: list[dict[str, Any]] = []
    header = None
    pos = 0
    for raw in data[: end + 1].split(b"\n")[:-1]:
        start = pos
        pos += len(raw) + 1
        if not raw.strip():
            continue
        try:
            txn = orjson.loads(raw)
            if not isinstance(txn, dict):
                raise ValueError("not a transaction")
        except (orjson.JSONDecodeError, ValueError) as exc:
            detail = str(exc) if isinstance(exc, ValueError) and not \
                isinstance(exc, orjson.JSONDecodeError) else f"not valid JSON: {exc}"
            damage = JournalDamaged(path, _line_number(path, offset + start), detail)
            if not tolerant:
                raise damage from None
            return ReadResult(txns, offset + start, header, damage)
        if "ops" in txn:
            txns.append(txn)
        elif "journal" in txn and header is None:
            header = txn
    return ReadResult(txns, offset + end + 1, header)


def read_header(path: Path) -> dict[str, Any] | None:
    """A journal's first line (who wrote it, when, on which machine), if it is readable."""
    try:
        with open(path, "rb") as fh:
            line = fh.readline(1 << 16)
        head = orjson.loads(line) if line.endswith(b"\n") else None
    except (OSError, orjson.JSONDecodeError):
        return None
    return head if isinstance(head, dict) and "journal" in head else None


def _line_number(path: Path, byte_offset: int) -> int:
    with open(path, "rb") as fh:
        return fh.read(byte_offset).count(b"\n") + 1


def tail_is_torn(path: Path, offset: int) -> bool:
    """True if bytes follow the last complete line (a write cut short by a crash)."""
    try:
        return path.stat().st_size > offset
    except FileNotFoundError:
        return False


class JournalWriter:
    """The journal of this session. Holds an exclusive lock on its file while open."""

    def __init__(self, directory: Path, session: str, coder: str, started: str,
                 machine: str = "") -> None:
        self.path = directory / f"{started.split('.')[0]}-{session}{JOURNAL_SUFFIX}"
        mode = file_mode(directory)
        # The file is made under another name, locked, and only then renamed into place: a
        # journal is never visible unlocked, so no other session can take it for a dead one.
        tmp = directory / f".{self.path.name}.new"
        self._fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, mode)
        try:
            os.fchmod(self._fd, mode)
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.size = 0
            header = {"journal": 1, "session": session, "coder": coder, "started": started,
                      "host": socket.gethostname(), "pid": os.getpid(), "machine": machine}
            self._write(orjson.dumps(header) + b"\n")
            os.rename(tmp, self.path)
        except BaseException:
            os.close(self._fd)
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        from .files import fsync_dir

        fsync_dir(directory)
        remove_stale_new(directory)

    @property
    def name(self) -> str:
        return self.path.name

    def append(self, txn: dict[str, Any]) -> None:
        if self._fd < 0:
            raise RuntimeError("journal is closed")
        self._write(orjson.dumps(txn) + b"\n")

    def _write(self, line: bytes) -> None:
        view = memoryview(line)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        _datasync(self._fd)
        self.size += len(line)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    @property
    def closed(self) -> bool:
        return self._fd < 0


def _datasync(fd: int) -> None:
    sync = getattr(os, "fdatasync", os.fsync)
    sync(fd)


#: A journal being made exists under its ``.new`` name for milliseconds; one this old is left
#: from a session killed in that moment.
STALE_NEW_S = 3600


def remove_stale_new(directory: Path, older_than_s: float = STALE_NEW_S) -> list[Path]:
    """Remove ``.NAME.jsonl.new`` files left by sessions killed while making their journal (see
    JournalWriter): old, and held by nobody. They hold only the journal's header line, written
    before the rename, so no change is ever in one. Returns what was removed."""
    import time

    removed = []
    limit = time.time() - older_than_s
    try:
        candidates = [p for p in directory.iterdir()
                      if p.name.startswith(".") and p.name.endswith(JOURNAL_SUFFIX + ".new")]
    except OSError:
        return removed
    for path in candidates:
        try:
            if path.stat().st_mtime < limit and not is_live(path):
                path.unlink()
                removed.append(path)
        except OSError:  # gone already, or not ours to remove (a read-only or shared folder)
            pass
    return removed


def is_live(path: Path) -> bool:
    """Is the session that owns this journal still running? (it holds an exclusive lock)"""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False
