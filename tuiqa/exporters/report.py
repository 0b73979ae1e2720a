"""The write-up (phase 6): the thematic map as a document, theme by theme, with attributed quotes.

A write-up is one analysis, so it quotes one coder layer (:mod:`tuiqa.layers`): the project's
primary layer, or the one ``--coder`` names. Every count in it says what it counts (extracts,
answers, participants, and whose codings) and equals what is listed under it.

:func:`outline` walks the map once, in the order a write-up reads: overarching themes → themes →
sub-themes, each followed by its codes and their extracts, then the miscellaneous and unassigned
codes, then the participants' attributes. It yields plain entries whose text is already cleaned of
characters no document format can hold; the Markdown and Word writers here and the HTML writer in
:mod:`.picture` only turn those entries into their format, escaping as that format needs (a
code's quotes in one pass each: a write-up can hold 100,000 of them).

The codebook exports (``codebook-csv``, ``codebook-md``) list every code with its counts in the
same layer, its themes and one example extract.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, NamedTuple, Union

from .. import layers, quotes, settings
from .. import themes as T
from ..colours import colour_for
from ..csvsafe import escape as csv_escape
from ..layers import EMPTY, Layer, LayerCount
from ..model import Code
from ..project import Project, name_key
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
_UNSAFE_CHARS = ("\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
                 "\ufffe\uffff\ud800-\udfff")
_UNSAFE = re.compile(f"[{_UNSAFE_CHARS}]")
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x85]")


def clean(text: str | None) -> str:
    """Text safe to put in any document: line breaks are ``\\n``, control characters are gone."""
    if not text:
        return ""
    return _UNSAFE.sub("", _LINE_BREAKS.sub("\n", text))


def flat(text: str | None) -> str:
    """Cleaned and on one line (names, headings, table cells)."""
    return " ".join(clean(text).split())


# Quoting many extracts at once: they are joined by a separator that cleaning keeps (and
# nothing else can contain, since cleaning removes every other such character), cleaned and
# flattened in one pass each, and split again.
_SEP = "\x1f"
# what clean() removes, but the separator, and NEL (a line break: flattened to a space below)
_UNSAFE_BUT_SEP = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1e\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069"
                             "\ufffe\uffff\ud800-\udfff]")
# white space other than a space (each becomes one), then runs of spaces (one is kept): two
# quick passes, where one pattern for both would stop at every space
_OTHER_SPACE = re.compile(r"[^\S \x1f]")
_SPACES = re.compile(" {2,}")
_MARKS = re.compile('["\u201c\u201d\u201e\u00ab\u00bb]')


def flat_many(values: list[str]) -> list[str]:
    """:func:`flat` of each value, in a few passes over them all."""
    if not values:
        return []
    joined = _SEP.join(values)
    if joined.count(_SEP) != len(values) - 1:  # a value holds the separator itself: one by one
        return [flat(v) for v in values]
    blob = _OTHER_SPACE.sub(" ", _UNSAFE_BUT_SEP.sub("", joined))
    if "  " in blob:
        blob = _SPACES.sub(" ", blob)
    return [piece.strip(" ") for piece in blob.split(_SEP)]


def quoted_extracts(raws: list[str]) -> list[str]:
    """Each raw extract cleaned, on one line and in quotation marks: exactly
    ``quotes.quote(clean(raw), "")`` for each, in a few passes over them all."""
    out = []
    for piece in flat_many(raws):
        if _MARKS.search(piece) is None:
            out.append(f'"{piece}"')
        else:
            out.append(quotes.quote(piece, ""))
    return out


# -- the walk ------------------------------------------------------------------------------------


class Quote(NamedTuple):
    text: str          # the whole quote as Session.quote gives it: "extract" (attribution)
    extract: str       # the extract in quote marks, on one line
    attribution: str   # e.g. (P7: Community support worker, 2 years)


class Quotes:
    """A code's quotes, kept as two columns (a write-up holds tens of thousands: writers join
    them a column at a time rather than make an object per quote). Iterating gives
    :class:`Quote` objects."""

    __slots__ = ("extracts", "attributions")

    def __init__(self, extracts: tuple[str, ...] = (), attributions: tuple[str, ...] = ()) -> None:
        self.extracts = extracts
        self.attributions = attributions

    def __len__(self) -> int:
        return len(self.extracts)

    def __getitem__(self, i: int) -> Quote:
        e, a = self.extracts[i], self.attributions[i]
        return Quote(f"{e} {a}" if a else e, e, a)

    def __iter__(self) -> Iterator[Quote]:
        return (self[i] for i in range(len(self.extracts)))

    def texts(self) -> list[str]:
        """Each quote whole: ``"extract" (attribution)``."""
        if all(self.attributions):
            return list(map(" ".join, zip(self.extracts, self.attributions)))
        return [f"{e} {a}" if a else e for e, a in zip(self.extracts, self.attributions)]


@dataclass(frozen=True)
class Title:
    text: str
    authors: str
    date: str
    lines: tuple[str, ...]   # whose codings, and what the write-up holds


@dataclass(frozen=True)
class ThemeEntry:
    heading: int       # heading level (the title is 1)
    theme_id: str
    name: str
    level: str         # themes.OVERARCHING, THEME or SUBTHEME
    status: str
    description: str
    concept: str
    codes: int         # distinct codes under it (its whole subtree)
    counts: LayerCount  # their extracts (each listed under its code), answers, participants
    whose: str         # "lead's codings"

    @property
    def summary(self) -> str:
        status = "" if self.status in ("", "candidate") else f" · {self.status}"
        return (f"{self.level[:1].upper()}{self.level[1:]}{status} · {T.plural(self.codes, 'code')} · "
                + count_words(self.counts, self.whose))


def count_words(c: LayerCount, whose: str) -> str:
    """``4 extracts from 4 answers by 3 participants (lead's codings)``."""
    return (f"{T.plural(c.extracts, 'extract')} from {T.plural(c.answers, 'answer')} by "
            f"{T.plural(c.participants, 'participant')} ({whose})")


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
    counts: LayerCount
    whose: str
    quotes: Quotes
    under_theme: bool = False  # the only code of a theme of the same name: shown under the
    #                            theme's heading, with no heading (and no summary) of its own

    @property
    def summary(self) -> str:
        return f"{self.kind.capitalize()} code · " + count_words(self.counts, self.whose)


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Entry = Union[Title, ThemeEntry, Section, CodeEntry, Table]


def project_title(project: Project) -> str:
    return flat(settings.value(project, "title")) or "project"


@dataclass(frozen=True)
class Meta:
    title: str
    authors: str
    date: str

    @property
    def iso_date(self) -> _dt.date | None:
        """The date, when it is one (``2026-11-28``), for document properties."""
        try:
            return _dt.date.fromisoformat(self.date)
        except ValueError:
            return None


def meta(project: Project) -> Meta:
    """Title, authors and date of the write-up (project settings; see :mod:`tuiqa.settings`)."""
    return Meta(project_title(project), flat(settings.value(project, "authors")),
                flat(settings.value(project, "date")))


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


def whose(layer: Layer | None) -> str:
    if layer is None:
        return "no codings yet"
    if layer.coder == layers.CONSENSUS:
        return f"consensus layer, else {layer.fallback}'s codings"
    return f"{layer.coder}'s codings"


def layer_sentence(layer: Layer | None, chosen: bool) -> str:
    if layer is None:
        return "Nobody has coded anything yet."
    how = "chosen for this export" if chosen else "the project's primary layer"
    return f"{layer.describe()[:-1]} ({how})."


class _Quoter:
    """Attributed quotes for a code's extracts in the layer, in reading order, each passage once.
    One per layer and template is kept until the project changes (:meth:`Project.remember`), so
    a second export (the Word file after the HTML one) quotes nothing twice."""

    @classmethod
    def get(cls, project: Project, ctx: ExportContext, layer: Layer | None) -> _Quoter:
        template = ctx.quote_template or settings.value(project, "quote-template")
        return project.remember(("quoter", layer, template), lambda: cls(project, template, layer))

    def __init__(self, project: Project, template: str, layer: Layer | None) -> None:
        self.project = project
        self.attributor = quotes.Attributor(template, project.attributes)
        self.by_code = layers.codings(project, layer)
        self._attribution: dict[str, str] = {}  # participant id -> attribution
        self._answer: dict[str, tuple[str, str]] = {}  # response id -> (text, attribution)
        self._done: dict[str, Quotes] = {}

    def attribution(self, participant_id: str) -> str:
        found = self._attribution.get(participant_id)
        if found is None:
            part = self.project.participants.get(participant_id)
            found = self._attribution[participant_id] = \
                flat(self.attributor(part.pid, part.attrs)) if part is not None else ""
        return found

    def _answer_of(self, response_id: str) -> tuple[str, str]:
        r = self.project.responses[response_id]
        found = self._answer[response_id] = (r.text, self.attribution(r.participant_id))
        return found

    def quotes(self, code_id: str, limit: int | None = None) -> Quotes:
        found = self._done.get(code_id)
        if found is not None:
            return Quotes(found.extracts[:limit], found.attributions[:limit]) if limit else found
        codings = self.by_code.get(code_id, ())
        if limit is not None:
            codings = codings[:limit]
        answers, answer_of = self._answer, self._answer_of
        raws, attributions = [], []
        for c in codings:
            text, attribution = answers.get(c.response_id) or answer_of(c.response_id)
            raws.append(text[c.start:c.end])
            attributions.append(attribution)
        out = Quotes(tuple(quoted_extracts(raws)), tuple(attributions))
        if limit is None:
            self._done[code_id] = out
        return out


@dataclass
class _Plan:
    """What the write-up lists, in order, before anything is written (so the title can say it)."""

    items: list[tuple]          # ("theme", node, heading) / ("code", code, heading, under_theme)
    #                             / ("section", key, title, note, codes)
    code_listings: int


def _plan(project: Project, theme_map: T.ThemeMap) -> _Plan:
    items: list[tuple] = []
    listings = 0

    def walk(node: T.Node) -> None:
        nonlocal listings
        heading = min(2 + node.depth, MAX_HEADING)
        items.append(("theme", node, heading))
        codes = [c for c in (project.code(cid) for cid in node.code_ids) if c is not None]
        same = len(codes) == 1 and name_key(codes[0].name) == name_key(node.theme.name)
        for code in codes:
            items.append(("code", code, heading + 1, same))
            listings += 1
        for child in node.children:
            walk(child)

    for root in theme_map.roots:
        walk(root)
    for key, title, note, codes in (
            ("miscellaneous", "Miscellaneous", MISC_NOTE, theme_map.miscellaneous),
            ("unassigned", "Unassigned codes", UNASSIGNED_NOTE, theme_map.unassigned)):
        if codes:
            items.append(("section", key, title, note, codes))
            listings += len(codes)
    return _Plan(items, listings)


def outline(project: Project, ctx: ExportContext) -> Iterator[Entry]:
    """The write-up in reading order; ``ctx.step`` is called as it goes (and may cancel)."""
    layer = ctx.layer(project)
    theme_map = T.build(project)
    per_code = layers.counts(project, layer)
    quoter = _Quoter.get(project, ctx, layer)
    plan = _plan(project, theme_map)
    owner = whose(layer)
    total = plan.code_listings
    done = 0

    def code_entry(code: Code, heading: int, under_theme: bool = False) -> CodeEntry:
        nonlocal done
        if done % 10 == 0:
            ctx.step(done, total)
        done += 1
        return CodeEntry(min(heading, MAX_HEADING), code.id, flat(code.name), code.kind or "semantic",
                         clean(code.description).strip(), colour_for(code.id, code.colour or ""),
                         per_code.get(code.id, EMPTY), owner, quoter.quotes(code.id), under_theme)

    listed: list[str] = []
    for item in plan.items:
        if item[0] == "code":
            listed.append(item[1].id)
        elif item[0] == "section":
            listed += [c.id for c in item[4]]
    everything = layers.total(per_code, listed)
    totals: dict[frozenset[str], LayerCount] = project.remember(("theme_totals", layer), dict)

    def theme_total(ids: frozenset[str]) -> LayerCount:  # kept for the next export, too
        found = totals.get(ids)
        if found is None:
            found = totals[ids] = layers.total(per_code, ids)
        return found

    info = meta(project)
    lines = [layer_sentence(layer, chosen=bool(ctx.coder)),
             f"{T.plural(everything.extracts, 'quote')} from {T.plural(everything.answers, 'answer')} "
             f"by {everything.participants} of the {T.plural(len(project.participants), 'participant')}, "
             f"under {T.plural(len(theme_map.by_id), 'theme')} (all levels) and "
             f"{T.plural(len({*listed}), 'code')}; a code under two themes is quoted under each."]
    yield Title(info.title, info.authors, info.date, tuple(lines))

    for item in plan.items:
        if item[0] == "theme":
            node, heading = item[1], item[2]
            t = node.theme
            ids = node.all_code_ids()
            yield ThemeEntry(heading, t.id, flat(t.name), node.level, t.status or "",
                             clean(t.description).strip(), clean(t.concept).strip(), len(ids),
                             theme_total(frozenset(ids)), owner)
        elif item[0] == "code":
            yield code_entry(item[1], item[2], item[3])
        else:
            _, key, title, note, codes = item
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
_MD_SPECIAL = re.compile(r"[\\`*_\[\]<|~&$#]")  # (a # followed by a letter or digit is kept)
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _md_special(m: re.Match) -> str:
    text, end = m.string, m.end()
    if m.group() == "#" and end < len(text) and text[end] in _ALNUM:
        return "#"
    return "\\" + m.group()


def _md_escape_chars(text: str) -> str:
    """The characters Markdown would act on, escaped (one pattern of single characters: a
    pattern with a lookahead tries every position of a 10 MB write-up)."""
    return _MD_SPECIAL.sub(_md_special, text)
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
    return "\n".join(_md_line_start(_md_escape_chars(line.strip()))
                     for line in clean(text).split("\n"))


def md_line(text: str) -> str:
    return md_escape(flat(text))


def md_paragraphs(text: str) -> str:
    return md_escape(text)


def md_quotes(items: Quotes) -> str:
    """A code's quotes as block quotes, blank lines between, escaped in one pass. Each quote is
    clean and on one line already and opens with a quotation mark, so no line can start a list
    or a heading: only the characters inside need escaping."""
    return "> " + _md_escape_chars("\n\n> ".join(items.texts()))


def _md_table(headers: tuple[str, ...], rows) -> list[str]:
    """A Markdown table; its cells flattened and escaped in one pass (a cell is never at the
    start of a line, so only the characters inside need escaping)."""
    out = ["| " + " | ".join(md_line(h) or " " for h in headers) + " |",
           "|" + "|".join(" --- " for _ in headers) + "|"]
    rows = [tuple(row) for row in rows]
    if not rows:
        return out
    width = len(rows[0])
    cells = flat_many([v for row in rows for v in row])
    cells = _md_escape_chars(_SEP.join(cells)).split(_SEP)
    for i in range(0, len(cells), width):
        out.append("| " + " | ".join(cells[i:i + width]) + " |")
    return out


def markdown_text(project: Project, ctx: ExportContext) -> str:
    out: list[str] = []
    for entry in outline(project, ctx):
        if isinstance(entry, Title):
            out += [f"# {md_line(entry.text)}", ""]
            byline = [line for line in (entry.authors, entry.date) if line]
            if byline:
                out += [md_line(" · ".join(byline)), ""]
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
            if not entry.under_theme:
                out += ["#" * entry.heading + " " + md_line(entry.name), "",
                        f"*{md_line(entry.summary)}*", ""]
            if entry.description:
                out += [md_paragraphs(entry.description), ""]
            if entry.quotes:
                out += [md_quotes(entry.quotes), ""]
            else:
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

_XML_ESCAPES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}
_XML_SPECIAL = re.compile("[&<>]")


