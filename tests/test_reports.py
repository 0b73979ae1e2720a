"""Write-up exports: Markdown and Word reports, the codebook, map pictures (Mermaid, DOT, SVG) and
the offline HTML review, on the sample project and on hostile text. One test opens the HTML in a
real headless Chromium (skipped where there is none)."""

from __future__ import annotations

import csv
import html
import html.parser
import io
import os
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

from tuiqa.project import clean_name

from tuiqa import layers, settings
from tuiqa import themes as T
from tuiqa.cli import main
from tuiqa.coders import PRESENCE, Disagreement
from tuiqa.codebook import code_stats, extracts_of
from tuiqa.colours import colour_for
from tuiqa.csvsafe import unescape
from tuiqa.exporters import Cancelled, ExportContext, export, load_all
from tuiqa.exporters.picture import CSP, mermaid_escape
from tuiqa.exporters.report import md_escape
from tuiqa.importers.survey import import_survey
from tuiqa.project import Project
from tuiqa.session import Session

from .helpers import build_map as build_themes
from .helpers import code_id as cid

FORMATS = {"markdown": "md", "docx": "docx", "codebook-csv": "csv", "codebook-md": "md",
           "mermaid": "mmd", "dot": "dot", "svg": "svg", "html": "html"}
SVG_NS = "{http://www.w3.org/2000/svg}"

KNOWN_QUOTE = ("\"I'd be honest with Zoë that I can't keep it to myself\" "
               "(P1: Support worker, Community, 2 years)")


def build_map(project) -> dict[str, str]:
    """The shared small map, with a described overarching theme and a described latent code."""
    ids = build_themes(project)
    s = Session(project, "lead")
    s.edit_theme(ids["over"], description="Staff describe recovery as something made between people.",
                 concept="Recovery lives in relationships", status="reviewed")
    s.edit_code(cid(project, "hope"), kind="latent", description="Talk of a future worth having.")
    return ids


def write(project, fmt, tmp_path, **ctx) -> Path:
    out = tmp_path / f"out-{fmt}.{FORMATS[fmt]}"
    export(project, fmt, out, ExportContext(session_coder="lead", **ctx))
    assert out.is_file() and out.stat().st_size > 0
    return out


def html_as_xml(text: str) -> ET.Element:
    """The HTML report is well-formed XML as well (void elements closed, attributes quoted)."""
    assert text.startswith("<!DOCTYPE html>\n")
    return ET.fromstring(text[len("<!DOCTYPE html>\n"):])


def all_text(element: ET.Element) -> str:
    return " ".join(" ".join(element.itertext()).split())


# -- the sample project --------------------------------------------------------------------------


def test_every_format_is_registered_and_written(project, tmp_path):
    build_map(project)
    formats = load_all()
    for fmt, ext in FORMATS.items():
        assert formats[fmt].extension == ext
        write(project, fmt, tmp_path)


def test_markdown_write_up_in_map_order(project, tmp_path):
    build_map(project)
    text = write(project, "markdown", tmp_path).read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings[0] == "# sample"  # the project's name, until a title is set
    order = ["## Recovery as a relationship", "### Trust is slow to build", "#### building trust",
             "#### hope", "#### Honesty is risky", "##### limits of confidentiality",
             "## Rules and autonomy", "### following rules", "### hope", "### risk vs autonomy",
             "## Miscellaneous", "### staff burnout", "## Unassigned codes", "### harm reduction",
             "## Participants"]
    assert [h for h in headings if h in order] == order
    assert ("*Overarching theme · reviewed · 3 codes · 15 extracts from 14 answers by 10 participants "
            "(lead's codings)*") in text
    assert "Staff describe recovery as something made between people." in text
    assert "**Central organising concept:** Recovery lives in relationships" in text
    assert "*Latent code · 4 extracts from 4 answers by 3 participants (lead's codings)*" in text
    # a known quote with its attribution, exactly as Session.quote gives it
    coding = extracts_of(project, cid(project, "limits of confidentiality"))[0]
    assert Session(project, "lead").quote(coding) == KNOWN_QUOTE
    assert "> " + md_escape(KNOWN_QUOTE) + "\n" in text
    assert f"> {KNOWN_QUOTE}\n" in text  # nothing in it needed escaping
    misc = text.index("## Miscellaneous")
    assert "Codes kept for later" in text[misc:text.index("## Unassigned codes")]
    assert "not yet placed under any theme" in text[text.index("## Unassigned codes"):]
    table = text[text.index("## Participants"):].splitlines()
    assert "| Participant | Role | Setting | Length of experience |" in table
    assert "| P1 | Support worker | Community | 2 years |" in table
    assert "| P10 | Support worker | Community |  |" in table  # a blank attribute stays blank
    assert sum(1 for line in table if line.startswith("| P")) == len(project.participants) + 1
    # every extract of every code is quoted, under each place the code has (hope has two)
    quotes = [line for line in text.splitlines() if line.startswith("> ")]
    assert len(quotes) == expected_quotes(project)


def expected_quotes(project) -> int:
    stats = code_stats(project)
    return sum(s.extracts for s in stats.values()) + stats[cid(project, "hope")].extracts


