"""The codebook: codes with their counts, and the reshaping of phase 3 (rename, merge, split,
delete), as changes on a project. Counting and collating never touch Textual.

Every operation here adds to a :class:`~tuiqa.project.Change`; :class:`~tuiqa.session.Session`
commits it as one undoable step, so a merge of twenty codes is undone with one key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .fuzzy import closest
from .model import CODE_KINDS, Code, Coding
from .project import CONSENSUS, Change, ChangeError, Project, clean_name
from .text import quoted


class UnknownCode(ChangeError):
    def __init__(self, name: str, suggestions: list[str]) -> None:
        hint = f"; did you mean {', '.join(quoted(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"no code named {quoted(name)}{hint}")
        self.name = name
        self.suggestions = suggestions


class NameTaken(ChangeError):
    """Renaming onto another code's name: the UI offers to merge instead."""

    def __init__(self, existing: Code) -> None:
        super().__init__(f"a code named {quoted(existing.name)} already exists; merge into it instead?")
        self.existing = existing


@dataclass
class CodeStats:
    code: Code
    extracts: int = 0
    responses: int = 0
    participants: int = 0
    coders: set[str] = field(default_factory=set)


def find_code(project: Project, name: str) -> Code:
    code = project.code_by_name(name)
    if code is None:
        raise UnknownCode(name, closest(name, [c.name for c in project.codes()]))
    return code


def code_stats(project: Project, coder: str | None = None) -> dict[str, CodeStats]:
    """Counts for every code (over every coder, or one). Codes nobody used have zeros."""
    return project.remember(("code_stats", coder), lambda: _code_stats(project, coder))


def _code_stats(project: Project, coder: str | None) -> dict[str, CodeStats]:
    participant_of = {rid: r.participant_id for rid, r in project.responses.items()}
    stats = {c.id: CodeStats(c) for c in project.codes()}
    for code_id, codings in project.codings_by_code.items():
        entry = stats.get(code_id)
        if entry is None or not codings:
            continue
        items = [c for c in codings.values()
                 if (c.coder == coder if coder is not None else c.coder != CONSENSUS)]
        rids = {c.response_id for c in items}
        entry.extracts = len(items)
        entry.responses = len(rids)
        entry.participants = len({participant_of.get(r) for r in rids} - {None})
        entry.coders = {c.coder for c in items}
    return stats


def reading_rank(project: Project) -> dict[str, tuple[int, int]]:
    """response id -> (participant order, question order); shared until the project changes."""
    def compute() -> dict[str, tuple[int, int]]:
        porder = {pid: p.order for pid, p in project.participants.items()}
        qorder = {qid: q.order for qid, q in project.questions.items()}
        return {rid: (porder.get(r.participant_id, 0), qorder.get(r.question_id, 0))
                for rid, r in project.responses.items()}

    return project.remember(("reading_rank",), compute)


def extracts_of(project: Project, code_id: str, coder: str | None = None) -> list[Coding]:
    """A code's codings in reading order (participant, question, position): every coder's
    (the ``consensus`` layer only when asked for by name), or one coder's."""
    rank = reading_rank(project)
    items = [c for c in project.codings_by_code.get(code_id, {}).values()
             if (c.coder == coder if coder is not None else c.coder != CONSENSUS)]
    return sorted(items, key=lambda c: (*rank.get(c.response_id, (0, 0)), c.start, c.end, c.coder))


# -- operations ----------------------------------------------------------------------------------


def rename(project: Project, change: Change, code_id: str, new_name: str) -> None:
    name = clean_name(new_name)
    if not name:
        raise ChangeError("a code needs a name")
    existing = project.code_by_name(name)
    if existing is not None and existing.id != code_id:
        raise NameTaken(existing)
    change.update("code", code_id, name=name)


def set_kind(change: Change, code_id: str, kind: str) -> None:
    if kind not in CODE_KINDS:
        raise ChangeError(f"code kind must be one of {', '.join(CODE_KINDS)}")
    change.update("code", code_id, kind=kind)


def _same_extract(c: Coding) -> tuple:
    return (c.response_id, c.coder, c.start, c.end)


def move_codings(project: Project, change: Change, codings: list[Coding], target_id: str) -> int:
    """Give these codings another code; where the coder already has the target code on the same
    extract, the moved coding becomes that one (it is deleted). Returns how many merged away."""
    existing = {_same_extract(c) for c in project.codings_by_code.get(target_id, {}).values()}
    merged = 0
    for c in codings:
        if c.code_id == target_id:
            continue
        key = _same_extract(c)
        if key in existing:
            change.update("coding", c.id, deleted=True)
            merged += 1
        else:
            change.update("coding", c.id, code_id=target_id)
            existing.add(key)
    return merged


def merge(project: Project, change: Change, source_ids: list[str], target_id: str) -> tuple[int, int]:
    """Merge codes into ``target_id``. Returns (codings moved, duplicates that became one)."""
    if target_id in source_ids:
        raise ChangeError("a code cannot be merged into itself")
    moved = merged = 0
    for sid in source_ids:
        codings = list(project.codings_by_code.get(sid, {}).values())
        dup = move_codings(project, change, codings, target_id)
        merged += dup
        moved += len(codings) - dup
        change.update("code", sid, deleted=True, merged_into=target_id)
    return moved, merged


def delete(project: Project, change: Change, code_id: str) -> int:
    """Delete a code and every coding of it (undo brings all back). Returns the codings count."""
    codings = list(project.codings_by_code.get(code_id, {}).values())
    for c in codings:
        change.update("coding", c.id, deleted=True)
    change.update("code", code_id, deleted=True)
    return len(codings)
