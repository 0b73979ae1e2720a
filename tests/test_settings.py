"""Project settings (`tuiqa settings`): list, get, set, checked, journaled."""

from __future__ import annotations

import json

from tuiqa import settings
from tuiqa.project import Project
from tuiqa.session import Session

from .helpers import cli


def test_list_get_and_set_every_setting(sample_project, capsys):
    code, out, err = cli(capsys, "settings", sample_project, "--format", "json")
    assert code == 0, err
    listed = {s["name"]: s for s in json.loads(out)}
    assert list(listed) == ["primary-layer", "quote-template", "title", "authors", "date"]
    assert listed["primary-layer"]["value"] == "lead" and not listed["primary-layer"]["set"]
    assert listed["title"]["value"] == "sample"  # the project's name, as given
    assert listed["authors"]["value"] == ""
    assert listed["quote-template"]["value"] == \
        "({participant}[: {Role}][, {Setting}][, {Length of experience}])"

    code, out, _ = cli(capsys, "settings", sample_project)
    assert code == 0 and "primary-layer" in out and "lead" in out and "(default)" in out

    assert cli(capsys, "settings", sample_project, "title", "Hope at work: staff views")[0] == 0
    assert cli(capsys, "settings", sample_project, "authors", "A. Smith, B. Jones")[0] == 0
    assert cli(capsys, "settings", sample_project, "date", "November 2026")[0] == 0
    assert cli(capsys, "settings", sample_project, "quote-template", "({participant})")[0] == 0
    code, out, _ = cli(capsys, "settings", sample_project, "title")
    assert (code, out) == (0, "Hope at work: staff views\n")
    with Project.open(sample_project) as p:  # kept in the project, as journaled changes
        assert settings.value(p, "authors") == "A. Smith, B. Jones"
        assert settings.value(p, "date") == "November 2026"
        assert Session(p, "x").quote_template == "({participant})"
    # an empty value removes the setting: the default applies again
    assert cli(capsys, "settings", sample_project, "title", "")[0] == 0
    assert cli(capsys, "settings", "-p", sample_project, "title")[1] == "sample\n"


def test_values_are_checked(sample_project, capsys):
    with Project.open(sample_project) as p:
        Session(p, "kit").create_and_apply(sorted(p.responses)[0], 0, 4, "hope", "semantic")
    code, _, err = cli(capsys, "settings", sample_project, "primary-layer", "zed")
    assert code == 1 and "zed" in err and "kit, lead" in err
    code, _, err = cli(capsys, "settings", sample_project, "quote-template", "({participant}[: {Shoe size}])")
    assert code == 1 and "unknown field {Shoe size}" in err
    code, _, err = cli(capsys, "settings", sample_project, "quote-template", "({participant}[: {Role}")
    assert code == 1 and "never closed" in err
    code, _, err = cli(capsys, "settings", sample_project, "colour", "red")
    assert code == 1 and "no setting 'colour'" in err and "primary-layer" in err
    assert cli(capsys, "settings", sample_project, "primary-layer", "kit")[0] == 0
    assert cli(capsys, "settings", sample_project, "primary-layer", "consensus+lead")[0] == 0
    assert cli(capsys, "settings", sample_project, "primary-layer")[1] == "consensus+lead\n"
    code, _, err = cli(capsys, "settings", sample_project, "primary-layer", "kit+lead")
    assert code == 1 and "consensus+CODER" in err
