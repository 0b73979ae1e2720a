"""The thematic map as a picture (Mermaid, Graphviz DOT, a self-drawn SVG) and the offline HTML
review: one self-contained file with the map, the themes and their quotes.

Nothing here runs an external program: the SVG is laid out here as a left-to-right tree (one row
per code, each theme centred on what it holds), with text measured by counting characters.
Every name and every bit of survey text is escaped for the format it goes into.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from .. import themes as T
from ..colours import colour_for
from ..project import Project
from . import ExportContext, register
from .report import (
    CodeEntry,
    Section,
    Table,
    ThemeEntry,
    Title,
    flat,
    outline,
    project_title,
    whose,
)

LEVEL_CLASS = {T.OVERARCHING: "overarching", T.THEME: "theme", T.SUBTHEME: "subtheme"}


def _theme_label(node: T.Node, c: T.Counts) -> tuple[str, str]:
    """(name, counts line) for a theme node."""
    status = "" if node.theme.status in ("", None, "candidate") else f"{node.theme.status} · "
    kind = "OVERARCHING: " if node.level == T.OVERARCHING else ""
    return (kind + flat(node.theme.name),
            f"{status}{T.plural(c.codes, 'code')} · {T.plural(c.extracts, 'extract')} · "
            f"{T.plural(c.participants, 'participant')}")


def _code_label(theme_map: T.ThemeMap, counts: dict[str, T.Counts], code_id: str) -> str:
    c = counts.get(f"code:{code_id}", T.Counts(1, 0, 0))
    return f"{flat(theme_map.code_name(code_id))} ({c.extracts})"


# -- Mermaid -------------------------------------------------------------------------------------


_MERMAID_PLAIN = frozenset(" ,.'-()/?!")


def mermaid_escape(text: str) -> str:
    """A label Mermaid shows as written. Inside ``"…"`` Mermaid still reacts to quotes, ``#…;``
    entity codes, ``;``, ``<…>`` and to ``style…:…#…;`` anywhere on a line (it rewrites what it
    takes for a style), so every ASCII character other than letters, digits, spaces and a few
    harmless marks becomes an entity code (``#35;`` for ``#``). Characters beyond ASCII (accents,
    curly quotes, emoji) pass through."""
    return "".join(ch if ch.isalnum() or ch in _MERMAID_PLAIN or ord(ch) > 127 else f"#{ord(ch)};"
                   for ch in flat(text))


def _numbered_themes(theme_map: T.ThemeMap, ctx: ExportContext) -> Iterator[tuple[str, T.Node, str | None]]:
    """Every theme, parents before their children, as (id ``t1``, ``t2``…, theme, its parent's
    id or None); each one a progress step."""
    count = 0

    def walk(node: T.Node, parent: str | None) -> Iterator[tuple[str, T.Node, str | None]]:
        nonlocal count
        count += 1
        ctx.step(count, len(theme_map.by_id))
        tid = f"t{count}"
        yield tid, node, parent
        for child in node.children:
            yield from walk(child, tid)

    for root in theme_map.roots:
        yield from walk(root, None)


def _counts(project: Project, theme_map: T.ThemeMap, ctx: ExportContext) -> tuple[dict[str, T.Counts], str]:
    """The map's counts in the export's layer, and a note saying whose they are."""
    layer = ctx.layer(project)
    return T.counts(project, theme_map, layer), f"counts are extracts and participants in {whose(layer)}"


def mermaid_text(project: Project, ctx: ExportContext) -> str:
    theme_map = T.build(project)
    counts, note = _counts(project, theme_map, ctx)
    lines = [f"%% Thematic map: {mermaid_escape(project_title(project))}; {mermaid_escape(note)}",
             "flowchart LR"]
    code_ids: dict[str, str] = {}
    styled: dict[str, list[str]] = {"overarching": [], "theme": [], "subtheme": [], "code": []}

    def code_node(cid: str, indent: str) -> str:
        if cid not in code_ids:
            code_ids[cid] = f"c{len(code_ids) + 1}"
            label = mermaid_escape(_code_label(theme_map, counts, cid))
            lines.append(f'{indent}{code_ids[cid]}(["{label}"])')
            styled["code"].append(code_ids[cid])
        return code_ids[cid]

    for tid, node, parent in _numbered_themes(theme_map, ctx):
        name, sub = _theme_label(node, counts.get(node.id, T.Counts(0, 0, 0)))
        lines.append(f'  {tid}["{mermaid_escape(name)}<br/>{mermaid_escape(sub)}"]')
        styled[LEVEL_CLASS[node.level]].append(tid)
        if parent is not None:
            lines.append(f"  {parent} --> {tid}")
        for cid in node.code_ids:
            lines.append(f"  {tid} --> {code_node(cid, '  ')}")
    for key, title, codes in (("misc", "Miscellaneous", theme_map.miscellaneous),
                              ("unassigned", "Unassigned codes", theme_map.unassigned)):
        if codes:
            lines.append(f'  subgraph {key}["{mermaid_escape(title)}"]')
            for code in codes:
                code_node(code.id, "    ")
            lines.append("  end")
    lines += ["  classDef overarching fill:#1f3a5f,stroke:#1f3a5f,color:#ffffff",
              "  classDef theme fill:#dbe7f3,stroke:#3465a4,color:#102030",
              "  classDef subtheme fill:#eef3f8,stroke:#729fcf,color:#102030",
              "  classDef code fill:#ffffff,stroke:#888888,color:#202020"]
    for cls, ids in styled.items():
        for i in range(0, len(ids), 200):  # keep lines a sane length on big maps
            lines.append(f"  class {','.join(ids[i:i + 200])} {cls}")
    return "\n".join(lines) + "\n"


@register("mermaid", "mmd", "the thematic map as a Mermaid flowchart (for Markdown viewers)")
def write_mermaid(project: Project, out: Path, ctx: ExportContext) -> None:
    ctx.save(out, mermaid_text(project, ctx))


# -- Graphviz DOT --------------------------------------------------------------------------------


def dot_string(text: str) -> str:
    """A DOT double-quoted string. A backslash is doubled (so ``\\n``, ``\\l``, ``\\N`` in a name
    stay literal) and a quote is escaped; names are on one line already."""
    return '"' + flat(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_text(project: Project, ctx: ExportContext) -> str:
    theme_map = T.build(project)
    counts, note = _counts(project, theme_map, ctx)
    lines = [f"// Thematic map: {flat(project_title(project))}; {flat(note)}",
             "digraph thematic_map {",
             "  graph [rankdir=LR, charset=\"UTF-8\", fontname=\"Helvetica\", nodesep=0.15, ranksep=0.6];",
             "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11, "
             "fillcolor=\"#ffffff\", color=\"#888888\"];",
             "  edge [color=\"#7a8a9a\", arrowsize=0.6];"]
    fills = {T.OVERARCHING: ('"#1f3a5f"', '"#ffffff"'), T.THEME: ('"#dbe7f3"', '"#102030"'),
             T.SUBTHEME: ('"#eef3f8"', '"#102030"')}
    code_ids: dict[str, str] = {}

    def code_node(cid: str, indent: str = "  ") -> str:
        if cid not in code_ids:
            code_ids[cid] = f"c{len(code_ids) + 1}"
            code = project.code(cid)
            colour = colour_for(cid, code.colour if code else "")
            lines.append(f"{indent}{code_ids[cid]} [label={dot_string(_code_label(theme_map, counts, cid))}, "
                         f"color=\"{colour}\", penwidth=2];")
        return code_ids[cid]

    for tid, node, parent in _numbered_themes(theme_map, ctx):
        name, sub = _theme_label(node, counts.get(node.id, T.Counts(0, 0, 0)))
        fill, font = fills[node.level]
        # the two lines joined with DOT's own \n escape, each escaped on its own
        label = dot_string(name)[:-1] + "\\n" + dot_string(sub)[1:]
        lines.append(f"  {tid} [label={label}, fillcolor={fill}, fontcolor={font}, color={fill}];")
        if parent is not None:
            lines.append(f"  {parent} -> {tid};")
        for cid in node.code_ids:
            lines.append(f"  {tid} -> {code_node(cid)};")
    for key, title, codes in (("misc", "Miscellaneous", theme_map.miscellaneous),
                              ("unassigned", "Unassigned codes", theme_map.unassigned)):
        if codes:
            lines.append(f"  subgraph cluster_{key} {{")
            lines.append(f"    label={dot_string(title)}; style=dashed; color=\"#999999\";")
            for code in codes:
                code_node(code.id, "    ")
            lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


@register("dot", "dot", "the thematic map as Graphviz DOT")
def write_dot(project: Project, out: Path, ctx: ExportContext) -> None:
    ctx.save(out, dot_text(project, ctx))


# -- SVG -----------------------------------------------------------------------------------------

FONT = 13.0            # px
CHAR_W = 7.6           # average width of one character at FONT (DejaVu Sans is wide; others less)
LINE_H = 17.0
PAD_X, PAD_Y = 10.0, 7.0
MAX_BOX_W = 280.0
MIN_BOX_W = 90.0
MAX_LINES = 3          # a long name wraps onto at most this many lines, then ends with …
COL_GAP = 48.0
ROW_GAP = 8.0
ROOT_GAP = 22.0
MAX_CODES_SHOWN = 12   # per theme; the rest are summed up in one "+N more codes" box
MAX_CODES_SHOWN_BIG = 6  # the same on a map with more than BIG_MAP code places in all
BIG_MAP = 300


def text_width(text: str) -> float:
    """Roughly how wide ``text`` is drawn: wide (East Asian, emoji) characters count twice,
    combining marks not at all."""
    units = 0.0
    for ch in text:
        if unicodedata.combining(ch) or ch in "\u200d\ufe0f":
            continue
        units += 2.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 1.0
    return units * CHAR_W


def wrap(text: str, width: float, max_lines: int = MAX_LINES) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (words longer than a line are cut)."""
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        while text_width(word) > width:  # a very long word: cut it
            room = current + (" " if current else "")
            cut = len(word)
            while cut > 1 and text_width(room + word[:cut]) > width:
                cut -= 1
            if current and cut <= 1:
                lines.append(current)
                current = ""
                continue
            lines.append(room + word[:cut])
            current, word = "", word[cut:]
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current or not lines:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + "…") > width:
            last = last[:-1]
        lines = lines[:max_lines - 1] + [last.rstrip() + "…"]
    return lines