def _x(text: str) -> str:
    return text.translate(_XML_ESCAPES) if _XML_SPECIAL.search(text) else text


class _WordBody:
    """The body of a Word document written as WordprocessingML text.

    python-docx's ``add_paragraph`` looks for the end of the body from the start on every call
    and builds runs a call per character; building elements one by one with lxml still costs a
    dozen calls per quote, and moving them into the document a namespace check each. Text
    costs one formatted string per paragraph (a code's quotes are escaped in one pass); it goes
    into python-docx's own ``word/document.xml`` as it is (see :func:`docx_bytes`)."""

    def __init__(self, styles) -> None:
        self.parts: list[str] = []
        self.heading = {n: styles[f"Heading {n}"].style_id for n in range(1, 10)}
        self.quote_style = styles["Quote"].style_id
        self.normal = styles["Normal"].style_id
        self.title = styles["Title"].style_id
        self.table_style = styles["Table Grid"].style_id

    @staticmethod
    def _runs(runs: tuple[tuple[str, str], ...]) -> str:
        out = []
        for text, fmt in runs:
            props = "<w:rPr><w:b/></w:rPr>" if fmt == "b" else \
                "<w:rPr><w:i/></w:rPr>" if fmt == "i" else ""
            lines = text.split("\n")
            body = "<w:br/>".join(_t(line) for line in lines)
            out.append(f"<w:r>{props}{body}</w:r>")
        return "".join(out)

    def paragraph(self, style_id: str, *runs: tuple[str, str]) -> None:
        """A paragraph of runs (text, "b" bold / "i" italic / ""); a \\n in a run breaks the line."""
        self.parts.append(f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/></w:pPr>{self._runs(runs)}</w:p>')

    def para(self, text: str, *, label: str = "", italic: bool = False) -> None:
        """A paragraph per blank-line-separated block; single line breaks kept as breaks."""
        for i, block in enumerate(re.split(r"\n\s*\n", text.strip())):
            lines = "\n".join(" ".join(line.split()) for line in block.split("\n"))
            runs = [(label, "b")] if label and i == 0 else []
            self.paragraph(self.normal, *runs, (lines, "i" if italic else ""))

    def quotes(self, items: Quotes) -> None:
        """A code's quotes, each a Quote-style paragraph: the extract, then the attribution in a
        run of its own. Escaped in one pass for them all (cleaned text never holds the
        separator)."""
        if not items:
            return
        extracts = _x(_SEP.join(items.extracts)).split(_SEP)
        attributions = _x(_SEP.join(items.attributions)).split(_SEP)
        head = f'<w:p><w:pPr><w:pStyle w:val="{self.quote_style}"/></w:pPr><w:r><w:t>'
        self.parts.extend(
            f'{head}{e}</w:t></w:r><w:r><w:t xml:space="preserve"> {a}</w:t></w:r></w:p>' if a else
            f"{head}{e}</w:t></w:r></w:p>"
            for e, a in zip(extracts, attributions))

    def table(self, entry: Table) -> None:
        cols = len(entry.headers)
        grid = "".join("<w:gridCol/>" for _ in range(cols))
        out = [f'<w:tbl><w:tblPr><w:tblStyle w:val="{self.table_style}"/><w:tblW w:type="auto" w:w="0"/>'
               f'<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" '
               f'w:noHBand="0" w:noVBand="1" w:val="04A0"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>',
               # the header row repeats on every page the table runs onto
               '<w:tr><w:trPr><w:tblHeader w:val="true"/></w:trPr>'
               + "".join(f'<w:tc><w:tcPr><w:tcW w:type="auto" w:w="0"/></w:tcPr><w:p><w:r><w:rPr><w:b/></w:rPr>'
                         f"{_t(h)}</w:r></w:p></w:tc>" for h in entry.headers) + "</w:tr>"]
        for row in entry.rows:
            out.append("<w:tr>" + "".join(
                f'<w:tc><w:tcPr><w:tcW w:type="auto" w:w="0"/></w:tcPr><w:p>'
                + (f"<w:r>{_t(v)}</w:r>" if v else "") + "</w:p></w:tc>" for v in row) + "</w:tr>")
        out.append("</w:tbl>")
        self.parts.append("".join(out))
        self.parts.append("<w:p/>")  # Word wants a paragraph between a table and what follows

    def xml(self) -> bytes:
        return "".join(self.parts).encode("utf-8")


def _t(text: str, *, escaped: bool = False) -> str:
    text = text if escaped else _x(text)
    if text != text.strip():
        return f'<w:t xml:space="preserve">{text}</w:t>'
    return f"<w:t>{text}</w:t>"


def docx_bytes(project: Project, ctx: ExportContext) -> bytes:
    try:
        import docx
    except ModuleNotFoundError:  # pragma: no cover - a declared dependency
        raise ExportError("Word export needs python-docx: pip install python-docx") from None

    doc = docx.Document()
    w = _WordBody(doc.styles)
    info = meta(project)
    props = doc.core_properties
    # the write-up's own title, authors and date (settings), never the login of whoever exports
    props.title = info.title
    props.author = info.authors
    props.last_modified_by = info.authors
    props.comments = ""
    props.subject = "Reflexive thematic analysis"
    when = info.iso_date
    if when is not None:
        stamp = _dt.datetime(when.year, when.month, when.day)
        props.created = props.modified = stamp

    for entry in outline(project, ctx):
        if isinstance(entry, Title):
            w.paragraph(w.title, (entry.text, ""))
            byline = " · ".join(line for line in (entry.authors, entry.date) if line)
            if byline:
                w.para(byline)
            for line in entry.lines:
                w.para(line, italic=True)
        elif isinstance(entry, Section):
            w.paragraph(w.heading[entry.heading - 1], (entry.title, ""))
            if entry.note:
                w.para(entry.note, italic=True)
        elif isinstance(entry, ThemeEntry):
            w.paragraph(w.heading[entry.heading - 1], (entry.name, ""))
            w.para(entry.summary, italic=True)
            if entry.description:
                w.para(entry.description)
            if entry.concept:
                w.para(entry.concept, label="Central organising concept: ")
        elif isinstance(entry, CodeEntry):
            if not entry.under_theme:
                w.paragraph(w.heading[entry.heading - 1], (entry.name, ""))
                w.para(entry.summary, italic=True)
            if entry.description:
                w.para(entry.description)
            w.quotes(entry.quotes)
            if not entry.quotes:
                w.para("No extracts.", italic=True)
        elif isinstance(entry, Table):
            w.table(entry)
    # python-docx writes the package (styles, properties, relationships) around an empty body;
    # the body goes into its document.xml before the section properties that end it
    template = io.BytesIO()
    doc.save(template)
    return _with_body(template.getvalue(), w.xml())


DOCX_LEVEL = 3  # deflate level of the package: a big write-up's XML at 6 takes ~3x as long


def _with_body(package: bytes, body: bytes) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=DOCX_LEVEL) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                at = data.rfind(b"<w:sectPr")
                if at == -1:
                    at = data.rfind(b"</w:body>")
                if at == -1:  # pragma: no cover - python-docx's template always has a body
                    raise ExportError("python-docx's document template has no body")
                data = data[:at] + body + data[at:]
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=DOCX_LEVEL)
    return out.getvalue()


