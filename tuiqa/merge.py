"""Bring another copy of a project into this one (``tuiqa merge DIR OTHER``).

The other copy may be a colleague's copy used on another machine, or a separate import of the
same survey (participants, questions and responses have the same IDs either way). Every field of
every object carries the stamps it has known (see :mod:`tuiqa.store.state`), so a merge is the
same rule the two coders on one server already live by:

* what this project lacks is brought in (codings, codes, memos, review marks, themes, map
  versions, resolutions, done marks; participants and answers too);
* deletions are fields, so what was deleted on purpose stays deleted;
* a field changed on both sides since they parted keeps the later change and the other is
  reported (and recorded in the project);
* codes are matched by ID, then by name: a same-named code with another ID is fused into this
  project's code (its codings and places move over) and reported;
* merging twice changes nothing.

The other copy is only read, never written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
import threading
from typing import Any, Callable

from .longwork import Steps, uninterrupted
from .model import ENTITY_TYPES, Resolution, ThemeCode
from .project import Project
from .store.state import ConflictInfo, entity_ops


@dataclass
class MergeReport:
    brought: Counter = field(default_factory=Counter)
    survey: Counter = field(default_factory=Counter)
    fused: list[tuple[str, str, str]] = field(default_factory=list)  # name, their id, our id
    conflicts: list[ConflictInfo] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def nothing(self) -> bool:
        return not (self.brought or self.survey or self.fused)

    def lines(self, other: Path) -> list[str]:
        if self.nothing and not self.skipped:
            return [f"Nothing new in {other}: this project already has everything it holds."]
        out = [f"Brought in from {other}:"]
        for kind, n in sorted(self.survey.items()):
            out.append(f"  {n} {kind}")
        for kind, n in sorted(self.brought.items()):
            out.append(f"  {n} {kind} change(s)")
        for name, theirs, ours in self.fused:
            out.append(f"  fused the code {name!r} (their id {theirs[:8]}…) into this project's ({ours[:8]}…)")
        if self.conflicts:
            out.append(f"Conflicts ({len(self.conflicts)}): the later change was kept; recorded in the project")
            for c in self.conflicts[:20]:
                out.append(f"  {c.kind} {c.target_id[:8]}… {c.field}: kept {_show(c.kept)}, "
                           f"not {_show(c.lost)}")
            if len(self.conflicts) > 20:
                out.append(f"  … and {len(self.conflicts) - 20} more")
        for s in self.skipped[:20]:
            out.append(f"Skipped: {s}")
        if len(self.skipped) > 20:
            out.append(f"  … and {len(self.skipped) - 20} more skipped")
        return out


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 50 else text[:49] + "…"


def merge_into(project: Project, other_dir: Path, coder: str,
               progress: Callable[[int, int], None] | None = None,
               cancel: threading.Event | None = None) -> MergeReport:
    """Merge ``other_dir`` into ``project`` (one journal transaction; conflicts recorded).

    ``progress(step, 4)``: reading the other copy, the survey, the rest, writing. Until the
    writing starts, ``cancel`` (or Ctrl+C) stops it with nothing written; then it finishes."""
    report = MergeReport()
    step = Steps(4, progress, cancel)
    step(0)
    other = Project.open(other_dir, readonly=True)
    try:
        step(1)
        survey = _survey_missing(project, other)
        step(2)
        ops = _entity_ops(project, other, report)
        step(3)
        step.check()
        with uninterrupted():
            _merge_survey(project, other, survey, report)
            if ops:
                ops.sort(key=lambda op: op["s"])
                for op in ops:
                    project.store.clock.observe(op["s"])
                conflicts = project.store.commit(ops, coder)
                report.conflicts = conflicts
                if conflicts:
                    project.record_conflicts(conflicts, coder)
    finally:
        other.close(compact=False)
    if not ops:
        report.fused = []  # fused before: nothing moves now, so nothing to say
    step.finish()
    return report


def _survey_missing(project: Project, other: Project) -> tuple[list, list, list]:
    st, ot = project.state, other.state
    return ([p for pid, p in ot.participants.items() if pid not in st.participants],
            [q for qid, q in ot.questions.items() if qid not in st.questions],
            [r for rid, r in ot.responses.items() if rid not in st.responses])


def _merge_survey(project: Project, other: Project, missing: tuple[list, list, list],
                  report: MergeReport) -> None:
    missing_p, missing_q, missing_r = missing
    if not (missing_p or missing_q or missing_r):
        return
    from .model import Participant, Question, Response

    def add(state) -> None:
        porder = 1 + max((p.order for p in state.participants.values()), default=-1)
        for p in sorted(missing_p, key=lambda p: p.order):
            if p.id not in state.participants:
                state.participants[p.id] = Participant(p.id, p.pid, dict(p.attrs), porder)
                porder += 1
        qorder = 1 + max((q.order for q in state.questions.values()), default=-1)
        keys = {q.key for q in state.questions.values()}
        for q in sorted(missing_q, key=lambda q: q.order):
            if q.id not in state.questions:
                key = q.key if q.key not in keys else f"Q{len(keys) + 1}"
                keys.add(key)
                state.questions[q.id] = Question(q.id, key, q.text, q.column, qorder)
                qorder += 1
        for r in missing_r:
            if r.id not in state.responses:
                state.responses[r.id] = Response(r.id, r.participant_id, r.question_id, r.text, r.hash)
        for a in other.attributes:
            if a not in state.attributes:
                state.attributes.append(a)

    project.store.replace_survey(add, kind="merge")
    report.survey.update({"participants": len(missing_p), "questions": len(missing_q),
                          "responses": len(missing_r)})


def _entity_ops(project: Project, other: Project, report: MergeReport) -> list[dict]:
    ours = project.state
    # codes: by ID, then by name
    fuse: dict[str, str] = {}
    for code in other.state.table("code").values():
        if code.id in ours.table("code") or code.deleted or not code.name:  # type: ignore[attr-defined]
            continue
        mine = project.code_by_name(code.name)  # type: ignore[attr-defined]
        if mine is not None:
            fuse[code.id] = mine.id
            report.fused.append((code.name, code.id, mine.id))  # type: ignore[attr-defined]
    ops: list[dict] = []
    responses = ours.responses
    for kind, table in other.state.entities.items():
        if kind not in ENTITY_TYPES or kind == "conflict":
            continue
        for obj in table.values():
            if kind == "code" and obj.id in fuse:
                continue
            fields = obj.values()
            new_id = obj.id
            if kind == "coding":
                if fields.get("code_id") in fuse:
                    fields["code_id"] = fuse[fields["code_id"]]
                response = responses.get(fields.get("response_id"))
                if response is not None and fields.get("text_hash") and fields["text_hash"] != response.hash:
                    report.skipped.append(f"a coding by {fields.get('coder')} on an answer whose text "
                                          "differs in this project")
                    continue
            elif kind == "themecode" and fields.get("code_id") in fuse:
                fields["code_id"] = fuse[fields["code_id"]]
                new_id = ThemeCode.make_id(fields["theme_id"], fields["code_id"])
            elif kind == "resolution" and fields.get("code_id") in fuse:
                fields["code_id"] = fuse[fields["code_id"]]
                new_id = Resolution.make_id(fields["response_id"], fields["code_id"])
            elif kind == "reviewmark" and fields.get("suggested_code_id") in fuse:
                fields["suggested_code_id"] = fuse[fields["suggested_code_id"]]
            elif kind == "coderpref" and fields.get("recent"):
                fields["recent"] = [fuse.get(c, c) for c in fields["recent"]]
            known = ours.table(kind).get(new_id)
            found = entity_ops(obj, known, fields, new_id)
            if found:
                ops.extend(found)
                report.brought[kind] += 1
    return ops
