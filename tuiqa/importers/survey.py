"""Import a survey export (one row per participant, one column per field) into a project.

The rule that tells **attributes** (role, setting, experience…) from **open questions**: a column is
an attribute when its non-empty values are short labels, i.e. the median value has at most
4 words and no value is longer than 60 characters. Anything else is a question. ``--attribute`` and
``--question`` override the rule for named columns; a column classified in an earlier import keeps
its classification.

A column is identified by its header text (plus ``#2``, ``#3`` … for the second and later columns
with the same header), so questions keep their IDs and keys when a later export adds columns.
Importing the same file again changes nothing; a file with new participants or questions adds them
and never touches existing codings. Everything is checked before anything is written.
"""

from __future__ import annotations

import statistics
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..model import (
    Participant,
    Question,
    Response,
    participant_id,
    question_id,
    response_id,
)
from ..store.state import State
from ..text import normalise, text_hash
from .tabular import Table, TableError, read_table

ATTRIBUTE_MAX_MEDIAN_WORDS = 4
ATTRIBUTE_MAX_CHARS = 60
ATTRIBUTE = "attribute"
QUESTION = "question"


class ImportError_(Exception):
    """A survey that cannot be imported; nothing was written."""


@dataclass
class Column:
    index: int
    header: str
    ident: str  # stable column identity: header, or "header #n" for repeats
    role: str  # "id", ATTRIBUTE or QUESTION
    reason: str
    filled: int = 0


@dataclass
class SurveyPlan:
    table: Table
    columns: list[Column]
    id_column: Column
    new_participants: list[Participant] = field(default_factory=list)
    updated_participants: list[tuple[Participant, dict[str, str]]] = field(default_factory=list)
    new_questions: list[Question] = field(default_factory=list)
    question_keys: dict[str, str] = field(default_factory=dict)  # column ident -> key
    new_responses: list[Response] = field(default_factory=list)
    unchanged_responses: int = 0
    differing_responses: list[str] = field(default_factory=list)
    skipped_empty: int = 0
    warnings: list[str] = field(default_factory=list)
    participants_in_file: int = 0

    @property
    def attributes(self) -> list[Column]:
        return [c for c in self.columns if c.role == ATTRIBUTE]

    @property
    def questions(self) -> list[Column]:
        return [c for c in self.columns if c.role == QUESTION]

    @property
    def changes_anything(self) -> bool:
        return bool(self.new_participants or self.updated_participants or self.new_questions
                    or self.new_responses)


def column_identities(header: list[str]) -> list[str]:
    reserved = set(header)  # a repeat's "#n" name never takes a real header's name
    used: set[str] = set()
    seen: dict[str, int] = {}
    out = []
    for h in header:
        if h in used:
            n = seen.get(h, 1)
            while True:
                n += 1
                ident = f"{h} #{n}"
                if ident not in reserved and ident not in used:
                    break
            seen[h] = n
        else:
            ident = h
        used.add(ident)
        out.append(ident)
    return out


def classify(values: list[str]) -> tuple[str, str]:
    """Apply the stated rule to one column's non-empty values."""
    if not values:
        return QUESTION, "no answers yet"
    words = [len(v.split()) for v in values]
    median = statistics.median(words)
    longest = max(len(v) for v in values)
    if median <= ATTRIBUTE_MAX_MEDIAN_WORDS and longest <= ATTRIBUTE_MAX_CHARS:
        return ATTRIBUTE, f"short labels (median {median:g} word{'' if median == 1 else 's'}, longest {longest} characters)"
    if longest > ATTRIBUTE_MAX_CHARS:
        return QUESTION, f"free text (longest answer {longest} characters)"
    return QUESTION, f"free text (median {median:g} word{'' if median == 1 else 's'})"


def _match_columns(name: str, header: list[str], idents: list[str]) -> list[int]:
    wanted = name.strip().casefold()
    hits = [i for i, ident in enumerate(idents) if ident.casefold() == wanted]
    if hits:
        return hits
    hits = [i for i, h in enumerate(header) if h.casefold() == wanted]
    if hits:
        return hits
    if wanted.startswith("#") and wanted[1:].isdigit():
        i = int(wanted[1:]) - 1
        if 0 <= i < len(header):
            return [i]
    return []


