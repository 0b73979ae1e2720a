"""The command line around a project (issue 2, points 2-4): `tuiqa stats`, project arguments, exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


from .helpers import cli, snapshot

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"

SAME = "What might make that difficult for you?"


# -- helpers -----------------------------------------------------------------------------------


def csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def write(path: Path, rows: list[list[str]]) -> Path:
    path.write_bytes(csv_text(rows).encode("utf-8"))
    return path


def stats_json(capsys, *args) -> dict:
    code, out, err = cli(capsys, "stats", *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def project(tmp_path, capsys) -> Path:
    """Three participants, three questions (two share their text), codings by two coders."""
    survey = write(tmp_path / "survey.csv", [
        ["id", "Setting", "What helps recovery, in your own words?", SAME, "Scenario 2: what next?"],
        ["P1", "Community", "Being listened to by someone who has been there.",
         "Only two of us on shift, so there is never time.", "Talk to her first, then the team."],
        ["P2", "Inpatient", "Time, patience, and somewhere safe to live.", "",
         "Follow the policy and tell the prescriber the same day."],
        ["P3", "", "Hope, mostly, and people who do not give up on you.", "Losing her trust after months.", ""],
    ])
    directory = tmp_path / "proj"
    assert cli(capsys, "import", survey, "--project", directory)[0] == 0
    codings = write(tmp_path / "codings.csv", [
        ["participant", "question", "code", "coder", "start", "end", "text"],
        ["P1", "Q1", "being heard", "ann", "", "", "Being listened to"],
        ["P3", "Q1", "hope", "ann", "", "", "Hope"],
        ["P2", "Q3", "following rules", "bea", "", "", "Follow the policy"],
    ])
    assert cli(capsys, "import-codings", codings, "-p", directory, "--done", "coded")[0] == 0
    return directory


# -- stats ---------------------------------------------------------------------------------------


def test_stats_json_counts_everything(project, capsys):
    stats = stats_json(capsys, project)
    assert stats["participants"] == 3
    assert stats["questions"] == 3
    assert stats["responses"] == 7
    assert stats["codes"] == 3
    assert stats["codings"] == 3
    assert stats["coders"] == ["ann", "bea"]


def test_stats_with_project_option_prints_the_same(project, capsys):
    assert stats_json(capsys, "-p", project) == stats_json(capsys, project)
    assert stats_json(capsys, "--project", project) == stats_json(capsys, project)


def test_stats_with_the_same_folder_twice_is_fine(project, capsys):
    assert stats_json(capsys, project, "-p", str(project) + os.sep)["participants"] == 3


def test_stats_of_a_fresh_import_has_no_coders(tmp_path, capsys):
    survey = write(tmp_path / "s.csv", [["id", "Q"], ["P1", "An answer that is long enough to count."]])
    assert cli(capsys, "import", survey, "-p", tmp_path / "proj")[0] == 0
    stats = stats_json(capsys, tmp_path / "proj")
    assert (stats["participants"], stats["questions"], stats["responses"]) == (1, 1, 1)
    assert (stats["codes"], stats["codings"], stats["coders"]) == (0, 0, [])


def test_stats_table_lists_counts_and_question_keys_with_text(project, capsys):
    code, out, _ = cli(capsys, "stats", project)
    assert code == 0
    lines = out.splitlines()
    assert any(line.split() == ["participants", "3"] for line in lines)
    assert any(line.split() == ["responses", "7"] for line in lines)
    assert any(line.split() == ["codings", "3"] for line in lines)
    assert "ann, bea" in out
    assert "Q1  What helps recovery, in your own words?" in out
    assert f"Q2  {SAME}" in out
    assert "Q3  Scenario 2: what next?" in out
    assert out.index("Q1") < out.index("Q2") < out.index("Q3")


def test_stats_changes_nothing_on_disk(project, capsys):
    before = snapshot(project)
    assert cli(capsys, "stats", project)[0] == 0
    assert cli(capsys, "stats", project, "--format", "json")[0] == 0
    assert snapshot(project) == before


def test_stats_positional_and_option_naming_different_folders_is_a_usage_error(project, tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    code, out, err = cli(capsys, "stats", project, "-p", other)
    assert code == 2
    assert "two different projects" in err
    assert out == ""


def test_stats_without_a_project_is_a_usage_error(capsys):
    code, _, err = cli(capsys, "stats")
    assert code == 2
    assert "which project?" in err


def test_stats_of_a_folder_that_is_not_a_project(tmp_path, capsys):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "readme.txt").write_text("hello")
    code, out, err = cli(capsys, "stats", folder, "--format", "json")
    assert code == 1
    assert out == ""
    assert f"{folder} is not a tuiqa project" in err
    assert "tuiqa import" in err  # says how to make one


def test_stats_of_a_missing_folder(tmp_path, capsys):
    code, _, err = cli(capsys, "stats", tmp_path / "nowhere")
    assert code == 1
    assert "does not exist" in err
    assert not (tmp_path / "nowhere").exists()


def test_stats_of_the_bundled_sample_with_its_codings(tmp_path, capsys):
    directory = tmp_path / "sample"
    assert cli(capsys, "import", SAMPLE / "survey.csv", "-p", directory)[0] == 0
    assert cli(capsys, "import-codings", SAMPLE / "codings_lead.csv", "-p", directory)[0] == 0
    stats = stats_json(capsys, directory)
    assert {k: stats[k] for k in ("participants", "questions", "responses", "codes", "codings", "coders")} == {
        "participants": 30, "questions": 9, "responses": 260, "codes": 13, "codings": 59,
        "coders": ["lead"]}


def test_python_dash_m_tuiqa_runs_stats(project):
    proc = subprocess.run([sys.executable, "-m", "tuiqa", "stats", str(project), "--format", "json"],
                          capture_output=True, text=True, timeout=60, cwd=project.parent)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["codings"] == 3


# -- project arguments of the other commands -----------------------------------------------------


def test_import_without_a_project_is_a_usage_error(tmp_path, capsys):
    survey = write(tmp_path / "s.csv", [["id", "Q"], ["P1", "An answer."]])
    code, _, err = cli(capsys, "import", survey)
    assert code == 2
    assert "--project" in err


def test_import_of_a_missing_file_names_it(tmp_path, capsys):
    code, _, err = cli(capsys, "import", tmp_path / "missing.csv", "-p", tmp_path / "proj")
    assert code == 1
    assert "missing.csv" in err and "no such file" in err
    assert not (tmp_path / "proj").exists()


def test_import_into_a_non_empty_folder_that_is_not_a_project(tmp_path, capsys):
    survey = write(tmp_path / "s.csv", [["id", "Q"], ["P1", "An answer long enough to be a question."]])
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "thesis.docx").write_bytes(b"draft")
    code, _, err = cli(capsys, "import", survey, "-p", folder)
    assert code == 1
    assert "not empty" in err
    assert sorted(p.name for p in folder.iterdir()) == ["thesis.docx"]


def test_import_into_a_path_that_is_a_file_is_a_clear_error(tmp_path, capsys):
    survey = write(tmp_path / "s.csv", [["id", "Q"], ["P1", "An answer long enough to be a question."]])
    target = tmp_path / "study.txt"
    target.write_bytes(b"my notes")
    code, _, err = cli(capsys, "import", survey, "-p", target)
    assert code == 1
    assert "tuiqa: error:" in err and "study.txt" in err
    assert target.read_bytes() == b"my notes"


def test_no_command_prints_help_and_exits_2(capsys):
    code, out, _ = cli(capsys)
    assert code == 2
    assert "import-codings" in out and "stats" in out


def test_import_codings_bad_coder_name_is_an_error(project, tmp_path, capsys):
    codings = write(tmp_path / "c.csv", [["participant", "question", "code"], ["P1", "Q1", "x"]])
    code, _, err = cli(capsys, "import-codings", codings, "-p", project, "--coder", "consensus")
    assert code == 1
    assert "reserved" in err


# -- tuiqa demo ----------------------------------------------------------------------------------


def test_demo_makes_a_project_with_two_coders_and_draft_themes_in_the_data_folder(capsys, tmp_path):
    from tuiqa.project import Project

    code, out, _ = cli(capsys, "demo", "--no-open")
    assert code == 0 and "Created the demo project" in out
    folder = tmp_path / "xdg-data" / "tuiqa" / "demo"  # conftest points XDG_DATA_HOME here
    assert str(folder) in out
    assert (folder.stat().st_mode & 0o077) == 0
    code, out, _ = cli(capsys, "demo", "--no-open")  # a second run reopens, keeps the work
    assert code == 0 and out.startswith("Opening")

    code, out, err = cli(capsys, "agreement", folder, "--coders", "lead", "kit", "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert result["units_compared"] == 30  # every Q1 answer, finished by both coders
    assert 0.5 < result["overall"]["cohen_kappa"] < 0.7  # they agree, not perfectly
    with Project.open(folder, readonly=True) as project:
        names = {t.name for t in project.state.table("theme").values() if not t.deleted}
        assert "Recovery on Jo's terms" in names and "Stretched staff" in names
        assert {c.coder for c in project.all_codings()} == {"lead", "kit"}

    code, out, _ = cli(capsys, "demo", "--no-open", "--reset")
    assert code == 0 and out.startswith("Created")
