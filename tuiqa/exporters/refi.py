"""REFI-QDA interchange: the codebook (``.qdc``) and the whole project (``.qdpx``).

Both validate against the QDA-XML 1.0 schemas (``Codebook.xsd``, ``Project.xsd``). Every GUID is
one of the project's own stable IDs (codes, themes, participants, responses, codings, memos) or is
derived from one with :func:`~tuiqa.model.derived_id`, and every time comes from an entity's own
stamp, so exporting the same project twice gives the same bytes.

The code tree: themes are non-codable parent codes (overarching theme → theme → sub-theme), each
holding its codes; codes under no theme sit at the top level. A code under several themes is
nested under the first (in map order) and every theme holding such a code also gets a ``<Set>``
listing all of its codes, so the other placements are not lost. The ``<Description>`` of a code or
theme ends with a bracketed marker (``[latent code]``, ``[sub-theme, reviewed]``) that
:mod:`tuiqa.importers.codebook` reads back.

Texts: each response is a ``<TextSource>`` whose text is a UTF-8 file ``sources/<guid>.txt``
(``plainTextPath="internal://<guid>.txt"``), memos likewise. That is what NVivo, MAXQDA, ATLAS.ti
and QualCoder write themselves, and QualCoder's importer reads text *only* from such files. It
also keeps survey text verbatim: XML 1.0 cannot hold most control characters, but a text file
can. Inside the XML (names, descriptions, attribute values) such characters become U+FFFD, one
for one, and the project's ``<Description>`` says how many were replaced.
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from operator import attrgetter
import json
import re
import struct
import threading
import zipfile
import zlib
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

from .. import themes as T
from ..colours import colour_for
from ..model import NAMESPACE, Code, derived_id
from ..project import Project, name_key
from ..store.stamps import stamp_iso, stamp_time
from . import ExportContext, ExportError, IsoTimes, register

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
SCHEMA_LOCATION = {
    CODEBOOK_NS: "http://schema.qdasoftware.org/versions/Codebook/v1.0/Codebook.xsd",
    PROJECT_NS: "http://schema.qdasoftware.org/versions/Project/v1.0/Project.xsd",
}
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ORIGIN = "tuiqa"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def set_guid(theme_id: str) -> str:
    """The GUID of the ``<Set>`` standing for a theme (the importer matches it back)."""
    return derived_id("refi-set", theme_id)


@lru_cache(maxsize=256)
def user_guid(coder: str) -> str:
    return derived_id("user", coder)


def code_marker(kind: str, miscellaneous: bool) -> str:
    return f"[{kind} code{', miscellaneous' if miscellaneous else ''}]"


def theme_marker(level: str, status: str, name: str | None = None) -> str:
    """``[theme, reviewed]``; with ``name`` (the theme's own, when it is exported under another
    so that no two codes share a name): ``[theme, reviewed, named "stigma"]``."""
    named = f", named {json.dumps(name, ensure_ascii=False)}" if name is not None else ""
    return f"[{level}{'' if status in ('', 'candidate') else ', ' + status}{named}]"


def refi_names(m: T.ThemeMap, codes: dict[str, Code]) -> dict[str, str]:
    """A name for every theme such that no two codes in the file share one (REFI-QDA tools take
    a theme for a code: the official validator warns of a name in two places, QualCoder merges
    them). Codes keep their names (unique in a project already); a theme whose name is taken
    gets its level after it: ``stigma (theme)``, then ``stigma (theme 2)`` …"""
    taken = {name_key(c.name) for c in codes.values()}
    out: dict[str, str] = {}
    for root in m.roots:
        for node in root.walk():
            name = node.theme.name
            if name_key(name) in taken:
                n = 1
                while True:
                    name = f"{node.theme.name} ({node.level}{'' if n == 1 else f' {n}'})"
                    if name_key(name) not in taken:
                        break
                    n += 1
            taken.add(name_key(name))
            out[node.id] = name
    return out


CONCEPT_PREFIX = "Central organising concept: "


class _Writer:
    """Builds elements. Texts and names pass through :meth:`clean`; the other attributes are
    GUIDs, numbers, times and paths made here, which need no cleaning."""

    def __init__(self) -> None:
        self.replaced = 0

    def clean(self, text: str) -> str:
        text, n = _NOT_XML.subn("\ufffd", text or "")
        self.replaced += n
        return text

    def el(self, parent: ET.Element | None, tag: str, text: str | None = None,
           **attrs: str | None) -> ET.Element:
        node = ET.Element(tag) if parent is None else ET.SubElement(parent, tag)
        for name, value in attrs.items():
            if value:
                node.set(name, self.clean(value) if name == "name" else value)
        if text is not None:
            node.text = self.clean(text)
        return node

    def root(self, tag: str, ns: str, **attrs: str | None) -> ET.Element:
        node = self.el(None, tag)
        node.set("xmlns", ns)
        node.set("xmlns:xsi", XSI)
        node.set("xsi:schemaLocation", f"{ns} {SCHEMA_LOCATION[ns]}")
        for name, value in attrs.items():
            if value:
                node.set(name, self.clean(value))
        return node


_TEXT_ESCAPES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord("\r"): "&#13;"}
_ATTR_ESCAPES = {**_TEXT_ESCAPES, ord('"'): "&quot;", ord("\n"): "&#10;", ord("\t"): "&#9;"}
_ATTR_SPECIAL = re.compile('[&<>"\r\n\t]')


def _text(s: str) -> str:
    # a raw CR would be read back as LF, so it is written as a character reference
    return s.translate(_TEXT_ESCAPES)


def _attr(s: str) -> str:
    return s.translate(_ATTR_ESCAPES) if _ATTR_SPECIAL.search(s) else s


RAW = "\x00raw"  # the tag of a piece of XML already written as text (see to_bytes)


def raw(parent: ET.Element, text: str) -> None:
    """Put XML already written as text (indented for its place) under ``parent``."""
    ET.SubElement(parent, RAW).text = text


def to_bytes(root: ET.Element) -> bytes:
    """Serialise, indented. Our trees are simple (no namespaces prefixes, no mixed content), and
    this is several times faster than ElementTree's general serialiser on a large project. The
    bulk of a project (cases, sources and codings) arrives as text already (:func:`raw`)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']

    def write(e: ET.Element, pad: str) -> None:
        if e.tag == RAW:
            out.append(e.text or "")
            return
        attrs = "".join(f' {k}="{_attr(v)}"' for k, v in e.attrib.items())
        if len(e):
            out.append(f"{pad}<{e.tag}{attrs}>\n")
            for child in e:
                write(child, pad + "  ")
            out.append(f"{pad}</{e.tag}>\n")
        elif e.text:
            out.append(f"{pad}<{e.tag}{attrs}>{_text(e.text)}</{e.tag}>\n")
        else:
            out.append(f"{pad}<{e.tag}{attrs}/>\n")

    write(root, "")
    return "".join(out).encode("utf-8")


