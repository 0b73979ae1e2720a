"""Repairs of what concurrent changes leave behind, made the same way on every machine.

Two coders can act on the same code without seeing each other: ann codes an extract as *alpha*
while bea, in another process or on another machine, merges *alpha* into *hope* (or deletes it).
Each change is valid on its own; together they leave a coding on a deleted code, which no count,
theme or export would show. The rule:

* a coding on a code that was **merged** moves to the code it was merged into (following a chain
  of merges to the first code still in use), because a merge says "these are one idea": the
  coder's extract belongs with the others; if the coder already has that code on that extract,
  the moved coding becomes that one (as in a merge);
* a coding on a code that was **deleted** (not merged) brings the code back, with that coding:
  deleting a code deletes the codings its deleter could see, never work they had not seen;
* a coding whose code has not arrived yet (a copy still syncing) is left as it is until it does.

A repair is an ordinary change with a stamp *derived* from the stamp of the value it replaces
(:func:`repair_stamp`): just after it, and before any change made after seeing it. So every
machine that finds the same problem writes the very same change (applying it twice is a no-op),
and a change a person makes to that field, having seen it, always wins over a repair.
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable

from .model import Entity

FOLLOW, REVIVE, WAIT, OK = "follow", "revive", "wait", "ok"


def repair_stamp(base: str, what: str) -> str:
    """A stamp just after ``base`` (same time and counter, so before any later change), unique to
    the repair ``what`` describes."""
    return f"{base}~{hashlib.sha1(what.encode()).hexdigest()[:6]}"


def is_repair(stamp: str) -> bool:
    return "~" in stamp


def resolve_code(codes: dict[str, Entity], code_id: str) -> tuple[str, str | None]:
    """What a coding on ``code_id`` needs: (OK, None), (FOLLOW, target), (REVIVE, code_id) or
    (WAIT, None) while the code (or a merge target) has not arrived."""
    code = codes.get(code_id)
    if code is None:
        return WAIT, None
    if not code.deleted:  # type: ignore[attr-defined]
        return OK, None
    seen = {code_id}
    current = code
    while True:
        nxt = getattr(current, "merged_into", None)
        if not nxt or nxt in seen:
            # deleted outright (or merges in a circle): bring it back, unless a code in use
            # has its name now (made since, elsewhere): then that is the code it names
            twin = _live_namesake(codes, code)
            return (FOLLOW, twin) if twin else (REVIVE, code_id)
        target = codes.get(nxt)
        if target is None:
            return WAIT, None
        if not target.deleted:  # type: ignore[attr-defined]
            return FOLLOW, nxt
        seen.add(nxt)
        current = target


def _live_namesake(codes: dict[str, Entity], code: Entity) -> str | None:
    from .project import name_key

    name = getattr(code, "name", None)
    if not name:
        return None
    key = name_key(name)
    same = sorted(i for i, c in codes.items() if i != code.id and not c.deleted  # type: ignore[attr-defined]
                  and getattr(c, "name", None) and name_key(c.name) == key)  # type: ignore[attr-defined]
    return same[0] if same else None


def is_orphan(coding: Entity, codes: dict[str, Entity]) -> bool:
    """An active coding whose code is deleted or missing."""
    if coding.deleted or not coding.is_complete():  # type: ignore[attr-defined]
        return False
    code = codes.get(coding.code_id)  # type: ignore[attr-defined]
    return code is None or bool(code.deleted)  # type: ignore[attr-defined]


def plan(codings: Iterable[Entity], codes: dict[str, Entity],
         same_extract: dict[str, dict[str, Entity]]) -> list[dict[str, Any]]:
    """The repair ops for these codings (each checked again: only orphans are repaired).
    ``same_extract``: active codings by response id (to find one the coder already has)."""
    ops: list[dict[str, Any]] = []
    revived: set[str] = set()
    moved: set[tuple] = set()
    for c in codings:
        if not is_orphan(c, codes):
            continue
        action, target = resolve_code(codes, c.code_id)  # type: ignore[attr-defined]
        if action == REVIVE and target not in revived:
            revived.add(target)
            code = codes[target]
            ops.append(_op(code, "deleted", False))
        elif action == FOLLOW:
            key = (c.response_id, c.coder, c.start, c.end)  # type: ignore[attr-defined]
            twin = any(d.id != c.id and d.code_id == target and not d.deleted  # type: ignore[attr-defined]
                       and (d.response_id, d.coder, d.start, d.end) == key  # type: ignore[attr-defined]
                       for d in (same_extract.get(c.response_id) or {}).values())  # type: ignore[attr-defined]
            if twin or (target, *key) in moved:
                ops.append(_op(c, "deleted", True))
            else:
                moved.add((target, *key))
                ops.append(_op(c, "code_id", target))
    return ops


def _op(obj: Entity, name: str, value: Any) -> dict[str, Any]:
    base = obj.stamp_of(name)
    stamp = repair_stamp(base, f"{obj.KIND}/{obj.id}/{name}={value!r}")
    return {"s": stamp, "k": obj.KIND, "i": obj.id, "f": {name: value}, "p": {name: base}}
