"""Survey import (issue 2, point 2): `tuiqa import SURVEY --project DIR`.

Every input file is built by hand in tmp_path (bytes where the encoding matters), so each test shows
exactly what a survey platform or spreadsheet would have written.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tuiqa.importers.survey import ImportError_, import_survey, plan_import
from tuiqa.project import Project
from tuiqa.store.state import State

from .helpers import cli, snapshot

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"

LONG_A = "Being listened to properly by someone who has been there, and not being judged for it."
LONG_B = "Time. Nobody gets better in six weeks, whatever the commissioners think about it."
LONG_C = "Having somewhere safe to live and a reason to get up in the morning, honestly."


# -- helpers -----------------------------------------------------------------------------------


def csv_text(rows: list[list[str]], delimiter: str = ",", eol: str = "\r\n") -> str:
    """Rows as a spreadsheet would save them: minimal RFC 4180 quoting."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=eol).writerows(rows)
    return buf.getvalue()


def write(path: Path, content: str | bytes, encoding: str = "utf-8") -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def write_rows(path: Path, rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8",
               eol: str = "\r\n") -> Path:
    return write(path, csv_text(rows, delimiter, eol), encoding)


def roles(plan) -> dict[str, str]:
    return {c.header: c.role for c in plan.columns}


def responses_by(project: Project) -> dict[tuple[str, str], str]:
    """(participant ID, question key) -> stored answer text."""
    out = {}
    for r in project.responses.values():
        out[(project.participants[r.participant_id].pid, project.questions[r.question_id].key)] = r.text
    return out


BASE_ROWS = [
    ["Participant ID", "Role", "Setting", "What helps recovery?", "What gets in the way?"],
    ["P1", "Nurse", "Community", LONG_A, LONG_B],
    ["P2", "Support worker", "Inpatient", LONG_B, ""],
    ["P3", "", "Community", LONG_C, LONG_A],
]


@pytest.fixture
def base_survey(tmp_path) -> Path:
    return write_rows(tmp_path / "survey.csv", BASE_ROWS)


# -- the classification rule -------------------------------------------------------------------


def test_short_labels_are_attributes_and_free_text_is_a_question(base_survey):
    plan = plan_import(base_survey, State())
    assert roles(plan) == {"Participant ID": "id", "Role": "attribute", "Setting": "attribute",
                           "What helps recovery?": "question", "What gets in the way?": "question"}


def test_one_value_over_60_characters_makes_a_question(tmp_path):
    long_label = "x" * 61
    path = write_rows(tmp_path / "s.csv", [
        ["id", "Team", "Site", "Q"],
        ["P1", "Red", "a" * 60, LONG_A],
        ["P2", "Blue", "b", LONG_B],
        ["P3", long_label, "c", LONG_C],
    ])
    plan = plan_import(path, State())
    # Team: short median, but one value is 61 characters; Site: longest is exactly 60.
    assert roles(plan)["Team"] == "question"
    assert roles(plan)["Site"] == "attribute"
    team = next(c for c in plan.columns if c.header == "Team")
    assert "61 characters" in team.reason


def test_a_median_of_five_words_makes_a_question_and_four_an_attribute(tmp_path):
    path = write_rows(tmp_path / "s.csv", [
        ["id", "Five", "Four"],
        ["P1", "one two three four five", "one two three four"],
        ["P2", "a b c d e", "a b c d"],
        ["P3", "x", "x y z w"],
    ])
    plan = plan_import(path, State())
    assert roles(plan) == {"id": "id", "Five": "question", "Four": "attribute"}
    five = next(c for c in plan.columns if c.header == "Five")
    assert "median 5 words" in five.reason


def test_empty_cells_do_not_count_towards_the_rule(tmp_path):
    # Mostly blank: counting blanks as 0-word values would pull the median of "Comments" down to 0.
    path = write_rows(tmp_path / "s.csv", [
        ["id", "Role", "Comments"],
        ["P1", "Nurse", "I would like more supervision time than we get now"],
        ["P2", "", ""],
        ["P3", "", ""],
        ["P4", "", ""],
        ["P5", "Nurse", ""],
    ])
    plan = plan_import(path, State())
    assert roles(plan)["Comments"] == "question"
    assert roles(plan)["Role"] == "attribute"
    comments = next(c for c in plan.columns if c.header == "Comments")
    assert comments.filled == 1


# -- overrides and the ID column -------------------------------------------------------------


