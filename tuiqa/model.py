"""The data model: what a project holds.

Two families of objects:

* The **survey** (participants, questions, responses) comes from an import and is never edited
  in the app. Its IDs are derived deterministically (uuid5) from the survey's participant ID and
  column, so two separate imports of the same survey get the same IDs.
* **Entities** (codes, codings, memos, response status, settings, …) are made by coders. Each has a
  stable UUID and is changed only through the store's journal, field by field; every change carries
  a *stamp* (time + session, see :mod:`tuiqa.store.stamps`) so that concurrent and merged changes
  resolve the same way everywhere (the later change to a field wins, and a real conflict is
  reported). Nothing is ever removed: deletion sets ``deleted`` and can be undone or merged.

Spans are Unicode code-point offsets into the response text, end-exclusive.
"""

from __future__ import annotations

import typing
import uuid
from collections.abc import MutableMapping
from typing import Any, ClassVar, Optional

# Namespace for deterministic IDs. Never change it: IDs must agree across machines and versions.
NAMESPACE = uuid.UUID("6f1d3c2a-8b7e-5c4d-9a1f-2e3b4c5d6e7f")

SEMANTIC = "semantic"
LATENT = "latent"
CODE_KINDS = (SEMANTIC, LATENT)


def derived_id(*parts: str) -> str:
    """A stable UUID (v5) from the given parts."""
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def new_id() -> str:
    return str(uuid.uuid4())


def participant_id(pid: str) -> str:
    return derived_id("participant", pid)


def question_id(column: str) -> str:
    return derived_id("question", column)


def response_id(pid: str, column: str) -> str:
    return derived_id("response", pid, column)


# ---------------------------------------------------------------------------------------------
# Survey


class Participant:
    __slots__ = ("id", "pid", "attrs", "order")

    def __init__(self, id: str, pid: str, attrs: dict[str, str], order: int) -> None:
        self.id = id
        self.pid = pid
        self.attrs = attrs
        self.order = order

    def to_doc(self) -> dict[str, Any]:
        return {"id": self.id, "pid": self.pid, "attrs": self.attrs, "order": self.order}

    @classmethod
    def from_doc(cls, d: dict[str, Any]) -> Participant:
        return cls(d["id"], d["pid"], dict(d.get("attrs") or {}), int(d.get("order", 0)))


class Question:
    """One open question: identified by its column (header position), not its wording."""

    __slots__ = ("id", "key", "text", "column", "order")

    def __init__(self, id: str, key: str, text: str, column: str, order: int) -> None:
        self.id = id
        self.key = key
        self.text = text
        self.column = column
        self.order = order

    def to_doc(self) -> dict[str, Any]:
        return {"id": self.id, "key": self.key, "text": self.text, "column": self.column,
                "order": self.order}

    @classmethod
    def from_doc(cls, d: dict[str, Any]) -> Question:
        return cls(d["id"], d["key"], d["text"], d["column"], int(d.get("order", 0)))


class Response:
    """One participant's answer to one question. ``text`` is normalised (see tuiqa.text).

    When a project opens from its cache the texts arrive in chunks decoded on first use: until
    then ``_text`` holds the answer's index in ``_src`` (a :class:`TextChunk`).
    """

    __slots__ = ("id", "participant_id", "question_id", "_text", "_src", "hash")

    def __init__(self, id: str, participant_id: str, question_id: str, text: str,
                 hash: str) -> None:
        self.id = id
        self.participant_id = participant_id
        self.question_id = question_id
        self._text = text
        self._src = None
        self.hash = hash

    @property
    def text(self) -> str:
        text = self._text
        if text.__class__ is int:
            text = self._src.get(text)  # type: ignore[union-attr]
            self._text = text
            self._src = None
        return text  # type: ignore[return-value]

    @text.setter
    def text(self, value: str) -> None:
        self._text = value
        self._src = None

    def to_doc(self) -> dict[str, Any]:
        return {"id": self.id, "participant_id": self.participant_id,
                "question_id": self.question_id, "text": self.text, "hash": self.hash}

    @classmethod
    def from_doc(cls, d: dict[str, Any]) -> Response:
        return cls(d["id"], d["participant_id"], d["question_id"], d["text"], d["hash"])

    @classmethod
    def deferred(cls, id: str, participant_id: str, question_id: str, hash: str,
                 index: int, chunk: TextChunk) -> Response:
        obj = cls.__new__(cls)
        obj.id, obj.participant_id, obj.question_id, obj.hash = id, participant_id, question_id, hash
        obj._text, obj._src = index, chunk
        return obj