def _unknown_column(table: Table, name: str, option: str) -> ImportError_:
    listing = ", ".join(repr(h) for h in table.header)
    return ImportError_(f"{table.path}: {option} {name!r} matches no column. Columns are: {listing} "
                        "(a column can also be given by number, e.g. '#3')")


def plan_import(
    path: Path,
    state: State,
    *,
    id_column: str | None = None,
    attributes: list[str] = (),  # type: ignore[assignment]
    questions: list[str] = (),  # type: ignore[assignment]
    sheet: str | None = None,
    table: Table | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SurveyPlan:
    """Read and check the file, and work out what importing it would add. Writes nothing.
    ``progress(done, total)`` is told how far through the rows it is."""
    try:
        table = table or read_table(path, sheet=sheet)
    except TableError as exc:
        raise ImportError_(str(exc)) from None
    header = table.header
    idents = column_identities(header)

    if id_column is None:
        id_index = 0
    else:
        hits = _match_columns(id_column, header, idents)
        if not hits:
            raise ImportError_(f"{table.path}: no participant ID column named {id_column!r}. "
                               f"Columns are: {', '.join(repr(h) for h in header)}")
        if len(hits) > 1:
            raise ImportError_(f"{table.path}: {len(hits)} columns are named {id_column!r}; "
                               "give the ID column by number, e.g. --id-column '#1'")
        id_index = hits[0]

    forced: dict[int, str] = {}
    for names, role, option in ((attributes, ATTRIBUTE, "--attribute"), (questions, QUESTION, "--question")):
        for name in names:
            hits = _match_columns(name, header, idents)
            if not hits:
                raise _unknown_column(table, name, option)
            for i in hits:
                if i == id_index:
                    raise ImportError_(f"{table.path}: {option} {name!r} is the participant ID column")
                if forced.get(i, role) != role:
                    raise ImportError_(f"{table.path}: column {header[i]!r} is given as both an "
                                       "attribute and a question")
                forced[i] = role

    known_roles: dict[str, str] = dict(state.survey_meta.get("columns", {}))
    columns: list[Column] = []
    for i, (h, ident) in enumerate(zip(header, idents)):
        values = [row[i].strip() for row in table.rows if row[i].strip()]
        if i == id_index:
            columns.append(Column(i, h, ident, "id", "participant ID", len(values)))
            continue
        if i in forced:
            role, reason = forced[i], f"set by --{forced[i]}"
        elif ident in known_roles:
            role, reason = known_roles[ident], "as in the earlier import"
        else:
            role, reason = classify(values)
        columns.append(Column(i, h, ident, role, reason, len(values)))
    id_col = columns[id_index]

    # Participant IDs: present, unique.
    seen_rows: dict[str, int] = {}
    for r, row in enumerate(table.rows):
        pid = row[id_index].strip()
        if not pid:
            raise ImportError_(f"{table.where(r)}: the participant ID ({header[id_index]!r}) is empty")
        if pid in seen_rows:
            raise ImportError_(f"{table.where(r)}: participant ID {pid!r} is a duplicate of "
                               f"{table.where(seen_rows[pid])}")
        seen_rows[pid] = r
    if not table.rows:
        raise ImportError_(f"{table.path} has a header but no participants")

    plan = SurveyPlan(table=table, columns=columns, id_column=id_col, warnings=list(table.warnings))
    plan.warnings.extend(lookalike_ids(table, seen_rows, [p.pid for p in state.participants.values()]))
    plan.participants_in_file = len(table.rows)
    attr_cols = [c for c in columns if c.role == ATTRIBUTE]
    question_cols = [c for c in columns if c.role == QUESTION]
    if not question_cols:
        plan.warnings.append("no column was classified as an open question; use --question NAME")

    # Questions: existing keep their key and order; new ones get the next keys.
    existing_q = {q.column: q for q in state.questions.values()}
    next_key = 1 + max((int(q.key[1:]) for q in state.questions.values()
                        if q.key[1:].isdigit()), default=0)
    next_order = 1 + max((q.order for q in state.questions.values()), default=-1)
    questions_by_ident: dict[str, Question] = {}
    for col in question_cols:
        q = existing_q.get(col.ident)
        if q is None:
            q = Question(question_id(col.ident), f"Q{next_key}", col.header, col.ident, next_order)
            next_key += 1
            next_order += 1
            plan.new_questions.append(q)
        questions_by_ident[col.ident] = q
        plan.question_keys[col.ident] = q.key

    next_porder = 1 + max((p.order for p in state.participants.values()), default=-1)
    total = len(table.rows)
    for r, row in enumerate(table.rows):
        if progress is not None and r % 500 == 0:
            progress(r, total)
        pid = row[id_index].strip()
        attrs = {c.ident: normalise(row[c.index]).strip() for c in attr_cols}
        ident = participant_id(pid)
        existing = state.participants.get(ident)
        if existing is None:
            plan.new_participants.append(Participant(ident, pid, attrs, next_porder))
            next_porder += 1
        else:
            merged = {**existing.attrs, **{k: v for k, v in attrs.items() if v or k not in existing.attrs}}
            if merged != existing.attrs:
                plan.updated_participants.append((existing, merged))
        for col in question_cols:
            raw = row[col.index]
            if not raw.strip():
                plan.skipped_empty += 1
                continue
            text = normalise(raw)
            q = questions_by_ident[col.ident]
            rid = response_id(pid, col.ident)
            old = state.responses.get(rid)
            if old is None:
                plan.new_responses.append(Response(rid, ident, q.id, text, text_hash(text)))
            elif old.text == text:
                plan.unchanged_responses += 1
            else:
                plan.differing_responses.append(f"{pid} {q.key}")
    if progress is not None:
        progress(total, total)  # every row read: what is left is the writing
    if plan.differing_responses:
        shown = ", ".join(plan.differing_responses[:8])
        more = len(plan.differing_responses) - 8
        plan.warnings.append(
            f"{len(plan.differing_responses)} answer(s) differ from the text already in the project "
            f"({shown}{f' and {more} more' if more > 0 else ''}); the project's text was kept, "
            "because codings point into it")
    return plan


def _hidden(ch: str) -> bool:
    """Characters that do not show, or that reorder what is around them: format characters
    (zero-width spaces and joiners, bidi overrides and isolates, soft hyphens), control
    characters, and spaces other than the plain one."""
    cat = unicodedata.category(ch)
    return cat in ("Cf", "Cc") or (cat == "Zs" and ch != " ")


def _visible_form(pid: str) -> str:
    return "".join(" " if unicodedata.category(ch) == "Zs" else ch
                   for ch in pid if unicodedata.category(ch) not in ("Cf", "Cc"))


def lookalike_ids(table: Table, rows: dict[str, int], existing: list[str]) -> list[str]:
    """A warning for each participant ID holding a character that does not show or that turns
    the text around (it can look exactly like another ID), naming the look-alike if there is one."""
    suspects = [pid for pid in rows if any(_hidden(ch) for ch in pid)]
    if not suspects:
        return []
    seen: dict[str, list[tuple[str, str]]] = {}
    for pid in existing:
        seen.setdefault(_visible_form(pid), []).append((pid, "already in the project"))
    for pid, r in rows.items():
        seen.setdefault(_visible_form(pid), []).append((pid, table.where(r)))
    out = []
    for pid in suspects:
        names = ", ".join(dict.fromkeys(f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}"
                                        for ch in pid if _hidden(ch)))
        twins = [f"{other!r} ({where})" for other, where in seen[_visible_form(pid)] if other != pid]
        out.append(f"{table.where(rows[pid])}: participant ID {pid!r} holds {names}, which does not "
                   "show or turns text around"
                   + (f"; it looks the same as {', '.join(twins)}" if twins else "")
                   + "; it is kept as it is: check the export")
    return out


