"""Codebook operations (core and command line), quotes and the clipboard policy."""

from __future__ import annotations

import json

import pytest

from tuiqa import clipboard, codebook, groups, quotes
from tuiqa.cli import main
from tuiqa.project import Project
from tuiqa.session import Session

from .helpers import code_id


def values(project: Project) -> dict:
    """Every entity's field values (not stamps): what "exactly restored" compares."""
    return {kind: {i: o.values() for i, o in table.items()}
            for kind, table in project.state.entities.items() if kind not in ("coderpref", "conflict")}


def live(project: Project) -> dict:
    return {kind: {i: v for i, v in table.items() if not v.get("deleted")}
            for kind, table in values(project).items()}



def test_counts_extracts_responses_and_participants(project):
    stats = codebook.code_stats(project)
    hope = stats[code_id(project, "hope")]
    assert (hope.extracts, hope.responses, hope.participants) == (4, 4, 3)
    assert hope.coders == {"lead"}
    assert codebook.code_stats(project, coder="nobody")[hope.code.id].extracts == 0


def test_merge_moves_every_coding_folds_duplicates_and_undoes_exactly(project):
    s = Session(project, "lead")
    a, b = code_id(project, "hope"), code_id(project, "building trust")
    # make the same extract coded with both codes by the same coder: it must become one
    extract = next(iter(project.codings_by_code[b].values()))
    s.apply_codes(extract.response_id, extract.start, extract.end, [a])
    before = values(project)
    before_live = live(project)
    n_b, n_a = len(project.codings_by_code[b]), len(project.codings_by_code[a])

    def spans(cid):
        return {(c.response_id, c.coder, c.start, c.end) for c in project.codings_by_code[cid].values()}

    dup = len(spans(a) & spans(b))
    assert dup == 2  # the one made above, and P3's extract coded with both in the sample
    outcome = s.merge_codes([b], a)
    assert "2 duplicate" in outcome.message
    assert project.code_by_name("building trust") is None
    assert len(project.codings_by_code[a]) == n_a + n_b - dup
    assert not project.codings_by_code.get(b)
    s.undo()
    assert values(project) == before
    assert live(project) == before_live


def test_split_moves_chosen_extracts_to_a_new_or_existing_code(project):
    s = Session(project, "ann")
    rules = code_id(project, "following rules")
    chosen = [c.id for c in codebook.extracts_of(project, rules)[:2]]
    s.move_codings(chosen, new_name="rules as protection", kind="latent")
    new = project.code_by_name("rules as protection")
    assert new.kind == "latent" and set(project.codings_by_code[new.id]) == set(chosen)
    assert len(project.codings_by_code[rules]) == 5
    s.move_codings(chosen[:1], code_id(project, "stigma"))
    assert chosen[0] in project.codings_by_code[code_id(project, "stigma")]


def test_delete_says_how_many_and_undo_restores_them(project):
    s = Session(project, "ann")
    before = values(project)
    outcome = s.delete_code(code_id(project, "recovery is non-linear"))
    assert "8 coding(s)" in outcome.message
    assert project.code_by_name("recovery is non-linear") is None
    assert sum(len(v) for v in project.codings_by_code.values()) == 51
    s.undo()
    assert values(project) == before


def test_rename_keeps_names_unique(project):
    s = Session(project, "ann")
    hope = code_id(project, "hope")
    with pytest.raises(codebook.NameTaken) as taken:
        s.rename_code(hope, "  STIGMA ")
    assert taken.value.existing.name == "stigma"
    s.rename_code(hope, "hopefulness")
    assert project.code(hope).name == "hopefulness"
    with pytest.raises(codebook.UnknownCode, match="did you mean “hopefulness”"):
        codebook.find_code(project, "hopefulnes")


def test_code_edit_and_memo_beside_the_code(project):
    s = Session(project, "ann")
    hope = code_id(project, "hope")
    s.edit_code(hope, kind="latent", description="what keeps staff going\nand clients", colour="teal")
    s.save_memo("code", hope, "maybe two codes?")
    code = project.code(hope)
    assert (code.kind, code.colour) == ("latent", "#06989a")
    assert code.description.endswith("and clients")
    assert [m.text for m in project.memos_for("code", hope)] == ["maybe two codes?"]
    with pytest.raises(ValueError):
        s.edit_code(hope, colour="not-a-colour")


def test_group_comparison_counts_participants_and_extracts(project):
    table = groups.compare(project, "Setting")
    assert table.values == ["Community", "Inpatient", "(blank)"]
    assert sum(table.sizes.values()) == 30
    row = next(r for r in table.rows if r.label == "building trust")
    assert sum(row.extracts.values()) == 7
    assert row.participants["Community"] >= row.participants["Inpatient"]
    with pytest.raises(ValueError):
        groups.compare(project, "Shoe size")


# -- quotes ----------------------------------------------------------------------------------

ATTRS = ["Role", "Setting", "Length of experience"]


@pytest.mark.parametrize("attrs, expected", [
    ({"Role": "Support worker", "Setting": "Community", "Length of experience": "2 years"},
     "(P7: Community support worker, 2 years experience)"),
    # a section with a blank attribute is left out; the next one opens as it would have
    ({"Role": "Support worker", "Setting": "", "Length of experience": "2 years"},
     "(P7: 2 years experience)"),
    ({"Role": "", "Setting": "", "Length of experience": "2 years"}, "(P7: 2 years experience)"),
    ({"Role": "", "Setting": "", "Length of experience": ""}, "(P7)"),
    ({}, "(P7)"),
])
def test_attribution_template_with_blanks(attrs, expected):
    template = "({participant}[: {setting} {Role|lower}][, {Length of experience} experience])"
    assert quotes.attribution(template, ATTRS, "P7", attrs) == expected