def test_markdown_renders_to_the_intended_html(project, tmp_path):
    markdown_it = pytest.importorskip("markdown_it")
    build_map(project)
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(
        write(project, "markdown", tmp_path).read_text(encoding="utf-8"))
    tags = re.findall(r"<(h[1-6])>([^<]*)</h[1-6]>", rendered)
    assert ("h2", "Recovery as a relationship") in tags
    assert tags.index(("h2", "Recovery as a relationship")) < tags.index(("h3", "Trust is slow to build")) \
        < tags.index(("h4", "Honesty is risky")) < tags.index(("h5", "limits of confidentiality"))
    assert rendered.count("<blockquote>") == expected_quotes(project)
    assert "<table>" in rendered and rendered.count("<tr>") == len(project.participants) + 1


def test_one_coder_only(project, tmp_path):
    build_map(project)
    lead = write(project, "markdown", tmp_path, coder="lead").read_text(encoding="utf-8")
    assert "Quotes and counts are lead's codings (chosen for this export)." in lead and KNOWN_QUOTE in lead
    nobody = write(project, "markdown", tmp_path, coder="someone else").read_text(encoding="utf-8")
    assert "Quotes and counts are someone else's codings" in nobody
    assert not any(line.startswith("> ") for line in nobody.splitlines())
    assert "*No extracts.*" in nobody
    assert "0 extracts from 0 answers by 0 participants (someone else's codings)" in nobody


def test_docx_has_real_headings_quotes_and_table(project, tmp_path):
    docx = pytest.importorskip("docx")
    build_map(project)
    doc = docx.Document(str(write(project, "docx", tmp_path)))
    paras = [(p.style.name, p.text) for p in doc.paragraphs]
    assert paras[0] == ("Title", "sample")
    order = [("Heading 1", "Recovery as a relationship"), ("Heading 2", "Trust is slow to build"),
             ("Heading 3", "building trust"), ("Heading 3", "Honesty is risky"),
             ("Heading 4", "limits of confidentiality"), ("Heading 1", "Rules and autonomy"),
             ("Heading 2", "following rules"), ("Heading 1", "Miscellaneous"),
             ("Heading 2", "staff burnout"), ("Heading 1", "Unassigned codes"),
             ("Heading 1", "Participants")]
    assert [p for p in paras if p in order] == order
    quotes = [p for p in doc.paragraphs if p.style.name == "Quote"]
    assert len(quotes) == expected_quotes(project)
    known = [p for p in quotes if p.text == KNOWN_QUOTE]
    assert len(known) == 1
    # the extract, then the attribution after it, in the same Quote paragraph
    assert [r.text for r in known[0].runs] == [
        "\"I'd be honest with Zoë that I can't keep it to myself\"",
        " (P1: Support worker, Community, 2 years)"]
    concept = [p for p in doc.paragraphs if p.text.startswith("Central organising concept:")]
    assert concept[0].runs[0].bold and concept[0].text.endswith("Recovery lives in relationships")
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["Participant", "Role", "Setting",
                                                     "Length of experience"]
    assert len(table.rows) == len(project.participants) + 1
    assert [c.text for c in table.rows[1].cells] == ["P1", "Support worker", "Community", "2 years"]


def test_codebook_csv_reads_back_with_the_counts(project, tmp_path):
    build_map(project)
    raw = write(project, "codebook-csv", tmp_path).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0]) == ["name", "kind", "description", "colour", "extracts", "answers",
                             "participants", "counted_in", "created_by", "themes", "example"]
    stats = code_stats(project)
    assert sorted(r["name"] for r in rows) == sorted(s.code.name for s in stats.values())
    for row in rows:
        s = stats[cid(project, row["name"])]  # one coder (lead) here: their counts
        assert (int(row["extracts"]), int(row["answers"]), int(row["participants"])) == \
            (s.extracts, s.responses, s.participants)
        assert row["counted_in"] == "lead's codings"
        assert row["colour"] == colour_for(s.code.id, s.code.colour)
        assert row["created_by"] == "lead"
        assert row["example"].startswith('"') and " (P" in row["example"]
    by_name = {r["name"]: r for r in rows}
    assert by_name["hope"]["themes"] == \
        "Recovery as a relationship > Trust is slow to build ; Rules and autonomy"
    assert by_name["hope"]["kind"] == "latent"
    assert by_name["hope"]["description"] == "Talk of a future worth having."
    assert by_name["limits of confidentiality"]["example"] == KNOWN_QUOTE
    assert by_name["staff burnout"]["themes"] == ""
    # one coder: the counts follow
    other = list(csv.DictReader(io.StringIO(
        write(project, "codebook-csv", tmp_path, coder="nobody").read_text(encoding="utf-8-sig"))))
    assert {r["extracts"] for r in other} == {"0"} and {r["example"] for r in other} == {""}


def test_codebook_markdown(project, tmp_path):
    build_map(project)
    text = write(project, "codebook-md", tmp_path).read_text(encoding="utf-8")
    assert text.startswith("# Codebook: sample\n")
    for code in project.codes():
        assert f"\n## {code.name}\n" in text
    section = text[text.index("## hope"):text.index("## limits of confidentiality")]
    assert "*Latent code · colour" in section and \
        "4 extracts from 4 answers by 3 participants (lead's codings)" in section
    assert "13 codes; every count is of lead's codings." in text
    assert "Talk of a future worth having." in section
    assert "**Themes:** Recovery as a relationship > Trust is slow to build ; Rules and autonomy" in section
    assert "**Example:**" in section and "\n> \"Ten weeks is still ten weeks" in section
    assert "**Themes:** none (miscellaneous)" in text[text.index("## staff burnout"):]
    assert "| hope | latent | 4 | 4 | 3 |" in text


