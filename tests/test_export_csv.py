"""The codings CSV: export, then import-codings into a fresh import of the same survey, exactly."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuiqa.cli import main
from tuiqa.exporters import Cancelled, ExportContext, export
from tuiqa.importers.codings import import_codings
from tuiqa.importers.survey import import_survey
from tuiqa.project import Project
from tuiqa.session import Session

from .helpers import cli


def codings_of(project: Project) -> set[tuple]:
    return {(project.participants[project.responses[c.response_id].participant_id].pid,
             project.questions[project.responses[c.response_id].question_id].key,
             project.code_name(c.code_id), project.code(c.code_id).kind, c.coder, c.start, c.end)
            for c in project.all_codings()}


def round_trip(source_dir, survey, tmp_path, name="rt"):
    out = tmp_path / f"{name}.csv"
    with Project.open(source_dir) as p:
        export(p, "csv", out, ExportContext())
        expected = codings_of(p)
    fresh = tmp_path / f"{name}-fresh"
    import_survey(fresh, survey)
    with Project.open(fresh) as q:
        import_codings(q, out, coder=None, default_coder="nobody", done="none")
        assert codings_of(q) == expected
    return out


def test_round_trip_of_the_sample_with_two_coders_latent_codes_and_formulas(sample_project, tmp_path):
    from tuiqa.samples import sample_dir

    with Project.open(sample_project) as p:
        s = Session(p, "ann")
        for rid in sorted(p.responses)[:15]:
            text = p.responses[rid].text
            s.create_and_apply(rid, 0, min(len(text), 12), "=HYPERLINK(\"x\")", "latent")
            s.create_and_apply(rid, len(text) // 2, len(text), "@risk + reward", "semantic")
    out = round_trip(sample_project, sample_dir() / "survey.csv", tmp_path)
    raw = out.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw)))
    assert rows[0][:7] == ["participant", "question", "code", "coder", "start", "end", "text"]
    for row in rows[1:]:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", f"a cell a spreadsheet would run: {cell!r}"
    assert any(row[2] == "'=HYPERLINK(\"x\")" for row in rows)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                                min_size=1, max_size=40).filter(lambda t: t.strip()),
                        min_size=1, max_size=4),
       cuts=st.lists(st.tuples(st.integers(0, 40), st.integers(1, 40)), min_size=1, max_size=6),
       name=st.text(min_size=1, max_size=15).filter(lambda t: " ".join(t.split())))
def test_round_trip_property_for_any_text(tmp_path_factory, answers, cuts, name):
    tmp = tmp_path_factory.mktemp("prop")
    survey = tmp / "s.csv"
    with open(survey, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "Tell us, in as many words as you like, about it"])
        for i, a in enumerate(answers):
            w.writerow([f"P{i}", a + " and then a good deal more words so this is a question"])
    import_survey(tmp / "p", survey)
    with Project.open(tmp / "p") as p:
        s = Session(p, "x")
        rids = sorted(p.responses)
        for i, (a, b) in enumerate(cuts):
            rid = rids[i % len(rids)]
            text = p.responses[rid].text
            lo, hi = sorted((min(a, len(text) - 1), min(b, len(text))))
            if hi > lo:
                s.create_and_apply(rid, lo, hi, name + str(i % 2), "latent" if i % 3 else "semantic")
    round_trip(tmp / "p", survey, tmp)


def test_cli_export_writes_privately_and_names_the_file(sample_project, tmp_path, capsys):
    assert main(["export", str(sample_project), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    written = sample_project / "exports" / "sample-codings.csv"
    assert str(written) in out and written.exists()
    assert written.stat().st_mode & 0o077 == 0
    assert main(["export", str(sample_project), "--format", "nope"]) == 2
    assert main(["export", str(sample_project), "--format", "csv", "--coder", "zed"]) == 1


def test_default_names_differ_and_a_replaced_file_is_said(sample_project, capsys):
    """#14: csv and codebook-csv (markdown and codebook-md) once both wrote NAME.csv (NAME.md)."""
    exports = sample_project / "exports"
    wrote = {}
    for fmt in ("csv", "codebook-csv", "markdown", "codebook-md", "qdpx"):
        code, out, err = cli(capsys, "export", sample_project, "--format", fmt)
        assert code == 0, err
        wrote[fmt] = out.split("Wrote ", 1)[1].split(" (", 1)[0]
        assert "replaced" not in out
    assert wrote == {"csv": str(exports / "sample-codings.csv"),
                     "codebook-csv": str(exports / "sample-codebook.csv"),
                     "markdown": str(exports / "sample.md"),
                     "codebook-md": str(exports / "sample-codebook.md"),
                     "qdpx": str(exports / "sample.qdpx")}
    assert (exports / "sample-codings.csv").read_text(encoding="utf-8-sig").startswith("participant,")
    assert (exports / "sample-codebook.csv").read_text(encoding="utf-8-sig").startswith("name,")
    # exporting the same format again replaces the earlier file, and says so
    code, out, _ = cli(capsys, "export", sample_project, "--format", "csv")
    assert code == 0 and "it replaced the file that was there" in out
    code, out, _ = cli(capsys, "export", sample_project, "--format", "csv", "--coder", "lead")
    assert str(exports / "sample-codings-lead.csv") in out and "replaced" not in out


def test_output_into_a_folder_that_does_not_exist_creates_it(sample_project, tmp_path, capsys):
    target = tmp_path / "new" / "deeper" / "write-up.md"
    code, out, err = cli(capsys, "export", sample_project, "--format", "markdown", "-o", target)
    assert code == 0, err
    assert target.is_file() and (target.parent.stat().st_mode & 0o077) == 0
    # a folder (made if missing, with a trailing slash; or one that exists): the default name in it
    assert cli(capsys, "export", sample_project, "--format", "csv", "-o", f"{tmp_path / 'out'}/")[0] == 0
    assert (tmp_path / "out" / "sample-codings.csv").is_file()
    assert cli(capsys, "export", sample_project, "--format", "markdown", "-o", tmp_path / "out")[0] == 0
    assert (tmp_path / "out" / "sample.md").is_file()
    # a stopped export leaves no folder behind either
    with Project.open(sample_project) as p:
        ctx = ExportContext()
        ctx.cancel.set()
        with pytest.raises(Cancelled):
            export(p, "markdown", tmp_path / "never" / "x.md", ctx)
    assert not (tmp_path / "never").exists()


async def test_export_from_the_command_palette(sample_project):
    from tuiqa.ui.factory import make_app

    app = make_app(sample_project, "lead", refresh_seconds=0)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p", *"Export: csv", "enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
    app.project.close()
    out = sample_project / "exports" / "sample-codings.csv"
    assert out.exists() and out.read_text(encoding="utf-8-sig").count("\n") == 60


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
                min_size=2, max_size=6))  # (the csv writer refuses NUL before Python 3.11)
def test_cells_are_quoted_exactly_as_the_csv_writer_quotes(values):
    """The export writes its lines itself (a row's repeated cells are quoted once per answer or
    code, not once per row); they must be the csv writer's bytes."""
    from tuiqa.exporters.csv_export import cell

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(values)
    assert ",".join(cell(v) for v in values) + "\r\n" == buf.getvalue()