def test_attribute_and_question_overrides_are_repeatable(tmp_path, capsys):
    path = write_rows(tmp_path / "s.csv", [
        ["id", "Role", "Setting", "Years in post", "Free text"],
        ["P1", "Nurse", "Ward 3", "four", LONG_A],
        ["P2", "Support worker", "Ward 4", "ten", LONG_B],
    ])
    project = tmp_path / "proj"
    code, out, _ = cli(capsys, "import", path, "-p", project, "--question", "Role",
                       "--question", "Setting", "--attribute", "Free text")
    assert code == 0
    with Project.open(project) as p:
        assert [q.text for q in p.questions_in_order()] == ["Role", "Setting"]
        assert p.attributes == ["Years in post", "Free text"]
        assert p.participant_by_pid("P1").attrs["Free text"] == LONG_A
    assert "set by --question" in out and "set by --attribute" in out


def test_unknown_override_name_is_an_error_listing_the_columns(base_survey, tmp_path, capsys):
    project = tmp_path / "proj"
    code, out, err = cli(capsys, "import", base_survey, "-p", project, "--attribute", "Rôle")
    assert code == 1
    assert "--attribute 'Rôle' matches no column" in err
    for header in BASE_ROWS[0]:
        assert repr(header) in err
    assert "Nothing was written" in err
    assert not project.exists()
    with pytest.raises(ImportError_, match="--question 'Nope' matches no column"):
        plan_import(base_survey, State(), questions=["Nope"])


def test_id_column_by_name(tmp_path):
    path = write_rows(tmp_path / "s.csv", [
        ["Role", "Respondent", "What helps?"],
        ["Nurse", "R-01", LONG_A],
        ["Nurse", "R-02", LONG_B],
    ])
    project = tmp_path / "proj"
    import_survey(project, path, id_column="Respondent")
    with Project.open(project) as p:
        assert sorted(x.pid for x in p.participants.values()) == ["R-01", "R-02"]
        assert p.participant_by_pid("R-02").attrs == {"Role": "Nurse"}
        assert p.response_for(p.participant_by_pid("R-01"), p.question_by_key("Q1")).text == LONG_A


def test_id_column_by_number(tmp_path):
    path = write_rows(tmp_path / "s.csv", [["Role", "Respondent", "What helps?"], ["Nurse", "R-01", LONG_A]])
    plan = plan_import(path, State(), id_column="#2")
    assert plan.id_column.header == "Respondent"


def test_id_column_defaults_to_the_first_column(base_survey, tmp_path):
    plan, _ = import_survey(tmp_path / "proj", base_survey)
    assert plan.id_column.header == "Participant ID"
    with Project.open(tmp_path / "proj") as p:
        assert sorted(x.pid for x in p.participants.values()) == ["P1", "P2", "P3"]


def test_missing_id_column_is_an_error_and_writes_nothing(base_survey, tmp_path, capsys):
    project = tmp_path / "proj"
    code, _, err = cli(capsys, "import", base_survey, "-p", project, "--id-column", "Respondent ID")
    assert code == 1
    assert str(base_survey) in err
    assert "no participant ID column named 'Respondent ID'" in err
    assert "'Participant ID'" in err  # the columns are listed
    assert not project.exists()


# -- questions: keys, text, order --------------------------------------------------------------


def test_questions_keyed_in_column_order_with_full_header_text(tmp_path):
    q1 = "Thinking about Jo, what does recovery mean in a situation like this? Please say as much as you like."
    path = write_rows(tmp_path / "s.csv", [
        ["id", q1, "Role", "Second question?", "Third question?"],
        ["P1", LONG_A, "Nurse", LONG_B, LONG_C],
        ["P2", LONG_B, "Nurse", LONG_C, LONG_A],
    ])
    import_survey(tmp_path / "proj", path)
    with Project.open(tmp_path / "proj") as p:
        assert [(q.key, q.text) for q in p.questions_in_order()] == [
            ("Q1", q1), ("Q2", "Second question?"), ("Q3", "Third question?")]
        assert p.question_by_key("Q1").text == q1


def test_same_header_text_under_two_scenarios_gives_two_questions(tmp_path):
    same = "What might make that difficult for you?"
    path = write_rows(tmp_path / "s.csv", [
        ["id", "Scenario 1: what next?", same, "Scenario 2: what next?", same],
        ["P1", LONG_A, "Only two staff on shift at night, so there is never enough time", LONG_B,
         "Worrying that the whole relationship could fall apart because of it"],
    ])
    import_survey(tmp_path / "proj", path)
    with Project.open(tmp_path / "proj") as p:
        qs = p.questions_in_order()
        assert [(q.key, q.text) for q in qs] == [
            ("Q1", "Scenario 1: what next?"), ("Q2", same), ("Q3", "Scenario 2: what next?"), ("Q4", same)]
        assert len({q.id for q in qs}) == 4
        p1 = p.participant_by_pid("P1")
        assert p.response_for(p1, p.question_by_key("Q2")).text.startswith("Only two staff")
        assert p.response_for(p1, p.question_by_key("Q4")).text.startswith("Worrying")


