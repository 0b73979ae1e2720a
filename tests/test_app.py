"""The coding screen, driven by the real keys (Textual pilot)."""

from __future__ import annotations

import pytest

from tuiqa.project import Project
from tuiqa.session import Session
from tuiqa.ui.app import TuiqaApp
from tuiqa.ui.screens.coding import CodingScreen
from tuiqa.ui.screens.help import HelpScreen
from tuiqa.ui.screens.picker import PickerScreen

SIZE = (80, 24)


def make_app(directory, coder="tester", **kw) -> TuiqaApp:
    project = Project.open(directory)
    return TuiqaApp(project, Session(project, coder), refresh_seconds=0, **kw)


def screen_text(app: TuiqaApp) -> str:
    """What the terminal shows, as plain text (from the app's own screenshot)."""
    import re
    from html import unescape

    svg = app.export_screenshot()
    lines = re.findall(r'<text[^>]*>(.*?)</text>', svg, flags=re.S)
    return unescape("".join(lines)).replace("\xa0", " ")


@pytest.fixture
async def sample_app(sample_project):
    app = make_app(sample_project)
    async with app.run_test(size=SIZE, notifications=False) as pilot:
        await pilot.pause()
        yield app, pilot
    app.project.close()


async def test_opens_on_the_first_response_with_question_and_attributes(sample_app):
    app, pilot = sample_app
    text = screen_text(app)
    assert "Q1" in text and "Thinking about Jo" in text
    assert "P1" in text and "Role: Support worker" in text and "Setting: Community" in text
    assert "1/260" in text
    assert isinstance(app.screen, CodingScreen)


async def test_next_previous_order_and_next_not_done(sample_app):
    app, pilot = sample_app
    nav = app.navigator
    await pilot.press("n", "n")
    assert nav.index == 2
    await pilot.press("p")
    assert nav.index == 1
    await pilot.press("o")
    assert nav.order == "question"
    second = app.project.responses[nav.sequence[1]]
    assert app.project.questions[second.question_id].key == "Q1"
    await pilot.press("d")  # mark current done
    done_id = nav.current_id
    await pilot.press("p", "N")  # next not done skips the one just marked
    assert nav.current_id != done_id
    assert app.project.is_done(done_id, "tester")


async def test_select_a_sentence_and_code_it_with_the_picker(sample_app):
    app, pilot = sample_app
    r = app.navigator.current
    await pilot.press("down")  # first sentence
    sel = app.screen.selection
    assert (sel.start, sel.end) != (0, len(r.text))
    assert r.text[sel.start:sel.end].endswith(".")
    await pilot.press("shift+down")  # extend by a sentence
    assert app.screen.selection.end > sel.end
    await pilot.press("shift+left")  # shrink the end by a word
    start, end = app.screen.selection.start, app.screen.selection.end
    await pilot.press("c")
    assert isinstance(app.screen, PickerScreen)
    await pilot.press(*"trust", "enter")
    mine = app.project.codings_for(r.id, "tester")
    assert [(app.project.code_name(c.code_id), c.start, c.end) for c in mine] == \
        [("building trust", start, end)]
    assert "building trust" in screen_text(app)


async def test_create_a_new_latent_code_and_reuse_it_from_recent_keys(sample_app):
    app, pilot = sample_app
    r = app.navigator.current
    await pilot.press("c", *"moral injury", "down", "enter")  # 2nd entry: "+ new latent code"
    code = app.project.code_by_name("moral injury")
    assert code is not None and code.kind == "latent" and code.created_by == "tester"
    assert [c.code_id for c in app.project.codings_for(r.id, "tester")] == [code.id]
    await pilot.press("n", "1")  # recent code 1 on the next answer, whole answer selected
    r2 = app.navigator.current
    coded = app.project.codings_for(r2.id, "tester")
    assert [(c.code_id, c.start, c.end) for c in coded] == [(code.id, 0, len(r2.text))]


async def test_several_codes_at_once_with_tab(sample_app):
    app, pilot = sample_app
    r = app.navigator.current
    await pilot.press("c", *"ho", "tab")  # mark "hope"
    await pilot.press("backspace", "backspace", *"stigma", "tab", "enter")
    names = sorted(app.project.code_name(c.code_id) for c in app.project.codings_for(r.id, "tester"))
    assert names == ["hope", "stigma"]


