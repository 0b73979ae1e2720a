"""The project store: durable, private, concurrent, and never overwriting a damaged file."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tinydb import TinyDB

from tuiqa.model import Code
from tuiqa.project import Project
from tuiqa.session import Session
from tuiqa.store.state import State
from tuiqa.store.store import ProjectError
from tuiqa.store.tinyjson import ProjectStorage

from .machines import own

ROOT = Path(__file__).resolve().parent.parent


def first_response(project: Project):
    return min(project.responses.values(), key=lambda r: r.id)


def code_something(project: Project, coder: str = "ann", name: str = "hope") -> str:
    session = Session(project, coder)
    r = first_response(project)
    change = project.change("t")
    cid = project.ensure_code(change, name, coder=coder)
    project.add_coding(change, r.id, cid, coder, 0, len(r.text))
    project.commit(change, coder)
    del session
    return cid


def files_under(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


# -- format ----------------------------------------------------------------------------------


def test_files_are_tinydb_databases_one_document_per_line(tiny_project):
    with Project.open(tiny_project) as project:
        code_something(project)
    db = TinyDB(str(own(tiny_project) / "data.json"), storage=ProjectStorage, access_mode="r")
    codes = db.table("code").all()
    assert [c["name"] for c in codes] == ["hope"]
    lines = (own(tiny_project) / "data.json").read_text().splitlines()
    assert any(line.startswith('"1": {') and '"name":"hope"' in line for line in lines)
    [survey_file] = (own(tiny_project) / "imports").iterdir()
    survey = TinyDB(str(survey_file), storage=ProjectStorage, access_mode="r")
    assert len(survey.table("responses")) == 5
    meta = orjson.loads((tiny_project / "tuiqa.json").read_bytes())
    assert meta["schema_version"] == 2 and meta["format"] == "tuiqa-project"


def test_hand_edited_layout_still_loads(tiny_project):
    """A data.json reformatted by hand (not one document per line) is parsed whole."""
    with Project.open(tiny_project) as project:
        code_something(project)
    data_path = own(tiny_project) / "data.json"
    data = orjson.loads(data_path.read_bytes())
    data_path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    from tuiqa.store.cache import cache_dir
    import shutil

    shutil.rmtree(cache_dir(), ignore_errors=True)
    with Project.open(tiny_project) as project:
        assert [c.name for c in project.codes()] == ["hope"]
        assert len(list(project.all_codings())) == 1


# -- durability ------------------------------------------------------------------------------


def test_a_change_is_in_the_journal_before_commit_returns(tiny_project):
    project = Project.open(tiny_project)
    code_something(project)
    journal = project.store.journal_path
    assert journal is not None and journal.exists()
    lines = journal.read_bytes().splitlines()
    assert any(b'"k":"coding"' in line for line in lines)
    # a second process (here: a second open) sees it without any close
    other = Project.open(tiny_project)
    assert len(list(other.all_codings())) == 1
    other.close(compact=False)
    project.close()


def test_killed_process_loses_nothing_acknowledged(tiny_project):
    """A child applies changes and acknowledges each on stdout; SIGKILL; everything acked is there."""
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from tuiqa.project import Project
        p = Project.open({str(tiny_project)!r})
        rs = sorted(p.responses.values(), key=lambda r: r.id)
        i = 0
        while True:
            ch = p.change("x")
            cid = p.ensure_code(ch, f"code {{i}}", coder="kid")
            r = rs[i % len(rs)]
            p.add_coding(ch, r.id, cid, "kid", 0, len(r.text))
            p.commit(ch, "kid")
            print(i, flush=True)
            i += 1
    """)
    acked: set[int] = set()
    for round_ in range(4):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + random.uniform(0.3, 0.8)
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line:
                acked.add(int(line))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with Project.open(tiny_project) as project:
            names = {c.name for c in project.codes()}
            missing = [i for i in acked if f"code {i}" not in names]
            assert not missing, f"round {round_}: lost {missing[:5]}"
        acked.clear()