def test_line_breaks_inside_a_header_are_normalised_too(tmp_path, capsys):
    # Survey platforms often export a question and its instructions as a two-line header.
    path = write(tmp_path / "s.csv", 'id,"What helps?\r\n(Please explain)"\r\n'
                 f'P1,"{LONG_A}"\r\n')
    project = tmp_path / "proj"
    import_survey(project, path)
    with Project.open(project) as p:
        assert p.question_by_key("Q1").text == "What helps?\n(Please explain)"
    code, out, _ = cli(capsys, "stats", project)
    assert code == 0
    assert "\u240d" not in out  # no visible carriage-return symbol in the question list
    assert "What helps? \u23ce (Please explain)" in out


# -- answer text -----------------------------------------------------------------------------


def test_empty_answers_are_skipped(base_survey, tmp_path):
    plan, lines = import_survey(tmp_path / "proj", base_survey)
    with Project.open(tmp_path / "proj") as p:
        assert len(p.responses) == 5  # 6 cells, P2's second answer blank
        assert p.response_for(p.participant_by_pid("P2"), p.question_by_key("Q2")) is None
    assert "1 empty answers skipped" in "\n".join(lines)


def test_whitespace_only_answer_is_skipped(tmp_path):
    path = write_rows(tmp_path / "s.csv", [["id", "Q"], ["P1", LONG_A], ["P2", "   \r\n  "]])
    import_survey(tmp_path / "proj", path)
    with Project.open(tmp_path / "proj") as p:
        assert len(p.responses) == 1


def test_line_separators_become_newlines_and_quotes_and_ellipses_are_kept(tmp_path):
    answer = ("First line, with a comma\r\nsecond line\rthird line\u2028fourth: “quoted” and "
              "‘single’ and it’s… fine... really")
    path = write_rows(tmp_path / "s.csv", [["id", "Q"], ["P1", answer], ["P2", LONG_A]])
    assert b'"First line, with a comma\r\nsecond' in path.read_bytes()  # quoted cell, as Excel does
    import_survey(tmp_path / "proj", path)
    with Project.open(tmp_path / "proj") as p:
        text = p.response_for(p.participant_by_pid("P1"), p.question_by_key("Q1")).text
    assert text == ("First line, with a comma\nsecond line\nthird line\nfourth: “quoted” and "
                    "‘single’ and it’s… fine... really")


def test_commas_and_line_breaks_inside_quoted_cells(tmp_path):
    raw = ('id,Role,"Why, in your words?"\n'
           'P1,Nurse,"Because, well,\nit depends"\n'
           'P2,"Nurse, senior","Another, answer with ""quotes"" and more words here"\n')
    path = write(tmp_path / "s.csv", raw)
    import_survey(tmp_path / "proj", path)
    with Project.open(tmp_path / "proj") as p:
        assert p.question_by_key("Q1").text == "Why, in your words?"
        got = responses_by(p)
        assert got[("P1", "Q1")] == "Because, well,\nit depends"
        assert got[("P2", "Q1")] == 'Another, answer with "quotes" and more words here'
        assert p.participant_by_pid("P2").attrs["Role"] == "Nurse, senior"


# -- encodings and separators ----------------------------------------------------------------


def test_utf8_bom_is_not_part_of_the_first_header(tmp_path):
    path = write(tmp_path / "s.csv", b"\xef\xbb\xbf" + csv_text(
        [["Participant ID", "Q"], ["P1", "Zoë said “no”… " + LONG_A]]).encode())
    plan, _ = import_survey(tmp_path / "proj", path, id_column="Participant ID")
    assert plan.warnings == []
    with Project.open(tmp_path / "proj") as p:
        assert p.participant_by_pid("P1") is not None
        assert responses_by(p)[("P1", "Q1")] == "Zoë said “no”… " + LONG_A


