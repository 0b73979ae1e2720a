"""Themes (phases 4 and 5): overarching themes → themes → sub-themes → codes, the miscellaneous
pile, the thematic map as text, saved map versions and what changed between them.

A theme's level follows from where it sits: a theme marked *overarching* is an overarching theme;
any other theme is a *theme* at the top or under an overarching theme, and a *sub-theme* under a
theme. A code can sit under several themes. A code under no theme is *unassigned* (listed so that
nothing is forgotten) unless it was parked in *miscellaneous* on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from . import layers
from .layers import Layer
from .model import THEME_STATUSES as STATUSES, Code, MapVersion, Theme, ThemeCode, new_id
from .project import CONSENSUS, Change, ChangeError, Project, clean_name

OVERARCHING = "overarching theme"
THEME = "theme"
SUBTHEME = "sub-theme"


# -- the tree ------------------------------------------------------------------------------------


@dataclass
class Node:
    theme: Theme
    level: str
    depth: int
    children: list[Node] = field(default_factory=list)
    code_ids: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.theme.id

    def walk(self) -> Iterable[Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def all_code_ids(self) -> set[str]:
        ids: set[str] = set()
        for node in self.walk():
            ids.update(node.code_ids)
        return ids


@dataclass
class ThemeMap:
    roots: list[Node]
    by_id: dict[str, Node]
    unassigned: list[Code]
    miscellaneous: list[Code]
    themes_of_code: dict[str, list[str]]  # code id -> theme ids holding it
    code_names: dict[str, str] = field(default_factory=dict)

    def code_name(self, code_id: str) -> str:
        return self.code_names.get(code_id, "?")


def active_themes(project: Project) -> dict[str, Theme]:
    return {t.id: t for t in project.state.table("theme").values()
            if not t.deleted and t.is_complete()}  # type: ignore[attr-defined]


def active_links(project: Project) -> list[ThemeCode]:
    return [link for link in project.state.table("themecode").values()
            if not link.deleted and link.is_complete()]  # type: ignore[attr-defined]


def build(project: Project) -> ThemeMap:
    return _build(project, active_themes(project),
                  [(link.theme_id, link.code_id) for link in active_links(project)],
                  {c.id: c for c in project.codes()})


def map_from_snapshot(project: Project, snap: dict[str, Any]) -> ThemeMap:
    """A saved version as a map (read-only: its themes are detached copies)."""
    themes: dict[str, Theme] = {}
    for tid, fields in snap.get("themes", {}).items():
        t = Theme(tid, **{k: v for k, v in fields.items() if k in Theme.FIELDS})
        themes[tid] = t
    names = snap.get("code_names", {})
    parked = set(snap.get("parked", []))
    codes: dict[str, Code] = {}
    kinds = snap.get("code_kinds", {})
    for cid, name in names.items():
        current = project.code(cid)
        kind = kinds.get(cid) or (current.kind if current else "semantic")
        codes[cid] = Code(cid, name=name, kind=kind, parked=cid in parked)
    return _build(project, themes, [tuple(pair) for pair in snap.get("links", [])], codes)


def _build(project: Project, themes: dict[str, Theme], pairs: list[tuple[str, str]],
           codes: dict[str, Code]) -> ThemeMap:
    children: dict[str | None, list[Theme]] = {}
    for t in themes.values():
        parent = t.parent_id if t.parent_id in themes and t.parent_id != t.id else None
        children.setdefault(parent, []).append(t)
    for group in children.values():
        group.sort(key=lambda t: (t.order or 0.0, t.name.casefold()))
    links: dict[str, list[str]] = {}
    themes_of_code: dict[str, list[str]] = {}
    for theme_id, code_id in pairs:
        if theme_id in themes and code_id in codes:
            links.setdefault(theme_id, []).append(code_id)
            themes_of_code.setdefault(code_id, []).append(theme_id)
    by_id: dict[str, Node] = {}

    def make(t: Theme, depth: int, under_theme: bool, seen: set[str]) -> Node:
        if t.overarching and not under_theme:
            level = OVERARCHING
        else:
            level = SUBTHEME if under_theme else THEME
        node = Node(t, level, depth)
        by_id[t.id] = node
        node.code_ids = sorted(links.get(t.id, []), key=lambda cid: codes[cid].name.casefold())
        for child in children.get(t.id, []):
            if child.id in seen:  # a cycle (two moves at once): cut it here
                continue
            node.children.append(make(child, depth + 1, level != OVERARCHING, seen | {child.id}))
        return node

    roots = [make(t, 0, False, {t.id}) for t in children.get(None, [])]
    # themes caught in a parent cycle have no root: show them at the top rather than lose them
    for t in themes.values():
        if t.id not in by_id:
            roots.append(make(t, 0, False, {t.id}))
    roots.sort(key=lambda n: (not n.theme.overarching, n.theme.order or 0.0, n.theme.name.casefold()))
    placed = set(themes_of_code)
    unassigned = [c for c in codes.values() if c.id not in placed and not c.parked]
    misc = [c for c in codes.values() if c.parked and c.id not in placed]
    key = lambda c: c.name.casefold()  # noqa: E731
    return ThemeMap(roots, by_id, sorted(unassigned, key=key), sorted(misc, key=key),
                    themes_of_code, {cid: c.name for cid, c in codes.items()})


@dataclass
class Counts:
    codes: int
    extracts: int
    participants: int


def code_participants(project: Project, coder: str | None = None) -> dict[str, tuple[int, frozenset[str]]]:
    """Per code: (extracts, the participants they come from). Remembered until the project
    changes, so the themes screen, the map and the group check share one pass over the codings."""

    def compute() -> dict[str, tuple[int, frozenset[str]]]:
        participant_of = {rid: r.participant_id for rid, r in project.responses.items()}
        found = {}
        for cid, codings in project.codings_by_code.items():
            items = [c for c in codings.values()
                     if (c.coder == coder if coder is not None else c.coder != CONSENSUS)]
            found[cid] = (len(items), frozenset({participant_of.get(c.response_id) for c in items}) - {None})
        return found

    return project.remember(("code_participants", coder), compute)


def counts(project: Project, theme_map: ThemeMap, coder: str | Layer | None = None) -> dict[str, Counts]:
    """Codes, extracts and participants under every theme node (its whole subtree), and per code
    (``code:<id>``). ``coder``: a :class:`~tuiqa.layers.Layer` counts that layer (each passage
    once, as a write-up lists it); a coder's name counts that coder's codings; None every coder's
    but the consensus layer."""
    if isinstance(coder, Layer):
        per_code = {cid: (n.extracts, n.participant_ids)
                    for cid, n in layers.counts(project, coder).items()}
    else:
        per_code = code_participants(project, coder)
    empty: tuple[int, frozenset[str]] = (0, frozenset())
    out: dict[str, Counts] = {}
    for node in theme_map.by_id.values():
        ids = node.all_code_ids()
        extracts = 0
        people: set[str] = set()
        for cid in ids:
            n, pids = per_code.get(cid, empty)
            extracts += n
            people |= pids
        out[node.id] = Counts(len(ids), extracts, len(people))
    out.update({f"code:{cid}": Counts(1, n, len(p)) for cid, (n, p) in per_code.items()})
    return out


# -- operations (on a Change; the session commits and undoes them) -------------------------------


def _next_order(project: Project, parent_id: str | None) -> float:
    siblings = [t.order or 0.0 for t in active_themes(project).values() if t.parent_id == parent_id]
    return (max(siblings) + 1.0) if siblings else 1.0


def create(project: Project, change: Change, name: str, *, parent_id: str | None = None,
           overarching: bool = False, coder: str = "") -> str:
    name = clean_name(name)
    if not name:
        raise ChangeError("a theme needs a name")
    if parent_id is not None and (not change.exists("theme", parent_id)
                                  or change.current("theme", parent_id, "deleted")):
        raise ChangeError("that parent theme no longer exists")
    return change.create(Theme, new_id(), name=name, parent_id=parent_id,
                         overarching=overarching and parent_id is None,
                         order=_next_order(project, parent_id), created_by=coder)


def descendants(project: Project, theme_id: str) -> set[str]:
    themes = active_themes(project)
    out: set[str] = set()
    frontier = [theme_id]
    while frontier:
        current = frontier.pop()
        for t in themes.values():
            if t.parent_id == current and t.id not in out:
                out.add(t.id)
                frontier.append(t.id)
    return out


def move(project: Project, change: Change, theme_id: str, parent_id: str | None) -> None:
    """Re-parent a theme (None: to the top). A theme cannot go under itself or its own
    sub-themes; an overarching theme moved under another theme becomes an ordinary one."""
    if parent_id == theme_id or (parent_id is not None and parent_id in descendants(project, theme_id)):
        raise ChangeError("a theme cannot be moved under itself or one of its sub-themes")
    fields: dict[str, Any] = {"parent_id": parent_id, "order": _next_order(project, parent_id)}
    if parent_id is not None:
        fields["overarching"] = False
    change.update("theme", theme_id, **fields)


def reorder(project: Project, change: Change, theme_id: str, delta: int) -> bool:
    themes = active_themes(project)
    me = themes[theme_id]
    siblings = sorted((t for t in themes.values() if t.parent_id == me.parent_id),
                      key=lambda t: (t.order or 0.0, t.name.casefold()))
    i = siblings.index(me)
    j = i + delta
    if not 0 <= j < len(siblings):
        return False
    # renumber the siblings so swapping is well defined even if orders were equal
    ordered = siblings[:]
    ordered[i], ordered[j] = ordered[j], ordered[i]
    for n, t in enumerate(ordered, 1):
        change.update("theme", t.id, order=float(n))
    return True


def assign(change: Change, theme_id: str, code_ids: Iterable[str]) -> int:
    n = 0
    for cid in code_ids:
        ident = ThemeCode.make_id(theme_id, cid)
        if change.exists("themecode", ident):
            if change.update("themecode", ident, deleted=False):
                n += 1
        else:
            change.create(ThemeCode, ident, theme_id=theme_id, code_id=cid)
            n += 1
    return n


def unassign(change: Change, theme_id: str, code_id: str) -> bool:
    ident = ThemeCode.make_id(theme_id, code_id)
    return change.exists("themecode", ident) and change.update("themecode", ident, deleted=True)


def delete(project: Project, change: Change, theme_id: str) -> tuple[int, int]:
    """Delete a theme: its codes return to the unassigned pile (unless placed elsewhere), its
    sub-themes move up to its parent. Returns (codes released, sub-themes moved up)."""
    theme = active_themes(project)[theme_id]
    released = 0
    for link in active_links(project):
        if link.theme_id == theme_id:
            change.update("themecode", link.id, deleted=True)
            released += 1
    moved = 0
    for t in active_themes(project).values():
        if t.parent_id == theme_id:
            change.update("theme", t.id, parent_id=theme.parent_id)
            moved += 1
    change.update("theme", theme_id, deleted=True)
    return released, moved


def park(change: Change, code_id: str, parked: bool) -> None:
    change.update("code", code_id, parked=parked)


# -- the map as text -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Branches:
    tee: str
    last: str
    pipe: str
    blank: str


UNICODE_BRANCHES = Branches("├── ", "└── ", "│   ", "    ")
ASCII_BRANCHES = Branches("|-- ", "`-- ", "|   ", "    ")


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _fit(text: str, width: int) -> str:
    """``text`` on one line in at most ``width`` terminal cells, cut with … when it must be."""
    from .text import one_line

    return one_line(text, max(width, 2))


def _label_lines(first_prefix: str, more_prefix: str, name: str, counts: str, width: int, *,
                 beside: bool = False) -> list[str]:
    """One map entry laid out to the width once: ``name (counts)`` on one line if it fits;
    otherwise the name cut with … and the counts whole beside it (``beside``: a code's short
    count) or on the lines under it, broken only between their parts. A count is never cut and
    a cut name is never wrapped."""
    from .text import cells, one_line

    whole = f"{name} {counts}" if counts else name
    if cells(first_prefix) + cells(one_line(whole)) <= width:
        return [first_prefix + one_line(whole)]
    room = width - cells(first_prefix)
    if beside and counts and room - cells(counts) - 1 >= 8:
        return [first_prefix + _fit(name, room - cells(counts) - 1) + " " + counts]
    lines = [first_prefix + _fit(name, room)]
    if not counts:
        return lines
    room = max(width - cells(more_prefix), 1)
    current = ""
    for part in counts.split(", "):
        piece = f"{current}, {part}" if current else part
        if current and cells(piece) + 1 > room:
            lines.append(more_prefix + current + ",")
            current = part
        else:
            current = piece
    lines.append(more_prefix + current)
    return lines


def map_lines(project: Project, theme_map: ThemeMap, *, width: int = 80, ascii_only: bool = False,
              counts_by: dict[str, Counts] | None = None, roots: list[Node] | None = None,
              show_piles: bool = True, show_counts: bool = True) -> list[str]:
    """The thematic map as an indented tree with connectors, each line laid out to ``width``
    terminal cells once: a name that does not fit is cut with …, and its counts go whole onto
    the line under it (never cut, never left to a terminal to wrap)."""
    b = ASCII_BRANCHES if ascii_only else UNICODE_BRANCHES
    if not show_counts:
        counts_by = {}
    counts_by = counts_by if counts_by is not None else counts(project, theme_map)
    lines: list[str] = []

    def theme_parts(node: Node) -> tuple[str, str]:
        c = counts_by.get(node.id, Counts(0, 0, 0))
        status = "" if node.theme.status in ("candidate", "", None) else f" [{node.theme.status}]"
        kind = {OVERARCHING: "OVERARCHING: ", SUBTHEME: "sub-theme: ", THEME: ""}[node.level]
        if not show_counts:
            return f"{kind}{node.theme.name}{status}", ""
        return (f"{kind}{node.theme.name}{status}",
                f"({plural(c.codes, 'code')}, {plural(c.extracts, 'extract')}, "
                f"{plural(c.participants, 'participant')})")

    def code_parts(cid: str) -> tuple[str, str]:
        c = counts_by.get(f"code:{cid}", Counts(1, 0, 0))
        return theme_map.code_name(cid), f"({c.extracts})" if show_counts else ""

    def walk(node: Node, prefix: str, connector: str, child_prefix: str) -> None:
        items: list[tuple[str, Any]] = [("code", cid) for cid in node.code_ids]
        items += [("theme", child) for child in node.children]
        name, count = theme_parts(node)
        # the counts' own line hangs under the name, inside the branch
        lines.extend(_label_lines(prefix + connector, child_prefix + (b.pipe if items else b.blank),
                                  name, count, width))
        for i, (kind, item) in enumerate(items):
            last = i == len(items) - 1
            conn = b.last if last else b.tee
            nxt = child_prefix + (b.blank if last else b.pipe)
            if kind == "code":
                lines.extend(_label_lines(child_prefix + conn, nxt, *code_parts(item), width,
                                          beside=True))
            else:
                walk(item, child_prefix, conn, nxt)

    for root in (roots if roots is not None else theme_map.roots):
        walk(root, "", "", "")
        lines.append("")
    if show_piles:
        for title, codes in (("Miscellaneous", theme_map.miscellaneous),
                             ("Unassigned", theme_map.unassigned)):
            if not codes:
                continue
            lines.extend(_label_lines("", "", title, f"({plural(len(codes), 'code')})", width))
            for i, code in enumerate(codes):
                last = i == len(codes) - 1
                lines.extend(_label_lines(b.last if last else b.tee, b.blank if last else b.pipe,
                                          *code_parts(code.id), width, beside=True))
            lines.append("")
    while lines and not lines[-1]:
        lines.pop()
    return lines


def map_pages(project: Project, theme_map: ThemeMap, *, width: int = 80, ascii_only: bool = False,
              counts_by: dict[str, Counts] | None = None) -> list[list[str]]:
    """The map a part at a time, for a screen too small for all of it: each overarching theme
    with everything under it, then the other top-level themes together, then the miscellaneous
    and unassigned piles, only when they hold codes (so no page is empty). Each page is laid
    out as :func:`map_lines` lays out the whole map."""
    counts_by = counts_by if counts_by is not None else counts(project, theme_map)
    groups: list[list[Node]] = [[r] for r in theme_map.roots if r.level == OVERARCHING]
    rest = [r for r in theme_map.roots if r.level != OVERARCHING]
    if rest:
        groups.append(rest)
    pages = [map_lines(project, theme_map, width=width, ascii_only=ascii_only, counts_by=counts_by,
                       roots=g, show_piles=False) for g in groups]
    if theme_map.miscellaneous or theme_map.unassigned:
        pages.append(map_lines(project, theme_map, width=width, ascii_only=ascii_only,
                               counts_by=counts_by, roots=[], show_piles=True))
    return [page for page in pages if page]


def map_json(project: Project, theme_map: ThemeMap) -> dict[str, Any]:
    def node_json(node: Node) -> dict[str, Any]:
        t = node.theme
        return {"id": t.id, "name": t.name, "level": node.level, "description": t.description,
                "concept": t.concept, "status": t.status,
                "codes": [theme_map.code_name(cid) for cid in node.code_ids],
                "children": [node_json(child) for child in node.children]}

    return {"themes": [node_json(root) for root in theme_map.roots],
            "unassigned": [c.name for c in theme_map.unassigned],
            "miscellaneous": [c.name for c in theme_map.miscellaneous]}


# -- versions ------------------------------------------------------------------------------------


def snapshot(project: Project, *, with_counts: bool = False) -> dict[str, Any]:
    """Everything that makes up the map now, by ID (names kept too, for reading and diffing).
    ``with_counts`` (a saved version): also the codes' kinds and the counts as they are now, in
    the primary layer, so the version shows its own counts later, not today's."""
    themes = active_themes(project)
    codes = project.codes()
    code_ids = {c.id for c in codes}
    snap: dict[str, Any] = {
        "themes": {t.id: {"name": t.name, "description": t.description, "concept": t.concept,
                          "status": t.status, "parent_id": t.parent_id, "order": t.order,
                          "overarching": bool(t.overarching)} for t in themes.values()},
        "links": sorted([link.theme_id, link.code_id] for link in active_links(project)
                        if link.theme_id in themes and link.code_id in code_ids),
        "parked": sorted(c.id for c in codes if c.parked),
        "code_names": {c.id: c.name for c in codes},
    }
    if with_counts:
        layer = layers.primary_layer(project)
        found = counts(project, build(project), layer) if layer is not None else {}
        snap["code_kinds"] = {c.id: c.kind or "semantic" for c in codes}
        snap["counts"] = {
            "layer": layer.spec if layer is not None else "",
            "codes": {cid: [found[f"code:{cid}"].extracts, found[f"code:{cid}"].participants]
                      for cid in code_ids if f"code:{cid}" in found},
            "themes": {tid: [found[tid].codes, found[tid].extracts, found[tid].participants]
                       for tid in themes if tid in found},
        }
    return snap