def _theme_path(m: T.ThemeMap, node: T.Node) -> str:
    names, seen = [], set()
    current: T.Node | None = node
    while current is not None and current.id not in seen:  # a parent cycle stops the walk
        names.append(current.theme.name)
        seen.add(current.id)
        current = m.by_id.get(current.theme.parent_id or "")
    return " > ".join(reversed(names))


def build_codebook(project: Project, w: _Writer, *, note_refs: dict[str, list[str]] | None = None
                   ) -> tuple[ET.Element | None, list[tuple[str, str, str, list[str]]]]:
    """The ``<CodeBook>`` element (with its ``<Codes>``) shared by .qdc and .qdpx, and the sets
    for themes holding codes nested elsewhere: (guid, name, description, member code ids).

    ``note_refs`` (project level only: the codebook schema has no NoteRef) maps a code or theme
    id to the GUIDs of its notes. Returns (None, []) when there is neither a code nor a theme.
    """
    m = T.build(project)
    codes: dict[str, Code] = {c.id: c for c in project.codes()}
    if not codes and not m.by_id:
        return None, []
    nodes = [node for root in m.roots for node in root.walk()]
    home: dict[str, str] = {}  # code id -> the theme it is nested under (the first in map order)
    for node in nodes:
        for cid in node.code_ids:
            home.setdefault(cid, node.id)
    misc = {c.id for c in m.miscellaneous}

    def refs(parent: ET.Element, target: str) -> None:
        for guid in (note_refs or {}).get(target, ()):
            w.el(parent, "NoteRef", targetGUID=guid)

    def code_el(parent: ET.Element, code: Code) -> None:
        e = w.el(parent, "Code", guid=code.id, name=code.name, isCodable="true",
                 color=colour_for(code.id, code.colour or ""))
        marker = code_marker(code.kind or "semantic", code.id in misc)
        w.el(e, "Description", "\n\n".join(p for p in (code.description or "", marker) if p))
        refs(e, code.id)

    names = refi_names(m, codes)

    def theme_el(parent: ET.Element, node: T.Node) -> None:
        t = node.theme
        name = names[node.id]
        e = w.el(parent, "Code", guid=t.id, name=name, isCodable="false")
        parts = [t.description or "", CONCEPT_PREFIX + t.concept if t.concept else "",
                 theme_marker(node.level, t.status or "", t.name if name != t.name else None)]
        w.el(e, "Description", "\n\n".join(p for p in parts if p))
        refs(e, t.id)
        for cid in node.code_ids:
            if home.get(cid) == node.id:
                code_el(e, codes[cid])
        for child in node.children:
            theme_el(e, child)

    book = w.el(None, "CodeBook")
    codes_el = w.el(book, "Codes")
    for root in m.roots:
        theme_el(codes_el, root)
    for code in sorted(codes.values(), key=lambda c: c.name.casefold()):
        if code.id not in home:
            code_el(codes_el, code)
    sets = []
    for node in nodes:
        if any(home.get(cid) != node.id for cid in node.code_ids):
            path = _theme_path(m, node)
            sets.append((set_guid(node.id), path,
                         f"The codes of the {node.level} \u201c{path}\u201d. Some of them also sit "
                         "under another theme, where the code tree nests them; in tuiqa a code "
                         "can sit under several themes.", list(node.code_ids)))
    return book, sets


