"""A machine's snapshot (``machines/<machine>/data.json``): everything it had seen when it last
folded its journals, and a *version vector* that says exactly what that is.

The file is a TinyDB database in tuiqa's one-document-per-line layout. Besides one table per
entity kind it holds, first (table names starting with ``_`` sort first, so they can be read
without parsing the rest):

* ``_journals``: ``{"file": "<machine>/<journal>", "offset": n}`` for every journal whose first
  ``n`` bytes are folded in (a schema-1 project migrated in appears as ``v1:<digest>``);
* ``_imports``: ``{"id": ...}`` for every survey import the machine had (see :mod:`.imports`);
* ``_sessions``: ``{"session", "coder", "machine", "started"}`` for every session whose changes
  are in, so a change can be attributed to its coder from its stamp alone;
* ``_snapshot``: ``{"format": 2, "machine", "written"}``;
* ``_unknown``: changes of kinds this version does not know (written by a newer tuiqa).

Every change is a journal line, so a snapshot holds exactly the changes its version vector names:
a snapshot whose vector is covered by another's adds nothing and need not be read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

from ..model import ENTITY_TYPES
from .state import ConflictInfo, State
from .tinyjson import (FileDamaged, NotStreamable, decode_file, iter_docs, iter_line_docs,
                       read_raw, table_docs, write_tables)

FORMAT = 2
JOURNALS_TABLE = "_journals"
IMPORTS_TABLE = "_imports"
SESSIONS_TABLE = "_sessions"
META_TABLE = "_snapshot"
UNKNOWN_TABLE = "_unknown"
OWN_TABLES = (JOURNALS_TABLE, IMPORTS_TABLE, SESSIONS_TABLE, META_TABLE, UNKNOWN_TABLE)


SnapshotDamaged = FileDamaged  # a snapshot that cannot be read


@dataclass
class Head:
    """What a snapshot holds, without its entities."""

    vv: dict[str, int] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)
    sessions: dict[str, dict[str, str]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    unknown: list[dict[str, Any]] = field(default_factory=list)


def covers(big: dict[str, int], small: dict[str, int]) -> bool:
    """Does version vector ``big`` include everything ``small`` names?"""
    return all(big.get(key, -1) >= offset for key, offset in small.items())


def _head_from(tables: dict[str, list[dict[str, Any]]], path: Path) -> Head:
    head = Head()
    try:
        head.vv = {str(d["file"]): int(d["offset"]) for d in tables.get(JOURNALS_TABLE, [])}
        head.imports = {str(d["id"]) for d in tables.get(IMPORTS_TABLE, [])}
        head.sessions = {str(d["session"]): {k: str(v) for k, v in d.items() if k != "session"}
                         for d in tables.get(SESSIONS_TABLE, [])}
        meta = tables.get(META_TABLE) or [{}]
        head.meta = dict(meta[0])
        head.unknown = list(tables.get(UNKNOWN_TABLE, []))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise SnapshotDamaged(path, "its table of what it holds is malformed") from None
    return head


def read_head(path: Path) -> Head:
    """The version vector and the rest of the leading tables, reading no further."""
    tables: dict[str, list[dict[str, Any]]] = {}
    try:
        with open(path, "rb") as fh:
            for table, doc in iter_line_docs(line.rstrip(b"\n") for line in fh):
                if not table.startswith("_"):
                    break
                tables.setdefault(table, []).append(doc)
    except NotStreamable:
        whole = decode_file(path)
        tables = {name: table_docs(whole, name) for name in whole if name.startswith("_")}
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise SnapshotDamaged(path, f"cannot be read: {exc.strerror}") from None
    return _head_from(tables, path)


@dataclass
class Loaded:
    head: Head
    conflicts: list[ConflictInfo] = field(default_factory=list)
    applied: list[dict[str, Any]] = field(default_factory=list)
    foreign: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def load(path: Path, state: State, *, first: bool, bulk: bool) -> Loaded:
    """Read a snapshot into ``state``: taken as it is when ``first`` (the state is empty), else
    united with it field by field (see :meth:`State.absorb_docs`)."""
    raw = read_raw(path)
    small: dict[str, list[dict[str, Any]]] = {}
    out = Loaded(Head())
    try:
        try:
            for table, group in groupby(iter_docs(raw), key=itemgetter(0)):
                _take(state, table, (doc for _, doc in group), small, out, first, bulk)
        except NotStreamable:
            # Not our one-document-per-line layout (edited by hand?): parse it whole.
            if first:
                for table in state.entities.values():
                    table.clear()
            small = {}
            tables = decode_file(path)
            for name in tables:
                _take(state, name, table_docs(tables, name), small, out, first, bulk)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise SnapshotDamaged(path, f"a document is malformed ({exc!r})") from None
    del raw
    out.head = _head_from(small, path)
    out.foreign = {name: docs for name, docs in small.items() if name not in OWN_TABLES}
    state.sessions.update({k: v for k, v in out.head.sessions.items() if k not in state.sessions})
    return out


def _take(state: State, table: str, docs, small, out: Loaded, first: bool, bulk: bool) -> None:
    if table in ENTITY_TYPES:
        if first:
            state.load_entity_docs(table, docs)
        else:
            conflicts, applied = state.absorb_docs(table, docs, bulk=bulk)
            out.conflicts.extend(conflicts)
            out.applied.extend(applied)
    else:
        docs = list(docs)
        small.setdefault(table, []).extend(docs)
        if table == SESSIONS_TABLE:  # before the entities: their changes are attributed by it
            for d in docs:
                if isinstance(d, dict) and d.get("session") and d["session"] not in state.sessions:
                    state.sessions[str(d["session"])] = {k: str(v) for k, v in d.items()
                                                         if k != "session"}


def write(path: Path, state: State, *, vv: dict[str, int], imports: set[str], machine: str,
          written: str, foreign: dict[str, list[dict[str, Any]]] | None = None) -> None:
    """Write ``state`` as the snapshot of ``machine`` (atomically: temp file, fsync, rename)."""
    tables: dict[str, list[dict[str, Any]]] = {k: list(v) for k, v in (foreign or {}).items()}
    for kind in ENTITY_TYPES:
        tables[kind] = state.entity_docs(kind)
    tables[JOURNALS_TABLE] = [{"file": key, "offset": off} for key, off in sorted(vv.items())]
    tables[IMPORTS_TABLE] = [{"id": ident} for ident in sorted(imports)]
    tables[SESSIONS_TABLE] = [{"session": tag, **info} for tag, info in sorted(state.sessions.items())]
    tables[META_TABLE] = [{"format": FORMAT, "machine": machine, "written": written}]
    tables[UNKNOWN_TABLE] = list(state.unknown_ops)
    write_tables(path, tables)
