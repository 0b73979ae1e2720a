"""Hostile text on the command line (issue 13, item 7): nothing user-supplied reaches the terminal
as an escape sequence, on any command, on stdout or stderr. Control characters are shown as the
app shows them (␛, ␇ …); `--format json` stays exact JSON (the characters escaped, not changed).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys

import pytest

from tuiqa.cli import build_parser
from tuiqa.importers.survey import import_survey
from tuiqa.project import Project
from tuiqa.session import Session
from tuiqa.text import normalise

from .helpers import cli

TITLE = "\x1b]0;PWNED\x07"  # sets the terminal's title
CLIP = "\x1b]52;c;cHduZWQ=\x07"  # writes the clipboard (OSC 52)
CLEAR = "\x1b[2J\x1b[31m"  # clears the screen, turns red
C1 = "\x9b31m\x9d0;X\x9c"  # the same with 8-bit controls (CSI, OSC, ST)
HOSTILE = TITLE + CLIP + CLEAR + C1 + "\x7f\rspoof\x08"
BAD_CODER = "bea" + CLEAR


def unsafe(text: str) -> list[str]:
    """Characters a terminal would act on: C0 controls but newline and tab, DEL, C1."""
    return sorted({repr(ch) for ch in text
                   if (ord(ch) < 0x20 and ch not in "\n\t") or 0x7F <= ord(ch) < 0xA0})


def write_csv(path, rows):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_ALL).writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return path


@pytest.fixture
def hostile(tmp_path):
    """A project whose every user-supplied text is hostile: column headers, participant IDs,
    attribute values, answers, a coder's name, a code's description and memo, a theme."""
    survey = write_csv(tmp_path / f"survey{TITLE}.csv", [
        ["id", f"Role{TITLE}", f"What helps?{CLIP} Tell us about it in your own words"],
        [f"P{CLEAR}1", f"Nurse{C1}", f"Being heard {HOSTILE} helps. It does, every single day."],
        ["P2", "Carer", f"Time and patience {HOSTILE}, and somewhere safe to live for a while."],
        ["P3", "Nurse", "Hope, mostly, and people who do not give up on you at all, ever."],
    ])
    directory = tmp_path / "proj"
    import_survey(directory, survey)
    with Project.open(directory) as project:
        responses = sorted(project.responses.values(), key=lambda r: r.text)
        for coder in ("ann", BAD_CODER):  # a name from a hand-edited file or an old import
            s = Session(project, coder)
            for r in responses:
                s.create_and_apply(r.id, 0, len(r.text), "hope", "semantic")
                s.set_done(r.id, True)
        s = Session(project, "ann")
        code = project.code_by_name("hope")
        s.edit_code(code.id, description=f"hope {HOSTILE}")
        _, theme = s.create_theme(f"Trust {TITLE}")
        s.edit_theme(theme, description=f"about {HOSTILE}")
    return {"project": directory, "survey": survey, "tmp": tmp_path}


def _commands(h) -> list[tuple[list, str]]:
    """Each command, and what it must show of the hostile text (a marker, '' for nothing)."""
    p, tmp = h["project"], h["tmp"]
    codings = write_csv(tmp / "codings.csv", [
        ["participant", "question", "code", "coder", "start", "end", "text"],
        ["P2", "Q1", f"care {TITLE}", "ann", "", "", ""],
    ])
    codebook = write_csv(tmp / "codebook.csv", [
        ["name", "kind", "description", "colour", "themes"],
        [f"kindness{TITLE}", "semantic", f"desc {HOSTILE}", "", f"Care {CLIP} > Warmth"],
    ])
    other = tmp / "other"
    shutil.copytree(p, other)
    with Project.open(other) as project:
        Session(project, "cy").create_theme(f"Other {CLIP} theme")
    return [
        (["import", h["survey"], "-p", tmp / "new"], "␛"),
        (["import", h["survey"], "-p", tmp / "dry", "--dry-run"], "␛"),
        (["stats", p], "␛"),
        (["codes", p], ""),
        (["extracts", p, "hope"], "␛"),
        (["extracts", p, "hope", "--format", "markdown"], "␛"),
        (["themes", p], ""),
        (["agreement", p, "--coders", "ann", BAD_CODER], "␛"),
        (["import-codings", codings, "-p", p], ""),
        (["import-codebook", codebook, "-p", p], ""),
        (["merge", p, other], ""),
        (["doctor", p], ""),
        (["export", p, "--format", "markdown", "-o", tmp / f"out{TITLE}.md"], "␛"),
        (["extracts", p, f"nothing like {TITLE}"], "nothing like"),  # an error naming the code
        (["agreement", p, "--coders", "ann", f"zed{TITLE}"], "␛"),  # an error naming a coder
        (["stats", p, "--format", TITLE], "invalid choice"),  # argparse's own error
        (["import", tmp / f"missing{TITLE}.csv", "-p", tmp / "x"], "␛"),  # a file that is not there
    ]


def test_every_command_shows_hostile_text_as_text(hostile, capsys):
    for args, marker in _commands(hostile):
        try:
            code, out, err = cli(capsys, *args)
        except SystemExit as exc:  # argparse
            code, (out, err) = exc.code, capsys.readouterr()
        shown = out + err
        assert not unsafe(shown), (args[0], unsafe(shown), shown[:400])
        assert marker in shown, (args, shown[:400])


def test_commands_not_listed_above_are_safe_too(hostile, capsys):
    """Commands added later (and those above, again, with only a project) print safely."""
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:
        if name in ("open", "demo"):
            continue  # the app: tested in a terminal
        try:
            code, out, err = cli(capsys, name, hostile["project"])
        except SystemExit:
            out, err = capsys.readouterr()
        assert not unsafe(out + err), (name, unsafe(out + err))


@pytest.mark.parametrize("args", [
    ["stats", "{p}", "--format", "json"],
    ["codes", "{p}", "--format", "json"],
    ["extracts", "{p}", "hope", "--format", "json"],
    ["themes", "{p}", "--format", "json"],
    ["agreement", "{p}", "--coders", "ann", BAD_CODER, "--format", "json"],
])
def test_json_stays_exact_json_with_every_control_escaped(hostile, capsys, args):
    code, out, err = cli(capsys, *[str(a).replace("{p}", str(hostile["project"])) for a in args])
    assert code == 0, err
    assert not unsafe(out), unsafe(out)
    strings = list(_strings(json.loads(out)))
    # the hostile text is there, exactly (each output holds at least one of these)
    assert any(h in s for s in strings for h in (HOSTILE, normalise(HOSTILE), BAD_CODER, f"Role{TITLE}"))


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_json_values_survive_exactly(hostile, capsys):
    code, out, _ = cli(capsys, "extracts", hostile["project"], "hope", "--format", "json")
    data = json.loads(out)
    assert data["description"] == f"hope {HOSTILE}"
    assert any(normalise(HOSTILE) in row["text"] for row in data["extracts"])  # \r became \n
    assert {row["coder"] for row in data["extracts"]} == {"ann", BAD_CODER}
    code, out, _ = cli(capsys, "stats", hostile["project"], "--format", "json")
    assert f"Role{TITLE}" in json.loads(out)["attributes"]


def test_csv_is_exact_in_a_file_and_safe_on_a_terminal(hostile, capsys, monkeypatch):
    args = ["agreement", hostile["project"], "--coders", "ann", BAD_CODER, "--format", "csv"]
    code, out, _ = cli(capsys, *args)
    assert code == 0 and BAD_CODER in out  # piped or redirected: the data as it is
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    code, out, _ = cli(capsys, *args)
    assert code == 0 and not unsafe(out) and "bea␛[2J" in out


def test_the_progress_line_still_moves_and_shows_names_safely(hostile, capsys, monkeypatch):
    """The one control character tuiqa writes itself (the progress line's carriage return)
    still works; the names in that line are made safe."""
    from tuiqa.cli import ProgressLine

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    line = ProgressLine(f"comparing {BAD_CODER}")
    line(1, 2)
    line.close()
    err = capsys.readouterr().err
    assert err.startswith("\rcomparing bea␛[2J␛[31m [") and "50%" in err


def test_an_attribute_named_with_brackets_still_attributes_quotes():
    """A column header such as "Years [approx]" (or any OSC sequence, which holds a ']') broke
    every quote and `extracts`: the default template escapes brackets in names, and the field
    parser did not read them back."""
    from tuiqa import quotes

    names = ["Years [approx]", "Role"]
    template = quotes.default_template(names)
    assert quotes.attribution(template, names, "P1", {"Years [approx]": "5", "Role": "Nurse"}) \
        == "(P1: 5, Nurse)"


def test_an_unexpected_error_shows_its_traceback_safely(hostile, capsys, monkeypatch):
    """A fault in tuiqa whose message quotes survey text: the traceback is shown, made safe like
    everything else, and the exit status is 1."""
    import tuiqa.cli

    def broken(project):
        raise RuntimeError(f"could not count {HOSTILE}")

    monkeypatch.setattr(tuiqa.cli, "project_stats", broken)
    code, out, err = cli(capsys, "stats", hostile["project"])
    assert code == 1
    assert "Traceback" in err and "RuntimeError: could not count ␛]0;PWNED␇" in err
    assert not unsafe(err)
