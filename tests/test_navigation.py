"""Reading order, filters and moving through answers."""

from __future__ import annotations

from tuiqa.navigation import BY_QUESTION, Filter, Navigator
from tuiqa.project import Project


def test_orders_filters_and_landing_on_the_next_shown_answer(sample_project):
    with Project.open(sample_project) as project:
        nav = Navigator(project, "tester")
        assert len(nav) == 260
        pids = [project.participants[project.responses[rid].participant_id].pid for rid in nav.sequence]
        assert pids[:3] == ["P1"] * 3  # by participant: all of P1's answers first
        nav.set_order(BY_QUESTION)
        keys = [project.questions[project.responses[rid].question_id].key for rid in nav.sequence]
        assert keys[:30] == ["Q1"] * 30
        nav.set_order("participant")
        # stand on a community participant's answer, then show only inpatient staff
        community = next(i for i, rid in enumerate(nav.sequence)
                         if project.participants[project.responses[rid].participant_id].attrs["Setting"] == "Community"
                         and i > 50)
        nav.index = community
        before = nav.current_id
        nav.set_filter(Filter("Setting", "Inpatient"))
        shown = nav.current
        assert project.participants[shown.participant_id].attrs["Setting"] == "Inpatient"
        full = nav.sequence  # the filtered sequence
        order = {rid: i for i, rid in enumerate(Navigator(project, "x").sequence)}
        assert order[shown.id] > order[before]  # the next inpatient answer, not the last one
        assert all(order[rid] < order[before] for rid in full[: nav.index])
        nav.set_filter(None)
        assert len(nav) == 260 and nav.current_id == shown.id


def test_next_not_done_wraps_round_and_says_when_all_are_done(tiny_project):
    from tuiqa.session import Session

    with Project.open(tiny_project) as project:
        nav = Navigator(project, "ann")
        session = Session(project, "ann")
        for rid in nav.sequence[1:]:
            session.set_done(rid, True)
        nav.index = 2
        assert nav.next_not_done() and nav.index == 0
        session.set_done(nav.sequence[0], True)
        assert not nav.next_not_done()
        assert nav.done_count() == len(nav)