@register("docx", "docx", "the write-up as a Word document (real headings and quote styles)")
def write_docx(project: Project, out: Path, ctx: ExportContext) -> None:
    ctx.save(out, docx_bytes(project, ctx))


# -- the codebook --------------------------------------------------------------------------------

CODEBOOK_COLUMNS = ["name", "kind", "description", "colour", "extracts", "answers", "participants",
                    "counted_in", "created_by", "themes", "example"]


@dataclass(frozen=True)
class CodebookRow:
    code: Code
    counts: LayerCount
    colour: str
    themes: tuple[str, ...]   # theme paths, sorted
    example: Quote | None


def codebook_rows(project: Project, ctx: ExportContext) -> tuple[list[CodebookRow], str]:
    """Every code with its counts and example in the layer; and whose codings those are."""
    layer = ctx.layer(project)
    theme_map = T.build(project)
    per_code = layers.counts(project, layer)
    quoter = _Quoter.get(project, ctx, layer)
    codes = project.codes()
    rows = []
    for i, code in enumerate(codes):
        if i % 50 == 0:
            ctx.step(i, len(codes))
        example = quoter.quotes(code.id, limit=1)
        rows.append(CodebookRow(code, per_code.get(code.id, EMPTY),
                                colour_for(code.id, code.colour or ""),
                                tuple(sorted(theme_path(theme_map, t)
                                             for t in theme_map.themes_of_code.get(code.id, []))),
                                example[0] if example else None))
    ctx.step(len(codes), len(codes))
    return rows, whose(layer)


