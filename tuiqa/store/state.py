"""The in-memory state of a project and the one rule by which every change is applied.

A change (an *op*) sets some fields of one entity::

    {"s": stamp, "k": kind, "i": id, "f": {field: value, ...}, "p": {field: prev_stamp, ...}}

``p`` holds, for each field, the stamp of the value the writer saw when it made the change. An op
without ``p`` creates the entity (its writer saw no earlier value). Ops are applied field by field:

* the op with the later stamp wins (stamps are totally ordered, see :mod:`tuiqa.store.stamps`);
* every field keeps a short history of the stamps it has known, so applying an op twice, in any
  order, or merging two copies of a project, converges to the same state (idempotent, commutative);
* a **conflict** is a change that loses to another change of the same field made without seeing
  it (two coders renamed the same code at once). The winner is kept, the loser is reported: it is
  returned from :meth:`State.apply` and the store records it in the project.

Deletion is a field (``deleted``), so nothing is ever removed and an undo or a merge can bring it
back or keep it gone on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..model import (
    ENTITY_TYPES,
    Entity,
    Participant,
    Question,
    Response,
)
from .stamps import is_derived

HISTORY_LIMIT = 16


@dataclass(frozen=True)
class ConflictInfo:
    kind: str
    target_id: str
    field: str
    kept: Any
    lost: Any
    kept_stamp: str
    lost_stamp: str
    lost_by: str
    kept_by: str = ""


Listener = Callable[[str, Entity, "dict[str, Any] | None"], None]


class State:
    """Survey plus entities, with indexes kept by listeners (see :mod:`tuiqa.project`)."""

    def __init__(self) -> None:
        self.participants: dict[str, Participant] = {}
        self.questions: dict[str, Question] = {}
        self.responses: dict[str, Response] = {}
        self.attributes: list[str] = []
        self.survey_meta: dict[str, Any] = {}
        #: response ids in reading order, per order name (memo; dropped when the survey changes)
        self.sequences: dict[str, list[str]] = {}
        self.entities: dict[str, dict[str, Entity]] = {kind: {} for kind in ENTITY_TYPES}
        #: Ops of kinds this version does not know (written by a newer tuiqa): kept, never lost.
        self.unknown_ops: list[dict[str, Any]] = []
        self._listeners: list[Listener] = []
        self._reset_listeners: list[Callable[[], None]] = []
        self._loaded_listeners: list[Callable[[], None]] = []
        #: canonical strings while loading (see _SHARED_FIELDS)
        self._canon: dict[str, str] = {}
        #: every session whose changes are known: tag -> {"coder", "machine", "started"}
        self.sessions: dict[str, dict[str, str]] = {}

    def reset(self) -> None:
        """Forget everything (before a reload); listeners drop their indexes."""
        self.participants, self.questions, self.responses = {}, {}, {}
        self.attributes, self.survey_meta = [], {}
        self.sequences = {}
        self.entities = {kind: {} for kind in ENTITY_TYPES}
        self.unknown_ops = []
        self.sessions = {}
        for callback in self._reset_listeners:
            callback()

    def add_reset_listener(self, callback: Callable[[], None]) -> None:
        self._reset_listeners.append(callback)

    # -- listeners ---------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def table(self, kind: str) -> dict[str, Entity]:
        table = self.entities.get(kind)
        if table is None:
            table = self.entities[kind] = {}
        return table

    # -- the rule ----------------------------------------------------------------------------

    def apply(self, op: dict[str, Any], by: str = "") -> list[ConflictInfo]:
        kind = op["k"]
        cls = ENTITY_TYPES.get(kind)
        if cls is None:
            self.unknown_ops.append(op)
            return []
        table = self.table(kind)
        ident = op["i"]
        stamp = op["s"]
        fields: dict[str, Any] = op.get("f") or {}
        prevs: dict[str, Any] | None = op.get("p")
        obj = table.get(ident)
        if obj is None:
            obj = cls(ident)
            if prevs is None:
                obj._s = stamp
                for name, value in fields.items():
                    if name in cls.FIELDS:
                        setattr(obj, name, value)
            else:
                obj._fh = {}
                for name, value in fields.items():
                    if name in cls.FIELDS:
                        setattr(obj, name, value)
                        obj._fh[name] = _merge_hist([stamp], _ancestors(prevs, name))
            table[ident] = obj
            self._notify(kind, obj, None)
            return []

        before = None
        conflicts: list[ConflictInfo] = []
        changed = False
        defaults = cls.DEFAULTS
        creation = prevs is None
        implicit = False  # the fields this creation sets on nothing are known by its stamp
        if creation:
            # The same entity created in two places (an id derived from what it is: the same code
            # named at once by two coders), or its creation arriving after a later change. A
            # field a creation leaves at its default is not set by it, so what one creation set
            # is never undone by the other's defaults; the earliest creation stamp is kept.
            if not obj._s:
                obj._s, implicit = stamp, True
            elif stamp < obj._s:
                _pin(obj, cls)
                obj._s, implicit = stamp, True
        for name, value in fields.items():
            if name not in cls.FIELDS:
                continue
            if creation and name in defaults and value == defaults[name]:
                continue
            fh = obj._fh
            current = getattr(obj, name)
            if fh is not None and name in fh:
                hist = fh[name]
            elif obj._s and not (name in defaults and current == defaults[name]) \
                    and not (implicit and obj._s == stamp):
                hist = [obj._s]
            else:
                hist = []  # never set: holds its default
            head = hist[0] if hist else ""
            seen = _ancestors(prevs, name)
            if stamp == head or stamp in hist:
                if seen and not set(seen) <= set(hist):
                    if obj._fh is None:
                        obj._fh = {}
                    obj._fh[name] = _merge_hist(hist, seen)  # what it had seen, known now too
                continue
            quiet = name in cls.QUIET or name == "created_by" or is_derived(stamp) or is_derived(head)
            if stamp > head:
                if head and head not in seen and current != value and not quiet:
                    conflicts.append(ConflictInfo(kind, ident, name, value, current, stamp, head,
                                                  self.who(head), by or self.who(stamp)))
                if before is None:
                    before = obj.values()
                setattr(obj, name, value)
                changed = True
            elif current != value and not quiet and not _forgotten(hist, stamp):
                conflicts.append(ConflictInfo(kind, ident, name, current, value, head, stamp,
                                              by or self.who(stamp), self.who(head)))
            if not hist and implicit:
                continue  # set by the creation that is now the entity's own: known by _s
            new_hist = _merge_hist(hist, [stamp], seen)
            if obj._fh is None:
                obj._fh = {}
            obj._fh[name] = new_hist
        if changed:
            self._notify(kind, obj, before)
        return conflicts

    def who(self, stamp: str) -> str:
        """The coder whose session made the change stamped ``stamp`` ("" if not known)."""
        parts = stamp.split(".", 2)
        if len(parts) < 3:
            return ""
        info = self.sessions.get(parts[2][:8])
        return info.get("coder", "") if info else ""

    def apply_all(self, ops: Iterable[dict[str, Any]], by: str = "") -> list[ConflictInfo]:
        out: list[ConflictInfo] = []
        for op in ops:
            found = self.apply(op, by)
            if found:
                out.extend(found)
        return out

    def _notify(self, kind: str, obj: Entity, before: dict[str, Any] | None) -> None:
        for listener in self._listeners:
            listener(kind, obj, before)

    # -- snapshots ---------------------------------------------------------------------------

    def entity_docs(self, kind: str) -> list[dict[str, Any]]:
        """Documents for the snapshot, in a stable order (creation stamp, then id)."""
        table = self.entities.get(kind) or {}
        ordered = sorted(table.values(), key=lambda o: (o._s or o.updated, o.id))
        return [entity_to_doc(obj) for obj in ordered]

    def load_entity_docs(self, kind: str, docs: Iterable[dict[str, Any]]) -> None:
        """Load snapshot documents (no listeners are told; see :meth:`end_load`)."""
        cls = ENTITY_TYPES.get(kind)
        if cls is None:
            return
        table = self.table(kind)
        make = _constructor(cls)
        canon = self._canon
        for doc in docs:
            obj = make(doc, canon)
            table[obj.id] = obj

    def absorb_docs(self, kind: str, docs: Iterable[dict[str, Any]], *,
                    bulk: bool = False) -> tuple[list[ConflictInfo], list[dict[str, Any]]]:
        """Union another snapshot's documents into this state, field by field, by the same
        rule as every change (:meth:`apply`). With ``bulk`` (while loading, before
        :meth:`end_load`) an entity this state lacks is taken as it is, unannounced.
        Returns the conflicts found and the ops that were new here."""
        cls = ENTITY_TYPES.get(kind)
        if cls is None:
            return [], []
        table = self.table(kind)
        make = _constructor(cls)
        canon = self._canon
        conflicts: list[ConflictInfo] = []
        applied: list[dict[str, Any]] = []
        for doc in docs:
            ident = doc.get("id")
            mine = table.get(ident)
            if mine is not None and doc.get("_s", "") == mine._s and \
                    (doc.get("_h") or None) == mine._fh:
                continue  # the same version of it
            theirs = make(doc, canon)
            if mine is None and bulk:
                table[theirs.id] = theirs
                applied.append({"s": theirs.updated, "k": kind, "i": theirs.id, "f": {}})
                continue
            ops = entity_ops(theirs, mine)
            for op in ops:
                found = self.apply(op, self.who(op["s"]))
                if found:
                    conflicts.extend(found)
            applied.extend(ops)
        return conflicts, applied

    def end_load(self) -> None:
        """After a bulk load: listeners rebuild their indexes from scratch, once."""
        self._canon = {}
        for callback in self._loaded_listeners:
            callback()

    def add_loaded_listener(self, callback: Callable[[], None]) -> None:
        self._loaded_listeners.append(callback)

    def latest_stamp(self) -> str:
        """The latest stamp anything in the state carries (the clock must move past it)."""
        return latest_stamp(self.entities)


def latest_stamp(entities: dict[str, dict[str, Entity]]) -> str:
    latest = ""
    for table in entities.values():
        for obj in table.values():
            if obj._s > latest:
                latest = obj._s
            fh = obj._fh
            if fh:
                for hist in fh.values():
                    if hist and hist[0] > latest:
                        latest = hist[0]
    return latest


#: Fields that refer to other objects: one shared string per distinct value saves memory.
_SHARED_FIELDS = ("response_id", "code_id", "coder", "target_id", "target_kind", "theme_id",
                  "participant_id", "question_id")


def _constructor(cls: type[Entity]) -> Callable[[dict[str, Any], dict[str, str]], Entity]:
    make = _CONSTRUCTORS.get(cls)
    if make is not None:
        return make
    lines = ["def make(d, canon, new=object.__new__, cls=cls, defaults=defaults):",
             "    o = new(cls)", "    o.id = d['id']", "    o._s = d.get('_s', '')",
             "    o._fh = d.get('_h') or None"]
    for name in cls.FIELDS:
        if name in _SHARED_FIELDS:
            lines.append(f"    v = d.get({name!r})")
            lines.append(f"    o.{name} = canon.setdefault(v, v) if v.__class__ is str else v")
        elif name in cls.DEFAULTS:
            lines.append(f"    o.{name} = d.get({name!r}, defaults[{name!r}])")
        else:
            lines.append(f"    o.{name} = d.get({name!r})")
    lines.append("    return o")
    namespace: dict[str, Any] = {"cls": cls, "defaults": cls.DEFAULTS}
    exec("\n".join(lines), namespace)  # a specialised constructor: 5x faster than setattr loops
    make = namespace["make"]
    _CONSTRUCTORS[cls] = make
    return make


_CONSTRUCTORS: dict[type, Callable[..., Entity]] = {}


def _pin(obj: Entity, cls: type[Entity]) -> None:
    """Before an earlier creation takes over ``_s``: the fields the current one set keep its
    stamp explicitly."""
    defaults = cls.DEFAULTS
    for name in cls.FIELDS:
        if obj._fh is not None and name in obj._fh:
            continue
        value = getattr(obj, name)
        if name in defaults and value == defaults[name]:
            continue
        if obj._fh is None:
            obj._fh = {}
        obj._fh[name] = [obj._s]


def _forgotten(hist: list[str], stamp: str) -> bool:
    """Older than everything a full history remembers: seen long ago, not a conflict."""
    return len(hist) >= HISTORY_LIMIT and stamp < hist[-1]


def _ancestors(prevs: dict[str, Any] | None, name: str) -> list[str]:
    if not prevs:
        return []
    value = prevs.get(name)
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    return [s for s in value if s]


def _merge_hist(*parts: Iterable[str]) -> list[str]:
    merged: set[str] = set()
    for part in parts:
        merged.update(s for s in part if s)
    return sorted(merged, reverse=True)[:HISTORY_LIMIT]


def entity_to_doc(obj: Entity) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": obj.id, "_s": obj._s}
    for name in obj.FIELDS:
        value = getattr(obj, name)
        if isinstance(value, tuple):
            value = list(value)
        doc[name] = value
    if obj._fh:
        doc["_h"] = obj._fh
    return doc


def entity_from_doc(cls: type[Entity], doc: dict[str, Any]) -> Entity:
    return _constructor(cls)(doc, {})


def entity_ops(obj: Entity, known: Entity | None = None, fields: dict[str, Any] | None = None,
               new_id: str | None = None) -> list[dict[str, Any]]:
    """Ops that carry ``obj``'s field values with their own stamps and histories (to another
    copy of the project), leaving out what ``known`` (that copy's version) has already seen.
    ``fields``/``new_id``: other values or another id to carry them under (a merge that fuses
    two codes)."""
    if fields is None:
        fields = obj.values()
    groups: dict[tuple[str, bool], dict[str, Any]] = {}
    ancestors: dict[str, list[str]] = {}
    for name, value in fields.items():
        hist = obj.history_of(name)
        if not hist:
            continue
        head = hist[0]
        if known is not None and head in known.history_of(name):
            continue
        creation = head == obj._s and not (obj._fh and name in obj._fh)
        if creation and name in obj.DEFAULTS and value == obj.DEFAULTS[name]:
            continue  # never set: a creation's default sets nothing (see State.apply)
        groups.setdefault((head, creation), {})[name] = value
        # the creation stamp is an ancestor of every later value, even once the bounded history
        # has forgotten it
        ancestors[name] = hist[1:] + ([obj._s] if obj._s and obj._s != head else [])
    ops = []
    ident = new_id or obj.id
    for (stamp, creation), values in sorted(groups.items()):
        op: dict[str, Any] = {"s": stamp, "k": obj.KIND, "i": ident, "f": values}
        if not creation:
            op["p"] = {name: ancestors[name] for name in values}
        ops.append(op)
    return ops


def conflict_id(c: ConflictInfo) -> str:
    """One record per lost change, the same on every machine that finds it."""
    from ..model import derived_id

    return derived_id("conflict", c.kind, c.target_id, c.field, c.lost_stamp)


def conflict_fields(c: ConflictInfo) -> dict[str, Any]:
    return {"kind": c.kind, "target_id": c.target_id, "field": c.field, "kept": c.kept,
            "lost": c.lost, "lost_stamp": c.lost_stamp, "lost_by": c.lost_by,
            "kept_by": c.kept_by, "seen_by": []}


def field_history(obj: Entity) -> dict[str, list[str]]:
    """Every field's known stamps (for merging one project into another)."""
    return {name: obj.history_of(name) for name in obj.FIELDS}