def _sets_el(w: _Writer, parent: ET.Element, sets, member_attr: str) -> None:
    if not sets:
        return  # an empty <Sets> is invalid
    sets_el = w.el(parent, "Sets")
    for guid, name, description, members in sets:
        s = w.el(sets_el, "Set", guid=guid, name=name)
        w.el(s, "Description", description)
        for cid in members:
            w.el(s, "MemberCode", **{member_attr: cid})


@register("qdc", "qdc", "REFI-QDA codebook: codes and themes, for NVivo, ATLAS.ti, MAXQDA, QualCoder",
          layered=False)
def write_qdc(project: Project, out: Path, ctx: ExportContext) -> None:
    ctx.step(0, 1)
    w = _Writer()
    book, sets = build_codebook(project, w)
    if book is None:
        raise ExportError(f"{project.dir.name} has no codes or themes yet, and a REFI-QDA "
                          "codebook must hold at least one code; code some answers first")
    root = w.root("CodeBook", CODEBOOK_NS, origin=ORIGIN)
    root.extend(list(book))
    _sets_el(w, root, sets, "guid")
    ctx.step(1, 1)
    ctx.save(out, to_bytes(root))


@register("qdpx", "qdpx", "REFI-QDA project: sources, cases, codebook and codings, for other QDA tools",
          layered=False)
