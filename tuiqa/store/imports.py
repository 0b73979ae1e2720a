"""The survey (participants, questions, answers) as the union of every import of it.

Each import (``tuiqa import``, a merge that brings answers, a migrated schema-1 project) writes
one file on the machine that made it, ``machines/<machine>/imports/survey-<id>.json``, once, and
never changes it: what that import added or changed. The survey is every such file, from every
machine, taken in the order of their ids (stamps, so in time order). Participants, questions and
answers have IDs derived from the survey itself (participant ID, column), so the same import made
twice, or on two machines, is the same data. The rules for the rare clash:

* an **answer** brought by two imports with different text keeps the earlier import's text
  (codings point into it) and is reported;
* a **participant's attributes**: a later import's non-empty values replace earlier ones (a
  corrected export), as within one machine;
* a **question key** (``Q3``) taken by another question imported elsewhere at the same time: the
  later import's question gets the next free key, and that is reported;
* a **column's classification** (attribute or question) is the first import's.

The file is a TinyDB database: tables ``participants``, ``questions``, ``responses`` and
``_import`` (one document: id, kind, source file, machine, coder, counts, the attribute columns
in order, and the survey's settings after the import).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import Participant, Question, Response
from .layout import IMPORT_PREFIX
from .state import State
from .tinyjson import FileDamaged, read_docs, write_tables

IMPORT_TABLE = "_import"


SurveyDamaged = FileDamaged  # a survey import that cannot be read


@dataclass
class ImportFile:
    path: Path
    record: dict[str, Any]
    participants: list[dict[str, Any]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.record["id"])


def file_name(import_id: str) -> str:
    return f"{IMPORT_PREFIX}{import_id}.json"


def read(path: Path) -> ImportFile:
    tables = read_docs(path)
    record = (tables.get(IMPORT_TABLE) or [None])[0]
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise SurveyDamaged(path, "has no import record")
    return ImportFile(path, record, tables.get("participants", []), tables.get("questions", []),
                      tables.get("responses", []))


def write(path: Path, record: dict[str, Any], participants: list[Participant],
          questions: list[Question], responses: list[Response]) -> None:
    write_tables(path, {
        IMPORT_TABLE: [record],
        "participants": [p.to_doc() for p in participants],
        "questions": [q.to_doc() for q in questions],
        "responses": [r.to_doc() for r in responses],
    })


@dataclass
class Before:
    """The survey as it was before an import changed it (to write only what changed)."""

    attrs: dict[str, dict[str, str]]
    questions: set[str]
    responses: set[str]
    meta: dict[str, Any]
    attributes: list[str]


def before(state: State) -> Before:
    return Before({pid: dict(p.attrs) for pid, p in state.participants.items()},
                  set(state.questions), set(state.responses.keys()),
                  copy.deepcopy(state.survey_meta), list(state.attributes))


def delta(old: Before, state: State) -> tuple[list[Participant], list[Question], list[Response]]:
    """What an import added or changed, against the survey before it."""
    participants = [p for pid, p in state.participants.items()
                    if pid not in old.attrs or old.attrs[pid] != p.attrs]
    questions = [q for qid, q in state.questions.items() if qid not in old.questions]
    responses = [r for rid, r in state.responses.items() if rid not in old.responses] \
        if len(state.responses) != len(old.responses) else []
    return participants, questions, responses


def replay(state: State, files: list[ImportFile]) -> list[str]:
    """Build the survey in ``state`` from every import, in id order; returns the warnings."""
    unique: dict[str, ImportFile] = {}
    for f in files:
        unique.setdefault(f.id, f)  # the same import twice (a copy): once
    participants: dict[str, Participant] = {}
    questions: dict[str, Question] = {}
    responses: dict[str, Response] = {}
    attributes: list[str] = []
    meta: dict[str, Any] = {}
    records: list[dict[str, Any]] = []
    warnings: list[str] = []
    differing: list[str] = []
    canon: dict[str, str] = {}
    porder = qorder = 0
    for ident in sorted(unique):
        imp = unique[ident]
        try:
            for d in sorted(imp.participants, key=lambda d: int(d.get("order", 0))):
                attrs = dict(d.get("attrs") or {})
                known = participants.get(d["id"])
                if known is None:
                    participants[d["id"]] = Participant(d["id"], d["pid"], attrs, porder)
                    canon[d["id"]] = d["id"]
                    porder += 1
                else:
                    known.attrs = {**known.attrs,
                                   **{k: v for k, v in attrs.items() if v or k not in known.attrs}}
            taken = {q.key for q in questions.values()}
            for d in sorted(imp.questions, key=lambda d: int(d.get("order", 0))):
                if d["id"] in questions:
                    continue
                key = d["key"]
                if key in taken:
                    numbers = [int(k[1:]) for k in taken if k[1:].isdigit()]
                    new_key = f"Q{1 + max(numbers, default=0)}"
                    warnings.append(f"the question {d['text']!r} was imported as {key} on two "
                                    f"machines at once; it is {new_key} here, and everywhere")
                    key = new_key
                taken.add(key)
                questions[d["id"]] = Question(d["id"], key, d["text"], d["column"], qorder)
                canon[d["id"]] = d["id"]
                qorder += 1
            for d in imp.responses:
                known_r = responses.get(d["id"])
                if known_r is None:
                    pid, qid = d["participant_id"], d["question_id"]
                    responses[d["id"]] = Response(d["id"], canon.get(pid, pid), canon.get(qid, qid),
                                                  d["text"], d["hash"])
                elif known_r.text != d["text"]:
                    differing.append(d["id"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SurveyDamaged(imp.path, f"a document is malformed ({exc!r})") from None
        rec = imp.record
        for a in rec.get("attributes") or []:
            if a not in attributes:
                attributes.append(a)
        for key, value in (rec.get("meta") or {}).items():
            if key == "columns" and isinstance(value, dict):
                columns = meta.setdefault("columns", {})
                for column, role in value.items():
                    columns.setdefault(column, role)
            elif key not in ("imports", "attributes"):
                meta[key] = value
        records.append({k: rec[k] for k in ("id", "kind", "file", "machine", "participants",
                                            "new_responses") if k in rec})
    if differing:
        warnings.append(f"{len(differing)} answer(s) were imported with different text on two "
                        "machines; the earlier import's text is kept, because codings point into it")
    meta["imports"] = records[-50:]
    meta["attributes"] = list(attributes)
    state.participants, state.questions, state.responses = participants, questions, responses
    state.attributes = attributes
    state.survey_meta = meta
    state.sequences = {}
    return warnings