class Responses(MutableMapping):
    """The answers of a project opened from its cache: each :class:`Response` is made the first
    time it is asked for (50,000 objects made up front cost ~50 ms before the first paint)."""

    __slots__ = ("_rows", "_made")

    def __init__(self, rows: dict[str, tuple]) -> None:
        self._rows = rows  # id -> (participant_id, question_id, hash, index, TextChunk)
        self._made: dict[str, Response] = {}

    def __getitem__(self, rid: str) -> Response:
        made = self._made.get(rid)
        if made is None:
            pid, qid, hash_, index, chunk = self._rows[rid]
            made = self._made[rid] = Response.deferred(rid, pid, qid, hash_, index, chunk)
        return made

    def get(self, rid, default=None):
        return self[rid] if rid in self._rows else default

    def __setitem__(self, rid: str, response: Response) -> None:
        self._made[rid] = response
        self._rows[rid] = (response.participant_id, response.question_id, response.hash, 0, None)

    def __delitem__(self, rid: str) -> None:
        del self._rows[rid]
        self._made.pop(rid, None)

    def __contains__(self, rid: object) -> bool:
        return rid in self._rows

    def __iter__(self):
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def keys(self):
        return self._rows.keys()  # a real dict view: set operations work

    def values(self):
        return [self[rid] for rid in self._rows]

    def items(self):
        return [(rid, self[rid]) for rid in self._rows]


class TextChunk:
    """Answer texts decoded together on first use (see :class:`Response`)."""

    __slots__ = ("_load", "_texts")

    def __init__(self, load) -> None:
        self._load = load
        self._texts: list[str] | None = None

    def get(self, index: int) -> str:
        texts = self._texts
        if texts is None:
            texts = self._texts = self._load()
            self._load = None
        return texts[index]


# ---------------------------------------------------------------------------------------------
# Entities


class _EntityType(type):
    """Makes an entity class from its annotated fields.

    Each annotation in a class body that is not a ``ClassVar`` is a field: in that order it
    becomes ``FIELDS`` (the order the cache and the files keep), a slot (objects stay compact:
    150,000 codings), and an entry of ``FIELD_TYPES`` (name -> type), the one place that says
    what each field holds. A field is ``None`` only on an incomplete entity (an update can
    arrive before its creation; see ``REQUIRED``).
    """

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]):
        annotations = namespace.get("__annotations__", {})
        own = tuple(n for n, a in annotations.items()
                    if not str(a).startswith(("ClassVar", "typing.ClassVar")))
        if bases:  # an entity kind (Entity itself declares the id and the stamps)
            inherited = next((getattr(b, "FIELDS") for b in bases if isinstance(b, _EntityType)), ())
            namespace["FIELDS"] = (*inherited, *own)
            namespace["__slots__"] = own
        cls: Any = super().__new__(mcs, name, bases, namespace)
        if bases:
            hints = typing.get_type_hints(cls)
            cls.FIELD_TYPES = {n: hints[n] for n in cls.FIELDS}
        return cls


