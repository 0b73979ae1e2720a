"""Reading a schema-1 project (one ``survey.json``, one ``data.json``, ``journal/``, all at the top
of the folder), for its migration to schema 2 and for reading an old copy without changing it
(``tuiqa merge DIR OLD_COPY``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from . import imports, journal as jn, snapshot
from .state import State
from .tinyjson import FileDamaged, read_docs

SURVEY_FILE = "survey.json"
DATA_FILE = "data.json"
JOURNAL_DIR = "journal"
SURVEY_META_TABLE = "_survey"


V1Damaged = FileDamaged  # a schema-1 file that cannot be read


@dataclass
class V1:
    """A schema-1 project read into a state."""

    survey: imports.ImportFile
    #: what was read, as a version vector: ``v1:<digest of data.json>`` and ``v1/<journal>``
    #: offsets (the same keys name them when they are read as another machine's files)
    vv: dict[str, int]
    sessions: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    foreign: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def base_key(data: bytes) -> str:
    """The version-vector key of a schema-1 ``data.json`` (its content: whatever had been folded
    into it, which its own journal table no longer lists)."""
    return f"v1:{hashlib.sha256(data).hexdigest()[:16]}"


def head_of(path: Path) -> snapshot.Head:
    """A schema-1 ``data.json`` as a snapshot's head: its base key and its journals' offsets."""
    data = path.read_bytes()
    head = snapshot.read_head(path)
    head.vv = {f"v1/{name}": offset for name, offset in head.vv.items()}
    head.vv[base_key(data)] = 1
    return head


def survey_import(directory: Path, created: str) -> imports.ImportFile:
    """The schema-1 survey as one import, with an id made from its bytes and the project's
    creation stamp (two machines migrating the same file make the same import)."""
    path = directory / SURVEY_FILE
    tables = read_docs(path)
    raw = path.read_bytes()
    meta = dict((tables.get(SURVEY_META_TABLE) or [{}])[0])
    ms, counter = (created.split(".") + ["0", "0"])[:2]
    digest = hashlib.sha256(raw).hexdigest()
    ident = f"{ms}.{counter}.v1{digest[:6]}"
    record = {"id": ident, "kind": "migrated", "file": SURVEY_FILE, "machine": "",
              "attributes": list(meta.get("attributes", [])),
              "meta": {k: v for k, v in meta.items() if k != "attributes"}}
    return imports.ImportFile(path, record, tables.get("participants", []),
                              tables.get("questions", []), tables.get("responses", []))


def read(directory: Path, state: State, created: str) -> V1:
    """Read a schema-1 project into ``state``: its survey, its data, and its journals replayed."""
    survey = survey_import(directory, created)
    warnings = imports.replay(state, [survey])
    data_path = directory / DATA_FILE
    try:
        vv = {base_key(data_path.read_bytes()): 1}
        loaded = snapshot.load(data_path, state, first=True, bulk=True)
    except FileNotFoundError:
        raise V1Damaged(data_path, "is missing (deleted by hand?)") from None
    except FileDamaged:
        raise
    state.unknown_ops = list(loaded.head.unknown)
    folded = loaded.head.vv  # schema 1: journal file name -> offset folded
    batch: list[tuple[str, dict[str, Any], str]] = []
    sessions: dict[str, dict[str, str]] = {}
    for path in sorted((directory / JOURNAL_DIR).glob("*" + jn.JOURNAL_SUFFIX)):
        offset = folded.get(path.name, 0)
        try:
            if path.stat().st_size <= offset:
                continue
            result = jn.read_from(path, offset)
        except jn.JournalDamaged as exc:
            raise V1Damaged(exc.path, f"line {exc.line_no} is damaged: {exc.detail}") from None
        head = result.header or jn.read_header(path)
        if head and head.get("session"):
            sessions[str(head["session"])] = {"coder": str(head.get("coder", "")),
                                              "machine": "v1", "started": str(head.get("started", ""))}
        vv[f"v1/{path.name}"] = result.offset
        for txn in result.txns:
            for op in txn["ops"]:
                batch.append((op["s"], op, txn.get("u", "")))
    batch.sort(key=itemgetter(0))
    for _, op, by in batch:
        state.apply(op, by)
    state.sessions.update(sessions)
    for name, offset in folded.items():
        vv.setdefault(f"v1/{name}", offset)
    return V1(survey, vv, sessions, warnings, loaded.foreign)