def apply_plan(plan: SurveyPlan, state: State) -> None:
    """Add what the plan found to the survey (called by the store under its lock)."""
    for p in plan.new_participants:
        state.participants[p.id] = p
    for existing, attrs in plan.updated_participants:
        state.participants[existing.id] = Participant(existing.id, existing.pid, attrs, existing.order)
    for q in plan.new_questions:
        state.questions[q.id] = q
    for r in plan.new_responses:
        state.responses[r.id] = r
    attrs = list(state.attributes)
    for c in plan.attributes:
        if c.ident not in attrs:
            attrs.append(c.ident)
    state.attributes = attrs
    meta = dict(state.survey_meta)
    roles = dict(meta.get("columns", {}))
    for c in plan.columns:
        if c.role in (ATTRIBUTE, QUESTION):
            roles[c.ident] = c.role
    meta["columns"] = roles
    meta["id_column"] = plan.id_column.header
    imports = list(meta.get("imports", []))
    imports.append({"file": plan.table.path.name, "participants": plan.participants_in_file,
                    "new_responses": len(plan.new_responses)})
    meta["imports"] = imports[-50:]
    state.survey_meta = meta


def describe(plan: SurveyPlan, project_dir: Path, *, dry_run: bool = False) -> list[str]:
    """What was found, for the terminal."""
    t = plan.table
    lines = [f"{'Would import' if dry_run else 'Imported'} {t.path.name} into {project_dir}"]
    lines.append(f"  participants: {plan.participants_in_file} in the file "
                 f"({len(plan.new_participants)} new) — ID column {plan.id_column.header!r}")
    attrs = plan.attributes
    lines.append(f"  attributes ({len(attrs)}): " + (", ".join(c.header for c in attrs) or "none"))
    for c in attrs:
        lines.append(f"    {c.header}: {c.reason}")
    lines.append(f"  questions ({len(plan.questions)}):")
    for c in plan.questions:
        key = plan.question_keys.get(c.ident, "")
        lines.append(f"    {key:>4}  {_clip(c.header, 60)}  [{c.filled} answers; {c.reason}]")
    lines.append(f"  responses: {len(plan.new_responses)} new, {plan.unchanged_responses} already "
                 f"in the project, {plan.skipped_empty} empty answers skipped")
    if plan.updated_participants:
        lines.append(f"  attributes updated for {len(plan.updated_participants)} participant(s)")
    if not plan.changes_anything:
        lines.append("  nothing new: the project already holds everything in this file")
    lines.append("  To change the classification, import again with --attribute NAME or "
                 "--question NAME (repeatable); --id-column NAME picks the ID column.")
    return lines


