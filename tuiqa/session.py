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

from . import codebook, quotes, review, themes
from .colours import parse_colour
from .model import CoderPref, Coding, Memo, Response
from .project import ChangeError, Project, UndoRecord, restamp
from .text import quoted

QUOTE_TEMPLATE = "quote_template"

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
        return Outcome(f"Created {kind} code {quoted(name)} and coded it")

    def remove_coding(self, coding_id: str) -> Outcome:
        coding = self.project.coding(coding_id)
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

    # -- the codebook --------------------------------------------------------------------------

    def rename_code(self, code_id: str, new_name: str) -> Outcome:
        """Rename; raises :class:`codebook.NameTaken` when the name is another code's."""
        old = self.project.code_name(code_id)
        change = self.project.change(f"rename {old}")
        codebook.rename(self.project, change, code_id, new_name)
        if not change:
            return Outcome("Name unchanged", changed=False)
        self._commit(change)
        return Outcome(f"Renamed {quoted(old)} to {quoted(self.project.code_name(code_id))}")

    def edit_code(self, code_id: str, *, kind: str | None = None, description: str | None = None,
                  colour: str | None = None) -> Outcome:
        name = self.project.code_name(code_id)
        change = self.project.change(f"edit {name}")
        if kind is not None:
            codebook.set_kind(change, code_id, kind)
        if description is not None:
            change.update("code", code_id, description=description.rstrip())
        if colour is not None:
            change.update("code", code_id, colour=parse_colour(colour) if colour.strip() else "")
        if not change:
            return Outcome("Nothing changed", changed=False)
        self._commit(change)
        return Outcome(f"Saved {name}")

    def merge_codes(self, source_ids: list[str], target_id: str) -> Outcome:
        names = ", ".join(self.project.code_name(s) for s in source_ids)
        target = self.project.code_name(target_id)
        change = self.project.change(f"merge {names} into {target}")
        moved, merged = codebook.merge(self.project, change, source_ids, target_id)
        self._commit(change)
        extra = f" ({merged} duplicate extract(s) became one)" if merged else ""
        return Outcome(f"Merged {names} into {target}: {moved} coding(s) moved{extra}")

    def move_codings(self, coding_ids: list[str], target_id: str | None = None, *,
                     new_name: str = "", kind: str = "semantic") -> Outcome:
        """Split: move some extracts of a code to another code, existing or new."""
        codings = [c for c in map(self.project.coding, coding_ids) if c is not None and not c.deleted]
        if not codings:
            return Outcome("No extracts chosen", changed=False)
        change = self.project.change("split")
        if target_id is None:
            target_id = self.project.ensure_code(change, new_name, kind=kind, coder=self.coder)
        target = new_name or self.project.code_name(target_id)
        change.label = f"move {len(codings)} extract(s) to {target}"
        merged = codebook.move_codings(self.project, change, codings, target_id)
        self._commit(change)
        extra = f" ({merged} were already coded so and became one)" if merged else ""
        return Outcome(f"Moved {len(codings)} extract(s) to {target}{extra}")

    def delete_code(self, code_id: str) -> Outcome:
        name = self.project.code_name(code_id)
        change = self.project.change(f"delete {name}")
        count = codebook.delete(self.project, change, code_id)
        self._commit(change)
        return Outcome(f"Deleted {name} and its {count} coding(s) (u undoes)")

    def recode(self, coding_id: str, target_id: str) -> Outcome:
        coding = self.project.coding(coding_id)
        if coding is None or coding.deleted:
            return Outcome("Nothing to recode", changed=False)
        if coding.coder != self.coder:
            return Outcome(f"That coding is {coding.coder}'s; only they can recode it", changed=False)
        change = self.project.change(f"recode as {self.project.code_name(target_id)}")
        codebook.move_codings(self.project, change, [coding], target_id)
        self._commit(change)
        return Outcome(f"Recoded as {self.project.code_name(target_id)}")

    # -- themes ------------------------------------------------------------------------------

    def _theme_name(self, theme_id: str) -> str:
        theme = self.project.theme(theme_id)
        return theme.name if theme is not None else "?"

    def create_theme(self, name: str, *, parent_id: str | None = None,
                     overarching: bool = False) -> tuple[Outcome, str]:
        change = self.project.change("new theme")
        ident = themes.create(self.project, change, name, parent_id=parent_id,
                              overarching=overarching, coder=self.coder)
        parent = self.project.theme(parent_id) if parent_id else None
        kind = "overarching theme" if overarching else \
            "sub-theme" if parent is not None and not parent.overarching else "theme"
        change.label = f"new {kind} {name}"
        self._commit(change)
        return Outcome(f"Created the {kind} “{' '.join(name.split())}”"), ident

    def edit_theme(self, theme_id: str, **fields) -> Outcome:
        allowed = {"name", "description", "concept", "status"}
        unknown = set(fields) - allowed
        if unknown:
            raise ChangeError(f"themes have no field {', '.join(sorted(unknown))}")
        if "name" in fields:
            fields["name"] = " ".join(fields["name"].split())
            if not fields["name"]:
                raise ChangeError("a theme needs a name")
        if "status" in fields and fields["status"] not in themes.STATUSES:
            raise ChangeError(f"status must be one of {', '.join(themes.STATUSES)}")
        for key in ("description", "concept"):
            if key in fields:
                fields[key] = fields[key].rstrip()
        change = self.project.change(f"edit {self._theme_name(theme_id)}")
        change.update("theme", theme_id, **fields)
        if not change:
            return Outcome("Nothing changed", changed=False)
        self._commit(change)
        return Outcome(f"Saved {self._theme_name(theme_id)}")

    def move_theme(self, theme_id: str, parent_id: str | None) -> Outcome:
        change = self.project.change(f"move {self._theme_name(theme_id)}")
        themes.move(self.project, change, theme_id, parent_id)
        self._commit(change)
        where = self._theme_name(parent_id) if parent_id else "the top level"
        return Outcome(f"Moved {self._theme_name(theme_id)} under {where}")

    def reorder_theme(self, theme_id: str, delta: int) -> Outcome:
        change = self.project.change(f"reorder {self._theme_name(theme_id)}")
        if not themes.reorder(self.project, change, theme_id, delta):
            return Outcome("Already " + ("first" if delta < 0 else "last"), changed=False)
        self._commit(change)
        return Outcome(f"Moved {self._theme_name(theme_id)} {'up' if delta < 0 else 'down'}")

    def assign_codes(self, theme_id: str, code_ids: list[str]) -> Outcome:
        change = self.project.change(f"assign codes to {self._theme_name(theme_id)}")
        n = themes.assign(change, theme_id, code_ids)
        for cid in code_ids:  # a placed code is no longer parked in miscellaneous
            if getattr(self.project.code(cid), "parked", False):
                themes.park(change, cid, False)
        if not n:
            return Outcome("Those codes are already there", changed=False)
        self._commit(change)
        return Outcome(f"Placed {n} code(s) under {self._theme_name(theme_id)}")

    def unassign_code(self, theme_id: str, code_id: str) -> Outcome:
        change = self.project.change(f"remove {self.project.code_name(code_id)} from a theme")
        if not themes.unassign(change, theme_id, code_id):
            return Outcome("That code is not under that theme", changed=False)
        self._commit(change)
        return Outcome(f"Took {self.project.code_name(code_id)} out of {self._theme_name(theme_id)}")

    def park_code(self, code_id: str, parked: bool = True) -> Outcome:
        change = self.project.change("park code" if parked else "unpark code")
        themes.park(change, code_id, parked)
        if not change:
            return Outcome("Unchanged", changed=False)
        self._commit(change)
        name = self.project.code_name(code_id)
        return Outcome(f"Parked {name} in miscellaneous" if parked else f"{name} is back in the unassigned pile")

    def delete_theme(self, theme_id: str) -> Outcome:
        name = self._theme_name(theme_id)
        change = self.project.change(f"delete theme {name}")
        released, moved = themes.delete(self.project, change, theme_id)
        self._commit(change)
        extra = f"; {moved} sub-theme(s) moved up" if moved else ""
        return Outcome(f"Deleted {name}: {released} code(s) released{extra} (u undoes)")

    def save_map_version(self, label: str) -> Outcome:
        change = self.project.change("save map version")
        themes.save_version(self.project, change, label, self.coder)
        self._commit(change, undoable=False)
        return Outcome(f"Saved the map as “{' '.join(label.split())}”")

    def restore_map_version(self, version_id: str) -> Outcome:
        version = self.project.map_version(version_id)
        if version is None or version.deleted:
            return Outcome("That version no longer exists", changed=False)
        change = self.project.change(f"restore map “{version.label}”")
        themes.restore(self.project, change, version.snapshot)
        if not change:
            return Outcome("The map is already as that version", changed=False)
        self._commit(change)
        return Outcome(f"Restored the map “{version.label}” (u undoes)")

    # -- blind coding --------------------------------------------------------------------------

    @property
    def blind(self) -> bool:
        pref = self.project.coder_pref(self.coder)
        return bool(pref is not None and pref.blind)

    def set_blind(self, blind: bool) -> Outcome:
        """Remembered for this coder in this project until turned off on purpose."""
        if not self._remember("blind coding on" if blind else "blind coding off", blind=blind):
            return Outcome("Unchanged", changed=False)
        return Outcome("Blind coding is on: you see only your own work" if blind else
                       "Blind coding is off: you see everyone's work")

    # -- the coder's preferences (kept in the project; nothing to undo) ---------------------------

    def _remember(self, label: str, **fields) -> bool:
        change = self.project.change(label)
        change.create(CoderPref, CoderPref.make_id(self.coder), record=False, coder=self.coder,
                      **fields)
        if not change:
            return False
        self._commit(change, undoable=False)
        return True

    @property
    def ui_theme(self) -> str:
        """The app's theme this coder chose last ("" for the default)."""
        pref = self.project.coder_pref(self.coder)
        return pref.ui_theme if pref is not None and pref.ui_theme else ""

    def remember_theme(self, theme: str) -> None:
        if theme != self.ui_theme:
            self._remember("theme", ui_theme=theme)

    @property
    def welcomed(self) -> bool:
        """Whether this coder has had the first-run hint in this project."""
        pref = self.project.coder_pref(self.coder)
        return bool(pref is not None and pref.welcomed)

    def mark_welcomed(self) -> None:
        self._remember("welcomed", welcomed=True)

    # -- appropriateness review ----------------------------------------------------------------

    def review_mark(self, kind: str, target_id: str, verdict: str, *, comment: str | None = None,
                    suggested_code_id: str | None = None) -> Outcome:
        owner = ""
        if kind == "coding":
            c = self.project.coding(target_id)
            owner = c.coder if c is not None else ""
            if owner == self.coder:
                return Outcome("That is your own coding: review someone else's", changed=False)
        change = self.project.change(f"mark {verdict}")
        review.mark(self.project, change, kind, target_id, reviewer=self.coder, verdict=verdict,
                    comment=comment, suggested_code_id=suggested_code_id, target_coder=owner)
        self._commit(change)
        return Outcome(f"Marked {verdict}")

    def resolve_question(self, mark_id: str, action: str, reply: str = "",
                         new_code_id: str | None = None) -> Outcome:
        change = self.project.change(f"{action} after review")
        review.resolve_question(self.project, change, mark_id, coder=self.coder, action=action,
                                reply=reply, new_code_id=new_code_id)
        self._commit(change)
        return Outcome({"keep": "Kept", "change": "Changed", "remove": "Removed"}[action]
                       + " (the reviewer sees your reply)")

    # -- disagreements ---------------------------------------------------------------------------

    def resolve_disagreement(self, item, decision: str, comment: str = "") -> Outcome:
        """Settle a :class:`tuiqa.coders.Disagreement` into the consensus layer."""
        from . import coders  # (the agreement statistics load only when they are used)

        change = self.project.change("resolve a disagreement")
        coders.resolve(self.project, change, item, decision, comment=comment, by=self.coder)
        self._commit(change)
        if decision == "discuss":
            return Outcome("Marked for discussion")
        return Outcome("Resolved: " + ("kept both" if decision == "both" else f"kept {decision[5:]}'s version")
                       + " in the consensus layer")

    # -- quotes ------------------------------------------------------------------------------

    @property
    def quote_template(self) -> str:
        template = self.project.setting(QUOTE_TEMPLATE)
        return template or quotes.default_template(self.project.attributes)

    def set_quote_template(self, template: str) -> Outcome:
        quotes.parse(template, self.project.attributes)  # raises TemplateError with the reason
        change = self.project.change("quote template")
        self.project.set_setting(change, QUOTE_TEMPLATE, template)
        self._commit(change)
        return Outcome("Quote template saved")

    def attribution(self, response: Response) -> str:
        part = self.project.participants.get(response.participant_id)
        if part is None:
            return ""
        attributes = self.project.attributes
        try:
            return quotes.attribution(self.quote_template, attributes, part.pid, part.attrs)
        except quotes.TemplateError:  # e.g. an attribute renamed by a re-import: fall back
            return quotes.attribution(quotes.default_template(attributes), attributes, part.pid,
                                      part.attrs)

    def quote(self, coding: Coding) -> str:
        response = self.project.responses[coding.response_id]
        return quotes.quote(response.text[coding.start:coding.end], self.attribution(response))

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

    def edit_memo(self, memo_id: str, text: str) -> Outcome:
        """Change (or, with empty text, delete) one of your own memos or journal entries."""
        memo = self.project.memo(memo_id)
        if memo is None or memo.deleted:
            return Outcome("That memo no longer exists", changed=False)
        if memo.coder != self.coder:
            return Outcome(f"That memo is {memo.coder}'s", changed=False)
        change = self.project.change("edit memo")
        if text.strip():
            change.update("memo", memo_id, text=text.rstrip())
        else:
            change.update("memo", memo_id, deleted=True)
        if not change:
            return Outcome("Unchanged", changed=False)
        self._commit(change)
        return Outcome("Saved" if text.strip() else "Deleted (u undoes)")

    def add_journal_entry(self, text: str) -> Outcome:
        if not text.strip():
            return Outcome("Empty entry not saved", changed=False)
        change = self.project.change("journal entry")
        self.project.add_memo(change, "project", self.project.project_id,
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
