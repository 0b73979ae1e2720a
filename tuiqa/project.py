"""A project as the rest of tuiqa sees it: queries over the state, and changes as transactions.

:class:`Project` keeps indexes (codings by response and by code, codes by name, statuses, memos)
up to date as changes arrive, whether they are this session's, another session's (read from its
journal) or a reload. Every change goes through a :class:`Change`, which becomes one journal line:
durable before the call returns, undoable as a whole.
"""

from __future__ import annotations

import gc
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, TypeVar

from .model import (
    CODE_KINDS,
    ENTITY_TYPES,
    Code,
    CoderPref,
    Coding,
    Conflict,
    Entity,
    MapVersion,
    Memo,
    Participant,
    Question,
    Response,
    Setting,
    Status,
    Theme,
    derived_id,
    new_id,
)
from .store.cache import clone, make_entity
from .store.state import ConflictInfo, State
from .store.store import ProjectError, ProjectStore, RefreshResult
from .text import snap_span

CONSENSUS = "consensus"
E = TypeVar("E", bound=Entity)


class ChangeError(ProjectError):
    """A change that cannot be made (unknown code, span outside the text, …)."""


def name_key(name: str) -> str:
    """Code names are unique ignoring case and surrounding/repeated white space."""
    return clean_name(name).casefold()


_CONTROL = dict.fromkeys([*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x200E, 0x200F,
                          *range(0x202A, 0x202F), *range(0x2066, 0x206A)], " ")


def clean_name(name: str) -> str:
    """A name on one line: control and bidirectional-override characters become spaces, runs of
    white space one space (a name is a label, not text to keep verbatim)."""
    return " ".join(name.translate(_CONTROL).split())


@dataclass
class UndoItem:
    kind: str
    id: str
    old: dict[str, Any]
    new: dict[str, Any]
    stamps: dict[str, str] = field(default_factory=dict)


@dataclass
class UndoRecord:
    label: str
    items: list[UndoItem]


class Change:
    """A transaction under construction. Nothing is written until :meth:`Project.commit`."""

    def __init__(self, project: Project, label: str) -> None:
        self.project = project
        self.label = label
        self.ops: list[dict[str, Any]] = []
        self.items: list[UndoItem] = []
        self._pending: dict[tuple[str, str, str], str] = {}
        self._pending_values: dict[tuple[str, str, str], Any] = {}
        self._created: dict[tuple[str, str], dict[str, Any]] = {}

    def _stamp(self, after: Iterable[str] = ()) -> str:
        return self.project.store.new_stamp(after)

    def current(self, kind: str, ident: str, name: str) -> Any:
        key = (kind, ident, name)
        if key in self._pending_values:
            return self._pending_values[key]
        obj = self.project.state.table(kind).get(ident)
        return getattr(obj, name) if obj is not None else None

    def exists(self, kind: str, ident: str) -> bool:
        return (kind, ident) in self._created or ident in self.project.state.table(kind)

    def create(self, cls: type[Entity], ident: str, /, *, record: bool = True, **fields: Any) -> str:
        """Create an entity (or, if it exists, set the given fields)."""
        if self.exists(cls.KIND, ident):
            self.update(cls.KIND, ident, record=record, **fields)
            return ident
        stamp = self._stamp()
        _check_fields(cls, fields)
        values = {name: fields.get(name, cls.DEFAULTS.get(name)) for name in cls.FIELDS}
        # Only the given fields go into the op: defaults are implicit, so a concurrent creation of
        # the same derived-id entity elsewhere is not overwritten with defaults.
        self.ops.append({"s": stamp, "k": cls.KIND, "i": ident, "f": dict(fields)})
        if "deleted" in cls.FIELDS:
            old = {"deleted": True}
            new = {"deleted": values.get("deleted", False)}
        else:
            old = {name: cls.DEFAULTS.get(name) for name in fields}
            new = {name: values[name] for name in fields}
        if record:
            self.items.append(UndoItem(cls.KIND, ident, old, new, {n: stamp for n in new}))
        self._created[(cls.KIND, ident)] = values
        for name, value in values.items():
            self._pending[(cls.KIND, ident, name)] = stamp
            self._pending_values[(cls.KIND, ident, name)] = value
        return ident

    def update(self, kind: str, ident: str, /, *, record: bool = True, **fields: Any) -> bool:
        """Set fields of an existing entity; fields already at that value are left alone."""
        _check_fields(ENTITY_TYPES[kind], fields)
        obj = self.project.state.table(kind).get(ident)
        if obj is None and (kind, ident) not in self._created:
            raise ChangeError(f"no {kind} with id {ident}")
        changed = {n: v for n, v in fields.items() if self.current(kind, ident, n) != v}
        if not changed:
            return False
        prevs = {}
        for name in changed:
            pending = self._pending.get((kind, ident, name))
            prevs[name] = pending if pending is not None else (obj.stamp_of(name) if obj else "")
        stamp = self._stamp(prevs.values())
        old = {name: self.current(kind, ident, name) for name in changed}
        self.ops.append({"s": stamp, "k": kind, "i": ident, "f": changed, "p": prevs})
        if record:
            self.items.append(UndoItem(kind, ident, old, dict(changed), {n: stamp for n in changed}))
        for name, value in changed.items():
            self._pending[(kind, ident, name)] = stamp
            self._pending_values[(kind, ident, name)] = value
        return True

    def __bool__(self) -> bool:
        return bool(self.ops)


