"""The coding screen, driven by the real keys (Textual pilot)."""

from __future__ import annotations

import pytest
from textual import events

from tuiqa.ui.app import TuiqaApp
from tuiqa.ui.dialogs.picker import PickerScreen
from tuiqa.ui.factory import make_app
from tuiqa.ui.screens.coding import CodingScreen
from tuiqa.ui.screens.help import HelpScreen

SIZE = (80, 24)


async def until_keys_are_handled(app: TuiqaApp, pilot, limit: float = 10.0) -> None:
    """Keys posted at once are handled one after another: wait for the last (a busy machine
    can take longer than any fixed pause)."""
    import time

    end = time.monotonic() + limit
    await pilot.pause()
    while app.keys_pending and time.monotonic() < end:
        await pilot.pause(0.05)
    await pilot.pause()


def screen_text(app: TuiqaApp) -> str:
    """What the terminal shows, as plain text (from the app's own screenshot)."""
    import re
    from html import unescape

    svg = app.export_screenshot()
    lines = re.findall(r'<text[^>]*>(.*?)</text>', svg, flags=re.S)
    return unescape("".join(lines)).replace("\xa0", " ")


@pytest.fixture
async def sample_app(sample_project):
    app = make_app(sample_project, refresh_seconds=0)
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
    from tuiqa.ui.app import screen_classes

    titles = [title for title, _ in help_screen.groups]
    for cls in screen_classes():  # every screen has its group, every binding its line
        assert cls.HELP_GROUP in titles
        for binding in cls.BINDINGS:
            if not binding.description[-1:].isdigit():
                assert binding.description in listed, (cls.__name__, binding.description)
    keys = [key for _, rows in help_screen.groups for key, _ in rows]
    raw = [k for k in keys if "_" in k or any(w in k.split(" / ") for w in ("slash", "space", "f2"))]
    assert not raw, raw  # keys read as a person types them: "/", "Space", "F2"
    assert "/" in keys and "F2 / #" in keys
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
    app = make_app(tmp_path / "p", refresh_seconds=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "[bold red]NO[/]" in text
        assert "[link=http://x]click[/link]" in text
        assert "␛[31mred␛[0m" in text and "␇" in text
        await pilot.press("c", *"[b]odd[/b]", "enter")  # a code name that looks like markup
        assert "[b]odd[/b]" in screen_text(app)
    app.project.close()


def _invisible_text(app: TuiqaApp) -> list[str]:
    """Text painted in the same colour as its background (after the app's colour filters)."""
    update = app.screen._compositor.render_update(full=True)
    hidden = []
    segments = (seg for row in update.strips for chop in row for seg in chop)
    for seg in segments:
        style = seg.style
        if not seg.text.strip() or style is None or style.color is None or style.bgcolor is None:
            continue
        if not style.color.is_default and style.color == style.bgcolor:
            hidden.append(seg.text)
    return hidden


@pytest.mark.parametrize("theme_key", [(), ("f3",)], ids=["dark", "light"])
async def test_no_color_leaves_the_text_readable_in_both_themes(sample_project, monkeypatch, theme_key):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(sample_project, refresh_seconds=0)
    async with app.run_test(size=SIZE, notifications=False) as pilot:
        await pilot.pause()
        await pilot.press(*theme_key, "down")
        await pilot.pause()
        assert app.no_color
        assert "Thinking about Jo" in screen_text(app)
        assert _invisible_text(app) == []
        assert app.screen.selection.end > 0  # the selection still shows (reversed, not coloured)
    app.project.close()


async def test_f3_switches_light_and_dark_and_the_choice_is_remembered(sample_project):
    app = make_app(sample_project, refresh_seconds=0)
    async with app.run_test(size=SIZE, notifications=False) as pilot:
        await pilot.pause()
        assert app.theme == "ansi-dark"  # the terminal's own colours by default
        before = app.export_screenshot()
        await pilot.press("f3")
        await pilot.pause()
        assert app.theme == "textual-light" and not app.current_theme.dark
        assert app.export_screenshot() != before  # a user sees the change
        await pilot.press("f3")
        await pilot.pause()
        assert app.current_theme.dark
        await pilot.press("f3")
        await pilot.pause()
    app.project.close()

    app = make_app(sample_project, refresh_seconds=0)  # reopened: light again, for this coder only
    async with app.run_test(size=SIZE, notifications=False) as pilot:
        await pilot.pause()
        assert app.theme == "textual-light"
        app.action_terminal_colours()
        await pilot.pause()
        assert app.theme == "ansi-dark"
    app.project.close()
    app = make_app(sample_project, "someone-else", refresh_seconds=0)
    async with app.run_test(size=SIZE, notifications=False) as pilot:
        await pilot.pause()
        assert app.theme == "ansi-dark"
    app.project.close()


async def test_first_run_hint_once_per_coder(sample_project):
    def welcomes(app):
        return [n for n in app.notices if (n.title or "").startswith("Welcome")]

    for expected in (1, 0):  # the first time, then never again for this coder
        app = make_app(sample_project, "newcomer", refresh_seconds=0)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.pause()
            hints = welcomes(app)
            assert len(hints) == expected
            if hints:
                assert "c codes it" in hints[0].message and "Ctrl+P" in hints[0].message
        app.project.close()


def _screen_rows(app: TuiqaApp) -> list[str]:
    update = app.screen._compositor.render_update(full=True)
    return ["".join(seg.text for chop in row for seg in chop) for row in update.strips]


def _where(app: TuiqaApp, needle: str) -> tuple[int, int]:
    for y, row in enumerate(_screen_rows(app)):
        if needle in row:
            return row.index(needle), y
    raise AssertionError(f"{needle!r} is not on the screen")


async def test_mouse_click_selects_the_sentence_under_the_pointer(sample_app):
    app, pilot = sample_app
    r = app.navigator.current
    assert r.text.startswith("Recovery isn't a straight line. Ten weeks")
    x, y = _where(app, "Ten weeks")
    await pilot.click(offset=(x + 4, y))  # on "weeks", after the ⟨n⟩ tag drawn before it
    sel = app.screen.selection
    assert r.text[sel.start:sel.end].startswith("Ten weeks is still ten weeks")
    assert r.text[sel.start:sel.end].endswith("bereavement.")
    x, y = _where(app, "honest")
    await pilot.click(offset=(x, y), shift=True)  # shift-click grows it to that sentence
    grown = app.screen.selection
    assert grown.start == sel.start and r.text[grown.start:grown.end].endswith("just done.")
    await pilot.press("c")  # and the keyboard takes it from there
    assert isinstance(app.screen, PickerScreen)
    await pilot.press("escape")


async def test_mouse_click_in_lists_and_footer(sample_app):
    app, pilot = sample_app
    from tuiqa.ui.screens.codebook import CodebookScreen

    x, y = _where(app, "Codeboo")  # the footer's key is clickable (cut short at 80 columns)
    await pilot.click(offset=(x, y))
    await pilot.pause()
    assert isinstance(app.screen, CodebookScreen)
    x, y = _where(app, "stigma")
    await pilot.click(offset=(x, y))
    assert app.project.code_name(app.screen.current_id()) == "stigma"
    await pilot.click(offset=(x, y), times=2)  # a double click opens its extracts
    await pilot.pause()
    assert "stigma" in screen_text(app) and not isinstance(app.screen, CodebookScreen)


async def test_picker_query_editing_and_keys_that_are_commands_elsewhere(sample_app):
    app, pilot = sample_app
    await pilot.press("down", "c")
    picker = app.screen
    assert isinstance(picker, PickerScreen)
    await pilot.press(*"why? q x", "backspace")  # ? q x are commands elsewhere: here, letters
    assert isinstance(app.screen, PickerScreen) and picker.query_text == "why? q "
    await pilot.press("ctrl+w")
    assert picker.query_text == "why? "
    await pilot.press("ctrl+u")
    assert picker.query_text == ""
    app.screen.post_message(events.Paste("building\ntrust"))  # a paste is one line
    await pilot.pause()
    assert picker.query_text == "building trust"
    await pilot.press("enter")
    r = app.navigator.current
    names = [app.project.code_name(c.code_id) for c in app.project.codings_for(r.id, "tester")]
    assert "building trust" in names


async def test_a_burst_of_keys_is_handled_in_order(sample_app):
    """What a slow link delivers in one read: the key that opens the picker, the letters,
    Enter. None of the letters may reach the coding screen (u would undo, t open the themes)."""
    app, pilot = sample_app
    await pilot.press("down")
    rid = app.navigator.current_id
    for key, char in [("c", "c"), ("s", "s"), ("t", "t"), ("i", "i"), ("g", "g"),
                      ("enter", "\r"), ("d", "d"), ("n", "n")]:
        app.post_message(events.Key(key, char))
    await until_keys_are_handled(app, pilot)
    names = [app.project.code_name(c.code_id) for c in app.project.codings_for(rid, "tester")]
    assert names == ["stigma"]  # what "stig" finds, not the top of the list ("building trust")
    assert app.project.is_done(rid, "tester") and app.navigator.current_id != rid
    assert isinstance(app.screen, CodingScreen)


async def test_import_from_the_command_palette_adds_participants_with_a_progress_bar(sample_project, tmp_path):
    import csv

    from textual.widgets import Input

    from tuiqa.samples import SURVEY, sample_dir
    from tuiqa.ui.dialogs.progress import ProgressScreen

    with open(sample_dir() / SURVEY, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    more = tmp_path / "second-wave.csv"
    with open(more, "w", newline="", encoding="utf-8") as fh:
        new = [["W2-01", *rows[1][1:]], ["W2-02", *rows[2][1:]]]
        csv.writer(fh).writerows([rows[0], *rows[1:], *new])
    bad = tmp_path / "broken.csv"
    bad.write_bytes(b"Participant ID,Q\nP1,one\nP1,again\n")  # a duplicate participant
    app = make_app(sample_project, refresh_seconds=0, welcome=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = len(app.project.state.participants)
        answers = len(app.project.responses)
        await pilot.press("ctrl+p", *"Import: add", "enter")
        await pilot.pause()
        app.screen.query_one(Input).value = str(bad)  # as if typed or pasted
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ProgressScreen)
        errors = [n.message for n in app.notices if n.severity == "error"]
        assert errors and "broken.csv" in errors[-1] and "P1" in errors[-1]
        assert len(app.project.state.participants) == before  # nothing written

        await pilot.press("ctrl+p", *"Import: add", "enter")
        await pilot.pause()
        app.screen.query_one(Input).value = str(more)
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        for _ in range(5):
            await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        assert len(app.project.state.participants) == before + 2  # read back into the open app
        assert len(app.project.responses) > answers
        said = [n.message for n in app.notices if n.severity == "information"][-1]
        assert said.startswith("Imported second-wave.csv") and "(2 new)" in said
        assert len(app.navigator.sequence) == len(app.project.responses)
    app.project.close()