def test_mermaid_map(project, tmp_path):
    build_map(project)
    text = write(project, "mermaid", tmp_path).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[1] == "flowchart LR"
    nodes = {m.group(1): m.group(2) for m in re.finditer(r'^\s*([tc]\d+)\(?\["(.*)"\]\)?$', text, re.M)}
    label = {v.split("<br/>")[0]: k for k, v in nodes.items()}
    over = label["OVERARCHING#58; Recovery as a relationship"]
    trust = label["Trust is slow to build"]
    honest = label["Honesty is risky"]
    assert f"  {over} --> {trust}" in lines and f"  {trust} --> {honest}" in lines
    hope = label["hope (4)"]
    assert f"  {trust} --> {hope}" in lines and f"  {label['Rules and autonomy']} --> {hope}" in lines
    assert "3 codes · 15 extracts · 10 participants" in nodes[trust]
    assert '  subgraph misc["Miscellaneous"]' in lines
    assert '  subgraph unassigned["Unassigned codes"]' in lines
    assert "person-led goals (5)" in label


def test_dot_map_renders_with_graphviz(project, tmp_path):
    build_map(project)
    path = write(project, "dot", tmp_path)
    text = path.read_text(encoding="utf-8")
    assert text.count("{") == text.count("}")
    assert '[label="Trust is slow to build\\n3 codes · 15 extracts · 10 participants"' in text
    if shutil.which("dot") is None:
        pytest.skip("Graphviz (dot) is not installed: the DOT file was checked by eye only")
    svg = subprocess.run(["dot", "-Tsvg", str(path)], capture_output=True, check=True, timeout=60).stdout
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG_NS}text")]
    for name in ("Trust is slow to build", "Honesty is risky", "hope (4)", "Miscellaneous"):
        assert name in texts


def test_svg_map(project, tmp_path):
    build_map(project)
    root = ET.parse(write(project, "svg", tmp_path)).getroot()
    assert root.tag == f"{SVG_NS}svg" and float(root.get("width")) > 300
    groups = {}
    for g in root.iter(f"{SVG_NS}g"):
        groups.setdefault(g.get("class"), []).append(all_text(g))
    assert groups["overarching"] == [
        "OVERARCHING: Recovery as a relationship reviewed · 3 codes · 15 extracts · 10 participants"]
    assert [t.split(" 3 codes")[0] for t in groups["theme"]] == ["Trust is slow to build",
                                                                 "Rules and autonomy"]
    assert groups["subtheme"][0].startswith("Honesty is risky")
    assert len(groups["code"]) == 2 + 1 + 3 + 1 + 7  # placements, hope twice, the two piles
    assert "hope (4)" in groups["code"]
    assert {g.split(" ")[0] for g in groups["pile"]} == {"Miscellaneous", "Unassigned"}


def test_svg_of_a_big_map_stays_valid_and_bounded(project, tmp_path):
    """100 themes and 2,000 codes: the picture caps the codes shown under each theme."""
    change = project.change("many codes")
    ids = [project.ensure_code(change, f"code number {i} with a rather long name to wrap", coder="lead")
           for i in range(2000)]
    project.commit(change, "lead")
    change = project.change("many themes")
    overs = [T.create(project, change, f"Overarching {i}", overarching=True) for i in range(10)]
    middle = [T.create(project, change, f"Theme {i} " + "long " * (i % 12), parent_id=overs[i % 10])
              for i in range(60)]
    subs = [T.create(project, change, f"Sub-theme {i}", parent_id=middle[i]) for i in range(30)]
    holders = middle + subs
    for i, code_id in enumerate(ids):
        if i % 10 != 9:
            T.assign(change, holders[i % len(holders)], [code_id])
    project.commit(change, "lead")
    root = ET.parse(write(project, "svg", tmp_path)).getroot()
    codes = [g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "code"]
    more = [all_text(g) for g in root.iter(f"{SVG_NS}g") if g.get("class") == "more"]
    assert 300 < len(codes) < 1000 and more and all(re.fullmatch(r"\+\d+ more codes?", m) for m in more)
    assert float(root.get("height")) < 60000
    for g in root.iter(f"{SVG_NS}text"):
        assert len(g.text or "") < 60  # long names wrapped


