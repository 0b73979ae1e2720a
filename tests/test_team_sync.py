"""A project folder carried between machines by a sync tool: what arrives half-way, late, twice,
or as a conflicted copy, and what each machine writes (issue #12)."""

from __future__ import annotations

import os
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from tuiqa.project import Project
from tuiqa.session import Session
from tuiqa.store import layout as L
from tuiqa.store.machine import this_machine

from .machines import files_of


@contextmanager
def machine(base: Path, name: str):
    """Be another computer: its own data folder (identity) and cache folder."""
    saved = {k: os.environ.get(k) for k in ("XDG_DATA_HOME", "XDG_CACHE_HOME")}
    os.environ["XDG_DATA_HOME"] = str(base / f"home-{name}" / "data")
    os.environ["XDG_CACHE_HOME"] = str(base / f"home-{name}" / "cache")
    try:
        yield this_machine().id
    finally:
        for k, v in saved.items():
            os.environ[k] = v  # type: ignore[assignment]


def code(project: Project, coder: str, name: str, n: int = 0) -> None:
    rid = sorted(project.responses)[n % len(project.responses)]
    text = project.responses[rid].text
    Session(project, coder).create_and_apply(rid, 0, len(text), name, "semantic")


def names(directory: Path) -> set[str]:
    with Project.open(directory) as p:
        return {c.name for c in p.codes()}


def copy_machine(src: Path, dst: Path, ident: str) -> None:
    """The sync tool brings machine ``ident``'s files from ``src`` to ``dst``."""
    rel = Path(L.MACHINES_DIR) / ident
    target = dst / rel
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(src / rel, target, ignore=shutil.ignore_patterns(L.BACKUP_DIR, L.LOCK_FILE))


@pytest.fixture
def two(tiny_project, tmp_path):
    """The tiny project in two folders (laptop and server), created on the laptop."""
    laptop, server = tiny_project, tmp_path / "server" / "tiny"
    shutil.copytree(laptop, server)
    return laptop, server


def test_each_machine_writes_only_its_own_folder(two, tmp_path):
    laptop, server = two
    with machine(tmp_path, "server") as srv:
        before = files_of(server)
        with Project.open(server) as p:
            code(p, "bea", "on the server")
        after = files_of(server)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed and all(k.startswith(f"{L.MACHINES_DIR}/{srv}/") for k in changed)


def test_a_journal_cut_at_any_byte_opens_with_every_complete_line(two, tmp_path):
    """Another machine's journal still arriving: every prefix of it opens, showing exactly the
    changes whose lines are complete."""
    laptop, server = two
    with machine(tmp_path, "server") as srv:
        p = Project.open(server)
        for i in range(3):
            code(p, "bea", f"server {i}", i)
        journal = p.store.journal_path
        p.store._writer.close()  # still "running": nothing folded
        p.store._writer = None
    data = journal.read_bytes()
    lines = data.split(b"\n")
    ends = [sum(len(x) + 1 for x in lines[: i + 1]) for i in range(len(lines) - 1)]
    target = laptop / L.MACHINES_DIR / srv / L.JOURNAL_DIR / journal.name
    copy_machine(server, laptop, srv)
    for cut in sorted({0, 1, *range(ends[0] - 1, len(data) + 1, 7), *ends, len(data)}):
        target.write_bytes(data[:cut])
        complete = sum(1 for e in ends[1:] if e <= cut)  # lines after the header
        with Project.open(laptop) as p:
            got = {c.name for c in p.codes()} & {f"server {i}" for i in range(3)}
            assert got == {f"server {i}" for i in range(complete)}, cut


