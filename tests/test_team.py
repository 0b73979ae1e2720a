"""The team review step: agreement over a project, disagreements and consensus, the
appropriateness review, blind coding, and merging copies of a project."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest

from tuiqa import coders as C
from tuiqa import review as RV
from tuiqa.cli import main
from tuiqa.merge import merge_into
from tuiqa.model import Code, new_id
from tuiqa.project import CONSENSUS, Project
from tuiqa.session import Session
from tuiqa.ui.factory import make_app
from tuiqa.ui.screens.team import AgreementScreen, DisagreementScreen, QuestionsScreen, ReviewScreen

from .helpers import code_id as code
from .test_app import screen_text


def double_code(project) -> list[str]:
    """ann and bea each code the first six answers (done), differently on purpose."""
    rids = sorted(project.responses)[:6]
    plans = {
        "ann": [["hope"], ["hope", "stigma"], [], ["stigma"], ["hope"], []],
        "bea": [["hope"], ["stigma"], [], ["stigma"], [], ["hope"]],
    }
    for who, plan in plans.items():
        s = Session(project, who)
        for rid, names in zip(rids, plan):
            text = project.responses[rid].text
            for name in names:
                cut = len(text) if who == "ann" or name != "stigma" else max(1, len(text) // 2)
                s.apply_codes(rid, 0, cut, [code(project, name)])
            s.set_done(rid, True)
    Session(project, "ann").set_done(sorted(project.responses)[7], True)  # ann only: excluded
    return rids


def test_agreement_over_units_done_by_every_coder(project):
    double_code(project)
    report = C.project_agreement(project, ["ann", "bea"])
    assert report.units_compared == 6
    assert report.units_excluded == 260 - 6
    assert C.compared_units(project, ["ann", "bea"])[2] == 1  # done by ann only
    by = {c.code: c for c in report.codes}
    hope = by["hope"]
    assert (hope.both, hope.only["ann"], hope.only["bea"], hope.neither) == (1, 2, 1, 2)
    assert hope.percent_agreement.value == pytest.approx(3 / 6)
    stigma = by["stigma"]
    assert (stigma.both, stigma.neither) == (2, 4) and stigma.only == {"ann": 0, "bea": 0}
    assert stigma.cohen_kappa.value == pytest.approx(1.0)  # present/absent agree; spans do not
    assert hope.cohen_kappa.value == pytest.approx(0.0)  # p_o = p_e = 1/2
    lead_codes = {c.code for c in report.codes}
    assert lead_codes == {"hope", "stigma"}  # the lead coder's codings are not compared
    for rid in C.compared_units(project, ["ann", "bea"])[0]:
        Session(project, "lead").set_done(rid, True)
    three = C.project_agreement(project, ["ann", "bea", "lead"])
    assert three.codes[0].cohen_kappa.value is None and "two coders" in three.codes[0].cohen_kappa.reason


def test_character_unit_counts_characters(project):
    double_code(project)
    report = C.project_agreement(project, ["ann", "bea"], unit="character")
    total = sum(len(project.responses[r].text) for r in C.compared_units(project, ["ann", "bea"])[0])
    assert all(c.units == total for c in report.codes)


def test_disagreements_resolve_into_consensus_and_leave_the_queue(project):
    rids = double_code(project)
    items = C.disagreements(project, ["ann", "bea"])
    kinds = {(i.response_id, project.code_name(i.code_id)): i.kind for i in items}
    assert kinds[(rids[1], "hope")] == C.PRESENCE
    assert kinds[(rids[3], "stigma")] == C.SPANS  # both coded, different extracts
    assert len(C.disagreements(project, ["ann", "bea"], spans=False)) == len(items) - 2
    before = C.project_agreement(project, ["ann", "bea"]).to_dict()
    s = Session(project, "lead")
    first = next(i for i in items if i.kind == C.PRESENCE)
    s.resolve_disagreement(first, "keep:ann")
    consensus = [c for c in project.codings_for(first.response_id, CONSENSUS) if c.code_id == first.code_id]
    assert [(c.start, c.end) for c in consensus] == [(c.start, c.end) for c in first.codings["ann"]]
    spans = next(i for i in items if i.kind == C.SPANS)
    s.resolve_disagreement(spans, "both")
    assert len([c for c in project.codings_for(spans.response_id, CONSENSUS)
                if c.code_id == spans.code_id]) == 2
    with pytest.raises(Exception):
        s.resolve_disagreement(items[-1], "discuss", "")  # a discussion needs a comment
    s.resolve_disagreement(items[-1], "discuss", "is this hope or relief?")
    left = C.disagreements(project, ["ann", "bea"])
    assert len(left) == len(items) - 3
    assert C.resolutions(project)[-1].comment == "is this hope or relief?"
    assert C.project_agreement(project, ["ann", "bea"]).to_dict() == before  # figures as measured


def test_appropriateness_review_is_resolved_by_the_coder_only(project):
    s_lead = Session(project, "lead")
    s_bea = Session(project, "bea")
    items = RV.items_to_review(project, "lead", "bea")
    assert len(items) == 59 and RV.progress(items) == (0, 59)
    target = items[0].target_id
    s_bea.review_mark("coding", target, "questionable", comment="more like stigma?",
                      suggested_code_id=code(project, "stigma"))
    s_bea.review_mark("coding", items[1].target_id, "appropriate")
    assert RV.progress(RV.items_to_review(project, "lead", "bea")) == (2, 59)
    assert project.state.table("coding")[target].code_id != code(project, "stigma")  # unchanged
    (question,) = RV.open_questions(project, "lead")
    assert question.comment == "more like stigma?"
    assert RV.open_questions(project, "bea") == []
    with pytest.raises(Exception):
        s_bea.resolve_question(question.id, "remove")  # not bea's coding
    s_lead.resolve_question(question.id, "change", "fair point")
    assert project.state.table("coding")[target].code_id == code(project, "stigma")
    assert RV.open_questions(project, "lead") == []
    mark = project.state.table("reviewmark")[question.id]
    assert (mark.resolution, mark.reply, mark.resolved_by) == ("changed", "fair point", "lead")


def test_review_progress_survives_a_restart(sample_project):
    with Project.open(sample_project) as p:
        items = RV.items_to_review(p, "lead", "bea")
        Session(p, "bea").review_mark("coding", items[3].target_id, "appropriate")
    with Project.open(sample_project) as p:
        assert RV.progress(RV.items_to_review(p, "lead", "bea")) == (1, 59)


def test_cli_agreement_json_and_csv(sample_project, capsys):
    with Project.open(sample_project) as p:
        double_code(p)
    assert main(["agreement", str(sample_project), "--coders", "ann", "bea", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"unit", "coders", "units_compared", "units_excluded", "overall", "codes"} <= set(data)
    assert set(data["overall"]) >= {"percent_agreement", "cohen_kappa", "krippendorff_alpha",
                                    "mean_cohen_kappa", "mean_krippendorff_alpha"}
    assert set(data["codes"][0]) >= {"code", "units", "both", "only", "neither", "percent_agreement",
                                     "cohen_kappa", "krippendorff_alpha", "undefined_reason"}
    assert main(["agreement", str(sample_project), "--coders", "ann", "bea", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert "only_ann" in rows[0] and "only_bea" in rows[0] and rows[-1][0] == "(overall)"
    assert main(["agreement", str(sample_project), "--coders", "ann", "bea"]) == 0
    assert "responses excluded" in capsys.readouterr().out
    assert main(["agreement", str(sample_project), "--coders", "ann", "zed"]) == 1


def test_cli_agreement_shows_a_progress_line_on_a_terminal_only(sample_project, capsys, monkeypatch):
    import sys

    with Project.open(sample_project) as p:
        double_code(p)
    assert main(["agreement", str(sample_project), "--coders", "ann", "bea", "--format", "json"]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == ""  # piped or redirected: no bar in a log file
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["agreement", str(sample_project), "--coders", "ann", "bea", "--format", "json"]) == 0
    shown = capsys.readouterr()
    assert "comparing ann, bea [" in shown.err and "100%" in shown.err and "Ctrl+C stops" in shown.err
    assert shown.err.endswith("\r")  # the line is cleared before the figures
    assert json.loads(shown.out) == json.loads(quiet.out)


# -- merge -----------------------------------------------------------------------------------


def test_merge_brings_work_keeps_deletions_reports_conflicts_and_is_idempotent(sample_project, tmp_path):
    laptop = tmp_path / "laptop"
    shutil.copytree(sample_project, laptop)
    with Project.open(sample_project) as here:
        s = Session(here, "ann")
        s.rename_code(code(here, "stigma"), "stigma (here)")
        deleted_here = code(here, "team support")
    with Project.open(laptop) as there:
        s = Session(there, "bea")
        rid = sorted(there.responses)[0]
        s.create_and_apply(rid, 0, 5, "a laptop idea", "latent")
        s.set_done(rid, True)
        s.rename_code(code(there, "stigma"), "stigma (laptop)")  # later: wins
        s.delete_code(code(there, "staff burnout"))
        s.save_memo("response", rid, "written on the train")
    with Project.open(sample_project) as here:
        Session(here, "ann").delete_code(deleted_here)
    before_laptop = {p.name: p.read_bytes() for p in laptop.rglob("*") if p.is_file()}
    with Project.open(sample_project) as here:
        report = merge_into(here, laptop, "ann")
        assert here.code_by_name("a laptop idea") is not None
        assert here.code_by_name("staff burnout") is None  # deleted there, on purpose
        assert here.code_by_name("team support") is None  # deleted here stays deleted
        assert here.code(code(here, "stigma (laptop)"))
        assert [c.lost for c in report.conflicts] == ["stigma (here)"]
        assert [c.lost for c in here.conflicts()] == ["stigma (here)"]
        assert here.is_done(rid, "bea")
        assert [m.text for m in here.memos_for("response", rid)] == ["written on the train"]
    after_laptop = {p.name: p.read_bytes() for p in laptop.rglob("*") if p.is_file()}
    assert after_laptop == before_laptop  # the other copy is only read
    with Project.open(sample_project) as here:
        again = merge_into(here, laptop, "ann")
        assert again.nothing and not again.conflicts


def test_merge_fuses_same_named_codes_and_a_separate_import(sample_project, tmp_path):
    from tuiqa.importers.codings import import_codings
    from tuiqa.importers.survey import import_survey
    from tuiqa.samples import sample_dir

    other = tmp_path / "separate"
    import_survey(other, sample_dir() / "survey.csv")
    with Project.open(other) as p:
        change = p.change("a code made another way")
        change.create(Code, new_id(), name="Hope", kind="latent", created_by="cy")  # same name, new id
        p.commit(change, "cy")
        import_codings(p, sample_dir() / "codings_lead.csv", coder="cy", default_coder="cy", done="coded")
    with Project.open(sample_project) as here:
        hope = code(here, "hope")
        report = merge_into(here, other, "ann")
        assert [name for name, _, _ in report.fused] == ["Hope"]
        assert len([c for c in here.codes() if c.name.casefold() == "hope"]) == 1
        cy = [c for c in here.all_codings() if c.coder == "cy"]
        assert len(cy) == 59 and sum(1 for c in cy if c.code_id == hope) == 4
        assert merge_into(here, other, "ann").nothing


# -- screens ---------------------------------------------------------------------------------


async def test_blind_coder_sees_no_one_elses_work_and_it_is_remembered(sample_project):
    with Project.open(sample_project) as p:
        rid = next(c.response_id for c in p.all_codings())
        Session(p, "lead").save_memo("response", rid, "lead's private thought")
        Session(p, "lead").save_memo("code", code(p, "hope"), "lead's code memo")
    p = Project.open(sample_project)
    app = make_app(p, "bea", blind=True, refresh_seconds=0)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.navigator.goto(rid)
        app.screen.refresh_view()
        await pilot.pause()
        text = screen_text(app)
        assert "lead" not in text and "BLIND" in text
        assert app.screen.visible_codings(rid) == []
        await pilot.press("m")
        assert "private thought" not in screen_text(app)
        await pilot.press("escape", "b")
        text = screen_text(app)
        assert "✎" not in text and " lead " not in text
        assert all(e.extracts == 0 for e in app.screen.stats().values())
        assert "hope" in text  # code names stay visible
        await pilot.press("escape", "A")
        assert not isinstance(app.screen, AgreementScreen)
    p.close()
    with Project.open(sample_project) as p2:
        assert Session(p2, "bea").blind  # remembered
    p = Project.open(sample_project)
    app = make_app(p, "bea", refresh_seconds=0)  # no --blind this time
    assert app.blind
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p", *"Blind coding: turn it off", "enter")
        await pilot.pause()
        assert app.blind  # asks first
        await pilot.press("y")
        assert not app.blind and not app.session.blind
    p.close()


async def test_review_and_questions_screens(sample_project):
    p = Project.open(sample_project)
    app = make_app(p, "bea", refresh_seconds=0)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("R", *"lead", "enter")
        assert isinstance(app.screen, ReviewScreen)
        assert "0 of 59 reviewed" in screen_text(app)
        await pilot.press("a")  # appropriate, moves on
        await pilot.press("q", *"not sure this is trust", "enter")
        assert "2 of 59 reviewed" in screen_text(app)
        await pilot.press("escape")
    app = make_app(p, "lead", refresh_seconds=0)  # the lead coder's turn
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("Q")
        assert isinstance(app.screen, QuestionsScreen)
        assert "not sure this is trust" in screen_text(app)
        await pilot.press("k", *"I think it is", "enter")
        assert "0 to resolve" in screen_text(app)
    p.close()


async def test_agreement_and_disagreement_screens(sample_project):
    p = Project.open(sample_project)
    double_code(p)
    app = make_app(p, "lead", refresh_seconds=0)
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.pause()
        await pilot.press("A")
        assert isinstance(app.screen, AgreementScreen)
        app.screen.coders = ["ann", "bea"]
        app.screen.recompute()
        await pilot.pause()
        text = screen_text(app)
        assert "6 responses compared" in text and "stigma" in text
        await pilot.press("d")
        assert isinstance(app.screen, DisagreementScreen)
        total = len(app.screen.items)
        await pilot.press("1")
        assert len(app.screen.items) == total - 1
        assert C.resolutions(p)[0].decision == "keep:ann"
    p.close()


async def test_choosing_coders_where_there_are_none_says_so(tiny_project):
    """Issue 14 item 1: the agreement screen had no status line, so "no other coder" crashed."""
    app = make_app(tiny_project, "zed", refresh_seconds=0, welcome=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("A", "c")
        await pilot.pause()
        assert isinstance(app.screen, AgreementScreen)
        assert "There is no other coder in this project yet" in screen_text(app)
    app.project.close()


def test_agreement_and_disagreements_report_progress_and_can_be_stopped(project, monkeypatch):
    import threading

    from tuiqa import agreement
    from tuiqa.longwork import Cancelled

    double_code(project)
    monkeypatch.setattr(C, "STEP_EVERY", 2)  # the sample is small: report every two units
    monkeypatch.setattr(agreement, "STEP_EVERY", 2)
    heard: list[tuple[int, int]] = []
    report = C.project_agreement(project, ["ann", "bea"], progress=lambda d, t: heard.append((d, t)))
    assert report.to_dict() == C.project_agreement(project, ["ann", "bea"]).to_dict()
    assert heard[-1] == (12, 12)  # 6 units read, then 6 counted
    assert [d for d, _ in heard] == sorted(d for d, _ in heard) and len(heard) > 3
    heard.clear()
    items = C.disagreements(project, ["ann", "bea"], progress=lambda d, t: heard.append((d, t)))
    assert heard[-1] == (6, 6) and len(items) == len(C.disagreements(project, ["ann", "bea"]))
    stop = threading.Event()

    def stop_halfway(done, total):  # as if Esc came after the first steps
        if done >= 2:
            stop.set()

    with pytest.raises(Cancelled):
        C.project_agreement(project, ["ann", "bea"], progress=stop_halfway, cancel=stop)
    stop.clear()
    with pytest.raises(Cancelled):
        C.disagreements(project, ["ann", "bea"], progress=stop_halfway, cancel=stop)


def test_one_responses_disagreements_match_the_whole_queue(project):
    rids = double_code(project)
    whole = C.disagreements(project, ["ann", "bea"])
    for rid in rids:
        assert [d.key for d in C.response_disagreements(project, ["ann", "bea"], rid)] == \
            [d.key for d in whole if d.response_id == rid]
    excluded = sorted(project.responses)[7]  # done by ann only: not compared
    assert C.response_disagreements(project, ["ann", "bea"], excluded) == []


async def test_large_agreement_work_runs_behind_a_bar_and_esc_stops_it(sample_project, monkeypatch):
    from tuiqa.ui.screens import team
    from tuiqa.ui.screens.coding import CodingScreen
    from tuiqa.ui.dialogs.progress import ProgressScreen

    p = Project.open(sample_project)
    double_code(p)
    expected = C.project_agreement(p, ["ann", "bea"]).to_dict()
    monkeypatch.setattr(team, "BIG_WORK", -1)  # as if every project were large
    app = make_app(p, "lead", refresh_seconds=0, welcome=False)
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.pause()
        await pilot.press("A")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, AgreementScreen)
        app.screen.coders = ["ann", "bea"]  # as chosen with c
        app.screen.recompute()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, AgreementScreen)
        assert app.screen.report.to_dict() == expected
        assert "6 responses compared" in screen_text(app)
        await pilot.press("d")  # the disagreement queue is found behind a bar too
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, DisagreementScreen)
        total = len(app.screen.items)
        assert total == len(C.disagreements(p, ["ann", "bea"]))
        await pilot.press("1")  # resolving looks again at that response only: no bar
        assert not isinstance(app.screen, ProgressScreen)
        assert len(app.screen.items) == total - 1
        assert [d.key for d in app.screen.items] == [d.key for d in C.disagreements(p, ["ann", "bea"])]
        await pilot.press("escape", "escape")
        await pilot.pause()

        # Work that has not finished when Esc comes: stopped, and back where the user was
        real = C.project_agreement

        def slow(project, coders, unit, progress, cancel):
            cancel.wait(5)  # still working when Esc comes
            # (ann and bea: the screen's first choice, lead and ann, have no responses in common)
            return real(project, ["ann", "bea"], unit, progress, cancel)  # sees the cancel at once

        monkeypatch.setattr(C, "project_agreement", slow)
        await pilot.press("A")
        await pilot.pause()
        assert isinstance(app.screen, ProgressScreen)
        assert "Esc stops" in screen_text(app)
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        assert any(n.message == "Stopped" for n in app.notices)
    p.close()


async def test_large_figures_are_not_worked_out_again_on_every_colleagues_change(sample_project, monkeypatch):
    from textual.command import CommandPalette

    from tuiqa.ui.screens import team
    from tuiqa.ui.dialogs.progress import ProgressScreen

    p = Project.open(sample_project)
    double_code(p)
    monkeypatch.setattr(team, "BIG_WORK", -1)  # as if every project were large
    app = make_app(p, "lead", refresh_seconds=0, welcome=False)
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.pause()
        app.push_screen(AgreementScreen(["ann", "bea"]))
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AgreementScreen) and screen.report.units_compared == 6

        # a colleague marks another response done: no bar, a note, r when wanted
        Session(p, "bea").set_done(sorted(p.responses)[7], True)  # now done by ann and bea
        screen.project_changed()
        await pilot.pause()
        assert app.screen is screen and "r works the figures out again" in screen_text(app)
        await pilot.press("r")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen and screen.report.units_compared == 7
        assert "r works the figures out again" not in screen_text(app)

        # stopped while other figures were asked for: the last ones stay, as they were
        real = C.project_agreement

        def slow(project, coders, unit, progress, cancel):
            cancel.wait(5)
            return real(project, coders, unit, progress, cancel)

        monkeypatch.setattr(C, "project_agreement", slow)
        await pilot.press("u")  # character as unit: behind the bar
        await pilot.pause()
        assert isinstance(app.screen, ProgressScreen)
        await pilot.press("ctrl+p", "question_mark")  # nothing opens over long work
        await pilot.pause()
        assert isinstance(app.screen, ProgressScreen)
        assert not any(isinstance(s, CommandPalette) for s in app.screen_stack)
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        assert screen.unit == "response" and screen.report.unit == "response"
        assert "response as unit" in screen_text(app)
    p.close()


def _files(directory):
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*"))
            if p.is_file() and ".lock" not in p.name}


@pytest.mark.parametrize("stop_at", [0, 1, 2, 3])
def test_a_merge_stopped_before_writing_leaves_the_project_as_it_was(sample_project, tmp_path, stop_at):
    import threading

    from tuiqa.longwork import Cancelled

    laptop = tmp_path / "laptop"
    shutil.copytree(sample_project, laptop)
    with Project.open(laptop) as there:
        Session(there, "bea").create_and_apply(sorted(there.responses)[0], 0, 5, "from the laptop", "latent")
    with Project.open(sample_project) as here:
        here.store.compact()
    before = _files(sample_project)
    cancel = threading.Event()

    def progress(done, total):
        if done == stop_at:
            cancel.set()  # Esc pressed during this step: the next step stops

    with Project.open(sample_project) as here:
        with pytest.raises(Cancelled):
            merge_into(here, laptop, "ann", progress, cancel)
        assert here.code_by_name("from the laptop") is None
    assert _files(sample_project) == before  # not a byte written
    with Project.open(sample_project, readonly=True) as here:
        assert here.code_by_name("from the laptop") is None
    with Project.open(sample_project) as here:  # and nothing stops it next time
        merge_into(here, laptop, "ann")
        assert here.code_by_name("from the laptop") is not None


def test_ctrl_c_while_writing_is_held_back_until_the_write_is_done(capsys):
    import os
    import signal

    from tuiqa.longwork import uninterrupted

    finished = False
    with uninterrupted():
        os.kill(os.getpid(), signal.SIGINT)
        finished = True
    assert finished
    assert "finished rather than left half done" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):  # outside, Ctrl+C works as before
        os.kill(os.getpid(), signal.SIGINT)
        import time

        time.sleep(1)


async def test_merge_from_the_command_palette_with_a_progress_bar(sample_project, tmp_path):
    from textual.widgets import Input

    from tuiqa.ui.dialogs.progress import ProgressScreen

    laptop = tmp_path / "laptop"
    shutil.copytree(sample_project, laptop)
    with Project.open(laptop) as there:
        rid = sorted(there.responses)[0]
        Session(there, "bea").create_and_apply(rid, 0, 5, "from the laptop", "latent")

    p = Project.open(sample_project)
    app = make_app(p, "ann", refresh_seconds=0, welcome=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p", *"Merge: bring in", "enter")
        await pilot.pause()
        app.screen.query_one(Input).value = str(tmp_path / "nowhere")  # as if pasted
        await pilot.press("enter")
        await pilot.pause()
        assert p.code_by_name("from the laptop") is None  # not a project: said so, nothing done
        assert any("not a tuiqa project" in n.message for n in app.notices)
        await pilot.press("ctrl+p", *"Merge: bring in", "enter")
        await pilot.pause()
        app.screen.query_one(Input).value = str(laptop)
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ProgressScreen)
        assert p.code_by_name("from the laptop") is not None
        assert any("from laptop" in n.message.lower() or "brought" in n.message.lower()
                   for n in app.notices)
    p.close()