class Entity(metaclass=_EntityType):
    """Base for journaled objects. ``_s`` is the creation stamp; ``_fh`` holds, for each field
    changed after creation, its known stamps newest first (None while no field has changed).

    A kind declares its fields as annotations, e.g. ``start: int`` (see :class:`_EntityType`)."""

    __slots__ = ("id", "_s", "_fh")
    KIND: ClassVar[str] = ""
    #: The fields, in their stored order (from the annotations).
    FIELDS: ClassVar[tuple[str, ...]] = ()
    #: Each field's type (from the annotations): what a record read from a file must hold.
    FIELD_TYPES: ClassVar[dict[str, Any]] = {}
    DEFAULTS: ClassVar[dict[str, Any]] = {}
    #: Fields an object must have before it is usable (an update can arrive before its creation).
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    #: Fields whose concurrent changes are not worth reporting (the later one simply wins).
    QUIET: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, id: str, **fields: Any) -> None:
        self.id = id
        self._s = ""
        self._fh: dict[str, list[str]] | None = None
        for name in self.FIELDS:
            setattr(self, name, fields.get(name, self.DEFAULTS.get(name)))

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}

    def stamp_of(self, field: str) -> str:
        fh = self._fh
        if fh is not None:
            hist = fh.get(field)
            if hist:
                return hist[0]
        return self._s

    def history_of(self, field: str) -> list[str]:
        fh = self._fh
        if fh is not None and field in fh:
            return fh[field]
        return [self._s] if self._s else []

    @property
    def created(self) -> str:
        """Creation stamp ("" if only a later change has been seen so far)."""
        return self._s

    @property
    def updated(self) -> str:
        latest = self._s
        if self._fh:
            for hist in self._fh.values():
                if hist and hist[0] > latest:
                    latest = hist[0]
        return latest

    def is_complete(self) -> bool:
        return all(getattr(self, name) is not None for name in self.REQUIRED)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.FIELDS)
        return f"{type(self).__name__}({self.id!r}, {inner})"


#: a list of strings as read from a file (a JSON array), or a tuple as made here
Strings = typing.Union[tuple[str, ...], list[str]]


class Code(Entity):
    """``merged_into``: set with ``deleted`` when the code is merged into another, so a coding
    made meanwhile elsewhere can follow it (see :mod:`tuiqa.repairs`)."""

    KIND = "code"
    name: str
    kind: str
    description: str
    colour: str
    created_by: str
    parked: bool
    deleted: bool
    merged_into: Optional[str]
    DEFAULTS = {"kind": SEMANTIC, "description": "", "colour": "", "created_by": "",
                "parked": False, "deleted": False, "merged_into": None}
    REQUIRED = ("name",)


class Coding(Entity):
    """One code applied to one extract by one coder."""

    KIND = "coding"
    response_id: str
    code_id: str
    coder: str
    start: int
    end: int
    text_hash: str
    deleted: bool
    DEFAULTS = {"deleted": False, "text_hash": ""}
    REQUIRED = ("response_id", "code_id", "coder", "start", "end")


class Memo(Entity):
    """A free note on a response, a code, a theme, or the project (the reflexive journal)."""

    KIND = "memo"
    target_kind: str
    target_id: str
    coder: str
    text: str
    deleted: bool
    DEFAULTS = {"text": "", "deleted": False}
    REQUIRED = ("target_kind", "target_id", "coder")


class Status(Entity):
    """A coder's status for one response: ``done`` means looked at and coded (possibly with
    nothing), which differs from not looked at yet."""

    KIND = "status"
    response_id: str
    coder: str
    done: bool
    DEFAULTS = {"done": False}
    REQUIRED = ("response_id", "coder")

    @staticmethod
    def make_id(response_id: str, coder: str) -> str:
        return derived_id("status", response_id, coder)


class Setting(Entity):
    """A project setting (e.g. the quote attribution template); one entity per key."""

    KIND = "setting"
    key: str
    value: Any
    REQUIRED = ("key",)

    @staticmethod
    def make_id(key: str) -> str:
        return derived_id("setting", key)


class CoderPref(Entity):
    """Per-coder preferences kept in the project (blind mode is remembered here)."""

    KIND = "coderpref"
    coder: str
    blind: bool
    recent: Strings
    ui_theme: str
    welcomed: bool
    DEFAULTS = {"blind": False, "recent": (), "ui_theme": "", "welcomed": False}
    QUIET = frozenset({"recent", "ui_theme", "welcomed"})
    REQUIRED = ("coder",)

    @staticmethod
    def make_id(coder: str) -> str:
        return derived_id("coderpref", coder)


