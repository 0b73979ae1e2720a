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
    from tuiqa.store.cache import remove_cache

    remove_cache(directory)


# -- 1. the clock -----------------------------------------------------------------------------


@pytest.mark.parametrize("through", ["cache", "files"])
def test_an_edit_after_a_future_stamped_one_still_wins(tiny_project, capsys, clock_ahead, through):
    """The issue's repro: a rename stamped a day ahead is folded into the snapshot; a later rename
    made normally must still win ("Renamed 'hope X' to 'hope X'" and no change, before)."""
    make_code(tiny_project)
    with clock_ahead:
        code, out, _ = cli(capsys, "codes", tiny_project, "rename", "hope", "hope X")
    assert code == 0 and "to 'hope X'" in out
    if through == "files":
        _drop_caches(tiny_project)
    code, out, _ = cli(capsys, "codes", tiny_project, "rename", "hope X", "hope Y")
    assert code == 0
    assert "Renamed 'hope X' to 'hope Y'" in out
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