def test_windows_1252_file_imports_with_a_warning_and_right_characters(tmp_path, capsys):
    # \x93 \x94 curly double quotes, \x92 apostrophe, \xe9 é, \x85 ellipsis in Windows-1252.
    raw = (b"id,Role,What helps?\r\n"
           b"P1,Infirmi\xe8re,\x93Caf\xe9 and a chat\x94 \x85 that\x92s what helps most days\r\n"
           b"P2,Nurse,Nothing much really helps at all when it is like that\r\n")
    path = write(tmp_path / "s.csv", raw)
    code, out, err = cli(capsys, "import", path, "-p", tmp_path / "proj")
    assert code == 0
    assert "warning:" in err and "Windows-1252" in err and "s.csv" in err and "line 2" in err
    with Project.open(tmp_path / "proj") as p:
        assert responses_by(p)[("P1", "Q1")] == "“Café and a chat” … that’s what helps most days"
        assert p.participant_by_pid("P1").attrs["Role"] == "Infirmière"


def test_utf16_unicode_text_from_excel(tmp_path):
    # Excel's "Unicode Text": UTF-16 LE with a BOM, tab separated, CRLF.
    text = csv_text([["id", "Role", "What helps?"],
                     ["P1", "Nurse", "Zoë, mostly; time and “trust”, I think, and patience"],
                     ["P2", "Peer worker", "Line one\nline two of a longer answer here"]],
                    delimiter="\t")
    path = write(tmp_path / "export.txt", b"\xff\xfe" + text.encode("utf-16-le"))
    plan, _ = import_survey(tmp_path / "proj", path)
    assert plan.warnings == []
    with Project.open(tmp_path / "proj") as p:
        assert p.attributes == ["Role"]
        got = responses_by(p)
        assert got[("P1", "Q1")] == "Zoë, mostly; time and “trust”, I think, and patience"
        assert got[("P2", "Q1")] == "Line one\nline two of a longer answer here"


def test_semicolon_separated_csv(tmp_path):
    raw = ("id;Role;What helps?\r\n"
           "P1;Nurse;Time, patience, and a bit of luck with housing\r\n"
           'P2;Nurse;"Quoted; with a semicolon, and commas"\r\n')
    path = write(tmp_path / "s.csv", raw)
    import_survey(tmp_path / "proj", path)
    with Project.open(tmp_path / "proj") as p:
        assert p.attributes == ["Role"]
        got = responses_by(p)
        assert got[("P1", "Q1")] == "Time, patience, and a bit of luck with housing"
        assert got[("P2", "Q1")] == "Quoted; with a semicolon, and commas"


def test_tsv_file(tmp_path):
    raw = ("id\tRole\tWhat helps?\n"
           "P1\tNurse\tTime, patience, and a bit of luck; housing too\n"
           "P2\tNurse\tA second answer, also with commas in it\n")
    path = write(tmp_path / "s.tsv", raw)
    import_survey(tmp_path / "proj", path)
    with Project.open(tmp_path / "proj") as p:
        assert responses_by(p)[("P1", "Q1")] == "Time, patience, and a bit of luck; housing too"
        assert len(p.responses) == 2


def test_xlsx_export(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["Participant", "Role", "What helps?", "What gets in the way?"])
    ws.append([101, "Nurse", "Time.\nAnd “trust”…", LONG_A])
    ws.append([102, "Peer worker", LONG_B, None])
    path = tmp_path / "survey.xlsx"
    book.save(path)
    import_survey(tmp_path / "proj", path)
    with Project.open(tmp_path / "proj") as p:
        assert sorted(x.pid for x in p.participants.values()) == ["101", "102"]
        assert [q.key for q in p.questions_in_order()] == ["Q1", "Q2"]
        got = responses_by(p)
        assert got[("101", "Q1")] == "Time.\nAnd “trust”…"
        assert ("102", "Q2") not in got