class Conflict(Entity):
    """A change that lost to a later change of the same field made without seeing it."""

    KIND = "conflict"
    kind: str
    target_id: str
    field: str
    kept: Any
    lost: Any
    lost_stamp: str
    lost_by: str
    kept_by: str
    seen_by: Strings
    DEFAULTS = {"seen_by": ()}
    REQUIRED = ("kind", "target_id", "field")


THEME_STATUSES = ("candidate", "reviewed", "final")


class Theme(Entity):
    KIND = "theme"
    name: str
    description: str
    concept: str
    status: str
    parent_id: Optional[str]
    order: float
    overarching: bool
    created_by: str
    deleted: bool
    DEFAULTS = {"description": "", "concept": "", "status": "candidate", "parent_id": None,
                "order": 0.0, "overarching": False, "created_by": "", "deleted": False}
    REQUIRED = ("name",)


class ThemeCode(Entity):
    """A code placed under a theme (one entity per pair, so placing and removing merge cleanly)."""

    KIND = "themecode"
    theme_id: str
    code_id: str
    deleted: bool
    DEFAULTS = {"deleted": False}
    REQUIRED = ("theme_id", "code_id")

    @staticmethod
    def make_id(theme_id: str, code_id: str) -> str:
        return derived_id("themecode", theme_id, code_id)


class MapVersion(Entity):
    """A saved thematic map: a frozen copy of the themes, their codes and the parked codes."""

    KIND = "mapversion"
    label: str
    snapshot: dict[str, Any]
    created_by: str
    deleted: bool
    DEFAULTS = {"deleted": False, "created_by": ""}
    REQUIRED = ("label", "snapshot")


REVIEW_VERDICTS = ("appropriate", "questionable")
REVIEW_RESOLUTIONS = ("kept", "changed", "removed")


class ReviewMark(Entity):
    """A second researcher's judgement of one coding (or theme) by another coder.

    The reviewer writes ``verdict``, ``comment`` and ``suggested_code_id``; the original coder
    answers a questionable mark with ``resolution`` (kept, changed, removed) and ``reply``.
    Nothing in the coding changes on the reviewer's word alone.
    """

    KIND = "reviewmark"
    target_kind: str
    target_id: str
    target_coder: str
    reviewer: str
    verdict: str
    comment: str
    suggested_code_id: Optional[str]
    resolution: str
    reply: str
    resolved_by: str
    deleted: bool
    DEFAULTS = {"comment": "", "suggested_code_id": None, "resolution": "", "reply": "",
                "resolved_by": "", "deleted": False}
    REQUIRED = ("target_kind", "target_id", "reviewer", "verdict")

    @staticmethod
    def make_id(target_kind: str, target_id: str, reviewer: str) -> str:
        return derived_id("reviewmark", target_kind, target_id, reviewer)


class Resolution(Entity):
    """How the team settled a disagreement (a response and a code on which coders differ).

    ``decision`` is ``keep:<coder>``, ``both`` or ``discuss``. Kept versions are copied into the
    ``consensus`` coder's codings; the coders' own codings never change, so agreement figures
    stay as measured.
    """

    KIND = "resolution"
    response_id: str
    code_id: str
    coders: Strings
    decision: str
    comment: str
    resolved_by: str
    deleted: bool
    DEFAULTS = {"comment": "", "coders": (), "deleted": False}
    REQUIRED = ("response_id", "code_id", "decision")

    @staticmethod
    def make_id(response_id: str, code_id: str) -> str:
        return derived_id("resolution", response_id, code_id)


ENTITY_TYPES: dict[str, type[Entity]] = {
    cls.KIND: cls for cls in (Code, Coding, Memo, Status, Setting, CoderPref, Conflict, Theme,
                              ThemeCode, MapVersion, ReviewMark, Resolution)
}


def register_entity(cls: type[Entity]) -> type[Entity]:
    """Add an entity kind (later features register theirs here)."""
    ENTITY_TYPES[cls.KIND] = cls
    return cls
