"""The fast-open cache: same state as the files, never trusted when stale or damaged."""

from __future__ import annotations

import os

from tuiqa.project import Project
from tuiqa.session import Session
from .machines import cache_file as cache_path


def snapshot(project: Project) -> dict:
    """Everything a user could see, as plain values."""
    st = project.state
    return {
        "participants": {k: (p.pid, p.attrs, p.order) for k, p in st.participants.items()},
        "questions": {k: (q.key, q.text, q.column, q.order) for k, q in st.questions.items()},
        "responses": {k: (r.participant_id, r.question_id, r.text, r.hash) for k, r in st.responses.items()},
        "entities": {kind: {i: (o.values(), o._s, o._fh) for i, o in table.items()}
                     for kind, table in st.entities.items() if table},
        "by_response": {rid: sorted(c.id for c in project.codings_for(rid)) for rid in st.responses},
        "done": {c: sorted(v) for c, v in project.done.items() if v},
        "codes": [c.name for c in project.codes()],
    }


def write_fresh_cache(directory) -> None:
    with Project.open(directory) as project:
        project.store.write_cache()


def test_cache_gives_exactly_the_state_the_files_give(sample_project):
    with Project.open(sample_project) as project:
        session = Session(project, "ann")
        r = next(iter(project.responses.values()))
        session.create_and_apply(r.id, 0, 3, "cache me", "latent")
        session.save_memo("response", r.id, "a memo")
    assert cache_path(sample_project).exists()  # written when the journal was folded
    os.rename(cache_path(sample_project), cache_path(sample_project).with_suffix(".off"))
    with Project.open(sample_project) as from_files:
        expected = snapshot(from_files)
    os.rename(cache_path(sample_project).with_suffix(".off"), cache_path(sample_project))
    with Project.open(sample_project) as from_cache:
        assert from_cache.store.warnings == []
        assert snapshot(from_cache) == expected
    lazy = Project.open(sample_project, lazy=True)
    assert lazy.loading
    first = next(iter(lazy.responses))
    assert sorted(c.id for c in lazy.codings_for(first)) == expected["by_response"][first]
    lazy.start_loading()
    while not lazy.try_complete():
        pass
    assert snapshot(lazy) == expected
    lazy.close()


def test_a_change_during_a_lazy_open_waits_for_the_whole_project(sample_project):
    write_fresh_cache(sample_project)
    project = Project.open(sample_project, lazy=True)
    assert project.loading
    session = Session(project, "ann")
    rid = next(c.response_id for c in project.state.table("coding").values()) \
        if project.state.table("coding") else next(iter(project.responses))
    session.toggle_done(rid)  # must not be lost or applied to a half-loaded state
    assert not project.loading
    assert project.is_done(rid, "ann")
    assert len(list(project.all_codings())) == 59
    project.close()


def test_a_lazy_open_counts_as_loading_until_everything_is_swapped_in(sample_project):
    """Work on another thread (agreement) waits while ``loading``: that must hold until the
    decoded codings are in place, not only until the background decoding has ended."""
    write_fresh_cache(sample_project)
    project = Project.open(sample_project, lazy=True)
    seen = []
    swap = project._swap_in_decoded

    def watched() -> None:
        swap()
        assert project.store.pending is None  # nothing left pending in the store…
        seen.append(project.loading)  # …but the swap is not over until this returns

    project._swap_in_decoded = watched
    project.finish_loading()
    assert seen == [True] and not project.loading
    assert len(list(project.all_codings())) == 59
    project.close()


def test_checking_on_a_lazy_open_never_does_the_decoding_itself(sample_project):
    """The app asks now and then whether the background decoding is done. Asked before that
    work has started, the answer is "not yet": finishing then would decode everything on the
    asking thread, and the app's first frame waited for it (about a second at 50,000 answers)."""
    write_fresh_cache(sample_project)
    project = Project.open(sample_project, lazy=True)
    assert project.try_complete() is False
    assert project.loading and project.store.pending is not None  # nothing decoded here
    project.start_loading()
    while not project.try_complete():
        pass
    assert not project.loading and len(list(project.all_codings())) == 59
    project.close()


def test_a_stale_cache_is_ignored(sample_project):
    write_fresh_cache(sample_project)
    # someone else changes the project (their close rewrites data.json) without our cache knowing
    other = Project.open(sample_project)
    Session(other, "bea").toggle_done(next(iter(other.responses)))
    saved = cache_path(sample_project).read_bytes()
    other.close()
    cache_path(sample_project).write_bytes(saved)
    os.chmod(cache_path(sample_project), 0o600)
    with Project.open(sample_project) as project:
        assert len(project.done.get("bea", ())) == 1


def test_a_damaged_or_foreign_cache_is_ignored(sample_project):
    write_fresh_cache(sample_project)
    with Project.open(sample_project) as project:
        expected = snapshot(project)
    path = cache_path(sample_project)
    good = path.read_bytes()
    for damaged in (b"", b"\x00" * 100, good[:-5000], good[:8] + b"junk" + good[12:]):
        path.write_bytes(damaged)
        os.chmod(path, 0o600)
        with Project.open(sample_project) as project:
            assert snapshot(project) == expected
    path.write_bytes(good)
    os.chmod(path, 0o644)  # not private: never read
    with Project.open(sample_project) as project:
        assert snapshot(project) == expected


def test_journals_beyond_the_cache_are_replayed(sample_project):
    write_fresh_cache(sample_project)
    crashed = Project.open(sample_project)
    Session(crashed, "kim").toggle_done(next(iter(crashed.responses)))
    crashed.store._writer.close()  # dies without folding its journal
    with Project.open(sample_project, lazy=True) as project:
        assert len(project.done.get("kim", ())) == 1