def write_qdpx(project: Project, out: Path, ctx: ExportContext) -> None:
    w = _Writer()
    files: dict[str, str] = {}  # sources/<name> -> text
    responses = project.responses
    participants = project.participants_in_order()
    questions = project.questions_in_order()
    qindex = {q.id: i for i, q in enumerate(questions)}
    by_participant: dict[str, list] = {}
    for r in responses.values():
        by_participant.setdefault(r.participant_id, []).append(r)
    ordered = []
    for p in participants:
        by_participant[p.id] = sorted(by_participant.get(p.id, ()),
                                      key=lambda r: qindex.get(r.question_id, 0))
        ordered += by_participant[p.id]
    codes = {c.id for c in project.codes()}
    theme_ids = set(T.active_themes(project))
    pid_of = {p.id: p.pid for p in participants}
    qkey = {q.id: q.key for q in questions}

    # memos (only the chosen coder's, if one was chosen) and where they attach
    memo_targets = {"response": set(responses), "code": codes, "theme": theme_ids,
                    "project": {project.store.meta.get("project_id", "")}}
    memos = [mm for kind, target in list(project.memos_by_target)
             if target in memo_targets.get(kind, ())
             for mm in project.memos_for(kind, target) if ctx.coder is None or mm.coder == ctx.coder]
    memos.sort(key=lambda mm: (mm.created, mm.id))
    note_refs: dict[str, list[str]] = {}
    for mm in memos:
        note_refs.setdefault(mm.target_id if mm.target_kind != "project" else "", []).append(mm.id)

    codings = [c for c in project.all_codings() if c.code_id in codes and c.response_id in responses
               and (ctx.coder is None or c.coder == ctx.coder)]
    coders = sorted({c.coder for c in codings} | {mm.coder for mm in memos}
                    | (set(project.coders()) if ctx.coder is None else set()))
    created = project.store.meta.get("created", "")
    root = w.root("Project", PROJECT_NS, name=project.dir.name, origin=ORIGIN,
                  creationDateTime=stamp_iso(created))
    if coders:
        users = w.el(root, "Users")
        for coder in coders:
            w.el(users, "User", guid=user_guid(coder), name=coder)
    book, sets = build_codebook(project, w, note_refs=note_refs)
    if book is not None:
        root.append(book)
    attributes = list(project.attributes)
    if attributes:
        variables = w.el(root, "Variables")
        for a in attributes:
            w.el(variables, "Variable", guid=derived_id("refi-variable", a), name=a,
                 typeOfVariable="Text")
    variable_guid = {a: derived_id("refi-variable", a) for a in attributes}
    if participants:
        cases = w.el(root, "Cases")
        parts = []
        for p in participants:
            head = f'    <Case guid="{p.id}" name="{_attr(w.clean(p.pid))}"'
            inner = []
            for a in attributes:
                if p.attrs.get(a):
                    inner.append(f'      <VariableValue>\n        <VariableRef targetGUID="{variable_guid[a]}"/>\n'
                                 f"        <TextValue>{_text(w.clean(p.attrs[a]))}</TextValue>\n"
                                 "      </VariableValue>\n")
            inner += [f'      <SourceRef targetGUID="{r.id}"/>\n' for r in by_participant.get(p.id, ())]
            parts.append(f"{head}>\n{''.join(inner)}    </Case>\n" if inner else f"{head}/>\n")
        raw(cases, "".join(parts))

    if ordered:
        sources = w.el(root, "Sources")
        parts = []
        when_created = stamp_iso(created)
        source_when = f' creationDateTime="{when_created}"' if when_created else ""
        # each text is cleaned once, and what cleaning replaced counted wherever it is used
        once: dict[str, tuple[str, int]] = {}

        def cleaned(text: str) -> str:
            found = once.get(text)
            if found is None:
                before = w.replaced
                value = w.clean(text)
                once[text] = (value, w.replaced - before)
                return value
            w.replaced += found[1]
            return found[0]

        # every coding's selection, in the order the sources list them (answer, start, end,
        # code name, coder, id), sorted with keys made in C and written by one comprehension
        place = {r.id: i for i, r in enumerate(ordered)}
        code_rank = {cid: i for i, cid in enumerate(sorted(
            codes, key=lambda c: (project.code_name(c).casefold(), c)))}
        keys = list(zip(map(place.__getitem__, map(_RESPONSE, codings)), map(_SPAN, codings),
                        map(code_rank.__getitem__, map(_CODE, codings)), map(_CODER_ID, codings)))
        codings = [codings[i] for i in sorted(range(len(codings)), key=keys.__getitem__)]
        per_source = Counter(map(_RESPONSE, codings))
        user_of = {coder: user_guid(coder) for coder in coders}
        times = IsoTimes()
        seen = times.seen

        # a selection per coding: its coder's GUID (u), its time (at: the same second, the same
        # time), its coding's GUID (h: coding_guid, inline)
        sha1, variant = hashlib.sha1, _VARIANT
        selections = [
            f'      <PlainTextSelection guid="{c.id}" startPosition="{c.start}" '
            f'endPosition="{c.end}" creatingUser="{(u := user_of[c.coder])}"'
            f'{(at := _at(seen.get(c.created[:10]) or times(c.created)))}>\n'
            f'        <Coding guid="{(h := sha1(_CODING_PREFIX + c.id.encode()).hexdigest())[:8]}-'
            f'{h[8:12]}-5{h[13:16]}-{variant[h[16]]}{h[17:20]}-{h[20:32]}" creatingUser="{u}"{at}>\n'
            f'          <CodeRef targetGUID="{c.code_id}"/>\n'
            "        </Coding>\n      </PlainTextSelection>\n"
            for c in codings]
        at_selection = 0
        for i, r in enumerate(ordered):
            if i % 2000 == 0:
                ctx.step(i, len(ordered))
            q = project.questions.get(r.question_id)
            description = _text(cleaned(f"{q.key}: {q.text}")) if q else ""
            name = _attr(cleaned(f"{pid_of.get(r.participant_id, '?')} {qkey.get(r.question_id, '?')}"))
            parts.append(f'    <TextSource guid="{r.id}" name="{name}" plainTextPath="internal://{r.id}.txt"'
                         f'{source_when}>\n'
                         + (f"      <Description>{description}</Description>\n" if description
                            else "      <Description/>\n"))
            files[f"{r.id}.txt"] = r.text
            n = per_source.get(r.id, 0)
            if n:
                parts += selections[at_selection:at_selection + n]
                at_selection += n
            parts += [f'      <NoteRef targetGUID="{guid}"/>\n' for guid in note_refs.get(r.id, ())]
            parts.append("    </TextSource>\n")
        raw(sources, "".join(parts))
        ctx.step(len(ordered), len(ordered))
    if memos:
        notes = w.el(root, "Notes")
        for mm in memos:
            about = _memo_about(project, mm, pid_of, qkey)
            name = f"Memo on {about} by {mm.coder}" if about else f"Journal entry by {mm.coder}"
            w.el(notes, "Note", guid=mm.id, name=name, plainTextPath=f"internal://{mm.id}.txt",
                 creatingUser=user_guid(mm.coder), creationDateTime=stamp_iso(mm.created),
                 modifiedDateTime=stamp_iso(mm.updated))
            files[f"{mm.id}.txt"] = mm.text or ""
    _sets_el(w, root, sets, "targetGUID")
    summary = (f"Exported by tuiqa from the project \u201c{project.dir.name}\u201d: "
               f"{len(participants)} participants as cases, {len(ordered)} answers as text sources, "
               f"{len(codings)} codings" + (f" by {ctx.coder}" if ctx.coder else "") + ". "
               "Themes are the non-codable parent codes.")
    description = w.el(root, "Description", summary)
    if w.replaced:
        description.text += (f" {w.replaced} character(s) that XML 1.0 cannot hold (control "
                             "characters) were replaced by U+FFFD in names, descriptions and "
                             "attribute values; the texts in sources/ are verbatim.")
    for guid in note_refs.get("", ()):
        w.el(root, "NoteRef", targetGUID=guid)
    ctx.save(out, _zip(to_bytes(root), files, created))


