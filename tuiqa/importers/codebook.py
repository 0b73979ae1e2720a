"""Read a codebook into a project: a REFI-QDA ``.qdc`` (or the codebook inside a ``.qdpx``), or
tuiqa's codebook CSV (``tuiqa export --format codebook-csv``).

What comes in: codes (matched by GUID, which is the code's id, then by name; created if missing),
their descriptions, kinds and colours, and the hierarchy. In a REFI file non-codable parent codes
become themes: nested ones become sub-themes, and a top-level one whose children are all
non-codable becomes an overarching theme; tuiqa's own exports say the level exactly with a marker
at the end of the description (see :mod:`tuiqa.exporters.refi`). tuiqa does not nest codes, so a
code under another code is placed under the nearest theme above it, with a warning. In the CSV
the ``themes`` column lists ``A > B > C`` paths separated by ``;``.

Files from other tools carry quirks. Harmless ones are accepted with a warning: an empty
``<Sets/>`` (Taguette), the namespaces ``urn:QDA-XML:codebook:0:4`` and ``…:1:0``, GUIDs in upper
case or braces, a UTF-8 BOM, codes without colours, the same code name in two branches (fused
into one code placed under both themes). Anything else wrong is refused with a message naming the
file; every problem is found before anything changes, and the import is one transaction.

XML is parsed with ``defusedxml`` and any DTD is refused, so there are no external entities (no
local files read, no network) and no entity expansion. A ``.qdc`` or CSV over :data:`MAX_BYTES` is
refused. Of a ``.qdpx`` only ``project.qde`` is read, streamed from the archive (never extracted
to disk) after every member's name (no "zip slip") and size (no zip bombs) has been checked, and
never more than :data:`MAX_QDE` bytes of it, whatever the archive declares.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml.ElementTree import iterparse

from .. import themes as T
from ..colours import colour_for, parse_colour
from ..csvsafe import unescape
from ..exporters.refi import CONCEPT_PREFIX, set_guid
from ..model import CODE_KINDS, THEME_STATUSES, Code, Theme, new_id
from ..project import Project, clean_name, name_key
from .tabular import TableError, read_table
from .ziplimits import zip_problem

MAX_BYTES = 50_000_000  # a .qdc or codebook CSV
MAX_ARCHIVE = 4_000_000_000  # a .qdpx (its sources may be large; only project.qde is read)
MAX_QDE = 500_000_000  # the project.qde inside, streamed (sources dropped as they go by)
MAX_UNZIPPED = 8_000_000_000  # all members of a .qdpx together, as declared
MAX_MEMBERS = 100_000
MAX_DEPTH = 100
ACCEPTED_NS = {"urn:QDA-XML:codebook:1.0", "urn:QDA-XML:project:1.0"}
QUIRKY_NS = {"urn:QDA-XML:codebook:0:4", "urn:QDA-XML:codebook:1:0", "urn:QDA-XML:project:1:0"}
TABLE_SUFFIXES = {".csv", ".tsv", ".tab", ".xlsx", ".xlsm"}
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_GUID = re.compile(rf"\s*(?:\{{({_UUID})\}}|({_UUID}))\s*")
_BULKY = {"Sources", "TextSource", "PictureSource", "PDFSource", "AudioSource", "VideoSource",
          "Notes", "Cases", "Links", "Graphs"}
_CODE_MARK = re.compile(r"(?:\A|\n\n)\[(semantic|latent) code(, miscellaneous)?\]\s*\Z")
_THEME_MARK = re.compile(r"(?:\A|\n\n)\[(overarching theme|theme|sub-theme)"
                         r"(?:, (candidate|reviewed|final))?"
                         r'(?:, named ("(?:[^"\\]|\\.)*"))?\]\s*\Z')  # the theme's own name


class CodebookImportError(Exception):
    def __init__(self, path: Path, problems: list[str]) -> None:
        shown = problems[:25]
        more = len(problems) - len(shown)
        head = f"{path}: " + (problems[0] if len(problems) == 1 else
                              f"{len(problems)} problems") + "; nothing was imported."
        body = "" if len(problems) == 1 else "\n  " + "\n  ".join(shown) + (
            f"\n  … and {more} more" if more > 0 else "")
        super().__init__(head + body)
        self.problems = problems


# -- the plan: what the file says, before looking at the project --------------------------------


@dataclass(eq=False)
class PTheme:
    name: str
    parent: PTheme | None
    guid: str | None = None
    description: str = ""
    concept: str = ""
    status: str = ""
    level: str | None = None  # from tuiqa's marker, if any
    has_codes: bool = False
    has_children: bool = False

    @property
    def path(self) -> str:
        return (self.parent.path + " > " if self.parent else "") + self.name

    @property
    def overarching(self) -> bool:
        if self.parent is not None:
            return False
        if self.level is not None:
            return self.level == T.OVERARCHING
        return self.has_children and not self.has_codes


@dataclass(eq=False)
class PCode:
    name: str
    guid: str | None
    kind: str | None
    description: str
    colour: str
    parked: bool
    themes: list[PTheme] = field(default_factory=list)
    seen: int = 1


@dataclass
class Plan:
    path: Path
    themes: list[PTheme] = field(default_factory=list)  # parents before children
    codes: dict[str, PCode] = field(default_factory=dict)  # by name key
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    by_guid: dict[str, PCode | PTheme] = field(default_factory=dict)

    def theme(self, name: str, parent: PTheme | None, **fields) -> PTheme:
        t = PTheme(name, parent, **fields)
        if parent is not None:
            parent.has_children = True
        self.themes.append(t)
        self._claim(t.guid, t, f"the theme {t.path!r}")
        return t

    def code(self, name: str, guid: str | None, theme: PTheme | None, *, kind: str | None = None,
             description: str = "", colour: str = "", parked: bool = False) -> PCode:
        key = name_key(name)
        pc = self.codes.get(key)
        if pc is None:
            pc = self.codes[key] = PCode(name, guid, kind, description, colour, parked)
        else:
            pc.seen += 1
            if description and pc.description and description != pc.description:
                self.warnings.append(f"the code {name!r} appears with two descriptions; "
                                     "the first is kept")
            pc.guid = pc.guid or guid
            pc.kind = pc.kind or kind
            pc.description = pc.description or description
            pc.colour = pc.colour or colour
        self._claim(guid, pc, f"the code {name!r}")
        self.place(pc, theme)
        return pc

    def place(self, pc: PCode, theme: PTheme | None) -> None:
        if theme is not None and theme not in pc.themes:
            pc.themes.append(theme)
            theme.has_codes = True

    def _claim(self, guid: str | None, owner: PCode | PTheme, what: str) -> None:
        if guid is None:
            return
        other = self.by_guid.setdefault(guid, owner)
        if other is not owner:
            kind = "code" if isinstance(other, PCode) else "theme"
            name = other.name if isinstance(other, PCode) else other.path
            self.problems.append(f"the GUID {guid} belongs to both the {kind} {name!r} and {what}")

    def finish(self) -> Plan:
        for pc in self.codes.values():
            if pc.seen > 1:
                where = ", ".join(t.path for t in pc.themes) or "the top level"
                self.warnings.append(f"the code {pc.name!r} appears {pc.seen} times (under "
                                     f"{where}): fused into one code, placed under each theme")
            if pc.themes:
                pc.parked = False
        if self.problems:
            raise CodebookImportError(self.path, self.problems)
        if not self.codes and not self.themes:
            raise CodebookImportError(self.path, ["it holds no codes"])
        return self


# -- reading files -----------------------------------------------------------------------------


def read_plan(path: Path) -> Plan:
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CodebookImportError(path, [f"the file cannot be read ({exc.strerror})"]) from None
    if path.is_dir():
        raise CodebookImportError(path, ["this is a folder, not a codebook file"])
    table = path.suffix.lower() in TABLE_SUFFIXES
    try:
        with open(path, "rb") as f:
            is_zip = f.read(4) == b"PK\x03\x04" and not table
    except OSError as exc:
        raise CodebookImportError(path, [f"the file cannot be read ({exc.strerror})"]) from None
    limit = MAX_ARCHIVE if is_zip else MAX_BYTES
    if size > limit:
        raise CodebookImportError(path, [f"the file is {size / 1e6:.1f} MB, over the "
                                         f"{limit / 1e6:.0f} MB limit for a codebook; check this "
                                         "is the right file"])
    plan = Plan(path)
    if table:
        return _read_table(plan)
    if not is_zip:
        return _read_refi(plan, _Limited(io.BytesIO(path.read_bytes()), MAX_BYTES, "the file"))
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise CodebookImportError(path, [f"not a readable zip archive ({exc}); a .qdpx is "
                                         "a zip"]) from None
    with archive:
        qde = _Limited(_open_qde(path, archive), MAX_QDE, "the archive's project.qde")
        return _read_refi(plan, qde)


def _open_qde(path: Path, archive: zipfile.ZipFile):
    """The project.qde of a .qdpx, opened for reading in memory after checking every member:
    nothing is ever extracted to disk."""
    def refuse(message: str):
        return CodebookImportError(path, [message])

    infos = archive.infolist()
    problem = zip_problem(infos, max_total=MAX_UNZIPPED, max_members=MAX_MEMBERS, what="a .qdpx")
    if problem:
        raise refuse(problem)
    qde = [i for i in infos if i.filename.lower() == "project.qde"]
    if not qde:
        raise refuse("the archive has no project.qde, so it is not a REFI-QDA project (.qdpx)")
    if qde[0].file_size > MAX_QDE:
        raise refuse(f"the archive's project.qde is over the {MAX_QDE / 1e6:.0f} MB limit; refused")
    try:
        return archive.open(qde[0])
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
        raise refuse(f"project.qde cannot be read from the archive ({exc})") from None


class _TooBig(Exception):
    pass


class _Limited(io.RawIOBase):
    """A stream that refuses to give more than ``limit`` bytes (whatever sizes a zip declares),
    and remembers how it started (for the byte-order mark)."""

    def __init__(self, raw, limit: int, what: str) -> None:
        self.raw, self.limit, self.what, self.count, self.head = raw, limit, what, 0, b""

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(self.limit + 1 if n is None or n < 0 else n)
        if not self.count:
            self.head = data[:3]
        self.count += len(data)
        if self.count > self.limit:
            raise _TooBig(f"{self.what} is over the {self.limit / 1e6:.0f} MB limit; refused")
        return data


def _local(tag: object) -> tuple[str, str]:
    if not isinstance(tag, str):
        return "", ""  # a comment or processing instruction
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _children(element: Element, local: str) -> list[Element]:
    return [c for c in element if _local(c.tag)[1] == local]


def _parse_xml(plan: Plan, source: _Limited) -> Element:
    """Parse safely (no DTD at all, so no entities), streaming: the sources, notes and cases
    of a big project are dropped as they go by, since only the codebook and sets matter."""
    path = plan.path
    root = None
    try:
        for event, elem in iterparse(source, events=("start", "end"), forbid_dtd=True,
                                     forbid_entities=True, forbid_external=True):
            if root is None:
                root = elem
            elif event == "end" and _local(elem.tag)[1] in _BULKY:
                elem.clear()
    except DTDForbidden:
        raise CodebookImportError(path, [
            "the file contains a document type declaration (<!DOCTYPE …>). REFI-QDA files never "
            "have one, and it is how XML entity attacks come in (external entities that read "
            "local files or reach the network, entity expansion bombs); refused"]) from None
    except DefusedXmlException as exc:
        raise CodebookImportError(path, [f"the file uses XML entities ({type(exc).__name__}); "
                                         "refused"]) from None
    except ParseError as exc:
        raise CodebookImportError(path, [
            f"not well-formed XML ({exc}); a REFI-QDA codebook (.qdc) is XML with <CodeBook> "
            "at its root"]) from None
    except _TooBig as exc:
        raise CodebookImportError(path, [str(exc)]) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise CodebookImportError(path, [f"project.qde cannot be read from the archive "
                                         f"({exc})"]) from None
    if source.head.startswith(codecs.BOM_UTF8):
        plan.warnings.append(f"{path.name} starts with a UTF-8 byte-order mark (harmless)")
    assert root is not None
    return root


def _guid(plan: Plan, raw: str | None, odd: list[str]) -> str | None:
    if raw is None:
        return None
    m = _GUID.fullmatch(raw)
    if m is None:
        plan.warnings.append(f"{raw!r} is not a GUID; ignored (the code is matched by name)")
        return None
    guid = m.group(1) or m.group(2)
    if guid != raw or guid != guid.lower():
        odd.append(raw)
    return guid.lower()


def _read_refi(plan: Plan, source: _Limited) -> Plan:
    root = _parse_xml(plan, source)
    ns, local = _local(root.tag)
    if local == "Project":
        books = _children(root, "CodeBook")
        if not books:
            raise CodebookImportError(plan.path, ["this REFI-QDA project has no <CodeBook>"])
        book = books[0]
    elif local == "CodeBook":
        book = root
    else:
        raise CodebookImportError(plan.path, [
            f"the root element is <{local}>, not <CodeBook> (a .qdc) or <Project> (a .qdpx's "
            "project.qde), so this is not a REFI-QDA codebook"])
    if ns in QUIRKY_NS or (ns.startswith("urn:QDA-XML:") and ns not in ACCEPTED_NS):
        plan.warnings.append(f"the namespace is {ns!r}, not the standard "
                             f"'urn:QDA-XML:codebook:1.0'; read as REFI-QDA 1.0")
    elif not ns:
        plan.warnings.append("the file has no XML namespace; read as REFI-QDA 1.0")
    elif ns not in ACCEPTED_NS:
        raise CodebookImportError(plan.path, [
            f"the root element is in the namespace {ns!r}, which is not REFI-QDA's "
            "(urn:QDA-XML:codebook:1.0)"])
    codes = _children(book, "Codes")
    if not codes or not _children(codes[0], "Code"):
        raise CodebookImportError(plan.path, ["it holds no codes (<Codes> is missing or empty)"])

    odd_guids: list[str] = []
    counts = {"no colour": 0, "no isCodable": 0}

    def visit(e: Element, theme: PTheme | None, parent_code: str | None, depth: int) -> None:
        raw_name = e.get("name")
        name = clean_name(raw_name or "")
        where = f"under {parent_code or (theme.path if theme else '')!r}" if (parent_code or theme) \
            else "at the top level"
        if not name:
            plan.problems.append(f"a <Code> {where} has no name (guid {e.get('guid')!r})")
            return
        if depth > MAX_DEPTH:
            plan.problems.append(f"the code tree is nested deeper than {MAX_DEPTH} levels")
            return
        guid = _guid(plan, e.get("guid"), odd_guids)
        codable_raw = (e.get("isCodable") or "").strip().lower()
        if codable_raw not in ("true", "1", "false", "0"):
            counts["no isCodable"] += 1
        codable = codable_raw not in ("false", "0")
        described = _children(e, "Description")
        description = (described[0].text or "").strip() if described else ""
        if codable:
            colour = ""
            raw_colour = e.get("color")
            if raw_colour:
                try:
                    colour = parse_colour(raw_colour)
                except ValueError:
                    plan.warnings.append(f"the code {name!r} has the colour {raw_colour!r}, which "
                                         "is not #RRGGBB; tuiqa's palette is used")
            else:
                counts["no colour"] += 1
            kind, parked = None, False
            mark = _CODE_MARK.search(description)
            if mark:
                kind, parked = mark.group(1), bool(mark.group(2))
                description = description[: mark.start()]
            if parent_code is not None:
                plan.warnings.append(
                    f"the code {name!r} is nested under the code {parent_code!r}; tuiqa does not "
                    "nest codes, so it is placed " +
                    (f"under the theme {theme.path!r}" if theme else "at the top level"))
            plan.code(name, guid, theme, kind=kind, description=description, colour=colour,
                      parked=parked)
            for child in _children(e, "Code"):
                visit(child, theme, name, depth + 1)
            return
        fields: dict = {"guid": guid, "description": description}
        mark = _THEME_MARK.search(description)
        if mark:
            fields["level"], fields["status"] = mark.group(1), mark.group(2) or ""
            if mark.group(3):  # exported under another name, so that no two codes share one
                try:
                    name = clean_name(json.loads(mark.group(3))) or name
                except ValueError:
                    pass
            rest = description[: mark.start()]
            at = rest.rfind(CONCEPT_PREFIX)
            if at != -1 and (at == 0 or rest[:at].endswith("\n\n")):
                fields["concept"] = rest[at + len(CONCEPT_PREFIX):]
                rest = rest[:at].rstrip("\n")
            fields["description"] = rest
        if parent_code is not None:
            plan.warnings.append(
                f"the non-codable code {name!r} is nested under the code {parent_code!r}; it "
                "becomes a theme " + (f"under {theme.path!r}" if theme else "at the top level"))
        t = plan.theme(name, theme, **fields)
        for child in _children(e, "Code"):
            visit(child, t, None, depth + 1)

    for e in _children(codes[0], "Code"):
        visit(e, None, None, 0)
    if odd_guids:
        plan.warnings.append(f"{len(odd_guids)} GUID(s) are in upper case or braces (e.g. "
                             f"{odd_guids[0]!r}); read as lower case without braces")
    if counts["no colour"]:
        plan.warnings.append(f"{counts['no colour']} code(s) have no colour; tuiqa's palette "
                             "gives them one")
    if counts["no isCodable"]:
        plan.warnings.append(f"{counts['no isCodable']} <Code> element(s) have no valid "
                             "isCodable; read as codable")
    _read_sets(plan, [s for parent in (root, book) for s in _children(parent, "Sets")], odd_guids)
    return plan.finish()


def _read_sets(plan: Plan, sets_elements: list[Element], odd: list[str]) -> None:
    """Sets standing for themes (tuiqa's, for codes under several themes) add placements;
    other code sets have no counterpart in tuiqa and are left out, with a warning."""
    by_set = {set_guid(t.guid): t for t in plan.themes if t.guid}
    by_path = {t.path.casefold(): t for t in plan.themes}
    for sets in dict.fromkeys(sets_elements):
        members = _children(sets, "Set")
        if not members:
            plan.warnings.append("the file has an empty <Sets/> (not valid REFI-QDA; Taguette "
                                 "writes it); ignored")
        for s in members:
            name = s.get("name") or "?"
            theme = by_set.get(_guid(plan, s.get("guid"), odd) or "") or \
                by_path.get(clean_name(name).casefold())
            if theme is None:
                plan.warnings.append(f"the set {name!r} is left out: tuiqa has no code sets "
                                     "(its codes are imported without it)")
                continue
            for m in _children(s, "MemberCode"):
                guid = _guid(plan, m.get("guid") or m.get("targetGUID"), odd)
                pc = plan.by_guid.get(guid or "")
                if isinstance(pc, PCode):
                    plan.place(pc, theme)
                else:
                    plan.warnings.append(f"the set {name!r} lists {guid!r}, which is not a code "
                                         "in the file; ignored")


def _read_table(plan: Plan) -> Plan:
    try:
        table = read_table(plan.path, max_bytes=MAX_BYTES)
    except TableError as exc:
        message = str(exc).removeprefix(str(plan.path)).lstrip(": ")
        raise CodebookImportError(plan.path, [("the file " if message.startswith("is ") else "")
                                              + message]) from None
    plan.warnings += table.warnings
    columns = {h.strip().casefold(): i for i, h in reversed(list(enumerate(table.header)))}
    name_col = columns.get("name", columns.get("code"))
    if name_col is None:
        raise CodebookImportError(plan.path, [f"the header has no 'name' column; found: "
                                              f"{', '.join(table.header)}"])

    def cell(row: list[str], *names: str) -> str:
        for n in names:
            i = columns.get(n)
            if i is not None and i < len(row):
                return unescape(row[i]).strip()
        return ""

    paths: dict[tuple[str, ...], PTheme] = {}
    for r, row in enumerate(table.rows):
        where = table.where(r)
        name = clean_name(unescape(row[name_col]) if name_col < len(row) else "")
        if not name:
            if any(c.strip() for c in row):
                plan.problems.append(f"{where}: the code has no name")
            continue
        kind = cell(row, "kind").lower() or None
        if kind is not None and kind not in CODE_KINDS:
            plan.problems.append(f"{where}: kind {kind!r} is not one of {', '.join(CODE_KINDS)}")
            continue
        colour = cell(row, "colour", "color")
        if colour:
            try:
                colour = parse_colour(colour)
            except ValueError:
                plan.warnings.append(f"{where}: {colour!r} is not a colour; tuiqa's palette is used")
                colour = ""
        placed: list[PTheme | None] = []
        for text in cell(row, "themes", "theme").split(";"):
            names = [clean_name(n) for n in text.split(">")]
            if not any(names):
                continue
            if not all(names):
                plan.warnings.append(f"{where}: the theme path {text.strip()!r} has an empty "
                                     "step; it is skipped over")
            parent = None
            key: tuple[str, ...] = ()
            for n in filter(None, names):
                key += (name_key(n),)
                if key not in paths:
                    paths[key] = plan.theme(n, parent)
                parent = paths[key]
            placed.append(parent)
        pc = plan.code(name, None, placed[0] if placed else None, kind=kind,
                       description=cell(row, "description"), colour=colour)
        for theme in placed[1:]:
            plan.place(pc, theme)
    return plan.finish()


# -- applying the plan -------------------------------------------------------------------------


@dataclass
class CodebookResult:
    codes_read: int = 0
    themes_read: int = 0
    new_codes: list[str] = field(default_factory=list)
    updated_codes: list[str] = field(default_factory=list)
    new_themes: list[str] = field(default_factory=list)
    placed: int = 0
    warnings: list[str] = field(default_factory=list)

    def lines(self, path: Path) -> list[str]:
        out = [f"Read {self.codes_read} code(s) and {self.themes_read} theme(s) from "
               f"{Path(path).name}: {len(self.new_codes)} new code(s), {len(self.updated_codes)} "
               f"updated, {len(self.new_themes)} new theme(s), {self.placed} code(s) newly placed "
               "under themes"]
        if self.new_codes:
            out.append("  new codes: " + ", ".join(self.new_codes))
        if self.new_themes:
            out.append("  new themes: " + ", ".join(self.new_themes))
        out.extend(f"  warning: {w}" for w in self.warnings)
        return out


def import_codebook(project: Project, path: Path, *, coder: str) -> CodebookResult:
    """Read ``path`` (.qdc, .qdpx, or codebook CSV/XLSX) into ``project``: all or nothing."""
    return apply_plan(project, read_plan(Path(path)), coder=coder)


def apply_plan(project: Project, plan: Plan, *, coder: str) -> CodebookResult:
    result = CodebookResult(len(plan.codes), len(plan.themes), warnings=list(plan.warnings))
    change = project.change(f"import codebook from {plan.path.name}")
    code_table = project.state.table("code")
    theme_table = project.state.table("theme")

    # codes: by GUID first (for every code, so a rename cannot steal a name), then by name
    ids: dict[int, str] = {}
    claimed: set[str] = set()
    placed_now = T.build(project).themes_of_code
    for pc in plan.codes.values():
        obj = code_table.get(pc.guid) if pc.guid else None
        if obj is not None and obj.is_complete() and not (
                obj.deleted and project.code_by_name(pc.name) is not None):
            ids[id(pc)] = obj.id
            claimed.add(obj.id)
    for pc in plan.codes.values():
        existing = ids.get(id(pc))
        if existing is None:
            holder = project.code_by_name(pc.name)
            if holder is not None and holder.id not in claimed:
                existing = ids[id(pc)] = holder.id
                claimed.add(holder.id)
        if existing is None:
            fields = dict(name=pc.name, kind=pc.kind or "semantic", created_by=coder,
                          description=pc.description)
            if pc.guid and pc.guid not in code_table:  # keep the file's GUID as the id
                ident = change.create(Code, pc.guid, **fields)
            else:
                ident = project.ensure_code(change, pc.name, kind=fields["kind"], coder=coder,
                                            description=pc.description)
                if ident in claimed:  # the name belongs to a code this import renames
                    ident = change.create(Code, new_id(), **fields)
            ids[id(pc)] = ident
            claimed.add(ident)
            if pc.colour and pc.colour != colour_for(ident):
                change.update("code", ident, colour=pc.colour)
            if pc.parked:
                change.update("code", ident, parked=True)
            result.new_codes.append(pc.name)
            continue
        code = code_table[existing]
        updates: dict = {}
        if code.deleted:
            updates["deleted"] = False
            result.warnings.append(f"the code {pc.name!r} had been deleted; it is restored")
        if code.name != pc.name and existing == pc.guid:  # by name: keep the project's spelling
            holder = project.code_by_name(pc.name)
            if holder is not None and holder.id != existing:
                result.warnings.append(f"the code {code.name!r} is called {pc.name!r} in the "
                                       "file, but that name is taken; it keeps its name")
            else:
                updates["name"] = pc.name
                result.warnings.append(f"the code {code.name!r} is renamed {pc.name!r} as in "
                                       "the file (same GUID)")
        if pc.kind and pc.kind != code.kind:
            updates["kind"] = pc.kind
        if pc.description and pc.description != (code.description or ""):
            updates["description"] = pc.description
        if pc.colour and pc.colour != colour_for(code.id, code.colour or ""):
            updates["colour"] = pc.colour
        if pc.parked and not code.parked and not placed_now.get(code.id):
            updates["parked"] = True
        elif pc.themes and code.parked:  # a placed code is no longer parked (as in the app)
            updates["parked"] = False
        if updates and change.update("code", existing, **updates):
            result.updated_codes.append(pc.name)

    # themes: by GUID, then by name under the same parent; new ones keep the file's GUID. Each
    # project theme stands for at most one theme of the file, and every theme of the file gets
    # its parent from the file, so the result has no cycle.
    active = T.active_themes(project)
    theme_ids: dict[int, str] = {}
    reserved = {pt.guid for pt in plan.themes if pt.guid in theme_table}
    next_order: dict[str | None, float] = {}
    for pt in plan.themes:
        parent_id = theme_ids[id(pt.parent)] if pt.parent is not None else None
        obj = theme_table.get(pt.guid) if pt.guid else None
        if obj is None or not obj.is_complete():
            obj = next((t for t in active.values() if t.id not in reserved
                        and t.id not in theme_ids.values() and name_key(t.name) == name_key(pt.name)
                        and t.parent_id == parent_id), None)
        status = pt.status if pt.status in THEME_STATUSES else ""
        if pt.status and not status:
            result.warnings.append(f"the theme {pt.path!r} has the unknown status {pt.status!r}")
        fields = {k: v for k, v in (("description", pt.description), ("concept", pt.concept),
                                    ("status", status)) if v}
        if obj is None:
            if parent_id not in next_order:
                next_order[parent_id] = max([t.order or 0.0 for t in active.values()
                                             if t.parent_id == parent_id], default=0.0)
            next_order[parent_id] += 1.0
            ident = pt.guid if pt.guid and pt.guid not in theme_table else new_id()
            change.create(Theme, ident, name=pt.name, parent_id=parent_id,
                          overarching=pt.overarching, order=next_order[parent_id],
                          created_by=coder, **fields)
            result.new_themes.append(pt.path)
        else:
            ident = obj.id
            fields["parent_id"] = parent_id
            if pt.level is not None or parent_id is not None:
                fields["overarching"] = pt.overarching
            if obj.deleted:
                fields["deleted"] = False
            if obj.name != pt.name:
                fields["name"] = pt.name
            change.update("theme", ident, **fields)
        theme_ids[id(pt)] = ident

    for pc in plan.codes.values():
        for pt in pc.themes:
            result.placed += T.assign(change, theme_ids[id(pt)], [ids[id(pc)]])
    project.commit(change, coder)
    return result