def test_torn_journal_tail_is_ignored_and_kept(tiny_project):
    project = Project.open(tiny_project)
    code_something(project)
    journal = project.store.journal_path
    project.store._writer.close()  # the process "dies" here …
    with open(journal, "ab") as fh:
        fh.write(b'{"t":"1","u":"x","ops":[{"s":')  # … in the middle of its next write
    with Project.open(tiny_project) as reopened:
        assert len(list(reopened.all_codings())) == 1
    assert not journal.exists()  # folded into data.json
    torn = list((own(tiny_project) / "backups").glob("torn-*"))
    assert torn and torn[0].read_bytes().startswith(b'{"t":"1"')


def test_sighup_ends_the_app_with_changes_on_disk(sample_project, tmp_path):
    """An SSH drop: the app gets SIGHUP right after a change and exits cleanly; the change is there."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # child: the real app in a real terminal
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [sys.executable, "-m", "tuiqa", "open", str(sample_project),
                                  "--coder", "hup"])
    output = bytearray()

    def read_for(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                import select

                ready, _, _ = select.select([fd], [], [], 0.05)
                if ready:
                    output.extend(os.read(fd, 65536))
            except OSError:
                return

    read_for(4.0)
    os.write(fd, b"d")  # mark the first response done
    read_for(1.0)
    os.kill(pid, signal.SIGHUP)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    with Project.open(sample_project) as project:
        assert len(project.done.get("hup", ())) == 1


# -- privacy ---------------------------------------------------------------------------------


def test_files_are_owner_only(tiny_project):
    with Project.open(tiny_project) as project:
        code_something(project)
    for path in [tiny_project, *tiny_project.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"


def test_group_shared_project_is_group_readable_not_world(tmp_path, tiny_survey):
    from tuiqa.importers.survey import import_survey

    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o2770)
    import_survey(shared, tiny_survey)
    with Project.open(shared) as project:
        code_something(project)
        project.store.begin_session("x")
        journal = project.store.journal_path
        assert stat.S_IMODE(journal.stat().st_mode) == 0o660
    for path in shared.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.parent.name == ".cache":  # each member's private fast-open cache: owner-only
            assert mode == 0o600
            continue
        assert mode & 0o007 == 0, f"{path} is open to others: {oct(mode)}"
        if path.is_file():
            assert mode & 0o060 == 0o060, f"{path} not shared with the group: {oct(mode)}"


# -- damage ----------------------------------------------------------------------------------


def _survey_file(d: Path) -> Path:
    return next((own(d) / "imports").iterdir())


@pytest.mark.parametrize("damage, expected", [
    (lambda d: (own(d) / "data.json").write_bytes((own(d) / "data.json").read_bytes()[:-40]),
     "data.json is damaged"),
    (lambda d: (own(d) / "data.json").write_bytes(b"\x00\xff garbage \x13"), "data.json is damaged"),
    (lambda d: (own(d) / "data.json").unlink(), "data.json is missing"),
    (lambda d: _survey_file(d).write_bytes(b""), "is damaged: it is empty"),
    (lambda d: _survey_file(d).write_bytes(b"{\n\"participants\": {\n\"1\": {\"id\""), "survey-"),
    (lambda d: _survey_file(d).unlink(), "is missing"),
    (lambda d: (d / "tuiqa.json").write_bytes(b'{"format": "tuiqa-project", "schema_version": 99}'),
     "newer tuiqa"),
    (lambda d: (d / "tuiqa.json").write_bytes(b'{"format": "tuiqa-project", "schema_version": "x"}'),
     "unknown schema version"),
    (lambda d: (d / "tuiqa.json").write_bytes(b"{not json"), "tuiqa.json is damaged"),
])
def test_damaged_project_is_refused_and_left_untouched(tiny_project, damage, expected):
    with Project.open(tiny_project) as project:
        code_something(project)
    damage(tiny_project)
    before = files_under(tiny_project)
    with pytest.raises(ProjectError) as info:
        Project.open(tiny_project)
    message = str(info.value)
    assert expected in message
    assert "Nothing was changed" in message
    assert files_under(tiny_project) == before


def test_damaged_journal_line_names_the_file_and_line(tiny_project):
    project = Project.open(tiny_project)
    code_something(project)
    code_something(project, name="trust")
    journal = project.store.journal_path
    project.store._writer.close()
    lines = journal.read_bytes().split(b"\n")
    lines[1] = b"{garbage"
    journal.write_bytes(b"\n".join(lines))
    before = files_under(tiny_project)
    with pytest.raises(ProjectError, match=r"line 2"):
        Project.open(tiny_project)
    assert files_under(tiny_project) == before


def test_stale_temp_files_are_removed(tiny_project):
    with Project.open(tiny_project) as project:
        code_something(project)
    stale = own(tiny_project) / ".data.json.abc.tmp"
    stale.write_bytes(b"half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    with Project.open(tiny_project):
        pass
    assert not stale.exists()


def test_backups_keep_the_last_good_states(tiny_project):
    for i in range(8):
        with Project.open(tiny_project) as project:
            code_something(project, name=f"c{i}")
    backups = sorted((own(tiny_project) / "backups").glob("data.json.*"))
    assert 1 <= len(backups) <= 5
    newest = orjson.loads(backups[-1].read_bytes())
    assert {d["name"] for d in newest["code"].values()} == {f"c{i}" for i in range(7)}


# -- two coders at once ----------------------------------------------------------------------


def test_two_sessions_see_each_other_and_lose_nothing(tiny_project):
    a = Project.open(tiny_project)
    b = Project.open(tiny_project)
    code_something(a, "ann", "hope")
    code_something(b, "bea", "trust")
    a.refresh()
    b.refresh()
    for p in (a, b):
        assert {c.name for c in p.codes()} == {"hope", "trust"}
        assert {c.coder for c in p.all_codings()} == {"ann", "bea"}
    a.close()
    b.close()
    with Project.open(tiny_project) as p:
        assert len(list(p.all_codings())) == 2
        assert not list((own(tiny_project) / "journal").iterdir())


def test_same_code_created_by_two_coders_at_once_is_one_code(tiny_project):
    a = Project.open(tiny_project)
    b = Project.open(tiny_project)
    code_something(a, "ann", "Hope")
    code_something(b, "bea", "hope")
    a.refresh()
    b.refresh()
    assert len(a.codes()) == 1 and len(b.codes()) == 1
    assert len(list(a.all_codings())) == 2
    a.close()
    b.close()


def test_conflicting_renames_later_wins_and_the_other_is_reported(tiny_project):
    with Project.open(tiny_project) as p:
        cid = code_something(p, "ann", "hope")
    a = Project.open(tiny_project)
    b = Project.open(tiny_project)
    ch = a.change("rename")
    ch.update("code", cid, name="hopefulness")
    a.commit(ch, "ann")
    time.sleep(0.002)
    ch = b.change("rename")
    ch.update("code", cid, name="optimism")
    b.commit(ch, "bea")
    ra = a.refresh("ann")
    b.refresh("bea")
    assert a.code(cid).name == b.code(cid).name == "optimism"
    assert ra.conflicts and ra.conflicts[0].lost == "hopefulness"
    a.refresh()
    recorded = a.conflicts()
    assert recorded and recorded[0].lost == "hopefulness" and recorded[0].kept == "optimism"
    a.close()
    b.close()


def test_independent_field_changes_both_survive(tiny_project):
    with Project.open(tiny_project) as p:
        cid = code_something(p, "ann", "hope")
    a = Project.open(tiny_project)
    b = Project.open(tiny_project)
    ch = a.change("describe")
    ch.update("code", cid, description="what gives people a future")
    a.commit(ch, "ann")
    ch = b.change("kind")
    ch.update("code", cid, kind="latent")
    b.commit(ch, "bea")
    a.refresh()
    b.refresh()
    for p in (a, b):
        code = p.code(cid)
        assert (code.description, code.kind) == ("what gives people a future", "latent")
        assert not p.conflicts()
    a.close()
    b.close()


# -- the merge rule --------------------------------------------------------------------------

ops_strategy = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["name", "kind", "description"]),
              st.text(max_size=5)),
    min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(ops=ops_strategy, seed=st.integers(0, 10_000))
def test_ops_converge_in_any_order_and_twice(ops, seed):
    """Applying the same changes in any order, or twice, gives the same state."""
    log = [{"s": "0000000000001.0000.aaaaaaaa", "k": "code", "i": "X",
            "f": {"name": "start", "kind": "semantic", "description": ""}}]
    for n, (session, field, value) in enumerate(ops, 2):
        stamp = f"{n:013d}.0000.{session * 8}"
        log.append({"s": stamp, "k": "code", "i": "X", "f": {field: value},
                    "p": {field: log[-1]["s"]}})

    def final(order):
        state = State()
        for op in order:
            state.apply(op)
        code = state.table("code")["X"]
        return code.values(), {f: code.history_of(f)[0] for f in Code.FIELDS}

    expected = final(log)
    shuffled = log[:]
    random.Random(seed).shuffle(shuffled)
    assert final(shuffled) == expected
    assert final(log + shuffled) == expected


# -- undo ------------------------------------------------------------------------------------


def test_undo_and_redo_restore_values_exactly(sample_project):
    with Project.open(sample_project) as project:
        session = Session(project, "ann")
        r = project.responses[min(c.response_id for c in project.all_codings())]
        before = {c.id: c.values() for c in project.all_codings()}
        outcome = session.create_and_apply(r.id, 0, 5, "brand new", "latent")
        assert outcome.changed
        assert not session.remove_coding(next(c.id for c in project.codings_for(r.id, "lead"))).changed
        session.remove_coding(next(c.id for c in project.codings_for(r.id, "ann")))
        session.undo()
        session.undo()
        after = {c.id: c.values() for c in project.all_codings()}
        assert after == before
        assert project.code_by_name("brand new") is None
        session.redo()
        assert project.code_by_name("brand new").kind == "latent"
        assert len(project.codings_for(r.id, "ann")) == 1


def test_undo_does_not_clobber_someone_elses_later_change(tiny_project):
    a = Project.open(tiny_project)
    b = Project.open(tiny_project)
    sa = Session(a, "ann")
    r = first_response(a)
    sa.create_and_apply(r.id, 0, len(r.text), "hope", "semantic")
    b.refresh()
    cid = b.code_by_name("hope").id
    ch = b.change("rename")
    ch.update("code", cid, deleted=True)
    b.commit(ch, "bea")
    ch = b.change("restore")
    ch.update("code", cid, deleted=False, name="hope (kept)")
    b.commit(ch, "bea")
    a.refresh()
    outcome = sa.undo()
    assert "except" in outcome.message  # the code's 'deleted' was changed since by bea
    assert a.code(cid).deleted is False
    a.close()
    b.close()


def test_a_reload_after_someone_elses_compaction_keeps_my_unfolded_changes(tiny_project):
    a = Project.open(tiny_project)
    b = Project.open(tiny_project)
    code_something(a, "ann", "mine")
    code_something(b, "bea", "theirs")
    b.close()  # folds bea's journal: data.json changes under ann's feet
    result = a.refresh("ann")
    assert result.changed
    assert {c.name for c in a.codes()} == {"mine", "theirs"}
    assert {c.coder for c in a.all_codings()} == {"ann", "bea"}
    a.close()
    with Project.open(tiny_project) as p:
        assert {c.name for c in p.codes()} == {"mine", "theirs"}


creations = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]),
              st.sampled_from(["create", "update"]),
              st.dictionaries(st.sampled_from(["blind", "ui_theme", "welcomed", "recent"]),
                              st.sampled_from([False, True, "", "dark", (), ("x",)]),
                              min_size=1, max_size=3)),
    min_size=1, max_size=10)


@settings(max_examples=150, deadline=None)
@given(steps=creations, seed=st.integers(0, 10_000))
def test_an_entity_created_in_two_places_converges_in_any_order(steps, seed):
    """The same derived-id entity (a coder's preferences) created by two sessions that had not
    seen each other, with different fields, then changed: every order of arrival ends the same
    (a creation's defaults never undo what the other creation set)."""
    log = []
    heads: dict[str, str] = {}
    for n, (session, what, fields) in enumerate(steps, 1):
        stamp = f"{n:013d}.0000.{session * 8}"
        if what == "create" or not heads:
            log.append({"s": stamp, "k": "coderpref", "i": "P", "f": {"coder": "ann", **fields}})
        else:
            log.append({"s": stamp, "k": "coderpref", "i": "P", "f": fields,
                        "p": {f: heads.get(f, log[0]["s"]) for f in fields}})
        for f in fields:
            heads[f] = stamp

    def final(order):
        state = State()
        for op in order:
            state.apply(op)
        obj = state.table("coderpref").get("P")
        return obj.values(), obj._s, obj._fh or None

    expected = final(log)
    shuffled = log[:]
    random.Random(seed).shuffle(shuffled)
    assert final(shuffled) == expected
    assert final(log + shuffled) == expected