def test_html_report_is_self_contained(project, tmp_path):
    build_map(project)
    text = write(project, "html", tmp_path).read_text(encoding="utf-8")
    root = html_as_xml(text)
    head = root.find("head")
    metas = {m.get("http-equiv"): m.get("content") for m in head.iter("meta")}
    assert metas["Content-Security-Policy"] == CSP
    assert CSP == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    tags = {e.tag for e in root.iter()}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "base", "form"}
    for e in root.iter():
        for name, value in e.attrib.items():
            assert not name.startswith("on")
            assert "http:" not in value and "https:" not in value and "//" not in value, (e.tag, name)
            if name in ("href", "src", "xlink:href"):
                assert value.startswith("#")
    assert "<script" not in text.lower() and "http://" not in text and "https://" not in text
    assert "@import" not in text and "url(" not in text
    # the map, inline
    svg = root.find("body/section/div/svg")
    assert svg is not None and "Trust is slow to build" in all_text(svg)
    headings = [(e.tag, all_text(e)) for e in root.iter() if re.fullmatch(r"h[1-6]", e.tag)]
    order = [("h2", "overarching theme Recovery as a relationship"), ("h3", "theme Trust is slow to build"),
             ("h4", "code building trust"), ("h4", "sub-theme Honesty is risky"),
             ("h5", "code limits of confidentiality"), ("h2", "Miscellaneous"),
             ("h3", "code staff burnout"), ("h2", "Unassigned codes"), ("h2", "Participants")]
    assert [h for h in headings if h in order] == order
    quotes = [(all_text(f.find("blockquote")), all_text(f.find("figcaption")))
              for f in root.iter("figure")]
    assert ("\"I'd be honest with Zoë that I can't keep it to myself\"",
            "(P1: Support worker, Community, 2 years)") in quotes
    assert len(quotes) == expected_quotes(project)
    table = root.find(".//table")
    assert [all_text(th) for th in table.iter("th")] == ["Participant", "Role", "Setting",
                                                         "Length of experience"]
    assert len(table.findall("tbody/tr")) == len(project.participants)
    concept = [e for e in root.iter("p") if e.get("class") == "concept"]
    assert all_text(concept[0]) == "Central organising concept: Recovery lives in relationships"


def test_html_report_parses_as_html_too(project, tmp_path):
    build_map(project)
    text = write(project, "html", tmp_path).read_text(encoding="utf-8")

    class Checker(html.parser.HTMLParser):
        VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr"}

        def __init__(self):
            super().__init__()
            self.stack: list[str] = []
            self.problems: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag not in self.VOID:
                self.stack.append(tag)

        def handle_startendtag(self, tag, attrs):
            pass

        def handle_endtag(self, tag):
            if not self.stack or self.stack.pop() != tag:
                self.problems.append(tag)

    checker = Checker()
    checker.feed(text)
    checker.close()
    assert checker.problems == [] and checker.stack == []


def test_cancelling_writes_nothing(project, tmp_path):
    build_map(project)
    for fmt, ext in FORMATS.items():
        ctx = ExportContext(session_coder="lead")
        ctx.cancel.set()
        out = tmp_path / f"cancelled.{ext}"
        with pytest.raises(Cancelled):
            export(project, fmt, out, ctx)
        assert not out.exists()


def test_every_format_stops_part_way_and_writes_nothing(project, tmp_path):
    """The app runs exports behind a progress bar that Esc stops: each format reports progress
    more than once and stops at the next report after the stop, before anything is written."""
    build_map(project)
    for name, fmt in load_all().items():
        ctx = ExportContext(session_coder="lead")
        seen: list[tuple[int, int]] = []

        def progress(done, total, ctx=ctx, seen=seen):
            seen.append((done, total))
            ctx.cancel.set()  # Esc, as soon as the bar first moves

        ctx.progress = progress
        out = tmp_path / f"stopped.{fmt.extension}"
        with pytest.raises(Cancelled):
            export(project, name, out, ctx)
        assert len(seen) == 1 and not out.exists(), name
        assert not list(tmp_path.glob("*.tmp*")), name


def test_progress_is_reported(project, tmp_path):
    build_map(project)
    seen: list[tuple[int, int]] = []
    export(project, "docx", tmp_path / "p.docx", ExportContext(progress=lambda d, t: seen.append((d, t))))
    assert seen and seen[-1][0] == seen[-1][1] == 14  # 7 codes placed (hope twice) + 1 + 7


def test_cli_exports_each_format(sample_project, tmp_path, capsys):
    for fmt, ext in FORMATS.items():
        out = tmp_path / f"cli.{ext}"
        assert main(["export", str(sample_project), "--format", fmt, "-o", str(out)]) == 0
        assert out.stat().st_size > 0


# -- hostile text --------------------------------------------------------------------------------

HOSTILE_ANSWER = ("# heading\n- item\n<script>alert(1)</script> [bold]rich[/bold] "
                  "[x](http://evil.example/x) ![i](https://evil.example/i.png) \x1b[31mred\x07 "
                  "\u202eevil\u202c 😀👩‍👩‍👧 & &amp; \"dq\" 'sq' ]]> <!-- c --> ${x} `code` *em* _u_ "
                  "a|b ~~s~~ =SUM(A1) ; end")
HOSTILE_CODE = ("=HYPERLINK(\"http://evil.example\") <script>alert('c')</script> # [bold]c[/bold] "
                "\"q\" ; end 😀 \x1b[1m style:#fff;")
HOSTILE_THEME = "<img src=x onerror=alert(1)> # [bold]T[/bold] \"q\" ]] ; end --> subgraph \x07 😀"
HOSTILE_ROLE = "<b>Nurse</b> [red]x[/red] # 😀"


