"""The codebook, collated extracts, copy, compare and journal screens, by their keys."""

from __future__ import annotations

import pytest

from tuiqa import clipboard
from tuiqa.ui.factory import make_app
from tuiqa.ui.screens.codebook import CodebookScreen
from tuiqa.ui.screens.coding import CodingScreen
from tuiqa.ui.screens.extracts import ExtractsScreen
from tuiqa.ui.screens.groups import CompareScreen
from tuiqa.ui.screens.journal import JournalScreen

from .test_app import screen_text

SIZE = (100, 30)


@pytest.fixture
async def app_pilot(sample_project, monkeypatch):
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    app = make_app(sample_project, "lead", refresh_seconds=0)
    copies: list[str] = []
    app.clipboard_system = copies.append
    app.clipboard_tmux = None
    app.copies = copies
    async with app.run_test(size=SIZE, notifications=False) as pilot:
        await pilot.pause()
        yield app, pilot
    app.project.close()


async def go_to_code(pilot, name: str) -> None:
    await pilot.press("slash", *name, "enter")


async def test_codebook_lists_codes_with_counts_and_search_narrows(app_pilot):
    app, pilot = app_pilot
    await pilot.press("b")
    assert isinstance(app.screen, CodebookScreen)
    text = screen_text(app)
    assert "13 of 13 codes" in text and "recovery is non-linear" in text
    await pilot.press("slash", *"trst")
    assert app.screen._shown[0] == app.project.code_by_name("building trust").id
    assert "of 13 codes" in screen_text(app)
    await pilot.press("escape", "escape")  # clear the search, then leave
    await pilot.press("escape")
    assert isinstance(app.screen, CodingScreen)


async def test_sort_by_count_and_few_extracts_filter(app_pilot):
    app, pilot = app_pilot
    await pilot.press("b", "s")
    screen = app.screen
    assert screen.sort == "extracts"
    first = app.project.code(screen._shown[0])
    assert first.name == "recovery is non-linear"  # 8 extracts, the most
    await pilot.press("f", *"2", "enter")
    names = {app.project.code(i).name for i in screen._shown}
    assert names == {"staff burnout", "team support"}


async def test_merge_marked_codes_from_the_keyboard_and_undo(app_pilot):
    app, pilot = app_pilot
    project = app.project
    before = {c.id: c.code_id for c in project.all_codings()}
    await pilot.press("b")
    await go_to_code(pilot, "staff burnout")
    await pilot.press("space")
    await go_to_code(pilot, "time pressure")
    await pilot.press("space")
    await pilot.press("M", *"team support", "enter")
    assert project.code_by_name("staff burnout") is None
    assert project.code_by_name("time pressure") is None
    assert len(project.codings_by_code[project.code_by_name("team support").id]) == 7
    assert "Merged" in screen_text(app)
    await pilot.press("u")
    assert {c.id: c.code_id for c in project.all_codings()} == before
    assert project.code_by_name("staff burnout") is not None


async def test_delete_asks_first_and_undo_restores(app_pilot):
    app, pilot = app_pilot
    project = app.project
    await pilot.press("b")
    await go_to_code(pilot, "stigma")
    await pilot.press("D")
    assert "5 coding(s)" in screen_text(app)
    await pilot.press("n")  # no: nothing happens
    assert project.code_by_name("stigma") is not None
    await pilot.press("D", "y")
    assert project.code_by_name("stigma") is None
    assert len(list(project.all_codings())) == 54
    await pilot.press("u")
    assert project.code_by_name("stigma") is not None
    assert len(list(project.all_codings())) == 59


async def test_rename_onto_an_existing_name_offers_a_merge(app_pilot):
    app, pilot = app_pilot
    project = app.project
    await pilot.press("b")
    await go_to_code(pilot, "team support")
    await pilot.press("r", *["backspace"] * 20, *"Staff burnout", "enter")
    assert "already exists" in screen_text(app)
    await pilot.press("y")
    assert project.code_by_name("team support") is None
    assert len(project.codings_by_code[project.code_by_name("staff burnout").id]) == 3


async def test_split_from_collated_extracts_into_a_new_code(app_pilot):
    app, pilot = app_pilot
    project = app.project
    await pilot.press("b")
    await go_to_code(pilot, "following rules")
    await pilot.press("enter")
    assert isinstance(app.screen, ExtractsScreen)
    assert "7 extract(s)" in screen_text(app)
    await pilot.press("space", "space")  # mark the first two
    await pilot.press("S", *"rules protect staff", "down", "enter")  # + new latent code
    new = project.code_by_name("rules protect staff")
    assert new is not None and new.kind == "latent"
    assert len(project.codings_by_code[new.id]) == 2
    assert "5 extract(s)" in screen_text(app)
    await pilot.press("u")
    assert len(project.codings_by_code[project.code_by_name("following rules").id]) == 7


