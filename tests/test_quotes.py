"""Quotes in the journal's style: template filters, optional sections, the project's template and
its per-command override, quotation marks inside extracts."""

from __future__ import annotations

import json

import pytest

from tuiqa import quotes
from tuiqa.importers.survey import import_survey
from tuiqa.project import Project
from tuiqa.session import Session

from .helpers import cli

PAPER = ("({participant}[: {Role|map:Senior support worker=Senior ;Support worker=}{Setting|lower} SW]"
         "[, {Experience}' experience])")
ATTRS = ["Role", "Setting", "Experience"]


@pytest.mark.parametrize("pid, attrs, expected", [
    ("P21", {"Role": "Senior support worker", "Setting": "Community", "Experience": "3.5 years"},
     "(P21: Senior community SW, 3.5 years' experience)"),
    ("P2", {}, "(P2)"),
    ("P2", {"Role": "", "Setting": "", "Experience": ""}, "(P2)"),
    # a map to "" is not a blank in the data: the section stays
    ("P3", {"Role": "Support worker", "Setting": "Inpatient", "Experience": "18 months"},
     "(P3: inpatient SW, 18 months' experience)"),
    # values not listed pass unchanged
    ("P4", {"Role": "Team leader", "Setting": "Community", "Experience": "2 years"},
     "(P4: Team leadercommunity SW, 2 years' experience)"),
    # a blank attribute drops its section; the next section shown opens as the first would have
    ("P5", {"Role": "Support worker", "Setting": "", "Experience": "3 months"},
     "(P5: 3 months' experience)"),
    ("P6", {"Role": "Senior support worker", "Setting": "Community", "Experience": ""},
     "(P6: Senior community SW)"),
])
def test_the_papers_attribution_style(pid, attrs, expected):
    assert quotes.attribution(PAPER, ATTRS, pid, attrs) == expected


def test_filters_chain_match_ignoring_case_and_are_checked():
    attrs = {"Role": "senior SUPPORT worker", "Setting": "Community"}
    assert quotes.attribution("{Role|map:Senior support worker=SSW|lower}", ATTRS, "P1", attrs) == "ssw"
    assert quotes.attribution("{role|upper}, {SETTING|map:community=C}", ATTRS, "P1", attrs) == \
        "SENIOR SUPPORT WORKER, C"
    # escapes for the separators themselves
    assert quotes.attribution(r"{Setting|map:Community=a\;b\=c}", ATTRS, "P1", attrs) == "a;b=c"
    for bad, words in (("{Role|map:}", "map:FROM=TO"), ("{Role|map:Nurse}", "map:FROM=TO"),
                       ("{Role|shout}", "unknown filter |shout"), ("{Role|lower:x}", "takes nothing")):
        with pytest.raises(quotes.TemplateError, match=words):
            quotes.parse(bad, ATTRS)


def test_default_template_with_the_first_attribute_blank():
    template = quotes.default_template(["Role", "Setting", "Length of experience"])
    attrs = {"Role": "", "Setting": "Community", "Length of experience": "2 years"}
    assert quotes.attribution(template, ["Role", "Setting", "Length of experience"], "P1", attrs) == \
        "(P1: Community, 2 years)"
    attrs = {"Role": "Nurse", "Setting": "", "Length of experience": "2 years"}
    assert quotes.attribution(template, ["Role", "Setting", "Length of experience"], "P1", attrs) == \
        "(P1: Nurse, 2 years)"


@pytest.mark.parametrize("extract, expected", [
    ("\u201cI've been where you are\u201d is worth more than any leaflet.",
     "\u201c\u2018I've been where you are\u2019 is worth more than any leaflet.\u201d (P1)"),
    ('She said "no" twice', "\u201cShe said 'no' twice\u201d (P1)"),
    ("plain words", '"plain words" (P1)'),
])
def test_inner_double_marks_become_single(extract, expected):
    assert quotes.quote(extract, "(P1)") == expected


@pytest.fixture
def paper_project(tmp_path):
    survey = tmp_path / "paper.csv"
    survey.write_text("id,Role,Setting,Experience,What would you do?\n"
                      "P21,Senior support worker,Community,3.5 years,\"Listen to them first, and then act on what they say.\"\n"
                      "P2,,,,I would call the rest of the team straight away.\n", encoding="utf-8")
    directory = tmp_path / "paper"
    import_survey(directory, survey)
    with Project.open(directory) as p:
        s = Session(p, "lead")
        for r in p.responses.values():
            s.create_and_apply(r.id, 0, len(r.text), "acting", "semantic")
    return directory


def test_template_setting_and_per_command_override(paper_project, tmp_path, capsys):
    assert cli(capsys, "settings", paper_project, "quote-template", PAPER)[0] == 0
    code, out, err = cli(capsys, "extracts", paper_project, "acting", "--format", "json")
    assert code == 0, err
    assert [row["attribution"] for row in json.loads(out)["extracts"]] == \
        ["(P21: Senior community SW, 3.5 years' experience)", "(P2)"]
    out_md = tmp_path / "w.md"
    assert cli(capsys, "export", paper_project, "--format", "markdown", "-o", out_md)[0] == 0
    text = out_md.read_text(encoding="utf-8")
    assert "\"Listen to them first, and then act on what they say.\" (P21: Senior community SW, 3.5 years' experience)" in text
    assert '"I would call the rest of the team straight away." (P2)' in text
    # the override, for one command only
    code, out, _ = cli(capsys, "extracts", paper_project, "acting", "--quote-template", "[{Setting}: ]{participant}")
    assert code == 0 and '" Community: P21  [' in out and '" P2  [' in out
    assert cli(capsys, "export", paper_project, "--format", "markdown", "-o", out_md,
               "--quote-template", "({participant})")[0] == 0
    assert "\"Listen to them first, and then act on what they say.\" (P21)" in out_md.read_text(encoding="utf-8")
    code, _, err = cli(capsys, "export", paper_project, "--format", "markdown", "-o", tmp_path / "x.md",
                       "--quote-template", "({Shoe size})")
    assert code == 1 and "unknown field {Shoe size}" in err and not (tmp_path / "x.md").exists()
    code, _, err = cli(capsys, "extracts", paper_project, "acting", "--quote-template", "({participant")
    assert code == 1 and "never closed" in err
    assert cli(capsys, "settings", paper_project, "quote-template")[1] == PAPER + "\n"  # unchanged