@pytest.fixture
def hostile(tmp_path):
    survey = tmp_path / "hostile.csv"
    survey.write_bytes(("id,Role,What helps?\r\n"
                        f"P1,\"{HOSTILE_ROLE}\",\"{HOSTILE_ANSWER.replace(chr(34), chr(34) * 2)}\"\r\n"
                        "P2,Support worker,Plain answer here.\r\n").encode("utf-8"))
    directory = tmp_path / "hostile"
    import_survey(directory, survey)
    p = Project.open(directory)
    s = Session(p, "lead")
    r = next(x for x in p.responses.values() if "script" in x.text)
    s.create_and_apply(r.id, 0, len(r.text), HOSTILE_CODE, "latent")
    s.create_and_apply(r.id, r.text.index("<script"), r.text.index("</script>") + 9, "plain code",
                       "semantic")
    _, over = s.create_theme(HOSTILE_THEME, overarching=True)
    _, theme = s.create_theme("sub " + HOSTILE_THEME, parent_id=over)
    s.edit_theme(over, description="# desc\x00\n\n<script>x</script> [l](http://e.x)",
                 concept="=1+1 ## *c* \x1b[2J")
    code = p.code_by_name(HOSTILE_CODE).id
    s.edit_code(code, description="> quoted\n1. list\n<b>b</b>")
    s.assign_codes(theme, [code])
    yield p
    p.close()


def visible(text: str) -> str:
    """What a hostile name looks like once cleaned (control characters gone, one line)."""
    return " ".join(re.sub("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e]", "", text).split())