@dataclass
class Box:
    kind: str                     # overarching, theme, subtheme, code, more, pile
    lines: list[str]
    sub: str = ""                 # a smaller second line (counts)
    colour: str = ""              # a code's colour
    children: list["Box"] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0
    band: float = 0.0             # height of this box's whole subtree


def _code_boxes(theme_map: T.ThemeMap, counts: dict[str, T.Counts], code_ids: list[str],
                project: Project, cap: int) -> list[Box]:
    boxes = []
    for cid in code_ids[:cap]:
        code = project.code(cid)
        boxes.append(Box("code", wrap(_code_label(theme_map, counts, cid), MAX_BOX_W - 2 * PAD_X - 6),
                         colour=colour_for(cid, code.colour if code else "")))
    hidden = len(code_ids) - cap
    if hidden > 0:
        boxes.append(Box("more", [f"+{hidden} more {'code' if hidden == 1 else 'codes'}"]))
    return boxes


def map_boxes(project: Project, theme_map: T.ThemeMap, counts: dict[str, T.Counts]) -> list[Box]:
    """The map as boxes: a tree per top-level theme, then the two piles."""
    places = sum(len(n.code_ids) for n in theme_map.by_id.values()) \
        + len(theme_map.miscellaneous) + len(theme_map.unassigned)
    cap = MAX_CODES_SHOWN if places <= BIG_MAP else MAX_CODES_SHOWN_BIG

    def theme_box(node: T.Node) -> Box:
        name, sub = _theme_label(node, counts.get(node.id, T.Counts(0, 0, 0)))
        box = Box(LEVEL_CLASS[node.level], wrap(name, MAX_BOX_W - 2 * PAD_X), sub=sub)
        box.children = _code_boxes(theme_map, counts, node.code_ids, project, cap)
        box.children += [theme_box(child) for child in node.children]
        return box

    roots = [theme_box(root) for root in theme_map.roots]
    for title, codes in (("Miscellaneous", theme_map.miscellaneous),
                         ("Unassigned codes", theme_map.unassigned)):
        if codes:
            pile = Box("pile", [title], sub=T.plural(len(codes), "code"))
            pile.children = _code_boxes(theme_map, counts, [c.id for c in codes], project, cap)
            roots.append(pile)
    return roots