def test_default_template_uses_every_attribute_and_literals_escape():
    template = quotes.default_template(ATTRS)
    assert quotes.attribution(template, ATTRS, "P3", {"Role": "Nurse", "Setting": "Inpatient",
                                                      "Length of experience": "3 yrs"}) == \
        "(P3: Nurse, Inpatient, 3 yrs)"
    assert quotes.attribution("{{[[{participant}]]}}", ATTRS, "P1", {}) == "{[P1]}"
    for bad in ("{nope}", "{Role|shout}", "[{Role}", "{Role", "]"):
        with pytest.raises(quotes.TemplateError):
            quotes.parse(bad, ATTRS)


def test_quote_is_one_line_and_verbatim():
    assert quotes.quote("I said\n“no” …", "(P1)") == "“I said ‘no’ …” (P1)"  # APA: inner marks single


def test_session_quote_uses_the_project_template(project):
    s = Session(project, "ann")
    c = codebook.extracts_of(project, code_id(project, "hope"))[0]
    assert s.quote(c).endswith("(P1: Support worker, Community, 2 years)")
    s.set_quote_template("({participant}[, {Setting|lower}])")
    assert s.quote(c).endswith("(P1, community)")
    with pytest.raises(quotes.TemplateError):
        s.set_quote_template("{Shoe size}")


# -- clipboard policy --------------------------------------------------------------------------


def test_over_ssh_only_osc52_is_used_and_the_message_is_honest():
    sent = []

    def system(_text):
        raise AssertionError("the local clipboard must not be tried over SSH")

    result = clipboard.copy("q", terminal=sent.append, env={"SSH_CONNECTION": "x", "DISPLAY": ":0"},
                            system=system, tmux=None)
    assert sent == ["q"] and result.routes == ["terminal (OSC 52)"]
    assert not result.confirmed and "cannot confirm" in result.message("the quote")


def test_inside_tmux_the_buffer_is_loaded_too():
    loaded = []
    result = clipboard.copy("q", terminal=lambda t: None, env={"TMUX": "/tmp/x"},
                            system=None, tmux=loaded.append)
    assert loaded == ["q"] and "tmux buffer" in result.routes and result.confirmed


def test_local_pyperclip_available_and_unavailable():
    got = []
    ok = clipboard.copy("q", terminal=lambda t: None, env={"DISPLAY": ":0"}, system=got.append, tmux=None)
    assert got == ["q"] and "system clipboard" in ok.routes and ok.confirmed

    def unavailable(_text):
        raise clipboard.SystemClipboardUnavailable("Pyperclip could not find a copy/paste mechanism")

    bad = clipboard.copy("q", terminal=lambda t: None, env={"DISPLAY": ":0"}, system=unavailable, tmux=None)
    assert bad.routes == ["terminal (OSC 52)"]
    assert any("copy/paste mechanism" in p for p in bad.problems)


def test_large_copies_are_flagged():
    result = clipboard.copy("x" * 200_000, terminal=lambda t: None, env={}, system=None, tmux=None)
    assert result.too_big_for_terminal and "large" in result.message("it")


def test_pyperclip_child_process_reports_no_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    import sys

    if sys.platform != "linux":
        pytest.skip("checks the headless Linux behaviour")
    with pytest.raises(clipboard.SystemClipboardUnavailable):
        clipboard.pyperclip_in_child("hello", timeout=20)


# -- command line ----------------------------------------------------------------------------


def test_cli_codes_json_rename_merge_and_extracts(sample_project, capsys):
    assert main(["codes", str(sample_project), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    hope = next(c for c in listed if c["name"] == "hope")
    assert {k: hope[k] for k in ("kind", "extracts", "responses", "participants")} == \
        {"kind": "semantic", "extracts": 4, "responses": 4, "participants": 3}
    assert {"id", "description"} <= set(hope)

    assert main(["codes", str(sample_project), "rename", "hope", "hopefulness"]) == 0
    assert main(["codes", "-p", str(sample_project), "merge", "stigma", "team support",
                 "--into", "hopefulness"]) == 0
    capsys.readouterr()
    assert main(["codes", str(sample_project), "--format", "json"]) == 0
    names = {c["name"]: c["extracts"] for c in json.loads(capsys.readouterr().out)}
    assert "hope" not in names and "stigma" not in names and names["hopefulness"] == 4 + 5 + 2

    assert main(["extracts", str(sample_project), "hopefulness", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["extracts"]) == 11
    first = data["extracts"][0]
    assert first["quote"].startswith('"') and first["attribution"].startswith("(P")
    assert main(["extracts", str(sample_project), "hopefulness", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("## hopefulness")


def test_cli_unknown_code_names_suggest_the_closest(sample_project, capsys):
    assert main(["codes", str(sample_project), "rename", "hpoe", "x"]) == 1
    assert "did you mean “hope”" in capsys.readouterr().err
    assert main(["extracts", str(sample_project), "stigmaa"]) == 1
    assert "“stigma”" in capsys.readouterr().err
    assert main(["codes", str(sample_project), "merge", "hope", "--into", "nothere"]) == 1
    assert main(["codes", str(sample_project), "rename", "hope", "stigma"]) == 1
    assert "merge hope --into stigma" in capsys.readouterr().err