def version_counts(snap: dict[str, Any]) -> dict[str, Counts] | None:
    """The counts a version was saved with (None: saved before versions kept them)."""
    stored = snap.get("counts")
    if not isinstance(stored, dict):
        return None
    out = {tid: Counts(*values) for tid, values in stored.get("themes", {}).items()}
    out.update({f"code:{cid}": Counts(1, *values) for cid, values in stored.get("codes", {}).items()})
    return out


def version_lines(project: Project, snap: dict[str, Any], *, width: int = 80,
                  ascii_only: bool = False, roots: list[Node] | None = None,
                  show_piles: bool = True) -> list[str]:
    """A saved version as it was: its own names and its own counts (for a version saved before
    versions kept counts, names only: today's counts against the old map would mislead). The
    first line says which."""
    m = map_from_snapshot(project, snap)
    stored = version_counts(snap)
    if stored is None:
        note = "(saved before map versions kept their counts: names only)"
    else:
        layer = (snap.get("counts") or {}).get("layer") or ""
        whose = f"{layer.replace('+', ', else ')}'s codings" if layer else "no codings"
        note = f"(counts as saved: extracts and participants in {whose})"
    return [note] + map_lines(project, m, width=width, ascii_only=ascii_only,
                              counts_by=stored or {}, roots=roots, show_piles=show_piles,
                              show_counts=stored is not None)