def _measure(box: Box) -> None:
    widest = max([text_width(line) for line in box.lines] + [text_width(box.sub) * 0.9])
    box.w = min(max(widest + 2 * PAD_X + (6 if box.kind == "code" else 0), MIN_BOX_W), MAX_BOX_W)
    box.h = len(box.lines) * LINE_H + (LINE_H * 0.85 if box.sub else 0) + 2 * PAD_Y
    for child in box.children:
        _measure(child)
    inner = sum(c.band for c in box.children) + ROW_GAP * max(len(box.children) - 1, 0)
    box.band = max(box.h, inner)


def _place(box: Box, depth: int, top: float, col_x: list[float]) -> None:
    box.x = col_x[depth]
    box.y = top + (box.band - box.h) / 2
    inner = sum(c.band for c in box.children) + ROW_GAP * max(len(box.children) - 1, 0)
    y = top + (box.band - inner) / 2
    for child in box.children:
        _place(child, depth + 1, y, col_x)
        y += child.band + ROW_GAP


def _depth_widths(boxes: list[Box], depth: int, widths: list[float]) -> None:
    for box in boxes:
        if len(widths) <= depth:
            widths.append(0.0)
        widths[depth] = max(widths[depth], box.w)
        _depth_widths(box.children, depth + 1, widths)