@register("codebook-csv", "csv", "the codebook as a spreadsheet: one row per code", stem="codebook")
def write_codebook_csv(project: Project, out: Path, ctx: ExportContext) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CODEBOOK_COLUMNS)
    rows, owner = codebook_rows(project, ctx)
    for row in rows:
        c, s = row.code, row.counts
        values = [c.name, c.kind or "semantic", c.description or "", row.colour, str(s.extracts),
                  str(s.answers), str(s.participants), owner, c.created_by or "",
                  " ; ".join(row.themes), row.example.text if row.example else ""]
        writer.writerow([csv_escape(v) for v in values])
    # UTF-8 with a BOM, so Excel opens curly quotes and accents correctly
    ctx.save(out, "\ufeff" + buf.getvalue())


@register("codebook-md", "md", "the codebook as a document: codes, counts, themes, examples",
          stem="codebook")
def write_codebook_md(project: Project, out: Path, ctx: ExportContext) -> None:
    rows, owner = codebook_rows(project, ctx)
    out_lines = [f"# Codebook: {md_line(project_title(project))}", "",
                 md_line(f"{T.plural(len(rows), 'code')}; every count is of {owner}."), ""]
    out_lines += _md_table(("Code", "Kind", "Extracts", "Answers", "Participants", "Themes"),
                           [(r.code.name, r.code.kind or "semantic", str(r.counts.extracts),
                             str(r.counts.answers), str(r.counts.participants),
                             " ; ".join(r.themes) or "—") for r in rows])
    out_lines.append("")
    for r in rows:
        c = r.code
        out_lines += [f"## {md_line(c.name)}", ""]
        facts = (f"{(c.kind or 'semantic').capitalize()} code · colour {r.colour} · "
                 + count_words(r.counts, owner))
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
