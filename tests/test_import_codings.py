"""Importing codings done elsewhere (issue 2, point 4): `tuiqa import-codings FILE --project DIR`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuiqa import csvsafe
from tuiqa.cli import main
from tuiqa.importers.codings import CodingsImportError, import_codings
from tuiqa.importers.survey import import_survey
from tuiqa.project import Project

from .helpers import cli, snapshot

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"

HEADER = ["participant", "question", "code", "coder", "start", "end", "text"]
SAME = "What might make that difficult for you?"

P1_Q1 = "She said “hello” and then… well,  nothing much happened. Hope is what matters here."
P1_Q2 = "Only two of us on shift. It’s a real risk to their recovery too."
P2_Q1 = "Time, patience and a bit of luck with the housing. Hope, mostly."
P2_Q3 = "Tell the prescriber, but go with her and say what I will say before I say it."
P3_Q1 = "Honestly I don't know what helps any more, there is never enough time to talk."


# -- helpers -----------------------------------------------------------------------------------


def csv_text(rows: list[list[str]], eol: str = "\r\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=eol).writerows(rows)
    return buf.getvalue()


def write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def write_codings(tmp_path: Path, rows: list[list[str]], *, header: list[str] = HEADER,
                  name: str = "codings.csv") -> Path:
    return write(tmp_path / name, csv_text([header, *rows]))


def run_import(project_dir: Path, path: Path, *, coder: str | None = None, default_coder: str = "dflt",
               done: str = "all"):
    with Project.open(project_dir) as project:
        return import_codings(project, path, coder=coder, default_coder=default_coder, done=done)


def extracts(project_dir: Path) -> set[tuple[str, str, str, str, str]]:
    """(participant, question key, code, coder, coded text) for every coding in the project."""
    with Project.open(project_dir) as p:
        out = set()
        for c in p.all_codings():
            r = p.responses[c.response_id]
            out.add((p.participants[r.participant_id].pid, p.questions[r.question_id].key,
                     p.code_name(c.code_id), c.coder, r.text[c.start:c.end]))
        return out


def code_names(project_dir: Path) -> list[str]:
    with Project.open(project_dir) as p:
        return [c.name for c in p.codes()]


def done_counts(project_dir: Path) -> dict[str, int]:
    with Project.open(project_dir) as p:
        return {coder: sum(p.is_done(rid, coder) for rid in p.responses) for coder in p.coders()}


@pytest.fixture
def project(tmp_path) -> Path:
    """Three participants; Q2 and Q4 share their header text, as scenario follow-ups do."""
    survey = write(tmp_path / "survey.csv", csv_text([
        ["id", "Role", "What helps?", SAME, "Scenario 2: what next?", SAME],
        ["P1", "Nurse", P1_Q1, P1_Q2, "", ""],
        ["P2", "Peer worker", P2_Q1, "", P2_Q3, "Losing the trust we built up over many months, I think."],
        ["P3", "Nurse", P3_Q1, "", "", ""],
    ]))
    directory = tmp_path / "proj"
    import_survey(directory, survey)
    return directory


# -- which question ----------------------------------------------------------------------------


def test_question_by_key_and_by_header_text(project, tmp_path):
    path = write_codings(tmp_path, [
        ["P1", "Q1", "hope", "ann", "", "", "Hope is what matters"],
        ["P2", "What helps?", "hope", "ann", "", "", "Hope, mostly."],
        ["P2", "q3", "telling", "ann", "", "", "Tell the prescriber"],
    ])
    result = run_import(project, path)
    assert result.added == 3
    assert extracts(project) == {
        ("P1", "Q1", "hope", "ann", "Hope is what matters"),
        ("P2", "Q1", "hope", "ann", "Hope, mostly."),
        ("P2", "Q3", "telling", "ann", "Tell the prescriber"),
    }


def test_header_text_shared_by_several_questions_asks_for_the_key(project, tmp_path, capsys):
    path = write_codings(tmp_path, [["P1", SAME, "staffing", "ann", "", "", "Only two of us on shift."]])
    code, _, err = cli(capsys, "import-codings", path, "-p", project)
    assert code == 1
    assert "line 2" in err
    assert "matches Q2, Q4; give the key instead" in err
    assert extracts(project) == set()


def test_unknown_question_and_participant_are_errors(project, tmp_path):
    path = write_codings(tmp_path, [
        ["P1", "Q9", "x", "ann", "", "", ""],
        ["P7", "Q1", "x", "ann", "", "", ""],
        ["P1", "Q3", "x", "ann", "", "", ""],  # P1 left Q3 empty
    ])
    with pytest.raises(CodingsImportError) as info:
        run_import(project, path)
    message = str(info.value)
    assert "line 2: no question 'Q9'" in message
    assert "line 3: no participant 'P7'" in message
    assert "line 4: P1 has no answer to Q3" in message


# -- where in the answer -----------------------------------------------------------------------


def test_start_end_that_agree_with_the_text_are_used(project, tmp_path):
    start = P1_Q1.index("Hope")
    end = start + len("Hope is what matters")
    path = write_codings(tmp_path, [["P1", "Q1", "hope", "ann", str(start), str(end), "Hope is what matters"]])
    run_import(project, path)
    with Project.open(project) as p:
        (c,) = list(p.all_codings())
        assert (c.start, c.end) == (start, end)


def test_start_end_without_text_are_used(project, tmp_path):
    path = write_codings(tmp_path, [["P1", "Q1", "greeting", "ann", "0", "8", ""]])
    run_import(project, path)
    assert extracts(project) == {("P1", "Q1", "greeting", "ann", "She said")}


def test_start_end_that_disagree_with_the_text_are_an_error(project, tmp_path):
    path = write_codings(tmp_path, [["P1", "Q1", "hope", "ann", "0", "8", "Hope is w"]])
    with pytest.raises(CodingsImportError) as info:
        run_import(project, path)
    message = str(info.value)
    assert "line 2: P1 Q1: text does not match characters 0-8" in message
    assert "'She said'" in message and "'Hope is w'" in message
    assert "nothing was imported" in message
    assert extracts(project) == set()


@pytest.mark.parametrize("start,end,phrase", [
    ("5", "", "give both start and end, or neither"),
    ("", "12", "give both start and end, or neither"),
    ("0", "500", "span 0-500 is outside the answer"),
    ("-1", "4", "outside the answer"),
    ("10", "10", "outside the answer"),
    ("one", "4", "whole numbers"),
])
def test_bad_offsets_are_an_error(project, tmp_path, start, end, phrase):
    path = write_codings(tmp_path, [["P1", "Q1", "hope", "ann", start, end, ""]])
    with pytest.raises(CodingsImportError) as info:
        run_import(project, path)
    assert "line 2" in str(info.value) and phrase in str(info.value)
    assert extracts(project) == set()


def test_text_alone_is_located_exactly(project, tmp_path):
    path = write_codings(tmp_path, [["P1", "Q2", "staffing", "ann", "", "", "Only two of us on shift."]])
    run_import(project, path)
    with Project.open(project) as p:
        (c,) = list(p.all_codings())
        assert (c.start, c.end) == (0, len("Only two of us on shift."))


@pytest.mark.parametrize("typed,expected", [
    # "..." typed for "…", straight quotes for curly, one space for two
    ('She said "hello" and then... well, nothing', "She said “hello” and then… well,  nothing"),
    ("It's a real risk", "It’s a real risk"),
    ("and then…  well,   nothing much", "and then… well,  nothing much"),
])
def test_text_is_located_ignoring_spacing_quotes_and_ellipses(project, tmp_path, typed, expected):
    question = "Q2" if "risk" in typed else "Q1"
    path = write_codings(tmp_path, [["P1", question, "found", "ann", "", "", typed]])
    run_import(project, path)
    # The coding covers the answer's own characters, verbatim.
    assert extracts(project) == {("P1", question, "found", "ann", expected)}


def test_text_not_in_the_answer_is_an_error(project, tmp_path):
    path = write_codings(tmp_path, [["P1", "Q1", "hope", "ann", "", "", "Hope is all that matters"]])
    with pytest.raises(CodingsImportError) as info:
        run_import(project, path)
    assert "line 2: P1 Q1: extract 'Hope is all that matters' is not in the answer" in str(info.value)


def test_no_start_end_or_text_codes_the_whole_answer(project, tmp_path):
    path = write_codings(tmp_path, [["P3", "Q1", "time pressure", "ann", "", "", ""]])
    run_import(project, path)
    assert extracts(project) == {("P3", "Q1", "time pressure", "ann", P3_Q1)}


def test_extract_text_with_a_line_break_matches_the_normalised_answer(tmp_path):
    survey = write(tmp_path / "s.csv", csv_text([["id", "Q"], ["P1", "First part.\r\nSecond part of it."]]))
    import_survey(tmp_path / "proj", survey)
    path = write_codings(tmp_path, [["P1", "Q1", "two parts", "ann", "", "", "part.\r\nSecond"]])
    run_import(tmp_path / "proj", path)
    assert extracts(tmp_path / "proj") == {("P1", "Q1", "two parts", "ann", "part.\nSecond")}


def test_offsets_count_code_points_and_never_split_a_character(tmp_path):
    answer = "😀 ok, and 👍🏽 thumbs up from me"
    survey = write(tmp_path / "s.csv", csv_text([["id", "Q"], ["P1", answer]]))
    import_survey(tmp_path / "proj", survey)
    thumbs = answer.index("👍🏽")
    path = write_codings(tmp_path, [
        ["P1", "Q1", "ok", "ann", "2", "4", "ok"],  # code points: the emoji before counts as one
        ["P1", "Q1", "thumbs", "ann", str(thumbs), str(thumbs + 1), ""],  # half of 👍🏽
    ])
    result = run_import(tmp_path / "proj", path)
    assert extracts(tmp_path / "proj") == {("P1", "Q1", "ok", "ann", "ok"),
                                           ("P1", "Q1", "thumbs", "ann", "👍🏽")}
    assert any("line 3" in w and "widened" in w for w in result.warnings)


# -- who coded it --------------------------------------------------------------------------------


def test_coder_option_assigns_every_row(project, tmp_path, capsys):
    path = write_codings(tmp_path, [
        ["P1", "Q1", "hope", "ann", "", "", "Hope"],
        ["P2", "Q1", "hope", "", "", "", "Hope"],
    ])
    code, out, _ = cli(capsys, "import-codings", path, "-p", project, "--coder", "bea")
    assert code == 0
    assert "coders: bea" in out
    assert {row[3] for row in extracts(project)} == {"bea"}


def test_coder_column_is_used_and_an_empty_cell_means_the_default_coder(project, tmp_path, capsys,
                                                                         monkeypatch):
    monkeypatch.setenv("TUIQA_CODER", "dee")
    path = write_codings(tmp_path, [
        ["P1", "Q1", "hope", "ann", "", "", "Hope"],
        ["P2", "Q1", "hope", "cat", "", "", "Hope"],
        ["P3", "Q1", "time", "  ", "", "", "enough time"],
    ])
    code, out, _ = cli(capsys, "import-codings", path, "--project", project)
    assert code == 0
    assert "coders: ann, cat, dee" in out
    assert {(row[0], row[3]) for row in extracts(project)} == {("P1", "ann"), ("P2", "cat"), ("P3", "dee")}


def test_file_without_a_coder_column_uses_the_default_coder(project, tmp_path):
    path = write_codings(tmp_path, [["P1", "Q1", "hope", "Hope"]],
                         header=["participant", "question", "code", "text"])
    run_import(project, path, default_coder="solo")
    assert extracts(project) == {("P1", "Q1", "hope", "solo", "Hope")}


def test_the_coder_column_follows_the_coder_name_rule(project, tmp_path, capsys):
    """The reserved `consensus` and names with control characters are refused in the coder
    column as they are with --coder, each row named by its line; nothing is imported."""
    path = write_codings(tmp_path, [
        ["P1", "Q1", "hope", "ann", "", "", "Hope"],
        ["P2", "Q1", "hope", "consensus", "", "", "Hope"],
        ["P3", "Q1", "time", " Consensus ", "", "", "enough time"],
        ["P1", "Q1", "time", "bad\x1b]0;name\x07", "", "", "Hope"],
        ["P2", "Q1", "luck", "ann\u202e", "", "", "luck"],
    ])
    before = extracts(project)
    code, out, err = cli(capsys, "import-codings", path, "-p", project)
    assert code == 1
    lines = err.splitlines()
    assert any("line 3" in l and "reserved" in l for l in lines), err
    assert any("line 4" in l and "reserved" in l for l in lines), err
    assert any("line 5" in l and "plain text" in l for l in lines), err
    assert any("line 6" in l and "plain text" in l for l in lines), err
    assert not any("line 2" in l for l in lines)
    assert "\x1b" not in err  # the name is shown, not acted on
    assert extracts(project) == before


def test_an_unusable_default_coder_is_refused_too(project, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TUIQA_CODER", "consensus")
    path = write_codings(tmp_path, [["P1", "Q1", "hope", "", "", "", "Hope"]])
    code, _, err = cli(capsys, "import-codings", path, "-p", project)
    assert code == 1 and "line 2" in err and "reserved" in err


def test_consensus_rows_of_a_tuiqa_export_come_back_when_asked(project, tmp_path, capsys):
    """`export --format csv` writes the consensus layer as the coder `consensus`; importing it
    back (a fresh import of the same survey) takes --with-consensus, and says so when missing."""
    path = write_codings(tmp_path, [
        ["P1", "Q1", "hope", "ann", "", "", "Hope"],
        ["P1", "Q1", "hope", "consensus", "", "", "Hope"],
    ])
    code, _, err = cli(capsys, "import-codings", path, "-p", project)
    assert code == 1 and "--with-consensus" in err
    code, out, err = cli(capsys, "import-codings", path, "-p", project, "--with-consensus")
    assert code == 0, err
    assert ("P1", "Q1", "hope", "consensus", "Hope") in extracts(project)


# -- codes ---------------------------------------------------------------------------------------


def test_missing_codes_are_created_and_names_are_unique_ignoring_case_and_spaces(project, tmp_path):
    path = write_codings(tmp_path, [
        ["P1", "Q1", "Hope", "ann", "", "", "Hope is what matters"],
        ["P2", "Q1", "hope ", "ann", "", "", "Hope, mostly."],
        ["P2", "Q3", "  HOPE", "ann", "", "", "go with her"],
        ["P3", "Q1", "time   pressure", "ann", "", "", "never enough time"],
    ])
    result = run_import(project, path)
    assert result.new_codes == ["Hope", "time pressure"]
    assert code_names(project) == ["Hope", "time pressure"]
    with Project.open(project) as p:
        hope = p.code_by_name("hope")
        assert len(p.codings_by_code[hope.id]) == 3

    # A later file that spells an existing code differently reuses it.
    again = write_codings(tmp_path, [["P1", "Q2", "TIME PRESSURE", "ann", "", "", "Only two of us"]],
                          name="more.csv")
    result = run_import(project, again)
    assert result.new_codes == []
    assert code_names(project) == ["Hope", "time pressure"]


def test_formula_escaped_cells_are_read_back_exactly(project, tmp_path):
    path = write_codings(tmp_path, [
        ["P1", "Q1", "'=SUM(A1)", "ann", "", "", "She said"],
        ["P2", "Q1", "'-- harm reduction", "ann", "", "", "Time"],
        ["P3", "Q1", "''=kept one quote", "ann", "", "", "Honestly"],
        ["P1", "Q2", "'tis the season", "ann", "", "", "Only"],
    ])
    run_import(project, path)
    assert set(code_names(project)) == {"=SUM(A1)", "-- harm reduction", "'=kept one quote",
                                        "'tis the season"}


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text())
def test_csvsafe_round_trip_and_never_a_formula(value):
    escaped = csvsafe.escape(value)
    assert csvsafe.unescape(escaped) == value
    assert not escaped or escaped[0] not in "=+-@\t\r"


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet="'=+-@\t\rab ", max_size=8))
def test_csvsafe_round_trip_on_quote_heavy_strings(value):
    assert csvsafe.unescape(csvsafe.escape(value)) == value


# -- all or nothing, and twice -------------------------------------------------------------------


def test_one_bad_row_imports_nothing_and_names_its_line(project, tmp_path, capsys):
    path = write_codings(tmp_path, [
        ["P1", "Q1", "hope", "ann", "", "", "Hope is what matters"],
        ["P2", "Q1", "new code", "ann", "", "", "Hope, mostly."],
        ["P3", "Q1", "time", "ann", "", "", "words that are not there"],
        ["P2", "Q3", "telling", "ann", "", "", "Tell the prescriber"],
    ])
    before = snapshot(project)
    code, out, err = cli(capsys, "import-codings", path, "-p", project)
    assert code == 1
    assert "1 row(s) cannot be placed; nothing was imported" in err
    assert "line 4: P3 Q1: extract 'words that are not there' is not in the answer" in err
    assert "line 2" not in err and "line 3" not in err and "line 5" not in err
    assert snapshot(project) == before
    assert extracts(project) == set()
    assert code_names(project) == []
    assert done_counts(project) == {}


def test_several_bad_rows_are_all_listed(project, tmp_path):
    path = write_codings(tmp_path, [
        ["P1", "Q1", "hope", "ann", "", "", "Hope is what matters"],
        ["P9", "Q1", "hope", "ann", "", "", ""],
        ["P1", "Q1", "", "ann", "", "", ""],
        ["P1", "Q1", "hope", "ann", "3", "", ""],
        ["P2", "Q1", "hope", "ann", "", "", "Hope, mostly."],
    ])
    with pytest.raises(CodingsImportError) as info:
        run_import(project, path)
    err = info.value
    assert len(err.problems) == 3
    message = str(err)
    assert "3 row(s) cannot be placed" in message
    assert "line 3: no participant 'P9'" in message
    assert "line 4: the code is empty" in message
    assert "line 5: P1 Q1: give both start and end" in message
    assert extracts(project) == set()


def test_line_numbers_count_line_breaks_inside_cells(project, tmp_path):
    rows = [HEADER,
            ["P1", "Q1", "memo\nstyle\ncode", "ann", "", "", ""],  # one row over three lines
            ["P1", "Q7", "x", "ann", "", "", ""]]
    path = write(tmp_path / "codings.csv", csv_text(rows))
    with pytest.raises(CodingsImportError) as info:
        run_import(project, path)
    assert "line 5: no question 'Q7'" in str(info.value)


def test_importing_the_same_rows_twice_adds_nothing(project, tmp_path, capsys):
    path = write_codings(tmp_path, [
        ["P1", "Q1", "hope", "ann", "", "", "Hope is what matters"],
        ["P3", "Q1", "time", "ann", "", "", ""],
    ])
    assert cli(capsys, "import-codings", path, "-p", project)[0] == 0
    first = extracts(project)
    code, out, _ = cli(capsys, "import-codings", path, "-p", project)
    assert code == 0
    assert "2 coding row(s)" in out and "0 added, 2 already in the project" in out
    assert "new codes" not in out
    assert extracts(project) == first
    with Project.open(project) as p:
        assert len(list(p.all_codings())) == 2
        assert len(p.codes()) == 2


def test_a_duplicated_row_within_one_file_counts_once(project, tmp_path):
    row = ["P1", "Q1", "hope", "ann", "", "", "Hope is what matters"]
    result = run_import(project, write_codings(tmp_path, [row, row]))
    assert (result.added, result.already) == (1, 1)


# -- done ------------------------------------------------------------------------------------------


def _two_coder_file(tmp_path: Path) -> Path:
    return write_codings(tmp_path, [
        ["P1", "Q1", "hope", "ann", "", "", "Hope"],
        ["P1", "Q2", "staffing", "ann", "", "", "Only two"],
        ["P2", "Q3", "telling", "bea", "", "", "Tell"],
    ])


@pytest.mark.parametrize("mode,expected", [
    ("all", {"ann": 6, "bea": 6}),
    ("coded", {"ann": 2, "bea": 1}),
    ("none", {"ann": 0, "bea": 0}),
])
def test_done_option(project, tmp_path, capsys, mode, expected):
    code, out, _ = cli(capsys, "import-codings", _two_coder_file(tmp_path), "-p", project, "--done", mode)
    assert code == 0
    with Project.open(project) as p:
        assert len(p.responses) == 6
        counts = {c: sum(p.is_done(rid, c) for rid in p.responses) for c in ("ann", "bea")}
        assert counts == expected
        if mode == "coded":
            p1 = p.participant_by_pid("P1")
            assert p.is_done(p.response_for(p1, p.question_by_key("Q1")).id, "ann")
            assert not p.is_done(p.response_for(p1, p.question_by_key("Q1")).id, "bea")
    if mode == "none":
        assert "marked done" not in out
    else:
        assert f"responses marked done: {sum(expected.values())}" in out


def test_done_defaults_to_all(project, tmp_path, capsys):
    assert cli(capsys, "import-codings", _two_coder_file(tmp_path), "-p", project)[0] == 0
    assert done_counts(project) == {"ann": 6, "bea": 6}


def test_bad_done_value_is_a_usage_error(project, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["import-codings", str(_two_coder_file(tmp_path)), "-p", str(project), "--done", "some"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


# -- file shapes -----------------------------------------------------------------------------------


def test_excel_csv_with_bom_any_case_header_and_extra_columns(project, tmp_path):
    text = csv_text([["Participant", "QUESTION", "Notes", "Code", "Coder", "Start", "End", "Text"],
                     ["P1", "Q1", "a note", "hope", "ann", "", "", "Hope"]])
    path = write(tmp_path / "codings.csv", b"\xef\xbb\xbf" + text.encode("utf-8"))
    result = run_import(project, path)
    assert result.added == 1
    assert extracts(project) == {("P1", "Q1", "hope", "ann", "Hope")}


def test_missing_required_column_is_an_error(project, tmp_path, capsys):
    path = write_codings(tmp_path, [["P1", "Q1", "Hope"]], header=["participant", "question", "text"])
    code, _, err = cli(capsys, "import-codings", path, "-p", project)
    assert code == 1
    assert "lacks the column(s) code" in err


def test_codings_into_a_folder_that_is_not_a_project(tmp_path, capsys):
    path = write_codings(tmp_path, [["P1", "Q1", "hope", "ann", "", "", ""]])
    code, _, err = cli(capsys, "import-codings", path, "-p", tmp_path / "nowhere")
    assert code == 1
    assert "does not exist" in err


# -- the bundled sample ----------------------------------------------------------------------------


def test_bundled_sample_codings_import_into_a_fresh_sample_project(tmp_path, capsys):
    directory = tmp_path / "sample"
    assert cli(capsys, "import", SAMPLE / "survey.csv", "-p", directory)[0] == 0
    code, out, err = cli(capsys, "import-codings", SAMPLE / "codings_lead.csv", "-p", directory)
    assert code == 0, err
    assert "59 added" in out
    with Project.open(directory) as p:
        codings = list(p.all_codings())
        assert len(codings) == 59
        assert {c.coder for c in codings} == {"lead"}
        assert len(p.codes()) == 13
    # Every row's extract is coded verbatim, on the right participant and question.
    with open(SAMPLE / "codings_lead.csv", encoding="utf-8", newline="") as fh:
        expected = {(r["participant"], r["question"], r["code"], "lead", r["text"])
                    for r in csv.DictReader(fh)}
    assert extracts(directory) == expected
