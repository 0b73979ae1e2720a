"""The write-up (phase 6): the thematic map as a document, theme by theme, with attributed quotes.

:func:`outline` walks the map once, in the order a write-up reads: overarching themes → themes →
sub-themes, each followed by its codes and their extracts, then the miscellaneous and unassigned
codes, then the participants' attributes. It yields plain entries whose text is already cleaned of
characters no document format can hold; the Markdown and Word writers here and the HTML writer in
:mod:`.picture` only turn those entries into their format, escaping as that format needs.

The codebook exports (``codebook-csv``, ``codebook-md``) list every code with its counts, themes
and one example extract.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Union

from .. import themes as T
from ..codebook import CodeStats, code_stats, extracts_of
from ..colours import colour_for
from ..csvsafe import escape as csv_escape
from ..model import Code
from ..project import Project
from ..quotes import quote as format_quote
from ..session import Session
from . import ExportContext, ExportError, register

MAX_HEADING = 6  # Markdown and HTML stop at six levels; Word goes deeper but need not

MISC_NOTE = "Codes kept for later: they fit no theme (yet)."
UNASSIGNED_NOTE = "These codes are not yet placed under any theme, nor parked in miscellaneous."


# -- clean text ----------------------------------------------------------------------------------

# C0 controls except tab and newline, DEL, C1 controls, the two non-characters XML forbids and lone
# surrogates: Word's XML cannot hold them, and in text files they only ever do harm (an escape
# sequence in a Markdown file moves the cursor of whoever runs `cat` on it). Also the invisible
# bidirectional overrides and isolates: an unclosed one in a quote would show the attribution
# after it reversed (the words themselves are unchanged without them).
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
                     "\ufffe\uffff\ud800-\udfff]")
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x85]")


def clean(text: str | None) -> str:
    """Text safe to put in any document: line breaks are ``\\n``, control characters are gone."""
    if not text:
        return ""
    return _UNSAFE.sub("", _LINE_BREAKS.sub("\n", text))


def flat(text: str | None) -> str:
    """Cleaned and on one line (names, headings, table cells)."""
    return " ".join(clean(text).split())


# -- the walk ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    text: str          # the whole quote as Session.quote gives it: "extract" (attribution)
    extract: str       # the extract in quote marks, on one line
    attribution: str   # e.g. (P7: Community support worker, 2 years)


@dataclass(frozen=True)
class Title:
    text: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class ThemeEntry:
    heading: int       # heading level (the title is 1)
    theme_id: str
    name: str
    level: str         # themes.OVERARCHING, THEME or SUBTHEME
    status: str
    description: str
    concept: str
    counts: T.Counts

    @property
    def summary(self) -> str:
        status = "" if self.status in ("", "candidate") else f" · {self.status}"
        c = self.counts
        return (f"{self.level[:1].upper()}{self.level[1:]}{status} · {T.plural(c.codes, 'code')}, "
                f"{T.plural(c.extracts, 'extract')}, {T.plural(c.participants, 'participant')}")


@dataclass(frozen=True)
class Section:
    heading: int
    key: str           # "miscellaneous", "unassigned" or "participants"
    title: str
    note: str


@dataclass(frozen=True)
class CodeEntry:
    heading: int
    code_id: str
    name: str
    kind: str
    description: str
    colour: str
    stats: CodeStats
    quotes: tuple[Quote, ...]

    @property
    def summary(self) -> str:
        s = self.stats
        return (f"{self.kind.capitalize()} code · {T.plural(s.extracts, 'extract')} from "
                f"{T.plural(s.participants, 'participant')}")


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Entry = Union[Title, ThemeEntry, Section, CodeEntry, Table]


def project_title(project: Project) -> str:
    return flat(project.dir.name) or "project"


def theme_path(theme_map: T.ThemeMap, theme_id: str) -> str:
    """``Overarching > Theme > Sub-theme`` for a theme."""
    names: list[str] = []
    node = theme_map.by_id.get(theme_id)
    seen: set[str] = set()
    while node is not None and node.id not in seen:
        seen.add(node.id)
        names.append(node.theme.name)
        parent = node.theme.parent_id
        node = theme_map.by_id.get(parent) if parent else None
    return " > ".join(reversed(names))


class _Quoter:
    """Attributed quotes for a code's extracts, in reading order, each extract once."""

    def __init__(self, project: Project, ctx: ExportContext) -> None:
        self.project = project
        self.coder = ctx.coder
        self.session = Session(project, ctx.session_coder)
        self._attribution: dict[str, str] = {}

    def attribution(self, response_id: str) -> str:
        # The attribution depends on the participant only: work it out once per participant.
        response = self.project.responses[response_id]
        found = self._attribution.get(response.participant_id)
        if found is None:
            found = self._attribution[response.participant_id] = clean(
                self.session.attribution(response))
        return found

    def quotes(self, code_id: str, limit: int | None = None) -> tuple[Quote, ...]:
        out: list[Quote] = []
        seen: set[tuple[str, int, int]] = set()
        for c in extracts_of(self.project, code_id, self.coder):
            key = (c.response_id, c.start, c.end)
            # With every coder's work, two coders (or the consensus layer) on the same extract
            # make one quote, not two.
            if key in seen or c.response_id not in self.project.responses:
                continue
            seen.add(key)
            extract = clean(self.project.responses[c.response_id].text[c.start:c.end])
            attribution = self.attribution(c.response_id)
            # quotes.quote is what Session.quote does: the same words, from cleaned text
            out.append(Quote(format_quote(extract, attribution), format_quote(extract, ""),
                             attribution))
            if limit is not None and len(out) >= limit:
                break
        return tuple(out)