def test_hostile_text_in_markdown(hostile, tmp_path):
    markdown_it = pytest.importorskip("markdown_it")
    text = write(hostile, "markdown", tmp_path).read_text(encoding="utf-8")
    assert "\x1b" not in text and "\x07" not in text and "\x00" not in text and "\u202e" not in text
    assert "😀👩‍👩‍👧" in text
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert len(headings) == 7  # title, 2 themes, a code, unassigned, a code, participants
    rendered = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)
    # our own emphasis (the summary line under each heading) is the only emphasis
    rendered = re.sub(r"<p><em>[^<]*</em></p>", "", rendered)
    for bad in ("<script", "<img", "<a ", "<b>", "<em>", "<code>", "<li>", "<ol", "<ul", "<s>", "<del>"):
        assert bad not in rendered, bad
    assert rendered.count("<blockquote>") == 2
    assert html_escape_text(visible(HOSTILE_THEME)) in rendered  # shown as written
    assert html_escape_text(visible(HOSTILE_CODE)) in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt; [bold]rich[/bold] [x](http://evil.example/x)" in rendered


def html_escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def test_hostile_text_in_docx(hostile, tmp_path):
    docx = pytest.importorskip("docx")
    doc = docx.Document(str(write(hostile, "docx", tmp_path)))
    texts = [p.text for p in doc.paragraphs]
    assert visible(HOSTILE_THEME) in texts and "sub " + visible(HOSTILE_THEME) in texts
    assert visible(HOSTILE_CODE) in texts
    quote = next(p for p in doc.paragraphs if p.style.name == "Quote" and "evil" in p.text)
    assert "<script>alert(1)</script> [bold]rich[/bold]" in quote.text and "😀👩‍👩‍👧" in quote.text
    assert "\x1b" not in quote.text and "\x07" not in quote.text
    assert quote.text.endswith(f"(P1: {HOSTILE_ROLE})")
    assert "# desc" in texts and [c.text for c in doc.tables[0].rows[1].cells] == ["P1", HOSTILE_ROLE]


def test_hostile_text_in_codebook_csv(hostile, tmp_path):
    rows = list(csv.DictReader(io.StringIO(
        write(hostile, "codebook-csv", tmp_path).read_text(encoding="utf-8-sig"))))
    by_name = {unescape(r["name"]): r for r in rows}
    row = by_name[clean_name(HOSTILE_CODE)]  # names lose control characters when made
    assert row["name"].startswith("'=")  # a spreadsheet shows it, never runs it
    theme = clean_name(HOSTILE_THEME)
    assert unescape(row["themes"]) == f"{theme} > sub {theme}"
    assert row["extracts"] == "1" and row["description"] == "> quoted\n1. list\n<b>b</b>"
    assert all(not v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
    md = write(hostile, "codebook-md", tmp_path).read_text(encoding="utf-8")
    assert "\x1b" not in md and "\n## \\=HYPERLINK(" in md and "<script" not in md.replace("\\<script", "")


def test_hostile_text_in_map_pictures(hostile, tmp_path):
    mermaid = write(hostile, "mermaid", tmp_path).read_text(encoding="utf-8")
    for line in mermaid.splitlines()[1:]:
        m = re.fullmatch(r'\s*(?:subgraph \w+)?(?:[tc]\d+)?\(?\["(.*)"\]\)?', line)
        if m:  # a label: nothing Mermaid reacts to is left but its own #code; entities
            bare = re.sub(r"#\d+;", "", m.group(1).replace("<br/>", " "))
            assert not set(bare) & set("\"#;:<>[]{}|`\\&%=*_~$\x1b\x07"), line
        else:
            assert re.fullmatch(r"\s*(?:[tc]\d+ --> [tc]\d+|end|flowchart LR|classDef .*|class [\w,]+ \w+)",
                                line), line
    assert mermaid_escape(visible(HOSTILE_THEME)) in mermaid
    dot = write(hostile, "dot", tmp_path)
    assert "\x1b" not in dot.read_text(encoding="utf-8")
    if shutil.which("dot"):
        svg = subprocess.run(["dot", "-Tsvg", str(dot)], capture_output=True, check=True,
                             timeout=60).stdout
        texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG_NS}text")]
        assert "OVERARCHING: " + visible(HOSTILE_THEME) in texts
        assert visible(HOSTILE_CODE) + " (1)" in texts
    root = ET.parse(write(hostile, "svg", tmp_path)).getroot()
    tags = {e.tag.split("}")[1] for e in root.iter()}
    assert tags <= {"svg", "title", "style", "rect", "text", "g", "path"}
    words = all_text(root)
    assert "<img src=x" in words and "[bold]T[/bold]" in words and "😀" in words


def test_hostile_text_in_html(hostile, tmp_path):
    text = write(hostile, "html", tmp_path).read_text(encoding="utf-8")
    root = html_as_xml(text)
    assert not {e.tag for e in root.iter()} & {"script", "img", "b", "link", "iframe", "object"}
    for e in root.iter():
        assert not any(name.startswith("on") for name in e.attrib)
        for name in ("href", "src"):
            assert e.get(name) is None or e.get(name).startswith("#")
    body = all_text(root.find("body"))
    assert "<script>alert(1)</script> [bold]rich[/bold] [x](http://evil.example/x)" in body
    assert visible(HOSTILE_THEME) in body and visible(HOSTILE_CODE) in body
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    # survey text is the only place a web address appears, and there only as escaped text
    for m in re.finditer(r"https?://", text):
        before = text[:m.start()]
        assert before.rfind(">") > before.rfind("<"), text[m.start() - 80:m.end() + 20]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


# -- a real browser ------------------------------------------------------------------------------


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def run_chromium(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    binary = chromium()
    if binary is None:
        pytest.skip("no Chromium here (Debian: apt-get install chromium); the HTML was checked as XML only")
    home = tmp_path / "chromium-home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home), "XDG_CACHE_HOME": str(home)}
    # Network off: no name resolves, every request would go to a proxy that is not there, and
    # nothing runs in the background.
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update", "--no-first-run",
               "--disable-sync", "--disable-extensions", "--disable-default-apps",
               "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", *args, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, env=env)


def png_pixels(data: bytes) -> tuple[int, int, list[bytes], int]:
    """Decode an 8-bit RGB/RGBA PNG with the standard library: (width, height, rows, bytes per pixel)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = ihdr
    assert depth == 8 and colour in (2, 6) and interlace == 0, ihdr
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def test_html_report_in_a_real_browser(project, tmp_path):
    build_map(project)
    page = write(project, "html", tmp_path)
    shot = tmp_path / "report.png"
    result = run_chromium(page, tmp_path, f"--screenshot={shot}", "--window-size=1200,1600",
                          "--hide-scrollbars")
    assert shot.is_file(), result.stderr[-2000:]
    width, height, rows, bpp = png_pixels(shot.read_bytes())
    assert (width, height) == (1200, 1600)
    pixels = [row[i:i + 3] for row in rows[::4] for i in range(0, len(row), bpp * 4)]
    background = max(set(pixels), key=pixels.count)
    painted = sum(1 for p in pixels if p != background) / len(pixels)
    assert len(set(pixels)) > 50 and painted > 0.03, (len(set(pixels)), painted)
    # the map's dark overarching box is drawn (#1f3a5f)
    assert any(abs(p[0] - 0x1f) < 8 and abs(p[1] - 0x3a) < 8 and abs(p[2] - 0x5f) < 8 for p in pixels)
    dom = run_chromium(page, tmp_path, "--dump-dom").stdout
    for name in ("Recovery as a relationship", "Trust is slow to build", "Honesty is risky",
                 "Rules and autonomy", "Miscellaneous", "limits of confidentiality"):
        assert name in dom
    assert "<svg" in dom and "I'd be honest with Zoë that I can't keep it to myself" in dom


def test_hostile_html_in_a_real_browser(hostile, tmp_path):
    page = write(hostile, "html", tmp_path)
    dom = run_chromium(page, tmp_path, "--dump-dom").stdout
    assert "</html>" in dom
    assert "<script" not in dom and "<img" not in dom and "<b>" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom


@pytest.mark.skipif(not os.environ.get("TUIQA_MERMAID_JS"),
                    reason="set TUIQA_MERMAID_JS to a mermaid.min.js to render the Mermaid map")
def test_hostile_mermaid_renders_in_a_browser(hostile, tmp_path):
    """Mermaid itself draws every hostile label as written (needs Chromium and mermaid.min.js)."""
    source = write(hostile, "mermaid", tmp_path).read_text(encoding="utf-8")
    script = Path(os.environ["TUIQA_MERMAID_JS"]).resolve()
    page = tmp_path / "mermaid.html"
    page.write_text(f"""<!DOCTYPE html><html><head><meta charset="utf-8"><script src="{script.as_uri()}">
</script></head><body><pre class="mermaid">{html_escape_text(source)}</pre><script>
mermaid.initialize({{startOnLoad: false, securityLevel: "strict"}});
mermaid.run().then(() => document.body.setAttribute("data-done", "1"),
                   e => document.body.setAttribute("data-error", String(e)));
</script></body></html>""", encoding="utf-8")
    dom = run_chromium(page, tmp_path, "--virtual-time-budget=15000",
                       "--allow-file-access-from-files", "--dump-dom").stdout
    assert 'data-done="1"' in dom and "Syntax error" not in dom
    labels = [html.unescape(re.sub(r"<br\s*/?>", " ", m))
              for m in re.findall(r'class="nodeLabel"[^>]*><p>(.*?)</p>', dom)]
    assert f"OVERARCHING: {visible(HOSTILE_THEME)} 1 code · 1 extract · 1 participant" in labels
    assert f"{visible(HOSTILE_CODE)} (1)" in labels


# -- one layer, and counts that add up (#14 item 5) ----------------------------------------------

COUNTS = re.compile(r"(\d+) extracts? from (\d+) answers? by (\d+) participants? \((.+)\)\*$")


def md_sections(text: str) -> list[dict]:
    """Each heading of a Markdown write-up with its summary line and the quotes directly under it."""
    sections: list[dict] = []
    for line in text.splitlines():
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            sections.append({"level": level, "name": line[level + 1:], "summary": None, "quotes": []})
        elif sections and line.startswith("*") and sections[-1]["summary"] is None:
            sections[-1]["summary"] = line
        elif line.startswith("> "):
            sections[-1]["quotes"].append(line[2:])
    return sections


def check_counts_add_up(text: str, whose: str) -> int:
    """Every summary's counts equal what is listed under its heading; returns how many checked."""
    sections = md_sections(text)
    checked = 0
    for i, s in enumerate(sections):
        m = COUNTS.search(s["summary"] or "")
        if not m:
            continue
        listed = list(s["quotes"])
        for later in sections[i + 1:]:
            if later["level"] <= s["level"]:
                break
            listed += later["quotes"]
        pids = {re.search(r"\((P\d+)", q).group(1) for q in listed}
        assert int(m.group(1)) == len(listed), (s["name"], s["summary"], len(listed))
        assert int(m.group(3)) == len(pids), (s["name"], s["summary"], pids)
        assert m.group(4) == whose, s["summary"]
        checked += 1
    return checked


@pytest.fixture
def double_coded(project):
    """The sample with its map, and a second coder (kit) who coded exactly lead's spans, plus one
    passage of their own."""
    build_map(project)
    kit = Session(project, "kit")
    for c in sorted(project.all_codings(), key=lambda c: c.id):
        if c.coder == "lead":
            kit.apply_codes(c.response_id, c.start, c.end, [c.code_id])
    hope = cid(project, "hope")
    r = next(r for r in project.responses.values()
             if not project.codings_for(r.id) and len(r.text) > 20)
    kit.apply_codes(r.id, 0, 12, [hope])
    return project, r


def test_two_coders_on_the_same_spans_quote_one_layer_and_counts_add_up(double_coded, tmp_path):
    project, kit_only = double_coded
    text = write(project, "markdown", tmp_path).read_text(encoding="utf-8")
    assert "Quotes and counts are lead's codings (the project's primary layer)." in text
    quotes = [line for line in text.splitlines() if line.startswith("> ")]
    lead_only = sum(len({(c.response_id, c.start, c.end) for c in extracts_of(project, code.id, "lead")})
                    for code in project.codes()) + 4  # hope sits under two themes
    assert len(quotes) == lead_only == expected_quotes_of(project, "lead")
    # the same passage coded by both is quoted once under its code
    for s in md_sections(text):
        assert len(s["quotes"]) == len(set(s["quotes"])), s["name"]
    assert check_counts_add_up(text, "lead's codings") >= 12
    assert "*Latent code · 4 extracts from 4 answers by 3 participants (lead's codings)*" in text
    assert kit_only.text[:12].strip() not in text
    total = re.search(r"(\d+) quotes from (\d+) answers by (\d+) of the (\d+) participants", text)
    assert int(total.group(1)) == len(quotes) and int(total.group(4)) == len(project.participants)

    # --coder picks another layer; the primary layer is a setting
    kit = write(project, "markdown", tmp_path, coder="kit").read_text(encoding="utf-8")
    assert "Quotes and counts are kit's codings (chosen for this export)." in kit
    assert kit_only.text[:12].strip() in kit and check_counts_add_up(kit, "kit's codings") >= 12
    settings.set_value(project, "primary-layer", "kit", "lead")
    assert kit_only.text[:12].strip() in html.unescape(write(project, "html", tmp_path).read_text(encoding="utf-8"))


def expected_quotes_of(project, coder: str) -> int:
    counts = layers.counts(project, layers.Layer(coder))
    return sum(n.extracts for n in counts.values()) + counts[cid(project, "hope")].extracts


def test_consensus_layer_falls_back_to_a_coder(double_coded, tmp_path):
    project, kit_only = double_coded
    hope = cid(project, "hope")
    item = Disagreement(kit_only.id, hope, PRESENCE,
                        {"lead": [], "kit": project.codings_for(kit_only.id, "kit")})
    Session(project, "lead").resolve_disagreement(item, "keep:kit")
    settings.set_value(project, "primary-layer", "consensus+lead", "lead")
    text = write(project, "markdown", tmp_path).read_text(encoding="utf-8")
    assert "the team's resolution where coders disagreed, lead's codings everywhere else" in text
    whose = "consensus layer, else lead's codings"
    assert check_counts_add_up(text, whose) >= 12
    assert kit_only.text[:12].strip() in text  # resolved: kit's version was kept
    assert f"5 extracts from 5 answers by 4 participants ({whose})" in text  # hope: lead's 4 + 1
    # the codebook, the map pictures and the HTML count the same layer and say so
    rows = list(csv.DictReader(io.StringIO(write(project, "codebook-csv", tmp_path)
                                           .read_text(encoding="utf-8-sig"))))
    hope_row = next(r for r in rows if r["name"] == "hope")
    assert (hope_row["extracts"], hope_row["answers"], hope_row["counted_in"]) == ("5", "5", whose)
    assert "hope (5)" in write(project, "mermaid", tmp_path).read_text(encoding="utf-8")
    assert whose in html.unescape(write(project, "svg", tmp_path).read_text(encoding="utf-8"))
    html_text = html.unescape(write(project, "html", tmp_path).read_text(encoding="utf-8"))
    assert f"5 extracts from 5 answers by 4 participants ({whose})" in html_text


def test_layer_counts_for_screens(double_coded):
    """The core function screens call for counts in a layer: per code, each passage once."""
    project, kit_only = double_coded
    hope = cid(project, "hope")
    lead = layers.counts(project, layers.Layer("lead"))[hope]
    kit = layers.counts(project, layers.primary_layer(project) and layers.Layer("kit"))[hope]
    assert (lead.extracts, lead.answers, lead.participants) == (4, 4, 3)
    assert (kit.extracts, kit.answers) == (5, 5) and kit_only.id in kit.answer_ids
    assert layers.primary_layer(project) == layers.Layer("lead")  # the first coder, until set
    m = T.build(project)
    trust = next(n for n in m.by_id.values() if n.theme.name == "Trust is slow to build")
    assert T.counts(project, m, layers.Layer("lead"))[trust.id].extracts == 15
    assert T.counts(project, m)[trust.id].extracts == 31  # every coder's, as screens count today


# -- the write-up's title, authors and date; one heading per idea (#15 items 11, 12) -------------


def test_title_authors_and_date_from_the_settings(project, tmp_path):
    docx = pytest.importorskip("docx")
    build_map(project)
    doc = docx.Document(str(write(project, "docx", tmp_path)))
    assert doc.paragraphs[0].text == "sample"  # the project's name until a title is set
    assert doc.core_properties.title == "sample"
    assert doc.core_properties.author == "" and doc.core_properties.last_modified_by == ""
    settings.set_value(project, "title", "Hope at work: support staff on recovery", "lead")
    settings.set_value(project, "authors", "A. Smith, B. Jones", "lead")
    settings.set_value(project, "date", "2026-11-28", "lead")
    doc = docx.Document(str(write(project, "docx", tmp_path)))
    props = doc.core_properties
    assert (props.title, props.author) == ("Hope at work: support staff on recovery", "A. Smith, B. Jones")
    assert props.created.date().isoformat() == "2026-11-28"
    assert [p.text for p in doc.paragraphs[:2]] == ["Hope at work: support staff on recovery",
                                                    "A. Smith, B. Jones · 2026-11-28"]
    md = write(project, "markdown", tmp_path).read_text(encoding="utf-8")
    assert md.startswith("# Hope at work: support staff on recovery\n\nA. Smith, B. Jones · 2026-11-28\n")
    page = html_as_xml(write(project, "html", tmp_path).read_text(encoding="utf-8"))
    assert page.find("head/title").text == "Hope at work: support staff on recovery"
    assert {m.get("name"): m.get("content") for m in page.iter("meta")}["author"] == "A. Smith, B. Jones"
    assert all_text(page.find("body/header")).startswith(
        "Hope at work: support staff on recovery A. Smith, B. Jones · 2026-11-28")


def test_a_theme_whose_only_code_has_its_name_is_one_heading(project, tmp_path):
    build_map(project)
    s = Session(project, "lead")
    _, theme = s.create_theme("harm reduction")
    s.assign_codes(theme, [cid(project, "harm reduction")])
    text = write(project, "markdown", tmp_path).read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings.count("## harm reduction") == 1 and "### harm reduction" not in headings
    section = text[text.index("## harm reduction"):]
    section = section[:section.index("\n## ", 1)]
    n = code_stats(project)[cid(project, "harm reduction")].extracts
    assert n > 0 and section.count("\n> ") == n
    assert f"*Theme · 1 code · {n} extracts" in section
    page = html_as_xml(write(project, "html", tmp_path).read_text(encoding="utf-8"))
    names = [all_text(e) for e in page.iter() if re.fullmatch(r"h[1-6]", e.tag)]
    assert names.count("theme harm reduction") == 1 and "code harm reduction" not in names


# -- quoting many extracts at once gives what quoting each gives ---------------------------------

from hypothesis import given, settings as hsettings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tuiqa.exporters.report import clean, flat, flat_many, quoted_extracts  # noqa: E402
from tuiqa.quotes import quote  # noqa: E402

TRICKY = st.text(alphabet=st.sampled_from(list("ab \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x00\x07\x85\u2028"
                                               "\u2029\u202e\u00a0\u3000\"'\u201c\u201d\u2018\u2019"
                                               "\u201e\u00ab\u00bb😀")), max_size=30)


@hsettings(max_examples=300, deadline=None)
@given(st.lists(TRICKY, max_size=6))
def test_batch_quoting_is_exactly_quoting_each(raws):
    assert quoted_extracts(raws) == [quote(clean(r), "") for r in raws]
    assert flat_many(raws) == [flat(r) for r in raws]


@hsettings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1Z #\\`*_[]<|~&$\n\x1f")), max_size=40))
def test_markdown_escaping_of_single_characters(text):
    """What Markdown acts on, escaped; a # before a letter or digit (a colour, a hashtag) kept."""
    from tuiqa.exporters.report import _md_escape_chars

    assert _md_escape_chars(text) == re.sub(r"[\\`*_\[\]<|~&$]|#(?![0-9A-Za-z])", r"\\\g<0>", text)