def _clip(text: str, n: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def import_survey(project_dir: Path, path: Path, *, create: bool = True,
                  progress: Callable[[int, int], None] | None = None,
                  **options) -> tuple[SurveyPlan, list[str]]:
    """Check the file, then create/open the project and add the survey. All or nothing."""
    from ..longwork import uninterrupted
    from ..project import Project
    from ..store.store import ProjectStore, is_project

    project_dir = Path(project_dir)
    exists = is_project(project_dir)
    if exists:
        project = Project.open(project_dir)
        try:
            plan = plan_import(path, project.state, progress=progress, **options)
            if plan.changes_anything:
                with uninterrupted():  # from here on, all of it or (before) none of it
                    plan = project.store.replace_survey(lambda st: _replan_and_apply(plan, st, path, options))
        finally:
            project.close()
    else:
        if not create:
            raise ImportError_(f"{project_dir} is not a tuiqa project")
        plan = plan_import(path, State(), progress=progress, **options)
        with uninterrupted():
            store = ProjectStore.create(project_dir)
            store.replace_survey(lambda st: apply_plan(plan, st))
    return plan, describe(plan, project_dir)


def _replan_and_apply(plan: SurveyPlan, state: State, path: Path, options: dict) -> SurveyPlan:
    """Plan again against the survey as it is on disk under the lock (another import may have
    landed since the first look; the file is not read twice), then apply."""
    fresh = plan_import(path, state, table=plan.table, **options)
    apply_plan(fresh, state)
    return fresh