def outline(project: Project, ctx: ExportContext) -> Iterator[Entry]:
    """The write-up in reading order; ``ctx.step`` is called as it goes (and may cancel)."""
    theme_map = T.build(project)
    counts = T.counts(project, theme_map, ctx.coder)
    stats = code_stats(project, ctx.coder)
    quoter = _Quoter(project, ctx)
    total = sum(len(n.code_ids) for root in theme_map.roots for n in root.walk()) \
        + len(theme_map.miscellaneous) + len(theme_map.unassigned)
    done = 0

    def code_entry(code: Code, heading: int) -> CodeEntry:
        nonlocal done
        if done % 10 == 0:
            ctx.step(done, total)
        done += 1
        return CodeEntry(min(heading, MAX_HEADING), code.id, flat(code.name), code.kind or "semantic",
                         clean(code.description).strip(), colour_for(code.id, code.colour or ""),
                         stats.get(code.id) or CodeStats(code), quoter.quotes(code.id))

    lines = [f"{T.plural(len(theme_map.by_id), 'theme')} (all levels), "
             f"{T.plural(len(stats), 'code')}, {T.plural(len(project.participants), 'participant')}"]
    lines.append(f"Codings by {ctx.coder} only" if ctx.coder else "Codings by every coder")
    yield Title(f"Thematic analysis: {project_title(project)}", tuple(lines))

    def walk(node: T.Node) -> Iterator[Entry]:
        t = node.theme
        heading = min(2 + node.depth, MAX_HEADING)
        yield ThemeEntry(heading, t.id, flat(t.name), node.level, t.status or "",
                         clean(t.description).strip(), clean(t.concept).strip(),
                         counts.get(t.id, T.Counts(0, 0, 0)))
        for cid in node.code_ids:
            code = project.code(cid)
            if code is not None:
                yield code_entry(code, heading + 1)
        for child in node.children:
            yield from walk(child)

    for root in theme_map.roots:
        yield from walk(root)
    for key, title, note, codes in (
            ("miscellaneous", "Miscellaneous", MISC_NOTE, theme_map.miscellaneous),
            ("unassigned", "Unassigned codes", UNASSIGNED_NOTE, theme_map.unassigned)):
        if not codes:
            continue
        yield Section(2, key, title, note)
        for code in codes:
            yield code_entry(code, 3)
    ctx.step(total, total)
    yield Section(2, "participants", "Participants", "")
    attributes = list(project.attributes)
    yield Table(("Participant", *(flat(a) for a in attributes)),
                tuple((flat(p.pid), *(flat(p.attrs.get(a, "")) for a in attributes))
                      for p in project.participants_in_order()))