def test_xlsx_duplicate_id_names_the_sheet_rows(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    ws = book.active
    for row in (["id", "Q"], ["P1", LONG_A], ["P2", LONG_B], ["P1", LONG_C]):
        ws.append(row)
    path = tmp_path / "survey.xlsx"
    book.save(path)
    with pytest.raises(ImportError_) as info:
        import_survey(tmp_path / "proj", path)
    assert "row 4" in str(info.value) and "row 2" in str(info.value)
    assert not (tmp_path / "proj").exists()


# -- bad input: clear error, non-zero exit, nothing written ----------------------------------


BAD_FILES = {
    "duplicate_id": (csv_text([["id", "Q"], ["P1", LONG_A], ["P2", LONG_B], ["P1", LONG_C]]),
                     ["line 4", "'P1'", "duplicate", "line 2"]),
    "duplicate_id_after_a_multi_line_answer": (
        csv_text([["id", "Q"], ["P1", "first\nsecond\nthird line"], ["P1", LONG_C]]),
        ["line 5", "'P1'", "duplicate", "line 2"]),
    "empty_id": (csv_text([["id", "Q"], ["P1", LONG_A], ["  ", LONG_B]]),
                 ["line 3", "participant ID", "empty"]),
    "empty_file": (b"", ["is empty"]),
    "header_only": (csv_text([["id", "Q"]]), ["header but no participants"]),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", ["binary"]),
    "nul_bytes": (b"id,Q\nP1,some\x00thing\n", ["NUL"]),
    "row_too_wide": (csv_text([["id", "Q"], ["P1", LONG_A], ["P2", "an answer", "stray cell"]]),
                     ["line 3", "3 cells", "header has 2"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_into_new_project_is_refused_and_creates_nothing(case, tmp_path, capsys):
    content, phrases = BAD_FILES[case]
    path = write(tmp_path / f"{case}.csv", content)
    project = tmp_path / "proj"
    code, out, err = cli(capsys, "import", path, "--project", project)
    assert code == 1
    assert str(path) in err
    for phrase in phrases:
        assert phrase in err
    assert "Nothing was written" in err
    assert not project.exists()
    with pytest.raises(ImportError_):
        import_survey(project, path)
    assert not project.exists()


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_into_existing_project_leaves_it_byte_identical(case, base_survey, tmp_path, capsys):
    project = tmp_path / "proj"
    import_survey(project, base_survey)
    before = snapshot(project)
    content, phrases = BAD_FILES[case]
    path = write(tmp_path / f"{case}.csv", content)
    code, _, err = cli(capsys, "import", path, "-p", project)
    assert code == 1
    assert phrases[0] in err
    assert snapshot(project) == before


def test_a_quoted_cell_that_is_never_closed_is_an_error_not_lost_rows(tmp_path, capsys):
    # The stray quote would otherwise swallow P3 and P4 into P2's answer, silently.
    raw = ('id,What helps?\r\n'
           'P1,Time and patience from people who care about it\r\n'
           'P2,"He said it helps and then left\r\n'
           'P3,A fine answer that should be its own response\r\n'
           'P4,Another participant entirely with their own words\r\n')
    path = write(tmp_path / "s.csv", raw)
    code, _, err = cli(capsys, "import", path, "-p", tmp_path / "proj")
    assert code == 1
    assert f"{path}: line 3" in err
    assert "quote" in err
    assert not (tmp_path / "proj").exists()


def test_a_header_literally_named_like_a_repeat_does_not_merge_columns(tmp_path):
    # Two "Comment" columns and one called "Comment #2": three questions, three answers each.
    path = write_rows(tmp_path / "s.csv", [
        ["id", "Comment", "Comment", "Comment #2"],
        ["P1", LONG_A, LONG_B, LONG_C],
    ])
    import_survey(tmp_path / "proj", path)
    with Project.open(tmp_path / "proj") as p:
        assert [(q.key, q.text) for q in p.questions_in_order()] == [
            ("Q1", "Comment"), ("Q2", "Comment"), ("Q3", "Comment #2")]
        assert responses_by(p) == {("P1", "Q1"): LONG_A, ("P1", "Q2"): LONG_B, ("P1", "Q3"): LONG_C}


def test_a_re_export_with_other_line_endings_and_separator_changes_nothing(tmp_path, capsys):
    rows = [["id", "Role", "What helps?"],
            ["P1", "Nurse", "First line\nsecond line of the answer"],
            ["P2", "Nurse", "Time, patience, and a bit of luck"]]
    project = tmp_path / "proj"
    assert cli(capsys, "import", write_rows(tmp_path / "a.csv", rows, eol="\r\n"), "-p", project)[0] == 0
    before = snapshot(project)
    crlf_inside = [[c.replace("\n", "\r\n") for c in r] for r in rows]
    again = write_rows(tmp_path / "b.tsv", crlf_inside, delimiter="\t", eol="\n")
    code, out, _ = cli(capsys, "import", again, "-p", project)
    assert code == 0
    assert "nothing new" in out
    assert snapshot(project) == before


def test_trailing_empty_cells_beyond_the_header_are_fine(tmp_path):
    # Spreadsheets often save a trailing separator or two after the last filled cell.
    path = write(tmp_path / "s.csv", "id,Q\r\nP1,Time and trust,,\r\nP2,x,\r\n")
    plan, _ = import_survey(tmp_path / "proj", path, questions=["Q"])
    with Project.open(tmp_path / "proj") as p:
        assert responses_by(p) == {("P1", "Q1"): "Time and trust", ("P2", "Q1"): "x"}


def test_dry_run_writes_nothing(base_survey, tmp_path, capsys):
    project = tmp_path / "proj"
    code, out, _ = cli(capsys, "import", base_survey, "-p", project, "--dry-run")
    assert code == 0
    assert "Would import" in out and "3 in the file (3 new)" in out
    assert not project.exists()


# -- importing again -------------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing(base_survey, tmp_path, capsys):
    project = tmp_path / "proj"
    assert cli(capsys, "import", base_survey, "-p", project)[0] == 0
    before = snapshot(project)
    code, out, _ = cli(capsys, "import", base_survey, "-p", project)
    assert code == 0
    assert "0 new" in out and "nothing new" in out
    assert snapshot(project) == before


def _coding_rows(project: Path) -> set[tuple]:
    with Project.open(project) as p:
        return {(p.participants[p.responses[c.response_id].participant_id].pid,
                 p.questions[p.responses[c.response_id].question_id].key,
                 p.code_name(c.code_id), c.coder, c.start, c.end)
                for c in p.all_codings()}


def test_later_export_adds_participants_and_questions_and_keeps_codings(tmp_path, capsys):
    first = write_rows(tmp_path / "v1.csv", BASE_ROWS)
    project = tmp_path / "proj"
    assert cli(capsys, "import", first, "-p", project)[0] == 0
    codings = write(tmp_path / "codings.csv", csv_text([
        ["participant", "question", "code", "coder", "start", "end", "text"],
        ["P1", "Q1", "being heard", "ann", "", "", "Being listened to properly"],
        ["P3", "Q2", "being heard", "ann", "", "", ""],
    ]))
    assert cli(capsys, "import-codings", codings, "-p", project)[0] == 0
    codings_before = _coding_rows(project)
    assert len(codings_before) == 2
    from .machines import own

    data_before = (own(project) / "data.json").read_bytes()

    # A later export: a new question column in the middle, two new participants, P2 filled in Q2.
    later = write_rows(tmp_path / "v2.csv", [
        ["Participant ID", "Role", "Setting", "What helps recovery?", "Anything about housing?",
         "What gets in the way?"],
        ["P1", "Nurse", "Community", LONG_A, LONG_C, LONG_B],
        ["P2", "Support worker", "Inpatient", LONG_B, "", LONG_C],
        ["P3", "", "Community", LONG_C, "", LONG_A],
        ["P4", "Nurse", "Inpatient", LONG_A, LONG_B, ""],
        ["P5", "Team leader", "Community", "", "", LONG_B],
    ])
    code, out, _ = cli(capsys, "import", later, "-p", project)
    assert code == 0
    assert "5 in the file (2 new)" in out
    with Project.open(project) as p:
        assert [(q.key, q.text) for q in p.questions_in_order()] == [
            ("Q1", "What helps recovery?"), ("Q2", "What gets in the way?"),
            ("Q3", "Anything about housing?")]
        assert sorted(x.pid for x in p.participants.values()) == ["P1", "P2", "P3", "P4", "P5"]
        got = responses_by(p)
        assert got[("P1", "Q3")] == LONG_C
        assert got[("P2", "Q2")] == LONG_C
        assert got[("P5", "Q2")] == LONG_B
        assert len(got) == 5 + 5  # P1 Q3, P2 Q2, P4 Q1+Q3, P5 Q2
    assert _coding_rows(project) == codings_before
    assert (own(project) / "data.json").read_bytes() == data_before


def test_a_classification_chosen_once_is_kept_on_the_next_import(base_survey, tmp_path, capsys):
    project = tmp_path / "proj"
    assert cli(capsys, "import", base_survey, "-p", project, "--question", "Setting")[0] == 0
    rows = [list(r) for r in BASE_ROWS] + [["P4", "Nurse", "Inpatient", LONG_A, LONG_B]]
    code, out, _ = cli(capsys, "import", write_rows(tmp_path / "v2.csv", rows), "-p", project)
    assert code == 0
    assert "as in the earlier import" in out
    with Project.open(project) as p:
        assert [(q.key, q.text) for q in p.questions_in_order()] == [
            ("Q1", "Setting"), ("Q2", "What helps recovery?"), ("Q3", "What gets in the way?")]
        assert p.attributes == ["Role"]
        assert responses_by(p)[("P4", "Q1")] == "Inpatient"


def test_changed_answer_in_a_later_export_keeps_the_coded_text_and_warns(base_survey, tmp_path, capsys):
    project = tmp_path / "proj"
    import_survey(project, base_survey)
    rows = [list(r) for r in BASE_ROWS]
    rows[1][3] = "A corrected answer that is different from the first one"
    later = write_rows(tmp_path / "v2.csv", rows)
    code, _, err = cli(capsys, "import", later, "-p", project)
    assert code == 0
    assert "differ" in err and "P1 Q1" in err
    with Project.open(project) as p:
        assert responses_by(p)[("P1", "Q1")] == LONG_A


# -- the printed summary ---------------------------------------------------------------------


def test_summary_lists_what_was_found_and_how_to_override(base_survey, tmp_path, capsys):
    code, out, _ = cli(capsys, "import", base_survey, "--project", tmp_path / "proj")
    assert code == 0
    assert "participants: 3 in the file (3 new)" in out
    assert "ID column 'Participant ID'" in out
    assert "attributes (2): Role, Setting" in out
    assert "questions (2):" in out
    assert "Q1  What helps recovery?" in out
    assert "Q2  What gets in the way?" in out
    assert "responses: 5 new" in out
    assert "--attribute NAME" in out and "--question NAME" in out


# -- the bundled sample ----------------------------------------------------------------------


def test_bundled_sample_survey_imports(tmp_path, capsys):
    code, out, _ = cli(capsys, "import", SAMPLE / "survey.csv", "-p", tmp_path / "proj")
    assert code == 0
    with Project.open(tmp_path / "proj") as p:
        assert len(p.participants) == 30
        assert [q.key for q in p.questions_in_order()] == [f"Q{i}" for i in range(1, 10)]
        assert len(p.responses) == 260
        assert p.attributes == ["Role", "Setting", "Length of experience"]
        assert p.question_by_key("Q1").text == \
            "Thinking about Jo, what does recovery mean in a situation like this?"
        assert p.question_by_key("Q5").text == p.question_by_key("Q7").text == \
            "What might make that difficult for you?"
        assert all("\r" not in r.text for r in p.responses.values())
    assert "participants: 30 in the file (30 new)" in out


def test_ctrl_c_while_reading_a_survey_leaves_no_project_and_no_change(tmp_path):
    def interrupt_halfway(done, total):
        raise KeyboardInterrupt  # what Ctrl+C does on the command line, while rows are read

    new = tmp_path / "new-study"
    with pytest.raises(KeyboardInterrupt):
        import_survey(new, SAMPLE / "survey.csv", progress=interrupt_halfway)
    assert not new.exists()  # no half-made project folder

    existing = tmp_path / "study"
    import_survey(existing, SAMPLE / "survey.csv")
    more = write(tmp_path / "more.csv", (SAMPLE / "survey.csv").read_text(encoding="utf-8")
                 .replace("P1,", "P1b,", 1))
    before = snapshot(existing)
    with pytest.raises(KeyboardInterrupt):
        import_survey(existing, more, progress=interrupt_halfway)
    assert snapshot(existing) == before


# -- issue 13, item 12: large, mixed and long -----------------------------------------------------


def _xlsx_with_sheet_of(path: Path, megabytes: int) -> Path:
    """A real workbook whose sheet XML is ``megabytes`` MB of repeated rows: a few hundred KB on
    disk (what a zip bomb, or a runaway export, looks like)."""
    import zipfile

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["id", "What helps?"])
    small = path.with_suffix(".small.xlsx")
    book.save(small)
    row = '<row><c t="inlineStr"><is><t>P</t></is></c><c t="inlineStr"><is><t>' + "x" * 200 + \
        "</t></is></c></row>"
    with zipfile.ZipFile(small) as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info, src.read(info))
                continue
            with dst.open(info.filename, "w", force_zip64=True) as out:
                out.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.'
                          b'org/spreadsheetml/2006/main"><sheetData>')
                chunk = (row * 4000).encode()
                for _ in range(megabytes * 1024 * 1024 // len(chunk) + 1):
                    out.write(chunk)
                out.write(b"</sheetData></worksheet>")
    return path


def test_an_xlsx_that_unpacks_to_300_mb_is_refused_before_it_is_read(tmp_path, capsys, monkeypatch):
    """It was read for 117 s and 950 MB before failing: the archive's directory says enough."""
    import openpyxl

    path = _xlsx_with_sheet_of(tmp_path / "runaway.xlsx", 300)
    assert path.stat().st_size < 5 * 1024 * 1024

    def never(*args, **kwargs):
        raise AssertionError("the workbook was opened before its size was checked")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    code, _, err = cli(capsys, "import", path, "-p", tmp_path / "proj")
    assert code == 1
    assert "runaway.xlsx" in err and "zip bomb" in err and "MB" in err
    assert not (tmp_path / "proj").exists()


def test_zip_limits_size_count_ratio_and_paths():
    import zipfile

    from tuiqa.importers.ziplimits import zip_problem

    def info(name, size, packed):
        i = zipfile.ZipInfo(name)
        i.file_size, i.compress_size = size, packed
        return i

    ok = [info("xl/worksheets/sheet1.xml", 150_000_000, 15_000_000)]  # ratio 10: a real sheet
    assert zip_problem(ok, max_total=200_000_000, max_members=10, what="x") is None
    big = [info("a.xml", 150_000_000, 15_000_000), info("b.xml", 60_000_000, 6_000_000)]
    assert "210 MB, over the 200 MB limit" in zip_problem(big, max_total=200_000_000, max_members=10, what="x")
    bomb = [info("a.xml", 300_000_000, 1_000_000)]
    assert "zip bomb" in zip_problem(bomb, max_total=10**12, max_members=10, what="x")
    many = [info(f"m{i}", 1, 1) for i in range(11)]
    assert "11 files" in zip_problem(many, max_total=10**12, max_members=10, what="x")
    slip = [info("../evil", 1, 1)]
    assert "zip slip" in zip_problem(slip, max_total=10**12, max_members=10, what="x")


def test_a_csv_mixing_utf8_and_windows_1252_reads_each_line_right_and_says_which(tmp_path, capsys):
    """Rows pasted together from two exports: decoding the whole file as Windows-1252 turned
    the UTF-8 rows into mojibake (cafÃ©) without a word."""
    raw = (csv_text([["id", "Role", "What helps?"],
                     ["P1", "Infirmière", "Un café and a chat with someone who listens, most days"]])
           .encode("utf-8")
           + csv_text([["P2", "Infirmière", "Un café and a “chat” with someone who listens, most days"]])
           .encode("cp1252")
           + csv_text([["P3", "Nurse", "Plain words with nothing special in them at all, really"],
                       ["P4", "Zoë", "Time … and patience, from people who care about it"]])
           .encode("utf-8"))
    path = write(tmp_path / "mixed.csv", raw)
    code, out, err = cli(capsys, "import", path, "-p", tmp_path / "proj")
    assert code == 0, err
    flat = " ".join(err.split())
    assert "mixed.csv" in flat and "Windows-1252" in flat and "UTF-8" in flat
    assert "line 3" in flat and "lines 2, 5" in flat
    with Project.open(tmp_path / "proj") as p:
        got = responses_by(p)
        assert got[("P1", "Q1")] == "Un café and a chat with someone who listens, most days"
        assert got[("P2", "Q1")] == "Un café and a “chat” with someone who listens, most days"
        assert got[("P4", "Q1")] == "Time … and patience, from people who care about it"
        assert "Ã" not in "".join(got.values())
        assert p.participant_by_pid("P4").attrs["Role"] == "Zoë"


def test_an_answer_over_131072_characters_is_imported_with_a_warning(tmp_path, capsys):
    """Python's csv module stops at 131,072 characters a field ("field larger than field
    limit"); a long answer is still an answer."""
    long_answer = ("A very long answer indeed, pasted from a document. " * 4000).strip()
    assert len(long_answer) > 131_072
    path = write_rows(tmp_path / "long.csv", [["id", "What helps?"], ["P1", LONG_A], ["P2", long_answer],
                                              ["P3", LONG_B]])
    code, out, err = cli(capsys, "import", path, "-p", tmp_path / "proj")
    assert code == 0, err
    assert "field limit" not in err
    flat = " ".join(err.split())
    assert "long.csv, line 3" in flat and "What helps?" in flat and f"{len(long_answer):,}" in flat
    with Project.open(tmp_path / "proj") as p:
        assert responses_by(p)[("P2", "Q1")] == long_answer
        assert len(p.participants) == 3


# -- issue 13, item 13: IDs that look alike -------------------------------------------------------


def test_participant_ids_with_invisible_or_bidi_characters_are_warned_about(tmp_path, capsys):
    path = write_rows(tmp_path / "ids.csv", [
        ["id", "What helps?"],
        ["P1", LONG_A],
        ["P1\u200b", LONG_B],  # a zero-width space: looks like P1
        ["\u202eP2", LONG_C],  # a right-to-left override
        ["P3", LONG_A],
    ])
    code, out, err = cli(capsys, "import", path, "-p", tmp_path / "proj")
    assert code == 0, err
    flat = " ".join(err.split())
    assert "line 3" in flat and "U+200B" in flat and "looks the same as 'P1'" in flat and "line 2" in flat
    assert "line 4" in flat and "U+202E" in flat
    assert "line 5" not in flat and "\u202e" not in err and "\u200b" not in err
