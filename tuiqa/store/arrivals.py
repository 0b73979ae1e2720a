"""What arrived from other machines (and other sessions), in words: "3 sessions from bea (41
codings, 2 renames)". Counted as changes are read, from journals and from snapshots."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..text import one_line

#: What a change is called, in the order the words are given.
WORDS = ("codings", "codings removed", "renames", "merges", "codes", "memos", "done marks",
         "themes", "map versions", "reviews", "resolutions", "other changes")


def describe(op: dict[str, Any]) -> str:
    kind, fields, update = op.get("k"), op.get("f") or {}, "p" in op
    if kind == "coding":
        if fields.get("deleted") is True:
            return "codings removed"
        return "codings" if not update or fields.get("deleted") is False or "code_id" in fields \
            else "other changes"
    if kind == "code":
        if fields.get("merged_into"):
            return "merges"
        if update and "name" in fields:
            return "renames"
        return "codes" if not update else "other changes"
    return {"memo": "memos", "status": "done marks", "theme": "themes", "themecode": "themes",
            "mapversion": "map versions", "reviewmark": "reviews",
            "resolution": "resolutions"}.get(str(kind), "other changes")


@dataclass
class Arrivals:
    """Changes read from elsewhere, by who made them: (machine, coder)."""

    counts: dict[tuple[str, str], Counter] = field(default_factory=dict)
    sessions: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def add(self, machine: str, coder: str, session: str, ops: Iterable[dict[str, Any]]) -> None:
        key = (machine, coder)
        counter = self.counts.setdefault(key, Counter())
        for op in ops:
            if op.get("k") in ("conflict", "coderpref"):
                continue  # records of conflicts, and a coder's own preferences: not work
            counter[describe(op)] += 1
        if session:
            self.sessions.setdefault(key, set()).add(session)

    def merge(self, other: Arrivals) -> None:
        for key, counter in other.counts.items():
            self.counts.setdefault(key, Counter()).update(counter)
        for key, tags in other.sessions.items():
            self.sessions.setdefault(key, set()).update(tags)

    def without(self, machine: str | None) -> Arrivals:
        """Only what came from other machines than ``machine``."""
        out = Arrivals()
        out.counts = {k: v for k, v in self.counts.items() if k[0] != machine}
        out.sessions = {k: v for k, v in self.sessions.items() if k[0] != machine}
        return out

    def __bool__(self) -> bool:
        return any(sum(c.values()) for c in self.counts.values())

    def phrases(self, machine_names: dict[str, str] | None = None) -> list[str]:
        """One phrase per coder: "3 sessions from bea (41 codings, 2 renames)"."""
        out = []
        names = machine_names or {}
        for (machine, coder), counter in sorted(self.counts.items()):
            if not sum(counter.values()):
                continue
            n = len(self.sessions.get((machine, coder), ()))
            who = one_line(coder, 40) if coder else "someone"
            where = one_line(names.get(machine, ""), 40)
            head = (f"{n} session{'s' if n != 1 else ''} from {who}" if n else f"changes from {who}")
            if where:
                head += f" on {where}"
            parts = [f"{counter[w]} {w if counter[w] != 1 else _one(w)}" for w in WORDS if counter[w]]
            out.append(f"{head} ({', '.join(parts)})")
        return out


def _one(word: str) -> str:
    special = {"codings removed": "coding removed", "done marks": "done mark",
               "map versions": "map version", "other changes": "other change"}
    if word in special:
        return special[word]
    return word[:-1] if word.endswith("s") else word
