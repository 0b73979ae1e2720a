"""A coder's session on a project: what the UI calls to change things, with undo and redo.

Every method here is one user action: it builds one :class:`~tuiqa.project.Change`, commits it
(durable on disk before returning), and pushes it on the undo stack. Nothing here knows about
Textual.
"""

from __future__ import annotations

import getpass
import os
from collections import deque
from dataclasses import dataclass

from .model import CoderPref, Coding, Memo
from .project import ChangeError, Project, UndoRecord, restamp

UNDO_LIMIT = 1000
RECENT_LIMIT = 9


def default_coder() -> str:
    """``$TUIQA_CODER``, else the login name."""
    name = os.environ.get("TUIQA_CODER", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "coder"


def valid_coder_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ChangeError("a coder needs a name")
    if cleaned.casefold() == "consensus":
        raise ChangeError("'consensus' is reserved for the team's agreed layer")
    if any(not ch.isprintable() for ch in cleaned):
        raise ChangeError("a coder name must be plain text")
    return cleaned


@dataclass
class Outcome:
    """What an action did, in words for the status line."""

    message: str
    changed: bool = True


class Session:
    def __init__(self, project: Project, coder: str) -> None:
        self.project = project
        self.coder = coder
        self.undo_stack: deque[UndoRecord] = deque(maxlen=UNDO_LIMIT)
        self.redo_stack: list[UndoRecord] = []

    # -- helpers -----------------------------------------------------------------------------

    def _commit(self, change, *, undoable: bool = True) -> UndoRecord | None:
        record = self.project.commit(change, self.coder)
        if record is not None and undoable:
            self.undo_stack.append(record)
            self.redo_stack.clear()
        return record

    @property
    def recent_codes(self) -> list[str]:
        """Ids of the last nine codes this coder applied, most recent first (kept in the project)."""
        pref = self.project.coder_pref(self.coder)
        recent = list(getattr(pref, "recent", None) or []) if pref is not None else []
        return [cid for cid in recent if (c := self.project.code(cid)) is not None and not c.deleted]

    def _touch_recent(self, change, code_ids: list[str]) -> None:
        recent = [cid for cid in code_ids]
        for cid in self.recent_codes:
            if cid not in recent:
                recent.append(cid)
        recent = recent[:RECENT_LIMIT]
        # Remembering recent codes is not something to undo.
        change.create(CoderPref, CoderPref.make_id(self.coder), record=False, coder=self.coder,
                      recent=recent)

    # -- coding ------------------------------------------------------------------------------

    def apply_codes(self, response_id: str, start: int, end: int, code_ids: list[str]) -> Outcome:
        change = self.project.change("apply code")
        added = 0
        for cid in code_ids:
            if self.project.add_coding(change, response_id, cid, self.coder, start, end) is not None:
                added += 1
        names = ", ".join(self.project.code_name(c) for c in code_ids)
        self._touch_recent(change, code_ids)
        if not added:
            self._commit(change, undoable=False)
            return Outcome(f"Already coded {names} here", changed=False)
        change.label = f"apply {names}"
        self._commit(change)
        return Outcome(f"Coded {names}")

    def create_and_apply(self, response_id: str, start: int, end: int, name: str,
                         kind: str) -> Outcome:
        change = self.project.change("new code")
        existing = self.project.code_by_name(name)
        cid = self.project.ensure_code(change, name, kind=kind, coder=self.coder)
        self.project.add_coding(change, response_id, cid, self.coder, start, end)
        self._touch_recent(change, [cid])
        change.label = f"apply new code {name}"
        self._commit(change)
        if existing is not None:
            return Outcome(f"Coded {existing.name} (it already existed)")
        return Outcome(f"Created {kind} code {name!r} and coded it")

    def remove_coding(self, coding_id: str) -> Outcome:
        coding: Coding | None = self.project.state.table("coding").get(coding_id)  # type: ignore[assignment]
        if coding is None or coding.deleted:
            return Outcome("Nothing to remove", changed=False)
        if coding.coder != self.coder:
            # Another coder's work changes only on their word (see the review step).
            return Outcome(f"That coding is {coding.coder}'s; only they can remove it",
                           changed=False)
        name = self.project.code_name(coding.code_id)
        change = self.project.change(f"remove {name}")
        change.update("coding", coding_id, deleted=True)
        self._commit(change)
        return Outcome(f"Removed {name}")

    def set_done(self, response_id: str, done: bool) -> Outcome:
        change = self.project.change("mark done" if done else "mark not done")
        self.project.set_done(change, response_id, self.coder, done)
        self._commit(change)
        return Outcome("Marked done" if done else "Marked not done")

    def toggle_done(self, response_id: str) -> Outcome:
        return self.set_done(response_id, not self.project.is_done(response_id, self.coder))

    # -- memos -------------------------------------------------------------------------------

    def my_memo(self, target_kind: str, target_id: str) -> Memo | None:
        mine = [m for m in self.project.memos_for(target_kind, target_id) if m.coder == self.coder]
        return mine[-1] if mine else None

    def save_memo(self, target_kind: str, target_id: str, text: str) -> Outcome:
        existing = self.my_memo(target_kind, target_id)
        text = text.rstrip()
        change = self.project.change("memo")
        if existing is None:
            if not text:
                return Outcome("Empty memo not saved", changed=False)
            self.project.add_memo(change, target_kind, target_id, self.coder, text)
            message = "Memo saved"
        elif not text:
            change.update("memo", existing.id, deleted=True)
            message = "Memo deleted"
        elif text == existing.text:
            return Outcome("Memo unchanged", changed=False)
        else:
            change.update("memo", existing.id, text=text)
            message = "Memo saved"
        self._commit(change)
        return Outcome(message)

    def add_journal_entry(self, text: str) -> Outcome:
        if not text.strip():
            return Outcome("Empty entry not saved", changed=False)
        change = self.project.change("journal entry")
        self.project.add_memo(change, "project", self.project.store.meta.get("project_id", ""),
                              self.coder, text.rstrip())
        self._commit(change)
        return Outcome("Journal entry saved")

    # -- undo --------------------------------------------------------------------------------

    def undo(self) -> Outcome:
        if not self.undo_stack:
            return Outcome("Nothing to undo", changed=False)
        record = self.undo_stack.pop()
        change, skipped = self.project.undo_change(record)
        self.project.commit(change, self.coder)
        self.redo_stack.append(restamp(record, change))
        return Outcome(_undo_message("Undid", record.label, skipped))

    def redo(self) -> Outcome:
        if not self.redo_stack:
            return Outcome("Nothing to redo", changed=False)
        record = self.redo_stack.pop()
        change, skipped = self.project.undo_change(record, redo=True)
        self.project.commit(change, self.coder)
        self.undo_stack.append(restamp(record, change))
        return Outcome(_undo_message("Redid", record.label, skipped))


def _undo_message(verb: str, label: str, skipped: list[str]) -> str:
    if skipped:
        return f"{verb} {label} (except {len(skipped)} change(s) made since by someone else)"
    return f"{verb} {label}"