async def test_memos_on_a_code_show_above_its_extracts(app_pilot):
    """Everyone's memos on the code head its extracts (they were drawn and then dropped)."""
    app, pilot = app_pilot
    from tuiqa.session import Session

    Session(app.project, "kit").save_memo("code", app.project.code_by_name("hope").id,
                                          "hope here is relational, not individual")
    await pilot.press("b")
    await go_to_code(pilot, "hope")
    await pilot.press("m", *"check against Q3", "ctrl+s")
    await pilot.press("enter")
    assert isinstance(app.screen, ExtractsScreen)
    text = screen_text(app)
    assert "✎ kit: hope here is relational" in text and "✎ lead: check against Q3" in text


async def test_open_an_extract_in_context_and_come_back(app_pilot):
    app, pilot = app_pilot
    await pilot.press("b")
    await go_to_code(pilot, "hope")
    await pilot.press("enter", "enter")
    screen = app.screen
    assert isinstance(screen, CodingScreen) and screen.in_context
    c = app.project.codings_for(app.navigator.current_id)
    assert any((x.start, x.end) == (screen.selection.start, screen.selection.end) for x in c)
    await pilot.press("backspace")
    assert isinstance(app.screen, ExtractsScreen)


async def test_copy_quote_in_the_coding_screen_and_in_the_list(app_pilot):
    app, pilot = app_pilot
    await pilot.press("down", "y")  # the first sentence of P1's first answer
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert app.clipboard == '"Recovery isn\'t a straight line." (P1: Support worker, Community, 2 years)'
    assert app.last_copy.routes == ["terminal (OSC 52)"]  # no display here: OSC 52 only
    assert "OSC 52" in screen_text(app)
    await pilot.press("b")
    await go_to_code(pilot, "hope")
    await pilot.press("enter", "Y")
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert app.clipboard.count("\n") == 3 and app.clipboard.startswith('"')


async def test_copy_uses_the_local_clipboard_when_there_is_one(app_pilot, monkeypatch):
    app, pilot = app_pilot
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    monkeypatch.delenv("SSH_TTY", raising=False)
    monkeypatch.delenv("SSH_CLIENT", raising=False)
    await pilot.press("y")
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert app.copies and app.copies[-1] == app.clipboard
    assert "system clipboard" in app.last_copy.routes

    def broken(_text):
        raise clipboard.SystemClipboardUnavailable("no xclip")

    app.clipboard_system = broken
    await pilot.press("y")
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert app.last_copy.routes == ["terminal (OSC 52)"]
    assert "cannot confirm" in screen_text(app)


async def test_compare_groups_table(app_pilot):
    app, pilot = app_pilot
    await pilot.press("b", "g")
    assert isinstance(app.screen, CompareScreen)
    text = screen_text(app)
    assert "Compare by Setting" in text and "Community: 14 participant(s)" in text
    await pilot.press("a", *"Role", "enter")
    assert "Compare by Role" in screen_text(app)


async def test_journal_entries_from_any_screen(app_pilot):
    app, pilot = app_pilot
    await pilot.press("f2")
    assert isinstance(app.screen, JournalScreen)
    await pilot.press("n", *"Noticed I expect inpatient staff to talk about risk", "ctrl+s")
    await pilot.press("n", *"Second thought on trust", "ctrl+s")
    text = screen_text(app)
    assert text.index("Second thought") < text.index("Noticed I expect")  # newest first
    await pilot.press("slash", *"inpatient")
    assert "Second thought" not in screen_text(app)
    await pilot.press("escape", "escape")
    assert isinstance(app.screen, CodingScreen)
    pid = app.project.store.meta["project_id"]
    assert len(app.project.memos_for("project", pid)) == 2


async def test_edit_a_code_in_the_form(app_pilot):
    app, pilot = app_pilot
    project = app.project
    await pilot.press("b")
    await go_to_code(pilot, "hope")
    await pilot.press("e")
    await pilot.press("tab", "tab")  # name -> kind -> (radio) ...
    from textual.widgets import TextArea

    app.screen.query_one("#edit-description", TextArea).text = "why people keep going"
    app.screen.query_one("#edit-memo", TextArea).text = "ask Bea"
    app.screen.query_one("#kind-latent").value = True
    await pilot.press("ctrl+s")
    code = project.code_by_name("hope")
    assert (code.kind, code.description) == ("latent", "why people keep going")
    assert [m.text for m in project.memos_for("code", code.id)] == ["ask Bea"]
    assert "✎" in screen_text(app)
