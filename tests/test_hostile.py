"""Hostile and messy input, file by file: a clear error or a safe result, the project unchanged."""

from __future__ import annotations

import zipfile

import pytest

from tuiqa.cli import main
from tuiqa.importers.survey import import_survey
from tuiqa.project import Project
from tuiqa.session import Session
from tuiqa.ui.factory import make_app

from .test_app import screen_text

MARKUP = "[bold red]X[/] [link=http://evil]y[/link] \x1b[2J\x1b[31mred\x1b[0m \x07"


def files_of(directory):
    return {p: p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file() and ".cache" not in p.parts}


@pytest.mark.parametrize("command", [
    ["import", "{f}", "--project", "{p}"],
    ["import-codings", "{f}", "--project", "{p}"],
    ["import-codebook", "{f}", "--project", "{p}"],
])
def test_a_200_mb_file_is_refused_quickly_with_its_size(command, tiny_project, tmp_path, capsys):
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as fh:
        fh.write(b"id,question\n")
        fh.truncate(200 * 1024 * 1024)  # sparse: costs no disk, reads as 200 MB
    before = files_of(tiny_project)
    args = [a.format(f=huge, p=tiny_project) for a in command]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "MB" in err and "huge.csv" in err
    assert files_of(tiny_project) == before


def test_an_xlsx_zip_bomb_is_refused(tmp_path, capsys):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        for i in range(17):  # ~1 GB declared when unpacked, a few MB on disk
            z.writestr(f"xl/padding{i}.bin", b"\x00" * (64 * 1024 * 1024), compress_type=zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < 20 * 1024 * 1024
    assert main(["import", str(bomb), "--project", str(tmp_path / "p")]) == 1
    assert "zip bomb" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_not_an_xlsx_at_all(tmp_path, capsys):
    fake = tmp_path / "survey.xlsx"
    fake.write_bytes(b"PK\x03\x04 this is not really a zip")
    assert main(["import", str(fake), "--project", str(tmp_path / "p")]) == 1
    assert "survey.xlsx" in capsys.readouterr().err


def test_a_100000_character_answer_with_emoji_and_accents(tmp_path):
    sentence = "Zoe\u0308 said 👨‍👩‍👧 it was fine. "
    long_answer = (sentence * (100_000 // len(sentence) + 1))[:100_000]
    survey = tmp_path / "long.csv"
    survey.write_text("id,Tell us everything\nP1,\"" + long_answer + "\"\n", encoding="utf-8")
    import_survey(tmp_path / "p", survey)
    with Project.open(tmp_path / "p") as p:
        (r,) = p.responses.values()
        assert len(r.text) >= 99_000
        s = Session(p, "ann")
        # a span that would cut the family emoji and the combining diaeresis in half is widened
        cut = r.text.index("👨") + 1
        s.create_and_apply(r.id, 2, cut, "odd cut", "semantic")
        (c,) = p.codings_for(r.id)
        assert r.text[c.start:c.end].startswith("e\u0308") or c.start <= 2
        assert r.text[c.end - 1] != "\u200d" and r.text[c.start:c.end].endswith("👧")


async def test_markup_and_escapes_in_every_text_a_user_sees(tmp_path):
    survey = tmp_path / "evil.csv"
    survey.write_text(
        "id,role,Please describe in your own words what happened next\n"
        f"P1,\"{MARKUP}\",\"An answer long enough to be a question, with {MARKUP} inside it\"\n",
        encoding="utf-8")
    import_survey(tmp_path / "p", survey)
    p = Project.open(tmp_path / "p")
    s = Session(p, "ann")
    rid = next(iter(p.responses))
    s.create_and_apply(rid, 0, 6, "[b]code[/b] \x1b[31m", "semantic")
    s.save_memo("response", rid, MARKUP)
    s.add_journal_entry(MARKUP)
    app = make_app(p, "ann", refresh_seconds=0)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "[bold red]X[/]" in text and "[link=http://evil]y[/link]" in text  # attribute + answer
        assert "␛[2J" in text and "␇" in text
        assert "[b]code[/b]" in text  # the code name, control characters removed
        await pilot.press("m")
        assert "[bold red]X[/]" in screen_text(app)  # in the memo editor
        await pilot.press("escape", "f2")
        assert "[link=http://evil]y[/link]" in screen_text(app)  # in the journal
        await pilot.press("escape", "b")
        assert "[b]code[/b]" in screen_text(app)  # in the codebook
    p.close()


def test_formula_cells_in_a_survey_are_kept_as_text(tmp_path):
    survey = tmp_path / "f.csv"
    survey.write_text("id,role,What happened next in your own words?\n"
                      "P1,=HYPERLINK(\"x\"),\"=1+1 is what they wrote, then nothing else for a while\"\n",
                      encoding="utf-8")
    import_survey(tmp_path / "p", survey)
    with Project.open(tmp_path / "p") as p:
        (part,) = p.participants.values()
        assert part.attrs["role"] == '=HYPERLINK("x")'
        (r,) = p.responses.values()
        assert r.text.startswith("=1+1")


def test_ragged_rows_nul_bytes_and_wrong_encodings_in_a_codings_file(sample_project, tmp_path, capsys):
    def run(name: str, data: bytes) -> int:
        path = tmp_path / name
        path.write_bytes(data)
        code = main(["import-codings", str(path), "--project", str(sample_project), "--done", "none"])
        capsys.readouterr()
        return code

    before = files_of(sample_project)
    assert run("nul.csv", b"participant,question,code\nP1,Q1,hope\x00\n") == 1
    assert run("ragged.csv", b"participant,question,code\nP1,Q1,hope,extra,cells\n") == 1
    assert files_of(sample_project) == before
    assert run("utf16.csv", "participant\tquestion\tcode\nP1\tQ1\thope\n".encode("utf-16")) == 0
    assert run("latin.csv", "participant,question,code\nP1,Q1,caf\xe9 culture\n".encode("cp1252")) == 0
    with Project.open(sample_project) as p:
        assert p.code_by_name("café culture") is not None


async def test_the_status_line_shows_names_as_typed_not_their_repr(tmp_path, sample_project):
    """A code created as `\\[escaped` was reported as Created semantic code '\\\\[escaped': the
    repr of the name, with its backslash doubled. Names are shown as they are, in quotes."""
    p = Project.open(sample_project)
    app = make_app(p, "ann", refresh_seconds=0, welcome=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        await pilot.press("c", *"\\[escaped", "enter")
        await pilot.pause()
        text = screen_text(app)
        assert "“\\[escaped”" in text, text[-400:]
        assert "\\\\[" not in text and "'\\[escaped'" not in text
    p.close()


def test_messages_quote_names_without_repr(sample_project):
    from tuiqa import codebook
    from tuiqa.text import quoted

    assert quoted("it's \\[x]\x1b") == "“it's \\[x]␛”"
    with Project.open(sample_project) as p:
        s = Session(p, "ann")
        rid = next(iter(p.responses))
        assert s.create_and_apply(rid, 0, 3, "don't \\[x]", "semantic").message == \
            "Created semantic code “don't \\[x]” and coded it"
        code = p.code_by_name("don't \\[x]")
        assert s.rename_code(code.id, "it's \\[y]").message == "Renamed “don't \\[x]” to “it's \\[y]”"
        with pytest.raises(codebook.UnknownCode, match="no code named “nope\\\\\\[”"):
            codebook.find_code(p, "nope\\[")