def _check_fields(cls: type[Entity], fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(cls.FIELDS)
    if unknown:
        raise ChangeError(f"{cls.KIND} has no field(s) {', '.join(sorted(unknown))}")


def build_bulk_indexes(entities: dict[str, dict[str, Entity]],
                       codes: dict[str, Entity] | None = None):
    """(codings by response, by code, count per coder, done responses per coder, ids of codings
    on a deleted or missing code) from the tables (``codes``: the code table, if not in them).

    A pure function of the tables, so it can run off the main thread on fresh tables.
    """
    by_response: dict[str, dict[str, Coding]] = defaultdict(dict)
    by_code: dict[str, dict[str, Coding]] = defaultdict(dict)
    counts: dict[str, int] = defaultdict(int)
    if codes is None:
        codes = entities.get("code") or {}
    live = {ident for ident, code in codes.items() if not code.deleted}  # type: ignore[attr-defined]
    orphans: list[str] = []
    for c in (entities.get("coding") or {}).values():
        if c.deleted or c.response_id is None or c.code_id is None or c.coder is None \
                or c.start is None or c.end is None:  # type: ignore[attr-defined]
            continue
        by_response[c.response_id][c.id] = c  # type: ignore[attr-defined]
        by_code[c.code_id][c.id] = c  # type: ignore[attr-defined]
        counts[c.coder] += 1  # type: ignore[attr-defined]
        if c.code_id not in live:  # type: ignore[attr-defined]
            orphans.append(c.id)
    done: dict[str, set[str]] = defaultdict(set)
    for s in (entities.get("status") or {}).values():
        if s.done and s.coder and s.response_id:  # type: ignore[attr-defined]
            done[s.coder].add(s.response_id)  # type: ignore[attr-defined]
    return by_response, by_code, counts, done, orphans


class Project:
    """An open project: the state, its indexes, and the way to change it."""

    def __init__(self, store: ProjectStore) -> None:
        self.store = store
        self.state: State = store.state
        self.dir: Path = store.dir
        self.generation = 0
        self._partial = None
        self._loader = None
        self.repair = True
        self._attach()
        self._rebuild_indexes()

    def _attach(self) -> None:
        self.state.add_listener(self._on_change)
        self.state.add_reset_listener(self._reset_indexes)
        self.state.add_loaded_listener(self._rebuild_indexes)

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, directory: Path | str, *, lazy: bool = False, readonly: bool = False,
             repair: bool = True) -> Project:
        """Open a project. ``lazy`` (the app): with a valid cache, what the first screen needs is
        ready at once and the bulk of the codings is decoded on a background thread; anything
        that needs all of them (a change, a search across codes) waits for it to finish.
        ``repair=False`` leaves what concurrent changes left behind as it is in the files
        (see :mod:`tuiqa.repairs`; for ``doctor``); otherwise it is repaired (read-only: in
        memory only)."""
        project = cls.__new__(cls)
        project.state = State()
        project.generation = 0
        project._partial = None
        project._loader = None
        project.repair = repair
        project._reset_indexes()
        project._attach()
        project.store = ProjectStore.open(Path(directory), project.state, lazy=lazy,
                                          readonly=readonly)
        project.dir = project.store.dir
        if project.store.pending is not None:
            project._start_lazy()
        else:
            project.resolve_orphans()
        return project

    def _start_lazy(self) -> None:
        cached = self.store.pending
        assert cached is not None
        for kind in ("code", "memo"):
            for obj in self.state.table(kind).values():
                self._on_change(kind, obj, None)
        for coder, rids in cached.done().items():
            self.done[coder] = set(rids)
        self._partial = (cached, cached.where(), {})
        result: dict[str, Any] = {}
        codes = dict(self.state.table("code"))  # nothing changes them until the swap
        extra = self.store.take_extra()
        if extra is not None:
            # What arrived since the cache was written (other machines' snapshots and journal
            # lines) is read in on the loading thread too, into a state of its own: copies of
            # the small tables the first screen is using, and the freshly decoded bulk.
            detached = State()
            detached.entities = {kind: {i: clone(o) for i, o in table.items()}
                                 for kind, table in self.state.entities.items()}
            detached.sessions = dict(self.state.sessions)
            detached.unknown_ops = list(self.state.unknown_ops)

        def decode() -> None:
            try:
                tables: dict[str, dict[str, Entity]] = {}
                cached.load_bulk(tables)
                if extra is not None:
                    detached.entities.update(tables)
                    result["caught"] = self.store.read_extra(detached, extra)
                    result["detached"] = detached
                    tables = detached.entities
                result["tables"] = tables
                result["indexes"] = build_bulk_indexes(tables, tables.get("code") or codes)
                for response in list(self.state.responses.values()):
                    response.text  # decode the remaining answer texts now, not on a keystroke
            except Exception as exc:  # a damaged cache: the main thread reads the files instead
                result["error"] = exc

        self._loader = (threading.Thread(target=decode, name="tuiqa-load", daemon=True), result)
        self.store.on_complete = self._finish_lazy

    def start_loading(self) -> None:
        """Begin decoding the rest of a lazy open in the background. The app calls this once its
        first screen is painted: started earlier, the decoding would compete with start-up for
        Python's interpreter lock and delay that first paint."""
        if self._loader is not None and not self._loader[0].is_alive() and \
                self._loader[0].ident is None:
            self._loader[0].start()

    @property
    def loading(self) -> bool:
        """Still decoding codings in the background (see :meth:`open` with ``lazy``), or
        swapping the decoded codings in."""
        return self.store.pending is not None or self.__dict__.get("_swapping", False)

    def try_complete(self) -> bool:
        """Finish a lazy open if the background work is done; never waits. True when whole.

        Work not yet started is not done: finishing would decode everything here and now (the
        app's main thread, which had just painted its first frame and not yet written it)."""
        if self.store.pending is None:
            return True
        if self._loader is not None and (self._loader[0].ident is None or self._loader[0].is_alive()):
            return False
        self.store.complete()
        return True

    def finish_loading(self) -> None:
        """Wait for a lazy open's background decoding and swap it in (on the thread that owns
        the project): for work that reads every coding."""
        self._whole()

    def _finish_lazy(self) -> None:
        # ``pending`` is cleared first (a reload below must not come back here), so until the
        # end ``loading`` stays true by this flag: another thread must not read half of it
        self._swapping = True
        try:
            self._swap_in_decoded()
        finally:
            self._swapping = False

    def _swap_in_decoded(self) -> None:
        thread, result = self._loader  # type: ignore[misc]
        self.start_loading()
        thread.join()
        self._loader = None
        self._partial = None
        self.store.pending = None
        if "error" in result:
            self.store.reload()
            self.store.cache_stale = True
            return
        tables = result["tables"]
        for kind, table in tables.items():
            self.state.entities[kind] = table
        if "caught" in result:
            detached = result["detached"]
            self.state.sessions = detached.sessions
            self.state.unknown_ops = detached.unknown_ops
            self.store.take(result["caught"])
            self.code_names, self.memos_by_target = {}, defaultdict(dict)
            for kind in ("code", "memo"):  # the small tables are new objects now
                for obj in self.state.table(kind).values():
                    self._on_change(kind, obj, None)
        by_response, by_code, counts, done, orphans = result["indexes"]
        self.codings_by_response = by_response
        self._by_code = by_code
        self.coder_counts = counts
        self.done = done
        self._suspects.update(orphans)
        self.generation += 1
        gc.freeze()
        self.resolve_orphans()

    def _whole(self) -> None:
        if self.store.pending is not None:
            self.store.complete()

    @classmethod
    def create(cls, directory: Path | str) -> Project:
        return cls(ProjectStore.create(Path(directory)))

    def close(self, *, compact: bool = True) -> None:
        if compact:
            self._whole()
        elif self._loader is not None and self._loader[0].ident is not None:
            self._loader[0].join()
        self.store.close(compact=compact)

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- indexes -----------------------------------------------------------------------------

    def _reset_indexes(self) -> None:
        self.codings_by_response: dict[str, dict[str, Coding]] = defaultdict(dict)
        self._by_code: dict[str, dict[str, Coding]] | None = None
        self.code_names: dict[str, str] = {}
        self.done: dict[str, set[str]] = defaultdict(set)  # coder -> response ids
        self.memos_by_target: dict[tuple[str, str], dict[str, Memo]] = defaultdict(dict)
        self.coder_counts: dict[str, int] = defaultdict(int)
        #: codings that may be on a deleted or missing code (see resolve_orphans)
        self._suspects: set[str] = set()
        self.generation += 1

    def _rebuild_indexes(self) -> None:
        """Build every index from the state in one pass (after a load)."""
        self._reset_indexes()
        self.codings_by_response, self._by_code, self.coder_counts, self.done, orphans = \
            build_bulk_indexes(self.state.entities)
        self._suspects.update(orphans)
        for kind in ("code", "memo"):
            for obj in self.state.table(kind).values():
                self._on_change(kind, obj, None)

    def remember(self, key: tuple, compute):
        """A value derived from the project, kept until the project next changes (any change
        bumps :attr:`generation`), so screens that need the same counts share one pass."""
        memo = self.__dict__.setdefault("_memo", {})
        full = (key, self.generation)
        if full not in memo:
            if len(memo) > 32:
                memo.clear()
            memo[full] = compute()
        return memo[full]

    @property
    def codings_by_code(self) -> dict[str, dict[str, Coding]]:
        """Active codings per code id (built on first use, then kept up to date)."""
        self._whole()
        if self._by_code is None:
            by_code: dict[str, dict[str, Coding]] = defaultdict(dict)
            for per_response in self.codings_by_response.values():
                for c in per_response.values():
                    by_code[c.code_id][c.id] = c
            self._by_code = by_code
        return self._by_code

    def _on_change(self, kind: str, obj: Entity, before: dict[str, Any] | None) -> None:
        self.generation += 1
        if kind == "coding":
            self._index_coding(obj, before)  # type: ignore[arg-type]
            if not obj.deleted:  # type: ignore[attr-defined]
                code = self.state.table("code").get(obj.code_id)  # type: ignore[attr-defined]
                if code is None or code.deleted:  # type: ignore[attr-defined]
                    self._suspects.add(obj.id)
        elif kind == "code":
            if obj.deleted and (before is None or not before.get("deleted")):  # type: ignore[attr-defined]
                self._suspects.update(self._codings_of_code(obj.id))
            if before is not None and not before.get("deleted") and before.get("name"):
                key = name_key(before["name"])
                if self.code_names.get(key) == obj.id:
                    del self.code_names[key]
            if not obj.deleted and obj.name:  # type: ignore[attr-defined]
                self.code_names[name_key(obj.name)] = obj.id  # type: ignore[attr-defined]
        elif kind == "status":
            if before is not None and before.get("coder"):
                self.done[before["coder"]].discard(before["response_id"])
            if obj.done and obj.coder and obj.response_id:  # type: ignore[attr-defined]
                self.done[obj.coder].add(obj.response_id)  # type: ignore[attr-defined]
        elif kind == "memo":
            if before is not None:
                self.memos_by_target[(before["target_kind"], before["target_id"])].pop(obj.id, None)
            if not obj.deleted and obj.is_complete():  # type: ignore[attr-defined]
                self.memos_by_target[(obj.target_kind, obj.target_id)][obj.id] = obj  # type: ignore[attr-defined]

    def _codings_of_code(self, code_id: str) -> list[str]:
        """Ids of a code's active codings (without waiting for a lazy open: its state is
        not changing while it loads)."""
        if self._by_code is not None:
            return list(self._by_code.get(code_id, ()))
        return [c.id for per in self.codings_by_response.values() for c in per.values()
                if c.code_id == code_id]

    def resolve_orphans(self) -> int:
        """Repair codings left on a deleted or missing code by concurrent changes (see
        :mod:`tuiqa.repairs`): written as one change, or only in memory when read-only.
        Returns how many repairs were made."""
        if not self._suspects or not self.repair or self.store.pending is not None:
            return 0
        from . import repairs

        table = self.state.table("coding")
        suspects = [table[i] for i in sorted(self._suspects) if i in table]
        self._suspects = set()
        ops = repairs.plan(suspects, self.state.table("code"), self.codings_by_response)
        if not ops:
            return 0
        if self.store.readonly:
            self.state.apply_all(ops)
        else:
            from .session import default_coder

            coder = self.store.coder or default_coder()
            conflicts = self.store.commit(ops, coder)
            if conflicts:
                self.record_conflicts(conflicts, coder)
        self._suspects.clear()  # what the repairs themselves touched is repaired
        return len(ops)

    def orphans(self) -> list[Coding]:
        """Active codings whose code is deleted or missing (none after :meth:`resolve_orphans`,
        except those waiting for a code still to arrive)."""
        from .repairs import is_orphan

        codes = self.state.table("code")
        return [c for c in self.all_codings() if is_orphan(c, codes)]

    def _index_coding(self, c: Coding, before: dict[str, Any] | None) -> None:
        by_code = self._by_code
        if before is not None and not before.get("deleted") and before.get("response_id"):
            self.codings_by_response[before["response_id"]].pop(c.id, None)
            if by_code is not None:
                by_code[before["code_id"]].pop(c.id, None)
            self.coder_counts[before["coder"]] -= 1
        if not c.deleted and c.is_complete():
            self.codings_by_response[c.response_id][c.id] = c
            if by_code is not None:
                by_code[c.code_id][c.id] = c
            self.coder_counts[c.coder] += 1

    # -- survey ------------------------------------------------------------------------------

    @property
    def participants(self) -> dict[str, Participant]:
        return self.state.participants

    @property
    def questions(self) -> dict[str, Question]:
        return self.state.questions

    @property
    def responses(self) -> dict[str, Response]:
        return self.state.responses

    @property
    def attributes(self) -> list[str]:
        return self.state.attributes

    def participants_in_order(self) -> list[Participant]:
        return sorted(self.participants.values(), key=lambda p: p.order)

    def questions_in_order(self) -> list[Question]:
        return sorted(self.questions.values(), key=lambda q: q.order)

    def question_by_key(self, key_or_text: str) -> Question | None:
        """A question by its key (``Q3``, any case) or its exact header text (first match)."""
        wanted = key_or_text.strip()
        for q in self.questions_in_order():
            if q.key.casefold() == wanted.casefold():
                return q
        for q in self.questions_in_order():
            if q.text == key_or_text or q.text.strip() == wanted:
                return q
        return None

    def participant_by_pid(self, pid: str) -> Participant | None:
        from .model import participant_id

        return self.participants.get(participant_id(pid.strip()))

    def response_for(self, participant: Participant, question: Question) -> Response | None:
        from .model import response_id

        return self.responses.get(response_id(participant.pid, question.column))

    # -- codes -------------------------------------------------------------------------------

    def codes(self, *, include_deleted: bool = False) -> list[Code]:
        table = self.state.table("code")
        items = [c for c in table.values() if c.is_complete() and (include_deleted or not c.deleted)]
        return sorted(items, key=lambda c: name_key(c.name))  # type: ignore[attr-defined]

    def code(self, code_id: str) -> Code | None:
        return self.state.table("code").get(code_id)  # type: ignore[return-value]

    def code_by_name(self, name: str) -> Code | None:
        ident = self.code_names.get(name_key(name))
        return self.code(ident) if ident else None

    def code_name(self, code_id: str) -> str:
        code = self.code(code_id)
        return code.name if code is not None and code.name else "?"

    # -- codings -----------------------------------------------------------------------------

    def codings_for(self, response_id: str, coder: str | None = None) -> list[Coding]:
        if self._partial is not None and self.store.pending is not None:
            found = self._partial_codings(response_id)
        else:
            found = self.codings_by_response.get(response_id)
        if not found:
            return []
        items = [c for c in found.values() if coder is None or c.coder == coder]
        items.sort(key=lambda c: (c.start, c.end, self.code_name(c.code_id)))
        return items

    def _partial_codings(self, response_id: str) -> dict[str, Coding]:
        """A response's codings straight from the cache while the rest is still loading."""
        cached, where, chunks = self._partial  # type: ignore[misc]
        place = where.get(response_id)
        if place is None:
            return {}
        chunk_no, lo, hi = place
        rows = chunks.get(chunk_no)
        if rows is None:
            rows = chunks[chunk_no] = cached.coding_rows(chunk_no)
        found = {}
        for row in rows[lo:hi]:
            c = make_entity(Coding, row)
            if not c.deleted and c.is_complete():
                found[c.id] = c
        return found  # type: ignore[return-value]

    def all_codings(self) -> Iterator[Coding]:
        self._whole()
        for per_response in self.codings_by_response.values():
            yield from per_response.values()

    def coders(self) -> list[str]:
        self._whole()
        names = {c for c, n in self.coder_counts.items() if n > 0}
        names.update(c for c, done in self.done.items() if done)
        return sorted(names)

    def is_done(self, response_id: str, coder: str) -> bool:
        return response_id in self.done.get(coder, ())

    def memos_for(self, target_kind: str, target_id: str) -> list[Memo]:
        found = self.memos_by_target.get((target_kind, target_id))
        return sorted(found.values(), key=lambda m: m.created) if found else []

    def setting(self, key: str, default: Any = None) -> Any:
        obj = self.state.table("setting").get(Setting.make_id(key))
        return obj.value if obj is not None and obj.value is not None else default  # type: ignore[attr-defined]

    @property
    def language(self) -> str:
        """The language the answers are written in (a project setting, default English): where
        sentences end depends on it (see :mod:`tuiqa.sentences`)."""
        from .sentences import normal_language

        return normal_language(self.setting("language"))

    def coder_pref(self, coder: str) -> CoderPref | None:
        return self.state.table("coderpref").get(CoderPref.make_id(coder))  # type: ignore[return-value]

    # -- typed look-ups by id (for the UI: no raw tables) ------------------------------------

    def coding(self, coding_id: str) -> Coding | None:
        return self._entity(Coding, coding_id)

    def memo(self, memo_id: str) -> Memo | None:
        return self._entity(Memo, memo_id)

    def theme(self, theme_id: str) -> Theme | None:
        return self._entity(Theme, theme_id)

    def map_version(self, version_id: str) -> MapVersion | None:
        return self._entity(MapVersion, version_id)

    def _entity(self, cls: type[E], ident: str) -> E | None:
        obj = self.state.table(cls.KIND).get(ident)
        return obj if isinstance(obj, cls) else None

    @property
    def project_id(self) -> str:
        """The project's own id (its reflexive journal hangs on it)."""
        return self.store.meta.get("project_id", "")

    @property
    def readonly(self) -> bool:
        return self.store.readonly

    # -- changing ----------------------------------------------------------------------------

    def change(self, label: str) -> Change:
        self._whole()
        return Change(self, label)

    def commit(self, change: Change, coder: str) -> UndoRecord | None:
        """Write the change durably, apply it, record conflicts it revealed."""
        if not change.ops:
            return None
        conflicts = self.store.commit(change.ops, coder)
        if conflicts:
            self.record_conflicts(conflicts, coder)
        self.resolve_orphans()
        return UndoRecord(change.label, change.items)

    def refresh(self, coder: str = "") -> RefreshResult:
        result = self.store.refresh()
        if coder and not self.store.readonly and self.store.unrecorded:
            self.store.record_unrecorded(coder)  # found when opening
        if result.conflicts and coder:
            self.record_conflicts(result.conflicts, coder)
        if self.resolve_orphans():
            result.changed_kinds.add("coding")
        return result

    def arrival_notes(self, result: RefreshResult | None = None) -> list[str]:
        """What arrived from other machines (since opening, or in ``result``), in words, for a
        notice: "2 sessions from bea (41 codings, 2 renames)". Changes from this machine's
        other sessions (a colleague on the same server) are not announced, as before."""
        arrived = result.arrivals if result is not None else self.store.arrived
        if result is None:
            self.store.arrived = type(arrived)()
        return arrived.without(self.store.machine).phrases()

    def record_conflicts(self, conflicts: Iterable[ConflictInfo], coder: str) -> None:
        from .store.state import conflict_fields, conflict_id

        change = self.change("record conflicts")
        for c in conflicts:
            if c.kind == "conflict":
                continue
            ident = conflict_id(c)
            if change.exists("conflict", ident):
                continue
            change.create(Conflict, ident, **conflict_fields(c))
        if change.ops:
            self.store.commit(change.ops, coder)

    def conflicts(self) -> list[Conflict]:
        table = self.state.table("conflict")
        return sorted(table.values(), key=lambda c: c.created)  # type: ignore[return-value]

    # -- intent-level helpers used by sessions, importers and the CLI --------------------------

    def ensure_code(self, change: Change, name: str, *, kind: str = "semantic", coder: str = "",
                    description: str = "") -> str:
        """The id of the code with this name, creating it (in ``change``) if there is none.

        A new code's id is derived from its name, so two coders who create the same code at the
        same moment make one code, not two.
        """
        name = clean_name(name)
        if not name:
            raise ChangeError("a code needs a name")
        if kind not in CODE_KINDS:
            raise ChangeError(f"code kind must be one of {', '.join(CODE_KINDS)}, not {kind!r}")
        existing = self.code_by_name(name)
        if existing is not None:
            return existing.id
        for salt in range(1000):
            ident = derived_id("code", name_key(name), str(salt))
            obj = self.code(ident)
            pending = change.current("code", ident, "name")
            if obj is None and pending is None:
                change.create(Code, ident, name=name, kind=kind, created_by=coder,
                              description=description)
                return ident
            current_name = pending if pending is not None else obj.name  # type: ignore[union-attr]
            if current_name is not None and name_key(current_name) == name_key(name):
                fields = {"deleted": False, "kind": kind}
                if description:
                    fields["description"] = description
                change.update("code", ident, **fields)
                return ident
        return change.create(Code, new_id(), name=name, kind=kind, created_by=coder,
                             description=description)

    def add_coding(self, change: Change, response_id: str, code_id: str, coder: str,
                   start: int, end: int) -> str | None:
        """Apply a code to an extract. Returns the coding id, or None if it was already there."""
        response = self.responses.get(response_id)
        if response is None:
            raise ChangeError(f"no response with id {response_id}")
        if not (0 <= start < end <= len(response.text)):
            raise ChangeError(f"span {start}-{end} is outside the response ({len(response.text)} characters)")
        start, end = snap_span(response.text, start, end)
        for c in self.codings_by_response.get(response_id, {}).values():
            if (c.code_id, c.coder, c.start, c.end) == (code_id, coder, start, end):
                return None  # already coded (perhaps by a coding moved here by a merge)
        for salt in range(1000):
            ident = derived_id("coding", response_id, code_id, coder, str(start), str(end), str(salt))
            if not change.exists("coding", ident):
                change.create(Coding, ident, response_id=response_id, code_id=code_id,
                              coder=coder, start=start, end=end, text_hash=response.hash)
                return ident
            current = tuple(change.current("coding", ident, n)
                            for n in ("response_id", "code_id", "coder", "start", "end"))
            if current == (response_id, code_id, coder, start, end):
                if change.current("coding", ident, "deleted"):
                    change.update("coding", ident, deleted=False)
                    return ident
                return None
        raise ChangeError("could not allocate a coding id")  # pragma: no cover

    def set_done(self, change: Change, response_id: str, coder: str, done: bool) -> None:
        ident = Status.make_id(response_id, coder)
        if change.exists("status", ident):
            change.update("status", ident, done=done)
        else:
            change.create(Status, ident, response_id=response_id, coder=coder, done=done)

    def add_memo(self, change: Change, target_kind: str, target_id: str, coder: str, text: str) -> str:
        return change.create(Memo, new_id(), target_kind=target_kind, target_id=target_id,
                             coder=coder, text=text)

    def set_setting(self, change: Change, key: str, value: Any) -> None:
        change.create(Setting, Setting.make_id(key), key=key, value=value)

    def undo_change(self, record: UndoRecord, *, redo: bool = False) -> tuple[Change, list[str]]:
        """A change that reverts (or re-applies) ``record``; fields changed since by anyone else
        are left alone and listed."""
        change = self.change(("redo " if redo else "undo ") + record.label)
        skipped: list[str] = []
        own = "." + self.store.session
        items = record.items if redo else list(reversed(record.items))
        for item in items:
            obj = self.state.table(item.kind).get(item.id)
            if obj is None:
                continue
            target = item.new if redo else item.old
            fields = {}
            for name, value in target.items():
                current = obj.stamp_of(name)
                # Ours if this session wrote it (the change itself, or an undo/redo of a later
                # change of ours, which the stack has already unwound); else someone else's.
                if current != item.stamps.get(name) and not current.endswith(own):
                    skipped.append(f"{item.kind} {name}")
                    continue
                fields[name] = value
            if fields:
                change.update(item.kind, item.id, record=False, **fields)
        return change, skipped


def restamp(record: UndoRecord, change: Change) -> UndoRecord:
    """After an undo/redo is committed, remember the stamps it wrote so it can be reversed again."""
    written: dict[tuple[str, str], dict[str, str]] = {}
    for op in change.ops:
        written.setdefault((op["k"], op["i"]), {}).update({n: op["s"] for n in op["f"]})
    for item in record.items:
        stamps = written.get((item.kind, item.id))
        if stamps:
            item.stamps.update(stamps)
    return record