def save_version(project: Project, change: Change, label: str, coder: str) -> str:
    label = " ".join(label.split())
    if not label:
        raise ChangeError("a map version needs a label")
    return change.create(MapVersion, new_id(), label=label, snapshot=snapshot(project, with_counts=True),
                         created_by=coder)


def versions(project: Project) -> list[MapVersion]:
    items = [v for v in project.state.table("mapversion").values() if not v.deleted and v.is_complete()]
    return sorted(items, key=lambda v: v.created)  # type: ignore[return-value]


def restore(project: Project, change: Change, snap: dict[str, Any]) -> None:
    """Make the themes, their codes and the parked codes what the snapshot says (one change, so
    one undo goes back). Codes deleted since keep their place only if they still exist."""
    current = {t.id: t for t in project.state.table("theme").values()}
    wanted = snap.get("themes", {})
    for tid, fields in wanted.items():
        values = {k: fields.get(k) for k in ("name", "description", "concept", "status",
                                               "parent_id", "order", "overarching")}
        values["deleted"] = False
        if tid in current:
            change.update("theme", tid, **values)
        else:
            change.create(Theme, tid, **values)
    for tid, t in current.items():
        if tid not in wanted and not t.deleted:
            change.update("theme", tid, deleted=True)
    codes = {c.id for c in project.codes()}
    wanted_links = {(t, c) for t, c in snap.get("links", []) if c in codes}
    for link in project.state.table("themecode").values():
        pair = (link.theme_id, link.code_id)
        if pair in wanted_links:
            change.update("themecode", link.id, deleted=False)
            wanted_links.discard(pair)
        elif not link.deleted:
            change.update("themecode", link.id, deleted=True)
    for t, c in wanted_links:
        assign(change, t, [c])
    parked = set(snap.get("parked", []))
    for c in project.codes():
        if bool(c.parked) != (c.id in parked):
            change.update("code", c.id, parked=c.id in parked)


