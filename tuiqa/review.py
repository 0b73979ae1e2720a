"""The appropriateness review (the reflexive way of checking each other's work).

A reviewer walks through another coder's codings (and themes) one at a time and marks each
*appropriate* or *questionable*, with a comment or a suggested code. The original coder then sees
a queue of the questionable ones and resolves each (keep, change, remove) with a reply. A mark
never changes the coding itself: only its coder's resolution does.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import REVIEW_VERDICTS, Coding, ReviewMark
from .project import Change, ChangeError, Project


@dataclass
class ReviewItem:
    kind: str  # "coding" or "theme"
    target_id: str
    mark: ReviewMark | None


def items_to_review(project: Project, coder: str, reviewer: str, *, kind: str = "coding") -> list[ReviewItem]:
    """Everything of ``coder``'s a reviewer can judge, in reading order, with the reviewer's mark."""
    from .navigation import reading_order

    marks = {(m.target_kind, m.target_id): m for m in project.state.table("reviewmark").values()
             if not m.deleted and m.is_complete() and m.reviewer == reviewer}  # type: ignore[attr-defined]
    if kind == "coding":
        items = []
        for rid in reading_order(project.state, "participant"):
            for c in project.codings_for(rid, coder):
                items.append(ReviewItem("coding", c.id, marks.get(("coding", c.id))))
        return items
    if kind == "theme":
        from . import themes

        m = themes.build(project)
        return [ReviewItem("theme", node.id, marks.get(("theme", node.id)))
                for root in m.roots for node in root.walk()
                if node.theme.created_by in (coder, "")]
    raise ChangeError(f"nothing to review of kind {kind!r}")


def mark(project: Project, change: Change, kind: str, target_id: str, *, reviewer: str,
         verdict: str, comment: str | None = None, suggested_code_id: str | None = None,
         target_coder: str = "") -> str:
    if verdict not in REVIEW_VERDICTS:
        raise ChangeError(f"a review mark is {' or '.join(REVIEW_VERDICTS)}")
    ident = ReviewMark.make_id(kind, target_id, reviewer)
    fields = {"target_kind": kind, "target_id": target_id, "reviewer": reviewer, "verdict": verdict,
              "target_coder": target_coder, "deleted": False}
    if comment is not None:
        fields["comment"] = comment.strip()
    if suggested_code_id is not None:
        fields["suggested_code_id"] = suggested_code_id or None
    if verdict == "questionable" and change.exists("reviewmark", ident):
        fields["resolution"] = ""  # a fresh doubt reopens the question
    change.create(ReviewMark, ident, **fields)
    return ident


def open_questions(project: Project, coder: str) -> list[ReviewMark]:
    """Questionable marks on ``coder``'s work that they have not resolved yet."""
    table = project.state.table("coding")
    out = []
    for m in project.state.table("reviewmark").values():
        if m.deleted or not m.is_complete() or m.verdict != "questionable" or m.resolution:  # type: ignore[attr-defined]
            continue
        owner = m.target_coder  # type: ignore[attr-defined]
        if m.target_kind == "coding":  # type: ignore[attr-defined]
            c = table.get(m.target_id)  # type: ignore[attr-defined]
            owner = c.coder if c is not None else owner  # type: ignore[attr-defined]
        if owner == coder:
            out.append(m)
    return sorted(out, key=lambda m: m.created)  # type: ignore[return-value]


def resolve_question(project: Project, change: Change, mark_id: str, *, coder: str, action: str,
                     reply: str = "", new_code_id: str | None = None) -> None:
    """The coder answers a questionable mark: keep, change (recode) or remove their coding."""
    from . import codebook

    m = project.state.table("reviewmark").get(mark_id)
    if m is None or m.deleted:
        raise ChangeError("that review mark no longer exists")
    if action not in ("keep", "change", "remove"):
        raise ChangeError("resolve with keep, change or remove")
    if m.target_kind == "coding":  # type: ignore[attr-defined]
        coding: Coding | None = project.state.table("coding").get(m.target_id)  # type: ignore[assignment,attr-defined]
        if coding is None:
            raise ChangeError("the coding under review no longer exists")
        if coding.coder != coder:
            raise ChangeError(f"only {coding.coder} can resolve a mark on their coding")
        if action == "change":
            target = new_code_id or m.suggested_code_id  # type: ignore[attr-defined]
            if not target:
                raise ChangeError("choose the code to change it to")
            codebook.move_codings(project, change, [coding], target)
        elif action == "remove":
            change.update("coding", coding.id, deleted=True)
    elif action != "keep":
        raise ChangeError("a theme is changed in the themes screen; resolve this mark with keep")
    resolution = {"keep": "kept", "change": "changed", "remove": "removed"}[action]
    change.update("reviewmark", mark_id, resolution=resolution, reply=reply.strip(), resolved_by=coder)


def progress(items: list[ReviewItem]) -> tuple[int, int]:
    return sum(1 for i in items if i.mark is not None), len(items)