def _memo_about(project: Project, mm, pid_of: dict[str, str], qkey: dict[str, str]) -> str:
    if mm.target_kind == "response":
        r = project.responses[mm.target_id]
        return f"{pid_of.get(r.participant_id, '?')} {qkey.get(r.question_id, '?')}"
    if mm.target_kind == "code":
        return project.code_name(mm.target_id)
    if mm.target_kind == "theme":
        return project.state.table("theme")[mm.target_id].name
    return ""


_RESPONSE = attrgetter("response_id")
_CODE = attrgetter("code_id")
_SPAN = attrgetter("start", "end")
_CODER_ID = attrgetter("coder", "id")
_CODING_PREFIX = NAMESPACE.bytes + b"refi-coding\x1f"
_VARIANT = {f"{n:x}": f"{(n & 0x3) | 0x8:x}" for n in range(16)}


def _at(when: str) -> str:
    return f' creationDateTime="{when}"' if when else ""


def coding_guid(coding_id: str) -> str:
    """``derived_id("refi-coding", coding_id)``, without building a UUID object (150,000 of them
    cost a second): the same SHA-1 name-based UUID, version 5, its version and variant set in
    the hex digits."""
    h = hashlib.sha1(_CODING_PREFIX + coding_id.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


QDE_LEVEL = 1  # deflate level of project.qde: XML squeezes well even so, at a third of the time
STORE_BELOW = 4096  # texts smaller than this are stored: deflating 50,000 small files costs seconds
BIG_MEMBER = 1 << 20  # deflated on threads of its own
PIECE = 8 << 20  # a big member is deflated in up to four pieces at once, none smaller than this


def _zip(qde: bytes, files: dict[str, str], stamp: str) -> bytes:
    """A deterministic zip: fixed order, the project's creation time on every entry; the texts
    of answers and memos (small) stored, project.qde deflated."""
    t = stamp_time(stamp)
    when = (1980, 1, 1, 0, 0, 0)
    if t is not None and t.year >= 1980:
        when = (t.year, t.month, t.day, t.hour, t.minute, t.second)
    members = [("project.qde", qde)] + [(f"sources/{n}", files[n].encode("utf-8", "replace"))
                                        for n in sorted(files)]
    return zip_members(members, when)


def zip_members(members: list[tuple[str, bytes]], when: tuple[int, ...]) -> bytes:
    """A zip archive of these members, written directly: :mod:`zipfile` spends ~40 µs of Python
    on each member, which for a project's 50,000 answers is most of an export. Members are
    deflated from :data:`STORE_BELOW` bytes up. An archive beyond what a plain zip can hold
    (4 GB) is left to :mod:`zipfile`; more than 65,535 members get a Zip64 end record."""
    dos_time = (when[3] << 11) | (when[4] << 5) | (when[5] // 2)
    dos_date = ((when[0] - 1980) << 9) | (when[1] << 5) | when[2]

    def deflate(name: str, data: bytes) -> bytes:
        squeeze = zlib.compressobj(QDE_LEVEL if name == "project.qde" else 6, zlib.DEFLATED, -15)
        return squeeze.compress(data) + squeeze.flush()

    def deflate_big(name: str, data: bytes) -> bytes:
        """Pieces deflated side by side (zlib lets go of the lock), joined into one stream: each
        piece but the last ends on a byte boundary (a sync flush) and none but the last is
        final, so the pieces read as one deflate stream (pigz does the same)."""
        level = QDE_LEVEL if name == "project.qde" else 6
        size = max(PIECE, -(-len(data) // 4))
        pieces = [memoryview(data)[i:i + size] for i in range(0, len(data), size)]
        out: list[bytes] = [b""] * len(pieces)

        def squeeze(i: int) -> None:
            c = zlib.compressobj(level, zlib.DEFLATED, -15)
            out[i] = c.compress(pieces[i]) + c.flush(zlib.Z_FINISH if i == len(pieces) - 1
                                                     else zlib.Z_SYNC_FLUSH)

        helpers = [threading.Thread(target=squeeze, args=(i,), daemon=True) for i in range(1, len(pieces))]
        for helper in helpers:
            helper.start()
        squeeze(0)
        for helper in helpers:
            helper.join()
        if any(not piece for piece in out[1:]):
            raise RuntimeError("a piece of the archive could not be compressed")
        return b"".join(out)

    # zlib lets go of Python's lock while it compresses: the large members (project.qde) are
    # deflated on threads of their own while the small ones are prepared here; the archive is
    # put together once all are ready
    parts: list[list] = []  # per member: name, flags, crc, body, method, version, size
    threads = []
    failed: list[BaseException] = []
    for name, data in members:
        encoded = name.encode("utf-8")
        part = [encoded, 0 if encoded.isascii() else 0x800, 0, b"", 0, 10, len(data)]
        parts.append(part)
        if len(data) >= BIG_MEMBER:
            def work(part=part, name=name, data=data) -> None:
                try:
                    part[2], part[3], part[4], part[5] = zlib.crc32(data), deflate_big(name, data), 8, 20
                except BaseException as exc:  # (out of memory): raised below, on the caller's thread
                    failed.append(exc)
            threads.append(threading.Thread(target=work, name="tuiqa-deflate", daemon=True))
            threads[-1].start()
        elif len(data) >= STORE_BELOW:
            part[2], part[3], part[4], part[5] = zlib.crc32(data), deflate(name, data), 8, 20
        else:
            part[2], part[3] = zlib.crc32(data), data
    for thread in threads:
        thread.join()
    if failed:
        raise failed[0]
    local = struct.Struct("<IHHHHHIIIHH")
    central_entry = struct.Struct("<IHHHHHHIIIHHHHHII")
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for encoded, flags, crc, body, method, version, size in parts:
        if offset + len(body) + 100 >= 0xFFFFFFFF or size >= 0xFFFFFFFF:
            return _zipfile_members(members, when)  # too big for the plain format
        header = local.pack(0x04034B50, version, flags, method, dos_time, dos_date, crc, len(body),
                            size, len(encoded), 0)
        out += (header, encoded, body)
        central.append(central_entry.pack(0x02014B50, 0x0314, version, flags, method, dos_time,
                                          dos_date, crc, len(body), size, len(encoded), 0, 0,
                                          0, 0, 0o644 << 16, offset) + encoded)
        offset += len(header) + len(encoded) + len(body)
    directory = b"".join(central)
    count = len(members)
    end: list[bytes] = []
    if count >= 0xFFFF:  # Zip64 end of central directory record and locator
        end.append(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count,
                               len(directory), offset))
        end.append(struct.pack("<IIQI", 0x07064B50, 0, offset + len(directory), 1))
    end.append(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF), min(count, 0xFFFF),
                           len(directory), offset, 0))
    return b"".join(out) + directory + b"".join(end)


def _zipfile_members(members: list[tuple[str, bytes]], when: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, when)
            info.compress_type = zipfile.ZIP_DEFLATED if len(data) >= STORE_BELOW else zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()