UNASSIGNED_PLACE = "(unassigned)"
MISC_PLACE = "(miscellaneous)"


@dataclass
class MapDiff:
    added: list[str] = field(default_factory=list)     # theme names
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    moved: list[tuple[str, str, str]] = field(default_factory=list)  # theme, from parent, to parent
    codes_moved: list[tuple[str, list[str], list[str]]] = field(default_factory=list)  # code, from, to
    codes_added: list[tuple[str, list[str]]] = field(default_factory=list)  # code, where it is
    codes_removed: list[tuple[str, list[str]]] = field(default_factory=list)  # code, where it was
    codes_renamed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.renamed or self.moved or self.codes_moved
                    or self.codes_added or self.codes_removed or self.codes_renamed)

    def lines(self) -> list[str]:
        def where(places: list[str]) -> str:
            if places == [UNASSIGNED_PLACE]:
                return "unassigned"
            if places == [MISC_PLACE]:
                return "in miscellaneous"
            return "under " + ", ".join(places)

        out = [f"+ theme added: {n}" for n in self.added]
        out += [f"- theme removed: {n}" for n in self.removed]
        out += [f"~ theme renamed: {a} → {b}" for a, b in self.renamed]
        out += [f"↳ theme moved: {n}: {a or '(top)'} → {b or '(top)'}" for n, a, b in self.moved]
        out += [f"+ code added: {n} ({where(places)})" for n, places in self.codes_added]
        out += [f"- code removed: {n} (was {where(places)})" for n, places in self.codes_removed]
        out += [f"~ code renamed: {a} → {b}" for a, b in self.codes_renamed]
        for code, before, after in self.codes_moved:
            out.append(f"• code moved: {code}: {', '.join(before) or '(none)'} → {', '.join(after) or '(none)'}")
        return out or ["no differences"]