# -- Markdown ------------------------------------------------------------------------------------

# Characters escaped wherever they are: emphasis, code, links, images, raw HTML, entities, tables,
# strike-through, maths (GitHub renders $…$), and a # that could open or close a heading (one
# followed by a letter or digit, as in a colour or a hashtag, cannot, so it is left alone).
_MD_SPECIAL = re.compile(r"[\\`*_\[\]<|~&$]|#(?![0-9A-Za-z])")
# At the start of a line: block quotes, setext underlines, list items, thematic breaks.
_MD_MARKER = re.compile(r"[>=]|[-+](?=\s|$|-)")
_MD_NUMBERED = re.compile(r"(\d{1,9})([.)])(?=\s|$)")


def _md_line_start(line: str) -> str:
    m = _MD_NUMBERED.match(line)
    if m:
        return m.group(1) + "\\" + line[len(m.group(1)):]
    if _MD_MARKER.match(line):
        return "\\" + line
    return line


def md_escape(text: str) -> str:
    """Text that Markdown shows as it is: no headings, links, HTML, lists or emphasis from it."""
    return "\n".join(_md_line_start(_MD_SPECIAL.sub(r"\\\g<0>", line.strip()))
                     for line in clean(text).split("\n"))


def md_line(text: str) -> str:
    return md_escape(flat(text))


def md_paragraphs(text: str) -> str:
    return md_escape(text)


def _md_table(headers: tuple[str, ...], rows) -> list[str]:
    out = ["| " + " | ".join(md_line(h) or " " for h in headers) + " |",
           "|" + "|".join(" --- " for _ in headers) + "|"]
    for row in rows:
        out.append("| " + " | ".join(md_line(v) for v in row) + " |")
    return out


def markdown_text(project: Project, ctx: ExportContext) -> str:
    out: list[str] = []
    for entry in outline(project, ctx):
        if isinstance(entry, Title):
            out += [f"# {md_line(entry.text)}", ""]
            out += [md_line(line) + "  " for line in entry.lines[:-1]] + [md_line(entry.lines[-1]), ""]
        elif isinstance(entry, ThemeEntry):
            out += ["#" * entry.heading + " " + md_line(entry.name), "", f"*{md_line(entry.summary)}*", ""]
            if entry.description:
                out += [md_paragraphs(entry.description), ""]
            if entry.concept:
                out += [f"**Central organising concept:** {md_line(entry.concept)}", ""]
        elif isinstance(entry, Section):
            out += ["#" * entry.heading + " " + md_line(entry.title), ""]
            if entry.note:
                out += [f"*{md_line(entry.note)}*", ""]
        elif isinstance(entry, CodeEntry):
            out += ["#" * entry.heading + " " + md_line(entry.name), "", f"*{md_line(entry.summary)}*", ""]
            if entry.description:
                out += [md_paragraphs(entry.description), ""]
            for q in entry.quotes:
                out += ["> " + md_line(q.text), ""]
            if not entry.quotes:
                out += ["*No extracts.*", ""]
        elif isinstance(entry, Table):
            out += _md_table(entry.headers, entry.rows) + [""]
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


@register("markdown", "md", "the write-up: themes with descriptions and attributed quotes")
def write_markdown(project: Project, out: Path, ctx: ExportContext) -> None:
    ctx.save(out, markdown_text(project, ctx))


# -- Word ----------------------------------------------------------------------------------------


