"""Nothing lost, part 2 (issue #13 items 1, 2, 4): the clock, a merge racing a coding, and the
folding of journals racing a session that ends."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.helpers import cli
from tuiqa import doctor
from tuiqa.project import Project
from tuiqa.session import Session
from tuiqa.store.stamps import parse

DAY_S = 86_400


def first_response(project: Project):
    return min(project.responses.values(), key=lambda r: r.id)


def make_code(directory: Path, name: str = "hope", coder: str = "ann") -> str:
    with Project.open(directory) as project:
        r = first_response(project)
        Session(project, coder).create_and_apply(r.id, 0, len(r.text), name, "semantic")
        return project.code_by_name(name).id


@pytest.fixture
def clock_ahead(monkeypatch):
    """Run a block with this process's clock a day ahead (a colleague's machine, a bad NTP)."""
    real = time.time

    class Ahead:
        def __enter__(self):
            monkeypatch.setattr(time, "time", lambda: real() + DAY_S)

        def __exit__(self, *exc):
            monkeypatch.setattr(time, "time", real)

    return Ahead()


def _drop_caches(directory: Path) -> None:
    from .machines import drop_cache

    drop_cache(directory)


# -- 1. the clock -----------------------------------------------------------------------------


@pytest.mark.parametrize("through", ["cache", "files"])
def test_an_edit_after_a_future_stamped_one_still_wins(tiny_project, capsys, clock_ahead, through):
    """The issue's repro: a rename stamped a day ahead is folded into the snapshot; a later rename
    made normally must still win ("Renamed 'hope X' to 'hope X'" and no change, before)."""
    make_code(tiny_project)
    with clock_ahead:
        code, out, _ = cli(capsys, "codes", tiny_project, "rename", "hope", "hope X")
    assert code == 0 and "to “hope X”" in out
    if through == "files":
        _drop_caches(tiny_project)
    code, out, _ = cli(capsys, "codes", tiny_project, "rename", "hope X", "hope Y")
    assert code == 0
    assert "Renamed “hope X” to “hope Y”" in out
    with Project.open(tiny_project) as project:
        assert [c.name for c in project.codes()] == ["hope Y"]


def test_an_edit_after_merging_a_future_stamped_copy_still_wins(tiny_project, tmp_path, clock_ahead):
    from tuiqa.merge import merge_into
    import shutil

    cid = make_code(tiny_project)
    other = tmp_path / "other"
    shutil.copytree(tiny_project, other)
    with clock_ahead:
        with Project.open(other) as p:
            Session(p, "bea").rename_code(cid, "hope (bea)")
    with Project.open(tiny_project) as project:
        merge_into(project, other, "ann")
        assert project.code(cid).name == "hope (bea)"
    with Project.open(tiny_project) as project:
        Session(project, "ann").rename_code(cid, "hope (ann, later)")
    with Project.open(tiny_project) as project:
        assert project.code(cid).name == "hope (ann, later)"


def test_an_edit_beats_the_value_it_replaces_even_if_the_clock_never_saw_it(tiny_project):
    """However the future value got in, a change made after seeing it is stamped after it."""
    cid = make_code(tiny_project)
    with Project.open(tiny_project) as project:
        code = project.code(cid)
        future = f"{int((time.time() + 3 * DAY_S) * 1000):013d}.0000.ffffffff"
        project.state.apply({"s": future, "k": "code", "i": cid, "f": {"name": "from the future"},
                             "p": {"name": code.stamp_of("name")}})
        from tuiqa.store.stamps import Clock

        project.store.clock = Clock(project.store.session)  # a clock that has seen nothing
        Session(project, "ann").rename_code(cid, "now")
        assert project.code(cid).name == "now"
        assert project.code(cid).stamp_of("name") > future


def test_doctor_reports_stamps_far_in_the_future(tiny_project, clock_ahead, monkeypatch):
    make_code(tiny_project)
    assert not any("future" in f.what for f in doctor.check(tiny_project).findings)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3 * DAY_S)
    with Project.open(tiny_project) as project:
        Session(project, "bea").rename_code(project.codes()[0].id, "from the future")
    monkeypatch.setattr(time, "time", real)
    up = doctor.check(tiny_project)
    found = [f for f in up.findings if "future" in f.what]
    assert found and found[0].level == doctor.WARNING
    assert "1 change" in found[0].what


def test_the_clock_moves_past_every_stamp_it_loads(tiny_project, clock_ahead):
    make_code(tiny_project)
    with clock_ahead:
        with Project.open(tiny_project) as p:
            Session(p, "bea").rename_code(p.codes()[0].id, "ahead")
            ahead = p.codes()[0].stamp_of("name")
    for lazy in (False, True):
        project = Project.open(tiny_project, lazy=lazy)
        assert parse(project.store.new_stamp()) > parse(ahead)
        project.close()


# -- 2. a merge racing a coding --------------------------------------------------------------


def two_codes(directory: Path) -> tuple[str, str, list[str]]:
    """Codes 'alpha' and 'hope', one coding each; returns their ids and the response ids."""
    with Project.open(directory) as project:
        rids = sorted(project.responses)
        s = Session(project, "lead")
        for rid, name in zip(rids, ("alpha", "hope")):
            s.create_and_apply(rid, 0, len(project.responses[rid].text), name, "semantic")
        return project.code_by_name("alpha").id, project.code_by_name("hope").id, rids


def orphans(project: Project) -> list:
    codes = project.state.table("code")
    return [c for c in project.all_codings()
            if c.code_id not in codes or codes[c.code_id].deleted]


def view(project: Project) -> dict:
    return {c.id: (c.response_id, project.code_name(c.code_id), c.coder, c.start, c.end)
            for c in project.all_codings()}


def test_a_coding_made_while_its_code_was_merged_follows_the_merge(tiny_project, capsys):
    """The app codes 'alpha' just after `tuiqa codes P merge alpha --into hope` ran in another
    process: the coding must end up under 'hope' (counted, in extracts, in themes), the same
    way in every process, and nothing may point at the deleted code."""
    from tuiqa import codebook

    alpha, hope, rids = two_codes(tiny_project)
    app = Project.open(tiny_project)  # the app, open before the merge
    code, out, _ = cli(capsys, "codes", tiny_project, "merge", "alpha", "--into", "hope")
    assert code == 0
    r = app.responses[rids[2]]
    Session(app, "ann").apply_codes(r.id, 0, len(r.text), [alpha])  # "Coded alpha"
    app.refresh("ann")
    other = Project.open(tiny_project)
    for p in (app, other):
        assert orphans(p) == []
        extracts = codebook.extracts_of(p, hope)
        assert {(c.response_id, c.coder) for c in extracts} >= {(rids[2], "ann")}
        assert codebook.code_stats(p)[hope].extracts == 3
    assert view(app) == view(other)
    other.close()
    app.close()
    with Project.open(tiny_project) as fresh:
        assert orphans(fresh) == []
        assert codebook.code_stats(fresh)[hope].extracts == 3


def test_the_merge_and_the_coding_resolve_the_same_in_either_order(tiny_project):
    alpha, hope, rids = two_codes(tiny_project)
    a, b = Project.open(tiny_project), Project.open(tiny_project)
    Session(b, "bea").merge_codes([alpha], hope)
    r = a.responses[rids[2]]
    Session(a, "ann").apply_codes(r.id, 0, len(r.text), [alpha])
    b.refresh("bea")  # b sees the coding after its merge; a sees the merge after its coding
    a.refresh("ann")
    a.refresh("ann")
    b.refresh("bea")
    assert orphans(a) == orphans(b) == []
    assert view(a) == view(b)
    assert sum(1 for c in a.all_codings() if c.code_id == hope) == 3
    a.close()
    b.close()


def test_a_coding_made_while_its_code_was_deleted_brings_the_code_back(tiny_project):
    alpha, hope, rids = two_codes(tiny_project)
    a, b = Project.open(tiny_project), Project.open(tiny_project)
    Session(b, "bea").delete_code(alpha)
    r = a.responses[rids[2]]
    Session(a, "ann").apply_codes(r.id, 0, len(r.text), [alpha])
    a.refresh("ann")
    b.refresh("bea")
    for p in (a, b):
        assert orphans(p) == []
        assert p.code(alpha) is not None and not p.code(alpha).deleted  # revived …
        assert [c.coder for c in p.all_codings() if c.code_id == alpha] == ["ann"]  # … with ann's
    assert view(a) == view(b)
    a.close()
    b.close()


def _raw_coding(directory: Path, code_id: str, response_id: str) -> None:
    """A coding written straight into a journal (as a hand edit or a half-arrived copy would)."""
    from tuiqa.store import journal as jn

    with Project.open(directory) as project:
        project.store.begin_session("raw")
        path = project.store.journal_path
        stamp = project.store.new_stamp()
        text = project.responses[response_id].text
        op = {"s": stamp, "k": "coding", "i": f"raw-{code_id[:8]}", "f": {
            "response_id": response_id, "code_id": code_id, "coder": "raw", "start": 0,
            "end": len(text), "text_hash": project.responses[response_id].hash}}
        project.store._writer.append({"t": stamp, "u": "raw", "ops": [op]})
        assert jn.read_from(path, 0).txns
        project.store._writer.close()
        project.store._writer = None


def test_doctor_finds_codings_on_a_deleted_or_missing_code(tiny_project):
    alpha, hope, rids = two_codes(tiny_project)
    _raw_coding(tiny_project, "no-such-code", rids[2])
    up = doctor.check(tiny_project)
    assert any("code that does not exist" in f.what for f in up.findings), up.lines()
    # 'alpha' deleted by a process that died before it could do anything else: its coding is
    # left on a deleted code in the files (the next writable open resolves it)
    b = Project.open(tiny_project)
    b.store.commit([{"s": b.store.new_stamp(), "k": "code", "i": alpha, "f": {"deleted": True},
                     "p": {"deleted": b.code(alpha).stamp_of("deleted")}}], "bea")
    b.store._writer.close()
    b.store._writer = None
    up = doctor.check(tiny_project)
    found = [f for f in up.findings if "deleted code" in f.what]
    assert found and "1 coding" in found[0].what and found[0].level == doctor.WARNING, up.lines()


# -- 4. folding racing a session that ends ---------------------------------------------------


def test_a_session_that_ends_while_journals_are_folded_loses_nothing(tiny_project):
    """Folding read the journals, then listed the dead ones: a session that appended and exited
    in between was archived at the old offset, its last change kept only in backups/torn-*."""
    cid = make_code(tiny_project)
    other = Project.open(tiny_project)  # bea's session, alive
    Session(other, "bea").rename_code(cid, "first")
    folder = Project.open(tiny_project)
    Session(folder, "ann").toggle_done(first_response(folder).id)
    real = folder.store._catch_up

    def racing(*args, **kwargs):
        out = real(*args, **kwargs)
        if other.store.has_session:  # bea renames once more and her process ends, just now
            Session(other, "bea").rename_code(cid, "last")
            other.store._writer.close()
            other.store._writer = None
        return out

    folder.store._catch_up = racing
    folder.close()  # folds the journals of sessions that have ended
    with Project.open(tiny_project) as project:
        assert project.code(cid).name == "last"
        assert project.is_done(first_response(project).id, "ann")


def test_a_deleted_code_is_not_brought_back_beside_a_new_one_of_its_name(tiny_project):
    """Deleted, then a new code of the same name made elsewhere: a coding made meanwhile on
    the deleted one goes to the code that has its name now (two codes never share a name)."""
    from tuiqa.model import Code, new_id

    alpha, hope, rids = two_codes(tiny_project)
    a, b = Project.open(tiny_project), Project.open(tiny_project)
    Session(b, "bea").delete_code(alpha)
    change = b.change("a new alpha")
    fresh = change.create(Code, new_id(), name="Alpha", created_by="bea")
    b.commit(change, "bea")
    r = a.responses[rids[2]]
    Session(a, "ann").apply_codes(r.id, 0, len(r.text), [alpha])
    a.refresh("ann")
    b.refresh("bea")
    for p in (a, b):
        assert orphans(p) == []
        assert p.code(alpha).deleted
        assert [c.coder for c in p.all_codings() if c.code_id == fresh] == ["ann"]
        assert [c.name for c in p.codes()].count("Alpha") == 1
    a.close()
    b.close()