async def test_remove_undo_redo(sample_app):
    app, pilot = sample_app
    r = app.navigator.current
    await pilot.press("c", *"hope", "enter")
    assert len(app.project.codings_for(r.id, "tester")) == 1
    await pilot.press("x")
    assert app.project.codings_for(r.id, "tester") == []
    await pilot.press("u")
    assert len(app.project.codings_for(r.id, "tester")) == 1
    await pilot.press("U")
    assert app.project.codings_for(r.id, "tester") == []
    for _ in range(2):
        await pilot.press("u")
    assert app.project.codings_for(r.id, "tester") == []  # the coding undone, back to the start
    assert "Undid" in screen_text(app)


async def test_lead_codings_are_shown_but_not_removable_by_another_coder(sample_app):
    app, pilot = sample_app
    project = app.project
    rid = next(c.response_id for c in project.all_codings() if c.coder == "lead")
    app.navigator.goto(rid)
    app.screen.refresh_view()
    await pilot.pause()
    assert "— lead" in screen_text(app)
    await pilot.press("x")
    assert "no codings" in screen_text(app)
    assert any(c.coder == "lead" for c in project.codings_for(rid))
    await pilot.press("v")  # only mine
    assert "— lead" not in screen_text(app)


async def test_memo_is_kept_with_coder_and_time(sample_app):
    app, pilot = sample_app
    r = app.navigator.current
    await pilot.press("m", *"Check tone later", "ctrl+s")
    memos = app.project.memos_for("response", r.id)
    assert [(m.coder, m.text) for m in memos] == [("tester", "Check tone later")]
    assert memos[0].created


async def test_jump_to_a_participant_and_filter_by_attribute(sample_app):
    app, pilot = sample_app
    await pilot.press("g", *"P27", "enter")
    current = app.navigator.current
    assert app.project.participants[current.participant_id].pid == "P27"
    await pilot.press("f", *"Setting = Inpatient", "enter")
    nav = app.navigator
    assert nav.filter is not None and nav.filter.value == "Inpatient"
    settings = {app.project.participants[app.project.responses[rid].participant_id].attrs["Setting"]
                for rid in nav.sequence}
    assert settings == {"Inpatient"}
    assert "Setting = Inpatient" in screen_text(app)


async def test_help_lists_every_key(sample_app):
    app, pilot = sample_app
    await pilot.press("question_mark")
    help_screen = app.screen
    assert isinstance(help_screen, HelpScreen)
    listed = {what for _, rows in help_screen.groups for _, what in rows}
    for binding in CodingScreen.BINDINGS:
        if not binding.description.startswith("Apply recent code"):
            assert binding.description in listed
    assert "Apply recent code 1 … 9" in listed
    assert "Next sentence" in screen_text(app)
    await pilot.press("escape")
    assert isinstance(app.screen, CodingScreen)


async def test_command_palette_runs_coding_actions(sample_app):
    app, pilot = sample_app
    rid = app.navigator.current_id
    await pilot.press("ctrl+p", *"Coding: Done", "enter")
    await pilot.pause()
    assert app.project.is_done(rid, "tester")


async def test_hostile_text_is_shown_literally(tmp_path):
    from tuiqa.importers.survey import import_survey

    survey = tmp_path / "evil.csv"
    survey.write_text(
        "id,Tell us more about your experience here\n"
        'P1,"I said [bold red]NO[/] and [link=http://x]click[/link] \x1b[31mred\x1b[0m \x07 done, '
        'and then we talked for a long while about what happened next"\n', encoding="utf-8")
    import_survey(tmp_path / "p", survey)
    app = make_app(tmp_path / "p")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "[bold red]NO[/]" in text
        assert "[link=http://x]click[/link]" in text
        assert "␛[31mred␛[0m" in text and "␇" in text
        await pilot.press("c", *"[b]odd[/b]", "enter")  # a code name that looks like markup
        assert "[b]odd[/b]" in screen_text(app)
    app.project.close()