def diff(a: dict[str, Any], b: dict[str, Any]) -> MapDiff:
    """What changed from snapshot ``a`` to snapshot ``b``: themes and codes matched by ID, so a
    rename is a rename and a code merged or deleted away is removed (from where it was). Works
    on snapshots saved by older versions too (no counts; links to codes since deleted)."""
    ta, tb = a.get("themes", {}), b.get("themes", {})
    names_a, names_b = a.get("code_names", {}), b.get("code_names", {})

    def theme_name(tid: str | None, snap: dict) -> str:
        if tid is None:
            return ""
        return snap.get("themes", {}).get(tid, {}).get("name") or ta.get(tid, {}).get("name") or \
            tb.get(tid, {}).get("name") or "?"

    def places(snap: dict) -> dict[str, set[str]]:
        """code id -> the theme ids holding it, or the pile it is in."""
        themes, names = snap.get("themes", {}), snap.get("code_names", {})
        parked = set(snap.get("parked", []))
        out: dict[str, set[str]] = {cid: set() for cid in names}
        for t, c in snap.get("links", []):
            if c in out and t in themes:
                out[c].add(t)
        for cid, where in out.items():
            if not where:
                where.add(MISC_PLACE if cid in parked else UNASSIGNED_PLACE)
        return out

    def shown(ids: set[str], snap: dict) -> list[str]:
        return sorted(t if t in (MISC_PLACE, UNASSIGNED_PLACE) else theme_name(t, snap) for t in ids)

    d = MapDiff()
    d.added = sorted(tb[t]["name"] for t in tb if t not in ta)
    d.removed = sorted(ta[t]["name"] for t in ta if t not in tb)
    for t in ta.keys() & tb.keys():
        if ta[t]["name"] != tb[t]["name"]:
            d.renamed.append((ta[t]["name"], tb[t]["name"]))
        if ta[t].get("parent_id") != tb[t].get("parent_id"):
            d.moved.append((tb[t]["name"], theme_name(ta[t].get("parent_id"), a),
                            theme_name(tb[t].get("parent_id"), b)))
    where_a, where_b = places(a), places(b)
    for cid in sorted(names_b.keys() - names_a.keys(), key=lambda c: names_b[c].casefold()):
        d.codes_added.append((names_b[cid], shown(where_b[cid], b)))
    for cid in sorted(names_a.keys() - names_b.keys(), key=lambda c: names_a[c].casefold()):
        d.codes_removed.append((names_a[cid], shown(where_a[cid], a)))
    for cid in sorted(names_a.keys() & names_b.keys(), key=lambda c: names_b[c].casefold()):
        if names_a[cid] != names_b[cid]:
            d.codes_renamed.append((names_a[cid], names_b[cid]))
        if where_a[cid] != where_b[cid]:
            d.codes_moved.append((names_b[cid], shown(where_a[cid], a), shown(where_b[cid], b)))
    d.renamed.sort()
    d.moved.sort()
    d.codes_renamed.sort()
    return d