def docx_bytes(project: Project, ctx: ExportContext) -> bytes:
    try:
        import docx
    except ModuleNotFoundError:  # pragma: no cover - a declared dependency
        raise ExportError("Word export needs python-docx: pip install python-docx") from None

    from docx.oxml.ns import qn
    from lxml import etree  # python-docx's own XML library

    doc = docx.Document()
    styles = doc.styles
    heading = {n: styles[f"Heading {n}"].style_id for n in range(1, 10)}
    quote_style, normal = styles["Quote"].style_id, styles["Normal"].style_id
    props = doc.core_properties
    props.author = props.last_modified_by = flat(ctx.session_coder)
    props.comments = ""
    props.title = f"Thematic analysis: {project_title(project)}"
    body = doc.element.body
    end = body.sectPr  # paragraphs go before the section properties, which end the body
    W_P, W_PPR, W_PSTYLE, W_VAL, W_R, W_RPR, W_B, W_I, W_T, W_BR = (
        qn(t) for t in ("w:p", "w:pPr", "w:pStyle", "w:val", "w:r", "w:rPr", "w:b", "w:i", "w:t",
                        "w:br"))
    SPACE = "{http://www.w3.org/XML/1998/namespace}space"
    sub = etree.SubElement

    def add_paragraph(style_id: str, *runs: tuple[str, str]) -> None:
        """A paragraph of runs (text, "b" bold / "i" italic / ""); a \n in a run breaks the line.

        Written as XML directly: python-docx's add_paragraph looks for the end of the body from
        the start on every call, and its runs cost a function call per character, which turn a
        write-up of 150,000 quotes from seconds into hours."""
        p = etree.Element(W_P)
        sub(sub(p, W_PPR), W_PSTYLE).set(W_VAL, style_id)
        for text, fmt in runs:
            r = sub(p, W_R)
            if fmt:
                rpr = sub(r, W_RPR)
                sub(rpr, W_B if fmt == "b" else W_I)
            for i, line in enumerate(text.split("\n")):
                if i:
                    sub(r, W_BR)
                t = sub(r, W_T)
                t.text = line
                if line != line.strip():
                    t.set(SPACE, "preserve")
        if end is not None:
            end.addprevious(p)
        else:
            body.append(p)

    def para(text: str, *, label: str = "", italic: bool = False) -> None:
        """A paragraph per blank-line-separated block; single line breaks kept as breaks."""
        for i, block in enumerate(re.split(r"\n\s*\n", text.strip())):
            lines = "\n".join(" ".join(line.split()) for line in block.split("\n"))
            runs = [(label, "b")] if label and i == 0 else []
            add_paragraph(normal, *runs, (lines, "i" if italic else ""))

    def quote(q: Quote) -> None:
        attribution = [(" " + q.attribution, "")] if q.attribution else []
        add_paragraph(quote_style, (q.extract, ""), *attribution)

    for entry in outline(project, ctx):
        if isinstance(entry, Title):
            doc.add_heading(entry.text, 0)
            for line in entry.lines:
                para(line, italic=True)
        elif isinstance(entry, Section):
            add_paragraph(heading[entry.heading - 1], (entry.title, ""))
            if entry.note:
                para(entry.note, italic=True)
        elif isinstance(entry, ThemeEntry):
            add_paragraph(heading[entry.heading - 1], (entry.name, ""))
            para(entry.summary, italic=True)
            if entry.description:
                para(entry.description)
            if entry.concept:
                para(entry.concept, label="Central organising concept: ")
        elif isinstance(entry, CodeEntry):
            add_paragraph(heading[entry.heading - 1], (entry.name, ""))
            para(entry.summary, italic=True)
            if entry.description:
                para(entry.description)
            for q in entry.quotes:
                quote(q)
            if not entry.quotes:
                para("No extracts.", italic=True)
        elif isinstance(entry, Table):
            _docx_table(doc, entry)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _docx_table(doc, entry: Table) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    table = doc.add_table(rows=1, cols=len(entry.headers))
    table.style = doc.styles["Table Grid"]
    header = table.rows[0]
    for cell, text in zip(header.cells, entry.headers):
        cell.paragraphs[0].add_run(text).bold = True
    # the header row repeats on every page the table runs onto
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header._tr.get_or_add_trPr().append(repeat)
    for row in entry.rows:
        for cell, text in zip(table.add_row().cells, row):
            cell.text = text