def _x(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


SVG_STYLE = """
text{font-family:"DejaVu Sans","Liberation Sans",Arial,Helvetica,sans-serif;font-size:13px;fill:#1b2430}
.sub{font-size:11px;fill:#4a5866}
.overarching rect{fill:#1f3a5f;stroke:#1f3a5f}
.overarching text,.overarching .sub{fill:#ffffff}
.theme rect{fill:#dbe7f3;stroke:#3465a4}
.subtheme rect{fill:#eef3f8;stroke:#729fcf}
.code rect{fill:#ffffff;stroke:#b0b8c0}
.more rect{fill:#f6f6f6;stroke:#cccccc;stroke-dasharray:3 3}
.more text{fill:#666666;font-style:italic}
.pile rect{fill:#fbf7ee;stroke:#b59b5a;stroke-dasharray:5 3}
.edge{fill:none;stroke:#9aa6b2;stroke-width:1.2}
.title{font-size:16px;font-weight:bold}
""".strip()


FIT_WIDTH = 1800.0  # inside a web page, a map up to this wide shrinks to fit the window


def svg_text(project: Project, ctx: ExportContext, *, standalone: bool = True) -> str:
    """The map drawn as SVG. ``standalone``: a file of its own (with the XML declaration and the
    SVG namespace); otherwise a fragment to put inside an HTML page, which shrinks to fit the
    window unless that would make it too small to read (then the page scrolls it)."""
    theme_map = T.build(project)
    counts, note = _counts(project, theme_map, ctx)
    roots = map_boxes(project, theme_map, counts)
    title = f"Thematic map: {project_title(project)}"
    margin, title_h = 16.0, 46.0
    if not roots:
        roots = [Box("more", ["No themes or codes yet"])]
    for root in roots:
        _measure(root)
    widths: list[float] = []
    _depth_widths(roots, 0, widths)
    col_x = [margin]
    for w in widths:
        col_x.append(col_x[-1] + w + COL_GAP)
    top = margin + title_h
    for i, root in enumerate(roots):
        if i % 20 == 0:
            ctx.step(i, len(roots))
        _place(root, 0, top, col_x)
        top += root.band + ROOT_GAP
    ctx.step(len(roots), len(roots))  # the last chance to stop before the drawing is written
    width = max(col_x[-1] - COL_GAP + margin, text_width(title) * 1.25 + 2 * margin,
                text_width(note) + 2 * margin)
    height = top - ROOT_GAP + margin
    out: list[str] = []
    if standalone:
        out.append('<?xml version="1.0" encoding="UTF-8"?>')
    ns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    if not standalone and width <= FIT_WIDTH:
        ns += ' style="max-width:100%;height:auto"'
    out.append(f'<svg{ns} width="{_x(width)}" height="{_x(height)}" '
               f'viewBox="0 0 {_x(width)} {_x(height)}" role="img" aria-label="{_esc(title)}">')
    out.append(f"<title>{_esc(title)}</title>")
    out.append(f"<style>{SVG_STYLE}</style>")
    out.append(f'<rect x="0" y="0" width="{_x(width)}" height="{_x(height)}" fill="#ffffff"/>')
    out.append(f'<text class="title" x="{_x(margin)}" y="{_x(margin + 16)}">{_esc(title)}</text>')
    out.append(f'<text class="sub" x="{_x(margin)}" y="{_x(margin + 34)}">{_esc(note.capitalize())}</text>')
    edges: list[str] = []
    nodes: list[str] = []

    def draw(box: Box) -> None:
        x1, y1 = box.x + box.w, box.y + box.h / 2
        for child in box.children:
            x2, y2 = child.x, child.y + child.h / 2
            mid = (x1 + x2) / 2
            edges.append(f'<path class="edge" d="M{_x(x1)} {_x(y1)} C{_x(mid)} {_x(y1)} '
                         f'{_x(mid)} {_x(y2)} {_x(x2)} {_x(y2)}"/>')
        parts = [f'<g class="{box.kind}">',
                 f'<rect x="{_x(box.x)}" y="{_x(box.y)}" width="{_x(box.w)}" height="{_x(box.h)}" '
                 f'rx="6" ry="6"/>']
        text_x = box.x + PAD_X
        if box.kind == "code" and box.colour:
            parts.append(f'<rect x="{_x(box.x)}" y="{_x(box.y)}" width="6" height="{_x(box.h)}" '
                         f'rx="3" ry="3" style="fill:{box.colour};stroke:none"/>')
            text_x += 6
        y = box.y + PAD_Y + FONT
        for line in box.lines:
            parts.append(f'<text x="{_x(text_x)}" y="{_x(y)}">{_esc(line)}</text>')
            y += LINE_H
        if box.sub:
            parts.append(f'<text class="sub" x="{_x(text_x)}" y="{_x(y - 2)}">{_esc(box.sub)}</text>')
        parts.append("</g>")
        nodes.append("".join(parts))
        for child in box.children:
            draw(child)

    for root in roots:
        draw(root)
    out += edges + nodes
    out.append("</svg>")
    return "\n".join(out) + "\n"


@register("svg", "svg", "the thematic map drawn as an SVG picture (needs no other program)")
def write_svg(project: Project, out: Path, ctx: ExportContext) -> None:
    ctx.save(out, svg_text(project, ctx))


# -- the offline HTML review ---------------------------------------------------------------------

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

HTML_STYLE = """
body{font-family:"DejaVu Sans","Liberation Sans",Arial,Helvetica,sans-serif;color:#1b2430;
background:#ffffff;margin:0 auto;max-width:60rem;padding:1.5rem 2rem 4rem;line-height:1.5}
h1{font-size:1.8rem;margin:0 0 .3rem}
h2{font-size:1.45rem;margin-top:2.4rem;border-bottom:2px solid #dbe7f3;padding-bottom:.2rem}
h3{font-size:1.2rem;margin-top:1.8rem}
h4,h5,h6{font-size:1.05rem;margin-top:1.4rem}
.meta{color:#4a5866;font-style:italic;margin:.2rem 0 .8rem}
.byline{font-size:1.1rem;margin:.2rem 0 .6rem}
.level{display:inline-block;font-size:.7rem;font-weight:normal;text-transform:uppercase;
letter-spacing:.05em;background:#dbe7f3;color:#1f3a5f;border-radius:.3rem;padding:.05rem .4rem;
margin-right:.5rem;vertical-align:middle}
.overarching .level{background:#1f3a5f;color:#ffffff}
.code-name .level{background:#f0f0f0;color:#444444}
.swatch{display:inline-block;width:.8em;height:.8em;border-radius:.2em;margin-right:.4em;
vertical-align:baseline}
.concept{background:#f4f7fa;border-left:4px solid #3465a4;padding:.4rem .8rem}
.note{color:#4a5866;font-style:italic}
figure.quote{margin:.6rem 0 .6rem 1.5rem;padding:.3rem .9rem;border-left:3px solid #b0b8c0}
figure.quote blockquote{margin:0;font-style:italic}
figure.quote figcaption{color:#4a5866;font-size:.9rem}
.map{overflow:auto;border:1px solid #dde3ea;border-radius:.4rem;max-height:85vh;
width:calc(100vw - 3rem);max-width:max-content;position:relative;left:50%;transform:translateX(-50%)}
.map svg{display:block}
nav ul{padding-left:1.2rem;margin:.2rem 0}
table{border-collapse:collapse;margin-top:.6rem}
th,td{border:1px solid #c8d0d8;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f0f4f8}
p.text{white-space:pre-line}
""".strip()


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def _paragraphs(text: str, cls: str = "text") -> str:
    return "".join(f'<p class="{cls}"><bdi>{_h(block.strip())}</bdi></p>'
                   for block in re.split(r"\n\s*\n", text) if block.strip())


def _html_quotes(items) -> str:
    """A code's quotes as figures, escaped in one pass (cleaned text never holds the separator)."""
    sep = "\x1f"
    extracts = html.escape(sep.join(items.extracts), quote=True).split(sep)
    attributions = html.escape(sep.join(items.attributions), quote=True).split(sep)
    return "\n".join([f'<figure class="quote"><blockquote><bdi>{e}</bdi></blockquote>'
                      f"<figcaption><bdi>{a}</bdi></figcaption></figure>"
                      for e, a in zip(extracts, attributions)])


def html_text(project: Project, ctx: ExportContext) -> str:
    title = authors = ""
    body: list[str] = []
    contents: list[str] = []
    anchor = 0

    def next_anchor(prefix: str) -> str:
        nonlocal anchor
        anchor += 1
        return f"{prefix}{anchor}"

    for entry in outline(project, ctx):
        if isinstance(entry, Title):
            title, authors = entry.text, entry.authors
            byline = " · ".join(line for line in (entry.authors, entry.date) if line)
            body.append(f"<header><h1>{_h(entry.text)}</h1>"
                        + (f'<p class="byline">{_h(byline)}</p>' if byline else "")
                        + "".join(f'<p class="meta">{_h(line)}</p>' for line in entry.lines)
                        + "</header>")
            body.append("<!--contents-->")
            body.append('<section id="map"><h2>Thematic map</h2><div class="map">'
                        + svg_text(project, ctx, standalone=False) + "</div></section>")
        elif isinstance(entry, ThemeEntry):
            ident = next_anchor("t")
            h = entry.heading
            cls = LEVEL_CLASS.get(entry.level, "theme")
            contents.append(f'<li style="margin-left:{(h - 2) * 1.2}rem"><a href="#{ident}">'
                            f"<bdi>{_h(entry.name)}</bdi></a></li>")
            body.append(f'<h{h} id="{ident}" class="{cls}"><span class="level">{_h(entry.level)}</span>'
                        f"<bdi>{_h(entry.name)}</bdi></h{h}>")
            body.append(f'<p class="meta">{_h(entry.summary)}</p>')
            if entry.description:
                body.append(_paragraphs(entry.description))
            if entry.concept:
                body.append('<p class="concept"><strong>Central organising concept:</strong> '
                            f"<bdi>{_h(entry.concept)}</bdi></p>")
        elif isinstance(entry, Section):
            ident = next_anchor("s")
            contents.append(f'<li><a href="#{ident}">{_h(entry.title)}</a></li>')
            body.append(f'<h{entry.heading} id="{ident}">{_h(entry.title)}</h{entry.heading}>')
            if entry.note:
                body.append(f'<p class="note">{_h(entry.note)}</p>')
        elif isinstance(entry, CodeEntry):
            h = entry.heading
            if not entry.under_theme:
                body.append(f'<h{h} class="code-name"><span class="swatch" '
                            f'style="background:{entry.colour}"></span><span class="level">code</span>'
                            f"<bdi>{_h(entry.name)}</bdi></h{h}>")
                body.append(f'<p class="meta">{_h(entry.summary)}</p>')
            if entry.description:
                body.append(_paragraphs(entry.description))
            if entry.quotes:
                body.append(_html_quotes(entry.quotes))
            else:
                body.append('<p class="note">No extracts.</p>')
        elif isinstance(entry, Table):
            body.append("<table><thead><tr>" + "".join(f"<th>{_h(h)}</th>" for h in entry.headers)
                        + "</tr></thead><tbody>")
            if entry.rows:  # every cell escaped in one pass (cells are clean: no separator)
                width = len(entry.rows[0])
                cells = _h("\x1f".join(v for row in entry.rows for v in row)).split("\x1f")
                body += ["<tr><td>" + "</td><td>".join(cells[i:i + width]) + "</td></tr>"
                         for i in range(0, len(cells), width)]
            body.append("</tbody></table>")
    nav = ('<nav aria-label="Contents"><h2>Contents</h2><ul style="list-style:none">'
           '<li><a href="#map">Thematic map</a></li>' + "".join(contents) + "</ul></nav>")
    # Well-formed XML too (void elements closed, every attribute quoted), so a test or a tool can
    # read it with an XML parser.
    page = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8" />',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}" />',
            '<meta name="referrer" content="no-referrer" />',
            *([f'<meta name="author" content="{_h(authors)}" />'] if authors else []),
            '<meta name="viewport" content="width=device-width, initial-scale=1" />',
            f"<title>{_h(title)}</title>", f"<style>{HTML_STYLE}</style>", "</head>", "<body>"]
    page += [nav if part == "<!--contents-->" else part for part in body]
    page += ["</body>", "</html>"]
    return "\n".join(page) + "\n"


@register("html", "html", "one self-contained web page to read offline: map, themes, quotes")
def write_html(project: Project, out: Path, ctx: ExportContext) -> None:
    ctx.save(out, html_text(project, ctx))