def test_a_stale_copy_and_a_damaged_snapshot_of_another_machine_still_open(two, tmp_path):
    laptop, server = two
    with machine(tmp_path, "server") as srv:
        with Project.open(server) as p:
            code(p, "bea", "folded on the server")
        p = Project.open(server)
        code(p, "bea", "in the journal", 1)
        journal = p.store.journal_path
        p.store._writer.close()
        p.store._writer = None
    copy_machine(server, laptop, srv)
    with Project.open(laptop) as p:
        assert {"folded on the server", "in the journal"} <= {c.name for c in p.codes()}
        code(p, "ann", "mine", 2)  # the laptop folds: its snapshot now holds the server's journal
    # a stale copy of that journal (shorter than the laptop's snapshot holds) …
    stale = laptop / L.MACHINES_DIR / srv / L.JOURNAL_DIR / journal.name
    stale.write_bytes(stale.read_bytes()[:40])
    # … and the server's snapshot damaged mid-sync
    snap = laptop / L.MACHINES_DIR / srv / L.SNAPSHOT_FILE
    snap.write_bytes(snap.read_bytes()[: len(snap.read_bytes()) // 2])
    with Project.open(laptop) as p:
        assert {"folded on the server", "in the journal", "mine"} <= {c.name for c in p.codes()}
        assert any("cannot be read" in w and srv in w for w in p.store.warnings)


@pytest.mark.parametrize("copy_name", [
    "data (conflicted copy 2026-05-01).json",  # Dropbox
    "data (Bea's conflicted copy 2026-05-01).json",  # Dropbox, newer
    "data.sync-conflict-20260501-120000-ABCDEFG.json",  # Syncthing
    "data-LAPTOP.json",  # OneDrive
    "data (conflicted copy 2026-05-01 120000).json",  # Nextcloud
])
def test_a_conflicted_copy_of_a_snapshot_is_read_and_reported(two, tmp_path, copy_name):
    """An older tuiqa, a cloned identity or a hand copy can leave one: it is another snapshot,
    read like the original, and named in a warning; never a reason not to open."""
    laptop, server = two
    with machine(tmp_path, "server") as srv:
        with Project.open(server) as p:
            code(p, "bea", "only in the copy")
    copy_machine(server, laptop, srv)
    folder = laptop / L.MACHINES_DIR / srv
    (folder / L.SNAPSHOT_FILE).rename(folder / copy_name)
    with Project.open(laptop) as p:
        (folder / L.SNAPSHOT_FILE).write_bytes(b"")  # and the original, damaged
    with Project.open(laptop) as p:
        assert "only in the copy" in {c.name for c in p.codes()}
        assert any("conflicted cop" in w for w in p.store.warnings)


def test_a_conflicted_copy_of_a_journal_is_another_version_of_it(two, tmp_path):
    laptop, server = two
    with machine(tmp_path, "server") as srv:
        p = Project.open(server)
        code(p, "bea", "first", 0)
        code(p, "bea", "second", 1)
        journal = p.store.journal_path
        p.store._writer.close()
        p.store._writer = None
    copy_machine(server, laptop, srv)
    folder = laptop / L.MACHINES_DIR / srv / L.JOURNAL_DIR
    full = (folder / journal.name).read_bytes()
    (folder / journal.name).write_bytes(full[: full.index(b"\n", full.index(b"first")) + 1])
    (folder / f"{journal.stem}.sync-conflict-20260501-120000-ABCDEFG.jsonl").write_bytes(full)
    assert {"first", "second"} <= names(laptop)


def test_a_project_copied_wholesale_gets_its_own_identity(tiny_project, tmp_path):
    """Copied with the first machine's files to a second machine: the copy reads them as that
    machine's and writes only its own; the two then sync without a conflict."""
    with Project.open(tiny_project) as p:
        code(p, "ann", "on the first")
    first = this_machine().id
    copy = tmp_path / "usb" / "tiny"
    shutil.copytree(tiny_project, copy)
    with machine(tmp_path, "second") as second:
        assert second != first
        with Project.open(copy) as p:
            code(p, "bea", "on the second", 1)
            assert {"on the first", "on the second"} <= {c.name for c in p.codes()}
    assert (copy / L.MACHINES_DIR / first / L.SNAPSHOT_FILE).read_bytes() == \
        (tiny_project / L.MACHINES_DIR / first / L.SNAPSHOT_FILE).read_bytes()
    copy_machine(copy, tiny_project, second)
    assert {"on the first", "on the second"} <= names(tiny_project)


def test_the_cache_of_another_copy_never_brings_its_changes(tiny_project, tmp_path):
    """Two copies of one project on one machine share the cache's name; what one has that the
    other does not must not appear in the other through it."""
    other = tmp_path / "experiment"
    shutil.copytree(tiny_project, other)
    with Project.open(other) as p:
        code(p, "ann", "only in the experiment")
    assert "only in the experiment" not in names(tiny_project)
    assert "only in the experiment" in names(other)


def test_imports_on_two_machines_merge_by_their_rules(two, tmp_path):
    """A second wave imported on each machine at once: participants and answers are one set;
    a question key taken on both gets the next key on the later import, everywhere; an answer
    with two texts keeps the earlier import's."""
    from tuiqa.importers.survey import import_survey

    laptop, server = two
    wave_a = tmp_path / "wave-a.csv"
    wave_a.write_text("id,role,What helps recovery?,Anything else?\r\n"
                      "P4,Nurse,A good team and time to talk,Thanks for asking me about all this\r\n", encoding="utf-8")
    wave_b = tmp_path / "wave-b.csv"
    wave_b.write_text("id,role,What helps recovery?,What would you change?\r\n"
                      "P4,Nurse,A good team and some time to talk,More staff on the nights and weekends\r\n"
                      "P5,Cook,Food that tastes of something,Money for the kitchen and the garden\r\n", encoding="utf-8")
    import_survey(laptop, wave_a)
    with machine(tmp_path, "server") as srv:
        import_survey(server, wave_b)
    me = this_machine().id
    copy_machine(server, laptop, srv)
    copy_machine(laptop, server, me)
    views = []
    for where, who in ((laptop, None), (server, "server")):
        if who:
            with machine(tmp_path, who):
                p = Project.open(where)
        else:
            p = Project.open(where)
        views.append(({q.text: q.key for q in p.questions.values()},
                      {r.id: r.text for r in p.responses.values()},
                      sorted(x.pid for x in p.participants.values()), list(p.store.warnings)))
        p.close()
    assert views[0][:3] == views[1][:3]
    keys, texts, pids, warnings = views[0]
    assert pids == ["P1", "P2", "P3", "P4", "P5"]
    assert sorted(keys.values()) == ["Q1", "Q2", "Q3", "Q4"]  # Q3 was taken twice: one is Q4
    assert any("Q3" in w and "two machines" in w for w in warnings)
    assert "A good team and time to talk" in texts.values()  # the laptop imported first
    assert "A good team and some time to talk" not in texts.values()


def test_machine_identity_is_private_per_host_and_survives_an_unwritable_home(tmp_path, monkeypatch):
    from tuiqa.store import machine as M

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home"))
    first = M.this_machine()
    path = tmp_path / "home" / "tuiqa" / M.MACHINE_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert M.this_machine() == first  # stable
    monkeypatch.setattr(M, "host_key", lambda: "another-host/some-id/0")  # the same home, cloned
    second = M.this_machine()
    assert second.id != first.id and M.valid_machine_id(second.id)
    monkeypatch.setenv("XDG_DATA_HOME", "/proc/no/such/place")  # no writable home
    derived = M.this_machine()
    assert derived == M.this_machine() and M.valid_machine_id(derived.id)


def test_ignore_files_keep_local_files_from_travelling(tiny_project):
    gitignore = (tiny_project / ".gitignore").read_text()
    stignore = (tiny_project / ".stignore").read_text()
    for pattern in ("machines/*/.lock", "machines/*/backups/", "**/.*.tmp"):
        assert pattern in gitignore
    assert "(?d)machines/*/backups" in stignore
    meta = (tiny_project / "tuiqa.json").read_bytes()
    assert orjson.loads(meta)["schema_version"] == 2


V1 = Path(__file__).resolve().parent / "data" / "projects" / "v1"


def v1_project(where: Path) -> Path:
    shutil.copytree(V1, where)
    return where


def test_two_machines_migrating_the_same_synced_folder_at_once(tmp_path):
    """Both upgrade tuiqa and open their copy of a schema-1 folder before the sync tool has
    carried either migration: both write the same tuiqa.json, each its own machine folder, and
    once each has the other's, both show the same project, nothing twice."""
    a = v1_project(tmp_path / "a" / "study")
    b = v1_project(tmp_path / "b" / "study")
    with machine(tmp_path, "a") as ma:
        with Project.open(a) as p:
            code(p, "ann", "after the upgrade, on a")
    with machine(tmp_path, "b") as mb:
        with Project.open(b) as p:
            code(p, "bea", "after the upgrade, on b", 1)
    assert (a / "tuiqa.json").read_bytes() == (b / "tuiqa.json").read_bytes()
    assert (a / ".gitignore").read_bytes() == (b / ".gitignore").read_bytes()
    copy_machine(a, b, ma)
    copy_machine(b, a, mb)
    seen = []
    for where, who in ((a, "a"), (b, "b")):
        with machine(tmp_path, who):
            with Project.open(where) as p:
                seen.append(({c.id: c.values() for c in p.all_codings()},
                             {c.id: c.name for c in p.codes()}, len(p.responses)))
    assert seen[0] == seen[1]
    assert {"after the upgrade, on a", "after the upgrade, on b"} <= set(seen[0][1].values())
    assert seen[0][2] == 5


def test_schema_1_files_arriving_after_the_migration_are_read(tmp_path):
    """An older tuiqa on another machine kept working in the schema-1 layout; its files arrive
    after this machine migrated: their changes appear, and nothing of this machine's is lost."""
    a = v1_project(tmp_path / "a" / "study")
    b = v1_project(tmp_path / "b" / "study")
    with machine(tmp_path, "a"):
        with Project.open(a) as p:
            code(p, "ann", "new layout")
    # meanwhile, the older tuiqa on b writes a journal in the old layout
    from .machines import write_v1_journal

    write_v1_journal(b, "bbbbbbbb", "1795843856999.0000.bbbbbbbb", "m-old", "old layout")
    shutil.copytree(b / "journal", a / "journal")  # the sync tool brings it
    with machine(tmp_path, "a"):
        with Project.open(a) as p:
            assert "new layout" in {c.name for c in p.codes()}
            assert "old layout" in [m.text for m in p.state.table("memo").values()]
            assert any("older tuiqa" in w for w in p.store.warnings)


def test_status_says_what_has_arrived_from_whom(two, tmp_path, capsys):
    from tests.helpers import cli

    laptop, server = two
    with Project.open(laptop) as p:
        code(p, "ann", "on the laptop")
    with machine(tmp_path, "server") as srv:
        with Project.open(server) as p:
            code(p, "bea", "folded on the server")
        p = Project.open(server)
        code(p, "bea", "still arriving", 1)
        p.store._writer.close()
        p.store._writer = None
    copy_machine(server, laptop, srv)
    journal = next((laptop / L.MACHINES_DIR / srv / L.JOURNAL_DIR).iterdir())
    journal.write_bytes(journal.read_bytes()[:-7])  # cut mid-line
    folder = laptop / L.MACHINES_DIR / srv
    shutil.copy(folder / L.SNAPSHOT_FILE, folder / "data (conflicted copy 2026-05-01).json")
    code_, out, _ = cli(capsys, "status", laptop)
    assert code_ == 0
    assert f"{this_machine().id} (this machine): ann" in out
    assert f"{srv}: bea" in out
    assert "1 session(s) not yet folded" in out and "partial:" in out and "ends mid-line" in out
    assert "last change" in out and "snapshot of" in out
    assert "conflicted cop" in out and "data (conflicted copy 2026-05-01).json" in out
    before = files_of(laptop)
    cli(capsys, "status", laptop)
    assert files_of(laptop) == before


async def test_the_app_shows_what_arrives_from_another_machine(two, tmp_path):
    """A colleague's work arriving in the synced folder appears in the open app, with a notice
    saying what came from whom, without reopening."""
    from tuiqa.ui.factory import make_app

    laptop, server = two
    project = Project.open(laptop, lazy=True)
    app = make_app(project, "ann", refresh_seconds=0, welcome=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        with machine(tmp_path, "server") as srv:
            with Project.open(server) as p:
                code(p, "bea", "from the server")
                code(p, "bea", "and more", 1)
        copy_machine(server, laptop, srv)
        app.poll_project()
        await pilot.pause()
        assert project.code_by_name("from the server") is not None
        notes = [n.message for n in app._notifications]
        assert any("Arrived" in m and "from bea" in m and "2 codings" in m for m in notes), notes
    project.close()


def test_an_old_copy_sent_by_email_still_merges_and_is_only_read(tmp_path):
    """`tuiqa merge DIR OTHER` with OTHER a schema-1 copy: read as it is, never migrated."""
    from tuiqa.merge import merge_into

    old = v1_project(tmp_path / "mail" / "study")
    before = files_of(old)
    here = v1_project(tmp_path / "here" / "study")
    with Project.open(here) as p:  # (migrated: this one is ours)
        code(p, "ann", "made here")
    with Project.open(here) as p:
        report = merge_into(p, old, "ann")
        assert not report.skipped
        assert "made here" in {c.name for c in p.codes()}
    assert files_of(old) == before


def test_a_onedrive_copy_of_this_machines_snapshot_is_not_taken_for_its_own(tiny_project):
    """OneDrive names a conflicted copy after the host (data-LAPTOP.json): damaged, it is
    skipped with a warning; only this machine's own data.json stops every command."""
    with Project.open(tiny_project) as p:
        code(p, "ann", "mine")
    folder = tiny_project / L.MACHINES_DIR / this_machine().id
    (folder / "data-LAPTOP.json").write_bytes(b"{\n\"code\": {\n")
    with Project.open(tiny_project) as p:
        assert "mine" in {c.name for c in p.codes()}
        assert any("data-LAPTOP.json" in w for w in p.store.warnings)