@register("docx", "docx", "the write-up as a Word document (real headings and quote styles)")
def write_docx(project: Project, out: Path, ctx: ExportContext) -> None:
    ctx.save(out, docx_bytes(project, ctx))


# -- the codebook --------------------------------------------------------------------------------

CODEBOOK_COLUMNS = ["name", "kind", "description", "colour", "extracts", "responses", "participants",
                    "created_by", "themes", "example"]


@dataclass(frozen=True)
class CodebookRow:
    code: Code
    stats: CodeStats
    colour: str
    themes: tuple[str, ...]   # theme paths, sorted
    example: Quote | None


def codebook_rows(project: Project, ctx: ExportContext) -> list[CodebookRow]:
    theme_map = T.build(project)
    stats = code_stats(project, ctx.coder)
    quoter = _Quoter(project, ctx)
    codes = project.codes()
    rows = []
    for i, code in enumerate(codes):
        if i % 50 == 0:
            ctx.step(i, len(codes))
        example = quoter.quotes(code.id, limit=1)
        rows.append(CodebookRow(code, stats.get(code.id) or CodeStats(code),
                                colour_for(code.id, code.colour or ""),
                                tuple(sorted(theme_path(theme_map, t)
                                             for t in theme_map.themes_of_code.get(code.id, []))),
                                example[0] if example else None))
    ctx.step(len(codes), len(codes))
    return rows


@register("codebook-csv", "csv", "the codebook as a spreadsheet: one row per code")
def write_codebook_csv(project: Project, out: Path, ctx: ExportContext) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CODEBOOK_COLUMNS)
    for row in codebook_rows(project, ctx):
        c, s = row.code, row.stats
        values = [c.name, c.kind or "semantic", c.description or "", row.colour, str(s.extracts),
                  str(s.responses), str(s.participants), c.created_by or "", " ; ".join(row.themes),
                  row.example.text if row.example else ""]
        writer.writerow([csv_escape(v) for v in values])
    # UTF-8 with a BOM, so Excel opens curly quotes and accents correctly
    ctx.save(out, "\ufeff" + buf.getvalue())


@register("codebook-md", "md", "the codebook as a document: codes, counts, themes, examples")
def write_codebook_md(project: Project, out: Path, ctx: ExportContext) -> None:
    rows = codebook_rows(project, ctx)
    out_lines = [f"# Codebook: {md_line(project_title(project))}", "",
                 md_line(f"{T.plural(len(rows), 'code')}; "
                         + (f"codings by {ctx.coder} only" if ctx.coder else "codings by every coder")),
                 ""]
    out_lines += _md_table(("Code", "Kind", "Extracts", "Responses", "Participants", "Themes"),
                           [(r.code.name, r.code.kind or "semantic", str(r.stats.extracts),
                             str(r.stats.responses), str(r.stats.participants),
                             " ; ".join(r.themes) or "—") for r in rows])
    out_lines.append("")
    for r in rows:
        c, s = r.code, r.stats
        out_lines += [f"## {md_line(c.name)}", ""]
        facts = (f"{(c.kind or 'semantic').capitalize()} code · colour {r.colour} · "
                 f"{T.plural(s.extracts, 'extract')} in {T.plural(s.responses, 'response')} from "
                 f"{T.plural(s.participants, 'participant')}")
        if c.created_by:
            facts += f" · created by {c.created_by}"
        out_lines += [f"*{md_line(facts)}*", ""]
        description = clean(c.description).strip()
        out_lines += [md_paragraphs(description) if description else "*No description yet.*", ""]
        if r.themes:
            out_lines += ["**Themes:** " + md_line(" ; ".join(r.themes)), ""]
        elif c.parked:
            out_lines += ["**Themes:** none (miscellaneous)", ""]
        else:
            out_lines += ["**Themes:** none (unassigned)", ""]
        if r.example:
            out_lines += ["**Example:**", "", "> " + md_line(r.example.text), ""]
    while out_lines and not out_lines[-1]:
        out_lines.pop()
    ctx.save(out, "\n".join(out_lines) + "\n")
