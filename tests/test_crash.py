"""A crash in the app (issue 13, item 6): `tuiqa open` exits non-zero, says where the work is
safe, and keeps the traceback in an owner-only crash log in the project's backups/."""

from __future__ import annotations

import os
import re
import select
import stat
import sys
import time
from pathlib import Path

import pytest

from .machines import own

from tuiqa import cli
from tuiqa.project import Project

ROOT = Path(__file__).resolve().parent.parent
ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]"
                     r"|\x1b[@-Z\\-_=>78]")

#: The real CLI with one fault planted in the core: moving to the next answer raises.
CHILD = """
import sys
from tuiqa import navigation
def move(self, delta):
    raise RuntimeError("a deliberate fault for the crash test")
navigation.Navigator.move = move
from tuiqa.cli import main
sys.exit(main(["open", sys.argv[1], "--coder", "ann"]))
"""


def _crash_logs(project: Path) -> list[Path]:
    return sorted((own(project) / "backups").glob("crash-*.log"))


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_a_crash_in_the_app_exits_non_zero_and_keeps_a_crash_log(sample_project):
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: the real app in a real terminal
        os.environ.update(TERM="xterm-256color", PYTHONPATH=str(ROOT), LANG="C.UTF-8")
        os.execv(sys.executable, [sys.executable, "-c", CHILD, str(sample_project)])
    out = bytearray()

    def read_until(limit: float, done=lambda: False) -> None:
        end = time.monotonic() + limit
        while time.monotonic() < end and not done():
            try:
                ready, _, _ = select.select([fd], [], [], 0.05)
                if ready:
                    out.extend(os.read(fd, 65536))
            except OSError:
                return

    read_until(20, lambda: b"1/260" in out)
    os.write(fd, b"d")  # an acknowledged change: mark the first answer done …
    end = time.monotonic() + 10
    while not any(b'"done"' in p.read_bytes() for p in (own(sample_project) / "journal").glob("*.jsonl")):
        assert time.monotonic() < end, "the done mark never reached the journal"
        read_until(0.05)
    os.write(fd, b"n")  # … then the fault
    read_until(20)  # until the app has gone and the terminal is closed
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = ESCAPES.sub("", out.decode("utf-8", "replace")).replace("\r", "")
    flat = " ".join(text.split())

    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0, status
    logs = _crash_logs(sample_project)
    assert len(logs) == 1
    log = logs[0]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    body = log.read_text()
    assert "RuntimeError" in body and "a deliberate fault for the crash test" in body
    assert "tuiqa" in body and "Python" in body
    assert "Your work is safe" in flat
    assert str(sample_project) in flat and str(log) in flat
    with Project.open(sample_project) as project:  # and it is
        assert len(project.done.get("ann", ())) == 1


def test_a_crash_before_the_app_runs_is_handled_the_same_way(sample_project, monkeypatch, capsys):
    from tuiqa.ui import app as app_module

    def broken(self, *args, **kwargs):
        raise ValueError("a deliberate fault while starting")

    monkeypatch.setattr(app_module.TuiqaApp, "__init__", broken)
    code = cli.main(["open", str(sample_project)])
    err = capsys.readouterr().err
    assert code != 0
    logs = _crash_logs(sample_project)
    assert len(logs) == 1 and stat.S_IMODE(logs[0].stat().st_mode) == 0o600
    assert "ValueError: a deliberate fault while starting" in logs[0].read_text()
    flat = " ".join(err.split())
    assert "Your work is safe" in flat and str(sample_project) in flat and str(logs[0]) in flat


def test_crash_logs_are_owner_only_even_in_a_group_folder_and_few(sample_project):
    from tuiqa.crash import KEPT, keep_crash_log

    os.chmod(sample_project, 0o2770)
    paths = [keep_crash_log(sample_project, own(sample_project) / "backups", f"Traceback {i}\n")
             for i in range(KEPT + 3)]
    logs = _crash_logs(sample_project)
    assert len(logs) == KEPT and paths[-1] in logs and paths[0] not in logs
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in logs)


def test_a_journal_left_half_made_by_a_killed_session_is_tidied_away(sample_project):
    """A session killed between creating its journal (as journal/.NAME.jsonl.new) and renaming
    it into place left the file for ever. An old one that nobody holds is removed when the next
    session starts its journal; a young one, or one still held, is left alone."""
    import fcntl

    journal = own(sample_project) / "journal"
    journal.mkdir(parents=True, exist_ok=True)
    header = b'{"journal":1,"session":"dead","coder":"ann","started":"1","host":"h","pid":1}\n'
    stale, young, held = (journal / f".{n}-x.jsonl.new" for n in ("1", "2", "3"))
    for path in (stale, young, held):
        path.write_bytes(header)
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    os.utime(held, (two_hours_ago, two_hours_ago))
    fd = os.open(held, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a session still starting
    try:
        with Project.open(sample_project) as project:
            from tuiqa.session import Session

            Session(project, "ann").set_done(next(iter(project.responses)), True)
        assert not stale.exists()
        assert young.exists() and held.exists()
    finally:
        os.close(fd)
